// SPDX-License-Identifier: GPL-2.0

//! Numbers from the QR code standard, ISO/IEC 18004:2015 "QR Code bar code symbology
//! specification", and what follows from the symbol geometry.
//!
//! Tabulated (facts copied from the standard; the same numbers appear in every QR code
//! reference, e.g. Thonky's "QR Code Tutorial" tables):
//! * Table 9, error correction characteristics: the number of error correction blocks and
//!   the number of error correction codewords per block, for each version and level.
//! * Annex E, Table E.1: the row/column coordinates of the alignment pattern centres.
//!
//! Computed:
//! * the number of codewords of each version (Table 1), by counting the modules that no
//!   function pattern uses;
//! * the data codewords per level (Table 7) and the block sizes (Table 9), by subtracting
//!   the error correction codewords and dividing among the blocks.
//!
//! The unit tests check the computed numbers against known values from Tables 1 and 7.

use crate::{EcLevel, Version};

/// Error correction codewords per block, `[level][version - 1]`, levels in the order
/// L, M, Q, H. ISO/IEC 18004:2015 Table 9.
const EC_CODEWORDS_PER_BLOCK: [[u8; 40]; 4] = [
    [
        7, 10, 15, 20, 26, 18, 20, 24, 30, 18, 20, 24, 26, 30, 22, 24, 28, 30, 28, 28, //
        28, 28, 30, 30, 26, 28, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30,
    ],
    [
        10, 16, 26, 18, 24, 16, 18, 22, 22, 26, 30, 22, 22, 24, 24, 28, 28, 26, 26, 26, //
        26, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28,
    ],
    [
        13, 22, 18, 26, 18, 24, 18, 22, 20, 24, 28, 26, 24, 20, 30, 24, 28, 28, 26, 30, //
        28, 30, 30, 30, 30, 28, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30,
    ],
    [
        17, 28, 22, 16, 22, 28, 26, 26, 24, 28, 24, 28, 22, 24, 24, 30, 28, 28, 26, 28, //
        30, 24, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30,
    ],
];

/// Number of error correction blocks, `[level][version - 1]`, levels L, M, Q, H.
/// ISO/IEC 18004:2015 Table 9.
const EC_BLOCKS: [[u8; 40]; 4] = [
    [
        1, 1, 1, 1, 1, 2, 2, 2, 2, 4, 4, 4, 4, 4, 6, 6, 6, 6, 7, 8, //
        8, 9, 9, 10, 12, 12, 12, 13, 14, 15, 16, 17, 18, 19, 19, 20, 21, 22, 24, 25,
    ],
    [
        1, 1, 1, 2, 2, 4, 4, 4, 5, 5, 5, 8, 9, 9, 10, 10, 11, 13, 14, 16, //
        17, 17, 18, 20, 21, 23, 25, 26, 28, 29, 31, 33, 35, 37, 38, 40, 43, 45, 47, 49,
    ],
    [
        1, 1, 2, 2, 4, 4, 6, 6, 8, 8, 8, 10, 12, 16, 12, 17, 16, 18, 21, 20, //
        23, 23, 25, 27, 29, 34, 34, 35, 38, 40, 43, 45, 48, 51, 53, 56, 59, 62, 65, 68,
    ],
    [
        1, 1, 2, 4, 4, 4, 5, 6, 8, 8, 11, 11, 16, 16, 18, 16, 19, 21, 25, 25, //
        25, 34, 30, 32, 35, 37, 40, 42, 45, 48, 51, 54, 57, 60, 63, 66, 70, 74, 77, 81,
    ],
];

/// Second alignment pattern coordinate for each version (`[version - 1]`, 0 for version 1
/// which has none). ISO/IEC 18004:2015 Annex E, Table E.1 lists all coordinates; the first
/// is always 6, the last is always `width - 7`, and the ones from the second to the last
/// are evenly spaced, so the second coordinate is all that needs storing.
const ALIGNMENT_SECOND: [u8; 40] = [
    0, 18, 22, 26, 30, 34, 22, 24, 26, 28, 30, 32, 34, 26, 26, 26, 30, 30, 30, 34, //
    28, 26, 30, 28, 32, 30, 34, 26, 30, 26, 30, 34, 30, 34, 30, 24, 28, 32, 26, 30,
];

/// Largest number of alignment coordinates (version 35 and up).
pub(crate) const MAX_ALIGNMENT: usize = 7;

/// Largest number of error correction codewords in one block.
pub(crate) const MAX_EC_PER_BLOCK: usize = 30;

