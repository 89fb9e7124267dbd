//! Stream administration: names, settings, create, delete, list, describe.
//!
//! ```text
//! STREAM_CREATE   request:  str16 name, u32 partitions, settings
//!                 response: empty
//! STREAM_DELETE   request:  str16 name                 response: empty
//! STREAM_LIST     request:  empty
//!                 response: u32 count, count x (str16 name, u32 partitions, u8 storage)
//! STREAM_DESCRIBE request:  str16 name
//!                 response: str16 name, settings (every id present), u32 count,
//!                           count x (u32 partition, u64 start_offset, u64 end_offset,
//!                                    u64 durable_offset, u64 size_bytes)
//! settings:       u16 count, count x (u16 setting_id, u64 value)
//! ```

use bytes::{BufMut, BytesMut};

use super::reader::{put_str16, truncate_utf8, PayloadReader};
use crate::error::PayloadError;

pub use memstream_names::{validate_stream_name, STREAM_NAME_BYTES_MAX};

/// Where a stream keeps its records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StorageKind {
    /// RAM only, bounded by retention; lost on restart.
    Memory,
    /// Segment files on disk, served from RAM while recent; survives restarts.
    Disk,
}

/// When a disk stream's appends are fsynced.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FsyncMode {
    /// After every append, shared between concurrent appends (group commit).
    Always,
    /// Every `fsync_interval_ms`.
    Interval,
    /// Only when a producer asks for `acks = durable`.
    Never,
}

/// Per-stream settings; `None` means "the server's default".
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StreamSettings {
    /// Memory or disk.
    pub storage: Option<StorageKind>,
    /// Delete old data beyond this many bytes per partition (0 = unlimited).
    pub retention_bytes: Option<u64>,
    /// Delete data older than this (0 = unlimited).
    pub retention_ms: Option<u64>,
    /// Segment file size at which a new segment starts.
    pub segment_bytes: Option<u64>,
    /// Largest record accepted.
    pub max_message_bytes: Option<u64>,
    /// Fsync policy of a disk stream.
    pub fsync: Option<FsyncMode>,
    /// Interval for `FsyncMode::Interval`.
    pub fsync_interval_ms: Option<u64>,
}

const SETTING_STORAGE: u16 = 1;
const SETTING_RETENTION_BYTES: u16 = 2;
const SETTING_RETENTION_MS: u16 = 3;
const SETTING_SEGMENT_BYTES: u16 = 4;
const SETTING_MAX_MESSAGE_BYTES: u16 = 5;
const SETTING_FSYNC: u16 = 6;
const SETTING_FSYNC_INTERVAL_MS: u16 = 7;

impl StreamSettings {
    /// Appends the settings that are set, as id/value pairs.
    pub fn encode(&self, dst: &mut BytesMut) {
        let pairs = [
            (SETTING_STORAGE, self.storage.map(|s| s as u64)),
            (SETTING_RETENTION_BYTES, self.retention_bytes),
            (SETTING_RETENTION_MS, self.retention_ms),
            (SETTING_SEGMENT_BYTES, self.segment_bytes),
            (SETTING_MAX_MESSAGE_BYTES, self.max_message_bytes),
            (SETTING_FSYNC, self.fsync.map(|f| f as u64)),
            (SETTING_FSYNC_INTERVAL_MS, self.fsync_interval_ms),
        ];
        let set: Vec<(u16, u64)> = pairs
            .iter()
            .filter_map(|&(id, v)| v.map(|v| (id, v)))
            .collect();
        dst.put_u16_le(set.len() as u16);
        for (id, v) in set {
            dst.put_u16_le(id);
            dst.put_u64_le(v);
        }
    }

    pub(crate) fn decode_from(r: &mut PayloadReader<'_>) -> Result<StreamSettings, PayloadError> {
        let mut s = StreamSettings::default();
        let count = r.u16("setting_count")?;
        for _ in 0..count {
            let id = r.u16("setting_id")?;
            let value = r.u64("setting_value")?;
            let invalid = |field| PayloadError::InvalidValue { field, value };
            let slot_taken = match id {
                SETTING_STORAGE => s
                    .storage
                    .replace(match value {
                        0 => StorageKind::Memory,
                        1 => StorageKind::Disk,
                        _ => return Err(invalid("storage")),
                    })
                    .is_some(),
                SETTING_RETENTION_BYTES => s.retention_bytes.replace(value).is_some(),
                SETTING_RETENTION_MS => s.retention_ms.replace(value).is_some(),
                SETTING_SEGMENT_BYTES => s.segment_bytes.replace(value).is_some(),
                SETTING_MAX_MESSAGE_BYTES => s.max_message_bytes.replace(value).is_some(),
                SETTING_FSYNC => s
                    .fsync
                    .replace(match value {
                        0 => FsyncMode::Always,
                        1 => FsyncMode::Interval,
                        2 => FsyncMode::Never,
                        _ => return Err(invalid("fsync")),
                    })
                    .is_some(),
                SETTING_FSYNC_INTERVAL_MS => s.fsync_interval_ms.replace(value).is_some(),
                _ => {
                    return Err(PayloadError::InvalidValue {
                        field: "setting_id",
                        value: u64::from(id),
                    })
                }
            };
            if slot_taken {
                return Err(PayloadError::InvalidValue {
                    field: "setting_id (repeated)",
                    value: u64::from(id),
                });
            }
        }
        Ok(s)
    }
}

