// SPDX-License-Identifier: GPL-2.0
//! An engine's memory access through a GPU virtual address space, as a HUB client makes it
//! (copy engine 0 for the test port, [`crate::testport`]).
//!
//! 1. The instance block (docs/facts/ga102.md §12.3): its 2-bit aperture (0 VID_MEM, 1 INVALID, 2
//!    SYS_MEM_COHERENT, 3 SYS_MEM_NONCOHERENT, the `INST_APERTURE` / `PAGE_DIR_BASE_TARGET`
//!    encoding) and 4 KiB-aligned address. It is read at every access (no engine context is
//!    cached). Aperture INVALID, a block the device cannot read, and a PAGE_DIR_BASE that
//!    cannot be bound (target INVALID, not USE_VER2_PT_FORMAT, 128 KiB big pages:
//!    [`super::inst::PageDirBase::pdb`]) fault `UNBOUND_INST_BLOCK`.
//! 2. The access is split at 4 KiB boundaries; each piece is translated through the hub TLB
//!    ([`super::tlb`]: a translation cached before a page-table change stays in use until an
//!    invalidate), i.e. the version-2 walk of docs/facts/ga102.md §12.1/§12.2 with tables and pages in VRAM
//!    or guest RAM, 4 KiB / 64 KiB / 2 MiB / 512 MiB pages, VALID, apertures and sparse entries
//!    ([`super::walk`]); a write through a READ_ONLY PTE faults `RO_VIOLATION`.
//! 3. If any piece faults, nothing is read or written (a read returns 0) and the first
//!    faulting piece is reported ([`HubState::record_engine_fault`]: snapshot registers,
//!    non-replayable fault buffer, GSP-RM's notification). Otherwise every piece is performed:
//!    a page reads or writes memory (memory that is not there reads 0 and drops the write, as
//!    for BAR1), a sparse range reads 0 and drops the write without a fault.
//!
//! Each piece (or the fault) is one line of the MMU log ([`super::log`]) and of the `mmu`
//! trace, with the walk behind a TLB miss.

use super::fault::Client;
use super::fault_buffer::Push;
use super::format::Aperture;
use super::hub::{inst_name, HubState};
use super::inst::{InstBlock, Target};
use super::log::size_name;
use super::walk::{check_access, Access, FaultType, Outcome, Pdb, Translation};

/// An instance-block pointer as an engine is given it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InstPtr {
    /// 0 VID_MEM, 1 INVALID, 2 SYS_MEM_COHERENT, 3 SYS_MEM_NONCOHERENT.
    pub aperture: u32,
    /// Address (4 KiB aligned).
    pub addr: u64,
}

impl std::fmt::Display for InstPtr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{:#x}", inst_name(self.aperture), self.addr)
    }
}

/// A piece of the access that reached memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mapped {
    /// The translation of the piece's first byte.
    pub t: Translation,
    /// Whether the TLB answered.
    pub hit: bool,
    /// False if nothing backs the address.
    pub backed: bool,
}

/// A fault the access took.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EngineFault {
    /// The fault type.
    pub fault: FaultType,
    /// The faulting VA.
    pub va: u64,
    /// Whether the snapshot registers took it.
    pub snapped: bool,
    /// What the non-replayable buffer did with it.
    pub buffer: Push,
}

/// What an access did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EngineAccess {
    /// The first piece that reached memory.
    pub mapped: Option<Mapped>,
    /// Some piece hit a sparse range.
    pub sparse: bool,
    /// The fault, if the access faulted (then nothing was accessed).
    pub fault: Option<EngineFault>,
}

impl HubState {
    /// The VA space of the instance block `inst`, or the `UNBOUND_INST_BLOCK` fault.
    pub fn engine_pdb(&self, inst: InstPtr) -> Result<Pdb, FaultType> {
        let ap = Target::from_bits(inst.aperture)
            .aperture()
            .ok_or(FaultType::UnboundInstBlock)?;
        InstBlock::read(self.mem(), ap, inst.addr)
            .ok_or(FaultType::UnboundInstBlock)?
            .page_dir
            .pdb()
    }

    /// `client` reads `buf.len()` bytes at `va` into `buf` (or writes `buf` there) in the VA
    /// space of the instance block `inst`; `who` names the requester in the MMU log.
    pub fn engine_access(
        &mut self,
        client: &Client,
        who: &str,
        inst: InstPtr,
        va: u64,
        buf: &mut [u8],
        access: Access,
    ) -> EngineAccess {
        let pdb = self.engine_pdb(inst);
        let space = match &pdb {
            Ok(p) => format!("inst={inst} pdb={}:{:#x}", p.aperture.name(), p.addr),
            Err(_) => format!("inst={inst} unbound"),
        };
        let r = match pdb {
            Err(f) => EngineAccess {
                fault: Some(self.engine_fault(client, inst, va, access, f)),
                ..Default::default()
            },
            Ok(pdb) => self.engine_pieces(client, who, inst, &pdb, va, buf, access, &space),
        };
        if let Some(f) = r.fault {
            if access == Access::Read {
                buf.fill(0);
            }
            self.engine_log(
                who,
                va,
                buf.len(),
                access,
                &space,
                &format!(
                    "fault={} fault_buffer={}",
                    f.fault.name(),
                    f.buffer.describe()
                ),
            );
            self.engine_note(
                client,
                inst,
                va,
                buf,
                access,
                &format!("fault {}", f.fault.name()),
            );
        }
        r
    }

