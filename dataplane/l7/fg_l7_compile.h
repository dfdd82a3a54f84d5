/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * fg_l7_compile.h - the L7 compiler: a checked rule set (fg_rules.h) and
 * the instance layout in, the tables the L7 engine runs on for one rule
 * version out (issue 15; DESIGN.md "L7 without a proxy").
 *
 * What one version holds:
 *  - routes: every route of every `l7` service, and the `match` of every
 *    seckill rule, as fg_route_specs compiled into hyperscan databases,
 *    all serialised into ONE blob (blob, blob_len) that ships to the
 *    DPDK process; each lcore loads it once per version
 *    (fg_l7_matcher_load, which calls fg_route_load per section) and
 *    matches with its own scratch. Routes are per service (a request of
 *    service A never takes a route of service B), so the blob holds one
 *    route section and one seckill section per service that has any.
 *  - seckill: per rule, one struct fg_seckill_conf per worker lcore with
 *    that lcore's exact share of the rule's cluster-wide rate and burst,
 *    the window, items, stock and low-water mark, and the rule's answers
 *    built once (fg_respond).
 *  - limits: every `rps` limit of an `l7` service as a token-bucket
 *    profile per lcore (its share of the rate) and its built answer when
 *    the action is `respond`.
 *  - http: the reader settings of the version (fg_http_conf) with every
 *    header name a route, a seckill match or a header item watches.
 *  - route backends: every route's backends (ports settled: the
 *    service's where the rule gave none) and one Maglev ring per route
 *    over them, built as a service's (fg_backend_ident, weights,
 *    unusable backends at weight 0: fg_backend_usable), so that a
 *    change of a route's backends moves few connections;
 *    fg_l7_route_backend picks from it by the connection's flow hash.
 *
 * Ids: every route, seckill rule and limit has an id that stays the same
 * across versions while its name lives (the stats are per id), taken
 * from the previous version given to fg_l7_compile; a new name gets the
 * next id of the lineage, so an id never names two rules in a lineage.
 * `fresh` marks ids new in this version (their counters start at 0).
 *
 * Shares: a cluster-wide amount T (milli-requests) over N live nodes of
 * L worker lcores each: node n gets T/N, plus one when n < T % N; its
 * lcore l gets that over L the same way. The shares of every lcore of
 * every node sum to T exactly. Two floors, both stated per rule: a
 * share of a burst holds at least one request (FG_SECKILL_MILLI: an
 * instance whose bucket cannot hold one request admits nothing), and a
 * share of a rate is at least 1 milli-request/s (a zero rate is no
 * bucket); a rule whose burst is below the number of instances is then
 * over-admitted by at most one request per instance (`burst_floor`).
 * Per-client buckets (seckill per_client, limits keyed by src_ip) are
 * split over the lcores too, unless the layout says RSS hashes the
 * source address alone (src_affine): then a client reaches one lcore
 * and each lcore holds the node's whole share of it.
 *
 * Stock: an engine's low-water mark is FG_STOCK_LOW_WATER(batch) with
 * batch = layout->batch(rate share, batch_ms, batch_max, stock) - the
 * stock claimer's own relation (controlplane/fg_stock.h): pass
 * fg_stock_batch, and give the claimer the `batch` of the table.
 *
 * Control side only: everything is allocated here; the fast path
 * (fg_l7_route, fg_l7_seckill_rule) allocates nothing. Errors are -errno
 * with a message naming the field ("routes.api: path_regex: ...").
 */
#ifndef FG_L7_COMPILE_H
#define FG_L7_COMPILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fg_http.h"
#include "fg_respond.h"
#include "fg_route.h"
#include "fg_rules.h"
#include "fg_seckill.h"
#include "fg_tbucket.h"

#define FG_L7_LCORES_MAX  1024u
#define FG_L7_NODES_MAX   1024u
#define FG_L7_NEW         UINT32_MAX /* fg_l7_carry_plan: nothing to carry */
#define FG_L7_ID_MAX      (UINT32_MAX - 1)
/* Ring slots of every route of a version together (4 B each): 16,384
 * routes of up to 10 backends at the smallest ring size fit. */
#define FG_L7_RING_SLOTS_MAX (1u << 24)

/* fg_stock_batch's signature (controlplane/fg_stock.h). */
typedef uint64_t (*fg_l7_batch_fn)(uint64_t rate_milli, uint32_t batch_ms,
				   uint64_t batch_max, uint64_t stock);

