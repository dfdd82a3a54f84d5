/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * bench_l7_engine.c - requests judged per second per core by the whole
 * L7 engine (fg_l7_judge), from raw request bytes to a decision with its
 * answer bytes: the request read (fg_http), the service's rps limits,
 * the seckill rule scan and judge, the route scan and the backend pick,
 * as the DPDK worker will for a connection's first request.
 *
 * The rules come through the API's JSON codec and checks, the L7
 * compiler and the engine, as floodgated's would: l7 services "shop"
 * (100 routes /p000/../p099/, route "bulk", seckill rules "flash" - the
 * API.md example with 1,000 listed items, rate 1/s - and "bulk", 10M/s)
 * and "api" (rps limit "perip", 1/s per source, action respond).
 *
 * Rows:
 *  - shed:      "flash"'s item bucket is empty: its `respond`
 *  - sold_out:  "flash", an item with no allowance and store stock 0
 *  - admitted:  "bulk" admits, then route "bulk" picks the backend
 *  - routed:    a GET that no seckill rule matches, to one of 100 routes
 *  - unrouted:  a GET that matches nothing: the service's backends
 *  - limited:   "perip" refuses: its `respond`
 * Each row checks its decision before timing; after it, the counter of
 * its path grew by every timed request (unrouted has none: checked
 * before only). Figures: the median of FG_BENCH_REPEATS repeats.
 *
 * Arguments: the rows to time (default: all of them).
 *
 * Output: one line per row,
 *   bench=l7 case=engine_<row> value=<requests/s> unit=req/s floor=0
 * then a human table with ns per request.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "bench_loop.h"
#include "fg_l7_compile.h"
#include "fg_l7_engine.h"
#include "fg_rules_json.h"
#include "fg_stock.h"

#define FG_BENCH_CLIENTS 4096u
#define FG_BENCH_STEP_NS 20u
/* Inside the sale's window, 2026-11-11T12:00:00Z + 1 s. */
#define FG_BENCH_T0 ((1794398400ULL + 1) * 1000000000ULL)

enum { ROW_SHED, ROW_SOLD_OUT, ROW_ADMITTED, ROW_ROUTED, ROW_UNROUTED,
       ROW_LIMITED, FG_BENCH_ROWS };

static const char *const fg_bench_names[FG_BENCH_ROWS] = {
	"shed", "sold_out", "admitted", "routed", "unrouted", "limited",
};

#define FG_BENCH_REQ FG_BENCH_BROWSER_REQ

static const char *const fg_bench_reqs[FG_BENCH_ROWS] = {
	FG_BENCH_REQ("POST /seckill/1234/buy"),
	FG_BENCH_REQ("POST /seckill/1500/buy"),
	FG_BENCH_REQ("POST /bulk/1234/buy"),
	FG_BENCH_REQ("GET /p050/cart"),
	FG_BENCH_REQ("GET /nowhere"),
	FG_BENCH_REQ("GET /"),
};

struct fg_bench_ctx {
	struct fg_l7_engine *e;
	const char *req;
	size_t len;
	uint32_t svc;
	uint64_t now;
	uint32_t client;
	struct fg_flow_key key;
	char head[FG_HTTP_HEAD_MAX_DEFAULT];
};

/* One request: read, judge. A value derived from the decision, so that
 * nothing is dead code. */
static inline uint64_t fg_bench_one(struct fg_bench_ctx *c)
{
	struct fg_l7_decision d;
	struct fg_http_req req;
	const char *p = c->req;
	size_t used;
	int rc;

	FG_BENCH_HIDE(p);
	c->now += FG_BENCH_STEP_NS;
	c->key.src[0] = fg_htonl(0xc6120000u + (c->client++ &
					       (FG_BENCH_CLIENTS - 1)));
	fg_http_init(&req, fg_l7_engine_http(c->e), c->head);
	rc = fg_http_feed(&req, p, c->len, &used);
	if (rc != FG_HTTP_COMPLETE)
		return (uint64_t)rc + used;
	rc = fg_l7_judge(c->e, 0, c->svc, &req, &c->key, c->client, c->now,
			 &d);
	return (uint64_t)rc + d.resp_len + (uint64_t)d.backend + used;
}

FG_BENCH_LOOP(fg_bench_loop, struct fg_bench_ctx, fg_bench_one)

