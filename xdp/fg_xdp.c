/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * fg_xdp.c - the XDP loader library (see fg_xdp.h for the pin layout,
 * adoption and the fg_state map).
 *
 * Skeleton lifecycle as libbpf-bootstrap does it: open, set rodata and
 * map sizes, load, attach - with every map given a pin path before load,
 * so libbpf either reuses the pinned map (adoption) or pins the new one.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <limits.h>
#include <net/if.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <linux/if_link.h>
#include <linux/magic.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "fg_parse.h"
#include "fg_err.h"
#include "fg_xdp.h"
#include "floodgate.skel.h"

/* ---------------------------------------------------------------------
 * fg_state: the loader's pinned state (layout in fg_xdp.h)
 */

#define FG_XDP_STATE_NAME "fg_state"
#define FG_XDP_STATE_MAGIC 0x46475354U /* "FGST" */
#define FG_XDP_STATE_LAYOUT 4U /* 2: 48-byte NH seed, array tables;
				* 3: conntrack lines of tagged ways;
				* 4: drop counters in fg_config */
#define FG_XDP_STATE_VAL_SIZE 128U
#define FG_XDP_STATE_MAX (FG_SVC_MAX + FG_LIMIT_MAX + 16U)
#define FG_XDP_LINK_PREFIX "link_"

enum fg_xdp_state_kind {
	FG_XDP_STATE_HDR = 0,
	FG_XDP_STATE_SVC = 1,
	FG_XDP_STATE_LIMIT = 2,
	FG_XDP_STATE_ORIGIN = 3, /* id 0: the rules' store (fg_xdp_origin) */
};

struct fg_xdp_state_key {
	__u32 kind;
	__u32 id;
};

struct fg_xdp_state_hdr {
	__u32 magic;
	__u32 layout;
	struct fg_xdp_settings settings;
};

union fg_xdp_state_val {
	struct fg_xdp_state_hdr hdr;
	char name[FG_NAME_MAX];
	__u8 raw[FG_XDP_STATE_VAL_SIZE];
};
FG_ASSERT_SIZE(union fg_xdp_state_val, FG_XDP_STATE_VAL_SIZE);

/* ---------------------------------------------------------------------
 * The handle
 */

struct fg_xdp_link {
	char ifname[IF_NAMESIZE];
	int fd;
};

struct fg_xdp {
	struct floodgate_bpf *skel;
	struct fg_compiler *comp;
	struct fg_xdp_settings settings;
	char pin_dir[PATH_MAX - NAME_MAX - 2]; /* room for "/<pin name>" */
	int dir_fd;      /* holds flock(LOCK_EX) on pin_dir: one owner */
	int state_fd;
	bool adopted;
	bool mounted_bpffs; /* open mounted bpffs at FG_XDP_BPFFS */
	bool settings_changed; /* adoption took new settings from opts */
	char replaced[256]; /* why open replaced a pinned dataplane, or "" */
	int ncpus;
	unsigned int nlinks;
	struct fg_xdp_link links[FG_XDP_LINKS_MAX];
	/* Backend ids retired by a switch whose invalidation failed: written
	 * first by the next apply, before their ids can be handed out. */
	__u32 npending;
	__u32 *pending;
	/* fg_services, generation g: svc_img[g] is what the map holds when
	 * svc_known[g] (apply writes only the slots that change); svc_next
	 * is the image being built. FG_SVC_SLOTS slots each. */
	struct fg_svc_slot *svc_img[FG_GENERATIONS];
	struct fg_svc_slot *svc_next;
	bool svc_known[FG_GENERATIONS];
	/* The last check's compile of a tagged rule set (fg_ruleset.tag),
	 * whose service image is svc_next: applied as it is when the same
	 * rules come to be applied and nothing was committed since. */
	struct fg_compiled *checked;
	uint64_t checked_tag;
	/* fg_backends as written (backend_max entries) when be_known: an
	 * apply writes only the entries that change. */
	struct fg_backend *be_mirror;
	bool be_known;
};

/* path = pin_dir/name. Names are short (map names, link_<ifname>). */
static void fg_xdp_path(const struct fg_xdp *x, const char *name, char *path,
			size_t len)
{
	snprintf(path, len, "%s/%s", x->pin_dir, name);
}

/* ---------------------------------------------------------------------
 * Map helpers
 */

/*
 * Write n (key, value) pairs. Batches first (one syscall for a 64 Ki-slot
 * ring instead of 64 Ki); falls back to single updates where the kernel
 * has no batch op for the map type.
 */
static int fg_xdp_update_many(int fd, const void *keys, const void *vals,
			      __u32 n, size_t ksz, size_t vsz)
{
	LIBBPF_OPTS(bpf_map_batch_opts, bo);
	const char *k = keys, *v = vals;
	__u32 done = 0;
	int ret;

	while (done < n) {
		__u32 cnt = n - done;

		ret = bpf_map_update_batch(fd, k + done * ksz, v + done * vsz,
					   &cnt, &bo);
		if (!ret) {
			done += cnt;
			continue;
		}
		if (ret != -EINVAL && ret != -ENOTSUP && ret != -EOPNOTSUPP)
			return ret;
		break;
	}
	for (; done < n; done++) {
		ret = bpf_map_update_elem(fd, k + done * ksz, v + done * vsz,
					  BPF_ANY);
		if (ret)
			return ret;
	}
	return 0;
}

/*
 * Read entries 0..n-1 of the array map fd into vals (n values of vsz
 * bytes, vals[i] = entry i). Batches first (one syscall for the 32 Ki
 * service slots); single lookups where the kernel lacks the batch op.
 */
static int fg_xdp_read_array(int fd, __u32 n, size_t vsz, void *vals)
{
	LIBBPF_OPTS(bpf_map_batch_opts, bo);
	__u32 *keys, done = 0, in, out, i;
	char *buf, *v = vals;
	int ret = 0;

	keys = calloc(n ? n : 1, sizeof(*keys));
	buf = calloc(n ? n : 1, vsz);
	if (!keys || !buf) {
		ret = -ENOMEM;
		goto out_free;
	}
	while (done < n) {
		__u32 cnt = n - done;

		ret = bpf_map_lookup_batch(fd, done ? &in : NULL, &out,
					   keys + done, buf + done * vsz, &cnt,
					   &bo);
		if (ret && ret != -ENOENT)
			break;
		done += cnt;
		if (ret == -ENOENT || !cnt) { /* the last batch */
			ret = 0;
			break;
		}
		in = out;
	}
	if (ret == -EINVAL || ret == -ENOTSUP || ret == -EOPNOTSUPP) {
		for (i = 0, ret = 0; i < n && !ret; i++)
			ret = bpf_map_lookup_elem(fd, &i, v + i * vsz);
		goto out_free;
	}
	if (ret)
		goto out_free;
	if (done != n) {
		ret = -EIO;
		goto out_free;
	}
	for (i = 0; i < n; i++) {
		if (keys[i] >= n) {
			ret = -EIO;
			break;
		}
		memcpy(v + keys[i] * vsz, buf + i * vsz, vsz);
	}
out_free:
	free(keys);
	free(buf);
	return ret;
}

/*
 * Counter maps are per CPU by layout (fg_tables.h): CPU c's counter of
 * id is entry c * stride + id of a plain array. The program declares one
 * CPU's entries; the loader multiplies max_entries of these by the
 * possible CPUs before load.
 */
static const char *const fg_xdp_cpu_maps[] = {
	"fg_svc_stats", "fg_be_stats", "fg_limit_stats", "fg_nh_client",
};
#define FG_XDP_NCPU_MAPS (sizeof(fg_xdp_cpu_maps) / sizeof(fg_xdp_cpu_maps[0]))

/* Whether map name is one of fg_xdp_cpu_maps. */
static bool fg_xdp_is_cpu_map(const char *name)
{
	size_t i;

	for (i = 0; i < FG_XDP_NCPU_MAPS; i++)
		if (!strcmp(name, fg_xdp_cpu_maps[i]))
			return true;
	return false;
}

/* Size every per-CPU-by-layout map for x->ncpus (before load). */
static int fg_xdp_size_cpu_maps(struct fg_xdp *x)
{
	size_t i;

	for (i = 0; i < FG_XDP_NCPU_MAPS; i++) {
		const char *name = fg_xdp_cpu_maps[i];
		struct bpf_map *m;
		__u64 n;
		int ret;

		m = bpf_object__find_map_by_name(x->skel->obj, name);
		if (!m)
			return -ENOENT;
		n = (__u64)bpf_map__max_entries(m) * (__u64)x->ncpus;
		if (n > UINT32_MAX)
			return -E2BIG;
		ret = bpf_map__set_max_entries(m, (__u32)n);
		if (ret)
			return ret;
	}
	/* The config, then each CPU's drop counters (fg_tables.h). */
	return bpf_map__set_max_entries(x->skel->maps.fg_config,
					fg_config_drops_index((__u32)x->ncpus));
}

/*
 * Sum id's counters over the CPUs: entries c * stride + id of m, each n
 * u64 counters. 0, -EINVAL (id or value size out of range) or a map-read
 * error.
 */
static int fg_xdp_cpu_sum(const struct fg_xdp *x, const struct bpf_map *m,
			  __u32 stride, __u32 id, __u64 *out, unsigned int n)
{
	__u64 buf[sizeof(struct fg_counter) / sizeof(__u64)];
	int fd = bpf_map__fd(m), cpu, ret;
	unsigned int i;

	if (id >= stride || n > sizeof(buf) / sizeof(buf[0]) ||
	    bpf_map__value_size(m) != n * sizeof(__u64) ||
	    bpf_map__max_entries(m) < (__u64)stride * (__u64)x->ncpus)
		return -EINVAL;
	memset(out, 0, n * sizeof(*out));
	for (cpu = 0; cpu < x->ncpus; cpu++) {
		__u32 key = fg_cpu_index((__u32)cpu, stride, id);

		ret = bpf_map_lookup_elem(fd, &key, buf);
		if (ret)
			return ret;
		for (i = 0; i < n; i++)
			out[i] += buf[i];
	}
	return 0;
}

/* Entries zeroed per batch by fg_xdp_cpu_zero. */
#define FG_XDP_ZERO_BATCH 4096U

/* Zero every CPU's counters of each id in m (a new name starts from 0). */
static int fg_xdp_cpu_zero(const struct fg_xdp *x, const struct bpf_map *m,
			   __u32 stride, const struct fg_id_list *ids)
{
	size_t vsz = bpf_map__value_size(m);
	__u32 *keys, i, n = 0;
	int cpu, ret = 0;
	void *zero;

	if (!ids->n)
		return 0;
	keys = calloc(FG_XDP_ZERO_BATCH, sizeof(*keys));
	zero = calloc(FG_XDP_ZERO_BATCH, vsz);
	if (!keys || !zero) {
		ret = -ENOMEM;
		goto out_free;
	}
	for (i = 0; i < ids->n && !ret; i++) {
		if (ids->ids[i] >= stride) {
			ret = -EINVAL;
			break;
		}
		for (cpu = 0; cpu < x->ncpus && !ret; cpu++) {
			keys[n++] = fg_cpu_index((__u32)cpu, stride,
						 ids->ids[i]);
			if (n == FG_XDP_ZERO_BATCH) {
				ret = fg_xdp_update_many(bpf_map__fd(m), keys,
							 zero, n, sizeof(*keys),
							 vsz);
				n = 0;
			}
		}
	}
	if (!ret && n)
		ret = fg_xdp_update_many(bpf_map__fd(m), keys, zero, n,
					 sizeof(*keys), vsz);
out_free:
	free(keys);
	free(zero);
	return ret;
}

