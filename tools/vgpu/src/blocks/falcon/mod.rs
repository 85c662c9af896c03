// SPDX-License-Identifier: GPL-2.0
//! The falcon microcontrollers: one generic model, instantiated for the GSP (PFALCON BAR0
//! 0x110000-0x113FFF) and SEC2 (0x840000-0x843FFF) (docs/facts/ga102.md §5.1). Each instance owns its whole
//! engine range: PFALCON at +0x000, FBIF at +0x600, PFALCON2/PRISCV at +0x1000.
//!
//! - [`regs`]: offsets, fields and trace names (docs/facts/ga102.md §5.2, §5.3).
//! - [`mem`]: IMEM/DMEM and their PIO ports.
//! - [`dma`]: the DMA engine (DMATRF*, FBIF) reading and writing guest memory.
//! - [`brom`]: the boot ROM model that decides what a started falcon runs.
//! - [`fwsec`]: the VBIOS FWSEC behaviour (FRTS and SB commands).
//! - [`booter`]: the Booter behaviour on SEC2 (booter_load starts GSP-RM, booter_unload clears
//!   WPR2), and the [`GspPort`] through which it reaches the GSP.
//! - [`gsprm`]: GSP-RM r570.144 on the GSP once booter_load started it: LIBOS arguments, the
//!   message queues, the RPCs.
//!
//! ## Registers and behaviour
//! - `ENGINE.RESET` (0x3C0): writing 1 holds the engine in reset — IMEM/DMEM scrubbed to 0,
//!   every falcon register back to its INIT value, the CPU halted; register writes other than
//!   ENGINE are ignored while it is held. Writing 0 releases it and starts scrubbing:
//!   `HWCFG2.MEM_SCRUBBING` and `DMACTL.{I,D}MEM_SCRUBBING` read 1 on the first
//!   [`SCRUB_BUSY_READS`] reads of HWCFG2/DMACTL after the release and 0 from then on, or once
//!   [`SCRUB_TIME`] of wall time has passed, whichever comes first (model choice: long enough that
//!   a driver must poll, short enough not to slow tests). Memory writes (PIO or DMA) while
//!   scrubbing are lost, as the scrubber overwrites them. `HWCFG2.RESET_READY` reads 1 whenever
//!   the engine is not held in reset (docs/facts/ga102.md §5.4 step 1 tolerates it never being set; the model
//!   sets it). `RISCV_BCR_CTRL`, `NV_PGSP_MAILBOX(i)`/`NV_PSEC_MAILBOX(i)` and
//!   `NV_PGSP_QUEUE_HEAD(i)` keep their values across ENGINE.RESET (both open drivers test the
//!   core select right after the reset, docs/facts/ga102.md §5.4 step 4, so it must survive it); an FLR
//!   resets everything.
//! - `CPUCTL` (0x100): HALTED (4) reads 1 unless the CPU runs; ALIAS_EN (6) is read/write;
//!   STARTCPU (1) starts the CPU only while ALIAS_EN is 0, `CPUCTL_ALIAS.STARTCPU` (0x130) only
//!   while it is 1 (docs/facts/ga102.md §5.4 boot step 2). A start while held in reset, while scrubbing or
//!   while running is ignored (traced).
//! - What a start runs is the [`brom`] model's decision; the FWSEC halts at once after its work,
//!   anything rejected halts at once with an error code in MAILBOX0. On every halt IRQSTAT.HALT
//!   is set.
//! - `IRQSTAT` (0x008) HALT 4, SWGEN0 6, SWGEN1 7, cleared by writing 1s to `IRQSCLR` (0x004);
//!   `IRQMSET`/`IRQMCLR` set/clear bits of `IRQMASK`; `IRQDEST` read/write. On the GSP, GSP-RM
//!   raises SWGEN0 whenever it posted messages (docs/facts/ga102.md §7.4); if `IRQMASK.SWGEN0` is set the
//!   falcon asserts its host interrupt line ([`Wiring::irq`]), which sets GPU vector
//!   [`crate::blocks::intr::GSP_VECTOR`] in the CPU interrupt tree; an `IRQMSET` that unmasks a
//!   pending SWGEN0 asserts it too, and so does `INTR_RETRIGGER(0)` (TRIGGER 0:0) while
//!   `IRQSTAT.SWGEN0 & IRQMASK.SWGEN0` is still set.
//!   GSP-RM sets `IRQMASK.SWGEN0` and `IRQDEST.SWGEN0` itself when it starts (its own
//!   interrupt set-up; model choice: the facts only say the CPU masks IRQSTAT with
//!   `RISCV_IRQMASK`). HALT and SWGEN1 never interrupt the host; `INTR_RETRIGGER` does nothing
//!   on SEC2.
//! - `NV_PGSP_QUEUE_HEAD(0)` (0xC00): a write is the CPU's doorbell to GSP-RM ([`gsprm`]).
//! - `MAILBOX0/1`, `OS`, `RM`, `DEBUGINFO`, `BOOTVEC`, `MOD_SEL` (7:0), `BROM_CURR_UCODE_ID`
//!   (7:0), `BROM_ENGIDMASK`, `BROM_PARAADDR(i)` (i < 4), `RISCV_IRQDEST`: read/write state.
//! - `HWCFG` (0x108): IMEM_SIZE 8:0 and DMEM_SIZE 17:9 in 256-byte blocks, both 64 KiB
//!   ([`IMEM_SIZE`], [`DMEM_SIZE`]; model choice large enough for the production FWSEC,
//!   IMEM 0x6000 + DMEM 0x2000). `HWCFG1` (0x12C): CORE_REV 7, SECURITY_MODEL 3 (heavy secure),
//!   CORE_REV_SUBVERSION 0 (model choice: the facts give the fields, not GA102's values).
//!   `HWCFG2.RISCV` (10) = 1 on both engines (both have a PRISCV block, docs/facts/ga102.md §5.1).
//! - `RISCV_CPUCTL` (0x1388): ACTIVE_STAT (7) reads 1 on the GSP once booter_load started
//!   GSP-RM (docs/facts/ga102.md §7.4 steps 11, 13) until the next ENGINE.RESET or FLR of the GSP, with HALTED
//!   (4) 0 meanwhile; otherwise ACTIVE_STAT reads 0 and HALTED mirrors the falcon core's state.
//!   No RISC-V instruction runs: GSP-RM itself is not modelled. Writes are ignored.
//!   `RISCV_IRQMASK` (0x1528) reads IRQMASK (same core; model choice).
//! - `MAILBOX0/1` of the GSP live in its [`GspPort`] so Booter on SEC2 can read them (the
//!   LIBOS-argument address, docs/facts/ga102.md §7.4 step 9); both engines' mailboxes behave the same.
//! - `RISCV_BCR_CTRL` (0x1668): CORE_SELECT (4) and BRFETCH (8) read/write, VALID (0) reads 1
//!   once the register was written; INIT is CORE_SELECT falcon, BRFETCH 1, VALID 0
//!   (`ga102/dev_riscv_pri.h`). On the GSP it reads RISC-V selected (0x111) from the first
//!   access after booter_load or SEC2-RTOS started GSP-RM, whatever the CPU selected (model
//!   choice; docs/facts/ga102.md §7.5, README "Boot orderings").
//! - A GSP held in `ENGINE.RESET` refuses both: booter_load halts with
//!   [`booter::ERR_GSP_IN_RESET`], SEC2-RTOS with [`ERR_RTOS_GSP_IN_RESET`].
//! - DMA: see [`dma`]. A refused transfer halts the falcon with [`brom::ERR_DMA`] in MAILBOX0
//!   and is remembered until the next reset, so a later STARTCPU halts with the same code (the
//!   driver writes MAILBOX0 between load and start).
//!
//! ## Fault knobs
//! [`Knobs::fwsec_fail`] makes FWSEC report [`fwsec::FWSEC_ERR_INJECTED`];
//! [`Knobs::hang`] makes a started falcon (GSP or SEC2, whatever it was loaded with) never halt
//! (until ENGINE.RESET or FLR); [`Knobs::booter_fail`] makes an accepted booter_load halt with
//! [`booter::ERR_BOOTER_INJECTED`]; [`Knobs::irq_storm`] (the falcon's share of the device-wide
//! `--irq-storm`) makes the GSP's `IRQSTAT.SWGEN0` read 1 whatever is written to `IRQSCLR`.
//! GSP-RM's own knobs are [`gsprm::Knobs`].
//!
//! ## Trace
//! Register accesses carry the names of [`regs`]; state changes get their own lines, e.g.
//! `GSP falcon: reset`, `GSP falcon: start at BOOTVEC 0x0`,
//! `GSP falcon: FWSEC-FRTS ok, WPR2 [0x5ffe00000,0x5fff00000)`, `GSP falcon: halt mailbox0=0x0`.

