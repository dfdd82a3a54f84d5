/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * fg_stock.c - the stock claimer (fg_stock.h): batches of stock claimed
 * from etcd with compare-and-swap and granted to seckill engines.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>

#include "fg_err.h"
#include "fg_etcd.h"
#include "fg_seckill.h"
#include "fg_stock.h"

/* A key: prefix + "/stock/" + rule + "/holders/" + holder + "/" + an
 * item of FG_ITEM_MAX bytes, each encoded in at most 3. */
#define FG_STOCK_KEY_MAX (FG_STOCK_PREFIX_MAX + 80u + FG_STOCK_HOLDER_MAX + \
			  3u * FG_ITEM_MAX + 16u)
/* A value: two or three decimal 64-bit numbers and their names. */
#define FG_STOCK_VALUE_MAX 128u
/* Signals taken from fg_seckill_wants per call. */
#define FG_STOCK_WANTS_CHUNK 256u
/* Items waiting out a backoff sit in a timing wheel of 1 ms slots that
 * spans more than the longest backoff, so a tick touches only the items
 * due (a store outage puts every item there at once). */
#define FG_STOCK_WHEEL 8192u
_Static_assert(FG_STOCK_WHEEL > FG_STOCK_ERR_BACKOFF_MAX_MS &&
	       FG_STOCK_WHEEL > FG_STOCK_BACKOFF_MAX_MS,
	       "the wheel spans every backoff");
/* The characters an encoded item starts with (fg_stock_key_item): the
 * children a full page of records is split into. */
static const char fg_stock_key_chars[] =
	"%-.0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz~";

struct fg_stock_rule;

struct fg_stock_item {
	TAILQ_ENTRY(fg_stock_item) link;    /* rule's items (all) */
	TAILQ_ENTRY(fg_stock_item) qlink;   /* s->ready or a wheel slot */
	struct fg_stock_rule *r;
	uint32_t idx;            /* in r->engine; FG_SECKILL_NO_ITEM: none */
	uint8_t queued;          /* on s->ready */
	uint8_t waiting;         /* on a wheel slot (backoff) */
	uint8_t inflight;
	uint8_t g_known, rec_known;
	uint8_t newline;         /* start a new lineage for this item */
	uint32_t breaks;         /* times newline was set (fg_stock_break) */
	uint8_t bad;             /* a value in the store is malformed */
	uint32_t conflicts;      /* in a row */
	uint32_t errs;           /* in a row */
	uint64_t retry_at;       /* ms, monotonic */
	/* The store, as last read or written. */
	int64_t g_mod;
	uint64_t g_claimed, g_lost;
	int64_t rec_mod;
	uint64_t rec_epoch, rec_claimed, rec_admitted;
	/* The engine's granted after the claimer's last look or grant: an
	 * engine version whose granted is lower did not carry the item. */
	uint64_t eng_granted;
	/* In flight: what the transaction writes. */
	uint64_t tx_n, tx_loss, tx_claimed, tx_admitted;
	uint64_t tx_gclaimed, tx_glost;   /* items/I as written */
	uint64_t tx_epoch;                /* the record's epoch as written */
	uint32_t tx_breaks;               /* breaks when it was sent */
	uint8_t name_len;
	char name[];
};
TAILQ_HEAD(fg_stock_item_list, fg_stock_item);

/* A prefix of holder records still to read (fg_stock_read). */
struct fg_stock_pfx {
	TAILQ_ENTRY(fg_stock_pfx) link;
	char key[];
};
TAILQ_HEAD(fg_stock_pfx_list, fg_stock_pfx);

struct fg_stock_rule {
	TAILQ_ENTRY(fg_stock_rule) link;
	struct fg_stock *s;
	char name[64];
	char gpfx[FG_STOCK_PREFIX_MAX + 96];   /* P/stock/R/items/ */
	char hpfx[FG_STOCK_PREFIX_MAX + 96 + FG_STOCK_HOLDER_MAX];
	void *engine;               /* NULL once removed */
	const struct fg_stock_engine_ops *ops; /* engine's */
	uint64_t stock, batch, epoch;
	bool prime;
	bool removed;
	bool ready;                 /* records read */
	bool reading;               /* a read in flight */
	bool reread;                /* read again when it lands */
	uint32_t refs;              /* requests in flight */
	struct fg_stock_item **by_idx;   /* items_max slots */
	uint32_t by_idx_n;
	uint32_t unmapped;          /* items without a slot in engine */
	struct fg_stock_item_list items;
	struct fg_stock_pfx_list pfx;
	uint32_t read_errs;
	uint64_t read_at;
	struct fg_stock_rule_stats st;
};
TAILQ_HEAD(fg_stock_rule_list, fg_stock_rule);

struct fg_stock {
	struct event_base *base;
	struct fg_etcd *etcd;
	struct event *tick;
	char prefix[FG_STOCK_PREFIX_MAX + 1];
	char holder[FG_STOCK_HOLDER_MAX + 1];
	uint32_t poll_ms, inflight_max, batch_ms;
	uint64_t batch_max;
	uint32_t inflight;
	uint32_t rnd;
	struct fg_stock_rule_list rules;
	struct fg_stock_rule_list zombies; /* removed, requests in flight */
	struct fg_stock_item_list ready;
	struct fg_stock_item_list *wheel;  /* FG_STOCK_WHEEL slots */
	uint64_t wheel_at;                 /* ms: slots before it are done */
};

static void fg_stock_dispatch(struct fg_stock *s);

/* ------------------------------------------------------------ helpers */

static uint64_t fg_stock_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ------------------------------------------------- a local engine */

static int fg_stock_l_grant(void *e, uint32_t idx, uint64_t n)
{
	return fg_seckill_grant(e, idx, n);
}

static int fg_stock_l_left(void *e, uint32_t idx, uint64_t left)
{
	return fg_seckill_set_stock_left(e, idx, left);
}

