/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * bench_stock.c - seckill stock claimed from the store (fg_stock.h)
 * against the embedded etcd member, started here in a temporary
 * directory (exits 77 without /usr/bin/etcd).
 *
 * Rows (each the median of FG_BS_REPEATS windows of FG_BS_WINDOW_MS):
 *  - claims_1key:       one item, batch 1, one holder: every admitted
 *                       request needs its own claim, one at a time -
 *                       the latency bound of a single key
 *  - claims_32keys:     32 items (keys), batch 1, one holder, up to 32
 *                       transactions in flight: what the store takes
 *  - claims_32keys_4h:  the same 32 items claimed by 4 holders at once
 *                       (4 claimers, 4 clients, 4 engines): compare-and-
 *                       swap under contention; failed compares per
 *                       landed claim beside it
 *  - admitted_batched:  32 items, the batch derived from the rule's rate
 *                       (batch_max, 65536): a worker thread judges
 *                       buys of the 32 items round robin as fast as it
 *                       can while the claimer keeps its allowance up -
 *                       admitted requests per second through batching
 *                       (the target: >= 1M/s), and the share of
 *                       requests that found no allowance
 *  - admitted_link:     the same sale as floodgated and floodgate-dpdk
 *                       run it: the engine is the process's (fg_dpdk_l7,
 *                       built from an L7 section, judged whole with
 *                       fg_l7_judge), its claimer floodgated's
 *                       (fg_stock_link), and the allowance goes over
 *                       the control socket's stock exchange to a server
 *                       thread standing in for the main lcore
 *
 * In every row a worker thread (the lcore) reads each request from its
 * raw bytes (fg_http) and judges it (fg_seckill_judge), and a control
 * thread runs the claimer on its own event loop and etcd client. Path checks (exit 1 on
 * failure): each row admitted what it claims and no more - the engine's
 * admitted count equals the row's count, never exceeds what the store
 * says was claimed, and every claim landed in the store.
 *
 * Not pinned: the etcd member, the claimer and the worker share the
 * CPUs, as on a node.
 *
 * Output: one line per row,
 *   bench=l7 case=stock_<row> value=<n> unit=<claims/s|admitted/s> floor=0
 * then a human table.
 */
#include <errno.h>
#include <ftw.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>

#include "fg_dpdk_ctl.h"
#include "fg_dpdk_l7.h"
#include "fg_etcd.h"
#include "fg_etcd_embedded.h"
#include "fg_seckill.h"
#include "fg_l7_ship.h"
#include "fg_rules_json.h"
#include "fg_stock.h"
#include "fg_stock_link.h"

#define FG_BS_ETCD "/usr/bin/etcd"
#define FG_BS_REPEATS 3
#define FG_BS_WINDOW_MS 2000u
#define FG_BS_WARMUP_MS 500u
#define FG_BS_ITEMS_MAX 32u
#define FG_BS_HOLDERS_MAX 4u
#define FG_BS_STOCK (1ULL << 40)    /* never runs out here */
#define FG_BS_NS_PER_REQ 20u        /* the worker's clock step */
#define FG_BS_REQ_MAX 160u          /* bytes of a raw buy */

static struct fg_http_conf fg_bs_http;
static const struct fg_hash_seed fg_bs_seed = {
	0x9e3779b97f4a7c15ULL, 0xbf58476d1ce4e5b9ULL,
	{0x94d049bb133111ebULL, 0x2545f4914f6cdd1dULL,
	 0x853c49e6748fea9bULL, 0xda3e39cb94b95bdbULL},
};
static char fg_bs_endpoint[256];
static char fg_bs_root[64];
static char fg_bs_item_names[FG_BS_ITEMS_MAX][8];
static const char *fg_bs_items[FG_BS_ITEMS_MAX];

static uint64_t fg_bs_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* ------------------------------------------------------- an instance */

struct fg_bs_inst {
	char holder[32];
	struct fg_seckill *e;
	struct event_base *base;
	struct fg_stock *s;
	pthread_t wt, ct;
	uint32_t nitems;
	uint32_t pause_us;       /* worker: sleep per round (0: spin) */
	int stop_work, stop_ctl; /* atomics */
	uint64_t admitted;       /* worker's count (atomic) */
	uint64_t judged;         /* (atomic) */
};

