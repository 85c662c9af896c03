// SPDX-License-Identifier: GPL-2.0
//! PRAMIN: the 1 MiB BAR0 window onto memory that a driver uses before any BAR1/BAR2 mapping
//! exists. Trace block `pramin`.
//!
//! | BAR0 | Register | Behaviour | Source |
//! |---|---|---|---|
//! | 0x001700 | `NV_PBUS_BAR0_WINDOW` | BASE 23:0 (INIT 0), TARGET 25:24 (INIT 0 VID_MEM, 2 SYS_MEM_COHERENT, 3 SYS_MEM_NONCOHERENT) read/write, other bits read 0; 0 after FLR; the window starts at BASE << 16 (`_BASE_SHIFT` 16) | OD `ampere/ga100/dev_bus.ref.txt` L155-162 (same in `turing/tu104/dev_bus.ref.txt` L165-172) |
//! | 0x700000-0x7FFFFF | `NV_PRAMIN` | byte i of the window is memory at (BASE << 16) + i in TARGET: VRAM, or guest RAM for both system targets | OD `ampere/ga100/dev_ram.ref.txt` L41-49 ("the PRAMIN bar0 space controlled by NV_PBUS_BAR0_WINDOW", 1M) |
//!
//! How a driver uses it (nouveau `nvkm/subdev/instmem/nv50.c` L64-75, L418-421): write
//! `NV_PBUS_BAR0_WINDOW` = address >> 16 (TARGET 0, a 1 MiB-aligned base), then access
//! 0x700000 + (address & 0xFFFFF). The BAR0 decoder splits 8-, 16- and 64-bit accesses into
//! 32-bit ones and merges partial writes with the current word, which for memory is the same
//! as a narrow write.
//!
//! Not modelled: TARGET 1 (undefined in the manual: reads 0, writes dropped, traced); accesses
//! past the end of VRAM or to guest memory QEMU did not map read 0 and drop writes (traced);
//! protection of WPR2 or other secured VRAM against PRAMIN accesses.

use super::Block;
use crate::mmu::format::Aperture;
use crate::mmu::mem::Memory;
use crate::mmu::walk::PhysMem;
use crate::trace::Tracer;
use std::sync::Arc;

/// `NV_PBUS_BAR0_WINDOW`.
pub const BAR0_WINDOW: u32 = 0x00_1700;
/// First byte of `NV_PRAMIN`.
pub const PRAMIN: u32 = 0x70_0000;
/// Size of the window.
pub const PRAMIN_SIZE: u32 = 1 << 20;
/// `NV_PBUS_BAR0_WINDOW_BASE_SHIFT`.
pub const BASE_SHIFT: u32 = 16;

/// The block.
pub struct Pramin {
    mem: Memory,
    tracer: Arc<Tracer>,
    window: u32,
}

impl Pramin {
    /// At power-on (window at VRAM 0), over `mem`.
    pub fn new(mem: Memory, tracer: Arc<Tracer>) -> Self {
        Pramin {
            mem,
            tracer,
            window: 0,
        }
    }

    /// Where window byte `off - PRAMIN` is: None for the undefined TARGET 1.
    pub fn target(&self, off: u32) -> Option<(Aperture, u64)> {
        let base = u64::from(self.window & 0xff_ffff) << BASE_SHIFT;
        let ap = match (self.window >> 24) & 3 {
            0 => Aperture::Video,
            2 => Aperture::SysCoherent,
            3 => Aperture::SysNonCoherent,
            _ => return None,
        };
        Some((ap, base + u64::from(off - PRAMIN)))
    }

    fn miss(&self, write: bool, off: u32, what: String) {
        self.tracer.line(
            "pramin",
            format_args!(
                "{} at window {off:#x}: {what}",
                if write { "write dropped" } else { "read 0" }
            ),
        );
    }
}

