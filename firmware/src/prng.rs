// SPDX-License-Identifier: GPL-2.0
//! A small deterministic generator for the synthetic bytes (filler, "code", signatures).
//! xorshift64*: good enough to look like noise, and the same on every host.

/// Deterministic byte source.
pub(crate) struct Prng(u64);

impl Prng {
    /// A generator for `seed` (any value, including 0).
    pub(crate) fn new(seed: u64) -> Self {
        Prng(seed ^ 0x9E37_79B9_7F4A_7C15 | 1)
    }

    fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Fills `buf`.
    pub(crate) fn fill(&mut self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            let v = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Prng;

    #[test]
    fn deterministic_and_seed_dependent() {
        let (mut a, mut b, mut c) = ([0u8; 37], [0u8; 37], [0u8; 37]);
        Prng::new(1).fill(&mut a);
        Prng::new(1).fill(&mut b);
        Prng::new(2).fill(&mut c);
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert!(a.iter().any(|&x| x != 0));
    }
}
