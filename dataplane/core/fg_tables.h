/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * fg_tables.h - the table keys and values the dataplanes and the control
 * plane share. Each struct is defined once, here, with its size asserted:
 * the XDP maps, the DPDK tables and the daemon's compiler all use these.
 *
 * Generations. Service entries, rings and limits are written for an
 * inactive generation (0 or 1) on the side, then one write of
 * fg_config.gen switches every packet to the new set; no packet sees a
 * half-written rule set. Backends and conntrack entries are not versioned:
 * a backend id is never reused while a generation may still name it.
 */
#ifndef FG_TABLES_H
#define FG_TABLES_H

#include "fg_types.h"
#include "fg_flow.h"
#include "fg_tbucket.h"

#include <linux/errno.h>

/* ------------------------------------------------------------ limits */

#define FG_SVC_MAX          4096U    /* services per generation */
#define FG_BACKEND_MAX      65536U   /* backend ids (global) */
#define FG_LIMIT_MAX        256U     /* limits per generation */
#define FG_SVC_LIMITS_MAX   8U       /* limits evaluated per service */
#define FG_GLOBAL_LIMITS_MAX 8U      /* limits with no service */
#define FG_RING_SLOTS_DEFAULT (1U << 22) /* ring slot array, u32 each */
#define FG_CT_DEFAULT       (1U << 21) /* established-flow slots (2^n) */
#define FG_CT_SYN_DEFAULT   (1U << 18) /* embryonic-flow slots (2^n) */
#define FG_NAT_DEFAULT      (1U << 20) /* full-NAT reverse entries */
#define FG_BUCKETS_DEFAULT  (1U << 20) /* token-bucket states */

#define FG_GENERATIONS 2U

/* Slot value for "no backend" in rings and lists. */
#define FG_NO_BACKEND 0xffffffffU
#define FG_NO_LIMIT   0xffffU

/* ---------------------------------------------------------- services */

enum fg_forward {
	FG_FWD_DSR_IPIP = 0, /* IPIP / ip6ip6 to the backend; DSR */
	FG_FWD_DSR_GUE  = 1, /* GUE (UDP) to the backend; DSR */
	FG_FWD_NAT      = 2, /* full NAT both ways */
};

enum fg_hash_mode {
	FG_HASH_5TUPLE = 0,
	FG_HASH_SRC_IP = 1,
};

/* Key of fg_services: (generation, vip, port, proto). port 0 = any port;
 * the dataplane looks up the exact port first, then port 0. */
struct fg_svc_key {
	__be32 vip[4];  /* IPv4 in word 0, others zero */
	__be16 port;
	__u8 proto;     /* IPPROTO_TCP / IPPROTO_UDP */
	__u8 family;    /* FG_AF_INET / FG_AF_INET6 */
	__u8 gen;       /* 0 or 1 */
	__u8 pad[3];
};
FG_ASSERT_SIZE(struct fg_svc_key, 24);

/* Value part of a fg_services slot. */
struct fg_svc {
	__u32 id;          /* 0..FG_SVC_MAX-1: stable across generations;
			    * indexes per-service counters */
	__u32 ring_off;    /* first slot of this service's ring in fg_ring */
	__u32 ring_size;   /* prime M; 0 = no usable backend */
	__u8 forward;      /* enum fg_forward */
	__u8 hash;         /* enum fg_hash_mode */
	__u16 nlimits;     /* used entries of limits[] */
	__u16 limits[FG_SVC_LIMITS_MAX]; /* limit ids (this generation) */
	__u16 gue_port;    /* GUE destination port, network order */
	__u16 pad;
};
FG_ASSERT_SIZE(struct fg_svc, 36);

/*
 * fg_services is an open-addressed table in a plain array, one cache
 * line per slot: fg_services[gen * FG_SVC_SLOTS + slot]. A key lives in
 * one of the FG_SVC_PROBES slots from fg_svc_key_slot(); a slot whose
 * key.family is 0 is empty and ends the search (services are never
 * deleted from a live generation: a generation is rebuilt whole). Kept at
 * most a quarter full, so nearly every lookup, hit or miss, reads one
 * line. Why not a BPF hash map: a hash-map lookup cost ~70 ns on the XDP
 * path, two array reads ~3 ns.
 */
