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
#include <sys/uio.h>
#include <unistd.h>

#include <arpa/inet.h>

#include "fg_daemon.h"
#include "fg_health.h"
#include "fg_host.h"
#include "fg_log.h"
#include "fg_reconcile.h"
#include "fg_rules_json.h"
#include "fg_stock_link.h"
#include "fg_store.h"
#include "fg_time.h"

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
static void fg_health_follow(struct fg_daemon *d, const struct fg_ruleset *rs,
			     const struct fg_ruleset *old)
{
	const struct fg_rule_kind *k = &fg_rule_kinds[0];
	uint32_t i, j = 0, nold = old ? old->nservices : 0;
	bool all = d->health_unsynced;
	int rc;

	d->health_unsynced = false;

	/* Both sets are in name order (the rule model keeps them so): one
	 * walk pairs each service with its old self. One carried unchanged
	 * (the very struct, its backends array and all) needs no new sync:
	 * a change among many costs the services it touches. */
	for (i = 0; i < rs->nservices; i++) {
		const struct fg_rule_service *s = &rs->services[i];
		int c = 1;

		while (j < nold &&
		       (c = strcmp(old->services[j].name, s->name)) < 0)
			j++;
		if (!all && j < nold && !c &&
		    !memcmp(&old->services[j], s, sizeof(*s)))
			continue;
		rc = fg_health_sync(d->health, s->name, &s->health, s->backends,
				    s->nbackends, s->port);
		if (rc) {
			fg_log(FG_LOG_ERROR, "health: service %s: cannot probe: %s",
			       s->name, strerror(-rc));
			d->health_unsynced = true;
		}
	}
	for (i = 0; i < nold; i++)
		if (!fg_rule_find(rs, k, old->services[i].name))
			fg_health_remove_service(d->health, old->services[i].name);
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
 * fg_applied_save - keep a copy of the rules the dataplane runs, with its
 * version and store, where --adopt-dataplane finds it after the store was
 * lost: {"version":V,"store_cluster_id":"...","shards":[{...},...]}, the
 * shard texts as the store holds them, so a change costs a concatenation,
 * not a serialisation of the whole set. Written to a temporary file and
 * renamed over the old one; a failure is logged and changes nothing.
 */
static void fg_applied_save(struct fg_daemon *d)
{
	char path[512], tmp[520], dir[512], head[128];
	int fd, rc = -1;
	unsigned int i;

	snprintf(dir, sizeof(dir), "%s", fg_run_dir(d));
	mkdir(dir, 0700);
	snprintf(dir, sizeof(dir), "%s/%s", fg_run_dir(d), d->cfg.node.name);
	mkdir(dir, 0700);
	fg_applied_path(d, path, sizeof(path));
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	snprintf(head, sizeof(head), "{\"version\":%" PRIu64 ",\"store_cluster_id\":"
		 "\"%s\",\"shards\":[", d->applied_version, d->origin_cluster_hex);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd >= 0) {
		struct iovec iov[2 * FG_RULES_SHARDS + 1];
		size_t want = 0;
		int n = 0;
		ssize_t w;

		iov[n++] = (struct iovec){ head, strlen(head) };
		for (i = 0; i < FG_RULES_SHARDS; i++) {
			const char *t = d->shard_text[i] ? d->shard_text[i] : "{}";

			iov[n++] = (struct iovec){ (void *)t, strlen(t) };
			iov[n++] = (struct iovec){ (void *)(i + 1 < FG_RULES_SHARDS ?
							    "," : "]}"),
						   i + 1 < FG_RULES_SHARDS ? 1 : 2 };
		}
		for (i = 0; i < (unsigned int)n; i++)
			want += iov[i].iov_len;
		/* One writev of well under the size a local file takes in
		 * one go; anything shorter counts as a failure. */
		w = writev(fd, iov, n);
		rc = w == (ssize_t)want ? 0 : -1;
		if (close(fd))
			rc = -1;
	}
	if (rc || rename(tmp, path)) {
		fg_log(FG_LOG_WARN, "keep the running rules in %s: %s "
		       "(--adopt-dataplane will not have them)", path,
		       strerror(errno));
		unlink(tmp);
	}
}

static void fg_applied_save_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	fg_applied_save(arg);
}

/* The copy of the running rules is written once applies have paused
 * for FG_APPLIED_SAVE_DELAY_MS, and at the latest FG_APPLIED_SAVE_MAX_MS
 * after the first apply it does not hold yet: writing it (about a
 * millisecond for a large set) never delays a write's answer or the
 * requests that follow it, and a burst of changes is written once. */
#define FG_APPLIED_SAVE_DELAY_MS 20
#define FG_APPLIED_SAVE_MAX_MS 1000

/* fg_applied_save_soon - an apply happened: (re)schedule the copy (at once
 * when it is overdue or no timer can be had). */
