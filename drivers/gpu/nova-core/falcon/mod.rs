// SPDX-License-Identifier: GPL-2.0
//! Falcon microcontrollers (GSP and SEC2 on GA102) as types whose states the compiler checks.
//!
//! A [`Falcon`] moves through states by value:
//!
//! ```text
//!   Falcon<E, Idle> --reset()--> Falcon<E, Ready> --load()--> Falcon<E, Loaded>
//!        ^                                                          |
//!        +------------------- into_idle() <-- Falcon<E, Halted> <--run()
//! ```
//!
//! so code cannot start a falcon that was not loaded, or load one that was not reset. Every
//! wait polls a register with a documented limit (the `*_TIMEOUT` constants) and fails with
//! `ETIMEDOUT` naming what it waited for. Register sequences: facts sheet §5.4 (reset and DMA
//! load as nova-core, nouveau and OpenRM do them on GA102).

pub(crate) mod regs;

use core::marker::PhantomData;

use kernel::{
    device,
    dma::Coherent,
    io::{
        poll::read_poll_timeout,
        register::{RegisterBase, WithBase},
        Io,
    },
    prelude::*,
    time::{delay::fsleep, Delta},
};

use crate::driver::Bar0;
use regs::*;

/// How long the engine may take to say it is ready for reset (tolerated if it never does).
pub(crate) const RESET_READY_TIMEOUT: Delta = Delta::from_micros(150);
/// How long memory scrubbing after a reset may take.
pub(crate) const SCRUB_TIMEOUT: Delta = Delta::from_millis(20);
/// How long a boot-core switch may take to become valid.
pub(crate) const CORE_SELECT_TIMEOUT: Delta = Delta::from_millis(10);
/// How long one 256-byte DMA transfer may take.
pub(crate) const DMA_TIMEOUT: Delta = Delta::from_millis(2000);
/// How long a started falcon may run before it must halt.
pub(crate) const RUN_TIMEOUT: Delta = Delta::from_millis(2000);
/// How long GSP-RM's RISC-V core may take to become active after Booter started it.
pub(crate) const RISCV_ACTIVE_TIMEOUT: Delta = Delta::from_millis(5000);

/// A falcon engine: where its registers are.
pub(crate) trait Engine: RegisterBase<PFalconBase> + RegisterBase<PFalcon2Base> {
    /// Name for messages.
    const NAME: &'static str;
}

/// The GSP falcon (PFALCON 0x110000, PFALCON2 0x111000; `dev_gsp.h`, `dev_riscv_pri.h`).
pub(crate) struct Gsp;
impl RegisterBase<PFalconBase> for Gsp {
    const BASE: usize = 0x0011_0000;
}
impl RegisterBase<PFalcon2Base> for Gsp {
    const BASE: usize = 0x0011_1000;
}
impl Engine for Gsp {
    const NAME: &'static str = "GSP";
}

/// The SEC2 falcon (PFALCON 0x840000, PFALCON2 0x841000; `dev_sec_pri.h`).
pub(crate) struct Sec2;
impl RegisterBase<PFalconBase> for Sec2 {
    const BASE: usize = 0x0084_0000;
}
impl RegisterBase<PFalcon2Base> for Sec2 {
    const BASE: usize = 0x0084_1000;
}
impl Engine for Sec2 {
    const NAME: &'static str = "SEC2";
}

/// State: unknown contents, must be reset before use.
pub(crate) struct Idle;
/// State: reset, memories scrubbed, falcon core selected.
pub(crate) struct Ready;
/// State: an image is in IMEM/DMEM and the boot ROM is programmed.
pub(crate) struct Loaded;
/// State: reset with its RISC-V core selected and the boot arguments in its mailboxes, waiting
/// for Booter (on SEC2) to start GSP-RM on it.
pub(crate) struct RiscvReady;
/// State: ran and halted; holds the mailboxes it left.
pub(crate) struct Halted {
    /// MAILBOX0 after the halt (0 means success for FWSEC and Booter).
    pub(crate) mailbox0: u32,
    /// MAILBOX1 after the halt.
    pub(crate) mailbox1: u32,
}

/// Size of one falcon DMA transfer; load segments are whole transfers.
pub(crate) const DMA_GRANULE: u32 = 256;

