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
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <arpa/inet.h>

#include <event2/event.h>

#include "fg_daemon.h"
#include "fg_health.h"
#include "fg_log.h"
#include "fg_rules_json.h"
#include "fg_store.h"

/* ------------------------------------------------------------ health */

/* The port a backend is probed on: the health port, else the backend's,
 * else the service's (a DSR service keeps the VIP port). */
static uint16_t fg_probe_port(const struct fg_rule_service *s,
			      const struct fg_rule_backend *b)
{
	if (s->health.port)
		return s->health.port;
	return b->port ? b->port : s->port;
}

bool fg_daemon_backend_healthy(struct fg_daemon *d, const char *service,
			       const struct fg_rule_backend *b)
{
	uint32_t i;
	bool up = true;

	for (i = 0; i < d->rules.nservices; i++) {
		const struct fg_rule_service *s = &d->rules.services[i];

		if (strcmp(s->name, service))
			continue;
		if (s->health.type == FG_HEALTH_NONE)
			return true;
		if (fg_health_get(d->health, service, &b->addr, fg_probe_port(s, b), &up))
			return true;
		return up;
	}
	return true;
}

static void fg_health_changed(void *arg, const char *service,
			      const struct fg_addr *addr, uint16_t port, bool up)
{
	struct fg_daemon *d = arg;
	char a[64];

	inet_ntop(addr->family, addr->family == AF_INET ? (const void *)&addr->a4 :
		  (const void *)&addr->a6, a, sizeof(a));
	fg_log(up ? FG_LOG_INFO : FG_LOG_WARN, "health: %s backend %s port %u is %s",
	       service, a, port, up ? "up: back in the ring" : "down: out of the ring");
	fg_daemon_apply(d);
}

/* Tell the health checker the targets of every service; forget the
 * services that are gone. */
static void fg_health_follow(struct fg_daemon *d, const struct fg_ruleset *old)
{
	uint32_t i, j;
	int rc;

	for (i = 0; i < d->rules.nservices; i++) {
		const struct fg_rule_service *s = &d->rules.services[i];

		rc = fg_health_sync(d->health, s->name, &s->health, s->backends,
				    s->nbackends, s->port);
		if (rc)
			fg_log(FG_LOG_ERROR, "health: service %s: cannot probe: %s",
			       s->name, strerror(-rc));
	}
	for (i = 0; old && i < old->nservices; i++) {
		for (j = 0; j < d->rules.nservices; j++)
			if (!strcmp(old->services[i].name, d->rules.services[j].name))
				break;
		if (j == d->rules.nservices)
			fg_health_remove_service(d->health, old->services[i].name);
	}
}

/* ------------------------------------------------------------- rules */

int fg_daemon_apply(struct fg_daemon *d)
{
	struct fg_ruleset *rs = &d->rules;
	char err[256] = "";
	uint32_t i, j;
	int rc;

	if (!d->rules_version)
		return 0;
	/* Health is this node's own observation: it is folded into what the
	 * dataplane runs, never into the stored rules. */
	for (i = 0; i < rs->nservices; i++)
		for (j = 0; j < rs->services[i].nbackends; j++)
			rs->services[i].backends[j].health_down =
				!fg_daemon_backend_healthy(d, rs->services[i].name,
							   &rs->services[i].backends[j]);
	rc = d->dp->ops->apply(d->dp, rs, d->rules_version, err, sizeof(err));
	if (rc) {
		snprintf(d->apply_error, sizeof(d->apply_error), "%s", err);
		fg_log(FG_LOG_ERROR, "apply version %" PRIu64 ": %s", d->rules_version, err);
		return rc;
	}
	d->apply_error[0] = '\0';
	if (d->applied_version != d->rules_version)
		fg_log(FG_LOG_INFO, "applied version %" PRIu64, d->rules_version);
	d->applied_version = d->rules_version;
	fg_store_node_applied(d->store, d->applied_version);
	return 0;
}

int fg_daemon_rules_changed(struct fg_daemon *d, json_t *config, uint64_t version)
{
	struct fg_api_error e = { 0 };
	struct fg_ruleset rs = { 0 }, old;
	json_t *canon;

	if (version <= d->rules_version)
		return 0;
	if (fg_config_from_json(config, &rs, &e)) {
		fg_log(FG_LOG_ERROR, "store: rules at version %" PRIu64
		       " do not validate (%s); keeping version %" PRIu64,
		       version, e.message, d->rules_version);
		return -EINVAL;
	}
	canon = json_deep_copy(config);
	if (!canon) {
		fg_ruleset_free(&rs);
		return -ENOMEM;
	}
	json_object_del(canon, "version");
	json_decref(d->rules_json);
	d->rules_json = canon;
	old = d->rules;
	d->rules = rs;
	d->rules_version = version;
	fg_health_follow(d, &old);
	fg_ruleset_free(&old);
	return fg_daemon_apply(d);
}

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
	struct fg_config_errors errs;
	struct fg_boot_config nc;
	char err[512] = "";
	int rc;

	if (fg_config_load(d->config_path, &nc, &errs)) {
		fg_log(FG_LOG_ERROR, "SIGHUP: %s does not load; nothing changed",
		       d->config_path);
		fg_config_errors_print(&errs, stderr);
		return;
	}
	rc = fg_config_reload_diff(&d->cfg, &nc, err, sizeof(err));
	if (rc < 0) {
		fg_log(FG_LOG_ERROR, "SIGHUP: %s; nothing changed", err);
		return;
	}
	d->cfg = nc;
	fg_log_set_level(fg_level_of(d->cfg.log.level));
	fg_log(FG_LOG_INFO, "SIGHUP: reloaded %s (%s%s%s)", d->config_path,
	       rc ? "" : "no live setting changed",
	       rc & FG_CONFIG_RELOAD_LOG_LEVEL ? "log.level " : "",
	       rc & FG_CONFIG_RELOAD_TOKEN ? "api token" : "");
}

