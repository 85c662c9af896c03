// SPDX-License-Identifier: GPL-2.0
//! The engine access port: a **test instrument, not hardware**, in the BAR5 I/O region (NVIDIA
//! BAR3, 128 bytes; docs/facts/ga102.md §1.3). It lets a driver's tests make a GPU engine access memory
//! through a GPU virtual address space before channels and the copy engine exist. Off by
//! default (`--test-port`, `VGPU_TEST_PORT=1`); disabled, BAR5 stays unmodelled (reads 0,
//! writes ignored). The register map is a contract with the driver's tests:
//!
//! | Offset | Name | Access | Meaning |
//! |---|---|---|---|
//! | 0x00 | ID | RO | 0x4E565450 ("NVTP") |
//! | 0x04 | INST_LO | RW | instance block: 1:0 aperture (0 VRAM, 2 system coherent, 3 system non-coherent; the fault entry's INST_APERTURE encoding), 31:12 address bits 31:12; bits 11:2 read 0 |
//! | 0x08 | INST_HI | RW | instance block address bits 63:32 |
//! | 0x0C / 0x10 | VA_LO / VA_HI | RW | GPU virtual address of the access |
//! | 0x14 | DATA | RW | value to write, or the value read |
//! | 0x18 | CMD | WO (reads 0) | 1: read 32 bits at VA into DATA; 2: write DATA (32 bits) at VA; done before the write returns. Other values: nothing, STATUS 0 |
//! | 0x1C | STATUS | RO | 0 DONE (a command completed, faulted or not), 1 FAULT, 8:4 fault type (`NV_PFAULT_FAULT_TYPE_*`, docs/facts/ga102.md §12.5), 12 SPARSE (the access hit a sparse PTE: read 0 / write dropped, no fault) |
//! | 0x20 / 0x24 | PA_LO / PA_HI | RO | physical address the VA translated to (0 on fault or sparse) |
//! | 0x28 | XLATE | RO | 1:0 the page's PTE aperture (0 VRAM, 2 sys coh, 3 sys non-coh), 15:8 log2 of the page size (12, 16, 21, 29); 0 on fault or sparse |
//!
//! The access is copy engine 0's (`NV_PFAULT_MMU_ENG_ID_CE0`, `NV_PFAULT_CLIENT_HUB_CE0`, a HUB
//! client) through [`crate::mmu::engine`]: the instance block's PAGE_DIR_BASE, the hub TLB,
//! the version-2 walk, READ_ONLY, sparse entries; a fault goes to the fault snapshot
//! registers, the non-replayable fault buffer and, through GSP-RM, to the CPU as
//! `MMU_FAULT_QUEUED`. A faulting read leaves DATA 0. STATUS, PA and XLATE are cleared at each
//! command. Every command is one line of the MMU log (`--mmu-log`, prefix `port`) per 4 KiB
//! piece, and traced under block `mmu`; register accesses are traced under block `io` with
//! their names. Only aligned 32-bit accesses reach the registers: narrower reads return the
//! bytes of the word, narrower or unaligned writes are ignored (traced).

use crate::mmu::engine::{pte_aperture_bits, InstPtr};
use crate::mmu::fault::CE0;
use crate::mmu::hub::Hub;
use crate::mmu::walk::Access;
use crate::trace::Tracer;
use std::sync::Arc;

/// ID.
pub const ID: u32 = 0x00;
/// INST_LO.
pub const INST_LO: u32 = 0x04;
/// INST_HI.
pub const INST_HI: u32 = 0x08;
/// VA_LO.
pub const VA_LO: u32 = 0x0c;
/// VA_HI.
pub const VA_HI: u32 = 0x10;
/// DATA.
pub const DATA: u32 = 0x14;
/// CMD.
pub const CMD: u32 = 0x18;
/// STATUS.
pub const STATUS: u32 = 0x1c;
/// PA_LO.
pub const PA_LO: u32 = 0x20;
/// PA_HI.
pub const PA_HI: u32 = 0x24;
/// XLATE.
pub const XLATE: u32 = 0x28;

/// The value ID reads: "NVTP".
pub const ID_VALUE: u32 = 0x4e56_5450;
/// CMD: read.
pub const CMD_READ: u32 = 1;
/// CMD: write.
pub const CMD_WRITE: u32 = 2;
/// STATUS.DONE.
pub const STATUS_DONE: u32 = 1 << 0;
/// STATUS.FAULT.
pub const STATUS_FAULT: u32 = 1 << 1;
/// STATUS fault type shift (bits 8:4).
pub const STATUS_TYPE_SHIFT: u32 = 4;
/// STATUS.SPARSE.
pub const STATUS_SPARSE: u32 = 1 << 12;
/// INST_LO bits that are kept.
pub const INST_LO_MASK: u32 = 0xffff_f003;

/// The port.
pub struct TestPort {
    enabled: bool,
    hub: Hub,
    tracer: Arc<Tracer>,
    inst_lo: u32,
    inst_hi: u32,
    va_lo: u32,
    va_hi: u32,
    data: u32,
    status: u32,
    pa: u64,
    xlate: u32,
}

impl TestPort {
    /// The port on `hub`, enabled or not.
    pub fn new(enabled: bool, hub: Hub, tracer: Arc<Tracer>) -> Self {
        TestPort {
            enabled,
            hub,
            tracer,
            inst_lo: 0,
            inst_hi: 0,
            va_lo: 0,
            va_hi: 0,
            data: 0,
            status: 0,
            pa: 0,
            xlate: 0,
        }
    }

