// SPDX-License-Identifier: GPL-2.0

//! Bit-for-bit comparison with the `qrcodegen` crate, an independent encoder, for every
//! version, level and mask; and capacities at every version and level.

mod common;

use common::{Rng, ALPHANUMERIC, BYTE_ONLY, DIGITS};
use drm_panic_qr::{
    encode_text, Config, EcLevel, Mask, MaskChoice, Version, MAX_CODEWORDS_LEN, MAX_MATRIX_LEN,
};
use qrcodegen::{QrCode as RefCode, QrCodeEcc, QrSegment};

fn ref_level(level: EcLevel) -> QrCodeEcc {
    match level {
        EcLevel::Low => QrCodeEcc::Low,
        EcLevel::Medium => QrCodeEcc::Medium,
        EcLevel::Quartile => QrCodeEcc::Quartile,
        EcLevel::High => QrCodeEcc::High,
    }
}

fn pinned(version: Version, level: EcLevel, mask: MaskChoice) -> Config {
    Config {
        ec_level: level,
        min_version: version,
        max_version: version,
        mask,
    }
}

fn assert_same_modules(ours: &drm_panic_qr::QrCode<'_>, reference: &RefCode, what: &str) {
    assert_eq!(ours.width() as i32, reference.size(), "{what}");
    for y in 0..ours.width() {
        for x in 0..ours.width() {
            assert_eq!(
                ours.is_dark(x, y),
                reference.get_module(x as i32, y as i32),
                "{what}: module ({x}, {y})"
            );
        }
    }
}

/// Random text with every kind of character, sized to need about `bits` bits.
fn mixed_text(rng: &mut Rng, bits: usize) -> Vec<u8> {
    let mut text = Vec::new();
    let mut used = 0;
    // Runs of one kind of character, costed pessimistically (4 bits per digit, 6 per
    // alphanumeric character, a 20-bit header each) until the next one might not fit.
    loop {
        let (alphabet, per_char) = match rng.below(3) {
            0 => (DIGITS, 4),
            1 => (ALPHANUMERIC, 6),
            _ => (BYTE_ONLY, 8),
        };
        let run = 1 + rng.below(40);
        let cost = run * per_char + 20;
        if used + cost > bits {
            return text;
        }
        text.extend(rng.text(run, alphabet));
        used += cost;
    }
}

/// The codewords layout (placement, interleaving, error correction, masking, format and
/// version information) matches qrcodegen's for the same data codewords, for all 1280
/// combinations of version, level and mask, with mixed-segment data.
#[test]
fn all_versions_levels_masks_match_qrcodegen() {
    let mut rng = Rng::new(1);
    let mut codewords = vec![0u8; MAX_CODEWORDS_LEN];
    let mut matrix = vec![0u8; MAX_MATRIX_LEN];
    for number in 1..=40 {
        let version = Version::new(number).unwrap();
        for level in EcLevel::ALL {
            let text = mixed_text(&mut rng, version.data_capacity_bits(level));
            for mask in Mask::ALL {
                let config = pinned(version, level, MaskChoice::Fixed(mask));
                let encoded = encode_text(&text, &config, &mut codewords).unwrap_or_else(|e| {
                    panic!(
                        "{number}-{level:?}: {e:?} {}",
                        String::from_utf8_lossy(&text)
                    )
                });
                let data_len = version.data_capacity_bits(level) / 8;
                let reference = RefCode::encode_codewords(
                    qrcodegen::Version::new(number),
                    ref_level(level),
                    &codewords[..data_len],
                    Some(qrcodegen::Mask::new(mask.number())),
                );
                let ours = encoded.draw(&codewords, &mut matrix).unwrap();
                assert_eq!(ours.mask(), mask);
                let what = format!("version {number} {level:?} mask {}", mask.number());
                assert_same_modules(&ours, &reference, &what);
            }
        }
    }
}

/// Single-mode inputs give the same segment bits and padding as qrcodegen's encoder, so
/// the whole symbol matches.
#[test]
fn single_mode_segments_match_qrcodegen() {
    let mut rng = Rng::new(2);
    let mut codewords = vec![0u8; MAX_CODEWORDS_LEN];
    let mut matrix = vec![0u8; MAX_MATRIX_LEN];
    for number in 1..=40u8 {
        let version = Version::new(number).unwrap();
        for (i, level) in EcLevel::ALL.into_iter().enumerate() {
            let bits = version.data_capacity_bits(level);
            let mask = Mask::new((number + i as u8) % 8).unwrap();
            for (alphabet, bits_per_char) in [(DIGITS, 4), (ALPHANUMERIC, 6), (BYTE_ONLY, 8)] {
                // Somewhere between half and all of the capacity.
                let len = (bits / 2 + rng.below(bits / 2)) / bits_per_char;
                let text = rng.text(len.max(1), alphabet);
                let segment = match bits_per_char {
                    4 => QrSegment::make_numeric(std::str::from_utf8(&text).unwrap()),
                    6 => QrSegment::make_alphanumeric(std::str::from_utf8(&text).unwrap()),
                    _ => QrSegment::make_bytes(&text),
                };
                let config = pinned(version, level, MaskChoice::Fixed(mask));
                let Ok(ours) =
                    drm_panic_qr::generate_text(&text, &config, &mut codewords, &mut matrix)
                else {
                    // Bytes only: a run of over ~2/3 of the capacity may not fit; qrcodegen
                    // must agree.
                    let reference = RefCode::encode_segments_advanced(
                        &[segment],
                        ref_level(level),
                        qrcodegen::Version::new(number),
                        qrcodegen::Version::new(number),
                        Some(qrcodegen::Mask::new(mask.number())),
                        false,
                    );
                    assert!(reference.is_err(), "qrcodegen fits {len} chars in {number}");
                    continue;
                };
                let reference = RefCode::encode_segments_advanced(
                    &[segment],
                    ref_level(level),
                    qrcodegen::Version::new(number),
                    qrcodegen::Version::new(number),
                    Some(qrcodegen::Mask::new(mask.number())),
                    false,
                )
                .unwrap();
                let what = format!("version {number} {level:?} {len} chars");
                assert_same_modules(&ours, &reference, &what);
            }
        }
    }
}

