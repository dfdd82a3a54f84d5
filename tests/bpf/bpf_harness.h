/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * bpf_harness.h - helpers the BPF_PROG_TEST_RUN programs share: the
 * dataplane test (test_xdp.c) and its benchmark (bench/bench_xdp.c).
 */
#ifndef FG_BPF_HARNESS_H
#define FG_BPF_HARNESS_H

#include <stdarg.h>
#include <stddef.h>

#include <bpf/libbpf.h>
#include <linux/types.h>

/* fg_h_sh - run a shell command; say which one failed. Returns system()'s
 * status (0 on success). */
int fg_h_sh(const char *cmd);

/* fg_h_write_file - write val to path (a sysctl). 0 or -errno. */
int fg_h_write_file(const char *path, const char *val);

/*
 * fg_h_percpu_sum - sum the first nwords 64-bit words of the per-CPU
 * value of key over ncpus CPUs into sum[0..nwords). vsize is the value's
 * size (a multiple of 8). Returns 0, -E2BIG when the values of all CPUs
 * do not fit the helper's buffer, or the lookup's -errno.
 */
int fg_h_percpu_sum(int fd, __u32 key, size_t vsize, int ncpus,
		    __u64 *sum, unsigned int nwords);

/* fg_h_libbpf_log - libbpf's messages but its debug output, to stderr. */
int fg_h_libbpf_log(enum libbpf_print_level level, const char *fmt,
		    va_list ap);

#endif /* FG_BPF_HARNESS_H */
