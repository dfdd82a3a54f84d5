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

struct fg_flow_key;
struct fg_hash_seed;
struct fg_ct;
struct bpf_object;

/*
 * fg_h_cpu_sum - sum the first nwords 64-bit words of counter id over
 * ncpus CPUs into sum[0..nwords): the counter maps are per CPU by layout
 * (fg_tables.h), CPU c's copy at entry c * stride + id. vsize is the
 * value's size (a multiple of 8, at most 64). Returns 0 or the first
 * lookup's -errno.
 */
int fg_h_cpu_sum(int fd, __u32 stride, __u32 id, size_t vsize, int ncpus,
		 __u64 *sum, unsigned int nwords);

/*
 * fg_h_drops_sum - sum[FG_DROP_REASON_MAX]: the drop counters, summed over
 * ncpus CPUs, from fg_config (fd cfg_fd; entry FG_CONFIG_DROPS + c holds
 * CPU c's). Returns 0 or the first lookup's -errno.
 */
int fg_h_drops_sum(int cfg_fd, int ncpus, __u64 *sum);

/*
 * fg_h_size_cpu_maps - multiply max_entries of the maps that are per CPU
 * by layout (fg_svc_stats, fg_be_stats, fg_limit_stats, fg_nh_client) by
 * ncpus, and give fg_config its CPUs' drop counter entries, as the loader
 * does. Call between open and load, after any other size change to them.
 * Returns 0 or -errno.
 */
int fg_h_size_cpu_maps(struct bpf_object *obj, int ncpus);

/*
 * fg_h_ct_count - flows in a connection table (fg_ct, fg_ct_syn:
 * BPF_F_MMAPABLE arrays of struct fg_ct_line): ways whose tag is not 0,
 * live or expired alike. Returns the count or -errno (-EINVAL when the
 * map's value is not a struct fg_ct_line).
 */
long fg_h_ct_count(int fd);

/*
 * fg_h_ct_find - the state of flow k in a connection table of `lines`
 * lines, found as the dataplane finds it: the way of line
 * fg_ct_line_of(fg_flow_hash(k, seed)) that holds the hash's tag
 * (fg_ct_way_is),
 * unpacked. Neither timeouts nor the service are judged. Returns 0 and
 * fills *out, -ENOENT, or -errno.
 */
int fg_h_ct_find(int fd, __u32 lines, const struct fg_flow_key *k,
		 const struct fg_hash_seed *seed, struct fg_ct *out);

/*
 * fg_h_ct_put - write flow k's state ct, packed under its tag, into way
 * `way` (0..FG_CT_WAYS-1) of its line, as the dataplane would have; the
 * line's other ways are left alone. ct->flags gives the protocol
 * (FG_CT_F_UDP); FG_CT_F_NAT follows from ct->nat_port. Returns 0 or
 * -errno.
 */
int fg_h_ct_put(int fd, __u32 lines, const struct fg_flow_key *k,
		const struct fg_hash_seed *seed, __u32 way,
		const struct fg_ct *ct);

/* fg_h_libbpf_log - libbpf's messages but its debug output, to stderr. */
int fg_h_libbpf_log(enum libbpf_print_level level, const char *fmt,
		    va_list ap);

struct fg_bucket_key;
struct fg_tb_state;

/*
 * fg_h_bucket_put - set the state of bucket bk in fg_buckets (fd) to st:
 * in the entry of its set that holds it, else in the set's first entry,
 * as the dataplane finds it (fg_bucket_hash with seed). Returns 0 or
 * -errno.
 */
int fg_h_bucket_put(int fd, const struct fg_bucket_key *bk,
		    const struct fg_hash_seed *seed,
		    const struct fg_tb_state *st);

#endif /* FG_BPF_HARNESS_H */
