/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * test_stats.c - GET /v1/stats and /metrics (controlplane/fg_stats.c) for
 * the L7 engine's counters, from a dataplane that reports them: routes
 * (forwarded, no_backend), seckill rules (API.md's admitted, shed,
 * sold_out and stock_left, then allowance, reasons and items), rps limits
 * through limit_stats; item names as the store keys them; zeros from a
 * dataplane without an L7 engine.
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

#include "fg_daemon.h"
#include "fg_dpdk_ctl.h"
#include "fg_etcd.h"
#include "fg_reconcile.h"
#include "fg_seckill.h"
#include "fg_stats.h"
#include "fg_stock_link.h"

/* The health view fg_stats asks for backends: none here. */
bool fg_daemon_backend_up(struct fg_daemon *d, const struct fg_rule_service *s,
			  const struct fg_rule_backend *b)
{
	(void)d;
	(void)s;
	(void)b;
	return true;
}

static int zero_svc(struct fg_dataplane *dp, const char *n, struct fg_counter *o)
{
	(void)dp;
	(void)n;
	memset(o, 0, sizeof(*o));
	return 0;
}

static int lim(struct fg_dataplane *dp, const char *n, struct fg_limit_counter *o)
{
	(void)dp;
	if (strcmp(n, "perip"))
		return -ENOENT;
	o->passed = 30;
	o->limited = 4;
	return 0;
}

static int drops(struct fg_dataplane *dp, uint64_t out[FG_DROP_REASON_MAX])
{
	(void)dp;
	memset(out, 0, FG_DROP_REASON_MAX * sizeof(out[0]));
	return 0;
}

static int route(struct fg_dataplane *dp, const char *n,
		 struct fg_dp_route_stats *o)
{
	(void)dp;
	if (strcmp(n, "api"))
		return -ENOENT;
	o->forwarded = 1200;
	o->no_backend = 3;
	return 0;
}

static const struct fg_dp_item_stats items[] = {
	{ "1001", 4, 40, 900, 0, 6, 94 },
	{ "a\"b\n%", 5, 1, 2, 3, 0, 0 },
};

static int seckill(struct fg_dataplane *dp, const char *n,
		   struct fg_dp_seckill_stats *o)
{
	(void)dp;
	if (strcmp(n, "flash"))
		return -ENOENT;
	memset(o, 0, sizeof(*o));
	o->reason[FG_SK_ADMITTED] = 41;
	o->reason[FG_SK_SHED_BUCKET] = 800;
	o->reason[FG_SK_UNKNOWN_ITEM] = 102;
	o->reason[FG_SK_SOLD_OUT] = 3;
	o->items_in_use = 2;
	o->items_max = 64;
	o->nitems = 2;
	o->item = items;
	return 0;
}

static const struct fg_dp_ops l7_ops = {
	.kind = "fake", .service_stats = zero_svc, .limit_stats = lim,
	.drop_stats = drops, .route_stats = route, .seckill_stats = seckill,
};
static const struct fg_dp_ops l4_ops = {
	.kind = "fake-l4", .service_stats = zero_svc, .limit_stats = lim,
	.drop_stats = drops,
};

static json_int_t geti(json_t *root, const char *path)
{
	char buf[256], *save = NULL, *tok;
	json_t *v = root;

	snprintf(buf, sizeof(buf), "%s", path);
	for (tok = strtok_r(buf, "/", &save); tok; tok = strtok_r(NULL, "/", &save))
		v = json_object_get(v, tok);
	if (!json_is_integer(v))
		fail_msg("%s: not an integer", path);
	return json_integer_value(v);
}

/* The process's end of a stock exchange: rule flash's engine on lcore 0
 * with one item. */
static int one_engine(void *arg, struct fg_dpdk_ctl_stock *x, char *err,
		      size_t errlen)
{
	(void)arg;
	(void)err;
	(void)errlen;
	if (fg_dpdk_ctl_stock_reserve(x, x->nops, 1, 1))
		return -ENOMEM;
	if (x->nops)
		memset(x->res, 0, x->nops * sizeof(*x->res));
	memset(&x->engs[0], 0, sizeof(x->engs[0]));
	strcpy(x->engs[0].rule, "flash");
	x->engs[0].epoch = 5;
	x->engs[0].stock = 100;
	x->engs[0].batch = 25;
	x->engs[0].nitems = 1;
	memset(&x->items[0], 0, sizeof(x->items[0]));
	memcpy(x->items[0].name, "1001", x->items[0].len = 4);
	x->nengs = x->nitems = 1;
	return 0;
}

/* A store client to an endpoint nobody answers: the claimer exists,
 * claims nothing. */
static struct fg_etcd *no_store(void *arg)
{
	const char *ep = "http://127.0.0.1:9";
	char err[128];

	return fg_etcd_new(arg, &ep, 1, err, sizeof(err));
}

