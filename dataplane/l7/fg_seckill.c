/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * fg_seckill.c - flash-sale admission (fg_seckill.h): the build on the
 * control side, the judge on the worker, and what the two share.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fg_err.h"
#include "fg_seckill.h"
#include "fg_verdict.h"

/* Words of item name the hash keys: FG_ITEM_MAX bytes. */
#define FG_SK_HASH_WORDS ((FG_ITEM_MAX + 7u) / 8u)
/* Item table slots per item slot: load at most 1/4 keeps the longest
 * probe of a listed table short, and leaves a dynamic table room to place
 * every new item within FG_SECKILL_PROBE_MAX slots. */
#define FG_SK_SLOTS_PER_ITEM 4u
/* A listed table whose longest probe exceeds FG_SECKILL_PROBE_MAX is
 * rebuilt twice as large, at most this many times (a keyed hash makes
 * even one retry very unlikely). */
#define FG_SK_GROW_MAX 4u

enum fg_sk_mode {
	FG_SK_SINGLE = 1, /* no item spec: one item */
	FG_SK_LIST,       /* items: a fixed set */
	FG_SK_DYNAMIC,    /* max_items: slots taken as items appear */
};

struct fg_seckill {
	/* Read-only after fg_seckill_new: what every request reads. */
	uint64_t start_ns;
	uint64_t end_ns;             /* exclusive; UINT64_MAX: never */
	struct fg_tb_profile item_prof;
	uint64_t low_water;
	uint64_t stock;              /* FG_SECKILL_NO_STOCK: none */
	uint64_t *slots;             /* (tag << 32) | (idx + 1); 0: free */
	struct fg_seckill_item *items;
	char *names;
	uint64_t *wants;             /* one bit per item slot */
	struct fg_bucket_entry *clients;
	const struct fg_http_conf *http;
	uint32_t slot_mask;
	uint32_t probe;              /* slots a lookup reads at most */
	uint32_t items_max;          /* item slots */
	uint32_t names_cap;
	uint32_t client_slots;       /* 0: no per_client limit */
	uint8_t mode;                /* enum fg_sk_mode */
	uint8_t has_stock;
	uint8_t pad[2];
	struct fg_limit client_lim;  /* key, prefix, id, profile */
	struct fg_item item;
	struct fg_hash_seed seed;    /* client hash (fg_bucket_hash) */
	uint64_t hkey[FG_SK_HASH_WORDS + 1]; /* item name hash (NH) */

	/* Written by the worker alone. */
	uint32_t nitems;             /* item slots in use */
	uint32_t names_used;
	uint64_t reason[FG_SK_REASON_MAX];

	size_t bytes;
	struct fg_respond respond;
	struct fg_respond sold_out;
	struct fg_respond bad;
};

/* ------------------------------------------------------ shared fields */

/* One side writes each of these, the other reads: relaxed is enough (no
 * other data hangs on them); on x86 both are plain moves. */
