/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * fg_fib.bpf.h - routing a rewritten packet: the next-hop cache in front
 * of bpf_fib_lookup, and the send (XDP_TX, devmap or redirect).
 *
 * BPF only (*.bpf.h): a part of floodgate.bpf.c, included by it alone;
 * it includes what it uses.
 */
#ifndef FG_FIB_BPF_H
#define FG_FIB_BPF_H

#include "fg_util.bpf.h"

/* Address families as bpf_fib_lookup wants them (linux/socket.h values,
 * which this header set cannot include without libc). */
#define FG_FIB_AF_INET  2
#define FG_FIB_AF_INET6 10

/* The fg_fwd.nh_slot of a NAT client's next hop. */
static __always_inline __u32 fg_nh_client_slot(const __be32 *addr)
{
	__u32 h = (addr[0] ^ addr[1] ^ addr[2] ^ addr[3]) * 0x9e3779b1U;

	return FG_NH_CLIENT | (h >> 20 & (FG_NH_CLIENT_SLOTS - 1));
}

/* Put the next hop's addresses on the frame and send it. */
static __always_inline int fg_send(struct xdp_md *ctx, const __u8 *dmac,
				   const __u8 *smac, __u32 ifindex)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > data_end)
		return XDP_DROP;
	__builtin_memcpy(eth->h_dest, dmac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, smac, ETH_ALEN);
	if (ifindex == ctx->ingress_ifindex)
		return XDP_TX;
	/* The devmap path batches and is the fast one; an egress interface
	 * the loader did not register still works through bpf_redirect. */
	if (bpf_map_lookup_elem(&fg_tx_ports, &ifindex))
		return bpf_redirect_map(&fg_tx_ports, ifindex, 0);
	return bpf_redirect(ifindex, 0);
}

/* fg_fib_out's packed argument: family | tot_len << 8 (BPF functions take
 * five arguments at most). */
#define FG_FIB_META(family, tot_len) ((__u32)(family) | ((__u32)(tot_len) << 8))
/* In the meta: the caller answers a packet too big for the path itself
 * (fg_fib_out then returns FG_FIB_TOO_BIG | mtu instead of dropping). */
#define FG_FIB_F_TOO_BIG 0x80U
#define FG_FIB_TOO_BIG 0x10000


/*
 * fg_fib_out - route the (rewritten) packet whose outer addresses are
 * src/dst, fill in the Ethernet addresses, and return the XDP verdict:
 * XDP_TX back out of the ingress interface, a redirect to another
 * interface (through fg_tx_ports when registered there), or XDP_DROP:
 * no route (counted no_route; also a packet too big for the path) or no
 * resolved neighbour (counted no_neigh); or, when the meta carries
 * FG_FIB_F_TOO_BIG, FG_FIB_TOO_BIG | the path's MTU for a packet too big
 * for it, which the caller answers. Passing the rewritten packet to the kernel would not help:
 * its source is this host's own address, so the kernel drops it as a
 * martian and never resolves the neighbour. The daemon keeps every next
 * hop the rules need resolved instead (kernel-managed neighbour entries),
 * so no_neigh counts what it missed. The next hop is cached in the slot
 * fw->nh_slot names, against fw->now.
 */
static __noinline int fg_fib_out(struct xdp_md *ctx, const __be32 *src,
				 const __be32 *dst, __u32 meta,
				 const struct fg_fwd *fw)
{
	struct bpf_fib_lookup fib;
	__u32 family = meta & 0x7f, tot_len = meta >> 8;
	__u32 slot = fw->nh_slot & ~FG_NH_CLIENT;
	__u64 now = fw->now;
	struct fg_nh_cl *cl = NULL;
	struct fg_nh *nh;
	int rc, i;

	if (fw->nh_slot & FG_NH_CLIENT) {
		slot = fg_cpu_index(bpf_get_smp_processor_id(),
				    FG_NH_CLIENT_SLOTS, slot);
		cl = bpf_map_lookup_elem(&fg_nh_client, &slot);
		nh = cl ? &cl->nh : NULL;
	} else {
		nh = bpf_map_lookup_elem(&fg_nh_cache, &slot);
	}
	if (nh && nh->expires > now && tot_len <= nh->len_ok &&
	    nh->in_ifindex == ctx->ingress_ifindex &&
	    fg_addr16_eq(nh->dst, dst) && (!cl || fg_addr16_eq(cl->src, src)))
		return fg_send(ctx, nh->dmac, nh->smac, nh->ifindex);

	/* Zeroed only now: a cached next hop (the common case) needs none
	 * of its 64 bytes. */
	__builtin_memset(&fib, 0, sizeof(fib));
	fib.ifindex = ctx->ingress_ifindex;
	fib.tot_len = (__u16)tot_len;
	if (family == FG_AF_INET) {
		fib.family = FG_FIB_AF_INET;
		fib.ipv4_src = src[0];
		fib.ipv4_dst = dst[0];
	} else {
		fib.family = FG_FIB_AF_INET6;
		__builtin_memcpy(fib.ipv6_src, src, 16);
		__builtin_memcpy(fib.ipv6_dst, dst, 16);
	}
	rc = bpf_fib_lookup(ctx, &fib, sizeof(fib), 0);
	if (rc == BPF_FIB_LKUP_RET_NO_NEIGH) {
		fg_count_drop(FG_DROP_NO_NEIGH);
		return XDP_DROP;
	}
	if (rc == BPF_FIB_LKUP_RET_FRAG_NEEDED && (meta & FG_FIB_F_TOO_BIG))
		return FG_FIB_TOO_BIG | fib.mtu_result;
	if (rc != BPF_FIB_LKUP_RET_SUCCESS) {
		fg_count_drop(FG_DROP_NO_ROUTE);
		return XDP_DROP;
	}
	if (nh) {
		__builtin_memcpy(nh->dmac, fib.dmac, ETH_ALEN);
		__builtin_memcpy(nh->smac, fib.smac, ETH_ALEN);
		nh->ifindex = fib.ifindex;
		nh->in_ifindex = ctx->ingress_ifindex;
		FG_UNROLL
		for (i = 0; i < 4; i++)
			nh->dst[i] = dst[i];
		if (cl)
			__builtin_memcpy(cl->src, src, sizeof(cl->src));
		nh->len_ok = (__u16)tot_len;
		nh->expires = now + FG_NH_TTL_NS;
	}
	return fg_send(ctx, fib.dmac, fib.smac, fib.ifindex);
}

#endif /* FG_FIB_BPF_H */
