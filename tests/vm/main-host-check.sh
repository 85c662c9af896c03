#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Host side of the main suite (scripts/vm.sh VM_HOST_CHECK): main-host-check.sh RUN_DIR.
# The chip the guest identified must have come from the vGPU: its trace holds the BOOT_42 read.
run=${1:?usage: main-host-check.sh RUN_DIR}
if grep -q 'R32 0x000a00 = 0x172a1000  NV_PMC_BOOT_42' "$run/vgpu-trace.log" 2>/dev/null; then
    echo "PASS vm::main::boot42_served_by_vgpu"
else
    echo "FAIL vm::main::boot42_served_by_vgpu: the vGPU trace has no BOOT_42 read"
fi
