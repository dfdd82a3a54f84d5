/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * fg_rules_json.c - JSON (jansson) to and from the rule model, exactly as
 * shared/API.md writes the objects. See fg_rules_json.h for the contracts.
 *
 * Every parser fills a zeroed temporary and copies it to the caller's
 * struct only once everything has passed, so a failed request changes
 * nothing. Errors carry the field's path, built on a small stack in the
 * parse context while the parser descends.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fg_httpsyn.h"
#include "fg_rules_json.h"
#include "fg_tbucket.h"

/* -------------------------------------------------------- constants */


/* Health-check ranges: probes faster than 100 ms are a load test, not a
 * health check; slower than an hour detect nothing useful. */
#define FG_HC_INTERVAL_MIN 100U
#define FG_HC_INTERVAL_MAX 3600000U
#define FG_HC_INTERVAL_DEF 1000U
#define FG_HC_TIMEOUT_DEF 500U
#define FG_HC_COUNT_MAX 1000U
#define FG_HC_RISE_DEF 2U
#define FG_HC_FALL_DEF 3U
#define FG_HC_STATUS_DEF 200U

/* The element a qsort comparator's pointer points to, in arrays of
 * pointers. */
#define FG_DEREF(type, p) (*(const type *const *)(p))

/* Backend defaults (API.md). */
#define FG_WEIGHT_DEF 100U

/* ----------------------------------------------------------- errors */

/*
 * fg_rule_error_vset - fg_rule_error_set with a va_list. The message is
 * formatted once into a scratch buffer so that the field prefix and the
 * text truncate together at the end, never in the middle of the field.
 */
static void fg_rule_error_vset(struct fg_rule_error *err, enum fg_rule_err kind,
			       const char *field, const char *fmt, va_list ap)
	__attribute__((format(printf, 4, 0)));
static void fg_rule_error_vset(struct fg_rule_error *err, enum fg_rule_err kind,
			       const char *field, const char *fmt, va_list ap)
{
	char text[sizeof(err->message)];
	size_t len = 0, tlen;

	if (!err)
		return;
	vsnprintf(text, sizeof(text), fmt, ap);
	err->kind = kind;
	snprintf(err->field, sizeof(err->field), "%s", field ? field : "");
	/* field is < 128 bytes, so "field: " always fits the message and
	 * only the text is ever cut short. */
	if (err->field[0]) {
		len = strlen(err->field);
		memcpy(err->message, err->field, len);
		memcpy(err->message + len, ": ", 2);
		len += 2;
	}
	tlen = strnlen(text, sizeof(err->message) - 1 - len);
	memcpy(err->message + len, text, tlen);
	err->message[len + tlen] = '\0';
}

/* fg_rule_error_set - see the header. */
void fg_rule_error_set(struct fg_rule_error *err, enum fg_rule_err kind,
		       const char *field, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fg_rule_error_vset(err, kind, field, fmt, ap);
	va_end(ap);
}

/* Map an error kind to this file's negative errno returns. */
static int fg_kind_errno(enum fg_rule_err kind)
{
	if (kind == FG_RULE_ECONFLICT)
		return -EEXIST;
	if (kind == FG_RULE_ENOMEM)
		return -ENOMEM;
	return -EINVAL;
}

/* ----------------------------------------------------------- names */

/* ------------------------------------------------------ body parsing */

/* fg_json_parse_body - see the header. */
json_t *fg_json_parse_body(const char *buf, size_t len,
			   struct fg_rule_error *err)
{
	json_error_t jerr;
	json_t *root;

	if (len > FG_API_BODY_MAX) {
		fg_rule_error_set(err, FG_RULE_ETOOBIG, NULL,
				 "request body is %zu bytes; at most %u allowed",
				 len, FG_API_BODY_MAX);
		return NULL;
	}
	if (!buf && len) {
		fg_rule_error_set(err, FG_RULE_EINVAL, NULL, "no request body");
		return NULL;
	}
	/* Duplicate keys are refused rather than resolved: which of two
	 * "port"s an operator meant is not ours to guess. */
	root = json_loadb(buf ? buf : "", len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		if (json_error_code(&jerr) == json_error_out_of_memory)
			fg_rule_error_set(err, FG_RULE_ENOMEM, NULL, "out of memory");
		else
			fg_rule_error_set(err, FG_RULE_EINVAL, NULL,
					 "invalid JSON at line %d column %d: %s",
					 jerr.line, jerr.column, jerr.text);
		return NULL;
	}
	if (!json_is_object(root)) {
		json_decref(root);
		fg_rule_error_set(err, FG_RULE_EINVAL, NULL,
				 "request body must be a JSON object");
		return NULL;
	}
	return root;
}

/* ---------------------------------------------------- parse context */

/*
 * The parse context: where errors go and the path of the value being
 * parsed. Parsers push a segment before descending and pop it after, so the
 * path is right whenever an error is raised. A path too long for the
 * buffer is truncated (only user-chosen unknown keys get that long).
 */
struct fg_pctx {
	struct fg_rule_error *err;
	char path[sizeof(((struct fg_rule_error *)0)->field)];
	size_t len;
};

/* Start a context at the top level: empty path, errors into err. */
static void fg_pctx_init(struct fg_pctx *c, struct fg_rule_error *err)
{
	c->err = err;
	c->path[0] = '\0';
	c->len = 0;
}

/* Append a formatted segment; returns the length to restore with
 * fg_path_pop(). */
