// SPDX-License-Identifier: GPL-2.0
//! Walking the PCI expansion-ROM images of the VBIOS (facts sheet §4.1–4.2).
//!
//! The PROM (BAR0 0x300000, 1 MiB window) holds a chain of images. Each starts with the PCI
//! ROM header (0x00 `u16` signature 0xAA55, or 0x4E56 "NV"; 0x18 `u16` offset of the PCI
//! data structure), then:
//!
//! - PCIR (PCI Firmware Specification; signature "PCIR", or "NPDS" on NVIDIA ROMs):
//!   0x04 vendor, 0x06 device, 0x08 device-list pointer, 0x0A structure length, 0x0C
//!   revision, 0x0D class code, 0x10 image length in 512-byte units (0 is invalid), 0x12
//!   vendor ROM revision, 0x14 code type, 0x15 last-image flag (bit 7), 0x16 maximum
//!   run-time length;
//! - NPDE (NVIDIA PCI data extension), at the PCIR offset plus the PCIR length rounded up to
//!   16: "NPDE", 0x04 revision, 0x06 length, 0x08 sub-image length in 512-byte units, 0x0A
//!   last-image flag (bit 7). When present (with a non-zero length) it overrides the PCIR
//!   length and flag. NBSI images (code type 0x70) have none and always end the chain.
//!
//! The next image starts at the end of this one, rounded up to 512 bytes. The walk stops
//! after the image flagged last, or once the next image would start 1 MiB or more past the
//! first. Sources: nova-core `vbios.rs` L249–287 (walk), L361–423 (PCIR), L518–545 (ROM
//! header), L554–689 (NPDE); nouveau `nvkm/subdev/bios/image.c` L30–65, `pcir.c` L28–65,
//! `npde.c` L28–55.
//!
//! On GA100 the PROM window starts with an IFR (init-from-ROM) header that the walk must
//! skip; [`rom_start`] finds where the images begin (nova-core `vbios.rs` L81–150; nouveau
//! `nvkm/subdev/bios/shadowrom.c` L99–114).

use crate::firmware::error::{FwError, FwErrorKind, FwResult};
use crate::firmware::reader::{align_up, to_u64, to_usize, Reader};

/// PCI expansion-ROM signature.
pub const ROM_SIGNATURE: u16 = 0xaa55;
/// NVIDIA's alternative ROM signature ("NV").
pub const ROM_SIGNATURE_NV: u16 = 0x4e56;
/// Images are walked until the next one would start this far past the first.
pub const SCAN_LIMIT: usize = 0x10_0000;
/// Image lengths are in units of, and images aligned to, this many bytes.
pub const IMAGE_ALIGN: usize = 512;
/// Bytes of the PCIR structure read here.
pub const PCIR_SIZE: usize = 24;
/// Bytes of the NPDE structure read here.
pub const NPDE_SIZE: usize = 11;

/// The image's code type (PCIR 0x14).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImageType {
    /// 0x00: legacy x86 BIOS; carries the BIT.
    PcAt,
    /// 0x03: EFI driver.
    Efi,
    /// 0x70: notebook system information; always the last image.
    Nbsi,
    /// 0xE0: FWSEC and the data it reads.
    Fwsec,
    /// Anything else.
    Other(u8),
}

impl ImageType {
    /// The type for a PCIR code-type byte.
    pub const fn from_code(code: u8) -> Self {
        match code {
            0x00 => ImageType::PcAt,
            0x03 => ImageType::Efi,
            0x70 => ImageType::Nbsi,
            0xe0 => ImageType::Fwsec,
            c => ImageType::Other(c),
        }
    }
}

/// The PCI data structure of an image (raw fields).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pcir {
    /// "PCIR" or "NPDS".
    pub signature: [u8; 4],
    /// PCI vendor id.
    pub vendor_id: u16,
    /// PCI device id.
    pub device_id: u16,
    /// Device-list pointer.
    pub device_list_ptr: u16,
    /// Length of this structure.
    pub struct_len: u16,
    /// Revision of this structure.
    pub struct_rev: u8,
    /// Class code.
    pub class_code: [u8; 3],
    /// Image length in 512-byte units.
    pub image_len: u16,
    /// Vendor ROM revision.
    pub vendor_rom_rev: u16,
    /// Code type.
    pub code_type: u8,
    /// Last-image indicator (bit 7).
    pub last_image: u8,
    /// Maximum run-time image length in 512-byte units.
    pub max_runtime_len: u16,
}

/// The NVIDIA PCI data extension of an image (raw fields).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Npde {
    /// Revision.
    pub revision: u16,
    /// Length of this structure.
    pub len: u16,
    /// Sub-image length in 512-byte units (non-zero).
    pub subimage_len: u16,
    /// Last-image indicator (bit 7).
    pub last_image: u8,
}

