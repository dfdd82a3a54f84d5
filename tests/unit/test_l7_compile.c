/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * test_l7_compile.c - the L7 compiler (dataplane/l7/fg_l7_compile): rate
 * and burst shares that sum to the whole over every lcore of every node,
 * windows, ids stable across versions and the carry plan, 1,000 routes
 * compiled into one blob and a request routed through the loaded matcher
 * to the highest-priority overlap, each route's backends and Maglev ring
 * (weights, unusable backends, stable across ranks, few moves on a
 * change), answers byte-exact, the engine built from a compiled conf, and
 * malformed input refused with the field.
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

#include <arpa/inet.h>
#include <sys/socket.h>

#include "fg_compile.h"
#include "fg_httpsyn.h"
#include "fg_l7_compile.h"
#include "fg_maglev.h"
#include "fg_rules.h"
#include "fg_stock.h"
#include "l7_fixture.h"

/* ------------------------------------------------------------- shares */

/* Over every node and lcore, the shares of rate and burst sum to the
 * rule's (in milli-requests); no share is below one request of burst. */
static void check_sum(uint64_t rate, uint64_t burst, uint32_t lcores,
		      uint32_t nodes)
{
	struct fg_ruleset *rs = rs_new();
	uint64_t sr = 0, sb = 0, cr = 0, lr = 0, lb = 0, nr = 0, min = ~0ULL;
	uint64_t max = 0;
	uint32_t n, l;
	bool floor = false;

	add_seckill(rs, "flash", "shop", rate, burst);
	rs->seckill[0].has_per_client = true;
	rs->seckill[0].client_key = FG_LKEY_SRC_IP;
	rs->seckill[0].client_rate = rate * 3;
	rs->seckill[0].client_burst = burst * 5;
	add_limit(rs, "perip", "shop", rate, burst, true);
	add_limit(rs, "local", "api", rate, burst, false);
	for (n = 0; n < nodes; n++) {
		struct fg_l7_layout lay = layout(lcores, nodes, n);
		struct fg_l7_tables *t = compile_ok(rs, &lay, NULL);
		const struct fg_l7_seckill *e = &t->seckill[0];
		const struct fg_l7_limit *cl = &t->limits[0], *nl = &t->limits[1];

		assert_string_equal(cl->name, "local");
		floor |= e->burst_floor;
		for (l = 0; l < lcores; l++) {
			sr += e->conf[l].rate_milli;
			sb += e->conf[l].burst_milli;
			cr += e->conf[l].client_rate_milli;
			if (e->conf[l].rate_milli < min)
				min = e->conf[l].rate_milli;
			if (e->conf[l].rate_milli > max)
				max = e->conf[l].rate_milli;
			assert_true(e->conf[l].burst_milli >= FG_SECKILL_MILLI);
			lr += nl->rate_milli[l];
			lb += nl->burst_milli[l];
			if (n == 0)
				nr += cl->rate_milli[l];
		}
		fg_l7_tables_free(t);
	}
	assert_int_equal(sr, rate * 1000);
	assert_int_equal(cr, rate * 3 * 1000);
	assert_int_equal(lr, rate * 1000);       /* cluster scope */
	assert_int_equal(nr, rate * 1000);       /* node scope: per node */
	assert_true(max - min <= 2);             /* two levels of rounding */
	if (burst * 1000 >= (uint64_t)lcores * nodes * 1000) {
		assert_false(floor);
		assert_int_equal(sb, burst * 1000);
		assert_int_equal(lb, burst * 1000);
	} else {
		/* Each instance still holds one request. */
		assert_true(floor);
		assert_int_equal(sb, (uint64_t)lcores * nodes * 1000);
	}
	rs_free(rs);
}

static void test_shares_sum(void **state)
{
	(void)state;
	check_sum(500, 100, 4, 3);       /* 41666.67 milli a share */
	check_sum(500, 100, 1, 1);
	check_sum(7, 13, 3, 5);
	check_sum(1000003, 999, 7, 11);
	check_sum(1, 1, 2, 2);           /* bursts floored at one request */
}

/* src_affine: a client reaches one lcore, so per_client and src_ip
 * limits keep the node's whole share on each lcore. */
static void test_shares_affine(void **state)
{
	struct fg_ruleset *rs = rs_new();
	struct fg_l7_layout lay = layout(4, 2, 1);
	struct fg_l7_tables *t;
	uint32_t l;

	(void)state;
	add_seckill(rs, "flash", "shop", 100, 100);
	rs->seckill[0].has_per_client = true;
	rs->seckill[0].client_key = FG_LKEY_SRC_IP;
	rs->seckill[0].client_rate = 2;
	rs->seckill[0].client_burst = 2;
	add_limit(rs, "perip", "shop", 10, 10, false);
	lay.src_affine = true;
	t = compile_ok(rs, &lay, NULL);
	for (l = 0; l < 4; l++) {
		assert_int_equal(t->seckill[0].conf[l].client_rate_milli, 1000);
		assert_int_equal(t->seckill[0].conf[l].client_burst_milli, 1000);
		assert_int_equal(t->seckill[0].conf[l].rate_milli, 12500);
		assert_int_equal(t->limits[0].rate_milli[l], 10000);
	}
	fg_l7_tables_free(t);
	/* A prefix spreads over the lcores whatever RSS does. */
	rs->seckill[0].client_key = FG_LKEY_SRC_PREFIX;
	rs->seckill[0].client_prefix_len = 24;
	rs->seckill[0].client_rate = 80;
	t = compile_ok(rs, &lay, NULL);
	assert_int_equal(t->seckill[0].conf[0].client_rate_milli, 10000);
	assert_int_equal(t->seckill[0].conf[0].client_key,
			 FG_SECKILL_CLIENT_SRC_PREFIX);
	assert_int_equal(t->seckill[0].conf[0].client_prefix_len, 24);
	fg_l7_tables_free(t);
	rs_free(rs);
}

