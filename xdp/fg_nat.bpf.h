/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * fg_nat.bpf.h - full NAT: the SNAT source port of a new flow, the
 * rewrite, and the return leg (backend -> client).
 *
 * BPF only (*.bpf.h): a part of floodgate.bpf.c, included by it alone;
 * it includes what it uses.
 */
#ifndef FG_NAT_BPF_H
#define FG_NAT_BPF_H

#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>

#include "fg_csum.h"
#include "fg_parse.h"

#include "fg_fib.bpf.h"

/* How many source ports a new NAT flow tries before giving up. */
#ifndef FG_NAT_PROBES
#define FG_NAT_PROBES 8
#endif
#define FG_NAT_PORT_MIN 1024U
#define FG_NAT_PORT_SPAN (65536U - FG_NAT_PORT_MIN)

/* The packet is addressed to the appliance's own SNAT address. */
static __always_inline int fg_is_snat_dst(const struct fg_pkt *pkt)
{
	if (pkt->family == FG_AF_INET)
		return fg_snat4 && pkt->dst[0] == fg_snat4;
	return (fg_snat6[0] | fg_snat6[1] | fg_snat6[2] | fg_snat6[3]) &&
	       fg_addr_eq(pkt->dst, fg_snat6, FG_AF_INET6);
}

/* ----------------------------------------------------------- full NAT */

/*
 * fg_nat_rewrite - rewrite the packet's addresses and ports in place to
 * t (saddr:sport -> daddr:dport), updating the IPv4 header checksum and the
 * TCP/UDP checksum incrementally. Returns 0, or -1 when the headers are
 * not where the parse said (cannot happen for a parsed packet).
 */
struct fg_nat_tuple {
	__be32 saddr[4];
	__be32 daddr[4];
	__be16 sport;
	__be16 dport;
};

static __noinline int fg_nat_rewrite(struct xdp_md *ctx, const struct fg_pkt *pkt,
				     const struct fg_nat_tuple *t)
{
	const __be32 *saddr = t->saddr, *daddr = t->daddr;
	__be16 sport = t->sport, dport = t->dport;
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 l3 = pkt->l3_off, l4 = pkt->l4_off;
	__u16 *check = NULL;
	__be16 *ports;
	int udp = pkt->l4_proto == IPPROTO_UDP;

	if (l3 > 64 || l4 > 1500)
		return -1;
	ports = data + l4;
	if ((void *)(ports + 2) > data_end)
		return -1;
	if (udp) {
		struct udphdr *uh = data + l4;

		if ((void *)(uh + 1) > data_end)
			return -1;
		if (uh->check)
			check = &uh->check;
	} else {
		struct tcphdr *th = data + l4;

		if ((void *)(th + 1) > data_end)
			return -1;
		check = &th->check;
	}

	if (pkt->family == FG_AF_INET) {
		struct iphdr *iph = data + l3;
		__u16 c;

		if ((void *)(iph + 1) > data_end)
			return -1;
		c = iph->check;
		c = fg_csum_replace4(c, iph->saddr, saddr[0]);
		c = fg_csum_replace4(c, iph->daddr, daddr[0]);
		iph->check = c;
		if (check) {
			c = *check;
			c = fg_csum_replace4(c, iph->saddr, saddr[0]);
			c = fg_csum_replace4(c, iph->daddr, daddr[0]);
			c = fg_csum_replace2(c, ports[0], sport);
			c = fg_csum_replace2(c, ports[1], dport);
			*check = (udp && c == 0) ? 0xffff : c;
		}
		iph->saddr = saddr[0];
		iph->daddr = daddr[0];
	} else {
		struct ipv6hdr *ip6 = data + l3;
		__u16 c;

		if ((void *)(ip6 + 1) > data_end)
			return -1;
		if (check) {
			c = *check;
			c = fg_csum_replace16(c, (__be32 *)&ip6->saddr, saddr);
			c = fg_csum_replace16(c, (__be32 *)&ip6->daddr, daddr);
			c = fg_csum_replace2(c, ports[0], sport);
			c = fg_csum_replace2(c, ports[1], dport);
			*check = (udp && c == 0) ? 0xffff : c;
		}
		__builtin_memcpy(&ip6->saddr, saddr, 16);
		__builtin_memcpy(&ip6->daddr, daddr, 16);
	}
	ports[0] = sport;
	ports[1] = dport;
	return 0;
}

static __always_inline void fg_snat_addr(int family, __be32 *out)
{
	if (family == FG_AF_INET) {
		out[0] = fg_snat4;
		out[1] = out[2] = out[3] = 0;
	} else {
		out[0] = fg_snat6[0];
		out[1] = fg_snat6[1];
		out[2] = fg_snat6[2];
		out[3] = fg_snat6[3];
	}
}

