// SPDX-License-Identifier: GPL-2.0

//! Reed–Solomon error correction codewords and the interleaving of blocks
//! (ISO/IEC 18004:2015 §7.5 and §7.6).
//!
//! The data codewords are cut into blocks (see [`BlockLayout`]); for each block, the error
//! correction codewords are the remainder of `data(x) * x^n` divided by the generator
//! polynomial `g(x) = (x - α^0)(x - α^1)...(x - α^(n-1))`, where `n` is the number of
//! error correction codewords per block.

use crate::gf256;
use crate::tables::{BlockLayout, MAX_EC_PER_BLOCK};

/// Room for the remainder: 32 bytes in four big-endian words (byte `k` is the coefficient
/// of `x^(n-1-k)`), enough for the 30 codewords of the largest blocks.
type Register = [u64; 4];

/// Computes Reed–Solomon remainders for one generator polynomial.
///
/// Dividing by `g(x)` one data byte at a time works like a shift register: the byte that
/// leaves the top of the register, XOR-ed with the next data byte, is the factor `f`, and
/// `f * g(x)` is added to the shifted register. `f * g` is linear in `f`, so it is the XOR
/// of `(f & 0x0F) * g` and `(f & 0xF0) * g`; the two 16-entry tables below hold those
/// products for the whole register at once, which makes a step eight 64-bit XORs and a
/// shift instead of `n` field multiplications.
pub(crate) struct ReedSolomon {
    /// Number of error correction codewords, `n`.
    len: usize,
    /// `low[j] = j * g`, the register image of the generator scaled by `j`.
    low: [Register; 16],
    /// `high[j] = (j << 4) * g`.
    high: [Register; 16],
}

impl ReedSolomon {
    /// An encoder for `len` error correction codewords (`len <= 30`; larger values are
    /// clamped, which the tables never ask for).
    // Inlined so that the 1 KiB of tables is built where it is used rather than built and
    // then moved, which would double the stack frame.
    #[inline(always)]
    pub(crate) fn new(len: usize) -> Self {
        let len = len.min(MAX_EC_PER_BLOCK);
        let generator = generator_polynomial(len);
        let mut encoder = ReedSolomon {
            len,
            low: [[0u64; 4]; 16],
            high: [[0u64; 4]; 16],
        };
        let tables = encoder.low.iter_mut().zip(encoder.high.iter_mut());
        for (j, (lo, hi)) in tables.enumerate() {
            let j = j as u8;
            // `generator[0]` is the leading 1 of the monic polynomial; the register holds
            // the other `len` coefficients.
            for (k, coefficient) in generator.iter().skip(1).take(len).enumerate() {
                set_byte(lo, k, gf256::mul(j, *coefficient));
                set_byte(hi, k, gf256::mul(j << 4, *coefficient));
            }
        }
        encoder
    }

    /// Writes the error correction codewords of `data` into `out` (its first `len` bytes;
    /// a shorter `out` receives a prefix).
    pub(crate) fn remainder(&self, data: &[u8], out: &mut [u8]) {
        let mut register: Register = [0; 4];
        for byte in data {
            let factor = (register[0] >> 56) as u8 ^ byte;
            shift_left_one_byte(&mut register);
            let low = self.low.get(usize::from(factor & 0x0F));
            let high = self.high.get(usize::from(factor >> 4));
            if let (Some(low), Some(high)) = (low, high) {
                for ((word, l), h) in register.iter_mut().zip(low).zip(high) {
                    *word ^= l ^ h;
                }
            }
        }
        for (k, slot) in out.iter_mut().take(self.len).enumerate() {
            *slot = get_byte(&register, k);
        }
    }
}

