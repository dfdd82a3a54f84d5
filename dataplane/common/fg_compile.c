/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * fg_compile.c - the rule compiler (see fg_compile.h for the cycle).
 *
 * A compile never touches the compiler: it reads the active state, peeks
 * at the free-id queues and writes everything it decides into the
 * fg_compiled it returns, including the state the compiler takes on at
 * commit. Commit then only swaps pointers and moves queue heads, so it
 * cannot fail half-way after the dataplane has switched.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fg_compile.h"
#include "fg_err.h"
#include "fg_maglev.h"
#include "fg_parse.h"
#include "fg_tbucket.h"

/* ---------------------------------------------------------------------
 * State
 */

/* A service of the active (or planned) generation. */
struct fg_cs_svc {
	char name[FG_NAME_MAX];   /* "#<id>" for an adopted service whose
				   * name was lost: never a valid name */
	__u32 id;
	struct fg_svc_key key;
	__u32 ring_off;
	__u32 ring_size;
	/* What the ring was built from (ring_in[ring_in_off..+ring_in_n] of
	 * the state) and where its slots are in the state's ring_buf: a
	 * compile whose service has the same inputs shares this ring. */
	__u32 ring_in_off, ring_in_n;
	__u32 ring_buf_off;
	bool ring_shared;         /* plan: the active generation's ring */
	__u32 cur_buf_off;        /* plan, shared: its place in cur.ring_buf */
};

/* One backend as the ring builder sees it: a ring is a pure function of
 * its size and of these, in order. */
struct fg_ring_in {
	__u64 ident;
	__u32 weight;             /* 0: not usable */
	__u32 be_id;
};

/* Backend identity, the order of the sorted backend array. */
struct fg_be_ident {
	__u32 svc_id;   /* FG_NO_BACKEND for an adopted orphan: matches no
			 * service, so the id only waits to retire */
	__u8 family;    /* FG_AF_* */
	__u8 pad;
	__u16 port;     /* host order */
	__be32 addr[4];
};

struct fg_cs_be {
	struct fg_be_ident ident;
	__u32 id;
};

struct fg_cs_lim {
	char name[FG_NAME_MAX];
	__u32 id;
};

/* The state of one generation, and for a plan what commit must do. */
struct fg_compile_state {
	__u32 gen;
	uint64_t version;
	__u32 nsvcs;
	struct fg_cs_svc *svcs;   /* sorted by name */
	__u32 nbes;
	struct fg_cs_be *bes;     /* sorted by identity */
	struct fg_cs_be *bes_rule; /* the same in the rule set's order: a
				    * service's at [ring_in_off, +ring_in_n) */
	__u32 nlims;
	struct fg_cs_lim *lims;   /* sorted by name */

	/* Plan only. */
	uint64_t base_serial;     /* compiler serial the plan was made on */
	__u32 taken_svc, taken_be, taken_lim; /* ids taken off each queue */
	struct fg_ringbuf *rb;    /* owns ring_buf (shared, counted) */
	__u32 *ring_buf;          /* every ring of the generation */
	size_t ring_total;        /* slots in ring_buf */
	struct fg_ring_in *ring_in; /* what each ring was built from */
	bool committed;
};

/*
 * Free ids, oldest freed first. Invariant: the queue holds exactly the ids
 * the active generation does not use, so a compile may take any of them.
 */
struct fg_idq {
	__u32 *q;
	__u32 cap;
	__u32 head;
	__u32 n;
};

struct fg_compiler {
	struct fg_compile_opts opts;
	struct fg_compile_state cur;
	struct fg_idq free_svc, free_be, free_lim;
	__u32 cluster_nodes;
	uint64_t serial;          /* bumped by every commit and adopt */
};

/* ---------------------------------------------------------------------
 * Helpers
 */

/* A queue holding every id 0..cap-1, lowest first. 0 or -ENOMEM. */
static int fg_idq_init(struct fg_idq *q, __u32 cap)
{
	__u32 i;

	q->q = malloc((size_t)cap * sizeof(*q->q));
	if (!q->q)
		return -ENOMEM;
	q->cap = cap;
	q->head = 0;
	q->n = cap;
	for (i = 0; i < cap; i++)
		q->q[i] = i;
	return 0;
}

/* The i-th id a compile would take (i < q->n). */
static __u32 fg_idq_peek(const struct fg_idq *q, __u32 i)
{
	return q->q[(q->head + i) % q->cap];
}

/* Drop the k ids a committed compile took (k <= q->n). */
static void fg_idq_pop(struct fg_idq *q, __u32 k)
{
	q->head = (q->head + k) % q->cap;
	q->n -= k;
}

/* Never overflows: see the invariant above struct fg_idq. */
static void fg_idq_push(struct fg_idq *q, __u32 id)
{
	q->q[(q->head + q->n) % q->cap] = id;
	q->n++;
}

/*
 * The rings of one generation, counted: the compile that built them (its
 * callers may read cp->svcs[i].ring after later commits) and the active
 * state (the next compile shares unchanged rings from it) hold the same
 * buffer rather than a copy each.
 */
struct fg_ringbuf {
	unsigned int refs;
	__u32 slots[];
};

static void fg_rb_put(struct fg_ringbuf *rb)
{
	if (rb && !--rb->refs)
		free(rb);
}

/* Free what a state owns and empty it; the struct itself stays. */
static void fg_state_clear(struct fg_compile_state *st)
{
	free(st->svcs);
	free(st->bes);
	free(st->bes_rule);
	free(st->lims);
	fg_rb_put(st->rb);
	st->rb = NULL;
	free(st->ring_in);
	st->svcs = NULL;
	st->bes = NULL;
	st->bes_rule = NULL;
	st->lims = NULL;
	st->ring_buf = NULL;
	st->ring_in = NULL;
	st->nsvcs = st->nbes = st->nlims = 0;
}

/* AF_INET or AF_INET6: the only families the tables hold. */
static bool fg_family_valid(int family)
{
	return family == AF_INET || family == AF_INET6;
}

/* An address as the tables hold it: IPv4 in word 0, the rest zero. */
static __u8 fg_addr_words(const struct fg_addr *a, __be32 w[4])
{
	memset(w, 0, 4 * sizeof(*w));
	if (a->family == AF_INET) {
		memcpy(&w[0], &a->a4, sizeof(a->a4));
		return FG_AF_INET;
	}
	memcpy(w, &a->a6, sizeof(a->a6));
	return FG_AF_INET6;
}

/* Names compare as bytes, bounded by FG_NAME_MAX. */
static int fg_cmp_name(const char *a, const char *b)
{
	return strncmp(a, b, FG_NAME_MAX);
}

/* qsort/bsearch order of state services: by name. */
static int fg_cs_svc_cmp(const void *a, const void *b)
{
	return fg_cmp_name(((const struct fg_cs_svc *)a)->name,
			   ((const struct fg_cs_svc *)b)->name);
}

/* qsort/bsearch order of state limits: by name. */
static int fg_cs_lim_cmp(const void *a, const void *b)
{
	return fg_cmp_name(((const struct fg_cs_lim *)a)->name,
			   ((const struct fg_cs_lim *)b)->name);
}

/* Total order of backend identities: service, family, port, address. */
static int fg_be_ident_cmp(const struct fg_be_ident *a,
			   const struct fg_be_ident *b)
{
	if (a->svc_id != b->svc_id)
		return a->svc_id < b->svc_id ? -1 : 1;
	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	if (a->port != b->port)
		return a->port < b->port ? -1 : 1;
	return memcmp(a->addr, b->addr, sizeof(a->addr));
}

/* qsort/bsearch order of state backends: by identity. */
static int fg_cs_be_cmp(const void *a, const void *b)
{
	return fg_be_ident_cmp(&((const struct fg_cs_be *)a)->ident,
			       &((const struct fg_cs_be *)b)->ident);
}

/* bsearch/qsort on possibly empty arrays: an empty rule set has NULL
 * arrays, and the C library declares both pointers non-null. */
