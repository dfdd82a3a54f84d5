/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * fg_etcd.c - the asynchronous etcd v3 client. See fg_etcd.h for the
 * contracts.
 *
 * Shape: libcurl's multi interface driven by libevent the "hiperfifo" way
 * (curl tells us which sockets and which timeout to watch; libevent tells
 * curl_multi_socket_action() when they fire). Every transfer is a
 * struct fg_xfer: a unary request (struct fg_req) or one connection of a
 * watch stream (embedded in struct fg_etcd_watch).
 *
 * Re-entrancy, the part that needs care:
 *  - libcurl refuses most multi calls from inside its own callbacks
 *    (CURLM_RECURSIVE_API_CALL), and user callbacks start requests. So no
 *    user callback ever runs inside a curl callback: the write callback
 *    only buffers (and splits watch streams into parsed lines); finished
 *    transfers and watch lines are dispatched after
 *    curl_multi_socket_action() has returned (fg_process).
 *  - User callbacks may cancel watches, stop keepalives and free the
 *    client while we iterate over them. Every entry from the event loop
 *    brackets its work with fg_enter()/fg_leave(); inside (depth > 0) those
 *    calls only mark objects dead, and fg_leave() at depth 0 reaps them or
 *    destroys the client. Internal transfers are never held across a user
 *    callback, so they are freed at once.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>

#include <curl/curl.h>
#include <event2/event.h>
#include <jansson.h>

#include "fg_err.h"
#include "fg_etcd.h"
#include "fg_time.h"

/* How a unix:// endpoint is written; the rest is the socket's path. */
#define FG_ETCD_UNIX_SCHEME "unix://"
/* The host part of requests over a Unix socket: etcd ignores it. */
#define FG_ETCD_UNIX_URL "http://localhost"
/* Bytes a request carries beside its keys and values (JSON keys, base64
 * padding, revisions), per op or compare: the client's size check counts
 * them so that a request it lets through is not refused by etcd. */
#define FG_ETCD_OP_OVERHEAD 64U
/* A defragmentation rewrites the whole database and blocks the member
 * meanwhile: it gets longer than an ordinary request. */
#define FG_ETCD_DEFRAG_TIMEOUT_MS 60000
/* etcd's default --max-txn-ops. */
#define FG_ETCD_TXN_OPS_MAX 128
/* A keepalive that fails is retried this often until a TTL has passed. */
#define FG_ETCD_KA_RETRY_MS 1000
/* Floor of the keepalive interval: etcd's shortest TTL is about 2 s. */
#define FG_ETCD_KA_MIN_MS 300
/* Connect budget floor per endpoint while failing over, so one dead
 * endpoint cannot starve the others of the whole timeout, nor get so
 * little that a live one looks dead. */
#define FG_ETCD_CONNECT_MIN_MS 200
/* A watch stream that lasted this long earns a fresh reconnect backoff;
 * one that etcd ends at once (say, cancels on every attempt) does not, so
 * it cannot spin. */
#define FG_ETCD_BACKOFF_STABLE_MS 10000
/* Watch streams idle for long stretches; TCP keepalive notices a silently
 * dead peer in IDLE + INTVL * CNT seconds (25 s). */
#define FG_ETCD_TCP_KEEPIDLE 10
#define FG_ETCD_TCP_KEEPINTVL 5
#define FG_ETCD_TCP_KEEPCNT 3

/* ------------------------------------------------------------ helpers */

/* A growable byte buffer, always NUL-terminated when len > 0. */
struct fg_buf {
	char *p;
	size_t len, cap;
};

/* fg_buf_append - append n bytes, keeping the total under max. Returns 0,
 * -EMSGSIZE or -ENOMEM. */
static int fg_buf_append(struct fg_buf *b, const void *d, size_t n,
			 size_t max)
{
	if (n > max || b->len > max - n)
		return -EMSGSIZE;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		char *p;

		while (cap < b->len + n + 1)
			cap *= 2;
		p = realloc(b->p, cap);
		if (!p)
			return -ENOMEM;
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, d, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

static void fg_buf_free(struct fg_buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

/*
 * A result's memory: every allocation made while decoding one response,
 * released together after the callback. Separate mallocs are plenty for
 * the sizes involved and keep the code obvious.
 */
struct fg_arena {
	void **v;
	size_t n, cap;
	bool oom;
};

/* fg_arena_alloc - zeroed memory owned by the arena; NULL (and a sticky
 * oom flag) on failure. */
static void *fg_arena_alloc(struct fg_arena *a, size_t size)
{
	void *p;

	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 16;
		void **v = realloc(a->v, cap * sizeof(*v));

		if (!v) {
			a->oom = true;
			return NULL;
		}
		a->v = v;
		a->cap = cap;
	}
	p = calloc(1, size ? size : 1);
	if (!p) {
		a->oom = true;
		return NULL;
	}
	a->v[a->n++] = p;
	return p;
}

static void fg_arena_free(struct fg_arena *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->v[i]);
	free(a->v);
	memset(a, 0, sizeof(*a));
}

/* ------------------------------------------------------------- base64 */

/*
 * The gateway carries keys and values as base64 (proto3 JSON for bytes).
 * None of our libraries exports a base64 codec (libcurl's is internal), so
 * here are the twenty lines.
 */
static const char fg_b64_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* fg_b64_encode - standard alphabet with padding; malloc'd, NUL-terminated;
 * NULL on allocation failure. */
static char *fg_b64_encode(const void *data, size_t len)
{
	const unsigned char *s = data;
	char *out = malloc((len + 2) / 3 * 4 + 1), *o = out;
	size_t i;

	if (!out)
		return NULL;
	for (i = 0; i + 2 < len; i += 3) {
		*o++ = fg_b64_alphabet[s[i] >> 2];
		*o++ = fg_b64_alphabet[((s[i] & 3) << 4) | (s[i + 1] >> 4)];
		*o++ = fg_b64_alphabet[((s[i + 1] & 15) << 2) |
				       (s[i + 2] >> 6)];
		*o++ = fg_b64_alphabet[s[i + 2] & 63];
	}
	if (i < len) {
		*o++ = fg_b64_alphabet[s[i] >> 2];
		if (i + 1 < len) {
			*o++ = fg_b64_alphabet[((s[i] & 3) << 4) |
					       (s[i + 1] >> 4)];
			*o++ = fg_b64_alphabet[(s[i + 1] & 15) << 2];
		} else {
			*o++ = fg_b64_alphabet[(s[i] & 3) << 4];
			*o++ = '=';
		}
		*o++ = '=';
	}
	*o = '\0';
	return out;
}

/* fg_b64_val - a base64 digit's value (standard or URL-safe), or -1. */
static int fg_b64_val(unsigned char ch)
{
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9')
		return ch - '0' + 52;
	if (ch == '+' || ch == '-')
		return 62;
	if (ch == '/' || ch == '_')
		return 63;
	return -1;
}

/* fg_b64_decode - decode into arena memory (NUL-terminated); padding
 * optional. Returns 0, -EPROTO on bad input or -ENOMEM. */
static int fg_b64_decode(struct fg_arena *a, const char *s, size_t len,
			 const char **out, size_t *out_len)
{
	unsigned char *d;
	uint32_t acc = 0;
	size_t n = 0, bits = 0;

	while (len && s[len - 1] == '=')
		len--;
	d = fg_arena_alloc(a, len / 4 * 3 + 3);
	if (!d)
		return -ENOMEM;
	for (size_t i = 0; i < len; i++) {
		int v = fg_b64_val((unsigned char)s[i]);

		if (v < 0)
			return -EPROTO;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			d[n++] = (unsigned char)(acc >> bits);
		}
	}
	if (bits >= 6)	/* a lone trailing digit encodes no byte */
		return -EPROTO;
	d[n] = '\0';
	*out = (const char *)d;
	*out_len = n;
	return 0;
}

/* ---------------------------------------------------------- JSON bits */

/* fg_json_i64 - an int64 field that proto3 JSON sends as a string (or,
 * leniently, a number). Absent means 0, as proto3 omits zeros. Returns 0
 * or -EPROTO. */
static int fg_json_i64(const json_t *obj, const char *name, int64_t *v)
{
	const json_t *j = json_object_get(obj, name);
	const char *s;
	char *end;
	long long x;

	*v = 0;
	if (!j || json_is_null(j))
		return 0;
	if (json_is_integer(j)) {
		*v = json_integer_value(j);
		return 0;
	}
	if (!json_is_string(j))
		return -EPROTO;
	s = json_string_value(j);
	errno = 0;
	x = strtoll(s, &end, 10);
	if (errno || end == s || *end)
		return -EPROTO;
	*v = x;
	return 0;
}

/* fg_json_u64 - a uint64 field sent as a string (cluster and member ids
 * use all 64 bits). Absent means 0. Returns 0 or -EPROTO. */
static int fg_json_u64(const json_t *obj, const char *name, uint64_t *v)
{
	const json_t *j = json_object_get(obj, name);
	const char *s;
	char *end;
	unsigned long long x;

	*v = 0;
	if (!j || json_is_null(j))
		return 0;
	if (json_is_integer(j) && json_integer_value(j) >= 0) {
		*v = (uint64_t)json_integer_value(j);
		return 0;
	}
	if (!json_is_string(j))
		return -EPROTO;
	s = json_string_value(j);
	errno = 0;
	x = strtoull(s, &end, 10);
	if (errno || end == s || *end || *s == '-')
		return -EPROTO;
	*v = x;
	return 0;
}

/* fg_json_bool - a bool field; absent means false. */
static bool fg_json_bool(const json_t *obj, const char *name)
{
	return json_is_true(json_object_get(obj, name));
}

/* fg_json_set_i64 - set an int64 field the proto3 way: as a string. */
static int fg_json_set_i64(json_t *obj, const char *name, int64_t v)
{
	char s[24];

	snprintf(s, sizeof(s), "%" PRId64, v);
	return json_object_set_new(obj, name, json_string(s)) ? -ENOMEM : 0;
}

/* fg_json_set_b64 - set a bytes field. */
static int fg_json_set_b64(json_t *obj, const char *name, const void *d,
			   size_t len)
{
	char *s = fg_b64_encode(d, len);
	int r;

	if (!s)
		return -ENOMEM;
	r = json_object_set_new(obj, name, json_string(s)) ? -ENOMEM : 0;
	free(s);
	return r;
}

/*
 * fg_json_set_key_range - set "key" (and "range_end" for a prefix). The
 * range end of a prefix is the prefix with its last byte below 0xff
 * incremented and what follows dropped; "\0" for "every key" (the empty
 * prefix, or all bytes 0xff), and etcd wants key "\0" for the empty one.
 */
static int fg_json_set_key_range(json_t *obj, const char *key, bool prefix)
{
	size_t len = strlen(key);
	unsigned char *end;
	int r;

	if (!prefix)
		return fg_json_set_b64(obj, "key", key, len);
	r = len ? fg_json_set_b64(obj, "key", key, len) :
		  fg_json_set_b64(obj, "key", "", 1);
	if (r)
		return r;
	end = malloc(len + 1);
	if (!end)
		return -ENOMEM;
	memcpy(end, key, len);
	while (len && end[len - 1] == 0xff)
		len--;
	if (len) {
		end[len - 1]++;
		r = fg_json_set_b64(obj, "range_end", end, len);
	} else {
		r = fg_json_set_b64(obj, "range_end", "", 1);
	}
	free(end);
	return r;
}

/* fg_parse_kv - one mvccpb.KeyValue into kv (arena memory). */
static int fg_parse_kv(struct fg_arena *a, const json_t *j,
		       struct fg_etcd_kv *kv)
{
	const json_t *k = json_object_get(j, "key");
	const json_t *v = json_object_get(j, "value");
	int r;

