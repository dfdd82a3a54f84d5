// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * fg_dpdk_ctl.c - table sets and their codec, message framing (see
 * fg_dpdk_ctl.h for the message header).
 *
 * Bodies, every integer little-endian, "raw" fields byte for byte as the
 * tables hold them (network order):
 *
 *   FULL / STATE:  u64 version, u32 gen, config,
 *                  u32 n, service x n; u32 n, backend x n; u32 n, limit x n
 *   DELTA:         u64 base version, u64 version, u32 gen, config,
 *                  u32 n, u32 service id x n (dropped); u32 n, service x n,
 *                  u32 n, u32 backend id x n (dropped); u32 n, backend x n,
 *                  u32 n, u32 limit id x n (dropped);   u32 n, limit x n
 *   config:        u8 flags, u8 n, u16 global limit id x n,
 *                  u64 x 64 (vip_filter of gen)
 *   service:       u32 id, u8 name length, name, raw vip[16], raw port[2],
 *                  u8 proto, u8 family, u32 ring_off, u32 ring_size,
 *                  u8 forward, u8 hash, u8 n, u16 limit id x n,
 *                  raw gue_port[2], u8 has ring, [u32 backend id x
 *                  ring_size]  (DELTA: no ring = base's ring, same size)
 *   backend:       u32 id, raw addr[16], raw port[2], u8 family, u8 flags,
 *                  u32 service id
 *   limit:         u32 id, u8 name length, name, u64 interval_fp,
 *                  u64 window_ns, u32 shift, u32 window_frac,
 *                  raw match_src[16], u8 match_src_len, u8 match_proto,
 *                  raw match_dport[2], u8 key, u8 prefix_len, u8 unit,
 *                  u8 action, u8 flags, u8 match_family
 *   STATS:         u64 version, u32 n, port x n (u64 x 7),
 *                  u32 n, u32 reasons, lcore x n (u64 x (6 + reasons)),
 *                  u32 n, (u32 id, u64 x 3) x n   services
 *                  u32 n, (u32 id, u64 x 3) x n   backends
 *                  u32 n, (u32 id, u64 x 2) x n   limits
 *
 * Every id list is strictly ascending: one canonical form, and a repeated
 * id is a malformed body rather than a question of which copy wins.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fg_dpdk_ctl.h"
#include "fg_dpdk_ctl_wire.h"
#include "fg_err.h"
#include "fg_parse.h"
#include "fg_rules.h"

/* ------------------------------------------------------------ buffer */

void fg_dpdk_ctl_buf_free(struct fg_dpdk_ctl_buf *b)
{
	if (!b)
		return;
	free(b->p);
	memset(b, 0, sizeof(*b));
}

static int fg_buf_reserve(struct fg_dpdk_ctl_buf *b, size_t more)
{
	size_t cap;
	uint8_t *p;

	if (b->err)
		return b->err;
	if (more > SIZE_MAX / 2 - b->len)
		return b->err = -ENOMEM;
	if (b->len + more <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 4096;
	while (cap < b->len + more)
		cap *= 2;
	p = realloc(b->p, cap);
	if (!p)
		return b->err = -ENOMEM;
	b->p = p;
	b->cap = cap;
	return 0;
}

void fg_dpdk_ctl_put(struct fg_dpdk_ctl_buf *b, const void *p, size_t n)
{
	if (!n || fg_buf_reserve(b, n))
		return;
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

void fg_dpdk_ctl_put_u8(struct fg_dpdk_ctl_buf *b, uint8_t v)
{
	fg_dpdk_ctl_put(b, &v, 1);
}

void fg_dpdk_ctl_put_u16(struct fg_dpdk_ctl_buf *b, uint16_t v)
{
	uint8_t x[2] = { (uint8_t)v, (uint8_t)(v >> 8) };

	fg_dpdk_ctl_put(b, x, 2);
}

void fg_dpdk_ctl_put_u32(struct fg_dpdk_ctl_buf *b, uint32_t v)
{
	uint8_t x[4];
	int i;

	for (i = 0; i < 4; i++)
		x[i] = (uint8_t)(v >> (8 * i));
	fg_dpdk_ctl_put(b, x, 4);
}

void fg_dpdk_ctl_put_u64(struct fg_dpdk_ctl_buf *b, uint64_t v)
{
	uint8_t x[8];
	int i;

	for (i = 0; i < 8; i++)
		x[i] = (uint8_t)(v >> (8 * i));
	fg_dpdk_ctl_put(b, x, 8);
}

/* ------------------------------------------------------------ reader */

void fg_dpdk_ctl_get(struct fg_dpdk_ctl_rd *r, void *p, size_t n)
{
	if (r->bad || n > r->n - r->off) {
		r->bad = true;
		memset(p, 0, n);
		return;
	}
	memcpy(p, r->p + r->off, n);
	r->off += n;
}

uint8_t fg_dpdk_ctl_get_u8(struct fg_dpdk_ctl_rd *r)
{
	uint8_t v;

	fg_dpdk_ctl_get(r, &v, 1);
	return v;
}

uint16_t fg_dpdk_ctl_get_u16(struct fg_dpdk_ctl_rd *r)
{
	uint8_t x[2];

	fg_dpdk_ctl_get(r, x, 2);
	return (uint16_t)(x[0] | x[1] << 8);
}

uint32_t fg_dpdk_ctl_get_u32(struct fg_dpdk_ctl_rd *r)
{
	uint8_t x[4];

	fg_dpdk_ctl_get(r, x, 4);
	return (uint32_t)x[0] | (uint32_t)x[1] << 8 | (uint32_t)x[2] << 16 |
	       (uint32_t)x[3] << 24;
}

uint64_t fg_dpdk_ctl_get_u64(struct fg_dpdk_ctl_rd *r)
{
	uint64_t lo = fg_dpdk_ctl_get_u32(r);

	return lo | (uint64_t)fg_dpdk_ctl_get_u32(r) << 32;
}

/* Bytes left to read. */
static size_t fg_rd_left(const struct fg_dpdk_ctl_rd *r)
{
	return r->bad ? 0 : r->n - r->off;
}

/* Skip n bytes (a read past the end marks r bad). */
static void fg_rd_skip(struct fg_dpdk_ctl_rd *r, size_t n)
{
	if (r->bad || n > r->n - r->off)
		r->bad = true;
	else
		r->off += n;
}

int64_t fg_dpdk_ctl_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ----------------------------------------------------------- framing */

int fg_dpdk_ctl_hdr_parse(const uint8_t *p, size_t n,
			  struct fg_dpdk_ctl_hdr *h, char *err, size_t errlen)
{
	struct fg_dpdk_ctl_rd r = { .p = p, .n = n };
	uint32_t magic;
	uint16_t proto;

	if (n < FG_DPDK_CTL_HDR)
		return fg_fail(err, errlen, -EPROTO,
			       "message of %zu bytes: shorter than its header", n);
	magic = fg_dpdk_ctl_get_u32(&r);
	proto = fg_dpdk_ctl_get_u16(&r);
	h->type = fg_dpdk_ctl_get_u8(&r);
	h->flags = fg_dpdk_ctl_get_u8(&r);
	h->seq = fg_dpdk_ctl_get_u32(&r);
	h->len = fg_dpdk_ctl_get_u32(&r);
	if (magic != FG_DPDK_CTL_MAGIC)
		return fg_fail(err, errlen, -EPROTO, "bad magic 0x%08x", magic);
	if (proto != FG_DPDK_CTL_PROTO)
		return fg_fail(err, errlen, -EPROTONOSUPPORT,
			       "protocol %u; this side speaks %u", proto,
			       FG_DPDK_CTL_PROTO);
	if (h->type < FG_DPDK_CTL_HELLO || h->type > FG_DPDK_CTL_STOCK)
		return fg_fail(err, errlen, -EPROTO, "unknown message type %u",
			       h->type);
	if (h->flags & ~(FG_DPDK_CTL_F_FIRST | FG_DPDK_CTL_F_LAST))
		return fg_fail(err, errlen, -EPROTO, "unknown flags 0x%x",
			       h->flags);
	if (h->len != n - FG_DPDK_CTL_HDR)
		return fg_fail(err, errlen, -EPROTO,
			       "header says %u payload bytes, message has %zu",
			       h->len, n - FG_DPDK_CTL_HDR);
	if (!fg_dpdk_ctl_chunked(h->type) && h->flags)
		return fg_fail(err, errlen, -EPROTO,
			       "chunk flags on a message of type %u", h->type);
	return 0;
}

int fg_dpdk_ctl_msg(struct fg_dpdk_ctl_buf *out, uint8_t type, uint8_t flags,
		    uint32_t seq, const void *payload, size_t len)
{
	if (len > FG_DPDK_CTL_PAYLOAD_MAX)
		return -EMSGSIZE;
	fg_dpdk_ctl_put_u32(out, FG_DPDK_CTL_MAGIC);
	fg_dpdk_ctl_put_u16(out, FG_DPDK_CTL_PROTO);
	fg_dpdk_ctl_put_u8(out, type);
	fg_dpdk_ctl_put_u8(out, flags);
	fg_dpdk_ctl_put_u32(out, seq);
	fg_dpdk_ctl_put_u32(out, (uint32_t)len);
	fg_dpdk_ctl_put(out, payload, len);
	return out->err;
}

bool fg_dpdk_ctl_chunked(uint8_t type)
{
	return type == FG_DPDK_CTL_FULL || type == FG_DPDK_CTL_DELTA ||
	       type == FG_DPDK_CTL_STATE || type == FG_DPDK_CTL_STATS ||
	       type == FG_DPDK_CTL_STOCK_REQ || type == FG_DPDK_CTL_STOCK;
}

int fg_dpdk_ctl_frame(struct fg_dpdk_ctl_buf *out, uint8_t type, uint32_t seq,
		      const void *body, size_t len)
{
	const uint8_t *p = body;
	uint8_t first[FG_DPDK_CTL_PAYLOAD_MAX];
	size_t off, n;
	uint8_t flags;
	int i, ret;

	if (len > FG_DPDK_CTL_BODY_MAX)
		return -EMSGSIZE;
	n = len < FG_DPDK_CTL_FIRST_MAX ? len : FG_DPDK_CTL_FIRST_MAX;
	for (i = 0; i < 8; i++)
		first[i] = (uint8_t)((uint64_t)len >> (8 * i));
	if (n)
		memcpy(first + 8, p, n);
	flags = FG_DPDK_CTL_F_FIRST | (n == len ? FG_DPDK_CTL_F_LAST : 0);
	ret = fg_dpdk_ctl_msg(out, type, flags, seq, first, n + 8);
	for (off = n; !ret && off < len; off += n) {
		n = len - off < FG_DPDK_CTL_PAYLOAD_MAX ? len - off :
		    FG_DPDK_CTL_PAYLOAD_MAX;
		ret = fg_dpdk_ctl_msg(out, type,
				      off + n == len ? FG_DPDK_CTL_F_LAST : 0,
				      seq, p + off, n);
	}
	return ret;
}

void fg_dpdk_ctl_rx_reset(struct fg_dpdk_ctl_rx *rx)
{
	fg_dpdk_ctl_buf_free(&rx->b);
	rx->active = false;
	rx->type = 0;
	rx->total = 0;
}

int fg_dpdk_ctl_rx_take(struct fg_dpdk_ctl_rx *rx,
			const struct fg_dpdk_ctl_hdr *h, const uint8_t *payload,
			char *err, size_t errlen)
{
	const uint8_t *p = payload;
	size_t n = h->len;
	int ret;

	if (h->flags & FG_DPDK_CTL_F_FIRST) {
		struct fg_dpdk_ctl_rd r = { .p = payload, .n = h->len };

		if (rx->active) {
			ret = fg_fail(err, errlen, -EPROTO,
				      "a new body began before the last one ended");
			goto fail;
		}
		rx->total = fg_dpdk_ctl_get_u64(&r);
		if (r.bad || rx->total > FG_DPDK_CTL_BODY_MAX) {
			ret = fg_fail(err, errlen, -EPROTO,
				      "body length %llu: beyond %u bytes or missing",
				      (unsigned long long)rx->total,
				      FG_DPDK_CTL_BODY_MAX);
			goto fail;
		}
		rx->active = true;
		rx->type = h->type;
		rx->seq = h->seq;
		rx->b.len = 0;
		rx->b.err = 0;
		/* Allocated as it arrives, never on the announcement alone:
		 * a peer that announces 64 MiB and sends 16 bytes costs 16. */
		p += 8;
		n -= 8;
	} else if (!rx->active || rx->type != h->type || rx->seq != h->seq) {
		ret = fg_fail(err, errlen, -EPROTO,
			      "a chunk of type %u seq %u that continues no body",
			      h->type, h->seq);
		goto fail;
	}
	if (n > rx->total - rx->b.len) {
		ret = fg_fail(err, errlen, -EPROTO,
			      "body longer than the %llu bytes announced",
			      (unsigned long long)rx->total);
		goto fail;
	}
	fg_dpdk_ctl_put(&rx->b, p, n);
	if (rx->b.err) {
		ret = fg_fail(err, errlen, -ENOMEM, "out of memory for a body");
		goto fail;
	}
	if (!(h->flags & FG_DPDK_CTL_F_LAST))
		return 0;
	if (rx->b.len != rx->total) {
		ret = fg_fail(err, errlen, -EPROTO,
			      "body ended at %zu of the %llu bytes announced",
			      rx->b.len, (unsigned long long)rx->total);
		goto fail;
	}
	rx->active = false;
	return 1;
fail:
	fg_dpdk_ctl_rx_reset(rx);
	return ret;
}

/* --------------------------------------------------------------- set */

struct fg_dpdk_ctl_ring {
	uint32_t refs;
	uint32_t n;
	uint32_t slot[];
};

static struct fg_dpdk_ctl_ring *fg_ring_new(uint32_t n)
{
	struct fg_dpdk_ctl_ring *r;

	r = malloc(sizeof(*r) + (size_t)n * sizeof(uint32_t));
	if (!r)
		return NULL;
	r->refs = 1;
	r->n = n;
	return r;
}

static struct fg_dpdk_ctl_ring *fg_ring_get(struct fg_dpdk_ctl_ring *r)
{
	if (r)
		r->refs++;
	return r;
}

static void fg_ring_put(struct fg_dpdk_ctl_ring *r)
{
	if (r && !--r->refs)
		free(r);
}

struct fg_dpdk_ctl_l7 {
	uint32_t refs;
	uint32_t rules_len, blob_len;
	uint8_t *rules, *blob;
};

static void fg_l7_put(struct fg_dpdk_ctl_l7 *x)
{
	if (x && !--x->refs) {
		free(x->rules);
		free(x->blob);
		free(x);
	}
}

static bool fg_l7_eq(const struct fg_dpdk_ctl_l7 *a, const void *rules,
		     size_t rules_len, const void *blob, size_t blob_len)
{
	return a->rules_len == rules_len && a->blob_len == blob_len &&
	       !memcmp(a->rules, rules, rules_len) &&
	       !memcmp(a->blob, blob, blob_len);
}

/* A section holding copies of the given parts, or NULL (out of memory). */
static struct fg_dpdk_ctl_l7 *fg_l7_new(const void *rules, size_t rules_len,
					const void *blob, size_t blob_len)
{
	struct fg_dpdk_ctl_l7 *x = calloc(1, sizeof(*x));

	if (!x)
		return NULL;
	x->refs = 1;
	x->rules = malloc(rules_len);
	x->blob = malloc(blob_len);
	if (!x->rules || !x->blob) {
		fg_l7_put(x);
		return NULL;
	}
	memcpy(x->rules, rules, rules_len);
	memcpy(x->blob, blob, blob_len);
	x->rules_len = (uint32_t)rules_len;
	x->blob_len = (uint32_t)blob_len;
	return x;
}

int fg_dpdk_ctl_set_l7(struct fg_dpdk_ctl_set *s, const void *rules,
		       size_t rules_len, const void *blob, size_t blob_len,
		       const struct fg_dpdk_ctl_set *base)
{
	struct fg_dpdk_ctl_l7 *x = NULL;

	if (!s || !rules_len != !blob_len || (rules_len && (!rules || !blob)) ||
	    rules_len > FG_DPDK_CTL_L7_RULES_MAX ||
	    blob_len > FG_DPDK_CTL_L7_BLOB_MAX)
		return -EINVAL;
	if (rules_len) {
		if (base && base->l7 &&
		    fg_l7_eq(base->l7, rules, rules_len, blob, blob_len)) {
			x = base->l7;
			x->refs++;
		} else {
			x = fg_l7_new(rules, rules_len, blob, blob_len);
			if (!x)
				return -ENOMEM;
		}
	}
	fg_l7_put(s->l7);
	s->l7 = x;
	return 0;
}

bool fg_dpdk_ctl_set_l7_get(const struct fg_dpdk_ctl_set *s,
			    const void **rules, size_t *rules_len,
			    const void **blob, size_t *blob_len)
{
	const struct fg_dpdk_ctl_l7 *x = s ? s->l7 : NULL;

	*rules = x ? x->rules : NULL;
	*rules_len = x ? x->rules_len : 0;
	*blob = x ? x->blob : NULL;
	*blob_len = x ? x->blob_len : 0;
	return x != NULL;
}

bool fg_dpdk_ctl_set_l7_same(const struct fg_dpdk_ctl_set *a,
			     const struct fg_dpdk_ctl_set *b)
{
	const struct fg_dpdk_ctl_l7 *x = a ? a->l7 : NULL;
	const struct fg_dpdk_ctl_l7 *y = b ? b->l7 : NULL;

	if (x == y)
		return true;
	if (!x || !y)
		return false;
	return fg_l7_eq(x, y->rules, y->rules_len, y->blob, y->blob_len);
}

void fg_dpdk_ctl_set_free(struct fg_dpdk_ctl_set *s)
{
	uint32_t i;

	if (!s)
		return;
	fg_l7_put(s->l7);
	for (i = 0; s->rings && i < s->nsvcs; i++)
		fg_ring_put(s->rings[i]);
	free(s->rings);
	free(s->svcs);
	free(s->backends);
	free(s->limits);
	free(s);
}

/* Arrays for n services, b backends, l limits (at least one each, so
 * that NULL means only a failed allocation). */
static struct fg_dpdk_ctl_set *fg_set_alloc(uint32_t n, uint32_t b, uint32_t l)
{
	struct fg_dpdk_ctl_set *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->svcs = calloc(n ? n : 1, sizeof(*s->svcs));
	s->rings = calloc(n ? n : 1, sizeof(*s->rings));
	s->backends = calloc(b ? b : 1, sizeof(*s->backends));
	s->limits = calloc(l ? l : 1, sizeof(*s->limits));
	if (!s->svcs || !s->rings || !s->backends || !s->limits) {
		fg_dpdk_ctl_set_free(s);
		return NULL;
	}
	return s;
}

/* The config of a set in canonical form: only what the wire carries. */
static void fg_config_canon(struct fg_config *dst, const struct fg_config *src,
			    uint32_t gen, uint64_t version)
{
	uint32_t i;

	memset(dst, 0, sizeof(*dst));
	dst->gen = (uint8_t)gen;
	dst->flags = src->flags;
	dst->version = version;
	dst->nglobal_limits = src->nglobal_limits;
	for (i = 0; i < FG_GLOBAL_LIMITS_MAX; i++)
		dst->global_limits[i] = i < src->nglobal_limits ?
					src->global_limits[i] : FG_NO_LIMIT;
	memcpy(dst->vip_filter[gen & 1], src->vip_filter[gen & 1],
	       sizeof(dst->vip_filter[0]));
}

struct fg_dpdk_ctl_set *fg_dpdk_ctl_set_empty(void)
{
	struct fg_dpdk_ctl_set *s = fg_set_alloc(0, 0, 0);
	struct fg_config zero;

	if (!s)
		return NULL;
	memset(&zero, 0, sizeof(zero));
	fg_config_canon(&s->config, &zero, 0, 0);
	return s;
}

long fg_dpdk_ctl_set_service(const struct fg_dpdk_ctl_set *s, uint32_t id)
{
	uint32_t lo = 0, hi = s ? s->nsvcs : 0;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (s->svcs[mid].val.id == id)
			return mid;
		if (s->svcs[mid].val.id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

static long fg_set_backend_index(const struct fg_dpdk_ctl_set *s, uint32_t id)
{
	uint32_t lo = 0, hi = s ? s->nbackends : 0;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (s->backends[mid].id == id)
			return mid;
		if (s->backends[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

const struct fg_backend *fg_dpdk_ctl_set_backend(const struct fg_dpdk_ctl_set *s,
						 uint32_t id)
{
	long i = fg_set_backend_index(s, id);

	return i < 0 ? NULL : &s->backends[i].val;
}

static long fg_set_limit_index(const struct fg_dpdk_ctl_set *s, uint32_t id)
{
	uint32_t i;

	/* At most FG_LIMIT_MAX entries. */
	for (i = 0; i < s->nlimits; i++)
		if (s->limits[i].val.id == id)
			return i;
	return -1;
}

void fg_dpdk_ctl_set_view(const struct fg_dpdk_ctl_set *s, struct fg_compiled *cp)
{
	memset(cp, 0, sizeof(*cp));
	cp->gen = s->gen;
	cp->prev_gen = s->gen ^ 1U;
	cp->version = s->version;
	cp->config = s->config;
	cp->nsvcs = s->nsvcs;
	cp->svcs = s->svcs;
	cp->nbackends = s->nbackends;
	cp->backends = s->backends;
	cp->nlimits = s->nlimits;
	cp->limits = s->limits;
}

/* ------------------------------------------------------------- check */

static bool fg_name_ok(const char *name)
{
	return memchr(name, '\0', FG_NAME_MAX) && fg_name_valid(name);
}

static bool fg_family_ok(uint8_t f)
{
	return f == FG_AF_INET || f == FG_AF_INET6;
}

/* IPv4 addresses use word 0 only. */
static bool fg_words_ok(uint8_t family, const __be32 *a)
{
	return family == FG_AF_INET6 || (!a[1] && !a[2] && !a[3]);
}

static int fg_key_cmp(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct fg_svc_key));
}

/* A profile the fast path's math cannot overflow with (fg_tbucket.h). */
static bool fg_prof_ok(const struct fg_tb_profile *p)
{
	return p->interval_fp && p->shift <= 32 &&
	       p->interval_fp < (1ULL << 63) / FG_TB_COST_MAX &&
	       p->window_ns <= (1ULL << 62) &&
	       (p->shift == 32 || p->window_frac < (1ULL << p->shift));
}

static int fg_check_limit(const struct fg_compiled_limit *cl, uint32_t gen,
			  char *err, size_t errlen)
{
	const struct fg_limit *l = &cl->val;
	unsigned int max = l->match_family == FG_AF_INET ? 32 : 128;

	if (!fg_name_ok(cl->name))
		return fg_fail(err, errlen, -EINVAL, "limit id %u: bad name", l->id);
	if (cl->index != gen * FG_LIMIT_MAX + l->id)
		return fg_fail(err, errlen, -EINVAL,
			       "limit %s: index %u is not of generation %u",
			       cl->name, cl->index, gen);
	if (l->key > FG_LKEY_SERVICE || l->unit > FG_LUNIT_CPS ||
	    l->action > FG_LACT_RESET ||
	    (l->flags & ~(FG_LIM_F_DRY_RUN | FG_LIM_F_MATCH_SRC)))
		return fg_fail(err, errlen, -EINVAL,
			       "limit %s: key, unit, action or flags out of range",
			       cl->name);
	if (l->prefix_len > 128 || (l->key != FG_LKEY_SRC_PREFIX && l->prefix_len))
		return fg_fail(err, errlen, -EINVAL, "limit %s: prefix length %u",
			       cl->name, l->prefix_len);
	if (l->flags & FG_LIM_F_MATCH_SRC) {
		if (!fg_family_ok(l->match_family) || l->match_src_len > max ||
		    !fg_words_ok(l->match_family, l->match_src))
			return fg_fail(err, errlen, -EINVAL,
				       "limit %s: bad match.src", cl->name);
	} else if (l->match_family || l->match_src_len ||
		   l->match_src[0] || l->match_src[1] || l->match_src[2] ||
		   l->match_src[3]) {
		return fg_fail(err, errlen, -EINVAL,
			       "limit %s: match.src without its flag", cl->name);
	}
	if (!fg_prof_ok(&l->prof))
		return fg_fail(err, errlen, -EINVAL,
			       "limit %s: a rate profile out of range", cl->name);
	return 0;
}

int fg_dpdk_ctl_set_check(const struct fg_dpdk_ctl_set *s, char *err,
			  size_t errlen)
{
	struct fg_svc_key *keys = NULL;
	uint32_t i, j, *owner = NULL;
	uint64_t slots = 0;
	int ret = -EINVAL;

	if (s->gen > 1)
		return fg_fail(err, errlen, -EINVAL, "generation %u", s->gen);
	if (!s->version && (s->nsvcs || s->nbackends || s->nlimits))
		return fg_fail(err, errlen, -EINVAL,
			       "version 0 is the empty set; this one has entries");
	if (s->nsvcs > FG_SVC_MAX || s->nbackends > FG_BACKEND_MAX ||
	    s->nlimits > FG_LIMIT_MAX)
		return fg_fail(err, errlen, -EINVAL, "too many entries");
	if (s->config.gen != s->gen || s->config.version != s->version ||
	    s->config.nglobal_limits > FG_GLOBAL_LIMITS_MAX ||
	    (s->config.flags & ~FG_CFG_F_WILDCARD))
		return fg_fail(err, errlen, -EINVAL, "config out of range");

	for (i = 0; i < s->nlimits; i++) {
		if (s->limits[i].val.id >= FG_LIMIT_MAX ||
		    (i && s->limits[i].val.id <= s->limits[i - 1].val.id))
			return fg_fail(err, errlen, -EINVAL,
				       "limit ids out of range or not ascending");
		ret = fg_check_limit(&s->limits[i], s->gen, err, errlen);
		if (ret)
			return ret;
	}
	for (i = 0; i < FG_GLOBAL_LIMITS_MAX; i++) {
		uint16_t id = s->config.global_limits[i];

		if (i < s->config.nglobal_limits ? fg_set_limit_index(s, id) < 0 :
		    id != FG_NO_LIMIT)
			return fg_fail(err, errlen, -EINVAL,
				       "config: global limit %u is not in the set", id);
	}

	owner = malloc(FG_BACKEND_MAX * sizeof(*owner));
	keys = calloc(s->nsvcs ? s->nsvcs : 1, sizeof(*keys));
	if (!owner || !keys) {
		ret = fg_fail(err, errlen, -ENOMEM, "out of memory");
		goto out;
	}
	ret = -EINVAL;
	for (i = 0; i < s->nsvcs; i++) {
		const struct fg_compiled_svc *cs = &s->svcs[i];
		const struct fg_svc *v = &cs->val;

		if (v->id >= FG_SVC_MAX || (i && v->id <= s->svcs[i - 1].val.id)) {
			fg_fail(err, errlen, ret,
				"service ids out of range or not ascending");
			goto out;
		}
		if (!fg_name_ok(cs->name) || !fg_family_ok(cs->key.family) ||
		    !fg_words_ok(cs->key.family, cs->key.vip) ||
		    (cs->key.proto != 6 && cs->key.proto != 17) ||
		    cs->key.gen != s->gen || cs->key.pad[0] || cs->key.pad[1] ||
		    cs->key.pad[2]) {
			fg_fail(err, errlen, ret, "service id %u: bad name or key",
				v->id);
			goto out;
		}
		if (v->forward > FG_FWD_NAT || v->hash > FG_HASH_SRC_IP ||
		    v->nlimits > FG_SVC_LIMITS_MAX || v->pad) {
			fg_fail(err, errlen, ret,
				"service %s: forward, hash or limits out of range",
				cs->name);
			goto out;
		}
		for (j = 0; j < FG_SVC_LIMITS_MAX; j++)
			if (j < v->nlimits ? fg_set_limit_index(s, v->limits[j]) < 0 :
			    v->limits[j] != FG_NO_LIMIT) {
				fg_fail(err, errlen, ret,
					"service %s: limit %u is not in the set",
					cs->name, v->limits[j]);
				goto out;
			}
		if ((v->ring_size != 0) != (cs->ring != NULL) ||
		    v->ring_size > FG_DPDK_CTL_RING_SLOTS_MAX) {
			fg_fail(err, errlen, ret, "service %s: ring of %u slots",
				cs->name, v->ring_size);
			goto out;
		}
		slots += v->ring_size;
		keys[i] = cs->key;
	}
	if (slots > FG_DPDK_CTL_RING_SLOTS_MAX) {
		fg_fail(err, errlen, ret, "%llu ring slots: beyond %u",
			(unsigned long long)slots, FG_DPDK_CTL_RING_SLOTS_MAX);
		goto out;
	}
	qsort(keys, s->nsvcs, sizeof(*keys), fg_key_cmp);
	for (i = 1; i < s->nsvcs; i++)
		if (!fg_key_cmp(&keys[i - 1], &keys[i])) {
			fg_fail(err, errlen, ret, "two services on one address, port and protocol");
			goto out;
		}

	memset(owner, 0xff, FG_BACKEND_MAX * sizeof(*owner));
	for (i = 0; i < s->nbackends; i++) {
		const struct fg_compiled_backend *b = &s->backends[i];

		if (b->id >= FG_BACKEND_MAX || (i && b->id <= s->backends[i - 1].id)) {
			fg_fail(err, errlen, ret,
				"backend ids out of range or not ascending");
			goto out;
		}
		if (!fg_family_ok(b->val.family) ||
		    !fg_words_ok(b->val.family, b->val.addr) ||
		    !(b->val.flags & FG_BE_F_VALID) ||
		    (b->val.flags & ~(FG_BE_F_VALID | FG_BE_F_DOWN)) ||
		    fg_dpdk_ctl_set_service(s, b->val.svc_id) < 0) {
			fg_fail(err, errlen, ret,
				"backend id %u: bad address, flags or service",
				b->id);
			goto out;
		}
		owner[b->id] = b->val.svc_id;
	}
	for (i = 0; i < s->nsvcs; i++) {
		const struct fg_compiled_svc *cs = &s->svcs[i];

		for (j = 0; j < cs->val.ring_size; j++)
			if (cs->ring[j] >= FG_BACKEND_MAX ||
			    owner[cs->ring[j]] != cs->val.id) {
				fg_fail(err, errlen, ret,
					"service %s: ring slot %u names backend %u, not one of its own",
					cs->name, j, cs->ring[j]);
				goto out;
			}
	}
	ret = 0;
out:
	free(owner);
	free(keys);
	return ret;
}

/* ----------------------------------------------------- from compiled */

struct fg_sort_ref {
	uint32_t id;
	uint32_t i;
};

static int fg_ref_cmp(const void *a, const void *b)
{
	const struct fg_sort_ref *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

/* Indices of n entries in ascending id order (ids from get). */
static struct fg_sort_ref *fg_order(uint32_t n, const void *base, size_t size,
				    uint32_t (*get)(const void *))
{
	struct fg_sort_ref *r = calloc(n ? n : 1, sizeof(*r));
	uint32_t i;

	if (!r)
		return NULL;
	for (i = 0; i < n; i++) {
		r[i].id = get((const uint8_t *)base + (size_t)i * size);
		r[i].i = i;
	}
	qsort(r, n, sizeof(*r), fg_ref_cmp);
	return r;
}

static uint32_t fg_svc_id_of(const void *p)
{
	return ((const struct fg_compiled_svc *)p)->val.id;
}

static uint32_t fg_be_id_of(const void *p)
{
	return ((const struct fg_compiled_backend *)p)->id;
}

static uint32_t fg_lim_id_of(const void *p)
{
	return ((const struct fg_compiled_limit *)p)->val.id;
}

/* base's ring of service id when it holds these n slots, else NULL. */
static struct fg_dpdk_ctl_ring *fg_base_ring(const struct fg_dpdk_ctl_set *base,
					     uint32_t id, const uint32_t *slot,
					     uint32_t n)
{
	long i = fg_dpdk_ctl_set_service(base, id);
	struct fg_dpdk_ctl_ring *r;

	if (i < 0 || !(r = base->rings[i]) || r->n != n ||
	    memcmp(r->slot, slot, (size_t)n * sizeof(*slot)))
		return NULL;
	return r;
}

struct fg_dpdk_ctl_set *
fg_dpdk_ctl_set_from_compiled(const struct fg_compiled *cp,
			      const struct fg_dpdk_ctl_set *base, int *errp,
			      char *err, size_t errlen)
{
	struct fg_sort_ref *so = NULL, *bo = NULL, *lo = NULL;
	struct fg_dpdk_ctl_set *s = NULL;
	uint32_t i, gen;
	int ret = -ENOMEM;

	if (!cp || cp->gen > 1) {
		ret = fg_fail(err, errlen, -EINVAL, "no compiled set");
		goto fail;
	}
	gen = cp->gen;
	s = fg_set_alloc(cp->nsvcs, cp->nbackends, cp->nlimits);
	so = fg_order(cp->nsvcs, cp->svcs, sizeof(*cp->svcs), fg_svc_id_of);
	bo = fg_order(cp->nbackends, cp->backends, sizeof(*cp->backends),
		      fg_be_id_of);
	lo = fg_order(cp->nlimits, cp->limits, sizeof(*cp->limits), fg_lim_id_of);
	if (!s || !so || !bo || !lo)
		goto nomem;
	s->version = cp->version;
	s->gen = gen;
	fg_config_canon(&s->config, &cp->config, gen, cp->version);
	for (i = 0; i < cp->nsvcs; i++) {
		const struct fg_compiled_svc *in = &cp->svcs[so[i].i];
		struct fg_compiled_svc *o = &s->svcs[i];
		struct fg_dpdk_ctl_ring *r = NULL;

		memset(o, 0, sizeof(*o));
		snprintf(o->name, sizeof(o->name), "%s", in->name);
		o->key = in->key;
		o->key.gen = (uint8_t)gen;
		o->val = in->val;
		s->nsvcs = i + 1;
		if (in->val.ring_size && in->ring) {
			r = fg_ring_get(fg_base_ring(base, in->val.id, in->ring,
						     in->val.ring_size));
			if (!r) {
				r = fg_ring_new(in->val.ring_size);
				if (!r)
					goto nomem;
				memcpy(r->slot, in->ring,
				       (size_t)in->val.ring_size * sizeof(uint32_t));
			}
			s->rings[i] = r;
			o->ring = r->slot;
		}
	}
	for (i = 0; i < cp->nbackends; i++)
		s->backends[i] = cp->backends[bo[i].i];
	s->nbackends = cp->nbackends;
	for (i = 0; i < cp->nlimits; i++)
		s->limits[i] = cp->limits[lo[i].i];
	s->nlimits = cp->nlimits;
	ret = fg_dpdk_ctl_set_check(s, err, errlen);
	if (ret)
		goto fail;
	free(so);
	free(bo);
	free(lo);
	return s;
nomem:
	ret = fg_fail(err, errlen, -ENOMEM, "out of memory");
fail:
	free(so);
	free(bo);
	free(lo);
	fg_dpdk_ctl_set_free(s);
	*errp = ret;
	return NULL;
}

/* ----------------------------------------------------------- encoder */

static void fg_put_config(struct fg_dpdk_ctl_buf *b, const struct fg_config *c,
			  uint32_t gen)
{
	uint32_t i;

	fg_dpdk_ctl_put_u8(b, c->flags);
	fg_dpdk_ctl_put_u8(b, (uint8_t)c->nglobal_limits);
	for (i = 0; i < c->nglobal_limits; i++)
		fg_dpdk_ctl_put_u16(b, c->global_limits[i]);
	for (i = 0; i < FG_VIP_FILTER_WORDS; i++)
		fg_dpdk_ctl_put_u64(b, c->vip_filter[gen & 1][i]);
}

static void fg_put_svc(struct fg_dpdk_ctl_buf *b, const struct fg_compiled_svc *cs,
		       bool ring)
{
	const struct fg_svc *v = &cs->val;
	size_t nl = strnlen(cs->name, FG_NAME_MAX - 1);
	uint32_t j;

	fg_dpdk_ctl_put_u32(b, v->id);
	fg_dpdk_ctl_put_u8(b, (uint8_t)nl);
	fg_dpdk_ctl_put(b, cs->name, nl);
	fg_dpdk_ctl_put(b, cs->key.vip, 16);
	fg_dpdk_ctl_put(b, &cs->key.port, 2);
	fg_dpdk_ctl_put_u8(b, cs->key.proto);
	fg_dpdk_ctl_put_u8(b, cs->key.family);
	fg_dpdk_ctl_put_u32(b, v->ring_off);
	fg_dpdk_ctl_put_u32(b, v->ring_size);
	fg_dpdk_ctl_put_u8(b, v->forward);
	fg_dpdk_ctl_put_u8(b, v->hash);
	fg_dpdk_ctl_put_u8(b, (uint8_t)v->nlimits);
	for (j = 0; j < v->nlimits && j < FG_SVC_LIMITS_MAX; j++)
		fg_dpdk_ctl_put_u16(b, v->limits[j]);
	fg_dpdk_ctl_put(b, &v->gue_port, 2);
	fg_dpdk_ctl_put_u8(b, ring && v->ring_size);
	if (!ring || !v->ring_size)
		return;
	/* Little-endian hosts write the slots as they are. */
	if (fg_buf_reserve(b, (size_t)v->ring_size * 4))
		return;
	for (j = 0; j < v->ring_size; j++)
		fg_dpdk_ctl_put_u32(b, cs->ring[j]);
}

static void fg_put_be(struct fg_dpdk_ctl_buf *b, const struct fg_compiled_backend *e)
{
	fg_dpdk_ctl_put_u32(b, e->id);
	fg_dpdk_ctl_put(b, e->val.addr, 16);
	fg_dpdk_ctl_put(b, &e->val.port, 2);
	fg_dpdk_ctl_put_u8(b, e->val.family);
	fg_dpdk_ctl_put_u8(b, e->val.flags);
	fg_dpdk_ctl_put_u32(b, e->val.svc_id);
}

static void fg_put_lim(struct fg_dpdk_ctl_buf *b, const struct fg_compiled_limit *cl)
{
	const struct fg_limit *l = &cl->val;
	size_t nl = strnlen(cl->name, FG_NAME_MAX - 1);

	fg_dpdk_ctl_put_u32(b, l->id);
	fg_dpdk_ctl_put_u8(b, (uint8_t)nl);
	fg_dpdk_ctl_put(b, cl->name, nl);
	fg_dpdk_ctl_put_u64(b, l->prof.interval_fp);
	fg_dpdk_ctl_put_u64(b, l->prof.window_ns);
	fg_dpdk_ctl_put_u32(b, l->prof.shift);
	fg_dpdk_ctl_put_u32(b, l->prof.window_frac);
	fg_dpdk_ctl_put(b, l->match_src, 16);
	fg_dpdk_ctl_put_u8(b, l->match_src_len);
	fg_dpdk_ctl_put_u8(b, l->match_proto);
	fg_dpdk_ctl_put(b, &l->match_dport, 2);
	fg_dpdk_ctl_put_u8(b, l->key);
	fg_dpdk_ctl_put_u8(b, l->prefix_len);
	fg_dpdk_ctl_put_u8(b, l->unit);
	fg_dpdk_ctl_put_u8(b, l->action);
	fg_dpdk_ctl_put_u8(b, l->flags);
	fg_dpdk_ctl_put_u8(b, l->match_family);
}

/* The L7 section: the rules, then the blob, each after its length. */
static void fg_put_l7(struct fg_dpdk_ctl_buf *b, const struct fg_dpdk_ctl_l7 *x)
{
	fg_dpdk_ctl_put_u32(b, x ? x->rules_len : 0);
	if (x)
		fg_dpdk_ctl_put(b, x->rules, x->rules_len);
	fg_dpdk_ctl_put_u32(b, x ? x->blob_len : 0);
	if (x)
		fg_dpdk_ctl_put(b, x->blob, x->blob_len);
}

int fg_dpdk_ctl_encode_full(const struct fg_dpdk_ctl_set *s,
			    struct fg_dpdk_ctl_buf *b)
{
	uint32_t i;

	fg_dpdk_ctl_put_u64(b, s->version);
	fg_dpdk_ctl_put_u32(b, s->gen);
	fg_put_config(b, &s->config, s->gen);
	fg_dpdk_ctl_put_u32(b, s->nsvcs);
	for (i = 0; i < s->nsvcs; i++)
		fg_put_svc(b, &s->svcs[i], true);
	fg_dpdk_ctl_put_u32(b, s->nbackends);
	for (i = 0; i < s->nbackends; i++)
		fg_put_be(b, &s->backends[i]);
	fg_dpdk_ctl_put_u32(b, s->nlimits);
	for (i = 0; i < s->nlimits; i++)
		fg_put_lim(b, &s->limits[i]);
	fg_put_l7(b, s->l7);
	return b->err;
}

/* Services of base and next in one id-ordered walk: what next drops
 * (want_put false) or writes. */
static uint32_t fg_delta_svcs(const struct fg_dpdk_ctl_set *base,
			      const struct fg_dpdk_ctl_set *next, bool want_put,
			      struct fg_dpdk_ctl_buf *b)
{
	uint32_t i = 0, j = 0, n = 0;

	while (i < base->nsvcs || j < next->nsvcs) {
		const struct fg_compiled_svc *x = i < base->nsvcs ? &base->svcs[i] : NULL;
		const struct fg_compiled_svc *y = j < next->nsvcs ? &next->svcs[j] : NULL;

		if (x && (!y || x->val.id < y->val.id)) {
			if (!want_put) {
				if (b)
					fg_dpdk_ctl_put_u32(b, x->val.id);
				n++;
			}
			i++;
		} else if (y && (!x || y->val.id < x->val.id)) {
			if (want_put) {
				if (b)
					fg_put_svc(b, y, true);
				n++;
			}
			j++;
		} else {
			bool same_ring = base->rings[i] == next->rings[j] ||
				(x->val.ring_size == y->val.ring_size &&
				 (!x->val.ring_size ||
				  !memcmp(x->ring, y->ring,
					  (size_t)x->val.ring_size * 4)));
			struct fg_svc_key kx = x->key, ky = y->key;

			kx.gen = ky.gen = 0;
			if (want_put && (!same_ring || strcmp(x->name, y->name) ||
					 memcmp(&kx, &ky, sizeof(kx)) ||
					 memcmp(&x->val, &y->val, sizeof(x->val)))) {
				if (b)
					fg_put_svc(b, y, !same_ring);
				n++;
			}
			i++;
			j++;
		}
	}
	return n;
}

static uint32_t fg_delta_bes(const struct fg_dpdk_ctl_set *base,
			     const struct fg_dpdk_ctl_set *next, bool want_put,
			     struct fg_dpdk_ctl_buf *b)
{
	uint32_t i = 0, j = 0, n = 0;

	while (i < base->nbackends || j < next->nbackends) {
		const struct fg_compiled_backend *x =
			i < base->nbackends ? &base->backends[i] : NULL;
		const struct fg_compiled_backend *y =
			j < next->nbackends ? &next->backends[j] : NULL;
		bool put = false, drop = false;

		if (x && (!y || x->id < y->id)) {
			drop = true;
			i++;
		} else if (y && (!x || y->id < x->id)) {
			put = true;
			j++;
		} else {
			put = memcmp(&x->val, &y->val, sizeof(x->val)) != 0;
			i++;
			j++;
		}
		if (want_put && put) {
			if (b)
				fg_put_be(b, y);
			n++;
		} else if (!want_put && drop) {
			if (b)
				fg_dpdk_ctl_put_u32(b, x->id);
			n++;
		}
	}
	return n;
}

static uint32_t fg_delta_lims(const struct fg_dpdk_ctl_set *base,
			      const struct fg_dpdk_ctl_set *next, bool want_put,
			      struct fg_dpdk_ctl_buf *b)
{
	uint32_t i = 0, j = 0, n = 0;

	while (i < base->nlimits || j < next->nlimits) {
		const struct fg_compiled_limit *x =
			i < base->nlimits ? &base->limits[i] : NULL;
		const struct fg_compiled_limit *y =
			j < next->nlimits ? &next->limits[j] : NULL;
		bool put = false, drop = false;

		if (x && (!y || x->val.id < y->val.id)) {
			drop = true;
			i++;
		} else if (y && (!x || y->val.id < x->val.id)) {
			put = true;
			j++;
		} else {
			put = strcmp(x->name, y->name) ||
			      memcmp(&x->val, &y->val, sizeof(x->val));
			i++;
			j++;
		}
		if (want_put && put) {
			if (b)
				fg_put_lim(b, y);
			n++;
		} else if (!want_put && drop) {
			if (b)
				fg_dpdk_ctl_put_u32(b, x->val.id);
			n++;
		}
	}
	return n;
}

int fg_dpdk_ctl_encode_delta(const struct fg_dpdk_ctl_set *base,
			     const struct fg_dpdk_ctl_set *next,
			     struct fg_dpdk_ctl_buf *b)
{
	uint32_t (*const walk[3])(const struct fg_dpdk_ctl_set *,
				  const struct fg_dpdk_ctl_set *, bool,
				  struct fg_dpdk_ctl_buf *) = {
		fg_delta_svcs, fg_delta_bes, fg_delta_lims,
	};
	int k, put;

	fg_dpdk_ctl_put_u64(b, base->version);
	fg_dpdk_ctl_put_u64(b, next->version);
	fg_dpdk_ctl_put_u32(b, next->gen);
	fg_put_config(b, &next->config, next->gen);
	/* Counted first, then written: two walks of id-ordered arrays. */
	for (k = 0; k < 3; k++)
		for (put = 0; put < 2; put++) {
			fg_dpdk_ctl_put_u32(b, walk[k](base, next, put, NULL));
			walk[k](base, next, put, b);
		}
	if (fg_dpdk_ctl_set_l7_same(base, next)) {
		fg_dpdk_ctl_put_u8(b, 0);
	} else {
		fg_dpdk_ctl_put_u8(b, 1);
		fg_put_l7(b, next->l7);
	}
	return b->err;
}

/* ----------------------------------------------------------- decoder */

/* Smallest encodings: a count n of entries no smaller than these cannot
 * exceed the bytes left, which bounds every allocation by the body. */
#define FG_SVC_WIRE_MIN 39U
#define FG_BE_WIRE_MIN 28U
#define FG_LIM_WIRE_MIN 55U

struct fg_dec {
	struct fg_dpdk_ctl_rd r;
	char *err;
	size_t errlen;
};

static int fg_trunc(struct fg_dec *d, const char *what)
{
	return fg_fail(d->err, d->errlen, -EINVAL,
		       "truncated or malformed at byte %zu of %zu (%s)",
		       d->r.off, d->r.n, what);
}

/* A count of entries of at least min bytes each. */
static int fg_get_count(struct fg_dec *d, uint32_t max, size_t min,
			const char *what, uint32_t *n)
{
	*n = fg_dpdk_ctl_get_u32(&d->r);
	if (d->r.bad)
		return fg_trunc(d, what);
	if (*n > max || (size_t)*n * min > fg_rd_left(&d->r))
		return fg_fail(d->err, d->errlen, -EINVAL,
			       "%s: %u entries, more than %u or than the %zu bytes left hold",
			       what, *n, max, fg_rd_left(&d->r));
	return 0;
}

static int fg_get_name(struct fg_dec *d, char *name, const char *what)
{
	uint8_t n = fg_dpdk_ctl_get_u8(&d->r);

	memset(name, 0, FG_NAME_MAX);
	if (n >= FG_NAME_MAX)
		return fg_fail(d->err, d->errlen, -EINVAL, "%s: name of %u bytes",
			       what, n);
	fg_dpdk_ctl_get(&d->r, name, n);
	return d->r.bad ? fg_trunc(d, what) : 0;
}

static int fg_get_config(struct fg_dec *d, struct fg_config *c, uint32_t gen,
			 uint64_t version)
{
	struct fg_config in;
	uint32_t i;

	memset(&in, 0, sizeof(in));
	in.flags = fg_dpdk_ctl_get_u8(&d->r);
	in.nglobal_limits = fg_dpdk_ctl_get_u8(&d->r);
	if (in.nglobal_limits > FG_GLOBAL_LIMITS_MAX)
		return fg_fail(d->err, d->errlen, -EINVAL,
			       "config: %u global limits", in.nglobal_limits);
	for (i = 0; i < in.nglobal_limits; i++)
		in.global_limits[i] = fg_dpdk_ctl_get_u16(&d->r);
	for (i = 0; i < FG_VIP_FILTER_WORDS; i++)
		in.vip_filter[gen & 1][i] = fg_dpdk_ctl_get_u64(&d->r);
	if (d->r.bad)
		return fg_trunc(d, "config");
	fg_config_canon(c, &in, gen, version);
	return 0;
}

/* One service; *has_ring says whether its ring came along (allocated
 * into *ring). */
static int fg_get_svc(struct fg_dec *d, uint32_t gen, struct fg_compiled_svc *cs,
		      struct fg_dpdk_ctl_ring **ring, bool *has_ring)
{
	struct fg_svc *v = &cs->val;
	uint32_t j;
	uint8_t hr;

	memset(cs, 0, sizeof(*cs));
	*ring = NULL;
	v->id = fg_dpdk_ctl_get_u32(&d->r);
	if (fg_get_name(d, cs->name, "service"))
		return -EINVAL;
	fg_dpdk_ctl_get(&d->r, cs->key.vip, 16);
	fg_dpdk_ctl_get(&d->r, &cs->key.port, 2);
	cs->key.proto = fg_dpdk_ctl_get_u8(&d->r);
	cs->key.family = fg_dpdk_ctl_get_u8(&d->r);
	cs->key.gen = (uint8_t)gen;
	v->ring_off = fg_dpdk_ctl_get_u32(&d->r);
	v->ring_size = fg_dpdk_ctl_get_u32(&d->r);
	v->forward = fg_dpdk_ctl_get_u8(&d->r);
	v->hash = fg_dpdk_ctl_get_u8(&d->r);
	v->nlimits = fg_dpdk_ctl_get_u8(&d->r);
	if (v->nlimits > FG_SVC_LIMITS_MAX)
		return fg_fail(d->err, d->errlen, -EINVAL,
			       "service %s: %u limits", cs->name, v->nlimits);
	for (j = 0; j < FG_SVC_LIMITS_MAX; j++)
		v->limits[j] = j < v->nlimits ? fg_dpdk_ctl_get_u16(&d->r) :
			       FG_NO_LIMIT;
	fg_dpdk_ctl_get(&d->r, &v->gue_port, 2);
	hr = fg_dpdk_ctl_get_u8(&d->r);
	if (d->r.bad)
		return fg_trunc(d, "service");
	if (hr > 1 || (hr && !v->ring_size))
		return fg_fail(d->err, d->errlen, -EINVAL,
			       "service %s: ring flag %u with %u slots", cs->name,
			       hr, v->ring_size);
	*has_ring = hr;
	if (!hr)
		return 0;
	if (v->ring_size > FG_DPDK_CTL_RING_SLOTS_MAX ||
	    (size_t)v->ring_size * 4 > fg_rd_left(&d->r))
		return fg_fail(d->err, d->errlen, -EINVAL,
			       "service %s: ring of %u slots, more than the body holds",
			       cs->name, v->ring_size);
	*ring = fg_ring_new(v->ring_size);
	if (!*ring)
		return fg_fail(d->err, d->errlen, -ENOMEM, "out of memory");
	for (j = 0; j < v->ring_size; j++)
		(*ring)->slot[j] = fg_dpdk_ctl_get_u32(&d->r);
	cs->ring = (*ring)->slot;
	return d->r.bad ? fg_trunc(d, "ring") : 0;
}

static int fg_get_be(struct fg_dec *d, struct fg_compiled_backend *e)
{
	memset(e, 0, sizeof(*e));
	e->id = fg_dpdk_ctl_get_u32(&d->r);
	fg_dpdk_ctl_get(&d->r, e->val.addr, 16);
	fg_dpdk_ctl_get(&d->r, &e->val.port, 2);
	e->val.family = fg_dpdk_ctl_get_u8(&d->r);
	e->val.flags = fg_dpdk_ctl_get_u8(&d->r);
	e->val.svc_id = fg_dpdk_ctl_get_u32(&d->r);
	return d->r.bad ? fg_trunc(d, "backend") : 0;
}

static int fg_get_lim(struct fg_dec *d, uint32_t gen, struct fg_compiled_limit *cl)
{
	struct fg_limit *l = &cl->val;

	memset(cl, 0, sizeof(*cl));
	l->id = fg_dpdk_ctl_get_u32(&d->r);
	if (fg_get_name(d, cl->name, "limit"))
		return -EINVAL;
	l->prof.interval_fp = fg_dpdk_ctl_get_u64(&d->r);
	l->prof.window_ns = fg_dpdk_ctl_get_u64(&d->r);
	l->prof.shift = fg_dpdk_ctl_get_u32(&d->r);
	l->prof.window_frac = fg_dpdk_ctl_get_u32(&d->r);
	fg_dpdk_ctl_get(&d->r, l->match_src, 16);
	l->match_src_len = fg_dpdk_ctl_get_u8(&d->r);
	l->match_proto = fg_dpdk_ctl_get_u8(&d->r);
	fg_dpdk_ctl_get(&d->r, &l->match_dport, 2);
	l->key = fg_dpdk_ctl_get_u8(&d->r);
	l->prefix_len = fg_dpdk_ctl_get_u8(&d->r);
	l->unit = fg_dpdk_ctl_get_u8(&d->r);
	l->action = fg_dpdk_ctl_get_u8(&d->r);
	l->flags = fg_dpdk_ctl_get_u8(&d->r);
	l->match_family = fg_dpdk_ctl_get_u8(&d->r);
	cl->index = gen * FG_LIMIT_MAX + (l->id < FG_LIMIT_MAX ? l->id : 0);
	return d->r.bad ? fg_trunc(d, "limit") : 0;
}

/* An ascending list of n ids below max into ids. */
static int fg_get_ids(struct fg_dec *d, uint32_t n, uint32_t max, uint32_t *ids,
		      const char *what)
{
	uint32_t i;

	for (i = 0; i < n; i++) {
		ids[i] = fg_dpdk_ctl_get_u32(&d->r);
		if (d->r.bad)
			return fg_trunc(d, what);
		if (ids[i] >= max || (i && ids[i] <= ids[i - 1]))
			return fg_fail(d->err, d->errlen, -EINVAL,
				       "%s: ids out of range or not ascending", what);
	}
	return 0;
}

static int fg_get_head(struct fg_dec *d, uint64_t *version, uint32_t *gen)
{
	*version = fg_dpdk_ctl_get_u64(&d->r);
	*gen = fg_dpdk_ctl_get_u32(&d->r);
	if (d->r.bad)
		return fg_trunc(d, "header");
	if (*gen > 1)
		return fg_fail(d->err, d->errlen, -EINVAL, "generation %u", *gen);
	return 0;
}

/* An L7 section into s->l7 (none when both lengths are 0). */
static int fg_get_l7(struct fg_dec *d, struct fg_dpdk_ctl_set *s)
{
	const uint8_t *rules, *blob;
	uint32_t rn, bn;

	rn = fg_dpdk_ctl_get_u32(&d->r);
	if (d->r.bad)
		return fg_trunc(d, "l7 section");
	if (rn > FG_DPDK_CTL_L7_RULES_MAX || rn > fg_rd_left(&d->r))
		return fg_fail(d->err, d->errlen, -EINVAL,
			       "l7 section: %u bytes of rules", rn);
	rules = d->r.p + d->r.off;
	fg_rd_skip(&d->r, rn);
	bn = fg_dpdk_ctl_get_u32(&d->r);
	if (d->r.bad)
		return fg_trunc(d, "l7 section");
	if (bn > FG_DPDK_CTL_L7_BLOB_MAX || bn > fg_rd_left(&d->r))
		return fg_fail(d->err, d->errlen, -EINVAL,
			       "l7 section: %u bytes of blob", bn);
	blob = d->r.p + d->r.off;
	fg_rd_skip(&d->r, bn);
	if (!rn != !bn)
		return fg_fail(d->err, d->errlen, -EINVAL,
			       "l7 section: rules and blob go together");
	fg_l7_put(s->l7);
	s->l7 = NULL;
	if (rn && !(s->l7 = fg_l7_new(rules, rn, blob, bn)))
		return fg_fail(d->err, d->errlen, -ENOMEM, "out of memory");
	return 0;
}

static int fg_dec_end(struct fg_dec *d, struct fg_dpdk_ctl_set *s)
{
	if (d->r.off != d->r.n)
		return fg_fail(d->err, d->errlen, -EINVAL,
			       "%zu bytes after the end of the body",
			       d->r.n - d->r.off);
	return fg_dpdk_ctl_set_check(s, d->err, d->errlen);
}

int fg_dpdk_ctl_decode_full(const void *p, size_t n,
			    struct fg_dpdk_ctl_set **out, char *err,
			    size_t errlen)
{
	struct fg_dec d = { .r = { .p = p, .n = n }, .err = err,
			    .errlen = errlen };
	struct fg_dpdk_ctl_set *s = NULL;
	uint32_t gen, nsvc, nbe, nlim, i;
	struct fg_config cfg;
	uint64_t version;
	bool hr;
	int ret;

	*out = NULL;
	ret = fg_get_head(&d, &version, &gen);
	if (!ret)
		ret = fg_get_config(&d, &cfg, gen, version);
	if (!ret)
		ret = fg_get_count(&d, FG_SVC_MAX, FG_SVC_WIRE_MIN, "services",
				   &nsvc);
	if (ret)
		return ret;
	/* Backends and limits are counted after the services: allocate
	 * their arrays then. */
	s = fg_set_alloc(nsvc, 0, 0);
	if (!s)
		return fg_fail(err, errlen, -ENOMEM, "out of memory");
	s->version = version;
	s->gen = gen;
	s->config = cfg;
	for (i = 0; i < nsvc; i++) {
		ret = fg_get_svc(&d, gen, &s->svcs[i], &s->rings[i], &hr);
		s->nsvcs = i + 1;
		if (ret)
			goto fail;
		if (!hr && s->svcs[i].val.ring_size) {
			ret = fg_fail(err, errlen, -EINVAL,
				      "service %s: ring missing from a complete set",
				      s->svcs[i].name);
			goto fail;
		}
	}
	ret = fg_get_count(&d, FG_BACKEND_MAX, FG_BE_WIRE_MIN, "backends", &nbe);
	if (ret)
		goto fail;
	free(s->backends);
	s->backends = calloc(nbe ? nbe : 1, sizeof(*s->backends));
	if (!s->backends) {
		ret = fg_fail(err, errlen, -ENOMEM, "out of memory");
		goto fail;
	}
	for (i = 0; i < nbe; i++) {
		ret = fg_get_be(&d, &s->backends[i]);
		if (ret)
			goto fail;
	}
	s->nbackends = nbe;
	ret = fg_get_count(&d, FG_LIMIT_MAX, FG_LIM_WIRE_MIN, "limits", &nlim);
	if (ret)
		goto fail;
	free(s->limits);
	s->limits = calloc(nlim ? nlim : 1, sizeof(*s->limits));
	if (!s->limits) {
		ret = fg_fail(err, errlen, -ENOMEM, "out of memory");
		goto fail;
	}
	for (i = 0; !ret && i < nlim; i++)
		ret = fg_get_lim(&d, gen, &s->limits[i]);
	if (ret)
		goto fail;
	s->nlimits = nlim;
	ret = fg_get_l7(&d, s);
	if (!ret)
		ret = fg_dec_end(&d, s);
	if (ret)
		goto fail;
	*out = s;
	return 0;
fail:
	fg_dpdk_ctl_set_free(s);
	return ret;
}

/*
 * The merge of a DELTA's lists into base's entries, one kind at a time:
 * base's entries in id order, minus the dropped ids (each must be
 * base's), with the written ones in place or inserted.
 */
int fg_dpdk_ctl_decode_delta(const struct fg_dpdk_ctl_set *base,
			     const void *p, size_t n,
			     struct fg_dpdk_ctl_set **out, char *err,
			     size_t errlen)
{
	struct fg_dec d = { .r = { .p = p, .n = n }, .err = err,
			    .errlen = errlen };
	struct fg_compiled_svc *put_s = NULL;
	struct fg_dpdk_ctl_ring **put_r = NULL;
	struct fg_compiled_backend *put_b = NULL;
	struct fg_compiled_limit *put_l = NULL;
	uint32_t *del = NULL, ndel, nput, nput_s = 0, i, j, k, o, gen;
	struct fg_dpdk_ctl_set *s = NULL;
	uint64_t bv, version;
	struct fg_config cfg;
	bool *has = NULL;
	int ret;

	*out = NULL;
	bv = fg_dpdk_ctl_get_u64(&d.r);
	ret = fg_get_head(&d, &version, &gen);
	if (ret)
		return ret;
	if (bv != base->version)
		return fg_fail(err, errlen, -ESTALE,
			       "delta from version %llu; this process holds %llu",
			       (unsigned long long)bv,
			       (unsigned long long)base->version);
	ret = fg_get_config(&d, &cfg, gen, version);
	if (ret)
		return ret;

	/* Deleted ids need 4 bytes each; one list at a time, freed after. */
	del = malloc((FG_BACKEND_MAX + 1) * sizeof(*del));
	s = calloc(1, sizeof(*s));
	if (!del || !s) {
		ret = fg_fail(err, errlen, -ENOMEM, "out of memory");
		goto out;
	}
	s->version = version;
	s->gen = gen;
	s->config = cfg;

	/* Services. */
	ret = fg_get_count(&d, FG_SVC_MAX, 4, "dropped services", &ndel);
	if (!ret)
		ret = fg_get_ids(&d, ndel, FG_SVC_MAX, del, "dropped services");
	if (!ret)
		ret = fg_get_count(&d, FG_SVC_MAX, FG_SVC_WIRE_MIN, "services",
				   &nput);
	if (ret)
		goto out;
	put_s = calloc(nput ? nput : 1, sizeof(*put_s));
	put_r = calloc(nput ? nput : 1, sizeof(*put_r));
	nput_s = put_r ? nput : 0;
	has = calloc(nput ? nput : 1, sizeof(*has));
	s->svcs = calloc((size_t)base->nsvcs + nput + 1, sizeof(*s->svcs));
	s->rings = calloc((size_t)base->nsvcs + nput + 1, sizeof(*s->rings));
	if (!put_s || !put_r || !has || !s->svcs || !s->rings) {
		ret = fg_fail(err, errlen, -ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < nput; i++) {
		ret = fg_get_svc(&d, gen, &put_s[i], &put_r[i], &has[i]);
		if (ret)
			goto out;
		if (i && put_s[i].val.id <= put_s[i - 1].val.id) {
			ret = fg_fail(err, errlen, -EINVAL,
				      "services: ids not ascending");
			goto out;
		}
	}
	for (i = j = k = o = 0; i < base->nsvcs || k < nput; ) {
		const struct fg_compiled_svc *x = i < base->nsvcs ? &base->svcs[i] : NULL;
		uint32_t xid = x ? x->val.id : UINT32_MAX;
		uint32_t yid = k < nput ? put_s[k].val.id : UINT32_MAX;
		bool dropped = j < ndel && del[j] == xid;

		if (j < ndel && del[j] < xid) {
			ret = fg_fail(err, errlen, -EINVAL,
				      "dropped service %u is not in version %llu",
				      del[j], (unsigned long long)bv);
			goto out;
		}
		if (dropped && yid == xid) {
			ret = fg_fail(err, errlen, -EINVAL,
				      "service %u both dropped and written", xid);
			goto out;
		}
		if (yid <= xid) {
			s->svcs[o] = put_s[k];
			if (has[k]) {
				s->rings[o] = put_r[k];
				put_r[k] = NULL;
			} else if (s->svcs[o].val.ring_size) {
				/* No ring: base's, which must be there. */
				if (yid != xid || !base->rings[i] ||
				    base->rings[i]->n != s->svcs[o].val.ring_size) {
					ret = fg_fail(err, errlen, -EINVAL,
						      "service %s: no ring sent and none of that size held",
						      put_s[k].name);
					goto out;
				}
				s->rings[o] = fg_ring_get(base->rings[i]);
			}
			s->svcs[o].ring = s->rings[o] ? s->rings[o]->slot : NULL;
			o++;
			s->nsvcs = o;
			k++;
			if (yid == xid)
				i++;
			continue;
		}
		if (dropped) {
			j++;
		} else {
			s->svcs[o] = *x;
			s->svcs[o].key.gen = (uint8_t)gen;
			s->rings[o] = fg_ring_get(base->rings[i]);
			o++;
			s->nsvcs = o;
		}
		i++;
	}
	if (j < ndel) {
		ret = fg_fail(err, errlen, -EINVAL,
			      "dropped service %u is not in version %llu", del[j],
			      (unsigned long long)bv);
		goto out;
	}

	/* Backends. */
	ret = fg_get_count(&d, FG_BACKEND_MAX, 4, "dropped backends", &ndel);
	if (!ret)
		ret = fg_get_ids(&d, ndel, FG_BACKEND_MAX, del, "dropped backends");
	if (!ret)
		ret = fg_get_count(&d, FG_BACKEND_MAX, FG_BE_WIRE_MIN, "backends",
				   &nput);
	if (ret)
		goto out;
	put_b = calloc(nput ? nput : 1, sizeof(*put_b));
	s->backends = calloc((size_t)base->nbackends + nput + 1,
			     sizeof(*s->backends));
	if (!put_b || !s->backends) {
		ret = fg_fail(err, errlen, -ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < nput; i++) {
		ret = fg_get_be(&d, &put_b[i]);
		if (ret)
			goto out;
		if (i && put_b[i].id <= put_b[i - 1].id) {
			ret = fg_fail(err, errlen, -EINVAL, "backends: ids not ascending");
			goto out;
		}
	}
	for (i = j = k = o = 0; i < base->nbackends || k < nput; ) {
		uint32_t xid = i < base->nbackends ? base->backends[i].id : UINT32_MAX;
		uint32_t yid = k < nput ? put_b[k].id : UINT32_MAX;
		bool dropped = j < ndel && del[j] == xid;

		if ((j < ndel && del[j] < xid) || (dropped && yid == xid)) {
			ret = fg_fail(err, errlen, -EINVAL,
				      "dropped backend %u not held, or also written",
				      del[j]);
			goto out;
		}
		if (yid <= xid) {
			s->backends[o++] = put_b[k++];
			if (yid == xid)
				i++;
		} else {
			if (dropped)
				j++;
			else
				s->backends[o++] = base->backends[i];
			i++;
		}
	}
	s->nbackends = o;
	if (j < ndel) {
		ret = fg_fail(err, errlen, -EINVAL, "dropped backend %u not held",
			      del[j]);
		goto out;
	}

	/* Limits. */
	ret = fg_get_count(&d, FG_LIMIT_MAX, 4, "dropped limits", &ndel);
	if (!ret)
		ret = fg_get_ids(&d, ndel, FG_LIMIT_MAX, del, "dropped limits");
	if (!ret)
		ret = fg_get_count(&d, FG_LIMIT_MAX, FG_LIM_WIRE_MIN, "limits", &nput);
	if (ret)
		goto out;
	put_l = calloc(nput ? nput : 1, sizeof(*put_l));
	s->limits = calloc((size_t)base->nlimits + nput + 1, sizeof(*s->limits));
	if (!put_l || !s->limits) {
		ret = fg_fail(err, errlen, -ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < nput; i++) {
		ret = fg_get_lim(&d, gen, &put_l[i]);
		if (ret)
			goto out;
		if (i && put_l[i].val.id <= put_l[i - 1].val.id) {
			ret = fg_fail(err, errlen, -EINVAL, "limits: ids not ascending");
			goto out;
		}
	}
	for (i = j = k = o = 0; i < base->nlimits || k < nput; ) {
		uint32_t xid = i < base->nlimits ? base->limits[i].val.id : UINT32_MAX;
		uint32_t yid = k < nput ? put_l[k].val.id : UINT32_MAX;
		bool dropped = j < ndel && del[j] == xid;

		if ((j < ndel && del[j] < xid) || (dropped && yid == xid)) {
			ret = fg_fail(err, errlen, -EINVAL,
				      "dropped limit %u not held, or also written",
				      del[j]);
			goto out;
		}
		if (yid <= xid) {
			s->limits[o++] = put_l[k++];
			if (yid == xid)
				i++;
		} else {
			if (dropped) {
				j++;
			} else {
				s->limits[o] = base->limits[i];
				s->limits[o].index = gen * FG_LIMIT_MAX +
						     base->limits[i].val.id;
				o++;
			}
			i++;
		}
	}
	s->nlimits = o;
	if (j < ndel) {
		ret = fg_fail(err, errlen, -EINVAL, "dropped limit %u not held",
			      del[j]);
		goto out;
	}
	/* The L7 section: base's, or the one that follows. */
	k = fg_dpdk_ctl_get_u8(&d.r);
	if (d.r.bad) {
		ret = fg_trunc(&d, "l7 flag");
		goto out;
	}
	if (k > 1) {
		ret = fg_fail(err, errlen, -EINVAL, "l7 flag %u", k);
		goto out;
	}
	if (k) {
		ret = fg_get_l7(&d, s);
		if (ret)
			goto out;
	} else if (base->l7) {
		s->l7 = base->l7;
		s->l7->refs++;
	}
	ret = fg_dec_end(&d, s);
out:
	for (i = 0; put_r && i < nput_s; i++)
		fg_ring_put(put_r[i]);
	free(put_r);
	free(put_s);
	free(del);
	free(has);
	free(put_b);
	free(put_l);
	if (ret) {
		fg_dpdk_ctl_set_free(s);
		s = NULL;
	}
	*out = s;
	return ret;
}

/* ------------------------------------------------------------- stats */

#define FG_PORT_U64 7U
#define FG_LCORE_U64 6U

struct fg_dpdk_ctl_l7_counters *
fg_dpdk_ctl_l7_counters_new(uint32_t nroutes, uint32_t nlimits,
			    uint32_t nrules, uint32_t nitems)
{
	struct fg_dpdk_ctl_l7_counters *x = calloc(1, sizeof(*x));

	if (!x)
		return NULL;
	x->routes = calloc(nroutes + 1, sizeof(*x->routes));
	x->limits = calloc(nlimits + 1, sizeof(*x->limits));
	x->rules = calloc(nrules + 1, sizeof(*x->rules));
	x->items = calloc(nitems + 1, sizeof(*x->items));
	if (!x->routes || !x->limits || !x->rules || !x->items) {
		fg_dpdk_ctl_l7_counters_free(x);
		return NULL;
	}
	x->nroutes = nroutes;
	x->nlimits = nlimits;
	x->nrules = nrules;
	x->nitems = nitems;
	return x;
}

void fg_dpdk_ctl_l7_counters_free(struct fg_dpdk_ctl_l7_counters *x)
{
	if (!x)
		return;
	free(x->routes);
	free(x->limits);
	free(x->rules);
	free(x->items);
	free(x);
}

void fg_dpdk_ctl_counters_clear(struct fg_dpdk_ctl_counters *c)
{
	fg_dpdk_ctl_l7_counters_free(c->l7);
	memset(c, 0, sizeof(*c));
}

static void fg_put_name(struct fg_dpdk_ctl_buf *b, const char *name)
{
	size_t nl = strnlen(name, FG_NAME_MAX - 1);

	fg_dpdk_ctl_put_u8(b, (uint8_t)nl);
	fg_dpdk_ctl_put(b, name, nl);
}

/* The L7 counters: routes, limits, rules with their reasons and items. */
static void fg_put_l7_counters(struct fg_dpdk_ctl_buf *b,
			       const struct fg_dpdk_ctl_l7_counters *x)
{
	uint32_t i, k, nitems = 0;

	fg_dpdk_ctl_put_u32(b, x ? x->nroutes : 0);
	for (i = 0; x && i < x->nroutes; i++) {
		fg_put_name(b, x->routes[i].name);
		fg_dpdk_ctl_put_u64(b, x->routes[i].forwarded);
		fg_dpdk_ctl_put_u64(b, x->routes[i].no_backend);
	}
	fg_dpdk_ctl_put_u32(b, x ? x->nlimits : 0);
	for (i = 0; x && i < x->nlimits; i++) {
		fg_put_name(b, x->limits[i].name);
		fg_dpdk_ctl_put_u64(b, x->limits[i].passed);
		fg_dpdk_ctl_put_u64(b, x->limits[i].limited);
	}
	fg_dpdk_ctl_put_u32(b, x ? x->nrules : 0);
	fg_dpdk_ctl_put_u32(b, FG_DPDK_CTL_SK_REASONS);
	for (i = 0; x && i < x->nrules; i++) {
		const struct fg_dpdk_ctl_l7_rule *r = &x->rules[i];
		uint32_t n = r->item_first > x->nitems ? 0 :
			     r->nitems > x->nitems - r->item_first ?
			     x->nitems - r->item_first : r->nitems;

		bool cut = r->items_cut;

		if (n > FG_DPDK_CTL_ITEMS_MAX - nitems) {
			n = FG_DPDK_CTL_ITEMS_MAX - nitems;
			cut = true;
		}
		fg_put_name(b, r->name);
		for (k = 0; k < FG_DPDK_CTL_SK_REASONS; k++)
			fg_dpdk_ctl_put_u64(b, r->reason[k]);
		fg_dpdk_ctl_put_u32(b, r->items);
		fg_dpdk_ctl_put_u32(b, r->items_max);
		fg_dpdk_ctl_put_u32(b, n);
		for (k = 0; k < n; k++) {
			const struct fg_dpdk_ctl_l7_item *it =
				&x->items[r->item_first + k];
			uint32_t len = it->len > FG_DPDK_CTL_ITEM_MAX ?
				       FG_DPDK_CTL_ITEM_MAX : it->len;

			fg_dpdk_ctl_put_u8(b, (uint8_t)len);
			fg_dpdk_ctl_put(b, it->name, len);
			fg_dpdk_ctl_put_u64(b, it->admitted);
			fg_dpdk_ctl_put_u64(b, it->shed);
			fg_dpdk_ctl_put_u64(b, it->sold_out);
			fg_dpdk_ctl_put_u64(b, it->allowance);
			fg_dpdk_ctl_put_u64(b, it->stock_left);
		}
		fg_dpdk_ctl_put_u8(b, cut || n < r->nitems);
		nitems += n;
	}
}

int fg_dpdk_ctl_encode_stats(const struct fg_dpdk_ctl_counters *c,
			     const struct fg_dpdk_ctl_set *s,
			     struct fg_dpdk_ctl_buf *b)
{
	uint32_t i, k, np = c->nports, nl = c->nlcores;

	if (np > FG_DPDK_CTL_PORTS_MAX)
		np = FG_DPDK_CTL_PORTS_MAX;
	if (nl > FG_DPDK_CTL_LCORES_MAX)
		nl = FG_DPDK_CTL_LCORES_MAX;
	fg_dpdk_ctl_put_u64(b, c->version);
	fg_dpdk_ctl_put_u32(b, np);
	for (i = 0; i < np; i++) {
		const struct fg_dpdk_ctl_port *p = &c->port[i];

		fg_dpdk_ctl_put_u64(b, p->rx);
		fg_dpdk_ctl_put_u64(b, p->tx);
		fg_dpdk_ctl_put_u64(b, p->exception);
		fg_dpdk_ctl_put_u64(b, p->arp_nd);
		fg_dpdk_ctl_put_u64(b, p->rx_missed);
		fg_dpdk_ctl_put_u64(b, p->rx_errors);
		fg_dpdk_ctl_put_u64(b, p->tx_errors);
	}
	fg_dpdk_ctl_put_u32(b, nl);
	fg_dpdk_ctl_put_u32(b, FG_DROP_REASON_MAX);
	for (i = 0; i < nl; i++) {
		const struct fg_dpdk_ctl_lcore *l = &c->lcore[i];

		fg_dpdk_ctl_put_u64(b, l->rx);
		fg_dpdk_ctl_put_u64(b, l->tx);
		fg_dpdk_ctl_put_u64(b, l->exception);
		fg_dpdk_ctl_put_u64(b, l->arp_nd);
		fg_dpdk_ctl_put_u64(b, l->handoff);
		fg_dpdk_ctl_put_u64(b, l->neigh_learned);
		for (k = 0; k < FG_DROP_REASON_MAX; k++)
			fg_dpdk_ctl_put_u64(b, l->drops[k]);
	}
	fg_dpdk_ctl_put_u32(b, s->nsvcs);
	for (i = 0; i < s->nsvcs; i++) {
		const struct fg_counter *x = &c->svc[s->svcs[i].val.id];

		fg_dpdk_ctl_put_u32(b, s->svcs[i].val.id);
		fg_dpdk_ctl_put_u64(b, x->packets);
		fg_dpdk_ctl_put_u64(b, x->bytes);
		fg_dpdk_ctl_put_u64(b, x->new_flows);
	}
	fg_dpdk_ctl_put_u32(b, s->nbackends);
	for (i = 0; i < s->nbackends; i++) {
		const struct fg_counter *x = &c->be[s->backends[i].id];

		fg_dpdk_ctl_put_u32(b, s->backends[i].id);
		fg_dpdk_ctl_put_u64(b, x->packets);
		fg_dpdk_ctl_put_u64(b, x->bytes);
		fg_dpdk_ctl_put_u64(b, x->new_flows);
	}
	fg_dpdk_ctl_put_u32(b, s->nlimits);
	for (i = 0; i < s->nlimits; i++) {
		const struct fg_limit_counter *x = &c->limit[s->limits[i].val.id];

		fg_dpdk_ctl_put_u32(b, s->limits[i].val.id);
		fg_dpdk_ctl_put_u64(b, x->passed);
		fg_dpdk_ctl_put_u64(b, x->limited);
	}
	fg_put_l7_counters(b, c->l7);
	return b->err;
}

/* n id counters of nv u64 each, ids ascending below max, into dst
 * (entry stride `size` bytes, nv u64 at its start). */
static int fg_get_idctr(struct fg_dec *d, uint32_t max, uint32_t nv, void *dst,
			size_t size, const char *what)
{
	uint32_t n, i, k, id, prev = 0;

	if (fg_get_count(d, max, 4 + 8 * nv, what, &n))
		return -EINVAL;
	for (i = 0; i < n; i++) {
		uint64_t *v;

		id = fg_dpdk_ctl_get_u32(&d->r);
		if (id >= max || (i && id <= prev))
			return fg_fail(d->err, d->errlen, -EINVAL,
				       "%s: ids out of range or not ascending", what);
		prev = id;
		v = (uint64_t *)((uint8_t *)dst + (size_t)id * size);
		for (k = 0; k < nv; k++)
			v[k] = fg_dpdk_ctl_get_u64(&d->r);
	}
	return d->r.bad ? fg_trunc(d, what) : 0;
}

/* Smallest encodings of the L7 counters' entries. */
#define FG_L7_ROUTE_WIRE_MIN 17U
#define FG_L7_RULE_WIRE_MIN (1U + 8U * FG_DPDK_CTL_SK_REASONS + 13U)
#define FG_L7_ITEM_WIRE_MIN 41U

/* The L7 counters into *out (NULL when every count is 0). */
static int fg_get_l7_counters(struct fg_dec *d,
			      struct fg_dpdk_ctl_l7_counters **out)
{
	struct fg_dpdk_ctl_l7_counters *x = NULL;
	uint32_t nr, nl, nk, reasons, i, k, n, len, nitems = 0;
	size_t mark;
	uint8_t cut;
	int ret;

	*out = NULL;
	/* Counted first over the bytes (names are read twice: the item
	 * total sizes the one allocation). */
	mark = d->r.off;
	ret = fg_get_count(d, FG_ROUTES_MAX, FG_L7_ROUTE_WIRE_MIN, "l7 routes",
			   &nr);
	for (i = 0; !ret && i < nr; i++)
		fg_rd_skip(&d->r, fg_dpdk_ctl_get_u8(&d->r) + 16U);
	if (!ret)
		ret = fg_get_count(d, FG_LIMIT_MAX, FG_L7_ROUTE_WIRE_MIN,
				   "l7 limits", &nl);
	for (i = 0; !ret && i < nl; i++)
		fg_rd_skip(&d->r, fg_dpdk_ctl_get_u8(&d->r) + 16U);
	if (!ret)
		ret = fg_get_count(d, FG_SECKILLS_MAX, FG_L7_RULE_WIRE_MIN,
				   "l7 seckill rules", &nk);
	reasons = ret ? 0 : fg_dpdk_ctl_get_u32(&d->r);
	if (!ret && reasons != FG_DPDK_CTL_SK_REASONS)
		ret = fg_fail(d->err, d->errlen, -EINVAL,
			      "%u seckill reasons; this side knows %u", reasons,
			      FG_DPDK_CTL_SK_REASONS);
	for (i = 0; !ret && i < nk; i++) {
		fg_rd_skip(&d->r, fg_dpdk_ctl_get_u8(&d->r) +
			   8U * FG_DPDK_CTL_SK_REASONS + 8U);
		ret = fg_get_count(d, FG_DPDK_CTL_ITEMS_MAX - nitems,
				   FG_L7_ITEM_WIRE_MIN, "l7 items", &n);
		for (k = 0; !ret && k < n; k++)
			fg_rd_skip(&d->r, fg_dpdk_ctl_get_u8(&d->r) + 40U);
		fg_rd_skip(&d->r, 1);
		nitems += ret ? 0 : n;
	}
	if (!ret && d->r.bad)
		ret = fg_trunc(d, "l7 counters");
	if (ret)
		return ret;
	d->r.off = mark;
	if (nr || nl || nk) {
		x = fg_dpdk_ctl_l7_counters_new(nr, nl, nk, nitems);
		if (!x)
			return fg_fail(d->err, d->errlen, -ENOMEM,
				       "out of memory");
	}
	fg_dpdk_ctl_get_u32(&d->r);
	for (i = 0; i < nr; i++) {
		ret = fg_get_name(d, x->routes[i].name, "l7 route");
		if (ret)
			goto fail;
		x->routes[i].forwarded = fg_dpdk_ctl_get_u64(&d->r);
		x->routes[i].no_backend = fg_dpdk_ctl_get_u64(&d->r);
	}
	fg_dpdk_ctl_get_u32(&d->r);
	for (i = 0; i < nl; i++) {
		ret = fg_get_name(d, x->limits[i].name, "l7 limit");
		if (ret)
			goto fail;
		x->limits[i].passed = fg_dpdk_ctl_get_u64(&d->r);
		x->limits[i].limited = fg_dpdk_ctl_get_u64(&d->r);
	}
	fg_dpdk_ctl_get_u32(&d->r);
	fg_dpdk_ctl_get_u32(&d->r);
	nitems = 0;
	for (i = 0; i < nk; i++) {
		struct fg_dpdk_ctl_l7_rule *r = &x->rules[i];

		ret = fg_get_name(d, r->name, "l7 seckill rule");
		if (ret)
			goto fail;
		for (k = 0; k < FG_DPDK_CTL_SK_REASONS; k++)
			r->reason[k] = fg_dpdk_ctl_get_u64(&d->r);
		r->items = fg_dpdk_ctl_get_u32(&d->r);
		r->items_max = fg_dpdk_ctl_get_u32(&d->r);
		r->nitems = fg_dpdk_ctl_get_u32(&d->r);
		r->item_first = nitems;
		for (k = 0; k < r->nitems; k++) {
			struct fg_dpdk_ctl_l7_item *it = &x->items[nitems++];

			len = fg_dpdk_ctl_get_u8(&d->r);
			if (len > FG_DPDK_CTL_ITEM_MAX) {
				ret = fg_fail(d->err, d->errlen, -EINVAL,
					      "l7 item of %u bytes", len);
				goto fail;
			}
			it->len = len;
			fg_dpdk_ctl_get(&d->r, it->name, len);
			it->admitted = fg_dpdk_ctl_get_u64(&d->r);
			it->shed = fg_dpdk_ctl_get_u64(&d->r);
			it->sold_out = fg_dpdk_ctl_get_u64(&d->r);
			it->allowance = fg_dpdk_ctl_get_u64(&d->r);
			it->stock_left = fg_dpdk_ctl_get_u64(&d->r);
		}
		cut = fg_dpdk_ctl_get_u8(&d->r);
		if (cut > 1) {
			ret = fg_fail(d->err, d->errlen, -EINVAL,
				      "l7 seckill rule %s: items_cut %u", r->name,
				      cut);
			goto fail;
		}
		r->items_cut = cut;
	}
	if (d->r.bad) {
		ret = fg_trunc(d, "l7 counters");
		goto fail;
	}
	*out = x;
	return 0;
fail:
	fg_dpdk_ctl_l7_counters_free(x);
	return ret;
}

int fg_dpdk_ctl_decode_stats(const void *p, size_t n,
			     struct fg_dpdk_ctl_counters *c, char *err,
			     size_t errlen)
{
	struct fg_dec d = { .r = { .p = p, .n = n }, .err = err,
			    .errlen = errlen };
	uint32_t i, k, reasons;
	int ret;

	fg_dpdk_ctl_counters_clear(c);
	c->version = fg_dpdk_ctl_get_u64(&d.r);
	if (d.r.bad)
		return fg_trunc(&d, "stats");
	ret = fg_get_count(&d, FG_DPDK_CTL_PORTS_MAX, 8 * FG_PORT_U64, "ports",
			   &c->nports);
	if (ret)
		goto fail;
	for (i = 0; i < c->nports; i++) {
		struct fg_dpdk_ctl_port *x = &c->port[i];

		x->rx = fg_dpdk_ctl_get_u64(&d.r);
		x->tx = fg_dpdk_ctl_get_u64(&d.r);
		x->exception = fg_dpdk_ctl_get_u64(&d.r);
		x->arp_nd = fg_dpdk_ctl_get_u64(&d.r);
		x->rx_missed = fg_dpdk_ctl_get_u64(&d.r);
		x->rx_errors = fg_dpdk_ctl_get_u64(&d.r);
		x->tx_errors = fg_dpdk_ctl_get_u64(&d.r);
	}
	ret = fg_get_count(&d, FG_DPDK_CTL_LCORES_MAX, 8 * FG_LCORE_U64, "lcores",
			   &c->nlcores);
	if (ret)
		goto fail;
	reasons = fg_dpdk_ctl_get_u32(&d.r);
	if (reasons != FG_DROP_REASON_MAX) {
		ret = fg_fail(err, errlen, -EINVAL,
			      "%u drop reasons; this side knows %u", reasons,
			      FG_DROP_REASON_MAX);
		goto fail;
	}
	for (i = 0; i < c->nlcores; i++) {
		struct fg_dpdk_ctl_lcore *x = &c->lcore[i];

		x->rx = fg_dpdk_ctl_get_u64(&d.r);
		x->tx = fg_dpdk_ctl_get_u64(&d.r);
		x->exception = fg_dpdk_ctl_get_u64(&d.r);
		x->arp_nd = fg_dpdk_ctl_get_u64(&d.r);
		x->handoff = fg_dpdk_ctl_get_u64(&d.r);
		x->neigh_learned = fg_dpdk_ctl_get_u64(&d.r);
		for (k = 0; k < FG_DROP_REASON_MAX; k++) {
			x->drops[k] = fg_dpdk_ctl_get_u64(&d.r);
			c->drops[k] += x->drops[k];
		}
	}
	if (d.r.bad) {
		ret = fg_trunc(&d, "lcores");
		goto fail;
	}
	ret = fg_get_idctr(&d, FG_SVC_MAX, 3, c->svc, sizeof(c->svc[0]),
			   "service counters");
	if (!ret)
		ret = fg_get_idctr(&d, FG_BACKEND_MAX, 3, c->be, sizeof(c->be[0]),
				   "backend counters");
	if (!ret)
		ret = fg_get_idctr(&d, FG_LIMIT_MAX, 2, c->limit,
				   sizeof(c->limit[0]), "limit counters");
	if (!ret)
		ret = fg_get_l7_counters(&d, &c->l7);
	if (!ret && d.r.off != d.r.n)
		ret = fg_fail(err, errlen, -EINVAL,
			      "%zu bytes after the end of the counters",
			      d.r.n - d.r.off);
	if (!ret)
		return 0;
fail:
	fg_dpdk_ctl_counters_clear(c);
	return ret;
}

/* ------------------------------------------------------------- stock */

void fg_dpdk_ctl_stock_clear(struct fg_dpdk_ctl_stock *x)
{
	free(x->ops);
	free(x->res);
	free(x->engs);
	free(x->items);
	memset(x, 0, sizeof(*x));
}

/* Grow *p (cap entries of size) to hold n. */
static int fg_stock_grow(void **p, uint32_t *cap, uint32_t n, size_t size)
{
	void *q;

	if (n <= *cap)
		return 0;
	q = realloc(*p, (size_t)n * size);
	if (!q)
		return -ENOMEM;
	memset((uint8_t *)q + (size_t)*cap * size, 0,
	       (size_t)(n - *cap) * size);
	*p = q;
	*cap = n;
	return 0;
}

int fg_dpdk_ctl_stock_reserve(struct fg_dpdk_ctl_stock *x, uint32_t nops,
			      uint32_t nengs, uint32_t nitems)
{
	uint32_t ocap = x->ops_cap;

	/* res first: its room is counted by ops_cap. */
	if (fg_stock_grow((void **)&x->res, &ocap, nops, sizeof(*x->res)) ||
	    fg_stock_grow((void **)&x->ops, &x->ops_cap, nops,
			  sizeof(*x->ops)) ||
	    fg_stock_grow((void **)&x->engs, &x->engs_cap, nengs,
			  sizeof(*x->engs)) ||
	    fg_stock_grow((void **)&x->items, &x->items_cap, nitems,
			  sizeof(*x->items)))
		return -ENOMEM;
	return 0;
}

int fg_dpdk_ctl_encode_stock_req(const struct fg_dpdk_ctl_stock *x,
				 struct fg_dpdk_ctl_buf *b)
{
	uint32_t i;

	fg_dpdk_ctl_put_u8(b, x->all);
	fg_dpdk_ctl_put_u32(b, x->nops);
	for (i = 0; i < x->nops; i++) {
		const struct fg_dpdk_ctl_stock_op *o = &x->ops[i];
		uint8_t len = o->len > FG_DPDK_CTL_ITEM_MAX ?
			      FG_DPDK_CTL_ITEM_MAX : o->len;

		fg_put_name(b, o->rule);
		fg_dpdk_ctl_put_u32(b, o->lcore);
		fg_dpdk_ctl_put_u64(b, o->epoch);
		fg_dpdk_ctl_put_u8(b, o->kind);
		fg_dpdk_ctl_put_u8(b, len);
		fg_dpdk_ctl_put(b, o->item, len);
		fg_dpdk_ctl_put_u64(b, o->expect);
		fg_dpdk_ctl_put_u64(b, o->n);
	}
	return b->err;
}

int fg_dpdk_ctl_encode_stock(const struct fg_dpdk_ctl_stock *x,
			     struct fg_dpdk_ctl_buf *b)
{
	uint32_t i, k;

	fg_dpdk_ctl_put_u32(b, x->nops);
	for (i = 0; i < x->nops; i++) {
		fg_dpdk_ctl_put_u32(b, (uint32_t)x->res[i].rc);
		fg_dpdk_ctl_put_u64(b, x->res[i].granted);
		fg_dpdk_ctl_put_u64(b, x->res[i].admitted);
	}
	fg_dpdk_ctl_put_u32(b, x->nengs);
	for (i = 0; i < x->nengs; i++) {
		const struct fg_dpdk_ctl_stock_eng *e = &x->engs[i];

		fg_put_name(b, e->rule);
		fg_dpdk_ctl_put_u32(b, e->lcore);
		fg_dpdk_ctl_put_u64(b, e->epoch);
		fg_dpdk_ctl_put_u64(b, e->stock);
		fg_dpdk_ctl_put_u64(b, e->rate_milli);
		fg_dpdk_ctl_put_u64(b, e->batch);
		fg_dpdk_ctl_put_u32(b, e->items);
		fg_dpdk_ctl_put_u32(b, e->items_max);
		fg_dpdk_ctl_put_u32(b, e->nitems);
		for (k = 0; k < e->nitems; k++) {
			const struct fg_dpdk_ctl_stock_item *it =
				&x->items[e->item_first + k];
			uint8_t len = it->len > FG_DPDK_CTL_ITEM_MAX ?
				      FG_DPDK_CTL_ITEM_MAX : it->len;

			fg_dpdk_ctl_put_u8(b, len);
			fg_dpdk_ctl_put(b, it->name, len);
			fg_dpdk_ctl_put_u8(b, it->wants);
			fg_dpdk_ctl_put_u64(b, it->granted);
			fg_dpdk_ctl_put_u64(b, it->admitted);
		}
	}
	return b->err;
}

/* Smallest encodings: an op, a result, an engine, an item. */
#define FG_STOCK_OP_WIRE_MIN  31U
#define FG_STOCK_RES_WIRE_MIN 20U
#define FG_STOCK_ENG_WIRE_MIN 49U
#define FG_STOCK_ITEM_WIRE_MIN 18U

/* The end of a body: all of it read, nothing past what was read. */
static int fg_dec_done(struct fg_dec *d, const char *what)
{
	if (d->r.bad)
		return fg_trunc(d, what);
	if (d->r.off != d->r.n)
		return fg_fail(d->err, d->errlen, -EINVAL,
			       "%zu bytes after the end of the %s",
			       d->r.n - d->r.off, what);
	return 0;
}

/* An item name of at most FG_DPDK_CTL_ITEM_MAX bytes into name, *len. */
static int fg_get_item(struct fg_dec *d, char *name, uint8_t *len)
{
	uint8_t n = fg_dpdk_ctl_get_u8(&d->r);

	if (n > FG_DPDK_CTL_ITEM_MAX)
		return fg_fail(d->err, d->errlen, -EINVAL,
			       "stock: item of %u bytes", n);
	*len = n;
	fg_dpdk_ctl_get(&d->r, name, n);
	return d->r.bad ? fg_trunc(d, "stock item") : 0;
}

/* A seckill rule's name: one the API accepts (FG_NAME_RE). */
static int fg_get_rule(struct fg_dec *d, char *name, const char *what)
{
	size_t at = d->r.off;
	int ret = fg_get_name(d, name, what);

	/* All of its bytes: a NUL inside would hide the rest. */
	if (!ret && (strnlen(name, FG_NAME_MAX) != d->r.p[at] ||
		     !fg_name_valid(name)))
		ret = fg_fail(d->err, d->errlen, -EINVAL,
			      "%s: not a rule name", what);
	return ret;
}

int fg_dpdk_ctl_decode_stock_req(const void *p, size_t n,
				 struct fg_dpdk_ctl_stock *x, char *err,
				 size_t errlen)
{
	struct fg_dec d = { .r = { .p = p, .n = n }, .err = err,
			    .errlen = errlen };
	uint8_t all;
	uint32_t i, nops;
	int ret;

	/* Counts cleared, room kept: a server decodes one every few
	 * milliseconds into the same scratch. */
	x->all = false;
	x->nops = x->nengs = x->nitems = 0;
	all = fg_dpdk_ctl_get_u8(&d.r);
	if (d.r.bad)
		return fg_trunc(&d, "stock request");
	if (all > 1)
		return fg_fail(err, errlen, -EINVAL, "stock request: all %u",
			       all);
	ret = fg_get_count(&d, FG_DPDK_CTL_STOCK_OPS_MAX, FG_STOCK_OP_WIRE_MIN,
			   "stock ops", &nops);
	if (ret)
		return ret;
	if (fg_dpdk_ctl_stock_reserve(x, nops, 0, 0))
		return fg_fail(err, errlen, -ENOMEM, "out of memory");
	if (nops)
		memset(x->res, 0, (size_t)nops * sizeof(*x->res));
	x->all = all;
	for (i = 0; i < nops; i++) {
		struct fg_dpdk_ctl_stock_op *o = &x->ops[i];

		ret = fg_get_rule(&d, o->rule, "stock op");
		if (ret)
			goto fail;
		o->lcore = fg_dpdk_ctl_get_u32(&d.r);
		o->epoch = fg_dpdk_ctl_get_u64(&d.r);
		o->kind = fg_dpdk_ctl_get_u8(&d.r);
		if (o->kind != FG_DPDK_CTL_STOCK_GRANT &&
		    o->kind != FG_DPDK_CTL_STOCK_LEFT && !d.r.bad) {
			ret = fg_fail(err, errlen, -EINVAL,
				      "stock op %u: kind %u", i, o->kind);
			goto fail;
		}
		ret = fg_get_item(&d, o->item, &o->len);
		if (ret)
			goto fail;
		o->expect = fg_dpdk_ctl_get_u64(&d.r);
		o->n = fg_dpdk_ctl_get_u64(&d.r);
	}
	ret = fg_dec_done(&d, "stock ops");
	if (ret)
		goto fail;
	x->nops = nops;
	return 0;
fail:
	x->all = false;
	x->nops = 0;
	return ret;
}

/* Clear x's answer only (its request stays). */
static void fg_stock_answer_clear(struct fg_dpdk_ctl_stock *x)
{
	if (x->res)
		memset(x->res, 0, (size_t)x->nops * sizeof(*x->res));
	x->nengs = x->nitems = 0;
}

int fg_dpdk_ctl_decode_stock(const void *p, size_t n,
			     struct fg_dpdk_ctl_stock *x, char *err,
			     size_t errlen)
{
	struct fg_dec d = { .r = { .p = p, .n = n }, .err = err,
			    .errlen = errlen };
	uint32_t i, k, nres, nengs, ni, nitems = 0;
	size_t mark;
	int ret;

	fg_stock_answer_clear(x);
	ret = fg_get_count(&d, FG_DPDK_CTL_STOCK_OPS_MAX, FG_STOCK_RES_WIRE_MIN,
			   "stock results", &nres);
	if (!ret && nres != x->nops)
		ret = fg_fail(err, errlen, -EINVAL,
			      "stock: %u results for %u ops", nres, x->nops);
	if (ret)
		return ret;
	for (i = 0; i < nres; i++) {
		x->res[i].rc = (int32_t)fg_dpdk_ctl_get_u32(&d.r);
		x->res[i].granted = fg_dpdk_ctl_get_u64(&d.r);
		x->res[i].admitted = fg_dpdk_ctl_get_u64(&d.r);
		if (x->res[i].rc > 0 || x->res[i].rc < -4095) {
			ret = fg_fail(err, errlen, -EINVAL,
				      "stock result %u: rc %d", i, x->res[i].rc);
			goto fail;
		}
	}
	/* Counted first, so that one allocation holds the items. */
	ret = fg_get_count(&d, FG_DPDK_CTL_STOCK_ENGS_MAX,
			   FG_STOCK_ENG_WIRE_MIN, "stock engines", &nengs);
	mark = d.r.off;
	for (i = 0; !ret && i < nengs; i++) {
		fg_rd_skip(&d.r, fg_dpdk_ctl_get_u8(&d.r) + 44U);
		ret = fg_get_count(&d, FG_DPDK_CTL_STOCK_ITEMS_MAX - nitems,
				   FG_STOCK_ITEM_WIRE_MIN, "stock items", &ni);
		for (k = 0; !ret && k < ni; k++)
			fg_rd_skip(&d.r, fg_dpdk_ctl_get_u8(&d.r) + 17U);
		nitems += ret ? 0 : ni;
	}
	if (!ret && d.r.bad)
		ret = fg_trunc(&d, "stock engines");
	if (!ret && fg_dpdk_ctl_stock_reserve(x, 0, nengs, nitems))
		ret = fg_fail(err, errlen, -ENOMEM, "out of memory");
	if (ret)
		goto fail;
	d.r.off = mark;
	nitems = 0;
	for (i = 0; i < nengs; i++) {
		struct fg_dpdk_ctl_stock_eng *e = &x->engs[i];

		ret = fg_get_rule(&d, e->rule, "stock engine");
		if (ret)
			goto fail;
		e->lcore = fg_dpdk_ctl_get_u32(&d.r);
		e->epoch = fg_dpdk_ctl_get_u64(&d.r);
		e->stock = fg_dpdk_ctl_get_u64(&d.r);
		e->rate_milli = fg_dpdk_ctl_get_u64(&d.r);
		e->batch = fg_dpdk_ctl_get_u64(&d.r);
		e->items = fg_dpdk_ctl_get_u32(&d.r);
		e->items_max = fg_dpdk_ctl_get_u32(&d.r);
		e->nitems = fg_dpdk_ctl_get_u32(&d.r);
		e->item_first = nitems;
		for (k = 0; k < e->nitems; k++) {
			struct fg_dpdk_ctl_stock_item *it = &x->items[nitems++];

			ret = fg_get_item(&d, it->name, &it->len);
			if (ret)
				goto fail;
			it->wants = fg_dpdk_ctl_get_u8(&d.r);
			it->granted = fg_dpdk_ctl_get_u64(&d.r);
			it->admitted = fg_dpdk_ctl_get_u64(&d.r);
			if (it->wants > 1 || it->admitted > it->granted) {
				ret = fg_fail(err, errlen, -EINVAL,
					      "stock engine %s/%u: item with wants %u, admitted above granted",
					      e->rule, e->lcore, it->wants);
				goto fail;
			}
		}
	}
	ret = fg_dec_done(&d, "stock answer");
	if (ret)
		goto fail;
	x->nengs = nengs;
	x->nitems = nitems;
	return 0;
fail:
	fg_stock_answer_clear(x);
	return ret;
}
