// SPDX-License-Identifier: GPL-2.0
//! The auxiliary driver and the DRM device it registers.

use kernel::{
    auxiliary, debugfs,
    device::{Core, DeviceContext},
    drm, fmt,
    prelude::*,
    sync::Arc,
    types::CovariantForLt,
};

use nova_core::handoff::AUXILIARY_NAME;

use crate::{
    file::File,
    gem::NovaGem,
    link::{DrmHandoff, GpuLink},
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
}

/// The debugfs `vms` file: every VM of every open file and its mappings.
struct VmsFile(Arc<VmRegistry>);

impl debugfs::Writer for VmsFile {
    fn write(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.write(f)
    }
}

/// Per-binding state.
pub(crate) struct NovaBinding<'bound> {
    /// `nova-drm/<aux device>/vms`, removed first on unbind (field order).
    _vms_file: Option<Pin<KBox<debugfs::File<VmsFile>>>>,
    _dir: Option<debugfs::Dir>,
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
        let gpu = *adev.registration_data::<CovariantForLt!(DrmHandoff)>()?;
        let link = GpuLink::new(gpu);
        let vms = VmRegistry::new()?;
        let drm = drm::UnregisteredDevice::<Self>::new(
            adev,
            Ok(NovaData {
                gpu,
                vms: vms.clone(),
            }),
        )?;
        // SAFETY: the registration is stored in the binding data, which the driver core drops on
        // unbind; it is never forgotten.
        let reg = unsafe { drm::Registration::new(adev.as_ref(), drm, link, 0)? };

        let (dir, vms_file) = match crate::debugfs_root() {
            Some(root) => {
                let dir = root.subdir(adev.as_ref().name());
                let file = KBox::pin_init(dir.read_only_file(c"vms", VmsFile(vms)), GFP_KERNEL)?;
                (Some(dir), Some(file))
            }
            None => (None, None),
        };

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
            _reg: reg,
        })
    }
}

#[vtable]
impl drm::Driver for NovaDrmDriver {
    type Data = NovaData;
    type RegistrationData<'a> = GpuLink<'a>;
    type File = File;
    type Object = NovaGem;
    type ParentDevice<Ctx: DeviceContext> = auxiliary::Device<Ctx>;

    const INFO: drm::DriverInfo = drm::DriverInfo {
        major: 0,
        minor: 1,
        patchlevel: 0,
        name: c"nova",
        desc: c"nova: NVIDIA GPUs (GSP-based, Turing and later)",
    };

    const IOCTLS: &'static [drm::ioctl::DrmIoctlDescriptor] = crate::ioctl::IOCTLS;
    const FEAT_RENDER: bool = true;
}
