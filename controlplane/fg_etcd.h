/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * fg_etcd.h - an asynchronous etcd v3 client for floodgated's one event
 * loop: the JSON gRPC gateway (/v3/...) over libcurl's multi interface,
 * driven by a libevent event_base, with jansson for the JSON.
 *
 * What it does: range, put, delete, txn and compaction requests, member
 * status and defragmentation; watches
 * that survive the store going away (reconnect with backoff, resume from
 * the last revision seen + 1) and report compaction; lease grant, revoke and
 * a keepalive loop run by the client; failover across endpoints.
 *
 * Threading: one client belongs to one event_base and the thread running
 * it. Nothing here is thread-safe and nothing blocks, except
 * fg_etcd_wait_ready(), which is for startup and tests.
 *
 * Callbacks: every request function that returns 0 calls its callback
 * exactly once, later, from the event loop - never from inside the call
 * that submitted it - unless the client is freed first, in which case it is
 * never called. A request function that returns a negative errno never
 * calls the callback. Everything a result points to (keys, values, kvs,
 * messages) lives only until the callback returns: copy what you keep.
 * Callbacks may submit new requests, cancel watches, stop keepalives and
 * free the client.
 *
 * Errors are negative errno values (the message says more):
 *   -ECONNREFUSED  no endpoint accepted a connection
 *   -ETIMEDOUT     the request did not complete within the timeout
 *   -EIO           the connection broke, or etcd reported an internal error
 *   -ENOENT        lease not found (grant/revoke/keepalive)
 *   -ESTALE        the revision asked for has been compacted
 *   -ERANGE        the revision asked for is in the future
 *   -EINVAL        etcd rejected the request as malformed
 *   -EAGAIN        etcd is unavailable (no leader, too many requests)
 *   -EACCES        authentication or permission refused
 *   -ENOSPC        etcd's space quota is exhausted
 *   -EMSGSIZE      the request is over the store's size limit (etcd's
 *                  --max-request-bytes: "etcdserver: request is too
 *                  large"; or the client's own, fg_etcd_set_request_max,
 *                  whose message names it), or a response exceeded
 *                  FG_ETCD_BODY_MAX
 *   -EPROTO        the endpoint answered something that is not etcd's JSON
 * A range that matches nothing is not an error: it succeeds with no kvs.
 *
 * Failover: each request starts at the client's preferred endpoint. When
 * the connection to it cannot be made (refused, connect timeout, name
 * resolution) the request moves to the next endpoint within its timeout,
 * and the preference moves with it. A request that may have reached etcd
 * (the connection broke after it was sent) is retried elsewhere only if it
 * is a read; a write reports -EIO or -ETIMEDOUT, since it may have been
 * applied.
 *
 * Library code: nothing here logs. Userspace only.
 */
#ifndef FG_ETCD_H
#define FG_ETCD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;

/* Per-request timeout unless fg_etcd_set_timeout() says otherwise. */
#define FG_ETCD_TIMEOUT_MS_DEFAULT 5000
#define FG_ETCD_TIMEOUT_MS_MIN 10
#define FG_ETCD_TIMEOUT_MS_MAX 600000
/* Endpoints per client: more than a cluster ever has. */
#define FG_ETCD_ENDPOINTS_MAX 16
/* Largest response body (and largest watch response line) accepted, so a
 * runaway prefix cannot eat the daemon's memory. */
#define FG_ETCD_BODY_MAX (64U << 20)
/* Watch reconnect backoff: doubles from MIN to MAX, back to MIN once a
 * stream has lasted 10 s (so a stream etcd ends at once cannot spin). */
#define FG_ETCD_BACKOFF_MIN_MS 100
#define FG_ETCD_BACKOFF_MAX_MS 5000

struct fg_etcd;
struct fg_etcd_watch;
struct fg_etcd_keepalive;

