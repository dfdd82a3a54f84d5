/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * test_tbucket.c - GCRA token buckets on synthetic clocks: exact admitted
 * counts, idle, clock steps, large costs, extreme rates and clocks, and the
 * profile's fixed-point choices.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "fg_tbucket.h"

#define NS_PER_S 1000000000ULL
#define NS_PER_MS 1000000ULL
#define NS_PER_US 1000ULL

typedef unsigned __int128 u128;

static struct fg_tb_profile prof_of(__u64 rate, __u64 burst)
{
	struct fg_tb_profile p;

	assert_int_equal(fg_tb_profile_init(&p, rate, burst), 0);
	return p;
}

/* Charge `cost` at `now` until refused (at most `max` times); returns the
 * number of admissions. */
static __u64 drain(const struct fg_tb_profile *p, struct fg_tb_state *st,
		   __u64 now, __u32 cost, __u64 max)
{
	__u64 n = 0;

	while (n < max && fg_tb_consume(p, st, now, cost))
		n++;
	return n;
}

/* ------------------------------------------------------------------ */

static void test_profile_errors(void **state)
{
	struct fg_tb_profile p, sentinel;

	(void)state;
	memset(&sentinel, 0xa5, sizeof(sentinel));
	p = sentinel;
	assert_int_equal(fg_tb_profile_init(NULL, 1000, 10), -EINVAL);
	assert_int_equal(fg_tb_profile_init(&p, 0, 10), -EINVAL);
	assert_int_equal(fg_tb_profile_init(&p, FG_TB_RATE_MAX + 1, 10),
			 -EINVAL);
	assert_int_equal(fg_tb_profile_init(&p, 1000, 0), -EINVAL);
	/* At 1 unit/s a unit is exactly 1e9 ns: 2^62 ns is 4611686018.43
	 * units, so 4611686019 is one too many. */
	assert_int_equal(fg_tb_profile_init(&p, 1, 4611686019ULL), -ERANGE);
	assert_int_equal(fg_tb_profile_init(&p, 1, ~0ULL), -ERANGE);
	assert_int_equal(fg_tb_profile_init(&p, 1000, ~0ULL), -ERANGE);
	/* Nothing written on error. */
	assert_memory_equal(&p, &sentinel, sizeof(p));

	/* The edges themselves are accepted. */
	assert_int_equal(fg_tb_profile_init(&p, 1, 4611686018ULL), 0);
	assert_true(p.window_ns == 4611686018ULL * NS_PER_S);
	assert_true(p.window_ns <= 1ULL << 62);
	assert_int_equal(fg_tb_profile_init(&p, FG_TB_RATE_MIN, 1), 0);
	assert_int_equal(fg_tb_profile_init(&p, FG_TB_RATE_MAX, 1), 0);
	/* 2^64 - 1 units at 100 G/s is 2^64 / 1e11 s: fits. */
	assert_int_equal(fg_tb_profile_init(&p, FG_TB_RATE_MAX, ~0ULL), 0);
}

/*
 * The fixed point: shift is the largest of 0..32 with
 * interval_fp * COST_MAX < 2^63, interval_fp = ceil(1e9 2^shift / rate),
 * and the window is exactly burst x interval_fp.
 */
static void check_profile(__u64 rate, __u64 burst)
{
	struct fg_tb_profile p = prof_of(rate, burst);
	u128 lim = (u128)1 << 63, num, fp, wfp;

	num = (u128)NS_PER_S << p.shift;
	fp = (num + rate - 1) / rate;
	assert_true(p.shift <= 32);
	assert_true(p.interval_fp == (__u64)fp);
	assert_true((u128)p.interval_fp * FG_TB_COST_MAX < lim);
	if (p.shift < 32) {
		num = (u128)NS_PER_S << (p.shift + 1);
		assert_true((num + rate - 1) / rate * FG_TB_COST_MAX >= lim);
	}
	/* Rounded up, and by less than 2^-25 of itself. */
	assert_true((u128)p.interval_fp * rate >= (u128)NS_PER_S << p.shift);
	assert_true(p.interval_fp >= 1ULL << 25);
	wfp = (u128)burst * p.interval_fp;
	assert_true(p.window_ns == (__u64)(wfp >> p.shift));
	assert_true(p.window_frac == (__u32)(wfp & ((1ULL << p.shift) - 1)));
}

