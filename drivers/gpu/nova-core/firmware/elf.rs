// SPDX-License-Identifier: GPL-2.0
//! A little-endian ELF section-table walker (ELF64 and ELF32), enough to find named sections
//! in the GSP-RM firmware container (`gsp-*.bin`, ELF64) and the Hopper/Blackwell FMC files
//! (`fmc-*.bin`, ELF32).
//!
//! Layouts: Linux `include/uapi/linux/elf.h` L217–247 (`elf32_hdr`, `elf64_hdr`), L326–350
//! (`elf32_shdr`, `elf64_shdr`); extended section numbering (`e_shnum == 0`,
//! `e_shstrndx == SHN_XINDEX` 0xFFFF, real values in section 0's `sh_size` / `sh_link`) is
//! from the System V gABI. Only the section table is read: program headers, symbols and
//! relocations are not needed to boot GSP-RM.
//!
//! | Field         | ELF64 off | ELF32 off | Check                                         |
//! |---------------|-----------|-----------|-----------------------------------------------|
//! | `e_ident`     | 0x00      | 0x00      | `7F 'E' 'L' 'F'`, class 1/2, data 1 (LE), v1  |
//! | `e_type`      | 0x10      | 0x10      |                                               |
//! | `e_machine`   | 0x12      | 0x12      |                                               |
//! | `e_shoff`     | 0x28      | 0x20      | table `[e_shoff, + e_shnum × e_shentsize)` in file |
//! | `e_shentsize` | 0x3A      | 0x2E      | at least 64 / 40                              |
//! | `e_shnum`     | 0x3C      | 0x30      |                                               |
//! | `e_shstrndx`  | 0x3E      | 0x32      | names a section in the table                  |

use super::error::{FwError, FwErrorKind, FwResult};
use super::reader::{to_u64, to_usize, Reader};

/// `e_type` of a relocatable file.
pub const ET_REL: u16 = 1;
/// `e_machine` of RISC-V.
pub const EM_RISCV: u16 = 0xf3;
/// `sh_type` of a section with no file data.
pub const SHT_NOBITS: u32 = 8;
/// `e_shstrndx` escape: the real index is in section 0's `sh_link`.
pub const SHN_XINDEX: u16 = 0xffff;

/// ELF file class.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ElfClass {
    /// 32-bit (`ELFCLASS32`).
    Elf32,
    /// 64-bit (`ELFCLASS64`).
    Elf64,
}

impl ElfClass {
    /// Size of the section header this class requires at minimum.
    pub const fn shdr_size(self) -> usize {
        match self {
            ElfClass::Elf32 => 40,
            ElfClass::Elf64 => 64,
        }
    }

    /// Size of the file header.
    pub const fn ehdr_size(self) -> usize {
        match self {
            ElfClass::Elf32 => 52,
            ElfClass::Elf64 => 64,
        }
    }
}

/// One section, with its bytes.
#[derive(Clone, Copy, Debug)]
pub struct Section<'a> {
    /// Index in the section table.
    pub index: usize,
    /// File offset of its section header.
    pub header_offset: usize,
    /// Name (without the NUL).
    pub name: &'a [u8],
    /// `sh_type`.
    pub sh_type: u32,
    /// `sh_flags`.
    pub flags: u64,
    /// `sh_addr`.
    pub addr: u64,
    /// `sh_offset`.
    pub offset: u64,
    /// `sh_size`.
    pub size: u64,
    /// `sh_link`.
    pub link: u32,
    /// `sh_info`.
    pub info: u32,
    /// `sh_addralign`.
    pub addralign: u64,
    /// `sh_entsize`.
    pub entsize: u64,
    /// The section's bytes (empty for `SHT_NOBITS`).
    pub data: &'a [u8],
}

/// Raw section-header fields, before the name and data are resolved.
#[derive(Clone, Copy, Debug)]
struct RawShdr {
    name: u32,
    sh_type: u32,
    flags: u64,
    addr: u64,
    offset: u64,
    size: u64,
    link: u32,
    info: u32,
    addralign: u64,
    entsize: u64,
}

/// A parsed ELF file: its header and a validated section table.
#[derive(Clone, Copy, Debug)]
pub struct Elf<'a> {
    file: Reader<'a>,
    /// 32- or 64-bit.
    pub class: ElfClass,
    /// `e_type`.
    pub e_type: u16,
    /// `e_machine`.
    pub machine: u16,
    /// File offset of the section table.
    pub shoff: usize,
    /// Size of one section header.
    pub shentsize: usize,
    /// Number of sections.
    pub shnum: usize,
    /// Index of the section-name string table.
    pub shstrndx: usize,
    shstrtab: Reader<'a>,
}

