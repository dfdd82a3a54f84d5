/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * test_stock.c - the stock claimer (fg_stock.h) against a real etcd: a
 * private member started by fg_etcd_embedded in a temporary directory
 * (no privileges). Suite 'store'; exits 77 (skip) without /usr/bin/etcd.
 *
 * Covered:
 *  - refusals of bad settings; the item key encoding;
 *  - a claimer restarted under a living engine grants exactly what
 *    landed in the store but was never granted (recovery), and nothing
 *    twice;
 *  - an engine restarted (new lineage) settles what its predecessor held
 *    as lost, one batch at most, counted once in the store;
 *  - a simulated sale: engine instances (a worker thread judging
 *    requests and a control thread running its own claimer and etcd
 *    client, standing in for lcores and nodes) spend allowances claimed
 *    through the store; two of them run in forked children SIGKILLed
 *    mid-sale (floodgated's kill -9, the engine with it) and are
 *    restarted as new lineages under the same holder names; one
 *    instance's claimer is torn down abruptly mid-sale (requests in
 *    flight) and restarted under its living engine. Admitted <= stock at
 *    every sample and at the end, undersell <= one batch per lost
 *    instance and reported, the store's counts never go back;
 *  - a crowd of 100,000 distinct invented items against a rule with
 *    `items`: no claim, no key, no memory.
 *
 * Every wait is bounded; the fixture stops etcd and removes its directory
 * even when a test fails; children die with us (PDEATHSIG).
 */
#include <errno.h>
#include <inttypes.h>
#include <malloc.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>
#include <jansson.h>

#include "fg_etcd.h"
#include "fg_etcd_embedded.h"
#include "fg_seckill.h"
#include "fg_stock.h"
#include "etcd_fixture.h"

#define ETCD_BIN "/usr/bin/etcd"
#define WAIT_MS 20000           /* bound on any one wait */
#define SALE_WAIT_MS 120000     /* bound on the whole sale */
#define NS_PER_S 1000000000ULL
#define MILLI FG_SECKILL_MILLI

/* The sale. */
#define SALE_ITEMS 3
#define SALE_STOCK 6000         /* per item */
#define SALE_BATCH 50
#define SALE_RATE 500           /* per item per instance, requests/s */
#define SALE_THREADS 3          /* instances in this process */
#define SALE_CHILDREN 2         /* instances killed mid-sale */
#define SALE_INSTANCES (SALE_THREADS + SALE_CHILDREN)

static const char *const sale_items[SALE_ITEMS] = {"1001", "1002", "1003"};

/* The test thread's member, loop and reads. */
static struct fg_test_etcd E;

#define run_until fg_test_run_until

static struct fg_http_conf hconf;
static const struct fg_hash_seed seed = {
	0x0123456789abcdefULL, 0xfedcba9876543210ULL,
	{0x1111111111111111ULL, 0x2222222222222222ULL,
	 0x3333333333333333ULL, 0x4444444444444444ULL},
};

/* ---------------------------------------------------------- fixture */

static void cleanup_all(void)
{
	fg_test_etcd_cleanup(&E);
}

static int group_setup(void **state)
{
	(void)state;
	fg_http_conf_init(&hconf);
	return fg_test_etcd_setup(&E, "stock");
}

static int group_teardown(void **state)
{
	(void)state;
	cleanup_all();
	return 0;
}

/* --------------------------------------------------- loop + store */

static bool never(void *p)
{
	(void)p;
	return false;
}

struct get {
	bool done;
	int err;
	int64_t count;
	char value[256];
	int64_t mod;
};

static void on_get(void *arg, const struct fg_etcd_result *res)
{
	struct get *g = arg;

	g->err = res->err;
	g->count = res->count;
	g->value[0] = '\0';
	g->mod = 0;
	if (!res->err && res->n_kvs) {
		snprintf(g->value, sizeof(g->value), "%.*s",
			 (int)res->kvs[0].value_len, res->kvs[0].value);
		g->mod = res->kvs[0].mod_revision;
	}
	g->done = true;
}

static bool get_done(void *p)
{
	return ((struct get *)p)->done;
}

/* Read key (or count the keys under it with prefix) on the test's
 * client. */
static struct get store_get(const char *key, bool prefix)
{
	struct fg_etcd_op op;
	struct get g;

	memset(&g, 0, sizeof(g));
	memset(&op, 0, sizeof(op));
	op.type = FG_ETCD_OP_RANGE;
	op.key = key;
	op.prefix = prefix;
	op.count_only = prefix;
	assert_int_equal(fg_etcd_do(E.c, &op, on_get, &g), 0);
	assert_true(run_until(E.base, get_done, &g, WAIT_MS));
	assert_int_equal(g.err, 0);
	return g;
}

static void store_put(const char *key, const char *value)
{
	struct get g;

	memset(&g, 0, sizeof(g));
	assert_int_equal(fg_etcd_put(E.c, key, value, strlen(value), 0,
				     on_get, &g), 0);
	assert_true(run_until(E.base, get_done, &g, WAIT_MS));
	assert_int_equal(g.err, 0);
}

/* A number member of the JSON value of key; -1 when the key is absent. */
static int64_t store_num(const char *key, const char *member)
{
	struct get g = store_get(key, false);
	json_t *o, *j;
	int64_t v;

	if (!g.mod)
		return -1;
	o = json_loads(g.value, 0, NULL);
	assert_non_null(o);
	j = json_object_get(o, member);
	assert_true(json_is_integer(j));
	v = json_integer_value(j);
	json_decref(o);
	return v;
}

static void item_key(char *buf, size_t size, const char *prefix,
		     const char *rule, const char *holder, const char *item)
{
	char enc[3 * FG_ITEM_MAX + 1];

	assert_true(fg_stock_key_item(enc, sizeof(enc), item,
				      strlen(item)) >= 0);
	if (holder)
		snprintf(buf, size, "%s/stock/%s/holders/%s/%s", prefix, rule,
			 holder, enc);
	else
		snprintf(buf, size, "%s/stock/%s/items/%s", prefix, rule, enc);
}

/* ---------------------------------------------------------- engines */

static struct fg_etcd *new_client(struct event_base *b)
{
	char err[256];
	const char *ep = E.endpoint;
	struct fg_etcd *c = fg_etcd_new(b, &ep, 1, err, sizeof(err));

