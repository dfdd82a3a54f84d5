/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * test_route.c - routes compiled into hyperscan databases and matched
 * per request (dataplane/l7/fg_route): each match field alone and
 * combined, wildcard hosts, priorities and overlaps, the serialised blob
 * loaded again (and unaligned) giving the same verdicts, patterns
 * hyperscan refuses named by route and field, 1,000 routes.
 *
 * Every request goes through the real reader (fg_http_feed) with the
 * settings fg_route_load registered the header names in, as the worker
 * will do.
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

#include "fg_http.h"
#include "fg_route.h"

#define NONE (-1)

/* A compiled and loaded version, with one worker's scratch. */
struct rt {
	void *blob;
	size_t len;
	struct fg_http_conf conf;
	struct fg_route_matcher *m;
	struct fg_route_scratch *s;
	char head[FG_HTTP_HEAD_MAX_DEFAULT];
};

static char err[512];

static void rt_load(struct rt *t)
{
	fg_http_conf_init(&t->conf);
	t->m = fg_route_load(t->blob, t->len, &t->conf, err, sizeof(err));
	if (!t->m)
		fail_msg("load: %s", err);
	t->s = fg_route_scratch_new(t->m, err, sizeof(err));
	assert_non_null(t->s);
}

static struct rt *rt_new(const struct fg_route_spec *routes, size_t n)
{
	struct rt *t = calloc(1, sizeof(*t));
	int rc;

	assert_non_null(t);
	err[0] = '\0';
	rc = fg_route_compile(routes, n, &t->blob, &t->len, err, sizeof(err));
	if (rc)
		fail_msg("compile: %d %s", rc, err);
	rt_load(t);
	return t;
}

static void rt_free(struct rt *t)
{
	fg_route_scratch_free(t->s);
	fg_route_matcher_free(t->m);
	free(t->blob);
	free(t);
}

/* The id of the route raw request `r` takes, or NONE; the index the
 * matcher returns must name the same id. */
static long rt_match(struct rt *t, const char *r)
{
	struct fg_http_req req;
	uint32_t id = 0xdeadbeef;
	int rc, idx;

	fg_http_init(&req, &t->conf, t->head);
	rc = fg_http_feed(&req, r, strlen(r), NULL);
	if (rc != FG_HTTP_COMPLETE)
		fail_msg("reader: %d (%s) for %s", rc,
			 fg_http_err_name(req.err), r);
	idx = fg_route_match(t->m, t->s, &req, &id);
	if (idx == FG_ROUTE_NONE)
		return NONE;
	assert_true(idx >= 0);
	assert_true((uint32_t)idx < fg_route_count(t->m));
	assert_int_equal(fg_route_id(t->m, (uint32_t)idx), id);
	return id;
}

/* A GET of `path` to `host` with extra header lines `hdrs` ("" none). */
static long get(struct rt *t, const char *host, const char *path,
		const char *hdrs)
{
	char r[2048];

	snprintf(r, sizeof(r), "GET %s HTTP/1.1\r\nHost: %s\r\n%s\r\n", path,
		 host, hdrs);
	return rt_match(t, r);
}

/* ---------------------------------------------------------------------
 * Each field alone
 */

static void test_host_literal(void **state)
{
	struct fg_route_spec r[] = {{.id = 1, .host = "shop.example"}};
	struct rt *t = rt_new(r, 1);

	(void)state;
	assert_int_equal(get(t, "shop.example", "/", ""), 1);
	assert_int_equal(get(t, "SHOP.Example", "/", ""), 1);
	assert_int_equal(get(t, "shop.example:8080", "/", ""), 1);
	assert_int_equal(get(t, "shop.example.", "/", ""), 1);
	assert_int_equal(get(t, "xshop.example", "/", ""), NONE);
	assert_int_equal(get(t, "hop.example", "/", ""), NONE);
	assert_int_equal(get(t, "shop.example.com", "/", ""), NONE);
	assert_int_equal(get(t, "shop.examplex", "/", ""), NONE);
	assert_int_equal(get(t, "a.shop.example", "/", ""), NONE);
	assert_int_equal(get(t, "shop.example..", "/", ""), NONE);
	/* HTTP/1.0 without Host: no host, no host route. */
	assert_int_equal(rt_match(t, "GET / HTTP/1.0\r\n\r\n"), NONE);
	/* Absolute form: the target's host, not the Host header's. */
	assert_int_equal(rt_match(t, "GET http://shop.example/x HTTP/1.1\r\n"
				  "Host: other.example\r\n\r\n"), 1);
	assert_int_equal(rt_match(t, "GET http://other.example/x HTTP/1.1\r\n"
				  "Host: shop.example\r\n\r\n"), NONE);
	rt_free(t);

	/* A trailing dot on the route's side names the same host; an IP
	 * literal is a host too. */
	struct fg_route_spec r2[] = {{.id = 2, .host = "shop.example."},
				     {.id = 3, .host = "[2001:db8::1]"}};
	t = rt_new(r2, 2);
	assert_int_equal(get(t, "shop.example", "/", ""), 2);
	assert_int_equal(get(t, "[2001:db8::1]:80", "/", ""), 3);
	assert_int_equal(get(t, "[2001:db8::2]", "/", ""), NONE);
	rt_free(t);
}

