// SPDX-License-Identifier: GPL-2.0
//! nova-drm: the DRM driver of nova. It binds to the auxiliary device that nova-core registers
//! for each GPU and exposes a render node with the nova uAPI (`uapi/nova_drm.h`).

pub mod args;
mod ctx;
mod driver;
mod file;
mod gem;
mod ioctl;
mod vm;

/// The uAPI types, shared with userspace (`uapi/src/nova_drm.rs`).
#[path = "../../../uapi/src/nova_drm.rs"]
pub mod uapi;

kernel::module_auxiliary_driver! {
    type: driver::NovaDrmDriver,
    name: "nova_drm",
    authors: ["The nova developers"],
    description: "nova DRM driver for NVIDIA GPUs",
    license: "GPL v2",
}
