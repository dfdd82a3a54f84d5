/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * fg_dataplane.h - the daemon's view of a dataplane: a struct of function
 * pointers (as DPDK's examples do variants), so the rest of floodgated
 * does not know whether XDP or DPDK forwards the packets.
 */
#ifndef FG_DATAPLANE_H
#define FG_DATAPLANE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fg_rules.h"
#include "fg_tables.h"

struct fg_dataplane;

/* The store a dataplane's live rule set came from, kept with the
 * dataplane's own state so that it outlives the daemon. */
struct fg_dp_origin {
	uint64_t cluster_id; /* the store's etcd cluster id */
	uint64_t revision;   /* the store revision the live set was at */
};

/* The L7 engine's counters (fg_l7_engine.h), summed over its lcores. */
#define FG_DP_SK_REASONS 10 /* = FG_SK_REASON_MAX, by index */

struct fg_dp_route_stats {
	uint64_t forwarded;   /* requests the route sent to its backends */
	uint64_t no_backend;  /* answered 503: none of them took one */
};

struct fg_dp_item_stats {
	const char *name;     /* len bytes; borrowed until the next call */
	size_t len;
	uint64_t admitted, shed, sold_out;
	uint64_t allowance;   /* granted to the engine, not yet spent */
	uint64_t stock_left;  /* the store's, as last told */
};

struct fg_dp_seckill_stats {
	uint64_t reason[FG_DP_SK_REASONS];  /* by fg_seckill_reason_name */
	uint32_t items_in_use, items_max; /* item slots */
	bool items_cut;             /* items left out of the list below */
	uint32_t nitems;
	const struct fg_dp_item_stats *item; /* borrowed until the next
					      * call */
};

struct fg_dp_ops {
	const char *kind; /* "xdp", "dpdk" */
	/* Would apply() accept rs? 0 or -errno with a message; changes
	 * nothing. */
	int (*check)(struct fg_dataplane *dp, const struct fg_ruleset *rs,
		     char *err, size_t errlen);
	/* Make rs (as version) live atomically. 0 or -errno with a message;
	 * on failure the previous rule set stays live. */
	int (*apply)(struct fg_dataplane *dp, const struct fg_ruleset *rs,
		     uint64_t version, char *err, size_t errlen);
	/* The version live in the dataplane (0: none yet). */
	uint64_t (*applied_version)(struct fg_dataplane *dp);
	/* Counters since the dataplane was attached; -ENOENT for names the
	 * live rule set does not have. */
	int (*service_stats)(struct fg_dataplane *dp, const char *service,
			     struct fg_counter *out);
	int (*backend_stats)(struct fg_dataplane *dp, const char *service,
			     const struct fg_addr *addr, uint16_t port,
			     struct fg_counter *out);
	int (*limit_stats)(struct fg_dataplane *dp, const char *limit,
			   struct fg_limit_counter *out);
	int (*drop_stats)(struct fg_dataplane *dp,
			  uint64_t out[FG_DROP_REASON_MAX]);
	/* The L7 engine's counters of route or seckill rule `name`: 0, or
	 * -ENOENT when it runs none of that name. NULL: a dataplane without
	 * an L7 engine (its rps limits, if any, come through limit_stats). */
	int (*route_stats)(struct fg_dataplane *dp, const char *route,
			   struct fg_dp_route_stats *out);
	int (*seckill_stats)(struct fg_dataplane *dp, const char *rule,
			     struct fg_dp_seckill_stats *out);
	/* Whether the live set has the backend marked down (by its rule or
	 * by health checks): 0, or -ENOENT when it has no such backend. */
	int (*backend_down)(struct fg_dataplane *dp, const char *service,
			    const struct fg_addr *addr, uint16_t port,
			    bool *down);
	/* The recorded origin of the live set: 0, -ENOENT when none. */
	int (*origin)(struct fg_dataplane *dp, struct fg_dp_origin *o);
	/* Record the origin of the live set: 0 or -errno. */
	int (*set_origin)(struct fg_dataplane *dp, const struct fg_dp_origin *o);
	/* Release the handle; the dataplane keeps forwarding. */
	void (*close)(struct fg_dataplane *dp);
	/* Stop forwarding: detach and remove all pinned state, then close. */
	int (*detach)(struct fg_dataplane *dp);
};

struct fg_dataplane {
	const struct fg_dp_ops *ops;
	bool adopted;          /* took over a running dataplane */
	char setup[640];       /* what open did beyond loading or adopting
				* (mounted bpffs, took new settings, ...),
				* for the caller's log; "" if nothing */
	void *priv;
};

struct fg_boot_config;

#define FG_DP_OPEN_REPLACE 0x1 /* --replace-dataplane */
#define FG_DP_OPEN_DETACH 0x2  /* only to detach it: no attach, the
				* pinned settings and sizes as they are */

/* fg_dp_kind_check - 0 when this build has cfg's dataplane kind, else
 * -EOPNOTSUPP with a message naming it. */
int fg_dp_kind_check(const struct fg_boot_config *cfg, char *err, size_t errlen);

/*
 * fg_dp_open - the dataplane of the kind cfg names (dataplane.kind),
 * opened (or adopted) and attached as that kind does it: the factory
 * main goes through, so the rest of the daemon never names a kind.
 * flags: FG_DP_OPEN_*. Returns the handle, or NULL with a message in err
 * (a kind this build does not have included).
 */
struct fg_dataplane *fg_dp_open(const struct fg_boot_config *cfg,
				unsigned int flags, char *err, size_t errlen);

/*
 * fg_dp_xdp_open - the XDP kind: open (or adopt) the dataplane described
 * by cfg and attach it to every configured interface; an adopted one
 * takes cfg's addresses, GUE port and timeouts and leaves interfaces cfg
 * no longer names, but refuses other table sizes than it has unless
 * FG_DP_OPEN_REPLACE (then it is loaded anew). Returns the handle or NULL
 * with a message in err.
 */
struct fg_dataplane *fg_dp_xdp_open(const struct fg_boot_config *cfg,
				    unsigned int flags, char *err, size_t errlen);

#endif /* FG_DATAPLANE_H */