#define FG_SVC_SLOT_BITS 14U
#define FG_SVC_SLOTS  (1U << FG_SVC_SLOT_BITS) /* per generation */
#define FG_SVC_PROBES 8U

struct fg_svc_slot {
	struct fg_svc_key key; /* key.gen unused (0); family 0 = empty */
	struct fg_svc svc;
	__u32 pad;
} __attribute__((aligned(8)));
FG_ASSERT_SIZE(struct fg_svc_slot, 64);
_Static_assert(FG_SVC_SLOTS >= 4 * FG_SVC_MAX, "fg_services at most 1/4 full");

/* fg_svc_key_slot - the first slot of key k in its generation's table.
 * Unkeyed: the table's contents are the operator's, and a probe run is
 * bounded by FG_SVC_PROBES whatever arrives. Context: any. */
FG_INLINE __u32 fg_svc_key_slot(const __be32 *vip, __be16 port, __u8 proto)
{
	__u64 h = (__u64)(vip[0] ^ vip[1] ^ vip[2] ^ vip[3]) << 32 |
		  ((__u32)port << 8 | proto);

	/* Fibonacci hashing: the product's top bits depend on every input
	 * bit (its low bits only on the input's low bits). */
	h *= 0x9e3779b97f4a7c15ULL;
	return (__u32)(h >> (64 - FG_SVC_SLOT_BITS));
}

/* fg_svc_key_eq - slot key a is the packet's (vip, port, proto, family). */
FG_INLINE int fg_svc_key_eq(const struct fg_svc_key *a, const __be32 *vip,
			    __be16 port, __u8 proto, __u8 family)
{
	return a->vip[0] == vip[0] && a->port == port && a->proto == proto &&
	       a->family == family && a->vip[1] == vip[1] &&
	       a->vip[2] == vip[2] && a->vip[3] == vip[3];
}

#ifndef __bpf__
/*
 * fg_svc_table_put - place (k, v) in tab, one generation's FG_SVC_SLOTS
 * slots (zeroed before the first put). Returns 0, -EEXIST when the key is
 * there already, or -ENOSPC when its FG_SVC_PROBES slots are all taken
 * (the rule compiler keeps the table a quarter full at most, where that
 * does not happen in practice). Context: userspace.
 */
FG_INLINE int fg_svc_table_put(struct fg_svc_slot *tab,
			       const struct fg_svc_key *k, const struct fg_svc *v)
{
	__u32 first = fg_svc_key_slot(k->vip, k->port, k->proto), i;

	for (i = 0; i < FG_SVC_PROBES; i++) {
		struct fg_svc_slot *s = &tab[(first + i) & (FG_SVC_SLOTS - 1)];

		if (!s->key.family) {
			s->key = *k;
			s->key.gen = 0;
			s->svc = *v;
			return 0;
		}
		if (fg_svc_key_eq(&s->key, k->vip, k->port, k->proto, k->family))
			return -EEXIST;
	}
	return -ENOSPC;
}

/* fg_svc_table_get - the value of key k in tab, or NULL. */
FG_INLINE const struct fg_svc *fg_svc_table_get(const struct fg_svc_slot *tab,
						const struct fg_svc_key *k)
{
	__u32 first = fg_svc_key_slot(k->vip, k->port, k->proto), i;

	for (i = 0; i < FG_SVC_PROBES; i++) {
		const struct fg_svc_slot *s =
			&tab[(first + i) & (FG_SVC_SLOTS - 1)];

		if (!s->key.family)
			return 0;
		if (fg_svc_key_eq(&s->key, k->vip, k->port, k->proto, k->family))
			return &s->svc;
	}
	return 0;
}
#endif

/* ---------------------------------------------------------- backends */

#define FG_BE_F_VALID 0x01 /* slot in use */
#define FG_BE_F_DOWN  0x02 /* health checks failed: flows are re-hashed */

