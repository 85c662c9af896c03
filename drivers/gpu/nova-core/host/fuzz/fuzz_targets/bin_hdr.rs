// SPDX-License-Identifier: GPL-2.0
//! `nvfw_bin_hdr` and the generic falcon bootloader descriptor.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nova_core_host::firmware::bin_hdr::{BinFile, FalconBootloader};

fuzz_target!(|data: &[u8]| {
    if let Ok(f) = BinFile::parse(data) {
        assert!(f.data.base() + f.data.len() <= data.len());
        assert!(f.header.base() <= data.len());
    }
    if let Ok(bl) = FalconBootloader::parse(data) {
        assert_eq!(bl.code.len(), bl.desc.code_size as usize);
    }
});
