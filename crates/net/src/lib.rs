//! Socket helpers the server's and the client's writers share. The protocol crate lays
//! frames out for vectored writes ([`Outbox`]) without doing I/O; this crate does the
//! writing.

use std::io::{self, IoSlice};

use memstream_protocol::outbox::Outbox;
use tokio::io::{AsyncWrite, AsyncWriteExt};

/// Most slices handed to one `write_vectored` call (Linux's IOV_MAX is 1024).
pub const IOVECS_MAX: usize = 64;

/// Writes everything in `outbox` in as few syscalls as the kernel allows: small parts were
/// copied together, record batches go from their own buffers. `WriteZero` when the peer
/// stops taking bytes.
pub async fn write_outbox<W: AsyncWrite + Unpin>(
    sink: &mut W,
    outbox: &mut Outbox,
) -> io::Result<()> {
    while !outbox.is_empty() {
        let written = {
            let mut slices = [IoSlice::new(&[]); IOVECS_MAX];
            let used = outbox.slices(&mut slices);
            sink.write_vectored(slices.get(..used).unwrap_or_default())
                .await?
        };
        if written == 0 {
            return Err(io::ErrorKind::WriteZero.into());
        }
        outbox.advance(written);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use memstream_protocol::{Frame, Opcode};

    use super::*;

    #[tokio::test]
    async fn an_outbox_is_written_whole_and_in_order() {
        let mut outbox = Outbox::default();
        let big = Bytes::from(vec![7u8; 100_000]);
        let frame = Frame::request(Opcode::Ping, 1, Bytes::from_static(b"hi"));
        outbox.push(&frame, std::slice::from_ref(&big));
        outbox.push(&frame, &[]);
        let expected = outbox.len();
        let mut sink = Vec::new();
        write_outbox(&mut sink, &mut outbox).await.unwrap();
        assert_eq!(sink.len(), expected);
        assert!(outbox.is_empty());
        assert!(sink.windows(2).any(|w| w == b"hi"));
    }
}
