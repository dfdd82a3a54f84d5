/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * fg_dpdk_l7.c - the process's L7 engine per pushed set (fg_dpdk_l7.h).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "fg_dpdk_l7.h"
#include "fg_err.h"
#include "fg_l7_compile.h"
#include "fg_l7_ship.h"
#include "fg_stock.h"

_Static_assert(FG_DPDK_CTL_SK_REASONS == FG_SK_REASON_MAX,
	       "STATS carries every seckill reason");
_Static_assert(FG_DPDK_CTL_ITEM_MAX == FG_ITEM_MAX,
	       "STATS carries whole item names");

/* A running or pending version: its tables and engine; per engine
 * (seckill rule r on lcore l: r * lcores + l) its stock lineage and the
 * next item slot to announce (fg_dpdk_l7_stock); the seckill rules by
 * name. */
struct fg_dpdk_l7_ver {
	struct fg_l7_tables *t;
	struct fg_l7_engine *e;
	uint64_t *epoch;
	uint32_t *from;       /* fg_l7_carry_plan from the version before */
	uint32_t *announce;
	uint32_t *by_name;
};

struct fg_dpdk_l7 {
	uint32_t lcores;
	struct fg_hash_seed seed;
	struct fg_dpdk_l7_ver run, next;
	bool pending;
};

static void fg_dpdk_l7_ver_free(struct fg_dpdk_l7_ver *v)
{
	free(v->epoch);
	free(v->from);
	free(v->announce);
	free(v->by_name);
	fg_l7_engine_free(v->e);
	fg_l7_tables_free(v->t);
	memset(v, 0, sizeof(*v));
}

struct fg_dpdk_l7 *fg_dpdk_l7_new(uint32_t lcores,
				  const struct fg_hash_seed *seed)
{
	struct fg_dpdk_l7 *x;

	if (!lcores || lcores > FG_L7_LCORES_MAX || !seed) {
		errno = EINVAL;
		return NULL;
	}
	x = calloc(1, sizeof(*x));
	if (!x)
		return NULL;
	x->lcores = lcores;
	x->seed = *seed;
	return x;
}

void fg_dpdk_l7_free(struct fg_dpdk_l7 *x)
{
	if (!x)
		return;
	fg_dpdk_l7_ver_free(&x->next);
	fg_dpdk_l7_ver_free(&x->run);
	free(x);
}

/* Sort seckill rule indexes by name (qsort_r's context). */
static int fg_dpdk_l7_name_cmp(const void *a, const void *b, void *arg)
{
	const struct fg_l7_tables *t = arg;

	return strcmp(t->seckill[*(const uint32_t *)a].name,
		      t->seckill[*(const uint32_t *)b].name);
}

/*
 * v's stock lineages: an engine that carries from the running one
 * (fg_l7_carry_plan) keeps its epoch (fg_dpdk_l7_commit gives it a new
 * one after all when an item did not carry), any other starts one;
 * every item of v is to be announced.
 */
static int fg_dpdk_l7_lineage(struct fg_dpdk_l7 *x, struct fg_dpdk_l7_ver *v,
			      char *err, size_t errlen)
{
	size_t n = (size_t)v->t->nseckill * x->lcores, i;

	v->epoch = calloc(n ? n : 1, sizeof(*v->epoch));
	v->from = calloc(n ? n : 1, sizeof(*v->from));
	v->announce = calloc(n ? n : 1, sizeof(*v->announce));
	v->by_name = calloc(v->t->nseckill ? v->t->nseckill : 1,
			    sizeof(*v->by_name));
	if (!v->epoch || !v->from || !v->announce || !v->by_name ||
	    fg_l7_carry_plan(x->run.t, v->t, v->from, n) < 0)
		return fg_fail(err, errlen, -ENOMEM, "out of memory");
	for (i = 0; i < n; i++)
		v->epoch[i] = v->from[i] != FG_L7_NEW && x->run.epoch ?
			x->run.epoch[v->from[i]] : fg_stock_epoch_new();
	for (i = 0; i < v->t->nseckill; i++)
		v->by_name[i] = (uint32_t)i;
	qsort_r(v->by_name, v->t->nseckill, sizeof(*v->by_name),
		fg_dpdk_l7_name_cmp, v->t);
	return 0;
}