static void test_host_wildcard(void **state)
{
	struct fg_route_spec r[] = {{.id = 9, .host = "*.example.com"}};
	struct rt *t = rt_new(r, 1);

	(void)state;
	assert_int_equal(get(t, "a.example.com", "/", ""), 9);
	assert_int_equal(get(t, "A.Example.COM", "/", ""), 9);
	/* Any subdomain, at any depth (API.md). */
	assert_int_equal(get(t, "a.b.example.com", "/", ""), 9);
	assert_int_equal(get(t, "a.example.com.", "/", ""), 9);
	assert_int_equal(get(t, "a.example.com:443", "/", ""), 9);
	/* Never the domain itself, nor a name that only ends alike. */
	assert_int_equal(get(t, "example.com", "/", ""), NONE);
	assert_int_equal(get(t, "aexample.com", "/", ""), NONE);
	assert_int_equal(get(t, "a.example.com.evil", "/", ""), NONE);
	assert_int_equal(get(t, "a.example.co", "/", ""), NONE);
	/* Empty labels are no subdomain. */
	assert_int_equal(get(t, ".example.com", "/", ""), NONE);
	assert_int_equal(get(t, "a..example.com", "/", ""), NONE);
	assert_int_equal(get(t, "..a.example.com", "/", ""), NONE);
	assert_int_equal(get(t, "b..a.example.com", "/", ""), NONE);
	assert_int_equal(get(t, "a.example.com..", "/", ""), NONE);
	assert_int_equal(get(t, "b.a-1.example.com", "/", ""), 9);
	rt_free(t);
}

static void test_path_prefix(void **state)
{
	struct fg_route_spec r[] = {
		{.id = 1, .path_prefix = "/api/"},
		{.id = 2, .path_prefix = "/%7euser/"},
		{.id = 3, .path_prefix = "/a%2fb"},
	};
	struct rt *t = rt_new(r, 3);

	(void)state;
	assert_int_equal(get(t, "h", "/api/", ""), 1);
	assert_int_equal(get(t, "h", "/api/x/y", ""), 1);
	assert_int_equal(get(t, "h", "/api/x?q=/z", ""), 1);
	assert_int_equal(get(t, "h", "/api", ""), NONE);
	assert_int_equal(get(t, "h", "/API/x", ""), NONE);
	assert_int_equal(get(t, "h", "/x/api/", ""), NONE);
	assert_int_equal(get(t, "h", "/?/api/", ""), NONE);
	/* Escaped unreserved characters are the same URI (RFC 3986
	 * 6.2.2.2): no way around a prefix by escaping it. */
	assert_int_equal(get(t, "h", "/%61pi/x", ""), 1);
	assert_int_equal(get(t, "h", "/%61%70%69%2F", ""), NONE);
	assert_int_equal(get(t, "h", "/~user/a", ""), 2);
	assert_int_equal(get(t, "h", "/%7Euser/a", ""), 2);
	/* Reserved escapes stay escaped, whatever the hex case. */
	assert_int_equal(get(t, "h", "/a%2Fb", ""), 3);
	assert_int_equal(get(t, "h", "/a%2fbc", ""), 3);
	assert_int_equal(get(t, "h", "/a/b", ""), NONE);
	/* OPTIONS * has the path "*". */
	assert_int_equal(rt_match(t, "OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n"),
			 NONE);
	rt_free(t);
}

