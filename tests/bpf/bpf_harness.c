// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * bpf_harness.c - see bpf_harness.h.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <sched.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "fg_flow.h"
#include "fg_tables.h"
#include "bpf_harness.h"
#include "floodgate.skel.h"

extern char *program_invocation_short_name;

int fg_h_sh(const char *cmd)
{
	int rc = system(cmd);

	if (rc != 0)
		fprintf(stderr, "%s: '%s' failed (%d)\n",
			program_invocation_short_name, cmd, rc);
	return rc;
}

int fg_h_write_file(const char *path, const char *val)
{
	FILE *f = fopen(path, "w");
	int rc;

	if (!f)
		return -errno;
	rc = fputs(val, f) < 0 ? -EIO : 0;
	if (fclose(f))
		rc = -errno;
	return rc;
}

int fg_h_cpu_sum(int fd, __u32 stride, __u32 id, size_t vsize, int ncpus,
		 __u64 *sum, unsigned int nwords)
{
	__u64 buf[8];
	unsigned int w;
	int c;

	if (vsize > sizeof(buf) || nwords > vsize / 8)
		return -E2BIG;
	for (w = 0; w < nwords; w++)
		sum[w] = 0;
	for (c = 0; c < ncpus; c++) {
		__u32 key = fg_cpu_index((__u32)c, stride, id);

		if (bpf_map_lookup_elem(fd, &key, buf))
			return -errno;
		for (w = 0; w < nwords; w++)
			sum[w] += buf[w];
	}
	return 0;
}

int fg_h_drops_sum(int cfg_fd, int ncpus, __u64 *sum)
{
	union fg_config_entry e;
	__u32 i;
	int c;

	for (i = 0; i < FG_DROP_REASON_MAX; i++)
		sum[i] = 0;
	for (c = 0; c < ncpus; c++) {
		__u32 key = fg_config_drops_index((__u32)c);

		if (bpf_map_lookup_elem(cfg_fd, &key, &e))
			return -errno;
		fg_drops_add(sum, &e);
	}
	return 0;
}

int fg_h_size_cpu_maps(struct bpf_object *obj, int ncpus)
{
	static const char *const names[] = {
		"fg_svc_stats", "fg_be_stats", "fg_limit_stats", "fg_nh_client",
	};
	struct bpf_map *cfg = bpf_object__find_map_by_name(obj, "fg_config");
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct bpf_map *m = bpf_object__find_map_by_name(obj, names[i]);
		int err;

		if (!m)
			return -ENOENT;
		err = bpf_map__set_max_entries(m, bpf_map__max_entries(m) *
						  (__u32)ncpus);
		if (err)
			return err;
	}
	/* The config, then each CPU's drop counters (fg_tables.h). */
	if (!cfg)
		return -ENOENT;
	return bpf_map__set_max_entries(cfg,
					fg_config_drops_index((__u32)ncpus));
}

/* The lines of connection table fd, mapped read-only; *n receives their
 * number. NULL with errno set on failure. */
static struct fg_ct_line *fg_h_ct_map(int fd, __u32 *n)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	void *p;

	/* bpf_obj_get_info_by_fd: bpf_map_get_info_by_fd is libbpf >= 1.2. */
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return NULL;
	if (info.value_size != sizeof(struct fg_ct_line)) {
		errno = EINVAL;
		return NULL;
	}
	p = mmap(NULL, (size_t)info.max_entries * sizeof(struct fg_ct_line),
		 PROT_READ, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return NULL;
	*n = info.max_entries;
	return p;
}

long fg_h_ct_count(int fd)
{
	struct fg_ct_line *t;
	long count = 0;
	__u32 n, i, w;

	t = fg_h_ct_map(fd, &n);
	if (!t)
		return -errno;
	for (i = 0; i < n; i++)
		for (w = 0; w < FG_CT_WAYS; w++)
			count += t[i].way[w].tag != 0;
	munmap(t, (size_t)n * sizeof(*t));
	return count;
}

int fg_h_ct_find(int fd, __u32 lines, const struct fg_flow_key *k,
		 const struct fg_hash_seed *seed, struct fg_ct *out)
{
	__u64 hash = fg_flow_hash(k, seed);
	__u32 idx = fg_ct_line_of(hash, lines), w;
	struct fg_ct_line l;

	if (bpf_map_lookup_elem(fd, &idx, &l))
		return -errno;
	for (w = 0; w < FG_CT_WAYS; w++) {
		if (fg_ct_way_is(&l.way[w], hash)) {
			fg_ct_unpack(&l.way[w], out);
			return 0;
		}
	}
	return -ENOENT;
}

