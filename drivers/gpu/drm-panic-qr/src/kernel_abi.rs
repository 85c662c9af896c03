// SPDX-License-Identifier: GPL-2.0

//! The C interface that the kernel's `drivers/gpu/drm/drm_panic.c` calls, declared in
//! `include/drm/drm_panic.h`:
//!
//! ```c
//! size_t drm_panic_qr_max_data_size(u8 version, size_t url_len);
//! u8 drm_panic_qr_generate(const char *url, u8 *data, size_t data_len, size_t data_size,
//!                          u8 *tmp, size_t tmp_size);
//! ```
//!
//! The functions are always compiled (so host tests can call them); with the `kernel-abi`
//! feature they are also exported under these unmangled names.
//!
//! # How drm_panic.c uses them
//!
//! drm_panic.c allocates two buffers at init: `qrbuf1` of 3 * 2956 = 8868 bytes and
//! `qrbuf2` of 4096 bytes. At panic time:
//!
//! * **URL mode** (`CONFIG_DRM_PANIC_SCREEN_QR_CODE_URL` set): it formats
//!   `"<URL>?a=<machine>&v=<release>&z="` into a 256-byte stack buffer, asks
//!   `drm_panic_qr_max_data_size(panic_qr_version, url_len)` how many compressed bytes fit,
//!   dumps up to three times that much kmsg into `qrbuf1`, zlib-deflates it into `qrbuf2`
//!   (dropping leading lines until the result fits), and calls
//!   `drm_panic_qr_generate(url, qrbuf2, compressed_len, 4096, qrbuf1, 8868)`.
//! * **Raw mode** (empty URL): it dumps at most `drm_panic_qr_max_data_size(version, 0)`
//!   bytes of kmsg into `qrbuf1` and calls
//!   `drm_panic_qr_generate(NULL, qrbuf1, kmsg_len, 8868, qrbuf2, 4096)`.
//!
//! In both cases it then draws the image left in `data`: `width` rows of
//! `DIV_ROUND_UP(width, 8)` bytes, most significant bit first, scaled by an integer factor,
//! inside a margin of 4 modules. The margin is filled with the *foreground* colour and set
//! bits are drawn in the foreground colour on a background-coloured square: so the margin
//! is the quiet zone, and **a set bit is a light module**. This is the opposite of the
//! crate's own matrix, and [`generate_in_place`] converts.
//!
//! # Buffers
//!
//! | buffer | on entry                      | during                       | on return          |
//! |--------|-------------------------------|------------------------------|--------------------|
//! | `data` | `data_len` input bytes        | read while writing codewords | the image          |
//! | `tmp`  | anything                      | data + EC codewords          | codewords (junk)   |
//!
//! The input is fully consumed into `tmp` before the image is drawn over it. The version is
//! the smallest (1 to 40, level L) that holds the data; `data_size` must then be at least
//! `width * ceil(width / 8)` bytes (4071 for version 40) and `tmp_size` at least the
//! version's codeword count (3706 for version 40), otherwise the result is 0. The mask is
//! the best of the eight by the standard's penalty score.

#![allow(unsafe_code)]

use core::ffi::{c_char, CStr};

use crate::{encode_text, encode_url, max_text_len, max_url_data_len, Config, EcLevel, Version};

