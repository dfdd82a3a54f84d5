/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * fgctl_cmds.c - the commands that are not a kind of rule: status, apply,
 * config, stats, nodes.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fgctl.h"
#include "fgctl_rules.h"
#include "fgctl_table.h"
#include "fgctl_util.h"

/* Longest --watch interval: a day. */
#define FG_WATCH_MAX_S 86400.0

/* ------------------------------------------------------------ status */

/* Every field of GET /v1/status as "key: value" lines, then whether the
 * applied version caught up. */
int fg_cmd_status(struct fg_ctx *c, struct fg_args *a, const struct fg_command *self)
{
	struct fg_resp r = { 0 };
	struct fg_table t = { 0 };
	json_t *root = NULL, *rv, *av;
	int rc;

	rc = fg_no_args(a, self->help);
	if (rc >= 0)
		return rc;
	rc = fg_get(c, "/v1/status", &r, &root);
	if (rc || !root)
		goto out;
	if (!json_is_object(root)) {
		fputs("fgctl: GET /v1/status: the answer is not a JSON object\n", stderr);
		rc = FG_EXIT_API;
		goto out;
	}
	fg_kv_members(&t, root, NULL);
	fg_table_print(&t);
	/* Its own line, unaligned: "^sync: applied" is what scripts match. */
	rv = json_object_get(root, "rules_version");
	av = json_object_get(root, "applied_version");
	if (json_is_integer(rv) && json_is_integer(av)) {
		if (json_integer_value(rv) == json_integer_value(av))
			printf("sync: applied (version %" JSON_INTEGER_FORMAT " is live)\n",
			       json_integer_value(rv));
		else
			printf("sync: pending (stored %" JSON_INTEGER_FORMAT ", applied %"
			       JSON_INTEGER_FORMAT ")\n",
			       json_integer_value(rv), json_integer_value(av));
	}
out:
	json_decref(root);
	fg_resp_free(&r);
	return rc;
}

/* ----------------------------------------------------- apply, config */

/* PUT /v1/config, the file unchanged. */
int fg_cmd_apply(struct fg_ctx *c, struct fg_args *a, const struct fg_command *self)
{
	static const struct fg_opt opts[] = {
		{ "-f", FG_ARG_REQ }, { "--file", FG_ARG_REQ },
		{ "--if-version", FG_ARG_REQ }, { NULL, 0 },
	};
	struct fg_resp r = { 0 };
	struct fg_buf body = { 0 };
	const char *file = NULL, *v;
	char ifv[32] = "", im[48], ver[64];
	int k, rc;

	while ((k = fg_opt_only(a, opts, self->help, &v, &rc)) >= 0) {
		if (k == 2) {
			rc = fg_parse_if_version(a->cmd, v, ifv, sizeof(ifv));
			if (rc)
				return rc;
		} else {
			file = v;
		}
	}
	if (k == FG_OPT_DONE)
		return rc;
	if (!file)
		return fg_usage_error(a->cmd, "missing -f FILE (the rule set; '-' for stdin)");
	rc = fg_read_file(file, &body);
	if (rc)
		goto out;
	snprintf(im, sizeof(im), "\"%s\"", ifv);
	rc = fg_write(c, "PUT", "/v1/config", body.data, body.len, *ifv ? im : NULL, &r);
	if (!rc && !c->json)
		printf("rule set applied%s\n", fg_answer_version(&r, ver, sizeof(ver)));
out:
	fg_buf_free(&body);
	fg_resp_free(&r);
	return rc;
}

/*
 * fg_print_config - the human summary of GET /v1/config: the list of each
 * kind fgctl has a table for, a count of the others.
 */
static void fg_print_config(const json_t *root)
{
	static const char *const counted[] = { "routes", "seckill" };
	json_t *v = json_object_get(root, "version"), *m;
	char buf[64];
	size_t i;

	printf("version: %s\n", fg_jfmt(v, buf, sizeof(buf)));
	for (i = 0; i < FG_KIND_COUNT; i++) {
		m = json_object_get(root, fg_kinds[i].plural);
		putchar('\n');
		fg_print_rules(&fg_kinds[i], json_is_object(m) ? m : NULL);
	}
	for (i = 0; i < sizeof(counted) / sizeof(counted[0]); i++) {
		m = json_object_get(root, counted[i]);
		if (json_object_size(m))
			printf("\n%s: %zu (see --json)\n", counted[i], json_object_size(m));
	}
}

