#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The igt suite's report: IGT's output of one VM run -> a per-subtest table and verdicts.

    report.py [RUN_DIR] [--expected FILE]

RUN_DIR is scripts/vm.sh's run directory of the suite (default $NOVA_CACHE/vm/runs/igt). Reads
share/igt/nova.testlist (the list the guest ran), share/out/igt/<binary>.txt (what
tests/vm/igt.sh captured) and share/out/dmesg.txt; writes RUN_DIR/igt-results.txt and prints it,
followed by one PASS/FAIL line per binary and one for tests/igt/expected.txt. The rules are in
tests/igt/README.md.
Besides the per-binary verdicts (vm::igt::BINARY) it prints one PASS/FAIL/SKIP igt::BINARY::SUBTEST
line per subtest, which scripts/test.sh judges against tests/declared/igt.list.
"""
import fnmatch
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

# IGT's exit codes (lib/igt_core.h).
EXIT_NAMES = {0: "SUCCESS", 77: "SKIP", 98: "FAIL", 79: "INVALID", 112: "ABORT"}
BAD = {"FAIL", "CRASH", "TIMEOUT", "INVALID", "ABORT", "NOTRUN", "DMESG-WARN", "DMESG-FAIL"}
# The same kernel reports scripts/vm.sh fails a run for.
SPLAT = re.compile(r"WARNING:|BUG:|Oops|KASAN|kernel BUG|general protection fault|Unable to handle"
                   r"|possible circular locking|possible recursive locking|inconsistent lock state"
                   r"|suspicious RCU usage|UBSAN|Kernel panic|kmemleak: [0-9]+ new suspected"
                   r"|INFO: task .* blocked")
BINARY = "(binary)"


def read_testlist(path):
    """[(binary, limit)] in list order."""
    out = []
    with open(path) as f:
        for line in f:
            words = line.split("#", 1)[0].split()
            if words:
                out.append(words[0])
    return out


def read_expected(path):
    """[(test glob, subtest glob, result, reason, line number)]"""
    out = []
    if not os.path.exists(path):
        return out
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            words = line.split(None, 3)
            if len(words) < 4:
                sys.exit(f"{path}:{n}: want 'TEST SUBTEST RESULT REASON', got '{line}'")
            out.append((words[0], words[1], words[2].upper(), words[3], n))
    return out


class Context:
    """What IGT printed about the subtest (or fixture) being run: the reason for its result."""

    def __init__(self):
        self.requirement = None  # "Test requirement not met ..." block
        self.critical = []  # CRITICAL lines of a failed assertion
        self.other = []  # any other text (igt_skip()'s own messages, child exits)
        self.in_debug = False

    def reason(self, result):
        if result == "SKIP" and self.requirement:
            return self.requirement
        if self.critical:
            return "; ".join(self.critical)
        if self.requirement:
            return self.requirement
        return self.other[-1] if self.other else ""


NOISE = re.compile(r"^(IGT-Version:|Using IGT_SRANDOM|Opened device:|DRM driver:|Stack trace:|"
                   r"\s+#\d+ |Subtest .* failed\.$|No log\.$|\*\*\*\*|Received signal|"
                   r"Starting (dynamic )?subtest:|Terminated$|Killed$)")


def parse_binary(name, text):
    """Rows (subtest, result, reason) and a description of how the binary ended."""
    rows = []
    fixture = Context()  # outside any subtest: a fixture's skip applies to what follows
    ctx = None
    current = None  # the subtest started but not finished
    dyn_parent = None
    footer = None
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        m = re.match(r"^@@nova-igt: exit (\d+) after (\d+) s \(limit (\d+) s\)", line)
        if m:
            footer = tuple(int(x) for x in m.groups())
            continue
        m = re.match(r"^Starting (dynamic )?subtest: (.*)$", line)
        if m:
            if m.group(1):
                current = f"{dyn_parent or current}@{m.group(2)}"
            else:
                current = dyn_parent = m.group(2)
            ctx = Context()
            continue
        m = re.match(r"^(Dynamic subtest|Subtest) (.*): ([A-Z]+)( \((.*)\))?$", line)
        if m:
            dynamic = m.group(1) == "Dynamic subtest"
            sub = f"{dyn_parent}@{m.group(2)}" if dynamic else m.group(2)
            result = m.group(3)
            c = ctx if (ctx is not None and current == sub) else fixture
            reason = c.reason(result)
            if result == "SKIP" and not reason and c is ctx:
                reason = fixture.reason(result)
            rows.append((sub, result, "" if result == "SUCCESS" else reason))
            if dynamic:
                current = dyn_parent
                ctx = Context()
            else:
                current = dyn_parent = None
                ctx = None
            continue
        c = ctx if ctx is not None else fixture
        if line.startswith("**** DEBUG ****"):
            c.in_debug = True
            continue
        if line.startswith("****  END  ****"):
            c.in_debug = False
            continue
        if c.in_debug:
            continue
        m = re.match(r"^Test requirement not met in function (\S+), file (\S+?):?$", line)
        if m:
            # Then "Test requirement: EXPR", maybe a message, and "Last errno: N, TEXT".
            parts = []
            while i < len(lines) and lines[i].strip() and not lines[i].startswith(("Subtest ", "Starting ", "@@")):
                parts.append(lines[i].strip())
                i += 1
                if parts[-1].startswith("Last errno:"):
                    break
            c.requirement = f"Test requirement not met in function {m.group(1)}, file {m.group(2)}: " + "; ".join(parts)
            continue
        m = re.search(r"CRITICAL: (.*)$", line)
        if m:
            msg = m.group(1).strip().rstrip(":")
            if msg and msg not in c.critical:
                c.critical.append(msg)
            continue
        if line.strip() and not NOISE.match(line) and not re.match(r"^\[\s*\d+\.\d+\] \(", line):
            c.other.append(line.strip())

    # How the binary ended.
    if footer is None:
        end, reason = "CRASH", "no exit status recorded (the guest did not finish the binary)"
        rc = None
    else:
        rc, secs, limit = footer
        if rc in (124, 137, 143) and secs >= limit:
            end, reason = "TIMEOUT", f"killed at the {limit} s limit"
        elif rc in EXIT_NAMES:
            end, reason = EXIT_NAMES[rc], f"exit {rc} after {secs} s"
        elif rc > 128:
            end, reason = "CRASH", f"killed by signal {rc - 128} after {secs} s"
        else:
            end, reason = "FAIL", f"exit {rc} after {secs} s"
    if current is not None:
        # A subtest that never reported: it was running when the binary died or was killed.
        rows.append((current, end if end in ("TIMEOUT", "CRASH") else "CRASH",
                     (ctx.reason("FAIL") + "; " if ctx and ctx.reason("FAIL") else "") + reason))
    binreason = reason
    if end == "SKIP":
        binreason = fixture.reason("SKIP") or "every subtest skipped"
        binreason = f"{reason}: {binreason}"
    elif end == "FAIL" and not any(r[1] == "FAIL" for r in rows):
        binreason = f"{reason}; {fixture.reason('FAIL')}".rstrip("; ")
    rows.append((BINARY, end, binreason))
    return rows


def attribute_splats(dmesg_path):
    """{(binary, subtest): [splat lines]} from the guest's dmesg (IGT logs to /dev/kmsg)."""
    out = {}
    if not os.path.exists(dmesg_path):
        return out
    binary, sub = None, None
    with open(dmesg_path, errors="replace") as f:
        for line in f:
            m = re.search(r"nova-igt: running (\S+)", line)
            if m:
                binary, sub = m.group(1), None
                continue
            if re.search(r"nova-igt: finished ", line):
                binary, sub = None, None
                continue
            m = re.search(r"\[IGT\] (\S+): starting (?:dynamic )?subtest (.*)$", line)
            if m:
                sub = m.group(2).strip() if "dynamic" not in line else f"{sub.split('@')[0]}@{m.group(2).strip()}"
                continue
            m = re.search(r"\[IGT\] (\S+): finished subtest (\S+)", line)
            if m:
                sub = sub.split("@")[0] if sub and "@" in sub else None
                continue
            if SPLAT.search(line):
                key = (binary or "(outside IGT)", sub or BINARY)
                out.setdefault(key, []).append(re.sub(r"^\[\s*[\d.]+\]\s*", "", line.strip()))
    return out