static void test_path_regex(void **state)
{
	struct fg_route_spec r[] = {
		{.id = 1, .path_regex = "^/api/v[12]/"},
		{.id = 2, .path_regex = "/buy$"},
	};
	struct rt *t = rt_new(r, 2);

	(void)state;
	assert_int_equal(get(t, "h", "/api/v1/x", ""), 1);
	assert_int_equal(get(t, "h", "/api/v2/", ""), 1);
	assert_int_equal(get(t, "h", "/api/v3/", ""), NONE);
	assert_int_equal(get(t, "h", "/x/api/v1/", ""), NONE);
	/* Unanchored at the start; `$` at the path's end, the query is
	 * not part of the path. */
	assert_int_equal(get(t, "h", "/seckill/12/buy", ""), 2);
	assert_int_equal(get(t, "h", "/seckill/12/buy?n=2", ""), 2);
	assert_int_equal(get(t, "h", "/seckill/12/buy/x", ""), NONE);
	assert_int_equal(get(t, "h", "/x?/buy", ""), NONE);
	/* The regex sees the normalised path. */
	assert_int_equal(get(t, "h", "/api/v%31/x", ""), 1);
	rt_free(t);
}

static void test_method(void **state)
{
	struct fg_route_spec r[] = {
		{.id = 1, .method = "POST", .priority = 2},
		{.id = 2, .method = "DELETE", .path_prefix = "/a", .priority = 1},
	};
	struct rt *t = rt_new(r, 2);

	(void)state;
	assert_int_equal(rt_match(t, "POST /x HTTP/1.1\r\nHost: h\r\n"
				  "Content-Length: 0\r\n\r\n"), 1);
	assert_int_equal(rt_match(t, "GET /x HTTP/1.1\r\nHost: h\r\n\r\n"),
			 NONE);
	assert_int_equal(rt_match(t, "DELETE /a HTTP/1.1\r\nHost: h\r\n\r\n"),
			 2);
	assert_int_equal(rt_match(t, "DELETE /b HTTP/1.1\r\nHost: h\r\n\r\n"),
			 NONE);
	assert_int_equal(rt_match(t, "PUT /a HTTP/1.1\r\nHost: h\r\n"
				  "Content-Length: 0\r\n\r\n"), NONE);
	rt_free(t);
}

static void test_header(void **state)
{
	struct fg_route_header canary[] = {{"X-Canary", "^1$"}};
	struct fg_route_header present[] = {{"x-debug", ".*"}};
	struct fg_route_header empty[] = {{"X-Empty", "^$"}};
	struct fg_route_spec r[] = {
		{.id = 1, .nheaders = 1, .headers = canary},
		{.id = 2, .nheaders = 1, .headers = present},
		{.id = 3, .nheaders = 1, .headers = empty},
	};
	struct rt *t = rt_new(r, 3);

	(void)state;
	assert_int_equal(get(t, "h", "/", "X-Canary: 1\r\n"), 1);
	assert_int_equal(get(t, "h", "/", "x-canary:   1  \r\n"), 1);
	assert_int_equal(get(t, "h", "/", "X-Canary: 10\r\n"), NONE);
	assert_int_equal(get(t, "h", "/", "X-Canary: 0\r\n"), NONE);
	assert_int_equal(get(t, "h", "/", ""), NONE);
	/* Another header's value never counts. */
	assert_int_equal(get(t, "h", "/", "X-Canaryx: 1\r\nX-Other: 1\r\n"),
			 NONE);
	/* Twice, alike: one value; twice, different: a backend may read
	 * either, so it does not hold. */
	assert_int_equal(get(t, "h", "/", "X-Canary: 1\r\nX-Canary: 1\r\n"),
			 1);
	assert_int_equal(get(t, "h", "/", "X-Canary: 1\r\nX-Canary: 2\r\n"),
			 NONE);
	assert_int_equal(get(t, "h", "/", "X-Canary: 2\r\nX-Canary: 1\r\n"),
			 NONE);
	/* `.*`: the header is present, even empty. */
	assert_int_equal(get(t, "h", "/", "X-Debug: anything\r\n"), 2);
	assert_int_equal(get(t, "h", "/", "X-Debug:\r\n"), 2);
	assert_int_equal(get(t, "h", "/", "X-Empty:\r\n"), 3);
	assert_int_equal(get(t, "h", "/", "X-Empty: x\r\n"), NONE);
	rt_free(t);
}

/* ---------------------------------------------------------------------
 * Combined fields, priorities, overlaps
 */

