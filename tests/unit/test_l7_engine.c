/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * test_l7_engine.c - the L7 engine (dataplane/l7/fg_l7_engine): a
 * request judged from raw bytes to a decision through rps limits, seckill
 * admission and routes in that order, the answers' bytes, counters per
 * route, limit, seckill rule and item summed over lcores, stock spent
 * from grants, state carried into the next version by id, and refusals.
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

#include <arpa/inet.h>
#include <sys/socket.h>

#include "fg_l7_engine.h"
#include "fg_l7_ship.h"
#include "fg_rules_json.h"
#include "l7_fixture.h"

#define SHOP 0u  /* rs_new's l7 services, in the tables' order */
#define API  1u

/* The client of a test: 198.18.0.<host>:40000 -> the VIP's port 80. */
static struct fg_flow_key client_of(int host)
{
	struct fg_flow_key k;

	memset(&k, 0, sizeof(k));
	k.family = FG_AF_INET;
	k.proto = 6;
	k.src[0] = htonl(0xc6120000u | (uint32_t)host);
	k.dst[0] = htonl(0xc612000au);
	k.sport = htons(40000);
	k.dport = htons(80);
	return k;
}

/* Judge request text r of service svc on lcore from client host at now. */
static int judge(struct fg_l7_engine *e, uint32_t lcore, uint32_t svc,
		 const char *r, int host, uint64_t now,
		 struct fg_l7_decision *d)
{
	static char head[FG_HTTP_HEAD_MAX_DEFAULT];
	struct fg_flow_key k = client_of(host);
	struct fg_http_req req;
	int rc;

	fg_http_init(&req, fg_l7_engine_http(e), head);
	rc = fg_http_feed(&req, r, strlen(r), NULL);
	if (rc != FG_HTTP_COMPLETE)
		fail_msg("reader: %d for %s", rc, r);
	rc = fg_l7_judge(e, lcore, svc, &req, &k, mix((uint64_t)host), now, d);
	assert_true(rc >= 0);
	assert_int_equal(rc, d->action);
	return rc;
}

static struct fg_l7_engine *engine_ok(const struct fg_l7_tables *t,
				      const struct fg_l7_engine *prev)
{
	struct fg_l7_engine *e;

	err[0] = '\0';
	e = fg_l7_engine_new(t, prev, NULL, &seed, err, sizeof(err));
	if (!e)
		fail_msg("engine: %s", err);
	return e;
}

/* The answer in d starts with status line want. */
static void answer_is(const struct fg_l7_decision *d, int status,
		      const char *want)
{
	assert_int_equal(d->action, FG_L7_ANSWER);
	assert_int_equal(d->status, status);
	assert_non_null(d->resp);
	assert_true(d->resp_len >= strlen(want));
	assert_memory_equal(d->resp, want, strlen(want));
}

#define GET(path) "GET " path " HTTP/1.1\r\nHost: shop.example\r\n\r\n"
#define HEAD(path) "HEAD " path " HTTP/1.1\r\nHost: shop.example\r\n\r\n"
#define POST(path) "POST " path " HTTP/1.1\r\nHost: shop.example\r\n" \
	"Content-Length: 0\r\n\r\n"

/*
 * shop: routes "api" (/api/, backends .1 and .2) and "dead" (/dead/, one
 * backend at weight 0), seckill "flash" on /seckill/ (item segment:2,
 * rate 1/s, burst 2); api: rps limit "perip" (src_ip, 2/s, burst 2,
 * respond) and "census" (one bucket for the service, 1/s, dry run).
 */
static struct fg_ruleset *shop_rules(void)
{
	struct fg_ruleset *rs = rs_new();
	struct fg_rule_route *r;
	struct fg_rule_seckill *sk;
	struct fg_rule_limit *l;

	r = add_route(rs, "api", "shop", 10, NULL, "/api/", NULL);
	add_backend(r, 1, 8080, 1, FG_BACKEND_ACTIVE);
	add_backend(r, 2, 8080, 1, FG_BACKEND_ACTIVE);
	r = add_route(rs, "dead", "shop", 10, NULL, "/dead/", NULL);
	add_backend(r, 9, 8080, 0, FG_BACKEND_ACTIVE);
	sk = add_seckill(rs, "flash", "shop", 1, 2);
	sk->match.path_prefix = xstrdup("/seckill/");
	add_limit(rs, "perip", "api", 2, 2, false);
	l = add_limit(rs, "census", "api", 1, 1, false);
	l->key = FG_LKEY_SERVICE;
	l->action = FG_LACT_DROP;
	l->dry_run = true;
	memset(&l->respond, 0, sizeof(l->respond));
	return rs;
}

