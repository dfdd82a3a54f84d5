/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * fg_rules_json.h - the API's JSON shapes (shared/API.md: Service, Limit,
 * Route, Seckill, the PUT /v1/config body) to and from the rule model (fg_rules.h), with
 * the API's error objects.
 *
 * Parsing is strict: unknown fields, wrong JSON types, floats or negatives
 * where integers belong and out-of-range values are errors that name the
 * field's path ("backends[2].port", in a config body
 * "services.web.backends[2].port"). Serialising writes every default out,
 * so GET shows exactly what a PUT stored, normalised; parse(to_json(x))
 * equals x for everything the model holds.
 *
 * Two levels of checks:
 *  - fg_service_from_json, fg_limit_from_json, fg_route_from_json and
 *    fg_seckill_from_json check one object on its own;
 *  - fg_ruleset_check checks a whole candidate rule set: (vip, port, proto)
 *    clashes (a conflict), limits naming missing or incompatible services,
 *    dataplane capacity; routes, seckill rules and rps/respond limits
 *    naming a missing or non-l7 service. fg_ruleset_from_json runs both.
 *    Whether a node's dataplane can enforce a valid set is the
 *    dataplane's check (fg_compile.c), not this file's. The API layer runs
 *    fg_ruleset_check on the candidate set for single-object writes too.
 *
 * Library code: nothing here logs; errors go to the caller in an
 * fg_api_error (which may be NULL). A NULL output pointer is a caller bug:
 * -EINVAL with FG_RULE_ENOMEM. Userspace only; reentrant.
 */
#ifndef FG_RULES_JSON_H
#define FG_RULES_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "fg_rules.h"

/* Largest request body the API accepts (API.md: larger is too large). */
#define FG_API_BODY_MAX (1U << 20)

/*
 * What a rule operation ran into. The rule model knows nothing of HTTP:
 * the API maps each kind to its status and code (fg_api.c).
 */
enum fg_rule_err {
	FG_RULE_EINVAL = 1, /* a bad value, type, field or reference */
	FG_RULE_ECONFLICT,  /* clashes with another rule (vip, port, proto) */
	FG_RULE_ETOOBIG,    /* a body over FG_API_BODY_MAX */
	FG_RULE_ENOMEM,     /* out of memory, or a caller bug */
};

/*
 * A rule error: its kind, a message that starts with the field path when
 * there is one ("backends[2].port: must be 1..65535"), and the path (""
 * when the error concerns no one field).
 */
struct fg_rule_error {
	enum fg_rule_err kind;
	char message[1024]; /* room for a store's or a conflict's whole story */
	char field[128];
};

/*
 * fg_rule_error_set - fill *err: kind, field (NULL or "" for none,
 * truncated to fit) and the printf-formatted message, prefixed with
 * "field: " when there is a field. Accepts a NULL err (does nothing).
 */
