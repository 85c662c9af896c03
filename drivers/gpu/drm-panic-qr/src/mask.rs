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
    fn scoring_on_the_fly_matches_the_finished_symbols() {
        use crate::{encode_text, tables::BlockLayout, Config, Version};
        let mut codewords = std::vec![0u8; crate::MAX_CODEWORDS_LEN];
        for (number, level, text) in [
            (1, EcLevel::Low, &b"HELLO WORLD"[..]),
            (3, EcLevel::High, b"https://example.org/"),
            (7, EcLevel::Medium, b"0123456789 panic abc 0123456789 XYZ"),
            (12, EcLevel::Quartile, &[0x5Au8; 100][..]),
        ] {
            let version = Version::new(number).unwrap();
            let config = Config {
                ec_level: level,
                min_version: version,
                max_version: version,
                mask: crate::MaskChoice::Best,
            };
            let encoded = encode_text(text, &config, &mut codewords).unwrap();
            let layout = BlockLayout::new(version, level);
            let mut buffer = std::vec![0u8; version.matrix_len()];
            let mut matrix = Matrix::new(&mut buffer, version).unwrap();
            matrix.draw_function_patterns();
            matrix.place_codewords(crate::ec::Interleaved::new(&codewords, layout));

            let mut scores = std::vec::Vec::new();
            for mask in Mask::ALL {
                // The finished symbol with this mask, scored module by module.
                let mut out = std::vec![0u8; version.matrix_len()];
                let config = Config {
                    mask: crate::MaskChoice::Fixed(mask),
                    ..config
                };
                let qr = encoded_with(&encoded, &config, &codewords, &mut out);
                let modules: std::vec::Vec<std::vec::Vec<bool>> = (0..qr.width())
                    .map(|y| (0..qr.width()).map(|x| qr.is_dark(x, y)).collect())
                    .collect();
                let expected = crate::penalty::tests::reference(&modules);
                assert_eq!(
                    penalty_with_mask(&matrix, level, mask),
                    expected,
                    "v{number} {mask:?}"
                );
                scores.push(expected);
            }
            let best = best_mask(&matrix, level);
            let lowest = *scores.iter().min().unwrap();
            assert_eq!(scores[usize::from(best.number())], lowest);
            assert_eq!(
                scores.iter().position(|s| *s == lowest),
                Some(usize::from(best.number()))
            );
        }
    }

    /// Draws `encoded` with the mask of `config`.
    fn encoded_with<'m>(
        encoded: &crate::EncodedData,
        config: &crate::Config,
        codewords: &[u8],
        out: &'m mut [u8],
    ) -> crate::QrCode<'m> {
        let mut with_mask = *encoded;
        with_mask.mask = config.mask;
        with_mask.draw(codewords, out).unwrap()
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