/* Routes, seckill and limits in their order, with their answers. */
static void test_judge(void **state)
{
	struct fg_ruleset *rs = shop_rules();
	struct fg_l7_layout lay = layout(2, 1, 0);
	struct fg_l7_tables *t;
	struct fg_l7_engine *e;
	struct fg_l7_route_stats rst;
	struct fg_l7_limit_stats lst;
	struct fg_seckill_stats sst;
	struct fg_seckill_item_stats ist;
	struct fg_l7_decision d;
	int api, dead, flash;
	uint64_t now = 1000000000ULL;
	uint32_t i, len;

	(void)state;
	/* RSS by source address: a client's connections reach one lcore,
	 * which holds its whole src_ip share. */
	lay.src_affine = true;
	t = compile_ok(rs, &lay, NULL);
	e = engine_ok(t, NULL);
	api = route_index(t, "api");
	dead = route_index(t, "dead");
	flash = seckill_index(t, "flash");
	/* A route picks a backend of its own, by the flow hash. */
	judge(e, 0, SHOP, GET("/api/v1/cart"), 5, now, &d);
	assert_int_equal(d.action, FG_L7_FORWARD);
	assert_int_equal(d.by, FG_L7_BY_NONE);
	assert_int_equal(d.route, api);
	assert_true(be_host(t, d.backend) == 1 || be_host(t, d.backend) == 2);
	assert_int_equal(t->backends[d.backend].port, 8080);
	assert_int_equal(d.flags, 0);
	assert_int_equal(d.seckill, -1);
	/* The same connection hash, the same backend; another lcore too. */
	i = (uint32_t)d.backend;
	judge(e, 1, SHOP, GET("/api/v2/"), 5, now, &d);
	assert_int_equal(d.backend, (int)i);
	/* No route: the service's own backends. */
	judge(e, 0, SHOP, GET("/"), 5, now, &d);
	assert_int_equal(d.action, FG_L7_FORWARD);
	assert_int_equal(d.route, -1);
	assert_int_equal(d.backend, -1);
	/* A route without a usable backend answers 503; HEAD gets the head. */
	judge(e, 0, SHOP, GET("/dead/x"), 5, now, &d);
	answer_is(&d, 503, "HTTP/1.1 503 Service Unavailable\r\n");
	assert_int_equal(d.by, FG_L7_BY_ROUTE);
	assert_int_equal(d.route, dead);
	assert_non_null(memmem(d.resp, d.resp_len, "Connection: close\r\n", 19));
	len = d.resp_len;
	judge(e, 1, SHOP, HEAD("/dead/x"), 5, now, &d);
	answer_is(&d, 503, "HTTP/1.1 503 ");
	assert_true(d.resp_len < len);
	assert_memory_equal(d.resp + d.resp_len - 4, "\r\n\r\n", 4);

	/* Seckill: the burst's share is one per lcore; admitted requests go
	 * on with Connection: close, and never reach the route scan. */
	judge(e, 0, SHOP, POST("/seckill/1001/buy"), 5, now, &d);
	assert_int_equal(d.action, FG_L7_FORWARD);
	assert_int_equal(d.flags, FG_L7_F_CONN_CLOSE);
	assert_int_equal(d.seckill, flash);
	assert_int_equal(d.reason, FG_SK_ADMITTED);
	judge(e, 0, SHOP, POST("/seckill/1001/buy"), 6, now + 1, &d);
	answer_is(&d, 429, "HTTP/1.1 429 Too Many Requests\r\n");
	assert_int_equal(d.by, FG_L7_BY_SECKILL);
	assert_int_equal(d.reason, FG_SK_SHED_BUCKET);
	assert_int_equal(d.flags, 0);
	assert_int_equal(d.route, -1);
	assert_memory_equal(d.resp + d.resp_len - 7, "{\"e\":1}", 7);
	judge(e, 1, SHOP, POST("/seckill/1001/buy"), 7, now + 2, &d);
	assert_int_equal(d.reason, FG_SK_ADMITTED);
	judge(e, 1, SHOP, POST("/seckill/"), 7, now + 3, &d);
	assert_int_equal(d.reason, FG_SK_MISSING_ITEM);

	/* rps limits: client 5 has two, then the limit's answer; client 6
	 * its own. Requests they count go on with Connection: close. A
	 * dry-run limit counts its refusals and lets them pass. */
	for (i = 0; i < 2; i++) {
		judge(e, 0, API, GET("/"), 5, now, &d);
		assert_int_equal(d.action, FG_L7_FORWARD);
		assert_int_equal(d.flags, FG_L7_F_CONN_CLOSE);
	}
	judge(e, 0, API, GET("/"), 5, now, &d);
	answer_is(&d, 429, "HTTP/1.1 429 ");
	assert_int_equal(d.by, FG_L7_BY_LIMIT);
	assert_string_equal(t->limits[d.limit].name, "perip");
	judge(e, 0, API, GET("/"), 6, now, &d);
	assert_int_equal(d.action, FG_L7_FORWARD);

	/* Counters, summed over the lcores. */
	assert_int_equal(fg_l7_engine_route_stats(e, (uint32_t)api, &rst), 0);
	assert_int_equal(rst.forwarded, 2);
	assert_int_equal(rst.no_backend, 0);
	assert_int_equal(fg_l7_engine_route_stats(e, (uint32_t)dead, &rst), 0);
	assert_int_equal(rst.forwarded, 0);
	assert_int_equal(rst.no_backend, 2);
	for (i = 0; i < t->nlimits; i++) {
		assert_int_equal(fg_l7_engine_limit_stats(e, i, &lst), 0);
		if (!strcmp(t->limits[i].name, "perip")) {
			assert_int_equal(lst.passed, 3);
			assert_int_equal(lst.limited, 1);
		} else {
			/* census, judged first (by name): one bucket of 1
			 * for the service, refusals counted only. */
			assert_int_equal(lst.passed, 1);
			assert_int_equal(lst.limited, 3);
		}
	}
	assert_int_equal(fg_l7_engine_seckill_stats(e, (uint32_t)flash, &sst), 0);
	assert_int_equal(sst.reason[FG_SK_ADMITTED], 2);
	assert_int_equal(sst.reason[FG_SK_SHED_BUCKET], 1);
	assert_int_equal(sst.reason[FG_SK_MISSING_ITEM], 1);
	assert_int_equal(sst.items, 2);          /* 1001 on each lcore */
	assert_int_equal(fg_l7_engine_item_stats(e, (uint32_t)flash, "1001", 4,
						 &ist), 0);
	assert_int_equal(ist.admitted, 2);
	assert_int_equal(ist.shed, 1);
	assert_int_equal(fg_l7_engine_item_stats(e, (uint32_t)flash, "1002", 4,
						 &ist), -ENOENT);

	fg_l7_engine_free(e);
	fg_l7_tables_free(t);
	rs_free(rs);
}

