// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * fg_store.c - the rule store on etcd; see fg_store.h for the layout.
 *
 * Everything is asynchronous on the daemon's event loop. While the store
 * cannot be reached the daemon keeps serving reads of the last rule set
 * and the dataplane keeps enforcing it; writes answer 503.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "fg_daemon.h"
#include "fg_etcd.h"
#include "fg_etcd_embedded.h"
#include "fg_log.h"
#include "fg_store.h"

/* A node's registration lives this long without refreshes. */
#define FG_NODE_LEASE_TTL_S 10
/* Retry delay after a failed load or watch. */
#define FG_STORE_RETRY_MS 1000
/* How often the embedded member's process is checked. */
#define FG_EMBEDDED_CHECK_MS 1000

struct fg_store {
	struct fg_daemon *d;
	struct fg_etcd *etcd;
	struct fg_etcd_embedded *emb;
	char *rules_key;
	char *nodes_prefix;
	char *node_key;
	struct fg_etcd_watch *watch;
	struct event *retry;
	struct event *emb_timer;
	int64_t lease;
	struct fg_etcd_keepalive *ka;
	bool registering;
	bool healthy;
	uint64_t node_applied;
	char endpoint[256];
};

static void fg_store_load(struct fg_store *st);
static void fg_store_register(struct fg_store *st);

/* ------------------------------------------------------------ helpers */

static void fg_store_set_health(struct fg_store *st, int err, const char *msg)
{
	bool ok = err == 0;

	if (ok != st->healthy)
		fg_log(ok ? FG_LOG_INFO : FG_LOG_WARN, "store %s%s%s",
		       ok ? "reachable" : "unreachable: ", ok ? "" : msg,
		       ok ? "" : " (the dataplane keeps its rules)");
	st->healthy = ok;
}

static void fg_store_retry_later(struct fg_store *st)
{
	struct timeval tv = { FG_STORE_RETRY_MS / 1000, (FG_STORE_RETRY_MS % 1000) * 1000 };

	evtimer_add(st->retry, &tv);
}

/* Parse a stored rule set; NULL (logged) when it is not a JSON object. */
static json_t *fg_store_parse(const struct fg_etcd_kv *kv)
{
	json_error_t jerr;
	json_t *j = json_loadb(kv->value, kv->value_len, 0, &jerr);

	if (!j || !json_is_object(j)) {
		fg_log(FG_LOG_ERROR, "store: rules at revision %" PRId64
		       " are not a JSON object (%s); ignored", kv->mod_revision,
		       j ? "wrong type" : jerr.text);
		json_decref(j);
		return NULL;
	}
	return j;
}

/* -------------------------------------------------------------- watch */

static void fg_store_watch_cb(void *arg, const struct fg_etcd_watch_result *res)
{
	struct fg_store *st = arg;
	size_t i;

	if (res->err) {
		fg_store_set_health(st, res->err, res->message);
		if (res->terminal) {
			/* Compacted past us, or cancelled by etcd: read the
			 * whole set again, which restarts the watch. */
			fg_etcd_watch_cancel(st->watch);
			st->watch = NULL;
			fg_store_retry_later(st);
		}
		return;
	}
	fg_store_set_health(st, 0, NULL);
	for (i = 0; i < res->n_events; i++) {
		const struct fg_etcd_event *ev = &res->events[i];
		json_t *j;

		if (ev->type == FG_ETCD_EVENT_DELETE) {
			fg_log(FG_LOG_WARN, "store: the rule set key was deleted at "
			       "revision %" PRId64 "; keeping the current rules",
			       ev->kv.mod_revision);
			continue;
		}
		j = fg_store_parse(&ev->kv);
		if (!j)
			continue;
		fg_daemon_rules_changed(st->d, j, (uint64_t)ev->kv.mod_revision);
		json_decref(j);
	}
}

static void fg_store_watch_from(struct fg_store *st, int64_t rev)
{
	struct fg_etcd_watch_opts o = {
		.key = st->rules_key,
		.start_revision = rev,
	};
	int rc;

	if (st->watch)
		fg_etcd_watch_cancel(st->watch);
	st->watch = NULL;
	rc = fg_etcd_watch_start(st->etcd, &o, fg_store_watch_cb, st, &st->watch);
	if (rc) {
		fg_log(FG_LOG_ERROR, "store: cannot watch %s: %s", st->rules_key,
		       strerror(-rc));
		fg_store_retry_later(st);
	}
}

