// SPDX-License-Identifier: GPL-2.0
//! Times parsing `ga102/gsp/gsp-570.144.bin` and building its radix3 table, each beside a pass
//! over the bytes it touches, measured in the same run.
//!
//! `cargo run --release -p nova-core-host --example parse_bench`
//!
//! The firmware is found like the tests find it: `$NOVA_FIRMWARE_DIR`, else
//! `$NOVA_CACHE/firmware/lib/firmware` (`NOVA_CACHE` defaults to `$HOME/.cache/nova`).
//!
//! The parser reads only the ELF header, the section table, the section-name table, the
//! `.fwversion` string and the build-id note, not the 60-odd MB of the image, so a throughput
//! of the whole file would mean nothing. Its baseline is one read of each of those bytes (a
//! byte sum), the least any parser must do. The radix3 build writes the three table levels;
//! its baseline is a memset of the same bytes. Each figure is the median of batches, each
//! batch one timed interval of many calls spanning at least `MIN_STEPS` steps of the clock;
//! the figures' batches are interleaved, so a figure and its baseline see the same host load.

use std::hint::black_box;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use nova_core_host::firmware::gsp::{GspFirmware, SignatureFamily, BUILD_ID_SECTION};
use nova_core_host::firmware::radix3::{
    build_radix3, contiguous_pages, Radix3Buffers, Radix3Layout,
};

/// A batch spans at least this many steps of the clock (quantisation <= 1 %).
const MIN_STEPS: u32 = 100;
/// And at least this long.
const MIN_BATCH: Duration = Duration::from_millis(10);
/// Batches per figure (the median is printed).
const BATCHES: usize = 31;

fn firmware_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("NOVA_FIRMWARE_DIR") {
        return d.into();
    }
    let cache = std::env::var_os("NOVA_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache/nova")
        });
    cache.join("firmware/lib/firmware")
}

/// The smallest non-zero difference between two clock reads (includes the cost of a read).
fn clock_step() -> Duration {
    let t0 = Instant::now();
    let mut last = t0;
    let mut step = Duration::MAX;
    let mut seen = 0;
    while seen < 1000 && t0.elapsed() < Duration::from_millis(100) {
        let now = Instant::now();
        if now > last {
            step = step.min(now - last);
            seen += 1;
            last = now;
        }
    }
    step
}

/// The figures, timed in interleaved batches so that each sees the same load of the host.
#[derive(Clone, Copy)]
enum Fig {
    Parse,
    Read,
    Radix3,
    Memset,
    Both,
}

const FIGS: [Fig; 5] = [Fig::Parse, Fig::Read, Fig::Radix3, Fig::Memset, Fig::Both];

/// What the figures work on: the file, the bytes the parser reads, the table buffers
/// (allocated once, as the driver does) and the memset baseline's buffers of the same sizes.
struct Work<'a> {
    file: &'a [u8],
    read_parts: [&'a [u8]; 5],
    image_len: usize,
    tables: [Vec<u8>; 3],
    memset: [Vec<u8>; 3],
    v: u8,
}

impl Work<'_> {
    fn build(&mut self, image_len: usize) {
        let layout = Radix3Layout::for_image_size(image_len).expect("layout");
        let [l0, l1, l2] = &mut self.tables;
        build_radix3(
            &layout,
            Radix3Buffers {
                lvl0: l0,
                lvl1: l1,
                lvl2: l2,
            },
            0x1_0000_0000,
            contiguous_pages(0x2_0000_0000, layout.lvl2_pages),
            contiguous_pages(0x40_0000_0000, layout.fw_pages),
        )
        .expect("radix3");
        black_box(&self.tables);
    }

    fn call(&mut self, fig: Fig) {
        match fig {
            Fig::Parse => {
                let g = GspFirmware::parse(black_box(self.file), SignatureFamily::Ga10x)
                    .expect("parse");
                black_box(g.image().len());
            }
            Fig::Read => {
                black_box(read_bytes(&self.read_parts));
            }
            Fig::Radix3 => self.build(black_box(self.image_len)),
            Fig::Memset => {
                self.v = self.v.wrapping_add(1);
                for t in &mut self.memset {
                    t.fill(self.v);
                }
                black_box(&self.memset);
            }
            Fig::Both => {
                let g = GspFirmware::parse(black_box(self.file), SignatureFamily::Ga10x)
                    .expect("parse");
                self.build(g.image().len());
            }
        }
    }

    fn batch(&mut self, fig: Fig, calls: u32) -> Duration {
        let t = Instant::now();
        for _ in 0..calls {
            self.call(fig);
        }
        t.elapsed()
    }
}

