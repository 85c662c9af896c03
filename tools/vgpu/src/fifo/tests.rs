// SPDX-License-Identifier: GPL-2.0
//! FIFO tests over real memory and page tables: a hub on the test [`Rig`], a VA space whose
//! first 4 MiB map VRAM 1:1 + [`VA_TO_PA`], channels created as GSP-RM creates them, and a
//! recorder standing in for the device's interrupts and GSP-RM.

use super::*;
use crate::engines::{ChannelMemory, Effects, Engine, EngineError};
use crate::mmu::format::build::{dual_pde, pde, pte};
use crate::mmu::mem::testing::Rig;
use crate::mmu::walk::FaultType;
use std::time::Duration;

const VID: Aperture = Aperture::Video;
/// PD3 and the chain of tables.
const PD3: u64 = 0x10_0000;
/// Physical = VA + this, for VA [0, 4 MiB).
const VA_TO_PA: u64 = 0x40_0000;
/// Mapped VA span.
const MAPPED: u64 = 4 << 20;

struct Recorder {
    nonstall: Mutex<Vec<u32>>,
    rc: Mutex<u32>,
}

impl Notify for Recorder {
    fn nonstall(&self, vector: u32) {
        self.nonstall.lock().unwrap().push(vector);
    }
    fn rc(&self) {
        *self.rc.lock().unwrap() += 1;
    }
}

struct T {
    rig: Rig,
    fifo: Fifo,
    rec: Arc<Recorder>,
}

fn pdb() -> PageDirBase {
    PageDirBase {
        target: Target::Video,
        vol: false,
        fault_replay_tex: false,
        fault_replay_gcc: false,
        ver2: true,
        big_page_64k: true,
        addr: PD3,
    }
}

fn setup() -> T {
    let rig = Rig::new();
    let hub = Hub::new(
        rig.mem.vram.clone(),
        rig.mem.guest.clone(),
        Arc::new(Tracer::off()),
    );
    // PD3[0] -> PD2[0] -> PD1[0] -> PD0[0..2] -> two 4 KiB tables (VA 0-4 MiB).
    rig.put64(VID, PD3, pde(VID, PD3 + 0x1000));
    rig.put64(VID, PD3 + 0x1000, pde(VID, PD3 + 0x2000));
    rig.put64(VID, PD3 + 0x2000, pde(VID, PD3 + 0x3000));
    for t in 0..2u64 {
        let table = PD3 + 0x4000 + 0x1000 * t;
        rig.put128(
            VID,
            PD3 + 0x3000 + 16 * t,
            dual_pde(None, Some((VID, table))),
        );
        for i in 0..512u64 {
            let va = (t * 512 + i) << 12;
            rig.put64(VID, table + 8 * i, pte(VID, va + VA_TO_PA, 0, 0));
        }
    }
    let fifo = Fifo::new(hub, Arc::new(Tracer::off()));
    let rec = Arc::new(Recorder {
        nonstall: Mutex::new(vec![]),
        rc: Mutex::new(0),
    });
    fifo.set_notify(rec.clone());
    fifo.set_engine_factory(test_factory);
    T { rig, fifo, rec }
}

/// A test class: 0x100 sets an address, 0x104 writes data there, 0x108 raises the non-stall
/// interrupt, 0x10C reads VA `data << 12` (faults past the mapped range), 0x110 refuses.
const TEST_CLASS: u32 = 0xc0de;

#[derive(Default)]
struct TestEngine {
    addr: u64,
}

impl Engine for TestEngine {
    fn class(&self) -> u32 {
        TEST_CLASS
    }
    fn method(
        &mut self,
        mem: &mut dyn ChannelMemory,
        method: u32,
        data: u32,
    ) -> Result<Effects, EngineError> {
        match method {
            0x100 => self.addr = u64::from(data),
            0x104 => mem
                .write(self.addr, &data.to_le_bytes())
                .map_err(EngineError::Fault)?,
            0x108 => {
                return Ok(Effects {
                    nonstall_interrupt: true,
                    bytes: 0,
                })
            }
            0x10c => {
                let mut b = [0u8; 4];
                mem.read(u64::from(data) << 12, &mut b)
                    .map_err(EngineError::Fault)?;
            }
            0x110 => {
                return Err(EngineError::BadArgument {
                    method,
                    data,
                    why: "refused".into(),
                })
            }
            _ => return Err(EngineError::BadMethod { method, data }),
        }
        Ok(Effects::default())
    }
}

