// SPDX-License-Identifier: GPL-2.0

//! Bounded random testing on stable Rust (the cargo-fuzz targets in `fuzz/` need nightly):
//! thousands of random inputs, configurations and buffer sizes through the Rust API and
//! the C entry points. Nothing may panic (this runs with debug assertions and overflow
//! checks), every success must be a valid symbol, and every failure must be justified.

mod common;

use common::{decode_rqrr, render, render_with, Rng, ALPHANUMERIC, BYTE_ONLY, DIGITS};
use drm_panic_qr::kernel_abi::drm_panic_qr_generate;
use drm_panic_qr::{
    encode_text, encode_url, generate_text, generate_url, Config, EcLevel, Error, Mask, MaskChoice,
    Version, MAX_CODEWORDS_LEN, MAX_MATRIX_LEN,
};

/// Random length: mostly short, sometimes around or past the largest capacity.
fn length(rng: &mut Rng) -> usize {
    match rng.below(10) {
        0..=6 => rng.below(64),
        7 | 8 => rng.below(700),
        _ => rng.below(8000),
    }
}

fn content(rng: &mut Rng, len: usize) -> Vec<u8> {
    match rng.below(5) {
        0 => rng.text(len, DIGITS),
        1 => rng.text(len, ALPHANUMERIC),
        2 => rng.text(len, BYTE_ONLY),
        3 => rng.text(len, b"0123456789AZ az:/.\x00\xff"),
        _ => rng.bytes(len),
    }
}

fn buffer_len(rng: &mut Rng, full: usize) -> usize {
    if rng.below(2) == 0 {
        full
    } else {
        rng.below(full + 16)
    }
}

fn random_config(rng: &mut Rng) -> Config {
    let a = Version::new(1 + rng.below(40) as u8).unwrap();
    let b = Version::new(1 + rng.below(40) as u8).unwrap();
    let (min_version, max_version) = match rng.below(4) {
        0 => (Version::MIN, Version::MAX),
        1 => (a, b), // possibly min > max
        _ => (a.min(b), a.max(b)),
    };
    Config {
        ec_level: EcLevel::ALL[rng.below(4)],
        min_version,
        max_version,
        mask: if rng.below(4) == 0 {
            MaskChoice::Best
        } else {
            MaskChoice::Fixed(Mask::new(rng.below(8) as u8).unwrap())
        },
    }
}

/// The three finder patterns are where they belong.
fn check_finders(qr: &drm_panic_qr::QrCode<'_>) {
    let w = qr.width();
    for (left, top) in [(0, 0), (w - 7, 0), (0, w - 7)] {
        for d in 0..7 {
            assert!(qr.is_dark(left + d, top));
            assert!(qr.is_dark(left, top + d));
        }
        assert!(!qr.is_dark(left + 1, top + 1));
        assert!(qr.is_dark(left + 3, top + 3));
    }
}