/* The buys of the first n items, raw, and the client they come from. */
static void fg_bs_requests(char raw[][FG_BS_REQ_MAX], size_t *len, uint32_t n,
			   struct fg_flow_key *k)
{
	uint32_t i;

	memset(k, 0, sizeof(*k));
	k->family = FG_AF_INET;
	for (i = 0; i < n; i++)
		len[i] = (size_t)snprintf(raw[i], FG_BS_REQ_MAX,
			"POST /seckill/%s/buy HTTP/1.1\r\n"
			"Host: shop.example\r\nContent-Length: 0\r\n\r\n",
			fg_bs_items[i]);
}

static void *fg_bs_worker(void *arg)
{
	struct fg_bs_inst *in = arg;
	char *head = malloc(FG_HTTP_HEAD_MAX_DEFAULT);
	char raw[FG_BS_ITEMS_MAX][FG_BS_REQ_MAX];
	size_t len[FG_BS_ITEMS_MAX], used;
	struct fg_http_req req;
	struct fg_verdict_l7 v;
	struct fg_flow_key k;
	uint64_t now = 1, adm = 0, n = 0;
	uint32_t i;

	if (!head)
		return NULL;
	fg_bs_requests(raw, len, in->nitems, &k);
	/* Each request from its raw bytes: read, then judged, as the DPDK
	 * worker will. */
	while (!__atomic_load_n(&in->stop_work, __ATOMIC_RELAXED)) {
		for (i = 0; i < in->nitems; i++) {
			now += FG_BS_NS_PER_REQ;
			fg_http_init(&req, &fg_bs_http, head);
			if (fg_http_feed(&req, raw[i], len[i], &used) !=
			    FG_HTTP_COMPLETE)
				continue;
			adm += fg_seckill_judge(in->e, &req, &k, now, &v) ==
				FG_L7_ADMIT;
		}
		n += in->nitems;
		__atomic_store_n(&in->admitted, adm, __ATOMIC_RELAXED);
		__atomic_store_n(&in->judged, n, __ATOMIC_RELAXED);
		if (in->pause_us)
			usleep(in->pause_us);
	}
	free(head);
	return NULL;
}

static void *fg_bs_ctl(void *arg)
{
	struct fg_bs_inst *in = arg;

	while (!__atomic_load_n(&in->stop_ctl, __ATOMIC_RELAXED))
		event_base_loop(in->base, EVLOOP_ONCE);
	return NULL;
}

/*
 * fg_bs_start - an instance of rule `rule` on nitems items: batch 0
 * derives it from the rule's rate (here the most an item may take).
 */
static int fg_bs_start(struct fg_bs_inst *in, const char *prefix,
		       const char *rule, const char *holder, uint32_t nitems,
		       uint64_t batch, uint32_t pause_us)
{
	struct fg_seckill_conf c;
	struct fg_stock_conf sc;
	struct fg_stock_rule_conf rc;
	const char *ep = fg_bs_endpoint;
	struct fg_etcd *etcd;
	char err[256];
	uint64_t rate_milli = 100000000ULL * FG_SECKILL_MILLI;

	memset(in, 0, sizeof(*in));
	snprintf(in->holder, sizeof(in->holder), "%s", holder);
	in->nitems = nitems;
	in->pause_us = pause_us;
	memset(&rc, 0, sizeof(rc));
	rc.name = rule;
	rc.stock = FG_BS_STOCK;
	rc.rate_milli = rate_milli;
	rc.batch = batch;
	rc.epoch = fg_stock_epoch_new();
	rc.prime = true;
	batch = batch ? batch : fg_stock_batch(rate_milli, 0, 0, rc.stock);

	memset(&c, 0, sizeof(c));
	c.id = 1;
	c.item = "segment:2";
	c.items = fg_bs_items;
	c.nitems = nitems;
	c.rate_milli = rate_milli;
	c.burst_milli = rate_milli / 10;
	c.stock = FG_BS_STOCK;
	c.low_water = FG_STOCK_LOW_WATER(batch);
	in->e = fg_seckill_new(&c, &fg_bs_http, &fg_bs_seed, err,
			       sizeof(err));
	if (!in->e) {
		fprintf(stderr, "bench_stock: fg_seckill_new: %s\n", err);
		return -1;
	}
	in->base = event_base_new();
	etcd = in->base ? fg_etcd_new(in->base, &ep, 1, err, sizeof(err)) :
		NULL;
	if (!etcd) {
		fprintf(stderr, "bench_stock: fg_etcd_new: %s\n", err);
		return -1;
	}
	memset(&sc, 0, sizeof(sc));
	sc.prefix = prefix;
	sc.holder = holder;
	sc.poll_ms = 1;
	in->s = fg_stock_new(in->base, etcd, &sc, err, sizeof(err));
	if (!in->s || fg_stock_rule_set(in->s, &rc, in->e, err, sizeof(err))) {
		fprintf(stderr, "bench_stock: fg_stock: %s\n", err);
		return -1;
	}
	if (pthread_create(&in->ct, NULL, fg_bs_ctl, in) ||
	    pthread_create(&in->wt, NULL, fg_bs_worker, in)) {
		fprintf(stderr, "bench_stock: pthread_create failed\n");
		return -1;
	}
	return 0;
}

