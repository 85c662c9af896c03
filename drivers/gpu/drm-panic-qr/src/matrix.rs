// SPDX-License-Identifier: GPL-2.0

//! The module matrix: function patterns, codeword placement, masking, and the format and
//! version information (ISO/IEC 18004:2015 §6.3, §7.7 to §7.10).
//!
//! The matrix lives in the caller's buffer as rows of bits (see the crate documentation);
//! a set bit is a dark module.

use crate::line::{Line, LINE_BITS};
use crate::mask::mask_line;
use crate::tables::{alignment_positions, MAX_ALIGNMENT};
use crate::{EcLevel, Mask, Version};

/// The symbol being built, in the caller's matrix buffer.
pub(crate) struct Matrix<'a> {
    bytes: &'a mut [u8],
    version: Version,
    function: FunctionModules,
}

impl<'a> Matrix<'a> {
    /// Takes the first [`Version::matrix_len`] bytes of `buffer` and clears them (all
    /// light). `None` if the buffer is too short.
    pub(crate) fn new(buffer: &'a mut [u8], version: Version) -> Option<Self> {
        let bytes = buffer.get_mut(..version.matrix_len())?;
        bytes.fill(0);
        Some(Matrix {
            bytes,
            version,
            function: FunctionModules::new(version),
        })
    }

    /// Which modules of this symbol are function modules.
    pub(crate) fn function_modules(&self) -> &FunctionModules {
        &self.function
    }

    pub(crate) fn width(&self) -> usize {
        self.version.width()
    }

    /// Gives the finished matrix back as the caller's bytes.
    pub(crate) fn into_bytes(self) -> &'a [u8] {
        self.bytes
    }

    fn row_bytes(&self, y: usize) -> Option<&[u8]> {
        let pitch = self.version.matrix_pitch();
        self.bytes.get(y * pitch..(y + 1) * pitch)
    }

    fn row_bytes_mut(&mut self, y: usize) -> Option<&mut [u8]> {
        let pitch = self.version.matrix_pitch();
        self.bytes.get_mut(y * pitch..(y + 1) * pitch)
    }

    /// Row `y` as a line (zero past the right edge).
    pub(crate) fn row(&self, y: usize) -> Line {
        self.row_bytes(y).map_or(Line::ZERO, Line::from_bytes)
    }

    fn store_row(&mut self, y: usize, line: Line) {
        if let Some(bytes) = self.row_bytes_mut(y) {
            line.to_bytes(bytes);
        }
    }

    /// Makes module (`x`, `y`) dark. Outside the symbol, does nothing.
    fn set(&mut self, x: usize, y: usize) {
        if x < self.width() {
            if let Some(byte) = self.row_bytes_mut(y).and_then(|row| row.get_mut(x / 8)) {
                *byte |= 0x80 >> (x % 8);
            }
        }
    }

    /// Finder, timing and alignment patterns, the version information and the dark
    /// module. Separators and the other light modules are already light. The format
    /// information depends on the mask and is drawn last.
    pub(crate) fn draw_function_patterns(&mut self) {
        let width = self.width();

        // Timing patterns (§6.3.5): row 6 and column 6 alternate between the finders,
        // dark on even coordinates.
        for k in (8..width - 8).step_by(2) {
            self.set(k, 6);
            self.set(6, k);
        }

        // Finder patterns (§6.3.3): a dark 7x7 ring around a light 5x5 ring around a dark
        // 3x3 square, in three corners.
        for (left, top) in [(0, 0), (width - 7, 0), (0, width - 7)] {
            for dy in 0..7 {
                for dx in 0..7 {
                    let ring = dx == 0 || dx == 6 || dy == 0 || dy == 6;
                    let centre = (2..=4).contains(&dx) && (2..=4).contains(&dy);
                    if ring || centre {
                        self.set(left + dx, top + dy);
                    }
                }
            }
        }

        // Alignment patterns (§6.3.6): a dark 5x5 ring, a light 3x3 ring, a dark centre.
        for_each_alignment_centre(self.version, |cx, cy| {
            for dy in 0..5 {
                for dx in 0..5 {
                    let ring = dx == 0 || dx == 4 || dy == 0 || dy == 4;
                    if ring || (dx == 2 && dy == 2) {
                        self.set(cx + dx - 2, cy + dy - 2);
                    }
                }
            }
        });

        // Version information (§7.10), versions 7 and up: bit i of the 18-bit word goes to
        // column `width - 11 + i % 3`, row `i / 3` (the 3x6 block left of the top-right
        // finder) and to the mirror image across the diagonal (the 6x3 block above the
        // bottom-left finder).
        if self.version.number() >= 7 {
            let bits = version_bits(self.version);
            for i in 0..18 {
                if bits >> i & 1 != 0 {
                    let (a, b) = (width - 11 + i % 3, i / 3);
                    self.set(a, b);
                    self.set(b, a);
                }
            }
        }

        // The dark module (§7.9.1), beside the bottom-left finder.
        self.set(8, width - 8);
    }

    /// Places the codewords in the data region (§7.7.3): in two-module-wide columns from
    /// the right edge to the left, going up then down alternately, right module before
    /// left module, skipping function modules and the vertical timing pattern. The bits of
    /// each codeword go most significant first. Modules left over (remainder bits) stay
    /// light.
    pub(crate) fn place_codewords(&mut self, codewords: impl Iterator<Item = u8>) {
        let width = self.width();
        let mut bits = Bits::new(codewords);
        let mut right = width - 1;
        let mut upward = true;
        loop {
            // Column 6 is the timing pattern: the pair left of it is (5, 4).
            if right == 6 {
                right = 5;
            }
            let left = right - 1;
            // The function-module layout is symmetric about the diagonal, so the
            // function modules of column x are those of row x.
            let reserved_right = self.function.line(right);
            let reserved_left = self.function.line(left);
            for step in 0..width {
                let y = if upward { width - 1 - step } else { step };
                if !reserved_right.get(y) && bits.next_bit() {
                    self.set(right, y);
                }
                if !reserved_left.get(y) && bits.next_bit() {
                    self.set(left, y);
                }
            }
            upward = !upward;
            if right < 3 {
                break;
            }
            right -= 2;
        }
    }

    /// XORs the data modules with `mask` (§7.8.2); function modules are left alone.
    pub(crate) fn apply_mask(&mut self, mask: Mask) {
        for y in 0..self.width() {
            let masked = self.row(y) ^ (mask_line(mask, y) & !self.function.line(y));
            self.store_row(y, masked);
        }
    }

    /// Draws both copies of the format information for `level` and `mask` (§7.9.1). The
    /// modules must still be light.
    pub(crate) fn draw_format_bits(&mut self, level: EcLevel, mask: Mask) {
        let overlay = FormatOverlay::new(self.width(), level, mask);
        for y in 0..self.width() {
            let extra = overlay.for_row(y);
            if extra != Line::ZERO {
                let row = self.row(y) | extra;
                self.store_row(y, row);
            }
        }
    }
}

