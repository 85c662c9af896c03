# SPDX-License-Identifier: GPL-2.0
# Guest side of the fault-injection suites: scripts/test.sh prepends EXPECT_MSG and EXPECT_ERRNO.
nova-guest-tests probe_fails
