// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * fg_decap_loader.c - fg-decap-loader: attach, detach, inspect and refresh
 * the backend decap program (fg_decap.bpf.c) on one network device.
 *
 * scripts/fg-backend-decap wraps it and also sets the sysctls a DSR backend
 * needs; it can be used on its own:
 *
 *   fg-decap-loader attach DEV [--tc] [--generic] [--gue-port N] [--any]
 *                              [--obj PATH] [--addr ADDR]... [--verbose]
 *   fg-decap-loader detach DEV
 *   fg-decap-loader status DEV
 *   fg-decap-loader sync   DEV [--addr ADDR]...
 *
 * The program is attached through netlink - an XDP program on the device,
 * or a cls_bpf filter on its clsact ingress hook - not through a pinned
 * bpf_link: the attachment then lives exactly as long as the device, in
 * whatever network namespace the device is, and needs no bpffs (which
 * `ip netns exec` hides behind a fresh /sys). The loader recognises its own
 * attachment by program name and reaches the maps through the program's
 * map ids, so re-attach, status and sync need no state on disk. It never
 * replaces or removes a program that is not its own.
 *
 * The object is embedded (the skeleton's ELF bytes); --obj loads another
 * build of it instead. Load-time settings are written into the
 * fg_decap_cfg global, found by name through the object's BTF.
 *
 * Exit status: 0 done, 1 error, 2 usage; status: 3 when not attached.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <ifaddrs.h>
#include <limits.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "fg_decap_common.h"
#include "fg_decap.skel.h"

#define FG_DECAP_EXIT_ERR 1
#define FG_DECAP_EXIT_USAGE 2
#define FG_DECAP_EXIT_NOT_ATTACHED 3

#define FG_DECAP_XSTR(x) #x
#define FG_DECAP_STR(x) FG_DECAP_XSTR(x)

/* Maps of one program: at most this many are looked at. */
#define FG_DECAP_PROG_MAPS_MAX 16

/* Counter names as status prints them, by enum fg_decap_counter. */
static const char *const fg_decap_counter_names[FG_DECAP_CNT_MAX] = {
	[FG_DECAP_CNT_IPIP] = "decapped_ipip",
	[FG_DECAP_CNT_GUE] = "decapped_gue",
	[FG_DECAP_CNT_PASSED] = "passed",
	[FG_DECAP_CNT_MALFORMED] = "malformed",
	[FG_DECAP_CNT_FRAGMENT] = "fragment",
	[FG_DECAP_CNT_ERROR] = "error",
};

/* The command line, validated. */
struct fg_decap_opts {
	const char *cmd;
	const char *dev;
	unsigned int ifindex;
	bool tc;             /* clsact ingress instead of XDP */
	bool generic;        /* XDP in generic (skb) mode */
	bool any;            /* fg_decap_cfg.decap_any */
	bool verbose;        /* libbpf debug output, verifier statistics */
	int gue_port;        /* host order; 0 disables GUE */
	const char *obj_path;
	struct fg_decap_addr extra[FG_DECAP_ADDRS_MAX];
	unsigned int n_extra;
};

/* What is attached to the device now. Ids are 0 when nothing is. */
struct fg_decap_state {
	__u32 xdp_drv_id;
	__u32 xdp_skb_id;
	__u32 tc_id;
	bool xdp_drv_ours;
	bool xdp_skb_ours;
	bool tc_ours;
	char xdp_drv_name[BPF_OBJ_NAME_LEN];
	char xdp_skb_name[BPF_OBJ_NAME_LEN];
	char tc_name[BPF_OBJ_NAME_LEN];
};

static bool fg_decap_verbose;
/* Set around probes whose failure is an answer (no clsact qdisc yet), so
 * libbpf does not print the kernel's complaint about it. */
static bool fg_decap_quiet;

/* ------------------------------------------------------------ logging */

/* The one place this tool prints diagnostics: "fg-decap-loader: ..." on
 * stderr. */
__attribute__((format(printf, 1, 2)))
static void fg_decap_err(const char *fmt, ...)
{
	va_list ap;

	fputs("fg-decap-loader: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* libbpf's output: warnings always (they explain load failures, the
 * verifier log included), the rest with --verbose. */
static int fg_decap_libbpf_print(enum libbpf_print_level level,
				 const char *fmt, va_list ap)
{
	if ((level == LIBBPF_DEBUG || fg_decap_quiet) && !fg_decap_verbose)
		return 0;
	/* libbpf's lines start with "libbpf: " themselves. */
	fputs("fg-decap-loader: ", stderr);
	return vfprintf(stderr, fmt, ap);
}

/* ------------------------------------------------------------ addresses */

/*
 * fg_decap_addr_parse - parse an IPv4 or IPv6 literal into a map key.
 * Returns 0 or -EINVAL.
 */
static int fg_decap_addr_parse(const char *s, struct fg_decap_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, s, &a->addr[0]) == 1) {
		a->family = 4;
		return 0;
	}
	if (inet_pton(AF_INET6, s, a->addr) == 1) {
		a->family = 6;
		return 0;
	}
	return -EINVAL;
}

/* fg_decap_addr_str - format a map key into buf; returns buf. */
static const char *fg_decap_addr_str(const struct fg_decap_addr *a, char *buf,
				     size_t len)
{
	if (!inet_ntop(a->family == 4 ? AF_INET : AF_INET6, a->addr, buf, len))
		snprintf(buf, len, "(family %u)", a->family);
	return buf;
}

