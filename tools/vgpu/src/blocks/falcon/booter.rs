// SPDX-License-Identifier: GPL-2.0
//! Booter on SEC2: what booter_load and booter_unload do once the boot ROM accepted them (facts
//! §5.5, §7.1, §7.2, §6.6-6.7, §7.4 steps 10-13 and unload step 4).
//!
//! What Booter does inside is not in the open sources (docs/facts/ga102.md §13 item 7); its contract is: the
//! CPU passes the bus address of `GspFwWprMeta` in SEC2 MAILBOX0 (low) / MAILBOX1 (high), Booter
//! verifies and copies what the meta describes into WPR2, starts GSP-RM on the GSP's RISC-V
//! core, and halts with MAILBOX0 = 0. The model verifies what a device can verify without
//! cryptography: that guest memory holds exactly the configured firmware, laid out as docs/facts/ga102.md §7
//! describe, and that the FB layout fits this chip and the WPR2 FWSEC carved. It does not copy
//! anything (VRAM contents are not modelled).
//!
//! ## booter_load, in order (first failure halts SEC2 with the code in MAILBOX0)
//! 1. `--booter-fail`: [`ERR_BOOTER_INJECTED`].
//! 2. Read the 256-byte `GspFwWprMeta` at `MAILBOX1 << 32 | MAILBOX0` by DMA
//!    ([`ERR_META_UNREADABLE`]).
//! 3. Field checks, each failing with [`ERR_META_FIELD`] + the field's byte offset in
//!    `GspFwWprMeta` (docs/facts/ga102.md §7.1), e.g. 0xBAD1_1000 magic, 0xBAD1_1098 frtsOffset:
//!    magic, revision 1; `sizeOfRadix3Elf` = `.fwimage` size; `sizeOfBootloader` = the
//!    bootloader payload size; `bootloaderCodeOffset`/`DataOffset`/`ManifestOffset` = the
//!    descriptor's monitorCodeOffset/monitorDataOffset/manifestOffset (docs/facts/ga102.md §6.5);
//!    `sizeOfSignature` = the signature section's size.
//! 4. WPR2 must be set (`WPR2_ADDR_HI` != 0): [`ERR_WPR2_NOT_SET`].
//! 5. The FB layout of docs/facts/ga102.md §7.2 for this chip's VRAM size and `NV_PDISP_VGA_WORKSPACE_BASE`,
//!    from the top down, each field failing with [`ERR_META_FIELD`] + offset: fbSize, VGA
//!    workspace offset/size, frtsSize (1 MiB), frtsOffset, bootBinOffset, gspFwOffset,
//!    gspFwHeapSize (in [88 MiB, 280 MiB), docs/facts/ga102.md §7.2 LIBOS3 clamp, and the heap's aligned
//!    extent), gspFwHeapOffset, gspFwWprStart, gspFwWprEnd, nonWprHeapSize (1 MiB),
//!    nonWprHeapOffset, gspFwRsvdStart.
//! 6. WPR2 must be `[frtsOffset, frtsOffset + frtsSize)`, as FWSEC-FRTS carved it from the
//!    same rule: [`ERR_WPR2_MISMATCH`].
//! 7. The bootloader copy at `sysmemAddrOfBootloader` equals the payload of
//!    `bootloader-570.144.bin` ([`ERR_BOOTLOADER_MISMATCH`]), the signature copy at
//!    `sysmemAddrOfSignature` equals `.fwsignature_ga10x` ([`ERR_SIGNATURE_MISMATCH`]).
//! 8. The radix3 table at `sysmemAddrOfRadix3Elf` (docs/facts/ga102.md §6.7) is walked through guest memory
//!    as hardware would: level 0 entry 0 → the level-1 page; level-1 entry j → level-2 page j;
//!    level-2 entry k of page j → firmware page 512·j + k; every page read where the entry
//!    points. Table pages that are not 4 KiB aligned or not in guest memory:
//!    [`ERR_RADIX3_TABLE`]. Firmware page N that is misaligned, unreadable or differs from
//!    `.fwimage` page N: [`ERR_RADIX3_PAGE`] | N (N < 0x10000 for every image whose size
//!    passed step 3: 570.144 has 15,513 pages).
//!
//! On success GSP-RM counts as booted: the GSP's [`GspPort`] records a [`GspBoot`] (the checked
//! meta, its address, WPR2, and the LIBOS-argument address from the GSP MAILBOX0/1 the driver
//! wrote in §7.4 step 9), the GSP's `RISCV_CPUCTL` reads ACTIVE_STAT = 1 (step 13), and SEC2
//! halts with MAILBOX0 = 0. Nothing else changes: WPR2 stays as FWSEC left it, VRAM is not
//! written, no RPC runs.
//!
//! ## booter_unload (docs/facts/ga102.md §7.4 unload step 4)
//! MAILBOX0 = MAILBOX1 = 0xFF: WPR2 is cleared (both registers 0), MAILBOX0 = 0. Other mailbox
//! values: [`ERR_UNLOAD_ARGS`], WPR2 untouched. WPR2 already clear is not an error.
//!
//! All codes are the model's own (docs/facts/ga102.md §13 item 7: Booter's are not known).