static void test_l7_stats(void **state)
{
	struct event_base *base = NULL;
	struct fg_stock_link_conf lc = {
		.prefix = "/floodgate", .node = "edge-1", .etcd = no_store,
		.exchange = one_engine,
	};
	char err[256];
	struct fg_rule_limit limits[1];
	struct fg_rule_route routes[2];
	struct fg_rule_seckill sk[2];
	struct fg_dataplane dp = { .ops = &l7_ops };

	struct fg_daemon *d = calloc(1, sizeof(*d));
	json_t *st;
	char *m;

	(void)state;
	assert_non_null(d);
	memset(limits, 0, sizeof(limits));
	memset(routes, 0, sizeof(routes));
	memset(sk, 0, sizeof(sk));
	strcpy(limits[0].name, "perip");
	limits[0].unit = FG_LUNIT_RPS;
	strcpy(routes[0].name, "api");
	strcpy(routes[1].name, "gone");
	strcpy(sk[0].name, "flash");
	sk[0].has_stock = true;
	strcpy(sk[1].name, "open");
	d->dp = &dp;
	d->rules.nlimits = 1;
	d->rules.limits = limits;
	d->rules.nroutes = 2;
	d->rules.routes = routes;
	d->rules.nseckill = 2;
	d->rules.seckill = sk;

	st = fg_stats_json(d);
	assert_non_null(st);
	assert_int_equal(geti(st, "routes/api/forwarded"), 1200);
	assert_int_equal(geti(st, "routes/api/no_backend"), 3);
	assert_int_equal(geti(st, "routes/gone/forwarded"), 0);
	assert_int_equal(geti(st, "limits/perip/limited"), 4);
	assert_int_equal(geti(st, "seckill/flash/admitted"), 41);
	assert_int_equal(geti(st, "seckill/flash/shed"), 902);
	assert_int_equal(geti(st, "seckill/flash/sold_out"), 3);
	assert_int_equal(geti(st, "seckill/flash/stock_left"), 94);
	assert_int_equal(geti(st, "seckill/flash/allowance"), 6);
	assert_int_equal(geti(st, "seckill/flash/reasons/unknown_item"), 102);
	assert_int_equal(geti(st, "seckill/flash/items/1001/shed"), 900);
	assert_int_equal(geti(st, "seckill/flash/items/1001/stock_left"), 94);
	/* A name that is not plain text: its store key (%XX). */
	assert_int_equal(geti(st, "seckill/flash/items/a%22b%0A%25/sold_out"), 3);
	assert_int_equal(geti(st, "seckill/flash/items_max"), 64);
	/* No stock: stock_left is null, not 0. */
	assert_true(json_is_null(json_object_get(
		json_object_get(json_object_get(st, "seckill"), "open"),
		"stock_left")));
	assert_int_equal(geti(st, "seckill/open/admitted"), 0);
	/* No claimer feeds them (no stock link): claims null. */
	assert_true(json_is_null(json_object_get(
		json_object_get(json_object_get(st, "seckill"), "flash"),
		"claims")));
	json_decref(st);

	/* floodgate-dpdk runs flash's engine on lcore 0: its claimer's
	 * counters (no store answers here: nothing claimed yet). */
	base = event_base_new();
	assert_non_null(base);
	lc.arg = base;
	d->stock = fg_stock_link_new(base, &lc, err, sizeof(err));
	assert_non_null(d->stock);
	assert_int_equal(fg_stock_link_exchange(d->stock), 0);
	st = fg_stats_json(d);
	assert_int_equal(geti(st, "seckill/flash/claims/batch"), 25);
	assert_int_equal(geti(st, "seckill/flash/claims/claimed"), 0);
	assert_int_equal(geti(st, "seckill/flash/claims/undersell"), 0);
	assert_true(json_is_null(json_object_get(
		json_object_get(json_object_get(st, "seckill"), "open"),
		"claims")));
	json_decref(st);
	m = fg_metrics_text(d);
	assert_non_null(strstr(m, "floodgate_seckill_claimed_total{seckill=\"flash\"} 0\n"));
	assert_non_null(strstr(m, "floodgate_seckill_undersell_total{seckill=\"flash\"} 0\n"));
	assert_null(strstr(m, "floodgate_seckill_claimed_total{seckill=\"open\"}"));
	free(m);
	fg_stock_link_free(d->stock);
	d->stock = NULL;
	event_base_free(base);

	m = fg_metrics_text(d);
	assert_non_null(m);
	assert_non_null(strstr(m, "floodgate_route_requests_total{route=\"api\",reason=\"forwarded\"} 1200\n"));
	assert_non_null(strstr(m, "floodgate_route_requests_total{route=\"api\",reason=\"no_backend\"} 3\n"));
	assert_non_null(strstr(m, "floodgate_seckill_requests_total{seckill=\"flash\",reason=\"shed_bucket\"} 800\n"));
	assert_non_null(strstr(m, "floodgate_seckill_item_requests_total{seckill=\"flash\",item=\"1001\",reason=\"admitted\"} 40\n"));
	assert_non_null(strstr(m, "floodgate_seckill_item_allowance{seckill=\"flash\",item=\"1001\"} 6\n"));
	assert_non_null(strstr(m, "floodgate_seckill_item_stock_left{seckill=\"flash\",item=\"1001\"} 94\n"));
	assert_non_null(strstr(m, "floodgate_limit_limited_total{limit=\"perip\"} 4\n"));
	free(m);

	/* A dataplane without an L7 engine: the names, at 0. */
	dp.ops = &l4_ops;
	st = fg_stats_json(d);
	assert_int_equal(geti(st, "routes/api/forwarded"), 0);
	assert_int_equal(geti(st, "seckill/flash/admitted"), 0);
	assert_int_equal(json_object_size(json_object_get(json_object_get(
		json_object_get(st, "seckill"), "flash"), "items")), 0);
	json_decref(st);
	free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_l7_stats),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
