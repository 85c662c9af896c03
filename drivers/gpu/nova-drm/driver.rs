// SPDX-License-Identifier: GPL-2.0
//! The auxiliary driver and the DRM device it registers.

use kernel::{
    auxiliary,
    device::{Core, DeviceContext},
    drm::{self, gem},
    prelude::*,
    types::CovariantForLt,
};

use nova_core::{
    handoff::{DrmHandoff, AUXILIARY_NAME},
    link::GpuLink,
};

use crate::{file::File, gem::NovaObject};

/// The auxiliary driver type; also the DRM driver type.
pub(crate) struct NovaDrmDriver;

/// A DRM device of this driver.
pub(crate) type NovaDevice<Ctx = drm::Normal> = drm::Device<NovaDrmDriver, Ctx>;

/// Per-device data, alive as long as the DRM device (which may outlive the binding while
/// userspace holds it open). Plain data only: see `nova_core::handoff`.
pub(crate) struct NovaData {
    /// What nova-core identified.
    pub(crate) gpu: DrmHandoff,
}

/// Per-binding state.
pub(crate) struct NovaBinding<'bound> {
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
        let gpu = *adev
            .registration_data::<CovariantForLt!(GpuLink<'_>)>()?
            .info();
        let drm = drm::UnregisteredDevice::<Self>::new(adev, Ok(NovaData { gpu }))?;
        // SAFETY: the registration is stored in the binding data, which the driver core drops on
        // unbind; it is never forgotten.
        let reg = unsafe { drm::Registration::new(adev.as_ref(), drm, (), 0)? };
        dev_info!(
            adev,
            "DRM device for {} ready (render node)\n",
            core::str::from_utf8(&gpu.name)
                .unwrap_or("?")
                .trim_end_matches('\0')
        );
        Ok(NovaBinding { _reg: reg })
    }
}

#[vtable]
impl drm::Driver for NovaDrmDriver {
    type Data = NovaData;
    type RegistrationData<'a> = ();
    type File = File;
    type Object = gem::Object<NovaObject>;
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