use crate::blocks::fb::Wpr2Handle;
use crate::dma::{DmaFault, GuestMemory};
use crate::firmware::GspFirmware;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// `--booter-fail`: booter_load halts with this and does nothing.
pub const ERR_BOOTER_INJECTED: u32 = 0xbad1_00ff;
/// The `GspFwWprMeta` address in MAILBOX0/1 is not readable guest memory.
pub const ERR_META_UNREADABLE: u32 = 0xbad1_0001;
/// A radix3 table page (level 0, 1 or 2) is misaligned or not in guest memory.
pub const ERR_RADIX3_TABLE: u32 = 0xbad1_0002;
/// The bootloader copy differs from the file or is not readable.
pub const ERR_BOOTLOADER_MISMATCH: u32 = 0xbad1_0003;
/// The signature copy differs from the ELF section or is not readable.
pub const ERR_SIGNATURE_MISMATCH: u32 = 0xbad1_0004;
/// WPR2 is not set (FWSEC-FRTS did not run).
pub const ERR_WPR2_NOT_SET: u32 = 0xbad1_0005;
/// WPR2 is not `[frtsOffset, frtsOffset + frtsSize)`.
pub const ERR_WPR2_MISMATCH: u32 = 0xbad1_0006;
/// booter_load was asked to start GSP-RM while the GSP is held in `ENGINE.RESET` (no driver
/// ordering does this; a core held in reset cannot run; the code is the model's own).
pub const ERR_GSP_IN_RESET: u32 = 0xbad1_0007;
/// booter_unload: MAILBOX0/MAILBOX1 are not both 0xFF.
pub const ERR_UNLOAD_ARGS: u32 = 0xbad1_0010;
/// A `GspFwWprMeta` field is wrong: this + the field's byte offset (0x00-0xF8).
pub const ERR_META_FIELD: u32 = 0xbad1_1000;
/// Radix3 firmware page N is wrong: this | N.
pub const ERR_RADIX3_PAGE: u32 = 0xbad2_0000;

/// `GSP_FW_WPR_META_MAGIC` (docs/facts/ga102.md §7.1).
pub const WPR_META_MAGIC: u64 = 0xdc3a_ae21_371a_60b3;
/// `GSP_FW_WPR_META_REVISION`.
pub const WPR_META_REVISION: u64 = 1;
/// `sizeof(GspFwWprMeta)`.
pub const WPR_META_SIZE: usize = 256;
/// Radix3 page size (docs/facts/ga102.md §6.7).
pub const RADIX3_PAGE: u64 = 4096;
/// Entries per radix3 table page.
const RADIX3_ENTRIES: u64 = RADIX3_PAGE / 8;

const MIB: u64 = 1 << 20;
const KIB: u64 = 1 << 10;
/// FRTS size on GA102 (docs/facts/ga102.md §7.1, §7.2).
pub const FRTS_REGION_SIZE: u64 = MIB;
/// Non-WPR heap size on GA102 (docs/facts/ga102.md §7.1).
pub const NON_WPR_HEAP_REGION_SIZE: u64 = MIB;
/// WPR heap size range for LIBOS3 (docs/facts/ga102.md §7.2): [88 MiB, 280 MiB).
pub const WPR_HEAP_RANGE: std::ops::Range<u64> = 88 * MIB..280 * MIB;

/// Byte offsets of the `GspFwWprMeta` fields (docs/facts/ga102.md §7.1).
pub mod meta {
    /// magic.
    pub const MAGIC: usize = 0;
    /// revision.
    pub const REVISION: usize = 8;
    /// sysmemAddrOfRadix3Elf.
    pub const RADIX3_ADDR: usize = 16;
    /// sizeOfRadix3Elf.
    pub const RADIX3_SIZE: usize = 24;
    /// sysmemAddrOfBootloader.
    pub const BOOTLOADER_ADDR: usize = 32;
    /// sizeOfBootloader.
    pub const BOOTLOADER_SIZE: usize = 40;
    /// bootloaderCodeOffset.
    pub const BOOTLOADER_CODE_OFFSET: usize = 48;
    /// bootloaderDataOffset.
    pub const BOOTLOADER_DATA_OFFSET: usize = 56;
    /// bootloaderManifestOffset.
    pub const BOOTLOADER_MANIFEST_OFFSET: usize = 64;
    /// sysmemAddrOfSignature.
    pub const SIGNATURE_ADDR: usize = 72;
    /// sizeOfSignature.
    pub const SIGNATURE_SIZE: usize = 80;
    /// gspFwRsvdStart.
    pub const RSVD_START: usize = 88;
    /// nonWprHeapOffset.
    pub const NON_WPR_HEAP_OFFSET: usize = 96;
    /// nonWprHeapSize.
    pub const NON_WPR_HEAP_SIZE: usize = 104;
    /// gspFwWprStart.
    pub const WPR_START: usize = 112;
    /// gspFwHeapOffset.
    pub const HEAP_OFFSET: usize = 120;
    /// gspFwHeapSize.
    pub const HEAP_SIZE: usize = 128;
    /// gspFwOffset.
    pub const FW_OFFSET: usize = 136;
    /// bootBinOffset.
    pub const BOOT_BIN_OFFSET: usize = 144;
    /// frtsOffset.
    pub const FRTS_OFFSET: usize = 152;
    /// frtsSize.
    pub const FRTS_SIZE: usize = 160;
    /// gspFwWprEnd.
    pub const WPR_END: usize = 168;
    /// fbSize.
    pub const FB_SIZE: usize = 176;
    /// vgaWorkspaceOffset.
    pub const VGA_OFFSET: usize = 184;
    /// vgaWorkspaceSize.
    pub const VGA_SIZE: usize = 192;
    /// bootCount.
    pub const BOOT_COUNT: usize = 200;
    /// gspFwHeapVfPartitionCount (u8).
    pub const VF_PARTITION_COUNT: usize = 240;
    /// flags (u8).
    pub const FLAGS: usize = 241;
    /// pmuReservedSize (u32).
    pub const PMU_RESERVED_SIZE: usize = 244;
    /// verified.
    pub const VERIFIED: usize = 248;
}

