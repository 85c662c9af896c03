// SPDX-License-Identifier: GPL-2.0
//! The MMU log (`--mmu-log FILE`): a test instrument, not hardware. It lets a test check "the
//! GPU's page-table walk resolves VA X to page Y" from outside the guest. One line per event,
//! `key=value` fields separated by spaces, numbers in hex with `0x`; lines are appended and
//! flushed as they happen:
//!
//! ```text
//! bind bar1 mode=virtual inst=vid:0x5f3e02000 pdb=vid:0x5f3e01000 big=64K
//! bind bar1 mode=virtual inst=vid:0x7000 unbound=UNBOUND_INST_BLOCK
//! bind bar1 mode=physical target=vid
//! bar1 R va=0x1040 len=4 pdb=vid:0x5f3e01000 -> vid:0x1800040 page=0x1800000 size=4K ro=0 kind=0x00 tlb=miss
//! bar1 W va=0x1044 len=4 pdb=vid:0x5f3e01000 -> fault=PTE
//! bar1 R va=0x4000 len=4 pdb=vid:0x5f3e01000 -> sparse
//! bar1 R va=0x2000 len=4 physical -> vid:0x2000
//! invalidate pdb=vid:0x5f3e01000 level=ALL dropped=5 by=MMU_INVALIDATE
//! invalidate pdb=all level=ALL dropped=0 by=MMU_INVALIDATE all_va=0 ignored
//! ```
//!
//! A BAR1 line is written per translated piece (accesses split at 4 KiB); `tlb=hit` means the
//! TLB answered without a walk, so a stale translation shows up as a `hit` to the old page.
//! `-> nothing` marks a page whose memory is not there (past VRAM, unmapped guest RAM).

use super::bar1::{Bind, Piece};
use super::walk::Access;
use std::io::Write;

/// The log sink.
pub struct MmuLog(Box<dyn Write + Send>);

impl MmuLog {
    /// A log writing to `w`.
    pub fn new(w: Box<dyn Write + Send>) -> Self {
        MmuLog(w)
    }

    /// Appends one line.
    pub fn line(&mut self, args: std::fmt::Arguments<'_>) {
        let _ = writeln!(self.0, "{args}");
        let _ = self.0.flush();
    }
}

/// A page size as the log prints it.
pub fn size_name(shift: u32) -> String {
    match shift {
        0..=19 => format!("{}K", (1u64 << shift) >> 10),
        20..=29 => format!("{}M", (1u64 << shift) >> 20),
        _ => format!("{}G", (1u64 << shift) >> 30),
    }
}

/// The `bind bar1 ...` line.
pub fn bind_line(b: &Bind) -> String {
    match b {
        Bind::Physical(a) => format!(
            "bind bar1 mode=physical target={}",
            a.map_or("undefined", |a| a.name())
        ),
        Bind::Virtual { inst, pdb } => {
            let inst = format!("{}:{:#x}", inst.0.map_or("undefined", |a| a.name()), inst.1);
            match pdb {
                Ok(p) => format!(
                    "bind bar1 mode=virtual inst={inst} pdb={}:{:#x} big={}",
                    p.aperture.name(),
                    p.addr,
                    size_name(p.big_page.shift())
                ),
                Err(f) => format!("bind bar1 mode=virtual inst={inst} unbound={}", f.name()),
            }
        }
    }
}

