#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Checks of scripts/ktap.py on made-up KUnit console logs (no VM): each case prints
PASS/FAIL ktap::NAME. The logs have the shape of a real boot (printk timestamps, other kernel
messages in between, `.location` and attribute lines), trimmed to a few tests."""
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
KTAP = os.path.join(ROOT, "scripts", "ktap.py")
VERDICT = os.path.join(ROOT, "scripts", "verdict.py")

HEAD = """[    0.000000] Linux version 7.3.4 (nova)
[   10.640543] on the kernel command line
[   10.648543] KTAP version 1
[   10.648543] 1..2
[   10.652543]     KTAP version 1
[   10.652543]     # Subtest: rust_kernel_fmt
[   10.652543]     # speed: normal
[   10.652543]     1..1
[   10.680545]     # test_ptr_formatting.speed: normal
[   10.684545]     ok 1 test_ptr_formatting
[   10.684545] ok 1 rust_kernel_fmt
[   10.984564]     KTAP version 1
[   10.984564]     # Subtest: rust_doctests_kernel
[   10.984564]     # module: doctests_kernel_generated_kunit
[   10.984564]     1..3
[   10.988564]     # rust_doctest_kernel_dma_fence_rs_0.location: rust/kernel/dma_fence.rs:236
[   11.004565]     ok 1 rust_doctest_kernel_dma_fence_rs_0
[   11.008566]     # rust_doctest_kernel_dma_fence_rs_1.location: rust/kernel/dma_fence.rs:402
[   11.010000] rust_doctests_kernel: The value is: 24
"""
DOCTEST_1_OK = "[   11.020566]     ok 2 rust_doctest_kernel_dma_fence_rs_1\n"
DOCTEST_1_FAILS = """[   11.012000]     # rust_doctest_kernel_dma_fence_rs_1: ASSERTION FAILED at rust/kernel/dma_fence.rs:410
[   11.012000]     Expected fence.is_signaled() to be true, but is false
[   11.020566]     not ok 2 rust_doctest_kernel_dma_fence_rs_1
"""
TAIL = """[   11.024567]     # rust_doctest_kernel_drm_syncobj_rs_0.location: rust/kernel/drm/syncobj.rs:49
[   11.040568]     ok 3 rust_doctest_kernel_drm_syncobj_rs_0
[   17.732986] # rust_doctests_kernel: pass:3 fail:0 skip:0 total:3
[   17.732986] # Totals: pass:3 fail:0 skip:0 total:3
[   17.732986] ok 2 rust_doctests_kernel
[   17.880995] Run /init as init process
"""
CLEAN = HEAD + DOCTEST_1_OK + TAIL
FAILING = HEAD + DOCTEST_1_FAILS + TAIL.replace("ok 2 rust_doctests_kernel", "not ok 2 rust_doctests_kernel")
CRASH = HEAD + """[   11.012000] BUG: kernel NULL pointer dereference, address: 0000000000000008
[   11.012000] Oops: Oops: 0002 [#1] SMP KASAN
[   11.013000] Kernel panic - not syncing: Fatal exception
"""
SKIPPED = HEAD + "[   11.020566]     ok 2 rust_doctest_kernel_dma_fence_rs_1 # SKIP needs a GPU\n" + TAIL
DISABLED = "[    0.000000] Linux version 7.3.4 (nova)\n[   10.648543] kunit: disabled\n[   17.880995] Run /init as init process\n"
# The second suite never starts: the kernel stopped between suites.
SUITE_MISSING = "\n".join(CLEAN.splitlines()[:11]) + "\n"
# A suite that reports fewer results than its plan, and ends anyway.
SHORT_PLAN = HEAD + DOCTEST_1_OK + TAIL.splitlines()[2] + "\n" + TAIL.split("\n", 4)[4]
# A suite whose own result is "not ok" while every case passed (its init or exit failed).
SUITE_NOT_OK = CLEAN.replace("ok 2 rust_doctests_kernel", "not ok 2 rust_doctests_kernel")
PARAMS = CLEAN.replace("""[   10.684545]     ok 1 test_ptr_formatting
""", """[   10.680545]         KTAP version 1
[   10.680545]         # Subtest: test_ptr_formatting
[   10.680545]         ok 1 small
[   10.680545]         # test_ptr_formatting: ASSERTION FAILED at rust/kernel/fmt.rs:230
[   10.680545]         not ok 2 huge
[   10.684545]     not ok 1 test_ptr_formatting
""")
# kunit_assert! in a thread a doctest spawned: KUnit never hears of it, the test says ok.
HIDDEN = HEAD + """[   11.012000]     # rust_doctest_kernel_dma_fence_rs_1: ASSERTION FAILED at rust/kernel/dma_fence.rs:410
[   11.012000]     Expected done to be true, but is false
[   11.012000]     Failure not reported to KUnit since this is a non-KUnit task
""" + DOCTEST_1_OK + TAIL

DECLARED = """include vm.list
kunit::ktap_complete
kunit::rust_kernel_fmt::test_ptr_formatting
kunit::rust_doctests_kernel::rust_doctest_kernel_dma_fence_rs_0
kunit::rust_doctests_kernel::rust_doctest_kernel_dma_fence_rs_1
kunit::rust_doctests_kernel::rust_doctest_kernel_drm_syncobj_rs_0
"""
VM_LIST = "vm::{suite}::guest_completed\n"

TMP = tempfile.mkdtemp(prefix="test_ktap.")
failed = 0


def write(name, text):
    path = os.path.join(TMP, name)
    with open(path, "w") as f:
        f.write(text)
    return path


DECL = write("kunit.list", DECLARED)
write("vm.list", VM_LIST)


def run(log_text, declared=DECL, cmd="results", extra=()):
    """(exit status, {name: (kind, rest)}, lines) of `ktap.py CMD` on LOG_TEXT."""
    log = write("console.txt", log_text)
    args = [sys.executable, KTAP, cmd, log] + (["--declared", declared] if declared and cmd == "results" else [])
    p = subprocess.run(args + list(extra), capture_output=True, text=True)
    res = {}
    lines = []
    for line in p.stdout.splitlines():
        m = re.match(r"^(PASS|FAIL|SKIP) (\S+?):?(?: (.*))?$", line)
        if m:
            lines.append(m.group(2))
            res[m.group(2)] = (m.group(1), m.group(3) or "")
    return p.returncode, res, lines, p


def judge(log_text, declared_text):
    """verdict.py's (passed, failed, declared) for the results of LOG_TEXT against DECLARED_TEXT."""
    _, _, _, p = run(log_text, write("judge.list", declared_text))
    results = write("suite.log", p.stdout + "PASS vm::kunit::guest_completed\n")
    summary = write("summary.txt", "")
    subprocess.run([sys.executable, VERDICT, "judge", "--suite", "kunit", "--declared",
                    os.path.join(TMP, "judge.list"), "--log", results, "--rc", "0", "--seconds", "1",
                    "--summary", summary], capture_output=True, text=True)
    name, declared, passed, failed_n, _ = open(summary).read().split()
    return int(passed), int(failed_n), int(declared)


def check(name, cond, why):
    global failed
    if cond:
        print(f"PASS ktap::{name}")
    else:
        print(f"FAIL ktap::{name}: {why}")
        failed = 1


K = "kunit::rust_doctests_kernel::"
F = "kunit::rust_kernel_fmt::test_ptr_formatting"

rc, res, lines, p = run(CLEAN)
check("clean_run_passes",
      rc == 0 and all(res.get(n, ("",))[0] == "PASS" for n in
                      [F, K + "rust_doctest_kernel_dma_fence_rs_0", K + "rust_doctest_kernel_dma_fence_rs_1",
                       K + "rust_doctest_kernel_drm_syncobj_rs_0", "kunit::ktap_complete"]) and len(lines) == 5,
      f"rc {rc}, {p.stdout!r}")
check("location_reported", "(rust/kernel/dma_fence.rs:402)" in res.get(K + "rust_doctest_kernel_dma_fence_rs_1", ("", ""))[1],
      f"{res.get(K + 'rust_doctest_kernel_dma_fence_rs_1')}")

rc, res, lines, p = run(FAILING)
r = res.get(K + "rust_doctest_kernel_dma_fence_rs_1", ("", ""))
check("failing_doctest_fails",
      rc != 0 and r[0] == "FAIL" and "ASSERTION FAILED at rust/kernel/dma_fence.rs:410" in r[1]
      and "Expected fence.is_signaled()" in r[1] and res.get("kunit::ktap_complete", ("",))[0] == "PASS",
      f"rc {rc}, {p.stdout!r}")

rc, res, lines, p = run(HIDDEN)
r = res.get(K + "rust_doctest_kernel_dma_fence_rs_1", ("", ""))
check("assertion_outside_kunit_fails",
      rc != 0 and r[0] == "FAIL" and "outside KUnit" in r[1] and "Expected done to be true" in r[1],
      f"rc {rc}, {p.stdout!r}")

rc, res, lines, p = run(CRASH)
r1 = res.get(K + "rust_doctest_kernel_dma_fence_rs_1", ("", ""))
r2 = res.get(K + "rust_doctest_kernel_drm_syncobj_rs_0", ("", ""))
check("crash_fails_the_rest",
      rc != 0 and r1[0] == "FAIL" and r1[1].startswith("this test was running when the KTAP stream stopped")
      and "stopped in suite rust_doctests_kernel after 1 of 3" in r1[1] and "BUG: kernel NULL pointer" in r1[1]
      and r2[0] == "FAIL" and res.get("kunit::ktap_complete", ("",))[0] == "FAIL"
      and res.get(K + "rust_doctest_kernel_dma_fence_rs_0", ("",))[0] == "PASS",
      f"rc {rc}, {p.stdout!r}")
passed, failed_n, declared = judge(CRASH, DECLARED)
check("crash_keeps_the_total", passed == 3 and failed_n == 3 and passed + failed_n == declared,
      f"passed {passed} failed {failed_n} declared {declared}: the crash shrank the total")

rc, res, lines, p = run(SUITE_MISSING)
r = res.get(K + "rust_doctest_kernel_dma_fence_rs_0", ("", ""))
check("missing_suite_fails",
      rc != 0 and r[0] == "FAIL" and "never ran" in r[1] and "stopped before it" in r[1]
      and "announces 2 suites, 1 started" in res.get("kunit::ktap_complete", ("", ""))[1],
      f"rc {rc}, {p.stdout!r}")

rc, res, lines, p = run(DISABLED)
c = res.get("kunit::ktap_complete", ("", ""))
check("kunit_disabled_fails",
      rc != 0 and c[0] == "FAIL" and "kunit: disabled" in c[1]
      and sum(1 for k, _ in res.values() if k == "FAIL") == 5,
      f"rc {rc}, {p.stdout!r}")

rc, res, lines, p = run(SKIPPED)
r = res.get(K + "rust_doctest_kernel_dma_fence_rs_1", ("", ""))
check("skip_reported", rc != 0 and r[0] == "SKIP" and r[1] == "needs a GPU", f"rc {rc}, {p.stdout!r}")
passed, failed_n, _ = judge(SKIPPED, DECLARED)
check("undeclared_skip_fails", failed_n == 1 and passed == 5, f"passed {passed} failed {failed_n}")
passed, failed_n, _ = judge(SKIPPED, DECLARED.replace(K + "rust_doctest_kernel_dma_fence_rs_1",
                                                      "skip " + K + "rust_doctest_kernel_dma_fence_rs_1"))
check("declared_skip_passes", failed_n == 0 and passed == 5, f"passed {passed} failed {failed_n}")

rc, res, lines, p = run(SHORT_PLAN)
check("short_plan_fails",
      rc != 0 and "planned 3 tests and reported 2" in res.get("kunit::ktap_complete", ("", ""))[1]
      and "not among the 2 results" in res.get(K + "rust_doctest_kernel_drm_syncobj_rs_0", ("", ""))[1],
      f"rc {rc}, {p.stdout!r}")

rc, res, lines, p = run(SUITE_NOT_OK)
check("suite_not_ok_fails",
      rc != 0 and "reports 'not ok' with no failed case" in res.get("kunit::ktap_complete", ("", ""))[1],
      f"rc {rc}, {p.stdout!r}")

rc, res, lines, p = run(PARAMS)
r = res.get(F, ("", ""))
check("failed_parameter_named",
      rc != 0 and r[0] == "FAIL" and "failed parameters: huge" in r[1] and "small" not in r[1].split("parameters:")[1],
      f"rc {rc}, {p.stdout!r}")

passed, failed_n, declared = judge(CLEAN, DECLARED + K + "rust_doctest_kernel_sched_rs_0\n")
check("declared_test_not_run_fails", failed_n == 1 and passed + failed_n == declared,
      f"passed {passed} failed {failed_n} declared {declared}")
passed, failed_n, _ = judge(CLEAN, DECLARED.replace(F + "\n", ""))
check("undeclared_test_fails", failed_n == 1, f"passed {passed} failed {failed_n}")

# declare: refuses an incomplete stream; groups a doctest of a file a patch adds first.
rc, _, _, p = run(CRASH, cmd="declare")
check("declare_refuses_incomplete", rc != 0 and "not a complete KUnit run" in p.stderr, f"rc {rc}, {p.stderr!r}")
pdir = os.path.join(TMP, "patches")
os.makedirs(pdir, exist_ok=True)
write("patches/0004-rust-add-dma_fence.patch", "--- /dev/null\n+++ b/rust/kernel/dma_fence.rs\n@@ -0,0 +1 @@\n+//! x\n")
rc, _, _, p = run(CLEAN, cmd="declare", extra=["--patches", pdir])
body = p.stdout.split("# --- the rest")[0] if "# --- the rest" in p.stdout else ""
check("declare_groups_our_tests",
      rc == 0 and K + "rust_doctest_kernel_dma_fence_rs_1  # rust/kernel/dma_fence.rs, patch 0004" in body
      and K + "rust_doctest_kernel_drm_syncobj_rs_0" not in body and "include vm.list" in p.stdout,
      f"rc {rc}, {p.stdout!r} {p.stderr!r}")

sys.exit(failed)