	memset(kv, 0, sizeof(*kv));
	if (!json_is_object(j) || !json_is_string(k))
		return -EPROTO;
	r = fg_b64_decode(a, json_string_value(k), json_string_length(k),
			  &kv->key, &kv->key_len);
	if (r)
		return r;
	if (json_is_string(v))
		r = fg_b64_decode(a, json_string_value(v),
				  json_string_length(v), &kv->value,
				  &kv->value_len);
	else
		kv->value = "";
	if (r)
		return r;
	if (fg_json_i64(j, "create_revision", &kv->create_revision) ||
	    fg_json_i64(j, "mod_revision", &kv->mod_revision) ||
	    fg_json_i64(j, "version", &kv->version) ||
	    fg_json_i64(j, "lease", &kv->lease))
		return -EPROTO;
	return 0;
}

/* fg_parse_kvs - an array of kvs (absent: none) into arena memory. */
static int fg_parse_kvs(struct fg_arena *a, const json_t *arr,
			const struct fg_etcd_kv **out, size_t *n)
{
	struct fg_etcd_kv *kvs;
	size_t cnt;

	*out = NULL;
	*n = 0;
	if (!arr)
		return 0;
	if (!json_is_array(arr))
		return -EPROTO;
	cnt = json_array_size(arr);
	if (!cnt)
		return 0;
	kvs = fg_arena_alloc(a, cnt * sizeof(*kvs));
	if (!kvs)
		return -ENOMEM;
	for (size_t i = 0; i < cnt; i++) {
		int r = fg_parse_kv(a, json_array_get(arr, i), &kvs[i]);

		if (r)
			return r;
	}
	*out = kvs;
	*n = cnt;
	return 0;
}

/*
 * fg_grpc_errno - a gRPC status code (what the gateway reports) as a
 * negative errno. OUT_OF_RANGE is both "compacted" and "future revision";
 * only the message tells them apart.
 */
static int fg_grpc_errno(int64_t code, const char *msg)
{
	/* Too big: etcd's own --max-request-bytes check answers
	 * INVALID_ARGUMENT "etcdserver: request is too large", gRPC's
	 * message limit RESOURCE_EXHAUSTED "... larger than max". Callers
	 * must tell either from bad input and from a full store (NOSPACE,
	 * also RESOURCE_EXHAUSTED). */
	if ((code == 3 || code == 8) && msg &&
	    (strstr(msg, "request is too large") ||
	     strstr(msg, "larger than max")))
		return -EMSGSIZE;
	switch (code) {
	case 1:  return -ECANCELED;	/* CANCELLED */
	case 3:  return -EINVAL;	/* INVALID_ARGUMENT */
	case 4:  return -ETIMEDOUT;	/* DEADLINE_EXCEEDED */
	case 5:  return -ENOENT;	/* NOT_FOUND */
	case 6:  return -EEXIST;	/* ALREADY_EXISTS */
	case 7:  return -EACCES;	/* PERMISSION_DENIED */
	case 8:  return -ENOSPC;	/* RESOURCE_EXHAUSTED */
	case 9:  return -EPERM;		/* FAILED_PRECONDITION */
	case 10: return -ECANCELED;	/* ABORTED */
	case 11:			/* OUT_OF_RANGE */
		return msg && strstr(msg, "compacted") ? -ESTALE : -ERANGE;
	case 12: return -EOPNOTSUPP;	/* UNIMPLEMENTED */
	case 14: return -EAGAIN;	/* UNAVAILABLE */
	case 16: return -EACCES;	/* UNAUTHENTICATED */
	default: return -EIO;		/* UNKNOWN, INTERNAL, DATA_LOSS */
	}
}

/*
 * fg_parse_grpc_error - an error object from the gateway: unary calls send
 * {"error": "...", "message": "...", "code": N}, streams send
 * {"error": {"grpc_code": N, "message": "..."}}. Returns the errno (0 if
 * root is not an error) and points *msg into root.
 */
static int fg_parse_grpc_error(const json_t *root, const char **msg)
{
	const json_t *e = json_object_get(root, "error");
	const json_t *m;
	int64_t code = 2;

	*msg = "";
	if (!e)
		return 0;
	if (json_is_object(e)) {
		m = json_object_get(e, "message");
		fg_json_i64(e, "grpc_code", &code);
	} else {
		m = json_object_get(root, "message");
		if (!m)
			m = e;
		fg_json_i64(root, "code", &code);
	}
	if (json_is_string(m))
		*msg = json_string_value(m);
	return fg_grpc_errno(code, *msg);
}

/* ------------------------------------------------------------- types */

struct fg_xfer;
struct fg_req;

enum fg_xfer_kind {
	FG_XFER_REQ,
	FG_XFER_WATCH,
};

/*
 * One HTTP transfer. The easy handle lives as long as the xfer and is
 * re-added for retries and reconnects.
 */
struct fg_xfer {
	struct fg_etcd *c;
	enum fg_xfer_kind kind;
	CURL *easy;
	char *body;			/* JSON request body */
	struct fg_buf resp;		/* response; a watch's partial line */
	size_t ep;			/* endpoint of this attempt */
	bool in_multi;			/* added to c->multi */
	bool on_done;			/* queued on c->done */
	bool too_big;			/* aborted: response over the limit */
	bool bad_line;			/* aborted: watch line not JSON */
	bool oom;			/* aborted: out of memory */
	CURLcode code;			/* result once done */
	TAILQ_ENTRY(fg_xfer) done_link;
	char errbuf[CURL_ERROR_SIZE];
};

enum fg_req_kind {
	FG_REQ_OP,
	FG_REQ_TXN,
	FG_REQ_COMPACT,
	FG_REQ_GRANT,
	FG_REQ_REVOKE,
	FG_REQ_KEEPALIVE,
	FG_REQ_STATUS,
	FG_REQ_DEFRAG,
};

struct fg_req {
	struct fg_xfer x;		/* first: container_of by cast */
	TAILQ_ENTRY(fg_req) link;	/* c->reqs */
	enum fg_req_kind kind;
	enum fg_etcd_op_type op;	/* FG_REQ_OP */
	const char *path;
	bool idempotent;		/* safe to resend elsewhere */
	size_t tried;			/* endpoints tried */
	uint64_t deadline;		/* fg_now_ms() */
	fg_etcd_cb cb;
	void *arg;
	struct fg_etcd_keepalive *ka;	/* FG_REQ_KEEPALIVE */
	struct event *refuse;		/* refused locally: completes later */
	int refuse_err;
	char refuse_msg[192];
};

struct fg_etcd_watch {
	struct fg_xfer x;		/* first: container_of by cast */
	struct fg_etcd *c;
	TAILQ_ENTRY(fg_etcd_watch) link;
	fg_etcd_watch_cb cb;
	void *arg;
	char *create_tmpl;		/* key/range_end/options, no revision */
	int64_t next_rev;		/* resume point; 0: "now" */
	struct event *retry;		/* reconnect backoff */
	uint64_t backoff_ms;
	uint64_t created_at;		/* fg_now_ms() of the last "created" */
	json_t **pending;		/* parsed lines not yet dispatched */
	size_t n_pending, head_pending, cap_pending;
	bool established;		/* got "created" on this connection */
	bool outage_reported;		/* one non-terminal error per outage */
	bool stopped;			/* terminal: no reconnects */
	bool dead;			/* cancelled: reap */
};

struct fg_etcd_keepalive {
	struct fg_etcd *c;
	TAILQ_ENTRY(fg_etcd_keepalive) link;
	int64_t id;
	int64_t ttl_s;
	uint64_t last_ok;		/* fg_now_ms() of the last ack */
	struct event *timer;
	struct fg_req *req;		/* in flight */
	fg_etcd_lease_lost_cb cb;
	void *arg;
	bool quiet;			/* revoked by us: stop, say nothing */
	bool lost;
	bool dead;			/* stopped: reap */
};

/* A socket curl asked us to watch. */
struct fg_sock {
	struct fg_etcd *c;
	curl_socket_t fd;
	struct event *ev;
	TAILQ_ENTRY(fg_sock) link;
};

struct fg_etcd {
	struct event_base *base;
	CURLM *multi;
	struct event *timer;		/* curl's timeout */
	struct curl_slist *hdrs;
	char **ep;			/* as given, for messages */
	char **url;			/* http(s) base of each endpoint */
	char **upath;			/* Unix socket path, or NULL */
	size_t n_ep;
	size_t cur;			/* preferred endpoint */
	int timeout_ms;
	size_t request_max;		/* 0: no client-side check */
	char *ca_file, *cert_file, *key_file;	/* TLS; NULL: none */
	uint32_t rnd;			/* backoff jitter */
	int depth;			/* fg_enter() nesting */
	bool freeing;			/* fg_etcd_free() inside a callback */
	TAILQ_HEAD(, fg_req) reqs;
	TAILQ_HEAD(, fg_etcd_watch) watches;
	TAILQ_HEAD(, fg_etcd_keepalive) kas;
	TAILQ_HEAD(, fg_xfer) done;
	TAILQ_HEAD(, fg_sock) socks;
};

static void fg_destroy(struct fg_etcd *c);
static void fg_watch_connect(struct fg_etcd_watch *w);
static void fg_watch_free(struct fg_etcd_watch *w);
static void fg_ka_free(struct fg_etcd_keepalive *k);
static void fg_ka_done(struct fg_etcd_keepalive *k, int err,
		       const char *msg, const json_t *root);

/* ------------------------------------------------- entry bookkeeping */

/* fg_enter - mark that we run on behalf of the event loop and may call
 * user code. */
static void fg_enter(struct fg_etcd *c)
{
	c->depth++;
}

/* fg_reap - free watches and keepalives killed during callbacks. Only at
 * depth 0, when nobody iterates over them. */
static void fg_reap(struct fg_etcd *c)
{
	struct fg_etcd_watch *w, *wn;
	struct fg_etcd_keepalive *k, *kn;

	for (w = TAILQ_FIRST(&c->watches); w; w = wn) {
		wn = TAILQ_NEXT(w, link);
		if (w->dead)
			fg_watch_free(w);
	}
	for (k = TAILQ_FIRST(&c->kas); k; k = kn) {
		kn = TAILQ_NEXT(k, link);
		if (k->dead)
			fg_ka_free(k);
	}
}

/* fg_leave - the end of an entry: at depth 0 carry out what callbacks
 * asked for. c must not be touched after this. */
static void fg_leave(struct fg_etcd *c)
{
	if (--c->depth > 0)
		return;
	if (c->freeing)
		fg_destroy(c);
	else
		fg_reap(c);
}

/* fg_live - may user callbacks still run? */
static bool fg_live(const struct fg_etcd *c)
{
	return !c->freeing;
}

/* ----------------------------------------------------------- transfers */

/* fg_write_cb - curl's body callback. Must not call back into curl or user
 * code (see the top of the file). Returning less than given aborts. */
static size_t fg_write_cb(char *data, size_t size, size_t nmemb, void *p);

/* fg_sockopt_cb - TCP keepalive probes tuned for watch streams, which
 * otherwise cannot tell a quiet etcd from a vanished one. */
static int fg_sockopt_cb(void *p, curl_socket_t fd, curlsocktype purpose)
{
	int cnt = FG_ETCD_TCP_KEEPCNT;

	(void)p;
	if (purpose == CURLSOCKTYPE_IPCXN)
		setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
	return CURL_SOCKOPT_OK;
}

/*
 * fg_xfer_init - create the easy handle with everything that does not
 * change between attempts. Returns 0 or -ENOMEM.
 */
