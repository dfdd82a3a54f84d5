/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * fg_seckill.h - flash-sale admission (API.md Seckill): the per-request
 * engine the DPDK worker calls once the request reader (fg_http.h) has a
 * complete head.
 *
 * One engine is one seckill rule on one lcore. The control side builds it
 * per rule version (fg_seckill_new: every table sized and allocated
 * there), the worker judges requests with it (fg_seckill_judge: no
 * allocation, no clock, no lock, no syscall), and the control side feeds
 * it stock allowance and reads its counters while the worker runs.
 *
 * What a request meets, in order (the first that refuses answers):
 *  1. the window: start <= now < end on the caller's clock (ns since the
 *     Unix epoch, the node's synchronised clock; the rule's RFC 3339
 *     instants converted by the control side), else `respond`. The switch
 *     is at that instant, whenever the rule arrived.
 *  2. the item (fg_item.h): none -> `respond` (MISSING_ITEM); malformed
 *     -> 400 (BAD_ITEM); not in `items` -> `respond`; without `items`, an
 *     item first seen once max_items items have a slot -> `respond`. Such
 *     a request touches no bucket and no allowance, and grows nothing.
 *  3. the item's stock: no allowance left -> `sold_out` when the
 *     control plane said the item's store stock is 0, else `respond`.
 *  4. the item's token bucket (rate, burst), then the client's
 *     (per_client), judged together: a request refused by one charges
 *     neither (see fg_seckill.c).
 *  5. admitted: one unit of allowance spent, the request forwarded with
 *     `Connection: close` (FG_L7_F_CONN_CLOSE).
 *
 * Memory, all allocated by fg_seckill_new and never grown:
 *  - per item slot: 64 B of state (struct fg_seckill_item, one cache
 *    line) + 4 x 8 B of hash table (load <= 1/4) + its name (the listed
 *    names exactly; without `items`, conf->name_bytes, default
 *    max_items x FG_SECKILL_NAME_AVG) + 1 bit of "wants more";
 *  - per client slot: 64 B (struct fg_bucket_entry, dataplane/core);
 *  - three built answers (struct fg_respond, 4.6 KiB each).
 *
 * Rates and bursts are in thousandths of a request (milli-requests), so
 * the compiler can give each of N lcores and M nodes an exact share of a
 * rule's cluster-wide `rate`/`burst` (500/s over 12 instances is 41666
 * milli-requests/s each). A share's burst must hold one whole request.
 * per_client is per instance too: a client's connections (one per
 * purchase, Connection: close) reach one lcore only when RSS hashes the
 * source address alone for `l7` VIPs; otherwise the compiler gives each
 * lcore a share of the client's rate, as for items.
 *
 * Concurrency: one engine per lcore, one writer. Only the worker lcore
 * calls fg_seckill_judge; its state (buckets, counters, the dynamic item
 * table) has that one writer. The control thread may call, concurrently
 * with it, fg_seckill_grant, fg_seckill_set_stock_left,
 * fg_seckill_wants, fg_seckill_item_stats, fg_seckill_stats,
 * fg_seckill_item_find and fg_seckill_item_name: the fields they share are
 * each written by one side only (granted and stock_left by the control
 * side, admitted and the counters by the worker) with relaxed atomic
 * loads and stores, which are plain moves on x86; the "wants" bits are the
 * one field both sides write, with atomic OR (worker, only when an item
 * crosses its low-water mark) and atomic AND (control). Two control
 * threads must not grant the same engine at once without their own lock.
 * fg_seckill_carry and fg_seckill_free need the engine quiescent (RCU
 * grace period over: no worker in it).
 */
#ifndef FG_SECKILL_H
#define FG_SECKILL_H

#include <stddef.h>
#include <stdint.h>

#include "fg_flow.h"
#include "fg_http.h"
#include "fg_item.h"
#include "fg_respond.h"
#include "fg_tables.h"
#include "fg_tbucket.h"

#define FG_SECKILL_MILLI          1000u   /* milli-requests per request */
#define FG_SECKILL_MAX_ITEMS_DEFAULT 100000u /* API.md max_items */
#define FG_SECKILL_ITEMS_LIMIT    1000000u /* items or max_items at most */
#define FG_SECKILL_NAME_AVG       32u     /* default name bytes per slot */
#define FG_SECKILL_CLIENT_SLOTS_DEFAULT 65536u /* 4 MiB */
#define FG_SECKILL_CLIENT_SLOTS_LIMIT   (1u << 24)
/* Longest probe of the item table: a lookup reads at most this many
 * 8-byte slots (a few cache lines), hit or miss. */
#define FG_SECKILL_PROBE_MAX      32u
#define FG_SECKILL_NO_ITEM        UINT32_MAX
#define FG_SECKILL_NO_STOCK       UINT64_MAX
#define FG_SECKILL_BAD_ITEM_STATUS FG_ITEM_MALFORMED_STATUS