/* ---------------------------------------------------- window and stock */

static void test_window_stock(void **state)
{
	struct fg_ruleset *rs = rs_new();
	struct fg_l7_layout lay = layout(2, 1, 0);
	struct fg_rule_seckill *sk;
	struct fg_l7_tables *t;
	const char *it[] = {"1001", "1002"};
	uint32_t l;

	(void)state;
	sk = add_seckill(rs, "flash", "shop", 500, 100);
	sk->start_ns = 1794398400ULL * 1000000000ULL;
	sk->end_ns = sk->start_ns + 3600ULL * 1000000000ULL;
	sk->has_stock = true;
	sk->stock = 1000;
	sk->items = calloc(2, sizeof(char *));
	assert_non_null(sk->items);
	sk->items[0] = xstrdup(it[0]);
	sk->items[1] = xstrdup(it[1]);
	sk->nitems = 2;
	t = compile_ok(rs, &lay, NULL);
	for (l = 0; l < 2; l++) {
		const struct fg_seckill_conf *c = &t->seckill[0].conf[l];

		assert_int_equal(c->start_ns, sk->start_ns);
		assert_int_equal(c->end_ns, sk->end_ns);
		assert_int_equal(c->stock, 1000);
		/* The claimer's batch for this share, and half of it. */
		assert_int_equal(t->seckill[0].batch[l],
				 fg_stock_batch(c->rate_milli, 0, 0, 1000));
		assert_int_equal(t->seckill[0].batch[l], 250);
		assert_int_equal(c->low_water, FG_STOCK_LOW_WATER(250));
		assert_int_equal(c->nitems, 2);
		assert_string_equal(c->items[1], "1002");
		assert_string_equal(c->item, "segment:2");
		assert_int_equal(c->id, t->seckill[0].id);
	}
	fg_l7_tables_free(t);
	/* The window's edge is the rule's: end must follow start. */
	sk->end_ns = sk->start_ns;
	compile_bad(rs, &lay, -EINVAL, "seckill.flash.end: must be after start");
	sk->end_ns = 0;                 /* open-ended is fine */
	t = compile_ok(rs, &lay, NULL);
	assert_int_equal(t->seckill[0].conf[1].end_ns, 0);
	fg_l7_tables_free(t);
	/* Stock needs the claimer's batch relation. */
	lay.batch = NULL;
	compile_bad(rs, &lay, -EINVAL, "seckill.flash.stock");
	sk->has_stock = false;
	t = compile_ok(rs, &lay, NULL);
	assert_int_equal(t->seckill[0].conf[0].stock, FG_SECKILL_NO_STOCK);
	assert_int_equal(t->seckill[0].batch[0], 0);
	fg_l7_tables_free(t);
	rs_free(rs);
}

/* ----------------------------------------------------------- ids, carry */

