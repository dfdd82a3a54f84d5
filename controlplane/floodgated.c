// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * floodgated - the Floodgate control-plane daemon: the REST API, the rule
 * store on etcd, health checks, counters, and the dataplane it keeps on
 * the stored rule version. One libevent loop, one thread.
 *
 * The dataplane outlives the daemon: XDP programs are attached through
 * pinned links, so SIGTERM, a crash or kill -9 leaves packets flowing with
 * the last rules, and the next start adopts the pinned state.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <arpa/inet.h>

#include <event2/event.h>

#include "fg_daemon.h"
#include "fg_api.h"
#include "fg_dp_dpdk.h"
#include "fg_dp_sup.h"
#include "fg_health.h"
#include "fg_host.h"
#include "fg_log.h"
#include "fg_reconcile.h"
#include "fg_route.h"
#include "fg_rules_json.h"
#include "fg_stock_link.h"
#include "fg_store.h"

/* ----------------------------------------------------------- signals */

/* syslog priorities (the config's unit) to fg_log levels. */
static enum fg_log_level fg_level_of(int prio)
{
	if (prio <= LOG_ERR)
		return FG_LOG_ERROR;
	if (prio == LOG_WARNING || prio == LOG_NOTICE)
		return FG_LOG_WARN;
	return prio == LOG_INFO ? FG_LOG_INFO : FG_LOG_DEBUG;
}

/*
 * The rule library's regex check (fg_rules_set_regex_check): compile the
 * pattern exactly as the route matcher does, so a pattern hyperscan
 * refuses is a 400 naming the field with hyperscan's own message. Header
 * regexes take the same flags, so one check serves both.
 */
static int fg_hs_regex_check(const char *re, char *msg, size_t msglen)
{
	static const char pfx[] = "route 0: path_regex: ";
	struct fg_route_spec r = { .id = 0, .path_regex = re };
	char err[512] = "";
	void *blob = NULL;
	size_t len = 0;
	int rc = fg_route_compile(&r, 1, &blob, &len, err, sizeof(err));

	free(blob);
	if (rc)
		snprintf(msg, msglen, "%s", strncmp(err, pfx, sizeof(pfx) - 1) ?
			 err : err + sizeof(pfx) - 1);
	return rc;
}

/* The store's rule sets go to the reconciler. */
static void fg_on_rules(void *arg, const struct fg_store_change *ch,
			uint64_t version)
{
	fg_daemon_rules_changed(arg, ch, version);
}

static void fg_on_stop(evutil_socket_t sig, short what, void *arg)
{
	struct fg_daemon *d = arg;

	fg_log(FG_LOG_INFO, "signal %d: stopping (the dataplane stays attached)",
	       (int)sig);
	d->stopping = true;
	event_base_loopexit(d->base, NULL);
}

/* SIGHUP: re-read what of the boot file can change live (log level, the
 * token); refuse the rest with a message naming the setting. */
static void fg_on_hup(evutil_socket_t sig, short what, void *arg)
{
	struct fg_daemon *d = arg;
	struct fg_boot_errors errs;
	struct fg_boot_config nc;
	char err[512] = "";
	int rc;

	if (fg_boot_load(d->config_path, &nc, &errs)) {
		fg_log(FG_LOG_ERROR, "SIGHUP: %s does not load; nothing changed",
		       d->config_path);
		fg_boot_errors_print(&errs, stderr);
		return;
	}
	rc = fg_boot_reload_diff(&d->cfg, &nc, err, sizeof(err));
	if (rc < 0) {
		fg_log(FG_LOG_ERROR, "SIGHUP: %s; nothing changed", err);
		return;
	}
	d->cfg = nc;
	fg_log_set_level(fg_level_of(d->cfg.log.level));
	fg_log(FG_LOG_INFO, "SIGHUP: reloaded %s (%s%s%s)", d->config_path,
	       rc ? "" : "no live setting changed",
	       rc & FG_BOOT_RELOAD_LOG_LEVEL ? "log.level " : "",
	       rc & FG_BOOT_RELOAD_TOKEN ? "api token" : "");
}