/* ---------------------------------------------------------------------
 * Services: each generation's FG_SVC_SLOTS-slot image (fg_tables.h)
 */

/*
 * Build cp's services into img (FG_SVC_SLOTS slots) with
 * fg_svc_table_put. 0, or -EEXIST / -ENOSPC with the service named in
 * err; nothing is written to the map.
 */
static int fg_xdp_svc_image(const struct fg_compiled *cp,
			    struct fg_svc_slot *img, char *err, size_t errlen)
{
	__u32 i;
	int ret;

	memset(img, 0, FG_SVC_SLOTS * sizeof(*img));
	for (i = 0; i < cp->nsvcs; i++) {
		ret = fg_svc_table_put(img, &cp->svcs[i].key, &cp->svcs[i].val);
		if (ret == -ENOSPC)
			return fg_fail(err, errlen, ret,
				       "services.%s: no free slot in fg_services among the %u its vip, port and proto may take (a rare collision); change one of them",
				       cp->svcs[i].name, FG_SVC_PROBES);
		if (ret)
			return fg_fail(err, errlen, ret,
				       "services.%s: fg_services: %s",
				       cp->svcs[i].name,
				       ret == -EEXIST ?
				       "another service has the same address, port and protocol" :
				       strerror(-ret));
	}
	return 0;
}

/*
 * Make generation gen's slots in fg_services the image img: write the
 * slots that differ from x->svc_img[gen] when that is known to be what
 * the map holds, else all of them, in batches. On success img becomes
 * x->svc_img[gen] (the buffers are swapped); on failure the generation's
 * contents are unknown until a write succeeds.
 */
static int fg_xdp_write_services(struct fg_xdp *x, __u32 gen,
				 struct fg_svc_slot **img)
{
	const struct fg_svc_slot *old = x->svc_known[gen] ? x->svc_img[gen] :
				       NULL;
	const struct fg_svc_slot *cur = *img;
	struct fg_svc_slot *vals, *t;
	__u32 *keys, i, n = 0;
	int ret;

	/* Only the first n entries are written and read: no zeroing of
	 * the table-sized buffers on every apply. */
	keys = malloc(FG_SVC_SLOTS * sizeof(*keys));
	vals = malloc(FG_SVC_SLOTS * sizeof(*vals));
	if (!keys || !vals) {
		ret = -ENOMEM;
		goto out_free;
	}
	for (i = 0; i < FG_SVC_SLOTS; i++) {
		if (old && !memcmp(&old[i], &cur[i], sizeof(cur[i])))
			continue;
		keys[n] = gen * FG_SVC_SLOTS + i;
		vals[n++] = cur[i];
	}
	x->svc_known[gen] = false;
	ret = fg_xdp_update_many(bpf_map__fd(x->skel->maps.fg_services), keys,
				 vals, n, sizeof(*keys), sizeof(*vals));
	if (!ret) {
		t = x->svc_img[gen];
		x->svc_img[gen] = *img;
		*img = t;
		x->svc_known[gen] = true;
	}
out_free:
	free(keys);
	free(vals);
	return ret;
}

/* Write the name of (kind, id) into fg_state. 0 or a map error. */
static int fg_xdp_state_put(int fd, __u32 kind, __u32 id, const char *name)
{
	struct fg_xdp_state_key k = { .kind = kind, .id = id };
	union fg_xdp_state_val v;

	memset(&v, 0, sizeof(v));
	snprintf(v.name, sizeof(v.name), "%s", name);
	return bpf_map_update_elem(fd, &k, &v, BPF_ANY);
}

/* Read the name of (kind, id) from fg_state. 0 or a map error. */
static int fg_xdp_state_name(int fd, __u32 kind, __u32 id,
			     char name[FG_NAME_MAX])
{
	struct fg_xdp_state_key k = { .kind = kind, .id = id };
	union fg_xdp_state_val v;
	int ret;

	ret = bpf_map_lookup_elem(fd, &k, &v);
	if (ret)
		return ret;
	memcpy(name, v.name, FG_NAME_MAX);
	name[FG_NAME_MAX - 1] = '\0';
	return 0;
}

/* ---------------------------------------------------------------------
 * Pins
 */

/* Pins named link_<ifname> are attachments. */
static bool fg_xdp_is_link_pin(const char *name)
{
	return !strncmp(name, FG_XDP_LINK_PREFIX, strlen(FG_XDP_LINK_PREFIX));
}

/* Whether anything exists at path. */
static bool fg_xdp_exists(const char *path)
{
	struct stat st;

	return !stat(path, &st);
}

/* Whether path is on a bpf filesystem. Returns 1, 0, or -errno. */
static int fg_xdp_on_bpffs(const char *path)
{
	struct statfs sfs;

	if (statfs(path, &sfs))
		return -errno;
	return sfs.f_type == BPF_FS_MAGIC;
}

/*
 * fg_xdp_mount_bpffs - mount bpffs on FG_XDP_BPFFS when dir lies below it
 * and nothing is mounted there yet, as systemd does at boot: a box as it
 * comes (a minimal install, a fresh mount namespace, a container) may have
 * none, and pins need one. Mode 0700 as systemd mounts it. Returns 1 when
 * it mounted, 0 when there was nothing to do, or -errno with a message.
 */
static int fg_xdp_mount_bpffs(const char *dir, char *err, size_t errlen)
{
	size_t n = strlen(FG_XDP_BPFFS);
	int rc;

	if (strncmp(dir, FG_XDP_BPFFS, n) || (dir[n] != '/' && dir[n]))
		return 0;
	rc = fg_xdp_on_bpffs(FG_XDP_BPFFS);
	if (rc < 0)
		return fg_fail(err, errlen, rc, "statfs %s: %s (is sysfs mounted "
			       "on /sys?)", FG_XDP_BPFFS, strerror(-rc));
	if (rc)
		return 0;
	if (mount("bpf", FG_XDP_BPFFS, "bpf", MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  "mode=0700"))
		return fg_fail(err, errlen, -errno, "no bpf filesystem on %s and "
			       "mounting one failed: %s", FG_XDP_BPFFS,
			       strerror(errno));
	return 1;
}

/* mkdir -p for the pin directory, which must be on bpffs. */
static int fg_xdp_mkdirs(const char *dir, char *err, size_t errlen)
{
	char buf[PATH_MAX];
	size_t i;
	int rc;

	snprintf(buf, sizeof(buf), "%s", dir);
	for (i = 1; buf[i]; i++) {
		if (buf[i] != '/')
			continue;
		buf[i] = '\0';
		if (mkdir(buf, 0700) && errno != EEXIST)
			return fg_fail(err, errlen, -errno, "mkdir %s: %s",
				       buf, strerror(errno));
		buf[i] = '/';
	}
	if (mkdir(buf, 0700) && errno != EEXIST)
		return fg_fail(err, errlen, -errno, "mkdir %s: %s", buf,
			       strerror(errno));
	rc = fg_xdp_on_bpffs(buf);
	if (rc < 0)
		return fg_fail(err, errlen, rc, "statfs %s: %s", buf,
			       strerror(-rc));
	if (!rc)
		return fg_fail(err, errlen, -ENOTSUP,
			       "%s is not on a bpf filesystem", buf);
	return 0;
}

/* Maps an older layout pinned that this one has no more: they are this
 * library's pins too, so a fresh start after an upgrade (and an unload)
 * leaves none of them behind. */
static const struct fg_xdp_retired_map {
	const char *name;
	__u32 type;
} fg_xdp_retired_maps[] = {
	/* layout <= 3: the drop counters, now in fg_config */
	{ "fg_drops", BPF_MAP_TYPE_ARRAY },
};

/* Unlink the pin of retired map r if it is that map (its name and type):
 * pin_dir may be shared, and another tool's pin of that name stays.
 * 0 or -errno. */
static int fg_xdp_unpin_retired(const struct fg_xdp *x,
				const struct fg_xdp_retired_map *r)
{
	struct bpf_map_info info;
	__u32 len = sizeof(info);
	char path[PATH_MAX];
	int fd, ret;

	fg_xdp_path(x, r->name, path, sizeof(path));
	fd = bpf_obj_get(path);
	if (fd < 0)
		return fd == -ENOENT ? 0 : fd;
	memset(&info, 0, sizeof(info));
	ret = bpf_obj_get_info_by_fd(fd, &info, &len);
	close(fd);
	if (ret == -EINVAL)
		return 0; /* not a map */
	if (ret)
		return ret;
	if (info.type != r->type || strcmp(info.name, r->name))
		return 0;
	return unlink(path) && errno != ENOENT ? -errno : 0;
}

/*
 * Remove the pins this library owns in the directory: the object's maps,
 * those of older layouts (fg_xdp_retired_maps), fg_state and link_* (a
 * link whose last holder was the pin detaches). Nothing else is touched,
 * in case pin_dir is shared.
 */
static int fg_xdp_remove_pins(struct fg_xdp *x, struct bpf_object *obj)
{
	char path[PATH_MAX];
	struct bpf_map *m;
	struct dirent *de;
	size_t i;
	DIR *d;
	int ret = 0;

	if (obj) {
		bpf_object__for_each_map(m, obj) {
			if (bpf_map__is_internal(m))
				continue;
			fg_xdp_path(x, bpf_map__name(m), path, sizeof(path));
			if (unlink(path) && errno != ENOENT && !ret)
				ret = -errno;
		}
	}
	for (i = 0; i < FG_ARRAY_SIZE(fg_xdp_retired_maps); i++) {
		int r = fg_xdp_unpin_retired(x, &fg_xdp_retired_maps[i]);

		if (r && !ret)
			ret = r;
	}
	fg_xdp_path(x, FG_XDP_STATE_NAME, path, sizeof(path));
	if (unlink(path) && errno != ENOENT && !ret)
		ret = -errno;
	d = opendir(x->pin_dir);
	if (!d)
		return errno == ENOENT ? ret : -errno;
	while ((de = readdir(d))) {
		if (!fg_xdp_is_link_pin(de->d_name))
			continue;
		fg_xdp_path(x, de->d_name, path, sizeof(path));
		if (unlink(path) && errno != ENOENT && !ret)
			ret = -errno;
	}
	closedir(d);
	return ret;
}

/* How many link_* pins the directory holds (0 if it cannot be read). */
static unsigned int fg_xdp_count_link_pins(const struct fg_xdp *x)
{
	struct dirent *de;
	unsigned int n = 0;
	DIR *d;

	d = opendir(x->pin_dir);
	if (!d)
		return 0;
	while ((de = readdir(d)))
		n += fg_xdp_is_link_pin(de->d_name);
	closedir(d);
	return n;
}

