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
/// the base shifted right by 16); `display_present` is false when the display engine is fused off. Rule (docs/facts/ga102.md §7.2):
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
/// 128 KiB (docs/facts/ga102.md §7.2). `None` when VRAM is too small to hold it.
pub fn frts(fb_size: u64, vga_workspace_reg: u32, display_present: bool) -> Option<FbRange> {
    let vga = vga_workspace(fb_size, vga_workspace_reg, display_present);
    let end = vga.start & !(SZ_128K - 1);
    let start = end.checked_sub(FRTS_SIZE)?;
    Some(FbRange { start, end })
}

/// WPR2 as the `NV_PFB_PRI_MMU_WPR2_ADDR_LO/HI` pair encodes it (docs/facts/ga102.md §3): address bits 39:12 in
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

/// 4 KiB.
const SZ_4K: u64 = 4 << 10;
/// 64 KiB.
const SZ_64K: u64 = 64 << 10;
/// 1 GiB.
const SZ_1G: u64 = 1 << 30;
/// Size of the non-WPR heap below WPR2 (docs/facts/ga102.md §7.1 `nonWprHeapSize`, GA102).
pub const NON_WPR_HEAP_SIZE: u64 = SZ_1M;

const fn align_down(v: u64, a: u64) -> u64 {
    v & !(a - 1)
}

/// GSP-RM's WPR2 heap size for `fb_size` bytes of VRAM with LIBOS3 (GA102 and later; docs/facts/ga102.md §7.2):
/// the 22 MiB OS carve-out, 8 MiB of base RM, 96 MiB for one client and 96 KiB per started GiB
/// of VRAM rounded up to 1 MiB, at least 88 MiB and below 280 MiB.
pub fn wpr_heap_size(fb_size: u64) -> u64 {
    let per_gb = (fb_size.div_ceil(SZ_1G) * (96 << 10)).next_multiple_of(SZ_1M);
    let size = (22 << 20) + (8 << 20) + (96 << 20) + per_gb;
    size.clamp(88 << 20, (280 << 20) - SZ_1M)
}

/// Where everything GSP-RM needs goes at the top of VRAM (docs/facts/ga102.md §7.2), from the top down.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GspFbLayout {
    /// All usable VRAM.
    pub fb: FbRange,
    /// The VBIOS VGA workspace.
    pub vga_workspace: FbRange,
    /// FWSEC's FRTS region.
    pub frts: FbRange,
    /// The RISC-V bootloader payload.
    pub boot: FbRange,
    /// The `.fwimage` ELF image.
    pub elf: FbRange,
    /// GSP-RM's heap inside WPR2.
    pub wpr2_heap: FbRange,
    /// WPR2 itself.
    pub wpr2: FbRange,
    /// The heap below WPR2.
    pub non_wpr_heap: FbRange,
}

impl GspFbLayout {
    /// Computes the layout, or `None` when VRAM is too small for it.
    pub fn new(
        fb_size: u64,
        vga_workspace_reg: u32,
        display_present: bool,
        boot_size: u64,
        elf_size: u64,
    ) -> Option<Self> {
        let vga_workspace = vga_workspace(fb_size, vga_workspace_reg, display_present);
        let frts = frts(fb_size, vga_workspace_reg, display_present)?;
        let boot_start = align_down(frts.start.checked_sub(boot_size)?, SZ_4K);
        let boot = FbRange {
            start: boot_start,
            end: boot_start + boot_size,
        };
        let elf_start = align_down(boot.start.checked_sub(elf_size)?, SZ_64K);
        let elf = FbRange {
            start: elf_start,
            end: elf_start + elf_size,
        };
        let heap_start = align_down(elf.start.checked_sub(wpr_heap_size(fb_size))?, SZ_1M);
        let wpr2_heap = FbRange {
            start: heap_start,
            end: align_down(elf.start, SZ_1M),
        };
        let wpr2 = FbRange {
            start: align_down(heap_start.checked_sub(256)?, SZ_1M),
            end: frts.end,
        };
        let non_wpr_heap = FbRange {
            start: wpr2.start.checked_sub(NON_WPR_HEAP_SIZE)?,
            end: wpr2.start,
        };
        Some(GspFbLayout {
            fb: FbRange {
                start: 0,
                end: fb_size,
            },
            vga_workspace,
            frts,
            boot,
            elf,
            wpr2_heap,
            wpr2,
            non_wpr_heap,
        })
    }
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
    fn heap_size_of_a_24_gib_board() {
        // 22 + 8 + 96 + 24 x 96 KiB (2.25 MiB, rounded up to 3) = 129 MiB (docs/facts/ga102.md §7.2 example).
        assert_eq!(wpr_heap_size(GIB24), 129 << 20);
        assert_eq!(wpr_heap_size(0), 126 << 20);
        assert_eq!(wpr_heap_size(4096 << 30), (280 << 20) - SZ_1M);
    }

    #[test]
    fn gsp_layout_of_a_24_gib_board() {
        let reg = (0x5fff0 << 8) | (1 << 3);
        let elf_size = 0x3c9_9000; // .fwimage of gsp-570.144.bin
        let l = GspFbLayout::new(GIB24, reg, true, 0x6000, elf_size).unwrap();
        assert_eq!(
            l.frts,
            FbRange {
                start: 0x5_ffe0_0000,
                end: 0x5_fff0_0000
            }
        );
        assert_eq!(
            l.boot,
            FbRange {
                start: 0x5_ffdf_a000,
                end: 0x5_ffe0_0000
            }
        );
        assert_eq!(l.elf.start % SZ_64K, 0);
        assert!(l.elf.end <= l.boot.start && l.boot.start - l.elf.end < SZ_64K);
        assert_eq!(l.wpr2_heap.end, l.elf.start & !(SZ_1M - 1));
        assert_eq!(l.wpr2_heap.start % SZ_1M, 0);
        assert!(l.wpr2_heap.len() >= wpr_heap_size(GIB24) - SZ_1M);
        assert_eq!(l.wpr2.end, l.frts.end);
        assert_eq!(l.wpr2.start % SZ_1M, 0);
        assert!(l.wpr2.start < l.wpr2_heap.start);
        assert_eq!(
            l.non_wpr_heap,
            FbRange {
                start: l.wpr2.start - SZ_1M,
                end: l.wpr2.start
            }
        );
        // Everything is ordered top-down without overlap.
        let order = [
            l.non_wpr_heap,
            l.wpr2_heap,
            l.elf,
            l.boot,
            l.frts,
            l.vga_workspace,
        ];
        for w in order.windows(2) {
            assert!(w[0].end <= w[1].start, "{:x?} overlaps {:x?}", w[0], w[1]);
        }
    }

    #[test]
    fn gsp_layout_needs_room() {
        assert_eq!(
            GspFbLayout::new(64 << 20, 0, false, 0x6000, 0x3c9_9000),
            None
        );
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