/* fg_backends[id]. Ring slots and conntrack entries hold backend ids. */
struct fg_backend {
	__be32 addr[4];  /* IPv4 in word 0 */
	__be16 port;     /* NAT destination port; unused in DSR */
	__u8 family;
	__u8 flags;      /* FG_BE_F_* */
	__u32 svc_id;    /* owner: a conntrack hit is honoured only when the
			  * backend still belongs to the flow's service */
};
FG_ASSERT_SIZE(struct fg_backend, 24);

/* --------------------------------------------------------- conntrack */

#define FG_CT_F_NAT 0x01 /* a full-NAT flow: nat_port/snat valid */
#define FG_CT_F_UDP 0x02 /* a UDP flow (its timeout is UDP's) */
#define FG_CT_F_NEW 0x80 /* transient in the dataplane, never stored */
#define FG_CT_F_PROMOTED 0x40 /* transient: this packet completed the
			       * handshake (fg_ct_syn -> fg_ct) */

/*
 * Conntrack time is kept in ticks of 2^FG_CT_TICK_SHIFT ns (~16.8 ms) of
 * the coarse monotonic clock, in 32 bits: they wrap every ~2.3 years, so
 * ticks are only ever compared as differences (fg_ct_idle), good for
 * idle times up to half that; a way idle longer reads as expired.
 */
#define FG_CT_TICK_SHIFT 24

/* fg_ct_tick - the tick of a monotonic time in ns. */
FG_INLINE __u32 fg_ct_tick(__u64 ns)
{
	return (__u32)(ns >> FG_CT_TICK_SHIFT);
}

/* A seen tick at most this far ahead of now was stamped by another CPU
 * that read the clock just after this one (~1 s). */
#define FG_CT_SKEW_TICKS 64

/* fg_ct_idle - ticks from seen to now (wrap-safe): 0 when seen is a
 * little ahead of now (another CPU's stamp); ~0 when it is further ahead,
 * which only a way left alone for over 2^31 ticks (~417 days) reads -
 * it is long expired, not fresh. */
FG_INLINE __u32 fg_ct_idle(__u32 now, __u32 seen)
{
	__s32 d = (__s32)(now - seen);

	if (d >= 0)
		return (__u32)d;
	return d >= -FG_CT_SKEW_TICKS ? 0 : ~0U;
}

/* The state of one flow in fg_ct (established) and fg_ct_syn
 * (embryonic), unpacked from its way (struct fg_ct_way). */
struct fg_ct {
	__u32 backend_id;
	__u32 svc_id;
	__u32 seen;        /* tick; refreshed about once a second */
	__be16 nat_port;   /* source port toward the backend (NAT); 0 = DSR */
	__u8 flags;        /* FG_CT_F_* */
	__u8 pad;
};
FG_ASSERT_SIZE(struct fg_ct, 16);

/*
 * fg_ct and fg_ct_syn are set-associative tables in plain arrays of cache
 * lines: a flow lives in one of the FG_CT_WAYS ways of line (flow hash &
 * (lines - 1)), lines a power of two, and is known there by its tag, the
 * hash's other bits: the high 32 (fg_ct_tag) and bits 16-31 (fg_ct_tag_lo)
 * - not by its key. A way with tag 0 is free; one idle past its timeout
 * is as good as free. A new flow takes its tag's way if present, else a
 * free one, else evicts the least recently seen of the line (a sampled
 * LRU). One probe is one cache line, hit or miss, and 2^21 flows take
 * 32 MiB. The flow hash is keyed, so nobody can aim flows at one line or
 * tag.
 *
 * A tag is not a key: a packet of a flow with no entry matches another
 * flow's way of its line when the two hashes agree in every bit the line
 * and the tag take - 64 bits while the table has at most 2^16 lines, 45
 * at production size (2^19). With 4 ways in use that is one new flow in
 * ~10^13, and then only a way of the same service (svc_id is checked).
 * That packet would take the other flow's state: its backend (the one the
 * ring gives it anyway while the ring is unchanged, as the high bits also
 * choose the Maglev slot, unless the service hashes source addresses)
 * and, for full NAT, its source port. VPP's lb plugin keeps its flow
 * table the same way, with 32-bit hashes. Why not a BPF LRU hash map: its
 * lookup costs ~80 ns on the XDP path and an insert ~400 ns; one array
 * line costs a few ns hot and one cache miss cold.
 */
