//! Unsigned LEB128 varints and zigzag encoding for signed values.

use bytes::BufMut;

/// Longest encoding of a `u64`.
pub(crate) const VARINT_BYTES_MAX: usize = 10;

/// Appends `v` as an unsigned LEB128 varint.
pub(crate) fn put_uvarint(dst: &mut impl BufMut, mut v: u64) {
    while v >= 0x80 {
        dst.put_u8((v as u8) | 0x80);
        v >>= 7;
    }
    dst.put_u8(v as u8);
}

/// Bytes `v` takes as a varint.
pub(crate) fn uvarint_len(mut v: u64) -> usize {
    let mut n = 1;
    while v >= 0x80 {
        v >>= 7;
        n += 1;
    }
    n
}

/// Reads a varint from the front of `src`; returns the value and the bytes it took. `None` on
/// truncation or an encoding longer than 10 bytes or overflowing 64 bits.
#[inline]
pub(crate) fn get_uvarint(src: &[u8]) -> Option<(u64, usize)> {
    // Most lengths and deltas fit in one byte.
    if let Some(&byte) = src.first() {
        if byte < 0x80 {
            return Some((u64::from(byte), 1));
        }
    }
    let mut value = 0u64;
    for (i, &byte) in src.iter().take(VARINT_BYTES_MAX).enumerate() {
        let bits = u64::from(byte & 0x7f);
        if i == VARINT_BYTES_MAX - 1 && bits > 1 {
            return None;
        }
        value |= bits << (7 * i);
        if byte & 0x80 == 0 {
            return Some((value, i + 1));
        }
    }
    None
}

/// Zigzag-maps a signed value so small magnitudes encode short.
pub(crate) fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

/// Inverse of [`zigzag`].
pub(crate) fn unzigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_at_the_edges() {
        for v in [
            0,
            1,
            127,
            128,
            16_383,
            16_384,
            u64::from(u32::MAX),
            u64::MAX,
        ] {
            let mut buf = Vec::new();
            put_uvarint(&mut buf, v);
            assert_eq!(buf.len(), uvarint_len(v));
            assert_eq!(get_uvarint(&buf), Some((v, buf.len())));
            for cut in 0..buf.len() {
                assert_eq!(get_uvarint(&buf[..cut]), None);
            }
        }
        for v in [0i64, 1, -1, 63, -64, i64::MAX, i64::MIN] {
            assert_eq!(unzigzag(zigzag(v)), v);
        }
    }

    #[test]
    fn overlong_encodings_are_refused() {
        assert_eq!(get_uvarint(&[0xff; 11]), None);
        let mut too_big = vec![0xff; 9];
        too_big.push(0x02);
        assert_eq!(get_uvarint(&too_big), None);
    }
}
