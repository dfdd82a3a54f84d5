/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * fg_stock.h - the stock claimer: the control side of a seckill rule's
 * `stock` (API.md Seckill). It claims batches of stock from the store
 * with compare-and-swap and grants them to a seckill engine
 * (fg_seckill_grant) as allowance, which the engine spends one admitted
 * request at a time without ever asking anyone (fg_seckill.h).
 *
 * Same code whether the store is the embedded member or a cluster: every
 * claim is one etcd transaction through fg_etcd.
 *
 * ---------------------------------------------------------- layout
 *
 * Under the daemon's store prefix P (fg_store.h), per seckill rule R and
 * item I (I percent-encoded: every byte outside [A-Za-z0-9._~-] as %XX,
 * so an item may hold '/'; the single item of a rule without `item` is
 * the empty name, key suffix "%"):
 *
 *   P/stock/R/items/I            {"claimed":N,"lost":L}
 *       N: units of I's stock handed out in batches so far, by every
 *       holder of the cluster; only ever grows, never past the stock a
 *       claimer's rule says (stock left = stock - N). L: units claimed
 *       but known never to be spent (undersell, an upper bound), added by
 *       the holder that finds them (below).
 *   P/stock/R/holders/H/I        {"epoch":"<16 hex>","claimed":C,"admitted":A}
 *       H: one holder, an engine set with an allowance of its own (one
 *       lcore of one node: "edge-1.3"). C: what H claimed for I in the
 *       engine lineage `epoch` (on the scale of that engine's granted
 *       counter, which starts at 0); A: the engine's admitted count when
 *       H last claimed.
 *
 * One key per item (not sharded counters): items are independent keys,
 * so a sale of many items spreads its claims over as many keys; the one
 * hot key is a single item claimed by many holders at once, which
 * batching (one claim per batch) and backoff on conflict keep cheap. A
 * claim updates I's counter and H's record in one transaction:
 *
 *   if   mod_revision(items/I) == seen  and  mod_revision(holders/H/I) == seen
 *   then put items/I {N + n, L + loss},  put holders/H/I {epoch, C + n, A}
 *   else range items/I, range holders/H/I       (the fresh values, same
 *                                                round trip; retry)
 *
 * with n <= stock - N. Hence N never exceeds the stock, whatever the
 * number of holders, nodes, restarts and retries.
 *
 * ----------------------------------------------- why it never oversells
 *
 *  1. Store: N <= stock (the compare above; a value of N is only ever
 *     replaced by a larger one computed from it).
 *  2. Engine: admitted <= granted, per item (fg_seckill_judge spends only
 *     allowance, granted - admitted).
 *  3. Claimer: what it grants an engine of lineage E never exceeds what
 *     H's record claims for E. The one rule the claimer follows, after
 *     every read or write of the record: when the record is of the
 *     engine's lineage and says C > the engine's granted G, grant C - G.
 *     A claim is granted only once the store has it (never before the
 *     answer), so G <= C always, and a grant is never repeated: after it,
 *     G = C.
 *  4. Each unit of N belongs to one holder's record (both move in one
 *     transaction), so the sum of all C over all lineages is N, and every
 *     engine's admitted is bounded by its lineage's C: sum(admitted) <=
 *     N <= stock.
 *
 * What a restart does:
 *  - The claimer restarts (floodgated killed), the engine lives on: the
 *    new claimer reads H's records (fg_stock_rule_set), and rule 3
 *    grants what landed in the store but was never granted (a claim
 *    whose answer died with the old claimer): nothing oversold, nothing
 *    lost, and the counts go on from where they were - the engine kept
 *    its own. A claim whose answer was lost (timeout) is resolved the
 *    same way: the next transaction's compare on the record fails if it
 *    landed, and its failure branch shows C.
 *  - The engine restarts (its process died: the allowance it held is
 *    gone): the new engine is a new lineage, epoch E' != E. Its spent
 *    count need not be persisted: nothing the old lineage claimed is
 *    granted to the new one, so the old engine's spending cannot be
 *    repeated. What the old lineage held unspent is lost - undersell -
 *    and bounded: the claimer tops an item up to one batch B (claims
 *    B - held when held <= B/2), so at the last claim C - A = B, and
 *    what died unspent is at most C - A <= B, one batch per lost engine.
 *    The first transaction under E' adds C - A to items/I's L (an upper
 *    bound of what was lost) and starts the record afresh for E', in
 *    the same compare-guarded transaction, so a loss is counted once.
 *  - The store's counts are never reset by either: N only grows.
 *
 * The epoch identifies an engine lineage: the caller gives the same
 * epoch to fg_stock_rule_set exactly as long as the engine's per-item
 * granted/admitted counters go on (a new version built with
 * fg_seckill_carry from the previous one), and a new one
 * (fg_stock_epoch_new) for an engine whose counters start at 0: a new
 * process, or a rule rebuilt without carry. The claimer also checks
 * what it can see: an item missing from a new engine version, or whose
 * granted went below what the claimer granted it, or whose admitted is
 * below the record's, starts a new lineage for that item (its old
 * holding settled as lost).
 *
 * One claimer per holder at a time: two claimers feeding two engines
 * under one holder name could both grant the same record. The daemon's
 * single instance per node and per-lcore holder names give this.
 *
 * ------------------------------------------------------- when it claims
 *
 * Batch B per item: conf or fg_stock_batch() - the engine's share of the
 * rule's rate over batch_ms (1 s by default: about one claim per second
 * per busy item per holder), at least 1, at most batch_max and the
 * stock. The engine's low-water mark should be B / 2
 * (FG_STOCK_LOW_WATER): fg_seckill_wants then reports an item as its
 * allowance falls to half a batch, and the claim lands while the other
 * half is spent (prefetch: a busy item never waits for the store unless
 * the store takes longer than half a batch's worth of its rate). With
 * `prime`, every item the engine has when the rule is attached (the
 * `items` list, or the one item) is claimed at once, so a sale pushed
 * hours ahead opens with allowance in hand.
 *
 * An item the engine does not have (a request naming an item outside
 * `items`, or past max_items) is never signalled by the engine and never
 * claimed: invented items cost the store nothing.
 *
 * Conflicts (another holder's claim on the same item between our read
 * and our write): retried at once with the fresh values from the failure
 * branch, then with jittered backoff doubling from
 * FG_STOCK_BACKOFF_MIN_MS to FG_STOCK_BACKOFF_MAX_MS. Store errors:
 * backoff from FG_STOCK_ERR_BACKOFF_MIN_MS to ..._MAX_MS. At most
 * inflight_max transactions at once per claimer; one per item.
 *
 * Stock left is fed back (fg_seckill_set_stock_left) from every read of
 * items/I: stock - N, so an engine that has spent its allowance answers
 * `sold_out` once N reached the stock.
 *
 * ------------------------------------------------------------- threads
 *
 * One claimer runs on one event_base (the control thread); its engines'
 * workers run concurrently (fg_seckill.h says which calls may). Nothing
 * here logs; errors are -errno with a message.
 */
#ifndef FG_STOCK_H
#define FG_STOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;
struct fg_etcd;
struct fg_seckill;

#define FG_STOCK_BATCH_MS_DEFAULT     1000u
#define FG_STOCK_BATCH_MAX_DEFAULT    65536u
#define FG_STOCK_POLL_MS_DEFAULT      2u      /* fg_seckill_wants every */
#define FG_STOCK_INFLIGHT_DEFAULT     32u     /* txns at once */
#define FG_STOCK_INFLIGHT_MAX         1024u
#define FG_STOCK_BACKOFF_MIN_MS       1u      /* after a 2nd conflict */
#define FG_STOCK_BACKOFF_MAX_MS       200u
#define FG_STOCK_ERR_BACKOFF_MIN_MS   100u    /* after a store error */
#define FG_STOCK_ERR_BACKOFF_MAX_MS   5000u
#define FG_STOCK_PREFIX_MAX           256u
/* A holder name, [A-Za-z0-9._:-]: a node name (63) and ".<lcore>". */
#define FG_STOCK_HOLDER_MAX           80u
#define FG_STOCK_RANGE_PAGE           1000    /* records per read */
#define FG_STOCK_WANTS_PER_POLL       65536u  /* signals taken per rule */

/* The engine low-water mark that matches batch b (fg_seckill_conf's
 * low_water; 0 there means something else, hence the floor of 1). */
#define FG_STOCK_LOW_WATER(b) ((b) / 2 ? (b) / 2 : 1)

struct fg_stock_conf {
	const char *prefix;     /* the store prefix ("/floodgate"); no
				 * trailing '/' */
	const char *holder;     /* unique in the cluster, stable across
				 * restarts: "<node>.<lcore>" */
	uint32_t poll_ms;       /* 0: FG_STOCK_POLL_MS_DEFAULT */
	uint32_t inflight_max;  /* 0: FG_STOCK_INFLIGHT_DEFAULT */
	uint32_t batch_ms;      /* 0: FG_STOCK_BATCH_MS_DEFAULT */
	uint64_t batch_max;     /* 0: FG_STOCK_BATCH_MAX_DEFAULT */
};

/* A seckill rule with stock, as the claimer takes it. */
struct fg_stock_rule_conf {
	const char *name;       /* the rule's name (FG_NAME_RE) */
	uint64_t stock;         /* per item, cluster-wide (API.md) */
	uint64_t rate_milli;    /* the engine's share of the item rate, as
				 * in fg_seckill_conf */
	uint64_t batch;         /* 0: fg_stock_batch(rate_milli, ...) */
	uint64_t epoch;         /* the engine's lineage (header) */
	bool prime;             /* claim for the engine's items at once */
};

struct fg_stock_rule_stats {
	uint64_t claims;        /* claim transactions that landed */
	uint64_t claimed;       /* units they claimed */
	uint64_t granted;       /* units granted to the engine */
	uint64_t recovered;     /* of which from records: claims that landed
				 * but whose answer was never seen */
	uint64_t lost;          /* undersell this claimer settled (an upper
				 * bound of what ended engines left unspent) */
	uint64_t conflicts;     /* compares lost to another holder */
	uint64_t errors;        /* store errors, malformed values */
	uint64_t unknown;       /* transactions of unknown outcome */
	uint64_t batch;         /* B */
	uint32_t items;         /* items the claimer tracks */
	uint32_t inflight;      /* transactions in flight */
	bool ready;             /* the holder's records have been read */
};

struct fg_stock_item_stats {
	bool known;             /* items/I has been read */
	uint64_t claimed;       /* N, as last read (cluster-wide) */
	uint64_t lost;          /* L, as last read (cluster-wide) */
	uint64_t held_claimed;  /* C of this holder's record */
};

struct fg_stock;

/*
 * fg_stock_new - a claimer on base, using etcd (which it takes over:
 * fg_stock_free frees it, so no callback can outlive the claimer;
 * configure timeouts and TLS before). Returns NULL with errno (EINVAL,
 * ENOMEM) and a reason naming the field in err; etcd is then freed too.
 */
struct fg_stock *fg_stock_new(struct event_base *base, struct fg_etcd *etcd,
			      const struct fg_stock_conf *conf, char *err,
			      size_t errlen);

/* fg_stock_free - cancel everything, free etcd and the claimer (NULL is
 * fine). Engines are not touched. */
void fg_stock_free(struct fg_stock *s);

/*
 * The engine a claimer feeds, as calls of fg_seckill.h's meaning and
 * names (on the engine e given with them): a struct fg_seckill in this
 * process (fg_stock_rule_set), or a stand-in for an engine in
 * floodgate-dpdk (fg_stock_link.h). Called from the claimer's thread.
 */
struct fg_seckill_item_stats;
struct fg_seckill_stats;

struct fg_stock_engine_ops {
	int (*grant)(void *e, uint32_t idx, uint64_t n);
	int (*set_stock_left)(void *e, uint32_t idx, uint64_t left);
	uint32_t (*wants)(void *e, uint32_t *idx, uint32_t max);
	uint32_t (*item_find)(const void *e, const char *name, size_t len);
	const char *(*item_name)(const void *e, uint32_t idx, size_t *len);
	int (*item_stats)(const void *e, uint32_t idx,
			  struct fg_seckill_item_stats *st);
	void (*stats)(const void *e, struct fg_seckill_stats *st);
};

/*
 * fg_stock_rule_set - claim for rule rc->name into engine (built with
 * rc's stock and FG_STOCK_LOW_WATER(batch)); for a rule already
 * attached, switch to engine (a new version: from now on only engine is
 * touched, so the caller may free the old one after its grace period).
 * A new rule, or a new epoch, starts with a read of the holder's records
 * (recovering or settling them, header); claims wait for it. Returns 0,
 * -EINVAL (bad name, stock 0, no engine) or -ENOMEM, with err.
 */
int fg_stock_rule_set(struct fg_stock *s, const struct fg_stock_rule_conf *rc,
		      struct fg_seckill *engine, char *err, size_t errlen);

/* fg_stock_rule_attach - fg_stock_rule_set for an engine driven through
 * ops (the same rules: a new engine pointer is a new version). */
int fg_stock_rule_attach(struct fg_stock *s,
			 const struct fg_stock_rule_conf *rc,
			 const struct fg_stock_engine_ops *ops, void *engine,
			 char *err, size_t errlen);

/*
 * fg_stock_rule_remove - stop claiming for rule name and forget its
 * engine at once (it may be freed after the call); transactions in flight
 * finish without granting (the next lineage settles them). Returns 0 or
 * -ENOENT.
 */
int fg_stock_rule_remove(struct fg_stock *s, const char *name);

/* fg_stock_rule_stats - rule name's counters. Returns 0 or -ENOENT. */
int fg_stock_rule_stats(const struct fg_stock *s, const char *name,
			struct fg_stock_rule_stats *st);

/* fg_stock_item_stats - what the claimer knows of item idx of rule name's
 * engine. Returns 0, -ENOENT (no such rule) or -EINVAL (no such item). */
int fg_stock_item_stats(const struct fg_stock *s, const char *name,
			uint32_t idx, struct fg_stock_item_stats *st);

/*
 * fg_stock_batch - the batch for an engine's share rate_milli of an item
 * rate (milli-requests/s): rate_milli x batch_ms / 1e6 rounded up, at
 * least 1, at most batch_max (0: the default) and stock.
 */
uint64_t fg_stock_batch(uint64_t rate_milli, uint32_t batch_ms,
			uint64_t batch_max, uint64_t stock);

/* fg_stock_epoch_new - a random non-zero lineage id (getrandom). */
uint64_t fg_stock_epoch_new(void);

/*
 * fg_stock_key_item - write into buf item name[0..len)'s key component
 * (percent-encoded, "%" for the empty name). Returns its length, or
 * -ENAMETOOLONG when buf is too small.
 */
int fg_stock_key_item(char *buf, size_t size, const char *name, size_t len);

#endif /* FG_STOCK_H */