static inline uint64_t fg_sk_load(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static inline void fg_sk_inc(uint64_t *p)
{
	__atomic_store_n(p, *p + 1, __ATOMIC_RELAXED);
}

/* ------------------------------------------------------------ names */

/*
 * fg_sk_hash - keyed hash of an item name: NH over its 64-bit words with
 * a key word per position (fg_nh_term, as the flow hash), the length in
 * the sum, then the finaliser. Keyed so that nobody can aim invented
 * items at one probe window.
 */
static inline uint64_t fg_sk_hash(const struct fg_seckill *e, const char *p,
				  size_t len)
{
	uint64_t h = e->hkey[FG_SK_HASH_WORDS] + len, w;
	size_t i, n = len / 8, r = len % 8;

	for (i = 0; i < n; i++) {
		memcpy(&w, p + 8 * i, 8);
		h += fg_nh_term((uint32_t)w, (uint32_t)(w >> 32), e->hkey[i]);
	}
	if (r) {
		w = 0;
		for (i = 0; i < r; i++)
			w |= (uint64_t)(uint8_t)p[8 * n + i] << (8 * i);
		h += fg_nh_term((uint32_t)w, (uint32_t)(w >> 32), e->hkey[n]);
	}
	return fg_hash_fmix64(h);
}

static inline int fg_sk_name_is(const struct fg_seckill *e,
				const struct fg_seckill_item *it,
				const char *p, size_t len)
{
	return it->name_len == len && !memcmp(e->names + it->name_off, p, len);
}

/*
 * fg_sk_find - the index of item p[0..len) in e, or FG_SECKILL_NO_ITEM;
 * *hole receives the first free slot of the probe window, or
 * e->slot_mask + 1 when there is none. order: the load's memory order
 * (the worker reads its own writes relaxed; the control side acquires
 * what the worker published).
 */
static inline uint32_t fg_sk_find(const struct fg_seckill *e, const char *p,
				  size_t len, uint64_t h, uint32_t *hole,
				  int order)
{
	uint32_t tag = (uint32_t)(h >> 32), at = (uint32_t)h, i, idx;
	uint64_t s;

	*hole = e->slot_mask + 1;
	for (i = 0; i < e->probe; i++) {
		uint32_t pos = (at + i) & e->slot_mask;

		s = __atomic_load_n(&e->slots[pos], order);
		if (!s) {
			*hole = pos;
			break;
		}
		if ((uint32_t)(s >> 32) != tag)
			continue;
		idx = (uint32_t)s - 1;
		if (fg_sk_name_is(e, &e->items[idx], p, len))
			return idx;
	}
	return FG_SECKILL_NO_ITEM;
}

/*
 * fg_sk_insert - give item p[0..len) (hash h) the next item slot, in
 * table slot `hole`. Returns its index, or FG_SECKILL_NO_ITEM when every
 * item slot or the name store is taken. The item's state is written
 * before the release store that publishes the table slot, so a control
 * thread that finds the slot sees a whole item. Worker (dynamic items) or
 * control side before the engine is published.
 */
static uint32_t fg_sk_insert(struct fg_seckill *e, const char *p, size_t len,
			     uint64_t h, uint32_t hole)
{
	struct fg_seckill_item *it;
	uint32_t idx = e->nitems;

	if (idx >= e->items_max || hole > e->slot_mask ||
	    len > e->names_cap - e->names_used)
		return FG_SECKILL_NO_ITEM;
	it = &e->items[idx];
	memset(it, 0, sizeof(*it));
	memcpy(e->names + e->names_used, p, len);
	it->name_off = e->names_used;
	it->name_len = (uint8_t)len;
	it->stock_left = e->stock;
	e->names_used += (uint32_t)len;
	__atomic_store_n(&e->slots[hole],
			 (h >> 32 << 32) | ((uint64_t)idx + 1),
			 __ATOMIC_RELEASE);
	__atomic_store_n(&e->nitems, idx + 1, __ATOMIC_RELEASE);
	return idx;
}

/* ------------------------------------------------------------ wants */

/* fg_sk_want - raise item idx's "wants more" signal. An atomic OR only
 * when the bit is clear: once per crossing, not once per request. */
static inline void fg_sk_want(struct fg_seckill *e, uint32_t idx)
{
	uint64_t *w = &e->wants[idx / 64], bit = 1ULL << (idx % 64);

	if (!(__atomic_load_n(w, __ATOMIC_RELAXED) & bit))
		__atomic_fetch_or(w, bit, __ATOMIC_RELAXED);
}

uint32_t fg_seckill_wants(struct fg_seckill *e, uint32_t *idx, uint32_t max)
{
	uint32_t n = 0, words, i, nitems;
	uint64_t w, taken;

	if (!e || !idx)
		return 0;
	nitems = __atomic_load_n(&e->nitems, __ATOMIC_ACQUIRE);
	words = (nitems + 63) / 64;
	for (i = 0; i < words && n < max; i++) {
		w = __atomic_load_n(&e->wants[i], __ATOMIC_RELAXED);
		taken = 0;
		while (w && n < max) {
			uint32_t b = (uint32_t)__builtin_ctzll(w);

			idx[n++] = i * 64 + b;
			taken |= 1ULL << b;
			w &= w - 1;
		}
		if (taken)
			__atomic_fetch_and(&e->wants[i], ~taken,
					   __ATOMIC_RELAXED);
	}
	return n;
}

/* ------------------------------------------------------------ judge */

/* fg_sk_answer - fill out with answer r (its head only for HEAD). */
static inline int fg_sk_answer(struct fg_seckill *e,
			       const struct fg_http_req *req,
			       const struct fg_respond *r, int verdict,
			       unsigned int reason, uint32_t item,
			       struct fg_verdict_l7 *out)
{
	fg_sk_inc(&e->reason[reason]);
	out->verdict = verdict;
	out->flags = 0;
	out->status = r->status;
	out->reason = (uint8_t)reason;
	out->item = item;
	out->resp = r->bytes;
	out->resp_len = req->method == FG_HTTP_HEAD ? r->head_len : r->len;
	return verdict;
}

/*
 * The item's bucket and the client's are judged on copies and written
 * back together: a request one of them refuses charges neither, so a
 * scalper refused by his own bucket spends none of the item's rate, and
 * an empty item bucket spends none of a buyer's. The refusing bucket's
 * copy is still written back: fg_tb_consume's one write on refusal pulls
 * a tat left far ahead by a clock step back to the window, and dropping
 * it would lock the bucket out until the clock caught up.
 */
int fg_seckill_judge(struct fg_seckill *e, const struct fg_http_req *req,
		     const struct fg_flow_key *client, uint64_t now,
		     struct fg_verdict_l7 *out)
{
	struct fg_bucket_entry *ce = NULL, *victim = NULL;
	struct fg_tb_state ist, cst = {0};
	struct fg_bucket_key bk;
	struct fg_seckill_item *it;
	char name[FG_ITEM_MAX];
	uint64_t allow = 0, h;
	uint32_t idx, hole;
	size_t len;
	int rc;

	if (req->result != FG_HTTP_COMPLETE ||
	    (e->http && req->conf != e->http))
		return -EINVAL;

	if (now < e->start_ns || now >= e->end_ns)
		return fg_sk_answer(e, req, &e->respond, FG_L7_SHED,
				    FG_SK_WINDOW, FG_SECKILL_NO_ITEM, out);

	if (e->mode == FG_SK_SINGLE) {
		idx = 0;
	} else {
		rc = fg_item_extract(&e->item, req, name, sizeof(name), &len);
		if (FG_UNLIKELY(rc == FG_ITEM_MISSING))
			return fg_sk_answer(e, req, &e->respond,
					    FG_L7_MISSING_ITEM,
					    FG_SK_MISSING_ITEM,
					    FG_SECKILL_NO_ITEM, out);
		if (FG_UNLIKELY(rc != FG_ITEM_OK))
			return fg_sk_answer(e, req, &e->bad, FG_L7_BAD_ITEM,
					    FG_SK_BAD_ITEM,
					    FG_SECKILL_NO_ITEM, out);
		h = fg_sk_hash(e, name, len);
		idx = fg_sk_find(e, name, len, h, &hole, __ATOMIC_RELAXED);
		if (idx == FG_SECKILL_NO_ITEM) {
			if (e->mode == FG_SK_LIST)
				return fg_sk_answer(e, req, &e->respond,
						    FG_L7_SHED,
						    FG_SK_UNKNOWN_ITEM,
						    FG_SECKILL_NO_ITEM, out);
			idx = fg_sk_insert(e, name, len, h, hole);
			if (idx == FG_SECKILL_NO_ITEM)
				return fg_sk_answer(e, req, &e->respond,
						    FG_L7_SHED,
						    FG_SK_TABLE_FULL,
						    FG_SECKILL_NO_ITEM, out);
		}
	}
	it = &e->items[idx];

	if (e->has_stock) {
		/* granted only grows and admitted only grows, and admitted
		 * never passes granted: the difference is what is held. */
		allow = fg_sk_load(&it->granted) - it->admitted;
		if (!allow) {
			if (!fg_sk_load(&it->stock_left)) {
				fg_sk_inc(&it->sold_out);
				return fg_sk_answer(e, req, &e->sold_out,
						    FG_L7_SOLD_OUT,
						    FG_SK_SOLD_OUT, idx, out);
			}
			fg_sk_want(e, idx);
			fg_sk_inc(&it->shed);
			return fg_sk_answer(e, req, &e->respond, FG_L7_SHED,
					    FG_SK_SHED_ALLOWANCE, idx, out);
		}
	}

	ist = it->tb;
	if (!fg_tb_consume(&e->item_prof, &ist, now, FG_SECKILL_MILLI)) {
		it->tb = ist;
		fg_sk_inc(&it->shed);
		return fg_sk_answer(e, req, &e->respond, FG_L7_SHED,
				    FG_SK_SHED_BUCKET, idx, out);
	}
	if (e->client_slots) {
		memset(&bk, 0, sizeof(bk));
		fg_bucket_key_fill(&bk, &e->client_lim, client, 0);
		ce = fg_bucket_probe_arr(e->clients, e->client_slots,
				     fg_bucket_hash(&bk, &e->seed), &bk, now,
				     &victim);
		if (ce)
			cst = ce->st;
		if (!fg_tb_consume(&e->client_lim.prof, &cst, now,
				   FG_SECKILL_MILLI)) {
			if (ce)
				ce->st = cst;
			fg_sk_inc(&it->shed);
			return fg_sk_answer(e, req, &e->respond, FG_L7_SHED,
					    FG_SK_SHED_CLIENT, idx, out);
		}
		if (!ce) {
			ce = victim;
			ce->key = bk;
		}
		ce->st = cst;
	}
	it->tb = ist;
	fg_sk_inc(&it->admitted);
	if (e->has_stock && allow - 1 <= e->low_water)
		fg_sk_want(e, idx);
	fg_sk_inc(&e->reason[FG_SK_ADMITTED]);
	out->verdict = FG_L7_ADMIT;
	out->flags = FG_L7_F_CONN_CLOSE;
	out->status = 0;
	out->reason = FG_SK_ADMITTED;
	out->item = idx;
	out->resp = NULL;
	out->resp_len = 0;
	return FG_L7_ADMIT;
}

/* ------------------------------------------------------ control side */

static struct fg_seckill_item *fg_sk_item_at(const struct fg_seckill *e,
					     uint32_t idx)
{
	if (!e || idx >= __atomic_load_n(&e->nitems, __ATOMIC_ACQUIRE))
		return NULL;
	return &e->items[idx];
}

int fg_seckill_grant(struct fg_seckill *e, uint32_t idx, uint64_t n)
{
	struct fg_seckill_item *it = fg_sk_item_at(e, idx);
	uint64_t g;

	if (!it || !e->has_stock)
		return -EINVAL;
	g = fg_sk_load(&it->granted);
	if (n > UINT64_MAX - g)
		return -ERANGE;
	__atomic_store_n(&it->granted, g + n, __ATOMIC_RELAXED);
	return 0;
}

int fg_seckill_set_stock_left(struct fg_seckill *e, uint32_t idx,
			      uint64_t left)
{
	struct fg_seckill_item *it = fg_sk_item_at(e, idx);

	if (!it || !e->has_stock)
		return -EINVAL;
	__atomic_store_n(&it->stock_left, left, __ATOMIC_RELAXED);
	return 0;
}

uint32_t fg_seckill_item_find(const struct fg_seckill *e, const char *name,
			      size_t len)
{
	uint32_t hole;

	if (!e || (!name && len) || len > FG_ITEM_MAX)
		return FG_SECKILL_NO_ITEM;
	return fg_sk_find(e, name, len, fg_sk_hash(e, name, len), &hole,
			  __ATOMIC_ACQUIRE);
}

const char *fg_seckill_item_name(const struct fg_seckill *e, uint32_t idx,
				 size_t *len)
{
	const struct fg_seckill_item *it = fg_sk_item_at(e, idx);

	if (!it)
		return NULL;
	if (len)
		*len = it->name_len;
	return e->names + it->name_off;
}

int fg_seckill_item_stats(const struct fg_seckill *e, uint32_t idx,
			  struct fg_seckill_item_stats *st)
{
	const struct fg_seckill_item *it = fg_sk_item_at(e, idx);
	uint64_t g, a;

	if (!it || !st)
		return -EINVAL;
	/* admitted first: granted read after it is at least as new, so the
	 * difference never wraps. */
	a = fg_sk_load(&it->admitted);
	g = fg_sk_load(&it->granted);
	st->admitted = a;
	st->shed = fg_sk_load(&it->shed);
	st->sold_out = fg_sk_load(&it->sold_out);
	st->allowance = e->has_stock && g > a ? g - a : 0;
	st->stock_left = fg_sk_load(&it->stock_left);
	st->wants = !!(__atomic_load_n(&e->wants[idx / 64], __ATOMIC_RELAXED) &
		       (1ULL << (idx % 64)));
	return 0;
}

void fg_seckill_stats(const struct fg_seckill *e, struct fg_seckill_stats *st)
{
	unsigned int r;

	memset(st, 0, sizeof(*st));
	if (!e)
		return;
	for (r = 0; r < FG_SK_REASON_MAX; r++)
		st->reason[r] = fg_sk_load(&e->reason[r]);
	st->items = __atomic_load_n(&e->nitems, __ATOMIC_ACQUIRE);
	st->items_max = e->items_max;
	st->bytes = e->bytes;
}

uint32_t fg_seckill_carry(struct fg_seckill *dst, const struct fg_seckill *src)
{
	const struct fg_seckill_item *s;
	struct fg_seckill_item *d;
	uint32_t i, idx, hole, n = 0;
	uint64_t h;

	if (!dst || !src)
		return 0;
	for (i = 0; i < src->nitems; i++) {
		s = &src->items[i];
		h = fg_sk_hash(dst, src->names + s->name_off, s->name_len);
		idx = fg_sk_find(dst, src->names + s->name_off, s->name_len,
				 h, &hole, __ATOMIC_RELAXED);
		if (idx == FG_SECKILL_NO_ITEM && dst->mode == FG_SK_DYNAMIC)
			idx = fg_sk_insert(dst, src->names + s->name_off,
					   s->name_len, h, hole);
		if (idx == FG_SECKILL_NO_ITEM)
			continue;
		d = &dst->items[idx];
		d->tb = s->tb;
		d->admitted = s->admitted;
		d->shed = s->shed;
		d->sold_out = s->sold_out;
		/* Allowance is granted - admitted: keep what src held; a
		 * rule that gains stock starts with none held. */
		d->granted = src->has_stock ? s->granted : s->admitted;
		if (src->has_stock && dst->has_stock)
			d->stock_left = s->stock_left;
		n++;
	}
	for (i = 0; i < FG_SK_REASON_MAX; i++)
		dst->reason[i] = src->reason[i];
	return n;
}

static const char *const fg_sk_reason_names[FG_SK_REASON_MAX] = {
	[FG_SK_ADMITTED] = "admitted",
	[FG_SK_SHED_BUCKET] = "shed_bucket",
	[FG_SK_SHED_CLIENT] = "shed_client",
	[FG_SK_SHED_ALLOWANCE] = "shed_allowance",
	[FG_SK_SOLD_OUT] = "sold_out",
	[FG_SK_WINDOW] = "window",
	[FG_SK_UNKNOWN_ITEM] = "unknown_item",
	[FG_SK_TABLE_FULL] = "table_full",
	[FG_SK_MISSING_ITEM] = "missing_item",
	[FG_SK_BAD_ITEM] = "bad_item",
};

const char *fg_seckill_reason_name(unsigned int r)
{
	return r < FG_SK_REASON_MAX ? fg_sk_reason_names[r] : "unknown";
}

/* ------------------------------------------------------------ build */

static const struct fg_respond_spec fg_sk_respond_default = {
	.status = 429, .retry_after = 1,
	.content_type = "text/plain; charset=utf-8",
	.body = "busy, try again\n", .body_len = 16,
};

static const struct fg_respond_spec fg_sk_sold_out_default = {
	.status = 410, .retry_after = -1,
	.content_type = "text/plain; charset=utf-8",
	.body = "sold out\n", .body_len = 9,
};

static const struct fg_respond_spec fg_sk_bad_item = {
	.status = FG_SECKILL_BAD_ITEM_STATUS, .retry_after = -1,
	.content_type = "text/plain; charset=utf-8",
	.body = "bad item\n", .body_len = 9,
};

void fg_seckill_free(struct fg_seckill *e)
{
	if (!e)
		return;
	free(e->slots);
	free(e->items);
	free(e->names);
	free(e->wants);
	free(e->clients);
	free(e);
}

/* fg_sk_pow2 - the least power of two >= n (n <= 2^31). */
static uint32_t fg_sk_pow2(uint32_t n)
{
	uint32_t p = 1;

	while (p < n)
		p <<= 1;
	return p;
}

/* fg_sk_alloc - zeroed, cache-line aligned n bytes (n a multiple of 64
 * or rounded up to one), counted in e->bytes; NULL on failure. */
static void *fg_sk_alloc(struct fg_seckill *e, size_t n)
{
	void *p;

	n = (n + 63) & ~(size_t)63;
	if (!n)
		n = 64;
	p = aligned_alloc(64, n);
	if (p) {
		memset(p, 0, n);
		e->bytes += n;
	}
	return p;
}

/* fg_sk_item_ok - 1 when an item name could come out of fg_item_extract:
 * 1..FG_ITEM_MAX bytes, none of them a control byte. */
static int fg_sk_item_ok(const char *p, size_t len)
{
	size_t i;

	if (!p || len == 0 || len > FG_ITEM_MAX)
		return 0;
	for (i = 0; i < len; i++)
		if ((uint8_t)p[i] < 0x20 || (uint8_t)p[i] == 0x7f)
			return 0;
	return 1;
}

/*
 * fg_sk_tables - allocate the item tables for items_max items, slots
 * table slots and names_cap name bytes, and the client table.
 */
static int fg_sk_tables(struct fg_seckill *e, uint32_t slots)
{
	e->slot_mask = slots - 1;
	e->slots = fg_sk_alloc(e, (size_t)slots * sizeof(*e->slots));
	e->items = fg_sk_alloc(e, (size_t)e->items_max * sizeof(*e->items));
	e->names = fg_sk_alloc(e, e->names_cap);
	e->wants = fg_sk_alloc(e, ((size_t)e->items_max + 63) / 64 * 8);
	if (!e->slots || !e->items || !e->names || !e->wants)
		return -ENOMEM;
	return 0;
}

/*
 * fg_sk_list - place the listed items; a table whose longest probe
 * exceeds FG_SECKILL_PROBE_MAX is rebuilt twice as large. Sets e->probe
 * to the longest probe, so a miss reads no more than a hit can.
 */
static int fg_sk_list(struct fg_seckill *e, const struct fg_seckill_conf *c,
		      char *err, size_t errlen)
{
	uint32_t slots = fg_sk_pow2(c->nitems * FG_SK_SLOTS_PER_ITEM);
	uint32_t i, j, grow, hole, longest, idx, dist;
	size_t len, base = e->bytes;
	uint64_t h;
	int rc;

	for (grow = 0; grow <= FG_SK_GROW_MAX; grow++, slots *= 2) {
		free(e->slots);
		free(e->items);
		free(e->names);
		free(e->wants);
		e->slots = NULL;
		e->items = NULL;
		e->names = NULL;
		e->wants = NULL;
		e->bytes = base;
		e->nitems = 0;
		e->names_used = 0;
		rc = fg_sk_tables(e, slots);
		if (rc)
			return fg_fail(err, errlen, rc, "items: out of memory");
		e->probe = FG_SECKILL_PROBE_MAX;
		longest = 0;
		for (i = 0; i < c->nitems; i++) {
			const char *p = c->items[i];

			len = c->item_lens ? c->item_lens[i] :
				(p ? strnlen(p, FG_ITEM_MAX + 1) : 0);
			h = fg_sk_hash(e, p, len);
			idx = fg_sk_find(e, p, len, h, &hole, __ATOMIC_RELAXED);
			if (idx != FG_SECKILL_NO_ITEM) {
				for (j = 0; j < i; j++) {
					size_t l2 = c->item_lens ?
						c->item_lens[j] :
						strlen(c->items[j]);

					if (l2 == len &&
					    !memcmp(c->items[j], p, len))
						break;
				}
				return fg_fail(err, errlen, -EINVAL,
					       "items[%u]: the same item as items[%u]",
					       i, j);
			}
			if (fg_sk_insert(e, p, len, h, hole) ==
			    FG_SECKILL_NO_ITEM)
				break; /* no hole within the window */
			dist = ((hole - (uint32_t)h) & e->slot_mask) + 1;
			if (dist > longest)
				longest = dist;
		}
		if (i == c->nitems) {
			e->probe = longest;
			return 0;
		}
	}
	return fg_fail(err, errlen, -ERANGE,
		       "items: no table of up to %u slots places them all",
		       slots / 2);
}

struct fg_seckill *fg_seckill_new(const struct fg_seckill_conf *c,
				  struct fg_http_conf *http,
				  const struct fg_hash_seed *seed, char *err,
				  size_t errlen)
{
	struct fg_seckill *e;
	const char *why = "bad spec";
	uint32_t i, hole;
	size_t len, names = 0;
	int rc = -EINVAL;

	if (!c || !seed) {
		fg_fail(err, errlen, -EINVAL, "no rule");
		goto fail_errno;
	}
	e = calloc(1, sizeof(*e));
	if (!e) {
		rc = fg_fail(err, errlen, -ENOMEM, "out of memory");
		goto fail_errno;
	}
	e->bytes = sizeof(*e);
	e->seed = *seed;
	/* The item hash's key: splitmix64 from the seed, so one secret keys
	 * both tables and neither key shows the other. */
	{
		uint64_t x = seed->k0 ^ seed->lane[2];

		for (i = 0; i <= FG_SK_HASH_WORDS; i++) {
			uint64_t z = (x += 0x9e3779b97f4a7c15ULL);

			z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
			z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
			e->hkey[i] = z ^ (z >> 31) ^ seed->k1;
		}
	}

	/* Window. */
	e->start_ns = c->start_ns;
	e->end_ns = c->end_ns ? c->end_ns : UINT64_MAX;
	if (e->end_ns <= e->start_ns) {
		rc = fg_fail(err, errlen, -EINVAL, "end: must be after start");
		goto fail;
	}

	/* Item bucket and stock. */
	if (c->burst_milli < FG_SECKILL_MILLI) {
		rc = fg_fail(err, errlen, -EINVAL,
			     "burst: this instance's share must hold one request");
		goto fail;
	}
	rc = fg_tb_profile_init(&e->item_prof, c->rate_milli, c->burst_milli);
	if (rc) {
		rc = fg_fail(err, errlen, rc, "rate: out of range");
		goto fail;
	}
	e->stock = c->stock;
	e->has_stock = c->stock != FG_SECKILL_NO_STOCK;
	e->low_water = c->low_water ? c->low_water :
		c->burst_milli / FG_SECKILL_MILLI;

	/* per_client. */
	if (c->client_key != FG_SECKILL_CLIENT_NONE) {
		if (c->client_key != FG_SECKILL_CLIENT_SRC_IP &&
		    c->client_key != FG_SECKILL_CLIENT_SRC_PREFIX) {
			rc = fg_fail(err, errlen, -EINVAL,
				     "per_client.key: must be src_ip or src_prefix/N");
			goto fail;
		}
		if (c->client_key == FG_SECKILL_CLIENT_SRC_PREFIX &&
		    (c->client_prefix_len < 1 || c->client_prefix_len > 128)) {
			rc = fg_fail(err, errlen, -EINVAL,
				     "per_client.key: prefix must be 1..128");
			goto fail;
		}
		if (c->client_burst_milli < FG_SECKILL_MILLI) {
			rc = fg_fail(err, errlen, -EINVAL,
				     "per_client.burst: this instance's share must hold one request");
			goto fail;
		}
		rc = fg_tb_profile_init(&e->client_lim.prof,
					c->client_rate_milli,
					c->client_burst_milli);
		if (rc) {
			rc = fg_fail(err, errlen, rc,
				     "per_client.rate: out of range");
			goto fail;
		}
		e->client_slots = c->client_slots ? c->client_slots :
			FG_SECKILL_CLIENT_SLOTS_DEFAULT;
		if (e->client_slots < FG_CT_WAYS ||
		    e->client_slots > FG_SECKILL_CLIENT_SLOTS_LIMIT ||
		    (e->client_slots & (e->client_slots - 1))) {
			rc = fg_fail(err, errlen, -EINVAL,
				     "per_client: table slots must be a power of two in %u..%u",
				     FG_CT_WAYS, FG_SECKILL_CLIENT_SLOTS_LIMIT);
			goto fail;
		}
		e->client_lim.key = c->client_key == FG_SECKILL_CLIENT_SRC_IP ?
			FG_LKEY_SRC_IP : FG_LKEY_SRC_PREFIX;
		e->client_lim.prefix_len = c->client_prefix_len;
		e->client_lim.id = c->id;
		e->clients = fg_sk_alloc(e, (size_t)e->client_slots *
					 sizeof(*e->clients));
		if (!e->clients) {
			rc = fg_fail(err, errlen, -ENOMEM, "out of memory");
			goto fail;
		}
	}

	/* Answers. */
	rc = fg_respond_build(&e->respond, c->respond ? c->respond :
			      &fg_sk_respond_default, "respond", err, errlen);
	if (!rc)
		rc = fg_respond_build(&e->sold_out, c->sold_out ? c->sold_out :
				      &fg_sk_sold_out_default, "sold_out",
				      err, errlen);
	if (!rc)
		rc = fg_respond_build(&e->bad, &fg_sk_bad_item, "item", err,
				      errlen);
	if (rc)
		goto fail;

	/* Items. */
	if (!c->item) {
		if (c->nitems || c->items) {
			rc = fg_fail(err, errlen, -EINVAL,
				     "items: needs item (how a request names one)");
			goto fail;
		}
		e->mode = FG_SK_SINGLE;
		e->items_max = 1;
		e->names_cap = 0;
		rc = fg_sk_tables(e, FG_SK_SLOTS_PER_ITEM);
		if (rc) {
			fg_fail(err, errlen, rc, "out of memory");
			goto fail;
		}
		e->probe = 1;
		fg_sk_find(e, "", 0, fg_sk_hash(e, "", 0), &hole,
			   __ATOMIC_RELAXED);
		fg_sk_insert(e, "", 0, fg_sk_hash(e, "", 0), hole);
		goto done;
	}
	rc = fg_item_parse(&e->item, c->item, strlen(c->item), http, &why);
	if (rc) {
		rc = fg_fail(err, errlen, rc, "item: %s",
			     rc == -ENOSPC ? "too many watched headers" : why);
		goto fail;
	}
	if (e->item.kind == FG_ITEM_HEADER && !http) {
		rc = fg_fail(err, errlen, -EINVAL,
			     "item: header items need the reader settings");
		goto fail;
	}
	if (c->nitems) {
		if (!c->items) {
			rc = fg_fail(err, errlen, -EINVAL, "items: missing");
			goto fail;
		}
		if (c->nitems > FG_SECKILL_ITEMS_LIMIT) {
			rc = fg_fail(err, errlen, -EINVAL,
				     "items: at most %u", FG_SECKILL_ITEMS_LIMIT);
			goto fail;
		}
		for (i = 0; i < c->nitems; i++) {
			const char *p = c->items[i];

			len = c->item_lens ? c->item_lens[i] :
				(p ? strnlen(p, FG_ITEM_MAX + 1) : 0);
			if (!fg_sk_item_ok(p, len)) {
				rc = fg_fail(err, errlen, -EINVAL,
					     "items[%u]: must be 1..%u bytes without control characters",
					     i, FG_ITEM_MAX);
				goto fail;
			}
			names += len;
		}
		e->mode = FG_SK_LIST;
		e->items_max = c->nitems;
		e->names_cap = (uint32_t)names;
		rc = fg_sk_list(e, c, err, errlen);
		if (rc)
			goto fail;
		goto done;
	}
	e->mode = FG_SK_DYNAMIC;
	e->items_max = c->max_items ? c->max_items :
		FG_SECKILL_MAX_ITEMS_DEFAULT;
	if (e->items_max > FG_SECKILL_ITEMS_LIMIT) {
		rc = fg_fail(err, errlen, -EINVAL, "max_items: at most %u",
			     FG_SECKILL_ITEMS_LIMIT);
		goto fail;
	}
	e->names_cap = c->name_bytes ? c->name_bytes :
		e->items_max * FG_SECKILL_NAME_AVG;
	if (e->names_cap < FG_ITEM_MAX) /* one item of any length fits */
		e->names_cap = FG_ITEM_MAX;
	e->probe = FG_SECKILL_PROBE_MAX;
	rc = fg_sk_tables(e, fg_sk_pow2(e->items_max * FG_SK_SLOTS_PER_ITEM));
	if (rc) {
		fg_fail(err, errlen, rc, "max_items: out of memory");
		goto fail;
	}
done:
	e->http = http;
	return e;
fail:
	fg_seckill_free(e);
fail_errno:
	errno = -rc;
	return NULL;
}
