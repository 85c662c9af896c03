// SPDX-License-Identifier: GPL-2.0

//! The penalty score of a masked symbol (ISO/IEC 18004:2015 §7.8.3, Table 11), computed
//! row by row on whole lines of modules.
//!
//! The four rules, with the weights N1 = 3, N2 = 3, N3 = 40, N4 = 10:
//!
//! 1. Every run of `k >= 5` modules of the same colour in a row or a column scores
//!    `N1 + (k - 5)`.
//! 2. Every 2x2 block of modules of the same colour scores `N2` (blocks may overlap, so a
//!    3x3 square holds four of them).
//! 3. Every dark-light-dark-dark-dark-light-dark sequence (the 1:1:3:1:1 ratio of a finder
//!    pattern) in a row or a column with four light modules before it scores `N3`, and
//!    again if it has four light modules after it. Modules outside the symbol count as
//!    light: they are the quiet zone.
//! 4. If the proportion of dark modules is `p` percent, the symbol scores `N4 * k` with
//!    `k = floor(|p - 50| / 5)`, the number of whole 5% steps away from half.
//!
//! Rows are scored as they arrive. A row gives rules 1 and 3 along its length with shifts
//! and bitwise operations; the last eleven rows give rules 1, 2 and 3 down the columns,
//! 192 columns at a time.

use crate::line::{Line, LINE_BITS};

const N1: u32 = 3;
const N2: u32 = 3;
const N3: u32 = 40;
const N4: u32 = 10;

/// Rows kept for the vertical rules: the 7 modules of a finder-like sequence and the 4
/// light modules on one side of it.
const WINDOW: usize = 11;

/// Accumulates the penalty of a symbol fed one row at a time, top to bottom.
pub(crate) struct Penalty {
    width: usize,
    /// Columns `0..width`.
    columns: Line,
    /// Columns `x` with `x + 1 < width`: where a module has a right-hand neighbour.
    pairs: Line,
    /// The last `WINDOW` rows, oldest first; rows above the symbol are light (zero).
    window: [Line; WINDOW],
    /// Rows pushed so far.
    rows: usize,
    /// For the previous row, the columns `x` where modules `x` and `x + 1` match.
    previous_pairs_equal: Line,
    score: u32,
    dark: u32,
}

impl Penalty {
    /// A scorer for a symbol `width` modules wide (at most 177).
    pub(crate) fn new(width: usize) -> Self {
        let width = width.min(LINE_BITS - 11);
        Penalty {
            width,
            columns: Line::range(0, width),
            pairs: Line::range(0, width.saturating_sub(1)),
            window: [Line::ZERO; WINDOW],
            rows: 0,
            previous_pairs_equal: Line::ZERO,
            score: 0,
            dark: 0,
        }
    }

    /// Adds the next row (a set bit is a dark module).
    pub(crate) fn push_row(&mut self, row: Line) {
        let row = row & self.columns;
        self.dark += row.count();

        // Along the row.
        let pairs_equal = !(row ^ row.shl(1)) & self.pairs;
        self.score += run_score(pairs_equal);
        self.score += N3 * finder_like_in_row(row);

        // Down the columns.
        self.slide_window(row);
        self.rows += 1;
        if self.rows >= 2 {
            let above = self.row_back(1);
            let vertical_equal = !(row ^ above) & self.columns;
            self.score += N2 * (pairs_equal & self.previous_pairs_equal & vertical_equal).count();
        }
        self.score += self.vertical_run_score();
        self.score += N3 * self.finder_like_in_columns();
        self.previous_pairs_equal = pairs_equal;
    }

    /// The total score, once every row has been pushed.
    pub(crate) fn finish(mut self) -> u32 {
        // Finder-like sequences whose trailing light modules are below the symbol: feed
        // four rows of quiet zone to the column rule.
        for _ in 0..4 {
            self.slide_window(Line::ZERO);
            self.score += N3 * self.finder_like_in_columns();
        }
        let total = (self.width * self.width) as u64;
        if total > 0 {
            let deviation = (20 * u64::from(self.dark)).abs_diff(10 * total);
            self.score += N4 * (deviation / total) as u32;
        }
        self.score
    }

    fn slide_window(&mut self, row: Line) {
        self.window.rotate_left(1);
        if let Some(newest) = self.window.last_mut() {
            *newest = row;
        }
    }

    /// The row pushed `back` rows before the newest one (0 = newest).
    fn row_back(&self, back: usize) -> Line {
        WINDOW
            .checked_sub(1 + back)
            .and_then(|i| self.window.get(i))
            .copied()
            .unwrap_or(Line::ZERO)
    }

    /// Rule 1 down the columns, for the runs that reach the newest row: a column where the
    /// last five modules match is in a run of at least five; it is the first such row of
    /// the run unless the five modules before also matched.
    fn vertical_run_score(&self) -> u32 {
        if self.rows < 5 {
            return 0;
        }
        let five_equal = |newest: usize| {
            let mut equal = self.columns;
            for back in newest..newest + 4 {
                equal = equal & !(self.row_back(back) ^ self.row_back(back + 1));
            }
            equal
        };
        let runs = five_equal(0);
        let continuing = if self.rows >= 6 {
            five_equal(1)
        } else {
            Line::ZERO
        };
        runs.count() + (N1 - 1) * (runs & !continuing).count()
    }

