// SPDX-License-Identifier: GPL-2.0
//! The one error type of the firmware and VBIOS parsers.
//!
//! Every error says what was wrong ([`FwErrorKind`]) and where: the byte offset, in the input
//! the caller handed to the parser, of the structure or field that was found wrong. The
//! [`Display`](core::fmt::Display) text ends in `at offset 0x…`, so a driver can log it after
//! the file name, e.g. `gsp-570.144.bin: section header 3: name offset 0x9999 past end of the
//! section-name table at offset 0x3ca03f0`.

use core::fmt;

/// What was wrong with the input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FwErrorKind {
    /// A structure needed `need` bytes but only `have` were left in its container.
    Truncated {
        /// The structure being read.
        what: &'static str,
        /// Bytes it needs.
        need: usize,
        /// Bytes that were left.
        have: usize,
    },
    /// A magic number or signature did not match.
    BadMagic {
        /// The field holding it.
        what: &'static str,
        /// The value found.
        found: u64,
        /// The value expected.
        expected: u64,
    },
    /// A version field holds a value this parser does not know.
    UnsupportedVersion {
        /// The versioned structure.
        what: &'static str,
        /// The version found.
        found: u64,
    },
    /// A region given by a start and a length does not lie inside its container.
    OutOfBounds {
        /// The region.
        what: &'static str,
        /// Its start, relative to the container.
        start: u64,
        /// Its length.
        len: u64,
        /// The container's length.
        limit: u64,
    },
    /// Computing an offset or a size overflowed.
    Overflow {
        /// The quantity being computed.
        what: &'static str,
    },
    /// A field holds a value that is not allowed.
    BadValue {
        /// The field.
        what: &'static str,
        /// The value found.
        value: u64,
    },
    /// Something required is not there.
    NotFound {
        /// What was looked for.
        what: &'static str,
    },
    /// An address or offset is not aligned as required.
    Misaligned {
        /// The address or offset.
        what: &'static str,
        /// Its value.
        value: u64,
        /// The required alignment in bytes.
        align: u64,
    },
    /// No signature in the firmware matches the fuse version read from the chip.
    NoSignatureForFuse {
        /// The raw fuse-version register value given by the caller.
        fuse_reg: u32,
        /// The firmware's signature version (a count for Booter, a bit mask for FWSEC).
        sig_versions: u32,
        /// Number of signatures in the firmware.
        count: u32,
    },
}

/// A parse error: what was wrong and the byte offset where it was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FwError {
    /// What was wrong.
    pub kind: FwErrorKind,
    /// Byte offset in the parser's input of the offending structure or field.
    pub offset: usize,
}

impl FwError {
    /// An error of `kind` found at byte `offset`.
    pub const fn new(kind: FwErrorKind, offset: usize) -> Self {
        Self { kind, offset }
    }

    /// The same error, with its offset moved by `base` (for a parser run on a sub-slice).
    pub const fn rebase(self, base: usize) -> Self {
        Self {
            kind: self.kind,
            offset: self.offset.saturating_add(base),
        }
    }
}

impl fmt::Display for FwErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            FwErrorKind::Truncated { what, need, have } => {
                write!(f, "truncated {what}: need {need} bytes, have {have}")
            }
            FwErrorKind::BadMagic {
                what,
                found,
                expected,
            } => write!(f, "bad {what}: found {found:#x}, expected {expected:#x}"),
            FwErrorKind::UnsupportedVersion { what, found } => {
                write!(f, "unsupported {what} version {found:#x}")
            }
            FwErrorKind::OutOfBounds {
                what,
                start,
                len,
                limit,
            } => write!(
                f,
                "{what} (start {start:#x}, length {len:#x}) does not fit in {limit:#x} bytes"
            ),
            FwErrorKind::Overflow { what } => write!(f, "arithmetic overflow computing {what}"),
            FwErrorKind::BadValue { what, value } => write!(f, "bad {what} {value:#x}"),
            FwErrorKind::NotFound { what } => write!(f, "{what} not found"),
            FwErrorKind::Misaligned { what, value, align } => {
                write!(f, "{what} {value:#x} is not {align:#x}-byte aligned")
            }
            FwErrorKind::NoSignatureForFuse {
                fuse_reg,
                sig_versions,
                count,
            } => write!(
                f,
                "no signature for fuse version register {fuse_reg:#x} \
                 (firmware signature versions {sig_versions:#x}, {count} signatures)"
            ),
        }
    }
}

impl fmt::Display for FwError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at offset {:#x}", self.kind, self.offset)
    }
}

/// Result of the parsers.
pub type FwResult<T> = Result<T, FwError>;