/* fg_bs_stop - stop and free (the threads were started). */
static void fg_bs_stop(struct fg_bs_inst *in)
{
	__atomic_store_n(&in->stop_work, 1, __ATOMIC_RELAXED);
	pthread_join(in->wt, NULL);
	__atomic_store_n(&in->stop_ctl, 1, __ATOMIC_RELAXED);
	pthread_join(in->ct, NULL);
}

static void fg_bs_free(struct fg_bs_inst *in)
{
	fg_stock_free(in->s);
	if (in->base)
		event_base_free(in->base);
	fg_seckill_free(in->e);
}

/* ------------------------------------------------------ store reads */

struct fg_bs_sum {
	bool done;
	int err;
	uint64_t claimed;
	int bad;
};

static void fg_bs_on_range(void *arg, const struct fg_etcd_result *res)
{
	struct fg_bs_sum *s = arg;
	size_t i;

	s->err = res->err;
	for (i = 0; !res->err && i < res->n_kvs; i++) {
		json_t *o = json_loadb(res->kvs[i].value, res->kvs[i].value_len,
				       0, NULL);
		json_t *j = json_object_get(o, "claimed");

		if (json_is_integer(j))
			s->claimed += (uint64_t)json_integer_value(j);
		else
			s->bad++;
		json_decref(o);
	}
	s->done = true;
}

/* fg_bs_claimed - the sum of "claimed" over the keys under prefix, read
 * on a client of its own; -1 on failure. */
static int64_t fg_bs_claimed(const char *prefix)
{
	const char *ep = fg_bs_endpoint;
	struct event_base *b = event_base_new();
	struct fg_etcd *c = b ? fg_etcd_new(b, &ep, 1, NULL, 0) : NULL;
	struct fg_bs_sum s = {0};
	uint64_t t0 = fg_bs_now_ns();
	int64_t r = -1;

	if (c && !fg_etcd_range(c, prefix, true, fg_bs_on_range, &s)) {
		while (!s.done && fg_bs_now_ns() - t0 < 10000000000ULL)
			event_base_loop(b, EVLOOP_ONCE);
		if (s.done && !s.err && !s.bad)
			r = (int64_t)s.claimed;
	}
	fg_etcd_free(c);
	if (b)
		event_base_free(b);
	return r;
}

/* ------------------------------------------------------------- rows */

struct fg_bs_row {
	const char *name;
	const char *unit;
	uint32_t items, holders;
	uint64_t batch;          /* 0: from the rate */
	uint32_t pause_us;
	/* results */
	double value;            /* median */
	double conflicts;        /* failed compares per landed claim */
	double no_allowance;     /* share of judged requests that found
				  * no allowance (shed, waiting for a
				  * claim) */
	uint64_t batch_used;
};

