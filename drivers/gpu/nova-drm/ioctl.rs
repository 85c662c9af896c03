// SPDX-License-Identifier: GPL-2.0
//! The ioctl table and handlers.
//!
//! The kernel's `declare_drm_ioctls!` only accepts types from the in-tree uAPI headers, so the
//! table is built here by [`nova_ioctl!`] from the shared mirror in `uapi/src/nova_drm.rs`. Each
//! entry gets a trampoline that checks the device is still registered (-ENODEV once nova-core
//! unbound), turns the raw pointers into references and calls a safe handler with nova-core's
//! link.

use core::ffi::{c_int, c_void};

use kernel::{
    current, device,
    drm::{self, gem::BaseObject, ioctl::internal},
    pci,
    prelude::*,
    uaccess::{UserPtr, UserSlice},
};

use kernel::{dma_fence::FenceChain, drm::syncobj::SyncObj};
use nova_core::{address_space::MapFlags, gpfifo::EngineKind, link::GpuLink};

use crate::{
    args::{self, ArgError, BindOp},
    driver::{NovaDevice, NovaDrmDriver},
    file::File,
    gem::{self, ObjArgs, Placement, VramObject},
    uapi,
    vm::BindStep,
};

/// A handler: the registered device, nova-core's link, the copied-in argument, the calling
/// file.
type Handler<T> = for<'a> fn(
    &NovaDevice<drm::Registered>,
    &'a GpuLink<'a>,
    &mut T,
    &drm::File<File>,
) -> Result<u32>;

impl From<ArgError> for Error {
    fn from(e: ArgError) -> Self {
        match e {
            ArgError::Invalid => EINVAL,
            ArgError::NoSpace => ENOSPC,
        }
    }
}

/// Builds one `drm_ioctl_desc`. The uAPI struct's size is checked against the ioctl number at
/// compile time, so the trampoline's cast is always to the type the DRM core copied in.
macro_rules! nova_ioctl {
    ($cmd:expr, $ty:ty, $flags:expr, $handler:expr, $name:literal) => {{
        const _: () = assert!(drm::ioctl::IOWR::<$ty>(($cmd & 0xff) as u32) == $cmd);

        /// The C entry point of this ioctl.
        ///
        /// # Safety
        ///
        /// Only the DRM core may call it, from `drm_ioctl()`, with the device, argument buffer
        /// and file of an ioctl on a nova device.
        unsafe extern "C" fn trampoline(
            raw_dev: *mut internal::drm_device,
            raw_data: *mut c_void,
            raw_file: *mut internal::drm_file,
        ) -> c_int {
            // SAFETY: the DRM core calls ioctl handlers with a device of this driver (the table
            // is only reachable through `NovaDrmDriver::IOCTLS`) that it keeps alive for the call.
            let dev = unsafe { drm::Device::<NovaDrmDriver, drm::Ioctl>::from_raw(raw_dev) };
            let Some(guard) = dev.registration_guard() else {
                return ENODEV.to_errno();
            };
            // SAFETY: `drm_ioctl()` copied `_IOC_SIZE(cmd)` bytes into a kernel buffer that is
            // ours alone for this call; the size equals `size_of::<$ty>()` (asserted above), the
            // buffer is suitably aligned for any uAPI struct, and every bit pattern is a valid
            // uAPI struct (integers only).
            let data = unsafe { &mut *raw_data.cast::<$ty>() };
            // SAFETY: `raw_file` is an open file of this device, created by `File::open`.
            let file = unsafe { drm::File::<File>::from_raw(raw_file) };
            let handler: Handler<$ty> = $handler;
            match guard.registration_data_with(|link| handler(&guard, *link, data, file)) {
                Ok(v) => v as c_int,
                Err(e) => e.to_errno(),
            }
        }

        internal::drm_ioctl_desc {
            cmd: $cmd,
            flags: $flags,
            func: Some(trampoline),
            name: kernel::str::as_char_ptr_in_const_context($name),
        }
    }};
}

