// SPDX-License-Identifier: GPL-2.0

//! Arithmetic in GF(2^8), the field QR codes use for Reed–Solomon codes.
//!
//! ISO/IEC 18004:2015 §7.5.2: the field is built on the primitive polynomial
//! `x^8 + x^4 + x^3 + x^2 + 1` (0x11D) with `α = 2` as generator. Addition is XOR;
//! multiplication goes through logarithm tables, which are computed at build time.

/// The primitive polynomial, including the `x^8` term.
const PRIMITIVE: u16 = 0x11D;

/// `EXP[i] = α^i`. Doubled in length so that `EXP[log a + log b]` needs no reduction
/// modulo 255.
static EXP: [u8; 512] = build_exp();

/// `LOG[a] = i` such that `α^i = a`, for `a != 0` (`LOG[0]` is unused).
static LOG: [u8; 256] = build_log();

// Evaluated at compile time: an index out of bounds would be a build error.
#[allow(clippy::indexing_slicing)]
const fn build_exp() -> [u8; 512] {
    let mut table = [0u8; 512];
    let mut value: u16 = 1;
    let mut i = 0;
    while i < 512 {
        table[i] = value as u8;
        value <<= 1;
        if value & 0x100 != 0 {
            value ^= PRIMITIVE;
        }
        i += 1;
    }
    table
}

// Evaluated at compile time: an index out of bounds would be a build error.
#[allow(clippy::indexing_slicing)]
const fn build_log() -> [u8; 256] {
    let exp = build_exp();
    let mut table = [0u8; 256];
    let mut i = 0;
    while i < 255 {
        table[exp[i] as usize] = i as u8;
        i += 1;
    }
    table
}

/// `α^i` for any `i` (reduced modulo 255).
pub(crate) fn exp(i: usize) -> u8 {
    EXP.get(i % 255).copied().unwrap_or(0)
}

/// Product of `a` and `b` in GF(2^8).
pub(crate) fn mul(a: u8, b: u8) -> u8 {
    if a == 0 || b == 0 {
        return 0;
    }
    let log_a = LOG.get(usize::from(a)).copied().unwrap_or(0);
    let log_b = LOG.get(usize::from(b)).copied().unwrap_or(0);
    // Both logarithms are below 255, so the sum is below 510 < EXP.len().
    EXP.get(usize::from(log_a) + usize::from(log_b))
        .copied()
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Multiplication the slow way: shift and add, reducing by the primitive polynomial.
    fn mul_reference(a: u8, b: u8) -> u8 {
        let mut product: u16 = 0;
        for bit in (0..8).rev() {
            product <<= 1;
            if product & 0x100 != 0 {
                product ^= PRIMITIVE;
            }
            if (b >> bit) & 1 != 0 {
                product ^= u16::from(a);
            }
        }
        product as u8
    }

    #[test]
    fn known_powers() {
        // α^8 = α^4 + α^3 + α^2 + 1 = 29, and α has order 255.
        assert_eq!(exp(0), 1);
        assert_eq!(exp(7), 128);
        assert_eq!(exp(8), 29);
        assert_eq!(exp(25), 3);
        assert_eq!(exp(255), 1);
        let mut seen = [false; 256];
        for i in 0..255 {
            assert!(!seen[exp(i) as usize], "α^{i} repeats");
            seen[exp(i) as usize] = true;
        }
        assert!(!seen[0]);
    }

    #[test]
    fn multiplication_matches_reference() {
        for a in 0..=255u8 {
            for b in 0..=255u8 {
                assert_eq!(mul(a, b), mul_reference(a, b), "{a} * {b}");
            }
        }
    }

    #[test]
    fn field_laws() {
        for a in 1..=255u8 {
            assert_eq!(mul(a, 1), a);
            // Every non-zero element has an inverse: α^(255 - log a).
            let inverse = exp(255 - LOG[a as usize] as usize);
            assert_eq!(mul(a, inverse), 1);
            for b in [2u8, 3, 0x53, 0xCA] {
                for c in [5u8, 0x8E, 0xFF] {
                    assert_eq!(mul(a, b ^ c), mul(a, b) ^ mul(a, c));
                }
            }
        }
    }
}
