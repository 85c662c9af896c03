#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The host suite of `make test`: `cargo test` of every crate of the workspace, each test printed
# as PASS/FAIL/SKIP host::BINARY::PATH (scripts/verdict.py cargo) for the declared list
# tests/declared/host.list. The whole cargo output: $NOVA_CACHE/test-logs/host-cargo.log.
. "$(dirname "$0")/lib.sh"
cd "$NOVA_ROOT"
out=$NOVA_CACHE/test-logs/host-cargo.log
mkdir -p "$(dirname "$out")"
rc=0
cargo test --workspace --release --no-fail-fast > "$out" 2>&1 || rc=$?
python3 scripts/verdict.py cargo "$out"
# A build error leaves whole test binaries without results: show why.
grep -E -A5 '^error(\[|:)' "$out" | head -30 || true
exit $rc
