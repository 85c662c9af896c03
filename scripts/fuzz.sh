#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# `make fuzz`: one long run of the guest ioctl fuzzer (tests/vm/fuzz.sh) in the VM harness.
# Environment: FUZZ_SEED (default: from the clock, printed so the run can be repeated),
# FUZZ_CALLS (most calls, default 300000), FUZZ_SECS (time limit, default 1200),
# FUZZ_UNBINDS (unbind/rebind cycles, default 3). The run's guest timeout is FUZZ_SECS + 900 s.
# Prints the harness's PASS/FAIL lines and the fuzzer's per-ioctl table; exits non-zero when
# anything failed. The run is kept in $NOVA_CACHE/vm/runs/fuzz-long/.
. "$(dirname "$0")/lib.sh"
cd "$NOVA_ROOT"

seed=${FUZZ_SEED:-$(date +%s)}
calls=${FUZZ_CALLS:-300000}
secs=${FUZZ_SECS:-1200}
unbinds=${FUZZ_UNBINDS:-3}
for v in "$seed" "$calls" "$secs" "$unbinds"; do
    [[ $v =~ ^[0-9]+$ ]] || die "FUZZ_SEED, FUZZ_CALLS, FUZZ_SECS and FUZZ_UNBINDS must be decimal numbers (got '$v')"
done
log "fuzz: seed $seed, at most $calls calls or $secs s, $unbinds unbind(s) (repeat with FUZZ_SEED=$seed)"

mkdir -p "$NOVA_CACHE/test-logs"
script=$NOVA_CACHE/test-logs/fuzz-long.sh
{
    printf 'export FUZZ_SEED=%s FUZZ_CALLS=%s FUZZ_SECS=%s FUZZ_UNBINDS=%s\n' "$seed" "$calls" "$secs" "$unbinds"
    cat tests/vm/fuzz.sh
} > "$script"
out=$NOVA_CACHE/test-logs/vm-fuzz-long.log
VM_SHOW=${VM_SHOW:-} VM_TIMEOUT=$((secs + 900)) bash scripts/vm.sh fuzz-long "$script" | tee "$out" || true
grep -h "^fuzz: " "$NOVA_CACHE/vm/runs/fuzz-long/console.txt" 2>/dev/null || true
p=$(grep -c '^PASS ' "$out" || true)
f=$(grep -c '^FAIL ' "$out" || true)
echo "fuzz (seed $seed): $p passed, $f failed"
[ "$f" = 0 ] && [ "$p" -gt 0 ]
