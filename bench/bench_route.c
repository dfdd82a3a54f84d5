/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * bench_route.c - nanoseconds per request for the route matcher
 * (dataplane/l7/fg_route) with 10, 100 and 1,000 routes: the hyperscan
 * scans of host, path and watched headers plus the priority resolution,
 * from a request the reader has completed to the route it takes.
 *
 * The route set is what a node with many shops would carry: route i
 * belongs to shop i (host `s<i>.example`, every 10th a `*.` wildcard),
 * every 3rd adds a path prefix, every 4th a path regex, every 5th a
 * method, every 6th an X-Tenant header regex, and a low-priority
 * catch-all per shop kind sits under them. Requests are browser-like
 * heads (User-Agent, Accept, Cookie, X-Tenant) read ONCE by fg_http
 * before timing; the loop times fg_route_match alone over a mix of four
 * of them: a host + prefix + regex route near the end of the table, a
 * seckill POST, a route that needs its header, and a host no route
 * names (the catch-all). Before timing, each request's route is checked
 * against the one it must take; a failed check exits 1.
 *
 * Each row runs its loop for at least FG_BENCH_MIN_NS per repeat; the
 * figure is the median of FG_BENCH_REPEATS repeats, in ns per request.
 *
 * Output: one line per row,
 *   bench=l7 case=routes_<N> value=<ns> unit=ns floor=0
 * then a human table with the compile time and blob size too.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_loop.h"
#include "fg_http.h"
#include "fg_route.h"

#define FG_BENCH_ROWS 3
#define FG_BENCH_ROUTES_MAX 1000u
#define FG_BENCH_REQS 4u

/* Make the compiler forget what it knows about x. */

struct fg_bench_row {
	uint32_t nroutes;
	struct fg_http_conf conf;
	struct fg_route_matcher *m;
	struct fg_route_scratch *s;
	struct fg_http_req req[FG_BENCH_REQS];
	char head[FG_BENCH_REQS][FG_HTTP_HEAD_MAX_DEFAULT];
	char text[FG_BENCH_REQS][1024];
	uint32_t want[FG_BENCH_REQS];
	double compile_ms;
	size_t blob_len;
};

static struct fg_route_spec fg_bench_spec[FG_BENCH_ROUTES_MAX + 1];
static struct fg_route_header fg_bench_hdr[FG_BENCH_ROUTES_MAX];
static char fg_bench_host[FG_BENCH_ROUTES_MAX][32];
static char fg_bench_prefix[FG_BENCH_ROUTES_MAX][32];
static char fg_bench_regex[FG_BENCH_ROUTES_MAX][64];
static char fg_bench_hre[FG_BENCH_ROUTES_MAX][32];

/* Routes 0..n-1 of the shop set, plus the catch-all (id 0). */
static void fg_bench_routes(uint32_t n)
{
	uint32_t i;

	memset(fg_bench_spec, 0, sizeof(fg_bench_spec));
	for (i = 0; i < n; i++) {
		struct fg_route_spec *r = &fg_bench_spec[i];

		r->id = 1 + i;
		r->priority = 100 + (int32_t)(i % 7);
		snprintf(fg_bench_host[i], sizeof(fg_bench_host[i]),
			 i % 10 == 0 ? "*.s%u.example" : "s%u.example", i);
		r->host = fg_bench_host[i];
		if (i % 3 == 0) {
			snprintf(fg_bench_prefix[i], sizeof(fg_bench_prefix[i]),
				 "/api/v%u/", i % 4);
			r->path_prefix = fg_bench_prefix[i];
		}
		if (i % 4 == 0) {
			snprintf(fg_bench_regex[i], sizeof(fg_bench_regex[i]),
				 "^/(api/v[0-9]|seckill)/[0-9]+/(buy|view)$");
			r->path_regex = fg_bench_regex[i];
		}
		if (i % 5 == 0)
			r->method = "POST";
		if (i % 6 == 0) {
			snprintf(fg_bench_hre[i], sizeof(fg_bench_hre[i]),
				 "^t%u-[a-z]+$", i);
			fg_bench_hdr[i] = (struct fg_route_header){
				"X-Tenant", fg_bench_hre[i]};
			r->nheaders = 1;
			r->headers = &fg_bench_hdr[i];
		}
	}
	/* The catch-all under every shop. */
	fg_bench_spec[n].id = 0;
	fg_bench_spec[n].priority = 0;
}

/* A browser-like request that route i's conditions all hold for. */
static void fg_bench_request_for(char *out, size_t outlen, uint32_t i)
{
	static const char common[] =
		"User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:120.0) "
		"Gecko/20100101 Firefox/120.0\r\n"
		"Accept: text/html,application/xhtml+xml,*/*;q=0.8\r\n"
		"Cookie: session=3f2a9c41d0e8b7a6; cart=7\r\n";
	const struct fg_route_spec *r = &fg_bench_spec[i];
	char path[64], tenant[48];

	/* "/api/vK/1234/buy" holds for the prefix and the regex alike. */
	if (r->path_prefix)
		snprintf(path, sizeof(path), "%s1234%s", r->path_prefix,
			 r->path_regex ? "/buy" : "");
	else
		snprintf(path, sizeof(path), r->path_regex ?
			 "/seckill/1234/buy" : "/products?page=2");
	snprintf(tenant, sizeof(tenant), "X-Tenant: t%u-gold\r\n",
		 r->nheaders ? i : 1u);
	snprintf(out, outlen, "%s %s HTTP/1.1\r\nHost: %s%s\r\n%s%s%s"
		 "\r\n", r->method ? r->method : "GET", path,
		 r->host[0] == '*' ? "www" : "", r->host + (r->host[0] == '*'),
		 common, tenant, r->method ? "Content-Length: 0\r\n" : "");
}

