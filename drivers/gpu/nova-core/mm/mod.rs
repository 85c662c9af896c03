// SPDX-License-Identifier: GPL-2.0
//! GPU virtual memory for Ampere (GA102): the GMMU page-table format version 2 and a
//! page-table engine that maps, unmaps and translates through it.
//!
//! Pure logic: this directory is built into the kernel module and, unchanged, into the host
//! crate `nova-core-host` for tests. It uses nothing but `core`: no allocation, no `unsafe`,
//! no panics, no floating point; every address computation is checked.
//!
//! | Module        | What                                                        | Facts    |
//! |---------------|-------------------------------------------------------------|----------|
//! | [`mmu_v2`]    | entry formats (PDE, dual PDE, PTE), apertures, levels       | §12.1–2  |
//! | [`pagetable`] | map / unmap / translate over caller-owned table memory      | §12.1–2  |
//! | [`plan`]      | splits a request into runs of one page size each            | §12.1    |
//! | [`instance`]  | the instance block's page-directory words (128/129)         | §12.3    |
//! | [`tlb`]       | TLB-invalidate register values (0xB830A0/A4/B0)             | §12.4    |
//! | [`error`]     | [`MmuError`], the one error type of this directory          |          |
//!
//! Source abbreviations used in the citations (as in the facts sheet):
//! - `OG`: NVIDIA open-gpu-kernel-modules, tag 570.144
//!   (commit 8ec351aeb96a93a4bb69ccc12a542bf8a8df2b6f);
//! - `OD`: NVIDIA open-gpu-doc (commit c8607fe576b53ff821ffcf97e7548d2de11c4eaf);
//! - `NV`: nouveau in Linux 7.3; a bare file name is in
//!   `drivers/gpu/drm/nouveau/nvkm/subdev/mmu/`, other files are named by their path in the
//!   kernel tree.
//!
//! Facts are cited; no code or text of those projects is reproduced here.

pub mod error;
pub mod instance;
pub mod mmu_v2;
pub mod pagetable;
pub mod plan;
pub mod tlb;

pub use error::MmuError;

#[cfg(test)]
mod plan_tests;
#[cfg(test)]
mod tests;
