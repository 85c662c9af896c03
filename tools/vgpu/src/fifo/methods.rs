// SPDX-License-Identifier: GPL-2.0
//! Host methods of AMPERE_CHANNEL_GPFIFO_A (0xC56F): method offsets below 0x100 on any
//! subchannel (docs/facts/ga102.md §11.3; OG 570.144 `clc56f.h` L67-262; OD `ampere/ga100/dev_pbdma.ref.txt`
//! "NV_UDMA" L3568-4470).
//!
//! | Method | Offset | Model |
//! |---|---|---|
//! | SET_OBJECT | 0x00 | NVCLASS 15:0 must be a class allocated under this channel (GSP-RM told the FIFO); binds a new [`crate::engines::new_engine`] instance to the header's subchannel (the same class again keeps the bound engine and its state). Otherwise a channel error. |
//! | ILLEGAL | 0x04 | channel error (`INTR_0_METHOD`) |
//! | NOP | 0x08 | nothing |
//! | SEMAPHOREA-D | 0x10-0x1C | legacy semaphore: A = address 39:32, B = address 31:2, C = payload (the same address/payload registers as SEM_ADDR_*/SEM_PAYLOAD_LO); D.OPERATION 1 ACQUIRE (equal), 2 RELEASE, 4 ACQ_GEQ (circular, model choice), 8 ACQ_AND; RELEASE_SIZE (24) 0 = 16 bytes (payload, 0, timestamp), 1 = 4 bytes. REDUCTION (0x10) is a channel error (not modelled on the legacy path). |
//! | NON_STALL_INTERRUPT | 0x20 | the channel's engine's non-stall vector ([`super::engine_vectors`]) |
//! | FB_FLUSH | 0x24 | nothing (memory is coherent) |
//! | MEM_OP_A-D | 0x28-0x34 | on D: OPERATION (31:27) MEMBAR (5) and the L2 operations (0xD-0x10) do nothing; MMU_TLB_INVALIDATE (9) and TLB_INVALIDATE_TARGETED (0xA) invalidate the hub TLB (C.PDB (0) ONE: the PDB of C 11:10 / 31:12 and D 26:0; ALL: every PDB; C.PAGE_TABLE_LEVEL 9:7); other operations are a channel error |
//! | SET_REFERENCE | 0x50 | writes COUNT to USERD Ref (+0x48) |
//! | SEM_ADDR_LO/HI, SEM_PAYLOAD_LO/HI | 0x5C-0x68 | the semaphore's address (39:2) and payload |
//! | SEM_EXECUTE | 0x6C | below |
//! | WFI | 0x78 | nothing (engine methods complete before the next method) |
//! | YIELD, CLEAR_FAULTED | 0x80, 0x84 | nothing |
//! | other | | channel error (`INTR_0_METHOD`: "not a valid Host method") |
//!
//! SEM_EXECUTE (dev_pbdma L3720-3990): OPERATION 2:0, PAYLOAD_SIZE 24 (64-bit), RELEASE_TIMESTAMP
//! 25, REDUCTION 30:27, REDUCTION_FORMAT 31 (0 signed). The address must be 4-byte aligned,
//! 8-byte for 64-bit payloads, 16-byte for a release with timestamp; otherwise a channel error
//! (`INTR_0_SEMAPHORE`). A release writes the payload (4 or 8 bytes); with the timestamp, 16
//! bytes in this layout (L3874-3895): payload 31:0 at +0, payload 63:32 (or 0 for a 32-bit
//! payload) at +4, the nanosecond timer at +8 — the timestamp written before the payload.
//! Acquires (ACQUIRE equal, ACQ_STRICT_GEQ unsigned ≥, ACQ_CIRC_GEQ (value − payload) signed ≥
//! 0, ACQ_AND value & payload ≠ 0, ACQ_NOR !(value | payload) ≠ 0) re-read the semaphore every
//! [`ACQUIRE_POLL`] until the condition holds; no acquire timeout is modelled, so an acquire
//! that never succeeds blocks the channel until it is freed. Reductions (IMIN, IMAX, IXOR,
//! IAND, IOR, IADD, INC, DEC with the table's signedness and size limits, L3900-3950; an
//! unsupported combination is a channel error) read, compute and write (not atomic against the
//! CPU).

