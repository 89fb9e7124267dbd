//! The record batch at its boundaries: batches written by a Kafka client, every codec, and
//! untrusted bytes.

use memstream_batch::{
    records, restamp_producer, sequence_after, stamp, verify, BatchBuilder, BatchError,
    BatchHeader, Compression, Limits, RecordIter, BATCH_HEADER_LEN, NO_PRODUCER_ID,
};

/// The header of the single-record batches in IBM/sarama's `record_test.go`
/// (`recordBatchTestCases`), with that test's length, CRC and attributes.
fn sarama_header(length: u8, crc: [u8; 4], attributes: u8) -> Vec<u8> {
    let mut b = vec![0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, length, 0, 0, 0, 0, 2];
    b.extend_from_slice(&crc);
    b.extend_from_slice(&[0, attributes, 0, 0, 0, 0]);
    b.extend_from_slice(&[0, 0, 1, 88, 141, 205, 89, 56]); // first timestamp 1479847795000
    b.extend_from_slice(&[0; 8]); // max timestamp 0
    b.extend_from_slice(&[0; 8]); // producer id 0
    b.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0, 0, 1]); // epoch, sequence, one record
    b
}

/// The one record of those batches, uncompressed: key 01020304, value 050607, header
/// 08090a = 0b0c, timestamp delta 5 ms.
const SARAMA_RECORD: [u8; 21] = [
    40, 0, 10, 0, 8, 1, 2, 3, 4, 6, 5, 6, 7, 2, 6, 8, 9, 10, 4, 11, 12,
];

fn sarama_batches() -> Vec<(Compression, Vec<u8>)> {
    let mut plain = sarama_header(70, [84, 121, 97, 253], 0);
    plain.extend_from_slice(&SARAMA_RECORD);
    let mut gzip = sarama_header(95, [231, 74, 206, 165], 1);
    gzip.extend_from_slice(&[
        31, 139, 8, 0, 0, 9, 110, 136, 0, 255, 0, 21, 0, 234, 255, 40, 0, 10, 0, 8, 1, 2, 3, 4, 6,
        5, 6, 7, 2, 6, 8, 9, 10, 4, 11, 12, 3, 0, 173, 201, 88, 103, 21, 0, 0, 0,
    ]);
    let mut snappy = sarama_header(72, [21, 0, 159, 97], 2);
    snappy.extend_from_slice(&[
        21, 80, 40, 0, 10, 0, 8, 1, 2, 3, 4, 6, 5, 6, 7, 2, 6, 8, 9, 10, 4, 11, 12,
    ]);
    let mut lz4 = sarama_header(89, [169, 74, 119, 197], 3);
    lz4.extend_from_slice(&[
        4, 34, 77, 24, 100, 112, 185, 21, 0, 0, 128, 40, 0, 10, 0, 8, 1, 2, 3, 4, 6, 5, 6, 7, 2, 6,
        8, 9, 10, 4, 11, 12, 0, 0, 0, 0, 12, 59, 239, 146,
    ]);
    vec![
        (Compression::None, plain),
        (Compression::Gzip, gzip),
        (Compression::Snappy, snappy),
        (Compression::Lz4, lz4),
    ]
}

#[test]
fn batches_written_by_sarama_verify_and_read() {
    for (codec, batch) in sarama_batches() {
        let h = verify(&batch, Limits::UNLIMITED).unwrap_or_else(|e| panic!("{codec}: {e}"));
        assert_eq!(h.compression(), codec);
        assert_eq!(h.total_len(), batch.len());
        assert_eq!(
            (h.record_count, h.first_timestamp_ms),
            (1, 1_479_847_795_000)
        );
        let bytes = records(&batch, &h, 1 << 20).unwrap();
        assert_eq!(&bytes[..], &SARAMA_RECORD[..], "{codec}");
        let r = RecordIter::new(&bytes, &h).next().unwrap().unwrap();
        assert_eq!(r.key, Some(&[1, 2, 3, 4][..]));
        assert_eq!(r.value, Some(&[5, 6, 7][..]));
        assert_eq!(r.timestamp_ms, 1_479_847_795_005);
        let headers: Vec<_> = r.headers().map(|h| (h.name, h.value)).collect();
        assert_eq!(headers, [("\u{8}\t\n", Some(&[11, 12][..]))]);
    }
}