/*
 * A key-value pair as etcd returns it. key and value are NUL-terminated
 * for convenience (the lengths exclude the NUL; values may hold NULs).
 */
struct fg_etcd_kv {
	const char *key;
	size_t key_len;
	const char *value;
	size_t value_len;
	int64_t create_revision;
	int64_t mod_revision;
	int64_t version;	/* 1 on creation, +1 per put */
	int64_t lease;		/* 0: no lease */
};

enum fg_etcd_op_type {
	FG_ETCD_OP_RANGE,
	FG_ETCD_OP_PUT,
	FG_ETCD_OP_DELETE,
};

/*
 * One operation, alone (fg_etcd_do) or inside a txn. Fields a type does
 * not use are ignored; a zeroed struct plus type and key is a plain
 * single-key operation.
 */
struct fg_etcd_op {
	enum fg_etcd_op_type type;
	const char *key;	/* NUL-terminated; "" only with prefix */
	bool prefix;		/* range/delete: every key starting with key */
	/* put */
	const void *value;
	size_t value_len;
	int64_t lease;		/* 0: none */
	bool prev_kv;		/* put/delete: return the previous kv(s) */
	/* range */
	int64_t revision;	/* read at this revision; 0: latest */
	int64_t limit;		/* 0: no limit */
	bool keys_only;
	bool count_only;
};

enum fg_etcd_cmp_target {
	FG_ETCD_CMP_VALUE,
	FG_ETCD_CMP_VERSION,
	FG_ETCD_CMP_CREATE_REVISION,
	FG_ETCD_CMP_MOD_REVISION,
};

enum fg_etcd_cmp_result {
	FG_ETCD_CMP_EQUAL,
	FG_ETCD_CMP_NOT_EQUAL,
	FG_ETCD_CMP_GREATER,
	FG_ETCD_CMP_LESS,
};

/*
 * A txn comparison: "<target of key> <result> <number or value>". A key
 * that does not exist has version, create and mod revision 0, so
 * {MOD_REVISION, EQUAL, 0} means "does not exist yet".
 */
struct fg_etcd_cmp {
	const char *key;
	enum fg_etcd_cmp_target target;
	enum fg_etcd_cmp_result result;
	int64_t number;		/* VERSION, CREATE_REVISION, MOD_REVISION */
	const void *value;	/* VALUE */
	size_t value_len;
};

/* What one operation of a txn's executed branch returned. */
struct fg_etcd_op_result {
	enum fg_etcd_op_type type;
	const struct fg_etcd_kv *kvs;	/* range: kvs; put/delete: prev kvs */
	size_t n_kvs;
	int64_t count;		/* range: keys matched; delete: deleted */
	bool more;		/* range: limit cut the answer short */
};

/*
 * A request's outcome. On error only err and message are meaningful. The
 * memory is valid only during the callback.
 */
struct fg_etcd_result {
	int err;		/* 0 or negative errno */
	const char *message;	/* "" on success; never NULL */
	int64_t revision;	/* the store's revision after the request */
	/* range: the kvs; put/delete: prev kvs if asked; txn: every range
	 * op's kvs of the executed branch, in op order */
	const struct fg_etcd_kv *kvs;
	size_t n_kvs;
	int64_t count;		/* range: keys matched; delete: deleted */
	bool more;		/* range: limit cut the answer short */
	bool succeeded;		/* txn: the compares held (success ran) */
	const struct fg_etcd_op_result *ops;	/* txn: executed branch */
	size_t n_ops;
	int64_t lease_id;	/* lease grant */
	int64_t lease_ttl;	/* lease grant: seconds, as etcd granted */
	/* Every answer's header: which cluster and member answered. A
	 * cluster id is fixed when the cluster is created (from its
	 * members and --initial-cluster-token): a store made afresh, or
	 * restored from a snapshot, has a new one. */
	uint64_t cluster_id;
	uint64_t member_id;
	/* status */
	int64_t db_size;	/* the database file, bytes (the quota's
				 * measure) */
	int64_t db_size_in_use;	/* of which in use; the rest is free pages
				 * a defragmentation gives back */
	uint64_t leader;	/* member id of the leader, 0: none */
};

