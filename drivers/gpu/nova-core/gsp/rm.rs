// SPDX-License-Identifier: GPL-2.0
//! nova-core's own RM objects inside GSP-RM: a client, the device and its subdevice (facts
//! §10.1-10.2), the parents of everything allocated later (VA spaces, channels, engines).

use kernel::prelude::*;

use super::{
    channel::GspChannel,
    rpc::{self, class},
};
use crate::driver::Bar0;

/// Handles are chosen by the client (any non-zero value unique in the client); ours spell
/// "NV" in the top half and the class in the bottom half.
const CLIENT: u32 = 0x4e56_0000;
const DEVICE: u32 = 0x4e56_0080;
const SUBDEVICE: u32 = 0x4e56_2080;

/// The client, device and subdevice nova-core allocated in GSP-RM.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RmDevice {
    /// Handle of the client (`NV01_ROOT`).
    pub(crate) client: u32,
    /// Handle of the device (`NV01_DEVICE_0`).
    pub(crate) device: u32,
    /// Handle of the subdevice (`NV20_SUBDEVICE_0`).
    pub(crate) subdevice: u32,
}

impl RmDevice {
    /// Allocates the three objects, freeing what was allocated if a later one fails.
    pub(crate) fn alloc(chan: &GspChannel, bar: &Bar0<'_>) -> Result<Self> {
        chan.rm_alloc(
            bar,
            CLIENT,
            CLIENT,
            CLIENT,
            class::NV01_ROOT,
            &rpc::root_alloc_params(CLIENT),
        )?;
        let r = chan
            .rm_alloc(
                bar,
                CLIENT,
                CLIENT,
                DEVICE,
                class::NV01_DEVICE_0,
                &rpc::device_alloc_params(CLIENT),
            )
            .and_then(|()| {
                chan.rm_alloc(
                    bar,
                    CLIENT,
                    DEVICE,
                    SUBDEVICE,
                    class::NV20_SUBDEVICE_0,
                    &[0u8; 4],
                )
                .inspect_err(|_| {
                    let _ = chan.rm_free(bar, CLIENT, CLIENT, DEVICE);
                })
            });
        if let Err(e) = r {
            let _ = chan.rm_free(bar, CLIENT, CLIENT, CLIENT);
            return Err(e);
        }
        Ok(RmDevice {
            client: CLIENT,
            device: DEVICE,
            subdevice: SUBDEVICE,
        })
    }

    /// Frees the objects, children first (freeing the client would free them all, but
    /// releasing each one checks that GSP-RM still agrees on the tree).
    pub(crate) fn free(&self, chan: &GspChannel, bar: &Bar0<'_>) -> Result {
        chan.rm_free(bar, self.client, self.device, self.subdevice)?;
        chan.rm_free(bar, self.client, self.client, self.device)?;
        chan.rm_free(bar, self.client, self.client, self.client)
    }
}