    fn engine_fault(
        &mut self,
        client: &Client,
        inst: InstPtr,
        va: u64,
        access: Access,
        f: FaultType,
    ) -> EngineFault {
        let (_, snapped, buffer) =
            self.record_engine_fault(client, va, (inst.aperture, inst.addr), access, f);
        EngineFault {
            fault: f,
            va,
            snapped,
            buffer,
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn engine_pieces(
        &mut self,
        client: &Client,
        who: &str,
        inst: InstPtr,
        pdb: &Pdb,
        va: u64,
        buf: &mut [u8],
        access: Access,
        space: &str,
    ) -> EngineAccess {
        let mut pieces = vec![];
        let mut done = 0;
        while done < buf.len() {
            let pva = va.wrapping_add(done as u64);
            let n = ((0x1000 - (pva & 0xfff)) as usize).min(buf.len() - done);
            let l = self.lookup(pdb, pva);
            self.walk_note(client.name, pdb, pva, &l);
            let fault = match l.outcome {
                Outcome::Mapped(t) => check_access(&t, access).err(),
                Outcome::Fault(f) => Some(f),
                Outcome::Sparse { .. } => None,
            };
            if let Some(f) = fault {
                return EngineAccess {
                    fault: Some(self.engine_fault(client, inst, pva, access, f)),
                    ..Default::default()
                };
            }
            pieces.push((done, n, l));
            done += n;
        }
        let mut r = EngineAccess::default();
        for (off, n, l) in pieces {
            let pva = va.wrapping_add(off as u64);
            let part = &mut buf[off..off + n];
            let what = match l.outcome {
                Outcome::Mapped(t) => {
                    let backed = match access {
                        Access::Read => self.read(t.aperture, t.pa, part),
                        Access::Write => self.write(t.aperture, t.pa, part),
                    };
                    if !backed && access == Access::Read {
                        part.fill(0);
                    }
                    r.mapped.get_or_insert(Mapped {
                        t,
                        hit: l.hit,
                        backed,
                    });
                    let log = if backed {
                        format!(
                            "{}:{:#x} page={:#x} size={} ro={} kind={:#04x} tlb={}",
                            t.aperture.name(),
                            t.pa,
                            t.page_pa(),
                            size_name(t.page_shift),
                            u8::from(t.read_only),
                            t.kind,
                            if l.hit { "hit" } else { "miss" }
                        )
                    } else {
                        "nothing".into()
                    };
                    self.engine_log(who, pva, n, access, space, &log);
                    format!(
                        "{} {:#x} ({} page, TLB {}){}",
                        t.aperture.name(),
                        t.pa,
                        size_name(t.page_shift),
                        if l.hit { "hit" } else { "miss" },
                        if backed { "" } else { " (nothing there)" }
                    )
                }
                _ => {
                    if access == Access::Read {
                        part.fill(0);
                    }
                    r.sparse = true;
                    self.engine_log(who, pva, n, access, space, "sparse");
                    "sparse (reads 0, writes dropped)".into()
                }
            };
            self.engine_note(client, inst, pva, part, access, &what);
        }
        r
    }

    fn engine_log(&mut self, who: &str, va: u64, len: usize, access: Access, space: &str, r: &str) {
        if self.logging() {
            self.log(format_args!(
                "{who} {} va={va:#x} len={len} {space} -> {r}",
                access.letter()
            ));
        }
    }

    fn engine_note(
        &self,
        client: &Client,
        inst: InstPtr,
        va: u64,
        part: &[u8],
        access: Access,
        what: &str,
    ) {
        if !self.tracer().enabled("mmu") {
            return;
        }
        let mut v = [0u8; 8];
        let n = part.len().min(8);
        v[..n].copy_from_slice(&part[..n]);
        self.tracer().line(
            "mmu",
            format_args!(
                "{} {}{} VA {va:#x} (instance block {inst}) {} {:#x} -> {what}",
                client.name,
                access.letter(),
                part.len() * 8,
                if access == Access::Read { "=" } else { "<-" },
                u64::from_le_bytes(v)
            ),
        );
    }
}

/// The PTE aperture encoding (0 VIDEO, 1 PEER, 2 SYSTEM_COHERENT, 3 SYSTEM_NON_COHERENT).
pub fn pte_aperture_bits(a: Aperture) -> u32 {
    match a {
        Aperture::Video => 0,
        Aperture::Peer => 1,
        Aperture::SysCoherent => 2,
        Aperture::SysNonCoherent => 3,
    }
}

#[cfg(test)]
mod tests;