/* Drop and reset limits, and what the engine refuses to judge. */
static void test_actions_refusals(void **state)
{
	struct fg_ruleset *rs = rs_new();
	struct fg_l7_layout lay = layout(1, 1, 0);
	struct fg_l7_tables *t;
	struct fg_l7_engine *e;
	struct fg_l7_engine_conf conf = { .limit_slots = 1000 };
	struct fg_rule_limit *l;
	struct fg_l7_decision d;
	struct fg_http_conf other;
	struct fg_http_req req;
	struct fg_flow_key k = client_of(1);
	char head[256];
	const char *r = GET("/");

	(void)state;
	l = add_limit(rs, "gate", "shop", 1, 1, false);
	l->action = FG_LACT_RESET;
	memset(&l->respond, 0, sizeof(l->respond));
	l = add_limit(rs, "hush", "api", 1, 1, false);
	l->action = FG_LACT_DROP;
	memset(&l->respond, 0, sizeof(l->respond));
	t = compile_ok(rs, &lay, NULL);
	e = engine_ok(t, NULL);
	judge(e, 0, SHOP, r, 1, 1000, &d);
	assert_int_equal(judge(e, 0, SHOP, r, 1, 1001, &d), FG_L7_RESET);
	assert_int_equal(d.by, FG_L7_BY_LIMIT);
	assert_null(d.resp);
	judge(e, 0, API, r, 1, 1000, &d);
	assert_int_equal(judge(e, 0, API, r, 1, 1001, &d), FG_L7_CLOSE);

	/* Out of range, incomplete, or read with other settings. */
	fg_http_conf_init(&other);
	fg_http_init(&req, fg_l7_engine_http(e), head);
	assert_int_equal(fg_http_feed(&req, r, 5, NULL), FG_HTTP_MORE);
	assert_int_equal(fg_l7_judge(e, 0, SHOP, &req, &k, 1, 1, &d), -EINVAL);
	assert_int_equal(fg_http_feed(&req, r + 5, strlen(r) - 5, NULL),
			 FG_HTTP_COMPLETE);
	assert_int_equal(fg_l7_judge(e, 1, SHOP, &req, &k, 1, 1, &d), -EINVAL);
	assert_int_equal(fg_l7_judge(e, 0, 2, &req, &k, 1, 1, &d), -EINVAL);
	fg_http_init(&req, &other, head);
	assert_int_equal(fg_http_feed(&req, r, strlen(r), NULL),
			 FG_HTTP_COMPLETE);
	assert_int_equal(fg_l7_judge(e, 0, SHOP, &req, &k, 1, 1, &d), -EINVAL);
	assert_null(fg_l7_engine_seckill(e, 0, 0));
	assert_int_equal(fg_l7_engine_route_stats(e, 0, NULL), -EINVAL);

	/* Bucket tables must be a power of two; a carry needs its prev. */
	assert_null(fg_l7_engine_new(t, NULL, &conf, &seed, err, sizeof(err)));
	assert_non_null(strstr(err, "limit_slots: must be a power of two"));
	assert_int_equal(fg_l7_engine_carry(e, NULL, 0), -EINVAL);
	fg_l7_engine_free(e);
	fg_l7_tables_free(t);
	rs_free(rs);
}