/// STREAM_CREATE request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CreateStream {
    /// Stream name.
    pub name: String,
    /// Partition count, at least 1.
    pub partitions: u32,
    /// Overrides of the server's defaults.
    pub settings: StreamSettings,
}

impl CreateStream {
    /// Appends the encoded payload.
    pub fn encode(&self, dst: &mut BytesMut) {
        put_str16(dst, &self.name);
        dst.put_u32_le(self.partitions);
        self.settings.encode(dst);
    }

    /// Parses a payload.
    pub fn decode(payload: &[u8]) -> Result<CreateStream, PayloadError> {
        let mut r = PayloadReader::new(payload);
        let name = r.str16("name", STREAM_NAME_BYTES_MAX)?.to_owned();
        let partitions = r.u32("partitions")?;
        let settings = StreamSettings::decode_from(&mut r)?;
        r.finish()?;
        Ok(CreateStream {
            name,
            partitions,
            settings,
        })
    }
}

/// A request that names one stream (STREAM_DELETE, STREAM_DESCRIBE).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamRef {
    /// Stream name.
    pub name: String,
}

impl StreamRef {
    /// Appends the encoded payload.
    pub fn encode(&self, dst: &mut BytesMut) {
        put_str16(dst, &self.name);
    }

    /// Parses a payload.
    pub fn decode(payload: &[u8]) -> Result<StreamRef, PayloadError> {
        let mut r = PayloadReader::new(payload);
        let name = r.str16("name", STREAM_NAME_BYTES_MAX)?.to_owned();
        r.finish()?;
        Ok(StreamRef { name })
    }
}

/// One entry of a STREAM_LIST response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamSummary {
    /// Stream name.
    pub name: String,
    /// Partition count.
    pub partitions: u32,
    /// Memory or disk.
    pub storage: StorageKind,
}

/// STREAM_LIST response.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StreamList {
    /// Every stream, by name.
    pub streams: Vec<StreamSummary>,
}

impl StreamList {
    /// Appends the encoded payload.
    pub fn encode(&self, dst: &mut BytesMut) {
        dst.put_u32_le(self.streams.len() as u32);
        for s in &self.streams {
            put_str16(dst, &s.name);
            dst.put_u32_le(s.partitions);
            dst.put_u8(s.storage as u8);
        }
    }

    /// Parses a payload.
    pub fn decode(payload: &[u8]) -> Result<StreamList, PayloadError> {
        let mut r = PayloadReader::new(payload);
        let count = r.u32("stream_count")?;
        let mut streams = Vec::new();
        for _ in 0..count {
            let name = r.str16("name", STREAM_NAME_BYTES_MAX)?.to_owned();
            let partitions = r.u32("partitions")?;
            let storage = match r.u8("storage")? {
                0 => StorageKind::Memory,
                1 => StorageKind::Disk,
                v => {
                    return Err(PayloadError::InvalidValue {
                        field: "storage",
                        value: u64::from(v),
                    })
                }
            };
            streams.push(StreamSummary {
                name,
                partitions,
                storage,
            });
        }
        r.finish()?;
        Ok(StreamList { streams })
    }
}

/// A corrupt stored batch, in STREAM_DESCRIBE: reads from `from_offset` fail with
/// CORRUPT_DATA until a consumer moves past it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CorruptInfo {
    /// The first offset that could not be read.
    pub from_offset: u64,
    /// Where and why (segment file, byte position, reason), for people.
    pub description: String,
}

/// Longest corrupt-batch description carried.
pub const CORRUPT_DESCRIPTION_BYTES_MAX: usize = 1024;

/// Offsets and size of one partition, in STREAM_DESCRIBE.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartitionInfo {
    /// Partition number.
    pub partition: u32,
    /// First retained offset.
    pub start_offset: u64,
    /// Next offset to be written.
    pub end_offset: u64,
    /// Offsets below this are fsynced (disk streams).
    pub durable_offset: u64,
    /// Bytes retained.
    pub size_bytes: u64,
    /// Corrupt batches found in it (at most 16, the oldest forgotten first).
    pub corrupt: Vec<CorruptInfo>,
}

