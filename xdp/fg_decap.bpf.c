// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * fg_decap.bpf.c - backend decapsulation of Floodgate DSR traffic.
 *
 * The appliance forwards a client packet to a backend wrapped in a tunnel
 * (the wire contract of the dsr-ipip and dsr-gue forwarding modes):
 *
 *   dsr-ipip  outer IPv4 (protocol 4 or 41) or outer IPv6 (next header 4
 *             or 41) + the client's IPv4/IPv6 packet, unchanged;
 *   dsr-gue   outer IPv4/IPv6 + UDP to the GUE port (default 6080) + the
 *             client's packet directly (GUE variant 1: no GUE header, the
 *             first nibble is the inner IP version).
 *
 * Outer source = the appliance's tunnel address, outer destination = the
 * backend; the inner destination is the VIP, which the backend holds on
 * lo. This kernel (and many backends) has no ipip/fou/ip6_tunnel modules,
 * so the backend strips the outer headers here and hands the inner packet
 * to its own stack, which delivers it to the VIP; replies go straight to
 * the client (DSR).
 *
 * Two attach points share the decision (fg_decap_decide):
 *   fg_decap_xdp  XDP (native or generic): bpf_xdp_adjust_head, then the
 *                 Ethernet header (and up to two VLAN tags) is rewritten in
 *                 front of the inner packet with the inner EtherType;
 *   fg_decap_tc   clsact ingress, for devices where XDP cannot run:
 *                 bpf_skb_adjust_room(BPF_ADJ_ROOM_MAC), which also sets
 *                 skb->protocol when the family changes (Linux 6.3+).
 *
 * Verdicts: a packet that is not a tunnel packet for this host passes
 * untouched. A tunnel packet for this host is decapsulated and passed,
 * unless it is an outer fragment (passed untouched: only the stack could
 * reassemble it, and the appliance never fragments) or its GUE payload or
 * inner header is broken (dropped and counted: passing it on would only
 * draw an ICMP error towards the appliance). "For this host" means the
 * outer destination is in fg_decap_addrs, filled by the loader with the
 * device's addresses; fg_decap_cfg.decap_any skips that check.
 *
 * Outer checksums are not verified: the outer header is discarded and the
 * inner packet's own checksums are checked by the stack.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

#include "fg_decap_common.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Local tunnel endpoint addresses; value unused (1). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, FG_DECAP_ADDRS_MAX);
	__type(key, struct fg_decap_addr);
	__type(value, __u32);
} fg_decap_addrs SEC(".maps");

/* Packet counters, enum fg_decap_counter; per-CPU so no atomics. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, FG_DECAP_CNT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} fg_decap_stats SEC(".maps");

/* Set by the loader before load (found by name through BTF). */
const volatile struct fg_decap_cfg fg_decap_cfg = {
	.gue_port = FG_BE16(FG_GUE_PORT_DEFAULT),
	.decap_any = 0,
};

enum fg_decap_action {
	FG_DECAP_ACT_PASS = 0, /* leave the packet as it is */
	FG_DECAP_ACT_DROP,     /* a broken tunnel packet for this host */
	FG_DECAP_ACT_STRIP,    /* remove plan.outer_len bytes after L2 */
};

/*
 * fg_decap_count - add one to counter idx on this CPU. Returns nothing;
 * the lookup cannot fail for idx < FG_DECAP_CNT_MAX but the verifier wants
 * the NULL check. Context: XDP or TC program.
 */
static __always_inline void fg_decap_count(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&fg_decap_stats, &idx);

	if (v)
		*v += 1;
}

/*
 * fg_decap_decide - classify the frame and decide what to do with it,
 * counting every outcome but a successful strip (the caller counts that
 * once its helper has succeeded).
 *
 * Returns an enum fg_decap_action; with FG_DECAP_ACT_STRIP *plan is
 * complete. Context: XDP or TC program; frame_len as for
 * fg_decap_classify().
 */
static __always_inline int fg_decap_decide(const void *data,
					   const void *data_end,
					   __u32 frame_len, __u32 vlan_max,
					   struct fg_decap_plan *plan)
{
	int cls;

	cls = fg_decap_classify(data, data_end, frame_len, vlan_max,
				fg_decap_cfg.gue_port, plan);
	if (cls == FG_DECAP_NOT_TUNNEL)
		goto pass;
	if (!fg_decap_cfg.decap_any &&
	    !bpf_map_lookup_elem(&fg_decap_addrs, &plan->dst))
		goto pass;
	if (cls == FG_DECAP_TUNNEL_FRAG) {
		fg_decap_count(FG_DECAP_CNT_FRAGMENT);
		return FG_DECAP_ACT_PASS;
	}
	if (cls != FG_DECAP_TUNNEL) {
		fg_decap_count(FG_DECAP_CNT_MALFORMED);
		return FG_DECAP_ACT_DROP;
	}
	return FG_DECAP_ACT_STRIP;
pass:
	fg_decap_count(FG_DECAP_CNT_PASSED);
	return FG_DECAP_ACT_PASS;
}

/* fg_decap_done_counter - returns the counter of a successful strip of
 * plan's kind (IPIP or GUE). Context: XDP or TC program. */
