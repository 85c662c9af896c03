// SPDX-License-Identifier: GPL-2.0
//! The auxiliary driver and the DRM device it registers.
//!
//! nova-drm binds to nova-core's auxiliary device, but the DRM device's parent is the PCI
//! function itself: the shmem helpers DMA-map system-memory objects for the DRM device's
//! parent (and PRIME imports attach with it), and only the PCI function can do DMA; an
//! auxiliary device has no DMA configuration.

use kernel::{
    auxiliary, debugfs,
    device::{Bound, Core, DeviceContext},
    drm, fmt, pci,
    prelude::*,
    str::CString,
    sync::Arc,
    types::CovariantForLt,
};

use nova_core::{
    handoff::{DrmHandoff, AUXILIARY_NAME},
    link::GpuLink,
};

use crate::{
    ctx::{CtxRegistry, Listener},
    file::File,
    gem::NovaGem,
    vm::VmRegistry,
};

/// The auxiliary driver type; also the DRM driver type.
pub(crate) struct NovaDrmDriver;

/// A DRM device of this driver.
pub(crate) type NovaDevice<Ctx = drm::Normal> = drm::Device<NovaDrmDriver, Ctx>;

/// Per-device data, alive as long as the DRM device (which may outlive the binding while
/// userspace holds it open). Nothing in it points into nova-core.
pub(crate) struct NovaData {
    /// What nova-core identified.
    pub(crate) gpu: DrmHandoff,
    /// Every live VM of every open file.
    pub(crate) vms: Arc<VmRegistry>,
    /// Every live context of every open file.
    pub(crate) ctxs: Arc<CtxRegistry>,
}

/// The debugfs `vms` file: every VM of every open file and its mappings.
struct VmsFile(Arc<VmRegistry>);

impl debugfs::Writer for VmsFile {
    fn write(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.write(f)
    }
}

/// Per-binding state. Fields drop in order: debugfs first, then the DRM registration.
pub(crate) struct NovaBinding<'bound> {
    /// `/sys/kernel/debug/nova-drm-<auxiliary device>/vms`.
    _vms_file: Pin<KBox<debugfs::File<VmsFile>>>,
    _dir: debugfs::Dir,
    /// The device's contexts (shut down in `unbind`).
    ctxs: Arc<CtxRegistry>,
    _reg: drm::Registration<'bound, NovaDrmDriver>,
}

kernel::auxiliary_device_table!(
    AUX_TABLE,
    <NovaDrmDriver as auxiliary::Driver>::IdInfo,
    [(
        auxiliary::DeviceId::new(nova_core::MODULE_NAME, AUXILIARY_NAME),
        ()
    )]
);

impl auxiliary::Driver for NovaDrmDriver {
    type IdInfo = ();
    type Data<'bound> = NovaBinding<'bound>;
    const ID_TABLE: auxiliary::IdTable<Self::IdInfo> = &AUX_TABLE;

    fn probe<'bound>(
        adev: &'bound auxiliary::Device<Core<'_>>,
        _info: &'bound Self::IdInfo,
    ) -> impl PinInit<Self::Data<'bound>, Error> + 'bound {
        let link = adev
            .registration_data::<CovariantForLt!(GpuLink<'_>)>()?
            .get_ref();
        let gpu = *link.info();
        let pdev: &'bound pci::Device<Bound> = adev.parent().try_into()?;
        let vms = VmRegistry::new()?;
        let ctxs = CtxRegistry::new()?;
        let drm = drm::UnregisteredDevice::<Self>::new(
            pdev,
            Ok(NovaData {
                gpu,
                vms: vms.clone(),
                ctxs: ctxs.clone(),
            }),
        )?;
        // Fences of this device's jobs are signalled from nova-core's interrupt thread.
        link.set_listener(Some(Arc::new(Listener { ctxs: ctxs.clone() }, GFP_KERNEL)?));
        // SAFETY: the registration is stored in the binding data, which the driver core drops on
        // unbind; it is never forgotten.
        let reg = unsafe { drm::Registration::new(pdev.as_ref(), drm, link, 0)? };

        let name = CString::try_from_fmt(fmt!("nova-drm-{}", adev.as_ref().name()))?;
        let dir = debugfs::Dir::new(&name);
        let vms_file = KBox::pin_init(dir.read_only_file(c"vms", VmsFile(vms)), GFP_KERNEL)?;

        dev_info!(
            adev,
            "DRM device for {} ready (render node)\n",
            core::str::from_utf8(&gpu.name)
                .unwrap_or("?")
                .trim_end_matches('\0')
        );
        Ok(NovaBinding {
            _vms_file: vms_file,
            _dir: dir,
            ctxs,
            _reg: reg,
        })
    }

    fn unbind<'bound>(adev: &'bound auxiliary::Device<Core<'_>>, this: Pin<&Self::Data<'bound>>) {
        // Our code must not be called once we are gone, and every channel must be freed while
        // GSP-RM is still up: contexts of files that stay open are dead from here on.
        if let Ok(link) = adev.registration_data::<CovariantForLt!(GpuLink<'_>)>() {
            let link = link.get_ref();
            link.set_listener(None);
            this.ctxs.shutdown(link);
        }
        // Waits (no polling, no time limit) until every destroyed context's scheduler is
        // finished, unless a file still holds a context: then its close does.
        this.ctxs.release_teardown();
    }
}

#[vtable]
impl drm::Driver for NovaDrmDriver {
    type Data = NovaData;
    type RegistrationData<'a> = &'a GpuLink<'a>;
    type File = File;
    type Object = NovaGem;
    type ParentDevice<Ctx: DeviceContext> = pci::Device<Ctx>;

    const INFO: drm::DriverInfo = drm::DriverInfo {
        major: 0,
        minor: 1,
        patchlevel: 0,
        name: c"nova",
        desc: c"nova: NVIDIA GPUs (GSP-based, Turing and later)",
    };

    const IOCTLS: &'static [drm::ioctl::DrmIoctlDescriptor] = crate::ioctl::IOCTLS;
    const FEAT_RENDER: bool = true;
    const FEAT_SYNCOBJ: bool = true;
    const FEAT_SYNCOBJ_TIMELINE: bool = true;
}
