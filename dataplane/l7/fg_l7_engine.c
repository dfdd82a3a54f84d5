/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * fg_l7_engine.c - one version's L7 engine over every lcore
 * (fg_l7_engine.h).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fg_err.h"
#include "fg_l7_engine.h"
#include "fg_verdict.h"

/* The answer of a route none of whose backends takes a connection. */
static const struct fg_respond_spec fg_l7_no_backend_spec = {
	.status = 503,
	.retry_after = 1,
	.body = "no backend of this route is available\n",
	.body_len = sizeof("no backend of this route is available\n") - 1,
};

/* Two counters, written by one lcore's worker. */
struct fg_l7_ctr {
	uint64_t a, b;
};

/* Lcore l's part: written by its worker alone. */
struct fg_l7_lcore {
	struct fg_l7_scratch *scratch;
	struct fg_seckill **seckill;      /* per rule */
	struct fg_l7_ctr *route;          /* forwarded, no_backend */
	struct fg_l7_ctr *limit;          /* passed, limited */
	struct fg_limit *lim;             /* per limit: its profile here */
	struct fg_bucket_entry *buckets;  /* rps buckets, all limits */
	bool carried;
} __attribute__((aligned(64)));

struct fg_l7_engine {
	const struct fg_l7_tables *t;
	const struct fg_l7_engine *prev;  /* what the plan is from */
	struct fg_http_conf http;         /* requests are read with it */
	struct fg_l7_matcher *m;
	uint32_t lcores;
	uint32_t limit_slots;             /* 0: no rps limits */
	struct fg_hash_seed seed;
	uint32_t *svc_lim;                /* limits by service: indexes */
	uint32_t *svc_lim_first;          /* nsvcs + 1 offsets */
	uint8_t *svc_dead;                /* per service: a route of it has
					   * no usable backend */
	uint32_t *sk_from;                /* fg_l7_carry_plan */
	int32_t *route_from, *limit_from; /* prev index by id, or -1 */
	struct fg_respond no_backend;
	size_t bytes;
	struct fg_l7_lcore *lc;
};

static inline void fg_l7_inc(uint64_t *p)
{
	__atomic_store_n(p, *p + 1, __ATOMIC_RELAXED);
}

static inline uint64_t fg_l7_load(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

/* ------------------------------------------------------------- build */

static void *fg_l7_alloc(struct fg_l7_engine *e, size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);

	if (p)
		e->bytes += (n ? n : 1) * size;
	return p;
}

void fg_l7_engine_free(struct fg_l7_engine *e)
{
	uint32_t l, r;

	if (!e)
		return;
	for (l = 0; e->lc && l < e->lcores; l++) {
		struct fg_l7_lcore *lc = &e->lc[l];

		fg_l7_scratch_free(lc->scratch);
		for (r = 0; lc->seckill && r < e->t->nseckill; r++)
			fg_seckill_free(lc->seckill[r]);
		free(lc->seckill);
		free(lc->route);
		free(lc->limit);
		free(lc->lim);
		free(lc->buckets);
	}
	free(e->lc);
	fg_l7_matcher_free(e->m);
	free(e->svc_lim);
	free(e->svc_lim_first);
	free(e->svc_dead);
	free(e->sk_from);
	free(e->route_from);
	free(e->limit_from);
	free(e);
}

/* Limits by service, in the tables' order (by name); which services
 * have a route without a usable backend. */
static int fg_l7_engine_svc_limits(struct fg_l7_engine *e)
{
	const struct fg_l7_tables *t = e->t;
	uint32_t i, s, n = 0;

	e->svc_lim = fg_l7_alloc(e, t->nlimits, sizeof(*e->svc_lim));
	e->svc_lim_first = fg_l7_alloc(e, t->nsvcs + 1,
				       sizeof(*e->svc_lim_first));
	if (!e->svc_lim || !e->svc_lim_first)
		return -ENOMEM;
	for (s = 0; s < t->nsvcs; s++) {
		e->svc_lim_first[s] = n;
		for (i = 0; i < t->nlimits; i++)
			if (t->limits[i].svc == s)
				e->svc_lim[n++] = i;
	}
	e->svc_lim_first[t->nsvcs] = n;
	e->svc_dead = fg_l7_alloc(e, t->nsvcs, sizeof(*e->svc_dead));
	if (!e->svc_dead)
		return -ENOMEM;
	for (i = 0; i < t->nroutes; i++)
		if (!t->routes[i].ring_size)
			e->svc_dead[t->routes[i].svc] = 1;
	return 0;
}

