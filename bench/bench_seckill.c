/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * bench_seckill.c - seckill verdicts per second per core, from raw
 * request bytes to a verdict with its answer bytes: the request read
 * (fg_http), its item extracted (fg_item, segment:2) and judged
 * (fg_seckill), as the DPDK worker will for a connection's first
 * request.
 *
 * Rows (the API.md example rule, 1000 listed items, stock, per_client):
 *  - admitted:      every request admitted (rate and allowance never
 *                   run out; the clock advances 20 ns per request;
 *                   client addresses cycle over 4096)
 *  - shed:          the item's bucket is empty: `respond`
 *  - sold_out:      no allowance, store stock 0: `sold_out`
 *  - unknown_item:  an item not on the list: `respond`
 *  - shed_judge:    the shed row's judge alone, on a request read once
 *  - read:          the request reader alone on the same bytes, no
 *                   item, no judge: with shed_judge, the split of the
 *                   shed row's time in the same run
 *
 * Each row checks its path before timing (the verdict and reason the row
 * claims) and after it (the rule's counter for that reason grew by every
 * timed request); a failed check exits 1. Figures: the median of
 * FG_BENCH_REPEATS repeats of at least FG_BENCH_MIN_NS each.
 *
 * Output: one line per row,
 *   bench=l7 case=<case> value=<verdicts/s> unit=verdicts/s floor=0
 * then a human table with ns per verdict.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_loop.h"
#include "fg_http.h"
#include "fg_item.h"
#include "fg_seckill.h"

#define FG_BENCH_ITEMS 1000u
#define FG_BENCH_CLIENTS 4096u
#define FG_BENCH_STEP_NS 20u
/* 2026-11-11T12:00:00Z and 13:00:00Z in ns. */
#define FG_BENCH_START (1794398400ULL * 1000000000ULL)
#define FG_BENCH_END   (1794402000ULL * 1000000000ULL)

enum { ROW_ADMITTED, ROW_SHED, ROW_SOLD_OUT, ROW_UNKNOWN, ROW_SHED_JUDGE,
       ROW_READ, FG_BENCH_ROWS };

/* A browser's purchase: what the crowd sends. */
#define FG_BENCH_REQ(item) FG_BENCH_BROWSER_REQ("POST /seckill/" item "/buy")

static const char fg_bench_req_1234[] = FG_BENCH_REQ("1234");
static const char fg_bench_req_1500[] = FG_BENCH_REQ("1500");
static const char fg_bench_req_unknown[] = FG_BENCH_REQ("98765432");

struct fg_bench_ctx {
	const char *name;
	const char *req;
	size_t len;
	int want;                   /* verdict */
	unsigned int reason;        /* and its reason */
	int judge_only;
	int read_only;
	struct fg_seckill *e;
	uint64_t now;
	uint32_t client;
	struct fg_flow_key key;
	struct fg_http_req parsed;  /* judge_only: read once */
	char head[FG_HTTP_HEAD_MAX_DEFAULT];
	char head_once[FG_HTTP_HEAD_MAX_DEFAULT];
};

static struct fg_http_conf fg_bench_conf;

/* One request: read, judge. Returns a value derived from the verdict so
 * that nothing is dead code. */
static inline uint64_t fg_bench_one(struct fg_bench_ctx *c)
{
	struct fg_verdict_l7 v;
	struct fg_http_req req;
	const char *p = c->req;
	size_t used;
	int rc;

	__asm__ volatile("" : "+r"(p));
	c->now += FG_BENCH_STEP_NS;
	/* Client addresses cycle (198.18.0.0/20): the admitted row meets
	 * the per_client table as a crowd would. */
	c->key.src[0] = fg_htonl(0xc6120000u + (c->client++ &
					       (FG_BENCH_CLIENTS - 1)));
	if (c->judge_only) {
		rc = fg_seckill_judge(c->e, &c->parsed, &c->key, c->now, &v);
		return (uint64_t)rc + v.resp_len;
	}
	fg_http_init(&req, &fg_bench_conf, c->head);
	rc = fg_http_feed(&req, p, c->len, &used);
	if (rc != FG_HTTP_COMPLETE || c->read_only)
		return (uint64_t)rc + used;
	rc = fg_seckill_judge(c->e, &req, &c->key, c->now, &v);
	return (uint64_t)rc + v.resp_len + used;
}

