// SPDX-License-Identifier: GPL-2.0
//! A GPU virtual address space: GMMU version-2 page tables in system memory and the instance
//! block that points an engine at them (docs/facts/ga102.md §12.1–§12.3).
//!
//! The tables are kept by [`crate::mm::pagetable`]; this file only supplies their memory
//! ([`crate::page_tables`]) and turns a mapping request into runs of one page size. Hardware
//! steps (the TLB invalidate after a change) are done by [`crate::link::GpuLink`], which owns
//! the register window.

use kernel::{
    device::{self, Bound},
    dma::{Coherent, CoherentBox},
    io::io_write,
    prelude::*,
};

use crate::{
    memory::VramBlock,
    mm::{
        instance::{page_dir_base_words, PdbConfig},
        mmu_v2::{Aperture, PageSize, PteFlags, TableAddr},
        pagetable::{Change, PageTable},
        plan::{PageSizes, Plan},
        MmuError,
    },
    page_tables::{SysTables, TableCtx},
};

/// Word index of `PAGE_DIR_BASE_LO` in the instance block (docs/facts/ga102.md §12.3: word 128).
const INST_PAGE_DIR_BASE: usize = 128;

/// What backs a mapping.
pub enum Backing<'a> {
    /// `len` bytes of a VRAM block from `offset`.
    Vram {
        /// The block.
        block: &'a VramBlock,
        /// Byte offset into it, 4 KiB aligned.
        offset: u64,
        /// Bytes, 4 KiB aligned.
        len: u64,
    },
    /// System memory: DMA segments `(address, length)` in mapping order, each 4 KiB aligned.
    Sysmem {
        /// The segments.
        segments: &'a [(u64, u64)],
        /// Bytes to map (at most the segments' total).
        len: u64,
    },
    /// No memory: reads return 0, writes are dropped.
    Sparse {
        /// Bytes, 4 KiB aligned.
        len: u64,
    },
}

impl Backing<'_> {
    /// Bytes the mapping covers.
    pub fn len(&self) -> u64 {
        match self {
            Backing::Vram { len, .. } | Backing::Sysmem { len, .. } | Backing::Sparse { len } => {
                *len
            }
        }
    }

    /// Whether it covers nothing.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// PTE attributes a mapping asks for.
#[derive(Clone, Copy, Debug, Default)]
pub struct MapFlags {
    /// GPU writes fault.
    pub read_only: bool,
    /// PTE kind (0 = pitch).
    pub kind: u8,
}

/// An address space.
pub struct AddressSpace {
    tables: SysTables,
    root: TableAddr,
    /// The 4 KiB instance block; only words 128/129 are written.
    inst: Coherent<[u32]>,
}

impl AddressSpace {
    /// An empty address space: a root table and an instance block pointing at it.
    pub(crate) fn new(dev: &device::Device<Bound>) -> Result<Self> {
        let mut tables = SysTables::new();
        let root = {
            let mut ctx = TableCtx::new(dev, &mut tables, None);
            PageTable::create(&mut ctx).map_err(mmu_err)?.root()
        };
        let inst: Coherent<[u32]> =
            CoherentBox::<[u32]>::zeroed_slice(dev, 1024, GFP_KERNEL)?.into();
        let words = page_dir_base_words(&PdbConfig {
            root,
            volatile: root.aperture.is_system(),
            fault_replay: false,
        })
        .map_err(mmu_err)?;
        io_write!(&inst, [try: INST_PAGE_DIR_BASE], words[0]);
        io_write!(&inst, [try: INST_PAGE_DIR_BASE + 1], words[1]);
        Ok(AddressSpace { tables, root, inst })
    }

    /// DMA address of the instance block (system memory, coherent aperture).
    pub fn inst_addr(&self) -> u64 {
        self.inst.dma_address()
    }

    /// The root table (the PDB), for TLB invalidates.
    pub(crate) fn root(&self) -> TableAddr {
        self.root
    }

    /// Page-table pages in use.
    pub fn table_pages(&self) -> usize {
        self.tables.count()
    }

    /// Runs `f` on the engine over this space's tables.
    fn with<R>(
        &mut self,
        dev: &device::Device<Bound>,
        f: impl FnOnce(&mut PageTable<'_, TableCtx<'_>>) -> R,
    ) -> R {
        let mut ctx = TableCtx::new(dev, &mut self.tables, None);
        let mut pt = PageTable::new(&mut ctx, self.root);
        f(&mut pt)
    }