static int fg_bs_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Admitted so far over the row's instances, from the workers' counts. */
static uint64_t fg_bs_admitted(struct fg_bs_inst *in, uint32_t n)
{
	uint64_t a = 0;
	uint32_t h;

	for (h = 0; h < n; h++)
		a += __atomic_load_n(&in[h].admitted, __ATOMIC_RELAXED);
	return a;
}

/* Admitted per second over FG_BS_REPEATS windows after the warm-up: the
 * median into row->value. */
static void fg_bs_windows(struct fg_bs_row *row,
			  uint64_t (*admitted)(void *), void *arg)
{
	double v[FG_BS_REPEATS];
	uint64_t a0, a1, t0, t1;
	uint32_t r;

	usleep(FG_BS_WARMUP_MS * 1000);
	for (r = 0; r < FG_BS_REPEATS; r++) {
		a0 = admitted(arg);
		t0 = fg_bs_now_ns();
		usleep(FG_BS_WINDOW_MS * 1000);
		a1 = admitted(arg);
		t1 = fg_bs_now_ns();
		v[r] = (double)(a1 - a0) * 1e9 / (double)(t1 - t0);
	}
	qsort(v, FG_BS_REPEATS, sizeof(v[0]), fg_bs_cmp);
	row->value = v[FG_BS_REPEATS / 2];
}

/* A row's instances, for fg_bs_windows. */
struct fg_bs_set {
	struct fg_bs_inst *in;
	uint32_t n;
};

static uint64_t fg_bs_set_admitted(void *arg)
{
	const struct fg_bs_set *set = arg;

	return fg_bs_admitted(set->in, set->n);
}

/*
 * fg_bs_run - one row: start its instances, let them warm up, time
 * FG_BS_REPEATS windows, stop, check the path. A claim row's figure is
 * admitted/s too: with batch 1, every admitted request is one claim.
 * Returns 0, or -1 when a check fails.
 */
static int fg_bs_run(struct fg_bs_row *row, unsigned int seq)
{
	struct fg_bs_inst in[FG_BS_HOLDERS_MAX];
	struct fg_stock_rule_stats st;
	struct fg_bs_set set;
	char prefix[64], pfx_items[128], holder[32];
	uint64_t claims = 0, conflicts = 0;
	uint64_t engine_adm = 0, shed_allow = 0, judged = 0;
	int64_t stored;
	uint32_t h, started = 0;
	int rc = 0;

	snprintf(prefix, sizeof(prefix), "/bench%u", seq);
	for (h = 0; h < row->holders; h++) {
		snprintf(holder, sizeof(holder), "bench.%u", h);
		if (fg_bs_start(&in[h], prefix, "sale", holder, row->items,
				row->batch, row->pause_us)) {
			rc = -1;
			goto out;
		}
		started++;
	}
	set.in = in;
	set.n = started;
	fg_bs_windows(row, fg_bs_set_admitted, &set);
	for (h = 0; h < started; h++)
		fg_bs_stop(&in[h]);
	for (h = 0; h < started; h++) {
		struct fg_seckill_stats es;

		if (fg_stock_rule_stats(in[h].s, "sale", &st)) {
			rc = -1;
			goto out;
		}
		claims += st.claims;
		conflicts += st.conflicts;
		row->batch_used = st.batch;
		fg_seckill_stats(in[h].e, &es);
		engine_adm += es.reason[FG_SK_ADMITTED];
		shed_allow += es.reason[FG_SK_SHED_ALLOWANCE];
		judged += in[h].judged;
		/* The worker saw every admission the engine counted. */
		if (es.reason[FG_SK_ADMITTED] != in[h].admitted) {
			fprintf(stderr, "bench_stock: %s: engine admitted %"
				PRIu64 ", worker %" PRIu64 "\n", row->name,
				es.reason[FG_SK_ADMITTED], in[h].admitted);
			rc = -1;
		}
	}
	/* Never more admitted than claimed, and every claim is in the store
	 * (each holder's records sum to what it claimed). */
	snprintf(pfx_items, sizeof(pfx_items), "%s/stock/sale/items/", prefix);
	stored = fg_bs_claimed(pfx_items);
	if (stored < 0 || (uint64_t)stored < engine_adm || !engine_adm) {
		fprintf(stderr, "bench_stock: %s: admitted %" PRIu64
			" against %" PRId64 " claimed in the store\n",
			row->name, engine_adm, stored);
		rc = -1;
	}
	row->conflicts = claims ? (double)conflicts / (double)claims : 0;
	row->no_allowance = judged ? (double)shed_allow / (double)judged : 0;
	if (!strcmp(row->unit, "claims/s")) {
		/* batch 1: one claim per admitted request, so the rate of
		 * admissions is the rate of claims that landed. */
		if (row->batch != 1 || claims < engine_adm) {
			fprintf(stderr, "bench_stock: %s: %" PRIu64
				" claims for %" PRIu64 " admitted\n",
				row->name, claims, engine_adm);
			rc = -1;
		}
	}
out:
	for (h = 0; h < started; h++)
		fg_bs_free(&in[h]);
	return rc;
}

