/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * fg_route.c - routes compiled into hyperscan databases, and the
 * per-request matcher (fg_route.h says what a route means).
 *
 * How the fields reach hyperscan: one database per field kind - host,
 * path, and one per distinct header name - each scanned over its own
 * field, all shipped in one blob. Not one composed buffer
 * ("host\npath\n..."): path_regex and header regexes are the user's, and
 * only a database of its own keeps their `^` and `$` at the field's
 * edges and stops a `\s`, `[^x]` or `.*` from matching across a
 * separator into the next field. Hyperscan has no look-behind that
 * could pin a pattern to a region of a buffer, and rewriting a user's
 * regex to do so is a parser of its own to get wrong. The cost is one
 * hs_scan call per field a route names, and each database holds only
 * the patterns that can match its field, so none scans patterns meant
 * for another.
 *
 * Pattern ids are conditions, deduplicated: a (field, expression,
 * flags) that several routes name - the same "/api/" prefix under a
 * thousand hosts - is compiled once, and one hyperscan id stands for it;
 * each route keeps the list of pattern ids that must all be seen.
 * Compiled once per route instead, a shared pattern costs one match
 * report per route per request (measured: 5.2 us per request with 1,000
 * routes, most of it in those reports). A route holds when each of its
 * patterns reported during this request (a per-worker stamp per
 * pattern, the request's generation number, so nothing is cleared per
 * request) and its method bit is set. Hyperscan's logical combinations
 * (HS_FLAG_COMBINATION) would AND conditions inside hyperscan, but only
 * within one scan of one database; the conditions live in separate
 * fields, so the AND is done here.
 *
 * Which routes to check: each route is filed under one of its patterns,
 * its anchor - the one the fewest routes share, so usually its host. A
 * request only checks routes filed under a pattern that reported, plus
 * the best route with no pattern at all (precomputed per method). Each
 * file is in rank order, so its walk stops at the first route that holds
 * or at the best found so far: the work per request follows the
 * patterns that match, not the size of the table.
 *
 * Method is no pattern: the reader already reduced it to one of eight
 * values (enum fg_http_method), so a route keeps a bitmask of the methods
 * it takes and the test is one AND, not an hs_scan of a 3-7 byte field.
 *
 * Flags: HS_FLAG_SINGLEMATCH on every pattern (a condition either holds
 * or not; a second report of it is wasted work); HS_FLAG_CASELESS on
 * hosts; HS_FLAG_ALLOWEMPTY on user regexes (`.*` - "the header is
 * present" - is a valid regex the API accepts, and `^$` matches an empty
 * value). Never HS_FLAG_PREFILTER: it would accept back-references by
 * matching a superset, and a route must match exactly what it says
 * (API.md: such a pattern is refused).
 *
 * Priority: the route table is sorted once, at compile time, by
 * priority (highest first), then id (lowest first); a route's index is
 * its rank, and the best route of a request is the lowest index that
 * holds.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hs.h>

#include "fg_err.h"
#include "fg_httpsyn.h"
#include "fg_route.h"

/* The blob: a header, the route table, the header names, then per
 * database a 64-bit size and hyperscan's serialised bytes (size 0: the
 * field has no pattern). Native byte order: hyperscan's own serialised
 * databases only load on the CPU type they were built for anyway. */
#define FG_ROUTE_MAGIC  0x54524746u /* "FGRT" */
#define FG_ROUTE_FORMAT 1u

/* Databases: host, path, then one per header name. */
#define FG_ROUTE_DB_HOST 0u
#define FG_ROUTE_DB_PATH 1u
#define FG_ROUTE_DB_HDR  2u
#define FG_ROUTE_DB_MAX  (FG_ROUTE_DB_HDR + FG_HTTP_WATCH_MAX)

/* Which field of a route a pattern came from: for error messages. */
#define FG_ROUTE_C_HOST   0u
#define FG_ROUTE_C_PREFIX 1u
#define FG_ROUTE_C_REGEX  2u
#define FG_ROUTE_C_HDR    3u
#define FG_ROUTE_CONDS_MAX (FG_ROUTE_C_HDR + FG_ROUTE_HEADERS_MAX)

/* Methods: bit m for enum fg_http_method m. */
#define FG_ROUTE_METHODS_ALL \
	((uint16_t)(((1u << (FG_HTTP_PATCH + 1)) - 1u) & ~1u))

struct fg_route_blob_hdr {
	uint32_t magic;
	uint32_t format;
	uint32_t nroutes;
	uint32_t nnames;
	uint32_t npats;   /* distinct patterns: hyperscan ids 0..npats-1 */
	uint32_t nconds;  /* entries of the condition lists */
};

/* One route, in rank order: what the fast path reads. */
struct fg_route_ent {
	uint32_t id;
	int32_t priority;
	uint16_t methods; /* bit per enum fg_http_method */
	uint16_t ncond;   /* patterns that must all report */
	uint32_t cond;    /* first of them in the condition array */
};

/* One distinct pattern: the routes filed under it (their anchor), a
 * run of the file array in rank order. The file array has one entry per
 * route with a pattern, so it needs no size of its own. */
struct fg_route_pinfo {
	uint32_t file;
	uint32_t nfile;
};

struct fg_route_name {
	uint8_t len;
	char name[FG_HTTP_NAME_MAX];
};

struct fg_route_matcher {
	uint32_t nroutes;
	uint32_t nnames;
	uint32_t npats;
	uint32_t nconds;
	uint32_t nfiled;
	struct fg_route_ent *routes;
	uint32_t *conds;               /* pattern ids */
	struct fg_route_pinfo *pinfo;  /* per pattern */
	uint32_t *file;                /* route indexes */
	/* Per method, the lowest index of a route with no pattern that
	 * takes the method (nroutes: none): such a route holds for every
	 * request, so it is the best to beat from the start. */
	uint32_t first_any[FG_HTTP_PATCH + 1];
	int16_t slot[FG_HTTP_WATCH_MAX]; /* name j's watch slot in conf */
	hs_database_t *db[FG_ROUTE_DB_MAX];
};