/// A `bar1 ...` line for one translated piece under binding `b`.
pub fn bar1_line(b: &Bind, va: u64, len: usize, access: Access, piece: Piece) -> String {
    let space = match b {
        Bind::Physical(_) => "physical".to_string(),
        Bind::Virtual { pdb: Ok(p), .. } => format!("pdb={}:{:#x}", p.aperture.name(), p.addr),
        Bind::Virtual { inst, .. } => format!(
            "unbound inst={}:{:#x}",
            inst.0.map_or("undefined", |a| a.name()),
            inst.1
        ),
    };
    let result = match piece {
        Piece::Mapped { backed: false, .. } | Piece::Undefined => "nothing".to_string(),
        Piece::Mapped {
            aperture,
            pa,
            page_shift: 0,
            ..
        } => format!("{}:{pa:#x}", aperture.name()),
        Piece::Mapped {
            aperture,
            pa,
            page_shift,
            hit,
            read_only,
            kind,
            ..
        } => format!(
            "{}:{pa:#x} page={:#x} size={} ro={} kind={kind:#04x} tlb={}",
            aperture.name(),
            pa & !((1u64 << page_shift) - 1),
            size_name(page_shift),
            u8::from(read_only),
            if hit { "hit" } else { "miss" }
        ),
        Piece::Sparse => "sparse".into(),
        Piece::Fault(f) => format!("fault={}", f.name()),
    };
    format!(
        "bar1 {} va={va:#x} len={len} {space} -> {result}",
        access.letter()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mmu::format::{Aperture, BigPage};
    use crate::mmu::walk::{FaultType, Pdb};

    #[test]
    fn line_formats() {
        assert_eq!(size_name(12), "4K");
        assert_eq!(size_name(16), "64K");
        assert_eq!(size_name(17), "128K");
        assert_eq!(size_name(21), "2M");
        assert_eq!(size_name(29), "512M");
        assert_eq!(size_name(38), "256G");
        let v = Bind::Virtual {
            inst: (Some(Aperture::Video), 0x5_f3e0_2000),
            pdb: Ok(Pdb {
                aperture: Aperture::Video,
                addr: 0x5_f3e0_1000,
                big_page: BigPage::K64,
            }),
        };
        assert_eq!(
            bind_line(&v),
            "bind bar1 mode=virtual inst=vid:0x5f3e02000 pdb=vid:0x5f3e01000 big=64K"
        );
        let piece = Piece::Mapped {
            aperture: Aperture::Video,
            pa: 0x180_0040,
            page_shift: 12,
            hit: false,
            backed: true,
            read_only: false,
            kind: 0,
        };
        assert_eq!(
            bar1_line(&v, 0x1040, 4, Access::Read, piece),
            "bar1 R va=0x1040 len=4 pdb=vid:0x5f3e01000 -> vid:0x1800040 page=0x1800000 size=4K ro=0 kind=0x00 tlb=miss"
        );
        assert_eq!(
            bar1_line(&v, 0x1044, 4, Access::Write, Piece::Fault(FaultType::Pte)),
            "bar1 W va=0x1044 len=4 pdb=vid:0x5f3e01000 -> fault=PTE"
        );
        let p = Bind::Physical(Some(Aperture::Video));
        assert_eq!(bind_line(&p), "bind bar1 mode=physical target=vid");
        let phys = Piece::Mapped {
            aperture: Aperture::Video,
            pa: 0x2000,
            page_shift: 0,
            hit: false,
            backed: true,
            read_only: false,
            kind: 0,
        };
        assert_eq!(
            bar1_line(&p, 0x2000, 4, Access::Read, phys),
            "bar1 R va=0x2000 len=4 physical -> vid:0x2000"
        );
        let u = Bind::Virtual {
            inst: (None, 0x7000),
            pdb: Err(FaultType::UnboundInstBlock),
        };
        assert_eq!(
            bind_line(&u),
            "bind bar1 mode=virtual inst=undefined:0x7000 unbound=UNBOUND_INST_BLOCK"
        );
        assert_eq!(
            bar1_line(&u, 0, 8, Access::Read, Piece::Sparse),
            "bar1 R va=0x0 len=8 unbound inst=undefined:0x7000 -> sparse"
        );
        assert_eq!(
            bar1_line(&p, 0, 1, Access::Write, Piece::Undefined),
            "bar1 W va=0x0 len=1 physical -> nothing"
        );
    }
}
