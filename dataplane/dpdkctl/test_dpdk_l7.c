// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * test_dpdk_l7.c - the L7 engine a floodgate-dpdk process holds per
 * pushed set (fg_dpdk_l7): built from a set's L7 section as floodgated
 * makes it, kept while the section stays, replaced with its state carried
 * when it changes, dropped with it, a bad section refused with what runs
 * left running; and its counters through STATS by name.
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_versions),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
