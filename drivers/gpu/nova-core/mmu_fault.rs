// SPDX-License-Identifier: GPL-2.0
//! MMU faults: reading the fault snapshot registers and reporting what they hold.
//!
//! Under GSP-RM the non-replayable fault buffer belongs to GSP-RM, which tells the CPU driver
//! about a fault with the `MMU_FAULT_QUEUED` event (docs/facts/ga102.md §12.5, §9.2). The CPU side then
//! reads the fault snapshot registers of the PF window (docs/facts/ga102.md §12.5: `MMU_FAULT_ADDR_LO/HI`
//! 0xB83080/84, `_INST_LO/HI` 0xB83088/8C, `_INFO` 0xB83090, `_STATUS` 0xB83094; OG
//! `kern_gmmu_tu102.c` reads the same registers in `kgmmuReadMmuFault*_TU102`) and clears
//! `STATUS.VALID` by writing it back. The field positions are those of the fault packet
//! (docs/facts/ga102.md §12.5, OG:cls `clc369.h`): INFO holds word 7's fields, ADDR/INST words 0–3's.

use kernel::{device, io::Io, prelude::*};

use crate::driver::Bar0;

const FAULT_ADDR_LO: usize = 0xb8_3080;
const FAULT_ADDR_HI: usize = 0xb8_3084;
const FAULT_INST_LO: usize = 0xb8_3088;
const FAULT_INST_HI: usize = 0xb8_308c;
const FAULT_INFO: usize = 0xb8_3090;
const FAULT_STATUS: usize = 0xb8_3094;
/// `STATUS.VALID` / `INFO.VALID`: bit 31.
const VALID: u32 = 1 << 31;

/// `NV_PFAULT_FAULT_TYPE_*` names (docs/facts/ga102.md §12.5).
fn fault_type(t: u32) -> &'static str {
    match t {
        0x0 => "PDE",
        0x1 => "PDE_SIZE",
        0x2 => "PTE",
        0x3 => "VA_LIMIT_VIOLATION",
        0x4 => "UNBOUND_INST_BLOCK",
        0x5 => "PRIV_VIOLATION",
        0x6 => "RO_VIOLATION",
        0x7 => "WO_VIOLATION",
        0x8 => "PITCH_MASK_VIOLATION",
        0x9 => "WORK_CREATION",
        0xa => "UNSUPPORTED_APERTURE",
        0xb => "COMPRESSION_FAILURE",
        0xc => "UNSUPPORTED_KIND",
        0xd => "REGION_VIOLATION",
        0xe => "POISONED",
        0xf => "ATOMIC_VIOLATION",
        _ => "unknown",
    }
}

/// `NV_PFAULT_ACCESS_TYPE_*` names for virtual accesses (docs/facts/ga102.md §12.5).
fn access_type(t: u32) -> &'static str {
    match t {
        0 => "read",
        1 => "write",
        2 => "atomic (strong)",
        3 => "prefetch",
        4 => "atomic (weak)",
        8..=0xb => "physical",
        _ => "unknown",
    }
}

/// Reads the snapshot and reports it; returns whether a fault was there. The GPU keeps
/// running: nothing is reset, the faulting access was dropped by the MMU.
pub(crate) fn report(dev: &device::Device, bar: &Bar0<'_>) -> bool {
    let rd = |off| bar.try_read32(off).unwrap_or(0);
    let status = rd(FAULT_STATUS);
    let info = rd(FAULT_INFO);
    if status & VALID == 0 && info & VALID == 0 {
        dev_warn!(
            dev,
            "MMU fault notice from GSP-RM, but no fault is latched\n"
        );
        return false;
    }
    let addr_lo = rd(FAULT_ADDR_LO);
    let addr = (u64::from(rd(FAULT_ADDR_HI)) << 32) | u64::from(addr_lo & 0xffff_f000);
    let inst_lo = rd(FAULT_INST_LO);
    let inst = (u64::from(rd(FAULT_INST_HI)) << 32) | u64::from(inst_lo & 0xffff_f000);
    let inst_aperture = match (inst_lo >> 10) & 3 {
        0 => "vid",
        2 => "sys coh",
        3 => "sys noncoh",
        _ => "?",
    };
    let client_type = if info & (1 << 20) != 0 { "hub" } else { "gpc" };
    dev_err!(
        dev,
        "MMU fault: {} at VA {:#x} ({}), instance block {:#x} ({}), engine {}, client {:#x} ({})\n",
        fault_type(info & 0x1f),
        addr,
        access_type((info >> 16) & 0xf),
        inst,
        inst_aperture,
        inst_lo & 0x1ff,
        (info >> 8) & 0x7f,
        client_type
    );
    // Re-arms the snapshot for the next fault.
    let _ = bar.try_write32(VALID, FAULT_STATUS);
    true
}
