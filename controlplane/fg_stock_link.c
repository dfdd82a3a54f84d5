/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * fg_stock_link.c - floodgated's claimers for floodgate-dpdk's seckill
 * engines, through stand-ins fed by the stock exchange (fg_stock_link.h).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <time.h>

#include <event2/event.h>

#include "fg_dpdk_ctl.h"
#include "fg_err.h"
#include "fg_seckill.h"
#include "fg_stock_link.h"

_Static_assert(FG_DPDK_CTL_ITEM_MAX == FG_ITEM_MAX,
	       "the exchange carries whole item names");

/* An item as the process last told, plus what was queued since. */
struct fg_sl_item {
	uint64_t granted;       /* the process's, plus pending */
	uint64_t admitted;
	uint64_t pending;       /* granted in ops not yet sent */
	uint64_t left;          /* stock left as last queued; NO_STOCK:
				 * never (then the rule's stock) */
	uint8_t len;
	uint8_t queued;         /* on the want queue */
	uint8_t gone;           /* the engine no longer has it */
	char name[FG_ITEM_MAX];
};

/* A stand-in for one engine: seckill rule `rule` on lcore `lcore`, of
 * lineage `epoch`. */
struct fg_sl_eng {
	TAILQ_ENTRY(fg_sl_eng) link;
	struct fg_stock_link *k;
	char rule[FG_NAME_MAX];
	uint32_t lcore;
	uint64_t epoch, stock, rate_milli, batch;
	bool seen;              /* in the last answer */
	bool attached;          /* its claimer drives it */
	uint32_t attached_cap;  /* cap when attached */
	struct fg_sl_item *items;
	uint32_t n, cap;
	uint32_t *slots;        /* by name: index + 1, 0 empty */
	uint32_t nslots;        /* a power of two, >= 2 x cap */
	uint32_t *wantq;        /* cap entries */
	uint32_t nwant;
};
TAILQ_HEAD(fg_sl_eng_list, fg_sl_eng);

/* Which stand-in item a queued op is for (NULL e: forgotten). */
struct fg_sl_ref {
	struct fg_sl_eng *e;
	uint32_t idx;
};

struct fg_stock_link {
	struct event_base *base;
	struct fg_stock_link_conf c;
	char prefix[FG_STOCK_PREFIX_MAX];
	char node[FG_STOCK_HOLDER_MAX];
	struct event *timer;
	struct fg_stock *claimer[FG_DPDK_CTL_LCORES_MAX];
	struct fg_sl_eng_list engs;
	struct fg_dpdk_ctl_stock q;   /* queued ops, then the answer */
	struct fg_sl_ref *refs;       /* one per queued op */
	uint32_t refs_cap;
	bool need_all;
	bool down;                    /* the last exchange failed */
	uint64_t note_at;             /* ms of the last note */
	uint64_t retry_at[FG_DPDK_CTL_LCORES_MAX]; /* a claimer, again */
	struct fg_stock_link_stats st;
};

/* Notes at most this often; a claimer that could not be made is tried
 * again this much later. */
#define FG_SL_NOTE_MS  10000u
#define FG_SL_RETRY_MS 1000u

static uint64_t fg_sl_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* A line for the log; `limited`: at most one per FG_SL_NOTE_MS of those
 * (a failure retried at every exchange says so once in a while). */