static int fg_xfer_init(struct fg_etcd *c, struct fg_xfer *x,
			enum fg_xfer_kind kind, char *body)
{
	x->c = c;
	x->kind = kind;
	x->body = body;
	x->easy = curl_easy_init();
	if (!x->easy)
		return -ENOMEM;
	curl_easy_setopt(x->easy, CURLOPT_PRIVATE, x);
	curl_easy_setopt(x->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(x->easy, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(x->easy, CURLOPT_HTTPHEADER, c->hdrs);
	curl_easy_setopt(x->easy, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(x->easy, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	curl_easy_setopt(x->easy, CURLOPT_WRITEFUNCTION, fg_write_cb);
	curl_easy_setopt(x->easy, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(x->easy, CURLOPT_ERRORBUFFER, x->errbuf);
	if (c->ca_file)
		curl_easy_setopt(x->easy, CURLOPT_CAINFO, c->ca_file);
	if (c->cert_file) {
		curl_easy_setopt(x->easy, CURLOPT_SSLCERT, c->cert_file);
		curl_easy_setopt(x->easy, CURLOPT_SSLKEY, c->key_file);
	}
	curl_easy_setopt(x->easy, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(x->easy, CURLOPT_TCP_KEEPIDLE,
			 (long)FG_ETCD_TCP_KEEPIDLE);
	curl_easy_setopt(x->easy, CURLOPT_TCP_KEEPINTVL,
			 (long)FG_ETCD_TCP_KEEPINTVL);
	if (kind == FG_XFER_WATCH) {
		curl_easy_setopt(x->easy, CURLOPT_SOCKOPTFUNCTION,
				 fg_sockopt_cb);
		/* A stream's connection is its own; never hand a
		 * half-read one to a unary request. */
		curl_easy_setopt(x->easy, CURLOPT_FORBID_REUSE, 1L);
	}
	return 0;
}

/*
 * fg_xfer_add - start an attempt against endpoint x->ep with the given
 * total and connect timeouts (0: none). Returns 0 or -ENOMEM.
 */
static int fg_xfer_add(struct fg_xfer *x, const char *path,
		       long timeout_ms, long connect_ms)
{
	struct fg_etcd *c = x->c;
	char url[512];

	snprintf(url, sizeof(url), "%s%s", c->url[x->ep], path);
	curl_easy_setopt(x->easy, CURLOPT_URL, url);
	/* Set (or cleared) on every attempt: one handle may fail over
	 * between a socket and a TCP endpoint. */
	curl_easy_setopt(x->easy, CURLOPT_UNIX_SOCKET_PATH, c->upath[x->ep]);
	curl_easy_setopt(x->easy, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(x->easy, CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
	fg_buf_free(&x->resp);
	x->too_big = x->bad_line = x->oom = false;
	x->errbuf[0] = '\0';
	x->code = CURLE_OK;
	if (curl_multi_add_handle(c->multi, x->easy) != CURLM_OK)
		return -ENOMEM;
	x->in_multi = true;
	return 0;
}

/* fg_xfer_detach - take x out of the multi handle and the done queue.
 * Never from inside a curl callback. */
static void fg_xfer_detach(struct fg_xfer *x)
{
	struct fg_etcd *c = x->c;

	if (x->on_done) {
		TAILQ_REMOVE(&c->done, x, done_link);
		x->on_done = false;
	}
	if (x->in_multi) {
		curl_multi_remove_handle(c->multi, x->easy);
		x->in_multi = false;
	}
}

/* fg_xfer_release - detach and free what x owns (not x itself). */
static void fg_xfer_release(struct fg_xfer *x)
{
	if (!x->c)
		return;
	fg_xfer_detach(x);
	if (x->easy)
		curl_easy_cleanup(x->easy);
	x->easy = NULL;
	free(x->body);
	x->body = NULL;
	fg_buf_free(&x->resp);
}

/*
 * fg_transport_errno - a curl failure as the errno the header promises,
 * with the reason in msg.
 */
static int fg_transport_errno(const struct fg_xfer *x, char *msg,
			      size_t msglen)
{
	const char *why = x->errbuf[0] ? x->errbuf :
			  curl_easy_strerror(x->code);

	snprintf(msg, msglen, "%s: %s", x->c->ep[x->ep], why);
	if (x->too_big) {
		snprintf(msg, msglen, "%s: response larger than %u bytes",
			 x->c->ep[x->ep], FG_ETCD_BODY_MAX);
		return -EMSGSIZE;
	}
	if (x->oom)
		return -ENOMEM;
	switch (x->code) {
	case CURLE_COULDNT_CONNECT:
		return -ECONNREFUSED;
	case CURLE_OPERATION_TIMEDOUT:
		return -ETIMEDOUT;
	case CURLE_OUT_OF_MEMORY:
		return -ENOMEM;
	default:
		return -EIO;
	}
}

/* fg_xfer_unsent - true if the attempt failed before the request left
 * (curl never reached the transfer phase), so resending cannot repeat it. */
static bool fg_xfer_unsent(const struct fg_xfer *x)
{
	curl_off_t pre = 0;

	switch (x->code) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
		return true;
	case CURLE_OPERATION_TIMEDOUT:
		curl_easy_getinfo(x->easy, CURLINFO_PRETRANSFER_TIME_T, &pre);
		return pre == 0;
	default:
		return false;
	}
}

/* ------------------------------------------------- curl <-> libevent */

/* fg_on_timer - curl's timeout fired. Event-loop entry. */
static void fg_on_timer(evutil_socket_t fd, short what, void *p);
/* fg_on_sock - a socket curl watches is ready. Event-loop entry. */
static void fg_on_sock(evutil_socket_t fd, short what, void *p);

/* fg_curl_timer_cb - curl asks for a (re)armed or cancelled timeout.
 * Called from inside curl: only touches our timer. */
static int fg_curl_timer_cb(CURLM *multi, long timeout_ms, void *p)
{
	struct fg_etcd *c = p;
	struct timeval tv;

	(void)multi;
	if (timeout_ms < 0) {
		evtimer_del(c->timer);
		return 0;
	}
	tv = fg_ms_tv((uint64_t)timeout_ms);
	return evtimer_add(c->timer, &tv) ? -1 : 0;
}

/* fg_curl_sock_cb - curl asks us to watch s for `what`, or to forget it.
 * Called from inside curl: only touches our socket events. */
static int fg_curl_sock_cb(CURL *easy, curl_socket_t s, int what, void *p,
			   void *sockp)
{
	struct fg_etcd *c = p;
	struct fg_sock *fs = sockp;
	short kind = EV_PERSIST;

	(void)easy;
	if (what == CURL_POLL_REMOVE) {
		if (fs) {
			curl_multi_assign(c->multi, s, NULL);
			event_free(fs->ev);
			TAILQ_REMOVE(&c->socks, fs, link);
			free(fs);
		}
		return 0;
	}
	if (!fs) {
		fs = calloc(1, sizeof(*fs));
		if (!fs)
			return -1;
		fs->c = c;
		fs->fd = s;
		TAILQ_INSERT_TAIL(&c->socks, fs, link);
		curl_multi_assign(c->multi, s, fs);
	} else {
		event_free(fs->ev);
		fs->ev = NULL;
	}
	if (what & CURL_POLL_IN)
		kind |= EV_READ;
	if (what & CURL_POLL_OUT)
		kind |= EV_WRITE;
	fs->ev = event_new(c->base, s, kind, fg_on_sock, fs);
	if (!fs->ev || event_add(fs->ev, NULL))
		return -1;
	return 0;
}

static void fg_process(struct fg_etcd *c);

static void fg_on_timer(evutil_socket_t fd, short what, void *p)
{
	struct fg_etcd *c = p;
	int running;

	(void)fd;
	(void)what;
	fg_enter(c);
	curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	fg_process(c);
	fg_leave(c);
}

static void fg_on_sock(evutil_socket_t fd, short what, void *p)
{
	struct fg_sock *fs = p;
	struct fg_etcd *c = fs->c;	/* fs may go during socket_action */
	int action = 0, running;

	if (what & EV_READ)
		action |= CURL_CSELECT_IN;
	if (what & EV_WRITE)
		action |= CURL_CSELECT_OUT;
	fg_enter(c);
	curl_multi_socket_action(c->multi, fd, action, &running);
	fg_process(c);
	fg_leave(c);
}

/* ------------------------------------------------------ unary requests */

/* fg_req_free - unlink and free r (its callback is not called). */
static void fg_req_free(struct fg_req *r)
{
	if (!r)
		return;
	TAILQ_REMOVE(&r->x.c->reqs, r, link);
	if (r->refuse)
		event_free(r->refuse);
	fg_xfer_release(&r->x);
	free(r);
}

/*
 * fg_req_attempt - send r to endpoint r->x.ep with what is left of its
 * timeout, giving the connect phase an even share of it per endpoint not
 * yet tried. Returns 0, -ETIMEDOUT (nothing left) or -ENOMEM.
 */
static int fg_req_attempt(struct fg_req *r)
{
	uint64_t now = fg_now_ms(), left, conn;
	size_t untried = r->x.c->n_ep - r->tried;

	if (now >= r->deadline)
		return -ETIMEDOUT;
	left = r->deadline - now;
	conn = untried > 1 ? left / untried : left;
	if (conn < FG_ETCD_CONNECT_MIN_MS)
		conn = left < FG_ETCD_CONNECT_MIN_MS ? left :
						       FG_ETCD_CONNECT_MIN_MS;
	r->tried++;
	return fg_xfer_add(&r->x, r->path, (long)left, (long)conn);
}

/* fg_parse_op_result - one RangeResponse / PutResponse /
 * DeleteRangeResponse body into o. */
static int fg_parse_op_result(struct fg_arena *a, enum fg_etcd_op_type t,
			      const json_t *j, struct fg_etcd_op_result *o)
{
	const json_t *prev;

	memset(o, 0, sizeof(*o));
	o->type = t;
	if (!json_is_object(j))
		return -EPROTO;
	switch (t) {
	case FG_ETCD_OP_RANGE:
		o->more = fg_json_bool(j, "more");
		if (fg_json_i64(j, "count", &o->count))
			return -EPROTO;
		return fg_parse_kvs(a, json_object_get(j, "kvs"), &o->kvs,
				    &o->n_kvs);
	case FG_ETCD_OP_PUT:
		prev = json_object_get(j, "prev_kv");
		if (prev) {
			struct fg_etcd_kv *kv = fg_arena_alloc(a, sizeof(*kv));

			if (!kv)
				return -ENOMEM;
			o->kvs = kv;
			o->n_kvs = 1;
			return fg_parse_kv(a, prev, kv);
		}
		return 0;
	case FG_ETCD_OP_DELETE:
		if (fg_json_i64(j, "deleted", &o->count))
			return -EPROTO;
		return fg_parse_kvs(a, json_object_get(j, "prev_kvs"), &o->kvs,
				    &o->n_kvs);
	}
	return -EPROTO;
}

/* fg_parse_txn - a TxnResponse's branch into res (arena memory). */
static int fg_parse_txn(struct fg_arena *a, const json_t *root,
			struct fg_etcd_result *res)
{
	static const struct {
		const char *name;
		enum fg_etcd_op_type type;
	} kinds[] = {
		{ "response_range", FG_ETCD_OP_RANGE },
		{ "response_put", FG_ETCD_OP_PUT },
		{ "response_delete_range", FG_ETCD_OP_DELETE },
	};
	const json_t *arr = json_object_get(root, "responses");
	struct fg_etcd_op_result *ops;
	struct fg_etcd_kv *all;
	size_t n, total = 0;

	res->succeeded = fg_json_bool(root, "succeeded");
	if (!arr)
		return 0;
	if (!json_is_array(arr))
		return -EPROTO;
	n = json_array_size(arr);
	if (!n)
		return 0;
	ops = fg_arena_alloc(a, n * sizeof(*ops));
	if (!ops)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const json_t *one = json_array_get(arr, i);
		size_t k;
		int r = -EPROTO;

		for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
			const json_t *body;

			body = json_object_get(one, kinds[k].name);
			if (body) {
				r = fg_parse_op_result(a, kinds[k].type, body,
						       &ops[i]);
				break;
			}
		}
		if (r)
			return r;
		if (ops[i].type == FG_ETCD_OP_RANGE)
			total += ops[i].n_kvs;
	}
	res->ops = ops;
	res->n_ops = n;
	if (!total)
		return 0;
	all = fg_arena_alloc(a, total * sizeof(*all));
	if (!all)
		return -ENOMEM;
	/* A range that found nothing has no kvs array to copy from. */
	for (size_t i = 0; i < n; i++)
		if (ops[i].type == FG_ETCD_OP_RANGE && ops[i].n_kvs) {
			memcpy(all + res->n_kvs, ops[i].kvs,
			       ops[i].n_kvs * sizeof(*all));
			res->n_kvs += ops[i].n_kvs;
		}
	res->kvs = all;
	return 0;
}

/* fg_parse_result - a successful response body into res for r's kind. */
static int fg_parse_result(struct fg_arena *a, const struct fg_req *r,
			   const json_t *root, struct fg_etcd_result *res)
{
	const json_t *hdr = json_object_get(root, "header");
	struct fg_etcd_op_result o;
	int rc;

	if (fg_json_i64(hdr, "revision", &res->revision) ||
	    fg_json_u64(hdr, "cluster_id", &res->cluster_id) ||
	    fg_json_u64(hdr, "member_id", &res->member_id))
		return -EPROTO;
	switch (r->kind) {
	case FG_REQ_OP:
		rc = fg_parse_op_result(a, r->op, root, &o);
		res->kvs = o.kvs;
		res->n_kvs = o.n_kvs;
		res->count = o.count;
		res->more = o.more;
		return rc;
	case FG_REQ_TXN:
		return fg_parse_txn(a, root, res);
	case FG_REQ_GRANT:
		if (fg_json_i64(root, "ID", &res->lease_id) ||
		    fg_json_i64(root, "TTL", &res->lease_ttl))
			return -EPROTO;
		return 0;
	case FG_REQ_STATUS:
		/* StatusResponse's fields are camelCase in etcd's proto. */
		if (fg_json_i64(root, "dbSize", &res->db_size) ||
		    fg_json_i64(root, "dbSizeInUse", &res->db_size_in_use) ||
		    fg_json_u64(root, "leader", &res->leader))
			return -EPROTO;
		return 0;
	default:
		return 0;
	}
}

/*
 * fg_req_complete - r is finished: hand the outcome to its owner and free
 * it. root is the response body when err == 0.
 */
static void fg_req_complete(struct fg_req *r, int err, const char *msg,
			    const json_t *root)
{
	struct fg_etcd_result res = { .err = err, .message = msg };
	struct fg_arena a = { 0 };
	struct fg_etcd *c = r->x.c;
	fg_etcd_cb cb = r->cb;
	void *arg = r->arg;

	/* Unlinked before any user code runs, so fg_etcd_free() from the
	 * callback cannot see it. */
	TAILQ_REMOVE(&c->reqs, r, link);
	if (r->refuse)
		event_free(r->refuse);
	r->refuse = NULL;
	if (r->kind == FG_REQ_KEEPALIVE) {
		struct fg_etcd_keepalive *k = r->ka;

		k->req = NULL;
		fg_xfer_release(&r->x);
		free(r);
		fg_ka_done(k, err, msg, root);
		return;
	}
	if (!err) {
		err = fg_parse_result(&a, r, root, &res);
		if (err) {
			memset(&res, 0, sizeof(res));
			res.err = err == -ENOMEM ? -ENOMEM : -EPROTO;
			res.message = "malformed response from etcd";
		}
	}
	if (!res.message)
		res.message = "";
	fg_xfer_release(&r->x);
	free(r);
	if (fg_live(c))
		cb(arg, &res);
	fg_arena_free(&a);
}

/*
 * fg_req_finished - r's transfer ended: complete it, or send it to the next
 * endpoint when the connection could not be made (or, for reads, broke)
 * and time is left.
 */
static void fg_req_finished(struct fg_req *r)
{
	struct fg_etcd *c = r->x.c;
	struct fg_xfer *x = &r->x;
	char msg[CURL_ERROR_SIZE + 160];
	const char *emsg;
	json_t *root;
	long http = 0;
	int err;

	if (x->code != CURLE_OK) {
		bool unsent = fg_xfer_unsent(x);
		bool again = unsent ||
			     (r->idempotent && !x->too_big && !x->oom &&
			      x->code != CURLE_OPERATION_TIMEDOUT);

		err = fg_transport_errno(x, msg, sizeof(msg));
		/* The endpoint refused us: prefer the next one from now on. */
		if (unsent && c->cur == x->ep)
			c->cur = (x->ep + 1) % c->n_ep;
		if (again && r->tried < c->n_ep) {
			x->ep = (x->ep + 1) % c->n_ep;
			if (!fg_req_attempt(r))
				return;
		}
		fg_req_complete(r, err, msg, NULL);
		return;
	}
	curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &http);
	/* The answer came from x->ep: keep talking to it. */
	c->cur = x->ep;
	root = json_loadb(x->resp.p ? x->resp.p : "", x->resp.len, 0, NULL);
	if (!json_is_object(root)) {
		snprintf(msg, sizeof(msg), "%s: HTTP %ld, not etcd's JSON",
			 c->ep[x->ep], http);
		json_decref(root);
		fg_req_complete(r, -EPROTO, msg, NULL);
		return;
	}
	err = fg_parse_grpc_error(root, &emsg);
	if (!err && r->kind == FG_REQ_KEEPALIVE) {
		/* A stream method: the answer is wrapped in "result", an
		 * error in "error" (checked above). */
		json_t *in = json_object_get(root, "result");

		if (in) {
			json_incref(in);
			json_decref(root);
			root = in;
		}
	}
	if (!err && http != 200)
		err = -EPROTO;
	if (err) {
		snprintf(msg, sizeof(msg), "%s", *emsg ? emsg : "HTTP error");
		json_decref(root);
		fg_req_complete(r, err, msg, NULL);
		return;
	}
	fg_req_complete(r, 0, "", root);
	json_decref(root);
}

/*
 * fg_req_submit - queue a request with JSON body `body` (consumed) to
 * path. Returns the request or NULL (body freed) on allocation failure.
 */
static struct fg_req *fg_req_submit(struct fg_etcd *c, enum fg_req_kind kind,
				    const char *path, json_t *body,
				    bool idempotent, uint64_t timeout_ms,
				    fg_etcd_cb cb, void *arg)
{
	struct fg_req *r;
	char *s = json_dumps(body, JSON_COMPACT);

	json_decref(body);
	if (!s)
		return NULL;
	r = calloc(1, sizeof(*r));
	if (!r) {
		free(s);
		return NULL;
	}
	if (fg_xfer_init(c, &r->x, FG_XFER_REQ, s)) {
		curl_easy_cleanup(r->x.easy);
		free(s);
		free(r);
		return NULL;
	}
	r->kind = kind;
	r->path = path;
	r->idempotent = idempotent;
	r->cb = cb;
	r->arg = arg;
	r->deadline = fg_now_ms() + timeout_ms;
	r->x.ep = c->cur;
	TAILQ_INSERT_TAIL(&c->reqs, r, link);
	if (fg_req_attempt(r)) {
		fg_req_free(r);
		return NULL;
	}
	return r;
}

/* fg_req_on_refuse - deliver a locally refused request's error, later
 * as the callback contract wants. Event-loop entry. */
static void fg_req_on_refuse(evutil_socket_t fd, short what, void *p)
{
	struct fg_req *r = p;
	struct fg_etcd *c = r->x.c;
	char msg[sizeof(r->refuse_msg)];

	(void)fd;
	(void)what;
	/* r (and its message) is freed before the callback runs. */
	snprintf(msg, sizeof(msg), "%s", r->refuse_msg);
	fg_enter(c);
	fg_req_complete(r, r->refuse_err, msg, NULL);
	fg_leave(c);
}

/*
 * fg_req_refuse - answer a request that is never sent with err and msg,
 * from the event loop. Returns 0 (cb will be called) or -ENOMEM.
 */
static int fg_req_refuse(struct fg_etcd *c, enum fg_req_kind kind,
			 fg_etcd_cb cb, void *arg, int err, const char *msg)
{
	struct fg_req *r = calloc(1, sizeof(*r));
	struct timeval now = { 0, 0 };

	if (!r)
		return -ENOMEM;
	r->x.c = c;
	r->x.kind = FG_XFER_REQ;
	r->kind = kind;
	r->cb = cb;
	r->arg = arg;
	r->refuse_err = err;
	snprintf(r->refuse_msg, sizeof(r->refuse_msg), "%s", msg);
	r->refuse = evtimer_new(c->base, fg_req_on_refuse, r);
	if (!r->refuse || evtimer_add(r->refuse, &now)) {
		if (r->refuse)
			event_free(r->refuse);
		free(r);
		return -ENOMEM;
	}
	TAILQ_INSERT_TAIL(&c->reqs, r, link);
	return 0;
}

/* fg_op_bytes - what an op adds to a request's size, as etcd counts it
 * (its keys and values) plus FG_ETCD_OP_OVERHEAD. */
static size_t fg_op_bytes(const struct fg_etcd_op *op)
{
	size_t n = FG_ETCD_OP_OVERHEAD + (op->key ? strlen(op->key) : 0);

	if (op->type == FG_ETCD_OP_PUT)
		n += op->value_len;
	return n;
}

/*
 * fg_too_big - true (and msg set) when a request of `bytes` is over the
 * client's limit (fg_etcd_set_request_max).
 */
static bool fg_too_big(const struct fg_etcd *c, size_t bytes, char *msg,
		       size_t msglen)
{
	if (!c->request_max || bytes <= c->request_max)
		return false;
	snprintf(msg, msglen, "request of %zu bytes is over the store's limit "
		 "of %zu bytes (%.1f MiB)", bytes, c->request_max,
		 (double)c->request_max / (1024.0 * 1024.0));
	return true;
}

/* fg_op_json - the JSON of a RangeRequest / PutRequest /
 * DeleteRangeRequest. NULL on bad op (errno-less: the caller says
 * -EINVAL) or allocation failure (*oom set). */
static json_t *fg_op_json(const struct fg_etcd_op *op, bool *oom)
{
	json_t *j;
	int r = 0;

	*oom = false;
	if (!op || !op->key || (!*op->key && !op->prefix))
		return NULL;
	j = json_object();
	if (!j) {
		*oom = true;
		return NULL;
	}
	switch (op->type) {
	case FG_ETCD_OP_RANGE:
		if (op->revision < 0 || op->limit < 0)
			goto bad;
		r = fg_json_set_key_range(j, op->key, op->prefix);
		if (!r && op->revision)
			r = fg_json_set_i64(j, "revision", op->revision);
		if (!r && op->limit)
			r = fg_json_set_i64(j, "limit", op->limit);
		if (!r && op->keys_only)
			r = json_object_set_new(j, "keys_only", json_true());
		if (!r && op->count_only)
			r = json_object_set_new(j, "count_only", json_true());
		break;
	case FG_ETCD_OP_PUT:
		if (op->prefix || (!op->value && op->value_len) ||
		    op->lease < 0)
			goto bad;
		r = fg_json_set_b64(j, "key", op->key, strlen(op->key));
		if (!r)
			r = fg_json_set_b64(j, "value",
					    op->value ? op->value : "",
					    op->value_len);
		if (!r && op->lease)
			r = fg_json_set_i64(j, "lease", op->lease);
		if (!r && op->prev_kv)
			r = json_object_set_new(j, "prev_kv", json_true());
		break;
	case FG_ETCD_OP_DELETE:
		r = fg_json_set_key_range(j, op->key, op->prefix);
		if (!r && op->prev_kv)
			r = json_object_set_new(j, "prev_kv", json_true());
		break;
	default:
		goto bad;
	}
	if (r) {
		json_decref(j);
		*oom = true;
		return NULL;
	}
	return j;
bad:
	json_decref(j);
	return NULL;
}

static const char *const fg_op_path[] = {
	[FG_ETCD_OP_RANGE] = "/v3/kv/range",
	[FG_ETCD_OP_PUT] = "/v3/kv/put",
	[FG_ETCD_OP_DELETE] = "/v3/kv/deleterange",
};

/*
 * fg_etcd_do - see the header. Reads are idempotent and may be resent to
 * another endpoint after a broken connection; writes may not.
 */
int fg_etcd_do(struct fg_etcd *c, const struct fg_etcd_op *op,
	       fg_etcd_cb cb, void *arg)
{
	struct fg_req *r;
	json_t *j;
	bool oom;

	if (!c || !cb || c->freeing)
		return -EINVAL;
	j = fg_op_json(op, &oom);
	if (!j)
		return oom ? -ENOMEM : -EINVAL;
	if (op->type == FG_ETCD_OP_PUT) {
		char msg[160];

		if (fg_too_big(c, fg_op_bytes(op), msg, sizeof(msg))) {
			json_decref(j);
			return fg_req_refuse(c, FG_REQ_OP, cb, arg, -EMSGSIZE,
					     msg);
		}
	}
	r = fg_req_submit(c, FG_REQ_OP, fg_op_path[op->type], j,
			  op->type == FG_ETCD_OP_RANGE, (uint64_t)c->timeout_ms,
			  cb, arg);
	if (!r)
		return -ENOMEM;
	r->op = op->type;
	return 0;
}

/* fg_etcd_range - see the header. */
int fg_etcd_range(struct fg_etcd *c, const char *key, bool prefix,
		  fg_etcd_cb cb, void *arg)
{
	struct fg_etcd_op op = {
		.type = FG_ETCD_OP_RANGE, .key = key, .prefix = prefix,
	};

	return fg_etcd_do(c, &op, cb, arg);
}

/* fg_etcd_put - see the header. */
int fg_etcd_put(struct fg_etcd *c, const char *key, const void *value,
		size_t value_len, int64_t lease, fg_etcd_cb cb, void *arg)
{
	struct fg_etcd_op op = {
		.type = FG_ETCD_OP_PUT, .key = key, .value = value,
		.value_len = value_len, .lease = lease,
	};

	return fg_etcd_do(c, &op, cb, arg);
}

/* fg_etcd_delete - see the header. */
int fg_etcd_delete(struct fg_etcd *c, const char *key, bool prefix,
		   fg_etcd_cb cb, void *arg)
{
	struct fg_etcd_op op = {
		.type = FG_ETCD_OP_DELETE, .key = key, .prefix = prefix,
	};

	return fg_etcd_do(c, &op, cb, arg);
}

/* fg_cmp_json - one Compare; NULL with *oom clear on a bad compare. */
static json_t *fg_cmp_json(const struct fg_etcd_cmp *cmp, bool *oom)
{
	static const char *const target[] = {
		[FG_ETCD_CMP_VALUE] = "VALUE",
		[FG_ETCD_CMP_VERSION] = "VERSION",
		[FG_ETCD_CMP_CREATE_REVISION] = "CREATE",
		[FG_ETCD_CMP_MOD_REVISION] = "MOD",
	};
	static const char *const field[] = {
		[FG_ETCD_CMP_VERSION] = "version",
		[FG_ETCD_CMP_CREATE_REVISION] = "create_revision",
		[FG_ETCD_CMP_MOD_REVISION] = "mod_revision",
	};
	static const char *const result[] = {
		[FG_ETCD_CMP_EQUAL] = "EQUAL",
		[FG_ETCD_CMP_NOT_EQUAL] = "NOT_EQUAL",
		[FG_ETCD_CMP_GREATER] = "GREATER",
		[FG_ETCD_CMP_LESS] = "LESS",
	};
	json_t *j;
	int r;

	*oom = false;
	if (!cmp->key || !*cmp->key ||
	    (unsigned)cmp->target > FG_ETCD_CMP_MOD_REVISION ||
	    (unsigned)cmp->result > FG_ETCD_CMP_LESS ||
	    (cmp->target == FG_ETCD_CMP_VALUE && !cmp->value &&
	     cmp->value_len))
		return NULL;
	j = json_object();
	if (!j) {
		*oom = true;
		return NULL;
	}
	r = fg_json_set_b64(j, "key", cmp->key, strlen(cmp->key));
	if (!r)
		r = json_object_set_new(j, "target",
					json_string(target[cmp->target]));
	if (!r)
		r = json_object_set_new(j, "result",
					json_string(result[cmp->result]));
	if (!r && cmp->target == FG_ETCD_CMP_VALUE)
		r = fg_json_set_b64(j, "value", cmp->value ? cmp->value : "",
				    cmp->value_len);
	else if (!r)
		r = fg_json_set_i64(j, field[cmp->target], cmp->number);
	if (r) {
		json_decref(j);
		*oom = true;
		return NULL;
	}
	return j;
}

/* fg_txn_branch - a success/failure list of RequestOps into arr. Returns
 * 0, -EINVAL or -ENOMEM. */
static int fg_txn_branch(json_t *arr, const struct fg_etcd_op *ops, size_t n)
{
	static const char *const wrap[] = {
		[FG_ETCD_OP_RANGE] = "request_range",
		[FG_ETCD_OP_PUT] = "request_put",
		[FG_ETCD_OP_DELETE] = "request_delete_range",
	};

	if (n > FG_ETCD_TXN_OPS_MAX || (n && !ops))
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		bool oom;
		json_t *op = fg_op_json(&ops[i], &oom), *one;

		if (!op)
			return oom ? -ENOMEM : -EINVAL;
		one = json_object();
		if (!one || json_object_set_new(one, wrap[ops[i].type], op) ||
		    json_array_append_new(arr, one))
			return -ENOMEM;
	}
	return 0;
}

/* fg_etcd_txn - see the header. Never resent: a txn is a write. */
int fg_etcd_txn(struct fg_etcd *c,
		const struct fg_etcd_cmp *cmps, size_t n_cmps,
		const struct fg_etcd_op *success, size_t n_success,
		const struct fg_etcd_op *failure, size_t n_failure,
		fg_etcd_cb cb, void *arg)
{
	json_t *body, *ca, *sa, *fa;
	int r;

	if (!c || !cb || c->freeing || n_cmps > FG_ETCD_TXN_OPS_MAX ||
	    (n_cmps && !cmps))
		return -EINVAL;
	body = json_object();
	ca = json_array();
	sa = json_array();
	fa = json_array();
	if (!body || !ca || !sa || !fa ||
	    json_object_set(body, "compare", ca) ||
	    json_object_set(body, "success", sa) ||
	    json_object_set(body, "failure", fa)) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n_cmps; i++) {
		bool oom;
		json_t *cj = fg_cmp_json(&cmps[i], &oom);

		if (!cj) {
			r = oom ? -ENOMEM : -EINVAL;
			goto out;
		}
		if (json_array_append_new(ca, cj)) {
			r = -ENOMEM;
			goto out;
		}
	}
	r = fg_txn_branch(sa, success, n_success);
	if (!r)
		r = fg_txn_branch(fa, failure, n_failure);
	if (r)
		goto out;
	{
		size_t bytes = 0;
		char msg[160];

		for (size_t i = 0; i < n_cmps; i++)
			bytes += FG_ETCD_OP_OVERHEAD + strlen(cmps[i].key) +
				 cmps[i].value_len;
		for (size_t i = 0; i < n_success; i++)
			bytes += fg_op_bytes(&success[i]);
		for (size_t i = 0; i < n_failure; i++)
			bytes += fg_op_bytes(&failure[i]);
		if (fg_too_big(c, bytes, msg, sizeof(msg))) {
			json_decref(ca);
			json_decref(sa);
			json_decref(fa);
			json_decref(body);
			return fg_req_refuse(c, FG_REQ_TXN, cb, arg, -EMSGSIZE,
					     msg);
		}
	}
	json_decref(ca);
	json_decref(sa);
	json_decref(fa);
	return fg_req_submit(c, FG_REQ_TXN, "/v3/kv/txn", body, false,
			     (uint64_t)c->timeout_ms, cb, arg) ? 0 : -ENOMEM;
out:
	json_decref(ca);
	json_decref(sa);
	json_decref(fa);
	json_decref(body);
	return r;
}

/* fg_etcd_compact - see the header. Not resent after a broken
 * connection: a second compaction to the same revision fails with -ESTALE,
 * which would hide that the first one worked. */
int fg_etcd_compact(struct fg_etcd *c, int64_t revision, bool physical,
		    fg_etcd_cb cb, void *arg)
{
	json_t *j;

	if (!c || !cb || c->freeing || revision <= 0)
		return -EINVAL;
	j = json_object();
	if (!j || fg_json_set_i64(j, "revision", revision) ||
	    (physical && json_object_set_new(j, "physical", json_true()))) {
		json_decref(j);
		return -ENOMEM;
	}
	return fg_req_submit(c, FG_REQ_COMPACT, "/v3/kv/compaction", j, false,
			     (uint64_t)c->timeout_ms, cb, arg) ? 0 : -ENOMEM;
}

/* fg_etcd_status - see the header. A read: may fail over. */
int fg_etcd_status(struct fg_etcd *c, fg_etcd_cb cb, void *arg)
{
	json_t *j;

	if (!c || !cb || c->freeing)
		return -EINVAL;
	j = json_object();
	if (!j)
		return -ENOMEM;
	return fg_req_submit(c, FG_REQ_STATUS, "/v3/maintenance/status", j,
			     true, (uint64_t)c->timeout_ms, cb, arg) ?
	       0 : -ENOMEM;
}

/* fg_etcd_defragment - see the header. Not resent: it acts on the
 * member it reached, and a second one would only repeat the work. */
int fg_etcd_defragment(struct fg_etcd *c, fg_etcd_cb cb, void *arg)
{
	uint64_t t;
	json_t *j;

	if (!c || !cb || c->freeing)
		return -EINVAL;
	j = json_object();
	if (!j)
		return -ENOMEM;
	t = (uint64_t)c->timeout_ms;
	if (t < FG_ETCD_DEFRAG_TIMEOUT_MS)
		t = FG_ETCD_DEFRAG_TIMEOUT_MS;
	return fg_req_submit(c, FG_REQ_DEFRAG, "/v3/maintenance/defragment", j,
			     false, t, cb, arg) ? 0 : -ENOMEM;
}

/* ------------------------------------------------------------- leases */

/* fg_etcd_lease_grant - see the header. */
int fg_etcd_lease_grant(struct fg_etcd *c, int64_t ttl_s, int64_t id,
			fg_etcd_cb cb, void *arg)
{
	json_t *j;

	if (!c || !cb || c->freeing || ttl_s <= 0 || id < 0)
		return -EINVAL;
	j = json_object();
	if (!j || fg_json_set_i64(j, "TTL", ttl_s) ||
	    (id && fg_json_set_i64(j, "ID", id))) {
		json_decref(j);
		return -ENOMEM;
	}
	return fg_req_submit(c, FG_REQ_GRANT, "/v3/lease/grant", j, false,
			     (uint64_t)c->timeout_ms, cb, arg) ? 0 : -ENOMEM;
}

/* fg_ka_quiet - stop k's loop without telling its owner. */
static void fg_ka_quiet(struct fg_etcd_keepalive *k)
{
	k->quiet = true;
	evtimer_del(k->timer);
	fg_req_free(k->req);
	k->req = NULL;
}

/* fg_etcd_lease_revoke - see the header. */
int fg_etcd_lease_revoke(struct fg_etcd *c, int64_t id, fg_etcd_cb cb,
			 void *arg)
{
	struct fg_etcd_keepalive *k;
	json_t *j;

	if (!c || !cb || c->freeing || id <= 0)
		return -EINVAL;
	j = json_object();
	if (!j || fg_json_set_i64(j, "ID", id)) {
		json_decref(j);
		return -ENOMEM;
	}
	/* Not resent: a second revoke would say -ENOENT for a success. */
	if (!fg_req_submit(c, FG_REQ_REVOKE, "/v3/lease/revoke", j, false,
			   (uint64_t)c->timeout_ms, cb, arg))
		return -ENOMEM;
	/* Otherwise the loop would report the revocation as a loss. */
	TAILQ_FOREACH(k, &c->kas, link)
		if (k->id == id)
			fg_ka_quiet(k);
	return 0;
}

/* fg_ka_interval_ms - refresh at a third of the TTL, so two refreshes can
 * fail before the lease is at risk. */
static uint64_t fg_ka_interval_ms(const struct fg_etcd_keepalive *k)
{
	uint64_t ms = (uint64_t)k->ttl_s * 1000U / 3U;

	return ms < FG_ETCD_KA_MIN_MS ? FG_ETCD_KA_MIN_MS : ms;
}

/* fg_ka_arm - next refresh in ms. */
static void fg_ka_arm(struct fg_etcd_keepalive *k, uint64_t ms)
{
	struct timeval tv = fg_ms_tv(ms);

	evtimer_add(k->timer, &tv);
}

/* fg_ka_lose - the lease is gone: stop and tell the owner once. */
static void fg_ka_lose(struct fg_etcd_keepalive *k, int err)
{
	k->lost = true;
	evtimer_del(k->timer);
	if (fg_live(k->c) && !k->dead)
		k->cb(k->arg, k->id, err);
}

/*
 * fg_ka_done - a refresh finished (root: the LeaseKeepAliveResponse). A
 * TTL of 0 means etcd no longer knows the lease; a failure is retried
 * until a whole TTL has passed since the last acknowledgement.
 */
static void fg_ka_done(struct fg_etcd_keepalive *k, int err,
		       const char *msg, const json_t *root)
{
	uint64_t now = fg_now_ms();
	int64_t ttl = 0;

	(void)msg;
	if (k->dead || k->quiet || k->lost)
		return;
	if (!err && fg_json_i64(root, "TTL", &ttl))
		err = -EPROTO;
	if (!err && ttl <= 0)
		err = -ENOENT;
	if (!err) {
		k->ttl_s = ttl;
		k->last_ok = now;
		fg_ka_arm(k, fg_ka_interval_ms(k));
		return;
	}
	if (err == -ENOENT) {
		fg_ka_lose(k, -ENOENT);
		return;
	}
	if (now - k->last_ok >= (uint64_t)k->ttl_s * 1000U) {
		fg_ka_lose(k, -ETIMEDOUT);
		return;
	}
	fg_ka_arm(k, FG_ETCD_KA_RETRY_MS);
}

/* fg_ka_send - one refresh, bounded so that a hung one leaves time for a
 * retry within the TTL. */
static void fg_ka_send(struct fg_etcd_keepalive *k)
{
	struct fg_etcd *c = k->c;
	uint64_t budget = (uint64_t)k->ttl_s * 1000U / 3U;
	json_t *j = json_object();

	if (budget > (uint64_t)c->timeout_ms)
		budget = (uint64_t)c->timeout_ms;
	if (budget < FG_ETCD_KA_MIN_MS)
		budget = FG_ETCD_KA_MIN_MS;
	if (!j || fg_json_set_i64(j, "ID", k->id)) {
		json_decref(j);
		fg_ka_done(k, -ENOMEM, "out of memory", NULL);
		return;
	}
	/* Refreshing twice is harmless, so a refresh may fail over. */
	k->req = fg_req_submit(c, FG_REQ_KEEPALIVE, "/v3/lease/keepalive", j,
			       true, budget, NULL, NULL);
	if (!k->req) {
		fg_ka_done(k, -ENOMEM, "out of memory", NULL);
		return;
	}
	k->req->ka = k;
}

/* fg_ka_on_timer - time for a refresh. Event-loop entry. */
static void fg_ka_on_timer(evutil_socket_t fd, short what, void *p)
{
	struct fg_etcd_keepalive *k = p;
	struct fg_etcd *c = k->c;

	(void)fd;
	(void)what;
	fg_enter(c);
	if (!k->dead && !k->quiet && !k->lost && !k->req)
		fg_ka_send(k);
	fg_leave(c);
}

/* fg_etcd_keepalive_start - see the header. */
int fg_etcd_keepalive_start(struct fg_etcd *c, int64_t id, int64_t ttl_s,
			    fg_etcd_lease_lost_cb cb, void *arg,
			    struct fg_etcd_keepalive **out)
{
	struct fg_etcd_keepalive *k;

	if (!c || !cb || !out || c->freeing || id <= 0 || ttl_s <= 0 ||
	    ttl_s > INT32_MAX)
		return -EINVAL;
	k = calloc(1, sizeof(*k));
	if (!k)
		return -ENOMEM;
	k->timer = evtimer_new(c->base, fg_ka_on_timer, k);
	if (!k->timer) {
		free(k);
		return -ENOMEM;
	}
	k->c = c;
	k->id = id;
	k->ttl_s = ttl_s;
	k->cb = cb;
	k->arg = arg;
	k->last_ok = fg_now_ms();
	TAILQ_INSERT_TAIL(&c->kas, k, link);
	fg_ka_arm(k, fg_ka_interval_ms(k));
	*out = k;
	return 0;
}

/* fg_ka_free - unlink and free k and its refresh in flight. */
static void fg_ka_free(struct fg_etcd_keepalive *k)
{
	fg_req_free(k->req);
	event_free(k->timer);
	TAILQ_REMOVE(&k->c->kas, k, link);
	free(k);
}

/* fg_etcd_keepalive_stop - see the header. Inside a callback the handle is
 * only marked; fg_leave() frees it. */
void fg_etcd_keepalive_stop(struct fg_etcd_keepalive *k)
{
	if (!k || k->dead)
		return;
	k->dead = true;
	fg_ka_quiet(k);
	if (!k->c->depth)
		fg_ka_free(k);
}

/* ------------------------------------------------------------ watches */

/* fg_watch_pending_clear - drop parsed lines not yet dispatched. */
static void fg_watch_pending_clear(struct fg_etcd_watch *w)
{
	for (size_t i = w->head_pending; i < w->n_pending; i++)
		json_decref(w->pending[i]);
	w->n_pending = w->head_pending = 0;
}

/* fg_watch_push - queue one parsed line (from the write callback). */
static int fg_watch_push(struct fg_etcd_watch *w, json_t *j)
{
	if (w->head_pending && w->head_pending == w->n_pending)
		w->n_pending = w->head_pending = 0;
	if (w->n_pending == w->cap_pending) {
		size_t cap = w->cap_pending ? w->cap_pending * 2 : 8;
		json_t **p = realloc(w->pending, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		w->pending = p;
		w->cap_pending = cap;
	}
	w->pending[w->n_pending++] = j;
	return 0;
}

/*
 * fg_watch_split - parse every complete line of the stream buffer and
 * queue it; keep the partial tail. With `all`, the tail is a line too (the
 * gateway ends an error without a newline). Returns 0 or -EPROTO/-ENOMEM.
 */
static int fg_watch_split(struct fg_etcd_watch *w, bool all)
{
	struct fg_buf *b = &w->x.resp;
	size_t start = 0;

	if (!b->len)
		return 0;
	while (start < b->len) {
		char *nl = memchr(b->p + start, '\n', b->len - start);
		size_t end = nl ? (size_t)(nl - b->p) : b->len;
		json_t *j;

		if (!nl && !all)
			break;
		/* Blank lines are keep-alive noise at most. */
		if (strspn(b->p + start, " \t\r\n") < end - start) {
			j = json_loadb(b->p + start, end - start, 0, NULL);
			if (!json_is_object(j)) {
				json_decref(j);
				return -EPROTO;
			}
			if (fg_watch_push(w, j)) {
				json_decref(j);
				return -ENOMEM;
			}
		}
		start = nl ? end + 1 : end;
	}
	memmove(b->p, b->p + start, b->len - start);
	b->len -= start;
	b->p[b->len] = '\0';
	return 0;
}

static size_t fg_write_cb(char *data, size_t size, size_t nmemb, void *p)
{
	struct fg_xfer *x = p;
	size_t n = size * nmemb;
	int r = fg_buf_append(&x->resp, data, n, FG_ETCD_BODY_MAX);

	if (r) {
		x->too_big = r == -EMSGSIZE;
		x->oom = r == -ENOMEM;
		return 0;
	}
	if (x->kind == FG_XFER_WATCH) {
		r = fg_watch_split((struct fg_etcd_watch *)x, false);
		if (r) {
			x->bad_line = r == -EPROTO;
			x->oom = r == -ENOMEM;
			return 0;
		}
	}
	return n;
}

/* fg_watch_notify - call w's callback unless it or the client is gone. */
static void fg_watch_notify(struct fg_etcd_watch *w,
			    const struct fg_etcd_watch_result *res)
{
	if (!w->dead && fg_live(w->c))
		w->cb(w->arg, res);
}

/* fg_watch_stop - terminal: no more reconnects, tell the owner. */
static void fg_watch_stop(struct fg_etcd_watch *w, int err,
			  int64_t compact, const char *msg)
{
	struct fg_etcd_watch_result res = {
		.err = err, .terminal = true, .message = msg ? msg : "",
		.compact_revision = compact,
	};

	w->stopped = true;
	fg_xfer_detach(&w->x);
	fg_watch_pending_clear(w);
	evtimer_del(w->retry);
	fg_watch_notify(w, &res);
}

/* fg_watch_outage - the stream broke: report once per outage. */
static void fg_watch_outage(struct fg_etcd_watch *w, int err,
			    const char *msg)
{
	struct fg_etcd_watch_result res = {
		.err = err, .message = msg,
	};

	if (w->established &&
	    fg_now_ms() - w->created_at >= FG_ETCD_BACKOFF_STABLE_MS)
		w->backoff_ms = FG_ETCD_BACKOFF_MIN_MS;
	w->established = false;
	if (w->outage_reported)
		return;
	w->outage_reported = true;
	fg_watch_notify(w, &res);
}

/* fg_watch_reconnect - drop the current stream (without waiting for etcd
 * to close it), report the outage and resume after the backoff. */
static void fg_watch_reconnect(struct fg_etcd_watch *w, int err,
			       const char *msg)
{
	fg_xfer_detach(&w->x);
	fg_watch_pending_clear(w);
	fg_buf_free(&w->x.resp);
	fg_watch_outage(w, err, msg);
	if (!w->dead && !w->stopped && fg_live(w->c))
		fg_watch_connect(w);
}

/* fg_parse_event - one mvccpb.Event. A PUT is proto3's zero value, so a
 * missing "type" means PUT. */
static int fg_parse_event(struct fg_arena *a, const json_t *j,
			  struct fg_etcd_event *ev)
{
	const json_t *t = json_object_get(j, "type");
	const json_t *prev = json_object_get(j, "prev_kv");
	int r;

	memset(ev, 0, sizeof(*ev));
	if (!t || (json_is_string(t) && !strcmp(json_string_value(t), "PUT")))
		ev->type = FG_ETCD_EVENT_PUT;
	else if (json_is_string(t) &&
		 !strcmp(json_string_value(t), "DELETE"))
		ev->type = FG_ETCD_EVENT_DELETE;
	else
		return -EPROTO;
	r = fg_parse_kv(a, json_object_get(j, "kv"), &ev->kv);
	if (r || !prev)
		return r;
	{
		struct fg_etcd_kv *pk = fg_arena_alloc(a, sizeof(*pk));

		if (!pk)
			return -ENOMEM;
		ev->prev_kv = pk;
		return fg_parse_kv(a, prev, pk);
	}
}

/*
 * fg_watch_response - act on one line of the stream: an error, a
 * cancellation (compaction), "created", events, or progress.
 */
static void fg_watch_response(struct fg_etcd_watch *w, const json_t *line)
{
	struct fg_etcd_watch_result res = { .message = "" };
	const json_t *in = json_object_get(line, "result"), *evs;
	struct fg_etcd_event *out = NULL;
	struct fg_arena a = { 0 };
	size_t n = 0;
	const char *msg;
	int err;

	err = fg_parse_grpc_error(line, &msg);
	if (err) {
		/* A refusal of the request itself is final. Anything else
		 * is the stream dying - etcd shutting down sends UNAVAILABLE
		 * "transport is closing" or CANCELLED "context canceled" -
		 * so resume elsewhere or later. */
		if (err == -EINVAL || err == -EACCES || err == -EPERM ||
		    err == -EOPNOTSUPP)
			fg_watch_stop(w, err, 0, msg);
		else
			fg_watch_reconnect(w, -EIO, msg);
		return;
	}
	if (!json_is_object(in) ||
	    fg_json_i64(json_object_get(in, "header"), "revision",
			&res.revision) ||
	    fg_json_i64(in, "compact_revision", &res.compact_revision))
		goto proto;
	if (res.compact_revision > 0) {
		fg_watch_stop(w, -ESTALE, res.compact_revision,
			      "watch revision has been compacted");
		return;
	}
	if (fg_json_bool(in, "canceled")) {
		const json_t *jw = json_object_get(in, "cancel_reason");
		const char *why = json_is_string(jw) ? json_string_value(jw) :
				  "watch cancelled by etcd";

		/* Permission is not coming back by retrying; other
		 * cancellations (a member losing its leader) are worth a
		 * resume. */
		if (strstr(why, "permission denied") || strstr(why, "auth"))
			fg_watch_stop(w, -EACCES, 0, why);
		else
			fg_watch_reconnect(w, -ECANCELED, why);
		return;
	}
	if (fg_json_bool(in, "created")) {
		/* "From now" is pinned to the first stream's revision, so a
		 * reconnect cannot skip what happened in between. */
		if (!w->next_rev)
			w->next_rev = res.revision + 1;
		w->established = true;
		w->created_at = fg_now_ms();
		w->outage_reported = false;
		res.created = true;
		fg_watch_notify(w, &res);
		return;
	}
	evs = json_object_get(in, "events");
	if (evs && !json_is_array(evs))
		goto proto;
	if (evs && json_array_size(evs)) {
		/* Events of one revision (a txn) share its number: compare
		 * against where this response started, not the last event. */
		int64_t from = w->next_rev;

		out = fg_arena_alloc(&a, json_array_size(evs) * sizeof(*out));
		if (!out)
			goto proto;
		for (size_t i = 0; i < json_array_size(evs); i++) {
			if (fg_parse_event(&a, json_array_get(evs, i), &out[n]))
				goto proto;
			/* Already delivered before a reconnect. */
			if (out[n].kv.mod_revision < from)
				continue;
			if (out[n].kv.mod_revision >= w->next_rev)
				w->next_rev = out[n].kv.mod_revision + 1;
			n++;
		}
		if (!n) {
			fg_arena_free(&a);
			return;
		}
	} else if (res.revision >= w->next_rev) {
		/* Progress: etcd only notifies synced watchers, so every
		 * event up to res.revision is behind us. */
		w->next_rev = res.revision + 1;
	}
	res.events = out;
	res.n_events = n;
	fg_watch_notify(w, &res);
	fg_arena_free(&a);
	return;
proto:
	fg_arena_free(&a);
	/* Not what etcd sends: drop this connection and resume. */
	fg_watch_reconnect(w, -EPROTO, "malformed watch response");
}

/* fg_watch_dispatch - hand every queued line to its watch, in order. */
static void fg_watch_dispatch(struct fg_etcd *c)
{
	struct fg_etcd_watch *w;

	TAILQ_FOREACH(w, &c->watches, link) {
		while (!w->dead && !w->stopped && fg_live(c) &&
		       w->head_pending < w->n_pending) {
			json_t *j = w->pending[w->head_pending++];

			fg_watch_response(w, j);
			json_decref(j);
		}
		if (!fg_live(c))
			return;
	}
}

/* fg_watch_jitter - backoff +-25 %, so many daemons restarted together do
 * not reconnect in lockstep. */
static uint64_t fg_watch_jitter(struct fg_etcd *c, uint64_t ms)
{
	c->rnd ^= c->rnd << 13;
	c->rnd ^= c->rnd >> 17;
	c->rnd ^= c->rnd << 5;
	return ms * 3 / 4 + (ms ? c->rnd % (ms / 2 + 1) : 0);
}

/* fg_watch_connect - schedule the next connection after the backoff. */
static void fg_watch_connect(struct fg_etcd_watch *w)
{
	struct timeval tv = fg_ms_tv(fg_watch_jitter(w->c, w->backoff_ms));

	evtimer_add(w->retry, &tv);
	w->backoff_ms *= 2;
	if (w->backoff_ms > FG_ETCD_BACKOFF_MAX_MS)
		w->backoff_ms = FG_ETCD_BACKOFF_MAX_MS;
}

/*
 * fg_watch_open - open a stream now, from w->next_rev (0: from now), on
 * the client's preferred endpoint. Returns 0 or -ENOMEM.
 */
static int fg_watch_open(struct fg_etcd_watch *w)
{
	struct fg_etcd *c = w->c;
	json_t *req = json_loads(w->create_tmpl, 0, NULL), *outer;
	char *s;

	if (!req)
		return -ENOMEM;
	if (w->next_rev &&
	    fg_json_set_i64(req, "start_revision", w->next_rev)) {
		json_decref(req);
		return -ENOMEM;
	}
	outer = json_object();
	if (!outer || json_object_set_new(outer, "create_request", req)) {
		json_decref(outer);
		return -ENOMEM;
	}
	s = json_dumps(outer, JSON_COMPACT);
	json_decref(outer);
	if (!s)
		return -ENOMEM;
	free(w->x.body);
	w->x.body = s;
	curl_easy_setopt(w->x.easy, CURLOPT_POSTFIELDS, s);
	curl_easy_setopt(w->x.easy, CURLOPT_POSTFIELDSIZE, (long)strlen(s));
	w->x.ep = c->cur;
	w->established = false;
	/* No total timeout: the stream is meant to last. */
	return fg_xfer_add(&w->x, "/v3/watch", 0, (long)c->timeout_ms);
}

/* fg_watch_on_retry - backoff over: reconnect. Event-loop entry. */
static void fg_watch_on_retry(evutil_socket_t fd, short what, void *p)
{
	struct fg_etcd_watch *w = p;
	struct fg_etcd *c = w->c;

	(void)fd;
	(void)what;
	fg_enter(c);
	if (!w->dead && !w->stopped && !w->x.in_multi && fg_watch_open(w))
		fg_watch_connect(w);
	fg_leave(c);
}

/*
 * fg_watch_finished - the stream's transfer ended (etcd went away, the
 * connection broke or never came up): dispatch what it left, then
 * reconnect after the backoff.
 */
static void fg_watch_finished(struct fg_etcd_watch *w)
{
	struct fg_etcd *c = w->c;
	struct fg_xfer *x = &w->x;
	char msg[CURL_ERROR_SIZE + 160];
	int err = -EIO;

	if (!x->bad_line && !x->too_big && !x->oom &&
	    fg_watch_split(w, true) == 0)
		fg_watch_dispatch(c);
	/* Done with, or already rescheduled by, what the lines said. */
	if (w->dead || w->stopped || !fg_live(c) ||
	    evtimer_pending(w->retry, NULL))
		return;
	if (x->code != CURLE_OK) {
		if (x->bad_line) {
			err = -EPROTO;
			snprintf(msg, sizeof(msg), "%s: malformed watch stream",
				 c->ep[x->ep]);
		} else {
			err = fg_transport_errno(x, msg, sizeof(msg));
		}
		if (fg_xfer_unsent(x) && c->cur == x->ep)
			c->cur = (x->ep + 1) % c->n_ep;
	} else {
		snprintf(msg, sizeof(msg), "%s: watch stream ended",
			 c->ep[x->ep]);
	}
	fg_watch_pending_clear(w);
	fg_buf_free(&x->resp);
	fg_watch_outage(w, err, msg);
	if (!w->dead && !w->stopped && fg_live(c))
		fg_watch_connect(w);
}

/* fg_etcd_watch_start - see the header. */
int fg_etcd_watch_start(struct fg_etcd *c, const struct fg_etcd_watch_opts *o,
			fg_etcd_watch_cb cb, void *arg,
			struct fg_etcd_watch **out)
{
	struct fg_etcd_watch *w;
	json_t *tmpl;
	char *body;
	int r = -ENOMEM;

	if (!c || !o || !cb || !out || c->freeing || !o->key ||
	    (!*o->key && !o->prefix) || o->start_revision < 0)
		return -EINVAL;
	tmpl = json_object();
	if (!tmpl || fg_json_set_key_range(tmpl, o->key, o->prefix) ||
	    (o->prev_kv && json_object_set_new(tmpl, "prev_kv", json_true())) ||
	    (o->progress_notify &&
	     json_object_set_new(tmpl, "progress_notify", json_true()))) {
		json_decref(tmpl);
		return -ENOMEM;
	}
	w = calloc(1, sizeof(*w));
	body = strdup("{}");
	if (!w || !body)
		goto fail;
	w->create_tmpl = json_dumps(tmpl, JSON_COMPACT);
	w->retry = evtimer_new(c->base, fg_watch_on_retry, w);
	if (!w->create_tmpl || !w->retry)
		goto fail;
	r = fg_xfer_init(c, &w->x, FG_XFER_WATCH, body);
	body = NULL;		/* the xfer owns it now */
	if (r)
		goto fail;
	w->c = c;
	w->cb = cb;
	w->arg = arg;
	w->next_rev = o->start_revision;
	w->backoff_ms = FG_ETCD_BACKOFF_MIN_MS;
	r = fg_watch_open(w);
	if (r)
		goto fail;
	json_decref(tmpl);
	TAILQ_INSERT_TAIL(&c->watches, w, link);
	*out = w;
	return 0;
fail:
	json_decref(tmpl);
	free(body);
	if (w) {
		fg_xfer_release(&w->x);
		if (w->retry)
			event_free(w->retry);
		free(w->create_tmpl);
		free(w);
	}
	return r;
}

/* fg_watch_free - unlink and free w. */
static void fg_watch_free(struct fg_etcd_watch *w)
{
	TAILQ_REMOVE(&w->c->watches, w, link);
	fg_xfer_release(&w->x);
	fg_watch_pending_clear(w);
	free(w->pending);
	event_free(w->retry);
	free(w->create_tmpl);
	free(w);
}

/* fg_etcd_watch_cancel - see the header. Closing the stream is what
 * cancels the watch on etcd's side. */
void fg_etcd_watch_cancel(struct fg_etcd_watch *w)
{
	if (!w || w->dead)
		return;
	w->dead = true;
	fg_xfer_detach(&w->x);
	fg_watch_pending_clear(w);
	evtimer_del(w->retry);
	if (!w->c->depth)
		fg_watch_free(w);
}

/* fg_etcd_watch_revision - see the header. */
int64_t fg_etcd_watch_revision(const struct fg_etcd_watch *w)
{
	return w && w->next_rev ? w->next_rev - 1 : 0;
}

/* ---------------------------------------------------------- dispatch */

/*
 * fg_process - after curl_multi_socket_action(): collect finished
 * transfers, deliver queued watch lines (before their stream's end, so
 * events precede the outage report), then finish transfers. Every loop
 * re-reads its list head because callbacks change the lists.
 */
static void fg_process(struct fg_etcd *c)
{
	struct fg_xfer *x;
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(c->multi, &left))) {
		CURL *easy = m->easy_handle;
		CURLcode code = m->data.result;
		char *priv = NULL;

		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(easy, CURLINFO_PRIVATE, &priv);
		x = (struct fg_xfer *)priv;
		curl_multi_remove_handle(c->multi, easy);
		x->in_multi = false;
		x->code = code;
		x->on_done = true;
		TAILQ_INSERT_TAIL(&c->done, x, done_link);
	}
	fg_watch_dispatch(c);
	while (fg_live(c) && (x = TAILQ_FIRST(&c->done))) {
		TAILQ_REMOVE(&c->done, x, done_link);
		x->on_done = false;
		if (x->kind == FG_XFER_REQ)
			fg_req_finished((struct fg_req *)x);
		else
			fg_watch_finished((struct fg_etcd_watch *)x);
	}
}

/* ------------------------------------------------------------- client */

/* fg_ep_valid - "http(s)://host[:port]" (up to 256 bytes), or
 * "unix://" and an absolute path that fits a sockaddr_un. */
static bool fg_ep_valid(const char *e)
{
	size_t n = strlen(e), u = strlen(FG_ETCD_UNIX_SCHEME);

	if (!strncmp(e, FG_ETCD_UNIX_SCHEME, u))
		return e[u] == '/' && n - u >= 2 &&
		       n - u < sizeof(((struct sockaddr_un *)0)->sun_path);
	return (!strncmp(e, "http://", 7) || !strncmp(e, "https://", 8)) &&
	       n <= 256 && n >= 9;
}

/*
 * fg_ep_split - an endpoint as given (trailing slashes dropped from an
 * http one), the base URL requests go to, and the socket path of a
 * unix:// one (NULL otherwise). Returns 0 or -ENOMEM.
 */
static int fg_ep_split(const char *e, char **ep, char **url, char **upath)
{
	size_t len = strlen(e), u = strlen(FG_ETCD_UNIX_SCHEME);

	*ep = strdup(e);
	if (!*ep)
		return -ENOMEM;
	if (!strncmp(e, FG_ETCD_UNIX_SCHEME, u)) {
		*url = strdup(FG_ETCD_UNIX_URL);
		*upath = strdup(e + u);
		return *url && *upath ? 0 : -ENOMEM;
	}
	while (len && (*ep)[len - 1] == '/')
		(*ep)[--len] = '\0';
	*url = strdup(*ep);
	return *url ? 0 : -ENOMEM;
}

/* fg_etcd_new - see the header. */
struct fg_etcd *fg_etcd_new(struct event_base *base,
			    const char *const *endpoints, size_t n,
			    char *err, size_t errlen)
{
	struct fg_etcd *c;

	if (!base || !endpoints || !n || n > FG_ETCD_ENDPOINTS_MAX) {
		fg_fail(err, errlen, 0, "need 1 to %d etcd endpoints",
			FG_ETCD_ENDPOINTS_MAX);
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		const char *e = endpoints[i];

		if (!e || !fg_ep_valid(e)) {
			fg_fail(err, errlen, 0, "etcd endpoint %zu: want "
				"http(s)://host:port or unix:///socket/path "
				"(under %zu bytes), got \"%s\"",
				i, sizeof(((struct sockaddr_un *)0)->sun_path),
				e ? e : "(null)");
			return NULL;
		}
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		goto oom;
	if (curl_global_init(CURL_GLOBAL_DEFAULT)) {
		free(c);
		fg_fail(err, errlen, 0, "curl_global_init failed");
		return NULL;
	}
	c->base = base;
	c->timeout_ms = FG_ETCD_TIMEOUT_MS_DEFAULT;
	c->rnd = (uint32_t)fg_now_ms() ^ (uint32_t)(uintptr_t)c ^ 0x9e3779b9U;
	if (!c->rnd)
		c->rnd = 1;
	TAILQ_INIT(&c->reqs);
	TAILQ_INIT(&c->watches);
	TAILQ_INIT(&c->kas);
	TAILQ_INIT(&c->done);
	TAILQ_INIT(&c->socks);
	c->ep = calloc(n, sizeof(*c->ep));
	c->url = calloc(n, sizeof(*c->url));
	c->upath = calloc(n, sizeof(*c->upath));
	if (!c->ep || !c->url || !c->upath)
		goto fail;
	c->n_ep = n;
	for (size_t i = 0; i < n; i++)
		if (fg_ep_split(endpoints[i], &c->ep[i], &c->url[i],
				&c->upath[i]))
			goto fail;
	/* "Expect:" off: curl would otherwise wait for a 100 Continue
	 * before sending bodies over 1 KiB. */
	c->hdrs = curl_slist_append(NULL, "Content-Type: application/json");
	if (c->hdrs)
		c->hdrs = curl_slist_append(c->hdrs, "Expect:");
	c->multi = curl_multi_init();
	c->timer = evtimer_new(base, fg_on_timer, c);
	if (!c->hdrs || !c->multi || !c->timer)
		goto fail;
	curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, fg_curl_sock_cb);
	curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c);
	curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, fg_curl_timer_cb);
	curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c);
	return c;
