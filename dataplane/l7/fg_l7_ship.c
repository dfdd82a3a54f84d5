/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * fg_l7_ship.c - the L7 section of a table set (fg_l7_ship.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "fg_err.h"
#include "fg_l7_ship.h"
#include "fg_rules_json.h"
#include "fg_stock.h"

void fg_l7_ship_free(struct fg_l7_ship *s)
{
	if (!s)
		return;
	free(s->rules);
	free(s->blob);
	memset(s, 0, sizeof(*s));
}

/*
 * *sub = the l7 part of rs: arrays of its own holding shallow copies of
 * rs's objects (released with fg_ruleset_view_free, which frees the
 * arrays only). 0 or -ENOMEM.
 */
static int fg_l7_ship_subset(const struct fg_ruleset *rs,
			     struct fg_ruleset *sub)
{
	uint32_t i;

	memset(sub, 0, sizeof(*sub));
	sub->services = calloc(rs->nservices + 1, sizeof(*sub->services));
	sub->limits = calloc(rs->nlimits + 1, sizeof(*sub->limits));
	sub->routes = calloc(rs->nroutes + 1, sizeof(*sub->routes));
	sub->seckill = calloc(rs->nseckill + 1, sizeof(*sub->seckill));
	if (!sub->services || !sub->limits || !sub->routes || !sub->seckill) {
		fg_ruleset_view_free(sub);
		return -ENOMEM;
	}
	for (i = 0; i < rs->nservices; i++)
		if (rs->services[i].mode == FG_MODE_L7)
			sub->services[sub->nservices++] = rs->services[i];
	for (i = 0; i < rs->nlimits; i++)
		if (fg_l7_limit_judged(&rs->limits[i]))
			sub->limits[sub->nlimits++] = rs->limits[i];
	if (rs->nroutes)
		memcpy(sub->routes, rs->routes, rs->nroutes * sizeof(*rs->routes));
	sub->nroutes = rs->nroutes;
	if (rs->nseckill)
		memcpy(sub->seckill, rs->seckill,
		       rs->nseckill * sizeof(*rs->seckill));
	sub->nseckill = rs->nseckill;
	return 0;
}

int fg_l7_ship_build(const struct fg_ruleset *rs, struct fg_l7_ship *out,
		     char *err, size_t errlen)
{
	struct fg_l7_layout lay = { .lcores = 1, .nodes = 1,
				    .batch = fg_stock_batch };
	struct fg_l7_tables *t = NULL;
	struct fg_ruleset sub;
	uint32_t i;
	json_t *j;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!rs)
		return fg_fail(err, errlen, -EINVAL, "no rules");
	/* Every l7 rule names an l7 service (fg_ruleset_check): without
	 * one there is nothing to ship, and nothing is copied for it (this
	 * runs with every push of the dpdk driver). */
	for (i = 0; i < rs->nservices; i++)
		if (rs->services[i].mode == FG_MODE_L7)
			break;
	if (i == rs->nservices)
		return 0;
	if (fg_l7_ship_subset(rs, &sub))
		return fg_fail(err, errlen, -ENOMEM, "out of memory");
	rc = fg_l7_compile(&sub, &lay, NULL, 0, &t, err, errlen);
	if (!rc) {
		/* The rules, as a PUT of the whole set would carry them. */
		j = fg_ruleset_to_json(&sub, 0);
		if (j)
			json_object_del(j, "version");
		out->rules = j ? json_dumps(j, JSON_COMPACT) : NULL;
		json_decref(j);
		if (!out->rules)
			rc = fg_fail(err, errlen, -ENOMEM, "out of memory");
	}
	fg_ruleset_view_free(&sub);
	if (rc) {
		fg_l7_tables_free(t);
		fg_l7_ship_free(out);
		return rc;
	}
	out->rules_len = strlen(out->rules);
	out->blob = t->blob;
	out->blob_len = t->blob_len;
	t->blob = NULL;
	t->blob_len = 0;
	fg_l7_tables_free(t);
	return 0;
}

int fg_l7_ship_tables(const void *rules, size_t rules_len, const void *blob,
		      size_t blob_len, const struct fg_l7_layout *lay,
		      const struct fg_l7_tables *prev, uint64_t version,
		      struct fg_l7_tables **out, char *err, size_t errlen)
{
	struct fg_l7_layout with = *lay;
	struct fg_rule_error re;
	struct fg_ruleset rs;
	json_error_t je;
	json_t *root;
	int rc;

	*out = NULL;
	if (!rules || !rules_len || !blob || !blob_len)
		return fg_fail(err, errlen, -EINVAL,
			       "l7 section: rules and blob go together");
	root = json_loadb(rules, rules_len, JSON_REJECT_DUPLICATES, &je);
	if (!root)
		return fg_fail(err, errlen, -EINVAL,
			       "l7 section: rules are not JSON: %s (at %d)",
			       je.text, je.position);
	memset(&rs, 0, sizeof(rs));
	rc = fg_ruleset_from_json(root, &rs, &re);
	json_decref(root);
	if (rc)
		return fg_fail(err, errlen, rc == -ENOMEM ? -ENOMEM : -EINVAL,
			       "l7 section: %s", re.message);
	with.blob = blob;
	with.blob_len = blob_len;
	rc = fg_l7_compile(&rs, &with, prev, version, out, err, errlen);
	fg_ruleset_free(&rs);
	return rc;
}
