// SPDX-License-Identifier: GPL-2.0
//! A channel's PBDMA: the thread that fetches its GPFIFO and push buffers and executes
//! their methods.
//!
//! ## GPFIFO (docs/facts/ga102.md §10.3, §11.1; OD `ampere/ga100/dev_pbdma.ref.txt` L90-245)
//! Woken by a doorbell (and bound + scheduled), the PBDMA reads GPPut from USERD + 0x8C
//! (physical, the USERD of the allocation) and processes entries GPGet .. GPPut, wrapping at
//! gpFifoEntries; GPGet starts at 0 and is written back to USERD + 0x88 after every entry. It
//! reads GPPut again when it catches up, and parks when GPGet = GPPut. A GPPut ≥
//! gpFifoEntries is a channel error (the ring has no such entry). Each 8-byte entry is read
//! through the channel's VA space at gpFifoOffset + 8 × GPGet:
//! - LENGTH (w1 30:10) = 0: a control entry, OPCODE (w1 7:0) NOP proceeds; ILLEGAL or an
//!   unknown opcode is a channel error (`INTR_0_GPENTRY`, "invalid GP entries are treated like
//!   traps"); GP_CRC / PB_CRC are not modelled (the model computes no CRC) and stop the
//!   channel with that reason.
//! - otherwise a push-buffer segment of LENGTH words at GET_HI:GET (w1 7:0, w0 31:2). A segment
//!   reaching the end of the 40-bit VA space is a channel error (`INTR_0_GPENTRY`, L234-245).
//!   FETCH_CONDITIONAL (w0 0) skips the segment while the subdevice mask disables this GPU.
//!   SYNC (w1 31) needs nothing: the model finishes each segment before fetching the next.
//!   LEVEL (w1 9) only affects TOP_LEVEL_GET, not modelled.
//!
//! ## Push-buffer entries (OD `ampere/ga100/dev_ram.ref.txt` L860-1320, docs/facts/ga102.md §11.2)
//! A method header's data words may continue in the next segment ("the PB method data entries
//! may be located in a PB segment separate from their corresponding method header", L936-937):
//! the decoder keeps its state across GP entries. Header decoding by SEC_OP (31:29):
//! - 0 GRP0_USE_TERT: a word of 0 is the universal NOP; TERT_OP (17:16) 1 SET_SUBDEVICE_MASK
//!   (mask 15:4), 2 STORE_SUBDEVICE_MASK, 3 USE_SUBDEVICE_MASK; TERT_OP 0 (old-format
//!   incrementing header) is "obsolete" → channel error (`INTR_0_PBENTRY`, dev_pbdma L2792-2802).
//!   While the mask AND this GPU's SUBDEVICE_ID (model: 1, the one subdevice) is 0, methods
//!   are dropped; control entries are still obeyed.
//! - 1 INC_METHOD, 3 NON_INC_METHOD, 5 ONE_INC: COUNT 28:16 data words follow for SUBCHANNEL
//!   15:13 at ADDRESS 11:0 (dwords). An INC or ONE_INC whose addresses would pass 0xFFF is a
//!   channel error (`INTR_0_PBENTRY`, "the method addresses would wrap").
//! - 4 IMMD_DATA_METHOD: one method, data = 28:16.
//! - 2 GRP2_USE_TERT (old-format non-incrementing) and 6 RESERVED: channel error (PBENTRY).
//! - 7 END_PB_SEGMENT: the rest of the segment is ignored.
//!
//! Methods below 0x100 are host methods ([`super::methods`]); the others go to the engine
//! bound to the subchannel with SET_OBJECT ([`crate::engines`]); none bound is a channel
//! error (`INTR_0_DEVICE`: a method for "a non-existent engine", L2909-2912).

