//! The fixed 40-byte frame header: layout, flags and the header checksum.
//!
//! ```text
//! offset size field
//!  0     4    magic          "MSTR"
//!  4     1    version        1
//!  5     1    opcode
//!  6     2    flags          bit 0 RESPONSE, bit 1 ERROR, bit 2 END_OF_STREAM
//!  8     4    stream_id
//! 12     4    payload_len
//! 16     8    correlation_id
//! 24     8    timestamp_ns
//! 32     4    payload_crc    CRC32C of the payload, 0 when empty
//! 36     4    header_crc     CRC32C of bytes 0..36
//! ```
//!
//! All integers are little-endian. [`FrameHeader::decode`] checks, in this order: magic,
//! version, header checksum, reserved flag bits, length limit. The version comes before the
//! checksum so that a peer speaking a future header layout is told `UNSUPPORTED_VERSION`
//! rather than `HEADER_CHECKSUM`.

use crate::error::FrameError;

/// Length of every frame header in bytes.
pub const HEADER_LEN: usize = 40;
/// The magic bytes that open every frame: ASCII `MSTR`.
pub const MAGIC: [u8; 4] = *b"MSTR";
/// The header layout version this crate reads and writes.
pub const PROTOCOL_VERSION: u8 = 1;

/// Frame flag bits. Bits not named here are reserved and must be zero.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Flags(u16);

impl Flags {
    /// The frame answers a request; it echoes the request's opcode and correlation id.
    pub const RESPONSE: Flags = Flags(1 << 0);
    /// The frame carries an [`ErrorBody`](crate::ErrorBody) instead of the normal payload.
    pub const ERROR: Flags = Flags(1 << 1);
    /// The last frame of a logical stream (used by multiplexed streams in later versions).
    pub const END_OF_STREAM: Flags = Flags(1 << 2);
    /// Every bit this version defines.
    pub const KNOWN: Flags = Flags(0b111);
    /// No flags.
    pub const NONE: Flags = Flags(0);

    /// Builds flags from raw bits, refusing reserved bits.
    pub fn from_bits(bits: u16) -> Option<Flags> {
        (bits & !Self::KNOWN.0 == 0).then_some(Flags(bits))
    }

    /// The raw bits.
    pub fn bits(self) -> u16 {
        self.0
    }

    /// True when every bit of `other` is set in `self`.
    pub fn contains(self, other: Flags) -> bool {
        self.0 & other.0 == other.0
    }
}

impl std::ops::BitOr for Flags {
    type Output = Flags;
    fn bitor(self, rhs: Flags) -> Flags {
        Flags(self.0 | rhs.0)
    }
}

/// A decoded frame header. `payload_len` and `payload_crc` describe the payload that follows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameHeader {
    /// Operation number; see [`Opcode`](crate::Opcode). Kept raw so that an unknown opcode is a
    /// request-level error, reported after the frame-level checks.
    pub opcode: u8,
    /// Flag bits.
    pub flags: Flags,
    /// Logical stream on the connection; 0 is the connection itself.
    pub stream_id: u32,
    /// Bytes of payload after the header.
    pub payload_len: u32,
    /// Chosen by the requester and echoed in the response.
    pub correlation_id: u64,
    /// Sender's clock in nanoseconds since the Unix epoch; 0 when unset.
    pub timestamp_ns: u64,
    /// CRC32C of the payload; 0 when the payload is empty.
    pub payload_crc: u32,
}

impl FrameHeader {
    /// Writes the header, computing the header checksum, into exactly 40 bytes.
    pub fn encode(&self, dst: &mut [u8; HEADER_LEN]) {
        dst[0..4].copy_from_slice(&MAGIC);
        dst[4] = PROTOCOL_VERSION;
        dst[5] = self.opcode;
        dst[6..8].copy_from_slice(&self.flags.0.to_le_bytes());
        dst[8..12].copy_from_slice(&self.stream_id.to_le_bytes());
        dst[12..16].copy_from_slice(&self.payload_len.to_le_bytes());
        dst[16..24].copy_from_slice(&self.correlation_id.to_le_bytes());
        dst[24..32].copy_from_slice(&self.timestamp_ns.to_le_bytes());
        dst[32..36].copy_from_slice(&self.payload_crc.to_le_bytes());
        let crc = crc32c::crc32c(&dst[0..36]);
        dst[36..40].copy_from_slice(&crc.to_le_bytes());
    }

