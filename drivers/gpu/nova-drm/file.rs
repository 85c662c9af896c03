// SPDX-License-Identifier: GPL-2.0
//! Per-client state (one per open of the DRM device).

use kernel::{drm, prelude::*};

use crate::driver::NovaDrmDriver;

/// An open DRM file. Empty for now; VMs and contexts will live here.
pub(crate) struct File;

impl drm::file::DriverFile for File {
    type Driver = NovaDrmDriver;

    fn open(_dev: &drm::Device<NovaDrmDriver>) -> Result<Pin<KBox<Self>>> {
        Ok(KBox::new(File, GFP_KERNEL)?.into())
    }
}
