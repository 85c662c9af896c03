// SPDX-License-Identifier: GPL-2.0
//! GEM objects. A placeholder type until buffer placement (VRAM/system) arrives; the DRM core
//! requires one to register a GEM-capable device.

use kernel::{
    drm::{self, gem},
    prelude::*,
};

use crate::driver::NovaDrmDriver;

/// Driver-private part of a GEM object.
#[pin_data]
pub(crate) struct NovaObject {}

impl gem::DriverObject for NovaObject {
    type Driver = NovaDrmDriver;
    type Args = ();

    fn new(
        _dev: &drm::Device<NovaDrmDriver>,
        _size: usize,
        _args: (),
    ) -> impl PinInit<Self, Error> {
        try_pin_init!(NovaObject {})
    }
}