struct fg_route_scratch {
	const struct fg_route_matcher *m;
	hs_scratch_t *hs;
	uint32_t gen;
	uint32_t nhit;
	uint32_t *stamp;  /* per pattern: the request it last reported in */
	uint32_t *hit;    /* patterns with a file that reported: each at
			   * most once per request (SINGLEMATCH, and every
			   * pattern is in one database, scanned once) */
	char host[FG_ROUTE_HOST_MAX];  /* the request's host, reversed */
	/* The normalised path: never longer than the raw one, which is
	 * never longer than a head (FG_HTTP_HEAD_LIMIT). */
	char path[FG_HTTP_HEAD_LIMIT];
};

/* ---------------------------------------------------------------------
 * Path normalisation (RFC 3986 6.2.2.2), shared by both sides
 */

static int fg_route_unreserved(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
	       c == '~';
}

/*
 * fg_route_normalise - copy in[0..len) to out (len bytes at least),
 * decoding %XX of unreserved characters and upper-casing the hex digits
 * of the other %XX. A '%' not followed by two hex digits is copied as it
 * is (the compile side refuses it in a prefix first). Returns the bytes
 * written (<= len). Bounded by len; no allocation.
 */
static uint32_t fg_route_normalise(const char *in, uint32_t len, char *out)
{
	uint32_t i = 0, o = 0;
	int hi, lo;

	while (i < len) {
		if (in[i] != '%' || len - i < 3 ||
		    (hi = fg_httpsyn_hex((unsigned char)in[i + 1])) < 0 ||
		    (lo = fg_httpsyn_hex((unsigned char)in[i + 2])) < 0) {
			out[o++] = in[i++];
			continue;
		}
		if (fg_route_unreserved((unsigned char)(hi << 4 | lo))) {
			out[o++] = (char)(hi << 4 | lo);
		} else {
			out[o++] = '%';
			out[o++] = "0123456789ABCDEF"[hi];
			out[o++] = "0123456789ABCDEF"[lo];
		}
		i += 3;
	}
	return o;
}

/* ---------------------------------------------------------------------
 * Control side: validation and compile
 */

/* A pattern on its way to hs_compile_multi. */
struct fg_route_pat {
	char *expr;       /* owned when `owned` */
	unsigned int flags;
	uint32_t db;      /* FG_ROUTE_DB_* */
	uint32_t spec;    /* index into the caller's routes, for errors */
	uint32_t uid;     /* its distinct pattern: the hyperscan id */
	uint8_t cond;     /* FG_ROUTE_C_* (+ k) */
	uint8_t owned;
};

struct fg_route_rank {
	int32_t priority;
	uint32_t id;
	uint32_t spec;
};

struct fg_route_build {
	const struct fg_route_spec *routes;
	size_t n;
	struct fg_route_rank *rank;   /* n, sorted */
	uint32_t *index;              /* spec -> rank index */
	uint32_t *first;              /* spec -> its first pattern */
	struct fg_route_ent *ent;     /* n, rank order */
	struct fg_route_pat *pat;     /* grouped by spec, in spec order */
	size_t npat;
	uint32_t *order;              /* pattern indexes, sorted */
	uint32_t *rep;                /* uid -> its first pattern */
	uint32_t *share;              /* uid -> routes naming it */
	uint32_t nuid;
	uint32_t *conds;              /* by route, rank order */
	uint32_t nconds;
	struct fg_route_pinfo *pinfo; /* per uid */
	uint32_t *file;
	uint32_t nfiled;
	struct fg_route_name names[FG_HTTP_WATCH_MAX];
	uint32_t nnames;
	void *ser[FG_ROUTE_DB_MAX];   /* hs_serialize_database output */
	size_t ser_len[FG_ROUTE_DB_MAX];
};

static int fg_route_rank_cmp(const void *a, const void *b)
{
	const struct fg_route_rank *x = a, *y = b;

	if (x->priority != y->priority)
		return x->priority > y->priority ? -1 : 1;
	return (x->id > y->id) - (x->id < y->id);
}

static int fg_route_u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

static unsigned char fg_route_lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

/* Append the bytes of s[0..len) to out as a hyperscan literal: letters
 * and digits as they are, every other byte as \xHH. Returns the new end
 * of out (which holds 4 bytes per input byte). */
static char *fg_route_escape(char *out, const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9')) {
			*out++ = (char)c;
		} else {
			*out++ = '\\';
			*out++ = 'x';
			*out++ = "0123456789abcdef"[c >> 4];
			*out++ = "0123456789abcdef"[c & 15];
		}
	}
	*out = '\0';
	return out;
}

static int fg_route_add(struct fg_route_build *b, char *expr, int owned,
			unsigned int flags, uint32_t db, uint32_t spec,
			unsigned int cond)
{
	struct fg_route_pat *p = &b->pat[b->npat++];

	p->expr = expr;
	p->owned = (uint8_t)owned;
	p->flags = flags;
	p->db = db;
	p->spec = spec;
	p->cond = (uint8_t)cond;
	p->uid = 0;
	return 0;
}

/* The host condition, matched on the REVERSED host: an exact name is
 * "^<reversed name>$", `*.example.com` is "^moc\.elpmaxe\." - both
 * literals anchored at the start, case-insensitive. Reversed, a suffix
 * match becomes a prefix match, and a set of start-anchored literals is
 * hyperscan's cheapest kind: 1,000 hosts (a tenth wildcards) took 130-200
 * ns a scan reversed, against 240-740 ns forward, where the wildcards
 * are end-anchored (^[^.]+(\.[^.]+)*\.example\.com$ or \.example\.com$)
 * and slow the whole set down. The wildcard is "any subdomain" because
 * neither side has an empty label: a route's host with one is refused
 * here, and a request's host with one never reaches the host database
 * (fg_route_match), so the '.' after the suffix has a non-empty label
 * after it. Both sides drop one trailing dot first. */
