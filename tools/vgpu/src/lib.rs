// SPDX-License-Identifier: GPL-2.0
//! A GA102 GPU in software.
//!
//! The device model is split the way the hardware is:
//! - [`pci`]: the PCI function (configuration space, capabilities, BAR layout).
//! - [`bar0`]: decodes a BAR0 access to the register block that owns the offset.
//! - [`blocks`]: one module per hardware block (PMC, ...); each only sees offsets inside its
//!   own range and knows nothing of vfio-user.
//! - [`irq`], [`dma`]: how the device reaches the guest (eventfds, guest memory).
//! - [`vram`], [`mmu`]: the board's VRAM and the GMMU that translates into it and guest RAM.
//! - [`fifo`]: GPFIFO channels: the usermode doorbell, one PBDMA per channel, host methods.
//! - [`engines`]: the engines behind a channel's subchannels (copy engine, 2D).
//! - [`firmware`]: the device's readers for the GSP boot firmware files Booter checks against.
//! - [`trace`]: one line per access, filterable by block.
//! - [`testport`]: the engine access port in BAR5, a test instrument (not hardware), off by
//!   default.
//! - [`server`]: the vfio-user glue that ties it together.
//!
//! Every register value modelled here comes from a hardware fact; `README.md` lists each one
//! with its source.

pub mod bar0;
pub mod blocks;
pub mod chip;
pub mod dma;
pub mod engines;
pub mod fifo;
pub mod firmware;
pub mod irq;
pub mod mmu;
pub mod pci;
pub mod server;
pub mod testport;
pub mod trace;
pub mod vram;
