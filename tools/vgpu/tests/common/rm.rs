// SPDX-License-Identifier: GPL-2.0
//! The test-side GSP-RM client: the CPU half of docs/facts/ga102.md §7.3 (LIBOS arguments, RMARGS), §8 (the
//! shared area, the command queue, elements, checksums, the receive side) and §9 (RPC headers,
//! payloads), written from the fact sheet — not from the device's model.

use super::boot::*;
use super::*;
use std::fs::File;
use std::io::Read;
use std::os::fd::FromRawFd;
use vfio_bindings::bindings::vfio::{
    VFIO_IRQ_SET_ACTION_TRIGGER, VFIO_IRQ_SET_DATA_EVENTFD, VFIO_PCI_CONFIG_REGION_INDEX,
    VFIO_PCI_MSIX_IRQ_INDEX,
};
use vgpu::server::Options;

// Guest memory the test driver uses (inside BIG_RAM, below the firmware image at +16 MiB).
/// LOGINIT, LOGINTR, LOGRM: 64 KiB each.
pub const LOG_GPA: u64 = RAM_GPA + 0x50_0000;
pub const LOG_SIZE: u64 = 0x10000;
/// RMARGS: one page holding `GSP_ARGUMENTS_CACHED`.
pub const RMARGS_GPA: u64 = RAM_GPA + 0x53_0000;
/// The shared area: PTE page, command queue, status queue (docs/facts/ga102.md §8.1).
pub const SHARED_GPA: u64 = RAM_GPA + 0x60_0000;
pub const PTE_COUNT: u32 = 129;
pub const CMDQ: u64 = 0x1000;
pub const MSGQ: u64 = 0x41000;
pub const QUEUE_SIZE: u32 = 0x40000;
pub const ENTRIES: u32 = 63;
pub const ENTRY: usize = 0x1000;
/// Largest RPC payload in one element: 0x10000 − 0x30 − 0x20 (docs/facts/ga102.md §8.2).
pub const MAX_PAYLOAD: usize = 0x10000 - 0x30 - 0x20;

/// Where the test "guest" places the BARs.
pub const BAR0_GPA: u64 = 0xf200_0000;
pub const BAR1_GPA: u64 = 0x38_0000_0000;
pub const BAR3_GPA: u64 = 0x38_1000_0000;

/// `NV_PGSP_QUEUE_HEAD(0)`: the doorbell (docs/facts/ga102.md §7.4).
pub const QUEUE_HEAD0: u32 = 0xc00;
/// CPU interrupt tree (docs/facts/ga102.md §2.3): `CPU_INTR_LEAF(i)` and enables, `TOP` and enables.
pub const LEAF: u32 = 0xb8_1000;
pub const LEAF_EN_SET: u32 = 0xb8_1200;
pub const LEAF_EN_CLEAR: u32 = 0xb8_1400;
pub const TOP: u32 = 0xb8_1600;
pub const TOP_EN_SET: u32 = 0xb8_1608;
pub const TOP_EN_CLEAR: u32 = 0xb8_1610;
/// The GSP's vector 155: leaf 4, bit 27; subtree 2 = MSI-X vector 2.
pub const GSP_LEAF_BIT: u32 = 1 << 27;
pub const GSP_MSIX: u32 = 2;
/// NV2080_CTRL_CMD_INTERNAL_INTR_GET_KERNEL_TABLE and its parameter size.
pub const INTR_GET_KERNEL_TABLE: u32 = 0x2080_0a5c;
pub const KERNEL_TABLE_SIZE: usize = 2068;

// Functions and events (docs/facts/ga102.md §9.2).
pub const NOP: u32 = 0;
pub const FREE: u32 = 10;
pub const UNLOADING_GUEST_DRIVER: u32 = 47;
pub const GET_GSP_STATIC_INFO: u32 = 65;
pub const CONTINUATION_RECORD: u32 = 71;
pub const GSP_SET_SYSTEM_INFO: u32 = 72;
pub const SET_REGISTRY: u32 = 73;
pub const GSP_RM_CONTROL: u32 = 76;
pub const GSP_RM_ALLOC: u32 = 103;
pub const INVALIDATE_TLB: u32 = 200;
pub const GSP_INIT_DONE: u32 = 0x1001;
pub const GSP_RUN_CPU_SEQUENCER: u32 = 0x1002;