static int fg_route_host(struct fg_route_build *b, uint32_t spec,
			 char *err, size_t errlen)
{
	const struct fg_route_spec *r = &b->routes[spec];
	const char *h = r->host, *lit, *why;
	size_t len = strlen(h), i, llen;
	int wild;
	char *expr, *e;

	why = fg_httpsyn_host_bad(h, len);
	if (why)
		return fg_fail(err, errlen, -EINVAL, "route %u: host: \"%s\" %s",
			       r->id, h, why);
	/* A trailing dot names the same DNS name: drop it. */
	if (h[len - 1] == '.')
		len--;
	wild = len >= 2 && h[0] == '*' && h[1] == '.';
	lit = wild ? h + 2 : h;
	llen = wild ? len - 2 : len;
	expr = malloc(1 + 4 * llen + sizeof("\\."));
	if (!expr)
		return fg_fail(err, errlen, -ENOMEM, "out of memory");
	e = expr;
	*e++ = '^';
	for (i = llen; i > 0; i--)
		e = fg_route_escape(e, &lit[i - 1], 1);
	strcpy(e, wild ? "\\." : "$");
	return fg_route_add(b, expr, 1, HS_FLAG_CASELESS | HS_FLAG_SINGLEMATCH,
			    FG_ROUTE_DB_HOST, spec, FG_ROUTE_C_HOST);
}

/* The path_prefix condition: normalised like request paths, then an
 * anchored literal. */
static int fg_route_prefix(struct fg_route_build *b, uint32_t spec,
			   char *err, size_t errlen)
{
	const struct fg_route_spec *r = &b->routes[spec];
	const char *p = r->path_prefix, *why;
	size_t len = strlen(p), i;
	uint32_t nlen;
	char *norm, *expr;

	why = fg_httpsyn_path_bad(p, len, FG_ROUTE_LITERAL_MAX, &i);
	if (why && i == SIZE_MAX)
		return fg_fail(err, errlen, -EINVAL,
			       "route %u: path_prefix: must start with '/' "
			       "and be at most %u bytes", r->id,
			       FG_ROUTE_LITERAL_MAX);
	if (why)
		return fg_fail(err, errlen, -EINVAL,
			       "route %u: path_prefix: byte %zu %s", r->id, i,
			       why);
	norm = malloc(len);
	expr = malloc(2 + 4 * len);
	if (!norm || !expr) {
		free(norm);
		free(expr);
		return fg_fail(err, errlen, -ENOMEM, "out of memory");
	}
	nlen = fg_route_normalise(p, (uint32_t)len, norm);
	expr[0] = '^';
	fg_route_escape(expr + 1, norm, nlen);
	free(norm);
	return fg_route_add(b, expr, 1, HS_FLAG_SINGLEMATCH, FG_ROUTE_DB_PATH,
			    spec, FG_ROUTE_C_PREFIX);
}

/* The database index of header name `name`, added when new. */
static int fg_route_name_db(struct fg_route_build *b, const char *name,
			    size_t len)
{
	uint32_t j;
	size_t i;

	for (j = 0; j < b->nnames; j++) {
		if (b->names[j].len != len)
			continue;
		for (i = 0; i < len; i++)
			if (b->names[j].name[i] !=
			    (char)fg_route_lower((unsigned char)name[i]))
				break;
		if (i == len)
			return (int)(FG_ROUTE_DB_HDR + j);
	}
	if (b->nnames == FG_HTTP_WATCH_MAX)
		return -ENOSPC;
	b->names[j].len = (uint8_t)len;
	for (i = 0; i < len; i++)
		b->names[j].name[i] =
			(char)fg_route_lower((unsigned char)name[i]);
	b->nnames++;
	return (int)(FG_ROUTE_DB_HDR + j);
}

/* Every condition of route `spec`: checked, then added as patterns; its
 * table entry's id, priority and methods filled. */