static void test_ids_carry(void **state)
{
	struct fg_ruleset *a = rs_new(), *b = rs_new();
	struct fg_l7_layout lay = layout(2, 1, 0), lay3 = layout(3, 1, 0);
	struct fg_l7_tables *t1, *t2, *t3, *t4;
	uint32_t from[16], id_b, id_c, id_x;
	int i;

	(void)state;
	add_route(a, "ra", "shop", 1, "a.example", NULL, NULL);
	add_route(a, "rb", "shop", 2, "b.example", NULL, NULL);
	add_seckill(a, "ska", "shop", 10, 10);
	add_seckill(a, "skb", "shop", 10, 10);
	add_seckill(a, "skc", "api", 10, 10);
	add_limit(a, "la", "shop", 10, 10, false);
	t1 = compile_ok(a, &lay, NULL);
	id_b = t1->seckill[seckill_index(t1, "skb")].id;
	id_c = t1->seckill[seckill_index(t1, "skc")].id;
	id_x = t1->routes[route_index(t1, "rb")].id;
	for (i = 0; i < 3; i++)
		assert_true(t1->seckill[i].fresh);

	/* Version 2: ska gone, skd new, skb and skc kept (in another
	 * order, and skc moved to service shop). */
	add_seckill(b, "skd", "shop", 10, 10);
	add_seckill(b, "skc", "shop", 10, 10);
	add_seckill(b, "skb", "shop", 20, 20);
	add_route(b, "rc", "api", 5, NULL, "/x", NULL);
	add_route(b, "rb", "shop", 9, "b.example", NULL, NULL);
	add_limit(b, "la", "shop", 10, 10, false);
	t2 = compile_ok(b, &lay, t1);
	assert_int_equal(t2->seckill[seckill_index(t2, "skb")].id, id_b);
	assert_int_equal(t2->seckill[seckill_index(t2, "skc")].id, id_c);
	assert_false(t2->seckill[seckill_index(t2, "skb")].fresh);
	assert_true(t2->seckill[seckill_index(t2, "skd")].fresh);
	/* A new name never takes an id the lineage gave another. */
	for (i = 0; i < (int)t1->nseckill; i++)
		assert_int_not_equal(t2->seckill[seckill_index(t2, "skd")].id,
				     t1->seckill[i].id);
	assert_int_equal(t2->routes[route_index(t2, "rb")].id, id_x);
	assert_true(t2->routes[route_index(t2, "rc")].fresh);
	assert_int_equal(t2->limits[0].id, t1->limits[0].id);
	assert_int_equal(fg_l7_find_seckill(t2, id_b),
			 seckill_index(t2, "skb"));
	assert_int_equal(fg_l7_find_route(t2, id_x), route_index(t2, "rb"));
	assert_int_equal(fg_l7_find_limit(t2, t1->limits[0].id), 0);
	assert_int_equal(fg_l7_find_seckill(t2, t1->seckill[
		seckill_index(t1, "ska")].id), -ENOENT);

	/* Carry: skb and skc from version 1, skd new. */
	assert_int_equal(fg_l7_carry_plan(t1, t2, from, 16), 4);
	i = seckill_index(t2, "skb");
	assert_int_equal(from[i * 2 + 0],
			 (uint32_t)seckill_index(t1, "skb") * 2 + 0);
	assert_int_equal(from[i * 2 + 1],
			 (uint32_t)seckill_index(t1, "skb") * 2 + 1);
	i = seckill_index(t2, "skd");
	assert_int_equal(from[i * 2], FG_L7_NEW);
	assert_int_equal(from[i * 2 + 1], FG_L7_NEW);
	assert_int_equal(fg_l7_carry_plan(NULL, t2, from, 16), 0);
	assert_int_equal(fg_l7_carry_plan(t1, t2, from, 5), -EINVAL);

	/* One more lcore: its engines are new; the others carry. */
	t3 = compile_ok(b, &lay3, t2);
	assert_int_equal(fg_l7_carry_plan(t2, t3, from, 16), 6);
	i = seckill_index(t3, "skc");
	assert_int_equal(from[i * 3 + 1],
			 (uint32_t)seckill_index(t2, "skc") * 2 + 1);
	assert_int_equal(from[i * 3 + 2], FG_L7_NEW);

	/* skc switches to one item: not carried (its "" would take a
	 * named slot). */
	b->seckill[1].item_from = FG_ITEM_FROM_NONE;
	t4 = compile_ok(b, &lay3, t3);
	i = seckill_index(t4, "skc");
	assert_int_equal(fg_l7_carry_plan(t3, t4, from, 16), 6);
	assert_int_equal(from[i * 3], FG_L7_NEW);
	assert_int_equal(t4->seckill[i].id, id_c);

	fg_l7_tables_free(t4);
	fg_l7_tables_free(t3);
	fg_l7_tables_free(t2);
	fg_l7_tables_free(t1);
	rs_free(a);
	rs_free(b);
}

/* Engines built from two versions' confs carry their counts. */
static void test_engine_from_conf(void **state)
{
	struct fg_ruleset *rs = rs_new();
	struct fg_l7_layout lay = layout(1, 1, 0);
	struct fg_l7_tables *t1, *t2;
	struct fg_http_conf h1, h2;
	struct fg_seckill *e1, *e2;
	struct fg_seckill_item_stats st;
	struct fg_flow_key client;
	struct fg_verdict_l7 v;
	struct fg_http_req req;
	char head[1024];
	const char *r = "POST /seckill/1234/buy HTTP/1.1\r\nHost: shop\r\n\r\n";
	uint32_t from[1];

	(void)state;
	add_seckill(rs, "flash", "shop", 1, 1);
	t1 = compile_ok(rs, &lay, NULL);
	h1 = t1->http;
	e1 = fg_seckill_new(&t1->seckill[0].conf[0], &h1, &seed, err,
			    sizeof(err));
	if (!e1)
		fail_msg("fg_seckill_new: %s", err);
	memset(&client, 0, sizeof(client));
	fg_http_init(&req, &h1, head);
	assert_int_equal(fg_http_feed(&req, r, strlen(r), NULL),
			 FG_HTTP_COMPLETE);
	assert_int_equal(fg_seckill_judge(e1, &req, &client, 1000, &v),
			 FG_L7_ADMIT);
	assert_int_equal(fg_seckill_judge(e1, &req, &client, 1001, &v),
			 FG_L7_SHED);
	/* The answer the engine sends is the one the compile built. */
	assert_int_equal(v.resp_len, t1->seckill[0].respond.len);
	assert_memory_equal(v.resp, t1->seckill[0].respond.bytes, v.resp_len);

	t2 = compile_ok(rs, &lay, t1);
	assert_int_equal(fg_l7_carry_plan(t1, t2, from, 1), 1);
	assert_int_equal(from[0], 0);
	h2 = t2->http;
	e2 = fg_seckill_new(&t2->seckill[0].conf[0], &h2, &seed, err,
			    sizeof(err));
	assert_non_null(e2);
	assert_int_equal(fg_seckill_carry(e2, e1), 1);
	assert_int_equal(fg_seckill_item_stats(e2, fg_seckill_item_find(e2,
				"1234", 4), &st), 0);
	assert_int_equal(st.admitted, 1);
	assert_int_equal(st.shed, 1);
	fg_seckill_free(e2);
	fg_seckill_free(e1);
	fg_l7_tables_free(t2);
	fg_l7_tables_free(t1);
	rs_free(rs);
}