use super::pbdma::{Pbdma, Stop};
use super::USERD_REF;
use crate::engines::ChannelMemory;
use crate::mmu::tlb::{CacheLevel, PdbKey};
use std::time::Duration;

/// How often a failed acquire re-reads memory.
pub const ACQUIRE_POLL: Duration = Duration::from_micros(100);

/// The host's method state (the PBDMA's SEM_* and MEM_OP_* registers).
#[derive(Clone, Copy, Debug, Default)]
pub struct Host {
    /// Semaphore address (39:2).
    pub sem_addr: u64,
    /// Semaphore payload.
    pub payload: u64,
    /// MEM_OP_A..C.
    pub mem_op: [u32; 3],
}

/// SEM_EXECUTE operations.
mod op {
    pub const ACQUIRE: u32 = 0;
    pub const RELEASE: u32 = 1;
    pub const ACQ_STRICT_GEQ: u32 = 2;
    pub const ACQ_CIRC_GEQ: u32 = 3;
    pub const ACQ_AND: u32 = 4;
    pub const ACQ_NOR: u32 = 5;
    pub const REDUCTION: u32 = 6;
}

impl Pbdma {
    /// A host method.
    pub(crate) fn host_method(&mut self, subch: u32, method: u32, data: u32) -> Result<(), Stop> {
        match method {
            0x00 => self.set_object(subch, data),
            0x04 => Err(self.pbdma_error(format!("ILLEGAL method (handle {data:#x})"))),
            0x08 | 0x24 | 0x78 | 0x80 | 0x84 => Ok(()),
            0x10 => {
                self.host.sem_addr =
                    self.host.sem_addr & 0xffff_ffff | u64::from(data & 0xff) << 32;
                Ok(())
            }
            0x14 => {
                self.host.sem_addr = self.host.sem_addr & !0xffff_ffff | u64::from(data & !3);
                Ok(())
            }
            0x18 => {
                self.host.payload = u64::from(data);
                Ok(())
            }
            0x1c => self.semaphore_d(data),
            0x20 => {
                self.fifo.trace(
                    "fifo",
                    format_args!(
                        "channel {:#x}: NON_STALL_INTERRUPT (engine {} vector {:?})",
                        self.chan.cfg.token(),
                        self.chan.cfg.engine,
                        super::engine_vectors(self.chan.cfg.engine).map(|v| v.2)
                    ),
                );
                self.fifo.nonstall(self.chan.cfg.engine);
                Ok(())
            }
            0x28 | 0x2c | 0x30 => {
                self.host.mem_op[((method - 0x28) / 4) as usize] = data;
                Ok(())
            }
            0x34 => self.mem_op_d(data),
            0x50 => {
                self.userd_write(USERD_REF, data);
                Ok(())
            }
            0x5c => {
                self.host.sem_addr = self.host.sem_addr & !0xffff_ffff | u64::from(data & !3);
                Ok(())
            }
            0x60 => {
                self.host.sem_addr =
                    self.host.sem_addr & 0xffff_ffff | u64::from(data & 0xff) << 32;
                Ok(())
            }
            0x64 => {
                self.host.payload = self.host.payload & !0xffff_ffff | u64::from(data);
                Ok(())
            }
            0x68 => {
                self.host.payload = self.host.payload & 0xffff_ffff | u64::from(data) << 32;
                Ok(())
            }
            0x6c => self.sem_execute(data),
            _ => Err(self.pbdma_error(format!(
                "method {method:#x} = {data:#x} is not a host method"
            ))),
        }
    }

