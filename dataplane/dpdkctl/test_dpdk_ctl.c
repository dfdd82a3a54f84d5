// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * test_dpdk_ctl.c - the control channel's codec: real compiled rule sets
 * (up to 1,000 services of 10 backends) through FULL and DELTA and back,
 * byte for byte; every truncated prefix and a list of malformed bodies
 * refused with nothing returned; a DELTA's size against what changed;
 * the counters' codec; message framing.
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
#include "fg_dpdk_ctl.h"
#include "fg_dpdk_ctl_wire.h"
#include "fg_rules.h"
#include "test_dpdk_ctl_rules.h"

/* ------------------------------------------------------------- rules */

/* Service i as test_dpdk_ctl_rules.h numbers it, the three forwarding
 * modes in turn so every codec path carries some. */
static void add_svc(struct fg_ruleset *rs, uint32_t i, uint32_t nb)
{
	fg_test_add_svc(rs, i, nb, i % 3 == 0 ? FG_FWD_NAT :
			i % 3 == 1 ? FG_FWD_DSR_IPIP : FG_FWD_DSR_GUE);
}

static void add_limit(struct fg_ruleset *rs, const char *name, const char *svc,
		      enum fg_limit_unit unit)
{
	struct fg_rule_limit *l;

	rs->limits = realloc(rs->limits, (rs->nlimits + 1) * sizeof(*l));
	assert_non_null(rs->limits);
	l = &rs->limits[rs->nlimits++];
	memset(l, 0, sizeof(*l));
	snprintf(l->name, sizeof(l->name), "%s", name);
	snprintf(l->service, sizeof(l->service), "%s", svc);
	l->key = FG_LKEY_SRC_PREFIX;
	l->prefix_len = 24;
	l->unit = unit;
	l->rate = 1000;
	l->burst = 2000;
	l->match_src_set = true;
	l->match_src = fg_test_addr4(0xc6124000U);
	l->match_src_len = 18;
	l->match_proto = IPPROTO_TCP;
	l->match_dport = 80;
}

/* n services of nb backends, two limits (one global, one on svc-1). */
static void make_rules(struct fg_ruleset *rs, uint32_t n, uint32_t nb)
{
	uint32_t i;

	memset(rs, 0, sizeof(*rs));
	for (i = 0; i < n; i++)
		add_svc(rs, i, nb);
	add_limit(rs, "global-cps", "", FG_LUNIT_CPS);
	if (n > 1)
		add_limit(rs, "one-pps", "svc-1", FG_LUNIT_PPS);
}

static struct fg_compiled *compile(struct fg_compiler *c,
				   const struct fg_ruleset *rs, uint64_t v)
{
	struct fg_compiled *cp = NULL;
	char err[256] = "";
	int rc = fg_compile(c, rs, v, &cp, err, sizeof(err));

	if (rc)
		fail_msg("compile: %d %s", rc, err);
	return cp;
}

static struct fg_dpdk_ctl_set *set_of(const struct fg_compiled *cp,
				      const struct fg_dpdk_ctl_set *base)
{
	char err[256] = "";
	int e = 0;
	struct fg_dpdk_ctl_set *s =
		fg_dpdk_ctl_set_from_compiled(cp, base, &e, err, sizeof(err));

	if (!s)
		fail_msg("set: %d %s", e, err);
	return s;
}

static void enc_full(const struct fg_dpdk_ctl_set *s, struct fg_dpdk_ctl_buf *b)
{
	memset(b, 0, sizeof(*b));
	assert_int_equal(fg_dpdk_ctl_encode_full(s, b), 0);
}

/* a and b encode to the same FULL body. */
static void assert_same_set(const struct fg_dpdk_ctl_set *a,
			    const struct fg_dpdk_ctl_set *b)
{
	struct fg_dpdk_ctl_buf x, y;

	enc_full(a, &x);
	enc_full(b, &y);
	assert_int_equal(x.len, y.len);
	assert_memory_equal(x.p, y.p, x.len);
	fg_dpdk_ctl_buf_free(&x);
	fg_dpdk_ctl_buf_free(&y);
}

/* The set s holds exactly cp's entries (by id), rings included. */
static void assert_set_is(const struct fg_dpdk_ctl_set *s,
			  const struct fg_compiled *cp)
{
	struct fg_compiled v;
	uint32_t i;

	fg_dpdk_ctl_set_view(s, &v);
	assert_int_equal(v.version, cp->version);
	assert_int_equal(v.gen, cp->gen);
	assert_int_equal(v.nsvcs, cp->nsvcs);
	assert_int_equal(v.nbackends, cp->nbackends);
	assert_int_equal(v.nlimits, cp->nlimits);
	assert_int_equal(v.config.nglobal_limits, cp->config.nglobal_limits);
	assert_memory_equal(v.config.vip_filter[cp->gen],
			    cp->config.vip_filter[cp->gen],
			    sizeof(cp->config.vip_filter[0]));
	assert_memory_equal(v.config.global_limits, cp->config.global_limits,
			    sizeof(cp->config.global_limits));
	for (i = 0; i < cp->nsvcs; i++) {
		const struct fg_compiled_svc *in = &cp->svcs[i];
		long k = fg_dpdk_ctl_set_service(s, in->val.id);

		assert_true(k >= 0);
		assert_string_equal(s->svcs[k].name, in->name);
		assert_memory_equal(&s->svcs[k].key, &in->key, sizeof(in->key));
		assert_memory_equal(&s->svcs[k].val, &in->val, sizeof(in->val));
		if (in->val.ring_size)
			assert_memory_equal(s->svcs[k].ring, in->ring,
					    in->val.ring_size * 4);
	}
	for (i = 0; i < cp->nbackends; i++) {
		const struct fg_backend *b =
			fg_dpdk_ctl_set_backend(s, cp->backends[i].id);

		assert_non_null(b);
		assert_memory_equal(b, &cp->backends[i].val, sizeof(*b));
	}
	for (i = 0; i < cp->nlimits; i++) {
		uint32_t k;

		for (k = 0; k < s->nlimits; k++)
			if (s->limits[k].val.id == cp->limits[i].val.id)
				break;
		assert_true(k < s->nlimits);
		assert_string_equal(s->limits[k].name, cp->limits[i].name);
		assert_int_equal(s->limits[k].index, cp->limits[i].index);
		assert_memory_equal(&s->limits[k].val, &cp->limits[i].val,
				    sizeof(cp->limits[i].val));
	}
}

