// SPDX-License-Identifier: GPL-2.0
//! Bounds-checked little-endian reads from untrusted bytes.
//!
//! A [`Reader`] is a byte slice plus the offset of its first byte in the parser's original
//! input, so an error found deep inside a sub-structure still names an offset the caller can
//! look up in the file. Nothing here indexes a slice directly or panics: every read goes
//! through [`slice::get`] and every offset sum through `checked_add`.

use super::error::{FwError, FwErrorKind, FwResult};

/// Converts an untrusted 64-bit value into `usize`, failing with [`FwErrorKind::Overflow`]
/// at `offset` if it does not fit.
pub fn to_usize(value: u64, what: &'static str, offset: usize) -> FwResult<usize> {
    usize::try_from(value).map_err(|_| FwError::new(FwErrorKind::Overflow { what }, offset))
}

/// Widens a `usize` to `u64` (lossless on every target Linux supports; saturates otherwise).
pub fn to_u64(value: usize) -> u64 {
    u64::try_from(value).unwrap_or(u64::MAX)
}

/// Copies `src` into the start of `dst`, as far as both go (no panic on a length mismatch;
/// callers pass equal lengths).
pub fn copy_bytes(dst: &mut [u8], src: &[u8]) {
    for (d, s) in dst.iter_mut().zip(src) {
        *d = *s;
    }
}

/// Rounds `value` up to a multiple of `align` (a power of two), or `None` on overflow.
pub fn align_up(value: usize, align: usize) -> Option<usize> {
    let mask = align.checked_sub(1)?;
    value.checked_add(mask).map(|v| v & !mask)
}

/// A window on untrusted bytes that knows where it sits in the original input.
#[derive(Clone, Copy, Debug)]
pub struct Reader<'a> {
    data: &'a [u8],
    base: usize,
}

impl<'a> Reader<'a> {
    /// A reader over the whole input (its first byte is offset 0).
    pub const fn new(data: &'a [u8]) -> Self {
        Self { data, base: 0 }
    }

    /// A reader over `data`, whose first byte is at offset `base` of the original input.
    pub const fn with_base(data: &'a [u8], base: usize) -> Self {
        Self { data, base }
    }

