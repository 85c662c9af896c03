// SPDX-License-Identifier: GPL-2.0
//! Per-client state (one per open of the DRM device): the file's VMs.

use kernel::{drm, new_mutex, prelude::*, sync::aref::ARef, sync::Arc, sync::Mutex};

use nova_core::link::GpuLink;

use nova_core::gpfifo::EngineKind;

use crate::{
    ctx::{with_link, Ctx, End},
    driver::{NovaDevice, NovaDrmDriver},
    uapi::NOVA_VM_MAX_PER_FILE,
    vm::Vm,
};

/// Most contexts one file may hold (its VMs times `NOVA_CTX_MAX_PER_VM`).
const MAX_CTXS: usize = 1024;

/// Number of VM slots of a file; VM ids are slot + 1.
const SLOTS: usize = NOVA_VM_MAX_PER_FILE as usize;

/// An open DRM file.
#[pin_data(PinnedDrop)]
pub(crate) struct File {
    /// The device (its VM registry outlives every file).
    dev: ARef<NovaDevice>,
    /// The file's VMs by id - 1.
    #[pin]
    vms: Mutex<[Option<Arc<Vm>>; SLOTS]>,
    /// The file's contexts by id - 1.
    #[pin]
    ctxs: Mutex<KVec<Option<Arc<Ctx>>>>,
}

impl drm::file::DriverFile for File {
    type Driver = NovaDrmDriver;

    fn open(dev: &drm::Device<NovaDrmDriver>) -> Result<Pin<KBox<Self>>> {
        KBox::try_pin_init(
            try_pin_init!(File {
                dev: dev.into(),
                vms <- new_mutex!([const { None }; SLOTS]),
                ctxs <- new_mutex!(KVec::new()),
            }),
            GFP_KERNEL,
        )
    }
}

impl File {
    /// Creates a VM in the lowest free slot and returns its id (-ENOSPC when all
    /// `NOVA_VM_MAX_PER_FILE` are taken).
    pub(crate) fn create_vm(&self, link: &GpuLink<'_>, pid: i32) -> Result<u32> {
        let mut vms = self.vms.lock();
        let slot = vms.iter().position(|v| v.is_none()).ok_or(ENOSPC)?;
        let id = u32::try_from(slot + 1)?;
        let vm = Vm::new(&self.dev, link, id, pid)?;
        if let Err(e) = self.dev.vms.add(vm.clone()) {
            vm.destroy(Some(link));
            return Err(e);
        }
        vms[slot] = Some(vm);
        Ok(id)
    }

    /// Creates a context of `engine` in VM `vm_id` and returns its id.
    pub(crate) fn create_ctx(
        &self,
        link: &GpuLink<'_>,
        vm_id: u32,
        engine: EngineKind,
    ) -> Result<u32> {
        let vm = self.vm(vm_id)?;
        let mut ctxs = self.ctxs.lock();
        let slot = match ctxs.iter().position(|c| c.is_none()) {
            Some(s) => s,
            None if ctxs.len() < MAX_CTXS => {
                ctxs.push(None, GFP_KERNEL)?;
                ctxs.len() - 1
            }
            None => return Err(ENOSPC),
        };
        let id = u32::try_from(slot + 1)?;
        let teardown = self.dev.ctxs.teardown()?;
        let ctx = Ctx::new(&self.dev, link, vm, engine, id, teardown)?;
        if let Err(e) = self.dev.ctxs.add(ctx.clone()) {
            ctx.destroy(Some(link), End::Destroyed);
            return Err(e);
        }
        ctxs[slot] = Some(ctx);
        Ok(id)
    }

    /// The context with `id` (-ENOENT if there is none).
    pub(crate) fn ctx(&self, id: u32) -> Result<Arc<Ctx>> {
        let slot = (id as usize).checked_sub(1).ok_or(ENOENT)?;
        self.ctxs
            .lock()
            .get(slot)
            .and_then(|c| c.clone())
            .ok_or(ENOENT)
    }

    /// Destroys the context with `id`.
    pub(crate) fn destroy_ctx(&self, link: &GpuLink<'_>, id: u32) -> Result {
        let slot = (id as usize).checked_sub(1).ok_or(ENOENT)?;
        let ctx = self
            .ctxs
            .lock()
            .get_mut(slot)
            .and_then(|c| c.take())
            .ok_or(ENOENT)?;
        ctx.destroy(Some(link), End::Destroyed);
        Ok(())
    }

    /// The VM with `id` (-ENOENT if there is none).
    pub(crate) fn vm(&self, id: u32) -> Result<Arc<Vm>> {
        let slot = (id as usize).checked_sub(1).ok_or(ENOENT)?;
        self.vms
            .lock()
            .get(slot)
            .and_then(|v| v.clone())
            .ok_or(ENOENT)
    }

    /// Removes the VM with `id` from the file (-ENOENT if there is none) and destroys it.
    pub(crate) fn destroy_vm(&self, link: &GpuLink<'_>, id: u32) -> Result {
        let slot = (id as usize).checked_sub(1).ok_or(ENOENT)?;
        let vm = {
            let mut vms = self.vms.lock();
            let v = vms.get_mut(slot).ok_or(ENOENT)?;
            // A VM with contexts stays: their channels run in it.
            if v.as_ref().ok_or(ENOENT)?.has_contexts() {
                return Err(EBUSY);
            }
            v.take().ok_or(ENOENT)?
        };
        self.dev.vms.remove(&vm);
        vm.destroy(Some(link));
        Ok(())
    }
}

#[pinned_drop]
impl PinnedDrop for File {
    fn drop(self: Pin<&mut Self>) {
        // Contexts first: their channels run in the VMs. While nova-core is bound the
        // channels are freed through GSP-RM; once it is gone GSP-RM is unloaded.
        let ctxs = core::mem::take(&mut *self.ctxs.lock());
        for ctx in ctxs.iter().flatten() {
            ctx.stop();
        }
        for ctx in ctxs.into_iter().flatten() {
            if with_link(&self.dev, |link| ctx.destroy(Some(link), End::Destroyed)).is_none() {
                ctx.destroy(None, End::Destroyed);
            }
        }
        // No other GPU access here: each VM's page tables are freed wholesale before its
        // mappings let go of their objects.
        let mut vms = self.vms.lock();
        for vm in vms.iter_mut().filter_map(|v| v.take()) {
            self.dev.vms.remove(&vm);
            vm.destroy(None);
        }
    }
}
