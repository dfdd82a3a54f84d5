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

#include "fg_csum.h"
#include "fg_parse.h"

#include "fg_fib.bpf.h"

/* ------------------------------------------------------ encapsulation */

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
	__u32 hash = (__u32)fw->hash;
	__be16 gue_port = fw->gue_port;
	int gue = gue_port != 0;
	__u32 outer = (be->family == FG_AF_INET ? sizeof(struct iphdr) :
		       sizeof(struct ipv6hdr)) + (gue ? sizeof(struct udphdr) : 0);
	__u32 inner_len = pkt->l3_len;
	__u8 inner_proto = pkt->family == FG_AF_INET ? IPPROTO_IPIP : IPPROTO_IPV6;
	int delta = (int)(sizeof(struct ethhdr) + outer) - (int)pkt->l3_off;
	const __be32 *dst = be->addr; /* a map value: adjust_head keeps it */
	__be32 src[4] = {};
	void *data, *data_end;
	struct ethhdr *eth;
	struct udphdr *uh;

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
		struct iphdr *iph = (void *)(eth + 1);

		if ((void *)(iph + 1) > data_end)
			return XDP_DROP;
		eth->h_proto = fg_htons(ETH_P_IP);
		iph->version = 4;
		iph->ihl = 5;
		iph->tos = 0;
		iph->tot_len = fg_htons(inner_len + outer);
		iph->id = 0;
		iph->frag_off = 0;
		iph->ttl = 64;
		iph->protocol = gue ? IPPROTO_UDP : inner_proto;
		iph->saddr = fg_tunnel_src4;
		iph->daddr = dst[0];
		iph->check = 0;
		iph->check = fg_ip4_csum(iph);
		src[0] = fg_tunnel_src4;
		uh = (void *)(iph + 1);
	} else {
		struct ipv6hdr *ip6 = (void *)(eth + 1);
		__u32 flow = (__u32)hash & 0xfffff;

		if ((void *)(ip6 + 1) > data_end)
			return XDP_DROP;
		eth->h_proto = fg_htons(ETH_P_IPV6);
		/* version 6, traffic class 0, flow label from the flow hash so
		 * ECMP paths keep a flow together and spread flows apart */
		*(__be32 *)ip6 = fg_htonl((6U << 28) | flow);
		ip6->payload_len = fg_htons(inner_len + outer - sizeof(struct ipv6hdr));
		ip6->nexthdr = gue ? IPPROTO_UDP : inner_proto;
		ip6->hop_limit = 64;
		src[0] = fg_tunnel_src6[0];
		src[1] = fg_tunnel_src6[1];
		src[2] = fg_tunnel_src6[2];
		src[3] = fg_tunnel_src6[3];
		__builtin_memcpy(&ip6->saddr, src, 16);
		__builtin_memcpy(&ip6->daddr, dst, 16);
		uh = (void *)(ip6 + 1);
	}
	if (gue) {
		if ((void *)(uh + 1) > data_end)
			return XDP_DROP;
		/* Source port carries flow entropy for ECMP/RSS on the way;
		 * checksum zero (RFC 6935 for IPv6 tunnels): the decap side
		 * strips the header before the stack would check it. */
		uh->source = fg_htons(0xc000 | ((__u32)(hash >> 16) & 0x3fff));
		uh->dest = gue_port;
		uh->len = fg_htons(inner_len + sizeof(struct udphdr));
		uh->check = 0;
	}
	return fg_fib_out(ctx, src, dst, FG_FIB_META(be->family, inner_len + outer),
			  fw);
}

#endif /* FG_ENCAP_BPF_H */
