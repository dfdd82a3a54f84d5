/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * bench_loop.h - the in-process userspace benchmarks' timing (bench_http,
 * bench_route, bench_seckill): a loop of the row's operation calibrated
 * to run for at least FG_BENCH_MIN_NS, then FG_BENCH_REPEATS timed
 * repeats; the figure is their median, in ns per operation.
 */
#ifndef FG_BENCH_LOOP_H
#define FG_BENCH_LOOP_H

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#define FG_BENCH_REPEATS 5
#define FG_BENCH_MIN_NS 200000000ULL /* 0.2 s per repeat */
#define FG_BENCH_CALIBRATE_MAX 40

/* Hide a value from the optimiser: the loop cannot be folded away. */
#define FG_BENCH_HIDE(x) __asm__ volatile("" : "+r"(x))

/* The row's loop: iters operations on ctx; a value derived from their
 * results, so that nothing is dead code. */
typedef uint64_t (*fg_bench_loop_fn)(void *ctx, uint64_t iters);

static volatile uint64_t fg_bench_sink;

static inline uint64_t fg_bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static inline int fg_bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/*
 * fg_bench_time - ns per operation of loop on ctx: the median of the
 * repeats. *total (may be NULL) gets every operation run, calibration
 * included, for the caller's path check. Returns 0, or -ERANGE when the
 * loop never takes FG_BENCH_MIN_NS (the compiler removed it).
 */
static inline int fg_bench_time(fg_bench_loop_fn loop, void *ctx, double *ns,
				uint64_t *total)
{
	double v[FG_BENCH_REPEATS];
	uint64_t iters = 1024, t0, n = 0;
	unsigned int i;

	for (i = 0; i < FG_BENCH_CALIBRATE_MAX; i++) {
		t0 = fg_bench_now_ns();
		fg_bench_sink = loop(ctx, iters);
		n += iters;
		if (fg_bench_now_ns() - t0 >= FG_BENCH_MIN_NS)
			break;
		iters *= 2;
	}
	if (i == FG_BENCH_CALIBRATE_MAX)
		return -ERANGE;
	for (i = 0; i < FG_BENCH_REPEATS; i++) {
		t0 = fg_bench_now_ns();
		fg_bench_sink = loop(ctx, iters);
		v[i] = (double)(fg_bench_now_ns() - t0) / (double)iters;
		n += iters;
	}
	qsort(v, FG_BENCH_REPEATS, sizeof(v[0]), fg_bench_cmp_double);
	*ns = v[FG_BENCH_REPEATS / 2];
	if (total)
		*total = n;
	return 0;
}

/*
 * FG_BENCH_BROWSER_REQ(line) - a browser's request whose request line is
 * `line` (method and target): what a flash-sale crowd sends, headers and
 * a 10-byte JSON body included (bench_http, bench_seckill,
 * bench_l7_engine read the same bytes).
 */
#define FG_BENCH_BROWSER_REQ(line)                                        \
	line " HTTP/1.1\r\n"                                              \
	"Host: shop.example\r\n"                                          \
	"User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:120.0) "          \
	"Gecko/20100101 Firefox/120.0\r\n"                                \
	"Content-Type: application/json\r\n"                              \
	"Content-Length: 10\r\n"                                          \
	"Cookie: session=3f2a9c41d0e8b7a6\r\n"                            \
	"\r\n"                                                            \
	"{\"qty\": 1}"

/*
 * FG_BENCH_LOOP(name, ctx_type, one) - a fg_bench_loop_fn called name:
 * iters calls of one(ctx), their results summed.
 */
#define FG_BENCH_LOOP(name, ctx_type, one)                                \
	static uint64_t name(void *ctx, uint64_t iters)                   \
	{                                                                 \
		ctx_type *c_ = ctx;                                       \
		uint64_t i_, acc_ = 0;                                    \
									  \
		for (i_ = 0; i_ < iters; i_++)                            \
			acc_ += one(c_);                                  \
		return acc_;                                              \
	}

#endif /* FG_BENCH_LOOP_H */
