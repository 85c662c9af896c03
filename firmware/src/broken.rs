// SPDX-License-Identifier: GPL-2.0
//! Broken variants: each breaks one documented invariant and leaves the rest intact (the PC-AT
//! image checksum is recomputed after an edit inside image 0, so it is never the thing broken).

use crate::builder::fix_pcat_checksum;
use crate::format::{npde, pcir, PROM_WINDOW};
use crate::layout::VbiosLayout;
use crate::put16;
use crate::put32;

/// One deliberate defect.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Broken {
    /// The ROM ends in the middle of the production FWSEC IMEM image; every header still
    /// claims the full length (the PROM window reads 0xFF past the end).
    Truncated,
    /// The BIT header checksum byte is wrong (the header no longer sums to zero).
    BadBitChecksum,
    /// The PCIR signature of the first FWSEC image reads "PCIX".
    BadPcirSignature,
    /// The last image's PCIR and NPDE lengths are 0xFFFF blocks (~32 MiB): past the end of the
    /// ROM and of the 1 MiB PROM window.
    ImageLengthPastEnd,
    /// The falcon data token's `FalconUcodeTablePtr` rebases to 1 MiB past the FWSEC section,
    /// outside the ROM and the PROM window.
    FalconTablePtrOutOfRange,
    /// The production FWSEC descriptor's vDesc VERSION is 5 (only 1..4 are defined).
    FwsecDescUnknownVersion,
    /// The image after the PC-AT image (EFI, or the first FWSEC image without EFI) has length
    /// 0 in both its PCIR and NPDE.
    ZeroLengthImage,
}

impl Broken {
    /// Every variant.
    pub const ALL: [Broken; 7] = [
        Broken::Truncated,
        Broken::BadBitChecksum,
        Broken::BadPcirSignature,
        Broken::ImageLengthPastEnd,
        Broken::FalconTablePtrOutOfRange,
        Broken::FwsecDescUnknownVersion,
        Broken::ZeroLengthImage,
    ];

    /// The name used on the vGPU command line (`--vbios-variant`).
    pub fn name(self) -> &'static str {
        match self {
            Broken::Truncated => "truncated",
            Broken::BadBitChecksum => "bad-bit-checksum",
            Broken::BadPcirSignature => "bad-pcir-signature",
            Broken::ImageLengthPastEnd => "image-length-past-end",
            Broken::FalconTablePtrOutOfRange => "falcon-table-out-of-range",
            Broken::FwsecDescUnknownVersion => "fwsec-desc-unknown-version",
            Broken::ZeroLengthImage => "zero-length-image",
        }
    }

    /// The variant called `name`.
    pub fn from_name(name: &str) -> Option<Broken> {
        Broken::ALL.into_iter().find(|b| b.name() == name)
    }
}

/// The vDesc VERSION written by [`Broken::FwsecDescUnknownVersion`].
pub const UNKNOWN_DESC_VERSION: u8 = 5;

pub(crate) fn apply(b: Broken, rom: &mut Vec<u8>, l: &VbiosLayout) {
    match b {
        Broken::Truncated => {
            let p = &l.fwsec_prod;
            rom.truncate(p.imem + p.imem_size / 2);
        }
        Broken::BadBitChecksum => {
            rom[l.bit + crate::format::BIT_CHECKSUM] ^= 0x5A;
        }
        Broken::BadPcirSignature => {
            if let Some(img) = l.images.iter().find(|i| i.offset == l.fwsec_section) {
                rom[img.pcir..img.pcir + 4].copy_from_slice(b"PCIX");
            }
        }
        Broken::ImageLengthPastEnd => {
            if let Some(img) = l.images.last() {
                put16(rom, img.pcir + pcir::IMAGE_LEN, 0xFFFF);
                put16(rom, img.npde + npde::SUBIMAGE_LEN, 0xFFFF);
            }
        }
        Broken::FalconTablePtrOutOfRange => {
            let ptr = u32::try_from(l.pcat_len() + PROM_WINDOW).unwrap_or(u32::MAX);
            put32(rom, l.falcon_data, ptr);
        }
        Broken::FwsecDescUnknownVersion => {
            rom[l.fwsec_prod.desc + 1] = UNKNOWN_DESC_VERSION;
        }
        Broken::ZeroLengthImage => {
            if let Some(img) = l.images.get(1) {
                put16(rom, img.pcir + pcir::IMAGE_LEN, 0);
                put16(rom, img.npde + npde::SUBIMAGE_LEN, 0);
            }
        }
    }
    fix_pcat_checksum(rom, l);
}