fail:
	fg_destroy(c);
oom:
	fg_fail(err, errlen, 0, "out of memory");
	return NULL;
}

/*
 * fg_destroy - free everything without calling anybody. Handles a
 * half-built client too.
 */
static void fg_destroy(struct fg_etcd *c)
{
	struct fg_sock *fs;
	struct fg_req *r;
	struct fg_etcd_watch *w;
	struct fg_etcd_keepalive *k;

	while ((k = TAILQ_FIRST(&c->kas))) {
		k->dead = true;
		fg_ka_free(k);
	}
	while ((r = TAILQ_FIRST(&c->reqs)))
		fg_req_free(r);
	while ((w = TAILQ_FIRST(&c->watches)))
		fg_watch_free(w);
	if (c->multi)
		curl_multi_cleanup(c->multi);
	/* Sockets curl did not hand back during cleanup. */
	while ((fs = TAILQ_FIRST(&c->socks))) {
		TAILQ_REMOVE(&c->socks, fs, link);
		event_free(fs->ev);
		free(fs);
	}
	if (c->timer)
		event_free(c->timer);
	curl_slist_free_all(c->hdrs);
	free(c->ca_file);
	free(c->cert_file);
	free(c->key_file);
	for (size_t i = 0; i < c->n_ep; i++) {
		free(c->ep[i]);
		free(c->url[i]);
		free(c->upath[i]);
	}
	free(c->ep);
	free(c->url);
	free(c->upath);
	free(c);
	curl_global_cleanup();
}