use super::mem::ChanMem;
use super::methods::Host;
use super::{xid, Chan, Fifo, RcEvent, USERD_GP_GET, USERD_GP_PUT};
use crate::engines::{ChannelMemory, Engine, EngineError};
use crate::mmu::fault::Client;
use crate::mmu::walk::PhysMem;
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// The model's `NV_PPBDMA_SUBDEVICE_ID` (one GPU: subdevice 0's bit).
pub const SUBDEVICE_ID: u32 = 1;
/// Push-buffer words fetched per read (a segment may be up to 8 MiB).
const FETCH_WORDS: usize = 16 << 10;

/// Why the PBDMA stopped processing.
#[derive(Debug)]
pub(crate) enum Stop {
    /// The channel is being freed.
    Preempted,
    /// A channel error.
    Error(RcEvent),
}

/// The MMU client ids of a channel's PBDMA (host) and engine (OG 570.144
/// `src/common/inc/swref/published/ampere/ga100/dev_fault.h`: `NV_PFAULT_MMU_ENG_ID_CEn` =
/// 15 + n L42-51, `NV_PFAULT_CLIENT_HUB_CE0` 1, `_CE1` 2, `_CE2` 0x18 L108-137, `_FE` 4 L113,
/// `_HOST` 6 L116). The header lists no GRAPHICS engine id: GR uses 64 (model choice, the
/// Volta/Turing value; unconfirmed for GA102). CE3-CE9 use the CE2 client id (model choice).
pub fn clients(engine: u32) -> (Client, Client) {
    const CE_NAMES: [&str; 10] = [
        "CE0", "CE1", "CE2", "CE3", "CE4", "CE5", "CE6", "CE7", "CE8", "CE9",
    ];
    const HOST_NAMES: [&str; 10] = [
        "HOST(CE0)",
        "HOST(CE1)",
        "HOST(CE2)",
        "HOST(CE3)",
        "HOST(CE4)",
        "HOST(CE5)",
        "HOST(CE6)",
        "HOST(CE7)",
        "HOST(CE8)",
        "HOST(CE9)",
    ];
    if engine == super::ENGINE_GRAPHICS {
        let host = Client {
            name: "HOST(GR)",
            engine_id: 64,
            client: 6,
        };
        let fe = Client {
            name: "GR",
            engine_id: 64,
            client: 4,
        };
        return (host, fe);
    }
    let n = engine.saturating_sub(super::ENGINE_COPY0).min(9) as usize;
    let engine_id = 15 + n as u16;
    let client = match n {
        0 => 1,
        1 => 2,
        _ => 0x18,
    };
    (
        Client {
            name: HOST_NAMES[n],
            engine_id,
            client: 6,
        },
        Client {
            name: CE_NAMES[n],
            engine_id,
            client,
        },
    )
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Inc,
    NonInc,
    OneInc,
}

/// A method header whose data words are still to come.
#[derive(Clone, Copy, Debug)]
struct Pending {
    kind: Kind,
    subch: u32,
    /// Dword address of the next method.
    addr: u32,
    left: u32,
}

/// The PBDMA's state for one channel.
pub(crate) struct Pbdma {
    pub fifo: Fifo,
    pub chan: Arc<Chan>,
    /// Host fetches (GPFIFO, push buffers, semaphores).
    pub host_mem: ChanMem,
    /// The engines' accesses.
    pub eng_mem: ChanMem,
    pub host: Host,
    pub subch: [Option<Box<dyn Engine>>; 8],
    pending: Option<Pending>,
    mask: u32,
    stored_mask: u32,
    gp_get: u32,
}

