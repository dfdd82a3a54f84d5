// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * bench_util.c - see bench_util.h.
 */
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include "fg_types.h"
#include "bench_util.h"

void fg_bench_die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", program_invocation_short_name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	exit(1);
}

int fg_bench_args(int argc, char **argv, const char *const *names,
		  unsigned int n, int *sel, __u32 *calls, __u32 *runs)
{
	unsigned int i, j;
	int opt;

	while ((opt = getopt(argc, argv, "n:r:")) != -1) {
		switch (opt) {
		case 'n':
			*calls = (__u32)strtoul(optarg, NULL, 10);
			break;
		case 'r':
			*runs = (__u32)strtoul(optarg, NULL, 10);
			break;
		default:
			fprintf(stderr, "usage: %s [-n calls] [-r runs] "
				"[case...]\n", argv[0]);
			return 2;
		}
	}
	if (!*calls || !*runs || *runs > FG_BENCH_RUNS_MAX) {
		fprintf(stderr, "%s: -n must be > 0, -r 1..%d\n",
			program_invocation_short_name, FG_BENCH_RUNS_MAX);
		return 2;
	}
	for (i = 0; i < n; i++)
		sel[i] = optind >= argc;
	for (j = (unsigned int)optind; j < (unsigned int)argc; j++) {
		for (i = 0; i < n; i++)
			if (!strcmp(argv[j], names[i]))
				break;
		if (i == n) {
			fprintf(stderr, "%s: no case '%s'\n",
				program_invocation_short_name, argv[j]);
			return 2;
		}
		sel[i] = 1;
	}
	return 0;
}

/* ---------------------------------------------------------------- setup */

int fg_bench_cpu(void)
{
	cpu_set_t set;
	int c, cpu = -1;

	if (sched_getaffinity(0, sizeof(set), &set))
		return -errno;
	for (c = 0; c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, &set))
			cpu = c;
	if (cpu < 0) {
		errno = EINVAL;
		return -EINVAL;
	}
	return cpu;
}

int fg_bench_pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set) ? -errno : 0;
}

int fg_bench_floor_load(void)
{
	const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0,
		  .imm = XDP_PASS },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	int fd = bpf_prog_load(BPF_PROG_TYPE_XDP, "fg_bench_floor", "GPL",
			       insns, FG_ARRAY_SIZE(insns), NULL);

	return fd < 0 ? -errno : fd;
}

/* ---------------------------------------------------------------- timing */

int fg_bench_call(int fd, const void *in, __u32 len, int ifindex,
		  void *out, __u32 *out_len, __u32 *verdict, __u32 *ns)
{
	struct xdp_md ctx = { .data = 0, .data_end = len,
			      .ingress_ifindex = (__u32)ifindex };
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = in, .data_size_in = len,
		    .repeat = 1);

	if (ifindex) {
		o.ctx_in = &ctx;
		o.ctx_size_in = sizeof(ctx);
	}
	if (out) {
		o.data_out = out;
		o.data_size_out = *out_len;
	}
	if (bpf_prog_test_run_opts(fd, &o))
		return -errno;
	if (out)
		*out_len = o.data_size_out;
	*verdict = o.retval;
	*ns = o.duration;
	return 0;
}

static int fg_bench_cmp_u32(const void *pa, const void *pb)
{
	__u32 x = *(const __u32 *)pa, y = *(const __u32 *)pb;

	return (x > y) - (x < y);
}

static int fg_bench_cmp_double(const void *pa, const void *pb)
{
	double x = *(const double *)pa, y = *(const double *)pb;

	return (x > y) - (x < y);
}

/* A call over FG_BENCH_OUTLIER x the median was interrupted or lost its
 * vCPU (0.1-0.5% of calls, 20-200 us each, ~10% of a plain mean): the
 * machine, not the program; a cold cache miss costs a fraction of the
 * median. */
double fg_bench_mean(__u32 *d, __u32 n, double *p50, __u32 *cut)
{
	__u64 sum = 0, max;
	__u32 i;

	qsort(d, n, sizeof(*d), fg_bench_cmp_u32);
	*p50 = d[n / 2];
	max = (__u64)d[n / 2] * FG_BENCH_OUTLIER;
	for (i = 0; i < n && d[i] <= max; i++)
		sum += d[i];
	*cut = n - i;
	return i ? (double)sum / i : 0;
}

double fg_bench_median(const double *v, __u32 n)
{
	double s[FG_BENCH_RUNS_MAX];

	memcpy(s, v, n * sizeof(*s));
	qsort(s, n, sizeof(*s), fg_bench_cmp_double);
	return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/* Other work on these CPUs inflates every figure (shared machines): the
 * tables say how busy the machine was. */
double fg_bench_loadavg(void)
{
	FILE *f = fopen("/proc/loadavg", "r");
	double l = -1;

	if (f) {
		if (fscanf(f, "%lf", &l) != 1)
			l = -1;
		fclose(f);
	}
	return l;
}

__u64 fg_bench_rand(__u64 *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dULL;
}

/* --------------------------------------------------------------- results */

void fg_bench_run_end(struct fg_bench_result *res, __u32 run, __u32 *d_row,
		      __u32 *d_floor, __u32 n)
{
	double fp50;
	__u32 fcut;

	res->value[run] = fg_bench_mean(d_row, n, &res->p50[run],
					&res->cut[run]);
	res->floor[run] = fg_bench_mean(d_floor, n, &fp50, &fcut);
	res->above[run] = res->value[run] - res->floor[run];
}

int fg_bench_row_end(struct fg_bench_result *res, __u32 runs,
		     const char *bench, const char *name, const char *detail)
{
	__u32 r;

	res->med_value = fg_bench_median(res->value, runs);
	res->med_floor = fg_bench_median(res->floor, runs);
	res->med_above = fg_bench_median(res->above, runs);
	if (!res->ok)
		return -1;
	printf("bench=%s case=%s value=%.1f unit=ns floor=%.1f "
	       "above_floor=%.1f\n", bench, name, res->med_value,
	       res->med_floor, res->med_above);
	fprintf(stderr, "#   %s:", name);
	for (r = 0; r < runs; r++)
		fprintf(stderr, " [%.1f - %.1f = %.1f, p50 %.0f, %u cut]",
			res->value[r], res->floor[r], res->above[r],
			res->p50[r], res->cut[r]);
	fprintf(stderr, " (%s)\n", detail);
	return 0;
}