/* fg_etcd_free - see the header. */
void fg_etcd_free(struct fg_etcd *c)
{
	if (!c || c->freeing)
		return;
	c->freeing = true;
	if (!c->depth)
		fg_destroy(c);
}

/* fg_etcd_set_timeout - see the header. */
/* fg_dup_opt - strdup of a set option, NULL for NULL or "". */
static int fg_dup_opt(const char *v, char **out)
{
	*out = NULL;
	if (!v || !v[0])
		return 0;
	*out = strdup(v);
	return *out ? 0 : -ENOMEM;
}

int fg_etcd_set_tls(struct fg_etcd *c, const char *ca_file,
		    const char *cert_file, const char *key_file)
{
	char *ca, *cert, *key;

	if (!c || (!cert_file || !cert_file[0]) != (!key_file || !key_file[0]))
		return -EINVAL;
	if (fg_dup_opt(ca_file, &ca) || fg_dup_opt(cert_file, &cert)) {
		free(ca);
		return -ENOMEM;
	}
	if (fg_dup_opt(key_file, &key)) {
		free(ca);
		free(cert);
		return -ENOMEM;
	}
	free(c->ca_file);
	free(c->cert_file);
	free(c->key_file);
	c->ca_file = ca;
	c->cert_file = cert;
	c->key_file = key;
	return 0;
}

