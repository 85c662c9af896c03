// SPDX-License-Identifier: GPL-2.0
//! Typed BAR0 registers, grouped by hardware block. Offsets and fields are hardware facts; each
//! group names its source.

use kernel::io::register;

// PMC: open-gpu-doc `manuals/ampere/ga100/dev_boot.ref.txt` (facts sheet §2.1).
register! {
    /// `NV_PMC_BOOT_0`: architecture, implementation and revision of the chip.
    pub(crate) NV_PMC_BOOT_0(u32) @ 0x0000_0000 {
        /// Low five bits of the architecture.
        28:24   architecture;
        /// Implementation within the architecture.
        23:20   implementation;
        /// High architecture bit (set on chips whose architecture does not fit 5 bits).
        8:8     architecture_hi;
        /// Major silicon revision.
        7:4     major_revision;
        /// Minor silicon revision.
        3:0     minor_revision;
    }

    /// `NV_PMC_BOOT_42`: the extended chip identification used from Fermi on.
    pub(crate) NV_PMC_BOOT_42(u32) @ 0x0000_0a00 {
        /// Architecture (6 bits).
        29:24   architecture;
        /// Implementation within the architecture.
        23:20   implementation;
        /// Major silicon revision.
        19:16   major_revision;
        /// Minor silicon revision.
        15:12   minor_revision;
    }
}

// GC6 always-on scratch: GFW boot progress and the usable FB size. open-gpu-kernel-modules
// `ampere/ga102/dev_gc6_island.h` and `dev_gc6_island_addendum.h` (facts sheet §3).
register! {
    /// Privilege level mask of scratch group 05: bit 0 set once FWSEC opened the group to the CPU.
    pub(crate) NV_PGC6_AON_SECURE_SCRATCH_GROUP_05_PRIV_LEVEL_MASK(u32) @ 0x0011_8128 {
        /// The CPU (level 0) may read group 05.
        0:0 read_protection_level0 => bool;
    }

    /// `NV_PGC6_BSI_SECURE_SCRATCH_14` (OG 570.144 `ampere/ga102/dev_gc6_island.h` L35,
    /// `dev_gc6_island_addendum.h` L36-38; docs/facts/ga102.md §3).
    pub(crate) NV_PGC6_BSI_SECURE_SCRATCH_14(u32) @ 0x0011_80f8 {
        /// BOOT_STAGE_3_HANDOFF: SEC2-RTOS finished resuming GSP-RM (CPU sequencer CORE_RESUME).
        26:26 boot_stage_3_handoff => bool;
    }

    /// Scratch group 05 word 0: GFW (devinit + FWSEC) boot progress.
    pub(crate) NV_PGC6_AON_SECURE_SCRATCH_GROUP_05_0_GFW_BOOT(u32) @ 0x0011_8234 {
        /// 0xff once the GFW boot completed.
        7:0 progress;
    }

    /// Usable frame buffer size in MiB (GA102 and later).
    pub(crate) NV_USABLE_FB_SIZE_IN_MB(u32) @ 0x0011_83a4 {
        31:0 value;
    }
}

// PFB: system-memory flush page and WPR2. open-gpu-kernel-modules `ampere/ga100/dev_fb.h`,
// `turing/tu102/dev_fb.h` (facts sheet §3).
register! {
    /// Flush page address bits 39:8.
    pub(crate) NV_PFB_NISO_FLUSH_SYSMEM_ADDR(u32) @ 0x0010_0c10 {
        31:0 adr_39_08;
    }

    /// Flush page address bits 63:40.
    pub(crate) NV_PFB_NISO_FLUSH_SYSMEM_ADDR_HI(u32) @ 0x0010_0c40 {
        23:0 adr_63_40;
    }

    /// WPR2 start, address bits 39:12 (inclusive).
    pub(crate) NV_PFB_PRI_MMU_WPR2_ADDR_LO(u32) @ 0x001f_a824 {
        31:4 val;
    }

    /// WPR2 end, address bits 39:12 (exclusive); 0 when WPR2 is not set.
    pub(crate) NV_PFB_PRI_MMU_WPR2_ADDR_HI(u32) @ 0x001f_a828 {
        31:4 val;
    }
}

// Misc registers read during the FWSEC-FRTS stage (facts sheet §3).
register! {
    /// `NV_PBUS_SW_SCRATCH(0xe)`: FWSEC-FRTS status in 31:16 (0 = success).
    /// open-gpu-kernel-modules `ampere/ga100/dev_bus.h` (scratch array at 0x1400).
    pub(crate) NV_PBUS_SW_SCRATCH_0E_FRTS_ERR(u32) @ 0x0000_1438 {
        /// FWSEC-FRTS error code.
        31:16 frts_err_code;
    }

    /// `NV_PBUS_SW_SCRATCH(0x15)`: FWSEC-SB status in 15:0 (0 = success).
    pub(crate) NV_PBUS_SW_SCRATCH_15_SB_ERR(u32) @ 0x0000_1454 {
        /// FWSEC-SB error code.
        15:0 sb_err_code;
    }

    /// `NV_PDISP_VGA_WORKSPACE_BASE`: where the VBIOS keeps its VGA workspace in VRAM.
    pub(crate) NV_PDISP_VGA_WORKSPACE_BASE(u32) @ 0x0062_5f04 {
        /// The address is valid.
        3:3 status_valid => bool;
        /// Base address bits 39:16.
        31:8 addr;
    }

    /// `NV_FUSE_STATUS_OPT_DISPLAY` (GA100 and later).
    pub(crate) NV_FUSE_STATUS_OPT_DISPLAY(u32) @ 0x0082_0c04 {
        /// The display engine is fused off.
        0:0 data_disabled => bool;
    }
}

// GSP message-queue doorbell: open-gpu-kernel-modules `ampere/ga102/dev_gsp.h` (docs/facts/ga102.md §5.1, §7.4).
register! {
    /// `NV_PGSP_QUEUE_HEAD(0)`: the CPU writes it after posting commands.
    pub(crate) NV_PGSP_QUEUE_HEAD0(u32) @ 0x0011_0c00 {
        31:0 value;
    }

    /// `NV_PGSP_FALCON_MAILBOX0` as GSP-RM reports its state after an unload request.
    pub(crate) NV_PGSP_FALCON_MAILBOX0_STATE(u32) @ 0x0011_0040 {
        /// LIBOS has suspended the processor.
        31:31 suspended => bool;
    }
}

// PBUS BAR0 window (PRAMIN): nouveau `nvkm/subdev/instmem/nv50.c` (`set_bar0_window_addr` writes
// 0x001700 = address >> 16; data at 0x700000 + (address & 0xfffff)); nouveau uses this path on
// GA102 (`engine/device/base.c` nv172 `.imem = nv50_instmem_new`), under GSP-RM too
// (`gsp/rm/r535/fbsr.c`).
register! {
    /// `NV_PBUS_BAR0_WINDOW`: which 1 MiB of VRAM the PRAMIN window shows.
    pub(crate) NV_PBUS_BAR0_WINDOW(u32) @ 0x0000_1700 {
        /// VRAM address bits 39:16 of the window base (1 MiB aligned in practice).
        23:0 base;
    }
}
