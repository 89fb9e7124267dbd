//! The group and offset APIs' decoders never panic on untrusted bytes: every supported
//! version of each is fed random request bodies (biased to small bytes, so that lengths and
//! counts often fit), and valid requests of each API are damaged (bytes changed, cut,
//! extended) so that decoding reaches the nested fields; all through the header, as the
//! front-end decodes.

use bytes::{BufMut, Bytes, BytesMut};
use memstream_kafka_wire::api::{self, key};
use memstream_kafka_wire::{
    delete_groups, describe_groups, find_coordinator, header, heartbeat, join_group, leave_group,
    list_groups, offset_commit, offset_fetch, sync_group,
};
use proptest::prelude::*;

const KEYS: [i16; 10] = [
    key::OFFSET_COMMIT,
    key::OFFSET_FETCH,
    key::FIND_COORDINATOR,
    key::JOIN_GROUP,
    key::HEARTBEAT,
    key::LEAVE_GROUP,
    key::SYNC_GROUP,
    key::DESCRIBE_GROUPS,
    key::LIST_GROUPS,
    key::DELETE_GROUPS,
];

/// Decodes a whole frame (header and body); `Ok` when the body decoded.
fn decode_frame(frame: Bytes) -> bool {
    let Ok((h, _, mut r)) = header::decode(frame) else {
        return false;
    };
    let v = h.api_version;
    match h.api_key {
        key::OFFSET_COMMIT => offset_commit::decode(&mut r, v).is_ok(),
        key::OFFSET_FETCH => offset_fetch::decode(&mut r, v).is_ok(),
        key::FIND_COORDINATOR => find_coordinator::decode(&mut r, v).is_ok(),
        key::JOIN_GROUP => join_group::decode(&mut r, v).is_ok(),
        key::HEARTBEAT => heartbeat::decode(&mut r, v).is_ok(),
        key::LEAVE_GROUP => leave_group::decode(&mut r, v).is_ok(),
        key::SYNC_GROUP => sync_group::decode(&mut r, v).is_ok(),
        key::DESCRIBE_GROUPS => describe_groups::decode(&mut r, v).is_ok(),
        key::LIST_GROUPS => list_groups::decode(&mut r, v).is_ok(),
        key::DELETE_GROUPS => delete_groups::decode(&mut r, v).is_ok(),
        other => panic!("not a group API: {other}"),
    }
}

fn frame(api_key: i16, version: i16, body: &[u8]) -> Bytes {
    let mut b = BytesMut::new();
    b.put_i16(api_key);
    b.put_i16(version);
    b.put_i32(1);
    b.put_i16(-1); // client_id: null
    if api::spec(api_key).is_some_and(|s| s.is_flexible(version)) {
        b.put_u8(0); // header tagged fields: none
    }
    b.put_slice(body);
    b.freeze()
}

/// Writes a request body field by field, classic or flexible.
struct Body {
    out: Vec<u8>,
    flexible: bool,
}

impl Body {
    fn new(api_key: i16, version: i16) -> Body {
        let flexible = api::spec(api_key).unwrap().is_flexible(version);
        Body {
            out: Vec::new(),
            flexible,
        }
    }

    fn raw(mut self, bytes: &[u8]) -> Body {
        self.out.extend_from_slice(bytes);
        self
    }

    fn int(self, v: i64, width: usize) -> Body {
        let bytes = v.to_be_bytes();
        self.raw(&bytes[8 - width..])
    }

    fn len(self, n: Option<usize>, short: bool) -> Body {
        match (self.flexible, n) {
            (true, n) => {
                let n = n.map_or(0, |n| n + 1);
                assert!(n < 0x80);
                self.raw(&[n as u8])
            }
            (false, None) => self.int(-1, if short { 2 } else { 4 }),
            (false, Some(n)) => self.int(n as i64, if short { 2 } else { 4 }),
        }
    }

    fn s(self, v: &str) -> Body {
        self.len(Some(v.len()), true).raw(v.as_bytes())
    }

    fn null_s(self) -> Body {
        self.len(None, true)
    }

    fn b(self, v: &[u8]) -> Body {
        self.len(Some(v.len()), false).raw(v)
    }

    fn arr(self, n: usize) -> Body {
        self.len(Some(n), false)
    }

    fn null_arr(self) -> Body {
        self.len(None, false)
    }

    fn tags(self) -> Body {
        if self.flexible {
            self.raw(&[0])
        } else {
            self
        }
    }
}