const fn level_index(level: EcLevel) -> usize {
    match level {
        EcLevel::Low => 0,
        EcLevel::Medium => 1,
        EcLevel::Quartile => 2,
        EcLevel::High => 3,
    }
}

/// Looks up `[level][version - 1]` in one of the tables; versions are always in range, the
/// fallback only keeps the function free of panics.
// `level_index` returns 0..=3 for a table of 4 rows, and `index` is compared with the row
// length just before use: neither index can be out of bounds. (`slice::get` is not usable
// in a `const fn`.)
#[allow(clippy::indexing_slicing)]
const fn lookup(table: &[[u8; 40]; 4], level: EcLevel, version: Version) -> u8 {
    let row = &table[level_index(level)];
    let index = version.number() as usize - 1;
    if index < row.len() {
        row[index]
    } else {
        1
    }
}

/// Alignment pattern centre coordinates of `version` (row and column coordinates are the
/// same set) and how many there are.
pub(crate) fn alignment_positions(version: Version) -> ([usize; MAX_ALIGNMENT], usize) {
    let mut positions = [0usize; MAX_ALIGNMENT];
    let v = version.number() as usize;
    if v < 2 {
        return (positions, 0);
    }
    let count = v / 7 + 2;
    let second = ALIGNMENT_SECOND.get(v - 1).copied().unwrap_or(0) as usize;
    let last = version.width() - 7;
    // `count >= 2`; with exactly two, `second == last`.
    let step = if count > 2 {
        (last - second) / (count - 2)
    } else {
        0
    };
    for (i, slot) in positions.iter_mut().take(count).enumerate() {
        *slot = if i == 0 { 6 } else { second + (i - 1) * step };
    }
    (positions, count)
}

/// Number of modules available for data and error correction codewords: all modules
/// minus the function patterns.
pub(crate) const fn raw_data_modules(version: Version) -> usize {
    let v = version.number() as usize;
    let width = version.width();
    let mut modules = width * width;
    // Three finder patterns, each 8x8 with its separator.
    modules -= 3 * 64;
    // Two timing patterns, between the separators.
    modules -= 2 * (width - 16);
    // Two copies of the 15-bit format information, and the dark module.
    modules -= 2 * 15 + 1;
    if v >= 2 {
        // Alignment patterns: a grid of count x count, minus the three corners covered by
        // finders, 25 modules each; those on row or column 6 cover 5 timing modules
        // already subtracted.
        let count = v / 7 + 2;
        modules -= 25 * (count * count - 3);
        modules += 2 * 5 * (count - 2);
    }
    if v >= 7 {
        // Two copies of the 18-bit version information.
        modules -= 2 * 18;
    }
    modules
}

/// Total codewords of `version` (ISO/IEC 18004:2015 Table 1); leftover modules (0, 3, 4
/// or 7) are remainder bits.
pub(crate) const fn total_codewords(version: Version) -> usize {
    raw_data_modules(version) / 8
}

/// How the codewords of one symbol are split into blocks (ISO/IEC 18004 §7.5.2): `blocks`
/// blocks each followed by `ec_per_block` error correction codewords; the first
/// `short_blocks` have `short_len` data codewords, the others one more.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct BlockLayout {
    pub(crate) blocks: usize,
    pub(crate) ec_per_block: usize,
    pub(crate) short_blocks: usize,
    pub(crate) short_len: usize,
}

impl BlockLayout {
    /// The layout for `version` at `level`.
    pub(crate) const fn new(version: Version, level: EcLevel) -> BlockLayout {
        let blocks = lookup(&EC_BLOCKS, level, version) as usize;
        let ec_per_block = lookup(&EC_CODEWORDS_PER_BLOCK, level, version) as usize;
        let data = total_codewords(version) - blocks * ec_per_block;
        BlockLayout {
            blocks,
            ec_per_block,
            short_blocks: blocks - data % blocks,
            short_len: data / blocks,
        }
    }

    /// Number of data codewords (ISO/IEC 18004:2015 Table 7).
    pub(crate) const fn data_codewords(&self) -> usize {
        self.blocks * self.short_len + (self.blocks - self.short_blocks)
    }

    /// Number of codewords, data and error correction.
    pub(crate) const fn total_codewords(&self) -> usize {
        self.data_codewords() + self.blocks * self.ec_per_block
    }

    /// Data codewords in block `block`.
    pub(crate) const fn data_len(&self, block: usize) -> usize {
        if block < self.short_blocks {
            self.short_len
        } else {
            self.short_len + 1
        }
    }
}

