//! The four compression codecs, with decompression bounded by a byte limit.
//!
//! Snappy comes in two framings: Java clients write xerial's (a 16-byte magic header, then
//! blocks each prefixed by a big-endian u32 length), librdkafka writes raw snappy by default
//! and reads both. We read both and write raw snappy.

use std::io::{Read, Write};

use crate::error::BatchError;
use crate::header::Compression;

/// The magic at the start of a xerial-framed snappy stream.
const XERIAL_MAGIC: [u8; 8] = [0x82, b'S', b'N', b'A', b'P', b'P', b'Y', 0];
/// Xerial header: magic, version (i32), compatible version (i32).
const XERIAL_HEADER_LEN: usize = 16;
/// zstd level for produced batches: fast, as Kafka's default is.
const ZSTD_LEVEL: i32 = 3;

/// Compresses `src` with `codec`.
pub fn compress(codec: Compression, src: &[u8]) -> Vec<u8> {
    // Writing into a Vec cannot fail, so the encoders' io::Results are infallible here.
    match codec {
        Compression::None => src.to_vec(),
        Compression::Gzip => {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            let _ = e.write_all(src);
            e.finish().unwrap_or_default()
        }
        Compression::Snappy => snap::raw::Encoder::new()
            .compress_vec(src)
            .unwrap_or_default(),
        Compression::Lz4 => {
            let mut e = lz4_flex::frame::FrameEncoder::new(Vec::new());
            let _ = e.write_all(src);
            e.finish().unwrap_or_default()
        }
        Compression::Zstd => zstd::bulk::compress(src, ZSTD_LEVEL).unwrap_or_default(),
    }
}

/// Decompresses `src`, refusing output over `max` bytes without producing it.
pub fn decompress(codec: Compression, src: &[u8], max: usize) -> Result<Vec<u8>, BatchError> {
    let fail = |reason: String| BatchError::Decompress { codec, reason };
    let too_large = BatchError::DecompressedTooLarge { codec, max };
    match codec {
        Compression::None => {
            if src.len() > max {
                return Err(too_large);
            }
            Ok(src.to_vec())
        }
        Compression::Gzip => read_bounded(flate2::read::GzDecoder::new(src), codec, max),
        Compression::Lz4 => read_bounded(lz4_flex::frame::FrameDecoder::new(src), codec, max),
        Compression::Zstd => {
            let d =
                zstd::stream::read::Decoder::with_buffer(src).map_err(|e| fail(e.to_string()))?;
            read_bounded(d, codec, max)
        }
        Compression::Snappy => {
            if src.starts_with(&XERIAL_MAGIC) {
                xerial(src, max)
            } else {
                let mut out = Vec::new();
                snappy_block(src, max, &mut out)?;
                Ok(out)
            }
        }
    }
}

fn read_bounded(r: impl Read, codec: Compression, max: usize) -> Result<Vec<u8>, BatchError> {
    let mut out = Vec::new();
    let limit = u64::try_from(max).unwrap_or(u64::MAX).saturating_add(1);
    r.take(limit)
        .read_to_end(&mut out)
        .map_err(|e| BatchError::Decompress {
            codec,
            reason: e.to_string(),
        })?;
    if out.len() > max {
        return Err(BatchError::DecompressedTooLarge { codec, max });
    }
    Ok(out)
}

/// Appends one raw snappy block to `out`, checking its declared length against the limit
/// before allocating.
fn snappy_block(src: &[u8], max: usize, out: &mut Vec<u8>) -> Result<(), BatchError> {
    let codec = Compression::Snappy;
    let len = snap::raw::decompress_len(src).map_err(|e| BatchError::Decompress {
        codec,
        reason: e.to_string(),
    })?;
    if out.len().saturating_add(len) > max {
        return Err(BatchError::DecompressedTooLarge { codec, max });
    }
    let start = out.len();
    out.resize(start.saturating_add(len), 0);
    let tail = out.get_mut(start..).unwrap_or_default();
    snap::raw::Decoder::new()
        .decompress(src, tail)
        .map_err(|e| BatchError::Decompress {
            codec,
            reason: e.to_string(),
        })?;
    Ok(())
}

fn xerial(src: &[u8], max: usize) -> Result<Vec<u8>, BatchError> {
    let fail = |reason: &str| BatchError::Decompress {
        codec: Compression::Snappy,
        reason: reason.to_string(),
    };
    let mut rest = src
        .get(XERIAL_HEADER_LEN..)
        .ok_or_else(|| fail("truncated xerial header"))?;
    let mut out = Vec::new();
    while !rest.is_empty() {
        let len_bytes = rest
            .get(..4)
            .and_then(|b| <[u8; 4]>::try_from(b).ok())
            .ok_or_else(|| fail("truncated xerial block length"))?;
        let len = u32::from_be_bytes(len_bytes) as usize;
        let block = rest
            .get(4..4usize.saturating_add(len))
            .ok_or_else(|| fail("xerial block runs past the records"))?;
        snappy_block(block, max, &mut out)?;
        rest = rest.get(4usize.saturating_add(len)..).unwrap_or_default();
    }
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]
mod tests {
    use super::*;

    fn sample() -> Vec<u8> {
        let mut v = Vec::new();
        for i in 0..2_000u32 {
            v.extend_from_slice(format!("{{\"id\":{i},\"kind\":\"order\"}}").as_bytes());
        }
        v
    }

    #[test]
    fn every_codec_round_trips() {
        let data = sample();
        for codec in Compression::ALL {
            let packed = compress(codec, &data);
            if codec != Compression::None {
                assert!(packed.len() < data.len() / 2, "{codec} compresses JSON");
            }
            assert_eq!(
                decompress(codec, &packed, data.len()).unwrap(),
                data,
                "{codec}"
            );
        }
    }

    #[test]
    fn decompression_stops_at_the_limit() {
        let data = sample();
        for codec in Compression::ALL {
            let packed = compress(codec, &data);
            let err = decompress(codec, &packed, data.len() - 1).unwrap_err();
            assert!(
                matches!(err, BatchError::DecompressedTooLarge { .. }),
                "{codec}: {err}"
            );
        }
    }

    #[test]
    fn xerial_framing_is_read() {
        let data = sample();
        let (a, b) = data.split_at(1_000);
        let mut framed = XERIAL_MAGIC.to_vec();
        framed.extend_from_slice(&1i32.to_be_bytes());
        framed.extend_from_slice(&1i32.to_be_bytes());
        for part in [a, b] {
            let block = snap::raw::Encoder::new().compress_vec(part).unwrap();
            framed.extend_from_slice(&(block.len() as u32).to_be_bytes());
            framed.extend_from_slice(&block);
        }
        assert_eq!(
            decompress(Compression::Snappy, &framed, 1 << 20).unwrap(),
            data
        );
        assert!(decompress(Compression::Snappy, &framed[..framed.len() - 1], 1 << 20).is_err());
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for codec in Compression::ALL {
            for junk in [
                &b""[..],
                b"\x00",
                b"\xff\xff\xff\xff\xff",
                &[0x1f, 0x8b, 8, 0, 0],
            ] {
                let _ = decompress(codec, junk, 1 << 20);
            }
        }
    }
}