/// The table, indexed by ioctl number minus `DRM_COMMAND_BASE` (the DRM core's rule).
pub(crate) const IOCTLS: &[drm::ioctl::DrmIoctlDescriptor] = &[
    nova_ioctl!(
        uapi::DRM_IOCTL_NOVA_GETPARAM,
        uapi::DrmNovaGetparam,
        drm::ioctl::RENDER_ALLOW,
        getparam,
        c"NOVA_GETPARAM"
    ),
    nova_ioctl!(
        uapi::DRM_IOCTL_NOVA_GEM_CREATE,
        uapi::DrmNovaGemCreate,
        drm::ioctl::RENDER_ALLOW,
        gem_create,
        c"NOVA_GEM_CREATE"
    ),
    nova_ioctl!(
        uapi::DRM_IOCTL_NOVA_GEM_INFO,
        uapi::DrmNovaGemInfo,
        drm::ioctl::RENDER_ALLOW,
        gem_info,
        c"NOVA_GEM_INFO"
    ),
    nova_ioctl!(
        uapi::DRM_IOCTL_NOVA_GEM_MMAP_OFFSET,
        uapi::DrmNovaGemMmapOffset,
        drm::ioctl::RENDER_ALLOW,
        gem_mmap_offset,
        c"NOVA_GEM_MMAP_OFFSET"
    ),
    nova_ioctl!(
        uapi::DRM_IOCTL_NOVA_VM_CREATE,
        uapi::DrmNovaVmCreate,
        drm::ioctl::RENDER_ALLOW,
        vm_create,
        c"NOVA_VM_CREATE"
    ),
    nova_ioctl!(
        uapi::DRM_IOCTL_NOVA_VM_DESTROY,
        uapi::DrmNovaVmDestroy,
        drm::ioctl::RENDER_ALLOW,
        vm_destroy,
        c"NOVA_VM_DESTROY"
    ),
    nova_ioctl!(
        uapi::DRM_IOCTL_NOVA_VM_BIND,
        uapi::DrmNovaVmBind,
        drm::ioctl::RENDER_ALLOW,
        vm_bind,
        c"NOVA_VM_BIND"
    ),
    nova_ioctl!(
        uapi::DRM_IOCTL_NOVA_CTX_CREATE,
        uapi::DrmNovaCtxCreate,
        drm::ioctl::RENDER_ALLOW,
        ctx_create,
        c"NOVA_CTX_CREATE"
    ),
    nova_ioctl!(
        uapi::DRM_IOCTL_NOVA_CTX_DESTROY,
        uapi::DrmNovaCtxDestroy,
        drm::ioctl::RENDER_ALLOW,
        ctx_destroy,
        c"NOVA_CTX_DESTROY"
    ),
    nova_ioctl!(
        uapi::DRM_IOCTL_NOVA_CTX_QUERY,
        uapi::DrmNovaCtxQuery,
        drm::ioctl::RENDER_ALLOW,
        ctx_query,
        c"NOVA_CTX_QUERY"
    ),
    nova_ioctl!(
        uapi::DRM_IOCTL_NOVA_EXEC,
        uapi::DrmNovaExec,
        drm::ioctl::RENDER_ALLOW,
        exec,
        c"NOVA_EXEC"
    ),
];

/// The engine classes `NOVA_GETPARAM_CLASS_*` report, in parameter order (channel, copy, 2D,
/// 3D, compute); 0 for a class the driver does not know.
fn classes(link: &GpuLink<'_>) -> [u32; 5] {
    let c = &link.info().classes;
    [c.channel, c.copy, c.twod, c.threed, c.compute]
}

