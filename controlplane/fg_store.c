// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * fg_store.c - the rule store on etcd; see fg_store.h for the layout.
 *
 * Everything is asynchronous on the daemon's event loop. While the store
 * cannot be reached the daemon keeps serving reads of the last rule set
 * and the dataplane keeps enforcing it; writes fail.
 *
 * Writes whose outcome is unknown. A write that timed out, or whose
 * connection broke after it was sent, may still be applied by etcd later
 * (it may sit in a frozen member's socket buffer). Each write therefore
 * carries, in the same txn, a marker key of its own
 * (<prefix>/writes/<node>/<id>) and a compare that the marker does not
 * exist yet. To resolve an unknown outcome the store runs a second txn:
 * "if the marker does not exist, create it as a fence". If the fence is
 * created, the write did not land and never can (its compare now fails);
 * if the marker exists, its value says whether it is the write's ("1":
 * landed, at the marker's mod_revision, which is the write's revision)
 * or an earlier fence. Markers are deleted once the outcome is known.
 * Only when the store does not answer within st->resolve_ms is the
 * outcome reported unknown (-ETIMEDOUT).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "fg_boot.h"
#include "fg_etcd.h"
#include "fg_etcd_embedded.h"
#include "fg_log.h"
#include "fg_store.h"
#include "fg_time.h"
#include "fg_version.h"

/* A node's registration lives this long without refreshes. */
#define FG_NODE_LEASE_TTL_S 10
/* Retry delay after a failed load or watch. */
#define FG_STORE_RETRY_MS 1000
/* How often the embedded member's process is checked. */
#define FG_EMBEDDED_CHECK_MS 1000
/* Resolving a write's unknown outcome: how long the store may take to
 * answer again, and the pause between attempts (each is bounded by the
 * client's request timeout itself). */
#define FG_STORE_RESOLVE_MS 15000
#define FG_STORE_RESOLVE_RETRY_MS 500
/*
 * Space maintenance of the embedded member (arithmetic in
 * fg_etcd_embedded.h): compact to the current revision and defragment
 * after FG_STORE_MAINT_BYTES of rule sets were written, and at least every
 * FG_STORE_MAINT_PERIOD_MS while anything was. Checked every
 * FG_STORE_MAINT_CHECK_MS. A pass costs one compaction and one copy of
 * the live data (a rule set and the node keys: well under a second).
 */
#define FG_STORE_MAINT_BYTES (64ULL << 20)
#define FG_STORE_MAINT_PERIOD_MS (10 * 60 * 1000)
#define FG_STORE_MAINT_CHECK_MS (60 * 1000)
/* The marker a landed write leaves, and the fence of one that did not. */
#define FG_STORE_MARK_LANDED "1"
#define FG_STORE_MARK_FENCE "fence"

struct fg_write_req;

struct fg_store {
	struct event_base *base;
	const struct fg_boot_config *cfg;
	fg_store_rules_cb rules_cb; /* a rule set and its version, upward */
	uint64_t known_rev;      /* highest rule set revision delivered or
				  * written: the watch skips up to it */
	bool legacy;             /* the head holds a whole rule set (an
				  * earlier release's layout): the next
				  * write rewrites every shard */
	void *rules_arg;
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
	/* identity, from the first successful read */
	bool id_known;
	uint64_t cluster_id;
	uint64_t id_revision;
	/* write markers: <prefix>/writes/<node>/<nonce>-<seq> */
	char *writes_prefix;
	TAILQ_HEAD(, fg_write_req) writes;	/* not answered yet */
	uint64_t write_nonce;
	uint64_t write_seq;
	int resolve_ms;
	uint64_t request_max;	/* the embedded member's; 0: unknown */
	/* maintenance (embedded only) */
	struct event *maint_timer;
	uint64_t maint_bytes;	/* written since the last pass started */
	uint64_t maint_threshold;
	uint64_t maint_last_ms;
	bool maint_running;
	bool maint_again;
	unsigned int maint_passes;	/* completed */
	int64_t db_size, db_size_in_use;	/* after the last pass */
	int64_t db_size_peak;	/* largest seen, before a compaction */
};

static void fg_store_load(struct fg_store *st);
static void fg_store_register(struct fg_store *st);
static void fg_store_maint_wrote(struct fg_store *st, size_t bytes);

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

/* Parse a stored value; NULL (logged) when it is not a JSON object. */
static json_t *fg_store_parse(const struct fg_etcd_kv *kv)
{
	json_error_t jerr;
	json_t *j = json_loadb(kv->value, kv->value_len, 0, &jerr);

	if (!j || !json_is_object(j)) {
		fg_log(FG_LOG_ERROR, "store: %.*s at revision %" PRId64
		       " is not a JSON object (%s)", (int)kv->key_len, kv->key,
		       kv->mod_revision, j ? "wrong type" : jerr.text);
		json_decref(j);
		return NULL;
	}
	return j;
}

/* The head's value in this layout. A write adds "writer": its marker
 * key, so that the watch knows the write as this node's own. */