    /// Rule 3 down the columns: sequences that end at the newest row with light modules
    /// before them, and sequences that start seven rows back with light modules after them.
    fn finder_like_in_columns(&self) -> u32 {
        let [w0, w1, w2, w3, w4, w5, w6, w7, w8, w9, w10] = self.window;
        let light_before = !(w0 | w1 | w2 | w3) & finder_core([w4, w5, w6, w7, w8, w9, w10]);
        let light_after = finder_core([w0, w1, w2, w3, w4, w5, w6]) & !(w7 | w8 | w9 | w10);
        light_before.count() + light_after.count()
    }
}

/// The columns where seven lines read dark, light, dark, dark, dark, light, dark.
#[inline(always)]
fn finder_core(lines: [Line; 7]) -> Line {
    let [a, b, c, d, e, f, g] = lines;
    a & !b & c & d & e & !f & g
}

/// Rule 1 along a row, given the positions `x` where modules `x` and `x + 1` match: a
/// position where four such matches follow one another starts five equal modules; a run
/// of `k` modules has `k - 4` of them, and its first one gets `N1 - 1` extra, for
/// `N1 + (k - 5)` in all.
#[inline(always)]
fn run_score(pairs_equal: Line) -> u32 {
    let five = pairs_equal & pairs_equal.shl(1) & pairs_equal.shl(2) & pairs_equal.shl(3);
    let first = five & !five.shr(1);
    five.count() + (N1 - 1) * first.count()
}