/// A valid request body of `api_key` in `version`, with every field of the version present.
fn valid(api_key: i16, v: i16) -> Vec<u8> {
    let b = Body::new(api_key, v);
    let b = match api_key {
        key::OFFSET_COMMIT => {
            let b = b.s("g").int(1, 4).s("m");
            let b = if v >= 7 { b.s("i") } else { b };
            let b = if v <= 4 { b.int(-1, 8) } else { b };
            let b = b.arr(1).s("t").arr(2);
            let b = b.int(0, 4).int(5, 8);
            let b = if v >= 6 { b.int(2, 4) } else { b };
            let b = b.s("md").tags().int(1, 4).int(6, 8);
            let b = if v >= 6 { b.int(2, 4) } else { b };
            b.null_s().tags().tags().tags()
        }
        key::OFFSET_FETCH if v >= 8 => {
            let b = b.arr(2).s("g1").null_arr().tags();
            let b = b
                .s("g2")
                .arr(1)
                .s("t")
                .arr(2)
                .int(0, 4)
                .int(1, 4)
                .tags()
                .tags();
            b.raw(&[1]).tags()
        }
        key::OFFSET_FETCH => {
            let b = b.s("g").arr(1).s("t").arr(1).int(0, 4).tags();
            let b = if v >= 7 { b.raw(&[1]) } else { b };
            b.tags()
        }
        key::FIND_COORDINATOR => {
            let b = if v <= 3 { b.s("g") } else { b };
            let b = if v >= 1 { b.raw(&[0]) } else { b };
            let b = if v >= 4 { b.arr(2).s("a").s("b") } else { b };
            b.tags()
        }
        key::JOIN_GROUP => {
            let b = b.s("g").int(10_000, 4);
            let b = if v >= 1 { b.int(20_000, 4) } else { b };
            let b = b.s("");
            let b = if v >= 5 { b.s("i") } else { b };
            let b = b.s("consumer").arr(2).s("range").b(&[0, 1, 2]).tags();
            let b = b.s("roundrobin").b(&[]).tags();
            let b = if v >= 8 { b.s("why") } else { b };
            b.tags()
        }
        key::HEARTBEAT => {
            let b = b.s("g").int(3, 4).s("m");
            let b = if v >= 3 { b.null_s() } else { b };
            b.tags()
        }
        key::LEAVE_GROUP if v <= 2 => b.s("g").s("m"),
        key::LEAVE_GROUP => {
            let b = b.s("g").arr(2).s("m1").null_s();
            let b = if v >= 5 { b.s("r") } else { b };
            let b = b.tags().s("").s("i2");
            let b = if v >= 5 { b.null_s() } else { b };
            b.tags().tags()
        }
        key::SYNC_GROUP => {
            let b = b.s("g").int(3, 4).s("m1");
            let b = if v >= 3 { b.s("i") } else { b };
            let b = if v >= 5 {
                b.s("consumer").s("range")
            } else {
                b
            };
            let b = b.arr(2).s("m1").b(&[1]).tags().s("m2").b(&[2, 3]).tags();
            b.tags()
        }
        key::DESCRIBE_GROUPS => {
            let b = b.arr(2).s("g1").s("g2");
            let b = if v >= 3 { b.raw(&[1]) } else { b };
            b.tags()
        }
        key::LIST_GROUPS => {
            let b = if v >= 4 { b.arr(1).s("Stable") } else { b };
            b.tags()
        }
        key::DELETE_GROUPS => b.arr(2).s("g1").s("g2").tags(),
        other => panic!("not a group API: {other}"),
    };
    b.out
}

fn every_version() -> Vec<(i16, i16)> {
    KEYS.iter()
        .flat_map(|&k| {
            let spec = api::spec(k).unwrap();
            (spec.min..=spec.max).map(move |v| (k, v))
        })
        .collect()
}

#[test]
fn the_valid_requests_decode() {
    for (k, v) in every_version() {
        let name = api::spec(k).unwrap().name;
        assert!(decode_frame(frame(k, v, &valid(k, v))), "{name} v{v}");
    }
}

fn small_bytes() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(prop_oneof![3 => 0u8..4, 1 => any::<u8>()], 0..256)
}

#[test]
fn every_group_api_is_in_the_table() {
    for k in KEYS {
        assert!(api::spec(k).is_some(), "key {k}");
    }
}

#[test]
fn an_empty_body_decodes_only_where_the_version_has_no_fields() {
    // ListGroups v0-v2 has an empty body; every other group API and version needs fields.
    for k in KEYS {
        let spec = api::spec(k).unwrap();
        for v in spec.min..=spec.max {
            let want = k == key::LIST_GROUPS && v <= 2;
            assert_eq!(decode_frame(frame(k, v, &[])), want, "{} v{v}", spec.name);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    #[test]
    fn random_bodies_never_panic(
        k in prop::sample::select(KEYS.to_vec()),
        pick in any::<prop::sample::Index>(),
        body in small_bytes(),
    ) {
        let spec = api::spec(k).unwrap();
        let versions: Vec<i16> = (spec.min..=spec.max).collect();
        let v = *pick.get(&versions);
        let _ = decode_frame(frame(k, v, &body));
    }

    #[test]
    fn damaged_requests_never_panic(
        which in any::<prop::sample::Index>(),
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
        cut in any::<prop::sample::Index>(),
        extra in proptest::collection::vec(any::<u8>(), 0..8),
    ) {
        let (k, v) = *which.get(&every_version());
        let mut body = valid(k, v);
        if !body.is_empty() {
            for (at, byte) in flips {
                *at.get_mut(&mut body) = byte;
            }
        }
        body.truncate(cut.index(body.len() + 1));
        body.extend(extra);
        let _ = decode_frame(frame(k, v, &body));
    }
}