/* fg_decap_addr_add - append a unless already in set[0..*n). Returns 0, or
 * -E2BIG past FG_DECAP_ADDRS_MAX. */
static int fg_decap_addr_add(struct fg_decap_addr *set, unsigned int *n,
			     const struct fg_decap_addr *a)
{
	unsigned int i;

	for (i = 0; i < *n; i++)
		if (!memcmp(&set[i], a, sizeof(*a)))
			return 0;
	if (*n >= FG_DECAP_ADDRS_MAX)
		return -E2BIG;
	set[(*n)++] = *a;
	return 0;
}

/*
 * fg_decap_collect_addrs - the tunnel endpoint set: every IPv4/IPv6 address
 * of dev (IPv4 labels "dev:x" included) plus opts->extra.
 *
 * Returns 0 with set[0..*n) filled, -E2BIG past FG_DECAP_ADDRS_MAX, or the
 * getifaddrs() -errno.
 */
static int fg_decap_collect_addrs(const struct fg_decap_opts *opts,
				  struct fg_decap_addr *set, unsigned int *n)
{
	size_t dlen = strlen(opts->dev);
	struct ifaddrs *ifs, *ifa;
	unsigned int i;
	int err = 0;

	*n = 0;
	if (getifaddrs(&ifs))
		return -errno;
	for (ifa = ifs; ifa && !err; ifa = ifa->ifa_next) {
		struct fg_decap_addr a;

		if (!ifa->ifa_addr || !ifa->ifa_name ||
		    strncmp(ifa->ifa_name, opts->dev, dlen) ||
		    (ifa->ifa_name[dlen] && ifa->ifa_name[dlen] != ':'))
			continue;
		memset(&a, 0, sizeof(a));
		if (ifa->ifa_addr->sa_family == AF_INET) {
			const struct sockaddr_in *sin = (const void *)ifa->ifa_addr;

			a.family = 4;
			memcpy(&a.addr[0], &sin->sin_addr, 4);
		} else if (ifa->ifa_addr->sa_family == AF_INET6) {
			const struct sockaddr_in6 *sin6 = (const void *)ifa->ifa_addr;

			a.family = 6;
			memcpy(a.addr, &sin6->sin6_addr, 16);
		} else {
			continue;
		}
		err = fg_decap_addr_add(set, n, &a);
	}
	freeifaddrs(ifs);
	for (i = 0; i < opts->n_extra && !err; i++)
		err = fg_decap_addr_add(set, n, &opts->extra[i]);
	return err;
}

/*
 * fg_decap_addrs_sync - make the map at map_fd hold exactly set[0..n).
 * Adds first, then deletes what is stale, so an address present before and
 * after is never missing. Returns 0 or the first failing call's -errno.
 */
static int fg_decap_addrs_sync(int map_fd, const struct fg_decap_addr *set,
			       unsigned int n)
{
	struct fg_decap_addr stale[FG_DECAP_ADDRS_MAX], key, next;
	unsigned int i, j, n_stale = 0;
	__u32 one = 1;
	void *prev = NULL;

	for (i = 0; i < n; i++)
		if (bpf_map_update_elem(map_fd, &set[i], &one, BPF_ANY))
			return -errno;
	while (!bpf_map_get_next_key(map_fd, prev, &next)) {
		bool keep = false;

		for (j = 0; j < n && !keep; j++)
			keep = !memcmp(&set[j], &next, sizeof(next));
		if (!keep && n_stale < FG_DECAP_ADDRS_MAX)
			stale[n_stale++] = next;
		key = next;
		prev = &key;
	}
	for (i = 0; i < n_stale; i++)
		if (bpf_map_delete_elem(map_fd, &stale[i]) && errno != ENOENT)
			return -errno;
	return 0;
}

/* ------------------------------------------------------------ programs */

/*
 * fg_decap_prog_name - the kernel's name of program id into name.
 * Returns 0 or -errno (the program went away, no permission).
 */
static int fg_decap_prog_name(__u32 id, char name[BPF_OBJ_NAME_LEN])
{
	struct bpf_prog_info info;
	__u32 len = sizeof(info);
	int fd, err = 0;

	fd = bpf_prog_get_fd_by_id(id);
	if (fd < 0)
		return -errno;
	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		err = -errno;
	else
		snprintf(name, BPF_OBJ_NAME_LEN, "%s", info.name);
	close(fd);
	return err;
}

/*
 * fg_decap_query - fill *st with what is attached to the device: XDP in
 * native and generic mode, and the filter at our clsact handle/priority.
 * Returns 0 or -errno of a failing query (no clsact qdisc is not one).
 */
