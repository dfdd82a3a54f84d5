// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * fg_stats.c - GET /v1/stats and GET /metrics from the dataplane's
 * counters, named after the live rule set. Both are built from one walk
 * (fg_stats_json) so the two can never disagree.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fg_daemon.h"
#include "fg_stats.h"
#include "fg_reconcile.h"
#include "fg_seckill.h"
#include "fg_stock.h"
#include "fg_stock_link.h"

/* "198.19.0.1:8080" or "[2001:db8::1]:8080", as API.md keys backends. */
static void fg_backend_key(const struct fg_rule_backend *b, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	inet_ntop(b->addr.family, b->addr.family == AF_INET ?
		  (const void *)&b->addr.a4 : (const void *)&b->addr.a6, a, sizeof(a));
	snprintf(buf, len, b->addr.family == AF_INET ? "%s:%u" : "[%s]:%u", a,
		 b->port);
}

/* What the claimers of seckill rule name did for floodgate-dpdk's
 * engines (fg_stock_link.h), summed over the lcores; null when none
 * claims for it (no stock, an XDP node, or the process runs no such
 * engine). undersell: stock claimed by engines that ended with it
 * unspent, an upper bound (fg_stock.h). */
static json_t *fg_stats_claims(const struct fg_stock_link *k, const char *name)
{
	struct fg_stock_rule_stats cs;

	if (!k || fg_stock_link_rule_stats(k, name, &cs))
		return json_null();
	return json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:b}",
		"batch", (json_int_t)cs.batch,
		"claims", (json_int_t)cs.claims,
		"claimed", (json_int_t)cs.claimed,
		"granted", (json_int_t)cs.granted,
		"recovered", (json_int_t)cs.recovered,
		"undersell", (json_int_t)cs.lost,
		"conflicts", (json_int_t)cs.conflicts,
		"errors", (json_int_t)cs.errors,
		"ready", cs.ready);
}

/* Seckill rule sk's counters: API.md's admitted, shed, sold_out and
 * stock_left (null without stock; with it, the sum over the items the
 * engine knows), then the allowance the engine holds, the requests by
 * reason and each item's, and the claims (fg_stats_claims). Zeros when
 * the dataplane has none (yet). */
static json_t *fg_stats_seckill(struct fg_dataplane *dp,
				const struct fg_stock_link *k,
				const struct fg_rule_seckill *sk)
{
	struct fg_dp_seckill_stats st;
	json_t *reasons = json_object(), *items = json_object();
	uint64_t shed = 0, left = 0, allow = 0;
	char key[3 * FG_ITEM_MAX + 1];
	uint32_t i;

	memset(&st, 0, sizeof(st));
	if (!dp->ops->seckill_stats || dp->ops->seckill_stats(dp, sk->name, &st))
		memset(&st, 0, sizeof(st));
	for (i = 0; i < FG_DP_SK_REASONS; i++) {
		if (i != FG_SK_ADMITTED && i != FG_SK_SOLD_OUT)
			shed += st.reason[i];
		json_object_set_new(reasons, fg_seckill_reason_name(i),
				    json_integer((json_int_t)st.reason[i]));
	}
	for (i = 0; i < st.nitems; i++) {
		const struct fg_dp_item_stats *it = &st.item[i];

		left += it->stock_left;
		allow += it->allowance;
		/* The item as the store keys it (fg_stock.h): text, "%"
		 * for the single item of a rule without `item`. */
		if (fg_stock_key_item(key, sizeof(key), it->name, it->len) < 0)
			continue;
		json_object_set_new(items, key, json_pack("{s:I,s:I,s:I,s:I,s:o}",
			"admitted", (json_int_t)it->admitted,
			"shed", (json_int_t)it->shed,
			"sold_out", (json_int_t)it->sold_out,
			"allowance", (json_int_t)it->allowance,
			"stock_left", sk->has_stock ?
				json_integer((json_int_t)it->stock_left) : json_null()));
	}
	return json_pack("{s:I,s:I,s:I,s:o,s:I,s:o,s:o,s:I,s:I,s:b,s:o}",
		"admitted", (json_int_t)st.reason[FG_SK_ADMITTED],
		"shed", (json_int_t)shed,
		"sold_out", (json_int_t)st.reason[FG_SK_SOLD_OUT],
		"stock_left", sk->has_stock ? json_integer((json_int_t)left) :
					      json_null(),
		"allowance", (json_int_t)allow,
		"reasons", reasons, "items", items,
		"items_in_use", (json_int_t)st.items_in_use,
		"items_max", (json_int_t)st.items_max,
		"items_cut", st.items_cut,
		"claims", fg_stats_claims(k, sk->name));
}

