/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * fg_dpdk_ctl.h - the control channel between floodgated and
 * floodgate-dpdk: a Unix SOCK_SEQPACKET socket (0600, peers of the
 * server's own uid or root only) over which floodgated pushes complete,
 * versioned table sets (FULL) on (re)connect and the entries that changed
 * (DELTA) afterwards; the process answers with the version it applied
 * (ACK) or why not (NACK), and with its counters when asked (STATS).
 *
 * Three parts, none of which needs DPDK (the process links them beside
 * its EAL; floodgated and the tests without one):
 *
 *  - a table set (struct fg_dpdk_ctl_set): the images of one rule
 *    version as the rule compiler makes them (fg_compile.h), owned, in
 *    id order, rings shared between versions by reference;
 *    fg_dpdk_ctl_set_view() gives the struct fg_compiled that
 *    fg_dp_tables_new() takes;
 *  - the codec: a set, or the changes from one set to the next, to bytes
 *    and back; decoding is strict and bounded, and a malformed or
 *    truncated body is refused with a message and yields nothing;
 *  - the server (the process's main lcore polls it, non-blocking) and the
 *    client (floodgated's dpdk driver, blocking with a deadline).
 *
 * Wire format. Every message is one SEQPACKET datagram of at most
 * FG_DPDK_CTL_MSG_MAX bytes: a 16-byte header, then len bytes of payload.
 * Integers are little-endian; addresses and ports are carried as the
 * tables hold them (network order), byte for byte.
 *
 *   off size  field
 *   0   4     magic   0x54434746 ("FGCT")
 *   4   2     proto   FG_DPDK_CTL_PROTO; another one is refused (NACK)
 *   6   1     type    enum fg_dpdk_ctl_type
 *   7   1     flags   FG_DPDK_CTL_F_FIRST / _LAST (chunked bodies)
 *   8   4     seq     the request's; a reply carries its request's seq
 *   12  4     len     payload bytes; must equal datagram size - 16
 *
 * FULL, DELTA, STATE, STATS, STOCK_REQ and STOCK carry a body that may need several
 * messages: the first has FIRST (and its payload starts with the body's
 * total length, u64), the last has LAST, a body of one message has both.
 * See fg_dpdk_ctl.c for the bodies.
 *
 * Use in floodgate-dpdk (the main lcore; workers never touch the server):
 *
 *   start:  fg_dpdk_ctl_server_new(path, collect = sum of every worker's
 *           fg_dp_lcore_counters() and the ports' rte_eth_stats), after
 *           the workers' state exists; tables from the empty set (or a
 *           rule file, then fg_dpdk_ctl_server_hold() of its set);
 *           rte_rcu_qsbr_init(qsbr, nworkers).
 *   worker: rte_rcu_qsbr_thread_register/online(qsbr, index) once; each
 *           loop iteration loads the tables pointer once (acquire), runs
 *           every burst of the iteration with it, then
 *           rte_rcu_qsbr_quiescent(qsbr, index) - idle iterations too,
 *           so a sleeping worker delays a swap by one sleep at most;
 *           offline/unregister on exit.
 *   main:   loop { fg_dpdk_ctl_server_wait(srv, 100);
 *                  if (fg_dpdk_ctl_server_poll(srv, &set) == 1) {
 *                      fg_dpdk_ctl_set_view(set, &cp);
 *                      t = fg_dp_tables_new(&cp, settings, ...);
 *                      if (!t) { fg_dpdk_ctl_server_installed(srv, e, why);
 *                                continue; }
 *                      old = tables; store tables = t (release);
 *                      rte_rcu_qsbr_synchronize(qsbr, RTE_QSBR_THRID_INVALID);
 *                      fg_dp_tables_free(old);
 *                      fg_dpdk_ctl_server_installed(srv, 0, NULL); } }
 *
 * The ACK leaves only after the grace period: when floodgated hears it,
 * every worker runs the new version and the old tables are gone. While
 * nobody is connected the workers go on with the last tables.
 *
 * Not thread-safe: one thread owns a server, a client, or a set.
 */
#ifndef FG_DPDK_CTL_H
#define FG_DPDK_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fg_compile.h"
#include "fg_tables.h"

#define FG_DPDK_CTL_MAGIC 0x54434746U
/* 2: sets carry an L7 section (FULL, DELTA, STATE). */
#define FG_DPDK_CTL_PROTO 2U
#define FG_DPDK_CTL_HDR 16U
/* One datagram: the default socket buffers (wmem_default ~208 KiB) hold
 * a few, so no sysctl is needed for a SEQPACKET message of this size. */
#define FG_DPDK_CTL_MSG_MAX 65536U
/* A body (FULL, DELTA, STATE, STATS): 4096 services with their rings,
 * 65536 backends and 256 limits fit with room; more is refused before
 * anything is allocated for it. */
#define FG_DPDK_CTL_BODY_MAX (64U << 20)
/* Sum of every ring's slots in one set (the compiler's ring array). */
#define FG_DPDK_CTL_RING_SLOTS_MAX (1U << 24)
#define FG_DPDK_CTL_PORTS_MAX 16U   /* = FG_DP_PORTS_MAX */
#define FG_DPDK_CTL_LCORES_MAX 128U /* = FG_DP_LCORES_MAX */
#define FG_DPDK_CTL_TEXT_MAX 256U   /* NACK text, peer name, NUL included */
/* An L7 section's parts (fg_l7_ship.h): the rules' JSON, the blob. */
#define FG_DPDK_CTL_L7_RULES_MAX (16U << 20)
#define FG_DPDK_CTL_L7_BLOB_MAX  (32U << 20)

enum fg_dpdk_ctl_type {
	FG_DPDK_CTL_HELLO = 1,     /* both ways, first */
	FG_DPDK_CTL_FULL = 2,      /* client: a complete set (chunked) */
	FG_DPDK_CTL_DELTA = 3,     /* client: changes since the held set */
	FG_DPDK_CTL_ACK = 4,       /* server: u64 applied version */
	FG_DPDK_CTL_NACK = 5,      /* server: u32 errno, u16 len, text */
	FG_DPDK_CTL_STATS_REQ = 6, /* client: no payload */
	FG_DPDK_CTL_STATS = 7,     /* server: counters (chunked) */
	FG_DPDK_CTL_ORIGIN = 8,    /* client: u64 cluster id, u64 revision */
	FG_DPDK_CTL_STATE_REQ = 9, /* client: no payload */
	FG_DPDK_CTL_STATE = 10,    /* server: the held set (chunked, as
				    * FULL's body) */
	FG_DPDK_CTL_STOCK_REQ = 11, /* client: stock updates (chunked) */
	FG_DPDK_CTL_STOCK = 12,    /* server: their outcome, and what the
				    * engines want (chunked) */
};

#define FG_DPDK_CTL_F_FIRST 0x1
#define FG_DPDK_CTL_F_LAST  0x2

/* ------------------------------------------------------------ buffer */

/* A growing byte buffer (the encoders' output). */
struct fg_dpdk_ctl_buf {
	uint8_t *p;
	size_t len, cap;
	int err;   /* -ENOMEM once a write failed: the rest is dropped */
};

/* fg_dpdk_ctl_buf_free - release b's bytes and zero it. */
void fg_dpdk_ctl_buf_free(struct fg_dpdk_ctl_buf *b);

/* --------------------------------------------------------------- set */

struct fg_dpdk_ctl_ring; /* a ring's slots, shared between sets */
struct fg_dpdk_ctl_l7;   /* an L7 section, shared between sets */

/*
 * The images of one rule version, owned. Services, backends and limits
 * are sorted by id (each id once); svcs[i].ring points into rings[i]
 * (NULL when ring_size is 0); key.gen of every service is gen; limit
 * index is gen * FG_LIMIT_MAX + id; config.vip_filter[!gen] is zero.
 * Version 0 is the empty set (nothing to forward).
 */
struct fg_dpdk_ctl_set {
	uint64_t version;
	uint32_t gen;
	struct fg_config config;
	uint32_t nsvcs;
	struct fg_compiled_svc *svcs;
	struct fg_dpdk_ctl_ring **rings;
	uint32_t nbackends;
	struct fg_compiled_backend *backends;
	uint32_t nlimits;
	struct fg_compiled_limit *limits;
	struct fg_dpdk_ctl_l7 *l7;   /* NULL: no l7 rules (fg_dpdk_ctl_set_l7) */
};

/* fg_dpdk_ctl_set_empty - the empty set (version 0), or NULL (ENOMEM). */
struct fg_dpdk_ctl_set *fg_dpdk_ctl_set_empty(void);

/*
 * fg_dpdk_ctl_set_from_compiled - the set of cp's generation (a copy: cp
 * may be freed after). A ring equal to base's ring of the same service
 * id is shared with base rather than copied (base may be NULL). The set
 * is checked as a decoded one is (fg_dpdk_ctl_set_check). Returns the
 * set, or NULL with *errp (-EINVAL, -ENOMEM) and a message in err.
 */
struct fg_dpdk_ctl_set *
fg_dpdk_ctl_set_from_compiled(const struct fg_compiled *cp,
			      const struct fg_dpdk_ctl_set *base, int *errp,
			      char *err, size_t errlen);

/*
 * fg_dpdk_ctl_set_l7 - give s the L7 section (fg_l7_ship.h): the rules'
 * JSON text (rules_len bytes) and the matchers' blob, copied; or none
 * (both lengths 0). A section equal to base's (may be NULL) is shared
 * with base rather than copied, so a DELTA does not carry it again.
 * Returns 0, -EINVAL (one part without the other, or over
 * FG_DPDK_CTL_L7_RULES_MAX / _BLOB_MAX), -ENOMEM; s is unchanged then.
 */
int fg_dpdk_ctl_set_l7(struct fg_dpdk_ctl_set *s, const void *rules,
		       size_t rules_len, const void *blob, size_t blob_len,
		       const struct fg_dpdk_ctl_set *base);

/*
 * fg_dpdk_ctl_set_l7_get - s's L7 section into the pointers (into s;
 * NULL and 0 without one). Returns whether s has one.
 */
bool fg_dpdk_ctl_set_l7_get(const struct fg_dpdk_ctl_set *s,
			    const void **rules, size_t *rules_len,
			    const void **blob, size_t *blob_len);

/* fg_dpdk_ctl_set_l7_same - a and b carry the same L7 section (or
 * neither has one). */
bool fg_dpdk_ctl_set_l7_same(const struct fg_dpdk_ctl_set *a,
			     const struct fg_dpdk_ctl_set *b);

/* fg_dpdk_ctl_set_free - release s (its rings when no other set holds
 * them). Accepts NULL. */
void fg_dpdk_ctl_set_free(struct fg_dpdk_ctl_set *s);

/*
 * fg_dpdk_ctl_set_check - s is what a set must be (see the struct):
 * ids in range and ascending, names valid, keys of a known family and
 * protocol and distinct, every limit a service or the config names
 * present, every ring slot a backend of that very service, backends of a
 * present service with FG_BE_F_VALID, profiles that cannot overflow the
 * fast path's math. Returns 0 or -EINVAL with the first problem in err.
 */
int fg_dpdk_ctl_set_check(const struct fg_dpdk_ctl_set *s, char *err,
			  size_t errlen);

/*
 * fg_dpdk_ctl_set_view - fill *cp so that it describes s, for
 * fg_dp_tables_new() (which only reads it): its arrays point into s, so
 * s must outlive the call; the id lists are empty and cp->next is NULL
 * (never commit or free it).
 */
void fg_dpdk_ctl_set_view(const struct fg_dpdk_ctl_set *s,
			  struct fg_compiled *cp);

/* fg_dpdk_ctl_set_backend - the entry of backend id in s, or NULL. */
const struct fg_backend *
fg_dpdk_ctl_set_backend(const struct fg_dpdk_ctl_set *s, uint32_t id);

/* fg_dpdk_ctl_set_service - the index in s->svcs of service id, or -1. */
long fg_dpdk_ctl_set_service(const struct fg_dpdk_ctl_set *s, uint32_t id);

/* ------------------------------------------------------------- codec */

/*
 * fg_dpdk_ctl_encode_full - append the FULL body of s to b. Returns 0 or
 * -ENOMEM (b->err). The body ends with the L7 section: u32 rules_len,
 * the rules, u32 blob_len, the blob (both 0 without one).
 */
int fg_dpdk_ctl_encode_full(const struct fg_dpdk_ctl_set *s,
			    struct fg_dpdk_ctl_buf *b);

/*
 * fg_dpdk_ctl_encode_delta - append to b the DELTA body that turns base
 * into next: next's version, generation and config, the services,
 * backends and limits next writes (new or different, a ring only when
 * its slots differ) and those it drops, then u8 1 and next's L7 section
 * (as in FULL) when it differs from base's, else u8 0. Its size follows
 * what changed, not the size of the set. Returns 0 or -ENOMEM.
 */
int fg_dpdk_ctl_encode_delta(const struct fg_dpdk_ctl_set *base,
			     const struct fg_dpdk_ctl_set *next,
			     struct fg_dpdk_ctl_buf *b);

/*
 * fg_dpdk_ctl_decode_full - the set a FULL (or STATE) body of n bytes at
 * p describes, checked whole (fg_dpdk_ctl_set_check). Returns 0 with
 * *out, or -EINVAL (malformed, truncated, trailing bytes, a set that
 * fails the check) / -ENOMEM with a message in err; *out is then NULL.
 */
int fg_dpdk_ctl_decode_full(const void *p, size_t n,
			    struct fg_dpdk_ctl_set **out, char *err,
			    size_t errlen);

/*
 * fg_dpdk_ctl_decode_delta - the set that the DELTA body at p makes of
 * base: base's entries with the body's changes, checked whole; rings the
 * body does not carry are shared with base. base is not changed.
 * Returns 0 with *out; -ESTALE when the body was made against another
 * version than base's (the sender must send FULL); -EINVAL / -ENOMEM as
 * fg_dpdk_ctl_decode_full.
 */
int fg_dpdk_ctl_decode_delta(const struct fg_dpdk_ctl_set *base,
			     const void *p, size_t n,
			     struct fg_dpdk_ctl_set **out, char *err,
			     size_t errlen);

/* ---------------------------------------------------------- counters */

struct fg_dpdk_ctl_port {
	uint64_t rx, tx, exception, arp_nd; /* summed over lcores */
	uint64_t rx_missed, rx_errors, tx_errors; /* the device's own */
};

struct fg_dpdk_ctl_lcore {
	uint64_t rx, tx, exception, arp_nd; /* over every port */
	uint64_t handoff, neigh_learned;
	uint64_t drops[FG_DROP_REASON_MAX];
};

/*
 * The L7 engine's counters (fg_l7_engine.h), summed over the lcores, by
 * name: they count from the version that first had the rule, in the
 * process (the engine carries them by id from version to version).
 */
#define FG_DPDK_CTL_SK_REASONS 10U     /* = FG_SK_REASON_MAX */
#define FG_DPDK_CTL_ITEM_MAX 128U      /* bytes of an item (FG_ITEM_MAX) */
/* Items reported in one STATS, every rule together: a rule's listed
 * items or those its crowd named, up to this; the rest are summed in
 * the rule's counters only (the rule's items_cut). */
#define FG_DPDK_CTL_ITEMS_MAX 65536U

struct fg_dpdk_ctl_l7_route {
	char name[FG_NAME_MAX];
	uint64_t forwarded, no_backend;
};

struct fg_dpdk_ctl_l7_limit {
	char name[FG_NAME_MAX];
	uint64_t passed, limited;
};

struct fg_dpdk_ctl_l7_item {
	char name[FG_DPDK_CTL_ITEM_MAX];  /* len bytes, not NUL-terminated
					   * when it fills the array */
	uint32_t len;
	uint64_t admitted, shed, sold_out;
	uint64_t allowance;    /* held: granted, not yet spent */
	uint64_t stock_left;   /* the store's, as last told */
};

struct fg_dpdk_ctl_l7_rule {
	char name[FG_NAME_MAX];
	uint64_t reason[FG_DPDK_CTL_SK_REASONS]; /* requests by reason */
	uint32_t items, items_max;   /* item slots in use, and in all */
	uint32_t item_first, nitems; /* its entries of items[] */
	bool items_cut;              /* it has more than it reports */
};

struct fg_dpdk_ctl_l7_counters {
	uint32_t nroutes, nlimits, nrules, nitems;
	struct fg_dpdk_ctl_l7_route *routes;
	struct fg_dpdk_ctl_l7_limit *limits;  /* rps and respond limits */
	struct fg_dpdk_ctl_l7_rule *rules;    /* seckill rules */
	struct fg_dpdk_ctl_l7_item *items;
};

/* fg_dpdk_ctl_l7_counters_new - room for the given numbers of entries
 * (counts set, entries zeroed), or NULL. */
struct fg_dpdk_ctl_l7_counters *
fg_dpdk_ctl_l7_counters_new(uint32_t nroutes, uint32_t nlimits,
			    uint32_t nrules, uint32_t nitems);
void fg_dpdk_ctl_l7_counters_free(struct fg_dpdk_ctl_l7_counters *x);

/*
 * What STATS carries: the applied version, per port, per lcore, and per
 * id of the applied set (the sums over lcores, counted from the version
 * that first used the id: a name that is new starts from 0 as with XDP).
 * drops[] is the sum of the lcores'. About 2.2 MiB: allocate it.
 */
struct fg_dpdk_ctl_counters {
	uint64_t version;
	uint32_t nports, nlcores;
	struct fg_dpdk_ctl_port port[FG_DPDK_CTL_PORTS_MAX];
	struct fg_dpdk_ctl_lcore lcore[FG_DPDK_CTL_LCORES_MAX];
	uint64_t drops[FG_DROP_REASON_MAX];
	struct fg_counter svc[FG_SVC_MAX];
	struct fg_counter be[FG_BACKEND_MAX];
	struct fg_limit_counter limit[FG_LIMIT_MAX];
	struct fg_dpdk_ctl_l7_counters *l7; /* owned; NULL: no l7 rules */
};

/* fg_dpdk_ctl_counters_clear - free what c owns (its L7 counters) and
 * zero it. */
void fg_dpdk_ctl_counters_clear(struct fg_dpdk_ctl_counters *c);

/*
 * fg_dpdk_ctl_encode_stats - append the STATS body of c to b: the ports
 * and lcores, the id counters of the ids s holds (only those), then the
 * L7 counters (counts of 0 without them). Returns 0 or -ENOMEM.
 */
int fg_dpdk_ctl_encode_stats(const struct fg_dpdk_ctl_counters *c,
			     const struct fg_dpdk_ctl_set *s,
			     struct fg_dpdk_ctl_buf *b);

/* fg_dpdk_ctl_decode_stats - a STATS body into *c (cleared first with
 * fg_dpdk_ctl_counters_clear; drops summed from the lcores). 0, or
 * -EINVAL / -ENOMEM with a message (c cleared). */
int fg_dpdk_ctl_decode_stats(const void *p, size_t n,
			     struct fg_dpdk_ctl_counters *c, char *err,
			     size_t errlen);

/* ------------------------------------------------------------- stock */

/*
 * Stock (fg_stock.h): floodgated's claimer grants the process's seckill
 * engines allowance and learns which items want more, in one exchange
 * (STOCK_REQ answered by STOCK) every few milliseconds while the process
 * runs rules with stock. An engine is one seckill rule on one worker
 * lcore; items are named, never indexed (their slots move between
 * versions).
 *
 * A grant is a compare-and-add: "if the item's granted is `expect`, add
 * n", on the engine of the op's lineage only (-ENOENT for another). Sent
 * twice it is refused (-ESTALE) rather than granted again, so a lost
 * answer can never double an allowance; the answer gives the item's
 * granted and admitted after every update either way. A lineage's items
 * never start over (the process gives an engine a new epoch when one of
 * its items did not carry into a new version).
 *
 * The answer lists every engine with stock and, per engine, the items
 * that want more (their signal taken, fg_seckill_wants) and those not
 * yet announced: every item of a version once, and all again when a
 * request says `all` (a new claimer knows nothing) - up to
 * FG_DPDK_CTL_STOCK_ITEMS_MAX per answer, the rest in the next ones.
 */
#define FG_DPDK_CTL_STOCK_OPS_MAX   65536U /* updates in one request */
#define FG_DPDK_CTL_STOCK_ITEMS_MAX 16384U /* items in one answer */
/* Engines in one answer: every seckill rule on every lcore. */
#define FG_DPDK_CTL_STOCK_ENGS_MAX  (FG_SECKILLS_MAX * FG_DPDK_CTL_LCORES_MAX)

enum fg_dpdk_ctl_stock_kind {
	FG_DPDK_CTL_STOCK_GRANT = 1, /* granted == expect: add n */
	FG_DPDK_CTL_STOCK_LEFT = 2,  /* the store's stock left is n */
};

struct fg_dpdk_ctl_stock_op {
	char rule[FG_NAME_MAX];
	uint32_t lcore;
	uint64_t epoch;      /* the engine lineage it is for */
	uint8_t kind;        /* enum fg_dpdk_ctl_stock_kind */
	uint8_t len;         /* of item */
	char item[FG_DPDK_CTL_ITEM_MAX];
	uint64_t expect, n;
};

/* What became of an op: rc 0 done, -ESTALE (granted was not expect),
 * -ENOENT (no such engine, lineage or item), -ERANGE (granted would
 * wrap); and the item's counts after it (0 with -ENOENT only). */
struct fg_dpdk_ctl_stock_res {
	int32_t rc;
	uint64_t granted, admitted;
};

struct fg_dpdk_ctl_stock_eng {
	char rule[FG_NAME_MAX];
	uint32_t lcore;
	uint64_t epoch;      /* the lineage: a new one counts from 0 */
	uint64_t stock;      /* the rule's, per item, cluster-wide */
	uint64_t rate_milli; /* this engine's share of the item rate */
	uint64_t batch;      /* fg_stock_rule_conf.batch */
	uint32_t items, items_max;    /* item slots in use, and in all */
	uint32_t item_first, nitems;  /* its entries of items[] */
};

struct fg_dpdk_ctl_stock_item {
	char name[FG_DPDK_CTL_ITEM_MAX];
	uint8_t len;
	uint8_t wants;       /* its signal was up */
	uint64_t granted, admitted;
};

/* One exchange: the request (ops, all), then the answer (res: one per
 * op; engines and their items). */
struct fg_dpdk_ctl_stock {
	bool all;            /* announce every item again */
	uint32_t nops;
	struct fg_dpdk_ctl_stock_op *ops;
	struct fg_dpdk_ctl_stock_res *res;
	uint32_t nengs, nitems;
	struct fg_dpdk_ctl_stock_eng *engs;
	struct fg_dpdk_ctl_stock_item *items;
	uint32_t ops_cap, engs_cap, items_cap; /* allocated */
};

/* fg_dpdk_ctl_stock_reserve - room in x for nops ops (with their res),
 * nengs engines and nitems items (counts unchanged). 0 or -ENOMEM. */
int fg_dpdk_ctl_stock_reserve(struct fg_dpdk_ctl_stock *x, uint32_t nops,
			      uint32_t nengs, uint32_t nitems);

/* fg_dpdk_ctl_stock_clear - free what x holds and zero it. */
void fg_dpdk_ctl_stock_clear(struct fg_dpdk_ctl_stock *x);

/* fg_dpdk_ctl_encode_stock_req / _stock - the STOCK_REQ body (all and
 * the ops) and the STOCK body (res, engines, items) of x. 0 or -ENOMEM. */
int fg_dpdk_ctl_encode_stock_req(const struct fg_dpdk_ctl_stock *x,
				 struct fg_dpdk_ctl_buf *b);
int fg_dpdk_ctl_encode_stock(const struct fg_dpdk_ctl_stock *x,
			     struct fg_dpdk_ctl_buf *b);

/*
 * fg_dpdk_ctl_decode_stock_req - a STOCK_REQ body into x (its counts
 * cleared first, its room kept; res as many as the ops, zeroed).
 * fg_dpdk_ctl_decode_stock -
 * a STOCK body into x's answer, which must have as many res as x has
 * ops. Both strict: 0, or -EINVAL / -ENOMEM with a message (x's part
 * cleared).
 */
int fg_dpdk_ctl_decode_stock_req(const void *p, size_t n,
				 struct fg_dpdk_ctl_stock *x, char *err,
				 size_t errlen);
int fg_dpdk_ctl_decode_stock(const void *p, size_t n,
			     struct fg_dpdk_ctl_stock *x, char *err,
			     size_t errlen);

/* ------------------------------------------------------------ server */

/* What the server tells its client in HELLO. */
struct fg_dpdk_ctl_hello {
	uint64_t instance;     /* random per process start: a new one means
				* the process restarted (its tables are new) */
	uint64_t settings_id;  /* the process's identity of its load-time
				* settings (fg_dp_settings) */
	uint32_t pid;
	uint32_t nworkers, nports;
	uint64_t version;      /* applied version (0: the empty set) */
	bool has_origin;       /* origin recorded for this very version */
	uint64_t cluster_id, revision;
};

struct fg_dpdk_ctl_server;

struct fg_dpdk_ctl_server_opts {
	const char *path;        /* socket path (< 108 bytes); missing
				  * directories are made (0755) */
	const char *origin_path; /* NULL: path + ".origin" */
	uint64_t settings_id;
	uint32_t nworkers, nports;
	/* Fill c's ports, lcores and id counters (c is cleared, the version
	 * set): the sums over the workers' counters; and c->l7 (allocated,
	 * the server frees it) when the process runs an L7 engine. 0 or
	 * -errno. Called from fg_dpdk_ctl_server_poll and _installed
	 * only. */
	int (*collect)(void *arg, struct fg_dpdk_ctl_counters *c);
	/* One stock exchange (fg_dpdk_ctl_stock): apply x's ops, fill
	 * x->res, x->engs and x->items (fg_dpdk_ctl_stock_reserve). 0 or
	 * -errno. May be NULL: STOCK_REQ is then refused. */
	int (*stock)(void *arg, struct fg_dpdk_ctl_stock *x);
	/* Something the operator may want in the log (a client came or
	 * went, a push was refused and why). May be NULL. */
	void (*note)(void *arg, const char *msg);
	void *arg;
};

/*
 * fg_dpdk_ctl_server_new - listen on o->path (a stale socket file that
 * nobody answers is replaced; a live one is -EADDRINUSE), mode 0600, and
 * read the recorded origin. Holds the empty set (version 0) until a push
 * is installed. Returns the server or NULL with *errp and a message.
 */
struct fg_dpdk_ctl_server *
fg_dpdk_ctl_server_new(const struct fg_dpdk_ctl_server_opts *o, int *errp,
		       char *err, size_t errlen);

/* fg_dpdk_ctl_server_free - close, remove the socket file. NULL ok. */
void fg_dpdk_ctl_server_free(struct fg_dpdk_ctl_server *srv);

/*
 * fg_dpdk_ctl_server_poll - do what is waiting, without blocking: take
 * a connection (one client at a time; a second is refused with a NACK),
 * read its messages, answer HELLO, STATS (via collect), ORIGIN and
 * STATE, send what is queued. Returns 1 when a pushed set was decoded
 * and waits to be installed: *out points to it (owned by the server),
 * and the caller builds its tables from it, switches, and reports with
 * fg_dpdk_ctl_server_installed() - until then no more messages are read.
 * Returns 0 when there is nothing to install, -errno when the listening
 * socket failed. A client's malformed message is answered (NACK) and
 * noted, never returned.
 */
int fg_dpdk_ctl_server_poll(struct fg_dpdk_ctl_server *srv,
			    const struct fg_dpdk_ctl_set **out);

/*
 * fg_dpdk_ctl_server_installed - the set poll returned is live (rc 0:
 * every worker runs it, the old tables are freed) or was not installed
 * (rc -errno, why says it). Live: it becomes the held set, the counters
 * of ids it uses first are taken as their zero, and the client gets ACK;
 * else NACK with why, and the held set stays. Returns 0, or -EINVAL when
 * no set was pending.
 */
int fg_dpdk_ctl_server_installed(struct fg_dpdk_ctl_server *srv, int rc,
				 const char *why);

/*
 * fg_dpdk_ctl_server_hold - the process runs s, which it installed by
 * itself (tables from a file at start): hold it as if it had been
 * pushed, counting its ids from now. Takes s (freed with the server or
 * the next install). Returns 0, -EBUSY while a pushed set awaits its
 * install, -EINVAL for a set that fails fg_dpdk_ctl_set_check.
 */
int fg_dpdk_ctl_server_hold(struct fg_dpdk_ctl_server *srv,
			    struct fg_dpdk_ctl_set *s);

/*
 * fg_dpdk_ctl_server_wait - block in poll(2) until the server has
 * something to do or timeout_ms passed (for a main lcore with nothing
 * else to do). Returns >0 ready, 0 timeout, -errno.
 */
int fg_dpdk_ctl_server_wait(struct fg_dpdk_ctl_server *srv, int timeout_ms);

/* fg_dpdk_ctl_server_set - the held (installed) set. */
const struct fg_dpdk_ctl_set *
fg_dpdk_ctl_server_set(const struct fg_dpdk_ctl_server *srv);

/* ------------------------------------------------------------ client */

struct fg_dpdk_ctl_client;

/*
 * fg_dpdk_ctl_client_connect - connect to the server at path, say HELLO
 * as `who` and read the server's into *hello, all within timeout_ms.
 * Returns the client or NULL with *errp and a message in err.
 */
struct fg_dpdk_ctl_client *
fg_dpdk_ctl_client_connect(const char *path, const char *who,
			   int timeout_ms, struct fg_dpdk_ctl_hello *hello,
			   int *errp, char *err, size_t errlen);

/* fg_dpdk_ctl_client_close - accepts NULL. */
void fg_dpdk_ctl_client_close(struct fg_dpdk_ctl_client *c);

/*
 * fg_dpdk_ctl_client_push - send body (type FG_DPDK_CTL_FULL or _DELTA)
 * and wait for its answer. Returns 0 with *applied (the version the
 * process runs now); the NACK's errno (-ESTALE: the DELTA's base is not
 * what the process holds) with its text in err; -ETIMEDOUT, -EPIPE,
 * -ECONNRESET, -EPROTO when the channel failed (the outcome is then
 * unknown: close and reconnect).
 */
int fg_dpdk_ctl_client_push(struct fg_dpdk_ctl_client *c, int type,
			    const struct fg_dpdk_ctl_buf *body,
			    uint64_t *applied, char *err, size_t errlen);

/* fg_dpdk_ctl_client_stats - ask for the counters into *out. 0 or -errno
 * with a message. */
int fg_dpdk_ctl_client_stats(struct fg_dpdk_ctl_client *c,
			     struct fg_dpdk_ctl_counters *out, char *err,
			     size_t errlen);

/* fg_dpdk_ctl_client_state - ask for the held set (adoption). 0 with
 * *out, or -errno with a message. */
int fg_dpdk_ctl_client_state(struct fg_dpdk_ctl_client *c,
			     struct fg_dpdk_ctl_set **out, char *err,
			     size_t errlen);

/*
 * fg_dpdk_ctl_client_stock - one stock exchange: send x's request, and
 * take the answer into x (x->nops results). 0 or -errno with a message
 * (the channel's errors as for a push: the outcome of the ops is then
 * unknown, which their compare makes harmless).
 */
int fg_dpdk_ctl_client_stock(struct fg_dpdk_ctl_client *c,
			     struct fg_dpdk_ctl_stock *x, char *err,
			     size_t errlen);

/* fg_dpdk_ctl_client_origin - record the origin of the held set with the
 * process (kept in its origin file). 0 or -errno with a message. */
int fg_dpdk_ctl_client_origin(struct fg_dpdk_ctl_client *c,
			      uint64_t cluster_id, uint64_t revision,
			      char *err, size_t errlen);

/*
 * fg_dpdk_ctl_client_alive - whether the channel still stands between
 * requests: the server never speaks unasked, so anything to read (its
 * close, above all: the process restarted) means it does not.
 */
bool fg_dpdk_ctl_client_alive(const struct fg_dpdk_ctl_client *c);

/* fg_dpdk_ctl_client_sent - bytes (headers included) sent so far. */
uint64_t fg_dpdk_ctl_client_sent(const struct fg_dpdk_ctl_client *c);

#endif /* FG_DPDK_CTL_H */
