// SPDX-License-Identifier: GPL-2.0
//! What nova-core hands to nova-drm with the auxiliary device.
//!
//! Plain data, copied by nova-drm at probe (through [`crate::link::GpuLink::info`]): nothing
//! in it points into nova-core, so it may outlive the binding.

use crate::{chip::Identity, hal::EngineClasses};

/// Name of the auxiliary device nova-core registers for nova-drm (`nova_core.nova-drm.<id>`).
pub const AUXILIARY_NAME: &core::ffi::CStr = c"nova-drm";

/// The GPU as nova-core identified it.
#[derive(Clone, Copy, Debug)]
pub struct DrmHandoff {
    /// `arch << 4 | implementation`, e.g. 0x172.
    pub chipset: u16,
    /// BOOT_42 architecture, e.g. 0x17 for Ampere.
    pub architecture: u8,
    /// Major silicon revision.
    pub major_rev: u8,
    /// Minor silicon revision.
    pub minor_rev: u8,
    /// Chip name, NUL-padded ASCII (e.g. "GA102").
    pub name: [u8; 8],
    /// Usable VRAM in bytes.
    pub vram_size: u64,
    /// BAR1 aperture size in bytes.
    pub bar1_size: u64,
    /// GSP-RM version as `(major << 32) | minor`, 0 when GSP-RM was not booted.
    pub fw_version: u64,
    /// Engine classes (0 where unknown).
    pub classes: EngineClasses,
}

impl DrmHandoff {
    /// Builds the handoff from nova-core's identification.
    pub fn new(
        id: &Identity,
        vram_size: u64,
        bar1_size: u64,
        fw_version: u64,
        classes: EngineClasses,
    ) -> Self {
        let mut name = [0u8; 8];
        for (d, s) in name.iter_mut().zip(id.chip.name.bytes()) {
            *d = s;
        }
        DrmHandoff {
            chipset: id.chip.chipset,
            architecture: id.chip.arch as u8,
            major_rev: id.major_rev,
            minor_rev: id.minor_rev,
            name,
            vram_size,
            bar1_size,
            fw_version,
            classes,
        }
    }
}
