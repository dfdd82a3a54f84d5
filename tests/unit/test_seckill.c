/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * test_seckill.c - flash-sale admission (fg_seckill) and its answers
 * (fg_respond): window edges, burst then rate, stock never exceeded over
 * random grant sequences, invented items that claim nothing and grow
 * nothing, per_client limits, exact answer bytes, bad rules refused.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <malloc.h>

#include <cmocka.h>

#include "fg_http.h"
#include "fg_item.h"
#include "fg_respond.h"
#include "fg_seckill.h"

#define NS_PER_S  1000000000ULL
#define NS_PER_MS 1000000ULL
#define NS_PER_US 1000ULL
#define MILLI     FG_SECKILL_MILLI
/* 2026-11-11T12:00:00Z and 13:00:00Z in ns since the epoch. */
#define SALE_START (1794398400ULL * NS_PER_S)
#define SALE_END   (1794402000ULL * NS_PER_S)

static struct fg_http_conf hconf;
static char head[FG_HTTP_HEAD_MAX_DEFAULT];
static struct fg_http_req req;
static const struct fg_hash_seed seed = {
	0x0123456789abcdefULL, 0xfedcba9876543210ULL,
	{0x1111111111111111ULL, 0x2222222222222222ULL,
	 0x3333333333333333ULL, 0x4444444444444444ULL},
};
static char err[256];

/* ------------------------------------------------------------ helpers */

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

/* Read the request head s into the global req (complete, or fail). */
static const struct fg_http_req *read_req(const char *s)
{
	size_t used;

	fg_http_init(&req, &hconf, head);
	assert_int_equal(fg_http_feed(&req, s, strlen(s), &used),
			 FG_HTTP_COMPLETE);
	return &req;
}

/* A POST to /seckill/<item>/buy. */
static const struct fg_http_req *buy(const char *item)
{
	char s[512];

	snprintf(s, sizeof(s),
		 "POST /seckill/%s/buy HTTP/1.1\r\nHost: shop.example\r\n"
		 "Content-Length: 0\r\n\r\n", item);
	return read_req(s);
}

static struct fg_flow_key client_v4(uint32_t addr)
{
	struct fg_flow_key k;

	memset(&k, 0, sizeof(k));
	k.src[0] = fg_htonl(addr);
	k.family = FG_AF_INET;
	return k;
}

static const struct fg_respond_spec api_respond = {
	.status = 429, .retry_after = 1, .content_type = "application/json",
	.body = "{\"error\": \"busy, try again\"}", .body_len = 28,
};
static const struct fg_respond_spec api_sold_out = {
	.status = 410, .retry_after = -1, .content_type = "application/json",
	.body = "{\"error\": \"sold out\"}", .body_len = 21,
};

/* The API.md example rule, as this instance's whole share. */
static struct fg_seckill_conf api_conf(void)
{
	struct fg_seckill_conf c;

	memset(&c, 0, sizeof(c));
	c.id = 7;
	c.item = "segment:2";
	c.rate_milli = 500 * MILLI;
	c.burst_milli = 100 * MILLI;
	c.stock = FG_SECKILL_NO_STOCK;
	c.start_ns = SALE_START;
	c.end_ns = SALE_END;
	c.respond = &api_respond;
	c.sold_out = &api_sold_out;
	return c;
}

static struct fg_seckill *new_engine(const struct fg_seckill_conf *c)
{
	struct fg_seckill *e = fg_seckill_new(c, &hconf, &seed, err,
					      sizeof(err));

	if (!e)
		fail_msg("fg_seckill_new: %s", err);
	return e;
}

/* Judge a buy of item at now from client 198.18.0.1. */
static int judge(struct fg_seckill *e, const char *item, uint64_t now,
		 struct fg_verdict_l7 *v)
{
	struct fg_flow_key k = client_v4(0xc6120001);

	return fg_seckill_judge(e, buy(item), &k, now, v);
}

static int setup(void **state)
{
	(void)state;
	fg_http_conf_init(&hconf);
	return 0;
}

/* ------------------------------------------------------------ answers */

static void test_respond_bytes(void **state)
{
	static const char want429[] =
		"HTTP/1.1 429 Too Many Requests\r\n"
		"Retry-After: 1\r\n"
		"Content-Type: application/json\r\n"
		"Content-Length: 28\r\n"
		"Cache-Control: no-store\r\n"
		"Connection: close\r\n"
		"\r\n"
		"{\"error\": \"busy, try again\"}";
	static const char want410[] =
		"HTTP/1.1 410 Gone\r\n"
		"Content-Type: application/json\r\n"
		"Content-Length: 21\r\n"
		"Cache-Control: no-store\r\n"
		"Connection: close\r\n"
		"\r\n"
		"{\"error\": \"sold out\"}";
	static const char want503[] =
		"HTTP/1.1 503 Service Unavailable\r\n"
		"Retry-After: 0\r\n"
		"Content-Length: 0\r\n"
		"Cache-Control: no-store\r\n"
		"Connection: close\r\n"
		"\r\n";
	static const char want_default[] =
		"HTTP/1.1 429 Too Many Requests\r\n"
		"Content-Type: text/plain; charset=utf-8\r\n"
		"Content-Length: 2\r\n"
		"Cache-Control: no-store\r\n"
		"Connection: close\r\n"
		"\r\n"
		"x\n";
	struct fg_respond_spec s503 = {.status = 503, .retry_after = 0};
	struct fg_respond_spec sdef = {.status = 429, .retry_after = -1,
				       .body = "x\n", .body_len = 2};
	static struct fg_respond r;

	(void)state;
	assert_int_equal(fg_respond_build(&r, &api_respond, "respond", err,
					  sizeof(err)), 0);
	assert_int_equal(r.len, sizeof(want429) - 1);
	assert_memory_equal(r.bytes, want429, r.len);
	assert_int_equal(r.head_len, sizeof(want429) - 1 - 28);
	assert_int_equal(r.status, 429);

	assert_int_equal(fg_respond_build(&r, &api_sold_out, "sold_out", err,
					  sizeof(err)), 0);
	assert_int_equal(r.len, sizeof(want410) - 1);
	assert_memory_equal(r.bytes, want410, r.len);

	assert_int_equal(fg_respond_build(&r, &s503, "respond", err,
					  sizeof(err)), 0);
	assert_int_equal(r.len, sizeof(want503) - 1);
	assert_memory_equal(r.bytes, want503, r.len);
	assert_int_equal(r.head_len, r.len);

	assert_int_equal(fg_respond_build(&r, &sdef, "respond", err,
					  sizeof(err)), 0);
	assert_int_equal(r.len, sizeof(want_default) - 1);
	assert_memory_equal(r.bytes, want_default, r.len);
}

