// SPDX-License-Identifier: GPL-2.0
//! The falcon ucode table ("PMU lookup table") and the falcon ucode descriptors it points at
//! (facts sheet §4.4).
//!
//! Table header (v1): 0x00 version, 0x01 header size, 0x02 entry size, 0x03 entry count,
//! 0x04 descriptor version, 0x05 descriptor size (OpenRM `kernel_gsp_fwsec.c` L100–112;
//! nova-core `vbios.rs` L820–825 and nouveau `nvkm/subdev/bios/pmu.c` L28–45 read the first
//! four). Entries (packed, 6 bytes): 0x00 application id, 0x01 target id, 0x02 `u32`
//! descriptor pointer, a ROM address (OpenRM `kernel_gsp_fwsec.c` L114–127; nouveau
//! `pmu.c` L60–70). The table version is not checked: neither driver does.
//!
//! Descriptor header `vDesc` (`u32`): bit 0 set when the version field is valid (nouveau
//! requires it, `nvkm/subdev/gsp/fwsec.c` L285), bits 15:8 version, 31:16 size in bytes of
//! the descriptor plus its signatures; the ucode follows at the descriptor plus that size.
//! Versions 2 (60 bytes, fifteen `u32`) and 3 (44 bytes) are understood (nouveau `fwsec.c`
//! L123–160; OpenRM `kernel_gsp_fwsec.c` L129–188).

use crate::firmware::error::{FwErrorKind, FwResult};
use crate::firmware::reader::Reader;

/// Application id of the FIRMWARE_SEC_LIC ucode.
pub const APP_ID_FIRMWARE_SEC_LIC: u8 = 0x05;
/// Application id of the debug-signed FWSEC.
pub const APP_ID_FWSEC_DBG: u8 = 0x45;
/// Application id of the production FWSEC (the one nova runs).
pub const APP_ID_FWSEC_PROD: u8 = 0x85;
/// Size of a table entry as read here.
pub const UCODE_TABLE_ENTRY_SIZE: usize = 6;
/// Size of a version-2 descriptor.
pub const DESC_V2_SIZE: usize = 60;
/// Size of a version-3 descriptor.
pub const DESC_V3_SIZE: usize = 44;

/// The falcon ucode table header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UcodeTableHeader {
    /// Table version (1 expected; not checked).
    pub version: u8,
    /// Header size (at least 4).
    pub header_size: u8,
    /// Entry size (at least 6).
    pub entry_size: u8,
    /// Number of entries.
    pub entry_count: u8,
}

/// One entry of the falcon ucode table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UcodeTableEntry {
    /// Application id (see `APP_ID_*`).
    pub app_id: u8,
    /// Target falcon id.
    pub target_id: u8,
    /// ROM address of the descriptor.
    pub desc_ptr: u32,
    /// Offset of this entry in the table's window.
    pub entry_offset: usize,
}

/// The falcon ucode table.
#[derive(Clone, Copy, Debug)]
pub struct UcodeTable<'a> {
    /// From the start of the table to the end of its container.
    pub data: Reader<'a>,
    /// The header.
    pub header: UcodeTableHeader,
}

impl<'a> UcodeTable<'a> {
    /// Parses the table at the start of `data` and checks its entries lie in `data`.
    pub fn parse(data: Reader<'a>) -> FwResult<Self> {
        let header = UcodeTableHeader {
            version: data.u8(0, "falcon ucode table version")?,
            header_size: data.u8(1, "falcon ucode table header size")?,
            entry_size: data.u8(2, "falcon ucode table entry size")?,
            entry_count: data.u8(3, "falcon ucode table entry count")?,
        };
        if header.header_size < 4 {
            return Err(data.error(
                FwErrorKind::BadValue {
                    what: "falcon ucode table header size",
                    value: header.header_size.into(),
                },
                1,
            ));
        }
        if usize::from(header.entry_size) < UCODE_TABLE_ENTRY_SIZE {
            return Err(data.error(
                FwErrorKind::BadValue {
                    what: "falcon ucode table entry size",
                    value: header.entry_size.into(),
                },
                2,
            ));
        }
        let len = usize::from(header.header_size)
            + usize::from(header.entry_count) * usize::from(header.entry_size);
        data.bytes(0, len, "falcon ucode table")?;
        Ok(Self { data, header })
    }