/* -------------------------------------------- through the stock link */

/* The sale as the two processes run it, in three threads here: the
 * worker lcore, floodgate-dpdk's main lcore (the control server) and
 * floodgated's loop (the link and its claimer). */
struct fg_bs_link {
	struct fg_dpdk_l7 *proc;
	struct fg_dpdk_ctl_server *srv;
	struct fg_dpdk_ctl_client *cl;
	struct event_base *base;
	struct fg_stock_link *k;
	pthread_t wt, st, ct;
	bool wt_up, st_up, ct_up;
	uint32_t nitems;
	int stop_work, stop_srv, stop_ctl;   /* atomics */
	uint64_t admitted, judged;           /* the worker's (atomic) */
};

static void *fg_bs_link_worker(void *arg)
{
	struct fg_bs_link *x = arg;
	struct fg_l7_engine *e = fg_dpdk_l7_engine(x->proc);
	char *head = malloc(FG_HTTP_HEAD_MAX_DEFAULT);
	char raw[FG_BS_ITEMS_MAX][FG_BS_REQ_MAX];
	size_t len[FG_BS_ITEMS_MAX], used;
	struct fg_l7_decision d;
	struct fg_http_req req;
	struct fg_flow_key k;
	uint64_t now = 1, adm = 0, n = 0;
	uint32_t i;

	if (!head)
		return NULL;
	fg_bs_requests(raw, len, x->nitems, &k);
	while (!__atomic_load_n(&x->stop_work, __ATOMIC_RELAXED)) {
		for (i = 0; i < x->nitems; i++) {
			now += FG_BS_NS_PER_REQ;
			fg_http_init(&req, fg_l7_engine_http(e), head);
			if (fg_http_feed(&req, raw[i], len[i], &used) !=
			    FG_HTTP_COMPLETE)
				continue;
			if (fg_l7_judge(e, 0, 0, &req, &k, 7, now, &d) ==
			    FG_L7_FORWARD)
				adm++;
		}
		n += x->nitems;
		__atomic_store_n(&x->admitted, adm, __ATOMIC_RELAXED);
		__atomic_store_n(&x->judged, n, __ATOMIC_RELAXED);
	}
	free(head);
	return NULL;
}

static void *fg_bs_link_srv(void *arg)
{
	struct fg_bs_link *x = arg;
	const struct fg_dpdk_ctl_set *s;

	while (!__atomic_load_n(&x->stop_srv, __ATOMIC_RELAXED)) {
		fg_dpdk_ctl_server_wait(x->srv, 10);
		fg_dpdk_ctl_server_poll(x->srv, &s);
	}
	return NULL;
}

static void *fg_bs_link_ctl(void *arg)
{
	struct fg_bs_link *x = arg;

	while (!__atomic_load_n(&x->stop_ctl, __ATOMIC_RELAXED))
		event_base_loop(x->base, EVLOOP_ONCE);
	return NULL;
}

static int fg_bs_no_counters(void *arg, struct fg_dpdk_ctl_counters *c)
{
	(void)arg;
	(void)c;
	return 0;
}

