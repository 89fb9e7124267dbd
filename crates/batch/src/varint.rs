//! Kafka's variable-length integers: zig-zag mapped, then unsigned LEB128. A `varint` is a
//! 32-bit value (at most 5 bytes), a `varlong` a 64-bit one (at most 10 bytes).

use bytes::BufMut;

/// Longest encoding of a 32-bit varint.
const VARINT_BYTES_MAX: usize = 5;
/// Longest encoding of a 64-bit varlong.
const VARLONG_BYTES_MAX: usize = 10;

/// Zig-zag maps a signed value so that small magnitudes encode short.
pub(crate) fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

/// Inverse of [`zigzag`].
pub(crate) fn unzigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ ((v & 1) as i64).wrapping_neg()
}

/// Appends `v` zig-zag encoded (a varint when it fits 32 bits, else a varlong).
pub(crate) fn put_varlong(dst: &mut impl BufMut, v: i64) {
    let mut u = zigzag(v);
    while u >= 0x80 {
        dst.put_u8((u as u8) | 0x80);
        u >>= 7;
    }
    dst.put_u8(u as u8);
}

/// Bytes `v` takes zig-zag encoded.
pub(crate) fn varlong_len(v: i64) -> usize {
    let mut u = zigzag(v);
    let mut n = 1usize;
    while u >= 0x80 {
        u >>= 7;
        n = n.saturating_add(1);
    }
    n
}

/// Bytes a length takes as a varint (lengths are never negative).
pub(crate) fn len_len(len: usize) -> usize {
    varlong_len(i64::try_from(len).unwrap_or(i64::MAX))
}

/// Reads LEB128 of at most `max_bytes` from the front of `src`.
#[inline]
fn get_leb(src: &[u8], max_bytes: usize, bits: u32) -> Option<(u64, usize)> {
    // Most lengths and deltas fit in one byte.
    if let Some(&byte) = src.first() {
        if byte < 0x80 {
            return Some((u64::from(byte), 1));
        }
    }
    let mut value = 0u64;
    for (i, &byte) in src.iter().take(max_bytes).enumerate() {
        // i < max_bytes <= 10, so shift <= 63: every shift below is in range.
        let shift = (i as u32).saturating_mul(7);
        let part = u64::from(byte & 0x7f);
        // The last byte may only carry the bits left of the width.
        let room = bits.saturating_sub(shift);
        if room < 7 && part.checked_shr(room).unwrap_or(0) != 0 {
            return None;
        }
        value |= part.checked_shl(shift).unwrap_or(0);
        if byte & 0x80 == 0 {
            return Some((value, i.saturating_add(1)));
        }
    }
    None
}

/// Reads a 32-bit varint; `None` on truncation or an over-long encoding.
#[inline]
pub(crate) fn get_varint(src: &[u8]) -> Option<(i32, usize)> {
    let (u, used) = get_leb(src, VARINT_BYTES_MAX, 32)?;
    Some((unzigzag(u) as i32, used))
}

/// Reads a 64-bit varlong; `None` on truncation or an over-long encoding.
#[inline]
pub(crate) fn get_varlong(src: &[u8]) -> Option<(i64, usize)> {
    let (u, used) = get_leb(src, VARLONG_BYTES_MAX, 64)?;
    Some((unzigzag(u), used))
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_at_the_edges() {
        for v in [0i64, 1, -1, 63, -64, 64, i32::MAX.into(), i32::MIN.into()] {
            let mut buf = Vec::new();
            put_varlong(&mut buf, v);
            assert_eq!(buf.len(), varlong_len(v));
            assert_eq!(get_varint(&buf), Some((v as i32, buf.len())));
            assert_eq!(get_varlong(&buf), Some((v, buf.len())));
            for cut in 0..buf.len() {
                assert_eq!(get_varint(&buf[..cut]), None);
            }
        }
        for v in [i64::MAX, i64::MIN, 1 << 40] {
            let mut buf = Vec::new();
            put_varlong(&mut buf, v);
            assert_eq!(get_varlong(&buf), Some((v, buf.len())));
            assert_eq!(get_varint(&buf), None, "{v} does not fit a varint");
        }
    }

    #[test]
    fn kafka_examples_decode() {
        // From the Kafka protocol guide: 0 -> 00, -1 -> 01, 1 -> 02, -2 -> 03, 300 -> d8 04.
        assert_eq!(get_varint(&[0x00]), Some((0, 1)));
        assert_eq!(get_varint(&[0x01]), Some((-1, 1)));
        assert_eq!(get_varint(&[0x02]), Some((1, 1)));
        assert_eq!(get_varint(&[0x03]), Some((-2, 1)));
        assert_eq!(get_varint(&[0xd8, 0x04]), Some((300, 2)));
    }

    #[test]
    fn overlong_encodings_are_refused() {
        assert_eq!(get_varlong(&[0xff; 11]), None);
        assert_eq!(get_varint(&[0xff, 0xff, 0xff, 0xff, 0x1f]), None);
        let mut too_big = vec![0xff; 9];
        too_big.push(0x02);
        assert_eq!(get_varlong(&too_big), None);
    }
}
