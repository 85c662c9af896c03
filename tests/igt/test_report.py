#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Checks of report.py on made-up IGT output (no VM): each case prints PASS/FAIL igt::report::NAME."""
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))

SKIP_FIXTURE = """IGT-Version: 2.5-NO-GIT (x86_64) (Linux: 7.3.4 x86_64)
Opened device: /dev/dri/card1
Test requirement not met in function __igt_unique____real_main222, file ../tests/syncobj_basic.c:228:
Test requirement: has_syncobj(fd)
Last errno: 22, Invalid argument
Subtest bad-destroy: SKIP (0.000s)
Subtest bad-create-flags: SKIP (0.000s)
@@nova-igt: exit 77 after 2 s (limit 60 s)
"""
PASSING = """Starting subtest: bad-destroy
Subtest bad-destroy: SUCCESS (0.001s)
Starting subtest: bad-create-flags
Subtest bad-create-flags: SUCCESS (0.001s)
@@nova-igt: exit 0 after 2 s (limit 60 s)
"""
ASSERT_FAIL = """Starting subtest: basic
Subtest basic: SUCCESS (0.001s)
Starting subtest: master-drop-set-user
(core_setmaster:78) igt_device_scan-CRITICAL: Test assertion failure function scan_drm_devices, file ../lib/igt_device_scan.c:1191:
(core_setmaster:78) igt_device_scan-CRITICAL: Failed assertion: !ret
(core_setmaster:78) igt_device_scan-CRITICAL: Last errno: 13, Permission denied
Stack trace:
  #0 [<unknown>+0x6b826b92]
Subtest master-drop-set-user failed.
**** DEBUG ****
(core_setmaster:78) igt_device_scan-CRITICAL: Failed assertion: something else from the log
****  END  ****
child 0 failed with exit status 98
Subtest master-drop-set-user: FAIL (1.164s)
Starting subtest: in-subtest-skip
Test requirement not met in function f, file ../tests/x.c:10:
Test requirement: thing
Last errno: 19, No such device
Subtest in-subtest-skip: SKIP (0.000s)
@@nova-igt: exit 98 after 17 s (limit 60 s)
"""
TIMEOUT = """Starting subtest: unbind-rebind
Subtest unbind-rebind: SUCCESS (14.877s)
Starting subtest: hotrebind-lateclose
Terminated
@@nova-igt: exit 143 after 120 s (limit 120 s)
"""
CRASH = """Starting subtest: basic
Received signal SIGSEGV.
@@nova-igt: exit 139 after 3 s (limit 60 s)
"""
DYNAMIC = """Starting subtest: all
Starting dynamic subtest: card1
Dynamic subtest card1: SUCCESS (0.100s)
Starting dynamic subtest: card2
No card2 here
Dynamic subtest card2: SKIP (0.000s)
Subtest all: SUCCESS (0.300s)
@@nova-igt: exit 0 after 2 s (limit 60 s)
"""
NO_REASON = """Starting subtest: quiet
Subtest quiet: SKIP (0.000s)
@@nova-igt: exit 77 after 1 s (limit 60 s)
"""
DMESG = """[  1.0] nova-igt: running core_hotunplug
[  1.1] [IGT] core_hotunplug: executing
[  1.2] [IGT] core_hotunplug: starting subtest unbind-rebind
[  1.3] WARNING: CPU: 0 PID: 99 at drivers/gpu/drm/drm_drv.c:1 drm_dev_unplug+0x10
[  1.4] [IGT] core_hotunplug: finished subtest unbind-rebind, SUCCESS
[  1.5] nova-igt: finished core_hotunplug
"""
SYNC_EXPECTED = "syncobj_basic  *  SKIP  driver lacks DRIVER_SYNCOBJ (issue #6, in progress)\n"


def run(outputs, expected="", dmesg="", testlist=None):
    with tempfile.TemporaryDirectory() as d:
        os.makedirs(f"{d}/share/igt")
        os.makedirs(f"{d}/share/out/igt")
        with open(f"{d}/share/igt/nova.testlist", "w") as f:
            f.write("# list\n" + "\n".join(testlist or outputs.keys()) + "\n")
        for name, text in outputs.items():
            with open(f"{d}/share/out/igt/{name}.txt", "w") as f:
                f.write(text)
        with open(f"{d}/share/out/dmesg.txt", "w") as f:
            f.write(dmesg)
        with open(f"{d}/expected.txt", "w") as f:
            f.write("# comment\n" + expected)
        p = subprocess.run([sys.executable, f"{HERE}/report.py", d, "--expected", f"{d}/expected.txt"],
                           capture_output=True, text=True)
        with open(f"{d}/igt-results.txt") as f:
            table = f.read()
        return p.returncode, p.stdout, table


