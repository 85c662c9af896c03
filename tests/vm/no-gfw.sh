# SPDX-License-Identifier: GPL-2.0
# Guest side of the no-GFW suite (vGPU run with --no-gfw-boot): probe must time out cleanly.
nova-guest-tests no_gfw