/* Open every link_* pin into x->links (adoption). */
static int fg_xdp_open_link_pins(struct fg_xdp *x, char *err, size_t errlen)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d;
	int ret = 0;

	d = opendir(x->pin_dir);
	if (!d)
		return fg_fail(err, errlen, -errno, "opendir %s: %s",
			       x->pin_dir, strerror(errno));
	while ((de = readdir(d))) {
		const char *ifname = de->d_name + strlen(FG_XDP_LINK_PREFIX);
		struct fg_xdp_link *l;
		int fd;

		if (!fg_xdp_is_link_pin(de->d_name))
			continue;
		if (x->nlinks == FG_XDP_LINKS_MAX || !*ifname ||
		    strlen(ifname) >= IF_NAMESIZE) {
			ret = fg_fail(err, errlen, -EINVAL,
				      "%s/%s: too many links or a bad name",
				      x->pin_dir, de->d_name);
			break;
		}
		fg_xdp_path(x, de->d_name, path, sizeof(path));
		fd = bpf_obj_get(path);
		if (fd < 0) {
			ret = fg_fail(err, errlen, fd, "open %s: %s", path,
				      strerror(-fd));
			break;
		}
		l = &x->links[x->nlinks++];
		snprintf(l->ifname, sizeof(l->ifname), "%s", ifname);
		l->fd = fd;
	}
	closedir(d);
	return ret;
}

/* ---------------------------------------------------------------------
 * Settings
 */

/* Whether n bytes at p are all zero (an option left unset). */
static bool fg_xdp_zero(const void *p, size_t n)
{
	const __u8 *b = p;
	size_t i;

	for (i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

/*
 * The first IPv4 and global IPv6 address of ifname (or of the first
 * non-loopback interface that has an address). Leaves the outputs
 * untouched where none is found: a box without addresses still loads.
 */
static void fg_xdp_iface_addrs(const char *ifname, __be32 *v4, __be32 v6[4])
{
	struct ifaddrs *ifs, *i;
	const char *pick = ifname;
	bool got4 = false, got6 = false;

	if (getifaddrs(&ifs))
		return;
	for (i = ifs; i && !pick; i = i->ifa_next) {
		if (!i->ifa_addr || (i->ifa_flags & IFF_LOOPBACK))
			continue;
		if (i->ifa_addr->sa_family == AF_INET ||
		    i->ifa_addr->sa_family == AF_INET6)
			pick = i->ifa_name;
	}
	for (i = ifs; i && pick; i = i->ifa_next) {
		if (!i->ifa_addr || strcmp(i->ifa_name, pick))
			continue;
		if (i->ifa_addr->sa_family == AF_INET && !got4) {
			const struct sockaddr_in *s = (const void *)i->ifa_addr;

			*v4 = s->sin_addr.s_addr;
			got4 = true;
		} else if (i->ifa_addr->sa_family == AF_INET6 && !got6) {
			const struct sockaddr_in6 *s = (const void *)i->ifa_addr;

			if (IN6_IS_ADDR_LINKLOCAL(&s->sin6_addr) ||
			    IN6_IS_ADDR_LOOPBACK(&s->sin6_addr))
				continue;
			memcpy(v6, &s->sin6_addr, 16);
			got6 = true;
		}
	}
	freeifaddrs(ifs);
}

/*
 * Settings of a fresh load: opts where given, else a random seed,
 * interface addresses and the program's compiled-in defaults.
 * 0, or a negative errno when getrandom fails.
 */
static int fg_xdp_settings_from_opts(struct fg_xdp_settings *s,
				     const struct fg_xdp_opts *o,
				     const struct floodgate_bpf *skel,
				     char *err, size_t errlen)
{
	__be32 if4 = 0, if6[4] = { 0 };

	memset(s, 0, sizeof(*s));
	s->seed = o->seed;
	if (fg_xdp_zero(&s->seed, sizeof(s->seed))) {
		/* All of it: k0, k1 and every lane key the hash. */
		ssize_t n = getrandom(&s->seed, sizeof(s->seed), 0);

		if (n != (ssize_t)sizeof(s->seed))
			return fg_fail(err, errlen, n < 0 ? -errno : -EIO,
				       "getrandom: no hash seed");
	}
	fg_xdp_iface_addrs(o->addr_ifname, &if4, if6);
	s->tunnel_src4 = o->tunnel_src4.s_addr ? o->tunnel_src4.s_addr : if4;
	if (fg_xdp_zero(&o->tunnel_src6, 16))
		memcpy(s->tunnel_src6, if6, 16);
	else
		memcpy(s->tunnel_src6, &o->tunnel_src6, 16);
	s->snat4 = o->snat4.s_addr ? o->snat4.s_addr : s->tunnel_src4;
	if (fg_xdp_zero(&o->snat6, 16))
		memcpy(s->snat6, s->tunnel_src6, 16);
	else
		memcpy(s->snat6, &o->snat6, 16);
	/* Zero keeps the program's compiled-in default, so the defaults
	 * live in one place (floodgate.bpf.c). */
	s->ct_timeout_tcp_ns = o->ct_timeout_tcp_ns ? o->ct_timeout_tcp_ns :
			       skel->rodata->fg_ct_timeout_tcp_ns;
	s->ct_timeout_udp_ns = o->ct_timeout_udp_ns ? o->ct_timeout_udp_ns :
			       skel->rodata->fg_ct_timeout_udp_ns;
	s->gue_port = o->gue_port ? o->gue_port :
		      fg_ntohs(skel->rodata->fg_gue_port);
	return 0;
}

/* Settings into the skeleton's rodata (before load). */
static void fg_xdp_rodata_set(struct floodgate_bpf *skel,
			      const struct fg_xdp_settings *s)
{
	skel->rodata->fg_seed = s->seed;
	skel->rodata->fg_tunnel_src4 = s->tunnel_src4;
	memcpy(skel->rodata->fg_tunnel_src6, s->tunnel_src6, 16);
	skel->rodata->fg_snat4 = s->snat4;
	memcpy(skel->rodata->fg_snat6, s->snat6, 16);
	skel->rodata->fg_ct_timeout_tcp_ns = s->ct_timeout_tcp_ns;
	skel->rodata->fg_ct_timeout_udp_ns = s->ct_timeout_udp_ns;
	skel->rodata->fg_gue_port = fg_htons(s->gue_port);
}

/* ---------------------------------------------------------------------
 * Open: fresh load
 */

/*
 * Entries of a conntrack table asked for as want (0 = dflt): rounded up
 * to a power of two of at least FG_CT_WAYS, as the program masks flow
 * hashes with slots - 1. 0 when that does not fit in 32 bits.
 */
static __u32 fg_xdp_ct_slots(__u32 want, __u32 dflt)
{
	__u32 n = FG_CT_WAYS;

	if (!want)
		want = dflt;
	while (n < want) {
		if (n & 0x80000000U)
			return 0;
		n <<= 1;
	}
	return n;
}

/*
 * The set-associative tables' final sizes (fresh, or taken from the pins)
 * into rodata fg_ct_lines / fg_ct_syn_lines / fg_bucket_slots, before
 * load. -EINVAL when one is not a power of two (of lines; of at least
 * FG_CT_WAYS entries for fg_buckets).
 */
static int fg_xdp_ct_rodata(struct fg_xdp *x, char *err, size_t errlen)
{
	__u32 ct = bpf_map__max_entries(x->skel->maps.fg_ct);
	__u32 syn = bpf_map__max_entries(x->skel->maps.fg_ct_syn);
	__u32 bkt = bpf_map__max_entries(x->skel->maps.fg_buckets);

	if (!ct || (ct & (ct - 1)) || !syn || (syn & (syn - 1)) ||
	    bkt < FG_CT_WAYS || (bkt & (bkt - 1)))
		return fg_fail(err, errlen, -EINVAL,
			       "fg_ct has %u lines, fg_ct_syn %u, fg_buckets %u entries: each must be a power of two, fg_buckets at least %u",
			       ct, syn, bkt, FG_CT_WAYS);
	x->skel->rodata->fg_ct_lines = ct;
	x->skel->rodata->fg_ct_syn_lines = syn;
	x->skel->rodata->fg_bucket_slots = bkt;
	return 0;
}

/* Give every shared map its pin path: reuse if pinned, else pin. */
static int fg_xdp_pin_paths(struct fg_xdp *x)
{
	char path[PATH_MAX];
	struct bpf_map *m;
	int ret;

	bpf_object__for_each_map(m, x->skel->obj) {
		/* .rodata is per program instance, never shared. */
		if (bpf_map__is_internal(m))
			continue;
		fg_xdp_path(x, bpf_map__name(m), path, sizeof(path));
		ret = bpf_map__set_pin_path(m, path);
		if (ret)
			return ret;
	}
	return 0;
}

/* Create fg_state with the settings header and pin it. */
static int fg_xdp_state_create(struct fg_xdp *x, char *err, size_t errlen)
{
	struct fg_xdp_state_key k = { .kind = FG_XDP_STATE_HDR };
	union fg_xdp_state_val v;
	char path[PATH_MAX];
	int fd, ret;

	fd = bpf_map_create(BPF_MAP_TYPE_HASH, FG_XDP_STATE_NAME, sizeof(k),
			    sizeof(v), FG_XDP_STATE_MAX, NULL);
	if (fd < 0)
		return fg_fail(err, errlen, fd, "create %s: %s",
			       FG_XDP_STATE_NAME, strerror(-fd));
	memset(&v, 0, sizeof(v));
	v.hdr.magic = FG_XDP_STATE_MAGIC;
	v.hdr.layout = FG_XDP_STATE_LAYOUT;
	v.hdr.settings = x->settings;
	ret = bpf_map_update_elem(fd, &k, &v, BPF_ANY);
	if (ret) {
		close(fd);
		return fg_fail(err, errlen, ret, "write %s: %s",
			       FG_XDP_STATE_NAME, strerror(-ret));
	}
	fg_xdp_path(x, FG_XDP_STATE_NAME, path, sizeof(path));
	ret = bpf_obj_pin(fd, path);
	if (ret) {
		close(fd);
		return fg_fail(err, errlen, ret, "pin %s: %s", path,
			       strerror(-ret));
	}
	x->state_fd = fd;
	return 0;
}

/* A compiler sized by the loaded maps. NULL on allocation failure. */
static struct fg_compiler *fg_xdp_compiler_new(const struct fg_xdp *x)
{
	struct fg_compile_opts co = { 0 };
	__u32 be = bpf_map__max_entries(x->skel->maps.fg_backends);
	/* Per CPU by layout: one CPU's share is the id range. */
	__u32 sv = bpf_map__max_entries(x->skel->maps.fg_svc_stats) /
		   (__u32)x->ncpus;

	/* Ids index these arrays: never hand out one beyond them. */
	co.ring_slots = bpf_map__max_entries(x->skel->maps.fg_ring);
	co.backend_max = be < FG_BACKEND_MAX ? be : FG_BACKEND_MAX;
	co.svc_max = sv < FG_SVC_MAX ? sv : FG_SVC_MAX;
	return fg_compiler_new(&co);
}

/* The entries of the tables whose sizes opts set. */
struct fg_xdp_sizes {
	__u32 ring, ct_lines, syn_lines, nat_syn, nat, buckets;
};

/* The sizes opts ask for (0 = the defaults). 0, or -EINVAL when one does
 * not fit. */
static int fg_xdp_sizes_want(const struct fg_xdp_opts *o,
			     struct fg_xdp_sizes *z)
{
	__u32 ct = fg_xdp_ct_slots(o->ct_max, FG_CT_DEFAULT);
	__u32 syn = fg_xdp_ct_slots(o->ct_syn_max, FG_CT_SYN_DEFAULT);

	z->ring = o->ring_slots ? o->ring_slots : FG_RING_SLOTS_DEFAULT;
	/* Connection tables: lines of FG_CT_WAYS flows. */
	z->ct_lines = ct / FG_CT_WAYS;
	z->syn_lines = syn / FG_CT_WAYS;
	/* NAT flows' reverse entries during the handshake: as many as
	 * fg_ct_syn holds handshakes. */
	z->nat_syn = syn;
	z->nat = o->nat_max ? o->nat_max : FG_NAT_DEFAULT;
	z->buckets = fg_xdp_ct_slots(o->buckets_max, FG_BUCKETS_DEFAULT);
	return ct && syn && z->buckets ? 0 : -EINVAL;
}

/*
 * Adoption with opts->adopt_settings: the pinned tables' sizes against
 * those opts ask for. Returns 0 when they agree, or -EEXIST with a
 * message naming the first that differs (other than what the pins hold
 * means new tables: every tracked flow would be lost).
 */
static int fg_xdp_sizes_check(struct fg_xdp *x, const struct fg_xdp_opts *o,
			      char *err, size_t errlen)
{
	static const struct {
		const char *map, *setting;
		size_t off;
		__u32 per; /* entries per unit of the setting */
	} t[] = {
		/* The setting: the boot file's name for opts' field. */
		{ "fg_ring", "ring_slots", offsetof(struct fg_xdp_sizes, ring), 1 },
		{ "fg_ct", "conntrack.established",
		  offsetof(struct fg_xdp_sizes, ct_lines), FG_CT_WAYS },
		{ "fg_ct_syn", "conntrack.syn",
		  offsetof(struct fg_xdp_sizes, syn_lines), FG_CT_WAYS },
		{ "fg_nat", "conntrack.nat", offsetof(struct fg_xdp_sizes, nat), 1 },
		{ "fg_buckets", "limit_buckets",
		  offsetof(struct fg_xdp_sizes, buckets), 1 },
	};
	struct fg_xdp_sizes z;
	char path[PATH_MAX];
	size_t i;
	int fd, ret;

	if (fg_xdp_sizes_want(o, &z))
		return fg_fail(err, errlen, -EINVAL, "bad table sizes");
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		__u32 want = *(const __u32 *)((const char *)&z + t[i].off);
		struct bpf_map_info info;
		__u32 len = sizeof(info);

		fg_xdp_path(x, t[i].map, path, sizeof(path));
		fd = bpf_obj_get(path);
		if (fd < 0)
			continue; /* new in this build: created anew */
		memset(&info, 0, sizeof(info));
		ret = bpf_obj_get_info_by_fd(fd, &info, &len);
		close(fd);
		if (ret)
			return fg_fail(err, errlen, ret, "%s: %s", path,
				       strerror(-ret));
		if (info.max_entries != want)
			return fg_fail(err, errlen, -EEXIST,
				       "dataplane.%s asks for %llu entries, the "
				       "running dataplane has %llu: a new size "
				       "means new tables, and every tracked "
				       "connection would be lost; restart with "
				       "--replace-dataplane to do that",
				       t[i].setting,
				       (unsigned long long)want * t[i].per,
				       (unsigned long long)info.max_entries *
				       t[i].per);
	}
	return 0;
}

/* Write x->settings into fg_state's header (adoption with new settings). */
static int fg_xdp_state_write_hdr(struct fg_xdp *x)
{
	struct fg_xdp_state_key k = { .kind = FG_XDP_STATE_HDR };
	union fg_xdp_state_val v;
	int ret;

	ret = bpf_map_lookup_elem(x->state_fd, &k, &v);
	if (ret)
		return ret;
	v.hdr.settings = x->settings;
	return bpf_map_update_elem(x->state_fd, &k, &v, BPF_ANY);
}

/* Fresh load: settings, sizes, pin paths, load, fg_state, compiler. */
static int fg_xdp_load_fresh(struct fg_xdp *x, const struct fg_xdp_opts *o,
			     char *err, size_t errlen)
{
	/* The skeleton's maps struct is anonymous. */
	__typeof__(x->skel->maps) *mp = &x->skel->maps;
	struct fg_xdp_sizes z;
	int ret;

	ret = fg_xdp_settings_from_opts(&x->settings, o, x->skel, err, errlen);
	if (ret)
		return ret;
	fg_xdp_rodata_set(x->skel, &x->settings);
	if (fg_xdp_sizes_want(o, &z) ||
	    bpf_map__set_max_entries(mp->fg_ring, z.ring) ||
	    bpf_map__set_max_entries(mp->fg_ct, z.ct_lines) ||
	    bpf_map__set_max_entries(mp->fg_ct_syn, z.syn_lines) ||
	    bpf_map__set_max_entries(mp->fg_nat_syn, z.nat_syn) ||
	    bpf_map__set_max_entries(mp->fg_nat, z.nat) ||
	    bpf_map__set_max_entries(mp->fg_buckets, z.buckets))
		return fg_fail(err, errlen, -EINVAL, "bad table sizes");
	ret = fg_xdp_ct_rodata(x, err, errlen);
	if (ret)
		return ret;
	ret = fg_xdp_pin_paths(x);
	if (ret)
		return fg_fail(err, errlen, ret, "pin paths: %s",
			       strerror(-ret));
	ret = floodgate_bpf__load(x->skel);
	if (ret)
		return fg_fail(err, errlen, ret,
			       "load floodgate.bpf: %s (libbpf output has the verifier log)",
			       strerror(-ret));
	ret = fg_xdp_state_create(x, err, errlen);
	if (ret)
		return ret;
	/* New maps are zeroed: both generations' service slots are empty,
	 * as x->svc_img says. */
	x->svc_known[0] = x->svc_known[1] = true;
	x->comp = fg_xdp_compiler_new(x);
	if (!x->comp)
		return fg_fail(err, errlen, -ENOMEM, "compiler: out of memory");
	return 0;
}

/* ---------------------------------------------------------------------
 * Open: adoption
 */

/* The settings from a pinned fg_state; -EINVAL if it is not ours,
 * -EPROTO if another build's layout wrote it. */
static int fg_xdp_state_read_hdr(int fd, struct fg_xdp_settings *s)
{
	struct fg_xdp_state_key k = { .kind = FG_XDP_STATE_HDR };
	union fg_xdp_state_val v;
	struct bpf_map_info info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len) ||
	    info.type != BPF_MAP_TYPE_HASH || info.key_size != sizeof(k) ||
	    info.value_size != sizeof(v))
		return -EINVAL;
	if (bpf_map_lookup_elem(fd, &k, &v) ||
	    v.hdr.magic != FG_XDP_STATE_MAGIC)
		return -EINVAL;
	if (v.hdr.layout != FG_XDP_STATE_LAYOUT)
		return -EPROTO;
	*s = v.hdr.settings;
	return 0;
}

