/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * fg_dpdk_l7.h - the L7 engine a floodgate-dpdk process holds: built
 * from each pushed set's L7 section (fg_l7_ship.h) for the process's own
 * worker lcores, around the blob floodgated compiled, once per change of
 * the section, its state carried from the engine it replaces; and its
 * counters for STATS.
 *
 * The workers do not judge requests with it yet: that is the engine's
 * TCP side (SYN proxy, splice), which calls fg_l7_judge per request. So
 * the engine a set replaces is quiescent when the main lcore commits
 * the next one, and the commit carries every lcore's state at once
 * (fg_l7_engine_carry).
 *
 * No DPDK here (the unit test builds it without an EAL). Main lcore
 * only; not thread-safe.
 */
#ifndef FG_DPDK_L7_H
#define FG_DPDK_L7_H

#include <stddef.h>
#include <stdint.h>

#include "fg_dpdk_ctl.h"
#include "fg_l7_engine.h"

struct fg_dpdk_l7;

/* fg_dpdk_l7_new - a holder for lcores worker lcores, bucket hashes keyed
 * by seed (the process's flow-hash seed). NULL (ENOMEM, EINVAL). */
struct fg_dpdk_l7 *fg_dpdk_l7_new(uint32_t lcores,
				  const struct fg_hash_seed *seed);
void fg_dpdk_l7_free(struct fg_dpdk_l7 *x);

/*
 * fg_dpdk_l7_prepare - the engine of set's L7 section, pending. held is
 * the set whose section runs now (the one last committed; NULL before
 * any). Returns 1 when set changes what runs (a new or changed section,
 * or none where one runs), 0 when it does not (the same section as
 * held's, or none again), or -errno with the reason in err (the
 * section's rules or blob refused, out of memory); nothing pending
 * then. Call fg_dpdk_l7_commit or _abort after a 1.
 */
int fg_dpdk_l7_prepare(struct fg_dpdk_l7 *x, const struct fg_dpdk_ctl_set *set,
		       const struct fg_dpdk_ctl_set *held, char *err,
		       size_t errlen);

/* fg_dpdk_l7_commit - the pending engine runs: every lcore's state
 * carried from the one it replaces, which is freed. */
void fg_dpdk_l7_commit(struct fg_dpdk_l7 *x);

/* fg_dpdk_l7_abort - drop the pending engine. */
void fg_dpdk_l7_abort(struct fg_dpdk_l7 *x);

/* fg_dpdk_l7_engine - the running engine, or NULL. */
struct fg_l7_engine *fg_dpdk_l7_engine(const struct fg_dpdk_l7 *x);

/*
 * fg_dpdk_l7_collect - c->l7 = the running engine's counters by name
 * (routes, rps limits, seckill rules, and the rules' items, up to
 * FG_DPDK_CTL_ITEMS_MAX in all); left NULL without an engine. 0 or
 * -ENOMEM.
 */
int fg_dpdk_l7_collect(const struct fg_dpdk_l7 *x,
		       struct fg_dpdk_ctl_counters *c);

/*
 * fg_dpdk_l7_stock - one stock exchange (fg_dpdk_ctl.h "stock") with the
 * running engines: apply q's ops in order (a grant only where the item's
 * granted is the op's expect, on the engine of the op's lineage: -ENOENT
 * when that lineage runs no more), then
 * answer every engine with stock: its lineage and conf, the items whose
 * signal was up (taken), then items not yet announced (all again when
 * q->all), up to FG_DPDK_CTL_STOCK_ITEMS_MAX in all. Lineages: an
 * engine carried from the one before with every item it had keeps its
 * epoch (its items' counts go on); any other gets a new one. Main lcore, while workers run (fg_seckill.h allows the
 * calls). 0 or -ENOMEM.
 */
int fg_dpdk_l7_stock(struct fg_dpdk_l7 *x, struct fg_dpdk_ctl_stock *q);

#endif /* FG_DPDK_L7_H */
