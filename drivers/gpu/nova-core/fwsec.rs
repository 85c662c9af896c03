// SPDX-License-Identifier: GPL-2.0
//! Boot stage FWSEC-FRTS: run the VBIOS's FWSEC ucode on the GSP falcon to carve out WPR2 with
//! the FRTS region at its base (facts sheet §4.5, §5.4-5.5, §7.2, §7.4 steps 6-8).

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
        NV_FUSE_STATUS_OPT_DISPLAY, NV_PBUS_SW_SCRATCH_0E_FRTS_ERR, NV_PDISP_VGA_WORKSPACE_BASE,
        NV_PFB_PRI_MMU_WPR2_ADDR_HI, NV_PFB_PRI_MMU_WPR2_ADDR_LO,
    },
    vbios::{falcon::FalconUcodeDesc, fwsec::FwsecCommand},
};

/// DMA transfer granule of the falcon.
const DMA_GRANULE: u32 = 256;

fn round_up(v: u32, to: u32) -> Option<u32> {
    v.checked_add(to - 1).map(|x| x & !(to - 1))
}

/// WPR2 as the registers show it now.
pub(crate) fn current_wpr2(bar: &Bar0<'_>) -> Option<FbRange> {
    fb_layout::wpr2_from_regs(
        bar.read(NV_PFB_PRI_MMU_WPR2_ADDR_LO).into_raw(),
        bar.read(NV_PFB_PRI_MMU_WPR2_ADDR_HI).into_raw(),
    )
}

/// Runs FWSEC-FRTS. Returns the WPR2 range it set.
pub(crate) fn run_frts(
    dev: &device::Device<device::Bound>,
    bar: &Bar0<'_>,
    boot0: u32,
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

    let image = VbiosImage::read(dev, bar)?;
    let vbios = image.parse()?;
    let fw = vbios.fwsec;
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
    let padded = round_up(len, DMA_GRANULE).ok_or(EINVAL)?;
    let mut buf = CoherentBox::<[u8]>::zeroed_slice(dev, padded as usize, GFP_KERNEL)?;
    let sig = {
        let copy = buf.get_mut(..ucode.len()).ok_or(EINVAL)?;
        copy.copy_from_slice(ucode);
        fw.patch(
            copy,
            FwsecCommand::Frts {
                frts_addr: frts.start,
                frts_size: frts.len(),
            },
            Some(fuse),
        )
        .map_err(|e| {
            dev_err!(dev, "FWSEC: patching failed: {}\n", e);
            EINVAL
        })?
    };
    let buf: Coherent<[u8]> = buf.into();
    let (imem, dmem) = fw.load_targets().ok_or(EINVAL)?;
    let seg = |t: crate::vbios::fwsec::LoadTarget| -> Result<Segment> {
        Ok(Segment {
            src: t.src,
            dst: t.dst,
            len: round_up(t.len, DMA_GRANULE).ok_or(EINVAL)?,
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
        image.len(),
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
            dev_err!(
                dev,
                "FWSEC-FRTS reported success but WPR2 is {:?}, expected to start at FRTS {:#x}\n",
                other,
                frts.start
            );
            Err(EIO)
        }
    }
}