static int fg_route_conds(struct fg_route_build *b, uint32_t spec,
			  char *err, size_t errlen)
{
	const struct fg_route_spec *r = &b->routes[spec];
	struct fg_route_ent *e = &b->ent[b->index[spec]];
	unsigned int m, k;
	int rc, db;

	e->id = r->id;
	e->priority = r->priority;
	e->methods = FG_ROUTE_METHODS_ALL;
	if (r->method) {
		for (m = FG_HTTP_GET; m <= FG_HTTP_PATCH; m++)
			if (!strcmp(r->method, fg_http_method_name(m)))
				break;
		if (m > FG_HTTP_PATCH)
			return fg_fail(err, errlen, -EINVAL,
				       "route %u: method: \"%s\" is not one "
				       "of GET HEAD POST PUT DELETE OPTIONS "
				       "TRACE PATCH", r->id, r->method);
		e->methods = (uint16_t)(1u << m);
	}
	if (r->host) {
		rc = fg_route_host(b, spec, err, errlen);
		if (rc)
			return rc;
	}
	if (r->path_prefix) {
		rc = fg_route_prefix(b, spec, err, errlen);
		if (rc)
			return rc;
	}
	if (r->path_regex) {
		if (strlen(r->path_regex) > FG_ROUTE_REGEX_MAX)
			return fg_fail(err, errlen, -EINVAL,
				       "route %u: path_regex: longer than %u "
				       "bytes", r->id, FG_ROUTE_REGEX_MAX);
		fg_route_add(b, (char *)r->path_regex, 0,
			     HS_FLAG_SINGLEMATCH | HS_FLAG_ALLOWEMPTY,
			     FG_ROUTE_DB_PATH, spec, FG_ROUTE_C_REGEX);
	}
	if (r->nheaders > FG_ROUTE_HEADERS_MAX || (r->nheaders && !r->headers))
		return fg_fail(err, errlen, -EINVAL,
			       "route %u: headers: at most %u", r->id,
			       FG_ROUTE_HEADERS_MAX);
	for (k = 0; k < r->nheaders; k++) {
		const struct fg_route_header *h = &r->headers[k];
		size_t nlen = h->name ? strlen(h->name) : 0;

		if (!fg_httpsyn_token(h->name, nlen, FG_HTTP_NAME_MAX))
			return fg_fail(err, errlen, -EINVAL,
				       "route %u: headers[%u].name: not a "
				       "header name of 1 to %u token "
				       "characters", r->id, k,
				       FG_HTTP_NAME_MAX);
		if (!h->regex || strlen(h->regex) > FG_ROUTE_REGEX_MAX)
			return fg_fail(err, errlen, -EINVAL,
				       "route %u: headers[%u].regex: missing "
				       "or longer than %u bytes", r->id, k,
				       FG_ROUTE_REGEX_MAX);
		db = fg_route_name_db(b, h->name, nlen);
		if (db < 0)
			return fg_fail(err, errlen, -EINVAL,
				       "route %u: headers[%u].name: the "
				       "routes name more than %u distinct "
				       "headers", r->id, k, FG_HTTP_WATCH_MAX);
		fg_route_add(b, (char *)h->regex, 0,
			     HS_FLAG_SINGLEMATCH | HS_FLAG_ALLOWEMPTY,
			     (uint32_t)db, spec, FG_ROUTE_C_HDR + k);
	}
	return 0;
}

/* The field a pattern's condition names, for an error message. */
static void fg_route_field(const struct fg_route_pat *p, char *out,
			   size_t outlen)
{
	switch (p->cond) {
	case FG_ROUTE_C_HOST:
		snprintf(out, outlen, "host");
		break;
	case FG_ROUTE_C_PREFIX:
		snprintf(out, outlen, "path_prefix");
		break;
	case FG_ROUTE_C_REGEX:
		snprintf(out, outlen, "path_regex");
		break;
	default:
		snprintf(out, outlen, "headers[%u].regex",
			 (unsigned int)(p->cond - FG_ROUTE_C_HDR));
		break;
	}
}

/* Patterns in (database, flags, expression) order: equal ones adjacent,
 * the first route's (lowest spec) first among equals. For glibc's
 * qsort_r (the project builds with _GNU_SOURCE). */
static int fg_route_pat_cmp(const void *a, const void *b, void *arg)
{
	const struct fg_route_pat *pat = arg;
	const struct fg_route_pat *x = &pat[*(const uint32_t *)a];
	const struct fg_route_pat *y = &pat[*(const uint32_t *)b];
	int c;

	if (x->db != y->db)
		return x->db < y->db ? -1 : 1;
	if (x->flags != y->flags)
		return x->flags < y->flags ? -1 : 1;
	c = strcmp(x->expr, y->expr);
	if (c)
		return c;
	return (x->spec > y->spec) - (x->spec < y->spec);
}

static int fg_route_pat_cmp_eq(const struct fg_route_pat *x,
			       const struct fg_route_pat *y)
{
	return x->db == y->db && x->flags == y->flags &&
	       !strcmp(x->expr, y->expr);
}

/*
 * Deduplicate the patterns (uid per distinct one), then lay out per
 * route, in rank order, its condition list (distinct uids), and file
 * each route under its anchor: the uid the fewest routes share, the
 * first in field order (host, path_prefix, path_regex, headers) among
 * equals. Files are filled in rank order, so each is sorted.
 */
static int fg_route_layout(struct fg_route_build *b)
{
	uint32_t i, k, r, spec, end, u, best, *uids, nu;

	b->order = calloc(b->npat + 1, sizeof(*b->order));
	b->rep = calloc(b->npat + 1, sizeof(*b->rep));
	b->share = calloc(b->npat + 1, sizeof(*b->share));
	b->conds = calloc(b->npat + 1, sizeof(*b->conds));
	b->pinfo = calloc(b->npat + 1, sizeof(*b->pinfo));
	b->file = calloc(b->n + 1, sizeof(*b->file));
	if (!b->order || !b->rep || !b->share || !b->conds || !b->pinfo ||
	    !b->file)
		return -ENOMEM;
	for (i = 0; i < b->npat; i++)
		b->order[i] = i;
	qsort_r(b->order, b->npat, sizeof(*b->order), fg_route_pat_cmp,
		b->pat);
	for (i = 0; i < b->npat; i++) {
		struct fg_route_pat *p = &b->pat[b->order[i]];

		if (i && fg_route_pat_cmp_eq(&b->pat[b->order[i - 1]], p)) {
			p->uid = b->pat[b->order[i - 1]].uid;
		} else {
			p->uid = b->nuid;
			b->rep[b->nuid++] = b->order[i];
		}
	}

	/* Per route, rank order: its distinct uids, and how many routes
	 * share each uid. */
	for (r = 0; r < b->n; r++) {
		spec = b->rank[r].spec;
		end = spec + 1 < b->n ? b->first[spec + 1] : (uint32_t)b->npat;
		uids = &b->conds[b->nconds];
		nu = 0;
		for (i = b->first[spec]; i < end; i++) {
			for (k = 0; k < nu; k++)
				if (uids[k] == b->pat[i].uid)
					break;
			if (k == nu) {
				uids[nu++] = b->pat[i].uid;
				b->share[b->pat[i].uid]++;
			}
		}
		b->ent[r].cond = b->nconds;
		b->ent[r].ncond = (uint16_t)nu;
		b->nconds += nu;
	}

	/* Anchors: count per uid, then offsets, then fill in rank order. */
	for (r = 0; r < b->n; r++) {
		const uint32_t *c = &b->conds[b->ent[r].cond];

		if (!b->ent[r].ncond)
			continue;
		best = c[0];
		for (k = 1; k < b->ent[r].ncond; k++)
			if (b->share[c[k]] < b->share[best])
				best = c[k];
		b->pinfo[best].nfile++;
		b->rank[r].spec = best; /* reused: the anchor, below */
	}
	for (u = 0, k = 0; u < b->nuid; u++) {
		b->pinfo[u].file = k;
		k += b->pinfo[u].nfile;
		b->pinfo[u].nfile = 0;
	}
	for (r = 0; r < b->n; r++) {
		if (!b->ent[r].ncond)
			continue;
		u = b->rank[r].spec;
		b->file[b->pinfo[u].file + b->pinfo[u].nfile++] = r;
		b->nfiled++;
	}
	return 0;
}

