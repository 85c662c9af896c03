// SPDX-License-Identifier: GPL-2.0
//! Booting GSP-RM (facts sheet §7): everything the CPU prepares in system memory, then the GSP
//! falcon reset into RISC-V with the LIBOS arguments, Booter-load on SEC2, and the wait for the
//! RISC-V core to come up.
//!
//! The structures' contents come from the pure, host-tested files of this module
//! ([`wpr_meta`], [`libos`], [`queue`]) and the firmware parsers; this file only allocates,
//! maps and programs.

pub(crate) mod channel;
mod cmdq;
pub mod fifo;
pub mod libos;
pub mod queue;
pub(crate) mod rm;
pub mod rpc;
pub mod sequencer;
pub mod wpr_meta;

use kernel::{
    alloc::VVec,
    device,
    dma::{Coherent, CoherentBox, DataDirection},
    firmware::Firmware,
    io::Io,
    prelude::*,
    scatterlist::{Owned, SGTable},
    sync::Arc,
    time::{delay::fsleep, Delta},
    transmute::AsBytes,
};

use crate::{
    booter,
    driver::Bar0,
    falcon::{Falcon, Gsp, Idle, RiscvReady, Sec2},
    fb_layout::GspFbLayout,
    firmware::{
        gsp::GspFirmware,
        radix3::{build_radix3, contiguous_pages, Radix3Buffers, Radix3Layout},
        riscv::RiscvBootloader,
    },
    fwsec,
    hal::GspHal,
    regs::{
        NV_FUSE_STATUS_OPT_DISPLAY, NV_PDISP_VGA_WORKSPACE_BASE, NV_PGC6_BSI_SECURE_SCRATCH_14,
        NV_PGSP_FALCON_MAILBOX0_STATE,
    },
};
use channel::GspChannel;
use rpc::function;

/// Size of each LIBOS log buffer.
const LOG_SIZE: usize = 64 << 10;
/// Page size of the structures GSP-RM reads.
const PAGE: usize = 4096;

/// The firmware files of a GSP boot.
pub(crate) struct GspFiles {
    /// `gsp-570.144.bin`.
    pub(crate) gsp: Firmware,
    /// `bootloader-570.144.bin`.
    pub(crate) bootloader: Firmware,
    /// `booter_load-570.144.bin`.
    pub(crate) booter_load: Firmware,
    /// The chip's names for them and its signature section.
    pub(crate) hal: &'static GspHal,
}

impl GspFiles {
    /// Requests the chip's three files, naming a missing one.
    pub(crate) fn request(dev: &device::Device, hal: &'static GspHal) -> Result<Self> {
        let get = |name: &CStr| {
            Firmware::request(name, dev).inspect_err(|e| {
                dev_err!(dev, "cannot load firmware {}: {:?}\n", name, e);
            })
        };
        let files = GspFiles {
            gsp: get(hal.gsp)?,
            bootloader: get(hal.bootloader)?,
            booter_load: get(hal.booter_load)?,
            hal,
        };
        files.check(dev)?;
        Ok(files)
    }

    /// Parses all three files (headers, descriptors, ELF sections, signatures), so that a bad
    /// file is reported, naming it and the offset, before anything runs on the GPU.
    fn check(&self, dev: &device::Device) -> Result {
        let hal = self.hal;
        let bad = |name: &CStr, e: crate::firmware::FwError| {
            dev_err!(dev, "{}: {}\n", name, e);
            EINVAL
        };
        GspFirmware::parse(self.gsp.data(), hal.signature).map_err(|e| bad(hal.gsp, e))?;
        RiscvBootloader::parse(self.bootloader.data()).map_err(|e| bad(hal.bootloader, e))?;
        booter::check(dev, hal.booter_load, self.booter_load.data())
    }
}

