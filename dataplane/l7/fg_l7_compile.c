/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * fg_l7_compile.c - the L7 compiler (fg_l7_compile.h): rules and layout
 * in, one version's engine tables out.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fg_err.h"
#include "fg_compile.h"
#include "fg_l7_compile.h"
#include "fg_maglev.h"
/* By path: the stock claimer's header declares its relation between a
 * batch and the engine's low-water mark, and only declares functions
 * (nothing of etcd is linked for the macro). */
#include "../../controlplane/fg_stock.h"

/* Kinds of id, and of blob section. */
#define FG_L7_K_ROUTE   0u
#define FG_L7_K_SECKILL 1u
#define FG_L7_K_LIMIT   2u

#define FG_L7_MAGIC  0x374c4746u /* "FGL7" */
#define FG_L7_FORMAT 1u

struct fg_l7_idref {
	uint32_t id;
	uint32_t idx;
};

/* The blob: a header, nsec section records, then each section's
 * fg_route blob at its offset (8-byte aligned). */
struct fg_l7_blob_hdr {
	uint32_t magic;
	uint32_t format;
	uint32_t nsvcs;
	uint32_t nsec;
};

struct fg_l7_blob_sec {
	uint32_t svc;
	uint32_t kind;   /* FG_L7_K_ROUTE or FG_L7_K_SECKILL */
	uint32_t first;  /* table index of the section's route index 0 */
	uint32_t pad;
	uint64_t off;
	uint64_t len;
};

/* A built section, before it goes into the blob. */
struct fg_l7_sec {
	struct fg_l7_blob_sec rec;
	void *blob;
};

/* The compile in progress. */
struct fg_l7_cx {
	const struct fg_ruleset *rs;
	const struct fg_l7_layout *lay;
	const struct fg_l7_tables *prev;
	struct fg_l7_tables *t;
	uint32_t *svc_sorted;        /* svcs indexes by name */
	struct fg_l7_sec *secs;
	uint32_t nsec;
	char *err;
	size_t errlen;
};

/* ---------------------------------------------------------------------
 * Helpers
 */

static int fg_l7_svc_cmp(const void *a, const void *b, void *arg)
{
	const struct fg_l7_svc *s = arg;

	return strcmp(s[*(const uint32_t *)a].name, s[*(const uint32_t *)b].name);
}

