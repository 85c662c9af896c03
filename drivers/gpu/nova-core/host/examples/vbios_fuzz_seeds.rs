// SPDX-License-Identifier: GPL-2.0
//! Writes seeds for the `vbios` libFuzzer target: the hand-made PROM images the VBIOS tests
//! build (`tests/common/vbios_builder.rs`), each after the target's five control bytes.
//!
//! `cargo run -p nova-core-host --example vbios_fuzz_seeds -- DIR`
//!
//! The test `fuzz_seeds_reach_the_patch` (`tests/vbios.rs`) checks the same seeds parse and
//! reach the FWSEC patch; this program only writes them.

#[allow(dead_code)]
#[path = "../tests/common/vbios_builder.rs"]
mod vbios_builder;

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut args = std::env::args_os().skip(1);
    let (Some(dir), None) = (args.next(), args.next()) else {
        eprintln!("usage: vbios_fuzz_seeds DIR");
        return ExitCode::from(2);
    };
    let dir = PathBuf::from(dir);
    if let Err(e) = std::fs::create_dir_all(&dir) {
        eprintln!("{}: {e}", dir.display());
        return ExitCode::FAILURE;
    }
    for (i, (_, seed)) in vbios_builder::fuzz_seeds().into_iter().enumerate() {
        let path = dir.join(format!("built-{i}"));
        if let Err(e) = std::fs::write(&path, &seed) {
            eprintln!("{}: {e}", path.display());
            return ExitCode::FAILURE;
        }
        println!("{} ({} bytes)", path.display(), seed.len());
    }
    ExitCode::SUCCESS
}