#define FG_CT_WAYS 4U

struct fg_ct_way {
	__u32 tag;         /* fg_ct_tag of the flow's hash; 0 = free */
	__u16 tag_lo;      /* fg_ct_tag_lo of it */
	__u16 backend_id;  /* tag, tag_lo and backend share one 8-byte word:
			    * a reader never pairs one flow's tag with
			    * another's backend */
	__u16 svc;         /* service id | FG_CT_W_UDP */
	__be16 nat_port;   /* 0 = DSR */
	__u32 seen;        /* tick */
};
FG_ASSERT_SIZE(struct fg_ct_way, 16);

#define FG_CT_W_UDP 0x8000U /* fg_ct_way.svc: a UDP flow */
_Static_assert(FG_SVC_MAX <= FG_CT_W_UDP, "service ids fit fg_ct_way.svc");
_Static_assert(FG_BACKEND_MAX <= 65536U, "backend ids fit fg_ct_way");

struct fg_ct_line {
	struct fg_ct_way way[FG_CT_WAYS];
};
FG_ASSERT_SIZE(struct fg_ct_line, 64);

/* fg_ct_line_of - the line a flow hash names in a table of `lines`. */
FG_INLINE __u32 fg_ct_line_of(__u64 hash, __u32 lines)
{
	return (__u32)hash & (lines - 1);
}

/* fg_ct_tag - a flow hash's tag: its high 32 bits, never 0 (free). */
FG_INLINE __u32 fg_ct_tag(__u64 hash)
{
	__u32 t = (__u32)(hash >> 32);

	return t ? t : 1;
}

/* fg_ct_tag_lo - the rest of a flow hash's tag: bits 16-31 (those below
 * the table's line bits tell flows of one line apart). */
FG_INLINE __u16 fg_ct_tag_lo(__u64 hash)
{
	return (__u16)(hash >> 16);
}

/* fg_ct_way_is - way w holds the flow of hash. */
FG_INLINE int fg_ct_way_is(const struct fg_ct_way *w, __u64 hash)
{
	return w->tag == fg_ct_tag(hash) && w->tag_lo == fg_ct_tag_lo(hash);
}

/* fg_ct_unpack - the state way w holds (w->tag != 0). */
FG_INLINE void fg_ct_unpack(const struct fg_ct_way *w, struct fg_ct *ct)
{
	ct->backend_id = w->backend_id;
	ct->svc_id = w->svc & ~FG_CT_W_UDP;
	ct->seen = w->seen;
	ct->nat_port = w->nat_port;
	ct->flags = (w->nat_port ? FG_CT_F_NAT : 0) |
		    (w->svc & FG_CT_W_UDP ? FG_CT_F_UDP : 0);
	ct->pad = 0;
}

/* fg_ct_pack - way w holding the flow of hash with state ct (no
 * ordering: the XDP program writes shared ways itself, see fg_ct_write
 * there). */
FG_INLINE void fg_ct_pack(struct fg_ct_way *w, __u64 hash,
			  const struct fg_ct *ct)
{
	w->tag = fg_ct_tag(hash);
	w->tag_lo = fg_ct_tag_lo(hash);
	w->backend_id = (__u16)ct->backend_id;
	w->svc = (__u16)(ct->svc_id |
			 (ct->flags & FG_CT_F_UDP ? FG_CT_W_UDP : 0));
	w->nat_port = ct->nat_port;
	w->seen = ct->seen;
}

/* fg_set_first - the first entry of the FG_CT_WAYS-entry window a hash
 * names in fg_buckets (`slots` entries, a power of two). */
FG_INLINE __u32 fg_set_first(__u64 hash, __u32 slots)
{
	return (__u32)hash & (slots - 1);
}

/* Value of fg_nat, keyed by the backend-side flow key (backend -> snat
 * address): what to restore on the way back to the client. */
struct fg_nat_rev {
	__be32 client[4];
	__be32 vip[4];
	__be16 client_port;
	__be16 vip_port;
	__u32 svc_id;
	__u64 last_seen;
};
FG_ASSERT_SIZE(struct fg_nat_rev, 48);

