//! Untrusted bytes never panic the batch code: random bytes, damaged real batches, and
//! random compressed payloads for every codec (decompression stays within its limit).

use memstream_batch::{
    decompress, records, verify, BatchBuilder, BatchHeader, Compression, Limits, RecordIter,
};
use proptest::prelude::*;

fn limits() -> Limits {
    Limits {
        batch_bytes_max: 1 << 20,
        record_bytes_max: 1 << 20,
        decompressed_bytes_max: 1 << 20,
    }
}

fn sample(codec: Compression, n: usize) -> Vec<u8> {
    let mut b = BatchBuilder::compressed(codec, 256);
    for i in 0..n {
        b.push(
            1_000 + i as u64,
            Some(b"key"),
            format!("value {i}").as_bytes(),
            &[("h", b"v")],
        );
    }
    b.finish(3, 0, 0).to_vec()
}

/// Everything a reader does with a batch it was handed: verify, then walk the records.
fn read_everything(bytes: &[u8]) {
    if let Ok(h) = BatchHeader::parse(bytes) {
        let _ = h.total_len();
    }
    if let Ok(h) = verify(bytes, limits()) {
        let body = records(bytes, &h, 1 << 20).expect("a verified batch decompresses");
        for r in RecordIter::new(&body, &h) {
            let r = r.expect("a verified batch's records parse");
            let _ = r.headers().count();
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        read_everything(&bytes);
    }

    #[test]
    fn damaged_batches_never_panic(
        codec in prop::sample::select(Compression::ALL.to_vec()),
        n in 1usize..20,
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..6),
        cut in any::<prop::sample::Index>(),
        extra in proptest::collection::vec(any::<u8>(), 0..16),
    ) {
        let mut bytes = sample(codec, n);
        for (at, xor) in flips {
            let i = at.index(bytes.len());
            bytes[i] ^= xor;
        }
        let keep = cut.index(bytes.len() + 1);
        bytes.truncate(keep);
        bytes.extend_from_slice(&extra);
        read_everything(&bytes);
    }

    #[test]
    fn random_compressed_payloads_never_panic_and_stay_in_the_limit(
        codec in prop::sample::select(Compression::ALL.to_vec()),
        bytes in proptest::collection::vec(any::<u8>(), 0..512),
        max in 0usize..4096,
    ) {
        if let Ok(out) = decompress(codec, &bytes, max) {
            prop_assert!(out.len() <= max);
        }
    }
}
