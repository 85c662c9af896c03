// SPDX-License-Identifier: GPL-2.0
//! The PCI driver: binds NVIDIA display-class functions, identifies the chip and hands the GPU to
//! nova-drm through an auxiliary device.

use kernel::{
    auxiliary,
    device::Core,
    dma::{self, DmaMask},
    firmware::Firmware,
    io::Io,
    pci::{self, Class, ClassMask, Vendor},
    prelude::*,
    ptr::Alignment,
    revocable::Revocable,
    sizes::{SZ_16M, SZ_64K},
    sync::Arc,
    time::{Instant, Monotonic},
    types::CovariantForLt,
};

use crate::{
    booter,
    chip::{self, IdentifyError},
    debugfs::{BootReport, DebugDir},
    fb::{self, SysmemFlush},
    fb_layout::FbRange,
    fwsec, gfw,
    gsp::{self, GspFiles, GspMemory},
    hal::{self, BootStatus},
    handoff::{DrmHandoff, AUXILIARY_NAME},
    irq::{GpuIrq, Vectors},
    link::GpuLink,
    memory::GpuMm,
    pramin::Pramin,
    prom::VbiosImage,
    regs::{NV_PMC_BOOT_0, NV_PMC_BOOT_42},
    vram::Vram,
};

/// DMA addressing width of Turing, Ampere and Ada (facts sheet §3).
const DMA_BITS: u32 = 47;

/// Records how long a boot stage that began at `start` took, and returns it in microseconds.
fn stage(
    stages: &mut KVec<(&'static str, i64)>,
    name: &'static str,
    start: &Instant<Monotonic>,
) -> Result<i64> {
    let us = start.elapsed().as_micros_ceil();
    stages.push((name, us), GFP_KERNEL)?;
    Ok(us)
}

/// Size of BAR0, the register window, on every supported chip.
pub(crate) const BAR0_SIZE: usize = SZ_16M;

/// The mapped register window.
pub(crate) type Bar0<'a> = pci::Bar<'a, BAR0_SIZE>;

/// The PCI driver type.
pub(crate) struct NovaCoreDriver;

/// Per-GPU state, alive while the PCI function is bound.
pub(crate) struct NovaCore<'bound> {
    /// The GPU's interrupt and the servicing of GSP-RM's events (None: GSP-RM is not up, or
    /// no interrupt line could be had). Quiesced in `unbind` before GSP-RM is unloaded.
    irq: Option<GpuIrq<'bound>>,
    /// Kept mapped for the lifetime of the binding (GSP boot and everything after use it);
    /// shared with nova-drm through the [`GpuLink`].
    bar: Arc<Bar0<'bound>>,
    /// `NV_PMC_BOOT_0`, written into each falcon after its reset.
    boot0: u32,
    /// The debugfs directory (removed first on unbind).
    _debugfs: DebugDir,
    /// What the unload path needs, loaded at probe so that unbind cannot fail on a missing file.
    unload: Option<UnloadImages>,
    /// GSP-RM's system memory, kept mapped while it runs (dropped after the unload path).
    gsp: Option<GspMemory>,
    /// VRAM and BAR1 (needs GSP-RM's static info).
    _mm: Option<Arc<GpuMm>>,
    /// The system-memory flush page, registered with the GPU while we are bound.
    _sysmem_flush: SysmemFlush,
    /// The auxiliary device nova-drm binds to. Revoked first thing in `unbind`, so that
    /// nova-drm is gone (no ioctl running) before the GSP-RM unload starts.
    #[allow(clippy::type_complexity)]
    drm: Pin<KBox<Revocable<auxiliary::Registration<'bound, CovariantForLt!(GpuLink<'_>)>>>>,
}

/// The VBIOS (for FWSEC-SB), the Booter-unload firmware and the GSP boot files.
struct UnloadImages {
    gsp_files: GspFiles,
    vbios: VbiosImage,
    booter_unload: Firmware,
}