/* ------------------------------------------------------------ limits */

enum fg_limit_key {
	FG_LKEY_SRC_IP = 0,
	FG_LKEY_SRC_PREFIX = 1, /* src_prefix/N: prefix_len */
	FG_LKEY_FLOW = 2,
	FG_LKEY_SERVICE = 3,
};

enum fg_limit_unit {
	FG_LUNIT_PPS = 0,
	FG_LUNIT_BPS = 1,
	FG_LUNIT_CPS = 2, /* TCP SYNs without ACK */
};

enum fg_limit_action {
	FG_LACT_DROP = 0,
	FG_LACT_RESET = 1,
};

#define FG_LIM_F_DRY_RUN   0x01
#define FG_LIM_F_MATCH_SRC 0x02 /* match.src prefix present */

/* fg_limits[gen * FG_LIMIT_MAX + id]. */
struct fg_limit {
	struct fg_tb_profile prof;
	__be32 match_src[4];  /* masked prefix */
	__u8 match_src_len;   /* prefix length in bits */
	__u8 match_proto;     /* 0 = any */
	__be16 match_dport;   /* 0 = any */
	__u8 key;             /* enum fg_limit_key */
	__u8 prefix_len;      /* for FG_LKEY_SRC_PREFIX */
	__u8 unit;            /* enum fg_limit_unit */
	__u8 action;          /* enum fg_limit_action */
	__u8 flags;           /* FG_LIM_F_* */
	__u8 match_family;    /* FG_AF_*, with FG_LIM_F_MATCH_SRC */
	__u8 pad[2];
	__u32 id;             /* stable limit id: counters, bucket keys */
};
FG_ASSERT_SIZE(struct fg_limit, 56);

/* Key of fg_buckets: one token bucket per (limit, key value). */
struct fg_bucket_key {
	__be32 addr[4];  /* source address or prefix; zero for service */
	__be32 dst[4];   /* flow key only */
	__be16 sport;    /* flow key only */
	__be16 dport;
	__u32 limit_id;
	__u8 proto;
	__u8 family;
	__u8 pad[6];
} __attribute__((aligned(8)));
FG_ASSERT_SIZE(struct fg_bucket_key, 48);

/*
 * fg_buckets is a set-associative table in a plain array like fg_ct:
 * FG_CT_WAYS entries per set from (fg_bucket_hash & (slots - 1)), one
 * cache line each, slots a power of two. A bucket that has refilled
 * (tat <= now) holds nothing a fresh one would not, so its entry is free;
 * a new key takes a free way, else the one nearest to refilled. Why not a
 * BPF LRU hash map: a source-keyed limit meets a new key for every
 * spoofed SYN of a flood, and an LRU insert cost 400-600 ns.
 */
struct fg_bucket_entry {
	struct fg_bucket_key key;
	struct fg_tb_state st;
} __attribute__((aligned(8)));
FG_ASSERT_SIZE(struct fg_bucket_entry, 64);

/* fg_bucket_hash - keyed hash of a bucket key, NH as fg_flow_hash (the
 * address words pair as source and destination do there; limit id and
 * ports make the fifth pair, protocol and family start the sum).
 * Context: any. */
FG_INLINE __u64 fg_bucket_hash(const struct fg_bucket_key *k,
			       const struct fg_hash_seed *seed)
{
	const fg_word_t *w = (const fg_word_t *)k;

	return fg_hash_fmix64(fg_nh_pairs(w, seed->lane[3] + w[5], seed));
}

/* fg_bucket_key_eq - bucket keys a and b are the same (all 48 bytes). */
FG_INLINE int fg_bucket_key_eq(const struct fg_bucket_key *a,
			       const struct fg_bucket_key *b)
{
	const fg_word_t *x = (const fg_word_t *)a, *y = (const fg_word_t *)b;

	return x[0] == y[0] && x[4] == y[4] && x[2] == y[2] &&
	       x[1] == y[1] && x[3] == y[3] && x[5] == y[5];
}