static uint32_t fg_stock_l_wants(void *e, uint32_t *idx, uint32_t max)
{
	return fg_seckill_wants(e, idx, max);
}

static uint32_t fg_stock_l_find(const void *e, const char *name, size_t len)
{
	return fg_seckill_item_find(e, name, len);
}

static const char *fg_stock_l_name(const void *e, uint32_t idx, size_t *len)
{
	return fg_seckill_item_name(e, idx, len);
}

static int fg_stock_l_item(const void *e, uint32_t idx,
			   struct fg_seckill_item_stats *st)
{
	return fg_seckill_item_stats(e, idx, st);
}

static void fg_stock_l_stats(const void *e, struct fg_seckill_stats *st)
{
	fg_seckill_stats(e, st);
}

static const struct fg_stock_engine_ops fg_stock_local = {
	.grant = fg_stock_l_grant,
	.set_stock_left = fg_stock_l_left,
	.wants = fg_stock_l_wants,
	.item_find = fg_stock_l_find,
	.item_name = fg_stock_l_name,
	.item_stats = fg_stock_l_item,
	.stats = fg_stock_l_stats,
};

int fg_stock_rule_set(struct fg_stock *s, const struct fg_stock_rule_conf *rc,
		      struct fg_seckill *engine, char *err, size_t errlen)
{
	return fg_stock_rule_attach(s, rc, &fg_stock_local, engine, err,
				    errlen);
}

static int fg_stock_unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		(c >= '0' && c <= '9') || c == '.' || c == '_' || c == '~' ||
		c == '-';
}

int fg_stock_key_item(char *buf, size_t size, const char *name, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0, i;

	if (!len) {
		if (size < 2)
			return -ENAMETOOLONG;
		buf[0] = '%';
		buf[1] = '\0';
		return 1;
	}
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (fg_stock_unreserved(c)) {
			if (o + 2 > size)
				return -ENAMETOOLONG;
			buf[o++] = (char)c;
		} else {
			if (o + 4 > size)
				return -ENAMETOOLONG;
			buf[o++] = '%';
			buf[o++] = hex[c >> 4];
			buf[o++] = hex[c & 15];
		}
	}
	buf[o] = '\0';
	return (int)o;
}

static int fg_stock_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* fg_stock_key_decode - the item an encoded key component names, into
 * out (FG_ITEM_MAX bytes). Returns its length or -EINVAL for anything
 * fg_stock_key_item does not write. */
static int fg_stock_key_decode(const char *p, size_t len, char *out)
{
	size_t i, o = 0;
	int hi, lo;

	if (len == 1 && p[0] == '%')
		return 0;
	for (i = 0; i < len; i++) {
		if (o >= FG_ITEM_MAX)
			return -EINVAL;
		if (p[i] != '%') {
			if (!fg_stock_unreserved((unsigned char)p[i]))
				return -EINVAL;
			out[o++] = p[i];
			continue;
		}
		if (i + 2 >= len)
			return -EINVAL;
		hi = fg_stock_hexval(p[i + 1]);
		lo = fg_stock_hexval(p[i + 2]);
		if (hi < 0 || lo < 0 || fg_stock_unreserved(
			    (unsigned char)(hi << 4 | lo)))
			return -EINVAL;
		out[o++] = (char)(hi << 4 | lo);
		i += 2;
	}
	return o ? (int)o : -EINVAL;
}

static int fg_stock_item_key(const struct fg_stock_rule *r,
			     const struct fg_stock_item *it, bool holder,
			     char *buf, size_t size)
{
	size_t n = strlen(holder ? r->hpfx : r->gpfx);
	int rc;

	if (n >= size)
		return -ENAMETOOLONG;
	memcpy(buf, holder ? r->hpfx : r->gpfx, n);
	rc = fg_stock_key_item(buf + n, size - n, it->name, it->name_len);
	return rc < 0 ? rc : 0;
}

/* fg_stock_u64 - a non-negative integer member of o, into *v. */
static int fg_stock_u64(json_t *o, const char *k, uint64_t *v)
{
	json_t *j = json_object_get(o, k);

	if (!json_is_integer(j) || json_integer_value(j) < 0)
		return -EPROTO;
	*v = (uint64_t)json_integer_value(j);
	return 0;
}

/* fg_stock_parse_global - {"claimed":N,"lost":L}. */
static int fg_stock_parse_global(const struct fg_etcd_kv *kv, uint64_t *n,
				 uint64_t *l)
{
	json_t *o = json_loadb(kv->value, kv->value_len, 0, NULL);
	int rc = -EPROTO;

	if (json_is_object(o) && !fg_stock_u64(o, "claimed", n) &&
	    !fg_stock_u64(o, "lost", l))
		rc = 0;
	json_decref(o);
	return rc;
}

/* fg_stock_parse_holder - {"epoch":"<hex>","claimed":C,"admitted":A}. */
static int fg_stock_parse_holder(const struct fg_etcd_kv *kv, uint64_t *e,
				 uint64_t *c, uint64_t *a)
{
	json_t *o = json_loadb(kv->value, kv->value_len, 0, NULL);
	const char *hex;
	char *end;
	int rc = -EPROTO;

	if (!json_is_object(o))
		goto out;
	hex = json_string_value(json_object_get(o, "epoch"));
	if (!hex || strlen(hex) != 16)
		goto out;
	errno = 0;
	*e = strtoull(hex, &end, 16);
	if (errno || *end)
		goto out;
	if (!fg_stock_u64(o, "claimed", c) && !fg_stock_u64(o, "admitted", a))
		rc = 0;
out:
	json_decref(o);
	return rc;
}

/* --------------------------------------------------------- items */