/* GET /v1/config: the version, then a summary. */
int fg_cmd_config(struct fg_ctx *c, struct fg_args *a, const struct fg_command *self)
{
	static const char *const subs[] = { "get", NULL };
	struct fg_resp r = { 0 };
	json_t *root = NULL;
	char cmd[32];
	int rc;

	if (fg_subcommand(a, self->name, self->help, subs, cmd, sizeof(cmd), &rc) < 0)
		return rc;
	rc = fg_no_args(a, self->help);
	if (rc >= 0)
		return rc;
	rc = fg_get(c, "/v1/config", &r, &root);
	if (!rc && root) {
		if (json_is_object(root)) {
			fg_print_config(root);
		} else {
			fputs("fgctl: GET /v1/config: the answer is not a JSON object\n", stderr);
			rc = FG_EXIT_API;
		}
	}
	json_decref(root);
	fg_resp_free(&r);
	return rc;
}

/* ------------------------------------------------------ stats, nodes */

/* A seckill rule's claims (this node's claimers): units claimed, and
 * the undersell; "-" when nothing claims for it. */
static const char *fg_claimed(const json_t *o, char *buf, size_t size)
{
	return fg_jcell(json_object_get(o, "claims"), "claimed", buf, size);
}

static const char *fg_undersell(const json_t *o, char *buf, size_t size)
{
	return fg_jcell(json_object_get(o, "claims"), "undersell", buf, size);
}

