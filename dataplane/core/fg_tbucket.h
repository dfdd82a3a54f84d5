/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * fg_tbucket.h - integer-only rate limiting (GCRA, the virtual-scheduling
 * form of a token bucket) with nanosecond clocks.
 *
 * The fast path (fg_tb_consume) is integer math on a precomputed profile
 * and the caller's clock, as DPDK's rte_meter does; the slow path that
 * divides and validates (fg_tb_profile_init) is userspace-only in
 * fg_tbucket.c. Config (profile) and run-time state are separate structs so
 * one profile serves every bucket of a limit.
 */
#ifndef FG_TBUCKET_H
#define FG_TBUCKET_H

#include "fg_types.h"

/* Largest cost one call may charge (bits of a 64 KiB packet, rounded up). */
#define FG_TB_COST_MAX (1U << 20)
/* Supported rates, in units per second. */
#define FG_TB_RATE_MIN 1ULL
#define FG_TB_RATE_MAX 100000000000ULL /* 100 G/s */

/*
 * Precomputed by fg_tb_profile_init(), read-only in the fast path. A
 * zeroed profile admits everything: only use initialised ones.
 *
 * Times ahead of `now` are held as (ns, fraction) pairs with `shift`
 * fraction bits, so that rates above 1 G/s (interval below 1 ns) stay
 * exact to 2^-shift ns per unit instead of rounding to whole ns.
 */
struct fg_tb_profile {
	__u64 interval_fp; /* ns per unit, fixed point with `shift` bits,
			    * rounded up (never admits above the rate);
			    * interval_fp * FG_TB_COST_MAX < 2^63 */
	__u64 window_ns;   /* whole ns of burst x interval_fp: how far ahead
			    * of now the theoretical arrival time may run;
			    * <= 2^62 */
	__u32 shift;       /* fraction bits of interval_fp (0..32) */
	__u32 window_frac; /* fraction bits of burst x interval_fp: with it
			    * the window is exactly `burst` unit costs, so a
			    * full bucket admits exactly `burst` units even
			    * when one unit is worth less than 1 ns */
};
FG_ASSERT_SIZE(struct fg_tb_profile, 24);

/*
 * Per bucket. Zero-initialised state is a full bucket. Not atomic: one
 * writer per state (per-CPU or per-lcore buckets, as the dataplanes keep
 * them); two CPUs racing on one state can each admit on the same credit.
 */
struct fg_tb_state {
	__u64 tat;  /* theoretical arrival time, ns on the caller's clock:
		     * the bucket is full when tat <= now and empty when
		     * tat == now + window */
	__u32 frac; /* sub-ns remainder of tat, `shift` fraction bits */
	__u32 pad;
};
FG_ASSERT_SIZE(struct fg_tb_state, 16);

/*
 * fg_tb_ahead - 1 when the point (ns, frac) lies beyond (lim_ns, lim_frac),
 * comparing the whole ns first. Context: any.
 */
FG_INLINE int fg_tb_ahead(__u64 ns, __u32 frac, __u64 lim_ns, __u32 lim_frac)
{
	return ns > lim_ns || (ns == lim_ns && frac > lim_frac);
}

/*
 * fg_tb_consume - charge `cost` units at time `now` (ns).
 *
 * Returns 1 and advances *st when the bucket holds `cost` units; returns 0
 * and leaves *st alone when it does not (a cost above the burst is never
 * admitted). A clock that stepped backwards never admits extra and never
 * locks the bucket out for longer than one burst window: the one write
 * on refusal is that a tat beyond now + window is pulled back to exactly
 * that (an empty bucket). cost must be 1..FG_TB_COST_MAX (0 or a larger
 * cost is refused: returns 0, *st untouched).
 *
 * No overflow for now < 2^63 (292 years of ns): the limit now + window_ns
 * stays below 2^63 + 2^62, cost * interval_fp + frac below 2^63 + 2^32,
 * a charge is at most FG_TB_COST_MAX x 1 s < 2^50 ns, and a stored tat
 * never runs past the limit it was checked against.
 *
 * Context: any (XDP, DPDK worker, userspace); pure; no division; the
 * caller serialises access to *st.
 */
FG_INLINE int fg_tb_consume(const struct fg_tb_profile *prof,
			    struct fg_tb_state *st, __u64 now, __u32 cost)
{
	__u64 limit = now + prof->window_ns;
	__u64 tat = st->tat, add, new_tat;
	__u32 frac = st->frac, new_frac;

	if (cost == 0 || cost > FG_TB_COST_MAX)
		return 0;
	if (tat < now) {
		/* Idle: the bucket filled up, and it holds no more than
		 * `burst` however long the idle was. */
		tat = now;
		frac = 0;
	} else if (FG_UNLIKELY(fg_tb_ahead(tat, frac, limit,
					    prof->window_frac))) {
		/* The clock stepped backwards past the window: the bucket
		 * becomes exactly empty on the new clock, so nothing extra
		 * is admitted and it is full again one window later. Stored
		 * even though this call is refused (an empty bucket fits no
		 * cost >= 1), or the old tat would lock the bucket out until
		 * the clock caught up with it. */
		st->tat = limit;
		st->frac = prof->window_frac;
		return 0;
	}
	/* < 2^63 + 2^32 by the profile's choice of shift. */
	add = (__u64)cost * prof->interval_fp + frac;
	new_tat = tat + (add >> prof->shift);
	new_frac = (__u32)(add & ((1ULL << prof->shift) - 1));
	if (fg_tb_ahead(new_tat, new_frac, limit, prof->window_frac))
		return 0;
	st->tat = new_tat;
	st->frac = new_frac;
	return 1;
}

#ifndef __bpf__
/*
 * fg_tb_profile_init - precompute a profile for `rate` units/s with a
 * bucket of `burst` units.
 *
 * shift is the largest of 0..32 that keeps interval_fp * FG_TB_COST_MAX
 * below 2^63 (32 from 488282 units/s up; 13 at 1 unit/s), and
 * interval_fp = ceil(1e9 * 2^shift / rate): the relative error is below
 * 2^-25 and only ever in the limit's favour.
 *
 * Returns 0, or -EINVAL for a NULL prof, rate outside
 * FG_TB_RATE_MIN..FG_TB_RATE_MAX or burst == 0, -ERANGE when burst / rate
 * does not fit the clock (window longer than 2^62 ns). *prof is written
 * only on success. Context: userspace.
 */
int fg_tb_profile_init(struct fg_tb_profile *prof, __u64 rate, __u64 burst);
#endif

#endif /* FG_TBUCKET_H */
