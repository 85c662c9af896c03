// SPDX-License-Identifier: GPL-2.0
//! Guest test runner: `nova-guest-tests [SUITE | SUITE::TEST ...]`, or `nova-guest-tests render PATH` (the
//! `make run` picture, drawn by the GPU: see [`exec::render`]).
//!
//! Runs inside the QEMU guest (see scripts/vm.sh) with the modules in `$NOVA_MODULES` (default
//! `/mnt/modules`). Prints one `PASS name` / `FAIL name: why` line per test and a closing
//! `guest: N passed, N failed` line; exits non-zero when anything failed. The host harness
//! also scans the guest's dmesg for splats, so a test that passes here can still fail the run.

mod drm;
mod exec;
mod fuzz;
mod mem;
mod port;
mod suites;
mod syncobj;
mod util;
mod vms;

use std::process::ExitCode;

/// A test: name and body. `Err` carries the reason for failure.
pub type Test = (&'static str, fn() -> Result<(), String>);

fn main() -> ExitCode {
    let wanted: Vec<String> = std::env::args().skip(1).collect();
    if wanted.first().map(String::as_str) == Some("render") {
        let path = wanted.get(1).map_or("/mnt/out/render.ppm", String::as_str);
        return match exec::render(path) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                println!("render: FAILED: {e}");
                ExitCode::FAILURE
            }
        };
    }
    let mut passed = 0;
    let mut failed = 0;
    for (suite, tests) in suites::all() {
        // A whole suite ("exec") or one of its tests ("exec::bad_exec").
        let picked = |name: &str| {
            wanted.is_empty()
                || wanted.iter().any(|w| {
                    w == suite
                        || w.strip_prefix(suite).and_then(|t| t.strip_prefix("::")) == Some(name)
                })
        };
        for (name, body) in tests {
            if !picked(name) {
                continue;
            }
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
