/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * fgctl.c - the Floodgate command-line client: speaks floodgated's REST API
 * (shared/API.md) with libcurl's easy interface and jansson.
 *
 * Where: --api URL, else $FLOODGATE_API, else http://127.0.0.1:7380. Who:
 * --token-file FILE (one trailing newline trimmed), else $FLOODGATE_TOKEN,
 * sent as "Authorization: Bearer <token>". Global options may stand
 * anywhere before a "--".
 *
 * Output: human tables by default; --json writes the API's answer body to
 * stdout byte for byte (error bodies too, with the message on stderr).
 * Exit status: 0 ok, 1 the API answered with an error (or with something
 * that is not the API's JSON), 2 usage error, 3 cannot reach the API.
 *
 * Arguments are checked for form here (numbers are numbers, addresses are
 * IP literals, ADDR[:PORT] parses); what the values mean (ranges, enums,
 * required fields, references between rules) is the server's to judge, so
 * a newer daemon's additions work without a newer fgctl.
 *
 * The backend commands are read-modify-write of one service: GET it, edit
 * the backends array, PUT it back with If-Match: <the GET's ETag>. A 412
 * (someone else wrote in between) is retried from the GET up to
 * FG_RMW_RETRIES times, then reported.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE		/* vasprintf */
#endif

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

/* ------------------------------------------------------- constants */

#ifndef FG_VERSION
#define FG_VERSION "0.1.0"
#endif

#define FG_API_DEFAULT "http://127.0.0.1:7380"

enum {
	FG_EXIT_OK = 0,
	FG_EXIT_API = 1,		/* the API said no, or answered garbage */
	FG_EXIT_USAGE = 2,		/* bad command line, unreadable file */
	FG_EXIT_UNREACHABLE = 3,	/* no HTTP answer at all */
};

/* Limits on what the user or the server can make us hold in memory. The
 * API itself refuses bodies over 1 MiB; a stats or config answer for a
 * full dataplane (thousands of backends) stays far below 64 MiB. */
#define FG_RESP_MAX (64U << 20)
#define FG_FILE_MAX (64U << 20)
#define FG_TOKEN_MAX 4096U

/* A 412 on a backend edit is retried this many times (after the first
 * attempt) before fgctl gives up and reports it. */
#define FG_RMW_RETRIES 3

#define FG_TIMEOUT_DEF 30L
#define FG_TIMEOUT_MAX 3600L
#define FG_CONNECT_TIMEOUT 5L

/* Longest --watch interval: a day. */
#define FG_WATCH_MAX_S 86400.0

#define FG_TABLE_COLS_MAX 12
#define FG_CELL_MAX 512

/* ------------------------------------------------------ allocation */

/*
 * fg_oom - report an allocation failure and exit 1. A CLI has nothing to
 * unwind that the exit would not release.
 */
static void __attribute__((noreturn)) fg_oom(void)
{
	fputs("fgctl: out of memory\n", stderr);
	exit(FG_EXIT_API);
}

/* fg_xrealloc - realloc() that never returns NULL (exits instead). */
static void *fg_xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		fg_oom();
	return p;
}

/* fg_xstrdup - strdup() that never returns NULL (exits instead). */
static char *fg_xstrdup(const char *s)
{
	char *d = strdup(s);

	if (!d)
		fg_oom();
	return d;
}

/* fg_xasprintf - a newly allocated formatted string; never NULL. */
static char * __attribute__((format(printf, 1, 2))) fg_xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		fg_oom();
	return s;
}

/* ---------------------------------------------------------- buffers */

/* A growable byte buffer, always NUL-terminated once it holds data. */
struct fg_buf {
	char *data;
	size_t len;
	size_t cap;
	bool overflow;		/* an append would have passed the limit */
};

/*
 * fg_buf_append - append n bytes unless the buffer would exceed max bytes.
 * Returns 0, or -E2BIG (and sets overflow) when it would.
 */
static int fg_buf_append(struct fg_buf *b, const void *p, size_t n, size_t max)
{
	if (n > max || b->len > max - n) {
		b->overflow = true;
		return -E2BIG;
	}
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;

		while (cap < b->len + n + 1)
			cap *= 2;
		b->data = fg_xrealloc(b->data, cap);
		b->cap = cap;
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

/* fg_buf_free - release the buffer's memory; accepts an empty buffer. */
static void fg_buf_free(struct fg_buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

/*
 * fg_read_file - read a whole file ("-" is stdin) into *out. Returns 0, or
 * FG_EXIT_USAGE after printing why (cannot open, read error, larger than
 * FG_FILE_MAX).
 */
static int fg_read_file(const char *path, struct fg_buf *out)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	char chunk[65536];
	size_t n;
	int rc = 0;

	if (!f) {
		fprintf(stderr, "fgctl: cannot open %s: %s\n", path, strerror(errno));
		return FG_EXIT_USAGE;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (fg_buf_append(out, chunk, n, FG_FILE_MAX)) {
			fprintf(stderr, "fgctl: %s: larger than %u MiB\n",
				path, FG_FILE_MAX >> 20);
			rc = FG_EXIT_USAGE;
			break;
		}
	}
	if (!rc && ferror(f)) {
		fprintf(stderr, "fgctl: cannot read %s: %s\n", path, strerror(errno));
		rc = FG_EXIT_USAGE;
	}
	if (f != stdin)
		fclose(f);
	if (!rc && !out->data)
		fg_buf_append(out, "", 0, FG_FILE_MAX);	/* empty, but not NULL */
	return rc;
}

/* ---------------------------------------------------------- context */

/* Everything a command needs to reach the API. */
struct fg_ctx {
	const char *api_arg;	/* --api as given, or NULL */
	const char *token_file;	/* --token-file, or NULL */
	bool json;		/* --json: pass answers through unchanged */
	long timeout_s;		/* whole-request timeout */
	bool ready;		/* api/token resolved, curl handle made */
	char *api;		/* base URL without trailing '/' */
	char *token;		/* NULL: send no Authorization */
	CURL *curl;
};

/* One HTTP answer. */
struct fg_resp {
	long status;
	struct fg_buf body;
	char etag[96];		/* "" when the answer carried none */
};

/* fg_resp_free - release an answer's body; accepts a zeroed answer. */
static void fg_resp_free(struct fg_resp *r)
{
	fg_buf_free(&r->body);
	memset(r, 0, sizeof(*r));
}

/*
 * fg_load_token - read the token from ctx->token_file (one trailing "\n"
 * or "\r\n" trimmed), else $FLOODGATE_TOKEN, into ctx->token (NULL when
 * neither is set). A token with control characters would corrupt the
 * header, so it is refused. Returns 0 or FG_EXIT_USAGE after printing why.
 */
static int fg_load_token(struct fg_ctx *c)
{
	struct fg_buf b = { 0 };
	const char *src;
	size_t i;
	int rc;

	if (c->token_file) {
		rc = fg_read_file(c->token_file, &b);
		if (rc)
			return rc;
		if (b.len > FG_TOKEN_MAX) {
			fprintf(stderr, "fgctl: %s: a token longer than %u bytes\n",
				c->token_file, FG_TOKEN_MAX);
			fg_buf_free(&b);
			return FG_EXIT_USAGE;
		}
		if (b.len && b.data[b.len - 1] == '\n')
			b.data[--b.len] = '\0';
		if (b.len && b.data[b.len - 1] == '\r')
			b.data[--b.len] = '\0';
		src = c->token_file;
		c->token = b.data ? b.data : fg_xstrdup("");
	} else {
		const char *env = getenv("FLOODGATE_TOKEN");

		if (!env || !*env)
			return 0;
		src = "$FLOODGATE_TOKEN";
		c->token = fg_xstrdup(env);
	}
	if (!*c->token) {
		fprintf(stderr, "fgctl: %s: the token is empty\n", src);
		return FG_EXIT_USAGE;
	}
	for (i = 0; c->token[i]; i++) {
		unsigned char ch = (unsigned char)c->token[i];

		if (ch < 0x20 || ch == 0x7f) {
			fprintf(stderr, "fgctl: %s: the token contains a control character (only one trailing newline is allowed)\n",
				src);
			return FG_EXIT_USAGE;
		}
	}
	if (c->token_file && strlen(c->token) != b.len) {
		fprintf(stderr, "fgctl: %s: the token contains a NUL byte\n", src);
		return FG_EXIT_USAGE;
	}
	return 0;
}

/*
 * fg_ctx_ready - resolve the API URL and the token, and make the curl
 * handle, once; commands call it only after their arguments parsed, so
 * --help works whatever the environment. Returns 0, FG_EXIT_USAGE (bad URL
 * or token) or FG_EXIT_API (libcurl failed to start).
 */
static int fg_ctx_ready(struct fg_ctx *c)
{
	const char *api = c->api_arg;
	size_t n;
	int rc;

	if (c->ready)
		return 0;
	if (!api || !*api)
		api = getenv("FLOODGATE_API");
	if (!api || !*api)
		api = FG_API_DEFAULT;
	if (strncasecmp(api, "http://", 7) && strncasecmp(api, "https://", 8)) {
		fprintf(stderr, "fgctl: API URL '%s' must start with http:// or https://\n",
			api);
		return FG_EXIT_USAGE;
	}
	c->api = fg_xstrdup(api);
	n = strlen(c->api);
	while (n && c->api[n - 1] == '/')
		c->api[--n] = '\0';
	rc = fg_load_token(c);
	if (rc)
		return rc;
	c->curl = curl_easy_init();
	if (!c->curl) {
		fputs("fgctl: cannot initialise libcurl\n", stderr);
		return FG_EXIT_API;
	}
	c->ready = true;
	return 0;
}

/* ------------------------------------------------------------- HTTP */

/* fg_write_cb - libcurl body sink: append to the answer, at most
 * FG_RESP_MAX bytes (returning short makes libcurl abort). */
static size_t fg_write_cb(char *p, size_t size, size_t nmemb, void *ud)
{
	struct fg_resp *r = ud;
	size_t n = size * nmemb;

	if (fg_buf_append(&r->body, p, n, FG_RESP_MAX))
		return 0;
	return n;
}

/* fg_header_cb - libcurl header sink: remember the ETag (a new status
 * line forgets any from an interim answer). */
static size_t fg_header_cb(char *p, size_t size, size_t nmemb, void *ud)
{
	struct fg_resp *r = ud;
	size_t n = size * nmemb, len;
	const char *v;

	if (n >= 5 && !strncmp(p, "HTTP/", 5)) {
		r->etag[0] = '\0';
		return n;
	}
	if (n < 5 || strncasecmp(p, "etag:", 5))
		return n;
	v = p + 5;
	len = n - 5;
	while (len && (*v == ' ' || *v == '\t')) {
		v++;
		len--;
	}
	while (len && (v[len - 1] == '\r' || v[len - 1] == '\n' ||
		       v[len - 1] == ' ' || v[len - 1] == '\t'))
		len--;
	if (len < sizeof(r->etag)) {	/* a longer one is not ours: ignore */
		memcpy(r->etag, v, len);
		r->etag[len] = '\0';
	}
	return n;
}

/*
 * fg_request - one HTTP exchange: method ("GET", "PUT", "DELETE") on
 * api + path, with body (len bytes, NULL for none) as JSON and If-Match
 * if_match (NULL for none). *r gets the status, body and ETag whatever the
 * status. Returns 0 when an HTTP answer arrived; FG_EXIT_UNREACHABLE when
 * none did (refused, unresolvable, timed out, cut off), FG_EXIT_USAGE for
 * a URL libcurl rejects, FG_EXIT_API for an oversized answer; the reason
 * is printed.
 */
static int fg_request(struct fg_ctx *c, const char *method, const char *path,
		      const char *body, size_t len, const char *if_match,
		      struct fg_resp *r)
{
	char errbuf[CURL_ERROR_SIZE] = "";
	struct curl_slist *hdrs = NULL, *h;
	char *url, *auth = NULL, *im = NULL, *noproxy = NULL;
	const char *envnp;
	CURLcode cc;
	int rc;

	rc = fg_ctx_ready(c);
	if (rc)
		return rc;
	fg_resp_free(r);
	url = fg_xasprintf("%s%s", c->api, path);

	curl_easy_reset(c->curl);
	/* A loopback API must not go through an http_proxy from the
	 * environment; keep whatever no_proxy the user set on top. */
	envnp = getenv("no_proxy");
	if (!envnp || !*envnp)
		envnp = getenv("NO_PROXY");
	noproxy = fg_xasprintf("localhost,127.0.0.1,::1%s%s",
			       envnp && *envnp ? "," : "", envnp ? envnp : "");

	hdrs = curl_slist_append(hdrs, "Accept: application/json");
	h = hdrs ? curl_slist_append(hdrs, "Expect:") : NULL;
	if (h && body)
		h = curl_slist_append(h, "Content-Type: application/json");
	if (h && c->token) {
		auth = fg_xasprintf("Authorization: Bearer %s", c->token);
		h = curl_slist_append(h, auth);
	}
	if (h && if_match) {
		im = fg_xasprintf("If-Match: %s", if_match);
		h = curl_slist_append(h, im);
	}
	if (!h)
		fg_oom();

	curl_easy_setopt(c->curl, CURLOPT_URL, url);
	curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c->curl, CURLOPT_NOPROXY, noproxy);
	curl_easy_setopt(c->curl, CURLOPT_CONNECTTIMEOUT,
			 c->timeout_s < FG_CONNECT_TIMEOUT ? c->timeout_s : FG_CONNECT_TIMEOUT);
	curl_easy_setopt(c->curl, CURLOPT_TIMEOUT, c->timeout_s);
	curl_easy_setopt(c->curl, CURLOPT_USERAGENT, "fgctl/" FG_VERSION);
	curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c->curl, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, fg_write_cb);
	curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(c->curl, CURLOPT_HEADERFUNCTION, fg_header_cb);
	curl_easy_setopt(c->curl, CURLOPT_HEADERDATA, r);
	if (!strcmp(method, "GET")) {
		curl_easy_setopt(c->curl, CURLOPT_HTTPGET, 1L);
	} else {
		curl_easy_setopt(c->curl, CURLOPT_CUSTOMREQUEST, method);
		if (body) {
			curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, body);
			curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE_LARGE,
					 (curl_off_t)len);
		}
	}

	cc = curl_easy_perform(c->curl);
	if (cc == CURLE_OK) {
		curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &r->status);
		rc = 0;
	} else if (cc == CURLE_WRITE_ERROR && r->body.overflow) {
		fprintf(stderr, "fgctl: %s %s: the answer is larger than %u MiB\n",
			method, path, FG_RESP_MAX >> 20);
		rc = FG_EXIT_API;
	} else if (cc == CURLE_URL_MALFORMAT || cc == CURLE_UNSUPPORTED_PROTOCOL) {
		fprintf(stderr, "fgctl: bad API URL '%s': %s\n", c->api,
			*errbuf ? errbuf : curl_easy_strerror(cc));
		rc = FG_EXIT_USAGE;
	} else if (cc == CURLE_OUT_OF_MEMORY) {
		fg_oom();
	} else {
		fprintf(stderr, "fgctl: cannot reach the API at %s: %s\n", c->api,
			*errbuf ? errbuf : curl_easy_strerror(cc));
		rc = FG_EXIT_UNREACHABLE;
	}
	curl_slist_free_all(hdrs);
	free(url);
	free(auth);
	free(im);
	free(noproxy);
	return rc;
}