static const char fg_store_head[] = "{\"layout\":\"shards\",\"shards\":64}";
#define FG_STORE_HEAD_WRITER "{\"layout\":\"shards\",\"shards\":64,\"writer\":\"%s\"}"

static struct fg_write_req *fg_store_writing(const struct fg_store *st,
					     const char *marker);
static void fg_write_seen(struct fg_write_req *r, uint64_t rev);

/* Is head (parsed) of this layout? Else it is an earlier release's whole
 * rule set. */
static bool fg_store_head_sharded(json_t *head)
{
	return json_is_string(json_object_get(head, "layout"));
}

/* The shard a key under the rules prefix names (0..63), or -1 for the
 * head and for keys that are not shards. */
static int fg_store_shard_of_key(const struct fg_store *st,
				 const struct fg_etcd_kv *kv)
{
	size_t n = strlen(st->rules_key);
	unsigned int v = 0;
	size_t i;

	if (kv->key_len != n + 3 || memcmp(kv->key, st->rules_key, n) ||
	    kv->key[n] != '/')
		return -1;
	for (i = n + 1; i < n + 3; i++) {
		if (kv->key[i] < '0' || kv->key[i] > '9')
			return -1;
		v = v * 10 + (unsigned int)(kv->key[i] - '0');
	}
	return v < FG_RULES_SHARDS ? (int)v : -1;
}

static bool fg_store_is_head(const struct fg_store *st,
			     const struct fg_etcd_kv *kv)
{
	return kv->key_len == strlen(st->rules_key) &&
	       !memcmp(kv->key, st->rules_key, kv->key_len);
}

/*
 * fg_store_change_add - one key of the rules prefix (a put, or with del a
 * deletion) into ch; kv's memory must outlive ch. A head of the earlier
 * layout stands for the whole set. Returns false (logged) when the head
 * cannot be read: the version is then not delivered.
 */
static bool fg_store_change_add(struct fg_store *st, struct fg_store_change *ch,
				const struct fg_etcd_kv *kv, bool del,
				struct fg_write_req **own)
{
	int sh = fg_store_shard_of_key(st, kv);
	json_t *j;

	if (fg_store_is_head(st, kv)) {
		bool sharded;

		if (del)
			return true; /* fg_store_watch_cb says what it means */
		j = fg_store_parse(kv);
		if (!j)
			return false;
		sharded = fg_store_head_sharded(j);
		if (own)
			*own = fg_store_writing(st, json_string_value(
				json_object_get(j, "writer")));
		json_decref(j);
		st->legacy = !sharded;
		if (sharded)
			return true;
		/* An earlier release's whole set: it replaces everything. */
		memset(ch, 0, sizeof(*ch));
		ch->shards = FG_RULES_SHARDS_ALL;
		ch->text[0] = kv->value;
		ch->len[0] = kv->value_len;
		return true;
	}
	/* Not ours; or left over from before an earlier release wrote its
	 * whole set into the head: ignored. */
	if (sh < 0 || st->legacy)
		return true;
	ch->shards |= 1ULL << sh;
	ch->text[sh] = del ? NULL : kv->value;
	ch->len[sh] = del ? 0 : kv->value_len;
	return true;
}

/* -------------------------------------------------------------- watch */

/* Hand a change up, and remember its revision as known. */
static void fg_store_deliver(struct fg_store *st,
			     const struct fg_store_change *ch, uint64_t version)
{
	if (version > st->known_rev)
		st->known_rev = version;
	st->rules_cb(st->rules_arg, ch, version);
}

static void fg_store_watch_cb(void *arg, const struct fg_etcd_watch_result *res)
{
	struct fg_store *st = arg;
	struct fg_store_change ch;
	struct fg_write_req *own = NULL;
	bool ok = true, head_gone = false;
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
	memset(&ch, 0, sizeof(ch));
	/* The events of one revision are one transaction: delivered
	 * together (etcd never splits a revision across responses). */
	for (i = 0; i < res->n_events; i++) {
		const struct fg_etcd_event *ev = &res->events[i];
		uint64_t rev = (uint64_t)ev->kv.mod_revision;

		/* This node's own write, answered already (or a version it
		 * has): its caller holds it parsed. */
		if (rev > st->known_rev) {
			bool del = ev->type == FG_ETCD_EVENT_DELETE;

			if (del && fg_store_is_head(st, &ev->kv))
				head_gone = true;
			ok &= fg_store_change_add(st, &ch, &ev->kv, del, &own);
		}
		if (i + 1 < res->n_events &&
		    res->events[i + 1].kv.mod_revision == ev->kv.mod_revision)
			continue;
		if (rev <= st->known_rev)
			continue;
		/* A write of this node's still waiting for its answer: it
		 * delivers itself then, parsed already; taken here, the set
		 * would be parsed and compiled a second time. */
		if (own)
			fg_write_seen(own, rev);
		else if (head_gone)
			fg_log(FG_LOG_WARN, "store: the rule set's head was "
			       "deleted at revision %" PRIu64 "; keeping the "
			       "current rules", rev);
		else if (!ok)
			fg_log(FG_LOG_ERROR, "store: version %" PRIu64 " not "
			       "taken: its head does not read as JSON", rev);
		else if (ch.shards)
			fg_store_deliver(st, &ch, rev);
		memset(&ch, 0, sizeof(ch));
		ok = true;
		head_gone = false;
		own = NULL;
	}
}