static int fg_decap_query(const struct fg_decap_opts *opts,
			  struct fg_decap_state *st)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, xq);
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = opts->ifindex,
		    .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, tq, .handle = FG_DECAP_TC_HANDLE,
		    .priority = FG_DECAP_TC_PRIO);
	int err;

	memset(st, 0, sizeof(*st));
	err = bpf_xdp_query(opts->ifindex, 0, &xq);
	if (err)
		return err;
	st->xdp_drv_id = xq.drv_prog_id;
	st->xdp_skb_id = xq.skb_prog_id;
	if (st->xdp_drv_id && !fg_decap_prog_name(st->xdp_drv_id, st->xdp_drv_name))
		st->xdp_drv_ours = !strcmp(st->xdp_drv_name, FG_DECAP_XDP_NAME);
	if (st->xdp_skb_id && !fg_decap_prog_name(st->xdp_skb_id, st->xdp_skb_name))
		st->xdp_skb_ours = !strcmp(st->xdp_skb_name, FG_DECAP_XDP_NAME);

	/* -ENOENT: no such filter; -EINVAL: no clsact qdisc at all. */
	fg_decap_quiet = true;
	err = bpf_tc_query(&hook, &tq);
	fg_decap_quiet = false;
	if (!err) {
		st->tc_id = tq.prog_id;
		if (!fg_decap_prog_name(st->tc_id, st->tc_name))
			st->tc_ours = !strcmp(st->tc_name, FG_DECAP_TC_NAME);
	} else if (err != -ENOENT && err != -EINVAL) {
		return err;
	}
	return 0;
}

/*
 * fg_decap_detach_xdp - remove our XDP program with id in mode (an
 * XDP_FLAGS_*_MODE), only if it is still that program. Returns 0 or -errno.
 */
static int fg_decap_detach_xdp(const struct fg_decap_opts *opts, __u32 id,
			       __u32 mode)
{
	LIBBPF_OPTS(bpf_xdp_attach_opts, xo);
	int fd, err;

	fd = bpf_prog_get_fd_by_id(id);
	if (fd < 0)
		return -errno;
	xo.old_prog_fd = fd;
	err = bpf_xdp_detach(opts->ifindex, mode, &xo);
	close(fd);
	return err;
}

/* fg_decap_detach_tc - remove the filter at our handle/priority. Returns 0
 * or -errno. */
static int fg_decap_detach_tc(const struct fg_decap_opts *opts)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = opts->ifindex,
		    .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, to, .handle = FG_DECAP_TC_HANDLE,
		    .priority = FG_DECAP_TC_PRIO);

	return bpf_tc_detach(&hook, &to);
}

/*
 * fg_decap_cfg_offset - where fg_decap_cfg lies in .rodata, per btf.
 * Returns the offset, -ENOENT when the variable is missing or -EPROTO when
 * its size differs from struct fg_decap_cfg (an object from another build).
 */
static long fg_decap_cfg_offset(const struct btf *btf)
{
	const struct btf_var_secinfo *vsi;
	const struct btf_type *sec;
	unsigned int i;
	int id;

	id = btf__find_by_name_kind(btf, ".rodata", BTF_KIND_DATASEC);
	if (id < 0)
		return -ENOENT;
	sec = btf__type_by_id(btf, id);
	vsi = btf_var_secinfos(sec);
	for (i = 0; i < btf_vlen(sec); i++, vsi++) {
		const struct btf_type *var = btf__type_by_id(btf, vsi->type);

		if (strcmp(btf__name_by_offset(btf, var->name_off), "fg_decap_cfg"))
			continue;
		if (vsi->size != sizeof(struct fg_decap_cfg))
			return -EPROTO;
		return vsi->offset;
	}
	return -ENOENT;
}

/* The maps of a loaded program, found through its map ids; -1 if absent. */
struct fg_decap_maps {
	int addrs_fd;
	int stats_fd;
	int rodata_fd;
	__u32 rodata_btf_id;
	__u32 rodata_size;
};

/* fg_decap_maps_close - close what fg_decap_prog_maps() opened; NULL ok. */
static void fg_decap_maps_close(struct fg_decap_maps *m)
{
	if (!m)
		return;
	if (m->addrs_fd >= 0)
		close(m->addrs_fd);
	if (m->stats_fd >= 0)
		close(m->stats_fd);
	if (m->rodata_fd >= 0)
		close(m->rodata_fd);
	m->addrs_fd = m->stats_fd = m->rodata_fd = -1;
}

/*
 * fg_decap_prog_maps - open the fg_decap_addrs, fg_decap_stats and .rodata
 * maps of program id into *m. Returns 0 (fds set, to be closed with
 * fg_decap_maps_close) or -errno; -ENOENT when a map is missing.
 */
static int fg_decap_prog_maps(__u32 id, struct fg_decap_maps *m)
{
	__u32 ids[FG_DECAP_PROG_MAPS_MAX], len, i, n;
	struct bpf_prog_info info;
	int fd, err = 0;

	m->addrs_fd = m->stats_fd = m->rodata_fd = -1;
	fd = bpf_prog_get_fd_by_id(id);
	if (fd < 0)
		return -errno;
	memset(&info, 0, sizeof(info));
	info.nr_map_ids = FG_DECAP_PROG_MAPS_MAX;
	info.map_ids = (__u64)(unsigned long)ids;
	len = sizeof(info);
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		err = -errno;
	close(fd);
	if (err)
		return err;
	n = info.nr_map_ids < FG_DECAP_PROG_MAPS_MAX ? info.nr_map_ids :
						       FG_DECAP_PROG_MAPS_MAX;
	for (i = 0; i < n; i++) {
		struct bpf_map_info mi;
		size_t nl;
		int mfd;

		mfd = bpf_map_get_fd_by_id(ids[i]);
		if (mfd < 0)
			continue;
		memset(&mi, 0, sizeof(mi));
		len = sizeof(mi);
		if (bpf_obj_get_info_by_fd(mfd, &mi, &len)) {
			close(mfd);
			continue;
		}
		nl = strlen(mi.name);
		if (!strcmp(mi.name, "fg_decap_addrs") && m->addrs_fd < 0) {
			m->addrs_fd = mfd;
		} else if (!strcmp(mi.name, "fg_decap_stats") && m->stats_fd < 0) {
			m->stats_fd = mfd;
		} else if (nl >= 7 && !strcmp(mi.name + nl - 7, ".rodata") &&
			   m->rodata_fd < 0) {
			m->rodata_fd = mfd;
			m->rodata_btf_id = mi.btf_id;
			m->rodata_size = mi.value_size;
		} else {
			close(mfd);
		}
	}
	if (m->addrs_fd < 0 || m->stats_fd < 0) {
		fg_decap_maps_close(m);
		return -ENOENT;
	}
	return 0;
}