impl<'a> Elf<'a> {
    /// Parses the ELF header and checks the section table and the section-name table.
    pub fn parse(file: &'a [u8]) -> FwResult<Self> {
        let r = Reader::new(file);
        let [m0, m1, m2, m3, ei_class, ei_data, ei_version, ..] =
            r.array::<16>(0, "ELF identification")?;
        let magic = u32::from_le_bytes([m0, m1, m2, m3]);
        if magic != 0x464c_457f {
            return Err(r.error(
                FwErrorKind::BadMagic {
                    what: "ELF magic",
                    found: magic.into(),
                    expected: 0x464c_457f,
                },
                0,
            ));
        }
        let class = match ei_class {
            1 => ElfClass::Elf32,
            2 => ElfClass::Elf64,
            c => {
                return Err(r.error(
                    FwErrorKind::BadValue {
                        what: "ELF class",
                        value: c.into(),
                    },
                    4,
                ));
            }
        };
        if ei_data != 1 {
            return Err(r.error(
                FwErrorKind::BadValue {
                    what: "ELF data encoding (only little-endian is supported)",
                    value: ei_data.into(),
                },
                5,
            ));
        }
        if ei_version != 1 {
            return Err(r.error(
                FwErrorKind::UnsupportedVersion {
                    what: "ELF identification",
                    found: ei_version.into(),
                },
                6,
            ));
        }
        r.bytes(0, class.ehdr_size(), "ELF header")?;
        let e_type = r.u16(0x10, "e_type")?;
        let machine = r.u16(0x12, "e_machine")?;
        let (shoff_at, shoff) = match class {
            ElfClass::Elf64 => (0x28, r.u64(0x28, "e_shoff")?),
            ElfClass::Elf32 => (0x20, u64::from(r.u32(0x20, "e_shoff")?)),
        };
        let base = match class {
            ElfClass::Elf64 => 0x3a,
            ElfClass::Elf32 => 0x2e,
        };
        let shentsize = usize::from(r.u16(base, "e_shentsize")?);
        let e_shnum = r.u16(base + 2, "e_shnum")?;
        let e_shstrndx = r.u16(base + 4, "e_shstrndx")?;

        let shoff_usize = to_usize(shoff, "e_shoff", shoff_at)?;
        if shoff == 0 {
            return Err(r.error(
                FwErrorKind::NotFound {
                    what: "ELF section table (e_shoff is 0)",
                },
                shoff_at,
            ));
        }
        if shentsize < class.shdr_size() {
            return Err(r.error(
                FwErrorKind::BadValue {
                    what: "e_shentsize",
                    value: to_u64(shentsize),
                },
                base,
            ));
        }
        // The first header must exist in any case (extended numbering lives there).
        r.region(shoff, to_u64(shentsize), "ELF section header 0", shoff_at)?;

        let mut elf = Self {
            file: r,
            class,
            e_type,
            machine,
            shoff: shoff_usize,
            shentsize,
            shnum: 1,
            shstrndx: 0,
            shstrtab: Reader::with_base(&[], 0),
        };
        let sh0 = elf.raw_shdr(0)?;
        let shnum = if e_shnum == 0 {
            to_usize(sh0.size, "extended section count", elf.shdr_at(0))?
        } else {
            usize::from(e_shnum)
        };
        let table_len = to_u64(shnum)
            .checked_mul(to_u64(shentsize))
            .ok_or_else(|| {
                r.error(
                    FwErrorKind::Overflow {
                        what: "section table size",
                    },
                    base,
                )
            })?;
        r.region(shoff, table_len, "ELF section table", shoff_at)?;
        elf.shnum = shnum;

        let shstrndx = if e_shstrndx == SHN_XINDEX {
            to_usize(sh0.link.into(), "extended e_shstrndx", elf.shdr_at(0))?
        } else {
            usize::from(e_shstrndx)
        };
        if shstrndx == 0 || shstrndx >= shnum {
            return Err(r.error(
                FwErrorKind::BadValue {
                    what: "e_shstrndx",
                    value: to_u64(shstrndx),
                },
                base + 4,
            ));
        }
        let strtab = elf.raw_shdr(shstrndx)?;
        if strtab.sh_type == SHT_NOBITS {
            return Err(FwError::new(
                FwErrorKind::BadValue {
                    what: "section-name table type",
                    value: strtab.sh_type.into(),
                },
                elf.shdr_at(shstrndx),
            ));
        }
        elf.shstrtab = r.region(
            strtab.offset,
            strtab.size,
            "section-name table",
            elf.shdr_at(shstrndx),
        )?;
        elf.shstrndx = shstrndx;
        Ok(elf)
    }