/// One image of the chain.
#[derive(Clone, Copy, Debug)]
pub struct RomImage<'a> {
    /// The image's bytes; `data.base()` is its offset in the PROM.
    pub data: Reader<'a>,
    /// Offset of the PCIR within the image.
    pub pcir_offset: usize,
    /// The PCIR.
    pub pcir: Pcir,
    /// The NPDE, if present.
    pub npde: Option<Npde>,
}

impl<'a> RomImage<'a> {
    /// Parses the image starting at byte `offset` of `prom`.
    pub fn parse(prom: &Reader<'a>, offset: usize) -> FwResult<Self> {
        let r = prom.tail(offset, "ROM image start")?;
        let sig = r.u16(0, "ROM header signature")?;
        if sig != ROM_SIGNATURE && sig != ROM_SIGNATURE_NV {
            return Err(r.error(
                FwErrorKind::BadMagic {
                    what: "ROM header signature",
                    found: sig.into(),
                    expected: ROM_SIGNATURE.into(),
                },
                0,
            ));
        }
        let pcir_offset = usize::from(r.u16(0x18, "ROM header PCIR pointer")?);
        let p = r.sub(pcir_offset, PCIR_SIZE, "PCIR")?;
        let signature = p.array::<4>(0, "PCIR signature")?;
        if &signature != b"PCIR" && &signature != b"NPDS" {
            return Err(p.error(
                FwErrorKind::BadMagic {
                    what: "PCIR signature",
                    found: u32::from_le_bytes(signature).into(),
                    expected: u32::from_le_bytes(*b"PCIR").into(),
                },
                0,
            ));
        }
        let mut c = p.cursor(4);
        let pcir = Pcir {
            signature,
            vendor_id: c.u16("PCIR vendor")?,
            device_id: c.u16("PCIR device")?,
            device_list_ptr: c.u16("PCIR device list")?,
            struct_len: c.u16("PCIR length")?,
            struct_rev: c.u8("PCIR revision")?,
            class_code: p.array::<3>(0x0d, "PCIR class code")?,
            image_len: p.u16(0x10, "PCIR image length")?,
            vendor_rom_rev: p.u16(0x12, "PCIR vendor ROM revision")?,
            code_type: p.u8(0x14, "PCIR code type")?,
            last_image: p.u8(0x15, "PCIR last image")?,
            max_runtime_len: p.u16(0x16, "PCIR max runtime length")?,
        };
        if pcir.image_len == 0 {
            return Err(p.error(
                FwErrorKind::BadValue {
                    what: "PCIR image length",
                    value: 0,
                },
                0x10,
            ));
        }
        let npde = if pcir.code_type == 0x70 {
            None
        } else {
            Self::find_npde(&r, pcir_offset, pcir.struct_len)
        };
        let mut image = Self {
            data: r,
            pcir_offset,
            pcir,
            npde,
        };
        let (len_at, size) = image.declared_size();
        image.data = r.region(0, to_u64(size), "ROM image", len_at)?;
        Ok(image)
    }

    fn find_npde(r: &Reader<'a>, pcir_offset: usize, pcir_len: u16) -> Option<Npde> {
        let at = align_up(pcir_offset.checked_add(usize::from(pcir_len))?, 16)?;
        let n = r.sub(at, NPDE_SIZE, "NPDE").ok()?;
        if n.array::<4>(0, "NPDE signature").ok()? != *b"NPDE" {
            return None;
        }
        let npde = Npde {
            revision: n.u16(4, "NPDE revision").ok()?,
            len: n.u16(6, "NPDE length").ok()?,
            subimage_len: n.u16(8, "NPDE sub-image length").ok()?,
            last_image: n.u8(10, "NPDE last image").ok()?,
        };
        (npde.subimage_len != 0).then_some(npde)
    }

    /// PROM offset of the length field in force and the image size in bytes.
    fn declared_size(&self) -> (usize, usize) {
        let pcir_at = self.data.abs(self.pcir_offset);
        match self.npde {
            Some(n) => {
                let npde_at = align_up(
                    self.pcir_offset
                        .saturating_add(usize::from(self.pcir.struct_len)),
                    16,
                )
                .unwrap_or(usize::MAX);
                (
                    self.data.abs(npde_at).saturating_add(8),
                    usize::from(n.subimage_len) * IMAGE_ALIGN,
                )
            }
            None => (
                pcir_at.saturating_add(0x10),
                usize::from(self.pcir.image_len) * IMAGE_ALIGN,
            ),
        }
    }

    /// Offset of the image in the PROM.
    pub fn offset(&self) -> usize {
        self.data.base()
    }

    /// Size of the image in bytes (from the NPDE if present, else the PCIR).
    pub fn size(&self) -> usize {
        self.data.len()
    }

    /// The image's code type.
    pub fn image_type(&self) -> ImageType {
        ImageType::from_code(self.pcir.code_type)
    }

