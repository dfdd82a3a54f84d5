/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * fg_util.bpf.h - the clock, the counters and what the forwarding path
 * carries (struct fg_fwd): the pieces every other part of the program
 * uses.
 *
 * BPF only (*.bpf.h): a part of floodgate.bpf.c, included by it alone;
 * it includes what it uses.
 */
#ifndef FG_UTIL_BPF_H
#define FG_UTIL_BPF_H

#include "fg_maps.bpf.h"

/* ------------------------------------------------------------- clock */

static int fg_clock_tick(void *map, __u32 *key, struct fg_clock *c)
{
	c->now = bpf_ktime_get_coarse_ns();
	bpf_timer_start(&c->timer, FG_CLOCK_PERIOD_NS, 0);
	return 0;
}

/* fg_now - the coarse monotonic time in ns, at most FG_CLOCK_PERIOD_NS
 * behind (fg_clock). */
static __always_inline __u64 fg_now(void)
{
	__u32 zero = 0;
	struct fg_clock *c = bpf_map_lookup_elem(&fg_clock, &zero);

	if (c && c->now)
		return c->now;
	/* Stopped: start it. Of CPUs racing here one initialises the timer,
	 * the others get -EBUSY; a timer that cannot start (the map has no
	 * holder in user space) leaves every packet on the kernel clock. */
	if (c && !bpf_timer_init(&c->timer, &fg_clock, FG_CLOCK_MONOTONIC) &&
	    !bpf_timer_set_callback(&c->timer, fg_clock_tick))
		bpf_timer_start(&c->timer, FG_CLOCK_PERIOD_NS, 0);
	return bpf_ktime_get_coarse_ns();
}

/* ---------------------------------------------------------- counters */

/* Counters are per CPU by layout (fg_tables.h): bpf_get_smp_processor_id()
 * is inlined by the verifier, and a plain array line costs a fraction of
 * a per-CPU map's first access. The drop counters sit in the config's
 * map, whose page every packet has reached already (for the CPUs whose
 * entry shares it: fg_tables.h). */
static __always_inline void fg_count_drop(__u32 reason)
{
	__u32 idx = fg_config_drops_index(bpf_get_smp_processor_id());
	union fg_config_entry *e = bpf_map_lookup_elem(&fg_config, &idx);

	if (e && reason < FG_DROPS_STRIDE)
		e->drops.n[reason] += 1;
}

static __always_inline void fg_count(void *map, __u32 stride, __u32 id,
				     __u64 bytes, int new_flow)
{
	__u32 idx = fg_cpu_index(bpf_get_smp_processor_id(), stride, id);
	struct fg_counter *c = bpf_map_lookup_elem(map, &idx);

	if (!c)
		return;
	c->packets += 1;
	c->bytes += bytes;
	c->new_flows += new_flow;
}

static __always_inline int fg_addr_eq(const __be32 *a, const volatile __be32 *b,
				      int family)
{
	if (family == FG_AF_INET)
		return a[0] == b[0];
	return a[0] == b[0] && a[1] == b[1] && a[2] == b[2] && a[3] == b[3];
}

/* Two 16-byte addresses (IPv4 in word 0) are equal. */
static __always_inline int fg_addr16_eq(const __be32 *a, const __be32 *b)
{
	return a[0] == b[0] && a[1] == b[1] && a[2] == b[2] && a[3] == b[3];
}

/*
 * What the forwarding path learns about a packet once and hands down
 * (BPF functions take five arguments at most):
 *  - now: the coarse clock, read once per packet; the connection tables
 *    and the next-hop cache both compare against it;
 *  - hash: the 5-tuple's flow hash: the connection-table set, and the
 *    outer header's entropy (IPv6 flow label, GUE source port);
 *  - nh_slot: where the next hop is cached: the backend id in
 *    fg_nh_cache, or FG_NH_CLIENT | slot in fg_nh_client;
 *  - gue_port: the GUE destination port (network order), 0 for IPIP.
 */
struct fg_fwd {
	__u64 now;
	__u64 hash;
	__u32 nh_slot;
	__be16 gue_port;
	__u16 pad;
};

/* The load-time hash key, read from rodata (volatile: its value is only
 * known once the loader has set it). */
static __always_inline void fg_seed_get(struct fg_hash_seed *seed)
{
	seed->k0 = fg_seed.k0;
	seed->k1 = fg_seed.k1;
	seed->lane[0] = fg_seed.lane[0];
	seed->lane[1] = fg_seed.lane[1];
	seed->lane[2] = fg_seed.lane[2];
	seed->lane[3] = fg_seed.lane[3];
}

/*
 * fg_touch - load the word at p and leave it: the line is then on its
 * way while the program goes on, instead of when its reader gets there.
 * Out-of-order execution overlaps the two: measured here, the next hop's
 * line touched as soon as the backend is known takes ~10 ns off an
 * established flow, which otherwise waits for it after encapsulating.
 */
static __always_inline void fg_touch(const void *p)
{
	asm volatile("" :: "r"(*(const volatile __u32 *)p));
}

#endif /* FG_UTIL_BPF_H */
