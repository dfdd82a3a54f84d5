// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * test_dpdk_l7.c - the L7 engine a floodgate-dpdk process holds per
 * pushed set (fg_dpdk_l7): built from a set's L7 section as floodgated
 * makes it, kept while the section stays, replaced with its state carried
 * when it changes, dropped with it, a bad section refused with what runs
 * left running; its counters through STATS by name; and the stock
 * exchange that feeds its seckill engines allowance.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "fg_dpdk_ctl.h"
#include "fg_dpdk_l7.h"
#include "fg_l7_ship.h"
#include "fg_rules_json.h"

static const struct fg_hash_seed seed = { 1, 2, { 3, 4, 5, 6 } };

#define RULES(extra)                                                       \
	"{\"services\": {\"shop\": {\"vip\": \"198.18.0.10\", \"port\": 80," \
	"  \"mode\": \"l7\", \"backends\": [{\"addr\": \"198.19.0.1\"}]}},"  \
	" \"routes\": {\"api\": {\"service\": \"shop\", \"priority\": 5,"    \
	"  \"match\": {\"path_prefix\": \"/api/\"},"                         \
	"  \"backends\": [{\"addr\": \"198.19.0.5\"}]}" extra "},"           \
	" \"seckill\": {\"flash\": {\"service\": \"shop\","                  \
	"  \"match\": {\"method\": \"POST\", \"path_prefix\": \"/buy/\"},"   \
	"  \"item\": \"segment:2\", \"rate\": 100, \"burst\": 100}}}"

/* The set of version v whose section is that of rules text (NULL: none). */
static struct fg_dpdk_ctl_set *set_of(uint64_t v, const char *rules)
{
	struct fg_dpdk_ctl_set *s = fg_dpdk_ctl_set_empty();
	struct fg_rule_error re;
	struct fg_ruleset rs;
	struct fg_l7_ship sh;
	char err[512];
	json_t *root;

	assert_non_null(s);
	s->version = v;
	if (!rules)
		return s;
	root = json_loads(rules, 0, NULL);
	assert_non_null(root);
	memset(&rs, 0, sizeof(rs));
	if (fg_ruleset_from_json(root, &rs, &re))
		fail_msg("rules: %s", re.message);
	json_decref(root);
	if (fg_l7_ship_build(&rs, &sh, err, sizeof(err)))
		fail_msg("ship: %s", err);
	assert_int_equal(fg_dpdk_ctl_set_l7(s, sh.rules, sh.rules_len, sh.blob,
					    sh.blob_len, NULL), 0);
	fg_l7_ship_free(&sh);
	fg_ruleset_free(&rs);
	return s;
}

/* Judge request r on lcore. */
static void judge(struct fg_l7_engine *e, uint32_t lcore, const char *r)
{
	static char head[8192];
	struct fg_flow_key k;
	struct fg_l7_decision d;
	struct fg_http_req req;

	memset(&k, 0, sizeof(k));
	k.family = FG_AF_INET;
	fg_http_init(&req, fg_l7_engine_http(e), head);
	assert_int_equal(fg_http_feed(&req, r, strlen(r), NULL),
			 FG_HTTP_COMPLETE);
	assert_true(fg_l7_judge(e, lcore, 0, &req, &k, 7, 1000, &d) >= 0);
}

/* The counters as floodgated reads them: collected, through STATS. */
static void stats(const struct fg_dpdk_l7 *x, struct fg_dpdk_ctl_counters *d)
{
	struct fg_dpdk_ctl_counters *c = calloc(1, sizeof(*c));
	struct fg_dpdk_ctl_set *empty = fg_dpdk_ctl_set_empty();
	struct fg_dpdk_ctl_buf b = { 0 };
	char err[256];

	assert_non_null(c);
	assert_int_equal(fg_dpdk_l7_collect(x, c), 0);
	assert_int_equal(fg_dpdk_ctl_encode_stats(c, empty, &b), 0);
	assert_int_equal(fg_dpdk_ctl_decode_stats(b.p, b.len, d, err,
						  sizeof(err)), 0);
	fg_dpdk_ctl_buf_free(&b);
	fg_dpdk_ctl_set_free(empty);
	fg_dpdk_ctl_counters_clear(c);
	free(c);
}