/* What carries from prev: seckill engines by fg_l7_carry_plan, route and
 * limit counters by id. */
static int fg_l7_engine_plan(struct fg_l7_engine *e)
{
	const struct fg_l7_tables *t = e->t, *pt = e->prev->t;
	size_t n = (size_t)t->nseckill * e->lcores;
	uint32_t i;

	e->sk_from = fg_l7_alloc(e, n, sizeof(*e->sk_from));
	e->route_from = fg_l7_alloc(e, t->nroutes, sizeof(*e->route_from));
	e->limit_from = fg_l7_alloc(e, t->nlimits, sizeof(*e->limit_from));
	if (!e->sk_from || !e->route_from || !e->limit_from)
		return -ENOMEM;
	if (fg_l7_carry_plan(pt, t, e->sk_from, n) < 0)
		return -EINVAL;
	for (i = 0; i < t->nroutes; i++) {
		int p = fg_l7_find_route(pt, t->routes[i].id);

		e->route_from[i] = p >= 0 &&
			!strcmp(pt->routes[p].name, t->routes[i].name) ? p : -1;
	}
	for (i = 0; i < t->nlimits; i++) {
		int p = fg_l7_find_limit(pt, t->limits[i].id);

		e->limit_from[i] = p >= 0 &&
			!strcmp(pt->limits[p].name, t->limits[i].name) ? p : -1;
	}
	return 0;
}

static int fg_l7_engine_lcore(struct fg_l7_engine *e, uint32_t l, char *err,
			      size_t errlen)
{
	const struct fg_l7_tables *t = e->t;
	struct fg_l7_lcore *lc = &e->lc[l];
	char why[256];
	uint32_t r;

	lc->scratch = fg_l7_scratch_new(e->m, err, errlen);
	if (!lc->scratch)
		return -ENOMEM;
	lc->seckill = fg_l7_alloc(e, t->nseckill, sizeof(*lc->seckill));
	lc->route = fg_l7_alloc(e, t->nroutes, sizeof(*lc->route));
	lc->limit = fg_l7_alloc(e, t->nlimits, sizeof(*lc->limit));
	lc->lim = fg_l7_alloc(e, t->nlimits, sizeof(*lc->lim));
	if (!lc->seckill || !lc->route || !lc->limit || !lc->lim)
		return fg_fail(err, errlen, -ENOMEM, "out of memory");
	if (e->limit_slots) {
		lc->buckets = fg_l7_alloc(e, e->limit_slots,
					  sizeof(*lc->buckets));
		if (!lc->buckets)
			return fg_fail(err, errlen, -ENOMEM, "out of memory");
	}
	for (r = 0; r < t->nlimits; r++) {
		lc->lim[r] = t->limits[r].lim;
		lc->lim[r].prof = t->limits[r].prof[l];
		lc->lim[r].id = t->limits[r].id;
	}
	for (r = 0; r < t->nseckill; r++) {
		struct fg_seckill_stats st;

		lc->seckill[r] = fg_seckill_new(&t->seckill[r].conf[l],
						&e->http, &e->seed, why,
						sizeof(why));
		if (!lc->seckill[r])
			return fg_fail(err, errlen, errno ? -errno : -EINVAL,
				       "seckill.%s: %s", t->seckill[r].name,
				       why);
		fg_seckill_stats(lc->seckill[r], &st);
		e->bytes += st.bytes;
	}
	return 0;
}