/*
 * fg_bucket_probe_arr - one pass over the FG_CT_WAYS entries of the set
 * hash names in tab (slots entries, a power of two): the entry holding
 * bk, or NULL with *victim the entry a new key takes (a refilled one
 * first, else the one nearest to refilled). For tables in plain memory
 * (the DPDK worker's limits, the L7 engine's per-client and rps buckets);
 * the XDP program walks its map with fg_set_probe. Context: userspace.
 */
FG_INLINE struct fg_bucket_entry *
fg_bucket_probe_arr(struct fg_bucket_entry *tab, __u32 slots, __u64 hash,
		const struct fg_bucket_key *bk, __u64 now,
		struct fg_bucket_entry **victim)
{
	struct fg_bucket_entry *v = tab, *c;
	__u32 set = fg_set_first(hash, slots), i;
	__u64 lowest = ~0ULL, age;

	for (i = 0; i < FG_CT_WAYS; i++) {
		c = &tab[(set + i) & (slots - 1)];
		if (fg_bucket_key_eq(&c->key, bk))
			return c;
		age = c->st.tat <= now ? 0 : c->st.tat;
		if (age < lowest) {
			lowest = age;
			v = c;
		}
	}
	*victim = v;
	return 0;
}

/*
 * fg_bucket_charge_arr - charge cost to the bucket of key bk (profile
 * prof) in tab: the entry holding bk, else a fresh bucket written into
 * the entry a new key takes (fg_bucket_probe_arr). Returns 1 when the
 * bucket held the cost (fg_tb_consume). Context: userspace.
 */
FG_INLINE int fg_bucket_charge_arr(struct fg_bucket_entry *tab, __u32 slots,
				   __u64 hash, const struct fg_bucket_key *bk,
				   const struct fg_tb_profile *prof, __u64 now,
				   __u32 cost)
{
	struct fg_bucket_entry *victim = 0, *e;
	struct fg_tb_state fresh = { 0 };
	int ok;

	e = fg_bucket_probe_arr(tab, slots, hash, bk, now, &victim);
	if (e)
		return fg_tb_consume(prof, &e->st, now, cost);
	ok = fg_tb_consume(prof, &fresh, now, cost);
	victim->key = *bk;
	victim->st = fresh;
	return ok;
}

/* ------------------------------------------------------------ config */

/* fg_config[0]: the switch. Written by one map update. (The map's other
 * entries hold the drop counters: union fg_config_entry.)
 *
 * vip_filter[gen] has a bit set for every VIP of generation gen and the
 * appliance's SNAT addresses (fg_vip_filter_bit): a packet whose
 * destination's bit is clear in both is for no service and passes
 * without touching the service table. The inactive generation's bits
 * are written before the switch, so the switch itself rewrites them with
 * the same values. */
#define FG_CFG_F_WILDCARD 0x01 /* a service of this generation has port 0 */
#define FG_VIP_FILTER_BITS 12U
#define FG_VIP_FILTER_WORDS ((1U << FG_VIP_FILTER_BITS) / 64U)

/* The config's size: a multiple of 128 bytes (two cache lines), its tail
 * padding, so that the drop counters after it in the map (union
 * fg_config_entry) never share a line with a word every CPU reads. */
#define FG_CONFIG_USED (32U + 8U * FG_GENERATIONS * FG_VIP_FILTER_WORDS)
#define FG_CONFIG_SIZE 1152U

struct fg_config {
	__u8 gen;             /* active generation, 0 or 1 */
	__u8 flags;           /* FG_CFG_F_*: lets a packet for no service
			       * skip the port-0 lookup */
	__u16 nglobal_limits;
	__u16 global_limits[FG_GLOBAL_LIMITS_MAX];
	__u64 version;        /* rule version this generation carries */
	__u64 vip_filter[FG_GENERATIONS][FG_VIP_FILTER_WORDS];
	__u8 pad[FG_CONFIG_SIZE - FG_CONFIG_USED]; /* 0 */
};
FG_ASSERT_SIZE(struct fg_config, FG_CONFIG_SIZE);
_Static_assert(FG_CONFIG_SIZE % 128 == 0 &&
	       FG_CONFIG_SIZE - FG_CONFIG_USED >= 64,
	       "the config ends in a cache line of its own padding");