kernel::pci_device_table!(
    PCI_TABLE,
    <NovaCoreDriver as pci::Driver>::IdInfo,
    [
        // NVIDIA functions of base class 0x03 (display); the GPU shows up as VGA, XGA, 3D or
        // "other display" depending on the board and its firmware settings.
        (
            pci::DeviceId::from_class_and_vendor(
                Class::DISPLAY_VGA,
                ClassMask::ClassSubclass,
                Vendor::NVIDIA
            ),
            ()
        ),
        (
            pci::DeviceId::from_class_and_vendor(
                Class::DISPLAY_XGA,
                ClassMask::ClassSubclass,
                Vendor::NVIDIA
            ),
            ()
        ),
        (
            pci::DeviceId::from_class_and_vendor(
                Class::DISPLAY_3D,
                ClassMask::ClassSubclass,
                Vendor::NVIDIA
            ),
            ()
        ),
        (
            pci::DeviceId::from_class_and_vendor(
                Class::DISPLAY_OTHER,
                ClassMask::ClassSubclass,
                Vendor::NVIDIA
            ),
            ()
        ),
    ]
);

impl pci::Driver for NovaCoreDriver {
    type IdInfo = ();
    type Data<'bound> = NovaCore<'bound>;
    const ID_TABLE: pci::IdTable<Self::IdInfo> = &PCI_TABLE;