/// Reads codewords bit by bit, most significant first; `false` once they run out.
struct Bits<I> {
    codewords: I,
    current: u8,
    left: u32,
}

impl<I: Iterator<Item = u8>> Bits<I> {
    fn new(codewords: I) -> Self {
        Bits {
            codewords,
            current: 0,
            left: 0,
        }
    }

    fn next_bit(&mut self) -> bool {
        if self.left == 0 {
            match self.codewords.next() {
                Some(byte) => {
                    self.current = byte;
                    self.left = 8;
                }
                None => return false,
            }
        }
        self.left -= 1;
        (self.current >> self.left) & 1 != 0
    }
}

/// Calls `f(x, y)` with the centre of every alignment pattern: all pairs of coordinates
/// from Annex E except the three that would overlap a finder pattern.
fn for_each_alignment_centre(version: Version, mut f: impl FnMut(usize, usize)) {
    let (positions, count) = alignment_positions(version);
    let last = count.saturating_sub(1);
    for (i, y) in positions.iter().take(count).enumerate() {
        for (j, x) in positions.iter().take(count).enumerate() {
            let on_finder = (i == 0 && (j == 0 || j == last)) || (i == last && j == 0);
            if !on_finder {
                f(*x, *y);
            }
        }
    }
}

/// Which modules are function modules, row by row: finder patterns with their separators
/// and the format information around them (the 9x9, 9x8 and 8x9 corner areas), the
/// timing patterns (row and column 6), alignment patterns, version information (6x3
/// areas, versions 7 and up) and the dark module.
///
/// The layout is symmetric about the main diagonal, so row `i` also describes column `i`.
pub(crate) struct FunctionModules {
    version: Version,
    /// Alignment pattern coordinates.
    alignment: [usize; MAX_ALIGNMENT],
    alignment_count: usize,
    /// Columns covered by alignment patterns in a row that crosses a row of them: all of
    /// them, and the two exceptions where finders take the place of some patterns.
    alignment_columns: Line,
    alignment_columns_first_row: Line,
    alignment_columns_last_row: Line,
}