static size_t fg_path_push(struct fg_pctx *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static size_t fg_path_push(struct fg_pctx *c, const char *fmt, ...)
{
	size_t old = c->len, room = sizeof(c->path) - old;
	va_list ap;
	int n;

	if (room <= 1)
		return old;
	va_start(ap, fmt);
	n = vsnprintf(c->path + old, room, fmt, ap);
	va_end(ap);
	if (n < 0) {
		c->path[old] = '\0';
		return old;
	}
	c->len = (size_t)n < room ? old + (size_t)n : sizeof(c->path) - 1;
	return old;
}

/* Append an object member's name: "key" at the top, ".key" below it. */
static size_t fg_path_key(struct fg_pctx *c, const char *key)
{
	if (c->len)
		return fg_path_push(c, ".%s", key);
	return fg_path_push(c, "%s", key);
}

/* Cut the path back to what fg_path_push() returned. */
static void fg_path_pop(struct fg_pctx *c, size_t old)
{
	c->len = old;
	c->path[old] = '\0';
}

/*
 * fg_perr - record an error of kind at the current path. Returns the
 * negative errno for it (-EINVAL, -EEXIST for a conflict, -ENOMEM), so
 * parsers can `return fg_perr(...)`.
 */
static int fg_perr(struct fg_pctx *c, enum fg_rule_err kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fg_perr(struct fg_pctx *c, enum fg_rule_err kind, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fg_rule_error_vset(c->err, kind, c->path, fmt, ap);
	va_end(ap);
	return fg_kind_errno(kind);
}

/* fg_perr at member `key` of the current path. */
static int fg_perr_at(struct fg_pctx *c, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fg_perr_at(struct fg_pctx *c, const char *key, const char *fmt, ...)
{
	va_list ap;

	fg_path_key(c, key);
	va_start(ap, fmt);
	fg_rule_error_vset(c->err, FG_RULE_EINVAL, c->path, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* Record an allocation failure (no field); -ENOMEM. */
static int fg_enomem(struct fg_pctx *c)
{
	fg_rule_error_set(c->err, FG_RULE_ENOMEM, NULL, "out of memory");
	return -ENOMEM;
}

/* ------------------------------------------------------ typed getters */

/*
 * fg_check_keys - refuse any member of obj not in the NULL-terminated
 * `known` list, naming the first such member in document order. Returns 0
 * or -EINVAL.
 */
static int fg_check_keys(struct fg_pctx *c, json_t *obj,
			 const char *const *known)
{
	const char *key;
	json_t *val;

	json_object_foreach(obj, key, val) {
		const char *const *k;

		for (k = known; *k; k++)
			if (!strcmp(*k, key))
				break;
		if (!*k)
			return fg_perr_at(c, key, "unknown field");
	}
	return 0;
}

/*
 * fg_get_uint - member `key` of obj as an integer in min..max. JSON reals
 * (80.0, 1e3) are refused as well as strings: an API that quietly
 * truncates 80.5 to 80 hides mistakes. Returns 1 with *out set, 0 when
 * absent, -EINVAL when present and wrong.
 */
static int fg_get_uint(struct fg_pctx *c, json_t *obj, const char *key,
		       uint64_t min, uint64_t max, uint64_t *out)
{
	json_t *v = json_object_get(obj, key);
	json_int_t i;

	if (!v)
		return 0;
	if (!json_is_integer(v))
		return fg_perr_at(c, key, "must be an integer");
	i = json_integer_value(v);
	if (i < 0 || (uint64_t)i < min || (uint64_t)i > max)
		return fg_perr_at(c, key, "must be %llu..%llu",
				  (unsigned long long)min,
				  (unsigned long long)max);
	*out = (uint64_t)i;
	return 1;
}

/*
 * fg_get_str - member `key` of obj as a string without NUL bytes. Returns
 * 1 with *out pointing into obj, 0 when absent, -EINVAL when not a string.
 */
static int fg_get_str(struct fg_pctx *c, json_t *obj, const char *key,
		      const char **out)
{
	json_t *v = json_object_get(obj, key);

	if (!v)
		return 0;
	if (!json_is_string(v))
		return fg_perr_at(c, key, "must be a string");
	if (strlen(json_string_value(v)) != json_string_length(v))
		return fg_perr_at(c, key, "must not contain NUL characters");
	*out = json_string_value(v);
	return 1;
}

/* fg_get_bool - like fg_get_str for true/false. */
static int fg_get_bool(struct fg_pctx *c, json_t *obj, const char *key,
		       bool *out)
{
	json_t *v = json_object_get(obj, key);

	if (!v)
		return 0;
	if (!json_is_boolean(v))
		return fg_perr_at(c, key, "must be true or false");
	*out = json_is_true(v);
	return 1;
}

/* A string enum: API spelling and model value; tables end with NULL. */
struct fg_enum {
	const char *name;
	int value;
};

static const struct fg_enum fg_proto_enum[] = {
	{ "tcp", IPPROTO_TCP }, { "udp", IPPROTO_UDP }, { NULL, 0 },
};
static const struct fg_enum fg_mode_enum[] = {
	{ "l4", FG_MODE_L4 }, { "l7", FG_MODE_L7 }, { NULL, 0 },
};
static const struct fg_enum fg_forward_enum[] = {
	{ "dsr-ipip", FG_FWD_DSR_IPIP }, { "dsr-gue", FG_FWD_DSR_GUE },
	{ "nat", FG_FWD_NAT }, { NULL, 0 },
};
static const struct fg_enum fg_hash_enum[] = {
	{ "5tuple", FG_HASH_5TUPLE }, { "src_ip", FG_HASH_SRC_IP },
	{ NULL, 0 },
};
static const struct fg_enum fg_state_enum[] = {
	{ "active", FG_BACKEND_ACTIVE }, { "drain", FG_BACKEND_DRAIN },
	{ "down", FG_BACKEND_DOWN }, { NULL, 0 },
};
static const struct fg_enum fg_health_enum[] = {
	{ "tcp", FG_HEALTH_TCP }, { "http", FG_HEALTH_HTTP }, { NULL, 0 },
};
/* src_prefix/N is parsed apart; item (seckill) is refused apart. */
static const struct fg_enum fg_key_enum[] = {
	{ "src_ip", FG_LKEY_SRC_IP }, { "flow", FG_LKEY_FLOW },
	{ "service", FG_LKEY_SERVICE }, { NULL, 0 },
};
/* rps and respond are the L7 engine's (fg_rules.h). */
static const struct fg_enum fg_unit_enum[] = {
	{ "pps", FG_LUNIT_PPS }, { "bps", FG_LUNIT_BPS },
	{ "cps", FG_LUNIT_CPS }, { "rps", FG_LUNIT_RPS }, { NULL, 0 },
};
static const struct fg_enum fg_action_enum[] = {
	{ "drop", FG_LACT_DROP }, { "reset", FG_LACT_RESET },
	{ "respond", FG_LACT_RESPOND }, { NULL, 0 },
};
static const struct fg_enum fg_scope_enum[] = {
	{ "node", 0 }, { "cluster", 1 }, { NULL, 0 },
};

/* The API spelling of value v, or "?" for a value the model should never
 * hold (serialising it keeps the output valid JSON, and a later PUT of it
 * fails loudly). */
static const char *fg_enum_name(const struct fg_enum *e, int v)
{
	for (; e->name; e++)
		if (e->value == v)
			return e->name;
	return "?";
}

/* Returns true and sets *v when s is a name in the table. */
static bool fg_enum_lookup(const struct fg_enum *e, const char *s, int *v)
{
	for (; e->name; e++) {
		if (!strcmp(e->name, s)) {
			*v = e->value;
			return true;
		}
	}
	return false;
}

/* "a, b, c" for error messages; `extra` (or NULL) is appended. */
static void fg_enum_list(const struct fg_enum *e, const char *extra,
			 char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	for (; e->name; e++) {
		snprintf(buf + len, size - len, "%s%s", len ? ", " : "",
			 e->name);
		len = strlen(buf);
	}
	if (extra)
		snprintf(buf + len, size - len, ", %s", extra);
}

/*
 * fg_get_enum - member `key` of obj as one of the table's names. Returns 1
 * with *out set, 0 when absent, -EINVAL otherwise ("must be one of ...").
 */
static int fg_get_enum(struct fg_pctx *c, json_t *obj, const char *key,
		       const struct fg_enum *e, int *out)
{
	const char *s;
	char list[128];
	int rc;

	rc = fg_get_str(c, obj, key, &s);
	if (rc <= 0)
		return rc;
	if (fg_enum_lookup(e, s, out))
		return 1;
	fg_enum_list(e, NULL, list, sizeof(list));
	return fg_perr_at(c, key, "must be one of %s", list);
}

/* ------------------------------------------------------- addresses */

/* The address bytes in network order: 4 or 16 of them (fg_addr_bits). */
static const uint8_t *fg_addr_bytes(const struct fg_addr *a)
{
	return a->family == AF_INET ? (const uint8_t *)&a->a4 :
				      a->a6.s6_addr;
}

/* Address width in bits: 32 or 128. */
static unsigned int fg_addr_bits(const struct fg_addr *a)
{
	return a->family == AF_INET ? 32 : 128;
}

/* Order of addresses: IPv4 before IPv6, then bytes in network order. */
static int fg_addr_cmp(const struct fg_addr *a, const struct fg_addr *b)
{
	if (a->family != b->family)
		return a->family == AF_INET ? -1 : 1;
	return memcmp(fg_addr_bytes(a), fg_addr_bytes(b),
		      fg_addr_bits(a) / 8);
}

/* Text form of a; buf holds INET6_ADDRSTRLEN. */
static const char *fg_addr_str(const struct fg_addr *a, char *buf)
{
	if (!inet_ntop(a->family, fg_addr_bytes(a), buf, INET6_ADDRSTRLEN))
		snprintf(buf, INET6_ADDRSTRLEN, "?");
	return buf;
}

/* Parse an IPv4 or IPv6 literal (no zone, no brackets, no prefix): 0 or
 * -EINVAL. *out is zeroed first so that structs compare with memcmp. */
static int fg_addr_parse(const char *s, struct fg_addr *out)
{
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, s, &out->a4) == 1) {
		out->family = AF_INET;
		return 0;
	}
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET6, s, &out->a6) == 1) {
		out->family = AF_INET6;
		return 0;
	}
	memset(out, 0, sizeof(*out));
	return -EINVAL;
}

/*
 * Why a vip or backend address can carry no traffic, or NULL when it can.
 * A v4-mapped IPv6 address would be a v6 service that IPv4 clients never
 * reach, so the operator is told to write the IPv4 form.
 */
static const char *fg_addr_unusable(const struct fg_addr *a)
{
	if (a->family == AF_INET) {
		uint32_t h = ntohl(a->a4.s_addr);

		if (h == 0)
			return "must not be the unspecified address 0.0.0.0";
		if ((h >> 28) == 0xe)
			return "must not be a multicast address";
		if (h == 0xffffffffU)
			return "must not be the broadcast address";
		return NULL;
	}
	if (IN6_IS_ADDR_UNSPECIFIED(&a->a6))
		return "must not be the unspecified address ::";
	if (IN6_IS_ADDR_MULTICAST(&a->a6))
		return "must not be a multicast address";
	if (IN6_IS_ADDR_V4MAPPED(&a->a6))
		return "is an IPv4-mapped IPv6 address: write it as IPv4";
	return NULL;
}

/*
 * fg_get_addr - member `key` as a usable unicast address (see
 * fg_addr_unusable). Returns 1, 0 when absent, or -EINVAL.
 */
static int fg_get_addr(struct fg_pctx *c, json_t *obj, const char *key,
		       struct fg_addr *out)
{
	const char *s, *why;
	int rc;

	rc = fg_get_str(c, obj, key, &s);
	if (rc <= 0)
		return rc;
	if (fg_addr_parse(s, out))
		return fg_perr_at(c, key,
				  "\"%.64s\" is not an IPv4 or IPv6 address", s);
	why = fg_addr_unusable(out);
	if (why)
		return fg_perr_at(c, key, "%s", why);
	return 1;
}

/* Zero the bits of a beyond len into *net; true when any was set. */
static bool fg_addr_mask(const struct fg_addr *a, unsigned int len,
			 struct fg_addr *net)
{
	unsigned int nbytes = fg_addr_bits(a) / 8, i;
	uint8_t *nb;
	bool host = false;

	*net = *a;
	nb = net->family == AF_INET ? (uint8_t *)&net->a4 : net->a6.s6_addr;
	for (i = 0; i < nbytes; i++) {
		uint8_t keep;

		if (len >= (i + 1) * 8)
			keep = 0xff;
		else if (len <= i * 8)
			keep = 0;
		else
			keep = (uint8_t)(0xff << (8 - (len - i * 8)));
		if (nb[i] & ~keep)
			host = true;
		nb[i] &= keep;
	}
	return host;
}

/*
 * Parse a decimal prefix length of 1..3 digits with no sign or leading
 * zero; returns it, or -1.
 */
static int fg_parse_plen(const char *s)
{
	int v = 0;
	size_t i, n = strlen(s);

	if (n == 0 || n > 3 || (n > 1 && s[0] == '0'))
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/*
 * fg_get_cidr - member `key` as "addr/len" or a bare address (a host). A
 * prefix with host bits set is refused, naming the network: silently
 * masking "198.18.64.5/18" would hide a typo in the address or the length.
 * Returns 1, 0 when absent, or -EINVAL.
 */
static int fg_get_cidr(struct fg_pctx *c, json_t *obj, const char *key,
		       struct fg_addr *out, uint8_t *plen)
{
	char buf[INET6_ADDRSTRLEN + 8], nbuf[INET6_ADDRSTRLEN];
	struct fg_addr a, net;
	const char *s;
	char *slash;
	int rc, len;

	rc = fg_get_str(c, obj, key, &s);
	if (rc <= 0)
		return rc;
	if (strlen(s) >= sizeof(buf))
		goto bad;
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';
	if (fg_addr_parse(buf, &a))
		goto bad;
	if (slash) {
		len = fg_parse_plen(slash + 1);
		if (len < 0)
			goto bad;
		if ((unsigned int)len > fg_addr_bits(&a))
			return fg_perr_at(c, key,
					  "prefix length must be 0..%u for an IPv%d address",
					  fg_addr_bits(&a),
					  a.family == AF_INET ? 4 : 6);
	} else {
		len = (int)fg_addr_bits(&a);
	}
	if (fg_addr_mask(&a, (unsigned int)len, &net))
		return fg_perr_at(c, key,
				  "%s has host bits set; the network is %s/%d",
				  s, fg_addr_str(&net, nbuf), len);
	*out = net;
	*plen = (uint8_t)len;
	return 1;
bad:
	return fg_perr_at(c, key,
			  "\"%.64s\" is not an IPv4 or IPv6 prefix (addr/len)",
			  s);
}

/* --------------------------------------------------------- services */

static const char *const fg_service_keys[] = {
	"vip", "port", "proto", "mode", "forward", "hash", "backends",
	"health", NULL,
};
static const char *const fg_backend_keys[] = {
	"addr", "port", "weight", "state", NULL,
};
static const char *const fg_health_keys[] = {
	"type", "interval_ms", "timeout_ms", "rise", "fall", "port", "path",
	"expect_status", NULL,
};

/*
 * Order backends for duplicate detection: by address and, under NAT only,
 * port; ties by position so that the later of two duplicates is the one
 * reported. In DSR modes the port is ignored (the VIP port is kept), so
 * two entries with one address would be one real server listed twice.
 */
static int fg_be_cmp_addr(const void *pa, const void *pb)
{
	const struct fg_rule_backend *a = FG_DEREF(struct fg_rule_backend, pa);
	const struct fg_rule_backend *b = FG_DEREF(struct fg_rule_backend, pb);
	int r = fg_addr_cmp(&a->addr, &b->addr);

	if (r)
		return r;
	return a < b ? -1 : a > b;
}

/* As fg_be_cmp_addr, with the port (NAT services). */
static int fg_be_cmp_addr_port(const void *pa, const void *pb)
{
	const struct fg_rule_backend *a = FG_DEREF(struct fg_rule_backend, pa);
	const struct fg_rule_backend *b = FG_DEREF(struct fg_rule_backend, pb);
	int r = fg_addr_cmp(&a->addr, &b->addr);

	if (r)
		return r;
	if (a->port != b->port)
		return a->port < b->port ? -1 : 1;
	return a < b ? -1 : a > b;
}

/*
 * fg_backends_dups - refuse two backends that are the same destination
 * (see fg_be_cmp_addr). Returns 0, -EINVAL or -ENOMEM.
 */
static int fg_backends_dups(struct fg_pctx *c, const struct fg_rule_service *s)
{
	const struct fg_rule_backend **v;
	bool nat = s->forward == FG_FWD_NAT;
	char abuf[INET6_ADDRSTRLEN];
	uint32_t i;
	int rc = 0;

	if (s->nbackends < 2)
		return 0;
	v = malloc(s->nbackends * sizeof(*v));
	if (!v)
		return fg_enomem(c);
	for (i = 0; i < s->nbackends; i++)
		v[i] = &s->backends[i];
	qsort(v, s->nbackends, sizeof(*v),
	      nat ? fg_be_cmp_addr_port : fg_be_cmp_addr);
	for (i = 1; i < s->nbackends; i++) {
		const struct fg_rule_backend *a = v[i - 1], *b = v[i];

		if (fg_addr_cmp(&a->addr, &b->addr) ||
		    (nat && a->port != b->port))
			continue;
		fg_path_push(c, c->len ? ".backends[%td]" : "backends[%td]",
			     b - s->backends);
		if (nat)
			rc = fg_perr(c, FG_RULE_EINVAL, "duplicates backends[%td] (%s port %u)",
				     a - s->backends,
				     fg_addr_str(&a->addr, abuf), a->port);
		else
			rc = fg_perr(c, FG_RULE_EINVAL,
				     "same address as backends[%td] (%s): in DSR modes the port is ignored, so they are one backend",
				     a - s->backends,
				     fg_addr_str(&a->addr, abuf));
		break;
	}
	free(v);
	return rc;
}

/*
 * fg_parse_backend - one backend object into *b (zeroed by the caller).
 * svc supplies the vip family, port and forward mode the defaults and
 * checks depend on; NULL for a route's backend, whose service is not
 * known yet (port 0: the service's; fg_ruleset_check settles both).
 * Returns 0 or -EINVAL.
 */
static int fg_parse_backend(struct fg_pctx *c, json_t *obj,
			    const struct fg_rule_service *svc,
			    struct fg_rule_backend *b)
{
	uint64_t u;
	int rc, v;

	if (!json_is_object(obj))
		return fg_perr(c, FG_RULE_EINVAL, "must be an object");
	rc = fg_check_keys(c, obj, fg_backend_keys);
	if (rc)
		return rc;

	rc = fg_get_addr(c, obj, "addr", &b->addr);
	if (rc < 0)
		return rc;
	if (rc == 0)
		return fg_perr_at(c, "addr", "required");
	/* One family per service: the dataplane encapsulates IPv4 in IPv4
	 * and IPv6 in IPv6, and NAT does not translate families. */
	if (svc && b->addr.family != svc->vip.family)
		return fg_perr_at(c, "addr", "must be IPv%d like the vip",
				  svc->vip.family == AF_INET ? 4 : 6);

	/* The port defaults to the service's: the common case (backends
	 * listening where the VIP does) needs no repetition. */
	rc = fg_get_uint(c, obj, "port", 1, 65535, &u);
	if (rc < 0)
		return rc;
	if (rc) {
		b->port = (uint16_t)u;
	} else if (svc) {
		if (svc->port == 0 && svc->forward == FG_FWD_NAT)
			return fg_perr_at(c, "port",
					  "required with forward nat when the service port is 0 (every port)");
		b->port = svc->port;
	}

	b->weight = FG_WEIGHT_DEF;
	rc = fg_get_uint(c, obj, "weight", 0, 65535, &u);
	if (rc < 0)
		return rc;
	if (rc)
		b->weight = (uint16_t)u;

	b->state = FG_BACKEND_ACTIVE;
	rc = fg_get_enum(c, obj, "state", fg_state_enum, &v);
	if (rc < 0)
		return rc;
	if (rc)
		b->state = (enum fg_backend_state)v;
	b->health_down = false;
	return 0;
}

/*
 * fg_parse_backends - the "backends" array (absent = none) into
 * s->backends / s->nbackends. On error nothing stays allocated. Returns 0,
 * -EINVAL or -ENOMEM.
 */
static int fg_parse_backends(struct fg_pctx *c, json_t *obj,
			     struct fg_rule_service *s)
{
	json_t *arr = json_object_get(obj, "backends"), *el;
	size_t old, n, i;
	int rc = 0;

	if (!arr)
		return 0;
	old = fg_path_key(c, "backends");
	if (!json_is_array(arr))
		return fg_perr(c, FG_RULE_EINVAL, "must be an array");
	n = json_array_size(arr);
	if (n > FG_SVC_BACKENDS_MAX)
		return fg_perr(c, FG_RULE_EINVAL, "at most %u backends per service",
			       FG_SVC_BACKENDS_MAX);
	fg_path_pop(c, old);
	if (n == 0)
		return 0;
	s->backends = calloc(n, sizeof(*s->backends));
	if (!s->backends)
		return fg_enomem(c);
	json_array_foreach(arr, i, el) {
		old = fg_path_push(c, c->len ? ".backends[%zu]" :
					      "backends[%zu]", i);
		rc = fg_parse_backend(c, el, s, &s->backends[i]);
		if (rc)
			goto fail;
		fg_path_pop(c, old);
	}
	s->nbackends = (uint32_t)n;
	rc = fg_backends_dups(c, s);
	if (rc)
		goto fail;
	return 0;
fail:
	free(s->backends);
	s->backends = NULL;
	s->nbackends = 0;
	return rc;
}

/*
 * fg_parse_health - the optional "health" object into s->health (type
 * FG_HEALTH_NONE when absent). Needs s's backends parsed: a probe needs a
 * port, and a DSR backend of a port-0 service has none. Returns 0 or
 * -EINVAL.
 */
static int fg_parse_health(struct fg_pctx *c, json_t *obj,
			   struct fg_rule_service *s)
{
	json_t *h = json_object_get(obj, "health");
	struct fg_rule_health *hc = &s->health;
	const char *path;
	uint64_t u;
	size_t old;
	uint32_t i;
	int rc, v;

	memset(hc, 0, sizeof(*hc));
	hc->type = FG_HEALTH_NONE;
	if (!h)
		return 0;
	old = fg_path_key(c, "health");
	if (!json_is_object(h))
		return fg_perr(c, FG_RULE_EINVAL, "must be an object");
	rc = fg_check_keys(c, h, fg_health_keys);
	if (rc)
		return rc;

	hc->type = FG_HEALTH_TCP;
	rc = fg_get_enum(c, h, "type", fg_health_enum, &v);
	if (rc < 0)
		return rc;
	if (rc)
		hc->type = (enum fg_health_type)v;

	hc->interval_ms = FG_HC_INTERVAL_DEF;
	rc = fg_get_uint(c, h, "interval_ms", FG_HC_INTERVAL_MIN,
			 FG_HC_INTERVAL_MAX, &u);
	if (rc < 0)
		return rc;
	if (rc)
		hc->interval_ms = (uint32_t)u;

	/* A probe must end before the next one starts; the default timeout
	 * follows a short interval down rather than making it an error. */
	hc->timeout_ms = FG_HC_TIMEOUT_DEF;
	if (hc->timeout_ms >= hc->interval_ms)
		hc->timeout_ms = hc->interval_ms / 2;
	rc = fg_get_uint(c, h, "timeout_ms", 1, FG_HC_INTERVAL_MAX, &u);
	if (rc < 0)
		return rc;
	if (rc) {
		if (u >= hc->interval_ms)
			return fg_perr_at(c, "timeout_ms",
					  "must be less than interval_ms (%u)",
					  hc->interval_ms);
		hc->timeout_ms = (uint32_t)u;
	}

	hc->rise = FG_HC_RISE_DEF;
	rc = fg_get_uint(c, h, "rise", 1, FG_HC_COUNT_MAX, &u);
	if (rc < 0)
		return rc;
	if (rc)
		hc->rise = (uint32_t)u;

	hc->fall = FG_HC_FALL_DEF;
	rc = fg_get_uint(c, h, "fall", 1, FG_HC_COUNT_MAX, &u);
	if (rc < 0)
		return rc;
	if (rc)
		hc->fall = (uint32_t)u;

	rc = fg_get_uint(c, h, "port", 1, 65535, &u);
	if (rc < 0)
		return rc;
	if (rc) {
		hc->port = (uint16_t)u;
	} else {
		for (i = 0; i < s->nbackends; i++)
			if (s->backends[i].port == 0)
				return fg_perr_at(c, "port",
						  "required: backends[%u] has no port to probe (service port 0)",
						  i);
	}

	/* path and expect_status mean nothing to a TCP connect: refusing
	 * them catches a forgotten "type": "http". */
	if (hc->type != FG_HEALTH_HTTP) {
		if (json_object_get(h, "path"))
			return fg_perr_at(c, "path",
					  "only valid with type http");
		if (json_object_get(h, "expect_status"))
			return fg_perr_at(c, "expect_status",
					  "only valid with type http");
		fg_path_pop(c, old);
		return 0;
	}

	strcpy(hc->path, "/");
	rc = fg_get_str(c, h, "path", &path);
	if (rc < 0)
		return rc;
	if (rc) {
		size_t n = strlen(path), k;

		if (path[0] != '/' || n >= sizeof(hc->path))
			return fg_perr_at(c, "path",
					  "must start with / and be at most %zu characters",
					  sizeof(hc->path) - 1);
		/* It goes into a request line verbatim. */
		for (k = 0; k < n; k++)
			if (path[k] <= ' ' || path[k] > '~')
				return fg_perr_at(c, "path",
						  "must be printable ASCII without spaces (percent-encode the rest)");
		memcpy(hc->path, path, n + 1);
	}

	hc->expect_status = FG_HC_STATUS_DEF;
	rc = fg_get_uint(c, h, "expect_status", 100, 599, &u);
	if (rc < 0)
		return rc;
	if (rc)
		hc->expect_status = (uint16_t)u;
	fg_path_pop(c, old);
	return 0;
}

/*
 * fg_parse_service - the Service object into *out (name excepted). Errors
 * at paths below the context's current path. Returns 0 with *out
 * overwritten (out->backends owned), or -EINVAL / -ENOMEM with *out
 * untouched.
 */
static int fg_parse_service(struct fg_pctx *c, json_t *obj,
			    struct fg_rule_service *out)
{
	struct fg_rule_service s;
	uint64_t u;
	int rc, v;

	memset(&s, 0, sizeof(s));
	if (!json_is_object(obj))
		return fg_perr(c, FG_RULE_EINVAL, "must be an object");
	rc = fg_check_keys(c, obj, fg_service_keys);
	if (rc)
		return rc;

	rc = fg_get_addr(c, obj, "vip", &s.vip);
	if (rc < 0)
		return rc;
	if (rc == 0)
		return fg_perr_at(c, "vip", "required");

	/* Required although 0 is valid: "every port" should be said, not
	 * fallen into by forgetting the field. */
	rc = fg_get_uint(c, obj, "port", 0, 65535, &u);
	if (rc < 0)
		return rc;
	if (rc == 0)
		return fg_perr_at(c, "port", "required (0 means every port)");
	s.port = (uint16_t)u;

	s.proto = IPPROTO_TCP;
	rc = fg_get_enum(c, obj, "proto", fg_proto_enum, &v);
	if (rc < 0)
		return rc;
	if (rc)
		s.proto = (uint8_t)v;

	s.mode = FG_MODE_L4;
	rc = fg_get_enum(c, obj, "mode", fg_mode_enum, &v);
	if (rc < 0)
		return rc;
	if (rc)
		s.mode = (enum fg_svc_mode)v;
	if (s.mode == FG_MODE_L7 && s.proto != IPPROTO_TCP)
		return fg_perr_at(c, "proto", "must be tcp for mode l7 (HTTP)");

	/* An l7 service terminates TCP and splices to the backend (full
	 * NAT); DSR cannot carry that, so l7 defaults to and requires nat. */
	s.forward = s.mode == FG_MODE_L7 ? FG_FWD_NAT : FG_FWD_DSR_IPIP;
	rc = fg_get_enum(c, obj, "forward", fg_forward_enum, &v);
	if (rc < 0)
		return rc;
	if (rc)
		s.forward = (enum fg_forward)v;
	if (s.mode == FG_MODE_L7 && s.forward != FG_FWD_NAT)
		return fg_perr_at(c, "forward",
				  "must be nat for mode l7 (requests are proxied)");

	s.hash = FG_HASH_5TUPLE;
	rc = fg_get_enum(c, obj, "hash", fg_hash_enum, &v);
	if (rc < 0)
		return rc;
	if (rc)
		s.hash = (enum fg_hash_mode)v;

	rc = fg_parse_backends(c, obj, &s);
	if (rc)
		return rc;
	rc = fg_parse_health(c, obj, &s);
	if (rc) {
		free(s.backends);
		return rc;
	}
	*out = s;
	return 0;
}

/*
 * fg_named_begin - what parsing any named object starts with: a valid
 * name and somewhere to put the result (`what` names it in the message).
 * 0 or -EINVAL with *err set.
 */
static int fg_named_begin(const char *name, const void *out, const char *what,
			  struct fg_rule_error *err)
{
	if (!fg_name_valid(name)) {
		fg_rule_error_set(err, FG_RULE_EINVAL, "name",
				  "\"%.64s\" is not a valid name: must match %s",
				  name ? name : "", FG_NAME_RE);
		return -EINVAL;
	}
	if (!out) {
		fg_rule_error_set(err, FG_RULE_ENOMEM, NULL,
				  "no output for the %s", what);
		return -EINVAL;
	}
	return 0;
}

/* fg_service_from_json - see the header. */
int fg_service_from_json(const char *name, json_t *obj,
			 struct fg_rule_service *out, struct fg_rule_error *err)
{
	struct fg_pctx c;
	int rc = fg_named_begin(name, out, "service", err);

	fg_pctx_init(&c, err);
	if (!rc)
		rc = fg_parse_service(&c, obj, out);
	if (!rc)
		strcpy(out->name, name);
	return rc;
}

/* Defined with the serialisers; the L7 objects' builders use it too. */
static void fg_jset(json_t *obj, const char *key, json_t *val, bool *ok);

/* ---------------------------------------------------- regex checking */

/*
 * The regex syntax check is a hook, not a call into hyperscan: this
 * library is linked by tools (fgxdp) and tests that have no use for
 * hyperscan, and the route compiler (dataplane/l7/fg_route.c) holds the
 * flags its patterns are compiled with. The daemon sets the hook to a
 * compile of the one pattern with those flags; without a hook a pattern
 * is checked for its length only.
 */
static fg_regex_check_fn fg_regex_check;

/* fg_rules_set_regex_check - see the header. */
void fg_rules_set_regex_check(fg_regex_check_fn fn)
{
	fg_regex_check = fn;
}

/* ----------------------------------------------------------- respond */

static const char *const fg_respond_keys[] = {
	"status", "retry_after", "content_type", "body", NULL,
};

#define FG_RESPOND_CTYPE_DEF "text/plain; charset=utf-8"

/*
 * Why status s cannot be an answer the dataplane builds itself, or NULL
 * when it can: a 1xx-3xx would tell a buyer's client something happened
 * that did not (or needs a Location), and these five need a header the
 * answer does not carry.
 */
static const char *fg_respond_status_bad(uint64_t s)
{
	if (s < FG_RESPOND_STATUS_MIN || s > FG_RESPOND_STATUS_MAX)
		return "must be 400..599 (an answer that admits nothing)";
	if (s == 401 || s == 405 || s == 407 || s == 416 || s == 426)
		return "needs a header this answer does not carry (401 WWW-Authenticate, 405 Allow, 407 Proxy-Authenticate, 416 Content-Range, 426 Upgrade)";
	return NULL;
}

/* A content type: visible ASCII and inner spaces, "type/subtype" first
 * (no CR, LF or other control byte: it goes into a header verbatim). */
static bool fg_ctype_valid(const char *s)
{
	size_t n = strlen(s), i, slash = 0;

	if (n == 0 || n > FG_RESPOND_CTYPE_LEN_MAX || s[0] == ' ' ||
	    s[n - 1] == ' ')
		return false;
	for (i = 0; i < n; i++) {
		if (s[i] < ' ' || s[i] > '~')
			return false;
		if (s[i] == '/' && !slash)
			slash = i;
		if ((s[i] == ';' || s[i] == ' ') && !slash)
			return false;
	}
	return slash > 0 && slash + 1 < n && s[slash + 1] != ';' &&
	       s[slash + 1] != ' ';
}

/*
 * fg_parse_respond - the optional object at member `key` of obj into
 * *out, starting from the defaults in *def (status, retry_after; -1 is
 * "none"). Returns 0 or -EINVAL.
 */
static int fg_parse_respond(struct fg_pctx *c, json_t *obj, const char *key,
			    const struct fg_rule_respond *def,
			    struct fg_rule_respond *out)
{
	json_t *r = json_object_get(obj, key);
	const char *s, *why;
	uint64_t u;
	size_t old;
	int rc;

	*out = *def;
	if (!r)
		return 0;
	old = fg_path_key(c, key);
	if (!json_is_object(r))
		return fg_perr(c, FG_RULE_EINVAL, "must be an object");
	rc = fg_check_keys(c, r, fg_respond_keys);
	if (rc)
		return rc;
	rc = fg_get_uint(c, r, "status", 0, 999, &u);
	if (rc < 0)
		return rc;
	if (rc) {
		why = fg_respond_status_bad(u);
		if (why)
			return fg_perr_at(c, "status", "%s", why);
		out->status = (uint16_t)u;
	}
	rc = fg_get_uint(c, r, "retry_after", 0, FG_RESPOND_RETRY_AFTER_MAX,
			 &u);
	if (rc < 0)
		return rc;
	if (rc)
		out->retry_after = (int32_t)u;
	rc = fg_get_str(c, r, "body", &s);
	if (rc < 0)
		return rc;
	if (rc) {
		if (strlen(s) > FG_RESPOND_BODY_LEN_MAX)
			return fg_perr_at(c, "body", "at most %u bytes",
					  FG_RESPOND_BODY_LEN_MAX);
		out->body_len = (uint32_t)strlen(s);
		memcpy(out->body, s, out->body_len + 1);
	}
	rc = fg_get_str(c, r, "content_type", &s);
	if (rc < 0)
		return rc;
	if (rc && !out->body_len)
		return fg_perr_at(c, "content_type",
				  "only valid with a non-empty body (it would describe nothing)");
	if (rc && !fg_ctype_valid(s))
		return fg_perr_at(c, "content_type",
				  "must be type/subtype[; parameters], 1..%u printable ASCII bytes",
				  FG_RESPOND_CTYPE_LEN_MAX);
	if (out->body_len)
		snprintf(out->content_type, sizeof(out->content_type), "%s",
			 rc ? s : FG_RESPOND_CTYPE_DEF);
	fg_path_pop(c, old);
	return 0;
}

/* The respond object, every default written out. NULL on ENOMEM. */
static json_t *fg_respond_to_json(const struct fg_rule_respond *r)
{
	json_t *o = json_object();
	bool ok = o != NULL;

	if (!o)
		return NULL;
	fg_jset(o, "status", json_integer(r->status), &ok);
	if (r->retry_after >= 0)
		fg_jset(o, "retry_after", json_integer(r->retry_after), &ok);
	if (r->body_len) {
		fg_jset(o, "content_type", json_string(r->content_type), &ok);
		fg_jset(o, "body", json_stringn(r->body, r->body_len), &ok);
	}
	if (!ok) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* Defaults (fg_seckill.h: a shed request gets 429 with Retry-After 1, a
 * sold-out item 410 and nothing to retry). */
static const struct fg_rule_respond fg_respond_def = {
	.status = 429, .retry_after = 1,
};
static const struct fg_rule_respond fg_sold_out_def = {
	.status = 410, .retry_after = -1,
};

/* ------------------------------------------------------- http match */

static const char *const fg_http_match_keys[] = {
	"host", "method", "path_prefix", "path_regex", "headers", NULL,
};
static const char *const fg_http_header_keys[] = { "name", "regex", NULL };

/* The methods the request reader takes (RFC 9110, case-sensitive). */
static const char *const fg_http_methods[] = {
	"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "TRACE", "PATCH",
	NULL,
};

/* Token characters, %XX escapes, hosts, path prefixes and item specs:
 * the engine's own rules (fg_httpsyn.h), so a rule is refused here
 * exactly when the engine could never match it. */
_Static_assert(FG_HTTPSYN_HOST_MAX == FG_HTTP_HOST_LEN_MAX,
	       "the rules and the engine agree on a host's length");
_Static_assert(FG_HTTPSYN_NAME_MAX == FG_SECKILL_ITEM_NAME_MAX &&
	       FG_HTTPSYN_NAME_MAX <= FG_HTTP_HNAME_LEN_MAX,
	       "the rules and the engine agree on an item NAME's length");
_Static_assert(FG_HTTPSYN_SEGMENT_MAX == FG_SECKILL_SEGMENT_MAX,
	       "the rules and the engine agree on segment:N");

/*
 * fg_get_regex - member `key` as a regex of 1..FG_HTTP_REGEX_LEN_MAX
 * bytes that the regex hook accepts; *out is a new copy. Returns 1, 0
 * when absent, -EINVAL or -ENOMEM.
 */
static int fg_get_regex(struct fg_pctx *c, json_t *obj, const char *key,
			char **out)
{
	char msg[512];
	const char *s;
	int rc;

	rc = fg_get_str(c, obj, key, &s);
	if (rc <= 0)
		return rc;
	if (!s[0] || strlen(s) > FG_HTTP_REGEX_LEN_MAX)
		return fg_perr_at(c, key, "must be a regex of 1..%u bytes",
				  FG_HTTP_REGEX_LEN_MAX);
	msg[0] = '\0';
	if (fg_regex_check && fg_regex_check(s, msg, sizeof(msg)))
		return fg_perr_at(c, key, "hyperscan cannot compile it: %s",
				  msg[0] ? msg : "refused");
	*out = strdup(s);
	if (!*out)
		return fg_enomem(c);
	return 1;
}

/*
 * fg_parse_http_match - the optional "match" object of a route or seckill
 * rule into *m (zeroed by the caller; on error what it owns is freed by
 * the caller). Returns 0, -EINVAL or -ENOMEM.
 */
static int fg_parse_http_match(struct fg_pctx *c, json_t *obj,
			       struct fg_rule_http_match *m)
{
	json_t *mo = json_object_get(obj, "match"), *arr, *el;
	const char *s, *why;
	const char *const *meth;
	size_t old, old2, i;
	int rc;

	if (!mo)
		return 0;
	old = fg_path_key(c, "match");
	if (!json_is_object(mo))
		return fg_perr(c, FG_RULE_EINVAL, "must be an object");
	rc = fg_check_keys(c, mo, fg_http_match_keys);
	if (rc)
		return rc;

	rc = fg_get_str(c, mo, "host", &s);
	if (rc < 0)
		return rc;
	if (rc) {
		why = fg_httpsyn_host_bad(s, strlen(s));
		if (why)
			return fg_perr_at(c, "host", "\"%.64s\" %s", s, why);
		strcpy(m->host, s);
	}

	rc = fg_get_str(c, mo, "method", &s);
	if (rc < 0)
		return rc;
	if (rc) {
		for (meth = fg_http_methods; *meth; meth++)
			if (!strcmp(*meth, s))
				break;
		if (!*meth)
			return fg_perr_at(c, "method",
					  "must be one of GET, HEAD, POST, PUT, DELETE, OPTIONS, TRACE, PATCH");
		strcpy(m->method, s);
	}

	rc = fg_get_str(c, mo, "path_prefix", &s);
	if (rc < 0)
		return rc;
	if (rc) {
		size_t at;

		why = fg_httpsyn_path_bad(s, strlen(s), FG_HTTP_PATH_LEN_MAX,
					  &at);
		if (why && at == SIZE_MAX)
			return fg_perr_at(c, "path_prefix",
					  "must start with / and be at most %u bytes",
					  FG_HTTP_PATH_LEN_MAX);
		if (why)
			return fg_perr_at(c, "path_prefix", "byte %zu %s",
					  at, why);
		m->path_prefix = strdup(s);
		if (!m->path_prefix)
			return fg_enomem(c);
	}

	rc = fg_get_regex(c, mo, "path_regex", &m->path_regex);
	if (rc < 0)
		return rc;

	arr = json_object_get(mo, "headers");
	if (arr) {
		old2 = fg_path_key(c, "headers");
		if (!json_is_array(arr))
			return fg_perr(c, FG_RULE_EINVAL, "must be an array");
		if (json_array_size(arr) > FG_HTTP_MATCH_HEADERS_MAX)
			return fg_perr(c, FG_RULE_EINVAL, "at most %u headers",
				       FG_HTTP_MATCH_HEADERS_MAX);
		fg_path_pop(c, old2);
		json_array_foreach(arr, i, el) {
			struct fg_rule_http_header *h = &m->headers[i];

			old2 = fg_path_push(c, ".headers[%zu]", i);
			if (!json_is_object(el))
				return fg_perr(c, FG_RULE_EINVAL,
					       "must be an object");
			rc = fg_check_keys(c, el, fg_http_header_keys);
			if (rc)
				return rc;
			rc = fg_get_str(c, el, "name", &s);
			if (rc < 0)
				return rc;
			if (rc == 0)
				return fg_perr_at(c, "name", "required");
			if (!fg_httpsyn_token(s, strlen(s),
					      FG_HTTP_HNAME_LEN_MAX))
				return fg_perr_at(c, "name",
						  "must be a header name of 1..%u token characters",
						  FG_HTTP_HNAME_LEN_MAX);
			rc = fg_get_regex(c, el, "regex", &h->regex);
			if (rc < 0)
				return rc;
			if (rc == 0)
				return fg_perr_at(c, "regex",
						  "required (\".*\": the header is present)");
			strcpy(h->name, s);
			m->nheaders++;
			fg_path_pop(c, old2);
		}
	}
	fg_path_pop(c, old);
	return 0;
}

/* The match object, only the fields set. NULL on ENOMEM. */
static json_t *fg_http_match_to_json(const struct fg_rule_http_match *m)
{
	json_t *o = json_object(), *arr;
	bool ok = o != NULL;
	uint32_t i;

	if (!o)
		return NULL;
	if (m->host[0])
		fg_jset(o, "host", json_string(m->host), &ok);
	if (m->method[0])
		fg_jset(o, "method", json_string(m->method), &ok);
	if (m->path_prefix)
		fg_jset(o, "path_prefix", json_string(m->path_prefix), &ok);
	if (m->path_regex)
		fg_jset(o, "path_regex", json_string(m->path_regex), &ok);
	if (m->nheaders) {
		arr = json_array();
		for (i = 0; arr && ok && i < m->nheaders; i++) {
			json_t *h = json_object();

			if (!h) {
				ok = false;
				break;
			}
			fg_jset(h, "name", json_string(m->headers[i].name), &ok);
			fg_jset(h, "regex", json_string(m->headers[i].regex),
				&ok);
			if (json_array_append_new(arr, h))
				ok = false;
		}
		fg_jset(o, "headers", arr, &ok);
	}
	if (!ok) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* ----------------------------------------------------------- limits */

static const char *const fg_limit_keys[] = {
	"service", "match", "key", "unit", "rate", "burst", "action", "scope",
	"dry_run", "respond", NULL,
};
static const char *const fg_match_keys[] = {
	"src", "proto", "dst_port", NULL,
};

/*
 * fg_parse_match - the optional "match" object into l's match_* fields.
 * Returns 0 or -EINVAL.
 */
static int fg_parse_match(struct fg_pctx *c, json_t *obj,
			  struct fg_rule_limit *l)
{
	json_t *m = json_object_get(obj, "match");
	uint64_t u;
	size_t old;
	int rc, v;

	if (!m)
		return 0;
	old = fg_path_key(c, "match");
	if (!json_is_object(m))
		return fg_perr(c, FG_RULE_EINVAL, "must be an object");
	rc = fg_check_keys(c, m, fg_match_keys);
	if (rc)
		return rc;
	rc = fg_get_cidr(c, m, "src", &l->match_src, &l->match_src_len);
	if (rc < 0)
		return rc;
	l->match_src_set = rc == 1;
	rc = fg_get_enum(c, m, "proto", fg_proto_enum, &v);
	if (rc < 0)
		return rc;
	if (rc)
		l->match_proto = (uint8_t)v;
	/* 0 is the model's "any port", so the API takes 1..65535 and says
	 * "any" by leaving the field out. */
	rc = fg_get_uint(c, m, "dst_port", 1, 65535, &u);
	if (rc < 0)
		return rc;
	if (rc)
		l->match_dport = (uint16_t)u;
	fg_path_pop(c, old);
	return 0;
}

/*
 * fg_parse_key - "key" into l->key / l->prefix_len (default src_ip).
 * Needs match parsed: src_prefix/N is bounded by match.src's family when
 * there is one. Returns 0 or -EINVAL.
 */
static int fg_parse_key(struct fg_pctx *c, json_t *obj,
			struct fg_rule_limit *l)
{
	const char *s;
	char list[128];
	int rc, v, n;

	l->key = FG_LKEY_SRC_IP;
	rc = fg_get_str(c, obj, "key", &s);
	if (rc <= 0)
		return rc;
	if (fg_enum_lookup(fg_key_enum, s, &v)) {
		l->key = (enum fg_limit_key)v;
		return 0;
	}
	if (!strcmp(s, "item"))
		return fg_perr_at(c, "key",
				  "item is only for seckill rules, not limits");
	if (strncmp(s, "src_prefix/", 11)) {
		fg_enum_list(fg_key_enum, "src_prefix/N", list, sizeof(list));
		return fg_perr_at(c, "key", "must be one of %s", list);
	}
	n = fg_parse_plen(s + 11);
	if (n < 0 || n > 128)
		return fg_perr_at(c, "key",
				  "src_prefix/N needs a prefix length N of 0..128");
	if (l->match_src_set && l->match_src.family == AF_INET && n > 32)
		return fg_perr_at(c, "key",
				  "src_prefix/%d: N must be 0..32 for IPv4 (match.src is IPv4)",
				  n);
	/* With neither match.src nor a service the limit sees both
	 * families: an IPv6-only length would have to be quietly clamped
	 * for IPv4 sources, so it is refused instead. */
	if (!l->match_src_set && !l->service[0] && n > 32)
		return fg_perr_at(c, "key",
				  "src_prefix/%d: N above 32 needs an IPv6 match.src or an IPv6 service",
				  n);
	l->key = FG_LKEY_SRC_PREFIX;
	l->prefix_len = (uint8_t)n;
	return 0;
}

/*
 * fg_parse_limit - the Limit object into *out (name excepted). Returns 0
 * with *out overwritten, or -EINVAL with *out untouched.
 */
static int fg_parse_limit(struct fg_pctx *c, json_t *obj,
			  struct fg_rule_limit *out)
{
	struct fg_tb_profile prof;
	struct fg_rule_limit l;
	const char *s;
	uint64_t u;
	int rc, v;

	memset(&l, 0, sizeof(l));
	if (!json_is_object(obj))
		return fg_perr(c, FG_RULE_EINVAL, "must be an object");
	rc = fg_check_keys(c, obj, fg_limit_keys);
	if (rc)
		return rc;
	rc = fg_get_str(c, obj, "service", &s);
	if (rc < 0)
		return rc;
	if (rc) {
		if (!fg_name_valid(s))
			return fg_perr_at(c, "service",
					  "\"%.64s\" is not a valid service name: must match %s",
					  s, FG_NAME_RE);
		strcpy(l.service, s);
	}

	rc = fg_parse_match(c, obj, &l);
	if (rc)
		return rc;
	rc = fg_parse_key(c, obj, &l);
	if (rc)
		return rc;

	rc = fg_get_str(c, obj, "unit", &s);
	if (rc < 0)
		return rc;
	if (rc == 0)
		return fg_perr_at(c, "unit", "required (pps, bps, cps or rps)");
	rc = fg_get_enum(c, obj, "unit", fg_unit_enum, &v);
	if (rc < 0)
		return rc;
	l.unit = (enum fg_limit_unit)v;
	if (l.unit == FG_LUNIT_CPS && l.match_proto == IPPROTO_UDP)
		return fg_perr_at(c, "unit",
				  "cps counts new TCP connections; match.proto is udp");
	/* HTTP requests exist only on an l7 service, which is tcp. */
	if (l.unit == FG_LUNIT_RPS && !l.service[0])
		return fg_perr_at(c, "unit",
				  "rps counts HTTP requests: the limit needs an l7 service");
	if (l.unit == FG_LUNIT_RPS && l.match_proto == IPPROTO_UDP)
		return fg_perr_at(c, "unit",
				  "rps counts HTTP requests; match.proto is udp");

	rc = fg_get_uint(c, obj, "rate", FG_TB_RATE_MIN, FG_TB_RATE_MAX, &u);
	if (rc < 0)
		return rc;
	if (rc == 0)
		return fg_perr_at(c, "rate", "required");
	l.rate = u;

	/* One second's worth: the usual choice when nothing is said. */
	l.burst = l.rate;
	rc = fg_get_uint(c, obj, "burst", 1, INT64_MAX, &u);
	if (rc < 0)
		return rc;
	if (rc)
		l.burst = u;
	/* The dataplane's bucket must be able to hold the window: ask the
	 * same code that will build it. */
	if (fg_tb_profile_init(&prof, l.rate, l.burst))
		return fg_perr_at(c, "burst",
				  "burst/rate is too long a window (at most 2^62 ns, about 146 years)");

	l.action = FG_LACT_DROP;
	rc = fg_get_enum(c, obj, "action", fg_action_enum, &v);
	if (rc < 0)
		return rc;
	if (rc)
		l.action = (enum fg_limit_action)v;
	/* An HTTP answer needs an HTTP request to answer: rps only. */
	if (l.action == FG_LACT_RESPOND && l.unit != FG_LUNIT_RPS)
		return fg_perr_at(c, "action",
				  "respond sends an HTTP answer: only with unit rps");
	if (json_object_get(obj, "respond") && l.action != FG_LACT_RESPOND)
		return fg_perr_at(c, "respond", "only valid with action respond");
	rc = fg_parse_respond(c, obj, "respond", &fg_respond_def, &l.respond);
	if (rc)
		return rc;
	if (l.action != FG_LACT_RESPOND)
		memset(&l.respond, 0, sizeof(l.respond));
	/* A RST answers TCP only. With a service the service's proto may
	 * settle it: fg_ruleset_check looks then. */
	if (l.action == FG_LACT_RESET &&
	    (l.match_proto == IPPROTO_UDP ||
	     (l.match_proto == 0 && !l.service[0])))
		return fg_perr_at(c, "action",
				  "reset sends a TCP RST: the limit must match tcp only (match.proto tcp or a tcp service)");

	rc = fg_get_enum(c, obj, "scope", fg_scope_enum, &v);
	if (rc < 0)
		return rc;
	l.cluster_scope = rc && v == 1;

	rc = fg_get_bool(c, obj, "dry_run", &l.dry_run);
	if (rc < 0)
		return rc;

	*out = l;
	return 0;
}

/* fg_limit_from_json - see the header. */
int fg_limit_from_json(const char *name, json_t *obj,
		       struct fg_rule_limit *out, struct fg_rule_error *err)
{
	struct fg_pctx c;
	int rc = fg_named_begin(name, out, "limit", err);

	fg_pctx_init(&c, err);
	if (!rc)
		rc = fg_parse_limit(&c, obj, out);
	if (!rc)
		strcpy(out->name, name);
	return rc;
}

/* ----------------------------------------------------------- routes */

static const char *const fg_route_keys[] = {
	"service", "priority", "match", "backends", NULL,
};

/* fg_get_service_ref - the required "service" member: a valid name
 * copied into out. 0 or -EINVAL. */
static int fg_get_service_ref(struct fg_pctx *c, json_t *obj, char *out)
{
	const char *s;
	int rc = fg_get_str(c, obj, "service", &s);

	if (rc < 0)
		return rc;
	if (rc == 0)
		return fg_perr_at(c, "service", "required (an l7 service)");
	if (!fg_name_valid(s))
		return fg_perr_at(c, "service",
				  "\"%.64s\" is not a valid service name: must match %s",
				  s, FG_NAME_RE);
	strcpy(out, s);
	return 0;
}

/*
 * fg_parse_route_backends - the route's required, non-empty "backends"
 * array. A backend's port defaults to 0, the service's port (settled by
 * fg_ruleset_check, which knows the service). 0, -EINVAL or -ENOMEM.
 */
static int fg_parse_route_backends(struct fg_pctx *c, json_t *obj,
				   struct fg_rule_route *r)
{
	json_t *arr = json_object_get(obj, "backends"), *el;
	struct fg_rule_service tmp;
	size_t old, n, i;
	int rc;

	if (!arr)
		return fg_perr_at(c, "backends",
				  "required: the backends this route picks");
	old = fg_path_key(c, "backends");
	if (!json_is_array(arr))
		return fg_perr(c, FG_RULE_EINVAL, "must be an array");
	n = json_array_size(arr);
	if (n == 0 || n > FG_ROUTE_BACKENDS_MAX)
		return fg_perr(c, FG_RULE_EINVAL, "must hold 1..%u backends",
			       FG_ROUTE_BACKENDS_MAX);
	fg_path_pop(c, old);
	r->backends = calloc(n, sizeof(*r->backends));
	if (!r->backends)
		return fg_enomem(c);
	json_array_foreach(arr, i, el) {
		old = fg_path_push(c, c->len ? ".backends[%zu]" :
					      "backends[%zu]", i);
		rc = fg_parse_backend(c, el, NULL, &r->backends[i]);
		if (rc)
			return rc;
		fg_path_pop(c, old);
	}
	r->nbackends = (uint32_t)n;
	/* Routes are l7, so nat: one backend is an address and a port. */
	memset(&tmp, 0, sizeof(tmp));
	tmp.forward = FG_FWD_NAT;
	tmp.nbackends = r->nbackends;
	tmp.backends = r->backends;
	return fg_backends_dups(c, &tmp);
}

/*
 * fg_parse_route - the Route object into *out (name excepted). Returns 0
 * with *out overwritten (owning its strings and backends), or -EINVAL /
 * -ENOMEM with *out untouched.
 */
static int fg_parse_route(struct fg_pctx *c, json_t *obj,
			  struct fg_rule_route *out)
{
	struct fg_rule_route r;
	uint64_t u;
	int rc;

	memset(&r, 0, sizeof(r));
	if (!json_is_object(obj))
		return fg_perr(c, FG_RULE_EINVAL, "must be an object");
	rc = fg_check_keys(c, obj, fg_route_keys);
	if (rc)
		return rc;
	rc = fg_get_service_ref(c, obj, r.service);
	if (rc)
		return rc;
	rc = fg_get_uint(c, obj, "priority", 0, FG_ROUTE_PRIORITY_MAX, &u);
	if (rc < 0)
		return rc;
	if (rc)
		r.priority = (uint32_t)u;
	rc = fg_parse_http_match(c, obj, &r.match);
	if (!rc)
		rc = fg_parse_route_backends(c, obj, &r);
	if (rc) {
		fg_rule_route_free(&r);
		return rc;
	}
	*out = r;
	return 0;
}

/* fg_route_from_json - see the header. */
int fg_route_from_json(const char *name, json_t *obj,
		       struct fg_rule_route *out, struct fg_rule_error *err)
{
	struct fg_pctx c;
	int rc = fg_named_begin(name, out, "route", err);

	fg_pctx_init(&c, err);
	if (!rc)
		rc = fg_parse_route(&c, obj, out);
	if (!rc)
		strcpy(out->name, name);
	return rc;
}

/* ---------------------------------------------------------- seckill */

static const char *const fg_seckill_keys[] = {
	"service", "match", "item", "items", "max_items", "rate", "burst",
	"stock", "per_client", "start", "end", "respond", "sold_out", NULL,
};
static const char *const fg_per_client_keys[] = {
	"key", "rate", "burst", NULL,
};

/*
 * Why spec is no item spec, or NULL with sk's item fields set: the
 * engine's own parse (fg_httpsyn_item_bad), so a NAME the extractor
 * could never find is refused here.
 */
static const char *fg_item_spec_bad(const char *spec,
				    struct fg_rule_seckill *sk)
{
	struct fg_httpsyn_item it;
	const char *why = fg_httpsyn_item_bad(spec, strlen(spec), &it);

	if (why)
		return why;
	switch (it.kind) {
	case FG_HTTPSYN_ITEM_SEGMENT:
		sk->item_from = FG_ITEM_FROM_SEGMENT;
		sk->item_segment = it.segment;
		break;
	case FG_HTTPSYN_ITEM_QUERY:
	case FG_HTTPSYN_ITEM_HEADER:
		sk->item_from = it.kind == FG_HTTPSYN_ITEM_QUERY ?
			FG_ITEM_FROM_QUERY : FG_ITEM_FROM_HEADER;
		memcpy(sk->item_name, it.name, it.name_len);
		sk->item_name[it.name_len] = '\0';
		break;
	}
	return NULL;
}

/* An item ID and where it was listed: duplicates sort next to each other,
 * the earlier listing first. */
struct fg_item_ref {
	const char *id;
	size_t pos;
};

static int fg_item_ref_cmp(const void *pa, const void *pb)
{
	const struct fg_item_ref *a = pa, *b = pb;
	int r = strcmp(a->id, b->id);

	return r ? r : (a->pos < b->pos ? -1 : a->pos > b->pos);
}

/*
 * fg_parse_items - the optional "items" array: 1..FG_SECKILL_ITEMS_MAX
 * unique IDs of 1..FG_SECKILL_ITEM_LEN_MAX bytes, none with a control
 * byte (the extractor calls such an item malformed). 0, -EINVAL, -ENOMEM.
 */
static int fg_parse_items(struct fg_pctx *c, json_t *obj,
			  struct fg_rule_seckill *sk)
{
	json_t *arr = json_object_get(obj, "items"), *el;
	struct fg_item_ref *refs;
	size_t old, old2, n, i, k;
	int rc = 0;

	if (!arr)
		return 0;
	old = fg_path_key(c, "items");
	if (!json_is_array(arr))
		return fg_perr(c, FG_RULE_EINVAL, "must be an array");
	n = json_array_size(arr);
	if (n == 0 || n > FG_SECKILL_ITEMS_MAX)
		return fg_perr(c, FG_RULE_EINVAL,
			       "must hold 1..%u item IDs (leave it out for any item, up to max_items)",
			       FG_SECKILL_ITEMS_MAX);
	sk->items = calloc(n, sizeof(*sk->items));
	if (!sk->items)
		return fg_enomem(c);
	json_array_foreach(arr, i, el) {
		const char *s;

		old2 = fg_path_push(c, "[%zu]", i);
		if (!json_is_string(el) ||
		    strlen(json_string_value(el)) != json_string_length(el))
			return fg_perr(c, FG_RULE_EINVAL,
				       "must be a string without NUL characters");
		s = json_string_value(el);
		if (!s[0] || strlen(s) > FG_SECKILL_ITEM_LEN_MAX)
			return fg_perr(c, FG_RULE_EINVAL,
				       "must be 1..%u bytes",
				       FG_SECKILL_ITEM_LEN_MAX);
		for (k = 0; s[k]; k++)
			if ((unsigned char)s[k] < 0x20 || s[k] == 0x7f)
				return fg_perr(c, FG_RULE_EINVAL,
					       "must not hold control characters (no request could name it)");
		sk->items[i] = strdup(s);
		if (!sk->items[i])
			return fg_enomem(c);
		sk->nitems++;
		fg_path_pop(c, old2);
	}
	refs = malloc(n * sizeof(*refs));
	if (!refs)
		return fg_enomem(c);
	for (i = 0; i < n; i++) {
		refs[i].id = sk->items[i];
		refs[i].pos = i;
	}
	qsort(refs, n, sizeof(*refs), fg_item_ref_cmp);
	for (i = 1; i < n; i++) {
		if (strcmp(refs[i - 1].id, refs[i].id))
			continue;
		fg_path_push(c, "[%zu]", refs[i].pos);
		rc = fg_perr(c, FG_RULE_EINVAL,
			     "\"%.64s\" is already items[%zu]", refs[i].id,
			     refs[i - 1].pos);
		break;
	}
	free(refs);
	if (rc)
		return rc;
	fg_path_pop(c, old);
	return 0;
}

/*
 * Parse an RFC 3339 UTC instant "YYYY-MM-DDTHH:MM:SS[.fraction]Z" into ns
 * since the epoch (1970..9999). Only "Z": the window is the same instant
 * on every node, and an offset is one more thing to get wrong. 0 or -1.
 */
static int fg_rfc3339_parse(const char *s, uint64_t *ns)
{
	static const int mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30,
				       31, 30, 31 };
	unsigned int y, mo, d, h, mi, sec, i;
	uint64_t days, frac = 0, scale = 100000000ULL;
	const char *p;
	bool leap;
	int n = 0;

	if (strlen(s) < 20 ||
	    sscanf(s, "%4u-%2u-%2uT%2u:%2u:%2u%n", &y, &mo, &d, &h, &mi, &sec,
		   &n) != 6 || n != 19)
		return -1;
	for (i = 0; i < 19; i++)
		if ((i == 4 || i == 7) ? s[i] != '-' : i == 10 ? s[i] != 'T' :
		    (i == 13 || i == 16) ? s[i] != ':' :
		    (s[i] < '0' || s[i] > '9'))
			return -1;
	p = s + 19;
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return -1;
		for (i = 0; *p >= '0' && *p <= '9'; p++, i++) {
			if (i >= 9)
				return -1;
			frac += (uint64_t)(*p - '0') * scale;
			scale /= 10;
		}
	}
	if (strcmp(p, "Z"))
		return -1;
	leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 ||
	    d > (unsigned int)mdays[mo - 1] + (mo == 2 && leap) || h > 23 ||
	    mi > 59 || sec > 59)
		return -1;
	/* Days from the civil date (Howard Hinnant's algorithm). */
	{
		unsigned int yy = mo <= 2 ? y - 1 : y;
		unsigned int era = yy / 400, yoe = yy - era * 400;
		unsigned int doy = (153 * (mo > 2 ? mo - 3 : mo + 9) + 2) / 5 +
				   d - 1;
		unsigned int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

		days = (uint64_t)era * 146097 + doe - 719468;
	}
	*ns = ((days * 86400 + h * 3600 + mi * 60 + sec) * 1000000000ULL) +
	      frac;
	return 0;
}

/* ns since the epoch as RFC 3339 UTC, the fraction only when not 0. */
static void fg_rfc3339_format(uint64_t ns, char *buf, size_t size)
{
	time_t t = (time_t)(ns / 1000000000ULL);
	unsigned int frac = (unsigned int)(ns % 1000000000ULL), digits = 9;
	struct tm tm;
	size_t len;

	gmtime_r(&t, &tm);
	len = strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm);
	if (frac) {
		while (frac % 10 == 0) {
			frac /= 10;
			digits--;
		}
		len += (size_t)snprintf(buf + len, size - len, ".%0*u",
					(int)digits, frac);
	}
	snprintf(buf + len, size - len, "Z");
}