static void *fg_bsearch(const void *key, const void *base, size_t n,
			size_t size, int (*cmp)(const void *, const void *))
{
	return n ? bsearch(key, base, n, size, cmp) : NULL;
}

static void fg_qsort(void *base, size_t n, size_t size,
		     int (*cmp)(const void *, const void *))
{
	if (n > 1)
		qsort(base, n, size, cmp);
}

/* bsearch comparators of a name key against state entries. */
static int fg_key_svc_cmp(const void *key, const void *e)
{
	return fg_cmp_name(key, ((const struct fg_cs_svc *)e)->name);
}

static int fg_key_lim_cmp(const void *key, const void *e)
{
	return fg_cmp_name(key, ((const struct fg_cs_lim *)e)->name);
}

/* The state service named `name`, or NULL. */
static const struct fg_cs_svc *fg_find_svc(const struct fg_compile_state *st,
					   const char *name)
{
	return fg_bsearch(name, st->svcs, st->nsvcs, sizeof(*st->svcs),
			  fg_key_svc_cmp);
}

/* The state limit named `name`, or NULL. */
static const struct fg_cs_lim *fg_find_lim(const struct fg_compile_state *st,
					   const char *name)
{
	return fg_bsearch(name, st->lims, st->nlims, sizeof(*st->lims),
			  fg_key_lim_cmp);
}

/* Copy a name (NUL-terminated within FG_NAME_MAX by the rule model) into
 * a FG_NAME_MAX field: one copy per service per compile, so no printf. */