/// `GspFwWprMeta` as read from guest memory (the fields of docs/facts/ga102.md §7.1 that a cold boot uses).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WprMeta {
    /// magic.
    pub magic: u64,
    /// revision.
    pub revision: u64,
    /// sysmemAddrOfRadix3Elf.
    pub radix3_addr: u64,
    /// sizeOfRadix3Elf.
    pub radix3_size: u64,
    /// sysmemAddrOfBootloader.
    pub bootloader_addr: u64,
    /// sizeOfBootloader.
    pub bootloader_size: u64,
    /// bootloaderCodeOffset.
    pub bootloader_code_offset: u64,
    /// bootloaderDataOffset.
    pub bootloader_data_offset: u64,
    /// bootloaderManifestOffset.
    pub bootloader_manifest_offset: u64,
    /// sysmemAddrOfSignature.
    pub signature_addr: u64,
    /// sizeOfSignature.
    pub signature_size: u64,
    /// gspFwRsvdStart.
    pub rsvd_start: u64,
    /// nonWprHeapOffset.
    pub non_wpr_heap_offset: u64,
    /// nonWprHeapSize.
    pub non_wpr_heap_size: u64,
    /// gspFwWprStart.
    pub wpr_start: u64,
    /// gspFwHeapOffset.
    pub heap_offset: u64,
    /// gspFwHeapSize.
    pub heap_size: u64,
    /// gspFwOffset.
    pub fw_offset: u64,
    /// bootBinOffset.
    pub boot_bin_offset: u64,
    /// frtsOffset.
    pub frts_offset: u64,
    /// frtsSize.
    pub frts_size: u64,
    /// gspFwWprEnd.
    pub wpr_end: u64,
    /// fbSize.
    pub fb_size: u64,
    /// vgaWorkspaceOffset.
    pub vga_offset: u64,
    /// vgaWorkspaceSize.
    pub vga_size: u64,
    /// bootCount.
    pub boot_count: u64,
    /// gspFwHeapVfPartitionCount.
    pub vf_partition_count: u8,
    /// flags.
    pub flags: u8,
    /// pmuReservedSize.
    pub pmu_reserved_size: u32,
    /// verified.
    pub verified: u64,
}

impl WprMeta {
    /// Decodes the 256 bytes of a `GspFwWprMeta`.
    pub fn parse(b: &[u8; WPR_META_SIZE]) -> Self {
        let q = |o: usize| {
            let mut a = [0u8; 8];
            a.copy_from_slice(&b[o..o + 8]);
            u64::from_le_bytes(a)
        };
        use meta::*;
        WprMeta {
            magic: q(MAGIC),
            revision: q(REVISION),
            radix3_addr: q(RADIX3_ADDR),
            radix3_size: q(RADIX3_SIZE),
            bootloader_addr: q(BOOTLOADER_ADDR),
            bootloader_size: q(BOOTLOADER_SIZE),
            bootloader_code_offset: q(BOOTLOADER_CODE_OFFSET),
            bootloader_data_offset: q(BOOTLOADER_DATA_OFFSET),
            bootloader_manifest_offset: q(BOOTLOADER_MANIFEST_OFFSET),
            signature_addr: q(SIGNATURE_ADDR),
            signature_size: q(SIGNATURE_SIZE),
            rsvd_start: q(RSVD_START),
            non_wpr_heap_offset: q(NON_WPR_HEAP_OFFSET),
            non_wpr_heap_size: q(NON_WPR_HEAP_SIZE),
            wpr_start: q(WPR_START),
            heap_offset: q(HEAP_OFFSET),
            heap_size: q(HEAP_SIZE),
            fw_offset: q(FW_OFFSET),
            boot_bin_offset: q(BOOT_BIN_OFFSET),
            frts_offset: q(FRTS_OFFSET),
            frts_size: q(FRTS_SIZE),
            wpr_end: q(WPR_END),
            fb_size: q(FB_SIZE),
            vga_offset: q(VGA_OFFSET),
            vga_size: q(VGA_SIZE),
            boot_count: q(BOOT_COUNT),
            vf_partition_count: b[VF_PARTITION_COUNT],
            flags: b[FLAGS],
            pmu_reserved_size: u32::from_le_bytes([
                b[PMU_RESERVED_SIZE],
                b[PMU_RESERVED_SIZE + 1],
                b[PMU_RESERVED_SIZE + 2],
                b[PMU_RESERVED_SIZE + 3],
            ]),
            verified: q(VERIFIED),
        }
    }
}

/// What booter_load leaves behind: GSP-RM booted on the GSP's RISC-V core. The state a model of
/// GSP-RM (message queues, RPC) starts from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GspBoot {
    /// Bus address of the LIBOS init-argument page: GSP `MAILBOX1 << 32 | MAILBOX0` as the
    /// driver wrote them before Booter ran (docs/facts/ga102.md §7.3, §7.4 step 9).
    pub libos_args: u64,
    /// Bus address of the `GspFwWprMeta` Booter was given.
    pub wpr_meta_addr: u64,
    /// The meta, as checked.
    pub meta: WprMeta,
    /// WPR2 `[start, end)` at boot.
    pub wpr2: (u64, u64),
}

/// Where the CPU sequencer of a cold boot stands (docs/facts/ga102.md §7.4 step 15, §9.5): GSP-RM asked for
/// it, the GSP's HS step loaded SEC2-RTOS, SEC2-RTOS resumed GSP-RM.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SeqPhase {
    /// No sequencer outstanding.
    #[default]
    Idle,
    /// GSP-RM posted `GSP_RUN_CPU_SEQUENCER` and waits for the CPU to run it; a reset of the
    /// GSP's RISC-V core now suspends GSP-RM instead of ending it.
    Posted,
    /// The HS step on the GSP falcon ran: SEC2-RTOS is loaded on SEC2, which resumes GSP-RM
    /// when the CPU starts it (CORE_RESUME).
    Sec2RtosLoaded,
    /// SEC2-RTOS resumed GSP-RM on the RISC-V core; GSP-RM carries on once the CPU wrote the
    /// GSP's OS register.
    Resumed,
}