/* ------------------------------------------------------------- routes */

/* The index fg_l7_route gives raw request r of service svc, or -1. */
static int route_of(struct fg_l7_matcher *m, struct fg_l7_scratch *s,
		    struct fg_http_conf *conf, uint32_t svc, const char *r,
		    bool seckill)
{
	static char head[FG_HTTP_HEAD_MAX_DEFAULT];
	struct fg_http_req req;
	int rc;

	fg_http_init(&req, conf, head);
	rc = fg_http_feed(&req, r, strlen(r), NULL);
	if (rc != FG_HTTP_COMPLETE)
		fail_msg("reader: %d for %s", rc, r);
	rc = seckill ? fg_l7_seckill_rule(m, s, svc, &req) :
		fg_l7_route(m, s, svc, &req);
	if (rc == FG_ROUTE_NONE)
		return -1;
	assert_true(rc >= 0);
	return rc;
}

/* ------------------------------------------------------ route backends */

/* slots[h]: route ri's ring slots held by backend host h. */
static void ring_count(const struct fg_l7_tables *t, int ri, uint32_t *slots)
{
	const struct fg_l7_route *r = &t->routes[ri];
	uint32_t j;

	memset(slots, 0, 256 * sizeof(*slots));
	for (j = 0; j < r->ring_size; j++) {
		uint32_t be = t->ring[r->ring_off + j];

		assert_true(be >= r->be_first && be < r->be_first + r->nbe);
		slots[be_host(t, (int)be)]++;
	}
}

/*
 * A route's backends and ring: ports settled from the service, weights
 * in the slots, drained, down and weight-0 backends without any, a route
 * with none usable refused per connection (-ENOENT), the same ring
 * wherever the route ranks, and few connections moved by a new backend.
 */