/*
 * fg_decap_our_prog - the id of our program attached to the device (XDP
 * native, XDP generic, then TC), with a description of where in *where.
 * Returns the id, or 0 when none of ours is attached.
 */
static __u32 fg_decap_our_prog(const struct fg_decap_state *st,
			       const char **where)
{
	if (st->xdp_drv_ours) {
		*where = "xdp (native)";
		return st->xdp_drv_id;
	}
	if (st->xdp_skb_ours) {
		*where = "xdp (generic)";
		return st->xdp_skb_id;
	}
	if (st->tc_ours) {
		*where = "tc (clsact ingress)";
		return st->tc_id;
	}
	*where = "none";
	return 0;
}

/* ------------------------------------------------------------ commands */

/*
 * fg_decap_open - open the object (embedded, or opts->obj_path) with only
 * the program this attach needs marked for loading, and write the
 * load-time settings. Returns the object or NULL (logged).
 */
static struct bpf_object *fg_decap_open(const struct fg_decap_opts *opts,
					struct bpf_program **prog_out)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo, .object_name = "fg_decap");
	struct bpf_program *prog, *want = NULL;
	struct fg_decap_cfg cfg;
	struct bpf_object *obj;
	const void *elf, *init;
	struct bpf_map *ro;
	char *rodata;
	size_t size;
	long off;
	int err;

	if (opts->obj_path) {
		obj = bpf_object__open_file(opts->obj_path, NULL);
	} else {
		elf = fg_decap__elf_bytes(&size);
		obj = bpf_object__open_mem(elf, size, &oo);
	}
	if (!obj) {
		fg_decap_err("cannot open BPF object %s: %s",
			     opts->obj_path ? opts->obj_path : "(embedded)",
			     strerror(errno));
		return NULL;
	}
	bpf_object__for_each_program(prog, obj) {
		const char *name = bpf_program__name(prog);
		bool mine = !strcmp(name, opts->tc ? FG_DECAP_TC_NAME :
						     FG_DECAP_XDP_NAME);

		bpf_program__set_autoload(prog, mine);
		if (mine)
			want = prog;
		if (mine && opts->verbose)
			bpf_program__set_log_level(prog, 4);
	}
	ro = bpf_object__find_map_by_name(obj, ".rodata");
	off = fg_decap_cfg_offset(bpf_object__btf(obj));
	init = ro ? bpf_map__initial_value(ro, &size) : NULL;
	if (!want || !init || off < 0 || (size_t)off + sizeof(cfg) > size) {
		fg_decap_err("%s is not a fg_decap object (program %s, "
			     "fg_decap_cfg missing or of another size)",
			     opts->obj_path ? opts->obj_path : "embedded object",
			     opts->tc ? FG_DECAP_TC_NAME : FG_DECAP_XDP_NAME);
		goto close_obj;
	}
	/* .rodata is set as a whole: copy, patch fg_decap_cfg, put back. */
	rodata = malloc(size);
	if (!rodata) {
		fg_decap_err("out of memory");
		goto close_obj;
	}
	memcpy(rodata, init, size);
	memset(&cfg, 0, sizeof(cfg));
	cfg.gue_port = htons((__u16)opts->gue_port);
	cfg.decap_any = opts->any;
	memcpy(rodata + off, &cfg, sizeof(cfg));
	err = bpf_map__set_initial_value(ro, rodata, size);
	free(rodata);
	if (err) {
		fg_decap_err("cannot set fg_decap_cfg: %s", strerror(-err));
		goto close_obj;
	}
	*prog_out = want;
	return obj;
close_obj:
	bpf_object__close(obj);
	return NULL;
}

/*
 * fg_decap_attach_xdp - put prog_fd on the device in the requested XDP
 * mode: atomically replacing our own program there, never someone
 * else's; ours in the other XDP mode is removed first (the kernel refuses
 * both at once). Returns 0 or -errno (logged).
 */
