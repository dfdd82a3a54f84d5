// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * fgxdp - drive the XDP dataplane directly, without floodgated: load and
 * attach, apply a rule set file (the PUT /v1/config body of API.md), show
 * counters, unload. For tests, benchmarks and debugging a node by hand;
 * operators use floodgated and fgctl.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <jansson.h>

#include "fg_rules_json.h"
#include "fg_xdp.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: fgxdp [--node NAME] COMMAND [ARGS]\n"
		"\n"
		"Drive the Floodgate XDP dataplane of one node directly (pins under\n"
		"/sys/fs/bpf/floodgate/NAME; default NAME: the host name).\n"
		"\n"
		"commands:\n"
		"  load --dev IF [--dev IF2] [--generic] [--fresh]\n"
		"       [--tunnel-src ADDR]... [--snat ADDR]... [--addr-dev IF]\n"
		"                    load (or adopt) the dataplane and attach it\n"
		"  apply FILE [--version N]\n"
		"                    make FILE (a PUT /v1/config body) the rule set\n"
		"  stats [--json]    counters per service, backend, limit and drop reason\n"
		"  unload            detach from every interface and remove all pins\n"
		"  --help            this text\n");
}

static int fg_open(const char *node, struct fg_xdp_opts *o, struct fg_xdp **out)
{
	char err[512] = "";
	int rc = 0;

	o->node = node;
	*out = fg_xdp_open(o, &rc, err, sizeof(err));
	if (!*out) {
		fprintf(stderr, "fgxdp: %s (%s)\n", err[0] ? err : "open failed",
			strerror(-rc));
		return 1;
	}
	return 0;
}

static int fg_parse_addr_opt(const char *s, struct fg_xdp_opts *o, int snat)
{
	struct in_addr a4;
	struct in6_addr a6;

	if (inet_pton(AF_INET, s, &a4) == 1) {
		if (snat)
			o->snat4 = a4;
		else
			o->tunnel_src4 = a4;
		return 0;
	}
	if (inet_pton(AF_INET6, s, &a6) == 1) {
		if (snat)
			o->snat6 = a6;
		else
			o->tunnel_src6 = a6;
		return 0;
	}
	fprintf(stderr, "fgxdp: '%s' is not an IPv4 or IPv6 address\n", s);
	return -1;
}

static int cmd_load(const char *node, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "dev", required_argument, NULL, 'd' },
		{ "generic", no_argument, NULL, 'g' },
		{ "fresh", no_argument, NULL, 'f' },
		{ "tunnel-src", required_argument, NULL, 't' },
		{ "snat", required_argument, NULL, 's' },
		{ "addr-dev", required_argument, NULL, 'a' },
		{ NULL, 0, NULL, 0 },
	};
	struct fg_xdp_opts o = { 0 };
	const char *devs[FG_XDP_LINKS_MAX];
	enum fg_xdp_mode mode = FG_XDP_MODE_NATIVE;
	char err[512] = "";
	struct fg_xdp *x;
	int ndev = 0, c, i, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'd':
			if (ndev == FG_XDP_LINKS_MAX) {
				fprintf(stderr, "fgxdp: at most %d --dev\n", FG_XDP_LINKS_MAX);
				return 2;
			}
			devs[ndev++] = optarg;
			break;
		case 'g':
			mode = FG_XDP_MODE_GENERIC;
			break;
		case 'f':
			o.fresh = true;
			break;
		case 't':
		case 's':
			if (fg_parse_addr_opt(optarg, &o, c == 's'))
				return 2;
			break;
		case 'a':
			o.addr_ifname = optarg;
			break;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!ndev || optind != argc) {
		fprintf(stderr, "fgxdp load: needs at least one --dev and no other arguments\n");
		return 2;
	}
	if (!o.addr_ifname)
		o.addr_ifname = devs[0];
	if (fg_open(node, &o, &x))
		return 1;
	for (i = 0; i < ndev; i++) {
		rc = fg_xdp_attach(x, devs[i], mode, err, sizeof(err));
		if (rc) {
			fprintf(stderr, "fgxdp: attach %s: %s\n", devs[i], err);
			fg_xdp_close(x);
			return 1;
		}
	}
	printf("%s dataplane on", fg_xdp_adopted(x) ? "adopted" : "loaded");
	for (i = 0; i < ndev; i++)
		printf(" %s", devs[i]);
	printf(" (%s), pins in %s\n", mode == FG_XDP_MODE_NATIVE ? "native" : "generic",
	       fg_xdp_pin_dir(x));
	fg_xdp_close(x);
	return 0;
}

