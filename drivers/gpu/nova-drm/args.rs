// SPDX-License-Identifier: GPL-2.0
//! The argument rules of the nova uAPI (`uapi/nova_drm.h`), as pure functions.
//!
//! This file uses nothing but `core` and the uAPI mirror (`crate::uapi`): the kernel module
//! builds it, and so does the host crate in `host/` for unit tests. Every check that depends
//! only on the arguments lives here; what needs the device (handles, VM state, VRAM) is in the
//! ioctl handlers.

use core::fmt;

use crate::uapi::{
    DrmNovaExec, DrmNovaExecPush, DrmNovaSync, DrmNovaVmBind, DrmNovaVmBindOp, NOVA_EXEC_MAX_PUSH,
    NOVA_EXEC_MAX_PUSH_SIZE, NOVA_EXEC_MAX_SYNCS, NOVA_GEM_CREATE_FLAGS, NOVA_GEM_CREATE_VRAM,
    NOVA_VM_BIND_MAX_OPS, NOVA_VM_BIND_OP_FLAGS, NOVA_VM_BIND_OP_MAP, NOVA_VM_BIND_OP_UNMAP,
    NOVA_VM_BIND_READ_ONLY, NOVA_VM_BIND_SPARSE,
};

/// First GPU virtual address VM_BIND accepts (`NOVA_GETPARAM_VA_START`). The first 2 MiB stay
/// unmapped so that a NULL-ish GPU pointer faults.
pub const VA_START: u64 = 2 << 20;
/// End (exclusive) of the VA window VM_BIND accepts (`NOVA_GETPARAM_VA_END`): the lower half
/// of the 49-bit GPU VA space; the upper half is kept for the kernel's own mappings.
pub const VA_END: u64 = 1 << 47;
/// `NOVA_GETPARAM_PAGE_SIZES`: 4 KiB, 64 KiB and 2 MiB.
pub const PAGE_SIZES: u64 = (1 << 12) | (1 << 16) | (1 << 21);

/// Granule of VM_BIND addresses, ranges and offsets.
pub const BIND_GRANULE: u64 = 4 << 10;
/// Size granule of system-memory objects.
pub const SYSMEM_GRANULE: u64 = 4 << 10;
/// Size granule (and least physical alignment) of VRAM objects.
pub const VRAM_GRANULE: u64 = 64 << 10;
/// Largest `align` GEM_CREATE accepts.
pub const MAX_ALIGN: u64 = 1 << 30;

/// Size of `struct drm_nova_vm_bind_op` as this kernel knows it.
pub const OP_SIZE: usize = core::mem::size_of::<DrmNovaVmBindOp>();
/// Largest `op_size` this kernel reads (larger ones fail with -EINVAL, "an op_size this kernel
/// cannot read"): one page per op is far more than any future op will need.
pub const MAX_OP_SIZE: u32 = 4096;

/// Why arguments were refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArgError {
    /// Malformed (-EINVAL).
    Invalid,
    /// Can never fit (-ENOSPC).
    NoSpace,
}

/// What GEM_CREATE is to allocate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GemPlan {
    /// In VRAM (else system memory).
    pub vram: bool,
    /// The size rounded up to the placement's granule.
    pub size: u64,
    /// The physical alignment to ask the VRAM allocator for (0 for system memory).
    pub align: u64,
}

