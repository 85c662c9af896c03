// SPDX-License-Identifier: GPL-2.0

//! Benchmark: encoding a full version-40 panic QR code, against the `qrcodegen` crate.
//!
//! Run with `cargo run --release -p drm-panic-qr --example qr_bench [iterations]`.
//!
//! The payload is what drm_panic.c produces: a report URL followed by zlib-compressed kmsg
//! (random bytes stand in for it; compressed data looks random) written as decimal digits,
//! as much as fits in version 40 at level L. qrcodegen gets the same segments (a byte
//! segment for the URL, a numeric segment for the digits), built once outside the timed
//! loop; our timing includes turning the bytes into digits and segmenting the URL.
//! Both are timed with every mask scored, and with one fixed mask. Every timing is the
//! median of the iterations, each iteration one timed encode, measured in the same run; a
//! ratio is printed only when both medians span at least `MIN_STEPS` steps of the clock.

use std::hint::black_box;
use std::time::{Duration, Instant};

use drm_panic_qr::kernel_abi::max_data_size;
use drm_panic_qr::{
    digits, generate_url, Config, EcLevel, Mask, MaskChoice, Version, MAX_CODEWORDS_LEN,
    MAX_MATRIX_LEN,
};
use qrcodegen::{QrCode as RefCode, QrCodeEcc, QrSegment};

const URL: &str = "https://panic.archlinux.org/panic_report#?a=x86_64&v=6.12.0&z=";

/// A timing is resolved when it spans at least this many steps of the clock (<= 1 %).
const MIN_STEPS: u32 = 100;

/// The smallest non-zero difference between two clock reads (includes the cost of a read).
fn clock_step() -> Duration {
    let t0 = Instant::now();
    let mut last = t0;
    let mut step = Duration::MAX;
    let mut seen = 0;
    while seen < 1000 && t0.elapsed() < Duration::from_millis(100) {
        let now = Instant::now();
        if now > last {
            step = step.min(now - last);
            seen += 1;
            last = now;
        }
    }
    step
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort_unstable();
    samples[samples.len() / 2]
}

fn time(iterations: usize, mut f: impl FnMut()) -> Duration {
    // Warm up caches and branch predictors first.
    for _ in 0..iterations.div_ceil(10) {
        f();
    }
    let samples = (0..iterations)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .collect();
    median(samples)
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1e3)
}

/// Pseudo-random bytes, standing in for compressed kmsg.
fn payload(len: usize) -> Vec<u8> {
    let mut state = 0x0123_4567_89AB_CDEFu64;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect()
}

/// The largest QR code drm_panic.c can draw on a `width` x `height` screen
/// (`_draw_panic_screen_qr_code`): the code plus a 4-module margin is scaled by an integer
/// factor of at least 2 into `min(3 * width / 4, 3 * height / 4)` pixels, and the panic
/// message (5 lines of the font) must fit below it.
fn largest_drawable_version(width: u32, height: u32, font_height: u32) -> Option<u8> {
    let max_qr_size = (3 * width / 4).min(3 * height / 4);
    let message_height = 5 * font_height;
    (1..=40u8).rev().find(|&v| {
        let qr_width = 17 + 4 * u32::from(v);
        let canvas = qr_width + 2 * 4;
        let scale = max_qr_size / canvas;
        scale >= 2 && height >= canvas * scale + message_height
    })
}