    /// Whether `--test-port` enabled it.
    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// Registers back to 0 (function-level reset).
    pub fn reset(&mut self) {
        *self = TestPort::new(self.enabled, self.hub.clone(), self.tracer.clone());
    }

    /// The register's name, for the `io` trace.
    pub fn reg_name(off: u32) -> &'static str {
        match off {
            ID => "TEST_PORT_ID",
            INST_LO => "TEST_PORT_INST_LO",
            INST_HI => "TEST_PORT_INST_HI",
            VA_LO => "TEST_PORT_VA_LO",
            VA_HI => "TEST_PORT_VA_HI",
            DATA => "TEST_PORT_DATA",
            CMD => "TEST_PORT_CMD",
            STATUS => "TEST_PORT_STATUS",
            PA_LO => "TEST_PORT_PA_LO",
            PA_HI => "TEST_PORT_PA_HI",
            XLATE => "TEST_PORT_XLATE",
            _ => "test port, no register",
        }
    }

    /// A 32-bit register read (0 everywhere while disabled).
    pub fn read32(&self, off: u32) -> u32 {
        if !self.enabled {
            return 0;
        }
        match off {
            ID => ID_VALUE,
            INST_LO => self.inst_lo,
            INST_HI => self.inst_hi,
            VA_LO => self.va_lo,
            VA_HI => self.va_hi,
            DATA => self.data,
            STATUS => self.status,
            PA_LO => self.pa as u32,
            PA_HI => (self.pa >> 32) as u32,
            XLATE => self.xlate,
            _ => 0,
        }
    }

    /// A 32-bit register write (ignored while disabled).
    pub fn write32(&mut self, off: u32, v: u32) {
        if !self.enabled {
            return;
        }
        match off {
            INST_LO => self.inst_lo = v & INST_LO_MASK,
            INST_HI => self.inst_hi = v,
            VA_LO => self.va_lo = v,
            VA_HI => self.va_hi = v,
            DATA => self.data = v,
            CMD => self.command(v),
            _ => {}
        }
    }

    /// The instance block INST_LO/INST_HI name.
    pub fn inst(&self) -> InstPtr {
        InstPtr {
            aperture: self.inst_lo & 3,
            addr: (u64::from(self.inst_hi) << 32) | u64::from(self.inst_lo & 0xffff_f000),
        }
    }

    /// The VA VA_LO/VA_HI name.
    pub fn va(&self) -> u64 {
        (u64::from(self.va_hi) << 32) | u64::from(self.va_lo)
    }

    fn command(&mut self, cmd: u32) {
        self.status = 0;
        self.pa = 0;
        self.xlate = 0;
        let access = match cmd {
            CMD_READ => Access::Read,
            CMD_WRITE => Access::Write,
            _ => {
                self.tracer.line(
                    "mmu",
                    format_args!(
                        "test port: CMD {cmd:#x} is neither 1 (read) nor 2 (write): nothing done"
                    ),
                );
                return;
            }
        };
        let (inst, va) = (self.inst(), self.va());
        let mut buf = self.data.to_le_bytes();
        let r = self
            .hub
            .lock()
            .engine_access(&CE0, "port", inst, va, &mut buf, access);
        if access == Access::Read {
            self.data = u32::from_le_bytes(buf);
        }
        self.status = STATUS_DONE;
        if let Some(f) = r.fault {
            self.status |= STATUS_FAULT | ((f.fault as u32 & 0x1f) << STATUS_TYPE_SHIFT);
            return;
        }
        if r.sparse {
            self.status |= STATUS_SPARSE;
        }
        if let Some(m) = r.mapped {
            self.pa = m.t.pa;
            self.xlate = pte_aperture_bits(m.t.aperture) | (m.t.page_shift << 8);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dma::GuestMemory;
    use crate::vram::Vram;
    use std::sync::Mutex;

    fn port(enabled: bool) -> TestPort {
        let hub = Hub::new(
            Vram::new(64 << 20),
            Arc::new(Mutex::new(GuestMemory::new())),
            Arc::new(Tracer::off()),
        );
        TestPort::new(enabled, hub, Arc::new(Tracer::off()))
    }

    #[test]
    fn disabled_reads_zero_and_ignores_writes() {
        let mut p = port(false);
        for off in (0..0x80).step_by(4) {
            p.write32(off, 0xffff_ffff);
            assert_eq!(p.read32(off), 0, "{off:#x}");
        }
    }

    #[test]
    fn registers() {
        let mut p = port(true);
        assert_eq!(p.read32(ID), ID_VALUE);
        p.write32(INST_LO, 0xffff_ffff);
        assert_eq!(p.read32(INST_LO), 0xffff_f003);
        for r in [INST_HI, VA_LO, VA_HI, DATA] {
            p.write32(r, 0x1234_5678 + r);
            assert_eq!(p.read32(r), 0x1234_5678 + r);
        }
        assert_eq!(p.inst().aperture, 3);
        for r in [ID, CMD, STATUS, PA_LO, PA_HI, XLATE, 0x2c, 0x7c] {
            if r != CMD {
                p.write32(r, 0xffff_ffff);
            }
            assert_ne!(TestPort::reg_name(r), "");
        }
        assert_eq!(p.read32(ID), ID_VALUE, "read-only");
        assert_eq!(p.read32(STATUS), 0);
        assert_eq!(p.read32(0x2c), 0);
        // An unknown command does nothing; STATUS stays 0.
        p.write32(CMD, 3);
        assert_eq!(p.read32(STATUS), 0);
        assert_eq!(p.read32(CMD), 0, "write-only");
        p.reset();
        assert_eq!((p.read32(VA_LO), p.read32(ID)), (0, ID_VALUE));
    }
}
