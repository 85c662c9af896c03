// SPDX-License-Identifier: GPL-2.0
//! Chip profiles: the identity a vGPU instance presents.

/// Everything that differs between the chips the vGPU can pretend to be.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChipProfile {
    /// Short name used on the command line (`--chip`).
    pub name: &'static str,
    /// PCI device ID.
    pub device_id: u16,
    /// PCI subsystem vendor and device.
    pub subsystem: (u16, u16),
    /// PCI revision ID.
    pub revision: u8,
    /// PCI class code (class, subclass, prog-if) as the 24-bit value at config 0x09.
    pub class_code: u32,
    /// `NV_PMC_BOOT_0` (BAR0 0x000000).
    pub boot0: u32,
    /// `NV_PMC_BOOT_42` (BAR0 0x000a00).
    pub boot42: u32,
    /// BAR1 (VRAM aperture) size in bytes.
    pub bar1_size: u64,
    /// Linux BAR3 (NVIDIA "BAR2", instance memory aperture) size in bytes.
    pub bar3_size: u64,
    /// Usable VRAM in bytes, as `NV_USABLE_FB_SIZE_IN_MB` reports it (BAR0 0x1183A4, in MiB).
    pub vram_size: u64,
    /// The HS-ucode revision fuses (`NV_FUSE_OPT_FPF_*_UCODE1_VERSION(i)`, docs/facts/ga102.md §5.3).
    pub fuses: UcodeFuses,
    /// The ELF section of `gsp-570.144.bin` holding this chip's GSP-RM signature (docs/facts/ga102.md §6.6).
    pub gsp_signature_section: &'static str,
    /// The marketing name GSP-RM reports (`GspStaticConfigInfo.gpuNameString`).
    pub gpu_name: &'static str,
    /// The chip name GSP-RM reports (`gpuShortNameString`).
    pub gpu_short_name: &'static str,
    /// Whether the GSP boot is modelled for this chip: the `vgpu` binary then loads the GSP
    /// firmware files at start-up and SEC2 knows the Booter images. Profiles without it
    /// identify as their chip and nothing more (README "Chip profiles").
    pub boots_gsp: bool,
}

/// The fuse registers that hold the current HS-ucode revision of each engine, one per ucode id
/// 1..16 (index = ucode id - 1; docs/facts/ga102.md §5.3). The boot ROM model picks the FWSEC signature from
/// them (docs/facts/ga102.md §5.5).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UcodeFuses {
    /// `NV_FUSE_OPT_FPF_NVDEC_UCODE1_VERSION(i)`, BAR0 0x824100 + 4i.
    pub nvdec: [u32; 16],
    /// `NV_FUSE_OPT_FPF_SEC2_UCODE1_VERSION(i)`, BAR0 0x824140 + 4i.
    pub sec2: [u32; 16],
    /// `NV_FUSE_OPT_FPF_GSP_UCODE1_VERSION(i)`, BAR0 0x8241C0 + 4i.
    pub gsp: [u32; 16],
}

/// GA102's fuses: all 0 except two that read 1. No board value is in the facts; both are
/// chosen so that only a driver that applies the fuse rule of docs/facts/ga102.md §5.5 picks the signature
/// the boot ROM accepts:
/// - the GSP's for ucode id 9 (the VBIOS FWSEC's UcodeId in `nova-firmware`): v = 1 with
///   SignatureVersions 0xB selects signature 1 of 3, neither the first nor the last;
/// - SEC2's for ucode id 3 (Booter load and unload: engine_id 0x1, ucode_id 3, fuse_ver 1,
///   docs/facts/ga102.md §6.3), `NV_FUSE_OPT_FPF_SEC2_UCODE1_VERSION(2)` at 0x824148: v = 1, index =
///   fuse_ver - v = 0, the first of 2. In every GA10x Booter file signature 1 is all zeros;
///   a fuse of 0 would select it ("reg = 0 → last"), and a driver that always takes the last
///   signature would load zeros, which the boot ROM model refuses.
pub const GA102_FUSES: UcodeFuses = {
    let mut gsp = [0; 16];
    gsp[8] = 1;
    let mut sec2 = [0; 16];
    sec2[2] = 1;
    UcodeFuses {
        nvdec: [0; 16],
        sec2,
        gsp,
    }
};