/* The rules, as the API takes them. */
static json_t *fg_bench_rules(void)
{
	json_t *root, *routes, *items;
	char name[16], prefix[16];
	unsigned int i;
	json_error_t je;

	root = json_loads(
		"{\"services\": {"
		"  \"shop\": {\"vip\": \"198.18.0.10\", \"port\": 80, \"mode\": \"l7\","
		"    \"backends\": [{\"addr\": \"198.19.0.1\", \"port\": 8080}]},"
		"  \"api\": {\"vip\": \"198.18.0.11\", \"port\": 80, \"mode\": \"l7\","
		"    \"backends\": [{\"addr\": \"198.19.0.2\", \"port\": 8080}]}},"
		" \"limits\": {\"perip\": {\"service\": \"api\", \"key\": \"src_ip\","
		"    \"unit\": \"rps\", \"rate\": 1, \"burst\": 1,"
		"    \"action\": \"respond\", \"respond\": {\"status\": 429,"
		"    \"retry_after\": 1, \"body\": \"slow down\"}}},"
		" \"routes\": {\"bulk\": {\"service\": \"shop\", \"priority\": 500,"
		"    \"match\": {\"path_prefix\": \"/bulk/\"},"
		"    \"backends\": [{\"addr\": \"198.19.1.1\", \"port\": 8080},"
		"                   {\"addr\": \"198.19.1.2\", \"port\": 8080}]}},"
		" \"seckill\": {"
		"  \"flash\": {\"service\": \"shop\","
		"    \"match\": {\"method\": \"POST\", \"path_regex\": \"^/seckill/[0-9]+/buy$\"},"
		"    \"item\": \"segment:2\", \"rate\": 1, \"burst\": 1,"
		"    \"stock\": 1000000000,"
		"    \"per_client\": {\"key\": \"src_ip\", \"rate\": 2, \"burst\": 2},"
		"    \"start\": \"2026-11-11T12:00:00Z\", \"end\": \"2026-11-11T13:00:00Z\","
		"    \"respond\": {\"status\": 429, \"retry_after\": 1,"
		"      \"content_type\": \"application/json\","
		"      \"body\": \"{\\\"error\\\": \\\"busy, try again\\\"}\"},"
		"    \"sold_out\": {\"status\": 410, \"content_type\": \"application/json\","
		"      \"body\": \"{\\\"error\\\": \\\"sold out\\\"}\"}},"
		"  \"bulk\": {\"service\": \"shop\","
		"    \"match\": {\"method\": \"POST\", \"path_prefix\": \"/bulk/\"},"
		"    \"item\": \"segment:2\", \"items\": [\"1234\"],"
		"    \"rate\": 10000000, \"burst\": 1000000000,"
		"    \"stock\": 1000000000000}}}",
		0, &je);
	if (!root) {
		fprintf(stderr, "bench_l7_engine: rules: %s\n", je.text);
		return NULL;
	}
	routes = json_object_get(root, "routes");
	for (i = 0; i < 100; i++) {
		snprintf(name, sizeof(name), "r%03u", i);
		snprintf(prefix, sizeof(prefix), "/p%03u/", i);
		json_object_set_new(routes, name, json_pack(
			"{s:s, s:i, s:{s:s}, s:[{s:s, s:i}]}",
			"service", "shop", "priority", (int)i,
			"match", "path_prefix", prefix,
			"backends", "addr", "198.19.2.1", "port", 8080));
	}
	items = json_array();
	for (i = 0; i < 1000; i++) {
		snprintf(name, sizeof(name), "%u", 1000 + i);
		json_array_append_new(items, json_string(name));
	}
	json_object_set_new(json_object_get(json_object_get(root, "seckill"),
					    "flash"), "items", items);
	return root;
}

/* The index of l7 service name in t. */
static uint32_t fg_bench_svc(const struct fg_l7_tables *t, const char *name)
{
	uint32_t i;

	for (i = 0; i < t->nsvcs && strcmp(t->svcs[i].name, name); i++)
		;
	return i;
}

