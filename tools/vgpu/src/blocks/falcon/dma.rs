// SPDX-License-Identifier: GPL-2.0
//! The falcon's DMA engine (FBDMA through the FBIF), as far as the load sequences of docs/facts/ga102.md §5.4
//! use it.
//!
//! Registers (docs/facts/ga102.md §5.2; `ga102/dev_falcon_v4.h`, `ga102/dev_fbif_v4.h`):
//! `DMATRFBASE` (external address bits 39:8), `DMATRFBASE1` (bits 48:40 in 8:0),
//! `DMATRFMOFFS` (falcon memory offset, 23:0), `DMATRFFBOFFS` (offset added to the base),
//! `DMATRFCMD` (IMEM 4, WRITE 5, SIZE 10:8 = 4 << SIZE bytes, SEC 3:2, CTXDMA 14:12 selecting
//! `FBIF_TRANSCFG(CTXDMA)`; IDLE 1 and FULL 0 read-only), `FBIF_TRANSCFG(i)` (TARGET 1:0,
//! MEM_TYPE 2), `FBIF_CTL.ALLOW_PHYS_NO_CTX` (7), `DMACTL.REQUIRE_CTX` (0).
//!
//! A write to `DMATRFCMD` performs one transfer at once, between falcon memory and guest
//! memory ([`crate::dma::GuestMemory`]). The transfer is refused, with a [`DmaError`], when:
//! - the target is the local frame buffer (TARGET 0): VRAM behind the falcon is not modelled
//!   yet, so the model treats it as a DMA error rather than pretend;
//! - TARGET is 3 (no such aperture in the header);
//! - MEM_TYPE is virtual (no GPU MMU context is modelled), or physical while
//!   `FBIF_CTL.ALLOW_PHYS_NO_CTX` is 0, or `DMACTL.REQUIRE_CTX` is 1 (no context is bound);
//! - SIZE is 7 (undefined), the external address or the memory offset is not a multiple of the
//!   transfer size, or the transfer runs past the end of IMEM/DMEM (model choices: real
//!   hardware wants aligned transfers, docs/facts/ga102.md §5.4 "DMA source must be 256-byte aligned");
//! - guest memory does not back the whole range (nothing mapped there).
//!
//! Model choices: coherent and non-coherent sysmem (TARGET 1 and 2) behave the same;
//! SET_DMTAG and IMEM tags from DMA are not modelled; `DMATRFCMD.IDLE` reads 0 on the first
//! read after a command and 1 afterwards, so a driver's poll loop runs at least once.

use super::mem::Memory;
use super::regs::*;
use crate::dma::{DmaFault, GuestMemory};

/// Why a transfer was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DmaError {
    /// FBIF_TRANSCFG TARGET 0 (local FB): not modelled.
    LocalFb,
    /// FBIF_TRANSCFG TARGET 3.
    BadTarget,
    /// FBIF_TRANSCFG MEM_TYPE virtual: no MMU context.
    Virtual,
    /// Physical access without a context while FBIF_CTL.ALLOW_PHYS_NO_CTX is 0.
    PhysNotAllowed,
    /// DMACTL.REQUIRE_CTX is set and no context is bound.
    ContextRequired,
    /// DMATRFCMD SIZE 7.
    BadSize,
    /// Address or memory offset not aligned to the transfer size.
    Misaligned,
    /// The transfer does not fit in IMEM/DMEM.
    OutOfMemory,
    /// Guest memory does not back the range.
    Unmapped(DmaFault),
}

impl std::fmt::Display for DmaError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DmaError::LocalFb => write!(f, "target local FB (not modelled)"),
            DmaError::BadTarget => write!(f, "FBIF_TRANSCFG target 3"),
            DmaError::Virtual => write!(f, "virtual addressing (no MMU context modelled)"),
            DmaError::PhysNotAllowed => write!(f, "physical without context, ALLOW_PHYS_NO_CTX=0"),
            DmaError::ContextRequired => write!(f, "DMACTL.REQUIRE_CTX set, no context"),
            DmaError::BadSize => write!(f, "DMATRFCMD SIZE 7"),
            DmaError::Misaligned => write!(f, "misaligned transfer"),
            DmaError::OutOfMemory => write!(f, "past the end of falcon memory"),
            DmaError::Unmapped(e) => write!(f, "{e}"),
        }
    }
}

/// One completed transfer, for the trace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transfer {
    /// Guest physical address.
    pub addr: u64,
    /// Falcon memory offset.
    pub moffs: u32,
    /// Bytes.
    pub len: usize,
    /// IMEM (else DMEM).
    pub imem: bool,
    /// Falcon to guest (else guest to falcon).
    pub write: bool,
    /// Secure IMEM load.
    pub secure: bool,
}