static struct fg_stock_item *fg_stock_item_new(struct fg_stock_rule *r,
					       const char *name, size_t len,
					       uint32_t idx)
{
	struct fg_stock_item *it = calloc(1, sizeof(*it) + len + 1);

	if (!it)
		return NULL;
	it->r = r;
	it->idx = idx;
	it->name_len = (uint8_t)len;
	memcpy(it->name, name, len);
	TAILQ_INSERT_TAIL(&r->items, it, link);
	if (idx != FG_SECKILL_NO_ITEM && idx < r->by_idx_n)
		r->by_idx[idx] = it;
	else
		r->unmapped++;
	r->st.items++;
	return it;
}

/* fg_stock_unmapped - the item of that name that has no slot in the
 * engine (known from its record only), or NULL. */
static struct fg_stock_item *fg_stock_unmapped(struct fg_stock_rule *r,
					       const char *name, size_t len)
{
	struct fg_stock_item *o;

	if (!r->unmapped)
		return NULL;
	TAILQ_FOREACH(o, &r->items, link)
		if (o->idx == FG_SECKILL_NO_ITEM && o->name_len == len &&
		    !memcmp(o->name, name, len))
			return o;
	return NULL;
}

/* fg_stock_item_at - the claimer's state of engine item idx, made on
 * first use. NULL when the engine has no such item or out of memory. */
static struct fg_stock_item *fg_stock_item_at(struct fg_stock_rule *r,
					      uint32_t idx)
{
	struct fg_stock_item *it;
	const char *name;
	size_t len;

	if (!r->engine || idx >= r->by_idx_n)
		return NULL;
	if (r->by_idx[idx])
		return r->by_idx[idx];
	name = r->ops->item_name(r->engine, idx, &len);
	if (!name)
		return NULL;
	/* An item the engine took after its record was read. */
	it = fg_stock_unmapped(r, name, len);
	if (it) {
		it->idx = idx;
		r->by_idx[idx] = it;
		r->unmapped--;
		return it;
	}
	return fg_stock_item_new(r, name, len, idx);
}

/* fg_stock_break - the item's record is not its engine's lineage: start
 * a new one, and grant nothing from the old (counted, so that a
 * transaction sent before the break does not clear it on landing). */
static void fg_stock_break(struct fg_stock_item *it)
{
	it->newline = 1;
	it->breaks++;
}

static void fg_stock_unqueue(struct fg_stock *s, struct fg_stock_item *it)
{
	if (it->queued)
		TAILQ_REMOVE(&s->ready, it, qlink);
	if (it->waiting)
		TAILQ_REMOVE(&s->wheel[it->retry_at % FG_STOCK_WHEEL], it,
			     qlink);
	it->queued = it->waiting = 0;
}

/* fg_stock_want - put it on the ready queue (once). An item in flight
 * is looked at again when its answer comes. */
static void fg_stock_want(struct fg_stock *s, struct fg_stock_item *it)
{
	if (it->inflight || it->queued || it->waiting)
		return;
	TAILQ_INSERT_TAIL(&s->ready, it, qlink);
	it->queued = 1;
}

/* fg_stock_later - retry it after a backoff (conflicts or errors in a
 * row), jittered to half..full so holders that met do not meet again. */
static void fg_stock_later(struct fg_stock *s, struct fg_stock_item *it,
			   uint32_t min_ms, uint32_t max_ms, uint32_t n)
{
	uint64_t ms = min_ms;

	while (n-- > 1 && ms < max_ms)
		ms *= 2;
	if (ms > max_ms)
		ms = max_ms;
	s->rnd = s->rnd * 1103515245u + 12345u;
	ms = ms / 2 + (s->rnd >> 8) % (ms / 2 + 1);
	fg_stock_unqueue(s, it);
	/* Never behind the wheel's hand, so the slot is still to come. */
	it->retry_at = fg_stock_now_ms() + (ms ? ms : 1);
	if (it->retry_at < s->wheel_at)
		it->retry_at = s->wheel_at;
	TAILQ_INSERT_TAIL(&s->wheel[it->retry_at % FG_STOCK_WHEEL], it,
			  qlink);
	it->waiting = 1;
}

/*
 * fg_stock_apply - after a read or write of the item's keys: feed stock
 * left to the engine, and grant what the holder's record claims for the
 * engine's lineage beyond what the engine was granted (fg_stock.h, rule
 * 3). Marks the item for a new lineage when the record cannot be the
 * engine's.
 */
static void fg_stock_apply(struct fg_stock_rule *r, struct fg_stock_item *it,
			   bool recovery)
{
	struct fg_seckill_item_stats es;
	uint64_t g;

	if (!r->engine || it->idx == FG_SECKILL_NO_ITEM)
		return;
	if (r->ops->item_stats(r->engine, it->idx, &es))
		return;
	g = es.admitted + es.allowance;
	if (it->g_known)
		r->ops->set_stock_left(r->engine, it->idx,
					  it->g_claimed < r->stock ?
					  r->stock - it->g_claimed : 0);
	if (!it->rec_known || it->rec_mod == 0) {
		it->eng_granted = g;
		return;
	}
	if (it->newline || it->rec_epoch != r->epoch ||
	    g < it->eng_granted || es.admitted < it->rec_admitted ||
	    g > it->rec_claimed) {
		/* Another lineage's record, or an engine that is not the
		 * one this record counts for (once found, until a new
		 * record replaces it: nothing of it is ever granted). */
		fg_stock_break(it);
		it->eng_granted = g;
		return;
	}
	if (it->rec_claimed > g) {
		uint64_t n = it->rec_claimed - g;

		if (r->ops->grant(r->engine, it->idx, n)) {
			r->st.errors++;
			fg_stock_break(it);
			return;
		}
		r->st.granted += n;
		if (recovery)
			r->st.recovered += n;
		g += n;
	}
	it->eng_granted = g;
}

/* ------------------------------------------------------------- claims */

static void fg_stock_rule_put(struct fg_stock_rule *r);

