// SPDX-License-Identifier: GPL-2.0
//! BAR1: the CPU's aperture onto GPU memory, as an MMU client. Every access is translated:
//! the BAR1 offset is the VA in the BAR1 VA space, whose instance block `NV_PBUS_BAR1_BLOCK`
//! points to (docs/facts/ga102.md §1.3; OD `ampere/ga100/dev_bus.ref.txt` L163-175).
//!
//! `NV_PBUS_BAR1_BLOCK` (0x001704): PTR 27:0 = instance block >> 12 (`_PTR_SHIFT` 12), TARGET
//! 29:28 (0 VID_MEM, 2 SYS_MEM_COHERENT, 3 SYS_MEM_NONCOHERENT), MODE 31 (0 PHYSICAL, 1
//! VIRTUAL); INIT 0. A write binds at once (the bind reads the instance block then; a later
//! change to the block needs a new bind, as `NV_PBUS_BIND_STATUS` suggests), so
//! `NV_PBUS_BIND_STATUS` (0x001710) always reads 0 (no bind pending or outstanding; RM polls it
//! after the write, OG 570.144 `kern_bus_tu102.c` L296-310).
//!
//! - MODE VIRTUAL: the instance block's PAGE_DIR_BASE gives the PDB and the big-page size
//!   ([`super::inst`]); the walk goes through the hub TLB. A block that cannot be bound makes
//!   every access fault `UNBOUND_INST_BLOCK`.
//! - MODE PHYSICAL: the offset is used as a physical address in TARGET (model's reading: RM
//!   switches BAR1 to physical video memory "so we don't accidentally corrupt sysmem", OG
//!   570.144 `kern_bus_gm107.c` L745-757, and binds with PTR 0 in physical mode,
//!   `kern_bus_tu102.c` L276-283). This is BAR1 at power-on, before GSP-RM binds it.
//!
//! Accesses are split at 4 KiB boundaries (the smallest page); each piece is translated on its
//! own. A piece that faults or hits a sparse range reads 0 and drops the write; a fault is
//! recorded in the fault registers ([`super::fault`]). Memory that is not there (past the end
//! of VRAM, unmapped guest RAM) reads 0 and drops writes, traced.

use super::format::Aperture;
use super::hub::HubState;
use super::inst::InstBlock;
use super::walk::{check_access, Access, FaultType, Outcome, Pdb};

/// `NV_PBUS_BAR1_BLOCK`.
pub const BAR1_BLOCK: u32 = 0x00_1704;
/// `NV_PBUS_BIND_STATUS`.
pub const BIND_STATUS: u32 = 0x00_1710;
/// `NV_PBUS_BAR1_BLOCK_MODE_VIRTUAL`.
pub const MODE_VIRTUAL: u32 = 1 << 31;
/// `NV_PBUS_BAR1_BLOCK_PTR_SHIFT`.
pub const PTR_SHIFT: u32 = 12;

/// The BAR1_BLOCK value that binds BAR1 to the instance block at `inst` in `aperture`.
pub fn block_value(aperture: Aperture, inst: u64) -> u32 {
    let target = match aperture {
        Aperture::SysCoherent => 2,
        Aperture::SysNonCoherent => 3,
        _ => 0,
    };
    MODE_VIRTUAL | (target << 28) | ((inst >> PTR_SHIFT) as u32 & 0x0fff_ffff)
}

/// What BAR1 is bound to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bind {
    /// Offsets are physical addresses in this aperture (None: TARGET 1, undefined).
    Physical(Option<Aperture>),
    /// Translated through the instance block at (aperture, address).
    Virtual {
        /// Where the instance block is (None: TARGET 1).
        inst: (Option<Aperture>, u64),
        /// The VA space, or why the block cannot be bound.
        pdb: Result<Pdb, FaultType>,
    },
}

/// BAR1's binding.
#[derive(Clone, Copy, Debug)]
pub struct Bar1 {
    /// The register value.
    pub block: u32,
    /// What it bound.
    pub bind: Bind,
}

impl Default for Bar1 {
    fn default() -> Self {
        Bar1 {
            block: 0,
            bind: Bind::Physical(Some(Aperture::Video)),
        }
    }
}

