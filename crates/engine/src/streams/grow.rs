//! Growing a stream: [`Streams::add_partitions`] opens the new partition logs, stores the new
//! count in the stream's definition (atomically, as every definition is written) and only then
//! publishes the partitions, so a crash leaves either the old count or the new one. Partitions
//! are never removed: records keep the partition their key chose when they were written.

use std::sync::{Arc, PoisonError};

use super::{check_total, meta, open_partitions, Stream, StreamError, Streams};
use crate::config::StreamsConfig;

impl Streams {
    /// Grows stream `name` to `count` partitions; blocking (disk I/O). Returns the count it
    /// had. Refused when `count` is not above the current count, above
    /// `streams.max_partitions_per_stream`, or past `streams.max_partitions_total`. Every
    /// holder of the stream sees the new partitions at its next access, and subscriptions
    /// that watch [`watch_created`](Self::watch_created) are told.
    pub fn add_partitions(
        &self,
        name: &str,
        count: u32,
        cfg: &StreamsConfig,
    ) -> Result<u32, StreamError> {
        let _admin = self.admin.lock().unwrap_or_else(PoisonError::into_inner);
        let (stream, current) = self.check_add_locked(name, count, cfg)?;
        let mut meta = stream.meta().as_ref().clone();
        meta.partitions = count;
        let logs = open_partitions(&self.root, &meta, current..count, &self.syncer)?;
        if let Err(source) = meta::save(&self.root, &meta) {
            for log in logs {
                let _ = log.destroy();
            }
            return Err(StreamError::Storage {
                what: "write the definition of",
                path: meta::stream_dir(&self.root, name),
                source,
            });
        }
        stream.grow(logs, meta, cfg.max_producers_per_partition as usize);
        self.created.send_modify(|generation| *generation += 1);
        tracing::info!(
            stream = name,
            from = current,
            to = count,
            "partitions added"
        );
        Ok(current)
    }

    /// Everything [`add_partitions`](Self::add_partitions) checks, changing nothing; returns
    /// the current count.
    pub fn check_add_partitions(
        &self,
        name: &str,
        count: u32,
        cfg: &StreamsConfig,
    ) -> Result<u32, StreamError> {
        let _admin = self.admin.lock().unwrap_or_else(PoisonError::into_inner);
        self.check_add_locked(name, count, cfg).map(|(_, n)| n)
    }

    /// The checks of [`add_partitions`](Self::add_partitions), under the admin lock.
    fn check_add_locked(
        &self,
        name: &str,
        count: u32,
        cfg: &StreamsConfig,
    ) -> Result<(Arc<Stream>, u32), StreamError> {
        let streams = self.streams.read().unwrap_or_else(PoisonError::into_inner);
        let stream = streams
            .get(name)
            .cloned()
            .ok_or_else(|| StreamError::NotFound(name.to_owned()))?;
        let current = stream.partition_count();
        if count <= current {
            return Err(StreamError::PartitionsNotAdded {
                stream: name.to_owned(),
                current,
                requested: count,
            });
        }
        crate::OutOfRange::check(
            "partitions",
            count.into(),
            (1, cfg.max_partitions_per_stream.into()),
            "streams.max_partitions_per_stream",
        )?;
        check_total(&streams, count - current, cfg)?;
        Ok((stream, current))
    }
}