typedef void (*fg_etcd_cb)(void *arg, const struct fg_etcd_result *res);

/* ------------------------------------------------------------- client */

/*
 * fg_etcd_new - a client for `endpoints` ("http://host:port",
 * "https://host:port", or "unix:///path/of/socket" for a member listening
 * on a Unix socket; 1 to FG_ETCD_ENDPOINTS_MAX of them) on `base`.
 * Nothing is connected yet.
 * Returns NULL with a reason in err (if non-NULL) on bad arguments or
 * allocation failure. Calls curl_global_init(); keep libcurl's rules for it
 * (create the first client before starting other threads).
 */
struct fg_etcd *fg_etcd_new(struct event_base *base,
			    const char *const *endpoints, size_t n,
			    char *err, size_t errlen);

/*
 * fg_etcd_free - cancel every request, watch and keepalive and free the
 * client. No callback of theirs runs afterwards, and watch and keepalive
 * handles become invalid. Accepts NULL. May be called from a callback (the
 * memory is released when the callback returns).
 */
void fg_etcd_free(struct fg_etcd *c);

/*
 * fg_etcd_set_timeout - the per-request timeout for requests submitted
 * from now on (FG_ETCD_TIMEOUT_MS_MIN..MAX). Returns 0 or -EINVAL.
 */
int fg_etcd_set_timeout(struct fg_etcd *c, int timeout_ms);

/*
 * fg_etcd_set_request_max - refuse, with -EMSGSIZE and a message naming
 * the limit, puts and txns whose keys and values (plus a small allowance
 * per op) exceed `bytes`, without sending them; 0 (the default) sends
 * everything and lets etcd judge. Set it to the member's
 * --max-request-bytes when it is known (the embedded member's is), so
 * the refusal can say the number. Returns 0 or -EINVAL.
 */
int fg_etcd_set_request_max(struct fg_etcd *c, size_t bytes);

/*
 * fg_etcd_set_tls - for https:// endpoints: verify the server against the
 * CA bundle ca_file (NULL or "": the system's), and present the client
 * certificate cert_file with key key_file (both or neither). Applies to
 * requests, watches and keepalives submitted from now on. Returns 0,
 * -EINVAL (one of cert/key without the other) or -ENOMEM.
 */
int fg_etcd_set_tls(struct fg_etcd *c, const char *ca_file,
		    const char *cert_file, const char *key_file);

/* fg_etcd_endpoint - the endpoint new requests try first. Never NULL. */
const char *fg_etcd_endpoint(const struct fg_etcd *c);

/* ----------------------------------------------------------- requests */

/*
 * fg_etcd_do - submit one operation. Returns 0 (cb will be called) or
 * -EINVAL (bad op) / -ENOMEM (cb will not be called).
 */
int fg_etcd_do(struct fg_etcd *c, const struct fg_etcd_op *op,
	       fg_etcd_cb cb, void *arg);

/* fg_etcd_range - fg_etcd_do of a range on key, or on every key with the
 * prefix key. Same returns. */
int fg_etcd_range(struct fg_etcd *c, const char *key, bool prefix,
		  fg_etcd_cb cb, void *arg);

/* fg_etcd_put - fg_etcd_do of a put, attached to lease unless 0. */
int fg_etcd_put(struct fg_etcd *c, const char *key, const void *value,
		size_t value_len, int64_t lease, fg_etcd_cb cb, void *arg);

/* fg_etcd_delete - fg_etcd_do of a delete of key or of a prefix;
 * res->count says how many keys went. */
int fg_etcd_delete(struct fg_etcd *c, const char *key, bool prefix,
		   fg_etcd_cb cb, void *arg);