fn test_factory(class: u32) -> Option<Box<dyn Engine>> {
    match class {
        TEST_CLASS => Some(Box::new(TestEngine::default())),
        c => crate::engines::new_engine(c),
    }
}

/// Channel `chid` on COPY0 (runlist 1): instance block, USERD, a 16-entry ring at VA
/// 0x1000 * (16 + chid) and its push buffer area at VA 0x10_0000 + 0x2_0000 * chid.
struct Ch {
    token: u32,
    userd: u64,
    ring: u64,
    pb: u64,
    put: u32,
    pb_used: u64,
}

impl T {
    fn channel(&self, chid: u32, engine: u32) -> Ch {
        let cfg = ChannelConfig {
            engine,
            runlist: 1,
            chid,
            inst: InstPtr {
                aperture: 0,
                addr: 0x2_0000 + 0x1000 * u64::from(chid),
            },
            gpfifo_va: 0x1000 * (16 + u64::from(chid)),
            entries: 16,
            userd: (VID, 0x8_0000 + 0x200 * u64::from(chid)),
            pdb: pdb(),
            handle: (1, 2),
        };
        let token = cfg.token();
        let ring = cfg.gpfifo_va;
        let userd = cfg.userd.1;
        self.fifo.create(cfg).unwrap();
        self.fifo.allow_class(token, TEST_CLASS);
        self.fifo.set_bound(token);
        self.fifo.set_scheduled(token, true);
        Ch {
            token,
            userd,
            ring,
            pb: 0x10_0000 + 0x2_0000 * u64::from(chid),
            put: 0,
            pb_used: 0,
        }
    }

    fn wr(&self, va: u64, words: &[u32]) {
        let b: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
        assert!(self.rig.mem.write(VID, va + VA_TO_PA, &b));
    }

    fn rd(&self, va: u64) -> u32 {
        self.rig.get32(VID, va + VA_TO_PA)
    }

    fn rd_phys(&self, pa: u64) -> u32 {
        self.rig.get32(VID, pa)
    }

    /// Appends a GP entry for `words` (written to the channel's push buffer) and kicks.
    fn submit(&self, c: &mut Ch, words: &[u32]) {
        let va = c.pb + c.pb_used;
        self.wr(va, words);
        c.pb_used += 4 * words.len() as u64;
        self.gp(c, gp_entry(va, words.len() as u32));
    }

    fn gp(&self, c: &mut Ch, e: u64) {
        self.wr(c.ring + 8 * u64::from(c.put), &[e as u32, (e >> 32) as u32]);
        c.put = (c.put + 1) % 16;
        assert!(self
            .rig
            .mem
            .write(VID, c.userd + USERD_GP_PUT, &c.put.to_le_bytes()));
        self.fifo.doorbell(c.token);
    }

    fn wait(&self, what: &str, mut done: impl FnMut() -> bool) {
        let t = Instant::now();
        while !done() {
            assert!(t.elapsed() < Duration::from_secs(5), "timed out: {what}");
            std::thread::sleep(Duration::from_micros(200));
        }
    }

    fn wait_idle(&self, c: &Ch) {
        self.wait("channel idle", || {
            let s = self.fifo.channel(c.token).unwrap();
            s.error.is_some() || (s.idle && s.gp_get == c.put)
        });
    }

    fn wait_error(&self, c: &Ch) -> RcEvent {
        self.wait("channel error", || self.fifo.rc_pending() > 0);
        let mut e = self.fifo.take_rc();
        assert_eq!(e.len(), 1);
        assert!(self.fifo.channel(c.token).unwrap().error.is_some());
        e.remove(0)
    }
}

fn gp_entry(va: u64, words: u32) -> u64 {
    (va & 0xffff_fffc) | ((va >> 32) & 0xff) << 32 | u64::from(words) << 42
}

fn inc(subch: u32, method: u32, count: u32) -> u32 {
    1 << 29 | count << 16 | subch << 13 | method >> 2
}

fn non_inc(subch: u32, method: u32, count: u32) -> u32 {
    3 << 29 | count << 16 | subch << 13 | method >> 2
}