/* ------------------------------------------------------------- tests */

static void round_trip(uint32_t n, uint32_t nb)
{
	struct fg_compiler *c = fg_compiler_new(NULL);
	struct fg_dpdk_ctl_set *s, *d = NULL;
	struct fg_dpdk_ctl_buf b;
	struct fg_compiled *cp;
	struct fg_ruleset rs;
	char err[256];

	assert_non_null(c);
	make_rules(&rs, n, nb);
	cp = compile(c, &rs, 7);
	s = set_of(cp, NULL);
	assert_set_is(s, cp);
	enc_full(s, &b);
	assert_int_equal(fg_dpdk_ctl_decode_full(b.p, b.len, &d, err, sizeof(err)), 0);
	assert_set_is(d, cp);
	assert_same_set(s, d);
	fg_dpdk_ctl_buf_free(&b);
	fg_dpdk_ctl_set_free(d);
	fg_dpdk_ctl_set_free(s);
	fg_compiled_free(cp);
	fg_ruleset_free(&rs);
	fg_compiler_free(c);
}

static void test_full_round_trip_small(void **state)
{
	(void)state;
	round_trip(3, 3);
}

static void test_full_round_trip_1000(void **state)
{
	(void)state;
	round_trip(1000, 10);
}

static void test_empty_set(void **state)
{
	struct fg_dpdk_ctl_set *e = fg_dpdk_ctl_set_empty(), *d = NULL;
	struct fg_dpdk_ctl_buf b;
	char err[256];

	(void)state;
	assert_non_null(e);
	assert_int_equal(fg_dpdk_ctl_set_check(e, err, sizeof(err)), 0);
	enc_full(e, &b);
	assert_int_equal(fg_dpdk_ctl_decode_full(b.p, b.len, &d, err, sizeof(err)), 0);
	assert_int_equal(d->version, 0);
	assert_int_equal(d->nsvcs, 0);
	fg_dpdk_ctl_buf_free(&b);
	fg_dpdk_ctl_set_free(d);
	fg_dpdk_ctl_set_free(e);
}

/* Every prefix of a body is refused and returns nothing. */
static void assert_prefixes_refused(const struct fg_dpdk_ctl_set *base,
				    const struct fg_dpdk_ctl_buf *b, size_t step)
{
	struct fg_dpdk_ctl_set *d;
	char err[256];
	size_t n;
	int rc;

	for (n = 0; n < b->len; n += (n + step < b->len ? step : 1)) {
		uint8_t *copy = malloc(n ? n : 1); /* ASan sees any over-read */

		assert_non_null(copy);
		memcpy(copy, b->p, n);
		d = (struct fg_dpdk_ctl_set *)1;
		err[0] = '\0';
		rc = base ? fg_dpdk_ctl_decode_delta(base, copy, n, &d, err, sizeof(err)) :
			    fg_dpdk_ctl_decode_full(copy, n, &d, err, sizeof(err));
		if (rc != -EINVAL)
			fail_msg("prefix of %zu/%zu bytes: rc %d", n, b->len, rc);
		assert_null(d);
		assert_true(err[0] != '\0');
		free(copy);
	}
}

static void test_full_prefixes(void **state)
{
	struct fg_compiler *c = fg_compiler_new(NULL);
	struct fg_dpdk_ctl_set *s;
	struct fg_dpdk_ctl_buf b;
	struct fg_compiled *cp;
	struct fg_ruleset rs;

	(void)state;
	make_rules(&rs, 3, 3);
	cp = compile(c, &rs, 1);
	s = set_of(cp, NULL);
	enc_full(s, &b);
	/* Every prefix of a small set (services, rings, backends, limits
	 * each cut at every byte). */
	assert_prefixes_refused(NULL, &b, 1);
	fg_dpdk_ctl_buf_free(&b);
	fg_dpdk_ctl_set_free(s);
	fg_compiled_free(cp);
	fg_ruleset_free(&rs);

	/* 1,000 services: every 9,973rd prefix and the last 300 (the
	 * limits, the last backends). */
	make_rules(&rs, 1000, 10);
	fg_compiler_free(c);
	c = fg_compiler_new(NULL);
	cp = compile(c, &rs, 1);
	s = set_of(cp, NULL);
	enc_full(s, &b);
	{
		struct fg_dpdk_ctl_buf head = b;

		head.len = b.len - 300;
		assert_prefixes_refused(NULL, &head, 9973);
	}
	{
		struct fg_dpdk_ctl_set *d;
		char err[256];
		size_t n;

		for (n = b.len - 300; n < b.len; n++) {
			d = NULL;
			assert_int_equal(fg_dpdk_ctl_decode_full(b.p, n, &d, err,
								 sizeof(err)),
					 -EINVAL);
			assert_null(d);
		}
	}
	fg_dpdk_ctl_buf_free(&b);
	fg_dpdk_ctl_set_free(s);
	fg_compiled_free(cp);
	fg_ruleset_free(&rs);
	fg_compiler_free(c);
}

/* A version, the next one with one service's backends changed, one
 * service added, one dropped, a limit dropped. */
struct two {
	struct fg_compiler *c;
	struct fg_ruleset rs;
	struct fg_compiled *cp1, *cp2;
	struct fg_dpdk_ctl_set *s1, *s2;
};

