/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * test_compile.c - the rule compiler: stable ids, ring slices apart from
 * the active generation's, weights, drain/down semantics, -ENOSPC, limit
 * profiles and lists, limit binding by service name, validation that
 * leaves the compiler untouched, commit staleness and re-adoption.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fg_compile.h"
#include "fg_maglev.h"
#include "fg_parse.h"
#include "fg_tbucket.h"

/* The ring size of the small services most tests build. */
#define M_DEF FG_RING_SIZE_MIN

/* ---------------------------------------------------------------------
 * Rule-set builders
 */

static struct fg_addr addr4(const char *s)
{
	struct fg_addr a;

	memset(&a, 0, sizeof(a));
	a.family = AF_INET;
	assert_int_equal(inet_pton(AF_INET, s, &a.a4), 1);
	return a;
}

static struct fg_addr addr6(const char *s)
{
	struct fg_addr a;

	memset(&a, 0, sizeof(a));
	a.family = AF_INET6;
	assert_int_equal(inet_pton(AF_INET6, s, &a.a6), 1);
	return a;
}

/* Adds a service with n (< 4000) backends 198.19.<16 i + j / 250>.<1 + j %
 * 250>:8080, weight 100; i is the service's index. */
static struct fg_rule_service *add_svc(struct fg_ruleset *rs, const char *name,
				       const char *vip, uint16_t port,
				       uint32_t n)
{
	struct fg_rule_service *s;
	uint32_t j;

	rs->services = realloc(rs->services,
			       (rs->nservices + 1) * sizeof(*rs->services));
	assert_non_null(rs->services);
	s = &rs->services[rs->nservices];
	memset(s, 0, sizeof(*s));
	snprintf(s->name, sizeof(s->name), "%s", name);
	s->vip = addr4(vip);
	s->port = port;
	s->proto = IPPROTO_TCP;
	s->nbackends = n;
	s->backends = calloc(n ? n : 1, sizeof(*s->backends));
	assert_non_null(s->backends);
	for (j = 0; j < n; j++) {
		struct fg_rule_backend *b = &s->backends[j];
		char buf[32];

		snprintf(buf, sizeof(buf), "198.19.%u.%u",
			 rs->nservices * 16 + j / 250, j % 250 + 1);
		b->addr = addr4(buf);
		b->port = 8080;
		b->weight = 100;
	}
	rs->nservices++;
	return s;
}

static struct fg_rule_limit *add_limit(struct fg_ruleset *rs,
				       const char *name, const char *svc)
{
	struct fg_rule_limit *l;

	rs->limits = realloc(rs->limits, (rs->nlimits + 1) * sizeof(*rs->limits));
	assert_non_null(rs->limits);
	l = &rs->limits[rs->nlimits++];
	memset(l, 0, sizeof(*l));
	snprintf(l->name, sizeof(l->name), "%s", name);
	snprintf(l->service, sizeof(l->service), "%s", svc);
	l->key = FG_LKEY_SRC_IP;
	l->unit = FG_LUNIT_PPS;
	l->rate = 1000;
	l->burst = 2000;
	return l;
}

static struct fg_compiler *new_compiler(uint32_t ring_slots,
					uint32_t backend_max)
{
	struct fg_compile_opts o = { .ring_slots = ring_slots,
				     .backend_max = backend_max };
	struct fg_compiler *c = fg_compiler_new(&o);

	assert_non_null(c);
	return c;
}

/* Compile, "switch", commit; returns the compiled images (caller frees). */
static struct fg_compiled *apply(struct fg_compiler *c,
				 const struct fg_ruleset *rs, uint64_t v)
{
	struct fg_compiled *cp = NULL;
	char err[256] = "";
	int ret;

	ret = fg_compile(c, rs, v, &cp, err, sizeof(err));
	if (ret)
		fail_msg("compile: %d %s", ret, err);
	assert_non_null(cp);
	assert_int_equal(fg_compiler_commit(c, cp), 0);
	return cp;
}

static const struct fg_compiled_svc *find_csvc(const struct fg_compiled *cp,
					       const char *name)
{
	uint32_t i;

	for (i = 0; i < cp->nsvcs; i++)
		if (!strcmp(cp->svcs[i].name, name))
			return &cp->svcs[i];
	fail_msg("service %s not compiled", name);
	return NULL;
}

static const struct fg_backend *find_cbe(const struct fg_compiled *cp,
					 uint32_t id)
{
	uint32_t i;

	for (i = 0; i < cp->nbackends; i++)
		if (cp->backends[i].id == id)
			return &cp->backends[i].val;
	fail_msg("backend %u not compiled", id);
	return NULL;
}

static int be_id(const struct fg_compiler *c, const char *svc,
		 const struct fg_rule_backend *b)
{
	return fg_compiler_backend_id(c, svc, &b->addr, b->port);
}

static int id_in(const struct fg_id_list *l, uint32_t id)
{
	uint32_t i;

	for (i = 0; i < l->n; i++)
		if (l->ids[i] == id)
			return 1;
	return 0;
}

/* Slots of `ring` (m entries) holding backend id `id`. */
static uint32_t slots_of(const uint32_t *ring, uint32_t m, uint32_t id)
{
	uint32_t i, n = 0;

	for (i = 0; i < m; i++)
		n += ring[i] == id;
	return n;
}

static int overlaps(const struct fg_svc *a, const struct fg_svc *b)
{
	if (!a->ring_size || !b->ring_size)
		return 0;
	return a->ring_off < b->ring_off + b->ring_size &&
	       b->ring_off < a->ring_off + a->ring_size;
}

/* ---------------------------------------------------------------------
 * Small pieces
 */

static void test_ring_size(void **state)
{
	(void)state;
	assert_int_equal(fg_ring_size_for(0), FG_RING_SIZE_MIN);
	assert_int_equal(fg_ring_size_for(10), FG_RING_SIZE_MIN);
	/* 100 * 11 = 1100; the next prime is 1103. */
	assert_int_equal(fg_ring_size_for(11), 1103);
	/* 100 * 655 = 65500; the next prime is 65519. */
	assert_int_equal(fg_ring_size_for(655), 65519);
	/* 100 * 1000 = 100000; the next prime is 100003. */
	assert_int_equal(fg_ring_size_for(1000), 100003);
	assert_true(fg_maglev_is_prime(fg_ring_size_for(4096)));
	assert_true(fg_ring_size_for(4096) >= 409600);
	assert_true(fg_ring_size_for(4096) <= FG_MAGLEV_M_MAX);
}

static void test_backend_ident(void **state)
{
	struct fg_addr a = addr4("198.19.0.1"), b = addr4("198.19.0.2");
	struct fg_addr m6 = addr6("::ffff:198.19.0.1");
	struct fg_addr z6 = addr6("::c613:1"); /* same low 4 bytes as a */

	(void)state;
	assert_true(fg_backend_ident(&a, 80) == fg_backend_ident(&a, 80));
	assert_true(fg_backend_ident(&a, 80) != fg_backend_ident(&a, 81));
	assert_true(fg_backend_ident(&a, 80) != fg_backend_ident(&b, 80));
	assert_true(fg_backend_ident(&a, 80) != fg_backend_ident(&m6, 80));
	assert_true(fg_backend_ident(&a, 80) != fg_backend_ident(&z6, 80));
	/* The port must reach the high bits too (the finaliser's job):
	 * neighbouring ports differ in many of the top 32 bits. */
	assert_true(__builtin_popcountll((fg_backend_ident(&a, 80) ^
					  fg_backend_ident(&a, 81)) >> 32) > 4);
}

