// SPDX-License-Identifier: MIT
//! Rust mirror of `uapi/nova_drm.h`, the nova DRM userspace interface.
//!
//! This file is shared: the kernel module nova-drm includes it as a module and the host crate
//! `nova-uapi` exports it. It uses nothing but `core`. Layouts must match the C header exactly;
//! `uapi/tests/layout.rs` checks them against a C compiler's view.

/// `DRM_COMMAND_BASE`: first driver-private ioctl number (include/uapi/drm/drm.h).
pub const DRM_COMMAND_BASE: u32 = 0x40;
/// `DRM_IOCTL_BASE`: the DRM ioctl type character 'd'.
pub const DRM_IOCTL_BASE: u32 = b'd' as u32;

/// `_IOWR` on Linux (asm-generic/ioctl.h): dir 31:30 (read=2, write=1), size 29:16, type 15:8,
/// number 7:0.
pub const fn iowr(ty: u32, nr: u32, size: usize) -> u32 {
    (3 << 30) | ((size as u32 & 0x3fff) << 16) | (ty << 8) | nr
}

/// `DRM_NOVA_GETPARAM`.
pub const DRM_NOVA_GETPARAM: u32 = 0x00;

/// `NOVA_GETPARAM_CHIPSET`: `(architecture << 4) | implementation`, 0x172 for GA102.
pub const NOVA_GETPARAM_CHIPSET: u64 = 0;
/// `NOVA_GETPARAM_ARCHITECTURE`: 0x16 Turing, 0x17 Ampere, 0x19 Ada, ...
pub const NOVA_GETPARAM_ARCHITECTURE: u64 = 1;
/// `NOVA_GETPARAM_REVISION`: `(major << 4) | minor`, 0xa1 for A1.
pub const NOVA_GETPARAM_REVISION: u64 = 2;
/// `NOVA_GETPARAM_VRAM_SIZE`: usable VRAM in bytes.
pub const NOVA_GETPARAM_VRAM_SIZE: u64 = 3;
/// `NOVA_GETPARAM_BAR1_SIZE`: size of the BAR1 aperture in bytes.
pub const NOVA_GETPARAM_BAR1_SIZE: u64 = 4;
/// `NOVA_GETPARAM_FW_VERSION`: GSP-RM version, `(major << 32) | minor`; 0 if GSP-RM is not booted.
pub const NOVA_GETPARAM_FW_VERSION: u64 = 5;

/// `struct drm_nova_getparam`: query one device parameter.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DrmNovaGetparam {
    /// In: one of `NOVA_GETPARAM_*`; unknown values fail with `EINVAL`.
    pub param: u64,
    /// Out: the value.
    pub value: u64,
}

/// `DRM_IOCTL_NOVA_GETPARAM`.
pub const DRM_IOCTL_NOVA_GETPARAM: u32 = iowr(
    DRM_IOCTL_BASE,
    DRM_COMMAND_BASE + DRM_NOVA_GETPARAM,
    core::mem::size_of::<DrmNovaGetparam>(),
);
