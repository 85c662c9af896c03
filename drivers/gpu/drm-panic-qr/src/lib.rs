// SPDX-License-Identifier: GPL-2.0

//! A QR code encoder for the DRM panic screen.
//!
//! When the kernel panics, `drm_panic.c` can draw a QR code holding the tail of the kernel
//! log, so that a phone can carry the crash report away. This crate produces that QR code.
//! It is written for that setting:
//!
//! * `#![no_std]`, no allocation, no dependencies: everything happens in two buffers that
//!   the caller owns (one for codewords, one for the module matrix) and in a small stack
//!   frame (well under 4 KiB).
//! * It never panics: every buffer access is checked and every failure is reported as an
//!   [`Error`].
//! * It implements QR Code Model 2 as specified by ISO/IEC 18004:2015: versions 1 to 40,
//!   error correction levels L, M, Q and H, numeric, alphanumeric and byte segments chosen
//!   to minimise the bit length, the smallest version that fits, and the data mask with
//!   the lowest penalty score (or a mask chosen by the caller).
//!
//! # Using it
//!
//! ```
//! use drm_panic_qr::{generate_text, Config, MAX_CODEWORDS_LEN, MAX_MATRIX_LEN};
//!
//! let mut codewords = [0u8; MAX_CODEWORDS_LEN];
//! let mut matrix = [0u8; MAX_MATRIX_LEN];
//! let qr = generate_text(b"HELLO 1234567890", &Config::default(), &mut codewords, &mut matrix)
//!     .expect("fits");
//! assert_eq!(qr.version().number(), 1);
//! assert!(qr.is_dark(0, 0)); // corner of a finder pattern
//! ```
//!
//! Encoding is split in two steps so that the input may live in the buffer that will later
//! receive the matrix (this is what the kernel does, see [`kernel_abi`]):
//! [`encode_text`] / [`encode_url`] turn the input into codewords, then
//! [`EncodedData::draw`] lays the codewords out as modules. [`generate_text`] and
//! [`generate_url`] do both.
//!
//! # Layout of the module matrix
//!
//! The matrix is stored row by row, top to bottom. Each row takes
//! [`Version::matrix_pitch`] bytes (`ceil(width / 8)`); module `x` of a row is bit
//! `7 - x % 8` of byte `x / 8` (most significant bit first). In this crate a set bit is a
//! dark module. The kernel wants the opposite polarity; [`kernel_abi`] converts.
//!
//! # The URL form used by the kernel
//!
//! With a report URL configured, the kernel compresses the log with zlib and appends it to
//! the URL as decimal digits, which numeric mode packs at 10 bits per 3 digits. See
//! [`digits`] for the exact conversion and [`encode_url`] for the segmentation.

#![no_std]
#![deny(missing_docs)]
#![deny(unsafe_code)]
// Panic-freedom is a requirement, so let the linter hold us to it outside of unit tests.
#![cfg_attr(
    not(test),
    deny(
        clippy::indexing_slicing,
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::unreachable,
        clippy::todo,
        clippy::unimplemented
    )
)]

#[cfg(test)]
extern crate std;

mod bits;
pub mod digits;
mod ec;
mod gf256;
pub mod kernel_abi;
mod line;
mod mask;
mod matrix;
mod penalty;
mod segment;
mod tables;

use core::fmt;

use bits::BitWriter;
use segment::Input;

/// Size of the largest module matrix (version 40: 177 rows of 23 bytes).
pub const MAX_MATRIX_LEN: usize = Version::MAX.matrix_len();

/// Number of codewords (data and error correction) of the largest symbol, version 40.
pub const MAX_CODEWORDS_LEN: usize = Version::MAX.codeword_len();

/// A QR code version: the symbol size, from 1 (21x21 modules) to 40 (177x177 modules).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version(u8);

impl Version {
    /// Version 1, 21x21 modules.
    pub const MIN: Version = Version(1);
    /// Version 40, 177x177 modules.
    pub const MAX: Version = Version(40);

    /// The version with this number, if it is in `1..=40`.
    pub const fn new(number: u8) -> Option<Version> {
        if number >= Self::MIN.0 && number <= Self::MAX.0 {
            Some(Version(number))
        } else {
            None
        }
    }

    /// The version number, `1..=40`.
    pub const fn number(self) -> u8 {
        self.0
    }

