// SPDX-License-Identifier: GPL-2.0

//! One row (or column) of modules as a 192-bit set, so that masks and penalty rules work
//! on 64 modules per instruction.

use core::ops::{BitAnd, BitOr, BitXor, Not};

/// Number of 64-bit words in a line: 3 * 64 = 192 >= 177, the widest symbol.
const WORDS: usize = 3;

/// Number of modules a line can hold.
pub(crate) const LINE_BITS: usize = WORDS * 64;

/// A row of up to 192 modules. Module `x` is bit `63 - x % 64` of word `x / 64`: the
/// most significant bit comes first, as in the matrix bytes, so that loading a row is a
/// big-endian read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Line(pub(crate) [u64; WORDS]);

impl Line {
    /// No module set.
    pub(crate) const ZERO: Line = Line([0; WORDS]);

    /// The modules `from..to` (clamped to the line).
    pub(crate) const fn range(from: usize, to: usize) -> Line {
        let mut words = [0u64; WORDS];
        let mut w = 0;
        while w < WORDS {
            let start = w * 64;
            let lo = from.saturating_sub(start);
            let hi = if to < start + 64 {
                to.saturating_sub(start)
            } else {
                64
            };
            if lo < hi {
                // Bits lo..hi counted from the most significant one.
                let ones = if hi - lo == 64 {
                    u64::MAX
                } else {
                    ((1u64 << (hi - lo)) - 1) << (64 - hi)
                };
                words = set_word(words, w, ones);
            }
            w += 1;
        }
        Line(words)
    }

    /// Whether module `x` is set.
    pub(crate) fn get(&self, x: usize) -> bool {
        self.0
            .get(x / 64)
            .is_some_and(|word| word & (1 << (63 - x % 64)) != 0)
    }

    /// Sets module `x` (ignored past the end).
    pub(crate) fn set(&mut self, x: usize) {
        if let Some(word) = self.0.get_mut(x / 64) {
            *word |= 1 << (63 - x % 64);
        }
    }

    /// The line moved towards column 0 by `k`: `result[x] = self[x + k]`, with zeros
    /// coming in past the end.
    #[inline(always)]
    pub(crate) fn shl(self, k: u32) -> Line {
        let [a, b, c] = self.0;
        Line([
            a.checked_shl(k).unwrap_or(0) | b.checked_shr(64 - k).unwrap_or(0),
            b.checked_shl(k).unwrap_or(0) | c.checked_shr(64 - k).unwrap_or(0),
            c.checked_shl(k).unwrap_or(0),
        ])
    }

    /// The line moved away from column 0 by `k`: `result[x] = self[x - k]`, with zeros
    /// for `x < k`.
    #[inline(always)]
    pub(crate) fn shr(self, k: u32) -> Line {
        let [a, b, c] = self.0;
        Line([
            a.checked_shr(k).unwrap_or(0),
            b.checked_shr(k).unwrap_or(0) | a.checked_shl(64 - k).unwrap_or(0),
            c.checked_shr(k).unwrap_or(0) | b.checked_shl(64 - k).unwrap_or(0),
        ])
    }

    /// Number of modules set.
    #[inline(always)]
    pub(crate) fn count(self) -> u32 {
        self.0.iter().map(|word| word.count_ones()).sum()
    }

    /// Reads a line from matrix bytes (most significant bit first); missing bytes are 0.
    pub(crate) fn from_bytes(bytes: &[u8]) -> Line {
        let mut padded = [0u8; WORDS * 8];
        for (slot, byte) in padded.iter_mut().zip(bytes) {
            *slot = *byte;
        }
        let mut words = [0u64; WORDS];
        for (word, chunk) in words.iter_mut().zip(padded.chunks_exact(8)) {
            *word = u64::from_be_bytes(<[u8; 8]>::try_from(chunk).unwrap_or_default());
        }
        Line(words)
    }

    /// Writes the line into matrix bytes (as many as `bytes` holds, up to 24).
    pub(crate) fn to_bytes(self, bytes: &mut [u8]) {
        let mut out = bytes.iter_mut();
        for word in self.0 {
            for byte in word.to_be_bytes() {
                match out.next() {
                    Some(slot) => *slot = byte,
                    None => return,
                }
            }
        }
    }
}

/// `words[index] = value` in a `const fn` (where `get_mut` is not available); an index
/// out of range leaves the array unchanged.
#[allow(clippy::indexing_slicing)] // `index` is compared with the length just before.
const fn set_word(mut words: [u64; WORDS], index: usize, value: u64) -> [u64; WORDS] {
    if index < WORDS {
        words[index] = value;
    }
    words
}

impl BitAnd for Line {
    type Output = Line;
    #[inline(always)]
    fn bitand(self, rhs: Line) -> Line {
        let [a, b, c] = self.0;
        let [x, y, z] = rhs.0;
        Line([a & x, b & y, c & z])
    }
}

impl BitOr for Line {
    type Output = Line;
    #[inline(always)]
    fn bitor(self, rhs: Line) -> Line {
        let [a, b, c] = self.0;
        let [x, y, z] = rhs.0;
        Line([a | x, b | y, c | z])
    }
}

impl BitXor for Line {
    type Output = Line;
    #[inline(always)]
    fn bitxor(self, rhs: Line) -> Line {
        let [a, b, c] = self.0;
        let [x, y, z] = rhs.0;
        Line([a ^ x, b ^ y, c ^ z])
    }
}

impl Not for Line {
    type Output = Line;
    #[inline(always)]
    fn not(self) -> Line {
        let [a, b, c] = self.0;
        Line([!a, !b, !c])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from_modules(modules: &[usize]) -> Line {
        let mut line = Line::ZERO;
        for &x in modules {
            line.set(x);
        }
        line
    }

    #[test]
    fn ranges_and_bits() {
        let line = Line::range(60, 130);
        for x in 0..LINE_BITS {
            assert_eq!(line.get(x), (60..130).contains(&x), "{x}");
        }
        assert_eq!(Line::range(0, LINE_BITS).count(), 192);
        assert_eq!(Line::range(5, 5), Line::ZERO);
        assert_eq!(Line::range(150, 500).count(), 42);
    }

    #[test]
    fn shifts_move_modules() {
        let line = from_modules(&[0, 10, 63, 64, 100, 191]);
        assert_eq!(line.shl(1), from_modules(&[9, 62, 63, 99, 190]));
        assert_eq!(line.shr(1), from_modules(&[1, 11, 64, 65, 101]));
        assert_eq!(line.shl(10), from_modules(&[0, 53, 54, 90, 181]));
        assert_eq!(line.shr(64), from_modules(&[64, 74, 127, 128, 164]));
        assert_eq!(line.shl(0), line);
        assert_eq!(line.shr(0), line);
    }

    #[test]
    fn byte_round_trip() {
        let bytes: [u8; 23] = core::array::from_fn(|i| (i as u8).wrapping_mul(151));
        let line = Line::from_bytes(&bytes);
        assert_eq!(line.get(0), bytes[0] & 0x80 != 0);
        let mut out = [0u8; 23];
        line.to_bytes(&mut out);
        assert_eq!(out, bytes);
    }
}