/* The instance layout a version is compiled for. */
struct fg_l7_layout {
	uint32_t lcores;      /* worker lcores on this node, 1.. */
	uint32_t nodes;       /* live nodes sharing cluster-wide rates, 1.. */
	uint32_t node_index;  /* this node's rank among them, 0..nodes-1 */
	bool src_affine;      /* RSS hashes the source address alone */
	uint32_t batch_ms;    /* the claimer's (fg_stock_conf); 0: default */
	uint64_t batch_max;   /* likewise */
	fg_l7_batch_fn batch; /* fg_stock_batch; needed when a rule has
			       * stock */
	/* The matchers compiled already for these very rules (the blob of
	 * floodgated's compile, shipped with the table set with the rules
	 * it was compiled from): taken as they are, after a check that
	 * every service's sections hold as many routes and seckill rules as
	 * these tables give it, from the same first index. Both compiles
	 * order the same rules the same way; the check catches a blob whose
	 * counts differ, not one of other patterns in equal numbers. NULL:
	 * compile them (hyperscan). */
	const void *blob;
	size_t blob_len;
};

/* One l7 service and where its entries lie in the tables. */
struct fg_l7_svc {
	char name[FG_NAME_MAX];
	uint16_t port;                     /* the service's (0: every port) */
	uint32_t route_first, nroutes;     /* into routes, rank order */
	uint32_t seckill_first, nseckill;  /* into seckill, name order */
};

/* One route, in its service's rank order (priority, then name). */
struct fg_l7_route {
	char name[FG_NAME_MAX];
	uint32_t id;
	bool fresh;
	uint32_t svc;          /* index into svcs */
	uint32_t priority;     /* the rule's */
	uint32_t rule;         /* index into the rule set's routes */
	uint32_t be_first, nbe;        /* into backends, the rule's order */
	uint32_t ring_off, ring_size;  /* into ring; ring_size 0: no backend
					* takes new connections */
};

/* One backend a route picks. */
struct fg_l7_backend {
	struct fg_addr addr;
	uint16_t port;         /* settled: the service's when the rule
				* gave none */
	uint16_t weight;
	bool usable;           /* has ring slots (fg_backend_usable) */
	uint32_t route;        /* index into routes */
};

/* One seckill rule; conf[l] is lcore l's engine. */
struct fg_l7_seckill {
	char name[FG_NAME_MAX];
	uint32_t id;
	bool fresh;
	bool burst_floor;      /* a share was raised to one request */
	uint32_t svc;
	uint64_t *batch;       /* per lcore: fg_stock_rule_conf.batch (all
				* 0 without stock) */
	struct fg_seckill_conf *conf;      /* layout.lcores entries */
	struct fg_respond_spec respond_spec, sold_out_spec;
	struct fg_respond respond, sold_out; /* built once */
	/* What conf points into. */
	char item[FG_SECKILL_ITEM_NAME_MAX + 16];
	char **items;
	uint32_t nitems;
	struct fg_rule_respond rule_respond, rule_sold_out;
};

/* One rps limit of an l7 service. */
struct fg_l7_limit {
	char name[FG_NAME_MAX];
	uint32_t id;
	bool fresh;
	bool burst_floor;
	uint32_t svc;
	struct fg_limit lim;               /* match, key, action, flags
					    * (fg_limit_fill); its profile is
					    * prof[lcore], its id the id */
	uint64_t *rate_milli, *burst_milli; /* per lcore */
	struct fg_tb_profile *prof;        /* per lcore; cost
					    * FG_SECKILL_MILLI a request */
	struct fg_respond respond;         /* action respond only */
};

/* A compiled version. Read-only once built; fg_l7_tables_free frees it. */
struct fg_l7_idref;

struct fg_l7_tables {
	uint64_t version;
	struct fg_l7_layout layout;
	uint32_t nsvcs, nroutes, nseckill, nlimits;
	struct fg_l7_svc *svcs;
	struct fg_l7_route *routes;
	struct fg_l7_seckill *seckill;
	struct fg_l7_limit *limits;
	struct fg_http_conf http;  /* every watched header name */
	uint32_t nbackends;
	struct fg_l7_backend *backends; /* route by route, in rank order */
	uint32_t *ring;            /* every route's ring: indexes into
				    * backends */
	size_t ring_slots;
	void *blob;                /* the serialised matchers */
	size_t blob_len;
	uint32_t next_id[3];       /* the lineage's next route, seckill and
				    * limit id */
	struct fg_l7_idref *by_id[3]; /* private: (id, index) sorted by id */
};

/*
 * fg_l7_compile - compile rs (checked by fg_ruleset_check) for layout
 * into *out, taking ids from prev (the version running now, or NULL for
 * the first of a lineage). rs and prev may be freed afterwards.
 *
 * Returns 0; -EINVAL with the field in err (a bad layout, a pattern
 * hyperscan refuses: "routes.api: path_regex: <hyperscan's reason>", a
 * window that ends before it starts, an answer fg_respond refuses, more
 * header names than the reader watches, a rule naming no l7 service, a
 * layout blob that is not these rules' matchers: "blob: ...");
 * -ENOSPC when the lineage ran out of ids (compile with prev NULL) or
 * the routes' rings would exceed FG_L7_RING_SLOTS_MAX; -ENOMEM. On
 * failure *out is NULL.
 */
