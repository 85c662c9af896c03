// SPDX-License-Identifier: GPL-2.0
//! The GSP RISC-V bootloader descriptor.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nova_core_host::firmware::riscv::RiscvBootloader;

fuzz_target!(|data: &[u8]| {
    if let Ok(bl) = RiscvBootloader::parse(data) {
        let _ = bl.manifest();
        let _ = bl.monitor_code();
        let _ = bl.monitor_data();
        assert!(bl.image().len() <= data.len());
    }
});