static __always_inline __u32 fg_decap_done_counter(const struct fg_decap_plan *plan)
{
	return plan->kind == FG_DECAP_KIND_GUE ? FG_DECAP_CNT_GUE :
						 FG_DECAP_CNT_IPIP;
}

/*
 * fg_decap_xdp - XDP entry point.
 *
 * Returns XDP_PASS (untouched, or decapsulated with the saved L2 header in
 * front of the inner packet) or XDP_DROP (broken tunnel packet for this
 * host, or the impossible failure after the head moved). Context: XDP,
 * native or generic, any device with an Ethernet header.
 */
SEC("xdp")
int fg_decap_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct fg_decap_plan plan;
	__u8 l2[FG_DECAP_L2_MAX];
	int act;

	act = fg_decap_decide(data, data_end, (__u32)(data_end - data),
			      FG_VLAN_MAX_DEPTH, &plan);
	if (act == FG_DECAP_ACT_PASS)
		return XDP_PASS;
	if (act == FG_DECAP_ACT_DROP)
		return XDP_DROP;

	/* Save the L2 header before it is cut off with the head. A tunnel
	 * frame is always longer than FG_DECAP_L2_MAX (L2 + two IP headers);
	 * the verifier still wants to see the bound. */
	if (data + FG_DECAP_L2_MAX > data_end)
		goto error;
	__builtin_memcpy(l2, data, FG_DECAP_L2_MAX);

	if (bpf_xdp_adjust_head(ctx, plan.outer_len))
		goto error;
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	/* L2 + an inner IP header (>= 34 bytes) remain; again for the
	 * verifier. The outer header is gone: no way back but a drop. */
	if (data + FG_DECAP_L2_MAX > data_end) {
		fg_decap_count(FG_DECAP_CNT_ERROR);
		return XDP_DROP;
	}

	/* MAC addresses, the VLAN tags as they were, then the inner
	 * EtherType. Constant offsets per tag count, which the verifier
	 * checks against the one bound above. */
	__builtin_memcpy(data, l2, 2 * ETH_ALEN);
	switch (plan.vlan_count) {
	case 0:
		__builtin_memcpy(data + 12, &plan.inner_proto, 2);
		break;
	case 1:
		__builtin_memcpy(data + 12, l2 + 12, 4);
		__builtin_memcpy(data + 16, &plan.inner_proto, 2);
		break;
	default:
		__builtin_memcpy(data + 12, l2 + 12, 8);
		__builtin_memcpy(data + 20, &plan.inner_proto, 2);
		break;
	}
	fg_decap_count(fg_decap_done_counter(&plan));
	return XDP_PASS;

error:
	fg_decap_count(FG_DECAP_CNT_ERROR);
	return XDP_PASS;
}

/*
 * fg_decap_tc - clsact ingress entry point (direct action).
 *
 * Returns TC_ACT_UNSPEC (go on as if this filter were absent: untouched,
 * or decapsulated so later filters and the stack see the inner packet) or
 * TC_ACT_SHOT (broken tunnel packet for this host). Context: TC ingress;
 * the stack has already moved an outer VLAN tag out of the frame, so none
 * is looked through (a second, in-band tag makes the packet not ours).
 */
SEC("tc")
int fg_decap_tc(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	__u64 flags = BPF_F_ADJ_ROOM_FIXED_GSO;
	struct fg_decap_plan plan;
	__u32 len = skb->len;
	int act;

	/* Headers may lie in paged fragments (GRO, some drivers): make the
	 * first FG_DECAP_HDR_MAX bytes linear before reading them. */
	if (data + FG_DECAP_HDR_MAX > data_end &&
	    (__u32)(data_end - data) < len) {
		bpf_skb_pull_data(skb, len < FG_DECAP_HDR_MAX ?
				       len : FG_DECAP_HDR_MAX);
		data = (void *)(long)skb->data;
		data_end = (void *)(long)skb->data_end;
	}

	act = fg_decap_decide(data, data_end, len, 0, &plan);
	if (act == FG_DECAP_ACT_PASS)
		return TC_ACT_UNSPEC;
	if (act == FG_DECAP_ACT_DROP)
		return TC_ACT_SHOT;

	/* FIXED_GSO: a GRO'd tunnel skb keeps its segment size; the
	 * payload per segment is the same without the outer header. */
	if (plan.inner_family != plan.outer_family)
		flags |= plan.inner_family == 4 ? FG_ADJ_ROOM_DECAP_L3_IPV4 :
						  FG_ADJ_ROOM_DECAP_L3_IPV6;
	if (bpf_skb_adjust_room(skb, -(__s32)plan.outer_len,
				BPF_ADJ_ROOM_MAC, flags)) {
		fg_decap_count(FG_DECAP_CNT_ERROR);
		return TC_ACT_UNSPEC;
	}
	/* The stack goes by skb->protocol, but taps and later filters read
	 * the frame: make its EtherType say the same. No checksum flag: the
	 * MAC header is outside CHECKSUM_COMPLETE's coverage. */
	if (bpf_skb_store_bytes(skb, offsetof(struct ethhdr, h_proto),
				&plan.inner_proto, sizeof(plan.inner_proto),
				0)) {
		fg_decap_count(FG_DECAP_CNT_ERROR);
		return TC_ACT_SHOT;
	}
	fg_decap_count(fg_decap_done_counter(&plan));
	return TC_ACT_UNSPEC;
}