/*
 * Stock: nothing is admitted without an allowance (the item asks for
 * one), a grant is spent exactly, and with the store's stock at 0 the
 * answer is sold_out.
 */
static void test_stock(void **state)
{
	struct fg_ruleset *rs = rs_new();
	struct fg_l7_layout lay = layout(1, 1, 0);
	struct fg_l7_tables *t;
	struct fg_l7_engine *e;
	struct fg_rule_seckill *sk;
	struct fg_seckill *eng;
	struct fg_seckill_item_stats ist;
	struct fg_l7_decision d;
	uint32_t idx[4], i;
	uint64_t now = 5000000000ULL;

	(void)state;
	sk = add_seckill(rs, "flash", "shop", 1000, 1000);
	sk->has_stock = true;
	sk->stock = 3;
	t = compile_ok(rs, &lay, NULL);
	e = engine_ok(t, NULL);
	eng = fg_l7_engine_seckill(e, 0, 0);
	assert_non_null(eng);

	judge(e, 0, SHOP, POST("/seckill/7/buy"), 1, now, &d);
	answer_is(&d, 429, "HTTP/1.1 429 ");
	assert_int_equal(d.reason, FG_SK_SHED_ALLOWANCE);
	assert_int_equal(fg_seckill_wants(eng, idx, 4), 1);
	assert_int_equal(fg_seckill_grant(eng, idx[0], 2), 0);
	assert_int_equal(fg_seckill_set_stock_left(eng, idx[0], 1), 0);
	for (i = 0; i < 2; i++) {
		judge(e, 0, SHOP, POST("/seckill/7/buy"), 1, now + 1 + i, &d);
		assert_int_equal(d.action, FG_L7_FORWARD);
		assert_int_equal(d.flags, FG_L7_F_CONN_CLOSE);
	}
	judge(e, 0, SHOP, POST("/seckill/7/buy"), 1, now + 3, &d);
	assert_int_equal(d.reason, FG_SK_SHED_ALLOWANCE);
	assert_int_equal(fg_l7_engine_item_stats(e, 0, "7", 1, &ist), 0);
	assert_int_equal(ist.admitted, 2);
	assert_int_equal(ist.allowance, 0);
	assert_int_equal(ist.stock_left, 1);
	assert_true(ist.wants);
	/* The store's last unit went elsewhere: sold out. */
	assert_int_equal(fg_seckill_set_stock_left(eng, idx[0], 0), 0);
	judge(e, 0, SHOP, POST("/seckill/7/buy"), 1, now + 4, &d);
	answer_is(&d, 410, "HTTP/1.1 410 Gone\r\n");
	assert_int_equal(d.reason, FG_SK_SOLD_OUT);

	fg_l7_engine_free(e);
	fg_l7_tables_free(t);
	rs_free(rs);
}