/*
 * fg_etcd_txn - if every compare holds, run `success`, else `failure`,
 * atomically at one revision. res->succeeded says which; res->ops holds
 * the branch's results. Up to 128 compares and ops per branch (etcd's
 * default --max-txn-ops). Returns 0, -EINVAL or -ENOMEM.
 */
int fg_etcd_txn(struct fg_etcd *c,
		const struct fg_etcd_cmp *cmps, size_t n_cmps,
		const struct fg_etcd_op *success, size_t n_success,
		const struct fg_etcd_op *failure, size_t n_failure,
		fg_etcd_cb cb, void *arg);

/*
 * fg_etcd_compact - discard history before `revision` (physical: wait
 * until the space is reclaimed). Watches from older revisions then get
 * -ESTALE. Returns 0, -EINVAL or -ENOMEM.
 */
int fg_etcd_compact(struct fg_etcd *c, int64_t revision, bool physical,
		    fg_etcd_cb cb, void *arg);

/*
 * fg_etcd_status - the answering member's status: res->revision,
 * cluster_id, member_id, db_size, db_size_in_use and leader. Returns 0,
 * -EINVAL or -ENOMEM.
 */
int fg_etcd_status(struct fg_etcd *c, fg_etcd_cb cb, void *arg);

/*
 * fg_etcd_defragment - defragment the answering member's database: give
 * the free pages compaction left back to the file system, so db_size
 * falls to about db_size_in_use. The member serves nothing meanwhile
 * (well under a second for a few tens of MB in use), so the request's
 * timeout is at least 60 s. Returns 0, -EINVAL or -ENOMEM.
 */
int fg_etcd_defragment(struct fg_etcd *c, fg_etcd_cb cb, void *arg);

/* ------------------------------------------------------------ watches */

enum fg_etcd_event_type {
	FG_ETCD_EVENT_PUT,
	FG_ETCD_EVENT_DELETE,
};

/* One change. For a DELETE, kv holds the key and the deletion's
 * mod_revision, and no value. prev_kv is NULL unless the watch asked for
 * it and the previous value was still in the store. */
struct fg_etcd_event {
	enum fg_etcd_event_type type;
	struct fg_etcd_kv kv;
	const struct fg_etcd_kv *prev_kv;
};

/*
 * What a watch callback receives. Kinds, in the order of the checks:
 *  - err == 0, created: the stream is (re-)established; no events;
 *    revision is the store's revision then.
 *  - err == 0, n_events > 0: events in revision order, never repeated and
 *    never skipped across reconnects; revision is the store's revision
 *    when they were sent.
 *  - err == 0, n_events == 0: progress notification: every event up to
 *    `revision` has been delivered.
 *  - err < 0, !terminal: the stream broke or could not be opened (etcd
 *    down or restarting, connection lost, etcd cancelled the stream);
 *    reported once per outage. The client reconnects by itself, with
 *    backoff and endpoint failover, and resumes from the last revision
 *    delivered + 1: nothing to do but note that the store is unreachable.
 *  - err < 0, terminal: the watch has stopped for good. -ESTALE: the
 *    revision to resume from was compacted (compact_revision says to
 *    what): re-read the whole prefix, then watch again from that read's
 *    revision + 1. Others (-EINVAL, -EACCES, -EPERM, -EOPNOTSUPP): etcd
 *    refused the watch itself.
 * Memory valid only during the callback.
 */
struct fg_etcd_watch_result {
	int err;
	bool terminal;
	const char *message;	/* never NULL */
	bool created;
	int64_t revision;
	int64_t compact_revision;
	const struct fg_etcd_event *events;
	size_t n_events;
};

typedef void (*fg_etcd_watch_cb)(void *arg,
				 const struct fg_etcd_watch_result *res);

struct fg_etcd_watch_opts {
	const char *key;	/* key, or prefix with prefix = true */
	bool prefix;
	int64_t start_revision;	/* first revision wanted; 0: from now */
	bool prev_kv;		/* deliver the previous kv with each event */
	bool progress_notify;	/* ask etcd for periodic progress */
};

