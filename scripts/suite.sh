# SPDX-License-Identifier: GPL-2.0
# Running a test suite and judging it against the tests it declares. Sourced by scripts/test.sh
# and tests/harness/selftest.sh, never run. Needs lib.sh.
#
# run_suite NAME DECLARED LIMIT CMD...
#   Runs CMD (its stdout and stderr into $SUITE_LOGS/NAME.log) under a time limit of LIMIT
#   seconds, shows its result lines, then has scripts/verdict.py judge them against DECLARED
#   (tests/declared/*.list): a declared test without a result, an undeclared result, a repeated
#   result, no result at all, a timeout or a non-zero exit that no FAIL line explains each
#   print a FAIL line naming the suite. Appends the suite's line to $SUITE_SUMMARY.
#   Never fails itself: the verdicts are in the summary. SUITE_QUIET_PASS=1 hides PASS lines.
#
# vm_suite NAME GUEST_SCRIPT VGPU_ARGS [DECLARED]
#   run_suite of one guest boot (scripts/vm.sh); DECLARED defaults to tests/declared/NAME.list.
#   VM_TIMEOUT (default 600) bounds the guest; the suite's own limit is VM_TIMEOUT + 180 s.

SUITE_LOGS=${SUITE_LOGS:-$NOVA_CACHE/test-logs}
SUITE_SUMMARY=${SUITE_SUMMARY:-$SUITE_LOGS/summary.txt}

run_suite() {
    local name=$1 declared=$2 limit=$3 start rc secs
    shift 3
    mkdir -p "$SUITE_LOGS"
    SUITES_RUN=$((${SUITES_RUN:-0} + 1))
    log "suite $name"
    start=$(date +%s.%N)
    rc=0
    timeout -k 30 "$limit" "$@" > "$SUITE_LOGS/$name.log" 2>&1 < /dev/null || rc=$?
    secs=$(echo "$(date +%s.%N) - $start" | bc)
    if [ -n "${SUITE_QUIET_PASS:-}" ]; then
        grep -aE '^(FAIL|SKIP) ' "$SUITE_LOGS/$name.log" || true
    else
        grep -aE '^(PASS|FAIL|SKIP) ' "$SUITE_LOGS/$name.log" || true
    fi
    python3 "$NOVA_ROOT/scripts/verdict.py" judge --suite "$name" --declared "$declared" \
        --log "$SUITE_LOGS/$name.log" --rc "$rc" --seconds "$secs" --summary "$SUITE_SUMMARY" \
        || true
}

vm_suite() {
    local name=$1 script=$2 args=${3:-} declared=${4:-$NOVA_ROOT/tests/declared/$1.list}
    local t=${VM_TIMEOUT:-600}
    run_suite "$name" "$declared" $((t + 180)) \
        env VGPU_ARGS="$args" VM_TIMEOUT="$t" bash "$NOVA_ROOT/scripts/vm.sh" "$name" "$script"
}