// Results (docs/facts/ga102.md §9.1) and NV_STATUS codes (OG nvstatuscodes.h).
pub const RPC_UNKNOWN_FUNCTION: u32 = 0xff10_0001;
pub const RPC_INVALID_MESSAGE_FORMAT: u32 = 0xff10_0002;
pub const NV_ERR_INSERT_DUPLICATE_NAME: u32 = 0x19;
pub const NV_ERR_INVALID_ARGUMENT: u32 = 0x1f;
pub const NV_ERR_INVALID_CLASS: u32 = 0x22;
pub const NV_ERR_INVALID_CLIENT: u32 = 0x23;
pub const NV_ERR_INVALID_OBJECT_HANDLE: u32 = 0x33;
pub const NV_ERR_INVALID_OBJECT_PARENT: u32 = 0x36;
pub const NV_ERR_INVALID_PARAM_STRUCT: u32 = 0x3a;
pub const NV_ERR_INVALID_STATE: u32 = 0x40;
pub const NV_ERR_NOT_SUPPORTED: u32 = 0x56;

/// The queue checksum, byte-wise (docs/facts/ga102.md §8.3: byte k rotated left by 8·(k mod 8), XORed,
/// folded high ^ low).
pub fn checksum(b: &[u8]) -> u32 {
    let mut x = 0u64;
    for (k, &byte) in b.iter().enumerate() {
        x ^= u64::from(byte) << (8 * (k % 8));
    }
    ((x >> 32) ^ x) as u32
}

pub fn le32(b: &[u8], o: usize) -> u32 {
    u32::from_le_bytes(b[o..o + 4].try_into().unwrap())
}

pub fn le64(b: &[u8], o: usize) -> u64 {
    u64::from_le_bytes(b[o..o + 8].try_into().unwrap())
}

pub fn set32(b: &mut [u8], o: usize, v: u32) {
    b[o..o + 4].copy_from_slice(&v.to_le_bytes());
}

pub fn set64(b: &mut [u8], o: usize, v: u64) {
    b[o..o + 8].copy_from_slice(&v.to_le_bytes());
}

/// A payload of little-endian u32s.
pub fn words(v: &[u32]) -> Vec<u8> {
    u32s(v)
}

/// What the CPU gets wrong in an element it sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flaw {
    None,
    /// checkSum off by one bit.
    BadChecksum,
    /// seqNum one too high.
    BadSeq,
    /// signature "VRPX".
    BadSignature,
}

/// A message from the status queue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Msg {
    pub function: u32,
    pub result: u32,
    pub sequence: u32,
    pub payload: Vec<u8>,
    /// The element's elemCount and seqNum, and the entry it started at.
    pub elem_count: u32,
    pub seq: u32,
    pub entry: u32,
}

/// A status-queue element as found, unchecked.
#[derive(Clone, Debug)]
pub struct Raw {
    pub elem_count: u32,
    pub seq: u32,
    /// The checksum over 0x30 + rpc.length (0 when intact).
    pub sum: u32,
    pub function: u32,
    pub length: u32,
}

/// The CPU's queue state.
#[derive(Default)]
pub struct Rm {
    /// cmdq.tx.writePtr (entries).
    pub wp: u32,
    /// Next command seqNum.
    pub tx_seq: u32,
    /// cmdq.rx.readPtr: our position in the status queue.
    pub rp: u32,
    /// Next expected message seqNum.
    pub rx_seq: u32,
    /// rpc_message_header.sequence of the next command.
    pub sequence: u32,
}

impl Gpu {
    /// The shared area is contiguous here: area offset `off` is at SHARED_GPA + off.
    pub fn area_write(&self, off: u64, b: &[u8]) {
        self.ram.write(SHARED_GPA + off, b).unwrap();
    }

