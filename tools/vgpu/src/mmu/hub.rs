// SPDX-License-Identifier: GPL-2.0
//! The hub MMU: the translation state the device's MMU clients share. One [`Hub`] per device,
//! cloned into the register blocks that reach it (the invalidate and fault registers, and the
//! MMU's clients) and into the GSP-RM model. It owns the [`Tlb`] and the physical memory
//! behind it.
//!
//! Lock order: the hub before guest memory (the hub reads guest RAM for system-memory tables
//! and pages); nothing holds the guest-memory lock while calling into the hub.

use super::bar1::Bar1;
use super::fault::{Client, Fault, FaultRegs, STATUS_DROPPED_OTHER_VIRT};
use super::fault_buffer::{FaultBuffer, FaultBuffers, Push, NON_REPLAYABLE};
use super::format::Aperture;
use super::log::MmuLog;
use super::mem::Memory;
use super::tlb::{CacheLevel, Lookup, PdbKey, Tlb, TlbStats};
use super::walk::{Access, FaultType, Pdb, PhysMem};
use crate::dma::SharedGuestMemory;
use crate::trace::Tracer;
use crate::vram::Vram;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

/// The hub's state.
pub struct HubState {
    mem: Memory,
    tlb: Tlb,
    tracer: Arc<Tracer>,
    pub(super) bar1_state: Bar1,
    faults: FaultRegs,
    buffers: FaultBuffers,
    /// Entries written to the non-replayable buffer whose interrupt GSP-RM has not taken yet
    /// (the MMU's non-replayable fault notification, which goes to GSP-RM, docs/facts/ga102.md §12.5).
    fault_notify: u32,
    epoch: Instant,
    log: Option<MmuLog>,
}

/// Shared handle to the hub.
#[derive(Clone)]
pub struct Hub(Arc<Mutex<HubState>>);

impl Hub {
    /// A hub over `vram` and `guest`, tracing to `tracer` (block `mmu`).
    pub fn new(vram: Vram, guest: SharedGuestMemory, tracer: Arc<Tracer>) -> Self {
        Hub(Arc::new(Mutex::new(HubState {
            mem: Memory { vram, guest },
            tlb: Tlb::new(),
            tracer,
            bar1_state: Bar1::default(),
            faults: FaultRegs::default(),
            buffers: FaultBuffers::default(),
            fault_notify: 0,
            epoch: Instant::now(),
            log: None,
        })))
    }

    /// Locks the state.
    pub fn lock(&self) -> MutexGuard<'_, HubState> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The VRAM.
    pub fn vram(&self) -> Vram {
        self.lock().mem.vram.clone()
    }
}

impl HubState {
    /// Starts writing the MMU log ([`super::log`]) to `log`.
    pub fn set_log(&mut self, log: MmuLog) {
        self.log = Some(log);
    }

    /// Appends a line to the MMU log, if there is one.
    pub fn log(&mut self, args: std::fmt::Arguments<'_>) {
        if let Some(l) = &mut self.log {
            l.line(args);
        }
    }

    /// Whether an MMU log is being written (lets callers skip formatting).
    pub fn logging(&self) -> bool {
        self.log.is_some()
    }

    /// The physical memory.
    pub fn mem(&self) -> &Memory {
        &self.mem
    }

    /// The trace.
    pub fn tracer(&self) -> &Arc<Tracer> {
        &self.tracer
    }

    /// Translates `va` in `pdb` through the TLB.
    pub fn lookup(&mut self, pdb: &Pdb, va: u64) -> Lookup {
        self.tlb.lookup(&self.mem, pdb, va)
    }

    /// TLB counters.
    pub fn tlb_stats(&self) -> TlbStats {
        self.tlb.stats()
    }

    /// Entries the TLB holds.
    pub fn tlb_len(&self) -> usize {
        self.tlb.len()
    }

    /// Invalidates `pdb` (None: all PDBs) at `level`; `why` names the requester for the trace.
    pub fn invalidate(&mut self, pdb: Option<PdbKey>, level: CacheLevel, why: &str) -> usize {
        let n = self.tlb.invalidate(pdb, level);
        self.tracer.line(
            "mmu",
            format_args!(
                "TLB invalidate ({why}): PDB {}, CACHE_LEVEL {}: {n} entries dropped",
                pdb.map_or("all".to_string(), |p| p.to_string()),
                level.name()
            ),
        );
        self.log(format_args!(
            "invalidate pdb={} level={} dropped={n} by={}",
            pdb.map_or("all".to_string(), |p| p.to_string()),
            level.name(),
            why.replace(' ', "_")
        ));
        n
    }

    /// Reads physical memory (false: nothing there).
    pub fn read(&self, aperture: Aperture, pa: u64, buf: &mut [u8]) -> bool {
        self.mem.read(aperture, pa, buf)
    }

