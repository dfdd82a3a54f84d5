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

#include "fg_nat.h"
#include "fg_parse.h"

#include "fg_fib.bpf.h"


/* The packet is addressed to the appliance's own SNAT address. */
static __always_inline int fg_is_snat_dst(const struct fg_pkt *pkt)
{
	if (pkt->family == FG_AF_INET)
		return fg_snat4 && pkt->dst[0] == fg_snat4;
	return (fg_snat6[0] | fg_snat6[1] | fg_snat6[2] | fg_snat6[3]) &&
	       fg_addr_eq(pkt->dst, fg_snat6, FG_AF_INET6);
}

/* ----------------------------------------------------------- full NAT */

/* fg_nat_rewrite - the core's rewrite (fg_nat.h) of the frame in ctx
 * to t. Returns 0 or -1. */
static __noinline int fg_nat_rewrite(struct xdp_md *ctx, const struct fg_pkt *pkt,
				     const struct fg_nat_to *t)
{
	return fg_nat_rewrite_hdrs((void *)(long)ctx->data,
				   (void *)(long)ctx->data_end, pkt, t);
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

/* The backend-side key of a NAT flow (the core's fg_nat_rkey), from this
 * program's SNAT address. */
static __always_inline void fg_xdp_nat_rkey(const struct fg_flow_key *key,
					    const struct fg_backend *be,
					    __be16 nat_port, struct fg_flow_key *rk)
{
	__be32 snat[4];

	fg_snat_addr(key->family, snat);
	fg_nat_rkey(key, be->addr, be->port, snat, nat_port, rk);
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

	fg_xdp_nat_rkey(key, be, 0, &rk);
	for (i = 0; i < FG_NAT_PROBES; i++) {
		__u32 port = fg_nat_port_try(fw->hash, i);

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

	fg_xdp_nat_rkey(key, be, ct->nat_port, &rk);
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
	struct fg_nat_to t;
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