    /// Entry `index` (below `header.entry_count`).
    pub fn entry(&self, index: u8) -> FwResult<UcodeTableEntry> {
        let at = usize::from(index)
            .saturating_mul(usize::from(self.header.entry_size))
            .saturating_add(usize::from(self.header.header_size));
        let e = self
            .data
            .sub(at, UCODE_TABLE_ENTRY_SIZE, "falcon ucode table entry")?;
        Ok(UcodeTableEntry {
            app_id: e.u8(0, "application id")?,
            target_id: e.u8(1, "target id")?,
            desc_ptr: e.u32(2, "descriptor pointer")?,
            entry_offset: at,
        })
    }

    /// The first entry with application id `app_id`, or `None`.
    pub fn find(&self, app_id: u8) -> FwResult<Option<UcodeTableEntry>> {
        for i in 0..self.header.entry_count {
            let e = self.entry(i)?;
            if e.app_id == app_id {
                return Ok(Some(e));
            }
        }
        Ok(None)
    }
}

/// `FalconUCodeDescV2` (raw fields).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FalconUcodeDescV2 {
    /// `vDesc`.
    pub hdr: u32,
    /// Stored size of the ucode.
    pub stored_size: u32,
    /// Uncompressed size.
    pub uncompressed_size: u32,
    /// Code entry point.
    pub virtual_entry: u32,
    /// App-interface table offset in the DMEM image.
    pub interface_offset: u32,
    /// IMEM load address.
    pub imem_phys_base: u32,
    /// Bytes of code (secure and non-secure).
    pub imem_load_size: u32,
    /// IMEM tag of the code.
    pub imem_virt_base: u32,
    /// Virtual base of the secure code.
    pub imem_sec_base: u32,
    /// Size of the secure code.
    pub imem_sec_size: u32,
    /// Offset of the DMEM image in the ucode.
    pub dmem_offset: u32,
    /// DMEM load address.
    pub dmem_phys_base: u32,
    /// Bytes of data.
    pub dmem_load_size: u32,
    /// Alternate IMEM load size.
    pub alt_imem_load_size: u32,
    /// Alternate DMEM load size.
    pub alt_dmem_load_size: u32,
}

/// `FalconUCodeDescV3` (raw fields).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FalconUcodeDescV3 {
    /// `vDesc`.
    pub hdr: u32,
    /// Stored size of the ucode.
    pub stored_size: u32,
    /// DMEM offset the signature is patched to.
    pub pkc_data_offset: u32,
    /// App-interface table offset in the DMEM image.
    pub interface_offset: u32,
    /// IMEM load address.
    pub imem_phys_base: u32,
    /// Bytes of code.
    pub imem_load_size: u32,
    /// IMEM tag of the code.
    pub imem_virt_base: u32,
    /// DMEM load address.
    pub dmem_phys_base: u32,
    /// Bytes of data.
    pub dmem_load_size: u32,
    /// Engines it may run on (bit 0 SEC2, bit 2 NVDEC, bit 10 GSP).
    pub engine_id_mask: u16,
    /// Ucode id (1-based fuse register index).
    pub ucode_id: u8,
    /// Number of 384-byte signatures after the descriptor.
    pub signature_count: u8,
    /// One bit per included signature revision.
    pub signature_versions: u16,
    /// Reserved.
    pub reserved: u16,
}

/// A falcon ucode descriptor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FalconUcodeDesc {
    /// Version 2 (Turing, GA100).
    V2(FalconUcodeDescV2),
    /// Version 3 (GA10x and later).
    V3(FalconUcodeDescV3),
}

