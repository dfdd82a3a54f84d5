/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * fg_xdp.h - the XDP dataplane's loader library (floodgate.bpf.c through
 * its libbpf skeleton), for the control plane and the tests.
 *
 * Lifetime. Maps and links are pinned under one directory per node
 * (default /sys/fs/bpf/floodgate/<node>/): every map by its name, each
 * attachment as link_<ifname>, and the loader's own state map fg_state.
 * The program therefore outlives the process: fg_xdp_close() keeps the
 * pins, and the next fg_xdp_open() on that directory adopts them - the same
 * maps, the same load-time settings, the attached links untouched - and
 * rebuilds the compiler state from the maps, so ids stay stable and the
 * next apply writes the inactive generation as usual.
 *
 * fg_state (created and pinned by this library, not part of the BPF
 * object; the program never reads it): HASH, key struct
 * { __u32 kind; __u32 id; }, value 128 bytes.
 *   kind 0, id 0: header { __u32 magic 0x46475354 "FGST"; __u32 layout 4;
 *                 the load-time settings (seed, tunnel and SNAT sources,
 *                 conntrack timeouts, GUE port) }
 *   kind 1, id N: name of service id N (NUL-terminated, <= 63 bytes)
 *   kind 2, id N: name of limit id N
 * Names are written before the switch and the retired ones deleted after
 * it, so the entries always cover the active generation; entries for ids
 * the active generation does not use are ignored. A pin directory written
 * with another layout (another map layout) is not adopted: open it with
 * fresh.
 *
 * Sizes. The counter maps and fg_nh_client are per CPU by layout
 * (fg_tables.h): the loader multiplies their max_entries by
 * libbpf_num_possible_cpus(). fg_config holds the config (entry 0), then
 * one entry of drop counters per CPU. fg_ct and fg_ct_syn hold a power of two of
 * lines of FG_CT_WAYS flows each (struct fg_ct_line), which the program
 * learns from rodata fg_ct_lines and fg_ct_syn_lines, set from the maps'
 * sizes (fresh or pinned).
 *
 * Errors: negative errno, and where an err buffer is taken a message in
 * it. The library never logs; libbpf's own output goes wherever the
 * caller's libbpf_set_print() sends it. Not thread-safe: one owner per
 * struct fg_xdp.
 */
#ifndef FG_XDP_H
#define FG_XDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

#include <net/if.h>

#include "fg_compile.h"
#include "fg_flow.h"
#include "fg_rules.h"
#include "fg_tables.h"

#define FG_XDP_BPFFS "/sys/fs/bpf" /* mounted by fg_xdp_open() if missing */
#define FG_XDP_PIN_ROOT FG_XDP_BPFFS "/floodgate"
#define FG_XDP_LINKS_MAX 64 /* interfaces per node (fg_tx_ports size) */

enum fg_xdp_mode {
	FG_XDP_MODE_NATIVE = 0,  /* driver mode; fails where unsupported */
	FG_XDP_MODE_GENERIC = 1, /* skb mode: any device, slower */
};

/* Open options. Zero fields take defaults; only used for a fresh load
 * unless adopt_settings: an adopted dataplane otherwise keeps the
 * settings it was loaded with (tools that only read use that). */
struct fg_xdp_opts {
	const char *node;        /* pin dir FG_XDP_PIN_ROOT/<node>; NULL =
				  * the host name */
	const char *pin_dir;     /* overrides node (tests) */
	bool fresh;              /* do not adopt: remove every pin in the
				  * directory first (detaches a pinned
				  * program) and load anew */
	struct fg_hash_seed seed;      /* all zero = random (getrandom) */
	const char *addr_ifname; /* where default addresses come from; NULL
				  * = the first interface that has one */
	struct in_addr tunnel_src4;    /* zero = that interface's IPv4 */
	struct in6_addr tunnel_src6;   /* zero = its global IPv6, if any */
	struct in_addr snat4;          /* zero = tunnel_src4 */
	struct in6_addr snat6;         /* zero = tunnel_src6 */
	uint64_t ct_timeout_tcp_ns;    /* zero = the program's default */
	uint64_t ct_timeout_udp_ns;
	uint16_t gue_port;             /* host order; zero = the program's
					* default (FG_GUE_PORT_DEFAULT) */
	uint32_t ring_slots;     /* fg_ring entries; 0 = FG_RING_SLOTS_DEFAULT */
	uint32_t ct_max;         /* flows in fg_ct; 0 = FG_CT_DEFAULT;
				  * rounded up to a power of two (>=
				  * FG_CT_WAYS) */
	uint32_t ct_syn_max;     /* fg_ct_syn and fg_nat_syn; 0 =
				  * FG_CT_SYN_DEFAULT; rounded up likewise */
	uint32_t nat_max;        /* fg_nat; 0 = FG_NAT_DEFAULT */
	uint32_t buckets_max;    /* fg_buckets; 0 = FG_BUCKETS_DEFAULT;
				  * rounded up to a power of two */
	bool adopt_settings;     /* on adoption too: take the addresses,
				  * GUE port and timeouts above (the seed
				  * stays), and refuse (-EEXIST) sizes that
				  * differ from the pinned tables' */
	bool replace;            /* with adopt_settings: load anew instead
				  * of refusing different sizes (drops
				  * every tracked flow) */
};

