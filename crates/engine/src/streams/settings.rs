//! A stream's effective settings: the request's overrides on top of `[streams]` defaults,
//! checked, fixed at creation and stored with the stream; the [`Alterable`] ones change
//! later through [`Effective::altered`], under the same checks.

use memstream_log::{FsyncPolicy, LogConfig};
use serde::{Deserialize, Serialize};

use super::types::{Alterable, Fsync, SettingChange, SettingsOverrides, Storage};

use crate::config::{StreamsConfig, MESSAGE_HEADROOM_BYTES};
use crate::OutOfRange;

/// Smallest segment a stream may ask for.
const SEGMENT_BYTES_MIN: u64 = 1 << 20;
/// Largest segment a stream may ask for.
const SEGMENT_BYTES_MAX: u64 = 1 << 30;

/// Every setting of a stream, resolved. Stored in the stream's `meta.toml`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Effective {
    /// `memory` or `disk` in `meta.toml`.
    pub storage: Storage,
    /// Bytes retained per partition; 0 = unlimited.
    pub retention_bytes: u64,
    /// Age retained; 0 = unlimited.
    pub retention_ms: u64,
    /// Segment size.
    pub segment_bytes: u64,
    /// Largest record.
    pub max_message_bytes: u64,
    /// `always`, `interval` or `never` in `meta.toml`.
    pub fsync: Fsync,
    /// Interval for `fsync = "interval"`.
    pub fsync_interval_ms: u64,
    /// Sparse index spacing.
    pub index_interval_bytes: u32,
}

impl Effective {
    /// Applies `overrides` to the defaults in `cfg`; the error names the setting and why.
    pub fn resolve(
        overrides: &SettingsOverrides,
        cfg: &StreamsConfig,
        max_frame_bytes: u32,
    ) -> Result<Effective, OutOfRange> {
        let storage = overrides
            .storage
            .unwrap_or_else(|| Storage::from_config(&cfg.storage));
        let fsync = overrides
            .fsync
            .unwrap_or_else(|| Fsync::from_config(&cfg.fsync));
        let eff = Effective {
            storage,
            retention_bytes: overrides.retention_bytes.unwrap_or(cfg.retention_bytes),
            retention_ms: overrides.retention_ms.unwrap_or(cfg.retention_ms),
            segment_bytes: overrides.segment_bytes.unwrap_or(cfg.segment_bytes),
            max_message_bytes: overrides.max_message_bytes.unwrap_or(cfg.max_message_bytes),
            fsync,
            fsync_interval_ms: overrides.fsync_interval_ms.unwrap_or(cfg.fsync_interval_ms),
            index_interval_bytes: cfg.index_interval_bytes,
        };
        eff.check(max_frame_bytes)?;
        Ok(eff)
    }

    /// These settings with `changes` applied (a change to `None` takes the default in `cfg`),
    /// checked as at creation, and `overrides` updated to match.
    pub fn altered(
        &self,
        overrides: &SettingsOverrides,
        changes: &[SettingChange],
        cfg: &StreamsConfig,
        max_frame_bytes: u32,
    ) -> Result<(Effective, SettingsOverrides), OutOfRange> {
        let mut eff = self.clone();
        let mut overrides = overrides.clone();
        for change in changes {
            let (value, overridden, default) = match change.setting {
                Alterable::RetentionBytes => (
                    &mut eff.retention_bytes,
                    &mut overrides.retention_bytes,
                    cfg.retention_bytes,
                ),
                Alterable::RetentionMs => (
                    &mut eff.retention_ms,
                    &mut overrides.retention_ms,
                    cfg.retention_ms,
                ),
                Alterable::SegmentBytes => (
                    &mut eff.segment_bytes,
                    &mut overrides.segment_bytes,
                    cfg.segment_bytes,
                ),
                Alterable::MaxMessageBytes => (
                    &mut eff.max_message_bytes,
                    &mut overrides.max_message_bytes,
                    cfg.max_message_bytes,
                ),
            };
            *overridden = change.value;
            *value = change.value.unwrap_or(default);
        }
        eff.check(max_frame_bytes)?;
        Ok((eff, overrides))
    }

    /// The rules every stream's settings keep, whoever set them.
    fn check(&self, max_frame_bytes: u32) -> Result<(), OutOfRange> {
        let eff = self;
        OutOfRange::check(
            "segment_bytes",
            eff.segment_bytes,
            (SEGMENT_BYTES_MIN, SEGMENT_BYTES_MAX),
            "the log's segment size bounds",
        )?;
        let max_message = u64::from(max_frame_bytes.saturating_sub(MESSAGE_HEADROOM_BYTES));
        OutOfRange::check(
            "max_message_bytes",
            eff.max_message_bytes,
            (1, max_message),
            "network.max_frame_bytes less the headroom for frame and batch headers",
        )?;
        if eff.is_memory() {
            OutOfRange::check(
                "retention_bytes",
                eff.retention_bytes,
                (1, u64::MAX),
                "a memory stream needs a retention_bytes limit",
            )?;
        }
        if eff.fsync == Fsync::Interval {
            OutOfRange::check(
                "fsync_interval_ms",
                eff.fsync_interval_ms,
                (1, u64::MAX),
                "fsync = interval needs an interval",
            )?;
        }
        Ok(())
    }

    /// True for memory streams.
    pub fn is_memory(&self) -> bool {
        self.storage == Storage::Memory
    }

    /// The partition log configuration.
    pub fn log_config(&self) -> LogConfig {
        LogConfig {
            segment_bytes: self.segment_bytes,
            retention_bytes: self.retention_bytes,
            retention_ms: self.retention_ms,
            index_interval_bytes: self.index_interval_bytes,
            fsync: match self.fsync {
                Fsync::Interval => FsyncPolicy::Interval {
                    interval_ms: self.fsync_interval_ms,
                },
                Fsync::Never => FsyncPolicy::Never,
                Fsync::Always => FsyncPolicy::Always,
            },
        }
    }
}
