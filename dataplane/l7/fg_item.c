/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * fg_item.c - the seckill item extractor (fg_item.h).
 */
#include <errno.h>
#include <string.h>

#include "../common/fg_httpsyn.h" /* by path: tests/fuzz builds with -I l7 only */
#include "fg_item.h"

/* The spec syntax is the rule parser's too (fg_httpsyn.h). */
_Static_assert(FG_HTTPSYN_NAME_MAX == FG_ITEM_NAME_MAX &&
	       FG_HTTPSYN_NAME_MAX <= FG_HTTP_NAME_MAX &&
	       FG_HTTPSYN_SEGMENT_MAX == FG_ITEM_SEGMENT_MAX,
	       "fg_item.h and fg_httpsyn.h agree on NAME and N");
_Static_assert(FG_HTTPSYN_ITEM_SEGMENT == FG_ITEM_SEGMENT &&
	       FG_HTTPSYN_ITEM_QUERY == FG_ITEM_QUERY &&
	       FG_HTTPSYN_ITEM_HEADER == FG_ITEM_HEADER,
	       "fg_item.h and fg_httpsyn.h agree on the kinds");

/*
 * fg_item_next - decode the byte at p[*i] (p holds len bytes): a %XX
 * escape, '+' as a space when plus is set, any other byte as itself.
 * Advances *i past it. Returns the byte, or -1 for a bad escape.
 */
static inline int fg_item_next(const uint8_t *p, uint32_t len, uint32_t *i,
			       int plus)
{
	uint8_t c = p[*i];
	int hi, lo;

	if (c == '%') {
		if (len - *i < 3)
			return -1;
		hi = fg_httpsyn_hex(p[*i + 1]);
		lo = fg_httpsyn_hex(p[*i + 2]);
		if (hi < 0 || lo < 0)
			return -1;
		*i += 3;
		return hi << 4 | lo;
	}
	*i += 1;
	return plus && c == '+' ? ' ' : c;
}

/* A byte no item may hold once decoded. */
static inline int fg_item_ctl(int c)
{
	return c < 0x20 || c == 0x7f;
}

/*
 * fg_item_decode - decode p[0..len) into out[0..cap). Returns FG_ITEM_OK
 * with *olen set (0 for an empty input), or FG_ITEM_MALFORMED.
 */
static int fg_item_decode(const uint8_t *p, uint32_t len, int plus,
			  char *out, size_t cap, size_t *olen)
{
	uint32_t i = 0;
	size_t n = 0;
	int c;

	while (i < len) {
		c = fg_item_next(p, len, &i, plus);
		if (c < 0 || fg_item_ctl(c) || n == cap)
			return FG_ITEM_MALFORMED;
		out[n++] = (char)c;
	}
	*olen = n;
	return FG_ITEM_OK;
}

/*
 * fg_item_decoded_eq - 1 when p[0..len) decodes to exactly s[0..slen), 0
 * when it decodes to something else, -1 when it does not decode.
 */
static int fg_item_decoded_eq(const uint8_t *p, uint32_t len, int plus,
			      const char *s, size_t slen)
{
	uint32_t i = 0;
	size_t n = 0;
	int c, eq = 1;

	while (i < len) {
		c = fg_item_next(p, len, &i, plus);
		if (c < 0)
			return -1;
		if (n >= slen || (uint8_t)s[n] != c)
			eq = 0;
		n++;
	}
	return eq && n == slen;
}

int fg_item_parse(struct fg_item *item, const char *spec, size_t len,
		  struct fg_http_conf *conf, const char **why)
{
	struct fg_httpsyn_item syn;
	struct fg_item it;
	const char *bad;
	int slot;

	bad = fg_httpsyn_item_bad(spec, len, &syn);
	if (!bad && syn.kind == FG_HTTPSYN_ITEM_HEADER && !conf)
		bad = "header:NAME needs the reader's settings";
	if (bad) {
		if (why)
			*why = bad;
		return -EINVAL;
	}
	memset(&it, 0, sizeof(it));
	it.slot = -1;
	it.kind = (uint8_t)syn.kind;
	it.segment = syn.segment;
	if (syn.kind == FG_HTTPSYN_ITEM_QUERY) {
		memcpy(it.name, syn.name, syn.name_len);
		it.name_len = (uint8_t)syn.name_len;
	} else if (syn.kind == FG_HTTPSYN_ITEM_HEADER) {
		/* A token of at most FG_HTTP_NAME_MAX: watch_add refuses
		 * nothing the syntax took but a full settings table. */
		slot = fg_http_watch_add(conf, syn.name, syn.name_len);
		if (slot < 0) {
			if (why)
				*why = slot == -ENOSPC ?
					"too many header names watched" :
					"header:NAME wants a header name";
			return slot == -ENOSPC ? -ENOSPC : -EINVAL;
		}
		it.slot = (int16_t)slot;
	}
	*item = it;
	return 0;
}