    pub fn area_read(&self, off: u64, len: usize) -> Vec<u8> {
        let mut b = vec![0u8; len];
        self.ram.read(SHARED_GPA + off, &mut b).unwrap();
        b
    }

    pub fn area32(&self, off: u64) -> u32 {
        le32(&self.area_read(off, 4), 0)
    }

    pub fn cfg_write(&mut self, off: u64, v: u32) {
        self.dev
            .region_write(VFIO_PCI_CONFIG_REGION_INDEX, off, &v.to_le_bytes())
            .unwrap();
    }

    pub fn cfg_read(&mut self, off: u64) -> u32 {
        let mut b = [0u8; 4];
        self.dev
            .region_read(VFIO_PCI_CONFIG_REGION_INDEX, off, &mut b)
            .unwrap();
        u32::from_le_bytes(b)
    }

    /// The guest's PCI core sizing and placing BAR0, BAR1 and BAR3.
    pub fn program_bars(&mut self) {
        for (lo, hi, addr) in [
            (0x10, None, BAR0_GPA),
            (0x14, Some(0x18), BAR1_GPA),
            (0x1c, Some(0x20), BAR3_GPA),
        ] {
            self.cfg_write(lo, 0xffff_ffff);
            self.cfg_write(lo, addr as u32);
            if let Some(h) = hi {
                self.cfg_write(h, (addr >> 32) as u32);
            }
        }
        self.cfg_write(4, 0x0006);
    }

    /// MSI-X on, vector 2 (the GSP's subtree, OD `ampere_interrupt_map.csv`) wired to an
    /// eventfd; returns it. The CPU interrupt tree still needs [`Gpu::enable_gsp_intr`].
    pub fn enable_msix(&mut self) -> File {
        // SAFETY: eventfd(2) with valid flags; the result is checked.
        let fd = unsafe { libc::eventfd(0, libc::EFD_NONBLOCK) };
        assert!(fd >= 0);
        // SAFETY: a fresh descriptor nothing else owns.
        let f = unsafe { File::from_raw_fd(fd) };
        self.dev
            .set_irqs(
                VFIO_PCI_MSIX_IRQ_INDEX,
                VFIO_IRQ_SET_ACTION_TRIGGER | VFIO_IRQ_SET_DATA_EVENTFD,
                GSP_MSIX,
                1,
                vec![f.try_clone().unwrap()],
            )
            .unwrap();
        let msix = vgpu::pci::cap::MSIX as u64;
        let ctl = self.cfg_read(msix) | 0x8000_0000;
        self.cfg_write(msix, ctl);
        f
    }

    /// Opens the CPU interrupt tree for the GSP's vector 155 (docs/facts/ga102.md §2.3, README "Receiving
    /// the GSP interrupt"): `LEAF_EN_SET(4)` bit 27, then `TOP_EN_SET(0)` bit 2.
    pub fn enable_gsp_intr(&mut self) {
        self.wr(LEAF_EN_SET + 4 * 4, GSP_LEAF_BIT);
        self.wr(TOP_EN_SET, 1 << 2);
    }

    /// Acknowledges the GSP interrupt: falcon `IRQSCLR.SWGEN0`, then the leaf bit (W1C).
    pub fn ack_gsp_intr(&mut self) {
        self.wr(GSP + IRQSCLR, 0x40);
        self.wr(LEAF + 4 * 4, GSP_LEAF_BIT);
    }