/* Compile database `db` from its distinct patterns and serialise it into
 * b->ser[db] (left NULL when the field has no pattern). A refused
 * pattern names the first route (in the caller's order) that has it. */
static int fg_route_compile_db(struct fg_route_build *b, uint32_t db,
			       const char **expr, unsigned int *flags,
			       unsigned int *ids, char *err, size_t errlen)
{
	hs_compile_error_t *cerr = NULL;
	hs_database_t *hdb = NULL;
	char field[32];
	unsigned int cnt = 0;
	uint32_t u;
	hs_error_t hrc;
	int rc = 0;

	for (u = 0; u < b->nuid; u++) {
		const struct fg_route_pat *p = &b->pat[b->rep[u]];

		if (p->db != db)
			continue;
		expr[cnt] = p->expr;
		flags[cnt] = p->flags;
		ids[cnt++] = u;
	}
	if (!cnt)
		return 0;
	hrc = hs_compile_multi(expr, flags, ids, cnt, HS_MODE_BLOCK, NULL,
			       &hdb, &cerr);
	if (hrc != HS_SUCCESS) {
		if (cerr && cerr->expression >= 0 &&
		    (unsigned int)cerr->expression < cnt) {
			const struct fg_route_pat *p =
				&b->pat[b->rep[ids[cerr->expression]]];

			fg_route_field(p, field, sizeof(field));
			rc = fg_fail(err, errlen, -EINVAL, "route %u: %s: %s",
				     b->routes[p->spec].id, field,
				     cerr->message);
		} else {
			rc = fg_fail(err, errlen,
				     hrc == HS_NOMEM ? -ENOMEM : -EINVAL,
				     "routes: hyperscan: %s",
				     cerr ? cerr->message : "compile failed");
		}
		hs_free_compile_error(cerr);
		return rc;
	}
	hrc = hs_serialize_database(hdb, (char **)&b->ser[db],
				    &b->ser_len[db]);
	hs_free_database(hdb);
	if (hrc != HS_SUCCESS)
		return fg_fail(err, errlen, -ENOMEM,
			       "routes: hyperscan: serialising failed (%d)",
			       (int)hrc);
	return 0;
}

static char *fg_route_put(char *o, const void *p, size_t len)
{
	if (len)
		memcpy(o, p, len);
	return o + len;
}

/* Write the blob: header, table, conditions, pattern files, names,
 * databases. */
static int fg_route_write(struct fg_route_build *b, void **blob,
			  size_t *len, char *err, size_t errlen)
{
	struct fg_route_blob_hdr hdr = {
		.magic = FG_ROUTE_MAGIC,
		.format = FG_ROUTE_FORMAT,
		.nroutes = (uint32_t)b->n,
		.nnames = b->nnames,
		.npats = b->nuid,
		.nconds = b->nconds,
	};
	uint32_t ndb = FG_ROUTE_DB_HDR + b->nnames, i;
	size_t total = sizeof(hdr) + b->n * sizeof(struct fg_route_ent) +
		       b->nconds * sizeof(uint32_t) +
		       b->nuid * sizeof(struct fg_route_pinfo) +
		       b->nfiled * sizeof(uint32_t) +
		       b->nnames * sizeof(struct fg_route_name);
	uint64_t sz;
	char *out, *o;

	for (i = 0; i < ndb; i++)
		total += sizeof(uint64_t) + b->ser_len[i];
	out = malloc(total);
	if (!out)
		return fg_fail(err, errlen, -ENOMEM, "out of memory");
	o = fg_route_put(out, &hdr, sizeof(hdr));
	o = fg_route_put(o, b->ent, b->n * sizeof(*b->ent));
	o = fg_route_put(o, b->conds, b->nconds * sizeof(*b->conds));
	o = fg_route_put(o, b->pinfo, b->nuid * sizeof(*b->pinfo));
	o = fg_route_put(o, b->file, b->nfiled * sizeof(*b->file));
	o = fg_route_put(o, b->names, b->nnames * sizeof(*b->names));
	for (i = 0; i < ndb; i++) {
		sz = b->ser_len[i];
		o = fg_route_put(o, &sz, sizeof(sz));
		o = fg_route_put(o, b->ser[i], sz);
	}
	*blob = out;
	*len = total;
	return 0;
}

