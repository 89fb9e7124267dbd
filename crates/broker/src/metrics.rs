//! Server-wide counters and gauges, rendered in the Prometheus text format.
//!
//! Plain relaxed atomics: every update is one `fetch_add`, readers (the admin `/metrics`
//! endpoint) tolerate slightly torn snapshots across counters.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};

use memstream_metrics::ApiStats;
use memstream_protocol::{ErrorCode, Opcode};

/// All metrics of one server.
#[derive(Debug)]
pub struct Metrics {
    connections_active: AtomicI64,
    connections_total: AtomicU64,
    connections_rejected_total: AtomicU64,
    frames_in_total: AtomicU64,
    frames_out_total: AtomicU64,
    bytes_in_total: AtomicU64,
    bytes_out_total: AtomicU64,
    handshakes_total: AtomicU64,
    handshake_failures_total: AtomicU64,
    credit_stalls_total: AtomicU64,
    admin_connections: AtomicI64,
    /// Indexed like [`ErrorCode::ALL`].
    protocol_errors_total: Box<[AtomicU64]>,
    /// Requests, errors and latency per opcode, indexed through `opcode_index`.
    requests: ApiStats,
    /// Opcode byte to index in `requests` (`u8::MAX`: not a request opcode).
    opcode_index: [u8; 256],
}

/// Every opcode byte that names an opcode, in order.
fn opcodes() -> Vec<Opcode> {
    (0..=u8::MAX).filter_map(Opcode::from_u8).collect()
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            connections_active: AtomicI64::new(0),
            connections_total: AtomicU64::new(0),
            connections_rejected_total: AtomicU64::new(0),
            frames_in_total: AtomicU64::new(0),
            frames_out_total: AtomicU64::new(0),
            bytes_in_total: AtomicU64::new(0),
            bytes_out_total: AtomicU64::new(0),
            handshakes_total: AtomicU64::new(0),
            handshake_failures_total: AtomicU64::new(0),
            credit_stalls_total: AtomicU64::new(0),
            admin_connections: AtomicI64::new(0),
            protocol_errors_total: ErrorCode::ALL.iter().map(|_| AtomicU64::new(0)).collect(),
            requests: ApiStats::new(opcodes().into_iter().map(Opcode::name).collect()),
            opcode_index: {
                let mut index = [u8::MAX; 256];
                for (i, op) in opcodes().into_iter().enumerate() {
                    index[usize::from(op.as_u8())] = u8::try_from(i).unwrap_or(u8::MAX);
                }
                index
            },
        }
    }
}

impl Metrics {
    /// A connection was accepted and admitted.
    pub fn connection_opened(&self) {
        self.connections_total.fetch_add(1, Relaxed);
        self.connections_active.fetch_add(1, Relaxed);
    }

    /// An admitted connection ended.
    pub fn connection_closed(&self) {
        self.connections_active.fetch_sub(1, Relaxed);
    }

    /// A connection was refused at the connection limit.
    pub fn connection_rejected(&self) {
        self.connections_rejected_total.fetch_add(1, Relaxed);
    }

    /// A frame of `bytes` (header included) was received.
    pub fn frame_in(&self, bytes: usize) {
        self.frames_in_total.fetch_add(1, Relaxed);
        self.bytes_in_total.fetch_add(bytes as u64, Relaxed);
    }

    /// `frames` frames totalling `bytes` were written.
    pub fn frames_out(&self, frames: u64, bytes: u64) {
        self.frames_out_total.fetch_add(frames, Relaxed);
        self.bytes_out_total.fetch_add(bytes, Relaxed);
    }

    /// A push subscription has data waiting and not enough credit for it.
    pub fn credit_stall(&self) {
        self.credit_stalls_total.fetch_add(1, Relaxed);
    }

    /// An admin (HTTP) connection opened (`1`) or closed (`-1`).
    pub fn admin_connection(&self, delta: i64) {
        self.admin_connections.fetch_add(delta, Relaxed);
    }

    /// Admin connections open now.
    pub fn admin_connections(&self) -> i64 {
        self.admin_connections.load(Relaxed)
    }

    /// A handshake completed.
    pub fn handshake_ok(&self) {
        self.handshakes_total.fetch_add(1, Relaxed);
    }

    /// A handshake failed (wrong first frame, no common version, timeout).
    pub fn handshake_failed(&self) {
        self.handshake_failures_total.fetch_add(1, Relaxed);
    }

