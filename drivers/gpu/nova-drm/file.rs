// SPDX-License-Identifier: GPL-2.0
//! Per-client state (one per open of the DRM device): the file's VMs.

use kernel::{drm, new_mutex, prelude::*, sync::aref::ARef, sync::Arc, sync::Mutex};

use nova_core::link::GpuLink;

use crate::{
    driver::{NovaDevice, NovaDrmDriver},
    uapi::NOVA_VM_MAX_PER_FILE,
    vm::Vm,
};

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
}

impl drm::file::DriverFile for File {
    type Driver = NovaDrmDriver;

    fn open(dev: &drm::Device<NovaDrmDriver>) -> Result<Pin<KBox<Self>>> {
        KBox::try_pin_init(
            try_pin_init!(File {
                dev: dev.into(),
                vms <- new_mutex!([const { None }; SLOTS]),
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
        let vm = self
            .vms
            .lock()
            .get_mut(slot)
            .and_then(|v| v.take())
            .ok_or(ENOENT)?;
        self.dev.vms.remove(&vm);
        vm.destroy(Some(link));
        Ok(())
    }
}

#[pinned_drop]
impl PinnedDrop for File {
    fn drop(self: Pin<&mut Self>) {
        // No GPU access here (the DRM core gives close no registered device): each VM's page
        // tables are freed wholesale before its mappings let go of their objects.
        let mut vms = self.vms.lock();
        for vm in vms.iter_mut().filter_map(|v| v.take()) {
            self.dev.vms.remove(&vm);
            vm.destroy(None);
        }
    }
}