int fg_h_ct_put(int fd, __u32 lines, const struct fg_flow_key *k,
		const struct fg_hash_seed *seed, __u32 way,
		const struct fg_ct *ct)
{
	__u64 hash = fg_flow_hash(k, seed);
	__u32 idx = fg_ct_line_of(hash, lines);
	struct fg_ct_line l;

	if (way >= FG_CT_WAYS)
		return -EINVAL;
	/* Read-modify-write of the whole line: an array map's value is
	 * written whole, and the line's other ways must stay as they are. */
	if (bpf_map_lookup_elem(fd, &idx, &l))
		return -errno;
	fg_ct_pack(&l.way[way], hash, ct);
	return bpf_map_update_elem(fd, &idx, &l, BPF_ANY) ? -errno : 0;
}

int fg_h_bucket_put(int fd, const struct fg_bucket_key *bk,
		    const struct fg_hash_seed *seed,
		    const struct fg_tb_state *st)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info), set, w, idx;
	struct fg_bucket_entry e;

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	if (!info.max_entries || (info.max_entries & (info.max_entries - 1)))
		return -EINVAL;
	set = (__u32)fg_bucket_hash(bk, seed) & (info.max_entries - 1);
	for (w = 0; w < FG_CT_WAYS; w++) {
		idx = (set + w) & (info.max_entries - 1);
		if (bpf_map_lookup_elem(fd, &idx, &e))
			return -errno;
		if (fg_bucket_key_eq(&e.key, bk))
			break;
	}
	if (w == FG_CT_WAYS)
		idx = set;
	e.key = *bk;
	e.st = *st;
	return bpf_map_update_elem(fd, &idx, &e, BPF_ANY) ? -errno : 0;
}

int fg_h_libbpf_log(enum libbpf_print_level level, const char *fmt,
		    va_list ap)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

/* ------------------------------------------- the dataplane under test */

int fg_h_enter(void)
{
	if (geteuid() != 0) {
		printf("SKIP: needs root (CAP_BPF, CAP_NET_ADMIN, unshare)\n");
		return 77;
	}
	if (unshare(CLONE_NEWNET)) {
		printf("SKIP: unshare(CLONE_NEWNET): %s\n", strerror(errno));
		return 77;
	}
	if (system("ip -V >/dev/null 2>&1") != 0) {
		printf("SKIP: iproute2 'ip' not found\n");
		return 77;
	}
	return 0;
}

int fg_h_run(int prog, int ifindex, const __u8 *in, __u32 len, __u8 *out,
	     __u32 cap, __u32 *out_len, __u32 *verdict)
{
	struct xdp_md ctx = {
		.data = 0, .data_end = len, .ingress_ifindex = (__u32)ifindex,
	};
	LIBBPF_OPTS(bpf_test_run_opts, o,
		.data_in = in, .data_size_in = len,
		.data_out = out, .data_size_out = cap,
		.ctx_in = &ctx, .ctx_size_in = sizeof(ctx),
		.repeat = 1);
	int err = bpf_prog_test_run_opts(prog, &o);

	if (err)
		return err;
	*out_len = o.data_size_out;
	*verdict = o.retval;
	return 0;
}