/// Coefficients of `g(x) = (x - α^0)...(x - α^(len-1))`, highest degree first; entry 0 is
/// the leading 1. Subtraction is XOR in GF(2^8), so each factor is `x + α^i`.
pub(crate) fn generator_polynomial(len: usize) -> [u8; MAX_EC_PER_BLOCK + 1] {
    let mut g = [0u8; MAX_EC_PER_BLOCK + 1];
    if let Some(leading) = g.first_mut() {
        *leading = 1;
    }
    for i in 0..len.min(MAX_EC_PER_BLOCK) {
        // Multiply the current polynomial (degree i) by (x + α^i): every coefficient moves
        // up one degree, and α^i times the old coefficient is added in place. Going from
        // the bottom up keeps the old values available.
        let root = gf256::exp(i);
        for k in (1..=i + 1).rev() {
            let above = g.get(k - 1).copied().unwrap_or(0);
            if let Some(slot) = g.get_mut(k) {
                *slot ^= gf256::mul(root, above);
            }
        }
    }
    g
}

fn shift_left_one_byte(register: &mut Register) {
    let [a, b, c, d] = *register;
    *register = [a << 8 | b >> 56, b << 8 | c >> 56, c << 8 | d >> 56, d << 8];
}

fn set_byte(register: &mut Register, k: usize, value: u8) {
    if let Some(word) = register.get_mut(k / 8) {
        let shift = 56 - 8 * (k % 8);
        *word = (*word & !(0xFF << shift)) | u64::from(value) << shift;
    }
}

fn get_byte(register: &Register, k: usize) -> u8 {
    register
        .get(k / 8)
        .map_or(0, |word| (word >> (56 - 8 * (k % 8))) as u8)
}

/// Fills `ec` with the error correction codewords of every block of `data`, block after
/// block. `None` if a buffer is shorter than the layout says.
pub(crate) fn write_error_correction(
    layout: BlockLayout,
    data: &[u8],
    ec: &mut [u8],
) -> Option<()> {
    let encoder = ReedSolomon::new(layout.ec_per_block);
    let mut data = data;
    let mut ec = ec;
    for block in 0..layout.blocks {
        let (block_data, rest) = data.split_at_checked(layout.data_len(block))?;
        let (block_ec, ec_rest) = ec.split_at_mut_checked(layout.ec_per_block)?;
        encoder.remainder(block_data, block_ec);
        data = rest;
        ec = ec_rest;
    }
    Some(())
}

/// The codewords in the order they are placed in the symbol (ISO/IEC 18004 §7.6): the
/// first data codeword of every block, then the second of every block, and so on (short
/// blocks run out one round earlier), then the error correction codewords the same way.
///
/// `codewords` is laid out as [`crate::encode_text`] writes it: all data codewords block
/// after block, then all error correction codewords block after block.
pub(crate) struct Interleaved<'a> {
    codewords: &'a [u8],
    layout: BlockLayout,
    in_ec: bool,
    round: usize,
    block: usize,
}

impl<'a> Interleaved<'a> {
    pub(crate) fn new(codewords: &'a [u8], layout: BlockLayout) -> Self {
        Interleaved {
            codewords,
            layout,
            in_ec: false,
            round: 0,
            block: 0,
        }
    }
}