/// BAR0, the register window: 16 MiB on every chip here (facts sheet §1.3, `NV_XVE_BAR0`).
pub const BAR0_SIZE: u64 = 16 << 20;
/// BAR5 (NVIDIA `NV_XVE_BAR3`, I/O space) size: 128 bytes (docs/facts/ga102.md §1.3; OD
/// `ampere/ga100/dev_bus.ref.txt` L29 `NV_IOBAR` 0x7F:0x00).
pub const BAR5_SIZE: u64 = 128;

/// GA102 as on a GeForce RTX 3090.
///
/// - device 0x2204, subsystem 10de:147d (Founders Edition), revision 0xa1: pci.ids; lspci of an
///   RTX 3090 (docs/facts/ga102.md §1.1, §1.2).
/// - class 0x030000 (VGA): `NV_XVE_REV_ID_CLASS_CODE` reset value (docs/facts/ga102.md §1.1).
/// - BOOT_0 0x172000a1 and BOOT_42 0x172a1000: arithmetic from the open-gpu-doc field layouts
///   (architecture 0x17, implementation 2, revision A1); no dump of a 3090 was available (facts
///   §2.1 and §13 items 1-2).
/// - BAR1 256 MiB (`NV_XVE_RESIZE_BAR1_CTRL` reset size), BAR3 32 MiB (docs/facts/ga102.md §1.3).
/// - VRAM 24 GiB, the RTX 3090's, i.e. `NV_USABLE_FB_SIZE_IN_MB` = 24576 = 0x6000 (docs/facts/ga102.md §3
///   "VRAM size (GA102)"; the value is arithmetic, docs/facts/ga102.md §13 item 18).
/// - HS-ucode fuses: [`GA102_FUSES`] (a model choice).
/// - GSP-RM signature section `.fwsignature_ga10x` (docs/facts/ga102.md §6.6: the one used for GA102).
/// - Names GSP-RM reports: "NVIDIA GeForce RTX 3090" (pci.ids: 0x2204 is "GA102 [GeForce RTX
///   3090]", docs/facts/ga102.md §1.1, with NVIDIA's vendor prefix: model choice) and "GA102".
pub const GA102: ChipProfile = ChipProfile {
    name: "ga102",
    device_id: 0x2204,
    subsystem: (0x10de, 0x147d),
    revision: 0xa1,
    class_code: 0x03_00_00,
    boot0: 0x1720_00a1,
    boot42: 0x172a_1000,
    bar1_size: 256 << 20,
    bar3_size: 32 << 20,
    vram_size: 24 << 30,
    fuses: GA102_FUSES,
    gsp_signature_section: ".fwsignature_ga10x",
    gpu_name: "NVIDIA GeForce RTX 3090",
    gpu_short_name: "GA102",
    boots_gsp: true,
};

/// TU102 as on a GeForce RTX 2080 Ti, identity only (no GSP boot).
///
/// - device 0x1E04: OG 570.144 `README.md` L200 ("NVIDIA GeForce RTX 2080 Ti | 1E04"; TITAN
///   RTX 0x1E02 L199, 2080 Ti 0x1E07 L201).
/// - BOOT_0 0x162000a1, BOOT_42 0x162a1000: chipset 0x162 = TU102 (nouveau
///   `engine/device/base.c` L2338-2339, L3340; architecture 0x16 = Turing, docs/facts/ga102.md §2.1) in the
///   field layouts of docs/facts/ga102.md §2.1, revision A1 as GA102's; arithmetic, not a board dump.
/// - Model choices (no source available here): revision 0xa1, subsystem 10de:0000, BAR sizes
///   as GA102, VRAM 11 GiB (the 2080 Ti's capacity), fuses all 0, the GA102 signature section
///   name (unused: no firmware is loaded).
pub const TU102: ChipProfile = ChipProfile {
    name: "tu102",
    device_id: 0x1e04,
    subsystem: (0x10de, 0x0000),
    revision: 0xa1,
    class_code: 0x03_00_00,
    boot0: 0x1620_00a1,
    boot42: 0x162a_1000,
    bar1_size: 256 << 20,
    bar3_size: 32 << 20,
    vram_size: 11 << 30,
    fuses: UcodeFuses {
        nvdec: [0; 16],
        sec2: [0; 16],
        gsp: [0; 16],
    },
    gsp_signature_section: ".fwsignature_ga10x",
    gpu_name: "NVIDIA GeForce RTX 2080 Ti",
    gpu_short_name: "TU102",
    boots_gsp: false,
};

