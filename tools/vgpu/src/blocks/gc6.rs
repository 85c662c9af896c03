// SPDX-License-Identifier: GPL-2.0
//! GC6 always-on island: the boot-state registers the CPU reads before anything else (docs/facts/ga102.md §3).
//!
//! | BAR0 | register | model |
//! |---|---|---|
//! | 0x118128 | `NV_PGC6_AON_SECURE_SCRATCH_GROUP_05_PRIV_LEVEL_MASK` | READ_PROTECTION 3:0; bit 0 (LEVEL0) set once FWSEC opened group 05 to the CPU |
//! | 0x118234 | `NV_PGC6_AON_SECURE_SCRATCH_GROUP_05(0)` (`..._0_GFW_BOOT`) | PROGRESS 7:0 = 0xFF once GFW boot completed; only meaningful while the PLM's bit 0 is set |
//! | 0x1183A4 | `NV_PGC6_AON_SECURE_SCRATCH_GROUP_42` (`NV_USABLE_FB_SIZE_IN_MB`) | usable VRAM in MiB; INIT 0 until GFW boot wrote it |
//! | 0x1180F8 | `NV_PGC6_BSI_SECURE_SCRATCH_14` | BOOT_STAGE_3_HANDOFF 26:26 = 1 once SEC2-RTOS resumed GSP-RM after the CPU sequencer's CORE_RESUME; other bits 0; kept in the [`GspPort`] |
//!
//! Sources: open-gpu-kernel-modules `ampere/ga102/dev_gc6_island.h` (addresses, PLM field) and
//! `dev_gc6_island_addendum.h` (GFW_BOOT_PROGRESS 7:0, `_COMPLETED` 0xFF; USABLE_FB VALUE 31:0,
//! `_INIT` 0; BSI_SECURE_SCRATCH_14 0x1180F8 `_BOOT_STAGE_3_HANDOFF` 26:26, `_VALUE_DONE` 1, OG
//! 570.144 `dev_gc6_island.h` L35, `dev_gc6_island_addendum.h` L36-38); docs/facts/ga102.md §3 "Wait GFW_BOOT" (read the PLM first, group 05 is not readable before).
//!
//! Model choices (not in the facts):
//! - PLM value: READ_PROTECTION 0xE (levels 1-3 may read) while group 05 is closed to the CPU,
//!   0xF once FWSEC opened it; the other PLM bits read 0.
//! - A CPU read of group 05 while the PLM's bit 0 is clear returns [`BLOCKED_READ`]: real
//!   hardware answers with a priv error whose exact value is not in the facts. Its low byte
//!   is 0xFF on purpose, so a driver that skips the PLM check mistakes it for "completed" and a
//!   `--no-gfw-boot` test catches that driver.
//! - While FWSEC has opened group 05 but GFW boot has not finished, PROGRESS reads 0x00.
//! - CPU writes are ignored (secure scratch; the CPU runs at privilege level 0).
//! - `BOOT_STAGE_3_HANDOFF` is cleared when GSP-RM posts the CPU sequencer (who clears it on
//!   hardware is not public) and set by SEC2-RTOS when the resume completed; CPU writes to
//!   `BSI_SECURE_SCRATCH_14` are ignored like the other secure scratch registers.
//! - An FLR does not touch these registers (an always-on island; GFW boot runs at power-on).

use super::falcon::GspPort;
use super::Block;
use crate::chip::ChipProfile;
use std::time::{Duration, Instant};

/// `NV_PGC6_AON_SECURE_SCRATCH_GROUP_05_PRIV_LEVEL_MASK`.
pub const GROUP_05_PLM: u32 = 0x118128;
/// `NV_PGC6_AON_SECURE_SCRATCH_GROUP_05(0)`, alias `..._GROUP_05_0_GFW_BOOT`.
pub const GFW_BOOT: u32 = 0x118234;
/// `NV_PGC6_AON_SECURE_SCRATCH_GROUP_42`, alias `NV_USABLE_FB_SIZE_IN_MB`.
pub const USABLE_FB_SIZE_IN_MB: u32 = 0x1183a4;

/// `NV_PGC6_BSI_SECURE_SCRATCH_14`.
pub const BSI_SECURE_SCRATCH_14: u32 = 0x1180f8;

