// SPDX-License-Identifier: GPL-2.0
//! HS header v2 / load header v2 (Booter, scrubber) and signature selection. The first four
//! bytes choose the fuse register value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nova_core_host::firmware::hs::HsFirmware;

fuzz_target!(|data: &[u8]| {
    let (fuse, file) = match data.split_first_chunk::<4>() {
        Some((f, rest)) => (u32::from_le_bytes(*f), rest),
        None => (0, data),
    };
    let Ok(fw) = HsFirmware::parse(file) else {
        return;
    };
    if let Ok((i, sig)) = fw.select_signature(fuse) {
        assert!(i < fw.num_sig);
        assert_eq!(sig.len(), fw.signature_size());
    }
    for i in 0..fw.load.num_apps.min(4) {
        let _ = fw.app(i);
    }
    let _ = fw.fuse_register();
    let mut ucode = fw.ucode().to_vec();
    let _ = fw.patch_signature(&mut ucode, fuse);
});