static void test_route_backends(void **state)
{
	struct fg_ruleset *rs = rs_new();
	struct fg_l7_layout lay = layout(1, 1, 0);
	struct fg_l7_tables *t, *t2;
	struct fg_rule_route *a, *b;
	uint32_t slots[256], slots2[256], *old;
	uint32_t j, moved, to_new, size;
	int ra, rb, be, i;

	(void)state;
	a = add_route(rs, "a", "shop", 10, NULL, "/a/", NULL);
	add_backend(a, 1, 8080, 1, FG_BACKEND_ACTIVE);
	add_backend(a, 2, 0, 3, FG_BACKEND_ACTIVE);
	add_backend(a, 3, 8080, 2, FG_BACKEND_DRAIN);
	add_backend(a, 4, 8080, 2, FG_BACKEND_ACTIVE);
	a->backends[3].health_down = true;
	b = add_route(rs, "b", "shop", 5, NULL, "/b/", NULL);
	add_backend(b, 9, 8080, 0, FG_BACKEND_ACTIVE);

	t = compile_ok(rs, &lay, NULL);
	ra = route_index(t, "a");
	rb = route_index(t, "b");
	assert_int_equal(t->nbackends, 5);
	assert_int_equal(t->routes[ra].nbe, 4);
	assert_int_equal(t->routes[ra].ring_size, fg_ring_size_for(4));
	assert_int_equal(t->routes[rb].ring_size, 0);
	/* Port 0 is the service's (80); the others are the rule's. */
	for (j = 0; j < 4; j++) {
		const struct fg_l7_backend *e =
			&t->backends[t->routes[ra].be_first + j];

		assert_int_equal(e->route, (uint32_t)ra);
		assert_int_equal(e->port, j == 1 ? 80 : 8080);
		assert_int_equal(e->usable, j < 2);
	}
	/* Weights 1 : 3 over the usable two, within 1 % of the ring. */
	ring_count(t, ra, slots);
	size = t->routes[ra].ring_size;
	assert_int_equal(slots[1] + slots[2], size);
	assert_true(slots[1] * 100 >= size * 24 && slots[1] * 100 <= size * 26);
	assert_int_equal(slots[3], 0);
	assert_int_equal(slots[4], 0);

	/* Picks follow the ring; none for b; r out of range refused. */
	memset(slots2, 0, sizeof(slots2));
	for (i = 0; i < 20000; i++) {
		be = fg_l7_route_backend(t, (uint32_t)ra, mix((uint64_t)i));
		slots2[be_host(t, be)]++;
		assert_int_equal(t->backends[be].route, (uint32_t)ra);
	}
	assert_int_equal(slots2[1] + slots2[2], 20000);
	assert_true(slots2[1] >= 4500 && slots2[1] <= 5500);
	assert_int_equal(fg_l7_route_backend(t, (uint32_t)rb, 1), -ENOENT);
	assert_int_equal(fg_l7_route_backend(t, t->nroutes, 1), -EINVAL);
	assert_int_equal(fg_l7_route_backend(NULL, 0, 1), -EINVAL);

	/* Route a ranks after a new, higher one: its ring is the same. */
	old = malloc(size * sizeof(*old));
	assert_non_null(old);
	for (j = 0; j < size; j++)
		old[j] = (uint32_t)be_host(t, (int)t->ring[t->routes[ra].ring_off + j]);
	b = add_route(rs, "c", "shop", 50, NULL, "/c/", NULL);
	add_backend(b, 7, 8080, 1, FG_BACKEND_ACTIVE);
	add_backend(b, 8, 8080, 1, FG_BACKEND_ACTIVE);
	t2 = compile_ok(rs, &lay, t);
	ra = route_index(t2, "a");
	assert_int_equal(ra, 1);
	assert_int_equal(t2->routes[ra].ring_size, size);
	for (j = 0; j < size; j++)
		assert_int_equal(be_host(t2, (int)t2->ring[t2->routes[ra].ring_off + j]),
				 old[j]);
	fg_l7_tables_free(t2);

	/* Back in service, weight 2: backend 4 takes its share, and the
	 * slots it does not take mostly stay where they were. */
	rs->routes[0].backends[3].health_down = false;
	t2 = compile_ok(rs, &lay, t);
	ra = route_index(t2, "a");
	ring_count(t2, ra, slots2);
	assert_true(slots2[4] * 100 >= size * 32 && slots2[4] * 100 <= size * 35);
	moved = to_new = 0;
	for (j = 0; j < size; j++) {
		int h = be_host(t2, (int)t2->ring[t2->routes[ra].ring_off + j]);

		if (h == 4)
			to_new++;
		else if ((uint32_t)h != old[j])
			moved++;
	}
	print_message("route ring: %u of %u slots to the new backend, %u moved between the others\n",
		      to_new, size, moved);
	assert_true(moved * 100 <= size * 5);

	free(old);
	fg_l7_tables_free(t2);
	fg_l7_tables_free(t);
	rs_free(rs);
}

/* Refusals of the route rings: a backend twice (one identity), and more
 * slots than a version holds (-ENOSPC, naming the route that tips it). */
static void test_route_rings_refused(void **state)
{
	struct fg_ruleset *rs = rs_new();
	struct fg_l7_layout lay = layout(1, 1, 0);
	struct fg_rule_route *r;
	uint32_t per = fg_ring_size_for(FG_MAGLEV_BACKENDS_MAX);
	uint32_t i, k, n = FG_L7_RING_SLOTS_MAX / per + 1;
	char name[32];

	(void)state;
	r = add_route(rs, "twice", "shop", 1, NULL, "/a", NULL);
	add_backend(r, 1, 8080, 1, FG_BACKEND_ACTIVE);
	add_backend(r, 1, 8080, 1, FG_BACKEND_ACTIVE);
	compile_bad(rs, &lay, -EINVAL,
		    "routes.twice: ring build failed (two backends hash to the same identity)");
	rs_free(rs);

	rs = rs_new();
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "r%03u", i);
		r = add_route(rs, name, "shop", 1, NULL, "/a", NULL);
		r->backends = calloc(FG_MAGLEV_BACKENDS_MAX,
				     sizeof(*r->backends));
		assert_non_null(r->backends);
		r->nbackends = FG_MAGLEV_BACKENDS_MAX;
		for (k = 0; k < FG_MAGLEV_BACKENDS_MAX; k++) {
			r->backends[k].addr.family = AF_INET;
			r->backends[k].addr.a4.s_addr = htonl(0xc6130000u | k);
			r->backends[k].weight = 1;
		}
	}
	snprintf(name, sizeof(name), "routes.r%03u: ", n - 1);
	compile_bad(rs, &lay, -ENOSPC, name);
	rs_free(rs);
}