static int fg_decap_attach_xdp(const struct fg_decap_opts *opts,
			       const struct fg_decap_state *st, int prog_fd)
{
	LIBBPF_OPTS(bpf_xdp_attach_opts, xo);
	__u32 mode = opts->generic ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE;
	__u32 cur = opts->generic ? st->xdp_skb_id : st->xdp_drv_id;
	__u32 other = opts->generic ? st->xdp_drv_id : st->xdp_skb_id;
	bool cur_ours = opts->generic ? st->xdp_skb_ours : st->xdp_drv_ours;
	bool other_ours = opts->generic ? st->xdp_drv_ours : st->xdp_skb_ours;
	int err, old_fd = -1;

	if ((cur && !cur_ours) || (other && !other_ours)) {
		fg_decap_err("%s already runs XDP program id %u (%s); not "
			     "replacing a program that is not fg_decap "
			     "(detach it, or use --tc)", opts->dev,
			     cur && !cur_ours ? cur : other,
			     cur && !cur_ours ?
				(opts->generic ? st->xdp_skb_name : st->xdp_drv_name) :
				(opts->generic ? st->xdp_drv_name : st->xdp_skb_name));
		return -EBUSY;
	}
	if (other) {
		err = fg_decap_detach_xdp(opts, other, opts->generic ?
					  XDP_FLAGS_DRV_MODE : XDP_FLAGS_SKB_MODE);
		if (err) {
			fg_decap_err("cannot remove fg_decap from the other XDP "
				     "mode of %s: %s", opts->dev, strerror(-err));
			return err;
		}
	}
	if (cur) {
		old_fd = bpf_prog_get_fd_by_id(cur);
		if (old_fd < 0) {
			fg_decap_err("attached program %u vanished: %s", cur,
				     strerror(errno));
			return -errno;
		}
		xo.old_prog_fd = old_fd;
		err = bpf_xdp_attach(opts->ifindex, prog_fd, mode, &xo);
		close(old_fd);
	} else {
		err = bpf_xdp_attach(opts->ifindex, prog_fd,
				     mode | XDP_FLAGS_UPDATE_IF_NOEXIST, NULL);
	}
	if (err) {
		fg_decap_err("cannot attach XDP (%s mode) to %s: %s%s",
			     opts->generic ? "generic" : "native", opts->dev,
			     strerror(-err),
			     err == -EOPNOTSUPP && !opts->generic ?
				"; the driver has no native XDP: try --generic "
				"or --tc" : "");
		return err;
	}
	return 0;
}

/*
 * fg_decap_attach_tc - put prog_fd at our handle/priority on the clsact
 * ingress hook (created when missing), atomically replacing our previous
 * filter there. Returns 0 or -errno (logged).
 */
static int fg_decap_attach_tc(const struct fg_decap_opts *opts,
			      const struct fg_decap_state *st, int prog_fd)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = opts->ifindex,
		    .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, to, .handle = FG_DECAP_TC_HANDLE,
		    .priority = FG_DECAP_TC_PRIO, .prog_fd = prog_fd);
	int err;

	if (st->tc_id && !st->tc_ours) {
		fg_decap_err("%s: clsact ingress handle 0x%x prio %u holds "
			     "program id %u (%s), not fg_decap; not replacing it",
			     opts->dev, FG_DECAP_TC_HANDLE, FG_DECAP_TC_PRIO,
			     st->tc_id, st->tc_name);
		return -EBUSY;
	}
	fg_decap_quiet = true; /* an existing clsact is -EEXIST, and fine */
	err = bpf_tc_hook_create(&hook);
	fg_decap_quiet = false;
	if (err && err != -EEXIST) {
		fg_decap_err("cannot create the clsact qdisc on %s: %s",
			     opts->dev, strerror(-err));
		return err;
	}
	if (st->tc_id)
		to.flags = BPF_TC_F_REPLACE;
	err = bpf_tc_attach(&hook, &to);
	if (err) {
		fg_decap_err("cannot attach the TC program to %s: %s",
			     opts->dev, strerror(-err));
		return err;
	}
	return 0;
}

/*
 * fg_decap_cmd_attach - load, fill the address map, attach (or replace our
 * earlier attachment atomically), then remove our attachment of the other
 * kind. Returns an exit status.
 */