static void two_versions(struct two *t, uint32_t n, uint32_t nb)
{
	memset(t, 0, sizeof(*t));
	t->c = fg_compiler_new(NULL);
	make_rules(&t->rs, n, nb);
	t->cp1 = compile(t->c, &t->rs, 10);
	t->s1 = set_of(t->cp1, NULL);
	assert_int_equal(fg_compiler_commit(t->c, t->cp1), 0);

	/* svc-2: one backend more and one down; svc-0 dropped; a new one;
	 * the global limit dropped. */
	t->rs.services[2].backends = realloc(t->rs.services[2].backends,
					     (nb + 1) * sizeof(struct fg_rule_backend));
	t->rs.services[2].backends[nb] = t->rs.services[2].backends[0];
	t->rs.services[2].backends[nb].addr = fg_test_addr4(0xc613ff01U);
	t->rs.services[2].backends[1].state = FG_BACKEND_DOWN;
	t->rs.services[2].nbackends = nb + 1;
	free(t->rs.services[0].backends);
	memmove(&t->rs.services[0], &t->rs.services[1],
		(t->rs.nservices - 1) * sizeof(t->rs.services[0]));
	t->rs.nservices--;
	add_svc(&t->rs, n + 1, nb);
	memmove(&t->rs.limits[0], &t->rs.limits[1],
		(t->rs.nlimits - 1) * sizeof(t->rs.limits[0]));
	t->rs.nlimits--;
	t->cp2 = compile(t->c, &t->rs, 11);
	t->s2 = set_of(t->cp2, t->s1);
}

static void two_free(struct two *t)
{
	fg_dpdk_ctl_set_free(t->s1);
	fg_dpdk_ctl_set_free(t->s2);
	fg_compiled_free(t->cp1);
	fg_compiled_free(t->cp2);
	fg_ruleset_free(&t->rs);
	fg_compiler_free(t->c);
}

static void test_delta_round_trip(void **state)
{
	struct fg_dpdk_ctl_buf b = { 0 }, full = { 0 };
	struct fg_dpdk_ctl_set *d = NULL;
	struct two t;
	char err[256];

	(void)state;
	two_versions(&t, 1000, 10);
	assert_int_equal(fg_dpdk_ctl_encode_delta(t.s1, t.s2, &b), 0);
	assert_int_equal(fg_dpdk_ctl_decode_delta(t.s1, b.p, b.len, &d, err,
						  sizeof(err)), 0);
	assert_set_is(d, t.cp2);
	assert_same_set(d, t.s2);
	/* Two services written (svc-2 and the new one) with their rings,
	 * one dropped, three backends, a limit dropped: a small part of
	 * the whole. */
	enc_full(t.s2, &full);
	print_message("FULL %zu bytes, DELTA %zu bytes (1000 x 10: 2 services written, 1 dropped)\n",
		      full.len, b.len);
	assert_true(b.len * 50 < full.len);
	/* Against another base: -ESTALE, nothing returned. */
	d->version = 999; /* d is a set, not base */
	{
		struct fg_dpdk_ctl_set *x = (void *)1;

		assert_int_equal(fg_dpdk_ctl_decode_delta(d, b.p, b.len, &x, err,
							  sizeof(err)), -ESTALE);
		assert_null(x);
	}
	fg_dpdk_ctl_set_free(d);
	fg_dpdk_ctl_buf_free(&b);
	fg_dpdk_ctl_buf_free(&full);
	two_free(&t);
}

/* A DELTA that changes one backend's weight costs that service: its
 * entry and ring, its backends unchanged. Bytes follow what changed. */
static void test_delta_size(void **state)
{
	struct fg_compiler *c = fg_compiler_new(NULL);
	struct fg_dpdk_ctl_buf b = { 0 }, b2 = { 0 };
	struct fg_dpdk_ctl_set *s1, *s2, *s3;
	struct fg_compiled *cp;
	struct fg_ruleset rs;

	(void)state;
	make_rules(&rs, 1000, 10);
	cp = compile(c, &rs, 1);
	s1 = set_of(cp, NULL);
	assert_int_equal(fg_compiler_commit(c, cp), 0);
	fg_compiled_free(cp);

	rs.services[500].backends[3].weight = 50;
	cp = compile(c, &rs, 2);
	s2 = set_of(cp, s1);
	assert_int_equal(fg_compiler_commit(c, cp), 0);
	fg_compiled_free(cp);
	assert_int_equal(fg_dpdk_ctl_encode_delta(s1, s2, &b), 0);
	/* Config (~530 bytes) + one service with its ring (1021 x 4). */
	assert_true(b.len < 530 + 100 + 1021 * 4 + 200);

	/* Ten services changed: about ten times one. */
	{
		uint32_t i;

		for (i = 0; i < 10; i++)
			rs.services[i * 90].backends[0].weight = 7;
	}
	cp = compile(c, &rs, 3);
	s3 = set_of(cp, s2);
	fg_compiled_free(cp);
	assert_int_equal(fg_dpdk_ctl_encode_delta(s2, s3, &b2), 0);
	assert_true(b2.len > 8 * (b.len - 600));
	assert_true(b2.len < 12 * b.len);
	/* Nothing changed: only the head and config. */
	{
		struct fg_dpdk_ctl_buf z = { 0 };

		assert_int_equal(fg_dpdk_ctl_encode_delta(s3, s3, &z), 0);
		assert_true(z.len < 600);
		fg_dpdk_ctl_buf_free(&z);
	}
	fg_dpdk_ctl_buf_free(&b);
	fg_dpdk_ctl_buf_free(&b2);
	fg_dpdk_ctl_set_free(s1);
	fg_dpdk_ctl_set_free(s2);
	fg_dpdk_ctl_set_free(s3);
	fg_ruleset_free(&rs);
	fg_compiler_free(c);
}

static void test_delta_prefixes(void **state)
{
	struct fg_dpdk_ctl_buf b = { 0 };
	struct two t;

	(void)state;
	two_versions(&t, 4, 3);
	assert_int_equal(fg_dpdk_ctl_encode_delta(t.s1, t.s2, &b), 0);
	assert_prefixes_refused(t.s1, &b, 1);
	fg_dpdk_ctl_buf_free(&b);
	two_free(&t);
}

/* Offsets into a small FULL body, for targeted corruption. */
#define OFF_VERSION 0
#define OFF_GEN 8
#define OFF_CONFIG 12