static void fg_store_watch_from(struct fg_store *st, int64_t rev)
{
	struct fg_etcd_watch_opts o = {
		.key = st->rules_key,
		.prefix = true,
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
	struct fg_store_change ch = { .shards = FG_RULES_SHARDS_ALL };

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
	fg_log(FG_LOG_INFO, "store: created an empty rule set at version %" PRId64,
	       res->revision);
	fg_store_deliver(st, &ch, (uint64_t)res->revision);
	fg_store_watch_from(st, res->revision + 1);
}

static void fg_store_load_done(void *arg, const struct fg_etcd_result *res)
{
	struct fg_store *st = arg;
	struct fg_etcd_cmp cmp = {
		.key = st->rules_key,
		.target = FG_ETCD_CMP_CREATE_REVISION,
		.result = FG_ETCD_CMP_EQUAL,
		.number = 0,
	};
	struct fg_etcd_op put = {
		.type = FG_ETCD_OP_PUT,
		.key = st->rules_key,
		.value = fg_store_head,
		.value_len = sizeof(fg_store_head) - 1,
	};
	const struct fg_etcd_kv *head = NULL;
	struct fg_store_change ch;
	bool ok = true;
	size_t i;

	fg_store_set_health(st, res->err, res->message);
	if (res->err) {
		fg_store_retry_later(st);
		return;
	}
	if (!st->id_known) {
		st->id_known = true;
		st->cluster_id = res->cluster_id;
		st->id_revision = (uint64_t)res->revision;
	}
	for (i = 0; i < res->n_kvs; i++)
		if (fg_store_is_head(st, &res->kvs[i]))
			head = &res->kvs[i];
	if (!head) {
		/* A new store: every version is a revision of the head, so
		 * the first rule set is written, empty. */
		if (fg_etcd_txn(st->etcd, &cmp, 1, &put, 1, NULL, 0,
				fg_store_init_done, st))
			fg_store_retry_later(st);
		return;
	}
	memset(&ch, 0, sizeof(ch));
	for (i = 0; i < res->n_kvs && ok; i++)
		ok = fg_store_change_add(st, &ch, &res->kvs[i], false, NULL);
	/* Every shard, present or not: the first read replaces all. */
	ch.shards = FG_RULES_SHARDS_ALL;
	if (ok)
		fg_store_deliver(st, &ch, (uint64_t)head->mod_revision);
	else
		fg_log(FG_LOG_ERROR, "store: the rule set at version %" PRId64
		       " does not read; keeping the current rules",
		       head->mod_revision);
	fg_store_watch_from(st, res->revision + 1);
}

static void fg_store_load(struct fg_store *st)
{
	/* The head and every shard, at one revision. */
	if (fg_etcd_range(st->etcd, st->rules_key, true, fg_store_load_done, st))
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
	const struct fg_boot_config *c = st->cfg;

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

/* fg_store_ignore_quiet - for housekeeping whose failure changes nothing
 * (deleting markers): not even the health. */
static void fg_store_ignore_quiet(void *arg, const struct fg_etcd_result *res)
{
	(void)arg;
	(void)res;
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
	TAILQ_ENTRY(fg_write_req) link;	/* st->writes */
	fg_store_write_cb cb;
	void *arg;
	size_t value_len;	/* bytes of the shards written */
	char *head;		/* the head's value, naming the marker */
	uint64_t seen_rev;	/* the watch saw it land at this revision */
	char *marker;		/* this write's marker key */
	uint64_t expected;
	bool force;		/* no compare on the rule set's version */
	uint64_t resolve_deadline;	/* fg_now_ms(); 0: not resolving */
	struct event *resolve_timer;
	char why[192];		/* what made the outcome unknown */
};

static void fg_store_resolve(struct fg_write_req *r);

/* fg_write_free - unlink and free a write. */
static void fg_write_free(struct fg_write_req *r)
{
	if (r->st)
		TAILQ_REMOVE(&r->st->writes, r, link);
	if (r->resolve_timer)
		event_free(r->resolve_timer);
	free(r->marker);
	free(r->head);
	free(r);
}

/* fg_write_seen - the watch saw write r land at revision rev. */
static void fg_write_seen(struct fg_write_req *r, uint64_t rev)
{
	r->seen_rev = rev;
}

/* fg_store_writing - the write of this store still waiting for its
 * answer that marker names, or NULL. */
static struct fg_write_req *fg_store_writing(const struct fg_store *st,
					     const char *marker)
{
	struct fg_write_req *r;

	if (!marker)
		return NULL;
	TAILQ_FOREACH(r, &st->writes, link)
		if (r->marker && !strcmp(r->marker, marker))
			return r;
	return NULL;
}

/* fg_store_unmark - delete a write's marker once its outcome is known
 * (best effort: a marker left by a crash goes at the next start). */
static void fg_store_unmark(struct fg_write_req *r)
{
	fg_etcd_delete(r->st->etcd, r->marker, false, fg_store_ignore_quiet,
		       r->st);
}

/* fg_store_finish - answer the write's owner and free it. */
static void fg_store_finish(struct fg_write_req *r, int err, uint64_t version,
			    const char *msg)
{
	/* The writer gets the set it wrote at this version: the watch's
	 * copy of it is not parsed again. */
	if (!err && version > r->st->known_rev)
		r->st->known_rev = version;
	if (!err)
		r->st->legacy = false; /* every shard was written */
	r->cb(r->arg, err, version, msg);
	/* The watch saw this write land and left it to this answer, which
	 * did not carry it (its outcome could not be learned in time): the
	 * whole set is read again, so the version is not missed. */
	if (err && r->seen_rev > r->st->known_rev) {
		fg_log(FG_LOG_WARN, "store: version %" PRIu64 " (this node's "
		       "write, answered with an error) is read again",
		       r->seen_rev);
		fg_store_load(r->st);
	}
	fg_write_free(r);
}

/* fg_store_unknown - errors after which a write may have been applied:
 * the request was sent and no definite answer came back. -ECONNREFUSED
 * (never sent) and etcd's refusals are definite. */
static bool fg_store_unknown(int err)
{
	return err == -ETIMEDOUT || err == -EIO || err == -EAGAIN ||
	       err == -ECANCELED || err == -EPROTO;
}

/*
 * fg_store_not_landed - the write did not land and never will. rules is
 * the rule set's key as the resolving txn read it (NULL: absent).
 */
static void fg_store_not_landed(struct fg_write_req *r,
				const struct fg_etcd_kv *rules)
{
	uint64_t now_ver = rules ? (uint64_t)rules->mod_revision : 0;
	char msg[320];

	/* The fence stays (a few bytes, only after a failure): deleted, it
	 * would let the write land after all if it is still on its way.
	 * fg_store_open clears this node's markers. */
	if (!r->force && now_ver != r->expected) {
		fg_store_finish(r, -ESTALE, 0, "the rule set changed meanwhile");
		return;
	}
	snprintf(msg, sizeof(msg), "the write did not land (%s); nothing "
		 "changed", r->why);
	fg_store_finish(r, -EIO, 0, msg);
}

/* fg_store_resolve_done - the fencing txn's answer; see the top. */
static void fg_store_resolve_done(void *arg, const struct fg_etcd_result *res)
{
	struct fg_write_req *r = arg;
	const struct fg_etcd_op_result *mark = NULL, *rules = NULL;
	char msg[320];

	fg_store_set_health(r->st, res->err, res->message);
	if (res->err) {
		struct timeval tv = fg_ms_tv(FG_STORE_RESOLVE_RETRY_MS);

		if (fg_now_ms() + FG_STORE_RESOLVE_RETRY_MS <
		    r->resolve_deadline && r->resolve_timer &&
		    !evtimer_add(r->resolve_timer, &tv))
			return;
		snprintf(msg, sizeof(msg), "outcome unknown: the write may "
			 "still be applied (%s; the store did not answer "
			 "within %d ms)", r->why, r->st->resolve_ms);
		fg_store_finish(r, -ETIMEDOUT, 0, msg);
		return;
	}
	/* success: [put fence, range rules]; failure: [range marker,
	 * range rules] */
	if (res->n_ops == 2) {
		mark = res->succeeded ? NULL : &res->ops[0];
		rules = &res->ops[1];
	}
	if (!rules || (!res->succeeded && !mark)) {
		fg_store_finish(r, -EPROTO, 0, "outcome unknown: the write may "
				"still be applied (malformed answer)");
		return;
	}
	if (res->succeeded) {
		/* The fence is in: the write can no longer apply. */
		fg_store_not_landed(r, rules->n_kvs ? &rules->kvs[0] : NULL);
		return;
	}
	if (mark->n_kvs &&
	    mark->kvs[0].value_len == strlen(FG_STORE_MARK_LANDED) &&
	    !memcmp(mark->kvs[0].value, FG_STORE_MARK_LANDED,
		    mark->kvs[0].value_len)) {
		uint64_t v = (uint64_t)mark->kvs[0].mod_revision;

		fg_store_unmark(r);
		fg_store_finish(r, 0, v, "");
		return;
	}
	/* Our own earlier fence (its answer was lost). */
	fg_store_not_landed(r, rules->n_kvs ? &rules->kvs[0] : NULL);
}

/* fg_store_resolve - one attempt at fencing (see the top). */
static void fg_store_resolve(struct fg_write_req *r)
{
	struct fg_store *st = r->st;
	struct fg_etcd_cmp cmp = {
		.key = r->marker,
		.target = FG_ETCD_CMP_CREATE_REVISION,
		.result = FG_ETCD_CMP_EQUAL,
		.number = 0,
	};
	struct fg_etcd_op ok[2] = {
		{ .type = FG_ETCD_OP_PUT, .key = r->marker,
		  .value = FG_STORE_MARK_FENCE,
		  .value_len = strlen(FG_STORE_MARK_FENCE) },
		{ .type = FG_ETCD_OP_RANGE, .key = st->rules_key,
		  .keys_only = true },
	};
	struct fg_etcd_op fail[2] = {
		{ .type = FG_ETCD_OP_RANGE, .key = r->marker },
		{ .type = FG_ETCD_OP_RANGE, .key = st->rules_key,
		  .keys_only = true },
	};

	if (fg_etcd_txn(st->etcd, &cmp, 1, ok, 2, fail, 2,
			fg_store_resolve_done, r)) {
		char msg[320];

		snprintf(msg, sizeof(msg), "outcome unknown: the write may "
			 "still be applied (%s)", r->why);
		fg_store_finish(r, -ETIMEDOUT, 0, msg);
	}
}

/* fg_store_resolve_cb - the pause between attempts is over. */
static void fg_store_resolve_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	fg_store_resolve(arg);
}

static void fg_store_write_done(void *arg, const struct fg_etcd_result *res)
{
	struct fg_write_req *r = arg;
	struct fg_store *st = r->st;
	char msg[512];

	fg_store_set_health(st, res->err, res->message);
	if (res->err == -EMSGSIZE) {
		if (st->request_max)
			snprintf(msg, sizeof(msg), "the change is %zu bytes "
				 "as stored; the store accepts at most %" PRIu64
				 " bytes (%.1f MiB) per write (%s)",
				 r->value_len, st->request_max,
				 (double)st->request_max / (1024.0 * 1024.0),
				 res->message);
		else
			snprintf(msg, sizeof(msg), "the change is %zu bytes "
				 "as stored, over the store's request limit "
				 "(etcd's --max-request-bytes, 1.5 MiB unless "
				 "set otherwise): %s", r->value_len,
				 res->message);
		fg_store_finish(r, -EMSGSIZE, 0, msg);
		return;
	}
	if (fg_store_unknown(res->err)) {
		/* It may have landed: it counts toward the maintenance. */
		fg_store_maint_wrote(st, r->value_len);
		snprintf(r->why, sizeof(r->why), "%s", res->message);
		r->resolve_deadline = fg_now_ms() + (uint64_t)st->resolve_ms;
		r->resolve_timer = evtimer_new(st->base, fg_store_resolve_cb, r);
		fg_store_resolve(r);
		return;
	}
	if (res->err) {
		fg_store_finish(r, res->err, 0, res->message);
		return;
	}
	if (!res->succeeded) {
		fg_store_finish(r, -ESTALE, 0, "the rule set changed meanwhile");
		return;
	}
	fg_store_maint_wrote(st, r->value_len);
	fg_store_unmark(r);
	fg_store_finish(r, 0, (uint64_t)res->revision, "");
}

/* fg_store_submit - the write of fg_store_write and fg_store_write_force:
 * the head, the shards in the mask (put, or deleted when empty) and the
 * write's marker, in one transaction. */
static int fg_store_submit(struct fg_store *st, char *const text[FG_RULES_SHARDS],
			   uint64_t shards, uint64_t expected, bool force,
			   fg_store_write_cb cb, void *arg)
{
	struct fg_write_req *r;
	struct fg_etcd_cmp cmp[2] = {
		{
			.target = FG_ETCD_CMP_CREATE_REVISION,
			.result = FG_ETCD_CMP_EQUAL,
			.number = 0,
		},
		{
			.key = st ? st->rules_key : NULL,
			.target = expected ? FG_ETCD_CMP_MOD_REVISION :
					     FG_ETCD_CMP_CREATE_REVISION,
			.result = FG_ETCD_CMP_EQUAL,
			.number = (int64_t)expected,
		},
	};
	struct fg_etcd_op ops[FG_RULES_SHARDS + 2];
	char keys[FG_RULES_SHARDS][320];
	size_t nops = 0;
	unsigned int i;
	int n;

	if (!st || !text || !cb)
		return -EINVAL;
	if (st->legacy)
		shards = FG_RULES_SHARDS_ALL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	n = asprintf(&r->marker, "%s/%016" PRIx64 "-%" PRIu64, st->writes_prefix,
		     st->write_nonce, ++st->write_seq);
	if (n < 0) {
		free(r);
		return -ENOMEM;
	}
	memset(ops, 0, sizeof(ops));
	if (asprintf(&r->head, FG_STORE_HEAD_WRITER, r->marker) < 0) {
		r->head = NULL;
		fg_write_free(r);
		return -ENOMEM;
	}
	ops[nops++] = (struct fg_etcd_op){
		.type = FG_ETCD_OP_PUT, .key = st->rules_key,
		.value = r->head, .value_len = strlen(r->head),
	};
	for (i = 0; i < FG_RULES_SHARDS; i++) {
		const char *t = text[i];

		if (!(shards & (1ULL << i)))
			continue;
		snprintf(keys[i], sizeof(keys[i]), "%s/%02u", st->rules_key, i);
		if (!t || !strcmp(t, "{}")) {
			ops[nops++] = (struct fg_etcd_op){
				.type = FG_ETCD_OP_DELETE, .key = keys[i],
			};
			continue;
		}
		ops[nops++] = (struct fg_etcd_op){
			.type = FG_ETCD_OP_PUT, .key = keys[i],
			.value = t, .value_len = strlen(t),
		};
		r->value_len += ops[nops - 1].value_len;
	}
	ops[nops++] = (struct fg_etcd_op){
		.type = FG_ETCD_OP_PUT, .key = r->marker,
		.value = FG_STORE_MARK_LANDED,
		.value_len = strlen(FG_STORE_MARK_LANDED),
	};
	r->st = st;
	TAILQ_INSERT_TAIL(&st->writes, r, link);
	r->cb = cb;
	r->arg = arg;
	r->expected = expected;
	r->force = force;
	cmp[0].key = r->marker;
	/* The request is encoded now: keys and texts need not outlive it. */
	if (fg_etcd_txn(st->etcd, cmp, force ? 1 : 2, ops, nops, NULL, 0,
			fg_store_write_done, r)) {
		fg_write_free(r);
		return -ENOMEM;
	}
	return 0;
}

int fg_store_write(struct fg_store *st, char *const text[FG_RULES_SHARDS],
		   uint64_t shards, uint64_t expected, fg_store_write_cb cb,
		   void *arg)
{
	return fg_store_submit(st, text, shards, expected, false, cb, arg);
}

int fg_store_write_force(struct fg_store *st, char *const text[FG_RULES_SHARDS],
			 fg_store_write_cb cb, void *arg)
{
	return fg_store_submit(st, text, FG_RULES_SHARDS_ALL, 0, true, cb, arg);
}

int fg_store_identity(const struct fg_store *st, uint64_t *cluster_id,
		      uint64_t *revision)
{
	if (!st)
		return -EINVAL;
	if (!st->id_known)
		return -EAGAIN;
	if (cluster_id)
		*cluster_id = st->cluster_id;
	if (revision)
		*revision = st->id_revision;
	return 0;
}

/* -------------------------------------------------------- maintenance */

/* fg_store_maint_end - a pass is over (err 0: completed). */
static void fg_store_maint_end(struct fg_store *st, int err, const char *what,
			       const char *msg)
{
	st->maint_running = false;
	if (err) {
		/* Counted again, so the next write or check retries. */
		st->maint_bytes += st->maint_threshold;
		fg_log(FG_LOG_WARN, "store: maintenance: %s failed: %s", what,
		       msg);
		return;
	}
	st->maint_passes++;
	if (st->maint_again) {
		st->maint_again = false;
		fg_store_maint_wrote(st, 0);
	}
}

static void fg_store_maint_status(void *arg, const struct fg_etcd_result *res)
{
	struct fg_store *st = arg;

	if (!res->err) {
		st->db_size = res->db_size;
		st->db_size_in_use = res->db_size_in_use;
		if (res->db_size > st->db_size_peak)
			st->db_size_peak = res->db_size;
	}
	fg_store_maint_end(st, res->err, "status", res->message);
}

static void fg_store_maint_defragged(void *arg,
				     const struct fg_etcd_result *res)
{
	struct fg_store *st = arg;

	if (res->err) {
		fg_store_maint_end(st, res->err, "defragmentation", res->message);
		return;
	}
	if (fg_etcd_status(st->etcd, fg_store_maint_status, st))
		fg_store_maint_end(st, -ENOMEM, "status", "out of memory");
}

static void fg_store_maint_compacted(void *arg,
				     const struct fg_etcd_result *res)
{
	struct fg_store *st = arg;

	/* -ESTALE: etcd's own compaction got there first; fine. */
	if (res->err && res->err != -ESTALE) {
		fg_store_maint_end(st, res->err, "compaction", res->message);
		return;
	}
	if (fg_etcd_defragment(st->etcd, fg_store_maint_defragged, st))
		fg_store_maint_end(st, -ENOMEM, "defragmentation",
				   "out of memory");
}

static void fg_store_maint_begin(void *arg, const struct fg_etcd_result *res)
{
	struct fg_store *st = arg;

	if (res->err) {
		fg_store_maint_end(st, res->err, "status", res->message);
		return;
	}
	if (res->db_size > st->db_size_peak)
		st->db_size_peak = res->db_size;
	/* Up to the current revision: only the live values stay. A watch
	 * that must resume from before it re-reads the rule set (the
	 * terminal -ESTALE path of fg_store_watch_cb). */
	if (fg_etcd_compact(st->etcd, res->revision, true,
			    fg_store_maint_compacted, st))
		fg_store_maint_end(st, -ENOMEM, "compaction", "out of memory");
}

/* fg_store_maint_run - start a pass now (one at a time). */
static void fg_store_maint_run(struct fg_store *st)
{
	if (st->maint_running) {
		st->maint_again = true;
		return;
	}
	st->maint_running = true;
	st->maint_bytes = 0;
	st->maint_last_ms = fg_now_ms();
	if (fg_etcd_status(st->etcd, fg_store_maint_begin, st))
		fg_store_maint_end(st, -ENOMEM, "status", "out of memory");
}

/* fg_store_maint_wrote - bytes more may be stored: start a pass once
 * FG_STORE_MAINT_BYTES (st->maint_threshold) have been. Embedded only: an
 * external cluster is its operators' to maintain. */
static void fg_store_maint_wrote(struct fg_store *st, size_t bytes)
{
	if (!st->emb)
		return;
	st->maint_bytes += bytes;
	if (st->maint_bytes >= st->maint_threshold)
		fg_store_maint_run(st);
}

/* fg_store_maint_cb - the periodic check: a pass when anything was written
 * and the last pass is FG_STORE_MAINT_PERIOD_MS old. */
static void fg_store_maint_cb(evutil_socket_t fd, short what, void *arg)
{
	struct fg_store *st = arg;

	(void)fd;
	(void)what;
	if (st->maint_bytes &&
	    fg_now_ms() - st->maint_last_ms >= FG_STORE_MAINT_PERIOD_MS)
		fg_store_maint_run(st);
}

/* ---------------------------------------------------------- lifecycle */

static void fg_store_emb_check(evutil_socket_t fd, short what, void *arg)
{
	struct fg_store *st = arg;
	char err[256] = "";

	if (fg_etcd_embedded_check(st->emb, err, sizeof(err)) && err[0])
		fg_log(FG_LOG_WARN, "store: embedded etcd: %s", err);
}

struct fg_etcd *fg_store_client(const struct fg_store *st)
{
	const struct fg_boot_config *c = st->cfg;
	const char *eps[FG_ETCD_ENDPOINTS_MAX];
	struct fg_etcd *e;
	size_t neps = 0, i;
	char err[256];

	if (st->emb) {
		eps[neps++] = st->endpoint;
	} else {
		for (i = 0; i < c->store.nendpoints &&
		     neps < FG_ETCD_ENDPOINTS_MAX; i++)
			eps[neps++] = c->store.endpoints[i];
	}
	e = fg_etcd_new(st->base, eps, neps, err, sizeof(err));
	if (!e)
		return NULL;
	if (fg_etcd_set_tls(e, c->store.ca_file, c->store.cert_file,
			    c->store.key_file) ||
	    fg_etcd_set_request_max(e, (size_t)st->request_max)) {
		fg_etcd_free(e);
		errno = EINVAL;
		return NULL;
	}
	return e;
}

bool fg_store_healthy(const struct fg_store *st)
{
	return st && st->healthy;
}

json_t *fg_store_describe(const struct fg_store *st)
{
	const struct fg_boot_config *c = st->cfg;

	json_t *j = json_pack("{s:s,s:s,s:s,s:b}",
			      "kind", st->emb ? "embedded" : "etcd",
			      "endpoint", st->endpoint,
			      "prefix", c->store.prefix,
			      "healthy", st->healthy);

	/* The space the embedded member uses against its quota, as of the
	 * last maintenance pass (0 before the first). */
	if (j && st->emb)
		json_object_update_new(j, json_pack("{s:I,s:I,s:I,s:I}",
			"db_size", (json_int_t)st->db_size,
			"db_size_in_use", (json_int_t)st->db_size_in_use,
			"db_size_peak", (json_int_t)st->db_size_peak,
			"quota", (json_int_t)fg_etcd_embedded_quota(st->emb)));
	return j;
}

static char *fg_strcat3(const char *a, const char *b, const char *c)
{
	size_t n = strlen(a) + strlen(b) + strlen(c) + 1;
	char *s = malloc(n);

	if (s)
		snprintf(s, n, "%s%s%s", a, b, c);
	return s;
}

/* fg_store_nonce - a random 64-bit number for marker names, so that a
 * restarted daemon's markers never collide with its predecessor's. */
static uint64_t fg_store_nonce(void)
{
	uint64_t v = 0;
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);

	if (fd < 0 || read(fd, &v, sizeof(v)) != (ssize_t)sizeof(v))
		v = fg_now_ms() ^ ((uint64_t)getpid() << 40);
	if (fd >= 0)
		close(fd);
	return v;
}

