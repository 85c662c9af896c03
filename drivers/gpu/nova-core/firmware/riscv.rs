// SPDX-License-Identifier: GPL-2.0
//! The GSP RISC-V bootloader file (`bootloader-*.bin`): `nvfw_bin_hdr` followed by
//! `RM_RISCV_UCODE_DESC` at the bin header's `header_offset`, and the bootloader image as the
//! payload.
//!
//! Layout (all `u32`): OpenRM 570.144 `src/nvidia/interface/gsp_abi_check.c` L2170–2191 via
//! facts sheet §6.5. Field offsets:
//!
//! | Off  | Field                   | Off  | Field                   |
//! |------|-------------------------|------|-------------------------|
//! | 0x00 | `version`               | 0x2C | `monitorDataSize`       |
//! | 0x04 | `bootloaderOffset`      | 0x30 | `monitorCodeOffset`     |
//! | 0x08 | `bootloaderSize`        | 0x34 | `monitorCodeSize`       |
//! | 0x0C | `bootloaderParamOffset` | 0x38 | `bIsMonitorEnabled`     |
//! | 0x10 | `bootloaderParamSize`   | 0x3C | `swbromCodeOffset`      |
//! | 0x14 | `riscvElfOffset`        | 0x40 | `swbromCodeSize`        |
//! | 0x18 | `riscvElfSize`          | 0x44 | `swbromDataOffset`      |
//! | 0x1C | `appVersion`            | 0x48 | `swbromDataSize`        |
//! | 0x20 | `manifestOffset`        | 0x4C | `fbReservedSize` (v5)   |
//! | 0x24 | `manifestSize`          | 0x50 | `bSignedAsCode` (v5)    |
//! | 0x28 | `monitorDataOffset`     |      |                         |
//!
//! Version 5 files (GA10x and later) carry all 21 fields (84 bytes, ending exactly at the
//! payload). Version 4 files (the TU10x/GA100 bootloader) have only 76 bytes between the
//! descriptor and the payload: the last two fields, which OpenRM's comment says version 5
//! added, are absent there and read as 0. Other versions are rejected.
//!
//! Every non-empty `(offset, size)` region must lie inside the payload. The driver passes the
//! whole payload as the bootloader image and `monitorCodeOffset`, `monitorDataOffset`,
//! `manifestOffset` into `GspFwWprMeta` (facts sheet §6.5, §7.1).

use super::bin_hdr::BinFile;
use super::error::{FwErrorKind, FwResult};
use super::reader::Reader;

/// Size of a version-5 descriptor.
pub const RISCV_DESC_V5_SIZE: usize = 84;
/// Size of a version-4 descriptor.
pub const RISCV_DESC_V4_SIZE: usize = 76;

/// `RM_RISCV_UCODE_DESC`, raw field values (offsets are payload-relative).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RiscvUcodeDesc {
    /// Structure version (4 or 5).
    pub version: u32,
    /// Offset of the bootloader proper.
    pub bootloader_offset: u32,
    /// Its size.
    pub bootloader_size: u32,
    /// Offset of the bootloader parameters.
    pub bootloader_param_offset: u32,
    /// Their size.
    pub bootloader_param_size: u32,
    /// Offset of an embedded RISC-V ELF.
    pub riscv_elf_offset: u32,
    /// Its size.
    pub riscv_elf_size: u32,
    /// Changelist number of the image; written to the GSP falcon `OS` register.
    pub app_version: u32,
    /// Offset of the manifest (input to the boot ROM).
    pub manifest_offset: u32,
    /// Its size.
    pub manifest_size: u32,
    /// Offset of the monitor's data.
    pub monitor_data_offset: u32,
    /// Its size.
    pub monitor_data_size: u32,
    /// Offset of the monitor's code.
    pub monitor_code_offset: u32,
    /// Its size.
    pub monitor_code_size: u32,
    /// Whether the monitor is enabled.
    pub is_monitor_enabled: u32,
    /// Offset of the software boot ROM code.
    pub swbrom_code_offset: u32,
    /// Its size.
    pub swbrom_code_size: u32,
    /// Offset of the software boot ROM data.
    pub swbrom_data_offset: u32,
    /// Its size.
    pub swbrom_data_size: u32,
    /// Total FB carve-out (image and reserved space); 0 in version 4.
    pub fb_reserved_size: u32,
    /// Whether the whole image is signed as code; 0 in version 4.
    pub signed_as_code: u32,
}

/// A parsed GSP RISC-V bootloader file.
#[derive(Clone, Copy, Debug)]
pub struct RiscvBootloader<'a> {
    /// The file header and payload.
    pub bin: BinFile<'a>,
    /// The descriptor.
    pub desc: RiscvUcodeDesc,
    /// Size of the descriptor in the file (76 or 84).
    pub desc_size: usize,
}