int fg_dpdk_l7_prepare(struct fg_dpdk_l7 *x, const struct fg_dpdk_ctl_set *set,
		       const struct fg_dpdk_ctl_set *held, char *err,
		       size_t errlen)
{
	struct fg_l7_layout lay = { .lcores = x->lcores, .nodes = 1,
				    .batch = fg_stock_batch };
	struct fg_dpdk_l7_ver *v = &x->next;
	const void *rules, *blob;
	size_t rn, bn;
	int rc;

	fg_dpdk_l7_abort(x);
	if (!fg_dpdk_ctl_set_l7_get(set, &rules, &rn, &blob, &bn))
		return x->run.e ? (x->pending = true) : 0;
	if (x->run.e && fg_dpdk_ctl_set_l7_same(held, set))
		return 0;
	rc = fg_l7_ship_tables(rules, rn, blob, bn, &lay, x->run.t,
			       set->version, &v->t, err, errlen);
	if (!rc) {
		v->e = fg_l7_engine_new(v->t, x->run.e, NULL, &x->seed, err,
					errlen);
		if (!v->e)
			rc = -EINVAL; /* the reason is in err */
	}
	if (!rc)
		rc = fg_dpdk_l7_lineage(x, v, err, errlen);
	if (rc) {
		fg_dpdk_l7_ver_free(v);
		return rc;
	}
	x->pending = true;
	return 1;
}

/*
 * After the carry: an engine keeps its lineage only if every item of the
 * one it carried from is in it, counters and all. An item that did not
 * carry (dropped from `items`, or no room in a smaller table) would
 * start again from 0 if it came back, under the same epoch - and a
 * claimer that never saw its counts drop (floodgated restarted meanwhile)
 * would grant its old record again. A new epoch instead: the claimer
 * settles what the old lineage held and starts afresh (fg_stock.h).
 */
static void fg_dpdk_l7_unbroken(struct fg_dpdk_l7 *x)
{
	size_t n = (size_t)x->next.t->nseckill * x->lcores, i;
	uint32_t l, idx;

	for (i = 0; i < n; i++) {
		const struct fg_seckill *src, *dst;
		struct fg_seckill_stats st;
		const char *name;
		size_t len;

		if (x->next.from[i] == FG_L7_NEW)
			continue;
		l = (uint32_t)(i % x->lcores);
		src = fg_l7_engine_seckill(x->run.e,
					   x->next.from[i] / x->lcores, l);
		dst = fg_l7_engine_seckill(x->next.e,
					   (uint32_t)(i / x->lcores), l);
		fg_seckill_stats(src, &st);
		for (idx = 0; idx < st.items; idx++) {
			name = fg_seckill_item_name(src, idx, &len);
			if (name && fg_seckill_item_find(dst, name, len) ==
			    FG_SECKILL_NO_ITEM) {
				x->next.epoch[i] = fg_stock_epoch_new();
				break;
			}
		}
	}
}

void fg_dpdk_l7_commit(struct fg_dpdk_l7 *x)
{
	uint32_t l;

	if (!x->pending)
		return;
	if (x->next.e && x->run.e) {
		for (l = 0; l < x->lcores; l++)
			fg_l7_engine_carry(x->next.e, x->run.e, l);
		fg_dpdk_l7_unbroken(x);
	}
	fg_dpdk_l7_ver_free(&x->run);
	x->run = x->next;
	memset(&x->next, 0, sizeof(x->next));
	x->pending = false;
}

void fg_dpdk_l7_abort(struct fg_dpdk_l7 *x)
{
	fg_dpdk_l7_ver_free(&x->next);
	x->pending = false;
}

struct fg_l7_engine *fg_dpdk_l7_engine(const struct fg_dpdk_l7 *x)
{
	return x ? x->run.e : NULL;
}

/* An item name in an lcore's table (sorted to find each item once). */
struct fg_item_ref {
	const char *name;
	size_t len;
};

static int fg_item_ref_cmp(const void *a, const void *b)
{
	const struct fg_item_ref *x = a, *y = b;

	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	return memcmp(x->name, y->name, x->len);
}

/*
 * Rule r's items, each once over the lcores (each lcore's table takes the
 * items its requests name, so one item may live on several), into
 * items[n..], at most max in all: the names sorted, then each distinct
 * one summed over the lcores. Returns how many it added (*cut set when
 * it had more), or -ENOMEM.
 */