pub mod booter;
pub mod brom;
pub mod dma;
pub mod fwsec;
pub mod gsprm;
pub mod mem;
pub mod regs;

#[cfg(test)]
mod tests;

use super::bus::ScratchHandle;
use super::fb::Wpr2Handle;
use super::Block;
use crate::chip::{ChipProfile, UcodeFuses};
use crate::dma::SharedGuestMemory;
use crate::firmware::GspFirmware;
use crate::irq::IrqLine;
use crate::pci::BarView;
use crate::trace::Tracer;
pub use booter::{GspBoot, GspPort, SeqPhase};
use brom::{KnownImages, Ucode, Verdict};
use dma::DmaRegs;
use mem::{DmemPort, ImemPort, Memory};
use regs::*;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// IMEM size (model choice, see the module documentation).
pub const IMEM_SIZE: usize = 64 << 10;
/// DMEM size (model choice).
pub const DMEM_SIZE: usize = 64 << 10;
/// HWCFG: IMEM_SIZE 8:0, DMEM_SIZE 17:9, in 256-byte blocks.
pub const HWCFG_VALUE: u32 = ((IMEM_SIZE / mem::BLOCK) as u32) << HWCFG_IMEM_SIZE_SHIFT
    | ((DMEM_SIZE / mem::BLOCK) as u32) << HWCFG_DMEM_SIZE_SHIFT;
/// HWCFG1: CORE_REV 7, SECURITY_MODEL 3 (HS), CORE_REV_SUBVERSION 0.
pub const HWCFG1_VALUE: u32 = 7 << HWCFG1_CORE_REV_SHIFT
    | 3 << HWCFG1_SECURITY_MODEL_SHIFT
    | 0 << HWCFG1_CORE_REV_SUBVERSION_SHIFT;
/// Reads of HWCFG2/DMACTL after the reset release that still report scrubbing.
pub const SCRUB_BUSY_READS: u32 = 2;
/// Wall time after the reset release after which scrubbing reports done regardless.
pub const SCRUB_TIME: Duration = Duration::from_micros(200);

/// Which engine an instance is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    /// The GSP falcon, PFALCON base 0x110000.
    Gsp,
    /// SEC2, PFALCON base 0x840000.
    Sec2,
}

impl Engine {
    /// PFALCON base in BAR0 (docs/facts/ga102.md §5.1).
    pub fn base(self) -> u32 {
        match self {
            Engine::Gsp => 0x110000,
            Engine::Sec2 => 0x840000,
        }
    }

    /// Block name in the trace.
    pub fn block_name(self) -> &'static str {
        match self {
            Engine::Gsp => "gsp",
            Engine::Sec2 => "sec2",
        }
    }

    /// Name in state-change trace lines.
    pub fn label(self) -> &'static str {
        match self {
            Engine::Gsp => "GSP",
            Engine::Sec2 => "SEC2",
        }
    }

    /// This engine's EngineIdMask bit (docs/facts/ga102.md §5.3: SEC2 bit 0, GSP bit 10).
    pub fn engine_bit(self) -> u16 {
        match self {
            Engine::Gsp => 0x0400,
            Engine::Sec2 => 0x0001,
        }
    }

    fn ranges(self) -> &'static [(u32, u32)] {
        match self {
            Engine::Gsp => &[(0x110000, 0x114000)],
            Engine::Sec2 => &[(0x840000, 0x844000)],
        }
    }
}

/// Fault knobs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Knobs {
    /// FWSEC reports [`fwsec::FWSEC_ERR_INJECTED`] for the command it was given.
    pub fwsec_fail: bool,
    /// A started falcon never halts.
    pub hang: bool,
    /// An accepted booter_load halts with [`booter::ERR_BOOTER_INJECTED`].
    pub booter_fail: bool,
    /// The GSP's `IRQSTAT.SWGEN0` is stuck at 1 (part of `--irq-storm`).
    pub irq_storm: bool,
}