/* The engine answers with exactly those bytes, and without the body to
 * HEAD; a malformed item gets the 400. */
static void test_judge_answer_bytes(void **state)
{
	static const char want400[] =
		"HTTP/1.1 400 Bad Request\r\n"
		"Content-Type: text/plain; charset=utf-8\r\n"
		"Content-Length: 9\r\n"
		"Cache-Control: no-store\r\n"
		"Connection: close\r\n"
		"\r\n"
		"bad item\n";
	static struct fg_respond r;
	struct fg_seckill_conf c = api_conf();
	struct fg_flow_key k = client_v4(0xc6120001);
	struct fg_verdict_l7 v;
	struct fg_seckill *e;

	(void)state;
	assert_int_equal(fg_respond_build(&r, &api_respond, "respond", err,
					  sizeof(err)), 0);
	e = new_engine(&c);
	/* Before the sale: respond, whole. */
	assert_int_equal(judge(e, "1234", SALE_START - 1, &v), FG_L7_SHED);
	assert_int_equal(v.status, 429);
	assert_int_equal(v.resp_len, r.len);
	assert_memory_equal(v.resp, r.bytes, r.len);
	assert_int_equal(v.flags, 0);
	/* HEAD: the same head, no body. */
	assert_int_equal(fg_seckill_judge(e, read_req(
		"HEAD /seckill/1234/buy HTTP/1.1\r\nHost: a\r\n\r\n"), &k,
		SALE_START - 1, &v), FG_L7_SHED);
	assert_int_equal(v.resp_len, r.head_len);
	assert_memory_equal(v.resp, r.bytes, r.head_len);
	/* A malformed item: 400. */
	assert_int_equal(judge(e, "12%zz", SALE_START, &v), FG_L7_BAD_ITEM);
	assert_int_equal(v.status, 400);
	assert_int_equal(v.resp_len, sizeof(want400) - 1);
	assert_memory_equal(v.resp, want400, v.resp_len);
	assert_int_equal(v.item, FG_SECKILL_NO_ITEM);
	/* No item (no segment 2): respond. */
	assert_int_equal(fg_seckill_judge(e, read_req(
		"POST /seckill HTTP/1.1\r\nHost: a\r\n\r\n"), &k,
		SALE_START, &v), FG_L7_MISSING_ITEM);
	assert_int_equal(v.resp_len, r.len);
	assert_memory_equal(v.resp, r.bytes, r.len);
	/* Admitted: forwarded with Connection: close, no answer. */
	assert_int_equal(judge(e, "1234", SALE_START, &v), FG_L7_ADMIT);
	assert_int_equal(v.flags, FG_L7_F_CONN_CLOSE);
	assert_null(v.resp);
	assert_int_equal(v.status, 0);
	fg_seckill_free(e);
}