/* per_client key (API.md Limit `key`). */
enum fg_seckill_client_key {
	FG_SECKILL_CLIENT_NONE = 0,  /* no per_client limit */
	FG_SECKILL_CLIENT_SRC_IP,
	FG_SECKILL_CLIENT_SRC_PREFIX, /* src_prefix/N: client_prefix_len */
};

/*
 * A rule as the engine takes it: parsed and validated fields of the API
 * object, times in ns, rates as this instance's share. Read during
 * fg_seckill_new only; nothing of it is kept (strings are copied).
 */
struct fg_seckill_conf {
	uint32_t id;                /* rule id: per_client bucket keys */
	const char *item;           /* "segment:2"... or NULL: one item */
	const char *const *items;   /* nitems names, or NULL */
	const size_t *item_lens;    /* their lengths, or NULL: strlen */
	uint32_t nitems;
	uint32_t max_items;         /* without items; 0: the default */
	uint32_t name_bytes;        /* without items: name store; 0:
				     * max_items x FG_SECKILL_NAME_AVG */
	uint64_t rate_milli;        /* per item, milli-requests/s */
	uint64_t burst_milli;       /* >= FG_SECKILL_MILLI */
	uint64_t stock;             /* FG_SECKILL_NO_STOCK: no stock */
	uint64_t low_water;         /* "wants more" at or below this
				     * allowance; 0: one burst */
	uint8_t client_key;         /* enum fg_seckill_client_key */
	uint8_t client_prefix_len;  /* src_prefix/N, in bits of the family */
	uint64_t client_rate_milli;
	uint64_t client_burst_milli;
	uint32_t client_slots;      /* power of two; 0: the default */
	uint64_t start_ns;          /* 0: open from the start */
	uint64_t end_ns;            /* 0: never closes */
	const struct fg_respond_spec *respond;  /* NULL: 429, Retry-After 1 */
	const struct fg_respond_spec *sold_out; /* NULL: 410 */
};

/* fg_seckill_judge verdicts. */
enum fg_l7_verdict {
	FG_L7_ADMIT = 0,     /* forward (flags say how) */
	FG_L7_SHED,          /* answer resp (the rule's respond) */
	FG_L7_SOLD_OUT,      /* answer resp (the rule's sold_out) */
	FG_L7_MISSING_ITEM,  /* answer resp (respond): no item named */
	FG_L7_BAD_ITEM,      /* answer resp (400): item malformed */
};

/* Why: one rule counter each (fg_seckill_stats). */
enum fg_seckill_reason {
	FG_SK_ADMITTED = 0,
	FG_SK_SHED_BUCKET,    /* the item's bucket was empty */
	FG_SK_SHED_CLIENT,    /* the client's bucket was empty */
	FG_SK_SHED_ALLOWANCE, /* no allowance, store stock not yet 0 */
	FG_SK_SOLD_OUT,       /* no allowance, store stock 0 */
	FG_SK_WINDOW,         /* before start or from end on */
	FG_SK_UNKNOWN_ITEM,   /* not in items */
	FG_SK_TABLE_FULL,     /* new item past max_items (or names) */
	FG_SK_MISSING_ITEM,
	FG_SK_BAD_ITEM,
	FG_SK_REASON_MAX
};

#define FG_L7_F_CONN_CLOSE 0x1u /* forward with Connection: close */

struct fg_verdict_l7 {
	int verdict;          /* enum fg_l7_verdict */
	uint16_t flags;       /* FG_L7_F_* (ADMIT) */
	uint16_t status;      /* of the answer; 0 for ADMIT */
	uint8_t reason;       /* enum fg_seckill_reason */
	uint8_t pad[3];
	uint32_t item;        /* item index, or FG_SECKILL_NO_ITEM */
	const char *resp;     /* answer bytes (not ADMIT): read-only, live
			       * as long as the engine */
	uint32_t resp_len;    /* without the body for HEAD */
};

/*
 * Per item, one cache line. The worker writes tb, admitted, shed and
 * sold_out; the control side writes granted and stock_left. Allowance
 * held is granted - admitted (stock rules only), each side's counter
 * monotonic, so neither needs the other's lock.
 */
struct fg_seckill_item {
	struct fg_tb_state tb;  /* the item's bucket */
	uint64_t granted;       /* allowance granted so far (control) */
	uint64_t admitted;
	uint64_t shed;          /* respond: bucket, client, allowance */
	uint64_t sold_out;
	uint64_t stock_left;    /* store stock not yet claimed (control) */
	uint32_t name_off;      /* into the name store */
	uint8_t name_len;
	uint8_t pad[3];
} __attribute__((aligned(64)));
_Static_assert(sizeof(struct fg_seckill_item) == 64,
	       "seckill item state is one cache line");