static void test_ruleset_free(void **state)
{
	struct fg_ruleset rs = { 0 };

	(void)state;
	add_svc(&rs, "web", "198.18.0.10", 80, 3);
	add_limit(&rs, "l1", "web");
	rs.version = 7;
	fg_ruleset_free(&rs);
	assert_null(rs.services);
	assert_null(rs.limits);
	assert_int_equal(rs.nservices, 0);
	assert_int_equal(rs.nlimits, 0);
	assert_int_equal(rs.version, 0);
	fg_ruleset_free(&rs); /* twice is harmless */
	fg_ruleset_free(NULL);
}

static void test_new_rejects_oversize(void **state)
{
	struct fg_compile_opts o = { .backend_max = FG_BACKEND_MAX + 1 };
	struct fg_compile_opts l = { .limit_max = FG_LIMIT_MAX + 1 };

	(void)state;
	assert_null(fg_compiler_new(&o));
	assert_null(fg_compiler_new(&l));
	fg_compiler_free(NULL);
	fg_compiled_free(NULL);
}

/* ---------------------------------------------------------------------
 * Images
 */

static void test_first_compile_images(void **state)
{
	struct fg_compiler *c = new_compiler(0, 0);
	struct fg_ruleset rs = { 0 };
	struct fg_rule_service *s;
	const struct fg_compiled_svc *cs;
	struct fg_compiled *cp;
	struct fg_addr vip6 = addr6("2001:db8::10");
	uint32_t i;

	(void)state;
	s = add_svc(&rs, "web", "198.18.0.10", 80, 3);
	s->forward = FG_FWD_DSR_GUE;
	s->hash = FG_HASH_SRC_IP;
	s = add_svc(&rs, "dns", "198.18.0.11", 53, 2);
	s->proto = IPPROTO_UDP;
	s->vip = vip6;
	s->forward = FG_FWD_DSR_IPIP;
	rs.services[1].backends[0].addr = addr6("2001:db8:1::1");

	cp = apply(c, &rs, 5);
	/* Fresh compiler: generation 0 is active (empty), 1 is written. */
	assert_int_equal(cp->gen, 1);
	assert_int_equal(cp->prev_gen, 0);
	assert_int_equal(cp->config.gen, 1);
	assert_int_equal(cp->config.version, 5);
	assert_int_equal(cp->config.nglobal_limits, 0);
	/* No port-0 service: the dataplane may skip the wildcard lookup. */
	assert_int_equal(cp->config.flags & FG_CFG_F_WILDCARD, 0);
	for (i = 0; i < FG_GLOBAL_LIMITS_MAX; i++)
		assert_int_equal(cp->config.global_limits[i], FG_NO_LIMIT);
	assert_int_equal(fg_compiler_gen(c), 1);
	assert_int_equal(fg_compiler_version(c), 5);
	assert_int_equal(cp->nstale_keys, 0);
	assert_int_equal(cp->fresh_svcs.n, 2);
	assert_int_equal(cp->fresh_backends.n, 5);

	cs = find_csvc(cp, "web");
	assert_int_equal(cs->key.family, FG_AF_INET);
	assert_int_equal(cs->key.vip[0], inet_addr("198.18.0.10"));
	assert_int_equal(cs->key.vip[1] | cs->key.vip[2] | cs->key.vip[3], 0);
	assert_int_equal(cs->key.port, htons(80));
	assert_int_equal(cs->key.proto, IPPROTO_TCP);
	assert_int_equal(cs->key.gen, 1);
	assert_int_equal(cs->val.forward, FG_FWD_DSR_GUE);
	assert_int_equal(cs->val.hash, FG_HASH_SRC_IP);
	assert_int_equal(cs->val.gue_port, 0); /* the dataplane's default */
	assert_int_equal(cs->val.ring_size, M_DEF);
	assert_int_equal(cs->val.id, fg_compiler_service_id(c, "web"));
	assert_non_null(cs->ring);
	for (i = 0; i < cs->val.ring_size; i++) {
		const struct fg_backend *b = find_cbe(cp, cs->ring[i]);

		assert_int_equal(b->svc_id, cs->val.id);
	}

	cs = find_csvc(cp, "dns");
	assert_int_equal(cs->key.family, FG_AF_INET6);
	assert_memory_equal(cs->key.vip, &vip6.a6, 16);
	assert_int_equal(cs->key.proto, IPPROTO_UDP);
	assert_int_equal(cs->val.gue_port, 0);
	{
		int id = be_id(c, "dns", &rs.services[1].backends[0]);
		const struct fg_backend *b;

		assert_true(id >= 0);
		b = find_cbe(cp, (uint32_t)id);
		assert_int_equal(b->family, FG_AF_INET6);
		assert_int_equal(b->port, htons(8080));
		assert_int_equal(b->flags, FG_BE_F_VALID);
	}
	assert_false(overlaps(&cp->svcs[0].val, &cp->svcs[1].val));
	fg_compiled_free(cp);
	fg_ruleset_free(&rs);
	fg_compiler_free(c);
}

/* A port-0 service sets the config's wildcard flag, and only then. */
static void test_wildcard_flag(void **state)
{
	struct fg_compiler *c = new_compiler(0, 0);
	struct fg_ruleset rs = { 0 };
	struct fg_compiled *cp;

	(void)state;
	add_svc(&rs, "web", "198.18.0.10", 80, 2);
	cp = apply(c, &rs, 1);
	assert_int_equal(cp->config.flags & FG_CFG_F_WILDCARD, 0);
	fg_compiled_free(cp);
	add_svc(&rs, "any", "198.18.0.11", 0, 2);
	cp = apply(c, &rs, 2);
	assert_int_equal(cp->config.flags & FG_CFG_F_WILDCARD, FG_CFG_F_WILDCARD);
	fg_compiled_free(cp);
	fg_ruleset_free(&rs);
	fg_compiler_free(c);
}

static void test_gue_port(void **state)
{
	struct fg_compile_opts o = { .gue_port = 7777 };
	struct fg_compiler *c = fg_compiler_new(&o);
	struct fg_ruleset rs = { 0 };
	struct fg_compiled *cp;

	(void)state;
	assert_non_null(c);
	add_svc(&rs, "gue", "198.18.0.10", 80, 1)->forward = FG_FWD_DSR_GUE;
	add_svc(&rs, "ipip", "198.18.0.11", 80, 1);
	cp = apply(c, &rs, 1);
	assert_int_equal(find_csvc(cp, "gue")->val.gue_port, htons(7777));
	assert_int_equal(find_csvc(cp, "ipip")->val.gue_port, 0);
	fg_compiled_free(cp);
	fg_ruleset_free(&rs);
	fg_compiler_free(c);
}