	if (!c)
		fail_msg("fg_etcd_new: %s", err);
	return c;
}

static struct fg_stock *new_stock(struct event_base *b, const char *prefix,
				  const char *holder)
{
	struct fg_stock_conf sc;
	struct fg_stock *s;
	char err[256];

	memset(&sc, 0, sizeof(sc));
	sc.prefix = prefix;
	sc.holder = holder;
	s = fg_stock_new(b, new_client(b), &sc, err, sizeof(err));
	if (!s)
		fail_msg("fg_stock_new: %s", err);
	return s;
}

/* An engine of rule: items listed (or one item), open window, per-item
 * rate (0: unbounded for the test), stock, low water for batch. */
static struct fg_seckill *new_engine(const char *const *items,
				     uint32_t nitems, uint64_t rate,
				     uint64_t stock, uint64_t batch)
{
	struct fg_seckill_conf c;
	struct fg_seckill *e;
	char err[256];

	memset(&c, 0, sizeof(c));
	c.id = 9;
	c.item = items ? "segment:2" : NULL;
	c.items = items;
	c.nitems = nitems;
	c.rate_milli = (rate ? rate : 1000000ULL) * MILLI;
	c.burst_milli = (rate ? rate / 10 + 1 : 100000ULL) * MILLI;
	c.stock = stock;
	c.low_water = FG_STOCK_LOW_WATER(batch);
	e = fg_seckill_new(&c, &hconf, &seed, err, sizeof(err));
	if (!e)
		fail_msg("fg_seckill_new: %s", err);
	return e;
}

/* fg_stock_rule_set's message, for the refusals' checks. */
static char attach_err[256];

static int attach(struct fg_stock *s, const char *rule, uint64_t stock,
		  uint64_t batch, uint64_t epoch, bool prime,
		  struct fg_seckill *e)
{
	struct fg_stock_rule_conf rc;

	memset(&rc, 0, sizeof(rc));
	rc.name = rule;
	rc.stock = stock;
	rc.batch = batch;
	rc.epoch = epoch;
	rc.prime = prime;
	attach_err[0] = '\0';
	return fg_stock_rule_set(s, &rc, e, attach_err, sizeof(attach_err));
}

/* A parsed buy of item into req (head: its buffer). */
static void read_buy(struct fg_http_req *req, char *head, const char *item)
{
	char s[512];
	size_t used;

	snprintf(s, sizeof(s),
		 "POST /seckill/%s/buy HTTP/1.1\r\nHost: shop.example\r\n"
		 "Content-Length: 0\r\n\r\n", item);
	fg_http_init(req, &hconf, head);
	assert_int_equal(fg_http_feed(req, s, strlen(s), &used),
			 FG_HTTP_COMPLETE);
}

static uint64_t wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

static struct fg_seckill_item_stats item_st(struct fg_seckill *e,
					    uint32_t idx)
{
	struct fg_seckill_item_stats st;

	assert_int_equal(fg_seckill_item_stats(e, idx, &st), 0);
	return st;
}

struct rule_wait {
	struct fg_stock *s;
	const char *rule;
	struct fg_seckill *e;
	uint32_t idx;
	uint64_t allowance;    /* wait for at least this */
};

static bool allowance_at_least(void *p)
{
	struct rule_wait *w = p;
	struct fg_stock_rule_stats st;

	if (fg_stock_rule_stats(w->s, w->rule, &st) || !st.ready ||
	    st.inflight)
		return false;
	return item_st(w->e, w->idx).allowance >= w->allowance;
}

static bool claim_in_flight(void *p)
{
	struct rule_wait *w = p;
	struct fg_stock_rule_stats st;

	return !fg_stock_rule_stats(w->s, w->rule, &st) && st.ready &&
		st.inflight;
}

static bool rule_quiet(void *p)
{
	struct rule_wait *w = p;
	struct fg_stock_rule_stats st;

	return !fg_stock_rule_stats(w->s, w->rule, &st) && st.ready &&
		!st.inflight;
}

/* ----------------------------------------------------------- basics */

static void test_refusals(void **state)
{
	struct fg_stock_conf sc;
	struct fg_stock *s;
	struct fg_seckill *e;
	char err[256], enc[64];
	static char too_long[FG_STOCK_HOLDER_MAX + 2];
	static const char *const bad_holders[] = {"", "a/b", "x y", too_long};
	size_t i;

	(void)state;
	/* Longer than a holder may be ("<node>.<lcore>" fits). */
	memset(too_long, 'h', FG_STOCK_HOLDER_MAX + 1);
	memset(&sc, 0, sizeof(sc));
	sc.holder = "n1.0";
	sc.prefix = "floodgate";
	err[0] = '\0';
	assert_null(fg_stock_new(E.base, new_client(E.base), &sc, err,
				 sizeof(err)));
	assert_int_equal(errno, EINVAL);
	assert_non_null(strstr(err, "prefix"));
	sc.prefix = "/floodgate/";
	assert_null(fg_stock_new(E.base, new_client(E.base), &sc, err,
				 sizeof(err)));
	sc.prefix = "/floodgate";
	for (i = 0; i < sizeof(bad_holders) / sizeof(bad_holders[0]); i++) {
		sc.holder = bad_holders[i];
		err[0] = '\0';
		assert_null(fg_stock_new(E.base, new_client(E.base), &sc, err,
					 sizeof(err)));
		assert_non_null(strstr(err, "holder"));
	}

	s = new_stock(E.base, "/t0", "n1.0");
	e = new_engine(NULL, 0, 0, 100, 10);
	assert_int_equal(attach(s, "Bad", 100, 10, 1, false, e), -EINVAL);
	assert_non_null(strstr(attach_err, "name"));
	assert_int_equal(attach(s, "ok", 0, 10, 1, false, e), -EINVAL);
	assert_non_null(strstr(attach_err, "stock"));
	assert_int_equal(attach(s, "ok", 100, 10, 0, false, e), -EINVAL);
	assert_non_null(strstr(attach_err, "epoch"));
	assert_int_equal(fg_stock_rule_remove(s, "ok"), -ENOENT);
	fg_stock_free(s);
	fg_seckill_free(e);

	/* Item keys: unreserved bytes stay, the rest as %XX, "" as "%". */
	assert_int_equal(fg_stock_key_item(enc, sizeof(enc), "a/b c~", 6), 10);
	assert_string_equal(enc, "a%2Fb%20c~");
	assert_int_equal(fg_stock_key_item(enc, sizeof(enc), "", 0), 1);
	assert_string_equal(enc, "%");
	assert_int_equal(fg_stock_key_item(enc, 4, "abcd", 4), -ENAMETOOLONG);

	/* Batches from the rate share: 500/s over 1 s, capped by stock and
	 * batch_max, never 0. */
	assert_int_equal(fg_stock_batch(500 * MILLI, 1000, 0, 10000), 500);
	assert_int_equal(fg_stock_batch(500 * MILLI, 100, 0, 10000), 50);
	assert_int_equal(fg_stock_batch(500 * MILLI, 1000, 0, 20), 20);
	assert_int_equal(fg_stock_batch(1, 1000, 0, 20), 1);
	assert_int_equal(fg_stock_batch(1000000 * MILLI, 1000, 4096, 1 << 30),
			 4096);
	assert_int_not_equal(fg_stock_epoch_new(), 0);
}

