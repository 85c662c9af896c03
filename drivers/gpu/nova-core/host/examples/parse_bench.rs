// SPDX-License-Identifier: GPL-2.0
//! Times parsing `ga102/gsp/gsp-570.144.bin` plus building its radix3 table, against a plain
//! memcpy of the same bytes measured in the same run.
//!
//! `cargo run --release -p nova-core-host --example parse_bench`
//!
//! The firmware is found like the tests find it: `$NOVA_FIRMWARE_DIR`, else
//! `$NOVA_CACHE/firmware/lib/firmware` (`NOVA_CACHE` defaults to `$HOME/.cache/nova`).
//! Throughput is the file's size divided by the time per operation: the parser only reads
//! the ELF header, the section table and the name table, so its "GB/s" says how much file it
//! gets through per second of work, not how many bytes it touches.

use std::hint::black_box;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use nova_core_host::firmware::gsp::{GspFirmware, SignatureFamily};
use nova_core_host::firmware::radix3::{
    build_radix3, contiguous_pages, Radix3Buffers, Radix3Layout,
};

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

/// Runs `f` repeatedly for about `budget` and returns the mean time per call.
fn time_per_call(budget: Duration, mut f: impl FnMut()) -> (Duration, u32) {
    f(); // warm up
    let start = Instant::now();
    let mut n = 0u32;
    while start.elapsed() < budget {
        f();
        n += 1;
    }
    (start.elapsed() / n, n)
}

fn gbps(bytes: usize, per_call: Duration) -> f64 {
    bytes as f64 / per_call.as_secs_f64() / 1e9
}

fn main() {
    let path = firmware_dir().join("nvidia/ga102/gsp/gsp-570.144.bin");
    let file = std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (run `make setup`, or set NOVA_FIRMWARE_DIR)",
            path.display()
        )
    });
    let len = file.len();

    // Buffers for the table, allocated once, as the driver would.
    let g = GspFirmware::parse(&file, SignatureFamily::Ga10x).expect("parse");
    let layout = Radix3Layout::for_image_size(g.image().len()).expect("layout");
    let mut l0 = vec![0u8; layout.lvl0_size()];
    let mut l1 = vec![0u8; layout.lvl1_size()];
    let mut l2 = vec![0u8; layout.lvl2_size()];
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

    let budget = Duration::from_millis(1500);
    let (parse, n_parse) = time_per_call(budget, || {
        let g = GspFirmware::parse(black_box(&file), SignatureFamily::Ga10x).expect("parse");
        black_box(g.image().len());
    });
    let (both, n_both) = time_per_call(budget, || {
        let g = GspFirmware::parse(black_box(&file), SignatureFamily::Ga10x).expect("parse");
        build(g.image().len());
    });
    let mut dst = vec![0u8; len];
    let (copy, n_copy) = time_per_call(budget, || {
        dst.copy_from_slice(black_box(&file));
        black_box(&dst);
    });

    println!(
        "gsp-570.144.bin: {len} bytes, .fwimage {} bytes, {} firmware pages, {} level-2 pages",
        g.image().len(),
        layout.fw_pages,
        layout.lvl2_pages
    );
    println!(
        "parse only          : {:>10.3} us/op  {:>10.1} GB/s  ({n_parse} runs)",
        parse.as_secs_f64() * 1e6,
        gbps(len, parse)
    );
    println!(
        "parse + radix3 build: {:>10.3} us/op  {:>10.1} GB/s  ({n_both} runs)",
        both.as_secs_f64() * 1e6,
        gbps(len, both)
    );
    println!(
        "memcpy of the file  : {:>10.3} us/op  {:>10.1} GB/s  ({n_copy} runs)",
        copy.as_secs_f64() * 1e6,
        gbps(len, copy)
    );
    println!(
        "ratio (parse + radix3 throughput / memcpy throughput): {:.1}x",
        gbps(len, both) / gbps(len, copy)
    );
}