/// What a falcon reaches outside itself.
#[derive(Clone)]
pub struct Wiring {
    /// The ucodes the boot ROM can verify.
    pub known: Arc<KnownImages>,
    /// PBUS scratch (FWSEC reports there).
    pub scratch: ScratchHandle,
    /// WPR2 (FWSEC-FRTS sets it).
    pub wpr2: Wpr2Handle,
    /// Guest memory for DMA.
    pub guest: SharedGuestMemory,
    /// The trace.
    pub tracer: Arc<Tracer>,
    /// VRAM size in bytes (FRTS range check, Booter's FB layout check).
    pub vram_size: u64,
    /// `NV_PDISP_VGA_WORKSPACE_BASE` as the CPU reads it (Booter's FB layout check).
    pub vga_workspace: u32,
    /// The GSP's mailboxes and RISC-V state: the GSP falcon's own, Booter on SEC2 reaches it.
    pub gsp_port: GspPort,
    /// The GSP boot firmware files (Booter's comparisons); None: Booter images are unknown.
    pub firmware: Option<Arc<GspFirmware>>,
    /// HS-ucode fuses (signature selection).
    pub fuses: UcodeFuses,
    /// Fault knobs.
    pub knobs: Knobs,
    /// The chip (GSP-RM checks the system info against it and reports its identity).
    pub chip: &'static ChipProfile,
    /// Where the guest placed the BARs (GSP-RM's `GSP_SET_SYSTEM_INFO` check).
    pub bars: BarView,
    /// The GSP's interrupt line towards the host.
    pub irq: IrqLine,
    /// GSP-RM's counters (shared with the device, which completes the timing).
    pub rpc_stats: gsprm::RpcStats,
    /// GSP-RM's fault knobs.
    pub gsp_rm: gsprm::Knobs,
    /// The hub MMU (GSP-RM builds and binds BAR1's page directory).
    pub hub: crate::mmu::hub::Hub,
    /// The FIFO (GSP-RM creates and frees channels, sends their errors).
    pub fifo: crate::fifo::Fifo,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ResetState {
    /// ENGINE.RESET held at 1.
    Held,
    /// Released at `since`; `reads` scrub-status reads so far.
    Scrubbing { since: Instant, reads: u32 },
    /// Usable.
    Ready,
}

/// Everything ENGINE.RESET puts back to INIT.
struct Core {
    imem: Memory,
    dmem: Memory,
    imem_ports: [ImemPort; IMEM_PORTS as usize],
    dmem_ports: [DmemPort; DMEM_PORTS as usize],
    dma: DmaRegs,
    running: bool,
    dma_error: bool,
    irqstat: u32,
    irqmask: u32,
    irqdest: u32,
    os: u32,
    rm: u32,
    debuginfo: u32,
    bootvec: u32,
    alias_en: bool,
    mod_sel: u32,
    ucode_id: u32,
    engidmask: u32,
    paraaddr: [u32; PARAADDR_COUNT as usize],
    riscv_irqdest: u32,
}

impl Core {
    fn new() -> Self {
        Core {
            imem: Memory::new(IMEM_SIZE),
            dmem: Memory::new(DMEM_SIZE),
            imem_ports: Default::default(),
            dmem_ports: Default::default(),
            dma: DmaRegs::default(),
            running: false,
            dma_error: false,
            irqstat: 0,
            irqmask: 0,
            irqdest: 0,
            os: 0,
            rm: 0,
            debuginfo: 0,
            bootvec: 0,
            alias_en: false,
            mod_sel: 0,
            ucode_id: 0,
            engidmask: 0,
            paraaddr: [0; PARAADDR_COUNT as usize],
            riscv_irqdest: 0,
        }
    }
}

/// SEC2-RTOS found no suspended GSP-RM to resume (model's own code, as the Booter ones).
pub const ERR_RTOS_NO_GSP_RM: u32 = 0xbad3_0001;
/// SEC2-RTOS: the GSP was not reset after the sequencer's HS step (its falcon core still holds
/// the HS ucode; every public driver resets the GSP in CORE_RESUME, docs/facts/ga102.md §9.5).
pub const ERR_RTOS_GSP_NOT_RESET: u32 = 0xbad3_0002;
/// SEC2-RTOS: the GSP's MAILBOX0/1 do not hold the LIBOS arguments' address.
pub const ERR_RTOS_MAILBOX: u32 = 0xbad3_0003;
/// SEC2-RTOS: the GSP is held in `ENGINE.RESET`, so its RISC-V core cannot run.
pub const ERR_RTOS_GSP_IN_RESET: u32 = 0xbad3_0004;

/// `RISCV_BCR_CTRL` as the firmware that starts GSP-RM leaves it (Booter, SEC2-RTOS): RISC-V
/// core selected, VALID. The value the CPU writes when it resets into RISC-V (docs/facts/ga102.md §5.4:
/// 0x111); real firmware's value is not public.
const BCR_RISCV_BOOT: u32 = BCR_CORE_SELECT_RISCV | BCR_BRFETCH | BCR_VALID;

/// One falcon engine.
pub struct Falcon {
    engine: Engine,
    w: Wiring,
    /// MAILBOX0/1 and RISC-V state: `w.gsp_port` on the GSP, a private one on SEC2.
    port: GspPort,
    core: Core,
    reset: ResetState,
    /// [`SCRUB_TIME`], shorter or longer in tests.
    scrub_time: Duration,
    bcr: u32,
    engine_mailbox: [u32; 4],
    queue_head: [u32; 8],
    /// GSP-RM, from the first GSP access after booter_load started it until the GSP's reset
    /// (kept across the resets of the CPU sequencer).
    rm: Option<gsprm::GspRm>,
    /// [`GspPort::generation`] of the booter_load that started `rm`.
    rm_gen: u64,
}

impl Falcon {
    /// The `engine` falcon at power-on: out of reset, scrubbed, halted, falcon core selected.
    pub fn new(engine: Engine, w: Wiring) -> Self {
        let port = match engine {
            Engine::Gsp => w.gsp_port.clone(),
            Engine::Sec2 => GspPort::new(),
        };
        Falcon {
            engine,
            w,
            port,
            core: Core::new(),
            reset: ResetState::Ready,
            scrub_time: SCRUB_TIME,
            bcr: BCR_INIT,
            engine_mailbox: [0; 4],
            queue_head: [0; 8],
            rm: None,
            rm_gen: 0,
        }
    }

    /// GSP-RM, if it runs (GSP only).
    pub fn gsp_rm(&self) -> Option<&gsprm::GspRm> {
        self.rm.as_ref()
    }