/* fg_ok - true for a 2xx answer. */
static bool fg_ok(const struct fg_resp *r)
{
	return r->status >= 200 && r->status < 300;
}

/*
 * fg_api_fail - report a non-2xx answer to `what` (e.g. "PUT
 * /v1/services/web"): under --json the body goes to stdout unchanged;
 * stderr gets the API's error.message, its field and code, or the status
 * and the body's first line when the body is not the API's error object.
 * Adds a hint for 401. Returns FG_EXIT_API.
 */
static int fg_api_fail(struct fg_ctx *c, const struct fg_resp *r, const char *what)
{
	json_t *root = NULL, *e, *msg, *field, *code;

	if (c->json && r->body.len) {
		fwrite(r->body.data, 1, r->body.len, stdout);
		fflush(stdout);
	}
	if (r->body.len)
		root = json_loadb(r->body.data, r->body.len, 0, NULL);
	e = json_object_get(root, "error");
	msg = json_object_get(e, "message");
	field = json_object_get(e, "field");
	code = json_object_get(e, "code");
	if (json_is_string(msg)) {
		fprintf(stderr, "fgctl: %s: %s", what, json_string_value(msg));
		if (json_is_string(field) && *json_string_value(field))
			fprintf(stderr, " (field: %s)", json_string_value(field));
		fprintf(stderr, " [HTTP %ld%s%s]\n", r->status,
			json_is_string(code) ? " " : "",
			json_is_string(code) ? json_string_value(code) : "");
	} else {
		size_t n = 0;

		while (n < r->body.len && n < 200 && r->body.data[n] != '\n' &&
		       r->body.data[n] != '\r' && r->body.data[n] != '\0')
			n++;
		fprintf(stderr, "fgctl: %s: HTTP %ld%s%.*s\n", what, r->status,
			n ? ": " : " (no error body)", (int)n,
			r->body.data ? r->body.data : "");
	}
	if (r->status == 401)
		fputs("fgctl: hint: the API wants a token: --token-file FILE or $FLOODGATE_TOKEN\n",
		      stderr);
	json_decref(root);
	return FG_EXIT_API;
}

/* fg_passthrough - write an answer's body to stdout exactly as received. */
static void fg_passthrough(const struct fg_resp *r)
{
	if (r->body.len)
		fwrite(r->body.data, 1, r->body.len, stdout);
	fflush(stdout);
}

/*
 * fg_parse_answer - parse a 2xx answer's body as JSON into *root (a new
 * reference). Returns 0, or FG_EXIT_API after printing why.
 */
static int fg_parse_answer(const struct fg_resp *r, const char *what, json_t **root)
{
	json_error_t jerr;

	*root = json_loadb(r->body.data ? r->body.data : "", r->body.len, 0, &jerr);
	if (!*root) {
		fprintf(stderr, "fgctl: %s: the API answered with invalid JSON (%s, line %d)\n",
			what, jerr.text, jerr.line);
		return FG_EXIT_API;
	}
	return 0;
}

/*
 * fg_get - GET path. Under --json the body is written out unchanged and
 * *root stays NULL; otherwise the body is parsed into *root (new
 * reference). Returns 0, or the exit status after printing why.
 */
static int fg_get(struct fg_ctx *c, const char *path, struct fg_resp *r, json_t **root)
{
	char what[512];
	int rc;

	*root = NULL;
	snprintf(what, sizeof(what), "GET %s", path);
	rc = fg_request(c, "GET", path, NULL, 0, NULL, r);
	if (rc)
		return rc;
	if (!fg_ok(r))
		return fg_api_fail(c, r, what);
	if (c->json) {
		fg_passthrough(r);
		return 0;
	}
	return fg_parse_answer(r, what, root);
}

/*
 * fg_answer_version - the rule-set version a write reported: the body's
 * "version", else the ETag's digits, written as " (version N)" into buf;
 * "" when the answer names none. Returns buf.
 */
static const char *fg_answer_version(const struct fg_resp *r, char *buf, size_t size)
{
	json_t *root = NULL, *v;
	const char *p;

	buf[0] = '\0';
	if (r->body.len)
		root = json_loadb(r->body.data, r->body.len, 0, NULL);
	v = json_object_get(root, "version");
	if (json_is_integer(v)) {
		snprintf(buf, size, " (version %" JSON_INTEGER_FORMAT ")",
			 json_integer_value(v));
	} else if (r->etag[0]) {
		p = r->etag;
		while (*p && (*p < '0' || *p > '9'))
			p++;
		if (*p)
			snprintf(buf, size, " (version %.*s)",
				 (int)strspn(p, "0123456789"), p);
	}
	json_decref(root);
	return buf;
}

/*
 * fg_write - send a write (PUT with body, or DELETE without) conditional
 * on if_match (NULL: unconditional). Under --json the answer body goes to
 * stdout unchanged. Returns 0 when the server accepted it (the caller then
 * prints its message unless --json), or the exit status after printing
 * why. *r keeps the answer.
 */
static int fg_write(struct fg_ctx *c, const char *method, const char *path,
		    const char *body, size_t len, const char *if_match,
		    struct fg_resp *r)
{
	char what[512];
	int rc;

	snprintf(what, sizeof(what), "%s %s", method, path);
	rc = fg_request(c, method, path, body, len, if_match, r);
	if (rc)
		return rc;
	if (!fg_ok(r)) {
		rc = fg_api_fail(c, r, what);
		if (r->status == 412)
			fputs("fgctl: the rule set is no longer at that version; read it again and retry\n",
			      stderr);
		return rc;
	}
	if (c->json)
		fg_passthrough(r);
	return 0;
}

/*
 * fg_name_path - "/v1/<kind>/<name>" with the name percent-encoded (the
 * server judges whether it is a valid name; fgctl only keeps it from
 * breaking the URL). Returns a new string.
 */
static char *fg_name_path(const char *kind, const char *name)
{
	char *esc, *path;

	esc = curl_easy_escape(NULL, name, 0);
	if (!esc)
		fg_oom();
	path = fg_xasprintf("/v1/%s/%s", kind, esc);
	curl_free(esc);
	return path;
}

/* --------------------------------------------------------- argv parsing */

enum {
	FG_ARG_NONE,		/* a flag */
	FG_ARG_REQ,		/* --opt VALUE or --opt=VALUE */
	FG_ARG_OPTNUM,		/* --opt [NUMBER]: takes the next word if it is a number */
};

/* One option a command accepts. */
struct fg_opt {
	const char *name;	/* "--file", "-f" */
	int arg;
};

/* A cursor over a command's words. */
struct fg_args {
	int argc;
	char **argv;
	int i;
	bool dashdash;		/* past "--": everything is positional */
	const char *cmd;	/* "service set", for messages */
};

enum {
	FG_OPT_END = -1,	/* no more words */
	FG_OPT_POS = -2,	/* a positional word in *val */
	FG_OPT_HELP = -3,	/* --help or -h */
	FG_OPT_ERR = -4,	/* bad option, message printed */
};

/* fg_usage_error - print "fgctl CMD: message" and where help is; returns
 * FG_EXIT_USAGE. */
static int __attribute__((format(printf, 2, 3)))
fg_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "fgctl%s%s: ", cmd ? " " : "", cmd ? cmd : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'fgctl%s%s --help'.\n", cmd ? " " : "", cmd ? cmd : "");
	return FG_EXIT_USAGE;
}

/* fg_is_number - true when s looks like a non-negative decimal number
 * (digits with at most one '.'), as --watch's optional value must. */
static bool fg_is_number(const char *s)
{
	bool digit = false, dot = false;

	for (; *s; s++) {
		if (*s >= '0' && *s <= '9')
			digit = true;
		else if (*s == '.' && !dot)
			dot = true;
		else
			return false;
	}
	return digit;
}

/*
 * fg_opt_next - the next word of a command: an option of opts (returns its
 * index, its value in *val, NULL for flags and absent optional numbers), a
 * positional word (FG_OPT_POS, *val), --help (FG_OPT_HELP), the end
 * (FG_OPT_END), or a bad word (FG_OPT_ERR, message printed). A lone "-"
 * is positional (stdin); "--" ends the options.
 */
static int fg_opt_next(struct fg_args *a, const struct fg_opt *opts, const char **val)
{
	const char *w, *eq;
	size_t nlen;
	int k;

	*val = NULL;
	if (a->i >= a->argc)
		return FG_OPT_END;
	w = a->argv[a->i++];
	if (!a->dashdash && !strcmp(w, "--")) {
		a->dashdash = true;
		return fg_opt_next(a, opts, val);
	}
	if (a->dashdash || w[0] != '-' || !w[1]) {
		*val = w;
		return FG_OPT_POS;
	}
	if (!strcmp(w, "--help") || !strcmp(w, "-h"))
		return FG_OPT_HELP;
	eq = !strncmp(w, "--", 2) ? strchr(w, '=') : NULL;
	nlen = eq ? (size_t)(eq - w) : strlen(w);
	for (k = 0; opts && opts[k].name; k++) {
		if (strlen(opts[k].name) != nlen || strncmp(opts[k].name, w, nlen))
			continue;
		if (opts[k].arg == FG_ARG_NONE) {
			if (eq) {
				fg_usage_error(a->cmd, "%s takes no value", opts[k].name);
				return FG_OPT_ERR;
			}
			return k;
		}
		if (eq) {
			*val = eq + 1;
			return k;
		}
		if (opts[k].arg == FG_ARG_OPTNUM) {
			if (a->i < a->argc && fg_is_number(a->argv[a->i]))
				*val = a->argv[a->i++];
			return k;
		}
		if (a->i >= a->argc) {
			fg_usage_error(a->cmd, "%s needs a value", opts[k].name);
			return FG_OPT_ERR;
		}
		*val = a->argv[a->i++];
		return k;
	}
	fg_usage_error(a->cmd, "unknown option '%.*s'", (int)nlen, w);
	return FG_OPT_ERR;
}

/*
 * fg_parse_u64 - parse a whole decimal number (digits only) no larger than
 * max into *out. Returns 0, or FG_EXIT_USAGE after printing "what: ...".
 */
static int fg_parse_u64(const char *cmd, const char *what, const char *s,
			uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	const char *p = s;

	if (!*p)
		return fg_usage_error(cmd, "%s: empty; a whole number is needed", what);
	for (; *p; p++) {
		if (*p < '0' || *p > '9')
			return fg_usage_error(cmd, "%s: '%s' is not a whole number", what, s);
		if (v > (max - (uint64_t)(*p - '0')) / 10)
			return fg_usage_error(cmd, "%s: '%s' is larger than %" PRIu64,
					      what, s, max);
		v = v * 10 + (uint64_t)(*p - '0');
	}
	*out = v;
	return 0;
}

/* fg_extra_word - fail with a usage error about the unexpected word w;
 * returns FG_EXIT_USAGE. */
static int fg_extra_word(const struct fg_args *a, const char *w)
{
	return fg_usage_error(a->cmd, "unexpected argument '%s'", w);
}

/* fg_help - print a help text to stdout; returns FG_EXIT_OK. */
static int fg_help(const char *text)
{
	fputs(text, stdout);
	return FG_EXIT_OK;
}