static int fg_bs_srv_stock(void *arg, struct fg_dpdk_ctl_stock *q)
{
	return fg_dpdk_l7_stock(((struct fg_bs_link *)arg)->proc, q);
}

static struct fg_etcd *fg_bs_link_etcd(void *arg)
{
	const char *ep = fg_bs_endpoint;

	return fg_etcd_new(((struct fg_bs_link *)arg)->base, &ep, 1, NULL, 0);
}

static int fg_bs_link_exchange(void *arg, struct fg_dpdk_ctl_stock *q,
			       char *err, size_t errlen)
{
	return fg_dpdk_ctl_client_stock(((struct fg_bs_link *)arg)->cl, q, err,
					errlen);
}

/* The engine of a rule "sale" on nitems items with the bench's rate and
 * an endless stock, for one lcore, as a pushed L7 section builds it. */
static struct fg_dpdk_l7 *fg_bs_link_proc(uint32_t nitems)
{
	struct fg_dpdk_l7 *p = fg_dpdk_l7_new(1, &fg_bs_seed);
	struct fg_dpdk_ctl_set *s = fg_dpdk_ctl_set_empty();
	char rules[2048], err[512];
	struct fg_rule_error re;
	struct fg_ruleset rs;
	struct fg_l7_ship sh;
	json_t *root;
	size_t off;
	uint32_t i;
	int rc = -1;

	off = (size_t)snprintf(rules, sizeof(rules),
		"{\"services\": {\"shop\": {\"vip\": \"198.18.0.10\", \"port\": 80,"
		" \"mode\": \"l7\", \"backends\": [{\"addr\": \"198.19.0.1\"}]}},"
		" \"seckill\": {\"sale\": {\"service\": \"shop\","
		" \"match\": {\"method\": \"POST\", \"path_prefix\": \"/seckill/\"},"
		" \"item\": \"segment:2\", \"rate\": 100000000, \"burst\": 10000000,"
		" \"stock\": %llu, \"items\": [", (unsigned long long)FG_BS_STOCK);
	for (i = 0; i < nitems; i++)
		off += (size_t)snprintf(rules + off, sizeof(rules) - off,
					"%s\"%s\"", i ? ", " : "",
					fg_bs_items[i]);
	snprintf(rules + off, sizeof(rules) - off, "]}}}");
	memset(&rs, 0, sizeof(rs));
	memset(&sh, 0, sizeof(sh));
	root = json_loads(rules, 0, NULL);
	if (!p || !s || !root || fg_ruleset_from_json(root, &rs, &re)) {
		fprintf(stderr, "bench_stock: link rules: %s\n",
			root ? re.message : "out of memory");
		goto out;
	}
	s->version = 1;
	if (fg_l7_ship_build(&rs, &sh, err, sizeof(err)) ||
	    fg_dpdk_ctl_set_l7(s, sh.rules, sh.rules_len, sh.blob, sh.blob_len,
			       NULL) ||
	    fg_dpdk_l7_prepare(p, s, NULL, err, sizeof(err)) != 1) {
		fprintf(stderr, "bench_stock: link engine: %s\n", err);
		goto out;
	}
	fg_dpdk_l7_commit(p);
	rc = 0;
out:
	json_decref(root);
	fg_l7_ship_free(&sh);
	fg_ruleset_free(&rs);
	fg_dpdk_ctl_set_free(s);
	if (rc) {
		fg_dpdk_l7_free(p);
		p = NULL;
	}
	return p;
}

static void fg_bs_link_stop(struct fg_bs_link *x)
{
	__atomic_store_n(&x->stop_work, 1, __ATOMIC_RELAXED);
	if (x->wt_up)
		pthread_join(x->wt, NULL);
	__atomic_store_n(&x->stop_ctl, 1, __ATOMIC_RELAXED);
	if (x->ct_up)
		pthread_join(x->ct, NULL);
	__atomic_store_n(&x->stop_srv, 1, __ATOMIC_RELAXED);
	if (x->st_up)
		pthread_join(x->st, NULL);
	x->wt_up = x->ct_up = x->st_up = false;
}