static void test_profile_fixed_point(void **state)
{
	static const __u64 rates[] = { 1, 2, 3, 7, 117, 1000, 488281, 488282,
				       999983, NS_PER_S, 3 * NS_PER_S + 7,
				       FG_TB_RATE_MAX - 1, FG_TB_RATE_MAX };
	struct fg_tb_profile p;
	__u32 i;

	(void)state;
	for (i = 0; i < FG_ARRAY_SIZE(rates); i++) {
		check_profile(rates[i], 1);
		check_profile(rates[i], 12345);
	}
	/* The figures quoted in the header. */
	p = prof_of(1, 1);
	assert_int_equal(p.shift, 13);
	assert_true(p.interval_fp == NS_PER_S << 13);
	assert_int_equal(prof_of(488281, 1).shift, 31);
	assert_int_equal(prof_of(488282, 1).shift, 32);
	p = prof_of(NS_PER_S, 1);
	assert_true(p.interval_fp == 1ULL << 32 && p.shift == 32);
}

/* A fresh bucket admits exactly `burst` unit charges at one instant, for
 * rates whose unit is many seconds, whole ns, and a hundredth of a ns. */
static void test_fresh_burst(void **state)
{
	static const __u64 rates[] = { 1, 3, 1000, 999983, NS_PER_S,
				       3 * NS_PER_S + 7, FG_TB_RATE_MAX };
	static const __u64 bursts[] = { 1, 2, 10, 1000, 99991 };
	static const __u64 starts[] = { 0, 123456789, 1ULL << 62 };
	__u32 r, b, s;

	(void)state;
	for (r = 0; r < FG_ARRAY_SIZE(rates); r++) {
		for (b = 0; b < FG_ARRAY_SIZE(bursts); b++) {
			struct fg_tb_profile p = prof_of(rates[r], bursts[b]);

			for (s = 0; s < FG_ARRAY_SIZE(starts); s++) {
				struct fg_tb_state st = { 0 }, before;

				assert_true(drain(&p, &st, starts[s], 1,
						  bursts[b] + 10) == bursts[b]);
				/* Denial leaves the state alone. */
				before = st;
				assert_int_equal(fg_tb_consume(&p, &st,
							       starts[s], 1), 0);
				assert_memory_equal(&st, &before, sizeof(st));
			}
		}
	}
}

/*
 * Steady offered load of 10 x the rate for 10 s, sampled at every
 * request. Admitted so far never exceeds burst + t x rate (the limit is
 * never above its rate: interval_fp is rounded up); at 10 s the total is
 * exactly burst + 10 x rate when a unit is a whole number of ns x 2^-shift
 * (1000/s: 1 ms), and at most one short of it otherwise (3/s: the unit is
 * rounded up by 2^-14 ns x 2/3, so the 30th unit after the burst is due
 * 0.0012 ns after t = 10 s and is admitted at the next request).
 */
static void steady(__u64 rate, __u64 burst, __u64 step_ns, __u64 *admitted)
{
	struct fg_tb_profile p = prof_of(rate, burst);
	struct fg_tb_state st = { 0 };
	__u64 t, n = 0;

	for (t = 0; t <= 10 * NS_PER_S; t += step_ns) {
		n += (__u64)fg_tb_consume(&p, &st, t, 1);
		/* Integer form of n <= burst + t rate / 1e9. */
		assert_true((u128)n * NS_PER_S <=
			    (u128)burst * NS_PER_S + (u128)t * rate);
	}
	*admitted = n;
}

static void test_steady_rate(void **state)
{
	__u64 n;

	(void)state;
	steady(1000, 10, 100 * NS_PER_US, &n);
	assert_true(n == 10 + 10 * 1000);
	steady(1000000, 64, 500, &n); /* unit 1 us, exact */
	assert_true(n == 64 + 10 * 1000000);
	steady(3, 2, NS_PER_MS, &n);
	assert_true(n == 2 + 30 - 1);
	steady(999983, 100, 250, &n);
	assert_true(n >= 100 + 9999830 - 1 && n <= 100 + 9999830);
}