/*
 * A request that a route without a usable backend takes is answered 503
 * before any seckill rule judges it: no allowance spent, no bucket
 * charged, no stock asked for. The other routes of the service are not
 * held up.
 */
static void test_no_backend_spends_nothing(void **state)
{
	struct fg_ruleset *rs = rs_new();
	struct fg_l7_layout lay = layout(1, 1, 0);
	struct fg_l7_tables *t;
	struct fg_l7_engine *e;
	struct fg_rule_seckill *sk;
	struct fg_rule_route *r;
	struct fg_seckill_stats sst;
	struct fg_l7_route_stats rst;
	struct fg_l7_decision d;
	uint32_t idx[4], i;

	(void)state;
	sk = add_seckill(rs, "flash", "shop", 1000, 1000);
	sk->has_stock = true;
	sk->stock = 10;
	sk->match.path_prefix = xstrdup("/seckill/");
	r = add_route(rs, "buy", "shop", 10, NULL, "/seckill/", NULL);
	add_backend(r, 1, 8080, 1, FG_BACKEND_DRAIN);
	r = add_route(rs, "cart", "shop", 10, NULL, "/cart/", NULL);
	add_backend(r, 2, 8080, 1, FG_BACKEND_ACTIVE);
	t = compile_ok(rs, &lay, NULL);
	e = engine_ok(t, NULL);
	for (i = 0; i < 3; i++) {
		judge(e, 0, SHOP, POST("/seckill/7/buy"), 1, 1000 + i, &d);
		answer_is(&d, 503, "HTTP/1.1 503 ");
		assert_int_equal(d.seckill, -1);
	}
	assert_int_equal(fg_l7_engine_seckill_stats(e, 0, &sst), 0);
	for (i = 0; i < FG_SK_REASON_MAX; i++)
		assert_int_equal(sst.reason[i], 0);
	assert_int_equal(sst.items, 0);
	assert_int_equal(fg_seckill_wants(fg_l7_engine_seckill(e, 0, 0), idx, 4),
			 0);
	assert_int_equal(fg_l7_engine_route_stats(e,
			(uint32_t)route_index(t, "buy"), &rst), 0);
	assert_int_equal(rst.no_backend, 3);
	judge(e, 0, SHOP, GET("/cart/x"), 1, 2000, &d);
	assert_int_equal(d.action, FG_L7_FORWARD);
	assert_int_equal(be_host(t, d.backend), 2);
	fg_l7_engine_free(e);
	fg_l7_tables_free(t);
	rs_free(rs);
}

/*
 * A new version: the rules that stay keep their counters, buckets and
 * allowances on every lcore (carried by id); a new rule starts at 0; a
 * new lcore starts afresh; each lcore carries once.
 */