/* fg_get_time - member `key` as an RFC 3339 UTC instant. 1, 0, -EINVAL. */
static int fg_get_time(struct fg_pctx *c, json_t *obj, const char *key,
		       uint64_t *ns)
{
	const char *s;
	int rc = fg_get_str(c, obj, key, &s);

	if (rc <= 0)
		return rc;
	if (fg_rfc3339_parse(s, ns))
		return fg_perr_at(c, key,
				  "\"%.64s\" is not an RFC 3339 UTC instant like 2026-11-11T12:00:00Z",
				  s);
	return 1;
}

/*
 * fg_get_rate_burst - required "rate" and optional "burst" (default one
 * second's worth) of obj, as a token bucket the dataplane can build. 0 or
 * -EINVAL.
 */
static int fg_get_rate_burst(struct fg_pctx *c, json_t *obj, uint64_t *rate,
			     uint64_t *burst)
{
	struct fg_tb_profile prof;
	uint64_t u;
	int rc;

	rc = fg_get_uint(c, obj, "rate", FG_TB_RATE_MIN, FG_TB_RATE_MAX, &u);
	if (rc < 0)
		return rc;
	if (rc == 0)
		return fg_perr_at(c, "rate", "required");
	*rate = u;
	*burst = u;
	rc = fg_get_uint(c, obj, "burst", 1, INT64_MAX, &u);
	if (rc < 0)
		return rc;
	if (rc)
		*burst = u;
	if (fg_tb_profile_init(&prof, *rate, *burst))
		return fg_perr_at(c, "burst",
				  "burst/rate is too long a window (at most 2^62 ns, about 146 years)");
	return 0;
}

