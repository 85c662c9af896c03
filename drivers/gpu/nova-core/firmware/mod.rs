// SPDX-License-Identifier: GPL-2.0
//! Parsers for the NVIDIA firmware files nova-core loads to boot GSP-RM (the linux-firmware
//! `nvidia/<chip>/gsp/*-570.144.bin` set), and the radix3 table builder for the GSP image.
//!
//! Pure logic: this directory is built into the kernel module and, unchanged, into the host
//! crate `nova-core-host` for tests and fuzzing. It uses nothing but `core`: no allocation,
//! no `unsafe`, no panics on any input. Parsers take the file as a byte slice and return
//! borrowed views and small `Copy` structs; every read is bounds-checked and every error is a
//! [`FwError`] naming what was wrong and the byte offset where (see [`error`]).
//!
//! | File                         | Parser                          | Facts sheet |
//! |------------------------------|---------------------------------|-------------|
//! | any `nvfw_bin_hdr` file      | [`bin_hdr::BinFile`]            | §6.2        |
//! | `booter_{load,unload}-*.bin`, `scrubber-*.bin` | [`hs::HsFirmware`] | §6.3–6.4, §5.5 |
//! | `bootloader-*.bin`           | [`riscv::RiscvBootloader`]      | §6.5        |
//! | `gen_bootloader-*.bin`       | [`bin_hdr::FalconBootloader`]   | (fw.h)      |
//! | `gsp-*.bin`                  | [`gsp::GspFirmware`] over [`elf::Elf`] | §6.6 |
//! | `.fwimage` → radix3          | [`radix3`]                      | §6.7        |
//!
//! Signature selection by fuse version (§5.5) is in [`signature`]; the caller reads the fuse
//! register and passes its value in.

pub mod bin_hdr;
pub mod elf;
pub mod error;
pub mod gsp;
pub mod hs;
pub mod radix3;
pub mod reader;
pub mod riscv;
pub mod signature;

pub use error::{FwError, FwErrorKind, FwResult};
