// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * xdp_pass.bpf.c - XDP_PASS, nothing else. The test topology attaches it
 * to the switch side of each veth: a veth only receives the frames its
 * peer sends with XDP_TX or a redirect when it runs NAPI, which an XDP
 * program turns on (a physical NIC needs no such thing).
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int fg_xdp_pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
