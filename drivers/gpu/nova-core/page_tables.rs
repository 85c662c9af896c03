// SPDX-License-Identifier: GPL-2.0
//! Memory for the page-table engine ([`crate::mm::pagetable`]): tables in coherent system
//! memory, plus, for BAR1, a root table in VRAM written through PRAMIN.
//!
//! Every table the engine asks for is one 4 KiB page of DMA-coherent memory (a 256-byte
//! 64 KiB-page table too: the DMA allocator hands out whole pages anyway). The GPU reaches
//! them through the SYSTEM_COHERENT aperture (docs/facts/ga102.md §12.2); directory entries pointing at them
//! are marked volatile by the engine's default rule, so the GPU L2 does not keep stale copies.
//!
//! A table the engine frees may still sit in the GPU's TLBs until the next invalidate, so it
//! is parked in [`SysTables::retired`] and released by [`SysTables::release_retired`], which
//! callers run after the invalidate.

use kernel::{
    device::{self, Bound},
    dma::{Coherent, CoherentBox},
    io::{io_read, io_write},
    prelude::*,
};

use crate::{
    driver::Bar0,
    mm::{
        mmu_v2::{TableAddr, TableAperture},
        pagetable::TableMemory,
        MmuError,
    },
    pramin::Pramin,
};

/// Entries of one table page.
const WORDS: usize = 4096 / 8;

/// One table page.
struct Table {
    /// Its DMA address (the key; the store is sorted by it).
    addr: u64,
    mem: Coherent<[u64]>,
}

/// The system-memory tables of one address space.
pub(crate) struct SysTables {
    /// Live tables, sorted by address.
    tables: KVec<Table>,
    /// Tables freed by the engine, kept until the TLB has been invalidated.
    retired: KVec<Coherent<[u64]>>,
}

impl SysTables {
    /// An empty store.
    pub(crate) fn new() -> Self {
        SysTables {
            tables: KVec::new(),
            retired: KVec::new(),
        }
    }

    /// Live table pages.
    pub(crate) fn count(&self) -> usize {
        self.tables.len()
    }

    /// Releases the tables retired before the last TLB invalidate.
    pub(crate) fn release_retired(&mut self) {
        self.retired.clear();
    }

    fn find(&self, addr: u64) -> Option<&Table> {
        self.tables
            .binary_search_by_key(&addr, |t| t.addr)
            .ok()
            .and_then(|i| self.tables.get(i))
    }
}

/// VRAM access for tables that live there (BAR1's root, owned by GSP-RM).
pub(crate) struct VramTables<'a> {
    pub(crate) bar: &'a Bar0<'a>,
    pub(crate) pramin: &'a Pramin,
}

/// The engine's view of one address space's tables for one operation.
pub(crate) struct TableCtx<'a> {
    dev: &'a device::Device<Bound>,
    store: &'a mut SysTables,
    vram: Option<VramTables<'a>>,
}

impl<'a> TableCtx<'a> {
    /// Tables in system memory only; new tables are allocated for `dev`.
    pub(crate) fn new(
        dev: &'a device::Device<Bound>,
        store: &'a mut SysTables,
        vram: Option<VramTables<'a>>,
    ) -> Self {
        TableCtx { dev, store, vram }
    }

    fn vram(&self, t: TableAddr, off: usize) -> Result<(&VramTables<'a>, u64), MmuError> {
        let v = self.vram.as_ref().ok_or(MmuError::BadTableAddress)?;
        if off >= 4096 || off % 8 != 0 {
            return Err(MmuError::BadTableAddress);
        }
        Ok((v, t.addr + off as u64))
    }

    fn sys(&self, t: TableAddr, off: usize) -> Result<(&Table, usize), MmuError> {
        let table = self.store.find(t.addr).ok_or(MmuError::BadTableAddress)?;
        if off % 8 != 0 || off / 8 >= WORDS {
            return Err(MmuError::BadTableAddress);
        }
        Ok((table, off / 8))
    }
}

impl TableMemory for TableCtx<'_> {
    fn alloc_table(&mut self, bytes: usize) -> Result<TableAddr, MmuError> {
        if bytes > 4096 {
            return Err(MmuError::InvalidArgument);
        }
        let mem: Coherent<[u64]> = CoherentBox::<[u64]>::zeroed_slice(self.dev, WORDS, GFP_KERNEL)
            .map_err(|_| MmuError::NoMemory)?
            .into();
        let addr = mem.dma_address();
        let at = match self.store.tables.binary_search_by_key(&addr, |t| t.addr) {
            // The DMA allocator never hands out a live page twice.
            Ok(_) => return Err(MmuError::BadTableAddress),
            Err(i) => i,
        };
        self.store
            .tables
            .reserve(1, GFP_KERNEL)
            .map_err(|_| MmuError::NoMemory)?;
        self.store
            .tables
            .insert_within_capacity(at, Table { addr, mem })
            .map_err(|_| MmuError::NoMemory)?;
        Ok(TableAddr::new(TableAperture::SystemCoherent, addr))
    }

    fn free_table(&mut self, table: TableAddr, _bytes: usize) {
        if !table.aperture.is_system() {
            // Only BAR1's root lives in VRAM, and the engine never frees a root.
            return;
        }
        let Ok(i) = self
            .store
            .tables
            .binary_search_by_key(&table.addr, |t| t.addr)
        else {
            return;
        };
        // Without room on the retired list the table simply stays allocated (and unused)
        // until the address space goes away: never freed early.
        if self.store.retired.reserve(1, GFP_KERNEL).is_ok() {
            let t = self.store.tables.remove(i);
            if let Ok(t) = t {
                // Cannot fail: one slot was reserved above.
                let _ = self.store.retired.push_within_capacity(t.mem);
            }
        }
    }

    fn read_u64(&mut self, table: TableAddr, byte_off: usize) -> Result<u64, MmuError> {
        if !table.aperture.is_system() {
            let (v, a) = self.vram(table, byte_off)?;
            let lo = v.pramin.read32(v.bar, a).map_err(|_| MmuError::Io)?;
            let hi = v.pramin.read32(v.bar, a + 4).map_err(|_| MmuError::Io)?;
            return Ok(u64::from(lo) | (u64::from(hi) << 32));
        }
        let (t, i) = self.sys(table, byte_off)?;
        let mem = &t.mem;
        (|| -> Result<u64> { Ok(io_read!(mem, [try: i])) })().map_err(|_| MmuError::Io)
    }

    fn write_u64(&mut self, table: TableAddr, byte_off: usize, value: u64) -> Result<(), MmuError> {
        if !table.aperture.is_system() {
            let (v, a) = self.vram(table, byte_off)?;
            let (lo, hi) = (value as u32, (value >> 32) as u32);
            // The valid and aperture bits are in the low half: write it last when setting an
            // entry and first when clearing one (the engine's rule, see `TableMemory`).
            let w = |addr, x| v.pramin.write32(v.bar, addr, x).map_err(|_| MmuError::Io);
            if value != 0 {
                w(a + 4, hi)?;
                w(a, lo)?;
            } else {
                w(a, lo)?;
                w(a + 4, hi)?;
            }
            return Ok(());
        }
        let (t, i) = self.sys(table, byte_off)?;
        let mem = &t.mem;
        (|| -> Result {
            io_write!(mem, [try: i], value);
            Ok(())
        })()
        .map_err(|_| MmuError::Io)
    }
}