/// PLM READ_PROTECTION_LEVEL0 (bit 0).
pub const PLM_LEVEL0: u32 = 1 << 0;
/// PLM while group 05 is closed to the CPU (model choice, see the module docs).
pub const PLM_CLOSED: u32 = 0xe;
/// PLM once FWSEC opened group 05 to the CPU.
pub const PLM_OPEN: u32 = PLM_CLOSED | PLM_LEVEL0;
/// GFW_BOOT_PROGRESS_COMPLETED.
pub const PROGRESS_COMPLETED: u32 = 0xff;
/// What a CPU read of group 05 returns while it is closed (model choice, see the module docs).
pub const BLOCKED_READ: u32 = 0xbadf_00ff;

/// When GFW boot (devinit + FWSEC at power-on) completes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum GfwBoot {
    /// Already complete when the guest first looks (a powered-on, booted board).
    #[default]
    Completed,
    /// A test knob for the driver's polling loop: group 05 opens half-way through and boot
    /// completes this long after the first read of any register of this block.
    AfterFirstRead(Duration),
    /// Never completes (fault injection): the PLM never opens.
    Never,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Closed,
    OpenRunning,
    Completed,
}

/// The GC6 boot-state block.
pub struct Gc6 {
    boot: GfwBoot,
    first_read: Option<Instant>,
    fb_mib: u32,
    /// Where `BSI_SECURE_SCRATCH_14` lives (shared with the falcons); None: reads 0.
    port: Option<GspPort>,
}

impl Gc6 {
    /// The block for `chip` with GFW boot behaving as `boot`.
    pub fn new(chip: &ChipProfile, boot: GfwBoot) -> Self {
        Gc6 {
            boot,
            first_read: None,
            fb_mib: u32::try_from(chip.vram_size >> 20).unwrap_or(u32::MAX),
            port: None,
        }
    }

    /// The block reading `BSI_SECURE_SCRATCH_14` from the GSP port SEC2-RTOS reports in.
    pub fn with_port(mut self, port: GspPort) -> Self {
        self.port = Some(port);
        self
    }

    fn phase(&self, now: Instant) -> Phase {
        match self.boot {
            GfwBoot::Completed => Phase::Completed,
            GfwBoot::Never => Phase::Closed,
            GfwBoot::AfterFirstRead(d) => {
                let Some(t) = self.first_read else {
                    return if d.is_zero() {
                        Phase::Completed
                    } else {
                        Phase::Closed
                    };
                };
                let e = now.saturating_duration_since(t);
                if e >= d {
                    Phase::Completed
                } else if e >= d / 2 {
                    Phase::OpenRunning
                } else {
                    Phase::Closed
                }
            }
        }
    }

    /// A read at `off` as seen at time `now` (what [`Block::read32`] does with the clock).
    pub fn read_at(&mut self, off: u32, now: Instant) -> u32 {
        self.first_read.get_or_insert(now);
        let phase = self.phase(now);
        match off {
            GROUP_05_PLM => match phase {
                Phase::Closed => PLM_CLOSED,
                Phase::OpenRunning | Phase::Completed => PLM_OPEN,
            },
            GFW_BOOT => match phase {
                Phase::Closed => BLOCKED_READ,
                Phase::OpenRunning => 0,
                Phase::Completed => PROGRESS_COMPLETED,
            },
            USABLE_FB_SIZE_IN_MB => match phase {
                Phase::Completed => self.fb_mib,
                Phase::Closed | Phase::OpenRunning => 0,
            },
            BSI_SECURE_SCRATCH_14 => self.port.as_ref().map_or(0, |p| p.bsi14()),
            _ => 0,
        }
    }
}