/*
 * fg_parse_client_key - "key" of per_client: src_ip (default) or
 * src_prefix/N. 0 or -EINVAL.
 */
static int fg_parse_client_key(struct fg_pctx *c, json_t *obj,
			       struct fg_rule_seckill *sk)
{
	const char *s;
	int rc, n;

	sk->client_key = FG_LKEY_SRC_IP;
	rc = fg_get_str(c, obj, "key", &s);
	if (rc <= 0)
		return rc;
	if (!strcmp(s, "src_ip"))
		return 0;
	if (strncmp(s, "src_prefix/", 11))
		return fg_perr_at(c, "key",
				  "must be src_ip or src_prefix/N (a client is an address)");
	n = fg_parse_plen(s + 11);
	if (n < 0 || n > 128)
		return fg_perr_at(c, "key",
				  "src_prefix/N needs a prefix length N of 0..128");
	sk->client_key = FG_LKEY_SRC_PREFIX;
	sk->client_prefix_len = (uint8_t)n;
	return 0;
}

/*
 * fg_parse_seckill_body - the fields of a seckill rule after its match
 * into *sk. 0, -EINVAL or -ENOMEM; the caller frees what sk owns.
 */
static int fg_parse_seckill_body(struct fg_pctx *c, json_t *obj,
				 struct fg_rule_seckill *sk)
{
	json_t *pc;
	const char *s, *why;
	uint64_t u;
	size_t old;
	int rc;

