//! Arbitrary bytes into the frame decoder, then every decoded frame into `Request::decode`.
//!
//! The first input byte picks how the rest is cut into reads (1 to 255 bytes each, or all at
//! once), so both the whole-buffer and the incremental decode paths are explored. Nothing may
//! panic, and no frame larger than the limit may come out.

#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use memstream_protocol::{FrameCodec, Request, HEADER_LEN};
use tokio_util::codec::Decoder;

/// The smallest limit a codec accepts, so that lengths often exceed it.
const MAX_FRAME_BYTES: u32 = HEADER_LEN as u32 + 4096;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, input)) = data.split_first() else {
        return;
    };
    let chunk = if mode == 0 {
        input.len().max(1)
    } else {
        usize::from(mode)
    };
    let mut codec = FrameCodec::new(MAX_FRAME_BYTES);
    let mut buf = BytesMut::new();
    for piece in input.chunks(chunk) {
        buf.extend_from_slice(piece);
        loop {
            match codec.decode(&mut buf) {
                Ok(Some(frame)) => {
                    assert!(frame.encoded_len() <= MAX_FRAME_BYTES as usize);
                    let _ = Request::decode(&frame);
                }
                Ok(None) => break,
                // Frame-level errors are fatal: a server would close the connection here.
                Err(_) => return,
            }
        }
    }
    let _ = codec.decode_eof(&mut buf);
});
