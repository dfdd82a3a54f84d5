// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * fg_api.c - the REST API of ../shared/API.md on libevent's evhttp.
 *
 * Every write builds the complete candidate rule set on the side (the
 * current canonical JSON with the one change), validates it as a whole
 * (so cross-object rules - duplicate VIPs, limits naming services - are
 * checked exactly as for PUT /v1/config), asks the dataplane whether it
 * would accept it, and only then stores it with one conditional etcd
 * write. A request that fails changes nothing.
 *
 * The connection layer in front of evhttp. libevent 2.1's evhttp reads a
 * request's whole body before it calls us, and has no hook to run before
 * that (evhttp_set_newreqcb, which would let us set a header callback on
 * each request, came in 2.2). So every connection's bufferevent is a
 * filter of ours (evhttp_set_bevcb): it sees the bytes before evhttp does,
 * holds each request head back until it is complete, and judges it -
 * bearer token, then Content-Length against API.md's 1 MiB - before a
 * byte of the body is read. A head it refuses is replaced by a stand-in
 * (a bodiless GET of FG_API_REJECT_PATH) that the dispatcher answers with
 * the JSON error; the body the client sends anyway is discarded as it
 * arrives, never buffered. The same layer caps the connections open at
 * once and gives a request head a deadline.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>

#include "fg_daemon.h"
#include "fg_api.h"
#include "fg_dp_sup.h"
#include "fg_reconcile.h"
#include "fg_stats.h"
#include "fg_log.h"
#include "fg_rules_json.h"
#include "fg_store.h"

/* Connections open at once. fgctl, a Prometheus scraper and the cluster
 * peers need a handful; the cap bounds what a flood of connections can
 * take (descriptors, buffers). One past it is closed at once, counted in
 * GET /v1/status ("api": connections_refused). */
#define FG_API_CONNS_MAX 128U
/* A request head (request line and headers) is at most this long... */
#define FG_API_HEAD_MAX (64U << 10)
/* ...and must be complete within this many seconds of the connection's
 * opening or of its first byte: a client that trickles a head (slowloris)
 * cannot hold one of the FG_API_CONNS_MAX slots for long. */
#define FG_API_HEAD_TIMEOUT_S 10
/* Idle keep-alive connections and stalled bodies: evhttp's timeout. */
#define FG_API_IDLE_TIMEOUT_S 30
/* A refused request's body is read and dropped (so the client, still
 * sending it, receives the answer rather than a reset) up to this size;
 * past it, or when its length is unknown (chunked), the connection is
 * closed after the answer. */
#define FG_API_DISCARD_MAX (16ULL << 20)
/* The stand-in request a refused head becomes. */
#define FG_API_REJECT_PATH "/.floodgate-refused"

/*
 * What the filter does with the bytes it is given next:
 *   HEAD         hold them until a request head is complete, then judge it
 *   BODY         pass `left` bytes of an accepted request's body to evhttp
 *   DISCARD      drop `left` bytes of a refused request's body
 *   DISCARD_ALL  drop everything (a refused body of unknown length, or a
 *                connection over the cap) until the connection closes
 *   PASS         pass everything: a chunked body, whose end only evhttp
 *                finds, or a head too odd to judge, which evhttp refuses;
 *                the dispatcher still checks the token of every request
 *                and evhttp still caps the body at FG_API_BODY_MAX
 */
enum fg_conn_state {
	FG_CONN_HEAD = 0,
	FG_CONN_BODY,
	FG_CONN_DISCARD,
	FG_CONN_DISCARD_ALL,
	FG_CONN_PASS,
};

/* One API connection: the context of its filter bufferevent. */
struct fg_api_conn {
	struct fg_api_conn *prev, *next;
	struct fg_daemon *d;
	struct bufferevent *bev;     /* the filter, which evhttp owns */
	struct bufferevent *under;   /* the socket under it */
	struct event *deadline;      /* head deadline; 0 s: over the cap */
	struct event *flush;         /* moves evhttp's output down */
	enum fg_conn_state st;
	bool over_cap;
	bool deadline_armed;
	size_t scanned;              /* head bytes searched for its end */
	uint64_t left;               /* BODY, DISCARD: bytes still to go */
	int reject;                  /* 401, 413: how to answer the stand-in */
	bool close_after;            /* close after the next answer */
	bool close_flush;            /* answered: close once it is moved down */
	bool close_pending;          /* ...and once the socket took it */
	uint64_t reject_len;         /* the refused body's Content-Length */
	char method[16];             /* the refused request, for the log */
	char target[128];
};

/* The API's connections and counters: one API per process. */
static struct {
	struct fg_api_conn *conns;
	unsigned int nconns;
	uint64_t conns_refused;      /* closed for the cap */
	uint64_t refused_401;        /* heads refused for the token */
	uint64_t refused_413;        /* heads refused for the body size */
	time_t cap_logged;           /* last "over the cap" log line */
	uint64_t cap_unlogged;       /* refusals since */
} fg_api;

/* The kinds of rule object with their own endpoints. */

/* A write waiting for the store. req is NULL once the client is gone. */
/*
 * A write on its way to the store: one object (kind, name, obj; obj NULL
 * deletes it), or a whole rule set (whole). Parsed and checked once; on
 * success the daemon takes the parsed objects and the shard texts.
 */
struct fg_api_pending {
	struct fg_daemon *d;
	struct evhttp_request *req;
	const struct fg_rule_kind *kind; /* one object; NULL: whole */
	char name[FG_NAME_MAX];
	void *obj;         /* the new object (owned), NULL to delete */
	struct fg_ruleset whole; /* PUT /v1/config: the new set (owned) */
	uint64_t shards;   /* the shards the write changes */
	char *texts[FG_RULES_SHARDS]; /* their new texts */
	uint64_t tag;      /* what the dataplane checked (fg_ruleset.tag) */
	int created;       /* answer 201 rather than 200 */
	int conditional;   /* the client sent If-Match */
	uint64_t expected; /* the version the write was conditional on */
	struct timespec start;
};

/* ---------------------------------------------------------- replies */

static void fg_conn_replied(struct evhttp_request *req);

static double fg_ms_since(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t0->tv_sec) * 1e3 +
	       (double)(now.tv_nsec - t0->tv_nsec) / 1e6;
}

static void fg_log_request(struct evhttp_request *req, int code,
			   const struct timespec *t0)
{
	static const char *const methods[] = { "GET", "POST", "HEAD", "PUT",
					       "DELETE", "OPTIONS", "TRACE",
					       "CONNECT", "PATCH" };
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	const char *m = "?";
	char *peer = NULL;
	ev_uint16_t port = 0;
	unsigned int i;

	for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if ((unsigned int)cmd == (1U << i))
			m = methods[i];
	evhttp_connection_get_peer(evhttp_request_get_connection(req), &peer, &port);
	fg_log(code >= 500 ? FG_LOG_WARN : FG_LOG_INFO, "api %s %s %s %d %.2fms",
	       peer ? peer : "-", m, evhttp_request_get_uri(req), code,
	       fg_ms_since(t0));
}

/* fg_send_json - send body (stolen) with status code and, when version
 * is non-zero, an ETag. */
static void fg_send_json(struct evhttp_request *req, int code, json_t *body,
			 uint64_t version)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	struct evbuffer *buf = evbuffer_new();
	char *text = json_dumps(body, JSON_COMPACT);
	char etag[32];

	json_decref(body);
	evhttp_add_header(h, "Content-Type", "application/json");
	if (version) {
		snprintf(etag, sizeof(etag), "\"%" PRIu64 "\"", version);
		evhttp_add_header(h, "ETag", etag);
	}
	if (buf && text) {
		evbuffer_add(buf, text, strlen(text));
		evbuffer_add(buf, "\n", 1);
	}
	evhttp_send_reply(req, code, NULL, buf);
	fg_conn_replied(req);
	free(text);
	if (buf)
		evbuffer_free(buf);
}