/* The counter of row r's path. */
static uint64_t fg_bench_counter(const struct fg_l7_engine *e, unsigned int r)
{
	const struct fg_l7_tables *t = fg_l7_engine_tables(e);
	struct fg_seckill_stats sk;
	struct fg_l7_route_stats rt;
	struct fg_l7_limit_stats lm;
	uint32_t i;

	for (i = 0; i < t->nseckill && r <= ROW_SOLD_OUT; i++)
		if (!strcmp(t->seckill[i].name, "flash")) {
			fg_l7_engine_seckill_stats(e, i, &sk);
			return sk.reason[r == ROW_SHED ? FG_SK_SHED_BUCKET :
					 FG_SK_SOLD_OUT];
		}
	for (i = 0; i < t->nroutes; i++)
		if (!strcmp(t->routes[i].name,
			    r == ROW_ADMITTED ? "bulk" : "r050")) {
			fg_l7_engine_route_stats(e, i, &rt);
			if (r == ROW_ADMITTED || r == ROW_ROUTED)
				return rt.forwarded;
		}
	if (r == ROW_LIMITED && t->nlimits == 1) {
		fg_l7_engine_limit_stats(e, 0, &lm);
		return lm.limited;
	}
	return 0;
}

/* Row r's decision, checked on one request. */
static int fg_bench_check(struct fg_bench_ctx *c, unsigned int r)
{
	static const struct { uint8_t action, by; int reason; } want[] = {
		[ROW_SHED] = { FG_L7_ANSWER, FG_L7_BY_SECKILL, FG_SK_SHED_BUCKET },
		[ROW_SOLD_OUT] = { FG_L7_ANSWER, FG_L7_BY_SECKILL, FG_SK_SOLD_OUT },
		[ROW_ADMITTED] = { FG_L7_FORWARD, FG_L7_BY_NONE, FG_SK_ADMITTED },
		[ROW_ROUTED] = { FG_L7_FORWARD, FG_L7_BY_NONE, -1 },
		[ROW_UNROUTED] = { FG_L7_FORWARD, FG_L7_BY_NONE, -1 },
		[ROW_LIMITED] = { FG_L7_ANSWER, FG_L7_BY_LIMIT, -1 },
	};
	struct fg_l7_decision d;
	struct fg_http_req req;
	int rc;

	c->now += FG_BENCH_STEP_NS;
	fg_http_init(&req, fg_l7_engine_http(c->e), c->head);
	rc = fg_http_feed(&req, c->req, c->len, NULL);
	if (rc == FG_HTTP_COMPLETE)
		rc = fg_l7_judge(c->e, 0, c->svc, &req, &c->key, 1, c->now, &d);
	if (rc < 0 || d.action != want[r].action || d.by != want[r].by ||
	    (want[r].reason >= 0 && (d.seckill < 0 || d.reason != want[r].reason)) ||
	    ((r == ROW_ADMITTED || r == ROW_ROUTED) && d.backend < 0) ||
	    (r == ROW_UNROUTED && (d.route >= 0 || d.seckill >= 0))) {
		fprintf(stderr, "bench_l7_engine: %s: path check failed (rc %d, "
			"by %d, seckill %d, reason %s, route %d, backend %d)\n",
			fg_bench_names[r], rc, rc < 0 ? -1 : d.by,
			rc < 0 ? -1 : d.seckill,
			rc < 0 ? "-" : fg_seckill_reason_name(d.reason),
			rc < 0 ? -1 : d.route, rc < 0 ? -1 : d.backend);
		return -1;
	}
	return 0;
}

static struct fg_l7_engine *fg_bench_engine(struct fg_l7_tables **tp)
{
	struct fg_hash_seed seed = {0x9e3779b97f4a7c15ULL, 0xbf58476d1ce4e5b9ULL,
				    {1, 2, 3, 4}};
	struct fg_l7_layout lay = { .lcores = 1, .nodes = 1,
				    .batch = fg_stock_batch };
	struct fg_ruleset rs;
	struct fg_rule_error re;
	struct fg_l7_engine *e;
	json_t *root = fg_bench_rules();
	char err[512];
	int rc;

	if (!root)
		return NULL;
	memset(&rs, 0, sizeof(rs));
	rc = fg_ruleset_from_json(root, &rs, &re);
	json_decref(root);
	if (rc) {
		fprintf(stderr, "bench_l7_engine: rules: %s\n", re.message);
		return NULL;
	}
	rc = fg_l7_compile(&rs, &lay, NULL, 1, tp, err, sizeof(err));
	fg_ruleset_free(&rs);
	if (rc) {
		fprintf(stderr, "bench_l7_engine: compile: %s\n", err);
		return NULL;
	}
	e = fg_l7_engine_new(*tp, NULL, NULL, &seed, err, sizeof(err));
	if (!e)
		fprintf(stderr, "bench_l7_engine: engine: %s\n", err);
	return e;
}

