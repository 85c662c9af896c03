// SPDX-License-Identifier: GPL-2.0
//! PMC: chip identification and engine enables (BAR0 0x000000-0x000fff).
//!
//! Facts (sheet §2.1, §2.2): `NV_PMC_BOOT_0` 0x000000, `NV_PMC_BOOT_1` 0x000004 (VGPU field 17:16,
//! 0 on bare metal), `NV_PMC_BOOT_2` 0x000008, `NV_PMC_BOOT_42` 0x000a00 (open-gpu-doc
//! `ampere/ga100/dev_boot.ref.txt`); `NV_PMC_ENABLE` 0x000200 and `NV_PMC_DEVICE_ENABLE(0)`
//! 0x000600 (open-gpu-kernel-modules `ampere/ga102/dev_boot.h`), plain read/write here.

use super::Block;
use crate::chip::ChipProfile;

/// `NV_PMC_BOOT_0`.
pub const BOOT_0: u32 = 0x000000;
/// `NV_PMC_BOOT_1`.
pub const BOOT_1: u32 = 0x000004;
/// `NV_PMC_BOOT_2`.
pub const BOOT_2: u32 = 0x000008;
/// `NV_PMC_ENABLE`.
pub const ENABLE: u32 = 0x000200;
/// `NV_PMC_DEVICE_ENABLE(0)`.
pub const DEVICE_ENABLE: u32 = 0x000600;
/// `NV_PMC_BOOT_42`.
pub const BOOT_42: u32 = 0x000a00;

/// The PMC block.
pub struct Pmc {
    boot0: u32,
    boot42: u32,
    enable: u32,
    device_enable: u32,
}

impl Pmc {
    /// PMC of `chip`; `boot42` may override the profile's value (fault injection).
    pub fn new(chip: &ChipProfile, boot42: Option<u32>) -> Self {
        Pmc {
            boot0: chip.boot0,
            boot42: boot42.unwrap_or(chip.boot42),
            enable: 0,
            device_enable: 0,
        }
    }
}

impl Block for Pmc {
    fn name(&self) -> &'static str {
        "pmc"
    }

    fn ranges(&self) -> &'static [(u32, u32)] {
        &[(0x000000, 0x001000)]
    }

    fn read32(&mut self, off: u32) -> u32 {
        match off {
            BOOT_0 => self.boot0,
            BOOT_1 => 0,
            BOOT_2 => 0,
            ENABLE => self.enable,
            DEVICE_ENABLE => self.device_enable,
            BOOT_42 => self.boot42,
            _ => 0,
        }
    }

    fn write32(&mut self, off: u32, val: u32) {
        match off {
            ENABLE => self.enable = val,
            DEVICE_ENABLE => self.device_enable = val,
            _ => {} // identification registers are read-only
        }
    }

    fn reg_name(&self, off: u32) -> Option<&'static str> {
        Some(match off {
            BOOT_0 => "NV_PMC_BOOT_0",
            BOOT_1 => "NV_PMC_BOOT_1",
            BOOT_2 => "NV_PMC_BOOT_2",
            ENABLE => "NV_PMC_ENABLE",
            DEVICE_ENABLE => "NV_PMC_DEVICE_ENABLE(0)",
            BOOT_42 => "NV_PMC_BOOT_42",
            _ => return None,
        })
    }

    fn reset(&mut self) {
        self.enable = 0;
        self.device_enable = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chip::GA102;

    #[test]
    fn identification_is_read_only() {
        let mut p = Pmc::new(&GA102, None);
        assert_eq!(p.read32(BOOT_0), 0x1720_00a1);
        assert_eq!(p.read32(BOOT_42), 0x172a_1000);
        p.write32(BOOT_42, 0);
        p.write32(BOOT_0, 0);
        assert_eq!(p.read32(BOOT_42), 0x172a_1000);
        assert_eq!(p.read32(BOOT_0), 0x1720_00a1);
    }

    #[test]
    fn boot42_override() {
        let mut p = Pmc::new(&GA102, Some(0x3f00_0000));
        assert_eq!(p.read32(BOOT_42), 0x3f00_0000);
    }

    #[test]
    fn enables_are_rw_and_reset() {
        let mut p = Pmc::new(&GA102, None);
        p.write32(DEVICE_ENABLE, 0x1234);
        p.write32(ENABLE, 0xffff_ffff);
        assert_eq!(p.read32(DEVICE_ENABLE), 0x1234);
        assert_eq!(p.read32(ENABLE), 0xffff_ffff);
        p.reset();
        assert_eq!(p.read32(DEVICE_ENABLE), 0);
        assert_eq!(p.reg_name(BOOT_42), Some("NV_PMC_BOOT_42"));
    }
}