/* fg_stock_take_global - kvs of a range of items/I into it. */
static int fg_stock_take_global(struct fg_stock_item *it,
				const struct fg_etcd_op_result *o)
{
	uint64_t n = 0, l = 0;

	if (o->n_kvs && fg_stock_parse_global(&o->kvs[0], &n, &l))
		return -EPROTO;
	it->g_mod = o->n_kvs ? o->kvs[0].mod_revision : 0;
	it->g_claimed = n;
	it->g_lost = l;
	it->g_known = 1;
	return 0;
}

static int fg_stock_take_holder(struct fg_stock_item *it,
				const struct fg_etcd_kv *kv)
{
	uint64_t e = 0, c = 0, a = 0;

	if (kv && fg_stock_parse_holder(kv, &e, &c, &a))
		return -EPROTO;
	it->rec_mod = kv ? kv->mod_revision : 0;
	it->rec_epoch = e;
	it->rec_claimed = c;
	it->rec_admitted = a;
	it->rec_known = 1;
	return 0;
}

static void fg_stock_on_txn(void *arg, const struct fg_etcd_result *res)
{
	struct fg_stock_item *it = arg;
	struct fg_stock_rule *r = it->r;
	struct fg_stock *s = r->s;
	bool knew = it->g_known && it->rec_known;
	int rc = 0;

	it->inflight = 0;
	s->inflight--;
	if (res->err) {
		/* A write that timed out or broke may have landed: the next
		 * transaction's compare on the record tells, and its
		 * failure branch brings the record (fg_stock.h). */
		if (res->err == -ETIMEDOUT || res->err == -EIO) {
			r->st.unknown++;
			it->rec_known = 0;
			it->g_known = 0;
		}
		r->st.errors++;
		it->errs++;
		if (!r->removed)
			fg_stock_later(s, it, FG_STOCK_ERR_BACKOFF_MIN_MS,
				       FG_STOCK_ERR_BACKOFF_MAX_MS, it->errs);
		goto out;
	}
	it->errs = 0;
	if (res->succeeded) {
		it->g_mod = it->rec_mod = res->revision;
		it->g_claimed = it->tx_gclaimed;
		it->g_lost = it->tx_glost;
		it->g_known = it->rec_known = 1;
		it->rec_epoch = it->tx_epoch;
		it->rec_claimed = it->tx_claimed;
		it->rec_admitted = it->tx_admitted;
		/* A break found while it flew (a new engine version or
		 * epoch) stands: what it wrote counts for the old one. */
		if (it->breaks == it->tx_breaks)
			it->newline = 0;
		it->conflicts = 0;
		r->st.lost += it->tx_loss;
		if (it->tx_n) {
			r->st.claims++;
			r->st.claimed += it->tx_n;
		}
		fg_stock_apply(r, it, false);
		/* The engine may have gone low again meanwhile. */
		if (!r->removed)
			fg_stock_want(s, it);
		goto out;
	}
	/* The compares failed: the branch read both keys. */
	if (res->n_ops != 2 ||
	    fg_stock_take_global(it, &res->ops[0]) ||
	    fg_stock_take_holder(it, res->ops[1].n_kvs ?
				 &res->ops[1].kvs[0] : NULL))
		rc = -EPROTO;
	if (rc) {
		it->bad = 1;
		it->g_known = it->rec_known = 0;
		r->st.errors++;
		it->errs++;
		if (!r->removed)
			fg_stock_later(s, it, FG_STOCK_ERR_BACKOFF_MIN_MS,
				       FG_STOCK_ERR_BACKOFF_MAX_MS, it->errs);
		goto out;
	}
	it->bad = 0;
	fg_stock_apply(r, it, true);
	if (r->removed)
		goto out;
	if (!knew) {
		/* Learning the keys' state is not a conflict. */
		fg_stock_want(s, it);
		goto out;
	}
	r->st.conflicts++;
	if (++it->conflicts == 1)
		fg_stock_want(s, it);
	else
		fg_stock_later(s, it, FG_STOCK_BACKOFF_MIN_MS,
			       FG_STOCK_BACKOFF_MAX_MS, it->conflicts - 1);
out:
	fg_stock_rule_put(r);
	fg_stock_dispatch(s);
}

/*
 * fg_stock_send - decide what the item needs and send the transaction:
 * a claim topping its allowance up to one batch when it is at half a
 * batch or below and stock is left, and/or the start of a new lineage
 * (settling the old one's holding as lost). Returns 1 when sent, 0 when
 * nothing is needed, -errno when the request could not be made.
 */