/* fg_item_segment - segment item->segment of the path. */
static int fg_item_segment(const struct fg_item *item,
			   const struct fg_http_req *req, char *out,
			   size_t cap, size_t *out_len)
{
	const uint8_t *p = (const uint8_t *)req->path.p;
	uint32_t len = req->path.len, start = 1, end;
	const uint8_t *slash;
	unsigned int k;
	int rc;

	if (!p || !len || p[0] != '/')
		return FG_ITEM_MISSING;
	for (k = 1; k <= item->segment; k++) {
		if (start > len)
			return FG_ITEM_MISSING;
		slash = memchr(p + start, '/', len - start);
		end = slash ? (uint32_t)(slash - p) : len;
		if (k == item->segment) {
			rc = fg_item_decode(p + start, end - start, 0, out, cap,
					    out_len);
			if (rc != FG_ITEM_OK)
				return rc;
			return *out_len ? FG_ITEM_OK : FG_ITEM_MISSING;
		}
		start = end + 1;
	}
	return FG_ITEM_MISSING;
}

/* fg_item_query - the value of query parameter item->name. */
static int fg_item_query(const struct fg_item *item,
			 const struct fg_http_req *req, char *out, size_t cap,
			 size_t *out_len)
{
	const uint8_t *q = (const uint8_t *)req->query.p, *amp, *eq;
	uint32_t len = req->query.len, s = 0, e, k, v;
	int found = 0, rc;

	if (!q)
		return FG_ITEM_MISSING;
	while (s <= len) {
		amp = memchr(q + s, '&', len - s);
		e = amp ? (uint32_t)(amp - q) : len;
		eq = memchr(q + s, '=', e - s);
		k = eq ? (uint32_t)(eq - q) : e;
		v = eq ? k + 1 : e;
		if (e > s && fg_item_decoded_eq(q + s, k - s, 1, item->name,
						 item->name_len) == 1) {
			if (!found) {
				rc = fg_item_decode(q + v, e - v, 1, out, cap,
						    out_len);
				if (rc != FG_ITEM_OK)
					return rc;
				found = 1;
			} else if (fg_item_decoded_eq(q + v, e - v, 1, out,
						      *out_len) != 1) {
				return FG_ITEM_MALFORMED;
			}
		}
		s = e + 1;
	}
	if (!found || !*out_len)
		return FG_ITEM_MISSING;
	return FG_ITEM_OK;
}

/* fg_item_header - the watched header's value, as it is. */
static int fg_item_header(const struct fg_item *item,
			  const struct fg_http_req *req, char *out,
			  size_t cap, size_t *out_len)
{
	const struct fg_http_field *f;
	uint32_t i;

	if (item->slot < 0 || (uint32_t)item->slot >= req->conf->nwatch)
		return FG_ITEM_MISSING;
	f = &req->hdr[item->slot];
	if (!f->count)
		return FG_ITEM_MISSING;
	if (f->differ || f->len > cap)
		return FG_ITEM_MALFORMED;
	if (!f->len)
		return FG_ITEM_MISSING;
	for (i = 0; i < f->len; i++)
		if (fg_item_ctl((uint8_t)f->p[i]))
			return FG_ITEM_MALFORMED;
	memcpy(out, f->p, f->len);
	*out_len = f->len;
	return FG_ITEM_OK;
}

int fg_item_extract(const struct fg_item *item, const struct fg_http_req *req,
		    char *out, size_t cap, size_t *out_len)
{
	if (req->result != FG_HTTP_COMPLETE)
		return FG_ITEM_MISSING;
	switch (item->kind) {
	case FG_ITEM_SEGMENT:
		return fg_item_segment(item, req, out, cap, out_len);
	case FG_ITEM_QUERY:
		return fg_item_query(item, req, out, cap, out_len);
	case FG_ITEM_HEADER:
		return fg_item_header(item, req, out, cap, out_len);
	}
	return FG_ITEM_MISSING;
}
