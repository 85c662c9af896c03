# SPDX-License-Identifier: GPL-2.0
# Guest side of the described-chip suites; scripts/test.sh prepends EXPECT_CHIP.
nova-guest-tests described_chip
