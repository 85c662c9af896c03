#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The harness's own checks (the `harness` suite of `make test`, declared in
# tests/declared/harness.list). Each one makes a suite go wrong on purpose and passes only if
# the harness turns that into FAIL lines naming the suite and why, counted in its summary:
#   - the VM harness stops with a message naming what is missing, never hangs or half-runs;
#   - a vGPU that refuses to start, a guest runner that crashes, a guest that hangs, a suite
#     that prints nothing, a runner asked for a suite it does not have, a declared test that
#     never runs and a result nobody declared;
#   - a host-side command that hangs or prints nothing.
# The VM checks use the real kernel, modules, vGPU and guest runner of the build.
. "$(dirname "$0")/../../scripts/lib.sh"
. "$NOVA_ROOT/scripts/suite.sh"
cd "$NOVA_ROOT"
set +e

work=$NOVA_CACHE/test-logs/selftest
rm -rf "$work"
mkdir -p "$work"
SUITE_LOGS=$work
VM=tests/declared/vm.list

# result NAME OK WHY: the check's own line.
result() {
    if [ "$2" = 1 ]; then echo "PASS harness::$1"; else echo "FAIL harness::$1: $3"; fi
}

# --- 1. vm.sh's prerequisites: it stops at once, naming what is missing
prereq() {
    local name=$1 want=$2 out rc
    shift 2
    out=$(timeout 60 env "$@" bash scripts/vm.sh "selftest-$name" tests/vm/main.sh 2>&1)
    rc=$?
    if [ $rc != 0 ] && [ $rc != 124 ] && grep -qF -- "$want" <<< "$out" \
        && grep -q "^FAIL vm::selftest-$name::setup: " <<< "$out"; then
        result "$name" 1
    else
        result "$name" 0 "exit $rc, output: $(tr '\n' ' ' <<< "$out" | cut -c1-300)"
    fi
}
prereq missing_vgpu_socket "did not create its socket" VGPU_BIN=/bin/true
prereq missing_kernel "/nonexistent/bzImage" NOVA_KERNEL=/nonexistent/bzImage
prereq missing_guest_tests "/nonexistent/guest-tests" GUEST_TESTS_BIN=/nonexistent/guest-tests
prereq bad_vgpu_argument "unknown argument" VGPU_ARGS=--no-such-flag

# --- 2. suites that go wrong, judged as scripts/test.sh judges them
# declared NAME DECLARED-LINES... : writes the declared list of selftest suite NAME.
declared() {
    local name=$1
    shift
    printf '%s\n' "$@" > "$work/$name.list"
}
# expect CHECK SUITE PATTERN...: the suite's judged output holds every PATTERN (grep -E) and its
# summary line counts at least one failure.
expect() {
    local check=$1 suite=$2 out=$work/$2.judged p missing=""
    shift 2
    for p in "$@"; do
        grep -qE -- "$p" "$out" || missing+="'$p' "
    done
    local failed
    failed=$(awk -v s="$suite" '$1 == s { print $4 }' "$SUITE_SUMMARY")
    if [ -z "$missing" ] && [ "${failed:-0}" -gt 0 ]; then
        result "$check" 1
    else
        result "$check" 0 "failed count '${failed:-none}', missing lines: $missing; got: $(grep -E '^FAIL' "$out" | head -4 | tr '\n' '|' | cut -c1-400)"
    fi
}
guest() { # NAME SCRIPT-TEXT: a guest script for a selftest VM run
    printf '%s\n' "$2" > "$work/$1.sh"
    echo "$work/$1.sh"
}
SUITE_SUMMARY=$work/summary.txt
: > "$SUITE_SUMMARY"
drm_tests=(drm::version_is_nova drm::getparam_chip drm::getparam_unknown_is_einval)

# The vGPU refuses its arguments: the run never starts.
declared st-vgpu "include $PWD/$VM" "${drm_tests[@]}"
VM_TIMEOUT=60 vm_suite st-vgpu tests/vm/main.sh "--no-such-flag" "$work/st-vgpu.list" > "$work/st-vgpu.judged"
expect vgpu_refuses_to_start st-vgpu "^FAIL vm::st-vgpu::setup: the vGPU did not create its socket" \
    "^FAIL st-vgpu: vm::st-vgpu::guest_completed declared but produced no result" \
    "^FAIL st-vgpu: drm::version_is_nova declared but produced no result"

# The runner crashes (SIGSEGV) after its first test.
declared st-crash "include $PWD/$VM" "${drm_tests[@]}"
VM_TIMEOUT=300 vm_suite st-crash "$(guest st-crash 'sh -c "echo PASS drm::version_is_nova; kill -SEGV \$\$"')" "" \
    "$work/st-crash.list" > "$work/st-crash.judged"
expect runner_crash st-crash "^FAIL vm::st-crash::guest_exit: the guest script exited 139" \
    "^FAIL st-crash: drm::getparam_chip declared but produced no result"