static void fg_bs_link_free(struct fg_bs_link *x)
{
	fg_bs_link_stop(x);
	fg_stock_link_free(x->k);
	fg_dpdk_ctl_client_close(x->cl);
	fg_dpdk_ctl_server_free(x->srv);
	if (x->base)
		event_base_free(x->base);
	fg_dpdk_l7_free(x->proc);
}

/* fg_bs_link_start - the three threads of row's link sale, prefix
 * `prefix` in the store. 0 or -1 (what was made is freed by the caller
 * with fg_bs_link_free). */
static int fg_bs_link_start(struct fg_bs_link *x, const struct fg_bs_row *row,
			    const char *prefix)
{
	char path[128], err[512];
	struct fg_dpdk_ctl_server_opts so = {
		.path = path, .nworkers = 1, .collect = fg_bs_no_counters,
		.stock = fg_bs_srv_stock, .arg = x,
	};
	struct fg_stock_link_conf lc = {
		.prefix = prefix, .node = "bench", .claim_poll_ms = 1,
		.etcd = fg_bs_link_etcd, .exchange = fg_bs_link_exchange,
		.arg = x,
	};
	struct fg_dpdk_ctl_hello hello;
	int e = 0;

	memset(x, 0, sizeof(*x));
	x->nitems = row->items;
	snprintf(path, sizeof(path), "%s/ctl.sock", fg_bs_root);
	x->proc = fg_bs_link_proc(row->items);
	x->base = event_base_new();
	if (!x->proc || !x->base)
		return -1;
	x->srv = fg_dpdk_ctl_server_new(&so, &e, err, sizeof(err));
	if (!x->srv) {
		fprintf(stderr, "bench_stock: control server: %s\n", err);
		return -1;
	}
	if (pthread_create(&x->st, NULL, fg_bs_link_srv, x))
		return -1;
	x->st_up = true;
	x->cl = fg_dpdk_ctl_client_connect(path, "bench_stock", 5000, &hello,
					   &e, err, sizeof(err));
	if (!x->cl) {
		fprintf(stderr, "bench_stock: control client: %s\n", err);
		return -1;
	}
	x->k = fg_stock_link_new(x->base, &lc, err, sizeof(err));
	if (!x->k) {
		fprintf(stderr, "bench_stock: stock link: %s\n", err);
		return -1;
	}
	if (pthread_create(&x->ct, NULL, fg_bs_link_ctl, x))
		return -1;
	x->ct_up = true;
	if (pthread_create(&x->wt, NULL, fg_bs_link_worker, x))
		return -1;
	x->wt_up = true;
	return 0;
}

static uint64_t fg_bs_link_admitted(void *arg)
{
	return __atomic_load_n(&((struct fg_bs_link *)arg)->admitted,
			       __ATOMIC_RELAXED);
}

/*
 * fg_bs_run_link - the link row: the same checks as fg_bs_run (the
 * engine counted what the worker saw, never more than the store says
 * was claimed).
 */
static int fg_bs_run_link(struct fg_bs_row *row, unsigned int seq)
{
	struct fg_bs_link x;
	struct fg_stock_rule_stats st;
	struct fg_seckill_stats es;
	char prefix[64], pfx_items[128];
	int64_t stored;
	int rc = 0;

	snprintf(prefix, sizeof(prefix), "/bench%u", seq);
	if (fg_bs_link_start(&x, row, prefix)) {
		fg_bs_link_free(&x);
		return -1;
	}
	fg_bs_windows(row, fg_bs_link_admitted, &x);
	fg_bs_link_stop(&x);
	if (fg_stock_link_rule_stats(x.k, "sale", &st) ||
	    fg_l7_engine_seckill_stats(fg_dpdk_l7_engine(x.proc), 0, &es)) {
		fg_bs_link_free(&x);
		return -1;
	}
	row->batch_used = st.batch;
	row->conflicts = st.claims ? (double)st.conflicts / (double)st.claims : 0;
	row->no_allowance = x.judged ? (double)es.reason[FG_SK_SHED_ALLOWANCE] /
				       (double)x.judged : 0;
	if (es.reason[FG_SK_ADMITTED] != x.admitted) {
		fprintf(stderr, "bench_stock: %s: engine admitted %" PRIu64
			", worker %" PRIu64 "\n", row->name,
			es.reason[FG_SK_ADMITTED], x.admitted);
		rc = -1;
	}
	snprintf(pfx_items, sizeof(pfx_items), "%s/stock/sale/items/", prefix);
	stored = fg_bs_claimed(pfx_items);
	if (stored < 0 || (uint64_t)stored < x.admitted || !x.admitted) {
		fprintf(stderr, "bench_stock: %s: admitted %" PRIu64
			" against %" PRId64 " claimed in the store\n",
			row->name, x.admitted, stored);
		rc = -1;
	}
	fg_bs_link_free(&x);
	return rc;
}