/* fg_reply_json - fg_send_json, and log the request. */
static void fg_reply_json(struct evhttp_request *req, int code, json_t *body,
			  uint64_t version, const struct timespec *t0)
{
	fg_send_json(req, code, body, version);
	fg_log_request(req, code, t0);
}

/*
 * fg_api_code - the API.md code string for an HTTP status. One status
 * carries several codes only for 503 (unavailable, outcome_unknown),
 * whose callers name theirs. method_not_allowed (405) extends API.md's
 * list, which has no code for a method a path does not take.
 */
static const char *fg_api_code(int http)
{
	switch (http) {
	case 400: return "invalid_argument";
	case 401: return "unauthenticated";
	case 404: return "not_found";
	case 405: return "method_not_allowed";
	case 409: return "conflict";
	case 412: return "version_mismatch";
	case 413: return "too_large";
	case 503: return "unavailable";
	default:  return "internal";
	}
}

/* fg_rule_http - the HTTP status of a rule error's kind: the one place
 * the rule model's errors meet HTTP. */
static int fg_rule_http(enum fg_rule_err kind)
{
	switch (kind) {
	case FG_RULE_EINVAL:    return 400;
	case FG_RULE_ECONFLICT: return 409;
	case FG_RULE_ETOOBIG:   return 413;
	default:                return 500;
	}
}

/*
 * fg_error_body - {"error": {"code", "message", "field"}} ("field" left
 * out when empty). A new reference, or NULL when out of memory.
 */
static json_t *fg_error_body(const char *code, const char *message,
			     const char *field)
{
	if (field && field[0])
		return json_pack("{s:{s:s,s:s,s:s}}", "error", "code", code,
				 "message", message, "field", field);
	return json_pack("{s:{s:s,s:s}}", "error", "code", code, "message",
			 message);
}

/* fg_reply_error_code - the error body with status http and code, the
 * message printf-formatted, prefixed "field: " when there is a field. */
