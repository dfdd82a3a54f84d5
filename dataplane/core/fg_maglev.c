/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * fg_maglev.c - Maglev ring building (userspace only).
 *
 * Eisenbud et al., "Maglev: A Fast and Reliable Software Network Load
 * Balancer", NSDI 2016, section 3.4, with weights as credit per round (see
 * fg_maglev_build() in fg_maglev.h). The dataplane only ever reads the
 * finished ring; the control plane builds a new one on the side and swaps
 * it in, so nothing here is on a packet path.
 */
#include <errno.h>
#include <stdlib.h>

#include "fg_flow.h"
#include "fg_maglev.h"

/* ---------------------------------------------------------------------
 * Permutations
 */

/*
 * Two unrelated 64-bit mixes of the backend id: offset and skip must not
 * be correlated, or backends whose offsets collide would also walk the
 * ring in step and fight for the same slots. h1 is splitmix64, h2 is the
 * MurmurHash3 finaliser on the id xor'ed with a different constant (the
 * finaliser maps 0 to 0, hence the xor).
 */
static __u64 fg_maglev_h1(__u64 id)
{
	__u64 z = id + 0x9e3779b97f4a7c15ULL;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static __u64 fg_maglev_h2(__u64 id)
{
	return fg_hash_fmix64(id ^ 0x6a09e667f3bcc909ULL);
}

/*
 * Build state of one backend of non-zero weight. The permutation is walked
 * incrementally: pos is permutation[next] = (offset + next * skip) % m,
 * and the following entry is pos + skip, minus m when it passes m. Both
 * are < m <= FG_MAGLEV_M_MAX < 2^21, so nothing overflows 32 bits and no
 * j * skip product is ever formed.
 */
struct fg_maglev_perm {
	__u64 id;
	__u64 next_round; /* round of this backend's next claim */
	__u32 index;      /* into the caller's backends[] */
	__u32 weight;
	__u32 skip;       /* 1..m-1: coprime with prime m, so the walk is a
			   * permutation of 0..m-1 */
	__u32 pos;        /* permutation[next] */
	__u32 next;       /* permutation entries consumed, <= m */
	__u32 claims;     /* slots taken so far */
};

/* ---------------------------------------------------------------------
 * Claim schedule
 *
 * The credit rule (each round credit += w; claim while credit >= max) gives
 * claims(r) = floor(r * w / max) after r rounds, and since w <= max a
 * backend claims at most once per round: its k-th claim falls in round
 * ceil(k * max / w). Rather than visit all n backends in each of up to m
 * rounds (n * m steps when one weight dwarfs the others), the builder pops
 * claims in (round, id) order from a binary min-heap: the same sequence of
 * claims in O(m log n).
 */

/* Round of the k-th claim (k >= 1): k <= m < 2^21 and max < 2^32, so the
 * product stays below 2^53. */
static __u64 fg_maglev_claim_round(__u32 k, __u32 weight, __u32 max_weight)
{
	return ((__u64)k * max_weight + weight - 1) / weight;
}

/* Heap order: earlier round first; within a round, smaller id first. Ids
 * are unique (checked), so this is a total order independent of the
 * array order of the backends. */
static int fg_maglev_before(const struct fg_maglev_perm *a,
			    const struct fg_maglev_perm *b)
{
	if (a->next_round != b->next_round)
		return a->next_round < b->next_round;
	return a->id < b->id;
}

/* Restore the heap property below slot i of heap[0..len). Bounded by the
 * heap height. */
static void fg_maglev_sift_down(struct fg_maglev_perm *heap, __u32 len,
				__u32 i)
{
	for (;;) {
		__u32 l = 2 * i + 1, r = l + 1, min = i;
		struct fg_maglev_perm tmp;

		if (l < len && fg_maglev_before(&heap[l], &heap[min]))
			min = l;
		if (r < len && fg_maglev_before(&heap[r], &heap[min]))
			min = r;
		if (min == i)
			return;
		tmp = heap[i];
		heap[i] = heap[min];
		heap[min] = tmp;
		i = min;
	}
}

/* ---------------------------------------------------------------------
 * Validation
 */

static int fg_maglev_cmp_u64(const void *a, const void *b)
{
	__u64 x = *(const __u64 *)a, y = *(const __u64 *)b;

	return (x > y) - (x < y);
}

/*
 * fg_maglev_ids_unique - 1 when backends[0..n) carry n distinct ids, 0 when
 * two share one, -ENOMEM. Sorts a copy: O(n log n).
 */
static int fg_maglev_ids_unique(const struct fg_maglev_backend *backends,
				__u32 n)
{
	__u64 *ids;
	__u32 i;
	int ret = 1;

	if (n < 2)
		return 1;
	ids = malloc((size_t)n * sizeof(*ids));
	if (!ids)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		ids[i] = backends[i].id;
	qsort(ids, n, sizeof(*ids), fg_maglev_cmp_u64);
	for (i = 1; i < n; i++) {
		if (ids[i] == ids[i - 1]) {
			ret = 0;
			break;
		}
	}
	free(ids);
	return ret;
}

/*
 * fg_maglev_is_prime - trial division by 2 and odd numbers up to sqrt(m):
 * at most 32768 steps for a 32-bit m, and the builder only calls it once.
 */
int fg_maglev_is_prime(__u32 m)
{
	__u32 d;

	if (m < 2)
		return 0;
	if (m % 2 == 0)
		return m == 2;
	/* d * d in 64 bits: d reaches 65537 for m near 2^32. */
	for (d = 3; (__u64)d * d <= m; d += 2) {
		if (m % d == 0)
			return 0;
	}
	return 1;
}

/* ---------------------------------------------------------------------
 * Build
 */

/*
 * fg_maglev_claim - give backend p the next free slot of its permutation.
 * Returns 0, or -EFAULT if the permutation is exhausted, which cannot
 * happen while a slot is free (the walk visits every slot once) and is
 * reported rather than looped on. Bounded: p->next only grows, up to m.
 */
static int fg_maglev_claim(struct fg_maglev_perm *p, __u32 *ring, __u32 m)
{
	while (p->next < m) {
		__u32 slot = p->pos;

		p->pos += p->skip;
		if (p->pos >= m)
			p->pos -= m;
		p->next++;
		if (ring[slot] == FG_MAGLEV_EMPTY) {
			ring[slot] = p->index;
			p->claims++;
			return 0;
		}
	}
	return -EFAULT;
}

int fg_maglev_build(const struct fg_maglev_backend *backends, __u32 n,
		    __u32 *ring, __u32 m)
{
	struct fg_maglev_perm *heap;
	__u32 i, live = 0, max_weight = 0, filled;
	int ret;

	if (!ring || (!backends && n > 0))
		return -EINVAL;
	if (m > FG_MAGLEV_M_MAX || !fg_maglev_is_prime(m) || m < n ||
	    n > FG_MAGLEV_BACKENDS_MAX)
		return -EINVAL;
	ret = fg_maglev_ids_unique(backends, n);
	if (ret <= 0)
		return ret < 0 ? ret : -EINVAL;

	for (i = 0; i < n; i++) {
		if (backends[i].weight == 0)
			continue;
		live++;
		if (backends[i].weight > max_weight)
			max_weight = backends[i].weight;
	}
	/* Allocate before touching the ring: on -ENOMEM it is unchanged. */
	heap = live ? calloc(live, sizeof(*heap)) : NULL;
	if (live && !heap)
		return -ENOMEM;

	for (i = 0; i < m; i++)
		ring[i] = FG_MAGLEV_EMPTY;
	if (!live)
		return 0;

	live = 0;
	for (i = 0; i < n; i++) {
		struct fg_maglev_perm *p = &heap[live];
		__u64 id = backends[i].id;

		if (backends[i].weight == 0)
			continue;
		p->id = id;
		p->index = i;
		p->weight = backends[i].weight;
		p->pos = (__u32)(fg_maglev_h1(id) % m);
		/* m == 2 gives skip 1: still a permutation of {0, 1}. */
		p->skip = (__u32)(fg_maglev_h2(id) % (m - 1)) + 1;
		p->next_round = fg_maglev_claim_round(1, p->weight, max_weight);
		live++;
	}
	for (i = live / 2; i-- > 0;)
		fg_maglev_sift_down(heap, live, i);

	/* One claim per iteration: exactly m iterations fill the ring. */
	ret = 0;
	for (filled = 0; filled < m; filled++) {
		struct fg_maglev_perm *p = &heap[0];

		ret = fg_maglev_claim(p, ring, m);
		if (ret)
			break;
		p->next_round = fg_maglev_claim_round(p->claims + 1, p->weight,
						      max_weight);
		fg_maglev_sift_down(heap, live, 0);
	}
	free(heap);
	return ret;
}
