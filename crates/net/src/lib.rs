//! Socket helpers the server's and the client's writers share. The protocol crate lays
//! frames out for vectored writes ([`Outbox`]) without doing I/O; this crate does the
//! writing.

pub mod admission;
pub mod registry;
#[cfg(feature = "test-certs")]
pub mod test_certs;
pub mod tls;
pub mod tls_config;

pub use tls_config::TlsConfig;

use std::collections::VecDeque;
use std::io::{self, IoSlice};

use bytes::{Buf, Bytes};

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

/// Writes every chunk in `chunks`, in order, with vectored writes of up to [`IOVECS_MAX`]
/// chunks each (the Kafka front-end's responses: small encoded parts and stored batches).
/// `WriteZero` when the peer stops taking bytes.
pub async fn write_chunks<W: AsyncWrite + Unpin>(
    sink: &mut W,
    chunks: &mut VecDeque<Bytes>,
) -> io::Result<()> {
    while !chunks.is_empty() {
        let mut written = {
            let mut slices = [IoSlice::new(&[]); IOVECS_MAX];
            let mut used = 0;
            for (slot, chunk) in slices.iter_mut().zip(chunks.iter()) {
                *slot = IoSlice::new(chunk);
                used += 1;
            }
            sink.write_vectored(slices.get(..used).unwrap_or_default())
                .await?
        };
        if written == 0 {
            return Err(io::ErrorKind::WriteZero.into());
        }
        while let Some(front) = chunks.front_mut() {
            if written < front.len() {
                front.advance(written);
                break;
            }
            written -= front.len();
            chunks.pop_front();
        }
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

    #[tokio::test]
    async fn chunks_are_written_whole_and_in_order_through_a_small_pipe() {
        let chunks: Vec<Bytes> = (0..200u8)
            .map(|i| Bytes::from(vec![i; usize::from(i) * 7 + 1]))
            .collect();
        let want: Vec<u8> = chunks.concat();
        let (mut tx, mut rx) = tokio::io::duplex(333);
        let reader = tokio::spawn(async move {
            let mut got = Vec::new();
            tokio::io::AsyncReadExt::read_to_end(&mut rx, &mut got)
                .await
                .unwrap();
            got
        });
        let mut queue: VecDeque<Bytes> = chunks.into_iter().collect();
        write_chunks(&mut tx, &mut queue).await.unwrap();
        drop(tx);
        assert!(queue.is_empty());
        assert_eq!(reader.await.unwrap(), want);
    }
}