/* --------------------------------------------------------------- main */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: floodgated -c FILE            run the daemon\n"
		"       floodgated --check -c FILE    validate FILE and exit (0 good, 1 bad)\n"
		"       floodgated --detach -c FILE   stop the node's dataplane: detach the XDP\n"
		"                                     program and remove its pinned state, or\n"
		"                                     stop the floodgate-dpdk floodgated started\n"
		"\n"
		"When the store holds an older rule set than the running dataplane (its\n"
		"data was lost, or restored from an older backup), the node keeps\n"
		"forwarding with what it runs, reports the conflict in /v1/status and\n"
		"takes no rules until restarted with one of:\n"
		"  --adopt-dataplane   write the running rule set back to the store\n"
		"  --force             apply the store's rule set over the dataplane\n"
		"Table sizes in dataplane.* differ from the running dataplane's: refused,\n"
		"unless\n"
		"  --replace-dataplane load a new dataplane with the new sizes; every\n"
		"                      tracked connection and NAT entry is dropped\n"
		"       floodgated --version | --help\n"
		"\n"
		"SIGTERM stops the daemon and leaves the dataplane forwarding with its\n"
		"rules; SIGHUP re-reads the settings of FILE that can change live\n"
		"(log.level, the API token).\n");
}

/* The stock link's ends (fg_stock_link.h): the store, the process. */
static struct fg_etcd *fg_stock_etcd(void *arg)
{
	struct fg_daemon *d = arg;

	return fg_store_client(d->store);
}

static int fg_stock_exchange(void *arg, struct fg_dpdk_ctl_stock *x,
			     char *err, size_t errlen)
{
	struct fg_daemon *d = arg;

	return fg_dp_dpdk_stock(d->dp, x, err, errlen);
}