/* Sizes come from the pins: libbpf reuses a pinned map only when its
 * definition matches, max_entries included. The maps whose layout the
 * program indexes by constants (per CPU counters, the service slots) must
 * have the sizes this build and these CPUs give them. */
static int fg_xdp_sizes_from_pins(struct fg_xdp *x, char *err, size_t errlen)
{
	char path[PATH_MAX];
	struct bpf_map *m;
	int fd, ret;

	bpf_object__for_each_map(m, x->skel->obj) {
		__u32 want = bpf_map__max_entries(m); /* per CPU maps: sized */
		struct bpf_map_info info;
		__u32 len = sizeof(info);

		if (bpf_map__is_internal(m))
			continue;
		fg_xdp_path(x, bpf_map__name(m), path, sizeof(path));
		fd = bpf_obj_get(path);
		if (fd < 0)
			continue; /* a map new in this build: created anew */
		memset(&info, 0, sizeof(info));
		ret = bpf_obj_get_info_by_fd(fd, &info, &len);
		close(fd);
		if (ret)
			return fg_fail(err, errlen, ret, "%s: %s", path,
				       strerror(-ret));
		if ((fg_xdp_is_cpu_map(bpf_map__name(m)) ||
		     m == x->skel->maps.fg_config ||
		     m == x->skel->maps.fg_services) &&
		    info.max_entries != want)
			return fg_fail(err, errlen, -EINVAL,
				       "%s has %u entries, this build wants %u (%d CPUs); open with fresh to start over",
				       path, info.max_entries, want,
				       x->ncpus);
		ret = bpf_map__set_max_entries(m, info.max_entries);
		/* The kernel adds BPF_F_RDONLY_PROG to every devmap it
		 * creates, so the pinned one never matches the object's
		 * definition (libbpf's reuse check compares flags); say the
		 * same up front. Other flags must still match. */
		if (!ret && (info.type == BPF_MAP_TYPE_DEVMAP ||
			     info.type == BPF_MAP_TYPE_DEVMAP_HASH))
			ret = bpf_map__set_map_flags(m, bpf_map__map_flags(m) |
						     (info.map_flags &
						      BPF_F_RDONLY_PROG));
		if (ret)
			return fg_fail(err, errlen, ret, "%s: size: %s",
				       path, strerror(-ret));
	}
	return 0;
}

/* Everything the rebuild reads, freed in one place. */
struct fg_xdp_readback {
	struct fg_adopt_svc *svcs;
	char (*svc_names)[FG_NAME_MAX];
	struct fg_adopt_backend *bes;
	struct fg_adopt_limit *lims;
	char (*lim_names)[FG_NAME_MAX];
};

/* Free a readback (its pointers may be NULL). */
static void fg_xdp_readback_free(struct fg_xdp_readback *r)
{
	free(r->svcs);
	free(r->svc_names);
	free(r->bes);
	free(r->lims);
	free(r->lim_names);
}

/* Note limit id as live (once), with its name from fg_state. */
static void fg_xdp_add_limit(struct fg_xdp *x, struct fg_xdp_readback *r,
			     struct fg_adopt *a, __u8 *seen, __u16 id)
{
	if (id >= FG_LIMIT_MAX || seen[id])
		return;
	seen[id] = 1;
	r->lims[a->nlimits].id = id;
	if (fg_xdp_state_name(x->state_fd, FG_XDP_STATE_LIMIT, id,
			      r->lim_names[a->nlimits]) == 0)
		r->lims[a->nlimits].name = r->lim_names[a->nlimits];
	a->nlimits++;
}

/*
 * Every valid fg_backends entry into r->bes. One batch read instead of
 * 64 Ki lookups (seconds at start-up otherwise); single lookups where
 * the kernel lacks the batch op.
 */
static int fg_xdp_read_backends(struct fg_xdp *x, struct fg_xdp_readback *r,
				struct fg_adopt *a)
{
	const struct bpf_map *m = x->skel->maps.fg_backends;
	__u32 max = bpf_map__max_entries(m), i, n = max, out = 0;
	LIBBPF_OPTS(bpf_map_batch_opts, bo);
	struct fg_backend *vals;
	__u32 *keys;
	int fd = bpf_map__fd(m), ret;