static void fg_name_cpy(char dst[FG_NAME_MAX], const char *src)
{
	size_t n = strnlen(src, FG_NAME_MAX - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* The state backend of identity *id, or NULL. */
static const struct fg_cs_be *fg_find_be(const struct fg_compile_state *st,
					 const struct fg_be_ident *id)
{
	struct fg_cs_be k = { .ident = *id };

	return fg_bsearch(&k, st->bes, st->nbes, sizeof(k), fg_cs_be_cmp);
}

/* The identity of rule backend b under service id svc_id. */
static void fg_be_ident_of(struct fg_be_ident *id, __u32 svc_id,
			   const struct fg_rule_backend *b)
{
	memset(id, 0, sizeof(*id));
	id->svc_id = svc_id;
	id->family = fg_addr_words(&b->addr, id->addr);
	id->port = b->port;
}

bool fg_backend_usable(const struct fg_rule_backend *b)
{
	return b->weight > 0 && b->state == FG_BACKEND_ACTIVE &&
	       !b->health_down;
}

__u64 fg_backend_ident(const struct fg_addr *addr, uint16_t port)
{
	__u8 buf[1 + 16 + 2];
	__be32 w[4];
	__u64 h = 0xcbf29ce484222325ULL; /* FNV-1a 64 offset basis */
	size_t n = 0, i;
	__u8 fam;

	fam = fg_addr_words(addr, w);
	buf[n++] = fam;
	memcpy(buf + n, w, fam == FG_AF_INET ? 4 : 16);
	n += fam == FG_AF_INET ? 4 : 16;
	buf[n++] = (__u8)(port >> 8);
	buf[n++] = (__u8)port;
	for (i = 0; i < n; i++) {
		h ^= buf[i];
		h *= 0x100000001b3ULL; /* FNV-1a 64 prime */
	}
	/* FNV-1a's last bytes (the port) only reach the low bits; the
	 * splitmix64 finaliser spreads them over the whole word. */
	h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ULL;
	h = (h ^ (h >> 27)) * 0x94d049bb133111ebULL;
	return h ^ (h >> 31);
}

void fg_limit_fill(struct fg_limit *v, const struct fg_rule_limit *l)
{
	if (l->match_src_set) {
		v->match_family = fg_addr_words(&l->match_src, v->match_src);
		v->match_src_len = l->match_src_len;
		v->flags |= FG_LIM_F_MATCH_SRC;
	}
	v->match_proto = l->match_proto;
	v->match_dport = fg_htons(l->match_dport);
	v->key = (__u8)l->key;
	v->prefix_len = l->key == FG_LKEY_SRC_PREFIX ? l->prefix_len : 0;
	v->unit = (__u8)l->unit;
	v->action = (__u8)l->action;
	if (l->dry_run)
		v->flags |= FG_LIM_F_DRY_RUN;
}

__u32 fg_ring_size_for(__u32 n)
{
	__u32 m = n * 100U;

	/* Sized to the service, not FG_MAGLEV_M_DEFAULT for all: a ring
	 * of 65537 slots for a 10-backend service would let the default
	 * ring array hold only ~60 services (rings are double-buffered).
	 * 100 slots per backend keeps the balance within 1 %. */
	if (m < FG_RING_SIZE_MIN)
		return FG_RING_SIZE_MIN;
	/* Prime gaps below 2^21 are under 200: a short, bounded walk. */
	while (!fg_maglev_is_prime(m))
		m++;
	return m;
}

/* ---------------------------------------------------------------------
 * Construction
 */

struct fg_compiler *fg_compiler_new(const struct fg_compile_opts *opts)
{
	struct fg_compiler *c;

	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	if (opts)
		c->opts = *opts;
	if (!c->opts.ring_slots)
		c->opts.ring_slots = FG_RING_SLOTS_DEFAULT;
	if (!c->opts.svc_max)
		c->opts.svc_max = FG_SVC_MAX;
	if (!c->opts.backend_max)
		c->opts.backend_max = FG_BACKEND_MAX;
	if (!c->opts.limit_max)
		c->opts.limit_max = FG_LIMIT_MAX;
	/* Limit ids are __u16 in the lists, with FG_NO_LIMIT reserved; the
	 * table indexes gen * FG_LIMIT_MAX + id. */
	if (c->opts.svc_max > FG_SVC_MAX ||
	    c->opts.backend_max > FG_BACKEND_MAX ||
	    c->opts.limit_max > FG_LIMIT_MAX)
		goto err_free_c;
	if (fg_idq_init(&c->free_svc, c->opts.svc_max))
		goto err_free_c;
	if (fg_idq_init(&c->free_be, c->opts.backend_max))
		goto err_free_svcq;
	if (fg_idq_init(&c->free_lim, c->opts.limit_max))
		goto err_free_beq;
	c->cluster_nodes = 0; /* not in a cluster: no cluster-scope limits */
	return c;

err_free_beq:
	free(c->free_be.q);
err_free_svcq:
	free(c->free_svc.q);
err_free_c:
	free(c);
	return NULL;
}

void fg_compiler_free(struct fg_compiler *c)
{
	if (!c)
		return;
	fg_state_clear(&c->cur);
	free(c->free_svc.q);
	free(c->free_be.q);
	free(c->free_lim.q);
	free(c);
}

void fg_compiler_set_cluster_nodes(struct fg_compiler *c, __u32 nodes)
{
	if (c)
		c->cluster_nodes = nodes;
}

void fg_compiled_free(struct fg_compiled *cp)
{
	if (!cp)
		return;
	if (cp->next) {
		fg_state_clear(cp->next);
		free(cp->next);
	}
	free(cp->svcs);
	free(cp->backends);
	free(cp->limits);
	free(cp->fresh_svcs.ids);
	free(cp->fresh_backends.ids);
	free(cp->fresh_limits.ids);
	free(cp->stale_keys);
	free(cp->retired_svcs.ids);
	free(cp->retired_backends.ids);
	free(cp->retired_limits.ids);
	free(cp);
}

/* ---------------------------------------------------------------------
 * Validation
 */

/* Everything one compile works with. */
struct fg_cctx {
	struct fg_compiler *c;
	const struct fg_ruleset *rs;
	struct fg_compiled *cp;
	struct fg_compile_state *nx;
	char *err;
	size_t errlen;
	struct fg_name_ref *svc_order; /* rs services sorted by name */
	__u32 *svc_ids;    /* per rs service */
	const struct fg_cs_svc **svc_old; /* per rs service: the active
					   * generation's, or NULL */
	__u32 *be_same;    /* per rs service: 1 + the first index of its run
			    * in cur.bes when its backends are the active
			    * generation's, in the same order; else 0 */
	__u32 *be_base;    /* per rs service: first index into be_ids */
	__u32 *be_ids;     /* per rs backend, services in rs order */
	__u32 nbe_total;
	__u32 *lim_ids;    /* per rs limit */
};

/* The fg_services key of service s in generation gen (pad zeroed). */
static void fg_svc_key_of(struct fg_svc_key *k, const struct fg_rule_service *s,
			  __u32 gen)
{
	memset(k, 0, sizeof(*k));
	k->family = fg_addr_words(&s->vip, k->vip);
	k->port = fg_htons(s->port);
	k->proto = s->proto;
	k->gen = (__u8)gen;
}

/* Sort records: the sort key computed once, with the index it came from
 * (plain qsort has no context argument). */
struct fg_name_ref {
	const char *name;
	__u32 idx;
};

/* Sort-record comparator: by name. */
static int fg_name_ref_cmp(const void *a, const void *b)
{
	return fg_cmp_name(((const struct fg_name_ref *)a)->name,
			   ((const struct fg_name_ref *)b)->name);
}

/* The rs index of service `name`, or -1 (svc_order must be sorted). */
static long fg_rs_svc_index(const struct fg_cctx *x, const char *name)
{
	struct fg_name_ref k = { .name = name }, *r;

	r = fg_bsearch(&k, x->svc_order, x->rs->nservices, sizeof(k),
		    fg_name_ref_cmp);
	return r ? (long)r->idx : -1;
}

/*
 * Capacity: what a valid rule set can still exceed on this node. Values
 * (names, addresses, ports, enums, duplicates, ranges, which service a
 * limit names) are the rule model's to judge, once, where the rules are
 * read (fg_ruleset_from_json, or the objects' parsers and
 * fg_ruleset_check on an edit: fg_rules_json.h); every caller compiles a
 * checked set. What stays here is what only the compiler knows: its own
 * table sizes (fg_compile_opts), the ring's backend bound, and the
 * fixed-length limit lists the packet path walks. A limit must name a
 * service of the set to be bound at all, so that is refused too rather
 * than trusted. Leaves x->svc_order sorted by name for the binding.
 * 0, -EINVAL with a message, or -ENOMEM.
 */
static int fg_check_capacity(struct fg_cctx *x)
{
	const struct fg_ruleset *rs = x->rs;
	__u32 i, nglobal = 0, *per_svc;
	int ret = 0;

	if (rs->nservices > x->c->opts.svc_max)
		return fg_fail(x->err, x->errlen, -EINVAL,
			       "services: at most %u", x->c->opts.svc_max);
	if (rs->nlimits > x->c->opts.limit_max)
		return fg_fail(x->err, x->errlen, -EINVAL,
			       "limits: at most %u", x->c->opts.limit_max);
	if ((rs->nservices && !rs->services) || (rs->nlimits && !rs->limits))
		return fg_fail(x->err, x->errlen, -EINVAL,
			       "rule set: a count without its array");
	for (i = 0; i < rs->nservices; i++) {
		const struct fg_rule_service *s = &rs->services[i];

		if (s->nbackends > FG_MAGLEV_BACKENDS_MAX)
			return fg_fail(x->err, x->errlen, -EINVAL,
				       "services.%s.backends: at most %u entries",
				       s->name, FG_MAGLEV_BACKENDS_MAX);
		if (s->nbackends && !s->backends)
			return fg_fail(x->err, x->errlen, -EINVAL,
				       "services.%s.backends: missing", s->name);
		x->svc_order[i].name = s->name;
		x->svc_order[i].idx = i;
	}
	fg_qsort(x->svc_order, rs->nservices, sizeof(*x->svc_order),
		 fg_name_ref_cmp);

	/* The lists the packet path walks have fixed lengths. */
	per_svc = calloc(rs->nservices ? rs->nservices : 1, sizeof(*per_svc));
	if (!per_svc)
		return -ENOMEM;
	for (i = 0; i < rs->nlimits; i++) {
		const struct fg_rule_limit *l = &rs->limits[i];
		long si;

		if (!l->service[0]) {
			if (++nglobal > FG_GLOBAL_LIMITS_MAX) {
				ret = fg_fail(x->err, x->errlen, -EINVAL,
					      "limits.%s: at most %u limits without a service",
					      l->name, FG_GLOBAL_LIMITS_MAX);
				break;
			}
			continue;
		}
		si = fg_rs_svc_index(x, l->service);
		if (si < 0) {
			ret = fg_fail(x->err, x->errlen, -EINVAL,
				      "limits.%s.service: no service named %.63s",
				      l->name, l->service);
			break;
		}
		if (++per_svc[si] > FG_SVC_LIMITS_MAX) {
			ret = fg_fail(x->err, x->errlen, -EINVAL,
				      "limits.%s: at most %u limits per service (services.%s)",
				      l->name, FG_SVC_LIMITS_MAX, l->service);
			break;
		}
	}
	free(per_svc);
	return ret;
}

/* ---------------------------------------------------------------------
 * Planning: ids
 */

/* Lists are allocated to their upper bound before planning. */
static void fg_fresh_add(struct fg_id_list *l, __u32 id)
{
	l->ids[l->n++] = id;
}

/*
 * Service ids: the active id for a known name, else the next free one
 * (peeked, taken at commit). Fills x->svc_ids and the planned state.
 * 0, -ENOSPC with a message, or -ENOMEM.
 */
static int fg_plan_service_ids(struct fg_cctx *x)
{
	const struct fg_ruleset *rs = x->rs;
	struct fg_compiler *c = x->c;
	__u32 i;

	x->nx->svcs = calloc(rs->nservices ? rs->nservices : 1,
			     sizeof(*x->nx->svcs));
	x->cp->fresh_svcs.ids = calloc(rs->nservices ? rs->nservices : 1,
				       sizeof(__u32));
	if (!x->nx->svcs || !x->cp->fresh_svcs.ids)
		return -ENOMEM;
	for (i = 0; i < rs->nservices; i++) {
		const struct fg_rule_service *s = &rs->services[i];
		const struct fg_cs_svc *old = fg_find_svc(&c->cur, s->name);
		struct fg_cs_svc *ns = &x->nx->svcs[i];

		x->svc_old[i] = old;

		if (old) {
			x->svc_ids[i] = old->id;
		} else {
			if (x->nx->taken_svc >= c->free_svc.n)
				return fg_fail(x->err, x->errlen, -ENOSPC,
					       "services.%s: no free service id (%u in use by the active generation, %u max)",
					       s->name, c->cur.nsvcs,
					       c->opts.svc_max);
			x->svc_ids[i] = fg_idq_peek(&c->free_svc,
						    x->nx->taken_svc++);
			fg_fresh_add(&x->cp->fresh_svcs, x->svc_ids[i]);
		}
		fg_name_cpy(ns->name, s->name);
		ns->id = x->svc_ids[i];
		fg_svc_key_of(&ns->key, s, x->nx->gen);
	}
	x->nx->nsvcs = rs->nservices;
	return 0;
}

/*
 * Backend ids, likewise by (service id, family, addr, port). Fills
 * x->be_base, x->be_ids and the planned state. 0, -EINVAL (more
 * backends than ids), -ENOSPC, or -ENOMEM.
 */
/*
 * The run of st->bes (sorted by identity, service id first) that belongs
 * to service svc_id: *first and the count. A service's backends are then
 * looked up among its own few, not among every backend of the set.
 */
static __u32 fg_be_run(const struct fg_compile_state *st, __u32 svc_id,
		       __u32 *first)
{
	__u32 lo = 0, hi = st->nbes, end;

	while (lo < hi) {
		__u32 mid = lo + (hi - lo) / 2;

		if (st->bes[mid].ident.svc_id < svc_id)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (end = lo; end < st->nbes && st->bes[end].ident.svc_id == svc_id;
	     end++)
		;
	*first = lo;
	return end - lo;
}

static int fg_plan_backend_ids(struct fg_cctx *x)
{
	const struct fg_ruleset *rs = x->rs;
	struct fg_compiler *c = x->c;
	__u32 i, j, k = 0;

	x->nbe_total = 0;
	for (i = 0; i < rs->nservices; i++) {
		x->be_base[i] = x->nbe_total;
		x->nbe_total += rs->services[i].nbackends;
	}
	if (x->nbe_total > c->opts.backend_max)
		return fg_fail(x->err, x->errlen, -EINVAL,
			       "services: %u backends in all, at most %u",
			       x->nbe_total, c->opts.backend_max);
	x->be_ids = calloc(x->nbe_total ? x->nbe_total : 1, sizeof(__u32));
	x->nx->bes = calloc(x->nbe_total ? x->nbe_total : 1,
			    sizeof(*x->nx->bes));
	x->cp->fresh_backends.ids = calloc(x->nbe_total ? x->nbe_total : 1,
					   sizeof(__u32));
	if (!x->be_ids || !x->nx->bes || !x->cp->fresh_backends.ids)
		return -ENOMEM;
	for (i = 0; i < rs->nservices; i++) {
		const struct fg_rule_service *s = &rs->services[i];
		const struct fg_cs_svc *was = x->svc_old[i];
		__u32 first, nrun = fg_be_run(&c->cur, x->svc_ids[i], &first);

		/* The common case of a change among many services: this
		 * service's backends are the active generation's, in the
		 * same order. Their ids then come with them, without a
		 * look-up each. */
		if (was && c->cur.bes_rule && was->ring_in_n == s->nbackends &&
		    nrun == s->nbackends) {
			const struct fg_cs_be *ob = c->cur.bes_rule +
						    was->ring_in_off;

			for (j = 0; j < s->nbackends; j++) {
				fg_be_ident_of(&x->nx->bes[k + j].ident,
					       x->svc_ids[i], &s->backends[j]);
				if (memcmp(&x->nx->bes[k + j].ident,
					   &ob[j].ident, sizeof(ob[j].ident)))
					break;
				x->nx->bes[k + j].id = ob[j].id;
				x->be_ids[k + j] = ob[j].id;
			}
			if (j == s->nbackends) {
				x->be_same[i] = first + 1;
				k += s->nbackends;
				continue;
			}
		}
		for (j = 0; j < s->nbackends; j++, k++) {
			struct fg_cs_be *nb = &x->nx->bes[k];
			const struct fg_cs_be *old;

			fg_be_ident_of(&nb->ident, x->svc_ids[i],
				       &s->backends[j]);
			/* A fresh compiler has no backend array yet: no
			 * arithmetic on its NULL (UBSan). */
			old = nrun ? fg_bsearch(nb, c->cur.bes + first, nrun,
						sizeof(*nb), fg_cs_be_cmp) : NULL;
			if (old) {
				nb->id = old->id;
			} else {
				if (x->nx->taken_be >= c->free_be.n)
					return fg_fail(x->err, x->errlen, -ENOSPC,
						       "services.%s.backends[%u]: no free backend id (%u in use by the active generation, %u max)",
						       s->name, j, c->cur.nbes,
						       c->opts.backend_max);
				nb->id = fg_idq_peek(&c->free_be,
						     x->nx->taken_be++);
				fg_fresh_add(&x->cp->fresh_backends, nb->id);
			}
			x->be_ids[k] = nb->id;
		}
	}
	x->nx->nbes = x->nbe_total;
	return 0;
}

/* Limit ids, likewise by name. 0, -ENOSPC or -ENOMEM. */
static int fg_plan_limit_ids(struct fg_cctx *x)
{
	const struct fg_ruleset *rs = x->rs;
	struct fg_compiler *c = x->c;
	__u32 i;

	x->nx->lims = calloc(rs->nlimits ? rs->nlimits : 1,
			     sizeof(*x->nx->lims));
	x->cp->fresh_limits.ids = calloc(rs->nlimits ? rs->nlimits : 1,
					 sizeof(__u32));
	if (!x->nx->lims || !x->cp->fresh_limits.ids)
		return -ENOMEM;
	for (i = 0; i < rs->nlimits; i++) {
		const struct fg_rule_limit *l = &rs->limits[i];
		const struct fg_cs_lim *old = fg_find_lim(&c->cur, l->name);

		if (old) {
			x->lim_ids[i] = old->id;
		} else {
			if (x->nx->taken_lim >= c->free_lim.n)
				return fg_fail(x->err, x->errlen, -ENOSPC,
					       "limits.%s: no free limit id (%u in use by the active generation, %u max)",
					       l->name, c->cur.nlims,
					       c->opts.limit_max);
			x->lim_ids[i] = fg_idq_peek(&c->free_lim,
						    x->nx->taken_lim++);
			fg_fresh_add(&x->cp->fresh_limits, x->lim_ids[i]);
		}
		fg_name_cpy(x->nx->lims[i].name, l->name);
		x->nx->lims[i].id = x->lim_ids[i];
	}
	x->nx->nlims = rs->nlimits;
	return 0;
}

/* ---------------------------------------------------------------------
 * Planning: ring slices
 */

struct fg_extent {
	__u32 off;
	__u32 len;
};

/* Extents in slot order. */
static int fg_extent_cmp(const void *a, const void *b)
{
	__u32 x = ((const struct fg_extent *)a)->off;
	__u32 y = ((const struct fg_extent *)b)->off;

	return x < y ? -1 : x > y;
}

/*
 * First fit into the gaps between the active generation's slices: the new
 * rings are written while the active ones are read, so they must not
 * share a slot.
 */
static int fg_plan_rings(struct fg_cctx *x)
{
	const struct fg_compile_state *cur = &x->c->cur;
	const struct fg_ruleset *rs = x->rs;
	struct fg_extent *used, *gaps;
	__u32 nused = 0, ngaps = 0, i, g, pos = 0, slots = x->c->opts.ring_slots;
	size_t nin = 0;
	__u64 in_use = 0;
	int ret = 0;

	used = calloc(cur->nsvcs + 1, sizeof(*used));
	gaps = calloc(cur->nsvcs + 1, sizeof(*gaps));
	if (!used || !gaps) {
		ret = -ENOMEM;
		goto out_free;
	}
	for (i = 0; i < cur->nsvcs; i++) {
		if (!cur->svcs[i].ring_size)
			continue;
		used[nused].off = cur->svcs[i].ring_off;
		used[nused].len = cur->svcs[i].ring_size;
		in_use += used[nused].len;
		nused++;
	}
	fg_qsort(used, nused, sizeof(*used), fg_extent_cmp);
	for (i = 0; i <= nused; i++) {
		__u32 end = i < nused ? used[i].off : slots;

		if (end > pos) {
			gaps[ngaps].off = pos;
			gaps[ngaps].len = end - pos;
			ngaps++;
		}
		if (i < nused)
			pos = used[i].off + used[i].len;
	}

	for (i = 0; i < rs->nservices; i++)
		nin += rs->services[i].nbackends;
	x->nx->ring_in = calloc(nin ? nin : 1, sizeof(*x->nx->ring_in));
	if (!x->nx->ring_in) {
		ret = -ENOMEM;
		goto out_free;
	}
	nin = 0;
	for (i = 0; i < rs->nservices; i++) {
		const struct fg_rule_service *s = &rs->services[i];
		struct fg_cs_svc *ns = &x->nx->svcs[i];
		struct fg_ring_in *in = x->nx->ring_in + nin;
		const struct fg_cs_svc *was;
		bool usable = false;
		__u32 j;

		was = x->svc_old[i];
		for (j = 0; j < s->nbackends; j++) {
			const struct fg_rule_backend *b = &s->backends[j];

			usable |= fg_backend_usable(b);
			/* The same backends as the active ring's inputs:
			 * their identities are known. */
			in[j].ident = x->be_same[i] && cur->ring_in ?
				cur->ring_in[was->ring_in_off + j].ident :
				fg_backend_ident(&b->addr, b->port);
			in[j].weight = fg_backend_usable(b) ? b->weight : 0;
			in[j].be_id = x->be_ids[x->be_base[i] + j];
		}
		ns->ring_in_off = nin;
		ns->ring_in_n = s->nbackends;
		nin += s->nbackends;
		ns->ring_off = 0;
		ns->ring_size = 0;
		ns->ring_shared = false;
		if (!usable)
			continue;
		ns->ring_size = fg_ring_size_for(s->nbackends);
		/* The same inputs as the active generation's ring: share its
		 * slots (neither generation ever writes a ring in place), so
		 * a change costs the rings it touches, not every ring. */
		if (was && cur->ring_in && cur->ring_buf &&
		    was->ring_size == ns->ring_size &&
		    was->ring_in_n == ns->ring_in_n &&
		    !memcmp(cur->ring_in + was->ring_in_off, in,
			    (size_t)ns->ring_in_n * sizeof(*in))) {
			ns->ring_off = was->ring_off;
			ns->ring_shared = true;
			ns->cur_buf_off = was->ring_buf_off;
			continue;
		}
		for (g = 0; g < ngaps; g++)
			if (gaps[g].len >= ns->ring_size)
				break;
		if (g == ngaps) {
			ret = fg_fail(x->err, x->errlen, -ENOSPC,
				      "services.%s: no room for a ring of %u slots (ring array: %u slots, %llu held by the active generation)",
				      s->name, ns->ring_size, slots,
				      (unsigned long long)in_use);
			goto out_free;
		}
		ns->ring_off = gaps[g].off;
		gaps[g].off += ns->ring_size;
		gaps[g].len -= ns->ring_size;
	}
out_free:
	free(gaps);
	free(used);
	return ret;
}

/* ---------------------------------------------------------------------
 * Building the images
 */

/*
 * Build service i's ring into ring[0..size): Maglev over every backend
 * (unusable ones at weight 0, so they keep their identity but no slot),
 * then indexes turned into backend ids. 0 or the builder's error.
 */
static int fg_build_ring(struct fg_cctx *x, __u32 i, __u32 *ring)
{
	const struct fg_rule_service *s = &x->rs->services[i];
	const struct fg_cs_svc *ns = &x->nx->svcs[i];
	const struct fg_ring_in *in = x->nx->ring_in + ns->ring_in_off;
	struct fg_maglev_backend *mb;
	__u32 j, m = ns->ring_size;
	int ret;

	mb = calloc(s->nbackends, sizeof(*mb));
	if (!mb)
		return -ENOMEM;
	for (j = 0; j < s->nbackends; j++) {
		mb[j].id = in[j].ident;
		mb[j].weight = in[j].weight;
	}
	ret = fg_maglev_build(mb, s->nbackends, ring, m);
	free(mb);
	if (ret)
		return fg_fail(x->err, x->errlen, ret,
			       "services.%s: ring build failed (%s)", s->name,
			       ret == -EINVAL ? "two backends hash to the same identity" :
			       ret == -ENOMEM ? "out of memory" : "internal error");
	/* Ring indexes -> backend ids, the value the dataplane reads. */
	for (j = 0; j < m; j++)
		ring[j] = ring[j] == FG_MAGLEV_EMPTY ? FG_NO_BACKEND :
			  in[ring[j]].be_id;
	return 0;
}

/* Service values, rings and backend entries of the new generation. */
static int fg_build_services(struct fg_cctx *x)
{
	const struct fg_ruleset *rs = x->rs;
	struct fg_compiled *cp = x->cp;
	__u64 total = 0;
	__u32 i, j, k = 0, *ring;
	int ret;

	for (i = 0; i < rs->nservices; i++)
		total += x->nx->svcs[i].ring_size;
	x->nx->rb = malloc(sizeof(*x->nx->rb) + (total ? total : 1) * sizeof(__u32));
	if (x->nx->rb) {
		x->nx->rb->refs = 1;
		x->nx->ring_buf = x->nx->rb->slots;
	}
	x->nx->ring_total = total;
	cp->svcs = calloc(rs->nservices ? rs->nservices : 1, sizeof(*cp->svcs));
	cp->backends = calloc(x->nbe_total ? x->nbe_total : 1,
			      sizeof(*cp->backends));
	if (!x->nx->ring_buf || !cp->svcs || !cp->backends)
		return -ENOMEM;

	ring = x->nx->ring_buf;
	for (i = 0; i < rs->nservices; i++) {
		const struct fg_rule_service *s = &rs->services[i];
		const struct fg_cs_svc *ns = &x->nx->svcs[i];
		struct fg_compiled_svc *cs = &cp->svcs[i];

		fg_name_cpy(cs->name, s->name);
		cs->key = ns->key;
		cs->val.id = ns->id;
		cs->val.ring_off = ns->ring_off;
		cs->val.ring_size = ns->ring_size;
		cs->val.forward = (__u8)s->forward;
		cs->val.hash = (__u8)s->hash;
		for (j = 0; j < FG_SVC_LIMITS_MAX; j++)
			cs->val.limits[j] = FG_NO_LIMIT;
		/* 0 = the dataplane's own default (fg_gue_port). */
		if (s->forward == FG_FWD_DSR_GUE)
			cs->val.gue_port = fg_htons(x->c->opts.gue_port);
		if (ns->ring_size) {
			if (ns->ring_shared) {
				memcpy(ring, x->c->cur.ring_buf + ns->cur_buf_off,
				       (size_t)ns->ring_size * sizeof(*ring));
			} else {
				ret = fg_build_ring(x, i, ring);
				if (ret)
					return ret;
			}
			x->nx->svcs[i].ring_buf_off = (__u32)(ring - x->nx->ring_buf);
			cs->ring = ring;
			cs->ring_shared = ns->ring_shared;
			ring += ns->ring_size;
		}

		for (j = 0; j < s->nbackends; j++, k++) {
			const struct fg_rule_backend *b = &s->backends[j];
			struct fg_compiled_backend *cb = &cp->backends[k];

			cb->id = x->be_ids[k];
			cb->val.family = fg_addr_words(&b->addr, cb->val.addr);
			cb->val.port = fg_htons(b->port);
			cb->val.svc_id = ns->id;
			/* Drain keeps the entry valid and up: established
			 * flows stay; only down (by the operator or by
			 * health checks) sends them elsewhere. */
			cb->val.flags = FG_BE_F_VALID;
			if (b->state == FG_BACKEND_DOWN || b->health_down)
				cb->val.flags |= FG_BE_F_DOWN;
		}
	}
	cp->nsvcs = rs->nservices;
	cp->nbackends = x->nbe_total;
	return 0;
}

/*
 * Rules that are valid but that this node cannot enforce: refused, never
 * stored and left undone. An l7 service needs the L7 engine, which no
 * dataplane of this build has (without it the service would silently be
 * plain L4 NAT); a cluster-scope limit needs to know how many nodes share
 * it, which only cluster membership tells (without it every node would
 * enforce the whole rate). Routes, seckill rules, rps limits and the
 * respond action are judged per HTTP request by the L7 engine, which
 * reads requests only once its TCP side (SYN proxy, splice) exists.
 * Returns 0 or -EOPNOTSUPP with the field.
 */
#define FG_NEEDS_L7_TCP \
	"needs the L7 engine's TCP side, which this build does not have"

static int fg_check_enforceable(struct fg_cctx *x)
{
	const struct fg_ruleset *rs = x->rs;
	__u32 i;

	/* The L7 rules first: each needs an l7 service too, and naming the
	 * rule tells the operator more than naming its service. */
	if (rs->nroutes)
		return fg_fail(x->err, x->errlen, -EOPNOTSUPP,
			       "routes.%s: %s", rs->routes[0].name,
			       FG_NEEDS_L7_TCP);
	if (rs->nseckill)
		return fg_fail(x->err, x->errlen, -EOPNOTSUPP,
			       "seckill.%s: %s", rs->seckill[0].name,
			       FG_NEEDS_L7_TCP);
	for (i = 0; i < rs->nlimits; i++) {
		if (rs->limits[i].unit == FG_LUNIT_RPS)
			return fg_fail(x->err, x->errlen, -EOPNOTSUPP,
				       "limits.%s.unit: rps %s",
				       rs->limits[i].name, FG_NEEDS_L7_TCP);
		if (rs->limits[i].action == FG_LACT_RESPOND)
			return fg_fail(x->err, x->errlen, -EOPNOTSUPP,
				       "limits.%s.action: respond %s",
				       rs->limits[i].name, FG_NEEDS_L7_TCP);
	}
	for (i = 0; i < rs->nservices; i++)
		if (rs->services[i].mode == FG_MODE_L7)
			return fg_fail(x->err, x->errlen, -EOPNOTSUPP,
				       "services.%s.mode: l7 needs the L7 engine, which this build's dataplanes do not have; use l4",
				       rs->services[i].name);
	for (i = 0; i < rs->nlimits; i++)
		if (rs->limits[i].cluster_scope && !x->c->cluster_nodes)
			return fg_fail(x->err, x->errlen, -EOPNOTSUPP,
				       "limits.%s.scope: cluster needs cluster membership to split the rate among nodes, which this node does not have; use node",
				       rs->limits[i].name);
	return 0;
}

/*
 * Limit entries (profiles, matches, flags) and the lists that bind them:
 * each service's, and the global one in the config. 0 or -EINVAL when
 * a profile does not fit the clock.
 */
static int fg_build_limits(struct fg_cctx *x)
{
	const struct fg_ruleset *rs = x->rs;
	struct fg_compiled *cp = x->cp;
	__u32 i, nodes = x->c->cluster_nodes;
	int ret;

	cp->limits = calloc(rs->nlimits ? rs->nlimits : 1, sizeof(*cp->limits));
	if (!cp->limits)
		return -ENOMEM;
	for (i = 0; i < FG_GLOBAL_LIMITS_MAX; i++)
		cp->config.global_limits[i] = FG_NO_LIMIT;

	for (i = 0; i < rs->nlimits; i++) {
		const struct fg_rule_limit *l = &rs->limits[i];
		struct fg_compiled_limit *cl = &cp->limits[i];
		struct fg_limit *v = &cl->val;
		__u64 rate = l->rate, burst = l->burst;

		/* A cluster-wide rate is split among the live nodes, each
		 * share rounded up so the sum never falls below the rate. */
		if (l->cluster_scope && nodes > 1) {
			rate = (rate + nodes - 1) / nodes;
			burst = (burst + nodes - 1) / nodes;
		}
		/* bps: rate and burst are in bits; the dataplane charges
		 * 8 x the frame length per packet. */
		ret = fg_tb_profile_init(&v->prof, rate, burst);
		if (ret)
			return fg_fail(x->err, x->errlen, -EINVAL,
				       "limits.%s.burst: burst/rate too long a window",
				       l->name);
		fg_name_cpy(cl->name, l->name);
		cl->index = x->nx->gen * FG_LIMIT_MAX + x->lim_ids[i];
		fg_limit_fill(v, l);
		v->id = x->lim_ids[i];

		/* Bind: the service's list, or the global list. Sizes were
		 * checked in validation. */
		if (l->service[0]) {
			struct fg_svc *sv = &cp->svcs[fg_rs_svc_index(x, l->service)].val;

			sv->limits[sv->nlimits++] = (__u16)x->lim_ids[i];
		} else {
			cp->config.global_limits[cp->config.nglobal_limits++] =
				(__u16)x->lim_ids[i];
		}
	}
	cp->nlimits = rs->nlimits;
	for (i = 0; i < rs->nservices; i++)
		if (rs->services[i].port == 0)
			cp->config.flags |= FG_CFG_F_WILDCARD;
	for (i = 0; i < cp->nsvcs; i++)
		fg_vip_filter_add(&cp->config, x->nx->gen, cp->svcs[i].key.vip);
	cp->config.gen = x->nx->gen;
	cp->config.version = x->cp->version;
	return 0;
}

/* Ids of the active generation the new one drops. */
static int fg_build_retired(struct fg_cctx *x)
{
	const struct fg_compile_state *cur = &x->c->cur;
	struct fg_compiled *cp = x->cp;
	__u32 max = x->c->opts.backend_max, i;
	__u8 *used;

	/* backend_max is the largest id space of the three. */
	if (x->c->opts.svc_max > max)
		max = x->c->opts.svc_max;
	if (x->c->opts.limit_max > max)
		max = x->c->opts.limit_max;
	used = malloc(max);
	cp->stale_keys = calloc(cur->nsvcs + 1, sizeof(*cp->stale_keys));
	cp->retired_svcs.ids = calloc(cur->nsvcs + 1, sizeof(__u32));
	cp->retired_backends.ids = calloc(cur->nbes + 1, sizeof(__u32));
	cp->retired_limits.ids = calloc(cur->nlims + 1, sizeof(__u32));
	if (!used || !cp->stale_keys || !cp->retired_svcs.ids ||
	    !cp->retired_backends.ids || !cp->retired_limits.ids) {
		free(used);
		return -ENOMEM;
	}

	memset(used, 0, max);
	for (i = 0; i < x->nx->nsvcs; i++)
		used[x->nx->svcs[i].id] = 1;
	for (i = 0; i < cur->nsvcs; i++) {
		cp->stale_keys[cp->nstale_keys++] = cur->svcs[i].key;
		if (!used[cur->svcs[i].id])
			cp->retired_svcs.ids[cp->retired_svcs.n++] =
				cur->svcs[i].id;
	}

	memset(used, 0, max);
	for (i = 0; i < x->nx->nbes; i++)
		used[x->nx->bes[i].id] = 1;
	for (i = 0; i < cur->nbes; i++)
		if (!used[cur->bes[i].id])
			cp->retired_backends.ids[cp->retired_backends.n++] =
				cur->bes[i].id;

	memset(used, 0, max);
	for (i = 0; i < x->nx->nlims; i++)
		used[x->nx->lims[i].id] = 1;
	for (i = 0; i < cur->nlims; i++)
		if (!used[cur->lims[i].id])
			cp->retired_limits.ids[cp->retired_limits.n++] =
				cur->lims[i].id;
	free(used);
	return 0;
}

/* A service's id and where its backends start in the planned order. */
struct fg_svc_run {
	__u32 id;
	__u32 i;
};

static int fg_svc_run_cmp(const void *a, const void *b)
{
	__u32 x = ((const struct fg_svc_run *)a)->id;
	__u32 y = ((const struct fg_svc_run *)b)->id;

	return x < y ? -1 : x > y;
}

/*
 * fg_sort_bes - put the planned backends (service by service, in the rule
 * set's order) in identity order: the services by id, then each
 * service's few among themselves - not one sort of every backend of the
 * set. 0 or -ENOMEM.
 */
static int fg_sort_bes(struct fg_cctx *x)
{
	const struct fg_ruleset *rs = x->rs;
	struct fg_svc_run *runs;
	struct fg_cs_be *out;
	__u32 i, k = 0;

	if (!x->nx->nbes)
		return 0;
	runs = calloc(rs->nservices, sizeof(*runs));
	out = malloc((size_t)x->nx->nbes * sizeof(*out));
	if (!runs || !out) {
		free(runs);
		free(out);
		return -ENOMEM;
	}
	for (i = 0; i < rs->nservices; i++) {
		runs[i].id = x->svc_ids[i];
		runs[i].i = i;
	}
	fg_qsort(runs, rs->nservices, sizeof(*runs), fg_svc_run_cmp);
	for (i = 0; i < rs->nservices; i++) {
		__u32 si = runs[i].i, n = rs->services[si].nbackends;

		/* Unchanged backends: the active run is this one, sorted. */
		if (x->be_same[si]) {
			memcpy(out + k, x->c->cur.bes + x->be_same[si] - 1,
			       (size_t)n * sizeof(*out));
		} else {
			memcpy(out + k, x->nx->bes + x->be_base[si],
			       (size_t)n * sizeof(*out));
			fg_qsort(out + k, n, sizeof(*out), fg_cs_be_cmp);
		}
		k += n;
	}
	free(runs);
	x->nx->bes_rule = x->nx->bes;
	x->nx->bes = out;
	return 0;
}

int fg_compile(struct fg_compiler *c, const struct fg_ruleset *rs,
	       uint64_t version, struct fg_compiled **out, char *err,
	       size_t errlen)
{
	struct fg_cctx x = { .c = c, .rs = rs, .err = err, .errlen = errlen };
	__u32 nsvc;
	int ret;

	if (out)
		*out = NULL;
	if (!c || !rs || !out)
		return fg_fail(err, errlen, -EINVAL, "no compiler or rule set");
	if (err && errlen)
		err[0] = '\0';

	nsvc = rs->nservices ? rs->nservices : 1;
	x.svc_order = calloc(nsvc, sizeof(*x.svc_order));
	x.svc_ids = calloc(nsvc, sizeof(__u32));
	x.svc_old = calloc(nsvc, sizeof(*x.svc_old));
	x.be_same = calloc(nsvc, sizeof(*x.be_same));
	x.be_base = calloc(nsvc, sizeof(__u32));
	x.lim_ids = calloc(rs->nlimits ? rs->nlimits : 1, sizeof(__u32));
	x.cp = calloc(1, sizeof(*x.cp));
	if (x.cp)
		x.cp->next = x.nx = calloc(1, sizeof(*x.nx));
	if (!x.svc_order || !x.svc_ids || !x.svc_old || !x.be_same || !x.be_base || !x.lim_ids || !x.nx) {
		ret = -ENOMEM;
		goto err_free;
	}
	x.cp->gen = c->cur.gen ^ 1U;
	x.cp->prev_gen = c->cur.gen;
	x.cp->version = version;
	x.nx->gen = x.cp->gen;
	x.nx->version = version;
	x.nx->base_serial = c->serial;

	ret = fg_check_capacity(&x);
	if (!ret)
		ret = fg_check_enforceable(&x);
	if (!ret)
		ret = fg_plan_service_ids(&x);
	if (!ret)
		ret = fg_plan_backend_ids(&x);
	if (!ret)
		ret = fg_plan_limit_ids(&x);
	if (!ret)
		ret = fg_plan_rings(&x);
	if (!ret)
		ret = fg_build_services(&x);
	if (!ret)
		ret = fg_build_limits(&x);
	if (!ret)
		ret = fg_build_retired(&x);
	if (ret) {
		if (ret == -ENOMEM && err && errlen && !err[0])
			fg_fail(err, errlen, ret, "out of memory");
		goto err_free;
	}

	/* The committed state is looked up by name and identity. */
	fg_qsort(x.nx->svcs, x.nx->nsvcs, sizeof(*x.nx->svcs), fg_cs_svc_cmp);
	ret = fg_sort_bes(&x);
	if (ret)
		goto err_free;
	fg_qsort(x.nx->lims, x.nx->nlims, sizeof(*x.nx->lims), fg_cs_lim_cmp);
	*out = x.cp;
	x.cp = NULL;
	ret = 0;

err_free:
	fg_compiled_free(x.cp);
	free(x.svc_order);
	free(x.svc_ids);
	free(x.svc_old);
	free(x.be_same);
	free(x.be_base);
	free(x.be_ids);
	free(x.lim_ids);
	return ret;
}

/* ---------------------------------------------------------------------
 * Commit and adoption
 */

int fg_compiler_commit(struct fg_compiler *c, struct fg_compiled *cp)
{
	struct fg_compile_state *nx;
	__u32 i;

	if (!c || !cp || !cp->next || cp->next->committed)
		return -EINVAL;
	nx = cp->next;
	if (nx->base_serial != c->serial)
		return -ESTALE;

	fg_idq_pop(&c->free_svc, nx->taken_svc);
	fg_idq_pop(&c->free_be, nx->taken_be);
	fg_idq_pop(&c->free_lim, nx->taken_lim);
	for (i = 0; i < cp->retired_svcs.n; i++)
		fg_idq_push(&c->free_svc, cp->retired_svcs.ids[i]);
	for (i = 0; i < cp->retired_backends.n; i++)
		fg_idq_push(&c->free_be, cp->retired_backends.ids[i]);
	for (i = 0; i < cp->retired_limits.n; i++)
		fg_idq_push(&c->free_lim, cp->retired_limits.ids[i]);

	free(c->cur.svcs);
	free(c->cur.bes);
	free(c->cur.bes_rule);
	free(c->cur.lims);
	/* The rings stay cp's too (its callers may read them after later
	 * commits): the active state takes a reference, for the next
	 * compile to share from. */
	fg_rb_put(c->cur.rb);
	free(c->cur.ring_in);
	c->cur.rb = nx->rb;
	c->cur.ring_buf = nx->ring_buf;
	c->cur.ring_total = nx->ring_total;
	if (c->cur.rb)
		c->cur.rb->refs++;
	c->cur.ring_in = nx->ring_in;
	nx->ring_in = NULL;
	c->cur.svcs = nx->svcs;
	c->cur.nsvcs = nx->nsvcs;
	c->cur.bes = nx->bes;
	c->cur.bes_rule = nx->bes_rule;
	c->cur.nbes = nx->nbes;
	c->cur.lims = nx->lims;
	c->cur.nlims = nx->nlims;
	c->cur.gen = nx->gen;
	c->cur.version = nx->version;
	nx->svcs = NULL;
	nx->bes = NULL;
	nx->bes_rule = NULL;
	nx->lims = NULL;
	nx->nsvcs = nx->nbes = nx->nlims = 0;
	nx->committed = true;
	c->serial++;
	return 0;
}

/* Adopted names: a lost one becomes "#<id>", which no rule can name. */
static void fg_adopt_name(char *dst, const char *name, __u32 id)
{
	if (name && name[0] && memchr(name, '\0', FG_NAME_MAX))
		snprintf(dst, FG_NAME_MAX, "%s", name);
	else
		snprintf(dst, FG_NAME_MAX, "#%u", id);
}

/* Refill a queue with every id `used` does not mark, ascending. */
static void fg_adopt_ids(struct fg_idq *q, const __u8 *used)
{
	__u32 i;

	q->head = 0;
	q->n = 0;
	for (i = 0; i < q->cap; i++)
		if (!used[i])
			fg_idq_push(q, i);
}

/* Range and overlap checks of an adoption. 0 or -EINVAL/-ENOMEM. */
static int fg_adopt_check(const struct fg_compiler *c, const struct fg_adopt *a,
			  char *err, size_t errlen)
{
	struct fg_extent *ext;
	__u32 i, n = 0;
	int ret = 0;

	if (a->gen > 1)
		return fg_fail(err, errlen, -EINVAL, "generation %u", a->gen);
	for (i = 0; i < a->nsvcs; i++) {
		const struct fg_adopt_svc *s = &a->svcs[i];

		if (s->val.id >= c->opts.svc_max || s->key.gen != a->gen)
			return fg_fail(err, errlen, -EINVAL,
				       "service id %u: out of range or not of generation %u",
				       s->val.id, a->gen);
		if (s->val.ring_size &&
		    ((__u64)s->val.ring_off + s->val.ring_size >
		     c->opts.ring_slots))
			return fg_fail(err, errlen, -EINVAL,
				       "service id %u: ring %u+%u outside the ring array (%u slots)",
				       s->val.id, s->val.ring_off,
				       s->val.ring_size, c->opts.ring_slots);
	}
	for (i = 0; i < a->nbackends; i++)
		if (a->backends[i].id >= c->opts.backend_max)
			return fg_fail(err, errlen, -EINVAL,
				       "backend id %u: out of range",
				       a->backends[i].id);
	for (i = 0; i < a->nlimits; i++)
		if (a->limits[i].id >= c->opts.limit_max)
			return fg_fail(err, errlen, -EINVAL,
				       "limit id %u: out of range", a->limits[i].id);

	/* Ring slices must not overlap, or the next compile would place a
	 * new ring over a live one. */
	ext = calloc(a->nsvcs + 1, sizeof(*ext));
	if (!ext)
		return -ENOMEM;
	for (i = 0; i < a->nsvcs; i++) {
		if (!a->svcs[i].val.ring_size)
			continue;
		ext[n].off = a->svcs[i].val.ring_off;
		ext[n].len = a->svcs[i].val.ring_size;
		n++;
	}
	fg_qsort(ext, n, sizeof(*ext), fg_extent_cmp);
	for (i = 1; i < n; i++) {
		if ((__u64)ext[i - 1].off + ext[i - 1].len > ext[i].off) {
			ret = fg_fail(err, errlen, -EINVAL,
				      "ring slices at %u and %u overlap",
				      ext[i - 1].off, ext[i].off);
			break;
		}
	}
	free(ext);
	return ret;
}

int fg_compiler_adopt(struct fg_compiler *c, const struct fg_adopt *a,
		      char *err, size_t errlen)
{
	struct fg_compile_state st = { 0 };
	__u8 *svc_used = NULL, *be_used = NULL, *lim_used = NULL;
	__u32 i;
	int ret;

	if (!c || !a || (a->nsvcs && !a->svcs) ||
	    (a->nbackends && !a->backends) || (a->nlimits && !a->limits))
		return fg_fail(err, errlen, -EINVAL, "no state to adopt");
	if (c->serial)
		return fg_fail(err, errlen, -EBUSY,
			       "the compiler already holds a generation");
	ret = fg_adopt_check(c, a, err, errlen);
	if (ret)
		return ret;

	ret = -ENOMEM;
	svc_used = calloc(c->opts.svc_max, 1);
	be_used = calloc(c->opts.backend_max, 1);
	lim_used = calloc(c->opts.limit_max, 1);
	st.svcs = calloc(a->nsvcs + 1, sizeof(*st.svcs));
	st.bes = calloc(a->nbackends + 1, sizeof(*st.bes));
	st.lims = calloc(a->nlimits + 1, sizeof(*st.lims));
	if (!svc_used || !be_used || !lim_used || !st.svcs || !st.bes ||
	    !st.lims)
		goto err_free;

	ret = -EINVAL;
	for (i = 0; i < a->nsvcs; i++) {
		const struct fg_adopt_svc *s = &a->svcs[i];
		struct fg_cs_svc *cs = &st.svcs[i];

		if (svc_used[s->val.id]++) {
			fg_fail(err, errlen, ret, "service id %u: twice",
				s->val.id);
			goto err_free;
		}
		fg_adopt_name(cs->name, s->name, s->val.id);
		cs->id = s->val.id;
		cs->key = s->key;
		cs->ring_off = s->val.ring_size ? s->val.ring_off : 0;
		cs->ring_size = s->val.ring_size;
	}
	st.nsvcs = a->nsvcs;
	fg_qsort(st.svcs, st.nsvcs, sizeof(*st.svcs), fg_cs_svc_cmp);
	for (i = 1; i < st.nsvcs; i++)
		if (!fg_cmp_name(st.svcs[i - 1].name, st.svcs[i].name)) {
			fg_fail(err, errlen, ret, "service name %s: twice",
				st.svcs[i].name);
			goto err_free;
		}

	for (i = 0; i < a->nbackends; i++) {
		const struct fg_adopt_backend *b = &a->backends[i];
		struct fg_cs_be *cb = &st.bes[i];

		if (be_used[b->id]++) {
			fg_fail(err, errlen, ret, "backend id %u: twice", b->id);
			goto err_free;
		}
		cb->id = b->id;
		/* A backend whose service left the active generation (the
		 * previous control plane died between the switch and the
		 * clean-up) stays reserved until the next compile retires
		 * it; no service may match it. */
		cb->ident.svc_id = b->val.svc_id < c->opts.svc_max &&
				   svc_used[b->val.svc_id] ?
				   b->val.svc_id : FG_NO_BACKEND;
		cb->ident.family = b->val.family;
		cb->ident.port = fg_ntohs(b->val.port);
		memcpy(cb->ident.addr, b->val.addr, sizeof(cb->ident.addr));
	}
	st.nbes = a->nbackends;
	fg_qsort(st.bes, st.nbes, sizeof(*st.bes), fg_cs_be_cmp);

	for (i = 0; i < a->nlimits; i++) {
		const struct fg_adopt_limit *l = &a->limits[i];

		if (lim_used[l->id]++) {
			fg_fail(err, errlen, ret, "limit id %u: twice", l->id);
			goto err_free;
		}
		fg_adopt_name(st.lims[i].name, l->name, l->id);
		st.lims[i].id = l->id;
	}
	st.nlims = a->nlimits;
	fg_qsort(st.lims, st.nlims, sizeof(*st.lims), fg_cs_lim_cmp);
	for (i = 1; i < st.nlims; i++)
		if (!fg_cmp_name(st.lims[i - 1].name, st.lims[i].name)) {
			fg_fail(err, errlen, ret, "limit name %s: twice",
				st.lims[i].name);
			goto err_free;
		}

	/* Nothing can fail from here on. */
	fg_adopt_ids(&c->free_svc, svc_used);
	fg_adopt_ids(&c->free_be, be_used);
	fg_adopt_ids(&c->free_lim, lim_used);
	fg_state_clear(&c->cur);
	c->cur = st;
	c->cur.gen = a->gen;
	c->cur.version = a->version;
	c->serial++;
	ret = 0;
	goto out_free_used;

err_free:
	fg_state_clear(&st);
out_free_used:
	free(svc_used);
	free(be_used);
	free(lim_used);
	return ret;
}

/* ---------------------------------------------------------------------
 * Queries
 */

__u32 fg_compiler_gen(const struct fg_compiler *c)
{
	return c ? c->cur.gen : 0;
}

bool fg_compiled_current(const struct fg_compiler *c,
			 const struct fg_compiled *cp)
{
	return c && cp && cp->next && !cp->next->committed &&
	       cp->next->base_serial == c->serial;
}

void fg_compiled_set_version(struct fg_compiled *cp, uint64_t version)
{
	cp->version = version;
	cp->config.version = version;
	cp->next->version = version;
}

uint64_t fg_compiler_version(const struct fg_compiler *c)
{
	return c ? c->cur.version : 0;
}

const struct fg_compile_opts *fg_compiler_opts(const struct fg_compiler *c)
{
	return c ? &c->opts : NULL;
}

int fg_compiler_service_id(const struct fg_compiler *c, const char *name)
{
	const struct fg_cs_svc *s;

	if (!c || !name)
		return -EINVAL;
	s = fg_find_svc(&c->cur, name);
	return s && name[0] != '#' ? (int)s->id : -ENOENT;
}

const char *fg_compiler_service_name(const struct fg_compiler *c, __u32 id)
{
	__u32 i;

	if (!c)
		return NULL;
	for (i = 0; i < c->cur.nsvcs; i++)
		if (c->cur.svcs[i].id == id)
			return c->cur.svcs[i].name[0] == '#' ? NULL :
			       c->cur.svcs[i].name;
	return NULL;
}

int fg_compiler_limit_id(const struct fg_compiler *c, const char *name)
{
	const struct fg_cs_lim *l;

	if (!c || !name)
		return -EINVAL;
	l = fg_find_lim(&c->cur, name);
	return l && name[0] != '#' ? (int)l->id : -ENOENT;
}

const char *fg_compiler_limit_name(const struct fg_compiler *c, __u32 id)
{
	__u32 i;

	if (!c)
		return NULL;
	for (i = 0; i < c->cur.nlims; i++)
		if (c->cur.lims[i].id == id)
			return c->cur.lims[i].name[0] == '#' ? NULL :
			       c->cur.lims[i].name;
	return NULL;
}

int fg_compiler_backend_id(const struct fg_compiler *c, const char *svc,
			   const struct fg_addr *addr, uint16_t port)
{
	struct fg_rule_backend b = { .port = port };
	struct fg_be_ident id;
	const struct fg_cs_be *cb;
	int sid;

	if (!c || !svc || !addr || !fg_family_valid(addr->family))
		return -EINVAL;
	sid = fg_compiler_service_id(c, svc);
	if (sid < 0)
		return sid;
	b.addr = *addr;
	fg_be_ident_of(&id, (__u32)sid, &b);
	cb = fg_find_be(&c->cur, &id);
	return cb ? (int)cb->id : -ENOENT;
}