static void fg_reply_error_code(struct evhttp_request *req, int http,
				const char *code, const char *field,
				const struct timespec *t0, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

static void fg_reply_error_code(struct evhttp_request *req, int http,
				const char *code, const char *field,
				const struct timespec *t0, const char *fmt, ...)
{
	struct fg_rule_error e = { 0 };
	char msg[sizeof(e.message)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* The rule library's formatting: the same prefix and truncation. */
	fg_rule_error_set(&e, FG_RULE_EINVAL, field, "%s", msg);
	fg_reply_json(req, http, fg_error_body(code, e.message, e.field), 0, t0);
}

#define fg_reply_error(req, http, field, t0, ...) \
	fg_reply_error_code(req, http, fg_api_code(http), field, t0, __VA_ARGS__)

static void fg_reply_api_error(struct evhttp_request *req,
			       const struct fg_rule_error *e,
			       const struct timespec *t0)
{
	int http = fg_rule_http(e->kind);

	fg_reply_json(req, http, fg_error_body(fg_api_code(http), e->message,
					       e->field), 0, t0);
}

/* ----------------------------------------------------------- helpers */

/*
 * fg_token_match - does an Authorization header value (h[0..hlen), NULL
 * when absent) carry token? "" as token: no auth, always true. The scheme
 * is case-insensitive (RFC 7235); the token is compared in constant time
 * over a fixed FG_BOOT_TOKEN_MAX bytes, whatever either length, so
 * neither the position of the first difference nor the token's length
 * shows in the time taken.
 */
static bool fg_token_match(const char *token, const char *h, size_t hlen)
{
	unsigned char a[FG_BOOT_TOKEN_MAX], b[FG_BOOT_TOKEN_MAX];
	size_t tlen = strnlen(token, FG_BOOT_TOKEN_MAX - 1), i;
	volatile unsigned char diff = 0;
	bool ok;

	if (!token[0])
		return true;
	if (!h || hlen < 7 || strncasecmp(h, "Bearer ", 7))
		return false;
	h += 7;
	hlen -= 7;
	while (hlen && (*h == ' ' || *h == '\t')) {
		h++;
		hlen--;
	}
	while (hlen && (h[hlen - 1] == ' ' || h[hlen - 1] == '\t'))
		hlen--;
	memset(a, 0, sizeof(a));
	memset(b, 0, sizeof(b));
	memcpy(a, token, tlen);
	/* A longer value cannot match; it still takes the full loop. */
	memcpy(b, h, hlen < sizeof(b) ? hlen : sizeof(b));
	for (i = 0; i < sizeof(a); i++)
		diff |= a[i] ^ b[i];
	ok = diff == 0 && hlen == tlen;
	explicit_bzero(a, sizeof(a));
	explicit_bzero(b, sizeof(b));
	return ok;
}

/* fg_token_ok - the request's bearer token is the configured one. */
static int fg_token_ok(const struct fg_daemon *d, struct evhttp_request *req)
{
	const char *h = evhttp_find_header(evhttp_request_get_input_headers(req),
					   "Authorization");

	return fg_token_match(d->cfg.api.token, h, h ? strlen(h) : 0);
}

/*
 * fg_if_match - parse If-Match. Returns 0 when absent, 1 with *version
 * set, -1 when present but not a version ("N" or N).
 */
static int fg_if_match(struct evhttp_request *req, uint64_t *version)
{
	const char *h = evhttp_find_header(evhttp_request_get_input_headers(req),
					   "If-Match");
	char buf[32], *end;
	size_t n;

	if (!h)
		return 0;
	while (*h == ' ')
		h++;
	if (!strncmp(h, "W/", 2))
		h += 2;
	n = strlen(h);
	while (n && h[n - 1] == ' ')
		n--;
	if (n >= 2 && h[0] == '"' && h[n - 1] == '"') {
		h++;
		n -= 2;
	}
	if (!n || n >= sizeof(buf))
		return -1;
	memcpy(buf, h, n);
	buf[n] = '\0';
	if (buf[0] < '0' || buf[0] > '9')
		return -1;
	errno = 0;
	*version = strtoull(buf, &end, 10);
	if (errno || *end)
		return -1;
	return 1;
}

/* The request body as JSON (413 / 400 through e). NULL on error. */
static json_t *fg_body_json(struct evhttp_request *req, struct fg_rule_error *e)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t len = evbuffer_get_length(in);
	const char *data = len ? (const char *)evbuffer_pullup(in, -1) : "";

	return fg_json_parse_body(data, len, e);
}

/* ------------------------------------------------------------ writes */

/* fg_pending_free - a write's leftovers: what the daemon did not take. */
static void fg_pending_free(struct fg_api_pending *p)
{
	if (p->obj) {
		p->kind->free(p->obj);
		free(p->obj);
	}
	fg_ruleset_free(&p->whole);
	fg_ruleset_shard_texts_free(p->texts);
	free(p);
}

/*
 * fg_pending_view - the rule set p makes of the daemon's current one:
 * a view of it with p's object (fg_ruleset_view_edit), or p's whole set
 * moved into *out. 0 or -ENOMEM.
 */
static int fg_pending_view(struct fg_api_pending *p, struct fg_ruleset *out)
{
	if (!p->kind) {
		*out = p->whole;
		memset(&p->whole, 0, sizeof(p->whole));
		return 0;
	}
	return fg_ruleset_view_edit(&p->d->rules, p->kind, p->name, p->obj, out);
}

/* fg_pending_unview - give back what fg_pending_view made. */
static void fg_pending_unview(struct fg_api_pending *p, struct fg_ruleset *v)
{
	if (!p->kind) {
		p->whole = *v;
		memset(v, 0, sizeof(*v));
		return;
	}
	fg_ruleset_view_free(v);
}

static void fg_write_done(void *arg, int err, uint64_t version, const char *msg)
{
	struct fg_api_pending *p = arg;
	struct fg_daemon *d = p->d;
	struct evhttp_request *req = p->req;
	struct fg_ruleset rs;

	if (req)
		evhttp_connection_set_closecb(evhttp_request_get_connection(req),
					      NULL, NULL);
	if (!err) {
		/* Read-your-writes: the daemon takes the new set now rather
		 * than when the watch brings it back - the objects parsed
		 * for this write, not parsed again. */
		if (!fg_pending_view(p, &rs)) {
			rs.tag = p->tag;
			if (!fg_daemon_rules_set(d, &rs, p->shards, p->texts,
						 version)) {
				free(p->obj); /* its owned parts were taken */
				p->obj = NULL;
			} else {
				fg_pending_unview(p, &rs);
			}
		}
		if (req)
			fg_reply_json(req, p->created ? 201 : 200,
				      json_pack("{s:I}", "version", (json_int_t)version),
				      version, &p->start);
	} else if (!req) {
		/* The client left; nothing to answer. */
	} else if (err == -ESTALE && p->conditional) {
		fg_reply_error(req, 412, NULL, &p->start,
			       "the rule set changed: version is no longer the one in If-Match");
	} else if (err == -ESTALE) {
		fg_reply_error(req, 409, NULL, &p->start,
			       "the rule set changed concurrently; read it again and retry");
	} else if (err == -EMSGSIZE) {
		/* The store's own request limit (msg names it): no retry
		 * can help, the set has to shrink. */
		fg_reply_error(req, 413, NULL, &p->start, "%s",
			       msg ? msg : "the rule set is larger than the rule store takes in one request");
	} else if (err == -ETIMEDOUT) {
		/* API.md, Versions: the store holds the request and may
		 * still apply it; only a read tells. */
		fg_reply_error_code(req, 503, "outcome_unknown", NULL, &p->start,
				    "%s; read GET /v1/config, then retry with If-Match: \"%" PRIu64 "\" so that it applies at most once",
				    msg ? msg : "outcome unknown: the write may still be applied when the rule store recovers",
				    p->expected);
	} else {
		fg_reply_error(req, 503, NULL, &p->start,
			       "rule store unavailable: %s", msg ? msg : strerror(-err));
	}
	fg_pending_free(p);
}

static void fg_write_client_gone(struct evhttp_connection *conn, void *arg)
{
	struct fg_api_pending *p = arg;

	p->req = NULL;
}

/*
 * fg_write - check the rule set p makes as a whole, check that the
 * dataplane would take it (the compile is kept for the apply), and store
 * the shards it changes, conditionally on the version the daemon holds
 * (or If-Match). Takes p; answers the request, now or when the store
 * answers.
 */
static void fg_write(struct fg_daemon *d, struct evhttp_request *req,
		     struct fg_api_pending *p, const struct timespec *t0)
{
	struct fg_rule_error e = { 0 };
	char *all[FG_RULES_SHARDS];
	struct fg_ruleset view;
	char err[256] = "";
	uint64_t want = 0;
	unsigned int i;
	int im, rc;

	p->d = d;
	im = fg_if_match(req, &want);
	if (im < 0) {
		fg_pending_free(p);
		fg_reply_error(req, 400, "If-Match", t0,
			       "If-Match: must be a version, e.g. \"12\"");
		return;
	}
	if (im > 0 && want != d->rules_version) {
		fg_pending_free(p);
		fg_reply_error(req, 412, "If-Match", t0,
			       "version is %" PRIu64 ", not %" PRIu64,
			       d->rules_version, want);
		return;
	}
	if (fg_pending_view(p, &view)) {
		fg_pending_free(p);
		fg_reply_error(req, 500, NULL, t0, "out of memory");
		return;
	}
	/* The checks across objects, on the set as the write leaves it. */
	rc = fg_ruleset_check(&view, &e);
	if (rc) {
		fg_pending_unview(p, &view);
		fg_pending_free(p);
		fg_reply_api_error(req, &e, t0);
		return;
	}
	/* A store behind the running dataplane: a write would be stored
	 * and never applied (fg_reconcile.h); the operator chooses first. */
	if (d->conflict[0]) {
		fg_pending_unview(p, &view);
		fg_pending_free(p);
		fg_reply_error(req, 409, NULL, t0, "this node takes no rules "
			       "until the conflict is resolved: %s", d->conflict);
		return;
	}
	view.tag = p->tag = ++d->tag_seq;
	rc = d->dp->ops->check(d->dp, &view, err, sizeof(err));
	if (!rc)
		rc = fg_ruleset_shard_texts(&view, p->shards, p->texts) ? -ENOMEM : 0;
	fg_pending_unview(p, &view);
	if (rc) {
		fg_pending_free(p);
		/* Valid rules this node cannot enforce are a conflict with
		 * the node, not bad input. */
		fg_reply_error(req, rc == -ENOMEM ? 500 : rc == -EOPNOTSUPP ? 409 :
			       400, NULL, t0, "the dataplane cannot take this "
			       "rule set: %s", rc == -ENOMEM && !err[0] ?
			       "out of memory" : err);
		return;
	}
	/* The store gets every shard's text: a store of the earlier layout
	 * is rewritten whole. */
	for (i = 0; i < FG_RULES_SHARDS; i++)
		all[i] = p->shards & (1ULL << i) ? p->texts[i] : d->shard_text[i];
	p->req = req;
	p->conditional = im > 0;
	p->expected = d->rules_version;
	p->start = *t0;
	evhttp_connection_set_closecb(evhttp_request_get_connection(req),
				      fg_write_client_gone, p);
	if (fg_store_write(d->store, all, p->shards, d->rules_version,
			   fg_write_done, p)) {
		evhttp_connection_set_closecb(evhttp_request_get_connection(req),
					      NULL, NULL);
		fg_pending_free(p);
		fg_reply_error(req, 500, NULL, t0, "out of memory");
	}
}

/* ---------------------------------------------------------- handlers */

static void fg_get_config(struct fg_daemon *d, struct evhttp_request *req,
			  const struct timespec *t0)
{
	json_t *c = fg_ruleset_to_json(&d->rules, d->rules_version);

	if (!c) {
		fg_reply_error(req, 500, NULL, t0, "out of memory");
		return;
	}
	fg_reply_json(req, 200, c, d->rules_version, t0);
}

/*
 * fg_pending_body - a write's pending record (with room for one object
 * of obj_size bytes, when not 0) and its request body as JSON in *body;
 * or NULL, the request answered (413, 400, 500).
 */
static struct fg_api_pending *fg_pending_body(struct evhttp_request *req,
					      size_t obj_size, json_t **body,
					      const struct timespec *t0)
{
	struct fg_rule_error e = { 0 };
	struct fg_api_pending *p;

	*body = fg_body_json(req, &e);
	if (!*body) {
		fg_reply_api_error(req, &e, t0);
		return NULL;
	}
	p = calloc(1, sizeof(*p));
	if (p && obj_size && !(p->obj = calloc(1, obj_size))) {
		free(p);
		p = NULL;
	}
	if (!p) {
		json_decref(*body);
		fg_reply_error(req, 500, NULL, t0, "out of memory");
	}
	return p;
}

static void fg_put_config(struct fg_daemon *d, struct evhttp_request *req,
			  const struct timespec *t0)
{
	struct fg_rule_error e = { 0 };
	struct fg_api_pending *p;
	json_t *body;
	int rc;

	p = fg_pending_body(req, 0, &body, t0);
	if (!p)
		return;
	/* Each object checked on its own here (errors name their path);
	 * the set as a whole in fg_write. */
	rc = fg_ruleset_objects_from_json(body, &p->whole, &e);
	json_decref(body);
	if (rc) {
		fg_pending_free(p);
		fg_reply_api_error(req, &e, t0);
		return;
	}
	p->shards = FG_RULES_SHARDS_ALL;
	fg_write(d, req, p, t0);
}

static void fg_get_list(struct fg_daemon *d, struct evhttp_request *req,
			const struct fg_rule_kind *kind, const struct timespec *t0)
{
	json_t *objs = json_object();
	bool ok = objs != NULL;
	uint32_t i;

	for (i = 0; ok && i < fg_rule_count(&d->rules, kind); i++) {
		const char *o = fg_rule_at(&d->rules, kind, i);

		ok = !json_object_set_new(objs, o, kind->to_json(o));
	}
	if (!ok) {
		json_decref(objs);
		fg_reply_error(req, 500, NULL, t0, "out of memory");
		return;
	}
	fg_reply_json(req, 200, json_pack("{s:I,s:o}", "version",
					  (json_int_t)d->rules_version,
					  kind->name, objs),
		      d->rules_version, t0);
}

static void fg_get_one(struct fg_daemon *d, struct evhttp_request *req,
		       const struct fg_rule_kind *kind, const char *name,
		       const struct timespec *t0)
{
	const void *o = fg_rule_find(&d->rules, kind, name);
	json_t *j;

	if (!o) {
		fg_reply_error(req, 404, NULL, t0, "%s %s: not found",
			       kind->name, name);
		return;
	}
	j = kind->to_json(o);
	if (!j) {
		fg_reply_error(req, 500, NULL, t0, "out of memory");
		return;
	}
	fg_reply_json(req, 200, j, d->rules_version, t0);
}

static void fg_put_one(struct fg_daemon *d, struct evhttp_request *req,
		       const struct fg_rule_kind *kind, const char *name,
		       const struct timespec *t0)
{
	struct fg_rule_error e = { 0 };
	struct fg_api_pending *p;
	json_t *body;
	int rc;

	p = fg_pending_body(req, kind->size, &body, t0);
	if (!p)
		return;
	/* The object alone first, so errors name fields as the client
	 * wrote them (backends[2].port); the whole set in fg_write. */
	rc = kind->from_json(name, body, p->obj, &e);
	json_decref(body);
	if (rc) {
		free(p->obj);
		free(p);
		fg_reply_api_error(req, &e, t0);
		return;
	}
	p->kind = kind;
	snprintf(p->name, sizeof(p->name), "%.63s", name);
	p->created = !fg_rule_find(&d->rules, kind, name);
	p->shards = fg_rules_shard_bit(name);
	fg_write(d, req, p, t0);
}

static void fg_delete_one(struct fg_daemon *d, struct evhttp_request *req,
			  const struct fg_rule_kind *kind, const char *name,
			  const struct timespec *t0)
{
	struct fg_api_pending *p;
	const char *user;

	if (!fg_rule_find(&d->rules, kind, name)) {
		fg_reply_error(req, 404, NULL, t0, "%s %s: not found",
			       kind->name, name);
		return;
	}
	user = kind->user ? kind->user(&d->rules, name) : NULL;
	if (user) {
		fg_reply_error(req, 409, NULL, t0, "%s %s is still named by %s %s",
			       kind->one, name, kind->user_kind, user);
		return;
	}
	p = calloc(1, sizeof(*p));
	if (!p) {
		fg_reply_error(req, 500, NULL, t0, "out of memory");
		return;
	}
	p->kind = kind;
	snprintf(p->name, sizeof(p->name), "%.63s", name);
	p->shards = fg_rules_shard_bit(name);
	fg_write(d, req, p, t0);
}

static void fg_get_status(struct fg_daemon *d, struct evhttp_request *req,
			  const struct timespec *t0)
{
	json_t *ifs = json_array(), *s, *p;
	size_t i;

	for (i = 0; i < d->cfg.dataplane.ninterfaces; i++)
		json_array_append_new(ifs, json_string(d->cfg.dataplane.interfaces[i]));
	s = json_pack("{s:s,s:s,s:s,s:{s:s,s:o,s:b},s:I,s:I,s:o}",
		      "node", d->cfg.node.name,
		      "group", d->cfg.node.group,
		      "software_version", FG_SOFTWARE_VERSION,
		      "dataplane", "kind", d->dp->ops->kind, "interfaces", ifs,
		      "adopted", d->dp->adopted,
		      "rules_version", (json_int_t)d->rules_version,
		      "applied_version", (json_int_t)d->applied_version,
		      "store", fg_store_describe(d->store));
	/* The attach mode is XDP's (dataplane.mode); a DPDK node has none. */
	if (s && d->cfg.dataplane.kind == FG_DATAPLANE_XDP)
		json_object_set_new(json_object_get(s, "dataplane"), "mode",
				    json_string(d->cfg.dataplane.mode ==
						FG_BOOT_XDP_GENERIC ?
						"generic" : "native"));
	/* floodgate-dpdk's process: pid, who started it, restarts. */
	if (s && (p = fg_dp_process_json(d->dp)))
		json_object_set_new(json_object_get(s, "dataplane"), "process", p);
	if (d->apply_error[0])
		json_object_set_new(s, "apply_error", json_string(d->apply_error));
	if (d->apply_backoff_ms)
		json_object_set_new(s, "apply_retry_ms",
				    json_integer(d->apply_backoff_ms));
	if (d->conflict[0])
		json_object_set_new(s, "conflict", json_string(d->conflict));
	json_object_set_new(s, "api", json_pack("{s:I,s:I,s:I,s:I,s:I}",
		"connections", (json_int_t)fg_api.nconns,
		"connections_max", (json_int_t)FG_API_CONNS_MAX,
		"connections_refused", (json_int_t)fg_api.conns_refused,
		"requests_refused_unauthenticated", (json_int_t)fg_api.refused_401,
		"requests_refused_too_large", (json_int_t)fg_api.refused_413));
	fg_reply_json(req, 200, s, d->rules_version, t0);
}

struct fg_nodes_pending {
	struct evhttp_request *req;
	struct timespec start;
};

static void fg_nodes_gone(struct evhttp_connection *conn, void *arg)
{
	((struct fg_nodes_pending *)arg)->req = NULL;
}

static void fg_nodes_done(void *arg, int err, json_t *nodes, const char *msg)
{
	struct fg_nodes_pending *p = arg;

	if (p->req) {
		evhttp_connection_set_closecb(evhttp_request_get_connection(p->req),
					      NULL, NULL);
		if (err)
			fg_reply_error(p->req, 503, NULL, &p->start,
				       "rule store unavailable: %s",
				       msg ? msg : strerror(-err));
		else
			fg_reply_json(p->req, 200, json_pack("{s:O}", "nodes", nodes),
				      0, &p->start);
	}
	free(p);
}

static void fg_get_nodes(struct fg_daemon *d, struct evhttp_request *req,
			 const struct timespec *t0)
{
	struct fg_nodes_pending *p = calloc(1, sizeof(*p));

	if (!p) {
		fg_reply_error(req, 500, NULL, t0, "out of memory");
		return;
	}
	p->req = req;
	p->start = *t0;
	evhttp_connection_set_closecb(evhttp_request_get_connection(req),
				      fg_nodes_gone, p);
	if (fg_store_nodes(d->store, fg_nodes_done, p)) {
		evhttp_connection_set_closecb(evhttp_request_get_connection(req),
					      NULL, NULL);
		free(p);
		fg_reply_error(req, 500, NULL, t0, "out of memory");
	}
}

static void fg_get_metrics(struct fg_daemon *d, struct evhttp_request *req,
			   const struct timespec *t0)
{
	char *text = fg_metrics_text(d);
	struct evbuffer *buf;

	if (!text) {
		fg_reply_error(req, 500, NULL, t0, "out of memory");
		return;
	}
	buf = evbuffer_new();
	if (buf)
		evbuffer_add(buf, text, strlen(text));
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
			  "text/plain; version=0.0.4; charset=utf-8");
	evhttp_send_reply(req, 200, NULL, buf);
	fg_conn_replied(req);
	fg_log_request(req, 200, t0);
	if (buf)
		evbuffer_free(buf);
	free(text);
}