/* The backend-side key of a NAT flow: backend -> SNAT address, from the
 * backend's port to the flow's SNAT source port. */
static __always_inline void fg_nat_rkey(const struct fg_flow_key *key,
					const struct fg_backend *be,
					__be16 nat_port, struct fg_flow_key *rk)
{
	__builtin_memcpy(rk->src, be->addr, sizeof(rk->src));
	fg_snat_addr(key->family, rk->dst);
	rk->sport = be->port;
	rk->dport = nat_port;
	rk->proto = key->proto;
	rk->family = key->family;
	rk->pad = 0;
}

/*
 * fg_nat_new - pick a free SNAT source port for a new NAT flow and record
 * the reverse mapping: a TCP flow's in fg_nat_syn until its handshake
 * completes (fg_nat_promote), a UDP flow's in fg_nat. A port is free when
 * neither table holds it. Returns the port (network order) or 0 when all
 * FG_NAT_PROBES candidates are taken.
 */
static __noinline __be16 fg_nat_new(const struct fg_flow_key *key,
				    const struct fg_backend *be, __u32 svc_id,
				    const struct fg_fwd *fw, int is_tcp)
{
	void *table = is_tcp ? (void *)&fg_nat_syn : (void *)&fg_nat;
	struct fg_nat_rev rev = {};
	struct fg_flow_key rk;
	__u32 i;

	__builtin_memcpy(rev.client, key->src, sizeof(rev.client));
	__builtin_memcpy(rev.vip, key->dst, sizeof(rev.vip));
	rev.client_port = key->sport;
	rev.vip_port = key->dport;
	rev.svc_id = svc_id;
	rev.last_seen = fw->now;

	fg_nat_rkey(key, be, 0, &rk);
	for (i = 0; i < FG_NAT_PROBES; i++) {
		__u32 port = FG_NAT_PORT_MIN +
			     (__u32)((fw->hash >> 20) + i * 7919U) % FG_NAT_PORT_SPAN;

		rk.dport = fg_htons(port);
		if (is_tcp && bpf_map_lookup_elem(&fg_nat, &rk))
			continue;
		if (!bpf_map_update_elem(table, &rk, &rev, BPF_NOEXIST))
			return rk.dport;
	}
	return 0;
}

/* The client's first non-SYN completed a NAT flow's handshake (ct): its
 * reverse entry moves from fg_nat_syn to fg_nat. */
static __noinline void fg_nat_promote(const struct fg_flow_key *key,
				      const struct fg_backend *be,
				      const struct fg_ct *ct)
{
	struct fg_nat_rev *rev, copy;
	struct fg_flow_key rk;

	fg_nat_rkey(key, be, ct->nat_port, &rk);
	rev = bpf_map_lookup_elem(&fg_nat_syn, &rk);
	if (!rev)
		return;
	copy = *rev;
	if (!bpf_map_update_elem(&fg_nat, &rk, &copy, BPF_ANY))
		bpf_map_delete_elem(&fg_nat_syn, &rk);
}

/* The return leg of a NAT flow: backend -> SNAT address becomes
 * VIP -> client. Returns the verdict, or -1 when no NAT entry matches
 * (the packet is then handled as any other). */
static __noinline int fg_nat_reverse(struct xdp_md *ctx,
					  const struct fg_pkt *pkt)
{
	struct fg_nat_tuple t;
	struct fg_flow_key key;
	struct fg_nat_rev *rev;
	struct fg_fwd fw = {};
	__u32 svc_id, len;

	fg_flow_key_from_pkt(pkt, &key);
	rev = bpf_map_lookup_elem(&fg_nat, &key);
	if (!rev)
		rev = bpf_map_lookup_elem(&fg_nat_syn, &key); /* a SYN-ACK */
	if (!rev)
		return -1;
	__builtin_memcpy(t.saddr, rev->vip, sizeof(t.saddr));
	__builtin_memcpy(t.daddr, rev->client, sizeof(t.daddr));
	t.sport = rev->vip_port;
	t.dport = rev->client_port;
	svc_id = rev->svc_id;
	len = (__u32)((long)ctx->data_end - (long)ctx->data);
	fg_count(&fg_svc_stats, FG_SVC_MAX, svc_id, len, 0);
	if (fg_nat_rewrite(ctx, pkt, &t))
		return XDP_DROP;
	fw.now = fg_now();
	fw.nh_slot = fg_nh_client_slot(t.daddr);
	return fg_fib_out(ctx, t.saddr, t.daddr, FG_FIB_META(pkt->family, pkt->l3_len),
			  &fw);
}

#endif /* FG_NAT_BPF_H */
