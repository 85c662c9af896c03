// SPDX-License-Identifier: GPL-2.0
//! The GSP-RM firmware container, `gsp-*.bin`: a little-endian ELF64 relocatable file for
//! RISC-V whose sections carry the raw LIBOS image (`.fwimage`) and one signature section per
//! chip family (`.fwsignature_<family>`), plus `.fwversion` and, in r570, a GNU build id.
//!
//! Facts sheet §6.6 (checked on the r570.144 file with readelf). The driver DMA-maps
//! `.fwimage` through a radix3 table (see [`super::radix3`]) and the family's signature
//! section as-is (nouveau `nvkm/subdev/gsp/rm/r535/gsp.c` L2165–2185). The family section
//! names come from nouveau's per-chip `sig_section` fields: `tu102.c` L438, `tu116.c` L29,
//! `ga100.c` L46, `ga102.c` L157, `ad102.c` L29, `gh100.c` L317, `gb100.c` L11, `gb202.c`
//! L11 (all under `nvkm/subdev/gsp/`).

use super::elf::{Elf, ElfClass, Section, EM_RISCV};
use super::error::{FwError, FwErrorKind, FwResult};
use super::reader::{align_up, to_u64, to_usize, Reader};

/// Name of the section holding the GSP-RM image.
pub const FWIMAGE_SECTION: &[u8] = b".fwimage";
/// Name of the section holding the version string.
pub const FWVERSION_SECTION: &[u8] = b".fwversion";
/// Name of the GNU build-id note section.
pub const BUILD_ID_SECTION: &[u8] = b".note.gnu.build-id";

/// A chip family that has its own signature section in `gsp-*.bin`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignatureFamily {
    /// TU102, TU104, TU106.
    Tu10x,
    /// TU116, TU117.
    Tu11x,
    /// GA100.
    Ga100,
    /// GA102, GA103, GA104, GA106, GA107.
    Ga10x,
    /// AD102 to AD107.
    Ad10x,
    /// GH100.
    Gh100,
    /// GB100, GB102.
    Gb10x,
    /// GB202 to GB207.
    Gb20x,
}

impl SignatureFamily {
    /// All families.
    pub const ALL: [SignatureFamily; 8] = [
        SignatureFamily::Tu10x,
        SignatureFamily::Tu11x,
        SignatureFamily::Ga100,
        SignatureFamily::Ga10x,
        SignatureFamily::Ad10x,
        SignatureFamily::Gh100,
        SignatureFamily::Gb10x,
        SignatureFamily::Gb20x,
    ];

    /// The signature section's name, e.g. `.fwsignature_ga10x`.
    pub const fn section_name(self) -> &'static str {
        match self {
            SignatureFamily::Tu10x => ".fwsignature_tu10x",
            SignatureFamily::Tu11x => ".fwsignature_tu11x",
            SignatureFamily::Ga100 => ".fwsignature_ga100",
            SignatureFamily::Ga10x => ".fwsignature_ga10x",
            SignatureFamily::Ad10x => ".fwsignature_ad10x",
            SignatureFamily::Gh100 => ".fwsignature_gh100",
            SignatureFamily::Gb10x => ".fwsignature_gb10x",
            SignatureFamily::Gb20x => ".fwsignature_gb20x",
        }
    }

    /// The family of a chipset number (`arch << 4 | impl`, see `crate::chip`), or `None`
    /// for a chip without GSP-RM.
    pub const fn for_chipset(chipset: u16) -> Option<Self> {
        Some(match chipset {
            0x162 | 0x164 | 0x166 => SignatureFamily::Tu10x,
            0x167 | 0x168 => SignatureFamily::Tu11x,
            0x170 => SignatureFamily::Ga100,
            0x172 | 0x173 | 0x174 | 0x176 | 0x177 => SignatureFamily::Ga10x,
            0x192 | 0x193 | 0x194 | 0x196 | 0x197 => SignatureFamily::Ad10x,
            0x180 => SignatureFamily::Gh100,
            0x1a0 | 0x1a2 => SignatureFamily::Gb10x,
            0x1b2 | 0x1b3 | 0x1b5 | 0x1b6 | 0x1b7 => SignatureFamily::Gb20x,
            _ => return None,
        })
    }
}

