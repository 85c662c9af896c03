// SPDX-License-Identifier: GPL-2.0

//! Round trips through two independent decoders, rqrr and rxing (a port of ZXing): every
//! version at every level, every mask, every segment mode, mixed segments, and the
//! kernel's URL form.

mod common;

use common::{decode_rqrr, decode_rxing, render, rqrr_level, Rng, ALPHANUMERIC, BYTE_ONLY, DIGITS};
use drm_panic_qr::{
    digits, generate_text, generate_url, Config, EcLevel, Mask, MaskChoice, Version,
    MAX_CODEWORDS_LEN, MAX_MATRIX_LEN,
};

/// Encodes, renders and decodes `text` with both decoders and checks content, version,
/// level and mask.
fn round_trip(text: &[u8], config: &Config, what: &str) {
    let mut codewords = vec![0u8; MAX_CODEWORDS_LEN];
    let mut matrix = vec![0u8; MAX_MATRIX_LEN];
    let qr = generate_text(text, config, &mut codewords, &mut matrix)
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    check_decoders(&qr, text, config.ec_level, what);
}

fn check_decoders(qr: &drm_panic_qr::QrCode<'_>, text: &[u8], level: EcLevel, what: &str) {
    let image = render(qr, 2);
    let rqrr = decode_rqrr(&image).unwrap_or_else(|e| panic!("{what}: {e}"));
    assert_eq!(rqrr.content, text, "{what}: rqrr content");
    assert_eq!(
        rqrr.version,
        qr.version().number() as usize,
        "{what}: rqrr version"
    );
    assert_eq!(rqrr.ecc_level, rqrr_level(level), "{what}: rqrr level");
    assert_eq!(
        rqrr.mask,
        u16::from(qr.mask().number()),
        "{what}: rqrr mask"
    );

    let rxing = decode_rxing(&image).unwrap_or_else(|e| panic!("{what}: {e}"));
    assert_eq!(rxing.as_bytes(), text, "{what}: rxing content");
}

fn pinned(number: u8, level: EcLevel, mask: MaskChoice) -> Config {
    let version = Version::new(number).unwrap();
    Config {
        ec_level: level,
        min_version: version,
        max_version: version,
        mask,
    }
}

/// Text of one kind (or mixed, `kind == 3`) filling most of `version` at `level`.
fn filler(rng: &mut Rng, number: u8, level: EcLevel, kind: usize) -> Vec<u8> {
    let bits = Version::new(number).unwrap().data_capacity_bits(level) - 40;
    match kind {
        0 => rng.text(bits * 3 / 10, DIGITS),
        1 => rng.text(bits * 2 / 11, ALPHANUMERIC),
        2 => rng.text(bits / 8, BYTE_ONLY),
        _ => {
            // Alternating runs; the optimal segmentation packs them better than bytes.
            let mut text = Vec::new();
            while (text.len() + 60) * 8 < bits {
                let run = 5 + rng.below(20);
                let alphabet = [DIGITS, ALPHANUMERIC, BYTE_ONLY][rng.below(3)];
                text.extend(rng.text(run, alphabet));
            }
            text
        }
    }
}

#[test]
fn every_version_and_level() {
    let mut rng = Rng::new(10);
    for number in 1..=40u8 {
        for (l, level) in EcLevel::ALL.into_iter().enumerate() {
            // Cycle the segment kind and the forced mask so that every combination of
            // level, kind and mask shows up across the versions.
            let kind = (number as usize + l) % 4;
            let mask = Mask::new((number + 3 * l as u8) % 8).unwrap();
            let text = filler(&mut rng, number, level, kind);
            let config = pinned(number, level, MaskChoice::Fixed(mask));
            round_trip(
                &text,
                &config,
                &format!("version {number} {level:?} kind {kind}"),
            );
        }
    }
}