static void test_combined(void **state)
{
	/* API.md's example route. */
	struct fg_route_header h[] = {{"X-Canary", "^1$"}};
	struct fg_route_spec r[] = {{
		.id = 100, .priority = 100, .host = "shop.example",
		.method = "GET", .path_prefix = "/api/",
		.path_regex = "^/api/v[12]/", .nheaders = 1, .headers = h,
	}};
	struct rt *t = rt_new(r, 1);
	const char *ok = "X-Canary: 1\r\n";

	(void)state;
	assert_int_equal(get(t, "shop.example", "/api/v1/p", ok), 100);
	/* Each field failing alone. */
	assert_int_equal(get(t, "shop.other", "/api/v1/p", ok), NONE);
	assert_int_equal(get(t, "shop.example", "/apx/v1/p", ok), NONE);
	assert_int_equal(get(t, "shop.example", "/api/v3/p", ok), NONE);
	assert_int_equal(get(t, "shop.example", "/api/v1/p", "X-Canary: 0\r\n"),
			 NONE);
	assert_int_equal(get(t, "shop.example", "/api/v1/p", ""), NONE);
	assert_int_equal(rt_match(t, "HEAD /api/v1/p HTTP/1.1\r\n"
				  "Host: shop.example\r\nX-Canary: 1\r\n\r\n"),
			 NONE);
	rt_free(t);

	/* Two header conditions on one route, one of them on a name
	 * another route names too. */
	struct fg_route_header h2[] = {{"X-A", "^a"}, {"X-B", "b$"}};
	struct fg_route_header h3[] = {{"x-b", "^b"}};
	struct fg_route_spec r2[] = {
		{.id = 1, .priority = 5, .nheaders = 2, .headers = h2},
		{.id = 2, .priority = 1, .nheaders = 1, .headers = h3},
	};
	t = rt_new(r2, 2);
	assert_int_equal(get(t, "h", "/", "X-A: ax\r\nX-B: bb\r\n"), 1);
	assert_int_equal(get(t, "h", "/", "X-A: xa\r\nX-B: bb\r\n"), 2);
	assert_int_equal(get(t, "h", "/", "X-A: ax\r\n"), NONE);
	assert_int_equal(get(t, "h", "/", "X-B: b\r\n"), 2);
	rt_free(t);
}

static void test_priority(void **state)
{
	struct fg_route_spec r[] = {
		{.id = 10, .priority = 0},                    /* catch-all */
		{.id = 20, .priority = 10, .path_prefix = "/"},
		{.id = 30, .priority = 100, .path_prefix = "/api/"},
		{.id = 40, .priority = 200, .path_prefix = "/api/",
		 .method = "POST"},
		{.id = 50, .priority = -5, .host = "neg.example"},
		{.id = 60, .priority = 150, .host = "*.example.com",
		 .path_regex = "^/api/v2"},
		{.id = 70, .priority = 10, .method = "PUT"},
	};
	struct rt *t = rt_new(r, sizeof(r) / sizeof(r[0]));

	(void)state;
	assert_int_equal(get(t, "h", "/x", ""), 20);
	assert_int_equal(get(t, "h", "/api/x", ""), 30);
	assert_int_equal(rt_match(t, "POST /api/x HTTP/1.1\r\nHost: h\r\n"
				  "Content-Length: 0\r\n\r\n"), 40);
	assert_int_equal(get(t, "a.example.com", "/api/v2/x", ""), 60);
	assert_int_equal(get(t, "a.example.com", "/api/v1/x", ""), 30);
	/* A negative priority loses to the catch-alls. */
	assert_int_equal(get(t, "neg.example", "/x", ""), 20);
	/* OPTIONS * is under no prefix: the catch-all. */
	assert_int_equal(rt_match(t, "OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n"),
			 10);
	/* Equal priority (10): route 20 (a prefix) and 70 (method only):
	 * the lower id wins. */
	assert_int_equal(rt_match(t, "PUT /x HTTP/1.1\r\nHost: h\r\n"
				  "Content-Length: 0\r\n\r\n"), 20);
	rt_free(t);
}