int fg_l7_compile(const struct fg_ruleset *rs, const struct fg_l7_layout *lay,
		  const struct fg_l7_tables *prev, uint64_t version,
		  struct fg_l7_tables **out, char *err, size_t errlen);

/* fg_l7_limit_judged - whether limit l is the L7 engine's (unit rps, or
 * answered with respond) rather than the L4 tables'. */
bool fg_l7_limit_judged(const struct fg_rule_limit *l);

/* fg_l7_tables_free - free t (NULL is fine). */
void fg_l7_tables_free(struct fg_l7_tables *t);

/* fg_l7_find_route / _seckill / _limit - the index of the entry with id,
 * or -ENOENT: how a counter follows its rule into the next version. */
int fg_l7_find_route(const struct fg_l7_tables *t, uint32_t id);
int fg_l7_find_seckill(const struct fg_l7_tables *t, uint32_t id);
int fg_l7_find_limit(const struct fg_l7_tables *t, uint32_t id);

/*
 * fg_l7_carry_plan - which engines of next can be built with
 * fg_seckill_carry from an engine of prev: from[r * L + l] (L =
 * next->layout.lcores, r a seckill index of next) receives the index
 * p * L' + l of prev's engine of the same rule (same id and name) on the
 * same lcore (L' = prev->layout.lcores), or FG_L7_NEW: a new rule, a new
 * lcore, or a rule that switched between one item and items by name (its
 * single item would take a slot among named ones). A carried engine
 * keeps its stock lineage (fg_stock_rule_set with the same epoch); a new
 * one starts one. from holds n >= next->nseckill * L entries. prev may
 * be NULL (everything new). Returns how many engines carry, or -EINVAL.
 */
int fg_l7_carry_plan(const struct fg_l7_tables *prev,
		     const struct fg_l7_tables *next, uint32_t *from, size_t n);

/*
 * fg_l7_route_backend - the backend route r (an index into t->routes)
 * gives a new connection whose flow hash is hash: an index into
 * t->backends, read from the route's ring (the same slot arithmetic as
 * a service's, fg_maglev_slot). -ENOENT when none of the route's
 * backends takes new connections (the caller answers 503), -EINVAL for
 * r out of range. Fast path: no allocation.
 */
int fg_l7_route_backend(const struct fg_l7_tables *t, uint32_t r,
			uint64_t hash);

/* ------------------------------------------------------------- matching */

struct fg_l7_matcher;
struct fg_l7_scratch;

/*
 * fg_l7_matcher_load - the matchers of blob (fg_l7_tables.blob) for
 * nsvcs services, registering the header names they watch in conf (a
 * copy of the version's fg_l7_tables.http, or settings being built).
 * Once per version (per lcore, or once and shared: the matcher is
 * read-only). Returns NULL with err set on a blob that is not one.
 */
struct fg_l7_matcher *fg_l7_matcher_load(const void *blob, size_t len,
					 uint32_t nsvcs,
					 struct fg_http_conf *conf,
					 char *err, size_t errlen);
void fg_l7_matcher_free(struct fg_l7_matcher *m);

/*
 * fg_l7_matcher_agrees - whether m holds the sections tables t give:
 * for every service, as many routes and seckill rules as t has, from
 * the same first index (counts and places only: the patterns are not
 * in the blob's records). 0, or -EINVAL with the first difference in
 * err.
 */
int fg_l7_matcher_agrees(const struct fg_l7_matcher *m,
			 const struct fg_l7_tables *t, char *err,
			 size_t errlen);

/* fg_l7_scratch_new - one lcore's scratch for m. NULL with err set. */
struct fg_l7_scratch *fg_l7_scratch_new(const struct fg_l7_matcher *m,
					char *err, size_t errlen);
void fg_l7_scratch_free(struct fg_l7_scratch *s);

/*
 * fg_l7_route - the route a complete request req of service svc takes:
 * its index into the version's routes (>= 0), FG_ROUTE_NONE (the
 * service's own backends), or -EINVAL (svc out of range, s not m's).
 * fg_l7_seckill_rule - likewise the seckill rule judging it (the first
 * by name whose match holds), an index into the version's seckill.
 * Fast path: no allocation; s is this lcore's.
 */
int fg_l7_route(const struct fg_l7_matcher *m, struct fg_l7_scratch *s,
		uint32_t svc, const struct fg_http_req *req);
int fg_l7_seckill_rule(const struct fg_l7_matcher *m, struct fg_l7_scratch *s,
		       uint32_t svc, const struct fg_http_req *req);

#endif /* FG_L7_COMPILE_H */