static void test_carry(void **state)
{
	struct fg_ruleset *rs = shop_rules();
	struct fg_l7_layout lay = layout(2, 1, 0);
	struct fg_l7_tables *t1 = compile_ok(rs, &lay, NULL), *t2, *t3;
	struct fg_l7_engine *e1 = engine_ok(t1, NULL), *e2, *e3;
	struct fg_l7_route_stats rst;
	struct fg_seckill_item_stats ist;
	struct fg_l7_decision d;
	struct fg_rule_route *r;
	uint64_t now = 1000000000ULL;
	uint32_t l;

	(void)state;
	judge(e1, 0, SHOP, GET("/api/a"), 1, now, &d);
	judge(e1, 1, SHOP, GET("/api/b"), 2, now, &d);
	judge(e1, 0, SHOP, POST("/seckill/1001/buy"), 1, now, &d);
	assert_int_equal(d.reason, FG_SK_ADMITTED);
	judge(e1, 0, API, GET("/"), 5, now, &d);
	judge(e1, 0, API, GET("/"), 5, now, &d);

	/* v2: one route more, ranked first. */
	r = add_route(rs, "beta", "shop", 99, NULL, "/api/beta/", NULL);
	add_backend(r, 3, 8080, 1, FG_BACKEND_ACTIVE);
	t2 = compile_ok(rs, &lay, t1);
	e2 = engine_ok(t2, e1);
	assert_int_equal(fg_l7_engine_carry(e2, e1, 0), 1); /* item 1001 */
	assert_int_equal(fg_l7_engine_carry(e2, e1, 1), 0);
	assert_int_equal(fg_l7_engine_carry(e2, e1, 1), -EINVAL);
	assert_int_equal(fg_l7_engine_route_stats(e2,
			(uint32_t)route_index(t2, "api"), &rst), 0);
	assert_int_equal(rst.forwarded, 2);
	assert_int_equal(fg_l7_engine_route_stats(e2,
			(uint32_t)route_index(t2, "beta"), &rst), 0);
	assert_int_equal(rst.forwarded, 0);
	assert_int_equal(fg_l7_engine_item_stats(e2,
			(uint32_t)seckill_index(t2, "flash"), "1001", 4, &ist), 0);
	assert_int_equal(ist.admitted, 1);
	/* The item's bucket came along: lcore 0's share is spent. */
	judge(e2, 0, SHOP, POST("/seckill/1001/buy"), 1, now + 1, &d);
	assert_int_equal(d.reason, FG_SK_SHED_BUCKET);
	/* So did client 5's rps bucket. */
	judge(e2, 0, API, GET("/"), 5, now, &d);
	assert_int_equal(d.by, FG_L7_BY_LIMIT);
	judge(e2, 0, SHOP, GET("/api/beta/1"), 1, now, &d);
	assert_int_equal(d.route, route_index(t2, "beta"));
	assert_int_equal(be_host(t2, d.backend), 3);

	/* v3 on three lcores: lcore 2 is new and starts afresh. */
	lay = layout(3, 1, 0);
	t3 = compile_ok(rs, &lay, t2);
	e3 = engine_ok(t3, e2);
	assert_int_equal(fg_l7_engine_carry(e3, e1, 0), -EINVAL);
	for (l = 0; l < 3; l++)
		assert_true(fg_l7_engine_carry(e3, e2, l) >= 0);
	assert_int_equal(fg_l7_engine_item_stats(e3,
			(uint32_t)seckill_index(t3, "flash"), "1001", 4, &ist), 0);
	assert_int_equal(ist.admitted, 1);
	assert_int_equal(ist.shed, 1);

	fg_l7_engine_free(e3);
	fg_l7_engine_free(e2);
	fg_l7_engine_free(e1);
	fg_l7_tables_free(t3);
	fg_l7_tables_free(t2);
	fg_l7_tables_free(t1);
	rs_free(rs);
}

/* A crowd of 100,000 invented items against a rule with items: every
 * one answered, none takes memory or asks for stock. */
static void test_crowd(void **state)
{
	struct fg_ruleset *rs = rs_new();
	struct fg_l7_layout lay = layout(1, 1, 0);
	struct fg_l7_tables *t;
	struct fg_l7_engine *e;
	struct fg_rule_seckill *sk;
	struct fg_seckill_stats sst;
	struct fg_l7_decision d;
	char req[128];
	uint32_t idx[4], i;
	size_t bytes;

	(void)state;
	sk = add_seckill(rs, "flash", "shop", 1000, 1000);
	sk->has_stock = true;
	sk->stock = 100;
	sk->nitems = 2;
	sk->items = calloc(2, sizeof(*sk->items));
	assert_non_null(sk->items);
	sk->items[0] = xstrdup("1001");
	sk->items[1] = xstrdup("1002");
	t = compile_ok(rs, &lay, NULL);
	e = engine_ok(t, NULL);
	bytes = fg_l7_engine_bytes(e);
	for (i = 0; i < 100000; i++) {
		snprintf(req, sizeof(req), POST("/seckill/%u/buy"), 5000 + i);
		judge(e, 0, SHOP, req, (int)(i & 0xff), 1000 + i, &d);
		assert_int_equal(d.reason, FG_SK_UNKNOWN_ITEM);
	}
	assert_int_equal(fg_l7_engine_bytes(e), bytes);
	assert_int_equal(fg_seckill_wants(fg_l7_engine_seckill(e, 0, 0), idx, 4),
			 0);
	assert_int_equal(fg_l7_engine_seckill_stats(e, 0, &sst), 0);
	assert_int_equal(sst.reason[FG_SK_UNKNOWN_ITEM], 100000);
	assert_int_equal(sst.items, 2);
	fg_l7_engine_free(e);
	fg_l7_tables_free(t);
	rs_free(rs);
}

