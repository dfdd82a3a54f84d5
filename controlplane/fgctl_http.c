/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * fgctl_http.c - fgctl's HTTP client (see fgctl_http.h).
 *
 * Where: --api URL, else $FLOODGATE_API, else http://127.0.0.1:7380. Who:
 * --token-file FILE (one trailing newline trimmed), else $FLOODGATE_TOKEN,
 * sent as "Authorization: Bearer <token>".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fgctl_http.h"

/* Limits on what the server or the user can make us hold in memory: a
 * stats or config answer for a full dataplane (thousands of backends)
 * stays far below 64 MiB. */
#define FG_RESP_MAX (64U << 20)
#define FG_TOKEN_MAX 4096U

#define FG_CONNECT_TIMEOUT 5L

/* ------------------------------------------------------ where, who */

void fg_resp_free(struct fg_resp *r)
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

int fg_http_init(void)
{
	if (curl_global_init(CURL_GLOBAL_DEFAULT)) {
		fputs("fgctl: cannot initialise libcurl\n", stderr);
		return FG_EXIT_API;
	}
	return 0;
}

void fg_http_exit(struct fg_ctx *c)
{
	if (c->curl)
		curl_easy_cleanup(c->curl);
	free(c->api);
	free(c->token);
	c->curl = NULL;
	c->api = c->token = NULL;
	c->ready = false;
	curl_global_cleanup();
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

int fg_request(struct fg_ctx *c, const char *method, const char *path,
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

bool fg_ok(const struct fg_resp *r)
{
	return r->status >= 200 && r->status < 300;
}

int fg_api_fail(struct fg_ctx *c, const struct fg_resp *r, const char *what)
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

void fg_passthrough(const struct fg_resp *r)
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
 * fg_fetch - GET path; with show under --json the body is written out
 * unchanged and *root stays NULL, else the body is parsed into *root (new
 * reference). Returns 0, or the exit status after printing why.
 */
static int fg_fetch(struct fg_ctx *c, const char *path, bool show,
		    struct fg_resp *r, json_t **root)
{
	char *what = fg_xasprintf("GET %s", path);
	int rc;

	*root = NULL;
	rc = fg_request(c, "GET", path, NULL, 0, NULL, r);
	if (!rc && !fg_ok(r))
		rc = fg_api_fail(c, r, what);
	else if (!rc && show && c->json)
		fg_passthrough(r);
	else if (!rc)
		rc = fg_parse_answer(r, what, root);
	free(what);
	return rc;
}

int fg_get(struct fg_ctx *c, const char *path, struct fg_resp *r, json_t **root)
{
	return fg_fetch(c, path, true, r, root);
}

int fg_read(struct fg_ctx *c, const char *path, struct fg_resp *r, json_t **root)
{
	return fg_fetch(c, path, false, r, root);
}

const char *fg_answer_version(const struct fg_resp *r, char *buf, size_t size)
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

int fg_write(struct fg_ctx *c, const char *method, const char *path,
	     const char *body, size_t len, const char *if_match,
	     struct fg_resp *r)
{
	char *what;
	int rc;

	rc = fg_request(c, method, path, body, len, if_match, r);
	if (rc)
		return rc;
	if (!fg_ok(r)) {
		what = fg_xasprintf("%s %s", method, path);
		rc = fg_api_fail(c, r, what);
		free(what);
		if (r->status == 412)
			fputs("fgctl: the rule set is no longer at that version; read it again and retry\n",
			      stderr);
		return rc;
	}
	if (c->json)
		fg_passthrough(r);
	return 0;
}

char *fg_name_path(const char *plural, const char *name)
{
	char *esc, *path;

	esc = curl_easy_escape(NULL, name, 0);
	if (!esc)
		fg_oom();
	path = fg_xasprintf("/v1/%s/%s", plural, esc);
	curl_free(esc);
	return path;
}
