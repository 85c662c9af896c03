// SPDX-License-Identifier: GPL-2.0
//! Chip identification from `NV_PMC_BOOT_0` and `NV_PMC_BOOT_42`.
//!
//! Pure logic: this file is built into the kernel module and, unchanged, into the host crate
//! `nova-core-host` for unit tests. It must not use anything but `core`.
//!
//! Register fields (open-gpu-doc `manuals/ampere/ga100/dev_boot.ref.txt`; facts sheet §2.1):
//! - `NV_PMC_BOOT_0` (0x000000): ARCHITECTURE 28:24, IMPLEMENTATION 23:20, bit 8 the high
//!   architecture bit on chips newer than the 5-bit field, MAJOR_REVISION 7:4,
//!   MINOR_REVISION 3:0.
//! - `NV_PMC_BOOT_42` (0x000a00): ARCHITECTURE 29:24, IMPLEMENTATION 23:20, MAJOR_REVISION
//!   19:16, MINOR_REVISION 15:12. Fermi and later fill it; the chip is `arch << 4 | impl`.

/// GPU architectures this driver knows (the BOOT_42 architecture field).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Architecture {
    /// TU10x.
    Turing = 0x16,
    /// GA10x.
    Ampere = 0x17,
    /// GH100.
    Hopper = 0x18,
    /// AD10x.
    Ada = 0x19,
    /// GB10x.
    BlackwellGb10x = 0x1a,
    /// GB20x.
    BlackwellGb20x = 0x1b,
}

impl Architecture {
    /// Human-readable family name.
    pub const fn name(self) -> &'static str {
        match self {
            Architecture::Turing => "Turing",
            Architecture::Ampere => "Ampere",
            Architecture::Hopper => "Hopper",
            Architecture::Ada => "Ada",
            Architecture::BlackwellGb10x | Architecture::BlackwellGb20x => "Blackwell",
        }
    }
}

/// One known chip.
#[derive(Debug, PartialEq, Eq)]
pub struct Chip {
    /// `arch << 4 | implementation`, e.g. 0x172 for GA102.
    pub chipset: u16,
    /// Marketing-independent chip name, e.g. "GA102".
    pub name: &'static str,
    /// Its architecture.
    pub arch: Architecture,
}

const fn chip(chipset: u16, name: &'static str, arch: Architecture) -> Chip {
    Chip {
        chipset,
        name,
        arch,
    }
}

/// Every chip the driver identifies, Turing through Blackwell. Chipset numbers: nouveau's
/// `nvkm/engine/device/base.c` chip table and nova-core's `gpu.rs` (Linux 7.3).
pub const CHIPS: &[Chip] = {
    use Architecture::*;
    &[
        chip(0x162, "TU102", Turing),
        chip(0x164, "TU104", Turing),
        chip(0x166, "TU106", Turing),
        chip(0x167, "TU117", Turing),
        chip(0x168, "TU116", Turing),
        chip(0x170, "GA100", Ampere),
        chip(0x172, "GA102", Ampere),
        chip(0x173, "GA103", Ampere),
        chip(0x174, "GA104", Ampere),
        chip(0x176, "GA106", Ampere),
        chip(0x177, "GA107", Ampere),
        chip(0x180, "GH100", Hopper),
        chip(0x192, "AD102", Ada),
        chip(0x193, "AD103", Ada),
        chip(0x194, "AD104", Ada),
        chip(0x196, "AD106", Ada),
        chip(0x197, "AD107", Ada),
        chip(0x1a0, "GB100", BlackwellGb10x),
        chip(0x1a2, "GB102", BlackwellGb10x),
        chip(0x1b2, "GB202", BlackwellGb20x),
        chip(0x1b3, "GB203", BlackwellGb20x),
        chip(0x1b5, "GB205", BlackwellGb20x),
        chip(0x1b6, "GB206", BlackwellGb20x),
        chip(0x1b7, "GB207", BlackwellGb20x),
    ]
};

/// The identified GPU.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub struct Identity {
    /// Which chip.
    pub chip: &'static Chip,
    /// Silicon major revision (0xa for "A").
    pub major_rev: u8,
    /// Silicon minor revision.
    pub minor_rev: u8,
}