_Static_assert(FG_ITEM_MAX <= 255, "item names fit fg_seckill_item.name_len");

struct fg_seckill;

/* What fg_seckill_item_stats reports. */
struct fg_seckill_item_stats {
	uint64_t admitted, shed, sold_out;
	uint64_t allowance;   /* held: granted, not yet spent */
	uint64_t stock_left;  /* as the control side last set it */
	int wants;            /* allowance at or below the low-water mark */
};

struct fg_seckill_stats {
	uint64_t reason[FG_SK_REASON_MAX]; /* requests by reason */
	uint32_t items;                    /* item slots in use */
	uint32_t items_max;                /* item slots */
	uint64_t bytes;                    /* memory the engine holds */
};

/*
 * fg_seckill_new - build an engine for conf. http: the rule version's
 * reader settings, which a header item is added to (may be NULL unless
 * the item is header:NAME); requests judged must be read with it.
 * Returns the engine, or NULL with errno set (EINVAL, ENOSPC, ENOMEM,
 * ERANGE) and a one-line reason naming the API field in err.
 * Control side; allocates everything the engine will ever use.
 */
struct fg_seckill *fg_seckill_new(const struct fg_seckill_conf *conf,
				  struct fg_http_conf *http, const
				  struct fg_hash_seed *seed, char *err,
				  size_t errlen);

/* fg_seckill_free - release e (NULL is fine). e must be quiescent. */
void fg_seckill_free(struct fg_seckill *e);

/*
 * fg_seckill_judge - judge one complete request (fg_http_feed returned
 * FG_HTTP_COMPLETE, with the conf given to fg_seckill_new) from client
 * (its source address and family; the rest is ignored) at now (ns, the
 * clock the window is in). Fills *out. Returns the verdict (>= 0), or
 * -EINVAL for a request that is not complete or was read with another
 * conf (out untouched). Worker lcore only: no allocation, no clock, no
 * lock; at most one item probe window and one client set.
 */
int fg_seckill_judge(struct fg_seckill *e, const struct fg_http_req *req,
		     const struct fg_flow_key *client, uint64_t now,
		     struct fg_verdict_l7 *out);

/*
 * fg_seckill_grant - add n to item idx's allowance (claimed from the
 * store). Returns 0, -EINVAL (no such item, or a rule without stock), or
 * -ERANGE (the total granted would wrap). Control side, concurrently
 * with the worker.
 */
int fg_seckill_grant(struct fg_seckill *e, uint32_t idx, uint64_t n);

/*
 * fg_seckill_set_stock_left - tell item idx how much stock the store has
 * not yet handed out (0: sold out once the allowance is spent). Returns 0
 * or -EINVAL. Control side, concurrently with the worker.
 */
int fg_seckill_set_stock_left(struct fg_seckill *e, uint32_t idx,
			      uint64_t left);

/*
 * fg_seckill_wants - up to max items whose allowance fell to the
 * low-water mark (or that met a request with none) since the last call,
 * into idx[]; their signals are cleared. Returns how many. Control side,
 * concurrently with the worker; an item that crosses again while the
 * call runs is reported by the next one.
 */
uint32_t fg_seckill_wants(struct fg_seckill *e, uint32_t *idx, uint32_t max);

/* fg_seckill_item_find - the index of item name[0..len), or
 * FG_SECKILL_NO_ITEM. Control side, concurrently with the worker. */
uint32_t fg_seckill_item_find(const struct fg_seckill *e, const char *name,
			      size_t len);

/* fg_seckill_item_name - item idx's name (not NUL-terminated) and its
 * length in *len, or NULL. Control side. */
const char *fg_seckill_item_name(const struct fg_seckill *e, uint32_t idx,
				 size_t *len);

/* fg_seckill_item_stats - item idx's counters. Returns 0 or -EINVAL.
 * Control side, concurrently with the worker. */
int fg_seckill_item_stats(const struct fg_seckill *e, uint32_t idx,
			  struct fg_seckill_item_stats *st);

/* fg_seckill_stats - the rule's counters. Control side. */
void fg_seckill_stats(const struct fg_seckill *e, struct fg_seckill_stats *st);

/*
 * fg_seckill_carry - move what src (the previous version's engine of the
 * same rule on the same lcore, quiescent) knows into dst (not yet
 * published): per item of src also in dst (by name; without `items` it
 * takes a slot), its bucket, counters, allowance and stock left, so a new
 * version neither forgets consumption nor hands out a second burst.
 * Per-client buckets start afresh. Returns how many items were carried.
 * Control side.
 */
uint32_t fg_seckill_carry(struct fg_seckill *dst, const struct fg_seckill *src);

/* fg_seckill_reason_name - a label for reason r ("shed_bucket"...). */
const char *fg_seckill_reason_name(unsigned int r);

#endif /* FG_SECKILL_H */
