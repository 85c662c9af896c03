// SPDX-License-Identifier: GPL-2.0

//! Fuzzes the C entry points with arbitrary lengths and buffer sizes, the way drm_panic.c
//! calls them: the first bytes pick `data_size`, `tmp_size`, `data_len` and the URL; the
//! rest fills the data buffer.

#![no_main]

use drm_panic_qr::kernel_abi::{drm_panic_qr_generate, drm_panic_qr_max_data_size};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| {
    let Some((header, rest)) = input.split_first_chunk::<8>() else {
        return;
    };
    let [d0, d1, t0, t1, l0, l1, url_len, version] = *header;
    let data_size = usize::from(u16::from_le_bytes([d0, d1]) % 9000);
    let tmp_size = usize::from(u16::from_le_bytes([t0, t1]) % 9000);
    let data_len = usize::from(u16::from_le_bytes([l0, l1]) % 9100);

    // SAFETY: always safe to call.
    let max = unsafe { drm_panic_qr_max_data_size(version, usize::from(url_len)) };
    assert!(max <= 7089);

    let (url, content) = rest.split_at(usize::from(url_len).min(rest.len()));
    let mut url: Vec<u8> = url.iter().map(|b| b.max(&1)).copied().collect();
    url.push(0);
    let url_ptr = if url_len == 0 {
        std::ptr::null()
    } else {
        url.as_ptr().cast()
    };
    let mut data = vec![0u8; data_size];
    for (slot, byte) in data.iter_mut().zip(content) {
        *slot = *byte;
    }
    let mut tmp = vec![0xA5u8; tmp_size];
    // SAFETY: `url_ptr` is NULL or a nul-terminated string; `data` and `tmp` are distinct
    // live buffers of exactly `data_size` and `tmp_size` bytes.
    let width = unsafe {
        drm_panic_qr_generate(
            url_ptr,
            data.as_mut_ptr(),
            data_len,
            data_size,
            tmp.as_mut_ptr(),
            tmp_size,
        )
    };
    if width != 0 {
        assert!(data_len <= data_size);
        assert!((21..=177).contains(&width) && (width - 17) % 4 == 0);
        let pitch = usize::from(width).div_ceil(8);
        assert!(data_size >= pitch * usize::from(width));
    }
});
