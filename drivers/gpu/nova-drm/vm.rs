// SPDX-License-Identifier: GPL-2.0
//! GPU virtual address spaces (VMs) and how VM_BIND changes them.
//!
//! A [`Vm`] is a kernel GPUVM ([`GpuVm<NovaVm>`]) over `[VA_START, VA_END)` plus nova-core's
//! [`AddressSpace`] (page tables and instance block). GPUVM keeps the mappings (a reference on
//! every mapped object, the split arithmetic of partial unmaps); each map/unmap/remap step it
//! asks for is done on the page tables through nova-core with the exact range, then recorded.
//! [`NovaVm::maps`] mirrors the mappings with what the page tables hold, for the overlap
//! checks VM_BIND needs and for debugfs (the GPUVM abstraction has no lookup or iteration).
//!
//! Sparse mappings have no object: GPUVM maps them to the VM's internal object.
//!
//! Rule for failures: a mapping may be in GPUVM without PTEs (page 0 in the mirror), never the
//! other way round, so no PTE ever points at memory whose object GPUVM no longer holds.

use kernel::{
    alloc::KVVec,
    device::{self, Bound},
    drm::gpuvm::{
        DriverGpuVm, GpuVaAlloc, GpuVm, OpMap, OpMapRequest, OpMapped, OpRemap, OpRemapped,
        OpUnmap, OpUnmapped, UniqueRefGpuVm,
    },
    fmt, new_mutex,
    prelude::*,
    rbtree::{RBTree, RBTreeNodeReservation},
    sync::{
        aref::ARef,
        atomic::{Atomic, Relaxed},
        Arc, Mutex,
    },
};

use crate::{
    args::{self, MapWhat, VA_END, VA_START},
    driver::{NovaDevice, NovaDrmDriver},
    gem::{self, NovaGem, ObjArgs, Placement},
};

use nova_core::{
    address_space::{AddressSpace, Backing, MapFlags},
    link::GpuLink,
};

/// One mapping as the page tables hold it.
#[derive(Clone, Copy)]
struct MapEntry {
    /// Length in bytes.
    len: u64,
    /// Largest page size the page tables use for it; 0 when they do not hold it.
    page: u64,
    /// What backs it.
    what: MapWhat,
    /// GPU writes fault.
    read_only: bool,
    /// PTE kind.
    kind: u8,
}

impl MapEntry {
    fn flags(&self) -> MapFlags {
        MapFlags {
            read_only: self.read_only,
            kind: self.kind,
        }
    }
}

/// The driver side of a GPUVM: the page tables and the mirror of the mappings.
pub(crate) struct NovaVm {
    /// nova-core's page tables; `None` once given up (teardown without the GPU).
    aspace: Option<AddressSpace>,
    /// Every mapping by first VA (they never overlap).
    maps: RBTree<u64, MapEntry>,
}

impl NovaVm {
    /// Whether any mapping intersects `[start, end)`.
    fn overlaps(&self, start: u64, end: u64) -> bool {
        // Mappings are disjoint: only the first one at or after `start` and the one before it
        // can intersect.
        match self.maps.cursor_lower_bound(&start) {
            Some(cur) => {
                let (&va, _) = cur.current();
                va < end || cur.peek_prev().is_some_and(|(&pva, p)| pva + p.len > start)
            }
            None => self
                .maps
                .cursor_back()
                .is_some_and(|cur| cur.current().0 + cur.current().1.len > start),
        }
    }
}

/// What the GPUVM steps of one call need besides the VM.
pub(crate) struct StepCtx<'a> {
    /// The GPU; `None` when tearing down without it.
    link: Option<&'a GpuLink<'a>>,
    /// The device that DMA-maps system-memory objects (the DRM device's parent).
    dev: Option<&'a device::Device<Bound>>,
    /// Flags of the mapping being created (`sm_map` only).
    flags: Option<MapFlags>,
}