json_t *fg_stats_json(struct fg_daemon *d)
{
	struct fg_dataplane *dp = d->dp;
	json_t *root, *svcs, *lims, *drops, *routes, *seckill;
	uint64_t dv[FG_DROP_REASON_MAX] = { 0 };
	uint32_t i, j;

	root = json_object();
	routes = json_object();
	seckill = json_object();
	svcs = json_object();
	lims = json_object();
	drops = json_object();
	json_object_set_new(root, "version", json_integer((json_int_t)d->applied_version));
	json_object_set_new(root, "services", svcs);
	json_object_set_new(root, "limits", lims);
	json_object_set_new(root, "routes", routes);
	json_object_set_new(root, "seckill", seckill);
	json_object_set_new(root, "drops", drops);

	for (i = 0; i < d->rules.nservices; i++) {
		const struct fg_rule_service *s = &d->rules.services[i];
		struct fg_counter c = { 0 };
		json_t *bes = json_object();

		dp->ops->service_stats(dp, s->name, &c);
		for (j = 0; j < s->nbackends; j++) {
			const struct fg_rule_backend *b = &s->backends[j];
			struct fg_counter bc = { 0 };
			char key[INET6_ADDRSTRLEN + 10];

			dp->ops->backend_stats(dp, s->name, &b->addr, b->port, &bc);
			fg_backend_key(b, key, sizeof(key));
			json_object_set_new(bes, key, json_pack("{s:I,s:I,s:I,s:b,s:s}",
				"packets", (json_int_t)bc.packets,
				"bytes", (json_int_t)bc.bytes,
				"new_flows", (json_int_t)bc.new_flows,
				"healthy", fg_daemon_backend_up(d, s, b),
				"state", b->state == FG_BACKEND_DRAIN ? "drain" :
					 b->state == FG_BACKEND_DOWN ? "down" : "active"));
		}
		json_object_set_new(svcs, s->name, json_pack("{s:I,s:I,s:I,s:o}",
			"packets", (json_int_t)c.packets, "bytes", (json_int_t)c.bytes,
			"new_flows", (json_int_t)c.new_flows, "backends", bes));
	}
	for (i = 0; i < d->rules.nlimits; i++) {
		struct fg_limit_counter c = { 0 };

		dp->ops->limit_stats(dp, d->rules.limits[i].name, &c);
		json_object_set_new(lims, d->rules.limits[i].name, json_pack("{s:I,s:I}",
			"passed", (json_int_t)c.passed, "limited", (json_int_t)c.limited));
	}
	for (i = 0; i < d->rules.nroutes; i++) {
		struct fg_dp_route_stats rt = { 0 };

		if (dp->ops->route_stats &&
		    dp->ops->route_stats(dp, d->rules.routes[i].name, &rt))
			memset(&rt, 0, sizeof(rt));
		json_object_set_new(routes, d->rules.routes[i].name,
			json_pack("{s:I,s:I}",
				  "forwarded", (json_int_t)rt.forwarded,
				  "no_backend", (json_int_t)rt.no_backend));
	}
	for (i = 0; i < d->rules.nseckill; i++)
		json_object_set_new(seckill, d->rules.seckill[i].name,
				    fg_stats_seckill(dp, d->stock,
						     &d->rules.seckill[i]));
	dp->ops->drop_stats(dp, dv);
	for (i = 0; i < FG_DROP_REASON_MAX; i++)
		json_object_set_new(drops, fg_drop_reason_name(i),
				    json_integer((json_int_t)dv[i]));
	return root;
}

/* Prometheus label values escape backslash, quote and newline. Names are
 * [a-z0-9_-] and backend keys are addresses, so only the quote rule can
 * matter; the escape keeps /metrics well-formed whatever comes. */
static void fg_prom_label(FILE *f, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			fputc('\\', f);
		if (*v == '\n') {
			fputs("\\n", f);
			continue;
		}
		fputc(*v, f);
	}
}

