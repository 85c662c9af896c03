# SPDX-License-Identifier: GPL-2.0
# Guest side of the extra-events suite (vGPU --gsp-extra-events).
nova-guest-tests extra_events
