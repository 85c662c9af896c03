// SPDX-License-Identifier: GPL-2.0
//! The page-table engine: map, unmap and translate GPU virtual addresses in a GMMU v2 tree.
//!
//! The engine keeps no copy of the tree. Every entry is read from and written to table memory
//! through [`TableMemory`], which the caller implements over VRAM (through a BAR) or system
//! memory; a [`PageTable`] is just that memory and the root table's address.
//!
//! # Rules
//!
//! - A mapping is a run of pages of one [`PageSize`]: `va`, `pa` and `size` must be multiples
//!   of it, and the range must lie in the 49-bit VA space.
//! - A page is either backed (a valid PTE, written by [`PageTable::map`]) or *sparse* (the
//!   sparse pattern of its level, written by [`PageTable::map_sparse`]: accesses neither fault
//!   nor reach memory; the encoding and its sources are in [`super::mmu_v2`]). A sparse page
//!   counts as mapped everywhere below: it has a [`PageSize`], it occupies its range for
//!   `map` and `map_sparse`, `unmap` clears it like any page, and [`PageTable::translate`]
//!   reports it as [`MmuError::Sparse`].
//! - [`PageTable::map`] and [`PageTable::map_sparse`] first walk the whole range and fail with
//!   [`MmuError::AlreadyMapped`] if any of it is mapped (backed or sparse), before writing
//!   anything. They then create missing tables, point the directories at them and write the
//!   PTEs. If an allocation (or a memory access) fails half-way, everything written is
//!   cleared again and the tables created are freed.
//! - 64 KiB and 4 KiB pages, backed or sparse, may share a 2 MiB region (a PD0 entry with both
//!   halves valid), at 64 KiB granularity: every big PTE the engine does not use is left
//!   all-zero, which lets the MMU read the 4 KiB PTEs below it; a 64 KiB page may only be
//!   mapped where the sixteen 4 KiB PTEs below it are zero, and a 4 KiB page only where the
//!   big PTE above it is zero (a sparse big PTE hides the 4 KiB PTEs just as a valid one
//!   does). The hardware rule is documented on [`DualPde`]. The engine never writes the
//!   "unmapped" (PRIVILEGE) big-PTE pattern, nor sparse entries in PD3 or PD2; meeting one, or
//!   any entry it cannot decode, fails with [`MmuError::UnexpectedEntry`] without changing
//!   anything.
//! - 2 MiB pages are PD0 entries with IS_PTE set (PTE in the low word, high word zero), or
//!   [`DualPde::SPARSE`]; 512 MiB pages are PD1 entries with IS_PTE set, or [`Pde::SPARSE`].
//!   Neither may be mapped over a directory entry that still points at tables.
//! - [`PageTable::unmap`] checks that every 4 KiB of the range is mapped (backed or sparse)
//!   and that no page reaches outside it, then clears the PTEs, frees every table that became
//!   empty and clears the entry that pointed at it. Tables are freed bottom-up, never the
//!   root.
//!
//! # TLB invalidation and freed tables
//!
//! Every [`Change`] with [`Change::needs_invalidate`] must be followed by a TLB invalidate of
//! this address space (see [`super::tlb`]) before the GPU relies on it; nouveau invalidates
//! after maps as well as unmaps (NV `vmm.c` L586–607: `nvkm_vmm_iter` marks a flush whenever it
//! writes an entry and flushes at the end). A table handed to [`TableMemory::free_table`] may
//! still be cached by the GPU until that invalidate completes (nouveau flushes before it frees
//! a page table, NV `vmm.c` L181–183), so the implementation must not reuse its memory before
//! then, e.g. by keeping freed tables on a list it releases after the invalidate.

use super::mmu_v2::{
    Aperture, DualPde, DualPdeDecode, Level, PageSize, Pde, PdeDecode, PtPtr, Pte, PteDecode,
    PteFlags, TableAddr, VA_LIMIT,
};
use super::MmuError;

/// Memory that holds page tables, implemented by the caller.
///
/// Offsets are byte offsets from the start of a table returned by
/// [`TableMemory::alloc_table`]; the engine only accesses whole, 8-byte-aligned words inside
/// the table's size. Entries are little-endian 64-bit words, as the GPU reads them.
///
/// The engine only ever changes a word from zero to non-zero or back (the low word of a dual
/// PDE holds nothing but the big-table pointer, the high word nothing but the small one). The
/// valid and aperture bits of every word are in its low 32 bits, so an implementation that
/// cannot store 64 bits at once stays safe against a walking GPU by writing the high half
/// first when the new value is non-zero and the low half first when it is zero.
///
/// The engine takes `&mut self` for every access: callers serialise operations on one tree.
pub trait TableMemory {
    /// Allocates a table of `bytes` bytes (4096, or 256 for a 64 KiB-page table), aligned to
    /// `bytes`, and **zero-filled**: every entry of a new table must read as invalid.
    fn alloc_table(&mut self, bytes: usize) -> Result<TableAddr, MmuError>;

