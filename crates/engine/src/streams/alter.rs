//! Changing a stream's settings live: [`Streams::alter`] checks the changed settings as a
//! creation would, stores the new definition (atomically), then publishes it to the stream
//! (the append path reads `max_message_bytes` from it) and hands the new segment size and
//! retention to every partition log.

use std::sync::PoisonError;

use super::{Effective, SettingChange, Stream, StreamError, Streams};
use crate::config::StreamsConfig;

impl Streams {
    /// Applies `changes` to stream `name`; blocking (disk I/O). Returns the settings now in
    /// force. `max_frame_bytes` is the front-end's frame limit, as for
    /// [`create`](Self::create). Segment size applies to segments rolled from now on,
    /// retention at the next retention run, `max_message_bytes` to the next append.
    pub fn alter(
        &self,
        name: &str,
        changes: &[SettingChange],
        cfg: &StreamsConfig,
        max_frame_bytes: u32,
    ) -> Result<Effective, StreamError> {
        let _admin = self.admin.lock().unwrap_or_else(PoisonError::into_inner);
        let stream = self.get(name)?;
        let meta = altered(&stream, changes, cfg, max_frame_bytes)?;
        super::meta::save(&self.root, &meta).map_err(|source| StreamError::Storage {
            what: "write the definition of",
            path: super::meta::stream_dir(&self.root, name),
            source,
        })?;
        let settings = meta.settings.clone();
        let limits = settings.log_config().live();
        stream.set_meta(meta);
        for p in stream.partitions().iter() {
            p.log.set_limits(limits);
        }
        tracing::info!(stream = name, ?changes, "stream settings altered");
        Ok(settings)
    }

    /// Everything [`alter`](Self::alter) checks, changing nothing; returns the settings the
    /// stream would have.
    pub fn check_alter(
        &self,
        name: &str,
        changes: &[SettingChange],
        cfg: &StreamsConfig,
        max_frame_bytes: u32,
    ) -> Result<Effective, StreamError> {
        let stream = self.get(name)?;
        Ok(altered(&stream, changes, cfg, max_frame_bytes)?.settings)
    }
}

/// The definition of `stream` with `changes` applied and checked.
fn altered(
    stream: &Stream,
    changes: &[SettingChange],
    cfg: &StreamsConfig,
    max_frame_bytes: u32,
) -> Result<super::StreamMeta, StreamError> {
    let mut meta = stream.meta().as_ref().clone();
    let (settings, overrides) =
        meta.settings
            .altered(&meta.overrides, changes, cfg, max_frame_bytes)?;
    meta.settings = settings;
    meta.overrides = overrides;
    Ok(meta)
}