void fg_rule_error_set(struct fg_rule_error *err, enum fg_rule_err kind,
		       const char *field, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/*
 * The kinds of rules, as one table of operations: a kind is its name (the
 * API path /v1/<name> and the rule set's member), where its objects sit
 * in struct fg_ruleset (an array sorted by name, each object starting
 * with its char name[FG_NAME_MAX]), and what parses, prints and frees one
 * object. A new kind is one entry here, not another copy of the service
 * code in every layer: the API, the store's shards and the rule set edits
 * below all go through the table.
 */
struct fg_rule_kind {
	const char *name;      /* "services" */
	const char *one;       /* one object of it, for messages: "service" */
	size_t size;           /* sizeof one object */
	size_t off_n;          /* offsetof(struct fg_ruleset, nservices) */
	size_t off_arr;        /* offsetof(struct fg_ruleset, services) */
	uint32_t max;          /* objects per rule set (FG_SVC_MAX, ...) */
	/* Parse one object (checked on its own, defaults filled in, errors
	 * naming fields as the client wrote them) into *out: 0, or -EINVAL
	 * / -ENOMEM with *err set and *out untouched. */
	int (*from_json)(const char *name, json_t *obj, void *out,
			 struct fg_rule_error *err);
	/* The canonical JSON of one object: a new reference, or NULL. */
	json_t *(*to_json)(const void *obj);
	/* Free what one object owns (not the object). */
	void (*free)(void *obj);
	/* May the rule set drop object `name` of this kind? NULL when so;
	 * else the name of a rule (of kind user_kind) that still names it
	 * (borrowed from rs). */
	const char *(*user)(const struct fg_ruleset *rs, const char *name);
	const char *user_kind; /* "limit" */
};

/* The kinds, in the order of the rule set's members. */
#define FG_RULE_KINDS 4
extern const struct fg_rule_kind fg_rule_kinds[FG_RULE_KINDS];

/* fg_rule_canon - the canonical JSON of the object `obj` of kind k named
 * name: a new reference, or NULL with *err set. */
json_t *fg_rule_canon(const struct fg_rule_kind *k, const char *name,
		      json_t *obj, struct fg_rule_error *err);

/* fg_rule_kind_find - the kind named s[0..n), or NULL. */
const struct fg_rule_kind *fg_rule_kind_find(const char *s, size_t n);

/*
 * fg_json_parse_body - parse a request body of len bytes (need not be NUL
 * terminated). Rejects bodies over FG_API_BODY_MAX (FG_RULE_ETOOBIG), and
 * with FG_RULE_EINVAL: text that is not JSON, duplicate keys in an
 * object (jansson would silently keep the last one), integers beyond 64-bit
 * range ("too big integer"), NUL in strings, and a top level that is not an
 * object. Returns a new reference, or NULL with *err set (FG_RULE_ENOMEM when
 * out of memory).
 */
json_t *fg_json_parse_body(const char *buf, size_t len,
			   struct fg_rule_error *err);

/*
 * fg_service_from_json - parse the Service object `obj` named `name` (the
 * name is checked too: field "name").
 *
 * Defaults: proto tcp; mode l4; forward dsr-ipip (nat for l7, whose
 * services are proxied); hash 5tuple; backends []; backend weight 100,
 * state active, port the service's port (required under nat when the
 * service port is 0); no health checks without "health", and in it type
 * tcp, interval_ms 1000, timeout_ms 500 (half the interval when that is
 * shorter), rise 2, fall 3, port the backend's, and for http path "/" and
 * expect_status 200. Required: vip, port.
 *
 * Returns 0 and overwrites *out (the caller then owns out->backends; free()
 * it), or -EINVAL / -ENOMEM with *err set and *out untouched.
 * Does not look at other services: see fg_ruleset_check.
 */
int fg_service_from_json(const char *name, json_t *obj,
			 struct fg_rule_service *out, struct fg_rule_error *err);

/*
 * fg_limit_from_json - parse the Limit object `obj` named `name`.
 *
 * Defaults: key src_ip, burst = rate (one second's worth), action drop,
 * scope node, dry_run false; no service and no match filter. Required:
 * unit, rate. match.src is a CIDR or a bare address (a host: /32 or /128);
 * a prefix with host bits set is refused with the network it probably
 * meant. key item is refused (it belongs to seckill rules). unit rps
 * needs a service (an l7 one: fg_ruleset_check); action respond needs
 * unit rps and takes a "respond" object (as in Seckill; default status
 * 429, retry_after 1, no body), which any other action refuses.
 *
 * Returns 0 and overwrites *out, or -EINVAL with *err set and *out
 * untouched. Whether the named service exists and suits the limit is
 * fg_ruleset_check's job.
 */
int fg_limit_from_json(const char *name, json_t *obj,
		       struct fg_rule_limit *out, struct fg_rule_error *err);

/*
 * A regex syntax check: 0 when regex compiles as the route matcher
 * compiles it, else nonzero with the compiler's message in msg.
 */
typedef int (*fg_regex_check_fn)(const char *regex, char *msg, size_t msglen);

/*
 * fg_rules_set_regex_check - the check every path_regex and header regex
 * must pass (API.md: a pattern hyperscan cannot compile is refused with
 * its message; field "match.path_regex", message "hyperscan cannot
 * compile it: <message>"). A hook rather than a call, so that this
 * library does not link hyperscan for every tool that parses rules: the
 * daemon sets it once at start, before any parse, to a compile with the
 * matcher's flags. NULL (the default): patterns are checked for length
 * only. Not thread-safe against concurrent parses.
 */
void fg_rules_set_regex_check(fg_regex_check_fn fn);

/*
 * fg_route_from_json - parse the Route object `obj` named `name`:
 * required service and backends (1..FG_ROUTE_BACKENDS_MAX, Service
 * backends without health: port defaults to 0, the service's port);
 * priority 0..FG_ROUTE_PRIORITY_MAX (default 0); match (default: every
 * request) with host (a name or "*." wildcard), method (GET HEAD POST PUT
 * DELETE OPTIONS TRACE PATCH), path_prefix (starts with /), path_regex
 * and headers (0..FG_HTTP_MATCH_HEADERS_MAX of {name, regex}).
 *
 * Returns 0 and overwrites *out (the caller owns what it points to:
 * fg_rule_route_free()), or -EINVAL / -ENOMEM with *err set and *out
 * untouched. The service is fg_ruleset_check's to look up.
 */
int fg_route_from_json(const char *name, json_t *obj,
		       struct fg_rule_route *out, struct fg_rule_error *err);

/*
 * fg_seckill_from_json - parse the Seckill object `obj` named `name`:
 * required service and rate; match as a route's; item segment:N,
 * query:NAME or header:NAME (absent: one item); items (needs item; 1..
 * FG_SECKILL_ITEMS_MAX unique IDs) or max_items (default 100000, only
 * without items); burst (default rate); stock (absent: none); per_client
 * {key src_ip (default) | src_prefix/N, rate, burst (default rate)};
 * start, end (RFC 3339 UTC, "Z"; end after start); respond (default 429,
 * retry_after 1, no body) and sold_out (default 410, no Retry-After):
 * {status 400..599 but 401 405 407 416 426, retry_after 0..604800,
 * content_type (only with a body; default "text/plain; charset=utf-8"),
 * body (0..4096 bytes)}.
 *
 * Returns 0 and overwrites *out (free with fg_rule_seckill_free()), or
 * -EINVAL / -ENOMEM with *err set and *out untouched.
 */
int fg_seckill_from_json(const char *name, json_t *obj,
			 struct fg_rule_seckill *out, struct fg_rule_error *err);

/*
 * fg_ruleset_from_json - parse a PUT /v1/config body: {"services": {name:
 * Service}, "limits": {name: Limit}, "routes": {}, "seckill": {}}, every
 * member optional (absent = none). A "version" member is refused (versions
 * are the server's; a conditional write uses If-Match). Error fields carry
 * the object's path ("services.web.backends[2].port"). Services, limits,
 * routes and seckill rules come out sorted by name; the whole set passes
 * fg_ruleset_check.
 *
 * Returns 0 and overwrites *out (version 0; release it with
 * fg_ruleset_free()), or -EINVAL, -EEXIST (a conflict) or -ENOMEM with
 * *err set and *out untouched. *out must own nothing on entry
 * that the caller has not kept a pointer to: it is overwritten, not freed.
 */
int fg_ruleset_from_json(json_t *root, struct fg_ruleset *out,
			struct fg_rule_error *err);

/*
 * fg_ruleset_check - the checks across objects of a whole candidate rule
 * set, as a write would leave it:
 *  - a conflict (FG_RULE_ECONFLICT): two services with one name, or sharing (vip, port,
 *    proto) (field "services.<later name>.vip"); two limits with one name;
 *  - invalid (FG_RULE_EINVAL): a limit naming a missing service, or one whose match, key, unit
 *    or action cannot work on that service (proto, port or address family
 *    that never matches, src_prefix/N longer than the vip family, cps or
 *    reset on udp); more services, limits, backends, limits on one service
 *    or limits on no service than the dataplane tables hold (FG_SVC_MAX,
 *    FG_LIMIT_MAX, FG_BACKEND_MAX, FG_SVC_LIMITS_MAX,
 *    FG_GLOBAL_LIMITS_MAX); a route, seckill rule, rps or respond limit
 *    naming a missing service or one that is not mode l7 (field
 *    "<kind>.<name>.service"); a route backend of another family than
 *    its service's vip, or without a port when the service has none;
 *    more than FG_ROUTES_MAX routes or FG_SECKILLS_MAX seckill rules;
 *  - a conflict: two routes or two seckill rules with one name.
 * Fields are full paths ("limits.perip.service"). Does not re-run the
 * per-object checks. Returns 0, -EINVAL, -EEXIST, or -ENOMEM.
 */
int fg_ruleset_check(const struct fg_ruleset *rs, struct fg_rule_error *err);

/*
 * fg_ruleset_service_user - the name of the first limit, route or seckill
 * rule in rs (in that order) that names service `service`, or NULL when
 * none does (deleting a service that rules
 * still name is a conflict). The pointer is into rs.
 */
const char *fg_ruleset_service_user(const struct fg_ruleset *rs,
				    const char *service);

/*
 * fg_service_to_json, fg_limit_to_json - the canonical API object, every
 * default written out (no "name": the name is the key or the URL). Fields
 * that mean "not set" are left out: a backend port of 0, health when there
 * are no health checks, a limit's service and match filters when unset.
 * Returns a new reference, or NULL when out of memory.
 */
json_t *fg_service_to_json(const struct fg_rule_service *svc);
json_t *fg_limit_to_json(const struct fg_rule_limit *lim);

/*
 * fg_route_to_json, fg_seckill_to_json - the canonical API objects,
 * every default written out (priority, match {}, max_items without
 * items, burst, both answers in full); unset optional fields (stock,
 * per_client, start, end, match fields, a backend port of 0) left out.
 * Returns a new reference, or NULL when out of memory.
 */
json_t *fg_route_to_json(const struct fg_rule_route *r);
json_t *fg_seckill_to_json(const struct fg_rule_seckill *sk);

/*
 * fg_ruleset_to_json - the GET /v1/config body: {"version": version,
 * "services": {...}, "limits": {...}, "routes": {...}, "seckill": {...}}, objects
 * in the rule set's order. Returns a new reference, or NULL when out of
 * memory.
 */
json_t *fg_ruleset_to_json(const struct fg_ruleset *rs, uint64_t version);

/* ------------------------------------------------ edits and shards */

/*
 * A change costs what it touches. The daemon holds the live rule set
 * parsed; a write or a store change is checked and compiled against a
 * *view*: a rule set whose arrays are its own but whose objects' owned
 * parts (backends, strings, items) are borrowed from the rule sets it was
 * built from. A view is released with fg_ruleset_view_free (the arrays
 * only), or made the live set with fg_ruleset_take, which frees what the
 * old live set owned and the view no longer carries. Nothing is copied
 * deeply and nothing is parsed twice.
 */

/* fg_rule_count, fg_rule_at - the objects of kind k in rs. */
uint32_t fg_rule_count(const struct fg_ruleset *rs, const struct fg_rule_kind *k);
void *fg_rule_at(const struct fg_ruleset *rs, const struct fg_rule_kind *k,
		 uint32_t i);

/* fg_rule_find - the object of kind k named name in rs (sorted by name,
 * as every rule set here is), or NULL. */
void *fg_rule_find(const struct fg_ruleset *rs, const struct fg_rule_kind *k,
		   const char *name);

/*
 * fg_ruleset_view_edit - *view = cur with the object of kind k named name
 * replaced by *obj, added (none had that name) or, with obj NULL,
 * removed. *obj's owned parts are borrowed too: the caller keeps obj
 * until the view is freed or taken. Runs no checks (fg_ruleset_check).
 * Returns 0 or -ENOMEM (*view zeroed).
 */
int fg_ruleset_view_edit(const struct fg_ruleset *cur,
			 const struct fg_rule_kind *k, const char *name,
			 const void *obj, struct fg_ruleset *view);

/*
 * fg_ruleset_view_merge - *view = the objects of cur whose shard
 * (fg_rules_shard) is not in the mask `shards`, and every object of objs
 * (what those shards hold now), sorted by name. Runs no checks. Returns 0
 * or -ENOMEM (*view zeroed).
 */
int fg_ruleset_view_merge(const struct fg_ruleset *cur, uint64_t shards,
			  const struct fg_ruleset *objs,
			  struct fg_ruleset *view);

/* fg_ruleset_view_free - release a view's arrays (not what its objects
 * borrow) and zero it. Accepts NULL. */
void fg_ruleset_view_free(struct fg_ruleset *view);

/*
 * fg_ruleset_take - make view (built from *cur and from rule sets whose
 * owned parts now pass to it) the rule set *cur: the objects of *cur
 * that view does not carry (a replaced or dropped object) are freed, then
 * cur's arrays, and *cur = *view; *view is zeroed. The rule sets the view
 * borrowed from besides cur must then be released with
 * fg_ruleset_view_free only. A fully owned rule set (parsed) may be taken
 * as well: it carries nothing of cur.
 */
void fg_ruleset_take(struct fg_ruleset *cur, struct fg_ruleset *view);

/*
 * The store keeps a rule set in FG_RULES_SHARDS shards, each the objects
 * (of every kind) whose name hashes to it, so that a change writes,
 * watches and parses what it touches: about 1/64 of the set for one
 * object, and a whole set in one transaction of at most 64 key writes
 * (etcd takes at most 128 operations in one).
 */
#define FG_RULES_SHARDS 64U
#define FG_RULES_SHARDS_ALL UINT64_MAX

/* fg_rules_shard - the shard of objects named name: 0..FG_RULES_SHARDS-1
 * (FNV-1a of the name; fixed: it is the store's layout). */
unsigned int fg_rules_shard(const char *name);

/* fg_rules_shard_bit - the mask bit of name's shard. */
static inline uint64_t fg_rules_shard_bit(const char *name)
{
	return 1ULL << fg_rules_shard(name);
}

/*
 * fg_ruleset_shard_to_json - the objects of rs in shard `shard`, as a
 * config body holding only the kinds that have some there ({} when the
 * shard is empty). Returns a new reference, or NULL when out of memory.
 */
json_t *fg_ruleset_shard_to_json(const struct fg_ruleset *rs,
				 unsigned int shard);

/*
 * fg_ruleset_shard_texts - texts[i] = the canonical text of rs's shard i
 * (compact JSON, keys sorted; NULL when the shard is empty) for each
 * shard in the mask, NULL elsewhere. 0, or -ENOMEM (every entry NULL).
 */
int fg_ruleset_shard_texts(const struct fg_ruleset *rs, uint64_t shards,
			   char *texts[FG_RULES_SHARDS]);

/* fg_ruleset_shard_texts_free - free every entry and set it NULL. */
void fg_ruleset_shard_texts_free(char *texts[FG_RULES_SHARDS]);

/*
 * fg_ruleset_objects_from_json - parse a config body (or a shard, or
 * several merged) like fg_ruleset_from_json, each object checked on its
 * own, without the checks across objects (fg_ruleset_check runs on the
 * view they go into). Same returns.
 */
int fg_ruleset_objects_from_json(json_t *root, struct fg_ruleset *out,
				 struct fg_rule_error *err);

#endif /* FG_RULES_JSON_H */
