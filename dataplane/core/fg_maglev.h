/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * fg_maglev.h - Maglev consistent hashing (Eisenbud et al., NSDI 2016).
 *
 * The dataplane side is one multiply: a flow hash picks a slot of a ring
 * of prime size M, and the slot holds a backend index. Building the ring
 * (weights, permutations) is userspace-only: fg_maglev.c.
 */
#ifndef FG_MAGLEV_H
#define FG_MAGLEV_H

#include "fg_types.h"

/* Default ring size: prime, >= 100 x the backends of a typical service. */
#define FG_MAGLEV_M_DEFAULT 65537U
/* Largest ring fg_maglev_build() accepts (prime). */
#define FG_MAGLEV_M_MAX 1048573U
/* Largest number of backends per ring (API.md: 0..4096). */
#define FG_MAGLEV_BACKENDS_MAX 4096U
/* Slot value of a ring with no backend of non-zero weight. */
#define FG_MAGLEV_EMPTY 0xffffffffU

/*
 * fg_maglev_slot - the ring slot for a flow hash: the high 32 bits of the
 * hash scaled onto [0, m) by a multiply and a shift (Lemire's fast range
 * reduction), which a 64-bit division costs several times over. The low
 * bits stay free for connection-table buckets. m must be non-zero.
 * Returns a slot in [0, m). Context: any.
 */
FG_INLINE __u32 fg_maglev_slot(__u64 hash, __u32 m)
{
	return (__u32)(((hash >> 32) * (__u64)m) >> 32);
}

#ifndef __bpf__
/* ---------------------------------------------------------------------
 * Userspace only (fg_maglev.c).
 */

/* One backend as the ring builder sees it. */
struct fg_maglev_backend {
	__u64 id;     /* stable identity (e.g. a hash of addr:port); two
		       * rings built from the same ids agree slot for slot */
	__u32 weight; /* 0 = no slots (drain) */
};

/*
 * fg_maglev_build - fill ring[0..m) with indexes into backends[0..n).
 *
 * Each backend of non-zero weight gets a share of the m slots proportional
 * to its weight; permutations derive from the id only, so adding or
 * removing one backend moves few slots of the others. With every weight 0
 * (or n == 0) every slot is FG_MAGLEV_EMPTY.
 *
 * Fill (the paper's populate loop, weighted): in round r = 1, 2, ...
 * every backend gains `weight` credit and, while it holds max_weight
 * credit, takes the next free slot of its permutation and pays max_weight. A backend of the
 * largest weight takes one slot per round, one of weight w takes w/max per
 * round, so shares are proportional; with equal weights every backend
 * gets floor(m/n) or ceil(m/n) slots. Within one round backends take turns
 * in ascending id order, never array order: the ring depends only on the
 * set of (id, weight) pairs, and the same set in another array order gives
 * the same id in every slot (only the index stored for it differs).
 *
 * On -EINVAL and -ENOMEM the ring is left untouched. backends may be NULL
 * when n == 0.
 * Returns 0, -EINVAL (m not prime, m < n, m > FG_MAGLEV_M_MAX,
 * n > FG_MAGLEV_BACKENDS_MAX, NULL arguments, two backends with the same
 * id, weight 0 included), -ENOMEM, or -EFAULT if a permutation ran out
 * with slots still free (an internal invariant; never expected). Context:
 * userspace; allocates O(n) temporary memory; O(n log n + m log n) time
 * plus the permutation walks (expected O(m log m), the paper's bound).
 */
int fg_maglev_build(const struct fg_maglev_backend *backends, __u32 n,
		    __u32 *ring, __u32 m);

/* fg_maglev_is_prime - 1 when m is prime, else 0. */
int fg_maglev_is_prime(__u32 m);
#endif /* !__bpf__ */

#endif /* FG_MAGLEV_H */