static int fg_dpdk_l7_items(const struct fg_l7_engine *e, uint32_t r,
			    uint32_t lcores, struct fg_dpdk_ctl_l7_item *items,
			    uint32_t n, uint32_t max, bool *cut)
{
	struct fg_l7_engine *me = (struct fg_l7_engine *)e;
	struct fg_item_ref *refs;
	size_t nrefs = 0, total = 0, k;
	uint32_t l, idx, added = 0, *count;

	count = calloc(lcores, sizeof(*count));
	if (!count)
		return -ENOMEM;
	for (l = 0; l < lcores; l++) {
		struct fg_seckill_stats st;

		fg_seckill_stats(fg_l7_engine_seckill(me, r, l), &st);
		count[l] = st.items;
		total += st.items;
	}
	refs = calloc(total + 1, sizeof(*refs));
	if (!refs) {
		free(count);
		return -ENOMEM;
	}
	/* Items only ever join a table: the first count[l] are there (a
	 * table the worker grew since is read up to its count). */
	for (l = 0; l < lcores; l++) {
		const struct fg_seckill *sk = fg_l7_engine_seckill(me, r, l);

		for (idx = 0; idx < count[l]; idx++) {
			refs[nrefs].name = fg_seckill_item_name(sk, idx,
								&refs[nrefs].len);
			if (refs[nrefs].name)
				nrefs++;
		}
	}
	free(count);
	qsort(refs, nrefs, sizeof(*refs), fg_item_ref_cmp);
	for (k = 0; k < nrefs; k++) {
		struct fg_seckill_item_stats is;
		struct fg_dpdk_ctl_l7_item *it;

		if (k && !fg_item_ref_cmp(&refs[k], &refs[k - 1]))
			continue;
		if (fg_l7_engine_item_stats(e, r, refs[k].name, refs[k].len,
					    &is))
			continue;
		if (n + added >= max) {
			*cut = true;
			break;
		}
		it = &items[n + added++];
		memcpy(it->name, refs[k].name, refs[k].len);
		it->len = (uint32_t)refs[k].len;
		it->admitted = is.admitted;
		it->shed = is.shed;
		it->sold_out = is.sold_out;
		it->allowance = is.allowance;
		it->stock_left = is.stock_left;
	}
	free(refs);
	return (int)added;
}

int fg_dpdk_l7_collect(const struct fg_dpdk_l7 *x,
		       struct fg_dpdk_ctl_counters *c)
{
	const struct fg_l7_engine *e = fg_dpdk_l7_engine(x);
	const struct fg_l7_tables *t;
	struct fg_dpdk_ctl_l7_counters *o;
	uint32_t i, l, k, nitems = 0, n = 0;
	int added;

	if (!e)
		return 0;
	t = fg_l7_engine_tables(e);
	/* Room for every item slot in use, up to the bound. */
	for (i = 0; i < t->nseckill; i++)
		for (l = 0; l < x->lcores; l++) {
			struct fg_seckill_stats st;

			fg_seckill_stats(fg_l7_engine_seckill(
				(struct fg_l7_engine *)e, i, l), &st);
			nitems += st.items;
			if (nitems > FG_DPDK_CTL_ITEMS_MAX)
				nitems = FG_DPDK_CTL_ITEMS_MAX;
		}
	o = fg_dpdk_ctl_l7_counters_new(t->nroutes, t->nlimits, t->nseckill,
					nitems);
	if (!o)
		return -ENOMEM;
	for (i = 0; i < t->nroutes; i++) {
		struct fg_l7_route_stats st;

		memcpy(o->routes[i].name, t->routes[i].name, FG_NAME_MAX);
		fg_l7_engine_route_stats(e, i, &st);
		o->routes[i].forwarded = st.forwarded;
		o->routes[i].no_backend = st.no_backend;
	}
	for (i = 0; i < t->nlimits; i++) {
		struct fg_l7_limit_stats st;

		memcpy(o->limits[i].name, t->limits[i].name, FG_NAME_MAX);
		fg_l7_engine_limit_stats(e, i, &st);
		o->limits[i].passed = st.passed;
		o->limits[i].limited = st.limited;
	}
	for (i = 0; i < t->nseckill; i++) {
		struct fg_dpdk_ctl_l7_rule *r = &o->rules[i];
		struct fg_seckill_stats st;

		memcpy(r->name, t->seckill[i].name, FG_NAME_MAX);
		fg_l7_engine_seckill_stats(e, i, &st);
		for (k = 0; k < FG_SK_REASON_MAX; k++)
			r->reason[k] = st.reason[k];
		r->items = st.items;
		r->items_max = st.items_max;
		r->item_first = n;
		added = fg_dpdk_l7_items(e, i, x->lcores, o->items, n, nitems,
					 &r->items_cut);
		if (added < 0) {
			fg_dpdk_ctl_l7_counters_free(o);
			return added;
		}
		r->nitems = (uint32_t)added;
		n += r->nitems;
	}
	o->nitems = n;
	c->l7 = o;
	return 0;
}

/* ------------------------------------------------------------- stock */