    /// §7.3/§8.1: LIBOS arguments, log buffers, RMARGS, the PTE page and the command queue
    /// header, as the CPU prepares them before booter_load.
    pub fn setup_rm_args(&mut self) {
        let mut args = vec![0u8; 4096];
        let ids = [
            0x004c_4f47_494e_4954u64, // LOGINIT
            0x004c_4f47_494e_5452,    // LOGINTR
            0x0000_004c_4f47_524d,    // LOGRM
            0x0000_524d_4152_4753,    // RMARGS
        ];
        for (i, id) in ids.into_iter().enumerate() {
            let (pa, size) = if i < 3 {
                (LOG_GPA + i as u64 * LOG_SIZE, LOG_SIZE)
            } else {
                (RMARGS_GPA, 4096)
            };
            let e = 32 * i;
            set64(&mut args, e, id);
            set64(&mut args, e + 8, pa);
            set64(&mut args, e + 16, size);
            args[e + 24] = 1; // CONTIGUOUS
            args[e + 25] = 1; // SYSMEM
            if i < 3 {
                // Log buffer: put pointer 0, then the address of each of its pages.
                let mut w = vec![0u8; 8 * (1 + 16)];
                for p in 0..16u64 {
                    set64(&mut w, 8 * (1 + p as usize), pa + p * 4096);
                }
                self.ram.write(pa, &w).unwrap();
            }
        }
        self.ram.write(LIBOS_GPA, &args).unwrap();

        // GSP_ARGUMENTS_CACHED with MESSAGE_QUEUE_INIT_ARGUMENTS (docs/facts/ga102.md §7.3).
        let mut a = vec![0u8; 4096];
        set64(&mut a, 0, SHARED_GPA);
        set32(&mut a, 8, PTE_COUNT);
        set64(&mut a, 16, CMDQ);
        set64(&mut a, 24, MSGQ);
        a[48] = 1; // bDmemStack
        self.ram.write(RMARGS_GPA, &a).unwrap();

        // The shared area: PTE i = base + i × 4 KiB; queue pages zeroed.
        self.ram
            .write(SHARED_GPA, &vec![0u8; PTE_COUNT as usize * 4096])
            .unwrap();
        let ptes: Vec<u8> = (0..u64::from(PTE_COUNT))
            .flat_map(|i| (SHARED_GPA + i * 4096).to_le_bytes())
            .collect();
        self.area_write(0, &ptes);
        // Command queue tx header (docs/facts/ga102.md §8.1 table).
        self.area_write(
            CMDQ,
            &u32s(&[0, QUEUE_SIZE, 0x1000, ENTRIES, 0, 1, 0x20, 0x1000]),
        );
    }

    /// `GspSystemInfo` (docs/facts/ga102.md §9.4) as a driver fills it for this device.
    pub fn system_info(&self) -> Vec<u8> {
        let mut p = vec![0u8; 928];
        set64(&mut p, 0, BAR0_GPA);
        set64(&mut p, 8, BAR1_GPA);
        set64(&mut p, 16, BAR3_GPA);
        set64(&mut p, 32, 0x0100); // bus 1, device 0, function 0
        set64(&mut p, 72, (1 << 47) - 4096);
        set32(&mut p, 80, 0x88000);
        set32(&mut p, 84, 0x1000);
        set32(&mut p, 88, 0x2204 << 16 | 0x10de);
        set32(&mut p, 92, 0x147d << 16 | 0x10de);
        set32(&mut p, 96, 0xa1);
        p
    }
}

/// `PACKED_REGISTRY_TABLE` (docs/facts/ga102.md §9.3) with DWORD keys.
pub fn registry(keys: &[(&str, u32)]) -> Vec<u8> {
    let strings_at = 8 + 16 * keys.len();
    let mut strings = vec![];
    let mut t = vec![0u8; strings_at];
    for (i, (k, v)) in keys.iter().enumerate() {
        let e = 8 + 16 * i;
        set32(&mut t, e, (strings_at + strings.len()) as u32);
        t[e + 4] = 1;
        set32(&mut t, e + 8, *v);
        set32(&mut t, e + 12, 4);
        strings.extend_from_slice(k.as_bytes());
        strings.push(0);
    }
    t.extend_from_slice(&strings);
    let size = t.len() as u32;
    set32(&mut t, 0, size);
    set32(&mut t, 4, keys.len() as u32);
    t
}

/// The keys both drivers send (docs/facts/ga102.md §9.3).
pub fn default_registry() -> Vec<u8> {
    registry(&[
        ("RMSecBusResetEnable", 1),
        ("RMForcePcieConfigSave", 1),
        ("RMDevidCheckIgnore", 1),
    ])
}

