// SPDX-License-Identifier: GPL-2.0
//! Booter, NVIDIA's heavy-secure loader on SEC2: `booter_load` starts GSP-RM inside WPR2,
//! `booter_unload` tears WPR2 down again. Both are HS images in an `nvfw_bin_hdr` file
//! (facts sheet §6.2-6.4); GA102 loads them as §6.4 and §7.4 step 10 describe: secure IMEM
//! from app 0 at IMEM 0, DMEM from the OS data at DMEM 0, boot vector app 0's offset, the
//! signature the fuse selects patched in at `patch_loc`.

use kernel::{
    device,
    dma::{Coherent, CoherentBox},
    io::Io,
    prelude::*,
};

use crate::{
    driver::Bar0,
    falcon::{self, Brom, Falcon, Idle, Sec2, Segment},
    firmware::hs::HsFirmware,
};

/// Checks that `file` (named `name` in messages) is a well-formed HS image, logging what is
/// wrong and where (-EINVAL) otherwise.
pub(crate) fn check(dev: &device::Device, name: &CStr, file: &[u8]) -> Result {
    HsFirmware::parse(file).map(|_| ()).map_err(|e| {
        dev_err!(
            dev,
            "{}: bad HS image: {}\n",
            name.to_str().unwrap_or("?"),
            e
        );
        EINVAL
    })
}

/// Runs the Booter image in `file` (named `name` in messages) on SEC2 with the two mailbox
/// arguments. Returns the mailboxes it left.
pub(crate) fn run(
    dev: &device::Device<device::Bound>,
    bar: &Bar0<'_>,
    boot0: u32,
    name: &str,
    file: &[u8],
    mailbox0: u32,
    mailbox1: u32,
) -> Result<(u32, u32)> {
    let bad = |what: &str, e: &dyn kernel::fmt::Display| {
        dev_err!(dev, "{}: {}: {}\n", name, what, e);
        EINVAL
    };
    let fw = HsFirmware::parse(file).map_err(|e| bad("bad HS image", &e))?;
    let fuse_addr = fw
        .fuse_register()
        .map_err(|e| bad("no fuse register", &e))?;
    let fuse = bar.try_read32(fuse_addr as usize)?;
    let app = fw.app(0).map_err(|e| bad("no app 0", &e))?;

    let ucode = fw.ucode();
    let len = u32::try_from(ucode.len()).map_err(|_| EINVAL)?;
    let mut buf =
        CoherentBox::<[u8]>::zeroed_slice(dev, falcon::dma_len(len)? as usize, GFP_KERNEL)?;
    let copy = buf.get_mut(..ucode.len()).ok_or(EINVAL)?;
    copy.copy_from_slice(ucode);
    let sig = fw
        .patch_signature(copy, fuse)
        .map_err(|e| bad("signature patch failed", &e))?;
    let buf: Coherent<[u8]> = buf.into();

    let dmem = fw.dmem_range();
    let img = falcon::Image {
        dma: &buf,
        imem_secure: Segment {
            src: app.offset,
            dst: 0,
            len: falcon::dma_len(app.size)?,
        },
        imem_nonsecure: None,
        dmem: Segment {
            src: dmem.start,
            dst: 0,
            len: falcon::dma_len(dmem.len)?,
        },
        brom: Brom {
            pkc_data_offset: fw.pkc_dmem_offset(),
            engine_id_mask: fw.meta.engine_id,
            ucode_id: u8::try_from(fw.meta.ucode_id).map_err(|_| EINVAL)?,
        },
        boot_vector: app.offset,
    };
    dev_dbg!(dev, "{}: signature {} for fuse {:#x}\n", name, sig, fuse);
    let halted = Falcon::<Sec2, Idle>::new(dev, bar)
        .reset(boot0)?
        .load(&img)?
        .run(mailbox0, mailbox1)?;
    let mb = halted.mailboxes();
    let _ = halted.into_idle();
    Ok(mb)
}
