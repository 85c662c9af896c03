# SPDX-License-Identifier: GPL-2.0
# Guest side of the mem suite (issue #5): GEM, PRIME, VM_BIND checked from the GPU side through
# the vGPU's engine access port, the uAPI's error codes, stress. The vGPU must run with its test
# port (VGPU_TEST_PORT=1). The tests load the modules themselves (as in main.sh) and turn on I/O
# decoding of the vGPU's PCI function (command register bit 0) to reach the port (BAR5).
nova-guest-tests mem
rmmod nova_drm
rmmod nova_core
