// SPDX-License-Identifier: GPL-2.0

//! The C entry points, called the way drivers/gpu/drm/drm_panic.c calls them.

mod common;

use std::ffi::CString;

use common::{decode_rqrr, decode_rxing, render_with, Rng, BYTE_ONLY};
use drm_panic_qr::kernel_abi::{drm_panic_qr_generate, drm_panic_qr_max_data_size};
use drm_panic_qr::{digits, Version};

/// drm_panic.c's buffer sizes: qrbuf1 is 3 * 2956 bytes, qrbuf2 4096.
const QR_BUFFER1_SIZE: usize = 3 * 2956;
const QR_BUFFER2_SIZE: usize = 4096;

const URL: &str = "https://panic.archlinux.org/panic_report#?a=x86_64&v=6.12.0&z=";

fn max_data_size(version: u8, url_len: usize) -> usize {
    // SAFETY: always safe to call.
    unsafe { drm_panic_qr_max_data_size(version, url_len) }
}

/// Calls drm_panic_qr_generate on Rust buffers; `data` holds the input in its first
/// `data_len` bytes and receives the image.
fn generate(url: Option<&str>, data: &mut [u8], data_len: usize, tmp: &mut [u8]) -> u8 {
    let url = url.map(|u| CString::new(u).unwrap());
    let url_ptr = url.as_ref().map_or(std::ptr::null(), |u| u.as_ptr());
    // SAFETY: `url_ptr` is NULL or a live nul-terminated string, `data` and `tmp` are
    // distinct live buffers of the sizes given.
    unsafe {
        drm_panic_qr_generate(
            url_ptr,
            data.as_mut_ptr(),
            data_len,
            data.len(),
            tmp.as_mut_ptr(),
            tmp.len(),
        )
    }
}

/// Whether module (x, y) of a kernel image is dark: the kernel draws set bits in the
/// quiet zone's colour, so a clear bit is a dark module.
fn kernel_dark(image: &[u8], width: usize, x: usize, y: usize) -> bool {
    let pitch = width.div_ceil(8);
    image[y * pitch + x / 8] & (0x80 >> (x % 8)) == 0
}

fn decode_kernel_image(image: &[u8], width: usize) -> Vec<u8> {
    let picture = render_with(width, 2, |x, y| kernel_dark(image, width, x, y));
    let rqrr = decode_rqrr(&picture).unwrap();
    let rxing = decode_rxing(&picture).unwrap();
    assert_eq!(rqrr.content, rxing.as_bytes(), "the two decoders disagree");
    rqrr.content
}

fn url_with_digits(url: &str, data: &[u8]) -> Vec<u8> {
    let mut expected = url.as_bytes().to_vec();
    let mut ascii = vec![0u8; digits::digit_count(data.len())];
    digits::write_ascii_digits(data, &mut ascii).unwrap();
    expected.extend_from_slice(&ascii);
    expected
}

#[test]
fn url_mode_like_drm_panic() {
    let mut rng = Rng::new(20);
    let max = max_data_size(40, URL.len());
    for len in [1usize, 7, 100, 1000, max] {
        // compressed kmsg in qrbuf2, qrbuf1 as scratch
        let mut qrbuf2 = vec![0u8; QR_BUFFER2_SIZE];
        let mut qrbuf1 = vec![0u8; QR_BUFFER1_SIZE];
        let data = rng.bytes(len);
        qrbuf2[..len].copy_from_slice(&data);
        let width = generate(Some(URL), &mut qrbuf2, len, &mut qrbuf1) as usize;
        assert!((21..=177).contains(&width), "{len} bytes: width {width}");
        let content = decode_kernel_image(&qrbuf2, width);
        assert_eq!(content, url_with_digits(URL, &data), "{len} bytes");
    }
}

#[test]
fn raw_mode_like_drm_panic() {
    let text = b"[  12.345678] Kernel panic - not syncing: sysrq triggered crash\n\
        [  12.345999] CPU: 3 PID: 1234 Comm: bash Not tainted 6.12.0 #1\n";
    let mut qrbuf1 = vec![0u8; QR_BUFFER1_SIZE];
    let mut qrbuf2 = vec![0u8; QR_BUFFER2_SIZE];
    qrbuf1[..text.len()].copy_from_slice(text);
    let width = generate(None, &mut qrbuf1, text.len(), &mut qrbuf2) as usize;
    assert!(width >= 21);
    assert_eq!(decode_kernel_image(&qrbuf1, width), text);
}

#[test]
fn image_layout_and_polarity() {
    let mut data = vec![0u8; QR_BUFFER2_SIZE];
    let mut tmp = vec![0u8; QR_BUFFER1_SIZE];
    data[..5].copy_from_slice(b"HELLO");
    let width = generate(None, &mut data, 5, &mut tmp) as usize;
    assert_eq!(width, 21);
    let pitch = 3;
    // The top-left finder: dark corner (clear bit), light ring inside (set bit), dark
    // centre; the separator column 7 is light.
    assert!(kernel_dark(&data, width, 0, 0));
    assert!(!kernel_dark(&data, width, 1, 1));
    assert!(kernel_dark(&data, width, 3, 3));
    assert!(!kernel_dark(&data, width, 7, 0));
    // Bits past the right edge (x = 21..24) are clear in every row.
    for y in 0..width {
        assert_eq!(data[y * pitch + 2] & 0b0000_0111, 0, "row {y}");
    }
}

