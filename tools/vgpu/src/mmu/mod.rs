// SPDX-License-Identifier: GPL-2.0
//! The GPU's memory-management unit (GMMU) as GA102 implements it, for the clients that
//! translate through it (BAR1, and copy engine 0 through the test port).
//!
//! - [`bar1`]: BAR1 as an MMU client (its binding, physical and virtual modes).
//! - [`engine`]: an engine's (HUB client's) access through an instance block's VA space.
//! - [`fault`]: fault packets and the fault snapshot registers.
//! - [`fault_buffer`]: the fault buffers the MMU writes fault packets into.
//! - [`format`](mod@format): the version-2 page-table format: levels, PDE/dual-PDE/PTE layouts,
//!   apertures (docs/facts/ga102.md §12.1, §12.2).
//! - [`walk`]: the page-table walk: a [`walk::Pdb`] and a VA give a translation, a sparse
//!   range or a fault with the hardware fault type (docs/facts/ga102.md §12.5).
//! - [`inst`]: the instance block's memory-management words (docs/facts/ga102.md §12.3).
//! - [`mem`]: the physical memory behind it: VRAM ([`crate::vram`]) and guest RAM.
//! - [`tlb`]: translations and directory entries cached per PDB until an invalidate.
//! - [`log`]: the MMU log (`--mmu-log`), a test instrument.
//! - [`hub`]: the shared state ([`hub::Hub`]) the register blocks, the MMU's clients and the
//!   GSP-RM model reach.
//!
//! Every layout and rule cites its source in the module that implements it; `README.md` lists
//! them with what is not modelled.

pub mod bar1;
pub mod engine;
pub mod fault;
pub mod fault_buffer;
pub mod format;
pub mod hub;
pub mod inst;
pub mod log;
pub mod mem;
pub mod tlb;
pub mod walk;