# The guest hangs: QEMU is stopped at VM_TIMEOUT.
declared st-hang "include $PWD/$VM" "${drm_tests[@]}"
VM_TIMEOUT=45 vm_suite st-hang "$(guest st-hang 'echo PASS drm::version_is_nova; sleep 100000')" "" \
    "$work/st-hang.list" > "$work/st-hang.judged"
expect guest_hang st-hang "^FAIL vm::st-hang::guest_completed: timed out after 45s" \
    "^FAIL st-hang: drm::getparam_chip declared but produced no result"

# The guest script succeeds but prints no result.
declared st-silent "include $PWD/$VM" "${drm_tests[@]}"
VM_TIMEOUT=300 vm_suite st-silent "$(guest st-silent 'true')" "" "$work/st-silent.list" > "$work/st-silent.judged"
expect silent_suite st-silent "^FAIL st-silent: drm::version_is_nova declared but produced no result" \
    "^FAIL st-silent: drm::getparam_unknown_is_einval declared but produced no result"

# The runner is asked for a suite it does not have: it must say so and exit non-zero.
declared st-nosuite "include $PWD/$VM" "${drm_tests[@]}"
VM_TIMEOUT=300 vm_suite st-nosuite "$(guest st-nosuite 'nova-guest-tests drm_typo')" "" \
    "$work/st-nosuite.list" > "$work/st-nosuite.judged"
expect unknown_suite st-nosuite "^FAIL vm::st-nosuite::guest_exit: the guest script exited 2" \
    "^FAIL st-nosuite: drm::version_is_nova declared but produced no result"

# The real drm suite, declared with one test it does not have: exactly that test fails, the
# three real ones pass. The same output judged against a list that lacks one of them: that
# result is an undeclared extra.
declared st-skip "include $PWD/$VM" "${drm_tests[@]}" drm::not_in_the_runner
VM_TIMEOUT=600 vm_suite st-skip "$(guest st-skip 'nova-guest-tests drm; rmmod nova_drm; rmmod nova_core')" "" \
    "$work/st-skip.list" > "$work/st-skip.judged"
expect declared_test_missing st-skip "^FAIL st-skip: drm::not_in_the_runner declared but produced no result"
line=$(awk '$1 == "st-skip"' "$SUITE_SUMMARY")
n_decl=$(python3 scripts/verdict.py names "$work/st-skip.list" --suite st-skip | wc -l)
if [ "$(awk '{ print $2, $3, $4 }' <<< "$line")" = "$n_decl $((n_decl - 1)) 1" ]; then
    result real_results_counted 1
else
    result real_results_counted 0 "want '$n_decl declared, $((n_decl - 1)) passed, 1 failed', summary line '$line'"
fi
python3 scripts/verdict.py names "$work/st-skip.list" --suite st-skip \
    | grep -vxE 'drm::getparam_chip|drm::not_in_the_runner' > "$work/st-extra.list"
python3 scripts/verdict.py judge --suite st-extra --declared "$work/st-extra.list" \
    --log "$work/st-skip.log" --rc 0 --summary "$SUITE_SUMMARY" > "$work/st-extra.judged"
expect undeclared_result st-extra "^FAIL st-extra: drm::getparam_chip is not declared"
if [ "$(grep -c '^FAIL' "$work/st-extra.judged")" = 1 ]; then
    result undeclared_result_only 1
else
    result undeclared_result_only 0 "want one FAIL line, got: $(tr '\n' '|' < "$work/st-extra.judged" | cut -c1-300)"
fi

# --- 3. host-side suites: a hang is stopped at the limit, silence is no pass
declared st-host-hang "host::never::finishes"
run_suite st-host-hang "$work/st-host-hang.list" 3 sleep 60 > "$work/st-host-hang.judged"
expect host_hang st-host-hang "^FAIL st-host-hang: timed out" \
    "^FAIL st-host-hang: host::never::finishes declared but produced no result"
declared st-host-silent "host::prints::nothing"
run_suite st-host-silent "$work/st-host-silent.list" 30 true > "$work/st-host-silent.judged"
expect host_silent st-host-silent "^FAIL st-host-silent: the suite produced no result at all"
declared st-host-exit "host::passes::then_exits_1"
run_suite st-host-exit "$work/st-host-exit.list" 30 sh -c 'echo PASS host::passes::then_exits_1; exit 1' \
    > "$work/st-host-exit.judged"
expect host_nonzero_exit st-host-exit "^FAIL st-host-exit: exited 1 without a FAIL line"
run_suite st-host-nolist "$work/no-such.list" 30 sh -c 'echo PASS host::a::b' > "$work/st-host-nolist.judged"
expect missing_declared_list st-host-nolist "^FAIL st-host-nolist: cannot read the declared test list"
exit 0