pub fn irq_count(f: &File) -> u64 {
    let mut b = [0u8; 8];
    match (&*f).read(&mut b) {
        Ok(8) => u64::from_ne_bytes(b),
        _ => 0,
    }
}

impl Rm {
    /// Entries the CPU may still write (one always stays free, docs/facts/ga102.md §8.1).
    pub fn free(&self, g: &Gpu) -> u32 {
        let gsp_read = g.area32(MSGQ + 0x20);
        (gsp_read + ENTRIES - self.wp - 1) % ENTRIES
    }

    /// Writes one element into the command queue (no writePtr update, no doorbell).
    pub fn put_one(&mut self, g: &Gpu, function: u32, sequence: u32, payload: &[u8], flaw: Flaw) {
        let rpc_len = 0x20 + payload.len();
        let n = (0x30 + rpc_len).div_ceil(ENTRY);
        assert!(n <= 16);
        assert!(self.free(g) >= n as u32, "command queue full");
        let mut e = vec![0u8; n * ENTRY];
        set32(&mut e, 0x24, self.tx_seq + u32::from(flaw == Flaw::BadSeq));
        set32(&mut e, 0x28, n as u32);
        let sig = if flaw == Flaw::BadSignature {
            0x5850_5256
        } else {
            0x4350_5256
        };
        let hdr = u32s(&[
            0x0300_0000,
            sig,
            rpc_len as u32,
            function,
            0xffff_ffff,
            0xffff_ffff,
            sequence,
            0,
        ]);
        e[0x30..0x50].copy_from_slice(&hdr);
        e[0x50..0x50 + payload.len()].copy_from_slice(payload);
        let sum = checksum(&e[..0x30 + rpc_len]);
        set32(
            &mut e,
            0x20,
            if flaw == Flaw::BadChecksum {
                sum ^ 1
            } else {
                sum
            },
        );
        for (k, chunk) in e.chunks(ENTRY).enumerate() {
            let entry = (self.wp + k as u32) % ENTRIES;
            g.area_write(CMDQ + 0x1000 + u64::from(entry) * 0x1000, chunk);
        }
        self.wp = (self.wp + n as u32) % ENTRIES;
        self.tx_seq += 1;
    }

    /// Writes a command, split into CONTINUATION_RECORDs past one element (docs/facts/ga102.md §8.2).
    pub fn put(&mut self, g: &Gpu, function: u32, payload: &[u8], flaw: Flaw) -> u32 {
        let sequence = self.sequence;
        self.sequence += 1;
        let mut chunks = payload.chunks(MAX_PAYLOAD);
        let first = chunks.next().unwrap_or(&[]);
        self.put_one(g, function, sequence, first, flaw);
        for c in chunks {
            self.put_one(g, CONTINUATION_RECORD, sequence, c, Flaw::None);
        }
        sequence
    }

    /// Publishes writePtr.
    pub fn commit(&self, g: &Gpu) {
        g.area_write(CMDQ + 16, &self.wp.to_le_bytes());
    }

    /// The doorbell.
    pub fn ring(&self, g: &mut Gpu) {
        g.wr(GSP + QUEUE_HEAD0, 0);
    }

    /// put + commit + ring; returns the rpc sequence used.
    pub fn send(&mut self, g: &mut Gpu, function: u32, payload: &[u8]) -> u32 {
        self.send_flawed(g, function, payload, Flaw::None)
    }

    pub fn send_flawed(&mut self, g: &mut Gpu, function: u32, payload: &[u8], flaw: Flaw) -> u32 {
        let s = self.put(g, function, payload, flaw);
        self.commit(g);
        self.ring(g);
        s
    }

    /// Whether the status queue holds an unread element.
    pub fn pending(&self, g: &Gpu) -> bool {
        g.area32(MSGQ + 16) != self.rp
    }