    /// Releases a table of `bytes` bytes that [`TableMemory::alloc_table`] returned and that
    /// no entry points at any more. The GPU may still hold it in its TLBs until the next
    /// invalidate: do not reuse the memory before that.
    fn free_table(&mut self, table: TableAddr, bytes: usize);

    /// Reads the 64-bit word at `byte_off` in `table`.
    fn read_u64(&mut self, table: TableAddr, byte_off: usize) -> Result<u64, MmuError>;

    /// Writes the 64-bit word at `byte_off` in `table`.
    fn write_u64(&mut self, table: TableAddr, byte_off: usize, value: u64) -> Result<(), MmuError>;

    /// Whether directory entries pointing at `table` set VOL (the GPU L2 must not cache the
    /// table). The default marks tables in system memory volatile and tables in VRAM not.
    /// (nouveau sets VOL for coherent system memory only, NV `vmmgp100.c` L236–251; NVIDIA's
    /// UVM for every table, OG `uvm_pascal_mmu.c` L65–142.)
    fn table_volatile(&self, table: TableAddr) -> bool {
        table.aperture.is_system()
    }
}

/// What an operation changed in the tree.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Change {
    /// PTEs written (set by a map, cleared by an unmap), including 2 MiB and 512 MiB ones and
    /// sparse ones.
    pub ptes_written: u64,
    /// Directory entries written (pointers set or cleared).
    pub pdes_written: u64,
    /// Tables allocated.
    pub tables_allocated: u32,
    /// Tables freed.
    pub tables_freed: u32,
}

impl Change {
    /// Whether anything the GPU may have cached changed: a TLB invalidate is needed.
    pub const fn needs_invalidate(&self) -> bool {
        self.ptes_written != 0 || self.pdes_written != 0 || self.tables_freed != 0
    }
}

/// The result of [`PageTable::translate`] for a backed page (a sparse one is reported as
/// [`MmuError::Sparse`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Translation {
    /// The physical address `va` maps to (page address plus offset).
    pub pa: u64,
    /// The size of the page that maps it.
    pub page_size: PageSize,
    /// The PTE that maps it.
    pub pte: Pte,
}

/// The entries of one table level that a VA range `[cur, end)` touches, in VA order.
struct Walk {
    level: Level,
    cur: u64,
    end: u64,
}

/// One entry of a [`Walk`]: the part `[start, end)` of the range that lies in entry `idx`,
/// which covers `[entry_start, entry_start + span)`.
#[derive(Clone, Copy)]
struct Span {
    idx: usize,
    start: u64,
    end: u64,
    entry_start: u64,
}

impl Walk {
    fn new(level: Level, start: u64, end: u64) -> Self {
        Walk {
            level,
            cur: start,
            end,
        }
    }
}

impl Iterator for Walk {
    type Item = Span;

    fn next(&mut self) -> Option<Span> {
        if self.cur >= self.end {
            return None;
        }
        let span = self.level.entry_span();
        // `span` is a power of two, so `span - 1` cannot wrap.
        let entry_start = self.cur & !span.wrapping_sub(1);
        // `end <= VA_LIMIT` (2^49), so this never saturates; it is > `cur`, so the walk ends.
        let entry_end = entry_start.saturating_add(span);
        let end = entry_end.min(self.end);
        let s = Span {
            idx: self.level.index(self.cur),
            start: self.cur,
            end,
            entry_start,
        };
        self.cur = end;
        Some(s)
    }
}

impl Span {
    /// Whether the range covers the whole entry.
    fn covers_entry(&self, level: Level) -> bool {
        self.start == self.entry_start
            && self.end == self.entry_start.saturating_add(level.entry_span())
    }
}

/// What one map call writes into its leaf entries.
#[derive(Clone, Copy)]
enum Leaf {
    /// Valid PTEs for the pages from `pa` on.
    Backed {
        pa: u64,
        aperture: Aperture,
        flags: PteFlags,
    },
    /// The sparse pattern in every entry.
    Sparse,
}

/// The fixed parameters of one map call.
struct MapCtx {
    va: u64,
    page: PageSize,
    leaf: Leaf,
}

impl MapCtx {
    /// The valid PTE for the page at `va` of a backed mapping of `pa` onwards.
    fn backed(
        &self,
        va: u64,
        pa: u64,
        aperture: Aperture,
        flags: PteFlags,
    ) -> Result<Pte, MmuError> {
        let off = va.checked_sub(self.va).ok_or(MmuError::VaOutOfRange)?;
        let pa = pa.checked_add(off).ok_or(MmuError::PaOutOfRange)?;
        Ok(Pte::new(aperture, pa, flags))
    }

    /// The raw PTE for the page at `va`, in a page table or in PD1.
    fn pte_at(&self, va: u64) -> Result<u64, MmuError> {
        match self.leaf {
            Leaf::Sparse => Ok(Pte::SPARSE),
            Leaf::Backed {
                pa,
                aperture,
                flags,
            } => self.backed(va, pa, aperture, flags)?.encode(),
        }
    }