/// The thread body: park until rung (and bound and scheduled), then process the ring.
pub(crate) fn run(fifo: Fifo, chan: Arc<Chan>) {
    let (host_client, eng_client) = clients(chan.cfg.engine);
    let inst = chan.cfg.inst;
    let mut p = Pbdma {
        host_mem: ChanMem::new(fifo.clone(), inst, host_client),
        eng_mem: ChanMem::new(fifo.clone(), inst, eng_client),
        fifo,
        chan,
        host: Host::default(),
        subch: Default::default(),
        pending: None,
        mask: 0xfff,
        stored_mask: 0xfff,
        gp_get: 0,
    };
    loop {
        {
            let mut g = p.chan.lock();
            loop {
                if p.chan.stop.load(Ordering::SeqCst) {
                    return;
                }
                if g.kicks > 0 && g.bound && g.scheduled {
                    g.kicks = 0;
                    g.idle = false;
                    break;
                }
                g = p.chan.cv.wait(g).unwrap_or_else(|e| e.into_inner());
            }
        }
        match p.drain() {
            Ok(()) => p.chan.lock().idle = true,
            Err(Stop::Preempted) => return,
            Err(Stop::Error(e)) => {
                p.fail(e);
                return;
            }
        }
    }
}

impl Pbdma {
    fn token(&self) -> u32 {
        self.chan.cfg.token()
    }

    /// An [`RcEvent`] of this channel.
    pub fn rc(&self, except_type: u32, mmu_fault: Option<(u64, u32)>, why: String) -> Stop {
        Stop::Error(RcEvent {
            engine: self.chan.cfg.engine,
            runlist: self.chan.cfg.runlist,
            chid: self.chan.cfg.chid,
            except_type,
            mmu_fault,
            why,
        })
    }

    /// A PBDMA error (bad entry, header or method).
    pub fn pbdma_error(&self, why: String) -> Stop {
        self.rc(xid::PBDMA_ERROR, None, why)
    }

    /// A host fetch faulted.
    pub fn host_fault(&self, what: &str) -> Stop {
        let (va, f) = self
            .host_mem
            .last_fault
            .unwrap_or((0, crate::mmu::walk::FaultType::Pte));
        self.rc(
            xid::FIFO_ERROR_MMU_ERR_FLT,
            Some((va, f as u32)),
            format!("MMU fault {} at VA {va:#x} ({what})", f.name()),
        )
    }

    fn fail(&mut self, e: RcEvent) {
        self.fifo.trace(
            "fifo",
            format_args!(
                "channel {:#x} error: {} (exceptType {}{}): stopped, RC_TRIGGERED to GSP-RM",
                self.token(),
                e.why,
                e.except_type,
                match e.mmu_fault {
                    Some((va, t)) => format!(", MMU fault type {t:#x} at {va:#x}"),
                    None => String::new(),
                }
            ),
        );
        self.chan.lock().error = Some(e.why.clone());
        self.fifo.report(e);
    }

    /// Whether the channel is being freed.
    pub fn preempted(&self) -> bool {
        self.chan.stop.load(Ordering::SeqCst)
    }

    fn userd_read(&self, off: u64) -> u32 {
        let (ap, pa) = self.chan.cfg.userd;
        let mut b = [0u8; 4];
        if !self.fifo.0.mem.read(ap, pa + off, &mut b) {
            return 0;
        }
        u32::from_le_bytes(b)
    }

    /// Writes a USERD word.
    pub fn userd_write(&self, off: u64, v: u32) {
        let (ap, pa) = self.chan.cfg.userd;
        self.fifo.0.mem.write(ap, pa + off, &v.to_le_bytes());
    }

    /// Processes entries until GPGet = GPPut.
    fn drain(&mut self) -> Result<(), Stop> {
        let entries = self.chan.cfg.entries;
        loop {
            let put = self.userd_read(USERD_GP_PUT);
            if put >= entries {
                return Err(
                    self.pbdma_error(format!("GPPut {put} is past the ring's {entries} entries"))
                );
            }
            if put == self.gp_get {
                return Ok(());
            }
            while self.gp_get != put {
                if self.preempted() {
                    return Err(Stop::Preempted);
                }
                let va = self.chan.cfg.gpfifo_va + 8 * u64::from(self.gp_get);
                let e = self
                    .host_mem
                    .read_u64(va)
                    .map_err(|_| self.host_fault("GPFIFO entry fetch"))?;
                self.entry(self.gp_get, e)?;
                self.gp_get = (self.gp_get + 1) % entries;
                self.userd_write(USERD_GP_GET, self.gp_get);
                self.chan.lock().gp_get = self.gp_get;
                self.fifo.count(|s| s.gp_entries += 1);
            }
        }
    }