/// `len` rounded up to whole DMA transfers.
pub(crate) fn dma_len(len: u32) -> Result<u32> {
    len.checked_add(DMA_GRANULE - 1)
        .map(|x| x & !(DMA_GRANULE - 1))
        .ok_or(EINVAL)
}

/// One contiguous DMA copy into falcon memory.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Segment {
    /// Offset of the data in the DMA buffer.
    pub(crate) src: u32,
    /// Falcon memory address to copy to.
    pub(crate) dst: u32,
    /// Length in bytes; a multiple of 256 (the DMA transfer size).
    pub(crate) len: u32,
}

/// Boot-ROM parameters for a signed (heavy-secure) image.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Brom {
    /// DMEM offset of the signature (`BROM_PARAADDR(0)`).
    pub(crate) pkc_data_offset: u32,
    /// `BROM_ENGIDMASK`.
    pub(crate) engine_id_mask: u32,
    /// `BROM_CURR_UCODE_ID`.
    pub(crate) ucode_id: u8,
}

/// An image ready to be DMA-loaded: the buffer and where each part goes.
pub(crate) struct Image<'b> {
    /// The whole image in DMA-able memory (base 256-byte aligned).
    pub(crate) dma: &'b Coherent<[u8]>,
    /// Secure IMEM part.
    pub(crate) imem_secure: Segment,
    /// Non-secure IMEM part, if any.
    pub(crate) imem_nonsecure: Option<Segment>,
    /// DMEM part.
    pub(crate) dmem: Segment,
    /// Boot-ROM parameters.
    pub(crate) brom: Brom,
    /// `BOOTVEC`.
    pub(crate) boot_vector: u32,
}

/// A falcon engine `E` in state `S`.
pub(crate) struct Falcon<'a, E: Engine, S> {
    dev: &'a device::Device,
    bar: &'a Bar0<'a>,
    state: S,
    _engine: PhantomData<E>,
}

impl<'a, E: Engine, S> Falcon<'a, E, S> {
    fn into_state<T>(self, state: T) -> Falcon<'a, E, T> {
        Falcon {
            dev: self.dev,
            bar: self.bar,
            state,
            _engine: PhantomData,
        }
    }

    fn poll<R: Copy>(
        &self,
        what: &str,
        read: impl Fn() -> R,
        done: impl Fn(&R) -> bool,
        timeout: Delta,
    ) -> Result<R> {
        read_poll_timeout(|| Ok(read()), |v| done(v), Delta::from_micros(10), timeout).inspect_err(
            |_| {
                dev_err!(
                    self.dev,
                    "{} falcon: timed out after {} us waiting for {}\n",
                    E::NAME,
                    timeout.as_micros_ceil(),
                    what
                );
            },
        )
    }
}

impl<'a, E: Engine> Falcon<'a, E, Idle> {
    /// The engine `E` of the GPU behind `bar`, in an unknown state.
    pub(crate) fn new(dev: &'a device::Device, bar: &'a Bar0<'a>) -> Self {
        Falcon {
            dev,
            bar,
            state: Idle,
            _engine: PhantomData,
        }
    }

    /// Resets the engine into its falcon core with scrubbed memories and `boot0` in the RM
    /// register (docs/facts/ga102.md §5.4, GA102).
    pub(crate) fn reset(self, boot0: u32) -> Result<Falcon<'a, E, Ready>> {
        let bar = self.bar;
        // The engine may never report reset-ready; hardware tolerates resetting anyway.
        let _ = read_poll_timeout(
            || Ok(bar.read(NV_PFALCON_FALCON_HWCFG2::of::<E>())),
            |r| r.reset_ready(),
            Delta::from_micros(10),
            RESET_READY_TIMEOUT,
        );
        self.pulse_engine_reset()?;