    /// Writes physical memory (false: nothing there).
    pub fn write(&self, aperture: Aperture, pa: u64, buf: &[u8]) -> bool {
        self.mem.write(aperture, pa, buf)
    }

    /// A BAR1 access faulted: the fault goes to the snapshot registers ([`super::fault`]).
    pub(super) fn record_bar1_fault(
        &mut self,
        va: u64,
        inst: (Option<Aperture>, u64),
        access: Access,
        fault: FaultType,
    ) -> Fault {
        let aperture = match inst.0 {
            Some(Aperture::SysCoherent) => 2,
            Some(Aperture::SysNonCoherent) => 3,
            Some(_) => 0,
            None => 1,
        };
        let ns = self.epoch.elapsed().as_nanos() as u64;
        let f = Fault::bar1(va, aperture, inst.1, access, fault, ns);
        let snapped = self.faults.bar1_virtual(&f);
        self.tracer.line(
            "mmu",
            format_args!(
                "BAR1 fault {} ({:#x}) at VA {va:#x} ({}; instance block {}:{:#x}): {}",
                fault.name(),
                fault as u8,
                access.letter(),
                inst.0.map_or("TARGET 1", |a| a.name()),
                inst.1,
                if snapped {
                    "MMU_FAULT_ADDR/INST/INFO snapped, STATUS.VALID"
                } else {
                    "STATUS.VALID already set: DROPPED_BAR1_VIRT"
                }
            ),
        );
        f
    }

    /// An engine's access faulted: the fault is snapped into the registers (or counted as
    /// DROPPED_OTHER_VIRT) and offered to the non-replayable fault buffer; an entry written
    /// there raises the MMU's notification to GSP-RM ([`HubState::take_fault_notify`]).
    /// Returns the packet, whether it was snapped, and what the buffer did with it.
    pub fn record_engine_fault(
        &mut self,
        client: &Client,
        va: u64,
        inst: (u32, u64),
        access: Access,
        fault: FaultType,
    ) -> (Fault, bool, Push) {
        let ns = self.epoch.elapsed().as_nanos() as u64;
        let f = Fault::engine(client, va, inst.0 & 3, inst.1, access, fault, ns);
        let snapped = self.faults.latch(&f, STATUS_DROPPED_OTHER_VIRT);
        let push = self.buffers.0[NON_REPLAYABLE].push(&self.mem, &f.buffer_entry());
        if matches!(push, Push::Written(_)) {
            self.fault_notify = self.fault_notify.saturating_add(1);
        }
        self.tracer.line(
            "mmu",
            format_args!(
                "{} fault {} ({:#x}) at VA {va:#x} ({}; instance block {}:{:#x}): {}; fault buffer 0: {}",
                client.name,
                fault.name(),
                fault as u8,
                access.letter(),
                inst_name(inst.0),
                inst.1,
                if snapped {
                    "MMU_FAULT_ADDR/INST/INFO snapped, STATUS.VALID"
                } else {
                    "STATUS.VALID already set: DROPPED_OTHER_VIRT"
                },
                match push {
                    Push::Written(i) => format!("entry {i} written, GSP-RM notified"),
                    p => format!("not written ({})", p.describe()),
                }
            ),
        );
        (f, snapped, push)
    }

    /// Takes the non-replayable fault notifications raised since the last call (GSP-RM's
    /// side of the MMU interrupt).
    pub fn take_fault_notify(&mut self) -> u32 {
        std::mem::take(&mut self.fault_notify)
    }

    /// Notifications pending for GSP-RM.
    pub fn fault_notify_pending(&self) -> u32 {
        self.fault_notify
    }

    /// The fault snapshot registers.
    pub fn faults(&self) -> FaultRegs {
        self.faults
    }

    /// The fault buffers.
    pub fn fault_buffers(&self) -> FaultBuffers {
        self.buffers
    }

    /// Fault buffer `i` (0 non-replayable, 1 replayable), for register writes.
    pub fn fault_buffer_mut(&mut self, i: usize) -> &mut FaultBuffer {
        &mut self.buffers.0[i]
    }

    /// A CPU write of `MMU_FAULT_STATUS` (write 1 to clear).
    pub fn write_fault_status(&mut self, v: u32) {
        self.faults.write_status(v);
    }

    /// Function-level reset: the TLB is emptied, BAR1 is back in physical mode, the fault
    /// registers and buffers are back at INIT (VRAM keeps its contents).
    pub fn reset(&mut self) {
        self.tlb.clear();
        self.bar1_state = Bar1::default();
        self.faults = FaultRegs::default();
        self.buffers = FaultBuffers::default();
        self.fault_notify = 0;
    }
}

/// An instance block's 2-bit aperture (INST_APERTURE / PAGE_DIR_BASE_TARGET encoding) for
/// the trace and the MMU log.
pub fn inst_name(bits: u32) -> &'static str {
    match bits & 3 {
        0 => "vid",
        1 => "invalid",
        2 => "sysc",
        _ => "sysnc",
    }
}