/* --------------------------------------------------------------- load */

static void fg_store_init_done(void *arg, const struct fg_etcd_result *res)
{
	struct fg_store *st = arg;
	json_t *empty;

	fg_store_set_health(st, res->err, res->message);
	if (res->err) {
		fg_store_retry_later(st);
		return;
	}
	if (!res->succeeded) {
		/* Another node stored the first rule set meanwhile. */
		fg_store_load(st);
		return;
	}
	empty = json_pack("{s:{},s:{},s:{},s:{}}", "services", "limits", "routes",
			  "seckill");
	fg_log(FG_LOG_INFO, "store: created an empty rule set at version %" PRId64,
	       res->revision);
	fg_daemon_rules_changed(st->d, empty, (uint64_t)res->revision);
	json_decref(empty);
	fg_store_watch_from(st, res->revision + 1);
}

static void fg_store_load_done(void *arg, const struct fg_etcd_result *res)
{
	struct fg_store *st = arg;
	static const char empty[] =
		"{\"services\":{},\"limits\":{},\"routes\":{},\"seckill\":{}}";
	struct fg_etcd_cmp cmp = {
		.key = st->rules_key,
		.target = FG_ETCD_CMP_CREATE_REVISION,
		.result = FG_ETCD_CMP_EQUAL,
		.number = 0,
	};
	struct fg_etcd_op put = {
		.type = FG_ETCD_OP_PUT,
		.key = st->rules_key,
		.value = empty,
		.value_len = sizeof(empty) - 1,
	};
	json_t *j;

	fg_store_set_health(st, res->err, res->message);
	if (res->err) {
		fg_store_retry_later(st);
		return;
	}
	if (!res->n_kvs) {
		/* A new store: every version is a revision of the rules key,
		 * so the first rule set is written, empty. */
		if (fg_etcd_txn(st->etcd, &cmp, 1, &put, 1, NULL, 0,
				fg_store_init_done, st))
			fg_store_retry_later(st);
		return;
	}
	j = fg_store_parse(&res->kvs[0]);
	if (j) {
		fg_daemon_rules_changed(st->d, j, (uint64_t)res->kvs[0].mod_revision);
		json_decref(j);
	}
	fg_store_watch_from(st, res->revision + 1);
}

static void fg_store_load(struct fg_store *st)
{
	if (fg_etcd_range(st->etcd, st->rules_key, false, fg_store_load_done, st))
		fg_store_retry_later(st);
}

static void fg_store_retry_cb(evutil_socket_t fd, short what, void *arg)
{
	struct fg_store *st = arg;

	fg_store_load(st);
	if (!st->lease && !st->registering)
		fg_store_register(st);
}

/* -------------------------------------------------------------- nodes */

static json_t *fg_store_node_json(struct fg_store *st)
{
	const struct fg_boot_config *c = &st->d->cfg;

	return json_pack("{s:s,s:s,s:s,s:I,s:s}", "name", c->node.name,
			 "group", c->node.group, "address", c->api.listen,
			 "applied_version", (json_int_t)st->node_applied,
			 "software_version", FG_SOFTWARE_VERSION);
}

static void fg_store_ignore(void *arg, const struct fg_etcd_result *res)
{
	struct fg_store *st = arg;

	fg_store_set_health(st, res->err, res->message);
}

static void fg_store_node_put(struct fg_store *st)
{
	json_t *j = fg_store_node_json(st);
	char *v = j ? json_dumps(j, JSON_COMPACT) : NULL;

	if (v)
		fg_etcd_put(st->etcd, st->node_key, v, strlen(v), st->lease,
			    fg_store_ignore, st);
	free(v);
	json_decref(j);
}

static void fg_store_lease_lost(void *arg, int64_t id, int err)
{
	struct fg_store *st = arg;

	fg_log(FG_LOG_WARN, "store: node lease %" PRId64 " lost (%s); registering again",
	       id, strerror(-err));
	fg_etcd_keepalive_stop(st->ka);
	st->ka = NULL;
	st->lease = 0;
	fg_store_register(st);
}