    /// Width (and height) of the symbol in modules: `17 + 4 * version`.
    pub const fn width(self) -> usize {
        17 + 4 * self.0 as usize
    }

    /// Bytes per matrix row: `ceil(width / 8)`.
    pub const fn matrix_pitch(self) -> usize {
        self.width().div_ceil(8)
    }

    /// Bytes needed for the module matrix of this version: `width * pitch`.
    pub const fn matrix_len(self) -> usize {
        self.width() * self.matrix_pitch()
    }

    /// Number of codewords (data plus error correction) in a symbol of this version; the
    /// codeword buffer must be at least this long.
    pub const fn codeword_len(self) -> usize {
        tables::total_codewords(self)
    }

    /// How many bits of segment data a symbol of this version holds at `ec_level`.
    pub const fn data_capacity_bits(self, ec_level: EcLevel) -> usize {
        tables::BlockLayout::new(self, ec_level).data_codewords() * 8
    }
}

/// Error correction level: how much of the symbol can be damaged and still be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EcLevel {
    /// Recovers about 7% of the codewords.
    Low,
    /// Recovers about 15% of the codewords.
    Medium,
    /// Recovers about 25% of the codewords.
    Quartile,
    /// Recovers about 30% of the codewords.
    High,
}

impl EcLevel {
    /// All four levels, from lowest to highest.
    pub const ALL: [EcLevel; 4] = [
        EcLevel::Low,
        EcLevel::Medium,
        EcLevel::Quartile,
        EcLevel::High,
    ];
}

/// One of the eight data masks of ISO/IEC 18004 (Table 10), numbered `0..=7`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Mask(u8);

impl Mask {
    /// The mask with this number, if it is in `0..=7`.
    pub const fn new(number: u8) -> Option<Mask> {
        if number < 8 {
            Some(Mask(number))
        } else {
            None
        }
    }

    /// The mask number, `0..=7`.
    pub const fn number(self) -> u8 {
        self.0
    }

    /// All eight masks.
    pub const ALL: [Mask; 8] = [
        Mask(0),
        Mask(1),
        Mask(2),
        Mask(3),
        Mask(4),
        Mask(5),
        Mask(6),
        Mask(7),
    ];
}

/// How to choose the data mask.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MaskChoice {
    /// Score all eight masks with the penalty rules N1 to N4 and keep the lowest score
    /// (the first one on a tie). This is what the standard asks for.
    Best,
    /// Use this mask without scoring. About twice as fast; the symbol is still valid.
    Fixed(Mask),
}

/// Encoding parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Config {
    /// Error correction level.
    pub ec_level: EcLevel,
    /// Smallest version to use.
    pub min_version: Version,
    /// Largest version to use; data that does not fit is an [`Error::DataTooLong`].
    pub max_version: Version,
    /// How the data mask is chosen.
    pub mask: MaskChoice,
}

impl Default for Config {
    /// Level L, any version, best mask.
    fn default() -> Self {
        Config {
            ec_level: EcLevel::Low,
            min_version: Version::MIN,
            max_version: Version::MAX,
            mask: MaskChoice::Best,
        }
    }
}

/// Why encoding failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Error {
    /// The data does not fit in `max_version` at the requested level.
    DataTooLong,
    /// The codeword or matrix buffer is smaller than the chosen version needs
    /// ([`Version::codeword_len`], [`Version::matrix_len`]).
    BufferTooSmall,
    /// `min_version` is larger than `max_version`.
    InvalidConfig,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Error::DataTooLong => "data too long for the QR code",
            Error::BufferTooSmall => "buffer too small for the QR code",
            Error::InvalidConfig => "invalid QR code configuration",
        })
    }
}

/// The result of the first encoding step: the codeword buffer holds the data codewords
/// followed by the error correction codewords of every block, and this remembers how to
/// interpret them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EncodedData {
    version: Version,
    ec_level: EcLevel,
    mask: MaskChoice,
    segment_bits: usize,
}

impl EncodedData {
    /// The version chosen: the smallest one in the configured range that holds the data.
    pub fn version(&self) -> Version {
        self.version
    }

    /// The error correction level.
    pub fn ec_level(&self) -> EcLevel {
        self.ec_level
    }

    /// Length of the segments (mode indicators, character counts and data) in bits,
    /// before the terminator and padding. Minimal for the chosen version.
    pub fn segment_bits(&self) -> usize {
        self.segment_bits
    }