	rc = fg_get_str(c, obj, "item", &s);
	if (rc < 0)
		return rc;
	if (rc) {
		why = fg_item_spec_bad(s, sk);
		if (why)
			return fg_perr_at(c, "item", "%s", why);
	}
	if (json_object_get(obj, "items") && sk->item_from == FG_ITEM_FROM_NONE)
		return fg_perr_at(c, "items",
				  "needs item (how a request names its item)");
	rc = fg_parse_items(c, obj, sk);
	if (rc)
		return rc;
	sk->max_items = FG_SECKILL_MAX_ITEMS_DEF;
	rc = fg_get_uint(c, obj, "max_items", 1, FG_SECKILL_ITEMS_MAX, &u);
	if (rc < 0)
		return rc;
	if (rc && sk->nitems)
		return fg_perr_at(c, "max_items",
				  "only without items (items already bound the items on sale)");
	if (rc)
		sk->max_items = (uint32_t)u;
	if (sk->nitems)
		sk->max_items = 0;

	rc = fg_get_rate_burst(c, obj, &sk->rate, &sk->burst);
	if (rc)
		return rc;
	rc = fg_get_uint(c, obj, "stock", 0, INT64_MAX, &u);
	if (rc < 0)
		return rc;
	sk->has_stock = rc == 1;
	sk->stock = sk->has_stock ? u : 0;

