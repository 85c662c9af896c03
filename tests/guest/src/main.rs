// SPDX-License-Identifier: GPL-2.0
//! Guest test runner: `nova-guest-tests [SUITE...]`.
//!
//! Runs inside the QEMU guest (see scripts/vm.sh) with the modules in `$NOVA_MODULES` (default
//! `/mnt/modules`). Prints one `PASS name` / `FAIL name: why` line per test and a closing
//! `guest: N passed, N failed` line; exits non-zero when anything failed. The host harness
//! also scans the guest's dmesg for splats, so a test that passes here can still fail the run.

mod drm;
mod mem;
mod port;
mod suites;
mod vms;

use std::process::ExitCode;

/// A test: name and body. `Err` carries the reason for failure.
pub type Test = (&'static str, fn() -> Result<(), String>);

fn main() -> ExitCode {
    let wanted: Vec<String> = std::env::args().skip(1).collect();
    let mut passed = 0;
    let mut failed = 0;
    for (suite, tests) in suites::all() {
        if !wanted.is_empty() && !wanted.iter().any(|w| w == suite) {
            continue;
        }
        for (name, body) in tests {
            match body() {
                Ok(()) => {
                    println!("PASS {suite}::{name}");
                    passed += 1;
                }
                Err(why) => {
                    println!("FAIL {suite}::{name}: {why}");
                    failed += 1;
                }
            }
        }
    }
    println!("guest: {passed} passed, {failed} failed");
    if failed == 0 && passed > 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