/* ------------------------------------------------------ connections */

/* A parsed request head: pointers into the head's bytes. */
struct fg_head {
	const char *method, *target, *auth;
	size_t mlen, tlen, alen;
	uint64_t clen;
	bool has_clen, bad_clen, chunked, close;
};

/*
 * fg_head_end - the length of the request head at the start of src (up
 * to and with its empty line: "\r\n\r\n" or a bare "\n\n") in *end.
 * Returns true when it is complete. *scanned keeps how far earlier calls
 * searched, so a head arriving a byte at a time costs O(length) in all.
 */
static bool fg_head_end(struct evbuffer *src, size_t *scanned, size_t *end)
{
	size_t len = evbuffer_get_length(src), lf;
	struct evbuffer_ptr p;
	char next[3];
	ev_ssize_t n;

	/* Every pass moves *scanned past a line feed, or returns. */
	while (*scanned < len) {
		if (evbuffer_ptr_set(src, &p, *scanned, EVBUFFER_PTR_SET))
			return false;
		p = evbuffer_search(src, "\n", 1, &p);
		if (p.pos < 0) {
			*scanned = len;
			return false;
		}
		lf = (size_t)p.pos;
		/* The line feed and the two bytes after it. */
		n = evbuffer_copyout_from(src, &p, next, sizeof(next));
		if (n >= 2 && next[1] == '\n') {
			*end = lf + 2;
			return true;
		}
		if (n >= 3 && next[1] == '\r' && next[2] == '\n') {
			*end = lf + 3;
			return true;
		}
		if (n < 2 || (n < 3 && next[1] == '\r')) {
			/* Undecided until more arrives: look here again. */
			*scanned = lf;
			return false;
		}
		*scanned = lf + 1;
	}
	return false;
}

