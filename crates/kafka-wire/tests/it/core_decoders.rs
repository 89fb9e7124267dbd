//! Whole frames through `request::decode`, the front-end's one entry point: arbitrary bytes,
//! and valid headers of every implemented API and version followed by arbitrary bodies (and
//! bodies of small bytes, read as short lengths, counts and nulls), never panic; an empty body
//! is an error for the APIs that always have fields; a frame cut inside its header is an
//! error. (`group_decoders` adds damaged valid requests of the group APIs.)

use bytes::{BufMut, Bytes, BytesMut};
use memstream_kafka_wire::api::{self, SUPPORTED};
use memstream_kafka_wire::request;
use proptest::prelude::*;

fn frame(api_key: i16, version: i16, body: &[u8]) -> Bytes {
    let mut b = BytesMut::new();
    b.put_i16(api_key);
    b.put_i16(version);
    b.put_i32(7);
    b.put_i16(3);
    b.put_slice(b"cli");
    if api::spec(api_key).is_some_and(|s| s.is_flexible(version)) {
        b.put_u8(0);
    }
    b.put_slice(body);
    b.freeze()
}

fn every_api_version() -> impl Strategy<Value = (i16, i16)> {
    proptest::sample::select(SUPPORTED.to_vec()).prop_flat_map(|s| (Just(s.key), s.min..=s.max))
}

proptest! {
    #[test]
    fn arbitrary_frames_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = request::decode(Bytes::from(bytes));
    }

    #[test]
    fn arbitrary_bodies_never_panic((k, v) in every_api_version(), body in proptest::collection::vec(any::<u8>(), 0..256)) {
        let _ = request::decode(frame(k, v, &body));
    }

    #[test]
    fn small_byte_bodies_never_panic((k, v) in every_api_version(), body in proptest::collection::vec(0u8..4, 0..256)) {
        // Bytes of 0-3 read as short lengths, counts and nulls, so decoding goes deep.
        let _ = request::decode(frame(k, v, &body));
    }
}

/// The APIs whose every version has a field before any array: an empty body cannot decode.
const NON_EMPTY: [i16; 12] = [
    api::key::CREATE_TOPICS,
    api::key::DELETE_TOPICS,
    api::key::DELETE_RECORDS,
    api::key::DESCRIBE_CONFIGS,
    api::key::CREATE_PARTITIONS,
    api::key::INCREMENTAL_ALTER_CONFIGS,
    api::key::DESCRIBE_CLUSTER,
    api::key::SASL_HANDSHAKE,
    api::key::SASL_AUTHENTICATE,
    api::key::DESCRIBE_ACLS,
    api::key::CREATE_ACLS,
    api::key::DELETE_ACLS,
];

#[test]
fn an_empty_body_is_an_error_where_every_version_has_fields() {
    for k in NON_EMPTY {
        let spec = api::spec(k).expect("implemented");
        for v in spec.min..=spec.max {
            assert!(request::decode(frame(k, v, &[])).is_err(), "key {k} v{v}");
        }
    }
}

#[test]
fn a_cut_header_is_an_error() {
    let whole = frame(api::key::METADATA, 1, &[0xff, 0xff, 0xff, 0xff]);
    assert!(request::decode(whole.clone()).is_ok());
    for cut in 0..whole.len() {
        assert!(request::decode(whole.slice(..cut)).is_err(), "cut at {cut}");
    }
}
