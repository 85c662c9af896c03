// SPDX-License-Identifier: MIT
//! The Rust mirror must match `nova_drm.h` as a C compiler lays it out.

use core::mem::{offset_of, size_of};
use nova_uapi::*;

extern "C" {
    fn nova_c_sizeof_getparam() -> core::ffi::c_ulong;
    fn nova_c_offsetof_getparam_param() -> core::ffi::c_ulong;
    fn nova_c_offsetof_getparam_value() -> core::ffi::c_ulong;
    fn nova_c_ioctl_getparam() -> core::ffi::c_ulong;
    fn nova_c_getparam_chipset() -> core::ffi::c_ulong;
    fn nova_c_getparam_architecture() -> core::ffi::c_ulong;
    fn nova_c_getparam_revision() -> core::ffi::c_ulong;
    fn nova_c_getparam_vram_size() -> core::ffi::c_ulong;
    fn nova_c_getparam_bar1_size() -> core::ffi::c_ulong;
    fn nova_c_getparam_fw_version() -> core::ffi::c_ulong;
}

#[test]
fn getparam_layout_matches_c() {
    // SAFETY: the probe functions take no arguments and return constants.
    unsafe {
        assert_eq!(
            size_of::<DrmNovaGetparam>() as u64,
            nova_c_sizeof_getparam()
        );
        assert_eq!(
            offset_of!(DrmNovaGetparam, param) as u64,
            nova_c_offsetof_getparam_param()
        );
        assert_eq!(
            offset_of!(DrmNovaGetparam, value) as u64,
            nova_c_offsetof_getparam_value()
        );
    }
}

#[test]
fn ioctl_numbers_match_c() {
    // SAFETY: as above.
    unsafe {
        assert_eq!(u64::from(DRM_IOCTL_NOVA_GETPARAM), nova_c_ioctl_getparam());
        assert_eq!(NOVA_GETPARAM_CHIPSET, nova_c_getparam_chipset());
        assert_eq!(NOVA_GETPARAM_ARCHITECTURE, nova_c_getparam_architecture());
        assert_eq!(NOVA_GETPARAM_REVISION, nova_c_getparam_revision());
        assert_eq!(NOVA_GETPARAM_VRAM_SIZE, nova_c_getparam_vram_size());
        assert_eq!(NOVA_GETPARAM_BAR1_SIZE, nova_c_getparam_bar1_size());
        assert_eq!(NOVA_GETPARAM_FW_VERSION, nova_c_getparam_fw_version());
    }
}

#[test]
fn iowr_encoding() {
    // DRM_IOCTL_VERSION on x86-64 is 0xc0406400 (struct drm_version is 64 bytes).
    assert_eq!(iowr(DRM_IOCTL_BASE, 0, 64), 0xc040_6400);
    assert_eq!(DRM_IOCTL_NOVA_GETPARAM, 0xc010_6440);
}