static int decode_mod(const struct fg_dpdk_ctl_buf *b, size_t off,
		      const void *bytes, size_t n, bool extra)
{
	uint8_t *copy = malloc(b->len + 1);
	struct fg_dpdk_ctl_set *d = (void *)1;
	char err[256] = "";
	int rc;

	assert_non_null(copy);
	memcpy(copy, b->p, b->len);
	if (n)
		memcpy(copy + off, bytes, n);
	rc = fg_dpdk_ctl_decode_full(copy, b->len + extra, &d, err, sizeof(err));
	if (rc)
		assert_null(d);
	else
		fg_dpdk_ctl_set_free(d);
	free(copy);
	return rc;
}

static void test_full_malformed(void **state)
{
	struct fg_compiler *c = fg_compiler_new(NULL);
	struct fg_dpdk_ctl_set *s;
	struct fg_dpdk_ctl_buf b;
	struct fg_compiled *cp;
	struct fg_ruleset rs;
	uint8_t x[8];
	size_t svc0, i;
	int bad = 0;

	(void)state;
	make_rules(&rs, 3, 3);
	cp = compile(c, &rs, 1);
	s = set_of(cp, NULL);
	enc_full(s, &b);
	assert_int_equal(decode_mod(&b, 0, NULL, 0, false), 0);
	/* A byte after the end. */
	assert_int_equal(decode_mod(&b, 0, NULL, 0, true), -EINVAL);
	/* Generation 2. */
	x[0] = 2;
	assert_int_equal(decode_mod(&b, OFF_GEN, x, 1, false), -EINVAL);
	/* Version 0 with entries. */
	memset(x, 0, 8);
	assert_int_equal(decode_mod(&b, OFF_VERSION, x, 8, false), -EINVAL);
	/* 9 global limits. */
	x[0] = 9;
	assert_int_equal(decode_mod(&b, OFF_CONFIG + 1, x, 1, false), -EINVAL);
	/* Service count beyond what the body holds. */
	svc0 = OFF_CONFIG + 2 + 2 * s->config.nglobal_limits + 8 * 64;
	memset(x, 0xff, 4);
	assert_int_equal(decode_mod(&b, svc0, x, 4, false), -EINVAL);
	/* A name of 64 bytes; one of an upper-case letter. */
	x[0] = 64;
	assert_int_equal(decode_mod(&b, svc0 + 8, x, 1, false), -EINVAL);
	x[0] = 'S';
	assert_int_equal(decode_mod(&b, svc0 + 9, x, 1, false), -EINVAL);
	/* Family 5; protocol 1. */
	i = svc0 + 8 + 1 + strlen(s->svcs[0].name) + 18;
	x[0] = 1;
	assert_int_equal(decode_mod(&b, i, x, 1, false), -EINVAL);
	x[0] = 5;
	assert_int_equal(decode_mod(&b, i + 1, x, 1, false), -EINVAL);
	/* Forward 3. */
	x[0] = 3;
	assert_int_equal(decode_mod(&b, i + 10, x, 1, false), -EINVAL);
	/* A ring slot naming another service's backend. */
	{
		size_t ring = i + 13 + 2 * s->svcs[0].val.nlimits + 3;
		uint32_t other = s->backends[s->nbackends - 1].id;

		assert_int_not_equal(s->backends[s->nbackends - 1].val.svc_id,
				     s->svcs[0].val.id);
		x[0] = (uint8_t)other;
		x[1] = (uint8_t)(other >> 8);
		x[2] = x[3] = 0;
		assert_int_equal(decode_mod(&b, ring, x, 4, false), -EINVAL);
	}
	/* Every byte flipped: refused, or a set that passes the check
	 * (decode checks whatever it returns); never a crash (ASan). */
	for (i = 0; i < b.len; i++) {
		x[0] = b.p[i] ^ 0xff;
		if (decode_mod(&b, i, x, 1, false))
			bad++;
	}
	assert_true(bad > 0);
	fg_dpdk_ctl_buf_free(&b);
	fg_dpdk_ctl_set_free(s);
	fg_compiled_free(cp);
	fg_ruleset_free(&rs);
	fg_compiler_free(c);
}

static void test_delta_malformed(void **state)
{
	struct fg_dpdk_ctl_buf b = { 0 };
	struct fg_dpdk_ctl_set *d;
	struct two t;
	char err[256];
	uint8_t *copy;
	size_t i;

	(void)state;
	two_versions(&t, 4, 3);
	assert_int_equal(fg_dpdk_ctl_encode_delta(t.s1, t.s2, &b), 0);
	copy = malloc(b.len);
	assert_non_null(copy);
	for (i = 0; i < b.len; i++) {
		memcpy(copy, b.p, b.len);
		copy[i] ^= 0x5a;
		d = (void *)1;
		if (fg_dpdk_ctl_decode_delta(t.s1, copy, b.len, &d, err,
					     sizeof(err)))
			assert_null(d);
		else
			fg_dpdk_ctl_set_free(d);
	}
	/* base is untouched by all of it. */
	assert_set_is(t.s1, t.cp1);
	free(copy);
	fg_dpdk_ctl_buf_free(&b);
	two_free(&t);
}

/* The l7 section's bytes of s, as a string of "rules|blob". */
static void l7_is(const struct fg_dpdk_ctl_set *s, const char *rules,
		  const char *blob)
{
	const void *r, *b;
	size_t rn, bn;

	assert_int_equal(fg_dpdk_ctl_set_l7_get(s, &r, &rn, &b, &bn),
			 rules != NULL);
	if (!rules) {
		assert_null(r);
		assert_int_equal(rn + bn, 0);
		return;
	}
	assert_int_equal(rn, strlen(rules));
	assert_memory_equal(r, rules, rn);
	assert_int_equal(bn, strlen(blob));
	assert_memory_equal(b, blob, bn);
}

/*
 * The L7 section rides FULL and DELTA: whole in FULL; in a DELTA only
 * when it changed (a flag byte otherwise), the unchanged one shared with
 * the base; dropped as an empty one. Parts alone, lengths beyond the
 * bounds, a bad flag and truncations are refused.
 */