fn immd(subch: u32, method: u32, data: u32) -> u32 {
    4 << 29 | data << 16 | subch << 13 | method >> 2
}

/// SEM_ADDR_LO/HI, SEM_PAYLOAD_LO/HI, SEM_EXECUTE(`exec`).
fn sem(va: u64, payload: u64, exec: u32) -> Vec<u32> {
    vec![
        inc(0, 0x5c, 5),
        va as u32,
        (va >> 32) as u32,
        payload as u32,
        (payload >> 32) as u32,
        exec,
    ]
}

const RELEASE: u32 = 1;
const RELEASE_64_TS: u32 = 1 | 1 << 24 | 1 << 25;
const ACQ_GEQ: u32 = 2;

#[test]
fn channel_creation_writes_the_instance_block() {
    let t = setup();
    let c = t.channel(3, ENGINE_COPY0);
    assert_eq!(c.token, 1 << 16 | 3);
    let inst = 0x2_0000 + 0x3000;
    let (lo, hi) = pdb().encode();
    assert_eq!(t.rd_phys(inst + 0x200), lo);
    assert_eq!(
        lo,
        0x10_0000 | 1 << 10 | 1 << 11,
        "VID_MEM, VER2, 64 KiB big pages"
    );
    assert_eq!(t.rd_phys(inst + 0x204), hi);
    assert_eq!(t.rd_phys(inst + 18 * 4), 0x13000, "GP_BASE");
    assert_eq!(
        t.rd_phys(inst + 19 * 4),
        4 << 16,
        "GP_BASE_HI.LIMIT2 = log2(16)"
    );
    // The MMU binds it.
    let p = t
        .fifo
        .0
        .hub
        .lock()
        .engine_pdb(InstPtr {
            aperture: 0,
            addr: inst,
        })
        .unwrap();
    assert_eq!(p.addr, PD3);
    assert!(
        t.fifo.create(t.fifo.channel(c.token).unwrap().cfg).is_err(),
        "token in use"
    );
    t.fifo.destroy(c.token);
    assert!(t.fifo.channel(c.token).is_none());
}

#[test]
fn doorbell_runs_a_semaphore_release() {
    let t = setup();
    let mut c = t.channel(0, ENGINE_COPY0);
    t.submit(&mut c, &sem(0x3000, 0x1234_5678, RELEASE));
    t.wait("release", || t.rd(0x3000) == 0x1234_5678);
    t.wait_idle(&c);
    assert_eq!(t.rd_phys(c.userd + USERD_GP_GET), 1, "GPGet written back");
    // 64-bit with timestamp: payload, then the timer at +8.
    let before = t.fifo.now_ns();
    t.submit(&mut c, &sem(0x3010, 0xaabb_ccdd_1122_3344, RELEASE_64_TS));
    t.wait_idle(&c);
    assert_eq!((t.rd(0x3010), t.rd(0x3014)), (0x1122_3344, 0xaabb_ccdd));
    let ts = u64::from(t.rd(0x3018)) | u64::from(t.rd(0x301c)) << 32;
    assert!(ts >= before && ts <= t.fifo.now_ns(), "{before} {ts}");
    // Legacy 16-byte release: payload, 0, timestamp.
    t.wr(0x3024, &[0xffff_ffff]);
    t.submit(&mut c, &[inc(0, 0x10, 4), 0, 0x3020, 77, 2]);
    t.wait_idle(&c);
    assert_eq!((t.rd(0x3020), t.rd(0x3024)), (77, 0));
    assert_ne!(t.rd(0x3028), 0);
    // SET_REFERENCE writes USERD Ref; NOP and immediate-data headers.
    t.submit(&mut c, &[0, immd(0, 0x8, 0), inc(0, 0x50, 1), 0x55]);
    t.wait_idle(&c);
    assert_eq!(t.rd_phys(c.userd + USERD_REF), 0x55);
    assert_eq!(t.fifo.channel(c.token).unwrap().gp_get, 4);
    let s = t.fifo.stats();
    assert_eq!((s.gp_entries, s.errors), (4, 0));
}