static void fg_store_granted(void *arg, const struct fg_etcd_result *res)
{
	struct fg_store *st = arg;

	st->registering = false;
	fg_store_set_health(st, res->err, res->message);
	if (res->err) {
		fg_store_retry_later(st);
		return;
	}
	st->lease = res->lease_id;
	if (fg_etcd_keepalive_start(st->etcd, st->lease, res->lease_ttl,
				    fg_store_lease_lost, st, &st->ka)) {
		st->lease = 0;
		fg_store_retry_later(st);
		return;
	}
	fg_store_node_put(st);
}

static void fg_store_register(struct fg_store *st)
{
	st->registering = true;
	if (fg_etcd_lease_grant(st->etcd, FG_NODE_LEASE_TTL_S, 0, fg_store_granted, st)) {
		st->registering = false;
		fg_store_retry_later(st);
	}
}

void fg_store_node_applied(struct fg_store *st, uint64_t version)
{
	if (!st)
		return;
	st->node_applied = version;
	if (st->lease)
		fg_store_node_put(st);
}

struct fg_nodes_req {
	struct fg_store *st;
	fg_store_nodes_cb cb;
	void *arg;
};

static void fg_store_nodes_done(void *arg, const struct fg_etcd_result *res)
{
	struct fg_nodes_req *r = arg;
	json_t *nodes;
	size_t i;

	fg_store_set_health(r->st, res->err, res->message);
	if (res->err) {
		r->cb(r->arg, res->err, NULL, res->message);
		free(r);
		return;
	}
	nodes = json_array();
	for (i = 0; i < res->n_kvs; i++) {
		json_t *n = json_loadb(res->kvs[i].value, res->kvs[i].value_len, 0, NULL);

		if (!json_is_object(n)) {
			json_decref(n);
			continue;
		}
		/* Registrations live under a lease: a listed node is alive. */
		json_object_set_new(n, "alive", json_true());
		json_array_append_new(nodes, n);
	}
	r->cb(r->arg, 0, nodes, "");
	json_decref(nodes);
	free(r);
}

int fg_store_nodes(struct fg_store *st, fg_store_nodes_cb cb, void *arg)
{
	struct fg_nodes_req *r = calloc(1, sizeof(*r));

	if (!r)
		return -ENOMEM;
	r->st = st;
	r->cb = cb;
	r->arg = arg;
	if (fg_etcd_range(st->etcd, st->nodes_prefix, true, fg_store_nodes_done, r)) {
		free(r);
		return -ENOMEM;
	}
	return 0;
}

/* -------------------------------------------------------------- write */

struct fg_write_req {
	struct fg_store *st;
	fg_store_write_cb cb;
	void *arg;
	char *value;
};

static void fg_store_write_done(void *arg, const struct fg_etcd_result *res)
{
	struct fg_write_req *r = arg;

	fg_store_set_health(r->st, res->err, res->message);
	if (res->err)
		r->cb(r->arg, res->err, 0, res->message);
	else if (!res->succeeded)
		r->cb(r->arg, -ESTALE, 0, "the rule set changed meanwhile");
	else
		r->cb(r->arg, 0, (uint64_t)res->revision, "");
	free(r->value);
	free(r);
}

int fg_store_write(struct fg_store *st, json_t *config, uint64_t expected,
		   fg_store_write_cb cb, void *arg)
{
	struct fg_write_req *r = calloc(1, sizeof(*r));
	struct fg_etcd_cmp cmp = {
		.key = st->rules_key,
		.target = expected ? FG_ETCD_CMP_MOD_REVISION : FG_ETCD_CMP_CREATE_REVISION,
		.result = FG_ETCD_CMP_EQUAL,
		.number = (int64_t)expected,
	};
	struct fg_etcd_op put = {
		.type = FG_ETCD_OP_PUT,
		.key = st->rules_key,
	};

	if (!r)
		return -ENOMEM;
	r->value = json_dumps(config, JSON_COMPACT | JSON_SORT_KEYS);
	if (!r->value) {
		free(r);
		return -ENOMEM;
	}
	r->st = st;
	r->cb = cb;
	r->arg = arg;
	put.value = r->value;
	put.value_len = strlen(r->value);
	if (fg_etcd_txn(st->etcd, &cmp, 1, &put, 1, NULL, 0, fg_store_write_done, r)) {
		free(r->value);
		free(r);
		return -ENOMEM;
	}
	return 0;
}

/* ---------------------------------------------------------- lifecycle */