/// The DMA registers.
#[derive(Clone, Default)]
pub struct DmaRegs {
    /// DMATRFBASE.
    pub base: u32,
    /// DMATRFBASE1 (8:0).
    pub base1: u32,
    /// DMATRFMOFFS (23:0).
    pub moffs: u32,
    /// DMATRFFBOFFS.
    pub fboffs: u32,
    /// DMATRFCMD writable fields as last written.
    pub cmd: u32,
    /// Reads of DMATRFCMD left before IDLE reads 1.
    pub busy_reads: u32,
    /// FBIF_TRANSCFG(i).
    pub transcfg: [u32; TRANSCFG_COUNT as usize],
    /// FBIF_CTL.
    pub fbif_ctl: u32,
    /// DMACTL.REQUIRE_CTX.
    pub require_ctx: bool,
}

impl DmaRegs {
    /// DMATRFCMD as read: the fields written, IDLE once the transfer is done, never FULL.
    pub fn read_cmd(&mut self) -> u32 {
        if self.busy_reads > 0 {
            self.busy_reads -= 1;
            self.cmd
        } else {
            self.cmd | DMATRFCMD_IDLE
        }
    }

    /// The external address of the next transfer: (BASE1 << 40) + (BASE << 8) + FBOFFS.
    pub fn address(&self) -> u64 {
        (u64::from(self.base1 & 0x1ff) << 40) + (u64::from(self.base) << 8) + u64::from(self.fboffs)
    }