/*
 * A claimer dies after a claim landed but before it was granted: the
 * record in the store says more than the engine was granted. The next
 * claimer (same engine, same lineage) grants exactly the difference, and
 * a second restart grants nothing more.
 */
static void test_claimer_restart_recovers(void **state)
{
	const char *pfx = "/t1", *rule = "solo";
	char gk[512], hk[512], v[256];
	struct fg_seckill *e = new_engine(NULL, 0, 0, 1000, 100);
	struct fg_stock *s = new_stock(E.base, pfx, "n1.0");
	struct rule_wait w = {s, rule, e, 0, 100};
	struct fg_stock_rule_stats st;
	uint64_t epoch = fg_stock_epoch_new();

	(void)state;
	/* Primed: one batch in hand before any request. */
	assert_int_equal(attach(s, rule, 1000, 100, epoch, true, e), 0);
	assert_true(run_until(E.base, allowance_at_least, &w, WAIT_MS));
	assert_int_equal(item_st(e, 0).allowance, 100);
	item_key(gk, sizeof(gk), pfx, rule, NULL, "");
	item_key(hk, sizeof(hk), pfx, rule, "n1.0", "");
	assert_int_equal(store_num(gk, "claimed"), 100);
	assert_int_equal(store_num(hk, "claimed"), 100);
	assert_int_equal(store_num(gk, "lost"), 0);
	fg_stock_free(s);

	/* What a claim of 50 that landed unanswered leaves behind. */
	store_put(gk, "{\"claimed\":150,\"lost\":0}");
	snprintf(v, sizeof(v),
		 "{\"epoch\":\"%016" PRIx64 "\",\"claimed\":150,\"admitted\":0}",
		 epoch);
	store_put(hk, v);

	s = new_stock(E.base, pfx, "n1.0");
	w.s = s;
	w.allowance = 150;
	assert_int_equal(attach(s, rule, 1000, 100, epoch, false, e), 0);
	assert_true(run_until(E.base, allowance_at_least, &w, WAIT_MS));
	assert_int_equal(fg_stock_rule_stats(s, rule, &st), 0);
	assert_int_equal(st.recovered, 50);
	assert_int_equal(st.claims, 0);
	assert_int_equal(item_st(e, 0).allowance, 150);
	fg_stock_free(s);

	/* Again: nothing left to recover; counts as they were. */
	s = new_stock(E.base, pfx, "n1.0");
	w.s = s;
	assert_int_equal(attach(s, rule, 1000, 100, epoch, false, e), 0);
	assert_true(run_until(E.base, rule_quiet, &w, WAIT_MS));
	run_until(E.base, never, NULL, 100);
	assert_int_equal(fg_stock_rule_stats(s, rule, &st), 0);
	assert_int_equal(st.recovered, 0);
	assert_int_equal(st.granted, 0);
	assert_int_equal(item_st(e, 0).allowance, 150);
	assert_int_equal(store_num(gk, "claimed"), 150);
	fg_stock_free(s);
	fg_seckill_free(e);
}

/*
 * An engine restarts (a new lineage): what the old one held is settled
 * as lost - at most one batch - once, and the new engine gets none of
 * it: a fresh claim instead.
 */
static void test_engine_restart_settles(void **state)
{
	const char *pfx = "/t2", *rule = "flash";
	const char *items[] = {"7"};
	char gk[512], hk[512], head[FG_HTTP_HEAD_MAX_DEFAULT];
	struct fg_seckill *e = new_engine(items, 1, 0, 1000, 100);
	struct fg_stock *s = new_stock(E.base, pfx, "n2.0");
	struct rule_wait w = {s, rule, e, 0, 100};
	struct fg_stock_rule_stats st;
	struct fg_flow_key k;
	struct fg_verdict_l7 v;
	struct fg_http_req req;
	int i;

	(void)state;
	memset(&k, 0, sizeof(k));
	k.family = FG_AF_INET;
	read_buy(&req, head, "7");
	assert_int_equal(attach(s, rule, 1000, 100, 11, true, e), 0);
	assert_true(run_until(E.base, allowance_at_least, &w, WAIT_MS));
	/* Spend 60: at 50 left the engine signals, the claimer tops up to
	 * 100 (a claim of 50 + what was spent meanwhile). */
	for (i = 0; i < 60; i++)
		assert_int_equal(fg_seckill_judge(e, &req, &k, 1, &v),
				 FG_L7_ADMIT);
	w.allowance = 100;
	assert_true(run_until(E.base, allowance_at_least, &w, WAIT_MS));
	item_key(gk, sizeof(gk), pfx, rule, NULL, "7");
	item_key(hk, sizeof(hk), pfx, rule, "n2.0", "7");
	assert_int_equal(store_num(gk, "claimed"), 160);
	assert_int_equal(store_num(hk, "admitted"), 60);
	/* kill -9 of both sides: the claimer and its engine. */
	fg_stock_free(s);
	fg_seckill_free(e);

	e = new_engine(items, 1, 0, 1000, 100);
	s = new_stock(E.base, pfx, "n2.0");
	w.s = s;
	w.e = e;
	assert_int_equal(attach(s, rule, 1000, 100, 12, true, e), 0);
	assert_true(run_until(E.base, allowance_at_least, &w, WAIT_MS));
	run_until(E.base, never, NULL, 50);
	assert_int_equal(fg_stock_rule_stats(s, rule, &st), 0);
	/* 160 claimed by the old lineage, 60 admitted at its last claim:
	 * 100 lost, one batch. */
	assert_int_equal(st.lost, 100);
	assert_int_equal(st.recovered, 0);
	assert_int_equal(item_st(e, 0).allowance, 100);
	assert_int_equal(store_num(gk, "lost"), 100);
	assert_int_equal(store_num(gk, "claimed"), 260);
	assert_int_equal(store_num(hk, "claimed"), 100);
	fg_stock_free(s);

	/* A second restart of the same lineage settles nothing again. */
	s = new_stock(E.base, pfx, "n2.0");
	w.s = s;
	assert_int_equal(attach(s, rule, 1000, 100, 12, true, e), 0);
	assert_true(run_until(E.base, rule_quiet, &w, WAIT_MS));
	run_until(E.base, never, NULL, 50);
	assert_int_equal(fg_stock_rule_stats(s, rule, &st), 0);
	assert_int_equal(st.lost, 0);
	assert_int_equal(store_num(gk, "lost"), 100);
	fg_stock_free(s);
	fg_seckill_free(e);
}