/// Why identification failed.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub enum IdentifyError {
    /// BOOT_0 read as all ones: the device is not answering (fell off the bus, or powered down).
    NotResponding,
    /// BOOT_0 says the chip predates Fermi, where BOOT_42 is not defined.
    PreFermi {
        /// The BOOT_0 value read.
        boot0: u32,
    },
    /// BOOT_42 names a chip not in [`CHIPS`].
    UnknownChipset {
        /// `arch << 4 | impl` as read.
        chipset: u16,
        /// The BOOT_42 value read.
        boot42: u32,
    },
}

/// BOOT_0 architecture value of GF100, the first chip with BOOT_42.
const BOOT0_ARCH_FERMI: u32 = 0x0c;

/// Identifies the chip from the raw BOOT_0 and BOOT_42 values.
pub fn identify(boot0: u32, boot42: u32) -> Result<Identity, IdentifyError> {
    if boot0 == u32::MAX {
        return Err(IdentifyError::NotResponding);
    }
    let arch0 = (boot0 >> 24) & 0x1f;
    let arch0_hi = (boot0 >> 8) & 1;
    if arch0_hi == 0 && arch0 < BOOT0_ARCH_FERMI {
        return Err(IdentifyError::PreFermi { boot0 });
    }
    let arch = (boot42 >> 24) & 0x3f;
    let implementation = (boot42 >> 20) & 0xf;
    let chipset = ((arch << 4) | implementation) as u16;
    let chip = CHIPS
        .iter()
        .find(|c| c.chipset == chipset)
        .ok_or(IdentifyError::UnknownChipset { chipset, boot42 })?;
    Ok(Identity {
        chip,
        major_rev: ((boot42 >> 16) & 0xf) as u8,
        minor_rev: ((boot42 >> 12) & 0xf) as u8,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    // GA102 A1: the values the vGPU serves (facts sheet §2.1, derived from the field layout).
    const GA102_BOOT0: u32 = 0x1720_00a1;
    const GA102_BOOT42: u32 = 0x172a_1000;

    #[test]
    fn ga102() {
        let id = identify(GA102_BOOT0, GA102_BOOT42).unwrap();
        assert_eq!(id.chip.name, "GA102");
        assert_eq!(id.chip.arch, Architecture::Ampere);
        assert_eq!(id.chip.arch.name(), "Ampere");
        assert_eq!((id.major_rev, id.minor_rev), (0xa, 0x1));
    }

    #[test]
    fn every_table_entry_round_trips() {
        for c in CHIPS {
            let boot42 = (u32::from(c.chipset) << 20) | 0x000a_1000;
            let id = identify(GA102_BOOT0, boot42).unwrap();
            assert_eq!(id.chip, c);
            // The table's architecture agrees with the chipset's high bits.
            assert_eq!(c.arch as u16, c.chipset >> 4);
        }
    }

    #[test]
    fn table_has_no_duplicates() {
        for (i, a) in CHIPS.iter().enumerate() {
            for b in &CHIPS[i + 1..] {
                assert_ne!(a.chipset, b.chipset);
                assert_ne!(a.name, b.name);
            }
        }
    }

    #[test]
    fn failures() {
        assert_eq!(
            identify(u32::MAX, GA102_BOOT42),
            Err(IdentifyError::NotResponding)
        );
        // NV50-era BOOT_0: architecture 0x5, high bit clear.
        assert_eq!(
            identify(0x0500_00a1, 0),
            Err(IdentifyError::PreFermi { boot0: 0x0500_00a1 })
        );
        // An architecture nobody has made (0x3f).
        assert_eq!(
            identify(GA102_BOOT0, 0x3f00_0000),
            Err(IdentifyError::UnknownChipset {
                chipset: 0x3f0,
                boot42: 0x3f00_0000
            })
        );
        // GA101 does not exist.
        assert!(matches!(
            identify(GA102_BOOT0, 0x171a_1000),
            Err(IdentifyError::UnknownChipset { chipset: 0x171, .. })
        ));
    }
}
