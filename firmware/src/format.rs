// SPDX-License-Identifier: GPL-2.0
//! The numbers the VBIOS formats define, each with where it comes from.
//!
//! "docs/facts/ga102.md §N" is `docs/facts/ga102.md`; "OD BIT" is open-gpu-doc
//! `BIOS-Information-Table/BIOS-Information-Table.html`; "OG fwsec" is open-gpu-kernel-modules
//! `src/nvidia/src/kernel/gpu/gsp/kernel_gsp_fwsec.c` (struct and define block at its top);
//! "OG pci_exp_table.h" is the open-gpu-kernel-modules header guarded by `PCIEXPTBL_H`;
//! "doc fwsec.rst" / "doc vbios.rst" are `Documentation/gpu/nova/core/` in the Linux 7.3 tree.

/// Size of the PROM window the image is served through: `NV_PROM_DATA__SIZE_1` (docs/facts/ga102.md §4.1).
pub const PROM_WINDOW: usize = 1 << 20;

/// PCI expansion ROM header signature at image offset 0 (docs/facts/ga102.md §4.2).
pub const ROM_SIGNATURE: u16 = 0xAA55;
/// Offset of the u16 PCIR pointer in the ROM header (docs/facts/ga102.md §4.2).
pub const ROM_PCIR_PTR: usize = 0x18;
/// Images are sized and aligned in 512-byte blocks (docs/facts/ga102.md §4.2, §4.1 "Scan limit").
pub const BLOCK: usize = 512;

/// PCI data structure signature (docs/facts/ga102.md §4.2).
pub const PCIR_SIGNATURE: [u8; 4] = *b"PCIR";
/// PCIR length we emit: the fields docs/facts/ga102.md §4.2 lists end at 0x18 (OG pci_exp_table.h
/// `PCI_DATA_STRUCT` is the same 0x18 bytes).
pub const PCIR_LEN: u16 = 0x18;
/// PCIR field offsets (docs/facts/ga102.md §4.2).
pub mod pcir {
    /// u16 vendor ID.
    pub const VENDOR: usize = 0x04;
    /// u16 device ID.
    pub const DEVICE: usize = 0x06;
    /// u16 structure length.
    pub const LEN: usize = 0x0A;
    /// u8 structure revision.
    pub const REV: usize = 0x0C;
    /// 3-byte class code.
    pub const CLASS: usize = 0x0D;
    /// u16 image length in 512-byte units.
    pub const IMAGE_LEN: usize = 0x10;
    /// u16 vendor ROM revision.
    pub const VENDOR_ROM_REV: usize = 0x12;
    /// u8 code type.
    pub const CODE_TYPE: usize = 0x14;
    /// u8 last-image indicator (bit 7).
    pub const LAST: usize = 0x15;
    /// u16 maximum run-time image length in 512-byte units.
    pub const MAX_RUNTIME_LEN: usize = 0x16;
}

/// NVIDIA PCI data extension signature (docs/facts/ga102.md §4.2).
pub const NPDE_SIGNATURE: [u8; 4] = *b"NPDE";
/// NPDE revision 1.1 (OG pci_exp_table.h `NV_PCI_DATA_EXT_REV_11`).
pub const NPDE_REV: u16 = 0x0101;
/// NPDE length: fields up to and including the flags byte at 0x0B (OG pci_exp_table.h
/// `NV_PCI_DATA_EXT_STRUCT`).
pub const NPDE_LEN: u16 = 0x0C;
/// NPDE field offsets (docs/facts/ga102.md §4.2; flags at 0x0B from OG pci_exp_table.h).
pub mod npde {
    /// u16 revision.
    pub const REV: usize = 0x04;
    /// u16 structure length.
    pub const LEN: usize = 0x06;
    /// u16 sub-image length in 512-byte units (overrides the PCIR length).
    pub const SUBIMAGE_LEN: usize = 0x08;
    /// u8 private last-image indicator (bit 7).
    pub const LAST: usize = 0x0A;
    /// u8 flags; bit 0 = private images enabled (OG pci_exp_table.h).
    pub const FLAGS: usize = 0x0B;
}
/// Last-image bit in the PCIR and NPDE indicator bytes (docs/facts/ga102.md §4.2).
pub const LAST_IMAGE: u8 = 0x80;

/// Code types (docs/facts/ga102.md §4.2).
pub mod code_type {
    /// PC-AT (legacy x86) image; carries the BIT.
    pub const PCAT: u8 = 0x00;
    /// EFI image.
    pub const EFI: u8 = 0x03;
    /// FWSEC image.
    pub const FWSEC: u8 = 0xE0;
}