    /// One GP entry.
    fn entry(&mut self, index: u32, e: u64) -> Result<(), Stop> {
        let (w0, w1) = (e as u32, (e >> 32) as u32);
        let len = w1 >> 10 & 0x1f_ffff;
        let tok = self.token();
        if len == 0 {
            let op = w1 & 0xff;
            self.fifo.trace(
                "fifo",
                format_args!("channel {tok:#x} GP[{index}] {e:#018x}: control entry, opcode {op}"),
            );
            return match op {
                0 => Ok(()),
                1 => Err(self.pbdma_error(format!("GP[{index}]: ILLEGAL control entry"))),
                2 | 3 => Err(self.pbdma_error(format!(
                    "GP[{index}]: {} control entry (CRCs are not modelled)",
                    if op == 2 { "GP_CRC" } else { "PB_CRC" }
                ))),
                _ => Err(self.pbdma_error(format!("GP[{index}]: control opcode {op} is invalid"))),
            };
        }
        let get = u64::from(w0 & !3) | u64::from(w1 & 0xff) << 32;
        let end = get + 4 * u64::from(len);
        self.fifo.trace(
            "fifo",
            format_args!(
                "channel {tok:#x} GP[{index}] {e:#018x}: segment {get:#x}, {len} words{}{}",
                if w1 >> 31 != 0 { ", SYNC_WAIT" } else { "" },
                if w0 & 1 != 0 { ", conditional" } else { "" }
            ),
        );
        if end >= 1 << 40 {
            return Err(self.pbdma_error(format!(
                "GP[{index}]: segment {get:#x} + {len} words reaches the end of the VA space"
            )));
        }
        if w0 & 1 != 0 && self.mask & SUBDEVICE_ID == 0 {
            return Ok(());
        }
        let mut words = vec![0u32; (len as usize).min(FETCH_WORDS)];
        let mut bytes = vec![0u8; 4 * words.len()];
        let mut at = 0usize;
        while at < len as usize {
            let n = (len as usize - at).min(FETCH_WORDS);
            let va = get + 4 * at as u64;
            self.host_mem
                .read(va, &mut bytes[..4 * n])
                .map_err(|_| self.host_fault("push buffer fetch"))?;
            for (i, w) in words[..n].iter_mut().enumerate() {
                *w = u32::from_le_bytes([
                    bytes[4 * i],
                    bytes[4 * i + 1],
                    bytes[4 * i + 2],
                    bytes[4 * i + 3],
                ]);
            }
            for (i, &w) in words[..n].iter().enumerate() {
                if self.preempted() {
                    return Err(Stop::Preempted);
                }
                if !self.word(w, va + 4 * i as u64)? {
                    return Ok(());
                }
            }
            at += n;
        }
        Ok(())
    }