static void test_respond_refused(void **state)
{
	static const int bad_status[] = {0, 99, 100, 200, 204, 302, 304, 401,
					 405, 407, 416, 426, 499, 600, -1};
	static struct fg_respond r;
	struct fg_respond_spec s;
	char big[FG_RESPOND_BODY_MAX + 1];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad_status) / sizeof(bad_status[0]); i++) {
		s = api_respond;
		s.status = bad_status[i];
		err[0] = 0;
		assert_int_equal(fg_respond_build(&r, &s, "respond", err,
						  sizeof(err)), -EINVAL);
		assert_non_null(strstr(err, "respond.status"));
	}
	s = api_respond;
	s.retry_after = -2;
	assert_int_equal(fg_respond_build(&r, &s, "sold_out", err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "sold_out.retry_after"));
	s.retry_after = FG_RESPOND_RETRY_MAX + 1;
	assert_int_equal(fg_respond_build(&r, &s, "x", err, sizeof(err)),
			 -EINVAL);
	s.retry_after = FG_RESPOND_RETRY_MAX;
	assert_int_equal(fg_respond_build(&r, &s, "x", err, sizeof(err)), 0);

	/* Header injection and other bad content types. */
	{
		static const char *const bad_ct[] = {
			"text/html\r\nSet-Cookie: a=b", "text/html\n",
			"text/html\r", "text/\x01html", "", " text/html",
			"text/html ", "texthtml", "/html", "text/", "a/b/c",
			"t\xc3\xa9xt/html", "text /html", "text/ht ml",
			"text/html\0x",
		};

		for (i = 0; i < sizeof(bad_ct) / sizeof(bad_ct[0]); i++) {
			s = api_respond;
			s.content_type = bad_ct[i];
			assert_int_equal(fg_respond_build(&r, &s, "respond", err,
							  sizeof(err)),
					 i == 14 ? 0 : -EINVAL);
			if (i != 14)
				assert_non_null(strstr(err,
					"respond.content_type"));
		}
	}
	memset(big, 'a', sizeof(big));
	big[FG_RESPOND_CTYPE_MAX + 1] = 0;
	memcpy(big, "text/", 5);
	s = api_respond;
	s.content_type = big; /* 129 bytes */
	assert_int_equal(fg_respond_build(&r, &s, "respond", err, sizeof(err)),
			 -EINVAL);
	big[FG_RESPOND_CTYPE_MAX] = 0; /* 128 bytes: the most */
	assert_int_equal(fg_respond_build(&r, &s, "respond", err, sizeof(err)),
			 0);
	s = api_respond;
	s.content_type = "text/html; charset=utf-8";
	assert_int_equal(fg_respond_build(&r, &s, "respond", err, sizeof(err)),
			 0);
	/* Content type without a body; body too long; body NULL. */
	s = api_respond;
	s.body_len = 0;
	assert_int_equal(fg_respond_build(&r, &s, "respond", err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "respond.content_type"));
	memset(big, 'b', sizeof(big));
	s = api_respond;
	s.body = big;
	s.body_len = FG_RESPOND_BODY_MAX + 1;
	assert_int_equal(fg_respond_build(&r, &s, "respond", err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "respond.body"));
	s.body_len = FG_RESPOND_BODY_MAX;
	s.retry_after = FG_RESPOND_RETRY_MAX;
	s.content_type = big + 1; /* not type/subtype */
	assert_int_equal(fg_respond_build(&r, &s, "respond", err, sizeof(err)),
			 -EINVAL);
	s.content_type = "application/json";
	assert_int_equal(fg_respond_build(&r, &s, "respond", err, sizeof(err)),
			 0);
	assert_int_equal(r.len - r.head_len, FG_RESPOND_BODY_MAX);
	s.body = NULL;
	assert_int_equal(fg_respond_build(&r, &s, "respond", err, sizeof(err)),
			 -EINVAL);
}

/* Bad rules never make an engine, and the message names the field. */
static void test_build_refused(void **state)
{
	static const char *const dup[] = {"1001", "1002", "1001"};
	static const char *const ctl[] = {"1001", "10\n02"};
	static const char *const empty[] = {""};
	struct fg_respond_spec bad = api_respond;
	struct {
		const char *field;
		struct fg_seckill_conf c;
	} cases[16];
	unsigned int n = 0, i;

	(void)state;
	cases[n].c = api_conf();
	cases[n].c.respond = &bad;
	bad.status = 302;
	cases[n++].field = "respond.status";
	cases[n].c = api_conf();
	cases[n].c.sold_out = &bad;
	cases[n++].field = "sold_out.status";
	cases[n].c = api_conf();
	cases[n].c.item = "segment:0";
	cases[n++].field = "item:";
	cases[n].c = api_conf();
	cases[n].c.item = "cookie:x";
	cases[n++].field = "item:";
	cases[n].c = api_conf();
	cases[n].c.item = NULL;
	cases[n].c.items = dup;
	cases[n].c.nitems = 2;
	cases[n++].field = "items:";
	cases[n].c = api_conf();
	cases[n].c.items = dup;
	cases[n].c.nitems = 3;
	cases[n++].field = "items[2]: the same item as items[0]";
	cases[n].c = api_conf();
	cases[n].c.items = ctl;
	cases[n].c.nitems = 2;
	cases[n++].field = "items[1]";
	cases[n].c = api_conf();
	cases[n].c.items = empty;
	cases[n].c.nitems = 1;
	cases[n++].field = "items[0]";
	cases[n].c = api_conf();
	cases[n].c.end_ns = SALE_START;
	cases[n++].field = "end";
	cases[n].c = api_conf();
	cases[n].c.burst_milli = MILLI - 1;
	cases[n++].field = "burst";
	cases[n].c = api_conf();
	cases[n].c.rate_milli = 0;
	cases[n++].field = "rate";
	cases[n].c = api_conf();
	cases[n].c.max_items = FG_SECKILL_ITEMS_LIMIT + 1;
	cases[n++].field = "max_items";
	cases[n].c = api_conf();
	cases[n].c.client_key = FG_SECKILL_CLIENT_SRC_IP;
	cases[n].c.client_rate_milli = 2 * MILLI;
	cases[n].c.client_burst_milli = 2 * MILLI;
	cases[n].c.client_slots = 1000;
	cases[n++].field = "per_client";
	cases[n].c = api_conf();
	cases[n].c.client_key = FG_SECKILL_CLIENT_SRC_PREFIX;
	cases[n].c.client_prefix_len = 0;
	cases[n].c.client_rate_milli = 2 * MILLI;
	cases[n].c.client_burst_milli = 2 * MILLI;
	cases[n++].field = "per_client.key";
	cases[n].c = api_conf();
	cases[n].c.client_key = FG_SECKILL_CLIENT_SRC_IP;
	cases[n].c.client_rate_milli = 2 * MILLI;
	cases[n].c.client_burst_milli = 1;
	cases[n++].field = "per_client.burst";

	for (i = 0; i < n; i++) {
		err[0] = 0;
		errno = 0;
		assert_null(fg_seckill_new(&cases[i].c, &hconf, &seed, err,
					   sizeof(err)));
		assert_int_not_equal(errno, 0);
		if (!strstr(err, cases[i].field))
			fail_msg("case %u: \"%s\" lacks \"%s\"", i, err,
				 cases[i].field);
	}
}

/* ------------------------------------------------------------ windows */

/* start <= now < end on the caller's clock, to the ns; the bucket's
 * arithmetic at the edges. */
