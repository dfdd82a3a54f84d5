/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * fg_verdict.h - the L4 dataplanes' decisions that need no table lookup,
 * and their order: one implementation for the XDP program and the DPDK
 * worker, so that the two cannot drift.
 *
 * A packet goes through these checks, in this order (DESIGN.md
 * "Admission before state"); each check either lets it go on
 * (FG_VERDICT_NEXT) or stops it with an action and the drop reason it
 * counts:
 *
 *   1. fg_verdict_parsed   parse status, then TCP/UDP only
 *   2. fg_verdict_vip      the VIP filter (fg_config) says "maybe a VIP"
 *      (the reverse leg of a NAT flow is the caller's, between 2 and 3)
 *   3. fg_verdict_service  a service of the active generation; no fragment
 *   4. the limits          fg_limit_nth gives them in order (global, then
 *                          the service's); fg_limit_cost, fg_limit_matches,
 *                          fg_bucket_key_fill and fg_limit_refusal judge one
 *   5. fg_verdict_backend  the connection table or Maglev gave a backend;
 *                          a SYN without one is the flood guard's
 *   6. fg_verdict_nat      a full-NAT flow has state to rewrite with
 *   7. forward             encapsulate or rewrite, route, send
 *
 * The caller owns what only it can do: the table lookups (BPF maps,
 * DPDK tables), the clock, the counters, the rewrite and the send. Every
 * function here is pure over (packet, tables as pointers, now).
 * Context: any (BPF program, DPDK worker, unit tests).
 */
#ifndef FG_VERDICT_H
#define FG_VERDICT_H

#include "fg_types.h"
#include "fg_parse.h"
#include "fg_flow.h"
#include "fg_tables.h"

/* ------------------------------------------------------------ verdicts */

/* What a check decides. */
enum fg_act {
	FG_ACT_NEXT = 0, /* go on to the next check */
	FG_ACT_PASS,     /* hand the packet to the stack untouched */
	FG_ACT_DROP,     /* discard it */
	FG_ACT_RESET,    /* answer a TCP RST in its place (a limit's action) */
};

/* A verdict's reason when it counts none (a non-IP frame). */
#define FG_REASON_NONE 0xffU

/* A verdict: the action in the low byte, the FG_DROP_* reason to count
 * (FG_REASON_NONE: none) above it. One integer, so a check returns it in a
 * register. */
#define FG_VERDICT(act, reason) ((__u32)(act) | (__u32)(reason) << 8)
#define FG_VERDICT_NEXT FG_VERDICT(FG_ACT_NEXT, FG_REASON_NONE)

/* fg_verdict_act - the enum fg_act of verdict v. Context: any. */
FG_INLINE __u32 fg_verdict_act(__u32 v)
{
	return v & 0xff;
}

/* fg_verdict_reason - the FG_DROP_* reason verdict v counts, or
 * FG_REASON_NONE. Context: any. */
FG_INLINE __u32 fg_verdict_reason(__u32 v)
{
	return v >> 8;
}

/*
 * fg_verdict_parsed - check 1: what fg_parse() (status rc, result pkt)
 * leaves to do. A frame that is not IP, or whose IPv6 extension chain is
 * longer than we walk (legal, not ours to judge), or that is neither TCP
 * nor UDP passes to the stack; a malformed one is dropped.
 * Returns a verdict. Context: any.
 */
FG_INLINE __u32 fg_verdict_parsed(int rc, const struct fg_pkt *pkt)
{
	if (rc == FG_PARSE_NOT_IP)
		return FG_VERDICT(FG_ACT_PASS, FG_REASON_NONE);
	if (rc == FG_PARSE_ERR_IP6_EXT_DEPTH)
		return FG_VERDICT(FG_ACT_PASS, FG_DROP_NO_SERVICE);
	if (rc != FG_PARSE_OK)
		return FG_VERDICT(FG_ACT_DROP, FG_DROP_MALFORMED);
	if (pkt->l4_proto != FG_IPPROTO_TCP && pkt->l4_proto != FG_IPPROTO_UDP)
		return FG_VERDICT(FG_ACT_PASS, FG_DROP_NO_SERVICE);
	return FG_VERDICT_NEXT;
}

/*
 * fg_verdict_vip - check 2: the destination may be a VIP (of either
 * generation) or the SNAT address, per cfg's filter; anything else is the
 * kernel's, known without a look at the service table.
 * Returns a verdict. Context: any.
 */
FG_INLINE __u32 fg_verdict_vip(const struct fg_pkt *pkt,
			       const struct fg_config *cfg)
{
	if (!fg_vip_filter_has(cfg, pkt->dst))
		return FG_VERDICT(FG_ACT_PASS, FG_DROP_NO_SERVICE);
	return FG_VERDICT_NEXT;
}

/*
 * fg_verdict_service - check 3: svc is the service the lookup found for
 * the packet (NULL: none, the packet is the stack's). A fragment of a
 * service's flow is dropped: later fragments carry no ports, so there is
 * no flow to follow. Returns a verdict. Context: any.
 */
FG_INLINE __u32 fg_verdict_service(const struct fg_pkt *pkt,
				   const struct fg_svc *svc)
{
	if (!svc)
		return FG_VERDICT(FG_ACT_PASS, FG_DROP_NO_SERVICE);
	if (pkt->flags & FG_PKT_F_FRAG)
		return FG_VERDICT(FG_ACT_DROP, FG_DROP_FRAGMENT);
	return FG_VERDICT_NEXT;
}

/* fg_pkt_is_syn - a TCP SYN without ACK: what opens a connection, what
 * the flood guard and the cps limits judge. Context: any. */
FG_INLINE int fg_pkt_is_syn(const struct fg_pkt *pkt)
{
	return pkt->l4_proto == FG_IPPROTO_TCP &&
	       (pkt->tcp_flags & (FG_TCP_SYN | FG_TCP_ACK)) == FG_TCP_SYN;
}

/*
 * fg_verdict_backend - check 5: be_id is what the connection table or the
 * Maglev ring gave the packet (FG_NO_BACKEND: nothing usable). A SYN that
 * gets none is refused before it creates state (the flood guard's count);
 * any other packet has no backend. Returns a verdict. Context: any.
 */
FG_INLINE __u32 fg_verdict_backend(__u32 be_id, int is_syn)
{
	if (be_id == FG_NO_BACKEND)
		return FG_VERDICT(FG_ACT_DROP, is_syn ? FG_DROP_FLOOD_GUARD :
							 FG_DROP_NO_BACKEND);
	return FG_VERDICT_NEXT;
}

/*
 * fg_verdict_nat - check 6, full NAT only: a backend of the other family
 * cannot be reached by rewriting addresses; a mid-flow packet (not
 * new_flow) whose entry ct holds no NAT state has no source port to use,
 * and the backend would only answer it with RST.
 * Returns a verdict. Context: any.
 */
FG_INLINE __u32 fg_verdict_nat(const struct fg_pkt *pkt,
			       const struct fg_backend *be,
			       const struct fg_ct *ct, int new_flow)
{
	if (be->family != pkt->family)
		return FG_VERDICT(FG_ACT_DROP, FG_DROP_NO_BACKEND);
	if (!new_flow && !(ct->flags & FG_CT_F_NAT))
		return FG_VERDICT(FG_ACT_DROP, FG_DROP_FLOOD_GUARD);
	return FG_VERDICT_NEXT;
}

/* -------------------------------------------------------------- limits */

/* Limits judged per packet at most: the global ones, then the service's. */
#define FG_LIMITS_PER_PKT (FG_GLOBAL_LIMITS_MAX + FG_SVC_LIMITS_MAX)

/* fg_limit_nth's answer for a slot that holds no limit. */
#define FG_LIMIT_NONE 0xffffffffU

/* What one limit says of a packet. */
enum fg_limit_verdict {
	FG_LIMIT_PASS = 0,
	FG_LIMIT_DROP,
	FG_LIMIT_RESET,
};

/*
 * fg_limit_nth - the limit id in slot i (from 0, below FG_LIMITS_PER_PKT)
 * of the order a packet of service svc is judged in: slots 0 to
 * FG_GLOBAL_LIMITS_MAX - 1 hold cfg's global limits, the slots after them
 * the service's own, each list in its order; FG_LIMIT_NONE for a slot
 * past the end of its list (go on to the next). The first refusal ends
 * the walk. Fixed slots, not a running count: a caller that unrolls the
 * walk indexes each list with a constant, which the BPF verifier checks
 * without tracking a bound. Context: any.
 */
FG_INLINE __u32 fg_limit_nth(const struct fg_config *cfg,
			     const struct fg_svc *svc, __u32 i)
{
	if (i < FG_GLOBAL_LIMITS_MAX)
		return i < cfg->nglobal_limits ? cfg->global_limits[i] :
						 FG_LIMIT_NONE;
	i -= FG_GLOBAL_LIMITS_MAX;
	if (i < FG_SVC_LIMITS_MAX && i < svc->nlimits)
		return svc->limits[i];
	return FG_LIMIT_NONE;
}

/*
 * fg_limit_matches - the packet of flow key pkt is one limit lim counts:
 * its protocol, destination port and source prefix (each when set).
 * Returns 1 or 0. Context: any.
 */
FG_INLINE int fg_limit_matches(const struct fg_limit *lim,
			       const struct fg_flow_key *pkt)
{
	if (lim->match_proto && lim->match_proto != pkt->proto)
		return 0;
	if (lim->match_dport && lim->match_dport != pkt->dport)
		return 0;
	if (lim->flags & FG_LIM_F_MATCH_SRC) {
		__u32 bits = lim->match_src_len;
		int i;

		if (lim->match_family != pkt->family)
			return 0;
		FG_UNROLL
		for (i = 0; i < 4; i++) {
			__u32 take = bits > 32 ? 32 : bits;
			__u32 mask = take ? (__u32)(0xffffffffULL << (32 - take)) : 0;

			if ((fg_ntohl(pkt->src[i]) & mask) != fg_ntohl(lim->match_src[i]))
				return 0;
			bits -= take;
		}
	}
	return 1;
}

/*
 * fg_limit_cost - what a packet costs limit lim's bucket: 1 (a packet, a
 * connection) or its frame's bits; 0 when the limit's unit does not apply
 * to it (cps counts SYNs only), and the limit neither counts nor refuses
 * it. Context: any.
 */
FG_INLINE __u32 fg_limit_cost(const struct fg_limit *lim, int is_syn,
			      __u32 frame_len)
{
	switch (lim->unit) {
	case FG_LUNIT_CPS:
		return is_syn ? 1 : 0;
	case FG_LUNIT_BPS:
		return frame_len * 8;
	default:
		return 1;
	}
}

/*
 * fg_bucket_key_fill - the key of the bucket that limit lim charges for a
 * packet of flow key key and service svc_id, into *bk (zeroed by the
 * caller): per source address, per source prefix, per flow, or one per
 * (limit, service). Context: any.
 */
FG_INLINE void fg_bucket_key_fill(struct fg_bucket_key *bk,
				  const struct fg_limit *lim,
				  const struct fg_flow_key *key, __u32 svc_id)
{
	__u32 bits = lim->prefix_len;
	int i;

	bk->limit_id = lim->id;
	bk->family = key->family;
	switch (lim->key) {
	case FG_LKEY_SRC_IP:
		__builtin_memcpy(bk->addr, key->src, sizeof(bk->addr));
		break;
	case FG_LKEY_SRC_PREFIX:
		FG_UNROLL
		for (i = 0; i < 4; i++) {
			__u32 take = bits > 32 ? 32 : bits;
			__u32 mask = take ? (__u32)(0xffffffffULL << (32 - take)) : 0;

			bk->addr[i] = fg_htonl(fg_ntohl(key->src[i]) & mask);
			bits -= take;
		}
		break;
	case FG_LKEY_FLOW:
		__builtin_memcpy(bk->addr, key->src, sizeof(bk->addr));
		__builtin_memcpy(bk->dst, key->dst, sizeof(bk->dst));
		bk->sport = key->sport;
		bk->dport = key->dport;
		bk->proto = key->proto;
		break;
	default: /* FG_LKEY_SERVICE: one bucket per (limit, service) */
		bk->dst[0] = svc_id;
		bk->family = 0;
		break;
	}
}

/*
 * fg_limit_refusal - what limit lim does with a packet (protocol proto,
 * TCP flags tcp_flags) its bucket refused: FG_LIMIT_PASS for a dry-run
 * limit (counted only), FG_LIMIT_RESET when it answers TCP with a reset,
 * else FG_LIMIT_DROP. A segment carrying RST is discarded, never answered
 * with one (RFC 9293 3.10.7.1). Context: any.
 */
FG_INLINE int fg_limit_refusal(const struct fg_limit *lim, __u8 proto,
			       __u8 tcp_flags)
{
	if (lim->flags & FG_LIM_F_DRY_RUN)
		return FG_LIMIT_PASS;
	if (lim->action == FG_LACT_RESET && proto == FG_IPPROTO_TCP &&
	    !(tcp_flags & FG_TCP_RST))
		return FG_LIMIT_RESET;
	return FG_LIMIT_DROP;
}

#endif /* FG_VERDICT_H */