static void test_routes_1000(void **state)
{
	struct fg_ruleset *rs = rs_new();
	struct fg_l7_layout lay = layout(2, 1, 0);
	struct fg_l7_tables *t;
	struct fg_l7_matcher *m;
	struct fg_l7_scratch *s;
	struct fg_http_conf conf;
	struct fg_rule_route *r;
	char name[64], host[64], req[512];
	void *copy;
	int i, idx;

	(void)state;
	/* 1,000 routes over 100 hosts: per host an exact route, a
	 * wildcard, prefixes and regexes, all overlapping on /api/v1/. */
	for (i = 0; i < 1000; i++) {
		snprintf(name, sizeof(name), "r%04d", i);
		snprintf(host, sizeof(host), "%sh%d.example",
			 i % 10 == 1 ? "*." : "", i / 10);
		r = add_route(rs, name, "shop", (uint32_t)(i % 7) * 10, host,
			      i % 3 ? "/api/" : NULL,
			      i % 3 == 2 ? "^/api/v[12]/" : NULL);
		if (i % 10 == 9) {
			r->priority = 1000 + (uint32_t)i;
			r->match.nheaders = 1;
			strcpy(r->match.headers[0].name, "X-Canary");
			r->match.headers[0].regex = xstrdup("^1$");
		}
	}
	/* Same priority (60) as r0006, a name that sorts first wins. */
	add_route(rs, "a-first", "shop", 60, "h0.example", "/api/", NULL);
	add_route(rs, "other", "api", 1000000, "h0.example", NULL, NULL);
	add_seckill(rs, "zz", "shop", 10, 10);
	add_seckill(rs, "buy", "shop", 10, 10)->match.path_prefix =
		xstrdup("/api/");
	t = compile_ok(rs, &lay, NULL);
	assert_int_equal(t->nroutes, 1002);
	assert_int_equal(t->nsvcs, 2);
	assert_true(t->blob_len > 0);
	print_message("1,000 routes: blob %zu bytes\n", t->blob_len);

	/* Load a copy at an odd address, as the DPDK process would get it
	 * from a message buffer. */
	copy = malloc(t->blob_len + 1);
	assert_non_null(copy);
	memcpy((char *)copy + 1, t->blob, t->blob_len);
	conf = t->http;
	m = fg_l7_matcher_load((char *)copy + 1, t->blob_len, t->nsvcs, &conf,
			       err, sizeof(err));
	if (!m)
		fail_msg("load: %s", err);
	s = fg_l7_scratch_new(m, err, sizeof(err));
	assert_non_null(s);
	assert_int_equal(conf.nwatch, t->http.nwatch);

	/* Each request, the service it arrives at, and the route (or
	 * seckill rule) it must take; NULL: none. */
	static const struct {
		uint32_t svc;
		bool seckill;
		const char *host, *path, *hdrs, *want;
	} cases[] = {
		/* h0: r0000..r0009 hold where their fields do, r0001
		 * (*.h0.example) not (no subdomain); the best is priority
		 * 60 (r0006), tied with a-first: name order. */
		{0, false, "h0.example", "/api/v1/x", "", "a-first"},
		/* Service api sees only its own route. */
		{1, false, "h0.example", "/api/v1/x", "", "other"},
		/* h5: r0050..r0058 at 10 20 .. 60 0 10 20, r0059 needs
		 * X-Canary; r0055 (60, prefix /api/) is the best. */
		{0, false, "h5.example", "/api/v2/x", "", "r0055"},
		/* A subdomain takes the wildcard r0051 only. */
		{0, false, "a.h5.example", "/api/v2/x", "", "r0051"},
		/* h9: the header route r0099 (priority 1099) only with its
		 * header; without it r0090 and r0097 tie at 60. */
		{0, false, "h9.example", "/api/v1/x", "X-Canary: 1\r\n", "r0099"},
		{0, false, "h9.example", "/api/v1/x", "X-Canary: 2\r\n", "r0090"},
		/* No route: the service's own backends. */
		{0, false, "nowhere.example", "/", "", NULL},
		{1, true, "nowhere.example", "/", "", NULL},
		/* Seckill: both match /api/...; "buy" sorts first. Elsewhere
		 * only zz (no match fields) holds. */
		{0, true, "h0.example", "/api/v1/x", "", "buy"},
		{0, true, "h0.example", "/", "", "zz"},
	};
	for (i = 0; i < (int)(sizeof(cases) / sizeof(cases[0])); i++) {
		snprintf(req, sizeof(req),
			 "GET %s HTTP/1.1\r\nHost: %s\r\n%s\r\n",
			 cases[i].path, cases[i].host, cases[i].hdrs);
		idx = route_of(m, s, &conf, cases[i].svc, req,
			       cases[i].seckill);
		if (!cases[i].want) {
			assert_int_equal(idx, -1);
			continue;
		}
		assert_true(idx >= 0);
		assert_string_equal(cases[i].seckill ? t->seckill[idx].name :
				    t->routes[idx].name, cases[i].want);
		assert_int_equal(cases[i].seckill ? t->seckill[idx].svc :
				 t->routes[idx].svc, cases[i].svc);
	}
	/* Out of range and foreign scratch are refused. */
	assert_int_equal(fg_l7_route(m, s, 2, NULL), -EINVAL);

	/* A corrupted blob is refused, not loaded. */
	((char *)copy + 1)[0] ^= 1;
	assert_null(fg_l7_matcher_load((char *)copy + 1, t->blob_len,
				       t->nsvcs, &conf, err, sizeof(err)));
	((char *)copy + 1)[0] ^= 1;
	assert_null(fg_l7_matcher_load((char *)copy + 1, 20, t->nsvcs, &conf,
				       err, sizeof(err)));
	assert_null(fg_l7_matcher_load((char *)copy + 1, t->blob_len,
				       t->nsvcs + 1, &conf, err, sizeof(err)));

	fg_l7_scratch_free(s);
	fg_l7_matcher_free(m);
	free(copy);
	fg_l7_tables_free(t);
	rs_free(rs);
}

