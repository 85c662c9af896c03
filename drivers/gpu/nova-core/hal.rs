// SPDX-License-Identifier: GPL-2.0
//! What differs per chip in bringing GSP-RM up: the firmware files (docs/facts/ga102.md §6.1 names them for
//! GA102; the same four files exist per chip directory in linux-firmware), which signature
//! section of the GSP ELF the chip's Booter checks (docs/facts/ga102.md §6.6), and whether the path has run
//! on hardware we test on. Everything else in the boot (falcon bases, FWSEC, WPR2 layout,
//! queues) is common to Turing, Ampere and Ada as implemented here.

use kernel::prelude::*;

use crate::firmware::gsp::SignatureFamily;

/// Whether a chip's GSP boot has been run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BootStatus {
    /// Boots on the vGPU's profile of this chip in the VM tests.
    Tested,
    /// Described here but never run: probe stops after identification rather than drive an
    /// untested sequence on real hardware.
    NotBroughtUp,
}

/// The GSP boot description of one chip.
pub(crate) struct GspHal {
    /// `arch << 4 | implementation`.
    pub(crate) chipset: u16,
    /// `gsp-570.144.bin`.
    pub(crate) gsp: &'static CStr,
    /// `bootloader-570.144.bin`.
    pub(crate) bootloader: &'static CStr,
    /// `booter_load-570.144.bin`.
    pub(crate) booter_load: &'static CStr,
    /// `booter_unload-570.144.bin`.
    pub(crate) booter_unload: &'static CStr,
    /// The `.fwsignature_*` section Booter verifies.
    pub(crate) signature: SignatureFamily,
    /// Whether the boot has been brought up.
    pub(crate) status: BootStatus,
    /// The engine classes userspace programs against on this chip.
    pub(crate) classes: EngineClasses,
}

/// Engine class numbers of one chip (0 = not known to the driver).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EngineClasses {
    /// Host channel (GPFIFO).
    pub channel: u32,
    /// Copy engine.
    pub copy: u32,
    /// 2D.
    pub twod: u32,
    /// 3D.
    pub threed: u32,
    /// Compute.
    pub compute: u32,
}

/// GA102's classes (docs/facts/ga102.md §10.1: AMPERE_CHANNEL_GPFIFO_A, AMPERE_DMA_COPY_B, FERMI_TWOD_A,
/// AMPERE_B, AMPERE_COMPUTE_B). The other chips' classes were not checked against a source
/// and are left unknown.
const GA102_CLASSES: EngineClasses = EngineClasses {
    channel: 0xc56f,
    copy: 0xc7b5,
    twod: 0x902d,
    threed: 0xc797,
    compute: 0xc7c0,
};

/// Classes not known to the driver.
const UNKNOWN_CLASSES: EngineClasses = EngineClasses {
    channel: 0,
    copy: 0,
    twod: 0,
    threed: 0,
    compute: 0,
};

macro_rules! gsp_hal {
    ($chipset:expr, $dir:literal, $sig:expr, $status:expr, $classes:expr) => {
        GspHal {
            chipset: $chipset,
            gsp: kernel::c_str!(concat!("nvidia/", $dir, "/gsp/gsp-570.144.bin")),
            bootloader: kernel::c_str!(concat!("nvidia/", $dir, "/gsp/bootloader-570.144.bin")),
            booter_load: kernel::c_str!(concat!("nvidia/", $dir, "/gsp/booter_load-570.144.bin")),
            booter_unload: kernel::c_str!(concat!(
                "nvidia/",
                $dir,
                "/gsp/booter_unload-570.144.bin"
            )),
            signature: $sig,
            status: $status,
            classes: $classes,
        }
    };
}

/// One entry per chip with a GSP boot description. Chipsets: docs/facts/ga102.md §2.1 (GA102 0x172); TU102
/// 0x162 and AD102 0x192 from the same arch << 4 | impl rule (architectures 0x16 and 0x19).
static TABLE: [GspHal; 3] = [
    gsp_hal!(
        0x162,
        "tu102",
        SignatureFamily::Tu10x,
        BootStatus::NotBroughtUp,
        UNKNOWN_CLASSES
    ),
    gsp_hal!(
        0x172,
        "ga102",
        SignatureFamily::Ga10x,
        BootStatus::Tested,
        GA102_CLASSES
    ),
    gsp_hal!(
        0x192,
        "ad102",
        SignatureFamily::Ad10x,
        BootStatus::NotBroughtUp,
        UNKNOWN_CLASSES
    ),
];

/// The GSP boot description of `chipset`, if there is one.
pub(crate) fn for_chipset(chipset: u16) -> Option<&'static GspHal> {
    TABLE.iter().find(|h| h.chipset == chipset)
}