    /// Second step: lay the codewords written by the first step out as a symbol in
    /// `matrix` (at least [`Version::matrix_len`] bytes; only that prefix is written).
    pub fn draw<'m>(&self, codewords: &[u8], matrix: &'m mut [u8]) -> Result<QrCode<'m>, Error> {
        let layout = tables::BlockLayout::new(self.version, self.ec_level);
        let codewords = codewords
            .get(..layout.total_codewords())
            .ok_or(Error::BufferTooSmall)?;
        let mut m = matrix::Matrix::new(matrix, self.version).ok_or(Error::BufferTooSmall)?;
        m.draw_function_patterns();
        m.place_codewords(ec::Interleaved::new(codewords, layout));
        let chosen = match self.mask {
            MaskChoice::Fixed(mask) => mask,
            MaskChoice::Best => mask::best_mask(&m, self.ec_level),
        };
        m.apply_mask(chosen);
        m.draw_format_bits(self.ec_level, chosen);
        Ok(QrCode {
            matrix: m.into_bytes(),
            version: self.version,
            ec_level: self.ec_level,
            mask: chosen,
        })
    }
}

/// A finished symbol, borrowed from the caller's matrix buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QrCode<'m> {
    matrix: &'m [u8],
    version: Version,
    ec_level: EcLevel,
    mask: Mask,
}

impl<'m> QrCode<'m> {
    /// The version of the symbol.
    pub fn version(&self) -> Version {
        self.version
    }

    /// Width and height in modules, without quiet zone.
    pub fn width(&self) -> usize {
        self.version.width()
    }

    /// The error correction level.
    pub fn ec_level(&self) -> EcLevel {
        self.ec_level
    }

    /// The data mask that was applied.
    pub fn mask(&self) -> Mask {
        self.mask
    }

    /// Whether module (`x`, `y`) is dark; `(0, 0)` is the top-left corner. Modules outside
    /// the symbol (the quiet zone) are light.
    pub fn is_dark(&self, x: usize, y: usize) -> bool {
        if x >= self.width() || y >= self.width() {
            return false;
        }
        let index = y * self.version.matrix_pitch() + x / 8;
        self.matrix
            .get(index)
            .is_some_and(|byte| byte & (0x80 >> (x % 8)) != 0)
    }

    /// The matrix bytes (see the crate documentation for the layout).
    pub fn as_bytes(&self) -> &'m [u8] {
        self.matrix
    }
}

/// Longest input worth looking at: version 40-L holds at most 7089 numeric characters.
const MAX_INPUT_CHARS: usize = 7089;

/// First step for arbitrary bytes: choose segments, version and padding, and write data
/// and error correction codewords into `codewords` (at least [`Version::codeword_len`] of
/// the chosen version; [`MAX_CODEWORDS_LEN`] always suffices).
///
/// The input is split into numeric, alphanumeric and byte segments so that the total bit
/// length is minimal (an exact dynamic programme over the mode of every character).
pub fn encode_text(
    text: &[u8],
    config: &Config,
    codewords: &mut [u8],
) -> Result<EncodedData, Error> {
    encode(Input::new(text, &[]), config, codewords)
}

/// First step for the kernel's URL form: `url` followed by `data` written as decimal
/// digits (see [`digits`]).
///
/// The URL characters are segmented like [`encode_text`] does; the digits of `data` all go
/// into numeric mode, continuing a numeric segment that ends the URL if that is shorter.
/// The result is the shortest encoding of the string `url + digits(data)`.
pub fn encode_url(
    url: &[u8],
    data: &[u8],
    config: &Config,
    codewords: &mut [u8],
) -> Result<EncodedData, Error> {
    encode(Input::new(url, data), config, codewords)
}

/// [`encode_text`] followed by [`EncodedData::draw`].
pub fn generate_text<'m>(
    text: &[u8],
    config: &Config,
    codewords: &mut [u8],
    matrix: &'m mut [u8],
) -> Result<QrCode<'m>, Error> {
    encode_text(text, config, codewords)?.draw(codewords, matrix)
}

/// [`encode_url`] followed by [`EncodedData::draw`].
pub fn generate_url<'m>(
    url: &[u8],
    data: &[u8],
    config: &Config,
    codewords: &mut [u8],
    matrix: &'m mut [u8],
) -> Result<QrCode<'m>, Error> {
    encode_url(url, data, config, codewords)?.draw(codewords, matrix)
}