static void fg_prom_header(FILE *f, const char *name, const char *type,
			   const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* /metrics for the L7 engine: routes, seckill rules by reason, items. */
static void fg_metrics_l7(FILE *f, json_t *st)
{
	static const char *const route_out[] = { "forwarded", "no_backend" };
	static const char *const item_out[] = { "admitted", "shed", "sold_out" };
	static const struct {
		const char *field, *metric, *help;
	} item_gauge[] = {
		{ "allowance", "floodgate_seckill_item_allowance",
		  "Stock granted to the dataplane for the item and not yet spent." },
		{ "stock_left", "floodgate_seckill_item_stock_left",
		  "The item's stock not yet handed out in the whole cluster (rules with stock)." },
	};
	static const struct {
		const char *field, *metric, *help;
	} claim_ctr[] = {
		{ "claims", "floodgate_seckill_claims_total",
		  "Stock claims this node's claimers landed in the store." },
		{ "claimed", "floodgate_seckill_claimed_total",
		  "Stock units this node's claimers claimed from the store." },
		{ "undersell", "floodgate_seckill_undersell_total",
		  "Stock units claimed by engines that ended before spending them (an upper bound)." },
	};
	json_t *routes = json_object_get(st, "routes");
	json_t *seckill = json_object_get(st, "seckill"), *v, *it, *x;
	const char *name, *item, *why;
	size_t i;

	fg_prom_header(f, "floodgate_route_requests_total", "counter",
		       "Requests a route took: forwarded to its backends, or answered 503 when none took them.");
	json_object_foreach(routes, name, v)
		for (i = 0; i < 2; i++) {
			fputs("floodgate_route_requests_total{route=\"", f);
			fg_prom_label(f, name);
			fprintf(f, "\",reason=\"%s\"} %" JSON_INTEGER_FORMAT "\n",
				route_out[i],
				json_integer_value(json_object_get(v, route_out[i])));
		}
	fg_prom_header(f, "floodgate_seckill_requests_total", "counter",
		       "Requests a seckill rule judged, by reason.");
	json_object_foreach(seckill, name, v)
		json_object_foreach(json_object_get(v, "reasons"), why, x) {
			fputs("floodgate_seckill_requests_total{seckill=\"", f);
			fg_prom_label(f, name);
			fprintf(f, "\",reason=\"%s\"} %" JSON_INTEGER_FORMAT "\n",
				why, json_integer_value(x));
		}
	fg_prom_header(f, "floodgate_seckill_item_requests_total", "counter",
		       "An item's requests: admitted, shed (respond) or sold out.");
	json_object_foreach(seckill, name, v)
		json_object_foreach(json_object_get(v, "items"), item, it)
			for (i = 0; i < 3; i++) {
				fputs("floodgate_seckill_item_requests_total{seckill=\"", f);
				fg_prom_label(f, name);
				fputs("\",item=\"", f);
				fg_prom_label(f, item);
				fprintf(f, "\",reason=\"%s\"} %" JSON_INTEGER_FORMAT "\n",
					item_out[i],
					json_integer_value(json_object_get(it, item_out[i])));
			}
	for (i = 0; i < sizeof(claim_ctr) / sizeof(claim_ctr[0]); i++) {
		fg_prom_header(f, claim_ctr[i].metric, "counter",
			       claim_ctr[i].help);
		json_object_foreach(seckill, name, v) {
			x = json_object_get(json_object_get(v, "claims"),
					    claim_ctr[i].field);
			if (!json_is_integer(x))
				continue; /* nothing claims for the rule */
			fprintf(f, "%s{seckill=\"", claim_ctr[i].metric);
			fg_prom_label(f, name);
			fprintf(f, "\"} %" JSON_INTEGER_FORMAT "\n",
				json_integer_value(x));
		}
	}
	for (i = 0; i < 2; i++) {
		fg_prom_header(f, item_gauge[i].metric, "gauge", item_gauge[i].help);
		json_object_foreach(seckill, name, v)
			json_object_foreach(json_object_get(v, "items"), item, it) {
				/* stock_left is null for a rule without stock. */
				x = json_object_get(it, item_gauge[i].field);
				if (!json_is_integer(x))
					continue;
				fprintf(f, "%s{seckill=\"", item_gauge[i].metric);
				fg_prom_label(f, name);
				fputs("\",item=\"", f);
				fg_prom_label(f, item);
				fprintf(f, "\"} %" JSON_INTEGER_FORMAT "\n",
					json_integer_value(x));
			}
	}
}

char *fg_metrics_text(struct fg_daemon *d)
{
	static const struct {
		const char *field, *metric, *help;
	} svc_fields[] = {
		{ "packets", "floodgate_service_packets_total", "Packets to the service's VIP." },
		{ "bytes", "floodgate_service_bytes_total", "Bytes to the service's VIP." },
		{ "new_flows", "floodgate_service_new_flows_total", "Flows the service accepted." },
	}, be_fields[] = {
		{ "packets", "floodgate_backend_packets_total", "Packets sent to the backend." },
		{ "bytes", "floodgate_backend_bytes_total", "Bytes sent to the backend." },
		{ "new_flows", "floodgate_backend_new_flows_total", "Flows assigned to the backend." },
	}, lim_fields[] = {
		{ "passed", "floodgate_limit_passed_total", "Packets the limit let through." },
		{ "limited", "floodgate_limit_limited_total", "Packets the limit refused (or would have, in dry run)." },
	};
	json_t *st = fg_stats_json(d), *v, *b, *bv;
	const char *name, *bname;
	char *out = NULL;
	size_t len = 0, i;
	FILE *f;

	f = open_memstream(&out, &len);
	if (!f) {
		json_decref(st);
		return NULL;
	}
	fg_prom_header(f, "floodgate_rules_version", "gauge", "Version of the stored rule set.");
	fprintf(f, "floodgate_rules_version %" PRIu64 "\n", d->rules_version);
	fg_prom_header(f, "floodgate_applied_version", "gauge", "Version of the rule set the dataplane runs.");
	fprintf(f, "floodgate_applied_version %" PRIu64 "\n", d->applied_version);

	for (i = 0; i < sizeof(svc_fields) / sizeof(svc_fields[0]); i++) {
		fg_prom_header(f, svc_fields[i].metric, "counter", svc_fields[i].help);
		json_object_foreach(json_object_get(st, "services"), name, v) {
			fprintf(f, "%s{service=\"", svc_fields[i].metric);
			fg_prom_label(f, name);
			fprintf(f, "\"} %" JSON_INTEGER_FORMAT "\n",
				json_integer_value(json_object_get(v, svc_fields[i].field)));
		}
	}
	for (i = 0; i < sizeof(be_fields) / sizeof(be_fields[0]); i++) {
		fg_prom_header(f, be_fields[i].metric, "counter", be_fields[i].help);
		json_object_foreach(json_object_get(st, "services"), name, v) {
			json_object_foreach(json_object_get(v, "backends"), bname, b) {
				fprintf(f, "%s{service=\"", be_fields[i].metric);
				fg_prom_label(f, name);
				fputs("\",backend=\"", f);
				fg_prom_label(f, bname);
				fprintf(f, "\"} %" JSON_INTEGER_FORMAT "\n",
					json_integer_value(json_object_get(b, be_fields[i].field)));
			}
		}
	}
	fg_prom_header(f, "floodgate_backend_healthy", "gauge",
		       "1 when health checks find the backend up.");
	json_object_foreach(json_object_get(st, "services"), name, v) {
		json_object_foreach(json_object_get(v, "backends"), bname, b) {
			fputs("floodgate_backend_healthy{service=\"", f);
			fg_prom_label(f, name);
			fputs("\",backend=\"", f);
			fg_prom_label(f, bname);
			fprintf(f, "\"} %d\n", json_is_true(json_object_get(b, "healthy")));
		}
	}
	for (i = 0; i < sizeof(lim_fields) / sizeof(lim_fields[0]); i++) {
		fg_prom_header(f, lim_fields[i].metric, "counter", lim_fields[i].help);
		json_object_foreach(json_object_get(st, "limits"), name, v) {
			fprintf(f, "%s{limit=\"", lim_fields[i].metric);
			fg_prom_label(f, name);
			fprintf(f, "\"} %" JSON_INTEGER_FORMAT "\n",
				json_integer_value(json_object_get(v, lim_fields[i].field)));
		}
	}
	fg_metrics_l7(f, st);
	fg_prom_header(f, "floodgate_drops_total", "counter",
		       "Packets the dataplane dropped or passed on, by reason.");
	json_object_foreach(json_object_get(st, "drops"), name, bv)
		fprintf(f, "floodgate_drops_total{reason=\"%s\"} %" JSON_INTEGER_FORMAT "\n",
			name, json_integer_value(bv));
	fclose(f);
	json_decref(st);
	return out;
}
