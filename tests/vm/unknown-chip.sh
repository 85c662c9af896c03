# SPDX-License-Identifier: GPL-2.0
# Guest side of the unknown-chip suite (vGPU run with --boot42 0x3f000000).
nova-guest-tests unknown_chip