/* The load-time settings in force (fresh or adopted). */
struct fg_xdp_settings {
	struct fg_hash_seed seed;
	__be32 tunnel_src4;
	__be32 tunnel_src6[4];
	__be32 snat4;
	__be32 snat6[4];
	uint64_t ct_timeout_tcp_ns;
	uint64_t ct_timeout_udp_ns;
	uint16_t gue_port;       /* host order */
};

struct fg_xdp;

/*
 * fg_xdp_open - load the dataplane, or adopt the one pinned in the pin dir.
 *
 * Adopts when the directory holds a valid fg_state and at least one
 * link_* pin: the pinned maps are reused (libbpf pin-path reuse, sizes
 * taken from the pins), the settings come from fg_state, a new instance
 * of the program is loaded against them (attached only by
 * fg_xdp_attach(), which swaps it into the existing link when its code
 * differs) and the compiler is rebuilt from the active generation.
 * Otherwise stale pins are removed and everything is loaded afresh with
 * the settings from opts, and the maps are pinned.
 *
 * The handle holds an exclusive flock on the pin directory until
 * fg_xdp_close(): one loader per dataplane.
 *
 * Returns the handle, or NULL with *errp (if given) set to a negative
 * errno and a message in err: -EBUSY when another handle holds the
 * directory, or links are pinned but fg_state is missing or foreign (use
 * opts->fresh), -ENOTSUP when the directory is not on bpffs, -EINVAL
 * for bad options or
 * inconsistent pinned state, -EPERM without CAP_BPF/CAP_SYS_ADMIN,
 * -ENOMEM, or what libbpf or the kernel returned.
 * When the pin directory lies below FG_XDP_BPFFS and no bpffs is mounted
 * there, it mounts one first (fg_xdp_mounted_bpffs() then says so, for the
 * caller's log); mounting needs CAP_SYS_ADMIN.
 * Context: userspace.
 */
struct fg_xdp *fg_xdp_open(const struct fg_xdp_opts *opts, int *errp,
			   char *err, size_t errlen);

/*
 * fg_xdp_close - release the handle: close fds and free memory. Pins
 * stay, so attached programs keep running and the next open adopts them.
 * Accepts NULL.
 */
void fg_xdp_close(struct fg_xdp *x);

/*
 * fg_xdp_unpin_all - detach every link this handle holds and remove every
 * pin (maps, links, fg_state, those of older layouts' maps) and the
 * directory, unless it holds something else. The handle stays usable
 * for reading until fg_xdp_close(), which then frees the maps.
 * Returns 0 or the first error (it still tries the rest).
 */
int fg_xdp_unpin_all(struct fg_xdp *x);

/*
 * fg_xdp_attach - attach the program to ifname through a bpf_link (made
 * with bpf_link_create so the mode can be forced: bpf_program__attach_xdp
 * lets the kernel fall back to generic silently), pin it as
 * link_<ifname> and add the device to fg_tx_ports. If a live pinned link
 * for ifname exists it is kept (its mode included) and, when its program
 * differs from ours, updated atomically to ours - no packet is lost.
 * Returns 0; -ENODEV (no such device), -E2BIG (FG_XDP_LINKS_MAX links),
 * -EBUSY (another XDP program is attached without a link), -EOPNOTSUPP
 * (native mode unsupported by the driver), or another kernel error.
 */
int fg_xdp_attach(struct fg_xdp *x, const char *ifname, enum fg_xdp_mode mode,
		  char *err, size_t errlen);

/*
 * fg_xdp_detach - detach from ifname: the link is detached (even if
 * another process holds it), unpinned and closed; the device leaves
 * fg_tx_ports. Returns 0 or -ENOENT when this handle has no link there.
 */
int fg_xdp_detach(struct fg_xdp *x, const char *ifname);

/*
 * fg_xdp_apply - make rs (as `version`) the dataplane's rule set.
 *
 * Compiles on the side and places the services in the inactive
 * generation's FG_SVC_SLOTS-slot image (fg_svc_table_put), then writes
 * that generation - counters of new ids zeroed on every CPU, backends,
 * rings, limits, the service slots that differ from what the generation
 * held, names in fg_state - and flips fg_config in one update. After the
 * switch it invalidates retired backends (flows on them re-hash); the old
 * generation's slots stay until the next apply rewrites them. Packets see
 * either the old or the new set, never a mix.
 *
 * Returns 0 once the new set is live; on failure before the switch a
 * negative errno with a message and the old set stays live (-EINVAL and
 * -ENOSPC from the compiler, -ENOSPC or -EEXIST when a service finds no
 * slot in fg_services - then nothing is written - or a map-write error).
 * Failures after the switch are not errors of the apply: backend
 * invalidations that failed are retried first thing by the next apply
 * (which fails if they still cannot be written).
 */
int fg_xdp_apply(struct fg_xdp *x, const struct fg_ruleset *rs,
		 uint64_t version, char *err, size_t errlen);