    /// An error frame with `code` was sent because of something the peer did.
    pub fn protocol_error(&self, code: ErrorCode) {
        if let Some(i) = ErrorCode::ALL.iter().position(|&c| c == code) {
            self.protocol_errors_total[i].fetch_add(1, Relaxed);
        }
    }

    /// A request with `opcode` was answered after `elapsed`, with an error frame or not.
    pub fn request_done(&self, opcode: u8, elapsed: std::time::Duration, error: bool) {
        let index = self.opcode_index[usize::from(opcode)];
        if index != u8::MAX {
            self.requests.record(usize::from(index), elapsed, error);
        }
    }

    /// Connections currently admitted.
    pub fn connections_active(&self) -> i64 {
        self.connections_active.load(Relaxed)
    }

    /// Error frames sent with `code` so far.
    pub fn protocol_errors(&self, code: ErrorCode) -> u64 {
        ErrorCode::ALL
            .iter()
            .position(|&c| c == code)
            .map_or(0, |i| self.protocol_errors_total[i].load(Relaxed))
    }

    /// Connections refused at the limit so far.
    pub fn connections_rejected(&self) -> u64 {
        self.connections_rejected_total.load(Relaxed)
    }

    /// The Prometheus text exposition (format 0.0.4) of every metric.
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(4096);
        let mut counter = |name: &str, help: &str, value: u64| {
            let _ = write!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}\n"
            );
        };
        counter(
            "memstream_connections_total",
            "Connections accepted and admitted.",
            self.connections_total.load(Relaxed),
        );
        counter(
            "memstream_subscription_credit_stalls_total",
            "Times a push subscription had records waiting and not enough credit to send them.",
            self.credit_stalls_total.load(Relaxed),
        );
        counter(
            "memstream_connections_rejected_total",
            "Connections refused with TOO_MANY_CONNECTIONS.",
            self.connections_rejected_total.load(Relaxed),
        );
        counter(
            "memstream_frames_in_total",
            "Frames received.",
            self.frames_in_total.load(Relaxed),
        );
        counter(
            "memstream_frames_out_total",
            "Frames written.",
            self.frames_out_total.load(Relaxed),
        );
        counter(
            "memstream_bytes_in_total",
            "Frame bytes received, headers included.",
            self.bytes_in_total.load(Relaxed),
        );
        counter(
            "memstream_bytes_out_total",
            "Frame bytes written, headers included.",
            self.bytes_out_total.load(Relaxed),
        );
        counter(
            "memstream_handshakes_total",
            "Completed HELLO handshakes.",
            self.handshakes_total.load(Relaxed),
        );
        counter(
            "memstream_handshake_failures_total",
            "Handshakes that failed: wrong first frame, no common version, or timeout.",
            self.handshake_failures_total.load(Relaxed),
        );
        let _ = write!(
            out,
            "# HELP memstream_connections_active Connections currently open.\n\
             # TYPE memstream_connections_active gauge\n\
             memstream_connections_active {}\n",
            self.connections_active.load(Relaxed)
        );
        out.push_str(
            "# HELP memstream_protocol_errors_total Error frames sent, by error code.\n\
             # TYPE memstream_protocol_errors_total counter\n",
        );
        for (code, count) in ErrorCode::ALL.iter().zip(self.protocol_errors_total.iter()) {
            let _ = writeln!(
                out,
                "memstream_protocol_errors_total{{code=\"{}\",name=\"{}\"}} {}",
                code.as_u16(),
                code.name(),
                count.load(Relaxed)
            );
        }
        self.requests.render(
            &mut out,
            "memstream",
            "native",
            "Native requests answered with an error frame, by API.",
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_is_prometheus_text() {
        let m = Metrics::default();
        m.connection_opened();
        m.protocol_error(ErrorCode::BadMagic);
        m.frame_in(48);
        let text = m.render();
        assert!(text.contains("memstream_connections_active 1\n"));
        assert!(text.contains("memstream_protocol_errors_total{code=\"1\",name=\"BAD_MAGIC\"} 1\n"));
        assert!(text.contains("memstream_bytes_in_total 48\n"));
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let (_, value) = line.rsplit_once(' ').expect("name value");
            value.parse::<f64>().expect("numeric sample");
        }
    }
}
