// SPDX-License-Identifier: GPL-2.0
//! A synthetic but correctly structured GA102 VBIOS image, as the vGPU serves it through the PROM
//! window (BAR0 0x300000, docs/facts/ga102.md §4.1), plus deliberately broken variants for tests.
//!
//! The image follows the formats in `docs/facts/ga102.md` §4 (cross-checked against
//! open-gpu-doc's BIOS Information Table specification and NVIDIA's published structure
//! definitions; [`format`] cites each number):
//!
//! - PCI expansion ROM images in sequence, each with the 0xAA55 header, a PCIR and an NPDE, its
//!   length in 512-byte units, 512-byte aligned: PC-AT (code type 0x00), optionally EFI (0x03),
//!   then two FWSEC images (0xE0), as on a GA102 board.
//! - The BIT in the PC-AT image (header checksum set), with a BIOSDATA token 'B' (its "BIOS
//!   Checksum" byte makes the PC-AT image sum to zero), a NOP token and the falcon data token
//!   'p' holding `FalconUcodeTablePtr`.
//! - The falcon ucode table (v1) in the last FWSEC image with two entries, debug FWSEC (0x45)
//!   first and production FWSEC (0x85) second, each pointing to a `FalconUCodeDescV3`
//!   followed by its signatures, IMEM image and DMEM image.
//! - In each DMEM: the application-interface table at InterfaceOffset with a DEVINIT and a
//!   DMEMMAPPER entry, and the DMEM mapper v3 with its command buffers, so a driver can patch
//!   the FRTS command the documented way.
//!
//! Pointer rebasing (docs/facts/ga102.md §4.3), as this image lays it out: the table and descriptor pointers
//! count bytes as if the FWSEC section (the first FWSEC image onward) followed the PC-AT image
//! directly; the EFI image in between is not counted. See [`VbiosLayout::rebase`].
//!
//! Code, data and signature bytes are deterministic pseudo-random with recognisable heads
//! (`NOVA-VGPU-IMEM-P`, `NOVA-VGPU-DMEM-P`, `NVSIG`); there is no real FWSEC binary.

mod broken;
mod builder;
pub mod format;
mod layout;
mod prng;
mod ucode;

pub use broken::{Broken, UNKNOWN_DESC_VERSION};
pub use builder::{build, Config};
pub use layout::{FwsecLayout, ImageLayout, VbiosLayout};

pub(crate) fn put16(b: &mut [u8], o: usize, v: u16) {
    b[o..o + 2].copy_from_slice(&v.to_le_bytes());
}

pub(crate) fn put32(b: &mut [u8], o: usize, v: u32) {
    b[o..o + 4].copy_from_slice(&v.to_le_bytes());
}

/// The GA102 (RTX 3090, device 0x2204) VBIOS image with an EFI image. Deterministic.
pub fn build_ga102_vbios() -> Vec<u8> {
    build(&Config::default()).0
}

/// [`build_ga102_vbios`] and where everything landed.
pub fn build_ga102_vbios_with_layout() -> (Vec<u8>, VbiosLayout) {
    build(&Config::default())
}

/// The GA102 image with defect `broken`, and the layout of the intact image it was made from.
pub fn build_broken(broken: Broken) -> (Vec<u8>, VbiosLayout) {
    build(&Config {
        broken: Some(broken),
        ..Config::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rebase_round_trips() {
        let (_, l) = build_ga102_vbios_with_layout();
        let p = l.pointer_to(l.falcon_table).unwrap();
        assert_eq!(p, l.falcon_table_ptr);
        assert_eq!(l.rebase(p), Some(l.falcon_table));
        assert_eq!(l.rebase(0), None);
    }

    #[test]
    fn every_variant_builds_with_and_without_efi() {
        for efi in [true, false] {
            for b in Broken::ALL {
                let (rom, l) = build(&Config {
                    efi,
                    broken: Some(b),
                    ..Config::default()
                });
                assert!(rom.len() <= l.len && l.len <= format::PROM_WINDOW, "{b:?}");
            }
        }
    }

    #[test]
    fn broken_names_round_trip() {
        for b in Broken::ALL {
            assert_eq!(Broken::from_name(b.name()), Some(b));
        }
        assert_eq!(Broken::from_name("fine"), None);
    }

    #[test]
    fn patched_ucode_carries_the_signature() {
        let (rom, l) = build_ga102_vbios_with_layout();
        let p = &l.fwsec_prod;
        let u = p.patched_ucode(&rom, 2).unwrap();
        let at = p.signature_patch_offset();
        assert_eq!(&u[at..at + 384], &rom[p.signature_range(2).unwrap()]);
        assert_eq!(u.len(), p.imem_size + p.dmem_size);
        assert!(p.patched_ucode(&rom, 3).is_none());
        assert!(p.patched_ucode(&rom[..p.imem], 0).is_none());
    }
}
