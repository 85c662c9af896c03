// SPDX-License-Identifier: GPL-2.0
//! `GspFwWprMeta`: the 256-byte description of GSP-RM's boot images and WPR2 layout that the CPU
//! builds in system memory and Booter copies into WPR2 (facts sheet §7.1; field offsets asserted
//! by open-gpu-kernel-modules `src/nvidia/interface/gsp_abi_check.c`).
//!
//! Pure logic, shared with the host crate. The structure is written field by field at its
//! documented offsets, so its layout does not depend on any compiler's struct rules.

use crate::fb_layout::GspFbLayout;

/// Size of the structure.
pub const WPR_META_SIZE: usize = 256;
/// `GSP_FW_WPR_META_MAGIC`.
pub const WPR_META_MAGIC: u64 = 0xdc3a_ae21_371a_60b3;
/// `GSP_FW_WPR_META_REVISION`.
pub const WPR_META_REVISION: u64 = 1;

/// Bus addresses and sizes of what the CPU placed in system memory, plus the bootloader offsets
/// from its `RM_RISCV_UCODE_DESC`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SysmemImages {
    /// Bus address of the radix3 level-0 page.
    pub radix3_addr: u64,
    /// Size of `.fwimage`.
    pub elf_size: u64,
    /// Bus address of the bootloader payload.
    pub bootloader_addr: u64,
    /// Size of the bootloader payload.
    pub bootloader_size: u64,
    /// `monitorCodeOffset`.
    pub bootloader_code_offset: u64,
    /// `monitorDataOffset`.
    pub bootloader_data_offset: u64,
    /// `manifestOffset`.
    pub bootloader_manifest_offset: u64,
    /// Bus address of the signature section copy.
    pub signature_addr: u64,
    /// Its size.
    pub signature_size: u64,
}

fn put(b: &mut [u8; WPR_META_SIZE], off: usize, v: u64) {
    if let Some(d) = b.get_mut(off..off + 8) {
        d.copy_from_slice(&v.to_le_bytes());
    }
}

/// Builds the structure for a cold boot.
pub fn build(img: &SysmemImages, fb: &GspFbLayout) -> [u8; WPR_META_SIZE] {
    let mut b = [0u8; WPR_META_SIZE];
    put(&mut b, 0, WPR_META_MAGIC);
    put(&mut b, 8, WPR_META_REVISION);
    put(&mut b, 16, img.radix3_addr);
    put(&mut b, 24, img.elf_size);
    put(&mut b, 32, img.bootloader_addr);
    put(&mut b, 40, img.bootloader_size);
    put(&mut b, 48, img.bootloader_code_offset);
    put(&mut b, 56, img.bootloader_data_offset);
    put(&mut b, 64, img.bootloader_manifest_offset);
    put(&mut b, 72, img.signature_addr);
    put(&mut b, 80, img.signature_size);
    put(&mut b, 88, fb.non_wpr_heap.start); // gspFwRsvdStart
    put(&mut b, 96, fb.non_wpr_heap.start); // nonWprHeapOffset
    put(&mut b, 104, fb.non_wpr_heap.len()); // nonWprHeapSize
    put(&mut b, 112, fb.wpr2.start); // gspFwWprStart
    put(&mut b, 120, fb.wpr2_heap.start); // gspFwHeapOffset
    put(&mut b, 128, fb.wpr2_heap.len()); // gspFwHeapSize
    put(&mut b, 136, fb.elf.start); // gspFwOffset
    put(&mut b, 144, fb.boot.start); // bootBinOffset
    put(&mut b, 152, fb.frts.start); // frtsOffset
    put(&mut b, 160, fb.frts.len()); // frtsSize
    put(&mut b, 168, fb.wpr2.end); // gspFwWprEnd
    put(&mut b, 176, fb.fb.end); // fbSize
    put(&mut b, 184, fb.vga_workspace.start); // vgaWorkspaceOffset
    put(&mut b, 192, fb.vga_workspace.len()); // vgaWorkspaceSize
                                              // bootCount, partition RPC fields, flags, pmuReservedSize and verified stay 0 on a cold boot.
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u64_at(b: &[u8], o: usize) -> u64 {
        u64::from_le_bytes(b[o..o + 8].try_into().unwrap())
    }

    #[test]
    fn fields_land_at_their_offsets() {
        let fb = GspFbLayout::new(24 << 30, (0x5fff0 << 8) | 8, true, 0x6000, 0x3c9_9000).unwrap();
        let img = SysmemImages {
            radix3_addr: 0x1000,
            elf_size: 0x3c9_9000,
            bootloader_addr: 0x2000,
            bootloader_size: 0x6000,
            bootloader_code_offset: 0x1800,
            bootloader_data_offset: 0x800,
            bootloader_manifest_offset: 0,
            signature_addr: 0x3000,
            signature_size: 0x1000,
        };
        let b = build(&img, &fb);
        assert_eq!(u64_at(&b, 0), 0xdc3a_ae21_371a_60b3);
        assert_eq!(u64_at(&b, 8), 1);
        assert_eq!(u64_at(&b, 16), 0x1000);
        assert_eq!(u64_at(&b, 24), 0x3c9_9000);
        assert_eq!(u64_at(&b, 48), 0x1800);
        assert_eq!(u64_at(&b, 56), 0x800);
        assert_eq!(u64_at(&b, 80), 0x1000);
        assert_eq!(u64_at(&b, 88), u64_at(&b, 96));
        assert_eq!(u64_at(&b, 104), 1 << 20);
        assert_eq!(u64_at(&b, 152), 0x5_ffe0_0000);
        assert_eq!(u64_at(&b, 160), 1 << 20);
        assert_eq!(u64_at(&b, 168), 0x5_fff0_0000);
        assert_eq!(u64_at(&b, 176), 24 << 30);
        assert_eq!(u64_at(&b, 184), 0x5_fff0_0000);
        assert_eq!(u64_at(&b, 192), 1 << 20);
        assert_eq!(u64_at(&b, 248), 0, "verified must be 0 from the CPU");
        assert!(b[200..248].iter().all(|&x| x == 0));
    }
}
