#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# `make bench`: every figure is printed beside a baseline measured in the same run, with its
# repetitions and the clock's step; a ratio is printed only over figures the clock resolves.
#
# Environment: VGPU_BIN, GUEST_TESTS_BIN (as scripts/vm.sh; nova-guest-bench is taken from beside
# GUEST_TESTS_BIN), BENCH_NAME (prefix of the VM run names, default "bench": runs
# BENCH_NAME-trace and BENCH_NAME-no-trace).
. "$(dirname "$0")/lib.sh"
cd "$NOVA_ROOT"
GUEST_TESTS_BIN=${GUEST_TESTS_BIN:-$NOVA_CACHE/target/x86_64-unknown-linux-gnu/release/nova-guest-tests}
export GUEST_TESTS_BIN
BENCH_BIN=$(dirname "$GUEST_TESTS_BIN")/nova-guest-bench
name=${BENCH_NAME:-bench}

echo "bench: --- QR encoder (host), against the qrcodegen crate"
cargo run -q --release -p drm-panic-qr --example qr_bench
echo "bench: --- GSP firmware parser and radix3 table (host), against passes over the same bytes"
cargo run -q --release -p nova-core-host --example parse_bench

# Guest-side figures (one VM boot with the vGPU attached, tests/vm/bench.sh), with the vGPU's
# access trace on and then off. The host's own limits are measured just before each boot, on the
# host, by the same program the guest runs, and shared with the guest as /mnt/host/host.env.
[ -x "$BENCH_BIN" ] || die "$BENCH_BIN not found: run 'make guest-tests'"
hostdir=$(mktemp -d)
trap 'rm -rf "$hostdir"' EXIT
for mode in trace no-trace; do
    run=$name-$mode
    echo "bench: --- guest, vGPU access trace $([ $mode = trace ] && echo on || echo off) (run $run)"
    "$BENCH_BIN" host "$hostdir/host.env"
    share="$hostdir:host ${VM_SHARE:-}"
    if [ $mode = trace ]; then
        VM_SHARE=$share bash scripts/vm.sh "$run" tests/vm/bench.sh > "$NOVA_CACHE/vm/$run.out" 2>&1 || true
    else
        VM_SHARE=$share VM_NO_TRACE=1 bash scripts/vm.sh "$run" tests/vm/bench.sh > "$NOVA_CACHE/vm/$run.out" 2>&1 || true
    fi
    grep -a '^bench:' "$NOVA_CACHE/vm/runs/$run/console.txt" 2>/dev/null ||
        { echo "bench: the guest benchmark did not run"; tail -5 "$NOVA_CACHE/vm/$run.out"; }
    grep -a '^FAIL ' "$NOVA_CACHE/vm/$run.out" | sed 's/^/bench: run check: /' || true
    # The guest clock (jiffies under TCG) against the host's: a guest that lost ticks would
    # report its figures too fast.
    up=$(sed -n 's/^nova-guest: done at \([0-9.]*\)s.*/\1/p' "$NOVA_CACHE/vm/runs/$run/console.txt" 2>/dev/null || true)
    wall=$(sed -n 's/^\[vm [^]]*\] \([0-9.]*\) s wall.*/\1/p' "$NOVA_CACHE/vm/$run.out" || true)
    if [ -n "$up" ] && [ -n "$wall" ]; then
        echo "bench: guest clock check: guest uptime at the end ${up} s; host wall time of the run ${wall} s (also covers QEMU's start and the kernel's decompression, before the guest clock starts)"
    fi
done
