#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""KUnit's KTAP output (a guest's console or dmesg) -> PASS/FAIL/SKIP lines.

    ktap.py results LOG [--declared LIST]   one line per test: PASS/FAIL/SKIP kunit::SUITE::TEST
    ktap.py declare LOG [--build KOUT] [--patches DIR] [--source KSRC]
                                            a new tests/declared/kunit.list on stdout

`results` reads the KTAP that KUnit prints at boot (printk timestamps are stripped, lines of
other kernel messages in between are ignored) and prints, for every test case it finds:

    PASS kunit::SUITE::TEST [(FILE:LINE)]     ok (and no "ASSERTION FAILED" in its log: an assert in
                                              a thread the test spawned is only printed)
    FAIL kunit::SUITE::TEST: REASON           not ok; REASON is KUnit's diagnostics (assertion,
                                              location, failed parameters), or "not ok"
    SKIP kunit::SUITE::TEST REASON            ok ... # SKIP REASON

and one verdict of the stream itself, kunit::ktap_complete: it fails when there is no KTAP at
all (KUnit disabled, the kernel never got there), when the stream stops early (a crash or hang
in a test: a suite whose results stop short of its plan, suites missing from the top-level
plan), or when a suite reports "not ok" while none of its cases failed (a suite init/exit
failure). With --declared, each declared kunit::SUITE::TEST that has no result gets a FAIL line
saying why (the stream stopped in that suite, the suite never ran, or the test is not in the
suite's results any more), so a crash can never shrink the total: every declared test is
counted. Results nobody declared are printed as they are; scripts/verdict.py fails them.

`declare` writes the declared list from the KTAP of one complete run (it refuses an incomplete
stream), in the order KUnit ran the tests, grouped by where they come from: the tests in files
our patches (--patches: kernel/patches/*.patch) add, those in files they change, then the rest
of the kernel crate. --source is the patched kernel tree, where the file of each
#[kunit_tests] suite is found (its tests print no location). With --build it also checks that
the run's Rust doctests are exactly those of KOUT/rust/doctests_kernel_generated_kunit.c, the
doctests the kernel was built with. A test that was skipped in that run is declared as a plain
name: it fails until someone decides it may be skipped and writes `skip NAME`.
"""
import argparse
import glob
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import verdict  # noqa: E402  (read_declared: the one reader of tests/declared/*.list)

PREFIX = "kunit"
# printk's prefix: "[   10.648543] ", optionally followed by a caller id "[    T1] ".
PRINTK = re.compile(r"^\[\s*\d+\.\d+\](?:\[\s*[CT]\d+\])? ?")
RESULT = re.compile(r"^(ok|not ok) (\d+)(?: (.*?))?(?: # (SKIP|TODO)\b ?(.*))?$")
PLAN = re.compile(r"^1\.\.(\d+)$")
SUBTEST = re.compile(r"^# Subtest: (\S+)$")
LOCATION = re.compile(r"^# (\S+)\.location: (\S+)$")
ATTRIBUTE = re.compile(r"^# (?:\S+\.)?(speed|module|is_init): ")
SPLAT = re.compile(r"WARNING:|BUG:|Oops|general protection fault|Kernel panic|KASAN|UBSAN|"
                   r"possible (circular|recursive) locking|INFO: task .* blocked")
HIDDEN_FAILURE = re.compile(r"(ASSERTION|EXPECTATION) FAILED at ")
STATS = re.compile(r"^# (?:\S+: pass:\d+ fail:\d+ skip:\d+ total:\d+|Totals: .*)$")


class Case:
    """One test case's result."""

    def __init__(self, suite, name, status, directive, reason, diag, params, location):
        self.suite, self.name, self.status = suite, name, status
        self.directive, self.reason = directive, reason
        self.diag, self.params, self.location = diag, params, location

    @property
    def full(self):
        return f"{PREFIX}::{self.suite}::{self.name}"


class Suite:
    def __init__(self, name):
        self.name = name
        self.plan = None
        self.cases = []
        self.end = None  # (status, directive) of the suite's own result line


class Stream:
    """What a KTAP log holds: suites in order, the top-level plan, and how it ended."""

    def __init__(self):
        self.started = False
        self.plan = None
        self.suites = []
        self.current = None  # the suite whose cases are being read
        self.diag = []  # diagnostics since the last case result
        self.params = []  # (status, description) of parameters since the last case result
        self.locations = {}
        self.last_line = ""
        self.disabled = False
        self.problems = []
        self.running = None  # the test whose .location line came last, before its result
        self.splat = None  # the first kernel error line inside an unfinished suite


def indent_of(text):
    return len(text) - len(text.lstrip(" "))


def parse(lines):
    s = Stream()
    for raw in lines:
        raw = raw.rstrip("\r\n")
        text = PRINTK.sub("", raw, count=1)
        body = text.strip()
        if not body:
            continue
        if body in ("kunit: disabled", "kunit: disabled\n"):
            s.disabled = True
        ind = indent_of(text)
        if ind == 0 and body in ("KTAP version 1", "TAP version 14"):
            if s.started:
                # A second run (e.g. from debugfs): only the boot run is read.
                break
            s.started = True
            continue
        if not s.started:
            continue
        if ind == 0 and s.current is not None and s.splat is None and SPLAT.search(body):
            s.splat = body
        if ind == 0:
            m = PLAN.match(body)
            if m and s.plan is None and not s.suites:
                s.plan = int(m.group(1))
                s.last_line = body
                continue
            m = RESULT.match(body)
            if m and s.current is not None and m.group(3) == s.current.name:
                s.current.end = (m.group(1), m.group(4))
                s.current = None
                s.diag, s.params = [], []
                s.last_line = body
                continue
            # Suite statistics, or another kernel message printed in between: not KTAP.
            continue
        if ind == 4:
            if body == "KTAP version 1":
                continue
            m = SUBTEST.match(body)
            if m:
                if s.current is not None:
                    s.problems.append(f"suite {s.current.name} has no result line before suite {m.group(1)} started")
                s.current = Suite(m.group(1))
                s.suites.append(s.current)
                s.diag, s.params = [], []
                s.last_line = body
                continue
            if s.current is None:
                continue
            m = PLAN.match(body)
            if m and s.current.plan is None and not s.current.cases:
                s.current.plan = int(m.group(1))
                s.last_line = body
                continue
            m = RESULT.match(body)
            if m:
                name = m.group(3) or f"test-{m.group(2)}"
                reason = ""
                if m.group(4) == "SKIP":
                    reason = (m.group(5) or "").strip()
                s.current.cases.append(Case(s.current.name, name, m.group(1), m.group(4), reason,
                                            s.diag, s.params, s.locations.get(name)))
                s.diag, s.params = [], []
                s.last_line = body
                continue
        if s.current is None:
            continue
        # Everything else inside a suite: diagnostics of the case that is running.
        m = LOCATION.match(body)
        if m:
            s.locations[m.group(1)] = m.group(2)
            s.running = m.group(1)
            continue
        if ATTRIBUTE.match(body) or STATS.match(body):
            continue
        if ind >= 8:
            m = RESULT.match(body)
            if m:
                s.params.append((m.group(1), m.group(3) or m.group(2)))
                continue
            if body == "KTAP version 1" or PLAN.match(body) or SUBTEST.match(body):
                continue
        s.diag.append(body)
        s.last_line = body
    return s


def completeness(s):
    """Why the stream is not complete ([] when it is)."""
    why = list(s.problems)
    if not s.started:
        if s.disabled:
            return ["no KTAP output: the kernel says 'kunit: disabled' (boot with kunit.enable=1)"]
        return ["no KTAP output on the console (KUnit not built in, disabled, or the kernel never reached it)"]
    if s.plan is None:
        why.append("no top-level plan (1..N) after 'KTAP version 1'")
    elif len(s.suites) != s.plan:
        why.append(f"the plan announces {s.plan} suites, {len(s.suites)} started")
    for su in s.suites:
        if su.end is None:
            why.append(f"suite {su.name} stopped after {len(su.cases)} of {su.plan if su.plan is not None else '?'} "
                       f"tests with no result line{stop_detail(s, su)}")
            continue
        if su.plan is not None and len(su.cases) != su.plan:
            why.append(f"suite {su.name} planned {su.plan} tests and reported {len(su.cases)}")
        if su.end[0] == "not ok" and not any(c.status == "not ok" and c.directive != "SKIP" for c in su.cases):
            why.append(f"suite {su.name} reports 'not ok' with no failed case (suite init or exit failed)")
    return why


def stop_detail(s, su):
    """What is known of where an unfinished suite stopped: the test running, the kernel's error."""
    done = {c.name for c in su.cases}
    out = f" (last KTAP line: '{s.last_line[:120]}'"
    if s.running and s.running not in done and su is s.suites[-1]:
        out += f"; running: {s.running}"
    if s.splat:
        out += f"; the kernel then said: '{s.splat[:160]}'"
    return out + ")"


def fail_reason(c):
    parts = list(c.diag)
    bad = [d for st, d in c.params if st == "not ok"]
    if bad:
        parts.append(f"failed parameters: {', '.join(bad[:8])}{' ...' if len(bad) > 8 else ''}")
    text = " | ".join(p.lstrip("# ").strip() for p in parts if p.strip())
    where = f" ({c.location})" if c.location else ""
    return ((text or "not ok" + (f" # {c.directive} {c.reason}".rstrip() if c.directive else "")) + where)[:600]


def results(a):
    with open(a.log, errors="replace") as f:
        s = parse(f)
    seen = set()
    failed = False
    for su in s.suites:
        for c in su.cases:
            seen.add(c.full)
            failed = failed or c.status != "ok" or c.directive == "SKIP"
            if c.directive == "SKIP":
                print(f"SKIP {c.full} {c.reason or 'skipped with no reason given'}")
            elif c.status == "ok" and not any(HIDDEN_FAILURE.search(d) for d in c.diag):
                print(f"PASS {c.full}" + (f" ({c.location})" if c.location else ""))
            elif c.status == "ok":
                # kunit_assert! outside the test's own task (a thread the doctest spawned) only
                # prints KUnit's failure format: the test itself still says ok.
                print(f"FAIL {c.full}: reported ok, but an assertion failed outside KUnit: {fail_reason(c)}")
                failed = True
            else:
                print(f"FAIL {c.full}: {fail_reason(c)}")
    why = completeness(s)
    if why:
        print(f"FAIL {PREFIX}::ktap_complete: {'; '.join(why)}"[:1500])
    else:
        print(f"PASS {PREFIX}::ktap_complete ({len(s.suites)} suites, "
              f"{sum(len(su.cases) for su in s.suites)} tests)")
    failed = failed or bool(why)
    if a.declared:
        by_suite = {su.name: su for su in s.suites}
        for name, _ in verdict.read_declared(a.declared, "kunit"):
            parts = name.split("::")
            if len(parts) != 3 or parts[0] != PREFIX or name in seen:
                continue
            su = by_suite.get(parts[1])
            if su is None:
                why = f"suite {parts[1]} never ran"
                if not s.started:
                    why += " (no KTAP output at all)"
                elif len(s.suites) < (s.plan or 0) or (s.suites and s.suites[-1].end is None):
                    why += " (the KTAP stream stopped before it)"
                else:
                    why += " (not in the kernel's KUnit suites: its config off, or renamed?)"
            elif su.end is None:
                why = (f"no result: the KTAP stream stopped in suite {su.name} after {len(su.cases)} of "
                       f"{su.plan if su.plan is not None else '?'} tests{stop_detail(s, su)}")
                if parts[2] == s.running:
                    why = "this test was running when " + why[len("no result: "):]
            else:
                why = (f"not among the {len(su.cases)} results of suite {su.name} (removed or renamed? "
                       f"regenerate tests/declared/kunit.list)")
            print(f"FAIL {name}: {why}")
            failed = True
    return 1 if failed else 0


def patch_files(patch_dir):
    """{path: (patch file name, added?)} of the files the kernel patches add or change."""
    out = {}
    for p in sorted(glob.glob(os.path.join(patch_dir, "*.patch"))):
        new = False
        with open(p, errors="replace") as f:
            for line in f:
                if line.startswith("--- "):
                    new = line.strip() == "--- /dev/null"
                elif line.startswith("+++ b/"):
                    path = line[6:].strip()
                    prev = out.get(path)
                    out[path] = (prev[0] if prev else os.path.basename(p), (prev[1] if prev else False) or new)
    return out


def kunit_suites_in_patches(patch_dir):
    """{suite: patch} of the #[kunit_tests(SUITE)] modules our patches add."""
    out = {}
    attr = re.compile(r"^\+.*#\[(?:::)?(?:kernel::)?(?:macros::)?kunit_tests\((\w+)\)\]")
    for p in sorted(glob.glob(os.path.join(patch_dir, "*.patch"))):
        with open(p, errors="replace") as f:
            for line in f:
                m = attr.match(line)
                if m:
                    out[m.group(1)] = os.path.basename(p)
    return out


def kunit_suites_in_source(src):
    """{suite: path} of the #[kunit_tests(SUITE)] modules in the kernel tree SRC's rust/."""
    out = {}
    attr = re.compile(r"#\[(?:::)?(?:kernel::)?(?:macros::)?kunit_tests\((\w+)\)\]")
    for p in glob.glob(os.path.join(src, "rust", "**", "*.rs"), recursive=True):
        with open(p, errors="replace") as f:
            for m in attr.finditer(f.read()):
                out[m.group(1)] = os.path.relpath(p, src)
    return out


def declare(a):
    with open(a.log, errors="replace") as f:
        s = parse(f)
    why = completeness(s)
    if why:
        sys.exit("ktap.py declare: the log is not a complete KUnit run: " + "; ".join(why))
    cases = [c for su in s.suites for c in su.cases]
    if a.build:
        gen = os.path.join(a.build, "rust", "doctests_kernel_generated_kunit.c")
        try:
            with open(gen) as f:
                built = re.findall(r"KUNIT_CASE\((rust_doctest_\w+)\)", f.read())
        except OSError as e:
            sys.exit(f"ktap.py declare: {e}")
        ran = [c.name for c in cases if c.suite == "rust_doctests_kernel"]
        if sorted(built) != sorted(ran):
            missing = sorted(set(built) - set(ran))
            extra = sorted(set(ran) - set(built))
            sys.exit(f"ktap.py declare: the run's doctests differ from the build's ({gen}): "
                     f"not run {missing[:5]}, not built {extra[:5]}")
    files = patch_files(a.patches) if a.patches else {}
    own_suites = kunit_suites_in_patches(a.patches) if a.patches else {}
    suite_files = kunit_suites_in_source(a.source) if a.source else {}
    groups = {"added": [], "changed": [], "rest": []}
    for c in cases:
        where = c.location.split(":")[0] if c.location else suite_files.get(c.suite)
        note = ""
        if c.suite in own_suites:
            key, note = "added", f"{where or '?'}, patch {own_suites[c.suite][:4]}"
        elif where in files:
            key = "added" if files[where][1] else "changed"
            note = f"{where}, patch {files[where][0][:4]}" if key == "added" else where
        else:
            key = "rest"
        groups[key].append((c, note))
    out = [
        "# SPDX-License-Identifier: GPL-2.0",
        "# kunit suite (tests/vm/kunit.sh, scripts/ktap.py): every KUnit test built into the guest",
        "# kernel, booted with kunit.enable=1. KUnit runs them all at boot; the host parses the KTAP",
        "# on the console into PASS/FAIL/SKIP kunit::SUITE::TEST lines.",
        "#",
        "# Names: a Rust doctest is rust_doctests_kernel::rust_doctest_kernel_<file>_rs_<N>, N counting",
        "# the doctests of that file from 0 in source order (rustdoc's name, no line number: moving code",
        "# does not rename a test, adding a doctest above another in the same file does). A",
        "# #[kunit_tests(SUITE)] module's tests are SUITE::<fn name>.",
        "#",
        "# Generated from a complete run by scripts/kunit-list.sh (boots the kunit guest, then",
        "# `scripts/ktap.py declare`); rerun it after a patch adds, removes or reorders KUnit tests",
        "# (e.g. a new kernel/patches/NNNN with doctests or a #[kunit_tests] module) and check the",
        "# diff: every test of the new patch must be in the first group. Adding names by hand works",
        "# too: kunit::SUITE::TEST, one a line, anywhere below. A test that skips itself fails",
        "# unless declared `skip kunit::SUITE::TEST`.",
        "include vm.list",
        f"{PREFIX}::ktap_complete",
    ]
    titles = {
        "added": "tests in files our patches add (kernel/patches/), and #[kunit_tests] suites they add",
        "changed": "tests in files our patches change (upstream's tests, run on our patched code)",
        "rest": "the rest of the kernel crate's KUnit tests",
    }
    for key in ("added", "changed", "rest"):
        out.append("")
        out.append(f"# --- {titles[key]}: {len(groups[key])}")
        for c, note in groups[key]:
            out.append(f"{c.full}" + (f"  # {note}" if note and key != "rest" else ""))
    print("\n".join(out))
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("results")
    r.add_argument("log")
    r.add_argument("--declared")
    d = sub.add_parser("declare")
    d.add_argument("log")
    d.add_argument("--build")
    d.add_argument("--patches")
    d.add_argument("--source")
    a = p.parse_args()
    try:
        return results(a) if a.cmd == "results" else declare(a)
    except OSError as e:
        print(f"FAIL {PREFIX}::ktap_complete: cannot read {e.filename}: {e.strerror}")
        return 1


if __name__ == "__main__":
    sys.exit(main())
