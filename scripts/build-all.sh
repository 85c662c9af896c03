#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The build suite of `make test` (tests/declared/build.list): set-up, kernel, modules, vGPU and
# guest programs, each a PASS/FAIL build::STEP line with its time, so that a build that breaks
# is a counted failure with the summary printed, not an early exit. Every later suite needs
# what this builds; they then fail on their own (vm.sh's setup verdict names what is missing).
. "$(dirname "$0")/lib.sh"
cd "$NOVA_ROOT"
set +e
rc=0
step() {
    local name=$1 t0 out
    shift
    t0=$(date +%s)
    out=$("$@" 2>&1)
    local r=$?
    if [ $r = 0 ]; then
        echo "PASS build::$name ($(( $(date +%s) - t0 )) s)"
    else
        echo "FAIL build::$name: exit $r after $(( $(date +%s) - t0 )) s: $(tail -15 <<< "$out" | tr '\n' '|' | cut -c1-1500)"
        rc=1
    fi
}
step setup make -s --no-print-directory setup
step kernel make -s --no-print-directory kernel
step modules make -s --no-print-directory modules
step vgpu make -s --no-print-directory vgpu
step guest-tests make -s --no-print-directory guest-tests
exit $rc