impl FalconUcodeDesc {
    /// Parses the descriptor at the start of `r`.
    pub fn parse(r: &Reader<'_>) -> FwResult<Self> {
        let hdr = r.u32(0, "falcon ucode descriptor header")?;
        if hdr & 1 == 0 {
            return Err(r.error(
                FwErrorKind::BadValue {
                    what: "falcon ucode descriptor header (FLAGS_VERSION not set)",
                    value: hdr.into(),
                },
                0,
            ));
        }
        let version = (hdr >> 8) & 0xff;
        let size = hdr >> 16;
        let need = match version {
            2 => DESC_V2_SIZE,
            3 => DESC_V3_SIZE,
            v => {
                return Err(r.error(
                    FwErrorKind::UnsupportedVersion {
                        what: "falcon ucode descriptor",
                        found: v.into(),
                    },
                    1,
                ));
            }
        };
        if usize::try_from(size).map_or(true, |s| s < need) {
            return Err(r.error(
                FwErrorKind::BadValue {
                    what: "falcon ucode descriptor size",
                    value: size.into(),
                },
                2,
            ));
        }
        let d = r.sub(0, need, "falcon ucode descriptor")?;
        let mut c = d.cursor(4);
        Ok(if version == 2 {
            FalconUcodeDesc::V2(FalconUcodeDescV2 {
                hdr,
                stored_size: c.u32("StoredSize")?,
                uncompressed_size: c.u32("UncompressedSize")?,
                virtual_entry: c.u32("VirtualEntry")?,
                interface_offset: c.u32("InterfaceOffset")?,
                imem_phys_base: c.u32("IMEMPhysBase")?,
                imem_load_size: c.u32("IMEMLoadSize")?,
                imem_virt_base: c.u32("IMEMVirtBase")?,
                imem_sec_base: c.u32("IMEMSecBase")?,
                imem_sec_size: c.u32("IMEMSecSize")?,
                dmem_offset: c.u32("DMEMOffset")?,
                dmem_phys_base: c.u32("DMEMPhysBase")?,
                dmem_load_size: c.u32("DMEMLoadSize")?,
                alt_imem_load_size: c.u32("altIMEMLoadSize")?,
                alt_dmem_load_size: c.u32("altDMEMLoadSize")?,
            })
        } else {
            FalconUcodeDesc::V3(FalconUcodeDescV3 {
                hdr,
                stored_size: c.u32("StoredSize")?,
                pkc_data_offset: c.u32("PKCDataOffset")?,
                interface_offset: c.u32("InterfaceOffset")?,
                imem_phys_base: c.u32("IMEMPhysBase")?,
                imem_load_size: c.u32("IMEMLoadSize")?,
                imem_virt_base: c.u32("IMEMVirtBase")?,
                dmem_phys_base: c.u32("DMEMPhysBase")?,
                dmem_load_size: c.u32("DMEMLoadSize")?,
                engine_id_mask: c.u16("EngineIdMask")?,
                ucode_id: c.u8("UcodeId")?,
                signature_count: c.u8("SignatureCount")?,
                signature_versions: c.u16("SignatureVersions")?,
                reserved: c.u16("Reserved")?,
            })
        })
    }

    /// The `vDesc` header word.
    pub const fn hdr(&self) -> u32 {
        match self {
            FalconUcodeDesc::V2(d) => d.hdr,
            FalconUcodeDesc::V3(d) => d.hdr,
        }
    }

    /// Descriptor version (2 or 3).
    pub const fn version(&self) -> u32 {
        (self.hdr() >> 8) & 0xff
    }

    /// `vDesc.SIZE`: bytes from the descriptor to the ucode.
    pub const fn size(&self) -> u32 {
        self.hdr() >> 16
    }

    /// Size of the descriptor structure (60 or 44).
    pub const fn struct_size(&self) -> usize {
        match self {
            FalconUcodeDesc::V2(_) => DESC_V2_SIZE,
            FalconUcodeDesc::V3(_) => DESC_V3_SIZE,
        }
    }

    /// Bytes of code.
    pub const fn imem_load_size(&self) -> u32 {
        match self {
            FalconUcodeDesc::V2(d) => d.imem_load_size,
            FalconUcodeDesc::V3(d) => d.imem_load_size,
        }
    }

    /// Bytes of data.
    pub const fn dmem_load_size(&self) -> u32 {
        match self {
            FalconUcodeDesc::V2(d) => d.dmem_load_size,
            FalconUcodeDesc::V3(d) => d.dmem_load_size,
        }
    }

    /// Offset of the DMEM image in the ucode: `IMEMLoadSize` for V3 (nouveau and nova-core),
    /// `DMEMOffset` for V2 (nouveau `fwsec.c` L197 vs L241; nova-core 7.3 uses `IMEMLoadSize` for
    /// the app-interface lookup in both versions).
    pub const fn dmem_offset(&self) -> u32 {
        match self {
            FalconUcodeDesc::V2(d) => d.dmem_offset,
            FalconUcodeDesc::V3(d) => d.imem_load_size,
        }
    }

    /// App-interface table offset in the DMEM image.
    pub const fn interface_offset(&self) -> u32 {
        match self {
            FalconUcodeDesc::V2(d) => d.interface_offset,
            FalconUcodeDesc::V3(d) => d.interface_offset,
        }
    }

    /// Number of signatures after the descriptor (0 for V2).
    pub const fn signature_count(&self) -> u8 {
        match self {
            FalconUcodeDesc::V2(_) => 0,
            FalconUcodeDesc::V3(d) => d.signature_count,
        }
    }
}
