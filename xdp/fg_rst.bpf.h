/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * fg_rst.bpf.h - the TCP reset a refusing limit answers with, built in
 * place.
 *
 * BPF only (*.bpf.h): a part of floodgate.bpf.c, included by it alone;
 * it includes what it uses.
 */
#ifndef FG_RST_BPF_H
#define FG_RST_BPF_H

#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>

#include "fg_rst.h"
#include "fg_parse.h"

#include "fg_util.bpf.h"

/* --------------------------------------------------------- TCP reset */

/*
 * fg_send_rst - turn the TCP packet into the RST its sender should see,
 * in place, and return XDP_TX. Only plain headers (no IPv4 options, no
 * IPv6 extensions) are answered; anything else is dropped, since building
 * a reply there would mean moving headers for a packet we refuse anyway.
 */
static __noinline int fg_send_rst(struct xdp_md *ctx, const struct fg_pkt *pkt)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	int len = fg_rst_build(data, data_end, pkt);

	if (len < 0)
		return XDP_DROP;
	/* Cut everything after the new TCP header (payload, options). */
	if (len < (int)(data_end - data) &&
	    bpf_xdp_adjust_tail(ctx, len - (int)(data_end - data)))
		return XDP_DROP;
	return XDP_TX;
}

#endif /* FG_RST_BPF_H */