/* fg_trim - [*s, *s + *n) without surrounding spaces, tabs and CR. */
static void fg_trim(const char **s, size_t *n)
{
	while (*n && (**s == ' ' || **s == '\t')) {
		(*s)++;
		(*n)--;
	}
	while (*n && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t' ||
		      (*s)[*n - 1] == '\r'))
		(*n)--;
}

/* fg_token_in - does the comma-separated list v[0..n) hold word? */
static bool fg_token_in(const char *v, size_t n, const char *word)
{
	size_t wl = strlen(word);
	const char *end = v + n;

	/* Each pass moves v past one element. */
	while (v < end) {
		const char *e = memchr(v, ',', (size_t)(end - v)), *t = v;
		size_t el = (size_t)((e ? e : end) - v);

		fg_trim(&t, &el);
		if (el == wl && !strncasecmp(t, word, wl))
			return true;
		if (!e)
			break;
		v = e + 1;
	}
	return false;
}

/*
 * fg_head_parse - the request line and the headers the filter judges
 * (Authorization, Content-Length, Transfer-Encoding, Connection) of
 * head[0..len). Returns 0, or -1 when the request line is malformed
 * (evhttp refuses such a request itself).
 */
static int fg_head_parse(const char *head, size_t len, struct fg_head *h)
{
	const char *p = head, *end = head + len, *nl, *sp1, *sp2;
	bool http10, keepalive = false;

	memset(h, 0, sizeof(*h));
	nl = memchr(p, '\n', len);
	if (!nl)
		return -1;
	sp1 = memchr(p, ' ', (size_t)(nl - p));
	sp2 = sp1 ? memchr(sp1 + 1, ' ', (size_t)(nl - sp1 - 1)) : NULL;
	if (!sp1 || !sp2 || sp1 == p || sp2 == sp1 + 1)
		return -1;
	h->method = p;
	h->mlen = (size_t)(sp1 - p);
	h->target = sp1 + 1;
	h->tlen = (size_t)(sp2 - sp1 - 1);
	http10 = (size_t)(nl - sp2 - 1) >= 8 && !memcmp(sp2 + 1, "HTTP/1.0", 8);
	/* One header per line; each pass moves p to the next line. */
	for (p = nl + 1; p < end; p = nl + 1) {
		const char *colon, *v;
		size_t ll, vl;

		nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			break;
		ll = (size_t)(nl - p);
		colon = memchr(p, ':', ll);
		if (!colon)
			continue;
		v = colon + 1;
		vl = (size_t)(nl - v);
		fg_trim(&v, &vl);
#define FG_IS(name) ((size_t)(colon - p) == sizeof(name) - 1 && \
		     !strncasecmp(p, name, sizeof(name) - 1))
		if (FG_IS("Authorization") && !h->auth) {
			h->auth = v;
			h->alen = vl;
		} else if (FG_IS("Content-Length")) {
			uint64_t x = 0;
			size_t i;

			for (i = 0; i < vl && v[i] >= '0' && v[i] <= '9' &&
			     x <= (UINT64_MAX - 9) / 10; i++)
				x = x * 10 + (uint64_t)(v[i] - '0');
			if (!vl || i != vl)
				h->bad_clen = true;
			else if (!h->has_clen || x > h->clen)
				h->clen = x;   /* several: judge the largest */
			h->has_clen = true;
		} else if (FG_IS("Transfer-Encoding")) {
			h->chunked = true;
		} else if (FG_IS("Connection")) {
			if (fg_token_in(v, vl, "close"))
				h->close = true;
			if (fg_token_in(v, vl, "keep-alive"))
				keepalive = true;
		}
#undef FG_IS
	}
	if (http10 && !keepalive)
		h->close = true;
	return 0;
}

/* fg_copy_printable - a log-safe copy of s[0..n) into out. */
static void fg_copy_printable(char *out, size_t outlen, const char *s,
			      size_t n)
{
	size_t i;

	for (i = 0; i < n && i + 1 < outlen; i++)
		out[i] = s[i] > ' ' && s[i] <= '~' ? s[i] : '?';
	out[i] = '\0';
}

static void fg_conn_arm(struct fg_api_conn *c, int seconds)
{
	struct timeval tv = { .tv_sec = seconds, .tv_usec = 0 };

	if (c->deadline && !event_add(c->deadline, &tv))
		c->deadline_armed = true;
}

static void fg_conn_disarm(struct fg_api_conn *c)
{
	if (c->deadline_armed)
		event_del(c->deadline);
	c->deadline_armed = false;
}

