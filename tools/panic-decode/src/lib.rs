// SPDX-License-Identifier: GPL-2.0

//! Turns a DRM panic QR code back into the kernel log.
//!
//! The kernel's panic screen (drivers/gpu/drm/drm_panic.c) shows either
//!
//! * a URL, `<base>?a=<arch>&v=<release>&z=<digits>` (the base often ends with `#`, so the
//!   parameters sit in the fragment), where the digits are the zlib-compressed log written
//!   in decimal: every 7 bytes, read as a little-endian number, become 17 digits, and a
//!   final chunk of 1 to 6 bytes becomes 3, 5, 8, 10, 13 or 15 digits; or
//! * the log text itself, when no URL is configured.
//!
//! [`kmsg_from_content`] handles both; [`decode_image`] first reads the QR code from a
//! screenshot (PNG, or the PPM that QEMU's `screendump` writes).

use std::fmt;
use std::io::Read;
use std::path::Path;

/// Digits per full chunk, and bytes per full chunk.
const CHUNK_DIGITS: usize = 17;
const CHUNK_BYTES: usize = 7;

/// Decompressed logs larger than this are refused (a real one is a few KiB).
const MAX_KMSG: u64 = 16 << 20;

/// Everything that can go wrong, with enough context to say what.
#[derive(Debug, PartialEq, Eq)]
pub enum DecodeError {
    /// The image could not be read.
    Image(String),
    /// No QR code was found in the image, or it could not be decoded.
    NoQrCode(String),
    /// The URL has no `z=` parameter.
    MissingData,
    /// The URL uses the `zl=` parameter of Linux 6.10 to 6.13, a different encoding.
    LegacyEncoding,
    /// A character of the `z` parameter is not a decimal digit.
    NotADigit { position: usize, found: char },
    /// The final group has a digit count that no byte count produces.
    BadFinalGroup { digits: usize },
    /// A group's value is too large for its number of bytes.
    GroupTooLarge { group: usize },
    /// The data is not a valid zlib stream.
    Inflate(String),
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::Image(e) => write!(f, "cannot read the image: {e}"),
            DecodeError::NoQrCode(e) => write!(f, "no readable QR code in the image: {e}"),
            DecodeError::MissingData => write!(f, "the URL has no z= parameter"),
            DecodeError::LegacyEncoding => write!(
                f,
                "the URL uses the zl= encoding of Linux 6.10-6.13, which this tool does not read"
            ),
            DecodeError::NotADigit { position, found } => {
                write!(
                    f,
                    "z= parameter: {found:?} at position {position} is not a digit"
                )
            }
            DecodeError::BadFinalGroup { digits } => write!(
                f,
                "z= parameter: the last group has {digits} digits; \
                 only 3, 5, 8, 10, 13, 15 or 17 are possible"
            ),
            DecodeError::GroupTooLarge { group } => {
                write!(f, "z= parameter: group {group} is too large for its length")
            }
            DecodeError::Inflate(e) => write!(f, "the data is not valid zlib: {e}"),
        }
    }
}

impl std::error::Error for DecodeError {}

/// The value of the `z` parameter of a panic URL: searched in the query and in the
/// fragment (`...#?a=...&z=...`).
pub fn digits_from_url(url: &str) -> Result<&str, DecodeError> {
    let parameters = url.find(['?', '#']).map_or("", |start| &url[start..]);
    let mut legacy = false;
    for pair in parameters.split(['?', '#', '&']) {
        if let Some(value) = pair.strip_prefix("z=") {
            return Ok(value);
        }
        legacy |= pair.starts_with("zl=");
    }
    Err(if legacy {
        DecodeError::LegacyEncoding
    } else {
        DecodeError::MissingData
    })
}

/// Bytes in a final group of `digits` digits (the inverse of `[0, 3, 5, 8, 10, 13, 15]`).
fn bytes_for_final_group(digits: usize) -> Option<usize> {
    match digits {
        0 => Some(0),
        3 | 5 | 8 | 10 | 13 | 15 => Some(digits * 2 / 5),
        _ => None,
    }
}