impl Iterator for Interleaved<'_> {
    type Item = u8;

    fn next(&mut self) -> Option<u8> {
        let l = &self.layout;
        loop {
            if self.block == l.blocks {
                self.block = 0;
                self.round += 1;
            }
            let block = self.block;
            self.block += 1;
            if !self.in_ec {
                if self.round > l.short_len {
                    self.in_ec = true;
                    self.round = 0;
                    self.block = 0;
                    continue;
                }
                if self.round < l.data_len(block) {
                    // Block `block` starts after `block` short blocks, plus one codeword
                    // for every long block before it.
                    let start = block * l.short_len + block.saturating_sub(l.short_blocks);
                    return self.codewords.get(start + self.round).copied();
                }
            } else {
                if self.round >= l.ec_per_block {
                    return None;
                }
                let start = l.data_codewords() + block * l.ec_per_block;
                return self.codewords.get(start + self.round).copied();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{EcLevel, Version};
    use std::vec::Vec;

    /// Polynomial long division, one coefficient at a time, with plain field arithmetic.
    fn remainder_reference(data: &[u8], len: usize) -> Vec<u8> {
        let g = generator_polynomial(len);
        let mut work: Vec<u8> = data.to_vec();
        work.resize(data.len() + len, 0);
        for i in 0..data.len() {
            let factor = work[i];
            if factor != 0 {
                for k in 0..=len {
                    work[i + k] ^= gf256::mul(g[k], factor);
                }
            }
        }
        work[data.len()..].to_vec()
    }

    #[test]
    fn generator_polynomials_have_the_right_roots() {
        for len in [7, 10, 13, 15, 16, 17, 18, 20, 22, 24, 26, 28, 30] {
            let g = generator_polynomial(len);
            for i in 0..len {
                // Horner evaluation at α^i.
                let x = gf256::exp(i);
                let value = g[..=len].iter().fold(0u8, |acc, c| gf256::mul(acc, x) ^ c);
                assert_eq!(value, 0, "len {len}, root α^{i}");
            }
        }
        // g(x) = x^2 + 3x + 2 for two codewords: (x + 1)(x + 2).
        assert_eq!(generator_polynomial(2)[..3], [1, 3, 2]);
        // The 7-codeword generator from ISO/IEC 18004 Annex A, as exponents of α:
        // x^7 + α^87 x^6 + α^229 x^5 + α^146 x^4 + α^149 x^3 + α^238 x^2 + α^102 x + α^21.
        let exps = [87, 229, 146, 149, 238, 102, 21];
        let g = generator_polynomial(7);
        for (k, e) in exps.iter().enumerate() {
            assert_eq!(g[k + 1], gf256::exp(*e), "coefficient {k}");
        }
    }

    #[test]
    fn known_codeword_example() {
        // "HELLO WORLD" as version 1-M: 16 data codewords and their 10 EC codewords.
        let data = [
            32, 91, 11, 120, 209, 114, 220, 77, 67, 64, 236, 17, 236, 17, 236, 17,
        ];
        let mut ec = [0u8; 10];
        ReedSolomon::new(10).remainder(&data, &mut ec);
        assert_eq!(ec, [196, 35, 39, 119, 235, 215, 231, 226, 93, 23]);
    }

    #[test]
    fn table_encoder_matches_long_division() {
        let mut seed = 0x1234_5678u32;
        for len in [7, 10, 13, 15, 16, 17, 18, 20, 22, 24, 26, 28, 30] {
            let encoder = ReedSolomon::new(len);
            for data_len in [1, 2, 19, 55, 118, 119] {
                let data: Vec<u8> = (0..data_len)
                    .map(|_| {
                        seed ^= seed << 13;
                        seed ^= seed >> 17;
                        seed ^= seed << 5;
                        seed as u8
                    })
                    .collect();
                let mut out = [0u8; 30];
                encoder.remainder(&data, &mut out);
                assert_eq!(out[..len], remainder_reference(&data, len)[..], "len {len}");
            }
        }
    }

    #[test]
    fn interleaving_order() {
        // Version 5-Q: blocks of 15, 15, 16, 16 data codewords and 18 EC codewords each.
        let layout = BlockLayout::new(Version::new(5).unwrap(), EcLevel::Quartile);
        let total = layout.total_codewords();
        let codewords: Vec<u8> = (0..total).map(|i| i as u8).collect();
        let order: Vec<u8> = Interleaved::new(&codewords, layout).collect();
        assert_eq!(order.len(), total);
        // Round 0 takes the first codeword of each block: offsets 0, 15, 30, 46.
        assert_eq!(order[..4], [0, 15, 30, 46]);
        assert_eq!(order[4..8], [1, 16, 31, 47]);
        // The last data round only has the two long blocks.
        assert_eq!(order[60..62], [45, 61]);
        // Then EC codewords: 62 + 18 * block + round.
        assert_eq!(order[62..66], [62, 80, 98, 116]);
        assert_eq!(order[total - 1], (total - 1) as u8);
        let mut sorted = order.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, codewords);
    }
}
