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

/* ------------------------------------------- the dataplane under test */

struct floodgate_bpf;

/*
 * fg_h_enter - what every program of this harness needs before it sets
 * anything up: root, a network namespace of its own (unshare), iproute2.
 * Returns 0, or 77 (the skip status) after printing "SKIP: <why>".
 */
int fg_h_enter(void);

/*
 * fg_h_run - run the frame in[0..len) once through XDP program prog as
 * received on ifindex. Returns 0 or the kernel's -errno; *verdict and
 * the frame after the program (at most cap bytes) in out, its length in
 * *out_len.
 */
int fg_h_run(int prog, int ifindex, const __u8 *in, __u32 len, __u8 *out,
	     __u32 cap, __u32 *out_len, __u32 *verdict);

/* fg_h_pin_cpu - pin the calling thread to the CPU it runs on: the
 * per-CPU LRU lists of fg_nat and fg_nat_syn then behave as one. */
void fg_h_pin_cpu(void);

/*
 * fg_h_net_setup - the private namespace the program "runs" in: lo up,
 * veth ifname (02:00:00:00:00:01, 198.18.0.1/24) <-> peer
 * (02:00:00:00:00:09), both up, IPv4 and IPv6 forwarding on (without it
 * bpf_fib_lookup answers FWD_DISABLED), then the caller's own commands
 * (next hops, routes, neighbours) in order. Returns ifname's ifindex, or
 * -1 after saying which step failed.
 */
int fg_h_net_setup(const char *ifname, const char *peer,
		   const char *const *cmds, unsigned int ncmds);

/* What fg_h_load sets before the load. Addresses are strings; a size of
 * 0 keeps the object's compiled-in (production) size, a timeout of 0 the
 * default. */
struct fg_h_load_opts {
	const struct fg_hash_seed *seed;
	const char *tun4, *tun6, *snat4, *snat6;
	__u16 gue_port;          /* host order */
	__u32 ct_lines;          /* fg_ct, in lines (rodata and map) */
	__u32 ct_syn_lines;      /* fg_ct_syn, in lines */
	__u32 bucket_slots;      /* fg_buckets (rodata and map) */
	__u32 ring_slots;        /* fg_ring */
	__u32 backends;          /* fg_backends */
	__u32 nat_entries;       /* fg_nat and fg_nat_syn, each */
	__u64 udp_timeout_ns;
	int ncpus;               /* possible CPUs: the per-CPU layouts */
};

/* The descriptors of a loaded dataplane's program and maps. */
struct fg_h_fds {
	int prog;
	int cfg, svc, ring, be, lim, bkt;
	int ct, ctsyn, nat, natsyn;
	int svcst, best, limst, clock;
};

/*
 * fg_h_load - open floodgate.bpf.o's skeleton, set its load-time
 * settings and table sizes from o as the loader would (the per-CPU maps
 * sized for o->ncpus), load it, and fill *fds. Returns 0 with *skel set,
 * or -errno with nothing left loaded (-EPERM: no CAP_BPF; -EACCES: the
 * verifier refused the program).
 */
int fg_h_load(const struct fg_h_load_opts *o, struct floodgate_bpf **skel,
	      struct fg_h_fds *fds);

#endif /* FG_BPF_HARNESS_H */