/// `DRM_IOCTL_NOVA_GETPARAM`.
fn getparam(
    dev: &NovaDevice<drm::Registered>,
    link: &GpuLink<'_>,
    args: &mut uapi::DrmNovaGetparam,
    _file: &drm::File<File>,
) -> Result<u32> {
    let gpu = &dev.gpu;
    let class = |i: usize| u64::from(classes(link)[i]);
    args.value = match args.param {
        uapi::NOVA_GETPARAM_CHIPSET => u64::from(gpu.chipset),
        uapi::NOVA_GETPARAM_ARCHITECTURE => u64::from(gpu.architecture),
        uapi::NOVA_GETPARAM_REVISION => u64::from((gpu.major_rev << 4) | gpu.minor_rev),
        uapi::NOVA_GETPARAM_VRAM_SIZE => gpu.vram_size,
        uapi::NOVA_GETPARAM_BAR1_SIZE => gpu.bar1_size,
        uapi::NOVA_GETPARAM_FW_VERSION => gpu.fw_version,
        uapi::NOVA_GETPARAM_VA_START => args::VA_START,
        uapi::NOVA_GETPARAM_VA_END => args::VA_END,
        uapi::NOVA_GETPARAM_PAGE_SIZES => args::PAGE_SIZES,
        uapi::NOVA_GETPARAM_CLASS_CHANNEL => class(0),
        uapi::NOVA_GETPARAM_CLASS_COPY => class(1),
        uapi::NOVA_GETPARAM_CLASS_2D => class(2),
        uapi::NOVA_GETPARAM_CLASS_3D => class(3),
        uapi::NOVA_GETPARAM_CLASS_COMPUTE => class(4),
        // Without GSP-RM there is no VRAM allocator, hence nothing free.
        uapi::NOVA_GETPARAM_VRAM_FREE => link.mm().map_or(0, |mm| mm.vram_free()),
        uapi::NOVA_GETPARAM_JOB_TIMEOUT_MS => u64::from(crate::ctx::JOB_TIMEOUT_MS),
        _ => return Err(EINVAL),
    };
    Ok(0)
}

/// `DRM_IOCTL_NOVA_GEM_CREATE`.
///
/// System-memory objects may be at most half of the RAM (`si_meminfo()`'s total) each: larger
/// ones could never be pinned for the GPU without starving the machine (-ENOSPC). VRAM objects
/// may be at most the usable VRAM (`NOVA_GETPARAM_VRAM_SIZE`); whether they fit now is the
/// allocator's answer (-ENOSPC too).
fn gem_create(
    dev: &NovaDevice<drm::Registered>,
    link: &GpuLink<'_>,
    args: &mut uapi::DrmNovaGemCreate,
    file: &drm::File<File>,
) -> Result<u32> {
    let plan = args::gem_create(
        args.size,
        args.flags,
        args.align,
        gem::total_ram() / 2,
        dev.gpu.vram_size,
    )?;
    let placement = if plan.vram {
        Placement::Vram(VramObject::new(
            link.mm()?.alloc_vram(plan.size, plan.align)?,
        ))
    } else {
        Placement::Sysmem
    };
    let obj = gem::create(
        dev,
        plan.size,
        ObjArgs {
            flags: args.flags,
            placement,
        },
    )?;
    args.handle = obj.create_handle(file)?;
    args.size = plan.size;
    Ok(0)
}

/// `DRM_IOCTL_NOVA_GEM_INFO`.
fn gem_info(
    _dev: &NovaDevice<drm::Registered>,
    _link: &GpuLink<'_>,
    args: &mut uapi::DrmNovaGemInfo,
    file: &drm::File<File>,
) -> Result<u32> {
    let obj = gem::lookup(file, args.handle)?;
    args.flags = obj.flags();
    args.size = obj.size() as u64;
    Ok(0)
}

/// `DRM_IOCTL_NOVA_GEM_MMAP_OFFSET`.
///
/// A VRAM object first gets its BAR1 window (-ENOSPC when BAR1 cannot hold it, -ENODEV
/// without BAR1); its mmap then maps that window.
fn gem_mmap_offset(
    _dev: &NovaDevice<drm::Registered>,
    link: &GpuLink<'_>,
    args: &mut uapi::DrmNovaGemMmapOffset,
    file: &drm::File<File>,
) -> Result<u32> {
    if args.pad != 0 {
        return Err(EINVAL);
    }
    let obj = gem::lookup(file, args.handle)?;
    match obj.placement() {
        Placement::Sysmem => {}
        Placement::Vram(vram) => {
            if vram.bar1().is_none() {
                // Later calls return the same window, so a race only records it twice.
                vram.set_bar1(link.bar1_map(vram.block())?);
            }
        }
        Placement::Internal => return Err(EINVAL),
    }
    args.offset = obj.create_mmap_offset()?;
    Ok(0)
}

/// `DRM_IOCTL_NOVA_VM_CREATE`.
fn vm_create(
    _dev: &NovaDevice<drm::Registered>,
    link: &GpuLink<'_>,
    args: &mut uapi::DrmNovaVmCreate,
    file: &drm::File<File>,
) -> Result<u32> {
    if args.flags != 0 {
        return Err(EINVAL);
    }
    args.id = file.inner().create_vm(link, current!().tgid())?;
    Ok(0)
}