/* Allowances as floodgated's claimer would grant them: plenty for the
 * admitted and shed items, none and store stock 0 for the sold-out one. */
static int fg_bench_stock(struct fg_l7_engine *e)
{
	const struct fg_l7_tables *t = fg_l7_engine_tables(e);
	uint32_t i, idx;

	for (i = 0; i < t->nseckill; i++) {
		struct fg_seckill *sk = fg_l7_engine_seckill(e, i, 0);

		idx = fg_seckill_item_find(sk, "1234", 4);
		if (idx == FG_SECKILL_NO_ITEM ||
		    fg_seckill_grant(sk, idx, UINT64_MAX / 4))
			return -1;
		/* Only "flash" lists it. */
		idx = fg_seckill_item_find(sk, "1500", 4);
		if (idx != FG_SECKILL_NO_ITEM &&
		    fg_seckill_set_stock_left(sk, idx, 0))
			return -1;
	}
	return 0;
}

/* Whether row r was asked for (no arguments: every row). */
static int fg_bench_wanted(int argc, char **argv, unsigned int r)
{
	int i;

	for (i = 1; i < argc; i++)
		if (!strcmp(argv[i], fg_bench_names[r]))
			return 1;
	return argc < 2;
}

int main(int argc, char **argv)
{
	static struct fg_bench_ctx ctx[FG_BENCH_ROWS];
	struct fg_l7_tables *t = NULL;
	struct fg_l7_engine *e = fg_bench_engine(&t);
	double ns[FG_BENCH_ROWS];
	uint64_t before, total;
	unsigned int i;

	if (!e || fg_bench_stock(e))
		return 1;
	for (i = 0; i < FG_BENCH_ROWS; i++) {
		struct fg_bench_ctx *c = &ctx[i];

		c->e = e;
		c->req = fg_bench_reqs[i];
		c->len = strlen(c->req);
		c->svc = fg_bench_svc(t, i == ROW_LIMITED ? "api" : "shop");
		c->now = FG_BENCH_T0;
		c->key.family = FG_AF_INET;
		c->key.proto = 6;
		c->key.dport = fg_htons(80);
		c->key.src[0] = fg_htonl(0xc6120001u);
		/* The bucket's and the limit's one request go first. */
		if (i == ROW_SHED || i == ROW_LIMITED) {
			struct fg_l7_decision d;
			struct fg_http_req req;

			fg_http_init(&req, fg_l7_engine_http(e), c->head);
			if (fg_http_feed(&req, c->req, c->len, NULL) !=
			    FG_HTTP_COMPLETE ||
			    fg_l7_judge(e, 0, c->svc, &req, &c->key, 1, c->now,
					&d) != FG_L7_FORWARD)
				return 1;
		}
		/* Every client of the crowd has met its limit. */
		if (i == ROW_LIMITED)
			fg_bench_sink = fg_bench_loop(c, FG_BENCH_CLIENTS);
		if (fg_bench_check(c, i))
			return 1;
	}
	for (i = 0; i < FG_BENCH_ROWS; i++) {
		ns[i] = 0;
		if (!fg_bench_wanted(argc, argv, i))
			continue;
		before = fg_bench_counter(e, i);
		if (fg_bench_time(fg_bench_loop, &ctx[i], &ns[i], &total)) {
			fprintf(stderr, "bench_l7_engine: %s: could not be timed\n",
				fg_bench_names[i]);
			return 1;
		}
		if (i != ROW_UNROUTED && fg_bench_counter(e, i) - before != total) {
			fprintf(stderr, "bench_l7_engine: %s: %llu of %llu "
				"requests took the row's path\n", fg_bench_names[i],
				(unsigned long long)(fg_bench_counter(e, i) - before),
				(unsigned long long)total);
			return 1;
		}
		printf("bench=l7 case=engine_%s value=%.0f unit=req/s floor=0\n",
		       fg_bench_names[i], 1e9 / ns[i]);
		fflush(stdout);
	}
	printf("\n%-16s %14s %10s\n", "engine case", "req/s/core", "ns/req");
	for (i = 0; i < FG_BENCH_ROWS; i++)
		if (ns[i] > 0)
			printf("%-16s %14.0f %10.1f\n", fg_bench_names[i],
			       1e9 / ns[i], ns[i]);
	fg_l7_engine_free(e);
	fg_l7_tables_free(t);
	return 0;
}
