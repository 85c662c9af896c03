// SPDX-License-Identifier: GPL-2.0
//! PDISP: the VBIOS VGA workspace register (BAR0 0x625F04), read-only.
//!
//! Facts (sheet §3): `NV_PDISP_VGA_WORKSPACE_BASE`, STATUS_VALID bit 3, ADDR 31:8 = workspace
//! base >> 16; the driver places its FRTS region below this workspace (docs/facts/ga102.md §7.2).
//!
//! Model choice (no dump of a real board was available): the VBIOS left a valid workspace in the
//! last MiB of usable VRAM, base = VRAM size - 1 MiB. With 24 GiB that is 0x5_FFF0_0000, so the
//! register reads 0x05FFF008. That base is not below fb_end - 1 MiB, so the driver rule in
//! docs/facts/ga102.md §7.2 keeps it as is.

use super::Block;
use crate::chip::ChipProfile;

/// `NV_PDISP_VGA_WORKSPACE_BASE`.
pub const VGA_WORKSPACE_BASE: u32 = 0x625f04;
/// STATUS_VALID.
pub const STATUS_VALID: u32 = 1 << 3;

/// The PDISP block (one register so far).
pub struct Disp {
    workspace: u32,
}

impl Disp {
    /// The register for `chip`: a valid workspace in the last MiB of VRAM.
    pub fn new(chip: &ChipProfile) -> Self {
        Disp {
            workspace: Self::register_value(chip),
        }
    }

    /// `NV_PDISP_VGA_WORKSPACE_BASE` as `chip` reads it (what Booter's FB layout check uses).
    pub fn register_value(chip: &ChipProfile) -> u32 {
        let base = chip.vram_size.saturating_sub(1 << 20);
        ((base >> 16) << 8) as u32 | STATUS_VALID
    }

    /// The workspace base address the register encodes.
    pub fn workspace_base(&self) -> u64 {
        u64::from(self.workspace >> 8) << 16
    }
}

impl Block for Disp {
    fn name(&self) -> &'static str {
        "disp"
    }

    fn ranges(&self) -> &'static [(u32, u32)] {
        &[(VGA_WORKSPACE_BASE, VGA_WORKSPACE_BASE + 4)]
    }

    fn read32(&mut self, off: u32) -> u32 {
        if off == VGA_WORKSPACE_BASE {
            self.workspace
        } else {
            0
        }
    }

    fn write32(&mut self, _off: u32, _val: u32) {}

    fn reg_name(&self, off: u32) -> Option<&'static str> {
        (off == VGA_WORKSPACE_BASE).then_some("NV_PDISP_VGA_WORKSPACE_BASE")
    }

    fn reset(&mut self) {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chip::GA102;

    #[test]
    fn valid_workspace_in_the_last_mib() {
        let mut d = Disp::new(&GA102);
        let v = d.read32(VGA_WORKSPACE_BASE);
        assert_eq!(v, 0x05ff_f008);
        assert_ne!(v & STATUS_VALID, 0);
        assert_eq!(d.workspace_base(), GA102.vram_size - (1 << 20));
        assert_eq!(u64::from(v >> 8) << 16, 0x5_fff0_0000);
        d.write32(VGA_WORKSPACE_BASE, 0);
        d.reset();
        assert_eq!(d.read32(VGA_WORKSPACE_BASE), v, "read-only");
        assert_eq!(
            d.reg_name(VGA_WORKSPACE_BASE),
            Some("NV_PDISP_VGA_WORKSPACE_BASE")
        );
    }
}