static void test_ids_stable(void **state)
{
	struct fg_compiler *c = new_compiler(0, 0);
	struct fg_ruleset a = { 0 }, b = { 0 };
	struct fg_compiled *cp1, *cp2;
	int web, api, web_be1, api_be0, gone_be;
	struct fg_rule_service *s;

	(void)state;
	add_svc(&a, "web", "198.18.0.10", 80, 3);
	add_svc(&a, "api", "198.18.0.12", 443, 2);
	cp1 = apply(c, &a, 1);
	web = fg_compiler_service_id(c, "web");
	api = fg_compiler_service_id(c, "api");
	web_be1 = be_id(c, "web", &a.services[0].backends[1]);
	gone_be = be_id(c, "web", &a.services[0].backends[2]);
	api_be0 = be_id(c, "api", &a.services[1].backends[0]);
	assert_true(web >= 0 && api >= 0 && web != api);
	assert_true(web_be1 >= 0 && api_be0 >= 0 && gone_be >= 0);
	assert_string_equal(fg_compiler_service_name(c, (uint32_t)web), "web");

	/* Reordered, a service added, a backend replaced, the VIP of api
	 * moved: names keep ids, (service, addr, port) keeps backend ids. */
	s = add_svc(&b, "new", "198.18.0.13", 80, 1);
	s = add_svc(&b, "api", "198.18.0.20", 443, 2);
	memcpy(s->backends, a.services[1].backends, 2 * sizeof(*s->backends));
	s = add_svc(&b, "web", "198.18.0.10", 80, 3);
	memcpy(s->backends, a.services[0].backends, 2 * sizeof(*s->backends));
	s->backends[2].addr = addr4("198.19.9.9");
	cp2 = apply(c, &b, 2);

	assert_int_equal(fg_compiler_service_id(c, "web"), web);
	assert_int_equal(fg_compiler_service_id(c, "api"), api);
	assert_int_not_equal(fg_compiler_service_id(c, "new"), web);
	assert_int_not_equal(fg_compiler_service_id(c, "new"), api);
	assert_int_equal(be_id(c, "web", &b.services[2].backends[1]), web_be1);
	assert_int_equal(be_id(c, "api", &b.services[1].backends[0]), api_be0);
	/* The replacement did not take the id the active generation still
	 * used, and the replaced backend is retired, its id gone. */
	assert_int_not_equal(be_id(c, "web", &b.services[2].backends[2]),
			     gone_be);
	assert_int_equal(be_id(c, "web", &a.services[0].backends[2]), -ENOENT);
	assert_true(id_in(&cp2->retired_backends, (uint32_t)gone_be));
	assert_int_equal(cp2->retired_backends.n, 1);
	assert_true(id_in(&cp2->fresh_svcs,
			  (uint32_t)fg_compiler_service_id(c, "new")));
	assert_int_equal(cp2->fresh_svcs.n, 1);
	assert_int_equal(cp2->fresh_backends.n, 2); /* new's one + web's */
	/* Same backend address and port under another service (new's only
	 * backend is web's first): another id, owned by that service. */
	assert_memory_equal(&b.services[0].backends[0].addr,
			    &b.services[2].backends[0].addr,
			    sizeof(struct fg_addr));
	assert_int_not_equal(be_id(c, "new", &b.services[0].backends[0]),
			     be_id(c, "web", &b.services[2].backends[0]));
	assert_int_equal(find_cbe(cp2, (uint32_t)be_id(c, "new",
			 &b.services[0].backends[0]))->svc_id,
			 fg_compiler_service_id(c, "new"));
	/* Clean-up list: the previous generation's keys, old VIP included. */
	assert_int_equal(cp2->nstale_keys, 2);
	assert_int_equal(cp2->stale_keys[0].gen, 1);
	assert_int_equal(cp2->gen, 0);
	assert_int_equal(find_csvc(cp2, "api")->key.vip[0],
			 inet_addr("198.18.0.20"));

	fg_compiled_free(cp1);
	fg_compiled_free(cp2);
	fg_ruleset_free(&a);
	fg_ruleset_free(&b);
	fg_compiler_free(c);
}

/* A freed id waits behind every other free id before it comes back. */
/* Backend ids follow (service, addr, port) whatever the order in the
 * rule set, and each compiled entry carries its own backend's address:
 * a reordered list, then the same list again (the unchanged case, taken
 * without a look-up per backend), then one backend replaced. */
static void test_backend_ids_follow_order(void **state)
{
	struct fg_compiler *c = new_compiler(0, 0);
	struct fg_ruleset rs = { 0 };
	struct fg_rule_service *s;
	struct fg_rule_backend t;
	struct fg_compiled *cp;
	int id[4], v, j, k;

	(void)state;
	add_svc(&rs, "web", "198.18.0.10", 80, 4);
	add_svc(&rs, "api", "198.18.0.11", 80, 2);
	s = &rs.services[0];
	fg_compiled_free(apply(c, &rs, 1));
	for (j = 0; j < 4; j++)
		id[j] = be_id(c, "web", &s->backends[j]);
	for (v = 2; v <= 4; v++) {
		for (j = 0; v == 2 && j < 2; j++) { /* reversed */
			t = s->backends[j];
			s->backends[j] = s->backends[3 - j];
			s->backends[3 - j] = t;
			k = id[j];
			id[j] = id[3 - j];
			id[3 - j] = k;
		}
		if (v == 4) /* the second one replaced */
			s->backends[1].addr = addr4("198.19.9.9");
		cp = apply(c, &rs, (uint64_t)v);
		for (j = 0; j < 4; j++) {
			int now = be_id(c, "web", &s->backends[j]);
			const struct fg_backend *b = find_cbe(cp, (uint32_t)now);

			assert_non_null(b);
			assert_memory_equal(&b->addr[0], &s->backends[j].addr.a4, 4);
			if (v == 4 && j == 1)
				assert_int_not_equal(now, id[1]);
			else
				assert_int_equal(now, id[j]);
		}
		fg_compiled_free(cp);
	}
	fg_ruleset_free(&rs);
	fg_compiler_free(c);
}

static void test_backend_id_not_reused(void **state)
{
	struct fg_compiler *c = new_compiler(0, 4);
	struct fg_ruleset rs = { 0 };
	struct fg_compiled *cp = NULL;
	char err[256];
	int first[3], i, k;

	(void)state;
	add_svc(&rs, "web", "198.18.0.10", 80, 3);
	fg_compiled_free(apply(c, &rs, 1));
	for (i = 0; i < 3; i++)
		first[i] = be_id(c, "web", &rs.services[0].backends[i]);

	/* Three new backends while three ids are held: only one is free. */
	for (i = 0; i < 3; i++)
		rs.services[0].backends[i].port = 9000;
	assert_int_equal(fg_compile(c, &rs, 2, &cp, err, sizeof(err)),
			 -ENOSPC);
	assert_null(cp);
	assert_non_null(strstr(err, "backend id"));
	assert_int_equal(be_id(c, "web", &rs.services[0].backends[0]), -ENOENT);

	/* One replaced at a time: each new one takes the id never used
	 * before, or the one retired longest ago; never one just retired. */
	for (i = 0; i < 3; i++)
		rs.services[0].backends[i].port = 8080;
	for (k = 0; k < 6; k++) {
		struct fg_compiled *cq;
		int old = be_id(c, "web", &rs.services[0].backends[0]), now;

		rs.services[0].backends[0].port = (uint16_t)(7000 + k);
		cq = apply(c, &rs, (uint64_t)(3 + k));
		now = be_id(c, "web", &rs.services[0].backends[0]);
		assert_int_not_equal(now, old);
		assert_int_not_equal(now, first[1]);
		assert_int_not_equal(now, first[2]);
		assert_true(id_in(&cq->retired_backends, (uint32_t)old));
		fg_compiled_free(cq);
	}
	fg_ruleset_free(&rs);
	fg_compiler_free(c);

	/* With more room, every replacement takes an id unused so far: the
	 * queue hands out the longest-free id, not the one just retired. */
	c = new_compiler(0, 8);
	memset(&rs, 0, sizeof(rs));
	add_svc(&rs, "web", "198.18.0.10", 80, 3);
	fg_compiled_free(apply(c, &rs, 1));
	{
		int seen[5];

		seen[0] = be_id(c, "web", &rs.services[0].backends[0]);
		for (k = 1; k < 5; k++) {
			int j;

			rs.services[0].backends[0].port = (uint16_t)(7000 + k);
			fg_compiled_free(apply(c, &rs, (uint64_t)(1 + k)));
			seen[k] = be_id(c, "web", &rs.services[0].backends[0]);
			for (j = 0; j < k; j++)
				assert_int_not_equal(seen[k], seen[j]);
		}
	}
	fg_ruleset_free(&rs);
	fg_compiler_free(c);
}

