// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * fg_l7_push.c - a test client of floodgate-dpdk's control socket for
 * the L7 section, which floodgated does not push while the API refuses
 * l7 rules (they need the engine's TCP side): it pushes a set whose L7
 * section is that of a rule file (as floodgated's driver would make it),
 * and prints the process's L7 counters. Tests only; not installed.
 *
 *   fg_l7_push SOCKET VERSION RULES|- [--bad-blob]
 *       push the empty L4 set of VERSION with the L7 section of RULES (a
 *       PUT /v1/config body; "-": none); --bad-blob spoils the blob's
 *       header. Prints "applied N", or "refused: WHY" and exits 2.
 *   fg_l7_push SOCKET --stats
 *       prints "route NAME FORWARDED NO_BACKEND", "limit NAME PASSED
 *       LIMITED", "seckill NAME ADMITTED ITEMS_IN_USE ITEMS_MAX" lines,
 *       or "no l7 engine".
 *   fg_l7_push SOCKET --stock [RULE LCORE ITEM N]
 *       one stock exchange asking for every item, as a new claimer does:
 *       prints "engine RULE LCORE EPOCH STOCK BATCH" and "item RULE
 *       LCORE NAME GRANTED ADMITTED" lines; with a grant, then grants N
 *       of ITEM on that engine from the granted just read, and prints
 *       "grant RC GRANTED".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "fg_dpdk_ctl.h"
#include "fg_l7_ship.h"
#include "fg_rules_json.h"

static int fg_push(const char *sock, uint64_t version, const char *rules,
		   int bad)
{
	struct fg_dpdk_ctl_hello hello;
	struct fg_dpdk_ctl_client *cl;
	struct fg_dpdk_ctl_set *s = fg_dpdk_ctl_set_empty();
	struct fg_dpdk_ctl_buf b = { 0 };
	struct fg_l7_ship sh = { 0 };
	struct fg_rule_error re;
	struct fg_ruleset rs;
	uint64_t applied = 0;
	char err[1024];
	json_error_t je;
	json_t *root;
	int e = 0, rc;

	if (!s)
		return 1;
	s->version = version;
	if (strcmp(rules, "-")) {
		root = json_load_file(rules, 0, &je);
		memset(&rs, 0, sizeof(rs));
		if (!root || fg_ruleset_from_json(root, &rs, &re)) {
			fprintf(stderr, "fg_l7_push: %s: %s\n", rules,
				root ? re.message : je.text);
			return 1;
		}
		json_decref(root);
		if (fg_l7_ship_build(&rs, &sh, err, sizeof(err))) {
			fprintf(stderr, "fg_l7_push: %s\n", err);
			return 1;
		}
		fg_ruleset_free(&rs);
		if (bad && sh.blob_len)
			((unsigned char *)sh.blob)[0] ^= 0xff;
		if (fg_dpdk_ctl_set_l7(s, sh.rules, sh.rules_len, sh.blob,
				       sh.blob_len, NULL))
			return 1;
		fg_l7_ship_free(&sh);
	}
	cl = fg_dpdk_ctl_client_connect(sock, "fg_l7_push", 5000, &hello, &e,
					err, sizeof(err));
	if (!cl) {
		fprintf(stderr, "fg_l7_push: %s\n", err);
		return 1;
	}
	if (fg_dpdk_ctl_encode_full(s, &b))
		return 1;
	rc = fg_dpdk_ctl_client_push(cl, FG_DPDK_CTL_FULL, &b, &applied, err,
				     sizeof(err));
	fg_dpdk_ctl_client_close(cl);
	fg_dpdk_ctl_buf_free(&b);
	fg_dpdk_ctl_set_free(s);
	if (rc) {
		printf("refused: %s\n", err);
		return 2;
	}
	printf("applied %llu\n", (unsigned long long)applied);
	return 0;
}

static int fg_stats(const char *sock)
{
	struct fg_dpdk_ctl_counters *c = calloc(1, sizeof(*c));
	struct fg_dpdk_ctl_hello hello;
	struct fg_dpdk_ctl_client *cl;
	const struct fg_dpdk_ctl_l7_counters *x;
	char err[512];
	uint32_t i;
	int e = 0;

	if (!c)
		return 1;
	cl = fg_dpdk_ctl_client_connect(sock, "fg_l7_push", 5000, &hello, &e,
					err, sizeof(err));
	if (!cl || fg_dpdk_ctl_client_stats(cl, c, err, sizeof(err))) {
		fprintf(stderr, "fg_l7_push: %s\n", err);
		fg_dpdk_ctl_client_close(cl);
		free(c);
		return 1;
	}
	fg_dpdk_ctl_client_close(cl);
	x = c->l7;
	if (!x)
		puts("no l7 engine");
	for (i = 0; x && i < x->nroutes; i++)
		printf("route %s %llu %llu\n", x->routes[i].name,
		       (unsigned long long)x->routes[i].forwarded,
		       (unsigned long long)x->routes[i].no_backend);
	for (i = 0; x && i < x->nlimits; i++)
		printf("limit %s %llu %llu\n", x->limits[i].name,
		       (unsigned long long)x->limits[i].passed,
		       (unsigned long long)x->limits[i].limited);
	for (i = 0; x && i < x->nrules; i++)
		printf("seckill %s %llu %u %u\n", x->rules[i].name,
		       (unsigned long long)x->rules[i].reason[0],
		       x->rules[i].items, x->rules[i].items_max);
	fg_dpdk_ctl_counters_clear(c);
	free(c);
	return 0;
}

/* One exchange of x on cl, its engines and items printed. */
static int fg_stock_once(struct fg_dpdk_ctl_client *cl,
			 struct fg_dpdk_ctl_stock *x)
{
	char err[512];
	uint32_t i, k;

	if (fg_dpdk_ctl_client_stock(cl, x, err, sizeof(err))) {
		fprintf(stderr, "fg_l7_push: %s\n", err);
		return -1;
	}
	for (i = 0; i < x->nengs; i++) {
		const struct fg_dpdk_ctl_stock_eng *e = &x->engs[i];

		printf("engine %s %u %016llx %llu %llu\n", e->rule, e->lcore,
		       (unsigned long long)e->epoch,
		       (unsigned long long)e->stock,
		       (unsigned long long)e->batch);
		for (k = 0; k < e->nitems; k++) {
			const struct fg_dpdk_ctl_stock_item *it =
				&x->items[e->item_first + k];

			printf("item %s %u %.*s %llu %llu\n", e->rule, e->lcore,
			       (int)it->len, it->name,
			       (unsigned long long)it->granted,
			       (unsigned long long)it->admitted);
		}
	}
	return 0;
}

static int fg_stock(const char *sock, char **grant)
{
	struct fg_dpdk_ctl_stock x = { .all = true };
	struct fg_dpdk_ctl_hello hello;
	struct fg_dpdk_ctl_client *cl;
	struct fg_dpdk_ctl_stock_op *o;
	uint32_t i, k, lcore = grant ? (uint32_t)atoi(grant[1]) : 0;
	char err[512];
	int e = 0, rc = 1;

	cl = fg_dpdk_ctl_client_connect(sock, "fg_l7_push", 5000, &hello, &e,
					err, sizeof(err));
	if (!cl) {
		fprintf(stderr, "fg_l7_push: %s\n", err);
		return 1;
	}
	if (fg_stock_once(cl, &x))
		goto out;
	if (!grant) {
		rc = 0;
		goto out;
	}
	if (fg_dpdk_ctl_stock_reserve(&x, 1, 0, 0) || strlen(grant[2]) > 128)
		goto out;
	o = &x.ops[0];
	memset(o, 0, sizeof(*o));
	snprintf(o->rule, sizeof(o->rule), "%s", grant[0]);
	o->lcore = lcore;
	o->kind = FG_DPDK_CTL_STOCK_GRANT;
	o->len = (uint8_t)strlen(grant[2]);
	memcpy(o->item, grant[2], o->len);
	o->n = strtoull(grant[3], NULL, 10);
	for (i = 0; i < x.nengs; i++) {
		if (strcmp(x.engs[i].rule, o->rule) || x.engs[i].lcore != lcore)
			continue;
		o->epoch = x.engs[i].epoch;
		for (k = 0; k < x.engs[i].nitems; k++) {
			const struct fg_dpdk_ctl_stock_item *it =
				&x.items[x.engs[i].item_first + k];

			if (it->len == o->len && !memcmp(it->name, o->item, o->len))
				o->expect = it->granted;
		}
	}
	x.nops = 1;
	x.all = false;
	if (fg_stock_once(cl, &x))
		goto out;
	printf("grant %d %llu\n", x.res[0].rc,
	       (unsigned long long)x.res[0].granted);
	rc = 0;
out:
	fg_dpdk_ctl_client_close(cl);
	fg_dpdk_ctl_stock_clear(&x);
	return rc;
}

int main(int argc, char **argv)
{
	if ((argc == 3 || argc == 7) && !strcmp(argv[2], "--stock"))
		return fg_stock(argv[1], argc == 7 ? argv + 3 : NULL);
	if (argc == 3 && !strcmp(argv[2], "--stats"))
		return fg_stats(argv[1]);
	if (argc == 4 || (argc == 5 && !strcmp(argv[4], "--bad-blob")))
		return fg_push(argv[1], strtoull(argv[2], NULL, 10), argv[3],
			       argc == 5);
	fprintf(stderr, "usage: fg_l7_push SOCKET VERSION RULES|- [--bad-blob]\n"
		"       fg_l7_push SOCKET --stats\n"
		"       fg_l7_push SOCKET --stock [RULE LCORE ITEM N]\n");
	return 1;
}