/// Characters per mode that fit one segment in `version` at `level`, computed from the
/// capacity and the segment sizes of ISO/IEC 18004 §7.4.
fn capacity(version: Version, level: EcLevel, mode: usize) -> usize {
    let bits = version.data_capacity_bits(level);
    let group = match version.number() {
        1..=9 => 0,
        10..=26 => 1,
        _ => 2,
    };
    let count_bits = [[10, 12, 14], [9, 11, 13], [8, 16, 16]][mode][group];
    let room = bits - 4 - count_bits;
    match mode {
        0 => room / 10 * 3 + [0, 0, 0, 0, 1, 1, 1, 2, 2, 2][room % 10],
        1 => room / 11 * 2 + usize::from(room % 11 >= 6),
        _ => room / 8,
    }
}

#[test]
fn capacities_match_the_standard_and_qrcodegen() {
    // Known values from ISO/IEC 18004:2015 Table 7 (numeric, alphanumeric, byte).
    let known = [
        (1, EcLevel::Low, [41, 25, 17]),
        (1, EcLevel::High, [17, 10, 7]),
        (10, EcLevel::Medium, [513, 311, 213]),
        (40, EcLevel::Low, [7089, 4296, 2953]),
        (40, EcLevel::Medium, [5596, 3391, 2331]),
        (40, EcLevel::Quartile, [3993, 2420, 1663]),
        (40, EcLevel::High, [3057, 1852, 1273]),
    ];
    for (number, level, counts) in known {
        let version = Version::new(number).unwrap();
        for (mode, count) in counts.into_iter().enumerate() {
            assert_eq!(
                capacity(version, level, mode),
                count,
                "{number}-{level:?} mode {mode}"
            );
        }
    }

    let mut codewords = vec![0u8; MAX_CODEWORDS_LEN];
    let mut rng = Rng::new(3);
    for number in 1..=40 {
        let version = Version::new(number).unwrap();
        for level in EcLevel::ALL {
            let config = pinned(version, level, MaskChoice::Best);
            for (mode, alphabet) in [DIGITS, ALPHANUMERIC, BYTE_ONLY].into_iter().enumerate() {
                let count = capacity(version, level, mode);
                let fits = rng.text(count, alphabet);
                let too_long = rng.text(count + 1, alphabet);
                assert!(
                    encode_text(&fits, &config, &mut codewords).is_ok(),
                    "{number}-{level:?}"
                );
                assert_eq!(
                    encode_text(&too_long, &config, &mut codewords),
                    Err(drm_panic_qr::Error::DataTooLong),
                    "{number}-{level:?} mode {mode}"
                );
                let segment = |text: &[u8]| match mode {
                    0 => QrSegment::make_numeric(std::str::from_utf8(text).unwrap()),
                    1 => QrSegment::make_alphanumeric(std::str::from_utf8(text).unwrap()),
                    _ => QrSegment::make_bytes(text),
                };
                let reference = |text: &[u8]| {
                    RefCode::encode_segments_advanced(
                        &[segment(text)],
                        ref_level(level),
                        qrcodegen::Version::new(number),
                        qrcodegen::Version::new(number),
                        Some(qrcodegen::Mask::new(0)),
                        false,
                    )
                    .is_ok()
                };
                assert!(reference(&fits));
                assert!(!reference(&too_long));
            }
        }
    }
}

/// Our penalty rules differ from qrcodegen's in two conventions (rule 3 counts both light
/// sides separately as ISO/IEC 18004 and ZXing do, and rule 4 rounds down at exact 5%
/// steps), so the chosen masks may differ; they should still mostly agree.
#[test]
fn best_mask_mostly_agrees_with_qrcodegen() {
    let mut rng = Rng::new(4);
    let mut codewords = vec![0u8; MAX_CODEWORDS_LEN];
    let mut matrix = vec![0u8; MAX_MATRIX_LEN];
    let mut agree = 0;
    let mut total = 0;
    for number in (1..=40).step_by(3) {
        let version = Version::new(number).unwrap();
        let level = EcLevel::ALL[number as usize % 4];
        let text = mixed_text(&mut rng, version.data_capacity_bits(level));
        let config = pinned(version, level, MaskChoice::Best);
        let encoded = encode_text(&text, &config, &mut codewords).unwrap();
        let data_len = version.data_capacity_bits(level) / 8;
        let reference = RefCode::encode_codewords(
            qrcodegen::Version::new(number),
            ref_level(level),
            &codewords[..data_len],
            None,
        );
        let ours = encoded.draw(&codewords, &mut matrix).unwrap();
        total += 1;
        if ours.mask().number() == reference.mask().value() {
            agree += 1;
        }
    }
    eprintln!("best mask agrees with qrcodegen in {agree} of {total} symbols");
    assert!(agree * 2 >= total, "{agree} of {total}");
}