/* The row's requests: routes near the end of its table. */
static void fg_bench_requests(struct fg_bench_row *row)
{
	uint32_t n = row->nroutes;
	uint32_t pick[3] = {
		n - 3,                 /* host alone */
		((n - 1) / 20) * 20,   /* wildcard, regex, POST (and more) */
		((n - 1) / 6) * 6,     /* with its X-Tenant header */
	};
	uint32_t k;

	for (k = 0; k < 3; k++) {
		fg_bench_request_for(row->text[k], sizeof(row->text[k]),
				     pick[k]);
		row->want[k] = 1 + pick[k];
	}
	/* A host no shop route names: the catch-all. */
	snprintf(row->text[3], sizeof(row->text[3]),
		 "GET /index.html HTTP/1.1\r\nHost: unknown.example\r\n"
		 "User-Agent: curl/8.5.0\r\nAccept: */*\r\n\r\n");
	row->want[3] = 0;
}

static int fg_bench_setup(struct fg_bench_row *row)
{
	char err[256];
	void *blob = NULL;
	size_t len = 0;
	uint64_t t0;
	uint32_t k, id;
	int rc;

	fg_bench_routes(row->nroutes);
	t0 = fg_bench_now_ns();
	rc = fg_route_compile(fg_bench_spec, row->nroutes + 1, &blob, &len,
			      err, sizeof(err));
	row->compile_ms = (double)(fg_bench_now_ns() - t0) / 1e6;
	if (rc) {
		fprintf(stderr, "bench_route: compile: %s\n", err);
		return -1;
	}
	row->blob_len = len;
	fg_http_conf_init(&row->conf);
	row->m = fg_route_load(blob, len, &row->conf, err, sizeof(err));
	free(blob);
	if (!row->m || !(row->s = fg_route_scratch_new(row->m, err,
						       sizeof(err)))) {
		fprintf(stderr, "bench_route: load: %s\n", err);
		return -1;
	}
	fg_bench_requests(row);
	for (k = 0; k < FG_BENCH_REQS; k++) {
		fg_http_init(&row->req[k], &row->conf, row->head[k]);
		rc = fg_http_feed(&row->req[k], row->text[k],
				  strlen(row->text[k]), NULL);
		id = UINT32_MAX;
		if (rc != FG_HTTP_COMPLETE ||
		    fg_route_match(row->m, row->s, &row->req[k], &id) < 0 ||
		    id != row->want[k]) {
			fprintf(stderr, "bench_route: routes_%u: request %u "
				"took route %d, not %u (reader %d)\n",
				row->nroutes, k, (int)id, row->want[k], rc);
			return -1;
		}
	}
	return 0;
}

/* iters requests, cycling through the mix. */
static uint64_t fg_bench_loop(void *ctx, uint64_t iters)
{
	struct fg_bench_row *row = ctx;
	uint64_t i, acc = 0;
	uint32_t id = 0;

	for (i = 0; i < iters; i++) {
		const struct fg_http_req *req = &row->req[i % FG_BENCH_REQS];

		FG_BENCH_HIDE(req);
		acc += (uint64_t)fg_route_match(row->m, row->s, req, &id) + id;
	}
	return acc;
}

/* ns per request (bench_loop.h). */
static int fg_bench_measure(struct fg_bench_row *row, double *ns)
{
	return fg_bench_time(fg_bench_loop, row, ns, NULL);
}

int main(void)
{
	static struct fg_bench_row rows[FG_BENCH_ROWS];
	static const uint32_t sizes[FG_BENCH_ROWS] = {10, 100, 1000};
	double ns[FG_BENCH_ROWS];
	unsigned int i;

	for (i = 0; i < FG_BENCH_ROWS; i++) {
		rows[i].nroutes = sizes[i];
		if (fg_bench_setup(&rows[i]))
			return 1;
	}
	for (i = 0; i < FG_BENCH_ROWS; i++) {
		if (fg_bench_measure(&rows[i], &ns[i])) {
			fprintf(stderr, "bench_route: routes_%u: could not be "
				"timed\n", rows[i].nroutes);
			return 1;
		}
		printf("bench=l7 case=routes_%u value=%.1f unit=ns floor=0\n",
		       rows[i].nroutes, ns[i]);
		fflush(stdout);
	}
	printf("\n%-12s %10s %14s %12s %12s\n", "case", "ns/req",
	       "req/s/core", "compile_ms", "blob_bytes");
	for (i = 0; i < FG_BENCH_ROWS; i++) {
		char name[32];

		snprintf(name, sizeof(name), "routes_%u", rows[i].nroutes);
		printf("%-12s %10.1f %14.0f %12.1f %12zu\n", name, ns[i],
		       1e9 / ns[i], rows[i].compile_ms, rows[i].blob_len);
	}
	for (i = 0; i < FG_BENCH_ROWS; i++) {
		fg_route_scratch_free(rows[i].s);
		fg_route_matcher_free(rows[i].m);
	}
	return 0;
}