/*
 * fg_etcd_watch_start - watch o->key (or the prefix) from
 * o->start_revision. The handle in *out stays valid until
 * fg_etcd_watch_cancel() or fg_etcd_free(), also after a terminal
 * callback. Returns 0, -EINVAL or -ENOMEM.
 */
int fg_etcd_watch_start(struct fg_etcd *c, const struct fg_etcd_watch_opts *o,
			fg_etcd_watch_cb cb, void *arg,
			struct fg_etcd_watch **out);

/*
 * fg_etcd_watch_cancel - stop the watch and release the handle; its
 * callback is not called again. Accepts NULL; callable from any callback,
 * including the watch's own.
 */
void fg_etcd_watch_cancel(struct fg_etcd_watch *w);

/*
 * fg_etcd_watch_revision - the revision up to which every event has been
 * delivered (resume point - 1); 0 before the first response of a watch
 * started "from now".
 */
int64_t fg_etcd_watch_revision(const struct fg_etcd_watch *w);

/* ------------------------------------------------------------- leases */

/*
 * fg_etcd_lease_grant - grant a lease of ttl_s seconds (etcd may raise
 * short ones to its minimum, about 2 s) with the given id, or one etcd
 * picks if id is 0. res->lease_id and res->lease_ttl say what was granted.
 * Returns 0, -EINVAL or -ENOMEM.
 */
int fg_etcd_lease_grant(struct fg_etcd *c, int64_t ttl_s, int64_t id,
			fg_etcd_cb cb, void *arg);

/*
 * fg_etcd_lease_revoke - revoke the lease; keys attached to it are
 * deleted. Keepalives of this client for the id go quiet at once (no loss
 * callback; their handles still need fg_etcd_keepalive_stop()). -ENOENT if
 * the lease does not exist. Returns 0, -EINVAL or -ENOMEM.
 */
int fg_etcd_lease_revoke(struct fg_etcd *c, int64_t id,
			 fg_etcd_cb cb, void *arg);

/* Called once when a kept-alive lease is lost: -ENOENT (expired or
 * revoked elsewhere) or -ETIMEDOUT (no keepalive acknowledged for a whole
 * TTL; it has most likely expired). The loop stops; grant a new lease. */
typedef void (*fg_etcd_lease_lost_cb)(void *arg, int64_t id, int err);

/*
 * fg_etcd_keepalive_start - keep lease `id` (granted with ttl_s) alive,
 * refreshing every TTL/3 (the TTL etcd reports back) and retrying failed
 * refreshes every second until a whole TTL passes without success. The
 * handle in *out stays valid until fg_etcd_keepalive_stop() or
 * fg_etcd_free(). Returns 0, -EINVAL or -ENOMEM.
 */
int fg_etcd_keepalive_start(struct fg_etcd *c, int64_t id, int64_t ttl_s,
			    fg_etcd_lease_lost_cb cb, void *arg,
			    struct fg_etcd_keepalive **out);

/*
 * fg_etcd_keepalive_stop - stop refreshing and release the handle (the
 * lease itself lives on until its TTL runs out). Accepts NULL; callable
 * from any callback.
 */
void fg_etcd_keepalive_stop(struct fg_etcd_keepalive *k);

/* ------------------------------------------------------ synchronous */

/*
 * fg_etcd_wait_ready - BLOCKS for up to timeout_ms polling
 * endpoint/health (endpoint as fg_etcd_new takes it) until etcd says it is healthy (it has a leader and
 * answers reads). For startup and tests only: never call it from the
 * running event loop. Returns 0, -ETIMEDOUT or -EINVAL/-ENOMEM.
 */
int fg_etcd_wait_ready(const char *endpoint, int timeout_ms);

#endif /* FG_ETCD_H */