static int cmd_apply(const char *node, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "version", required_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 },
	};
	struct fg_api_error aerr = { 0 };
	struct fg_ruleset rs = { 0 };
	struct fg_xdp_opts o = { 0 };
	uint64_t version = 0;
	char err[512] = "", *end, *buf = NULL;
	struct fg_xdp *x;
	json_t *root;
	size_t len = 0;
	FILE *f;
	int c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if (c != 'v') {
			usage(stderr);
			return 2;
		}
		errno = 0;
		version = strtoull(optarg, &end, 10);
		if (errno || *end || !version) {
			fprintf(stderr, "fgxdp: --version must be a positive integer\n");
			return 2;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "fgxdp apply: needs exactly one FILE\n");
		return 2;
	}
	f = fopen(argv[optind], "r");
	if (!f) {
		fprintf(stderr, "fgxdp: %s: %s\n", argv[optind], strerror(errno));
		return 1;
	}
	{
		FILE *m = open_memstream(&buf, &len);
		char chunk[65536];
		size_t n;

		if (!m) {
			fclose(f);
			return 1;
		}
		while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
			fwrite(chunk, 1, n, m);
		fclose(m);
		fclose(f);
	}
	root = fg_json_parse_body(buf, len, &aerr);
	free(buf);
	if (!root || fg_config_from_json(root, &rs, &aerr)) {
		fprintf(stderr, "fgxdp: %s: %s\n", argv[optind], aerr.message);
		json_decref(root);
		return 1;
	}
	json_decref(root);
	if (fg_open(node, &o, &x)) {
		fg_ruleset_free(&rs);
		return 1;
	}
	if (!version)
		version = fg_xdp_applied_version(x) + 1;
	rc = fg_xdp_apply(x, &rs, version, err, sizeof(err));
	fg_ruleset_free(&rs);
	if (rc) {
		fprintf(stderr, "fgxdp: apply: %s\n", err);
		fg_xdp_close(x);
		return 1;
	}
	printf("applied version %" PRIu64 "\n", version);
	fg_xdp_close(x);
	return 0;
}

static void fg_addr_str(const struct fg_backend *be, char *buf, size_t len)
{
	if (be->family == FG_AF_INET)
		inet_ntop(AF_INET, be->addr, buf, len);
	else
		inet_ntop(AF_INET6, be->addr, buf, len);
}