static int fg_stock_send(struct fg_stock *s, struct fg_stock_item *it)
{
	struct fg_stock_rule *r = it->r;
	struct fg_seckill_item_stats es = {0};
	char gkey[FG_STOCK_KEY_MAX], hkey[FG_STOCK_KEY_MAX];
	char gval[FG_STOCK_VALUE_MAX], hval[FG_STOCK_VALUE_MAX];
	struct fg_etcd_cmp cmps[2];
	struct fg_etcd_op ok[2], ko[2];
	uint64_t n = 0, loss = 0, base = 0, left;
	bool newline;
	int rc;

	if (!r->engine)
		return 0;
	fg_stock_apply(r, it, true);
	newline = it->rec_known && it->rec_mod &&
		(it->rec_epoch != r->epoch || it->newline);
	if (it->idx != FG_SECKILL_NO_ITEM) {
		if (r->ops->item_stats(r->engine, it->idx, &es))
			return 0;
		base = es.admitted + es.allowance;
		left = it->g_known ? (it->g_claimed < r->stock ?
				      r->stock - it->g_claimed : 0) : r->stock;
		if (es.allowance * 2 <= r->batch && left) {
			n = r->batch - es.allowance;
			if (n > left)
				n = left;
		}
	}
	if (newline) {
		loss = it->rec_claimed > it->rec_admitted ?
			it->rec_claimed - it->rec_admitted : 0;
	} else if (!n) {
		return 0;
	} else if (it->rec_known && it->rec_mod) {
		base = it->rec_claimed;
	}
	/* A record of this lineage has base == the engine's granted
	 * (fg_stock_apply made it so); a new one starts at the engine's
	 * granted, which the claimer never grants from it. */
	it->tx_n = n;
	it->tx_loss = loss;
	it->tx_claimed = base + n;
	it->tx_admitted = es.admitted;
	it->tx_epoch = r->epoch;
	it->tx_breaks = it->breaks;
	it->tx_gclaimed = (it->g_known ? it->g_claimed : 0) + n;
	it->tx_glost = (it->g_known ? it->g_lost : 0) + loss;

	if (fg_stock_item_key(r, it, false, gkey, sizeof(gkey)) ||
	    fg_stock_item_key(r, it, true, hkey, sizeof(hkey)))
		return -ENAMETOOLONG;
	snprintf(gval, sizeof(gval), "{\"claimed\":%" PRIu64
		 ",\"lost\":%" PRIu64 "}", it->tx_gclaimed, it->tx_glost);
	snprintf(hval, sizeof(hval), "{\"epoch\":\"%016" PRIx64
		 "\",\"claimed\":%" PRIu64 ",\"admitted\":%" PRIu64 "}",
		 it->tx_epoch, it->tx_claimed, it->tx_admitted);
	memset(cmps, 0, sizeof(cmps));
	memset(ok, 0, sizeof(ok));
	memset(ko, 0, sizeof(ko));
	cmps[0].key = gkey;
	cmps[0].target = FG_ETCD_CMP_MOD_REVISION;
	cmps[0].result = FG_ETCD_CMP_EQUAL;
	cmps[0].number = it->g_known ? it->g_mod : 0;
	cmps[1] = cmps[0];
	cmps[1].key = hkey;
	cmps[1].number = it->rec_known ? it->rec_mod : 0;
	ok[0].type = ok[1].type = FG_ETCD_OP_PUT;
	ok[0].key = gkey;
	ok[0].value = gval;
	ok[0].value_len = strlen(gval);
	ok[1].key = hkey;
	ok[1].value = hval;
	ok[1].value_len = strlen(hval);
	ko[0].type = ko[1].type = FG_ETCD_OP_RANGE;
	ko[0].key = gkey;
	ko[1].key = hkey;
	rc = fg_etcd_txn(s->etcd, cmps, 2, ok, 2, ko, 2, fg_stock_on_txn, it);
	if (rc)
		return rc;
	it->inflight = 1;
	s->inflight++;
	r->refs++;
	return 1;
}

/* fg_stock_dispatch - send what the ready queue holds, up to the limit. */
static void fg_stock_dispatch(struct fg_stock *s)
{
	struct fg_stock_item *it;
	int rc;

	while (s->inflight < s->inflight_max &&
	       (it = TAILQ_FIRST(&s->ready))) {
		fg_stock_unqueue(s, it);
		if (it->r->removed || !it->r->ready)
			continue;
		rc = fg_stock_send(s, it);
		if (rc < 0) {
			it->r->st.errors++;
			it->errs++;
			fg_stock_later(s, it, FG_STOCK_ERR_BACKOFF_MIN_MS,
				       FG_STOCK_ERR_BACKOFF_MAX_MS, it->errs);
		}
	}
}

/* ---------------------------------------------------- holder records */

static void fg_stock_read_next(struct fg_stock_rule *r);

/* fg_stock_record - one record from the holder's prefix: its item's
 * state learns it, then recovers or settles it. */
static void fg_stock_record(struct fg_stock_rule *r,
			    const struct fg_etcd_kv *kv)
{
	size_t plen = strlen(r->hpfx);
	char name[FG_ITEM_MAX];
	struct fg_stock_item *it = NULL;
	uint32_t idx;
	int len;

	if (kv->key_len <= plen)
		return;
	len = fg_stock_key_decode(kv->key + plen, kv->key_len - plen, name);
	if (len < 0) {
		r->st.errors++;
		return;
	}
	idx = r->ops->item_find(r->engine, name, (size_t)len);
	if (idx != FG_SECKILL_NO_ITEM) {
		it = fg_stock_item_at(r, idx);
	} else {
		it = fg_stock_unmapped(r, name, (size_t)len);
		if (!it)
			it = fg_stock_item_new(r, name, (size_t)len,
					       FG_SECKILL_NO_ITEM);
	}
	if (!it) {
		r->st.errors++;
		return;
	}
	if (it->inflight)
		return; /* its own answer will tell */
	if (fg_stock_take_holder(it, kv)) {
		it->bad = 1;
		r->st.errors++;
		return;
	}
	fg_stock_apply(r, it, true);
	if (it->rec_epoch != r->epoch || it->idx == FG_SECKILL_NO_ITEM)
		fg_stock_break(it);
}

static int fg_stock_pfx_push(struct fg_stock_rule *r, const char *key,
			     size_t len, char c)
{
	struct fg_stock_pfx *p = malloc(sizeof(*p) + len + 2);

	if (!p)
		return -ENOMEM;
	memcpy(p->key, key, len);
	p->key[len] = c;
	p->key[len + (c ? 1 : 0)] = '\0';
	TAILQ_INSERT_TAIL(&r->pfx, p, link);
	return 0;
}

static void fg_stock_pfx_clear(struct fg_stock_rule *r)
{
	struct fg_stock_pfx *p;

	while ((p = TAILQ_FIRST(&r->pfx))) {
		TAILQ_REMOVE(&r->pfx, p, link);
		free(p);
	}
}

/* fg_stock_ready - the records are read: prime, and let claims go. */
/* fg_stock_prime - with prime, look at every item the engine has (a
 * new version may bring new ones): those at half a batch or below are
 * claimed for. */
static void fg_stock_prime(struct fg_stock_rule *r)
{
	struct fg_seckill_stats es;
	struct fg_stock_item *it;
	uint32_t i;

	if (!r->prime || !r->engine)
		return;
	r->ops->stats(r->engine, &es);
	for (i = 0; i < es.items && i < r->by_idx_n; i++) {
		it = fg_stock_item_at(r, i);
		if (it)
			fg_stock_want(r->s, it);
	}
}