static void test_ring_slices_disjoint(void **state)
{
	struct fg_compiler *c = new_compiler(0, 0);
	struct fg_ruleset rs = { 0 };
	struct fg_compiled *cp[4];
	uint32_t g, i, j;

	(void)state;
	add_svc(&rs, "a", "198.18.0.10", 80, 3);
	add_svc(&rs, "b", "198.18.0.11", 80, 700);  /* ring 70001 */
	add_svc(&rs, "c", "198.18.0.12", 80, 1);
	add_svc(&rs, "d", "198.18.0.13", 80, 0);    /* no ring */
	for (g = 0; g < 4; g++) {
		if (g == 2) /* b loses its ring: the others move up */
			rs.services[1].nbackends = 0;
		/* c's ring changes every time; a's only at g 3 (so it is
		 * shared at g 1 and 2). */
		rs.services[2].backends[0].weight = 100 + g;
		if (g == 3)
			rs.services[0].backends[0].weight = 7;
		cp[g] = apply(c, &rs, g + 1);
		assert_int_equal(find_csvc(cp[g], "d")->val.ring_size, 0);
		assert_null(find_csvc(cp[g], "d")->ring);
		for (i = 0; i < cp[g]->nsvcs; i++) {
			const struct fg_svc *v = &cp[g]->svcs[i].val;

			assert_true((uint64_t)v->ring_off + v->ring_size <=
				    FG_RING_SLOTS_DEFAULT);
			for (j = 0; j < cp[g]->nsvcs; j++)
				if (i != j)
					assert_false(overlaps(v, &cp[g]->svcs[j].val));
			/* Against the generation that was active while
			 * this one was written. */
			if (g == 0)
				continue;
			for (j = 0; j < cp[g - 1]->nsvcs; j++) {
				const struct fg_compiled_svc *p = &cp[g - 1]->svcs[j];

				/* A shared ring is the very same slots. */
				if (cp[g]->svcs[i].ring_shared &&
				    !strcmp(p->name, cp[g]->svcs[i].name)) {
					assert_int_equal(p->val.ring_off, v->ring_off);
					continue;
				}
				assert_false(overlaps(v, &p->val));
			}
		}
	}
	assert_int_equal(find_csvc(cp[0], "b")->val.ring_size, 70001);
	/* Slices freed by a switch are used again: the third compile
	 * lands on the slots the first one held. */
	assert_int_equal(find_csvc(cp[2], "a")->val.ring_off,
			 find_csvc(cp[0], "a")->val.ring_off);
	for (g = 0; g < 4; g++)
		fg_compiled_free(cp[g]);
	fg_ruleset_free(&rs);
	fg_compiler_free(c);
}

static void test_ring_enospc(void **state)
{
	/* Room for two default rings and a little. */
	struct fg_compiler *c = new_compiler(2 * M_DEF + 10, 0);
	struct fg_ruleset rs = { 0 }, empty = { 0 };
	struct fg_compiled *cp = NULL;
	char err[256];
	int a;

	(void)state;
	add_svc(&rs, "a", "198.18.0.10", 80, 3);
	add_svc(&rs, "b", "198.18.0.11", 80, 3);
	fg_compiled_free(apply(c, &rs, 1));
	a = fg_compiler_service_id(c, "a");

	/* Changing both needs two more rings while two are live (an
	 * unchanged one would share its live ring). */
	rs.services[0].backends[0].weight = 50;
	rs.services[1].backends[0].weight = 50;
	assert_int_equal(fg_compile(c, &rs, 2, &cp, err, sizeof(err)),
			 -ENOSPC);
	assert_null(cp);
	assert_non_null(strstr(err, "ring"));
	assert_int_equal(fg_compiler_version(c), 1);
	assert_int_equal(fg_compiler_service_id(c, "a"), a);
	assert_int_equal(fg_compiler_gen(c), 1);

	/* Emptying the set frees both; then the full set fits again. */
	fg_compiled_free(apply(c, &empty, 3));
	assert_int_equal(fg_compiler_service_id(c, "a"), -ENOENT);
	cp = apply(c, &rs, 4);
	assert_int_equal(cp->svcs[0].val.ring_size, M_DEF);
	fg_compiled_free(cp);

	/* One service too big for the array at all. */
	rs.nservices = 1;
	rs.services[0].nbackends = 3;
	{
		struct fg_compiler *tiny = new_compiler(M_DEF - 1, 0);

		assert_int_equal(fg_compile(tiny, &rs, 1, &cp, err,
					    sizeof(err)), -ENOSPC);
		fg_compiler_free(tiny);
	}
	rs.nservices = 2;
	fg_ruleset_free(&rs);
	fg_compiler_free(c);
}

static void test_svc_id_enospc(void **state)
{
	struct fg_compile_opts o = { .svc_max = 3 };
	struct fg_compiler *c = fg_compiler_new(&o);
	struct fg_ruleset a = { 0 }, b = { 0 };
	struct fg_compiled *cp = NULL;
	char err[256];

	(void)state;
	assert_non_null(c);
	add_svc(&a, "a", "198.18.0.10", 80, 0);
	add_svc(&a, "b", "198.18.0.11", 80, 0);
	fg_compiled_free(apply(c, &a, 1));
	add_svc(&b, "c", "198.18.0.12", 80, 0);
	add_svc(&b, "d", "198.18.0.13", 80, 0);
	/* a and b still hold two of the three ids. */
	assert_int_equal(fg_compile(c, &b, 2, &cp, err, sizeof(err)), -ENOSPC);
	assert_non_null(strstr(err, "service id"));
	/* Four services exceed the id space whatever is active. */
	add_svc(&b, "e", "198.18.0.14", 80, 0);
	add_svc(&b, "f", "198.18.0.15", 80, 0);
	assert_int_equal(fg_compile(c, &b, 2, &cp, err, sizeof(err)), -EINVAL);
	fg_ruleset_free(&a);
	fg_ruleset_free(&b);
	fg_compiler_free(c);
}

/* ---------------------------------------------------------------------
 * Weights and backend states
 */

static void test_weights(void **state)
{
	struct fg_compiler *c = new_compiler(0, 0);
	struct fg_ruleset rs = { 0 };
	const struct fg_compiled_svc *cs;
	struct fg_rule_service *s;
	struct fg_compiled *cp;
	uint32_t n[4], i, m;

	(void)state;
	s = add_svc(&rs, "web", "198.18.0.10", 80, 4);
	s->backends[0].weight = 100;
	s->backends[1].weight = 200;
	s->backends[2].weight = 300;
	s->backends[3].weight = 400;
	cp = apply(c, &rs, 1);
	cs = find_csvc(cp, "web");
	m = cs->val.ring_size;
	for (i = 0; i < 4; i++)
		n[i] = slots_of(cs->ring, m, (uint32_t)be_id(c, "web",
							     &s->backends[i]));
	assert_int_equal(n[0] + n[1] + n[2] + n[3], m);
	/* Shares within 1 % of weight / total (the builder is exact to a
	 * slot or two per backend). */
	for (i = 0; i < 4; i++) {
		double want = (double)m * (i + 1) / 10.0;

		assert_true(n[i] > want * 0.99 && n[i] < want * 1.01);
	}
	fg_compiled_free(cp);
	fg_ruleset_free(&rs);
	fg_compiler_free(c);
}

