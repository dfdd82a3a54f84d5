/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * fg_tbucket.c - token-bucket profile setup (userspace only): the divisions
 * and range checks the fast path in fg_tbucket.h is spared.
 */
#include <errno.h>

#include "fg_tbucket.h"

#define FG_TB_NS_PER_S 1000000000ULL
/* The fast path computes cost * interval_fp in 64 bits and adds a
 * fraction of at most 32 bits: keeping the product below 2^63 leaves that
 * sum below 2^64. */
#define FG_TB_PRODUCT_LIMIT (1ULL << 63)
/* Window limit: now (< 2^63) + window must not wrap. */
#define FG_TB_WINDOW_MAX (1ULL << 62)
#define FG_TB_SHIFT_MAX 32U

/*
 * fg_tb_interval_fp - ceil(1e9 * 2^shift / rate): ns per unit in fixed
 * point, rounded up so the limiter errs towards admitting less, never more.
 * rate >= 1, shift <= 32: the result is below 2^62. Context: userspace.
 */
static unsigned __int128 fg_tb_interval_fp(__u64 rate, __u32 shift)
{
	unsigned __int128 num = (unsigned __int128)FG_TB_NS_PER_S << shift;

	return (num + rate - 1) / rate;
}

int fg_tb_profile_init(struct fg_tb_profile *prof, __u64 rate, __u64 burst)
{
	unsigned __int128 fp, window_fp;
	__u32 shift = FG_TB_SHIFT_MAX;

	if (!prof || rate < FG_TB_RATE_MIN || rate > FG_TB_RATE_MAX ||
	    burst == 0)
		return -EINVAL;

	/* The most fraction bits that fit: at most 33 tries, and shift 0
	 * always fits (1e9 * 2^20 < 2^63), so the loop ends on a fit. */
	fp = fg_tb_interval_fp(rate, shift);
	while (shift > 0 && fp * FG_TB_COST_MAX >= FG_TB_PRODUCT_LIMIT) {
		shift--;
		fp = fg_tb_interval_fp(rate, shift);
	}

	/* burst < 2^64 and fp < 2^43: the product fits 107 bits. The window
	 * is `burst` unit charges exactly as the fast path adds them up, so
	 * a full bucket admits exactly `burst` units. */
	window_fp = (unsigned __int128)burst * fp;
	if ((window_fp >> shift) > FG_TB_WINDOW_MAX)
		return -ERANGE;

	prof->interval_fp = (__u64)fp;
	prof->window_ns = (__u64)(window_fp >> shift);
	prof->shift = shift;
	prof->window_frac = (__u32)(window_fp & ((1ULL << shift) - 1));
	return 0;
}