/* Ties go to the lowest id whatever order the routes come in. */
static void test_priority_ties(void **state)
{
	struct fg_route_spec a[] = {
		{.id = 7, .priority = 5, .path_prefix = "/a"},
		{.id = 3, .priority = 5, .path_regex = "^/a"},
		{.id = 9, .priority = 5, .host = "h"},
	};
	struct fg_route_spec b[] = {a[2], a[0], a[1]};
	struct fg_route_spec c[] = {a[1], a[2], a[0]};
	struct fg_route_spec *orders[] = {a, b, c};
	unsigned int i;

	(void)state;
	for (i = 0; i < 3; i++) {
		struct rt *t = rt_new(orders[i], 3);

		assert_int_equal(get(t, "h", "/a", ""), 3);
		assert_int_equal(get(t, "h", "/b", ""), 9);
		assert_int_equal(get(t, "x", "/ab", ""), 3);
		/* Index order is rank order: 3, 7, 9. */
		assert_int_equal(fg_route_id(t->m, 0), 3);
		assert_int_equal(fg_route_id(t->m, 1), 7);
		assert_int_equal(fg_route_id(t->m, 2), 9);
		rt_free(t);
	}
}

/* The state of an earlier request never leaks into a later one: route 1
 * needs host and path, seen in different requests. */
static void test_no_carry_over(void **state)
{
	struct fg_route_spec r[] = {
		{.id = 1, .host = "a.example", .path_prefix = "/p"},
	};
	struct rt *t = rt_new(r, 1);
	unsigned int i;

	(void)state;
	for (i = 0; i < 100; i++) {
		assert_int_equal(get(t, "a.example", "/x", ""), NONE);
		assert_int_equal(get(t, "b.example", "/p", ""), NONE);
		assert_int_equal(get(t, "a.example", "/p", ""), 1);
	}
	rt_free(t);
}

static void test_empty(void **state)
{
	struct rt *t = rt_new(NULL, 0);

	(void)state;
	assert_int_equal(fg_route_count(t->m), 0);
	assert_int_equal(get(t, "h", "/", ""), NONE);
	rt_free(t);
}

/* ---------------------------------------------------------------------
 * The blob: round trip, misuse
 */

static const char *const rt_requests[] = {
	"GET /api/v1/x HTTP/1.1\r\nHost: shop.example\r\nX-Canary: 1\r\n\r\n",
	"GET /api/v1/x HTTP/1.1\r\nHost: shop.example\r\n\r\n",
	"GET /static/a.css HTTP/1.1\r\nHost: cdn.shop.example\r\n\r\n",
	("POST /seckill/1234/buy HTTP/1.1\r\nHost: shop.example\r\n"
	 "Content-Length: 0\r\n\r\n"),
	"GET /seckill/1234/buy HTTP/1.1\r\nHost: shop.example\r\n\r\n",
	"GET / HTTP/1.0\r\n\r\n",
	"GET /x HTTP/1.1\r\nHost: other\r\nX-Tenant: gold-7\r\n\r\n",
};

static void test_round_trip(void **state)
{
	struct fg_route_header canary[] = {{"X-Canary", "^1$"}};
	struct fg_route_header tenant[] = {{"X-Tenant", "^gold-[0-9]+$"}};
	struct fg_route_spec r[] = {
		{.id = 1, .priority = 100, .host = "shop.example",
		 .path_regex = "^/api/v[12]/", .nheaders = 1,
		 .headers = canary},
		{.id = 2, .priority = 50, .path_prefix = "/api/"},
		{.id = 3, .priority = 60, .host = "*.shop.example"},
		{.id = 4, .priority = 70, .method = "POST",
		 .path_regex = "^/seckill/[0-9]+/buy$"},
		{.id = 5, .priority = 1, .nheaders = 1, .headers = tenant},
	};
	struct rt *t = rt_new(r, 5), *u;
	long want[] = {1, 2, 3, 4, NONE, NONE, 5};
	unsigned int i, k;
	char *copy;

	(void)state;
	for (i = 0; i < sizeof(rt_requests) / sizeof(rt_requests[0]); i++)
		assert_int_equal(rt_match(t, rt_requests[i]), want[i]);

	/* The blob alone, copied to an odd address (a table set packs it
	 * where it falls), the original freed: the same verdicts, several
	 * loads of one blob being independent. */
	for (k = 0; k < 2; k++) {
		u = calloc(1, sizeof(*u));
		assert_non_null(u);
		copy = malloc(t->len + 1);
		assert_non_null(copy);
		memcpy(copy + 1, t->blob, t->len);
		u->len = t->len;
		u->blob = NULL;
		fg_http_conf_init(&u->conf);
		u->m = fg_route_load(copy + 1, u->len, &u->conf, err,
				     sizeof(err));
		free(copy);
		if (!u->m)
			fail_msg("load: %s", err);
		u->s = fg_route_scratch_new(u->m, err, sizeof(err));
		assert_non_null(u->s);
		for (i = 0; i < sizeof(rt_requests) / sizeof(rt_requests[0]);
		     i++)
			assert_int_equal(rt_match(u, rt_requests[i]),
					 rt_match(t, rt_requests[i]));
		rt_free(u);
	}

	/* Compiling again gives the same blob size and verdicts. */
	u = rt_new(r, 5);
	assert_int_equal(u->len, t->len);
	for (i = 0; i < sizeof(rt_requests) / sizeof(rt_requests[0]); i++)
		assert_int_equal(rt_match(u, rt_requests[i]), want[i]);
	rt_free(u);
	rt_free(t);
}