/* The index into t->svcs of the l7 service `name`, or -1. */
static int fg_l7_svc_find(const struct fg_l7_cx *x, const char *name)
{
	uint32_t lo = 0, hi = x->t->nsvcs;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		int c = strcmp(name, x->t->svcs[x->svc_sorted[mid]].name);

		if (!c)
			return (int)x->svc_sorted[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return -1;
}

/*
 * fg_l7_share - instance (node_index, lcore)'s share of total: the node's
 * share of the cluster (when cluster), then the lcore's of the node's
 * (when per_lcore). Shares of one level differ by at most one and sum to
 * what they split.
 */
static uint64_t fg_l7_share(uint64_t total, const struct fg_l7_layout *lay,
			    uint32_t lcore, bool cluster, bool per_lcore)
{
	uint64_t node = total;

	if (cluster)
		node = total / lay->nodes +
		       (lay->node_index < total % lay->nodes ? 1 : 0);
	if (!per_lcore)
		return node;
	return node / lay->lcores + (lcore < node % lay->lcores ? 1 : 0);
}

/*
 * fg_l7_rate_burst - lcore's shares of rate and burst (requests) into
 * milli-requests, floored at 1 milli-request/s and one request. *floor
 * is set when the burst floor raised a share. 0 or -EINVAL (0, or the
 * request counts do not fit milli-requests).
 */
static int fg_l7_rate_burst(uint64_t rate, uint64_t burst,
			    const struct fg_l7_layout *lay, uint32_t lcore,
			    bool cluster, bool per_lcore, uint64_t *rate_m,
			    uint64_t *burst_m, bool *floor)
{
	if (!rate || !burst || rate > UINT64_MAX / FG_SECKILL_MILLI ||
	    burst > UINT64_MAX / FG_SECKILL_MILLI)
		return -EINVAL;
	*rate_m = fg_l7_share(rate * FG_SECKILL_MILLI, lay, lcore, cluster,
			      per_lcore);
	*burst_m = fg_l7_share(burst * FG_SECKILL_MILLI, lay, lcore, cluster,
			       per_lcore);
	if (!*rate_m)
		*rate_m = 1;
	if (*burst_m < FG_SECKILL_MILLI) {
		*burst_m = FG_SECKILL_MILLI;
		*floor = true;
	}
	return 0;
}

static int fg_l7_idref_cmp(const void *a, const void *b)
{
	uint32_t x = ((const struct fg_l7_idref *)a)->id;
	uint32_t y = ((const struct fg_l7_idref *)b)->id;

	return (x > y) - (x < y);
}

/* The names and ids of kind k in t: entry i's name and id. */
static const char *fg_l7_entry(const struct fg_l7_tables *t, unsigned int k,
			       uint32_t i, uint32_t *id)
{
	switch (k) {
	case FG_L7_K_ROUTE:
		*id = t->routes[i].id;
		return t->routes[i].name;
	case FG_L7_K_SECKILL:
		*id = t->seckill[i].id;
		return t->seckill[i].name;
	default:
		*id = t->limits[i].id;
		return t->limits[i].name;
	}
}

static uint32_t fg_l7_count(const struct fg_l7_tables *t, unsigned int k)
{
	return k == FG_L7_K_ROUTE ? t->nroutes :
	       k == FG_L7_K_SECKILL ? t->nseckill : t->nlimits;
}

/* A name and its id in the previous version. */
struct fg_l7_nameid {
	const char *name;
	uint32_t id;
};

static int fg_l7_nameid_cmp(const void *a, const void *b)
{
	return strcmp(((const struct fg_l7_nameid *)a)->name,
		      ((const struct fg_l7_nameid *)b)->name);
}

/* Two entries of kind k with one name: -EINVAL naming it. */
static int fg_l7_names_dup(struct fg_l7_cx *x, unsigned int k,
			   const char *what)
{
	uint32_t n = fg_l7_count(x->t, k), i;
	struct fg_l7_nameid *v = calloc(n + 1, sizeof(*v));
	int rc = 0;

	if (!v)
		return fg_fail(x->err, x->errlen, -ENOMEM, "out of memory");
	for (i = 0; i < n; i++)
		v[i].name = fg_l7_entry(x->t, k, i, &v[i].id);
	qsort(v, n, sizeof(*v), fg_l7_nameid_cmp);
	for (i = 1; i < n && !rc; i++)
		if (!strcmp(v[i].name, v[i - 1].name))
			rc = fg_fail(x->err, x->errlen, -EINVAL,
				     "%s.%s: name used twice", what, v[i].name);
	free(v);
	return rc;
}

/*
 * fg_l7_ids - the ids of kind k: a name the previous version had keeps
 * its id, a new one takes the lineage's next. Also builds t->by_id[k].
 * 0, -ENOSPC or -ENOMEM.
 */
static int fg_l7_ids(struct fg_l7_cx *x, unsigned int k, const char *what)
{
	struct fg_l7_tables *t = x->t;
	const struct fg_l7_tables *p = x->prev;
	uint32_t n = fg_l7_count(t, k), np = p ? fg_l7_count(p, k) : 0, i;
	struct fg_l7_nameid *old, key, *hit;
	uint32_t next = p ? p->next_id[k] : 0;
	int rc;

	old = calloc(np + 1, sizeof(*old));
	t->by_id[k] = calloc(n + 1, sizeof(*t->by_id[k]));
	if (!old || !t->by_id[k]) {
		free(old);
		return fg_fail(x->err, x->errlen, -ENOMEM, "out of memory");
	}
	for (i = 0; i < np; i++)
		old[i].name = fg_l7_entry(p, k, i, &old[i].id);
	qsort(old, np, sizeof(*old), fg_l7_nameid_cmp);
	rc = fg_l7_names_dup(x, k, what);
	if (rc) {
		free(old);
		return rc;
	}
	for (i = 0; i < n; i++) {
		uint32_t id;
		bool fresh;

		key.name = fg_l7_entry(t, k, i, &id);
		hit = np ? bsearch(&key, old, np, sizeof(*old),
				   fg_l7_nameid_cmp) : NULL;
		fresh = !hit;
		if (hit) {
			id = hit->id;
		} else {
			if (next > FG_L7_ID_MAX) {
				free(old);
				return fg_fail(x->err, x->errlen, -ENOSPC,
					       "%s: this lineage has used every id; compile without a previous version",
					       what);
			}
			id = next++;
		}
		switch (k) {
		case FG_L7_K_ROUTE:
			t->routes[i].id = id;
			t->routes[i].fresh = fresh;
			break;
		case FG_L7_K_SECKILL:
			t->seckill[i].id = id;
			t->seckill[i].fresh = fresh;
			break;
		default:
			t->limits[i].id = id;
			t->limits[i].fresh = fresh;
			break;
		}
		t->by_id[k][i].id = id;
		t->by_id[k][i].idx = i;
	}
	free(old);
	t->next_id[k] = next;
	qsort(t->by_id[k], n, sizeof(*t->by_id[k]), fg_l7_idref_cmp);
	return 0;
}

static int fg_l7_find(const struct fg_l7_tables *t, unsigned int k,
		      uint32_t id)
{
	struct fg_l7_idref key = {.id = id}, *hit;
	uint32_t n;

	if (!t)
		return -ENOENT;
	n = fg_l7_count(t, k);
	hit = n ? bsearch(&key, t->by_id[k], n, sizeof(key), fg_l7_idref_cmp) :
		NULL;
	return hit ? (int)hit->idx : -ENOENT;
}

int fg_l7_find_route(const struct fg_l7_tables *t, uint32_t id)
{
	return fg_l7_find(t, FG_L7_K_ROUTE, id);
}

int fg_l7_find_seckill(const struct fg_l7_tables *t, uint32_t id)
{
	return fg_l7_find(t, FG_L7_K_SECKILL, id);
}

int fg_l7_find_limit(const struct fg_l7_tables *t, uint32_t id)
{
	return fg_l7_find(t, FG_L7_K_LIMIT, id);
}

/* The index of the l7 service rule `name` (entry i of its kind) names,
 * or -EINVAL naming the field. */
static int fg_l7_rule_svc(struct fg_l7_cx *x, const char *kind, uint32_t i,
			  const char *name, const char *service)
{
	int svc;

	if (!fg_name_valid(name))
		return fg_fail(x->err, x->errlen, -EINVAL,
			       "%s[%u]: invalid name", kind, i);
	svc = fg_l7_svc_find(x, service);
	if (svc < 0)
		return fg_fail(x->err, x->errlen, -EINVAL,
			       "%s.%s.service: no l7 service named %.64s",
			       kind, name, service);
	return svc;
}

/* Watch header name (a route's or a seckill match's) in the version's
 * reader settings. 0 or -EINVAL naming the field. */
static int fg_l7_watch(struct fg_l7_cx *x, const char *name,
		       const char *field)
{
	int rc = fg_http_watch_add(&x->t->http, name, strlen(name));

	if (rc == -ENOSPC)
		return fg_fail(x->err, x->errlen, -EINVAL,
			       "%s: the rules name more than %u distinct headers",
			       field, FG_HTTP_WATCH_MAX);
	if (rc < 0)
		return fg_fail(x->err, x->errlen, -EINVAL,
			       "%s: not a header name", field);
	return 0;
}

/* The answer spec of a rule's respond object (pointing into r). */
static void fg_l7_respond_spec(struct fg_respond_spec *s,
			       const struct fg_rule_respond *r)
{
	s->status = r->status;
	s->retry_after = r->retry_after;
	s->content_type = r->content_type[0] ? r->content_type : NULL;
	s->body = r->body;
	s->body_len = r->body_len;
}

/* ---------------------------------------------------------------------
 * Matchers: one fg_route compile per service and kind
 */

/*
 * fg_l7_section - compile the n matches (route i is match[i], named
 * names[i], id ids[i]) of service svc into a section of kind k, ranked
 * in the given order: the first holds the highest priority, so overlaps
 * resolve in table order whatever the ids. A message from fg_route
 * naming a route by id is given the rule's name instead.
 */
static int fg_l7_section(struct fg_l7_cx *x, uint32_t svc, unsigned int k,
			 uint32_t first, uint32_t n,
			 const struct fg_rule_http_match *const *match,
			 const char *const *names, const uint32_t *ids)
{
	const char *kind = k == FG_L7_K_ROUTE ? "routes" : "seckill";
	struct fg_route_spec *spec;
	struct fg_route_header *hdr;
	struct fg_l7_sec *sec;
	char msg[1024];
	void *blob = NULL;
	size_t len = 0;
	uint32_t i, j;
	int rc;

	if (!n)
		return 0;
	spec = calloc(n, sizeof(*spec));
	hdr = calloc((size_t)n * FG_HTTP_MATCH_HEADERS_MAX, sizeof(*hdr));
	if (!spec || !hdr) {
		free(spec);
		free(hdr);
		return fg_fail(x->err, x->errlen, -ENOMEM, "out of memory");
	}
	for (i = 0; i < n; i++) {
		const struct fg_rule_http_match *m = match[i];

		spec[i].id = ids[i];
		spec[i].priority = (int32_t)(n - i);
		spec[i].host = m->host[0] ? m->host : NULL;
		spec[i].method = m->method[0] ? m->method : NULL;
		spec[i].path_prefix = m->path_prefix;
		spec[i].path_regex = m->path_regex;
		spec[i].nheaders = m->nheaders;
		spec[i].headers = &hdr[(size_t)i * FG_HTTP_MATCH_HEADERS_MAX];
		for (j = 0; j < m->nheaders && j < FG_HTTP_MATCH_HEADERS_MAX;
		     j++) {
			hdr[(size_t)i * FG_HTTP_MATCH_HEADERS_MAX + j].name =
				m->headers[j].name;
			hdr[(size_t)i * FG_HTTP_MATCH_HEADERS_MAX + j].regex =
				m->headers[j].regex;
		}
	}
	msg[0] = '\0';
	rc = fg_route_compile(spec, n, &blob, &len, msg, sizeof(msg));
	free(hdr);
	free(spec);
	if (rc) {
		unsigned long id;
		char *end;

		/* "route <id>: <field>: <reason>" -> "<kind>.<name>: ..." */
		if (!strncmp(msg, "route ", 6)) {
			id = strtoul(msg + 6, &end, 10);
			if (end != msg + 6 && !strncmp(end, ": ", 2))
				for (i = 0; i < n; i++)
					if (ids[i] == id)
						return fg_fail(x->err, x->errlen,
							       rc == -E2BIG ? -EINVAL : rc,
							       "%s.%s: %s", kind,
							       names[i], end + 2);
		}
		return fg_fail(x->err, x->errlen, rc == -E2BIG ? -EINVAL : rc,
			       "%s of service %s: %s", kind,
			       x->t->svcs[svc].name, msg);
	}
	sec = &x->secs[x->nsec++];
	sec->rec.svc = svc;
	sec->rec.kind = k;
	sec->rec.first = first;
	sec->rec.len = len;
	sec->blob = blob;
	return 0;
}

/* Every section into one blob. 0 or -ENOMEM. */
static int fg_l7_blob(struct fg_l7_cx *x)
{
	struct fg_l7_blob_hdr h = {
		.magic = FG_L7_MAGIC, .format = FG_L7_FORMAT,
		.nsvcs = x->t->nsvcs, .nsec = x->nsec,
	};
	size_t off = sizeof(h) + (size_t)x->nsec * sizeof(struct fg_l7_blob_sec);
	uint32_t i;
	char *b;

	for (i = 0; i < x->nsec; i++) {
		off = (off + 7) & ~(size_t)7;
		x->secs[i].rec.off = off;
		off += x->secs[i].rec.len;
	}
	b = calloc(1, off);
	if (!b)
		return fg_fail(x->err, x->errlen, -ENOMEM, "out of memory");
	memcpy(b, &h, sizeof(h));
	for (i = 0; i < x->nsec; i++) {
		memcpy(b + sizeof(h) + i * sizeof(struct fg_l7_blob_sec),
		       &x->secs[i].rec, sizeof(x->secs[i].rec));
		memcpy(b + x->secs[i].rec.off, x->secs[i].blob,
		       x->secs[i].rec.len);
	}
	x->t->blob = b;
	x->t->blob_len = off;
	return 0;
}

/*
 * fg_l7_sections - the sections of kind k (routes or seckill), one per
 * service: entries of one service lie together in t, in rank order;
 * match[i] is entry i's. Sets each service's first and count.
 */
/* The layout's blob as this version's, once it is found to hold these
 * tables' sections (fg_l7_matcher_agrees). 0, -EINVAL or -ENOMEM. */
static int fg_l7_blob_take(struct fg_l7_cx *x)
{
	struct fg_l7_tables *t = x->t;
	struct fg_l7_matcher *m;
	struct fg_http_conf conf = t->http;
	char why[256];
	int rc;

	m = fg_l7_matcher_load(x->lay->blob, x->lay->blob_len, t->nsvcs, &conf,
			       why, sizeof(why));
	if (!m)
		return fg_fail(x->err, x->errlen, -EINVAL, "%s", why);
	rc = fg_l7_matcher_agrees(m, t, why, sizeof(why));
	fg_l7_matcher_free(m);
	if (rc)
		return fg_fail(x->err, x->errlen, rc, "%s", why);
	t->blob = malloc(x->lay->blob_len);
	if (!t->blob)
		return fg_fail(x->err, x->errlen, -ENOMEM, "out of memory");
	memcpy(t->blob, x->lay->blob, x->lay->blob_len);
	t->blob_len = x->lay->blob_len;
	return 0;
}

static int fg_l7_sections(struct fg_l7_cx *x, unsigned int k,
			  const struct fg_rule_http_match *const *match)
{
	struct fg_l7_tables *t = x->t;
	uint32_t n = fg_l7_count(t, k), *ids, *svc, i, j;
	const char **names;
	int rc = 0;

	names = calloc(n + 1, sizeof(*names));
	ids = calloc(n + 1, sizeof(*ids));
	svc = calloc(n + 1, sizeof(*svc));
	if (!names || !ids || !svc) {
		rc = fg_fail(x->err, x->errlen, -ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++) {
		names[i] = fg_l7_entry(t, k, i, &ids[i]);
		svc[i] = k == FG_L7_K_ROUTE ? t->routes[i].svc :
			t->seckill[i].svc;
	}
	for (i = 0; i < n && !rc; i = j) {
		for (j = i; j < n && svc[j] == svc[i]; j++)
			;
		if (k == FG_L7_K_ROUTE) {
			t->svcs[svc[i]].route_first = i;
			t->svcs[svc[i]].nroutes = j - i;
		} else {
			t->svcs[svc[i]].seckill_first = i;
			t->svcs[svc[i]].nseckill = j - i;
		}
		if (!x->lay->blob)
			rc = fg_l7_section(x, svc[i], k, i, j - i, match + i,
					   names + i, ids + i);
	}
out:
	free(names);
	free(ids);
	free(svc);
	return rc;
}

/* ---------------------------------------------------------------------
 * Routes
 */

static int fg_l7_route_cmp(const void *a, const void *b)
{
	const struct fg_l7_route *x = a, *y = b;

	if (x->svc != y->svc)
		return x->svc < y->svc ? -1 : 1;
	if (x->priority != y->priority)
		return x->priority > y->priority ? -1 : 1;
	return strcmp(x->name, y->name);
}

/*
 * Every route's backends, in rank order, and its ring: Maglev over them
 * as over a service's (identity of address and settled port, unusable
 * ones at weight 0), slots turned into indexes into t->backends. 0,
 * -ENOSPC (too many slots), -EINVAL (the builder refused), -ENOMEM.
 */
static int fg_l7_route_rings(struct fg_l7_cx *x)
{
	const struct fg_ruleset *rs = x->rs;
	struct fg_l7_tables *t = x->t;
	struct fg_maglev_backend *mb = NULL;
	uint32_t i, j, nbe = 0, nmax = 0;
	size_t slots = 0;
	int rc = 0;

	for (i = 0; i < t->nroutes; i++) {
		const struct fg_rule_route *r = &rs->routes[t->routes[i].rule];
		bool usable = false;

		if (r->nbackends && !r->backends)
			return fg_fail(x->err, x->errlen, -EINVAL,
				       "routes.%s.backends: missing",
				       r->name);
		if (r->nbackends > FG_MAGLEV_BACKENDS_MAX)
			return fg_fail(x->err, x->errlen, -EINVAL,
				       "routes.%s.backends: at most %u",
				       r->name, FG_MAGLEV_BACKENDS_MAX);
		for (j = 0; j < r->nbackends; j++)
			usable |= fg_backend_usable(&r->backends[j]);
		t->routes[i].be_first = nbe;
		t->routes[i].nbe = r->nbackends;
		t->routes[i].ring_off = (uint32_t)slots;
		t->routes[i].ring_size = usable ?
			fg_ring_size_for(r->nbackends) : 0;
		slots += t->routes[i].ring_size;
		if (slots > FG_L7_RING_SLOTS_MAX)
			return fg_fail(x->err, x->errlen, -ENOSPC,
				       "routes.%s: the routes' rings would take more than %u slots",
				       r->name, FG_L7_RING_SLOTS_MAX);
		nbe += r->nbackends;
		if (r->nbackends > nmax)
			nmax = r->nbackends;
	}
	t->backends = calloc(nbe + 1, sizeof(*t->backends));
	t->ring = calloc(slots + 1, sizeof(*t->ring));
	mb = calloc(nmax + 1, sizeof(*mb));
	if (!t->backends || !t->ring || !mb) {
		free(mb);
		return fg_fail(x->err, x->errlen, -ENOMEM, "out of memory");
	}
	t->nbackends = nbe;
	t->ring_slots = slots;
	for (i = 0; i < t->nroutes && !rc; i++) {
		const struct fg_l7_route *lr = &t->routes[i];
		const struct fg_rule_route *r = &rs->routes[lr->rule];
		uint32_t *ring = t->ring + lr->ring_off;

		for (j = 0; j < r->nbackends; j++) {
			const struct fg_rule_backend *b = &r->backends[j];
			struct fg_l7_backend *e = &t->backends[lr->be_first + j];

			e->addr = b->addr;
			e->port = b->port ? b->port : t->svcs[lr->svc].port;
			e->weight = b->weight;
			e->usable = fg_backend_usable(b);
			e->route = i;
			mb[j].id = fg_backend_ident(&e->addr, e->port);
			mb[j].weight = e->usable ? e->weight : 0;
		}
		if (!lr->ring_size)
			continue;
		rc = fg_maglev_build(mb, r->nbackends, ring, lr->ring_size);
		if (rc) {
			rc = fg_fail(x->err, x->errlen, rc,
				     "routes.%s: ring build failed (%s)", r->name,
				     rc == -EINVAL ? "two backends hash to the same identity" :
				     rc == -ENOMEM ? "out of memory" : "internal error");
			break;
		}
		for (j = 0; j < lr->ring_size; j++)
			ring[j] = ring[j] == FG_MAGLEV_EMPTY ? UINT32_MAX :
				  lr->be_first + ring[j];
	}
	free(mb);
	return rc;
}

int fg_l7_route_backend(const struct fg_l7_tables *t, uint32_t r,
			uint64_t hash)
{
	const struct fg_l7_route *lr;
	uint32_t be;

	if (!t || r >= t->nroutes)
		return -EINVAL;
	lr = &t->routes[r];
	if (!lr->ring_size)
		return -ENOENT;
	be = t->ring[lr->ring_off + fg_maglev_slot(hash, lr->ring_size)];
	return be == UINT32_MAX ? -ENOENT : (int)be;
}

static int fg_l7_routes(struct fg_l7_cx *x)
{
	const struct fg_ruleset *rs = x->rs;
	struct fg_l7_tables *t = x->t;
	const struct fg_rule_http_match **match;
	uint32_t i, k;
	char field[FG_NAME_MAX + 48];
	int svc, rc = 0;

	t->routes = calloc(rs->nroutes + 1, sizeof(*t->routes));
	if (!t->routes)
		return fg_fail(x->err, x->errlen, -ENOMEM, "out of memory");
	for (i = 0; i < rs->nroutes; i++) {
		const struct fg_rule_route *r = &rs->routes[i];

		svc = fg_l7_rule_svc(x, "routes", i, r->name, r->service);
		if (svc < 0)
			return svc;
		if (r->priority > FG_ROUTE_PRIORITY_MAX)
			return fg_fail(x->err, x->errlen, -EINVAL,
				       "routes.%s.priority: at most %u",
				       r->name, FG_ROUTE_PRIORITY_MAX);
		if (r->match.nheaders > FG_HTTP_MATCH_HEADERS_MAX)
			return fg_fail(x->err, x->errlen, -EINVAL,
				       "routes.%s.match.headers: at most %u",
				       r->name, FG_HTTP_MATCH_HEADERS_MAX);
		for (k = 0; k < r->match.nheaders; k++) {
			snprintf(field, sizeof(field),
				 "routes.%s.match.headers[%u].name", r->name, k);
			rc = fg_l7_watch(x, r->match.headers[k].name, field);
			if (rc)
				return rc;
		}
		memcpy(t->routes[i].name, r->name, FG_NAME_MAX);
		t->routes[i].svc = (uint32_t)svc;
		t->routes[i].priority = r->priority;
		t->routes[i].rule = i;
	}
	t->nroutes = rs->nroutes;
	qsort(t->routes, t->nroutes, sizeof(*t->routes), fg_l7_route_cmp);
	rc = fg_l7_ids(x, FG_L7_K_ROUTE, "routes");
	if (!rc)
		rc = fg_l7_route_rings(x);
	if (rc)
		return rc;

	match = calloc(t->nroutes + 1, sizeof(*match));
	if (!match)
		return fg_fail(x->err, x->errlen, -ENOMEM, "out of memory");
	for (i = 0; i < t->nroutes; i++)
		match[i] = &rs->routes[t->routes[i].rule].match;
	rc = fg_l7_sections(x, FG_L7_K_ROUTE, match);
	free(match);
	return rc;
}

/* ---------------------------------------------------------------------
 * Seckill
 */

/* A seckill rule's place: by service, then name (the first name whose
 * match holds judges a request). */
struct fg_l7_skord {
	uint32_t svc;
	uint32_t idx;
	const char *name;
};

static int fg_l7_skord_cmp(const void *a, const void *b)
{
	const struct fg_l7_skord *x = a, *y = b;

	if (x->svc != y->svc)
		return x->svc < y->svc ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* The engine confs of one rule (sk) into e. */
static int fg_l7_seckill_one(struct fg_l7_cx *x,
			     const struct fg_rule_seckill *sk,
			     struct fg_l7_seckill *e)
{
	const struct fg_l7_layout *lay = x->lay;
	char field[FG_NAME_MAX + 48];
	struct fg_item it;
	const char *why = NULL;
	uint32_t l, i;
	int rc;

	if (sk->start_ns && sk->end_ns && sk->end_ns <= sk->start_ns)
		return fg_fail(x->err, x->errlen, -EINVAL,
			       "seckill.%s.end: must be after start", sk->name);
	if (sk->has_stock && !lay->batch)
		return fg_fail(x->err, x->errlen, -EINVAL,
			       "seckill.%s.stock: the layout has no batch function (fg_stock_batch)",
			       sk->name);
	if (sk->has_stock && !sk->stock)
		return fg_fail(x->err, x->errlen, -EINVAL,
			       "seckill.%s.stock: must be >= 1", sk->name);
	if (sk->nitems > FG_SECKILL_ITEMS_LIMIT ||
	    (sk->nitems && !sk->items) ||
	    sk->max_items > FG_SECKILL_ITEMS_LIMIT)
		return fg_fail(x->err, x->errlen, -EINVAL,
			       "seckill.%s.items: at most %u", sk->name,
			       FG_SECKILL_ITEMS_LIMIT);
	switch (sk->item_from) {
	case FG_ITEM_FROM_NONE:
		e->item[0] = '\0';
		if (sk->nitems)
			return fg_fail(x->err, x->errlen, -EINVAL,
				       "seckill.%s.items: needs item (how a request names one)",
				       sk->name);
		break;
	case FG_ITEM_FROM_SEGMENT:
		snprintf(e->item, sizeof(e->item), "segment:%u",
			 sk->item_segment);
		break;
	case FG_ITEM_FROM_QUERY:
	case FG_ITEM_FROM_HEADER:
		if (!memchr(sk->item_name, '\0', sizeof(sk->item_name)))
			return fg_fail(x->err, x->errlen, -EINVAL,
				       "seckill.%s.item: NAME too long", sk->name);
		snprintf(e->item, sizeof(e->item), "%s:%s",
			 sk->item_from == FG_ITEM_FROM_QUERY ? "query" : "header",
			 sk->item_name);
		break;
	default:
		return fg_fail(x->err, x->errlen, -EINVAL,
			       "seckill.%s.item: unknown kind", sk->name);
	}
	/* The engine's own parse; a header item is watched in the
	 * version's settings (as fg_seckill_new will find it). */
	if (e->item[0]) {
		rc = fg_item_parse(&it, e->item, strlen(e->item), &x->t->http,
				   &why);
		if (rc)
			return fg_fail(x->err, x->errlen, -EINVAL,
				       "seckill.%s.item: %s", sk->name,
				       rc == -ENOSPC ?
				       "the rules name more headers than the reader watches" :
				       why);
	}
	for (i = 0; i < sk->match.nheaders && i < FG_HTTP_MATCH_HEADERS_MAX;
	     i++) {
		snprintf(field, sizeof(field),
			 "seckill.%s.match.headers[%u].name", sk->name, i);
		rc = fg_l7_watch(x, sk->match.headers[i].name, field);
		if (rc)
			return rc;
	}
	if (sk->match.nheaders > FG_HTTP_MATCH_HEADERS_MAX)
		return fg_fail(x->err, x->errlen, -EINVAL,
			       "seckill.%s.match.headers: at most %u", sk->name,
			       FG_HTTP_MATCH_HEADERS_MAX);

	/* Answers: built once here, so a refused one fails the compile. */
	e->rule_respond = sk->respond;
	e->rule_sold_out = sk->sold_out;
	fg_l7_respond_spec(&e->respond_spec, &e->rule_respond);
	fg_l7_respond_spec(&e->sold_out_spec, &e->rule_sold_out);
	snprintf(field, sizeof(field), "seckill.%s.respond", sk->name);
	rc = fg_respond_build(&e->respond, &e->respond_spec, field, x->err,
			      x->errlen);
	if (rc)
		return rc;
	snprintf(field, sizeof(field), "seckill.%s.sold_out", sk->name);
	rc = fg_respond_build(&e->sold_out, &e->sold_out_spec, field, x->err,
			      x->errlen);
	if (rc)
		return rc;

	if (sk->nitems) {
		e->items = calloc(sk->nitems, sizeof(*e->items));
		if (!e->items)
			return fg_fail(x->err, x->errlen, -ENOMEM, "out of memory");
		for (i = 0; i < sk->nitems; i++, e->nitems++) {
			e->items[i] = strdup(sk->items[i] ? sk->items[i] : "");
			if (!e->items[i])
				return fg_fail(x->err, x->errlen, -ENOMEM,
					       "out of memory");
		}
	}

	e->conf = calloc(lay->lcores, sizeof(*e->conf));
	e->batch = calloc(lay->lcores, sizeof(*e->batch));
	if (!e->conf || !e->batch)
		return fg_fail(x->err, x->errlen, -ENOMEM, "out of memory");
	for (l = 0; l < lay->lcores; l++) {
		struct fg_seckill_conf *c = &e->conf[l];
		struct fg_tb_profile prof;
		bool affine;

		c->id = e->id;
		c->item = e->item[0] ? e->item : NULL;
		c->items = (const char *const *)e->items;
		c->nitems = sk->nitems;
		c->max_items = sk->nitems ? 0 : sk->max_items;
		/* rate and burst are cluster-wide (API.md) */
		if (fg_l7_rate_burst(sk->rate, sk->burst, lay, l, true, true,
				     &c->rate_milli, &c->burst_milli,
				     &e->burst_floor) ||
		    fg_tb_profile_init(&prof, c->rate_milli, c->burst_milli))
			return fg_fail(x->err, x->errlen, -EINVAL,
				       "seckill.%s.rate: %llu/s with burst %llu does not fit a bucket of lcore %u",
				       sk->name, (unsigned long long)sk->rate,
				       (unsigned long long)sk->burst, l);
		c->stock = sk->has_stock ? sk->stock : FG_SECKILL_NO_STOCK;
		if (sk->has_stock) {
			e->batch[l] = lay->batch(c->rate_milli, lay->batch_ms,
						 lay->batch_max, sk->stock);
			c->low_water = FG_STOCK_LOW_WATER(e->batch[l]);
		}
		if (sk->has_per_client) {
			if (sk->client_key == FG_LKEY_SRC_IP) {
				c->client_key = FG_SECKILL_CLIENT_SRC_IP;
			} else if (sk->client_key == FG_LKEY_SRC_PREFIX &&
				   sk->client_prefix_len >= 1 &&
				   sk->client_prefix_len <= 128) {
				c->client_key = FG_SECKILL_CLIENT_SRC_PREFIX;
				c->client_prefix_len = sk->client_prefix_len;
			} else {
				return fg_fail(x->err, x->errlen, -EINVAL,
					       "seckill.%s.per_client.key: must be src_ip or src_prefix/N (1..128)",
					       sk->name);
			}
			/* One source address reaches one lcore only when
			 * RSS hashes it alone; a prefix spreads anyway. */
			affine = lay->src_affine &&
				 sk->client_key == FG_LKEY_SRC_IP;
			if (fg_l7_rate_burst(sk->client_rate, sk->client_burst,
					     lay, l, true, !affine,
					     &c->client_rate_milli,
					     &c->client_burst_milli,
					     &e->burst_floor) ||
			    fg_tb_profile_init(&prof, c->client_rate_milli,
					       c->client_burst_milli))
				return fg_fail(x->err, x->errlen, -EINVAL,
					       "seckill.%s.per_client.rate: does not fit a bucket of lcore %u",
					       sk->name, l);
		}
		c->start_ns = sk->start_ns;
		c->end_ns = sk->end_ns;
		c->respond = &e->respond_spec;
		c->sold_out = &e->sold_out_spec;
	}
	return 0;
}

static int fg_l7_seckills(struct fg_l7_cx *x)
{
	const struct fg_ruleset *rs = x->rs;
	struct fg_l7_tables *t = x->t;
	const struct fg_rule_http_match **match = NULL;
	struct fg_l7_skord *ord;
	uint32_t i;
	int svc, rc = 0;

	t->seckill = calloc(rs->nseckill + 1, sizeof(*t->seckill));
	ord = calloc(rs->nseckill + 1, sizeof(*ord));
	if (!t->seckill || !ord) {
		free(ord);
		return fg_fail(x->err, x->errlen, -ENOMEM, "out of memory");
	}
	for (i = 0; i < rs->nseckill; i++) {
		const struct fg_rule_seckill *sk = &rs->seckill[i];

		svc = fg_l7_rule_svc(x, "seckill", i, sk->name, sk->service);
		if (svc < 0) {
			rc = svc;
			goto out;
		}
		ord[i].svc = (uint32_t)svc;
		ord[i].idx = i;
		ord[i].name = sk->name;
	}
	qsort(ord, rs->nseckill, sizeof(*ord), fg_l7_skord_cmp);
	t->nseckill = rs->nseckill;
	for (i = 0; i < t->nseckill; i++) {
		memcpy(t->seckill[i].name, ord[i].name, FG_NAME_MAX);
		t->seckill[i].svc = ord[i].svc;
	}
	rc = fg_l7_ids(x, FG_L7_K_SECKILL, "seckill");
	if (rc)
		goto out;
	for (i = 0; i < t->nseckill; i++) {
		rc = fg_l7_seckill_one(x, &rs->seckill[ord[i].idx],
				       &t->seckill[i]);
		if (rc)
			goto out;
	}

	match = calloc(t->nseckill + 1, sizeof(*match));
	if (!match) {
		rc = fg_fail(x->err, x->errlen, -ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < t->nseckill; i++)
		match[i] = &rs->seckill[ord[i].idx].match;
	rc = fg_l7_sections(x, FG_L7_K_SECKILL, match);
out:
	free(ord);
	free(match);
	return rc;
}

/* ---------------------------------------------------------------------
 * rps limits
 */

static int fg_l7_limit_cmp(const void *a, const void *b)
{
	return strcmp(((const struct fg_l7_limit *)a)->name,
		      ((const struct fg_l7_limit *)b)->name);
}

bool fg_l7_limit_judged(const struct fg_rule_limit *l)
{
	return l->unit == FG_LUNIT_RPS || l->action == FG_LACT_RESPOND;
}

static int fg_l7_limits(struct fg_l7_cx *x)
{
	const struct fg_ruleset *rs = x->rs;
	const struct fg_l7_layout *lay = x->lay;
	struct fg_l7_tables *t = x->t;
	struct fg_respond_spec spec;
	char field[FG_NAME_MAX + 32];
	uint32_t i, l;
	int svc, rc;

	t->limits = calloc(rs->nlimits + 1, sizeof(*t->limits));
	if (!t->limits)
		return fg_fail(x->err, x->errlen, -ENOMEM, "out of memory");
	for (i = 0; i < rs->nlimits; i++) {
		const struct fg_rule_limit *r = &rs->limits[i];
		struct fg_l7_limit *e;

		if (!fg_l7_limit_judged(r))
			continue;
		if (r->unit != FG_LUNIT_RPS)
			return fg_fail(x->err, x->errlen, -EINVAL,
				       "limits.%s.action: respond needs unit rps",
				       r->name);
		svc = fg_l7_rule_svc(x, "limits", i, r->name, r->service);
		if (svc < 0)
			return svc;
		/* Counted at once, so a failure below frees what it holds. */
		e = &t->limits[t->nlimits++];
		memcpy(e->name, r->name, FG_NAME_MAX);
		e->svc = (uint32_t)svc;
		fg_limit_fill(&e->lim, r);
		if ((unsigned int)r->key > FG_LKEY_SERVICE)
			return fg_fail(x->err, x->errlen, -EINVAL,
				       "limits.%s.key: must be src_ip, src_prefix/N, flow or service",
				       r->name);
		if (r->action == FG_LACT_RESPOND) {
			fg_l7_respond_spec(&spec, &r->respond);
			snprintf(field, sizeof(field), "limits.%s.respond",
				 r->name);
			rc = fg_respond_build(&e->respond, &spec, field, x->err,
					      x->errlen);
			if (rc)
				return rc;
		}
		e->rate_milli = calloc(lay->lcores, sizeof(*e->rate_milli));
		e->burst_milli = calloc(lay->lcores, sizeof(*e->burst_milli));
		e->prof = calloc(lay->lcores, sizeof(*e->prof));
		if (!e->rate_milli || !e->burst_milli || !e->prof)
			return fg_fail(x->err, x->errlen, -ENOMEM,
				       "out of memory");
		for (l = 0; l < lay->lcores; l++) {
			bool affine = lay->src_affine &&
				      r->key == FG_LKEY_SRC_IP;

			if (fg_l7_rate_burst(r->rate, r->burst, lay, l,
					     r->cluster_scope, !affine,
					     &e->rate_milli[l],
					     &e->burst_milli[l],
					     &e->burst_floor) ||
			    fg_tb_profile_init(&e->prof[l], e->rate_milli[l],
					       e->burst_milli[l]))
				return fg_fail(x->err, x->errlen, -EINVAL,
					       "limits.%s.rate: %llu/s with burst %llu does not fit a bucket of lcore %u",
					       r->name,
					       (unsigned long long)r->rate,
					       (unsigned long long)r->burst, l);
		}
	}
	qsort(t->limits, t->nlimits, sizeof(*t->limits), fg_l7_limit_cmp);
	return fg_l7_ids(x, FG_L7_K_LIMIT, "limits");
}

/* ---------------------------------------------------------------------
 * Compile
 */

void fg_l7_tables_free(struct fg_l7_tables *t)
{
	uint32_t i, k;

	if (!t)
		return;
	for (i = 0; i < t->nseckill; i++) {
		struct fg_l7_seckill *e = &t->seckill[i];

		for (k = 0; e->items && k < e->nitems; k++)
			free(e->items[k]);
		free(e->items);
		free(e->conf);
		free(e->batch);
	}
	for (i = 0; i < t->nlimits; i++) {
		free(t->limits[i].rate_milli);
		free(t->limits[i].burst_milli);
		free(t->limits[i].prof);
	}
	for (k = 0; k < 3; k++)
		free(t->by_id[k]);
	free(t->svcs);
	free(t->routes);
	free(t->backends);
	free(t->ring);
	free(t->seckill);
	free(t->limits);
	free(t->blob);
	free(t);
}

int fg_l7_compile(const struct fg_ruleset *rs, const struct fg_l7_layout *lay,
		  const struct fg_l7_tables *prev, uint64_t version,
		  struct fg_l7_tables **out, char *err, size_t errlen)
{
	struct fg_l7_cx x = {
		.rs = rs, .lay = lay, .prev = prev, .err = err,
		.errlen = errlen,
	};
	struct fg_l7_tables *t;
	uint32_t i, n = 0;
	int rc;

	if (!out)
		return fg_fail(err, errlen, -EINVAL, "no output");
	*out = NULL;
	if (!rs || !lay)
		return fg_fail(err, errlen, -EINVAL, "no rules or no layout");
	if (lay->lcores < 1 || lay->lcores > FG_L7_LCORES_MAX)
		return fg_fail(err, errlen, -EINVAL,
			       "layout.lcores: must be 1..%u", FG_L7_LCORES_MAX);
	if (lay->nodes < 1 || lay->nodes > FG_L7_NODES_MAX)
		return fg_fail(err, errlen, -EINVAL,
			       "layout.nodes: must be 1..%u", FG_L7_NODES_MAX);
	if (lay->node_index >= lay->nodes)
		return fg_fail(err, errlen, -EINVAL,
			       "layout.node_index: must be below nodes (%u)",
			       lay->nodes);
	if ((rs->nservices && !rs->services) || (rs->nroutes && !rs->routes) ||
	    (rs->nseckill && !rs->seckill) || (rs->nlimits && !rs->limits))
		return fg_fail(err, errlen, -EINVAL, "rules: a list is missing");
	if (rs->nroutes > FG_ROUTES_MAX || rs->nseckill > FG_SECKILLS_MAX)
		return fg_fail(err, errlen, -EINVAL,
			       "rules: at most %u routes and %u seckill rules",
			       FG_ROUTES_MAX, FG_SECKILLS_MAX);

	t = calloc(1, sizeof(*t));
	if (!t)
		return fg_fail(err, errlen, -ENOMEM, "out of memory");
	x.t = t;
	t->version = version;
	t->layout = *lay;
	fg_http_conf_init(&t->http);
	for (i = 0; i < rs->nservices; i++)
		n += rs->services[i].mode == FG_MODE_L7;
	t->svcs = calloc(n + 1, sizeof(*t->svcs));
	x.svc_sorted = calloc(n + 1, sizeof(*x.svc_sorted));
	/* At most a route and a seckill section per service. */
	x.secs = calloc(2 * (size_t)n + 1, sizeof(*x.secs));
	if (!t->svcs || !x.svc_sorted || !x.secs) {
		rc = fg_fail(err, errlen, -ENOMEM, "out of memory");
		goto fail;
	}
	for (i = 0; i < rs->nservices; i++) {
		if (rs->services[i].mode != FG_MODE_L7)
			continue;
		if (!memchr(rs->services[i].name, '\0', FG_NAME_MAX)) {
			rc = fg_fail(err, errlen, -EINVAL,
				     "services[%u]: invalid name", i);
			goto fail;
		}
		memcpy(t->svcs[t->nsvcs].name, rs->services[i].name,
		       FG_NAME_MAX);
		t->svcs[t->nsvcs].port = rs->services[i].port;
		x.svc_sorted[t->nsvcs] = t->nsvcs;
		t->nsvcs++;
	}
	qsort_r(x.svc_sorted, t->nsvcs, sizeof(*x.svc_sorted), fg_l7_svc_cmp,
		t->svcs);
	for (i = 1; i < t->nsvcs; i++)
		if (!strcmp(t->svcs[x.svc_sorted[i]].name,
			    t->svcs[x.svc_sorted[i - 1]].name)) {
			rc = fg_fail(err, errlen, -EINVAL,
				     "services.%s: name used twice",
				     t->svcs[x.svc_sorted[i]].name);
			goto fail;
		}

	rc = fg_l7_routes(&x);
	if (!rc)
		rc = fg_l7_seckills(&x);
	if (!rc)
		rc = fg_l7_limits(&x);
	if (!rc)
		rc = lay->blob ? fg_l7_blob_take(&x) : fg_l7_blob(&x);
	if (rc)
		goto fail;
	for (i = 0; i < x.nsec; i++)
		free(x.secs[i].blob);
	free(x.secs);
	free(x.svc_sorted);
	*out = t;
	return 0;
fail:
	for (i = 0; x.secs && i < x.nsec; i++)
		free(x.secs[i].blob);
	free(x.secs);
	free(x.svc_sorted);
	fg_l7_tables_free(t);
	return rc;
}

/* ---------------------------------------------------------------------
 * Carry
 */

int fg_l7_carry_plan(const struct fg_l7_tables *prev,
		     const struct fg_l7_tables *next, uint32_t *from, size_t n)
{
	uint32_t L, Lp, r, l;
	int p, carried = 0;

	if (!next || !from || n / next->layout.lcores < next->nseckill)
		return -EINVAL;
	L = next->layout.lcores;
	Lp = prev ? prev->layout.lcores : 0;
	for (r = 0; r < next->nseckill; r++) {
		const struct fg_l7_seckill *e = &next->seckill[r];

		p = fg_l7_find_seckill(prev, e->id);
		/* Same id and name: the same rule of the lineage. One item
		 * and items by name do not mix: the single item ("") would
		 * take a named slot. */
		if (p >= 0 && (strcmp(prev->seckill[p].name, e->name) ||
			       !prev->seckill[p].conf[0].item !=
			       !e->conf[0].item))
			p = -1;
		for (l = 0; l < L; l++) {
			if (p >= 0 && l < Lp) {
				from[(size_t)r * L + l] = (uint32_t)p * Lp + l;
				carried++;
			} else {
				from[(size_t)r * L + l] = FG_L7_NEW;
			}
		}
	}
	return carried;
}

/* ---------------------------------------------------------------------
 * Matching
 */

struct fg_l7_svc_m {
	struct fg_route_matcher *m[2];   /* by kind: routes, seckill */
	uint32_t first[2];
};

struct fg_l7_matcher {
	uint32_t nsvcs;
	struct fg_l7_svc_m svc[];
};

struct fg_l7_scratch {
	const struct fg_l7_matcher *m;
	struct fg_route_scratch *s[];    /* 2 per service */
};

void fg_l7_matcher_free(struct fg_l7_matcher *m)
{
	uint32_t i;

	if (!m)
		return;
	for (i = 0; i < m->nsvcs; i++) {
		fg_route_matcher_free(m->svc[i].m[0]);
		fg_route_matcher_free(m->svc[i].m[1]);
	}
	free(m);
}

struct fg_l7_matcher *fg_l7_matcher_load(const void *blob, size_t len,
					 uint32_t nsvcs,
					 struct fg_http_conf *conf,
					 char *err, size_t errlen)
{
	const char *b = blob;
	struct fg_l7_blob_hdr h;
	struct fg_l7_blob_sec sec;
	struct fg_l7_matcher *m;
	uint32_t i;

	if (!b || len < sizeof(h)) {
		fg_fail(err, errlen, -EINVAL, "blob: truncated");
		return NULL;
	}
	memcpy(&h, b, sizeof(h));
	if (h.magic != FG_L7_MAGIC || h.format != FG_L7_FORMAT ||
	    h.nsvcs != nsvcs || h.nsec > 2 * (uint64_t)nsvcs ||
	    (len - sizeof(h)) / sizeof(sec) < h.nsec) {
		fg_fail(err, errlen, -EINVAL,
			"blob: not an L7 table blob of %u services", nsvcs);
		return NULL;
	}
	m = calloc(1, sizeof(*m) + (size_t)nsvcs * sizeof(m->svc[0]));
	if (!m) {
		fg_fail(err, errlen, -ENOMEM, "out of memory");
		return NULL;
	}
	m->nsvcs = nsvcs;
	for (i = 0; i < h.nsec; i++) {
		struct fg_l7_svc_m *sm;

		memcpy(&sec, b + sizeof(h) + i * sizeof(sec), sizeof(sec));
		if (sec.svc >= nsvcs || sec.kind > FG_L7_K_SECKILL ||
		    sec.off > len || sec.len > len - sec.off ||
		    m->svc[sec.svc].m[sec.kind]) {
			fg_fail(err, errlen, -EINVAL,
				"blob: section %u is out of bounds", i);
			goto fail;
		}
		sm = &m->svc[sec.svc];
		sm->m[sec.kind] = fg_route_load(b + sec.off, sec.len, conf, err,
						errlen);
		if (!sm->m[sec.kind])
			goto fail;
		sm->first[sec.kind] = sec.first;
	}
	return m;
fail:
	fg_l7_matcher_free(m);
	return NULL;
}

int fg_l7_matcher_agrees(const struct fg_l7_matcher *m,
			 const struct fg_l7_tables *t, char *err,
			 size_t errlen)
{
	static const char *const kind[2] = {"routes", "seckill rules"};
	uint32_t s, k, n, first, have;

	if (!m || !t || m->nsvcs != t->nsvcs)
		return fg_fail(err, errlen, -EINVAL,
			       "blob: not the matchers of these %u services",
			       t ? t->nsvcs : 0);
	for (s = 0; s < t->nsvcs; s++)
		for (k = 0; k < 2; k++) {
			n = k ? t->svcs[s].nseckill : t->svcs[s].nroutes;
			first = k ? t->svcs[s].seckill_first :
				    t->svcs[s].route_first;
			have = m->svc[s].m[k] ? fg_route_count(m->svc[s].m[k]) :
						0;
			if (have != n || (n && m->svc[s].first[k] != first))
				return fg_fail(err, errlen, -EINVAL,
					       "blob: service %s has %u %s, the blob %u",
					       t->svcs[s].name, n, kind[k],
					       have);
		}
	return 0;
}

void fg_l7_scratch_free(struct fg_l7_scratch *s)
{
	uint32_t i;

	if (!s)
		return;
	for (i = 0; i < 2 * s->m->nsvcs; i++)
		fg_route_scratch_free(s->s[i]);
	free(s);
}

struct fg_l7_scratch *fg_l7_scratch_new(const struct fg_l7_matcher *m,
					char *err, size_t errlen)
{
	struct fg_l7_scratch *s;
	uint32_t i, k;

	s = calloc(1, sizeof(*s) + 2 * (size_t)m->nsvcs * sizeof(s->s[0]));
	if (!s) {
		fg_fail(err, errlen, -ENOMEM, "out of memory");
		return NULL;
	}
	s->m = m;
	for (i = 0; i < m->nsvcs; i++)
		for (k = 0; k < 2; k++) {
			if (!m->svc[i].m[k])
				continue;
			s->s[2 * i + k] = fg_route_scratch_new(m->svc[i].m[k],
							       err, errlen);
			if (!s->s[2 * i + k]) {
				fg_l7_scratch_free(s);
				return NULL;
			}
		}
	return s;
}

/* The table index of what matcher kind k of svc picks for req. */
static int fg_l7_pick(const struct fg_l7_matcher *m, struct fg_l7_scratch *s,
		      uint32_t svc, unsigned int k,
		      const struct fg_http_req *req)
{
	int rc;

	if (!m || !s || s->m != m || svc >= m->nsvcs)
		return -EINVAL;
	if (!m->svc[svc].m[k])
		return FG_ROUTE_NONE;
	rc = fg_route_match(m->svc[svc].m[k], s->s[2 * svc + k], req, NULL);
	return rc < 0 ? rc : (int)m->svc[svc].first[k] + rc;
}

int fg_l7_route(const struct fg_l7_matcher *m, struct fg_l7_scratch *s,
		uint32_t svc, const struct fg_http_req *req)
{
	return fg_l7_pick(m, s, svc, FG_L7_K_ROUTE, req);
}

int fg_l7_seckill_rule(const struct fg_l7_matcher *m, struct fg_l7_scratch *s,
		       uint32_t svc, const struct fg_http_req *req)
{
	return fg_l7_pick(m, s, svc, FG_L7_K_SECKILL, req);
}
