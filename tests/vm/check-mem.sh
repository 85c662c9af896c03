#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Host-side check of a finished `mem` VM run (the vGPU's trace is only on the host): nova-core's
# TLB invalidates reach the MMU_INVALIDATE register the vGPU models from the GA102 manual
# (tools/vgpu/src/blocks/mmu.rs), name an address space, and drop cached translations. This is
# what checks nova-core's register offsets and values (drivers/gpu/nova-core/mm/tlb.rs), whose
# unit test no longer re-states the constants.
#
# Usage: tests/vm/check-mem.sh RUN_DIR   (e.g. $NOVA_CACHE/vm/runs/mem)
# Prints one "PASS name" / "FAIL name: why" line per check; exits 1 if any failed.
set -u
run=${1:?usage: check-mem.sh RUN_DIR}
trace=$run/vgpu-trace.log
name=vm::mem::tlb_invalidates_reach_the_mmu
if [ ! -s "$trace" ]; then
    echo "FAIL $name: $trace missing or empty"
    exit 1
fi
# "mmu    TLB invalidate (MMU_INVALIDATE): PDB sys:0x..., CACHE_LEVEL ALL: N entries dropped"
read -r total dropping < <(awk '
    /TLB invalidate \(MMU_INVALIDATE\): PDB / { t++; if ($(NF - 2) + 0 > 0) d++ }
    END { print t + 0, d + 0 }' "$trace")
ignored=$(grep -c 'with ALL_VA = 0' "$trace")
if [ "$total" = 0 ]; then
    echo "FAIL $name: no TLB invalidate through MMU_INVALIDATE in the trace"
elif [ "$dropping" = 0 ]; then
    echo "FAIL $name: $total invalidates, none dropped a cached translation"
elif [ "$ignored" != 0 ]; then
    echo "FAIL $name: $ignored invalidates without ALL_VA (ignored by the GPU)"
else
    echo "PASS $name"
    exit 0
fi
exit 1