static void test_load_refused(void **state)
{
	struct fg_route_header h[] = {{"X-A", "a"}};
	struct fg_route_spec r[] = {
		{.id = 1, .host = "h", .path_regex = "^/x", .nheaders = 1,
		 .headers = h},
	};
	struct rt *t = rt_new(r, 1), *u;
	struct fg_http_conf conf;
	struct fg_http_req req;
	char *bad;
	size_t cut;
	unsigned int i;

	(void)state;
	bad = malloc(t->len + 1);
	assert_non_null(bad);
	/* Truncated anywhere, or one byte too long. */
	for (cut = 0; cut < t->len; cut += 1 + cut / 8) {
		fg_http_conf_init(&conf);
		assert_null(fg_route_load(t->blob, cut, &conf, err,
					  sizeof(err)));
		assert_non_null(strstr(err, "routes:"));
	}
	memcpy(bad, t->blob, t->len);
	bad[t->len] = 0;
	fg_http_conf_init(&conf);
	assert_null(fg_route_load(bad, t->len + 1, &conf, err, sizeof(err)));
	/* Not a route table. */
	memcpy(bad, t->blob, t->len);
	bad[0] ^= 0x55;
	assert_null(fg_route_load(bad, t->len, &conf, err, sizeof(err)));
	assert_non_null(strstr(err, "not a route table"));
	/* A reader that already watches FG_HTTP_WATCH_MAX other names. */
	fg_http_conf_init(&conf);
	for (i = 0; i < FG_HTTP_WATCH_MAX; i++) {
		char name[16];

		snprintf(name, sizeof(name), "x-n%u", i);
		assert_int_equal(fg_http_watch_add(&conf, name, strlen(name)),
				 (int)i);
	}
	assert_null(fg_route_load(t->blob, t->len, &conf, err, sizeof(err)));
	assert_non_null(strstr(err, "too many header names"));
	free(bad);

	/* A scratch of another matcher (another version) is refused. */
	u = rt_new(r, 1);
	fg_http_init(&req, &t->conf, t->head);
	assert_int_equal(fg_http_feed(&req, rt_requests[0],
				      strlen(rt_requests[0]), NULL),
			 FG_HTTP_COMPLETE);
	assert_int_equal(fg_route_match(t->m, u->s, &req, NULL), -EINVAL);
	/* A request read with settings that lack the watched names. */
	fg_http_conf_init(&conf);
	fg_http_init(&req, &conf, t->head);
	assert_int_equal(fg_http_feed(&req, rt_requests[0],
				      strlen(rt_requests[0]), NULL),
			 FG_HTTP_COMPLETE);
	assert_int_equal(fg_route_match(t->m, t->s, &req, NULL), -EINVAL);
	rt_free(u);
	rt_free(t);
}

/* ---------------------------------------------------------------------
 * Refused routes: the route, the field, and hyperscan's message
 */

static void refused(const struct fg_route_spec *r, size_t n,
		    const char *want1, const char *want2)
{
	void *blob = (void *)1;
	size_t len = 1;
	int rc;

	err[0] = '\0';
	rc = fg_route_compile(r, n, &blob, &len, err, sizeof(err));
	if (rc != -EINVAL || !strstr(err, want1) ||
	    (want2 && !strstr(err, want2)))
		fail_msg("compile: %d \"%s\", want \"%s\" \"%s\"", rc, err,
			 want1, want2 ? want2 : "");
	assert_null(blob);
	assert_int_equal(len, 0);
}