struct two_wait {
	struct fg_stock *s;
	const char *rule;
	struct fg_seckill *e;
	const char *name[2];
	uint64_t allowance[2];
};

/* Both named items hold at least their allowance and nothing is in
 * flight. */
static bool two_at_least(void *p)
{
	struct two_wait *w = p;
	struct fg_stock_rule_stats st;
	uint32_t i, idx;

	if (fg_stock_rule_stats(w->s, w->rule, &st) || !st.ready ||
	    st.inflight)
		return false;
	for (i = 0; i < 2; i++) {
		idx = fg_seckill_item_find(w->e, w->name[i],
					   strlen(w->name[i]));
		if (idx == FG_SECKILL_NO_ITEM ||
		    item_st(w->e, idx).allowance < w->allowance[i])
			return false;
	}
	return true;
}

/*
 * New engine versions under one claimer: an item carried
 * (fg_seckill_carry) keeps its allowance and claims nothing; an item
 * dropped from `items` has its holding settled as lost; a new item is
 * primed; an engine built without carry but given the same epoch (the
 * caller's mistake) is caught (its granted went back) and gets a fresh
 * claim, never the old record's. A rule removed with requests in flight
 * and its engine freed at once costs nothing after (ASan builds check).
 */
static void test_versions(void **state)
{
	const char *pfx = "/t6", *rule = "ver";
	static const char *const v1[] = {"a", "b"}, *const v2[] = {"a", "c"},
		*const v3[] = {"a"};
	char head[FG_HTTP_HEAD_MAX_DEFAULT], key[512];
	struct fg_seckill *e1 = new_engine(v1, 2, 0, 1000, 100), *e2, *e3;
	struct fg_stock *s = new_stock(E.base, pfx, "n6.0");
	struct two_wait w = {s, rule, e1, {"a", "b"}, {100, 100}};
	struct fg_stock_rule_stats st;
	struct fg_flow_key k;
	struct fg_verdict_l7 v;
	struct fg_http_req req;
	int i;

	(void)state;
	memset(&k, 0, sizeof(k));
	k.family = FG_AF_INET;
	assert_int_equal(attach(s, rule, 1000, 100, 31, true, e1), 0);
	assert_true(run_until(E.base, two_at_least, &w, WAIT_MS));
	read_buy(&req, head, "a");
	for (i = 0; i < 10; i++)
		assert_int_equal(fg_seckill_judge(e1, &req, &k, 1, &v),
				 FG_L7_ADMIT);

	/* v2: a carried, b dropped, c new. */
	e2 = new_engine(v2, 2, 0, 1000, 100);
	assert_int_equal(fg_seckill_carry(e2, e1), 1);
	assert_int_equal(attach(s, rule, 1000, 100, 31, true, e2), 0);
	fg_seckill_free(e1);
	w.e = e2;
	w.name[0] = "a";
	w.allowance[0] = 90;
	w.name[1] = "c";
	w.allowance[1] = 100;
	assert_true(run_until(E.base, two_at_least, &w, WAIT_MS));
	run_until(E.base, never, NULL, 50);
	assert_int_equal(fg_stock_rule_stats(s, rule, &st), 0);
	assert_int_equal(st.lost, 100);          /* b's batch */
	assert_int_equal(st.claims, 3);          /* a, b, then c */
	assert_int_equal(item_st(e2, fg_seckill_item_find(e2, "a", 1))
			 .allowance, 90);
	item_key(key, sizeof(key), pfx, rule, NULL, "b");
	assert_int_equal(store_num(key, "lost"), 100);
	assert_int_equal(store_num(key, "claimed"), 100);
	item_key(key, sizeof(key), pfx, rule, "n6.0", "b");
	assert_int_equal(store_num(key, "claimed"), 0);

	/* v3 built afresh under the same epoch: a's record is not its. */
	e3 = new_engine(v3, 1, 0, 1000, 100);
	assert_int_equal(attach(s, rule, 1000, 100, 31, true, e3), 0);
	fg_seckill_free(e2);
	w.e = e3;
	w.name[1] = "a";
	w.allowance[0] = w.allowance[1] = 100;
	assert_true(run_until(E.base, two_at_least, &w, WAIT_MS));
	run_until(E.base, never, NULL, 50);
	assert_int_equal(fg_stock_rule_stats(s, rule, &st), 0);
	/* a: 100 claimed, 0 admitted at its last claim: 100 settled; c,
	 * dropped: its 100 too. */
	assert_int_equal(st.lost, 300);
	item_key(key, sizeof(key), pfx, rule, NULL, "a");
	assert_int_equal(store_num(key, "claimed"), 200);
	assert_int_equal(store_num(key, "lost"), 100);
	assert_int_equal(item_st(e3, 0).allowance, 100);

	/* A version switch while a claim flies. e4 holds 100; a new
	 * version of the rule raises the batch to 1000, so a claim of 900
	 * is sent for e4 (admitted 0 when sent), and e4 spends 60 while it
	 * flies; then e5 replaces e4 without carry under the same epoch.
	 * The claim lands for e4's lineage: settled as lost, never granted
	 * to e5 (which would make 1060 admissible out of 1000 claimed),
	 * and e5 gets a claim of its own. */
	assert_int_equal(fg_stock_rule_remove(s, rule), 0);
	fg_seckill_free(e3);
	{
		struct fg_seckill *e4 = new_engine(NULL, 0, 0, 10000, 100);
		struct fg_seckill *e5 = new_engine(NULL, 0, 0, 10000, 1000);
		struct rule_wait rw = {s, "fly", e4, 0, 100};

		read_buy(&req, head, "x");
		assert_int_equal(attach(s, "fly", 10000, 100, 41, true, e4),
				 0);
		assert_true(run_until(E.base, allowance_at_least, &rw,
				      WAIT_MS));
		assert_int_equal(attach(s, "fly", 10000, 1000, 41, true, e4),
				 0);
		assert_true(run_until(E.base, claim_in_flight, &rw, WAIT_MS));
		for (i = 0; i < 60; i++)
			assert_int_equal(fg_seckill_judge(e4, &req, &k, 1, &v),
					 FG_L7_ADMIT);
		assert_int_equal(attach(s, "fly", 10000, 1000, 41, true, e5),
				 0);
		fg_seckill_free(e4);
		rw.e = e5;
		rw.allowance = 1000;
		assert_true(run_until(E.base, allowance_at_least, &rw,
				      WAIT_MS));
		run_until(E.base, never, NULL, 50);
		assert_int_equal(item_st(e5, 0).allowance, 1000);
		item_key(key, sizeof(key), pfx, "fly", NULL, "");
		/* e4's lineage: 100 + 900 claimed, 0 admitted at its last
		 * claim, so 1000 reported lost (an upper bound: it admitted
		 * 60); e5: 1000 of its own. */
		assert_int_equal(store_num(key, "claimed"), 2000);
		assert_int_equal(store_num(key, "lost"), 1000);
		assert_int_equal(fg_stock_rule_remove(s, "fly"), 0);
		fg_seckill_free(e5);
	}

	/* Removed mid-read, engine freed at once. */
	e1 = new_engine(v1, 2, 0, 1000, 100);
	assert_int_equal(attach(s, "gone", 1000, 100, 32, true, e1), 0);
	assert_int_equal(fg_stock_rule_remove(s, "gone"), 0);
	fg_seckill_free(e1);
	run_until(E.base, never, NULL, 200);
	assert_int_equal(fg_stock_rule_stats(s, "gone", &st), -ENOENT);
	fg_stock_free(s);
}