static void test_l7_section(void **state)
{
	static const char rules[] = "{\"services\":{}}", blob[] = "FGL7-blob";
	struct fg_dpdk_ctl_buf b = { 0 }, d0 = { 0 };
	struct fg_dpdk_ctl_set *x = NULL, *y = NULL;
	struct two t;
	char err[256];
	size_t off;

	(void)state;
	two_versions(&t, 20, 3);
	assert_int_equal(fg_dpdk_ctl_set_l7(t.s2, rules, 1, NULL, 0, NULL),
			 -EINVAL);
	assert_int_equal(fg_dpdk_ctl_set_l7(t.s2, rules, strlen(rules), blob,
					    FG_DPDK_CTL_L7_BLOB_MAX + 1, NULL),
			 -EINVAL);
	l7_is(t.s2, NULL, NULL);
	/* Without a section: the DELTA says so in one byte. */
	assert_int_equal(fg_dpdk_ctl_encode_delta(t.s1, t.s2, &d0), 0);
	assert_int_equal(d0.p[d0.len - 1], 0);

	assert_int_equal(fg_dpdk_ctl_set_l7(t.s2, rules, strlen(rules), blob,
					    strlen(blob), t.s1), 0);
	enc_full(t.s2, &b);
	assert_int_equal(fg_dpdk_ctl_decode_full(b.p, b.len, &x, err,
						 sizeof(err)), 0);
	l7_is(x, rules, blob);
	assert_same_set(x, t.s2);
	fg_dpdk_ctl_set_free(x);
	fg_dpdk_ctl_buf_free(&b);

	/* A DELTA that brings the section, then one that keeps it: a flag
	 * byte, and the section shared. */
	assert_int_equal(fg_dpdk_ctl_encode_delta(t.s1, t.s2, &b), 0);
	assert_int_equal(b.len, d0.len + 8 + strlen(rules) + strlen(blob));
	assert_int_equal(fg_dpdk_ctl_decode_delta(t.s1, b.p, b.len, &x, err,
						  sizeof(err)), 0);
	l7_is(x, rules, blob);
	fg_dpdk_ctl_buf_free(&b);
	y = fg_dpdk_ctl_set_empty();
	assert_non_null(y);
	assert_int_equal(fg_dpdk_ctl_set_l7(y, rules, strlen(rules), blob,
					    strlen(blob), x), 0);
	assert_true(fg_dpdk_ctl_set_l7_same(x, y));
	assert_false(fg_dpdk_ctl_set_l7_same(t.s1, y));
	fg_dpdk_ctl_set_free(y);
	assert_int_equal(fg_dpdk_ctl_encode_delta(x, x, &b), 0);
	assert_int_equal(b.p[b.len - 1], 0);
	fg_dpdk_ctl_buf_free(&b);

	/* Dropped: an empty section follows the flag. */
	assert_int_equal(fg_dpdk_ctl_set_l7(t.s1, NULL, 0, NULL, 0, NULL), 0);
	assert_int_equal(fg_dpdk_ctl_encode_delta(x, t.s1, &b), 0);
	assert_memory_equal(b.p + b.len - 9, "\1\0\0\0\0\0\0\0\0", 9);
	y = NULL;
	assert_int_equal(fg_dpdk_ctl_decode_delta(x, b.p, b.len, &y, err,
						  sizeof(err)), 0);
	l7_is(y, NULL, NULL);
	fg_dpdk_ctl_set_free(y);
	fg_dpdk_ctl_buf_free(&b);

	/* Malformed FULL sections. */
	enc_full(t.s2, &b);
	off = b.len - (8 + strlen(rules) + strlen(blob));
	assert_int_equal(decode_mod(&b, off, "\0\0\0\0", 4, false), -EINVAL);
	assert_int_equal(decode_mod(&b, off + 3, "\x10", 1, false), -EINVAL);
	assert_int_equal(decode_mod(&b, off, NULL, 0, true), -EINVAL);
	assert_int_equal(fg_dpdk_ctl_decode_full(b.p, b.len - 1, &y, err,
						 sizeof(err)), -EINVAL);
	assert_null(y);
	fg_dpdk_ctl_buf_free(&b);
	/* A bad flag. */
	assert_int_equal(fg_dpdk_ctl_encode_delta(t.s1, t.s1, &b), 0);
	b.p[b.len - 1] = 2;
	assert_int_equal(fg_dpdk_ctl_decode_delta(t.s1, b.p, b.len, &y, err,
						  sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "l7 flag 2"));
	fg_dpdk_ctl_buf_free(&b);

	fg_dpdk_ctl_set_free(x);
	fg_dpdk_ctl_buf_free(&d0);
	two_free(&t);
}