/* An hour of idle banks no more than the burst. */
static void test_long_idle(void **state)
{
	struct fg_tb_profile p = prof_of(1000, 10);
	struct fg_tb_state st = { 0 };
	__u64 t = 3600 * NS_PER_S;

	(void)state;
	assert_true(drain(&p, &st, 0, 1, 100) == 10);
	assert_true(drain(&p, &st, t, 1, 100000) == 10);
	/* Half-drained, then idle: full again, and only full. */
	assert_true(drain(&p, &st, 2 * t, 1, 5) == 5);
	assert_true(drain(&p, &st, 3 * t, 1, 100000) == 10);
	/* And the rate resumes at once: one unit per ms after the burst. */
	assert_int_equal(fg_tb_consume(&p, &st, 3 * t + NS_PER_MS - 1, 1), 0);
	assert_int_equal(fg_tb_consume(&p, &st, 3 * t + NS_PER_MS, 1), 1);
	assert_int_equal(fg_tb_consume(&p, &st, 3 * t + NS_PER_MS, 1), 0);

	/* Just past full counts as full, not as 1 ns of extra credit: at
	 * 100 G/s that ns would be 100 units. */
	p = prof_of(FG_TB_RATE_MAX, 1000);
	memset(&st, 0, sizeof(st));
	assert_true(drain(&p, &st, t, 1, 5000) == 1000);
	assert_true(drain(&p, &st, st.tat + 1, 1, 5000) == 1000);
	assert_true(drain(&p, &st, st.tat + 2, 1, 5000) == 1000);
}

/*
 * The clock steps backwards. Within the window the bucket just looks
 * emptier (tat - now grew): fewer admissions, never more. Past the window
 * it is clamped to exactly empty and is full again one window later.
 */
static void test_clock_backwards(void **state)
{
	struct fg_tb_profile p = prof_of(1000, 10); /* window 10 ms */
	struct fg_tb_state st = { 0 };
	__u64 t0 = 10 * NS_PER_S, back;

	(void)state;
	/* Small step: 5 units used at t0, clock goes back 2 ms: 3 left,
	 * not 5 (and not the 7 a refill would give). */
	assert_true(drain(&p, &st, t0, 1, 5) == 5);
	back = t0 - 2 * NS_PER_MS;
	assert_true(drain(&p, &st, back, 1, 100) == 3);
	/* The bucket refills at the rate from the new clock. */
	assert_true(drain(&p, &st, back + 10 * NS_PER_MS, 1, 100) == 10);

	/* Step larger than the window: clamped to empty, nothing admitted
	 * at the new time, nothing until a unit has accrued, exactly a burst
	 * one window later. */
	memset(&st, 0, sizeof(st));
	assert_true(drain(&p, &st, t0, 1, 100) == 10);
	back = t0 - 5 * NS_PER_S;
	assert_true(drain(&p, &st, back, 1, 100) == 0);
	assert_true(drain(&p, &st, back + NS_PER_MS - 1, 1, 100) == 0);
	assert_true(drain(&p, &st, back + NS_PER_MS, 1, 100) == 1);
	assert_true(drain(&p, &st, back + 10 * NS_PER_MS, 1, 100) == 9);
	assert_true(drain(&p, &st, back + 30 * NS_PER_MS, 1, 100) == 10);

	/* Huge step, from an uptime of 10^15 ns back to 0, with a bucket that
	 * was full (tat in the past): still nothing extra. A full bucket is
	 * only ever full. */
	memset(&st, 0, sizeof(st));
	assert_int_equal(fg_tb_consume(&p, &st, 1000000000000000ULL, 1), 1);
	assert_true(drain(&p, &st, 0, 1, 100) == 0);
	assert_true(drain(&p, &st, 10 * NS_PER_MS, 1, 100) == 10);

	/* Sub-ns units (100 G/s, 0.01 ns each): the clamp keeps the
	 * window's fraction too, so the bucket is exactly empty, not up to
	 * 1 ns (99 units) short of it. 1 ns then buys 99 units, not 100
	 * (the unit is rounded up to 42949673 / 2^32 ns), and one window
	 * 999 of the burst of 1000: never more than the rate. */
	p = prof_of(FG_TB_RATE_MAX, 1000);
	memset(&st, 0, sizeof(st));
	assert_true(drain(&p, &st, t0, 1, 2000) == 1000);
	assert_true(drain(&p, &st, t0 - NS_PER_S, 1, 2000) == 0);
	assert_true(drain(&p, &st, t0 - NS_PER_S + 1, 1, 2000) == 99);
	assert_true(drain(&p, &st, t0 - NS_PER_S + 10, 1, 2000) == 900);
	assert_true(drain(&p, &st, t0 - NS_PER_S + 11, 1, 2000) == 100);
}

