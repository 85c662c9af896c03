// SPDX-License-Identifier: GPL-2.0
//! The VBIOS walk down to the FWSEC command patch. The first four bytes choose the fuse
//! register value, the fifth the command.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nova_core_host::vbios::fwsec::FwsecCommand;
use nova_core_host::vbios::{image, Vbios};

fuzz_target!(|data: &[u8]| {
    let (fuse, rest) = match data.split_first_chunk::<4>() {
        Some((f, rest)) => (u32::from_le_bytes(*f), rest),
        None => (0, data),
    };
    let (cmd, prom) = match rest.split_first() {
        Some((&c, prom)) => (c, prom),
        None => (0, rest),
    };
    for img in image::images(prom, 0) {
        if img.is_err() {
            break;
        }
    }
    let Ok(v) = Vbios::parse(prom) else {
        return;
    };
    let f = &v.fwsec;
    let _ = f.select_signature(fuse);
    let _ = f.fuse_register();
    let mut ucode = f.ucode_bytes().to_vec();
    let cmd = if cmd & 1 == 0 {
        FwsecCommand::Sb
    } else {
        FwsecCommand::Frts {
            frts_addr: u64::from(fuse) << 12,
            frts_size: 1 << 20,
        }
    };
    let _ = f.patch(&mut ucode, cmd, Some(fuse));
});