fn target(v: u32) -> Option<Aperture> {
    match (v >> 28) & 3 {
        0 => Some(Aperture::Video),
        2 => Some(Aperture::SysCoherent),
        3 => Some(Aperture::SysNonCoherent),
        _ => None,
    }
}

/// One translated piece of a BAR1 access, for the trace and the MMU log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Piece {
    /// Reached memory.
    Mapped {
        /// Where.
        aperture: Aperture,
        /// Physical address of the first byte.
        pa: u64,
        /// Page size shift (0 in physical mode).
        page_shift: u32,
        /// Whether the TLB answered.
        hit: bool,
        /// False if nothing backs the address.
        backed: bool,
        /// READ_ONLY of the PTE (false in physical mode).
        read_only: bool,
        /// KIND of the PTE (0 in physical mode).
        kind: u8,
    },
    /// A sparse range.
    Sparse,
    /// A fault.
    Fault(FaultType),
    /// Physical mode with the undefined TARGET 1: nothing is reached.
    Undefined,
}

impl HubState {
    /// BAR1's binding.
    pub fn bar1(&self) -> Bar1 {
        self.bar1_state
    }

    /// A write of `NV_PBUS_BAR1_BLOCK`: binds BAR1.
    pub fn bar1_bind(&mut self, v: u32) {
        let v = v & 0xbfff_ffff;
        let ap = target(v);
        let bind = if v & MODE_VIRTUAL == 0 {
            Bind::Physical(ap)
        } else {
            let addr = u64::from(v & 0x0fff_ffff) << PTR_SHIFT;
            let pdb = match ap.and_then(|a| InstBlock::read(self.mem(), a, addr)) {
                Some(b) => b.page_dir.pdb(),
                None => Err(FaultType::UnboundInstBlock),
            };
            Bind::Virtual {
                inst: (ap, addr),
                pdb,
            }
        };
        self.tracer().line(
            "bar1",
            format_args!("BAR1_BLOCK {v:#010x}: {}", describe(&bind)),
        );
        if self.logging() {
            let l = super::log::bind_line(&bind);
            self.log(format_args!("{l}"));
        }
        self.bar1_state = Bar1 { block: v, bind };
    }

    /// A CPU access to BAR1 at `offset` (a read fills `buf`, a write stores it).
    pub fn bar1_access(&mut self, offset: u64, buf: &mut [u8], access: Access) {
        let mut done = 0;
        while done < buf.len() {
            let va = offset + done as u64;
            let n = ((0x1000 - (va & 0xfff)) as usize).min(buf.len() - done);
            let part = &mut buf[done..done + n];
            let piece = self.bar1_piece(va, part, access);
            self.bar1_note(va, part, access, piece);
            self.bar1_log(va, part.len(), access, piece);
            done += n;
        }
    }

    fn bar1_piece(&mut self, va: u64, part: &mut [u8], access: Access) -> Piece {
        let (aperture, pa, page_shift, hit, read_only, kind) = match self.bar1_state.bind {
            Bind::Physical(Some(a)) => (a, va, 0, false, false, 0),
            Bind::Physical(None) => {
                if access == Access::Read {
                    part.fill(0);
                }
                return Piece::Undefined;
            }
            Bind::Virtual { pdb: Err(f), .. } => return self.bar1_fault(va, part, access, f),
            Bind::Virtual { pdb: Ok(pdb), .. } => {
                let l = self.lookup(&pdb, va);
                self.walk_note("BAR1", &pdb, va, &l);
                match l.outcome {
                    Outcome::Mapped(t) => {
                        if let Err(f) = check_access(&t, access) {
                            return self.bar1_fault(va, part, access, f);
                        }
                        (t.aperture, t.pa, t.page_shift, l.hit, t.read_only, t.kind)
                    }
                    Outcome::Sparse { .. } => {
                        if access == Access::Read {
                            part.fill(0);
                        }
                        return Piece::Sparse;
                    }
                    Outcome::Fault(f) => return self.bar1_fault(va, part, access, f),
                }
            }
        };
        let backed = match access {
            Access::Read => self.read(aperture, pa, part),
            Access::Write => self.write(aperture, pa, part),
        };
        if !backed && access == Access::Read {
            part.fill(0);
        }
        Piece::Mapped {
            aperture,
            pa,
            page_shift,
            hit,
            backed,
            read_only,
            kind,
        }
    }

