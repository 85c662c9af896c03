// SPDX-License-Identifier: GPL-2.0

//! Writing a bit stream, most significant bit first, into the data codeword buffer.

/// The buffer ran out; the caller sized it from the capacity tables, so this means the
/// input does not fit.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Full;

/// Appends bits to a byte buffer. The buffer is cleared up front and bits are OR-ed in,
/// which also lets [`BitWriter::patch`] fill in a field that was reserved as zeros.
pub(crate) struct BitWriter<'a> {
    buf: &'a mut [u8],
    len: usize,
}

impl<'a> BitWriter<'a> {
    /// A writer over `buf`, which is zeroed.
    pub(crate) fn new(buf: &'a mut [u8]) -> Self {
        buf.fill(0);
        BitWriter { buf, len: 0 }
    }

    /// Number of bits written so far.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Capacity in bits.
    pub(crate) fn capacity(&self) -> usize {
        self.buf.len() * 8
    }

    /// Appends the low `count` bits of `value` (`count <= 32`), most significant first.
    pub(crate) fn push(&mut self, value: u32, count: u32) -> Result<(), Full> {
        or_bits(self.buf, self.len, value, count)?;
        self.len += count as usize;
        Ok(())
    }

    /// Writes `value` into `count` bits at bit offset `at`, which must still be zero
    /// (a field reserved earlier with `push(0, count)`).
    pub(crate) fn patch(&mut self, at: usize, value: u32, count: u32) -> Result<(), Full> {
        if at.saturating_add(count as usize) > self.len {
            return Err(Full);
        }
        or_bits(self.buf, at, value, count)
    }

    /// Ends the bit stream as ISO/IEC 18004 §7.4.9 and §7.4.10 say: a terminator of up to
    /// four zero bits, zero bits up to the next byte boundary, then the pad codewords
    /// 0xEC and 0x11 alternately until the buffer is full.
    pub(crate) fn finish_with_padding(mut self) {
        // The terminator and the bits up to the byte boundary are zeros, which the buffer
        // already holds: only the length moves.
        let terminator = (self.capacity() - self.len.min(self.capacity())).min(4);
        self.len += terminator;
        let first_pad = self.len.div_ceil(8);
        let pads = [0xEC, 0x11];
        for (byte, pad) in self.buf.iter_mut().skip(first_pad).zip(pads.iter().cycle()) {
            *byte = *pad;
        }
    }
}

/// ORs the low `count` bits of `value` into `buf` starting at bit `at`.
fn or_bits(buf: &mut [u8], at: usize, value: u32, count: u32) -> Result<(), Full> {
    if count > 32 || at.saturating_add(count as usize) > buf.len() * 8 {
        return Err(Full);
    }
    let mut pos = at;
    let mut remaining = count;
    while remaining > 0 {
        let used = (pos % 8) as u32;
        let take = (8 - used).min(remaining);
        // The `take` bits of `value` just below the `remaining - take` bits still to go.
        let chunk = (value >> (remaining - take)) & ((1u32 << take) - 1);
        let byte = buf.get_mut(pos / 8).ok_or(Full)?;
        *byte |= (chunk << (8 - used - take)) as u8;
        pos += take as usize;
        remaining -= take;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packs_msb_first_across_bytes() {
        let mut buf = [0u8; 4];
        let mut w = BitWriter::new(&mut buf);
        w.push(0b0001, 4).unwrap();
        w.push(0b00_0000_1000, 10).unwrap();
        w.push(0b111, 3).unwrap();
        assert_eq!(w.len(), 17);
        assert_eq!(buf, [0b0001_0000, 0b0010_0011, 0b1000_0000, 0]);
    }

    #[test]
    fn patch_fills_reserved_field() {
        let mut buf = [0u8; 2];
        let mut w = BitWriter::new(&mut buf);
        w.push(0b1, 1).unwrap();
        w.push(0, 9).unwrap();
        w.patch(1, 0x1FF, 9).unwrap();
        assert_eq!(w.patch(8, 0, 9), Err(Full));
        assert_eq!(buf, [0xFF, 0xC0]);
    }

    #[test]
    fn overflow_is_an_error() {
        let mut buf = [0u8; 1];
        let mut w = BitWriter::new(&mut buf);
        w.push(0, 7).unwrap();
        assert_eq!(w.push(0, 2), Err(Full));
        assert_eq!(w.push(0, 33), Err(Full));
    }

    #[test]
    fn padding_follows_the_standard() {
        // Terminator, then bits to the boundary, then EC 11 EC ...
        let mut buf = [0xAAu8; 5];
        let mut w = BitWriter::new(&mut buf);
        w.push(0b101, 3).unwrap();
        w.finish_with_padding();
        assert_eq!(buf, [0b1010_0000, 0xEC, 0x11, 0xEC, 0x11]);

        // Short terminator when the capacity ends first.
        let mut buf = [0u8; 1];
        let mut w = BitWriter::new(&mut buf);
        w.push(0b111_1111, 7).unwrap();
        w.finish_with_padding();
        assert_eq!(buf, [0xFE]);
    }
}