    /// The raw PD0 entry `[low, high]` for the 2 MiB page at `va`. The high word is zero
    /// either way.
    fn pd0_at(&self, va: u64) -> Result<[u64; 2], MmuError> {
        match self.leaf {
            Leaf::Sparse => Ok(DualPde::SPARSE),
            Leaf::Backed {
                pa,
                aperture,
                flags,
            } => DualPde::encode_pte(&self.backed(va, pa, aperture, flags)?),
        }
    }
}

/// `Err(AlreadyMapped)` for a valid or sparse PTE, `Err(UnexpectedEntry)` for any other
/// non-zero one.
fn occupied_pte(raw: u64) -> MmuError {
    match Pte::decode(raw) {
        PteDecode::Valid(_) | PteDecode::Sparse => MmuError::AlreadyMapped,
        _ => MmuError::UnexpectedEntry,
    }
}

/// Whether `t` is usable as a table of `level`: aligned, and encodable in the entry that
/// will point at it.
fn table_addr_ok(level: Level, t: TableAddr) -> bool {
    // `table_align` is a power of two.
    if t.addr & level.table_align().wrapping_sub(1) != 0 {
        return false;
    }
    let ptr = Some(PtPtr {
        table: t,
        volatile: false,
    });
    match level {
        // The root is pointed at by the instance block and the invalidate registers, which
        // check their own limits.
        Level::Pd3 => true,
        Level::Pd2 | Level::Pd1 | Level::Pd0 => Pde::new(t).encode().is_ok(),
        Level::BigPt => DualPde {
            big: ptr,
            ..DualPde::EMPTY
        }
        .encode()
        .is_ok(),
        Level::SmallPt => DualPde {
            small: ptr,
            ..DualPde::EMPTY
        }
        .encode()
        .is_ok(),
    }
}

/// Checks a VA range for map or unmap and returns its end.
fn range_end(va: u64, size: u64, align: u64) -> Result<u64, MmuError> {
    if size == 0 {
        return Err(MmuError::VaOutOfRange);
    }
    // `align` is a power of two (a page size).
    let mask = align.wrapping_sub(1);
    if va & mask != 0 || size & mask != 0 {
        return Err(MmuError::Misaligned);
    }
    match va.checked_add(size) {
        Some(end) if end <= VA_LIMIT => Ok(end),
        _ => Err(MmuError::VaOutOfRange),
    }
}

/// A GMMU v2 page-table tree: the memory it lives in and its root (PD3).
pub struct PageTable<'a, M: TableMemory> {
    mem: &'a mut M,
    root: TableAddr,
}

impl<'a, M: TableMemory> PageTable<'a, M> {
    /// The tree rooted at `root`, a PD3 the caller allocated earlier (e.g. with
    /// [`PageTable::create`]).
    pub fn new(mem: &'a mut M, root: TableAddr) -> Self {
        PageTable { mem, root }
    }

    /// Allocates an empty root (a zero-filled, 4 KiB-aligned 4 KiB PD3) and returns the tree.
    pub fn create(mem: &'a mut M) -> Result<Self, MmuError> {
        let bytes = Level::Pd3.alloc_bytes();
        let root = mem.alloc_table(bytes)?;
        if !table_addr_ok(Level::Pd3, root) {
            mem.free_table(root, bytes);
            return Err(MmuError::BadTableAddress);
        }
        Ok(PageTable { mem, root })
    }

    /// The root table (PD3): the page-directory base for the instance block and TLB
    /// invalidates.
    pub fn root(&self) -> TableAddr {
        self.root
    }

    /// The table memory.
    pub fn memory(&mut self) -> &mut M {
        self.mem
    }

    /// Maps `size` bytes at `va` to `pa` in `aperture` with pages of `page_size`.
    ///
    /// Fails without changing anything if the arguments are misaligned or out of range, or if
    /// any page of the range is already mapped. See the module documentation for the rules.
    ///
    /// A failure while writing ([`MmuError::NoMemory`], [`MmuError::Io`],
    /// [`MmuError::BadTableAddress`]) is undone, but entries may have been valid for a moment
    /// and tables may have been freed: invalidate the TLB before reusing that memory.
    pub fn map(
        &mut self,
        va: u64,
        pa: u64,
        aperture: Aperture,
        size: u64,
        page_size: PageSize,
        flags: PteFlags,
    ) -> Result<Change, MmuError> {
        let end = range_end(va, size, page_size.bytes())?;
        if pa & page_size.bytes().wrapping_sub(1) != 0 {
            return Err(MmuError::Misaligned);
        }
        // `size > 0` was checked by `range_end`.
        match pa.checked_add(size.wrapping_sub(1)) {
            Some(last) if last < aperture.pa_limit() => {}
            _ => return Err(MmuError::PaOutOfRange),
        }
        let ctx = MapCtx {
            va,
            page: page_size,
            leaf: Leaf::Backed {
                pa,
                aperture,
                flags,
            },
        };
        // Rejects a bad peer index before anything is written.
        ctx.pte_at(va)?;
        self.map_leaves(&ctx, end)
    }