static void test_stats_codec(void **state)
{
	struct fg_dpdk_ctl_counters *c = calloc(1, sizeof(*c)),
				    *d = calloc(1, sizeof(*d));
	struct fg_dpdk_ctl_buf b = { 0 };
	struct fg_compiler *comp = fg_compiler_new(NULL);
	struct fg_dpdk_ctl_set *s;
	struct fg_compiled *cp;
	struct fg_ruleset rs;
	char err[256];
	size_t n;
	uint32_t i;

	(void)state;
	make_rules(&rs, 5, 4);
	cp = compile(comp, &rs, 3);
	s = set_of(cp, NULL);
	c->version = 3;
	c->nports = 2;
	c->port[1].rx = 11;
	c->port[1].tx_errors = 4;
	c->nlcores = 2;
	c->lcore[0].drops[FG_DROP_LIMITED] = 5;
	c->lcore[1].drops[FG_DROP_LIMITED] = 6;
	c->lcore[1].handoff = 9;
	for (i = 0; i < s->nsvcs; i++)
		c->svc[s->svcs[i].val.id].packets = 100 + i;
	for (i = 0; i < s->nbackends; i++)
		c->be[s->backends[i].id].new_flows = 7 + i;
	c->limit[s->limits[0].val.id].limited = 42;
	c->svc[FG_SVC_MAX - 1].packets = 1; /* not in the set: not sent */
	assert_int_equal(fg_dpdk_ctl_encode_stats(c, s, &b), 0);
	assert_int_equal(fg_dpdk_ctl_decode_stats(b.p, b.len, d, err, sizeof(err)), 0);
	assert_int_equal(d->version, 3);
	assert_int_equal(d->port[1].rx, 11);
	assert_int_equal(d->port[1].tx_errors, 4);
	assert_int_equal(d->drops[FG_DROP_LIMITED], 11);
	assert_int_equal(d->lcore[1].handoff, 9);
	assert_int_equal(d->svc[s->svcs[4].val.id].packets, 104);
	assert_int_equal(d->be[s->backends[3].id].new_flows, 10);
	assert_int_equal(d->limit[s->limits[0].val.id].limited, 42);
	assert_int_equal(d->svc[FG_SVC_MAX - 1].packets, 0);
	assert_null(d->l7);
	for (n = 0; n < b.len; n++)
		assert_int_equal(fg_dpdk_ctl_decode_stats(b.p, n, d, err,
							  sizeof(err)), -EINVAL);

	/* The L7 engine's counters, by name: routes, limits, seckill rules
	 * with their reasons and items (one rule's single item is ""). */
	c->l7 = fg_dpdk_ctl_l7_counters_new(2, 1, 2, 3);
	assert_non_null(c->l7);
	strcpy(c->l7->routes[0].name, "api");
	c->l7->routes[0].forwarded = 5;
	strcpy(c->l7->routes[1].name, "dead");
	c->l7->routes[1].no_backend = 6;
	strcpy(c->l7->limits[0].name, "perip");
	c->l7->limits[0].limited = 7;
	strcpy(c->l7->rules[0].name, "flash");
	c->l7->rules[0].reason[0] = 8;
	c->l7->rules[0].reason[FG_DPDK_CTL_SK_REASONS - 1] = 9;
	c->l7->rules[0].items = 2;
	c->l7->rules[0].items_max = 64;
	c->l7->rules[0].nitems = 2;
	memcpy(c->l7->items[0].name, "1001", c->l7->items[0].len = 4);
	c->l7->items[0].allowance = 10;
	memset(c->l7->items[1].name, 'x', c->l7->items[1].len =
	       FG_DPDK_CTL_ITEM_MAX);
	c->l7->items[1].stock_left = 11;
	strcpy(c->l7->rules[1].name, "one");
	c->l7->rules[1].item_first = 2;
	c->l7->rules[1].nitems = 1;
	c->l7->items[2].sold_out = 12;
	c->l7->rules[1].items_cut = true;
	fg_dpdk_ctl_buf_free(&b);
	assert_int_equal(fg_dpdk_ctl_encode_stats(c, s, &b), 0);
	assert_int_equal(fg_dpdk_ctl_decode_stats(b.p, b.len, d, err, sizeof(err)), 0);
	assert_non_null(d->l7);
	assert_int_equal(d->l7->nroutes, 2);
	assert_string_equal(d->l7->routes[1].name, "dead");
	assert_int_equal(d->l7->routes[1].no_backend, 6);
	assert_int_equal(d->l7->routes[0].forwarded, 5);
	assert_string_equal(d->l7->limits[0].name, "perip");
	assert_int_equal(d->l7->limits[0].limited, 7);
	assert_int_equal(d->l7->nrules, 2);
	assert_int_equal(d->l7->rules[0].reason[FG_DPDK_CTL_SK_REASONS - 1], 9);
	assert_int_equal(d->l7->rules[0].items_max, 64);
	assert_int_equal(d->l7->nitems, 3);
	assert_int_equal(d->l7->items[1].len, FG_DPDK_CTL_ITEM_MAX);
	assert_int_equal(d->l7->items[1].stock_left, 11);
	assert_int_equal(d->l7->rules[1].item_first, 2);
	assert_int_equal(d->l7->items[2].len, 0);
	assert_int_equal(d->l7->items[2].sold_out, 12);
	assert_false(d->l7->rules[0].items_cut);
	assert_true(d->l7->rules[1].items_cut);
	assert_int_equal(d->limit[s->limits[0].val.id].limited, 42);
	for (n = 0; n < b.len; n++) {
		assert_int_equal(fg_dpdk_ctl_decode_stats(b.p, n, d, err,
							  sizeof(err)), -EINVAL);
		assert_null(d->l7);
	}
	/* A peer that knows another number of seckill reasons. */
	n = b.len - 1 - (2 * (1 + 8 * FG_DPDK_CTL_SK_REASONS + 12) + 5 + 4 +
			 FG_DPDK_CTL_ITEM_MAX + 1 + 3 * 41) - 4;
	b.p[n] ^= 1;
	assert_int_equal(fg_dpdk_ctl_decode_stats(b.p, b.len, d, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "seckill reasons"));
	fg_dpdk_ctl_counters_clear(c);
	fg_dpdk_ctl_counters_clear(d);
	free(c);
	free(d);
	fg_dpdk_ctl_buf_free(&b);
	fg_dpdk_ctl_set_free(s);
	fg_compiled_free(cp);
	fg_ruleset_free(&rs);
	fg_compiler_free(comp);
}

/* A stock exchange's request and answer: two ops, two engines, one of
 * them with two items (one of the longest name, one empty). */