FG_BENCH_LOOP(fg_bench_loop, struct fg_bench_ctx, fg_bench_one)

/* The path check: one request gives the verdict and reason the row
 * claims. */
static int fg_bench_check(struct fg_bench_ctx *c)
{
	struct fg_verdict_l7 v;
	struct fg_http_req req;
	size_t used;
	int rc;

	c->now += FG_BENCH_STEP_NS;
	fg_http_init(&req, &fg_bench_conf, c->head);
	rc = fg_http_feed(&req, c->req, c->len, &used);
	if (rc == FG_HTTP_COMPLETE)
		rc = fg_seckill_judge(c->e, &req, &c->key, c->now, &v);
	if (rc != c->want || v.reason != c->reason ||
	    (rc != FG_L7_ADMIT && (!v.resp || !v.resp_len))) {
		fprintf(stderr, "bench_seckill: %s: path check failed (rc %d "
			"reason %s)\n", c->name, rc,
			rc >= 0 ? fg_seckill_reason_name(v.reason) : "-");
		return -1;
	}
	return 0;
}

/* ns per verdict: the median of the repeats; every timed request took
 * the row's path (its reason counter grew by all of them). */
static int fg_bench_measure(struct fg_bench_ctx *c, double *ns)
{
	struct fg_seckill_stats st0, st;
	uint64_t total = 0;
	int rc;

	fg_seckill_stats(c->e, &st0);
	rc = fg_bench_time(fg_bench_loop, c, ns, &total);
	if (rc)
		return rc;
	fg_seckill_stats(c->e, &st);
	if (!c->read_only && st.reason[c->reason] - st0.reason[c->reason] != total) {
		fprintf(stderr, "bench_seckill: %s: %llu of %llu requests took "
			"the row's path\n", c->name,
			(unsigned long long)(st.reason[c->reason] -
					     st0.reason[c->reason]),
			(unsigned long long)total);
		return -EPROTO;
	}
	return 0;
}

/* The rule: API.md's example with 1000 listed items "1000".."1999". */
static struct fg_seckill *fg_bench_engine(uint64_t rate_milli,
					  uint64_t burst_milli)
{
	static const struct fg_respond_spec respond = {
		.status = 429, .retry_after = 1,
		.content_type = "application/json",
		.body = "{\"error\": \"busy, try again\"}", .body_len = 28,
	};
	static const struct fg_respond_spec sold_out = {
		.status = 410, .retry_after = -1,
		.content_type = "application/json",
		.body = "{\"error\": \"sold out\"}", .body_len = 21,
	};
	static char names[FG_BENCH_ITEMS][8];
	static const char *items[FG_BENCH_ITEMS];
	struct fg_hash_seed seed = {0x9e3779b97f4a7c15ULL, 0xbf58476d1ce4e5b9ULL,
				    {1, 2, 3, 4}};
	struct fg_seckill_conf c;
	struct fg_seckill *e;
	char err[256];
	unsigned int i;

	for (i = 0; i < FG_BENCH_ITEMS; i++) {
		snprintf(names[i], sizeof(names[i]), "%u", 1000 + i);
		items[i] = names[i];
	}
	memset(&c, 0, sizeof(c));
	c.id = 1;
	c.item = "segment:2";
	c.items = items;
	c.nitems = FG_BENCH_ITEMS;
	c.rate_milli = rate_milli;
	c.burst_milli = burst_milli;
	c.stock = 1000000000000ULL;
	c.client_key = FG_SECKILL_CLIENT_SRC_IP;
	c.client_rate_milli = 1000000 * FG_SECKILL_MILLI;
	c.client_burst_milli = 1000000 * FG_SECKILL_MILLI;
	c.start_ns = FG_BENCH_START;
	c.end_ns = FG_BENCH_END;
	c.respond = &respond;
	c.sold_out = &sold_out;
	e = fg_seckill_new(&c, &fg_bench_conf, &seed, err, sizeof(err));
	if (!e)
		fprintf(stderr, "bench_seckill: fg_seckill_new: %s\n", err);
	return e;
}

