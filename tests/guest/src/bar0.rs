// SPDX-License-Identifier: GPL-2.0
//! The GPU's registers read from user space through sysfs (`/sys/bus/pci/devices/<addr>/
//! resource0`, BAR0 mapped read-only): a second path to the hardware's state, so the probe
//! tests compare what nova-core reports (dmesg, debugfs) with what the registers hold rather
//! than with numbers copied from the vGPU.
//!
//! Reads only: nothing here writes a GPU register. Register facts (offsets, fields) and their
//! public sources are on the constants; the vGPU models them from the same sources
//! (`tools/vgpu/README.md`, BAR0 table).

use crate::port;
use std::fs::OpenOptions;
use std::os::fd::AsRawFd;

/// `NV_PFB_PRI_MMU_WPR2_ADDR_LO`: VAL 31:4 = WPR2 start address bits 39:12 (docs/facts/ga102.md §3;
/// open-gpu-kernel-modules `turing/tu102/dev_fb.h`, which GA102 keeps).
pub const WPR2_ADDR_LO: usize = 0x001f_a824;
/// `NV_PFB_PRI_MMU_WPR2_ADDR_HI`: VAL 31:4 = WPR2 end address bits 39:12, 0 when no WPR2 is
/// set (same sources).
pub const WPR2_ADDR_HI: usize = 0x001f_a828;
/// `NV_PDISP_VGA_WORKSPACE_BASE`: STATUS_VALID bit 3, ADDR 31:8 = workspace base >> 16
/// (docs/facts/ga102.md §3 and §7.2; nouveau reads it in `nvkm/subdev/gsp/tu102.c`,
/// `tu102_gsp_vga_workspace_addr`).
pub const VGA_WORKSPACE_BASE: usize = 0x0062_5f04;
/// `NV_PGC6_AON_SECURE_SCRATCH_GROUP_42`, which GA102's GFW boot fills with the usable VRAM
/// size in MiB (`NV_USABLE_FB_SIZE_IN_MB`; docs/facts/ga102.md §3; open-gpu-kernel-modules
/// `ampere/ga102/dev_gc6_island_addendum.h`).
pub const USABLE_FB_SIZE_IN_MB: usize = 0x0011_83a4;

/// The size of the FRTS region FWSEC-FRTS carves as WPR2: 1 MiB (docs/facts/ga102.md §7.2; nouveau
/// `r535_gsp_oneinit`, "Calculate FB layout").
pub const FRTS_SIZE: u64 = 1 << 20;

const MIB: u64 = 1 << 20;
/// How much of BAR0 is mapped: every register above lies below 16 MiB (BAR0's size on GA102).
const MAP_LEN: usize = 16 << 20;

/// A read-only mapping of BAR0.
pub struct Bar0 {
    base: *const u32,
}

impl Bar0 {
    /// Maps BAR0 of the first NVIDIA function (memory decoding turned on first if it is off,
    /// e.g. after an unbind).
    pub fn open() -> Result<Bar0, String> {
        let dev = port::nvidia_function()?;
        // PCI command register bit 1: memory space enable.
        port::enable_decode(&dev, 1 << 1)?;
        let path = dev.join("resource0");
        let f = OpenOptions::new()
            .read(true)
            .open(&path)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        // SAFETY: a fresh shared read-only mapping of a device file; nothing else aliases it
        // in this process, and it is only read through `read32`.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                MAP_LEN,
                libc::PROT_READ,
                libc::MAP_SHARED,
                f.as_raw_fd(),
                0,
            )
        };
        if p == libc::MAP_FAILED {
            return Err(format!(
                "mmap {}: {}",
                path.display(),
                std::io::Error::last_os_error()
            ));
        }
        Ok(Bar0 {
            base: p as *const u32,
        })
    }

    /// The 32-bit register at byte offset `off`.
    pub fn read32(&self, off: usize) -> u32 {
        assert!(off.is_multiple_of(4) && off < MAP_LEN);
        // SAFETY: in bounds and aligned (checked); MMIO must be read with one volatile load.
        unsafe { self.base.add(off / 4).read_volatile() }
    }

    /// WPR2 `[start, end)` as the registers hold it; `None` when unset (HI reads 0).
    pub fn wpr2(&self) -> Option<(u64, u64)> {
        let addr = |v: u32| u64::from(v >> 4) << 12;
        let hi = self.read32(WPR2_ADDR_HI);
        (hi != 0).then(|| (addr(self.read32(WPR2_ADDR_LO)), addr(hi)))
    }

    /// The usable VRAM size in bytes.
    pub fn usable_vram(&self) -> u64 {
        u64::from(self.read32(USABLE_FB_SIZE_IN_MB)) * MIB
    }

    /// The WPR2 FWSEC-FRTS must carve, computed from the registers by the published FB
    /// layout rule (docs/facts/ga102.md §7.2; nouveau `tu102_gsp_vga_workspace_addr` and
    /// `r535_gsp_oneinit`): the VGA workspace starts at `VGA_WORKSPACE_BASE` when its
    /// STATUS_VALID bit is set and that is not below the last MiB of VRAM (else at the last
    /// 128 KiB), and at the last MiB when the bit is clear; the 1 MiB FRTS region ends at the
    /// workspace start rounded down to 128 KiB.
    pub fn expected_wpr2(&self) -> (u64, u64) {
        frts_region(self.usable_vram(), self.read32(VGA_WORKSPACE_BASE))
    }
}

/// [`Bar0::expected_wpr2`] for `fb` bytes of usable VRAM and `vga`, the value of
/// `VGA_WORKSPACE_BASE`.
fn frts_region(fb: u64, vga: u32) -> (u64, u64) {
    let last_mib = fb - MIB;
    let workspace = if vga & (1 << 3) == 0 {
        last_mib
    } else {
        match u64::from(vga >> 8) << 16 {
            a if a < last_mib => fb - (128 << 10),
            a => a,
        }
    };
    let end = workspace & !((128 << 10) - 1);
    (end - FRTS_SIZE, end)
}

impl Drop for Bar0 {
    fn drop(&mut self) {
        // SAFETY: the mapping `open` made, of MAP_LEN bytes, not used after this.
        unsafe { libc::munmap(self.base as *mut libc::c_void, MAP_LEN) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frts_region_follows_the_layout_rule() {
        const GIB: u64 = 1 << 30;
        // Workspace valid at the last MiB of 24 GiB: FRTS is the MiB below it.
        assert_eq!(
            frts_region(24 * GIB, 0x05ff_f008),
            (24 * GIB - 2 * MIB, 24 * GIB - MIB)
        );
        // Not valid: the last MiB is taken as the workspace all the same.
        assert_eq!(
            frts_region(24 * GIB, 0x05ff_f000),
            (24 * GIB - 2 * MIB, 24 * GIB - MIB)
        );
        // Valid but below the last MiB: the workspace is the last 128 KiB.
        assert_eq!(
            frts_region(24 * GIB, 0x0500_0008),
            (24 * GIB - 128 * 1024 - MIB, 24 * GIB - 128 * 1024)
        );
        // An unaligned workspace rounds the FRTS end down to 128 KiB.
        assert_eq!(
            frts_region(8 * GIB, 0x01ff_ff08),
            (8 * GIB - 128 * 1024 - MIB, 8 * GIB - 128 * 1024)
        );
    }
}
