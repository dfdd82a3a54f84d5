/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * bench_l7_compile.c - the L7 compiler (fg_l7_compile.h) on the control
 * side: how long a version of 10, 100, 1,000 and 10,000 routes (plus
 * seckill rules for 8 lcores) takes to compile, how big its blob is, how
 * long one lcore takes to load it, and what a request costs routed
 * through the loaded tables (fg_l7_route: section lookup + fg_route_match).
 *
 * Medians of RUNS compiles; the machine is shared, so the figures are for
 * comparing rows of one run. Prints one `bench=l7 case=... value=...
 * unit=... floor=0` line per row, then a table. Exits 1 when a compile,
 * a load or a routed request does not give what it must.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fg_l7_compile.h"
#include "fg_rules.h"

#define RUNS      5u
#define REQS      200000u
#define LCORES    8u
#define NSECKILL  16u

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

static uint64_t median(uint64_t *v, unsigned int n)
{
	qsort(v, n, sizeof(*v), cmp_u64);
	return v[n / 2];
}

/* A batch relation for the rules with stock: one second of the share. */
static uint64_t batch_1s(uint64_t rate_milli, uint32_t ms, uint64_t max,
			 uint64_t stock)
{
	uint64_t b = rate_milli / 1000;

	(void)ms;
	(void)max;
	return b < 1 ? 1 : b > stock ? stock : b;
}

/* n routes over n/10 hosts of service "shop" (exact and wildcard hosts,
 * prefixes, regexes, a header), and NSECKILL seckill rules. */
static void build(struct fg_ruleset *rs, unsigned int n)
{
	unsigned int i;

	memset(rs, 0, sizeof(*rs));
	rs->services = calloc(1, sizeof(*rs->services));
	rs->routes = calloc(n, sizeof(*rs->routes));
	rs->seckill = calloc(NSECKILL, sizeof(*rs->seckill));
	if (!rs->services || !rs->routes || !rs->seckill) {
		fprintf(stderr, "bench_l7_compile: out of memory\n");
		exit(1);
	}
	rs->nservices = 1;
	strcpy(rs->services[0].name, "shop");
	rs->services[0].mode = FG_MODE_L7;
	for (i = 0; i < n; i++) {
		struct fg_rule_route *r = &rs->routes[rs->nroutes++];
		char buf[64];

		snprintf(r->name, sizeof(r->name), "r%05u", i);
		strcpy(r->service, "shop");
		r->priority = i % 7;
		snprintf(r->match.host, sizeof(r->match.host), "%sh%u.example",
			 i % 10 == 1 ? "*." : "", i / 10);
		if (i % 3) {
			snprintf(buf, sizeof(buf), "/api/%u/", i % 50);
			r->match.path_prefix = strdup(buf);
		}
		if (i % 3 == 2) {
			snprintf(buf, sizeof(buf), "^/api/%u/v[12]/", i % 50);
			r->match.path_regex = strdup(buf);
		}
		if (i % 10 == 9) {
			r->match.nheaders = 1;
			strcpy(r->match.headers[0].name, "X-Tenant");
			snprintf(buf, sizeof(buf), "^t%u-", i % 20);
			r->match.headers[0].regex = strdup(buf);
		}
	}
	for (i = 0; i < NSECKILL; i++) {
		struct fg_rule_seckill *sk = &rs->seckill[rs->nseckill++];
		char buf[64];

		snprintf(sk->name, sizeof(sk->name), "sale%02u", i);
		strcpy(sk->service, "shop");
		snprintf(buf, sizeof(buf), "^/seckill/%u/[0-9]+/buy$", i);
		sk->match.path_regex = strdup(buf);
		strcpy(sk->match.method, "POST");
		sk->item_from = FG_ITEM_FROM_SEGMENT;
		sk->item_segment = 3;
		sk->rate = 500;
		sk->burst = 100;
		sk->has_stock = true;
		sk->stock = 1000;
		sk->respond.status = 429;
		sk->respond.retry_after = 1;
		sk->sold_out.status = 410;
		sk->sold_out.retry_after = -1;
	}
}