static int cmd_stats(const char *node, int argc, char **argv)
{
	struct fg_xdp_opts o = { 0 };
	uint64_t drops[FG_DROP_REASON_MAX];
	json_t *root, *svcs, *lims, *jd;
	int as_json = 0, fd, i;
	struct fg_xdp *x;
	__u32 id;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json")) {
			as_json = 1;
		} else {
			fprintf(stderr, "fgxdp stats: unknown argument '%s'\n", argv[i]);
			return 2;
		}
	}
	if (fg_open(node, &o, &x))
		return 1;
	root = json_object();
	svcs = json_object();
	lims = json_object();
	jd = json_object();
	json_object_set_new(root, "version", json_integer((json_int_t)fg_xdp_applied_version(x)));
	json_object_set_new(root, "services", svcs);
	json_object_set_new(root, "limits", lims);
	json_object_set_new(root, "drops", jd);

	for (id = 0; id < FG_SVC_MAX; id++) {
		const char *name = fg_xdp_service_name(x, id);
		struct fg_counter c;
		json_t *js;

		if (!name || fg_xdp_stats_service(x, id, &c))
			continue;
		js = json_pack("{s:I,s:I,s:I,s:o}", "packets", (json_int_t)c.packets,
			       "bytes", (json_int_t)c.bytes, "new_flows",
			       (json_int_t)c.new_flows, "backends", json_object());
		json_object_set_new(svcs, name, js);
	}
	fd = fg_xdp_map_fd(x, "fg_backends");
	for (id = 0; fd >= 0 && id < FG_BACKEND_MAX; id++) {
		struct fg_backend be;
		struct fg_counter c;
		const char *name;
		char addr[INET6_ADDRSTRLEN], key[INET6_ADDRSTRLEN + 8];
		json_t *js;

		if (bpf_map_lookup_elem(fd, &id, &be) || !(be.flags & FG_BE_F_VALID))
			continue;
		name = fg_xdp_service_name(x, be.svc_id);
		js = name ? json_object_get(json_object_get(svcs, name), "backends") : NULL;
		if (!js || fg_xdp_stats_backend(x, id, &c))
			continue;
		fg_addr_str(&be, addr, sizeof(addr));
		snprintf(key, sizeof(key), be.family == FG_AF_INET ? "%s:%u" : "[%s]:%u",
			 addr, ntohs(be.port));
		json_object_set_new(js, key, json_pack("{s:I,s:I,s:I,s:b}",
			"packets", (json_int_t)c.packets, "bytes", (json_int_t)c.bytes,
			"new_flows", (json_int_t)c.new_flows,
			"healthy", !(be.flags & FG_BE_F_DOWN)));
	}
	for (id = 0; id < FG_LIMIT_MAX; id++) {
		const char *name = fg_xdp_limit_name(x, id);
		struct fg_limit_counter c;

		if (!name || fg_xdp_stats_limit(x, id, &c))
			continue;
		json_object_set_new(lims, name, json_pack("{s:I,s:I}",
			"passed", (json_int_t)c.passed, "limited", (json_int_t)c.limited));
	}
	if (!fg_xdp_stats_drops(x, drops)) {
		for (i = 0; i < FG_DROP_REASON_MAX; i++)
			json_object_set_new(jd, fg_drop_reason_name(i), json_integer((json_int_t)drops[i]));
	}
	fg_xdp_close(x);

	if (as_json) {
		json_dumpf(root, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
		putchar('\n');
	} else {
		const char *sname, *bname, *lname, *dname;
		json_t *s, *b, *l, *d;

		printf("version %" JSON_INTEGER_FORMAT "\n",
		       json_integer_value(json_object_get(root, "version")));
		printf("%-24s %-28s %12s %14s %10s\n", "SERVICE", "BACKEND", "PACKETS",
		       "BYTES", "NEW_FLOWS");
		json_object_foreach(svcs, sname, s) {
			printf("%-24s %-28s %12" JSON_INTEGER_FORMAT " %14" JSON_INTEGER_FORMAT
			       " %10" JSON_INTEGER_FORMAT "\n", sname, "-",
			       json_integer_value(json_object_get(s, "packets")),
			       json_integer_value(json_object_get(s, "bytes")),
			       json_integer_value(json_object_get(s, "new_flows")));
			json_object_foreach(json_object_get(s, "backends"), bname, b) {
				printf("%-24s %-28s %12" JSON_INTEGER_FORMAT " %14"
				       JSON_INTEGER_FORMAT " %10" JSON_INTEGER_FORMAT "%s\n",
				       "", bname,
				       json_integer_value(json_object_get(b, "packets")),
				       json_integer_value(json_object_get(b, "bytes")),
				       json_integer_value(json_object_get(b, "new_flows")),
				       json_is_true(json_object_get(b, "healthy")) ? "" : "  (down)");
			}
		}
		printf("\n%-24s %12s %12s\n", "LIMIT", "PASSED", "LIMITED");
		json_object_foreach(lims, lname, l)
			printf("%-24s %12" JSON_INTEGER_FORMAT " %12" JSON_INTEGER_FORMAT "\n",
			       lname, json_integer_value(json_object_get(l, "passed")),
			       json_integer_value(json_object_get(l, "limited")));
		printf("\n%-24s %12s\n", "DROP REASON", "PACKETS");
		json_object_foreach(jd, dname, d)
			printf("%-24s %12" JSON_INTEGER_FORMAT "\n", dname, json_integer_value(d));
	}
	json_decref(root);
	return 0;
}

static int cmd_unload(const char *node, int argc, char **argv)
{
	struct fg_xdp_opts o = { 0 };
	struct fg_xdp *x;
	int rc;

	if (argc != 1) {
		fprintf(stderr, "fgxdp unload: takes no arguments\n");
		return 2;
	}
	if (fg_open(node, &o, &x))
		return 1;
	rc = fg_xdp_unpin_all(x);
	fg_xdp_close(x);
	if (rc) {
		fprintf(stderr, "fgxdp: unload: %s\n", strerror(-rc));
		return 1;
	}
	printf("unloaded\n");
	return 0;
}

int main(int argc, char **argv)
{
	const char *node = NULL;
	int i = 1;

	while (i < argc && argv[i][0] == '-') {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			return 0;
		}
		if (!strcmp(argv[i], "--node") && i + 1 < argc) {
			node = argv[i + 1];
			i += 2;
			continue;
		}
		fprintf(stderr, "fgxdp: unknown option '%s'\n", argv[i]);
		usage(stderr);
		return 2;
	}
	if (i >= argc) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[i], "load"))
		return cmd_load(node, argc - i, argv + i);
	if (!strcmp(argv[i], "apply"))
		return cmd_apply(node, argc - i, argv + i);
	if (!strcmp(argv[i], "stats"))
		return cmd_stats(node, argc - i, argv + i);
	if (!strcmp(argv[i], "unload"))
		return cmd_unload(node, argc - i, argv + i);
	fprintf(stderr, "fgxdp: unknown command '%s'\n", argv[i]);
	usage(stderr);
	return 2;
}