/* --------------------------------------------------------------- main */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: floodgated -c FILE            run the daemon\n"
		"       floodgated --check -c FILE    validate FILE and exit (0 good, 1 bad)\n"
		"       floodgated --detach -c FILE   stop the node's dataplane: detach the XDP\n"
		"                                     program and remove its pinned state\n"
		"       floodgated --version | --help\n"
		"\n"
		"SIGTERM stops the daemon and leaves the dataplane forwarding with its\n"
		"rules; SIGHUP re-reads the settings of FILE that can change live\n"
		"(log.level, the API token).\n");
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check", no_argument, NULL, 'k' },
		{ "detach", no_argument, NULL, 'D' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct fg_daemon dd = { 0 }, *d = &dd;
	struct fg_config_errors errs;
	int check = 0, detach = 0, c, rc = 1;
	char err[512] = "";

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
	if (fg_config_load(d->config_path, &d->cfg, &errs)) {
		fg_config_errors_print(&errs, stderr);
		return 1;
	}
	/* The boot-file syntax has a DPDK dataplane (API.md); this build
	 * does not. Refuse it here, so --check tells the operator too. */
	if (d->cfg.dataplane.kind != FG_DATAPLANE_XDP) {
		fprintf(stderr, "%s: dataplane.kind \"dpdk\": the DPDK dataplane "
			"is not available in this build (use \"xdp\")\n",
			d->config_path);
		return 1;
	}
	if (check) {
		printf("%s: ok\n", d->config_path);
		return 0;
	}
	fg_log_set_level(fg_level_of(d->cfg.log.level));
	fg_log_route_libbpf();
	signal(SIGPIPE, SIG_IGN);

	d->dp = fg_dp_xdp_open(&d->cfg, err, sizeof(err));
	if (!d->dp) {
		fg_log(FG_LOG_ERROR, "dataplane: %s", err);
		goto out_cfg;
	}
	if (d->dp->setup[0])
		fg_log(FG_LOG_INFO, "dataplane: %s", d->dp->setup);
	if (detach) {
		rc = d->dp->ops->detach(d->dp);
		if (rc)
			fg_log(FG_LOG_ERROR, "detach: %s", strerror(-rc));
		else
			fg_log(FG_LOG_INFO, "detached the dataplane of node %s",
			       d->cfg.node.name);
		rc = rc ? 1 : 0;
		goto out_cfg;
	}
	d->applied_version = d->dp->ops->applied_version(d->dp);
	fg_log(FG_LOG_INFO, "dataplane %s %s (version %" PRIu64 " live)",
	       d->dp->ops->kind, d->dp->adopted ? "adopted" : "loaded",
	       d->applied_version);

	d->base = event_base_new();
	if (!d->base)
		goto out_dp;
	d->health = fg_health_new(d->base, fg_health_changed, d);
	d->rules_json = json_pack("{s:{},s:{},s:{},s:{}}", "services", "limits",
				  "routes", "seckill");
	if (!d->health || !d->rules_json)
		goto out_base;
	d->store = fg_store_open(d, err, sizeof(err));
	if (!d->store) {
		fg_log(FG_LOG_ERROR, "store: %s", err);
		goto out_base;
	}
	if (fg_api_start(d, err, sizeof(err))) {
		fg_log(FG_LOG_ERROR, "api: %s", err);
		goto out_store;
	}
	d->sig_term = evsignal_new(d->base, SIGTERM, fg_on_stop, d);
	d->sig_int = evsignal_new(d->base, SIGINT, fg_on_stop, d);
	d->sig_hup = evsignal_new(d->base, SIGHUP, fg_on_hup, d);
	if (!d->sig_term || !d->sig_int || !d->sig_hup)
		goto out_api;
	evsignal_add(d->sig_term, NULL);
	evsignal_add(d->sig_int, NULL);
	evsignal_add(d->sig_hup, NULL);
	fg_log(FG_LOG_INFO, "floodgated %s: node %s, API on %s, store %s",
	       FG_SOFTWARE_VERSION, d->cfg.node.name, d->cfg.api.listen,
	       d->cfg.store.kind == FG_STORE_EMBEDDED ? "embedded" : "etcd");

	event_base_dispatch(d->base);
	rc = d->stopping ? 0 : 1;

out_api:
	if (d->sig_term)
		event_free(d->sig_term);
	if (d->sig_int)
		event_free(d->sig_int);
	if (d->sig_hup)
		event_free(d->sig_hup);
	fg_api_stop(d);
out_store:
	fg_store_close(d->store);
out_base:
	fg_health_free(d->health);
	json_decref(d->rules_json);
	fg_ruleset_free(&d->rules);
	event_base_free(d->base);
out_dp:
	d->dp->ops->close(d->dp);
out_cfg:
	return rc;
}
