// SPDX-License-Identifier: MIT
//! GPU virtual address spaces and `DRM_IOCTL_NOVA_VM_BIND`.

use crate::{raw, Bo, Device, Error};
use nova_uapi::{self as uapi, DrmNovaVmBindOp};
use std::fmt;

/// One VM_BIND operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// Map `range` bytes of object `handle` from `bo_offset` at `va`.
    Map {
        /// GEM handle.
        handle: u32,
        /// First GPU VA (4 KiB aligned).
        va: u64,
        /// Length (4 KiB aligned, > 0).
        range: u64,
        /// Offset into the object (4 KiB aligned).
        bo_offset: u64,
        /// PTE kind (0 = pitch).
        kind: u8,
        /// GPU writes fault.
        read_only: bool,
    },
    /// Map `range` bytes at `va` sparse: reads return 0, writes are dropped, nothing faults.
    Sparse {
        /// First GPU VA.
        va: u64,
        /// Length.
        range: u64,
    },
    /// Remove whatever is mapped in `[va, va + range)`.
    Unmap {
        /// First GPU VA.
        va: u64,
        /// Length.
        range: u64,
    },
}

impl Op {
    /// Maps `range` bytes of `bo` from `bo_offset` at `va`, read-write, pitch kind.
    pub fn map(bo: &Bo, va: u64, bo_offset: u64, range: u64) -> Op {
        Op::Map {
            handle: bo.handle(),
            va,
            range,
            bo_offset,
            kind: 0,
            read_only: false,
        }
    }

    /// Maps all of `bo` at `va`.
    pub fn map_all(bo: &Bo, va: u64) -> Op {
        Op::map(bo, va, 0, bo.size())
    }

    /// A sparse range.
    pub fn sparse(va: u64, range: u64) -> Op {
        Op::Sparse { va, range }
    }

    /// An unmap.
    pub fn unmap(va: u64, range: u64) -> Op {
        Op::Unmap { va, range }
    }

    /// This op, read-only (MAP only; others are returned unchanged).
    pub fn read_only(self) -> Op {
        match self {
            Op::Map {
                handle,
                va,
                range,
                bo_offset,
                kind,
                ..
            } => Op::Map {
                handle,
                va,
                range,
                bo_offset,
                kind,
                read_only: true,
            },
            other => other,
        }
    }

    /// This op with PTE kind `kind` (MAP only).
    pub fn with_kind(self, kind: u8) -> Op {
        match self {
            Op::Map {
                handle,
                va,
                range,
                bo_offset,
                read_only,
                ..
            } => Op::Map {
                handle,
                va,
                range,
                bo_offset,
                kind,
                read_only,
            },
            other => other,
        }
    }

    /// The uAPI encoding.
    pub fn encode(&self) -> DrmNovaVmBindOp {
        match *self {
            Op::Map {
                handle,
                va,
                range,
                bo_offset,
                kind,
                read_only,
            } => DrmNovaVmBindOp {
                op: uapi::NOVA_VM_BIND_OP_MAP,
                flags: if read_only {
                    uapi::NOVA_VM_BIND_READ_ONLY
                } else {
                    0
                },
                handle,
                kind: kind.into(),
                va,
                range,
                bo_offset,
            },
            Op::Sparse { va, range } => DrmNovaVmBindOp {
                op: uapi::NOVA_VM_BIND_OP_MAP,
                flags: uapi::NOVA_VM_BIND_SPARSE,
                va,
                range,
                ..Default::default()
            },
            Op::Unmap { va, range } => DrmNovaVmBindOp {
                op: uapi::NOVA_VM_BIND_OP_UNMAP,
                va,
                range,
                ..Default::default()
            },
        }
    }

    /// The op `raw` encodes, if it is well-formed as far as userspace can tell (known op and
    /// flags, zero fields where the op takes none, kind < 256).
    pub fn decode(raw: &DrmNovaVmBindOp) -> Option<Op> {
        let DrmNovaVmBindOp {
            op,
            flags,
            handle,
            kind,
            va,
            range,
            bo_offset,
        } = *raw;
        match (op, flags) {
            (uapi::NOVA_VM_BIND_OP_UNMAP, 0) if handle == 0 && kind == 0 && bo_offset == 0 => {
                Some(Op::Unmap { va, range })
            }
            (uapi::NOVA_VM_BIND_OP_MAP, uapi::NOVA_VM_BIND_SPARSE)
                if handle == 0 && kind == 0 && bo_offset == 0 =>
            {
                Some(Op::Sparse { va, range })
            }
            (uapi::NOVA_VM_BIND_OP_MAP, f) if f & !uapi::NOVA_VM_BIND_READ_ONLY == 0 => {
                Some(Op::Map {
                    handle,
                    va,
                    range,
                    bo_offset,
                    kind: u8::try_from(kind).ok()?,
                    read_only: f != 0,
                })
            }
            _ => None,
        }
    }
}