int fg_route_compile(const struct fg_route_spec *routes, size_t n,
		     void **blob, size_t *len, char *err, size_t errlen)
{
	struct fg_route_build b = {.routes = routes, .n = n};
	const char **expr = NULL;
	unsigned int *flags = NULL, *ids = NULL;
	uint32_t *sorted_ids = NULL, db;
	size_t i;
	int rc = -ENOMEM;

	if (!blob || !len || (n && !routes))
		return fg_fail(err, errlen, -EINVAL, "routes: no output");
	*blob = NULL;
	*len = 0;
	if (n > FG_ROUTE_MAX)
		return fg_fail(err, errlen, -E2BIG,
			       "routes: %zu routes, at most %u", n,
			       FG_ROUTE_MAX);
	/* calloc(0) may return NULL: ask for at least one of each. */
	b.rank = calloc(n + 1, sizeof(*b.rank));
	b.index = calloc(n + 1, sizeof(*b.index));
	b.first = calloc(n + 1, sizeof(*b.first));
	b.ent = calloc(n + 1, sizeof(*b.ent));
	sorted_ids = calloc(n + 1, sizeof(*sorted_ids));
	b.pat = calloc(n * FG_ROUTE_CONDS_MAX + 1, sizeof(*b.pat));
	if (!b.rank || !b.index || !b.first || !b.ent || !sorted_ids ||
	    !b.pat) {
		fg_fail(err, errlen, rc, "out of memory");
		goto out;
	}

	/* Ranks, and unique ids. */
	for (i = 0; i < n; i++) {
		b.rank[i].priority = routes[i].priority;
		b.rank[i].id = routes[i].id;
		b.rank[i].spec = (uint32_t)i;
	}
	qsort(b.rank, n, sizeof(*b.rank), fg_route_rank_cmp);
	for (i = 0; i < n; i++) {
		b.index[b.rank[i].spec] = (uint32_t)i;
		sorted_ids[i] = b.rank[i].id;
	}
	/* Duplicate ids: a copy sorted by id alone. */
	qsort(sorted_ids, n, sizeof(*sorted_ids), fg_route_u32_cmp);
	for (i = 1; i < n; i++) {
		if (sorted_ids[i] == sorted_ids[i - 1]) {
			rc = fg_fail(err, errlen, -EINVAL,
				     "route %u: id: used by two routes",
				     sorted_ids[i]);
			goto out;
		}
	}

	/* Conditions, in the caller's order: the first bad route is the
	 * one the error names. */
	for (i = 0; i < n; i++) {
		b.first[i] = (uint32_t)b.npat;
		rc = fg_route_conds(&b, (uint32_t)i, err, errlen);
		if (rc)
			goto out;
	}

	rc = -ENOMEM;
	expr = calloc(b.npat + 1, sizeof(*expr));
	flags = calloc(b.npat + 1, sizeof(*flags));
	ids = calloc(b.npat + 1, sizeof(*ids));
	if (!expr || !flags || !ids || fg_route_layout(&b)) {
		fg_fail(err, errlen, rc, "out of memory");
		goto out;
	}
	for (db = 0; db < FG_ROUTE_DB_HDR + b.nnames; db++) {
		rc = fg_route_compile_db(&b, db, expr, flags, ids, err,
					 errlen);
		if (rc)
			goto out;
	}
	rc = fg_route_write(&b, blob, len, err, errlen);
out:
	for (i = 0; i < b.npat; i++)
		if (b.pat[i].owned)
			free(b.pat[i].expr);
	for (db = 0; db < FG_ROUTE_DB_MAX; db++)
		free(b.ser[db]);
	free(expr);
	free(flags);
	free(ids);
	free(sorted_ids);
	free(b.order);
	free(b.rep);
	free(b.share);
	free(b.conds);
	free(b.pinfo);
	free(b.file);
	free(b.pat);
	free(b.ent);
	free(b.first);
	free(b.index);
	free(b.rank);
	return rc;
}

/* ---------------------------------------------------------------------
 * Control side: load a version, make scratches
 */

void fg_route_matcher_free(struct fg_route_matcher *m)
{
	uint32_t i;

	if (!m)
		return;
	for (i = 0; i < FG_ROUTE_DB_MAX; i++)
		hs_free_database(m->db[i]);
	free(m->routes);
	free(m->conds);
	free(m->pinfo);
	free(m->file);
	free(m);
}

/* Copy len bytes at *p into out (may be NULL: skip) if that many are
 * left before end. Returns 0, or -1 when the blob is too short. */
static int fg_route_get(const char **p, const char *end, void *out,
			uint64_t len)
{
	if ((uint64_t)(end - *p) < len)
		return -1;
	if (out && len)
		memcpy(out, *p, len);
	*p += len;
	return 0;
}

static const char *fg_route_hs_err(hs_error_t e)
{
	switch (e) {
	case HS_DB_VERSION_ERROR:
		return "built by another hyperscan version";
	case HS_DB_PLATFORM_ERROR:
		return "built for another CPU type";
	case HS_DB_MODE_ERROR:
		return "not a block-mode database";
	case HS_NOMEM:
		return "out of memory";
	default:
		return "not a hyperscan database";
	}
}

/* Check what the fast path relies on without checking again: ranks in
 * order, condition lists and files within their arrays, files sorted.
 * Returns 0, or -1 for a malformed table. */
static int fg_route_check(struct fg_route_matcher *m)
{
	uint32_t i, k, filed = 0;

	for (k = 0; k <= FG_HTTP_PATCH; k++)
		m->first_any[k] = m->nroutes;
	for (i = 0; i < m->nroutes; i++) {
		const struct fg_route_ent *e = &m->routes[i];

		if (i && (e->priority > e[-1].priority ||
			  (e->priority == e[-1].priority &&
			   e->id <= e[-1].id)))
			return -1;
		if (!e->methods || (e->methods & ~FG_ROUTE_METHODS_ALL) ||
		    e->ncond > FG_ROUTE_CONDS_MAX || e->cond > m->nconds ||
		    e->ncond > m->nconds - e->cond)
			return -1;
		for (k = 0; k < e->ncond; k++)
			if (m->conds[e->cond + k] >= m->npats)
				return -1;
		if (e->ncond) {
			filed++;
			continue;
		}
		for (k = FG_HTTP_GET; k <= FG_HTTP_PATCH; k++)
			if ((e->methods & (1u << k)) &&
			    m->first_any[k] == m->nroutes)
				m->first_any[k] = i;
	}
	if (filed != m->nfiled)
		return -1;
	for (i = 0; i < m->npats; i++) {
		const struct fg_route_pinfo *f = &m->pinfo[i];

		if (f->file > m->nfiled || f->nfile > m->nfiled - f->file)
			return -1;
		for (k = 0; k < f->nfile; k++)
			if (m->file[f->file + k] >= m->nroutes ||
			    (k && m->file[f->file + k] <=
				  m->file[f->file + k - 1]))
				return -1;
	}
	return 0;
}