impl Block for Pramin {
    fn name(&self) -> &'static str {
        "pramin"
    }

    fn ranges(&self) -> &'static [(u32, u32)] {
        &[
            (BAR0_WINDOW, BAR0_WINDOW + 4),
            (PRAMIN, PRAMIN + PRAMIN_SIZE),
        ]
    }

    fn read32(&mut self, off: u32) -> u32 {
        if off == BAR0_WINDOW {
            return self.window;
        }
        let Some((ap, pa)) = self.target(off) else {
            self.miss(false, off, "BAR0_WINDOW.TARGET 1 is undefined".into());
            return 0;
        };
        let mut b = [0u8; 4];
        if self.mem.read(ap, pa, &mut b) {
            u32::from_le_bytes(b)
        } else {
            self.miss(false, off, format!("nothing at {} {pa:#x}", ap.name()));
            0
        }
    }

    fn write32(&mut self, off: u32, val: u32) {
        if off == BAR0_WINDOW {
            self.window = val & 0x03ff_ffff;
            return;
        }
        let Some((ap, pa)) = self.target(off) else {
            self.miss(true, off, "BAR0_WINDOW.TARGET 1 is undefined".into());
            return;
        };
        if !self.mem.write(ap, pa, &val.to_le_bytes()) {
            self.miss(true, off, format!("nothing at {} {pa:#x}", ap.name()));
        }
    }

    fn reg_name(&self, off: u32) -> Option<&'static str> {
        Some(if off == BAR0_WINDOW {
            "NV_PBUS_BAR0_WINDOW"
        } else {
            "NV_PRAMIN"
        })
    }

    fn reset(&mut self) {
        self.window = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bar0::Bar0;
    use crate::mmu::mem::testing::{Rig, GPA, VRAM};

    fn bar0(r: &Rig) -> Bar0 {
        let t = Arc::new(Tracer::off());
        Bar0::new(vec![Box::new(Pramin::new(r.mem.clone(), t.clone()))], t).unwrap()
    }

    fn rd(b: &mut Bar0, off: u32, n: usize) -> u64 {
        let mut v = [0u8; 8];
        b.read(off.into(), &mut v[..n]);
        u64::from_le_bytes(v)
    }

    fn wr(b: &mut Bar0, off: u32, n: usize, v: u64) {
        b.write(off.into(), &v.to_le_bytes()[..n]);
    }

    #[test]
    fn window_register_layout() {
        let r = Rig::new();
        let mut b = bar0(&r);
        assert_eq!(rd(&mut b, BAR0_WINDOW, 4), 0, "INIT: base 0, VID_MEM");
        wr(&mut b, BAR0_WINDOW, 4, 0xffff_ffff);
        assert_eq!(
            rd(&mut b, BAR0_WINDOW, 4),
            0x03ff_ffff,
            "BASE 23:0, TARGET 25:24"
        );
        b.reset();
        assert_eq!(rd(&mut b, BAR0_WINDOW, 4), 0);
    }

    #[test]
    fn vram_through_the_window_at_every_width() {
        let r = Rig::new();
        let mut b = bar0(&r);
        // nouveau's use: base = address >> 16 for a 1 MiB-aligned address.
        let base = 0x0120_0000u64;
        wr(&mut b, BAR0_WINDOW, 4, base >> 16);
        wr(&mut b, PRAMIN + 0x10, 4, 0x1122_3344);
        assert_eq!(r.get32(Aperture::Video, base + 0x10), 0x1122_3344);
        wr(&mut b, PRAMIN + 0x11, 1, 0xaa);
        wr(&mut b, PRAMIN + 0x12, 2, 0xccbb);
        assert_eq!(r.get32(Aperture::Video, base + 0x10), 0xccbb_aa44);
        assert_eq!(rd(&mut b, PRAMIN + 0x13, 1), 0xcc);
        assert_eq!(rd(&mut b, PRAMIN + 0x12, 2), 0xccbb);
        wr(&mut b, PRAMIN + 0x18, 8, 0x0102_0304_0506_0708);
        assert_eq!(rd(&mut b, PRAMIN + 0x18, 8), 0x0102_0304_0506_0708);
        assert_eq!(r.get32(Aperture::Video, base + 0x1c), 0x0102_0304);
        // The last word of the window.
        wr(&mut b, PRAMIN + PRAMIN_SIZE - 4, 4, 0xfeed_f00d);
        assert_eq!(r.get32(Aperture::Video, base + 0xf_fffc), 0xfeed_f00d);
    }

    #[test]
    fn moving_the_window_in_64k_steps() {
        let r = Rig::new();
        let mut b = bar0(&r);
        r.put64(Aperture::Video, 0x3_0000, 0xabcd);
        wr(&mut b, BAR0_WINDOW, 4, 3);
        assert_eq!(rd(&mut b, PRAMIN, 4), 0xabcd);
        wr(&mut b, BAR0_WINDOW, 4, 2);
        assert_eq!(rd(&mut b, PRAMIN + 0x1_0000, 4), 0xabcd);
    }

    #[test]
    fn system_memory_targets() {
        let r = Rig::new();
        let mut b = bar0(&r);
        for target in [2u64, 3] {
            wr(&mut b, BAR0_WINDOW, 4, (target << 24) | (GPA >> 16));
            wr(&mut b, PRAMIN + 0x40, 4, 0x5000 + target);
            assert_eq!(
                r.get32(Aperture::SysCoherent, GPA + 0x40),
                0x5000 + target as u32
            );
            assert_eq!(rd(&mut b, PRAMIN + 0x40, 4), 0x5000 + target);
        }
    }

    #[test]
    fn nothing_behind_the_window() {
        let r = Rig::new();
        let mut b = bar0(&r);
        // Past the end of VRAM.
        wr(&mut b, BAR0_WINDOW, 4, (VRAM - 0x1_0000) >> 16);
        wr(&mut b, PRAMIN + 0xfffc, 4, 7);
        assert_eq!(rd(&mut b, PRAMIN + 0xfffc, 4), 7, "last word of VRAM");
        wr(&mut b, PRAMIN + 0x1_0000, 4, 7);
        assert_eq!(rd(&mut b, PRAMIN + 0x1_0000, 4), 0);
        // Guest memory QEMU did not map.
        wr(&mut b, BAR0_WINDOW, 4, 2 << 24);
        wr(&mut b, PRAMIN, 4, 7);
        assert_eq!(rd(&mut b, PRAMIN, 4), 0);
        // TARGET 1.
        wr(&mut b, BAR0_WINDOW, 4, 1 << 24);
        wr(&mut b, PRAMIN, 4, 7);
        assert_eq!(rd(&mut b, PRAMIN, 4), 0);
        assert_eq!(r.get32(Aperture::Video, 0), 0);
    }
}