static void stock_example(struct fg_dpdk_ctl_stock *x)
{
	uint32_t i;

	memset(x, 0, sizeof(*x));
	assert_int_equal(fg_dpdk_ctl_stock_reserve(x, 2, 2, 2), 0);
	x->all = true;
	x->nops = 2;
	for (i = 0; i < 2; i++) {
		struct fg_dpdk_ctl_stock_op *o = &x->ops[i];

		snprintf(o->rule, sizeof(o->rule), "flash-%u", i);
		o->lcore = i + 3;
		o->epoch = 0x1122334455667788ULL + i;
		o->kind = i ? FG_DPDK_CTL_STOCK_LEFT : FG_DPDK_CTL_STOCK_GRANT;
		o->len = i ? 0 : FG_DPDK_CTL_ITEM_MAX;
		memset(o->item, 'a' + (int)i, o->len);
		o->expect = 40 + i;
		o->n = 7 + i;
		x->res[i].rc = i ? -ESTALE : 0;
		x->res[i].granted = 47 + i;
		x->res[i].admitted = 30 + i;
	}
	x->nengs = 2;
	x->nitems = 2;
	for (i = 0; i < 2; i++) {
		struct fg_dpdk_ctl_stock_eng *e = &x->engs[i];

		snprintf(e->rule, sizeof(e->rule), "rule-%u", i);
		e->lcore = i;
		e->epoch = 99 + i;
		e->stock = 1000;
		e->rate_milli = 41666;
		e->batch = 42;
		e->items = 2 - i * 2;
		e->items_max = 64;
		e->item_first = 0;
		e->nitems = i ? 0 : 2;
	}
	x->items[0].len = FG_DPDK_CTL_ITEM_MAX;
	memset(x->items[0].name, 'z', FG_DPDK_CTL_ITEM_MAX);
	x->items[0].wants = 1;
	x->items[0].granted = 9;
	x->items[0].admitted = 9;
	x->items[1].len = 0;
	x->items[1].granted = 3;
}

/*
 * The stock exchange's bodies: both round-trip; every truncated prefix,
 * trailing bytes and out-of-range fields are refused with nothing kept.
 */
static void test_stock_codec(void **state)
{
	struct fg_dpdk_ctl_stock x, y = { 0 };
	struct fg_dpdk_ctl_buf rq = { 0 }, an = { 0 };
	char err[256];
	size_t n;

	(void)state;
	stock_example(&x);
	assert_int_equal(fg_dpdk_ctl_encode_stock_req(&x, &rq), 0);
	assert_int_equal(fg_dpdk_ctl_encode_stock(&x, &an), 0);
	assert_int_equal(fg_dpdk_ctl_decode_stock_req(rq.p, rq.len, &y, err,
						      sizeof(err)), 0);
	assert_true(y.all);
	assert_int_equal(y.nops, 2);
	assert_string_equal(y.ops[1].rule, "flash-1");
	assert_int_equal(y.ops[0].len, FG_DPDK_CTL_ITEM_MAX);
	assert_memory_equal(y.ops[0].item, x.ops[0].item, FG_DPDK_CTL_ITEM_MAX);
	assert_int_equal(y.ops[1].kind, FG_DPDK_CTL_STOCK_LEFT);
	assert_int_equal(y.ops[0].epoch, 0x1122334455667788ULL);
	assert_int_equal(y.ops[1].expect, 41);
	assert_int_equal(y.ops[1].n, 8);
	assert_int_equal(y.res[0].rc, 0);  /* zeroed for the answer */
	assert_int_equal(fg_dpdk_ctl_decode_stock(an.p, an.len, &y, err,
						  sizeof(err)), 0);
	assert_int_equal(y.res[1].rc, -ESTALE);
	assert_int_equal(y.res[1].granted, 48);
	assert_int_equal(y.res[1].admitted, 31);
	assert_int_equal(y.nengs, 2);
	assert_string_equal(y.engs[1].rule, "rule-1");
	assert_int_equal(y.engs[0].rate_milli, 41666);
	assert_int_equal(y.engs[0].batch, 42);
	assert_int_equal(y.engs[0].items_max, 64);
	assert_int_equal(y.engs[0].nitems, 2);
	assert_int_equal(y.engs[1].item_first, 2);
	assert_int_equal(y.nitems, 2);
	assert_memory_equal(y.items[0].name, x.items[0].name,
			    FG_DPDK_CTL_ITEM_MAX);
	assert_int_equal(y.items[0].wants, 1);
	assert_int_equal(y.items[1].len, 0);
	assert_int_equal(y.items[1].granted, 3);

	for (n = 0; n < rq.len; n++) {
		assert_int_equal(fg_dpdk_ctl_decode_stock_req(rq.p, n, &y, err,
							      sizeof(err)),
				 -EINVAL);
		assert_int_equal(y.nops, 0);
	}
	assert_int_equal(fg_dpdk_ctl_decode_stock_req(rq.p, rq.len, &y, err,
						      sizeof(err)), 0);
	for (n = 0; n < an.len; n++) {
		assert_int_equal(fg_dpdk_ctl_decode_stock(an.p, n, &y, err,
							  sizeof(err)),
				 -EINVAL);
		assert_int_equal(y.nengs, 0);
		assert_int_equal(y.nitems, 0);
	}
	/* Trailing bytes. */
	rq.p[rq.len++] = 0;
	assert_int_equal(fg_dpdk_ctl_decode_stock_req(rq.p, rq.len, &y, err,
						      sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "after the end"));
	rq.len--;
	/* all is a flag; a kind this side does not know. */
	rq.p[0] = 2;
	assert_int_equal(fg_dpdk_ctl_decode_stock_req(rq.p, rq.len, &y, err,
						      sizeof(err)), -EINVAL);
	rq.p[0] = 1;
	n = 1 + 4 + 1 + strlen("flash-0") + 4 + 8;  /* op 0's kind */
	rq.p[n] = 3;
	assert_int_equal(fg_dpdk_ctl_decode_stock_req(rq.p, rq.len, &y, err,
						      sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "kind 3"));
	rq.p[n] = FG_DPDK_CTL_STOCK_GRANT;
	rq.p[n + 1] = FG_DPDK_CTL_ITEM_MAX + 1;  /* item length */
	assert_int_equal(fg_dpdk_ctl_decode_stock_req(rq.p, rq.len, &y, err,
						      sizeof(err)), -EINVAL);
	rq.p[n + 1] = FG_DPDK_CTL_ITEM_MAX;
	assert_int_equal(fg_dpdk_ctl_decode_stock_req(rq.p, rq.len, &y, err,
						      sizeof(err)), 0);
	/* A rule name with a NUL inside ("fl\0sh-0"): all its bytes count. */
	rq.p[1 + 4 + 1 + 2] = 0;
	assert_int_equal(fg_dpdk_ctl_decode_stock_req(rq.p, rq.len, &y, err,
						      sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "not a rule name"));
	rq.p[1 + 4 + 1 + 2] = 'a';
	/* An answer with another number of results than ops. */
	y.nops = 1;
	assert_int_equal(fg_dpdk_ctl_decode_stock(an.p, an.len, &y, err,
						  sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "2 results for 1 ops"));
	y.nops = 2;
	/* A positive rc, an item admitted beyond granted, wants 2. */
	an.p[4] = 1;
	assert_int_equal(fg_dpdk_ctl_decode_stock(an.p, an.len, &y, err,
						  sizeof(err)), -EINVAL);
	an.p[4] = 0;
	n = 4 + 2 * 20 + 4 + 1 + strlen("rule-0") + 44 + 4 + 1 +
	    FG_DPDK_CTL_ITEM_MAX;  /* item 0's wants */
	an.p[n] = 2;
	assert_int_equal(fg_dpdk_ctl_decode_stock(an.p, an.len, &y, err,
						  sizeof(err)), -EINVAL);
	an.p[n] = 1;
	an.p[n + 9] = 10;  /* admitted 10 > granted 9 */
	assert_int_equal(fg_dpdk_ctl_decode_stock(an.p, an.len, &y, err,
						  sizeof(err)), -EINVAL);
	an.p[n + 9] = 9;
	assert_int_equal(fg_dpdk_ctl_decode_stock(an.p, an.len, &y, err,
						  sizeof(err)), 0);
	fg_dpdk_ctl_buf_free(&rq);
	fg_dpdk_ctl_buf_free(&an);
	fg_dpdk_ctl_stock_clear(&x);
	fg_dpdk_ctl_stock_clear(&y);
}

