// SPDX-License-Identifier: GPL-2.0
//! nova-core: the core of the nova driver for NVIDIA GPUs (Turing and later).
//!
//! It owns the PCI function: maps the registers, identifies the chip and (in later stages)
//! boots the GSP firmware and manages GPU memory. Userspace-facing work is nova-drm's, which
//! binds to the auxiliary device nova-core registers (see [`handoff`]).

pub mod address_space;
mod booter;
pub mod chip;
mod debugfs;
mod driver;
mod falcon;
mod fb;
pub mod fb_layout;
pub mod firmware;
mod fwsec;
mod gfw;
pub mod gpfifo;
pub mod gsp;
pub mod hal;
pub mod handoff;
pub mod irq;
mod kfmt;
pub mod link;
pub mod memory;
pub mod mm;
mod mmu_fault;
mod page_tables;
mod pramin;
mod prom;
pub mod pushbuf;
mod regs;
pub mod vbios;
mod vram;

/// This module's name, as the auxiliary bus matches it (`nova_core.nova-drm`).
pub const MODULE_NAME: &core::ffi::CStr = <LocalModule as kernel::ModuleMetadata>::NAME;

kernel::module_pci_driver! {
    type: driver::NovaCoreDriver,
    name: "nova_core",
    authors: ["The nova developers"],
    description: "nova core driver for NVIDIA GPUs (GSP-based, Turing and later)",
    license: "GPL v2",
    firmware: [
        "nvidia/ga102/gsp/booter_load-570.144.bin",
        "nvidia/ga102/gsp/booter_unload-570.144.bin",
        "nvidia/ga102/gsp/bootloader-570.144.bin",
        "nvidia/ga102/gsp/gsp-570.144.bin",
    ],
}