/* Costs in bits: 1 Mbit/s with a burst of ten 1500-byte packets. */
static void test_cost_bits(void **state)
{
	const __u32 full = 1500 * 8, small = 64 * 8;
	struct fg_tb_profile p = prof_of(1000000, 10 * full);
	struct fg_tb_state st = { 0 }, before;
	__u64 t = 5 * NS_PER_S;

	(void)state;
	assert_true(drain(&p, &st, t, full, 100) == 10);
	assert_int_equal(fg_tb_consume(&p, &st, t, small), 0);
	/* 512 bits accrue in 512 us; 12000 bits in 12 ms. */
	assert_int_equal(fg_tb_consume(&p, &st, t + 512 * NS_PER_US - 1, small),
			 0);
	assert_int_equal(fg_tb_consume(&p, &st, t + 512 * NS_PER_US, small), 1);
	assert_int_equal(fg_tb_consume(&p, &st, t + 12 * NS_PER_MS, full), 0);
	assert_int_equal(fg_tb_consume(&p, &st, t + 12512 * NS_PER_US, full), 1);

	/* Out-of-range costs are refused and change nothing. */
	before = st;
	t += NS_PER_S; /* bucket full again */
	assert_int_equal(fg_tb_consume(&p, &st, t, 0), 0);
	assert_int_equal(fg_tb_consume(&p, &st, t, FG_TB_COST_MAX + 1), 0);
	assert_int_equal(fg_tb_consume(&p, &st, t, 0xffffffffU), 0);
	assert_memory_equal(&st, &before, sizeof(st));
	/* A cost above the burst never fits, however full the bucket. */
	assert_int_equal(fg_tb_consume(&p, &st, t, 10 * full + 1), 0);
	assert_int_equal(fg_tb_consume(&p, &st, t, 10 * full), 1);

	/* FG_TB_COST_MAX itself, at the slowest and fastest rates. */
	p = prof_of(1, FG_TB_COST_MAX);
	memset(&st, 0, sizeof(st));
	assert_int_equal(fg_tb_consume(&p, &st, t, FG_TB_COST_MAX), 1);
	assert_int_equal(fg_tb_consume(&p, &st, t, 1), 0);
	assert_int_equal(fg_tb_consume(&p, &st,
				       t + FG_TB_COST_MAX * NS_PER_S - 1, 1), 1);
	p = prof_of(FG_TB_RATE_MAX, FG_TB_COST_MAX);
	memset(&st, 0, sizeof(st));
	assert_int_equal(fg_tb_consume(&p, &st, t, FG_TB_COST_MAX), 1);
	assert_int_equal(fg_tb_consume(&p, &st, t, 1), 0);
}

/* 1 unit/s: one per second, exactly, for 100 s. */
static void test_rate_one(void **state)
{
	struct fg_tb_profile p = prof_of(1, 1);
	struct fg_tb_state st = { 0 };
	__u64 t, n = 0;

	(void)state;
	assert_int_equal(fg_tb_consume(&p, &st, 0, 1), 1);
	assert_int_equal(fg_tb_consume(&p, &st, NS_PER_S - 1, 1), 0);
	assert_int_equal(fg_tb_consume(&p, &st, NS_PER_S, 1), 1);
	memset(&st, 0, sizeof(st));
	for (t = 0; t <= 100 * NS_PER_S; t += NS_PER_MS)
		n += (__u64)fg_tb_consume(&p, &st, t, 1);
	assert_true(n == 1 + 100);
}

/*
 * 100 Gbit/s, 1500-byte packets, 1 ms in 1 us steps, each step sending
 * until refused: admitted bits within 0.1 % of burst + 1 ms x rate, and
 * never above it. The only shortfall is the last packet that does not fit
 * (< 12000 bits of 1e8) plus the rounding of the unit (< 2^-25).
 */
static void test_rate_100g(void **state)
{
	const __u32 cost = 1500 * 8;
	const __u64 burst = 10ULL * cost, rate = FG_TB_RATE_MAX;
	struct fg_tb_profile p = prof_of(rate, burst);
	struct fg_tb_state st = { 0 };
	__u64 t0 = 1ULL << 40, t, bits = 0;
	double want = (double)burst + 1e-3 * (double)rate;

	(void)state;
	for (t = 0; t <= NS_PER_MS; t += NS_PER_US)
		bits += drain(&p, &st, t0 + t, cost, 10000) * cost;
	print_message("100G: admitted %llu bits of %.0f (%.5f %%)\n",
		      (unsigned long long)bits, want, 100.0 * bits / want);
	assert_true((double)bits <= want);
	assert_true((double)bits >= want * 0.999);
	/* The shortfall is at most one packet and the rounding. */
	assert_true((double)bits >= want - cost - want / (1 << 25));
}

/*
 * Clocks near 2^63 with the longest window the profile allows (2^62 ns):
 * tat runs up to 2^63 + 2^62 and nothing wraps.
 */
