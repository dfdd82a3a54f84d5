/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * l7_fixture.h - rule sets for the L7 compiler and engine tests: l7
 * services "shop" and "api" and l4 service "plain" (port 80, TCP), and
 * routes, backends, seckill rules and rps limits added to them the way
 * a checked rule set holds them. cmocka tests only: a failure fails the
 * test.
 */
#ifndef L7_FIXTURE_H
#define L7_FIXTURE_H

#include <stdbool.h>
#include <stdint.h>

#include "fg_l7_compile.h"
#include "fg_rules.h"

extern char err[1024];                    /* the last compile's message */
extern const struct fg_hash_seed seed;
extern const struct fg_rule_respond busy; /* 429, Retry-After 1, JSON */

char *xstrdup(const char *s);             /* NULL stays NULL */
struct fg_ruleset *rs_new(void);
void rs_free(struct fg_ruleset *rs);

/* A route with match host (or NULL), path prefix and regex (or NULL). */
struct fg_rule_route *add_route(struct fg_ruleset *rs, const char *name,
				const char *svc, uint32_t prio,
				const char *host, const char *prefix,
				const char *regex);
/* Backend 198.19.0.<host>:port (0: the service's) appended to r. */
void add_backend(struct fg_rule_route *r, int host, uint16_t port,
		 uint16_t weight, enum fg_backend_state st);
/* Item segment:2, at most 64 items, answers busy and 410. */
struct fg_rule_seckill *add_seckill(struct fg_ruleset *rs,
				    const char *name, const char *svc,
				    uint64_t rate, uint64_t burst);
/* Key src_ip, unit rps, action respond busy. */
struct fg_rule_limit *add_limit(struct fg_ruleset *rs, const char *name,
				const char *svc, uint64_t rate,
				uint64_t burst, bool cluster);

/* A layout with the stock claimer's batch relation. */
struct fg_l7_layout layout(uint32_t lcores, uint32_t nodes,
			   uint32_t node_index);
/* Compile rs (version 7); fail the test on an error. */
struct fg_l7_tables *compile_ok(const struct fg_ruleset *rs,
				const struct fg_l7_layout *lay,
				const struct fg_l7_tables *prev);
/* The compile must fail with rc and a message holding want. */
void compile_bad(const struct fg_ruleset *rs,
		 const struct fg_l7_layout *lay, int rc, const char *want);

/* The index of the rule named name in t (seckill: fails the test when
 * missing; route: -1). */
int seckill_index(const struct fg_l7_tables *t, const char *name);
int route_index(const struct fg_l7_tables *t, const char *name);
/* The host byte of backend index be of t. */
int be_host(const struct fg_l7_tables *t, int be);
/* A 64-bit hash of i, spread (splitmix64). */
uint64_t mix(uint64_t i);

#endif /* L7_FIXTURE_H */
