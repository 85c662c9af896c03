# SPDX-License-Identifier: GPL-2.0
# Guest side of the init-rpc-replies suite (vGPU --init-rpc-replies): GSP-RM answers the
# asynchronous init RPCs; the boot must tolerate the replies.
nova-guest-tests init_rpc_replies