static int fg_decap_cmd_attach(const struct fg_decap_opts *opts)
{
	struct fg_decap_addr set[FG_DECAP_ADDRS_MAX];
	struct fg_decap_state st;
	struct bpf_program *prog;
	struct bpf_object *obj;
	struct bpf_map *addrs;
	unsigned int n, i;
	char buf[INET6_ADDRSTRLEN];
	int err, ret = FG_DECAP_EXIT_ERR;

	err = fg_decap_collect_addrs(opts, set, &n);
	if (err) {
		fg_decap_err("cannot collect the addresses of %s: %s%s",
			     opts->dev, strerror(-err), err == -E2BIG ?
			     " (more than " FG_DECAP_STR(FG_DECAP_ADDRS_MAX) ")" : "");
		return FG_DECAP_EXIT_ERR;
	}
	if (!n && !opts->any) {
		fg_decap_err("%s has no IPv4/IPv6 address and no --addr was "
			     "given: nothing would be decapsulated (add the "
			     "tunnel address first, or use --any)", opts->dev);
		return FG_DECAP_EXIT_ERR;
	}
	err = fg_decap_query(opts, &st);
	if (err) {
		fg_decap_err("cannot query %s: %s", opts->dev, strerror(-err));
		return FG_DECAP_EXIT_ERR;
	}

	obj = fg_decap_open(opts, &prog);
	if (!obj)
		return FG_DECAP_EXIT_ERR;
	err = bpf_object__load(obj);
	if (err) {
		fg_decap_err("cannot load %s: %s%s", bpf_program__name(prog),
			     strerror(-err), err == -EPERM ?
			     " (needs root: CAP_BPF and CAP_NET_ADMIN)" : "");
		goto close_obj;
	}
	/* Addresses in before the program sees traffic. */
	addrs = bpf_object__find_map_by_name(obj, "fg_decap_addrs");
	if (!addrs) {
		fg_decap_err("the object has no fg_decap_addrs map");
		goto close_obj;
	}
	for (i = 0; i < n; i++) {
		__u32 one = 1;

		if (bpf_map__update_elem(addrs, &set[i], sizeof(set[i]), &one,
					 sizeof(one), BPF_ANY)) {
			fg_decap_err("cannot add %s to fg_decap_addrs: %s",
				     fg_decap_addr_str(&set[i], buf, sizeof(buf)),
				     strerror(errno));
			goto close_obj;
		}
	}

	if (opts->tc)
		err = fg_decap_attach_tc(opts, &st, bpf_program__fd(prog));
	else
		err = fg_decap_attach_xdp(opts, &st, bpf_program__fd(prog));
	if (err)
		goto close_obj;

	/* Switching kind: the new one runs, now take the old one off. */
	if (opts->tc) {
		if (st.xdp_drv_ours)
			err = fg_decap_detach_xdp(opts, st.xdp_drv_id, XDP_FLAGS_DRV_MODE);
		if (!err && st.xdp_skb_ours)
			err = fg_decap_detach_xdp(opts, st.xdp_skb_id, XDP_FLAGS_SKB_MODE);
	} else if (st.tc_ours) {
		err = fg_decap_detach_tc(opts);
	}
	if (err) {
		fg_decap_err("attached, but cannot remove the earlier %s "
			     "attachment from %s: %s", opts->tc ? "XDP" : "TC",
			     opts->dev, strerror(-err));
		goto close_obj;
	}

	printf("%s: %s attached (%s), GUE %s%u, %s", opts->dev,
	       bpf_program__name(prog),
	       opts->tc ? "tc clsact ingress" :
			  opts->generic ? "xdp generic" : "xdp native",
	       opts->gue_port ? "port " : "off ", (unsigned int)opts->gue_port,
	       opts->any ? "any destination" : "addresses:");
	for (i = 0; i < n && !opts->any; i++)
		printf(" %s", fg_decap_addr_str(&set[i], buf, sizeof(buf)));
	printf("\n");
	ret = 0;
close_obj:
	/* The device holds the program and, through it, the maps. */
	bpf_object__close(obj);
	return ret;
}

/* fg_decap_cmd_detach - remove every fg_decap attachment from the device;
 * nothing attached is success. Returns an exit status. */
static int fg_decap_cmd_detach(const struct fg_decap_opts *opts)
{
	struct fg_decap_state st;
	int err = 0, n = 0;

	err = fg_decap_query(opts, &st);
	if (err) {
		fg_decap_err("cannot query %s: %s", opts->dev, strerror(-err));
		return FG_DECAP_EXIT_ERR;
	}
	if (st.xdp_drv_ours && !err) {
		err = fg_decap_detach_xdp(opts, st.xdp_drv_id, XDP_FLAGS_DRV_MODE);
		n++;
	}
	if (st.xdp_skb_ours && !err) {
		err = fg_decap_detach_xdp(opts, st.xdp_skb_id, XDP_FLAGS_SKB_MODE);
		n++;
	}
	if (st.tc_ours && !err) {
		/* The clsact qdisc stays: other filters may live on it. */
		err = fg_decap_detach_tc(opts);
		n++;
	}
	if (err) {
		fg_decap_err("cannot detach from %s: %s", opts->dev, strerror(-err));
		return FG_DECAP_EXIT_ERR;
	}
	printf("%s: %s\n", opts->dev, n ? "fg_decap detached" :
					  "fg_decap was not attached");
	return 0;
}

/*
 * fg_decap_print_cfg - print the load-time settings of the running program
 * from its .rodata map and that map's BTF. Prints "unknown" when they
 * cannot be read (an object without BTF).
 */
static void fg_decap_print_cfg(const struct fg_decap_maps *m)
{
	struct fg_decap_cfg cfg;
	struct btf *btf = NULL;
	__u32 zero = 0;
	char *val = NULL;
	long off = -ENOENT;

	if (m->rodata_fd >= 0 && m->rodata_btf_id)
		btf = btf__load_from_kernel_by_id(m->rodata_btf_id);
	if (btf)
		off = fg_decap_cfg_offset(btf);
	if (off >= 0 && (size_t)off + sizeof(cfg) <= m->rodata_size)
		val = calloc(1, m->rodata_size);
	if (val && !bpf_map_lookup_elem(m->rodata_fd, &zero, val)) {
		memcpy(&cfg, val + off, sizeof(cfg));
		if (cfg.gue_port)
			printf("gue port: %u\n", ntohs(cfg.gue_port));
		else
			printf("gue port: off\n");
		printf("decapsulate: %s\n", cfg.decap_any ?
		       "any destination (--any)" : "listed addresses only");
	} else {
		printf("gue port: unknown\n");
	}
	free(val);
	btf__free(btf);
}