	pc = json_object_get(obj, "per_client");
	if (pc) {
		old = fg_path_key(c, "per_client");
		if (!json_is_object(pc))
			return fg_perr(c, FG_RULE_EINVAL, "must be an object");
		rc = fg_check_keys(c, pc, fg_per_client_keys);
		if (!rc)
			rc = fg_parse_client_key(c, pc, sk);
		if (!rc)
			rc = fg_get_rate_burst(c, pc, &sk->client_rate,
					       &sk->client_burst);
		if (rc)
			return rc;
		sk->has_per_client = true;
		fg_path_pop(c, old);
	}

	rc = fg_get_time(c, obj, "start", &sk->start_ns);
	if (rc < 0)
		return rc;
	rc = fg_get_time(c, obj, "end", &sk->end_ns);
	if (rc < 0)
		return rc;
	if (rc && sk->end_ns <= sk->start_ns)
		return fg_perr_at(c, "end", "must be after start");

	rc = fg_parse_respond(c, obj, "respond", &fg_respond_def,
			      &sk->respond);
	if (rc)
		return rc;
	return fg_parse_respond(c, obj, "sold_out", &fg_sold_out_def,
				&sk->sold_out);
}

/*
 * fg_parse_seckill - the Seckill object into *out (name excepted).
 * Returns 0 with *out overwritten (owning what it points to), or -EINVAL
 * / -ENOMEM with *out untouched.
 */
static int fg_parse_seckill(struct fg_pctx *c, json_t *obj,
			    struct fg_rule_seckill *out)
{
	struct fg_rule_seckill *sk;
	int rc;

	if (!json_is_object(obj))
		return fg_perr(c, FG_RULE_EINVAL, "must be an object");
	rc = fg_check_keys(c, obj, fg_seckill_keys);
	if (rc)
		return rc;
	/* Two answers of 4 KiB each: on the heap, not the stack. */
	sk = calloc(1, sizeof(*sk));
	if (!sk)
		return fg_enomem(c);
	rc = fg_get_service_ref(c, obj, sk->service);
	if (!rc)
		rc = fg_parse_http_match(c, obj, &sk->match);
	if (!rc)
		rc = fg_parse_seckill_body(c, obj, sk);
	if (rc)
		fg_rule_seckill_free(sk);
	else
		*out = *sk;
	free(sk);
	return rc;
}

/* fg_seckill_from_json - see the header. */
int fg_seckill_from_json(const char *name, json_t *obj,
			 struct fg_rule_seckill *out, struct fg_rule_error *err)
{
	struct fg_pctx c;
	int rc = fg_named_begin(name, out, "seckill rule", err);

	fg_pctx_init(&c, err);
	if (!rc)
		rc = fg_parse_seckill(&c, obj, out);
	if (!rc)
		strcpy(out->name, name);
	return rc;
}

/* -------------------------------------------------- rule-set checks */

/* qsort over service pointers by name, ties by position. */
static int fg_svc_cmp_name(const void *pa, const void *pb)
{
	const struct fg_rule_service *a = FG_DEREF(struct fg_rule_service, pa);
	const struct fg_rule_service *b = FG_DEREF(struct fg_rule_service, pb);
	int r = strcmp(a->name, b->name);

	return r ? r : (a < b ? -1 : a > b);
}

/* By (vip, port, proto), then name: the later name of a clash is the one
 * reported, whatever order the set came in. */
static int fg_svc_cmp_key(const void *pa, const void *pb)
{
	const struct fg_rule_service *a = FG_DEREF(struct fg_rule_service, pa);
	const struct fg_rule_service *b = FG_DEREF(struct fg_rule_service, pb);
	int r = fg_addr_cmp(&a->vip, &b->vip);

	if (r)
		return r;
	if (a->port != b->port)
		return a->port < b->port ? -1 : 1;
	if (a->proto != b->proto)
		return a->proto < b->proto ? -1 : 1;
	return fg_svc_cmp_name(pa, pb);
}

/* qsort over limit pointers by name, ties by position. */
static int fg_lim_cmp_name(const void *pa, const void *pb)
{
	const struct fg_rule_limit *a = FG_DEREF(struct fg_rule_limit, pa);
	const struct fg_rule_limit *b = FG_DEREF(struct fg_rule_limit, pb);
	int r = strcmp(a->name, b->name);

	return r ? r : (a < b ? -1 : a > b);
}

