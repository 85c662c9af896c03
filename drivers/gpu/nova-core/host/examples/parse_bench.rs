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
//! batch one timed interval of many calls spanning at least `MIN_STEPS` steps of the clock.

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

/// Per-call time: the median of `BATCHES` batches of `calls` calls each, `calls` chosen so a
/// batch lasts at least `min_batch`.
struct PerCall {
    median: Duration,
    calls: u32,
}

fn time_per_call(min_batch: Duration, mut f: impl FnMut()) -> PerCall {
    f(); // warm up
    let mut calls = 1u32;
    loop {
        let t = Instant::now();
        for _ in 0..calls {
            f();
        }
        if t.elapsed() >= min_batch || calls >= 1 << 30 {
            break;
        }
        calls = calls.saturating_mul(2);
    }
    let mut batches: Vec<Duration> = (0..BATCHES)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..calls {
                f();
            }
            t.elapsed()
        })
        .collect();
    batches.sort_unstable();
    PerCall {
        median: batches[BATCHES / 2] / calls,
        calls,
    }
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

    // Table buffers, allocated once, as the driver does.
    let layout = Radix3Layout::for_image_size(g.image().len()).expect("layout");
    let mut l0 = vec![0u8; layout.lvl0_size()];
    let mut l1 = vec![0u8; layout.lvl1_size()];
    let mut l2 = vec![0u8; layout.lvl2_size()];
    let table_len = l0.len() + l1.len() + l2.len();
    let mut build = |image_len: usize| {
        let layout = Radix3Layout::for_image_size(image_len).expect("layout");
        build_radix3(
            &layout,
            Radix3Buffers {
                lvl0: &mut l0,
                lvl1: &mut l1,
                lvl2: &mut l2,
            },
            0x1_0000_0000,
            contiguous_pages(0x2_0000_0000, layout.lvl2_pages),
            contiguous_pages(0x40_0000_0000, layout.fw_pages),
        )
        .expect("radix3");
        black_box(&l2);
    };
    let mut tables = (
        vec![0u8; layout.lvl0_size()],
        vec![0u8; layout.lvl1_size()],
        vec![0u8; layout.lvl2_size()],
    );
    let mut fill_tables = |v: u8| {
        tables.0.fill(v);
        tables.1.fill(v);
        tables.2.fill(v);
        black_box(&tables);
    };

    let step = clock_step();
    let min_batch = MIN_BATCH.max(step * MIN_STEPS);
    let parse = time_per_call(min_batch, || {
        let g = GspFirmware::parse(black_box(&file), SignatureFamily::Ga10x).expect("parse");
        black_box(g.image().len());
    });
    let read = time_per_call(min_batch, || {
        black_box(read_bytes(&read_parts));
    });
    let image_len = g.image().len();
    let radix3 = time_per_call(min_batch, || build(black_box(image_len)));
    let mut v = 0u8;
    let fill = time_per_call(min_batch, || {
        v = v.wrapping_add(1);
        fill_tables(v);
    });
    let both = time_per_call(min_batch, || {
        let g = GspFirmware::parse(black_box(&file), SignatureFamily::Ga10x).expect("parse");
        build(g.image().len());
    });

    println!(
        "gsp-570.144.bin: {} bytes, .fwimage {image_len} bytes, {} firmware pages, {} level-2 pages",
        file.len(),
        layout.fw_pages,
        layout.lvl2_pages
    );
    println!(
        "clock step {:.0} ns; each figure is the median of {BATCHES} batches, a batch one \
         interval of >= {:.1} ms (>= {MIN_STEPS} steps)",
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