/// Maps `[va, va + len)` to `obj` from `gem_offset` on through nova-core and returns the page
/// size it used and what backs the mapping.
#[allow(clippy::too_many_arguments)]
fn map_range(
    link: &GpuLink<'_>,
    aspace: &mut AddressSpace,
    dev: Option<&device::Device<Bound>>,
    obj: &NovaGem,
    va: u64,
    gem_offset: u64,
    len: u64,
    flags: MapFlags,
) -> Result<(u64, MapWhat)> {
    match obj.placement() {
        Placement::Vram(vram) => {
            let backing = Backing::Vram {
                block: vram.block(),
                offset: gem_offset,
                len,
            };
            Ok((
                link.vm_map(aspace, va, backing, flags)?.bytes(),
                MapWhat::Vram,
            ))
        }
        Placement::Sysmem => {
            let sgt = obj.sg_table(dev.ok_or(ENODEV)?)?;
            let mut segments = KVVec::new();
            args::slice_segments(
                sgt.iter().map(|e| (e.dma_address(), e.dma_len())),
                gem_offset,
                len,
                |addr, n| Ok::<_, Error>(segments.push((addr, n), GFP_KERNEL)?),
            )?;
            let backing = Backing::Sysmem {
                segments: &segments,
                len,
            };
            Ok((
                link.vm_map(aspace, va, backing, flags)?.bytes(),
                MapWhat::Sysmem,
            ))
        }
        Placement::Internal => Ok((
            link.vm_map(aspace, va, Backing::Sparse { len }, flags)?
                .bytes(),
            MapWhat::Sparse,
        )),
    }
}

impl DriverGpuVm for NovaVm {
    type Driver = NovaDrmDriver;
    type Object = NovaGem;
    type VaData = ();
    type VmBoData = ();
    type SmContext<'ctx> = StepCtx<'ctx>;

    fn sm_step_map<'op, 'ctx>(
        &mut self,
        op: OpMap<'op, Self>,
        ctx: &mut StepCtx<'ctx>,
    ) -> Result<OpMapped<'op, Self>> {
        let flags = ctx.flags.ok_or(EINVAL)?;
        let link = ctx.link.ok_or(ENODEV)?;
        let aspace = self.aspace.as_mut().ok_or(ENODEV)?;
        // Everything that can fail for lack of memory comes before the page tables change.
        let node = RBTreeNodeReservation::new(GFP_KERNEL)?;
        let va = GpuVaAlloc::new(GFP_KERNEL)?;
        let (addr, len) = (op.addr(), op.length());
        let (page, what) = map_range(
            link,
            aspace,
            ctx.dev,
            op.obj(),
            addr,
            op.gem_offset(),
            len,
            flags,
        )?;
        self.maps.insert(node.into_node(
            addr,
            MapEntry {
                len,
                page,
                what,
                read_only: flags.read_only,
                kind: flags.kind,
            },
        ));
        Ok(op.insert(va, ()))
    }

    fn sm_step_unmap<'op, 'ctx>(
        &mut self,
        op: OpUnmap<'op, Self>,
        ctx: &mut StepCtx<'ctx>,
    ) -> Result<OpUnmapped<'op, Self>> {
        let (addr, len) = (op.va().addr(), op.va().length());
        let page = self.maps.get(&addr).map_or(0, |e| e.page);
        if page != 0 {
            // Without page tables (given up) there is nothing to clear; with them but without
            // the GPU the PTEs cannot be cleared, so the mapping stays.
            if let Some(aspace) = self.aspace.as_mut() {
                ctx.link.ok_or(ENODEV)?.vm_unmap(aspace, addr, len)?;
            }
        }
        self.maps.remove(&addr);
        let (done, _removed) = op.remove();
        Ok(done)
    }

    fn sm_step_remap<'op, 'ctx>(
        &mut self,
        op: OpRemap<'op, Self>,
        ctx: &mut StepCtx<'ctx>,
    ) -> Result<OpRemapped<'op, Self>> {
        let (old_va, old_len) = (op.va_to_unmap().addr(), op.va_to_unmap().length());
        let prev = op.prev().map(|p| (p.addr(), p.length(), p.gem_offset()));
        let next = op.next().map(|n| (n.addr(), n.length(), n.gem_offset()));
        let entry = *self.maps.get(&old_va).ok_or(EINVAL)?;
        let hole_start = prev.map_or(old_va, |(va, len, _)| va + len);
        let hole_end = next.map_or(old_va + old_len, |(va, _, _)| va);

        let vas = [GpuVaAlloc::new(GFP_KERNEL)?, GpuVaAlloc::new(GFP_KERNEL)?];
        let prev_node = RBTreeNodeReservation::new(GFP_KERNEL)?;
        let next_node = RBTreeNodeReservation::new(GFP_KERNEL)?;

        let mut pages = [entry.page; 2];
        let mut err = None;
        if entry.page != 0 {
            if let Some(aspace) = self.aspace.as_mut() {
                let link = ctx.link.ok_or(ENODEV)?;
                if args::hole_on_page_boundaries(entry.page, hole_start, hole_end) {
                    link.vm_unmap(aspace, hole_start, hole_end - hole_start)?;
                } else {
                    // A page straddles an end of the hole: unmap all, map what remains again.
                    link.vm_unmap(aspace, old_va, old_len)?;
                    for (piece, page) in [prev, next].into_iter().zip(pages.iter_mut()) {
                        let Some((va, len, off)) = piece else {
                            continue;
                        };
                        match map_range(
                            link,
                            aspace,
                            ctx.dev,
                            op.obj(),
                            va,
                            off,
                            len,
                            entry.flags(),
                        ) {
                            Ok((p, _)) => *page = p,
                            Err(e) => {
                                *page = 0;
                                err = Some(e);
                            }
                        }
                    }
                }
            }
        }

        self.maps.remove(&old_va);
        for ((piece, node), page) in [(prev, prev_node), (next, next_node)]
            .into_iter()
            .zip(pages)
        {
            if let Some((va, len, _)) = piece {
                self.maps
                    .insert(node.into_node(va, MapEntry { len, page, ..entry }));
            }
        }
        let (done, _ret) = op.remap(vas, (), ());
        match err {
            // The GPUVM is consistent; the error stops the rest of the op.
            Some(e) => Err(e),
            None => Ok(done),
        }
    }
}

