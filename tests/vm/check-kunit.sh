#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Host side of the kunit suite: the KTAP KUnit printed on the guest's console at boot, parsed
# by scripts/ktap.py into PASS/FAIL/SKIP kunit::SUITE::TEST lines and the verdict of the stream
# itself (kunit::ktap_complete). Every test declared in tests/declared/kunit.list that has no
# result (a crash or hang in a test stops the stream) gets a FAIL line saying why.
#
# Usage: tests/vm/check-kunit.sh RUN_DIR   (e.g. $NOVA_CACHE/vm/runs/kunit)
# KUNIT_DECLARED overrides the declared list (default tests/declared/kunit.list).
set -u
run=${1:?usage: check-kunit.sh RUN_DIR}
root=$(cd "$(dirname "$0")/../.." && pwd)
exec python3 "$root/scripts/ktap.py" results "$run/console.txt" \
    --declared "${KUNIT_DECLARED:-$root/tests/declared/kunit.list}"