/* Find a service by name in a name-sorted pointer array. */
static const struct fg_rule_service *
fg_svc_find(const struct fg_rule_service *const *byname, uint32_t n,
	    const char *name)
{
	uint32_t lo = 0, hi = n;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		int r = strcmp(byname[mid]->name, name);

		if (!r)
			return byname[mid];
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/*
 * fg_limit_vs_service - can limit l work on service s? Errors at
 * limits.<name>.<field>. Returns 0 or -EINVAL.
 */
static int fg_limit_vs_service(struct fg_pctx *c, const struct fg_rule_limit *l,
			       const struct fg_rule_service *s)
{
	const char *sp = s->proto == IPPROTO_TCP ? "tcp" : "udp";

	if (l->match_proto && l->match_proto != s->proto)
		return fg_perr_at(c, "match.proto",
				  "service %s is %s: this limit would never match",
				  s->name, sp);
	if (l->match_dport && s->port && l->match_dport != s->port)
		return fg_perr_at(c, "match.dst_port",
				  "service %s is on port %u only: this limit would never match",
				  s->name, s->port);
	if (l->match_src_set && l->match_src.family != s->vip.family)
		return fg_perr_at(c, "match.src",
				  "service %s has an IPv%d vip: an IPv%d prefix would never match",
				  s->name, s->vip.family == AF_INET ? 4 : 6,
				  l->match_src.family == AF_INET ? 4 : 6);
	if (l->key == FG_LKEY_SRC_PREFIX && s->vip.family == AF_INET &&
	    l->prefix_len > 32)
		return fg_perr_at(c, "key",
				  "src_prefix/%u: N must be 0..32 for service %s's IPv4 vip",
				  l->prefix_len, s->name);
	if (l->unit == FG_LUNIT_CPS && s->proto != IPPROTO_TCP)
		return fg_perr_at(c, "unit",
				  "cps counts new TCP connections; service %s is udp",
				  s->name);
	if (l->action == FG_LACT_RESET && s->proto != IPPROTO_TCP)
		return fg_perr_at(c, "action",
				  "reset sends a TCP RST; service %s is udp",
				  s->name);
	return 0;
}

/*
 * fg_ruleset_check_limits - names, references and per-service counts of
 * the limits, given the services sorted by name. Returns 0, -EINVAL,
 * -EEXIST or -ENOMEM.
 */
static int fg_ruleset_check_limits(struct fg_pctx *c,
				   const struct fg_ruleset *rs,
				   const struct fg_rule_service *const *byname)
{
	const struct fg_rule_limit **lv = NULL;
	uint32_t *per_svc = NULL, nglobal = 0, i;
	int rc = 0;

	if (!rs->nlimits)
		return 0;
	lv = malloc(rs->nlimits * sizeof(*lv));
	per_svc = calloc(rs->nservices ? rs->nservices : 1, sizeof(*per_svc));
	if (!lv || !per_svc) {
		rc = fg_enomem(c);
		goto out;
	}
	for (i = 0; i < rs->nlimits; i++)
		lv[i] = &rs->limits[i];
	qsort(lv, rs->nlimits, sizeof(*lv), fg_lim_cmp_name);
	for (i = 1; i < rs->nlimits; i++) {
		if (strcmp(lv[i - 1]->name, lv[i]->name))
			continue;
		fg_path_push(c, "limits.%s", lv[i]->name);
		rc = fg_perr(c, FG_RULE_ECONFLICT, "two limits have this name");
		goto out;
	}

	for (i = 0; i < rs->nlimits; i++) {
		const struct fg_rule_limit *l = &rs->limits[i];
		const struct fg_rule_service *s;
		size_t old = fg_path_push(c, "limits.%s", l->name);

		if (!l->service[0]) {
			if (++nglobal > FG_GLOBAL_LIMITS_MAX) {
				rc = fg_perr_at(c, "service",
						"at most %u limits may name no service",
						FG_GLOBAL_LIMITS_MAX);
				goto out;
			}
			fg_path_pop(c, old);
			continue;
		}
		s = fg_svc_find(byname, rs->nservices, l->service);
		if (!s) {
			rc = fg_perr_at(c, "service", "no service named %s",
					l->service);
			goto out;
		}
		rc = fg_limit_vs_service(c, l, s);
		if (rc)
			goto out;
		if (++per_svc[s - rs->services] > FG_SVC_LIMITS_MAX) {
			rc = fg_perr_at(c, "service",
					"service %s already has %u limits, the most one service can have",
					s->name, FG_SVC_LIMITS_MAX);
			goto out;
		}
		fg_path_pop(c, old);
	}
out:
	free(lv);
	free(per_svc);
	return rc;
}

/*
 * fg_l7_service - the service an L7 rule (route, seckill rule, rps or
 * respond limit) names at member `field` of the current path: it must
 * exist and be mode l7, since only an HTTP-aware service has requests to
 * route, admit or count. Returns 0 with *out set, or -EINVAL.
 */
static int fg_l7_service(struct fg_pctx *c,
			 const struct fg_rule_service *const *byname,
			 uint32_t nservices, const char *name,
			 const char *field, const char *what,
			 const struct fg_rule_service **out)
{
	const struct fg_rule_service *s = fg_svc_find(byname, nservices, name);

	if (!s)
		return fg_perr_at(c, field, "no service named %s", name);
	if (s->mode != FG_MODE_L7)
		return fg_perr_at(c, field,
				  "service %s is mode l4: %s needs an l7 (HTTP) service",
				  name, what);
	*out = s;
	return 0;
}

/* qsort over pointers to names (a rule's name is its first member). */
static int fg_name_ptr_cmp(const void *pa, const void *pb)
{
	const char *a = *(const char *const *)pa, *b = *(const char *const *)pb;
	int r = strcmp(a, b);

	return r ? r : (a < b ? -1 : a > b);
}

/*
 * fg_names_dup - n rules of `size` bytes each at base, whose name is the
 * first member: a conflict at "<kind>.<name>" when two share a name.
 * Returns 0, -EEXIST or -ENOMEM.
 */
static int fg_names_dup(struct fg_pctx *c, const void *base, uint32_t n,
			size_t size, const char *kind, const char *what)
{
	const char **v;
	uint32_t i;
	int rc = 0;

	if (n < 2)
		return 0;
	v = malloc(n * sizeof(*v));
	if (!v)
		return fg_enomem(c);
	for (i = 0; i < n; i++)
		v[i] = (const char *)base + (size_t)i * size;
	qsort(v, n, sizeof(*v), fg_name_ptr_cmp);
	for (i = 1; i < n; i++) {
		if (strcmp(v[i - 1], v[i]))
			continue;
		fg_path_push(c, "%s.%s", kind, v[i]);
		rc = fg_perr(c, FG_RULE_ECONFLICT, "two %s have this name",
			     what);
		break;
	}
	free(v);
	return rc;
}

/*
 * fg_ruleset_check_l7 - names, service references and backend families
 * of the routes and seckill rules, and the services of rps and respond
 * limits. Returns 0, -EINVAL, -EEXIST or -ENOMEM.
 */
static int fg_ruleset_check_l7(struct fg_pctx *c, const struct fg_ruleset *rs,
			       const struct fg_rule_service *const *byname)
{
	const struct fg_rule_service *s;
	uint32_t i, k;
	size_t old;
	int rc;

	rc = fg_names_dup(c, rs->routes, rs->nroutes, sizeof(*rs->routes),
			  "routes", "routes");
	if (!rc)
		rc = fg_names_dup(c, rs->seckill, rs->nseckill,
				  sizeof(*rs->seckill), "seckill",
				  "seckill rules");
	if (rc)
		return rc;
	for (i = 0; i < rs->nlimits; i++) {
		const struct fg_rule_limit *l = &rs->limits[i];
		bool rps = l->unit == FG_LUNIT_RPS;

		if (!rps && l->action != FG_LACT_RESPOND)
			continue;
		old = fg_path_push(c, "limits.%s", l->name);
		rc = fg_l7_service(c, byname, rs->nservices, l->service,
				   "service", rps ? "unit rps" : "action respond",
				   &s);
		if (rc)
			return rc;
		fg_path_pop(c, old);
	}
	for (i = 0; i < rs->nroutes; i++) {
		const struct fg_rule_route *r = &rs->routes[i];

		old = fg_path_push(c, "routes.%s", r->name);
		rc = fg_l7_service(c, byname, rs->nservices, r->service,
				   "service", "a route", &s);
		if (rc)
			return rc;
		for (k = 0; k < r->nbackends; k++) {
			const struct fg_rule_backend *b = &r->backends[k];
			size_t old2 = fg_path_push(c, ".backends[%u]", k);

			/* NAT does not translate families. */
			if (b->addr.family != s->vip.family)
				return fg_perr_at(c, "addr",
						  "must be IPv%d like service %s's vip",
						  s->vip.family == AF_INET ? 4 : 6,
						  s->name);
			if (!b->port && !s->port)
				return fg_perr_at(c, "port",
						  "required: service %s is on every port (0)",
						  s->name);
			fg_path_pop(c, old2);
		}
		fg_path_pop(c, old);
	}
	for (i = 0; i < rs->nseckill; i++) {
		const struct fg_rule_seckill *sk = &rs->seckill[i];

		old = fg_path_push(c, "seckill.%s", sk->name);
		rc = fg_l7_service(c, byname, rs->nservices, sk->service,
				   "service", "a seckill rule", &s);
		if (rc)
			return rc;
		if (sk->has_per_client && sk->client_key == FG_LKEY_SRC_PREFIX &&
		    s->vip.family == AF_INET && sk->client_prefix_len > 32)
			return fg_perr_at(c, "per_client.key",
					  "src_prefix/%u: N must be 0..32 for service %s's IPv4 vip",
					  sk->client_prefix_len, s->name);
		fg_path_pop(c, old);
	}
	return 0;
}

/* fg_ruleset_check - see the header. */
int fg_ruleset_check(const struct fg_ruleset *rs, struct fg_rule_error *err)
{
	const struct fg_rule_service **byname = NULL, **bykey = NULL;
	char abuf[INET6_ADDRSTRLEN];
	uint64_t nbackends = 0;
	struct fg_pctx c;
	uint32_t i;
	int rc = 0;

	fg_pctx_init(&c, err);
	if (!rs)
		return 0;
	if (rs->nservices > FG_SVC_MAX) {
		fg_rule_error_set(err, FG_RULE_EINVAL, "services",
				 "at most %u services", FG_SVC_MAX);
		return -EINVAL;
	}
	if (rs->nlimits > FG_LIMIT_MAX) {
		fg_rule_error_set(err, FG_RULE_EINVAL, "limits", "at most %u limits",
				 FG_LIMIT_MAX);
		return -EINVAL;
	}
	for (i = 0; i < rs->nservices; i++)
		nbackends += rs->services[i].nbackends;
	if (rs->nroutes > FG_ROUTES_MAX) {
		fg_rule_error_set(err, FG_RULE_EINVAL, "routes", "at most %u routes",
				  FG_ROUTES_MAX);
		return -EINVAL;
	}
	if (rs->nseckill > FG_SECKILLS_MAX) {
		fg_rule_error_set(err, FG_RULE_EINVAL, "seckill",
				  "at most %u seckill rules", FG_SECKILLS_MAX);
		return -EINVAL;
	}
	if (nbackends > FG_BACKEND_MAX) {
		fg_rule_error_set(err, FG_RULE_EINVAL, "services",
				 "at most %u backends in all services together",
				 FG_BACKEND_MAX);
		return -EINVAL;
	}

	if (rs->nservices) {
		byname = malloc(rs->nservices * sizeof(*byname));
		bykey = malloc(rs->nservices * sizeof(*bykey));
		if (!byname || !bykey) {
			rc = fg_enomem(&c);
			goto out;
		}
	}
	for (i = 0; i < rs->nservices; i++)
		byname[i] = bykey[i] = &rs->services[i];
	if (rs->nservices) {
		qsort(byname, rs->nservices, sizeof(*byname), fg_svc_cmp_name);
		qsort(bykey, rs->nservices, sizeof(*bykey), fg_svc_cmp_key);
	}
	for (i = 1; i < rs->nservices; i++) {
		if (strcmp(byname[i - 1]->name, byname[i]->name))
			continue;
		fg_path_push(&c, "services.%s", byname[i]->name);
		rc = fg_perr(&c, FG_RULE_ECONFLICT, "two services have this name");
		goto out;
	}
	for (i = 1; i < rs->nservices; i++) {
		const struct fg_rule_service *a = bykey[i - 1], *b = bykey[i];

		if (fg_addr_cmp(&a->vip, &b->vip) || a->port != b->port ||
		    a->proto != b->proto)
			continue;
		fg_path_push(&c, "services.%s.vip", b->name);
		rc = fg_perr(&c, FG_RULE_ECONFLICT,
			     "%s port %u %s is already used by service %s",
			     fg_addr_str(&b->vip, abuf), b->port,
			     fg_enum_name(fg_proto_enum, b->proto), a->name);
		goto out;
	}
	rc = fg_ruleset_check_limits(&c, rs, byname);
	if (!rc)
		rc = fg_ruleset_check_l7(&c, rs, byname);
out:
	free(byname);
	free(bykey);
	return rc;
}

/* fg_ruleset_service_user - see the header. */
const char *fg_ruleset_service_user(const struct fg_ruleset *rs,
				    const char *service)
{
	uint32_t i;

	if (!rs || !service)
		return NULL;
	for (i = 0; i < rs->nlimits; i++)
		if (!strcmp(rs->limits[i].service, service))
			return rs->limits[i].name;
	for (i = 0; i < rs->nroutes; i++)
		if (!strcmp(rs->routes[i].service, service))
			return rs->routes[i].name;
	for (i = 0; i < rs->nseckill; i++)
		if (!strcmp(rs->seckill[i].service, service))
			return rs->seckill[i].name;
	return NULL;
}

/* ----------------------------------------------------------- config */

static const char *const fg_ruleset_keys[] = {
	"services", "limits", "routes", "seckill", NULL,
};

/*
 * fg_ruleset_member - member `key` of the body as an object (NULL when
 * absent). Returns 0 or -EINVAL.
 */
static int fg_ruleset_member(struct fg_pctx *c, json_t *root, const char *key,
			    json_t **out)
{
	*out = json_object_get(root, key);
	if (*out && !json_is_object(*out))
		return fg_perr_at(c, key, "must be an object");
	return 0;
}

/* qsort over objects of any kind, by name (the first member of every
 * kind; unique by then). */
static int fg_name_sort(const void *pa, const void *pb)
{
	return strcmp((const char *)pa, (const char *)pb);
}

/*
 * fg_ruleset_names - refuse a member of `map` whose name is invalid; the
 * field is the map ("services"), since a bad name makes a bad path.
 * Returns 0 or -EINVAL.
 */
static int fg_ruleset_names(struct fg_pctx *c, json_t *map, const char *what)
{
	const char *key;
	json_t *val;

	json_object_foreach(map, key, val) {
		if (!fg_name_valid(key)) {
			fg_path_key(c, what);
			return fg_perr(c, FG_RULE_EINVAL,
				       "\"%.64s\" is not a valid name: must match %s",
				       key, FG_NAME_RE);
		}
	}
	return 0;
}

/* The per-kind parsers under a path context, in fg_rule_kinds' order. */
static int fg_parse_service_any(struct fg_pctx *c, json_t *o, void *out)
{
	return fg_parse_service(c, o, out);
}

static int fg_parse_limit_any(struct fg_pctx *c, json_t *o, void *out)
{
	return fg_parse_limit(c, o, out);
}

static int fg_parse_route_any(struct fg_pctx *c, json_t *o, void *out)
{
	return fg_parse_route(c, o, out);
}

static int fg_parse_seckill_any(struct fg_pctx *c, json_t *o, void *out)
{
	return fg_parse_seckill(c, o, out);
}

static int (*const fg_kind_parse[FG_RULE_KINDS])(struct fg_pctx *, json_t *,
						  void *) = {
	fg_parse_service_any, fg_parse_limit_any, fg_parse_route_any,
	fg_parse_seckill_any,
};

/* fg_ruleset_objects_from_json - see the header. */
int fg_ruleset_objects_from_json(json_t *root, struct fg_ruleset *out,
				 struct fg_rule_error *err)
{
	json_t *maps[FG_RULE_KINDS], *val;
	struct fg_ruleset rs;
	struct fg_pctx c;
	const char *key;
	unsigned int k;
	size_t old;
	int rc;

	memset(&rs, 0, sizeof(rs));
	fg_pctx_init(&c, err);
	if (!out) {
		fg_rule_error_set(err, FG_RULE_ENOMEM, NULL, "no output for the rule set");
		return -EINVAL;
	}
	if (!json_is_object(root))
		return fg_perr(&c, FG_RULE_EINVAL, "request body must be a JSON object");
	/* Named before the generic unknown-field check: the version is the
	 * server's, and the operator should learn where it goes instead. */
	if (json_object_get(root, "version"))
		return fg_perr_at(&c, "version",
				  "not allowed in a PUT body: the server assigns versions (send If-Match: \"N\" for a conditional write)");
	rc = fg_check_keys(&c, root, fg_ruleset_keys);
	if (rc)
		return rc;
	/* Bound the allocations before making them (each JSON object has
	 * unique keys: fg_json_parse_body refuses duplicates and jansson
	 * keeps one value per key in any case). */
	for (k = 0; k < FG_RULE_KINDS; k++) {
		const struct fg_rule_kind *kd = &fg_rule_kinds[k];

		rc = fg_ruleset_member(&c, root, kd->name, &maps[k]);
		if (rc)
			return rc;
		if (maps[k] && json_object_size(maps[k]) > kd->max)
			return fg_perr_at(&c, kd->name, "at most %u %s", kd->max,
					  kd->name);
	}
	for (k = 0; k < FG_RULE_KINDS; k++)
		if (maps[k] && (rc = fg_ruleset_names(&c, maps[k],
						      fg_rule_kinds[k].name)))
			return rc;

	for (k = 0; k < FG_RULE_KINDS; k++) {
		const struct fg_rule_kind *kd = &fg_rule_kinds[k];
		uint32_t *n = (uint32_t *)((char *)&rs + kd->off_n);
		char **arr = (char **)((char *)&rs + kd->off_arr);

		if (!maps[k] || !json_object_size(maps[k]))
			continue;
		*arr = calloc(json_object_size(maps[k]), kd->size);
		if (!*arr) {
			rc = fg_enomem(&c);
			goto fail;
		}
		json_object_foreach(maps[k], key, val) {
			char *obj = *arr + (size_t)*n * kd->size;

			old = fg_path_push(&c, "%s.%s", kd->name, key);
			rc = fg_kind_parse[k](&c, val, obj);
			if (rc)
				goto fail;
			strcpy(obj, key); /* the name, every kind's first member */
			(*n)++;
			fg_path_pop(&c, old);
		}
		qsort(*arr, *n, kd->size, fg_name_sort);
	}
	*out = rs;
	return 0;
fail:
	fg_ruleset_free(&rs);
	return rc;
}

/* fg_ruleset_from_json - see the header. */
int fg_ruleset_from_json(json_t *root, struct fg_ruleset *out,
			struct fg_rule_error *err)
{
	struct fg_ruleset rs;
	int rc;

	rc = fg_ruleset_objects_from_json(root, &rs, err);
	if (rc)
		return rc;
	rc = fg_ruleset_check(&rs, err);
	if (rc) {
		fg_ruleset_free(&rs);
		return rc;
	}
	*out = rs;
	return 0;
}

/* ---------------------------------------------------- serialisation */

/* Set obj[key] = val, consuming val; clears *ok on any failure (val NULL
 * from a failed constructor included), so a builder checks once at the
 * end. */
static void fg_jset(json_t *obj, const char *key, json_t *val, bool *ok)
{
	if (!val || json_object_set_new(obj, key, val))
		*ok = false;
}

/* An address as its canonical JSON string (inet_ntop: compressed,
 * lower-case IPv6). New reference or NULL. */
static json_t *fg_jaddr(const struct fg_addr *a)
{
	char buf[INET6_ADDRSTRLEN];

	return json_string(fg_addr_str(a, buf));
}

/* One backend object; port left out when 0 (none). NULL on ENOMEM. */
static json_t *fg_backend_to_json(const struct fg_rule_backend *b)
{
	json_t *o = json_object();
	bool ok = o != NULL;

	if (!o)
		return NULL;
	fg_jset(o, "addr", fg_jaddr(&b->addr), &ok);
	if (b->port)
		fg_jset(o, "port", json_integer(b->port), &ok);
	fg_jset(o, "weight", json_integer(b->weight), &ok);
	fg_jset(o, "state", json_string(fg_enum_name(fg_state_enum, b->state)),
		&ok);
	if (!ok) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* The health object; path and expect_status for http only, port when
 * set. NULL on ENOMEM. */
static json_t *fg_health_to_json(const struct fg_rule_health *h)
{
	json_t *o = json_object();
	bool ok = o != NULL;

	if (!o)
		return NULL;
	fg_jset(o, "type", json_string(fg_enum_name(fg_health_enum, h->type)),
		&ok);
	fg_jset(o, "interval_ms", json_integer(h->interval_ms), &ok);
	fg_jset(o, "timeout_ms", json_integer(h->timeout_ms), &ok);
	fg_jset(o, "rise", json_integer(h->rise), &ok);
	fg_jset(o, "fall", json_integer(h->fall), &ok);
	if (h->port)
		fg_jset(o, "port", json_integer(h->port), &ok);
	if (h->type == FG_HEALTH_HTTP) {
		fg_jset(o, "path", json_string(h->path), &ok);
		fg_jset(o, "expect_status", json_integer(h->expect_status),
			&ok);
	}
	if (!ok) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* fg_service_to_json - see the header. */
json_t *fg_service_to_json(const struct fg_rule_service *svc)
{
	json_t *o, *arr;
	bool ok = true;
	uint32_t i;

	if (!svc)
		return NULL;
	o = json_object();
	if (!o)
		return NULL;
	fg_jset(o, "vip", fg_jaddr(&svc->vip), &ok);
	fg_jset(o, "port", json_integer(svc->port), &ok);
	fg_jset(o, "proto", json_string(fg_enum_name(fg_proto_enum, svc->proto)),
		&ok);
	fg_jset(o, "mode", json_string(fg_enum_name(fg_mode_enum, svc->mode)),
		&ok);
	fg_jset(o, "forward",
		json_string(fg_enum_name(fg_forward_enum, svc->forward)), &ok);
	fg_jset(o, "hash", json_string(fg_enum_name(fg_hash_enum, svc->hash)),
		&ok);
	arr = json_array();
	for (i = 0; arr && ok && i < svc->nbackends; i++) {
		json_t *b = fg_backend_to_json(&svc->backends[i]);

		/* append_new consumes b, and fails on a NULL b */
		if (json_array_append_new(arr, b))
			ok = false;
	}
	fg_jset(o, "backends", arr, &ok);
	if (svc->health.type != FG_HEALTH_NONE)
		fg_jset(o, "health", fg_health_to_json(&svc->health), &ok);
	if (!ok) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* fg_limit_to_json - see the header. */
json_t *fg_limit_to_json(const struct fg_rule_limit *lim)
{
	char buf[INET6_ADDRSTRLEN + 8], abuf[INET6_ADDRSTRLEN];
	json_t *o, *m;
	bool ok = true;

	if (!lim)
		return NULL;
	o = json_object();
	if (!o)
		return NULL;
	if (lim->service[0])
		fg_jset(o, "service", json_string(lim->service), &ok);
	if (lim->match_src_set || lim->match_proto || lim->match_dport) {
		m = json_object();
		if (m && lim->match_src_set) {
			snprintf(buf, sizeof(buf), "%s/%u",
				 fg_addr_str(&lim->match_src, abuf),
				 lim->match_src_len);
			fg_jset(m, "src", json_string(buf), &ok);
		}
		if (m && lim->match_proto)
			fg_jset(m, "proto",
				json_string(fg_enum_name(fg_proto_enum,
							 lim->match_proto)),
				&ok);
		if (m && lim->match_dport)
			fg_jset(m, "dst_port", json_integer(lim->match_dport),
				&ok);
		fg_jset(o, "match", m, &ok);
	}
	if (lim->key == FG_LKEY_SRC_PREFIX) {
		snprintf(buf, sizeof(buf), "src_prefix/%u", lim->prefix_len);
		fg_jset(o, "key", json_string(buf), &ok);
	} else {
		fg_jset(o, "key", json_string(fg_enum_name(fg_key_enum, lim->key)),
			&ok);
	}
	fg_jset(o, "unit", json_string(fg_enum_name(fg_unit_enum, lim->unit)),
		&ok);
	/* rate <= 1e11 and burst < 2^63 by validation: both fit json_int_t. */
	fg_jset(o, "rate", json_integer((json_int_t)lim->rate), &ok);
	fg_jset(o, "burst", json_integer((json_int_t)lim->burst), &ok);
	fg_jset(o, "action",
		json_string(fg_enum_name(fg_action_enum, lim->action)), &ok);
	if (lim->action == FG_LACT_RESPOND)
		fg_jset(o, "respond", fg_respond_to_json(&lim->respond), &ok);
	fg_jset(o, "scope", json_string(lim->cluster_scope ? "cluster" : "node"),
		&ok);
	fg_jset(o, "dry_run", json_boolean(lim->dry_run), &ok);
	if (!ok) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* fg_route_to_json - see the header. */
json_t *fg_route_to_json(const struct fg_rule_route *r)
{
	json_t *o, *arr;
	bool ok = true;
	uint32_t i;

	if (!r)
		return NULL;
	o = json_object();
	if (!o)
		return NULL;
	fg_jset(o, "service", json_string(r->service), &ok);
	fg_jset(o, "priority", json_integer(r->priority), &ok);
	fg_jset(o, "match", fg_http_match_to_json(&r->match), &ok);
	arr = json_array();
	for (i = 0; arr && ok && i < r->nbackends; i++)
		if (json_array_append_new(arr,
					  fg_backend_to_json(&r->backends[i])))
			ok = false;
	fg_jset(o, "backends", arr, &ok);
	if (!ok) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* fg_seckill_to_json - see the header. */
json_t *fg_seckill_to_json(const struct fg_rule_seckill *sk)
{
	char buf[FG_SECKILL_ITEM_NAME_MAX + 16];
	json_t *o, *arr, *pc;
	bool ok = true;
	uint32_t i;

	if (!sk)
		return NULL;
	o = json_object();
	if (!o)
		return NULL;
	fg_jset(o, "service", json_string(sk->service), &ok);
	fg_jset(o, "match", fg_http_match_to_json(&sk->match), &ok);
	if (sk->item_from != FG_ITEM_FROM_NONE) {
		if (sk->item_from == FG_ITEM_FROM_SEGMENT)
			snprintf(buf, sizeof(buf), "segment:%u",
				 sk->item_segment);
		else
			snprintf(buf, sizeof(buf), "%s:%s",
				 sk->item_from == FG_ITEM_FROM_QUERY ?
				 "query" : "header", sk->item_name);
		fg_jset(o, "item", json_string(buf), &ok);
	}
	if (sk->nitems) {
		arr = json_array();
		for (i = 0; arr && ok && i < sk->nitems; i++)
			if (json_array_append_new(arr,
						  json_string(sk->items[i])))
				ok = false;
		fg_jset(o, "items", arr, &ok);
	} else {
		fg_jset(o, "max_items", json_integer(sk->max_items), &ok);
	}
	/* rate <= 1e11 and burst, stock < 2^63 by validation. */
	fg_jset(o, "rate", json_integer((json_int_t)sk->rate), &ok);
	fg_jset(o, "burst", json_integer((json_int_t)sk->burst), &ok);
	if (sk->has_stock)
		fg_jset(o, "stock", json_integer((json_int_t)sk->stock), &ok);
	if (sk->has_per_client) {
		pc = json_object();
		if (pc && sk->client_key == FG_LKEY_SRC_PREFIX) {
			snprintf(buf, sizeof(buf), "src_prefix/%u",
				 sk->client_prefix_len);
			fg_jset(pc, "key", json_string(buf), &ok);
		} else if (pc) {
			fg_jset(pc, "key", json_string("src_ip"), &ok);
		}
		if (pc) {
			fg_jset(pc, "rate",
				json_integer((json_int_t)sk->client_rate), &ok);
			fg_jset(pc, "burst",
				json_integer((json_int_t)sk->client_burst),
				&ok);
		}
		fg_jset(o, "per_client", pc, &ok);
	}
	if (sk->start_ns) {
		fg_rfc3339_format(sk->start_ns, buf, sizeof(buf));
		fg_jset(o, "start", json_string(buf), &ok);
	}
	if (sk->end_ns) {
		fg_rfc3339_format(sk->end_ns, buf, sizeof(buf));
		fg_jset(o, "end", json_string(buf), &ok);
	}
	fg_jset(o, "respond", fg_respond_to_json(&sk->respond), &ok);
	fg_jset(o, "sold_out", fg_respond_to_json(&sk->sold_out), &ok);
	if (!ok) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* fg_ruleset_to_json - see the header. */
json_t *fg_ruleset_to_json(const struct fg_ruleset *rs, uint64_t version)
{
	bool ok = true;
	unsigned int k;
	uint32_t i;
	json_t *o;

	if (!rs)
		return NULL;
	o = json_object();
	if (!o)
		return NULL;
	fg_jset(o, "version", json_integer((json_int_t)version), &ok);
	for (k = 0; ok && k < FG_RULE_KINDS; k++) {
		const struct fg_rule_kind *kd = &fg_rule_kinds[k];
		json_t *map = json_object();

		for (i = 0; map && ok && i < fg_rule_count(rs, kd); i++) {
			const char *obj = fg_rule_at(rs, kd, i);

			fg_jset(map, obj, kd->to_json(obj), &ok);
		}
		fg_jset(o, kd->name, map, &ok);
	}
	if (!ok) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* ------------------------------------------------------------ kinds */

static int fg_service_from_any(const char *name, json_t *obj, void *out,
			       struct fg_rule_error *err)
{
	return fg_service_from_json(name, obj, out, err);
}

static int fg_limit_from_any(const char *name, json_t *obj, void *out,
			     struct fg_rule_error *err)
{
	return fg_limit_from_json(name, obj, out, err);
}

static int fg_route_from_any(const char *name, json_t *obj, void *out,
			     struct fg_rule_error *err)
{
	return fg_route_from_json(name, obj, out, err);
}

static int fg_seckill_from_any(const char *name, json_t *obj, void *out,
			       struct fg_rule_error *err)
{
	return fg_seckill_from_json(name, obj, out, err);
}

static json_t *fg_service_to_any(const void *o)
{
	return fg_service_to_json(o);
}

static json_t *fg_limit_to_any(const void *o)
{
	return fg_limit_to_json(o);
}

static json_t *fg_route_to_any(const void *o)
{
	return fg_route_to_json(o);
}

static json_t *fg_seckill_to_any(const void *o)
{
	return fg_seckill_to_json(o);
}

static void fg_service_free_any(void *o)
{
	struct fg_rule_service *s = o;

	free(s->backends);
	s->backends = NULL;
	s->nbackends = 0;
}

/* A limit owns nothing. */
static void fg_limit_free_any(void *o)
{
	(void)o;
}

static void fg_route_free_any(void *o)
{
	fg_rule_route_free(o);
}

static void fg_seckill_free_any(void *o)
{
	fg_rule_seckill_free(o);
}

#define FG_KIND_AT(member, nmember) \
	offsetof(struct fg_ruleset, nmember), offsetof(struct fg_ruleset, member)

const struct fg_rule_kind fg_rule_kinds[FG_RULE_KINDS] = {
	/* A service is named by limits, routes and seckill rules alike. */
	{ "services", "service", sizeof(struct fg_rule_service),
	  FG_KIND_AT(services, nservices), FG_SVC_MAX, fg_service_from_any,
	  fg_service_to_any, fg_service_free_any, fg_ruleset_service_user,
	  "rule" },
	{ "limits", "limit", sizeof(struct fg_rule_limit),
	  FG_KIND_AT(limits, nlimits), FG_LIMIT_MAX, fg_limit_from_any,
	  fg_limit_to_any, fg_limit_free_any, NULL, NULL },
	{ "routes", "route", sizeof(struct fg_rule_route),
	  FG_KIND_AT(routes, nroutes), FG_ROUTES_MAX, fg_route_from_any,
	  fg_route_to_any, fg_route_free_any, NULL, NULL },
	{ "seckill", "seckill rule", sizeof(struct fg_rule_seckill),
	  FG_KIND_AT(seckill, nseckill), FG_SECKILLS_MAX,
	  fg_seckill_from_any, fg_seckill_to_any, fg_seckill_free_any, NULL,
	  NULL },
};

json_t *fg_rule_canon(const struct fg_rule_kind *k, const char *name,
		      json_t *obj, struct fg_rule_error *err)
{
	/* Heap, not stack: a seckill rule holds two 4 KiB answers. */
	void *o = calloc(1, k->size);
	json_t *out = NULL;

	if (!o) {
		fg_rule_error_set(err, FG_RULE_ENOMEM, NULL, "out of memory");
		return NULL;
	}
	if (!k->from_json(name, obj, o, err)) {
		out = k->to_json(o);
		k->free(o);
		if (!out)
			fg_rule_error_set(err, FG_RULE_ENOMEM, NULL,
					  "out of memory");
	}
	free(o);
	return out;
}

const struct fg_rule_kind *fg_rule_kind_find(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < FG_RULE_KINDS; i++)
		if (strlen(fg_rule_kinds[i].name) == n &&
		    !strncmp(s, fg_rule_kinds[i].name, n))
			return &fg_rule_kinds[i];
	return NULL;
}
