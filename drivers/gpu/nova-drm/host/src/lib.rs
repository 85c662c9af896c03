// SPDX-License-Identifier: GPL-2.0
//! nova-drm's pure logic, compiled for the host. Each module is the very file the kernel module
//! builds; see `drivers/gpu/nova-drm/`.
#![no_std]

/// The uAPI mirror, as the kernel module includes it (`crate::uapi`).
#[path = "../../../../../uapi/src/nova_drm.rs"]
pub mod uapi;

#[path = "../../args.rs"]
pub mod args;