#[test]
fn a_doorbell_before_bind_is_remembered() {
    let t = setup();
    let cfg = ChannelConfig {
        engine: ENGINE_COPY0,
        runlist: 1,
        chid: 9,
        inst: InstPtr {
            aperture: 0,
            addr: 0x9000,
        },
        gpfifo_va: 0x20000,
        entries: 4,
        userd: (VID, 0xa000),
        pdb: pdb(),
        handle: (1, 2),
    };
    t.fifo.create(cfg).unwrap();
    let tok = 1 << 16 | 9;
    let mut c = Ch {
        token: tok,
        userd: 0xa000,
        ring: 0x20000,
        pb: 0x30000,
        put: 0,
        pb_used: 0,
    };
    t.wr(c.pb, &sem(0x3100, 5, RELEASE));
    t.wr(c.ring, &[c.pb as u32, 6 << 10]);
    c.put = 1;
    assert!(t
        .rig
        .mem
        .write(VID, c.userd + USERD_GP_PUT, &1u32.to_le_bytes()));
    t.fifo.doorbell(tok);
    std::thread::sleep(Duration::from_millis(20));
    assert_eq!(t.rd(0x3100), 0, "not bound, not scheduled: nothing runs");
    t.fifo.set_bound(tok);
    t.fifo.set_scheduled(tok, true);
    t.wait("release after schedule", || t.rd(0x3100) == 5);
    t.fifo.doorbell(0x7777);
    assert_eq!(t.fifo.stats().unknown_tokens, 1);
}

#[test]
fn acquire_waits_for_memory_and_free_preempts_it() {
    let t = setup();
    let mut c = t.channel(0, ENGINE_COPY0);
    let mut words = sem(0x4000, 3, ACQ_GEQ);
    words.extend(sem(0x4010, 0xd0e, RELEASE));
    t.submit(&mut c, &words);
    std::thread::sleep(Duration::from_millis(20));
    assert_eq!(t.rd(0x4010), 0, "blocked on the acquire");
    t.wr(0x4000, &[2]);
    std::thread::sleep(Duration::from_millis(5));
    assert_eq!(t.rd(0x4010), 0, "2 < 3");
    t.wr(0x4000, &[3]);
    t.wait("acquire satisfied", || t.rd(0x4010) == 0xd0e);
    // Now one that never succeeds; freeing the channel stops it.
    t.submit(&mut c, &sem(0x4000, 100, ACQ_GEQ));
    t.wait("spinning", || !t.fifo.channel(c.token).unwrap().idle);
    let at = Instant::now();
    t.fifo.destroy(c.token);
    assert!(at.elapsed() < Duration::from_secs(5));
    assert!(t.fifo.channel(c.token).is_none());
    assert_eq!(t.fifo.rc_pending(), 0, "a preemption is no error");
}

#[test]
fn two_channels_progress_independently() {
    let t = setup();
    let mut a = t.channel(0, ENGINE_COPY0);
    let mut b = t.channel(1, ENGINE_COPY0 + 1);
    t.submit(&mut a, &sem(0x5000, 1, ACQ_GEQ));
    for i in 0..10u32 {
        t.submit(&mut b, &sem(0x5100, u64::from(i) + 1, RELEASE));
    }
    t.wait("b completes", || t.rd(0x5100) == 10);
    t.wait_idle(&b);
    // a's PBDMA thread may reach its acquire only after b is done: wait for it, never assume.
    t.wait("a spins on its acquire", || {
        !t.fifo.channel(a.token).unwrap().idle
    });
    t.wr(0x5000, &[1]);
    t.wait_idle(&a);
}

#[test]
fn non_stall_interrupts_name_the_engine_vector() {
    let t = setup();
    let mut c = t.channel(0, ENGINE_COPY0 + 2);
    t.submit(&mut c, &[inc(0, 0x20, 1), 0]);
    t.wait("host NON_STALL_INTERRUPT", || {
        !t.rec.nonstall.lock().unwrap().is_empty()
    });
    assert_eq!(*t.rec.nonstall.lock().unwrap(), [3], "CE2: slot 3");
    // An engine's Effects.nonstall_interrupt.
    t.submit(&mut c, &[inc(1, 0, 1), TEST_CLASS, inc(1, 0x108, 1), 0]);
    t.wait_idle(&c);
    assert_eq!(*t.rec.nonstall.lock().unwrap(), [3, 3]);
    assert_eq!(engine_vectors(ENGINE_GRAPHICS), Some((84, 192, 0)));
    assert_eq!(engine_vectors(ENGINE_COPY0 + 9), Some((24, 202, 10)));
    assert_eq!(engine_vectors(2), None);
}

