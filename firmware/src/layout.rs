// SPDX-License-Identifier: GPL-2.0
//! Where everything landed in a built image. All offsets are absolute byte offsets into the ROM
//! (= offsets from BAR0 0x300000 in the PROM window) unless a field says "DMEM offset".

use crate::format::SIGNATURE_SIZE;
use std::ops::Range;

/// One PCI expansion ROM image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageLayout {
    /// Start of the image (512-byte aligned).
    pub offset: usize,
    /// Length in bytes (a multiple of 512), as the PCIR and NPDE state it.
    pub len: usize,
    /// PCIR code type.
    pub code_type: u8,
    /// Absolute offset of the PCIR structure.
    pub pcir: usize,
    /// Absolute offset of the NPDE structure.
    pub npde: usize,
    /// Last-image bit as written in the PCIR.
    pub pcir_last: bool,
    /// Last-image bit as written in the NPDE (the one that counts, docs/facts/ga102.md §4.2).
    pub npde_last: bool,
}

impl ImageLayout {
    /// The image's byte range.
    pub fn range(&self) -> Range<usize> {
        self.offset..self.offset + self.len
    }
}

/// One falcon ucode (descriptor, signatures, IMEM and DMEM images) and its table entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FwsecLayout {
    /// Application ID in the falcon ucode table.
    pub app_id: u8,
    /// Target ID in the falcon ucode table.
    pub target_id: u8,
    /// Absolute offset of this ucode's table entry.
    pub table_entry: usize,
    /// The descriptor pointer as stored in the table entry (before rebasing).
    pub desc_ptr: u32,
    /// Absolute offset of the `FalconUCodeDescV3`.
    pub desc: usize,
    /// vDesc SIZE: descriptor plus signatures, in bytes.
    pub desc_size: usize,
    /// Absolute offset of the first signature.
    pub signatures: usize,
    /// Number of signatures.
    pub signature_count: usize,
    /// SignatureVersions bitmap.
    pub signature_versions: u16,
    /// Absolute offset of the IMEM image (= desc + desc_size).
    pub imem: usize,
    /// IMEMLoadSize.
    pub imem_size: usize,
    /// Absolute offset of the DMEM image (= imem + imem_size).
    pub dmem: usize,
    /// DMEMLoadSize.
    pub dmem_size: usize,
    /// PKCDataOffset: DMEM offset of the 384-byte signature slot.
    pub pkc_data_offset: usize,
    /// InterfaceOffset: DMEM offset of the application-interface table.
    pub interface_offset: usize,
    /// DMEM offset of the DMEM mapper (the DMEMMAPPER entry's dmem_base).
    pub dmem_mapper_offset: usize,
    /// DMEM offset of the DEVINIT interface (the DEVINIT entry's dmem_base).
    pub devinit_offset: usize,
    /// DMEM offset of the command-in buffer.
    pub cmd_in_offset: usize,
    /// Size of the command-in buffer.
    pub cmd_in_size: usize,
    /// DMEM offset of the command-out buffer.
    pub cmd_out_offset: usize,
    /// Size of the command-out buffer.
    pub cmd_out_size: usize,
    /// EngineIdMask.
    pub engine_id_mask: u16,
    /// UcodeId.
    pub ucode_id: u8,
}

impl FwsecLayout {
    /// Byte range of signature `i` in the ROM.
    pub fn signature_range(&self, i: usize) -> Option<Range<usize>> {
        (i < self.signature_count).then(|| {
            let s = self.signatures + i * SIGNATURE_SIZE;
            s..s + SIGNATURE_SIZE
        })
    }

    /// Byte range of the ucode (IMEM image followed by DMEM image) in the ROM.
    pub fn ucode_range(&self) -> Range<usize> {
        self.imem..self.dmem + self.dmem_size
    }

    /// Where the chosen signature goes, as an offset into the ucode (docs/facts/ga102.md §5.5:
    /// IMEMLoadSize + PKCDataOffset).
    pub fn signature_patch_offset(&self) -> usize {
        self.imem_size + self.pkc_data_offset
    }

    /// Absolute offset of the DMEM mapper in the ROM.
    pub fn dmem_mapper(&self) -> usize {
        self.dmem + self.dmem_mapper_offset
    }

    /// Absolute offset of the application-interface table in the ROM.
    pub fn interface(&self) -> usize {
        self.dmem + self.interface_offset
    }

    /// The ucode bytes as stored in `rom` with signature `sig` copied over the signature slot:
    /// what a correct driver loads into the falcon before any DMEM command patch. `None` if the
    /// ROM is too short or `sig` does not exist.
    pub fn patched_ucode(&self, rom: &[u8], sig: usize) -> Option<Vec<u8>> {
        let mut ucode = rom.get(self.ucode_range())?.to_vec();
        let sig = rom.get(self.signature_range(sig)?)?;
        let at = self.signature_patch_offset();
        ucode.get_mut(at..at + SIGNATURE_SIZE)?.copy_from_slice(sig);
        Some(ucode)
    }
}

/// Where everything landed in a built VBIOS image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VbiosLayout {
    /// Length of the intact image in bytes (a broken variant may serve fewer).
    pub len: usize,
    /// The PCI expansion ROM images in order.
    pub images: Vec<ImageLayout>,
    /// Index in `images` of the EFI image, if one was built.
    pub efi: Option<usize>,
    /// Absolute offset of the first FWSEC image: the start of the "FWSEC section".
    pub fwsec_section: usize,
    /// Absolute offset of the BIT header.
    pub bit: usize,
    /// Absolute offset of the BIT token list.
    pub bit_tokens: usize,
    /// Number of BIT tokens.
    pub bit_token_count: usize,
    /// Absolute offset of the BIOSDATA token's data.
    pub biosdata: usize,
    /// Absolute offset of the falcon data token's data (the u32 table pointer).
    pub falcon_data: usize,
    /// The `FalconUcodeTablePtr` as stored (before rebasing).
    pub falcon_table_ptr: u32,
    /// Absolute offset of the falcon ucode table.
    pub falcon_table: usize,
    /// Number of entries in the falcon ucode table.
    pub falcon_table_entries: usize,
    /// The production FWSEC (application 0x85) a driver must pick.
    pub fwsec_prod: FwsecLayout,
    /// The debug FWSEC (application 0x45), listed first in the table.
    pub fwsec_debug: FwsecLayout,
}

impl VbiosLayout {
    /// Length of the PC-AT image (image 0).
    pub fn pcat_len(&self) -> usize {
        self.images.first().map_or(0, |i| i.len)
    }

    /// Turns a stored falcon-table or descriptor pointer into an absolute ROM offset, the way
    /// this image was laid out (docs/facts/ga102.md §4.3 "Pointer rebasing"): the pointer counts as if the
    /// PC-AT image were followed directly by the FWSEC section, so
    /// `absolute = fwsec_section + (ptr - pcat_len)`. With the images contiguous this is the
    /// same as open-gpu-doc's rule `ptr + EFI image length`. `None` below the PC-AT length.
    pub fn rebase(&self, ptr: u32) -> Option<usize> {
        let off = (ptr as usize).checked_sub(self.pcat_len())?;
        self.fwsec_section.checked_add(off)
    }

    /// The inverse of [`VbiosLayout::rebase`]: the pointer value stored for absolute offset `abs`
    /// in the FWSEC section.
    pub fn pointer_to(&self, abs: usize) -> Option<u32> {
        let off = abs.checked_sub(self.fwsec_section)?;
        u32::try_from(self.pcat_len().checked_add(off)?).ok()
    }
}
