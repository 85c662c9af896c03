# SPDX-License-Identifier: GPL-2.0
# Guest side of the fuzz suite (issue #19). First the syncobj regressions of
# kernel/patches/0008 and 0009 (the page allocator warns only once per boot, so they run before
# the fuzzer can trip it), then the seeded ioctl fuzzer of tests/guest/src/fuzz.rs: every nova
# ioctl, the syncobj and PRIME ioctls, mmap, forked children on the shared file, files closed
# with jobs in flight, nova-core unbound and rebound mid-run. `make test` runs it with the
# defaults below (a fixed seed, a short budget); `make fuzz` (scripts/fuzz.sh) prepends its
# own exports for a longer run.
: "${FUZZ_SEED:=19}" "${FUZZ_CALLS:=20000}" "${FUZZ_SECS:=60}" "${FUZZ_UNBINDS:=1}"
export FUZZ_SEED FUZZ_CALLS FUZZ_SECS FUZZ_UNBINDS
nova-guest-tests syncobj fuzz
rmmod nova_drm
rmmod nova_core