/// `NV_PGC6_BSI_SECURE_SCRATCH_14_BOOT_STAGE_3_HANDOFF` (bit 26; OG 570.144
/// `ampere/ga102/dev_gc6_island_addendum.h` L36-38): SEC2-RTOS finished resuming GSP-RM.
pub const BSI14_HANDOFF: u32 = 1 << 26;

#[derive(Default)]
struct PortState {
    mailbox: [u32; 2],
    boot: Option<GspBoot>,
    /// Bumped by every booter_load that starts GSP-RM afresh.
    generation: u64,
    seq: SeqPhase,
    /// GSP-RM's boot while its RISC-V core is reset for the sequencer (its state stays in WPR2).
    parked: Option<GspBoot>,
    /// `NV_PGC6_BSI_SECURE_SCRATCH_14` (GC6 always-on island, BAR0 0x1180F8).
    bsi14: u32,
    /// The GSP's `RISCV_BCR_CTRL.CORE_SELECT` is the RISC-V core.
    riscv_selected: bool,
    /// The GSP's `ENGINE.RESET` is asserted (held in reset).
    held: bool,
    /// The sequencer's HS step ran on the GSP falcon and the GSP was not reset since.
    hs_on_gsp: bool,
}

/// A falcon's registers that other engines' firmware reaches: MAILBOX0/1 and the RISC-V core
/// state, the CPU sequencer's progress and the BSI scratch register SEC2-RTOS reports in. The
/// GSP falcon keeps its mailboxes here; Booter on SEC2 reads them and records [`GspBoot`].
/// Cloning shares the state.
#[derive(Clone, Default)]
pub struct GspPort(Arc<Mutex<PortState>>);

impl GspPort {
    /// A port with mailboxes 0 and nothing booted.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, PortState> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// MAILBOX0 (i = 0) or MAILBOX1 (i = 1); 0 for other i.
    pub fn mailbox(&self, i: usize) -> u32 {
        self.lock().mailbox.get(i).copied().unwrap_or(0)
    }

    /// Writes MAILBOX0/1.
    pub fn set_mailbox(&self, i: usize, v: u32) {
        if let Some(m) = self.lock().mailbox.get_mut(i) {
            *m = v;
        }
    }

    /// GSP-RM's boot state, if Booter started it (or SEC2-RTOS resumed it).
    pub fn boot(&self) -> Option<GspBoot> {
        self.lock().boot.clone()
    }

    /// Whether the RISC-V core runs GSP-RM (`RISCV_CPUCTL.ACTIVE_STAT`).
    pub fn active(&self) -> bool {
        self.lock().boot.is_some()
    }

    /// Records a GSP-RM booter_load started afresh: a new generation, no sequencer outstanding.
    pub fn set_boot(&self, b: GspBoot) {
        let mut s = self.lock();
        s.boot = Some(b);
        s.generation += 1;
        s.seq = SeqPhase::Idle;
        s.parked = None;
    }

    /// Which booter_load started the running GSP-RM (see [`GspPort::set_boot`]).
    pub fn generation(&self) -> u64 {
        self.lock().generation
    }

    /// ENGINE.RESET: mailboxes 0, RISC-V core stopped. While a sequencer is outstanding GSP-RM
    /// is only suspended ([`GspPort::parked`]). Returns whether GSP-RM was running.
    pub fn reset(&self) -> bool {
        let mut s = self.lock();
        s.mailbox = [0; 2];
        s.hs_on_gsp = false;
        let b = s.boot.take();
        if s.seq != SeqPhase::Idle && s.parked.is_none() {
            s.parked = b.clone();
        }
        b.is_some()
    }

    /// FLR: everything back to power-on except the always-on BSI scratch register.
    pub fn flr(&self) -> bool {
        let mut s = self.lock();
        let was = s.boot.is_some();
        let (generation, bsi14) = (s.generation, s.bsi14);
        *s = PortState {
            generation,
            bsi14,
            ..Default::default()
        };
        was
    }

    /// Where the sequencer stands.
    pub fn seq(&self) -> SeqPhase {
        self.lock().seq
    }

    /// Moves the sequencer on.
    pub fn set_seq(&self, p: SeqPhase) {
        self.lock().seq = p;
    }

    /// GSP-RM suspended for the sequencer, if any.
    pub fn parked(&self) -> Option<GspBoot> {
        self.lock().parked.clone()
    }

    /// SEC2-RTOS resumes the suspended GSP-RM on the RISC-V core (same generation).
    pub fn resume(&self) -> bool {
        let mut s = self.lock();
        match s.parked.take() {
            Some(b) => {
                s.boot = Some(b);
                s.seq = SeqPhase::Resumed;
                true
            }
            None => false,
        }
    }

    /// `NV_PGC6_BSI_SECURE_SCRATCH_14`.
    pub fn bsi14(&self) -> u32 {
        self.lock().bsi14
    }

    /// Sets or clears `BOOT_STAGE_3_HANDOFF` ([`BSI14_HANDOFF`]).
    pub fn set_handoff(&self, done: bool) {
        let mut s = self.lock();
        if done {
            s.bsi14 |= BSI14_HANDOFF;
        } else {
            s.bsi14 &= !BSI14_HANDOFF;
        }
    }

    /// Whether the GSP's boot core is its RISC-V core.
    pub fn riscv_selected(&self) -> bool {
        self.lock().riscv_selected
    }

