/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * fg_l7_engine.h - the L7 engine of one rule version for every worker
 * lcore of a process: what the DPDK worker calls per complete request
 * (DESIGN.md "L7 without a proxy"), built from the version's compiled
 * tables (fg_l7_compile.h).
 *
 * A request of an l7 service is judged in this order:
 *  1. the service's rps limits, by name: each that matches the client
 *     (fg_limit_matches) charges its bucket one request. A refusal ends
 *     the walk: `respond` answers the limit's built answer, `drop`
 *     closes without an answer, `reset` resets the connection; a dry-run
 *     limit counts the refusal and lets the request on.
 *  2. the seckill rule judging it (the first of the service's by name
 *     whose match holds, fg_l7_seckill_rule): fg_seckill_judge - an
 *     answer (respond, sold_out, 400 for a malformed item) or admitted.
 *  3. the route (the highest-priority one whose match holds,
 *     fg_l7_route) picks the backend by the connection's flow hash
 *     (fg_l7_route_backend); a route none of whose backends takes new
 *     connections answers 503. No route: the service's own backends.
 *     In a service that has such a route the route is matched before
 *     step 2, so that a request answered 503 spends no seckill stock.
 * A request that a limit counted or a seckill rule admitted is forwarded
 * with `Connection: close` (FG_L7_F_CONN_CLOSE), so the next one comes on
 * a connection of its own and is judged too. Shed requests never reach
 * the route scan.
 *
 * Memory, all allocated by fg_l7_engine_new and never grown: per lcore a
 * matcher scratch, one seckill engine per rule (fg_seckill.h states its
 * size), one table of rps buckets for all the version's limits
 * (conf.limit_slots x 64 B; default 65,536 slots, 4 MiB; none without
 * limits), and 16 B of counters per route and per limit. The matcher
 * (the hyperscan databases) is loaded once and shared.
 *
 * Concurrency: lcore l's part is written by the worker of lcore l alone
 * (fg_l7_judge with lcore l). The control side reads the counters
 * (fg_l7_engine_*_stats) and drives the seckill engines' stock
 * (fg_l7_engine_seckill, then fg_seckill_wants / _grant /
 * _set_stock_left) concurrently, as fg_seckill.h allows.
 *
 * A new version: fg_l7_engine_new(next tables, prev engine) plans what
 * carries; fg_l7_engine_carry(next, prev, l) then moves lcore l's state
 * (each seckill engine's items, buckets, allowances and counters, the rps
 * buckets, the route and limit counters of the rules that stay, by id)
 * while prev's lcore l is quiescent: from the worker of lcore l before it
 * first judges with next, or from the control side after a grace period.
 * A rule that is new, or an lcore prev did not have, starts afresh.
 */
#ifndef FG_L7_ENGINE_H
#define FG_L7_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "fg_flow.h"
#include "fg_http.h"
#include "fg_l7_compile.h"
#include "fg_respond.h"
#include "fg_seckill.h"

#define FG_L7_LIMIT_SLOTS_DEFAULT 65536u
#define FG_L7_LIMIT_SLOTS_MAX     (1u << 24)

/* What fg_l7_judge tells the caller to do. */
enum fg_l7_action {
	FG_L7_FORWARD = 0,  /* to backend (a route's) or the service's ring */
	FG_L7_ANSWER,       /* send resp[0..resp_len), then close */
	FG_L7_CLOSE,        /* close without an answer (limit action drop) */
	FG_L7_RESET,        /* reset the connection (limit action reset) */
};

/* Who decided (for the counters and the log). */
enum fg_l7_by {
	FG_L7_BY_NONE = 0,  /* forwarded, nothing refused it */
	FG_L7_BY_LIMIT,
	FG_L7_BY_SECKILL,
	FG_L7_BY_ROUTE,     /* 503: the route has no usable backend */
};

struct fg_l7_decision {
	uint8_t action;     /* enum fg_l7_action */
	uint8_t by;         /* enum fg_l7_by */
	uint16_t flags;     /* FG_L7_F_CONN_CLOSE (FORWARD) */
	uint16_t status;    /* of the answer; 0 otherwise */
	uint8_t reason;     /* enum fg_seckill_reason when by SECKILL */
	uint8_t pad;
	int32_t limit;      /* index into the tables' limits that refused, or
			     * -1 */
	int32_t seckill;    /* index into seckill of the rule that judged,
			     * or -1 */
	int32_t route;      /* index into routes, or -1: the service's own
			     * backends */
	int32_t backend;    /* index into backends (FORWARD with a route),
			     * or -1 */
	uint32_t item;      /* the seckill item, or FG_SECKILL_NO_ITEM */
	const char *resp;   /* ANSWER: read-only, lives as the engine */
	uint32_t resp_len;  /* without the body for HEAD */
};