static void fg_applied_save_soon(struct fg_daemon *d)
{
	struct timeval tv = { 0, FG_APPLIED_SAVE_DELAY_MS * 1000 };
	uint64_t now = fg_now_ms();

	if (!d->save_ev)
		d->save_ev = evtimer_new(d->base, fg_applied_save_cb, d);
	if (!d->save_ev || !evtimer_pending(d->save_ev, NULL))
		d->save_first_ms = now;
	if (!d->save_ev || now - d->save_first_ms >= FG_APPLIED_SAVE_MAX_MS ||
	    evtimer_add(d->save_ev, &tv)) {
		if (d->save_ev)
			evtimer_del(d->save_ev);
		fg_applied_save(d);
	}
}

/* Merge config body src's members into dst (kind maps are united). */
static int fg_config_unite(json_t *dst, json_t *src)
{
	const char *key;
	json_t *val;

	json_object_foreach(src, key, val) {
		json_t *have = json_object_get(dst, key);

		if (have && json_is_object(have) && json_is_object(val)) {
			if (json_object_update(have, val))
				return -ENOMEM;
		} else if (json_object_set(dst, key, val)) {
			return -ENOMEM;
		}
	}
	return 0;
}

/* The copy of the running rules (a config body), if it is of version
 * `version`: a new reference, or NULL with the reason in why. Reads the
 * earlier releases' {"config": {...}} as well. */
static json_t *fg_applied_load(const struct fg_daemon *d, uint64_t version,
			       char *why, size_t len)
{
	char path[512];
	json_error_t je;
	json_t *o, *config, *shards, *sh;
	json_int_t v = 0;
	size_t i;

	fg_applied_path(d, path, sizeof(path));
	o = json_load_file(path, 0, &je);
	if (!o) {
		snprintf(why, len, "%.200s: %.150s", path, je.text);
		return NULL;
	}
	if (json_unpack(o, "{s:I}", "version", &v) || (uint64_t)v != version) {
		snprintf(why, len, "%.200s holds version %" PRId64 ", the dataplane "
			 "runs %" PRIu64, path, (int64_t)v, version);
		json_decref(o);
		return NULL;
	}
	config = json_object_get(o, "config");
	shards = json_object_get(o, "shards");
	if (json_is_object(config)) {
		json_incref(config);
	} else if (json_is_array(shards)) {
		config = json_object();
		json_array_foreach(shards, i, sh) {
			if (!config || !json_is_object(sh) ||
			    fg_config_unite(config, sh)) {
				json_decref(config);
				config = NULL;
				break;
			}
		}
	} else {
		config = NULL;
	}
	if (!config)
		snprintf(why, len, "%.200s: no readable rule set in it", path);
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
		for (j = 0; j < rs->services[i].nbackends; j++) {
			struct fg_rule_backend *b = &rs->services[i].backends[j];
			bool down = !fg_daemon_backend_up(d, &rs->services[i], b);

			/* Other content than the dataplane checked. */
			if (b->health_down != down)
				rs->tag = 0;
			b->health_down = down;
		}
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
		fg_applied_save_soon(d);
	fg_store_node_applied(d->store, d->applied_version);
	/* The engines may have changed: their claimers hear it now. */
	fg_stock_link_kick(d->stock);
	return 0;
}

/* ------------------------------------------------- the first rule set */

/* --adopt-dataplane's write under way: the running rules, parsed, and
 * their shard texts. */
struct fg_adopting {
	struct fg_ruleset rs;
	char *texts[FG_RULES_SHARDS];
};

static void fg_adopting_free(struct fg_adopting *a)
{
	if (!a)
		return;
	fg_ruleset_free(&a->rs);
	fg_ruleset_shard_texts_free(a->texts);
	free(a);
}

/* The answer to --adopt-dataplane's write of the running rules. */
static void fg_adopt_written(void *arg, int err, uint64_t version,
			     const char *msg)
{
	struct fg_daemon *d = arg;
	struct fg_adopting *a = d->adopting;

	d->adopting = NULL;
	if (err) {
		snprintf(d->conflict, sizeof(d->conflict), "--adopt-dataplane: "
			 "writing the running rules to the store failed: %s",
			 msg && msg[0] ? msg : strerror(-err));
		fg_log(FG_LOG_ERROR, "%s", d->conflict);
		fg_adopting_free(a);
		return;
	}
	fg_log(FG_LOG_INFO, "--adopt-dataplane: the running rules are in the "
	       "store as version %" PRIu64 "; versions count on from there",
	       version);
	d->conflict[0] = '\0';
	/* The watch may have brought the version first (held back then by
	 * the conflict): apply what the daemon holds either way. */
	fg_daemon_rules_set(d, &a->rs, FG_RULES_SHARDS_ALL, a->texts, version);
	fg_adopting_free(a);
	if (d->applied_version != d->rules_version)
		fg_daemon_apply(d);
}

/*
 * fg_adopt_start - write `running` (a config body) to the store as the
 * next version, for --adopt-dataplane. 0, or -errno with why.
 */