static void test_refused(void **state)
{
	struct fg_route_header backref[] = {{"X-Ok", "^a"},
					    {"X-Bad", "(a)\\1"}};
	struct fg_route_header noname[] = {{"X Bad", "a"}};
	struct fg_route_header noregex[] = {{"X-A", NULL}};
	struct fg_route_spec ok = {.id = 1, .path_regex = "^/fine"};
	struct fg_route_spec r[2];

	(void)state;
	/* Hyperscan's own messages, prefixed by route and field. */
	r[0] = ok;
	r[1] = (struct fg_route_spec){.id = 42, .path_regex = "^/a(?=b)"};
	refused(r, 2, "route 42: path_regex: ", "Zero-width");
	r[1] = (struct fg_route_spec){.id = 43, .path_regex = "^/a[b"};
	refused(r, 2, "route 43: path_regex: ", "Unterminated");
	r[1] = (struct fg_route_spec){.id = 44, .nheaders = 2,
				      .headers = backref};
	refused(r, 2, "route 44: headers[1].regex: ", "Back-references");
	/* The compile stops at the first bad pattern of a database, and
	 * names that route, not a neighbour. */
	r[0] = (struct fg_route_spec){.id = 5, .path_regex = "(?<=x)y"};
	r[1] = ok;
	refused(r, 2, "route 5: path_regex: ", NULL);

	/* Fields checked before hyperscan sees them. */
	r[0] = ok;
	r[1] = (struct fg_route_spec){.id = 7, .method = "get"};
	refused(r, 2, "route 7: method: \"get\"", NULL);
	r[1] = (struct fg_route_spec){.id = 7, .method = "CONNECT"};
	refused(r, 2, "route 7: method:", NULL);
	r[1] = (struct fg_route_spec){.id = 8, .host = "a*.example"};
	refused(r, 2, "route 8: host:", "leading");
	r[1] = (struct fg_route_spec){.id = 8, .host = "*."};
	refused(r, 2, "route 8: host:", NULL);
	r[1] = (struct fg_route_spec){.id = 8, .host = ""};
	refused(r, 2, "route 8: host:", NULL);
	r[1] = (struct fg_route_spec){.id = 8, .host = "*.*.example"};
	refused(r, 2, "route 8: host:", NULL);
	r[1] = (struct fg_route_spec){.id = 8, .host = "a b"};
	refused(r, 2, "route 8: host:", NULL);
	/* Empty labels: no request's host could be that name. */
	r[1] = (struct fg_route_spec){.id = 8, .host = "a..example"};
	refused(r, 2, "route 8: host:", "empty label");
	r[1] = (struct fg_route_spec){.id = 8, .host = "*..example"};
	refused(r, 2, "route 8: host:", "empty label");
	r[1] = (struct fg_route_spec){.id = 8, .host = ".example"};
	refused(r, 2, "route 8: host:", "empty label");
	r[1] = (struct fg_route_spec){.id = 8, .host = "a.example.."};
	refused(r, 2, "route 8: host:", "empty label");
	r[1] = (struct fg_route_spec){.id = 9, .path_prefix = "api/"};
	refused(r, 2, "route 9: path_prefix:", NULL);
	r[1] = (struct fg_route_spec){.id = 9, .path_prefix = "/a%2"};
	refused(r, 2, "route 9: path_prefix:", "hex");
	r[1] = (struct fg_route_spec){.id = 9, .path_prefix = "/a b"};
	refused(r, 2, "route 9: path_prefix:", NULL);
	r[1] = (struct fg_route_spec){.id = 10, .nheaders = 1,
				      .headers = noname};
	refused(r, 2, "route 10: headers[0].name:", NULL);
	r[1] = (struct fg_route_spec){.id = 10, .nheaders = 1,
				      .headers = noregex};
	refused(r, 2, "route 10: headers[0].regex:", NULL);
	r[1] = (struct fg_route_spec){.id = 11, .nheaders = 9,
				      .headers = backref};
	refused(r, 2, "route 11: headers:", NULL);
	r[1] = (struct fg_route_spec){.id = 1, .path_prefix = "/dup"};
	refused(r, 2, "route 1: id:", NULL);
}

