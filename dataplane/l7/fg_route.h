/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * fg_route.h - which route of an `l7` service a request takes (API.md
 * Route; issue 15 "Routes"): every route's match fields compiled into
 * hyperscan databases on the control side, shipped serialised with the
 * table set, loaded once per version and scanned per request by each
 * worker with its own scratch.
 *
 * Two halves:
 *  - control side (may allocate, never on the fast path): fg_route_compile
 *    turns a list of struct fg_route_spec into one blob; a pattern
 *    hyperscan refuses fails the whole compile with a message naming the
 *    route, the field and hyperscan's reason (the API's 400).
 *    fg_route_load deserialises a blob into a matcher (once per version)
 *    and registers the header names the routes watch in the version's
 *    reader settings (struct fg_http_conf); fg_route_scratch_new gives
 *    each worker (lcore) the scratch it will scan with.
 *  - fast path: fg_route_match takes a request the reader completed and
 *    returns the route it takes. No allocation, no clock, no logging.
 *
 * Semantics (API.md Route; where API.md is silent the choice is here):
 *  - A route matches when every field its match names holds; a route
 *    naming no field matches every request. The highest priority wins;
 *    among equal priorities the LOWEST id wins - a rule on the routes
 *    themselves, so the verdict never depends on the order the store
 *    lists them in. Ids are unique within a compile.
 *  - host: exact and case-insensitive against the request's host (the
 *    Host header without its port, or the absolute-form target's host).
 *    One trailing dot on either side is ignored ("shop.example." is the
 *    same DNS name as "shop.example"; a backend reads them alike).
 *    `*.example.com` matches any subdomain, at any depth: a.example.com
 *    and a.b.example.com, never example.com itself ("any subdomain", as
 *    API.md says). DNS labels are not empty: a route's host with an
 *    empty label ("a..b", ".a") is refused, and a request's host with
 *    one, longer than FG_ROUTE_HOST_MAX, or absent (HTTP/1.0 without
 *    Host, an empty Host) matches no route that names a host.
 *  - path_prefix: an anchored, case-sensitive literal; path_regex: the
 *    user's hyperscan expression, unanchored unless it anchors itself.
 *    Both see the path (no query) after RFC 3986 section 6.2.2.2
 *    normalisation: %XX of an unreserved character (ALPHA DIGIT - . _ ~)
 *    decoded, the hex digits of every other %XX upper-cased. Those are
 *    the same URI to every backend, so without it `/%73eckill/1/buy`
 *    would slip past a route written for `/seckill/`; reserved escapes
 *    (%2F...) stay escaped, since decoding them changes the path.
 *  - method: exactly one of the methods the reader accepts (GET HEAD
 *    POST PUT DELETE OPTIONS TRACE PATCH), case-sensitive as RFC 9110
 *    says; anything else is refused at compile time (it could never
 *    match: the reader answers 501 first).
 *  - headers: each {name, regex} holds when the request carries the
 *    header (its value, OWS trimmed) and the regex matches it. A header
 *    absent, or sent twice with different values (a backend may read
 *    either: the reader's `differ`), does not hold.
 */
#ifndef FG_ROUTE_H
#define FG_ROUTE_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include "fg_http.h"

/* Limits on what a compile accepts. */
#define FG_ROUTE_MAX          65536u /* routes per compile */
#define FG_ROUTE_HEADERS_MAX  8u     /* header conditions per route */
#define FG_ROUTE_HOST_MAX     255u   /* bytes of host (a DNS name) */
#define FG_ROUTE_LITERAL_MAX  4096u  /* bytes of path_prefix */
#define FG_ROUTE_REGEX_MAX    4096u  /* bytes of path_regex / a regex */

/* One header condition of a route: the header's name (a token, matched
 * case-insensitively, at most FG_HTTP_NAME_MAX bytes) and a regex. */
struct fg_route_header {
	const char *name;
	const char *regex;
};

/*
 * One route as the rule model gives it: API.md Route's `match`, its
 * `priority`, and an id the control plane picks (unique, stable across
 * versions: the stats are per id). Every string is NUL-terminated; NULL
 * means the route does not name that field. Only read during the compile.
 */
struct fg_route_spec {
	uint32_t id;
	int32_t priority;
	const char *host;        /* "shop.example" or "*.example.com" */
	const char *method;      /* "GET" ... */
	const char *path_prefix; /* "/api/" */
	const char *path_regex;  /* "^/api/v[12]/" */
	uint32_t nheaders;
	const struct fg_route_header *headers;
};

/* What a fast-path match returns when no route holds. */
#define FG_ROUTE_NONE (-ENOENT)

struct fg_route_matcher;
struct fg_route_scratch;

/*
 * fg_route_compile - compile routes[0..n) into one blob: the route table
 * and the serialised hyperscan databases, for the host of the calling
 * process's CPU type (hyperscan refuses to load a database built for
 * another; floodgated compiles on the box it ships to). Control side.
 *
 * Identical patterns (the same prefix under many hosts) are compiled
 * once; the blob grows with the distinct patterns. 1,000 routes took
 * 0.6-2.6 s on this (shared, 2-core) machine: compile off the request
 * path, once per change.
 *
 * Returns 0 with *blob (malloc'd, the caller frees it) and *len set, or
 * -EINVAL with err naming the route and field ("route 7: path_regex:
 * <hyperscan's message>", "route 7: method: ..."), or -ENOMEM / -E2BIG
 * (more than FG_ROUTE_MAX routes). n may be 0 (a version without routes).
 */
int fg_route_compile(const struct fg_route_spec *routes, size_t n,
		     void **blob, size_t *len, char *err, size_t errlen);

/*
 * fg_route_load - deserialise a blob from fg_route_compile into a matcher
 * (once per version), and watch in conf every header name the routes
 * name (fg_http_watch_add: conf must be the settings the version's
 * requests are read with, still being built). Control side.
 *
 * Returns the matcher, or NULL with err set (a blob that is truncated,
 * of another format, built for another CPU type or hyperscan version;
 * too many watched names in conf).
 */
struct fg_route_matcher *fg_route_load(const void *blob, size_t len,
				       struct fg_http_conf *conf,
				       char *err, size_t errlen);

/* fg_route_matcher_free - free a matcher (NULL is fine); its scratches
 * must be freed first, or at least never used again. */
void fg_route_matcher_free(struct fg_route_matcher *m);

/* fg_route_count - routes in the matcher; fg_route_match's indexes are
 * 0 .. count-1 (a per-route counter array's size). */
uint32_t fg_route_count(const struct fg_route_matcher *m);

/* fg_route_id - the id of the route at index idx (idx < count). */
uint32_t fg_route_id(const struct fg_route_matcher *m, uint32_t idx);

/*
 * fg_route_scratch_new - a worker's scratch for matcher m: hyperscan
 * scratch sized for every database of m, per-route match state, and a
 * buffer for the normalised path. One per thread (lcore) per version,
 * made before the version is published to the worker. Returns NULL on
 * allocation failure (err set).
 */
struct fg_route_scratch *fg_route_scratch_new(const struct fg_route_matcher *m,
					      char *err, size_t errlen);

/* fg_route_scratch_free - free a scratch (NULL is fine). */
void fg_route_scratch_free(struct fg_route_scratch *s);

/*
 * fg_route_match - the route request req (completed by fg_http_feed,
 * read with the conf fg_route_load registered the names in) takes.
 *
 * Returns the route's index (>= 0; stable for this matcher, ordered by
 * priority, highest first) with its id in *id (may be NULL), FG_ROUTE_NONE
 * (-ENOENT) when no route holds (the service's own backends), or -EINVAL
 * when s was not made for m or hyperscan fails (a bug, never the
 * request's doing). Fast path: no allocation, no clock; s is this
 * thread's own and is used by one call at a time.
 */
int fg_route_match(const struct fg_route_matcher *m,
		   struct fg_route_scratch *s, const struct fg_http_req *req,
		   uint32_t *id);

#endif /* FG_ROUTE_H */
