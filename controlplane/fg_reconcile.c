// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * fg_reconcile.c - keeps the dataplane on the stored rule version; see
 * fg_reconcile.h for what it guards against.
 *
 * One event loop, one thread: the store's callbacks, the health checker's
 * and the retry timer all run on d->base.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <arpa/inet.h>

#include "fg_daemon.h"
#include "fg_health.h"
#include "fg_host.h"
#include "fg_log.h"
#include "fg_reconcile.h"
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

bool fg_daemon_backend_up(struct fg_daemon *d, const struct fg_rule_service *s,
			  const struct fg_rule_backend *b)
{
	bool up = true;

	if (s->health.type == FG_HEALTH_NONE)
		return true;
	if (fg_health_get(d->health, s->name, &b->addr, fg_probe_port(s, b), &up))
		return true;
	return up;
}

void fg_daemon_health_changed(void *arg, const char *service,
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

/*
 * The first rule set after an adoption: a backend the running dataplane
 * has down while its rule says active was taken out by health checks
 * before the restart. Start its target down too, so the restart does not
 * put a dead backend back in the ring until probes say it is up.
 */
static void fg_health_seed_from_dataplane(struct fg_daemon *d)
{
	uint32_t i, j;
	bool down;

	for (i = 0; i < d->rules.nservices; i++) {
		const struct fg_rule_service *s = &d->rules.services[i];

		if (s->health.type == FG_HEALTH_NONE)
			continue;
		for (j = 0; j < s->nbackends; j++) {
			const struct fg_rule_backend *b = &s->backends[j];

			if (b->state == FG_BACKEND_DOWN)
				continue;
			if (d->dp->ops->backend_down(d->dp, s->name, &b->addr,
						     b->port, &down) || !down)
				continue;
			fg_health_seed(d->health, s->name, &b->addr,
				       fg_probe_port(s, b), false);
		}
	}
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

/* ---------------------------------------------- the running rule copy */

/* The run directory (FG_RUN_DIR unless a test says otherwise). */
static const char *fg_run_dir(const struct fg_daemon *d)
{
	return d->run_dir ? d->run_dir : FG_RUN_DIR;
}

/* <run dir>/<node>/applied.json: path into buf. */
static void fg_applied_path(const struct fg_daemon *d, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s/applied.json", fg_run_dir(d), d->cfg.node.name);
}

/*
 * Keep a copy of the rule set the dataplane runs, with its version and
 * origin, for --adopt-dataplane: the dataplane holds compiled tables, not
 * the rules. Written atomically (rename); a failure is logged and costs
 * only the adopt option.
 */
static void fg_applied_save(struct fg_daemon *d)
{
	char path[512], tmp[520], dir[512];
	char *text;
	json_t *o;
	int rc;

	snprintf(dir, sizeof(dir), "%s", fg_run_dir(d));
	mkdir(dir, 0700);
	snprintf(dir, sizeof(dir), "%s/%s", fg_run_dir(d), d->cfg.node.name);
	mkdir(dir, 0700);
	fg_applied_path(d, path, sizeof(path));
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	o = json_pack("{s:I,s:s,s:O}", "version", (json_int_t)d->applied_version,
		      "store_cluster_id", d->origin_cluster_hex, "config",
		      d->rules_json);
	if (!o) {
		fg_log(FG_LOG_WARN, "keep the running rules in %s: out of memory",
		       path);
		return;
	}
	/* One buffer, one write: json_dump_file writes piece by piece. */
	text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	rc = -1;
	if (text) {
		size_t len = strlen(text), off = 0;
		int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

		while (fd >= 0 && off < len) {
			ssize_t n = write(fd, text + off, len - off);

			if (n <= 0)
				break;
			off += (size_t)n;
		}
		rc = fd >= 0 && off == len ? 0 : -1;
		if (fd >= 0 && close(fd))
			rc = -1;
		free(text);
	}
	if (rc || rename(tmp, path)) {
		fg_log(FG_LOG_WARN, "keep the running rules in %s: %s "
		       "(--adopt-dataplane will not have them)", path,
		       strerror(errno));
		unlink(tmp);
	}
}

/* The copy of the running rules, if it is of version `version`: a new
 * reference, or NULL with a reason in why. */
static json_t *fg_applied_load(const struct fg_daemon *d, uint64_t version,
			       char *why, size_t len)
{
	char path[512];
	json_error_t je;
	json_t *o, *config;
	json_int_t v = 0;

	fg_applied_path(d, path, sizeof(path));
	o = json_load_file(path, 0, &je);
	if (!o) {
		snprintf(why, len, "%.200s: %.150s", path, je.text);
		return NULL;
	}
	if (json_unpack(o, "{s:I,s:o}", "version", &v, "config", &config) ||
	    (uint64_t)v != version) {
		snprintf(why, len, "%.200s holds version %" PRId64 ", the dataplane "
			 "runs %" PRIu64, path, (int64_t)v, version);
		json_decref(o);
		return NULL;
	}
	json_incref(config);
	json_decref(o);
	return config;
}

/* -------------------------------------------------------------- apply */

static void fg_apply_retry_cb(evutil_socket_t fd, short what, void *arg)
{
	struct fg_daemon *d = arg;

	if (d->applied_version != d->rules_version)
		fg_log(FG_LOG_INFO, "retrying the apply of version %" PRIu64,
		       d->rules_version);
	fg_daemon_apply(d);
}

/* Schedule the next try of a failed apply, backing off. */
static void fg_apply_retry_arm(struct fg_daemon *d)
{
	struct timeval tv;

	if (!d->apply_retry)
		d->apply_retry = evtimer_new(d->base, fg_apply_retry_cb, d);
	if (!d->apply_retry)
		return;
	d->apply_backoff_ms = d->apply_backoff_ms ?
		d->apply_backoff_ms * 2 : FG_APPLY_RETRY_FIRST_MS;
	if (d->apply_backoff_ms > FG_APPLY_RETRY_MAX_MS)
		d->apply_backoff_ms = FG_APPLY_RETRY_MAX_MS;
	tv.tv_sec = d->apply_backoff_ms / 1000;
	tv.tv_usec = (d->apply_backoff_ms % 1000) * 1000;
	evtimer_add(d->apply_retry, &tv);
}

int fg_daemon_apply(struct fg_daemon *d)
{
	struct fg_ruleset *rs = &d->rules;
	struct fg_dp_origin o;
	char err[256] = "";
	bool moved;
	uint32_t i, j;
	int rc;

	if (!d->rules_version)
		return 0;
	/* A store behind the dataplane is never applied on its own. */
	if (d->conflict[0])
		return -EBUSY;
	/* Health is this node's own observation: it is folded into what the
	 * dataplane runs, never into the stored rules. */
	for (i = 0; i < rs->nservices; i++)
		for (j = 0; j < rs->services[i].nbackends; j++)
			rs->services[i].backends[j].health_down =
				!fg_daemon_backend_up(d, &rs->services[i],
						      &rs->services[i].backends[j]);
	/* The next hops first: the kernel resolves them while the apply
	 * runs, so the first packets find them. */
	fg_host_follow(d->host, rs);
	rc = d->dp->ops->apply(d->dp, rs, d->rules_version, err, sizeof(err));
	if (rc) {
		snprintf(d->apply_error, sizeof(d->apply_error), "%s", err);
		fg_apply_retry_arm(d);
		fg_log(FG_LOG_ERROR, "apply version %" PRIu64 ": %s (retry in %u ms)",
		       d->rules_version, err, d->apply_backoff_ms);
		return rc;
	}
	d->apply_error[0] = '\0';
	d->apply_backoff_ms = 0;
	if (d->apply_retry)
		evtimer_del(d->apply_retry);
	moved = d->applied_version != d->rules_version;
	if (moved)
		fg_log(FG_LOG_INFO, "applied version %" PRIu64, d->rules_version);
	d->applied_version = d->rules_version;
	o.cluster_id = d->store_cluster_id;
	o.revision = d->applied_version;
	if (d->store_cluster_id && (rc = d->dp->ops->set_origin(d->dp, &o)))
		fg_log(FG_LOG_WARN, "record the rules' origin with the dataplane: %s",
		       strerror(-rc));
	if (moved)
		fg_applied_save(d);
	fg_store_node_applied(d->store, d->applied_version);
	return 0;
}

/* ------------------------------------------------- the first rule set */

/* The answer to --adopt-dataplane's write of the running rules. */
static void fg_adopt_written(void *arg, int err, uint64_t version,
			     const char *msg)
{
	struct fg_daemon *d = arg;
	json_t *config = d->adopting;

	d->adopting = NULL;
	if (err) {
		snprintf(d->conflict, sizeof(d->conflict), "--adopt-dataplane: "
			 "writing the running rules to the store failed: %s",
			 msg && msg[0] ? msg : strerror(-err));
		fg_log(FG_LOG_ERROR, "%s", d->conflict);
		json_decref(config);
		return;
	}
	fg_log(FG_LOG_INFO, "--adopt-dataplane: the running rules are in the "
	       "store as version %" PRIu64 "; versions count on from there",
	       version);
	d->conflict[0] = '\0';
	/* The watch may have brought the version first (held back then by
	 * the conflict): apply what the daemon holds either way. */
	fg_daemon_rules_changed(d, config, version);
	json_decref(config);
	if (d->applied_version != d->rules_version)
		fg_daemon_apply(d);
}

/*
 * The store's first rule set of this run against what the adopted
 * dataplane runs. Sets d->conflict when applying it would roll the
 * dataplane back and the operator did not choose; carries out the choice
 * otherwise.
 */
static void fg_first_rules(struct fg_daemon *d)
{
	struct fg_dp_origin o;
	uint64_t live = d->applied_version, rev = 0;
	bool have_o = !d->dp->ops->origin(d->dp, &o);
	char why[384];
	json_t *running;

	d->first_rules_seen = true;
	if (fg_store_identity(d->store, &d->store_cluster_id, &rev))
		d->store_cluster_id = 0;
	snprintf(d->origin_cluster_hex, sizeof(d->origin_cluster_hex),
		 "%016" PRIx64, d->store_cluster_id);
	if (!fg_origin_conflict(live, have_o ? &o : NULL, d->rules_version,
				d->store_cluster_id, why, sizeof(why))) {
		if (d->start_choice != FG_START_NORMAL)
			fg_log(FG_LOG_INFO, "%s: the store is in step with the "
			       "dataplane; nothing to choose",
			       d->start_choice == FG_START_FORCE ? "--force" :
			       "--adopt-dataplane");
		return;
	}
	switch (d->start_choice) {
	case FG_START_FORCE:
		fg_log(FG_LOG_WARN, "--force: %s; applying the store's version "
		       "%" PRIu64 " over it", why, d->rules_version);
		return;
	case FG_START_ADOPT:
		running = fg_applied_load(d, live, why, sizeof(why));
		if (!running)
			break;
		snprintf(d->conflict, sizeof(d->conflict), "--adopt-dataplane: "
			 "writing the running rules (version %" PRIu64 ") to "
			 "the store", live);
		fg_log(FG_LOG_WARN, "%s", d->conflict);
		d->adopting = running;
		if (fg_store_write(d->store, running, d->rules_version,
				   fg_adopt_written, d)) {
			d->adopting = NULL;
			json_decref(running);
			snprintf(why, sizeof(why), "out of memory");
			break;
		}
		return;
	case FG_START_NORMAL:
		snprintf(d->conflict, sizeof(d->conflict), "%s; the dataplane "
			 "keeps forwarding with version %" PRIu64 " and the node "
			 "takes no rules until restarted with --adopt-dataplane "
			 "(write the running rules to the store) or --force "
			 "(apply the store's)", why, live);
		fg_log(FG_LOG_ERROR, "store behind the dataplane: %s", d->conflict);
		return;
	}
	snprintf(d->conflict, sizeof(d->conflict), "--adopt-dataplane: no copy "
		 "of the running rules (%s); the dataplane keeps forwarding "
		 "with version %" PRIu64 "; --force applies the store's", why,
		 live);
	fg_log(FG_LOG_ERROR, "%s", d->conflict);
}

/* ------------------------------------------------------------- rules */

int fg_daemon_rules_changed(struct fg_daemon *d, json_t *config, uint64_t version)
{
	struct fg_rule_error e = { 0 };
	struct fg_ruleset rs = { 0 };

	if (version <= d->rules_version)
		return 0;
	if (fg_ruleset_from_json(config, &rs, &e)) {
		fg_log(FG_LOG_ERROR, "store: rules at version %" PRIu64
		       " do not validate (%s); keeping version %" PRIu64,
		       version, e.message, d->rules_version);
		return -EINVAL;
	}
	return fg_daemon_rules_set(d, config, &rs, version);
}

int fg_daemon_rules_set(struct fg_daemon *d, json_t *config,
			struct fg_ruleset *rs, uint64_t version)
{
	struct fg_ruleset old;
	bool first = !d->first_rules_seen;

	if (version <= d->rules_version) {
		fg_ruleset_free(rs);
		return 0;
	}
	/* The canonical GET /v1/config body: the caller's object, without a
	 * version (a reference, not a copy: nobody changes it after). */
	json_incref(config);
	json_object_del(config, "version");
	json_decref(d->rules_json);
	d->rules_json = config;
	old = d->rules;
	d->rules = *rs;
	memset(rs, 0, sizeof(*rs));
	d->rules_version = version;
	d->apply_backoff_ms = 0; /* a new version: try it at once */
	fg_health_follow(d, &old);
	fg_ruleset_free(&old);
	if (first) {
		if (d->dp->adopted)
			fg_health_seed_from_dataplane(d);
		fg_first_rules(d);
	}
	if (d->conflict[0])
		return 0;
	return fg_daemon_apply(d);
}

void fg_reconcile_forget(const char *node)
{
	char path[512];

	/* The copy of the running rules goes with the dataplane; the
	 * directory too, once the host preparation gave its file back. */
	snprintf(path, sizeof(path), "%s/%s/applied.json", FG_RUN_DIR, node);
	unlink(path);
	snprintf(path, sizeof(path), "%s/%s", FG_RUN_DIR, node);
	rmdir(path);
}

void fg_reconcile_free(struct fg_daemon *d)
{
	if (d->apply_retry)
		event_free(d->apply_retry);
	d->apply_retry = NULL;
	json_decref(d->adopting);
	d->adopting = NULL;
}
