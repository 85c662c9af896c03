#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Judges one test suite's output against the tests the suite declares.

    verdict.py judge --suite NAME --declared FILE --log LOG --rc RC --seconds S --summary FILE
    verdict.py cargo LOG            cargo test output -> PASS/FAIL/SKIP lines (host::PKG::TARGET::TEST)
    verdict.py names FILE [--suite NAME]   the declared names of FILE, one a line
    verdict.py table FILE           the summary table (one line per suite) and the total line

A suite's result lines are `PASS name[ anything]` and `FAIL name: why` (`SKIP name` for a test
the suite chose not to run). The declared list (tests/declared/*.list) names every test the
suite must produce, one a line; `{suite}` stands for the suite's name, `skip NAME` declares a
test that must be reported as skipped (a benchmark among the unit tests), `#` starts a comment.

`judge` prints one FAIL line, naming the suite and why, for each of:
  - a declared test with no result, or with a SKIP it did not declare;
  - a result nobody declared (an undeclared extra);
  - a test reported more than once;
  - a suite with no result at all;
  - a runner that timed out (rc 124) or exited non-zero without a FAIL line explaining it;
and appends `NAME DECLARED PASSED FAILED SECONDS` to the summary file. A test counts as passed
only if it was declared and every line for it says PASS; every other problem counts as failed.
The exit status is 0 when the suite had no failure.
"""
import argparse
import os
import re
import sys

RESULT = re.compile(r"^(PASS|FAIL|SKIP) (\S+?)(:?)(\s.*)?$")


def read_declared(path, suite, seen=None):
    """[(name, must_skip)] of the list at PATH; `include FILE` reads another list first."""
    seen = seen or set()
    path = os.path.abspath(path)
    if path in seen:
        sys.exit(f"{path}: include loop")
    seen.add(path)
    out = []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            words = line.split("#", 1)[0].split()
            if not words:
                continue
            if words[0] == "include" and len(words) == 2:
                out += read_declared(os.path.join(os.path.dirname(path), words[1]), suite, seen)
            elif words[0] == "skip" and len(words) == 2:
                out.append((words[1].replace("{suite}", suite), True))
            elif len(words) == 1:
                out.append((words[0].replace("{suite}", suite), False))
            else:
                sys.exit(f"{path}:{n}: want 'NAME', 'skip NAME' or 'include FILE', got '{line.strip()}'")
    return out


def read_results(path):
    """[(kind, name, rest)] of the result lines of LOG, in order."""
    out = []
    try:
        with open(path, errors="replace") as f:
            for line in f:
                m = RESULT.match(line.rstrip("\n"))
                if m:
                    out.append((m.group(1), m.group(2), (m.group(4) or "").strip()))
    except FileNotFoundError:
        pass
    return out


def last_lines(path, n=3):
    try:
        with open(path, errors="replace") as f:
            lines = [l.strip() for l in f if l.strip()]
    except FileNotFoundError:
        return "(no output)"
    return " | ".join(lines[-n:])[:400] or "(no output)"


def judge(a):
    try:
        declared = read_declared(a.declared, a.suite)
    except (OSError, SystemExit) as e:
        print(f"FAIL {a.suite}: cannot read the declared test list: {e}")
        with open(a.summary, "a") as f:
            f.write(f"{a.suite} 0 0 1 {a.seconds:.0f}\n")
        return 1
    names = [n for n, _ in declared]
    dup_decl = sorted({n for n in names if names.count(n) > 1})
    must_skip = {n for n, s in declared if s}
    want = set(names)
    results = read_results(a.log)
    by_name = {}
    for kind, name, rest in results:
        by_name.setdefault(name, []).append((kind, rest))

    fails = []  # (why) lines of this harness, each counted once
    for n in dup_decl:
        fails.append(f"{n} is declared twice")
    passed = 0
    failed_tests = 0
    for name in dict.fromkeys(names):
        got = by_name.get(name)
        if not got:
            fails.append(f"{name} declared but produced no result")
            continue
        kinds = [k for k, _ in got]
        if len(got) > 1:
            fails.append(f"{name} reported {len(got)} times ({', '.join(kinds)})")
        if "FAIL" in kinds:
            failed_tests += 1  # the suite's own FAIL line says why
        elif name in must_skip:
            if kinds != ["SKIP"]:
                fails.append(f"{name} is declared as skipped but was run ({kinds[0]})")
        elif "SKIP" in kinds:
            fails.append(f"{name} was skipped ({got[0][1] or 'no reason given'})")
        elif len(got) == 1:
            passed += 1
    for name, got in by_name.items():
        if name not in want:
            kind, rest = got[0]
            fails.append(f"{name} is not declared (reported {kind}{': ' + rest[:120] if rest else ''})")
            if kind == "FAIL":
                failed_tests += 1  # still a failure, whether declared or not
    if not results:
        fails.append("the suite produced no result at all")
    if a.rc == 124:
        fails.append(f"timed out; last output: {last_lines(a.log)}")
    elif a.rc != 0 and not any(k == "FAIL" for k, _, _ in results):
        fails.append(f"exited {a.rc} without a FAIL line; last output: {last_lines(a.log)}")

    for why in fails:
        print(f"FAIL {a.suite}: {why}")
    failed = failed_tests + len(fails)
    with open(a.summary, "a") as f:
        f.write(f"{a.suite} {len(set(names))} {passed} {failed} {a.seconds:.0f}\n")
    return 1 if failed else 0


def cargo(a):
    """Names each test of `cargo test` host::PACKAGE::TARGET::PATH, TARGET being lib, main, bin,
    doc or the integration test's file name. cargo runs a package's unit tests before its
    integration tests, so those take the package of the unit tests before them."""
    package, target = "?", "?"
    running = re.compile(r"^\s+Running (\S+)(?: (\S+))? \((?:.*/)?([^/)]+?)(?:-[0-9a-f]{16})?\)$")
    doc = re.compile(r"^\s+Doc-tests (\S+)$")
    test = re.compile(r"^test (.+?) \.\.\. (ok|FAILED|ignored)(?:,.*)?$")
    with open(a.log, errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            m = running.match(line)
            if m:
                kind, src, binary = m.group(1), m.group(2) or "", m.group(3).replace("_", "-")
                if kind == "unittests":
                    package = binary
                    target = {"src/lib.rs": "lib", "src/main.rs": "main"}.get(src, "bin")
                else:
                    target = binary
                continue
            m = doc.match(line)
            if m:
                package, target = m.group(1).replace("_", "-"), "doc"
                continue
            m = test.match(line)
            if m:
                # Doc-tests are "FILE - ITEM (line N) - compile": line numbers move with edits.
                name = re.sub(r" \(line \d+\)", "", m.group(1)).replace(" ", "_")
                kind = {"ok": "PASS", "FAILED": "FAIL", "ignored": "SKIP"}[m.group(2)]
                print(f"{kind} host::{package}::{target}::{name}"
                      + (": failed (see the host log)" if kind == "FAIL" else ""))
    return 0


def names(a):
    for n, s in read_declared(a.file, a.suite):
        print(("skip " if s else "") + n)
    return 0


def table(a):
    rows = []
    with open(a.file) as f:
        for line in f:
            w = line.split()
            if len(w) == 5:
                rows.append((w[0], int(w[1]), int(w[2]), int(w[3]), int(w[4])))
    width = max([len(r[0]) for r in rows] + [5])
    print(f"{'suite':<{width}} declared passed failed seconds")
    for name, d, p, fl, s in rows:
        print(f"{name:<{width}} {d:>8} {p:>6} {fl:>6} {s:>7}{'  <-- FAILED' if fl else ''}")
    tp = sum(r[2] for r in rows)
    tf = sum(r[3] for r in rows)
    ts = sum(r[4] for r in rows)
    print(f"{'total':<{width}} {sum(r[1] for r in rows):>8} {tp:>6} {tf:>6} {ts:>7}")
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    j = sub.add_parser("judge")
    j.add_argument("--suite", required=True)
    j.add_argument("--declared", required=True)
    j.add_argument("--log", required=True)
    j.add_argument("--rc", type=int, required=True)
    j.add_argument("--seconds", type=float, default=0)
    j.add_argument("--summary", required=True)
    c = sub.add_parser("cargo")
    c.add_argument("log")
    n = sub.add_parser("names")
    n.add_argument("file")
    n.add_argument("--suite", default="{suite}")
    t = sub.add_parser("table")
    t.add_argument("file")
    a = p.parse_args()
    return {"judge": judge, "cargo": cargo, "names": names, "table": table}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
