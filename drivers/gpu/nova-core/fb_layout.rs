// SPDX-License-Identifier: GPL-2.0
//! Where the driver places things at the top of VRAM before GSP-RM runs (facts sheet §7.2).
//!
//! Pure logic, shared with the host crate `nova-core-host`.

/// 128 KiB.
const SZ_128K: u64 = 128 << 10;
/// 1 MiB.
const SZ_1M: u64 = 1 << 20;

/// Size of the FRTS region on GA102 (facts sheet §7.1 `frtsSize`).
pub const FRTS_SIZE: u64 = SZ_1M;

/// A range of VRAM, `[start, end)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FbRange {
    /// First byte.
    pub start: u64,
    /// One past the last byte.
    pub end: u64,
}

impl FbRange {
    /// Length in bytes.
    pub const fn len(&self) -> u64 {
        self.end - self.start
    }

    /// Whether the range is empty.
    pub const fn is_empty(&self) -> bool {
        self.end == self.start
    }
}

/// The VBIOS VGA workspace at the top of VRAM.
///
/// `vga_workspace_reg` is `NV_PDISP_VGA_WORKSPACE_BASE` (STATUS_VALID bit 3, ADDR 31:8 holding
/// the base shifted right by 16); `display_present` is false when the display engine is fused off. Rule (facts §7.2):
/// a valid base is used unless it lies more than 1 MiB below the end of VRAM, in which case the
/// workspace is the last 128 KiB; without a valid base (or a display) it is the last 1 MiB.
pub fn vga_workspace(fb_size: u64, vga_workspace_reg: u32, display_present: bool) -> FbRange {
    let fallback = fb_size.saturating_sub(SZ_1M);
    let start = if display_present && vga_workspace_reg & (1 << 3) != 0 {
        let base = u64::from(vga_workspace_reg >> 8) << 16;
        if base < fb_size.saturating_sub(SZ_1M) {
            fb_size.saturating_sub(SZ_128K)
        } else {
            base.min(fb_size)
        }
    } else {
        fallback
    };
    FbRange {
        start,
        end: fb_size,
    }
}

/// The FRTS region: [`FRTS_SIZE`] bytes ending at the VGA workspace base rounded down to
/// 128 KiB (facts §7.2). `None` when VRAM is too small to hold it.
pub fn frts(fb_size: u64, vga_workspace_reg: u32, display_present: bool) -> Option<FbRange> {
    let vga = vga_workspace(fb_size, vga_workspace_reg, display_present);
    let end = vga.start & !(SZ_128K - 1);
    let start = end.checked_sub(FRTS_SIZE)?;
    Some(FbRange { start, end })
}

/// WPR2 as the `NV_PFB_PRI_MMU_WPR2_ADDR_LO/HI` pair encodes it (facts §3): address bits 39:12 in
/// bits 31:4; LO is inclusive, HI exclusive, HI == 0 means not set.
pub fn wpr2_from_regs(lo: u32, hi: u32) -> Option<FbRange> {
    if hi == 0 {
        return None;
    }
    let addr = |r: u32| u64::from(r >> 4) << 12;
    Some(FbRange {
        start: addr(lo),
        end: addr(hi),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const GIB24: u64 = 24 << 30;

    #[test]
    fn rtx3090_frts_below_a_valid_workspace() {
        // Workspace base 0x5fff00000 (1 MiB below the end of 24 GiB), valid.
        let reg = (0x5fff0 << 8) | (1 << 3);
        assert_eq!(
            vga_workspace(GIB24, reg, true),
            FbRange {
                start: 0x5_fff0_0000,
                end: GIB24
            }
        );
        assert_eq!(
            frts(GIB24, reg, true),
            Some(FbRange {
                start: 0x5_ffe0_0000,
                end: 0x5_fff0_0000
            })
        );
    }

    #[test]
    fn workspace_far_below_the_top_uses_the_last_128k() {
        let reg = (0x1000 << 8) | (1 << 3);
        assert_eq!(vga_workspace(GIB24, reg, true).start, GIB24 - SZ_128K);
        let f = frts(GIB24, reg, true).unwrap();
        assert_eq!((f.end, f.len()), (GIB24 - SZ_128K, SZ_1M));
    }

    #[test]
    fn invalid_workspace_or_no_display_uses_the_last_mib() {
        let reg = 0x5fff0 << 8; // not valid
        assert_eq!(vga_workspace(GIB24, reg, true).start, GIB24 - SZ_1M);
        assert_eq!(vga_workspace(GIB24, reg | 8, false).start, GIB24 - SZ_1M);
    }

    #[test]
    fn tiny_or_zero_vram() {
        assert_eq!(frts(0, 0, false), None);
        assert_eq!(frts(SZ_1M, 0, false), None);
    }

    #[test]
    fn wpr2_encoding() {
        assert_eq!(wpr2_from_regs(0x5ffe00 << 4, 0), None);
        let lo = ((0x5_ffe0_0000u64 >> 12) << 4) as u32;
        let hi = ((0x5_fff0_0000u64 >> 12) << 4) as u32;
        assert_eq!(
            wpr2_from_regs(lo, hi),
            Some(FbRange {
                start: 0x5_ffe0_0000,
                end: 0x5_fff0_0000
            })
        );
    }
}