    /// Writes the PTEs for `backing` at `va`; undoes everything on failure. Returns what
    /// changed and the largest page size used. The caller invalidates the TLB.
    pub(crate) fn map(
        &mut self,
        dev: &device::Device<Bound>,
        va: u64,
        backing: &Backing<'_>,
        flags: MapFlags,
    ) -> Result<(Change, PageSize)> {
        let len = backing.len();
        if len == 0 || va % 4096 != 0 || len % 4096 != 0 {
            return Err(EINVAL);
        }
        self.with(dev, |pt| map_runs(pt, va, backing, flags))
    }

    /// Clears `[va, va + len)`, which must be wholly mapped by pages inside it; frees empty
    /// tables (retired until [`AddressSpace::release_retired`]). The caller invalidates.
    pub(crate) fn unmap(
        &mut self,
        dev: &device::Device<Bound>,
        va: u64,
        len: u64,
    ) -> Result<Change> {
        self.with(dev, |pt| pt.unmap(va, len)).map_err(mmu_err)
    }

    /// Frees the tables retired by earlier unmaps; call after the TLB invalidate.
    pub(crate) fn release_retired(&mut self) {
        self.tables.release_retired();
    }
}

/// Maps `backing` at `va` run by run (the planner, [`crate::mm::plan`], picks the largest
/// page size alignment allows); on failure unmaps the runs already written. Returns what
/// changed and the largest page size used.
pub(crate) fn map_runs(
    pt: &mut PageTable<'_, TableCtx<'_>>,
    va: u64,
    backing: &Backing<'_>,
    flags: MapFlags,
) -> Result<(Change, PageSize)> {
    let one;
    // A sparse range has no memory: physical address 0 keeps every page size's alignment.
    let (segments, aperture): (&[(u64, u64)], Option<Aperture>) = match backing {
        Backing::Vram { block, offset, len } => {
            let end = offset.checked_add(*len).ok_or(EINVAL)?;
            if end > block.size() {
                return Err(EINVAL);
            }
            one = [(block.addr() + offset, *len)];
            (&one, Some(Aperture::VideoMemory))
        }
        Backing::Sysmem { segments, .. } => (segments, Some(Aperture::SystemCoherent)),
        Backing::Sparse { len } => {
            one = [(0, *len)];
            (&one, None)
        }
    };
    let plan = Plan::new(va, backing.len(), segments, PageSizes::STANDARD).map_err(mmu_err)?;
    let mut total = Change::default();
    let mut largest = PageSize::Size4K;
    let mut done = 0u64;
    for run in plan {
        let r = match aperture {
            Some(ap) => {
                let pte = PteFlags {
                    // System memory is mapped volatile: the GPU L2 keeps no copy the CPU
                    // cannot see (coherent aperture, docs/facts/ga102.md §12.2 VOL).
                    volatile: ap.is_system(),
                    read_only: flags.read_only,
                    kind: flags.kind,
                    ..PteFlags::new()
                };
                pt.map(run.va, run.pa, ap, run.size, run.page_size, pte)
            }
            None => pt.map_sparse(run.va, run.size, run.page_size),
        };
        match r {
            Ok(c) => {
                total.ptes_written += c.ptes_written;
                total.pdes_written += c.pdes_written;
                total.tables_allocated += c.tables_allocated;
                total.tables_freed += c.tables_freed;
                if run.page_size.bytes() > largest.bytes() {
                    largest = run.page_size;
                }
                done += run.size;
            }
            Err(e) => {
                if done != 0 {
                    // Everything in [va, va + done) was mapped by the runs above.
                    let _ = pt.unmap(va, done);
                }
                return Err(mmu_err(e));
            }
        }
    }
    Ok((total, largest))
}

/// The kernel error for an engine error.
pub(crate) fn mmu_err(e: MmuError) -> Error {
    match e {
        MmuError::NoMemory => ENOMEM,
        MmuError::AlreadyMapped => ENOSPC,
        MmuError::NotMapped => ENOENT,
        MmuError::Io | MmuError::BadTableAddress | MmuError::UnexpectedEntry => EIO,
        _ => EINVAL,
    }
}