/// Checks the arguments of GEM_CREATE.
///
/// `sysmem_limit` and `vram_limit` are the largest sizes each placement can ever hold; a
/// larger (rounded) size fails with [`ArgError::NoSpace`]. Malformed arguments are reported
/// before sizes.
pub fn gem_create(
    size: u64,
    flags: u32,
    align: u64,
    sysmem_limit: u64,
    vram_limit: u64,
) -> Result<GemPlan, ArgError> {
    if flags & !NOVA_GEM_CREATE_FLAGS != 0 || size == 0 {
        return Err(ArgError::Invalid);
    }
    let vram = flags & NOVA_GEM_CREATE_VRAM != 0;
    let (granule, limit) = if vram {
        if align != 0 && (!align.is_power_of_two() || align > MAX_ALIGN) {
            return Err(ArgError::Invalid);
        }
        (VRAM_GRANULE, vram_limit)
    } else {
        if align != 0 {
            return Err(ArgError::Invalid);
        }
        (SYSMEM_GRANULE, sysmem_limit)
    };
    let size = size
        .checked_next_multiple_of(granule)
        .ok_or(ArgError::NoSpace)?;
    if size > limit {
        return Err(ArgError::NoSpace);
    }
    Ok(GemPlan {
        vram,
        size,
        align: if vram { align.max(VRAM_GRANULE) } else { 0 },
    })
}

/// Checks the header of VM_BIND (not the ops).
pub fn vm_bind(args: &DrmNovaVmBind) -> Result<(), ArgError> {
    if args.flags != 0
        || args.num_ops == 0
        || args.num_ops > NOVA_VM_BIND_MAX_OPS
        || (args.op_size as usize) < OP_SIZE
        || !args.op_size.is_multiple_of(8)
        || args.op_size > MAX_OP_SIZE
    {
        return Err(ArgError::Invalid);
    }
    Ok(())
}

/// Checks the header of EXEC (not the arrays): flags and pad 0, 1 to `NOVA_EXEC_MAX_PUSH`
/// push ranges, at most `NOVA_EXEC_MAX_SYNCS` syncobjs in all.
pub fn exec(args: &DrmNovaExec) -> Result<(), ArgError> {
    if args.flags != 0
        || args.pad != 0
        || args.num_push == 0
        || args.num_push > NOVA_EXEC_MAX_PUSH
        || u64::from(args.num_waits) + u64::from(args.num_signals) > u64::from(NOVA_EXEC_MAX_SYNCS)
    {
        return Err(ArgError::Invalid);
    }
    Ok(())
}

/// Checks one push range: 4-byte aligned VA below 2^40 (what a GPFIFO entry holds), a
/// non-zero multiple of 4 bytes up to `NOVA_EXEC_MAX_PUSH_SIZE`, flags 0.
pub fn exec_push(p: &DrmNovaExecPush) -> Result<(), ArgError> {
    if p.flags != 0
        || !p.va.is_multiple_of(4)
        || p.size == 0
        || !p.size.is_multiple_of(4)
        || p.size > NOVA_EXEC_MAX_PUSH_SIZE
        || p.va
            .checked_add(u64::from(p.size))
            .is_none_or(|end| end > 1 << 40)
    {
        return Err(ArgError::Invalid);
    }
    Ok(())
}

/// Bytes of `struct drm_nova_exec_push`.
pub const PUSH_SIZE: usize = core::mem::size_of::<DrmNovaExecPush>();
/// Bytes of `struct drm_nova_sync`.
pub const SYNC_SIZE: usize = core::mem::size_of::<DrmNovaSync>();

/// Decodes a `struct drm_nova_exec_push` (`PUSH_SIZE` bytes, native byte order); a shorter
/// slice decodes as zeroes (an invalid range).
pub fn parse_push(b: &[u8]) -> DrmNovaExecPush {
    let mut full = [0u8; PUSH_SIZE];
    let n = b.len().min(PUSH_SIZE);
    full[..n].copy_from_slice(&b[..n]);
    let b = &full[..];
    DrmNovaExecPush {
        va: u64_at(b, 0),
        size: u32_at(b, 8),
        flags: u32_at(b, 12),
    }
}

/// Decodes a `struct drm_nova_sync` (`SYNC_SIZE` bytes, native byte order); a shorter slice
/// decodes as zeroes.
pub fn parse_sync(b: &[u8]) -> DrmNovaSync {
    let mut full = [0u8; SYNC_SIZE];
    let n = b.len().min(SYNC_SIZE);
    full[..n].copy_from_slice(&b[..n]);
    let b = &full[..];
    DrmNovaSync {
        handle: u32_at(b, 0),
        flags: u32_at(b, 4),
        point: u64_at(b, 8),
    }
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    let mut w = [0u8; 4];
    w.copy_from_slice(&b[at..at + 4]);
    u32::from_ne_bytes(w)
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&b[at..at + 8]);
    u64::from_ne_bytes(w)
}