    /// Parses and checks a header. `max_frame_bytes` bounds header plus payload.
    ///
    /// Everything is decided from these 40 bytes: nothing of the payload needs to be read or
    /// allocated to reject a frame.
    pub fn decode(src: &[u8; HEADER_LEN], max_frame_bytes: u32) -> Result<FrameHeader, FrameError> {
        let magic = [src[0], src[1], src[2], src[3]];
        if magic != MAGIC {
            return Err(FrameError::BadMagic { found: magic });
        }
        if src[4] != PROTOCOL_VERSION {
            return Err(FrameError::UnsupportedVersion { found: src[4] });
        }
        let stored = le_u32(src, 36);
        let computed = crc32c::crc32c(&src[0..36]);
        if stored != computed {
            return Err(FrameError::HeaderChecksum { stored, computed });
        }
        let raw_flags = u16::from_le_bytes([src[6], src[7]]);
        let header = FrameHeader {
            opcode: src[5],
            flags: Flags(raw_flags),
            stream_id: le_u32(src, 8),
            payload_len: le_u32(src, 12),
            correlation_id: le_u64(src, 16),
            timestamp_ns: le_u64(src, 24),
            payload_crc: le_u32(src, 32),
        };
        if Flags::from_bits(raw_flags).is_none() {
            return Err(FrameError::ReservedFlags { header });
        }
        let frame_len = (HEADER_LEN as u64).saturating_add(u64::from(header.payload_len));
        if frame_len > u64::from(max_frame_bytes) {
            return Err(FrameError::TooLarge {
                header,
                frame_len,
                max_frame_bytes,
            });
        }
        Ok(header)
    }
}

/// The `N` bytes at `at` of a header (zeros past its end, which the fixed field offsets
/// below `HEADER_LEN` never reach).
fn field<const N: usize>(src: &[u8; HEADER_LEN], at: usize) -> [u8; N] {
    src.get(at..at.saturating_add(N))
        .and_then(|b| <[u8; N]>::try_from(b).ok())
        .unwrap_or([0; N])
}

fn le_u32(src: &[u8; HEADER_LEN], at: usize) -> u32 {
    u32::from_le_bytes(field(src, at))
}

fn le_u64(src: &[u8; HEADER_LEN], at: usize) -> u64 {
    u64::from_le_bytes(field(src, at))
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]
mod tests {
    use super::*;

    fn sample() -> FrameHeader {
        FrameHeader {
            opcode: 2,
            flags: Flags::RESPONSE,
            stream_id: 7,
            payload_len: 5,
            correlation_id: 0x0102_0304_0506_0708,
            timestamp_ns: 42,
            payload_crc: 0xdead_beef,
        }
    }

    #[test]
    fn round_trip() {
        let mut buf = [0u8; HEADER_LEN];
        sample().encode(&mut buf);
        assert_eq!(FrameHeader::decode(&buf, 1024).unwrap(), sample());
    }

    #[test]
    fn every_single_bit_flip_is_rejected() {
        let mut good = [0u8; HEADER_LEN];
        sample().encode(&mut good);
        for bit in 0..HEADER_LEN * 8 {
            let mut bad = good;
            bad[bit / 8] ^= 1 << (bit % 8);
            assert!(
                FrameHeader::decode(&bad, u32::MAX).is_err(),
                "flip of bit {bit} went unnoticed"
            );
        }
    }

    #[test]
    fn reserved_flags_are_rejected_after_the_checksum() {
        let mut h = sample();
        h.flags = Flags(1 << 9);
        let mut buf = [0u8; HEADER_LEN];
        h.encode(&mut buf);
        assert!(matches!(
            FrameHeader::decode(&buf, 1024),
            Err(FrameError::ReservedFlags { .. })
        ));
    }

    #[test]
    fn length_limit_counts_the_header() {
        let mut h = sample();
        h.payload_len = 24;
        let mut buf = [0u8; HEADER_LEN];
        h.encode(&mut buf);
        assert!(FrameHeader::decode(&buf, 64).is_ok());
        assert!(matches!(
            FrameHeader::decode(&buf, 63),
            Err(FrameError::TooLarge { frame_len: 64, .. })
        ));
    }
}