/// A parsed `gsp-*.bin`.
#[derive(Clone, Copy, Debug)]
pub struct GspFirmware<'a> {
    /// The ELF container.
    pub elf: Elf<'a>,
    /// The `.fwimage` section: the image the radix3 table maps.
    pub fwimage: Section<'a>,
    /// The family's signature section.
    pub signature: Section<'a>,
    /// The `.fwversion` bytes up to the first NUL (e.g. `570.144`), if the section exists.
    pub version: Option<&'a [u8]>,
    /// The GNU build-id note's descriptor (the id bytes), if the section exists.
    pub build_id: Option<&'a [u8]>,
}

impl<'a> GspFirmware<'a> {
    /// Parses `file` as the GSP-RM container and picks the signature for `family`.
    ///
    /// Requires ELF64, `EM_RISCV`, a non-empty `.fwimage` and a non-empty signature section
    /// for `family`.
    pub fn parse(file: &'a [u8], family: SignatureFamily) -> FwResult<Self> {
        let elf = Elf::parse(file)?;
        if elf.class != ElfClass::Elf64 {
            return Err(FwError::new(
                FwErrorKind::BadValue {
                    what: "GSP ELF class (must be ELF64)",
                    value: 1,
                },
                4,
            ));
        }
        if elf.machine != EM_RISCV {
            return Err(FwError::new(
                FwErrorKind::BadValue {
                    what: "GSP ELF machine (must be RISC-V)",
                    value: elf.machine.into(),
                },
                0x12,
            ));
        }
        let mut fwimage = None;
        let mut signature = None;
        let mut version = None;
        let mut build_id = None;
        let sig_name = family.section_name().as_bytes();
        for s in elf.sections() {
            let s = s?;
            if s.name == FWIMAGE_SECTION && fwimage.is_none() {
                fwimage = Some(s);
            } else if s.name == sig_name && signature.is_none() {
                signature = Some(s);
            } else if s.name == FWVERSION_SECTION && version.is_none() {
                let len = s.data.iter().position(|&b| b == 0).unwrap_or(s.data.len());
                version = s.data.get(..len);
            } else if s.name == BUILD_ID_SECTION && build_id.is_none() {
                build_id = Some(note_desc(&s)?);
            }
        }
        let fwimage = fwimage.ok_or(FwError::new(
            FwErrorKind::NotFound {
                what: "section .fwimage",
            },
            elf.shoff,
        ))?;
        let signature = signature.ok_or(FwError::new(
            FwErrorKind::NotFound {
                what: "signature section for the chip family",
            },
            elf.shoff,
        ))?;
        for s in [&fwimage, &signature] {
            if s.data.is_empty() {
                return Err(FwError::new(
                    FwErrorKind::BadValue {
                        what: "section size (must not be empty)",
                        value: 0,
                    },
                    s.header_offset,
                ));
            }
        }
        Ok(Self {
            elf,
            fwimage,
            signature,
            version,
            build_id,
        })
    }

    /// The GSP-RM image bytes (`.fwimage`).
    pub fn image(&self) -> &'a [u8] {
        self.fwimage.data
    }

    /// The signature bytes for the chosen family.
    pub fn signature_bytes(&self) -> &'a [u8] {
        self.signature.data
    }

    /// The `.fwversion` string as (major, minor), e.g. (570, 144) for "570.144".
    pub fn version_numbers(&self) -> Option<(u32, u32)> {
        let v = core::str::from_utf8(self.version?).ok()?;
        let (major, minor) = v.split_once('.')?;
        Some((major.parse().ok()?, minor.parse().ok()?))
    }
}

/// The descriptor of an ELF note section holding one note (`namesz`, `descsz`, `type`, name
/// padded to 4, descriptor).
fn note_desc<'a>(s: &Section<'a>) -> FwResult<&'a [u8]> {
    let r = Reader::with_base(s.data, usize::try_from(s.offset).unwrap_or(usize::MAX));
    let namesz = r.u32(0, "note namesz")?;
    let descsz = r.u32(4, "note descsz")?;
    let name_len = align_up(to_usize(namesz.into(), "note namesz", r.abs(0))?, 4)
        .ok_or(r.error(FwErrorKind::Overflow { what: "note name" }, 0))?;
    let desc_at = name_len
        .checked_add(12)
        .ok_or(r.error(FwErrorKind::Overflow { what: "note desc" }, 0))?;
    r.region(to_u64(desc_at), descsz.into(), "note descriptor", r.abs(4))
        .map(|d| d.data())
}
