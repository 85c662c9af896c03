// SPDX-License-Identifier: GPL-2.0
//! The one error type of the GPU page-table code.

/// Why a page-table operation or an entry encoding failed.
///
/// Kept small and `Copy` so the kernel glue can log it with [`MmuError::describe`] and map it
/// to an errno of its choosing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MmuError {
    /// A virtual address, physical address or size is not a multiple of the page size (or a
    /// table address is not aligned as its level requires).
    Misaligned,
    /// The virtual range is empty, wraps around, or reaches past the 49-bit address space.
    VaOutOfRange,
    /// A physical address does not fit the address field of its aperture (video memory and
    /// peer: 37 bits; system memory: 58 bits).
    PaOutOfRange,
    /// A value that cannot be encoded: a peer index above 7, a compression tag line wider
    /// than its field or given for system memory.
    InvalidArgument,
    /// Part of the range to map is already mapped.
    AlreadyMapped,
    /// Part of the range to unmap (or the address to translate) is not mapped.
    NotMapped,
    /// The range to unmap covers only part of a mapped page.
    PartialPage,
    /// An entry this engine never writes ("unmapped" big PTE, sparse directory entry above
    /// PD1, unknown bit pattern) lies in the way; nothing was changed.
    UnexpectedEntry,
    /// The table allocator returned an address that is misaligned for the table or does not
    /// fit the address field of the directory entry that must point at it.
    BadTableAddress,
    /// The table allocator is out of memory.
    NoMemory,
    /// Reading or writing table memory failed.
    Io,
    /// The address to translate lies in a sparse page: accesses neither fault nor reach
    /// memory (see [`super::pagetable::PageTable::map_sparse`]). Only
    /// [`super::pagetable::PageTable::translate`] returns it.
    Sparse,
}

impl MmuError {
    /// A short, constant description for logs.
    pub const fn describe(self) -> &'static str {
        match self {
            MmuError::Misaligned => "address or size not aligned to the page size",
            MmuError::VaOutOfRange => "virtual range empty or outside the 49-bit address space",
            MmuError::PaOutOfRange => "physical address too large for its aperture",
            MmuError::InvalidArgument => "value cannot be encoded in a page-table entry",
            MmuError::AlreadyMapped => "virtual range already mapped",
            MmuError::NotMapped => "virtual range not mapped",
            MmuError::PartialPage => "range covers only part of a mapped page",
            MmuError::UnexpectedEntry => "page-table entry of unknown or foreign form in the way",
            MmuError::BadTableAddress => "page-table allocator returned an unusable address",
            MmuError::NoMemory => "out of page-table memory",
            MmuError::Io => "page-table memory access failed",
            MmuError::Sparse => "virtual address is in a sparse range",
        }
    }
}