static void test_drain_down(void **state)
{
	struct fg_compiler *c = new_compiler(0, 0);
	struct fg_ruleset rs = { 0 };
	const struct fg_compiled_svc *cs;
	struct fg_rule_service *s;
	struct fg_compiled *cp;
	uint32_t ids[5], i;

	(void)state;
	s = add_svc(&rs, "web", "198.18.0.10", 80, 5);
	s->backends[1].state = FG_BACKEND_DRAIN;
	s->backends[2].state = FG_BACKEND_DOWN;
	s->backends[3].health_down = true;
	s->backends[4].weight = 0;
	cp = apply(c, &rs, 1);
	cs = find_csvc(cp, "web");
	for (i = 0; i < 5; i++)
		ids[i] = (uint32_t)be_id(c, "web", &s->backends[i]);

	/* Only the active one of weight > 0 takes new flows. */
	assert_int_equal(slots_of(cs->ring, cs->val.ring_size, ids[0]),
			 cs->val.ring_size);
	/* Drain and weight 0: still valid, not down (flows stay). */
	assert_int_equal(find_cbe(cp, ids[1])->flags, FG_BE_F_VALID);
	assert_int_equal(find_cbe(cp, ids[4])->flags, FG_BE_F_VALID);
	/* Down and health-down: flows re-hash. */
	assert_int_equal(find_cbe(cp, ids[2])->flags,
			 FG_BE_F_VALID | FG_BE_F_DOWN);
	assert_int_equal(find_cbe(cp, ids[3])->flags,
			 FG_BE_F_VALID | FG_BE_F_DOWN);
	assert_int_equal(cp->nbackends, 5);
	fg_compiled_free(cp);

	/* Nothing usable: no ring at all, but the entries stay. */
	s->backends[0].state = FG_BACKEND_DRAIN;
	cp = apply(c, &rs, 2);
	cs = find_csvc(cp, "web");
	assert_int_equal(cs->val.ring_size, 0);
	assert_null(cs->ring);
	assert_int_equal(cp->nbackends, 5);
	assert_int_equal(cp->retired_backends.n, 0);
	/* ids are unchanged by state changes */
	assert_int_equal(be_id(c, "web", &s->backends[2]), (int)ids[2]);
	fg_compiled_free(cp);
	fg_ruleset_free(&rs);
	fg_compiler_free(c);
}

/* Adding a backend moves few slots: rings derive from identities, not
 * from ids or array positions. */
static void test_ring_consistency(void **state)
{
	struct fg_compiler *c = new_compiler(0, 0);
	struct fg_ruleset rs = { 0 };
	struct fg_rule_service *s;
	struct fg_compiled *cp1, *cp2;
	const struct fg_compiled_svc *a, *b;
	uint32_t i, moved = 0, m;

	(void)state;
	s = add_svc(&rs, "web", "198.18.0.10", 80, 10);
	cp1 = apply(c, &rs, 1);
	s->backends[9].state = FG_BACKEND_DOWN;
	cp2 = apply(c, &rs, 2);
	a = find_csvc(cp1, "web");
	b = find_csvc(cp2, "web");
	m = a->val.ring_size;
	assert_int_equal(b->val.ring_size, m);
	for (i = 0; i < m; i++)
		if (a->ring[i] != b->ring[i])
			moved++;
	/* 1/10 of the slots must move; Maglev moves a little more (a few
	 * percent of the rest at 100 slots per backend). */
	print_message("ring of %u: %u slots moved for 1 of 10 backends down\n", m, moved);
	assert_true(moved >= m / 10 && moved < m / 10 + m / 20);
	fg_compiled_free(cp1);
	fg_compiled_free(cp2);
	fg_ruleset_free(&rs);
	fg_compiler_free(c);
}

/* A compile shares the active generation's ring of every service whose
 * ring inputs (size, backends in order, weights, ids) are unchanged: the
 * same slots, the same content, nothing to write. A change to one
 * service rebuilds that ring alone, into free slots. */
static void test_ring_shared(void **state)
{
	struct fg_compiler *c = new_compiler(0, 0);
	struct fg_ruleset rs = { 0 };
	struct fg_rule_service *web, *api;
	struct fg_compiled *cp1, *cp2, *cp3;
	const struct fg_compiled_svc *w1, *w2, *a1, *a2, *w3;

	(void)state;
	web = add_svc(&rs, "web", "198.18.0.10", 80, 10);
	api = add_svc(&rs, "api", "198.18.0.11", 80, 10);
	(void)api;
	cp1 = apply(c, &rs, 1);
	w1 = find_csvc(cp1, "web");
	a1 = find_csvc(cp1, "api");
	assert_false(w1->ring_shared);
	assert_false(a1->ring_shared);

	/* One weight of web changes. */
	web = &rs.services[0];
	web->backends[3].weight = 250;
	cp2 = apply(c, &rs, 2);
	w2 = find_csvc(cp2, "web");
	a2 = find_csvc(cp2, "api");
	assert_false(w2->ring_shared);
	assert_true(a2->ring_shared);
	assert_int_equal(a2->val.ring_off, a1->val.ring_off);
	assert_int_equal(a2->val.ring_size, a1->val.ring_size);
	assert_memory_equal(a2->ring, a1->ring, a1->val.ring_size * sizeof(uint32_t));
	/* web's new ring does not overlap anything the active generation
	 * (cp1's, still live until the switch) holds. */
	assert_true(w2->val.ring_off + w2->val.ring_size <= a1->val.ring_off ||
		    a1->val.ring_off + a1->val.ring_size <= w2->val.ring_off);
	assert_true(w2->val.ring_off + w2->val.ring_size <= w1->val.ring_off ||
		    w1->val.ring_off + w1->val.ring_size <= w2->val.ring_off);
	assert_memory_not_equal(w2->ring, w1->ring, w1->val.ring_size * sizeof(uint32_t));

	/* The same rules again: both shared. */
	cp3 = apply(c, &rs, 3);
	w3 = find_csvc(cp3, "web");
	assert_true(w3->ring_shared);
	assert_true(find_csvc(cp3, "api")->ring_shared);
	assert_int_equal(w3->val.ring_off, w2->val.ring_off);
	assert_memory_equal(w3->ring, w2->ring, w2->val.ring_size * sizeof(uint32_t));
	fg_compiled_free(cp1);
	fg_compiled_free(cp2);
	fg_compiled_free(cp3);
	fg_ruleset_free(&rs);
	fg_compiler_free(c);
}

/* ---------------------------------------------------------------------
 * Limits
 */