def row(table, test, sub):
    for line in table.splitlines():
        w = line.split(None, 3)
        if len(w) >= 3 and w[0] == test and w[1] == sub:
            return w[2], (w[3] if len(w) > 3 else "")
    return None, None


def cases():
    rc, out, t = run({"syncobj_basic": SKIP_FIXTURE}, SYNC_EXPECTED)
    yield "fixture_skip_expected", rc == 0 and "PASS vm::igt::syncobj_basic (2 skip)" in out \
        and "has_syncobj(fd); Last errno: 22" in row(t, "syncobj_basic", "bad-create-flags")[1] \
        and "issue #6" in row(t, "syncobj_basic", "bad-destroy")[1]

    rc, out, t = run({"syncobj_basic": PASSING}, SYNC_EXPECTED)
    yield "unexpected_pass_fails", rc != 0 and "UNEXPECTED PASS of bad-destroy" in out

    rc, out, t = run({"core_setmaster": ASSERT_FAIL})
    res, why = row(t, "core_setmaster", "master-drop-set-user")
    yield "assertion_failure_reason", rc != 0 and res == "FAIL" \
        and "Failed assertion: !ret" in why and "Last errno: 13" in why and "something else" not in why \
        and row(t, "core_setmaster", "in-subtest-skip") == ("SKIP", "Test requirement not met in function f, "
                                                            "file ../tests/x.c:10: Test requirement: thing; "
                                                            "Last errno: 19, No such device")

    rc, out, t = run({"core_setmaster": ASSERT_FAIL}, "core_setmaster master-drop-set-user FAIL bug\n")
    yield "expected_failure_passes", rc == 0 and "PASS vm::igt::core_setmaster" in out

    rc, out, t = run({"core_setmaster": ASSERT_FAIL.replace("FAIL (1.164s)", "SUCCESS (1.1s)")})
    yield "exit_98_without_failing_subtest_fails", rc != 0 and "(binary): FAIL (exit 98 after 17 s" in out

    rc, out, t = run({"core_hotunplug": TIMEOUT})
    yield "timeout", rc != 0 and row(t, "core_hotunplug", "hotrebind-lateclose")[0] == "TIMEOUT" \
        and row(t, "core_hotunplug", "(binary)")[0] == "TIMEOUT"

    rc, out, t = run({"core_getversion": CRASH})
    yield "crash", rc != 0 and row(t, "core_getversion", "basic")[0] == "CRASH" \
        and "signal 11" in row(t, "core_getversion", "(binary)")[1]

    rc, out, t = run({"kms": DYNAMIC})
    yield "dynamic_subtests", rc == 0 and row(t, "kms", "all@card1")[0] == "SUCCESS" \
        and row(t, "kms", "all@card2") == ("SKIP", "No card2 here") and row(t, "kms", "all")[0] == "SUCCESS"

    rc, out, t = run({"quiet": NO_REASON})
    yield "skip_without_reason_fails", rc != 0 and "SKIP without a reason" in out

    rc, out, t = run({"core_hotunplug": PASSING.replace("bad-destroy", "unbind-rebind")}, dmesg=DMESG)
    res, why = row(t, "core_hotunplug", "unbind-rebind")
    yield "splat_attributed", rc != 0 and res == "DMESG-WARN" and "drm_dev_unplug" in why

    rc, out, t = run({"core_getversion": PASSING}, "core_auth * FAIL gone\n")
    yield "stale_expected_entry_fails", rc != 0 and "FAIL vm::igt::expected_list_current" in out

    rc, out, t = run({}, testlist=["core_auth"])
    yield "not_run", rc != 0 and row(t, "core_auth", "(binary)")[0] == "NOTRUN"


def main():
    bad = 0
    for name, ok in cases():
        print(f"{'PASS' if ok else 'FAIL'} igt::report::{name}")
        bad += not ok
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