/* fg_decap_cmd_status - print the attachment, settings, addresses and
 * counters. Returns 0, FG_DECAP_EXIT_NOT_ATTACHED or an error status. */
static int fg_decap_cmd_status(const struct fg_decap_opts *opts)
{
	__u64 sum[FG_DECAP_CNT_MAX] = { 0 }, *vals;
	struct fg_decap_addr key, next;
	struct fg_decap_state st;
	struct fg_decap_maps m;
	char buf[INET6_ADDRSTRLEN];
	const char *where;
	void *prev = NULL;
	int ncpu, err, i, c;
	__u32 id;

	err = fg_decap_query(opts, &st);
	if (err) {
		fg_decap_err("cannot query %s: %s", opts->dev, strerror(-err));
		return FG_DECAP_EXIT_ERR;
	}
	id = fg_decap_our_prog(&st, &where);
	if (!id) {
		printf("%s: fg_decap not attached", opts->dev);
		if (st.xdp_drv_id || st.xdp_skb_id)
			printf(" (XDP program id %u %s is)",
			       st.xdp_drv_id ? st.xdp_drv_id : st.xdp_skb_id,
			       st.xdp_drv_id ? st.xdp_drv_name : st.xdp_skb_name);
		printf("\n");
		return FG_DECAP_EXIT_NOT_ATTACHED;
	}
	printf("%s: fg_decap attached: %s, program id %u\n", opts->dev, where, id);
	err = fg_decap_prog_maps(id, &m);
	if (err) {
		fg_decap_err("cannot open the maps of program %u: %s", id,
			     strerror(-err));
		return FG_DECAP_EXIT_ERR;
	}
	fg_decap_print_cfg(&m);

	printf("addresses:");
	while (!bpf_map_get_next_key(m.addrs_fd, prev, &next)) {
		printf(" %s", fg_decap_addr_str(&next, buf, sizeof(buf)));
		key = next;
		prev = &key;
	}
	printf("\n");

	ncpu = libbpf_num_possible_cpus();
	vals = ncpu > 0 ? calloc(ncpu, sizeof(*vals)) : NULL;
	if (!vals) {
		fg_decap_err("cannot size the per-CPU counters");
		fg_decap_maps_close(&m);
		return FG_DECAP_EXIT_ERR;
	}
	for (i = 0; i < FG_DECAP_CNT_MAX; i++) {
		__u32 k = i;

		if (bpf_map_lookup_elem(m.stats_fd, &k, vals))
			continue;
		for (c = 0; c < ncpu; c++)
			sum[i] += vals[c];
	}
	free(vals);
	printf("counters:");
	for (i = 0; i < FG_DECAP_CNT_MAX; i++)
		printf(" %s=%llu", fg_decap_counter_names[i],
		       (unsigned long long)sum[i]);
	printf("\n");
	fg_decap_maps_close(&m);
	return 0;
}

/* fg_decap_cmd_sync - make the running program's address map match the
 * device's addresses (plus --addr) now. Returns an exit status. */
static int fg_decap_cmd_sync(const struct fg_decap_opts *opts)
{
	struct fg_decap_addr set[FG_DECAP_ADDRS_MAX];
	struct fg_decap_state st;
	struct fg_decap_maps m;
	const char *where;
	unsigned int n;
	int err;
	__u32 id;

	err = fg_decap_query(opts, &st);
	if (err) {
		fg_decap_err("cannot query %s: %s", opts->dev, strerror(-err));
		return FG_DECAP_EXIT_ERR;
	}
	id = fg_decap_our_prog(&st, &where);
	if (!id) {
		fg_decap_err("%s: fg_decap not attached", opts->dev);
		return FG_DECAP_EXIT_NOT_ATTACHED;
	}
	err = fg_decap_collect_addrs(opts, set, &n);
	if (err) {
		fg_decap_err("cannot collect the addresses of %s: %s",
			     opts->dev, strerror(-err));
		return FG_DECAP_EXIT_ERR;
	}
	err = fg_decap_prog_maps(id, &m);
	if (err) {
		fg_decap_err("cannot open the maps of program %u: %s", id,
			     strerror(-err));
		return FG_DECAP_EXIT_ERR;
	}
	err = fg_decap_addrs_sync(m.addrs_fd, set, n);
	fg_decap_maps_close(&m);
	if (err) {
		fg_decap_err("cannot update fg_decap_addrs: %s", strerror(-err));
		return FG_DECAP_EXIT_ERR;
	}
	printf("%s: %u tunnel address(es) in fg_decap_addrs\n", opts->dev, n);
	return 0;
}

/* ------------------------------------------------------------ main */

/* fg_decap_usage - print the usage text to f. */
static void fg_decap_usage(FILE *f)
{
	fprintf(f,
"usage: fg-decap-loader attach DEV [--tc] [--generic] [--gue-port N] [--any]\n"
"                              [--obj PATH] [--addr ADDR]... [--verbose]\n"
"       fg-decap-loader detach DEV\n"
"       fg-decap-loader status DEV\n"
"       fg-decap-loader sync DEV [--addr ADDR]...\n"
"\n"
"Strips the IPIP / GUE (variant 1) tunnel headers of Floodgate DSR traffic\n"
"addressed to DEV's addresses, so the stack delivers the inner packet to\n"
"the VIP held on lo.\n"
"\n"
"  --tc           clsact ingress instead of XDP (devices without XDP)\n"
"  --generic      XDP in generic (skb) mode instead of native\n"
"  --gue-port N   UDP port of GUE, 0 to disable (default %u)\n"
"  --any          decapsulate tunnel packets to any destination address,\n"
"                 not only DEV's (only on hosts that do not forward)\n"
"  --addr ADDR    also accept tunnel packets to ADDR (repeatable)\n"
"  --obj PATH     load this fg_decap.bpf.o instead of the embedded one\n"
"  --verbose      libbpf debug output and verifier statistics\n"
"\n"
"Exit status: 0 done, 1 error, 2 usage; status: 3 when not attached.\n",
		FG_GUE_PORT_DEFAULT);
}

