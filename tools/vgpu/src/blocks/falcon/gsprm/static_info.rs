// SPDX-License-Identifier: GPL-2.0
//! `GspStaticConfigInfo`, the reply to `GET_GSP_STATIC_INFO` (docs/facts/ga102.md §9.6; offsets OG:abi
//! L267-320, nova-core r570.144 bindings). The model fills the fields whose values follow from
//! the chip profile and the boot layout Booter checked; every other byte is 0.
//!
//! | Field | Value | Source |
//! |---|---|---|
//! | fbRegionInfoParams | 2 regions: [0, gspFwRsvdStart) usable (reserved 0, not protected, compressible, ISO); [gspFwRsvdStart, fbSize) reserved (reserved = its size, protected, neither compressible nor ISO) | the `GspFwWprMeta` Booter accepted (docs/facts/ga102.md §7.1, §7.2); region semantics as nova reads them (docs/facts/ga102.md §9.6) |
//! | fb_length | fbSize (usable VRAM, 24 GiB) | chip profile, `NV_USABLE_FB_SIZE_IN_MB` |
//! | gpuNameString / _Unicode / gpuShortNameString | "NVIDIA GeForce RTX 3090" / same / "GA102" | chip profile (pci.ids name of 0x2204, docs/facts/ga102.md §1.1) |
//! | bar2PdeBase / bar1PdeBase | nonWprHeapOffset / + 4 KiB | model choice: GSP-RM's page directories inside the non-WPR heap, outside the usable region |
//! | bVbiosValid, vbiosSubVendor, vbiosSubDevice | 1, 0x10DE, 0x147D | the VBIOS the PROM serves; subsystem from the chip profile (docs/facts/ga102.md §1.2) |
//! | hInternalClient / Device / Subdevice | [`INTERNAL_CLIENT`], [`INTERNAL_DEVICE`], [`INTERNAL_SUBDEVICE`] | model choice; the object tree holds them |
//! | fwWprLayoutOffset | {nonWprHeapOffset, frtsOffset} | `GspFwWprMeta` |

use super::bytes::{put, put_u16, put_u32, put_u64, put_u8};
use crate::blocks::falcon::booter::WprMeta;
use crate::chip::ChipProfile;

/// `sizeof(GspStaticConfigInfo)` in r570.144 (OG:abi L267 `SIZE_GE 1656`; the last field,
/// fwWprLayoutOffset, ends at 1656 and the struct is 8-byte aligned).
pub const SIZE: usize = 1656;
/// GSP-RM's internal client handle (model choice).
pub const INTERNAL_CLIENT: u32 = 0xc1e0_0001;
/// GSP-RM's internal device handle (model choice).
pub const INTERNAL_DEVICE: u32 = 0xde1e_0001;
/// GSP-RM's internal subdevice handle (model choice).
pub const INTERNAL_SUBDEVICE: u32 = 0x5d1e_0001;

/// Field offsets (docs/facts/ga102.md §9.6).
pub mod off {
    /// fbRegionInfoParams.numFBRegions.
    pub const NUM_FB_REGIONS: usize = 344;
    /// fbRegionInfoParams.fbRegion[0].
    pub const FB_REGION: usize = 352;
    /// One `NV2080_CTRL_CMD_FB_GET_FB_REGION_FB_REGION_INFO`.
    pub const FB_REGION_SIZE: usize = 48;
    /// fb_length.
    pub const FB_LENGTH: usize = 1224;
    /// gpuNameString.
    pub const GPU_NAME: usize = 1260;
    /// gpuShortNameString.
    pub const GPU_SHORT_NAME: usize = 1324;
    /// gpuNameString_Unicode.
    pub const GPU_NAME_UNICODE: usize = 1388;
    /// bar1PdeBase.
    pub const BAR1_PDE_BASE: usize = 1536;
    /// bar2PdeBase.
    pub const BAR2_PDE_BASE: usize = 1544;
    /// bVbiosValid.
    pub const VBIOS_VALID: usize = 1552;
    /// vbiosSubVendor.
    pub const VBIOS_SUB_VENDOR: usize = 1556;
    /// vbiosSubDevice.
    pub const VBIOS_SUB_DEVICE: usize = 1560;
    /// hInternalClient.
    pub const H_INTERNAL_CLIENT: usize = 1600;
    /// hInternalDevice.
    pub const H_INTERNAL_DEVICE: usize = 1604;
    /// hInternalSubdevice.
    pub const H_INTERNAL_SUBDEVICE: usize = 1608;
    /// fwWprLayoutOffset.nonWprHeapOffset.
    pub const FW_WPR_NON_WPR_HEAP: usize = 1640;
    /// fwWprLayoutOffset.frtsOffset.
    pub const FW_WPR_FRTS: usize = 1648;
}