    fn set_object(&mut self, subch: u32, data: u32) -> Result<(), Stop> {
        let class = data & 0xffff;
        let allowed = self.chan.lock().classes.contains(&class);
        if !allowed {
            return Err(self.pbdma_error(format!(
                "SET_OBJECT {class:#06x} on subchannel {subch}: no object of that class is allocated under this channel"
            )));
        }
        let slot = &mut self.subch[subch as usize];
        if slot.as_ref().is_some_and(|e| e.class() == class) {
            return Ok(());
        }
        match self.fifo.new_engine(class) {
            Some(e) => {
                *slot = Some(e);
                self.fifo.trace(
                    "fifo",
                    format_args!(
                        "channel {:#x}: SET_OBJECT {class:#06x} on subchannel {subch}",
                        self.chan.cfg.token()
                    ),
                );
                Ok(())
            }
            None => Err(self.pbdma_error(format!(
                "SET_OBJECT {class:#06x} on subchannel {subch}: this GPU has no engine for the class"
            ))),
        }
    }

    fn mem_op_d(&mut self, d: u32) -> Result<(), Stop> {
        let c = self.host.mem_op[2];
        match d >> 27 {
            5 | 0xd | 0xe | 0xf | 0x10 => Ok(()),
            9 | 0xa => {
                let pdb = (c & 1 == 0).then(|| PdbKey {
                    sys: c >> 10 & 3 >= 2,
                    addr: u64::from(c & 0xffff_f000) | u64::from(d & 0x7ff_ffff) << 32,
                });
                let level = CacheLevel::from_field(c >> 7 & 7);
                self.fifo
                    .0
                    .hub
                    .lock()
                    .invalidate(pdb, level, "host MEM_OP TLB invalidate");
                Ok(())
            }
            o => Err(self.pbdma_error(format!("MEM_OP_D operation {o:#x} is not modelled"))),
        }
    }

    /// Legacy SEMAPHORED.
    fn semaphore_d(&mut self, d: u32) -> Result<(), Stop> {
        let four = d >> 24 & 1 != 0;
        match d & 0x1f {
            1 => self.acquire(op::ACQUIRE, false),
            2 => self.release(false, !four),
            4 => self.acquire(op::ACQ_CIRC_GEQ, false),
            8 => self.acquire(op::ACQ_AND, false),
            o => Err(self.pbdma_error(format!("SEMAPHORED operation {o:#x} is not modelled"))),
        }
    }

    fn sem_execute(&mut self, d: u32) -> Result<(), Stop> {
        let wide = d >> 24 & 1 != 0;
        let ts = d >> 25 & 1 != 0;
        match d & 7 {
            op::RELEASE => self.release(wide, ts),
            op::REDUCTION => self.reduction(d, wide, ts),
            o @ (op::ACQUIRE
            | op::ACQ_STRICT_GEQ
            | op::ACQ_CIRC_GEQ
            | op::ACQ_AND
            | op::ACQ_NOR) => self.acquire(o, wide),
            o => Err(self.pbdma_error(format!("SEM_EXECUTE operation {o} is invalid"))),
        }
    }

    fn check_align(&self, wide: bool, ts: bool) -> Result<u64, Stop> {
        let a = self.host.sem_addr;
        let align = if ts {
            16
        } else if wide {
            8
        } else {
            4
        };
        if !a.is_multiple_of(align) {
            return Err(self.pbdma_error(format!(
                "semaphore address {a:#x} is not {align}-byte aligned"
            )));
        }
        Ok(a)
    }

    fn sem_write(&mut self, a: u64, v: u64, wide: bool, ts: bool) -> Result<(), Stop> {
        let r = if ts {
            let t = self.host_mem.timestamp_ns();
            let mut b = [0u8; 16];
            b[..8].copy_from_slice(&(if wide { v } else { v & 0xffff_ffff }).to_le_bytes());
            b[8..].copy_from_slice(&t.to_le_bytes());
            // Timestamp first, then the payload (dev_pbdma L3868-3871).
            self.host_mem
                .write(a + 8, &b[8..])
                .and_then(|_| self.host_mem.write(a, &b[..8]))
        } else if wide {
            self.host_mem.write(a, &v.to_le_bytes())
        } else {
            self.host_mem.write(a, &(v as u32).to_le_bytes())
        };
        r.map_err(|_| self.host_fault("semaphore release"))
    }