/* fg_etcd_set_request_max - see the header. */
int fg_etcd_set_request_max(struct fg_etcd *c, size_t bytes)
{
	if (!c)
		return -EINVAL;
	c->request_max = bytes;
	return 0;
}

int fg_etcd_set_timeout(struct fg_etcd *c, int timeout_ms)
{
	if (!c || timeout_ms < FG_ETCD_TIMEOUT_MS_MIN ||
	    timeout_ms > FG_ETCD_TIMEOUT_MS_MAX)
		return -EINVAL;
	c->timeout_ms = timeout_ms;
	return 0;
}

/* fg_etcd_endpoint - see the header. */
const char *fg_etcd_endpoint(const struct fg_etcd *c)
{
	return c ? c->ep[c->cur] : "";
}

/* -------------------------------------------------------- synchronous */

/* fg_health_write - collect a /health body, at most 4 KiB. */
static size_t fg_health_write(char *data, size_t size, size_t nmemb, void *p)
{
	return fg_buf_append(p, data, size * nmemb, 4096) ? 0 : size * nmemb;
}

/*
 * fg_health_once - one blocking GET endpoint/health. Returns 0 when etcd
 * answers {"health":"true"}, -EAGAIN otherwise.
 */
static int fg_health_once(CURL *easy, const char *url, const char *upath,
			  long timeout_ms)
{
	struct fg_buf b = { 0 };
	long http = 0;
	json_t *j;
	int r = -EAGAIN;

	curl_easy_setopt(easy, CURLOPT_URL, url);
	curl_easy_setopt(easy, CURLOPT_UNIX_SOCKET_PATH, upath);
	curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, fg_health_write);
	curl_easy_setopt(easy, CURLOPT_WRITEDATA, &b);
	if (curl_easy_perform(easy) == CURLE_OK &&
	    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &http) ==
	    CURLE_OK &&
	    http == 200 && b.p) {
		const json_t *h;

		j = json_loadb(b.p, b.len, 0, NULL);
		h = json_object_get(j, "health");
		if (json_is_string(h) && !strcmp(json_string_value(h), "true"))
			r = 0;
		json_decref(j);
	}
	fg_buf_free(&b);
	return r;
}