/* More distinct header names than the reader can watch. */
static void test_refused_names(void **state)
{
	struct fg_route_header h[FG_HTTP_WATCH_MAX + 1];
	struct fg_route_spec r[FG_HTTP_WATCH_MAX + 1];
	char names[FG_HTTP_WATCH_MAX + 1][16];
	unsigned int i;

	(void)state;
	for (i = 0; i <= FG_HTTP_WATCH_MAX; i++) {
		snprintf(names[i], sizeof(names[i]), "X-H%u", i);
		h[i] = (struct fg_route_header){names[i], "x"};
		r[i] = (struct fg_route_spec){.id = i, .nheaders = 1,
					      .headers = &h[i]};
	}
	refused(r, FG_HTTP_WATCH_MAX + 1, "headers[0].name", "distinct");
	/* Exactly the limit compiles and loads. */
	struct rt *t = rt_new(r, FG_HTTP_WATCH_MAX);
	assert_int_equal(get(t, "h", "/", "X-H31: axb\r\n"), 31);
	rt_free(t);
}

/* ---------------------------------------------------------------------
 * 1,000 routes
 */

#define MANY 1000u

static void test_thousand(void **state)
{
	static struct fg_route_spec r[MANY];
	static char host[MANY][32], prefix[MANY][32], regex[MANY][48];
	static struct fg_route_header hdr[MANY];
	static char hre[MANY][32];
	char path[64], hline[64];
	unsigned int i;
	struct rt *t;

	(void)state;
	/* A mix of every kind: hosts (a wildcard every 10th), prefixes,
	 * regexes, methods and headers, priorities colliding. */
	for (i = 0; i < MANY; i++) {
		r[i].id = 1000 + i;
		r[i].priority = (int32_t)(i % 7);
		if (i % 10 == 0)
			snprintf(host[i], sizeof(host[i]), "*.w%u.example", i);
		else
			snprintf(host[i], sizeof(host[i]), "s%u.example", i);
		r[i].host = host[i];
		if (i % 3 == 0) {
			snprintf(prefix[i], sizeof(prefix[i]), "/p%u/", i);
			r[i].path_prefix = prefix[i];
		}
		if (i % 4 == 0) {
			snprintf(regex[i], sizeof(regex[i]),
				 "^/(p%u|r%u)/[0-9]+/(buy|view)$", i, i);
			r[i].path_regex = regex[i];
		}
		if (i % 5 == 0)
			r[i].method = "POST";
		if (i % 6 == 0) {
			snprintf(hre[i], sizeof(hre[i]), "^t%u-[a-z]+$", i);
			hdr[i] = (struct fg_route_header){"X-Tenant", hre[i]};
			r[i].nheaders = 1;
			r[i].headers = &hdr[i];
		}
	}
	t = rt_new(r, MANY);
	assert_int_equal(fg_route_count(t->m), MANY);
	for (i = 0; i < MANY; i++) {
		char req[512], h[40];

		if (i % 10 == 0)
			snprintf(h, sizeof(h), "a.w%u.example", i);
		else
			snprintf(h, sizeof(h), "s%u.example", i);
		snprintf(path, sizeof(path), i % 3 == 0 ? "/p%u/12/buy" :
			 "/r%u/12/view", i);
		hline[0] = '\0';
		if (i % 6 == 0)
			snprintf(hline, sizeof(hline), "X-Tenant: t%u-ab\r\n",
				 i);
		snprintf(req, sizeof(req), "%s %s HTTP/1.1\r\nHost: %s\r\n%s%s"
			 "\r\n", i % 5 == 0 ? "POST" : "GET", path, h,
			 i % 5 == 0 ? "Content-Length: 0\r\n" : "", hline);
		assert_int_equal(rt_match(t, req), 1000 + i);
		/* The same request with the wrong method, where the route
		 * names one, takes no route. */
		if (i % 5 == 0) {
			snprintf(req, sizeof(req), "PUT %s HTTP/1.1\r\nHost: %s"
				 "\r\nContent-Length: 0\r\n%s\r\n", path, h,
				 hline);
			assert_int_equal(rt_match(t, req), NONE);
		}
	}
	assert_int_equal(get(t, "nobody.example", "/", ""), NONE);
	rt_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_host_literal),
		cmocka_unit_test(test_host_wildcard),
		cmocka_unit_test(test_path_prefix),
		cmocka_unit_test(test_path_regex),
		cmocka_unit_test(test_method),
		cmocka_unit_test(test_header),
		cmocka_unit_test(test_combined),
		cmocka_unit_test(test_priority),
		cmocka_unit_test(test_priority_ties),
		cmocka_unit_test(test_no_carry_over),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_load_refused),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_refused_names),
		cmocka_unit_test(test_thousand),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