/// Turns the decimal digits back into bytes: each group of 17 digits is a little-endian
/// 7-byte number; a shorter final group holds `floor(digits * 2 / 5)` bytes.
pub fn digits_to_bytes(digits: &str) -> Result<Vec<u8>, DecodeError> {
    if let Some((position, found)) = digits
        .chars()
        .enumerate()
        .find(|(_, c)| !c.is_ascii_digit())
    {
        return Err(DecodeError::NotADigit { position, found });
    }
    let digits = digits.as_bytes();
    let mut bytes = Vec::with_capacity(digits.len() / CHUNK_DIGITS * CHUNK_BYTES + CHUNK_BYTES);
    for (group, chunk) in digits.chunks(CHUNK_DIGITS).enumerate() {
        let count = if chunk.len() == CHUNK_DIGITS {
            CHUNK_BYTES
        } else {
            bytes_for_final_group(chunk.len()).ok_or(DecodeError::BadFinalGroup {
                digits: chunk.len(),
            })?
        };
        // At most 17 digits: fits in a u64.
        let value = chunk
            .iter()
            .fold(0u64, |value, digit| value * 10 + u64::from(digit - b'0'));
        if value >> (8 * count) != 0 {
            return Err(DecodeError::GroupTooLarge { group });
        }
        bytes.extend_from_slice(&value.to_le_bytes()[..count]);
    }
    Ok(bytes)
}

/// Inflates a zlib stream.
pub fn inflate(compressed: &[u8]) -> Result<Vec<u8>, DecodeError> {
    let mut out = Vec::new();
    flate2::read::ZlibDecoder::new(compressed)
        .take(MAX_KMSG)
        .read_to_end(&mut out)
        .map_err(|e| DecodeError::Inflate(e.to_string()))?;
    Ok(out)
}

/// The kernel log carried by a panic URL.
pub fn kmsg_from_url(url: &str) -> Result<Vec<u8>, DecodeError> {
    inflate(&digits_to_bytes(digits_from_url(url)?)?)
}

/// The kernel log carried by a QR code's content: a panic URL, or the log itself when
/// the kernel has no URL configured (then the content is returned as it is).
pub fn kmsg_from_content(content: &[u8]) -> Result<Vec<u8>, DecodeError> {
    match std::str::from_utf8(content) {
        Ok(text) if looks_like_panic_url(text) => kmsg_from_url(text),
        _ => Ok(content.to_vec()),
    }
}

fn looks_like_panic_url(text: &str) -> bool {
    let scheme = text.starts_with("http://") || text.starts_with("https://");
    scheme && !text.contains(char::is_whitespace) && digits_from_url(text).is_ok()
}

/// Reads the QR code in an image file (PNG, PPM/PGM/PBM) and returns its content bytes.
pub fn decode_image(path: &Path) -> Result<Vec<u8>, DecodeError> {
    let image = image::open(path).map_err(|e| DecodeError::Image(e.to_string()))?;
    let luma = image.to_luma8();
    qr_content_from_luma(luma.width() as usize, luma.height() as usize, luma.as_raw())
}