/// `DRM_IOCTL_NOVA_VM_DESTROY`.
fn vm_destroy(
    _dev: &NovaDevice<drm::Registered>,
    link: &GpuLink<'_>,
    args: &mut uapi::DrmNovaVmDestroy,
    file: &drm::File<File>,
) -> Result<u32> {
    if args.pad != 0 {
        return Err(EINVAL);
    }
    file.inner().destroy_vm(link, args.id)?;
    Ok(0)
}

/// Looks up what a checked op refers to; system-memory objects are pinned and DMA-mapped here,
/// before anything is applied.
fn resolve(
    dma_dev: &device::Device<device::Bound>,
    file: &drm::File<File>,
    op: args::CheckedOp,
) -> Result<BindStep> {
    let (va, range) = (op.va, op.range);
    Ok(match op.op {
        BindOp::Map {
            handle,
            bo_offset,
            read_only,
            kind,
        } => {
            // Foreign objects (imported dma-bufs, dumb buffers) fail the lookup (-EINVAL).
            let obj = gem::lookup(file, handle)?;
            args::check_bo_range(bo_offset, range, obj.size() as u64)?;
            match obj.placement() {
                Placement::Sysmem => {
                    obj.sg_table(dma_dev)?;
                }
                Placement::Vram(_) => {}
                Placement::Internal => return Err(EINVAL),
            }
            BindStep::Map {
                va,
                range,
                obj,
                bo_offset,
                flags: MapFlags { read_only, kind },
            }
        }
        BindOp::Sparse { read_only } => BindStep::Sparse {
            va,
            range,
            flags: MapFlags { read_only, kind: 0 },
        },
        BindOp::Unmap => BindStep::Unmap { va, range },
    })
}

/// `DRM_IOCTL_NOVA_VM_BIND`: checks every op, then applies them in order.
fn vm_bind(
    dev: &NovaDevice<drm::Registered>,
    link: &GpuLink<'_>,
    args: &mut uapi::DrmNovaVmBind,
    file: &drm::File<File>,
) -> Result<u32> {
    let num_ops = args.num_ops;
    // Nothing applied until said otherwise.
    args.num_ops = 0;
    args::vm_bind(&uapi::DrmNovaVmBind { num_ops, ..*args })?;
    let vm = file.inner().vm(args.vm_id)?;
    // The PCI function: the DRM device's parent, which DMA-maps system-memory objects.
    let pdev: &pci::Device<device::Bound> = dev.as_ref();
    let dma_dev: &device::Device<device::Bound> = pdev.as_ref();

    let op_size = args.op_size as usize;
    let n = num_ops as usize;
    let ptr = UserPtr::from_addr(usize::try_from(args.ops).map_err(|_| EFAULT)?);
    let mut reader = UserSlice::new(ptr, op_size * n).reader();
    let mut buf = KVec::from_elem(0u8, op_size, GFP_KERNEL)?;
    let mut steps = KVec::with_capacity(n, GFP_KERNEL)?;
    for _ in 0..n {
        reader.read_slice(&mut buf)?;
        let op = args::check_op(&args::parse_op(&buf)?)?;
        steps.push(resolve(dma_dev, file, op)?, GFP_KERNEL)?;
    }

    let (applied, result) = vm.bind(link, dma_dev, &steps);
    // At most NOVA_VM_BIND_MAX_OPS.
    args.num_ops = applied as u32;
    result.map(|()| 0)
}

/// `DRM_IOCTL_NOVA_CTX_CREATE`.
fn ctx_create(
    _dev: &NovaDevice<drm::Registered>,
    link: &GpuLink<'_>,
    args: &mut uapi::DrmNovaCtxCreate,
    file: &drm::File<File>,
) -> Result<u32> {
    let engine = match args.engine {
        uapi::NOVA_ENGINE_COPY => EngineKind::Copy,
        uapi::NOVA_ENGINE_2D => EngineKind::TwoD,
        _ => return Err(EINVAL),
    };
    if args.flags != 0 {
        return Err(EINVAL);
    }
    args.id = file.inner().create_ctx(link, args.vm_id, engine)?;
    Ok(0)
}

