#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The igt suite on its own, as scripts/test.sh runs it: set-up (skipped when done), one guest
# boot (tests/vm/igt.sh), then the report. Environment as for scripts/vm.sh (MODOUT, VM_SHOW...).
# Exit status 0 only when the VM checks and every verdict of the report pass.
. "$(dirname "$0")/../../scripts/lib.sh"
cd "$NOVA_ROOT"
bash scripts/setup-igt.sh
set +e
VM_TIMEOUT=${VM_TIMEOUT:-900} VM_SHARE="$NOVA_CACHE/igt:igt" bash scripts/vm.sh igt tests/vm/igt.sh
vm_rc=$?
python3 tests/igt/report.py "$NOVA_CACHE/vm/runs/igt"
report_rc=$?
[ "$vm_rc" = 0 ] && [ "$report_rc" = 0 ]