static void test_versions(void **state)
{
	struct fg_dpdk_l7 *x = fg_dpdk_l7_new(2, &seed);
	struct fg_dpdk_ctl_counters *d = calloc(1, sizeof(*d));
	struct fg_dpdk_ctl_set *s, *held;
	struct fg_l7_engine *e;
	const void *rules, *blob;
	size_t rn, bn;
	char err[512], *bad;

	(void)state;
	assert_non_null(x);
	assert_non_null(d);
	/* No section, nothing running: nothing to do, no counters. */
	s = set_of(1, NULL);
	assert_int_equal(fg_dpdk_l7_prepare(x, s, NULL, err, sizeof(err)), 0);
	held = s;
	stats(x, d);
	assert_null(d->l7);

	/* A section: an engine for both lcores, around the shipped blob. */
	s = set_of(2, RULES(""));
	assert_int_equal(fg_dpdk_l7_prepare(x, s, held, err, sizeof(err)), 1);
	assert_null(fg_dpdk_l7_engine(x));
	fg_dpdk_l7_commit(x);
	fg_dpdk_ctl_set_free(held);
	held = s;
	e = fg_dpdk_l7_engine(x);
	assert_non_null(e);
	assert_int_equal(fg_l7_engine_tables(e)->layout.lcores, 2);
	judge(e, 0, "GET /api/a HTTP/1.1\r\nHost: shop\r\n\r\n");
	judge(e, 1, "GET /api/b HTTP/1.1\r\nHost: shop\r\n\r\n");
	judge(e, 1, "POST /buy/1001 HTTP/1.1\r\nHost: shop\r\n\r\n");
	judge(e, 0, "POST /buy/1001 HTTP/1.1\r\nHost: shop\r\n\r\n");
	judge(e, 0, "POST /buy/2002 HTTP/1.1\r\nHost: shop\r\n\r\n");
	stats(x, d);
	assert_non_null(d->l7);
	assert_int_equal(d->l7->nroutes, 1);
	assert_string_equal(d->l7->routes[0].name, "api");
	assert_int_equal(d->l7->routes[0].forwarded, 2);
	assert_int_equal(d->l7->nrules, 1);
	assert_string_equal(d->l7->rules[0].name, "flash");
	assert_int_equal(d->l7->rules[0].reason[0], 3);   /* admitted */
	/* 1001 on both lcores is one item; 2002 another. */
	assert_int_equal(d->l7->rules[0].nitems, 2);
	assert_int_equal(d->l7->items[0].len, 4);
	assert_memory_equal(d->l7->items[0].name, "1001", 4);
	assert_int_equal(d->l7->items[0].admitted, 2);
	assert_int_equal(d->l7->items[1].admitted, 1);
	assert_false(d->l7->rules[0].items_cut);

	/* The same section (made again) in the next version: the engine
	 * stays. */
	s = set_of(3, RULES(""));
	assert_int_equal(fg_dpdk_l7_prepare(x, s, held, err, sizeof(err)), 0);
	assert_ptr_equal(fg_dpdk_l7_engine(x), e);

	/* A bad section: refused, what runs stays. */
	fg_dpdk_ctl_set_l7_get(s, &rules, &rn, &blob, &bn);
	bad = malloc(bn);
	assert_non_null(bad);
	memcpy(bad, blob, bn);
	bad[0] ^= 1;
	assert_int_equal(fg_dpdk_ctl_set_l7(s, rules, rn, bad, bn, NULL), 0);
	assert_true(fg_dpdk_l7_prepare(x, s, held, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "blob"));
	assert_ptr_equal(fg_dpdk_l7_engine(x), e);
	free(bad);
	fg_dpdk_ctl_set_free(s);

	/* A route more: a new engine, the counters carried by name. */
	s = set_of(4, RULES(", \"beta\": {\"service\": \"shop\", "
			    "\"match\": {\"path_prefix\": \"/beta/\"}, "
			    "\"backends\": [{\"addr\": \"198.19.0.6\"}]}"));
	assert_int_equal(fg_dpdk_l7_prepare(x, s, held, err, sizeof(err)), 1);
	fg_dpdk_l7_abort(x);
	assert_ptr_equal(fg_dpdk_l7_engine(x), e);
	assert_int_equal(fg_dpdk_l7_prepare(x, s, held, err, sizeof(err)), 1);
	fg_dpdk_l7_commit(x);
	fg_dpdk_ctl_set_free(held);
	held = s;
	e = fg_dpdk_l7_engine(x);
	judge(e, 1, "GET /beta/ HTTP/1.1\r\nHost: shop\r\n\r\n");
	stats(x, d);
	assert_int_equal(d->l7->nroutes, 2);
	assert_int_equal(d->l7->routes[0].forwarded +
			 d->l7->routes[1].forwarded, 3);
	assert_int_equal(d->l7->rules[0].reason[0], 3);
	assert_int_equal(d->l7->items[0].admitted + d->l7->items[1].admitted,
			 3);

	/* No section any more: the engine goes. */
	s = set_of(5, NULL);
	assert_int_equal(fg_dpdk_l7_prepare(x, s, held, err, sizeof(err)), 1);
	fg_dpdk_l7_commit(x);
	fg_dpdk_ctl_set_free(held);
	fg_dpdk_ctl_set_free(s);
	assert_null(fg_dpdk_l7_engine(x));
	stats(x, d);
	assert_null(d->l7);

	fg_dpdk_ctl_counters_clear(d);
	free(d);
	fg_dpdk_l7_free(x);
}