/* fg_etcd_wait_ready - see the header. Polls every 100 ms. */
int fg_etcd_wait_ready(const char *endpoint, int timeout_ms)
{
	uint64_t deadline = fg_now_ms() + (uint64_t)(timeout_ms > 0 ?
						     timeout_ms : 0);
	char url[512], *ep = NULL, *base = NULL, *upath = NULL;
	CURL *easy;
	int r = -ETIMEDOUT;

	if (!endpoint || timeout_ms < 0 || !fg_ep_valid(endpoint))
		return -EINVAL;
	if (fg_ep_split(endpoint, &ep, &base, &upath)) {
		free(ep);
		free(base);
		free(upath);
		return -ENOMEM;
	}
	snprintf(url, sizeof(url), "%s/health", base);
	free(ep);
	free(base);
	if (curl_global_init(CURL_GLOBAL_DEFAULT)) {
		free(upath);
		return -ENOMEM;
	}
	easy = curl_easy_init();
	if (!easy) {
		curl_global_cleanup();
		free(upath);
		return -ENOMEM;
	}
	for (;;) {
		uint64_t now = fg_now_ms(), left;
		struct timespec ts = { 0, 100 * 1000000L };

		if (now >= deadline)
			break;
		left = deadline - now;
		if (left > 1000)
			left = 1000;
		if (fg_health_once(easy, url, upath, (long)left) == 0) {
			r = 0;
			break;
		}
		now = fg_now_ms();
		if (now >= deadline)
			break;
		if (deadline - now < 100)
			ts.tv_nsec = (long)(deadline - now) * 1000000L;
		nanosleep(&ts, NULL);
	}
	curl_easy_cleanup(easy);
	curl_global_cleanup();
	free(upath);
	return r;
}
