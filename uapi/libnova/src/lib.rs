// SPDX-License-Identifier: MIT
//! libnova: safe Rust over the nova DRM uAPI (`uapi/nova_drm.h`).
//!
//! ```no_run
//! use libnova::{Bo, Device, Op, Placement, Vm};
//! let dev = Device::open()?;
//! let info = dev.info()?;
//! let bo = Bo::new(&dev, 2 << 20, Placement::Vram, 2 << 20)?;
//! bo.map()?.as_mut_slice().fill(0xa5);
//! let vm = Vm::new(&dev)?;
//! vm.bind(&[Op::map_all(&bo, info.va_start)])?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! - [`Device`]: an open render node (`open()` finds the first nova one), GETPARAM, [`Info`].
//! - [`Bo`]: GEM objects; [`Mapping`] (munmap on drop); PRIME export/import.
//! - [`Vm`]: VM create/destroy, [`Vm::bind`] with [`Op`]s.
//! - [`Context`]: execution contexts (a channel on an [`Engine`] in a VM), [`Context::exec`],
//!   [`Context::query`].
//! - [`Syncobj`]: DRM sync objects, binary and timeline; [`SyncFile`] for a fence's status.
//! - [`Push`]: push-buffer building (method headers, host semaphores, copy engine, 2D).
//! - [`raw`]: every ioctl on the bare uAPI structs, for callers (tests) that build them.
//!
//! Every failure is an [`Error`] carrying the kernel's errno.

mod bo;
mod context;
mod device;
pub mod drm;
mod error;
mod info;
pub mod push;
pub mod raw;
mod syncobj;
mod vm;

pub use bo::{gem_create_args, Bo, GemInfo, Mapping, Placement};
pub use context::{exec_args, push_range, Context, CtxState, Engine};
pub use device::{nodes_of, pci_address_in, render_nodes_of, Device, Version, DRIVER_NAME};
pub use error::{errno_name, Error, Result};
pub use info::{arch_name, chip_name, format_bytes, Classes, FwVersion, Info, CHIPS};
pub use nova_uapi as uapi;
pub use push::{Push, Surface};
pub use syncobj::{deadline_ns, SyncFile, Syncobj};
pub use vm::{applied_after_error, bind_args, BindError, Op, Vm};