static int fg_adopt_start(struct fg_daemon *d, json_t *running, char *why,
			  size_t len)
{
	struct fg_adopting *a = calloc(1, sizeof(*a));
	struct fg_rule_error e = { 0 };
	int rc;

	if (!a) {
		snprintf(why, len, "out of memory");
		return -ENOMEM;
	}
	rc = fg_ruleset_from_json(running, &a->rs, &e);
	if (rc) {
		snprintf(why, len, "the copy of the running rules does not "
			 "read: %.300s", e.message);
		free(a);
		return rc;
	}
	rc = fg_ruleset_shard_texts(&a->rs, FG_RULES_SHARDS_ALL, a->texts);
	if (!rc)
		rc = fg_store_write(d->store, a->texts, FG_RULES_SHARDS_ALL,
				    d->rules_version, fg_adopt_written, d);
	if (rc) {
		snprintf(why, len, "out of memory");
		fg_adopting_free(a);
		return rc;
	}
	d->adopting = a;
	return 0;
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
	int rc;

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
		rc = fg_adopt_start(d, running, why, sizeof(why));
		json_decref(running);
		if (rc)
			break;
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

int fg_daemon_rules_changed(struct fg_daemon *d,
			    const struct fg_store_change *ch, uint64_t version)
{
	struct fg_ruleset objs = { 0 }, view = { 0 };
	char *texts[FG_RULES_SHARDS] = { NULL };
	struct fg_rule_error e = { 0 };
	json_t *all = json_object();
	const char *what = "out of memory";
	unsigned int i;
	int rc = -ENOMEM;

	if (version <= d->rules_version) {
		json_decref(all);
		return 0;
	}
	/* The changed shards as one body: parsed once, each object on its
	 * own; the checks across objects run on the whole view. */
	for (i = 0; all && i < FG_RULES_SHARDS; i++) {
		json_error_t je;
		json_t *j;

		if (!(ch->shards & (1ULL << i)) || !ch->text[i])
			continue;
		j = json_loadb(ch->text[i], ch->len[i], 0, &je);
		if (!json_is_object(j)) {
			fg_log(FG_LOG_ERROR, "store: rules at version %" PRIu64
			       ": shard %u is not a JSON object (%s); keeping "
			       "version %" PRIu64, version, i,
			       j ? "wrong type" : je.text, d->rules_version);
			json_decref(j);
			json_decref(all);
			return -EINVAL;
		}
		rc = fg_config_unite(all, j);
		json_decref(j);
		if (rc)
			goto fail;
	}
	if (!all)
		goto fail;
	rc = fg_ruleset_objects_from_json(all, &objs, &e);
	if (!rc) {
		rc = fg_ruleset_view_merge(&d->rules, ch->shards, &objs, &view);
		if (!rc && (rc = fg_ruleset_check(&view, &e)))
			fg_ruleset_view_free(&view);
		else if (rc)
			e.message[0] = '\0';
		if (rc)
			fg_ruleset_free(&objs);
	}
	if (rc) {
		if (e.message[0])
			what = e.message;
		goto fail;
	}
	json_decref(all);
	all = NULL;
	/* The texts as this node writes them (canonical), not as found. */
	rc = fg_ruleset_shard_texts(&view, ch->shards, texts);
	if (!rc)
		rc = fg_daemon_rules_set(d, &view, ch->shards, texts, version);
	if (rc) {
		/* Nothing taken: the parsed objects go with the view. */
		fg_ruleset_shard_texts_free(texts);
		fg_ruleset_view_free(&view);
		fg_ruleset_free(&objs);
		return rc == -ESTALE ? 0 : rc;
	}
	/* Their owned parts belong to d->rules now. */
	fg_ruleset_view_free(&objs);
	return 0;
fail:
	json_decref(all);
	fg_log(FG_LOG_ERROR, "store: rules at version %" PRIu64
	       " do not validate (%s); keeping version %" PRIu64,
	       version, what, d->rules_version);
	return rc;
}

int fg_daemon_rules_set(struct fg_daemon *d, struct fg_ruleset *rs,
			uint64_t shards, char *texts[FG_RULES_SHARDS],
			uint64_t version)
{
	bool first = !d->first_rules_seen;
	unsigned int i;

	if (version <= d->rules_version)
		return -ESTALE;
	fg_health_follow(d, rs, &d->rules);
	fg_ruleset_take(&d->rules, rs);
	for (i = 0; i < FG_RULES_SHARDS; i++) {
		if (!(shards & (1ULL << i)))
			continue;
		free(d->shard_text[i]);
		d->shard_text[i] = texts[i];
		texts[i] = NULL;
	}
	d->rules_version = version;
	d->apply_backoff_ms = 0; /* a new version: try it at once */
	if (first) {
		if (d->dp->adopted)
			fg_health_seed_from_dataplane(d);
		fg_first_rules(d);
	}
	if (d->conflict[0])
		return 0;
	fg_daemon_apply(d);
	return 0;
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
	fg_adopting_free(d->adopting);
	d->adopting = NULL;
	if (d->save_ev) {
		/* A copy still to be written goes now. */
		if (evtimer_pending(d->save_ev, NULL))
			fg_applied_save(d);
		event_free(d->save_ev);
		d->save_ev = NULL;
	}
	fg_ruleset_shard_texts_free(d->shard_text);
}
