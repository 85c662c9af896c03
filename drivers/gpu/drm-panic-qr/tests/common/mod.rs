// SPDX-License-Identifier: GPL-2.0

//! Helpers shared by the integration tests: a small random number generator, rendering a
//! symbol to a greyscale image, and the two decoders.

#![allow(dead_code)]

use drm_panic_qr::QrCode;

/// xorshift64*: deterministic, dependency-free randomness for tests.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    pub fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next_u64() as u8).collect()
    }

    pub fn text(&mut self, len: usize, alphabet: &[u8]) -> Vec<u8> {
        (0..len)
            .map(|_| alphabet[self.below(alphabet.len())])
            .collect()
    }
}

pub const DIGITS: &[u8] = b"0123456789";
pub const ALPHANUMERIC: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";
/// Characters that need byte mode (none is alphanumeric).
pub const BYTE_ONLY: &[u8] = b"abcdefghijklmnopqrstuvwxyz!#&()=?@[]_{}~";

/// A greyscale image of `qr` with a quiet zone of 4 modules, `scale` pixels per module;
/// dark modules are 0, light ones 255. `dark(x, y)` says which modules are dark.
pub struct Image {
    pub width: usize,
    pub pixels: Vec<u8>,
}

pub fn render_with(width: usize, scale: usize, dark: impl Fn(usize, usize) -> bool) -> Image {
    let quiet = 4;
    let size = (width + 2 * quiet) * scale;
    let mut pixels = vec![255u8; size * size];
    for y in 0..width {
        for x in 0..width {
            if dark(x, y) {
                for dy in 0..scale {
                    let row = ((y + quiet) * scale + dy) * size;
                    for dx in 0..scale {
                        pixels[row + (x + quiet) * scale + dx] = 0;
                    }
                }
            }
        }
    }
    Image {
        width: size,
        pixels,
    }
}

pub fn render(qr: &QrCode<'_>, scale: usize) -> Image {
    render_with(qr.width(), scale, |x, y| qr.is_dark(x, y))
}

/// What rqrr reads: (version, EC level 0-3 as rqrr numbers them, mask, content bytes).
pub struct RqrrResult {
    pub version: usize,
    pub ecc_level: u16,
    pub mask: u16,
    pub content: Vec<u8>,
}

pub fn decode_rqrr(image: &Image) -> Result<RqrrResult, String> {
    let size = image.width;
    let mut prepared =
        rqrr::PreparedImage::prepare_from_greyscale(size, size, |x, y| image.pixels[y * size + x]);
    let grids = prepared.detect_grids();
    let grid = grids.first().ok_or("rqrr found no grid")?;
    let mut content = Vec::new();
    let meta = grid
        .decode_to(&mut content)
        .map_err(|e| format!("rqrr: {e:?}"))?;
    Ok(RqrrResult {
        version: meta.version.0,
        ecc_level: meta.ecc_level,
        mask: meta.mask,
        content,
    })
}

pub fn decode_rxing(image: &Image) -> Result<String, String> {
    let size = image.width as u32;
    let result = rxing::helpers::detect_in_luma(
        image.pixels.clone(),
        size,
        size,
        Some(rxing::BarcodeFormat::QR_CODE),
    )
    .map_err(|e| format!("rxing: {e:?}"))?;
    Ok(result.getText().to_string())
}

/// rqrr numbers EC levels by their format bits: M = 0, L = 1, H = 2, Q = 3.
pub fn rqrr_level(level: drm_panic_qr::EcLevel) -> u16 {
    match level {
        drm_panic_qr::EcLevel::Medium => 0,
        drm_panic_qr::EcLevel::Low => 1,
        drm_panic_qr::EcLevel::High => 2,
        drm_panic_qr::EcLevel::Quartile => 3,
    }
}