static void test_window_edges(void **state)
{
	struct fg_seckill_conf c = api_conf();
	struct fg_seckill_stats st;
	struct fg_verdict_l7 v;
	struct fg_seckill *e;
	unsigned int i;

	(void)state;
	c.rate_milli = 1 * MILLI;
	c.burst_milli = 3 * MILLI;
	e = new_engine(&c);

	/* Pushed hours ahead: closed until the instant. */
	assert_int_equal(judge(e, "1", SALE_START - 3 * 3600 * NS_PER_S, &v),
			 FG_L7_SHED);
	assert_int_equal(v.reason, FG_SK_WINDOW);
	assert_int_equal(judge(e, "1", SALE_START - 1, &v), FG_L7_SHED);
	assert_int_equal(v.reason, FG_SK_WINDOW);
	assert_int_equal(v.item, FG_SECKILL_NO_ITEM);
	/* Exactly at start: the whole burst, then empty. The closed
	 * requests charged nothing. */
	for (i = 0; i < 3; i++)
		assert_int_equal(judge(e, "1", SALE_START, &v), FG_L7_ADMIT);
	assert_int_equal(judge(e, "1", SALE_START, &v), FG_L7_SHED);
	assert_int_equal(v.reason, FG_SK_SHED_BUCKET);
	/* One request per second: 1 ns before the next unit, none. */
	assert_int_equal(judge(e, "1", SALE_START + NS_PER_S - 1, &v),
			 FG_L7_SHED);
	assert_int_equal(judge(e, "1", SALE_START + NS_PER_S, &v),
			 FG_L7_ADMIT);
	assert_int_equal(judge(e, "1", SALE_START + NS_PER_S, &v),
			 FG_L7_SHED);
	/* 1 ns before end: open (the bucket refilled long ago). */
	for (i = 0; i < 3; i++)
		assert_int_equal(judge(e, "1", SALE_END - 1, &v), FG_L7_ADMIT);
	assert_int_equal(judge(e, "1", SALE_END - 1, &v), FG_L7_SHED);
	assert_int_equal(v.reason, FG_SK_SHED_BUCKET);
	/* At end and after: closed, whatever the bucket holds. */
	assert_int_equal(judge(e, "2", SALE_END, &v), FG_L7_SHED);
	assert_int_equal(v.reason, FG_SK_WINDOW);
	assert_int_equal(judge(e, "2", SALE_END + 10 * NS_PER_S, &v),
			 FG_L7_SHED);
	assert_int_equal(v.reason, FG_SK_WINDOW);

	fg_seckill_stats(e, &st);
	assert_int_equal(st.reason[FG_SK_WINDOW], 4);
	assert_int_equal(st.reason[FG_SK_ADMITTED], 7);
	assert_int_equal(st.reason[FG_SK_SHED_BUCKET], 4);
	assert_int_equal(st.items, 1); /* item 2 never got a slot */
	fg_seckill_free(e);

	/* No start, no end: always open. */
	c = api_conf();
	c.start_ns = 0;
	c.end_ns = 0;
	e = new_engine(&c);
	assert_int_equal(judge(e, "1", 0, &v), FG_L7_ADMIT);
	assert_int_equal(judge(e, "1", UINT64_MAX >> 1, &v), FG_L7_ADMIT);
	fg_seckill_free(e);
}

/* The API.md rule: burst 100, then 500/s. */
static void test_burst_then_rate(void **state)
{
	struct fg_seckill_conf c = api_conf();
	struct fg_seckill_item_stats is;
	struct fg_verdict_l7 v;
	struct fg_seckill *e;
	uint64_t t, n = 0, first = 0;
	uint32_t idx;

	(void)state;
	e = new_engine(&c);
	/* The burst at one instant. */
	while (judge(e, "1234", SALE_START, &v) == FG_L7_ADMIT)
		n++;
	assert_int_equal(n, 100);
	/* Then one per 2 ms: requests every 100 us over the next second
	 * [start + 100 us, start + 1 s] are admitted at 2 ms, 4 ms, ...,
	 * 1000 ms. */
	n = 0;
	for (t = SALE_START + 100 * NS_PER_US; t <= SALE_START + NS_PER_S;
	     t += 100 * NS_PER_US)
		if (judge(e, "1234", t, &v) == FG_L7_ADMIT) {
			if (!first)
				first = t;
			n++;
		}
	assert_int_equal(n, 500);
	assert_int_equal(first - SALE_START, 2 * NS_PER_MS);
	idx = fg_seckill_item_find(e, "1234", 4);
	assert_int_equal(fg_seckill_item_stats(e, idx, &is), 0);
	assert_int_equal(is.admitted, 600);
	assert_int_equal(is.shed, 1 + 10000 - 500);
	assert_int_equal(is.allowance, 0); /* no stock: no allowance */
	/* Another item has its own bucket. */
	assert_int_equal(judge(e, "1235", SALE_START + NS_PER_S, &v),
			 FG_L7_ADMIT);
	fg_seckill_free(e);

	/* A share: 500/s and burst 100 over 12 instances. */
	c.rate_milli = 500 * MILLI / 12;   /* 41666 */
	c.burst_milli = 100 * MILLI / 12;  /* 8333 */
	e = new_engine(&c);
	n = 0;
	while (judge(e, "1", SALE_START, &v) == FG_L7_ADMIT)
		n++;
	assert_int_equal(n, 8);
	/* Over 12 s, 12 x 41.666 = 500 more, within one. */
	for (t = SALE_START + NS_PER_MS; t <= SALE_START + 12 * NS_PER_S;
	     t += NS_PER_MS)
		n += judge(e, "1", t, &v) == FG_L7_ADMIT;
	assert_in_range(n, 8 + 499, 8 + 500);
	fg_seckill_free(e);
}

/* ------------------------------------------------------------ stock */