/// One op of VM_BIND, checked and with its object looked up.
pub(crate) enum BindStep {
    /// Map `obj` at `[va, va + range)`.
    Map {
        /// First VA.
        va: u64,
        /// Length.
        range: u64,
        /// The object.
        obj: ARef<NovaGem>,
        /// Offset into the object.
        bo_offset: u64,
        /// Flags.
        flags: MapFlags,
    },
    /// Map `[va, va + range)` sparse.
    Sparse {
        /// First VA.
        va: u64,
        /// Length.
        range: u64,
        /// Flags.
        flags: MapFlags,
    },
    /// Unmap whatever lies in `[va, va + range)`.
    Unmap {
        /// First VA.
        va: u64,
        /// Length.
        range: u64,
    },
}

/// A GPU virtual address space of one file.
#[pin_data]
pub(crate) struct Vm {
    /// Its id in the file.
    pub(crate) id: u32,
    /// The process that created it.
    pid: i32,
    /// DMA address of the instance block.
    inst: u64,
    /// GPUVM's reservation object; sparse mappings map it.
    r_obj: ARef<NovaGem>,
    /// Kernel VA slots in use by contexts (bit n: `[1 MiB + n * 64 KiB, +64 KiB)`).
    ctx_slots: Atomic<u32>,
    /// The GPUVM; `None` once destroyed.
    #[pin]
    state: Mutex<Option<UniqueRefGpuVm<NovaVm>>>,
}

