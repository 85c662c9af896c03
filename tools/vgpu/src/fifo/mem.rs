// SPDX-License-Identifier: GPL-2.0
//! A channel's memory: its instance block's VA space, as one MMU client (the PBDMA fetching,
//! or an engine) sees it ([`crate::engines::ChannelMemory`]).
//!
//! The rules are those of [`crate::mmu::engine`] (docs/facts/ga102.md §12.1-§12.3, §12.5): PAGE_DIR_BASE is
//! read from the instance block at every access, the access is translated through the hub
//! TLB, a write through a READ_ONLY PTE faults, sparse ranges read 0 and drop writes, and if
//! any part faults nothing is accessed and the first faulting page is recorded (snapshot
//! registers, non-replayable fault buffer, GSP-RM's notification).
//!
//! For speed (a 64 MiB copy at near-memcpy rate), an access is translated first — one TLB
//! lookup per mapped page, not per word, releasing the hub lock every 512 lookups so BAR
//! accesses interleave — and then copied in runs of physically contiguous memory of at most
//! 1 MiB, with no hub lock held (VRAM and guest RAM have their own locks, held for one run).
//! Successful accesses are not written to the MMU log (an acquire polls every 100 µs);
//! faults are, through the hub.

use super::Fifo;
use crate::engines::{ChannelMemory, MemFault};
use crate::mmu::engine::InstPtr;
use crate::mmu::fault::Client;
use crate::mmu::format::Aperture;
use crate::mmu::walk::{check_access, Access, FaultType, Outcome, PhysMem};

/// Longest run copied under one memory lock.
const RUN_MAX: usize = 1 << 20;
/// TLB lookups between two releases of the hub lock.
const LOOKUPS_PER_LOCK: usize = 512;

/// A piece of an access: `len` bytes at `off` in the buffer, at `pa` in `aperture` (None:
/// sparse).
#[derive(Clone, Copy, Debug)]
struct Run {
    off: usize,
    len: usize,
    to: Option<(Aperture, u64)>,
}

/// One MMU client's view of a channel's VA space.
pub struct ChanMem {
    fifo: Fifo,
    inst: InstPtr,
    client: Client,
    /// The last fault: VA and `NV_PFAULT_FAULT_TYPE_*`.
    pub last_fault: Option<(u64, FaultType)>,
}

impl ChanMem {
    /// `client` in the VA space of instance block `inst`.
    pub fn new(fifo: Fifo, inst: InstPtr, client: Client) -> Self {
        ChanMem {
            fifo,
            inst,
            client,
            last_fault: None,
        }
    }

    fn fault(&mut self, va: u64, access: Access, f: FaultType) -> MemFault {
        self.fifo.0.hub.lock().record_engine_fault(
            &self.client,
            va,
            (self.inst.aperture, self.inst.addr),
            access,
            f,
        );
        self.last_fault = Some((va, f));
        MemFault {
            va,
            write: access == Access::Write,
        }
    }

    /// Translates `[va, va + len)` into runs, or records and returns the first fault.
    fn translate(&mut self, va: u64, len: usize, access: Access) -> Result<Vec<Run>, MemFault> {
        let mut runs: Vec<Run> = vec![];
        let mut done = 0usize;
        let hub = self.fifo.0.hub.clone();
        let pdb = match hub.lock().engine_pdb(self.inst) {
            Ok(p) => p,
            Err(f) => return Err(self.fault(va, access, f)),
        };
        while done < len {
            let mut h = hub.lock();
            for _ in 0..LOOKUPS_PER_LOCK {
                if done >= len {
                    break;
                }
                let pva = va.wrapping_add(done as u64);
                let l = h.lookup(&pdb, pva);
                let (shift, to) = match l.outcome {
                    Outcome::Mapped(t) => {
                        if let Err(f) = check_access(&t, access) {
                            drop(h);
                            return Err(self.fault(pva, access, f));
                        }
                        (t.page_shift, Some((t.aperture, t.pa)))
                    }
                    Outcome::Sparse { shift } => (shift.min(21), None),
                    Outcome::Fault(f) => {
                        drop(h);
                        return Err(self.fault(pva, access, f));
                    }
                };
                let page = 1u64 << shift.clamp(12, 29);
                let n = ((page - (pva & (page - 1))) as usize).min(len - done);
                match (runs.last_mut(), to) {
                    (Some(r), Some((ap, pa)))
                        if r.len + n <= RUN_MAX
                            && r.to.is_some_and(|(a, p)| a == ap && p + r.len as u64 == pa) =>
                    {
                        r.len += n
                    }
                    (Some(r), None) if r.to.is_none() => r.len += n,
                    _ => runs.push(Run {
                        off: done,
                        len: n,
                        to,
                    }),
                }
                done += n;
            }
        }
        Ok(runs)
    }

    fn read_into(&mut self, va: u64, buf: &mut [u8]) -> Result<(), MemFault> {
        if buf.is_empty() {
            return Ok(());
        }
        let runs = self.translate(va, buf.len(), Access::Read)?;
        let mem = &self.fifo.0.mem;
        for r in runs {
            let part = &mut buf[r.off..r.off + r.len];
            match r.to {
                // Memory that is not there reads 0, as for BAR1.
                Some((ap, pa)) if mem.read(ap, pa, part) => {}
                _ => part.fill(0),
            }
        }
        Ok(())
    }

    /// Reads a little-endian u32.
    pub fn read_u32(&mut self, va: u64) -> Result<u32, MemFault> {
        let mut b = [0u8; 4];
        self.read(va, &mut b)?;
        Ok(u32::from_le_bytes(b))
    }

    /// Reads a little-endian u64.
    pub fn read_u64(&mut self, va: u64) -> Result<u64, MemFault> {
        let mut b = [0u8; 8];
        self.read(va, &mut b)?;
        Ok(u64::from_le_bytes(b))
    }
}

impl ChannelMemory for ChanMem {
    fn read(&mut self, va: u64, buf: &mut [u8]) -> Result<(), MemFault> {
        self.read_into(va, buf).inspect_err(|_| buf.fill(0))
    }

    fn write(&mut self, va: u64, data: &[u8]) -> Result<(), MemFault> {
        // Translated in full before anything is written: a fault writes nothing. Memory that
        // is not there drops the write, as for BAR1.
        let runs = self.translate(va, data.len(), Access::Write)?;
        let mem = &self.fifo.0.mem;
        for r in runs {
            if let Some((ap, pa)) = r.to {
                mem.write(ap, pa, &data[r.off..r.off + r.len]);
            }
        }
        Ok(())
    }

    fn timestamp_ns(&self) -> u64 {
        self.fifo.now_ns()
    }
}