/* Framing: a body across messages comes back whole; headers refused. */
static void test_framing(void **state)
{
	struct fg_dpdk_ctl_buf out = { 0 };
	struct fg_dpdk_ctl_rx rx = { 0 };
	struct fg_dpdk_ctl_hdr h;
	size_t len = 3 * FG_DPDK_CTL_PAYLOAD_MAX + 5, off = 0, i;
	uint8_t *body = malloc(len), bad[FG_DPDK_CTL_HDR];
	char err[256];
	int rc = 0, msgs = 0;

	(void)state;
	for (i = 0; i < len; i++)
		body[i] = (uint8_t)(i * 7);
	assert_int_equal(fg_dpdk_ctl_frame(&out, FG_DPDK_CTL_FULL, 9, body, len), 0);
	while (off < out.len) {
		size_t n;

		memcpy(&n, out.p + off + 12, 4);
		n = (uint32_t)n + FG_DPDK_CTL_HDR;
		assert_true(n <= FG_DPDK_CTL_MSG_MAX);
		assert_int_equal(fg_dpdk_ctl_hdr_parse(out.p + off, n, &h, err,
						       sizeof(err)), 0);
		rc = fg_dpdk_ctl_rx_take(&rx, &h, out.p + off + FG_DPDK_CTL_HDR,
					 err, sizeof(err));
		assert_true(rc >= 0);
		off += n;
		msgs++;
	}
	assert_int_equal(rc, 1);
	assert_int_equal(msgs, 4);
	assert_int_equal(rx.b.len, len);
	assert_memory_equal(rx.b.p, body, len);
	fg_dpdk_ctl_rx_reset(&rx);

	/* A continuation with nothing begun; a wrong magic, protocol,
	 * length. */
	memcpy(bad, out.p, FG_DPDK_CTL_HDR);
	bad[7] = 0;
	h.type = FG_DPDK_CTL_FULL;
	h.flags = 0;
	h.seq = 9;
	h.len = 0;
	assert_int_equal(fg_dpdk_ctl_rx_take(&rx, &h, bad, err, sizeof(err)),
			 -EPROTO);
	bad[0] ^= 1;
	assert_int_equal(fg_dpdk_ctl_hdr_parse(bad, FG_DPDK_CTL_HDR, &h, err,
					       sizeof(err)), -EPROTO);
	bad[0] ^= 1;
	bad[4] = FG_DPDK_CTL_PROTO + 1;
	assert_int_equal(fg_dpdk_ctl_hdr_parse(bad, FG_DPDK_CTL_HDR, &h, err,
					       sizeof(err)), -EPROTONOSUPPORT);
	bad[4] = FG_DPDK_CTL_PROTO - 1;
	assert_int_equal(fg_dpdk_ctl_hdr_parse(bad, FG_DPDK_CTL_HDR, &h, err,
					       sizeof(err)), -EPROTONOSUPPORT);
	bad[4] = FG_DPDK_CTL_PROTO;
	assert_int_equal(fg_dpdk_ctl_hdr_parse(bad, FG_DPDK_CTL_HDR, &h, err,
					       sizeof(err)), -EPROTO);
	/* A body announced beyond the limit. */
	{
		uint8_t p[8] = { 0, 0, 0, 0x10, 0, 0, 0, 0 }; /* 256 MiB */

		h.type = FG_DPDK_CTL_FULL;
		h.flags = FG_DPDK_CTL_F_FIRST;
		h.len = 8;
		assert_int_equal(fg_dpdk_ctl_rx_take(&rx, &h, p, err, sizeof(err)),
				 -EPROTO);
	}
	free(body);
	fg_dpdk_ctl_buf_free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_round_trip_small),
		cmocka_unit_test(test_full_round_trip_1000),
		cmocka_unit_test(test_empty_set),
		cmocka_unit_test(test_full_prefixes),
		cmocka_unit_test(test_full_malformed),
		cmocka_unit_test(test_delta_round_trip),
		cmocka_unit_test(test_delta_size),
		cmocka_unit_test(test_delta_prefixes),
		cmocka_unit_test(test_delta_malformed),
		cmocka_unit_test(test_l7_section),
		cmocka_unit_test(test_stats_codec),
		cmocka_unit_test(test_stock_codec),
		cmocka_unit_test(test_framing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