static void fg_stock_ready(struct fg_stock_rule *r)
{
	struct fg_stock_item *it;

	r->ready = true;
	r->st.ready = true;
	TAILQ_FOREACH(it, &r->items, link)
		if (it->newline)
			fg_stock_want(r->s, it);
	fg_stock_prime(r);
}

static void fg_stock_on_range(void *arg, const struct fg_etcd_result *res)
{
	struct fg_stock_rule *r = arg;
	struct fg_stock_pfx *p = TAILQ_FIRST(&r->pfx);
	size_t i, klen;
	const char *c;

	r->reading = false;
	if (r->removed || !p)
		goto out;
	if (r->reread) {
		/* A new engine or epoch came while reading: start over. */
		r->reread = false;
		fg_stock_pfx_clear(r);
		if (fg_stock_pfx_push(r, r->hpfx, strlen(r->hpfx), 0))
			r->st.errors++;
		goto next;
	}
	if (res->err) {
		r->st.errors++;
		r->read_errs++;
		r->read_at = fg_stock_now_ms() + (r->read_errs > 5 ?
						  FG_STOCK_ERR_BACKOFF_MAX_MS :
						  FG_STOCK_ERR_BACKOFF_MIN_MS <<
						  r->read_errs);
		goto out;
	}
	r->read_errs = 0;
	TAILQ_REMOVE(&r->pfx, p, link);
	klen = strlen(p->key);
	if (!res->more) {
		for (i = 0; i < res->n_kvs; i++)
			fg_stock_record(r, &res->kvs[i]);
	} else {
		/* A full page: the key equal to the prefix (first in key
		 * order) here, the rest under one child prefix per next
		 * character, each read on its own. */
		if (res->n_kvs && res->kvs[0].key_len == klen)
			fg_stock_record(r, &res->kvs[0]);
		for (c = fg_stock_key_chars; *c; c++)
			if (fg_stock_pfx_push(r, p->key, klen, *c)) {
				r->st.errors++;
				break;
			}
	}
	free(p);
next:
	if (TAILQ_EMPTY(&r->pfx)) {
		fg_stock_rule_put(r);
		fg_stock_ready(r);
		fg_stock_dispatch(r->s);
		return;
	}
	fg_stock_read_next(r);
out:
	fg_stock_rule_put(r);
}

/* fg_stock_read_next - read the next prefix of holder records. */
static void fg_stock_read_next(struct fg_stock_rule *r)
{
	struct fg_stock_pfx *p = TAILQ_FIRST(&r->pfx);
	struct fg_etcd_op op;

	if (!p || r->reading || r->removed)
		return;
	if (r->read_at > fg_stock_now_ms())
		return; /* the tick tries again */
	memset(&op, 0, sizeof(op));
	op.type = FG_ETCD_OP_RANGE;
	op.key = p->key;
	op.prefix = true;
	op.limit = FG_STOCK_RANGE_PAGE;
	if (fg_etcd_do(r->s->etcd, &op, fg_stock_on_range, r)) {
		r->st.errors++;
		r->read_at = fg_stock_now_ms() + FG_STOCK_ERR_BACKOFF_MIN_MS;
		return;
	}
	r->reading = true;
	r->refs++;
}

/* ------------------------------------------------------------- rules */

static void fg_stock_rule_free(struct fg_stock_rule *r)
{
	struct fg_stock_item *it;

	while ((it = TAILQ_FIRST(&r->items))) {
		TAILQ_REMOVE(&r->items, it, link);
		free(it);
	}
	fg_stock_pfx_clear(r);
	free(r->by_idx);
	free(r);
}

/* fg_stock_rule_put - a request of r's has ended: free a removed rule
 * with its last one. */
static void fg_stock_rule_put(struct fg_stock_rule *r)
{
	if (--r->refs == 0 && r->removed) {
		TAILQ_REMOVE(&r->s->zombies, r, link);
		fg_stock_rule_free(r);
	}
}

static struct fg_stock_rule *fg_stock_rule_find(const struct fg_stock *s,
						const char *name)
{
	struct fg_stock_rule *r;

	TAILQ_FOREACH(r, &s->rules, link)
		if (!r->removed && !strcmp(r->name, name))
			return r;
	return NULL;
}

/* fg_stock_map - point every item of r at its slot in engine (a new
 * version): by name, since slots move between versions. */
static int fg_stock_map(struct fg_stock_rule *r,
			const struct fg_stock_engine_ops *ops, void *engine)
{
	struct fg_seckill_item_stats es;
	struct fg_seckill_stats st;
	struct fg_stock_item **by, *it;
	uint64_t g;

	ops->stats(engine, &st);
	by = calloc(st.items_max ? st.items_max : 1, sizeof(*by));
	if (!by)
		return -ENOMEM;
	free(r->by_idx);
	r->by_idx = by;
	r->by_idx_n = st.items_max;
	r->engine = engine;
	r->ops = ops;
	r->unmapped = 0;
	TAILQ_FOREACH(it, &r->items, link) {
		it->idx = ops->item_find(engine, it->name, it->name_len);
		if (it->idx == FG_SECKILL_NO_ITEM ||
		    ops->item_stats(engine, it->idx, &es)) {
			it->idx = FG_SECKILL_NO_ITEM;
			r->unmapped++;
			if (it->rec_known && it->rec_mod)
				fg_stock_break(it);
		} else {
			by[it->idx] = it;
			g = es.admitted + es.allowance;
			if (g < it->eng_granted)
				fg_stock_break(it); /* not carried */
			it->eng_granted = g;
		}
		if (it->newline)
			fg_stock_want(r->s, it);
	}
	return 0;
}

