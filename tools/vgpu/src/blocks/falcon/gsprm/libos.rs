// SPDX-License-Identifier: GPL-2.0
//! What GSP-RM reads when it starts (docs/facts/ga102.md §7.3, §8.1): the LIBOS argument array at the
//! address the driver left in the GSP mailboxes, the RMARGS region it names
//! (`GSP_ARGUMENTS_CACHED`), and in it `MESSAGE_QUEUE_INIT_ARGUMENTS`, which locate the shared
//! area through its PTE page. Every value comes from guest memory and is checked; the first
//! failure is returned as text for the trace.

use super::bytes::{get_u32, get_u64, get_u8};
use super::queue::{Area, Ring, TxHeader, ENTRY_OFF, FLAGS_SWAP_RX, PAGE, RX_HDR_OFF, TX_HDR_SIZE};
use crate::dma::GuestMemory;

/// The argument array: one 4 KiB page of 32-byte `LibosMemoryRegionInitArgument`s.
pub const ARGS_BYTES: usize = PAGE;
/// `LibosMemoryRegionInitArgument` size.
pub const REGION_SIZE: usize = 32;
/// id8 of the init/exception log.
pub const ID_LOGINIT: u64 = 0x004c_4f47_494e_4954;
/// id8 of the interrupt-context log.
pub const ID_LOGINTR: u64 = 0x004c_4f47_494e_5452;
/// id8 of the RM log.
pub const ID_LOGRM: u64 = 0x0000_004c_4f47_524d;
/// id8 of `GSP_ARGUMENTS_CACHED`.
pub const ID_RMARGS: u64 = 0x0000_524d_4152_4753;
/// kind CONTIGUOUS.
pub const KIND_CONTIGUOUS: u8 = 1;
/// loc SYSMEM.
pub const LOC_SYSMEM: u8 = 1;
/// `sizeof(GSP_ARGUMENTS_CACHED)` (OG:abi L139).
pub const ARGS_CACHED_SIZE: usize = 72;
/// Most PTEs one PTE page holds.
pub const MAX_PTES: u32 = (PAGE / 8) as u32;
/// Largest log buffer the model accepts (a bound on guest input; the drivers use 64 KiB).
pub const MAX_LOG_SIZE: u64 = 16 << 20;

/// One `LibosMemoryRegionInitArgument`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Region {
    /// id8.
    pub id8: u64,
    /// pa.
    pub pa: u64,
    /// size.
    pub size: u64,
    /// kind.
    pub kind: u8,
    /// loc.
    pub loc: u8,
}

/// What start-up found.
#[derive(Clone, Debug)]
pub struct BootArgs {
    /// The RMARGS region.
    pub rmargs: Region,
    /// LOGINIT, LOGINTR, LOGRM.
    pub logs: [Region; 3],
    /// `sharedMemPhysAddr`.
    pub shared: u64,
    /// The shared area through its PTEs.
    pub area: Area,
    /// The command queue (written by the CPU).
    pub cmdq: Ring,
    /// The status (message) queue (written by GSP-RM).
    pub msgq: Ring,
    /// `msgqTxHeader.size` of the message queue GSP-RM sets up.
    pub msgq_size: u32,
    /// The command queue's writePtr at start (commands queued before GSP-RM ran).
    pub cmdq_write_ptr: u32,
}

fn name(id: u64) -> &'static str {
    match id {
        ID_LOGINIT => "LOGINIT",
        ID_LOGINTR => "LOGINTR",
        ID_LOGRM => "LOGRM",
        ID_RMARGS => "RMARGS",
        _ => "?",
    }
}

