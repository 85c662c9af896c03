// SPDX-License-Identifier: GPL-2.0

//! The eight data masks (ISO/IEC 18004:2015 §7.8.2, Table 10) and the choice among them
//! (§7.8.3).

use crate::line::{Line, LINE_BITS};
use crate::matrix::{FormatOverlay, Matrix};
use crate::penalty::Penalty;
use crate::{EcLevel, Mask};

/// Whether mask `mask` inverts the module in row `i`, column `j` (Table 10).
// Written exactly as the conditions in Table 10.
#[allow(clippy::manual_is_multiple_of)]
pub(crate) const fn mask_condition(mask: u8, i: usize, j: usize) -> bool {
    match mask {
        0 => (i + j) % 2 == 0,
        1 => i % 2 == 0,
        2 => j % 3 == 0,
        3 => (i + j) % 3 == 0,
        4 => (i / 2 + j / 3) % 2 == 0,
        5 => (i * j) % 2 + (i * j) % 3 == 0,
        6 => ((i * j) % 2 + (i * j) % 3) % 2 == 0,
        _ => ((i + j) % 2 + (i * j) % 3) % 2 == 0,
    }
}

/// Every mask condition depends on the row only through `i % 2`, `i % 3` or `(i / 2) % 2`,
/// so the rows of a mask repeat every 12 rows.
const MASK_PERIOD: usize = 12;

/// `MASK_LINES[mask][i % 12]` is row `i` of the mask as a line, computed at build time.
static MASK_LINES: [[Line; MASK_PERIOD]; 8] = build_mask_lines();

// Evaluated at compile time: an index out of bounds would be a build error.
#[allow(clippy::indexing_slicing)]
const fn build_mask_lines() -> [[Line; MASK_PERIOD]; 8] {
    let mut lines = [[Line::ZERO; MASK_PERIOD]; 8];
    let mut mask = 0;
    while mask < 8 {
        let mut i = 0;
        while i < MASK_PERIOD {
            let mut j = 0;
            while j < LINE_BITS {
                if mask_condition(mask as u8, i, j) {
                    lines[mask][i].0[j / 64] |= 1 << (63 - j % 64);
                }
                j += 1;
            }
            i += 1;
        }
        mask += 1;
    }
    lines
}

/// Row `i` of `mask` as a line (before excluding function modules).
pub(crate) fn mask_line(mask: Mask, i: usize) -> Line {
    MASK_LINES
        .get(usize::from(mask.number()))
        .and_then(|rows| rows.get(i % MASK_PERIOD))
        .copied()
        .unwrap_or(Line::ZERO)
}

/// The penalty score the symbol would have with `mask` and the matching format
/// information. `matrix` holds the unmasked symbol with the format modules still light;
/// it is not modified: each row is masked on the fly and fed to the scorer.
pub(crate) fn penalty_with_mask(matrix: &Matrix<'_>, level: EcLevel, mask: Mask) -> u32 {
    let width = matrix.width();
    let format = FormatOverlay::new(width, level, mask);
    let mut penalty = Penalty::new(width);
    for y in 0..width {
        let data_modules = !matrix.function_modules().line(y);
        let row = (matrix.row(y) ^ (mask_line(mask, y) & data_modules)) | format.for_row(y);
        penalty.push_row(row);
    }
    penalty.finish()
}

/// The mask with the lowest penalty score; the lowest-numbered one on a tie.
pub(crate) fn best_mask(matrix: &Matrix<'_>, level: EcLevel) -> Mask {
    let mut best = Mask::ALL[0];
    let mut best_score = u32::MAX;
    for mask in Mask::ALL {
        let score = penalty_with_mask(matrix, level, mask);
        if score < best_score {
            best = mask;
            best_score = score;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_follow_the_conditions() {
        for mask in Mask::ALL {
            for i in 0..40 {
                let line = mask_line(mask, i);
                for j in 0..LINE_BITS {
                    assert_eq!(line.get(j), mask_condition(mask.number(), i, j));
                }
            }
        }
    }

    #[test]
    fn first_rows_by_hand() {
        // Table 10, top-left corner of each pattern (1 = inverted), rows 0 to 2.
        let expected: [[&str; 3]; 8] = [
            ["101010", "010101", "101010"],
            ["111111", "000000", "111111"],
            ["100100", "100100", "100100"],
            ["100100", "001001", "010010"],
            ["111000", "111000", "000111"],
            ["111111", "100000", "100100"],
            ["111111", "111000", "110110"],
            ["101010", "000111", "100011"],
        ];
        for (mask, rows) in Mask::ALL.iter().zip(expected) {
            for (i, row) in rows.iter().enumerate() {
                let line = mask_line(*mask, i);
                let got: std::string::String = (0..6)
                    .map(|j| if line.get(j) { '1' } else { '0' })
                    .collect();
                assert_eq!(&got, row, "mask {} row {i}", mask.number());
            }
        }
    }
}