/// A failed VM_BIND: the error, and how many ops (from the start of the slice passed) were
/// applied before it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BindError {
    /// Ops applied before the failure (they stay applied).
    pub applied: usize,
    /// What failed.
    pub error: Error,
}

impl BindError {
    /// The errno.
    pub fn errno(&self) -> i32 {
        self.error.errno()
    }
}

impl fmt::Display for BindError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} ({} op(s) applied before it)",
            self.error, self.applied
        )
    }
}

impl std::error::Error for BindError {}

impl From<BindError> for Error {
    fn from(e: BindError) -> Self {
        e.error
    }
}

/// The `DRM_IOCTL_NOVA_VM_BIND` argument for `ops` on VM `vm_id`. The pointer in it borrows
/// `ops`: use it while `ops` lives.
pub fn bind_args(vm_id: u32, ops: &[DrmNovaVmBindOp]) -> uapi::DrmNovaVmBind {
    uapi::DrmNovaVmBind {
        vm_id,
        flags: 0,
        num_ops: u32::try_from(ops.len()).unwrap_or(u32::MAX),
        op_size: size_of::<DrmNovaVmBindOp>() as u32,
        ops: ops.as_ptr() as u64,
    }
}

/// How many ops of a failed batch of `sent` were applied, given the `num_ops` the kernel
/// returned. A failure at op k leaves k < `sent` applied, so a value of `sent` or more means
/// the kernel never wrote the field (the ioctl failed before nova saw it, e.g. `ENOTTY`, or
/// copying the argument in faulted): nothing was applied.
pub fn applied_after_error(num_ops: u32, sent: usize) -> usize {
    let n = num_ops as usize;
    if n >= sent {
        0
    } else {
        n
    }
}

/// A GPU virtual address space of a [`Device`], destroyed (with every mapping in it) on drop.
#[derive(Debug)]
pub struct Vm {
    dev: Device,
    id: u32,
}

impl Vm {
    /// `DRM_IOCTL_NOVA_VM_CREATE`.
    pub fn new(dev: &Device) -> crate::Result<Vm> {
        let id = raw::vm_create(dev, 0)?;
        Ok(Vm {
            dev: dev.clone(),
            id,
        })
    }

    /// The VM's id in its file.
    pub fn id(&self) -> u32 {
        self.id
    }

    /// The VM's device.
    pub fn device(&self) -> &Device {
        &self.dev
    }

    /// Applies `ops` in order, in batches of at most `NOVA_VM_BIND_MAX_OPS` ops. On failure,
    /// the ops before the failing one stay applied and [`BindError::applied`] counts them.
    pub fn bind(&self, ops: &[Op]) -> Result<(), BindError> {
        let raw: Vec<DrmNovaVmBindOp> = ops.iter().map(Op::encode).collect();
        self.bind_raw(&raw)
    }

    /// As [`Vm::bind`], with ops already encoded (not checked: whatever they hold is passed).
    pub fn bind_raw(&self, ops: &[DrmNovaVmBindOp]) -> Result<(), BindError> {
        let mut applied = 0;
        if ops.is_empty() {
            // Let the kernel say what it thinks of an empty batch.
            return self
                .bind_batch(ops)
                .map_err(|(n, error)| BindError { applied: n, error });
        }
        for batch in ops.chunks(uapi::NOVA_VM_BIND_MAX_OPS as usize) {
            self.bind_batch(batch).map_err(|(n, error)| BindError {
                applied: applied + n,
                error,
            })?;
            applied += batch.len();
        }
        Ok(())
    }

    /// One ioctl; on failure, the ops it applied and the error.
    fn bind_batch(&self, ops: &[DrmNovaVmBindOp]) -> Result<(), (usize, Error)> {
        let mut a = bind_args(self.id, ops);
        match raw::vm_bind(&self.dev, &mut a) {
            Ok(()) => Ok(()),
            Err(e) => Err((applied_after_error(a.num_ops, ops.len()), e)),
        }
    }

    /// Maps all of `bo` at `va`.
    pub fn map(&self, bo: &Bo, va: u64) -> crate::Result<()> {
        Ok(self.bind(&[Op::map_all(bo, va)])?)
    }

    /// Unmaps `[va, va + range)`.
    pub fn unmap(&self, va: u64, range: u64) -> crate::Result<()> {
        Ok(self.bind(&[Op::unmap(va, range)])?)
    }
}