    /// The next element's headers, unchecked, without consuming it.
    pub fn peek_raw(&self, g: &Gpu) -> Option<Raw> {
        if !self.pending(g) {
            return None;
        }
        let first = g.area_read(MSGQ + 0x1000 + u64::from(self.rp) * 0x1000, ENTRY);
        let elem_count = le32(&first, 0x28);
        let length = le32(&first, 0x38);
        let n = elem_count.clamp(1, 16);
        let mut e = vec![];
        for k in 0..n {
            let entry = (self.rp + k) % ENTRIES;
            e.extend(g.area_read(MSGQ + 0x1000 + u64::from(entry) * 0x1000, ENTRY));
        }
        let end = (0x30 + length as usize).min(e.len());
        Some(Raw {
            elem_count,
            seq: le32(&first, 0x24),
            sum: checksum(&e[..end]),
            function: le32(&first, 0x3c),
            length,
        })
    }

    /// Receives one element, checking elemCount, checksum, seqNum and the RPC header the way a
    /// driver must (docs/facts/ga102.md §8.2, §8.3, §9.1), and frees its entries.
    pub fn recv_one(&mut self, g: &Gpu) -> Option<Msg> {
        let wp = g.area32(MSGQ + 16);
        if wp == self.rp {
            return None;
        }
        assert!(wp < ENTRIES, "status queue writePtr {wp}");
        let available = (wp + ENTRIES - self.rp) % ENTRIES;
        let first = g.area_read(MSGQ + 0x1000 + u64::from(self.rp) * 0x1000, ENTRY);
        let n = le32(&first, 0x28);
        assert!(
            (1..=16).contains(&n) && n <= available,
            "elemCount {n}, {available} entries published"
        );
        let mut e = vec![];
        for k in 0..n {
            let entry = (self.rp + k) % ENTRIES;
            e.extend(g.area_read(MSGQ + 0x1000 + u64::from(entry) * 0x1000, ENTRY));
        }
        let length = le32(&e, 0x38) as usize;
        assert!(
            length >= 0x20 && 0x30 + length <= e.len(),
            "rpc length {length:#x}"
        );
        assert_eq!((0x30 + length).div_ceil(ENTRY), n as usize, "elemCount");
        assert_eq!(checksum(&e[..0x30 + length]), 0, "checksum");
        assert_eq!(le32(&e, 0x24), self.rx_seq, "seqNum");
        assert_eq!(le32(&e, 0x30), 0x0300_0000, "header_version");
        assert_eq!(le32(&e, 0x34), 0x4350_5256, "signature");
        let m = Msg {
            function: le32(&e, 0x3c),
            result: le32(&e, 0x40),
            sequence: le32(&e, 0x48),
            payload: e[0x50..0x30 + length].to_vec(),
            elem_count: n,
            seq: self.rx_seq,
            entry: self.rp,
        };
        self.rx_seq += 1;
        self.rp = (self.rp + n) % ENTRIES;
        g.area_write(CMDQ + 0x20, &self.rp.to_le_bytes());
        Some(m)
    }

    /// Receives a message, joining CONTINUATION_RECORDs to a full-size first element.
    pub fn recv(&mut self, g: &Gpu) -> Option<Msg> {
        let mut m = self.recv_one(g)?;
        if 0x50 + m.payload.len() == 0x10000 {
            while let Some(c) = self.peek_raw(g) {
                if c.function != CONTINUATION_RECORD {
                    break;
                }
                let c = self.recv_one(g).unwrap();
                m.payload.extend(c.payload);
            }
        }
        Some(m)
    }

    /// Sends and receives the one reply.
    pub fn call(&mut self, g: &mut Gpu, function: u32, payload: &[u8]) -> Msg {
        let s = self.send(g, function, payload);
        let m = self
            .recv(g)
            .unwrap_or_else(|| panic!("no reply to {function}\n{}", g.trace()));
        assert_eq!((m.function, m.sequence), (function, s), "reply header");
        m
    }
}