static void test_limits(void **state)
{
	struct fg_compiler *c = new_compiler(0, 0);
	struct fg_ruleset rs = { 0 };
	struct fg_rule_limit *l;
	struct fg_compiled *cp;
	struct fg_tb_profile want;
	const struct fg_compiled_svc *web, *api;
	int lid[4];
	uint32_t i;

	(void)state;
	add_svc(&rs, "web", "198.18.0.10", 80, 1);
	add_svc(&rs, "api", "198.18.0.11", 80, 1);
	l = add_limit(&rs, "perip", "web");
	l->match_src_set = true;
	l->match_src = addr4("198.18.64.0");
	l->match_src_len = 18;
	l->match_proto = IPPROTO_TCP;
	l->match_dport = 80;
	l->unit = FG_LUNIT_CPS;
	l->action = FG_LACT_RESET;
	l->dry_run = true;
	l = add_limit(&rs, "band", "");
	l->unit = FG_LUNIT_BPS;
	l->rate = 8000000; /* bits/s, as the API gives them */
	l->burst = 120000;
	l->key = FG_LKEY_SRC_PREFIX;
	l->prefix_len = 24;
	l = add_limit(&rs, "shared", "web");
	l->cluster_scope = true;
	l->rate = 1001;
	l->burst = 10;
	l->key = FG_LKEY_SERVICE;
	l = add_limit(&rs, "apionly", "api");
	l->key = FG_LKEY_FLOW;
	l->match_src_set = true;
	l->match_src = addr6("2001:db8:ff00::");
	l->match_src_len = 40;

	fg_compiler_set_cluster_nodes(c, 4);
	cp = apply(c, &rs, 1);
	for (i = 0; i < 4; i++) {
		lid[i] = fg_compiler_limit_id(c, rs.limits[i].name);
		assert_true(lid[i] >= 0 && lid[i] < (int)FG_LIMIT_MAX);
		assert_int_equal(cp->limits[i].index,
				 cp->gen * FG_LIMIT_MAX + (uint32_t)lid[i]);
		assert_int_equal(cp->limits[i].val.id, lid[i]);
		assert_string_equal(fg_compiler_limit_name(c, (uint32_t)lid[i]),
				    rs.limits[i].name);
	}
	assert_int_equal(fg_compiler_limit_id(c, "nope"), -ENOENT);

	/* perip */
	assert_int_equal(fg_tb_profile_init(&want, 1000, 2000), 0);
	assert_memory_equal(&cp->limits[0].val.prof, &want, sizeof(want));
	assert_int_equal(cp->limits[0].val.match_src[0], inet_addr("198.18.64.0"));
	assert_int_equal(cp->limits[0].val.match_family, FG_AF_INET);
	assert_int_equal(cp->limits[0].val.match_src_len, 18);
	assert_int_equal(cp->limits[0].val.match_proto, IPPROTO_TCP);
	assert_int_equal(cp->limits[0].val.match_dport, htons(80));
	assert_int_equal(cp->limits[0].val.unit, FG_LUNIT_CPS);
	assert_int_equal(cp->limits[0].val.action, FG_LACT_RESET);
	assert_int_equal(cp->limits[0].val.flags,
			 FG_LIM_F_DRY_RUN | FG_LIM_F_MATCH_SRC);
	assert_int_equal(cp->limits[0].val.prefix_len, 0);
	/* band: bits stay bits */
	assert_int_equal(fg_tb_profile_init(&want, 8000000, 120000), 0);
	assert_memory_equal(&cp->limits[1].val.prof, &want, sizeof(want));
	assert_int_equal(cp->limits[1].val.unit, FG_LUNIT_BPS);
	assert_int_equal(cp->limits[1].val.key, FG_LKEY_SRC_PREFIX);
	assert_int_equal(cp->limits[1].val.prefix_len, 24);
	assert_int_equal(cp->limits[1].val.flags, 0);
	assert_int_equal(cp->limits[1].val.match_family, 0);
	/* shared: a quarter each, rounded up */
	assert_int_equal(fg_tb_profile_init(&want, 251, 3), 0);
	assert_memory_equal(&cp->limits[2].val.prof, &want, sizeof(want));
	/* apionly: IPv6 prefix */
	{
		struct fg_addr p = addr6("2001:db8:ff00::");

		assert_memory_equal(cp->limits[3].val.match_src, &p.a6, 16);
		assert_int_equal(cp->limits[3].val.match_family, FG_AF_INET6);
	}

	/* Lists: in rule order, padded with FG_NO_LIMIT. */
	web = find_csvc(cp, "web");
	api = find_csvc(cp, "api");
	assert_int_equal(web->val.nlimits, 2);
	assert_int_equal(web->val.limits[0], lid[0]);
	assert_int_equal(web->val.limits[1], lid[2]);
	for (i = 2; i < FG_SVC_LIMITS_MAX; i++)
		assert_int_equal(web->val.limits[i], FG_NO_LIMIT);
	assert_int_equal(api->val.nlimits, 1);
	assert_int_equal(api->val.limits[0], lid[3]);
	assert_int_equal(cp->config.nglobal_limits, 1);
	assert_int_equal(cp->config.global_limits[0], lid[1]);
	assert_int_equal(cp->config.global_limits[1], FG_NO_LIMIT);
	fg_compiled_free(cp);

	/* Stable across a compile; one removed is retired, its index in
	 * the other generation's half of the table. */
	rs.nlimits = 3;
	fg_compiler_set_cluster_nodes(c, 1);
	cp = apply(c, &rs, 2);
	for (i = 0; i < 3; i++)
		assert_int_equal(fg_compiler_limit_id(c, rs.limits[i].name),
				 lid[i]);
	assert_int_equal(cp->limits[0].index, (uint32_t)lid[0]); /* gen 0 */
	assert_true(id_in(&cp->retired_limits, (uint32_t)lid[3]));
	assert_int_equal(find_csvc(cp, "api")->val.nlimits, 0);
	assert_int_equal(fg_tb_profile_init(&want, 1001, 10), 0);
	assert_memory_equal(&cp->limits[2].val.prof, &want, sizeof(want));
	fg_compiled_free(cp);
	fg_ruleset_free(&rs);
	fg_compiler_free(c);
}

static void test_limit_binding(void **state)
{
	struct fg_compiler *c = new_compiler(0, 0);
	struct fg_ruleset rs = { 0 };
	struct fg_compiled *cp = NULL;
	char err[256], name[16];
	int i;

	(void)state;
	add_svc(&rs, "web", "198.18.0.10", 80, 1);
	add_limit(&rs, "l0", "shop");
	assert_int_equal(fg_compile(c, &rs, 1, &cp, err, sizeof(err)), -EINVAL);
	assert_null(cp);
	assert_string_equal(err, "limits.l0.service: no service named shop");

	/* A list holds FG_SVC_LIMITS_MAX. */
	snprintf(rs.limits[0].service, FG_NAME_MAX, "web");
	for (i = 1; i < (int)FG_SVC_LIMITS_MAX; i++) {
		snprintf(name, sizeof(name), "l%d", i);
		add_limit(&rs, name, "web");
	}
	fg_compiled_free(apply(c, &rs, 1));
	add_limit(&rs, "one-more", "web");
	assert_int_equal(fg_compile(c, &rs, 2, &cp, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "limits.one-more"));
	/* And so does the global list. */
	rs.nlimits--;
	for (i = 0; i <= (int)FG_GLOBAL_LIMITS_MAX; i++) {
		snprintf(name, sizeof(name), "g%d", i);
		add_limit(&rs, name, "");
	}
	assert_int_equal(fg_compile(c, &rs, 2, &cp, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "without a service"));
	rs.nlimits--;
	fg_compiled_free(apply(c, &rs, 3));
	assert_true(fg_compiler_limit_id(c, "g7") >= 0);
	assert_int_equal(fg_compiler_limit_id(c, "g8"), -ENOENT);
	fg_ruleset_free(&rs);
	fg_compiler_free(c);
}

/* ---------------------------------------------------------------------
 * Capacity: a checked rule set this compiler cannot hold fails with
 * -EINVAL and a field name, and leaves the compiler exactly as it was.
 * Values are the rule model's (test_rules_json): the compiler trusts them.
 */

enum mutation {
	M_TOO_MANY_BE, M_L_UNBOUND, M_L_WINDOW, M_SVC_MAX, M_LIMIT_MAX,
	M_COUNT
};

static const char *const mutation_field[M_COUNT] = {
	[M_TOO_MANY_BE] = "services.api.backends: at most",
	[M_L_UNBOUND] = "limits.perip.service: no service named shop",
	[M_L_WINDOW] = "limits.perip.burst",
	[M_SVC_MAX] = "services: at most 2",
	[M_LIMIT_MAX] = "limits: at most 2",
};

static void build_good(struct fg_ruleset *rs)
{
	struct fg_rule_limit *l;

	memset(rs, 0, sizeof(*rs));
	add_svc(rs, "web", "198.18.0.10", 80, 3);
	add_svc(rs, "api", "198.18.0.11", 80, 3);
	l = add_limit(rs, "perip", "web");
	l->match_src_set = true;
	l->match_src = addr4("198.18.64.0");
	l->match_src_len = 18;
	add_limit(rs, "glob", "");
}

static void mutate(struct fg_ruleset *rs, enum mutation m)
{
	struct fg_rule_service *s = &rs->services[1];
	struct fg_rule_limit *l = &rs->limits[0];

	switch (m) {
	case M_TOO_MANY_BE: s->nbackends = FG_MAGLEV_BACKENDS_MAX + 1; break;
	case M_L_UNBOUND: snprintf(l->service, FG_NAME_MAX, "shop"); break;
	case M_L_WINDOW: l->rate = 1; l->burst = 1ULL << 62; break;
	/* The compiler of test_invalid_rejected holds 2 services, 2 limits. */
	case M_SVC_MAX: add_svc(rs, "more", "198.18.0.12", 80, 1); break;
	case M_LIMIT_MAX: add_limit(rs, "more", ""); break;
	case M_COUNT: break;
	}
}

