//! Shared by the engine's tests: a registry on a temporary directory, a fast configuration,
//! and batches.
#![allow(dead_code)]

use bytes::Bytes;
use memstream_batch::BatchBuilder;
use memstream_engine::config::StreamsConfig;
use memstream_engine::streams::{AppendLimits, NewStream, SettingsOverrides, Streams};

/// The frame limit the tests pass (the server's default).
pub const FRAME: u32 = 1 << 20;

/// `[streams]` with fsync off (the tests need no durability) and the given limits.
pub fn config() -> StreamsConfig {
    StreamsConfig {
        fsync: "never".into(),
        ..StreamsConfig::default()
    }
}

/// The registry stored in `dir`.
pub fn open(dir: &std::path::Path) -> Streams {
    Streams::open(dir, 1, 100).expect("open streams")
}

/// A stream called `name` with `partitions` partitions and these overrides.
pub fn new_stream(name: &str, partitions: u32, settings: SettingsOverrides) -> NewStream {
    NewStream {
        name: name.into(),
        partitions,
        settings,
    }
}

/// One record with a `value_len`-byte value.
pub fn batch(value_len: usize) -> Bytes {
    let mut b = BatchBuilder::with_capacity(value_len + 128);
    b.push(1_000, None, &vec![7u8; value_len], &[]);
    b.finish(-1, -1, -1)
}

/// Limits that accept the tests' batches.
pub fn limits() -> AppendLimits {
    AppendLimits {
        decompressed_bytes_max: 16 << 20,
        producers_max: 100,
    }
}
