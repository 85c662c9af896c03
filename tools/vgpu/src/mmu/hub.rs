// SPDX-License-Identifier: GPL-2.0
//! The hub MMU: the translation state the device's MMU clients share. One [`Hub`] per device,
//! cloned into the register blocks that reach it (the invalidate and fault registers, and the
//! MMU's clients) and into the GSP-RM model. It owns the [`Tlb`] and the physical memory
//! behind it.
//!
//! Lock order: the hub before guest memory (the hub reads guest RAM for system-memory tables
//! and pages); nothing holds the guest-memory lock while calling into the hub.

use super::bar1::Bar1;
use super::format::Aperture;
use super::mem::Memory;
use super::tlb::{CacheLevel, Lookup, PdbKey, Tlb, TlbStats};
use super::walk::{Access, FaultType, Pdb, PhysMem};
use crate::dma::SharedGuestMemory;
use crate::trace::Tracer;
use crate::vram::Vram;
use std::sync::{Arc, Mutex, MutexGuard};

/// The hub's state.
pub struct HubState {
    mem: Memory,
    tlb: Tlb,
    tracer: Arc<Tracer>,
    pub(super) bar1_state: Bar1,
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

    /// A BAR1 access faulted.
    pub(super) fn record_bar1_fault(
        &mut self,
        va: u64,
        inst: (Option<Aperture>, u64),
        access: Access,
        fault: FaultType,
    ) {
        self.tracer.line(
            "mmu",
            format_args!(
                "BAR1 fault {} at VA {va:#x} ({}; instance block {}:{:#x})",
                fault.name(),
                access.letter(),
                inst.0.map_or("?", |a| a.name()),
                inst.1
            ),
        );
    }

    /// Function-level reset: the TLB is emptied, BAR1 is back in physical mode (VRAM keeps its
    /// contents).
    pub fn reset(&mut self) {
        self.tlb.clear();
        self.bar1_state = Bar1::default();
    }
}
