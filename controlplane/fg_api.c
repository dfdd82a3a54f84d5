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
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "fg_daemon.h"
#include "fg_log.h"
#include "fg_rules_json.h"
#include "fg_store.h"

/* evhttp refuses bodies past this with its own 413 (an HTML page: 2.1
 * has no hook for its error replies); API.md's 1 MiB limit is checked by
 * us well below it, so clients get the JSON error body for anything a
 * client would plausibly send, and memory per request stays bounded. */
#define FG_API_EVHTTP_BODY_MAX (64U << 20)

/* The kinds of rule object with their own endpoints. */
enum fg_kind {
	FG_KIND_SERVICES,
	FG_KIND_LIMITS,
	FG_KIND_ROUTES,
	FG_KIND_SECKILL,
};

static const char *const fg_kind_names[] = {
	[FG_KIND_SERVICES] = "services",
	[FG_KIND_LIMITS] = "limits",
	[FG_KIND_ROUTES] = "routes",
	[FG_KIND_SECKILL] = "seckill",
};

/* A write waiting for the store. req is NULL once the client is gone. */
struct fg_api_pending {
	struct fg_daemon *d;
	struct evhttp_request *req;
	json_t *candidate;
	int created;       /* answer 201 rather than 200 */
	int conditional;   /* the client sent If-Match */
	struct timespec start;
};

/* ---------------------------------------------------------- replies */

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

/* fg_reply_json - send body (stolen) with status code and, when version
 * is non-zero, an ETag. */
static void fg_reply_json(struct evhttp_request *req, int code, json_t *body,
			  uint64_t version, const struct timespec *t0)
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
	fg_log_request(req, code, t0);
	free(text);
	if (buf)
		evbuffer_free(buf);
}