    fn bar1_fault(&mut self, va: u64, part: &mut [u8], access: Access, f: FaultType) -> Piece {
        if access == Access::Read {
            part.fill(0);
        }
        let inst = match self.bar1_state.bind {
            Bind::Virtual { inst, .. } => inst,
            Bind::Physical(a) => (a, 0),
        };
        self.record_bar1_fault(va, inst, access, f);
        Piece::Fault(f)
    }

    /// Traces (block `mmu`) the walk behind a TLB miss of `who` (a hit reads no entries).
    pub(super) fn walk_note(&self, who: &str, pdb: &Pdb, va: u64, l: &super::tlb::Lookup) {
        if l.hit || !self.tracer().enabled("mmu") {
            return;
        }
        let steps: Vec<String> = l
            .steps
            .iter()
            .map(|s| {
                format!(
                    "{}@{}:{:#x}={}{}",
                    s.table.name(),
                    s.aperture.name(),
                    s.addr,
                    s.raw.map_or("unreadable".into(), |r| format!("{r:#x}")),
                    if s.cached { "(cached)" } else { "" }
                )
            })
            .collect();
        self.tracer().line(
            "mmu",
            format_args!(
                "walk {who} PDB {}:{:#x} VA {va:#x}: {} -> {:?}",
                pdb.aperture.name(),
                pdb.addr,
                steps.join(" "),
                l.outcome
            ),
        );
    }

    fn bar1_log(&mut self, va: u64, len: usize, access: Access, piece: Piece) {
        if self.logging() {
            let l = super::log::bar1_line(&self.bar1_state.bind, va, len, access, piece);
            self.log(format_args!("{l}"));
        }
    }

    fn bar1_note(&self, va: u64, part: &[u8], access: Access, piece: Piece) {
        if !self.tracer().enabled("bar1") {
            return;
        }
        let mut v = [0u8; 8];
        let n = part.len().min(8);
        v[..n].copy_from_slice(&part[..n]);
        let data = if part.len() <= 8 {
            format!("{:#x}", u64::from_le_bytes(v))
        } else {
            format!("[{} bytes]", part.len())
        };
        let what = match piece {
            Piece::Mapped {
                aperture,
                pa,
                page_shift: 0,
                backed,
                ..
            } => format!(
                "physical {} {pa:#x}{}",
                aperture.name(),
                if backed { "" } else { " (nothing there)" }
            ),
            Piece::Mapped {
                aperture,
                pa,
                page_shift,
                hit,
                backed,
                ..
            } => format!(
                "{} {pa:#x} ({} KiB page, TLB {}){}",
                aperture.name(),
                (1u64 << page_shift) >> 10,
                if hit { "hit" } else { "miss" },
                if backed { "" } else { " (nothing there)" }
            ),
            Piece::Sparse => "sparse".into(),
            Piece::Undefined => "physical, TARGET 1 (undefined): nothing there".into(),
            Piece::Fault(f) => format!("fault {}", f.name()),
        };
        self.tracer().line(
            "bar1",
            format_args!(
                "{}{} VA {va:#x} {} {data} -> {what}",
                access.letter(),
                part.len() * 8,
                if access == Access::Read { "=" } else { "<-" },
            ),
        );
    }
}

fn describe(b: &Bind) -> String {
    match b {
        Bind::Physical(Some(a)) => format!("physical, {}", a.name()),
        Bind::Physical(None) => "physical, TARGET 1 (undefined)".into(),
        Bind::Virtual {
            inst: (a, addr),
            pdb,
        } => format!(
            "virtual, instance block {}:{addr:#x}: {}",
            a.map_or("TARGET 1", |a| a.name()),
            match pdb {
                Ok(p) => format!(
                    "PDB {}:{:#x}, {} KiB big pages",
                    p.aperture.name(),
                    p.addr,
                    (1u64 << p.big_page.shift()) >> 10
                ),
                Err(f) => format!("cannot be bound ({})", f.name()),
            }
        ),
    }
}

#[cfg(test)]
mod tests;