struct fg_l7_engine_conf {
	uint32_t limit_slots;  /* rps buckets per lcore, a power of two in
				* FG_CT_WAYS..FG_L7_LIMIT_SLOTS_MAX; 0: the
				* default */
};

struct fg_l7_engine;

/*
 * fg_l7_engine_new - the engine of tables t (which must outlive it) for
 * t->layout.lcores lcores, with the flow-hash seed of the process (the
 * per-client and rps bucket hashes). prev (may be NULL) is the engine
 * running now: what fg_l7_engine_carry will take from it is planned
 * here. Returns the engine or NULL with a one-line reason in err.
 * Control side: allocates everything the engine will use.
 */
struct fg_l7_engine *fg_l7_engine_new(const struct fg_l7_tables *t,
				      const struct fg_l7_engine *prev,
				      const struct fg_l7_engine_conf *conf,
				      const struct fg_hash_seed *seed,
				      char *err, size_t errlen);

/* fg_l7_engine_free - free e (NULL is fine). No lcore may judge with it. */
void fg_l7_engine_free(struct fg_l7_engine *e);

/*
 * fg_l7_engine_carry - move lcore's state from prev (the engine given to
 * fg_l7_engine_new for next, quiescent on lcore) into next (not yet used
 * on lcore), as the header says. Once per lcore. Returns how many seckill items carried, or -EINVAL (prev
 * is not the engine next was planned from, lcore out of range, or
 * carried already). prev keeps its own state but for its rps buckets,
 * which next takes over (a bucket table moves whole).
 */
int fg_l7_engine_carry(struct fg_l7_engine *next, struct fg_l7_engine *prev,
		       uint32_t lcore);

/* fg_l7_engine_http - the reader settings requests judged by e must be
 * read with (the version's, with every watched header). */
const struct fg_http_conf *fg_l7_engine_http(const struct fg_l7_engine *e);

/* fg_l7_engine_tables - the tables e runs on. */
const struct fg_l7_tables *fg_l7_engine_tables(const struct fg_l7_engine *e);

/*
 * fg_l7_judge - judge one complete request req (read with
 * fg_l7_engine_http(e)) of l7 service svc (an index into the tables'
 * svcs) on lcore, from the connection client (its flow key: the rps
 * limits' keys and matches, the seckill per-client key) whose flow hash
 * is hash (the route's backend), at now (ns, the clock the windows are
 * in). Fills *out and returns its action (>= 0), or -EINVAL (svc or
 * lcore out of range, a request not complete or read with other
 * settings; out untouched). Worker of lcore only: no allocation, no
 * clock, no lock.
 */
int fg_l7_judge(struct fg_l7_engine *e, uint32_t lcore, uint32_t svc,
		const struct fg_http_req *req, const struct fg_flow_key *client,
		uint64_t hash, uint64_t now, struct fg_l7_decision *out);

/* ------------------------------------------------------ control side */

struct fg_l7_route_stats {
	uint64_t forwarded;   /* requests the route sent to its backends */
	uint64_t no_backend;  /* answered 503 */
};

struct fg_l7_limit_stats {
	uint64_t passed, limited;
};

/*
 * Counters summed over the lcores, from the version that first had the
 * rule (they carry with it): route r, limit k, seckill rule r (an index
 * into the tables' arrays). item: item name[0..len) of rule r, summed
 * over the lcores that hold it (the allowance too; stock_left is the
 * store's as the control side last set it on any lcore, wants whether
 * any lcore wants more). 0, -EINVAL (index out of range),
 * -ENOENT (no lcore holds the item).
 */
int fg_l7_engine_route_stats(const struct fg_l7_engine *e, uint32_t r,
			     struct fg_l7_route_stats *st);
int fg_l7_engine_limit_stats(const struct fg_l7_engine *e, uint32_t k,
			     struct fg_l7_limit_stats *st);
int fg_l7_engine_seckill_stats(const struct fg_l7_engine *e, uint32_t r,
			       struct fg_seckill_stats *st);
int fg_l7_engine_item_stats(const struct fg_l7_engine *e, uint32_t r,
			    const char *name, size_t len,
			    struct fg_seckill_item_stats *st);

/* fg_l7_engine_seckill - lcore's engine of seckill rule r (the stock
 * claimer's handle: wants, grants, stock left, item names), or NULL. */
struct fg_seckill *fg_l7_engine_seckill(struct fg_l7_engine *e, uint32_t r,
					uint32_t lcore);

/* fg_l7_engine_bytes - memory the engine holds (matcher excepted). */
size_t fg_l7_engine_bytes(const struct fg_l7_engine *e);

#endif /* FG_L7_ENGINE_H */
