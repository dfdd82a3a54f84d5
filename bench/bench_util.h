/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * bench_util.h - what the BPF_PROG_TEST_RUN benchmarks (bench_xdp.c,
 * bench_mem.c) share: BENCH.md's method (repeat=1 calls after a trivial
 * XDP_PASS floor, the highest allowed CPU, per-run means without the
 * interrupted calls, medians over runs), their options and their
 * messages. Messages start with the program's name
 * (program_invocation_short_name).
 */
#ifndef FG_BENCH_UTIL_H
#define FG_BENCH_UTIL_H

#include <errno.h>
#include <string.h>

#include <linux/types.h>

#define FG_BENCH_RUNS_MAX 15   /* -r at most */
#define FG_BENCH_OUTLIER  10U  /* calls > 10x the median are left out */

/* fg_bench_die - say "<program>: <fmt...>" on stderr and exit(1). */
void fg_bench_die(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));

/* A broken setup (the benchmark's own bug or the machine's): stop. */
#define FG_BENCH_REQUIRE(cond)                                            \
	do {                                                              \
		if (!(cond))                                              \
			fg_bench_die("%s:%d: %s (errno %d: %s)", __FILE__, \
				     __LINE__, #cond, errno,              \
				     strerror(errno));                    \
	} while (0)

/*
 * fg_bench_args - parse `[-n calls] [-r runs] [case...]`. *calls and
 * *runs hold the defaults and receive -n and -r; sel[i] becomes 1 for
 * each of the n rows names[i] named, for all of them when none is.
 * Returns 0, or 2 (the exit status) after a message on stderr: an
 * unknown option, -n 0, -r outside 1..FG_BENCH_RUNS_MAX, an unknown row.
 */
int fg_bench_args(int argc, char **argv, const char *const *names,
		  unsigned int n, int *sel, __u32 *calls, __u32 *runs);

/* fg_bench_cpu - the highest CPU this thread may run on (CPU 0 takes
 * most interrupts). Returns it, or -errno with errno set. */
int fg_bench_cpu(void);

/* fg_bench_pin - run on cpu from now on. Returns 0 or -errno. */
int fg_bench_pin(int cpu);

/* fg_bench_floor_load - the floor: XDP_PASS and nothing else (what clang
 * makes of tests/integration/xdp_pass.bpf.c), loaded from its two
 * instructions. Returns the program fd or -errno. */
int fg_bench_floor_load(void);

/*
 * fg_bench_call - one repeat=1 BPF_PROG_TEST_RUN of XDP program fd on
 * the len bytes of in: *verdict and *ns (the kernel-reported duration).
 * ifindex: the ingress interface, passed in an xdp_md; 0 passes none.
 * out: NULL, or a buffer of *out_len bytes that receives the output
 * frame, *out_len its length. Returns 0 or -errno.
 */
int fg_bench_call(int fd, const void *in, __u32 len, int ifindex,
		  void *out, __u32 *out_len, __u32 *verdict, __u32 *ns);

/* fg_bench_mean - mean of the n durations in d (sorted in place) over
 * those not longer than FG_BENCH_OUTLIER x their median; *p50 receives
 * the median, *cut the number left out. */
double fg_bench_mean(__u32 *d, __u32 n, double *p50, __u32 *cut);

/* fg_bench_median - median of v[0..n), n <= FG_BENCH_RUNS_MAX. */
double fg_bench_median(const double *v, __u32 n);

/* fg_bench_loadavg - the 1-minute load average, or -1. */
double fg_bench_loadavg(void);

/* fg_bench_rand - xorshift64*: reproducible sequences from seed *s. */
__u64 fg_bench_rand(__u64 *s);

/* One row's figures: per run, and their medians over the runs. */
struct fg_bench_result {
	double value[FG_BENCH_RUNS_MAX];   /* mean ns per call */
	double floor[FG_BENCH_RUNS_MAX];   /* the floor's, same calls */
	double above[FG_BENCH_RUNS_MAX];   /* value - floor */
	double p50[FG_BENCH_RUNS_MAX];     /* the row's median call */
	__u32 cut[FG_BENCH_RUNS_MAX];      /* interrupted calls left out */
	double med_value, med_floor, med_above;
	int ok;                            /* every path check passed */
};

/* fg_bench_run_end - run `run`'s figures in res from the n durations of
 * the row's calls and of the floor's (both sorted in place). */
void fg_bench_run_end(struct fg_bench_result *res, __u32 run, __u32 *d_row,
		      __u32 *d_floor, __u32 n);

/*
 * fg_bench_row_end - the medians of res's `runs` runs; then, when res->ok,
 * the row's line on stdout,
 *   bench=<bench> case=<name> value=<ns> unit=ns floor=<ns> above_floor=<ns>
 * and its runs on stderr, ending " (<detail>)". Returns 0, or -1 when
 * res->ok is 0 (a path check failed; nothing printed).
 */
int fg_bench_row_end(struct fg_bench_result *res, __u32 runs,
		     const char *bench, const char *name, const char *detail);

#endif /* FG_BENCH_UTIL_H */
