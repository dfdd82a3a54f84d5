/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * fg_encap.bpf.h - DSR encapsulation: IPIP, ip6ip6 and GUE outer headers
 * in front of the client's IP packet.
 *
 * BPF only (*.bpf.h): a part of floodgate.bpf.c, included by it alone;
 * it includes what it uses.
 */
#ifndef FG_ENCAP_BPF_H
#define FG_ENCAP_BPF_H

#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>

#include "fg_encap.h"
#include "fg_icmp.h"
#include "fg_parse.h"

#include "fg_fib.bpf.h"

/* ------------------------------------------------------ encapsulation */

/*
 * fg_too_big - the frame is the client's packet (pkt, parsed before the
 * encapsulation) behind `outer` bytes of outer header, and the path to
 * the backend carries at most mtu bytes: turn the frame into the ICMP
 * answer to the client (fg_icmp.h), for the caller to route there.
 * Returns 0, or an XDP verdict (a drop, counted) when there is no answer:
 * an IPv4 packet without DF may be fragmented by the sender's rules,
 * which XDP cannot do, so it is dropped, counted no_route, as before.
 */
static __noinline int fg_too_big(struct xdp_md *ctx, const struct fg_pkt *pkt,
				 __u32 outer, __u32 mtu)
{
	__u32 hl = fg_icmp_too_big_hdr_len(pkt->family);
	__u32 quote = fg_icmp_too_big_quote(pkt->family, pkt->l3_len);
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	long len;

	if (pkt->family == FG_AF_INET) {
		const struct fg_ip4_hdr *in = data + sizeof(*eth) + (outer & 0x7f);

		if ((void *)(in + 1) > data_end ||
		    !(in->frag_off & fg_htons(FG_IP4_DF))) {
			fg_count_drop(FG_DROP_NO_ROUTE);
			return XDP_DROP;
		}
	}
	/* [eth][outer][packet] -> [eth][IP + ICMP][packet, cut]. */
	if (bpf_xdp_adjust_head(ctx, (int)outer - (int)hl)) {
		fg_count_drop(FG_DROP_ENCAP);
		return XDP_DROP;
	}
	len = (long)ctx->data_end - (long)ctx->data;
	if (len > (long)(sizeof(*eth) + hl + quote) &&
	    bpf_xdp_adjust_tail(ctx, (int)(sizeof(*eth) + hl + quote - len))) {
		fg_count_drop(FG_DROP_ENCAP);
		return XDP_DROP;
	}
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	eth = data;
	if ((void *)(eth + 1) > data_end)
		return XDP_DROP;
	eth->h_proto = fg_htons(pkt->family == FG_AF_INET ? ETH_P_IP :
							   ETH_P_IPV6);
	if (fg_icmp_too_big_write(eth + 1, data_end, pkt->family, pkt->dst,
				  pkt->src, quote & 0x1ff,
				  fg_icmp_too_big_mtu(pkt->family, mtu, outer)))
		return XDP_DROP;
	return 0;
}

/*
 * fg_encap - put an outer IPv4/IPv6 header (and a UDP header for GUE) in
 * front of the packet's IP header, replacing Ethernet and any VLAN tags
 * with one untagged Ethernet header, then route it to the backend fw
 * names: fw->gue_port selects GUE (0: IPIP), fw->hash gives the outer
 * header its entropy when IPv6 or GUE needs it.
 * Returns the XDP verdict.
 */
static __noinline int fg_encap(struct xdp_md *ctx, const struct fg_pkt *pkt,
			       const struct fg_backend *be,
			       const struct fg_fwd *fw)
{
	__be16 gue_port = fw->gue_port;
	__u32 outer = fg_encap_outer_len(be->family, gue_port != 0);
	int delta = (int)(sizeof(struct ethhdr) + outer) - (int)pkt->l3_off;
	const __be32 *dst = be->addr; /* a map value: adjust_head keeps it */
	__be32 src[4] = {};
	void *data, *data_end;
	struct ethhdr *eth;
	struct fg_fwd cfw;
	int rc;

	/* fg_fib_out() writes both Ethernet addresses before the frame
	 * leaves; a frame it cannot address is dropped, never passed. */
	if (bpf_xdp_adjust_head(ctx, -delta)) {
		fg_count_drop(FG_DROP_ENCAP);
		return XDP_DROP;
	}
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	eth = data;
	if ((void *)(eth + 1) > data_end)
		return XDP_DROP;
	if (be->family == FG_AF_INET) {
		src[0] = fg_tunnel_src4;
		eth->h_proto = fg_htons(ETH_P_IP);
	} else {
		src[0] = fg_tunnel_src6[0];
		src[1] = fg_tunnel_src6[1];
		src[2] = fg_tunnel_src6[2];
		src[3] = fg_tunnel_src6[3];
		eth->h_proto = fg_htons(ETH_P_IPV6);
	}
	if (fg_encap_write(eth + 1, data_end, be->family, pkt->family, src, dst,
			   pkt->l3_len, (__u32)fw->hash, gue_port) < 0)
		return XDP_DROP;
	rc = fg_fib_out(ctx, src, dst, FG_FIB_META(be->family, pkt->l3_len + outer) |
			FG_FIB_F_TOO_BIG, fw);
	if (!(rc & FG_FIB_TOO_BIG))
		return rc;
	rc = fg_too_big(ctx, pkt, outer, rc & 0xffff);
	if (rc)
		return rc;
	/* The answer goes to the client, as full NAT's return traffic. */
	cfw = *fw;
	cfw.nh_slot = fg_nh_client_slot(pkt->src);
	return fg_fib_out(ctx, pkt->dst, pkt->src,
			  FG_FIB_META(pkt->family,
				      fg_icmp_too_big_hdr_len(pkt->family) +
				      fg_icmp_too_big_quote(pkt->family,
							    pkt->l3_len)),
			  &cfw);
}

#endif /* FG_ENCAP_BPF_H */
