// SPDX-License-Identifier: GPL-2.0

//! Fuzzes the Rust API: the first bytes of the input pick the configuration, the mode
//! (text or URL form) and the buffer sizes; the rest is the data.

#![no_main]

use drm_panic_qr::{
    generate_text, generate_url, Config, EcLevel, Error, Mask, MaskChoice, Version,
    MAX_CODEWORDS_LEN, MAX_MATRIX_LEN,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| {
    let Some((header, rest)) = input.split_first_chunk::<8>() else {
        return;
    };
    let [level, min, max, mask, url_len, codewords_hi, matrix_hi, lows] = *header;
    let version = |b: u8| Version::new(b % 40 + 1).unwrap_or(Version::MAX);
    let config = Config {
        ec_level: EcLevel::ALL[usize::from(level % 4)],
        min_version: version(min),
        max_version: version(max),
        mask: match Mask::new(mask % 9) {
            Some(mask) => MaskChoice::Fixed(mask),
            None => MaskChoice::Best,
        },
    };
    // Buffer sizes around and below what version 40 needs.
    let size = |hi: u8, lo: u8, full: usize| {
        if hi == 0xFF {
            full
        } else {
            usize::from(hi) << 4 | usize::from(lo & 0x0F)
        }
    };
    let mut codewords = vec![0u8; size(codewords_hi, lows, MAX_CODEWORDS_LEN)];
    let mut matrix = vec![0u8; size(matrix_hi, lows >> 4, MAX_MATRIX_LEN)];

    let result = if url_len == 0 {
        generate_text(rest, &config, &mut codewords, &mut matrix)
    } else {
        let (url, data) = rest.split_at(usize::from(url_len).min(rest.len()));
        generate_url(url, data, &config, &mut codewords, &mut matrix)
    };
    match result {
        Ok(qr) => {
            assert!(qr.version() >= config.min_version && qr.version() <= config.max_version);
            assert_eq!(qr.width(), 17 + 4 * usize::from(qr.version().number()));
            assert!(qr.is_dark(0, 0) && qr.is_dark(6, 6) && !qr.is_dark(7, 7));
            if let MaskChoice::Fixed(mask) = config.mask {
                assert_eq!(qr.mask(), mask);
            }
        }
        Err(Error::InvalidConfig) => assert!(config.min_version > config.max_version),
        Err(Error::DataTooLong | Error::BufferTooSmall) => {}
    }
});
