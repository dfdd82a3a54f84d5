/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * l7_fixture.c - rule sets for the L7 compiler and engine tests
 * (l7_fixture.h).
 */
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

#include "fg_stock.h"
#include "l7_fixture.h"

_Static_assert(offsetof(struct fg_rule_route, service) == FG_NAME_MAX &&
	       offsetof(struct fg_rule_seckill, service) == FG_NAME_MAX &&
	       offsetof(struct fg_rule_limit, service) == FG_NAME_MAX,
	       "rules start with name and service (rule_add)");

char err[1024];

const struct fg_hash_seed seed = {
	0x0123456789abcdefULL, 0xfedcba9876543210ULL,
	{0x1111111111111111ULL, 0x2222222222222222ULL,
	 0x3333333333333333ULL, 0x4444444444444444ULL},
};

char *xstrdup(const char *s)
{
	char *p = s ? strdup(s) : NULL;

	if (s)
		assert_non_null(p);
	return p;
}

/* A rule set with l7 services "shop" and "api" and l4 service "plain". */
struct fg_ruleset *rs_new(void)
{
	static const char *const names[] = {"shop", "api", "plain"};
	struct fg_ruleset *rs = calloc(1, sizeof(*rs));
	uint32_t i;

	assert_non_null(rs);
	rs->services = calloc(3, sizeof(*rs->services));
	assert_non_null(rs->services);
	rs->nservices = 3;
	for (i = 0; i < 3; i++) {
		strcpy(rs->services[i].name, names[i]);
		rs->services[i].mode = i < 2 ? FG_MODE_L7 : FG_MODE_L4;
		rs->services[i].port = 80;
		rs->services[i].proto = 6;
	}
	return rs;
}

void rs_free(struct fg_ruleset *rs)
{
	fg_ruleset_free(rs);
	free(rs);
}

/* A zeroed new last element of the rule array *arr (n elements of size
 * bytes), its name and service set: every rule kind starts with them. */
struct rule_head {
	char name[FG_NAME_MAX];
	char service[FG_NAME_MAX];
};

static void *rule_add(void *arr, uint32_t *n, size_t size, const char *name,
		      const char *svc)
{
	void **a = arr;
	struct rule_head *h;

	*a = realloc(*a, (*n + 1) * size);
	assert_non_null(*a);
	h = (struct rule_head *)((char *)*a + (size_t)(*n)++ * size);
	memset(h, 0, size);
	snprintf(h->name, sizeof(h->name), "%s", name);
	snprintf(h->service, sizeof(h->service), "%s", svc);
	return h;
}

struct fg_rule_route *add_route(struct fg_ruleset *rs, const char *name,
				const char *svc, uint32_t prio,
				const char *host, const char *prefix,
				const char *regex)
{
	struct fg_rule_route *r = rule_add(&rs->routes, &rs->nroutes,
					   sizeof(*r), name, svc);

	r->priority = prio;
	if (host)
		snprintf(r->match.host, sizeof(r->match.host), "%s", host);
	r->match.path_prefix = xstrdup(prefix);
	r->match.path_regex = xstrdup(regex);
	return r;
}

const struct fg_rule_respond busy = {
	.status = 429, .retry_after = 1,
	.content_type = "application/json", .body_len = 7, .body = "{\"e\":1}",
};

struct fg_rule_seckill *add_seckill(struct fg_ruleset *rs,
				    const char *name, const char *svc,
				    uint64_t rate, uint64_t burst)
{
	struct fg_rule_seckill *sk = rule_add(&rs->seckill, &rs->nseckill,
					      sizeof(*sk), name, svc);

	sk->rate = rate;
	sk->burst = burst;
	sk->item_from = FG_ITEM_FROM_SEGMENT;
	sk->item_segment = 2;
	sk->max_items = 64;
	sk->respond = busy;
	sk->sold_out.status = 410;
	sk->sold_out.retry_after = -1;
	return sk;
}

struct fg_rule_limit *add_limit(struct fg_ruleset *rs, const char *name,
				const char *svc, uint64_t rate,
				uint64_t burst, bool cluster)
{
	struct fg_rule_limit *l = rule_add(&rs->limits, &rs->nlimits,
					   sizeof(*l), name, svc);

	l->key = FG_LKEY_SRC_IP;
	l->unit = FG_LUNIT_RPS;
	l->rate = rate;
	l->burst = burst;
	l->action = FG_LACT_RESPOND;
	l->cluster_scope = cluster;
	l->respond = busy;
	return l;
}

struct fg_l7_layout layout(uint32_t lcores, uint32_t nodes,
			   uint32_t node_index)
{
	struct fg_l7_layout lay = {
		.lcores = lcores, .nodes = nodes, .node_index = node_index,
		.batch = fg_stock_batch,
	};

	return lay;
}

struct fg_l7_tables *compile_ok(const struct fg_ruleset *rs,
				const struct fg_l7_layout *lay,
				const struct fg_l7_tables *prev)
{
	struct fg_l7_tables *t = NULL;
	int rc;

	err[0] = '\0';
	rc = fg_l7_compile(rs, lay, prev, 7, &t, err, sizeof(err));
	if (rc)
		fail_msg("compile: %d %s", rc, err);
	assert_non_null(t);
	return t;
}

/* Compile must fail with rc and a message holding want. */
void compile_bad(const struct fg_ruleset *rs,
		 const struct fg_l7_layout *lay, int rc, const char *want)
{
	struct fg_l7_tables *t = (void *)1;
	int got;

	err[0] = '\0';
	got = fg_l7_compile(rs, lay, NULL, 1, &t, err, sizeof(err));
	if (got != rc || !strstr(err, want))
		fail_msg("want %d \"%s\", got %d \"%s\"", rc, want, got, err);
	assert_null(t);
}

int seckill_index(const struct fg_l7_tables *t, const char *name)
{
	uint32_t i;

	for (i = 0; i < t->nseckill; i++)
		if (!strcmp(t->seckill[i].name, name))
			return (int)i;
	fail_msg("no seckill %s", name);
	return -1;
}

int route_index(const struct fg_l7_tables *t, const char *name)
{
	uint32_t i;

	for (i = 0; i < t->nroutes; i++)
		if (!strcmp(t->routes[i].name, name))
			return (int)i;
	return -1;
}


/* Append backend 198.19.0.<host>:port (0: the service's) to r. */
void add_backend(struct fg_rule_route *r, int host, uint16_t port,
		 uint16_t weight, enum fg_backend_state st)
{
	struct fg_rule_backend *b;

	r->backends = realloc(r->backends,
			      (r->nbackends + 1) * sizeof(*r->backends));
	assert_non_null(r->backends);
	b = &r->backends[r->nbackends++];
	memset(b, 0, sizeof(*b));
	b->addr.family = AF_INET;
	b->addr.a4.s_addr = htonl(0xc6130000u | (uint32_t)host);
	b->port = port;
	b->weight = weight;
	b->state = st;
}

/* The host byte of backend index be of t. */
int be_host(const struct fg_l7_tables *t, int be)
{
	assert_true(be >= 0 && (uint32_t)be < t->nbackends);
	return (int)(ntohl(t->backends[be].addr.a4.s_addr) & 0xff);
}

/* A 64-bit hash of i, spread (splitmix64). */
uint64_t mix(uint64_t i)
{
	uint64_t h = i + 0x9e3779b97f4a7c15ULL;

	h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ULL;
	h = (h ^ (h >> 27)) * 0x94d049bb133111ebULL;
	return h ^ (h >> 31);
}