/*
 * Stock runs out: claims stop at the stock, the engine is told, and
 * answers sold_out once its allowance is spent.
 */
static void test_sold_out(void **state)
{
	const char *pfx = "/t3", *rule = "tiny";
	char gk[512], head[FG_HTTP_HEAD_MAX_DEFAULT];
	struct fg_seckill *e = new_engine(NULL, 0, 0, 30, 20);
	struct fg_stock *s = new_stock(E.base, pfx, "n3.0");
	struct rule_wait w = {s, rule, e, 0, 20};
	struct fg_flow_key k;
	struct fg_verdict_l7 v;
	struct fg_http_req req;
	int i, admitted = 0, sold = 0;

	(void)state;
	memset(&k, 0, sizeof(k));
	k.family = FG_AF_INET;
	read_buy(&req, head, "x");
	assert_int_equal(attach(s, rule, 30, 20, 5, true, e), 0);
	assert_true(run_until(E.base, allowance_at_least, &w, WAIT_MS));
	/* Spend in steps, letting the claimer work between them. */
	for (i = 0; i < 200; i++) {
		int r = fg_seckill_judge(e, &req, &k, 1, &v);

		admitted += r == FG_L7_ADMIT;
		sold += r == FG_L7_SOLD_OUT;
		if (i % 10 == 9)
			run_until(E.base, never, NULL, 20);
	}
	assert_int_equal(admitted, 30);
	assert_true(sold > 0);
	item_key(gk, sizeof(gk), pfx, rule, NULL, "");
	assert_int_equal(store_num(gk, "claimed"), 30);
	assert_int_equal(item_st(e, 0).stock_left, 0);
	fg_stock_free(s);
	fg_seckill_free(e);
}

/*
 * The store unreachable: the claimer keeps trying with backoff, grants
 * nothing and counts the errors; the engine answers `respond`, never
 * sold_out (the stock is not known to be gone).
 */
static void test_unreachable(void **state)
{
	char ep[256], err[256], head[FG_HTTP_HEAD_MAX_DEFAULT];
	const char *epp = ep;
	struct fg_seckill *e = new_engine(NULL, 0, 0, 100, 10);
	struct fg_stock_conf sc;
	struct fg_stock_rule_stats st;
	struct fg_stock *s;
	struct fg_etcd *c;
	struct fg_flow_key k;
	struct fg_verdict_l7 v;
	struct fg_http_req req;

	(void)state;
	snprintf(ep, sizeof(ep), "unix://%s/no-such-socket", E.root);
	c = fg_etcd_new(E.base, &epp, 1, err, sizeof(err));
	assert_non_null(c);
	assert_int_equal(fg_etcd_set_timeout(c, 200), 0);
	memset(&sc, 0, sizeof(sc));
	sc.prefix = "/t5";
	sc.holder = "n5.0";
	s = fg_stock_new(E.base, c, &sc, err, sizeof(err));
	assert_non_null(s);
	assert_int_equal(attach(s, "away", 100, 10, 3, true, e), 0);
	run_until(E.base, never, NULL, 600);
	assert_int_equal(fg_stock_rule_stats(s, "away", &st), 0);
	assert_false(st.ready);
	assert_true(st.errors >= 1);
	assert_int_equal(st.granted, 0);
	memset(&k, 0, sizeof(k));
	k.family = FG_AF_INET;
	read_buy(&req, head, "x");
	assert_int_equal(fg_seckill_judge(e, &req, &k, 1, &v), FG_L7_SHED);
	assert_int_equal(v.reason, FG_SK_SHED_ALLOWANCE);
	fg_stock_free(s);
	fg_seckill_free(e);
}

