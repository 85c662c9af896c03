// SPDX-License-Identifier: GPL-2.0
//! The ELF section walker and the GSP-RM container on top of it, for every signature family.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nova_core_host::firmware::elf::Elf;
use nova_core_host::firmware::gsp::{GspFirmware, SignatureFamily};
use nova_core_host::firmware::radix3::Radix3Layout;

fuzz_target!(|data: &[u8]| {
    if let Ok(elf) = Elf::parse(data) {
        for s in elf.sections().flatten() {
            assert!(s.data.len() <= data.len());
        }
    }
    for fam in SignatureFamily::ALL {
        if let Ok(g) = GspFirmware::parse(data, fam) {
            let _ = Radix3Layout::for_image_size(g.image().len());
        }
    }
});
