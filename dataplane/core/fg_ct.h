/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * fg_ct.h - one line of the set-associative connection tables
 * (fg_tables.h: struct fg_ct_line): find a flow's way or the way a new
 * flow takes, write a way, free it. The caller finds the line (a BPF
 * array lookup, a DPDK per-lcore array) and owns the clock; what a way
 * means and how a victim is chosen is here, once, for both dataplanes.
 *
 * Context: any (BPF program, DPDK worker, tests).
 */
#ifndef FG_CT_H
#define FG_CT_H

#include "fg_types.h"
#include "fg_tables.h"

/* A conntrack way's seen tick is refreshed at most this often (~1 s): a
 * write per packet would bounce the line between CPUs. */
#define FG_CT_REFRESH_TICKS ((__u32)(1000000000ULL >> FG_CT_TICK_SHIFT))

/* A way's first word, tag and backend, read at once (fg_ct_way_write). */
union fg_ct_w0 {
	__u64 w;
	struct {
		__u32 tag;
		__u16 tag_lo;
		__u16 backend_id;
	};
};

/*
 * fg_ct_line_probe - the way of line l holding the flow of hash, its state
 * unpacked into *ct; returns its index, or -1 with *victim set to the way
 * a new flow should take: a free or expired one first (tcp_to / udp_to:
 * idle ticks after which a way of that kind is gone), else the one idle
 * longest, ties to the earlier way. One cache line either way.
 * Context: any.
 */
FG_INLINE int fg_ct_line_probe(const struct fg_ct_line *l, __u64 hash,
			       __u32 now, __u32 tcp_to, __u32 udp_to,
			       struct fg_ct *ct, __u32 *victim)
{
	__u32 tag = fg_ct_tag(hash), oldest = 0, vi = 0, i;
	__u16 tag_lo = fg_ct_tag_lo(hash);

	FG_UNROLL
	for (i = 0; i < FG_CT_WAYS; i++) {
		const struct fg_ct_way *w = &l->way[i];
		union fg_ct_w0 w0 = { .w = *(const volatile __u64 *)w };
		__u32 idle;

		if (w0.tag == tag && w0.tag_lo == tag_lo) {
			fg_ct_unpack(w, ct);
			ct->backend_id = w0.backend_id;
			return (int)i;
		}
		idle = fg_ct_idle(now, w->seen);
		if (!w0.tag || idle > (w->svc & FG_CT_W_UDP ? udp_to : tcp_to))
			idle = ~0U;
		if (!i || idle > oldest) {
			oldest = idle;
			vi = i;
		}
	}
	*victim = vi & (FG_CT_WAYS - 1);
	return -1;
}

/*
 * fg_ct_way_write - record the flow of hash with state ct in way w. The
 * first word (tag, backend) is cleared first and written last, so a
 * reader on another CPU meeting the way mid-write sees no match, and a
 * match always pairs a tag with its own backend (the XDP tables are
 * shared between CPUs; a DPDK lcore's are its own, where the order costs
 * nothing). The barriers order the compiler only. Context: any.
 */
FG_INLINE void fg_ct_way_write(struct fg_ct_way *w, __u64 hash,
			       const struct fg_ct *ct)
{
	struct fg_ct_way n;
	__u64 w0;

	fg_ct_pack(&n, hash, ct);
	*(volatile __u64 *)w = 0;
	asm volatile("" ::: "memory");
	w->svc = n.svc;
	w->nat_port = n.nat_port;
	w->seen = n.seen;
	asm volatile("" ::: "memory");
	__builtin_memcpy(&w0, &n, sizeof(w0));
	*(volatile __u64 *)w = w0;
}

/* fg_ct_way_free - give way w back (its flow moved on). Context: any. */
FG_INLINE void fg_ct_way_free(struct fg_ct_way *w)
{
	*(volatile __u64 *)w = 0;
}

/* fg_ct_timeout_ticks - idle ticks after which a flow is gone, from a
 * timeout in ns. Context: any. */
FG_INLINE __u32 fg_ct_timeout_ticks(__u64 ns)
{
	return fg_ct_tick(ns);
}

/* fg_ct_refresh_due - an established way last seen at `seen` is to be
 * stamped again at now: past half the timeout (a short UDP timeout must
 * see its flows refreshed before it ends) or FG_CT_REFRESH_TICKS,
 * whichever is shorter. Context: any. */
FG_INLINE int fg_ct_refresh_due(__u32 now, __u32 seen, __u32 timeout)
{
	return fg_ct_idle(now, seen) >
	       (timeout / 2 < FG_CT_REFRESH_TICKS ? timeout / 2 :
						    FG_CT_REFRESH_TICKS);
}

#endif /* FG_CT_H */
