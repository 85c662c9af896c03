// SPDX-License-Identifier: GPL-2.0
//! nova-core's pure logic, compiled for the host. Each module is the very file the kernel
//! module builds; see `drivers/gpu/nova-core/`.
#![no_std]

#[path = "../../chip.rs"]
pub mod chip;

#[path = "../../fb_layout.rs"]
pub mod fb_layout;

#[path = "../../firmware/mod.rs"]
pub mod firmware;

#[path = "../../mm/mod.rs"]
pub mod mm;

#[path = "../../pushbuf.rs"]
pub mod pushbuf;

#[path = "../../vbios/mod.rs"]
pub mod vbios;

/// GSP boot structures (the kernel's `gsp` module holds these pure files and its own glue).
pub mod gsp;
