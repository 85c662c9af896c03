// SPDX-License-Identifier: GPL-2.0
//! VBIOS parsing: from the PROM contents to the FWSEC ucode nova-core runs to carve out WPR2
//! (facts sheet §4).
//!
//! Pure logic, shared with the host crate like [`crate::firmware`]: the input is the PROM as
//! read (a byte slice; reading BAR0 0x300000 is the caller's job), the results borrow from
//! it, nothing is allocated and no input makes it panic. Errors are
//! [`FwError`](crate::firmware::FwError)s whose offset is a PROM offset.
//!
//! The steps, each in its own module:
//!
//! 1. [`image::rom_start`] skips an IFR header (GA100) and [`image::images`] walks the image
//!    chain (§4.1–4.2).
//! 2. The first PC-AT image (code type 0) holds the BIT ([`bit`], §4.3); its falcon-data
//!    token ('p') points at the falcon ucode table.
//! 3. Pointers into the ROM are ROM addresses that count the PC-AT image and the FWSEC part
//!    as if contiguous, even when an EFI image sits between them: an address at or past the
//!    PC-AT image's length is an offset into the FWSEC section (every image from the first
//!    FWSEC image, code type 0xE0, on) after subtracting that length. nova-core `vbios.rs`
//!    L755–781 requires this case; nouveau `nvkm/subdev/bios/base.c` L31–45 also lets an
//!    address below it point into the first image, which [`Vbios::resolve`] allows too.
//! 4. The table's production FWSEC entry (application id 0x85) points at the descriptor
//!    ([`falcon`], §4.4), from which [`fwsec`] locates the ucode, signatures, app interface,
//!    DMEM mapper and FRTS command buffer (§4.5).

pub mod bit;
pub mod falcon;
pub mod fwsec;
pub mod image;

use crate::firmware::error::{FwError, FwErrorKind, FwResult};
use crate::firmware::reader::{to_u64, Reader};

use self::bit::Bit;
use self::falcon::{UcodeTable, UcodeTableEntry, APP_ID_FWSEC_PROD};
use self::fwsec::Fwsec;
use self::image::{ImageType, RomImage};

/// The parsed VBIOS, down to the production FWSEC.
#[derive(Clone, Copy, Debug)]
pub struct Vbios<'a> {
    /// PROM offset where the images begin (non-zero only behind an IFR header).
    pub rom_start: usize,
    /// The first PC-AT image.
    pub pci_at: RomImage<'a>,
    /// The FWSEC section: from the first FWSEC image to the end of the last image walked.
    pub fwsec_section: Reader<'a>,
    /// The BIT.
    pub bit: Bit<'a>,
    /// The falcon-data pointer (a ROM address).
    pub falcon_data_ptr: u32,
    /// The falcon ucode table.
    pub ucode_table: UcodeTable<'a>,
    /// The production FWSEC entry of the table.
    pub fwsec_entry: UcodeTableEntry,
    /// The production FWSEC ucode.
    pub fwsec: Fwsec<'a>,
    /// Number of images walked.
    pub image_count: usize,
}

impl<'a> Vbios<'a> {
    /// Parses the PROM contents `prom`.
    pub fn parse(prom: &'a [u8]) -> FwResult<Self> {
        let rom_start = image::rom_start(prom)?;
        let mut pci_at = None;
        let mut fwsec_start = None;
        let mut end = rom_start;
        let mut image_count = 0usize;
        for img in image::images(prom, rom_start) {
            let img = img?;
            image_count = image_count.saturating_add(1);
            end = img.offset().saturating_add(img.size());
            match img.image_type() {
                ImageType::PcAt if pci_at.is_none() && fwsec_start.is_none() => pci_at = Some(img),
                ImageType::Fwsec if fwsec_start.is_none() => fwsec_start = Some(img.offset()),
                _ => {}
            }
        }
        let r = Reader::new(prom);
        let pci_at: RomImage<'a> = pci_at.ok_or(r.error(
            FwErrorKind::NotFound {
                what: "PC-AT image (code type 0x00)",
            },
            rom_start,
        ))?;
        let fwsec_start = fwsec_start.ok_or(r.error(
            FwErrorKind::NotFound {
                what: "FWSEC image (code type 0xE0)",
            },
            rom_start,
        ))?;
        let fwsec_len = end.saturating_sub(fwsec_start);
        let fwsec_section = r.sub(fwsec_start, fwsec_len, "FWSEC section")?;

        let bit = Bit::find(&pci_at.data)?;
        let falcon_data_ptr = bit.falcon_data_pointer()?;
        let token_at = bit
            .find_token(bit::TOKEN_FALCON_DATA)?
            .map_or(bit.offset, |t| {
                t.data_offset.try_into().unwrap_or(usize::MAX)
            });
        let table_at = Self::resolve_in(
            &pci_at,
            &fwsec_section,
            falcon_data_ptr,
            pci_at.data.abs(token_at),
        )?;
        let ucode_table = UcodeTable::parse(table_at)?;
        let fwsec_entry = ucode_table.find(APP_ID_FWSEC_PROD)?.ok_or(FwError::new(
            FwErrorKind::NotFound {
                what: "production FWSEC (application id 0x85) in the falcon ucode table",
            },
            table_at.base(),
        ))?;
        let desc_at = Self::resolve_in(
            &pci_at,
            &fwsec_section,
            fwsec_entry.desc_ptr,
            table_at.abs(fwsec_entry.entry_offset.saturating_add(2)),
        )?;
        let fwsec = Fwsec::parse(desc_at)?;
        Ok(Self {
            rom_start,
            pci_at,
            fwsec_section,
            bit,
            falcon_data_ptr,
            ucode_table,
            fwsec_entry,
            fwsec,
            image_count,
        })
    }

    fn resolve_in(
        pci_at: &RomImage<'a>,
        fwsec_section: &Reader<'a>,
        ptr: u32,
        field_at: usize,
    ) -> FwResult<Reader<'a>> {
        let pcat_len = to_u64(pci_at.size());
        let ptr = u64::from(ptr);
        let (container, off) = match ptr.checked_sub(pcat_len) {
            Some(off) => (fwsec_section, off),
            None => (&pci_at.data, ptr),
        };
        container.region(
            off,
            to_u64(container.len()).saturating_sub(off),
            "VBIOS pointer target",
            field_at,
        )
    }

    /// Resolves the ROM address `ptr` (see the module docs, step 3) to a window from its
    /// target to the end of the PC-AT image or of the FWSEC section. `field_at` is the PROM
    /// offset of the field that held it, named in the error if it points nowhere.
    pub fn resolve(&self, ptr: u32, field_at: usize) -> FwResult<Reader<'a>> {
        Self::resolve_in(&self.pci_at, &self.fwsec_section, ptr, field_at)
    }
}