/// Decodes one op of `op_size` bytes as userspace laid it out (native byte order, the C
/// layout of `struct drm_nova_vm_bind_op`). Bytes past the ops this kernel knows must be zero.
pub fn parse_op(bytes: &[u8]) -> Result<DrmNovaVmBindOp, ArgError> {
    if bytes.len() < OP_SIZE {
        return Err(ArgError::Invalid);
    }
    if bytes[OP_SIZE..].iter().any(|&b| b != 0) {
        return Err(ArgError::Invalid);
    }
    Ok(DrmNovaVmBindOp {
        op: u32_at(bytes, 0),
        flags: u32_at(bytes, 4),
        handle: u32_at(bytes, 8),
        kind: u32_at(bytes, 12),
        va: u64_at(bytes, 16),
        range: u64_at(bytes, 24),
        bo_offset: u64_at(bytes, 32),
    })
}

/// What a well-formed op asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BindOp {
    /// Map `handle` (which still has to be looked up) at `[va, va + range)`.
    Map {
        /// Object handle.
        handle: u32,
        /// Offset into the object.
        bo_offset: u64,
        /// GPU writes fault.
        read_only: bool,
        /// PTE kind.
        kind: u8,
    },
    /// Map `[va, va + range)` sparse.
    Sparse {
        /// GPU writes fault (reads return 0 either way).
        read_only: bool,
    },
    /// Unmap whatever lies in `[va, va + range)`.
    Unmap,
}

/// A well-formed op.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CheckedOp {
    /// First VA.
    pub va: u64,
    /// Length in bytes.
    pub range: u64,
    /// The operation.
    pub op: BindOp,
}

/// Checks one op on its own: op code, flags, reserved fields, alignment, the VA window.
/// Whether `bo_offset + range` fits the object is [`check_bo_range`]'s job once the handle is
/// looked up.
pub fn check_op(op: &DrmNovaVmBindOp) -> Result<CheckedOp, ArgError> {
    let end = op.va.checked_add(op.range).ok_or(ArgError::Invalid)?;
    if !op.va.is_multiple_of(BIND_GRANULE)
        || op.range == 0
        || !op.range.is_multiple_of(BIND_GRANULE)
        || op.va < VA_START
        || end > VA_END
    {
        return Err(ArgError::Invalid);
    }
    let bind = match op.op {
        NOVA_VM_BIND_OP_MAP => {
            if op.flags & !NOVA_VM_BIND_OP_FLAGS != 0 {
                return Err(ArgError::Invalid);
            }
            let read_only = op.flags & NOVA_VM_BIND_READ_ONLY != 0;
            if op.flags & NOVA_VM_BIND_SPARSE != 0 {
                if op.handle != 0 || op.kind != 0 || op.bo_offset != 0 {
                    return Err(ArgError::Invalid);
                }
                BindOp::Sparse { read_only }
            } else {
                let kind = u8::try_from(op.kind).map_err(|_| ArgError::Invalid)?;
                if !op.bo_offset.is_multiple_of(BIND_GRANULE)
                    || op.bo_offset.checked_add(op.range).is_none()
                {
                    return Err(ArgError::Invalid);
                }
                BindOp::Map {
                    handle: op.handle,
                    bo_offset: op.bo_offset,
                    read_only,
                    kind,
                }
            }
        }
        NOVA_VM_BIND_OP_UNMAP => {
            if op.flags != 0 || op.handle != 0 || op.kind != 0 || op.bo_offset != 0 {
                return Err(ArgError::Invalid);
            }
            BindOp::Unmap
        }
        _ => return Err(ArgError::Invalid),
    };
    Ok(CheckedOp {
        va: op.va,
        range: op.range,
        op: bind,
    })
}