/// Per-call time of each figure: the median of `BATCHES` batches, `calls` calls each, chosen
/// so a batch lasts at least `min_batch`; one batch of every figure per round.
struct PerCall {
    median: Duration,
    calls: u32,
}

fn time_all(w: &mut Work<'_>, min_batch: Duration) -> Vec<PerCall> {
    let calls: Vec<u32> = FIGS
        .iter()
        .map(|&fig| {
            w.call(fig); // warm up
            let mut calls = 1u32;
            while w.batch(fig, calls) < min_batch && calls < 1 << 30 {
                calls = calls.saturating_mul(2);
            }
            calls
        })
        .collect();
    let mut batches = vec![Vec::with_capacity(BATCHES); FIGS.len()];
    for _ in 0..BATCHES {
        for (i, &fig) in FIGS.iter().enumerate() {
            batches[i].push(w.batch(fig, calls[i]));
        }
    }
    batches
        .into_iter()
        .zip(calls)
        .map(|(mut b, calls)| {
            b.sort_unstable();
            PerCall {
                median: b[BATCHES / 2] / calls,
                calls,
            }
        })
        .collect()
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

/// One read of every byte of `parts` (their byte sum).
fn read_bytes(parts: &[&[u8]]) -> u8 {
    parts.iter().fold(0u8, |acc, p| {
        black_box(*p).iter().fold(acc, |a, &b| a.wrapping_add(b))
    })
}

fn main() {
    let path = firmware_dir().join("nvidia/ga102/gsp/gsp-570.144.bin");
    let file = std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (run `make setup`, or set NOVA_FIRMWARE_DIR)",
            path.display()
        )
    });

    let g = GspFirmware::parse(&file, SignatureFamily::Ga10x).expect("parse");
    let elf = g.elf;
    // The bytes the parser reads.
    let ehdr = &file[..elf.class.ehdr_size()];
    let shdrs = &file[elf.shoff..elf.shoff + elf.shnum * elf.shentsize];
    let names = elf.section(elf.shstrndx).expect("shstrtab").data;
    let version = g.version.unwrap_or_default();
    let note = elf
        .find(BUILD_ID_SECTION)
        .expect("sections")
        .map(|s| s.data)
        .unwrap_or_default();
    let read_parts: [&[u8]; 5] = [ehdr, shdrs, names, version, note];
    let read_len: usize = read_parts.iter().map(|p| p.len()).sum();

    let layout = Radix3Layout::for_image_size(g.image().len()).expect("layout");
    let sizes = [layout.lvl0_size(), layout.lvl1_size(), layout.lvl2_size()];
    let table_len: usize = sizes.iter().sum();
    let image_len = g.image().len();
    let mut work = Work {
        file: &file,
        read_parts,
        image_len,
        tables: sizes.map(|n| vec![0u8; n]),
        memset: sizes.map(|n| vec![0u8; n]),
        v: 0,
    };

    let step = clock_step();
    let min_batch = MIN_BATCH.max(step * MIN_STEPS);
    let [parse, read, radix3, fill, both]: [PerCall; 5] = time_all(&mut work, min_batch)
        .try_into()
        .unwrap_or_else(|_| unreachable!());

    println!(
        "gsp-570.144.bin: {} bytes, .fwimage {image_len} bytes, {} firmware pages, {} level-2 pages",
        file.len(),
        layout.fw_pages,
        layout.lvl2_pages
    );
    println!(
        "clock step {:.0} ns; each figure is the median of {BATCHES} batches, a batch one \
         interval of >= {:.1} ms (>= {MIN_STEPS} steps), the figures' batches interleaved",
        step.as_secs_f64() * 1e9,
        min_batch.as_secs_f64() * 1e3
    );
    let line = |what: &str, t: &PerCall| {
        println!(
            "{what:<50}: {:>10.3} us/op  ({} calls per batch)",
            us(t.median),
            t.calls
        )
    };
    line("parse", &parse);
    line(
        &format!("  baseline: one read of the {read_len} bytes it reads"),
        &read,
    );
    line("radix3 build", &radix3);
    line(
        &format!("  baseline: memset of the {table_len} table bytes"),
        &fill,
    );
    line("parse + radix3 build (what the probe does)", &both);
    let ratio = |a: &PerCall, b: &PerCall| a.median.as_secs_f64() / b.median.as_secs_f64();
    println!(
        "parse / read of its bytes = {:.1}x; radix3 / memset of its tables = {:.2}x \
         (1.0 = as cheap as touching the same bytes once)",
        ratio(&parse, &read),
        ratio(&radix3, &fill)
    );
}