	keys = calloc(max, sizeof(*keys));
	vals = calloc(max, sizeof(*vals));
	if (!keys || !vals) {
		ret = -ENOMEM;
		goto out_free;
	}
	ret = bpf_map_lookup_batch(fd, NULL, &out, keys, vals, &n, &bo);
	if (ret == -ENOENT) /* the last batch: n holds its count */
		ret = 0;
	if (ret == -EINVAL || ret == -ENOTSUP || ret == -EOPNOTSUPP) {
		for (n = 0, i = 0; i < max; i++) {
			ret = bpf_map_lookup_elem(fd, &i, &vals[n]);
			if (ret)
				goto out_free;
			keys[n++] = i;
		}
	} else if (ret) {
		goto out_free;
	}
	for (i = 0; i < n; i++) {
		if (!(vals[i].flags & FG_BE_F_VALID))
			continue;
		r->bes[a->nbackends].id = keys[i];
		r->bes[a->nbackends].val = vals[i];
		a->nbackends++;
	}
out_free:
	free(keys);
	free(vals);
	return ret;
}

/*
 * Both generations' fg_services slots into x->svc_img (so the next apply
 * writes only what changes): one batch read of the whole array.
 */
static int fg_xdp_read_services(struct fg_xdp *x)
{
	struct fg_svc_slot *all;
	__u32 g;
	int ret;

	all = calloc((size_t)FG_SVC_SLOTS * FG_GENERATIONS, sizeof(*all));
	if (!all)
		return -ENOMEM;
	ret = fg_xdp_read_array(bpf_map__fd(x->skel->maps.fg_services),
				FG_SVC_SLOTS * FG_GENERATIONS, sizeof(*all),
				all);
	for (g = 0; !ret && g < FG_GENERATIONS; g++) {
		memcpy(x->svc_img[g], all + (size_t)g * FG_SVC_SLOTS,
		       FG_SVC_SLOTS * sizeof(*all));
		x->svc_known[g] = true;
	}
	free(all);
	return ret;
}

/*
 * Rebuild the compiler from the active generation: fg_config for the
 * generation and global limits, its fg_services slots in use, every valid
 * fg_backends entry, the limit ids the lists name, names from fg_state.
 */
static int fg_xdp_rebuild(struct fg_xdp *x, char *err, size_t errlen)
{
	const __typeof__(x->skel->maps) *mp = &x->skel->maps;
	__u32 nbe_max = bpf_map__max_entries(mp->fg_backends), zero = 0, i, j;
	struct fg_xdp_readback r = { 0 };
	struct fg_adopt a = { 0 };
	__u8 lim_seen[FG_LIMIT_MAX] = { 0 };
	const struct fg_svc_slot *tab;
	struct fg_config cfg;
	int ret;

	ret = bpf_map_lookup_elem(bpf_map__fd(mp->fg_config), &zero, &cfg);
	if (ret)
		return fg_fail(err, errlen, ret, "read fg_config: %s",
			       strerror(-ret));
	ret = fg_xdp_read_services(x);
	if (ret)
		return fg_fail(err, errlen, ret, "read fg_services: %s",
			       strerror(-ret));
	ret = -ENOMEM;
	r.svcs = calloc(FG_SVC_SLOTS, sizeof(*r.svcs));
	r.svc_names = calloc(FG_SVC_SLOTS, sizeof(*r.svc_names));
	r.bes = calloc(nbe_max + 1, sizeof(*r.bes));
	r.lims = calloc(FG_LIMIT_MAX, sizeof(*r.lims));
	r.lim_names = calloc(FG_LIMIT_MAX, sizeof(*r.lim_names));
	if (!r.svcs || !r.svc_names || !r.bes || !r.lims || !r.lim_names)
		goto out_free;

	a.gen = cfg.gen;
	a.version = cfg.version;
	for (i = 0; i < cfg.nglobal_limits && i < FG_GLOBAL_LIMITS_MAX; i++)
		fg_xdp_add_limit(x, &r, &a, lim_seen, cfg.global_limits[i]);
	tab = x->svc_img[cfg.gen & 1];
	for (i = 0; i < FG_SVC_SLOTS; i++) {
		struct fg_adopt_svc *s = &r.svcs[a.nsvcs];

		if (!tab[i].key.family)
			continue;
		s->key = tab[i].key;
		s->key.gen = cfg.gen; /* slots leave it 0 */
		s->val = tab[i].svc;
		if (fg_xdp_state_name(x->state_fd, FG_XDP_STATE_SVC, s->val.id,
				      r.svc_names[a.nsvcs]) == 0)
			s->name = r.svc_names[a.nsvcs];
		for (j = 0; j < s->val.nlimits && j < FG_SVC_LIMITS_MAX; j++)
			fg_xdp_add_limit(x, &r, &a, lim_seen, s->val.limits[j]);
		a.nsvcs++;
	}
	ret = fg_xdp_read_backends(x, &r, &a);
	if (ret) {
		fg_fail(err, errlen, ret, "read fg_backends: %s",
			strerror(-ret));
		goto out_free;
	}
	a.svcs = r.svcs;
	a.backends = r.bes;
	a.limits = r.lims;
	ret = fg_compiler_adopt(x->comp, &a, err, errlen);
out_free:
	if (ret == -ENOMEM && err && errlen)
		fg_fail(err, errlen, ret, "adopt: out of memory");
	fg_xdp_readback_free(&r);
	return ret;
}

/*
 * Adoption with opts->adopt_settings: the tables must keep their sizes
 * (else -EEXIST, see fg_xdp_sizes_check); the settings that keep the
 * flows (tunnel and SNAT addresses, GUE port, timeouts) come from opts
 * as for a fresh load, only the hash seed stays the pinned one (every
 * flow's place depends on it). x->settings_changed says whether they
 * differ from the pinned ones. 0 or -errno with a message.
 */
static int fg_xdp_adopt_settings(struct fg_xdp *x, const struct fg_xdp_opts *o,
				 char *err, size_t errlen)
{
	struct fg_xdp_opts oo = *o;
	struct fg_xdp_settings want;
	int ret;

	ret = fg_xdp_sizes_check(x, o, err, errlen);
	if (ret)
		return ret;
	oo.seed = x->settings.seed;
	ret = fg_xdp_settings_from_opts(&want, &oo, x->skel, err, errlen);
	if (ret)
		return ret;
	if (memcmp(&want, &x->settings, sizeof(want))) {
		x->settings = want;
		x->settings_changed = true;
	}
	return 0;
}

/*
 * Adoption: settings were read from fg_state; sizes from the pins, load
 * against the pinned maps, open the link pins, rebuild the compiler.
 */
static int fg_xdp_load_adopt(struct fg_xdp *x, char *err, size_t errlen)
{
	int ret;

	fg_xdp_rodata_set(x->skel, &x->settings);
	ret = fg_xdp_sizes_from_pins(x, err, errlen);
	if (ret)
		return ret;
	ret = fg_xdp_ct_rodata(x, err, errlen);
	if (ret)
		return ret;
	ret = fg_xdp_pin_paths(x);
	if (ret)
		return fg_fail(err, errlen, ret, "pin paths: %s",
			       strerror(-ret));
	ret = floodgate_bpf__load(x->skel);
	if (ret)
		return fg_fail(err, errlen, ret,
			       "load floodgate.bpf against the pinned maps in %s: %s",
			       x->pin_dir, strerror(-ret));
	ret = fg_xdp_open_link_pins(x, err, errlen);
	if (ret)
		return ret;
	x->comp = fg_xdp_compiler_new(x);
	if (!x->comp)
		return fg_fail(err, errlen, -ENOMEM, "compiler: out of memory");
	return fg_xdp_rebuild(x, err, errlen);
}

/* ---------------------------------------------------------------------
 * Open and close
 */

/* x->pin_dir from opts: pin_dir, or FG_XDP_PIN_ROOT/<node or host>. */
static int fg_xdp_set_dir(struct fg_xdp *x, const struct fg_xdp_opts *o,
			  char *err, size_t errlen)
{
	char host[HOST_NAME_MAX + 1];
	const char *node = o->node;
	size_t n;

	if (o->pin_dir) {
		n = strlen(o->pin_dir);
		while (n > 1 && o->pin_dir[n - 1] == '/')
			n--;
		if (!n || n >= sizeof(x->pin_dir))
			return fg_fail(err, errlen, -EINVAL,
				       "pin_dir: empty or too long");
		memcpy(x->pin_dir, o->pin_dir, n);
		x->pin_dir[n] = '\0';
		return 0;
	}
	if (!node) {
		if (gethostname(host, sizeof(host)))
			return fg_fail(err, errlen, -errno,
				       "gethostname: %s", strerror(errno));
		host[sizeof(host) - 1] = '\0';
		node = host;
	}
	if (!*node || strchr(node, '/') || !strcmp(node, ".") ||
	    !strcmp(node, "..") || strlen(node) > NAME_MAX)
		return fg_fail(err, errlen, -EINVAL,
			       "node name \"%s\" cannot name a directory",
			       node);
	snprintf(x->pin_dir, sizeof(x->pin_dir), "%s/%s", FG_XDP_PIN_ROOT,
		 node);
	return 0;
}