/// AD102 as on a GeForce RTX 4090, identity only (no GSP boot).
///
/// - device 0x2684: OG 570.144 `README.md` L864 ("NVIDIA GeForce RTX 4090 | 2684").
/// - BOOT_0 0x192000a1, BOOT_42 0x192a1000: chipset 0x192 = AD102 (nouveau
///   `engine/device/base.c` L2703-2704, L3352; architecture 0x19 = Ada, docs/facts/ga102.md §2.1), revision
///   A1; arithmetic, not a board dump.
/// - Model choices: revision 0xa1, subsystem 10de:0000, BAR sizes as GA102, VRAM 24 GiB (the
///   4090's capacity), fuses all 0; `.fwsignature_ad10x` is the section of `gsp-570.144.bin`
///   named for Ada (unused: no firmware is loaded).
pub const AD102: ChipProfile = ChipProfile {
    name: "ad102",
    device_id: 0x2684,
    subsystem: (0x10de, 0x0000),
    revision: 0xa1,
    class_code: 0x03_00_00,
    boot0: 0x1920_00a1,
    boot42: 0x192a_1000,
    bar1_size: 256 << 20,
    bar3_size: 32 << 20,
    vram_size: 24 << 30,
    fuses: UcodeFuses {
        nvdec: [0; 16],
        sec2: [0; 16],
        gsp: [0; 16],
    },
    gsp_signature_section: ".fwsignature_ad10x",
    gpu_name: "NVIDIA GeForce RTX 4090",
    gpu_short_name: "AD102",
    boots_gsp: false,
};

/// All profiles, for `--chip`.
pub const PROFILES: &[&ChipProfile] = &[&GA102, &TU102, &AD102];

/// Finds a profile by name.
pub fn by_name(name: &str) -> Option<&'static ChipProfile> {
    PROFILES.iter().copied().find(|p| p.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ga102_identity_fields_agree() {
        // BOOT_42: architecture 28:24, implementation 23:20, major 19:16, minor 15:12.
        let b42 = GA102.boot42;
        assert_eq!((b42 >> 24) & 0x1f, 0x17);
        assert_eq!((b42 >> 20) & 0xf, 0x2);
        assert_eq!((b42 >> 16) & 0xf, 0xa);
        assert_eq!((b42 >> 12) & 0xf, 0x1);
        // BOOT_0 carries the same chip in 28:20 and the revision in 7:0.
        assert_eq!((GA102.boot0 >> 20) & 0x1ff, (b42 >> 20) & 0x1ff);
        assert_eq!(GA102.boot0 & 0xff, u32::from(GA102.revision));
    }

    #[test]
    fn every_profile_decodes_to_its_chipset() {
        for (p, chipset, device) in [
            (&GA102, 0x172, 0x2204),
            (&TU102, 0x162, 0x1e04),
            (&AD102, 0x192, 0x2684),
        ] {
            // nova-core's rule (docs/facts/ga102.md §2.1): chipset = BOOT_42[29:24] << 4 | BOOT_42[23:20].
            assert_eq!(
                (p.boot42 >> 24 & 0x3f) << 4 | (p.boot42 >> 20 & 0xf),
                chipset
            );
            // nouveau's rule: BOOT_0[28:20], revision BOOT_0[7:0].
            assert_eq!(p.boot0 >> 20 & 0x1ff, chipset, "{}", p.name);
            assert_eq!(p.boot0 & 0xff, u32::from(p.revision));
            // Pre-Fermi check of nova-core: bit 8 or architecture >= 0xC.
            assert!(p.boot0 >> 24 & 0x1f >= 0xc);
            assert_eq!(p.device_id, device);
            assert_eq!(p.gpu_short_name.to_lowercase(), p.name);
        }
        let boots: Vec<bool> = PROFILES.iter().map(|p| p.boots_gsp).collect();
        assert_eq!(boots, [true, false, false], "only GA102 boots GSP");
    }

    #[test]
    fn lookup() {
        assert_eq!(by_name("ga102"), Some(&GA102));
        assert_eq!(by_name("tu102"), Some(&TU102));
        assert_eq!(by_name("ad102"), Some(&AD102));
        assert_eq!(by_name("gb999"), None);
    }
}
