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
[ "$ran" -gt 0 ] || echo "bench: no benchmarks are implemented yet"