/* ------------------------------------------------------------ answers */

static void test_answers(void **state)
{
	static const char want[] =
		"HTTP/1.1 429 Too Many Requests\r\n"
		"Retry-After: 1\r\n"
		"Content-Type: application/json\r\n"
		"Content-Length: 7\r\n"
		"Cache-Control: no-store\r\n"
		"Connection: close\r\n"
		"\r\n"
		"{\"e\":1}";
	static const char sold[] =
		"HTTP/1.1 410 Gone\r\n"
		"Content-Length: 0\r\n"
		"Cache-Control: no-store\r\n"
		"Connection: close\r\n"
		"\r\n";
	struct fg_ruleset *rs = rs_new();
	struct fg_l7_layout lay = layout(1, 1, 0);
	struct fg_l7_tables *t;

	(void)state;
	add_seckill(rs, "flash", "shop", 10, 10);
	add_limit(rs, "perip", "shop", 10, 10, false);
	add_limit(rs, "drops", "api", 10, 10, false)->action = FG_LACT_DROP;
	t = compile_ok(rs, &lay, NULL);
	assert_int_equal(t->seckill[0].respond.len, sizeof(want) - 1);
	assert_memory_equal(t->seckill[0].respond.bytes, want, sizeof(want) - 1);
	assert_int_equal(t->seckill[0].respond.head_len, sizeof(want) - 8);
	assert_int_equal(t->seckill[0].sold_out.len, sizeof(sold) - 1);
	assert_memory_equal(t->seckill[0].sold_out.bytes, sold,
			    sizeof(sold) - 1);
	assert_string_equal(t->limits[1].name, "perip");
	assert_int_equal(t->limits[1].respond.len, sizeof(want) - 1);
	assert_memory_equal(t->limits[1].respond.bytes, want, sizeof(want) - 1);
	assert_int_equal(t->limits[0].respond.len, 0); /* drop: no answer */
	fg_l7_tables_free(t);
	rs_free(rs);
}

/* ---------------------------------------------------------- refusals */

