// SPDX-License-Identifier: GPL-2.0
//! Fuses: the HS-ucode revision registers the falcon boot ROM and drivers read to pick an HS
//! signature (docs/facts/ga102.md §5.3, §5.5).
//!
//! | BAR0 | register |
//! |---|---|
//! | 0x824100 + 4i, i < 16 | `NV_FUSE_OPT_FPF_NVDEC_UCODE1_VERSION(i)` |
//! | 0x824140 + 4i, i < 16 | `NV_FUSE_OPT_FPF_SEC2_UCODE1_VERSION(i)` |
//! | 0x8241C0 + 4i, i < 16 | `NV_FUSE_OPT_FPF_GSP_UCODE1_VERSION(i)` |
//!
//! Read-only; values from the chip profile ([`crate::chip::UcodeFuses`]; GA102: GSP(8) = 1 and
//! SEC2(2) = 1, the rest 0); an FLR changes nothing. 0x824180-0x8241BF (between SEC2 and GSP) is not modelled and stays unclaimed.

use super::Block;
use crate::chip::{ChipProfile, UcodeFuses};

/// `NV_FUSE_OPT_FPF_NVDEC_UCODE1_VERSION(0)`.
pub const NVDEC_UCODE1_VERSION: u32 = 0x824100;
/// `NV_FUSE_OPT_FPF_SEC2_UCODE1_VERSION(0)`.
pub const SEC2_UCODE1_VERSION: u32 = 0x824140;
/// `NV_FUSE_OPT_FPF_GSP_UCODE1_VERSION(0)`.
pub const GSP_UCODE1_VERSION: u32 = 0x8241c0;

macro_rules! names {
    ($p:literal) => {
        [
            concat!($p, "(0)"),
            concat!($p, "(1)"),
            concat!($p, "(2)"),
            concat!($p, "(3)"),
            concat!($p, "(4)"),
            concat!($p, "(5)"),
            concat!($p, "(6)"),
            concat!($p, "(7)"),
            concat!($p, "(8)"),
            concat!($p, "(9)"),
            concat!($p, "(10)"),
            concat!($p, "(11)"),
            concat!($p, "(12)"),
            concat!($p, "(13)"),
            concat!($p, "(14)"),
            concat!($p, "(15)"),
        ]
    };
}

const NVDEC_NAMES: [&str; 16] = names!("NV_FUSE_OPT_FPF_NVDEC_UCODE1_VERSION");
const SEC2_NAMES: [&str; 16] = names!("NV_FUSE_OPT_FPF_SEC2_UCODE1_VERSION");
const GSP_NAMES: [&str; 16] = names!("NV_FUSE_OPT_FPF_GSP_UCODE1_VERSION");

/// The fuse block.
pub struct Fuse {
    fuses: UcodeFuses,
}

#[derive(Clone, Copy)]
enum Table {
    Nvdec,
    Sec2,
    Gsp,
}

fn decode(off: u32) -> Option<(Table, usize)> {
    let pick = |base: u32| {
        let d = off.checked_sub(base)?;
        (d < 64 && d % 4 == 0).then_some((d / 4) as usize)
    };
    pick(NVDEC_UCODE1_VERSION)
        .map(|i| (Table::Nvdec, i))
        .or_else(|| pick(SEC2_UCODE1_VERSION).map(|i| (Table::Sec2, i)))
        .or_else(|| pick(GSP_UCODE1_VERSION).map(|i| (Table::Gsp, i)))
}

impl Fuse {
    /// The fuses of `chip`.
    pub fn new(chip: &ChipProfile) -> Self {
        Fuse { fuses: chip.fuses }
    }
}

impl Block for Fuse {
    fn name(&self) -> &'static str {
        "fuse"
    }

    fn ranges(&self) -> &'static [(u32, u32)] {
        &[
            (NVDEC_UCODE1_VERSION, SEC2_UCODE1_VERSION + 64),
            (GSP_UCODE1_VERSION, GSP_UCODE1_VERSION + 64),
        ]
    }

    fn read32(&mut self, off: u32) -> u32 {
        let f = &self.fuses;
        match decode(off) {
            Some((Table::Nvdec, i)) => f.nvdec.get(i),
            Some((Table::Sec2, i)) => f.sec2.get(i),
            Some((Table::Gsp, i)) => f.gsp.get(i),
            None => None,
        }
        .copied()
        .unwrap_or(0)
    }

    fn write32(&mut self, _off: u32, _val: u32) {}

    fn reg_name(&self, off: u32) -> Option<&'static str> {
        let (t, i) = decode(off)?;
        match t {
            Table::Nvdec => NVDEC_NAMES.get(i),
            Table::Sec2 => SEC2_NAMES.get(i),
            Table::Gsp => GSP_NAMES.get(i),
        }
        .copied()
    }

    fn reset(&mut self) {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chip::GA102;

    #[test]
    fn read_only_profile_values() {
        let mut chip = GA102.clone();
        chip.fuses.nvdec[0] = 0x11;
        chip.fuses.sec2[2] = 0x22;
        chip.fuses.gsp[15] = 0x33;
        let mut f = Fuse::new(&chip);
        assert_eq!(f.read32(0x824100), 0x11);
        assert_eq!(f.read32(0x824148), 0x22);
        assert_eq!(f.read32(0x8241fc), 0x33);
        f.write32(0x8241fc, 0);
        f.reset();
        assert_eq!(f.read32(0x8241fc), 0x33);
        assert_eq!(
            f.reg_name(0x8241e0),
            Some("NV_FUSE_OPT_FPF_GSP_UCODE1_VERSION(8)")
        );
        assert_eq!(
            f.reg_name(0x82417c),
            Some("NV_FUSE_OPT_FPF_SEC2_UCODE1_VERSION(15)")
        );
        assert_eq!(
            f.reg_name(0x824100),
            Some("NV_FUSE_OPT_FPF_NVDEC_UCODE1_VERSION(0)")
        );
        assert_eq!(f.reg_name(0x824180), None);
        // GA102: the GSP fuse for ucode id 9 and the SEC2 fuse for ucode id 3 (Booter) read 1,
        // the others 0.
        let mut g = Fuse::new(&GA102);
        assert_eq!(g.read32(GSP_UCODE1_VERSION + 4 * 8), 1);
        assert_eq!(g.read32(GSP_UCODE1_VERSION), 0);
        assert_eq!(g.read32(SEC2_UCODE1_VERSION + 8), 1);
        assert_eq!(g.read32(SEC2_UCODE1_VERSION + 4), 0);
        assert_eq!(g.read32(NVDEC_UCODE1_VERSION + 8), 0);
    }
}