/// NVIDIA's PCI vendor ID.
pub const VENDOR_NVIDIA: u16 = 0x10DE;
/// VGA display controller class code 0x030000 (docs/facts/ga102.md §1.1).
pub const CLASS_VGA: [u8; 3] = [0x00, 0x00, 0x03];

/// BIT header identifier, u16 at BIT offset 0 (docs/facts/ga102.md §4.3; OD BIT "BIT Header").
pub const BIT_ID: u16 = 0xB8FF;
/// BIT signature "BIT\0" at BIT offset 2 (docs/facts/ga102.md §4.3).
pub const BIT_SIGNATURE: [u8; 4] = *b"BIT\0";
/// BIT BCD version 1.00 (OD BIT "BIT Header").
pub const BIT_VERSION: u16 = 0x0100;
/// BIT header size (OD BIT; docs/facts/ga102.md §4.3 "BIT header (12 B)").
pub const BIT_HEADER_SIZE: u8 = 12;
/// BIT token size: the 6-byte form with a u16 data pointer (OD BIT "BIT Token Structure";
/// docs/facts/ga102.md §4.3). Which form a real GA102 uses is unconfirmed (docs/facts/ga102.md §13 item 5).
pub const BIT_TOKEN_SIZE: u8 = 6;
/// BIT header checksum byte offset; the header's `HeaderSize` bytes sum to 0 (OD BIT "Parsing
/// Rules"; OG fwsec `s_vbiosFindBitHeader`).
pub const BIT_CHECKSUM: usize = 0x0B;

/// BIT token IDs (docs/facts/ga102.md §4.3; OD BIT "BIT Tokens").
pub mod token {
    /// BIOSDATA ('B').
    pub const BIOSDATA: u8 = 0x42;
    /// No operation ('N').
    pub const NOP: u8 = 0x4E;
    /// Falcon data ('p').
    pub const FALCON_DATA: u8 = 0x70;
}
/// BIOSDATA data version 2 (OD BIT "BIT_BIOSDATA (Version 2)").
pub const BIOSDATA_VERSION: u8 = 2;
/// BIOSDATA v2 size: the sum of the field widths OD BIT lists (4+1+1+2+2+2+4+1+1+1+1+2+2+2+1+1+1+4).
pub const BIOSDATA_SIZE: u16 = 33;
/// Offset of "BIOS Checksum" in BIOSDATA v2: the byte that makes image 0 sum to zero (OD BIT
/// "BIOS 0 Checksum inserted during the build").
pub const BIOSDATA_CHECKSUM: usize = 5;
/// Falcon data version 2, one u32 `FalconUcodeTablePtr` (docs/facts/ga102.md §4.3; OD BIT
/// "BIT_FALCON_DATA (Version 2)"; OG fwsec requires `DataVersion == 2`, `DataSize >= 4`).
pub const FALCON_DATA_VERSION: u8 = 2;
/// Falcon data size.
pub const FALCON_DATA_SIZE: u16 = 4;

/// Falcon ucode table header v1 (docs/facts/ga102.md §4.4).
pub mod table {
    /// Header version.
    pub const VERSION: u8 = 1;
    /// Header size.
    pub const HEADER_SIZE: u8 = 6;
    /// Entry size (u8 app id, u8 target id, u32 descriptor pointer).
    pub const ENTRY_SIZE: u8 = 6;
}
/// Application IDs (docs/facts/ga102.md §4.4).
pub mod app_id {
    /// FWSEC, debug-signed.
    pub const FWSEC_DBG: u8 = 0x45;
    /// FWSEC, production-signed (the one a driver uses).
    pub const FWSEC_PROD: u8 = 0x85;
}
/// Target ID written in the table entries: 0x01 as in the doc fwsec.rst example
/// ("target_id: 0x01 (PMU)"); the facts sheet gives no value.
pub const TARGET_ID: u8 = 0x01;