/*
 * The matchers floodgated compiled, shipped as they are: a process of
 * four lcores builds its tables around them and routes as floodgated's
 * own compile would; matchers of other rules, or a truncated blob, are
 * refused naming the difference.
 */
static void test_prebuilt_blob(void **state)
{
	static const char *const paths[] = {
		GET("/api/a"), GET("/dead/b"), GET("/"), POST("/seckill/9/buy"),
	};
	struct fg_ruleset *rs = shop_rules();
	struct fg_l7_layout one = layout(1, 1, 0), four = layout(4, 1, 0);
	struct fg_l7_tables *t1, *t4;
	struct fg_l7_engine *e1, *e4;
	struct fg_l7_decision d1, d4;
	struct fg_rule_route *r;
	uint32_t i;

	(void)state;
	t1 = compile_ok(rs, &one, NULL);
	four.blob = t1->blob;
	four.blob_len = t1->blob_len;
	t4 = compile_ok(rs, &four, NULL);
	assert_int_equal(t4->blob_len, t1->blob_len);
	assert_memory_equal(t4->blob, t1->blob, t1->blob_len);
	assert_int_equal(t4->layout.lcores, 4);
	e1 = engine_ok(t1, NULL);
	e4 = engine_ok(t4, NULL);
	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		judge(e1, 0, SHOP, paths[i], 1, 1000, &d1);
		judge(e4, 3, SHOP, paths[i], 1, 1000, &d4);
		assert_int_equal(d4.action, d1.action);
		assert_int_equal(d4.route, d1.route);
		assert_int_equal(d4.seckill, d1.seckill);
		assert_int_equal(d4.status, d1.status);
	}
	assert_true(d4.seckill >= 0);

	/* One route more than the blob knows. */
	r = add_route(rs, "extra", "shop", 1, NULL, "/extra/", NULL);
	add_backend(r, 4, 8080, 1, FG_BACKEND_ACTIVE);
	compile_bad(rs, &four, -EINVAL,
		    "blob: service shop has 3 routes, the blob 2");
	four.blob_len = 12;
	compile_bad(rs, &four, -EINVAL, "blob: truncated");

	fg_l7_engine_free(e4);
	fg_l7_engine_free(e1);
	fg_l7_tables_free(t4);
	fg_l7_tables_free(t1);
	rs_free(rs);
}

/* A rule set as the API reads it: l7 "shop" with a route, a seckill rule
 * and an rps limit; l4 "plain" with a pps limit. */
static const char ship_rules[] =
	"{\"services\": {"
	" \"shop\": {\"vip\": \"198.18.0.10\", \"port\": 80, \"mode\": \"l7\","
	"   \"backends\": [{\"addr\": \"198.19.0.1\", \"port\": 8080}]},"
	" \"plain\": {\"vip\": \"198.18.0.11\", \"port\": 53, \"proto\": \"udp\","
	"   \"backends\": [{\"addr\": \"198.19.0.2\"}]}},"
	" \"limits\": {"
	"  \"perip\": {\"service\": \"shop\", \"key\": \"src_ip\", \"unit\": \"rps\","
	"   \"rate\": 5, \"burst\": 5, \"action\": \"respond\"},"
	"  \"dns\": {\"service\": \"plain\", \"key\": \"src_ip\", \"unit\": \"pps\","
	"   \"rate\": 100, \"burst\": 100}},"
	" \"routes\": {\"api\": {\"service\": \"shop\", \"priority\": 5,"
	"   \"match\": {\"path_regex\": \"^/api/v[12]/\"},"
	"   \"backends\": [{\"addr\": \"198.19.0.5\"}]}},"
	" \"seckill\": {\"flash\": {\"service\": \"shop\","
	"   \"match\": {\"method\": \"POST\", \"path_prefix\": \"/seckill/\"},"
	"   \"item\": \"segment:2\", \"rate\": 10, \"burst\": 10}}}";

/*
 * The table set's L7 section: floodgated's side holds the l7 part of the
 * rules only (no l4 service or pps limit) and one blob; the process's
 * side reads it back, checks it as the API would and builds tables for
 * its own lcores around the blob; an engine on them routes with the
 * settled ports. Bad sections are refused with their reason; a rule set
 * without l7 services ships nothing.
 */
