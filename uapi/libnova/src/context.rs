// SPDX-License-Identifier: MIT
//! Execution contexts (a GPU channel in a VM) and `DRM_IOCTL_NOVA_EXEC`.
//!
//! ```no_run
//! use libnova::{Bo, Context, Device, Engine, Op, Placement, Push, Syncobj, Vm};
//! use std::time::Duration;
//! let dev = Device::open()?;
//! let info = dev.info()?;
//! let vm = Vm::new(&dev)?;
//! let bo = Bo::new(&dev, 64 << 10, Placement::System, 0)?;
//! vm.bind(&[Op::map_all(&bo, info.va_start)])?;
//! let mut p = Push::new();
//! p.sem_release(info.va_start + 0x1000, 42, true);
//! p.write_to(&mut bo.map()?, 0);
//! let ctx = Context::new(&vm, Engine::Copy)?;
//! let done = Syncobj::new(&dev, false)?;
//! ctx.exec(&[p.range(info.va_start)], &[], &[done.binary()])?;
//! done.wait(Duration::from_secs(5), 0)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::{raw, Device, Result, Vm};
use nova_uapi::{self as uapi, DrmNovaExec, DrmNovaExecPush, DrmNovaSync};

/// What a context's channel runs (`NOVA_ENGINE_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    /// Copy engine 0 with the copy class (`NOVA_GETPARAM_CLASS_COPY`).
    Copy,
    /// The graphics engine with the 2D class (`NOVA_GETPARAM_CLASS_2D`).
    TwoD,
}

impl Engine {
    /// The `NOVA_ENGINE_*` value.
    pub const fn raw(self) -> u32 {
        match self {
            Engine::Copy => uapi::NOVA_ENGINE_COPY,
            Engine::TwoD => uapi::NOVA_ENGINE_2D,
        }
    }
}

/// What `DRM_IOCTL_NOVA_CTX_QUERY` says about a context.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CtxState {
    /// How many times the kernel reset the channel.
    pub resets: u32,
    /// 0, or the negative errno of the last reset (`-ETIMEDOUT`, `-EIO`).
    pub last_error: i32,
    /// Jobs submitted so far.
    pub submitted: u64,
    /// Jobs whose fence has signalled.
    pub completed: u64,
}

/// One push buffer range of an EXEC: `size` bytes at GPU VA `va`.
pub fn push_range(va: u64, size: u32) -> DrmNovaExecPush {
    DrmNovaExecPush { va, size, flags: 0 }
}

/// The `DRM_IOCTL_NOVA_EXEC` argument for a job on context `ctx_id`. The pointers in it borrow
/// the slices: use it while they live.
pub fn exec_args(
    ctx_id: u32,
    push: &[DrmNovaExecPush],
    waits: &[DrmNovaSync],
    signals: &[DrmNovaSync],
) -> DrmNovaExec {
    let n = |l: usize| u32::try_from(l).unwrap_or(u32::MAX);
    DrmNovaExec {
        ctx_id,
        flags: 0,
        num_push: n(push.len()),
        num_waits: n(waits.len()),
        num_signals: n(signals.len()),
        pad: 0,
        push: push.as_ptr() as u64,
        waits: waits.as_ptr() as u64,
        signals: signals.as_ptr() as u64,
    }
}

/// A context in a [`Vm`], destroyed on drop (which cancels its unfinished jobs). It borrows the
/// VM, so the VM outlives it.
#[derive(Debug)]
pub struct Context<'vm> {
    vm: &'vm Vm,
    id: u32,
    engine: Engine,
}

impl<'vm> Context<'vm> {
    /// `DRM_IOCTL_NOVA_CTX_CREATE` on `vm` for `engine`.
    pub fn new(vm: &'vm Vm, engine: Engine) -> Result<Context<'vm>> {
        let mut a = uapi::DrmNovaCtxCreate {
            vm_id: vm.id(),
            engine: engine.raw(),
            flags: 0,
            id: 0,
        };
        raw::ctx_create(vm.device(), &mut a)?;
        Ok(Context {
            vm,
            id: a.id,
            engine,
        })
    }

    /// The context's id in its file.
    pub fn id(&self) -> u32 {
        self.id
    }

    /// The engine it runs.
    pub fn engine(&self) -> Engine {
        self.engine
    }

    /// Its VM.
    pub fn vm(&self) -> &'vm Vm {
        self.vm
    }

    /// Its device.
    pub fn device(&self) -> &Device {
        self.vm.device()
    }

    /// `DRM_IOCTL_NOVA_CTX_QUERY`.
    pub fn query(&self) -> Result<CtxState> {
        let mut a = uapi::DrmNovaCtxQuery {
            id: self.id,
            ..Default::default()
        };
        raw::ctx_query(self.device(), &mut a)?;
        Ok(CtxState {
            resets: a.resets,
            last_error: a.last_error,
            submitted: a.submitted,
            completed: a.completed,
        })
    }

    /// `DRM_IOCTL_NOVA_EXEC`: queues a job fetching `push` in order, after every fence of
    /// `waits`; its fence goes into every syncobj (point) of `signals` before this returns.
    pub fn exec(
        &self,
        push: &[DrmNovaExecPush],
        waits: &[DrmNovaSync],
        signals: &[DrmNovaSync],
    ) -> Result<()> {
        let mut a = exec_args(self.id, push, waits, signals);
        raw::exec(self.device(), &mut a)
    }

    /// Destroys the context now (what drop does), reporting the kernel's answer.
    pub fn destroy(self) -> Result<()> {
        let r = raw::ctx_destroy(self.device(), self.id);
        std::mem::forget(self);
        r
    }
}

impl Drop for Context<'_> {
    fn drop(&mut self) {
        let _ = raw::ctx_destroy(self.device(), self.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engines() {
        assert_eq!(Engine::Copy.raw(), 0);
        assert_eq!(Engine::TwoD.raw(), 1);
    }

    #[test]
    fn exec_args_point_at_the_arrays() {
        let push = [push_range(0x10_0000, 64), push_range(0x20_0000, 8)];
        let waits = [DrmNovaSync {
            handle: 3,
            flags: 0,
            point: 7,
        }];
        let a = exec_args(5, &push, &waits, &[]);
        assert_eq!(
            (
                a.ctx_id,
                a.flags,
                a.num_push,
                a.num_waits,
                a.num_signals,
                a.pad
            ),
            (5, 0, 2, 1, 0, 0)
        );
        assert_eq!(a.push, push.as_ptr() as u64);
        assert_eq!(a.waits, waits.as_ptr() as u64);
        assert_eq!(
            push[1],
            DrmNovaExecPush {
                va: 0x20_0000,
                size: 8,
                flags: 0
            }
        );
    }

    #[test]
    fn context_on_a_non_drm_file_fails_with_enotty() {
        let d = Device::open_path("/dev/null").unwrap();
        let e = Vm::new(&d).unwrap_err();
        assert_eq!(e.errno(), libc::ENOTTY);
        let e = raw::ctx_create(&d, &mut uapi::DrmNovaCtxCreate::default()).unwrap_err();
        assert_eq!((e.op(), e.errno()), ("CTX_CREATE", libc::ENOTTY));
        let e = raw::exec(&d, &mut exec_args(1, &[], &[], &[])).unwrap_err();
        assert_eq!((e.op(), e.errno()), ("EXEC", libc::ENOTTY));
        assert_eq!(raw::ctx_destroy(&d, 1).unwrap_err().op(), "CTX_DESTROY");
    }
}
