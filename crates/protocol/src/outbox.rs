//! Frames waiting to be written, laid out for vectored writes (no I/O here).
//!
//! A frame's header, and its payload parts when small, are copied into a staging buffer;
//! large parts (record batches) stay in their own buffers and become their own I/O slices, so
//! the bytes of a batch are never copied on their way to the socket. The writer asks for
//! slices, writes what the kernel takes, and advances.

use std::collections::VecDeque;
use std::io::IoSlice;

use bytes::{BufMut, Bytes, BytesMut};

use crate::frame::Frame;
use crate::header::HEADER_LEN;

/// Payload parts up to this size are copied beside their header by default.
pub const COPY_PAYLOAD_BYTES_MAX: usize = 4096;

/// Pending output: encoded frames, in order.
#[derive(Debug, Default)]
pub struct Outbox {
    staging: BytesMut,
    chunks: VecDeque<Bytes>,
    pending: usize,
}

impl Outbox {
    /// An empty outbox.
    pub fn new() -> Outbox {
        Outbox::default()
    }

    /// Appends `frame` with `tail` as more payload after its own (the header's length and
    /// checksum cover both).
    pub fn push(&mut self, frame: &Frame, tail: &[Bytes]) {
        let mut header = [0u8; HEADER_LEN];
        frame.header_with_tail(tail).encode(&mut header);
        self.staging.put_slice(&header);
        self.pending = self.pending.saturating_add(HEADER_LEN);
        for part in std::iter::once(&frame.payload).chain(tail) {
            self.pending = self.pending.saturating_add(part.len());
            if part.len() <= COPY_PAYLOAD_BYTES_MAX {
                self.staging.put_slice(part);
            } else {
                self.seal();
                self.chunks.push_back(part.clone());
            }
        }
    }

    /// Bytes not yet written.
    pub fn len(&self) -> usize {
        self.pending
    }

    /// Whether everything was written.
    pub fn is_empty(&self) -> bool {
        self.pending == 0
    }

    fn seal(&mut self) {
        if !self.staging.is_empty() {
            self.chunks.push_back(self.staging.split().freeze());
        }
    }

    /// Fills `out` with the next slices to write, in order; returns how many.
    pub fn slices<'a>(&'a mut self, out: &mut [IoSlice<'a>]) -> usize {
        self.seal();
        let mut used = 0usize;
        for (slot, chunk) in out
            .iter_mut()
            .zip(self.chunks.iter().filter(|c| !c.is_empty()))
        {
            *slot = IoSlice::new(chunk);
            used = used.saturating_add(1);
        }
        used
    }

    /// Drops the first `n` bytes, which were written.
    pub fn advance(&mut self, mut n: usize) {
        self.pending = self.pending.saturating_sub(n);
        while n > 0 {
            let Some(front) = self.chunks.front_mut() else {
                return;
            };
            if front.len() <= n {
                n = n.saturating_sub(front.len());
                self.chunks.pop_front();
            } else {
                let _ = front.split_to(n);
                n = 0;
            }
        }
        while self.chunks.front().is_some_and(Bytes::is_empty) {
            self.chunks.pop_front();
        }
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]
mod tests {
    use super::*;
    use crate::codec::FrameCodec;
    use crate::opcode::Opcode;
    use tokio_util::codec::Decoder;

    fn drain(outbox: &mut Outbox, step: usize) -> Vec<u8> {
        let mut wire = Vec::new();
        while !outbox.is_empty() {
            let mut slices = [IoSlice::new(&[]); 4];
            let used = outbox.slices(&mut slices);
            assert!(used > 0);
            // Write at most `step` bytes, as a kernel might.
            let mut budget = step;
            for s in &slices[..used] {
                let take = s.len().min(budget);
                wire.extend_from_slice(&s[..take]);
                budget -= take;
                if budget == 0 {
                    break;
                }
            }
            let written = step - budget;
            outbox.advance(written);
        }
        wire
    }

    #[test]
    fn frames_with_tails_decode_as_one_payload_however_the_writes_split() {
        let big = Bytes::from(vec![7u8; 10_000]);
        let small = Bytes::from_static(b"tail");
        let frames = [
            (
                Frame::request(Opcode::Ping, 1, Bytes::from_static(b"head")),
                vec![big.clone()],
            ),
            (Frame::request(Opcode::Ping, 2, Bytes::new()), vec![]),
            (
                Frame::request(Opcode::Ping, 3, Bytes::from(vec![1u8; 5000])),
                vec![small.clone()],
            ),
        ];
        for step in [1, 7, 4096, 1 << 20] {
            let mut outbox = Outbox::new();
            for (frame, tail) in &frames {
                outbox.push(frame, tail);
            }
            assert_eq!(outbox.len(), 3 * HEADER_LEN + 4 + 10_000 + 5000 + 4);
            let mut wire = BytesMut::from(&drain(&mut outbox, step)[..]);
            let mut codec = FrameCodec::new(1 << 20);
            for (frame, tail) in &frames {
                let got = codec.decode(&mut wire).unwrap().unwrap();
                let mut want = frame.payload.to_vec();
                for t in tail {
                    want.extend_from_slice(t);
                }
                assert_eq!(
                    (got.correlation_id, &got.payload[..]),
                    (frame.correlation_id, &want[..])
                );
            }
            assert!(wire.is_empty());
        }
    }
}
