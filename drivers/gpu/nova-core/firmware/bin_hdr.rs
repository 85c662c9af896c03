// SPDX-License-Identifier: GPL-2.0
//! `nvfw_bin_hdr`, the 24-byte header that opens every NVIDIA `*.bin` falcon/RISC-V firmware
//! file (Booter, the GSP bootloader, the scrubber, the generic falcon bootloader), and the
//! `nvfw_bl_desc` descriptor of the generic falcon bootloader (`gen_bootloader-*.bin`).
//!
//! Layouts: nouveau `include/nvfw/fw.h` L7–14 (`nvfw_bin_hdr`) and L18–25 (`nvfw_bl_desc`);
//! facts sheet §6.2. All fields are little-endian `u32`.
//!
//! | Off  | Field           | Checked here                                      |
//! |------|-----------------|---------------------------------------------------|
//! | 0x00 | `bin_magic`     | must be 0x10DE                                    |
//! | 0x04 | `bin_ver`       | must be 1 (every file of the r535/r570 packages)  |
//! | 0x08 | `bin_size`      | not checked: larger than the file in all of them  |
//! | 0x0C | `header_offset` | must lie inside the file                          |
//! | 0x10 | `data_offset`   | `[data_offset, +data_size)` must lie in the file  |
//! | 0x14 | `data_size`     |                                                   |

use super::error::{FwErrorKind, FwResult};
use super::reader::{to_u64, Reader};

/// `bin_magic` of every `nvfw_bin_hdr` file.
pub const BIN_MAGIC: u32 = 0x10de;
/// The only `bin_ver` seen in the r535/r570 firmware files.
pub const BIN_VERSION: u32 = 1;
/// Size of `nvfw_bin_hdr` in bytes.
pub const BIN_HDR_SIZE: usize = 24;

/// A parsed `nvfw_bin_hdr` (raw field values).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BinHdr {
    /// Magic, 0x10DE.
    pub bin_magic: u32,
    /// Header version, 1.
    pub bin_ver: u32,
    /// Total size as recorded by the packager (rounded; not the file length).
    pub bin_size: u32,
    /// File offset of the format-specific header that follows.
    pub header_offset: u32,
    /// File offset of the payload (the ucode image).
    pub data_offset: u32,
    /// Payload size in bytes.
    pub data_size: u32,
}

/// An `nvfw_bin_hdr` file split into its parts.
#[derive(Clone, Copy, Debug)]
pub struct BinFile<'a> {
    /// The header fields.
    pub hdr: BinHdr,
    /// The whole file.
    pub file: Reader<'a>,
    /// From `header_offset` to the end of the file.
    pub header: Reader<'a>,
    /// The payload `[data_offset, data_offset + data_size)`.
    pub data: Reader<'a>,
}

impl<'a> BinFile<'a> {
    /// Parses and bounds-checks the `nvfw_bin_hdr` at the start of `file`.
    pub fn parse(file: &'a [u8]) -> FwResult<Self> {
        let r = Reader::new(file);
        r.bytes(0, BIN_HDR_SIZE, "nvfw_bin_hdr")?;
        let mut c = r.cursor(0);
        let hdr = BinHdr {
            bin_magic: c.u32("bin_magic")?,
            bin_ver: c.u32("bin_ver")?,
            bin_size: c.u32("bin_size")?,
            header_offset: c.u32("header_offset")?,
            data_offset: c.u32("data_offset")?,
            data_size: c.u32("data_size")?,
        };
        if hdr.bin_magic != BIN_MAGIC {
            return Err(r.error(
                FwErrorKind::BadMagic {
                    what: "nvfw_bin_hdr magic",
                    found: hdr.bin_magic.into(),
                    expected: BIN_MAGIC.into(),
                },
                0,
            ));
        }
        if hdr.bin_ver != BIN_VERSION {
            return Err(r.error(
                FwErrorKind::UnsupportedVersion {
                    what: "nvfw_bin_hdr",
                    found: hdr.bin_ver.into(),
                },
                4,
            ));
        }
        let header_len = to_u64(file.len()).saturating_sub(hdr.header_offset.into());
        let header = r.region(
            hdr.header_offset.into(),
            header_len,
            "nvfw_bin_hdr header_offset",
            0x0c,
        )?;
        let data = r.region(
            hdr.data_offset.into(),
            hdr.data_size.into(),
            "nvfw_bin_hdr data",
            0x10,
        )?;
        Ok(Self {
            hdr,
            file: r,
            header,
            data,
        })
    }
}

/// Size of `nvfw_bl_desc` in bytes.
pub const BL_DESC_SIZE: usize = 24;

/// `nvfw_bl_desc`: the descriptor of the generic falcon bootloader (`gen_bootloader-*.bin`,
/// shipped for TU10x/GA100), at the file's `header_offset`. Offsets are payload-relative.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlDesc {
    /// IMEM tag (256-byte block) the code is loaded at; the boot address is `start_tag << 8`.
    pub start_tag: u32,
    /// DMEM offset the data is loaded at.
    pub dmem_load_off: u32,
    /// Payload offset of the code.
    pub code_off: u32,
    /// Code size in bytes.
    pub code_size: u32,
    /// Payload offset of the data.
    pub data_off: u32,
    /// Data size in bytes.
    pub data_size: u32,
}

/// A generic falcon bootloader file: `nvfw_bin_hdr` + `nvfw_bl_desc` + payload.
#[derive(Clone, Copy, Debug)]
pub struct FalconBootloader<'a> {
    /// The file header.
    pub bin: BinFile<'a>,
    /// The descriptor.
    pub desc: BlDesc,
    /// The code bytes.
    pub code: &'a [u8],
    /// The data bytes.
    pub data: &'a [u8],
}

impl<'a> FalconBootloader<'a> {
    /// Parses a `gen_bootloader-*.bin` file.
    pub fn parse(file: &'a [u8]) -> FwResult<Self> {
        let bin = BinFile::parse(file)?;
        let h = bin.header;
        h.bytes(0, BL_DESC_SIZE, "nvfw_bl_desc")?;
        let mut c = h.cursor(0);
        let desc = BlDesc {
            start_tag: c.u32("start_tag")?,
            dmem_load_off: c.u32("dmem_load_off")?,
            code_off: c.u32("code_off")?,
            code_size: c.u32("code_size")?,
            data_off: c.u32("data_off")?,
            data_size: c.u32("data_size")?,
        };
        let code = bin.data.region(
            desc.code_off.into(),
            desc.code_size.into(),
            "nvfw_bl_desc code",
            h.abs(0x08),
        )?;
        let data = bin.data.region(
            desc.data_off.into(),
            desc.data_size.into(),
            "nvfw_bl_desc data",
            h.abs(0x10),
        )?;
        Ok(Self {
            bin,
            desc,
            code: code.data(),
            data: data.data(),
        })
    }
}