/*
 * fg_conn_head - judge the head at the start of src once it is complete:
 * pass it on (state BODY, or HEAD again when it has no body), or put the
 * stand-in in its place and drop the body (DISCARD, DISCARD_ALL). Returns
 * true when it consumed bytes, false while the head is incomplete.
 */
static bool fg_conn_head(struct fg_api_conn *c, struct evbuffer *src,
			 struct evbuffer *dst)
{
	static const char standin[] = "GET " FG_API_REJECT_PATH " HTTP/1.1\r\n"
				      "Host: floodgate\r\n";
	const char *token = c->d->cfg.api.token;
	size_t len = evbuffer_get_length(src), end, plen;
	struct fg_head h;
	const char *head, *q;
	bool healthz;

	if (!fg_head_end(src, &c->scanned, &end)) {
		if (len > FG_API_HEAD_MAX) {
			/* evhttp's own header limit answers this. */
			c->st = FG_CONN_PASS;
			evbuffer_add_buffer(dst, src);
			fg_conn_disarm(c);
			return true;
		}
		if (!c->deadline_armed)
			fg_conn_arm(c, FG_API_HEAD_TIMEOUT_S);
		return false;
	}
	fg_conn_disarm(c);
	c->scanned = 0;
	head = (const char *)evbuffer_pullup(src, (ev_ssize_t)end);
	if (!head || fg_head_parse(head, end, &h) || h.bad_clen) {
		c->st = FG_CONN_PASS;
		evbuffer_add_buffer(dst, src);
		return true;
	}
	q = memchr(h.target, '?', h.tlen);
	plen = q ? (size_t)(q - h.target) : h.tlen;
	healthz = plen == 8 && !memcmp(h.target, "/healthz", 8);
	if (!healthz && !fg_token_match(token, h.auth, h.alen))
		c->reject = 401;
	else if (h.has_clen && h.clen > FG_API_BODY_MAX)
		c->reject = 413;
	if (!c->reject && h.close) {
		/* evhttp would close the connection itself after the answer,
		 * and through the filter that loses the answer (libevent
		 * 2.1 shuts the socket down when the filter has handed the
		 * answer down, before the socket took it). It gets the head
		 * as HTTP/1.1 keep-alive instead; we close once the socket
		 * has the answer (fg_conn_replied). */
		const char *line = memchr(head, '\n', end), *nl;

		evbuffer_add_printf(dst, "%.*s %.*s HTTP/1.1\r\n", (int)h.mlen,
				    h.method, (int)h.tlen, h.target);
		/* One header line per pass. */
		for (line = line + 1; line < head + end; line = nl + 1) {
			nl = memchr(line, '\n', (size_t)(head + end - line));
			if (!nl)
				break;
			if ((size_t)(nl - line) >= 11 &&
			    !strncasecmp(line, "Connection:", 11))
				continue;
			evbuffer_add(dst, line, (size_t)(nl - line + 1));
		}
		evbuffer_drain(src, end);
		c->close_after = true;
		c->st = h.chunked ? FG_CONN_PASS : h.has_clen && h.clen ?
			FG_CONN_BODY : FG_CONN_HEAD;
		c->left = h.clen;
		return true;
	}
	if (!c->reject) {
		evbuffer_remove_buffer(src, dst, end);
		if (h.chunked)
			c->st = FG_CONN_PASS;
		else if (h.has_clen && h.clen) {
			c->st = FG_CONN_BODY;
			c->left = h.clen;
		} else {
			c->st = FG_CONN_HEAD;
		}
		return true;
	}

	if (c->reject == 401)
		fg_api.refused_401++;
	else
		fg_api.refused_413++;
	c->reject_len = h.clen;
	fg_copy_printable(c->method, sizeof(c->method), h.method, h.mlen);
	fg_copy_printable(c->target, sizeof(c->target), h.target, h.tlen);
	evbuffer_drain(src, end);
	/* A body of known, modest length is dropped and the connection
	 * kept; any other is dropped until the close after the answer. */
	c->close_after = h.close || h.chunked ||
			 (h.has_clen && h.clen > FG_API_DISCARD_MAX);
	if (c->close_after) {
		c->st = FG_CONN_DISCARD_ALL;
	} else if (h.has_clen && h.clen) {
		c->st = FG_CONN_DISCARD;
		c->left = h.clen;
	} else {
		c->st = FG_CONN_HEAD;
	}
	evbuffer_add(dst, standin, sizeof(standin) - 1);
	evbuffer_add(dst, "\r\n", 2);
	return true;
}

/*
 * fg_conn_filter_in - the filter between the socket (src) and evhttp
 * (dst): see enum fg_conn_state. Runs on the event loop.
 */
static enum bufferevent_filter_result
fg_conn_filter_in(struct evbuffer *src, struct evbuffer *dst,
		  ev_ssize_t limit, enum bufferevent_flush_mode mode,
		  void *arg)
{
	struct fg_api_conn *c = arg;
	bool passed = false;
	size_t len, n;

	/* Every pass consumes bytes of src (or returns): bounded by it. */
	while ((len = evbuffer_get_length(src)) > 0) {
		switch (c->st) {
		case FG_CONN_PASS:
			evbuffer_add_buffer(dst, src);
			return BEV_OK;
		case FG_CONN_DISCARD_ALL:
			evbuffer_drain(src, len);
			break;
		case FG_CONN_BODY:
		case FG_CONN_DISCARD:
			n = len < c->left ? len : (size_t)c->left;
			if (c->st == FG_CONN_BODY) {
				evbuffer_remove_buffer(src, dst, n);
				passed = true;
			} else {
				evbuffer_drain(src, n);
			}
			c->left -= n;
			if (!c->left)
				c->st = FG_CONN_HEAD;
			break;
		case FG_CONN_HEAD:
			if (!fg_conn_head(c, src, dst))
				return passed ? BEV_OK : BEV_NEED_MORE;
			passed = true;
			break;
		}
	}
	return passed ? BEV_OK : BEV_NEED_MORE;
}

/* fg_conn_deadline - a head not complete in time, or a connection over
 * the cap: shut the socket down. evhttp sees the end of the stream and
 * frees the connection (and so this context) as for any client that
 * leaves. */
static void fg_conn_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct fg_api_conn *c = arg;
	evutil_socket_t s = bufferevent_getfd(c->under);

	c->deadline_armed = false;
	c->st = FG_CONN_DISCARD_ALL;
	if (s >= 0)
		shutdown(s, SHUT_RDWR);
}

/*
 * fg_conn_outbuf - evhttp added output: have it moved to the socket.
 * libevent 2.1's filter moves output down only while its write side is
 * enabled, and evhttp adds a reply before it enables writing: without
 * this the reply waits for the next event on the connection (observed:
 * a third of replies stalled). The flush runs from the loop, after
 * evhttp's enable, never from inside evbuffer's callback.
 */
static void fg_conn_outbuf(struct evbuffer *buf,
			   const struct evbuffer_cb_info *info, void *arg)
{
	struct fg_api_conn *c = arg;

	if (info->n_added)
		event_active(c->flush, EV_TIMEOUT, 1);
}

/* fg_conn_close_now - the answer that closes the connection is on the
 * wire: shut our side, drop what the client still sends, and give it
 * FG_API_HEAD_TIMEOUT_S to close its side before the deadline does. */
static void fg_conn_close_now(struct fg_api_conn *c)
{
	evutil_socket_t s = bufferevent_getfd(c->under);

	c->close_pending = false;
	c->st = FG_CONN_DISCARD_ALL;
	if (s >= 0)
		shutdown(s, SHUT_WR);
	fg_conn_disarm(c);
	fg_conn_arm(c, FG_API_HEAD_TIMEOUT_S);
}