    /// The bytes of this window.
    pub const fn data(&self) -> &'a [u8] {
        self.data
    }

    /// Length of this window in bytes.
    pub const fn len(&self) -> usize {
        self.data.len()
    }

    /// Whether this window is empty.
    pub const fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// Offset of this window's first byte in the original input.
    pub const fn base(&self) -> usize {
        self.base
    }

    /// Offset in the original input of byte `off` of this window.
    pub const fn abs(&self, off: usize) -> usize {
        self.base.saturating_add(off)
    }

    /// An error of `kind` at byte `off` of this window.
    pub const fn error(&self, kind: FwErrorKind, off: usize) -> FwError {
        FwError::new(kind, self.abs(off))
    }

    /// The `len` bytes at `off`.
    pub fn bytes(&self, off: usize, len: usize, what: &'static str) -> FwResult<&'a [u8]> {
        let end = off
            .checked_add(len)
            .ok_or_else(|| self.error(FwErrorKind::Overflow { what }, off))?;
        // A read that starts past the end is reported at the end: the offset named is always
        // inside (or just past) the input.
        self.data.get(off..end).ok_or_else(|| {
            self.error(
                FwErrorKind::Truncated {
                    what,
                    need: len,
                    have: self.data.len().saturating_sub(off),
                },
                off.min(self.data.len()),
            )
        })
    }

    /// The `N` bytes at `off`, copied.
    pub fn array<const N: usize>(&self, off: usize, what: &'static str) -> FwResult<[u8; N]> {
        let bytes = self.bytes(off, N, what)?;
        <[u8; N]>::try_from(bytes).map_err(|_| {
            self.error(
                FwErrorKind::Truncated {
                    what,
                    need: N,
                    have: bytes.len(),
                },
                off,
            )
        })
    }

    /// The byte at `off`.
    pub fn u8(&self, off: usize, what: &'static str) -> FwResult<u8> {
        Ok(u8::from_le_bytes(self.array(off, what)?))
    }

    /// The little-endian `u16` at `off`.
    pub fn u16(&self, off: usize, what: &'static str) -> FwResult<u16> {
        Ok(u16::from_le_bytes(self.array(off, what)?))
    }

    /// The little-endian `u32` at `off`.
    pub fn u32(&self, off: usize, what: &'static str) -> FwResult<u32> {
        Ok(u32::from_le_bytes(self.array(off, what)?))
    }

    /// The little-endian `u64` at `off`.
    pub fn u64(&self, off: usize, what: &'static str) -> FwResult<u64> {
        Ok(u64::from_le_bytes(self.array(off, what)?))
    }

    /// The sub-window of `len` bytes at `off`.
    pub fn sub(&self, off: usize, len: usize, what: &'static str) -> FwResult<Reader<'a>> {
        let data = self.bytes(off, len, what)?;
        Ok(Reader::with_base(data, self.abs(off)))
    }

    /// The sub-window from `off` to the end.
    pub fn tail(&self, off: usize, what: &'static str) -> FwResult<Reader<'a>> {
        let len = self.data.len().checked_sub(off).ok_or_else(|| {
            self.error(
                FwErrorKind::OutOfBounds {
                    what,
                    start: to_u64(off),
                    len: 0,
                    limit: to_u64(self.data.len()),
                },
                self.data.len(),
            )
        })?;
        self.sub(off, len, what)
    }

    /// The region `[start, start + len)` named by untrusted header fields.
    ///
    /// Unlike [`Reader::bytes`], a failure is reported as [`FwErrorKind::OutOfBounds`] at
    /// `field_at`, the offset in the original input of the header field that gave the region
    /// (which is where the fault lies); use [`Reader::abs`] of the header's reader to get it.
    pub fn region(
        &self,
        start: u64,
        len: u64,
        what: &'static str,
        field_at: usize,
    ) -> FwResult<Reader<'a>> {
        let limit = to_u64(self.data.len());
        let oob = || {
            FwError::new(
                FwErrorKind::OutOfBounds {
                    what,
                    start,
                    len,
                    limit,
                },
                field_at,
            )
        };
        let end = start.checked_add(len).ok_or_else(oob)?;
        if end > limit {
            return Err(oob());
        }
        let s = usize::try_from(start).map_err(|_| oob())?;
        let e = usize::try_from(end).map_err(|_| oob())?;
        let data = self.data.get(s..e).ok_or_else(oob)?;
        Ok(Reader::with_base(data, self.abs(s)))
    }

    /// A cursor reading fields in order from `off`.
    pub const fn cursor(&self, off: usize) -> Cursor<'a> {
        Cursor {
            reader: *self,
            pos: off,
        }
    }
}

/// Reads consecutive little-endian fields from a [`Reader`].
#[derive(Clone, Copy, Debug)]
pub struct Cursor<'a> {
    reader: Reader<'a>,
    pos: usize,
}

impl<'a> Cursor<'a> {
    /// Offset of the next field in the cursor's window.
    pub const fn pos(&self) -> usize {
        self.pos
    }

    /// Offset of the next field in the original input.
    pub const fn abs_pos(&self) -> usize {
        self.reader.abs(self.pos)
    }

    fn advance(&mut self, n: usize, what: &'static str) -> FwResult<usize> {
        let at = self.pos;
        self.pos = at
            .checked_add(n)
            .ok_or_else(|| self.reader.error(FwErrorKind::Overflow { what }, at))?;
        Ok(at)
    }

    /// Skips `n` bytes (checked when the next field is read).
    pub fn skip(&mut self, n: usize, what: &'static str) -> FwResult<()> {
        self.advance(n, what).map(|_| ())
    }

    /// Reads a byte.
    pub fn u8(&mut self, what: &'static str) -> FwResult<u8> {
        let v = self.reader.u8(self.pos, what)?;
        self.advance(1, what)?;
        Ok(v)
    }

    /// Reads a little-endian `u16`.
    pub fn u16(&mut self, what: &'static str) -> FwResult<u16> {
        let v = self.reader.u16(self.pos, what)?;
        self.advance(2, what)?;
        Ok(v)
    }

    /// Reads a little-endian `u32`.
    pub fn u32(&mut self, what: &'static str) -> FwResult<u32> {
        let v = self.reader.u32(self.pos, what)?;
        self.advance(4, what)?;
        Ok(v)
    }

    /// Reads a little-endian `u64`.
    pub fn u64(&mut self, what: &'static str) -> FwResult<u64> {
        let v = self.reader.u64(self.pos, what)?;
        self.advance(8, what)?;
        Ok(v)
    }
}