int main(void)
{
	static const unsigned int sizes[] = {10, 100, 1000, 10000};
	struct {
		unsigned int n;
		double compile_ms, load_ms, ns;
		size_t blob;
	} row[4];
	struct fg_l7_layout lay = {
		.lcores = LCORES, .nodes = 1, .batch = batch_1s,
	};
	char err[1024], req[256], head[FG_HTTP_HEAD_MAX_DEFAULT];
	unsigned int k, r, q;
	int fails = 0;

	for (k = 0; k < 4; k++) {
		uint64_t tc[RUNS], tl[RUNS], t0;
		struct fg_l7_tables *t = NULL;
		struct fg_l7_matcher *m = NULL;
		struct fg_l7_scratch *s;
		struct fg_http_conf conf;
		struct fg_http_req hr;
		struct fg_ruleset rs;
		unsigned int want, hit = 0;

		build(&rs, sizes[k]);
		row[k].n = sizes[k];
		for (r = 0; r < RUNS; r++) {
			fg_l7_tables_free(t);
			t0 = now_ns();
			if (fg_l7_compile(&rs, &lay, NULL, 1, &t, err,
					  sizeof(err))) {
				fprintf(stderr, "bench_l7_compile: %s\n", err);
				return 1;
			}
			tc[r] = now_ns() - t0;
			fg_l7_matcher_free(m);
			conf = t->http;
			t0 = now_ns();
			m = fg_l7_matcher_load(t->blob, t->blob_len, t->nsvcs,
					       &conf, err, sizeof(err));
			tl[r] = now_ns() - t0;
			if (!m) {
				fprintf(stderr, "bench_l7_compile: load: %s\n",
					err);
				return 1;
			}
		}
		row[k].compile_ms = median(tc, RUNS) / 1e6;
		row[k].load_ms = median(tl, RUNS) / 1e6;
		row[k].blob = t->blob_len;

		/* Route a request for the last host's exact route. */
		want = sizes[k] - 1 - (sizes[k] - 1) % 10;  /* rNNNN0 */
		s = fg_l7_scratch_new(m, err, sizeof(err));
		if (!s) {
			fprintf(stderr, "bench_l7_compile: scratch: %s\n", err);
			return 1;
		}
		snprintf(req, sizeof(req),
			 "GET /api/%u/v1/x HTTP/1.1\r\nHost: h%u.example\r\n\r\n",
			 want % 50, want / 10);
		fg_http_init(&hr, &conf, head);
		if (fg_http_feed(&hr, req, strlen(req), NULL) !=
		    FG_HTTP_COMPLETE) {
			fprintf(stderr, "bench_l7_compile: request refused\n");
			return 1;
		}
		t0 = now_ns();
		for (q = 0; q < REQS; q++) {
			int idx = fg_l7_route(m, s, 0, &hr);

			hit += idx >= 0 && t->routes[idx].svc == 0;
		}
		row[k].ns = (double)(now_ns() - t0) / REQS;
		if (hit != REQS) {
			fprintf(stderr, "bench_l7_compile: routes_%u: %u of %u "
				"requests routed\n", sizes[k], hit, REQS);
			fails++;
		}
		fg_l7_scratch_free(s);
		fg_l7_matcher_free(m);
		fg_l7_tables_free(t);
		fg_ruleset_free(&rs);
	}
	for (k = 0; k < 4; k++) {
		printf("bench=l7 case=compile_routes_%u value=%.1f unit=ms floor=0\n",
		       row[k].n, row[k].compile_ms);
		printf("bench=l7 case=blob_routes_%u value=%zu unit=bytes floor=0\n",
		       row[k].n, row[k].blob);
		printf("bench=l7 case=load_routes_%u value=%.2f unit=ms floor=0\n",
		       row[k].n, row[k].load_ms);
		printf("bench=l7 case=routed_tables_%u value=%.1f unit=ns floor=0\n",
		       row[k].n, row[k].ns);
	}
	printf("\n%-8s %12s %12s %12s %12s   (%u seckill rules x %u lcores)\n",
	       "routes", "compile ms", "blob bytes", "load ms", "ns/req",
	       NSECKILL, LCORES);
	for (k = 0; k < 4; k++)
		printf("%-8u %12.1f %12zu %12.2f %12.1f\n", row[k].n,
		       row[k].compile_ms, row[k].blob, row[k].load_ms,
		       row[k].ns);
	return fails ? 1 : 0;
}