#[test]
fn engine_methods_and_segment_straddling() {
    let t = setup();
    let mut c = t.channel(0, ENGINE_COPY0);
    // SET_OBJECT on subchannel 4, then an INC header whose two data words are in the next
    // segment, then a NON_INC pair.
    t.submit(&mut c, &[inc(4, 0, 1), TEST_CLASS, inc(4, 0x100, 2)]);
    t.submit(&mut c, &[0x6000, 0xfeed]);
    t.wait_idle(&c);
    assert_eq!(t.rd(0x6000), 0xfeed);
    t.submit(&mut c, &[non_inc(4, 0x104, 2), 1, 2]);
    t.wait_idle(&c);
    assert_eq!(t.rd(0x6000), 2);
    // END_PB_SEGMENT: the rest of the segment is not executed.
    t.submit(&mut c, &[7 << 29, inc(4, 0x104, 1), 9]);
    t.wait_idle(&c);
    assert_eq!(t.rd(0x6000), 2);
    // Subdevice mask 0: methods dropped until the mask is back.
    t.submit(
        &mut c,
        &[1 << 16, inc(4, 0x104, 1), 9, 1 << 16 | 0xfff << 4],
    );
    t.wait_idle(&c);
    assert_eq!(t.rd(0x6000), 2);
    assert!(t.fifo.channel(c.token).unwrap().error.is_none());
}

fn expect_pbdma_error(words: &[u32], why: &str) {
    let t = setup();
    let mut c = t.channel(5, ENGINE_COPY0);
    t.submit(&mut c, words);
    let e = t.wait_error(&c);
    assert_eq!(e.except_type, xid::PBDMA_ERROR, "{e:?}");
    assert_eq!((e.engine, e.runlist, e.chid), (ENGINE_COPY0, 1, 5));
    assert!(e.why.contains(why), "{}", e.why);
    assert_eq!(*t.rec.rc.lock().unwrap(), 1);
    // The channel no longer runs: a later doorbell is ignored.
    t.submit(&mut c, &sem(0x7000, 1, RELEASE));
    std::thread::sleep(Duration::from_millis(10));
    assert_eq!(t.rd(0x7000), 0);
    assert_eq!(t.fifo.stats().ignored, 1);
}

#[test]
fn bad_methods_and_headers_stop_the_channel() {
    expect_pbdma_error(&[inc(0, 0x4, 1), 0], "ILLEGAL");
    expect_pbdma_error(&[inc(0, 0xf0, 1), 0], "not a host method");
    expect_pbdma_error(&[inc(2, 0, 1), 0xc7b6], "no object of that class");
    expect_pbdma_error(&[inc(3, 0x200, 1), 0], "has no object");
    expect_pbdma_error(&[2 << 29 | 1 << 16], "old-format non-incrementing");
    expect_pbdma_error(&[6 << 29], "reserved");
    expect_pbdma_error(&[0x0004_0004], "old-format incrementing");
    expect_pbdma_error(&[inc(0, 0x3ffc, 2), 0, 0], "wraps");
    // SEM_ADDR_LO keeps bits 31:2 only; a 64-bit payload needs 8-byte alignment.
    expect_pbdma_error(
        &[inc(0, 0x5c, 1), 0x4004, inc(0, 0x6c, 1), RELEASE | 1 << 24],
        "8-byte aligned",
    );
}

#[test]
fn engine_errors_and_gp_entries() {
    let t = setup();
    let mut c = t.channel(0, ENGINE_COPY0 + 1);
    t.submit(&mut c, &[inc(0, 0, 1), TEST_CLASS, inc(0, 0x110, 1), 0]);
    let e = t.wait_error(&c);
    assert_eq!(e.except_type, 40, "ROBUST_CHANNEL_CE1_ERROR");
    assert!(e.why.contains("refused"), "{}", e.why);

    let t = setup();
    let mut c = t.channel(0, ENGINE_COPY0);
    t.gp(&mut c, 1u64 << 32);
    let e = t.wait_error(&c);
    assert!(e.why.contains("ILLEGAL control entry"), "{}", e.why);

    let t = setup();
    let c = t.channel(0, ENGINE_COPY0);
    assert!(t
        .rig
        .mem
        .write(VID, c.userd + USERD_GP_PUT, &99u32.to_le_bytes()));
    t.fifo.doorbell(c.token);
    let e = t.wait_error(&c);
    assert!(e.why.contains("GPPut 99"), "{}", e.why);
}