#define STOCK_RULES(route)                                                 \
	"{\"services\": {\"shop\": {\"vip\": \"198.18.0.10\", \"port\": 80," \
	"  \"mode\": \"l7\", \"backends\": [{\"addr\": \"198.19.0.1\"}]}}"  \
	route ", \"seckill\": {\"flash\": {\"service\": \"shop\","           \
	"  \"match\": {\"method\": \"POST\", \"path_prefix\": \"/buy/\"},"   \
	"  \"item\": \"segment:2\", \"items\": [\"1001\", \"1002\"],"        \
	"  \"rate\": 100, \"burst\": 100, \"stock\": 50}}}"

/* One exchange as floodgated and the process make it: q's request
 * through the codec to the process, its answer back into q. */
static void exchange(struct fg_dpdk_l7 *x, struct fg_dpdk_ctl_stock *q)
{
	struct fg_dpdk_ctl_stock srv = { 0 };
	struct fg_dpdk_ctl_buf b = { 0 }, a = { 0 };
	char err[256];

	assert_int_equal(fg_dpdk_ctl_encode_stock_req(q, &b), 0);
	assert_int_equal(fg_dpdk_ctl_decode_stock_req(b.p, b.len, &srv, err,
						      sizeof(err)), 0);
	assert_int_equal(fg_dpdk_l7_stock(x, &srv), 0);
	assert_int_equal(fg_dpdk_ctl_encode_stock(&srv, &a), 0);
	if (fg_dpdk_ctl_decode_stock(a.p, a.len, q, err, sizeof(err)))
		fail_msg("decode: %s", err);
	fg_dpdk_ctl_buf_free(&b);
	fg_dpdk_ctl_buf_free(&a);
	fg_dpdk_ctl_stock_clear(&srv);
}