struct fg_l7_engine *fg_l7_engine_new(const struct fg_l7_tables *t,
				      const struct fg_l7_engine *prev,
				      const struct fg_l7_engine_conf *conf,
				      const struct fg_hash_seed *seed,
				      char *err, size_t errlen)
{
	struct fg_l7_engine *e;
	uint32_t l, slots = conf ? conf->limit_slots : 0;
	int rc;

	if (!t || !seed) {
		fg_fail(err, errlen, -EINVAL, "no tables or no seed");
		return NULL;
	}
	if (!slots)
		slots = FG_L7_LIMIT_SLOTS_DEFAULT;
	if (slots < FG_CT_WAYS || slots > FG_L7_LIMIT_SLOTS_MAX ||
	    (slots & (slots - 1))) {
		fg_fail(err, errlen, -EINVAL,
			"limit_slots: must be a power of two in %u..%u",
			FG_CT_WAYS, FG_L7_LIMIT_SLOTS_MAX);
		return NULL;
	}
	e = calloc(1, sizeof(*e));
	if (!e) {
		fg_fail(err, errlen, -ENOMEM, "out of memory");
		return NULL;
	}
	e->bytes = sizeof(*e);
	e->t = t;
	e->prev = prev;
	e->lcores = t->layout.lcores;
	e->limit_slots = t->nlimits ? slots : 0;
	e->seed = *seed;
	e->http = t->http;
	if (fg_respond_build(&e->no_backend, &fg_l7_no_backend_spec,
			     "no_backend", err, errlen))
		goto fail;
	e->m = fg_l7_matcher_load(t->blob, t->blob_len, t->nsvcs, &e->http,
				  err, errlen);
	if (!e->m)
		goto fail;
	e->lc = aligned_alloc(64, (size_t)e->lcores * sizeof(*e->lc));
	if (!e->lc) {
		fg_fail(err, errlen, -ENOMEM, "out of memory");
		goto fail;
	}
	memset(e->lc, 0, (size_t)e->lcores * sizeof(*e->lc));
	e->bytes += (size_t)e->lcores * sizeof(*e->lc);
	rc = fg_l7_engine_svc_limits(e);
	if (!rc && prev)
		rc = fg_l7_engine_plan(e);
	if (rc) {
		fg_fail(err, errlen, rc, rc == -ENOMEM ? "out of memory" :
			"the running engine's tables do not carry into these");
		goto fail;
	}
	for (l = 0; l < e->lcores; l++)
		if (fg_l7_engine_lcore(e, l, err, errlen))
			goto fail;
	return e;
fail:
	fg_l7_engine_free(e);
	return NULL;
}

int fg_l7_engine_carry(struct fg_l7_engine *next, struct fg_l7_engine *prev,
		       uint32_t lcore)
{
	const struct fg_l7_tables *t;
	struct fg_l7_lcore *nl, *pl;
	struct fg_bucket_entry *b;
	uint32_t r, from;
	int carried = 0;

	if (!next || !prev || next->prev != prev || lcore >= next->lcores)
		return -EINVAL;
	nl = &next->lc[lcore];
	if (nl->carried)
		return -EINVAL;
	nl->carried = true;
	if (lcore >= prev->lcores)
		return 0;
	pl = &prev->lc[lcore];
	t = next->t;
	for (r = 0; r < t->nseckill; r++) {
		from = next->sk_from[(size_t)r * next->lcores + lcore];
		if (from == FG_L7_NEW)
			continue;
		carried += (int)fg_seckill_carry(nl->seckill[r],
			pl->seckill[from / prev->lcores]);
	}
	for (r = 0; r < t->nroutes; r++)
		if (next->route_from[r] >= 0)
			nl->route[r] = pl->route[next->route_from[r]];
	for (r = 0; r < t->nlimits; r++)
		if (next->limit_from[r] >= 0)
			nl->limit[r] = pl->limit[next->limit_from[r]];
	/* The buckets move whole: keys hold the limit id, which stays with
	 * the limit; a gone limit's entries refill and are taken over. */
	if (nl->buckets && pl->buckets &&
	    next->limit_slots == prev->limit_slots) {
		b = nl->buckets;
		nl->buckets = pl->buckets;
		pl->buckets = b;
	}
	return carried;
}

const struct fg_http_conf *fg_l7_engine_http(const struct fg_l7_engine *e)
{
	return &e->http;
}

const struct fg_l7_tables *fg_l7_engine_tables(const struct fg_l7_engine *e)
{
	return e->t;
}

size_t fg_l7_engine_bytes(const struct fg_l7_engine *e)
{
	return e->bytes;
}

/* ------------------------------------------------------------- judge */

static inline int fg_l7_answer(struct fg_l7_decision *out,
			       const struct fg_http_req *req,
			       const struct fg_respond *r, uint8_t by)
{
	out->action = FG_L7_ANSWER;
	out->by = by;
	out->status = r->status;
	out->resp = r->bytes;
	out->resp_len = req->method == FG_HTTP_HEAD ? r->head_len : r->len;
	return FG_L7_ANSWER;
}