#[test]
fn refuses_what_it_cannot_do() {
    let mut data = vec![0u8; QR_BUFFER2_SIZE];
    let mut tmp = vec![0u8; QR_BUFFER1_SIZE];
    // data_len larger than the buffer.
    assert_eq!(generate(None, &mut data[..10], 11, &mut tmp), 0);
    // Too much data for version 40.
    assert_eq!(generate(Some(URL), &mut data, 4000, &mut tmp), 0);
    // Image buffer too small for the version the data needs (version 1 needs 63 bytes).
    assert_eq!(generate(None, &mut data[..62], 1, &mut tmp), 0);
    assert_eq!(generate(None, &mut data[..63], 1, &mut tmp), 21);
    // Scratch buffer too small for the codewords (version 1 has 26).
    assert_eq!(generate(None, &mut data, 1, &mut tmp[..25]), 0);
    assert_eq!(generate(None, &mut data, 1, &mut tmp[..26]), 21);
    // NULL buffers.
    // SAFETY: NULL pointers are checked before any access.
    unsafe {
        assert_eq!(
            drm_panic_qr_generate(
                std::ptr::null(),
                std::ptr::null_mut(),
                0,
                0,
                tmp.as_mut_ptr(),
                10
            ),
            0
        );
        assert_eq!(
            drm_panic_qr_generate(
                std::ptr::null(),
                data.as_mut_ptr(),
                0,
                10,
                std::ptr::null_mut(),
                0
            ),
            0
        );
    }
    // Versions outside 1..=40.
    assert_eq!(max_data_size(0, 10), 0);
    assert_eq!(max_data_size(41, 10), 0);
    // A URL that leaves no room.
    assert_eq!(max_data_size(1, 100), 0);
}

#[test]
fn max_data_size_is_exact_at_every_version() {
    let mut rng = Rng::new(21);
    let mut tmp = vec![0u8; QR_BUFFER1_SIZE];
    for version in 1..=40u8 {
        let width = Version::new(version).unwrap().width() as u8;
        // URL mode: a URL of byte-mode characters, as max_data_size assumes.
        let url = "https://x.org/p#?a=x86_64&v=6.12.0&z=";
        let max = max_data_size(version, url.len());
        if max > 0 {
            let mut data = rng.bytes(QR_BUFFER2_SIZE);
            assert!(
                generate(Some(url), &mut data, max, &mut tmp) <= width,
                "v{version}"
            );
        }
        let mut data = rng.bytes(QR_BUFFER2_SIZE);
        let next = generate(Some(url), &mut data, max + 1, &mut tmp);
        assert!(
            next == 0 || next > width,
            "v{version}: {} bytes fit",
            max + 1
        );

        // Raw mode, with text that needs byte mode throughout.
        let max = max_data_size(version, 0);
        let mut data = rng.text(QR_BUFFER1_SIZE, BYTE_ONLY);
        assert!(
            generate(None, &mut data, max, &mut tmp) <= width,
            "raw v{version}"
        );
        let mut data = rng.text(QR_BUFFER1_SIZE, BYTE_ONLY);
        let next = generate(None, &mut data, max + 1, &mut tmp);
        assert!(
            next == 0 || next > width,
            "raw v{version}: {} bytes fit",
            max + 1
        );
    }
    // Version 40 numbers: 2953 bytes raw; with the URL above, every 7 bytes cost 17
    // digits.
    assert_eq!(max_data_size(40, 0), 2953);
}

#[test]
fn max_data_size_for_the_drm_panic_url() {
    let max = max_data_size(40, URL.len());
    // 2956 data codewords = 23648 bits, minus a byte segment for the URL (20 + 8 * 63
    // bits) and a numeric segment header (18 bits).
    let room = 23648 - (20 + 8 * URL.len()) - 18;
    let digits_fit = |bytes: usize| {
        let d = digits::digit_count(bytes);
        10 * (d / 3) + [0, 4, 7][d % 3] <= room
    };
    assert!(digits_fit(max) && !digits_fit(max + 1));
    eprintln!("version 40, URL of {} characters: {max} bytes", URL.len());
}

/// With the `kernel-abi` feature, the functions are exported under their C names.
#[cfg(feature = "kernel-abi")]
mod exported {
    extern "C" {
        fn drm_panic_qr_max_data_size(version: u8, url_len: usize) -> usize;
    }

    #[test]
    fn symbols_link() {
        // SAFETY: always safe to call.
        assert_eq!(unsafe { drm_panic_qr_max_data_size(40, 0) }, 2953);
    }
}