/* fg_compile of rs refused -EOPNOTSUPP, nothing compiled, err holding
 * `field` and the reason. */
static void refused_l7(struct fg_compiler *c, const struct fg_ruleset *rs,
		       const char *field)
{
	struct fg_compiled *cp = NULL;
	char err[256] = "";

	assert_int_equal(fg_compile(c, rs, 1, &cp, err, sizeof(err)),
			 -EOPNOTSUPP);
	assert_null(cp);
	if (strncmp(err, field, strlen(field)) ||
	    !strstr(err, "needs the L7 engine's TCP side, which this build does not have"))
		fail_msg("want '%s: ... TCP side', got '%s'", field, err);
}

/* A valid route, seckill rule, rps limit and respond limit (each on an
 * l7 service, as the JSON layer requires) are each refused naming
 * themselves, not their service; rs is left as it came. */
static void l7_refused(struct fg_compiler *c, struct fg_ruleset *rs)
{
	struct fg_rule_route route;
	struct fg_rule_seckill sk;
	struct fg_rule_limit lim = rs->limits[0];

	memset(&route, 0, sizeof(route));
	memset(&sk, 0, sizeof(sk));
	strcpy(route.name, "r1");
	strcpy(route.service, "web");
	strcpy(sk.name, "s1");
	strcpy(sk.service, "web");
	sk.rate = sk.burst = 10;
	rs->services[0].mode = FG_MODE_L7;
	rs->routes = &route;
	rs->nroutes = 1;
	refused_l7(c, rs, "routes.r1");
	rs->routes = NULL;
	rs->nroutes = 0;
	rs->seckill = &sk;
	rs->nseckill = 1;
	refused_l7(c, rs, "seckill.s1");
	rs->seckill = NULL;
	rs->nseckill = 0;
	rs->limits[0].unit = FG_LUNIT_RPS;
	refused_l7(c, rs, "limits.perip.unit");
	rs->limits[0].unit = lim.unit;
	rs->limits[0].action = FG_LACT_RESPOND;
	refused_l7(c, rs, "limits.perip.action");
	rs->limits[0] = lim;
	rs->services[0].mode = FG_MODE_L4;
	assert_int_equal(fg_compiler_version(c), 0);
}

/* Valid rules this node cannot enforce: -EOPNOTSUPP naming the field,
 * nothing compiled; a cluster-scope limit compiles once the compiler
 * knows the node count. */
static void test_unenforceable_refused(void **state)
{
	struct fg_compiler *c = new_compiler(0, 0);
	struct fg_compiled *cp = NULL;
	struct fg_ruleset rs;
	char err[256] = "";

	(void)state;
	build_good(&rs);
	rs.services[0].mode = FG_MODE_L7;
	assert_int_equal(fg_compile(c, &rs, 1, &cp, err, sizeof(err)),
			 -EOPNOTSUPP);
	assert_null(cp);
	assert_non_null(strstr(err, "services.web.mode"));
	rs.services[0].mode = FG_MODE_L4;
	rs.limits[0].cluster_scope = true;
	assert_int_equal(fg_compile(c, &rs, 1, &cp, err, sizeof(err)),
			 -EOPNOTSUPP);
	assert_null(cp);
	assert_non_null(strstr(err, "limits.perip.scope"));
	assert_int_equal(fg_compiler_version(c), 0);
	rs.limits[0].cluster_scope = false;
	l7_refused(c, &rs);
	rs.limits[0].cluster_scope = true;
	fg_compiler_set_cluster_nodes(c, 2);
	cp = apply(c, &rs, 1);
	fg_compiled_free(cp);
	fg_ruleset_free(&rs);
	fg_compiler_free(c);
}

static void test_invalid_rejected(void **state)
{
	struct fg_compile_opts o = { .svc_max = 2, .limit_max = 2 };
	struct fg_compiler *c = fg_compiler_new(&o);
	struct fg_ruleset good, bad;
	struct fg_compiled *cp1, *cp2;
	int web, web_be, perip;
	unsigned int m;

	(void)state;
	build_good(&good);
	cp1 = apply(c, &good, 1);
	web = fg_compiler_service_id(c, "web");
	web_be = be_id(c, "web", &good.services[0].backends[0]);
	perip = fg_compiler_limit_id(c, "perip");

	for (m = 0; m < M_COUNT; m++) {
		struct fg_compiled *cp = cp1; /* must come back NULL */
		char err[256] = "";
		uint32_t nbe_saved;
		int ret;

		build_good(&bad);
		nbe_saved = bad.services[1].nbackends;
		mutate(&bad, m);
		ret = fg_compile(c, &bad, 100 + m, &cp, err, sizeof(err));
		if (ret != -EINVAL || !strstr(err, mutation_field[m]))
			fail_msg("mutation %u: ret %d, err \"%s\", want \"%s\"",
				 m, ret, err, mutation_field[m]);
		assert_null(cp);
		bad.services[1].nbackends = nbe_saved;
		fg_ruleset_free(&bad);
	}
	cp2 = cp1;
	assert_int_equal(fg_compile(c, NULL, 1, &cp2, NULL, 0), -EINVAL);
	assert_null(cp2);

	/* Nothing moved: same generation, version, ids; the next good
	 * compile sees the state of version 1. */
	assert_int_equal(fg_compiler_gen(c), 1);
	assert_int_equal(fg_compiler_version(c), 1);
	assert_int_equal(fg_compiler_service_id(c, "web"), web);
	assert_int_equal(fg_compiler_limit_id(c, "perip"), perip);
	assert_int_equal(be_id(c, "web", &good.services[0].backends[0]), web_be);
	cp2 = apply(c, &good, 2);
	assert_int_equal(cp2->gen, 0);
	assert_int_equal(cp2->fresh_svcs.n, 0);
	assert_int_equal(cp2->fresh_backends.n, 0);
	assert_int_equal(cp2->fresh_limits.n, 0);
	assert_int_equal(cp2->retired_backends.n, 0);
	fg_compiled_free(cp1);
	fg_compiled_free(cp2);
	fg_ruleset_free(&good);
	fg_compiler_free(c);
}

/* ---------------------------------------------------------------------
 * Commit and adoption
 */

static void test_commit_stale(void **state)
{
	struct fg_compiler *c = new_compiler(0, 0);
	struct fg_ruleset rs = { 0 };
	struct fg_compiled *a = NULL, *b = NULL;

	(void)state;
	add_svc(&rs, "web", "198.18.0.10", 80, 2);
	assert_int_equal(fg_compile(c, &rs, 1, &a, NULL, 0), 0);
	assert_int_equal(fg_compile(c, &rs, 2, &b, NULL, 0), 0);
	/* Both target generation 1; only the first may land. */
	assert_int_equal(a->gen, b->gen);
	assert_int_equal(fg_compiler_commit(c, a), 0);
	assert_int_equal(fg_compiler_commit(c, b), -ESTALE);
	assert_int_equal(fg_compiler_commit(c, a), -EINVAL);
	assert_int_equal(fg_compiler_version(c), 1);
	/* An abandoned compile changes nothing either. */
	fg_compiled_free(b);
	assert_int_equal(fg_compile(c, &rs, 3, &b, NULL, 0), 0);
	fg_compiled_free(b);
	assert_int_equal(fg_compiler_version(c), 1);
	assert_int_equal(fg_compiler_gen(c), 1);
	fg_compiled_free(a);
	fg_ruleset_free(&rs);
	fg_compiler_free(c);
}

/* What a loader reads back from the tables of cp's generation. */
struct readback {
	struct fg_adopt a;
	struct fg_adopt_svc svcs[8];
	struct fg_adopt_backend bes[32];
	struct fg_adopt_limit lims[8];
};

