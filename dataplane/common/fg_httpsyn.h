/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * fg_httpsyn.h - the syntax of the request fields the L7 rules name,
 * written once: token characters (header names), %XX escapes, a rule's
 * host (literal or "*." wildcard), a path prefix, and the seckill item
 * spec (`segment:N`, `query:NAME`, `header:NAME`).
 *
 * Two sides must agree on each of these: the rule parser
 * (fg_rules_json.c: a rule the engine could never match is a 400) and the
 * L7 engine (dataplane/l7: the reader, the item extractor, the route
 * compiler). The rule library does not link the engine, so the checks
 * live here, header-only, included by both: a check changed here changes
 * on both sides at once.
 *
 * Pure functions over (bytes, length): no allocation, nothing of libc
 * beyond ISO C's <string.h> (the fuzz targets build without _GNU_SOURCE), callable on either side (control side or worker). Each
 * "why" result is a static one-line reason, NULL when the input is good.
 */
#ifndef FG_HTTPSYN_H
#define FG_HTTPSYN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Limits the rules and the engine share. */
#define FG_HTTPSYN_HOST_MAX     255u  /* bytes of a host (a DNS name) */
#define FG_HTTPSYN_NAME_MAX     64u   /* NAME of query:/header: */
#define FG_HTTPSYN_SEGMENT_MAX  64u   /* N of segment:N */

/* fg_httpsyn_tchar - whether c is an RFC 9110 tchar (token character). */
static inline bool fg_httpsyn_tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* fg_httpsyn_token - whether s[0..len) is a token of 1..max bytes (a
 * header name). */
static inline bool fg_httpsyn_token(const char *s, size_t len, size_t max)
{
	size_t i;

	if (!s || len == 0 || len > max)
		return false;
	for (i = 0; i < len; i++)
		if (!fg_httpsyn_tchar((unsigned char)s[i]))
			return false;
	return true;
}

/* fg_httpsyn_hex - the value of hex digit c (either case), or -1. */
static inline int fg_httpsyn_hex(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* fg_httpsyn_pct_ok - whether s[i] (a '%', i < len) starts a %XX escape:
 * two hex digits follow within len. */
static inline bool fg_httpsyn_pct_ok(const char *s, size_t len, size_t i)
{
	return len - i >= 3 && fg_httpsyn_hex((unsigned char)s[i + 1]) >= 0 &&
	       fg_httpsyn_hex((unsigned char)s[i + 2]) >= 0;
}

/*
 * fg_httpsyn_host_bad - why h[0..len) is no host a rule may match, or
 * NULL. A rule's host is a DNS name, or "*." and one (any subdomain):
 * one trailing dot is the same DNS name; labels are never empty; '*'
 * only in the leading "*."; no byte a Host header cannot carry (control
 * bytes, space, non-ASCII, / ? # @ " < > \ ^ ` { | }). At most
 * FG_HTTPSYN_HOST_MAX bytes without the trailing dot.
 */
static inline const char *fg_httpsyn_host_bad(const char *h, size_t len)
{
	const char *lit = h;
	size_t i;

	if (len && h[len - 1] == '.')
		len--;
	if (len > FG_HTTPSYN_HOST_MAX || len == 0)
		return "must be a host name of 1..255 bytes";
	if (len >= 2 && h[0] == '*' && h[1] == '.') {
		lit += 2;
		len -= 2;
	}
	if (!len || lit[0] == '.' || lit[len - 1] == '.')
		return "is not a host name or a \"*.\" wildcard of one (an empty label)";
	for (i = 1; i < len; i++)
		if (lit[i] == '.' && lit[i - 1] == '.')
			return "is not a host name or a \"*.\" wildcard of one (an empty label)";
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)lit[i];

		if (c == '*')
			return "only a leading \"*.\" is a wildcard";
		if (c <= 0x20 || c >= 0x7f || strchr("/?#@\"<>\\^`{|}", c))
			return "holds a character no Host header can carry";
	}
	return NULL;
}

/*
 * fg_httpsyn_path_bad - why p[0..len) is no path prefix, or NULL; *at
 * receives the offending byte's offset (a reason about one byte reads
 * after "byte N "), or SIZE_MAX for a reason about the whole.
 * A prefix starts with '/', holds at most max bytes of visible ASCII
 * other than '?' and '#' (the path ends there), and every '%' starts a
 * %XX escape (a request's path is compared in its normalised form).
 */