    /// The whole file.
    pub fn file(&self) -> &'a [u8] {
        self.file.data()
    }

    /// File offset of section header `index` (saturating; valid for `index < shnum`).
    pub fn shdr_at(&self, index: usize) -> usize {
        index
            .saturating_mul(self.shentsize)
            .saturating_add(self.shoff)
    }

    fn raw_shdr(&self, index: usize) -> FwResult<RawShdr> {
        let at = self.shdr_at(index);
        let h = self
            .file
            .sub(at, self.class.shdr_size(), "ELF section header")?;
        let mut c = h.cursor(0);
        Ok(match self.class {
            ElfClass::Elf64 => RawShdr {
                name: c.u32("sh_name")?,
                sh_type: c.u32("sh_type")?,
                flags: c.u64("sh_flags")?,
                addr: c.u64("sh_addr")?,
                offset: c.u64("sh_offset")?,
                size: c.u64("sh_size")?,
                link: c.u32("sh_link")?,
                info: c.u32("sh_info")?,
                addralign: c.u64("sh_addralign")?,
                entsize: c.u64("sh_entsize")?,
            },
            ElfClass::Elf32 => RawShdr {
                name: c.u32("sh_name")?,
                sh_type: c.u32("sh_type")?,
                flags: c.u32("sh_flags")?.into(),
                addr: c.u32("sh_addr")?.into(),
                offset: c.u32("sh_offset")?.into(),
                size: c.u32("sh_size")?.into(),
                link: c.u32("sh_link")?,
                info: c.u32("sh_info")?,
                addralign: c.u32("sh_addralign")?.into(),
                entsize: c.u32("sh_entsize")?.into(),
            },
        })
    }

    /// Section `index`, with its name and data resolved and bounds-checked.
    pub fn section(&self, index: usize) -> FwResult<Section<'a>> {
        let at = self.shdr_at(index);
        if index >= self.shnum {
            return Err(FwError::new(
                FwErrorKind::BadValue {
                    what: "section index",
                    value: to_u64(index),
                },
                self.shoff,
            ));
        }
        let raw = self.raw_shdr(index)?;
        let name = self.name(raw.name, at)?;
        let data = if raw.sh_type == SHT_NOBITS {
            &[][..]
        } else {
            self.file
                .region(raw.offset, raw.size, "section data", at)?
                .data()
        };
        Ok(Section {
            index,
            header_offset: at,
            name,
            sh_type: raw.sh_type,
            flags: raw.flags,
            addr: raw.addr,
            offset: raw.offset,
            size: raw.size,
            link: raw.link,
            info: raw.info,
            addralign: raw.addralign,
            entsize: raw.entsize,
            data,
        })
    }

    fn name(&self, off: u32, shdr_at: usize) -> FwResult<&'a [u8]> {
        let bad = FwError::new(
            FwErrorKind::BadValue {
                what: "section name offset",
                value: off.into(),
            },
            shdr_at,
        );
        let start = usize::try_from(off).map_err(|_| bad)?;
        let rest = self.shstrtab.data().get(start..).ok_or(bad)?;
        let len = rest.iter().position(|&b| b == 0).ok_or(bad)?;
        rest.get(..len).ok_or(bad)
    }

    /// All sections in table order (each checked as it is produced).
    pub fn sections(&self) -> Sections<'a> {
        Sections {
            elf: *self,
            next: 0,
        }
    }

    /// The first section called `name`, or `None`.
    pub fn find(&self, name: &[u8]) -> FwResult<Option<Section<'a>>> {
        for s in self.sections() {
            let s = s?;
            if s.name == name {
                return Ok(Some(s));
            }
        }
        Ok(None)
    }

    /// The first section called `name`, or a [`FwErrorKind::NotFound`] error naming `what`
    /// at the section table.
    pub fn require(&self, name: &[u8], what: &'static str) -> FwResult<Section<'a>> {
        self.find(name)?
            .ok_or(FwError::new(FwErrorKind::NotFound { what }, self.shoff))
    }
}

/// Iterator over the sections of an [`Elf`].
#[derive(Clone, Copy, Debug)]
pub struct Sections<'a> {
    elf: Elf<'a>,
    next: usize,
}

impl<'a> Iterator for Sections<'a> {
    type Item = FwResult<Section<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.next >= self.elf.shnum {
            return None;
        }
        let i = self.next;
        self.next = i.saturating_add(1);
        Some(self.elf.section(i))
    }
}