struct fg_xdp *fg_xdp_open(const struct fg_xdp_opts *opts, int *errp,
			   char *err, size_t errlen)
{
	const struct fg_xdp_opts none = { 0 };
	const struct fg_xdp_opts *o = opts ? opts : &none;
	char path[PATH_MAX];
	struct fg_xdp *x;
	bool created = false;
	int ret, sfd;

	if (err && errlen)
		err[0] = '\0';
	x = calloc(1, sizeof(*x));
	if (!x) {
		ret = fg_fail(err, errlen, -ENOMEM, "out of memory");
		goto err_out;
	}
	x->state_fd = -1;
	x->dir_fd = -1;
	ret = libbpf_num_possible_cpus();
	if (ret < 0) {
		fg_fail(err, errlen, ret, "possible CPUs: %s", strerror(-ret));
		goto err_free_x;
	}
	x->ncpus = ret;
	x->svc_img[0] = calloc(FG_SVC_SLOTS, sizeof(struct fg_svc_slot));
	x->svc_img[1] = calloc(FG_SVC_SLOTS, sizeof(struct fg_svc_slot));
	x->svc_next = calloc(FG_SVC_SLOTS, sizeof(struct fg_svc_slot));
	if (!x->svc_img[0] || !x->svc_img[1] || !x->svc_next) {
		ret = fg_fail(err, errlen, -ENOMEM, "out of memory");
		goto err_free_x;
	}
	ret = fg_xdp_set_dir(x, o, err, errlen);
	if (ret)
		goto err_free_x;
	ret = fg_xdp_mount_bpffs(x->pin_dir, err, errlen);
	if (ret < 0)
		goto err_free_x;
	x->mounted_bpffs = ret == 1;
	ret = fg_xdp_mkdirs(x->pin_dir, err, errlen);
	if (ret)
		goto err_free_x;
	/* Two loaders on one dataplane would each switch generations under
	 * the other's feet. The lock dies with the process (kill -9 too). */
	x->dir_fd = open(x->pin_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (x->dir_fd < 0) {
		ret = fg_fail(err, errlen, -errno, "open %s: %s",
			      x->pin_dir, strerror(errno));
		goto err_free_x;
	}
	if (flock(x->dir_fd, LOCK_EX | LOCK_NB)) {
		ret = fg_fail(err, errlen, errno == EWOULDBLOCK ? -EBUSY :
			      -errno, "%s: another loader holds it",
			      x->pin_dir);
		goto err_close_dir;
	}

	x->skel = floodgate_bpf__open();
	if (!x->skel) {
		ret = fg_fail(err, errlen, -errno, "open floodgate.bpf: %s",
			      strerror(errno));
		goto err_close_dir;
	}
	/* Pinned sizes override these on adoption (and must agree). */
	ret = fg_xdp_size_cpu_maps(x);
	if (ret) {
		fg_fail(err, errlen, ret,
			"size the per-CPU maps for %d CPUs: %s", x->ncpus,
			strerror(-ret));
		goto err_destroy_skel;
	}

	/* Adopt, refuse, or start clean. */
	fg_xdp_path(x, FG_XDP_STATE_NAME, path, sizeof(path));
	sfd = fg_xdp_exists(path) ? bpf_obj_get(path) : -ENOENT;
	if (!o->fresh && fg_xdp_count_link_pins(x)) {
		ret = sfd < 0 ? sfd : fg_xdp_state_read_hdr(sfd, &x->settings);
		if (ret) {
			if (sfd >= 0)
				close(sfd);
			if (ret == -EPROTO)
				ret = fg_fail(err, errlen, -EBUSY,
					      "%s holds a dataplane of another build (%s layout is not %u); open with fresh to start over",
					      x->pin_dir, FG_XDP_STATE_NAME,
					      FG_XDP_STATE_LAYOUT);
			else
				ret = fg_fail(err, errlen, -EBUSY,
					      "%s has attached links but no usable %s; open with fresh to start over",
					      x->pin_dir, FG_XDP_STATE_NAME);
			goto err_destroy_skel;
		}
		x->state_fd = sfd;
		x->adopted = true;
		if (o->adopt_settings) {
			ret = fg_xdp_adopt_settings(x, o, err, errlen);
			if (ret == -EEXIST && o->replace) {
				/* The operator asked for new tables. */
				snprintf(x->replaced, sizeof(x->replaced), "%s",
					 err ? err : "");
				x->adopted = false;
				x->state_fd = -1;
				close(sfd);
				sfd = -1;
				goto fresh;
			}
			if (ret)
				goto err_destroy_skel;
		}
		ret = fg_xdp_load_adopt(x, err, errlen);
		if (ret)
			goto err_destroy_skel;
		if (x->settings_changed) {
			ret = fg_xdp_state_write_hdr(x);
			if (ret) {
				fg_fail(err, errlen, ret, "write %s: %s",
					FG_XDP_STATE_NAME, strerror(-ret));
				goto err_destroy_skel;
			}
		}
	} else {
		if (sfd >= 0)
			close(sfd);
fresh:
		ret = fg_xdp_remove_pins(x, x->skel->obj);
		if (ret) {
			fg_fail(err, errlen, ret, "remove stale pins in %s: %s",
				x->pin_dir, strerror(-ret));
			goto err_destroy_skel;
		}
		created = true;
		ret = fg_xdp_load_fresh(x, o, err, errlen);
		if (ret)
			goto err_unpin;
	}
	if (errp)
		*errp = 0;
	return x;

err_unpin:
	/* Only pins this call made; an adopted dataplane keeps its own. */
	if (created)
		fg_xdp_remove_pins(x, x->skel->obj);
err_destroy_skel:
	fg_compiler_free(x->comp);
	if (x->state_fd >= 0)
		close(x->state_fd);
	while (x->nlinks)
		close(x->links[--x->nlinks].fd);
	floodgate_bpf__destroy(x->skel);
err_close_dir:
	close(x->dir_fd);
err_free_x:
	free(x->svc_img[0]);
	free(x->svc_img[1]);
	free(x->svc_next);
	free(x);
err_out:
	if (errp)
		*errp = ret;
	return NULL;
}

void fg_xdp_close(struct fg_xdp *x)
{
	if (!x)
		return;
	while (x->nlinks)
		close(x->links[--x->nlinks].fd);
	if (x->state_fd >= 0)
		close(x->state_fd);
	floodgate_bpf__destroy(x->skel);
	fg_compiled_free(x->checked);
	fg_compiler_free(x->comp);
	free(x->pending);
	free(x->be_mirror);
	free(x->svc_img[0]);
	free(x->svc_img[1]);
	free(x->svc_next);
	close(x->dir_fd);
	free(x);
}

int fg_xdp_unpin_all(struct fg_xdp *x)
{
	unsigned int i;
	int ret = 0, r;

	if (!x)
		return -EINVAL;
	for (i = 0; i < x->nlinks; i++) {
		r = bpf_link_detach(x->links[i].fd);
		if (r && !ret)
			ret = r;
	}
	r = fg_xdp_remove_pins(x, x->skel->obj);
	if (r && !ret)
		ret = r;
	/* A directory shared with another tool's pins stays theirs. */
	if (rmdir(x->pin_dir) && errno != ENOENT && errno != ENOTEMPTY && !ret)
		ret = -errno;
	return ret;
}

/* ---------------------------------------------------------------------
 * Attach and detach
 */

/* This handle's link on ifname, or NULL. */
static struct fg_xdp_link *fg_xdp_find_link(struct fg_xdp *x,
					    const char *ifname)
{
	unsigned int i;

	for (i = 0; i < x->nlinks; i++)
		if (!strcmp(x->links[i].ifname, ifname))
			return &x->links[i];
	return NULL;
}

/* Close l and remove it from x->links (order does not matter). */
static void fg_xdp_drop_link(struct fg_xdp *x, struct fg_xdp_link *l)
{
	close(l->fd);
	*l = x->links[--x->nlinks];
}

/* Add ifindex to fg_tx_ports (redirect targets). */
static int fg_xdp_tx_port_add(struct fg_xdp *x, __u32 ifindex)
{
	const struct bpf_map *m = x->skel->maps.fg_tx_ports;
	struct bpf_devmap_val v = { .ifindex = ifindex };

	/* The program may declare the value as a bare ifindex or as
	 * struct bpf_devmap_val (prog fd 0 = none). */
	if (bpf_map__value_size(m) == sizeof(__u32))
		return bpf_map_update_elem(bpf_map__fd(m), &ifindex, &ifindex,
					   BPF_ANY);
	return bpf_map_update_elem(bpf_map__fd(m), &ifindex, &v, BPF_ANY);
}

/* The program tag of a link's program, for "same code?" checks: the tag
 * hashes the instructions with map references blanked, so one build
 * loaded twice has one tag. */
static int fg_xdp_prog_tag(int prog_fd, __u8 tag[BPF_TAG_SIZE])
{
	struct bpf_prog_info info;
	__u32 len = sizeof(info);
	int ret;

	memset(&info, 0, sizeof(info));
	ret = bpf_obj_get_info_by_fd(prog_fd, &info, &len);
	if (!ret)
		memcpy(tag, info.tag, BPF_TAG_SIZE);
	return ret;
}

/*
 * A pinned link for ifname: keep it when it is live on this device (swap
 * our program in if the code differs); 1 when it is stale (device gone or
 * recreated) and was dropped, 0 when kept, negative on error.
 */
static int fg_xdp_keep_link(struct fg_xdp *x, struct fg_xdp_link *l,
			    int ifindex, char *err, size_t errlen)
{
	__u8 ours[BPF_TAG_SIZE], theirs[BPF_TAG_SIZE];
	struct bpf_link_info info;
	__u32 len = sizeof(info);
	char path[PATH_MAX], name[IF_NAMESIZE + 8];
	int prog_fd = bpf_program__fd(x->skel->progs.fg_xdp_main);
	int ret, fd;

	memset(&info, 0, sizeof(info));
	ret = bpf_obj_get_info_by_fd(l->fd, &info, &len);
	if (ret)
		return fg_fail(err, errlen, ret, "link %s: %s", l->ifname,
			       strerror(-ret));
	if (info.type != BPF_LINK_TYPE_XDP || info.xdp.ifindex != (__u32)ifindex) {
		snprintf(name, sizeof(name), FG_XDP_LINK_PREFIX "%s", l->ifname);
		fg_xdp_path(x, name, path, sizeof(path));
		unlink(path);
		fg_xdp_drop_link(x, l);
		return 1;
	}
	fd = bpf_prog_get_fd_by_id(info.prog_id);
	if (fd < 0)
		return fg_fail(err, errlen, fd, "link %s: program: %s",
			       l->ifname, strerror(-fd));
	ret = fg_xdp_prog_tag(fd, theirs);
	close(fd);
	if (!ret)
		ret = fg_xdp_prog_tag(prog_fd, ours);
	if (!ret && memcmp(ours, theirs, sizeof(ours)))
		ret = bpf_link_update(l->fd, prog_fd, NULL);
	if (ret)
		return fg_fail(err, errlen, ret,
			       "link %s: update program: %s", l->ifname,
			       strerror(-ret));
	return 0;
}

int fg_xdp_attach(struct fg_xdp *x, const char *ifname, enum fg_xdp_mode mode,
		  char *err, size_t errlen)
{
	LIBBPF_OPTS(bpf_link_create_opts, lo);
	char path[PATH_MAX], name[IF_NAMESIZE + 8];
	struct fg_xdp_link *l;
	int ifindex, fd, ret;

	if (!x || !ifname || strlen(ifname) >= IF_NAMESIZE ||
	    (mode != FG_XDP_MODE_NATIVE && mode != FG_XDP_MODE_GENERIC))
		return fg_fail(err, errlen, -EINVAL, "bad arguments");
	ifindex = (int)if_nametoindex(ifname);
	if (!ifindex)
		return fg_fail(err, errlen, -ENODEV, "%s: no such device",
			       ifname);

	l = fg_xdp_find_link(x, ifname);
	if (l) {
		ret = fg_xdp_keep_link(x, l, ifindex, err, errlen);
		if (ret < 0)
			return ret;
		if (ret == 0) {
			ret = fg_xdp_tx_port_add(x, (__u32)ifindex);
			return ret ? fg_fail(err, errlen, ret,
					     "fg_tx_ports: %s",
					     strerror(-ret)) : 0;
		}
	}
	if (x->nlinks == FG_XDP_LINKS_MAX)
		return fg_fail(err, errlen, -E2BIG, "at most %d devices",
			       FG_XDP_LINKS_MAX);

	lo.flags = mode == FG_XDP_MODE_GENERIC ? XDP_FLAGS_SKB_MODE :
						 XDP_FLAGS_DRV_MODE;
	fd = bpf_link_create(bpf_program__fd(x->skel->progs.fg_xdp_main),
			     ifindex, BPF_XDP, &lo);
	if (fd < 0)
		return fg_fail(err, errlen, fd, "%s: attach (%s mode): %s",
			       ifname, mode == FG_XDP_MODE_GENERIC ?
			       "generic" : "native", strerror(-fd));
	snprintf(name, sizeof(name), FG_XDP_LINK_PREFIX "%s", ifname);
	fg_xdp_path(x, name, path, sizeof(path));
	unlink(path); /* a stale pin of a link whose device went away */
	ret = bpf_obj_pin(fd, path);
	if (ret) {
		fg_fail(err, errlen, ret, "pin %s: %s", path,
			strerror(-ret));
		goto err_detach;
	}
	ret = fg_xdp_tx_port_add(x, (__u32)ifindex);
	if (ret) {
		fg_fail(err, errlen, ret, "fg_tx_ports: %s", strerror(-ret));
		goto err_unpin;
	}
	l = &x->links[x->nlinks++];
	snprintf(l->ifname, sizeof(l->ifname), "%s", ifname);
	l->fd = fd;
	return 0;

err_unpin:
	unlink(path);
err_detach:
	bpf_link_detach(fd);
	close(fd);
	return ret;
}

int fg_xdp_detach(struct fg_xdp *x, const char *ifname)
{
	char path[PATH_MAX], name[IF_NAMESIZE + 8];
	struct bpf_link_info info;
	__u32 len = sizeof(info), ifindex = 0;
	struct fg_xdp_link *l;
	int ret;

	if (!x || !ifname)
		return -EINVAL;
	l = fg_xdp_find_link(x, ifname);
	if (!l)
		return -ENOENT;
	memset(&info, 0, sizeof(info));
	if (!bpf_obj_get_info_by_fd(l->fd, &info, &len))
		ifindex = info.xdp.ifindex;
	/* Detach even if someone else holds the link open. */
	ret = bpf_link_detach(l->fd);
	if (ret == -ENOLINK) /* the device went away first */
		ret = 0;
	snprintf(name, sizeof(name), FG_XDP_LINK_PREFIX "%s", ifname);
	fg_xdp_path(x, name, path, sizeof(path));
	if (unlink(path) && errno != ENOENT && !ret)
		ret = -errno;
	fg_xdp_drop_link(x, l);
	if (ifindex)
		bpf_map_delete_elem(bpf_map__fd(x->skel->maps.fg_tx_ports),
				    &ifindex);
	return ret;
}

/* ---------------------------------------------------------------------
 * Apply
 */

/* Invalidate backend entries: a zeroed entry has no FG_BE_F_VALID. */
static int fg_xdp_retire_backends(struct fg_xdp *x, const __u32 *ids, __u32 n)
{
	const struct bpf_map *m = x->skel->maps.fg_backends;
	struct fg_backend zero;
	__u32 i;
	int ret;

	memset(&zero, 0, sizeof(zero));
	for (i = 0; i < n; i++) {
		ret = bpf_map_update_elem(bpf_map__fd(m), &ids[i], &zero, BPF_ANY);
		if (ret) {
			x->be_known = false;
			return ret;
		}
		if (x->be_mirror)
			x->be_mirror[ids[i]] = zero;
	}
	return 0;
}

/* fg_xdp_be_mirror - make x->be_mirror what fg_backends holds (read once,
 * then kept by every write). 0 or -errno. */
static int fg_xdp_be_mirror(struct fg_xdp *x)
{
	__u32 n = fg_compiler_opts(x->comp)->backend_max;
	int ret;

	if (x->be_known)
		return 0;
	if (!x->be_mirror) {
		x->be_mirror = calloc(n, sizeof(*x->be_mirror));
		if (!x->be_mirror)
			return -ENOMEM;
	}
	ret = fg_xdp_read_array(bpf_map__fd(x->skel->maps.fg_backends), n,
				sizeof(*x->be_mirror), x->be_mirror);
	x->be_known = !ret;
	return ret;
}

/*
 * fg_xdp_write_backends - write cp's backend entries, in batches: before
 * the switch (after_switch false) every one but those going down now
 * (live and up in the map, down in cp), and after the switch those.
 * A backend that health checks fail is still in the live ring until the
 * switch; marked down before it, a SYN that the ring sends there would be
 * refused, and its client would wait for a retransmission. Marked down
 * after it, its established flows are re-hashed a moment later, to the
 * new ring. Returns 0 or -errno.
 */
static int fg_xdp_write_backends(struct fg_xdp *x, const struct fg_compiled *cp,
				 bool after_switch)
{
	int fd = bpf_map__fd(x->skel->maps.fg_backends);
	struct fg_backend *vals;
	__u32 *keys, i, n = 0;
	int ret;

	if (!cp->nbackends)
		return 0;
	ret = fg_xdp_be_mirror(x);
	if (ret)
		return ret;
	keys = calloc(cp->nbackends, sizeof(*keys));
	vals = calloc(cp->nbackends, sizeof(*vals));
	if (!keys || !vals) {
		ret = -ENOMEM;
		goto out_free;
	}
	for (i = 0; i < cp->nbackends; i++) {
		const struct fg_compiled_backend *b = &cp->backends[i];
		const struct fg_backend *cur = &x->be_mirror[b->id];
		/* Going down now: the live ring still names it until the
		 * switch, and a SYN the ring sends it would be refused. */
		bool going_down = (b->val.flags & FG_BE_F_DOWN) &&
				  (cur->flags & FG_BE_F_VALID) &&
				  !(cur->flags & FG_BE_F_DOWN) &&
				  cur->svc_id == b->val.svc_id;

		/* Unchanged entries are not written: a change costs the
		 * backends it touches. */
		if (going_down != after_switch ||
		    !memcmp(cur, &b->val, sizeof(*cur)))
			continue;
		keys[n] = b->id;
		vals[n++] = b->val;
	}
	ret = n ? fg_xdp_update_many(fd, keys, vals, n, sizeof(*keys),
				     sizeof(*vals)) : 0;
	if (ret)
		x->be_known = false; /* a batch may have half landed */
	for (i = 0; !ret && i < n; i++)
		x->be_mirror[keys[i]] = vals[i];
out_free:
	free(keys);
	free(vals);
	return ret;
}

/* Every ring slice of cp into fg_ring, one batch per service. */
static int fg_xdp_write_rings(struct fg_xdp *x, const struct fg_compiled *cp)
{
	__u32 i, j, max = 0, *keys;
	int ret = 0;

	for (i = 0; i < cp->nsvcs; i++)
		if (cp->svcs[i].val.ring_size > max)
			max = cp->svcs[i].val.ring_size;
	if (!max)
		return 0;
	keys = malloc(max * sizeof(*keys));
	if (!keys)
		return -ENOMEM;
	for (i = 0; i < cp->nsvcs && !ret; i++) {
		const struct fg_compiled_svc *s = &cp->svcs[i];

		/* A shared ring is in the map already, the active
		 * generation's: a change writes only the rings it touched. */
		if (!s->val.ring_size || s->ring_shared)
			continue;
		for (j = 0; j < s->val.ring_size; j++)
			keys[j] = s->val.ring_off + j;
		ret = fg_xdp_update_many(bpf_map__fd(x->skel->maps.fg_ring), keys,
					 s->ring, s->val.ring_size,
					 sizeof(*keys), sizeof(*keys));
	}
	free(keys);
	return ret;
}

/* Every limit entry of cp into its generation's half of fg_limits. */
static int fg_xdp_write_limits(struct fg_xdp *x, const struct fg_compiled *cp)
{
	int fd = bpf_map__fd(x->skel->maps.fg_limits), ret;
	__u32 i;

	for (i = 0; i < cp->nlimits; i++) {
		ret = bpf_map_update_elem(fd, &cp->limits[i].index,
					  &cp->limits[i].val, BPF_ANY);
		if (ret)
			return ret;
	}
	return 0;
}

/* Names of the ids the new generation uses for the first time into
 * fg_state: an id keeps its name as long as it lives (fg_compile.h), so
 * the others are there already. */
static int fg_xdp_write_names(struct fg_xdp *x, const struct fg_compiled *cp)
{
	__u32 i, nmark = FG_SVC_MAX > FG_LIMIT_MAX ? FG_SVC_MAX : FG_LIMIT_MAX;
	__u8 *fresh;
	int ret = 0;

	if (!cp->fresh_svcs.n && !cp->fresh_limits.n)
		return 0;
	/* Marks, not a search of the fresh list per entry: a whole new set
	 * of N services would otherwise cost N x N compares. */
	fresh = calloc(nmark, 1);
	if (!fresh)
		return -ENOMEM;
	for (i = 0; i < cp->fresh_svcs.n; i++)
		fresh[cp->fresh_svcs.ids[i]] |= 1;
	for (i = 0; i < cp->fresh_limits.n; i++)
		fresh[cp->fresh_limits.ids[i]] |= 2;
	for (i = 0; !ret && i < cp->nsvcs; i++)
		if (fresh[cp->svcs[i].val.id] & 1)
			ret = fg_xdp_state_put(x->state_fd, FG_XDP_STATE_SVC,
					       cp->svcs[i].val.id,
					       cp->svcs[i].name);
	for (i = 0; !ret && i < cp->nlimits; i++)
		if (fresh[cp->limits[i].val.id] & 2)
			ret = fg_xdp_state_put(x->state_fd, FG_XDP_STATE_LIMIT,
					       cp->limits[i].val.id,
					       cp->limits[i].name);
	free(fresh);
	return ret;
}

/* Delete the fg_state names of retired ids. */
static void fg_xdp_drop_names(struct fg_xdp *x, __u32 kind,
			      const struct fg_id_list *ids)
{
	struct fg_xdp_state_key k = { .kind = kind };
	__u32 i;

	/* Best effort: names of ids the active generation does not use are
	 * ignored on adoption anyway. */
	for (i = 0; i < ids->n; i++) {
		k.id = ids->ids[i];
		bpf_map_delete_elem(x->state_fd, &k);
	}
}

/* After the switch: the clean-up that cannot undo the apply. The old
 * generation's service slots stay as they are: nothing reads them once
 * packets in flight are done, and the next apply rewrites only the slots
 * that differ. */
static void fg_xdp_after_switch(struct fg_xdp *x, const struct fg_compiled *cp)
{
	/* Updating existing array entries does not fail; if it did, the
	 * next apply would find them still up and write them again. */
	fg_xdp_write_backends(x, cp, true);
	if (fg_xdp_retire_backends(x, cp->retired_backends.ids,
				   cp->retired_backends.n)) {
		memcpy(x->pending, cp->retired_backends.ids,
		       cp->retired_backends.n * sizeof(__u32));
		x->npending = cp->retired_backends.n;
	}
	fg_xdp_drop_names(x, FG_XDP_STATE_SVC, &cp->retired_svcs);
	fg_xdp_drop_names(x, FG_XDP_STATE_LIMIT, &cp->retired_limits);
}

/*
 * fg_xdp_filter_prepare - put the new generation's VIP filter bits (its
 * VIPs, from the compiler, and the SNAT addresses, whose return traffic
 * must reach the program) into fg_config before anything of that
 * generation is written, and make next carry the live generation's bits
 * unchanged: the switch then rewrites every filter word with the value it
 * already has, so no packet ever meets a half-written filter.
 * Returns 0 or -errno.
 */
static int fg_xdp_filter_prepare(struct fg_xdp *x, struct fg_config *next)
{
	int fd = bpf_map__fd(x->skel->maps.fg_config);
	__u32 zero = 0, g = next->gen & 1;
	__be32 a4[4] = { x->settings.snat4 };
	struct fg_config cur;

	if (bpf_map_lookup_elem(fd, &zero, &cur))
		return -errno;
	if (a4[0])
		fg_vip_filter_add(next, g, a4);
	if (!fg_xdp_zero(x->settings.snat6, 16))
		fg_vip_filter_add(next, g, x->settings.snat6);
	memcpy(next->vip_filter[!g], cur.vip_filter[!g], sizeof(cur.vip_filter[0]));
	memcpy(cur.vip_filter[g], next->vip_filter[g], sizeof(cur.vip_filter[0]));
	return bpf_map_update_elem(fd, &zero, &cur, BPF_ANY) ? -errno : 0;
}

int fg_xdp_check(struct fg_xdp *x, const struct fg_ruleset *rs,
		 char *err, size_t errlen)
{
	struct fg_compiled *cp = NULL;
	int ret;

	if (!x || !rs)
		return fg_fail(err, errlen, -EINVAL, "no dataplane or rules");
	fg_compiled_free(x->checked);
	x->checked = NULL;
	x->checked_tag = 0;
	ret = fg_compile(x->comp, rs, fg_compiler_version(x->comp) + 1, &cp,
			 err, errlen);
	/* The services must also fit fg_services' probe runs. */
	if (!ret)
		ret = fg_xdp_svc_image(cp, x->svc_next, err, errlen);
	/* Parse once, compile once: a tagged rule set that passes is
	 * applied from this very compile (fg_xdp_apply). */
	if (!ret && rs->tag) {
		x->checked = cp;
		x->checked_tag = rs->tag;
		return 0;
	}
	fg_compiled_free(cp);
	return ret;
}

int fg_xdp_apply(struct fg_xdp *x, const struct fg_ruleset *rs,
		 uint64_t version, char *err, size_t errlen)
{
	const __typeof__(x->skel->maps) *mp;
	struct fg_compiled *cp = NULL;
	__u32 zero = 0;
	const char *what;
	int ret;

	if (!x || !rs)
		return fg_fail(err, errlen, -EINVAL, "no dataplane or rules");
	mp = &x->skel->maps;
	if (!x->pending) {
		x->pending = calloc(fg_compiler_opts(x->comp)->backend_max,
				    sizeof(*x->pending));
		if (!x->pending)
			return fg_fail(err, errlen, -ENOMEM, "out of memory");
	}
	if (x->npending) {
		ret = fg_xdp_retire_backends(x, x->pending, x->npending);
		if (ret)
			return fg_fail(err, errlen, ret,
				       "fg_backends: invalidating retired backends: %s",
				       strerror(-ret));
		x->npending = 0;
	}

	if (rs->tag && rs->tag == x->checked_tag &&
	    fg_compiled_current(x->comp, x->checked)) {
		/* Checked just now: its compile and service image stand. */
		cp = x->checked;
		fg_compiled_set_version(cp, version);
	} else {
		fg_compiled_free(x->checked);
		ret = fg_compile(x->comp, rs, version, &cp, err, errlen);
		if (ret) {
			x->checked = NULL;
			x->checked_tag = 0;
			return ret;
		}
		/* Placed before anything is written: a service that does
		 * not fit fails the apply with nothing changed. */
		ret = fg_xdp_svc_image(cp, x->svc_next, err, errlen);
		if (ret) {
			x->checked = NULL;
			x->checked_tag = 0;
			fg_compiled_free(cp);
			return ret;
		}
	}
	x->checked = NULL;
	x->checked_tag = 0;

	what = "fg_config (VIP filter)";
	ret = fg_xdp_filter_prepare(x, &cp->config);
	if (!ret) {
		what = "counters";
		ret = fg_xdp_cpu_zero(x, mp->fg_svc_stats, FG_SVC_MAX,
				      &cp->fresh_svcs);
	}
	if (!ret)
		ret = fg_xdp_cpu_zero(x, mp->fg_be_stats, FG_BACKEND_MAX,
				      &cp->fresh_backends);
	if (!ret)
		ret = fg_xdp_cpu_zero(x, mp->fg_limit_stats, FG_LIMIT_MAX,
				      &cp->fresh_limits);
	if (!ret) {
		what = "fg_backends";
		ret = fg_xdp_write_backends(x, cp, false);
	}
	if (!ret) {
		what = "fg_ring";
		ret = fg_xdp_write_rings(x, cp);
	}
	if (!ret) {
		what = "fg_limits";
		ret = fg_xdp_write_limits(x, cp);
	}
	if (!ret) {
		what = "fg_services";
		ret = fg_xdp_write_services(x, cp->gen, &x->svc_next);
	}
	if (!ret) {
		what = FG_XDP_STATE_NAME;
		ret = fg_xdp_write_names(x, cp);
	}
	if (!ret) {
		/* The switch: one update of one array element. */
		what = "fg_config";
		ret = bpf_map_update_elem(bpf_map__fd(mp->fg_config), &zero,
					  &cp->config, BPF_ANY);
	}
	if (ret) {
		fg_fail(err, errlen, ret, "%s: %s (version %llu not applied)",
			what, strerror(-ret), (unsigned long long)version);
		/* The half-written generation stays inactive, and the next
		 * apply rewrites its service slots before any switch to it;
		 * new backend ids go back to their queue, so their entries
		 * are invalidated. */
		fg_xdp_retire_backends(x, cp->fresh_backends.ids,
				       cp->fresh_backends.n);
		fg_compiled_free(cp);
		return ret;
	}

	/* Cannot fail: cp was compiled on the current state just now. */
	fg_compiler_commit(x->comp, cp);
	fg_xdp_after_switch(x, cp);
	fg_compiled_free(cp);
	return 0;
}

/* ---------------------------------------------------------------------
 * Queries
 */

uint64_t fg_xdp_applied_version(const struct fg_xdp *x)
{
	return x ? fg_compiler_version(x->comp) : 0;
}

unsigned int fg_xdp_link_names(const struct fg_xdp *x, char (*names)[IF_NAMESIZE],
			       unsigned int max)
{
	unsigned int i;

	for (i = 0; x && i < x->nlinks && i < max; i++)
		memcpy(names[i], x->links[i].ifname, IF_NAMESIZE);
	return i;
}

bool fg_xdp_settings_changed(const struct fg_xdp *x)
{
	return x->settings_changed;
}

const char *fg_xdp_replaced(const struct fg_xdp *x)
{
	return x->replaced[0] ? x->replaced : NULL;
}

bool fg_xdp_mounted_bpffs(const struct fg_xdp *x)
{
	return x->mounted_bpffs;
}

bool fg_xdp_adopted(const struct fg_xdp *x)
{
	return x && x->adopted;
}

const struct fg_xdp_settings *fg_xdp_settings(const struct fg_xdp *x)
{
	return x ? &x->settings : NULL;
}

const char *fg_xdp_pin_dir(const struct fg_xdp *x)
{
	return x ? x->pin_dir : NULL;
}

int fg_xdp_stats_service(const struct fg_xdp *x, uint32_t id,
			 struct fg_counter *out)
{
	if (!x || !out)
		return -EINVAL;
	return fg_xdp_cpu_sum(x, x->skel->maps.fg_svc_stats, FG_SVC_MAX, id,
			      (__u64 *)out, sizeof(*out) / sizeof(__u64));
}

int fg_xdp_stats_backend(const struct fg_xdp *x, uint32_t id,
			 struct fg_counter *out)
{
	if (!x || !out)
		return -EINVAL;
	return fg_xdp_cpu_sum(x, x->skel->maps.fg_be_stats, FG_BACKEND_MAX,
			      id, (__u64 *)out, sizeof(*out) / sizeof(__u64));
}

int fg_xdp_stats_limit(const struct fg_xdp *x, uint32_t id,
		       struct fg_limit_counter *out)
{
	if (!x || !out)
		return -EINVAL;
	return fg_xdp_cpu_sum(x, x->skel->maps.fg_limit_stats, FG_LIMIT_MAX,
			      id, (__u64 *)out, sizeof(*out) / sizeof(__u64));
}

int fg_xdp_stats_drops(const struct fg_xdp *x, uint64_t *out)
{
	__u64 sum[FG_DROP_REASON_MAX] = { 0 };
	union fg_config_entry e;
	int cpu, fd, ret;

	if (!x || !out)
		return -EINVAL;
	fd = bpf_map__fd(x->skel->maps.fg_config);
	for (cpu = 0; cpu < x->ncpus; cpu++) {
		__u32 key = fg_config_drops_index((__u32)cpu);

		ret = bpf_map_lookup_elem(fd, &key, &e);
		if (ret)
			return ret;
		fg_drops_add(sum, &e);
	}
	memcpy(out, sum, sizeof(sum));
	return 0;
}

int fg_xdp_service_id(const struct fg_xdp *x, const char *name)
{
	return x ? fg_compiler_service_id(x->comp, name) : -EINVAL;
}

const char *fg_xdp_service_name(const struct fg_xdp *x, uint32_t id)
{
	return x ? fg_compiler_service_name(x->comp, id) : NULL;
}

int fg_xdp_limit_id(const struct fg_xdp *x, const char *name)
{
	return x ? fg_compiler_limit_id(x->comp, name) : -EINVAL;
}

const char *fg_xdp_limit_name(const struct fg_xdp *x, uint32_t id)
{
	return x ? fg_compiler_limit_name(x->comp, id) : NULL;
}

int fg_xdp_backend_id(const struct fg_xdp *x, const char *svc,
		      const struct fg_addr *addr, uint16_t port)
{
	return x ? fg_compiler_backend_id(x->comp, svc, addr, port) : -EINVAL;
}

int fg_xdp_backend_down(const struct fg_xdp *x, const char *svc,
			const struct fg_addr *addr, uint16_t port, bool *down)
{
	struct fg_backend be;
	__u32 id;
	int ret;

	if (!x || !down)
		return -EINVAL;
	ret = fg_compiler_backend_id(x->comp, svc, addr, port);
	if (ret < 0)
		return ret;
	id = (__u32)ret;
	ret = bpf_map_lookup_elem(bpf_map__fd(x->skel->maps.fg_backends), &id,
				  &be);
	if (ret)
		return ret;
	*down = be.flags & FG_BE_F_DOWN;
	return 0;
}

int fg_xdp_origin(const struct fg_xdp *x, struct fg_xdp_origin *o)
{
	struct fg_xdp_state_key k = { .kind = FG_XDP_STATE_ORIGIN };
	union fg_xdp_state_val v;
	int ret;

	if (!x || !o)
		return -EINVAL;
	ret = bpf_map_lookup_elem(x->state_fd, &k, &v);
	if (ret)
		return ret;
	memcpy(o, v.raw, sizeof(*o));
	return 0;
}

int fg_xdp_set_origin(struct fg_xdp *x, const struct fg_xdp_origin *o)
{
	struct fg_xdp_state_key k = { .kind = FG_XDP_STATE_ORIGIN };
	union fg_xdp_state_val v;

	if (!x || !o)
		return -EINVAL;
	memset(&v, 0, sizeof(v));
	memcpy(v.raw, o, sizeof(*o));
	return bpf_map_update_elem(x->state_fd, &k, &v, BPF_ANY);
}

int fg_xdp_map_fd(const struct fg_xdp *x, const char *name)
{
	const struct bpf_map *m;

	if (!x || !name)
		return -EINVAL;
	m = bpf_object__find_map_by_name(x->skel->obj, name);
	return m ? bpf_map__fd(m) : -ENOENT;
}

int fg_xdp_prog_fd(const struct fg_xdp *x)
{
	return x ? bpf_program__fd(x->skel->progs.fg_xdp_main) : -EINVAL;
}
