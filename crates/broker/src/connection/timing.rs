//! Each request's time, from its frame read to its answer queued: counted per opcode in
//! `memstream_request_duration_seconds`, and logged with its id when slower than
//! `log.slow_request_ms`.

use std::time::Duration;

use memstream_protocol::Opcode;
use tokio::time::Instant;

use crate::state::Shared;

/// A request being answered: counted and timed when its answer is queued
/// (`memstream_request_duration_seconds`), and logged with its id when slower than
/// `log.slow_request_ms`.
pub(super) struct Done {
    pub opcode: u8,
    /// The connection's id and the request's correlation id: `c<conn>-<correlation>` in logs.
    pub request_id: (u64, u64),
    pub started: Instant,
}

impl Done {
    pub fn finish(self, shared: &Shared, error: bool) {
        let elapsed = self.started.elapsed();
        shared.metrics.request_done(self.opcode, elapsed, error);
        let slow_ms = shared.config.load().log.slow_request_ms;
        // Long polls and group joins wait by design; their time is not slowness.
        let waits = matches!(
            Opcode::from_u8(self.opcode),
            Some(Opcode::Fetch | Opcode::GroupJoin)
        );
        if slow_ms > 0 && !waits && elapsed >= Duration::from_millis(slow_ms) {
            let api = Opcode::from_u8(self.opcode).map_or("UNKNOWN", Opcode::name);
            let (conn, correlation) = self.request_id;
            tracing::warn!(
                request_id = %format_args!("c{conn}-{correlation}"),
                api,
                elapsed_ms = elapsed.as_millis() as u64,
                error,
                "slow request (log.slow_request_ms)"
            );
        }
    }
}