    /// Before each GSP register access: starts GSP-RM on the first access after booter_load
    /// started it, forgets it once the RISC-V core was reset, and lets a running GSP-RM retry
    /// replies a full status queue held back.
    fn rm_tick(&mut self) {
        if self.engine != Engine::Gsp {
            return;
        }
        if self.port.riscv_selected() && self.bcr & BCR_CORE_SELECT_RISCV == 0 {
            // Booter or SEC2-RTOS started GSP-RM on the RISC-V core: whatever core the CPU left
            // selected, the running core is the RISC-V one (model choice, README).
            self.bcr = BCR_RISCV_BOOT;
            self.note(format_args!(
                "core select RISC-V (set by the firmware that started GSP-RM)"
            ));
        }
        if !self.port.active() {
            // Suspended for the CPU sequencer (its state kept for the resume), or gone.
            if self.port.seq() == SeqPhase::Idle {
                self.rm = None;
            }
            return;
        }
        let generation = self.port.generation();
        if let Some(rm) = self.rm.as_mut().filter(|_| self.rm_gen == generation) {
            rm.poll();
        } else if let Some(boot) = self.port.boot() {
            // GSP-RM's own interrupt set-up: its message notification towards the host.
            self.core.irqmask |= IRQ_SWGEN0;
            self.core.irqdest |= IRQ_SWGEN0;
            let cfg = gsprm::Config {
                guest: self.w.guest.clone(),
                tracer: self.w.tracer.clone(),
                chip: self.w.chip,
                bars: self.w.bars.clone(),
                port: self.port.clone(),
                knobs: self.w.gsp_rm,
                stats: self.w.rpc_stats.clone(),
                hub: self.w.hub.clone(),
                fifo: self.w.fifo.clone(),
                app_version: self
                    .w
                    .firmware
                    .as_ref()
                    .map_or(0, |f| f.bootloader.desc.app_version),
            };
            self.rm_gen = generation;
            self.rm = Some(gsprm::GspRm::start(cfg, boot));
        }
        self.rm_notify();
    }

    /// GSP-RM posted messages: SWGEN0, and the host interrupt if it is unmasked.
    fn rm_notify(&mut self) {
        if self.rm.as_mut().is_some_and(|rm| rm.take_notify()) {
            self.core.irqstat |= IRQ_SWGEN0;
            if self.core.irqmask & IRQ_SWGEN0 != 0 {
                self.w.irq.assert();
            }
        }
    }

    /// Tests: scrubbing ends by wall time after `t` instead of [`SCRUB_TIME`] (so read-count
    /// tests do not depend on the machine being fast).
    #[cfg(test)]
    pub(crate) fn set_scrub_time(&mut self, t: Duration) {
        self.scrub_time = t;
    }

    /// Which engine this is.
    pub fn engine(&self) -> Engine {
        self.engine
    }

    /// Whether the CPU runs.
    pub fn running(&self) -> bool {
        self.core.running
    }

    /// IMEM contents.
    pub fn imem(&self) -> &Memory {
        &self.core.imem
    }

    /// DMEM contents.
    pub fn dmem(&self) -> &Memory {
        &self.core.dmem
    }

    /// GSP-RM's boot state if booter_load started it (GSP only; always None on SEC2).
    pub fn gsp_boot(&self) -> Option<GspBoot> {
        self.port.boot()
    }

    /// MAILBOX0 (i = 0) / MAILBOX1 (i = 1).
    pub fn mailbox(&self, i: usize) -> u32 {
        self.port.mailbox(i)
    }

    /// Back to INIT for the mailboxes and the RISC-V core (ENGINE.RESET, FLR).
    fn reset_port(&mut self) {
        if self.port.reset() {
            if self.port.seq() == SeqPhase::Idle {
                self.note(format_args!("GSP-RM stopped (RISC-V core reset)"));
            } else {
                self.note(format_args!(
                    "GSP-RM suspended for the CPU sequencer (RISC-V core reset; its state is kept for CORE_RESUME)"
                ));
            }
        }
    }

    fn note(&self, msg: std::fmt::Arguments<'_>) {
        let block = self.engine.block_name();
        if self.w.tracer.enabled(block) {
            self.w
                .tracer
                .line(block, format_args!("{} falcon: {msg}", self.engine.label()));
        }
    }

    /// Moves scrubbing to done once its time is up (no read counted).
    fn settle(&mut self) {
        if let ResetState::Scrubbing { since, .. } = self.reset {
            if since.elapsed() >= self.scrub_time {
                self.reset = ResetState::Ready;
                self.note(format_args!("scrubbing done"));
            }
        }
    }

    /// A read of a scrub-status register: whether scrubbing is still reported.
    fn poll_scrub(&mut self) -> bool {
        self.settle();
        match &mut self.reset {
            ResetState::Held => true,
            ResetState::Ready => false,
            ResetState::Scrubbing { reads, .. } if *reads >= SCRUB_BUSY_READS => {
                self.reset = ResetState::Ready;
                self.note(format_args!("scrubbing done"));
                false
            }
            ResetState::Scrubbing { reads, .. } => {
                *reads += 1;
                true
            }
        }
    }

    /// Whether memory writes land (not held in reset, not scrubbing).
    fn memory_writable(&mut self) -> bool {
        self.settle();
        self.reset == ResetState::Ready
    }

    fn engine_reset(&mut self, assert: bool) {
        match (assert, self.reset) {
            (true, ResetState::Held) | (false, ResetState::Ready) => {}
            (true, _) => {
                self.core = Core::new();
                self.reset = ResetState::Held;
                self.port.set_held(true);
                self.note(format_args!("reset"));
                if self.engine == Engine::Sec2 && self.w.gsp_port.seq() == SeqPhase::Sec2RtosLoaded
                {
                    // The reset wiped SEC2-RTOS with the rest of IMEM/DMEM.
                    self.w.gsp_port.set_seq(SeqPhase::Posted);
                    self.note(format_args!(
                        "SEC2-RTOS gone (reset before CORE_RESUME started it)"
                    ));
                }
                self.reset_port();
                if self.port.seq() == SeqPhase::Idle {
                    self.rm = None;
                }
            }
            (false, ResetState::Held) => {
                self.port.set_held(false);
                self.reset = ResetState::Scrubbing {
                    since: Instant::now(),
                    reads: 0,
                };
                self.note(format_args!("out of reset, scrubbing IMEM/DMEM"));
            }
            (false, ResetState::Scrubbing { .. }) => {}
        }
    }

