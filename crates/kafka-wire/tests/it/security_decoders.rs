//! The SASL and ACL decoders never panic: random bodies, and bodies of small bytes (read as
//! short lengths, counts and nulls), for every implemented version, in the encoding the API
//! table gives that version; an empty body is an error for each.

use bytes::Bytes;
use memstream_kafka_wire::api::{self, key};
use memstream_kafka_wire::{
    create_acls, delete_acls, describe_acls, sasl_authenticate, sasl_handshake, DecodeError, Reader,
};
use proptest::prelude::*;

const SECURITY: [i16; 5] = [
    key::SASL_HANDSHAKE,
    key::SASL_AUTHENTICATE,
    key::DESCRIBE_ACLS,
    key::CREATE_ACLS,
    key::DELETE_ACLS,
];

/// Decodes `body` as `api_key` at `version`; only whether it decoded matters.
fn decode(api_key: i16, version: i16, body: Vec<u8>) -> Result<(), DecodeError> {
    let spec = api::spec(api_key).expect("implemented");
    let r = &mut Reader::new(Bytes::from(body), spec.is_flexible(version));
    match api_key {
        key::SASL_HANDSHAKE => sasl_handshake::decode(r, version).map(drop),
        key::SASL_AUTHENTICATE => sasl_authenticate::decode(r, version).map(drop),
        key::DESCRIBE_ACLS => describe_acls::decode(r, version).map(drop),
        key::CREATE_ACLS => create_acls::decode(r, version).map(drop),
        key::DELETE_ACLS => delete_acls::decode(r, version).map(drop),
        other => panic!("not a security API: {other}"),
    }
}

fn every_version() -> impl Strategy<Value = (i16, i16)> {
    proptest::sample::select(SECURITY.to_vec()).prop_flat_map(|k| {
        let spec = api::spec(k).expect("implemented");
        (Just(k), spec.min..=spec.max)
    })
}

proptest! {
    #[test]
    fn random_bodies_never_panic((k, v) in every_version(), body in proptest::collection::vec(any::<u8>(), 0..64)) {
        let _ = decode(k, v, body);
    }

    #[test]
    fn small_lengths_never_panic((k, v) in every_version(), body in proptest::collection::vec(0u8..4, 0..64)) {
        let _ = decode(k, v, body);
    }
}

#[test]
fn an_empty_body_is_an_error_for_every_version() {
    for k in SECURITY {
        let spec = api::spec(k).expect("implemented");
        for v in spec.min..=spec.max {
            assert!(decode(k, v, Vec::new()).is_err(), "key {k} v{v}");
        }
    }
}