static void read_back(struct readback *r, const struct fg_compiled *cp)
{
	uint32_t i;

	memset(r, 0, sizeof(*r));
	assert_true(cp->nsvcs <= 8 && cp->nbackends <= 32 && cp->nlimits <= 8);
	for (i = 0; i < cp->nsvcs; i++) {
		r->svcs[i].name = cp->svcs[i].name;
		r->svcs[i].key = cp->svcs[i].key;
		r->svcs[i].val = cp->svcs[i].val;
	}
	for (i = 0; i < cp->nbackends; i++) {
		r->bes[i].id = cp->backends[i].id;
		r->bes[i].val = cp->backends[i].val;
	}
	for (i = 0; i < cp->nlimits; i++) {
		r->lims[i].name = cp->limits[i].name;
		r->lims[i].id = cp->limits[i].val.id;
	}
	r->a.gen = cp->gen;
	r->a.version = cp->version;
	r->a.nsvcs = cp->nsvcs;
	r->a.svcs = r->svcs;
	r->a.nbackends = cp->nbackends;
	r->a.backends = r->bes;
	r->a.nlimits = cp->nlimits;
	r->a.limits = r->lims;
}

static void test_adopt(void **state)
{
	struct fg_compiler *c1 = new_compiler(0, 0), *c2 = new_compiler(0, 0);
	struct fg_ruleset rs = { 0 };
	struct fg_compiled *cp1, *cp2;
	struct readback r;
	char err[256];
	uint32_t i, j;

	(void)state;
	add_svc(&rs, "web", "198.18.0.10", 80, 3);
	add_svc(&rs, "api", "198.18.0.11", 80, 2);
	add_limit(&rs, "perip", "web");
	fg_compiled_free(apply(c1, &rs, 1));
	rs.services[1].nbackends = 1;
	cp1 = apply(c1, &rs, 2);   /* generation 0 active, one retired */

	read_back(&r, cp1);
	assert_int_equal(fg_compiler_adopt(c2, &r.a, err, sizeof(err)), 0);
	assert_int_equal(fg_compiler_gen(c2), 0);
	assert_int_equal(fg_compiler_version(c2), 2);
	assert_int_equal(fg_compiler_service_id(c2, "web"),
			 fg_compiler_service_id(c1, "web"));
	assert_int_equal(fg_compiler_limit_id(c2, "perip"),
			 fg_compiler_limit_id(c1, "perip"));
	assert_int_equal(be_id(c2, "web", &rs.services[0].backends[2]),
			 be_id(c1, "web", &rs.services[0].backends[2]));
	/* Adopting twice, or into a used compiler, is refused. */
	assert_int_equal(fg_compiler_adopt(c2, &r.a, err, sizeof(err)), -EBUSY);

	/* The adopted compiler goes on as the original would: same ids,
	 * the other generation, slices apart from the adopted ones. */
	rs.services[1].nbackends = 2;
	cp2 = apply(c2, &rs, 3);
	assert_int_equal(cp2->gen, 1);
	assert_int_equal(cp2->fresh_svcs.n, 0);
	assert_int_equal(cp2->fresh_backends.n, 1);
	for (i = 0; i < cp2->nsvcs; i++)
		for (j = 0; j < cp1->nsvcs; j++)
			assert_false(overlaps(&cp2->svcs[i].val,
					      &cp1->svcs[j].val));
	/* The fresh backend does not take an id the adopted state held. */
	for (i = 0; i < cp1->nbackends; i++)
		assert_false(id_in(&cp2->fresh_backends, cp1->backends[i].id));
	fg_compiled_free(cp2);
	fg_compiler_free(c2);

	/* A lost name keeps its id reserved, then retires. */
	c2 = new_compiler(0, 0);
	read_back(&r, cp1);
	r.svcs[1].name = NULL;
	assert_int_equal(fg_compiler_adopt(c2, &r.a, err, sizeof(err)), 0);
	assert_int_equal(fg_compiler_service_id(c2, "api"), -ENOENT);
	assert_null(fg_compiler_service_name(c2, r.svcs[1].val.id));
	cp2 = apply(c2, &rs, 3);
	assert_true(id_in(&cp2->retired_svcs, r.svcs[1].val.id));
	assert_false(id_in(&cp2->fresh_svcs, r.svcs[1].val.id));
	/* ...and its backend, which matches no service, retires too. */
	assert_true(id_in(&cp2->retired_backends, r.bes[3].id));
	fg_compiled_free(cp2);
	fg_compiler_free(c2);

	/* A backend whose service is gone from the adopted generation (the
	 * old daemon died between the switch and the clean-up) matches no
	 * service, even one that is handed the same service id next. */
	c2 = new_compiler(0, 0);
	read_back(&r, cp1);
	assert_int_equal(r.svcs[1].val.id, 1);  /* api: the free id queue
						 * then starts at 1 */
	r.a.nsvcs = 1;
	assert_int_equal(fg_compiler_adopt(c2, &r.a, err, sizeof(err)), 0);
	{
		struct fg_ruleset other = { 0 };
		struct fg_rule_service *s = add_svc(&other, "web",
						    "198.18.0.10", 80, 3);

		memcpy(s->backends, rs.services[0].backends,
		       3 * sizeof(*s->backends));
		s = add_svc(&other, "x", "198.18.0.30", 80, 1);
		s->backends[0] = rs.services[1].backends[0];
		cp2 = apply(c2, &other, 3);
		assert_int_equal(fg_compiler_service_id(c2, "x"), 1);
		assert_true(id_in(&cp2->retired_backends, r.bes[3].id));
		assert_int_not_equal(be_id(c2, "x", &s->backends[0]),
				     (int)r.bes[3].id);
		fg_compiled_free(cp2);
		fg_ruleset_free(&other);
	}
	fg_compiler_free(c2);

	/* Inconsistent read-backs are refused and change nothing. */
	c2 = new_compiler(0, 0);
	read_back(&r, cp1);
	r.svcs[1].val.ring_off = r.svcs[0].val.ring_off + 1;
	assert_int_equal(fg_compiler_adopt(c2, &r.a, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "overlap"));
	read_back(&r, cp1);
	r.bes[1].id = r.bes[0].id;
	assert_int_equal(fg_compiler_adopt(c2, &r.a, err, sizeof(err)), -EINVAL);
	read_back(&r, cp1);
	r.svcs[0].val.id = FG_SVC_MAX;
	assert_int_equal(fg_compiler_adopt(c2, &r.a, err, sizeof(err)), -EINVAL);
	assert_int_equal(fg_compiler_service_id(c2, "api"), -ENOENT);
	read_back(&r, cp1);
	assert_int_equal(fg_compiler_adopt(c2, &r.a, err, sizeof(err)), 0);
	fg_compiler_free(c2);

	fg_compiled_free(cp1);
	fg_ruleset_free(&rs);
	fg_compiler_free(c1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ring_size),
		cmocka_unit_test(test_backend_ident),
		cmocka_unit_test(test_ruleset_free),
		cmocka_unit_test(test_new_rejects_oversize),
		cmocka_unit_test(test_first_compile_images),
		cmocka_unit_test(test_wildcard_flag),
		cmocka_unit_test(test_gue_port),
		cmocka_unit_test(test_ids_stable),
		cmocka_unit_test(test_backend_ids_follow_order),
		cmocka_unit_test(test_backend_id_not_reused),
		cmocka_unit_test(test_ring_slices_disjoint),
		cmocka_unit_test(test_ring_enospc),
		cmocka_unit_test(test_svc_id_enospc),
		cmocka_unit_test(test_weights),
		cmocka_unit_test(test_drain_down),
		cmocka_unit_test(test_ring_consistency),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_limit_binding),
		cmocka_unit_test(test_ring_shared),
		cmocka_unit_test(test_invalid_rejected),
		cmocka_unit_test(test_unenforceable_refused),
		cmocka_unit_test(test_commit_stale),
		cmocka_unit_test(test_adopt),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