    fn halt(&mut self, mailbox0: Option<u32>) {
        self.core.running = false;
        if let Some(v) = mailbox0 {
            self.port.set_mailbox(0, v);
        }
        self.core.irqstat |= IRQ_HALT;
        self.note(format_args!("halt mailbox0={:#x}", self.port.mailbox(0)));
    }

    fn start(&mut self) {
        self.settle();
        if self.reset != ResetState::Ready {
            self.note(format_args!(
                "STARTCPU ignored: engine in reset or scrubbing"
            ));
            return;
        }
        if self.core.running {
            self.note(format_args!("STARTCPU ignored: already running"));
            return;
        }
        self.note(format_args!("start at BOOTVEC {:#x}", self.core.bootvec));
        if self.w.knobs.hang {
            self.core.running = true;
            self.note(format_args!("running, never halts (--falcon-hang)"));
            return;
        }
        let loaded = self.core.imem.written() || self.core.dmem.written();
        if self.engine == Engine::Gsp
            && self.port.seq() == SeqPhase::Posted
            && !self.port.active()
            && self.bcr & BCR_CORE_SELECT_RISCV == 0
            && !self.core.dma_error
            && !loaded
        {
            // The CPU sequencer's HS step (docs/facts/ga102.md §9.5; Linux 7.3
            // `Documentation/gpu/nova/core/falcon.rst` L77-91: an HS ucode on the GSP loads
            // SEC2-RTOS onto SEC2). Its image and how it reaches the falcon are not public, so
            // the CORE_START after the sequencer's CORE_RESET stands for it; a real image the
            // CPU loaded (FWSEC-SB on the way out) runs as usual.
            self.note(format_args!(
                "CPU sequencer HS step (stand-in for the GSP-provided HS ucode): SEC2-RTOS loaded on SEC2"
            ));
            self.port.set_seq(SeqPhase::Sec2RtosLoaded);
            self.port.set_hs_on_gsp();
            self.halt(Some(0));
            return;
        }
        // SEC2-RTOS replaced whatever SEC2 held; a SEC2 reset since (a driver loading its own
        // image) wiped it again (see `engine_reset`).
        if self.engine == Engine::Sec2 && self.w.gsp_port.seq() == SeqPhase::Sec2RtosLoaded {
            self.run_sec2_rtos();
            return;
        }
        let c = &self.core;
        let verdict = brom::verify(
            &self.w.known,
            &brom::BootState {
                engine_bit: self.engine.engine_bit(),
                imem: &c.imem,
                dmem: &c.dmem,
                mod_sel: c.mod_sel,
                ucode_id: c.ucode_id,
                engidmask: c.engidmask,
                paraaddr0: c.paraaddr[0],
                bootvec: c.bootvec,
                riscv_selected: self.bcr & BCR_CORE_SELECT_RISCV != 0,
                dma_error: c.dma_error,
                fuses: &self.w.fuses,
            },
        );
        match verdict {
            Verdict::Empty => {
                self.note(format_args!("nothing loaded since reset"));
                self.halt(None);
            }
            Verdict::Reject(code, why) => {
                self.note(format_args!("boot ROM rejects the image: {why}"));
                self.halt(Some(code));
            }
            Verdict::Run(Ucode::FwsecProd) => {
                self.run_fwsec();
                self.halt(Some(0));
            }
            Verdict::Run(Ucode::FwsecDebug) => self.halt(Some(brom::ERR_DEBUG_SIGNED)),
            Verdict::Run(Ucode::BooterLoad) => {
                let code = self.run_booter_load();
                self.halt(Some(code));
            }
            Verdict::Run(Ucode::BooterUnload) => {
                let code = self.run_booter_unload();
                self.halt(Some(code));
            }
        }
    }

    /// SEC2 started with SEC2-RTOS loaded (the sequencer's HS step ran): SEC2-RTOS resumes the
    /// suspended GSP-RM (docs/facts/ga102.md §9.5 CORE_RESUME; OG 570.144 `kernel_gsp_ga102.c`
    /// `kgspExecuteSequencerCommand_GA102`: "Starting SEC2 to resume GSP-RM", then the CPU polls
    /// `NV_PGC6_BSI_SECURE_SCRATCH_14` BOOT_STAGE_3_HANDOFF and wants SEC2 MAILBOX0 = 0). It
    /// checks what CORE_RESUME must have done on the GSP: reset after the HS step (and released)
    /// with the LIBOS arguments in MAILBOX0/1; the core the CPU selected does not matter (facts
    /// §7.5: OpenRM and nouveau select RISC-V, nova-core 7.3 the falcon core). On success
    /// GSP-RM runs again on the RISC-V core, the handoff bit is set, SEC2 MAILBOX0 = 0 and
    /// SEC2-RTOS keeps running; on failure SEC2 halts with the code in
    /// MAILBOX0 and the handoff bit stays clear.
    fn run_sec2_rtos(&mut self) {
        let gp = self.w.gsp_port.clone();
        let args = (u64::from(gp.mailbox(1)) << 32) | u64::from(gp.mailbox(0));
        let problem = match gp.parked() {
            None => Some((
                ERR_RTOS_NO_GSP_RM,
                "no suspended GSP-RM to resume".to_string(),
            )),
            Some(_) if gp.held() => Some((
                ERR_RTOS_GSP_IN_RESET,
                "the GSP is held in ENGINE.RESET (CORE_RESUME releases it before starting SEC2)"
                    .to_string(),
            )),
            Some(_) if gp.hs_on_gsp() => Some((
                ERR_RTOS_GSP_NOT_RESET,
                "the GSP was not reset after the HS step (CORE_RESUME resets it first)".to_string(),
            )),
            Some(b) if b.libos_args != args => Some((
                ERR_RTOS_MAILBOX,
                format!(
                    "GSP MAILBOX1:MAILBOX0 = {args:#x}, not the LIBOS arguments {:#x}",
                    b.libos_args
                ),
            )),
            Some(_) => None,
        };
        if let Some((code, why)) = problem {
            self.note(format_args!("SEC2-RTOS cannot resume GSP-RM: {why}"));
            self.halt(Some(code));
            return;
        }
        self.core.running = true;
        if self.w.gsp_rm.seq_fault == gsprm::seq::SeqFault::NoHandoff && gp.generation() <= 1 {
            self.note(format_args!(
                "SEC2-RTOS running; GSP-RM not resumed, BOOT_STAGE_3_HANDOFF left clear (--seq-no-handoff)"
            ));
            return;
        }
        let core = if gp.riscv_selected() {
            "RISC-V"
        } else {
            "falcon"
        };
        gp.resume();
        gp.set_riscv_selected(true);
        gp.set_handoff(true);
        self.port.set_mailbox(0, 0);
        self.note(format_args!(
            "SEC2-RTOS resumed GSP-RM on the GSP RISC-V core (LIBOS args at {args:#x}); NV_PGC6_BSI_SECURE_SCRATCH_14 BOOT_STAGE_3_HANDOFF set, SEC2 MAILBOX0 = 0"
        ));
        self.note(format_args!(
            "SEC2-RTOS: the CPU left the GSP's {core} core selected; GSP-RM runs on RISC-V"
        ));
    }

