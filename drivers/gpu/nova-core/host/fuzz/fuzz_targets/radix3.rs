// SPDX-License-Identifier: GPL-2.0
//! The radix3 builder with arbitrary sizes, buffer lengths and addresses.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nova_core_host::firmware::radix3::{build_radix3, Radix3Buffers, Radix3Layout};

fn word(data: &[u8], i: usize) -> u64 {
    let mut b = [0u8; 8];
    for (k, x) in b.iter_mut().enumerate() {
        *x = data.get(i * 8 + k).copied().unwrap_or(0);
    }
    u64::from_le_bytes(b)
}

fuzz_target!(|data: &[u8]| {
    // Image sizes up to 64 MiB keep the buffers small.
    let size = (word(data, 0) % (64 << 20)) as usize;
    let Ok(layout) = Radix3Layout::for_image_size(size) else {
        return;
    };
    let slack = (word(data, 1) % 16) as usize;
    let mut l0 = vec![0u8; 4096 - slack.min(8)];
    let mut l1 = vec![0u8; 4096];
    let mut l2 = vec![0u8; layout.lvl2_size() + slack * 8 - 64];
    let lvl1 = word(data, 2);
    let base = word(data, 3);
    let lvl2 = (0..layout.lvl2_pages as u64).map(move |i| base.wrapping_add(i << 12));
    let fw_base = word(data, 4);
    let fw = (0..layout.fw_pages as u64).map(move |i| fw_base.wrapping_add(i << 12));
    let _ = build_radix3(
        &layout,
        Radix3Buffers {
            lvl0: &mut l0,
            lvl1: &mut l1,
            lvl2: &mut l2,
        },
        lvl1,
        lvl2,
        fw,
    );
});