/* ------------------------------------------------------------- crowd */

/* The allocator's bytes in use: ASan's count under ASan (its malloc is
 * not glibc's), else glibc's. */
extern size_t __sanitizer_get_current_allocated_bytes(void)
	__attribute__((weak));

static size_t heap_in_use(void)
{
	if (__sanitizer_get_current_allocated_bytes)
		return __sanitizer_get_current_allocated_bytes();
	return mallinfo2().uordblks;
}

/*
 * 100,000 distinct invented items against a rule with `items`: each is
 * answered `respond` without a slot, the claimer never hears of them,
 * the store holds keys for the two listed items only, and memory does
 * not move.
 */
static void test_crowd(void **state)
{
	const char *pfx = "/t4", *rule = "listed";
	static const char *const items[] = {"1001", "1002"};
	char head[FG_HTTP_HEAD_MAX_DEFAULT], name[32], key[512];
	struct fg_seckill *e = new_engine(items, 2, 0, 1000, 100);
	struct fg_stock *s = new_stock(E.base, pfx, "n4.0");
	struct rule_wait w = {s, rule, e, 1, 100};
	struct fg_seckill_stats es0, es1;
	struct fg_stock_rule_stats st0, st1;
	struct fg_flow_key k;
	struct fg_verdict_l7 v;
	struct fg_http_req req;
	size_t heap0, heap1;
	uint32_t i;

	(void)state;
	memset(&k, 0, sizeof(k));
	k.family = FG_AF_INET;
	assert_int_equal(attach(s, rule, 1000, 100, 21, true, e), 0);
	assert_true(run_until(E.base, allowance_at_least, &w, WAIT_MS));
	assert_int_equal(fg_stock_rule_stats(s, rule, &st0), 0);
	assert_int_equal(st0.claims, 2);
	fg_seckill_stats(e, &es0);
	heap0 = heap_in_use();
	for (i = 0; i < 100000; i++) {
		snprintf(name, sizeof(name), "%u", 2000000 + i * 7);
		read_buy(&req, head, name);
		assert_int_equal(fg_seckill_judge(e, &req, &k, 1, &v),
				 FG_L7_SHED);
		assert_int_equal(v.reason, FG_SK_UNKNOWN_ITEM);
	}
	heap1 = heap_in_use();
	fg_seckill_stats(e, &es1);
	/* Let the claimer poll the engine many times over. */
	run_until(E.base, never, NULL, 200);
	assert_int_equal(fg_stock_rule_stats(s, rule, &st1), 0);
	assert_int_equal(st1.claims, st0.claims);
	assert_int_equal(st1.items, 2);
	assert_int_equal(es1.items, 2);
	assert_int_equal(es1.bytes, es0.bytes);
	assert_int_equal(es1.reason[FG_SK_UNKNOWN_ITEM], 100000);
	assert_true(heap1 <= heap0 + 4096);
	snprintf(key, sizeof(key), "%s/stock/%s/items/", pfx, rule);
	assert_int_equal(store_get(key, true).count, 2);
	snprintf(key, sizeof(key), "%s/stock/%s/holders/", pfx, rule);
	assert_int_equal(store_get(key, true).count, 2);
	fg_stock_free(s);
	fg_seckill_free(e);
}

/* -------------------------------------------------------------- sale */

/* What an instance's worker publishes, in a page shared with the parent
 * (a child's engine dies with it). */
struct sale_counts {
	uint64_t admitted[SALE_ITEMS];
	/* The parent sets hold before a SIGKILL and waits for the worker
	 * to answer held between two requests, so what a dead process
	 * admitted is known exactly from outside (of a request being judged
	 * as the process dies, nobody outside can tell whether it was
	 * admitted). The claimer is not held: it dies wherever it is. */
	uint32_t hold, held;
};

struct inst {
	char holder[32];
	uint64_t epoch;
	struct fg_seckill *e;
	struct event_base *base;
	struct fg_stock *s;
	struct sale_counts *cnt;
	pthread_t wt, ct;
	int stop_work, stop_ctl;       /* atomics */
	bool running;
};

static const char *sale_pfx = "/sale";
static const char *sale_rule = "sale";

/* The worker lcore: buys of every item in turn, as fast as its bucket
 * lets them in (SALE_RATE per item), on the wall clock. */
static void *inst_worker(void *arg)
{
	struct inst *in = arg;
	char head[SALE_ITEMS][FG_HTTP_HEAD_MAX_DEFAULT];
	struct fg_http_req req[SALE_ITEMS];
	struct fg_verdict_l7 v;
	struct fg_flow_key k;
	uint32_t i, sold;
	uint64_t round = 0;

	memset(&k, 0, sizeof(k));
	k.family = FG_AF_INET;
	for (i = 0; i < SALE_ITEMS; i++)
		read_buy(&req[i], head[i], sale_items[i]);
	while (!__atomic_load_n(&in->stop_work, __ATOMIC_RELAXED)) {
		if (__atomic_load_n(&in->cnt->hold, __ATOMIC_SEQ_CST)) {
			__atomic_store_n(&in->cnt->held, 1, __ATOMIC_SEQ_CST);
			usleep(1000);
			continue;
		}
		sold = 0;
		for (i = 0; i < SALE_ITEMS; i++) {
			int r;

			k.src[0] = (uint32_t)round;
			r = fg_seckill_judge(in->e, &req[i], &k, wall_ns(),
					     &v);
			if (r == FG_L7_ADMIT)
				__atomic_store_n(&in->cnt->admitted[i],
						 in->cnt->admitted[i] + 1,
						 __ATOMIC_SEQ_CST);
			sold += r == FG_L7_SOLD_OUT;
		}
		round++;
		/* Two cores for everyone: a worker paced at a few thousand
		 * rounds a second leaves the store its share. */
		usleep(sold == SALE_ITEMS ? 2000 : 200);
	}
	return NULL;
}

/* The control thread: the instance's event loop, its claimer on it. */
static void *inst_ctl(void *arg)
{
	struct inst *in = arg;

	while (!__atomic_load_n(&in->stop_ctl, __ATOMIC_RELAXED))
		event_base_loop(in->base, EVLOOP_ONCE);
	return NULL;
}

