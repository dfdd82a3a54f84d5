/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * fg_item.h - which item a seckill request names (API.md Seckill, `item`):
 * `segment:N`, `query:NAME` or `header:NAME`, taken from a request the
 * reader (fg_http.h) completed.
 *
 * The spec string is parsed once per rule version (fg_item_parse, control
 * side); fg_item_extract runs per request on the fast path: no
 * allocation, output into the caller's buffer, bounded by its size.
 *
 * Three answers, each with its own consequence for the rule:
 *  - FG_ITEM_OK: the item's bytes, decoded, 1..cap of them;
 *  - FG_ITEM_MISSING: the request names no item (no such segment, query
 *    parameter or header, or an empty one): the rule answers `respond`;
 *  - FG_ITEM_MALFORMED: the request names an item badly: the caller
 *    answers 400 (FG_ITEM_MALFORMED_STATUS). That is a %-escape that is
 *    not two hex digits, a NUL or other control byte (0x00-0x1f, 0x7f)
 *    after decoding, more than cap bytes after decoding, or two different
 *    values for the same query name or header (a backend may read either
 *    one, so admitting one of them would let a buyer be judged on one
 *    item and buy another).
 *
 * Decoding, chosen to read the item the way the backend's framework will:
 *  - segment:N - N counts from 1 (API.md: `/seckill/1234/buy` has segment
 *    2 `1234`); segments are what lies between the path's '/'s, empty
 *    ones included in the count (`//a` has segment 2 `a`); %XX decoded,
 *    '+' kept (RFC 3986 paths). A `*` target has no segments.
 *  - query:NAME - pairs split at '&', name and value at the first '=';
 *    names and values decoded as application/x-www-form-urlencoded ('+'
 *    is a space, %XX); NAME is compared with each decoded name, case-
 *    sensitively. A pair whose name does not decode cleanly cannot be
 *    NAME in any framework and is skipped. Repeated NAME with the same
 *    decoded value is that value.
 *  - header:NAME - the watched header's value, OWS trimmed, taken as it
 *    is: header values are not URI components, and decoding them would
 *    name another item than the one the backend reads.
 */
#ifndef FG_ITEM_H
#define FG_ITEM_H

#include <stddef.h>
#include <stdint.h>

#include "fg_http.h"

/* Longest item a rule accepts (decoded bytes): the size of the buffer the
 * caller passes to fg_item_extract. */
#define FG_ITEM_MAX         128u
#define FG_ITEM_NAME_MAX    64u   /* query or header NAME */
#define FG_ITEM_SEGMENT_MAX 64u   /* largest N of segment:N */
#define FG_ITEM_MALFORMED_STATUS 400

enum fg_item_kind {
	FG_ITEM_SEGMENT = 1,
	FG_ITEM_QUERY,
	FG_ITEM_HEADER,
};

/* fg_item_extract results. */
enum fg_item_result {
	FG_ITEM_OK = 0,
	FG_ITEM_MISSING,
	FG_ITEM_MALFORMED,
};

/* A parsed spec: read-only on the fast path. */
struct fg_item {
	uint8_t kind;     /* enum fg_item_kind */
	uint8_t name_len; /* query: bytes of name */
	uint16_t segment; /* segment: N (1-based) */
	int16_t slot;     /* header: watch slot in the rule version's conf */
	uint16_t pad;
	char name[FG_ITEM_NAME_MAX]; /* query: NAME as given */
};

/*
 * fg_item_parse - parse spec[0..len) ("segment:2", "query:id",
 * "header:X-Item") into *item. NAME: for query, 1..FG_ITEM_NAME_MAX
 * visible ASCII bytes other than & = # % + (each would be encoded in a
 * request); for header, a token of 1..FG_ITEM_NAME_MAX bytes, which is
 * added to conf's watched names (conf may be NULL for other kinds). N:
 * 1..FG_ITEM_SEGMENT_MAX in decimal without leading zeros.
 *
 * Returns 0, -EINVAL (bad spec; *why, when why is non-NULL, receives a
 * static one-line reason) or -ENOSPC (conf already watches
 * FG_HTTP_WATCH_MAX other names). *item and conf are unchanged on error.
 * Control side.
 */
int fg_item_parse(struct fg_item *item, const char *spec, size_t len,
		  struct fg_http_conf *conf, const char **why);

/*
 * fg_item_extract - the item req (a request fg_http_feed completed, read
 * with the conf the item was parsed against) names, decoded into
 * out[0..cap) (no NUL added). Returns FG_ITEM_OK with *out_len set (1..cap),
 * FG_ITEM_MISSING or FG_ITEM_MALFORMED; out holds garbage unless OK. Fast
 * path; reads only the request's head buffer.
 */
int fg_item_extract(const struct fg_item *item, const struct fg_http_req *req,
		    char *out, size_t cap, size_t *out_len);

#endif /* FG_ITEM_H */
