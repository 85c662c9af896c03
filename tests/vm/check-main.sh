#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Host-side checks of a finished `main` VM run: what nova-core logged about GSP-RM's answers
# (the guest's dmesg) against what the vGPU's GSP-RM actually did (its trace, which only the
# host has). The guest tests check these values only for consistency with the registers; the
# values themselves are the vGPU's model choices, so they are compared here, with the source
# that chose them, instead of being copied into the tests.
#
# Usage: tests/vm/check-main.sh RUN_DIR   (e.g. $NOVA_CACHE/vm/runs/main)
# Prints one "PASS name" / "FAIL name: why" line per check; exits 1 if any failed.
set -u
run=${1:?usage: check-main.sh RUN_DIR}
trace=$run/vgpu-trace.log
dmesg=$run/share/out/dmesg.txt
failed=0

pass() { echo "PASS vm::main::$1"; }
fail() { echo "FAIL vm::main::$1: $2"; failed=1; }

# same NAME WHAT A B: PASS when the two lists (one item a line) are equal and not empty.
same() {
    local name=$1 what=$2 a=$3 b=$4
    if [ -z "$a" ]; then
        fail "$name" "no $what in the guest's dmesg"
    elif [ "$a" != "$b" ]; then
        fail "$name" "$what: dmesg has [$(echo $a)], the vGPU trace [$(echo $b)]"
    else
        pass "$name"
    fi
}

names="rm_objects_accepted_by_gsp_rm bar1_pde_base_is_gsp_rms fb_allocator_range_is_gsp_rms wpr2_releases_done_by_booter"
for f in "$trace" "$dmesg"; do
    if [ ! -s "$f" ]; then
        for n in $names; do fail "$n" "$f missing or empty"; done
        exit 1
    fi
done

# 1. Every "boot: RM client C, device D, subdevice S allocated" line, one per probe, matches
#    the GSP_RM_ALLOCs GSP-RM accepted (vGPU gsprm/objects.rs notes a success only), with the
#    device under the client and the subdevice under the device.
logged=$(grep -o 'boot: RM client 0x[0-9a-f]*, device 0x[0-9a-f]*, subdevice 0x[0-9a-f]*' "$dmesg" |
    sed 's/boot: RM client \(0x[0-9a-f]*\), device \(0x[0-9a-f]*\), subdevice \(0x[0-9a-f]*\)/\1 \2 \3/')
accepted=$(awk '
    /GSP_RM_ALLOC: client 0x/ { c = $NF; d = ""; next }
    /GSP_RM_ALLOC: NV01_DEVICE_0 0x/ { for (i = 1; i <= NF; i++) if ($i == "NV01_DEVICE_0" && $(i + 3) == c) d = $(i + 1); next }
    /GSP_RM_ALLOC: NV20_SUBDEVICE_0 0x/ { for (i = 1; i <= NF; i++) if ($i == "NV20_SUBDEVICE_0" && d != "" && $(i + 3) == d) { print c, d, $(i + 1); d = "" } }
' "$trace")
same rm_objects_accepted_by_gsp_rm "RM client/device/subdevice handles" "$logged" "$accepted"

# 2. The BAR1 PDE base nova-core logged at each boot is the one GSP-RM sent in
#    GET_GSP_STATIC_INFO (vGPU trace: "GspStaticConfigInfo: ... bar1PdeBase 0x...").
logged=$(grep -o 'BAR1 PDE base 0x[0-9a-f]*' "$dmesg" | awk '{ print $NF }')
sent=$(grep -o 'bar1PdeBase 0x[0-9a-f]*' "$trace" | awk '{ print $NF }')
same bar1_pde_base_is_gsp_rms "BAR1 PDE bases" "$logged" "$sent"

# 3. The VRAM allocator's range, [0, end], is the usable FB region GSP-RM reported
#    ("usable [0, 0xX)" in the same trace line): end = X - 1.
logged=$(grep -o 'VRAM allocator: [0-9]* MiB in \[0x0, 0x[0-9a-f]*\]' "$dmesg" |
    sed 's/.*, \(0x[0-9a-f]*\)\]/\1/' | while read -r e; do printf '0x%x\n' $((e + 1)); done)
sent=$(grep -o 'usable \[0, 0x[0-9a-f]*)' "$trace" | sed 's/.*, \(0x[0-9a-f]*\))/\1/')
same fb_allocator_range_is_gsp_rms "allocator ends (+1)" "$logged" "$sent"

# 4. Every WPR2 release nova-core logged was done by booter_unload on the vGPU, same range.
logged=$(grep -o 'unload: WPR2 \[0x[0-9a-f]*, 0x[0-9a-f]*) released' "$dmesg" | sed 's/unload: WPR2 \(.*\) released/\1/; s/, /,/')
done_=$(grep -o 'booter_unload: WPR2 \[0x[0-9a-f]*,0x[0-9a-f]*) cleared' "$trace" | sed 's/booter_unload: WPR2 \(.*\) cleared/\1/')
same wpr2_releases_done_by_booter "WPR2 releases" "$logged" "$done_"

# 5. The chip the guest identified came from the vGPU: its trace holds the BOOT_42 read.
if grep -q 'R32 0x000a00 = 0x172a1000  NV_PMC_BOOT_42' "$trace" 2>/dev/null; then
    pass boot42_served_by_vgpu
else
    fail boot42_served_by_vgpu "the vGPU trace has no BOOT_42 read"
fi

exit $failed