#[test]
fn mmu_faults_in_fetch_and_engine() {
    // A segment in unmapped VA.
    let t = setup();
    let mut c = t.channel(0, ENGINE_COPY0);
    t.gp(&mut c, gp_entry(MAPPED + 0x1000, 4));
    let e = t.wait_error(&c);
    assert_eq!(e.except_type, xid::FIFO_ERROR_MMU_ERR_FLT);
    // PD0 has two entries: the third 2 MiB range has no page table.
    assert_eq!(e.mmu_fault, Some((MAPPED + 0x1000, FaultType::Pde as u32)));
    let h = t.fifo.0.hub.lock();
    let f = h.faults();
    assert_eq!(
        f.addr_lo & !0xfff,
        (MAPPED + 0x1000) as u32,
        "snapshot registers"
    );
    assert_eq!(f.inst_lo & 0x1ff, 15, "ENGINE_ID CE0");
    assert_eq!(f.info >> 8 & 0x7f, 6, "CLIENT HUB_HOST");
    assert_eq!(
        h.fault_notify_pending(),
        0,
        "no fault buffer set up: nothing written"
    );
    drop(h);

    // An engine access past the mapped range.
    let t = setup();
    let mut c = t.channel(0, ENGINE_COPY0);
    t.submit(
        &mut c,
        &[inc(0, 0, 1), TEST_CLASS, inc(0, 0x10c, 1), 0x2000],
    );
    let e = t.wait_error(&c);
    assert_eq!(e.except_type, xid::FIFO_ERROR_MMU_ERR_FLT);
    assert_eq!(e.mmu_fault, Some((0x200_0000, FaultType::Pde as u32)));
}

#[test]
fn channel_memory_copies_in_bulk() {
    let t = setup();
    let (host, _) = pbdma::clients(ENGINE_COPY0);
    let mut m = mem::ChanMem::new(
        t.fifo.clone(),
        InstPtr {
            aperture: 0,
            addr: 0x2_0000,
        },
        host,
    );
    let _c = t.channel(0, ENGINE_COPY0);
    let data: Vec<u8> = (0..3 << 20).map(|i: u32| (i * 7) as u8).collect();
    m.write(0x1234, &data).unwrap();
    let mut back = vec![0u8; data.len()];
    m.read(0x1234, &mut back).unwrap();
    assert!(back == data);
    assert_eq!(t.rd(0x1234) & 0xff, 0);
    // Straddling the end of the mapping: nothing is written, the fault names the first page.
    let e = m.write(MAPPED - 8, &[1; 16]).unwrap_err();
    assert_eq!(e.va, MAPPED);
    assert_eq!(t.rd(MAPPED - 8), 0);
}

/// Throughput of channel memory against a plain copy (release build:
/// `cargo test --release -p vgpu bench_channel_memory -- --ignored --nocapture`).
#[test]
#[ignore]
fn bench_channel_memory() {
    let t = setup();
    let (host, _) = pbdma::clients(ENGINE_COPY0);
    let _c = t.channel(0, ENGINE_COPY0);
    let mut m = mem::ChanMem::new(
        t.fifo.clone(),
        InstPtr {
            aperture: 0,
            addr: 0x2_0000,
        },
        host,
    );
    let len = 2 << 20;
    let data = vec![0x5au8; len];
    let mut back = vec![0u8; len];
    let rounds = 16; // 16 x (2 MiB in + 2 MiB out) = 64 MiB moved
    let at = Instant::now();
    for _ in 0..rounds {
        m.write(0, &data).unwrap();
        m.read(2 << 20, &mut back).unwrap();
    }
    let chan = at.elapsed();
    let at = Instant::now();
    for _ in 0..rounds {
        assert!(t.rig.mem.write(VID, VA_TO_PA, &data));
        assert!(t.rig.mem.read(VID, VA_TO_PA + (2 << 20), &mut back));
    }
    let phys = at.elapsed();
    eprintln!("64 MiB through ChanMem: {chan:?}; physical copies: {phys:?}");
}