impl Block for Gc6 {
    fn name(&self) -> &'static str {
        "gc6"
    }

    fn ranges(&self) -> &'static [(u32, u32)] {
        &[
            (BSI_SECURE_SCRATCH_14, BSI_SECURE_SCRATCH_14 + 4),
            (GROUP_05_PLM, GROUP_05_PLM + 4),
            (GFW_BOOT, GFW_BOOT + 4),
            (USABLE_FB_SIZE_IN_MB, USABLE_FB_SIZE_IN_MB + 4),
        ]
    }

    fn read32(&mut self, off: u32) -> u32 {
        self.read_at(off, Instant::now())
    }

    fn write32(&mut self, _off: u32, _val: u32) {}

    fn reg_name(&self, off: u32) -> Option<&'static str> {
        Some(match off {
            GROUP_05_PLM => "NV_PGC6_AON_SECURE_SCRATCH_GROUP_05_PRIV_LEVEL_MASK",
            GFW_BOOT => "NV_PGC6_AON_SECURE_SCRATCH_GROUP_05_0_GFW_BOOT",
            USABLE_FB_SIZE_IN_MB => "NV_USABLE_FB_SIZE_IN_MB",
            BSI_SECURE_SCRATCH_14 => "NV_PGC6_BSI_SECURE_SCRATCH_14",
            _ => return None,
        })
    }

    fn reset(&mut self) {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chip::GA102;

    #[test]
    fn booted_board() {
        let mut g = Gc6::new(&GA102, GfwBoot::Completed);
        assert_eq!(g.read32(GROUP_05_PLM) & PLM_LEVEL0, 1);
        assert_eq!(g.read32(GFW_BOOT) & 0xff, 0xff);
        assert_eq!(g.read32(USABLE_FB_SIZE_IN_MB), 0x6000, "24 GiB in MiB");
        g.write32(GFW_BOOT, 0);
        g.write32(GROUP_05_PLM, 0);
        g.write32(USABLE_FB_SIZE_IN_MB, 1);
        g.reset();
        assert_eq!(g.read32(GROUP_05_PLM), PLM_OPEN);
        assert_eq!(g.read32(GFW_BOOT), PROGRESS_COMPLETED);
        assert_eq!(g.read32(USABLE_FB_SIZE_IN_MB), 24576);
    }

    #[test]
    fn never_completes() {
        let mut g = Gc6::new(&GA102, GfwBoot::Never);
        for _ in 0..3 {
            assert_eq!(g.read32(GROUP_05_PLM) & PLM_LEVEL0, 0);
            assert_eq!(g.read32(GFW_BOOT), BLOCKED_READ);
            assert_eq!(g.read32(USABLE_FB_SIZE_IN_MB), 0);
        }
    }

    #[test]
    fn delayed_boot_opens_then_completes() {
        let d = Duration::from_millis(100);
        let mut g = Gc6::new(&GA102, GfwBoot::AfterFirstRead(d));
        let t0 = Instant::now();
        assert_eq!(g.read_at(GROUP_05_PLM, t0), PLM_CLOSED);
        assert_eq!(g.read_at(GFW_BOOT, t0 + d / 4), BLOCKED_READ);
        let mid = t0 + d / 2;
        assert_eq!(g.read_at(GROUP_05_PLM, mid), PLM_OPEN);
        assert_eq!(g.read_at(GFW_BOOT, mid), 0, "open but not complete");
        assert_eq!(g.read_at(USABLE_FB_SIZE_IN_MB, mid), 0);
        assert_eq!(g.read_at(GFW_BOOT, t0 + d), PROGRESS_COMPLETED);
        assert_eq!(g.read_at(USABLE_FB_SIZE_IN_MB, t0 + d), 0x6000);
        // The clock starts at the first read, not at creation.
        let mut late = Gc6::new(&GA102, GfwBoot::AfterFirstRead(d));
        let t1 = Instant::now() + Duration::from_secs(10);
        assert_eq!(late.read_at(GROUP_05_PLM, t1), PLM_CLOSED);
        // A zero delay is a booted board.
        let mut now = Gc6::new(&GA102, GfwBoot::AfterFirstRead(Duration::ZERO));
        assert_eq!(now.read32(GFW_BOOT), PROGRESS_COMPLETED);
    }

    #[test]
    fn bsi_scratch_14_follows_the_port() {
        let port = GspPort::new();
        let mut g = Gc6::new(&GA102, GfwBoot::Completed).with_port(port.clone());
        assert_eq!(g.read32(BSI_SECURE_SCRATCH_14), 0);
        port.set_handoff(true);
        assert_eq!(g.read32(BSI_SECURE_SCRATCH_14), 1 << 26);
        g.write32(BSI_SECURE_SCRATCH_14, 0);
        assert_eq!(
            g.read32(BSI_SECURE_SCRATCH_14),
            1 << 26,
            "CPU writes ignored"
        );
        port.set_handoff(false);
        assert_eq!(g.read32(BSI_SECURE_SCRATCH_14), 0);
    }

    #[test]
    fn names() {
        let g = Gc6::new(&GA102, GfwBoot::Completed);
        assert_eq!(
            g.reg_name(GFW_BOOT),
            Some("NV_PGC6_AON_SECURE_SCRATCH_GROUP_05_0_GFW_BOOT")
        );
        assert!(g.reg_name(GROUP_05_PLM).is_some());
        assert_eq!(
            g.reg_name(USABLE_FB_SIZE_IN_MB),
            Some("NV_USABLE_FB_SIZE_IN_MB")
        );
    }
}