static void fg_conn_flush(evutil_socket_t fd, short what, void *arg)
{
	struct fg_api_conn *c = arg;

	bufferevent_flush(c->bev, EV_WRITE, BEV_NORMAL);
	if (c->close_flush &&
	    !evbuffer_get_length(bufferevent_get_output(c->bev))) {
		c->close_flush = false;
		c->close_pending = true;
		if (!evbuffer_get_length(bufferevent_get_output(c->under)))
			fg_conn_close_now(c);
	}
}

/* fg_conn_underout - the socket took output: close when an answer that
 * ends the connection is all out. */
static void fg_conn_underout(struct evbuffer *buf,
			     const struct evbuffer_cb_info *info, void *arg)
{
	struct fg_api_conn *c = arg;

	if (c->close_pending && info->n_deleted && !evbuffer_get_length(buf))
		fg_conn_close_now(c);
}

/* fg_conn_free - the filter's context goes with its bufferevent. */
static void fg_conn_free(void *arg)
{
	struct fg_api_conn *c = arg;

	if (c->prev)
		c->prev->next = c->next;
	else
		fg_api.conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	fg_api.nconns--;
	if (c->deadline)
		event_free(c->deadline);
	if (c->flush)
		event_free(c->flush);
	free(c);
}

/*
 * fg_conn_new - evhttp's bufferevent for a new connection (evhttp_set_bevcb):
 * our filter over a socket bufferevent, which evhttp gives the socket.
 * NULL (out of memory) makes evhttp use a plain one: the dispatcher still
 * checks the token and evhttp the body size.
 */
static struct bufferevent *fg_conn_new(struct event_base *base, void *arg)
{
	struct fg_daemon *d = arg;
	struct fg_api_conn *c = calloc(1, sizeof(*c));
	time_t now = time(NULL);

	if (!c)
		return NULL;
	c->d = d;
	c->deadline = evtimer_new(base, fg_conn_deadline, c);
	c->flush = event_new(base, -1, 0, fg_conn_flush, c);
	c->under = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
	if (c->under && c->deadline && c->flush)
		c->bev = bufferevent_filter_new(c->under, fg_conn_filter_in,
						NULL, BEV_OPT_CLOSE_ON_FREE,
						fg_conn_free, c);
	if (!c->bev || !evbuffer_add_cb(bufferevent_get_output(c->bev),
					fg_conn_outbuf, c) ||
	    !evbuffer_add_cb(bufferevent_get_output(c->under),
			     fg_conn_underout, c)) {
		if (c->bev) {
			/* Frees under, and c through fg_conn_free: link c
			 * first so the unlink finds it. */
			c->next = fg_api.conns;
			if (c->next)
				c->next->prev = c;
			fg_api.conns = c;
			fg_api.nconns++;
			bufferevent_free(c->bev);
			return NULL;
		}
		if (c->under)
			bufferevent_free(c->under);
		if (c->deadline)
			event_free(c->deadline);
		if (c->flush)
			event_free(c->flush);
		free(c);
		return NULL;
	}
	/* Linked before anything can fail: fg_conn_free unlinks. */
	c->next = fg_api.conns;
	if (c->next)
		c->next->prev = c;
	fg_api.conns = c;
	fg_api.nconns++;
	if (fg_api.nconns > FG_API_CONNS_MAX) {
		c->over_cap = true;
		c->st = FG_CONN_DISCARD_ALL;
		fg_api.conns_refused++;
		fg_api.cap_unlogged++;
		if (now - fg_api.cap_logged >= 10) {
			fg_log(FG_LOG_WARN,
			       "api: %u connections open (the limit): closed %" PRIu64 " new connection(s)",
			       FG_API_CONNS_MAX, fg_api.cap_unlogged);
			fg_api.cap_logged = now;
			fg_api.cap_unlogged = 0;
		}
		/* The socket is set once we return: close it next round. */
		fg_conn_arm(c, 0);
	} else {
		fg_conn_arm(c, FG_API_HEAD_TIMEOUT_S);
	}
	return c->bev;
}

/* fg_conn_of - the context of req's connection, NULL when it has none. */
static struct fg_api_conn *fg_conn_of(struct evhttp_request *req)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	struct bufferevent *bev = evcon ? evhttp_connection_get_bufferevent(evcon) : NULL;
	struct fg_api_conn *c;

	/* At most FG_API_CONNS_MAX and a few being closed. */
	for (c = fg_api.conns; bev && c; c = c->next)
		if (c->bev == bev)
			return c;
	return NULL;
}

/* fg_conn_replied - req was answered: when its connection is to close
 * after it, close once the answer is out (fg_conn_flush). */
static void fg_conn_replied(struct evhttp_request *req)
{
	struct fg_api_conn *c = fg_conn_of(req);

	if (c && c->close_after) {
		c->close_after = false;
		c->close_flush = true;
	}
}

/* fg_reply_refused - answer the stand-in of a head the filter refused. */
static void fg_reply_refused(struct fg_api_conn *c, struct evhttp_request *req,
			     const struct timespec *t0)
{
	struct evkeyvalq *oh = evhttp_request_get_output_headers(req);
	struct fg_rule_error e = { 0 };
	int code = c->reject;
	char *peer = NULL;
	ev_uint16_t port = 0;

	c->reject = 0;
	if (code == 401) {
		evhttp_add_header(oh, "WWW-Authenticate", "Bearer");
		fg_rule_error_set(&e, FG_RULE_EINVAL, NULL, "missing or wrong bearer token");
	} else {
		fg_rule_error_set(&e, FG_RULE_ETOOBIG, NULL,
				 "request body of %" PRIu64 " bytes is over the limit of %u bytes (1 MiB)",
				 c->reject_len, FG_API_BODY_MAX);
	}
	fg_send_json(req, code, fg_error_body(fg_api_code(code), e.message,
					      e.field), 0);
	evhttp_connection_get_peer(evhttp_request_get_connection(req), &peer,
				   &port);
	fg_log(FG_LOG_INFO, "api %s %s %s %d %.2fms (refused on its headers)",
	       peer ? peer : "-", c->method, c->target, code, fg_ms_since(t0));
}

/* ---------------------------------------------------------- dispatch */

static void fg_not_allowed(struct evhttp_request *req, const char *allow,
			   const struct timespec *t0)
{
	evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", allow);
	fg_reply_error(req, 405, NULL, t0, "method not allowed here; allowed: %s",
		       allow);
}