/*
 * The service's rps limits: FG_L7_FORWARD when every one passes (out's
 * flags say whether one counted the request), else the refusal. The
 * walk and the bucket arithmetic are the L4 limits' (fg_verdict.h),
 * at one request (FG_SECKILL_MILLI) a time.
 */
static inline int fg_l7_limits(struct fg_l7_engine *e, struct fg_l7_lcore *lc,
			       uint32_t svc, const struct fg_http_req *req,
			       const struct fg_flow_key *client, uint64_t now,
			       struct fg_l7_decision *out)
{
	const struct fg_l7_tables *t = e->t;
	uint32_t i;

	for (i = e->svc_lim_first[svc]; i < e->svc_lim_first[svc + 1]; i++) {
		uint32_t k = e->svc_lim[i];
		const struct fg_limit *lim = &lc->lim[k];
		struct fg_bucket_key bk;
		int ok;

		if (!fg_limit_matches(lim, client))
			continue;
		memset(&bk, 0, sizeof(bk));
		/* A limit of an l7 service is that service's alone: its id in
		 * the key is enough (key service: one bucket per limit), and
		 * no service index, which moves between versions, goes in. */
		fg_bucket_key_fill(&bk, lim, client, 0);
		ok = fg_bucket_charge_arr(lc->buckets, e->limit_slots,
					  fg_bucket_hash(&bk, &e->seed), &bk,
					  &lim->prof, now, FG_SECKILL_MILLI);
		out->flags |= FG_L7_F_CONN_CLOSE;
		if (ok) {
			fg_l7_inc(&lc->limit[k].a);
			continue;
		}
		fg_l7_inc(&lc->limit[k].b);
		if (lim->flags & FG_LIM_F_DRY_RUN)
			continue;
		out->limit = (int32_t)k;
		out->flags = 0;
		if (lim->action == FG_LACT_RESPOND)
			return fg_l7_answer(out, req, &t->limits[k].respond,
					    FG_L7_BY_LIMIT);
		out->by = FG_L7_BY_LIMIT;
		out->action = lim->action == FG_LACT_RESET ? FG_L7_RESET :
							     FG_L7_CLOSE;
		return out->action;
	}
	return FG_L7_FORWARD;
}

/* Route r's 503: none of its backends takes a connection. */
static inline int fg_l7_no_backend(struct fg_l7_engine *e,
				   struct fg_l7_lcore *lc,
				   const struct fg_http_req *req, int r,
				   struct fg_l7_decision *out)
{
	fg_l7_inc(&lc->route[r].b);
	out->route = r;
	out->flags = 0;
	return fg_l7_answer(out, req, &e->no_backend, FG_L7_BY_ROUTE);
}

int fg_l7_judge(struct fg_l7_engine *e, uint32_t lcore, uint32_t svc,
		const struct fg_http_req *req, const struct fg_flow_key *client,
		uint64_t hash, uint64_t now, struct fg_l7_decision *out)
{
	struct fg_l7_lcore *lc;
	struct fg_verdict_l7 v;
	int rc, r, be, route = FG_ROUTE_NONE;
	bool scanned = false;

	if (lcore >= e->lcores || svc >= e->t->nsvcs ||
	    req->result != FG_HTTP_COMPLETE || req->conf != &e->http)
		return -EINVAL;
	lc = &e->lc[lcore];
	memset(out, 0, sizeof(*out));
	out->limit = out->seckill = out->route = out->backend = -1;
	out->item = FG_SECKILL_NO_ITEM;

	if (e->svc_lim_first[svc] != e->svc_lim_first[svc + 1]) {
		rc = fg_l7_limits(e, lc, svc, req, client, now, out);
		if (rc != FG_L7_FORWARD)
			return rc;
	}

	/* A service with a route that has no usable backend matches routes
	 * first, so that a request that route takes is answered 503 before
	 * a seckill rule spends stock on it. Elsewhere the route scan comes
	 * last, after the shed answers. */
	if (e->svc_dead[svc]) {
		route = fg_l7_route(e->m, lc->scratch, svc, req);
		scanned = true;
		if (route >= 0 && !e->t->routes[route].ring_size)
			return fg_l7_no_backend(e, lc, req, route, out);
	}

	if (e->t->svcs[svc].nseckill) {
		r = fg_l7_seckill_rule(e->m, lc->scratch, svc, req);
		if (r >= 0) {
			out->seckill = r;
			fg_seckill_judge(lc->seckill[r], req, client, now, &v);
			out->reason = v.reason;
			out->item = v.item;
			if (v.verdict != FG_L7_ADMIT) {
				out->action = FG_L7_ANSWER;
				out->by = FG_L7_BY_SECKILL;
				out->flags = 0;
				out->status = v.status;
				out->resp = v.resp;
				out->resp_len = v.resp_len;
				return FG_L7_ANSWER;
			}
			out->flags |= v.flags;
		}
	}

	if (!scanned && e->t->svcs[svc].nroutes)
		route = fg_l7_route(e->m, lc->scratch, svc, req);
	if (route >= 0) {
		be = fg_l7_route_backend(e->t, (uint32_t)route, hash);
		if (be < 0)
			return fg_l7_no_backend(e, lc, req, route, out);
		out->route = route;
		out->backend = be;
		fg_l7_inc(&lc->route[route].a);
	}
	out->action = FG_L7_FORWARD;
	return FG_L7_FORWARD;
}

