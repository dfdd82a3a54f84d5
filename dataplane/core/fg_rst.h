/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * fg_rst.h - the TCP reset a refusing limit answers with, built in place
 * of the refused segment: one implementation for the XDP program and the
 * DPDK worker, so that a client sees the same reset from either.
 *
 * Context: any (BPF program, DPDK worker, tests).
 */
#ifndef FG_RST_H
#define FG_RST_H

#include <linux/if_ether.h>

#include "fg_types.h"
#include "fg_parse.h"
#include "fg_csum.h"

/*
 * fg_rst_build - turn the parsed TCP segment in [data, end) into the RST
 * its sender should see: Ethernet addresses swapped (VLAN tags kept), IP
 * addresses and ports swapped, a 20-byte TCP header with RST (sequence
 * from the segment's ACK) or RST|ACK (acknowledging the sequence space
 * the segment occupied), IPv4 with DF, TTL 64 and id 0, IPv6 hop limit
 * 64. Only plain headers are answered (no IPv4 options, no IPv6
 * extensions): a reply there would mean moving headers for a packet we
 * refuse anyway.
 * Returns the length the frame must be cut to (the reset's end; the
 * caller trims everything after it), or -1 when the segment is not
 * answered (the caller drops it). Context: any.
 */
FG_INLINE int fg_rst_build(void *data, const void *end,
			   const struct fg_pkt *pkt)
{
	__u32 l3 = pkt->l3_off, iplen, seg_len, sum = 0;
	struct ethhdr *eth = data;
	struct fg_tcp_hdr *th;
	__u8 tmp[ETH_ALEN];
	__be32 seq, ack_seq;
	int had_ack, i;

	iplen = pkt->family == FG_AF_INET ? sizeof(struct fg_ip4_hdr) :
					    sizeof(struct fg_ip6_hdr);
	if (pkt->l4_off != l3 + iplen || l3 > 64)
		return -1;
	if ((void *)(eth + 1) > end)
		return -1;
	th = (void *)((__u8 *)data + l3 + iplen);
	if ((void *)(th + 1) > end)
		return -1;

	/* Sequence space the refused segment occupied: payload + SYN + FIN. */
	seg_len = (__u32)pkt->l3_off + pkt->l3_len - pkt->payload_off;
	seg_len += !!(th->flags & FG_TCP_SYN) + !!(th->flags & FG_TCP_FIN);
	had_ack = !!(th->flags & FG_TCP_ACK);
	seq = th->seq;
	ack_seq = th->ack_seq;

	__builtin_memcpy(tmp, eth->h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, eth->h_source, ETH_ALEN);
	__builtin_memcpy(eth->h_source, tmp, ETH_ALEN);

	if (pkt->family == FG_AF_INET) {
		struct fg_ip4_hdr *iph = (void *)((__u8 *)data + l3);
		__be32 a, b;

		if ((void *)(iph + 1) > end)
			return -1;
		a = iph->saddr;
		b = iph->daddr;
		iph->saddr = b;
		iph->daddr = a;
		iph->tot_len = fg_htons(sizeof(struct fg_ip4_hdr) +
					sizeof(struct fg_tcp_hdr));
		iph->id = 0;
		iph->frag_off = fg_htons(0x4000); /* DF */
		iph->ttl = 64;
		iph->tos = 0;
		iph->check = 0;
		{
			/* Summed through an opaque copy of iph, checked
			 * again: see the TCP checksum below. */
			const __u8 *iw = (const __u8 *)iph;

			asm volatile("" : "+r"(iw));
			if ((const void *)(iw + sizeof(*iph)) > end)
				return -1;
			iph->check = fg_ip4_csum(iw);
		}
		sum = (a & 0xffff) + (a >> 16) + (b & 0xffff) + (b >> 16);
	} else {
		struct fg_ip6_hdr *ip6 = (void *)((__u8 *)data + l3);
		__u16 *sa, *da;

		if ((void *)(ip6 + 1) > end)
			return -1;
		/* The addresses 16 bits at a time, as fg_ip4_csum reads a
		 * header (frames start 2-aligned): through the packed struct
		 * clang -target bpf stores byte by byte, and its spills took
		 * fg_send_rst and its caller past the verifier's 512 bytes. */
		sa = (__u16 *)((__u8 *)ip6 + 8);
		da = (__u16 *)((__u8 *)ip6 + 24);
		FG_UNROLL
		for (i = 0; i < 8; i++) {
			__u16 a = sa[i], b = da[i];

			sa[i] = b;
			da[i] = a;
			sum += (__u32)a + b;
		}
		ip6->payload_len = fg_htons(sizeof(struct fg_tcp_hdr));
		ip6->hop_limit = 64;
	}

	{
		__be16 p = th->source;

		th->source = th->dest;
		th->dest = p;
	}
	if (had_ack) {
		th->seq = ack_seq;
		th->ack_seq = 0;
		th->flags = FG_TCP_RST;
	} else {
		th->seq = 0;
		th->ack_seq = fg_htonl(fg_ntohl(seq) + seg_len);
		th->flags = FG_TCP_RST | FG_TCP_ACK;
	}
	th->doff_res = 5 << 4; /* no options */
	th->window = 0;
	th->urg_ptr = 0;
	th->check = 0;
	sum += fg_htons(FG_IPPROTO_TCP) + fg_htons(sizeof(struct fg_tcp_hdr));
	/* Checked again right before the reads, through a pointer the
	 * compiler cannot equate with th (the empty asm): otherwise clang
	 * -target bpf drops the check as known and makes th's address
	 * again from data + l3, a pointer whose bounds the verifier does
	 * not know. */
	{
		const __u8 *tw = (const __u8 *)th;

		asm volatile("" : "+r"(tw));
		if ((const void *)(tw + sizeof(struct fg_tcp_hdr)) > end)
			return -1;
		sum = fg_csum_partial_words((const void *)tw, 10, sum);
	}
	th->check = (__u16)~fg_csum_fold(sum);
	return (int)(l3 + iplen + sizeof(struct fg_tcp_hdr));
}

#endif /* FG_RST_H */