int fg_stock_rule_attach(struct fg_stock *s,
			 const struct fg_stock_rule_conf *rc,
			 const struct fg_stock_engine_ops *ops, void *engine,
			 char *err, size_t errlen)
{
	struct fg_stock_rule *r;
	struct fg_stock_item *it;
	bool fresh = false;
	int rc2;

	if (!s || !rc || !rc->name || !ops || !engine)
		return fg_fail(err, errlen, -EINVAL, "no rule or engine");
	if (!rc->name[0] || strlen(rc->name) > 63 ||
	    strspn(rc->name, "abcdefghijklmnopqrstuvwxyz0123456789_-") !=
	    strlen(rc->name))
		return fg_fail(err, errlen, -EINVAL,
			       "name: must match [a-z0-9_-]{1,63}");
	if (!rc->stock || rc->stock == FG_SECKILL_NO_STOCK)
		return fg_fail(err, errlen, -EINVAL,
			       "stock: a rule without stock claims nothing");
	if (!rc->epoch)
		return fg_fail(err, errlen, -EINVAL, "epoch: must not be 0");
	r = fg_stock_rule_find(s, rc->name);
	if (!r) {
		r = calloc(1, sizeof(*r));
		if (!r)
			return fg_fail(err, errlen, -ENOMEM, "out of memory");
		r->s = s;
		TAILQ_INIT(&r->items);
		TAILQ_INIT(&r->pfx);
		snprintf(r->name, sizeof(r->name), "%s", rc->name);
		/* Sized for the longest prefix, name and holder. */
		snprintf(r->gpfx, sizeof(r->gpfx), "%s/stock/%s/items/",
			 s->prefix, rc->name);
		snprintf(r->hpfx, sizeof(r->hpfx), "%s/stock/%s/holders/%s/",
			 s->prefix, rc->name, s->holder);
		r->epoch = rc->epoch;
		fresh = true;
	}
	r->stock = rc->stock;
	r->batch = rc->batch ? rc->batch :
		fg_stock_batch(rc->rate_milli, s->batch_ms, s->batch_max,
			       rc->stock);
	if (r->batch > rc->stock)
		r->batch = rc->stock;
	r->st.batch = r->batch;
	r->prime = rc->prime;
	rc2 = fg_stock_map(r, ops, engine);
	if (rc2) {
		if (fresh)
			fg_stock_rule_free(r);
		return fg_fail(err, errlen, rc2, "out of memory");
	}
	if (fresh)
		TAILQ_INSERT_TAIL(&s->rules, r, link);
	if (!fresh && r->epoch == rc->epoch) {
		if (r->ready)
			fg_stock_prime(r);
		return 0;
	}
	if (!fresh) {
		/* A new lineage for the whole engine: every record the
		 * claimer knows is the old one's. */
		r->epoch = rc->epoch;
		TAILQ_FOREACH(it, &r->items, link) {
			it->eng_granted = 0;
			if (it->rec_known && it->rec_mod) {
				fg_stock_break(it);
				fg_stock_want(s, it);
			}
		}
	}
	r->ready = false;
	r->st.ready = false;
	if (r->reading) {
		r->reread = true;
		return 0;
	}
	fg_stock_pfx_clear(r);
	if (fg_stock_pfx_push(r, r->hpfx, strlen(r->hpfx), 0)) {
		r->engine = NULL;
		return fg_fail(err, errlen, -ENOMEM, "out of memory");
	}
	r->read_at = 0;
	fg_stock_read_next(r);
	return 0;
}

int fg_stock_rule_remove(struct fg_stock *s, const char *name)
{
	struct fg_stock_rule *r = s && name ? fg_stock_rule_find(s, name) :
		NULL;
	struct fg_stock_item *it;

	if (!r)
		return -ENOENT;
	TAILQ_FOREACH(it, &r->items, link)
		fg_stock_unqueue(s, it);
	TAILQ_REMOVE(&s->rules, r, link);
	r->removed = true;
	r->engine = NULL;
	if (r->refs)
		TAILQ_INSERT_TAIL(&s->zombies, r, link);
	else
		fg_stock_rule_free(r);
	return 0;
}

int fg_stock_rule_stats(const struct fg_stock *s, const char *name,
			struct fg_stock_rule_stats *st)
{
	const struct fg_stock_rule *r = s && name ?
		fg_stock_rule_find(s, name) : NULL;

	if (!r || !st)
		return -ENOENT;
	*st = r->st;
	st->inflight = r->refs;
	return 0;
}

int fg_stock_item_stats(const struct fg_stock *s, const char *name,
			uint32_t idx, struct fg_stock_item_stats *st)
{
	const struct fg_stock_rule *r = s && name ?
		fg_stock_rule_find(s, name) : NULL;
	const struct fg_stock_item *it;

	if (!r)
		return -ENOENT;
	if (!st || idx >= r->by_idx_n)
		return -EINVAL;
	memset(st, 0, sizeof(*st));
	it = r->by_idx[idx];
	if (!it)
		return 0;
	st->known = it->g_known;
	st->claimed = it->g_claimed;
	st->lost = it->g_lost;
	st->held_claimed = it->rec_known && it->rec_epoch == r->epoch ?
		it->rec_claimed : 0;
	return 0;
}

/* ------------------------------------------------------------- tick */

/* fg_stock_tick - every poll_ms: take the engines' signals, retry what
 * waited long enough, read records, send. */
