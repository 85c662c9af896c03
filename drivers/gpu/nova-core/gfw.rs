// SPDX-License-Identifier: GPL-2.0
//! Waiting for the GPU firmware boot (devinit and FWSEC run by the GPU itself after power-on).
//!
//! Facts sheet §3: the progress byte in secure scratch group 05 reads 0xff when done, but the
//! group is readable only once its privilege mask opens level 0, so the mask is read first.

use kernel::{
    device,
    io::{poll::read_poll_timeout, Io},
    prelude::*,
    time::Delta,
};

use crate::{
    driver::Bar0,
    regs::{
        NV_PGC6_AON_SECURE_SCRATCH_GROUP_05_0_GFW_BOOT,
        NV_PGC6_AON_SECURE_SCRATCH_GROUP_05_PRIV_LEVEL_MASK,
    },
};

/// How long the GFW boot may take after the driver starts waiting.
pub(crate) const GFW_BOOT_TIMEOUT: Delta = Delta::from_millis(4000);
/// Poll period.
const GFW_BOOT_POLL: Delta = Delta::from_millis(1);
/// Progress value of a completed boot.
const GFW_BOOT_DONE: u32 = 0xff;

/// Waits until the GFW boot completed, or fails with `ETIMEDOUT` after [`GFW_BOOT_TIMEOUT`].
pub(crate) fn wait_gfw_boot(dev: &device::Device, bar: &Bar0<'_>) -> Result {
    read_poll_timeout(
        || {
            let open = bar.read(NV_PGC6_AON_SECURE_SCRATCH_GROUP_05_PRIV_LEVEL_MASK).read_protection_level0();
            // Only read the progress once the group is readable.
            Ok(open && bar.read(NV_PGC6_AON_SECURE_SCRATCH_GROUP_05_0_GFW_BOOT).progress().get() == GFW_BOOT_DONE)
        },
        |done| *done,
        GFW_BOOT_POLL,
        GFW_BOOT_TIMEOUT,
    )
    .map(|_| ())
    .inspect_err(|_| {
        dev_err!(
            dev,
            "GPU firmware boot (GFW) did not complete within {} ms: scratch group 05 mask {:#x}, progress {:#x}\n",
            GFW_BOOT_TIMEOUT.as_millis(),
            bar.read(NV_PGC6_AON_SECURE_SCRATCH_GROUP_05_PRIV_LEVEL_MASK).into_raw(),
            bar.read(NV_PGC6_AON_SECURE_SCRATCH_GROUP_05_0_GFW_BOOT).into_raw()
        );
    })
}