/// Generates the QR code for the panic screen.
///
/// * `url`: NULL, or the report URL to which the data is appended as decimal digits
///   (see [`crate::digits`]); the data is then typically zlib-compressed kmsg. With NULL
///   the data is encoded as it is (kmsg text), in the segments that need the fewest bits.
/// * `data`, `data_len`: the input. `data` is overwritten with the image.
/// * `data_size`: size of the `data` buffer.
/// * `tmp`, `tmp_size`: scratch buffer for the codewords.
///
/// Returns the width of the symbol in modules (21 to 177), or 0 if the data does not fit
/// in version 40 at level L, a buffer is too small, or a pointer is NULL.
///
/// # Safety
///
/// * `url` is NULL or points to a nul-terminated string that is valid for reads and does
///   not overlap `data` or `tmp`.
/// * `data` is valid for reads and writes of `data_size` bytes, `tmp` for reads and writes
///   of `tmp_size` bytes, and the two do not overlap.
/// * All three stay valid, and are not accessed by anything else, for the duration of the
///   call.
#[cfg_attr(feature = "kernel-abi", no_mangle)]
pub unsafe extern "C" fn drm_panic_qr_generate(
    url: *const c_char,
    data: *mut u8,
    data_len: usize,
    data_size: usize,
    tmp: *mut u8,
    tmp_size: usize,
) -> u8 {
    if data.is_null() || tmp.is_null() || data_len > data_size {
        return 0;
    }
    if isize::try_from(data_size).is_err() || isize::try_from(tmp_size).is_err() {
        return 0;
    }
    // SAFETY: `data` is non-null (checked above) and, by the caller's contract, valid for
    // reads and writes of `data_size` bytes, which is at most `isize::MAX` (checked above);
    // any `u8` is aligned and initialised memory holds valid `u8`s. Nothing else accesses
    // it during the call and it does not overlap `tmp` or `url`, so this is the only
    // reference to that memory.
    let data = unsafe { core::slice::from_raw_parts_mut(data, data_size) };
    // SAFETY: as for `data`: `tmp` is non-null, valid for `tmp_size <= isize::MAX` bytes
    // of reads and writes, and overlaps neither `data` nor `url`.
    let tmp = unsafe { core::slice::from_raw_parts_mut(tmp, tmp_size) };
    let url = if url.is_null() {
        None
    } else {
        // SAFETY: `url` is non-null and, by the caller's contract, points to a
        // nul-terminated string valid for reads for the duration of the call, which is
        // not written to meanwhile (it overlaps neither `data` nor `tmp`, the only memory
        // written here).
        Some(unsafe { CStr::from_ptr(url) }.to_bytes())
    };
    generate_in_place(url, data, data_len, tmp).unwrap_or(0)
}

/// The largest `data_len` that [`drm_panic_qr_generate`] accepts for a symbol of at most
/// `version` (1 to 40) at level L.
///
/// * `url_len > 0`: the URL is counted as a byte segment of `url_len` characters (its
///   worst case, whatever the characters), followed by the numeric segment of the data's
///   digits.
/// * `url_len == 0`: raw mode, the data counted as one byte segment.
///
/// Returns 0 for a version outside `1..=40` or if nothing fits.
///
/// # Safety
///
/// Always safe to call; `unsafe` only to match the other entry point.
#[cfg_attr(feature = "kernel-abi", no_mangle)]
pub unsafe extern "C" fn drm_panic_qr_max_data_size(version: u8, url_len: usize) -> usize {
    max_data_size(version, url_len)
}

/// Safe form of [`drm_panic_qr_max_data_size`].
pub fn max_data_size(version: u8, url_len: usize) -> usize {
    let Some(version) = Version::new(version) else {
        return 0;
    };
    if url_len > 0 {
        max_url_data_len(version, EcLevel::Low, url_len)
    } else {
        max_text_len(version, EcLevel::Low)
    }
}

/// Safe core of [`drm_panic_qr_generate`]: encodes `data[..data_len]` (after `url`, if
/// any) and leaves the image in `data` with the kernel's polarity (set bit = light
/// module). Returns the width, or `None` on failure.
pub fn generate_in_place(
    url: Option<&[u8]>,
    data: &mut [u8],
    data_len: usize,
    tmp: &mut [u8],
) -> Option<u8> {
    let config = Config::default();
    let input = data.get(..data_len)?;
    let encoded = match url {
        Some(url) => encode_url(url, input, &config, tmp),
        None => encode_text(input, &config, tmp),
    }
    .ok()?;
    let version = encoded.draw(tmp, data).ok()?.version();
    to_kernel_polarity(data.get_mut(..version.matrix_len())?, version);
    u8::try_from(version.width()).ok()
}

/// Inverts every module (set bit = light) and clears the bits past the right edge.
fn to_kernel_polarity(image: &mut [u8], version: Version) {
    let pitch = version.matrix_pitch();
    // Modules in the last byte of a row: 1 to 8.
    let used = version.width() - 8 * (pitch - 1);
    let last_byte_mask = 0xFFu8 << (8 - used);
    for row in image.chunks_exact_mut(pitch) {
        for byte in row.iter_mut() {
            *byte = !*byte;
        }
        if let Some(last) = row.last_mut() {
            *last &= last_byte_mask;
        }
    }
}