    /// One push-buffer word at `va`. Returns false at END_PB_SEGMENT.
    fn word(&mut self, w: u32, va: u64) -> Result<bool, Stop> {
        if let Some(mut p) = self.pending {
            let addr = p.addr;
            match p.kind {
                Kind::Inc => p.addr += 1,
                // The first word went to ADDRESS, the rest go to ADDRESS + 1.
                Kind::OneInc => {
                    p.kind = Kind::NonInc;
                    p.addr += 1;
                }
                Kind::NonInc => {}
            }
            p.left -= 1;
            self.pending = (p.left > 0).then_some(p);
            self.method(p.subch, addr * 4, w)?;
            return Ok(true);
        }
        if w == 0 {
            return Ok(true);
        }
        let (sec, count, subch, addr) = (w >> 29, w >> 16 & 0x1fff, w >> 13 & 7, w & 0xfff);
        match sec {
            0 => match w >> 16 & 3 {
                1 => self.mask = w >> 4 & 0xfff,
                2 => self.stored_mask = w >> 4 & 0xfff,
                3 => self.mask = self.stored_mask,
                _ => {
                    return Err(self.pbdma_error(format!(
                    "header {w:#010x} at {va:#x}: old-format incrementing method header (obsolete)"
                )))
                }
            },
            1 | 3 | 5 => {
                let kind = match sec {
                    1 => Kind::Inc,
                    3 => Kind::NonInc,
                    _ => Kind::OneInc,
                };
                let last = match kind {
                    Kind::Inc => addr + count.saturating_sub(1),
                    Kind::OneInc if count > 1 => addr + 1,
                    _ => addr,
                };
                if last > 0xfff {
                    return Err(self.pbdma_error(format!(
                        "header {w:#010x} at {va:#x}: COUNT {count} from method {:#x} wraps past the last method address",
                        addr * 4
                    )));
                }
                if count > 0 {
                    self.pending = Some(Pending {
                        kind,
                        subch,
                        addr,
                        left: count,
                    });
                }
            }
            4 => self.method(subch, addr * 4, count)?,
            7 => return Ok(false),
            _ => {
                return Err(self.pbdma_error(format!(
                    "header {w:#010x} at {va:#x}: SEC_OP {sec} ({}) is not a valid header",
                    if sec == 2 {
                        "old-format non-incrementing"
                    } else {
                        "reserved"
                    }
                )))
            }
        }
        Ok(true)
    }

    /// One method: host (offset < 0x100) or the subchannel's engine.
    fn method(&mut self, subch: u32, method: u32, data: u32) -> Result<(), Stop> {
        if self.mask & SUBDEVICE_ID == 0 {
            return Ok(());
        }
        self.fifo.count(|s| s.methods += 1);
        if self.fifo.0.tracer.enabled("methods") {
            self.fifo.trace(
                "methods",
                format_args!(
                    "channel {:#x} subch {subch} method {method:#06x} = {data:#010x}",
                    self.token()
                ),
            );
        }
        if method < 0x100 {
            return self.host_method(subch, method, data);
        }
        let Some(eng) = self.subch[subch as usize].as_mut() else {
            return Err(self.pbdma_error(format!(
                "method {method:#x} = {data:#x} on subchannel {subch}, which has no object (SET_OBJECT first)"
            )));
        };
        match eng.method(&mut self.eng_mem, method, data) {
            Ok(fx) => {
                if fx.nonstall_interrupt {
                    self.fifo.nonstall(self.chan.cfg.engine);
                }
                Ok(())
            }
            Err(e) => {
                let class = eng.class();
                Err(self.engine_error(class, e))
            }
        }
    }

    fn engine_error(&self, class: u32, e: EngineError) -> Stop {
        let engine = self.chan.cfg.engine;
        let except = if engine == super::ENGINE_GRAPHICS {
            xid::GR_EXCEPTION
        } else {
            xid::ce_error(engine - super::ENGINE_COPY0)
        };
        match e {
            EngineError::Fault(f) => {
                let (va, t) = self
                    .eng_mem
                    .last_fault
                    .unwrap_or((f.va, crate::mmu::walk::FaultType::Pte));
                self.rc(
                    xid::FIFO_ERROR_MMU_ERR_FLT,
                    Some((va, t as u32)),
                    format!(
                        "class {class:#06x}: MMU fault {} at VA {va:#x} ({})",
                        t.name(),
                        if f.write { "write" } else { "read" }
                    ),
                )
            }
            EngineError::BadMethod { method, data } => self.rc(
                except,
                None,
                format!("class {class:#06x}: method {method:#x} = {data:#x} is not a method of the class"),
            ),
            EngineError::BadArgument { method, data, why } => self.rc(
                except,
                None,
                format!("class {class:#06x}: method {method:#x} = {data:#x}: {why}"),
            ),
        }
    }
}