    /// Makes `size` bytes at `va` sparse with pages of `page_size`: the GPU's accesses there
    /// neither fault nor reach memory (see [`super::mmu_v2`] for the encoding).
    ///
    /// Every rule of [`PageTable::map`] applies: `va` and `size` must be multiples of
    /// `page_size`, the whole range must be free (neither backed nor sparse, else
    /// [`MmuError::AlreadyMapped`] and nothing changes), 64 KiB and 4 KiB pages share a 2 MiB
    /// region as described in the module documentation, and a failure while writing is
    /// undone. The sparse pages are removed with [`PageTable::unmap`].
    pub fn map_sparse(
        &mut self,
        va: u64,
        size: u64,
        page_size: PageSize,
    ) -> Result<Change, MmuError> {
        let end = range_end(va, size, page_size.bytes())?;
        let ctx = MapCtx {
            va,
            page: page_size,
            leaf: Leaf::Sparse,
        };
        self.map_leaves(&ctx, end)
    }

    /// Unmaps `size` bytes at `va` (both 4 KiB-aligned) and frees the tables that become
    /// empty.
    ///
    /// Fails without changing anything unless every page in the range is mapped and lies
    /// wholly inside it. Pages of different sizes may be unmapped together.
    pub fn unmap(&mut self, va: u64, size: u64) -> Result<Change, MmuError> {
        let end = range_end(va, size, PageSize::Size4K.bytes())?;
        self.check_mapped(Level::Pd3, self.root, va, end)?;
        let mut change = Change::default();
        let root = self.root;
        self.clear(Level::Pd3, root, va, end, &mut change)?;
        Ok(change)
    }

    /// Looks `va` up the way the GMMU walks the tree.
    ///
    /// Fails with [`MmuError::NotMapped`] where an access would fault and with
    /// [`MmuError::Sparse`] where `va` lies in a sparse page.
    pub fn translate(&mut self, va: u64) -> Result<Translation, MmuError> {
        if va >= VA_LIMIT {
            return Err(MmuError::VaOutOfRange);
        }
        let mut level = Level::Pd3;
        let mut table = self.root;
        while let Some(next) = level.next_directory() {
            match Pde::decode(self.read(table, level, level.index(va), 0)?) {
                PdeDecode::Invalid => return Err(MmuError::NotMapped),
                PdeDecode::Table(p) => table = p.table,
                PdeDecode::Pte(p) if level == Level::Pd1 => {
                    return translation(p, PageSize::Size512M, va)
                }
                PdeDecode::Sparse if level == Level::Pd1 => return Err(MmuError::Sparse),
                _ => return Err(MmuError::UnexpectedEntry),
            }
            level = next;
        }
        let d = match DualPde::decode(self.read_dual(table, Level::Pd0.index(va))?) {
            DualPdeDecode::Invalid => return Err(MmuError::NotMapped),
            DualPdeDecode::Pte(p) => return translation(p, PageSize::Size2M, va),
            DualPdeDecode::Sparse => return Err(MmuError::Sparse),
            DualPdeDecode::Unknown(_) => return Err(MmuError::UnexpectedEntry),
            DualPdeDecode::Tables(d) => d,
        };
        let big = match d.big {
            Some(b) => self.read(b.table, Level::BigPt, Level::BigPt.index(va), 0)?,
            None => 0,
        };
        match Pte::decode(big) {
            PteDecode::Valid(p) => return translation(p, PageSize::Size64K, va),
            // Both end the walk without looking at the 4 KiB PTEs.
            PteDecode::Sparse => return Err(MmuError::Sparse),
            PteDecode::Unmapped => return Err(MmuError::NotMapped),
            PteDecode::Unknown(_) => return Err(MmuError::UnexpectedEntry),
            PteDecode::Invalid => {}
        }
        let Some(s) = d.small else {
            return Err(MmuError::NotMapped);
        };
        match Pte::decode(self.read(s.table, Level::SmallPt, Level::SmallPt.index(va), 0)?) {
            PteDecode::Valid(p) => translation(p, PageSize::Size4K, va),
            PteDecode::Sparse => Err(MmuError::Sparse),
            PteDecode::Unknown(_) => Err(MmuError::UnexpectedEntry),
            _ => Err(MmuError::NotMapped),
        }
    }

    /// Frees every table of the tree, root included, whatever is still mapped. The caller
    /// must have unbound the address space (and invalidated) before.
    pub fn destroy(mut self) -> Result<(), MmuError> {
        let root = self.root;
        self.free_subtree(Level::Pd3, root)
    }

    // --- memory access -----------------------------------------------------------------