    /// booter_load after the boot ROM accepted it: MAILBOX0 to halt with.
    fn run_booter_load(&mut self) -> u32 {
        self.note(format_args!("boot ROM accepted booter_load (heavy secure)"));
        if self.w.knobs.booter_fail {
            self.note(format_args!("booter_load fails (--booter-fail)"));
            return booter::ERR_BOOTER_INJECTED;
        }
        let Some(fw) = self.w.firmware.clone() else {
            return brom::ERR_UNKNOWN_IMAGE;
        };
        let meta_addr = u64::from(self.port.mailbox(1)) << 32 | u64::from(self.port.mailbox(0));
        let guest = self.w.guest.lock().unwrap_or_else(|e| e.into_inner());
        let r = booter::load(&booter::LoadEnv {
            fw: &fw,
            guest: &guest,
            meta_addr,
            wpr2: &self.w.wpr2,
            vram_size: self.w.vram_size,
            vga_workspace: self.w.vga_workspace,
        });
        drop(guest);
        match r {
            Ok(_) if self.w.gsp_port.held() => {
                self.note(format_args!(
                    "booter_load failed: the GSP is held in ENGINE.RESET, GSP-RM cannot start on it"
                ));
                booter::ERR_GSP_IN_RESET
            }
            Ok(l) => {
                let core = if self.w.gsp_port.riscv_selected() {
                    "RISC-V"
                } else {
                    "falcon"
                };
                let libos_args = u64::from(self.w.gsp_port.mailbox(1)) << 32
                    | u64::from(self.w.gsp_port.mailbox(0));
                self.note(format_args!(
                    "booter_load: GspFwWprMeta at {meta_addr:#x} ok; radix3: {} pages match .fwimage ({:.1} ms); bootloader and {} match; WPR2 [{:#x},{:#x})",
                    l.pages,
                    l.radix3_time.as_secs_f64() * 1e3,
                    fw.gsp.signature_section(),
                    l.wpr2.0,
                    l.wpr2.1
                ));
                self.note(format_args!(
                    "booter_load: GSP-RM started on the GSP RISC-V core, LIBOS args at {libos_args:#x}"
                ));
                self.note(format_args!(
                    "booter_load: the CPU left the GSP's {core} core selected; GSP-RM runs on RISC-V"
                ));
                self.w.gsp_port.set_riscv_selected(true);
                self.w.gsp_port.set_boot(GspBoot {
                    libos_args,
                    wpr_meta_addr: meta_addr,
                    meta: l.meta,
                    wpr2: l.wpr2,
                });
                0
            }
            Err(f) => {
                self.note(format_args!("booter_load failed: {}", f.why));
                f.code
            }
        }
    }

    /// booter_unload after the boot ROM accepted it: MAILBOX0 to halt with.
    fn run_booter_unload(&mut self) -> u32 {
        self.note(format_args!(
            "boot ROM accepted booter_unload (heavy secure)"
        ));
        match booter::unload([self.port.mailbox(0), self.port.mailbox(1)], &self.w.wpr2) {
            Ok(what) => {
                self.note(format_args!("{what}"));
                0
            }
            Err(f) => {
                self.note(format_args!("booter_unload failed: {}", f.why));
                f.code
            }
        }
    }

    fn run_fwsec(&mut self) {
        let Some(u) = self.w.known.fwsec() else {
            return;
        };
        self.note(format_args!("boot ROM accepted FWSEC (heavy secure)"));
        let outcome = fwsec::run(&fwsec::Env {
            dmem: &self.core.dmem,
            dmem_base: u.dmem_base,
            interface_offset: u.interface_offset,
            scratch: &self.w.scratch,
            wpr2: &self.w.wpr2,
            vram_size: self.w.vram_size,
            inject_failure: self.w.knobs.fwsec_fail,
        });
        match outcome {
            fwsec::Outcome::Frts { start, end } => {
                self.note(format_args!("FWSEC-FRTS ok, WPR2 [{start:#x},{end:#x})"))
            }
            fwsec::Outcome::Sb => self.note(format_args!("FWSEC-SB ok")),
            fwsec::Outcome::Failed {
                cmd,
                scratch,
                code,
                why,
            } => self.note(format_args!(
                "FWSEC command {cmd:#x} failed: {why}; SW_SCRATCH({scratch:#x}) = {:#010x} (code {code:#x})",
                self.w.scratch.read(scratch)
            )),
        }
    }

    fn dma_command(&mut self, val: u32) {
        if !self.memory_writable() {
            self.core.dma.cmd = val & DMATRFCMD_FIELDS;
            self.note(format_args!("DMA lost: memories are being scrubbed"));
            return;
        }
        let guest = self.w.guest.lock().unwrap_or_else(|e| e.into_inner());
        let c = &mut self.core;
        let r = c.dma.command(val, &mut c.imem, &mut c.dmem, &guest);
        drop(guest);
        if let Err(e) = r {
            self.core.dma_error = true;
            self.note(format_args!(
                "DMA error: {e} (guest {:#x}, {} offset {:#x})",
                self.core.dma.address(),
                if val & DMATRFCMD_IMEM != 0 {
                    "IMEM"
                } else {
                    "DMEM"
                },
                self.core.dma.moffs
            ));
            self.halt(Some(brom::ERR_DMA));
        }
    }