#[test]
fn our_uncompressed_encoding_matches_sarama_byte_for_byte() {
    let mut b = BatchBuilder::default();
    b.push(
        1_479_847_795_005,
        Some(&[1, 2, 3, 4]),
        &[5, 6, 7],
        &[("\u{8}\t\n", &[11, 12])],
    );
    let ours = b.finish(-1, -1, -1);
    let (_, theirs) = &sarama_batches()[0];
    // Sarama's batch starts 5 ms before its record (timestamp delta 10 = zig-zag 5) where
    // ours starts at the first record (delta 0); every other record byte is the same.
    let (ours, theirs) = (&ours[BATCH_HEADER_LEN..], &theirs[BATCH_HEADER_LEN..]);
    assert_eq!((ours[2], theirs[2]), (0, 10));
    assert_eq!((&ours[..2], &ours[3..]), (&theirs[..2], &theirs[3..]));
    assert_eq!(ours.len(), theirs.len());
}

fn sample(codec: Compression) -> bytes::Bytes {
    let mut b = BatchBuilder::compressed(codec, 1024);
    b.push(1_000, Some(b"k1"), b"hello", &[("trace", b"abc")]);
    b.push(999, None, b"", &[]);
    for i in 0..50u32 {
        b.push(
            1_005,
            Some(b""),
            format!("{{\"n\":{i}}}").as_bytes(),
            &[("a", b"")],
        );
    }
    b.finish(7, 1, 42)
}

#[test]
fn every_codec_builds_verifies_and_reads_back() {
    for codec in Compression::ALL {
        let batch = sample(codec);
        let h = verify(&batch, Limits::UNLIMITED).unwrap();
        assert_eq!(h.compression(), codec);
        assert_eq!((h.record_count, h.last_offset_delta), (52, 51));
        assert_eq!((h.first_timestamp_ms, h.max_timestamp_ms), (1_000, 1_005));
        assert_eq!(
            (h.producer_id, h.producer_epoch, h.base_sequence),
            (7, 1, 42)
        );
        assert_eq!(h.partition_leader_epoch, -1);
        let bytes = records(&batch, &h, 1 << 20).unwrap();
        let rs: Vec<_> = RecordIter::new(&bytes, &h).map(|r| r.unwrap()).collect();
        assert_eq!(rs.len(), 52);
        assert_eq!(
            (rs[0].key, rs[0].value_bytes()),
            (Some(&b"k1"[..]), &b"hello"[..])
        );
        assert_eq!((rs[1].key, rs[1].timestamp_ms), (None, 999));
        assert_eq!(rs[51].value_bytes(), b"{\"n\":49}");
    }
}

#[test]
fn stamping_keeps_the_checksum_valid() {
    let mut batch = sample(Compression::Lz4).to_vec();
    stamp(&mut batch, 1 << 40, 3);
    let h = verify(&batch, Limits::UNLIMITED).unwrap();
    assert_eq!((h.base_offset, h.partition_leader_epoch), (1 << 40, 3));
    assert_eq!(h.next_offset(), (1 << 40) + 52);
    restamp_producer(&mut batch, 2, 9);
    let h = verify(&batch, Limits::UNLIMITED).unwrap();
    assert_eq!(
        (h.producer_id, h.producer_epoch, h.base_sequence),
        (7, 2, 9)
    );
}

#[test]
fn every_flipped_byte_after_the_stamps_is_caught() {
    for codec in [Compression::None, Compression::Zstd] {
        let good = sample(codec);
        for i in (8..12).chain(16..good.len()) {
            let mut bad = good.to_vec();
            bad[i] ^= 0x20;
            assert!(
                verify(&bad, Limits::UNLIMITED).is_err(),
                "{codec}: flip at {i}"
            );
        }
    }
}

#[test]
fn every_truncation_is_refused() {
    let good = sample(Compression::None);
    for cut in 0..good.len() {
        assert!(verify(&good[..cut], Limits::UNLIMITED).is_err());
    }
    assert!(matches!(
        BatchHeader::parse(&good[..10]),
        Err(BatchError::Truncated { .. })
    ));
}