static inline const char *fg_httpsyn_path_bad(const char *p, size_t len,
					      size_t max, size_t *at)
{
	size_t i;

	*at = SIZE_MAX;
	if (!len || len > max || p[0] != '/')
		return "must start with / and be at most max bytes";
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)p[i];

		*at = i;
		if (c <= 0x20 || c >= 0x7f || c == '?' || c == '#')
			return "is not allowed in a path (encode it as %XX)";
		if (c == '%' && !fg_httpsyn_pct_ok(p, len, i))
			return "is a '%' not followed by two hex digits";
	}
	return NULL;
}

/* The kinds of item spec (values as enum fg_item_kind, fg_item.h). */
#define FG_HTTPSYN_ITEM_SEGMENT 1
#define FG_HTTPSYN_ITEM_QUERY   2
#define FG_HTTPSYN_ITEM_HEADER  3

/* An item spec, split: kind, and N or NAME (pointing into the spec). */
struct fg_httpsyn_item {
	int kind;             /* FG_HTTPSYN_ITEM_* */
	uint16_t segment;     /* segment:N */
	const char *name;     /* query:/header: NAME, not NUL-terminated */
	size_t name_len;
};

/*
 * fg_httpsyn_item_bad - why spec[0..len) is no item spec, or NULL with
 * *out filled. segment:N: N of 1..FG_HTTPSYN_SEGMENT_MAX in decimal
 * without leading zeros. query:NAME: 1..FG_HTTPSYN_NAME_MAX visible ASCII
 * bytes other than & = # % + (each would be encoded in a request: the
 * NAME is written decoded). header:NAME: a token of
 * 1..FG_HTTPSYN_NAME_MAX bytes. A NUL anywhere in len is refused.
 */
static inline const char *fg_httpsyn_item_bad(const char *spec, size_t len,
					      struct fg_httpsyn_item *out)
{
	const char *v;
	size_t n, i;

	if (!spec)
		return "item is missing";
	if (len >= 8 && !memcmp(spec, "segment:", 8))
		out->kind = FG_HTTPSYN_ITEM_SEGMENT, n = 8;
	else if (len >= 6 && !memcmp(spec, "query:", 6))
		out->kind = FG_HTTPSYN_ITEM_QUERY, n = 6;
	else if (len >= 7 && !memcmp(spec, "header:", 7))
		out->kind = FG_HTTPSYN_ITEM_HEADER, n = 7;
	else
		return "must be segment:N, query:NAME or header:NAME";
	v = spec + n;
	n = len - n;
	out->segment = 0;
	out->name = v;
	out->name_len = n;
	switch (out->kind) {
	case FG_HTTPSYN_ITEM_SEGMENT:
		if (n < 1 || n > 2 || v[0] < '1' || v[0] > '9' ||
		    (n == 2 && (v[1] < '0' || v[1] > '9')))
			return "segment:N needs N of 1..64 (no leading zero)";
		out->segment = (uint16_t)(v[0] - '0');
		if (n == 2)
			out->segment = (uint16_t)(out->segment * 10 + v[1] - '0');
		if (out->segment > FG_HTTPSYN_SEGMENT_MAX)
			return "segment:N needs N of 1..64 (no leading zero)";
		out->name = NULL;
		out->name_len = 0;
		return NULL;
	case FG_HTTPSYN_ITEM_QUERY:
		if (n < 1 || n > FG_HTTPSYN_NAME_MAX)
			return "query:NAME needs a NAME of 1..64 bytes";
		for (i = 0; i < n; i++)
			if ((unsigned char)v[i] <= 0x20 ||
			    (unsigned char)v[i] >= 0x7f || strchr("&=#%+", v[i]))
				return "query:NAME: NAME must be visible ASCII without & = # % + (write it decoded)";
		return NULL;
	default:
		if (!fg_httpsyn_token(v, n, FG_HTTPSYN_NAME_MAX))
			return "header:NAME needs a header name of 1..64 token characters";
		return NULL;
	}
}

#endif /* FG_HTTPSYN_H */