    /// The GSP falcon's `RISCV_BCR_CTRL.CORE_SELECT` changed (the CPU wrote it, or the firmware
    /// that started GSP-RM selected the RISC-V core).
    pub fn set_riscv_selected(&self, riscv: bool) {
        self.lock().riscv_selected = riscv;
    }

    /// Whether the GSP is held in `ENGINE.RESET`.
    pub fn held(&self) -> bool {
        self.lock().held
    }

    /// The GSP's `ENGINE.RESET` was asserted (true) or released (false).
    pub fn set_held(&self, held: bool) {
        self.lock().held = held;
    }

    /// Whether the sequencer's HS step ran on the GSP falcon and the GSP was not reset since.
    pub fn hs_on_gsp(&self) -> bool {
        self.lock().hs_on_gsp
    }

    /// The sequencer's HS step ran on the GSP falcon.
    pub fn set_hs_on_gsp(&self) {
        self.lock().hs_on_gsp = true;
    }
}

/// Why booter_load failed: MAILBOX0 and a trace text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// MAILBOX0.
    pub code: u32,
    /// Detail for the trace.
    pub why: String,
}

fn fail<T>(code: u32, why: impl Into<String>) -> Result<T, Failure> {
    Err(Failure {
        code,
        why: why.into(),
    })
}

fn field<T>(off: usize, name: &str, got: u64, want: u64) -> Result<T, Failure> {
    fail(
        ERR_META_FIELD + off as u32,
        format!("GspFwWprMeta.{name} (+{off:#x}) = {got:#x}, expected {want:#x}"),
    )
}

fn expect(off: usize, name: &str, got: u64, want: u64) -> Result<(), Failure> {
    if got == want {
        Ok(())
    } else {
        field(off, name, got, want)
    }
}

/// What booter_load reaches.
pub struct LoadEnv<'a> {
    /// The configured firmware files.
    pub fw: &'a GspFirmware,
    /// Guest memory.
    pub guest: &'a GuestMemory,
    /// Bus address of `GspFwWprMeta` (SEC2 MAILBOX1:MAILBOX0).
    pub meta_addr: u64,
    /// WPR2.
    pub wpr2: &'a Wpr2Handle,
    /// Usable VRAM in bytes (`NV_USABLE_FB_SIZE_IN_MB` × 1 MiB).
    pub vram_size: u64,
    /// `NV_PDISP_VGA_WORKSPACE_BASE` as the CPU reads it.
    pub vga_workspace: u32,
}

/// What a successful booter_load checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Loaded {
    /// The meta.
    pub meta: WprMeta,
    /// WPR2 `[start, end)`.
    pub wpr2: (u64, u64),
    /// Firmware pages compared through the radix3 table.
    pub pages: u64,
    /// Time the radix3 walk and comparison took.
    pub radix3_time: Duration,
}

/// The FB layout of docs/facts/ga102.md §7.2, computed from the top of VRAM downward.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FbLayout {
    /// VGA workspace start (its end is the top of usable VRAM).
    pub vga_start: u64,
    /// FRTS start (1 MiB region).
    pub frts_start: u64,
    /// FRTS end = WPR2 end.
    pub frts_end: u64,
    /// Bootloader copy in FB.
    pub boot_start: u64,
    /// `.fwimage` copy in FB.
    pub elf_start: u64,
}

fn align_down(v: u64, a: u64) -> u64 {
    v & !(a - 1)
}

/// The VGA workspace base per docs/facts/ga102.md §7.2 (display present on GA102): from the register if
/// STATUS_VALID, replaced by `fb_end - 128 KiB` if it lies below `fb_end - 1 MiB`; `fb_end -
/// 1 MiB` if not valid.
pub fn vga_workspace_base(fb_end: u64, reg: u32) -> u64 {
    let last_mib = fb_end.saturating_sub(MIB);
    if reg & (1 << 3) == 0 {
        return last_mib;
    }
    let base = u64::from(reg >> 8) << 16;
    if base < last_mib {
        fb_end.saturating_sub(128 * KIB)
    } else {
        base
    }
}

/// The fixed part of the layout (VGA, FRTS, boot, ELF) for a bootloader of `boot_size` bytes and
/// an ELF of `elf_size` bytes; None if it does not fit below `fb_end`.
pub fn fb_layout(fb_end: u64, vga_reg: u32, boot_size: u64, elf_size: u64) -> Option<FbLayout> {
    let vga_start = vga_workspace_base(fb_end, vga_reg);
    let frts_end = align_down(vga_start, 128 * KIB);
    let frts_start = frts_end.checked_sub(FRTS_REGION_SIZE)?;
    let boot_start = align_down(frts_start.checked_sub(boot_size)?, 4 * KIB);
    let elf_start = align_down(boot_start.checked_sub(elf_size)?, 64 * KIB);
    Some(FbLayout {
        vga_start,
        frts_start,
        frts_end,
        boot_start,
        elf_start,
    })
}

/// Reads `len` guest bytes at `addr` in chunks of at most 4 KiB and compares them with
/// `want`: Ok(None) if equal, Ok(Some(offset)) at the first differing chunk.
fn compare_guest(g: &GuestMemory, addr: u64, want: &[u8]) -> Result<Option<usize>, DmaFault> {
    let mut buf = [0u8; RADIX3_PAGE as usize];
    for (i, chunk) in want.chunks(RADIX3_PAGE as usize).enumerate() {
        let off = i * RADIX3_PAGE as usize;
        let at = addr.checked_add(off as u64).ok_or(DmaFault {
            addr,
            len: want.len(),
        })?;
        let b = &mut buf[..chunk.len()];
        g.read(at, b)?;
        if b != chunk {
            let first = b.iter().zip(chunk).position(|(x, y)| x != y).unwrap_or(0);
            return Ok(Some(off + first));
        }
    }
    Ok(None)
}