#[test]
fn every_mask() {
    let mut rng = Rng::new(11);
    for number in [1u8, 2, 6, 7, 13, 27, 40] {
        for mask in Mask::ALL {
            let level = EcLevel::ALL[(number as usize + mask.number() as usize) % 4];
            let text = filler(&mut rng, number, level, 3);
            let config = pinned(number, level, MaskChoice::Fixed(mask));
            round_trip(&text, &config, &format!("version {number} mask {mask:?}"));
        }
    }
}

#[test]
fn best_mask_and_smallest_version() {
    let mut rng = Rng::new(12);
    for len in [0usize, 1, 10, 100, 500, 1500, 2900] {
        let text = rng.text(len, b"0123456789ABCDEF abcdef-./:0000");
        for level in [EcLevel::Low, EcLevel::High] {
            let config = Config {
                ec_level: level,
                ..Config::default()
            };
            if len >= 1500 && level == EcLevel::High {
                continue;
            }
            round_trip(&text, &config, &format!("{len} chars {level:?}"));
            // The version is the smallest that fits: one less does not.
            let mut codewords = vec![0u8; MAX_CODEWORDS_LEN];
            let version = drm_panic_qr::encode_text(&text, &config, &mut codewords)
                .unwrap()
                .version();
            if let Some(smaller) = Version::new(version.number() - 1) {
                let config = Config {
                    max_version: smaller,
                    ..config
                };
                assert_eq!(
                    drm_panic_qr::encode_text(&text, &config, &mut codewords),
                    Err(drm_panic_qr::Error::DataTooLong)
                );
            }
        }
    }
}

#[test]
fn mixed_segments() {
    let cases: [&[u8]; 6] = [
        b"HTTPS://EXAMPLE.COM/REPORT?ID=123456789012345678901234567890",
        b"kernel BUG at mm/slub.c:4321! 0000000000000000000000000000",
        b"Call Trace: [<ffffffff81234567>] 12345678901234567890 ABCDEFGHIJKL end",
        b"0",
        b"A",
        b"a",
    ];
    for (i, text) in cases.into_iter().enumerate() {
        for level in EcLevel::ALL {
            let config = Config {
                ec_level: level,
                ..Config::default()
            };
            round_trip(text, &config, &format!("case {i} {level:?}"));
        }
    }
}

#[test]
fn binary_bytes_through_rqrr() {
    // Arbitrary bytes (not text) decoded to raw bytes by rqrr.
    let mut rng = Rng::new(13);
    let mut codewords = vec![0u8; MAX_CODEWORDS_LEN];
    let mut matrix = vec![0u8; MAX_MATRIX_LEN];
    for len in [1usize, 17, 300, 2953] {
        let data = rng.bytes(len);
        let qr = generate_text(&data, &Config::default(), &mut codewords, &mut matrix).unwrap();
        let decoded = decode_rqrr(&render(&qr, 2)).unwrap();
        assert_eq!(decoded.content, data, "{len} bytes");
    }
}

#[test]
fn url_form() {
    let mut rng = Rng::new(14);
    let url = b"https://panic.archlinux.org/panic_report#?a=x86_64&v=6.12.0&z=";
    let mut codewords = vec![0u8; MAX_CODEWORDS_LEN];
    let mut matrix = vec![0u8; MAX_MATRIX_LEN];
    let max = drm_panic_qr::max_url_data_len(Version::MAX, EcLevel::Low, url.len());
    for len in [0usize, 1, 6, 7, 8, 100, 1000, max] {
        let data = rng.bytes(len);
        let qr = generate_url(url, &data, &Config::default(), &mut codewords, &mut matrix)
            .unwrap_or_else(|e| panic!("{len} bytes: {e}"));
        let mut expected = url.to_vec();
        let mut ascii = vec![0u8; digits::digit_count(len)];
        digits::write_ascii_digits(&data, &mut ascii).unwrap();
        expected.extend_from_slice(&ascii);
        check_decoders(&qr, &expected, EcLevel::Low, &format!("url + {len} bytes"));
        if len == max {
            assert_eq!(qr.version(), Version::MAX);
        }
    }
}