#[test]
fn limits_are_enforced() {
    let mut b = BatchBuilder::compressed(Compression::Zstd, 1024);
    b.push(0, None, &[0; 10_000], &[]);
    let batch = b.finish(NO_PRODUCER_ID, -1, -1);
    let limits = |batch, record, decompressed| Limits {
        batch_bytes_max: batch,
        record_bytes_max: record,
        decompressed_bytes_max: decompressed,
    };
    assert!(verify(&batch, limits(usize::MAX, 10_100, 10_100)).is_ok());
    assert!(matches!(
        verify(&batch, limits(batch.len() - 1, usize::MAX, usize::MAX)),
        Err(BatchError::BatchTooLarge { .. })
    ));
    assert!(matches!(
        verify(&batch, limits(usize::MAX, 5_000, usize::MAX)),
        Err(BatchError::RecordTooLarge { .. })
    ));
    assert!(matches!(
        verify(&batch, limits(usize::MAX, usize::MAX, 5_000)),
        Err(BatchError::DecompressedTooLarge { .. })
    ));
}

#[test]
fn transactional_and_control_batches_and_old_magics_are_refused() {
    let (_, plain) = &sarama_batches()[0];
    for (at, value) in [(16, 1u8), (16, 0), (22, 0x10), (22, 0x20), (22, 0x05)] {
        let mut bad = plain.clone();
        bad[at] = value;
        let err = BatchHeader::parse(&bad).unwrap_err();
        assert!(
            matches!(
                err,
                BatchError::UnsupportedMagic { .. } | BatchError::UnsupportedAttributes { .. }
            ),
            "byte {at} = {value}: {err}"
        );
    }
}

#[test]
fn sequences_wrap_as_kafka_does() {
    assert_eq!(sequence_after(5, 3), 8);
    assert_eq!(sequence_after(i32::MAX, 1), 0);
    assert_eq!(sequence_after(i32::MAX - 1, 3), 1);
}

#[test]
fn null_keys_values_and_header_values_parse() {
    // One record: key null (-1 = 0x01), value null, one header "h" with a null value.
    let body = [0u8, 0, 0, 1, 1, 2, 2, b'h', 1];
    let mut rec = vec![body.len() as u8 * 2];
    rec.extend_from_slice(&body);
    let mut batch = sarama_header(0, [0; 4], 0);
    batch.extend_from_slice(&rec);
    let len = (batch.len() - 12) as u32;
    batch[8..12].copy_from_slice(&len.to_be_bytes());
    let crc = crc32c::crc32c(&batch[21..]);
    batch[17..21].copy_from_slice(&crc.to_be_bytes());
    let h = verify(&batch, Limits::UNLIMITED).unwrap();
    let r = RecordIter::new(&batch[BATCH_HEADER_LEN..], &h)
        .next()
        .unwrap()
        .unwrap();
    assert_eq!((r.key, r.value, r.value_bytes()), (None, None, &b""[..]));
    let headers: Vec<_> = r.headers().map(|h| (h.name, h.value)).collect();
    assert_eq!(headers, [("h", None)]);
}

/// Kafka's NO_TIMESTAMP (-1) is a timestamp a producer may leave unset; any other negative
/// timestamp is refused. `stamp_append_time` fills it in with a valid checksum.
#[test]
fn no_timestamp_is_accepted_and_stamped_other_negatives_are_refused() {
    let mut b = BatchBuilder::with_capacity(256);
    b.push(0, Some(b"k"), b"v", &[]);
    let built = b.finish(NO_PRODUCER_ID, -1, -1).to_vec();
    let with_ts = |first: i64, max: i64| {
        let mut x = built.clone();
        x[27..35].copy_from_slice(&first.to_be_bytes());
        x[35..43].copy_from_slice(&max.to_be_bytes());
        let crc = crc32c::crc32c(&x[21..]);
        x[17..21].copy_from_slice(&crc.to_be_bytes());
        x
    };
    let mut untimed = with_ts(-1, -1);
    let h = verify(&untimed, Limits::UNLIMITED).expect("NO_TIMESTAMP verifies");
    assert!(h.timestamps_missing);
    assert_eq!((h.first_timestamp_ms, h.max_timestamp_ms), (0, 0));
    memstream_batch::stamp_append_time(&mut untimed, 1_700_000_000_000);
    let h = verify(&untimed, Limits::UNLIMITED).expect("stamped batch verifies");
    assert!(!h.timestamps_missing);
    assert_eq!(h.max_timestamp_ms, 1_700_000_000_000);
    assert_ne!(h.attributes & memstream_batch::TIMESTAMP_TYPE_LOG_APPEND, 0);
    for (first, max) in [(-2, 5), (5, -2), (i64::MIN, -1)] {
        assert!(
            matches!(
                verify(&with_ts(first, max), Limits::UNLIMITED),
                Err(BatchError::NegativeTimestamp { .. })
            ),
            "{first} {max}"
        );
    }
}