fn read_u64s(g: &GuestMemory, addr: u64, out: &mut [u64]) -> Result<(), DmaFault> {
    let mut bytes = vec![0u8; out.len() * 8];
    g.read(addr, &mut bytes)?;
    for (o, c) in out.iter_mut().zip(bytes.chunks_exact(8)) {
        let mut a = [0u8; 8];
        a.copy_from_slice(c);
        *o = u64::from_le_bytes(a);
    }
    Ok(())
}

/// Walks the radix3 table at `level0` (docs/facts/ga102.md §6.7) and compares every firmware page with
/// `image`. Returns the number of pages compared.
pub fn check_radix3(g: &GuestMemory, level0: u64, image: &[u8]) -> Result<u64, Failure> {
    let pages = (image.len() as u64).div_ceil(RADIX3_PAGE);
    let l2_pages = pages.div_ceil(RADIX3_ENTRIES);
    if l2_pages > RADIX3_ENTRIES {
        return fail(
            ERR_RADIX3_TABLE,
            "image larger than a radix3 table maps (1 GiB)",
        );
    }
    let table = |what: &str, addr: u64| -> Result<(), Failure> {
        if !addr.is_multiple_of(RADIX3_PAGE) {
            return fail(
                ERR_RADIX3_TABLE,
                format!("radix3 {what} page at {addr:#x} is not 4 KiB aligned"),
            );
        }
        Ok(())
    };
    let unreadable = |what: &str, e: DmaFault| Failure {
        code: ERR_RADIX3_TABLE,
        why: format!("radix3 {what} page unreadable: {e}"),
    };
    table("level-0", level0)?;
    let mut l1 = [0u64; 1];
    read_u64s(g, level0, &mut l1).map_err(|e| unreadable("level-0", e))?;
    table("level-1", l1[0])?;
    let mut l2 = vec![0u64; l2_pages as usize];
    read_u64s(g, l1[0], &mut l2).map_err(|e| unreadable("level-1", e))?;
    let mut entries = vec![0u64; RADIX3_ENTRIES as usize];
    let mut buf = vec![0u8; RADIX3_PAGE as usize];
    for (j, &l2_addr) in l2.iter().enumerate() {
        table(&format!("level-2 #{j}"), l2_addr)?;
        let first = j as u64 * RADIX3_ENTRIES;
        let n = (pages - first).min(RADIX3_ENTRIES) as usize;
        read_u64s(g, l2_addr, &mut entries[..n])
            .map_err(|e| unreadable(&format!("level-2 #{j}"), e))?;
        for (k, &addr) in entries[..n].iter().enumerate() {
            let page = first + k as u64;
            let start = (page * RADIX3_PAGE) as usize;
            let want = &image[start..image.len().min(start + RADIX3_PAGE as usize)];
            let code = ERR_RADIX3_PAGE | page.min(0xffff) as u32;
            if !addr.is_multiple_of(RADIX3_PAGE) {
                return fail(
                    code,
                    format!("radix3 entry for page {page} = {addr:#x}, not 4 KiB aligned"),
                );
            }
            let b = &mut buf[..want.len()];
            if let Err(e) = g.read(addr, b) {
                return fail(code, format!("radix3 page {page} unreadable: {e}"));
            }
            if b != want {
                let at = b.iter().zip(want).position(|(x, y)| x != y).unwrap_or(0);
                return fail(
                    code,
                    format!(
                        "radix3 mismatch at page {page} (guest {addr:#x}): .fwimage byte {:#x} \
                         is {:#04x}, guest has {:#04x}",
                        start + at,
                        want[at],
                        b[at]
                    ),
                );
            }
        }
    }
    Ok(pages)
}

