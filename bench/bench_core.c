/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * bench_core.c - single-threaded micro-benchmarks of dataplane/core:
 * parsing, the flow hash (NH + fmix64), Maglev ring building, token
 * buckets.
 *
 * Each row runs its loop for at least FG_BENCH_MIN_NS per repeat, takes
 * the median of FG_BENCH_REPEATS repeats, and times the same loop with an
 * empty body in the same run, interleaved with it (the floor), so noise on
 * a shared machine hits both alike (BENCH.md). Before timing, each row
 * checks that its path does what the row claims (the parse succeeds, every
 * call is admitted or refused, the ring is full); a failed check makes the
 * run exit 1.
 *
 * Output: one line per row,
 *   bench=core case=<case> value=<number> unit=<unit> floor=<number>
 * then a human table. value includes the loop overhead; floor is that
 * overhead alone (0 where it is not meaningful).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fg_flow.h"
#include "fg_maglev.h"
#include "fg_parse.h"
#include "fg_tbucket.h"

#define FG_BENCH_REPEATS 5
#define FG_BENCH_MIN_NS 200000000ULL /* 0.2 s per repeat */
/* Calibration doubles the iteration count at most this many times. */
#define FG_BENCH_CALIBRATE_MAX 40
#define FG_BENCH_ROWS_MAX 16

/* Make the compiler forget what it knows about x (so a loop-invariant
 * computation on it is redone every iteration), at no run-time cost. */
#define FG_BENCH_HIDE(x) __asm__ volatile("" : "+r"(x))

/* A loop of `iters` iterations over `ctx`; returns a value derived from
 * every iteration's result so that nothing is dead code. */
typedef __u64 (*fg_bench_loop_fn)(void *ctx, __u64 iters);

struct fg_bench_row {
	const char *name;
	const char *unit;
	double value;
	double floor;
};

static struct fg_bench_row fg_bench_rows[FG_BENCH_ROWS_MAX];
static unsigned int fg_bench_nrows;
/* Results land here, once per timed run. */
static volatile __u64 fg_bench_sink;

/* ---------------------------------------------------------------------
 * Timing
 */

static __u64 fg_bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec;
}

/* One timed run of fn: elapsed ns. */
static __u64 fg_bench_time(fg_bench_loop_fn fn, void *ctx, __u64 iters)
{
	__u64 t0 = fg_bench_now_ns();

	fg_bench_sink = fn(ctx, iters);
	return fg_bench_now_ns() - t0;
}