/// STREAM_DESCRIBE response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamDescription {
    /// Stream name.
    pub name: String,
    /// Effective settings (every field set).
    pub settings: StreamSettings,
    /// Every partition.
    pub partitions: Vec<PartitionInfo>,
}

impl StreamDescription {
    /// Appends the encoded payload.
    pub fn encode(&self, dst: &mut BytesMut) {
        put_str16(dst, &self.name);
        self.settings.encode(dst);
        dst.put_u32_le(self.partitions.len() as u32);
        for p in &self.partitions {
            dst.put_u32_le(p.partition);
            dst.put_u64_le(p.start_offset);
            dst.put_u64_le(p.end_offset);
            dst.put_u64_le(p.durable_offset);
            dst.put_u64_le(p.size_bytes);
            dst.put_u16_le(p.corrupt.len().min(usize::from(u16::MAX)) as u16);
            for c in p.corrupt.iter().take(usize::from(u16::MAX)) {
                dst.put_u64_le(c.from_offset);
                put_str16(
                    dst,
                    truncate_utf8(&c.description, CORRUPT_DESCRIPTION_BYTES_MAX),
                );
            }
        }
    }

    /// Parses a payload.
    pub fn decode(payload: &[u8]) -> Result<StreamDescription, PayloadError> {
        let mut r = PayloadReader::new(payload);
        let name = r.str16("name", STREAM_NAME_BYTES_MAX)?.to_owned();
        let settings = StreamSettings::decode_from(&mut r)?;
        let count = r.u32("partition_count")?;
        let mut partitions = Vec::new();
        for _ in 0..count {
            let mut p = PartitionInfo {
                partition: r.u32("partition")?,
                start_offset: r.u64("start_offset")?,
                end_offset: r.u64("end_offset")?,
                durable_offset: r.u64("durable_offset")?,
                size_bytes: r.u64("size_bytes")?,
                corrupt: Vec::new(),
            };
            for _ in 0..r.u16("corrupt_count")? {
                p.corrupt.push(CorruptInfo {
                    from_offset: r.u64("from_offset")?,
                    description: r
                        .str16("description", CORRUPT_DESCRIPTION_BYTES_MAX)?
                        .to_owned(),
                });
            }
            partitions.push(p);
        }
        r.finish()?;
        Ok(StreamDescription {
            name,
            settings,
            partitions,
        })
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]
mod tests {
    use super::*;

    #[test]
    fn stream_names() {
        for good in ["orders", "orders.eu", "a-b_c.9", &"x".repeat(255)] {
            assert!(validate_stream_name(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "a..b",
            ".a",
            "a.",
            "a b",
            "ä",
            "a*",
            "a>",
            &"x".repeat(256),
        ] {
            assert!(validate_stream_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn round_trips() {
        let create = CreateStream {
            name: "orders.eu".into(),
            partitions: 4,
            settings: StreamSettings {
                storage: Some(StorageKind::Memory),
                retention_bytes: Some(1 << 30),
                fsync: Some(FsyncMode::Interval),
                fsync_interval_ms: Some(5),
                ..StreamSettings::default()
            },
        };
        let mut buf = BytesMut::new();
        create.encode(&mut buf);
        assert_eq!(CreateStream::decode(&buf).unwrap(), create);
        for cut in 0..buf.len() {
            assert!(CreateStream::decode(&buf[..cut]).is_err());
        }
        let desc = StreamDescription {
            name: "s".into(),
            settings: create.settings.clone(),
            partitions: vec![PartitionInfo {
                partition: 0,
                start_offset: 1,
                end_offset: 9,
                durable_offset: 8,
                size_bytes: 700,
                corrupt: vec![CorruptInfo {
                    from_offset: 4,
                    description: "00000000000000000000.log at byte 90: checksum mismatch".into(),
                }],
            }],
        };
        let mut buf = BytesMut::new();
        desc.encode(&mut buf);
        assert_eq!(StreamDescription::decode(&buf).unwrap(), desc);
        let list = StreamList {
            streams: vec![StreamSummary {
                name: "a".into(),
                partitions: 2,
                storage: StorageKind::Disk,
            }],
        };
        let mut buf = BytesMut::new();
        list.encode(&mut buf);
        assert_eq!(StreamList::decode(&buf).unwrap(), list);
    }

    #[test]
    fn repeated_or_unknown_settings_are_refused() {
        let mut buf = BytesMut::new();
        put_str16(&mut buf, "s");
        buf.put_u32_le(1);
        buf.put_u16_le(2);
        buf.put_u16_le(SETTING_RETENTION_MS);
        buf.put_u64_le(1);
        buf.put_u16_le(SETTING_RETENTION_MS);
        buf.put_u64_le(2);
        assert!(CreateStream::decode(&buf).is_err());
    }
}