static void inst_claimer(struct inst *in)
{
	in->s = new_stock(in->base, sale_pfx, in->holder);
	assert_int_equal(attach(in->s, sale_rule, SALE_STOCK, SALE_BATCH,
				in->epoch, true, in->e), 0);
}

/* Start an instance: engine (a new lineage), claimer, worker and
 * control threads. */
static void inst_start(struct inst *in, const char *holder,
		       struct sale_counts *cnt)
{
	memset(in, 0, sizeof(*in));
	snprintf(in->holder, sizeof(in->holder), "%s", holder);
	in->epoch = fg_stock_epoch_new();
	in->cnt = cnt;
	in->e = new_engine(sale_items, SALE_ITEMS, SALE_RATE, SALE_STOCK,
			   SALE_BATCH);
	in->base = event_base_new();
	assert_non_null(in->base);
	inst_claimer(in);
	assert_int_equal(pthread_create(&in->ct, NULL, inst_ctl, in), 0);
	assert_int_equal(pthread_create(&in->wt, NULL, inst_worker, in), 0);
	in->running = true;
}

static void inst_stop_ctl(struct inst *in)
{
	__atomic_store_n(&in->stop_ctl, 1, __ATOMIC_RELAXED);
	pthread_join(in->ct, NULL);
}

static void inst_stop(struct inst *in)
{
	if (!in->running)
		return;
	__atomic_store_n(&in->stop_work, 1, __ATOMIC_RELAXED);
	pthread_join(in->wt, NULL);
	inst_stop_ctl(in);
	in->running = false;
}

static void inst_free(struct inst *in)
{
	inst_stop(in);
	fg_stock_free(in->s);
	in->s = NULL;
	if (in->base)
		event_base_free(in->base);
	in->base = NULL;
	fg_seckill_free(in->e);
	in->e = NULL;
}

/* The child: one instance, started when the parent writes to go; runs
 * until SIGKILL. */
static void child_main(int go, const char *holder, struct sale_counts *cnt)
{
	struct inst in;
	char c;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (read(go, &c, 1) != 1)
		_exit(1);
	inst_start(&in, holder, cnt);
	for (;;)
		pause();
}

static uint64_t counted(const struct sale_counts *c, uint32_t i)
{
	return __atomic_load_n(&c->admitted[i], __ATOMIC_SEQ_CST);
}

/* Pages: SALE_THREADS instances here, SALE_CHILDREN children, the
 * children's restarts. */
#define SALE_PAGES (SALE_INSTANCES + SALE_CHILDREN)

static uint64_t sale_total(const struct sale_counts *page, uint32_t i)
{
	uint64_t t = 0;
	uint32_t k;

	for (k = 0; k < SALE_PAGES; k++)
		t += counted(&page[k], i);
	return t;
}

static struct inst *sale_live(struct inst *th, struct inst *re, uint32_t k)
{
	return k < SALE_THREADS ? &th[k] : &re[k - SALE_THREADS];
}

/* What every live instance and the store say: printed when the sale
 * does not end in time. */
static void sale_dump(struct inst *th, struct inst *re)
{
	struct fg_seckill_item_stats es;
	char key[512];
	uint32_t i, k;

	for (i = 0; i < SALE_ITEMS; i++) {
		item_key(key, sizeof(key), sale_pfx, sale_rule, NULL,
			 sale_items[i]);
		print_error("%s %s\n", key, store_get(key, false).value);
		for (k = 0; k < SALE_THREADS + SALE_CHILDREN; k++) {
			struct inst *in = sale_live(th, re, k);

			if (!in->e)
				continue;
			es = item_st(in->e, i);
			item_key(key, sizeof(key), sale_pfx, sale_rule,
				 in->holder, sale_items[i]);
			print_error("  %s %s: admitted %" PRIu64
				    " allowance %" PRIu64 " stock_left %"
				    PRIu64 "\n", key,
				    store_get(key, false).value, es.admitted,
				    es.allowance, es.stock_left);
		}
	}
}

/* kill -9 of child k, its worker held between two requests; then its
 * restart as a new lineage under the same holder name. */
static void sale_kill(struct sale_counts *page, pid_t pid, uint32_t k,
		      struct inst *re)
{
	struct sale_counts *c = &page[SALE_THREADS + k];
	char holder[32];
	int status;
	uint32_t j;

