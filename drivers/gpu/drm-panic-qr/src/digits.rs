// SPDX-License-Identifier: GPL-2.0

//! Binary data as decimal digits, the way the kernel puts compressed logs into URLs.
//!
//! A URL parameter cannot hold raw bytes, and base64 would need byte mode (8 bits per
//! character, so 33% overhead). Decimal digits are valid in a URL and numeric mode packs
//! them at 10 bits per 3 digits. The conversion (the same one as the FIDO CTAP 2.2 hybrid
//! transport QR code) is:
//!
//! * the data is cut into chunks of 7 bytes, the last one possibly shorter;
//! * each chunk is read as a **little-endian** unsigned integer (first byte least
//!   significant) and written in decimal, most significant digit first, zero-padded to
//!   the number of digits that the largest value of that many bytes needs:
//!   `[0, 3, 5, 8, 10, 13, 15, 17]` digits for `0..=7` bytes.
//!
//! So 7 bytes (56 bits) become 17 digits (56.7 bits in numeric mode), 1.2% overhead. The
//! decoder does the inverse: groups of 17 digits give 7 bytes, and a final group of `d`
//! digits gives `floor(d * 2 / 5)` bytes, which inverts the table above. This is what the
//! `panic_report` web page (the decoder the kernel's Kconfig points to) and
//! `tools/panic-decode` do; both read the chunk little-endian.

/// Number of decimal digits for a chunk of `n` bytes (`n` in `0..=7`): the length of
/// `2^(8n) - 1` in decimal.
pub const DIGITS_PER_CHUNK: [usize; 8] = [0, 3, 5, 8, 10, 13, 15, 17];

/// Bytes per full chunk.
pub const CHUNK_BYTES: usize = 7;

/// Number of digits that `byte_len` bytes of data turn into.
pub const fn digit_count(byte_len: usize) -> usize {
    let full = (byte_len / CHUNK_BYTES).saturating_mul(17);
    let partial = match byte_len % CHUNK_BYTES {
        0 => 0,
        1 => 3,
        2 => 5,
        3 => 8,
        4 => 10,
        5 => 13,
        _ => 15,
    };
    full.saturating_add(partial)
}

/// Calls `emit` with every digit of `data` (values `0..=9`, in order).
pub fn for_each_digit(data: &[u8], mut emit: impl FnMut(u8)) {
    for chunk in data.chunks(CHUNK_BYTES) {
        let mut value = 0u64;
        for (i, byte) in chunk.iter().enumerate() {
            value |= u64::from(*byte) << (8 * i);
        }
        // Write all 17 digits right to left, then emit the last `count` of them. The value
        // is split at 10^9 so that the digit loop works on 32-bit numbers with constant
        // divisors.
        let mut high = (value / 1_000_000_000) as u32;
        let mut low = (value % 1_000_000_000) as u32;
        let mut all = [0u8; 17];
        for (position, slot) in all.iter_mut().rev().enumerate() {
            let part = if position < 9 { &mut low } else { &mut high };
            *slot = (*part % 10) as u8;
            *part /= 10;
        }
        let count = DIGITS_PER_CHUNK.get(chunk.len()).copied().unwrap_or(0);
        for digit in all.iter().skip(all.len() - count) {
            emit(*digit);
        }
    }
}

/// Writes the digits of `data` as ASCII into `out` and returns how many were written, or
/// `None` if `out` is shorter than [`digit_count`]`(data.len())`.
pub fn write_ascii_digits(data: &[u8], out: &mut [u8]) -> Option<usize> {
    let needed = digit_count(data.len());
    let out = out.get_mut(..needed)?;
    let mut slots = out.iter_mut();
    for_each_digit(data, |digit| {
        if let Some(slot) = slots.next() {
            *slot = b'0' + digit;
        }
    });
    Some(needed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::ToString;
    use std::vec::Vec;

    fn ascii(data: &[u8]) -> std::string::String {
        let mut out = [0u8; 256];
        let n = write_ascii_digits(data, &mut out).unwrap();
        std::string::String::from_utf8(out[..n].to_vec()).unwrap()
    }

    #[test]
    fn digit_table_is_the_length_of_the_largest_chunk() {
        for (n, digits) in DIGITS_PER_CHUNK.iter().enumerate() {
            let largest = if n == 0 {
                0u128
            } else {
                (1u128 << (8 * n)) - 1
            };
            let len = if n == 0 { 0 } else { largest.to_string().len() };
            assert_eq!(*digits, len, "{n} bytes");
            assert_eq!(digit_count(n), len);
            // The decoder's inverse for the final, partial chunk: floor(d * 2 / 5).
            if n < 7 {
                assert_eq!(len * 2 / 5, n);
            }
        }
        assert_eq!(digit_count(7 * 100 + 3), 1700 + 8);
    }

    #[test]
    fn little_endian_zero_padded() {
        assert_eq!(ascii(&[1]), "001");
        assert_eq!(ascii(&[0xFF]), "255");
        assert_eq!(ascii(&[0x01, 0x02]), "00513"); // 0x0201
        assert_eq!(ascii(&[0xFF; 7]), "72057594037927935");
        assert_eq!(ascii(&[0, 0, 0, 0, 0, 0, 0, 1]), "00000000000000000001");
        assert_eq!(ascii(&[]), "");
    }

    #[test]
    fn matches_the_panic_report_sample_decoder_rule() {
        // Decode with the rule of the panic_report page: 17-digit groups to 7 bytes,
        // little-endian, and the last group to floor(d * 2 / 5) bytes.
        let data: Vec<u8> = (0..40u8).map(|i| i.wrapping_mul(37) ^ 0x5A).collect();
        let digits = ascii(&data);
        let mut back = Vec::new();
        for group in digits.as_bytes().chunks(17) {
            let mut value: u64 = core::str::from_utf8(group).unwrap().parse().unwrap();
            let bytes = if group.len() == 17 {
                7
            } else {
                group.len() * 2 / 5
            };
            for _ in 0..bytes {
                back.push((value % 256) as u8);
                value /= 256;
            }
        }
        assert_eq!(back, data);
    }

    #[test]
    fn short_output_is_refused() {
        assert_eq!(write_ascii_digits(&[1, 2], &mut [0u8; 4]), None);
    }
}
