// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * fgxdp - drive the XDP dataplane directly, without floodgated: load and
 * attach, apply a rule set file (the PUT /v1/config body of API.md), show
 * counters, unload. For tests, benchmarks and debugging a node by hand;
 * operators use floodgated and fgctl.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <jansson.h>

#include "fg_neigh.h"
#include "fg_rules_json.h"
#include "fg_sysctl.h"
#include "fg_xdp.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: fgxdp [--node NAME] [--init-netns FILE] COMMAND [ARGS]\n"
		"\n"
		"Drive the Floodgate XDP dataplane of one node directly (pins under\n"
		"/sys/fs/bpf/floodgate/NAME; default NAME: the host name).\n"
		"--init-netns FILE: the initial network namespace (default\n"
		"/proc/1/ns/net), where the kernel-wide neighbour thresholds are\n"
		"set from when fgxdp runs in another one.\n"
		"\n"
		"commands:\n"
		"  load --dev IF [--dev IF2] [--generic] [--fresh]\n"
		"       [--tunnel-src ADDR]... [--snat ADDR]... [--addr-dev IF]\n"
		"                    load (or adopt) the dataplane and attach it; set\n"
		"                    the sysctls it needs on those interfaces (the\n"
		"                    originals saved in " FG_SYSCTL_SAVED_DIR "/NAME)\n"
		"  apply FILE [--version N]\n"
		"                    make FILE (a PUT /v1/config body) the rule set, and\n"
		"                    keep its next hops resolved (managed neighbours)\n"
		"  stats [--json]    counters per service, backend, limit and drop reason\n"
		"  unload            detach from every interface, remove all pins, the\n"
		"                    managed neighbours, and give the sysctls back\n"
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
	if (fg_xdp_mounted_bpffs(*out))
		fprintf(stderr, "fgxdp: no bpf filesystem was mounted on %s: "
			"mounted one (mode 0700) for the pins\n", FG_XDP_BPFFS);
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

/* ------------------------------------------------------------ the box */

/* The node's name: the pin directory's last component. */
static const char *fg_init_netns; /* --init-netns */

static const char *fg_node_of(struct fg_xdp *x)
{
	const char *d = fg_xdp_pin_dir(x), *slash = strrchr(d, '/');

	return slash ? slash + 1 : d;
}

static int fg_sysctl_cfg_of(struct fg_xdp *x, char *path, size_t len,
			    struct fg_sysctl_cfg *cfg)
{
	int rc = fg_sysctl_saved_path(fg_node_of(x), path, len);

	if (rc) {
		fprintf(stderr, "fgxdp: node '%s': %s\n", fg_node_of(x), strerror(-rc));
		return rc;
	}
	memset(cfg, 0, sizeof(*cfg));
	cfg->saved_path = path;
	cfg->init_netns = fg_init_netns;
	return 0;
}

static void fg_print_sysctls(const struct fg_sysctl_report *rep)
{
	size_t i;

	for (i = 0; i < rep->n; i++) {
		const struct fg_sysctl_change *c = &rep->c[i];

		if (c->kept)
			printf("sysctl %s left at %s (changed since; the original was %s)\n",
			       c->key, c->old, c->new);
		else
			printf("sysctl %s: %s -> %s\n", c->key, c->old, c->new);
	}
	if (rep->total > rep->n)
		printf("sysctl: %zu more changes\n", rep->total - rep->n);
}

/* The interfaces the dataplane is attached to: its link_<ifname> pins. */
static size_t fg_attached_ifs(struct fg_xdp *x, char names[][IFNAMSIZ], size_t max)
{
	DIR *d = opendir(fg_xdp_pin_dir(x));
	struct dirent *de;
	size_t n = 0;

	if (!d)
		return 0;
	while (n < max && (de = readdir(d))) {
		if (strncmp(de->d_name, "link_", 5) || !de->d_name[5] ||
		    strlen(de->d_name + 5) >= IFNAMSIZ)
			continue;
		snprintf(names[n++], IFNAMSIZ, "%s", de->d_name + 5);
	}
	closedir(d);
	return n;
}

/*
 * fg_sync_neigh - managed neighbour entries for the next hops of rs on
 * the attached interfaces, the neighbour thresholds grown to hold them
 * first. Returns 0 or 1 (reported).
 */
