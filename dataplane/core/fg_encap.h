/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * fg_encap.h - the outer headers of DSR encapsulation (IPIP, ip6ip6,
 * 4in6/6in4 and GUE), written in front of the client's IP packet. Pure:
 * the caller makes the room (bpf_xdp_adjust_head, rte_pktmbuf_prepend),
 * writes Ethernet, and routes the result.
 *
 * One implementation for both dataplanes, so that the bytes a backend
 * receives are the same whichever one sent them. Context: any (BPF
 * program, DPDK worker, tests); bounds are checked against `end` in the
 * form the verifier accepts.
 */
#ifndef FG_ENCAP_H
#define FG_ENCAP_H

#include "fg_types.h"
#include "fg_parse.h"
#include "fg_csum.h"

/* fg_encap_outer_len - bytes of outer IP (+ UDP) header for a backend of
 * family `family`, GUE when gue is non-zero. Context: any. */
FG_INLINE __u32 fg_encap_outer_len(__u8 family, int gue)
{
	return (family == FG_AF_INET ? sizeof(struct fg_ip4_hdr) :
		sizeof(struct fg_ip6_hdr)) +
	       (gue ? sizeof(struct fg_udp_hdr) : 0);
}

/*
 * fg_encap_write - write the outer IP header (and the GUE UDP header) at
 * hdr, which must have fg_encap_outer_len() bytes before end: from src
 * (the tunnel source of the backend's family) to dst (the backend), of
 * family `family`, in front of a client packet of inner_family and
 * inner_len bytes (its l3_len); hash: the low 32 bits of the flow hash,
 * entropy for the IPv6 flow label and the GUE source port; gue_port: the
 * GUE destination port, network order, 0 for IPIP / ip6ip6. Addresses
 * network order, IPv4 in word 0. Scalars, not a struct: an args struct
 * costs the XDP caller 56 bytes of its 512-byte stack. The outer
 * IPv4 header has TTL 64, no DF, id 0 and its checksum; the outer IPv6
 * header a flow label from the flow hash, so that ECMP keeps a flow on one
 * path and spreads flows apart. The GUE UDP source port carries flow
 * entropy too, its checksum is zero (RFC 6935 for IPv6): the backend's
 * decap strips the header before the stack would check it.
 * Returns the outer length, or -1 when it does not fit before end.
 * Context: any.
 */
FG_INLINE int fg_encap_write(void *hdr, const void *end, __u8 family,
			     __u8 inner_family, const __be32 *src,
			     const __be32 *dst, __u32 inner_len, __u32 hash,
			     __be16 gue_port)
{
	int gue = gue_port != 0;
	__u32 outer = fg_encap_outer_len(family, gue);
	__u8 inner_proto = inner_family == FG_AF_INET ? FG_IPPROTO_IPIP :
							FG_IPPROTO_IPV6;
	struct fg_udp_hdr *uh;

	if (family == FG_AF_INET) {
		struct fg_ip4_hdr *iph = hdr;

		if ((void *)(iph + 1) > end)
			return -1;
		fg_ip4_hdr_write(iph, inner_len + outer,
				 gue ? FG_IPPROTO_UDP : inner_proto, src[0],
				 dst[0]);
		uh = (void *)(iph + 1);
	} else {
		struct fg_ip6_hdr *ip6 = hdr;
		__u32 w0 = (6U << 28) | (hash & 0xfffff);
		int i;

		if ((void *)(ip6 + 1) > end)
			return -1;
		ip6->ver_tc_flow[0] = (__u8)(w0 >> 24);
		ip6->ver_tc_flow[1] = (__u8)(w0 >> 16);
		ip6->ver_tc_flow[2] = (__u8)(w0 >> 8);
		ip6->ver_tc_flow[3] = (__u8)w0;
		ip6->payload_len = fg_htons(inner_len + outer -
					    sizeof(struct fg_ip6_hdr));
		ip6->nexthdr = gue ? FG_IPPROTO_UDP : inner_proto;
		ip6->hop_limit = 64;
		FG_UNROLL
		for (i = 0; i < 4; i++) {
			ip6->saddr[i] = src[i];
			ip6->daddr[i] = dst[i];
		}
		uh = (void *)(ip6 + 1);
	}
	if (gue) {
		if ((void *)(uh + 1) > end)
			return -1;
		uh->source = fg_htons(0xc000 | ((hash >> 16) & 0x3fff));
		uh->dest = gue_port;
		uh->len = fg_htons(inner_len + sizeof(struct fg_udp_hdr));
		uh->check = 0;
	}
	return (int)outer;
}

#endif /* FG_ENCAP_H */