/// Everything GSP-RM reads from system memory; it must stay mapped while GSP-RM runs.
pub(crate) struct GspMemory {
    _fwimage: Pin<KBox<SGTable<Owned<VVec<u8>>>>>,
    _radix3: Coherent<[u8]>,
    _bootloader: Coherent<[u8]>,
    _signature: Coherent<[u8]>,
    _wpr_meta: Coherent<[u8]>,
    _libos: Coherent<[u8]>,
    _rmargs: Coherent<[u8]>,
    /// The queues and log buffers shared with GSP-RM.
    pub(crate) chan: Arc<GspChannel>,
    /// nova-core's client, device and subdevice in GSP-RM, once allocated.
    pub(crate) rm: Option<rm::RmDevice>,
    /// Where things went in VRAM.
    pub(crate) layout: GspFbLayout,
    /// What GSP-RM reported about the GPU.
    pub(crate) info: rpc::StaticInfo,
    /// The firmware's version, `(major << 32) | minor`.
    pub(crate) fw_version: u64,
}

/// How long GSP-RM may take to suspend after `UNLOADING_GUEST_DRIVER` (docs/facts/ga102.md §7.4 unload 2).
pub(crate) const UNLOAD_TIMEOUT: Delta = Delta::from_millis(5000);

impl GspMemory {
    /// Asks GSP-RM to unload and waits until LIBOS reports the processor suspended (GSP
    /// MAILBOX0 bit 31).
    pub(crate) fn unload(&self, dev: &device::Device, bar: &Bar0<'_>) -> Result {
        if let Some(rm) = &self.rm {
            if rm.free(&self.chan, bar).is_err() {
                dev_err!(dev, "GSP: freeing nova-core's RM objects failed\n");
            }
        }
        self.chan.exchange(|q| {
            q.send(
                bar,
                function::UNLOADING_GUEST_DRIVER,
                &rpc::unloading_guest_driver(),
            )
        })?;
        kernel::io::poll::read_poll_timeout(
            || Ok(bar.read(NV_PGSP_FALCON_MAILBOX0_STATE).suspended()),
            |s| *s,
            Delta::from_millis(10),
            UNLOAD_TIMEOUT,
        )
        .map(|_| ())
        .inspect_err(|_| {
            dev_err!(
                dev,
                "GSP: GSP-RM did not suspend within {} ms\n",
                UNLOAD_TIMEOUT.as_millis()
            )
        })
    }
}

/// Default and upper bound of a REG_POLL's timeout (docs/facts/ga102.md §9.5: 0 means 4 s); a larger value
/// GSP-RM gives is cut to it, so a bad buffer cannot stall the probe longer.
const SEQ_POLL_MAX_US: u32 = 4_000_000;
/// Upper bound of a DELAY_US (same reason).
const SEQ_DELAY_MAX_US: u32 = 4_000_000;
/// How long CORE_RESUME waits for SEC2-RTOS's handoff bit (docs/facts/ga102.md §9.5; nouveau and OpenRM
/// wait 2 s).
const SEQ_HANDOFF_TIMEOUT: Delta = Delta::from_millis(2000);

/// What the sequencer's CORE_RESUME needs from the boot.
struct ResumeArgs {
    boot0: u32,
    /// Bus address of the LIBOS arguments (GSP MAILBOX0/1, docs/facts/ga102.md §7.3).
    libos: u64,
    /// The bootloader's appVersion (GSP OS register, docs/facts/ga102.md §7.4 step 12).
    app_version: u32,
}

/// Runs the CPU sequencer buffer GSP-RM sent (docs/facts/ga102.md §7.4 step 15, §9.5). The whole buffer is
/// parsed first ([`sequencer::parse`]): a bad one runs nothing. Every failure is logged naming
/// the opcode and where it is.
fn run_sequencer(dev: &device::Device, bar: &Bar0<'_>, payload: &[u8], r: &ResumeArgs) -> Result {
    let steps = sequencer::parse(payload).map_err(|e| {
        dev_err!(dev, "GSP: bad CPU sequencer buffer: {}\n", e);
        EINVAL
    })?;
    let mut save = [0u32; sequencer::SAVE_SLOTS as usize];
    let mut n = 0u32;
    for s in steps {
        run_step(dev, bar, &s, r, &mut save).inspect_err(|_| {
            dev_err!(
                dev,
                "GSP: CPU sequencer stopped at opcode {:#x} ({}) at dword {} (payload offset {:#x})\n",
                s.op,
                sequencer::name(s.op),
                s.at,
                s.offset()
            )
        })?;
        n += 1;
    }
    dev_info!(
        dev,
        "boot: CPU sequencer ran {} commands; GSP-RM resumed (save area {:#x} {:#x})\n",
        n,
        save[0],
        save[1]
    );
    Ok(())
}

