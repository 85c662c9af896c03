// SPDX-License-Identifier: GPL-2.0
//! Small helpers the ioctl-level suites (`mem`, `exec`) share.

use libnova::Error;
use std::fmt::{Debug, Display};

/// `Result::map_err` to a message with context.
pub trait Ctx<T> {
    /// The error as "`what`: error".
    fn ctx(self, what: impl Display) -> Result<T, String>;
}

impl<T, E: Display> Ctx<T> for Result<T, E> {
    fn ctx(self, what: impl Display) -> Result<T, String> {
        self.map_err(|e| format!("{what}: {e}"))
    }
}

/// Ok if `cond` holds, else the message `what` builds.
pub fn check(cond: bool, what: impl FnOnce() -> String) -> Result<(), String> {
    if cond {
        Ok(())
    } else {
        Err(what())
    }
}

/// An errno (either sign) by name ("ENOENT"), or "errno N" for one libnova does not name.
pub fn errno_str(e: i32) -> String {
    libnova::errno_name(e.abs()).map_or_else(|| format!("errno {e}"), str::to_string)
}

/// `r` must have failed with `errno`.
pub fn expect_err<T: Debug>(
    what: impl Display,
    r: Result<T, Error>,
    errno: i32,
) -> Result<(), String> {
    match r {
        Err(e) if e.errno() == errno => Ok(()),
        Err(e) => Err(format!("{what}: {e}, want {}", errno_str(errno))),
        Ok(v) => Err(format!(
            "{what}: succeeded ({v:?}), want {}",
            errno_str(errno)
        )),
    }
}

/// `v` rounded up to a multiple of the power of two `a`.
pub const fn align_up(v: u64, a: u64) -> u64 {
    (v + a - 1) & !(a - 1)
}

/// Waits for `cond` to hold, looking every `period` until `wait` has passed; the error names
/// `what` and the last value `cond` described. For events nothing can be blocked on from user
/// space (a word the GPU writes, a GETPARAM value, a dmesg line): the condition is the event
/// itself, the pause between looks only keeps the loop from taking the CPU from the guest's
/// other work (and is short against `wait`).
pub fn poll_until(
    what: impl Display,
    wait: std::time::Duration,
    period: std::time::Duration,
    mut cond: impl FnMut() -> Result<Option<String>, String>,
) -> Result<(), String> {
    let deadline = std::time::Instant::now() + wait;
    loop {
        let why = match cond()? {
            None => return Ok(()),
            Some(why) => why,
        };
        if std::time::Instant::now() >= deadline {
            return Err(format!("{what}: not within {wait:?}: {why}"));
        }
        std::thread::sleep(period);
    }
}

/// What the VM harness (`scripts/vm.sh`) counts as a kernel splat in dmesg.
const SPLAT: &str = r"WARNING:|BUG:|Oops|KASAN|kernel BUG|general protection fault|Unable to handle|possible circular locking|possible recursive locking|inconsistent lock state|suspicious RCU usage|UBSAN|Kernel panic|kmemleak: [0-9]+ new suspected|INFO: task .* blocked";

/// The dmesg lines that are kernel splats, now.
pub fn splats() -> Result<Vec<String>, String> {
    let re = regex::Regex::new(SPLAT).map_err(|e| format!("splat regex: {e}"))?;
    Ok(crate::suites::dmesg()?
        .lines()
        .filter(|l| re.is_match(l))
        .map(str::to_string)
        .collect())
}

/// Ok if dmesg holds no splat beyond the `before` first ones (from [`splats`]), else the new
/// ones (the first three).
pub fn no_new_splat(before: usize, what: &str) -> Result<(), String> {
    let now = splats()?;
    check(now.len() <= before, || {
        format!(
            "{what}: the kernel logged {} splat line(s): {}",
            now.len() - before,
            now[before..]
                .iter()
                .take(3)
                .cloned()
                .collect::<Vec<_>>()
                .join(" | ")
        )
    })
}