impl FunctionModules {
    pub(crate) fn new(version: Version) -> Self {
        let (alignment, alignment_count) = alignment_positions(version);
        let mut all = Line::ZERO;
        let mut first_row = Line::ZERO;
        let mut last_row = Line::ZERO;
        let last = alignment_count.saturating_sub(1);
        for (j, x) in alignment.iter().take(alignment_count).enumerate() {
            let columns = Line::range(x - 2, x + 3);
            all = all | columns;
            // Row 6 has finders at both ends; the last row has one at the left end.
            if j != 0 && j != last {
                first_row = first_row | columns;
            }
            if j != 0 {
                last_row = last_row | columns;
            }
        }
        FunctionModules {
            version,
            alignment,
            alignment_count,
            alignment_columns: all,
            alignment_columns_first_row: first_row,
            alignment_columns_last_row: last_row,
        }
    }

    /// The function modules of row `i` (equally, of column `i`), plus every bit past the
    /// right edge so that masks never touch the padding.
    pub(crate) fn line(&self, i: usize) -> Line {
        let width = self.version.width();
        if i == 6 || i >= width {
            return Line::range(0, LINE_BITS);
        }
        let mut line = Line::range(width, LINE_BITS);
        line.set(6);
        if i <= 8 {
            line = line | Line::range(0, 9) | Line::range(width - 8, width);
        } else if i >= width - 8 {
            line = line | Line::range(0, 9);
        }
        if self.version.number() >= 7 {
            if i < 6 {
                line = line | Line::range(width - 11, width - 8);
            } else if (width - 11..width - 8).contains(&i) {
                line = line | Line::range(0, 6);
            }
        }
        let last = self.alignment_count.saturating_sub(1);
        for (k, y) in self.alignment.iter().take(self.alignment_count).enumerate() {
            if y.abs_diff(i) <= 2 {
                line = line
                    | if k == 0 {
                        self.alignment_columns_first_row
                    } else if k == last {
                        self.alignment_columns_last_row
                    } else {
                        self.alignment_columns
                    };
            }
        }
        line
    }
}

/// The function modules of row (or column) `i` of `version`; see [`FunctionModules`].
#[cfg(test)]
pub(crate) fn function_line(version: Version, i: usize) -> Line {
    FunctionModules::new(version).line(i)
}

/// The 15-bit format information (§7.9.1): two bits for the error correction level and
/// three for the mask, followed by the 10 check bits of the (15, 5) BCH code with
/// generator `x^10 + x^8 + x^5 + x^4 + x^2 + x + 1` (0x537), all XOR-ed with
/// 0b101010000010010 (0x5412) so that the word is never all zeros.
pub(crate) const fn format_bits(level: EcLevel, mask: Mask) -> u16 {
    let level_bits: u16 = match level {
        EcLevel::Low => 0b01,
        EcLevel::Medium => 0b00,
        EcLevel::Quartile => 0b11,
        EcLevel::High => 0b10,
    };
    let data = (level_bits << 3 | mask.number() as u16) << 10;
    (data | bch_remainder(data as u32, 0x537, 10) as u16) ^ 0x5412
}

/// The 18-bit version information (§7.10): six bits of version number followed by the 12
/// check bits of the (18, 6) BCH code with generator
/// `x^12 + x^11 + x^10 + x^9 + x^8 + x^5 + x^2 + 1` (0x1F25).
pub(crate) const fn version_bits(version: Version) -> u32 {
    let data = (version.number() as u32) << 12;
    data | bch_remainder(data, 0x1F25, 12)
}

/// Remainder of `value` divided by the binary polynomial `generator` of degree `degree`.
const fn bch_remainder(value: u32, generator: u32, degree: u32) -> u32 {
    let mut remainder = value;
    let mut bit = 31;
    while bit >= degree {
        if remainder & (1 << bit) != 0 {
            remainder ^= generator << (bit - degree);
        }
        bit -= 1;
    }
    remainder
}

/// Where bit `i` (0 = least significant) of the format information goes, as (x, y), in
/// each copy (§7.9.1, Figure 25). First copy, around the top-left finder: bits 0–7 down
/// column 8 (skipping the timing row 6), bits 8–14 leftwards along row 8 (skipping column
/// 6). Second copy: bits 0–7 along row 8 from the right edge, bits 8–14 down column 8 to
/// the bottom edge.
pub(crate) fn format_positions(width: usize, i: usize) -> [(usize, usize); 2] {
    let first = match i {
        0..=5 => (8, i),
        6 => (8, 7),
        7 => (8, 8),
        8 => (7, 8),
        _ => (14 - i.min(14), 8),
    };
    let second = if i < 8 {
        (width - 1 - i, 8)
    } else {
        (8, width + i.min(14) - 15)
    };
    [first, second]
}