static void test_ship(void **state)
{
	struct fg_l7_layout two = layout(2, 1, 0);
	struct fg_l7_ship sh, none;
	struct fg_l7_tables *t = NULL;
	struct fg_l7_engine *e;
	struct fg_l7_decision d;
	struct fg_rule_error re;
	struct fg_ruleset rs;
	json_error_t je;
	json_t *root;
	char *bad;

	(void)state;
	root = json_loads(ship_rules, 0, &je);
	assert_non_null(root);
	memset(&rs, 0, sizeof(rs));
	if (fg_ruleset_from_json(root, &rs, &re))
		fail_msg("rules: %s", re.message);
	json_decref(root);
	assert_int_equal(fg_l7_ship_build(&rs, &sh, err, sizeof(err)), 0);
	assert_non_null(sh.blob);
	assert_true(sh.rules_len > 0);
	assert_null(memmem(sh.rules, sh.rules_len, "plain", 5));
	assert_null(memmem(sh.rules, sh.rules_len, "\"dns\"", 5));
	assert_non_null(memmem(sh.rules, sh.rules_len, "\"perip\"", 7));

	if (fg_l7_ship_tables(sh.rules, sh.rules_len, sh.blob, sh.blob_len,
			      &two, NULL, 3, &t, err, sizeof(err)))
		fail_msg("ship: %s in %.*s", err, (int)sh.rules_len, sh.rules);
	assert_int_equal(t->layout.lcores, 2);
	assert_int_equal(t->nsvcs, 1);
	assert_int_equal(t->nlimits, 1);
	assert_int_equal(t->blob_len, sh.blob_len);
	e = engine_ok(t, NULL);
	judge(e, 1, 0, GET("/api/v2/x"), 1, 1000, &d);
	assert_int_equal(d.action, FG_L7_FORWARD);
	assert_string_equal(t->routes[d.route].name, "api");
	assert_int_equal(t->backends[d.backend].port, 80);
	judge(e, 1, 0, POST("/seckill/3/buy"), 1, 1000, &d);
	assert_string_equal(t->seckill[d.seckill].name, "flash");
	fg_l7_engine_free(e);
	fg_l7_tables_free(t);

	/* Refused: not JSON, rules that fail the API's checks, a blob of
	 * other rules, one part without the other. */
	assert_int_equal(fg_l7_ship_tables("{", 1, sh.blob, sh.blob_len, &two,
					   NULL, 3, &t, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "l7 section: rules are not JSON"));
	bad = strndup(sh.rules, sh.rules_len);
	assert_non_null(bad);
	memcpy(strstr(bad, "\"l7\""), "\"l4\"", 4);
	assert_int_equal(fg_l7_ship_tables(bad, strlen(bad), sh.blob,
					   sh.blob_len, &two, NULL, 3, &t, err,
					   sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "l7 section: "));
	if (!strstr(err, ".service"))
		fail_msg("got %s", err);
	free(bad);
	assert_int_equal(fg_l7_ship_tables(sh.rules, sh.rules_len, sh.blob, 64,
					   &two, NULL, 3, &t, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "blob: "));
	assert_int_equal(fg_l7_ship_tables(sh.rules, sh.rules_len, NULL, 0,
					   &two, NULL, 3, &t, err, sizeof(err)),
			 -EINVAL);
	assert_null(t);

	/* No l7 service: nothing to ship. */
	rs.nroutes = rs.nseckill = 0;
	rs.services[1].mode = FG_MODE_L4;
	rs.limits[1].unit = FG_LUNIT_PPS;
	rs.limits[1].action = FG_LACT_DROP;
	assert_int_equal(fg_l7_ship_build(&rs, &none, err, sizeof(err)), 0);
	assert_null(none.rules);
	assert_null(none.blob);
	rs.nroutes = 1;
	rs.nseckill = 1;
	fg_l7_ship_free(&sh);
	fg_ruleset_free(&rs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_judge),
		cmocka_unit_test(test_actions_refusals),
		cmocka_unit_test(test_stock),
		cmocka_unit_test(test_no_backend_spends_nothing),
		cmocka_unit_test(test_carry),
		cmocka_unit_test(test_crowd),
		cmocka_unit_test(test_prebuilt_blob),
		cmocka_unit_test(test_ship),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