    fn probe<'bound>(
        pdev: &'bound pci::Device<Core<'_>>,
        _info: Option<&'bound Self::IdInfo>,
    ) -> impl PinInit<Self::Data<'bound>, Error> + 'bound {
        let probe_start = Instant::<Monotonic>::now();
        pdev.enable_device_mem()?;
        pdev.set_master();

        let bar = Arc::new(
            pdev.iomap_region_sized::<BAR0_SIZE>(0, c"nova-core/bar0")?,
            GFP_KERNEL,
        )?;
        let boot0 = bar.read(NV_PMC_BOOT_0);
        let boot42 = bar.read(NV_PMC_BOOT_42);

        let id = match chip::identify(boot0.into_raw(), boot42.into_raw()) {
            Ok(id) => id,
            Err(IdentifyError::NotResponding) => {
                dev_err!(pdev, "GPU not responding: NV_PMC_BOOT_0 reads 0xffffffff\n");
                return Err(ENODEV);
            }
            Err(IdentifyError::PreFermi { boot0 }) => {
                dev_err!(
                    pdev,
                    "pre-Fermi GPU (NV_PMC_BOOT_0 {:#010x}) is not supported\n",
                    boot0
                );
                return Err(ENODEV);
            }
            Err(IdentifyError::UnknownChipset { chipset, boot42 }) => {
                dev_err!(
                    pdev,
                    "unknown NVIDIA chipset {:#x} (NV_PMC_BOOT_42 {:#010x}): not supported\n",
                    chipset,
                    boot42
                );
                return Err(ENODEV);
            }
        };
        dev_info!(
            pdev,
            "NVIDIA {} ({}), rev {:x}{:x}\n",
            id.chip.name,
            id.chip.arch.name(),
            id.major_rev,
            id.minor_rev
        );

        // SAFETY: nothing has allocated or mapped DMA memory for this device yet.
        unsafe { dma::Device::dma_set_mask_and_coherent(pdev, DmaMask::new::<DMA_BITS>())? };

        let mut stages = KVec::new();
        let start = Instant::<Monotonic>::now();
        gfw::wait_gfw_boot(pdev.as_ref(), &bar)?;
        dev_info!(
            pdev,
            "boot: GFW boot complete (waited {} us)\n",
            stage(&mut stages, "gfw_wait", &start)?
        );
        let sysmem_flush = SysmemFlush::register(pdev.as_ref(), &bar)?;
        let vram_size = fb::usable_vram_size(&bar);
        dev_info!(
            pdev,
            "boot: VRAM {} MiB, sysmem flush page at {:#x}\n",
            vram_size >> 20,
            sysmem_flush.dma_address()
        );

        let hal = hal::for_chipset(id.chip.chipset);
        let unload = if let Some(hal) = hal.filter(|h| h.status == BootStatus::Tested) {
            let start = Instant::<Monotonic>::now();
            let vbios = VbiosImage::read(pdev.as_ref(), &bar)?;
            dev_info!(
                pdev,
                "boot: VBIOS read ({} bytes) in {} us\n",
                vbios.len(),
                stage(&mut stages, "vbios_read", &start)?
            );
            let start = Instant::<Monotonic>::now();
            let booter_unload =
                Firmware::request(hal.booter_unload, pdev.as_ref()).inspect_err(|e| {
                    dev_err!(
                        pdev,
                        "cannot load firmware {}: {:?}\n",
                        hal.booter_unload,
                        e
                    );
                })?;
            let gsp_files = GspFiles::request(pdev.as_ref(), hal)?;
            dev_info!(
                pdev,
                "boot: firmware files loaded in {} us\n",
                stage(&mut stages, "firmware_request", &start)?
            );
            booter::check(pdev.as_ref(), hal.booter_unload, booter_unload.data())?;
            Some(UnloadImages {
                gsp_files,
                vbios,
                booter_unload,
            })
        } else {
            match hal {
                Some(_) => dev_info!(
                    pdev,
                    "boot: the GSP boot of {} is described but not brought up yet; stopping here\n",
                    id.chip.name
                ),
                None => dev_info!(
                    pdev,
                    "boot: no GSP boot description for {}; stopping here\n",
                    id.chip.name
                ),
            }
            None
        };

        let mut gsp = None;
        let mut vram = None;
        match (&unload, fwsec::current_wpr2(&bar)) {
            (None, _) => {}
            // A WPR2 left set by a driver that did not unload cleanly: GSP cannot boot again
            // until the GPU is reset.
            (Some(_), Some(w)) => dev_info!(
                pdev,
                "boot: WPR2 [{:#x}, {:#x}) already set by an earlier boot; FWSEC-FRTS skipped\n",
                w.start,
                w.end
            ),
            (Some(images), None) => {
                let start = Instant::<Monotonic>::now();
                let w = fwsec::run_frts(
                    pdev.as_ref(),
                    &bar,
                    boot0.into_raw(),
                    &images.vbios,
                    vram_size,
                )?;
                dev_info!(
                    pdev,
                    "boot: FWSEC-FRTS done in {} us, WPR2 [{:#x}, {:#x})\n",
                    stage(&mut stages, "fwsec_frts", &start)?,
                    w.start,
                    w.end
                );
                let start = Instant::<Monotonic>::now();
                let sys = gsp::rpc::SystemInfo {
                    bar_phys: [
                        pdev.resource_start(0)?,
                        pdev.resource_start(1)?,
                        pdev.resource_start(3)?,
                    ],
                    bus_dev_fn: u64::from(pdev.dev_id()),
                    max_user_va: (1 << 47) - 4096,
                    pci_device_id: (u32::from(pdev.device_id()) << 16)
                        | u32::from(pdev.vendor_id().as_raw()),
                    pci_sub_device_id: (u32::from(pdev.subsystem_device_id()) << 16)
                        | u32::from(pdev.subsystem_vendor_id()),
                    pci_revision_id: u32::from(pdev.revision_id()),
                };
                let mut mem = gsp::boot(
                    pdev.as_ref(),
                    &bar,
                    boot0.into_raw(),
                    vram_size,
                    &images.gsp_files,
                    &sys,
                )
                .inspect_err(|_| {
                    // WPR2 is set: release it now (the GSP reset stops whatever GSP-RM does),
                    // so that the next probe boots GSP-RM again instead of finding WPR2 set.
                    dev_info!(pdev, "boot: GSP-RM did not come up; releasing WPR2\n");
                    release_wpr2(pdev, &bar, boot0.into_raw(), images);
                })?;
                dev_info!(
                    pdev,
                    "boot: GSP-RM started by booter_load in {} us (WPR2 heap {} MiB, ELF at {:#x})\n",
                    stage(&mut stages, "gsp_boot", &start)?,
                    mem.layout.wpr2_heap.len() >> 20,
                    mem.layout.elf.start
                );
                let name = &mem.info.short_name;
                let len = name.iter().position(|&c| c == 0).unwrap_or(name.len());
                dev_info!(
                    pdev,
                    "boot: GSP-RM ready: {}, {} FB region(s), BAR1 PDE base {:#x}\n",
                    core::str::from_utf8(&name[..len]).unwrap_or("?"),
                    mem.info.num_regions,
                    mem.info.bar1_pde_base
                );
                // GSP-RM runs from here on: a failure no longer fails the probe (unbind must
                // still unload GSP-RM and release WPR2); what needs the objects is unavailable.
                match gsp::rm::RmDevice::alloc(&mem.chan, &bar) {
                    Ok(rm) => {
                        dev_info!(
                            pdev,
                            "boot: RM client {:#x}, device {:#x}, subdevice {:#x} allocated\n",
                            rm.client,
                            rm.device,
                            rm.subdevice
                        );
                        mem.rm = Some(rm);
                    }
                    Err(e) => dev_err!(pdev, "boot: RM device objects not allocated: {:?}\n", e),
                }
                vram = Vram::new(&mem.info).unwrap_or_else(|e| {
                    dev_err!(pdev, "boot: VRAM allocator not created: {:?}\n", e);
                    None
                });
                match &vram {
                    Some(v) => dev_info!(
                        pdev,
                        "boot: VRAM allocator: {} MiB in [{:#x}, {:#x}]\n",
                        v.size() >> 20,
                        v.region.base,
                        v.region.limit
                    ),
                    None => dev_info!(pdev, "boot: GSP-RM reported no usable VRAM region\n"),
                }
                if let Some(v) = &vram {
                    check_pramin(pdev, &bar, v);
                }
                gsp = Some(mem);
            }
        }

        stage(&mut stages, "probe_total", &probe_start)?;
        let fw_version = gsp.as_ref().map_or(0, |g| g.fw_version);
        let bar1_size = pdev.resource_len(1)?;
        let bar1_pde_base = gsp.as_ref().map_or(0, |g| g.info.bar1_pde_base);
        let mm = match vram {
            Some(v) => Some(GpuMm::new(
                v,
                bar1_pde_base,
                pdev.resource_start(1)?,
                bar1_size,
            )?),
            None => None,
        };
        let classes = hal.map(|h| h.classes).unwrap_or_default();
        let irq = gsp.as_ref().and_then(|g| {
            // Without GSP-RM's table no vector is opened: the interrupt thread then only runs
            // for the poll of GSP-RM's queue, and completions are polled by nova-drm.
            let v = interrupt_vectors(pdev, &bar, g).unwrap_or_else(|e| {
                dev_err!(pdev, "boot: GSP-RM's interrupt table unavailable ({:?}); polling\n", e);
                Vectors::default()
            });
            match GpuIrq::new(pdev, bar.clone(), g.chan.clone(), mm.clone(), v) {
                Ok(irq) => {
                    dev_info!(
                        pdev,
                        "boot: interrupts: GSP vector {:?}, copy non-stall {:?}, graphics non-stall {:?}\n",
                        v.gsp,
                        v.copy,
                        v.graphics
                    );
                    Some(irq)
                }
                Err(e) => {
                    dev_err!(
                        pdev,
                        "boot: no interrupt ({:?}): GSP-RM's events will not be serviced\n",
                        e
                    );
                    None
                }
            }
        });
        let link = GpuLink::new(
            DrmHandoff::new(&id, vram_size, bar1_size, fw_version, classes),
            pdev.as_ref(),
            bar.clone(),
            mm.clone(),
            gsp.as_ref().map(|g| g.chan.clone()),
            gsp.as_ref().and_then(|g| g.rm),
            irq.as_ref().map(|i| i.shared().clone()),
        );
        if mm.is_some() {
            match link.check_bar1(pdev) {
                Ok((addr, off)) => dev_info!(
                    pdev,
                    "boot: VRAM at {:#x} written through PRAMIN, read back through BAR1 at {:#x} and the reverse ({} MiB BAR1)\n",
                    addr,
                    off,
                    bar1_size >> 20
                ),
                Err(e) => dev_err!(pdev, "boot: BAR1 check failed: {:?}\n", e),
            }
        }
        // SAFETY: the registration is kept in `NovaCore::drm` until the binding ends and is
        // never forgotten; the link it carries borrows nothing that dies before that.
        let drm = unsafe {
            auxiliary::Registration::new_with_lt(
                pdev.as_ref(),
                AUXILIARY_NAME,
                // One auxiliary device per GPU: the PCI bus/devfn is unique while we are bound.
                u32::from(pdev.dev_id()),
                crate::MODULE_NAME,
                link,
            )?
        };

        let debugfs = DebugDir::new(
            pdev.as_ref().name(),
            BootReport {
                chip: id.chip.name,
                vram: vram_size,
                wpr2: fwsec::current_wpr2(&bar).map(|w| (w.start, w.end)),
                stages,
            },
            gsp.as_ref().map(|g| &g.chan),
        )?;

        Ok(NovaCore {
            irq,
            _debugfs: debugfs,
            bar,
            boot0: boot0.into_raw(),
            unload,
            gsp,
            _sysmem_flush: sysmem_flush,
            _mm: mm,
            drm: KBox::pin_init(Revocable::new(drm), GFP_KERNEL)?,
        })
    }

    fn unbind<'bound>(pdev: &'bound pci::Device<Core<'_>>, this: Pin<&Self::Data<'bound>>) {
        // Unregisters the auxiliary device: nova-drm unbinds and its DRM device is unplugged
        // (waiting for running ioctls) before GSP-RM is unloaded.
        this.drm.revoke();
        if let Some(irq) = &this.irq {
            irq.quiesce();
        }
        this.unload_firmware(pdev);
    }
}