/*
 * fg_store_open_with - fg_store_open with the embedded member's options
 * (data_dir and name are filled in from cfg). The tests size the member
 * through it.
 */
static struct fg_store *fg_store_open_with(struct event_base *base,
					   const struct fg_boot_config *c,
					   fg_store_rules_cb cb, void *arg,
					   struct fg_etcd_embedded_opts *o,
					   char *err, size_t errlen)
{
	struct fg_store *st = calloc(1, sizeof(*st));
	const char *eps[FG_ETCD_ENDPOINTS_MAX];
	size_t neps = 0, i;

	if (!st) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	st->base = base;
	st->cfg = c;
	st->rules_cb = cb;
	st->rules_arg = arg;
	st->rules_key = fg_strcat3(c->store.prefix, "/rules", "");
	st->nodes_prefix = fg_strcat3(c->store.prefix, "/nodes/", "");
	st->node_key = fg_strcat3(c->store.prefix, "/nodes/", c->node.name);
	st->writes_prefix = fg_strcat3(c->store.prefix, "/writes/", c->node.name);
	TAILQ_INIT(&st->writes);
	st->write_nonce = fg_store_nonce();
	st->resolve_ms = FG_STORE_RESOLVE_MS;
	st->maint_threshold = FG_STORE_MAINT_BYTES;
	st->maint_last_ms = fg_now_ms();
	st->retry = evtimer_new(base, fg_store_retry_cb, st);
	if (!st->rules_key || !st->nodes_prefix || !st->node_key ||
	    !st->writes_prefix || !st->retry) {
		snprintf(err, errlen, "out of memory");
		goto err_free;
	}

	if (c->store.kind == FG_STORE_EMBEDDED) {
		struct timeval tv = fg_ms_tv(FG_EMBEDDED_CHECK_MS);
		struct timeval mtv = fg_ms_tv(FG_STORE_MAINT_CHECK_MS);

		o->data_dir = c->store.data_dir;
		o->name = c->node.name;
		if (fg_etcd_embedded_start(o, &st->emb, err, errlen))
			goto err_free;
		snprintf(st->endpoint, sizeof(st->endpoint), "%s",
			 fg_etcd_embedded_endpoint(st->emb));
		eps[neps++] = st->endpoint;
		st->request_max = fg_etcd_embedded_request_max(st->emb);
		st->emb_timer = event_new(base, -1, EV_PERSIST, fg_store_emb_check, st);
		st->maint_timer = event_new(base, -1, EV_PERSIST,
					    fg_store_maint_cb, st);
		if (!st->emb_timer || !st->maint_timer ||
		    evtimer_add(st->emb_timer, &tv) ||
		    evtimer_add(st->maint_timer, &mtv)) {
			snprintf(err, errlen, "out of memory");
			goto err_emb;
		}
	} else {
		for (i = 0; i < c->store.nendpoints && neps < FG_ETCD_ENDPOINTS_MAX; i++)
			eps[neps++] = c->store.endpoints[i];
		snprintf(st->endpoint, sizeof(st->endpoint), "%s", eps[0]);
	}
	st->etcd = fg_etcd_new(base, eps, neps, err, errlen);
	if (!st->etcd)
		goto err_emb;
	if (fg_etcd_set_tls(st->etcd, c->store.ca_file, c->store.cert_file,
			    c->store.key_file) ||
	    fg_etcd_set_request_max(st->etcd, (size_t)st->request_max)) {
		snprintf(err, errlen, "store: cannot set the TLS files");
		fg_etcd_free(st->etcd);
		goto err_emb;
	}

	fg_store_load(st);
	fg_store_register(st);
	/* Markers of this node's earlier lives (a crash between a write and
	 * its marker's deletion): none of their writes is still waiting. */
	{
		char *p = fg_strcat3(st->writes_prefix, "/", "");

		if (p)
			fg_etcd_delete(st->etcd, p, true, fg_store_ignore_quiet, st);
		free(p);
	}
	return st;

err_emb:
	if (st->emb_timer)
		event_free(st->emb_timer);
	if (st->maint_timer)
		event_free(st->maint_timer);
	fg_etcd_embedded_stop(st->emb);
err_free:
	if (st->retry)
		event_free(st->retry);
	free(st->rules_key);
	free(st->nodes_prefix);
	free(st->node_key);
	free(st->writes_prefix);
	free(st);
	return NULL;
}

struct fg_store *fg_store_open(struct event_base *base,
			       const struct fg_boot_config *cfg,
			       fg_store_rules_cb cb, void *arg, char *err,
			       size_t errlen)
{
	struct fg_etcd_embedded_opts o;

	fg_etcd_embedded_opts_init(&o);
	return fg_store_open_with(base, cfg, cb, arg, &o, err, errlen);
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
	/* Writes not answered yet are dropped unanswered (the contract). */
	while (!TAILQ_EMPTY(&st->writes))
		fg_write_free(TAILQ_FIRST(&st->writes));
	if (st->emb_timer)
		event_free(st->emb_timer);
	if (st->maint_timer)
		event_free(st->maint_timer);
	fg_etcd_embedded_stop(st->emb);
	event_free(st->retry);
	free(st->rules_key);
	free(st->nodes_prefix);
	free(st->node_key);
	free(st->writes_prefix);
	free(st);
}