    fn read(
        &mut self,
        t: TableAddr,
        level: Level,
        idx: usize,
        word: usize,
    ) -> Result<u64, MmuError> {
        // `word` is 0 or 1; offsets stay below 8 KiB.
        let off = level.entry_offset(idx).wrapping_add(word.wrapping_mul(8));
        self.mem.read_u64(t, off)
    }

    fn write(
        &mut self,
        t: TableAddr,
        level: Level,
        idx: usize,
        word: usize,
        v: u64,
    ) -> Result<(), MmuError> {
        let off = level.entry_offset(idx).wrapping_add(word.wrapping_mul(8));
        self.mem.write_u64(t, off, v)
    }

    fn read_dual(&mut self, t: TableAddr, idx: usize) -> Result<[u64; 2], MmuError> {
        Ok([
            self.read(t, Level::Pd0, idx, 0)?,
            self.read(t, Level::Pd0, idx, 1)?,
        ])
    }

    fn alloc(&mut self, level: Level, change: &mut Change) -> Result<TableAddr, MmuError> {
        let bytes = level.alloc_bytes();
        let t = self.mem.alloc_table(bytes)?;
        if !table_addr_ok(level, t) {
            self.mem.free_table(t, bytes);
            return Err(MmuError::BadTableAddress);
        }
        change.tables_allocated = change.tables_allocated.saturating_add(1);
        Ok(t)
    }

    fn free(&mut self, level: Level, t: TableAddr, change: &mut Change) {
        self.mem.free_table(t, level.alloc_bytes());
        change.tables_freed = change.tables_freed.saturating_add(1);
    }

    /// Whether every word of `t` is zero.
    fn is_empty(&mut self, level: Level, t: TableAddr) -> Result<bool, MmuError> {
        let words = level.table_bytes() / 8;
        for i in 0..words {
            // `i < 1024`.
            if self.mem.read_u64(t, i.wrapping_mul(8))? != 0 {
                return Ok(false);
            }
        }
        Ok(true)
    }

    // --- map ---------------------------------------------------------------------------

    /// The common part of [`Self::map`] and [`Self::map_sparse`] once the arguments are
    /// checked: check that `[ctx.va, end)` is free, write it, undo on failure.
    fn map_leaves(&mut self, ctx: &MapCtx, end: u64) -> Result<Change, MmuError> {
        let (va, root) = (ctx.va, self.root);
        self.check_free(Level::Pd3, root, va, end, ctx.page)?;

        let mut change = Change::default();
        if let Err(e) = self.write_map(Level::Pd3, root, va, end, ctx, &mut change) {
            // Everything in the range was free before: clearing it and dropping the tables
            // that are empty again restores the tree. A failing memory access can leave this
            // incomplete; there is nothing better to do than to report the first error.
            let mut undo = Change::default();
            let _ = self.clear(Level::Pd3, root, va, end, &mut undo);
            return Err(e);
        }
        Ok(change)
    }

    /// Fails unless every leaf entry that mapping `[s, e)` with `page` would write is zero and
    /// nothing above or beside it maps the range.
    fn check_free(
        &mut self,
        level: Level,
        table: TableAddr,
        s: u64,
        e: u64,
        page: PageSize,
    ) -> Result<(), MmuError> {
        for sp in Walk::new(level, s, e) {
            match level {
                Level::Pd3 | Level::Pd2 | Level::Pd1 => {
                    let raw = self.read(table, level, sp.idx, 0)?;
                    let decoded = Pde::decode(raw);
                    if page.leaf_level() == level {
                        // Only PD1 is a leaf level here (512 MiB pages).
                        match decoded {
                            PdeDecode::Invalid => continue,
                            PdeDecode::Table(_) | PdeDecode::Pte(_) | PdeDecode::Sparse => {
                                return Err(MmuError::AlreadyMapped)
                            }
                            PdeDecode::Unknown(_) => return Err(MmuError::UnexpectedEntry),
                        }
                    }
                    match (decoded, level.next_directory()) {
                        (PdeDecode::Invalid, _) => {}
                        (PdeDecode::Table(p), Some(next)) => {
                            self.check_free(next, p.table, sp.start, sp.end, page)?
                        }
                        (PdeDecode::Pte(_) | PdeDecode::Sparse, _) if level == Level::Pd1 => {
                            return Err(MmuError::AlreadyMapped)
                        }
                        _ => return Err(MmuError::UnexpectedEntry),
                    }
                }
                Level::Pd0 => match DualPde::decode(self.read_dual(table, sp.idx)?) {
                    DualPdeDecode::Invalid => {}
                    DualPdeDecode::Pte(_) | DualPdeDecode::Sparse => {
                        return Err(MmuError::AlreadyMapped)
                    }
                    DualPdeDecode::Unknown(_) => return Err(MmuError::UnexpectedEntry),
                    DualPdeDecode::Tables(d) => {
                        if page == PageSize::Size2M {
                            return Err(MmuError::AlreadyMapped);
                        }
                        self.check_free_pt(&d, sp.start, sp.end)?;
                    }
                },
                Level::BigPt | Level::SmallPt => return Err(MmuError::UnexpectedEntry),
            }
        }
        Ok(())
    }

