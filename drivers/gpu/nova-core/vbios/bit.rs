// SPDX-License-Identifier: GPL-2.0
//! The BIOS Information Table (BIT) of the PC-AT image (facts sheet §4.3).
//!
//! Found by searching the PC-AT image for `FF B8 'B' 'I' 'T' 00` (nova-core `vbios.rs`
//! L741–748). Header (12 bytes; nova-core `vbios.rs` L431–458, OpenRM
//! `kernel_gsp_fwsec.c` L43–58): 0x00 `u16` id 0xB8FF, 0x02 "BIT\0", 0x06 `u16` BCD
//! version, 0x08 header size, 0x09 token size, 0x0A token count, 0x0B checksum. Tokens start
//! at the header plus its size, `token size` apart: 0x00 id, 0x01 data version, 0x02 `u16`
//! data size, 0x04 data offset — a `u16` in the 6-byte form (nova-core `vbios.rs` L464–474),
//! a `u32` in the 8-byte form (OpenRM `kernel_gsp_fwsec.c` L60–72). The offset is relative
//! to the start of the PC-AT image. nouveau `nvkm/subdev/bios/bit.c` L28–50 walks the same
//! table. The checksum is not verified (its definition is not in the sources used).

use crate::firmware::error::{FwErrorKind, FwResult};
use crate::firmware::reader::{to_u64, Reader};

/// The byte pattern that starts the BIT.
pub const BIT_PATTERN: [u8; 6] = [0xff, 0xb8, b'B', b'I', b'T', 0x00];
/// Size of the BIT header read here.
pub const BIT_HEADER_SIZE: usize = 12;
/// Token id of the falcon data ('p').
pub const TOKEN_FALCON_DATA: u8 = 0x70;
/// Token id of the BIOS data ('B').
pub const TOKEN_BIOS_DATA: u8 = 0x42;

/// The BIT header (raw fields).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BitHeader {
    /// 0xB8FF.
    pub id: u16,
    /// "BIT\0".
    pub signature: [u8; 4],
    /// BCD version (0x0100 is 1.00).
    pub bcd_version: u16,
    /// Header size in bytes (at least 12).
    pub header_size: u8,
    /// Token size in bytes (at least 6).
    pub token_size: u8,
    /// Number of tokens.
    pub token_count: u8,
    /// Checksum byte.
    pub checksum: u8,
}

/// One BIT token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BitToken {
    /// Token id.
    pub id: u8,
    /// Version of the token's data.
    pub data_version: u8,
    /// Size of the token's data.
    pub data_size: u16,
    /// Offset of the token's data from the start of the PC-AT image.
    pub data_offset: u32,
    /// Offset of this token in the PC-AT image.
    pub token_offset: usize,
}

/// The BIT of a PC-AT image.
#[derive(Clone, Copy, Debug)]
pub struct Bit<'a> {
    /// The PC-AT image.
    pub image: Reader<'a>,
    /// Offset of the BIT header in the image.
    pub offset: usize,
    /// The header.
    pub header: BitHeader,
}

impl<'a> Bit<'a> {
    /// Finds and parses the BIT in the PC-AT image `image`.
    pub fn find(image: &Reader<'a>) -> FwResult<Self> {
        let offset = image
            .data()
            .windows(BIT_PATTERN.len())
            .position(|w| w == BIT_PATTERN)
            .ok_or(image.error(
                FwErrorKind::NotFound {
                    what: "BIT header (FF B8 'BIT' 00) in the PC-AT image",
                },
                0,
            ))?;
        let h = image.sub(offset, BIT_HEADER_SIZE, "BIT header")?;
        let mut c = h.cursor(0);
        let header = BitHeader {
            id: c.u16("BIT id")?,
            signature: h.array::<4>(2, "BIT signature")?,
            bcd_version: h.u16(6, "BIT version")?,
            header_size: h.u8(8, "BIT header size")?,
            token_size: h.u8(9, "BIT token size")?,
            token_count: h.u8(10, "BIT token count")?,
            checksum: h.u8(11, "BIT checksum")?,
        };
        if usize::from(header.header_size) < BIT_HEADER_SIZE {
            return Err(h.error(
                FwErrorKind::BadValue {
                    what: "BIT header size",
                    value: header.header_size.into(),
                },
                8,
            ));
        }
        if header.token_size < 6 {
            return Err(h.error(
                FwErrorKind::BadValue {
                    what: "BIT token size",
                    value: header.token_size.into(),
                },
                9,
            ));
        }
        let bit = Self {
            image: *image,
            offset,
            header,
        };
        // All tokens must lie in the image.
        let first = bit.tokens_start();
        let len = usize::from(header.token_count) * usize::from(header.token_size);
        image.region(to_u64(first), to_u64(len), "BIT token table", h.abs(10))?;
        Ok(bit)
    }

    fn tokens_start(&self) -> usize {
        self.offset
            .saturating_add(usize::from(self.header.header_size))
    }

    /// Token number `index` (0-based, below `header.token_count`).
    pub fn token(&self, index: u8) -> FwResult<BitToken> {
        let at = usize::from(index)
            .saturating_mul(usize::from(self.header.token_size))
            .saturating_add(self.tokens_start());
        let t = self
            .image
            .sub(at, usize::from(self.header.token_size), "BIT token")?;
        let data_offset = if self.header.token_size >= 8 {
            t.u32(4, "BIT token data pointer")?
        } else {
            u32::from(t.u16(4, "BIT token data offset")?)
        };
        Ok(BitToken {
            id: t.u8(0, "BIT token id")?,
            data_version: t.u8(1, "BIT token version")?,
            data_size: t.u16(2, "BIT token data size")?,
            data_offset,
            token_offset: at,
        })
    }

    /// The first token with id `id`, or `None`.
    pub fn find_token(&self, id: u8) -> FwResult<Option<BitToken>> {
        for i in 0..self.header.token_count {
            let t = self.token(i)?;
            if t.id == id {
                return Ok(Some(t));
            }
        }
        Ok(None)
    }

    /// The falcon-data pointer (`FalconUcodeTablePtr`): the `u32` that token 'p' (version 2,
    /// at least 4 bytes of data) points at. It is a ROM address; see
    /// [`super::Vbios::resolve`].
    pub fn falcon_data_pointer(&self) -> FwResult<u32> {
        let t = self.find_token(TOKEN_FALCON_DATA)?.ok_or(self.image.error(
            FwErrorKind::NotFound {
                what: "BIT falcon data token ('p')",
            },
            self.offset,
        ))?;
        if t.data_version != 2 {
            return Err(self.image.error(
                FwErrorKind::UnsupportedVersion {
                    what: "BIT falcon data token",
                    found: t.data_version.into(),
                },
                t.token_offset.saturating_add(1),
            ));
        }
        if t.data_size < 4 {
            return Err(self.image.error(
                FwErrorKind::BadValue {
                    what: "BIT falcon data size",
                    value: t.data_size.into(),
                },
                t.token_offset.saturating_add(2),
            ));
        }
        self.image
            .region(
                t.data_offset.into(),
                4,
                "BIT falcon data",
                self.image.abs(t.token_offset.saturating_add(4)),
            )?
            .u32(0, "falcon ucode table pointer")
    }
}
