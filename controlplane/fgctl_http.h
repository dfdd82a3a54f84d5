/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * fgctl_http.h - fgctl's HTTP client for floodgated's REST API
 * (shared/API.md): where the API is and who we are (--api, --token-file,
 * their environment variables), one exchange with libcurl's easy
 * interface, and how an answer becomes output and an exit status
 * (--json passthrough, the API's error object on stderr).
 */
#ifndef FGCTL_HTTP_H
#define FGCTL_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include <curl/curl.h>
#include <jansson.h>

#include "fgctl_util.h"

#define FG_API_DEFAULT "http://127.0.0.1:7380"

#define FG_TIMEOUT_DEF 30L
#define FG_TIMEOUT_MAX 3600L

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

/*
 * fg_http_init - start libcurl, once, before the first request. Returns 0
 * or FG_EXIT_API after printing why.
 */
int fg_http_init(void);

/* fg_http_exit - release what fg_ctx_ready and fg_http_init made;
 * accepts a context that never got ready. */
void fg_http_exit(struct fg_ctx *c);

/* fg_resp_free - release an answer's body; accepts a zeroed answer. */
void fg_resp_free(struct fg_resp *r);

/*
 * fg_request - one HTTP exchange: method ("GET", "PUT", "DELETE") on
 * api + path, with body (len bytes, NULL for none) as JSON and If-Match
 * if_match (NULL for none). The API URL and the token are resolved on the
 * first call, so --help works whatever the environment. *r gets the
 * status, body and ETag whatever the status. Returns 0 when an HTTP
 * answer arrived; FG_EXIT_UNREACHABLE when none did (refused,
 * unresolvable, timed out, cut off), FG_EXIT_USAGE for a bad URL or
 * token, FG_EXIT_API for an oversized answer; the reason is printed.
 */
int fg_request(struct fg_ctx *c, const char *method, const char *path,
	       const char *body, size_t len, const char *if_match,
	       struct fg_resp *r);

/* fg_ok - true for a 2xx answer. */
bool fg_ok(const struct fg_resp *r);

/*
 * fg_api_fail - report a non-2xx answer to `what` (e.g. "PUT
 * /v1/services/web"): under --json the body goes to stdout unchanged;
 * stderr gets the API's error.message, its field and code, or the status
 * and the body's first line when the body is not the API's error object.
 * Adds a hint for 401. Returns FG_EXIT_API.
 */
int fg_api_fail(struct fg_ctx *c, const struct fg_resp *r, const char *what);

/* fg_passthrough - write an answer's body to stdout exactly as received. */
void fg_passthrough(const struct fg_resp *r);

/*
 * fg_get - GET path to show it. Under --json the body is written out
 * unchanged and *root stays NULL; otherwise the body is parsed into *root
 * (new reference). Returns 0, or the exit status after printing why.
 */
int fg_get(struct fg_ctx *c, const char *path, struct fg_resp *r, json_t **root);

/*
 * fg_read - GET path and parse the body into *root (new reference)
 * whatever --json says: a read that feeds a write, not output. Returns 0,
 * or the exit status after printing why.
 */
int fg_read(struct fg_ctx *c, const char *path, struct fg_resp *r, json_t **root);

/*
 * fg_write - send a write (PUT with body, or DELETE without) conditional
 * on if_match (NULL: unconditional). Under --json the answer body goes to
 * stdout unchanged. Returns 0 when the server accepted it (the caller then
 * prints its message unless --json), or the exit status after printing
 * why. *r keeps the answer.
 */
int fg_write(struct fg_ctx *c, const char *method, const char *path,
	     const char *body, size_t len, const char *if_match,
	     struct fg_resp *r);

/*
 * fg_answer_version - the rule-set version a write reported: the body's
 * "version", else the ETag's digits, written as " (version N)" into buf;
 * "" when the answer names none. Returns buf.
 */
const char *fg_answer_version(const struct fg_resp *r, char *buf, size_t size);

/*
 * fg_name_path - "/v1/<plural>/<name>" with the name percent-encoded (the
 * server judges whether it is a valid name; fgctl only keeps it from
 * breaking the URL). Returns a new string.
 */
char *fg_name_path(const char *plural, const char *name);

#endif /* FGCTL_HTTP_H */