    /// For 4 KiB or 64 KiB pages in `[s, e)` under one PD0 entry: every big PTE and every small
    /// PTE in each 64 KiB the range touches must be zero.
    fn check_free_pt(&mut self, d: &DualPde, s: u64, e: u64) -> Result<(), MmuError> {
        for chunk in Walk::new(Level::BigPt, s, e) {
            if let Some(b) = d.big {
                let raw = self.read(b.table, Level::BigPt, chunk.idx, 0)?;
                if raw != 0 {
                    return Err(occupied_pte(raw));
                }
            }
            if let Some(sm) = d.small {
                for p in Walk::new(Level::SmallPt, chunk.start, chunk.end) {
                    let raw = self.read(sm.table, Level::SmallPt, p.idx, 0)?;
                    if raw != 0 {
                        return Err(occupied_pte(raw));
                    }
                }
            }
        }
        Ok(())
    }

    /// Writes the mapping of `[s, e)` below `table`, creating tables on the way.
    fn write_map(
        &mut self,
        level: Level,
        table: TableAddr,
        s: u64,
        e: u64,
        ctx: &MapCtx,
        change: &mut Change,
    ) -> Result<(), MmuError> {
        for sp in Walk::new(level, s, e) {
            match level {
                Level::Pd3 | Level::Pd2 | Level::Pd1 => {
                    if ctx.page.leaf_level() == level {
                        self.write(table, level, sp.idx, 0, ctx.pte_at(sp.start)?)?;
                        change.ptes_written = change.ptes_written.saturating_add(1);
                        continue;
                    }
                    let Some(next) = level.next_directory() else {
                        return Err(MmuError::UnexpectedEntry);
                    };
                    let child = match Pde::decode(self.read(table, level, sp.idx, 0)?) {
                        PdeDecode::Table(p) => p.table,
                        PdeDecode::Invalid => {
                            let t = self.alloc(next, change)?;
                            let pde = Pde {
                                table: t,
                                volatile: self.mem.table_volatile(t),
                                no_ats: false,
                            };
                            let linked = pde
                                .encode()
                                .and_then(|raw| self.write(table, level, sp.idx, 0, raw));
                            if let Err(err) = linked {
                                self.free(next, t, change);
                                return Err(err);
                            }
                            change.pdes_written = change.pdes_written.saturating_add(1);
                            t
                        }
                        _ => return Err(MmuError::UnexpectedEntry),
                    };
                    self.write_map(next, child, sp.start, sp.end, ctx, change)?;
                }
                Level::Pd0 => {
                    if ctx.page == PageSize::Size2M {
                        // The entry was checked to be all zero and the high word of a 2 MiB
                        // PTE (or of the sparse entry) is zero: only the low word changes.
                        let [lo, _] = ctx.pd0_at(sp.start)?;
                        self.write(table, level, sp.idx, 0, lo)?;
                        change.ptes_written = change.ptes_written.saturating_add(1);
                        continue;
                    }
                    let pt = self.pt_for(table, sp.idx, ctx.page, change)?;
                    let pt_level = ctx.page.leaf_level();
                    for p in Walk::new(pt_level, sp.start, sp.end) {
                        self.write(pt, pt_level, p.idx, 0, ctx.pte_at(p.start)?)?;
                        change.ptes_written = change.ptes_written.saturating_add(1);
                    }
                }
                Level::BigPt | Level::SmallPt => return Err(MmuError::UnexpectedEntry),
            }
        }
        Ok(())
    }

    /// The big (for 64 KiB pages) or small (4 KiB) page table of PD0 entry `idx`, created and
    /// linked if missing.
    fn pt_for(
        &mut self,
        pd0: TableAddr,
        idx: usize,
        page: PageSize,
        change: &mut Change,
    ) -> Result<TableAddr, MmuError> {
        let mut d = match DualPde::decode(self.read_dual(pd0, idx)?) {
            DualPdeDecode::Invalid => DualPde::EMPTY,
            DualPdeDecode::Tables(d) => d,
            _ => return Err(MmuError::UnexpectedEntry),
        };
        let big = page == PageSize::Size64K;
        let existing = if big { d.big } else { d.small };
        if let Some(p) = existing {
            return Ok(p.table);
        }
        let pt_level = page.leaf_level();
        let t = self.alloc(pt_level, change)?;
        let ptr = Some(PtPtr {
            table: t,
            volatile: self.mem.table_volatile(t),
        });
        if big {
            d.big = ptr;
        } else {
            d.small = ptr;
        }
        // The big half lives in the low word, the small half in the high word; only the word
        // of the new half changes.
        let word = if big { 0 } else { 1 };
        let linked = d
            .encode()
            .and_then(|[lo, hi]| self.write(pd0, Level::Pd0, idx, word, if big { lo } else { hi }));
        if let Err(err) = linked {
            self.free(pt_level, t, change);
            return Err(err);
        }
        change.pdes_written = change.pdes_written.saturating_add(1);
        Ok(t)
    }