/// Reads and checks everything GSP-RM needs at start, with the LIBOS arguments at `args`.
pub fn read(g: &GuestMemory, args: u64) -> Result<BootArgs, String> {
    let mut page = vec![0u8; ARGS_BYTES];
    g.read(args, &mut page)
        .map_err(|e| format!("LIBOS argument page at {args:#x} unreadable: {e}"))?;
    let regions: Vec<Region> = page
        .chunks_exact(REGION_SIZE)
        .map(|r| Region {
            id8: get_u64(r, 0).unwrap_or(0),
            pa: get_u64(r, 8).unwrap_or(0),
            size: get_u64(r, 16).unwrap_or(0),
            kind: get_u8(r, 24).unwrap_or(0),
            loc: get_u8(r, 25).unwrap_or(0),
        })
        .collect();
    let find = |id: u64| -> Result<Region, String> {
        let r = regions
            .iter()
            .copied()
            .find(|r| r.id8 == id)
            .ok_or_else(|| {
                format!(
                    "LIBOS arguments at {args:#x}: no {} region (id8 {id:#018x})",
                    name(id)
                )
            })?;
        if r.kind != KIND_CONTIGUOUS || r.loc != LOC_SYSMEM {
            return Err(format!(
                "LIBOS region {}: kind {} loc {}, expected CONTIGUOUS (1) in SYSMEM (1)",
                name(id),
                r.kind,
                r.loc
            ));
        }
        Ok(r)
    };

    // Log buffers: whole pages; u64 word 1 + i holds the address of page i (docs/facts/ga102.md §7.3).
    let mut logs = [Region::default(); 3];
    for (slot, id) in logs.iter_mut().zip([ID_LOGINIT, ID_LOGINTR, ID_LOGRM]) {
        let r = find(id)?;
        let pages = r.size / PAGE as u64;
        if r.size == 0
            || r.size > MAX_LOG_SIZE
            || !r.size.is_multiple_of(PAGE as u64)
            || !r.pa.is_multiple_of(PAGE as u64)
        {
            return Err(format!(
                "LIBOS region {}: pa {:#x} size {:#x}, expected whole 4 KiB pages, at most 16 MiB",
                name(id),
                r.pa,
                r.size
            ));
        }
        // Words 0..=pages must fit the buffer; a 1-page buffer holds 511 page entries.
        let words = (pages + 1) as usize;
        if words * 8 > r.size as usize {
            return Err(format!(
                "LIBOS region {}: too small for its page list",
                name(id)
            ));
        }
        let mut w = vec![0u8; words * 8];
        g.read(r.pa, &mut w)
            .map_err(|e| format!("LIBOS region {} unreadable: {e}", name(id)))?;
        for i in 0..pages {
            let got = get_u64(&w, 8 * (1 + i as usize)).unwrap_or(0);
            let want = r.pa + i * PAGE as u64;
            if got != want {
                return Err(format!(
                    "LIBOS region {}: page-list word {} = {got:#x}, expected {want:#x} (page {i} of the buffer)",
                    name(id),
                    1 + i
                ));
            }
        }
        *slot = r;
    }

    let rmargs = find(ID_RMARGS)?;
    if rmargs.size < ARGS_CACHED_SIZE as u64 {
        return Err(format!(
            "LIBOS region RMARGS: size {:#x} < sizeof(GSP_ARGUMENTS_CACHED) {ARGS_CACHED_SIZE:#x}",
            rmargs.size
        ));
    }
    let mut a = [0u8; ARGS_CACHED_SIZE];
    g.read(rmargs.pa, &mut a)
        .map_err(|e| format!("GSP_ARGUMENTS_CACHED at {:#x} unreadable: {e}", rmargs.pa))?;
    // srInitArguments: a cold boot (resume is not modelled); gpuInstance 0.
    let in_pm = get_u8(&a, 40).unwrap_or(0);
    if in_pm != 0 {
        return Err(format!(
            "GSP_ARGUMENTS_CACHED.srInitArguments.bInPMTransition = {in_pm} (oldLevel {:#x}): resume from suspend is not modelled",
            get_u32(&a, 32).unwrap_or(0)
        ));
    }
    let instance = get_u32(&a, 44).unwrap_or(0);
    if instance != 0 {
        return Err(format!(
            "GSP_ARGUMENTS_CACHED.gpuInstance = {instance}, expected 0"
        ));
    }

    // MESSAGE_QUEUE_INIT_ARGUMENTS at +0 (docs/facts/ga102.md §7.3).
    let shared = get_u64(&a, 0).unwrap_or(0);
    let ptes = get_u32(&a, 8).unwrap_or(0);
    let cmd_off = get_u64(&a, 16).unwrap_or(0);
    let stat_off = get_u64(&a, 24).unwrap_or(0);
    let mq = "MESSAGE_QUEUE_INIT_ARGUMENTS";
    if shared == 0 || !shared.is_multiple_of(PAGE as u64) {
        return Err(format!(
            "{mq}.sharedMemPhysAddr = {shared:#x}, not a 4 KiB-aligned address"
        ));
    }
    if !(3..=MAX_PTES).contains(&ptes) {
        return Err(format!(
            "{mq}.pageTableEntryCount = {ptes}, expected 3..={MAX_PTES} (one PTE page)"
        ));
    }
    let mut raw = vec![0u8; ptes as usize * 8];
    g.read(shared, &mut raw)
        .map_err(|e| format!("PTE page at {shared:#x} unreadable: {e}"))?;
    let pages: Vec<u64> = raw
        .chunks_exact(8)
        .map(|c| get_u64(c, 0).unwrap_or(0))
        .collect();
    let mut probe = vec![0u8; PAGE];
    for (i, &p) in pages.iter().enumerate() {
        if p == 0 || !p.is_multiple_of(PAGE as u64) {
            return Err(format!(
                "shared-area PTE {i} = {p:#x}, not a 4 KiB-aligned address"
            ));
        }
        g.read(p, &mut probe)
            .map_err(|e| format!("shared-area page {i} (PTE {p:#x}) unreadable: {e}"))?;
    }
    if pages[0] != shared {
        return Err(format!(
            "shared-area PTE 0 = {:#x}, expected the PTE page itself ({shared:#x}, docs/facts/ga102.md §8.1)",
            pages[0]
        ));
    }
    let area = Area::new(pages);
    let size = area.size();
    let page = PAGE as u64;
    if cmd_off < page || !cmd_off.is_multiple_of(page) {
        return Err(format!(
            "{mq}.cmdQueueOffset = {cmd_off:#x}, expected a 4 KiB multiple after the PTE page"
        ));
    }
    if !stat_off.is_multiple_of(page) || stat_off <= cmd_off || stat_off + 2 * page > size {
        return Err(format!(
            "{mq}.statQueueOffset = {stat_off:#x}, expected a 4 KiB multiple after cmdQueueOffset {cmd_off:#x} with room for a queue in the {size:#x}-byte area"
        ));
    }

    // The command queue header the CPU initialised (docs/facts/ga102.md §8.1 table).
    let mut h = [0u8; TX_HDR_SIZE];
    area.read(g, cmd_off, &mut h)?;
    let c = TxHeader::parse(&h).unwrap_or_default();
    let cq = "command queue msgqTxHeader";
    let expect = |what: &str, got: u32, want: u32| -> Result<(), String> {
        if got == want {
            Ok(())
        } else {
            Err(format!("{cq}.{what} = {got:#x}, expected {want:#x}"))
        }
    };
    expect("version", c.version, 0)?;
    expect("msgSize", c.msg_size, PAGE as u32)?;
    expect("entryOff", c.entry_off, ENTRY_OFF)?;
    expect("rxHdrOff", c.rx_hdr_off, RX_HDR_OFF)?;
    expect("flags", c.flags, FLAGS_SWAP_RX)?;
    let room = stat_off - cmd_off;
    if !c.size.is_multiple_of(PAGE as u32) || u64::from(c.size) > room || c.size < 2 * PAGE as u32 {
        return Err(format!(
            "{cq}.size = {:#x}, expected a 4 KiB multiple of at least 0x2000 that ends before the status queue ({room:#x} bytes)",
            c.size
        ));
    }
    expect("msgCount", c.msg_count, (c.size - ENTRY_OFF) / PAGE as u32)?;
    if c.write_ptr >= c.msg_count {
        return Err(format!(
            "{cq}.writePtr = {}, beyond msgCount {}",
            c.write_ptr, c.msg_count
        ));
    }
    let msgq_size = (size - stat_off) as u32;
    Ok(BootArgs {
        rmargs,
        logs,
        shared,
        cmdq: Ring {
            base: cmd_off,
            count: c.msg_count,
        },
        msgq: Ring {
            base: stat_off,
            count: (msgq_size - ENTRY_OFF) / PAGE as u32,
        },
        msgq_size,
        cmdq_write_ptr: c.write_ptr,
        area,
    })
}