/// `DRM_IOCTL_NOVA_CTX_DESTROY`.
fn ctx_destroy(
    _dev: &NovaDevice<drm::Registered>,
    link: &GpuLink<'_>,
    args: &mut uapi::DrmNovaCtxDestroy,
    file: &drm::File<File>,
) -> Result<u32> {
    if args.pad != 0 {
        return Err(EINVAL);
    }
    file.inner().destroy_ctx(link, args.id)?;
    Ok(0)
}

/// `DRM_IOCTL_NOVA_CTX_QUERY`.
fn ctx_query(
    _dev: &NovaDevice<drm::Registered>,
    _link: &GpuLink<'_>,
    args: &mut uapi::DrmNovaCtxQuery,
    file: &drm::File<File>,
) -> Result<u32> {
    if args.flags != 0 {
        return Err(EINVAL);
    }
    let r = file.inner().ctx(args.id)?.report();
    args.resets = r.resets;
    args.last_error = r.last_error;
    args.submitted = r.submitted;
    args.completed = r.completed;
    Ok(0)
}

/// Copies `n` records of `size` bytes from user pointer `ptr` and decodes each with `parse`.
fn read_user_array<T>(ptr: u64, n: u32, size: usize, parse: fn(&[u8]) -> T) -> Result<KVec<T>> {
    let mut out = KVec::with_capacity(n as usize, GFP_KERNEL)?;
    if n == 0 {
        return Ok(out);
    }
    let ptr = UserPtr::from_addr(usize::try_from(ptr).map_err(|_| EFAULT)?);
    let mut bytes = KVec::from_elem(0u8, size * n as usize, GFP_KERNEL)?;
    UserSlice::new(ptr, bytes.len())
        .reader()
        .read_slice(&mut bytes)?;
    for rec in bytes.chunks_exact(size) {
        out.push(parse(rec), GFP_KERNEL)?;
    }
    Ok(out)
}

/// `DRM_IOCTL_NOVA_EXEC`: checks the job, resolves its syncobjs, creates its fence, installs
/// it in the signal syncobjs and queues it.
fn exec(
    _dev: &NovaDevice<drm::Registered>,
    link: &GpuLink<'_>,
    args: &mut uapi::DrmNovaExec,
    file: &drm::File<File>,
) -> Result<u32> {
    args::exec(args)?;
    let ctx = file.inner().ctx(args.ctx_id)?;

    let pushes = read_user_array(args.push, args.num_push, args::PUSH_SIZE, args::parse_push)?;
    let mut segments = KVec::with_capacity(pushes.len(), GFP_KERNEL)?;
    for p in pushes.iter() {
        args::exec_push(p)?;
        if !ctx.vm().covers(p.va, u64::from(p.size)) {
            return Err(EINVAL);
        }
        segments.push((p.va, p.size / 4), GFP_KERNEL)?;
    }

    let waits = read_user_array(
        args.waits,
        args.num_waits,
        args::SYNC_SIZE,
        args::parse_sync,
    )?;
    let signals = read_user_array(
        args.signals,
        args.num_signals,
        args::SYNC_SIZE,
        args::parse_sync,
    )?;
    let mut deps = KVec::with_capacity(waits.len(), GFP_KERNEL)?;
    for w in waits.iter() {
        if w.flags != 0 {
            return Err(EINVAL);
        }
        deps.push(
            SyncObj::find_fence(file, w.handle, w.point, false)?,
            GFP_KERNEL,
        )?;
    }
    let mut outs = KVec::with_capacity(signals.len(), GFP_KERNEL)?;
    for s in signals.iter() {
        if s.flags != 0 {
            return Err(EINVAL);
        }
        let obj = SyncObj::lookup(file, s.handle)?;
        let chain = if s.point != 0 {
            Some(FenceChain::new()?)
        } else {
            None
        };
        outs.push((obj, chain, s.point), GFP_KERNEL)?;
    }

    let fence = ctx.submit(link, segments, deps)?;
    for (obj, chain, point) in outs {
        match chain {
            Some(chain) => obj.add_point(chain, &fence, point),
            None => obj.replace_fence(Some(&fence)),
        }
    }
    Ok(0)
}