static void test_stock_allowance(void **state)
{
	struct fg_seckill_conf c = api_conf();
	struct fg_seckill_item_stats is;
	struct fg_verdict_l7 v;
	struct fg_seckill *e;
	uint32_t idx, w[8];
	static const char *const items[] = {"1001", "1002"};
	unsigned int i;

	(void)state;
	c.items = items;
	c.nitems = 2;
	c.stock = 5;
	c.low_water = 2;
	e = new_engine(&c);
	idx = fg_seckill_item_find(e, "1002", 4);
	assert_int_equal(idx, 1);
	assert_int_equal(fg_seckill_item_find(e, "1003", 4), FG_SECKILL_NO_ITEM);

	/* Nothing granted yet: respond (not sold out), and it wants. */
	assert_int_equal(judge(e, "1002", SALE_START, &v), FG_L7_SHED);
	assert_int_equal(v.reason, FG_SK_SHED_ALLOWANCE);
	assert_int_equal(v.item, 1);
	assert_int_equal(fg_seckill_wants(e, w, 8), 1);
	assert_int_equal(w[0], 1);
	assert_int_equal(fg_seckill_wants(e, w, 8), 0);

	assert_int_equal(fg_seckill_grant(e, idx, 4), 0);
	assert_int_equal(fg_seckill_set_stock_left(e, idx, 1), 0);
	for (i = 0; i < 2; i++)
		assert_int_equal(judge(e, "1002", SALE_START, &v), FG_L7_ADMIT);
	/* Allowance 2 = low water: wants more, once. */
	assert_int_equal(fg_seckill_item_stats(e, idx, &is), 0);
	assert_int_equal(is.allowance, 2);
	assert_true(is.wants);
	assert_int_equal(fg_seckill_wants(e, w, 8), 1);
	assert_int_equal(w[0], 1);
	for (i = 0; i < 2; i++)
		assert_int_equal(judge(e, "1002", SALE_START, &v), FG_L7_ADMIT);
	/* Spent, store stock 1 left: respond. */
	assert_int_equal(judge(e, "1002", SALE_START, &v), FG_L7_SHED);
	assert_int_equal(v.reason, FG_SK_SHED_ALLOWANCE);
	assert_int_equal(fg_seckill_grant(e, idx, 1), 0);
	assert_int_equal(fg_seckill_set_stock_left(e, idx, 0), 0);
	assert_int_equal(judge(e, "1002", SALE_START, &v), FG_L7_ADMIT);
	/* Spent, store stock 0: sold out, with the sold_out bytes. */
	assert_int_equal(judge(e, "1002", SALE_START, &v), FG_L7_SOLD_OUT);
	assert_int_equal(v.status, 410);
	assert_int_equal(v.reason, FG_SK_SOLD_OUT);
	assert_non_null(strstr(v.resp, "sold out"));
	assert_int_equal(fg_seckill_item_stats(e, idx, &is), 0);
	assert_int_equal(is.admitted, 5);
	assert_int_equal(is.sold_out, 1);
	assert_int_equal(is.shed, 2);
	assert_int_equal(is.allowance, 0);
	assert_int_equal(is.stock_left, 0);
	/* The other item is untouched. */
	assert_int_equal(fg_seckill_item_stats(e, 0, &is), 0);
	assert_int_equal(is.admitted + is.shed + is.sold_out, 0);
	assert_int_equal(is.stock_left, 5);

	/* Grants: bad index, rule without stock, wrap. */
	assert_int_equal(fg_seckill_grant(e, 2, 1), -EINVAL);
	assert_int_equal(fg_seckill_grant(e, 0, UINT64_MAX), 0);
	assert_int_equal(fg_seckill_grant(e, 0, 1), -ERANGE);
	fg_seckill_free(e);
	c = api_conf();
	e = new_engine(&c);
	assert_int_equal(fg_seckill_grant(e, 0, 1), -EINVAL);
	fg_seckill_free(e);
}

/* xorshift64*: reproducible random sequences. */
static uint64_t rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dULL;
}

/*
 * A simulated sale: LCORES engines (instances on lcores and nodes) and a
 * store holding STOCK per item. A "control plane" claims batches of random
 * sizes for the items that want more and grants them, tells stock left;
 * requests arrive at random instances, items and times. After every step:
 * per item, admitted over all instances <= claimed <= stock, each
 * instance's admitted <= its grants, and sold_out only once the store is
 * empty and the instance holds nothing.
 */