/* Set q's ops to one op. */
static void one_op(struct fg_dpdk_ctl_stock *q, const char *rule,
		   uint32_t lcore, uint64_t epoch, int kind, const char *item,
		   uint64_t expect, uint64_t n)
{
	struct fg_dpdk_ctl_stock_op *o;

	assert_int_equal(fg_dpdk_ctl_stock_reserve(q, 1, 0, 0), 0);
	o = &q->ops[0];
	memset(o, 0, sizeof(*o));
	snprintf(o->rule, sizeof(o->rule), "%s", rule);
	o->lcore = lcore;
	o->epoch = epoch;
	o->kind = (uint8_t)kind;
	o->len = (uint8_t)strlen(item);
	memcpy(o->item, item, o->len);
	o->expect = expect;
	o->n = n;
	q->nops = 1;
}

/* Install the set of version v with that section. */
static void install(struct fg_dpdk_l7 *x, struct fg_dpdk_ctl_set **held,
		    uint64_t v, const char *rules)
{
	struct fg_dpdk_ctl_set *s = set_of(v, rules);
	char err[512];

	if (fg_dpdk_l7_prepare(x, s, *held, err, sizeof(err)) < 0)
		fail_msg("prepare: %s", err);
	fg_dpdk_l7_commit(x);
	fg_dpdk_ctl_set_free(*held);
	*held = s;
}

/* The item entry of that name of engine i in q's answer, or NULL. */
static const struct fg_dpdk_ctl_stock_item *
item_of(const struct fg_dpdk_ctl_stock *q, uint32_t i, const char *name)
{
	uint32_t k;

	for (k = 0; k < q->engs[i].nitems; k++) {
		const struct fg_dpdk_ctl_stock_item *it =
			&q->items[q->engs[i].item_first + k];

		if (it->len == strlen(name) && !memcmp(it->name, name, it->len))
			return it;
	}
	return NULL;
}

/*
 * The stock exchange: engines with their lineages, items announced once
 * per version and again on `all`, grants as compare-and-add (a repeat
 * or another lineage's refused), signals of items that want more, and
 * lineages that carry with the engine or start afresh.
 */