        let bcr = bar.read(NV_PRISCV_RISCV_BCR_CTRL::of::<E>());
        if bcr.core_select_riscv() {
            bar.write(
                NV_PRISCV_RISCV_BCR_CTRL::of::<E>(),
                NV_PRISCV_RISCV_BCR_CTRL::zeroed(),
            );
            self.poll(
                "the falcon core to be selected",
                || bar.read(NV_PRISCV_RISCV_BCR_CTRL::of::<E>()),
                |r| r.valid(),
                CORE_SELECT_TIMEOUT,
            )?;
            self.wait_scrubbed()?;
        }
        bar.write(
            NV_PFALCON_FALCON_RM::of::<E>(),
            NV_PFALCON_FALCON_RM::zeroed().with_value(boot0),
        );
        Ok(self.into_state(Ready))
    }

    /// Resets the engine into its RISC-V core (BCR_CTRL = VALID | CORE_SELECT RISC-V | BRFETCH,
    /// docs/facts/ga102.md §5.4 "Reset into RISC-V") and leaves the two boot arguments in its mailboxes.
    pub(crate) fn reset_into_riscv(
        self,
        mailbox0: u32,
        mailbox1: u32,
    ) -> Result<Falcon<'a, E, RiscvReady>> {
        let bar = self.bar;
        self.pulse_engine_reset()?;
        bar.write(
            NV_PRISCV_RISCV_BCR_CTRL::of::<E>(),
            NV_PRISCV_RISCV_BCR_CTRL::zeroed()
                .with_valid(true)
                .with_core_select_riscv(true)
                .with_brfetch(true),
        );
        bar.write(
            NV_PFALCON_FALCON_MAILBOX0::of::<E>(),
            NV_PFALCON_FALCON_MAILBOX0::zeroed().with_value(mailbox0),
        );
        bar.write(
            NV_PFALCON_FALCON_MAILBOX1::of::<E>(),
            NV_PFALCON_FALCON_MAILBOX1::zeroed().with_value(mailbox1),
        );
        Ok(self.into_state(RiscvReady))
    }

    /// Pulses ENGINE.RESET and waits for the memories to be scrubbed.
    fn pulse_engine_reset(&self) -> Result {
        let bar = self.bar;
        bar.write(
            NV_PFALCON_FALCON_ENGINE::of::<E>(),
            NV_PFALCON_FALCON_ENGINE::zeroed().with_reset(true),
        );
        fsleep(Delta::from_micros(10));
        bar.write(
            NV_PFALCON_FALCON_ENGINE::of::<E>(),
            NV_PFALCON_FALCON_ENGINE::zeroed(),
        );
        self.wait_scrubbed()
    }

    fn wait_scrubbed(&self) -> Result {
        let bar = self.bar;
        self.poll(
            "memory scrubbing to finish",
            || bar.read(NV_PFALCON_FALCON_HWCFG2::of::<E>()),
            |r| !r.mem_scrubbing(),
            SCRUB_TIMEOUT,
        )
        .map(|_| ())
    }
}

/// The core commands of GSP-RM's CPU sequencer (docs/facts/ga102.md §9.5): they act on an engine whose
/// state GSP-RM, not this driver, knows, so they keep it [`Idle`].
impl<'a, E: Engine> Falcon<'a, E, Idle> {
    /// CORE_RESET: reset into the falcon core, then DMA without a context (FBIF_CTL
    /// ALLOW_PHYS_NO_CTX, DMACTL 0; docs/facts/ga102.md §9.5, OG 570.144 `kernel_gsp.c`
    /// `kgspExecuteSequencerBuffer_IMPL`: reset and `kflcnDisableCtxReq`).
    pub(crate) fn sequencer_reset(self, boot0: u32) -> Result<Self> {
        let r = self.reset(boot0)?;
        let bar = r.bar;
        bar.update(NV_PFALCON_FBIF_CTL::of::<E>(), |r| {
            r.with_allow_phys_no_ctx(true)
        });
        bar.write(
            NV_PFALCON_FALCON_DMACTL::of::<E>(),
            NV_PFALCON_FALCON_DMACTL::zeroed(),
        );
        Ok(r.into_state(Idle))
    }

    /// CORE_START (and the SEC2 start of CORE_RESUME): STARTCPU through CPUCTL_ALIAS when
    /// ALIAS_EN is set, else through CPUCTL (docs/facts/ga102.md §9.5).
    pub(crate) fn start_cpu(&self) {
        let bar = self.bar;
        if bar.read(NV_PFALCON_FALCON_CPUCTL::of::<E>()).alias_en() {
            bar.write(
                NV_PFALCON_FALCON_CPUCTL_ALIAS::of::<E>(),
                NV_PFALCON_FALCON_CPUCTL_ALIAS::zeroed().with_startcpu(true),
            );
        } else {
            bar.write(
                NV_PFALCON_FALCON_CPUCTL::of::<E>(),
                NV_PFALCON_FALCON_CPUCTL::zeroed().with_startcpu(true),
            );
        }
    }