#define SIM_LCORES 4
#define SIM_ITEMS  3
static void test_stock_property(void **state)
{
	static const char *const items[SIM_ITEMS] = {"7", "8", "9"};
	struct fg_seckill *e[SIM_LCORES];
	uint64_t claimed[SIM_ITEMS], granted[SIM_LCORES][SIM_ITEMS];
	uint64_t stock, s = 0x5eed, now, total_adm;
	struct fg_seckill_item_stats is;
	struct fg_seckill_conf c;
	struct fg_verdict_l7 v;
	unsigned int seq, step, l, i;
	uint32_t w[SIM_ITEMS], nw, k;
	int rc;

	(void)state;
	for (seq = 0; seq < 200; seq++) {
		stock = rnd(&s) % 200;
		c = api_conf();
		c.items = items;
		c.nitems = SIM_ITEMS;
		c.stock = stock;
		c.rate_milli = (1 + rnd(&s) % 2000) * MILLI;
		c.burst_milli = (1 + rnd(&s) % 50) * MILLI;
		c.low_water = rnd(&s) % 8;
		for (l = 0; l < SIM_LCORES; l++)
			e[l] = new_engine(&c);
		memset(claimed, 0, sizeof(claimed));
		memset(granted, 0, sizeof(granted));
		now = SALE_START;
		for (step = 0; step < 3000; step++) {
			l = rnd(&s) % SIM_LCORES;
			i = rnd(&s) % SIM_ITEMS;
			now += rnd(&s) % (2 * NS_PER_MS);
			if (rnd(&s) % 4 == 0) {
				/* The control plane serves wants: a claim
				 * of 1..64 (a CAS batch), never past stock. */
				nw = fg_seckill_wants(e[l], w, SIM_ITEMS);
				for (k = 0; k < nw; k++) {
					uint64_t n = 1 + rnd(&s) % 64;

					if (n > stock - claimed[w[k]])
						n = stock - claimed[w[k]];
					claimed[w[k]] += n;
					granted[l][w[k]] += n;
					if (n)
						assert_int_equal(fg_seckill_grant(
							e[l], w[k], n), 0);
					fg_seckill_set_stock_left(e[l], w[k],
						stock - claimed[w[k]]);
				}
			}
			rc = judge(e[l], items[i], now, &v);
			assert_int_equal(fg_seckill_item_stats(e[l], i, &is),
					 0);
			if (rc == FG_L7_SOLD_OUT) {
				assert_int_equal(is.allowance, 0);
				assert_int_equal(claimed[i], stock);
			}
			assert_true(is.admitted <= granted[l][i]);
			assert_int_equal(is.allowance,
					 granted[l][i] - is.admitted);
			total_adm = 0;
			for (k = 0; k < SIM_LCORES; k++) {
				assert_int_equal(fg_seckill_item_stats(e[k], i,
								       &is), 0);
				total_adm += is.admitted;
			}
			assert_true(total_adm <= claimed[i]);
			assert_true(claimed[i] <= stock);
		}
		for (l = 0; l < SIM_LCORES; l++)
			fg_seckill_free(e[l]);
	}
}

/* ------------------------------------------------------ invented items */

/* 100,000 distinct invented items against a rule with items: every one
 * answered respond, nothing allocated, no item slot, no allowance spent,
 * no want raised. */
static void test_invented_items_list(void **state)
{
	static const char *const items[] = {"1001", "1002"};
	struct fg_seckill_conf c = api_conf();
	struct fg_seckill_item_stats is;
	struct fg_seckill_stats st0, st;
	struct fg_verdict_l7 v;
	struct fg_seckill *e;
	char name[32];
	size_t heap0;
	uint32_t w[4], i;

	(void)state;
	c.items = items;
	c.nitems = 2;
	c.stock = 1000;
	e = new_engine(&c);
	assert_int_equal(fg_seckill_grant(e, 0, 10), 0);
	assert_int_equal(fg_seckill_grant(e, 1, 10), 0);
	fg_seckill_stats(e, &st0);
	assert_int_equal(st0.items, 2);
	heap0 = heap_in_use();
	for (i = 0; i < 100000; i++) {
		snprintf(name, sizeof(name), "%u", 2000000 + i * 7919u);
		assert_int_equal(judge(e, name, SALE_START + i, &v),
				 FG_L7_SHED);
		assert_int_equal(v.reason, FG_SK_UNKNOWN_ITEM);
		assert_int_equal(v.status, 429);
	}
	assert_int_equal(heap_in_use(), heap0);
	fg_seckill_stats(e, &st);
	assert_int_equal(st.items, 2);
	assert_int_equal(st.bytes, st0.bytes);
	assert_int_equal(st.reason[FG_SK_UNKNOWN_ITEM], 100000);
	assert_int_equal(st.reason[FG_SK_ADMITTED], 0);
	for (i = 0; i < 2; i++) {
		assert_int_equal(fg_seckill_item_stats(e, i, &is), 0);
		assert_int_equal(is.allowance, 10);
		assert_int_equal(is.admitted + is.shed, 0);
	}
	assert_int_equal(fg_seckill_wants(e, w, 4), 0);
	/* The real items still sell. */
	assert_int_equal(judge(e, "1001", SALE_START + NS_PER_S, &v),
			 FG_L7_ADMIT);
	fg_seckill_free(e);
}

/* Without items: max_items slots, taken as items appear, then respond;
 * the table never grows. */
static void test_invented_items_max(void **state)
{
	struct fg_seckill_conf c = api_conf();
	struct fg_seckill_stats st0, st;
	struct fg_verdict_l7 v;
	struct fg_seckill *e;
	char name[32];
	size_t heap0, len;
	const char *p;
	uint32_t i, idx;

	(void)state;
	c.max_items = 1000;
	e = new_engine(&c);
	fg_seckill_stats(e, &st0);
	assert_int_equal(st0.items, 0);
	assert_int_equal(st0.items_max, 1000);
	heap0 = heap_in_use();
	for (i = 0; i < 100000; i++) {
		snprintf(name, sizeof(name), "%u", 5000000 + i);
		assert_int_equal(judge(e, name, SALE_START, &v),
				 i < 1000 ? FG_L7_ADMIT : FG_L7_SHED);
		if (i >= 1000)
			assert_int_equal(v.reason, FG_SK_TABLE_FULL);
		else
			assert_int_equal(v.item, i);
	}
	assert_int_equal(heap_in_use(), heap0);
	fg_seckill_stats(e, &st);
	assert_int_equal(st.items, 1000);
	assert_int_equal(st.bytes, st0.bytes);
	assert_int_equal(st.reason[FG_SK_TABLE_FULL], 99000);
	/* Items with a slot keep it; the control side finds them. */
	assert_int_equal(judge(e, "5000999", SALE_START, &v), FG_L7_ADMIT);
	idx = fg_seckill_item_find(e, "5000999", 7);
	assert_int_equal(idx, 999);
	p = fg_seckill_item_name(e, idx, &len);
	assert_int_equal(len, 7);
	assert_memory_equal(p, "5000999", 7);
	assert_null(fg_seckill_item_name(e, 1000, &len));
	fg_seckill_free(e);

	/* The name store bounds long names too. */
	c.max_items = 100;
	c.name_bytes = 256;
	e = new_engine(&c);
	memset(name, 'x', sizeof(name));
	name[31] = 0;
	for (i = 0; i < 10; i++) {
		name[0] = (char)('a' + i);
		assert_int_equal(judge(e, name, SALE_START, &v),
				 i < 8 ? FG_L7_ADMIT : FG_L7_SHED);
	}
	fg_seckill_free(e);
}

