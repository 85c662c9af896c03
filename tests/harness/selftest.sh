#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The VM harness must stop with a message naming what is missing, never hang or half-run.
cd "$(dirname "$0")/../.."
check() {
    local name=$1 want=$2 out rc
    shift 2
    out=$(timeout 60 env "$@" bash scripts/vm.sh "selftest-$name" tests/vm/main.sh 2>&1)
    rc=$?
    if [ $rc != 0 ] && [ $rc != 124 ] && grep -qF -- "$want" <<< "$out"; then
        echo "PASS harness::$name"
    else
        echo "FAIL harness::$name: exit $rc, output: $(tr '\n' ' ' <<< "$out" | cut -c1-300)"
    fi
}
check missing_vgpu_socket "did not create its socket" VGPU_BIN=/bin/true
check missing_kernel "/nonexistent/bzImage" NOVA_KERNEL=/nonexistent/bzImage
check missing_guest_tests "/nonexistent/guest-tests" GUEST_TESTS_BIN=/nonexistent/guest-tests
check bad_vgpu_argument "unknown argument" VGPU_ARGS=--no-such-flag