    fn read_reg(&mut self, reg: Reg) -> u32 {
        let c = &mut self.core;
        match reg {
            Reg::Plain(IRQSTAT) => {
                let stuck = self.w.knobs.irq_storm && self.engine == Engine::Gsp;
                c.irqstat | if stuck { IRQ_SWGEN0 } else { 0 }
            }
            Reg::Plain(IRQMASK) => c.irqmask,
            Reg::Plain(IRQDEST) => c.irqdest,
            Reg::Plain(MAILBOX0) => self.port.mailbox(0),
            Reg::Plain(MAILBOX1) => self.port.mailbox(1),
            Reg::Plain(OS) => c.os,
            Reg::Plain(RM) => c.rm,
            Reg::Plain(DEBUGINFO) => c.debuginfo,
            Reg::Plain(HWCFG2) => {
                let held = self.reset == ResetState::Held;
                let scrubbing = self.poll_scrub();
                HWCFG2_RISCV
                    | if scrubbing { HWCFG2_MEM_SCRUBBING } else { 0 }
                    | if held { 0 } else { HWCFG2_RESET_READY }
            }
            Reg::Plain(CPUCTL) => {
                (if c.running { 0 } else { CPUCTL_HALTED })
                    | if c.alias_en { CPUCTL_ALIAS_EN } else { 0 }
            }
            Reg::Plain(BOOTVEC) => c.bootvec,
            Reg::Plain(HWCFG) => HWCFG_VALUE,
            Reg::Plain(DMACTL) => {
                let ctx = if c.dma.require_ctx {
                    DMACTL_REQUIRE_CTX
                } else {
                    0
                };
                let scrubbing = self.poll_scrub();
                ctx | if scrubbing {
                    DMACTL_DMEM_SCRUBBING | DMACTL_IMEM_SCRUBBING
                } else {
                    0
                }
            }
            Reg::Plain(DMATRFBASE) => c.dma.base,
            Reg::Plain(DMATRFMOFFS) => c.dma.moffs,
            Reg::Plain(DMATRFCMD) => c.dma.read_cmd(),
            Reg::Plain(DMATRFFBOFFS) => c.dma.fboffs,
            Reg::Plain(DMATRFBASE1) => c.dma.base1,
            Reg::Plain(HWCFG1) => HWCFG1_VALUE,
            Reg::Plain(ENGINE) => u32::from(self.reset == ResetState::Held),
            Reg::Plain(FBIF_CTL) => c.dma.fbif_ctl,
            Reg::Plain(MOD_SEL) => c.mod_sel,
            Reg::Plain(BROM_CURR_UCODE_ID) => c.ucode_id,
            Reg::Plain(BROM_ENGIDMASK) => c.engidmask,
            Reg::Plain(RISCV_CPUCTL) => {
                if self.port.active() {
                    RISCV_CPUCTL_ACTIVE_STAT
                } else if c.running {
                    0
                } else {
                    RISCV_CPUCTL_HALTED
                }
            }
            Reg::Plain(RISCV_IRQMASK) => c.irqmask,
            Reg::Plain(RISCV_IRQDEST) => c.riscv_irqdest,
            Reg::Plain(RISCV_BCR_CTRL) => self.bcr,
            // IRQSCLR, IRQMSET, IRQMCLR and CPUCTL_ALIAS are write-only.
            Reg::Plain(_) => 0,
            Reg::Imemc(i) => c.imem_ports.get(i).map_or(0, |p| p.ctrl),
            Reg::Imemd(i) => c.imem_ports.get(i).map_or(0, |p| p.read(&c.imem)),
            Reg::Imemt(i) => c.imem_ports.get(i).map_or(0, |p| p.tag),
            Reg::Dmemc(i) => c.dmem_ports.get(i).map_or(0, |p| p.ctrl),
            Reg::Dmemd(i) => match c.dmem_ports.get_mut(i) {
                Some(p) => p.read(&c.dmem),
                None => 0,
            },
            Reg::IntrRetrigger(_) => 0,
            Reg::Transcfg(i) => c.dma.transcfg.get(i).copied().unwrap_or(0),
            Reg::Paraaddr(i) => c.paraaddr.get(i).copied().unwrap_or(0),
            Reg::EngineMailbox(i) => self.engine_mailbox.get(i).copied().unwrap_or(0),
            Reg::QueueHead(i) => self.queue_head.get(i).copied().unwrap_or(0),
        }
    }

