// SPDX-License-Identifier: GPL-2.0
//! nova-drm: the DRM driver of nova. It binds to the auxiliary device that nova-core registers
//! for each GPU and exposes a render node with the nova uAPI (`uapi/nova_drm.h`).

use kernel::{auxiliary, debugfs, driver::Registration, prelude::*, InPlaceModule};

mod args;
mod driver;
mod file;
mod gem;
mod ioctl;
mod link;
mod vm;

/// The uAPI types, shared with userspace (`uapi/src/nova_drm.rs`).
#[path = "../../../uapi/src/nova_drm.rs"]
pub mod uapi;

/// `/sys/kernel/debug/nova-drm`, parent of one directory per device. Set in module init before
/// the driver is registered and cleared after it is unregistered, so probe always sees it set.
static mut DEBUGFS_ROOT: Option<debugfs::Dir> = None;

/// The debugfs root, for probe.
pub(crate) fn debugfs_root() -> Option<&'static debugfs::Dir> {
    // SAFETY: `DEBUGFS_ROOT` is written only in `NovaDrmModule::init` before the driver is
    // registered and in `DebugfsRoot::drop` after it is unregistered; probe, the only reader,
    // runs in between, so no write races with this read and the reference stays valid while
    // the driver is registered.
    unsafe { (*(&raw const DEBUGFS_ROOT)).as_ref() }
}

/// Clears [`DEBUGFS_ROOT`] (removing the directory) when the module goes.
struct DebugfsRoot;

impl Drop for DebugfsRoot {
    fn drop(&mut self) {
        // SAFETY: dropped after `_driver` (field order): the driver is unregistered, so no probe
        // can be reading the root.
        unsafe { *(&raw mut DEBUGFS_ROOT) = None };
    }
}

/// The module: the debugfs root and the auxiliary driver.
#[pin_data]
struct NovaDrmModule {
    #[pin]
    _driver: Registration<auxiliary::Adapter<driver::NovaDrmDriver>>,
    _debugfs: DebugfsRoot,
}

impl InPlaceModule for NovaDrmModule {
    fn init(module: &'static kernel::ThisModule) -> impl PinInit<Self, Error> {
        // SAFETY: module init runs before the driver is registered: nothing else accesses
        // `DEBUGFS_ROOT` yet.
        unsafe { *(&raw mut DEBUGFS_ROOT) = Some(debugfs::Dir::new(c"nova-drm")) };
        // `_debugfs` first: if registering the driver fails, dropping it clears the root.
        try_pin_init!(Self {
            _debugfs: DebugfsRoot,
            _driver <- Registration::new(<Self as kernel::ModuleMetadata>::NAME, module),
        })
    }
}

module! {
    type: NovaDrmModule,
    name: "nova_drm",
    authors: ["The nova developers"],
    description: "nova DRM driver for NVIDIA GPUs",
    license: "GPL v2",
}