/*
 * fg_xdp_check - compile rs on the side, place its services in a
 * fg_services image and throw the result away: would fg_xdp_apply()
 * accept it? Returns 0, the compiler's -EINVAL/-ENOSPC or the placing's
 * -ENOSPC/-EEXIST, with a message. Changes nothing in the dataplane.
 * Context: userspace.
 */
int fg_xdp_check(struct fg_xdp *x, const struct fg_ruleset *rs,
		 char *err, size_t errlen);

/* fg_xdp_applied_version - version of the live generation (0: none). */
uint64_t fg_xdp_applied_version(const struct fg_xdp *x);

/* fg_xdp_link_names - the interfaces this handle has links on (adopted
 * or attached), at most max into names. Returns how many. */
unsigned int fg_xdp_link_names(const struct fg_xdp *x, char (*names)[IF_NAMESIZE],
			       unsigned int max);

/* fg_xdp_settings_changed - true when adoption took new settings from
 * opts (adopt_settings). fg_xdp_replaced - why open loaded anew over a
 * pinned dataplane (opts->replace), or NULL. */
bool fg_xdp_settings_changed(const struct fg_xdp *x);
const char *fg_xdp_replaced(const struct fg_xdp *x);

/* fg_xdp_mounted_bpffs - true when open mounted bpffs on FG_XDP_BPFFS. */
bool fg_xdp_mounted_bpffs(const struct fg_xdp *x);

/* fg_xdp_adopted - true when open adopted a running dataplane. */
bool fg_xdp_adopted(const struct fg_xdp *x);

/* fg_xdp_settings - the load-time settings in force. */
const struct fg_xdp_settings *fg_xdp_settings(const struct fg_xdp *x);

/* fg_xdp_pin_dir - the pin directory (no trailing slash). */
const char *fg_xdp_pin_dir(const struct fg_xdp *x);

/*
 * Counters, summed over CPUs: CPU c's counter of id is entry
 * c * stride + id of its map (fg_tables.h), per service id, backend id,
 * limit id. Return 0, -EINVAL (NULL or id out of range) or a map-read
 * error. Context: userspace, any time (reads are racy per CPU but never
 * go backwards while the program stays attached).
 */
int fg_xdp_stats_service(const struct fg_xdp *x, uint32_t id,
			 struct fg_counter *out);
int fg_xdp_stats_backend(const struct fg_xdp *x, uint32_t id,
			 struct fg_counter *out);
int fg_xdp_stats_limit(const struct fg_xdp *x, uint32_t id,
		       struct fg_limit_counter *out);
/* out[FG_DROP_REASON_MAX], indexed by enum fg_drop_reason: CPU c's
 * drop counters are entry FG_CONFIG_DROPS + c of fg_config. */
int fg_xdp_stats_drops(const struct fg_xdp *x, uint64_t *out);

/*
 * Names and ids of the live generation (from the compiler state).
 * Return the id (>= 0), or -ENOENT; names are NULL when unknown and live
 * until the next apply.
 */
int fg_xdp_service_id(const struct fg_xdp *x, const char *name);
const char *fg_xdp_service_name(const struct fg_xdp *x, uint32_t id);
int fg_xdp_limit_id(const struct fg_xdp *x, const char *name);
const char *fg_xdp_limit_name(const struct fg_xdp *x, uint32_t id);
int fg_xdp_backend_id(const struct fg_xdp *x, const char *svc,
		      const struct fg_addr *addr, uint16_t port);

/*
 * fg_xdp_backend_down - whether the live generation has the backend
 * (service svc, addr, port) marked down (by its rule or by health
 * checks). Returns 0, -ENOENT when the live set has no such backend, or
 * a map-read error.
 */
int fg_xdp_backend_down(const struct fg_xdp *x, const char *svc,
			const struct fg_addr *addr, uint16_t port, bool *down);

/*
 * The store the live rule set came from, kept with the pins (in
 * fg_state) so that a restarted daemon can tell a store that is behind
 * the dataplane (restored from an older backup, or a new one after the
 * data was lost) from the one it applied. Written by the daemon after
 * each apply. fg_xdp_origin returns 0, -ENOENT when none was recorded
 * (a fresh dataplane, or one pinned by an older build), or a map error;
 * fg_xdp_set_origin 0 or a map error.
 */
struct fg_xdp_origin {
	uint64_t cluster_id; /* the store's etcd cluster id */
	uint64_t revision;   /* the store revision the live set was at */
};
int fg_xdp_origin(const struct fg_xdp *x, struct fg_xdp_origin *o);
int fg_xdp_set_origin(struct fg_xdp *x, const struct fg_xdp_origin *o);

/*
 * fg_xdp_map_fd - fd of the program's map `name` (e.g. "fg_ct"), or
 * -ENOENT. fg_xdp_prog_fd - fd of the loaded fg_xdp_main. Both stay owned
 * by x. For tests (BPF_PROG_TEST_RUN) and diagnostics.
 */
int fg_xdp_map_fd(const struct fg_xdp *x, const char *name);
int fg_xdp_prog_fd(const struct fg_xdp *x);

#endif /* FG_XDP_H */
