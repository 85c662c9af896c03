// SPDX-License-Identifier: GPL-2.0
//! Little-endian field access on byte buffers that came from the guest. Reads return None past
//! the end instead of panicking; writes past the end are dropped.

/// u8 at `o`.
pub fn get_u8(b: &[u8], o: usize) -> Option<u8> {
    b.get(o).copied()
}

/// u16 at `o`.
pub fn get_u16(b: &[u8], o: usize) -> Option<u16> {
    let s = b.get(o..o.checked_add(2)?)?;
    Some(u16::from_le_bytes([s[0], s[1]]))
}

/// u32 at `o`.
pub fn get_u32(b: &[u8], o: usize) -> Option<u32> {
    let s = b.get(o..o.checked_add(4)?)?;
    Some(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

/// u64 at `o`.
pub fn get_u64(b: &[u8], o: usize) -> Option<u64> {
    let s = b.get(o..o.checked_add(8)?)?;
    let mut a = [0u8; 8];
    a.copy_from_slice(s);
    Some(u64::from_le_bytes(a))
}

/// Writes `v` at `o`.
pub fn put_u32(b: &mut [u8], o: usize, v: u32) {
    put(b, o, &v.to_le_bytes());
}

/// Writes `v` at `o`.
pub fn put_u64(b: &mut [u8], o: usize, v: u64) {
    put(b, o, &v.to_le_bytes());
}

/// Writes `v` at `o`.
pub fn put_u16(b: &mut [u8], o: usize, v: u16) {
    put(b, o, &v.to_le_bytes());
}

/// Writes `v` at `o`.
pub fn put_u8(b: &mut [u8], o: usize, v: u8) {
    if let Some(d) = b.get_mut(o) {
        *d = v;
    }
}

/// Copies `v` to `o`.
pub fn put(b: &mut [u8], o: usize, v: &[u8]) {
    if let Some(d) = o.checked_add(v.len()).and_then(|e| b.get_mut(o..e)) {
        d.copy_from_slice(v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_are_checked() {
        let mut b = [0u8; 8];
        put_u32(&mut b, 4, 0xaabb_ccdd);
        assert_eq!(get_u32(&b, 4), Some(0xaabb_ccdd));
        assert_eq!(get_u16(&b, 6), Some(0xaabb));
        assert_eq!(get_u32(&b, 5), None);
        assert_eq!(get_u64(&b, 0), Some(0xaabb_ccdd_0000_0000));
        assert_eq!(get_u64(&b, usize::MAX), None);
        put_u64(&mut b, 4, 1);
        put_u16(&mut b, usize::MAX, 1);
        assert_eq!(get_u8(&b, 7), Some(0xaa));
    }
}