    fn release(&mut self, wide: bool, ts: bool) -> Result<(), Stop> {
        let a = self.check_align(wide, ts)?;
        let v = self.host.payload;
        self.sem_write(a, v, wide, ts)?;
        self.fifo.trace(
            "fifo",
            format_args!(
                "channel {:#x}: semaphore release {a:#x} = {:#x}{}",
                self.chan.cfg.token(),
                if wide { v } else { v & 0xffff_ffff },
                if ts { " + timestamp" } else { "" }
            ),
        );
        Ok(())
    }

    fn sem_read(&mut self, a: u64, wide: bool) -> Result<u64, Stop> {
        let r = if wide {
            self.host_mem.read_u64(a)
        } else {
            self.host_mem.read_u32(a).map(u64::from)
        };
        r.map_err(|_| self.host_fault("semaphore read"))
    }

    fn acquire(&mut self, o: u32, wide: bool) -> Result<(), Stop> {
        let a = self.check_align(wide, false)?;
        let mask = if wide { u64::MAX } else { 0xffff_ffff };
        let p = self.host.payload & mask;
        let ok = |v: u64| match o {
            op::ACQUIRE => v == p,
            op::ACQ_STRICT_GEQ => v >= p,
            op::ACQ_CIRC_GEQ => {
                let d = v.wrapping_sub(p) & mask;
                d <= mask >> 1
            }
            op::ACQ_AND => v & p != 0,
            _ => !(v | p) & mask != 0,
        };
        let mut noted = false;
        loop {
            let v = self.sem_read(a, wide)?;
            if ok(v) {
                if noted {
                    self.fifo.trace(
                        "fifo",
                        format_args!(
                            "channel {:#x}: acquire {a:#x} satisfied ({v:#x})",
                            self.chan.cfg.token()
                        ),
                    );
                }
                return Ok(());
            }
            if !noted {
                noted = true;
                self.fifo.trace(
                    "fifo",
                    format_args!(
                        "channel {:#x}: acquire {a:#x} (op {o}, payload {p:#x}) waits: value {v:#x}",
                        self.chan.cfg.token()
                    ),
                );
            }
            let g = self.chan.lock();
            if self.preempted() {
                return Err(Stop::Preempted);
            }
            let _ = self.chan.cv.wait_timeout(g, ACQUIRE_POLL);
            if self.preempted() {
                return Err(Stop::Preempted);
            }
        }
    }

    fn reduction(&mut self, d: u32, wide: bool, ts: bool) -> Result<(), Stop> {
        let a = self.check_align(wide, ts)?;
        let red = d >> 27 & 0xf;
        let signed = d >> 31 == 0;
        let ok = match red {
            0..=4 => true,
            5 => !(wide && signed),
            6 | 7 => !wide && !signed,
            _ => false,
        };
        if !ok {
            return Err(self.pbdma_error(format!(
                "semaphore reduction {red} ({}, {}-bit) is not supported",
                if signed { "signed" } else { "unsigned" },
                if wide { 64 } else { 32 }
            )));
        }
        let mask = if wide { u64::MAX } else { 0xffff_ffff };
        let v = self.sem_read(a, wide)?;
        let p = self.host.payload & mask;
        let sx = |x: u64| {
            if wide {
                x as i64
            } else {
                i64::from(x as u32 as i32)
            }
        };
        let r = match red {
            0 if signed => {
                if sx(v) < sx(p) {
                    v
                } else {
                    p
                }
            }
            0 => v.min(p),
            1 if signed => {
                if sx(v) > sx(p) {
                    v
                } else {
                    p
                }
            }
            1 => v.max(p),
            2 => v ^ p,
            3 => v & p,
            4 => v | p,
            5 => v.wrapping_add(p) & mask,
            6 => {
                if v >= p {
                    0
                } else {
                    v + 1
                }
            }
            _ => {
                if v == 0 || v > p {
                    p
                } else {
                    v - 1
                }
            }
        };
        self.sem_write(a, r, wide, ts)
    }
}