    /// A DMATRFCMD write: performs the transfer between `imem`/`dmem` and `guest`.
    pub fn command(
        &mut self,
        cmd: u32,
        imem: &mut Memory,
        dmem: &mut Memory,
        guest: &GuestMemory,
    ) -> Result<Transfer, DmaError> {
        self.cmd = cmd & DMATRFCMD_FIELDS;
        self.busy_reads = 1;
        let size = (cmd >> DMATRFCMD_SIZE_SHIFT) & 7;
        if size == 7 {
            return Err(DmaError::BadSize);
        }
        let len = 4usize << size;
        let ctx = ((cmd >> DMATRFCMD_CTXDMA_SHIFT) & 7) as usize;
        let cfg = self.transcfg.get(ctx).copied().unwrap_or(0);
        match cfg & TRANSCFG_TARGET {
            TARGET_LOCAL_FB => return Err(DmaError::LocalFb),
            TARGET_COHERENT_SYSMEM | TARGET_NONCOHERENT_SYSMEM => {}
            _ => return Err(DmaError::BadTarget),
        }
        if self.require_ctx {
            return Err(DmaError::ContextRequired);
        }
        if cfg & TRANSCFG_MEM_TYPE_PHYSICAL == 0 {
            return Err(DmaError::Virtual);
        }
        if self.fbif_ctl & FBIF_CTL_ALLOW_PHYS_NO_CTX == 0 {
            return Err(DmaError::PhysNotAllowed);
        }
        let addr = self.address();
        let moffs = self.moffs & 0x00ff_ffff;
        if !addr.is_multiple_of(len as u64) || !(moffs as usize).is_multiple_of(len) {
            return Err(DmaError::Misaligned);
        }
        let to_imem = cmd & DMATRFCMD_IMEM != 0;
        let write = cmd & DMATRFCMD_WRITE != 0;
        let secure = to_imem && (cmd >> DMATRFCMD_SEC_SHIFT) & 3 != 0;
        let mem = if to_imem { imem } else { dmem };
        let at = moffs as usize;
        if write {
            let data = mem.get(at, len).ok_or(DmaError::OutOfMemory)?;
            guest.write(addr, data).map_err(DmaError::Unmapped)?;
        } else {
            if mem.get(at, len).is_none() {
                return Err(DmaError::OutOfMemory);
            }
            let mut buf = vec![0u8; len];
            guest.read(addr, &mut buf).map_err(DmaError::Unmapped)?;
            mem.store(at, &buf, secure);
        }
        Ok(Transfer {
            addr,
            moffs,
            len,
            imem: to_imem,
            write,
            secure,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dma::memfd;

    const GPA: u64 = 0x1_2340_0000;

    fn guest() -> (GuestMemory, std::fs::File) {
        let ram = memfd(c"falcon-dma-test", 0x10000).unwrap();
        let mut g = GuestMemory::new();
        g.map(GPA, 0x10000, &ram, 0).unwrap();
        (g, ram)
    }

    fn ready() -> DmaRegs {
        let mut d = DmaRegs {
            fbif_ctl: FBIF_CTL_ALLOW_PHYS_NO_CTX,
            ..Default::default()
        };
        d.transcfg[0] = TARGET_COHERENT_SYSMEM | TRANSCFG_MEM_TYPE_PHYSICAL;
        d.base = (GPA >> 8) as u32;
        d.base1 = (GPA >> 40) as u32;
        d
    }

    const LOAD_IMEM_SECURE: u32 = 6 << 8 | DMATRFCMD_IMEM | 1 << 2;

    #[test]
    fn loads_imem_and_dmem_from_guest_memory() {
        let (g, _ram) = guest();
        let pattern: Vec<u8> = (0..512u32).map(|i| i as u8).collect();
        g.write(GPA + 0x200, &pattern).unwrap();
        let (mut imem, mut dmem) = (Memory::new(0x1000), Memory::new(0x1000));
        let mut d = ready();
        d.fboffs = 0x200;
        d.moffs = 0x100;
        let t = d
            .command(LOAD_IMEM_SECURE, &mut imem, &mut dmem, &g)
            .unwrap();
        assert_eq!(
            (t.addr, t.len, t.imem, t.secure),
            (GPA + 0x200, 256, true, true)
        );
        assert_eq!(imem.get(0x100, 256).unwrap(), &pattern[..256]);
        assert!(imem.all_secure(0x100, 256));
        assert_eq!(d.read_cmd() & DMATRFCMD_IDLE, 0, "busy on the first read");
        assert_eq!(d.read_cmd() & DMATRFCMD_IDLE, DMATRFCMD_IDLE);
        assert_eq!(d.read_cmd() & DMATRFCMD_FULL, 0);
        // DMEM through the non-coherent aperture and CTXDMA 1.
        d.transcfg[1] = TARGET_NONCOHERENT_SYSMEM | TRANSCFG_MEM_TYPE_PHYSICAL;
        d.fboffs = 0x300;
        d.moffs = 0;
        d.command(6 << 8 | 1 << 12, &mut imem, &mut dmem, &g)
            .unwrap();
        assert_eq!(dmem.get(0, 256).unwrap(), &pattern[256..]);
        // A 4-byte transfer (SIZE 0), and a write back to guest memory.
        d.moffs = 0x10;
        d.fboffs = 0x1000;
        let t = d
            .command(DMATRFCMD_WRITE, &mut imem, &mut dmem, &g)
            .unwrap();
        assert_eq!(t.len, 4);
        let mut back = [0u8; 4];
        g.read(GPA + 0x1000, &mut back).unwrap();
        assert_eq!(back, pattern[0x110..0x114]);
    }

    #[test]
    fn refusals() {
        let (g, _ram) = guest();
        let (mut imem, mut dmem) = (Memory::new(0x1000), Memory::new(0x1000));
        let mut run = |d: &mut DmaRegs, cmd| d.command(cmd, &mut imem, &mut dmem, &g);
        let cmd = 6 << 8;

        let mut d = ready();
        d.transcfg[0] = TRANSCFG_MEM_TYPE_PHYSICAL;
        assert_eq!(run(&mut d, cmd), Err(DmaError::LocalFb));
        d.transcfg[0] = 3 | TRANSCFG_MEM_TYPE_PHYSICAL;
        assert_eq!(run(&mut d, cmd), Err(DmaError::BadTarget));
        d.transcfg[0] = TARGET_COHERENT_SYSMEM;
        assert_eq!(run(&mut d, cmd), Err(DmaError::Virtual));

        let mut d = ready();
        d.fbif_ctl = 0;
        assert_eq!(run(&mut d, cmd), Err(DmaError::PhysNotAllowed));
        let mut d = ready();
        d.require_ctx = true;
        assert_eq!(run(&mut d, cmd), Err(DmaError::ContextRequired));
        let mut d = ready();
        assert_eq!(run(&mut d, 7 << 8), Err(DmaError::BadSize));
        d.fboffs = 0x80;
        assert_eq!(run(&mut d, cmd), Err(DmaError::Misaligned));
        d.fboffs = 0;
        d.moffs = 0x1000;
        assert_eq!(run(&mut d, cmd), Err(DmaError::OutOfMemory));
        d.moffs = 0;
        d.fboffs = 0x10000;
        assert_eq!(
            run(&mut d, cmd),
            Err(DmaError::Unmapped(DmaFault {
                addr: GPA + 0x10000,
                len: 256
            }))
        );
        // The largest programmable address is a fault, not a panic.
        d.base = u32::MAX;
        d.base1 = u32::MAX;
        d.fboffs = 0xffff_ff00;
        assert!(matches!(run(&mut d, cmd), Err(DmaError::Unmapped(_))));
    }
}