struct fg_route_matcher *fg_route_load(const void *blob, size_t len,
				       struct fg_http_conf *conf,
				       char *err, size_t errlen)
{
	const char *p = blob, *end = p + len;
	struct fg_route_blob_hdr hdr;
	struct fg_route_matcher *m;
	struct fg_route_name name;
	uint64_t sz;
	uint32_t i, ndb;
	hs_error_t hrc;
	int slot;

	if (!blob || !conf) {
		fg_fail(err, errlen, 0, "routes: no blob or reader settings");
		return NULL;
	}
	if (fg_route_get(&p, end, &hdr, sizeof(hdr))) {
		fg_fail(err, errlen, 0, "routes: the route table is "
			"truncated");
		return NULL;
	}
	if (hdr.magic != FG_ROUTE_MAGIC || hdr.format != FG_ROUTE_FORMAT ||
	    hdr.nroutes > FG_ROUTE_MAX || hdr.nnames > FG_HTTP_WATCH_MAX ||
	    hdr.npats > hdr.nroutes * FG_ROUTE_CONDS_MAX ||
	    hdr.nconds > hdr.nroutes * FG_ROUTE_CONDS_MAX) {
		fg_fail(err, errlen, 0, "routes: not a route table of format "
			"%u", FG_ROUTE_FORMAT);
		return NULL;
	}
	m = calloc(1, sizeof(*m));
	if (!m) {
		fg_fail(err, errlen, 0, "out of memory");
		return NULL;
	}
	m->nroutes = hdr.nroutes;
	m->nnames = hdr.nnames;
	m->npats = hdr.npats;
	m->nconds = hdr.nconds;
	m->routes = calloc(m->nroutes + 1, sizeof(*m->routes));
	m->conds = calloc(m->nconds + 1, sizeof(*m->conds));
	m->pinfo = calloc(m->npats + 1, sizeof(*m->pinfo));
	m->file = calloc(m->nroutes + 1, sizeof(*m->file));
	if (!m->routes || !m->conds || !m->pinfo || !m->file) {
		fg_fail(err, errlen, 0, "out of memory");
		goto fail;
	}
	if (fg_route_get(&p, end, m->routes,
			 (uint64_t)m->nroutes * sizeof(*m->routes)) ||
	    fg_route_get(&p, end, m->conds,
			 (uint64_t)m->nconds * sizeof(*m->conds)) ||
	    fg_route_get(&p, end, m->pinfo,
			 (uint64_t)m->npats * sizeof(*m->pinfo)))
		goto trunc;
	/* The file array's size: one entry per route with a pattern. */
	for (i = 0; i < m->nroutes; i++)
		m->nfiled += m->routes[i].ncond ? 1 : 0;
	if (fg_route_get(&p, end, m->file,
			 (uint64_t)m->nfiled * sizeof(*m->file)))
		goto trunc;
	if (fg_route_check(m)) {
		fg_fail(err, errlen, 0, "routes: the route table is "
			"malformed");
		goto fail;
	}

	for (i = 0; i < m->nnames; i++) {
		if (fg_route_get(&p, end, &name, sizeof(name)))
			goto trunc;
		if (name.len > FG_HTTP_NAME_MAX)
			name.len = 0; /* refused by fg_http_watch_add */
		slot = fg_http_watch_add(conf, name.name, name.len);
		if (slot < 0) {
			fg_fail(err, errlen, 0, "routes: header \"%.*s\": "
				"%s", (int)name.len, name.name,
				slot == -ENOSPC ? "the reader watches too "
				"many header names" : "not a header name");
			goto fail;
		}
		m->slot[i] = (int16_t)slot;
	}

	ndb = FG_ROUTE_DB_HDR + m->nnames;
	for (i = 0; i < ndb; i++) {
		const char *at;

		if (fg_route_get(&p, end, &sz, sizeof(sz)))
			goto trunc;
		at = p;
		if (fg_route_get(&p, end, NULL, sz))
			goto trunc;
		if (!sz)
			continue;
		hrc = hs_deserialize_database(at, sz, &m->db[i]);
		if (hrc != HS_SUCCESS) {
			m->db[i] = NULL;
			fg_fail(err, errlen, 0, "routes: database %u: %s", i,
				fg_route_hs_err(hrc));
			goto fail;
		}
	}
	if (p != end) {
		fg_fail(err, errlen, 0, "routes: %zu bytes after the route "
			"table", (size_t)(end - p));
		goto fail;
	}
	return m;

trunc:
	fg_fail(err, errlen, 0, "routes: the route table is truncated");
fail:
	fg_route_matcher_free(m);
	return NULL;
}

uint32_t fg_route_count(const struct fg_route_matcher *m)
{
	return m->nroutes;
}

uint32_t fg_route_id(const struct fg_route_matcher *m, uint32_t idx)
{
	return m->routes[idx].id;
}

void fg_route_scratch_free(struct fg_route_scratch *s)
{
	if (!s)
		return;
	hs_free_scratch(s->hs);
	free(s->stamp);
	free(s->hit);
	free(s);
}