static void fg_store_emb_check(evutil_socket_t fd, short what, void *arg)
{
	struct fg_store *st = arg;
	char err[256] = "";

	if (fg_etcd_embedded_check(st->emb, err, sizeof(err)) && err[0])
		fg_log(FG_LOG_WARN, "store: embedded etcd: %s", err);
}

bool fg_store_healthy(const struct fg_store *st)
{
	return st && st->healthy;
}

json_t *fg_store_describe(const struct fg_store *st)
{
	const struct fg_boot_config *c = &st->d->cfg;

	return json_pack("{s:s,s:s,s:s,s:b}",
			 "kind", st->emb ? "embedded" : "etcd",
			 "endpoint", st->endpoint,
			 "prefix", c->store.prefix,
			 "healthy", st->healthy);
}

static char *fg_strcat3(const char *a, const char *b, const char *c)
{
	size_t n = strlen(a) + strlen(b) + strlen(c) + 1;
	char *s = malloc(n);

	if (s)
		snprintf(s, n, "%s%s%s", a, b, c);
	return s;
}

struct fg_store *fg_store_open(struct fg_daemon *d, char *err, size_t errlen)
{
	const struct fg_boot_config *c = &d->cfg;
	struct fg_store *st = calloc(1, sizeof(*st));
	const char *eps[FG_ETCD_ENDPOINTS_MAX];
	size_t neps = 0, i;

	if (!st) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	st->d = d;
	st->rules_key = fg_strcat3(c->store.prefix, "/rules", "");
	st->nodes_prefix = fg_strcat3(c->store.prefix, "/nodes/", "");
	st->node_key = fg_strcat3(c->store.prefix, "/nodes/", c->node.name);
	st->retry = evtimer_new(d->base, fg_store_retry_cb, st);
	if (!st->rules_key || !st->nodes_prefix || !st->node_key || !st->retry) {
		snprintf(err, errlen, "out of memory");
		goto err_free;
	}

	if (c->store.kind == FG_STORE_EMBEDDED) {
		struct fg_etcd_embedded_opts o;

		fg_etcd_embedded_opts_init(&o);
		o.data_dir = c->store.data_dir;
		o.name = c->node.name;
		o.client_port = c->store.client_port;
		o.peer_port = c->store.peer_port;
		if (fg_etcd_embedded_start(&o, &st->emb, err, errlen))
			goto err_free;
		snprintf(st->endpoint, sizeof(st->endpoint), "%s",
			 fg_etcd_embedded_endpoint(st->emb));
		eps[neps++] = st->endpoint;
		st->emb_timer = event_new(d->base, -1, EV_PERSIST, fg_store_emb_check, st);
		if (st->emb_timer) {
			struct timeval tv = { FG_EMBEDDED_CHECK_MS / 1000, 0 };

			evtimer_add(st->emb_timer, &tv);
		}
	} else {
		for (i = 0; i < c->store.nendpoints && neps < FG_ETCD_ENDPOINTS_MAX; i++)
			eps[neps++] = c->store.endpoints[i];
		snprintf(st->endpoint, sizeof(st->endpoint), "%s", eps[0]);
	}
	st->etcd = fg_etcd_new(d->base, eps, neps, err, errlen);
	if (!st->etcd)
		goto err_emb;
	if (fg_etcd_set_tls(st->etcd, c->store.ca_file, c->store.cert_file,
			    c->store.key_file)) {
		snprintf(err, errlen, "store: cannot set the TLS files");
		fg_etcd_free(st->etcd);
		goto err_emb;
	}

	fg_store_load(st);
	fg_store_register(st);
	return st;

err_emb:
	if (st->emb_timer)
		event_free(st->emb_timer);
	fg_etcd_embedded_stop(st->emb);
err_free:
	if (st->retry)
		event_free(st->retry);
	free(st->rules_key);
	free(st->nodes_prefix);
	free(st->node_key);
	free(st);
	return NULL;
}

void fg_store_close(struct fg_store *st)
{
	if (!st)
		return;
	fg_etcd_keepalive_stop(st->ka);
	if (st->watch)
		fg_etcd_watch_cancel(st->watch);
	/* The node's registration expires with its lease (a few seconds);
	 * a restarting daemon registers again under a new one. */
	fg_etcd_free(st->etcd);
	if (st->emb_timer)
		event_free(st->emb_timer);
	fg_etcd_embedded_stop(st->emb);
	event_free(st->retry);
	free(st->rules_key);
	free(st->nodes_prefix);
	free(st->node_key);
	free(st);
}