/// The field and layout checks (steps 3-6 of the module documentation).
fn check_meta(e: &LoadEnv<'_>, m: &WprMeta) -> Result<(u64, u64), Failure> {
    use meta::*;
    let fw = e.fw;
    let elf_size = fw.gsp.fwimage().len() as u64;
    let boot_size = fw.bootloader.payload.len() as u64;
    let d = fw.bootloader.desc;
    expect(MAGIC, "magic", m.magic, WPR_META_MAGIC)?;
    expect(REVISION, "revision", m.revision, WPR_META_REVISION)?;
    expect(RADIX3_SIZE, "sizeOfRadix3Elf", m.radix3_size, elf_size)?;
    expect(
        BOOTLOADER_SIZE,
        "sizeOfBootloader",
        m.bootloader_size,
        boot_size,
    )?;
    expect(
        BOOTLOADER_CODE_OFFSET,
        "bootloaderCodeOffset",
        m.bootloader_code_offset,
        d.monitor_code_offset.into(),
    )?;
    expect(
        BOOTLOADER_DATA_OFFSET,
        "bootloaderDataOffset",
        m.bootloader_data_offset,
        d.monitor_data_offset.into(),
    )?;
    expect(
        BOOTLOADER_MANIFEST_OFFSET,
        "bootloaderManifestOffset",
        m.bootloader_manifest_offset,
        d.manifest_offset.into(),
    )?;
    expect(
        SIGNATURE_SIZE,
        "sizeOfSignature",
        m.signature_size,
        fw.gsp.signature().len() as u64,
    )?;

    let (lo, hi) = e.wpr2.raw();
    if hi == 0 {
        return fail(
            ERR_WPR2_NOT_SET,
            format!("WPR2 not set (LO {lo:#x} HI {hi:#x}): FWSEC-FRTS has not run"),
        );
    }
    let wpr2 = (u64::from(lo >> 4) << 12, u64::from(hi >> 4) << 12);

    let fb_end = e.vram_size;
    let Some(l) = fb_layout(fb_end, e.vga_workspace, boot_size, elf_size) else {
        return fail(
            ERR_META_FIELD + FB_SIZE as u32,
            format!("the firmware does not fit below {fb_end:#x}"),
        );
    };
    expect(FB_SIZE, "fbSize", m.fb_size, fb_end)?;
    expect(VGA_OFFSET, "vgaWorkspaceOffset", m.vga_offset, l.vga_start)?;
    expect(
        VGA_SIZE,
        "vgaWorkspaceSize",
        m.vga_size,
        fb_end - l.vga_start,
    )?;
    expect(FRTS_SIZE, "frtsSize", m.frts_size, FRTS_REGION_SIZE)?;
    expect(FRTS_OFFSET, "frtsOffset", m.frts_offset, l.frts_start)?;
    expect(
        BOOT_BIN_OFFSET,
        "bootBinOffset",
        m.boot_bin_offset,
        l.boot_start,
    )?;
    expect(FW_OFFSET, "gspFwOffset", m.fw_offset, l.elf_start)?;
    if !WPR_HEAP_RANGE.contains(&m.heap_size) {
        return fail(
            ERR_META_FIELD + HEAP_SIZE as u32,
            format!(
                "GspFwWprMeta.gspFwHeapSize (+{HEAP_SIZE:#x}) = {:#x}, outside [{:#x}, {:#x})",
                m.heap_size, WPR_HEAP_RANGE.start, WPR_HEAP_RANGE.end
            ),
        );
    }
    // heap = [align_down(elf - size, 1 MiB), align_down(elf, 1 MiB)).
    let heap_end = align_down(l.elf_start, MIB);
    let Some(heap_start) = l
        .elf_start
        .checked_sub(m.heap_size)
        .map(|s| align_down(s, MIB))
    else {
        return field(HEAP_SIZE, "gspFwHeapSize", m.heap_size, heap_end);
    };
    expect(
        HEAP_SIZE,
        "gspFwHeapSize",
        m.heap_size,
        heap_end - heap_start,
    )?;
    expect(HEAP_OFFSET, "gspFwHeapOffset", m.heap_offset, heap_start)?;
    let Some(wpr_start) = heap_start
        .checked_sub(WPR_META_SIZE as u64)
        .map(|s| align_down(s, MIB))
    else {
        return field(WPR_START, "gspFwWprStart", m.wpr_start, 0);
    };
    expect(WPR_START, "gspFwWprStart", m.wpr_start, wpr_start)?;
    expect(WPR_END, "gspFwWprEnd", m.wpr_end, l.frts_end)?;
    expect(
        NON_WPR_HEAP_SIZE,
        "nonWprHeapSize",
        m.non_wpr_heap_size,
        NON_WPR_HEAP_REGION_SIZE,
    )?;
    let Some(non_wpr) = wpr_start.checked_sub(NON_WPR_HEAP_REGION_SIZE) else {
        return field(
            NON_WPR_HEAP_OFFSET,
            "nonWprHeapOffset",
            m.non_wpr_heap_offset,
            0,
        );
    };
    expect(
        NON_WPR_HEAP_OFFSET,
        "nonWprHeapOffset",
        m.non_wpr_heap_offset,
        non_wpr,
    )?;
    expect(RSVD_START, "gspFwRsvdStart", m.rsvd_start, non_wpr)?;

    if wpr2 != (m.frts_offset, m.frts_offset + m.frts_size) {
        return fail(
            ERR_WPR2_MISMATCH,
            format!(
                "WPR2 [{:#x},{:#x}) is not the FRTS region [{:#x},{:#x})",
                wpr2.0,
                wpr2.1,
                m.frts_offset,
                m.frts_offset + m.frts_size
            ),
        );
    }
    Ok(wpr2)
}

/// Runs booter_load's checks (module documentation, steps 2-8).
pub fn load(e: &LoadEnv<'_>) -> Result<Loaded, Failure> {
    let mut raw = [0u8; WPR_META_SIZE];
    if let Err(err) = e.guest.read(e.meta_addr, &mut raw) {
        return fail(
            ERR_META_UNREADABLE,
            format!("GspFwWprMeta at {:#x} unreadable: {err}", e.meta_addr),
        );
    }
    let m = WprMeta::parse(&raw);
    let wpr2 = check_meta(e, &m)?;

    let bl = &e.fw.bootloader.payload;
    match compare_guest(e.guest, m.bootloader_addr, bl) {
        Ok(None) => {}
        Ok(Some(at)) => {
            return fail(
                ERR_BOOTLOADER_MISMATCH,
                format!(
                    "bootloader copy at {:#x} differs from the file at byte {at:#x}",
                    m.bootloader_addr
                ),
            )
        }
        Err(err) => {
            return fail(
                ERR_BOOTLOADER_MISMATCH,
                format!("bootloader copy unreadable: {err}"),
            )
        }
    }
    let sig = e.fw.gsp.signature();
    let section = e.fw.gsp.signature_section();
    match compare_guest(e.guest, m.signature_addr, sig) {
        Ok(None) => {}
        Ok(Some(at)) => {
            return fail(
                ERR_SIGNATURE_MISMATCH,
                format!(
                    "signature copy at {:#x} differs from {section} at byte {at:#x}",
                    m.signature_addr
                ),
            )
        }
        Err(err) => {
            return fail(
                ERR_SIGNATURE_MISMATCH,
                format!("signature copy unreadable: {err}"),
            )
        }
    }

    let t = Instant::now();
    let pages = check_radix3(e.guest, m.radix3_addr, e.fw.gsp.fwimage())?;
    Ok(Loaded {
        meta: m,
        wpr2,
        pages,
        radix3_time: t.elapsed(),
    })
}