    fn write_reg(&mut self, reg: Reg, val: u32) {
        if self.reset == ResetState::Held && reg != Reg::Plain(ENGINE) {
            self.note(format_args!("write ignored: engine held in reset"));
            return;
        }
        if reg == Reg::Plain(OS) && self.engine == Engine::Gsp {
            if let Some(rm) = &mut self.rm {
                let waited = rm.awaiting_sequencer();
                rm.os_written(val);
                if waited && !rm.awaiting_sequencer() {
                    // The resumed GSP-RM sets its interrupt up again (the reset cleared it).
                    self.core.irqmask |= IRQ_SWGEN0;
                    self.core.irqdest |= IRQ_SWGEN0;
                }
            }
        }
        let writable = self.memory_writable();
        let c = &mut self.core;
        match reg {
            Reg::Plain(IRQSCLR) => c.irqstat &= !val,
            Reg::Plain(IRQMSET) => {
                let unmasked = val & !c.irqmask;
                c.irqmask |= val;
                if self.engine == Engine::Gsp && unmasked & c.irqstat & IRQ_SWGEN0 != 0 {
                    self.w.irq.assert();
                }
            }
            Reg::Plain(IRQMCLR) => c.irqmask &= !val,
            Reg::Plain(IRQDEST) => c.irqdest = val,
            Reg::Plain(MAILBOX0) => self.port.set_mailbox(0, val),
            Reg::Plain(MAILBOX1) => self.port.set_mailbox(1, val),
            Reg::Plain(OS) => c.os = val,
            Reg::Plain(RM) => c.rm = val,
            Reg::Plain(DEBUGINFO) => c.debuginfo = val,
            Reg::Plain(CPUCTL) => {
                let was_alias = c.alias_en;
                c.alias_en = val & CPUCTL_ALIAS_EN != 0;
                if val & CPUCTL_STARTCPU != 0 {
                    if was_alias {
                        self.note(format_args!("CPUCTL.STARTCPU ignored: ALIAS_EN is set"));
                    } else {
                        self.start();
                    }
                }
            }
            Reg::Plain(CPUCTL_ALIAS) => {
                if val & CPUCTL_STARTCPU != 0 {
                    if c.alias_en {
                        self.start();
                    } else {
                        self.note(format_args!("CPUCTL_ALIAS.STARTCPU ignored: ALIAS_EN is 0"));
                    }
                }
            }
            Reg::Plain(BOOTVEC) => c.bootvec = val,
            Reg::Plain(DMACTL) => c.dma.require_ctx = val & DMACTL_REQUIRE_CTX != 0,
            Reg::Plain(DMATRFBASE) => c.dma.base = val,
            Reg::Plain(DMATRFMOFFS) => c.dma.moffs = val & 0x00ff_ffff,
            Reg::Plain(DMATRFCMD) => self.dma_command(val),
            Reg::Plain(DMATRFFBOFFS) => c.dma.fboffs = val,
            Reg::Plain(DMATRFBASE1) => c.dma.base1 = val & 0x1ff,
            Reg::Plain(ENGINE) => self.engine_reset(val & ENGINE_RESET != 0),
            Reg::Plain(FBIF_CTL) => c.dma.fbif_ctl = val,
            Reg::Plain(MOD_SEL) => c.mod_sel = val & MOD_SEL_ALGO,
            Reg::Plain(BROM_CURR_UCODE_ID) => c.ucode_id = val & UCODE_ID_VAL,
            Reg::Plain(BROM_ENGIDMASK) => c.engidmask = val,
            Reg::Plain(RISCV_IRQDEST) => c.riscv_irqdest = val,
            Reg::Plain(RISCV_BCR_CTRL) => {
                let new = (val & (BCR_CORE_SELECT_RISCV | BCR_BRFETCH)) | BCR_VALID;
                if (new ^ self.bcr) & BCR_CORE_SELECT_RISCV != 0 {
                    let core = if new & BCR_CORE_SELECT_RISCV != 0 {
                        "RISC-V"
                    } else {
                        "falcon"
                    };
                    self.note(format_args!("core select {core}"));
                }
                self.bcr = new;
                if self.engine == Engine::Gsp {
                    self.port
                        .set_riscv_selected(new & BCR_CORE_SELECT_RISCV != 0);
                }
            }
            // Read-only: IRQSTAT, IRQMASK, HWCFG, HWCFG1, HWCFG2, RISCV_CPUCTL, RISCV_IRQMASK.
            Reg::Plain(_) => {}
            Reg::Imemc(i) => {
                if let Some(p) = c.imem_ports.get_mut(i) {
                    p.ctrl = val;
                }
            }
            Reg::Imemd(i) => {
                if let Some(p) = c.imem_ports.get_mut(i) {
                    if writable {
                        p.write(&mut c.imem, val);
                    } else {
                        self.note(format_args!("IMEM write lost: scrubbing"));
                    }
                }
            }
            Reg::Imemt(i) => {
                if let Some(p) = c.imem_ports.get_mut(i) {
                    p.set_tag(val);
                }
            }
            Reg::Dmemc(i) => {
                if let Some(p) = c.dmem_ports.get_mut(i) {
                    p.ctrl = val;
                }
            }
            Reg::Dmemd(i) => {
                if let Some(p) = c.dmem_ports.get_mut(i) {
                    if writable {
                        p.write(&mut c.dmem, val);
                    } else {
                        self.note(format_args!("DMEM write lost: scrubbing"));
                    }
                }
            }
            Reg::IntrRetrigger(i) => {
                // TRIGGER 0:0 (OG 570.144 `ampere/ga102/dev_falcon_v4.h`): the engine sends its
                // interrupt to the CPU tree again if it is still pending (nouveau's GSP handler
                // ends with it, `r535_gsp_intr` → `ga100_flcn_intr_retrigger`). Only the GSP's
                // SWGEN0 reaches the host in this model; index 1 is not modelled.
                let stuck = self.w.knobs.irq_storm && self.engine == Engine::Gsp;
                let stat = self.core.irqstat | if stuck { IRQ_SWGEN0 } else { 0 };
                if i == 0
                    && val & 1 != 0
                    && self.engine == Engine::Gsp
                    && stat & self.core.irqmask & IRQ_SWGEN0 != 0
                {
                    self.w.irq.assert();
                }
            }
            Reg::Transcfg(i) => {
                if let Some(t) = c.dma.transcfg.get_mut(i) {
                    *t = val;
                }
            }
            Reg::Paraaddr(i) => {
                if let Some(p) = c.paraaddr.get_mut(i) {
                    *p = val;
                }
            }
            Reg::EngineMailbox(i) => {
                if let Some(m) = self.engine_mailbox.get_mut(i) {
                    *m = val;
                }
            }
            Reg::QueueHead(i) => {
                if let Some(q) = self.queue_head.get_mut(i) {
                    *q = val;
                }
                if i == 0 && self.engine == Engine::Gsp {
                    match &mut self.rm {
                        Some(rm) => rm.doorbell(),
                        None => self.note(format_args!(
                            "QUEUE_HEAD(0) doorbell: GSP-RM is not running"
                        )),
                    }
                }
            }
        }
    }

    fn decode(&self, off: u32) -> Option<Reg> {
        regs::decode(
            off.checked_sub(self.engine.base())?,
            self.engine == Engine::Gsp,
        )
    }
}

impl Block for Falcon {
    fn name(&self) -> &'static str {
        self.engine.block_name()
    }

    fn ranges(&self) -> &'static [(u32, u32)] {
        self.engine.ranges()
    }

    fn read32(&mut self, off: u32) -> u32 {
        self.rm_tick();
        self.decode(off).map_or(0, |r| self.read_reg(r))
    }

    fn write32(&mut self, off: u32, val: u32) {
        self.rm_tick();
        if let Some(r) = self.decode(off) {
            self.write_reg(r, val);
        }
        self.rm_notify();
    }

    fn reg_name(&self, off: u32) -> Option<&'static str> {
        self.decode(off)
            .map(|r| regs::name(r, self.engine == Engine::Gsp))
    }

    fn reset(&mut self) {
        self.core = Core::new();
        self.rm = None;
        if self.port.flr() {
            self.note(format_args!("GSP-RM stopped (FLR)"));
        }
        self.reset = ResetState::Ready;
        self.bcr = BCR_INIT;
        self.engine_mailbox = [0; 4];
        self.queue_head = [0; 8];
    }

    /// GSP: a running GSP-RM takes the MMU's fault notifications (an engine fault written to
    /// the non-replayable buffer while the CPU touched no GSP register) and may post
    /// `MMU_FAULT_QUEUED`, raising SWGEN0 as for its other messages.
    fn service(&mut self) {
        if self.engine != Engine::Gsp || !self.port.active() {
            return;
        }
        if let Some(rm) = &mut self.rm {
            rm.poll();
            self.rm_notify();
        }
    }
}