void fg_h_pin_cpu(void)
{
	cpu_set_t set;
	int cpu = sched_getcpu();

	if (cpu < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

int fg_h_net_setup(const char *ifname, const char *peer,
		   const char *const *cmds, unsigned int ncmds)
{
	char cmd[256];
	unsigned int i;
	int idx;

	if (fg_h_sh("ip link set lo up"))
		return -1;
	snprintf(cmd, sizeof(cmd), "ip link add %s address 02:00:00:00:00:01 "
		 "type veth peer name %s address 02:00:00:00:00:09", ifname,
		 peer);
	if (fg_h_sh(cmd))
		return -1;
	snprintf(cmd, sizeof(cmd), "ip link set %s up", ifname);
	if (fg_h_sh(cmd))
		return -1;
	snprintf(cmd, sizeof(cmd), "ip link set %s up", peer);
	if (fg_h_sh(cmd))
		return -1;
	snprintf(cmd, sizeof(cmd), "ip addr add 198.18.0.1/24 dev %s", ifname);
	if (fg_h_sh(cmd))
		return -1;
	if (fg_h_write_file("/proc/sys/net/ipv4/ip_forward", "1") ||
	    fg_h_write_file("/proc/sys/net/ipv6/conf/all/forwarding", "1"))
		return -1;
	for (i = 0; i < ncmds; i++)
		if (fg_h_sh(cmds[i]))
			return -1;
	idx = (int)if_nametoindex(ifname);
	if (!idx)
		fprintf(stderr, "if_nametoindex(%s): %s\n", ifname,
			strerror(errno));
	return idx ? idx : -1;
}

/* fg_h_addr - address string a into 16 bytes (IPv4 in the first 4, the
 * rest zero). 0 or -EINVAL. */
static int fg_h_addr(const char *a, void *out)
{
	memset(out, 0, 16);
	if (strchr(a, ':'))
		return inet_pton(AF_INET6, a, out) == 1 ? 0 : -EINVAL;
	return inet_pton(AF_INET, a, out) == 1 ? 0 : -EINVAL;
}

/* fg_h_resize - set map m's max_entries to n, unless n is 0. */
static int fg_h_resize(struct bpf_map *m, __u32 n)
{
	return n ? bpf_map__set_max_entries(m, n) : 0;
}

int fg_h_load(const struct fg_h_load_opts *o, struct floodgate_bpf **out,
	      struct fg_h_fds *fds)
{
	struct floodgate_bpf *skel;
	__u8 a[16];
	int err = 0;

	*out = NULL;
	skel = floodgate_bpf__open();
	if (!skel)
		return -errno;
	if (o->seed)
		skel->rodata->fg_seed = *o->seed;
	if (o->tun4 && !(err = fg_h_addr(o->tun4, a)))
		memcpy((void *)&skel->rodata->fg_tunnel_src4, a, 4);
	if (!err && o->tun6 && !(err = fg_h_addr(o->tun6, a)))
		memcpy((void *)skel->rodata->fg_tunnel_src6, a, 16);
	if (!err && o->snat4 && !(err = fg_h_addr(o->snat4, a)))
		memcpy((void *)&skel->rodata->fg_snat4, a, 4);
	if (!err && o->snat6 && !(err = fg_h_addr(o->snat6, a)))
		memcpy((void *)skel->rodata->fg_snat6, a, 16);
	if (err)
		goto destroy;
	if (o->gue_port)
		skel->rodata->fg_gue_port = htons(o->gue_port);
	if (o->ct_lines)
		skel->rodata->fg_ct_lines = o->ct_lines;
	if (o->ct_syn_lines)
		skel->rodata->fg_ct_syn_lines = o->ct_syn_lines;
	if (o->bucket_slots)
		skel->rodata->fg_bucket_slots = o->bucket_slots;
	if (o->udp_timeout_ns)
		skel->rodata->fg_ct_timeout_udp_ns = o->udp_timeout_ns;

	/* fg_be_stats keeps its FG_BACKEND_MAX entries per CPU: the program
	 * indexes it with that stride whatever fg_backends holds. The
	 * connection tables' entries are lines, as the rodata says. */
	err = fg_h_resize(skel->maps.fg_ring, o->ring_slots);
	if (!err)
		err = fg_h_resize(skel->maps.fg_backends, o->backends);
	if (!err)
		err = fg_h_resize(skel->maps.fg_ct, o->ct_lines);
	if (!err)
		err = fg_h_resize(skel->maps.fg_ct_syn, o->ct_syn_lines);
	if (!err)
		err = fg_h_resize(skel->maps.fg_nat, o->nat_entries);
	if (!err)
		err = fg_h_resize(skel->maps.fg_nat_syn, o->nat_entries);
	if (!err)
		err = fg_h_resize(skel->maps.fg_buckets, o->bucket_slots);
	if (!err)
		err = fg_h_size_cpu_maps(skel->obj, o->ncpus);
	if (!err)
		err = floodgate_bpf__load(skel);
	if (err)
		goto destroy;

	fds->prog = bpf_program__fd(skel->progs.fg_xdp_main);
	fds->cfg = bpf_map__fd(skel->maps.fg_config);
	fds->svc = bpf_map__fd(skel->maps.fg_services);
	fds->ring = bpf_map__fd(skel->maps.fg_ring);
	fds->be = bpf_map__fd(skel->maps.fg_backends);
	fds->lim = bpf_map__fd(skel->maps.fg_limits);
	fds->bkt = bpf_map__fd(skel->maps.fg_buckets);
	fds->ct = bpf_map__fd(skel->maps.fg_ct);
	fds->ctsyn = bpf_map__fd(skel->maps.fg_ct_syn);
	fds->nat = bpf_map__fd(skel->maps.fg_nat);
	fds->natsyn = bpf_map__fd(skel->maps.fg_nat_syn);
	fds->svcst = bpf_map__fd(skel->maps.fg_svc_stats);
	fds->best = bpf_map__fd(skel->maps.fg_be_stats);
	fds->limst = bpf_map__fd(skel->maps.fg_limit_stats);
	fds->clock = bpf_map__fd(skel->maps.fg_clock);
	*out = skel;
	return 0;

destroy:
	floodgate_bpf__destroy(skel);
	return err < 0 ? err : -EINVAL;
}