/// Which of the three character-count-field sizes applies: versions 1–9, 10–26, 27–40
/// (ISO/IEC 18004:2015 Table 3).
pub(crate) const fn count_group(version: Version) -> usize {
    match version.number() {
        0..=9 => 0,
        10..=26 => 1,
        _ => 2,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(n: u8) -> Version {
        Version::new(n).unwrap()
    }

    #[test]
    fn total_codewords_match_table_1() {
        // ISO/IEC 18004:2015 Table 1, total number of codewords per version.
        let expected = [
            26, 44, 70, 100, 134, 172, 196, 242, 292, 346, 404, 466, 532, 581, 655, 733, 815, 901,
            991, 1085, 1156, 1258, 1364, 1474, 1588, 1706, 1828, 1921, 2051, 2185, 2323, 2465,
            2611, 2761, 2876, 3034, 3196, 3362, 3532, 3706,
        ];
        for (i, total) in expected.iter().enumerate() {
            assert_eq!(total_codewords(v(i as u8 + 1)), *total, "version {}", i + 1);
        }
        // Remainder bits (Table 1): 0 for version 1, 7 for versions 2-6, ...
        assert_eq!(raw_data_modules(v(1)) % 8, 0);
        assert_eq!(raw_data_modules(v(2)) % 8, 7);
        assert_eq!(raw_data_modules(v(14)) % 8, 3);
        assert_eq!(raw_data_modules(v(21)) % 8, 4);
        assert_eq!(raw_data_modules(v(40)) % 8, 0);
    }

    #[test]
    fn data_codewords_match_table_7() {
        // A sample of ISO/IEC 18004:2015 Table 7 (data codewords for L, M, Q, H).
        let expected: [(u8, [usize; 4]); 8] = [
            (1, [19, 16, 13, 9]),
            (2, [34, 28, 22, 16]),
            (5, [108, 86, 62, 46]),
            (10, [274, 216, 154, 122]),
            (20, [861, 669, 485, 385]),
            (27, [1468, 1128, 808, 628]),
            (36, [2434, 1914, 1354, 1054]),
            (40, [2956, 2334, 1666, 1276]),
        ];
        for (version, per_level) in expected {
            for (level, data) in EcLevel::ALL.iter().zip(per_level) {
                let layout = BlockLayout::new(v(version), *level);
                assert_eq!(layout.data_codewords(), data, "{version}-{level:?}");
            }
        }
    }

    #[test]
    fn block_layouts_are_consistent() {
        for n in 1..=40 {
            for level in EcLevel::ALL {
                let l = BlockLayout::new(v(n), level);
                assert!(l.short_blocks >= 1 && l.short_blocks <= l.blocks);
                assert!(l.ec_per_block <= MAX_EC_PER_BLOCK);
                assert!(l.short_len > 0);
                assert_eq!(l.total_codewords(), total_codewords(v(n)));
                let sum: usize = (0..l.blocks).map(|b| l.data_len(b)).sum();
                assert_eq!(sum, l.data_codewords());
            }
        }
        // Two group layouts spelled out in Table 9.
        let l = BlockLayout::new(v(5), EcLevel::Quartile);
        assert_eq!(
            (l.blocks, l.short_blocks, l.short_len, l.ec_per_block),
            (4, 2, 15, 18)
        );
        let l = BlockLayout::new(v(40), EcLevel::Low);
        assert_eq!(
            (l.blocks, l.short_blocks, l.short_len, l.ec_per_block),
            (25, 19, 118, 30)
        );
    }

    #[test]
    fn alignment_positions_match_annex_e() {
        let check = |n: u8, expected: &[usize]| {
            let (positions, count) = alignment_positions(v(n));
            assert_eq!(&positions[..count], expected, "version {n}");
        };
        check(1, &[]);
        check(2, &[6, 18]);
        check(6, &[6, 34]);
        check(7, &[6, 22, 38]);
        check(14, &[6, 26, 46, 66]);
        check(22, &[6, 26, 50, 74, 98]);
        check(32, &[6, 34, 60, 86, 112, 138]);
        check(36, &[6, 24, 50, 76, 102, 128, 154]);
        check(40, &[6, 30, 58, 86, 114, 142, 170]);
        for n in 7..=40 {
            let (positions, count) = alignment_positions(v(n));
            assert_eq!(count, n as usize / 7 + 2);
            assert_eq!(positions[count - 1], v(n).width() - 7, "version {n}");
            // Evenly spaced after the first, with an even step.
            let step = positions[2] - positions[1];
            assert_eq!(step % 2, 0);
            for pair in positions[1..count].windows(2) {
                assert_eq!(pair[1] - pair[0], step, "version {n}");
            }
        }
    }
}
