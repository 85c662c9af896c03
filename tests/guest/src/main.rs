// SPDX-License-Identifier: GPL-2.0
//! Guest test runner: `nova-guest-tests SUITE|SUITE::TEST...`, `nova-guest-tests --list
//! [SUITE...]` (the test names, as tests/declared/*.list declares them), or
//! `nova-guest-tests render PATH` (the
//! `make run` picture, drawn by the GPU: see [`exec::render`]).
//!
//! Runs inside the QEMU guest (see scripts/vm.sh) with the modules in `$NOVA_MODULES` (default
//! `/mnt/modules`). Prints one `PASS name` / `FAIL name: why` line per test and a closing
//! `guest: N passed, N failed` line; exits non-zero when anything failed or a named suite does
//! not exist. The host harness judges the lines against the suite's declared list and also
//! scans the guest's dmesg for splats, so a test that passes here can still fail the run.

mod bar0;
mod drm;
mod exec;
mod fuzz;
mod mem;
mod port;
mod sched;
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
    if wanted.first().map(String::as_str) == Some("--list") {
        // The names a run of these suites prints, to compare with tests/declared/*.list.
        for (suite, tests) in suites::all() {
            if wanted.len() == 1 || wanted[1..].iter().any(|w| w == suite) {
                for (name, _) in tests {
                    println!("{suite}::{name}");
                }
            }
        }
        return ExitCode::SUCCESS;
    }
    let all = suites::all();
    // A suite name that matches nothing would run no test: that is an error, not an empty pass.
    // A whole suite ("exec") or one of its tests ("exec::bad_exec").
    let names = |w: &str, suite: &str, name: &str| {
        w == suite || w.strip_prefix(suite).and_then(|t| t.strip_prefix("::")) == Some(name)
    };
    let unknown: Vec<&String> = wanted
        .iter()
        .filter(|w| {
            !all.iter()
                .any(|(s, tests)| tests.iter().any(|(n, _)| names(w, s, n)))
        })
        .collect();
    if wanted.is_empty() || !unknown.is_empty() {
        println!(
            "guest: no such suite {unknown:?}; suites: {}",
            all.iter().map(|(s, _)| *s).collect::<Vec<_>>().join(" ")
        );
        return ExitCode::from(2);
    }
    let mut passed = 0;
    let mut failed = 0;
    for (suite, tests) in all {
        for (name, body) in tests {
            if !wanted.iter().any(|w| names(w, suite, name)) {
                continue;
            }
            // A test that panics fails on its own; the ones after it still run.
            let outcome = std::panic::catch_unwind(body).unwrap_or_else(|p| {
                let msg = p
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| p.downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                Err(format!("panicked: {msg}"))
            });
            match outcome {
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