static void test_stock(void **state)
{
	struct fg_dpdk_l7 *x = fg_dpdk_l7_new(2, &seed);
	struct fg_dpdk_ctl_stock q = { 0 };
	struct fg_dpdk_ctl_set *held = NULL;
	const struct fg_dpdk_ctl_stock_item *it;
	uint64_t e0, e1;
	int i;

	(void)state;
	assert_non_null(x);
	/* No engine: an empty answer; an op finds nothing. */
	one_op(&q, "flash", 0, 1, FG_DPDK_CTL_STOCK_GRANT, "1001", 0, 1);
	exchange(x, &q);
	assert_int_equal(q.nengs, 0);
	assert_int_equal(q.res[0].rc, -ENOENT);

	install(x, &held, 1, STOCK_RULES(""));
	q.nops = 0;
	exchange(x, &q);
	assert_int_equal(q.nengs, 2);
	assert_string_equal(q.engs[0].rule, "flash");
	assert_int_equal(q.engs[0].lcore, 0);
	assert_int_equal(q.engs[1].lcore, 1);
	e0 = q.engs[0].epoch;
	e1 = q.engs[1].epoch;
	assert_true(e0 && e1 && e0 != e1);
	assert_int_equal(q.engs[0].stock, 50);
	assert_int_equal(q.engs[0].rate_milli, 50000);  /* half of 100/s */
	assert_int_equal(q.engs[0].batch, 50);
	assert_int_equal(q.engs[0].items, 2);
	/* Every item announced, once. */
	assert_int_equal(q.nitems, 4);
	it = item_of(&q, 0, "1002");
	assert_non_null(it);
	assert_int_equal(it->granted, 0);
	assert_int_equal(it->wants, 0);
	exchange(x, &q);
	assert_int_equal(q.nengs, 2);
	assert_int_equal(q.nitems, 0);

	/* A grant lands once: the same op again is stale. */
	one_op(&q, "flash", 0, e0, FG_DPDK_CTL_STOCK_GRANT, "1001", 0, 5);
	exchange(x, &q);
	assert_int_equal(q.res[0].rc, 0);
	assert_int_equal(q.res[0].granted, 5);
	exchange(x, &q);
	assert_int_equal(q.res[0].rc, -ESTALE);
	assert_int_equal(q.res[0].granted, 5);
	/* Another lineage's, another engine's, an unknown item. */
	one_op(&q, "flash", 1, e0, FG_DPDK_CTL_STOCK_GRANT, "1001", 0, 5);
	exchange(x, &q);
	assert_int_equal(q.res[0].rc, -ENOENT);
	one_op(&q, "flash", 2, e0, FG_DPDK_CTL_STOCK_GRANT, "1001", 0, 5);
	exchange(x, &q);
	assert_int_equal(q.res[0].rc, -ENOENT);
	one_op(&q, "flash", 0, e0, FG_DPDK_CTL_STOCK_GRANT, "9999", 0, 5);
	exchange(x, &q);
	assert_int_equal(q.res[0].rc, -ENOENT);
	one_op(&q, "flask", 0, e0, FG_DPDK_CTL_STOCK_GRANT, "1001", 0, 5);
	exchange(x, &q);
	assert_int_equal(q.res[0].rc, -ENOENT);
	one_op(&q, "flash", 0, e0, FG_DPDK_CTL_STOCK_LEFT, "1001", 0, 45);
	exchange(x, &q);
	assert_int_equal(q.res[0].rc, 0);

	/* Spent below the low-water mark: the item says it wants more. */
	for (i = 0; i < 2; i++)
		judge(fg_dpdk_l7_engine(x), 0,
		      "POST /buy/1001 HTTP/1.1\r\nHost: shop\r\n\r\n");
	q.nops = 0;
	exchange(x, &q);
	assert_int_equal(q.nitems, 1);
	it = item_of(&q, 0, "1001");
	assert_non_null(it);
	assert_int_equal(it->wants, 1);
	assert_int_equal(it->granted, 5);
	assert_int_equal(it->admitted, 2);
	exchange(x, &q);
	assert_int_equal(q.nitems, 0);
	/* all: everything again. */
	q.all = true;
	exchange(x, &q);
	q.all = false;
	assert_int_equal(q.nitems, 4);

	/* A new version that carries the rule: same lineages, the counts
	 * carried, every item announced again. */
	install(x, &held, 2, STOCK_RULES(", \"routes\": {\"api\": {"
		"\"service\": \"shop\", \"match\": {\"path_prefix\": \"/api/\"},"
		"\"backends\": [{\"addr\": \"198.19.0.5\"}]}}"));
	exchange(x, &q);
	assert_int_equal(q.nengs, 2);
	assert_true(q.engs[0].epoch == e0 && q.engs[1].epoch == e1);
	it = item_of(&q, 0, "1001");
	assert_non_null(it);
	assert_int_equal(it->granted, 5);
	assert_int_equal(it->admitted, 2);
	one_op(&q, "flash", 0, e0, FG_DPDK_CTL_STOCK_GRANT, "1001", 5, 20);
	exchange(x, &q);
	assert_int_equal(q.res[0].rc, 0);
	assert_int_equal(q.res[0].granted, 25);

	/* The rule gone: no engines; back: new lineages from 0. */
	install(x, &held, 3, NULL);
	q.nops = 0;
	exchange(x, &q);
	assert_int_equal(q.nengs, 0);
	install(x, &held, 4, STOCK_RULES(""));
	exchange(x, &q);
	assert_int_equal(q.nengs, 2);
	assert_true(q.engs[0].epoch != e0 && q.engs[1].epoch != e1);
	it = item_of(&q, 0, "1001");
	assert_non_null(it);
	assert_int_equal(it->granted, 0);

	fg_dpdk_ctl_stock_clear(&q);
	fg_dpdk_ctl_set_free(held);
	fg_dpdk_l7_free(x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_versions),
		cmocka_unit_test(test_stock),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
