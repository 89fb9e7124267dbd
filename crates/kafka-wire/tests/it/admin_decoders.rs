//! The admin APIs' decoders never panic: random bodies, and bodies of small bytes (read as
//! short lengths and counts), for every implemented version, in the encoding the API table
//! gives that version.

use bytes::Bytes;
use memstream_kafka_wire::api::{self, key};
use memstream_kafka_wire::{
    create_partitions, create_topics, delete_records, delete_topics, describe_cluster,
    describe_configs, incremental_alter_configs, DecodeError, Reader,
};
use proptest::prelude::*;

const ADMIN: [i16; 7] = [
    key::CREATE_TOPICS,
    key::DELETE_TOPICS,
    key::DELETE_RECORDS,
    key::DESCRIBE_CONFIGS,
    key::CREATE_PARTITIONS,
    key::INCREMENTAL_ALTER_CONFIGS,
    key::DESCRIBE_CLUSTER,
];

/// Decodes `body` as `api_key` at `version`; only whether it decoded matters.
fn decode(api_key: i16, version: i16, body: Vec<u8>) -> Result<(), DecodeError> {
    let spec = api::spec(api_key).expect("implemented");
    let r = &mut Reader::new(Bytes::from(body), spec.is_flexible(version));
    match api_key {
        key::CREATE_TOPICS => create_topics::decode(r, version).map(drop),
        key::DELETE_TOPICS => delete_topics::decode(r, version).map(drop),
        key::DELETE_RECORDS => delete_records::decode(r, version).map(drop),
        key::DESCRIBE_CONFIGS => describe_configs::decode(r, version).map(drop),
        key::CREATE_PARTITIONS => create_partitions::decode(r, version).map(drop),
        key::INCREMENTAL_ALTER_CONFIGS => incremental_alter_configs::decode(r, version).map(drop),
        key::DESCRIBE_CLUSTER => describe_cluster::decode(r, version).map(drop),
        other => panic!("not an admin API: {other}"),
    }
}

fn every_version() -> impl Strategy<Value = (i16, i16)> {
    proptest::sample::select(ADMIN.to_vec()).prop_flat_map(|k| {
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
        // Bytes of 0-3 read as short lengths, counts and nulls, so decoders go deep.
        let _ = decode(k, v, body);
    }
}

#[test]
fn an_empty_body_is_an_error_for_every_version() {
    for k in ADMIN {
        let spec = api::spec(k).expect("implemented");
        for v in spec.min..=spec.max {
            assert!(decode(k, v, Vec::new()).is_err(), "key {k} v{v}");
        }
    }
}