/* fg_print_stats - the tables of one GET /v1/stats answer. */
static void fg_print_stats(const json_t *root)
{
	static const char *const bh[] = { "SERVICE", "BACKEND" };
	static const struct fg_col sc[] = {
		{ "PACKETS", "packets", 64, NULL }, { "BYTES", "bytes", 64, NULL },
		{ "NEW_FLOWS", "new_flows", 64, NULL },
	};
	static const struct fg_col bc[] = {
		{ "PACKETS", "packets", 64, NULL }, { "NEW_FLOWS", "new_flows", 64, NULL },
		{ "HEALTHY", "healthy", 64, NULL },
	};
	static const struct fg_col lc[] = {
		{ "PASSED", "passed", 64, NULL }, { "LIMITED", "limited", 64, NULL },
	};
	static const struct fg_col kc[] = {
		{ "ADMITTED", "admitted", 64, NULL }, { "SHED", "shed", 64, NULL },
		{ "SOLD_OUT", "sold_out", 64, NULL }, { "STOCK_LEFT", "stock_left", 64, NULL },
		{ "ALLOWANCE", "allowance", 64, NULL },
		{ "CLAIMED", NULL, 64, fg_claimed },
		{ "UNDERSELL", NULL, 64, fg_undersell },
	};
	static const struct fg_col rc[] = {
		{ "FORWARDED", "forwarded", 64, NULL },
		{ "NO_BACKEND", "no_backend", 64, NULL },
	};
	static const char *const ih[] = { "SECKILL", "ITEM" };
	static const struct fg_col ic[] = {
		{ "ADMITTED", "admitted", 64, NULL }, { "SHED", "shed", 64, NULL },
		{ "SOLD_OUT", "sold_out", 64, NULL }, { "STOCK_LEFT", "stock_left", 64, NULL },
		{ "ALLOWANCE", "allowance", 64, NULL },
	};
	json_t *routes = json_object_get(root, "routes");
	static const char *const dh[] = { "DROP", "COUNT" };
	json_t *svcs = json_object_get(root, "services"), *v = json_object_get(root, "version");
	json_t *lims = json_object_get(root, "limits"), *sk = json_object_get(root, "seckill");
	json_t *drops = json_object_get(root, "drops"), *el, *be, *bel;
	const char **keys, *bname;
	struct fg_table t;
	char buf[64];
	size_t n, i;

	if (v)
		printf("rules version: %s\n\n", fg_jfmt(v, buf, sizeof(buf)));
	if (json_object_size(svcs)) {
		fg_print_map(svcs, "SERVICE", sc, 3);
		putchar('\n');
		keys = fg_sorted_keys(svcs, &n);
		fg_table_init_cols(&t, bh, 2, bc, 3);
		for (i = 0; i < n; i++) {
			be = json_object_get(json_object_get(svcs, keys[i]), "backends");
			json_object_foreach(be, bname, bel) {
				const char *names[] = { keys[i], bname };

				fg_table_add(&t, names, 2, bel, bc);
			}
		}
		if (t.nrows > 1) {
			fg_table_print(&t);
		} else {
			fg_table_free(&t);
			puts("no backends");
		}
		free(keys);
	} else {
		puts("no services");
	}
	putchar('\n');
	if (json_object_size(lims))
		fg_print_map(lims, "LIMIT", lc, 2);
	else
		puts("no limits");
	if (json_object_size(routes)) {
		putchar('\n');
		fg_print_map(routes, "ROUTE", rc, 2);
	}
	if (json_object_size(sk)) {
		putchar('\n');
		fg_print_map(sk, "SECKILL", kc, 7);
		keys = fg_sorted_keys(sk, &n);
		fg_table_init_cols(&t, ih, 2, ic, 5);
		for (i = 0; i < n; i++) {
			be = json_object_get(json_object_get(sk, keys[i]), "items");
			json_object_foreach(be, bname, bel) {
				const char *names[] = { keys[i], bname };

				fg_table_add(&t, names, 2, bel, ic);
			}
		}
		if (t.nrows > 1) {
			putchar('\n');
			fg_table_print(&t);
		} else {
			fg_table_free(&t);
		}
		free(keys);
	}
	if (json_object_size(drops)) {
		putchar('\n');
		fg_table_init(&t, 2, dh);
		json_object_foreach(drops, bname, el) {
			const char *row[] = { bname, fg_jfmt(el, buf, sizeof(buf)) };

			fg_table_row(&t, row);
		}
		fg_table_print(&t);
	}
}

static volatile sig_atomic_t fg_interrupted;

/* fg_on_sigint - SIGINT during --watch: stop after the current refresh. */
static void fg_on_sigint(int sig)
{
	(void)sig;
	fg_interrupted = 1;
}

/* fg_sleep - sleep for seconds unless interrupted by SIGINT. */
static void fg_sleep(double seconds)
{
	struct timespec ts, rem;

	ts.tv_sec = (time_t)seconds;
	ts.tv_nsec = (long)((seconds - (double)ts.tv_sec) * 1e9);
	while (!fg_interrupted && nanosleep(&ts, &rem) && errno == EINTR)
		ts = rem;
}

/* GET /v1/stats once, or every --watch SECONDS until interrupted or
 * --count refreshes are done. */