/*
 * fg_decap_parse - parse argv into *opts. Returns 0, or an exit status
 * (usage errors print why).
 */
static int fg_decap_parse(int argc, char **argv, struct fg_decap_opts *opts)
{
	static const struct option longopts[] = {
		{ "tc", no_argument, NULL, 't' },
		{ "generic", no_argument, NULL, 'g' },
		{ "gue-port", required_argument, NULL, 'p' },
		{ "any", no_argument, NULL, 'a' },
		{ "obj", required_argument, NULL, 'o' },
		{ "addr", required_argument, NULL, 'A' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool attach, sync;
	char *end;
	long v;
	int c;

	memset(opts, 0, sizeof(*opts));
	opts->gue_port = FG_GUE_PORT_DEFAULT;
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fg_decap_usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? FG_DECAP_EXIT_USAGE : -1;
	}
	opts->cmd = argv[1];
	attach = !strcmp(opts->cmd, "attach");
	sync = !strcmp(opts->cmd, "sync");
	if (!attach && !sync && strcmp(opts->cmd, "detach") &&
	    strcmp(opts->cmd, "status")) {
		fg_decap_err("unknown command '%s' (attach, detach, status, sync)",
			     opts->cmd);
		return FG_DECAP_EXIT_USAGE;
	}
	optind = 1;
	while ((c = getopt_long(argc - 1, argv + 1, "h", longopts, NULL)) != -1) {
		bool only_attach = c == 't' || c == 'g' || c == 'p' ||
				   c == 'a' || c == 'o';

		if (only_attach && !attach) {
			fg_decap_err("%s takes no %s", opts->cmd, argv[optind]);
			return FG_DECAP_EXIT_USAGE;
		}
		switch (c) {
		case 't':
			opts->tc = true;
			break;
		case 'g':
			opts->generic = true;
			break;
		case 'a':
			opts->any = true;
			break;
		case 'v':
			opts->verbose = true;
			break;
		case 'o':
			opts->obj_path = optarg;
			break;
		case 'p':
			errno = 0;
			v = strtol(optarg, &end, 10);
			if (errno || *end || end == optarg || v < 0 || v > 65535) {
				fg_decap_err("--gue-port wants 0..65535, not '%s'",
					     optarg);
				return FG_DECAP_EXIT_USAGE;
			}
			opts->gue_port = (int)v;
			break;
		case 'A':
			if (!attach && !sync) {
				fg_decap_err("%s takes no --addr", opts->cmd);
				return FG_DECAP_EXIT_USAGE;
			}
			if (opts->n_extra >= FG_DECAP_ADDRS_MAX) {
				fg_decap_err("at most %d --addr", FG_DECAP_ADDRS_MAX);
				return FG_DECAP_EXIT_USAGE;
			}
			if (fg_decap_addr_parse(optarg, &opts->extra[opts->n_extra])) {
				fg_decap_err("--addr wants an IPv4 or IPv6 address, "
					     "not '%s'", optarg);
				return FG_DECAP_EXIT_USAGE;
			}
			opts->n_extra++;
			break;
		case 'h':
			fg_decap_usage(stdout);
			return -1;
		default:
			return FG_DECAP_EXIT_USAGE;
		}
	}
	if (opts->tc && opts->generic) {
		fg_decap_err("--tc and --generic exclude each other");
		return FG_DECAP_EXIT_USAGE;
	}
	if (optind + 1 != argc - 1) {
		fg_decap_err("%s wants exactly one device", opts->cmd);
		return FG_DECAP_EXIT_USAGE;
	}
	opts->dev = argv[optind + 1];
	if (strlen(opts->dev) >= IF_NAMESIZE ||
	    !(opts->ifindex = if_nametoindex(opts->dev))) {
		fg_decap_err("no network device '%s' here", opts->dev);
		return FG_DECAP_EXIT_ERR;
	}
	return 0;
}

/* main - parse, then run one command. Returns its exit status. */
int main(int argc, char **argv)
{
	struct fg_decap_opts opts;
	int ret;

	ret = fg_decap_parse(argc, argv, &opts);
	if (ret)
		return ret < 0 ? 0 : ret;
	fg_decap_verbose = opts.verbose;
	libbpf_set_print(fg_decap_libbpf_print);

	if (!strcmp(opts.cmd, "attach"))
		return fg_decap_cmd_attach(&opts);
	if (!strcmp(opts.cmd, "detach"))
		return fg_decap_cmd_detach(&opts);
	if (!strcmp(opts.cmd, "sync"))
		return fg_decap_cmd_sync(&opts);
	return fg_decap_cmd_status(&opts);
}