#[test]
fn random_inputs_through_the_rust_api() {
    let mut rng = Rng::new(0xF0F0);
    let mut decoded = 0;
    let cases = 4000;
    for case in 0..cases {
        let config = random_config(&mut rng);
        let url_mode = rng.below(3) == 0;
        let len = length(&mut rng);
        let text = content(&mut rng, len);
        let url_len = rng.below(300);
        let url = content(&mut rng, url_len);
        let mut codewords = vec![0u8; buffer_len(&mut rng, MAX_CODEWORDS_LEN)];
        let mut matrix = vec![0u8; buffer_len(&mut rng, MAX_MATRIX_LEN)];
        let matrix_len = matrix.len();
        let result = if url_mode {
            generate_url(&url, &text, &config, &mut codewords, &mut matrix)
        } else {
            generate_text(&text, &config, &mut codewords, &mut matrix)
        };

        // What the same input gives with buffers that are large enough.
        let mut big = vec![0u8; MAX_CODEWORDS_LEN];
        let unbounded = if url_mode {
            encode_url(&url, &text, &config, &mut big)
        } else {
            encode_text(&text, &config, &mut big)
        };

        match result {
            Ok(qr) => {
                let version = qr.version();
                assert!(version >= config.min_version && version <= config.max_version);
                assert_eq!(Ok(version), unbounded.map(|e| e.version()));
                assert!(codewords.len() >= version.codeword_len());
                assert!(matrix_len >= version.matrix_len());
                if let MaskChoice::Fixed(mask) = config.mask {
                    assert_eq!(qr.mask(), mask);
                }
                check_finders(&qr);
                // Decode a sample of the smaller symbols (debug-mode decoding is slow).
                if case % 40 == 0 && version.number() <= 15 {
                    let content = decode_rqrr(&render(&qr, 2)).unwrap().content;
                    if url_mode {
                        assert!(content.starts_with(&url));
                    } else {
                        assert_eq!(content, text);
                    }
                    decoded += 1;
                }
            }
            Err(Error::InvalidConfig) => assert!(config.min_version > config.max_version),
            Err(Error::DataTooLong) => assert_eq!(unbounded.err(), Some(Error::DataTooLong)),
            Err(Error::BufferTooSmall) => {
                let version = unbounded.expect("fits with large buffers").version();
                assert!(
                    codewords.len() < version.codeword_len() || matrix_len < version.matrix_len()
                );
            }
        }
    }
    assert!(decoded > 10, "only {decoded} symbols decoded");
}

#[test]
fn random_calls_to_the_c_entry_points() {
    let mut rng = Rng::new(0xC0DE);
    let mut successes = 0;
    for case in 0..3000 {
        let data_size = match rng.below(3) {
            0 => 4096,
            1 => 8868,
            _ => rng.below(5000),
        };
        let tmp_size = match rng.below(3) {
            0 => 4096,
            1 => 8868,
            _ => rng.below(5000),
        };
        // data_len may exceed data_size: the function must refuse it.
        let data_len = if rng.below(10) == 0 {
            data_size + 1 + rng.below(10)
        } else {
            let len = length(&mut rng);
            len.min(data_size)
        };
        let mut data = content(&mut rng, data_size);
        let input = data[..data_len.min(data_size)].to_vec();
        let mut tmp = rng.bytes(tmp_size);
        let url = if rng.below(2) == 0 {
            let url_len = rng.below(255);
            let mut u: Vec<u8> = rng.text(url_len, BYTE_ONLY);
            u.push(0);
            Some(u)
        } else {
            None
        };
        let url_ptr = url.as_ref().map_or(std::ptr::null(), |u| u.as_ptr().cast());
        // SAFETY: `url_ptr` is NULL or a nul-terminated string; `data` and `tmp` are live,
        // distinct buffers of `data_size` and `tmp_size` bytes.
        let width = unsafe {
            drm_panic_qr_generate(
                url_ptr,
                data.as_mut_ptr(),
                data_len,
                data_size,
                tmp.as_mut_ptr(),
                tmp_size,
            )
        } as usize;
        if data_len > data_size {
            assert_eq!(width, 0);
            continue;
        }
        if width == 0 {
            continue;
        }
        successes += 1;
        assert!((21..=177).contains(&width) && (width - 17).is_multiple_of(4));
        let version = Version::new(((width - 17) / 4) as u8).unwrap();
        assert!(data_size >= version.matrix_len() && tmp_size >= version.codeword_len());
        if case % 60 == 0 && width <= 77 {
            let pitch = width.div_ceil(8);
            let image = render_with(width, 2, |x, y| {
                data[y * pitch + x / 8] & (0x80 >> (x % 8)) == 0
            });
            let content = decode_rqrr(&image).unwrap().content;
            match &url {
                Some(u) => assert!(content.starts_with(&u[..u.len() - 1])),
                None => assert_eq!(content, input),
            }
        }
    }
    assert!(successes > 500, "only {successes} successful calls");
}
