/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * bench_http.c - requests read per second per core by the L7 request
 * reader (dataplane/l7/fg_http), from raw request bytes to a result:
 * a typical browser GET with a few headers, a POST to a seckill path
 * with its item extracted (segment:2), and a request refused with 400
 * (HTTP/1.1 without Host: the whole head is read before the refusal).
 *
 * Each row initialises a request and feeds the whole head as one segment
 * (what the DPDK worker sees for almost every first request), in a loop
 * run for at least FG_BENCH_MIN_NS per repeat; the figure is the median
 * of FG_BENCH_REPEATS repeats. Before timing, each row checks that its
 * path does what the row claims (complete with the expected fields, the
 * item found, the 400 with its reason); a failed check exits 1.
 *
 * Output: one line per row,
 *   bench=l7 case=<case> value=<requests/s> unit=req/s floor=0
 * then a human table with ns per request and bytes per request.
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

#define FG_BENCH_ROWS 3

/* Make the compiler forget what it knows about x. */

static const char fg_bench_get[] =
	"GET /api/v1/products?page=2&sort=price HTTP/1.1\r\n"
	"Host: shop.example\r\n"
	"User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:120.0) "
	"Gecko/20100101 Firefox/120.0\r\n"
	"Accept: text/html,application/xhtml+xml,application/xml;q=0.9,"
	"*/*;q=0.8\r\n"
	"Accept-Language: en-US,en;q=0.5\r\n"
	"Accept-Encoding: gzip, deflate, br\r\n"
	"Cookie: session=3f2a9c41d0e8b7a6; cart=7\r\n"
	"Connection: keep-alive\r\n"
	"\r\n";

static const char fg_bench_post[] =
	FG_BENCH_BROWSER_REQ("POST /seckill/1234/buy");

static const char fg_bench_bad[] =
	"GET /api/v1/products HTTP/1.1\r\n"
	"User-Agent: curl/8.5.0\r\n"
	"Accept: */*\r\n"
	"\r\n";

struct fg_bench_ctx {
	const char *req;
	size_t len;
	int want;                 /* FG_HTTP_COMPLETE or a status */
	int item;                 /* extract the item too */
	struct fg_http_conf conf;
	struct fg_item it;
	char head[FG_HTTP_HEAD_MAX_DEFAULT];
	char out[FG_ITEM_MAX];
};


/* One request: init, feed, (item). Returns a value derived from the
 * result so that nothing is dead code. */
static inline uint64_t fg_bench_one(struct fg_bench_ctx *c)
{
	struct fg_http_req req;
	const char *p = c->req;
	size_t used, olen = 0;
	int rc;

	FG_BENCH_HIDE(p);
	fg_http_init(&req, &c->conf, c->head);
	rc = fg_http_feed(&req, p, c->len, &used);
	if (c->item && rc == FG_HTTP_COMPLETE)
		rc += fg_item_extract(&c->it, &req, c->out, sizeof(c->out),
				      &olen);
	return (uint64_t)rc + used + olen;
}

FG_BENCH_LOOP(fg_bench_loop, struct fg_bench_ctx, fg_bench_one)

/* ns per request (bench_loop.h). */
static int fg_bench_measure(struct fg_bench_ctx *c, double *ns)
{
	return fg_bench_time(fg_bench_loop, c, ns, NULL);
}

/* The path check: the row's request gives what the row claims. */
static int fg_bench_check(const char *name, struct fg_bench_ctx *c)
{
	struct fg_http_req req;
	size_t used = 0, olen = 0;
	int rc;

	fg_http_init(&req, &c->conf, c->head);
	rc = fg_http_feed(&req, c->req, c->len, &used);
	if (rc != c->want)
		goto bad;
	if (rc == FG_HTTP_COMPLETE && (req.head_len == 0 ||
	    req.framing == 0 || !req.host.p))
		goto bad;
	if (rc == 400 && req.err != FG_HTTP_E_HOST_MISSING)
		goto bad;
	if (c->item) {
		if (req.method != FG_HTTP_POST ||
		    req.framing != FG_HTTP_BODY_LENGTH ||
		    c->len - used != req.content_length)
			goto bad;
		if (fg_item_extract(&c->it, &req, c->out, sizeof(c->out),
				    &olen) != FG_ITEM_OK ||
		    olen != 4 || memcmp(c->out, "1234", 4))
			goto bad;
	}
	return 0;
bad:
	fprintf(stderr, "bench_http: %s: path check failed (rc %d, %s)\n",
		name, rc, fg_http_err_name(req.err));
	return -1;
}

int main(void)
{
	static struct fg_bench_ctx ctx[FG_BENCH_ROWS];
	static const char *const names[FG_BENCH_ROWS] = {
		"get", "seckill_post_item", "bad_400",
	};
	double ns[FG_BENCH_ROWS];
	unsigned int i;

	ctx[0].req = fg_bench_get;
	ctx[0].len = sizeof(fg_bench_get) - 1;
	ctx[0].want = FG_HTTP_COMPLETE;
	ctx[1].req = fg_bench_post;
	ctx[1].len = sizeof(fg_bench_post) - 1;
	ctx[1].want = FG_HTTP_COMPLETE;
	ctx[1].item = 1;
	ctx[2].req = fg_bench_bad;
	ctx[2].len = sizeof(fg_bench_bad) - 1;
	ctx[2].want = 400;
	for (i = 0; i < FG_BENCH_ROWS; i++) {
		fg_http_conf_init(&ctx[i].conf);
		/* A rule version watching a header, as routes do. */
		if (fg_http_watch_add(&ctx[i].conf, "X-Canary", 8) < 0 ||
		    fg_item_parse(&ctx[i].it, "segment:2", 9, &ctx[i].conf,
				  NULL) ||
		    fg_bench_check(names[i], &ctx[i]))
			return 1;
	}
	for (i = 0; i < FG_BENCH_ROWS; i++) {
		if (fg_bench_measure(&ctx[i], &ns[i])) {
			fprintf(stderr, "bench_http: %s: could not be timed\n",
				names[i]);
			return 1;
		}
		printf("bench=l7 case=%s value=%.0f unit=req/s floor=0\n",
		       names[i], 1e9 / ns[i]);
		fflush(stdout);
	}
	printf("\n%-20s %12s %10s %8s\n", "case", "req/s/core", "ns/req",
	       "bytes");
	for (i = 0; i < FG_BENCH_ROWS; i++)
		printf("%-20s %12.0f %10.1f %8zu\n", names[i], 1e9 / ns[i],
		       ns[i], ctx[i].len);
	return 0;
}