/* fg_vip_fold - an address's four words folded into the one its filter
 * bit is taken from (16 bytes, IPv4 in word 0: the IPv4 address itself).
 * Context: any. */
FG_INLINE __u32 fg_vip_fold(const __be32 *a)
{
	return a[0] ^ a[1] ^ a[2] ^ a[3];
}

/* fg_vip_filter_bit_of - the vip_filter bit of an address folded by
 * fg_vip_fold. Context: any. */
FG_INLINE __u32 fg_vip_filter_bit_of(__u32 fold)
{
	__u64 h = (__u64)fold * 0x9e3779b97f4a7c15ULL;

	return (__u32)(h >> (64 - FG_VIP_FILTER_BITS));
}

/* fg_vip_filter_bit - the vip_filter bit of address a (16 bytes, IPv4 in
 * word 0). Context: any. */
FG_INLINE __u32 fg_vip_filter_bit(const __be32 *a)
{
	return fg_vip_filter_bit_of(fg_vip_fold(a));
}

/* fg_vip_filter_has_fold - fg_vip_filter_has() of an address folded by
 * fg_vip_fold: the XDP path folds a destination straight from the
 * frame, before any parse. Context: any. */
FG_INLINE int fg_vip_filter_has_fold(const struct fg_config *c, __u32 fold)
{
	__u32 b = fg_vip_filter_bit_of(fold);

	return ((c->vip_filter[0][b >> 6] | c->vip_filter[1][b >> 6]) >>
		(b & 63)) & 1;
}

/* fg_vip_filter_has - address a may be a VIP of either generation (or
 * the SNAT address); 0 means it certainly is none. Both generations'
 * words, not the active one's: their loads do not wait for the load of
 * gen (~7 ns on a packet for no service), and a VIP of the inactive
 * generation only costs its packets the service lookup that turns them
 * away. Context: any. */
FG_INLINE int fg_vip_filter_has(const struct fg_config *c, const __be32 *a)
{
	return fg_vip_filter_has_fold(c, fg_vip_fold(a));
}

/* fg_vip_filter_add - mark address a in generation gen's filter. */
FG_INLINE void fg_vip_filter_add(struct fg_config *c, __u32 gen,
				 const __be32 *a)
{
	__u32 b = fg_vip_filter_bit(a);

	c->vip_filter[gen & 1][b >> 6] |= 1ULL << (b & 63);
}

/* --------------------------------------------------------- counters */

/*
 * Counters are per CPU by layout, in plain arrays of max_entries =
 * stride x CPUs (the loader sets it): CPU c's counter of id is entry
 * c * stride + id, so CPUs never share a cache line. Why not per-CPU
 * arrays: the first per-CPU access of a packet cost ~30 ns on the XDP
 * path (a page walk into the per-CPU area), a plain array line ~3 ns.
 * Strides: FG_SVC_MAX (fg_svc_stats), FG_BACKEND_MAX (fg_be_stats),
 * FG_LIMIT_MAX (fg_limit_stats). The drop counters are per CPU too, in
 * the config's map (union fg_config_entry).
 */
#define FG_DROPS_STRIDE 16U /* >= FG_DROP_REASON_MAX; 128 bytes */

FG_INLINE __u32 fg_cpu_index(__u32 cpu, __u32 stride, __u32 id)
{
	return cpu * stride + id;
}

/* fg_svc_stats[c * FG_SVC_MAX + svc_id], fg_be_stats[c * FG_BACKEND_MAX +
 * backend_id]. */
struct fg_counter {
	__u64 packets;
	__u64 bytes;
	__u64 new_flows;
	__u64 pad;
};
FG_ASSERT_SIZE(struct fg_counter, 32);

/* fg_limit_stats[c * FG_LIMIT_MAX + limit_id]. */
struct fg_limit_counter {
	__u64 passed;
	__u64 limited;
};
FG_ASSERT_SIZE(struct fg_limit_counter, 16);

/* Drop counters: fg_config[FG_CONFIG_DROPS + c].drops.n[reason] for CPU
 * c (union fg_config_entry, below). */
