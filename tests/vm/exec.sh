# SPDX-License-Identifier: GPL-2.0
# Guest side of the exec suite: contexts, EXEC and syncobjs on the copy engine and 2D (64 MiB
# copies, fills, rects and blits checked pixel-exact, 1,000 timeline-chained jobs, a hang and
# channel errors with their resets, every documented error, cancellation on CTX_DESTROY and
# on close). The tests load the modules themselves and talk to the GPU through the uAPI only.
nova-guest-tests exec
rmmod nova_drm
rmmod nova_core