/* fg_no_args - accept only --help after a command that takes nothing;
 * returns -1 to go on, else the exit status. */
static int fg_no_args(struct fg_args *a, const char *help)
{
	const char *v;

	switch (fg_opt_next(a, NULL, &v)) {
	case FG_OPT_END:
		return -1;
	case FG_OPT_HELP:
		return fg_help(help);
	case FG_OPT_POS:
		return fg_extra_word(a, v);
	default:
		return FG_EXIT_USAGE;
	}
}

/* fg_json_set - obj[key] = v (stolen), exiting on allocation failure. */
static void fg_json_set(json_t *obj, const char *key, json_t *v)
{
	if (!v || json_object_set_new(obj, key, v))
		fg_oom();
}

/* fg_dump - obj as compact JSON text (new string; exits when out of
 * memory). */
static char *fg_dump(const json_t *obj)
{
	char *s = json_dumps(obj, JSON_COMPACT);

	if (!s)
		fg_oom();
	return s;
}

/* --------------------------------------------------------- addresses */

/* A backend as the command line names it. */
struct fg_bspec {
	char addr[INET6_ADDRSTRLEN];	/* the literal, without brackets */
	int family;			/* AF_INET or AF_INET6 */
	unsigned char bin[16];		/* the address, for comparisons */
	bool has_port;
	uint64_t port;
	bool has_weight;
	uint64_t weight;
	const char *state;		/* NULL: not given */
};

/*
 * fg_parse_ip - parse the IP literal s (len bytes) into family/bin/text.
 * Returns true when it is an IPv4 or IPv6 literal.
 */
static bool fg_parse_ip(const char *s, size_t len, struct fg_bspec *b)
{
	char tmp[INET6_ADDRSTRLEN + 8];

	if (!len || len >= sizeof(tmp))
		return false;
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	memset(b->bin, 0, sizeof(b->bin));
	if (inet_pton(AF_INET, tmp, b->bin) == 1)
		b->family = AF_INET;
	else if (inet_pton(AF_INET6, tmp, b->bin) == 1)
		b->family = AF_INET6;
	else
		return false;
	memcpy(b->addr, tmp, len + 1);
	return true;
}

/*
 * fg_parse_backend - parse ADDR[:PORT] (IPv6 as [ADDR]:PORT or a bare
 * ADDR), followed, when opts is true, by ",weight=W" and ",state=S" in any
 * order. Returns 0, or FG_EXIT_USAGE after printing why.
 */
static int fg_parse_backend(const char *cmd, const char *s, bool opts, struct fg_bspec *b)
{
	const char *end = opts ? s + strcspn(s, ",") : s + strlen(s);
	const char *addr = s, *colon, *port = NULL;
	size_t alen;
	char pbuf[32];
	int rc;

	memset(b, 0, sizeof(*b));
	if (*s == '[') {
		const char *rb = memchr(s, ']', (size_t)(end - s));

		if (!rb)
			return fg_usage_error(cmd, "backend '%s': missing ']' after the IPv6 address", s);
		addr = s + 1;
		alen = (size_t)(rb - addr);
		if (rb + 1 < end) {
			if (rb[1] != ':')
				return fg_usage_error(cmd, "backend '%s': expected ':PORT' after ']'", s);
			port = rb + 2;
		}
		if (!fg_parse_ip(addr, alen, b) || b->family != AF_INET6)
			return fg_usage_error(cmd, "backend '%s': '%.*s' is not an IPv6 address",
					      s, (int)alen, addr);
	} else {
		colon = memchr(s, ':', (size_t)(end - s));
		/* Two colons or more without brackets: a bare IPv6 address. */
		if (colon && memchr(colon + 1, ':', (size_t)(end - colon - 1)))
			colon = NULL;
		alen = colon ? (size_t)(colon - s) : (size_t)(end - s);
		if (colon)
			port = colon + 1;
		if (!fg_parse_ip(addr, alen, b))
			return fg_usage_error(cmd, "backend '%s': '%.*s' is not an IP address (IPv6 with a port: [2001:db8::1]:8080)",
					      s, (int)alen, addr);
	}
	if (port) {
		size_t plen = (size_t)(end - port);

		if (!plen || plen >= sizeof(pbuf))
			return fg_usage_error(cmd, "backend '%s': bad port", s);
		memcpy(pbuf, port, plen);
		pbuf[plen] = '\0';
		rc = fg_parse_u64(cmd, "backend port", pbuf, INT64_MAX, &b->port);
		if (rc)
			return rc;
		b->has_port = true;
	}
	while (opts && *end == ',') {
		const char *kv = end + 1, *eq;
		size_t klen;
		char vbuf[64];

		end = kv + strcspn(kv, ",");
		eq = memchr(kv, '=', (size_t)(end - kv));
		if (!eq || eq == kv || (size_t)(end - eq - 1) >= sizeof(vbuf) || eq + 1 == end)
			return fg_usage_error(cmd, "backend '%s': expected weight=W or state=S after ','", s);
		klen = (size_t)(eq - kv);
		memcpy(vbuf, eq + 1, (size_t)(end - eq - 1));
		vbuf[end - eq - 1] = '\0';
		if (klen == 6 && !strncmp(kv, "weight", 6)) {
			rc = fg_parse_u64(cmd, "backend weight", vbuf, INT64_MAX, &b->weight);
			if (rc)
				return rc;
			b->has_weight = true;
		} else if (klen == 5 && !strncmp(kv, "state", 5)) {
			b->state = eq + 1;	/* points into argv: lives on */
		} else {
			return fg_usage_error(cmd, "backend '%s': unknown option '%.*s' (weight or state)",
					      s, (int)klen, kv);
		}
	}
	return 0;
}

/*
 * fg_bspec_json - the API backend object for b: addr, and port, weight,
 * state when given. b->state points into a longer word ("...,state=drain,
 * weight=5"), so it is cut at the next ','. Returns a new reference.
 */
static json_t *fg_bspec_json(const struct fg_bspec *b)
{
	json_t *o = json_object();

	if (!o)
		fg_oom();
	fg_json_set(o, "addr", json_string(b->addr));
	if (b->has_port)
		fg_json_set(o, "port", json_integer((json_int_t)b->port));
	if (b->has_weight)
		fg_json_set(o, "weight", json_integer((json_int_t)b->weight));
	if (b->state)
		fg_json_set(o, "state", json_stringn(b->state, strcspn(b->state, ",")));
	return o;
}

/* ------------------------------------------------------------ tables */

/* Rows of text cells printed as left-aligned columns. */
struct fg_table {
	size_t ncols;
	size_t nrows;		/* header row included */
	size_t cap;
	char **cells;		/* nrows * ncols strings */
};

/* fg_table_row - append a row of t->ncols cells (copied; NULL is "-"). */
static void fg_table_row(struct fg_table *t, const char *const *cells)
{
	size_t k;

	if (t->nrows == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 16;
		t->cells = fg_xrealloc(t->cells, t->cap * t->ncols * sizeof(char *));
	}
	for (k = 0; k < t->ncols; k++)
		t->cells[t->nrows * t->ncols + k] = fg_xstrdup(cells[k] ? cells[k] : "-");
	t->nrows++;
}

/* fg_table_init - start a table whose first row is the headers. */
static void fg_table_init(struct fg_table *t, size_t ncols, const char *const *heads)
{
	memset(t, 0, sizeof(*t));
	t->ncols = ncols;
	fg_table_row(t, heads);
}