static void fg_stock_note(void *arg, const char *msg)
{
	(void)arg;
	fg_log(FG_LOG_INFO, "%s", msg);
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check", no_argument, NULL, 'k' },
		{ "detach", no_argument, NULL, 'D' },
		{ "force", no_argument, NULL, 'F' },
		{ "adopt-dataplane", no_argument, NULL, 'A' },
		{ "replace-dataplane", no_argument, NULL, 'R' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct fg_daemon dd = { 0 }, *d = &dd;
	struct fg_boot_errors errs;
	int check = 0, detach = 0, c, rc = 1;
	bool replace = false;
	char err[512] = "";

	/* A change builds the new generation's rings (4 MB at 1,000
	 * services) beside the live ones and frees the old: kept in the heap
	 * rather than mapped and unmapped each time, they cost no page
	 * faults (bench/run.sh api: about 1 ms of a change at that size). */
	mallopt(M_MMAP_THRESHOLD, 32 << 20);
	mallopt(M_TRIM_THRESHOLD, 64 << 20);

	while ((c = getopt_long(argc, argv, "c:h", lo, NULL)) != -1) {
		switch (c) {
		case 'c':
			d->config_path = optarg;
			break;
		case 'k':
			check = 1;
			break;
		case 'D':
			detach = 1;
			break;
		case 'F':
		case 'A':
			if (d->start_choice != FG_START_NORMAL) {
				fprintf(stderr, "floodgated: --force and "
					"--adopt-dataplane exclude each other\n");
				return 2;
			}
			d->start_choice = c == 'F' ? FG_START_FORCE : FG_START_ADOPT;
			break;
		case 'R':
			replace = true;
			break;
		case 'V':
			printf("floodgated %s\n", FG_SOFTWARE_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!d->config_path || optind != argc) {
		usage(stderr);
		return 2;
	}
	if ((check || detach) && (d->start_choice != FG_START_NORMAL || replace)) {
		fprintf(stderr, "floodgated: --force, --adopt-dataplane and "
			"--replace-dataplane go with a start, not with %s\n",
			check ? "--check" : "--detach");
		return 2;
	}
	if (fg_boot_load(d->config_path, &d->cfg, &errs)) {
		fg_boot_errors_print(&errs, stderr);
		return 1;
	}
	/* A kind this build does not have: refused here, so --check tells
	 * the operator too. */
	if (fg_dp_kind_check(&d->cfg, err, sizeof(err))) {
		fprintf(stderr, "%s: %s\n", d->config_path, err);
		return 1;
	}
	if (check) {
		printf("%s: ok\n", d->config_path);
		return 0;
	}
	fg_log_set_level(fg_level_of(d->cfg.log.level));
	fg_log_route_libbpf();
	fg_rules_set_regex_check(fg_hs_regex_check);
	signal(SIGPIPE, SIG_IGN);

	if (!detach) {
		/* First of all (loading the dataplane and starting etcd take
		 * seconds): a SIGTERM or SIGHUP meanwhile is handled, not
		 * fatal. */
		d->base = event_base_new();
		if (!d->base)
			goto out_cfg;
		d->sig_term = evsignal_new(d->base, SIGTERM, fg_on_stop, d);
		d->sig_int = evsignal_new(d->base, SIGINT, fg_on_stop, d);
		d->sig_hup = evsignal_new(d->base, SIGHUP, fg_on_hup, d);
		if (!d->sig_term || !d->sig_int || !d->sig_hup)
			goto out_base;
		evsignal_add(d->sig_term, NULL);
		evsignal_add(d->sig_int, NULL);
		evsignal_add(d->sig_hup, NULL);
	}
	d->dp = fg_dp_open(&d->cfg, (replace ? FG_DP_OPEN_REPLACE : 0) |
			   (detach ? FG_DP_OPEN_DETACH : 0), err, sizeof(err));
	if (!d->dp) {
		fg_log(FG_LOG_ERROR, "dataplane: %s", err);
		goto out_base;
	}
	if (d->dp->setup[0])
		fg_log(FG_LOG_INFO, "dataplane: %s", d->dp->setup);
	/* A dataplane process of its own (floodgate-dpdk) is watched from
	 * the loop: restarted or reconnected, its tables pushed, unasked. */
	if (!detach && fg_dp_supervise(d->dp, d->base, err, sizeof(err))) {
		fg_log(FG_LOG_ERROR, "dataplane: %s", err);
		goto out_base;
	}
	if (detach) {
		rc = d->dp->ops->detach(d->dp);
		if (rc)
			fg_log(FG_LOG_ERROR, "detach: %s", strerror(-rc));
		else
			fg_log(FG_LOG_INFO, "detached the dataplane of node %s",
			       d->cfg.node.name);
		/* What start set up on the box goes back as it was. */
		if (fg_host_undo(&d->cfg) && !rc)
			rc = -EIO;
		fg_reconcile_forget(d->cfg.node.name);
		rc = rc ? 1 : 0;
		goto out_cfg;
	}
	d->applied_version = d->dp->ops->applied_version(d->dp);
	fg_log(FG_LOG_INFO, "dataplane %s %s (version %" PRIu64 " live)",
	       d->dp->ops->kind, d->dp->adopted ? "adopted" : "loaded",
	       d->applied_version);

	/* Probes need a socket each, the API a few: the default soft limit
	 * (1,024) is far below the documented target count. */
	if (fg_health_raise_nofile(FG_HEALTH_TARGETS_MAX, err, sizeof(err)))
		fg_log(FG_LOG_WARN, "%s", err);
	d->host = fg_host_start(d->base, &d->cfg, err, sizeof(err));
	if (!d->host) {
		fg_log(FG_LOG_ERROR, "prepare the box: %s", err);
		goto out_base;
	}
	d->health = fg_health_new(d->base, fg_daemon_health_changed, d);
	if (!d->health)
		goto out_base;
	d->store = fg_store_open(d->base, &d->cfg, fg_on_rules, d, err,
				 sizeof(err));
	if (!d->store) {
		fg_log(FG_LOG_ERROR, "store: %s", err);
		goto out_base;
	}
	/* floodgate-dpdk's seckill engines get their stock allowance from
	 * claimers here, on this loop and store. */
	if (!fg_dp_dpdk_info(d->dp, NULL)) {
		struct fg_stock_link_conf lc = {
			.prefix = d->cfg.store.prefix, .node = d->cfg.node.name,
			.etcd = fg_stock_etcd, .exchange = fg_stock_exchange,
			.note = fg_stock_note, .arg = d,
		};

		d->stock = fg_stock_link_new(d->base, &lc, err, sizeof(err));
		if (!d->stock) {
			fg_log(FG_LOG_ERROR, "stock: %s", err);
			goto out_store;
		}
	}
	if (fg_api_start(d, err, sizeof(err))) {
		fg_log(FG_LOG_ERROR, "api: %s", err);
		goto out_store;
	}
	fg_log(FG_LOG_INFO, "floodgated %s: node %s, API on %s, store %s",
	       FG_SOFTWARE_VERSION, d->cfg.node.name, d->cfg.api.listen,
	       d->cfg.store.kind == FG_STORE_EMBEDDED ? "embedded" : "etcd");

	event_base_dispatch(d->base);
	rc = d->stopping ? 0 : 1;

	fg_api_stop(d);
out_store:
	fg_stock_link_free(d->stock);
	d->stock = NULL;
	fg_store_close(d->store);
out_base:
	if (d->sig_term)
		event_free(d->sig_term);
	if (d->sig_int)
		event_free(d->sig_int);
	if (d->sig_hup)
		event_free(d->sig_hup);
	fg_reconcile_free(d);
	fg_health_free(d->health);
	fg_host_free(d->host);
	fg_ruleset_free(&d->rules);
	if (d->dp)
		d->dp->ops->close(d->dp);
	if (d->base)
		event_base_free(d->base);
out_cfg:
	return rc;
}
