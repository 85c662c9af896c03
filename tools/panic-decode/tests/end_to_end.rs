// SPDX-License-Identifier: GPL-2.0

//! End to end: a kernel log is compressed and encoded by the drm-panic-qr encoder the way
//! drm_panic.c does it, drawn on a 1024x768 panic screen the way drm_panic.c draws it,
//! saved as PNG and as PPM, and read back by the `panic-decode` binary.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output};

use drm_panic_qr::kernel_abi::{generate_in_place, max_data_size};
use image::{Rgb, RgbImage};

const BASE_URL: &str = "https://panic.archlinux.org/panic_report#";
const SCREEN: (u32, u32) = (1024, 768);

fn kmsg() -> Vec<u8> {
    let mut log = Vec::new();
    for i in 0..120 {
        writeln!(
            log,
            "[{:5}.{:06}] CPU: {} PID: {} Comm: kworker/{}:1 Not tainted 6.12.0 #1 RIP: \
             0010:nova_gsp_boot+0x{:x}/0x420",
            i / 10,
            i * 7919 % 1_000_000,
            i % 8,
            1000 + i,
            i % 4,
            i * 13
        )
        .unwrap();
    }
    log.extend_from_slice(b"Kernel panic - not syncing: Fatal exception\n");
    log
}

fn zlib(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::new(6));
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

/// drm_panic.c's `_draw_panic_screen_qr_code`: black screen, the QR code scaled into
/// 3/4 of the smaller side with a 4-module margin in the foreground colour, set bits of
/// the image drawn in the foreground colour.
fn draw_panic_screen(image: &[u8], width: usize) -> RgbImage {
    let (sw, sh) = SCREEN;
    let fg = Rgb([255, 255, 255]);
    let bg = Rgb([0, 0, 0]);
    let mut screen = RgbImage::from_pixel(sw, sh, bg);
    let max_qr_size = (3 * sw / 4).min(3 * sh / 4);
    let canvas = width as u32 + 8;
    let scale = max_qr_size / canvas;
    assert!(scale >= 2);
    let message_height = 5 * 16;
    let v_margin = (sh - canvas * scale - message_height) / 5;
    let (cx, cy) = ((sw - canvas * scale) / 2, 2 * v_margin);
    for y in 0..canvas * scale {
        for x in 0..canvas * scale {
            screen.put_pixel(cx + x, cy + y, fg);
        }
    }
    let pitch = width.div_ceil(8);
    for y in 0..width as u32 * scale {
        for x in 0..width as u32 * scale {
            let (mx, my) = ((x / scale) as usize, (y / scale) as usize);
            let set = image[my * pitch + mx / 8] & (0x80 >> (mx % 8)) != 0;
            screen.put_pixel(
                cx + 4 * scale + x,
                cy + 4 * scale + y,
                if set { fg } else { bg },
            );
        }
    }
    screen
}

fn temp_path(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("panic-decode-{}-{name}", std::process::id()))
}

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_panic-decode"))
        .args(args)
        .output()
        .unwrap()
}

/// Encodes like drm_panic_get_qr_code_url: as much of the end of the log as fits.
fn url_mode_screen() -> (RgbImage, Vec<u8>) {
    let url = format!("{BASE_URL}?a=x86_64&v=6.12.0&z=");
    let max = max_data_size(40, url.len());
    let log = kmsg();
    // Drop leading lines until the compressed log fits, as drm_panic.c does.
    let mut start = 0;
    let compressed = loop {
        let compressed = zlib(&log[start..]);
        if compressed.len() <= max {
            break compressed;
        }
        start += log[start..].iter().position(|&b| b == b'\n').unwrap() + 1;
    };
    let mut data = vec![0u8; 4096];
    let mut tmp = vec![0u8; 3 * 2956];
    data[..compressed.len()].copy_from_slice(&compressed);
    let width =
        generate_in_place(Some(url.as_bytes()), &mut data, compressed.len(), &mut tmp).unwrap();
    (
        draw_panic_screen(&data, width as usize),
        log[start..].to_vec(),
    )
}

#[test]
fn screenshot_png_and_ppm() {
    let (screen, expected) = url_mode_screen();
    assert!(
        expected.len() > 1000,
        "only {} bytes of log fit",
        expected.len()
    );
    for extension in ["png", "ppm"] {
        let path = temp_path(&format!("url.{extension}"));
        screen.save(&path).unwrap();
        let output = run(&[path.to_str().unwrap()]);
        std::fs::remove_file(&path).ok();
        assert!(
            output.status.success(),
            "{extension}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert_eq!(output.stdout, expected, "{extension}");
    }
}

#[test]
fn raw_mode_screenshot() {
    let log = kmsg();
    let max = max_data_size(40, 0);
    let text = &log[log.len() - max.min(log.len())..];
    let mut data = vec![0u8; 3 * 2956];
    let mut tmp = vec![0u8; 4096];
    data[..text.len()].copy_from_slice(text);
    let width = generate_in_place(None, &mut data, text.len(), &mut tmp).unwrap();
    let path = temp_path("raw.png");
    draw_panic_screen(&data, width as usize)
        .save(&path)
        .unwrap();
    let output = run(&[path.to_str().unwrap()]);
    std::fs::remove_file(&path).ok();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(output.stdout, text);
}

#[test]
fn url_argument() {
    let log = b"[    0.000000] Linux version 6.12.0\nKernel panic - not syncing: test\n";
    let compressed = zlib(log);
    let mut ascii = vec![0u8; drm_panic_qr::digits::digit_count(compressed.len())];
    drm_panic_qr::digits::write_ascii_digits(&compressed, &mut ascii).unwrap();
    let url = format!(
        "{BASE_URL}?a=x86_64&v=6.12.0&z={}",
        String::from_utf8(ascii).unwrap()
    );
    let output = run(&["--url", &url]);
    assert!(output.status.success());
    assert_eq!(output.stdout, log);
}

#[test]
fn clear_errors_and_no_panics() {
    let cases: [(&[&str], &str); 6] = [
        (
            &["--url", "https://e.org/report?a=x86_64"],
            "no z= parameter",
        ),
        (
            &["--url", "https://e.org/#?z=12x45"],
            "'x' at position 2 is not a digit",
        ),
        (
            &["--url", "https://e.org/#?z=1234"],
            "last group has 4 digits",
        ),
        (&["--url", "https://e.org/#?z=2550000000"], "not valid zlib"),
        (&["/nonexistent/screen.png"], "cannot read the image"),
        (&[], "usage:"),
    ];
    for (args, message) in cases {
        let output = run(args);
        assert!(!output.status.success(), "{args:?}");
        // 101 would be a Rust panic.
        assert_ne!(output.status.code(), Some(101), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(message), "{args:?}: {stderr}");
    }

    // An image without a QR code.
    let path = temp_path("blank.ppm");
    RgbImage::from_pixel(64, 48, Rgb([0, 0, 0]))
        .save(&path)
        .unwrap();
    let output = run(&[path.to_str().unwrap()]);
    std::fs::remove_file(&path).ok();
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("no readable QR code"));
}