static void fg_reply_error(struct evhttp_request *req, int http,
			   const char *field, const struct timespec *t0,
			   const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void fg_reply_error(struct evhttp_request *req, int http,
			   const char *field, const struct timespec *t0,
			   const char *fmt, ...)
{
	struct fg_api_error e = { 0 };
	char msg[sizeof(e.message)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fg_api_error_set(&e, http, field, "%s", msg);
	fg_reply_json(req, http, fg_api_error_json(&e), 0, t0);
}

static void fg_reply_api_error(struct evhttp_request *req,
			       const struct fg_api_error *e,
			       const struct timespec *t0)
{
	fg_reply_json(req, e->http ? e->http : 500, fg_api_error_json(e), 0, t0);
}

/* ----------------------------------------------------------- helpers */

/* Constant-time token comparison: the API may face untrusted peers. */
static int fg_token_ok(const struct fg_daemon *d, struct evhttp_request *req)
{
	const char *h = evhttp_find_header(evhttp_request_get_input_headers(req),
					   "Authorization");
	size_t n, i;
	unsigned char diff = 0;

	const char *token = d->cfg.api.token;

	if (!token[0])
		return 1;
	if (!h || strncmp(h, "Bearer ", 7))
		return 0;
	h += 7;
	n = strlen(token);
	if (strlen(h) != n)
		return 0;
	for (i = 0; i < n; i++)
		diff |= (unsigned char)(h[i] ^ token[i]);
	return diff == 0;
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
static json_t *fg_body_json(struct evhttp_request *req, struct fg_api_error *e)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t len = evbuffer_get_length(in);
	const char *data = len ? (const char *)evbuffer_pullup(in, -1) : "";

	return fg_json_parse_body(data, len, e);
}

/* The current canonical config without version: a deep copy to edit. */
static json_t *fg_rules_copy(const struct fg_daemon *d)
{
	json_t *c = json_deep_copy(d->rules_json);

	if (c)
		json_object_del(c, "version");
	return c;
}

/* ------------------------------------------------------------ writes */

static void fg_write_done(void *arg, int err, uint64_t version, const char *msg)
{
	struct fg_api_pending *p = arg;
	struct fg_daemon *d = p->d;
	struct evhttp_request *req = p->req;

	if (req)
		evhttp_connection_set_closecb(evhttp_request_get_connection(req),
					      NULL, NULL);
	if (!err) {
		/* Read-your-writes: the daemon takes the new set now rather
		 * than when the watch brings it back. */
		fg_daemon_rules_changed(d, p->candidate, version);
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
	} else {
		fg_reply_error(req, 503, NULL, &p->start,
			       "rule store unavailable: %s", msg ? msg : strerror(-err));
	}
	json_decref(p->candidate);
	free(p);
}

static void fg_write_client_gone(struct evhttp_connection *conn, void *arg)
{
	struct fg_api_pending *p = arg;

	p->req = NULL;
}

/*
 * fg_write - validate candidate (stolen) as a whole rule set, check the
 * dataplane would take it, and store it conditionally on the version the
 * daemon holds (or If-Match). Answers the request, now or when the store
 * answers.
 */
static void fg_write(struct fg_daemon *d, struct evhttp_request *req,
		     json_t *candidate, int created, const struct timespec *t0)
{
	struct fg_api_error e = { 0 };
	struct fg_ruleset rs = { 0 };
	struct fg_api_pending *p;
	char err[256] = "";
	uint64_t want = 0;
	int im, rc;

	im = fg_if_match(req, &want);
	if (im < 0) {
		json_decref(candidate);
		fg_reply_error(req, 400, "If-Match", t0,
			       "If-Match: must be a version, e.g. \"12\"");
		return;
	}
	if (im > 0 && want != d->rules_version) {
		json_decref(candidate);
		fg_reply_error(req, 412, "If-Match", t0,
			       "version is %" PRIu64 ", not %" PRIu64,
			       d->rules_version, want);
		return;
	}
	if (fg_config_from_json(candidate, &rs, &e)) {
		json_decref(candidate);
		fg_reply_api_error(req, &e, t0);
		return;
	}
	rc = d->dp->ops->check(d->dp, &rs, err, sizeof(err));
	fg_ruleset_free(&rs);
	if (rc) {
		json_decref(candidate);
		fg_reply_error(req, rc == -ENOMEM ? 500 : 400, NULL, t0,
			       "the dataplane cannot take this rule set: %s", err);
		return;
	}

	p = calloc(1, sizeof(*p));
	if (!p) {
		json_decref(candidate);
		fg_reply_error(req, 500, NULL, t0, "out of memory");
		return;
	}
	p->d = d;
	p->req = req;
	p->candidate = candidate;
	p->created = created;
	p->conditional = im > 0;
	p->start = *t0;
	evhttp_connection_set_closecb(evhttp_request_get_connection(req),
				      fg_write_client_gone, p);
	if (fg_store_write(d->store, candidate, d->rules_version, fg_write_done, p)) {
		evhttp_connection_set_closecb(evhttp_request_get_connection(req),
					      NULL, NULL);
		json_decref(candidate);
		free(p);
		fg_reply_error(req, 500, NULL, t0, "out of memory");
	}
}

/* ---------------------------------------------------------- handlers */

static void fg_get_config(struct fg_daemon *d, struct evhttp_request *req,
			  const struct timespec *t0)
{
	json_t *c = json_deep_copy(d->rules_json);

	json_object_set_new(c, "version", json_integer((json_int_t)d->rules_version));
	fg_reply_json(req, 200, c, d->rules_version, t0);
}

static void fg_put_config(struct fg_daemon *d, struct evhttp_request *req,
			  const struct timespec *t0)
{
	struct fg_api_error e = { 0 };
	struct fg_ruleset rs = { 0 };
	json_t *body, *canon;

	body = fg_body_json(req, &e);
	if (!body) {
		fg_reply_api_error(req, &e, t0);
		return;
	}
	/* Parse for validation and to store the canonical form (defaults
	 * filled in) rather than what the client happened to send. */
	if (fg_config_from_json(body, &rs, &e)) {
		json_decref(body);
		fg_reply_api_error(req, &e, t0);
		return;
	}
	json_decref(body);
	canon = fg_config_to_json(&rs, 0);
	fg_ruleset_free(&rs);
	if (!canon) {
		fg_reply_error(req, 500, NULL, t0, "out of memory");
		return;
	}
	json_object_del(canon, "version");
	fg_write(d, req, canon, 0, t0);
}

static void fg_get_list(struct fg_daemon *d, struct evhttp_request *req,
			enum fg_kind kind, const struct timespec *t0)
{
	json_t *objs = json_object_get(d->rules_json, fg_kind_names[kind]);

	fg_reply_json(req, 200, json_pack("{s:I,s:O}", "version",
					  (json_int_t)d->rules_version,
					  fg_kind_names[kind],
					  objs ? objs : json_object()),
		      d->rules_version, t0);
}

static void fg_get_one(struct fg_daemon *d, struct evhttp_request *req,
		       enum fg_kind kind, const char *name,
		       const struct timespec *t0)
{
	json_t *o = json_object_get(json_object_get(d->rules_json,
						    fg_kind_names[kind]), name);

	if (!o) {
		fg_reply_error(req, 404, NULL, t0, "%s %s: not found",
			       fg_kind_names[kind], name);
		return;
	}
	fg_reply_json(req, 200, json_incref(o), d->rules_version, t0);
}

static void fg_put_one(struct fg_daemon *d, struct evhttp_request *req,
		       enum fg_kind kind, const char *name,
		       const struct timespec *t0)
{
	struct fg_api_error e = { 0 };
	json_t *body, *obj = NULL, *cand, *map;
	int created;

	body = fg_body_json(req, &e);
	if (!body) {
		fg_reply_api_error(req, &e, t0);
		return;
	}
	/* The object alone first, so errors name fields as the client
	 * wrote them (backends[2].port), then the whole set. */
	if (kind == FG_KIND_SERVICES) {
		struct fg_rule_service svc;

		if (!fg_service_from_json(name, body, &svc, &e)) {
			obj = fg_service_to_json(&svc);
			free(svc.backends);
		}
	} else if (kind == FG_KIND_LIMITS) {
		struct fg_rule_limit lim;

		if (!fg_limit_from_json(name, body, &lim, &e))
			obj = fg_limit_to_json(&lim);
	} else {
		fg_api_error_set(&e, 400, fg_kind_names[kind],
				 "%s are not supported yet by this build",
				 fg_kind_names[kind]);
	}
	json_decref(body);
	if (!obj) {
		fg_reply_api_error(req, &e, t0);
		return;
	}
	cand = fg_rules_copy(d);
	map = cand ? json_object_get(cand, fg_kind_names[kind]) : NULL;
	if (!map) {
		json_decref(obj);
		json_decref(cand);
		fg_reply_error(req, 500, NULL, t0, "out of memory");
		return;
	}
	created = json_object_get(map, name) == NULL;
	json_object_set_new(map, name, obj);
	fg_write(d, req, cand, created, t0);
}

static void fg_delete_one(struct fg_daemon *d, struct evhttp_request *req,
			  enum fg_kind kind, const char *name,
			  const struct timespec *t0)
{
	json_t *cand, *map;
	const char *user;

	if (!json_object_get(json_object_get(d->rules_json, fg_kind_names[kind]),
			     name)) {
		fg_reply_error(req, 404, NULL, t0, "%s %s: not found",
			       fg_kind_names[kind], name);
		return;
	}
	if (kind == FG_KIND_SERVICES) {
		user = fg_ruleset_service_user(&d->rules, name);
		if (user) {
			fg_reply_error(req, 409, NULL, t0,
				       "service %s is still named by limit %s",
				       name, user);
			return;
		}
	}
	cand = fg_rules_copy(d);
	map = cand ? json_object_get(cand, fg_kind_names[kind]) : NULL;
	if (!map) {
		json_decref(cand);
		fg_reply_error(req, 500, NULL, t0, "out of memory");
		return;
	}
	json_object_del(map, name);
	fg_write(d, req, cand, 0, t0);
}

static void fg_get_status(struct fg_daemon *d, struct evhttp_request *req,
			  const struct timespec *t0)
{
	json_t *ifs = json_array(), *s;
	size_t i;

	for (i = 0; i < d->cfg.dataplane.ninterfaces; i++)
		json_array_append_new(ifs, json_string(d->cfg.dataplane.interfaces[i]));
	s = json_pack("{s:s,s:s,s:s,s:{s:s,s:o,s:s,s:b},s:I,s:I,s:o}",
		      "node", d->cfg.node.name,
		      "group", d->cfg.node.group,
		      "software_version", FG_SOFTWARE_VERSION,
		      "dataplane", "kind", d->dp->ops->kind, "interfaces", ifs,
		      "mode", d->cfg.dataplane.mode == FG_CONFIG_XDP_GENERIC ?
			      "generic" : "native",
		      "adopted", d->dp->adopted,
		      "rules_version", (json_int_t)d->rules_version,
		      "applied_version", (json_int_t)d->applied_version,
		      "store", fg_store_describe(d->store));
	if (d->apply_error[0])
		json_object_set_new(s, "apply_error", json_string(d->apply_error));
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
	fg_log_request(req, 200, t0);
	if (buf)
		evbuffer_free(buf);
	free(text);
}

/* ---------------------------------------------------------- dispatch */

static void fg_not_allowed(struct evhttp_request *req, const char *allow,
			   const struct timespec *t0)
{
	evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", allow);
	fg_reply_error(req, 405, NULL, t0, "method not allowed here; allowed: %s",
		       allow);
}

static int fg_kind_from(const char *s, size_t n, enum fg_kind *kind)
{
	unsigned int i;

	for (i = 0; i < sizeof(fg_kind_names) / sizeof(fg_kind_names[0]); i++) {
		if (strlen(fg_kind_names[i]) == n && !strncmp(s, fg_kind_names[i], n)) {
			*kind = (enum fg_kind)i;
			return 1;
		}
	}
	return 0;
}

static void fg_api_dispatch(struct evhttp_request *req, void *arg)
{
	struct fg_daemon *d = arg;
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
	struct timespec t0;
	enum fg_kind kind;
	const char *rest, *slash;
	char name[FG_NAME_MAX + 1];

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (!path)
		path = "/";
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
	if (!fg_kind_from(rest, slash ? (size_t)(slash - rest) : strlen(rest), &kind)) {
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
			       "name: must match [a-z0-9][a-z0-9_-]{0,62}");
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

int fg_api_start(struct fg_daemon *d, char *err, size_t errlen)
{
	d->http = evhttp_new(d->base);
	if (!d->http) {
		snprintf(err, errlen, "evhttp_new failed");
		return -ENOMEM;
	}
	evhttp_set_max_body_size(d->http, FG_API_EVHTTP_BODY_MAX);
	evhttp_set_max_headers_size(d->http, 64 * 1024);
	evhttp_set_timeout(d->http, 30);
	/* Every method reaches the dispatcher, which answers 405 with the
	 * JSON error body where a path does not take it. */
	evhttp_set_allowed_methods(d->http, EVHTTP_REQ_GET | EVHTTP_REQ_PUT |
				   EVHTTP_REQ_DELETE | EVHTTP_REQ_POST |
				   EVHTTP_REQ_HEAD | EVHTTP_REQ_PATCH |
				   EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE);
	evhttp_set_default_content_type(d->http, "application/json");
	evhttp_set_gencb(d->http, fg_api_dispatch, d);
	{
		char host[INET6_ADDRSTRLEN];

		inet_ntop(d->cfg.api.addr.family, d->cfg.api.addr.family == AF_INET ?
			  (const void *)&d->cfg.api.addr.a4 :
			  (const void *)&d->cfg.api.addr.a6, host, sizeof(host));
		d->http_sock = evhttp_bind_socket_with_handle(d->http, host,
							      d->cfg.api.port);
	}
	if (!d->http_sock) {
		snprintf(err, errlen, "cannot listen on %s: %s", d->cfg.api.listen,
			 strerror(errno));
		evhttp_free(d->http);
		d->http = NULL;
		return -EADDRINUSE;
	}
	return 0;
}

void fg_api_stop(struct fg_daemon *d)
{
	if (d->http)
		evhttp_free(d->http);
	d->http = NULL;
	d->http_sock = NULL;
}
