// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * floodgate.bpf.c - the XDP L4 dataplane: services, Maglev, connection
 * tracking, DSR (IPIP / ip6ip6 / GUE) and full NAT, token-bucket limits
 * and the SYN flood guard.
 *
 * Order of work for a packet (DESIGN.md "Admission before state"; the
 * order and every decision that needs no map are dataplane/core/
 * fg_verdict.h's, which the DPDK worker runs too):
 *   parse -> VIP filter -> reverse-NAT? -> service lookup (active
 *   generation) -> fragment -> limits -> connection table / Maglev (flood
 *   guard) -> rewrite -> FIB -> TX/redirect.
 * A SYN is judged by every limit before it may create state, and SYN state
 * lives in its own small table (fg_ct_syn) until the client's first
 * non-SYN packet promotes it, so a flood of spoofed SYNs can only churn
 * that table and never evicts established flows from fg_ct.
 *
 * Packets that are not for a service pass to the kernel untouched.
 *
 * One header per concern (Katran's balancer_kern.c and its lib/bpf/),
 * each BPF-only (*.bpf.h) and included here alone, in this order:
 *   fg_maps.bpf.h       load-time settings and every map
 *   fg_util.bpf.h       clock, counters, struct fg_fwd
 *   fg_service.bpf.h    service lookup, usable backends, Maglev pick
 *   fg_limits.bpf.h     token-bucket limits over fg_buckets
 *   fg_rst.bpf.h        the TCP reset a limit answers with
 *   fg_fib.bpf.h        next-hop cache, bpf_fib_lookup, send
 *   fg_encap.bpf.h      DSR outer headers
 *   fg_nat.bpf.h        full NAT, both legs
 *   fg_conntrack.bpf.h  connection tables, the flow's backend
 * This file keeps the program itself, fg_xdp_main.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>

#include "fg_types.h"
#include "fg_parse.h"
#include "fg_flow.h"
#include "fg_maglev.h"
#include "fg_tbucket.h"
#include "fg_tables.h"
#include "fg_csum.h"
#include "fg_parse_fast_kern.h"
#include "fg_prefilter.h"

#include "fg_maps.bpf.h"
#include "fg_util.bpf.h"
#include "fg_service.bpf.h"
#include "fg_limits.bpf.h"
#include "fg_rst.bpf.h"
#include "fg_fib.bpf.h"
#include "fg_encap.bpf.h"
#include "fg_nat.bpf.h"
#include "fg_conntrack.bpf.h"

/* ------------------------------------------------------------- main */

/*
 * fg_xdp_stop - the XDP verdict of a core check's verdict v that stopped
 * the packet (fg_verdict.h): count its reason, pass or drop. A reset is
 * the limits' alone, answered where they are applied.
 */
static __always_inline int fg_xdp_stop(__u32 v)
{
	if (fg_verdict_reason(v) != FG_REASON_NONE)
		fg_count_drop(fg_verdict_reason(v));
	return fg_verdict_act(v) == FG_ACT_PASS ? XDP_PASS : XDP_DROP;
}

/* fg_xdp_not_ours - the core's pre-filter (fg_prefilter.h) against the
 * config (measured: 26-30 -> 22-26 ns a packet in bench_xdp's
 * non_vip_pass over parsing it). */
static __always_inline int fg_xdp_not_ours(void *data, void *data_end)
{
	__u32 zero = 0;
	struct fg_config *cfg = bpf_map_lookup_elem(&fg_config, &zero);

	return cfg && fg_dst_not_ours(data, data_end, cfg);
}

SEC("xdp")
int fg_xdp_main(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	/* The limit context holds the packet's flow key, used by everything
	 * below: one copy keeps the stack of the deepest call chain under the
	 * verifier's 512 bytes. It, ct and fw are zeroed once the packet is
	 * known to be for a service, not before: a packet for none (most of
	 * what an edge box sees) has no use for them. */
	struct fg_limit_ctx lc;
	struct fg_flow_key *key = &lc.key;
	struct fg_backend *be;
	struct fg_config *cfg;
	struct fg_ct ct;
	struct fg_pkt pkt;
	struct fg_svc *svc;
	__u32 zero = 0, be_id, frame_len, v;
	int rc, is_tcp, is_syn, new_flow;
	struct fg_fwd fw;

	if (fg_xdp_not_ours(data, data_end)) {
		fg_count_drop(FG_DROP_NO_SERVICE);
		return XDP_PASS;
	}

	rc = fg_parse_fast(data, data_end, &pkt);
	if (rc != FG_PARSE_OK)
		rc = fg_parse(data, data_end, &pkt);
	v = fg_verdict_parsed(rc, &pkt);
	if (v != FG_VERDICT_NEXT)
		return fg_xdp_stop(v);
	/* Looked up again, not kept from fg_dst_not_ours(): an inlined
	 * array lookup costs a few instructions, a pointer live across the
	 * parse a stack slot, and the deepest call chain would then exceed
	 * the verifier's 512 bytes (528). */
	cfg = bpf_map_lookup_elem(&fg_config, &zero);
	if (!cfg)
		return XDP_PASS;
	/* The VIP filter on a tagged frame's destination, which
	 * fg_dst_not_ours() could not see (an untagged one has passed it). */
	if (pkt.l3_off != sizeof(struct ethhdr)) {
		v = fg_verdict_vip(&pkt, cfg);
		if (v != FG_VERDICT_NEXT)
			return fg_xdp_stop(v);
	}

	if (fg_is_snat_dst(&pkt) && (pkt.flags & FG_PKT_F_L4)) {
		rc = fg_nat_reverse(ctx, &pkt);
		if (rc >= 0)
			return rc;
	}

	svc = fg_lookup_service(&pkt, cfg);
	v = fg_verdict_service(&pkt, svc);
	if (v != FG_VERDICT_NEXT)
		return fg_xdp_stop(v);

	__builtin_memset(&lc, 0, sizeof(lc));
	__builtin_memset(&ct, 0, sizeof(ct));
	__builtin_memset(&fw, 0, sizeof(fw));
	frame_len = (__u32)(data_end - data);
	is_tcp = pkt.l4_proto == IPPROTO_TCP;
	is_syn = fg_pkt_is_syn(&pkt);
	fg_flow_key_from_pkt(&pkt, key);

	lc.tcp_flags = pkt.tcp_flags;
	lc.frame_len = frame_len;
	lc.svc_id = svc->id;
	lc.gen = cfg->gen & 1;
	lc.is_syn = is_syn;
	if (cfg->nglobal_limits || svc->nlimits) {
		lc.now = bpf_ktime_get_ns();
		rc = fg_limits_apply(&lc, cfg, svc);
		if (rc != FG_LIMIT_PASS) {
			fg_count_drop(FG_DROP_LIMITED);
			if (rc == FG_LIMIT_RESET)
				return fg_send_rst(ctx, &pkt);
			return XDP_DROP;
		}
	}

	{
		struct fg_hash_seed seed;

		fg_seed_get(&seed);
		fw.hash = fg_flow_hash(key, &seed);
	}
	fw.now = fg_now();
	be_id = fg_flow_backend(svc, key, (is_syn ? FG_FB_SYN : 0) |
				(is_tcp ? FG_FB_TCP : 0), &fw, &ct);
	v = fg_verdict_backend(be_id, is_syn);
	if (v != FG_VERDICT_NEXT)
		return fg_xdp_stop(v);
	be = bpf_map_lookup_elem(&fg_backends, &be_id);
	if (!be) {
		fg_count_drop(FG_DROP_NO_BACKEND);
		return XDP_DROP;
	}
	{
		/* Both forward modes look up the next hop by backend id
		 * (fg_fib_out): start its line now. */
		struct fg_nh *nh = bpf_map_lookup_elem(&fg_nh_cache, &be_id);

		if (nh)
			fg_touch(nh);
	}
	new_flow = !!(ct.flags & FG_CT_F_NEW);
	fw.nh_slot = be_id;

	if (svc->forward == FG_FWD_NAT) {
		struct fg_nat_to t;

		v = fg_verdict_nat(&pkt, be, &ct, new_flow);
		if (v != FG_VERDICT_NEXT)
			return fg_xdp_stop(v);
		if (new_flow) {
			ct.nat_port = fg_nat_new(key, be, svc->id, &fw, is_tcp);
			if (!ct.nat_port) {
				fg_count_drop(FG_DROP_NAT_PORTS);
				return XDP_DROP;
			}
			ct.flags |= FG_CT_F_NAT;
		}
		if (new_flow)
			fg_flow_commit(&ct, is_tcp, &fw);
		else if (ct.flags & FG_CT_F_PROMOTED)
			fg_nat_promote(key, be, &ct);
		fg_count(&fg_svc_stats, FG_SVC_MAX, svc->id, frame_len, new_flow);
		fg_count(&fg_be_stats, FG_BACKEND_MAX, be_id, frame_len, new_flow);
		fg_snat_addr(pkt.family, t.saddr);
		__builtin_memcpy(t.daddr, be->addr, sizeof(t.daddr));
		t.sport = ct.nat_port;
		t.dport = be->port;
		if (fg_nat_rewrite(ctx, &pkt, &t))
			return XDP_DROP;
		return fg_fib_out(ctx, t.saddr, t.daddr,
				  FG_FIB_META(pkt.family, pkt.l3_len), &fw);
	}

	/* A new DSR flow is recorded already (fg_flow_backend). */
	fg_count(&fg_svc_stats, FG_SVC_MAX, svc->id, frame_len, new_flow);
	fg_count(&fg_be_stats, FG_BACKEND_MAX, be_id, frame_len, new_flow);
	if (svc->forward == FG_FWD_DSR_GUE)
		fw.gue_port = svc->gue_port ? svc->gue_port : fg_gue_port;
	return fg_encap(ctx, &pkt, be, &fw);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
