#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# kunit-list.sh: rewrites tests/declared/kunit.list from one boot of the kunit guest.
#
# Run it after a kernel patch adds, removes or reorders KUnit tests (doctests or a
# #[kunit_tests] module), once `make kernel` has built the patched kernel:
#     flock /root/heavy.lock bash scripts/kunit-list.sh     (or just: bash scripts/kunit-list.sh)
# then read `git diff tests/declared/kunit.list`: the new patch's tests must be in the first
# group. It refuses a run whose KTAP stream is incomplete, and a run whose Rust doctests are not
# exactly those the kernel build generated (scripts/ktap.py declare). The guest is booted as
# scripts/test.sh boots the kunit suite (the same VM_KUNIT and VM_APPEND).
. "$(dirname "$0")/lib.sh"
cd "$NOVA_ROOT"
VM_KUNIT="kunit.enable=1" VM_APPEND="loglevel=7" bash scripts/vm.sh kunit-list tests/vm/kunit.sh \
    || die "the kunit guest run failed (see above); the list is unchanged"
out=$(mktemp)
trap 'rm -f "$out"' EXIT
python3 scripts/ktap.py declare "$NOVA_CACHE/vm/runs/kunit-list/console.txt" \
    --build "$KOUT" --source "$KSRC" --patches kernel/patches > "$out" \
    || die "no list written (see above)"
cp "$out" tests/declared/kunit.list
log "tests/declared/kunit.list: $(grep -c '^kunit::' tests/declared/kunit.list) names"
git diff --stat -- tests/declared/kunit.list >&2 || true