static void test_huge_now(void **state)
{
	const __u64 burst = 4611686018ULL; /* x 1e9 ns: just under 2^62 */
	const __u64 rem = burst % FG_TB_COST_MAX;
	struct fg_tb_profile p = prof_of(1, burst);
	struct fg_tb_state st = { 0 };
	__u64 now = (1ULL << 63) - 1 - 2 * NS_PER_S;

	(void)state;
	assert_true(drain(&p, &st, now, FG_TB_COST_MAX, 10000) ==
		    burst / FG_TB_COST_MAX);
	assert_int_equal(fg_tb_consume(&p, &st, now, (__u32)rem + 1), 0);
	assert_int_equal(fg_tb_consume(&p, &st, now, (__u32)rem), 1);
	assert_int_equal(fg_tb_consume(&p, &st, now, 1), 0);
	assert_true(st.tat == now + p.window_ns);
	assert_true(st.tat > (1ULL << 63));
	/* One more second of clock: exactly one more unit. */
	now += NS_PER_S;
	assert_int_equal(fg_tb_consume(&p, &st, now, 1), 1);
	assert_int_equal(fg_tb_consume(&p, &st, now, 1), 0);
	/* Up to the documented edge, now = 2^63 - 1. */
	now = (1ULL << 63) - 1;
	assert_int_equal(fg_tb_consume(&p, &st, now, 1), 1);
	assert_int_equal(fg_tb_consume(&p, &st, now, 1), 0);

	/* The fastest rate at the same clocks. */
	p = prof_of(FG_TB_RATE_MAX, 1000);
	memset(&st, 0, sizeof(st));
	assert_true(drain(&p, &st, now - 1000, 1, 5000) == 1000);
	assert_true(drain(&p, &st, now, 1, 5000) == 1000);
}

/*
 * Random arrivals and costs against the other classic form of GCRA, the
 * continuous-state leaky bucket: a debt X (in fixed-point ns) drains at
 * one per fixed-point ns and a charge is admitted iff X + cost x interval
 * stays within the window, in 128-bit arithmetic. One step in 64 goes
 * backwards (up to two windows): the debt grows by the step and, beyond
 * the window, is cut to the window and the charge refused. With the same
 * profile the two forms must agree on every decision.
 */
static void test_matches_leaky_bucket(void **state)
{
	static const __u64 rates[] = { 1, 3, 1000, 999983, NS_PER_S / 7,
				       FG_TB_RATE_MAX };
	__u64 rng = 0x9e3779b97f4a7c15ULL;
	__u32 r, i;

	(void)state;
	for (r = 0; r < FG_ARRAY_SIZE(rates); r++) {
		__u64 rate = rates[r], burst = 20000;
		struct fg_tb_profile p = prof_of(rate, burst);
		struct fg_tb_state st = { 0 };
		u128 one = (u128)1 << p.shift, debt = 0, win;
		/* Mean gap: about one 1000-unit charge's worth. */
		__u64 gap_max = (__u64)((u128)2000 * NS_PER_S / rate) + 1;
		__u64 now = 1ULL << 60, admits = 0;

		win = (u128)p.window_ns * one + p.window_frac;
		for (i = 0; i < 200000; i++) {
			__u64 gap, cost;
			u128 c;
			int got, want;

			rng ^= rng << 13;
			rng ^= rng >> 7;
			rng ^= rng << 17;
			gap = rng % gap_max;
			cost = 1 + (rng >> 32) % 2000;
			c = (u128)cost * p.interval_fp;
			if ((rng >> 58) == 0) {
				gap = (rng >> 7) % (2 * p.window_ns + 1);
				now -= gap;
				debt += (u128)gap * one;
				want = debt <= win && debt + c <= win;
				if (debt > win)
					debt = win;
			} else {
				now += gap;
				debt = debt > (u128)gap * one ?
				       debt - (u128)gap * one : 0;
				want = debt + c <= win;
			}
			if (want)
				debt += c;
			got = fg_tb_consume(&p, &st, now, (__u32)cost);
			assert_int_equal(got, want);
			admits += (__u64)got;
		}
		/* Both outcomes were exercised. */
		assert_true(admits > 1000 && admits < 199000);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_profile_errors),
		cmocka_unit_test(test_profile_fixed_point),
		cmocka_unit_test(test_fresh_burst),
		cmocka_unit_test(test_steady_rate),
		cmocka_unit_test(test_long_idle),
		cmocka_unit_test(test_clock_backwards),
		cmocka_unit_test(test_cost_bits),
		cmocka_unit_test(test_rate_one),
		cmocka_unit_test(test_rate_100g),
		cmocka_unit_test(test_huge_now),
		cmocka_unit_test(test_matches_leaky_bucket),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