/// Reads the QR code in a greyscale image (`width * height` bytes, row by row).
pub fn qr_content_from_luma(
    width: usize,
    height: usize,
    pixels: &[u8],
) -> Result<Vec<u8>, DecodeError> {
    if pixels.len() < width * height {
        return Err(DecodeError::Image("truncated pixel data".into()));
    }
    let mut prepared =
        rqrr::PreparedImage::prepare_from_greyscale(width, height, |x, y| pixels[y * width + x]);
    let mut last_error = String::from("no QR code found");
    for grid in prepared.detect_grids() {
        let mut content = Vec::new();
        match grid.decode_to(&mut content) {
            Ok(_) => return Ok(content),
            Err(e) => last_error = format!("{e:?}"),
        }
    }
    Err(DecodeError::NoQrCode(last_error))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_parameter_in_query_or_fragment() {
        let digits = "00123";
        for url in [
            "https://example.org/r?a=x86_64&v=6.12.0&z=00123",
            "https://example.org/r#?a=x86_64&v=6.12.0&z=00123",
            "https://example.org/r?z=00123&a=arm64",
        ] {
            assert_eq!(digits_from_url(url), Ok(digits), "{url}");
        }
        assert_eq!(
            digits_from_url("https://example.org/r"),
            Err(DecodeError::MissingData)
        );
        assert_eq!(
            digits_from_url("https://e.org/?a=1&zz=3"),
            Err(DecodeError::MissingData)
        );
        assert_eq!(
            digits_from_url("https://e.org/?zl=123"),
            Err(DecodeError::LegacyEncoding)
        );
    }

    #[test]
    fn digits_back_to_bytes() {
        assert_eq!(digits_to_bytes(""), Ok(vec![]));
        assert_eq!(digits_to_bytes("255"), Ok(vec![255]));
        assert_eq!(digits_to_bytes("00513"), Ok(vec![1, 2]));
        assert_eq!(digits_to_bytes("72057594037927935"), Ok(vec![0xFF; 7]));
        assert_eq!(
            digits_to_bytes("00000000000000001001"),
            Ok(vec![1, 0, 0, 0, 0, 0, 0, 1])
        );
    }

    #[test]
    fn inverts_the_encoder_for_every_length() {
        let mut state = 17u32;
        for len in 0..200 {
            let data: Vec<u8> = (0..len)
                .map(|_| {
                    state = state.wrapping_mul(1_103_515_245).wrapping_add(12345);
                    (state >> 16) as u8
                })
                .collect();
            let mut ascii = vec![0u8; drm_panic_qr::digits::digit_count(len)];
            drm_panic_qr::digits::write_ascii_digits(&data, &mut ascii).unwrap();
            let text = String::from_utf8(ascii).unwrap();
            assert_eq!(digits_to_bytes(&text).unwrap(), data, "{len} bytes");
        }
    }

    #[test]
    fn malformed_digits_are_errors() {
        assert_eq!(
            digits_to_bytes("12a4"),
            Err(DecodeError::NotADigit {
                position: 2,
                found: 'a'
            })
        );
        assert_eq!(
            digits_to_bytes("12é"),
            Err(DecodeError::NotADigit {
                position: 2,
                found: 'é'
            })
        );
        for bad in [1, 2, 4, 6, 7, 9, 11, 12, 14, 16] {
            let digits = "1".repeat(17 + bad);
            assert_eq!(
                digits_to_bytes(&digits),
                Err(DecodeError::BadFinalGroup { digits: bad })
            );
        }
        assert_eq!(
            digits_to_bytes("256"),
            Err(DecodeError::GroupTooLarge { group: 0 })
        );
        assert_eq!(
            digits_to_bytes("99999999999999999"),
            Err(DecodeError::GroupTooLarge { group: 0 })
        );
        assert_eq!(
            digits_to_bytes("72057594037927935999"),
            Err(DecodeError::GroupTooLarge { group: 1 })
        );
    }

    #[test]
    fn malformed_urls_are_errors() {
        assert!(matches!(
            kmsg_from_url("https://e.org/?z=255"),
            Err(DecodeError::Inflate(_))
        ));
        assert!(matches!(
            kmsg_from_url("https://e.org/?z="),
            Err(DecodeError::Inflate(_))
        ));
        assert_eq!(
            kmsg_from_url("no url at all"),
            Err(DecodeError::MissingData)
        );
        // Error messages name the problem.
        let message = kmsg_from_url("https://e.org/?z=12x")
            .unwrap_err()
            .to_string();
        assert!(
            message.contains("'x'") && message.contains("position 2"),
            "{message}"
        );
    }

    #[test]
    fn random_input_never_panics() {
        let mut state = 99u64;
        let alphabet = b"0123456789z=&?#a-\xc3\xa9";
        for _ in 0..20_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let len = (state % 60) as usize;
            let bytes: Vec<u8> = (0..len)
                .map(|i| alphabet[((state >> (i % 50)) as usize + i) % alphabet.len()])
                .collect();
            let text = String::from_utf8_lossy(&bytes);
            let _ = kmsg_from_url(&format!("https://e.org/?z={text}"));
            let _ = kmsg_from_url(&text);
            let _ = kmsg_from_content(&bytes);
        }
    }

    #[test]
    fn raw_content_is_the_log() {
        let text = b"[    1.234] Kernel panic - not syncing: VFS\n";
        assert_eq!(kmsg_from_content(text).unwrap(), text);
    }
}