static int fg_bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double fg_bench_median(double *v, unsigned int n)
{
	qsort(v, n, sizeof(*v), fg_bench_cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/*
 * fg_bench_measure - ns per iteration of fn (median of the repeats), and
 * of floor_fn with the same iteration count in *floor_out (0 when
 * floor_fn is NULL). The count doubles until one run of fn takes
 * FG_BENCH_MIN_NS. Returns 0, or -ERANGE if it never does (a loop that
 * the compiler removed).
 */
static int fg_bench_measure(fg_bench_loop_fn fn, fg_bench_loop_fn floor_fn,
			    void *ctx, double *value_out, double *floor_out)
{
	double v[FG_BENCH_REPEATS], f[FG_BENCH_REPEATS];
	__u64 iters = 16;
	unsigned int i;

	for (i = 0; i < FG_BENCH_CALIBRATE_MAX; i++) {
		if (fg_bench_time(fn, ctx, iters) >= FG_BENCH_MIN_NS)
			break;
		iters *= 2;
	}
	if (i == FG_BENCH_CALIBRATE_MAX)
		return -ERANGE;
	for (i = 0; i < FG_BENCH_REPEATS; i++) {
		v[i] = (double)fg_bench_time(fn, ctx, iters) / (double)iters;
		f[i] = floor_fn ? (double)fg_bench_time(floor_fn, ctx, iters) /
				  (double)iters : 0;
	}
	*value_out = fg_bench_median(v, FG_BENCH_REPEATS);
	*floor_out = fg_bench_median(f, FG_BENCH_REPEATS);
	return 0;
}

/* Record and print one row; value and floor are per iteration in ns,
 * printed after dividing by `scale` (1e6 for ms). */
static int fg_bench_row(const char *name, const char *unit, double scale,
			fg_bench_loop_fn fn, fg_bench_loop_fn floor_fn,
			void *ctx)
{
	struct fg_bench_row *row;
	double value, floor_ns;

	if (fg_bench_nrows == FG_BENCH_ROWS_MAX ||
	    fg_bench_measure(fn, floor_fn, ctx, &value, &floor_ns)) {
		fprintf(stderr, "bench_core: %s: could not be timed\n", name);
		return -1;
	}
	row = &fg_bench_rows[fg_bench_nrows++];
	row->name = name;
	row->unit = unit;
	row->value = value / scale;
	row->floor = floor_ns / scale;
	printf("bench=core case=%s value=%.3f unit=%s floor=%.3f\n", name,
	       row->value, unit, row->floor);
	fflush(stdout);
	return 0;
}

/* ---------------------------------------------------------------------
 * Packets: a TCP ACK with a timestamp option (the common case of an
 * established flow), 198.18.0.1:40000 -> 198.18.0.10:80 and the same over
 * IPv6, 2001:db8::1 -> 2001:db8::a. Checksums are valid.
 */

static const __u8 fg_bench_tcp4[66] = {
	/* Ethernet: 02:..:02 <- 02:..:01, IPv4 */
	0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
	0x08, 0x00,
	/* IPv4: IHL 5, total 52, DF, TTL 64, TCP */
	0x45, 0x00, 0x00, 0x34, 0x1c, 0x46, 0x40, 0x00, 0x40, 0x06, 0x92, 0x4e,
	0xc6, 0x12, 0x00, 0x01, 0xc6, 0x12, 0x00, 0x0a,
	/* TCP: 40000 -> 80, doff 8, ACK, window 501 */
	0x9c, 0x40, 0x00, 0x50, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
	0x80, 0x10, 0x01, 0xf5, 0x2a, 0x9f, 0x00, 0x00,
	/* NOP, NOP, timestamps */
	0x01, 0x01, 0x08, 0x0a, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,
};

static const __u8 fg_bench_tcp6[86] = {
	/* Ethernet: IPv6 */
	0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
	0x86, 0xdd,
	/* IPv6: payload 32, next header TCP, hop limit 64 */
	0x60, 0x00, 0x00, 0x00, 0x00, 0x20, 0x06, 0x40,
	0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
	0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0a,
	/* TCP, as above */
	0x9c, 0x40, 0x00, 0x50, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
	0x80, 0x10, 0x01, 0xf5, 0x5b, 0x52, 0x00, 0x00,
	0x01, 0x01, 0x08, 0x0a, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,
};

struct fg_bench_pkt {
	const __u8 *data;
	__u32 len;
	__u8 family;
};

static __u64 fg_bench_parse_loop(void *ctx, __u64 iters)
{
	const struct fg_bench_pkt *b = ctx;
	struct fg_pkt pkt;
	__u64 i, acc = 0;

	for (i = 0; i < iters; i++) {
		const __u8 *p = b->data;

		FG_BENCH_HIDE(p);
		acc += (__u64)fg_parse(p, p + b->len, &pkt) + pkt.payload_off;
	}
	return acc;
}

static __u64 fg_bench_parse_floor(void *ctx, __u64 iters)
{
	const struct fg_bench_pkt *b = ctx;
	__u64 i, acc = 0;

	for (i = 0; i < iters; i++) {
		const __u8 *p = b->data;

		FG_BENCH_HIDE(p);
		acc += (__u64)(uintptr_t)p;
	}
	return acc;
}

/* The path check: the packet parses completely, as TCP 40000 -> 80. */
static int fg_bench_parse_check(const struct fg_bench_pkt *b)
{
	struct fg_pkt pkt;
	int rc = fg_parse(b->data, b->data + b->len, &pkt);

	if (rc != FG_PARSE_OK || pkt.family != b->family ||
	    pkt.l4_proto != 6 || !(pkt.flags & FG_PKT_F_L4) ||
	    pkt.sport != fg_htons(40000) || pkt.dport != fg_htons(80) ||
	    pkt.tcp_flags != FG_TCP_ACK || pkt.payload_off != b->len) {
		fprintf(stderr, "bench_core: parse check failed (rc %d, "
			"family %u, proto %u, payload_off %u)\n", rc,
			pkt.family, pkt.l4_proto, pkt.payload_off);
		return -1;
	}
	return 0;
}

/* ---------------------------------------------------------------------
 * Flow hash
 */

struct fg_bench_hash {
	struct fg_flow_key key;
	struct fg_hash_seed seed;
};

static __u64 fg_bench_hash_loop(void *ctx, __u64 iters)
{
	const struct fg_bench_hash *h = ctx;
	__u64 i, acc = 0;

	for (i = 0; i < iters; i++) {
		const struct fg_flow_key *k = &h->key;

		FG_BENCH_HIDE(k);
		acc ^= fg_flow_hash(k, &h->seed);
	}
	return acc;
}

static __u64 fg_bench_hash_floor(void *ctx, __u64 iters)
{
	const struct fg_bench_hash *h = ctx;
	__u64 i, acc = 0;

	for (i = 0; i < iters; i++) {
		const struct fg_flow_key *k = &h->key;

		FG_BENCH_HIDE(k);
		acc ^= (__u64)(uintptr_t)k;
	}
	return acc;
}

/* The path check: the hash is deterministic, keyed by every word of the
 * seed, and covers the ports. */
static int fg_bench_hash_check(struct fg_bench_hash *h)
{
	struct fg_flow_key k2 = h->key;
	__u64 a = fg_flow_hash(&h->key, &h->seed);
	unsigned int i;
	int bad = a != fg_flow_hash(&h->key, &h->seed);

	for (i = 0; i < 6; i++) {
		struct fg_hash_seed other = h->seed;
		__u64 *w = i == 0 ? &other.k0 : i == 1 ? &other.k1 :
			   &other.lane[i - 2];

		*w ^= 1ULL << (7 * i + 3);
		bad |= a == fg_flow_hash(&h->key, &other);
	}
	k2.sport = fg_htons(40001);
	bad |= a == fg_flow_hash(&k2, &h->seed);
	if (bad) {
		fprintf(stderr, "bench_core: flow hash check failed\n");
		return -1;
	}
	return 0;
}

/* ---------------------------------------------------------------------
 * Maglev ring building
 */

#define FG_BENCH_MAGLEV_N 1000U

struct fg_bench_maglev {
	struct fg_maglev_backend backends[FG_BENCH_MAGLEV_N];
	__u32 *ring;
	int rc; /* first failure of fg_maglev_build in the loop */
};

static __u64 fg_bench_maglev_loop(void *ctx, __u64 iters)
{
	struct fg_bench_maglev *b = ctx;
	__u64 i;

	for (i = 0; i < iters; i++) {
		int rc = fg_maglev_build(b->backends, FG_BENCH_MAGLEV_N,
					 b->ring, FG_MAGLEV_M_DEFAULT);

		if (rc && !b->rc)
			b->rc = rc;
	}
	return b->ring[0];
}

/* Every slot holds a backend, each within 2 slots (plus the weight
 * rounding) of its weighted share. */
static int fg_bench_maglev_check(struct fg_bench_maglev *b)
{
	static __u32 counts[FG_BENCH_MAGLEV_N];
	__u64 sum = 0;
	__u32 i;

	b->rc = fg_maglev_build(b->backends, FG_BENCH_MAGLEV_N, b->ring,
				FG_MAGLEV_M_DEFAULT);
	if (b->rc) {
		fprintf(stderr, "bench_core: fg_maglev_build: %d\n", b->rc);
		return -1;
	}
	memset(counts, 0, sizeof(counts));
	for (i = 0; i < FG_MAGLEV_M_DEFAULT; i++) {
		if (b->ring[i] >= FG_BENCH_MAGLEV_N) {
			fprintf(stderr, "bench_core: ring slot %u empty\n", i);
			return -1;
		}
		counts[b->ring[i]]++;
	}
	for (i = 0; i < FG_BENCH_MAGLEV_N; i++)
		sum += b->backends[i].weight;
	for (i = 0; i < FG_BENCH_MAGLEV_N; i++) {
		double w = b->backends[i].weight;
		double want = (double)FG_MAGLEV_M_DEFAULT * w / (double)sum;
		double tol = 2 + (double)FG_BENCH_MAGLEV_N * w / (double)sum;

		if (counts[i] < want - tol || counts[i] > want + tol) {
			fprintf(stderr, "bench_core: backend %u has %u slots, "
				"want %.1f\n", i, counts[i], want);
			return -1;
		}
	}
	return 0;
}

/* ---------------------------------------------------------------------
 * Token bucket
 */

struct fg_bench_tb {
	struct fg_tb_profile prof;
	struct fg_tb_state st;
	__u64 now;  /* start of the synthetic clock */
	__u64 step; /* clock advance per call */
};

/* Returns the number of admitted calls: the path check compares it with
 * iters (admitted row) or 0 (refused row). */
static __u64 fg_bench_tb_loop(void *ctx, __u64 iters)
{
	struct fg_bench_tb *b = ctx;
	__u64 i, now = b->now, admitted = 0;

	for (i = 0; i < iters; i++) {
		const struct fg_tb_profile *prof = &b->prof;
		struct fg_tb_state *st = &b->st;

		/* Hidden pointers: profile and state are loaded and stored
		 * every call, as from a map value, not kept in registers. */
		FG_BENCH_HIDE(prof);
		FG_BENCH_HIDE(st);
		now += b->step;
		FG_BENCH_HIDE(now);
		admitted += (__u64)fg_tb_consume(prof, st, now, 1);
	}
	b->now = now;
	return admitted;
}

static __u64 fg_bench_tb_floor(void *ctx, __u64 iters)
{
	struct fg_bench_tb *b = ctx;
	__u64 i, now = b->now, acc = 0;

	for (i = 0; i < iters; i++) {
		const struct fg_tb_profile *prof = &b->prof;
		struct fg_tb_state *st = &b->st;

		FG_BENCH_HIDE(prof);
		FG_BENCH_HIDE(st);
		now += b->step;
		FG_BENCH_HIDE(now);
		acc += (now & 1) + (__u64)(uintptr_t)prof + (__u64)(uintptr_t)st;
	}
	return acc;
}

/* Runs the loop once more after timing and checks its path. */
static int fg_bench_tb_check(struct fg_bench_tb *b, int want_admit)
{
	const __u64 n = 1000000;
	__u64 got = fg_bench_tb_loop(b, n);

	if (got != (want_admit ? n : 0)) {
		fprintf(stderr, "bench_core: tbucket %s path: %llu of %llu "
			"admitted\n", want_admit ? "admitted" : "refused",
			(unsigned long long)got, (unsigned long long)n);
		return -1;
	}
	return 0;
}

/* ---------------------------------------------------------------------
 * Rows
 */

static int fg_bench_parse_rows(void)
{
	struct fg_bench_pkt p4 = { fg_bench_tcp4, sizeof(fg_bench_tcp4),
				   FG_AF_INET };
	struct fg_bench_pkt p6 = { fg_bench_tcp6, sizeof(fg_bench_tcp6),
				   FG_AF_INET6 };

	if (fg_bench_parse_check(&p4) || fg_bench_parse_check(&p6))
		return -1;
	if (fg_bench_row("parse_tcp4", "ns/packet", 1, fg_bench_parse_loop,
			 fg_bench_parse_floor, &p4) ||
	    fg_bench_row("parse_tcp6", "ns/packet", 1, fg_bench_parse_loop,
			 fg_bench_parse_floor, &p6))
		return -1;
	return 0;
}

static int fg_bench_hash_rows(void)
{
	struct fg_bench_hash h;
	struct fg_pkt pkt;

	memset(&h, 0, sizeof(h));
	if (fg_parse(fg_bench_tcp6, fg_bench_tcp6 + sizeof(fg_bench_tcp6),
		     &pkt) != FG_PARSE_OK)
		return -1;
	fg_flow_key_from_pkt(&pkt, &h.key);
	/* Every seed word full width, as getrandom() gives them. */
	h.seed.k0 = 0x0706050403020100ULL;
	h.seed.k1 = 0x0f0e0d0c0b0a0908ULL;
	h.seed.lane[0] = 0x1716151413121110ULL;
	h.seed.lane[1] = 0x1f1e1d1c1b1a1918ULL;
	h.seed.lane[2] = 0x2726252423222120ULL;
	h.seed.lane[3] = 0x2f2e2d2c2b2a2928ULL;
	if (fg_bench_hash_check(&h))
		return -1;
	return fg_bench_row("hash_flow", "ns/hash", 1, fg_bench_hash_loop,
			    fg_bench_hash_floor, &h);
}

static int fg_bench_maglev_rows(void)
{
	struct fg_bench_maglev *b = calloc(1, sizeof(*b));
	int ret = -1;
	__u32 i;

	if (!b)
		return -1;
	b->ring = calloc(FG_MAGLEV_M_DEFAULT, sizeof(*b->ring));
	if (!b->ring)
		goto free_b;
	for (i = 0; i < FG_BENCH_MAGLEV_N; i++) {
		/* addr:port ids, as the control plane forms them */
		b->backends[i].id = ((__u64)(0xc6130000U + i) << 16) | 8080;
		b->backends[i].weight = 1;
	}
	if (fg_bench_maglev_check(b) ||
	    fg_bench_row("maglev_build_equal", "ms/build", 1e6,
			 fg_bench_maglev_loop, NULL, b) || b->rc)
		goto free_ring;
	/* Mixed: weights 1..100, as after a canary split or a slow start. */
	for (i = 0; i < FG_BENCH_MAGLEV_N; i++)
		b->backends[i].weight = 1 + (i * 37) % 100;
	if (fg_bench_maglev_check(b) ||
	    fg_bench_row("maglev_build_mixed", "ms/build", 1e6,
			 fg_bench_maglev_loop, NULL, b) || b->rc)
		goto free_ring;
	ret = 0;
free_ring:
	if (b->rc)
		fprintf(stderr, "bench_core: fg_maglev_build: %d\n", b->rc);
	free(b->ring);
free_b:
	free(b);
	return ret;
}

static int fg_bench_tb_rows(void)
{
	struct fg_bench_tb b;

	/* Admitted: 1 G units/s, one unit per call, the clock advancing 1 ns
	 * per call: each call finds exactly the unit it needs (the steady,
	 * non-idle path: no refill reset). */
	memset(&b, 0, sizeof(b));
	if (fg_tb_profile_init(&b.prof, 1000000000ULL, 1000))
		return -1;
	b.now = 1ULL << 40;
	b.step = 1;
	if (fg_bench_row("tbucket_consume_admit", "ns/call", 1,
			 fg_bench_tb_loop, fg_bench_tb_floor, &b) ||
	    fg_bench_tb_check(&b, 1))
		return -1;

	/* Refused: 1 unit/s, bucket emptied, the clock standing still. */
	memset(&b, 0, sizeof(b));
	if (fg_tb_profile_init(&b.prof, 1, 1))
		return -1;
	b.now = 1ULL << 40;
	b.step = 0;
	if (!fg_tb_consume(&b.prof, &b.st, b.now, 1))
		return -1;
	if (fg_bench_row("tbucket_consume_deny", "ns/call", 1,
			 fg_bench_tb_loop, fg_bench_tb_floor, &b) ||
	    fg_bench_tb_check(&b, 0))
		return -1;
	return 0;
}

static void fg_bench_table(void)
{
	unsigned int i;

	printf("\n%-24s %12s %12s %12s  %s\n", "case", "value", "floor",
	       "above floor", "unit");
	for (i = 0; i < fg_bench_nrows; i++) {
		const struct fg_bench_row *r = &fg_bench_rows[i];

		printf("%-24s %12.3f %12.3f %12.3f  %s\n", r->name, r->value,
		       r->floor, r->value - r->floor, r->unit);
	}
	printf("(median of %d repeats, >= %.1f s each; floor = same loop, "
	       "empty body, same run)\n", FG_BENCH_REPEATS,
	       FG_BENCH_MIN_NS / 1e9);
}

int main(void)
{
	int fail = 0;

	/* Every group runs even when an earlier one failed, so one broken
	 * module does not hide the others' figures; the exit status says. */
	if (fg_bench_parse_rows())
		fail = 1;
	if (fg_bench_hash_rows())
		fail = 1;
	if (fg_bench_maglev_rows())
		fail = 1;
	if (fg_bench_tb_rows())
		fail = 1;
	fg_bench_table();
	if (fail)
		fprintf(stderr, "bench_core: a path check failed\n");
	return fail;
}