/// Name, offset-field position and (offset, size) of each region of the descriptor.
fn regions(d: &RiscvUcodeDesc) -> [(&'static str, usize, u32, u32); 8] {
    [
        ("bootloader", 0x04, d.bootloader_offset, d.bootloader_size),
        (
            "bootloader params",
            0x0c,
            d.bootloader_param_offset,
            d.bootloader_param_size,
        ),
        ("RISC-V ELF", 0x14, d.riscv_elf_offset, d.riscv_elf_size),
        ("manifest", 0x20, d.manifest_offset, d.manifest_size),
        (
            "monitor data",
            0x28,
            d.monitor_data_offset,
            d.monitor_data_size,
        ),
        (
            "monitor code",
            0x30,
            d.monitor_code_offset,
            d.monitor_code_size,
        ),
        (
            "swbrom code",
            0x3c,
            d.swbrom_code_offset,
            d.swbrom_code_size,
        ),
        (
            "swbrom data",
            0x44,
            d.swbrom_data_offset,
            d.swbrom_data_size,
        ),
    ]
}

impl<'a> RiscvBootloader<'a> {
    /// Parses a `bootloader-*.bin` file and checks that every region lies in the payload.
    pub fn parse(file: &'a [u8]) -> FwResult<Self> {
        let bin = BinFile::parse(file)?;
        let h = bin.header;
        let version = h.u32(0, "RM_RISCV_UCODE_DESC version")?;
        let desc_size = match version {
            4 => RISCV_DESC_V4_SIZE,
            5 => RISCV_DESC_V5_SIZE,
            v => {
                return Err(h.error(
                    FwErrorKind::UnsupportedVersion {
                        what: "RM_RISCV_UCODE_DESC",
                        found: v.into(),
                    },
                    0,
                ));
            }
        };
        h.bytes(0, desc_size, "RM_RISCV_UCODE_DESC")?;
        let mut c = h.cursor(4);
        let mut d = RiscvUcodeDesc {
            version,
            bootloader_offset: c.u32("bootloaderOffset")?,
            bootloader_size: c.u32("bootloaderSize")?,
            bootloader_param_offset: c.u32("bootloaderParamOffset")?,
            bootloader_param_size: c.u32("bootloaderParamSize")?,
            riscv_elf_offset: c.u32("riscvElfOffset")?,
            riscv_elf_size: c.u32("riscvElfSize")?,
            app_version: c.u32("appVersion")?,
            manifest_offset: c.u32("manifestOffset")?,
            manifest_size: c.u32("manifestSize")?,
            monitor_data_offset: c.u32("monitorDataOffset")?,
            monitor_data_size: c.u32("monitorDataSize")?,
            monitor_code_offset: c.u32("monitorCodeOffset")?,
            monitor_code_size: c.u32("monitorCodeSize")?,
            is_monitor_enabled: c.u32("bIsMonitorEnabled")?,
            swbrom_code_offset: c.u32("swbromCodeOffset")?,
            swbrom_code_size: c.u32("swbromCodeSize")?,
            swbrom_data_offset: c.u32("swbromDataOffset")?,
            swbrom_data_size: c.u32("swbromDataSize")?,
            ..RiscvUcodeDesc::default()
        };
        if version >= 5 {
            d.fb_reserved_size = c.u32("fbReservedSize")?;
            d.signed_as_code = c.u32("bSignedAsCode")?;
        }
        for (what, field, off, size) in regions(&d) {
            if size != 0 {
                bin.data
                    .region(off.into(), size.into(), what, h.abs(field))?;
            }
        }
        Ok(Self {
            bin,
            desc: d,
            desc_size,
        })
    }

    /// The bootloader image: the whole payload, as the driver DMA-maps it.
    pub fn image(&self) -> &'a [u8] {
        self.bin.data.data()
    }

    fn part(&self, off: u32, size: u32, what: &'static str) -> FwResult<&'a [u8]> {
        self.bin
            .data
            .region(off.into(), size.into(), what, self.bin.header.base())
            .map(|r: Reader<'a>| r.data())
    }

    /// The manifest bytes.
    pub fn manifest(&self) -> FwResult<&'a [u8]> {
        self.part(
            self.desc.manifest_offset,
            self.desc.manifest_size,
            "manifest",
        )
    }

    /// The monitor code bytes.
    pub fn monitor_code(&self) -> FwResult<&'a [u8]> {
        self.part(
            self.desc.monitor_code_offset,
            self.desc.monitor_code_size,
            "monitor code",
        )
    }

    /// The monitor data bytes.
    pub fn monitor_data(&self) -> FwResult<&'a [u8]> {
        self.part(
            self.desc.monitor_data_offset,
            self.desc.monitor_data_size,
            "monitor data",
        )
    }
}
