/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * fg_stock_link.h - floodgated's stock claimers for the seckill engines
 * of its floodgate-dpdk process (fg_stock.h, fg_dpdk_ctl.h "stock").
 *
 * The engines run in the process; their claimers run here, on the
 * daemon's loop, with the daemon's store. The link stands between them:
 * every poll it makes one stock exchange with the process (the updates
 * the claimers made since, out; the engines and their items, in) and
 * keeps, per engine, a stand-in that the engine's claimer drives through
 * fg_stock_engine_ops as if the engine were here:
 *
 *  - a grant is queued for the next exchange as a compare-and-add on
 *    the granted count last seen, so a grant the process applied but
 *    whose answer was lost is refused when sent again, never doubled;
 *    the answer gives every op's item its counts as they are;
 *  - stock left is queued likewise (only when it changed);
 *  - the items it knows are those the process announced: every item of
 *    each version once, all again on a new connection or after a failed
 *    exchange; an announced item at or below its low-water mark, or
 *    whose signal was up, wants more (so a new lineage's items are
 *    claimed for at once, as fg_stock's `prime` does);
 *  - one claimer per worker lcore (holder "<node>.<lcore>"), one rule
 *    per engine; a new lineage (epoch) of an engine is a new stand-in,
 *    attached with that epoch once it has heard of every item the engine
 *    holds (so that the claimer's read of the holder's records finds
 *    them all); an engine the process no longer runs is removed from its
 *    claimer.
 *
 * Nothing oversells when an exchange fails or the process restarts: a
 * grant the process never saw leaves the item's granted below what the
 * claimer counted, so the claimer starts a new lineage for it (undersell
 * settled as lost, fg_stock.h), and a restarted process is a new lineage
 * for every engine.
 *
 * Memory: per engine, about 170 B per item it announced (name, counts,
 * its slot by name and on the want queue), up to
 * FG_STOCK_LINK_ITEMS_MAX; per exchange, the queued ops (~200 B each)
 * and one answer (at most FG_DPDK_CTL_STOCK_ITEMS_MAX items).
 *
 * One thread: the loop's. Not thread-safe.
 */
#ifndef FG_STOCK_LINK_H
#define FG_STOCK_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fg_stock.h"

struct event_base;
struct fg_dpdk_ctl_stock;

#define FG_STOCK_LINK_POLL_MS_DEFAULT 5u     /* while engines run */
#define FG_STOCK_LINK_IDLE_MS_DEFAULT 1000u  /* while none */
/* Items one stand-in knows at most (fg_seckill.h's bound on a rule). */
#define FG_STOCK_LINK_ITEMS_MAX 1000000u

struct fg_stock_link_conf {
	const char *prefix;     /* the store prefix (fg_stock_conf) */
	const char *node;       /* holders are "<node>.<lcore>" */
	uint32_t poll_ms;       /* 0: the default */
	uint32_t idle_ms;       /* 0: the default */
	/* Claimer settings (fg_stock_conf; 0: its defaults). */
	uint32_t claim_poll_ms, inflight_max, batch_ms;
	uint64_t batch_max;
	/* A new store client for a claimer, which takes it over; NULL
	 * with errno when none can be made. */
	struct fg_etcd *(*etcd)(void *arg);
	/* One exchange with the process: x's request out, its answer in
	 * (fg_dpdk_ctl_client_stock). 0 or -errno with a message:
	 * -ENOTCONN when nothing was sent (the ops wait for the next);
	 * set x->all when the process is not the one of the last
	 * exchange. */
	int (*exchange)(void *arg, struct fg_dpdk_ctl_stock *x, char *err,
			size_t errlen);
	/* For the log: the link lost or regained the process, or a
	 * claimer could not be made. May be NULL. */
	void (*note)(void *arg, const char *msg);
	void *arg;
};

struct fg_stock_link_stats {
	uint64_t exchanges, failures;  /* exchanges made, of which failed */
	uint64_t grants, refused;      /* grant ops sent; refused (stale) */
	uint32_t engines;              /* engines with stock it feeds */
	uint64_t items_dropped;        /* announced past the bound */
};

struct fg_stock_link;

/*
 * fg_stock_link_new - a link on base; its first exchange is due at once.
 * Returns NULL with errno (EINVAL: a field missing, with its name in
 * err; ENOMEM).
 */
struct fg_stock_link *fg_stock_link_new(struct event_base *base,
					const struct fg_stock_link_conf *c,
					char *err, size_t errlen);

/* fg_stock_link_free - stop, free the claimers (NULL is fine). */
void fg_stock_link_free(struct fg_stock_link *k);

/* fg_stock_link_kick - make the next exchange now (a rule set was
 * applied: the engines may have changed). */
void fg_stock_link_kick(struct fg_stock_link *k);

/* fg_stock_link_exchange - one exchange now (the timer's work). 0 or
 * the exchange's -errno. */
int fg_stock_link_exchange(struct fg_stock_link *k);

/*
 * fg_stock_link_rule_stats - the claimers' counters of seckill rule
 * name, summed over the lcores (batch: the largest; ready: all are).
 * 0, or -ENOENT when no engine of that rule is fed.
 */
int fg_stock_link_rule_stats(const struct fg_stock_link *k, const char *name,
			     struct fg_stock_rule_stats *st);

/* fg_stock_link_stats - the link's own counters. */
void fg_stock_link_stats(const struct fg_stock_link *k,
			 struct fg_stock_link_stats *st);

#endif /* FG_STOCK_LINK_H */