int fg_cmd_stats(struct fg_ctx *c, struct fg_args *a, const struct fg_command *self)
{
	static const struct fg_opt opts[] = {
		{ "--watch", FG_ARG_OPTNUM }, { "--count", FG_ARG_REQ }, { NULL, 0 },
	};
	struct fg_resp r = { 0 };
	json_t *root = NULL;
	const char *v;
	bool watch = false, tty = isatty(STDOUT_FILENO);
	double interval = 1.0;
	uint64_t count = 0, done;
	char *end;
	int k, rc;

	while ((k = fg_opt_only(a, opts, self->help, &v, &rc)) >= 0) {
		if (k == 0) {
			watch = true;
			if (!v)
				continue;
			errno = 0;
			interval = strtod(v, &end);
			if (!fg_is_number(v) || *end || errno || interval <= 0 ||
			    interval > FG_WATCH_MAX_S)
				return fg_usage_error(a->cmd, "--watch: '%s' is not a number of seconds in (0, %.0f]",
						      v, FG_WATCH_MAX_S);
		} else {
			rc = fg_parse_u64(a->cmd, "--count", v, UINT32_MAX, &count);
			if (rc)
				return rc;
			if (!count)
				return fg_usage_error(a->cmd, "--count: must be at least 1");
			watch = true;
		}
	}
	if (k == FG_OPT_DONE)
		return rc;
	if (!watch) {
		rc = fg_get(c, "/v1/stats", &r, &root);
		if (!rc && root)
			fg_print_stats(root);
		goto out;
	}

	{
		struct sigaction sa;

		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = fg_on_sigint;
		sigemptyset(&sa.sa_mask);
		sigaction(SIGINT, &sa, NULL);	/* no SA_RESTART: wake the sleep */
	}
	rc = 0;
	for (done = 0; !fg_interrupted && (!count || done < count); done++) {
		if (done)
			fg_sleep(interval);
		if (fg_interrupted)
			break;
		json_decref(root);
		root = NULL;
		if (!c->json && tty)
			fputs("\033[H\033[2J", stdout);	/* home, clear screen */
		else if (!c->json && done)
			putchar('\n');
		rc = fg_get(c, "/v1/stats", &r, &root);
		if (rc)
			break;
		if (c->json) {
			if (!r.body.len || r.body.data[r.body.len - 1] != '\n')
				putchar('\n');
		} else {
			time_t now = time(NULL);
			char ts[32];

			strftime(ts, sizeof(ts), "%Y-%m-%d %H:%M:%S", localtime(&now));
			printf("every %gs: fgctl stats  %s\n\n", interval, ts);
			fg_print_stats(root);
		}
		fflush(stdout);
	}
out:
	json_decref(root);
	fg_resp_free(&r);
	return rc;
}

/* fg_print_nodes - the cluster member table. */
static void fg_print_nodes(const json_t *root)
{
	static const char *const heads[] = { "NAME", "GROUP", "ADDRESS", "APPLIED", "ALIVE" };
	json_t *list = json_object_get(root, "nodes"), *map = NULL;
	char c1[FG_CELL_MAX], c2[FG_CELL_MAX], c3[64], c4[32], c5[32];
	const char *key, **keys = NULL;
	struct fg_table t;
	size_t i, n = 0;

	if (!list)
		list = (json_t *)root;
	if (json_is_object(list)) {	/* a name -> node map */
		map = list;
		keys = fg_sorted_keys(map, &n);
	} else {
		n = json_array_size(list);
	}
	if (!n) {
		puts("no nodes");
		return;
	}
	fg_table_init(&t, 5, heads);
	for (i = 0; i < n; i++) {
		const json_t *node = map ? json_object_get(map, keys[i]) : json_array_get(list, i);
		json_t *addr = json_object_get(node, "address");
		json_t *ver = json_object_get(node, "applied_version");

		if (!json_is_object(node))
			continue;
		if (!addr)
			addr = json_object_get(node, "addr");
		if (!ver)
			ver = json_object_get(node, "version");
		key = map ? keys[i] : fg_jcell(node, "name", c1, sizeof(c1));
		{
			const char *row[] = {
				key, fg_jcell(node, "group", c2, sizeof(c2)),
				fg_jfmt(addr, c3, sizeof(c3)), fg_jfmt(ver, c4, sizeof(c4)),
				fg_jcell(node, "alive", c5, sizeof(c5)),
			};

			fg_table_row(&t, row);
		}
	}
	free(keys);
	fg_table_print(&t);
}

/* GET /v1/nodes as a table. */
int fg_cmd_nodes(struct fg_ctx *c, struct fg_args *a, const struct fg_command *self)
{
	struct fg_resp r = { 0 };
	json_t *root = NULL;
	int rc = fg_no_args(a, self->help);

	if (rc >= 0)
		return rc;
	rc = fg_get(c, "/v1/nodes", &r, &root);
	if (!rc && root)
		fg_print_nodes(root);
	json_decref(root);
	fg_resp_free(&r);
	return rc;
}