/// booter_unload (module documentation): returns the trace text, or the failure.
pub fn unload(mailbox: [u32; 2], wpr2: &Wpr2Handle) -> Result<String, Failure> {
    if mailbox != [0xff, 0xff] {
        return fail(
            ERR_UNLOAD_ARGS,
            format!(
                "MAILBOX0/1 = {:#x}/{:#x}, expected 0xff/0xff",
                mailbox[0], mailbox[1]
            ),
        );
    }
    let (lo, hi) = wpr2.raw();
    wpr2.clear();
    Ok(if hi == 0 {
        "booter_unload: WPR2 was not set".to_string()
    } else {
        format!(
            "booter_unload: WPR2 [{:#x},{:#x}) cleared",
            u64::from(lo >> 4) << 12,
            u64::from(hi >> 4) << 12
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dma::memfd;

    #[test]
    fn fb_layout_for_a_24_gib_ga102() {
        // VGA workspace in the last MiB (the disp block's value).
        let vram = 24u64 << 30;
        let reg = (((vram - MIB) >> 16) << 8) as u32 | 8;
        let l = fb_layout(vram, reg, 0x6000, 0x3c99000).unwrap();
        assert_eq!(l.vga_start, 0x5_fff0_0000);
        assert_eq!((l.frts_start, l.frts_end), (0x5_ffe0_0000, 0x5_fff0_0000));
        assert_eq!(l.boot_start, 0x5_ffdf_a000);
        assert_eq!(l.elf_start, 0x5_fc16_0000);
        // The other two branches of the VGA rule.
        assert_eq!(vga_workspace_base(vram, 0), vram - MIB);
        assert_eq!(vga_workspace_base(vram, 8), vram - 128 * KIB);
        // Too small a frame buffer: None, not a panic.
        assert_eq!(fb_layout(0x10_0000, 0, 0x6000, 0x3c99000), None);
        assert_eq!(fb_layout(0, 0xffff_ffff, u64::MAX, u64::MAX), None);
    }

    #[test]
    fn radix3_walk_finds_the_first_wrong_page() {
        const GPA: u64 = 0x1000_0000;
        let ram = memfd(c"radix3-test", 1 << 22).unwrap();
        let mut g = GuestMemory::new();
        g.map(GPA, 1 << 22, &ram, 0).unwrap();
        // 600 pages (two level-2 pages), stored in reverse order after the tables.
        let image: Vec<u8> = (0..600 * 4096u32).map(|i| (i / 4096 + i) as u8).collect();
        let (l0, l1, l2) = (GPA, GPA + 0x1000, GPA + 0x2000);
        let data = GPA + 0x4000;
        let page_at = |p: u64| data + (599 - p) * 4096;
        g.write(l0, &l1.to_le_bytes()).unwrap();
        g.write(l1, &l2.to_le_bytes()).unwrap();
        g.write(l1 + 8, &(l2 + 0x1000).to_le_bytes()).unwrap();
        for p in 0..600u64 {
            g.write(l2 + 8 * p, &page_at(p).to_le_bytes()).unwrap();
            let s = (p * 4096) as usize;
            g.write(page_at(p), &image[s..s + 4096]).unwrap();
        }
        assert_eq!(check_radix3(&g, l0, &image), Ok(600));
        // A partial last page compares only its bytes.
        assert_eq!(check_radix3(&g, l0, &image[..599 * 4096 + 10]), Ok(600));
        // Page 513 (in the second level-2 page) points at page 514's data.
        g.write(l2 + 8 * 513, &page_at(514).to_le_bytes()).unwrap();
        assert_eq!(
            check_radix3(&g, l0, &image).unwrap_err().code,
            ERR_RADIX3_PAGE | 513
        );
        g.write(l2 + 8 * 513, &(page_at(513) + 8).to_le_bytes())
            .unwrap();
        assert_eq!(
            check_radix3(&g, l0, &image).unwrap_err().code,
            ERR_RADIX3_PAGE | 513
        );
        g.write(l2 + 8 * 513, &u64::MAX.to_le_bytes()).unwrap();
        assert_eq!(
            check_radix3(&g, l0, &image).unwrap_err().code,
            ERR_RADIX3_PAGE | 513,
            "unmapped"
        );
        g.write(l2 + 8 * 513, &page_at(513).to_le_bytes()).unwrap();
        // Table pages: misaligned, unmapped.
        assert_eq!(
            check_radix3(&g, l0 + 8, &image).unwrap_err().code,
            ERR_RADIX3_TABLE
        );
        g.write(l1 + 8, &0xdead_0000u64.to_le_bytes()).unwrap();
        assert_eq!(
            check_radix3(&g, l0, &image).unwrap_err().code,
            ERR_RADIX3_TABLE
        );
        assert_eq!(
            check_radix3(&g, 0, &image).unwrap_err().code,
            ERR_RADIX3_TABLE
        );
    }

    #[test]
    fn unload_needs_0xff_in_both_mailboxes() {
        let fb = crate::blocks::fb::Fb::new();
        let h = fb.wpr2_handle();
        h.set(0x5_ffe0_0000, 0x5_fff0_0000);
        assert_eq!(unload([0xff, 0], &h).unwrap_err().code, ERR_UNLOAD_ARGS);
        assert_ne!(h.raw().1, 0);
        assert!(unload([0xff, 0xff], &h).unwrap().contains("cleared"));
        assert_eq!(h.raw(), (0, 0));
        assert!(unload([0xff, 0xff], &h).unwrap().contains("not set"));
    }
}