/* The running version's seckill rule of that name, or -1. */
static long fg_dpdk_l7_rule(const struct fg_dpdk_l7_ver *v, const char *name)
{
	size_t lo = 0, hi = v->t ? v->t->nseckill : 0;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(name, v->t->seckill[v->by_name[mid]].name);

		if (!c)
			return v->by_name[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return -1;
}

/* One op on the running engines; fills its result. */
static void fg_dpdk_l7_op(struct fg_dpdk_l7 *x,
			  const struct fg_dpdk_ctl_stock_op *o,
			  struct fg_dpdk_ctl_stock_res *res)
{
	const struct fg_dpdk_l7_ver *v = &x->run;
	struct fg_seckill_item_stats st;
	struct fg_seckill *sk;
	long r = fg_dpdk_l7_rule(v, o->rule);
	uint32_t idx;

	memset(res, 0, sizeof(*res));
	res->rc = -ENOENT;
	if (r < 0 || o->lcore >= x->lcores)
		return;
	if (v->epoch[(size_t)r * x->lcores + o->lcore] != o->epoch)
		return; /* that lineage is gone */
	sk = fg_l7_engine_seckill(v->e, (uint32_t)r, o->lcore);
	idx = sk ? fg_seckill_item_find(sk, o->item, o->len) :
		FG_SECKILL_NO_ITEM;
	if (idx == FG_SECKILL_NO_ITEM || fg_seckill_item_stats(sk, idx, &st))
		return;
	if (o->kind == FG_DPDK_CTL_STOCK_GRANT) {
		res->rc = st.admitted + st.allowance != o->expect ? -ESTALE :
			fg_seckill_grant(sk, idx, o->n);
	} else {
		res->rc = fg_seckill_set_stock_left(sk, idx, o->n);
	}
	fg_seckill_item_stats(sk, idx, &st);
	res->granted = st.admitted + st.allowance;
	res->admitted = st.admitted;
}

/* Item idx of sk as an answer's entry. */
static void fg_dpdk_l7_item(const struct fg_seckill *sk, uint32_t idx,
			    bool wants, struct fg_dpdk_ctl_stock_item *it)
{
	struct fg_seckill_item_stats st;
	const char *name;
	size_t len = 0;

	memset(it, 0, sizeof(*it));
	name = fg_seckill_item_name(sk, idx, &len);
	if (name && len <= sizeof(it->name))
		memcpy(it->name, name, len);
	it->len = (uint8_t)len;
	fg_seckill_item_stats(sk, idx, &st);
	it->wants = wants || st.wants;
	it->granted = st.admitted + st.allowance;
	it->admitted = st.admitted;
}

int fg_dpdk_l7_stock(struct fg_dpdk_l7 *x, struct fg_dpdk_ctl_stock *q)
{
	const struct fg_dpdk_l7_ver *v = &x->run;
	const struct fg_l7_tables *t = v->t;
	uint32_t i, r, l, idx[256], n, k, left = FG_DPDK_CTL_STOCK_ITEMS_MAX;
	uint32_t nengs = 0;
	size_t e;

	for (i = 0; v->e && i < t->nseckill; i++)
		if (t->seckill[i].conf[0].stock != FG_SECKILL_NO_STOCK)
			nengs += x->lcores;
	if (fg_dpdk_ctl_stock_reserve(q, q->nops, nengs,
				      FG_DPDK_CTL_STOCK_ITEMS_MAX))
		return -ENOMEM;
	for (i = 0; i < q->nops; i++)
		fg_dpdk_l7_op(x, &q->ops[i], &q->res[i]);
	q->nengs = q->nitems = 0;
	for (r = 0; v->e && r < t->nseckill; r++) {
		const struct fg_l7_seckill *rule = &t->seckill[r];

		if (rule->conf[0].stock == FG_SECKILL_NO_STOCK)
			continue;
		for (l = 0; l < x->lcores; l++) {
			struct fg_dpdk_ctl_stock_eng *o = &q->engs[q->nengs++];
			struct fg_seckill *sk = fg_l7_engine_seckill(v->e, r, l);
			struct fg_seckill_stats st;

			e = (size_t)r * x->lcores + l;
			if (q->all)
				v->announce[e] = 0;
			fg_seckill_stats(sk, &st);
			memcpy(o->rule, rule->name, FG_NAME_MAX);
			o->lcore = l;
			o->epoch = v->epoch[e];
			o->stock = rule->conf[l].stock;
			o->rate_milli = rule->conf[l].rate_milli;
			o->batch = rule->batch[l];
			o->items = st.items;
			o->items_max = st.items_max;
			o->item_first = q->nitems;
			/* The signals first: they are what claims wait on. */
			while (left && (n = fg_seckill_wants(sk, idx,
					left < 256 ? left : 256))) {
				for (k = 0; k < n; k++)
					fg_dpdk_l7_item(sk, idx[k], true,
							&q->items[q->nitems++]);
				left -= n;
			}
			for (; left && v->announce[e] < st.items; left--)
				fg_dpdk_l7_item(sk, v->announce[e]++, false,
						&q->items[q->nitems++]);
			o->nitems = q->nitems - o->item_first;
		}
	}
	return 0;
}