fn run_step(
    dev: &device::Device,
    bar: &Bar0<'_>,
    s: &sequencer::Step,
    r: &ResumeArgs,
    save: &mut [u32; sequencer::SAVE_SLOTS as usize],
) -> Result {
    use sequencer::Cmd;
    match s.cmd {
        Cmd::RegWrite { addr, val } => bar.try_write32(val, addr as usize),
        Cmd::RegModify { addr, mask, val } => {
            let old = bar.try_read32(addr as usize)?;
            bar.try_write32((old & !mask) | val, addr as usize)
        }
        Cmd::RegPoll {
            addr,
            mask,
            val,
            timeout_us,
            error,
        } => {
            let us = match timeout_us {
                0 => SEQ_POLL_MAX_US,
                t => t.min(SEQ_POLL_MAX_US),
            };
            let _ = bar.try_read32(addr as usize)?;
            kernel::io::poll::read_poll_timeout(
                || bar.try_read32(addr as usize),
                |v| *v & mask == val,
                Delta::from_micros(10),
                Delta::from_micros(i64::from(us)),
            )
            .map(|_| ())
            .inspect_err(|_| {
                dev_err!(
                    dev,
                    "GSP: sequencer REG_POLL at dword {}: {:#x} & {:#x} never became {:#x} within {} us (last {:#x}, GSP-RM error code {})\n",
                    s.at,
                    addr,
                    mask,
                    val,
                    us,
                    bar.try_read32(addr as usize).unwrap_or(0),
                    error
                )
            })
        }
        Cmd::DelayUs(us) => {
            fsleep(Delta::from_micros(i64::from(us.min(SEQ_DELAY_MAX_US))));
            Ok(())
        }
        Cmd::RegStore { addr, index } => {
            let v = bar.try_read32(addr as usize)?;
            *save.get_mut(index as usize).ok_or(EINVAL)? = v;
            Ok(())
        }
        Cmd::CoreReset => Falcon::<Gsp, Idle>::new(dev, bar)
            .sequencer_reset(r.boot0)
            .map(|_| ()),
        Cmd::CoreStart => {
            Falcon::<Gsp, Idle>::new(dev, bar).start_cpu();
            Ok(())
        }
        Cmd::CoreWaitForHalt => Falcon::<Gsp, Idle>::new(dev, bar).wait_halted(),
        Cmd::CoreResume => resume(dev, bar, s, r),
    }
}

/// CORE_RESUME on GA102 (docs/facts/ga102.md §9.5; OG 570.144 `kernel_gsp_ga102.c`
/// `kgspExecuteSequencerCommand_GA102`): the GSP reset into RISC-V with the LIBOS arguments in
/// MAILBOX0/1, SEC2 started (SEC2-RTOS resumes GSP-RM), `NV_PGC6_BSI_SECURE_SCRATCH_14`
/// BOOT_STAGE_3_HANDOFF within 2 s, SEC2 MAILBOX0 = 0, the GSP OS register = appVersion, the
/// RISC-V core active.
fn resume(dev: &device::Device, bar: &Bar0<'_>, s: &sequencer::Step, r: &ResumeArgs) -> Result {
    let gsp = Falcon::<Gsp, Idle>::new(dev, bar)
        .reset_into_riscv(r.libos as u32, (r.libos >> 32) as u32)?;
    let sec2 = Falcon::<Sec2, Idle>::new(dev, bar);
    sec2.start_cpu();
    kernel::io::poll::read_poll_timeout(
        || Ok(bar.read(NV_PGC6_BSI_SECURE_SCRATCH_14)),
        |v| v.boot_stage_3_handoff(),
        Delta::from_micros(100),
        SEQ_HANDOFF_TIMEOUT,
    )
    .inspect_err(|_| {
        dev_err!(
            dev,
            "GSP: sequencer CORE_RESUME at dword {}: NV_PGC6_BSI_SECURE_SCRATCH_14 handoff bit 26 not set within {} ms (SEC2 MAILBOX0 {:#x})\n",
            s.at,
            SEQ_HANDOFF_TIMEOUT.as_millis(),
            sec2.mailbox0()
        )
    })?;
    let m = sec2.mailbox0();
    if m != 0 {
        dev_err!(
            dev,
            "GSP: sequencer CORE_RESUME at dword {}: SEC2-RTOS reports mailbox0 {:#x}\n",
            s.at,
            m
        );
        return Err(EIO);
    }
    gsp.wait_active(r.app_version).map(|_| ())
}