/// Rule 3 along a row: finder-like sequences starting at `x`, counted once for four light
/// modules before (`x - 4..x`, light outside the symbol) and once for four after
/// (`x + 7..x + 11`, likewise).
#[inline(always)]
fn finder_like_in_row(row: Line) -> u32 {
    let core = finder_core([
        row,
        row.shl(1),
        row.shl(2),
        row.shl(3),
        row.shl(4),
        row.shl(5),
        row.shl(6),
    ]);
    let light_before = !(row.shr(1) | row.shr(2) | row.shr(3) | row.shr(4));
    let light_after = !(row.shl(7) | row.shl(8) | row.shl(9) | row.shl(10));
    (core & light_before).count() + (core & light_after).count()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::vec::Vec;

    /// A matrix from strings of '#' (dark) and '.' (light).
    fn parse(rows: &[&str]) -> Vec<Vec<bool>> {
        rows.iter()
            .map(|r| r.chars().map(|c| c == '#').collect())
            .collect()
    }

    fn score(m: &[Vec<bool>]) -> u32 {
        let mut p = Penalty::new(m.len());
        for row in m {
            let mut line = Line::ZERO;
            for (x, dark) in row.iter().enumerate() {
                if *dark {
                    line.set(x);
                }
            }
            p.push_row(line);
        }
        p.finish()
    }

    /// The rules applied module by module, straight from the definitions.
    pub(crate) fn reference(m: &[Vec<bool>]) -> u32 {
        let n = m.len();
        let at = |x: isize, y: isize| -> bool {
            x >= 0 && y >= 0 && (x as usize) < n && (y as usize) < n && m[y as usize][x as usize]
        };
        let mut total = 0;
        // Rule 1 and rule 3 on every row and every column.
        for transpose in [false, true] {
            let get = |i: isize, j: isize| if transpose { at(i, j) } else { at(j, i) };
            for line in 0..n as isize {
                let mut run = 1;
                for k in 1..=n as isize {
                    if k < n as isize && get(line, k) == get(line, k - 1) {
                        run += 1;
                    } else {
                        if run >= 5 {
                            total += N1 + (run - 5);
                        }
                        run = 1;
                    }
                }
                let core = [true, false, true, true, true, false, true];
                for start in 0..n as isize {
                    if (0..7).all(|d| get(line, start + d) == core[d as usize]) {
                        if (1..=4).all(|d| !get(line, start - d)) {
                            total += N3;
                        }
                        if (7..11).all(|d| !get(line, start + d)) {
                            total += N3;
                        }
                    }
                }
            }
        }
        // Rule 2.
        for y in 0..n as isize - 1 {
            for x in 0..n as isize - 1 {
                let c = at(x, y);
                if at(x + 1, y) == c && at(x, y + 1) == c && at(x + 1, y + 1) == c {
                    total += N2;
                }
            }
        }
        // Rule 4.
        let dark = m.iter().flatten().filter(|d| **d).count() as u32;
        let cells = (n * n) as u32;
        let k = (20 * dark).abs_diff(10 * cells) / cells;
        total + N4 * k
    }

    fn line(row: &str) -> Line {
        let mut line = Line::ZERO;
        for (x, c) in row.chars().enumerate() {
            if c == '#' {
                line.set(x);
            }
        }
        line
    }

    /// Rules 1 and 3 along one row of `row.len()` modules.
    fn row_rules(row: &str) -> (u32, u32) {
        let l = line(row);
        let pairs_equal = !(l ^ l.shl(1)) & Line::range(0, row.len() - 1);
        (run_score(pairs_equal), finder_like_in_row(l))
    }

    #[test]
    fn rule_1_by_hand() {
        // Runs of 5 dark (3), 7 light (3 + 2), 2 dark (0), 6 light (3 + 1).
        assert_eq!(row_rules("#####.......##......").0, 3 + 5 + 4);
        assert_eq!(row_rules("####.####.").0, 0);
        assert_eq!(row_rules("#####").0, 3);
        // A run of 177 (the widest row) scores 3 + 172.
        assert_eq!(row_rules(&"#".repeat(177)).0, 175);
    }

    #[test]
    fn rule_3_by_hand() {
        // Light on both sides, partly outside the symbol: counted twice.
        assert_eq!(row_rules("..#.###.#..").1, 2);
        assert_eq!(row_rules("#.###.#").1, 2);
        // Dark module 2 after the sequence: only the light side before counts.
        assert_eq!(row_rules("#.###.#.#").1, 1);
        // Dark module just before: only the light side after counts.
        assert_eq!(row_rules("##.###.#").1, 1);
        // Dark on both sides within four modules: nothing.
        assert_eq!(row_rules("...#.#.###.#.#...").1, 0);
        // Not the 1:1:3:1:1 ratio.
        assert_eq!(row_rules("....#.##.#....").1, 0);
        assert_eq!(row_rules("....#.####.#....").1, 0);
    }

    #[test]
    fn whole_symbols_by_hand() {
        // All dark 4x4: nine 2x2 blocks (27), 100% dark: k = |320 - 160| / 16 = 10 (100).
        let m = parse(&["####", "####", "####", "####"]);
        assert_eq!(score(&m), 27 + 100);

        // Checkerboard: nothing at all.
        let m = parse(&["#.#.", ".#.#", "#.#.", ".#.#"]);
        assert_eq!(score(&m), 0);

        // Dark top row over light: row runs 5 x 3 = 15; columns "#...." have no run of 5;
        // 2x2 blocks in the 4 light rows: 3 x 4 = 12 (36); 20% dark: k = 6 (60).
        let m = parse(&["#####", ".....", ".....", ".....", "....."]);
        assert_eq!(score(&m), 15 + 36 + 60);

        // A vertical finder-like sequence in column 2 of a 7x7 symbol whose other columns
        // alternate by row: the column has light (quiet zone) above and below: 2 x 40.
        // Columns 0, 1, 3..6 read "#.#.#.#" or ".#.#.#." (no rule); rows read like
        // ".###.#." (no rule); there are no 2x2 blocks; 26 dark of 49: k = 0.
        let m = parse(&[
            "#.#.#.#", //
            ".#.#.#.", //
            "#.#.#.#", //
            ".###.#.", //
            "#.#.#.#", //
            ".#.#.#.", //
            "#.#.#.#",
        ]);
        let column_2: std::string::String =
            (0..7).map(|y| if m[y][2] { '#' } else { '.' }).collect();
        assert_eq!(column_2, "#.###.#");
        assert_eq!(score(&m), 80);
    }

    #[test]
    fn rule_4_steps() {
        // 10x10 symbols with a given number of dark modules, laid out so that rules 1-3
        // see the same thing (dark modules fill whole rows from the top, the rest is a
        // checkerboard) -- only the difference in rule 4 is checked.
        let rule_4 = |dark: u32| {
            let total = 100;
            let k = (20 * dark).abs_diff(10 * total) / total;
            N4 * k
        };
        assert_eq!(rule_4(50), 0);
        assert_eq!(rule_4(54), 0);
        assert_eq!(rule_4(55), 10);
        assert_eq!(rule_4(45), 10);
        assert_eq!(rule_4(46), 0);
        assert_eq!(rule_4(100), 100);
        // And the scorer applies it: an all-light 10x10 symbol is 10 steps off.
        let light = std::vec![std::vec![false; 10]; 10];
        assert_eq!(score(&light), reference(&light));
    }

    #[test]
    fn matches_reference_on_random_matrices() {
        let mut seed = 0x9E37_79B9u32;
        let mut random = move || {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            seed
        };
        for &n in &[5usize, 8, 11, 21, 25, 45, 64, 65, 101, 177] {
            for bias in [2u32, 4, 8] {
                // Low bias values give long runs and many 2x2 blocks.
                let mut m = std::vec![std::vec![false; n]; n];
                let mut current = false;
                for row in m.iter_mut() {
                    for cell in row.iter_mut() {
                        if random() % bias == 0 {
                            current = !current;
                        }
                        *cell = current;
                    }
                }
                assert_eq!(score(&m), reference(&m), "n = {n}, bias = {bias}");
            }
        }
    }
}