/// Where GSP-RM's BAR1/BAR2 page directories sit: (bar1PdeBase, bar2PdeBase).
pub fn pde_bases(meta: &WprMeta) -> (u64, u64) {
    (meta.non_wpr_heap_offset + 0x1000, meta.non_wpr_heap_offset)
}

/// The reply payload for this chip and boot layout.
pub fn build(chip: &ChipProfile, meta: &WprMeta) -> Vec<u8> {
    use off::*;
    let mut b = vec![0u8; SIZE];
    let fb_end = meta.fb_size;
    let rsvd = meta.rsvd_start.min(fb_end);
    let mut region = |i: usize, base: u64, end: u64, usable: bool| {
        let r = FB_REGION + i * FB_REGION_SIZE;
        put_u64(&mut b, r, base);
        put_u64(&mut b, r + 8, end.saturating_sub(1));
        put_u64(&mut b, r + 16, if usable { 0 } else { end - base });
        put_u32(&mut b, r + 24, 0);
        put_u8(&mut b, r + 28, u8::from(usable));
        put_u8(&mut b, r + 29, u8::from(usable));
        put_u8(&mut b, r + 30, u8::from(!usable));
    };
    region(0, 0, rsvd, true);
    region(1, rsvd, fb_end, false);
    put_u32(&mut b, NUM_FB_REGIONS, 2);
    put_u64(&mut b, FB_LENGTH, fb_end);
    let name = chip.gpu_name.as_bytes();
    put(&mut b, GPU_NAME, &name[..name.len().min(63)]);
    let short = chip.gpu_short_name.as_bytes();
    put(&mut b, GPU_SHORT_NAME, &short[..short.len().min(63)]);
    for (i, c) in chip.gpu_name.encode_utf16().take(63).enumerate() {
        put_u16(&mut b, GPU_NAME_UNICODE + 2 * i, c);
    }
    let (bar1, bar2) = pde_bases(meta);
    put_u64(&mut b, BAR1_PDE_BASE, bar1);
    put_u64(&mut b, BAR2_PDE_BASE, bar2);
    put_u8(&mut b, VBIOS_VALID, 1);
    put_u32(&mut b, VBIOS_SUB_VENDOR, chip.subsystem.0.into());
    put_u32(&mut b, VBIOS_SUB_DEVICE, chip.subsystem.1.into());
    put_u32(&mut b, H_INTERNAL_CLIENT, INTERNAL_CLIENT);
    put_u32(&mut b, H_INTERNAL_DEVICE, INTERNAL_DEVICE);
    put_u32(&mut b, H_INTERNAL_SUBDEVICE, INTERNAL_SUBDEVICE);
    put_u64(&mut b, FW_WPR_NON_WPR_HEAP, meta.non_wpr_heap_offset);
    put_u64(&mut b, FW_WPR_FRTS, meta.frts_offset);
    b
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::blocks::falcon::gsprm::bytes::{get_u32, get_u64, get_u8};
    use crate::chip::GA102;

    #[test]
    fn regions_split_at_the_reserved_start() {
        let meta = WprMeta {
            fb_size: 24 << 30,
            rsvd_start: 0x5_f280_0000,
            non_wpr_heap_offset: 0x5_f280_0000,
            frts_offset: 0x5_ffe0_0000,
            ..Default::default()
        };
        let b = build(&GA102, &meta);
        assert_eq!(b.len(), SIZE);
        assert_eq!(get_u32(&b, off::NUM_FB_REGIONS), Some(2));
        let r0 = off::FB_REGION;
        assert_eq!(get_u64(&b, r0 + 8), Some(0x5_f27f_ffff));
        assert_eq!(get_u8(&b, r0 + 28), Some(1));
        let r1 = r0 + off::FB_REGION_SIZE;
        assert_eq!(get_u64(&b, r1), Some(0x5_f280_0000));
        assert_eq!(get_u64(&b, r1 + 8), Some((24 << 30) - 1));
        assert_eq!(get_u8(&b, r1 + 30), Some(1));
        assert_eq!(
            &b[off::GPU_NAME..off::GPU_NAME + 24],
            b"NVIDIA GeForce RTX 3090\0"
        );
        assert_eq!(get_u64(&b, off::FW_WPR_FRTS), Some(0x5_ffe0_0000));
        assert_eq!(get_u32(&b, off::VBIOS_SUB_DEVICE), Some(0x147d));
    }
}