static void test_refused(void **state)
{
	struct fg_ruleset *rs = rs_new();
	struct fg_l7_layout lay = layout(2, 2, 0);
	struct fg_l7_tables *t = NULL;
	struct fg_rule_route *r;
	char name[32];
	uint32_t i;

	(void)state;
	/* Layouts. */
	lay.lcores = 0;
	compile_bad(rs, &lay, -EINVAL, "layout.lcores");
	lay.lcores = 2;
	lay.node_index = 2;
	compile_bad(rs, &lay, -EINVAL, "layout.node_index");
	lay.node_index = 1;
	lay.nodes = 0;
	compile_bad(rs, &lay, -EINVAL, "layout.nodes");
	lay.nodes = 2;
	assert_int_equal(fg_l7_compile(rs, &lay, NULL, 1, NULL, err,
				       sizeof(err)), -EINVAL);
	assert_int_equal(fg_l7_compile(NULL, &lay, NULL, 1, &t, err,
				       sizeof(err)), -EINVAL);

	/* A pattern hyperscan refuses: named by route and field. */
	add_route(rs, "good", "shop", 1, NULL, "/a", NULL);
	r = add_route(rs, "bad", "shop", 1, NULL, NULL, "^/(a");
	compile_bad(rs, &lay, -EINVAL, "routes.bad: path_regex: ");
	free(r->match.path_regex);
	r->match.path_regex = xstrdup("(\\w)\\1");  /* back-reference */
	compile_bad(rs, &lay, -EINVAL, "routes.bad: path_regex: ");
	free(r->match.path_regex);
	r->match.path_regex = NULL;
	strcpy(r->match.host, "a..b");
	compile_bad(rs, &lay, -EINVAL, "routes.bad: host");
	r->match.host[0] = '\0';
	strcpy(r->match.method, "BREW");
	compile_bad(rs, &lay, -EINVAL, "routes.bad: method");
	r->match.method[0] = '\0';
	strcpy(r->service, "plain");                  /* an l4 service */
	compile_bad(rs, &lay, -EINVAL, "routes.bad.service");
	strcpy(r->service, "shop");
	strcpy(r->name, "good");
	compile_bad(rs, &lay, -EINVAL, "routes.good: name used twice");
	strcpy(r->name, "bad");
	r->priority = FG_ROUTE_PRIORITY_MAX + 1;
	compile_bad(rs, &lay, -EINVAL, "routes.bad.priority");
	r->priority = 1;
	/* More header names than the reader watches. */
	for (i = 0; i <= FG_HTTP_WATCH_MAX; i++) {
		snprintf(name, sizeof(name), "h%u", i);
		r = add_route(rs, name, "api", 1, NULL, NULL, NULL);
		r->match.nheaders = 1;
		snprintf(r->match.headers[0].name,
			 sizeof(r->match.headers[0].name), "X-H%u", i);
		r->match.headers[0].regex = xstrdup(".*");
	}
	compile_bad(rs, &lay, -EINVAL, "distinct headers");
	for (i = 2; i < rs->nroutes; i++)
		fg_rule_route_free(&rs->routes[i]);
	rs->nroutes = 2;
	t = compile_ok(rs, &lay, NULL);
	fg_l7_tables_free(t);

	/* Seckill. */
	add_seckill(rs, "flash", "shop", 10, 10);
	rs->seckill[0].respond.status = 200;
	compile_bad(rs, &lay, -EINVAL, "seckill.flash.respond.status");
	rs->seckill[0].respond.status = 429;
	rs->seckill[0].item_from = FG_ITEM_FROM_SEGMENT;
	rs->seckill[0].item_segment = 0;
	compile_bad(rs, &lay, -EINVAL, "seckill.flash.item: segment:N");
	rs->seckill[0].item_from = FG_ITEM_FROM_HEADER;
	strcpy(rs->seckill[0].item_name, "X Y");
	compile_bad(rs, &lay, -EINVAL, "seckill.flash.item: header:NAME");
	rs->seckill[0].item_from = FG_ITEM_FROM_SEGMENT;
	rs->seckill[0].item_segment = 2;
	rs->seckill[0].rate = 0;
	compile_bad(rs, &lay, -EINVAL, "seckill.flash.rate");
	rs->seckill[0].rate = UINT64_MAX / 10;
	compile_bad(rs, &lay, -EINVAL, "seckill.flash.rate");
	rs->seckill[0].rate = 10;
	strcpy(rs->seckill[0].service, "nope");
	compile_bad(rs, &lay, -EINVAL, "seckill.flash.service");
	strcpy(rs->seckill[0].service, "shop");
	rs->seckill[0].match.path_regex = xstrdup("a{2,1}");
	compile_bad(rs, &lay, -EINVAL, "seckill.flash: path_regex: ");

	/* Limits. */
	add_limit(rs, "perip", "plain", 10, 10, false);
	free(rs->seckill[0].match.path_regex);
	rs->seckill[0].match.path_regex = NULL;
	compile_bad(rs, &lay, -EINVAL, "limits.perip.service");
	strcpy(rs->limits[0].service, "shop");
	rs->limits[0].unit = FG_LUNIT_PPS;
	compile_bad(rs, &lay, -EINVAL, "limits.perip.action: respond needs unit rps");
	rs->limits[0].unit = FG_LUNIT_RPS;
	rs->limits[0].respond.content_type[0] = '\0';
	rs->limits[0].respond.body_len = 0;
	rs->limits[0].respond.body[0] = '\0';
	strcpy(rs->limits[0].respond.content_type, "text/plain");
	compile_bad(rs, &lay, -EINVAL, "limits.perip.respond");
	rs->limits[0].respond.content_type[0] = '\0';
	t = compile_ok(rs, &lay, NULL);
	fg_l7_tables_free(t);
	rs_free(rs);
}

/* ------------------------------------------------------------ syntax */

/* The reader's own token table agrees with fg_httpsyn_tchar, the one the
 * rule parser and fg_http_watch_add use: a one-byte header name is read
 * exactly when it is a token character. */
static void test_syntax_agrees(void **state)
{
	static char head[FG_HTTP_HEAD_MAX_DEFAULT];
	struct fg_http_conf conf;
	struct fg_http_req req;
	char r[64];
	unsigned int c;
	int rc, n;

	(void)state;
	fg_http_conf_init(&conf);
	for (c = 0; c < 256; c++) {
		n = snprintf(r, sizeof(r),
			     "GET / HTTP/1.1\r\nHost: a\r\nXb: v\r\n\r\n");
		r[25] = (char)c;        /* the name's first byte, 'X' */
		fg_http_init(&req, &conf, head);
		rc = fg_http_feed(&req, r, (size_t)n, NULL);
		if ((rc == FG_HTTP_COMPLETE) != fg_httpsyn_tchar((unsigned char)c))
			fail_msg("byte 0x%02x: reader %d, tchar %d", c, rc,
				 fg_httpsyn_tchar((unsigned char)c));
		assert_int_equal(fg_http_watch_add(&conf, r + 25, 1) >= 0 ||
				 fg_http_watch_add(&conf, r + 25, 1) == -ENOSPC,
				 fg_httpsyn_tchar((unsigned char)c));
		fg_http_conf_init(&conf);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shares_sum),
		cmocka_unit_test(test_shares_affine),
		cmocka_unit_test(test_window_stock),
		cmocka_unit_test(test_ids_carry),
		cmocka_unit_test(test_engine_from_conf),
		cmocka_unit_test(test_route_backends),
		cmocka_unit_test(test_route_rings_refused),
		cmocka_unit_test(test_routes_1000),
		cmocka_unit_test(test_answers),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_syntax_agrees),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
