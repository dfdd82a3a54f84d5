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

/* "198.19.0.1:8080" or "[2001:db8::1]:8080", as API.md keys backends. */
static void fg_backend_key(const struct fg_rule_backend *b, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	inet_ntop(b->addr.family, b->addr.family == AF_INET ?
		  (const void *)&b->addr.a4 : (const void *)&b->addr.a6, a, sizeof(a));
	snprintf(buf, len, b->addr.family == AF_INET ? "%s:%u" : "[%s]:%u", a,
		 b->port);
}

json_t *fg_stats_json(struct fg_daemon *d)
{
	struct fg_dataplane *dp = d->dp;
	json_t *root, *svcs, *lims, *drops;
	uint64_t dv[FG_DROP_REASON_MAX] = { 0 };
	uint32_t i, j;

	root = json_object();
	svcs = json_object();
	lims = json_object();
	drops = json_object();
	json_object_set_new(root, "version", json_integer((json_int_t)d->applied_version));
	json_object_set_new(root, "services", svcs);
	json_object_set_new(root, "limits", lims);
	json_object_set_new(root, "seckill", json_object());
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
	fg_prom_header(f, "floodgate_drops_total", "counter",
		       "Packets the dataplane dropped or passed on, by reason.");
	json_object_foreach(json_object_get(st, "drops"), name, bv)
		fprintf(f, "floodgate_drops_total{reason=\"%s\"} %" JSON_INTEGER_FORMAT "\n",
			name, json_integer_value(bv));
	fclose(f);
	json_decref(st);
	return out;
}