    // --- unmap -------------------------------------------------------------------------

    /// Fails unless every 4 KiB of `[s, e)` is mapped by a valid or sparse PTE whose page lies
    /// inside `[s, e)`.
    fn check_mapped(
        &mut self,
        level: Level,
        table: TableAddr,
        s: u64,
        e: u64,
    ) -> Result<(), MmuError> {
        for sp in Walk::new(level, s, e) {
            match level {
                Level::Pd3 | Level::Pd2 | Level::Pd1 => {
                    match (
                        Pde::decode(self.read(table, level, sp.idx, 0)?),
                        level.next_directory(),
                    ) {
                        (PdeDecode::Invalid, _) => return Err(MmuError::NotMapped),
                        (PdeDecode::Table(p), Some(next)) => {
                            self.check_mapped(next, p.table, sp.start, sp.end)?
                        }
                        (PdeDecode::Pte(_) | PdeDecode::Sparse, _) if level == Level::Pd1 => {
                            if !sp.covers_entry(level) {
                                return Err(MmuError::PartialPage);
                            }
                        }
                        _ => return Err(MmuError::UnexpectedEntry),
                    }
                }
                Level::Pd0 => match DualPde::decode(self.read_dual(table, sp.idx)?) {
                    DualPdeDecode::Invalid => return Err(MmuError::NotMapped),
                    DualPdeDecode::Pte(_) | DualPdeDecode::Sparse => {
                        if !sp.covers_entry(level) {
                            return Err(MmuError::PartialPage);
                        }
                    }
                    DualPdeDecode::Unknown(_) => return Err(MmuError::UnexpectedEntry),
                    DualPdeDecode::Tables(d) => self.check_mapped_pt(&d, sp.start, sp.end)?,
                },
                Level::BigPt | Level::SmallPt => return Err(MmuError::UnexpectedEntry),
            }
        }
        Ok(())
    }

    /// [`Self::check_mapped`] for the page tables of one PD0 entry, 64 KiB at a time: a valid
    /// or sparse big PTE must lie inside the range (and hide no 4 KiB PTEs); under a zero big
    /// PTE every 4 KiB PTE in the range must be valid or sparse.
    fn check_mapped_pt(&mut self, d: &DualPde, s: u64, e: u64) -> Result<(), MmuError> {
        for chunk in Walk::new(Level::BigPt, s, e) {
            let big = match d.big {
                Some(b) => self.read(b.table, Level::BigPt, chunk.idx, 0)?,
                None => 0,
            };
            match Pte::decode(big) {
                PteDecode::Valid(_) | PteDecode::Sparse => {
                    if !chunk.covers_entry(Level::BigPt) {
                        return Err(MmuError::PartialPage);
                    }
                    if let Some(sm) = d.small {
                        for p in Walk::new(Level::SmallPt, chunk.start, chunk.end) {
                            if self.read(sm.table, Level::SmallPt, p.idx, 0)? != 0 {
                                return Err(MmuError::UnexpectedEntry);
                            }
                        }
                    }
                }
                PteDecode::Invalid => {
                    let Some(sm) = d.small else {
                        return Err(MmuError::NotMapped);
                    };
                    for p in Walk::new(Level::SmallPt, chunk.start, chunk.end) {
                        match Pte::decode(self.read(sm.table, Level::SmallPt, p.idx, 0)?) {
                            PteDecode::Valid(_) | PteDecode::Sparse => {}
                            PteDecode::Invalid => return Err(MmuError::NotMapped),
                            _ => return Err(MmuError::UnexpectedEntry),
                        }
                    }
                }
                _ => return Err(MmuError::UnexpectedEntry),
            }
        }
        Ok(())
    }

