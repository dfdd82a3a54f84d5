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

#include "fg_csum.h"
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
	__u32 l3 = pkt->l3_off, iplen, seg_len, sum = 0;
	__be32 seq, ack_seq;
	__u8 eth_tmp[ETH_ALEN];
	struct ethhdr *eth = data;
	struct tcphdr *th;
	int had_ack;

	if (pkt->family == FG_AF_INET)
		iplen = sizeof(struct iphdr);
	else
		iplen = sizeof(struct ipv6hdr);
	if (pkt->l4_off != l3 + iplen || l3 > 64)
		return XDP_DROP;
	if ((void *)(eth + 1) > data_end)
		return XDP_DROP;
	th = data + l3 + iplen;
	if ((void *)(th + 1) > data_end)
		return XDP_DROP;

	/* Sequence space the refused segment occupied: payload + SYN + FIN. */
	seg_len = (__u32)pkt->l3_off + pkt->l3_len - pkt->payload_off;
	seg_len += th->syn + th->fin;
	had_ack = th->ack;
	seq = th->seq;
	ack_seq = th->ack_seq;

	__builtin_memcpy(eth_tmp, eth->h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, eth->h_source, ETH_ALEN);
	__builtin_memcpy(eth->h_source, eth_tmp, ETH_ALEN);

	if (pkt->family == FG_AF_INET) {
		struct iphdr *iph = data + l3;
		__be32 a;

		if ((void *)(iph + 1) > data_end)
			return XDP_DROP;
		a = iph->saddr;
		iph->saddr = iph->daddr;
		iph->daddr = a;
		iph->tot_len = fg_htons(sizeof(struct iphdr) + sizeof(struct tcphdr));
		iph->id = 0;
		iph->frag_off = fg_htons(0x4000); /* DF */
		iph->ttl = 64;
		iph->tos = 0;
		iph->check = 0;
		iph->check = fg_ip4_csum(iph);
		/* Pseudo-header from the values, not re-read from the packet:
		 * a re-derived pointer would lose the verifier's range. */
		sum = (a & 0xffff) + (a >> 16) +
		      (iph->saddr & 0xffff) + (iph->saddr >> 16);
	} else {
		struct ipv6hdr *ip6 = data + l3;
		__be32 a[4], b[4];
		int i;

		if ((void *)(ip6 + 1) > data_end)
			return XDP_DROP;
		__builtin_memcpy(a, &ip6->saddr, 16);
		__builtin_memcpy(b, &ip6->daddr, 16);
		__builtin_memcpy(&ip6->saddr, b, 16);
		__builtin_memcpy(&ip6->daddr, a, 16);
		ip6->payload_len = fg_htons(sizeof(struct tcphdr));
		ip6->hop_limit = 64;
		FG_UNROLL
		for (i = 0; i < 4; i++)
			sum += (a[i] & 0xffff) + (a[i] >> 16) +
			       (b[i] & 0xffff) + (b[i] >> 16);
	}

	{
		__be16 p = th->source;

		th->source = th->dest;
		th->dest = p;
	}
	if (had_ack) {
		th->seq = ack_seq;
		th->ack_seq = 0;
		*((__u8 *)th + 13) = FG_TCP_RST;
	} else {
		th->seq = 0;
		th->ack_seq = fg_htonl(fg_ntohl(seq) + seg_len);
		*((__u8 *)th + 13) = FG_TCP_RST | FG_TCP_ACK;
	}
	*((__u8 *)th + 12) = 5 << 4; /* doff 5, no options */
	th->window = 0;
	th->urg_ptr = 0;
	th->check = 0;
	sum += fg_htons(IPPROTO_TCP) + fg_htons(sizeof(struct tcphdr));
	sum = fg_csum_partial_words((const __u16 *)th, 10, sum);
	th->check = (__u16)~fg_csum_fold(sum);

	/* Cut everything after the new TCP header (payload, options). */
	{
		int cut = (int)(l3 + iplen + sizeof(struct tcphdr)) -
			  (int)(data_end - data);

		if (cut < 0 && bpf_xdp_adjust_tail(ctx, cut))
			return XDP_DROP;
	}
	return XDP_TX;
}

#endif /* FG_RST_BPF_H */