/* fg_table_free - release the table's cells; accepts an empty table. */
static void fg_table_free(struct fg_table *t)
{
	size_t i;

	for (i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	memset(t, 0, sizeof(*t));
}

/* fg_table_print - print the table to stdout, columns two spaces apart,
 * the last column unpadded; then free it. */
static void fg_table_print(struct fg_table *t)
{
	size_t w[FG_TABLE_COLS_MAX] = { 0 };
	size_t r, k, n;

	for (r = 0; r < t->nrows; r++)
		for (k = 0; k < t->ncols; k++) {
			n = strlen(t->cells[r * t->ncols + k]);
			if (n > w[k])
				w[k] = n;
		}
	for (r = 0; r < t->nrows; r++) {
		for (k = 0; k < t->ncols; k++) {
			const char *s = t->cells[r * t->ncols + k];

			if (k + 1 < t->ncols)
				printf("%-*s  ", (int)w[k], s);
			else
				printf("%s\n", s);
		}
	}
	fg_table_free(t);
}

/*
 * fg_jfmt - a JSON value as table text in buf: strings as they are,
 * numbers, booleans as yes/no, null or missing as "-", arrays of scalars
 * joined by ", ", other containers as compact JSON (truncated to fit).
 * Returns buf.
 */
static const char *fg_jfmt(const json_t *v, char *buf, size_t size)
{
	size_t i, off = 0;
	json_t *el;
	char *s;

	if (json_is_array(v)) {
		bool scalars = true;

		json_array_foreach(v, i, el)
			if (json_is_object(el) || json_is_array(el))
				scalars = false;
		if (scalars) {
			snprintf(buf, size, "-");
			json_array_foreach(v, i, el) {
				char one[FG_CELL_MAX];

				fg_jfmt(el, one, sizeof(one));
				if (off < size)
					off += (size_t)snprintf(buf + off, size - off, "%s%s",
								i ? ", " : "", one);
			}
			return buf;
		}
	}
	switch (v ? json_typeof(v) : JSON_NULL) {
	case JSON_STRING:
		snprintf(buf, size, "%s", json_string_value(v));
		break;
	case JSON_INTEGER:
		snprintf(buf, size, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		break;
	case JSON_REAL:
		snprintf(buf, size, "%g", json_real_value(v));
		break;
	case JSON_TRUE:
		snprintf(buf, size, "yes");
		break;
	case JSON_FALSE:
		snprintf(buf, size, "no");
		break;
	case JSON_ARRAY:	/* of containers */
	case JSON_OBJECT:
		s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
		snprintf(buf, size, "%s", s ? s : "?");
		free(s);
		break;
	default:
		snprintf(buf, size, "-");
		break;
	}
	return buf;
}

/* fg_jcell - fg_jfmt of obj[key] into buf. */
static const char *fg_jcell(const json_t *obj, const char *key, char *buf, size_t size)
{
	return fg_jfmt(json_object_get(obj, key), buf, size);
}

/* fg_kv_add - add one "key:" / value row to a two-column table. */
static void fg_kv_add(struct fg_table *t, const char *key, const char *val)
{
	char *k = fg_xasprintf("%s:", key);
	const char *row[2] = { k, val };

	t->ncols = 2;
	fg_table_row(t, row);
	free(k);
}

/*
 * fg_kv_collect - add "key:" / value rows to a two-column table for every
 * scalar under v, nested object members as "a.b", arrays of containers as
 * "a[i].b", arrays of scalars joined on one row.
 */
static void fg_kv_collect(struct fg_table *t, const char *prefix, const json_t *v)
{
	char val[FG_CELL_MAX];
	const char *key;
	json_t *el;
	size_t i;

	if (json_is_object(v) && json_object_size(v)) {
		json_object_foreach((json_t *)v, key, el) {
			char *sub = prefix ? fg_xasprintf("%s.%s", prefix, key) : fg_xstrdup(key);

			fg_kv_collect(t, sub, el);
			free(sub);
		}
		return;
	}
	if (json_is_array(v) && json_array_size(v)) {
		bool scalars = true;

		json_array_foreach(v, i, el)
			if (json_is_object(el) || json_is_array(el))
				scalars = false;
		if (!scalars) {
			json_array_foreach(v, i, el) {
				char *sub = fg_xasprintf("%s[%zu]", prefix ? prefix : "", i);

				fg_kv_collect(t, sub, el);
				free(sub);
			}
			return;
		}
	}
	fg_kv_add(t, prefix ? prefix : "value", fg_jfmt(v, val, sizeof(val)));
}

/* fg_kv_members - add rows for every scalar under obj (see
 * fg_kv_collect), skipping the member named skip (NULL: none). */
static void fg_kv_members(struct fg_table *t, const json_t *obj, const char *skip)
{
	const char *key;
	json_t *el;

	t->ncols = 2;
	json_object_foreach((json_t *)obj, key, el) {
		if (skip && !strcmp(key, skip))
			continue;
		fg_kv_collect(t, key, el);
	}
}

/* fg_strcmp_p - qsort comparator for an array of C strings. */
static int fg_strcmp_p(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * fg_sorted_keys - obj's member names sorted (a new array of pointers into
 * obj, which must outlive it); *n gets the count.
 */
static const char **fg_sorted_keys(const json_t *obj, size_t *n)
{
	const char **keys = fg_xrealloc(NULL, (json_object_size(obj) + 1) * sizeof(char *));
	const char *key;
	json_t *el;

	*n = 0;
	json_object_foreach((json_t *)obj, key, el)
		keys[(*n)++] = key;
	qsort(keys, *n, sizeof(char *), fg_strcmp_p);
	return keys;
}

/*
 * fg_named_map - the name -> object map in a list answer. API.md leaves
 * the list shape open, so accept: root[key] as an object of objects, or
 * as an array of objects with "name"; root itself as such an array; or
 * root's members that are objects (beside e.g. "version"). Returns a new
 * reference, or NULL when the answer is none of these.
 */
static json_t *fg_named_map(json_t *root, const char *key)
{
	json_t *src = json_object_get(root, key), *map, *el, *name;
	const char *k;
	size_t i;

	if (json_is_object(src))
		return json_incref(src);
	if (!src && json_is_array(root))
		src = root;
	map = json_object();
	if (!map)
		fg_oom();
	if (json_is_array(src)) {
		json_array_foreach(src, i, el) {
			name = json_object_get(el, "name");
			if (!json_is_string(name)) {
				json_decref(map);
				return NULL;
			}
			if (json_object_set(map, json_string_value(name), el))
				fg_oom();
		}
		return map;
	}
	if (src || !json_is_object(root)) {
		json_decref(map);
		return NULL;
	}
	json_object_foreach(root, k, el)
		if (json_is_object(el) && json_object_set(map, k, el))
			fg_oom();
	return map;
}

/* ----------------------------------------------------------- help */

static const char fg_help_main[] =
	"usage: fgctl [--api URL] [--token-file FILE] [--json] [--timeout SECONDS]\n"
	"             COMMAND [ARGS...]\n"
	"\n"
	"fgctl drives floodgated through its REST API: the API at --api URL, else\n"
	"$FLOODGATE_API, else " FG_API_DEFAULT "; the token from --token-file FILE\n"
	"(one trailing newline trimmed), else $FLOODGATE_TOKEN.\n"
	"\n"
	"commands:\n"
	"  status    this node: name, software, dataplane, rule versions, store\n"
	"  service   ls | get | set | rm: virtual services\n"
	"  backend   add | drain | rm | set-weight: one backend of a service\n"
	"  limit     ls | get | set | rm: rate limits\n"
	"  apply     replace the whole rule set from a file (PUT /v1/config)\n"
	"  config    get: the whole rule set (GET /v1/config)\n"
	"  stats     counters, once or redrawn with --watch\n"
	"  nodes     cluster members\n"
	"\n"
	"global options (anywhere before '--'):\n"
	"  --api URL           the API's base URL\n"
	"  --token-file FILE   read the bearer token from FILE\n"
	"  --json              print the API's JSON answers unchanged\n"
	"  --timeout SECONDS   give up on a request after this long (default 30)\n"
	"  --help, -h          this text; 'fgctl COMMAND --help' for a command\n"
	"  --version           fgctl's version\n"
	"\n"
	"exit status: 0 ok, 1 the API answered with an error, 2 usage error,\n"
	"3 cannot reach the API.\n";

static const char fg_help_status[] =
	"usage: fgctl status\n"
	"\n"
	"Show this node (GET /v1/status): its name, software version, dataplane\n"
	"kind and interfaces, the stored rules_version and the applied_version the\n"
	"dataplane runs, and the store with its health. 'sync' says whether the\n"
	"latest rules are live.\n";

static const char fg_help_service[] =
	"usage: fgctl service ls\n"
	"       fgctl service get NAME\n"
	"       fgctl service set NAME --file FILE [--if-version N]\n"
	"       fgctl service set NAME --vip ADDR --port N [options] [--if-version N]\n"
	"       fgctl service rm NAME [--if-version N]\n"
	"\n"
	"  ls    list the services (GET /v1/services)\n"
	"  get   one service and its backends (GET /v1/services/NAME)\n"
	"  set   create or replace a service (PUT /v1/services/NAME), from a JSON\n"
	"        file ('-' reads stdin, sent unchanged) or from these options:\n"
	"          --vip ADDR            the virtual address (IPv4 or IPv6)\n"
	"          --port N              the port, 0 for every port\n"
	"          --proto tcp|udp\n"
	"          --mode l4|l7\n"
	"          --forward dsr-ipip|dsr-gue|nat\n"
	"          --hash 5tuple|src_ip\n"
	"          --backend ADDR[:PORT][,weight=W][,state=S]   repeatable;\n"
	"                                IPv6 as [2001:db8::1]:8080\n"
	"          --health tcp|http     health checks, with optionally\n"
	"          --health-interval MS --health-timeout MS --health-rise N\n"
	"          --health-fall N --health-port N --health-path PATH\n"
	"          --health-expect STATUS\n"
	"        Values the options leave out take the server's defaults.\n"
	"  rm    delete a service (DELETE /v1/services/NAME)\n"
	"\n"
	"--if-version N makes the write conditional (If-Match: \"N\"): it fails\n"
	"with 412 when the rule set is no longer at version N.\n";

static const char fg_help_backend[] =
	"usage: fgctl backend add SERVICE ADDR[:PORT] [--weight W]\n"
	"       fgctl backend drain SERVICE ADDR[:PORT]\n"
	"       fgctl backend rm SERVICE ADDR[:PORT]\n"
	"       fgctl backend set-weight SERVICE ADDR[:PORT] W\n"
	"\n"
	"  add          add a backend (weight W, else the server's default)\n"
	"  drain        set the backend's state to drain: no new flows,\n"
	"               established flows stay\n"
	"  rm           remove the backend\n"
	"  set-weight   set the backend's weight (0 also drains)\n"
	"\n"
	"IPv6 addresses with a port are written [2001:db8::1]:8080. Without a\n"
	"port, ADDR names the one backend with that address (the service's port\n"
	"when adding).\n"
	"\n"
	"Each command reads the service (GET /v1/services/SERVICE), changes its\n"
	"backends and writes it back (PUT) with If-Match set to the ETag of the\n"
	"read, so nothing another client wrote in between is lost. When that\n"
	"write fails with 412 (the rule set changed meanwhile) fgctl starts over\n"
	"from the read, at most 3 more times, then reports the conflict (exit 1).\n";

static const char fg_help_limit[] =
	"usage: fgctl limit ls\n"
	"       fgctl limit get NAME\n"
	"       fgctl limit set NAME --file FILE [--if-version N]\n"
	"       fgctl limit set NAME --unit U --rate R [options] [--if-version N]\n"
	"       fgctl limit rm NAME [--if-version N]\n"
	"\n"
	"  ls    list the rate limits (GET /v1/limits)\n"
	"  get   one limit (GET /v1/limits/NAME)\n"
	"  set   create or replace a limit (PUT /v1/limits/NAME), from a JSON\n"
	"        file ('-' reads stdin, sent unchanged) or from these options:\n"
	"          --service S           apply to service S's traffic only\n"
	"          --key K               src_ip, src_prefix/N, flow, service\n"
	"          --unit U              pps, bps, cps, rps\n"
	"          --rate R              units per second\n"
	"          --burst B             bucket size, in units\n"
	"          --action A            drop, reset, respond\n"
	"          --match-src CIDR      only from these sources\n"
	"          --match-proto P       only tcp or udp\n"
	"          --match-dport N       only to this destination port\n"
	"          --scope node|cluster  rate per node or for the whole cluster\n"
	"          --dry-run             count what would be limited, change nothing\n"
	"        Values the options leave out take the server's defaults.\n"
	"  rm    delete a limit (DELETE /v1/limits/NAME)\n"
	"\n"
	"--if-version N makes the write conditional (If-Match: \"N\").\n";

static const char fg_help_apply[] =
	"usage: fgctl apply -f FILE [--if-version N]\n"
	"\n"
	"Replace the whole rule set atomically with FILE (PUT /v1/config; '-'\n"
	"reads stdin). The file is the body, sent unchanged: {\"services\": {...},\n"
	"\"limits\": {...}, \"routes\": {...}, \"seckill\": {...}}, without \"version\".\n"
	"\n"
	"  -f, --file FILE    the rule set\n"
	"  --if-version N     apply only if the rule set is still at version N\n"
	"                     (If-Match: \"N\"); else 412 and nothing changes\n";

static const char fg_help_config[] =
	"usage: fgctl config get\n"
	"\n"
	"  get   the whole rule set (GET /v1/config): its version and a summary\n"
	"        of services and limits; with --json the JSON that 'fgctl apply'\n"
	"        takes (less \"version\").\n";

static const char fg_help_stats[] =
	"usage: fgctl stats [--watch [SECONDS]] [--count N]\n"
	"\n"
	"Show the counters (GET /v1/stats): services (packets, bytes, new flows),\n"
	"their backends (packets, new flows, healthy), limits (passed, limited),\n"
	"flash-sale rules when there are any, and drops by reason.\n"
	"\n"
	"  --watch [SECONDS]   redraw every SECONDS (default 1, fractions allowed)\n"
	"                      until interrupted (Ctrl-C)\n"
	"  --count N           stop after N refreshes (implies --watch)\n"
	"\n"
	"With --json each refresh prints the API's answer unchanged, followed by\n"
	"a newline when it has none.\n";

static const char fg_help_nodes[] =
	"usage: fgctl nodes\n"
	"\n"
	"List the cluster members (GET /v1/nodes): name, group, address, the\n"
	"rule version each has applied, and whether it is alive.\n";

/* ------------------------------------------------------------ status */

/*
 * fg_cmd_status - "fgctl status": every field of GET /v1/status as
 * "key: value" lines, then whether the applied version caught up.
 */
static int fg_cmd_status(struct fg_ctx *c, struct fg_args *a)
{
	struct fg_resp r = { 0 };
	struct fg_table t = { 0 };
	json_t *root = NULL, *rv, *av;
	int rc;

	rc = fg_no_args(a, fg_help_status);
	if (rc >= 0)
		return rc;
	rc = fg_get(c, "/v1/status", &r, &root);
	if (rc || !root)
		goto out;
	if (!json_is_object(root)) {
		fputs("fgctl: GET /v1/status: the answer is not a JSON object\n", stderr);
		rc = FG_EXIT_API;
		goto out;
	}
	fg_kv_members(&t, root, NULL);
	fg_table_print(&t);
	/* Its own line, unaligned: "^sync: applied" is what scripts match. */
	rv = json_object_get(root, "rules_version");
	av = json_object_get(root, "applied_version");
	if (json_is_integer(rv) && json_is_integer(av)) {
		if (json_integer_value(rv) == json_integer_value(av))
			printf("sync: applied (version %" JSON_INTEGER_FORMAT " is live)\n",
			       json_integer_value(rv));
		else
			printf("sync: pending (stored %" JSON_INTEGER_FORMAT ", applied %"
			       JSON_INTEGER_FORMAT ")\n",
			       json_integer_value(rv), json_integer_value(av));
	}
out:
	json_decref(root);
	fg_resp_free(&r);
	return rc;
}

/* ---------------------------------------------------------- services */

/* fg_service_row - one service as a row of the service list. */
static void fg_service_row(struct fg_table *t, const char *name, const json_t *s)
{
	char vip[FG_CELL_MAX], port[32], proto[32], mode[32], fwd[32], hash[32];
	char nb[32], health[64];
	json_t *be = json_object_get(s, "backends");
	json_t *h = json_object_get(s, "health");
	size_t i, active = 0;
	json_t *el;

	json_array_foreach(be, i, el) {
		json_t *st = json_object_get(el, "state");

		if (!json_is_string(st) || !strcmp(json_string_value(st), "active"))
			active++;
	}
	snprintf(nb, sizeof(nb), "%zu (%zu active)", json_array_size(be), active);
	if (json_is_object(h))
		fg_jcell(h, "type", health, sizeof(health));
	else
		snprintf(health, sizeof(health), "-");
	{
		const char *row[] = {
			name, fg_jcell(s, "vip", vip, sizeof(vip)),
			fg_jcell(s, "port", port, sizeof(port)),
			fg_jcell(s, "proto", proto, sizeof(proto)),
			fg_jcell(s, "mode", mode, sizeof(mode)),
			fg_jcell(s, "forward", fwd, sizeof(fwd)),
			fg_jcell(s, "hash", hash, sizeof(hash)),
			nb, health,
		};

		fg_table_row(t, row);
	}
}

/* fg_print_services - the service list table for a name -> Service map. */
static void fg_print_services(const json_t *map)
{
	static const char *const heads[] = {
		"NAME", "VIP", "PORT", "PROTO", "MODE", "FORWARD", "HASH",
		"BACKENDS", "HEALTH",
	};
	struct fg_table t;
	const char **keys;
	size_t n, i;

	if (!json_object_size(map)) {
		puts("no services");
		return;
	}
	fg_table_init(&t, 9, heads);
	keys = fg_sorted_keys(map, &n);
	for (i = 0; i < n; i++)
		fg_service_row(&t, keys[i], json_object_get(map, keys[i]));
	free(keys);
	fg_table_print(&t);
}

/* fg_print_backends - the backend table of one service. */
static void fg_print_backends(const json_t *be)
{
	static const char *const heads[] = { "ADDR", "PORT", "WEIGHT", "STATE" };
	char addr[FG_CELL_MAX], port[32], weight[32], state[32];
	struct fg_table t;
	json_t *el;
	size_t i;

	if (!json_array_size(be)) {
		puts("no backends");
		return;
	}
	fg_table_init(&t, 4, heads);
	json_array_foreach(be, i, el) {
		const char *row[] = {
			fg_jcell(el, "addr", addr, sizeof(addr)),
			fg_jcell(el, "port", port, sizeof(port)),
			fg_jcell(el, "weight", weight, sizeof(weight)),
			fg_jcell(el, "state", state, sizeof(state)),
		};

		fg_table_row(&t, row);
	}
	fg_table_print(&t);
}

/*
 * fg_list - GET path and print the name -> object map under key with
 * print(); the shared body of "service ls" and "limit ls".
 */
static int fg_list(struct fg_ctx *c, const char *path, const char *key,
		   void (*print)(const json_t *))
{
	struct fg_resp r = { 0 };
	json_t *root = NULL, *map;
	int rc;

	rc = fg_get(c, path, &r, &root);
	if (rc || !root)
		goto out;
	map = fg_named_map(root, key);
	if (!map) {
		fprintf(stderr, "fgctl: GET %s: no %s in the answer\n", path, key);
		rc = FG_EXIT_API;
		goto out;
	}
	print(map);
	json_decref(map);
out:
	json_decref(root);
	fg_resp_free(&r);
	return rc;
}

/*
 * fg_show_one - GET /v1/<kind>/<name> and print it: "name:" then every
 * field as key: value, and for services the backend table.
 */
static int fg_show_one(struct fg_ctx *c, const char *kind, const char *name)
{
	struct fg_resp r = { 0 };
	json_t *root = NULL, *obj;
	char *path = fg_name_path(kind, name);
	bool svc = !strcmp(kind, "services");
	int rc;

	rc = fg_get(c, path, &r, &root);
	if (rc || !root)
		goto out;
	/* A wrapped answer ({"service": {...}}) is unwrapped. */
	obj = json_object_get(root, svc ? "service" : "limit");
	if (!json_is_object(obj))
		obj = root;
	if (!json_is_object(obj)) {
		fprintf(stderr, "fgctl: GET %s: the answer is not a JSON object\n", path);
		rc = FG_EXIT_API;
		goto out;
	}
	{
		struct fg_table t = { 0 };

		if (!json_object_get(obj, "name"))
			fg_kv_add(&t, "name", name);
		fg_kv_members(&t, obj, svc ? "backends" : NULL);
		if (t.nrows)
			fg_table_print(&t);
	}
	if (svc) {
		putchar('\n');
		fg_print_backends(json_object_get(obj, "backends"));
	}
out:
	json_decref(root);
	fg_resp_free(&r);
	free(path);
	return rc;
}

/*
 * fg_put_or_rm - the write of "service|limit set|rm": PUT body (len bytes)
 * or, with body NULL, DELETE /v1/<kind>/<name>, conditional on if_version
 * ("" for unconditional); `noun` names the object in the message.
 * Returns the exit status.
 */
static int fg_put_or_rm(struct fg_ctx *c, const char *kind, const char *noun,
			const char *name, const char *body, size_t len,
			const char *if_version)
{
	struct fg_resp r = { 0 };
	char *path = fg_name_path(kind, name);
	char im[48], ver[64];
	int rc;

	snprintf(im, sizeof(im), "\"%s\"", if_version);
	rc = fg_write(c, body ? "PUT" : "DELETE", path, body, len,
		      *if_version ? im : NULL, &r);
	if (!rc && !c->json)
		printf("%s %s %s%s\n", noun, name,
		       !body ? "deleted" : r.status == 201 ? "created" : "replaced",
		       fg_answer_version(&r, ver, sizeof(ver)));
	fg_resp_free(&r);
	free(path);
	return rc;
}

/* Options of "service set". */
enum {
	FG_SO_FILE, FG_SO_IFV, FG_SO_VIP, FG_SO_PORT, FG_SO_PROTO, FG_SO_MODE,
	FG_SO_FORWARD, FG_SO_HASH, FG_SO_BACKEND, FG_SO_HEALTH, FG_SO_HINT,
	FG_SO_HTMO, FG_SO_HRISE, FG_SO_HFALL, FG_SO_HPORT, FG_SO_HPATH,
	FG_SO_HEXPECT,
};

static const struct fg_opt fg_service_set_opts[] = {
	[FG_SO_FILE] = { "--file", FG_ARG_REQ },
	[FG_SO_IFV] = { "--if-version", FG_ARG_REQ },
	[FG_SO_VIP] = { "--vip", FG_ARG_REQ },
	[FG_SO_PORT] = { "--port", FG_ARG_REQ },
	[FG_SO_PROTO] = { "--proto", FG_ARG_REQ },
	[FG_SO_MODE] = { "--mode", FG_ARG_REQ },
	[FG_SO_FORWARD] = { "--forward", FG_ARG_REQ },
	[FG_SO_HASH] = { "--hash", FG_ARG_REQ },
	[FG_SO_BACKEND] = { "--backend", FG_ARG_REQ },
	[FG_SO_HEALTH] = { "--health", FG_ARG_REQ },
	[FG_SO_HINT] = { "--health-interval", FG_ARG_REQ },
	[FG_SO_HTMO] = { "--health-timeout", FG_ARG_REQ },
	[FG_SO_HRISE] = { "--health-rise", FG_ARG_REQ },
	[FG_SO_HFALL] = { "--health-fall", FG_ARG_REQ },
	[FG_SO_HPORT] = { "--health-port", FG_ARG_REQ },
	[FG_SO_HPATH] = { "--health-path", FG_ARG_REQ },
	[FG_SO_HEXPECT] = { "--health-expect", FG_ARG_REQ },
	{ NULL, 0 },
};

/* The JSON member each numeric health option sets. */
static const char *fg_health_num_key(int opt)
{
	switch (opt) {
	case FG_SO_HINT: return "interval_ms";
	case FG_SO_HTMO: return "timeout_ms";
	case FG_SO_HRISE: return "rise";
	case FG_SO_HFALL: return "fall";
	case FG_SO_HPORT: return "port";
	default: return "expect_status";
	}
}

/*
 * fg_parse_if_version - check --if-version's value is a whole number and
 * copy it to out (the digits go into If-Match: "N"). Returns 0 or
 * FG_EXIT_USAGE.
 */
static int fg_parse_if_version(const char *cmd, const char *v, char *out, size_t size)
{
	uint64_t n;
	int rc = fg_parse_u64(cmd, "--if-version", v, INT64_MAX, &n);

	if (!rc)
		snprintf(out, size, "%" PRIu64, n);
	return rc;
}

/*
 * fg_service_set - "fgctl service set NAME (--file F | options)": PUT the
 * file unchanged, or the Service object the options build.
 */
static int fg_service_set(struct fg_ctx *c, struct fg_args *a)
{
	json_t *obj = json_object(), *backends = NULL, *health = NULL;
	const char *name = NULL, *file = NULL, *v, *flag = NULL, *hflag = NULL;
	struct fg_buf body = { 0 };
	char ifv[32] = "", *text = NULL;
	struct fg_bspec b;
	uint64_t n;
	int k, rc = 0;

	if (!obj)
		fg_oom();
	while (!rc && (k = fg_opt_next(a, fg_service_set_opts, &v)) != FG_OPT_END) {
		switch (k) {
		case FG_OPT_HELP:
			rc = fg_help(fg_help_service);
			goto out;
		case FG_OPT_ERR:
			rc = FG_EXIT_USAGE;
			break;
		case FG_OPT_POS:
			if (name)
				rc = fg_extra_word(a, v);
			name = v;
			break;
		case FG_SO_FILE:
			file = v;
			break;
		case FG_SO_IFV:
			rc = fg_parse_if_version(a->cmd, v, ifv, sizeof(ifv));
			break;
		case FG_SO_VIP:
			if (!fg_parse_ip(v, strlen(v), &b))
				rc = fg_usage_error(a->cmd, "--vip: '%s' is not an IP address", v);
			else
				fg_json_set(obj, "vip", json_string(v));
			break;
		case FG_SO_PORT:
			rc = fg_parse_u64(a->cmd, "--port", v, INT64_MAX, &n);
			if (!rc)
				fg_json_set(obj, "port", json_integer((json_int_t)n));
			break;
		case FG_SO_PROTO:
		case FG_SO_MODE:
		case FG_SO_FORWARD:
		case FG_SO_HASH:
			if (!*v)
				rc = fg_usage_error(a->cmd, "%s needs a value",
						    fg_service_set_opts[k].name);
			else
				fg_json_set(obj, fg_service_set_opts[k].name + 2, json_string(v));
			break;
		case FG_SO_BACKEND:
			rc = fg_parse_backend(a->cmd, v, true, &b);
			if (rc)
				break;
			if (!backends) {
				backends = json_array();
				if (!backends)
					fg_oom();
				fg_json_set(obj, "backends", backends);
			}
			if (json_array_append_new(backends, fg_bspec_json(&b)))
				fg_oom();
			break;
		case FG_SO_HEALTH:
		case FG_SO_HPATH:
			if (!health) {
				health = json_object();
				if (!health)
					fg_oom();
				fg_json_set(obj, "health", health);
			}
			if (k == FG_SO_HEALTH) {
				/* "type" first, whatever the order of the options */
				json_t *old = json_deep_copy(health);
				const char *hk;
				json_t *hv;

				json_object_clear(health);
				fg_json_set(health, "type", json_string(v));
				json_object_foreach(old, hk, hv)
					if (strcmp(hk, "type"))
						json_object_set(health, hk, hv);
				json_decref(old);
			} else {
				fg_json_set(health, "path", json_string(v));
				hflag = fg_service_set_opts[k].name;
			}
			break;
		default:	/* the numeric --health-* options */
			rc = fg_parse_u64(a->cmd, fg_service_set_opts[k].name, v, INT64_MAX, &n);
			if (rc)
				break;
			if (!health) {
				health = json_object();
				if (!health)
					fg_oom();
				fg_json_set(obj, "health", health);
			}
			fg_json_set(health, fg_health_num_key(k), json_integer((json_int_t)n));
			hflag = fg_service_set_opts[k].name;
			break;
		}
		if (k >= FG_SO_VIP)
			flag = fg_service_set_opts[k].name;
	}
	if (rc)
		goto out;
	if (!name) {
		rc = fg_usage_error(a->cmd, "missing the service NAME");
		goto out;
	}
	if (!*name) {
		rc = fg_usage_error(a->cmd, "the service NAME is empty");
		goto out;
	}
	if (file && flag) {
		rc = fg_usage_error(a->cmd, "--file and %s exclude each other: the file is the whole service",
				    flag);
		goto out;
	}
	if (!file && !flag) {
		rc = fg_usage_error(a->cmd, "give --file FILE or the service's fields (--vip, --port, ...)");
		goto out;
	}
	if (hflag && !json_object_get(health, "type")) {
		rc = fg_usage_error(a->cmd, "%s needs --health tcp|http", hflag);
		goto out;
	}
	if (file) {
		rc = fg_read_file(file, &body);
		if (rc)
			goto out;
		rc = fg_put_or_rm(c, "services", "service", name, body.data, body.len, ifv);
	} else {
		text = fg_dump(obj);
		rc = fg_put_or_rm(c, "services", "service", name, text, strlen(text), ifv);
	}
out:
	free(text);
	fg_buf_free(&body);
	json_decref(obj);
	return rc;
}

/*
 * fg_name_cmd - parse "NAME [--if-version N]" (if_version NULL: NAME only)
 * for get/rm; prints help on --help (*help set). Returns 0 or the exit
 * status.
 */
static int fg_name_cmd(struct fg_args *a, const char *help, const char **name,
		       char *ifv, size_t ifv_size, bool *helped)
{
	static const struct fg_opt opts[] = { { "--if-version", FG_ARG_REQ }, { NULL, 0 } };
	const char *v;
	int k, rc;

	*name = NULL;
	*helped = false;
	while ((k = fg_opt_next(a, ifv ? opts : NULL, &v)) != FG_OPT_END) {
		if (k == FG_OPT_HELP) {
			*helped = true;
			return fg_help(help);
		}
		if (k == FG_OPT_ERR)
			return FG_EXIT_USAGE;
		if (k == FG_OPT_POS) {
			if (*name)
				return fg_extra_word(a, v);
			*name = v;
			continue;
		}
		rc = fg_parse_if_version(a->cmd, v, ifv, ifv_size);
		if (rc)
			return rc;
	}
	if (!*name || !**name)
		return fg_usage_error(a->cmd, "missing the NAME");
	return 0;
}

/*
 * fg_subcommand - the subcommand word after "fgctl <group>": returns it,
 * or NULL with *rc set (help printed on --help, usage error otherwise).
 * a->cmd becomes "<group> <sub>".
 */
static const char *fg_subcommand(struct fg_args *a, const char *group,
				 const char *help, const char *const *subs,
				 char *cmdbuf, size_t size, int *rc)
{
	const char *v;
	int k, i;

	k = fg_opt_next(a, NULL, &v);
	if (k == FG_OPT_HELP) {
		*rc = fg_help(help);
		return NULL;
	}
	if (k == FG_OPT_ERR) {
		*rc = FG_EXIT_USAGE;
		return NULL;
	}
	if (k == FG_OPT_END) {
		*rc = fg_usage_error(group, "missing the subcommand");
		return NULL;
	}
	for (i = 0; subs[i]; i++)
		if (!strcmp(v, subs[i])) {
			snprintf(cmdbuf, size, "%s %s", group, v);
			a->cmd = cmdbuf;
			return v;
		}
	*rc = fg_usage_error(group, "unknown subcommand '%s'", v);
	return NULL;
}

/* fg_cmd_service - "fgctl service ls|get|set|rm". */
static int fg_cmd_service(struct fg_ctx *c, struct fg_args *a)
{
	static const char *const subs[] = { "ls", "get", "set", "rm", NULL };
	const char *sub, *name;
	char cmd[32], ifv[32] = "";
	bool helped;
	int rc;

	sub = fg_subcommand(a, "service", fg_help_service, subs, cmd, sizeof(cmd), &rc);
	if (!sub)
		return rc;
	if (!strcmp(sub, "ls")) {
		rc = fg_no_args(a, fg_help_service);
		return rc >= 0 ? rc : fg_list(c, "/v1/services", "services", fg_print_services);
	}
	if (!strcmp(sub, "set"))
		return fg_service_set(c, a);
	if (!strcmp(sub, "get")) {
		rc = fg_name_cmd(a, fg_help_service, &name, NULL, 0, &helped);
		return rc || helped ? rc : fg_show_one(c, "services", name);
	}
	rc = fg_name_cmd(a, fg_help_service, &name, ifv, sizeof(ifv), &helped);
	return rc || helped ? rc : fg_put_or_rm(c, "services", "service", name, NULL, 0, ifv);
}

/* ---------------------------------------------------------- backends */

enum { FG_BE_ADD, FG_BE_DRAIN, FG_BE_RM, FG_BE_WEIGHT };

/*
 * fg_json_u64 - obj[key] as a non-negative integer into *out. Returns
 * true when it is one.
 */
static bool fg_json_u64(const json_t *obj, const char *key, uint64_t *out)
{
	json_t *v = json_object_get(obj, key);

	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return false;
	*out = (uint64_t)json_integer_value(v);
	return true;
}

/*
 * fg_backend_matches - true when the API backend object el is the one b
 * names: same address (compared as addresses, so "2001:db8::1" is
 * "2001:0db8::1"), and when b has a port, the same port, a backend without
 * one having the service's port (svc_port).
 */
static bool fg_backend_matches(const json_t *el, const struct fg_bspec *b,
			       bool svc_has_port, uint64_t svc_port)
{
	json_t *addr = json_object_get(el, "addr");
	struct fg_bspec other;
	uint64_t port;
	bool has_port;

	if (!json_is_string(addr) ||
	    !fg_parse_ip(json_string_value(addr), strlen(json_string_value(addr)), &other) ||
	    other.family != b->family || memcmp(other.bin, b->bin, sizeof(b->bin)))
		return false;
	if (!b->has_port)
		return true;
	has_port = fg_json_u64(el, "port", &port);
	if (!has_port) {
		has_port = svc_has_port;
		port = svc_port;
	}
	return has_port && port == b->port;
}

/* fg_bspec_text - ADDR[:PORT] for messages, IPv6 bracketed with a port. */
static const char *fg_bspec_text(const struct fg_bspec *b, char *buf, size_t size)
{
	if (!b->has_port)
		snprintf(buf, size, "%s", b->addr);
	else if (b->family == AF_INET6)
		snprintf(buf, size, "[%s]:%" PRIu64, b->addr, b->port);
	else
		snprintf(buf, size, "%s:%" PRIu64, b->addr, b->port);
	return buf;
}

/*
 * fg_backend_edit - apply op to the service object svc (as read): add b,
 * or find the one backend b names and drain it, remove it or set its
 * weight. Returns 0, FG_EXIT_API when the backend is missing (or present,
 * for add), FG_EXIT_USAGE when ADDR without a port names several.
 */
static int fg_backend_edit(json_t *svc, const char *name, int op,
			   const struct fg_bspec *b, uint64_t weight)
{
	json_t *be = json_object_get(svc, "backends"), *el, *hit = NULL;
	char txt[INET6_ADDRSTRLEN + 32];
	size_t i, hit_i = 0, nhits = 0;
	uint64_t svc_port = 0;
	bool svc_has_port = fg_json_u64(svc, "port", &svc_port);

	if (!be || json_is_null(be)) {
		be = json_array();
		if (!be)
			fg_oom();
		fg_json_set(svc, "backends", be);
	}
	if (!json_is_array(be)) {
		fprintf(stderr, "fgctl: service %s: \"backends\" in the answer is not an array\n",
			name);
		return FG_EXIT_API;
	}
	fg_bspec_text(b, txt, sizeof(txt));
	if (op == FG_BE_ADD) {
		/* Without a port the new backend gets the service's: that is
		 * the pair that must not exist yet. */
		struct fg_bspec key = *b;

		if (!key.has_port && svc_has_port) {
			key.has_port = true;
			key.port = svc_port;
		}
		json_array_foreach(be, i, el)
			if (fg_backend_matches(el, &key, svc_has_port, svc_port)) {
				fprintf(stderr, "fgctl: service %s already has backend %s (see 'fgctl backend set-weight')\n",
					name, txt);
				return FG_EXIT_API;
			}
		if (json_array_append_new(be, fg_bspec_json(b)))
			fg_oom();
		return 0;
	}
	json_array_foreach(be, i, el)
		if (fg_backend_matches(el, b, svc_has_port, svc_port)) {
			if (!nhits++) {
				hit = el;
				hit_i = i;
			}
		}
	if (!nhits) {
		fprintf(stderr, "fgctl: service %s has no backend %s\n", name, txt);
		return FG_EXIT_API;
	}
	if (nhits > 1) {
		fprintf(stderr, "fgctl: service %s has %zu backends at %s; name one as ADDR:PORT\n",
			name, nhits, txt);
		return FG_EXIT_USAGE;
	}
	if (op == FG_BE_RM) {
		if (json_array_remove(be, hit_i))
			fg_oom();
	} else if (op == FG_BE_DRAIN) {
		fg_json_set(hit, "state", json_string("drain"));
	} else {
		fg_json_set(hit, "weight", json_integer((json_int_t)weight));
	}
	return 0;
}

/*
 * fg_rules_version - GET /v1/status's rules_version as If-Match text into
 * buf; used when a service answer carries neither an ETag nor a version.
 * Returns 0 or the exit status after printing why.
 */
static int fg_rules_version(struct fg_ctx *c, char *buf, size_t size)
{
	struct fg_resp r = { 0 };
	json_t *root = NULL, *v;
	int rc;

	rc = fg_request(c, "GET", "/v1/status", NULL, 0, NULL, &r);
	if (!rc && !fg_ok(&r))
		rc = fg_api_fail(c, &r, "GET /v1/status");
	if (!rc)
		rc = fg_parse_answer(&r, "GET /v1/status", &root);
	if (!rc) {
		v = json_object_get(root, "rules_version");
		if (json_is_integer(v)) {
			snprintf(buf, size, "\"%" JSON_INTEGER_FORMAT "\"", json_integer_value(v));
		} else {
			fputs("fgctl: cannot learn the rule set's version: no ETag, no \"version\", no rules_version in /v1/status\n",
			      stderr);
			rc = FG_EXIT_API;
		}
	}
	json_decref(root);
	fg_resp_free(&r);
	return rc;
}

/*
 * fg_read_service - GET the service at path into *obj (new reference),
 * with the version it was read at as If-Match text in im: the ETag, else
 * the body's "version". im is "" when the answer had neither. Returns 0
 * or the exit status after printing why.
 */
static int fg_read_service(struct fg_ctx *c, const char *path, json_t **obj,
			   char *im, size_t im_size)
{
	struct fg_resp r = { 0 };
	json_t *root = NULL, *inner, *v;
	char *what = fg_xasprintf("GET %s", path);
	int rc;

	*obj = NULL;
	im[0] = '\0';
	rc = fg_request(c, "GET", path, NULL, 0, NULL, &r);
	if (!rc && !fg_ok(&r))
		rc = fg_api_fail(c, &r, what);
	if (!rc)
		rc = fg_parse_answer(&r, what, &root);
	if (!rc) {
		inner = json_object_get(root, "service");
		if (!json_is_object(inner))
			inner = root;
		if (!json_is_object(inner)) {
			fprintf(stderr, "fgctl: %s: the answer is not a JSON object\n", what);
			rc = FG_EXIT_API;
		} else {
			v = json_object_get(root, "version");
			if (r.etag[0])
				snprintf(im, im_size, "%s", r.etag);
			else if (json_is_integer(v))
				snprintf(im, im_size, "\"%" JSON_INTEGER_FORMAT "\"",
					 json_integer_value(v));
			*obj = json_deep_copy(inner);
			if (!*obj)
				fg_oom();
			/* Not Service fields: the server refuses unknown
			 * fields on a PUT. */
			json_object_del(*obj, "name");
			json_object_del(*obj, "version");
		}
	}
	json_decref(root);
	fg_resp_free(&r);
	free(what);
	return rc;
}

/*
 * fg_backend_rmw - read the service, edit its backends (op), write it back
 * conditional on the version read; on 412 start over, at most
 * FG_RMW_RETRIES more times. Returns the exit status.
 */
static int fg_backend_rmw(struct fg_ctx *c, const char *name, int op,
			  const struct fg_bspec *b, uint64_t weight)
{
	static const char *const verbs[] = {
		[FG_BE_ADD] = "added to", [FG_BE_DRAIN] = "draining in",
		[FG_BE_RM] = "removed from", [FG_BE_WEIGHT] = "re-weighted in",
	};
	struct fg_resp r = { 0 };
	char *path = fg_name_path("services", name), *what, *text = NULL;
	char im[128], txt[INET6_ADDRSTRLEN + 32], ver[64];
	json_t *svc = NULL;
	int attempt, rc = 0;

	what = fg_xasprintf("PUT %s", path);
	for (attempt = 0; attempt <= FG_RMW_RETRIES; attempt++) {
		json_decref(svc);
		free(text);
		text = NULL;
		rc = fg_read_service(c, path, &svc, im, sizeof(im));
		if (!rc && !im[0]) {
			/* No version on the read: take the rule set's version
			 * first and read again, so the data read is at least
			 * that new; a change in between then makes the PUT
			 * fail with 412 rather than be lost. */
			json_decref(svc);
			svc = NULL;
			rc = fg_rules_version(c, im, sizeof(im));
			if (!rc) {
				char unused[8];

				rc = fg_read_service(c, path, &svc, unused, sizeof(unused));
			}
		}
		if (!rc)
			rc = fg_backend_edit(svc, name, op, b, weight);
		if (rc)
			goto out;
		text = fg_dump(svc);
		rc = fg_request(c, "PUT", path, text, strlen(text), im, &r);
		if (rc)
			goto out;
		if (fg_ok(&r))
			break;
		if (r.status != 412) {
			rc = fg_api_fail(c, &r, what);
			goto out;
		}
		if (attempt < FG_RMW_RETRIES)
			fprintf(stderr, "fgctl: service %s changed while editing it (412); retrying (%d of %d)\n",
				name, attempt + 1, FG_RMW_RETRIES);
	}
	if (attempt > FG_RMW_RETRIES) {
		rc = fg_api_fail(c, &r, what);
		fprintf(stderr, "fgctl: gave up after %d attempts: the rule set kept changing while editing service %s; nothing was changed by fgctl, try again\n",
			FG_RMW_RETRIES + 1, name);
		goto out;
	}
	if (c->json)
		fg_passthrough(&r);
	else
		printf("backend %s %s service %s%s\n", fg_bspec_text(b, txt, sizeof(txt)),
		       verbs[op], name, fg_answer_version(&r, ver, sizeof(ver)));
out:
	json_decref(svc);
	free(text);
	free(what);
	free(path);
	fg_resp_free(&r);
	return rc;
}

/* fg_cmd_backend - "fgctl backend add|drain|rm|set-weight SERVICE ADDR[:PORT] ...". */
static int fg_cmd_backend(struct fg_ctx *c, struct fg_args *a)
{
	static const char *const subs[] = { "add", "drain", "rm", "set-weight", NULL };
	static const struct fg_opt add_opts[] = { { "--weight", FG_ARG_REQ }, { NULL, 0 } };
	const char *sub, *v, *pos[3] = { NULL, NULL, NULL };
	struct fg_bspec b;
	uint64_t weight = 0;
	bool has_weight = false;
	char cmd[32];
	int k, op, npos = 0, want, rc;

	sub = fg_subcommand(a, "backend", fg_help_backend, subs, cmd, sizeof(cmd), &rc);
	if (!sub)
		return rc;
	op = !strcmp(sub, "add") ? FG_BE_ADD : !strcmp(sub, "drain") ? FG_BE_DRAIN :
	     !strcmp(sub, "rm") ? FG_BE_RM : FG_BE_WEIGHT;
	want = op == FG_BE_WEIGHT ? 3 : 2;
	while ((k = fg_opt_next(a, op == FG_BE_ADD ? add_opts : NULL, &v)) != FG_OPT_END) {
		if (k == FG_OPT_HELP)
			return fg_help(fg_help_backend);
		if (k == FG_OPT_ERR)
			return FG_EXIT_USAGE;
		if (k == FG_OPT_POS) {
			if (npos == want)
				return fg_extra_word(a, v);
			pos[npos++] = v;
			continue;
		}
		rc = fg_parse_u64(a->cmd, "--weight", v, INT64_MAX, &weight);
		if (rc)
			return rc;
		has_weight = true;
	}
	if (npos < want)
		return fg_usage_error(a->cmd, npos == 0 ? "missing SERVICE and ADDR[:PORT]" :
				      npos == 1 ? "missing ADDR[:PORT]" : "missing the weight W");
	if (!*pos[0])
		return fg_usage_error(a->cmd, "the SERVICE name is empty");
	rc = fg_parse_backend(a->cmd, pos[1], false, &b);
	if (rc)
		return rc;
	if (op == FG_BE_WEIGHT) {
		rc = fg_parse_u64(a->cmd, "weight", pos[2], INT64_MAX, &weight);
		if (rc)
			return rc;
	}
	if (op == FG_BE_ADD && has_weight) {
		b.has_weight = true;
		b.weight = weight;
	}
	return fg_backend_rmw(c, pos[0], op, &b, weight);
}

/* ------------------------------------------------------------ limits */

/* fg_print_limits - the limit list table for a name -> Limit map. */
static void fg_print_limits(const json_t *map)
{
	static const char *const heads[] = {
		"NAME", "SERVICE", "KEY", "UNIT", "RATE", "BURST", "ACTION",
		"SCOPE", "DRY_RUN", "MATCH",
	};
	char c1[FG_CELL_MAX], c2[64], c3[32], c4[32], c5[32], c6[32], c7[32];
	char c8[32], match[FG_CELL_MAX];
	struct fg_table t;
	const char **keys;
	size_t n, i;

	if (!json_object_size(map)) {
		puts("no limits");
		return;
	}
	fg_table_init(&t, 10, heads);
	keys = fg_sorted_keys(map, &n);
	for (i = 0; i < n; i++) {
		json_t *l = json_object_get(map, keys[i]), *m = json_object_get(l, "match");
		size_t off = 0;
		const char *mk;
		json_t *mv;

		match[0] = '\0';
		json_object_foreach(m, mk, mv) {
			char one[FG_CELL_MAX / 2];

			if (off < sizeof(match))
				off += (size_t)snprintf(match + off, sizeof(match) - off, "%s%s=%s",
							off ? " " : "", mk,
							fg_jfmt(mv, one, sizeof(one)));
		}
		{
			const char *row[] = {
				keys[i], fg_jcell(l, "service", c1, sizeof(c1)),
				fg_jcell(l, "key", c2, sizeof(c2)),
				fg_jcell(l, "unit", c3, sizeof(c3)),
				fg_jcell(l, "rate", c4, sizeof(c4)),
				fg_jcell(l, "burst", c5, sizeof(c5)),
				fg_jcell(l, "action", c6, sizeof(c6)),
				fg_jcell(l, "scope", c7, sizeof(c7)),
				fg_jcell(l, "dry_run", c8, sizeof(c8)),
				match[0] ? match : "-",
			};

			fg_table_row(&t, row);
		}
	}
	free(keys);
	fg_table_print(&t);
}

/* Options of "limit set". */
enum {
	FG_LO_FILE, FG_LO_IFV, FG_LO_SERVICE, FG_LO_KEY, FG_LO_UNIT, FG_LO_RATE,
	FG_LO_BURST, FG_LO_ACTION, FG_LO_SRC, FG_LO_PROTO, FG_LO_DPORT,
	FG_LO_SCOPE, FG_LO_DRYRUN,
};

static const struct fg_opt fg_limit_set_opts[] = {
	[FG_LO_FILE] = { "--file", FG_ARG_REQ },
	[FG_LO_IFV] = { "--if-version", FG_ARG_REQ },
	[FG_LO_SERVICE] = { "--service", FG_ARG_REQ },
	[FG_LO_KEY] = { "--key", FG_ARG_REQ },
	[FG_LO_UNIT] = { "--unit", FG_ARG_REQ },
	[FG_LO_RATE] = { "--rate", FG_ARG_REQ },
	[FG_LO_BURST] = { "--burst", FG_ARG_REQ },
	[FG_LO_ACTION] = { "--action", FG_ARG_REQ },
	[FG_LO_SRC] = { "--match-src", FG_ARG_REQ },
	[FG_LO_PROTO] = { "--match-proto", FG_ARG_REQ },
	[FG_LO_DPORT] = { "--match-dport", FG_ARG_REQ },
	[FG_LO_SCOPE] = { "--scope", FG_ARG_REQ },
	[FG_LO_DRYRUN] = { "--dry-run", FG_ARG_NONE },
	{ NULL, 0 },
};

/*
 * fg_check_cidr - true when s is ADDR or ADDR/DIGITS with ADDR an IP
 * literal (whether the prefix length fits is the server's call).
 */
static bool fg_check_cidr(const char *s)
{
	const char *slash = strchr(s, '/');
	struct fg_bspec b;

	if (!fg_parse_ip(s, slash ? (size_t)(slash - s) : strlen(s), &b))
		return false;
	if (!slash)
		return true;
	if (!slash[1] || strspn(slash + 1, "0123456789") != strlen(slash + 1))
		return false;
	return true;
}

/*
 * fg_limit_set - "fgctl limit set NAME (--file F | options)": PUT the file
 * unchanged, or the Limit object the options build.
 */
static int fg_limit_set(struct fg_ctx *c, struct fg_args *a)
{
	json_t *obj = json_object(), *match = NULL;
	const char *name = NULL, *file = NULL, *v, *flag = NULL;
	struct fg_buf body = { 0 };
	char ifv[32] = "", *text = NULL;
	uint64_t n;
	int k, rc = 0;

	if (!obj)
		fg_oom();
	while (!rc && (k = fg_opt_next(a, fg_limit_set_opts, &v)) != FG_OPT_END) {
		switch (k) {
		case FG_OPT_HELP:
			rc = fg_help(fg_help_limit);
			goto out;
		case FG_OPT_ERR:
			rc = FG_EXIT_USAGE;
			break;
		case FG_OPT_POS:
			if (name)
				rc = fg_extra_word(a, v);
			name = v;
			break;
		case FG_LO_FILE:
			file = v;
			break;
		case FG_LO_IFV:
			rc = fg_parse_if_version(a->cmd, v, ifv, sizeof(ifv));
			break;
		case FG_LO_RATE:
		case FG_LO_BURST:
			rc = fg_parse_u64(a->cmd, fg_limit_set_opts[k].name, v, INT64_MAX, &n);
			if (!rc)
				fg_json_set(obj, fg_limit_set_opts[k].name + 2,
					    json_integer((json_int_t)n));
			break;
		case FG_LO_DRYRUN:
			fg_json_set(obj, "dry_run", json_true());
			break;
		case FG_LO_SRC:
		case FG_LO_PROTO:
		case FG_LO_DPORT:
			if (k == FG_LO_SRC && !fg_check_cidr(v)) {
				rc = fg_usage_error(a->cmd, "--match-src: '%s' is not ADDR or ADDR/LEN", v);
				break;
			}
			if (k == FG_LO_DPORT) {
				rc = fg_parse_u64(a->cmd, "--match-dport", v, INT64_MAX, &n);
				if (rc)
					break;
			}
			if (!match) {
				match = json_object();
				if (!match)
					fg_oom();
				fg_json_set(obj, "match", match);
			}
			if (k == FG_LO_SRC)
				fg_json_set(match, "src", json_string(v));
			else if (k == FG_LO_PROTO)
				fg_json_set(match, "proto", json_string(v));
			else
				fg_json_set(match, "dst_port", json_integer((json_int_t)n));
			break;
		default:	/* --service --key --unit --action --scope */
			if (!*v)
				rc = fg_usage_error(a->cmd, "%s needs a value",
						    fg_limit_set_opts[k].name);
			else
				fg_json_set(obj, fg_limit_set_opts[k].name + 2, json_string(v));
			break;
		}
		if (k >= FG_LO_SERVICE)
			flag = fg_limit_set_opts[k].name;
	}
	if (rc)
		goto out;
	if (!name || !*name) {
		rc = fg_usage_error(a->cmd, "missing the limit NAME");
		goto out;
	}
	if (file && flag) {
		rc = fg_usage_error(a->cmd, "--file and %s exclude each other: the file is the whole limit",
				    flag);
		goto out;
	}
	if (!file && !flag) {
		rc = fg_usage_error(a->cmd, "give --file FILE or the limit's fields (--unit, --rate, ...)");
		goto out;
	}
	if (file) {
		rc = fg_read_file(file, &body);
		if (rc)
			goto out;
		rc = fg_put_or_rm(c, "limits", "limit", name, body.data, body.len, ifv);
	} else {
		text = fg_dump(obj);
		rc = fg_put_or_rm(c, "limits", "limit", name, text, strlen(text), ifv);
	}
out:
	free(text);
	fg_buf_free(&body);
	json_decref(obj);
	return rc;
}

/* fg_cmd_limit - "fgctl limit ls|get|set|rm". */
static int fg_cmd_limit(struct fg_ctx *c, struct fg_args *a)
{
	static const char *const subs[] = { "ls", "get", "set", "rm", NULL };
	const char *sub, *name;
	char cmd[32], ifv[32] = "";
	bool helped;
	int rc;

	sub = fg_subcommand(a, "limit", fg_help_limit, subs, cmd, sizeof(cmd), &rc);
	if (!sub)
		return rc;
	if (!strcmp(sub, "ls")) {
		rc = fg_no_args(a, fg_help_limit);
		return rc >= 0 ? rc : fg_list(c, "/v1/limits", "limits", fg_print_limits);
	}
	if (!strcmp(sub, "set"))
		return fg_limit_set(c, a);
	if (!strcmp(sub, "get")) {
		rc = fg_name_cmd(a, fg_help_limit, &name, NULL, 0, &helped);
		return rc || helped ? rc : fg_show_one(c, "limits", name);
	}
	rc = fg_name_cmd(a, fg_help_limit, &name, ifv, sizeof(ifv), &helped);
	return rc || helped ? rc : fg_put_or_rm(c, "limits", "limit", name, NULL, 0, ifv);
}

/* ----------------------------------------------------- apply, config */

/* fg_cmd_apply - "fgctl apply -f FILE [--if-version N]": PUT /v1/config. */
static int fg_cmd_apply(struct fg_ctx *c, struct fg_args *a)
{
	static const struct fg_opt opts[] = {
		{ "-f", FG_ARG_REQ }, { "--file", FG_ARG_REQ },
		{ "--if-version", FG_ARG_REQ }, { NULL, 0 },
	};
	struct fg_resp r = { 0 };
	struct fg_buf body = { 0 };
	const char *file = NULL, *v;
	char ifv[32] = "", im[48], ver[64];
	int k, rc;

	while ((k = fg_opt_next(a, opts, &v)) != FG_OPT_END) {
		if (k == FG_OPT_HELP)
			return fg_help(fg_help_apply);
		if (k == FG_OPT_ERR)
			return FG_EXIT_USAGE;
		if (k == FG_OPT_POS)
			return fg_extra_word(a, v);
		if (k == 2) {
			rc = fg_parse_if_version(a->cmd, v, ifv, sizeof(ifv));
			if (rc)
				return rc;
		} else {
			file = v;
		}
	}
	if (!file)
		return fg_usage_error(a->cmd, "missing -f FILE (the rule set; '-' for stdin)");
	rc = fg_read_file(file, &body);
	if (rc)
		goto out;
	snprintf(im, sizeof(im), "\"%s\"", ifv);
	rc = fg_write(c, "PUT", "/v1/config", body.data, body.len, *ifv ? im : NULL, &r);
	if (!rc && !c->json)
		printf("rule set applied%s\n", fg_answer_version(&r, ver, sizeof(ver)));
out:
	fg_buf_free(&body);
	fg_resp_free(&r);
	return rc;
}

/* fg_print_config - the human summary of GET /v1/config. */
static void fg_print_config(const json_t *root)
{
	static const char *const kinds[] = { "routes", "seckill" };
	json_t *v = json_object_get(root, "version"), *m;
	char buf[64];
	size_t i;

	printf("version: %s\n\n", fg_jfmt(v, buf, sizeof(buf)));
	m = json_object_get(root, "services");
	fg_print_services(json_is_object(m) ? m : NULL);
	putchar('\n');
	m = json_object_get(root, "limits");
	fg_print_limits(json_is_object(m) ? m : NULL);
	for (i = 0; i < 2; i++) {
		m = json_object_get(root, kinds[i]);
		if (json_object_size(m))
			printf("\n%s: %zu (see --json)\n", kinds[i], json_object_size(m));
	}
}

/* fg_cmd_config - "fgctl config get". */
static int fg_cmd_config(struct fg_ctx *c, struct fg_args *a)
{
	static const char *const subs[] = { "get", NULL };
	struct fg_resp r = { 0 };
	json_t *root = NULL;
	char cmd[32];
	int rc;

	if (!fg_subcommand(a, "config", fg_help_config, subs, cmd, sizeof(cmd), &rc))
		return rc;
	rc = fg_no_args(a, fg_help_config);
	if (rc >= 0)
		return rc;
	rc = fg_get(c, "/v1/config", &r, &root);
	if (!rc && root) {
		if (json_is_object(root)) {
			fg_print_config(root);
		} else {
			fputs("fgctl: GET /v1/config: the answer is not a JSON object\n", stderr);
			rc = FG_EXIT_API;
		}
	}
	json_decref(root);
	fg_resp_free(&r);
	return rc;
}

/* ------------------------------------------------------ stats, nodes */

/* fg_counter_row - a table row of name cells then obj[keys...] cells. */
static void fg_counter_row(struct fg_table *t, const char *const *names, size_t nnames,
			   const json_t *obj, const char *const *keys)
{
	char cells[FG_TABLE_COLS_MAX][64];
	const char *row[FG_TABLE_COLS_MAX];
	size_t k;

	for (k = 0; k < t->ncols; k++)
		row[k] = k < nnames ? names[k] :
			 fg_jcell(obj, keys[k - nnames], cells[k], sizeof(cells[k]));
	fg_table_row(t, row);
}

/* fg_print_stats - the tables of one GET /v1/stats answer. */
static void fg_print_stats(const json_t *root)
{
	static const char *const sh[] = { "SERVICE", "PACKETS", "BYTES", "NEW_FLOWS" };
	static const char *const sk[] = { "packets", "bytes", "new_flows" };
	static const char *const bh[] = { "SERVICE", "BACKEND", "PACKETS", "NEW_FLOWS", "HEALTHY" };
	static const char *const bk[] = { "packets", "new_flows", "healthy" };
	static const char *const lh[] = { "LIMIT", "PASSED", "LIMITED" };
	static const char *const lk[] = { "passed", "limited" };
	static const char *const kh[] = { "SECKILL", "ADMITTED", "SHED", "SOLD_OUT", "STOCK_LEFT" };
	static const char *const kk[] = { "admitted", "shed", "sold_out", "stock_left" };
	static const char *const dh[] = { "DROP", "COUNT" };
	json_t *svcs = json_object_get(root, "services"), *v = json_object_get(root, "version");
	json_t *lims = json_object_get(root, "limits"), *sk_ = json_object_get(root, "seckill");
	json_t *drops = json_object_get(root, "drops"), *el, *be, *bel;
	const char **keys, *bname;
	struct fg_table t;
	char buf[64];
	size_t n, i;

	if (v)
		printf("rules version: %s\n\n", fg_jfmt(v, buf, sizeof(buf)));
	if (json_object_size(svcs)) {
		keys = fg_sorted_keys(svcs, &n);
		fg_table_init(&t, 4, sh);
		for (i = 0; i < n; i++)
			fg_counter_row(&t, &keys[i], 1, json_object_get(svcs, keys[i]), sk);
		fg_table_print(&t);
		putchar('\n');
		fg_table_init(&t, 5, bh);
		for (i = 0; i < n; i++) {
			be = json_object_get(json_object_get(svcs, keys[i]), "backends");
			json_object_foreach(be, bname, bel) {
				const char *names[] = { keys[i], bname };

				fg_counter_row(&t, names, 2, bel, bk);
			}
		}
		if (t.nrows > 1) {
			fg_table_print(&t);
		} else {
			fg_table_free(&t);
			puts("no backends");
		}
		free(keys);
	} else {
		puts("no services");
	}
	putchar('\n');
	if (json_object_size(lims)) {
		keys = fg_sorted_keys(lims, &n);
		fg_table_init(&t, 3, lh);
		for (i = 0; i < n; i++)
			fg_counter_row(&t, &keys[i], 1, json_object_get(lims, keys[i]), lk);
		fg_table_print(&t);
		free(keys);
	} else {
		puts("no limits");
	}
	if (json_object_size(sk_)) {
		putchar('\n');
		keys = fg_sorted_keys(sk_, &n);
		fg_table_init(&t, 5, kh);
		for (i = 0; i < n; i++)
			fg_counter_row(&t, &keys[i], 1, json_object_get(sk_, keys[i]), kk);
		fg_table_print(&t);
		free(keys);
	}
	if (json_object_size(drops)) {
		putchar('\n');
		fg_table_init(&t, 2, dh);
		json_object_foreach(drops, bname, el) {
			const char *row[] = { bname, fg_jfmt(el, buf, sizeof(buf)) };

			fg_table_row(&t, row);
		}
		fg_table_print(&t);
	}
}

static volatile sig_atomic_t fg_interrupted;

/* fg_on_sigint - SIGINT during --watch: stop after the current refresh. */
static void fg_on_sigint(int sig)
{
	(void)sig;
	fg_interrupted = 1;
}

/* fg_sleep - sleep for seconds unless interrupted by SIGINT. */
static void fg_sleep(double seconds)
{
	struct timespec ts, rem;

	ts.tv_sec = (time_t)seconds;
	ts.tv_nsec = (long)((seconds - (double)ts.tv_sec) * 1e9);
	while (!fg_interrupted && nanosleep(&ts, &rem) && errno == EINTR)
		ts = rem;
}

/* fg_cmd_stats - "fgctl stats [--watch [SECONDS]] [--count N]". */
static int fg_cmd_stats(struct fg_ctx *c, struct fg_args *a)
{
	static const struct fg_opt opts[] = {
		{ "--watch", FG_ARG_OPTNUM }, { "--count", FG_ARG_REQ }, { NULL, 0 },
	};
	struct fg_resp r = { 0 };
	json_t *root = NULL;
	const char *v;
	bool watch = false, tty = isatty(STDOUT_FILENO);
	double interval = 1.0;
	uint64_t count = 0, done;
	char *end;
	int k, rc;

	while ((k = fg_opt_next(a, opts, &v)) != FG_OPT_END) {
		if (k == FG_OPT_HELP)
			return fg_help(fg_help_stats);
		if (k == FG_OPT_ERR)
			return FG_EXIT_USAGE;
		if (k == FG_OPT_POS)
			return fg_extra_word(a, v);
		if (k == 0) {
			watch = true;
			if (!v)
				continue;
			errno = 0;
			interval = strtod(v, &end);
			if (!fg_is_number(v) || *end || errno || interval <= 0 ||
			    interval > FG_WATCH_MAX_S)
				return fg_usage_error(a->cmd, "--watch: '%s' is not a number of seconds in (0, %.0f]",
						      v, FG_WATCH_MAX_S);
		} else {
			rc = fg_parse_u64(a->cmd, "--count", v, UINT32_MAX, &count);
			if (rc)
				return rc;
			if (!count)
				return fg_usage_error(a->cmd, "--count: must be at least 1");
			watch = true;
		}
	}
	if (!watch) {
		rc = fg_get(c, "/v1/stats", &r, &root);
		if (!rc && root)
			fg_print_stats(root);
		goto out;
	}

	{
		struct sigaction sa;

		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = fg_on_sigint;
		sigemptyset(&sa.sa_mask);
		sigaction(SIGINT, &sa, NULL);	/* no SA_RESTART: wake the sleep */
	}
	rc = 0;
	for (done = 0; !fg_interrupted && (!count || done < count); done++) {
		if (done)
			fg_sleep(interval);
		if (fg_interrupted)
			break;
		json_decref(root);
		root = NULL;
		if (!c->json && tty)
			fputs("\033[H\033[2J", stdout);	/* home, clear screen */
		else if (!c->json && done)
			putchar('\n');
		rc = fg_get(c, "/v1/stats", &r, &root);
		if (rc)
			break;
		if (c->json) {
			if (!r.body.len || r.body.data[r.body.len - 1] != '\n')
				putchar('\n');
		} else {
			time_t now = time(NULL);
			char ts[32];

			strftime(ts, sizeof(ts), "%Y-%m-%d %H:%M:%S", localtime(&now));
			printf("every %gs: fgctl stats  %s\n\n", interval, ts);
			fg_print_stats(root);
		}
		fflush(stdout);
	}
out:
	json_decref(root);
	fg_resp_free(&r);
	return rc;
}

/* fg_print_nodes - the cluster member table. */
static void fg_print_nodes(const json_t *root)
{
	static const char *const heads[] = { "NAME", "GROUP", "ADDRESS", "APPLIED", "ALIVE" };
	json_t *list = json_object_get(root, "nodes"), *map = NULL;
	char c1[FG_CELL_MAX], c2[FG_CELL_MAX], c3[64], c4[32], c5[32];
	const char *key, **keys = NULL;
	struct fg_table t;
	size_t i, n = 0;

	if (!list)
		list = (json_t *)root;
	if (json_is_object(list)) {	/* a name -> node map */
		map = list;
		keys = fg_sorted_keys(map, &n);
	} else {
		n = json_array_size(list);
	}
	if (!n) {
		puts("no nodes");
		return;
	}
	fg_table_init(&t, 5, heads);
	for (i = 0; i < n; i++) {
		const json_t *node = map ? json_object_get(map, keys[i]) : json_array_get(list, i);
		json_t *addr = json_object_get(node, "address");
		json_t *ver = json_object_get(node, "applied_version");

		if (!json_is_object(node))
			continue;
		if (!addr)
			addr = json_object_get(node, "addr");
		if (!ver)
			ver = json_object_get(node, "version");
		key = map ? keys[i] : fg_jcell(node, "name", c1, sizeof(c1));
		{
			const char *row[] = {
				key, fg_jcell(node, "group", c2, sizeof(c2)),
				fg_jfmt(addr, c3, sizeof(c3)), fg_jfmt(ver, c4, sizeof(c4)),
				fg_jcell(node, "alive", c5, sizeof(c5)),
			};

			fg_table_row(&t, row);
		}
	}
	free(keys);
	fg_table_print(&t);
}

/* fg_cmd_nodes - "fgctl nodes". */
static int fg_cmd_nodes(struct fg_ctx *c, struct fg_args *a)
{
	struct fg_resp r = { 0 };
	json_t *root = NULL;
	int rc = fg_no_args(a, fg_help_nodes);

	if (rc >= 0)
		return rc;
	rc = fg_get(c, "/v1/nodes", &r, &root);
	if (!rc && root)
		fg_print_nodes(root);
	json_decref(root);
	fg_resp_free(&r);
	return rc;
}

/* -------------------------------------------------------------- main */

/* A top-level command. */
struct fg_command {
	const char *name;
	int (*run)(struct fg_ctx *c, struct fg_args *a);
};

static const struct fg_command fg_commands[] = {
	{ "status", fg_cmd_status },
	{ "service", fg_cmd_service },
	{ "backend", fg_cmd_backend },
	{ "limit", fg_cmd_limit },
	{ "apply", fg_cmd_apply },
	{ "config", fg_cmd_config },
	{ "stats", fg_cmd_stats },
	{ "nodes", fg_cmd_nodes },
	{ NULL, NULL },
};

/*
 * fg_take_globals - move the global options (--api, --token-file, --json,
 * --timeout, in "--opt VALUE" or "--opt=VALUE" form) out of argv into c,
 * anywhere before a "--"; the other words stay in order in argv, their
 * count in *argc. Returns 0 or FG_EXIT_USAGE.
 */
static int fg_take_globals(struct fg_ctx *c, int *argc, char **argv)
{
	static const char *const names[] = { "--api", "--token-file", "--timeout", NULL };
	int i, out = 1, k;

	for (i = 1; i < *argc; i++) {
		const char *w = argv[i], *val = NULL;
		size_t nlen;

		if (!strcmp(w, "--")) {
			while (i < *argc)
				argv[out++] = argv[i++];
			break;
		}
		if (!strcmp(w, "--json")) {
			c->json = true;
			continue;
		}
		nlen = strchr(w, '=') ? (size_t)(strchr(w, '=') - w) : strlen(w);
		for (k = 0; names[k]; k++)
			if (strlen(names[k]) == nlen && !strncmp(w, names[k], nlen))
				break;
		if (!names[k]) {
			argv[out++] = argv[i];
			continue;
		}
		if (w[nlen] == '=')
			val = w + nlen + 1;
		else if (i + 1 < *argc)
			val = argv[++i];
		else
			return fg_usage_error(NULL, "%s needs a value", names[k]);
		if (k == 0) {
			c->api_arg = val;
		} else if (k == 1) {
			if (!*val)
				return fg_usage_error(NULL, "--token-file: empty file name");
			c->token_file = val;
		} else {
			uint64_t t;
			int rc = fg_parse_u64(NULL, "--timeout", val, FG_TIMEOUT_MAX, &t);

			if (rc)
				return rc;
			if (!t)
				return fg_usage_error(NULL, "--timeout: must be at least 1 second");
			c->timeout_s = (long)t;
		}
	}
	*argc = out;
	argv[out] = NULL;
	return 0;
}

/* main - parse the global options, run the command, return its exit
 * status (see the file comment). */
int main(int argc, char **argv)
{
	struct fg_ctx c = { .timeout_s = FG_TIMEOUT_DEF };
	struct fg_args a;
	const struct fg_command *cmd;
	int rc;

	rc = fg_take_globals(&c, &argc, argv);
	if (rc)
		return rc;
	if (argc < 2) {
		fputs("fgctl: missing the command\n", stderr);
		fputs(fg_help_main, stderr);
		return FG_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
		return fg_help(fg_help_main);
	if (!strcmp(argv[1], "--version")) {
		printf("fgctl %s\n", FG_VERSION);
		return FG_EXIT_OK;
	}
	for (cmd = fg_commands; cmd->name; cmd++)
		if (!strcmp(argv[1], cmd->name))
			break;
	if (!cmd->name) {
		if (argv[1][0] == '-')
			return fg_usage_error(NULL, "unknown option '%s'", argv[1]);
		return fg_usage_error(NULL, "unknown command '%s'", argv[1]);
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT)) {
		fputs("fgctl: cannot initialise libcurl\n", stderr);
		return FG_EXIT_API;
	}
	a = (struct fg_args){ .argc = argc, .argv = argv, .i = 2, .cmd = cmd->name };
	rc = cmd->run(&c, &a);
	fflush(stdout);
	if (c.curl)
		curl_easy_cleanup(c.curl);
	free(c.api);
	free(c.token);
	curl_global_cleanup();
	return rc;
}