    /// CORE_WAIT_FOR_HALT: CPUCTL.HALTED within [`RUN_TIMEOUT`] (2 s, docs/facts/ga102.md §9.5).
    pub(crate) fn wait_halted(&self) -> Result {
        let bar = self.bar;
        self.poll(
            "the CPU to halt",
            || bar.read(NV_PFALCON_FALCON_CPUCTL::of::<E>()),
            |r| r.halted(),
            RUN_TIMEOUT,
        )
        .map(|_| ())
    }

    /// MAILBOX0.
    pub(crate) fn mailbox0(&self) -> u32 {
        self.bar
            .read(NV_PFALCON_FALCON_MAILBOX0::of::<E>())
            .value()
            .get()
    }
}

impl<'a, E: Engine> Falcon<'a, E, Ready> {
    /// DMA-loads `img` and programs the boot ROM and boot vector.
    pub(crate) fn load(self, img: &Image<'_>) -> Result<Falcon<'a, E, Loaded>> {
        let bar = self.bar;
        let base = img.dma.dma_address();
        if base & 0xff != 0 {
            dev_err!(
                self.dev,
                "{} falcon: DMA buffer at {:#x} is not 256-byte aligned\n",
                E::NAME,
                base
            );
            return Err(EINVAL);
        }
        bar.update(NV_PFALCON_FBIF_CTL::of::<E>(), |r| {
            r.with_allow_phys_no_ctx(true)
        });
        bar.write(
            NV_PFALCON_FALCON_DMACTL::of::<E>(),
            NV_PFALCON_FALCON_DMACTL::zeroed(),
        );
        bar.update(NV_PFALCON_FBIF_TRANSCFG0::of::<E>(), |r| {
            r.with_const_target::<1>().with_mem_type_physical(true)
        });
        bar.write(
            NV_PFALCON_FALCON_DMATRFBASE::of::<E>(),
            NV_PFALCON_FALCON_DMATRFBASE::zeroed().with_base((base >> 8) as u32),
        );
        bar.write(
            NV_PFALCON_FALCON_DMATRFBASE1::of::<E>(),
            NV_PFALCON_FALCON_DMATRFBASE1::zeroed().try_with_base(((base >> 40) & 0x1ff) as u32)?,
        );

        self.copy(img, img.imem_secure, true, true)?;
        if let Some(ns) = img.imem_nonsecure {
            self.copy(img, ns, true, false)?;
        }
        self.copy(img, img.dmem, false, false)?;

        let b = img.brom;
        bar.write(
            NV_PFALCON2_FALCON_BROM_PARAADDR0::of::<E>(),
            NV_PFALCON2_FALCON_BROM_PARAADDR0::zeroed().with_value(b.pkc_data_offset),
        );
        bar.write(
            NV_PFALCON2_FALCON_BROM_ENGIDMASK::of::<E>(),
            NV_PFALCON2_FALCON_BROM_ENGIDMASK::zeroed().with_value(b.engine_id_mask),
        );
        bar.write(
            NV_PFALCON2_FALCON_BROM_CURR_UCODE_ID::of::<E>(),
            NV_PFALCON2_FALCON_BROM_CURR_UCODE_ID::zeroed().with_ucode_id(b.ucode_id),
        );
        // RSA-3K signatures (docs/facts/ga102.md §5.4 step 5).
        bar.write(
            NV_PFALCON2_FALCON_MOD_SEL::of::<E>(),
            NV_PFALCON2_FALCON_MOD_SEL::zeroed().with_const_algo::<1>(),
        );
        bar.write(
            NV_PFALCON_FALCON_BOOTVEC::of::<E>(),
            NV_PFALCON_FALCON_BOOTVEC::zeroed().with_value(img.boot_vector),
        );
        Ok(self.into_state(Loaded))
    }

    /// Copies one segment in 256-byte transfers, waiting for each.
    fn copy(&self, img: &Image<'_>, seg: Segment, imem: bool, secure: bool) -> Result {
        let bar = self.bar;
        let end = seg.src.checked_add(seg.len).ok_or(EINVAL)?;
        if seg.len % 256 != 0
            || end as usize > img.dma.size()
            || seg.dst.checked_add(seg.len).is_none()
        {
            dev_err!(
                self.dev,
                "{} falcon: bad load segment src {:#x} dst {:#x} len {:#x} (buffer {:#x} bytes)\n",
                E::NAME,
                seg.src,
                seg.dst,
                seg.len,
                img.dma.size()
            );
            return Err(EINVAL);
        }
        let cmd = NV_PFALCON_FALCON_DMATRFCMD::zeroed()
            .with_imem(imem)
            .with_const_size::<6>()
            .try_with_sec(u32::from(secure))?;
        let mut pos = 0;
        while pos < seg.len {
            bar.write(
                NV_PFALCON_FALCON_DMATRFMOFFS::of::<E>(),
                NV_PFALCON_FALCON_DMATRFMOFFS::zeroed().try_with_offs(seg.dst + pos)?,
            );
            bar.write(
                NV_PFALCON_FALCON_DMATRFFBOFFS::of::<E>(),
                NV_PFALCON_FALCON_DMATRFFBOFFS::zeroed().with_offs(seg.src + pos),
            );
            bar.write(NV_PFALCON_FALCON_DMATRFCMD::of::<E>(), cmd);
            self.poll(
                "a DMA transfer to finish",
                || bar.read(NV_PFALCON_FALCON_DMATRFCMD::of::<E>()),
                |r| r.idle(),
                DMA_TIMEOUT,
            )?;
            pos += 256;
        }
        Ok(())
    }
}

impl<'a, E: Engine> Falcon<'a, E, Loaded> {
    /// Starts the CPU with the two mailbox arguments and waits for it to halt.
    pub(crate) fn run(self, mailbox0: u32, mailbox1: u32) -> Result<Falcon<'a, E, Halted>> {
        let bar = self.bar;
        bar.write(
            NV_PFALCON_FALCON_MAILBOX0::of::<E>(),
            NV_PFALCON_FALCON_MAILBOX0::zeroed().with_value(mailbox0),
        );
        bar.write(
            NV_PFALCON_FALCON_MAILBOX1::of::<E>(),
            NV_PFALCON_FALCON_MAILBOX1::zeroed().with_value(mailbox1),
        );
        if bar.read(NV_PFALCON_FALCON_CPUCTL::of::<E>()).alias_en() {
            bar.write(
                NV_PFALCON_FALCON_CPUCTL_ALIAS::of::<E>(),
                NV_PFALCON_FALCON_CPUCTL_ALIAS::zeroed().with_startcpu(true),
            );
        } else {
            bar.write(
                NV_PFALCON_FALCON_CPUCTL::of::<E>(),
                NV_PFALCON_FALCON_CPUCTL::zeroed().with_startcpu(true),
            );
        }
        self.poll(
            "the CPU to halt",
            || bar.read(NV_PFALCON_FALCON_CPUCTL::of::<E>()),
            |r| r.halted(),
            RUN_TIMEOUT,
        )?;
        let mailbox0 = bar
            .read(NV_PFALCON_FALCON_MAILBOX0::of::<E>())
            .value()
            .get();
        let mailbox1 = bar
            .read(NV_PFALCON_FALCON_MAILBOX1::of::<E>())
            .value()
            .get();
        Ok(self.into_state(Halted { mailbox0, mailbox1 }))
    }
}

impl<'a, E: Engine> Falcon<'a, E, RiscvReady> {
    /// After Booter started GSP-RM: tells it the bootloader's application version (the OS
    /// register, docs/facts/ga102.md §7.4 step 12) and waits for the RISC-V core to be active (step 13).
    pub(crate) fn wait_active(self, app_version: u32) -> Result<Self> {
        let bar = self.bar;
        bar.write(
            NV_PFALCON_FALCON_OS::of::<E>(),
            NV_PFALCON_FALCON_OS::zeroed().with_value(app_version),
        );
        self.poll(
            "the RISC-V core to become active",
            || bar.read(NV_PRISCV_RISCV_CPUCTL::of::<E>()),
            |r| r.active_stat(),
            RISCV_ACTIVE_TIMEOUT,
        )?;
        Ok(self)
    }
}

impl<'a, E: Engine> Falcon<'a, E, Halted> {
    /// The mailboxes the image left.
    pub(crate) fn mailboxes(&self) -> (u32, u32) {
        (self.state.mailbox0, self.state.mailbox1)
    }

    /// Done with this run; the engine must be reset before its next use.
    pub(crate) fn into_idle(self) -> Falcon<'a, E, Idle> {
        self.into_state(Idle)
    }
}