impl Drop for Vm {
    fn drop(&mut self) {
        let _ = raw::vm_destroy(&self.dev, self.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uapi::*;

    #[test]
    fn encode_map() {
        let op = Op::Map {
            handle: 3,
            va: 0x1_0000_0000,
            range: 0x20_0000,
            bo_offset: 0x1000,
            kind: 0,
            read_only: false,
        };
        assert_eq!(
            op.encode(),
            DrmNovaVmBindOp {
                op: NOVA_VM_BIND_OP_MAP,
                flags: 0,
                handle: 3,
                kind: 0,
                va: 0x1_0000_0000,
                range: 0x20_0000,
                bo_offset: 0x1000,
            }
        );
        let ro = op.read_only().with_kind(0xfe).encode();
        assert_eq!((ro.flags, ro.kind), (NOVA_VM_BIND_READ_ONLY, 0xfe));
        assert_eq!(Op::decode(&ro), Some(op.read_only().with_kind(0xfe)));
    }

    #[test]
    fn encode_sparse_and_unmap() {
        let s = Op::sparse(0x2000_0000, 0x4000).encode();
        assert_eq!(
            s,
            DrmNovaVmBindOp {
                op: NOVA_VM_BIND_OP_MAP,
                flags: NOVA_VM_BIND_SPARSE,
                handle: 0,
                kind: 0,
                va: 0x2000_0000,
                range: 0x4000,
                bo_offset: 0
            }
        );
        let u = Op::unmap(0x2000_0000, 0x1000).encode();
        assert_eq!(
            (u.op, u.flags, u.handle, u.kind, u.bo_offset),
            (NOVA_VM_BIND_OP_UNMAP, 0, 0, 0, 0)
        );
        assert_eq!((u.va, u.range), (0x2000_0000, 0x1000));
        // read_only/with_kind leave non-MAP ops alone.
        assert_eq!(Op::unmap(1, 2).read_only().with_kind(3), Op::unmap(1, 2));
        for op in [Op::sparse(0x1000, 0x1000), Op::unmap(0x1000, 0x1000)] {
            assert_eq!(Op::decode(&op.encode()), Some(op));
        }
    }

    #[test]
    fn decode_rejects_what_the_kernel_rejects() {
        let ok = Op::unmap(0x1000, 0x1000).encode();
        for bad in [
            DrmNovaVmBindOp { op: 2, ..ok },
            DrmNovaVmBindOp { flags: 1, ..ok },
            DrmNovaVmBindOp { handle: 1, ..ok },
            DrmNovaVmBindOp {
                op: NOVA_VM_BIND_OP_MAP,
                flags: 1 << 2,
                ..ok
            },
            DrmNovaVmBindOp {
                op: NOVA_VM_BIND_OP_MAP,
                kind: 256,
                ..ok
            },
            DrmNovaVmBindOp {
                op: NOVA_VM_BIND_OP_MAP,
                flags: NOVA_VM_BIND_SPARSE,
                handle: 5,
                ..ok
            },
        ] {
            assert_eq!(Op::decode(&bad), None, "{bad:?}");
        }
    }

    #[test]
    fn bind_args_point_at_the_ops() {
        let ops = [Op::unmap(0x1000, 0x1000).encode(); 3];
        let a = bind_args(7, &ops);
        assert_eq!((a.vm_id, a.flags, a.num_ops, a.op_size), (7, 0, 3, 40));
        assert_eq!(a.ops, ops.as_ptr() as u64);
    }

    #[test]
    fn applied_count_after_an_error() {
        assert_eq!(applied_after_error(2, 4), 2);
        assert_eq!(applied_after_error(0, 4), 0);
        // Unchanged (or nonsense) num_ops: the kernel did not get to write it.
        assert_eq!(applied_after_error(4, 4), 0);
        assert_eq!(applied_after_error(u32::MAX, 4), 0);
    }

    #[test]
    fn bind_error_reports_applied_ops() {
        let e = BindError {
            applied: 2,
            error: Error::new("VM_BIND", libc::ENOSPC),
        };
        assert_eq!(e.errno(), libc::ENOSPC);
        assert_eq!(
            e.to_string(),
            "VM_BIND: ENOSPC (No space left on device) (2 op(s) applied before it)"
        );
        assert_eq!(Error::from(e).errno(), libc::ENOSPC);
    }

    #[test]
    fn vm_on_a_non_drm_file_fails_with_enotty() {
        let d = Device::open_path("/dev/null").unwrap();
        let e = Vm::new(&d).unwrap_err();
        assert_eq!((e.op(), e.errno()), ("VM_CREATE", libc::ENOTTY));
        // A VM value for a file that has none: bind fails, nothing is applied, and the big
        // batch is split (the first chunk fails, so applied stays 0).
        let vm = Vm { dev: d, id: 1 };
        let ops = vec![Op::unmap(0x1000, 0x1000); 1500];
        let e = vm.bind(&ops).unwrap_err();
        assert_eq!((e.applied, e.errno()), (0, libc::ENOTTY));
    }
}