static void fg_api_dispatch(struct evhttp_request *req, void *arg)
{
	struct fg_daemon *d = arg;
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
	struct timespec t0;
	const struct fg_rule_kind *kind;
	const char *rest, *slash;
	char name[FG_NAME_MAX + 1];

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (!path)
		path = "/";
	if (!strcmp(path, FG_API_REJECT_PATH)) {
		struct fg_api_conn *c = fg_conn_of(req);

		if (c && c->reject) {
			fg_reply_refused(c, req, &t0);
			return;
		}
	}
	if (!strcmp(path, "/healthz")) {
		if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD)
			return fg_not_allowed(req, "GET", &t0);
		fg_reply_json(req, 200, json_pack("{s:b}", "ok", 1), 0, &t0);
		return;
	}
	if (!fg_token_ok(d, req)) {
		evhttp_add_header(evhttp_request_get_output_headers(req),
				  "WWW-Authenticate", "Bearer");
		fg_reply_error(req, 401, NULL, &t0,
			       "missing or wrong bearer token");
		return;
	}
	if (!strcmp(path, "/metrics")) {
		if (cmd != EVHTTP_REQ_GET)
			return fg_not_allowed(req, "GET", &t0);
		fg_get_metrics(d, req, &t0);
		return;
	}
	if (strncmp(path, "/v1/", 4)) {
		fg_reply_error(req, 404, NULL, &t0, "no such endpoint: %s", path);
		return;
	}
	rest = path + 4;
	if (!strcmp(rest, "status") || !strcmp(rest, "stats") ||
	    !strcmp(rest, "nodes")) {
		if (cmd != EVHTTP_REQ_GET)
			return fg_not_allowed(req, "GET", &t0);
		if (!strcmp(rest, "status"))
			fg_get_status(d, req, &t0);
		else if (!strcmp(rest, "stats"))
			fg_reply_json(req, 200, fg_stats_json(d), d->rules_version, &t0);
		else
			fg_get_nodes(d, req, &t0);
		return;
	}

	/* Everything below reads or writes the rule set. */
	if (!d->rules_version) {
		fg_reply_error(req, 503, NULL, &t0,
			       "rule store unavailable: rules not loaded yet");
		return;
	}
	if (!strcmp(rest, "config")) {
		if (cmd == EVHTTP_REQ_GET)
			fg_get_config(d, req, &t0);
		else if (cmd == EVHTTP_REQ_PUT)
			fg_put_config(d, req, &t0);
		else
			fg_not_allowed(req, "GET, PUT", &t0);
		return;
	}
	slash = strchr(rest, '/');
	kind = fg_rule_kind_find(rest, slash ? (size_t)(slash - rest) : strlen(rest));
	if (!kind) {
		fg_reply_error(req, 404, NULL, &t0, "no such endpoint: %s", path);
		return;
	}
	if (!slash) {
		if (cmd != EVHTTP_REQ_GET)
			return fg_not_allowed(req, "GET", &t0);
		fg_get_list(d, req, kind, &t0);
		return;
	}
	if (strlen(slash + 1) > FG_NAME_MAX - 1 || !fg_name_valid(slash + 1)) {
		fg_reply_error(req, 400, "name", &t0,
			       "name: must match " FG_NAME_RE);
		return;
	}
	snprintf(name, sizeof(name), "%s", slash + 1);
	switch (cmd) {
	case EVHTTP_REQ_GET:
		fg_get_one(d, req, kind, name, &t0);
		break;
	case EVHTTP_REQ_PUT:
		fg_put_one(d, req, kind, name, &t0);
		break;
	case EVHTTP_REQ_DELETE:
		fg_delete_one(d, req, kind, name, &t0);
		break;
	default:
		fg_not_allowed(req, "GET, PUT, DELETE", &t0);
	}
}

/* ------------------------------------------------------------- setup */

/*
 * fg_api_listen - a listening socket on api.listen, bound from the parsed
 * address (fg_boot_api_sockaddr): evhttp_bind_socket would resolve the
 * literal with getaddrinfo(AI_ADDRCONFIG), which refuses 127.0.0.1 and
 * ::1 while no interface but lo has an address - at boot, before the
 * network is up. Returns the socket or -errno, err naming the step.
 */
static int fg_api_listen(const struct fg_daemon *d, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int fd, one = 1, e;
	const char *step;

	if (fg_boot_api_sockaddr(&d->cfg, &ss, &sl)) {
		snprintf(err, errlen, "cannot listen on %s: not an IPv4 or IPv6 address",
			 d->cfg.api.listen);
		return -EINVAL;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		step = "socket";
		goto fail;
	}
	/* A restart must not wait out TIME_WAIT of the last run's clients. */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one))) {
		step = "SO_REUSEADDR";
		goto fail;
	}
	if (bind(fd, (struct sockaddr *)&ss, sl)) {
		step = "bind";
		goto fail;
	}
	if (listen(fd, 128)) {
		step = "listen";
		goto fail;
	}
	return fd;
fail:
	e = errno;
	snprintf(err, errlen, "cannot listen on %s: %s: %s", d->cfg.api.listen,
		 step, strerror(e));
	if (fd >= 0)
		close(fd);
	return -e;
}

/* fg_api_warn_token_file - the token is a secret: say so when its file
 * is open to group or others (the operator may not know). */
static void fg_api_warn_token_file(const struct fg_daemon *d)
{
	struct stat st;

	if (!d->cfg.api.token_file[0])
		return;
	if (stat(d->cfg.api.token_file, &st)) {
		fg_log(FG_LOG_WARN, "api: token file %s: %s", d->cfg.api.token_file,
		       strerror(errno));
		return;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO))
		fg_log(FG_LOG_WARN,
		       "api: token file %s is %s by group or others (mode %04o): anyone who reads it can rewrite the rules; chmod 600 it",
		       d->cfg.api.token_file,
		       st.st_mode & (S_IRGRP | S_IROTH) ? "readable" : "accessible",
		       (unsigned int)(st.st_mode & 07777));
}

int fg_api_start(struct fg_daemon *d, char *err, size_t errlen)
{
	int fd;

	d->http = evhttp_new(d->base);
	if (!d->http) {
		snprintf(err, errlen, "evhttp_new: out of memory");
		return -ENOMEM;
	}
	/* The filter refuses larger Content-Lengths with the JSON body
	 * before reading; this catches chunked bodies, which it passes. */
	evhttp_set_max_body_size(d->http, FG_API_BODY_MAX);
	evhttp_set_max_headers_size(d->http, FG_API_HEAD_MAX);
	evhttp_set_timeout(d->http, FG_API_IDLE_TIMEOUT_S);
	evhttp_set_bevcb(d->http, fg_conn_new, d);
	/* Every method reaches the dispatcher, which answers 405 with the
	 * JSON error body where a path does not take it. */
	evhttp_set_allowed_methods(d->http, EVHTTP_REQ_GET | EVHTTP_REQ_PUT |
				   EVHTTP_REQ_DELETE | EVHTTP_REQ_POST |
				   EVHTTP_REQ_HEAD | EVHTTP_REQ_PATCH |
				   EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE);
	evhttp_set_default_content_type(d->http, "application/json");
	evhttp_set_gencb(d->http, fg_api_dispatch, d);

	fd = fg_api_listen(d, err, errlen);
	if (fd < 0) {
		evhttp_free(d->http);
		d->http = NULL;
		return fd;
	}
	d->http_sock = evhttp_accept_socket_with_handle(d->http, fd);
	if (!d->http_sock) {
		close(fd);
		snprintf(err, errlen, "cannot listen on %s: libevent cannot watch the socket (out of memory)",
			 d->cfg.api.listen);
		evhttp_free(d->http);
		d->http = NULL;
		return -ENOMEM;
	}
	fg_api_warn_token_file(d);
	if (!d->cfg.api.token[0] && !fg_boot_api_loopback(&d->cfg))
		fg_log(FG_LOG_WARN,
		       "api: listening on %s beyond loopback WITHOUT a token (api.allow_no_token): anyone who reaches it can rewrite the rules",
		       d->cfg.api.listen);
	else
		fg_log(FG_LOG_INFO, "api: listening on %s (%s; at most %u connections)",
		       d->cfg.api.listen, d->cfg.api.token[0] ?
		       "bearer token required" : "loopback, no token",
		       FG_API_CONNS_MAX);
	return 0;
}

void fg_api_stop(struct fg_daemon *d)
{
	if (d->http)
		evhttp_free(d->http);
	d->http = NULL;
	d->http_sock = NULL;
}