static void fg_stock_tick(evutil_socket_t fd, short what, void *arg)
{
	struct fg_stock *s = arg;
	uint32_t idx[FG_STOCK_WANTS_CHUNK], n, i, taken;
	struct fg_stock_rule *r;
	struct fg_stock_item *it, *next;
	uint64_t now = fg_stock_now_ms();

	(void)fd;
	(void)what;
	TAILQ_FOREACH(r, &s->rules, link) {
		if (!TAILQ_EMPTY(&r->pfx))
			fg_stock_read_next(r);
		if (!r->ready || !r->engine)
			continue;
		taken = 0;
		do {
			n = r->ops->wants(r->engine, idx,
					     FG_STOCK_WANTS_CHUNK);
			for (i = 0; i < n; i++) {
				it = fg_stock_item_at(r, idx[i]);
				if (it)
					fg_stock_want(s, it);
				else
					r->st.errors++;
			}
			taken += n;
		} while (n == FG_STOCK_WANTS_CHUNK &&
			 taken < FG_STOCK_WANTS_PER_POLL);
	}
	/* The wheel's slots from its hand up to now, at most one lap (a
	 * tick late by more finds every slot due anyway). */
	for (i = 0; s->wheel_at <= now && i < FG_STOCK_WHEEL;
	     i++, s->wheel_at++) {
		struct fg_stock_item_list *slot =
			&s->wheel[s->wheel_at % FG_STOCK_WHEEL];

		for (it = TAILQ_FIRST(slot); it; it = next) {
			next = TAILQ_NEXT(it, qlink);
			if (it->retry_at > now)
				continue;
			TAILQ_REMOVE(slot, it, qlink);
			it->waiting = 0;
			TAILQ_INSERT_TAIL(&s->ready, it, qlink);
			it->queued = 1;
		}
	}
	if (s->wheel_at <= now)
		s->wheel_at = now + 1;
	fg_stock_dispatch(s);
}

/* ---------------------------------------------------------- lifetime */

struct fg_stock *fg_stock_new(struct event_base *base, struct fg_etcd *etcd,
			      const struct fg_stock_conf *conf, char *err,
			      size_t errlen)
{
	struct fg_stock *s = NULL;
	struct timeval tv;
	int rc = -EINVAL;
	size_t n;

	if (!base || !etcd || !conf) {
		fg_fail(err, errlen, rc, "no event base, store or settings");
		goto fail;
	}
	if (!conf->prefix || conf->prefix[0] != '/' ||
	    (n = strlen(conf->prefix)) > FG_STOCK_PREFIX_MAX ||
	    (n > 1 && conf->prefix[n - 1] == '/')) {
		fg_fail(err, errlen, rc,
			"prefix: must start with '/', not end with one, and be at most %u bytes",
			FG_STOCK_PREFIX_MAX);
		goto fail;
	}
	if (!conf->holder || !conf->holder[0] ||
	    strlen(conf->holder) > FG_STOCK_HOLDER_MAX ||
	    strspn(conf->holder, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		   "abcdefghijklmnopqrstuvwxyz0123456789._:-") !=
	    strlen(conf->holder)) {
		fg_fail(err, errlen, rc,
			"holder: must be 1..%u of [A-Za-z0-9._:-]",
			FG_STOCK_HOLDER_MAX);
		goto fail;
	}
	if (conf->inflight_max > FG_STOCK_INFLIGHT_MAX) {
		fg_fail(err, errlen, rc, "inflight_max: at most %u",
			FG_STOCK_INFLIGHT_MAX);
		goto fail;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		rc = fg_fail(err, errlen, -ENOMEM, "out of memory");
		goto fail;
	}
	s->base = base;
	s->etcd = etcd;
	snprintf(s->prefix, sizeof(s->prefix), "%s",
		 strcmp(conf->prefix, "/") ? conf->prefix : "");
	snprintf(s->holder, sizeof(s->holder), "%s", conf->holder);
	s->poll_ms = conf->poll_ms ? conf->poll_ms : FG_STOCK_POLL_MS_DEFAULT;
	s->inflight_max = conf->inflight_max ? conf->inflight_max :
		FG_STOCK_INFLIGHT_DEFAULT;
	s->batch_ms = conf->batch_ms ? conf->batch_ms :
		FG_STOCK_BATCH_MS_DEFAULT;
	s->batch_max = conf->batch_max ? conf->batch_max :
		FG_STOCK_BATCH_MAX_DEFAULT;
	s->rnd = (uint32_t)fg_stock_epoch_new();
	TAILQ_INIT(&s->rules);
	TAILQ_INIT(&s->zombies);
	TAILQ_INIT(&s->ready);
	s->wheel = calloc(FG_STOCK_WHEEL, sizeof(*s->wheel));
	if (!s->wheel) {
		rc = fg_fail(err, errlen, -ENOMEM, "out of memory");
		goto fail;
	}
	for (n = 0; n < FG_STOCK_WHEEL; n++)
		TAILQ_INIT(&s->wheel[n]);
	s->wheel_at = fg_stock_now_ms();
	s->tick = event_new(base, -1, EV_PERSIST, fg_stock_tick, s);
	if (!s->tick) {
		rc = fg_fail(err, errlen, -ENOMEM, "out of memory");
		goto fail;
	}
	tv.tv_sec = s->poll_ms / 1000;
	tv.tv_usec = (s->poll_ms % 1000) * 1000;
	if (event_add(s->tick, &tv)) {
		rc = fg_fail(err, errlen, -ENOMEM, "cannot arm the poll timer");
		goto fail;
	}
	return s;
fail:
	if (s) {
		if (s->tick)
			event_free(s->tick);
		free(s->wheel);
		free(s);
	}
	fg_etcd_free(etcd);
	errno = -rc;
	return NULL;
}

void fg_stock_free(struct fg_stock *s)
{
	struct fg_stock_rule *r;

	if (!s)
		return;
	/* The client first: no callback runs after this, so rules with
	 * requests in flight can go. */
	fg_etcd_free(s->etcd);
	event_free(s->tick);
	while ((r = TAILQ_FIRST(&s->rules))) {
		TAILQ_REMOVE(&s->rules, r, link);
		fg_stock_rule_free(r);
	}
	while ((r = TAILQ_FIRST(&s->zombies))) {
		TAILQ_REMOVE(&s->zombies, r, link);
		fg_stock_rule_free(r);
	}
	free(s->wheel);
	free(s);
}