/// The most bytes of `data` that [`encode_url`] accepts in `version` at `ec_level` with a
/// URL of `url_len` characters, whatever those characters are (the bound assumes the URL
/// needs a byte segment, its worst case). 0 if not even the URL fits.
pub fn max_url_data_len(version: Version, ec_level: EcLevel, url_len: usize) -> usize {
    let capacity = version.data_capacity_bits(ec_level);
    let group = tables::count_group(version);
    let url_bits = match segment::single_segment_bits(segment::Mode::Byte, url_len, group) {
        Some(bits) if url_len > 0 => bits,
        Some(_) => 0,
        None => return 0,
    };
    let Some(room) = capacity.checked_sub(url_bits) else {
        return 0;
    };
    // The number of digits grows with the number of bytes, so search for the largest
    // byte count whose numeric segment still fits in `room`.
    let fits = |bytes: usize| {
        segment::single_segment_bits(segment::Mode::Numeric, digits::digit_count(bytes), group)
            .is_some_and(|bits| bits <= room)
    };
    let (mut low, mut high) = (0, MAX_INPUT_CHARS);
    if !fits(0) {
        return 0;
    }
    // Invariant: fits(low) and !fits(high + 1) (high bytes give more digits than any
    // symbol holds).
    while low < high {
        let mid = low + (high - low).div_ceil(2);
        if fits(mid) {
            low = mid;
        } else {
            high = mid - 1;
        }
    }
    low
}

/// The most bytes that [`encode_text`] accepts in `version` at `ec_level` whatever they
/// are (one byte segment).
pub fn max_text_len(version: Version, ec_level: EcLevel) -> usize {
    let capacity = version.data_capacity_bits(ec_level);
    let group = tables::count_group(version);
    let header = segment::single_segment_bits(segment::Mode::Byte, 0, group).unwrap_or(usize::MAX);
    let bytes = capacity.saturating_sub(header) / 8;
    bytes.min(segment::Mode::Byte.max_count(group))
}

/// Shared first step: pick the version, write segments, terminator and padding, then the
/// error correction codewords.
fn encode(input: Input<'_>, config: &Config, codewords: &mut [u8]) -> Result<EncodedData, Error> {
    if config.min_version > config.max_version {
        return Err(Error::InvalidConfig);
    }
    if input.prefix_len() > MAX_INPUT_CHARS || input.tail_digits() > MAX_INPUT_CHARS {
        return Err(Error::DataTooLong);
    }
    let (version, segment_bits) = choose_version(&input, config)?;
    let layout = tables::BlockLayout::new(version, config.ec_level);
    let buffer = codewords
        .get_mut(..layout.total_codewords())
        .ok_or(Error::BufferTooSmall)?;
    let (data, ec) = buffer
        .split_at_mut_checked(layout.data_codewords())
        .ok_or(Error::BufferTooSmall)?;

    let mut writer = BitWriter::new(data);
    segment::write_segments(&input, tables::count_group(version), &mut writer)
        .map_err(|_| Error::DataTooLong)?;
    if writer.len() != segment_bits {
        // The writer follows the same plan that was costed; a mismatch would be a bug.
        return Err(Error::DataTooLong);
    }
    writer.finish_with_padding();
    ec::write_error_correction(layout, data, ec).ok_or(Error::BufferTooSmall)?;

    Ok(EncodedData {
        version,
        ec_level: config.ec_level,
        mask: config.mask,
        segment_bits,
    })
}

/// The smallest version in the configured range whose capacity holds the optimal
/// segmentation. The character count fields get longer at versions 10 and 27, so the
/// optimum is computed once per range of versions that share the same field lengths.
fn choose_version(input: &Input<'_>, config: &Config) -> Result<(Version, usize), Error> {
    let mut group_bits: Option<(usize, Option<usize>)> = None;
    for number in config.min_version.number()..=config.max_version.number() {
        let Some(version) = Version::new(number) else {
            continue;
        };
        let group = tables::count_group(version);
        let bits = match group_bits {
            Some((g, bits)) if g == group => bits,
            _ => {
                let bits = segment::optimal_bits(input, group);
                group_bits = Some((group, bits));
                bits
            }
        };
        if let Some(bits) = bits {
            if bits <= version.data_capacity_bits(config.ec_level) {
                return Ok((version, bits));
            }
        }
    }
    Err(Error::DataTooLong)
}