/// Allocates `size` zeroed bytes of coherent memory and lets `fill` write them, given their bus
/// address, before the device learns about the buffer.
fn coherent_with(
    dev: &device::Device<device::Bound>,
    size: usize,
    fill: impl FnOnce(u64, &mut [u8]) -> Result,
) -> Result<Coherent<[u8]>> {
    let c: Coherent<[u8]> = CoherentBox::<[u8]>::zeroed_slice(dev, size, GFP_KERNEL)?.into();
    let addr = c.dma_address();
    // SAFETY: `c` was allocated just above and its address has not been handed to the device
    // yet, so neither the device nor any other reference can access the memory while `fill`
    // holds this one; it ends before `c` is returned.
    fill(addr, unsafe { c.as_mut() })?;
    Ok(c)
}

/// Like [`coherent_with`] for memory accessed as 32-bit words while the device uses it.
fn coherent_words(
    dev: &device::Device<device::Bound>,
    size: usize,
    fill: impl FnOnce(u64, &mut [u8]) -> Result,
) -> Result<Coherent<[u32]>> {
    let c: Coherent<[u32]> = CoherentBox::<[u32]>::zeroed_slice(dev, size / 4, GFP_KERNEL)?.into();
    let addr = c.dma_address();
    // SAFETY: as in `coherent_with`: freshly allocated, its address not yet given to the device.
    let words = unsafe { c.as_mut() };
    fill(addr, AsBytes::as_bytes_mut(words))?;
    Ok(c)
}

fn copy_of(
    dev: &device::Device<device::Bound>,
    bytes: &[u8],
    size: usize,
) -> Result<Coherent<[u8]>> {
    coherent_with(dev, size, |_, b| {
        b.get_mut(..bytes.len())
            .ok_or(EINVAL)?
            .copy_from_slice(bytes);
        Ok(())
    })
}

/// A LIBOS log buffer: word 0 is the write pointer, words 1.. the bus address of each page.
fn log_buffer(dev: &device::Device<device::Bound>) -> Result<Coherent<[u8]>> {
    coherent_with(dev, LOG_SIZE, |addr, b| {
        for (i, pte) in contiguous_pages(addr, LOG_SIZE / PAGE).enumerate() {
            let at = (i + 1) * 8;
            b.get_mut(at..at + 8)
                .ok_or(EINVAL)?
                .copy_from_slice(&pte.to_le_bytes());
        }
        Ok(())
    })
}

