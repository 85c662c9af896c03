// SPDX-License-Identifier: GPL-2.0
//! The ioctl table and handlers.
//!
//! The kernel's `declare_drm_ioctls!` only accepts types from the in-tree uAPI headers, so the
//! table is built here by [`nova_ioctl!`] from the shared mirror in `uapi/src/nova_drm.rs`. Each
//! entry gets a trampoline that checks the device is still registered, turns the raw pointers
//! into references and calls a safe handler.

use core::ffi::{c_int, c_void};

use kernel::{
    drm::{self, ioctl::internal},
    prelude::*,
};

use crate::{
    driver::{NovaDevice, NovaDrmDriver},
    file::File,
    uapi,
};

/// A handler: the registered device, the copied-in argument, the calling file.
type Handler<T> = fn(&NovaDevice<drm::Registered>, &mut T, &drm::File<File>) -> Result<u32>;

/// Builds one `drm_ioctl_desc`. The uAPI struct's size is checked against the ioctl number at
/// compile time, so the trampoline's cast is always to the type the DRM core copied in.
macro_rules! nova_ioctl {
    ($cmd:expr, $ty:ty, $flags:expr, $handler:expr, $name:literal) => {{
        const _: () = assert!(drm::ioctl::IOWR::<$ty>(($cmd & 0xff) as u32) == $cmd);

        /// The C entry point of this ioctl.
        ///
        /// # Safety
        ///
        /// Only the DRM core may call it, from `drm_ioctl()`, with the device, argument buffer
        /// and file of an ioctl on a nova device.
        unsafe extern "C" fn trampoline(
            raw_dev: *mut internal::drm_device,
            raw_data: *mut c_void,
            raw_file: *mut internal::drm_file,
        ) -> c_int {
            // SAFETY: the DRM core calls ioctl handlers with a device of this driver (the table
            // is only reachable through `NovaDrmDriver::IOCTLS`) that it keeps alive for the call.
            let dev = unsafe { drm::Device::<NovaDrmDriver, drm::Ioctl>::from_raw(raw_dev) };
            let Some(guard) = dev.registration_guard() else {
                return ENODEV.to_errno();
            };
            // SAFETY: `drm_ioctl()` copied `_IOC_SIZE(cmd)` bytes into a kernel buffer that is
            // ours alone for this call; the size equals `size_of::<$ty>()` (asserted above), the
            // buffer is suitably aligned for any uAPI struct, and every bit pattern is a valid
            // uAPI struct (integers only).
            let data = unsafe { &mut *raw_data.cast::<$ty>() };
            // SAFETY: `raw_file` is an open file of this device, created by `File::open`.
            let file = unsafe { drm::File::<File>::from_raw(raw_file) };
            let handler: Handler<$ty> = $handler;
            match handler(&guard, data, file) {
                Ok(v) => v as c_int,
                Err(e) => e.to_errno(),
            }
        }

        internal::drm_ioctl_desc {
            cmd: $cmd,
            flags: $flags,
            func: Some(trampoline),
            name: kernel::str::as_char_ptr_in_const_context($name),
        }
    }};
}

/// The table, indexed by ioctl number minus `DRM_COMMAND_BASE` (the DRM core's rule).
pub(crate) const IOCTLS: &[drm::ioctl::DrmIoctlDescriptor] = &[nova_ioctl!(
    uapi::DRM_IOCTL_NOVA_GETPARAM,
    uapi::DrmNovaGetparam,
    drm::ioctl::RENDER_ALLOW,
    getparam,
    c"NOVA_GETPARAM"
)];

/// `DRM_IOCTL_NOVA_GETPARAM`.
fn getparam(
    dev: &NovaDevice<drm::Registered>,
    args: &mut uapi::DrmNovaGetparam,
    _file: &drm::File<File>,
) -> Result<u32> {
    let gpu = &dev.gpu;
    args.value = match args.param {
        uapi::NOVA_GETPARAM_CHIPSET => u64::from(gpu.chipset),
        uapi::NOVA_GETPARAM_ARCHITECTURE => u64::from(gpu.architecture),
        uapi::NOVA_GETPARAM_REVISION => u64::from((gpu.major_rev << 4) | gpu.minor_rev),
        uapi::NOVA_GETPARAM_VRAM_SIZE => gpu.vram_size,
        uapi::NOVA_GETPARAM_BAR1_SIZE => gpu.bar1_size,
        uapi::NOVA_GETPARAM_FW_VERSION => gpu.fw_version,
        _ => return Err(EINVAL),
    };
    Ok(0)
}
