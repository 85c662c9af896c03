// SPDX-License-Identifier: GPL-2.0
//! FWSEC, the VBIOS's heavy-secure ucode, run on the GSP falcon: FRTS carves out WPR2 with the
//! FRTS region at its base at boot, SB is the command of the unload path (facts sheet §4.5,
//! §5.4-5.5, §7.2, §7.4 steps 6-8 and unload step 3).

use kernel::{
    device,
    dma::{Coherent, CoherentBox},
    io::Io,
    prelude::*,
};

use crate::{
    driver::Bar0,
    falcon::{self, Brom, Falcon, Gsp, Idle, Segment},
    fb_layout::{self, FbRange},
    prom::VbiosImage,
    regs::{
        NV_FUSE_STATUS_OPT_DISPLAY, NV_PBUS_SW_SCRATCH_0E_FRTS_ERR, NV_PBUS_SW_SCRATCH_15_SB_ERR,
        NV_PDISP_VGA_WORKSPACE_BASE, NV_PFB_PRI_MMU_WPR2_ADDR_HI, NV_PFB_PRI_MMU_WPR2_ADDR_LO,
    },
    vbios::{
        falcon::FalconUcodeDesc,
        fwsec::{FwsecCommand, LoadTarget},
    },
};

/// WPR2 as the registers show it now.
pub(crate) fn current_wpr2(bar: &Bar0<'_>) -> Option<FbRange> {
    fb_layout::wpr2_from_regs(
        bar.read(NV_PFB_PRI_MMU_WPR2_ADDR_LO).into_raw(),
        bar.read(NV_PFB_PRI_MMU_WPR2_ADDR_HI).into_raw(),
    )
}

/// Runs FWSEC-FRTS from `vbios`. Returns the WPR2 range it set.
pub(crate) fn run_frts(
    dev: &device::Device<device::Bound>,
    bar: &Bar0<'_>,
    boot0: u32,
    vbios: &VbiosImage,
    fb_size: u64,
) -> Result<FbRange> {
    let ws = bar.read(NV_PDISP_VGA_WORKSPACE_BASE).into_raw();
    let display = !bar.read(NV_FUSE_STATUS_OPT_DISPLAY).data_disabled();
    let frts = fb_layout::frts(fb_size, ws, display).ok_or_else(|| {
        dev_err!(
            dev,
            "FWSEC: no room for the FRTS region in {:#x} bytes of VRAM\n",
            fb_size
        );
        EINVAL
    })?;
    let cmd = FwsecCommand::Frts {
        frts_addr: frts.start,
        frts_size: frts.len(),
    };
    let mbox0 = run(dev, bar, boot0, vbios, cmd)?;
    let err = bar
        .read(NV_PBUS_SW_SCRATCH_0E_FRTS_ERR)
        .frts_err_code()
        .get();
    if mbox0 != 0 || err != 0 {
        dev_err!(
            dev,
            "FWSEC-FRTS failed: mailbox0 {:#x}, FRTS error code {:#x}\n",
            mbox0,
            err
        );
        return Err(EIO);
    }
    match current_wpr2(bar) {
        Some(w) if w.start == frts.start => Ok(w),
        other => {
            let w = other.unwrap_or(FbRange { start: 0, end: 0 });
            dev_err!(
                dev,
                "FWSEC-FRTS reported success but WPR2 is [{:#x}, {:#x}), expected to start at FRTS {:#x}\n",
                w.start,
                w.end,
                frts.start
            );
            Err(EIO)
        }
    }
}

/// Runs FWSEC-SB from `vbios` (the unload path, facts sheet §7.4 unload step 3).
pub(crate) fn run_sb(
    dev: &device::Device<device::Bound>,
    bar: &Bar0<'_>,
    boot0: u32,
    vbios: &VbiosImage,
) -> Result {
    let mbox0 = run(dev, bar, boot0, vbios, FwsecCommand::Sb)?;
    let err = bar.read(NV_PBUS_SW_SCRATCH_15_SB_ERR).sb_err_code().get();
    if mbox0 != 0 || err != 0 {
        dev_err!(
            dev,
            "FWSEC-SB failed: mailbox0 {:#x}, SB error code {:#x}\n",
            mbox0,
            err
        );
        return Err(EIO);
    }
    Ok(())
}

/// Patches `cmd` into a DMA copy of the FWSEC ucode, runs it on the GSP falcon and returns
/// MAILBOX0.
fn run(
    dev: &device::Device<device::Bound>,
    bar: &Bar0<'_>,
    boot0: u32,
    vbios: &VbiosImage,
    cmd: FwsecCommand,
) -> Result<u32> {
    let parsed = vbios.parse()?;
    let fw = parsed.fwsec;
    let FalconUcodeDesc::V3(desc) = fw.desc else {
        dev_err!(
            dev,
            "FWSEC: the VBIOS has a version-2 descriptor, which GA102 does not use\n"
        );
        return Err(EINVAL);
    };
    let fuse_addr = fw.fuse_register().map_err(|e| {
        dev_err!(dev, "FWSEC: {}\n", e);
        EINVAL
    })?;
    let fuse = bar.try_read32(fuse_addr as usize)?;

    // The patched copy, in DMA memory, padded to whole transfers.
    let ucode = fw.ucode_bytes();
    let len = u32::try_from(ucode.len()).map_err(|_| EINVAL)?;
    let padded = falcon::dma_len(len)?;
    let mut buf = CoherentBox::<[u8]>::zeroed_slice(dev, padded as usize, GFP_KERNEL)?;
    let sig = {
        let copy = buf.get_mut(..ucode.len()).ok_or(EINVAL)?;
        copy.copy_from_slice(ucode);
        fw.patch(copy, cmd, Some(fuse)).map_err(|e| {
            dev_err!(dev, "FWSEC: patching failed: {}\n", e);
            EINVAL
        })?
    };
    let buf: Coherent<[u8]> = buf.into();
    let (imem, dmem) = fw.load_targets().ok_or(EINVAL)?;
    let seg = |t: LoadTarget| -> Result<Segment> {
        Ok(Segment {
            src: t.src,
            dst: t.dst,
            len: falcon::dma_len(t.len)?,
        })
    };
    let img = falcon::Image {
        dma: &buf,
        imem_secure: seg(imem)?,
        imem_nonsecure: None,
        dmem: seg(dmem)?,
        brom: Brom {
            pkc_data_offset: desc.pkc_data_offset,
            engine_id_mask: u32::from(desc.engine_id_mask),
            ucode_id: desc.ucode_id,
        },
        boot_vector: 0,
    };
    dev_dbg!(
        dev,
        "FWSEC: VBIOS {} bytes read, ucode {:#x} bytes, signature {:?} for fuse {:#x}\n",
        vbios.len(),
        len,
        sig,
        fuse
    );

    let halted = Falcon::<Gsp, Idle>::new(dev, bar)
        .reset(boot0)?
        .load(&img)?
        .run(0, 0)?;
    let (mbox0, _) = halted.mailboxes();
    let _ = halted.into_idle();
    Ok(mbox0)
}
