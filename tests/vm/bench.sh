# SPDX-License-Identifier: GPL-2.0
# Guest side of `make bench`: timings inside the guest (no driver bound, raw BAR access).
nova-guest-bench
