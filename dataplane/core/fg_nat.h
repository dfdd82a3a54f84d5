/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * fg_nat.h - full NAT without the tables: the source ports a new flow
 * tries, the backend-side key its return leg is found by, and the
 * in-place rewrite of addresses, ports and checksums. The dataplanes keep
 * the reverse entries each in their own tables (BPF maps, DPDK per-lcore
 * arrays) and call these for everything else.
 *
 * Context: any (BPF program, DPDK worker, tests).
 */
#ifndef FG_NAT_H
#define FG_NAT_H

#include "fg_types.h"
#include "fg_parse.h"
#include "fg_flow.h"
#include "fg_csum.h"

/* How many source ports a new NAT flow tries before giving up. */
#ifndef FG_NAT_PROBES
#define FG_NAT_PROBES 8
#endif
#define FG_NAT_PORT_MIN 1024U
#define FG_NAT_PORT_SPAN (65536U - FG_NAT_PORT_MIN)

/* fg_nat_port_try - the i-th source port (host order, FG_NAT_PORT_MIN
 * and up) a new flow of hash `hash` tries: spread by the flow hash, the
 * tries a prime stride apart. Context: any. */
FG_INLINE __u32 fg_nat_port_try(__u64 hash, __u32 i)
{
	return FG_NAT_PORT_MIN +
	       (__u32)((hash >> 20) + i * 7919U) % FG_NAT_PORT_SPAN;
}

/*
 * fg_nat_port_owned - port p (host order, from fg_nat_port_try) moved to
 * the nearest port at or below it that worker `idx` of `n` owns (port %
 * n == idx), wrapping inside [FG_NAT_PORT_MIN, 65536): a dataplane whose
 * workers each keep their own NAT state gives each a residue class, so
 * the return leg names its owner in its destination port. n == 1 leaves
 * p as it is. n must be 1..FG_NAT_PORT_MIN, idx < n. Context: any.
 */
FG_INLINE __u32 fg_nat_port_owned(__u32 p, __u32 idx, __u32 n)
{
	__u32 q = p - p % n + idx;

	if (q > p)
		q -= n;
	if (q < FG_NAT_PORT_MIN)
		q += n * ((FG_NAT_PORT_MIN - q + n - 1) / n);
	return q;
}

/* Where a NAT rewrite sends the packet: saddr:sport -> daddr:dport. */
struct fg_nat_to {
	__be32 saddr[4];
	__be32 daddr[4];
	__be16 sport;
	__be16 dport;
};

/*
 * fg_nat_rkey - the backend-side key of a NAT flow (the key its return
 * packets carry): backend be_addr:be_port -> snat:nat_port, the client
 * key's protocol and family. Context: any.
 */
FG_INLINE void fg_nat_rkey(const struct fg_flow_key *key,
			   const __be32 *be_addr, __be16 be_port,
			   const __be32 *snat, __be16 nat_port,
			   struct fg_flow_key *rk)
{
	int i;

	FG_UNROLL
	for (i = 0; i < 4; i++) {
		rk->src[i] = be_addr[i];
		rk->dst[i] = snat[i];
	}
	rk->sport = be_port;
	rk->dport = nat_port;
	rk->proto = key->proto;
	rk->family = key->family;
	rk->pad = 0;
}

/*
 * fg_nat_rewrite_hdrs - rewrite the parsed packet's addresses and ports
 * in place to t, updating the IPv4 header checksum and the TCP/UDP
 * checksum incrementally (a UDP checksum of 0 stays 0: none; one that
 * comes out 0 is sent as 0xffff). pkt is fg_parse()'s view of
 * [data, end), TCP or UDP. Returns 0, or -1 when the headers are not
 * where pkt says (cannot happen for a parsed packet). Context: any.
 */
FG_INLINE int fg_nat_rewrite_hdrs(void *data, const void *end,
				  const struct fg_pkt *pkt,
				  const struct fg_nat_to *t)
{
	__u32 l3 = pkt->l3_off, l4 = pkt->l4_off;
	int udp = pkt->l4_proto == FG_IPPROTO_UDP;
	__be16 *check = 0;
	__be16 *ports;
	__u16 c;

	/* Bounds the verifier can follow: L2 is at most 22 bytes, and an
	 * L4 header past 1500 bytes is no packet we rewrite. */
	if (l3 > 64 || l4 > 1500)
		return -1;
	ports = (void *)((__u8 *)data + l4);
	if (udp) {
		struct fg_udp_hdr *uh = (void *)ports;

		if ((void *)(uh + 1) > end)
			return -1;
		/* The field by offset, not &uh->check: a packed member's
		 * address is one gcc warns about. */
		if (uh->check)
			check = (__be16 *)((__u8 *)ports + 6);
	} else {
		struct fg_tcp_hdr *th = (void *)ports;

		if ((void *)(th + 1) > end)
			return -1;
		check = (__be16 *)((__u8 *)ports + 16);
	}

	if (pkt->family == FG_AF_INET) {
		struct fg_ip4_hdr *iph = (void *)((__u8 *)data + l3);

		if ((void *)(iph + 1) > end)
			return -1;
		c = iph->check;
		c = fg_csum_replace4(c, iph->saddr, t->saddr[0]);
		c = fg_csum_replace4(c, iph->daddr, t->daddr[0]);
		iph->check = c;
		if (check) {
			c = *check;
			c = fg_csum_replace4(c, iph->saddr, t->saddr[0]);
			c = fg_csum_replace4(c, iph->daddr, t->daddr[0]);
			c = fg_csum_replace2(c, ports[0], t->sport);
			c = fg_csum_replace2(c, ports[1], t->dport);
			*check = (udp && c == 0) ? 0xffff : c;
		}
		iph->saddr = t->saddr[0];
		iph->daddr = t->daddr[0];
	} else {
		struct fg_ip6_hdr *ip6 = (void *)((__u8 *)data + l3);
		int i;

		if ((void *)(ip6 + 1) > end)
			return -1;
		if (check) {
			__be32 s[4], d[4];

			FG_UNROLL
			for (i = 0; i < 4; i++) {
				s[i] = ip6->saddr[i];
				d[i] = ip6->daddr[i];
			}
			c = *check;
			c = fg_csum_replace16(c, s, t->saddr);
			c = fg_csum_replace16(c, d, t->daddr);
			c = fg_csum_replace2(c, ports[0], t->sport);
			c = fg_csum_replace2(c, ports[1], t->dport);
			*check = (udp && c == 0) ? 0xffff : c;
		}
		FG_UNROLL
		for (i = 0; i < 4; i++) {
			ip6->saddr[i] = t->saddr[i];
			ip6->daddr[i] = t->daddr[i];
		}
	}
	ports[0] = t->sport;
	ports[1] = t->dport;
	return 0;
}

#endif /* FG_NAT_H */