	__atomic_store_n(&c->hold, 1, __ATOMIC_SEQ_CST);
	for (j = 0; j < 10000 && !__atomic_load_n(&c->held, __ATOMIC_SEQ_CST);
	     j++)
		usleep(1000);
	assert_true(c->held);
	assert_int_equal(kill(pid, SIGKILL), 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	snprintf(holder, sizeof(holder), "kid.%u", k);
	inst_start(&re[k], holder, &page[SALE_INSTANCES + k]);
}

/* floodgated's kill -9 under a living engine: the claimer torn down with
 * requests in flight (their answers lost, some landed), a new one on
 * the same engine and lineage. */
static void sale_claimer_restart(struct inst *in)
{
	inst_stop_ctl(in);
	fg_stock_free(in->s);
	in->stop_ctl = 0;
	inst_claimer(in);
	assert_int_equal(pthread_create(&in->ct, NULL, inst_ctl, in), 0);
}

/* Over: every unit claimed and every live allowance spent. */
static bool sale_over(struct inst *th, struct inst *re)
{
	char key[512];
	uint32_t i, k;

	for (i = 0; i < SALE_ITEMS; i++) {
		item_key(key, sizeof(key), sale_pfx, sale_rule, NULL,
			 sale_items[i]);
		if (store_num(key, "claimed") < SALE_STOCK)
			return false;
		for (k = 0; k < SALE_THREADS + SALE_CHILDREN; k++)
			if (item_st(sale_live(th, re, k)->e, i).allowance)
				return false;
	}
	return true;
}

static void test_sale(void **state)
{
	struct sale_counts *page;
	struct inst th[SALE_THREADS], re[SALE_CHILDREN];
	struct fg_stock_rule_stats rst;
	pid_t kid[SALE_CHILDREN];
	int go[SALE_CHILDREN][2];
	char key[512], holder[32];
	uint64_t t0, total, lost_rep, lost, before_restart = 0;
	int64_t claimed_seen[SALE_ITEMS] = {0}, n;
	uint32_t i, k, nkilled = 0, restarts = 0;
	bool ctl_restarted = false;

	(void)state;
	/* Children before any thread of ours: fork copies one thread. */
	page = mmap(NULL, sizeof(*page) * SALE_PAGES, PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	assert_true(page != MAP_FAILED);
	memset(page, 0, sizeof(*page) * SALE_PAGES);
	for (k = 0; k < SALE_CHILDREN; k++) {
		assert_int_equal(pipe(go[k]), 0);
		snprintf(holder, sizeof(holder), "kid.%u", k);
		fflush(NULL);
		kid[k] = fork();
		assert_true(kid[k] >= 0);
		if (kid[k] == 0) {
			close(go[k][1]);
			child_main(go[k][0], holder, &page[SALE_THREADS + k]);
		}
		close(go[k][0]);
	}
	memset(th, 0, sizeof(th));
	memset(re, 0, sizeof(re));
	for (k = 0; k < SALE_CHILDREN; k++) {
		assert_int_equal(write(go[k][1], "g", 1), 1);
		close(go[k][1]);
	}
	for (k = 0; k < SALE_THREADS; k++) {
		snprintf(holder, sizeof(holder), "node.%u", k);
		inst_start(&th[k], holder, &page[k]);
	}

	/* The sale: children killed at 20 % and 40 % of the first item
	 * sold, instance 0's claimer at 30 %. */
	t0 = wall_ns();
	for (;;) {
		if (wall_ns() - t0 > SALE_WAIT_MS * 1000000ULL) {
			sale_dump(th, re);
			fail_msg("the sale did not end in %u ms",
				 SALE_WAIT_MS);
		}
		usleep(5000);
		/* Admitted <= stock at every sample. */
		for (i = 0; i < SALE_ITEMS; i++)
			assert_true(sale_total(page, i) <= SALE_STOCK);
		total = sale_total(page, 0);
		if (nkilled < SALE_CHILDREN &&
		    total >= SALE_STOCK / 5 * (nkilled + 1)) {
			sale_kill(page, kid[nkilled], nkilled, re);
			nkilled++;
			restarts++;
		}
		if (!ctl_restarted && total >= SALE_STOCK * 3 / 10) {
			before_restart = item_st(th[0].e, 0).admitted;
			sale_claimer_restart(&th[0]);
			ctl_restarted = true;
			restarts++;
		}
		/* The store's counts only grow. */
		for (i = 0; i < SALE_ITEMS; i++) {
			item_key(key, sizeof(key), sale_pfx, sale_rule, NULL,
				 sale_items[i]);
			n = store_num(key, "claimed");
			if (n < 0)
				n = 0; /* not claimed yet */
			assert_true(n >= claimed_seen[i]);
			assert_true(n <= SALE_STOCK);
			claimed_seen[i] = n;
		}
		if (ctl_restarted && nkilled == SALE_CHILDREN &&
		    sale_over(th, re))
			break;
	}
	/* The workers first; the claimers get a moment to finish what they
	 * have in flight. */
	for (k = 0; k < SALE_THREADS + SALE_CHILDREN; k++)
		__atomic_store_n(&sale_live(th, re, k)->stop_work, 1,
				 __ATOMIC_RELAXED);
	usleep(300000);
	for (k = 0; k < SALE_THREADS + SALE_CHILDREN; k++)
		inst_stop(sale_live(th, re, k));

	/* The restarted claimer went on from the engine's counts. */
	assert_true(item_st(th[0].e, 0).admitted > before_restart);
	assert_int_equal(fg_stock_rule_stats(th[0].s, sale_rule, &rst), 0);

	for (i = 0; i < SALE_ITEMS; i++) {
		total = sale_total(page, i);
		item_key(key, sizeof(key), sale_pfx, sale_rule, NULL,
			 sale_items[i]);
		lost_rep = (uint64_t)store_num(key, "lost");
		lost = SALE_STOCK - total;
		printf("sale item %s: stock %u admitted %" PRIu64
		       " undersell %" PRIu64 " reported %" PRIu64
		       " (bound %u lost instances x batch %u) restarts %u"
		       " (claimer recovered %" PRIu64 ")\n",
		       sale_items[i], SALE_STOCK, total, lost, lost_rep,
		       SALE_CHILDREN, SALE_BATCH, restarts, rst.recovered);
		assert_true(total <= SALE_STOCK);
		assert_true(lost <= lost_rep);
		assert_true(lost_rep <= (uint64_t)SALE_CHILDREN * SALE_BATCH);
		assert_int_equal(store_num(key, "claimed"), SALE_STOCK);
		/* Every live holder's record is what its engine was granted
		 * and its engine's count is what its worker saw admitted:
		 * nothing stuck between store and engine, nothing counted
		 * twice. */
		for (k = 0; k < SALE_THREADS + SALE_CHILDREN; k++) {
			struct inst *in = sale_live(th, re, k);
			struct fg_seckill_item_stats es = item_st(in->e, i);

			/* (No record: a holder that never claimed it.) */
			item_key(key, sizeof(key), sale_pfx, sale_rule,
				 in->holder, sale_items[i]);
			n = store_num(key, "claimed");
			assert_int_equal(n < 0 ? 0 : n,
					 es.admitted + es.allowance);
			assert_int_equal(es.admitted, counted(in->cnt, i));
		}
	}
	for (k = 0; k < SALE_THREADS + SALE_CHILDREN; k++)
		inst_free(sale_live(th, re, k));
	munmap(page, sizeof(*page) * SALE_PAGES);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_claimer_restart_recovers),
		cmocka_unit_test(test_engine_restart_settles),
		cmocka_unit_test(test_versions),
		cmocka_unit_test(test_sold_out),
		cmocka_unit_test(test_unreachable),
		cmocka_unit_test(test_crowd),
		cmocka_unit_test(test_sale),
	};

	if (access(ETCD_BIN, X_OK) != 0) {
		printf("SKIP: %s not found (apt install etcd-server)\n",
		       ETCD_BIN);
		return 77;
	}
	if (getenv("FG_TEST_FILTER"))
		cmocka_set_test_filter(getenv("FG_TEST_FILTER"));
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