/// Checks that `[bo_offset, bo_offset + range)` lies inside an object of `obj_size` bytes.
pub fn check_bo_range(bo_offset: u64, range: u64, obj_size: u64) -> Result<(), ArgError> {
    match bo_offset.checked_add(range) {
        Some(end) if end <= obj_size => Ok(()),
        _ => Err(ArgError::Invalid),
    }
}

/// Whether a mapping made of pages of at most `page` bytes can lose `[start, end)` by
/// clearing just those PTEs: every page is naturally aligned, so this holds when both ends
/// are multiples of `page`. Otherwise the whole mapping has to be unmapped and what remains
/// mapped again (with pages that fit).
pub fn hole_on_page_boundaries(page: u64, start: u64, end: u64) -> bool {
    page != 0 && start.is_multiple_of(page) && end.is_multiple_of(page)
}

/// Walks DMA segments `(address, length)` of an object in order and hands `out` the pieces
/// that cover `[offset, offset + len)` of the object, in order.
///
/// Fails with [`ArgError::Invalid`] when the segments do not cover the range or a piece is not
/// [`BIND_GRANULE`]-aligned (the GPU maps 4 KiB pages); `out`'s own errors are passed on.
pub fn slice_segments<E: From<ArgError>>(
    segments: impl Iterator<Item = (u64, u64)>,
    offset: u64,
    len: u64,
    mut out: impl FnMut(u64, u64) -> Result<(), E>,
) -> Result<(), E> {
    let end = offset.checked_add(len).ok_or(ArgError::Invalid)?;
    let mut pos = 0u64; // object offset of the current segment
    let mut done = offset; // object offset handed out so far
    for (addr, seg_len) in segments {
        if done >= end {
            break;
        }
        let seg_end = pos.checked_add(seg_len).ok_or(ArgError::Invalid)?;
        if seg_end > done {
            let skip = done - pos;
            let take = seg_end.min(end) - done;
            let start = addr.checked_add(skip).ok_or(ArgError::Invalid)?;
            if !start.is_multiple_of(BIND_GRANULE) || !take.is_multiple_of(BIND_GRANULE) {
                return Err(ArgError::Invalid.into());
            }
            out(start, take)?;
            done += take;
        }
        pos = seg_end;
    }
    if done != end {
        return Err(ArgError::Invalid.into());
    }
    Ok(())
}

/// What backs a mapping, as the debugfs `vms` file names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MapWhat {
    /// A VRAM object.
    Vram,
    /// A system-memory object.
    Sysmem,
    /// No object (NOVA_VM_BIND_SPARSE).
    Sparse,
}

impl MapWhat {
    /// The name in the debugfs `vms` file.
    pub fn name(self) -> &'static str {
        match self {
            MapWhat::Vram => "vram",
            MapWhat::Sysmem => "sysmem",
            MapWhat::Sparse => "sparse",
        }
    }
}

/// Writes the line of one VM in the debugfs `vms` file:
/// `vm <id> pid <pid> inst <hex dma addr> aperture <sys|vid>`.
pub fn write_vm_line(
    w: &mut impl fmt::Write,
    id: u32,
    pid: i32,
    inst: u64,
    inst_in_vram: bool,
) -> fmt::Result {
    writeln!(
        w,
        "vm {} pid {} inst {:#x} aperture {}",
        id,
        pid,
        inst,
        if inst_in_vram { "vid" } else { "sys" }
    )
}

/// Writes the line of one mapping in the debugfs `vms` file:
/// `  map va <hex> range <hex> page <bytes> <vram|sysmem|sparse>`. `page` is the page size the
/// page tables use for it (0 when the page tables do not hold it, after a failed remap).
pub fn write_map_line(
    w: &mut impl fmt::Write,
    va: u64,
    range: u64,
    page: u64,
    what: MapWhat,
) -> fmt::Result {
    writeln!(
        w,
        "  map va {:#x} range {:#x} page {} {}",
        va,
        range,
        page,
        what.name()
    )
}