/// GSP-RM booted the documented way (docs/facts/ga102.md §7.4 steps 1-13), with `before` run at step 4
/// after the test driver set up BARs, LIBOS arguments and queues. Returns the vGPU and the
/// client state.
pub fn boot_rm_with(opts: Options, before: impl FnOnce(&mut Gpu, &mut Rm)) -> (Gpu, Rm) {
    let mut rm = Rm::default();
    let (mut g, mb) = boot_gsp_ext(opts, Dev::None, |g| {
        g.program_bars();
        g.setup_rm_args();
        before(g, &mut rm);
    });
    assert_eq!(mb, Some(0), "booter_load\n{}", g.trace());
    // Steps 12-13.
    g.wr(GSP + OS, files().app_version);
    assert!(
        g.poll(GSP + RISCV_CPUCTL, 10, |v| v & 1 << 7 != 0)
            .is_some(),
        "ACTIVE_STAT"
    );
    (g, rm)
}

pub fn rm_options() -> Options {
    options()
}

pub fn boot_rm() -> (Gpu, Rm) {
    boot_rm_with(rm_options(), |_, _| {})
}

/// `NV_PGC6_BSI_SECURE_SCRATCH_14` and its BOOT_STAGE_3_HANDOFF bit (docs/facts/ga102.md §3).
pub const BSI_SECURE_SCRATCH_14: u32 = 0x1180f8;
pub const HANDOFF: u32 = 1 << 26;

/// Runs a `GSP_RUN_CPU_SEQUENCER` payload the way docs/facts/ga102.md §9.5 describes the CPU side
/// (`rpc_run_cpu_sequencer_v17_00`: bufferSizeDWord @0, cmdIndex @4, regSaveArea[8] @8,
/// commandBuffer @40; packed opcode + payload dwords). Returns the register save area, or what
/// went wrong.
pub fn run_sequencer(g: &mut Gpu, p: &[u8]) -> Result<[u32; 8], String> {
    run_sequencer_with(g, p, &mut this_driver_core)
}

/// The core opcodes (5 CORE_RESET, 6 CORE_START, 7 CORE_WAIT_FOR_HALT, 8 CORE_RESUME) the way
/// this project's driver runs them: CORE_RESUME resets the GSP into RISC-V (docs/facts/ga102.md §9.5, §7.5).
pub fn this_driver_core(g: &mut Gpu, op: u32) -> Result<(), String> {
    match op {
        // CORE_RESET: the GSP falcon reset into its falcon core; DMA without a context.
        5 => {
            g.falcon_reset(GSP);
            if g.rd(GSP + RISCV_BCR_CTRL) & 0x10 != 0 {
                g.wr(GSP + RISCV_BCR_CTRL, 0);
            }
            let c = g.rd(GSP + FBIF_CTL);
            g.wr(GSP + FBIF_CTL, c | 0x80);
            g.wr(GSP + DMACTL, 0);
        }
        6 => {
            if g.rd(GSP + CPUCTL) & 0x40 != 0 {
                g.wr(GSP + CPUCTL_ALIAS, 2);
            } else {
                g.wr(GSP + CPUCTL, 2);
            }
        }
        7 => {
            if g.poll(GSP + CPUCTL, 1000, |v| v & 0x10 != 0).is_none() {
                return Err("CORE_WAIT_FOR_HALT: never halted".into());
            }
        }
        // CORE_RESUME: GSP reset into RISC-V with the LIBOS arguments, then the common tail.
        _ => {
            g.falcon_reset(GSP);
            g.wr(GSP + RISCV_BCR_CTRL, 0x111);
            g.wr(GSP + MAILBOX0, LIBOS_GPA as u32);
            g.wr(GSP + MAILBOX1, (LIBOS_GPA >> 32) as u32);
            g.wr(SEC2 + CPUCTL, 2);
            resume_tail(g)?;
        }
    }
    Ok(())
}

