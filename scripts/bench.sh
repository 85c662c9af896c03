#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# `make bench`: every benchmark prints its figure beside a baseline measured in the same run.
. "$(dirname "$0")/lib.sh"
cd "$NOVA_ROOT"
ran=0
if [ -f drivers/gpu/drm-panic-qr/examples/qr_bench.rs ]; then
    cargo run -q --release -p drm-panic-qr --example qr_bench
    ran=$((ran + 1))
fi
if [ -f drivers/gpu/nova-core/host/examples/parse_bench.rs ]; then
    cargo run -q --release -p nova-core-host --example parse_bench
    ran=$((ran + 1))
fi
# Guest-side figures (one VM boot with the vGPU attached): BAR access, probe, GEM, VM_BIND,
# and the render path (CE copy throughput vs. memcpy, empty-job latency vs. a syncobj round
# trip; tests/vm/bench.sh).
for mode in trace no-trace; do
    echo "bench: --- vGPU with access trace: $([ $mode = trace ] && echo on || echo off)"
    if [ $mode = trace ]; then
        bash scripts/vm.sh bench tests/vm/bench.sh > "$NOVA_CACHE/vm/bench.out" 2>&1 || true
    else
        VM_NO_TRACE=1 bash scripts/vm.sh bench tests/vm/bench.sh > "$NOVA_CACHE/vm/bench.out" 2>&1 || true
    fi
    grep -a '^bench:' "$NOVA_CACHE/vm/runs/bench/console.txt" || { echo "bench: the guest benchmark did not run"; tail -5 "$NOVA_CACHE/vm/bench.out"; }
done
ran=$((ran + 1))
[ "$ran" -gt 0 ] || echo "bench: no benchmarks are implemented yet"