impl Vm {
    /// Creates an empty VM with its own page tables.
    pub(crate) fn new(
        dev: &NovaDevice,
        link: &GpuLink<'_>,
        id: u32,
        pid: i32,
    ) -> Result<Arc<Self>> {
        let aspace = link.new_address_space()?;
        let inst = aspace.inst_addr();
        let r_obj = gem::create(
            dev,
            args::SYSMEM_GRANULE,
            ObjArgs {
                flags: 0,
                placement: Placement::Internal,
            },
        )?;
        let gpuvm = GpuVm::new::<Error, _>(
            c"nova",
            dev,
            &*r_obj,
            VA_START..VA_END,
            0..0,
            NovaVm {
                aspace: Some(aspace),
                maps: RBTree::new(),
            },
        )?;
        Arc::pin_init(
            try_pin_init!(Vm {
                id,
                pid,
                inst,
                r_obj,
                ctx_slots: Atomic::new(0),
                state <- new_mutex!(Some(gpuvm)),
            }),
            GFP_KERNEL,
        )
    }

    /// Takes a free context slot (-ENOSPC when all `NOVA_CTX_MAX_PER_VM` are in use) and
    /// returns it.
    pub(crate) fn take_ctx_slot(&self) -> Result<u32> {
        let mut cur = self.ctx_slots.load(Relaxed);
        loop {
            let slot = (!cur).trailing_zeros();
            if slot >= crate::uapi::NOVA_CTX_MAX_PER_VM {
                return Err(ENOSPC);
            }
            match self.ctx_slots.cmpxchg(cur, cur | 1 << slot, Relaxed) {
                Ok(_) => return Ok(slot),
                Err(now) => cur = now,
            }
        }
    }

    /// Gives a context slot back.
    pub(crate) fn put_ctx_slot(&self, slot: u32) {
        let mut cur = self.ctx_slots.load(Relaxed);
        while let Err(now) = self.ctx_slots.cmpxchg(cur, cur & !(1 << slot), Relaxed) {
            cur = now;
        }
    }

    /// Whether contexts use this VM.
    pub(crate) fn has_contexts(&self) -> bool {
        self.ctx_slots.load(Relaxed) != 0
    }

    /// Whether `[va, va + len)` lies wholly in mappings whose PTEs are written.
    pub(crate) fn covers(&self, va: u64, len: u64) -> bool {
        let Some(end) = va.checked_add(len) else {
            return false;
        };
        let guard = self.state.lock();
        let Some(gpuvm) = guard.as_ref() else {
            return false;
        };
        let mut at = va;
        for (&start, e) in gpuvm.data_ref().maps.iter() {
            if start + e.len <= at {
                continue;
            }
            if start > at || e.page == 0 {
                return false;
            }
            at = start + e.len;
            if at >= end {
                return true;
            }
        }
        false
    }

    /// Runs `f` on the VM's page tables (-ENOENT once destroyed, -ENODEV once given up).
    pub(crate) fn with_aspace<R>(&self, f: impl FnOnce(&mut AddressSpace) -> R) -> Result<R> {
        let mut guard = self.state.lock();
        let gpuvm = (*guard).as_mut().ok_or(ENOENT)?;
        let aspace = gpuvm.data().aspace.as_mut().ok_or(ENODEV)?;
        Ok(f(aspace))
    }

    /// Applies `steps` in order. Returns how many were applied and, if one failed, its error
    /// (-ENOSPC: MAP onto a mapped range; -ENOENT: UNMAP of nothing or the VM is destroyed).
    pub(crate) fn bind(
        &self,
        link: &GpuLink<'_>,
        dev: &device::Device<Bound>,
        steps: &[BindStep],
    ) -> (usize, Result) {
        let mut guard = self.state.lock();
        let Some(gpuvm) = (*guard).as_mut() else {
            return (0, Err(ENOENT));
        };
        let mut ctx = StepCtx {
            link: Some(link),
            dev: Some(dev),
            flags: None,
        };
        let mut applied = 0;
        let mut result = Ok(());
        for step in steps {
            let r = match step {
                BindStep::Map {
                    va,
                    range,
                    obj,
                    bo_offset,
                    flags,
                } => Self::map(gpuvm, &mut ctx, *va, *range, obj, *bo_offset, *flags),
                BindStep::Sparse { va, range, flags } => {
                    Self::map(gpuvm, &mut ctx, *va, *range, &self.r_obj, 0, *flags)
                }
                BindStep::Unmap { va, range } => {
                    if gpuvm.data_ref().overlaps(*va, *va + *range) {
                        gpuvm.sm_unmap(*va, *range, &mut ctx)
                    } else {
                        Err(ENOENT)
                    }
                }
            };
            if let Err(e) = r {
                result = Err(e);
                break;
            }
            applied += 1;
        }
        gpuvm.deferred_cleanup();
        (applied, result)
    }

