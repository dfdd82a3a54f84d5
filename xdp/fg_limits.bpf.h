/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * fg_limits.bpf.h - token-bucket limits over the set-associative
 * fg_buckets: the limit's entry, its bucket, its counters. Which limits a
 * packet meets, in which order, its bucket key and what a refusal does
 * are the core's (fg_verdict.h), shared with the DPDK worker.
 *
 * BPF only (*.bpf.h): a part of floodgate.bpf.c, included by it alone;
 * it includes what it uses.
 */
#ifndef FG_LIMITS_BPF_H
#define FG_LIMITS_BPF_H

#include "fg_verdict.h"

#include "fg_util.bpf.h"

/* ------------------------------------------------------------ limits */

/* Everything a limit looks at, by value: fg_limit_one is a global
 * function, verified once on its own rather than at each of its call
 * sites, and a global function may not follow pointers it is handed
 * inside a struct. */
struct fg_limit_ctx {
	struct fg_flow_key key;
	__u64 now;
	__u32 frame_len;
	__u32 svc_id;
	__u32 gen;
	__u8 is_syn;
	__u8 tcp_flags;
	__u16 pad;
};

/* ------------------------------------------ set-associative tables */

/*
 * fg_set_probe - one pass over the FG_CT_WAYS entries of fg_buckets from
 * the one `hash` names. Returns the entry holding key bk, or NULL with
 * *victim set to the entry a new key should take: a refilled one (tat <=
 * now holds nothing a fresh bucket would not) first, else the one
 * nearest to refilled.
 */
static __always_inline struct fg_bucket_entry *
fg_set_probe(__u64 hash, const struct fg_bucket_key *bk, __u64 now,
	     struct fg_bucket_entry **victim)
{
	__u32 set = fg_set_first(hash, fg_bucket_slots), i;
	struct fg_bucket_entry *v = NULL;
	__u64 lowest = ~0ULL;

	FG_UNROLL
	for (i = 0; i < FG_CT_WAYS; i++) {
		__u32 idx = (set + i) & (fg_bucket_slots - 1);
		struct fg_bucket_entry *e = bpf_map_lookup_elem(&fg_buckets,
								&idx);
		__u64 age;

		if (!e)
			continue;
		if (fg_bucket_key_eq(&e->key, bk))
			return e;
		age = e->st.tat <= now ? 0 : e->st.tat;
		if (age < lowest) {
			lowest = age;
			v = e;
		}
	}
	*victim = v;
	return NULL;
}

/* fg_bucket_probe - fg_set_probe over fg_buckets for bucket key bk. */
static __always_inline struct fg_bucket_entry *
fg_bucket_probe(const struct fg_bucket_key *bk, __u64 now,
		struct fg_bucket_entry **victim)
{
	struct fg_hash_seed seed;

	fg_seed_get(&seed);
	return fg_set_probe(fg_bucket_hash(bk, &seed), bk, now, victim);
}

/* fg_bucket_write - record bucket bk with state st in entry e. The race
 * is fg_limit_one's (below): a reader meeting the entry mid-write judges
 * one packet by the old or the new bucket. */
static __always_inline void fg_bucket_write(struct fg_bucket_entry *e,
					    const struct fg_bucket_key *bk,
					    const struct fg_tb_state *st)
{
	e->key = *bk;
	e->st = *st;
}

/*
 * fg_limit_one - judge the packet against limit `id` of generation gen.
 * Returns FG_LIMIT_PASS, or the action when the limit refuses it (dry-run
 * limits count and pass). A limit whose unit does not apply to the packet
 * (cps and a non-SYN) neither counts nor refuses.
 *
 * Deliberate race: buckets are shared between CPUs and updated without a
 * lock. Two CPUs charging one bucket at the same instant may both pass
 * where one should; the error is bounded by the number of CPUs per
 * instant and keeps the fast path lock-free.
 */
__noinline int fg_limit_one(struct fg_limit_ctx *lc, __u32 id)
{
	struct fg_bucket_entry *e, *victim = NULL;
	struct fg_bucket_key bk = {};
	struct fg_limit_counter *cnt;
	struct fg_tb_state fresh = {};
	struct fg_limit *lim;
	__u32 idx, cost, lid;
	int ok;

	/* A global function's pointer argument may be NULL as far as the
	 * verifier knows. */
	if (!lc || id >= FG_LIMIT_MAX)
		return FG_LIMIT_PASS;
	idx = lc->gen * FG_LIMIT_MAX + id;
	lim = bpf_map_lookup_elem(&fg_limits, &idx);
	if (!lim || !fg_limit_matches(lim, &lc->key))
		return FG_LIMIT_PASS;

	cost = fg_limit_cost(lim, lc->is_syn, lc->frame_len);
	if (!cost)
		return FG_LIMIT_PASS;

	fg_bucket_key_fill(&bk, lim, &lc->key, lc->svc_id);
	e = fg_bucket_probe(&bk, lc->now, &victim);
	if (e) {
		ok = fg_tb_consume(&lim->prof, &e->st, lc->now, cost);
	} else {
		ok = fg_tb_consume(&lim->prof, &fresh, lc->now, cost);
		if (victim)
			fg_bucket_write(victim, &bk, &fresh);
	}

	lid = fg_cpu_index(bpf_get_smp_processor_id(), FG_LIMIT_MAX, lim->id);
	cnt = bpf_map_lookup_elem(&fg_limit_stats, &lid);
	if (ok) {
		if (cnt)
			cnt->passed += 1;
		return FG_LIMIT_PASS;
	}
	if (cnt)
		cnt->limited += 1;
	return fg_limit_refusal(lim, lc->key.proto, lc->tcp_flags);
}

/* fg_limits_apply - the packet's limits in fg_limit_nth's order (every
 * global limit, then the service's own). Returns the first refusal's
 * action or FG_LIMIT_PASS. */
static __always_inline int fg_limits_apply(struct fg_limit_ctx *lc,
					   const struct fg_config *cfg,
					   const struct fg_svc *svc)
{
	__u32 i, id;
	int v;

	FG_UNROLL
	for (i = 0; i < FG_LIMITS_PER_PKT; i++) {
		id = fg_limit_nth(cfg, svc, i);
		if (id == FG_LIMIT_NONE)
			continue;
		v = fg_limit_one(lc, id);
		if (v != FG_LIMIT_PASS)
			return v;
	}
	return FG_LIMIT_PASS;
}

#endif /* FG_LIMITS_BPF_H */