/// CORE_RESUME after SEC2 was started, as every public driver ends it (docs/facts/ga102.md §9.5): the
/// handoff bit, SEC2 MAILBOX0 = 0, the OS register, RISC-V active.
pub fn resume_tail(g: &mut Gpu) -> Result<(), String> {
    if g.poll(BSI_SECURE_SCRATCH_14, 100, |v| v & HANDOFF != 0)
        .is_none()
    {
        return Err(format!(
            "CORE_RESUME: no handoff, SEC2 MAILBOX0 {:#x}",
            g.rd(SEC2 + MAILBOX0)
        ));
    }
    let m = g.rd(SEC2 + MAILBOX0);
    if m != 0 {
        return Err(format!("CORE_RESUME: SEC2 MAILBOX0 {m:#x}"));
    }
    g.wr(GSP + OS, files().app_version);
    if g.rd(GSP + RISCV_CPUCTL) & 1 << 7 == 0 {
        return Err("CORE_RESUME: RISC-V not active".into());
    }
    Ok(())
}

/// [`run_sequencer`] with the core opcodes (5-8) run by `core`.
pub fn run_sequencer_with(
    g: &mut Gpu,
    p: &[u8],
    core: &mut dyn FnMut(&mut Gpu, u32) -> Result<(), String>,
) -> Result<[u32; 8], String> {
    let word = |i: usize| -> Result<u32, String> {
        p.get(4 * i..4 * i + 4)
            .map(|b| u32::from_le_bytes(b.try_into().unwrap()))
            .ok_or(format!("payload ends before dword {i}"))
    };
    let size = word(0)? as usize;
    let end = word(1)? as usize;
    if end >= size {
        return Err(format!("cmdIndex {end} not below bufferSizeDWord {size}"));
    }
    let mut save = [0u32; 8];
    let mut i = 0;
    while i < end {
        let op = word(10 + i)?;
        let n = match op {
            0 | 4 => 2,
            1 => 3,
            2 => 5,
            3 => 1,
            5..=8 => 0,
            _ => return Err(format!("unknown opcode {op} at dword {i}")),
        };
        if i + 1 + n > end {
            return Err(format!(
                "opcode {op} at dword {i} truncated by cmdIndex {end}"
            ));
        }
        let a: Vec<u32> = (0..n)
            .map(|k| word(10 + i + 1 + k))
            .collect::<Result<_, _>>()?;
        match op {
            0 => g.wr(a[0], a[1]),
            1 => {
                let v = g.rd(a[0]);
                g.wr(a[0], (v & !a[1]) | a[2]);
            }
            2 => {
                g.rd(a[0]);
                if g.poll(a[0], 1000, |v| v & a[1] == a[2]).is_none() {
                    return Err(format!("REG_POLL at dword {i}: {:#x} never matched", a[0]));
                }
            }
            3 => std::thread::sleep(std::time::Duration::from_micros(u64::from(a[0]))),
            4 => {
                let v = g.rd(a[0]);
                *save
                    .get_mut(a[1] as usize)
                    .ok_or(format!("REG_STORE index {}", a[1]))? = v;
            }
            _ => core(g, op).map_err(|e| format!("{e} (opcode {op} at dword {i})"))?,
        }
        i += 1 + n;
    }
    Ok(save)
}

/// Steps 14-16: SET_SYSTEM_INFO and SET_REGISTRY (asynchronous: no reply), the CPU sequencer
/// GSP-RM sends (docs/facts/ga102.md §7.4 step 15), then GSP_INIT_DONE.
pub fn init(g: &mut Gpu, rm: &mut Rm) {
    let si = g.system_info();
    rm.send(g, GSP_SET_SYSTEM_INFO, &si);
    rm.send(g, SET_REGISTRY, &default_registry());
    let s = rm.recv(g).expect("GSP_RUN_CPU_SEQUENCER");
    assert_eq!(s.function, GSP_RUN_CPU_SEQUENCER, "{}", g.trace());
    if let Err(e) = run_sequencer(g, &s.payload) {
        panic!("sequencer: {e}\n{}", g.trace());
    }
    let d = rm.recv(g).expect("GSP_INIT_DONE");
    assert_eq!(d.function, GSP_INIT_DONE, "{}", g.trace());
    assert_eq!(d.result, 0);
}

/// A booted, initialised GSP-RM.
pub fn ready() -> (Gpu, Rm) {
    let (mut g, mut rm) = boot_rm();
    init(&mut g, &mut rm);
    (g, rm)
}