/// `FalconUCodeDescV3` (docs/facts/ga102.md §4.4).
pub mod desc {
    /// Descriptor size in bytes.
    pub const V3_SIZE: usize = 44;
    /// vDesc bit 0: FLAGS_VERSION available.
    pub const FLAGS_VERSION_AVAILABLE: u32 = 1 << 0;
    /// vDesc VERSION field shift (bits 15:8).
    pub const VERSION_SHIFT: u32 = 8;
    /// vDesc SIZE field shift (bits 31:16).
    pub const SIZE_SHIFT: u32 = 16;
    /// Version 3.
    pub const VERSION_3: u8 = 3;
    /// Field offsets.
    pub const STORED_SIZE: usize = 0x04;
    /// DMEM offset of the signature slot.
    pub const PKC_DATA_OFFSET: usize = 0x08;
    /// DMEM offset of the application-interface table.
    pub const INTERFACE_OFFSET: usize = 0x0C;
    /// IMEM physical base.
    pub const IMEM_PHYS_BASE: usize = 0x10;
    /// IMEM load size.
    pub const IMEM_LOAD_SIZE: usize = 0x14;
    /// IMEM virtual base.
    pub const IMEM_VIRT_BASE: usize = 0x18;
    /// DMEM physical base.
    pub const DMEM_PHYS_BASE: usize = 0x1C;
    /// DMEM load size.
    pub const DMEM_LOAD_SIZE: usize = 0x20;
    /// u16 engine ID mask.
    pub const ENGINE_ID_MASK: usize = 0x24;
    /// u8 ucode ID.
    pub const UCODE_ID: usize = 0x26;
    /// u8 signature count.
    pub const SIGNATURE_COUNT: usize = 0x27;
    /// u16 signature versions bitmap.
    pub const SIGNATURE_VERSIONS: usize = 0x28;
}
/// Size of one RSA-3K signature (docs/facts/ga102.md §4.4, §5.5; OG fwsec `BCRT30_RSA3K_SIG_SIZE`).
pub const SIGNATURE_SIZE: usize = 384;
/// EngineIdMask bit of the GSP, the only one nouveau accepts for FWSEC on GA102 (docs/facts/ga102.md §5.5).
pub const ENGINE_ID_MASK_GSP: u16 = 0x0400;

/// Application interface table v1 (docs/facts/ga102.md §4.5).
pub mod appif {
    /// Header version.
    pub const VERSION: u8 = 1;
    /// Header size.
    pub const HEADER_SIZE: u8 = 4;
    /// Entry size (u32 id, u32 dmem_base).
    pub const ENTRY_SIZE: u8 = 8;
    /// DEVINIT engine interface ID (doc fwsec.rst, "DEVINIT (ID 1)").
    pub const ID_DEVINIT: u32 = 0x1;
    /// DMEM mapper ID (docs/facts/ga102.md §4.5).
    pub const ID_DMEMMAPPER: u32 = 0x4;
}

/// DMEM mapper v3 (docs/facts/ga102.md §4.5).
pub mod dmap {
    /// Signature "DMAP" (doc fwsec.rst "signature: \"DMAP\""); stored as those four bytes.
    pub const SIGNATURE: [u8; 4] = *b"DMAP";
    /// Version 3.
    pub const VERSION: u16 = 3;
    /// Structure size.
    pub const SIZE: u16 = 64;
    /// Field offsets (docs/facts/ga102.md §4.5).
    pub const CMD_IN_BUFFER_OFFSET: usize = 0x08;
    /// Command input buffer size.
    pub const CMD_IN_BUFFER_SIZE: usize = 0x0C;
    /// Command output buffer offset.
    pub const CMD_OUT_BUFFER_OFFSET: usize = 0x10;
    /// Command output buffer size.
    pub const CMD_OUT_BUFFER_SIZE: usize = 0x14;
    /// NVF image data buffer offset.
    pub const NVF_IMG_DATA_BUFFER_OFFSET: usize = 0x18;
    /// NVF image data buffer size.
    pub const NVF_IMG_DATA_BUFFER_SIZE: usize = 0x1C;
    /// printf buffer header.
    pub const PRINTF_BUFFER_HDR: usize = 0x20;
    /// Build time stamp.
    pub const UCODE_BUILD_TIME_STAMP: usize = 0x24;
    /// Ucode signature word.
    pub const UCODE_SIGNATURE: usize = 0x28;
    /// The command to run; a driver patches it.
    pub const INIT_CMD: usize = 0x2C;
    /// Feature word.
    pub const UCODE_FEATURE: usize = 0x30;
    /// Supported-command mask, commands 0..31.
    pub const UCODE_CMD_MASK0: usize = 0x34;
    /// Supported-command mask, commands 32..63.
    pub const UCODE_CMD_MASK1: usize = 0x38;
    /// Multi-target table.
    pub const MULTI_TGT_TBL: usize = 0x3C;
    /// FRTS command (docs/facts/ga102.md §4.5).
    pub const CMD_FRTS: u32 = 0x15;
    /// SB command (docs/facts/ga102.md §4.5).
    pub const CMD_SB: u32 = 0x19;
}
/// Size of the FRTS command a driver writes into the command-in buffer (docs/facts/ga102.md §4.5).
pub const FRTS_CMD_SIZE: usize = 44;