/* ------------------------------------------------------------- stats */

int fg_l7_engine_route_stats(const struct fg_l7_engine *e, uint32_t r,
			     struct fg_l7_route_stats *st)
{
	uint32_t l;

	if (!e || !st || r >= e->t->nroutes)
		return -EINVAL;
	memset(st, 0, sizeof(*st));
	for (l = 0; l < e->lcores; l++) {
		st->forwarded += fg_l7_load(&e->lc[l].route[r].a);
		st->no_backend += fg_l7_load(&e->lc[l].route[r].b);
	}
	return 0;
}

int fg_l7_engine_limit_stats(const struct fg_l7_engine *e, uint32_t k,
			     struct fg_l7_limit_stats *st)
{
	uint32_t l;

	if (!e || !st || k >= e->t->nlimits)
		return -EINVAL;
	memset(st, 0, sizeof(*st));
	for (l = 0; l < e->lcores; l++) {
		st->passed += fg_l7_load(&e->lc[l].limit[k].a);
		st->limited += fg_l7_load(&e->lc[l].limit[k].b);
	}
	return 0;
}

int fg_l7_engine_seckill_stats(const struct fg_l7_engine *e, uint32_t r,
			       struct fg_seckill_stats *st)
{
	struct fg_seckill_stats one;
	uint32_t l, k;

	if (!e || !st || r >= e->t->nseckill)
		return -EINVAL;
	memset(st, 0, sizeof(*st));
	for (l = 0; l < e->lcores; l++) {
		fg_seckill_stats(e->lc[l].seckill[r], &one);
		for (k = 0; k < FG_SK_REASON_MAX; k++)
			st->reason[k] += one.reason[k];
		st->items += one.items;
		st->items_max += one.items_max;
		st->bytes += one.bytes;
	}
	return 0;
}

int fg_l7_engine_item_stats(const struct fg_l7_engine *e, uint32_t r,
			    const char *name, size_t len,
			    struct fg_seckill_item_stats *st)
{
	struct fg_seckill_item_stats one;
	bool found = false;
	uint32_t l, idx;

	if (!e || !st || !name || r >= e->t->nseckill)
		return -EINVAL;
	memset(st, 0, sizeof(*st));
	for (l = 0; l < e->lcores; l++) {
		const struct fg_seckill *sk = e->lc[l].seckill[r];

		idx = fg_seckill_item_find(sk, name, len);
		if (idx == FG_SECKILL_NO_ITEM ||
		    fg_seckill_item_stats(sk, idx, &one))
			continue;
		found = true;
		st->admitted += one.admitted;
		st->shed += one.shed;
		st->sold_out += one.sold_out;
		st->allowance += one.allowance;
		if (one.stock_left > st->stock_left)
			st->stock_left = one.stock_left;
		st->wants |= one.wants;
	}
	return found ? 0 : -ENOENT;
}

struct fg_seckill *fg_l7_engine_seckill(struct fg_l7_engine *e, uint32_t r,
					uint32_t lcore)
{
	if (!e || r >= e->t->nseckill || lcore >= e->lcores)
		return NULL;
	return e->lc[lcore].seckill[r];
}