/// The format information modules as lines, to OR into rows: row 8 gets a full line,
/// other rows at most the module in column 8.
pub(crate) struct FormatOverlay {
    row8: Line,
    column8: Line,
}

impl FormatOverlay {
    pub(crate) fn new(width: usize, level: EcLevel, mask: Mask) -> Self {
        let bits = format_bits(level, mask);
        let mut row8 = Line::ZERO;
        let mut column8 = Line::ZERO;
        for i in 0..15 {
            if bits >> i & 1 != 0 {
                for (x, y) in format_positions(width, i) {
                    if y == 8 {
                        row8.set(x);
                    }
                    if x == 8 {
                        column8.set(y);
                    }
                }
            }
        }
        FormatOverlay { row8, column8 }
    }

    /// The format modules of row `y`.
    #[inline]
    pub(crate) fn for_row(&self, y: usize) -> Line {
        if y == 8 {
            self.row8
        } else if self.column8.get(y) {
            let mut line = Line::ZERO;
            line.set(8);
            line
        } else {
            Line::ZERO
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_bits_known_values() {
        // ISO/IEC 18004:2015 Annex C, Table C.1: the 32 format information words.
        let expected: [(EcLevel, [u16; 8]); 4] = [
            (
                EcLevel::Low,
                [
                    0x77C4, 0x72F3, 0x7DAA, 0x789D, 0x662F, 0x6318, 0x6C41, 0x6976,
                ],
            ),
            (
                EcLevel::Medium,
                [
                    0x5412, 0x5125, 0x5E7C, 0x5B4B, 0x45F9, 0x40CE, 0x4F97, 0x4AA0,
                ],
            ),
            (
                EcLevel::Quartile,
                [
                    0x355F, 0x3068, 0x3F31, 0x3A06, 0x24B4, 0x2183, 0x2EDA, 0x2BED,
                ],
            ),
            (
                EcLevel::High,
                [
                    0x1689, 0x13BE, 0x1CE7, 0x19D0, 0x0762, 0x0255, 0x0D0C, 0x083B,
                ],
            ),
        ];
        for (level, words) in expected {
            for (mask, word) in Mask::ALL.iter().zip(words) {
                assert_eq!(format_bits(level, *mask), word, "{level:?} {mask:?}");
            }
        }
    }

    #[test]
    fn version_bits_known_values() {
        // ISO/IEC 18004:2015 Annex D, Table D.1 (a sample).
        let expected = [
            (7, 0x07C94),
            (8, 0x085BC),
            (9, 0x09A99),
            (10, 0x0A4D3),
            (20, 0x149A6),
            (32, 0x209D5),
            (39, 0x27541),
            (40, 0x28C69),
        ];
        for (version, word) in expected {
            assert_eq!(
                version_bits(Version::new(version).unwrap()),
                word,
                "{version}"
            );
        }
    }

    #[test]
    fn format_positions_cover_the_format_areas() {
        let width = 21;
        let mut seen = std::vec::Vec::new();
        for i in 0..15 {
            for (x, y) in format_positions(width, i) {
                assert!(x == 8 || y == 8);
                assert!(function_line(Version::MIN, y).get(x), "({x}, {y})");
                seen.push((x, y));
            }
        }
        seen.sort_unstable();
        seen.dedup();
        assert_eq!(seen.len(), 30);
        // The dark module is not one of them.
        assert!(!seen.contains(&(8, width - 8)));
    }

    #[test]
    fn function_modules_are_symmetric_and_counted() {
        for n in 1..=40 {
            let version = Version::new(n).unwrap();
            let width = version.width();
            let mut data_modules = 0;
            for y in 0..width {
                let row = function_line(version, y);
                for x in 0..width {
                    assert_eq!(
                        row.get(x),
                        function_line(version, x).get(y),
                        "v{n} ({x},{y})"
                    );
                    if !row.get(x) {
                        data_modules += 1;
                    }
                }
                for x in width..LINE_BITS {
                    assert!(row.get(x));
                }
            }
            assert_eq!(
                data_modules,
                crate::tables::raw_data_modules(version),
                "v{n}"
            );
        }
    }
}