/* ------------------------------------------------------------ clients */

static void test_per_client(void **state)
{
	struct fg_seckill_conf c = api_conf();
	struct fg_flow_key a = client_v4(0xc6120001), b = client_v4(0xc6120002);
	struct fg_flow_key a6;
	struct fg_seckill_stats st0, st;
	struct fg_verdict_l7 v;
	struct fg_seckill *e;
	size_t heap0;
	uint32_t i;

	(void)state;
	c.burst_milli = 3 * MILLI;
	c.rate_milli = 1 * MILLI;
	c.client_key = FG_SECKILL_CLIENT_SRC_IP;
	c.client_rate_milli = 2 * MILLI;
	c.client_burst_milli = 2 * MILLI;
	e = new_engine(&c);
	/* a: two, then its own bucket refuses - and charges the item
	 * nothing. */
	for (i = 0; i < 2; i++)
		assert_int_equal(fg_seckill_judge(e, buy("1"), &a, SALE_START,
						  &v), FG_L7_ADMIT);
	for (i = 0; i < 5; i++) {
		assert_int_equal(fg_seckill_judge(e, buy("1"), &a, SALE_START,
						  &v), FG_L7_SHED);
		assert_int_equal(v.reason, FG_SK_SHED_CLIENT);
	}
	/* b: the item's third token; then the item is empty, which
	 * charges b nothing... */
	assert_int_equal(fg_seckill_judge(e, buy("1"), &b, SALE_START, &v),
			 FG_L7_ADMIT);
	assert_int_equal(fg_seckill_judge(e, buy("1"), &b, SALE_START, &v),
			 FG_L7_SHED);
	assert_int_equal(v.reason, FG_SK_SHED_BUCKET);
	/* ...so b still holds one on another item. */
	assert_int_equal(fg_seckill_judge(e, buy("2"), &b, SALE_START, &v),
			 FG_L7_ADMIT);
	assert_int_equal(fg_seckill_judge(e, buy("3"), &b, SALE_START, &v),
			 FG_L7_SHED);
	assert_int_equal(v.reason, FG_SK_SHED_CLIENT);
	/* 2/s: half a second later a has one more. */
	assert_int_equal(fg_seckill_judge(e, buy("2"), &a,
					  SALE_START + NS_PER_S / 2, &v),
			 FG_L7_ADMIT);
	assert_int_equal(fg_seckill_judge(e, buy("3"), &a,
					  SALE_START + NS_PER_S / 2, &v),
			 FG_L7_SHED);
	assert_int_equal(v.reason, FG_SK_SHED_CLIENT);
	/* IPv6 clients are keyed by their whole address. */
	memset(&a6, 0, sizeof(a6));
	a6.family = FG_AF_INET6;
	a6.src[0] = fg_htonl(0x20010db8);
	a6.src[3] = fg_htonl(1);
	assert_int_equal(fg_seckill_judge(e, buy("4"), &a6, SALE_START, &v),
			 FG_L7_ADMIT);
	fg_seckill_stats(e, &st);
	assert_int_equal(st.reason[FG_SK_SHED_CLIENT], 7);
	fg_seckill_free(e);

	/* src_prefix/24: the neighbours share a bucket. */
	c.client_key = FG_SECKILL_CLIENT_SRC_PREFIX;
	c.client_prefix_len = 24;
	c.burst_milli = 100 * MILLI;
	e = new_engine(&c);
	assert_int_equal(fg_seckill_judge(e, buy("1"), &a, SALE_START, &v),
			 FG_L7_ADMIT);
	assert_int_equal(fg_seckill_judge(e, buy("1"), &b, SALE_START, &v),
			 FG_L7_ADMIT);
	assert_int_equal(fg_seckill_judge(e, buy("1"), &b, SALE_START, &v),
			 FG_L7_SHED);
	assert_int_equal(v.reason, FG_SK_SHED_CLIENT);
	b = client_v4(0xc6120102); /* another /24 */
	assert_int_equal(fg_seckill_judge(e, buy("1"), &b, SALE_START, &v),
			 FG_L7_ADMIT);
	fg_seckill_free(e);

	/* A crowd of 100,000 clients in a 64-slot table: nothing grows, and
	 * a client judged again at once is still known (a new client takes
	 * the entry nearest to refilled, which is never the newest). */
	c.client_key = FG_SECKILL_CLIENT_SRC_IP;
	c.client_slots = 64;
	c.client_burst_milli = 1 * MILLI;
	c.client_rate_milli = 1;
	c.burst_milli = 1000000 * MILLI;
	e = new_engine(&c);
	fg_seckill_stats(e, &st0);
	heap0 = heap_in_use();
	for (i = 0; i < 100000; i++) {
		b = client_v4(0xc6130000 + i);
		assert_int_equal(fg_seckill_judge(e, buy("1"), &b,
						  SALE_START + i, &v),
				 FG_L7_ADMIT);
		assert_int_equal(fg_seckill_judge(e, buy("1"), &b,
						  SALE_START + i, &v),
				 FG_L7_SHED);
		assert_int_equal(v.reason, FG_SK_SHED_CLIENT);
	}
	assert_int_equal(heap_in_use(), heap0);
	fg_seckill_stats(e, &st);
	assert_int_equal(st.bytes, st0.bytes);
	fg_seckill_free(e);
}