/// The interrupt vectors GSP-RM assigns to GSP and to the non-stall interrupts of copy engine 0
/// and the graphics engine (`NV2080_CTRL_CMD_INTERNAL_INTR_GET_KERNEL_TABLE`, docs/facts/ga102.md §2.3).
fn interrupt_vectors(
    pdev: &pci::Device<Core<'_>>,
    bar: &Bar0<'_>,
    g: &GspMemory,
) -> Result<Vectors> {
    use crate::gsp::fifo::{engine_idx, intr_vectors, INTR_GET_KERNEL_TABLE, INTR_TABLE_PARAMS};
    let mut p = KVec::from_elem(0u8, INTR_TABLE_PARAMS, GFP_KERNEL)?;
    g.chan.rm_control(
        bar,
        g.info.internal_client,
        g.info.internal_subdevice,
        INTR_GET_KERNEL_TABLE,
        &mut p,
    )?;
    let max = crate::irq::VECTORS;
    let gsp = intr_vectors(&p, engine_idx::GSP, max).and_then(|v| v.stall);
    let copy = intr_vectors(&p, engine_idx::CE0, max).and_then(|v| v.nonstall);
    let graphics = intr_vectors(&p, engine_idx::GR0, max).and_then(|v| v.nonstall);
    if gsp.is_none() && copy.is_none() && graphics.is_none() {
        dev_err!(
            pdev,
            "boot: GSP-RM's interrupt table names none of GSP, CE0, GR0\n"
        );
        return Err(ENOENT);
    }
    Ok(Vectors {
        gsp,
        copy,
        graphics,
    })
}