/* ------------------------------------------------------------- main */

static int fg_bs_rm(const char *p, const struct stat *st, int flag,
		    struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

int main(void)
{
	struct fg_bs_row rows[] = {
		{"claims_1key", "claims/s", 1, 1, 1, 100, 0, 0, 0, 0},
		{"claims_32keys", "claims/s", 32, 1, 1, 100, 0, 0, 0, 0},
		{"claims_32keys_4h", "claims/s", 32, 4, 1, 100, 0, 0, 0, 0},
		{"admitted_batched", "admitted/s", 32, 1, 0, 0, 0, 0, 0, 0},
		{"admitted_link", "admitted/s", 32, 1, 0, 0, 0, 0, 0, 0},
	};
	const size_t nrows = sizeof(rows) / sizeof(rows[0]);
	struct fg_etcd_embedded_opts o;
	struct fg_etcd_embedded *emb = NULL;
	char data[96], err[512];
	size_t i;
	int rc = 0;

	if (access(FG_BS_ETCD, X_OK)) {
		printf("SKIP: %s not found (apt install etcd-server)\n",
		       FG_BS_ETCD);
		return 77;
	}
	signal(SIGPIPE, SIG_IGN);
	fg_http_conf_init(&fg_bs_http);
	for (i = 0; i < FG_BS_ITEMS_MAX; i++) {
		snprintf(fg_bs_item_names[i], sizeof(fg_bs_item_names[i]),
			 "%zu", 1000 + i);
		fg_bs_items[i] = fg_bs_item_names[i];
	}
	strcpy(fg_bs_root, "/tmp/fg-bench-stock-XXXXXX");
	if (!mkdtemp(fg_bs_root)) {
		perror("bench_stock: mkdtemp");
		return 1;
	}
	snprintf(data, sizeof(data), "%s/node", fg_bs_root);
	fg_etcd_embedded_opts_init(&o);
	o.data_dir = data;
	if (fg_etcd_embedded_start(&o, &emb, err, sizeof(err))) {
		fprintf(stderr, "bench_stock: embedded etcd: %s\n", err);
		rc = 1;
		goto out;
	}
	snprintf(fg_bs_endpoint, sizeof(fg_bs_endpoint), "%s",
		 fg_etcd_embedded_endpoint(emb));
	for (i = 0; i < nrows; i++) {
		if ((strcmp(rows[i].name, "admitted_link") ?
		     fg_bs_run(&rows[i], (unsigned int)i) :
		     fg_bs_run_link(&rows[i], (unsigned int)i))) {
			rc = 1;
			continue;
		}
		printf("bench=l7 case=stock_%s value=%.0f unit=%s floor=0\n",
		       rows[i].name, rows[i].value, rows[i].unit);
		fflush(stdout);
	}
	printf("\n%-20s %14s %-11s %8s %14s %14s\n", "stock row", "value",
	       "unit", "batch", "conflicts/claim", "no allowance");
	for (i = 0; i < nrows; i++)
		printf("%-20s %14.0f %-11s %8" PRIu64 " %14.2f %13.4f%%\n",
		       rows[i].name, rows[i].value, rows[i].unit,
		       rows[i].batch_used, rows[i].conflicts,
		       rows[i].no_allowance * 100.0);
out:
	fg_etcd_embedded_stop(emb);
	nftw(fg_bs_root, fg_bs_rm, 16, FTW_DEPTH | FTW_PHYS);
	return rc;
}