    fn map(
        gpuvm: &mut UniqueRefGpuVm<NovaVm>,
        ctx: &mut StepCtx<'_>,
        va: u64,
        range: u64,
        obj: &NovaGem,
        bo_offset: u64,
        flags: MapFlags,
    ) -> Result {
        if gpuvm.data_ref().overlaps(va, va + range) {
            return Err(ENOSPC);
        }
        let vm_bo = gpuvm.obtain(obj, ())?;
        ctx.flags = Some(flags);
        let r = gpuvm.sm_map(OpMapRequest {
            addr: va,
            range,
            gem_offset: bo_offset,
            vm_bo: &vm_bo,
            context: ctx,
        });
        ctx.flags = None;
        r
    }

    /// Destroys the VM: unmaps everything and frees the page tables.
    ///
    /// With `link` every mapping is unmapped through nova-core first. Without it (file close,
    /// or the GPU is gone) the page tables are freed wholesale before GPUVM lets go of the
    /// objects, so no PTE outlives the memory it points at. Idempotent.
    pub(crate) fn destroy(&self, link: Option<&GpuLink<'_>>) {
        let mut guard = self.state.lock();
        let Some(mut gpuvm) = guard.take() else {
            return;
        };
        if link.is_none() {
            drop(gpuvm.data().aspace.take());
        }
        let mut ctx = StepCtx {
            link,
            dev: None,
            flags: None,
        };
        if gpuvm
            .sm_unmap(VA_START, VA_END - VA_START, &mut ctx)
            .is_err()
        {
            // The page tables refused an unmap: give them up wholesale, then forget the rest.
            drop(gpuvm.data().aspace.take());
            ctx.link = None;
            // Without page tables no step can fail.
            let _ = gpuvm.sm_unmap(VA_START, VA_END - VA_START, &mut ctx);
        }
        drop(gpuvm.data().aspace.take());
        gpuvm.deferred_cleanup();
    }

    /// Writes this VM's lines of the debugfs `vms` file.
    fn write(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        args::write_vm_line(f, self.id, self.pid, self.inst, false)?;
        if let Some(gpuvm) = self.state.lock().as_ref() {
            for (&va, e) in gpuvm.data_ref().maps.iter() {
                args::write_map_line(f, va, e.len, e.page, e.what)?;
            }
        }
        Ok(())
    }
}

/// Every live VM of a device, for debugfs.
#[pin_data]
pub(crate) struct VmRegistry {
    #[pin]
    vms: Mutex<KVec<Arc<Vm>>>,
}

impl VmRegistry {
    /// An empty registry.
    pub(crate) fn new() -> Result<Arc<Self>> {
        Arc::pin_init(
            pin_init!(VmRegistry {
                vms <- new_mutex!(KVec::new()),
            }),
            GFP_KERNEL,
        )
    }

    /// Adds `vm`.
    pub(crate) fn add(&self, vm: Arc<Vm>) -> Result {
        self.vms.lock().push(vm, GFP_KERNEL)?;
        Ok(())
    }

    /// Removes `vm`.
    pub(crate) fn remove(&self, vm: &Arc<Vm>) {
        self.vms.lock().retain(|v| !Arc::ptr_eq(v, vm));
    }
}

impl VmRegistry {
    /// Writes the debugfs `vms` file: each VM's line, then one line per mapping.
    pub(crate) fn write(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for vm in self.vms.lock().iter() {
            vm.write(f)?;
        }
        Ok(())
    }
}