    /// Whether the chain ends with this image.
    pub fn is_last(&self) -> bool {
        match (self.image_type(), self.npde) {
            (ImageType::Nbsi, _) => true,
            (_, Some(n)) => n.last_image & 0x80 != 0,
            (_, None) => self.pcir.last_image & 0x80 != 0,
        }
    }
}

/// Iterator over the images of a PROM, from [`images`].
#[derive(Clone, Copy, Debug)]
pub struct Images<'a> {
    prom: Reader<'a>,
    start: usize,
    next: usize,
    done: bool,
}

/// Walks the image chain of `prom` starting at byte `start` (see [`rom_start`]). Yields each
/// image, or one error after which it stops.
pub fn images<'a>(prom: &'a [u8], start: usize) -> Images<'a> {
    Images {
        prom: Reader::new(prom),
        start,
        next: start,
        done: false,
    }
}

impl<'a> Images<'a> {
    /// Whether the walk ended because of the scan limit rather than a last-image flag.
    pub fn hit_scan_limit(&self) -> bool {
        self.next.saturating_sub(self.start) >= SCAN_LIMIT
    }
}

impl<'a> Iterator for Images<'a> {
    type Item = FwResult<RomImage<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done || self.next.saturating_sub(self.start) >= SCAN_LIMIT {
            self.done = true;
            return None;
        }
        let image = match RomImage::parse(&self.prom, self.next) {
            Ok(image) => image,
            Err(e) => {
                self.done = true;
                return Some(Err(e));
            }
        };
        match self
            .next
            .checked_add(image.size())
            .and_then(|end| align_up(end, IMAGE_ALIGN))
        {
            Some(next) => self.next = next,
            None => {
                self.done = true;
                return Some(Err(FwError::new(
                    FwErrorKind::Overflow {
                        what: "next ROM image offset",
                    },
                    image.offset(),
                )));
            }
        }
        self.done = image.is_last();
        Some(Ok(image))
    }
}

/// IFR header signature "NVGI".
pub const IFR_SIGNATURE: u32 = u32::from_le_bytes(*b"NVGI");
/// IFR v3 ROM directory signature "RFRD".
pub const ROM_DIRECTORY_SIGNATURE: u32 = u32::from_le_bytes(*b"RFRD");

/// Offset in `prom` where the PCI ROM images begin: 0 unless the PROM starts with an IFR
/// header ("NVGI").
///
/// IFR versions 1 and 2: the `u32` at `FIXED_DATA_SIZE + 4` (FIXED1 bits 30:16). Version 3:
/// the `u32` at `TOTAL_DATA_SIZE` (FIXED2 bits 19:0) is the flash-status offset; the ROM
/// directory ("RFRD") is 4 KiB past it and its `u32` at +8 is the offset.
pub fn rom_start(prom: &[u8]) -> FwResult<usize> {
    let r = Reader::new(prom);
    if r.len() < 4 || r.u32(0, "IFR signature")? != IFR_SIGNATURE {
        return Ok(0);
    }
    let fixed1 = r.u32(4, "IFR FIXED1")?;
    let version = (fixed1 >> 8) & 0xff;
    let start = match version {
        1 | 2 => {
            let fixed = to_usize(((fixed1 >> 16) & 0x7fff).into(), "IFR fixed data size", 4)?;
            let at = fixed.checked_add(4).ok_or(FwError::new(
                FwErrorKind::Overflow {
                    what: "IFR ROM offset",
                },
                4,
            ))?;
            r.u32(at, "IFR ROM address offset")?
        }
        3 => {
            let total = to_usize(
                (r.u32(8, "IFR FIXED2")? & 0xf_ffff).into(),
                "IFR total data size",
                8,
            )?;
            let flash = to_usize(
                r.u32(total, "IFR flash status offset")?.into(),
                "IFR flash status offset",
                total,
            )?;
            let dir = flash.checked_add(4096).ok_or(FwError::new(
                FwErrorKind::Overflow {
                    what: "ROM directory",
                },
                total,
            ))?;
            let dir_sig = r.u32(dir, "ROM directory signature")?;
            if dir_sig != ROM_DIRECTORY_SIGNATURE {
                return Err(r.error(
                    FwErrorKind::BadMagic {
                        what: "ROM directory signature",
                        found: dir_sig.into(),
                        expected: ROM_DIRECTORY_SIGNATURE.into(),
                    },
                    dir,
                ));
            }
            r.u32(dir.saturating_add(8), "ROM directory PCI ROM offset")?
        }
        v => {
            return Err(r.error(
                FwErrorKind::UnsupportedVersion {
                    what: "IFR header",
                    found: v.into(),
                },
                4,
            ));
        }
    };
    let start = to_usize(start.into(), "PCI ROM offset", 0)?;
    if start >= r.len() {
        return Err(r.error(
            FwErrorKind::OutOfBounds {
                what: "PCI ROM offset from the IFR header",
                start: to_u64(start),
                len: 0,
                limit: to_u64(r.len()),
            },
            0,
        ));
    }
    Ok(start)
}