/// Writes a pattern into a freshly allocated VRAM block through the PRAMIN window and reads it
/// back: the CPU's own path to VRAM (used for page tables) works before anything relies on it.
/// A failure is logged; nothing uses the path yet.
fn check_pramin(pdev: &pci::Device<Core<'_>>, bar: &Bar0<'_>, vram: &Vram) {
    let run = || -> Result<u64> {
        let blocks = vram.alloc_contiguous(SZ_64K as u64, Alignment::new::<SZ_64K>())?;
        let base = blocks.iter().next().ok_or(ENOMEM)?.offset();
        let pramin = KBox::pin_init(Pramin::new(), GFP_KERNEL)?;
        let word = |i: u64| 0x4e56_0000 ^ (i as u32).wrapping_mul(0x9e37_79b9);
        let offs = [0u64, 4, 0x1000, SZ_64K as u64 - 4];
        for &o in &offs {
            pramin.write32(bar, base + o, word(o))?;
        }
        for &o in &offs {
            let got = pramin.read32(bar, base + o)?;
            if got != word(o) {
                dev_err!(
                    pdev,
                    "boot: PRAMIN read {:#x} at VRAM {:#x}, wrote {:#x}\n",
                    got,
                    base + o,
                    word(o)
                );
                return Err(EIO);
            }
        }
        Ok(base)
    };
    match run() {
        Ok(base) => dev_info!(
            pdev,
            "boot: VRAM at {:#x} written and read back through PRAMIN\n",
            base
        ),
        Err(e) => dev_err!(pdev, "boot: PRAMIN check failed: {:?}\n", e),
    }
}