static void fg_sl_note(struct fg_stock_link *k, bool limited,
		       const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void fg_sl_note(struct fg_stock_link *k, bool limited,
		       const char *fmt, ...)
{
	char msg[512];
	uint64_t now = fg_sl_now_ms();
	va_list ap;

	if (!k->c.note)
		return;
	if (limited) {
		if (k->note_at && now - k->note_at < FG_SL_NOTE_MS)
			return;
		k->note_at = now;
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	k->c.note(k->c.arg, msg);
}

/* ------------------------------------------------------------- items */

static uint64_t fg_sl_hash(const char *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	while (n--)
		h = (h ^ (uint8_t)*p++) * 0x100000001b3ULL;
	return h;
}

/* The slot of name: its item's, or the empty one it would take. */
static uint32_t *fg_sl_slot(const struct fg_sl_eng *e, const char *name,
			    size_t len)
{
	uint32_t mask = e->nslots - 1, i = (uint32_t)fg_sl_hash(name, len) & mask;

	for (;; i = (i + 1) & mask) {
		uint32_t v = e->slots[i];
		const struct fg_sl_item *it;

		if (!v)
			return &e->slots[i];
		it = &e->items[v - 1];
		if (it->len == len && !memcmp(it->name, name, len))
			return &e->slots[i];
	}
}

/* Room for cap items (the table rebuilt). 0 or -ENOMEM. */
static int fg_sl_grow(struct fg_sl_eng *e, uint32_t cap)
{
	struct fg_sl_item *items;
	uint32_t *slots, *wantq, nslots = 16, i;

	while (nslots < 2 * cap)
		nslots *= 2;
	items = realloc(e->items, (size_t)cap * sizeof(*items));
	if (!items)
		return -ENOMEM;
	e->items = items;
	wantq = realloc(e->wantq, (size_t)cap * sizeof(*wantq));
	if (!wantq)
		return -ENOMEM;
	e->wantq = wantq;
	slots = calloc(nslots, sizeof(*slots));
	if (!slots)
		return -ENOMEM;
	free(e->slots);
	e->slots = slots;
	e->nslots = nslots;
	e->cap = cap;
	for (i = 0; i < e->n; i++)
		*fg_sl_slot(e, e->items[i].name, e->items[i].len) = i + 1;
	return 0;
}

static void fg_sl_want(struct fg_sl_eng *e, uint32_t idx)
{
	if (e->items[idx].queued)
		return;
	e->items[idx].queued = 1;
	e->wantq[e->nwant++] = idx;
}

/* Item a of an answer into e: added, or its counts as they are now. */
static void fg_sl_announced(struct fg_sl_eng *e,
			    const struct fg_dpdk_ctl_stock_item *a)
{
	uint32_t *slot, idx;
	struct fg_sl_item *it;

	if (!e->cap && fg_sl_grow(e, 64)) {
		e->k->st.items_dropped++;
		return;
	}
	slot = fg_sl_slot(e, a->name, a->len);
	if (*slot) {
		idx = *slot - 1;
	} else {
		if (e->n == e->cap) {
			uint32_t cap = e->cap ? e->cap * 2 : 64;

			if (cap > FG_STOCK_LINK_ITEMS_MAX)
				cap = FG_STOCK_LINK_ITEMS_MAX;
			if (e->n == cap || fg_sl_grow(e, cap)) {
				e->k->st.items_dropped++;
				return;
			}
			slot = fg_sl_slot(e, a->name, a->len);
		}
		idx = e->n++;
		it = &e->items[idx];
		memset(it, 0, sizeof(*it));
		it->len = a->len;
		memcpy(it->name, a->name, a->len);
		it->left = FG_SECKILL_NO_STOCK;
		*slot = idx + 1;
	}
	it = &e->items[idx];
	it->gone = 0;
	it->granted = a->granted + it->pending;
	it->admitted = a->admitted;
	if (a->wants ||
	    it->granted - it->admitted <= FG_STOCK_LOW_WATER(e->batch))
		fg_sl_want(e, idx);
}

/* ---------------------------------------------------- engine calls */

/* Queue op kind on e's item idx. 0 or -ENOMEM. */
static int fg_sl_queue(struct fg_sl_eng *e, uint32_t idx, uint8_t kind,
		       uint64_t expect, uint64_t n)
{
	struct fg_stock_link *k = e->k;
	struct fg_dpdk_ctl_stock *q = &k->q;
	const struct fg_sl_item *it = &e->items[idx];
	struct fg_dpdk_ctl_stock_op *o;

	if (fg_dpdk_ctl_stock_reserve(q, q->nops + 1, 0, 0))
		return -ENOMEM;
	if (q->nops + 1 > k->refs_cap) {
		uint32_t cap = q->ops_cap;
		struct fg_sl_ref *r = realloc(k->refs, cap * sizeof(*r));

		if (!r)
			return -ENOMEM;
		k->refs = r;
		k->refs_cap = cap;
	}
	o = &q->ops[q->nops];
	memset(o, 0, sizeof(*o));
	memcpy(o->rule, e->rule, FG_NAME_MAX);
	o->lcore = e->lcore;
	o->epoch = e->epoch;
	o->kind = kind;
	o->len = it->len;
	memcpy(o->item, it->name, it->len);
	o->expect = expect;
	o->n = n;
	k->refs[q->nops].e = e;
	k->refs[q->nops].idx = idx;
	q->nops++;
	return 0;
}

/* Item idx of e while the engine has it, else NULL. */
static struct fg_sl_item *fg_sl_at(const struct fg_sl_eng *e, uint32_t idx)
{
	return idx < e->n && !e->items[idx].gone ? &e->items[idx] : NULL;
}

static int fg_sl_grant(void *p, uint32_t idx, uint64_t n)
{
	struct fg_sl_eng *e = p;
	struct fg_sl_item *it = fg_sl_at(e, idx);
	int rc;

	if (!it)
		return -EINVAL;
	if (it->granted + n < it->granted)
		return -ERANGE;
	rc = fg_sl_queue(e, idx, FG_DPDK_CTL_STOCK_GRANT, it->granted, n);
	if (rc)
		return rc;
	it->granted += n;
	it->pending += n;
	e->k->st.grants++;
	return 0;
}

static int fg_sl_left(void *p, uint32_t idx, uint64_t left)
{
	struct fg_sl_eng *e = p;
	struct fg_sl_item *it = fg_sl_at(e, idx);
	int rc;

	if (!it)
		return -EINVAL;
	/* Sent every time (a few per second per busy item): an update
	 * lost with a failed exchange, or an item that came back afresh,
	 * is told again by the claimer's next read. */
	rc = fg_sl_queue(e, idx, FG_DPDK_CTL_STOCK_LEFT, 0, left);
	if (!rc)
		it->left = left;
	return rc;
}

static uint32_t fg_sl_wants(void *p, uint32_t *idx, uint32_t max)
{
	struct fg_sl_eng *e = p;
	uint32_t n = e->nwant < max ? e->nwant : max, i;

	for (i = 0; i < n; i++) {
		idx[i] = e->wantq[e->nwant - 1 - i];
		e->items[idx[i]].queued = 0;
	}
	e->nwant -= n;
	return n;
}

static uint32_t fg_sl_find(const void *p, const char *name, size_t len)
{
	const struct fg_sl_eng *e = p;
	uint32_t v;

	if (!e->nslots || len > FG_ITEM_MAX)
		return FG_SECKILL_NO_ITEM;
	v = *fg_sl_slot(e, name, len);
	return v && !e->items[v - 1].gone ? v - 1 : FG_SECKILL_NO_ITEM;
}

static const char *fg_sl_name(const void *p, uint32_t idx, size_t *len)
{
	const struct fg_sl_item *it = fg_sl_at(p, idx);

	if (!it)
		return NULL;
	*len = it->len;
	return it->name;
}

static int fg_sl_item(const void *p, uint32_t idx,
		      struct fg_seckill_item_stats *st)
{
	const struct fg_sl_eng *e = p;
	const struct fg_sl_item *it = fg_sl_at(e, idx);

	if (!it)
		return -EINVAL;
	memset(st, 0, sizeof(*st));
	st->admitted = it->admitted;
	st->allowance = it->granted - it->admitted;
	st->stock_left = it->left == FG_SECKILL_NO_STOCK ? e->stock : it->left;
	st->wants = it->queued;
	return 0;
}

static void fg_sl_stats(const void *p, struct fg_seckill_stats *st)
{
	const struct fg_sl_eng *e = p;

	memset(st, 0, sizeof(*st));
	st->items = e->n;
	st->items_max = e->cap;
	st->bytes = (size_t)e->cap * (sizeof(*e->items) + 4) +
		    (size_t)e->nslots * 4;
}

static const struct fg_stock_engine_ops fg_sl_ops = {
	.grant = fg_sl_grant,
	.set_stock_left = fg_sl_left,
	.wants = fg_sl_wants,
	.item_find = fg_sl_find,
	.item_name = fg_sl_name,
	.item_stats = fg_sl_item,
	.stats = fg_sl_stats,
};

/* ------------------------------------------------------- stand-ins */

/* Forget e's queued ops (e is going). */
static void fg_sl_unref(struct fg_stock_link *k, const struct fg_sl_eng *e)
{
	uint32_t i;

	for (i = 0; i < k->q.nops; i++)
		if (k->refs[i].e == e)
			k->refs[i].e = NULL;
}

static void fg_sl_eng_free(struct fg_stock_link *k, struct fg_sl_eng *e)
{
	fg_sl_unref(k, e);
	TAILQ_REMOVE(&k->engs, e, link);
	free(e->items);
	free(e->slots);
	free(e->wantq);
	free(e);
}

static struct fg_sl_eng *fg_sl_eng_find(struct fg_stock_link *k,
					const char *rule, uint32_t lcore)
{
	struct fg_sl_eng *e;

	TAILQ_FOREACH(e, &k->engs, link)
		if (e->lcore == lcore && !strcmp(e->rule, rule))
			return e;
	return NULL;
}

/* The claimer of lcore's holder, made on first use. */
static struct fg_stock *fg_sl_claimer(struct fg_stock_link *k, uint32_t lcore)
{
	char holder[FG_STOCK_HOLDER_MAX + 16], err[256];
	struct fg_stock_conf sc = {
		.prefix = k->prefix, .holder = holder,
		.poll_ms = k->c.claim_poll_ms,
		.inflight_max = k->c.inflight_max,
		.batch_ms = k->c.batch_ms, .batch_max = k->c.batch_max,
	};
	struct fg_etcd *etcd;

	if (k->claimer[lcore])
		return k->claimer[lcore];
	if (fg_sl_now_ms() < k->retry_at[lcore])
		return NULL;
	snprintf(holder, sizeof(holder), "%s.%u", k->node, lcore);
	etcd = k->c.etcd(k->c.arg);
	if (!etcd) {
		fg_sl_note(k, true, "stock: no store client for holder %s: %s",
			   holder, strerror(errno));
	} else {
		k->claimer[lcore] = fg_stock_new(k->base, etcd, &sc, err,
						 sizeof(err));
		if (!k->claimer[lcore])
			fg_sl_note(k, true, "stock: claimer for holder %s: %s",
				   holder, err);
	}
	if (!k->claimer[lcore])
		k->retry_at[lcore] = fg_sl_now_ms() + FG_SL_RETRY_MS;
	return k->claimer[lcore];
}

/* Attach e to its claimer (again, when it grew or its rule changed). */
static int fg_sl_attach(struct fg_stock_link *k, struct fg_sl_eng *e)
{
	struct fg_stock *s = fg_sl_claimer(k, e->lcore);
	struct fg_stock_rule_conf rc = {
		.name = e->rule, .stock = e->stock,
		.rate_milli = e->rate_milli, .batch = e->batch,
		.epoch = e->epoch,
	};
	char err[256];
	int ret;

	if (!s)
		return -ENOMEM;
	if (!e->cap && fg_sl_grow(e, 64))
		return -ENOMEM;
	ret = fg_stock_rule_attach(s, &rc, &fg_sl_ops, e, err, sizeof(err));
	if (ret) {
		fg_sl_note(k, true, "stock: rule %s on lcore %u: %s", e->rule,
			   e->lcore, err);
		return ret;
	}
	e->attached = true;
	e->attached_cap = e->cap;
	return 0;
}

/* One engine of the answer: its stand-in found, replaced (a new
 * lineage) or made, its items taken, attached as needed. */
static void fg_sl_engine(struct fg_stock_link *k,
			 const struct fg_dpdk_ctl_stock_eng *a,
			 const struct fg_dpdk_ctl_stock_item *items)
{
	struct fg_sl_eng *e, *old = NULL;
	bool conf;
	uint32_t i;

	if (a->lcore >= FG_DPDK_CTL_LCORES_MAX || !a->epoch ||
	    !a->stock || a->stock == FG_SECKILL_NO_STOCK)
		return;
	e = fg_sl_eng_find(k, a->rule, a->lcore);
	if (e && e->epoch != a->epoch) {
		old = e;
		e = NULL;
	}
	if (!e) {
		e = calloc(1, sizeof(*e));
		if (!e)
			return;
		e->k = k;
		memcpy(e->rule, a->rule, FG_NAME_MAX);
		e->lcore = a->lcore;
		e->epoch = a->epoch;
		TAILQ_INSERT_TAIL(&k->engs, e, link);
	}
	e->seen = true;
	conf = e->stock != a->stock || e->rate_milli != a->rate_milli ||
	       e->batch != a->batch;
	e->stock = a->stock;
	e->rate_milli = a->rate_milli;
	e->batch = a->batch;
	for (i = 0; i < a->nitems; i++)
		fg_sl_announced(e, &items[a->item_first + i]);
	/* A new stand-in is attached once it knows every item the engine
	 * holds (announced over one or more answers), so that the
	 * claimer's first read of the holder's records finds each item's
	 * counts and recovers what it can, rather than settling records
	 * of items it has not heard of yet as lost. */
	if (e->attached ? conf || e->cap != e->attached_cap :
	    e->n >= a->items) {
		if (fg_sl_attach(k, e))
			e->attached = false;
	}
	if (old) {
		/* Not replaced in its claimer: the claimer lets it go. */
		if (!e->attached && old->attached && k->claimer[old->lcore])
			fg_stock_rule_remove(k->claimer[old->lcore], old->rule);
		old->seen = true; /* freed here, not as unseen */
		fg_sl_eng_free(k, old);
	}
}

/* ------------------------------------------------------- exchange */

/* Op i's outcome into its item. */
static void fg_sl_result(struct fg_stock_link *k, uint32_t i)
{
	const struct fg_dpdk_ctl_stock_op *o = &k->q.ops[i];
	const struct fg_dpdk_ctl_stock_res *r = &k->q.res[i];
	struct fg_sl_eng *e = k->refs[i].e;
	struct fg_sl_item *it;

	if (!e)
		return;
	it = &e->items[k->refs[i].idx];
	if (o->kind == FG_DPDK_CTL_STOCK_GRANT)
		it->pending -= o->n;
	if (r->rc == -ENOENT) {
		it->gone = 1;
		return;
	}
	if (r->rc == -ESTALE)
		k->st.refused++;
	it->granted = r->granted + it->pending;
	it->admitted = r->admitted;
}

int fg_stock_link_exchange(struct fg_stock_link *k)
{
	struct fg_dpdk_ctl_stock *q = &k->q;
	uint32_t total = q->nops, sent, i;
	struct fg_sl_eng *e, *tmp;
	char err[256];
	int rc;

	sent = total < FG_DPDK_CTL_STOCK_OPS_MAX ? total :
		FG_DPDK_CTL_STOCK_OPS_MAX;
	q->nops = sent;
	q->all = k->need_all;
	err[0] = '\0';
	rc = k->c.exchange(k->c.arg, q, err, sizeof(err));
	k->st.exchanges++;
	if (rc == -ENOTCONN) {
		/* Nothing left: the ops wait for the process. */
		k->st.failures++;
		q->nops = total;
		return rc;
	}
	if (rc) {
		/* The sent ops' outcome is unknown: their items are told
		 * again once the process answers (all), and a grant that
		 * did land is refused if the claimer sends it again. */
		k->st.failures++;
		for (i = 0; i < sent; i++) {
			e = k->refs[i].e;
			if (e && q->ops[i].kind == FG_DPDK_CTL_STOCK_GRANT)
				e->items[k->refs[i].idx].pending -= q->ops[i].n;
		}
		k->need_all = true;
		/* Said once, and only while engines are fed: without any
		 * there is nothing to grant (a process still starting). */
		if (!k->down && k->st.engines)
			fg_sl_note(k, false, "stock: no exchange with floodgate-dpdk (%s); "
				   "allowance is granted again once it answers",
				   err[0] ? err : strerror(-rc));
		k->down = k->down || k->st.engines;
	} else {
		if (k->down)
			fg_sl_note(k, false, "stock: floodgate-dpdk answers again");
		k->down = false;
		k->need_all = false;
		for (i = 0; i < sent; i++)
			fg_sl_result(k, i);
	}
	/* What was not sent goes first next time. */
	if (total > sent) {
		memmove(q->ops, q->ops + sent,
			(size_t)(total - sent) * sizeof(*q->ops));
		memmove(k->refs, k->refs + sent,
			(size_t)(total - sent) * sizeof(*k->refs));
	}
	q->nops = total - sent;
	if (rc)
		return rc;
	TAILQ_FOREACH(e, &k->engs, link)
		e->seen = false;
	for (i = 0; i < q->nengs; i++)
		fg_sl_engine(k, &q->engs[i], q->items);
	k->st.engines = 0;
	for (e = TAILQ_FIRST(&k->engs); e; e = tmp) {
		tmp = TAILQ_NEXT(e, link);
		if (e->seen) {
			k->st.engines++;
			continue;
		}
		if (e->attached && k->claimer[e->lcore])
			fg_stock_rule_remove(k->claimer[e->lcore], e->rule);
		fg_sl_eng_free(k, e);
	}
	return 0;
}

static void fg_sl_tick(evutil_socket_t fd, short what, void *arg)
{
	struct fg_stock_link *k = arg;
	uint32_t ms;
	struct timeval tv;

	(void)fd;
	(void)what;
	fg_stock_link_exchange(k);
	ms = k->st.engines ? k->c.poll_ms : k->c.idle_ms;
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(k->timer, &tv);
}

void fg_stock_link_kick(struct fg_stock_link *k)
{
	struct timeval now = { 0, 0 };

	if (k)
		evtimer_add(k->timer, &now);
}

/* ------------------------------------------------------------- API */

struct fg_stock_link *fg_stock_link_new(struct event_base *base,
					const struct fg_stock_link_conf *c,
					char *err, size_t errlen)
{
	struct fg_stock_link *k;

	if (!base || !c || !c->etcd || !c->exchange || !c->prefix ||
	    !c->node || !c->node[0]) {
		fg_fail(err, errlen, -EINVAL,
			"stock link: base, prefix, node, etcd and exchange are required");
		errno = EINVAL;
		return NULL;
	}
	if (strlen(c->prefix) >= FG_STOCK_PREFIX_MAX ||
	    strlen(c->node) + 4 > FG_STOCK_HOLDER_MAX) {
		fg_fail(err, errlen, -EINVAL, "stock link: prefix or node too long");
		errno = EINVAL;
		return NULL;
	}
	k = calloc(1, sizeof(*k));
	if (!k) {
		fg_fail(err, errlen, -ENOMEM, "out of memory");
		return NULL;
	}
	k->base = base;
	k->c = *c;
	snprintf(k->prefix, sizeof(k->prefix), "%s", c->prefix);
	snprintf(k->node, sizeof(k->node), "%s", c->node);
	k->c.prefix = k->prefix;
	k->c.node = k->node;
	if (!k->c.poll_ms)
		k->c.poll_ms = FG_STOCK_LINK_POLL_MS_DEFAULT;
	if (!k->c.idle_ms)
		k->c.idle_ms = FG_STOCK_LINK_IDLE_MS_DEFAULT;
	TAILQ_INIT(&k->engs);
	k->need_all = true;
	k->timer = evtimer_new(base, fg_sl_tick, k);
	if (!k->timer) {
		free(k);
		fg_fail(err, errlen, -ENOMEM, "out of memory");
		errno = ENOMEM;
		return NULL;
	}
	fg_stock_link_kick(k);
	return k;
}

void fg_stock_link_free(struct fg_stock_link *k)
{
	struct fg_sl_eng *e;
	uint32_t l;

	if (!k)
		return;
	if (k->timer)
		event_free(k->timer);
	/* The claimers first: they call into the stand-ins. */
	for (l = 0; l < FG_DPDK_CTL_LCORES_MAX; l++)
		fg_stock_free(k->claimer[l]);
	while ((e = TAILQ_FIRST(&k->engs)))
		fg_sl_eng_free(k, e);
	fg_dpdk_ctl_stock_clear(&k->q);
	free(k->refs);
	free(k);
}

int fg_stock_link_rule_stats(const struct fg_stock_link *k, const char *name,
			     struct fg_stock_rule_stats *st)
{
	struct fg_stock_rule_stats one;
	bool found = false;
	uint32_t l;

	memset(st, 0, sizeof(*st));
	st->ready = true;
	for (l = 0; l < FG_DPDK_CTL_LCORES_MAX; l++) {
		if (!k->claimer[l] || fg_stock_rule_stats(k->claimer[l], name,
							  &one))
			continue;
		found = true;
		st->claims += one.claims;
		st->claimed += one.claimed;
		st->granted += one.granted;
		st->recovered += one.recovered;
		st->lost += one.lost;
		st->conflicts += one.conflicts;
		st->errors += one.errors;
		st->unknown += one.unknown;
		if (one.batch > st->batch)
			st->batch = one.batch;
		st->items += one.items;
		st->inflight += one.inflight;
		st->ready = st->ready && one.ready;
	}
	if (!found)
		memset(st, 0, sizeof(*st));
	return found ? 0 : -ENOENT;
}

void fg_stock_link_stats(const struct fg_stock_link *k,
			 struct fg_stock_link_stats *st)
{
	*st = k->st;
}