    /// Clears every valid or sparse PTE whose page lies inside `[s, e)` below `table`, then
    /// frees the tables below `table` that became empty (clearing the entries that pointed at
    /// them). Entries it does not recognise are left alone, and keep their tables alive.
    fn clear(
        &mut self,
        level: Level,
        table: TableAddr,
        s: u64,
        e: u64,
        change: &mut Change,
    ) -> Result<(), MmuError> {
        for sp in Walk::new(level, s, e) {
            match level {
                Level::Pd3 | Level::Pd2 | Level::Pd1 => {
                    match (
                        Pde::decode(self.read(table, level, sp.idx, 0)?),
                        level.next_directory(),
                    ) {
                        (PdeDecode::Pte(_) | PdeDecode::Sparse, _)
                            if level == Level::Pd1 && sp.covers_entry(level) =>
                        {
                            self.write(table, level, sp.idx, 0, 0)?;
                            change.ptes_written = change.ptes_written.saturating_add(1);
                        }
                        (PdeDecode::Table(p), Some(next)) => {
                            self.clear(next, p.table, sp.start, sp.end, change)?;
                            if self.is_empty(next, p.table)? {
                                // Unlink first, then free: no entry ever points at a freed table.
                                self.write(table, level, sp.idx, 0, 0)?;
                                change.pdes_written = change.pdes_written.saturating_add(1);
                                self.free(next, p.table, change);
                            }
                        }
                        _ => {}
                    }
                }
                Level::Pd0 => match DualPde::decode(self.read_dual(table, sp.idx)?) {
                    // The high word of both is zero.
                    DualPdeDecode::Pte(_) | DualPdeDecode::Sparse => {
                        if sp.covers_entry(level) {
                            self.write(table, level, sp.idx, 0, 0)?;
                            change.ptes_written = change.ptes_written.saturating_add(1);
                        }
                    }
                    DualPdeDecode::Tables(d) => self.clear_pd0_entry(table, sp, d, change)?,
                    DualPdeDecode::Invalid | DualPdeDecode::Unknown(_) => {}
                },
                Level::BigPt | Level::SmallPt => {}
            }
        }
        Ok(())
    }

    /// [`Self::clear`] for one PD0 entry pointing at page tables.
    fn clear_pd0_entry(
        &mut self,
        pd0: TableAddr,
        sp: Span,
        mut d: DualPde,
        change: &mut Change,
    ) -> Result<(), MmuError> {
        let mut freed_big = None;
        let mut freed_small = None;
        if let Some(b) = d.big {
            self.clear_pt(Level::BigPt, b.table, sp.start, sp.end, change)?;
            if self.is_empty(Level::BigPt, b.table)? {
                freed_big = Some(b.table);
                d.big = None;
            }
        }
        if let Some(sm) = d.small {
            self.clear_pt(Level::SmallPt, sm.table, sp.start, sp.end, change)?;
            if self.is_empty(Level::SmallPt, sm.table)? {
                freed_small = Some(sm.table);
                d.small = None;
            }
        }
        if freed_big.is_none() && freed_small.is_none() {
            return Ok(());
        }
        let [lo, hi] = d.encode()?;
        if freed_big.is_some() {
            self.write(pd0, Level::Pd0, sp.idx, 0, lo)?;
        }
        if freed_small.is_some() {
            self.write(pd0, Level::Pd0, sp.idx, 1, hi)?;
        }
        change.pdes_written = change.pdes_written.saturating_add(1);
        if let Some(t) = freed_big {
            self.free(Level::BigPt, t, change);
        }
        if let Some(t) = freed_small {
            self.free(Level::SmallPt, t, change);
        }
        Ok(())
    }

    /// Clears the valid and sparse PTEs of page table `t` whose pages lie inside `[s, e)`.
    fn clear_pt(
        &mut self,
        level: Level,
        t: TableAddr,
        s: u64,
        e: u64,
        change: &mut Change,
    ) -> Result<(), MmuError> {
        for p in Walk::new(level, s, e) {
            if !p.covers_entry(level) {
                continue;
            }
            if let PteDecode::Valid(_) | PteDecode::Sparse =
                Pte::decode(self.read(t, level, p.idx, 0)?)
            {
                self.write(t, level, p.idx, 0, 0)?;
                change.ptes_written = change.ptes_written.saturating_add(1);
            }
        }
        Ok(())
    }

    // --- teardown ----------------------------------------------------------------------

    fn free_subtree(&mut self, level: Level, table: TableAddr) -> Result<(), MmuError> {
        let mut scratch = Change::default();
        for idx in 0..level.entries() {
            match level {
                Level::Pd3 | Level::Pd2 | Level::Pd1 => {
                    if let (PdeDecode::Table(p), Some(next)) = (
                        Pde::decode(self.read(table, level, idx, 0)?),
                        level.next_directory(),
                    ) {
                        self.free_subtree(next, p.table)?;
                    }
                }
                Level::Pd0 => {
                    if let DualPdeDecode::Tables(d) = DualPde::decode(self.read_dual(table, idx)?) {
                        if let Some(b) = d.big {
                            self.free(Level::BigPt, b.table, &mut scratch);
                        }
                        if let Some(s) = d.small {
                            self.free(Level::SmallPt, s.table, &mut scratch);
                        }
                    }
                }
                Level::BigPt | Level::SmallPt => {}
            }
        }
        self.free(level, table, &mut scratch);
        Ok(())
    }
}

/// The translation of `va` through the page `pte` of size `page`.
fn translation(pte: Pte, page: PageSize, va: u64) -> Result<Translation, MmuError> {
    // `bytes()` is a power of two.
    let offset = va & page.bytes().wrapping_sub(1);
    Ok(Translation {
        pa: pte.addr.checked_add(offset).ok_or(MmuError::PaOutOfRange)?,
        page_size: page,
        pte,
    })
}
