/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * fg_rules.c - ownership of the in-memory rule model (fg_rules.h).
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "fg_rules.h"

/* fg_http_match_free - see the header. */
void fg_http_match_free(struct fg_rule_http_match *m)
{
	uint32_t i;

	if (!m)
		return;
	free(m->path_prefix);
	free(m->path_regex);
	for (i = 0; i < m->nheaders && i < FG_HTTP_MATCH_HEADERS_MAX; i++)
		free(m->headers[i].regex);
	memset(m, 0, sizeof(*m));
}

/* fg_rule_route_free - see the header. */
void fg_rule_route_free(struct fg_rule_route *r)
{
	if (!r)
		return;
	fg_http_match_free(&r->match);
	free(r->backends);
	memset(r, 0, sizeof(*r));
}

/* fg_rule_seckill_free - see the header. */
void fg_rule_seckill_free(struct fg_rule_seckill *sk)
{
	uint32_t i;

	if (!sk)
		return;
	fg_http_match_free(&sk->match);
	for (i = 0; sk->items && i < sk->nitems; i++)
		free(sk->items[i]);
	free(sk->items);
	memset(sk, 0, sizeof(*sk));
}

/*
 * fg_ruleset_free - free the services (and each one's backends), limits,
 * routes and seckill rules that *rs owns, then zero *rs so a second call
 * is harmless. The struct itself belongs to the caller. Accepts NULL. Context: userspace.
 */
void fg_ruleset_free(struct fg_ruleset *rs)
{
	uint32_t i;

	if (!rs)
		return;
	if (rs->services) {
		for (i = 0; i < rs->nservices; i++)
			free(rs->services[i].backends);
		free(rs->services);
	}
	free(rs->limits);
	for (i = 0; rs->routes && i < rs->nroutes; i++)
		fg_rule_route_free(&rs->routes[i]);
	free(rs->routes);
	for (i = 0; rs->seckill && i < rs->nseckill; i++)
		fg_rule_seckill_free(&rs->seckill[i]);
	free(rs->seckill);
	memset(rs, 0, sizeof(*rs));
}

/*
 * fg_name_valid - true when name matches [a-z0-9][a-z0-9_-]{0,62}
 * (API.md), the rule for node, service and limit names alike. Reads at
 * most FG_NAME_MAX bytes, so a fixed-size name array needs no NUL past
 * that. NULL is not valid. Context: userspace.
 */
bool fg_name_valid(const char *name)
{
	size_t i;

	if (!name || !((name[0] >= 'a' && name[0] <= 'z') ||
		       (name[0] >= '0' && name[0] <= '9')))
		return false;
	for (i = 1; name[i]; i++) {
		char ch = name[i];

		if (i >= FG_NAME_MAX - 1)
			return false;
		if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
		      ch == '_' || ch == '-'))
			return false;
	}
	return true;
}