fn main() {
    let iterations: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(300);

    let data_len = drm_panic_qr::max_url_data_len(Version::MAX, EcLevel::Low, URL.len());
    let data = payload(data_len);
    let mut ascii = vec![0u8; digits::digit_count(data_len)];
    digits::write_ascii_digits(&data, &mut ascii).unwrap();
    let ascii = String::from_utf8(ascii).unwrap();

    let segments = [
        QrSegment::make_bytes(URL.as_bytes()),
        QrSegment::make_numeric(&ascii),
    ];
    let reference = |mask: Option<qrcodegen::Mask>| {
        RefCode::encode_segments_advanced(
            &segments,
            QrCodeEcc::Low,
            qrcodegen::Version::new(1),
            qrcodegen::Version::new(40),
            mask,
            false,
        )
        .unwrap()
    };

    let mut codewords = vec![0u8; MAX_CODEWORDS_LEN];
    let mut matrix = vec![0u8; MAX_MATRIX_LEN];
    let mut ours = |mask: MaskChoice| {
        let config = Config {
            mask,
            ..Config::default()
        };
        let qr = generate_url(
            URL.as_bytes(),
            black_box(&data),
            &config,
            &mut codewords,
            &mut matrix,
        )
        .unwrap();
        (qr.version(), qr.mask())
    };

    // Same symbol as qrcodegen with the same mask.
    let (version, best) = ours(MaskChoice::Best);
    let fixed = Mask::new(0).unwrap();
    ours(MaskChoice::Fixed(fixed));
    let same = {
        let r = reference(Some(qrcodegen::Mask::new(fixed.number())));
        let config = Config {
            mask: MaskChoice::Fixed(fixed),
            ..Config::default()
        };
        let mut cw = vec![0u8; MAX_CODEWORDS_LEN];
        let mut m = vec![0u8; MAX_MATRIX_LEN];
        let q = generate_url(URL.as_bytes(), &data, &config, &mut cw, &mut m).unwrap();
        (0..q.width())
            .all(|y| (0..q.width()).all(|x| q.is_dark(x, y) == r.get_module(x as i32, y as i32)))
    };
    let ref_auto = reference(None);

    println!(
        "payload: {} URL characters + {data_len} bytes = {} digits",
        URL.len(),
        ascii.len()
    );
    println!(
        "symbol: version {} level L; best mask ours {} / qrcodegen {}; identical modules with mask {}: {same}",
        version.number(),
        best.number(),
        ref_auto.mask().value(),
        fixed.number()
    );
    let step = clock_step();
    println!(
        "{iterations} iterations each, median; clock step {:.0} ns",
        step.as_secs_f64() * 1e9
    );

    let ours_best = time(iterations, || {
        black_box(ours(MaskChoice::Best));
    });
    let ref_best = time(iterations, || {
        black_box(reference(None));
    });
    let ours_fixed = time(iterations, || {
        black_box(ours(MaskChoice::Fixed(fixed)));
    });
    let ref_fixed = time(iterations, || {
        black_box(reference(Some(qrcodegen::Mask::new(fixed.number()))));
    });

    let ratio = |theirs: Duration, ours: Duration| {
        if theirs.min(ours) < step * MIN_STEPS {
            format!("not printed (under {MIN_STEPS} clock steps)")
        } else {
            format!("{:.2}x", theirs.as_secs_f64() / ours.as_secs_f64())
        }
    };
    println!("qrcodegen / ours: time of the same symbol, > 1 = ours is faster");
    println!(
        "all 8 masks:   ours {:>10}   qrcodegen {:>10}   qrcodegen/ours = {}",
        ms(ours_best),
        ms(ref_best),
        ratio(ref_best, ours_best)
    );
    println!(
        "fixed mask {}:  ours {:>10}   qrcodegen {:>10}   qrcodegen/ours = {}",
        fixed.number(),
        ms(ours_fixed),
        ms(ref_fixed),
        ratio(ref_fixed, ours_fixed)
    );

    // How much kmsg one panic screen carries at 1024x768 (8x16 font, the default).
    let (w, h, font) = (1024, 768, 16);
    if let Some(v) = largest_drawable_version(w, h, font) {
        let version = v.min(40); // CONFIG_DRM_PANIC_SCREEN_QR_VERSION defaults to 40
        let bytes = max_data_size(version, URL.len());
        println!(
            "{w}x{h}: up to version {v} fits (scale {}), max_data_size({version}, {}) = {bytes} bytes \
             of compressed kmsg ({} digits); drm_panic.c dumps at most min(3 * {bytes}, 8868) = {} \
             bytes of kmsg to compress into it",
            (3 * h / 4) / (17 + 4 * u32::from(v) + 8),
            URL.len(),
            digits::digit_count(bytes),
            (3 * bytes).min(8868)
        );
    }
}