/// Boots GSP-RM up to its RISC-V core running (docs/facts/ga102.md §7.4 steps 4, 9-13). FWSEC-FRTS must have
/// set WPR2 already.
pub(crate) fn boot(
    dev: &device::Device<device::Bound>,
    bar: &Bar0<'_>,
    boot0: u32,
    fb_size: u64,
    files: &GspFiles,
    sys: &rpc::SystemInfo,
) -> Result<GspMemory> {
    let fw_err = |name: &CStr, e: crate::firmware::FwError| {
        dev_err!(dev, "{}: {}\n", name, e);
        EINVAL
    };
    let hal = files.hal;
    let gsp =
        GspFirmware::parse(files.gsp.data(), hal.signature).map_err(|e| fw_err(hal.gsp, e))?;
    let bl =
        RiscvBootloader::parse(files.bootloader.data()).map_err(|e| fw_err(hal.bootloader, e))?;
    booter::check(dev, hal.booter_load, files.booter_load.data())?;

    let image = gsp.image();
    let signature = gsp.signature_bytes();
    let ws = bar.read(NV_PDISP_VGA_WORKSPACE_BASE).into_raw();
    let display = !bar.read(NV_FUSE_STATUS_OPT_DISPLAY).data_disabled();
    let layout = GspFbLayout::new(
        fb_size,
        ws,
        display,
        bl.image().len() as u64,
        image.len() as u64,
    )
    .ok_or_else(|| {
        dev_err!(
            dev,
            "GSP: {:#x} bytes of VRAM cannot hold the GSP-RM layout\n",
            fb_size
        );
        EINVAL
    })?;
    match fwsec::current_wpr2(bar) {
        Some(w) if w.start == layout.frts.start => {}
        _ => {
            dev_err!(
                dev,
                "GSP: WPR2 is not the one FWSEC-FRTS carves at {:#x}\n",
                layout.frts.start
            );
            return Err(EINVAL);
        }
    }

    // `.fwimage`, page by page through a scatter-gather mapping, and its radix3 table.
    let r3 = Radix3Layout::for_image_size(image.len()).map_err(|e| fw_err(hal.gsp, e))?;
    let mut copy = VVec::with_capacity(r3.fw_pages * PAGE, GFP_KERNEL)?;
    copy.extend_from_slice(image, GFP_KERNEL)?;
    copy.resize(r3.fw_pages * PAGE, 0, GFP_KERNEL)?;
    let fwimage = KBox::pin_init(
        SGTable::new(dev, copy, DataDirection::ToDevice, GFP_KERNEL),
        GFP_KERNEL,
    )?;
    let radix3 = coherent_with(
        dev,
        r3.lvl0_size() + r3.lvl1_size() + r3.lvl2_size(),
        |addr, b| {
            let (lvl0, rest) = b.split_at_mut(r3.lvl0_size());
            let (lvl1, lvl2) = rest.split_at_mut(r3.lvl1_size());
            let lvl1_addr = addr + r3.lvl0_size() as u64;
            let lvl2_addr = lvl1_addr + r3.lvl1_size() as u64;
            let pages = fwimage
                .iter()
                .flat_map(|sg| contiguous_pages(sg.dma_address(), sg.dma_len() as usize / PAGE));
            build_radix3(
                &r3,
                Radix3Buffers { lvl0, lvl1, lvl2 },
                lvl1_addr,
                contiguous_pages(lvl2_addr, r3.lvl2_pages),
                pages,
            )
            .map_err(|e| fw_err(hal.gsp, e))
        },
    )?;

    let bootloader = copy_of(dev, bl.image(), bl.image().len().next_multiple_of(PAGE))?;
    let sig = copy_of(dev, signature, signature.len().next_multiple_of(PAGE))?;
    let meta = wpr_meta::build(
        &wpr_meta::SysmemImages {
            radix3_addr: radix3.dma_address(),
            elf_size: image.len() as u64,
            bootloader_addr: bootloader.dma_address(),
            bootloader_size: bl.image().len() as u64,
            bootloader_code_offset: u64::from(bl.desc.monitor_code_offset),
            bootloader_data_offset: u64::from(bl.desc.monitor_data_offset),
            bootloader_manifest_offset: u64::from(bl.desc.manifest_offset),
            signature_addr: sig.dma_address(),
            signature_size: signature.len() as u64,
        },
        &layout,
    );
    let wpr_meta = copy_of(dev, &meta, PAGE)?;

    // The message queues and the LIBOS arguments that point GSP-RM at them.
    let queues = coherent_words(dev, queue::AREA_SIZE, |addr, b| {
        let (pte, rest) = b.split_at_mut(queue::PAGE);
        if !queue::write_pte_page(pte, addr) || !queue::write_cmdq_header(rest) {
            return Err(EINVAL);
        }
        Ok(())
    })?;
    let qargs = libos::QueueArgs {
        shared_mem_pa: queues.dma_address(),
        pte_count: queue::AREA_PAGES as u32,
        cmdq_offset: queue::CMDQ_OFFSET as u64,
        statq_offset: queue::STATQ_OFFSET as u64,
    };
    let rmargs = coherent_with(dev, PAGE, |_, b| {
        if libos::write_rmargs(b, &qargs) {
            Ok(())
        } else {
            Err(EINVAL)
        }
    })?;
    let logs = [
        Arc::new(log_buffer(dev)?, GFP_KERNEL)?,
        Arc::new(log_buffer(dev)?, GFP_KERNEL)?,
        Arc::new(log_buffer(dev)?, GFP_KERNEL)?,
    ];
    let region = |name: &[u8], c: &Coherent<[u8]>| libos::Region {
        id8: libos::id8(name),
        pa: c.dma_address(),
        size: c.size() as u64,
    };
    let regions = [
        region(b"LOGINIT", &logs[0]),
        region(b"LOGINTR", &logs[1]),
        region(b"LOGRM", &logs[2]),
        region(b"RMARGS", &rmargs),
    ];
    let libos = coherent_with(dev, PAGE, |_, b| {
        if libos::write_regions(b, &regions) {
            Ok(())
        } else {
            Err(EINVAL)
        }
    })?;

    // GSP falcon into RISC-V with the LIBOS arguments, then Booter-load on SEC2 (§7.4 9-11).
    let la = libos.dma_address();
    let gsp_falcon: Falcon<'_, Gsp, RiscvReady> =
        Falcon::<Gsp, Idle>::new(dev, bar).reset_into_riscv(la as u32, (la >> 32) as u32)?;
    let ma = wpr_meta.dma_address();
    let (mbox0, mbox1) = booter::run(
        dev,
        bar,
        boot0,
        "booter_load",
        files.booter_load.data(),
        ma as u32,
        (ma >> 32) as u32,
    )?;
    if mbox0 != 0 {
        dev_err!(
            dev,
            "GSP: booter_load failed: mailbox0 {:#x}, mailbox1 {:#x}\n",
            mbox0,
            mbox1
        );
        return Err(EIO);
    }
    gsp_falcon.wait_active(bl.desc.app_version)?;

    // GSP-RM is running: describe the machine, then wait for it to finish initialising
    // (docs/facts/ga102.md §7.4 steps 14-17).
    let chan = GspChannel::new(dev, queues, logs)?;
    let info = chan.exchange(|q| {
        let mut si = [0u8; rpc::SYSTEM_INFO_SIZE];
        rpc::system_info(&mut si, sys).map_err(|_| EINVAL)?;
        q.send(bar, function::GSP_SET_SYSTEM_INFO, &si)?;
        let mut reg = [0u8; 256];
        let keys = rpc::REGISTRY_KEYS.map(|k| (k, 1u32));
        let n = rpc::registry(&mut reg, &keys).map_err(|_| EINVAL)?;
        q.send(bar, function::SET_REGISTRY, reg.get(..n).ok_or(EINVAL)?)?;
        // GSP-RM answers neither (OG 570.144 sends both asynchronously, docs/facts/ga102.md §7.4 step 14):
        // whatever comes before GSP_INIT_DONE other than the sequencer is an event.
        let resume = ResumeArgs {
            boot0,
            libos: la,
            app_version: bl.desc.app_version,
        };
        let mut sequencers = 0u32;
        loop {
            let m = q.receive()?;
            // Everything here is an event (docs/facts/ga102.md §9.2), the two the boot waits for included.
            q.note_event(&m.message());
            match m.message().function {
                function::GSP_INIT_DONE => break,
                function::GSP_RUN_CPU_SEQUENCER => {
                    run_sequencer(dev, bar, m.message().payload, &resume)?;
                    sequencers += 1;
                }
                _ => {}
            }
        }
        if sequencers == 0 {
            dev_warn!(
                dev,
                "GSP: GSP-RM sent GSP_INIT_DONE without the cold boot's CPU sequencer\n"
            );
        }
        q.send(
            bar,
            function::GET_GSP_STATIC_INFO,
            &[0u8; rpc::STATIC_INFO_MIN],
        )?;
        let info = loop {
            let m = q.receive()?;
            let msg = m.message();
            if msg.function != function::GET_GSP_STATIC_INFO {
                q.note_event(&msg);
                continue;
            }
            if msg.result != 0 {
                dev_err!(
                    dev,
                    "GSP: GET_GSP_STATIC_INFO failed with status {:#x}\n",
                    msg.result
                );
                return Err(EIO);
            }
            break rpc::static_info(msg.payload).map_err(|e| {
                dev_err!(dev, "GSP: bad static info: {}\n", e);
                EIO
            })?;
        };
        Ok(info)
    })?;

    Ok(GspMemory {
        _fwimage: fwimage,
        _radix3: radix3,
        _bootloader: bootloader,
        _signature: sig,
        _wpr_meta: wpr_meta,
        _libos: libos,
        _rmargs: rmargs,
        chan,
        rm: None,
        layout,
        info,
        fw_version: gsp
            .version_numbers()
            .map_or(0, |(a, b)| (u64::from(a) << 32) | u64::from(b)),
    })
}