impl NovaCore<'_> {
    /// The unload path (facts sheet §7.4, unload steps 3-4): FWSEC-SB on the GSP falcon, then,
    /// if WPR2 is set, Booter-unload on SEC2 with both mailboxes 0xff, which must release WPR2.
    /// Failures are logged; the next probe then finds WPR2 set.
    fn unload_firmware(&self, pdev: &pci::Device<Core<'_>>) {
        let Some(images) = &self.unload else { return };
        let dev = pdev.as_ref();
        if let Some(gsp) = &self.gsp {
            if gsp.unload(dev, &self.bar).is_ok() {
                dev_info!(pdev, "unload: GSP-RM suspended\n");
            }
        }
        release_wpr2(pdev, &self.bar, self.boot0, images);
    }
}

/// Unload steps 3-4 (facts sheet §7.4): FWSEC-SB on the GSP falcon, then, if WPR2 is set,
/// Booter-unload on SEC2 with both mailboxes 0xff, which must release WPR2. Failures are logged;
/// the next probe then finds WPR2 set.
fn release_wpr2(pdev: &pci::Device<Core<'_>>, bar: &Bar0<'_>, boot0: u32, images: &UnloadImages) {
    let dev = pdev.as_ref();
    let start = Instant::<Monotonic>::now();
    if fwsec::run_sb(dev, bar, boot0, &images.vbios).is_err() {
        return;
    }
    let Some(w) = fwsec::current_wpr2(bar) else {
        dev_info!(pdev, "unload: FWSEC-SB done; WPR2 was not set\n");
        return;
    };
    let file = images.booter_unload.data();
    match booter::run(dev, bar, boot0, "booter_unload", file, 0xff, 0xff) {
        Ok((0, _)) if fwsec::current_wpr2(bar).is_none() => dev_info!(
            pdev,
            "unload: WPR2 [{:#x}, {:#x}) released in {} us\n",
            w.start,
            w.end,
            start.elapsed().as_micros_ceil()
        ),
        Ok((mbox0, _)) => {
            let left = fwsec::current_wpr2(bar).unwrap_or(FbRange { start: 0, end: 0 });
            dev_err!(
                pdev,
                "unload: booter_unload returned mailbox0 {:#x}; WPR2 now [{:#x}, {:#x})\n",
                mbox0,
                left.start,
                left.end
            )
        }
        Err(e) => dev_err!(pdev, "unload: booter_unload failed: {:?}\n", e),
    }
}