enum fg_drop_reason {
	FG_DROP_MALFORMED = 0,  /* parse error */
	FG_DROP_NO_SERVICE,     /* never a drop: counts non-VIP packets passed */
	FG_DROP_FLOOD_GUARD,    /* SYN refused before it could create state */
	FG_DROP_NO_BACKEND,     /* service has no usable backend */
	FG_DROP_LIMITED,        /* refused by a limit (drop or reset) */
	FG_DROP_FRAGMENT,       /* fragment of a VIP flow */
	FG_DROP_NO_ROUTE,       /* FIB lookup failed */
	FG_DROP_NAT_PORTS,      /* no free NAT source port */
	FG_DROP_ENCAP,          /* could not grow or shrink the frame */
	FG_DROP_NO_NEIGH,       /* next hop's neighbour not resolved */
	FG_DROP_REASON_MAX
};
_Static_assert(FG_DROP_REASON_MAX <= FG_DROPS_STRIDE, "drops stride");

/*
 * The drop counters live in the config's map: fg_config[0] is the config
 * (struct fg_config), fg_config[FG_CONFIG_DROPS + c] holds CPU c's drop
 * counters (the loader makes it FG_CONFIG_DROPS + CPUs entries). Every
 * packet reads the config first; a counter in the same page spares a
 * packet that is dropped, or passed for want of a service, a page walk of
 * its own. That holds for the CPUs whose entry shares the config's page:
 * CPUs 0-1 at least (entries are FG_CONFIG_SIZE bytes). With more than
 * ~27 possible CPUs the map outgrows the kernel's 32 KiB kmalloc limit
 * and is vmalloc'd; a page of either costs a packet the same here, ~17 ns
 * (bench_mem: kmalloc_8_pages, vmalloc_8_pages). The control plane
 * writes entry 0 only, so a rule switch never touches a counter. Entries
 * end in padding (struct fg_config), so no CPU's counters share a cache
 * line with the config's words or with another CPU's counters.
 */
#define FG_CONFIG_DROPS 1U

struct fg_drop_counters {
	__u64 n[FG_DROPS_STRIDE];
};

union fg_config_entry {
	struct fg_config cfg;          /* entry 0 */
	struct fg_drop_counters drops; /* entry FG_CONFIG_DROPS + CPU */
};
_Static_assert(sizeof(union fg_config_entry) == sizeof(struct fg_config),
	       "the config's entry is the config");

/* fg_config_drops_index - the fg_config entry of CPU cpu's drop counters. */
FG_INLINE __u32 fg_config_drops_index(__u32 cpu)
{
	return FG_CONFIG_DROPS + cpu;
}

/* fg_drops_add - add one CPU's drop counters (entry e of fg_config) to
 * sum[FG_DROP_REASON_MAX]. Context: any. */
FG_INLINE void fg_drops_add(__u64 *sum, const union fg_config_entry *e)
{
	__u32 i;

	for (i = 0; i < FG_DROP_REASON_MAX; i++)
		sum[i] += e->drops.n[i];
}

/* fg_drop_reason_name - the reason as the API, metrics and tools spell it
 * ("malformed", ...); "unknown" out of range. Context: userspace (string
 * literals; BPF programs have no use for it). */
FG_INLINE const char *fg_drop_reason_name(unsigned int reason)
{
	switch (reason) {
	case FG_DROP_MALFORMED:   return "malformed";
	case FG_DROP_NO_SERVICE:  return "no_service";
	case FG_DROP_FLOOD_GUARD: return "flood_guard";
	case FG_DROP_NO_BACKEND:  return "no_backend";
	case FG_DROP_LIMITED:     return "limited";
	case FG_DROP_FRAGMENT:    return "fragment";
	case FG_DROP_NO_ROUTE:    return "no_route";
	case FG_DROP_NAT_PORTS:   return "nat_ports";
	case FG_DROP_ENCAP:       return "encap";
	case FG_DROP_NO_NEIGH:    return "no_neigh";
	default:                  return "unknown";
	}
}

#endif /* FG_TABLES_H */
