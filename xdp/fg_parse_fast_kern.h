/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * fg_parse_fast_kern.h - the XDP fast path of fg_parse() for the common
 * frame. BPF only (_kern): it reads through the kernel's struct iphdr and
 * friends, which dataplane/core cannot include beside glibc's headers.
 * Included by floodgate.bpf.c and by tests/bpf/parse_prog.bpf.c, whose
 * test checks it against fg_parse() on every fixture and on mutated
 * frames.
 */
#ifndef FG_PARSE_FAST_KERN_H
#define FG_PARSE_FAST_KERN_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <linux/udp.h>

#include "fg_parse.h"

/*
 * fg_parse_fast - fg_parse() for the frame nearly every packet is:
 * untagged IPv4 without options, not a fragment, carrying TCP or UDP.
 * Fills *pkt exactly as fg_parse() would and returns FG_PARSE_OK. Returns
 * -1 for any other frame, and for one with anything fg_parse() would have
 * to judge (a header cut short, a length that does not add up): the
 * caller then runs fg_parse(), which says what is wrong.
 *
 * Why: fg_parse() reads through packed header structs so that any
 * compiler may load them unaligned, and clang -target bpf turns every
 * field wider than a byte into byte loads, shifts and ors. Through
 * struct iphdr and friends the same fields are loaded a word at a time,
 * as fg_nat_rewrite() and fg_send_rst() already do.
 * Context: XDP.
 */
static __always_inline int fg_parse_fast(void *data, void *data_end,
					 struct fg_pkt *pkt)
{
	struct ethhdr *eth = data;
	struct iphdr *iph = (void *)(eth + 1);
	__u32 tot_len, l3_end, off = sizeof(*eth) + sizeof(*iph), len;

	if ((void *)(iph + 1) > data_end ||
	    eth->h_proto != FG_BE16(ETH_P_IP) ||
	    *(__u8 *)iph != 0x45 ||                       /* version 4, IHL 5 */
	    (iph->frag_off & FG_BE16(FG_IP4_MF | FG_IP4_OFFMASK)))
		return -1;
	tot_len = fg_ntohs(iph->tot_len);
	l3_end = sizeof(*eth) + tot_len;
	if (tot_len < sizeof(*iph) || l3_end > FG_PARSE_MAX_OFF ||
	    (void *)iph + tot_len > data_end)
		return -1;

	__builtin_memset(pkt, 0, sizeof(*pkt));
	if (iph->protocol == IPPROTO_TCP) {
		struct tcphdr *th = data + off;

		if ((void *)(th + 1) > data_end)
			return -1;
		len = th->doff * 4;
		if (len < sizeof(*th) || off + len > l3_end)
			return -1;
		pkt->tcp_flags = *((__u8 *)th + 13);
	} else if (iph->protocol == IPPROTO_UDP) {
		struct udphdr *uh = data + off;

		if ((void *)(uh + 1) > data_end)
			return -1;
		len = fg_ntohs(uh->len);
		if (len < sizeof(*uh) || off + len > l3_end)
			return -1;
		len = sizeof(*uh);
	} else {
		return -1;
	}
	/* Source and destination port lead both headers. */
	pkt->sport = *(__be16 *)(data + off);
	pkt->dport = *(__be16 *)(data + off + 2);
	pkt->l3_off = sizeof(*eth);
	pkt->l4_off = off;
	pkt->payload_off = off + len;
	pkt->l3_len = tot_len;
	pkt->eth_proto = FG_BE16(ETH_P_IP);
	pkt->family = FG_AF_INET;
	pkt->l4_proto = iph->protocol;
	pkt->flags = FG_PKT_F_L4;
	pkt->ttl = iph->ttl;
	pkt->src[0] = iph->saddr;
	pkt->dst[0] = iph->daddr;
	return FG_PARSE_OK;
}

#endif /* FG_PARSE_FAST_KERN_H */