def main():
    args = sys.argv[1:]
    expected_path = os.path.join(HERE, "expected.txt")
    if "--expected" in args:
        k = args.index("--expected")
        expected_path = args[k + 1]
        del args[k:k + 2]
    cache = os.environ.get("NOVA_CACHE", os.path.expanduser("~/.cache/nova"))
    run = args[0] if args else os.path.join(cache, "vm", "runs", "igt")
    share = os.path.join(run, "share")
    testlist = os.path.join(share, "igt", "nova.testlist")
    if not os.path.exists(testlist):
        print(f"FAIL vm::igt::report: {testlist} missing (did the igt suite run?)")
        return 1
    binaries = read_testlist(testlist)
    expected = read_expected(expected_path)
    splats = attribute_splats(os.path.join(share, "out", "dmesg.txt"))

    table = []  # (test, subtest, result, reason, verdict problem or None)
    used = set()
    for b in binaries:
        path = os.path.join(share, "out", "igt", f"{b}.txt")
        if os.path.exists(path):
            with open(path, errors="replace") as f:
                rows = parse_binary(b, f.read())
        else:
            rows = [(BINARY, "NOTRUN", "no output: the guest never ran it")]
        for sub, result, reason in rows:
            hits = splats.pop((b, sub), None)
            if hits:
                result = "DMESG-FAIL" if result in BAD else "DMESG-WARN"
                reason = f"dmesg: {hits[0]}" + (f" (+{len(hits) - 1} more)" if len(hits) > 1 else "") + \
                    (f"; {reason}" if reason else "")
            table.append([b, sub, result, reason, None])
    for (b, sub), hits in splats.items():
        table.append([b, sub, "DMESG-WARN", f"dmesg: {hits[0]}", None])

    # Verdicts: expected.txt first, then the general rules.
    for row in table:
        b, sub, result, reason, _ = row
        exp = next((e for e in expected if fnmatch.fnmatchcase(b, e[0]) and fnmatch.fnmatchcase(sub, e[1])), None)
        if exp:
            used.add(exp[4])
            row[3] = f"{reason} [expected: {exp[3]}]" if reason else f"[expected: {exp[3]}]"
            if result == exp[2]:
                continue
            if result == "SUCCESS":
                row[4] = f"UNEXPECTED PASS of {sub} (expected.txt line {exp[4]} says {exp[2]}): remove the entry"
            else:
                row[4] = f"{sub}: {result}, expected {exp[2]} (expected.txt line {exp[4]})"
            continue
        if sub == BINARY and result in ("FAIL", "TIMEOUT", "CRASH") and any(
                r[0] == b and r[1] != BINARY and r[2] in BAD for r in table):
            continue  # how the binary ended follows from a subtest's row, judged there
        if result in BAD:
            row[4] = f"{sub}: {result}" + (f" ({reason})" if reason else "")
        elif result == "SKIP" and not reason:
            row[4] = f"{sub}: SKIP without a reason"
        elif result not in ("SUCCESS", "SKIP"):
            row[4] = f"{sub}: unknown result {result}"

    header = ("test", "subtest", "result", "reason")
    w0 = max(len(header[0]), *(len(r[0]) for r in table))
    w1 = max(len(header[1]), *(len(r[1]) for r in table))
    w2 = max(len(header[2]), *(len(r[2]) for r in table))
    lines = [f"{header[0]:<{w0}}  {header[1]:<{w1}}  {header[2]:<{w2}}  {header[3]}"]
    for b, sub, result, reason, problem in table:
        mark = "  <-- " + ("UNEXPECTED PASS" if problem and problem.startswith("UNEXPECTED") else "FAIL") if problem else ""
        lines.append(f"{b:<{w0}}  {sub:<{w1}}  {result:<{w2}}  {reason}{mark}")
    counts = {}
    for r in table:
        if r[1] != BINARY:
            counts[r[2]] = counts.get(r[2], 0) + 1
    lines.append("subtests: " + ", ".join(f"{v} {k}" for k, v in sorted(counts.items())))
    out = os.path.join(run, "igt-results.txt")
    with open(out, "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))
    print(f"(table: {out})")

    # One line per subtest, for the suite's declared list (tests/declared/igt.list): a subtest
    # IGT skipped for an expected reason is SKIP (the list declares it so), one with a problem
    # is FAIL.
    for b, sub, result, reason, problem in table:
        if sub == BINARY:
            continue
        if problem:
            print(f"FAIL igt::{b}::{sub}: {problem}")
        elif result == "SUCCESS":
            print(f"PASS igt::{b}::{sub}")
        else:
            print(f"SKIP igt::{b}::{sub}: {result} {reason}".rstrip())
    fails = 0
    for b in binaries + sorted({r[0] for r in table} - set(binaries)):
        problems = [r[4] for r in table if r[0] == b and r[4]]
        rows = [r for r in table if r[0] == b and r[1] != BINARY]
        if problems:
            more = f" (+{len(problems) - 2} more)" if len(problems) > 2 else ""
            print(f"FAIL vm::igt::{b}: " + "; ".join(problems[:2]) + more)
            fails += 1
        else:
            n = {}
            for r in rows:
                n[r[2]] = n.get(r[2], 0) + 1
            print(f"PASS vm::igt::{b} (" + ", ".join(f"{v} {k.lower()}" for k, v in sorted(n.items())) + ")")
    stale = [e for e in expected if e[4] not in used]
    if stale:
        print("FAIL vm::igt::expected_list_current: expected.txt entries that match no result: "
              + "; ".join(f"line {e[4]}: {e[0]} {e[1]} {e[2]}" for e in stale))
        fails += 1
    else:
        print("PASS vm::igt::expected_list_current")
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