static int fg_sync_neigh(struct fg_xdp *x, const struct fg_ruleset *rs)
{
	char names[FG_XDP_LINKS_MAX][IFNAMSIZ], path[256], err[512] = "";
	const char *ifs[FG_XDP_LINKS_MAX];
	struct fg_sysctl_report *rep = NULL;
	struct fg_neigh_stats st = { 0 };
	struct fg_addr *targets = NULL;
	struct fg_sysctl_cfg cfg;
	struct fg_neigh *n = NULL;
	size_t nif, nt, i;
	int rc, want, ret = 1;

	nif = fg_attached_ifs(x, names, FG_XDP_LINKS_MAX);
	if (!nif) {
		fprintf(stderr, "fgxdp: no attached interface in %s: load first\n",
			fg_xdp_pin_dir(x));
		return 1;
	}
	for (i = 0; i < nif; i++)
		ifs[i] = names[i];
	if (fg_sysctl_cfg_of(x, path, sizeof(path), &cfg))
		return 1;
	rc = fg_neigh_targets(rs, &targets, &nt);
	if (rc) {
		fprintf(stderr, "fgxdp: next hops: %s\n", strerror(-rc));
		return 1;
	}
	rep = calloc(1, sizeof(*rep));
	n = fg_neigh_new(ifs, nif, &rc, err, sizeof(err));
	if (!rep || !n) {
		fprintf(stderr, "fgxdp: neighbours: %s\n", rep ? err : "out of memory");
		goto out;
	}
	want = fg_neigh_plan(n, targets, nt, &st, err, sizeof(err));
	if (want < 0) {
		fprintf(stderr, "fgxdp: neighbours: %s\n", err);
		goto out;
	}
	rc = fg_sysctl_neigh_fit(&cfg, (size_t)want, rep, err, sizeof(err));
	fg_print_sysctls(rep);
	/* Out of reach (another namespace, no way in) is no reason to stop:
	 * the adds fail with ENOBUFS only past the kernel's gc_thresh3. */
	if (rc == -ENOENT || rc == -EACCES || rc == -EPERM)
		fprintf(stderr, "fgxdp: warning: neighbour thresholds: %s\n", err);
	else if (rc) {
		fprintf(stderr, "fgxdp: neighbour thresholds: %s\n", err);
		goto out;
	}
	rc = fg_neigh_apply(n, &st, err, sizeof(err));
	printf("neighbours: %u next hops (%u added, %u kept, %u owned by others), "
	       "%u removed; %u targets without a route, %u routed elsewhere\n",
	       st.wanted, st.added, st.kept, st.foreign, st.removed, st.unrouted,
	       st.elsewhere);
	if (rc) {
		fprintf(stderr, "fgxdp: neighbours: %s\n", err);
		goto out;
	}
	ret = 0;
out:
	fg_neigh_free(n);
	free(rep);
	free(targets);
	return ret;
}

/* Managed neighbours and sysctls back as they were before load. */
static int fg_unprepare(struct fg_xdp *x)
{
	struct fg_sysctl_report *rep = calloc(1, sizeof(*rep));
	struct fg_neigh_stats st = { 0 };
	char path[256], err[512] = "";
	struct fg_sysctl_cfg cfg;
	struct fg_neigh *n;
	int rc, ret = 0;

	if (!rep || fg_sysctl_cfg_of(x, path, sizeof(path), &cfg)) {
		free(rep);
		return 1;
	}
	n = fg_neigh_new(NULL, 0, &rc, err, sizeof(err));
	if (!n || fg_neigh_remove_all(n, &st, err, sizeof(err))) {
		fprintf(stderr, "fgxdp: neighbours: %s\n", err);
		ret = 1;
	}
	fg_neigh_free(n);
	printf("neighbours: %u managed entries removed\n", st.removed);
	rc = fg_sysctl_restore(&cfg, rep, err, sizeof(err));
	fg_print_sysctls(rep);
	if (rc) {
		fprintf(stderr, "fgxdp: sysctls: %s\n", err);
		ret = 1;
	}
	free(rep);
	return ret;
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
	{
		struct fg_sysctl_report *rep = calloc(1, sizeof(*rep));
		struct fg_sysctl_cfg cfg;
		char path[256];

		if (!rep || fg_sysctl_cfg_of(x, path, sizeof(path), &cfg)) {
			free(rep);
			fg_xdp_close(x);
			return 1;
		}
		rc = fg_sysctl_prepare(&cfg, devs, (size_t)ndev, rep, err, sizeof(err));
		fg_print_sysctls(rep);
		free(rep);
		if (rc) {
			fprintf(stderr, "fgxdp: sysctls: %s\n", err);
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
	struct fg_rule_error aerr = { 0 };
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
	if (!root || fg_ruleset_from_json(root, &rs, &aerr)) {
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
	if (rc) {
		fg_ruleset_free(&rs);
		fprintf(stderr, "fgxdp: apply: %s\n", err);
		fg_xdp_close(x);
		return 1;
	}
	printf("applied version %" PRIu64 "\n", version);
	/* The rules are live; their next hops resolve within a round trip
	 * from here (a first packet before that is a counted no_neigh drop,
	 * which TCP retransmits). */
	rc = fg_sync_neigh(x, &rs);
	fg_ruleset_free(&rs);
	fg_xdp_close(x);
	return rc;
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
	if (rc) {
		fprintf(stderr, "fgxdp: unload: %s\n", strerror(-rc));
		fg_xdp_close(x);
		return 1;
	}
	/* After the detach: no packet may meet the kernel's defaults while
	 * the program still forwards. */
	rc = fg_unprepare(x);
	fg_xdp_close(x);
	if (rc)
		return 1;
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
		if (!strcmp(argv[i], "--init-netns") && i + 1 < argc) {
			fg_init_netns = argv[i + 1];
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