int main(void)
{
	static struct fg_bench_ctx ctx[FG_BENCH_ROWS];
	static const char *const names[FG_BENCH_ROWS] = {
		"admitted", "shed", "sold_out", "unknown_item", "shed_judge",
		"read",
	};
	double ns[FG_BENCH_ROWS];
	uint32_t idx;
	size_t used;
	unsigned int i;

	fg_http_conf_init(&fg_bench_conf);
	for (i = 0; i < FG_BENCH_ROWS; i++) {
		struct fg_bench_ctx *c = &ctx[i];

		c->name = names[i];
		c->now = FG_BENCH_START;
		c->key.family = FG_AF_INET;
		c->req = fg_bench_req_1234;
		c->len = sizeof(fg_bench_req_1234) - 1;
		c->want = FG_L7_SHED;
		c->reason = FG_SK_SHED_BUCKET;
		/* admitted: 100M requests/s per item, a burst of 10 s. */
		c->e = i == ROW_ADMITTED ?
			fg_bench_engine(FG_TB_RATE_MAX, 1000000000ULL *
					FG_SECKILL_MILLI) :
			fg_bench_engine(1, /* one request per 1000 s */
					1 * FG_SECKILL_MILLI);
		if (!c->e)
			return 1;
		idx = fg_seckill_item_find(c->e, "1234", 4);
		if (idx == FG_SECKILL_NO_ITEM ||
		    fg_seckill_grant(c->e, idx, UINT64_MAX / 2))
			return 1;
		switch (i) {
		case ROW_ADMITTED:
			c->want = FG_L7_ADMIT;
			c->reason = FG_SK_ADMITTED;
			break;
		case ROW_SOLD_OUT:
			/* Another item: nothing granted, store empty. */
			c->req = fg_bench_req_1500;
			c->len = sizeof(fg_bench_req_1500) - 1;
			idx = fg_seckill_item_find(c->e, "1500", 4);
			if (fg_seckill_set_stock_left(c->e, idx, 0))
				return 1;
			c->want = FG_L7_SOLD_OUT;
			c->reason = FG_SK_SOLD_OUT;
			break;
		case ROW_UNKNOWN:
			c->req = fg_bench_req_unknown;
			c->len = sizeof(fg_bench_req_unknown) - 1;
			c->reason = FG_SK_UNKNOWN_ITEM;
			break;
		default:
			/* shed rows: the bucket's one request goes first. */
			c->want = FG_L7_ADMIT;
			c->reason = FG_SK_ADMITTED;
			if (fg_bench_check(c))
				return 1;
			c->want = FG_L7_SHED;
			c->reason = FG_SK_SHED_BUCKET;
			break;
		}
		if (fg_bench_check(c))
			return 1;
		if (i == ROW_READ)
			c->read_only = 1;
		if (i == ROW_SHED_JUDGE) {
			fg_http_init(&c->parsed, &fg_bench_conf, c->head_once);
			if (fg_http_feed(&c->parsed, c->req, c->len, &used) !=
			    FG_HTTP_COMPLETE)
				return 1;
			c->judge_only = 1;
		}
	}
	for (i = 0; i < FG_BENCH_ROWS; i++) {
		if (fg_bench_measure(&ctx[i], &ns[i])) {
			fprintf(stderr, "bench_seckill: %s: could not be "
				"timed\n", names[i]);
			return 1;
		}
		printf("bench=l7 case=%s value=%.0f unit=%s floor=0\n",
		       names[i], 1e9 / ns[i],
		       i == ROW_READ ? "req/s" : "verdicts/s");
		fflush(stdout);
	}
	printf("\n%-14s %14s %10s\n", "case", "verdicts/s/core", "ns/verdict");
	for (i = 0; i < FG_BENCH_ROWS; i++)
		printf("%-14s %14.0f %10.1f\n", names[i], 1e9 / ns[i], ns[i]);
	for (i = 0; i < FG_BENCH_ROWS; i++)
		fg_seckill_free(ctx[i].e);
	return 0;
}