/* ------------------------------------------------------ other items */

/* header: and query: items; a rule without item is one item. */
static void test_item_kinds(void **state)
{
	struct fg_seckill_conf c = api_conf();
	struct fg_flow_key k = client_v4(0xc6120001);
	struct fg_http_conf other;
	struct fg_verdict_l7 v;
	struct fg_seckill *e;
	size_t used;

	(void)state;
	c.item = "header:X-Item";
	e = new_engine(&c);
	assert_int_equal(fg_seckill_judge(e, read_req(
		"POST /buy HTTP/1.1\r\nHost: a\r\nX-Item: 42\r\n\r\n"), &k,
		SALE_START, &v), FG_L7_ADMIT);
	assert_int_equal(v.item, fg_seckill_item_find(e, "42", 2));
	assert_int_equal(fg_seckill_judge(e, read_req(
		"POST /buy HTTP/1.1\r\nHost: a\r\n\r\n"), &k, SALE_START, &v),
		FG_L7_MISSING_ITEM);
	/* Read with other settings: refused, not misjudged. */
	fg_http_conf_init(&other);
	fg_http_init(&req, &other, head);
	assert_int_equal(fg_http_feed(&req, "GET / HTTP/1.1\r\nHost: a\r\n\r\n",
				      27, &used), FG_HTTP_COMPLETE);
	assert_int_equal(fg_seckill_judge(e, &req, &k, SALE_START, &v),
			 -EINVAL);
	/* Not complete: refused. */
	fg_http_init(&req, &hconf, head);
	assert_int_equal(fg_http_feed(&req, "GET / HTTP/1.1\r\n", 16, &used),
			 FG_HTTP_MORE);
	assert_int_equal(fg_seckill_judge(e, &req, &k, SALE_START, &v),
			 -EINVAL);
	fg_seckill_free(e);

	c.item = "query:id";
	e = new_engine(&c);
	assert_int_equal(fg_seckill_judge(e, read_req(
		"POST /buy?id=a%20b HTTP/1.1\r\nHost: a\r\n\r\n"), &k,
		SALE_START, &v), FG_L7_ADMIT);
	assert_int_equal(v.item, fg_seckill_item_find(e, "a b", 3));
	fg_seckill_free(e);

	c.item = NULL;
	c.stock = 3;
	e = new_engine(&c);
	assert_int_equal(fg_seckill_item_find(e, "", 0), 0);
	assert_int_equal(fg_seckill_grant(e, 0, 3), 0);
	assert_int_equal(fg_seckill_set_stock_left(e, 0, 0), 0);
	assert_int_equal(fg_seckill_judge(e, read_req(
		"POST /anything HTTP/1.1\r\nHost: a\r\n\r\n"), &k,
		SALE_START, &v), FG_L7_ADMIT);
	assert_int_equal(v.item, 0);
	assert_int_equal(judge(e, "x", SALE_START, &v), FG_L7_ADMIT);
	assert_int_equal(judge(e, "y", SALE_START, &v), FG_L7_ADMIT);
	assert_int_equal(judge(e, "z", SALE_START, &v), FG_L7_SOLD_OUT);
	fg_seckill_free(e);
}

/* A new version carries buckets, counters and allowance: no second
 * burst, no forgotten consumption. */
static void test_carry(void **state)
{
	static const char *const items[] = {"1001", "1002"};
	static const char *const items2[] = {"1002", "1003"};
	struct fg_seckill_conf c = api_conf();
	struct fg_seckill_item_stats is;
	struct fg_verdict_l7 v;
	struct fg_seckill *a, *b;
	uint32_t idx;
	unsigned int i;

	(void)state;
	c.items = items;
	c.nitems = 2;
	c.stock = 100;
	c.burst_milli = 5 * MILLI;
	a = new_engine(&c);
	assert_int_equal(fg_seckill_grant(a, 1, 20), 0);
	for (i = 0; i < 5; i++)
		assert_int_equal(judge(a, "1002", SALE_START, &v), FG_L7_ADMIT);
	assert_int_equal(judge(a, "1002", SALE_START, &v), FG_L7_SHED);

	c.items = items2;
	b = new_engine(&c);
	assert_int_equal(fg_seckill_carry(b, a), 1);
	fg_seckill_free(a);
	idx = fg_seckill_item_find(b, "1002", 4);
	assert_int_equal(idx, 0);
	assert_int_equal(fg_seckill_item_stats(b, idx, &is), 0);
	assert_int_equal(is.admitted, 5);
	assert_int_equal(is.shed, 1);
	assert_int_equal(is.allowance, 15);
	/* The bucket is still empty. */
	assert_int_equal(judge(b, "1002", SALE_START, &v), FG_L7_SHED);
	assert_int_equal(v.reason, FG_SK_SHED_BUCKET);
	fg_seckill_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_respond_bytes),
		cmocka_unit_test(test_respond_refused),
		cmocka_unit_test(test_judge_answer_bytes),
		cmocka_unit_test(test_build_refused),
		cmocka_unit_test(test_window_edges),
		cmocka_unit_test(test_burst_then_rate),
		cmocka_unit_test(test_stock_allowance),
		cmocka_unit_test(test_stock_property),
		cmocka_unit_test(test_invented_items_list),
		cmocka_unit_test(test_invented_items_max),
		cmocka_unit_test(test_per_client),
		cmocka_unit_test(test_item_kinds),
		cmocka_unit_test(test_carry),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