struct fg_route_scratch *fg_route_scratch_new(const struct fg_route_matcher *m,
					      char *err, size_t errlen)
{
	struct fg_route_scratch *s;
	uint32_t i;

	s = calloc(1, sizeof(*s));
	if (!s || !(s->stamp = calloc(m->npats + 1, sizeof(*s->stamp))) ||
	    !(s->hit = calloc(m->npats + 1, sizeof(*s->hit))))
		goto nomem;
	s->m = m;
	/* One scratch grown to fit every database of the version: the
	 * scans of one request run one after the other. */
	for (i = 0; i < FG_ROUTE_DB_MAX; i++)
		if (m->db[i] && hs_alloc_scratch(m->db[i], &s->hs) !=
		    HS_SUCCESS)
			goto nomem;
	return s;
nomem:
	fg_route_scratch_free(s);
	fg_fail(err, errlen, 0, "routes: out of memory for a scratch");
	return NULL;
}

/* ---------------------------------------------------------------------
 * Fast path
 */

/* hyperscan's match callback: pattern `id` reported in this request.
 * Stamp it; remember it when routes are filed under it. Never stops the
 * scan (returns 0): every pattern that holds must be stamped. */
static int fg_route_on_match(unsigned int id, unsigned long long from,
			     unsigned long long to, unsigned int flags,
			     void *ctx)
{
	struct fg_route_scratch *s = ctx;
	const struct fg_route_matcher *m = s->m;

	(void)from;
	(void)to;
	(void)flags;
	if (id >= m->npats || s->stamp[id] == s->gen)
		return 0;
	s->stamp[id] = s->gen;
	if (m->pinfo[id].nfile)
		s->hit[s->nhit++] = id;
	return 0;
}

static int fg_route_scan(const hs_database_t *db, const char *p,
			 uint32_t len, struct fg_route_scratch *s)
{
	if (!db)
		return 0;
	return hs_scan(db, p ? p : "", len, 0, s->hs, fg_route_on_match, s) ==
	       HS_SUCCESS ? 0 : -EINVAL;
}

/* Route r holds: its method, and every pattern it names reported. */
static int fg_route_holds(const struct fg_route_matcher *m,
			  const struct fg_route_scratch *s, uint32_t r,
			  uint16_t mbit)
{
	const struct fg_route_ent *e = &m->routes[r];
	const uint32_t *c = &m->conds[e->cond];
	uint32_t k;

	if (!(e->methods & mbit))
		return 0;
	for (k = 0; k < e->ncond; k++)
		if (s->stamp[c[k]] != s->gen)
			return 0;
	return 1;
}

int fg_route_match(const struct fg_route_matcher *m,
		   struct fg_route_scratch *s, const struct fg_http_req *req,
		   uint32_t *id)
{
	const char *path;
	uint32_t plen, hlen, j, h, k, best;
	unsigned int method = req->method;
	uint16_t mbit;

	if (s->m != m)
		return -EINVAL;
	if (method > FG_HTTP_PATCH)
		method = 0;
	mbit = (uint16_t)(1u << method);
	best = method ? m->first_any[method] : m->nroutes;
	/* A new generation: every stamp from earlier requests is stale
	 * without being cleared. On wrap (every 2^32 requests) the stamps
	 * are cleared once, so an old stamp never looks current. */
	if (++s->gen == 0) {
		memset(s->stamp, 0, (size_t)m->npats * sizeof(*s->stamp));
		s->gen = 1;
	}
	s->nhit = 0;

	/* The host without one trailing dot, reversed (fg_route_host); one
	 * with an empty label (".a", "a..b", "a..") or longer than a DNS
	 * name matches no route's host. */
	hlen = req->host.p ? req->host.len : 0;
	if (hlen && req->host.p[hlen - 1] == '.')
		hlen--;
	if (m->db[FG_ROUTE_DB_HOST] && hlen && hlen <= FG_ROUTE_HOST_MAX &&
	    req->host.p[0] != '.' && req->host.p[hlen - 1] != '.' &&
	    !memmem(req->host.p, hlen, "..", 2)) {
		for (j = 0; j < hlen; j++)
			s->host[j] = req->host.p[hlen - 1 - j];
		if (fg_route_scan(m->db[FG_ROUTE_DB_HOST], s->host, hlen, s))
			return -EINVAL;
	}

	path = req->path.p;
	plen = req->path.len;
	if (m->db[FG_ROUTE_DB_PATH] && path) {
		if (plen > sizeof(s->path))
			plen = sizeof(s->path); /* never: path <= head */
		if (memchr(path, '%', plen)) {
			plen = fg_route_normalise(path, plen, s->path);
			path = s->path;
		}
		if (fg_route_scan(m->db[FG_ROUTE_DB_PATH], path, plen, s))
			return -EINVAL;
	}

	for (j = 0; j < m->nnames; j++) {
		const struct fg_http_field *f;
		int slot = m->slot[j];

		/* A request read with other settings than the ones the
		 * names were registered in has no such slot. */
		if (slot >= (int)req->conf->nwatch)
			return -EINVAL;
		f = &req->hdr[slot];
		if (!f->count || f->differ)
			continue;
		if (fg_route_scan(m->db[FG_ROUTE_DB_HDR + j], f->p, f->len, s))
			return -EINVAL;
	}

	/* The routes filed under the patterns that reported, each file in
	 * rank order: its walk ends at the first route that holds or at
	 * the best so far. */
	for (h = 0; h < s->nhit; h++) {
		const struct fg_route_pinfo *f = &m->pinfo[s->hit[h]];

		for (k = 0; k < f->nfile; k++) {
			uint32_t r = m->file[f->file + k];

			if (r >= best)
				break;
			if (fg_route_holds(m, s, r, mbit)) {
				best = r;
				break;
			}
		}
	}

	if (best >= m->nroutes)
		return FG_ROUTE_NONE;
	if (id)
		*id = m->routes[best].id;
	return (int)best;
}
