// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * floodgate.bpf.c - the XDP L4 dataplane: services, Maglev, connection
 * tracking, DSR (IPIP / ip6ip6 / GUE) and full NAT, token-bucket limits
 * and the SYN flood guard.
 *
 * Order of work for a packet (DESIGN.md "Admission before state"):
 *   parse -> reverse-NAT? -> service lookup (active generation) ->
 *   limits -> connection table / Maglev -> rewrite -> FIB -> TX/redirect.
 * A SYN is judged by every limit before it may create state, and SYN state
 * lives in its own small table (fg_ct_syn) until the client's first
 * non-SYN packet promotes it, so a flood of spoofed SYNs can only churn
 * that table and never evicts established flows from fg_ct.
 *
 * Packets that are not for a service pass to the kernel untouched.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>

#include "fg_types.h"
#include "fg_parse.h"
#include "fg_flow.h"
#include "fg_maglev.h"
#include "fg_tbucket.h"
#include "fg_tables.h"
#include "fg_csum.h"
#include "fg_parse_fast_kern.h"

/* Address families as bpf_fib_lookup wants them (linux/socket.h values,
 * which this header set cannot include without libc). */
#define FG_FIB_AF_INET  2
#define FG_FIB_AF_INET6 10

/* How many source ports a new NAT flow tries before giving up. */
#ifndef FG_NAT_PROBES
#define FG_NAT_PROBES 8
#endif
#define FG_NAT_PORT_MIN 1024U
#define FG_NAT_PORT_SPAN (65536U - FG_NAT_PORT_MIN)

/* A conntrack way's seen tick is refreshed at most this often (~1 s): a
 * write per packet would bounce the line between CPUs. */
#define FG_CT_REFRESH_TICKS ((__u32)(1000000000ULL >> FG_CT_TICK_SHIFT))

#define FG_LIMITS_PER_PKT (FG_GLOBAL_LIMITS_MAX + FG_SVC_LIMITS_MAX)

/* ------------------------------------------------- load-time settings */

const volatile struct fg_hash_seed fg_seed = {};
const volatile __be32 fg_tunnel_src4 = 0;
const volatile __be32 fg_tunnel_src6[4] = {};
const volatile __be32 fg_snat4 = 0;
const volatile __be32 fg_snat6[4] = {};
const volatile __u64 fg_ct_timeout_tcp_ns = 300ULL * 1000000000ULL;
const volatile __u64 fg_ct_timeout_udp_ns = 30ULL * 1000000000ULL;
const volatile __be16 fg_gue_port = FG_BE16(6080);
/* Lines of fg_ct and fg_ct_syn (powers of two; the loader sets them
 * with the maps' max_entries). */
const volatile __u32 fg_ct_lines = FG_CT_DEFAULT / FG_CT_WAYS;
const volatile __u32 fg_ct_syn_lines = FG_CT_SYN_DEFAULT / FG_CT_WAYS;
/* Entries of fg_buckets (a power of two, as the map's max_entries). */
const volatile __u32 fg_bucket_slots = FG_BUCKETS_DEFAULT;

/* -------------------------------------------------------------- maps */

/* fg_config[0]: the config; then the drop counters, one entry per CPU
 * (union fg_config_entry): max_entries below is the config's, the loader
 * adds the CPUs' entries. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, FG_CONFIG_DROPS);
	__type(key, __u32);
	__type(value, union fg_config_entry);
} fg_config SEC(".maps");

/* fg_services[gen * FG_SVC_SLOTS + slot]: see fg_tables.h. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, FG_SVC_SLOTS * FG_GENERATIONS);
	__type(key, __u32);
	__type(value, struct fg_svc_slot);
} fg_services SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, FG_RING_SLOTS_DEFAULT);
	__type(key, __u32);
	__type(value, __u32);
} fg_ring SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, FG_BACKEND_MAX);
	__type(key, __u32);
	__type(value, struct fg_backend);
} fg_backends SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, FG_LIMIT_MAX * FG_GENERATIONS);
	__type(key, __u32);
	__type(value, struct fg_limit);
} fg_limits SEC(".maps");

/* Set-associative connection tables (fg_tables.h), shared by the CPUs:
 * a flow whose packets arrive on two CPUs still finds its entry.
 * Mappable, so tools and tests read them without a syscall per entry. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, FG_CT_DEFAULT / FG_CT_WAYS);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct fg_ct_line);
} fg_ct SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, FG_CT_SYN_DEFAULT / FG_CT_WAYS);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct fg_ct_line);
} fg_ct_syn SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, FG_NAT_DEFAULT);
	__uint(map_flags, BPF_F_NO_COMMON_LRU);
	__type(key, struct fg_flow_key);
	__type(value, struct fg_nat_rev);
} fg_nat SEC(".maps");

/* Reverse entries of NAT flows still in their handshake, moved to fg_nat
 * by the client's first non-SYN (as fg_ct_syn's entries to fg_ct): a SYN
 * flood at a NAT service churns this table only, and never evicts an
 * established flow's way back. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, FG_CT_SYN_DEFAULT);
	__uint(map_flags, BPF_F_NO_COMMON_LRU);
	__type(key, struct fg_flow_key);
	__type(value, struct fg_nat_rev);
} fg_nat_syn SEC(".maps");

/* Token buckets, set-associative (fg_tables.h), shared by the CPUs. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, FG_BUCKETS_DEFAULT);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct fg_bucket_entry);
} fg_buckets SEC(".maps");

/* Counters, per CPU by layout (fg_tables.h): max_entries below is one
 * CPU's; the loader multiplies it by the number of possible CPUs. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, FG_SVC_MAX);
	__type(key, __u32);
	__type(value, struct fg_counter);
} fg_svc_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, FG_BACKEND_MAX);
	__type(key, __u32);
	__type(value, struct fg_counter);
} fg_be_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, FG_LIMIT_MAX);
	__type(key, __u32);
	__type(value, struct fg_limit_counter);
} fg_limit_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u32);
} fg_tx_ports SEC(".maps");

/*
 * The dataplane's clock: a BPF timer stamps the coarse monotonic time
 * into fg_clock every FG_CLOCK_PERIOD_NS, so a packet reads the time from
 * a map line instead of calling bpf_ktime_get_coarse_ns() (~14 ns on the
 * XDP path here, most of an established flow's conntrack work). The
 * first packet to find the clock stopped starts it; until it ticks,
 * packets read the kernel's clock themselves. The timer lives as long as
 * the map (pinned), across restarts of the daemon, and runs the callback
 * of the program instance that started it: that instance stays loaded
 * while fg_clock is pinned, and a later build's tick applies once the
 * dataplane is opened fresh. A write to fg_clock from user space stops
 * the timer (the kernel frees a map value's timer on update) and leaves
 * the time where it was written - unless a tick running at that moment
 * stores its own; so write it, wait a few ms for such a tick to end (it
 * cannot re-arm a freed timer), and write it again. now = 0 makes the
 * next packet start the timer again.
 */
#define FG_CLOCK_PERIOD_NS (4ULL * 1000 * 1000) /* 4 ms: ~1/4 tick */
#define FG_CLOCK_MONOTONIC 1                    /* CLOCK_MONOTONIC */

struct fg_clock {
	struct bpf_timer timer;
	__u64 now; /* coarse ns at the last tick; 0 = not ticking yet */
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct fg_clock);
} fg_clock SEC(".maps");

/* ------------------------------------------------------------- clock */

static int fg_clock_tick(void *map, __u32 *key, struct fg_clock *c)
{
	c->now = bpf_ktime_get_coarse_ns();
	bpf_timer_start(&c->timer, FG_CLOCK_PERIOD_NS, 0);
	return 0;
}

/* fg_now - the coarse monotonic time in ns, at most FG_CLOCK_PERIOD_NS
 * behind (fg_clock). */
static __always_inline __u64 fg_now(void)
{
	__u32 zero = 0;
	struct fg_clock *c = bpf_map_lookup_elem(&fg_clock, &zero);

	if (c && c->now)
		return c->now;
	/* Stopped: start it. Of CPUs racing here one initialises the timer,
	 * the others get -EBUSY; a timer that cannot start (the map has no
	 * holder in user space) leaves every packet on the kernel clock. */
	if (c && !bpf_timer_init(&c->timer, &fg_clock, FG_CLOCK_MONOTONIC) &&
	    !bpf_timer_set_callback(&c->timer, fg_clock_tick))
		bpf_timer_start(&c->timer, FG_CLOCK_PERIOD_NS, 0);
	return bpf_ktime_get_coarse_ns();
}

/* ---------------------------------------------------------- counters */

/* Counters are per CPU by layout (fg_tables.h): bpf_get_smp_processor_id()
 * is inlined by the verifier, and a plain array line costs a fraction of
 * a per-CPU map's first access. The drop counters sit in the config's
 * map, whose page every packet has reached already (for the CPUs whose
 * entry shares it: fg_tables.h). */
static __always_inline void fg_count_drop(__u32 reason)
{
	__u32 idx = fg_config_drops_index(bpf_get_smp_processor_id());
	union fg_config_entry *e = bpf_map_lookup_elem(&fg_config, &idx);

	if (e && reason < FG_DROPS_STRIDE)
		e->drops.n[reason] += 1;
}

static __always_inline void fg_count(void *map, __u32 stride, __u32 id,
				     __u64 bytes, int new_flow)
{
	__u32 idx = fg_cpu_index(bpf_get_smp_processor_id(), stride, id);
	struct fg_counter *c = bpf_map_lookup_elem(map, &idx);

	if (!c)
		return;
	c->packets += 1;
	c->bytes += bytes;
	c->new_flows += new_flow;
}

/* ----------------------------------------------------------- helpers */

static __always_inline int fg_addr_eq(const __be32 *a, const volatile __be32 *b,
				      int family)
{
	if (family == FG_AF_INET)
		return a[0] == b[0];
	return a[0] == b[0] && a[1] == b[1] && a[2] == b[2] && a[3] == b[3];
}

/* The packet is addressed to the appliance's own SNAT address. */
static __always_inline int fg_is_snat_dst(const struct fg_pkt *pkt)
{
	if (pkt->family == FG_AF_INET)
		return fg_snat4 && pkt->dst[0] == fg_snat4;
	return (fg_snat6[0] | fg_snat6[1] | fg_snat6[2] | fg_snat6[3]) &&
	       fg_addr_eq(pkt->dst, fg_snat6, FG_AF_INET6);
}

/* The service slot run of (vip, port) in generation gen: FG_SVC_PROBES
 * slots from the key's first, the search ending at the first empty one. */
static __always_inline struct fg_svc *fg_svc_probe(const struct fg_pkt *pkt,
						   __u32 gen, __be16 port)
{
	__u32 first = fg_svc_key_slot(pkt->dst, port, pkt->l4_proto), i;

	FG_UNROLL
	for (i = 0; i < FG_SVC_PROBES; i++) {
		__u32 idx = gen * FG_SVC_SLOTS + ((first + i) & (FG_SVC_SLOTS - 1));
		struct fg_svc_slot *sl = bpf_map_lookup_elem(&fg_services, &idx);

		if (!sl || !sl->key.family)
			return NULL;
		if (fg_svc_key_eq(&sl->key, pkt->dst, port, pkt->l4_proto,
				  pkt->family))
			return &sl->svc;
	}
	return NULL;
}

static __always_inline struct fg_svc *fg_lookup_service(const struct fg_pkt *pkt,
							const struct fg_config *cfg)
{
	__u32 gen = cfg->gen & 1;
	struct fg_svc *svc;

	svc = fg_svc_probe(pkt, gen, pkt->dport);
	if (svc || !(cfg->flags & FG_CFG_F_WILDCARD))
		return svc;
	return fg_svc_probe(pkt, gen, 0);
}

/* A backend id still usable for flows of service svc_id. */
static __always_inline struct fg_backend *fg_backend_usable(__u32 id,
							    __u32 svc_id)
{
	struct fg_backend *be = bpf_map_lookup_elem(&fg_backends, &id);

	if (!be || !(be->flags & FG_BE_F_VALID) || (be->flags & FG_BE_F_DOWN) ||
	    be->svc_id != svc_id)
		return NULL;
	return be;
}

/*
 * What the forwarding path learns about a packet once and hands down
 * (BPF functions take five arguments at most):
 *  - now: the coarse clock, read once per packet; the connection tables
 *    and the next-hop cache both compare against it;
 *  - hash: the 5-tuple's flow hash: the connection-table set, and the
 *    outer header's entropy (IPv6 flow label, GUE source port);
 *  - nh_slot: where the next hop is cached: the backend id in
 *    fg_nh_cache, or FG_NH_CLIENT | slot in fg_nh_client;
 *  - gue_port: the GUE destination port (network order), 0 for IPIP.
 */
struct fg_fwd {
	__u64 now;
	__u64 hash;
	__u32 nh_slot;
	__be16 gue_port;
	__u16 pad;
};

/* The load-time hash key, read from rodata (volatile: its value is only
 * known once the loader has set it). */
static __always_inline void fg_seed_get(struct fg_hash_seed *seed)
{
	seed->k0 = fg_seed.k0;
	seed->k1 = fg_seed.k1;
	seed->lane[0] = fg_seed.lane[0];
	seed->lane[1] = fg_seed.lane[1];
	seed->lane[2] = fg_seed.lane[2];
	seed->lane[3] = fg_seed.lane[3];
}

/* The hash Maglev picks with: the 5-tuple's, or for client affinity the
 * source address's. */
static __always_inline __u64 fg_pick_hash(const struct fg_svc *svc,
					  const struct fg_flow_key *key,
					  const struct fg_fwd *fw)
{
	struct fg_hash_seed seed;

	if (svc->hash != FG_HASH_SRC_IP)
		return fw->hash;
	fg_seed_get(&seed);
	return fg_flow_hash_src(key, &seed);
}

/* Maglev: the ring slot of this flow, or NULL (no ring). */
static __always_inline __u32 *fg_maglev_slot_of(const struct fg_svc *svc,
						__u64 hash)
{
	__u32 idx;

	if (!svc->ring_size)
		return NULL;
	idx = svc->ring_off + fg_maglev_slot(hash, svc->ring_size);
	return bpf_map_lookup_elem(&fg_ring, &idx);
}

/* The backend id the ring gives this flow, or FG_NO_BACKEND. */
static __always_inline __u32 fg_maglev_pick(const struct fg_svc *svc, __u64 hash)
{
	__u32 *slot = fg_maglev_slot_of(svc, hash);

	return slot ? *slot : FG_NO_BACKEND;
}

/*
 * fg_touch - load the word at p and leave it: the line is then on its
 * way while the program goes on, instead of when its reader gets there.
 * Out-of-order execution overlaps the two: measured here, the next hop's
 * line touched as soon as the backend is known takes ~10 ns off an
 * established flow, which otherwise waits for it after encapsulating.
 */
static __always_inline void fg_touch(const void *p)
{
	asm volatile("" :: "r"(*(const volatile __u32 *)p));
}

/* fg_maglev_touch - fg_touch the ring slot fg_maglev_pick(svc, hash)
 * will read. */
static __always_inline void fg_maglev_touch(const struct fg_svc *svc,
					    __u64 hash)
{
	__u32 *slot = fg_maglev_slot_of(svc, hash);

	if (slot)
		fg_touch(slot);
}

/* ------------------------------------------------------------ limits */

enum fg_limit_verdict {
	FG_LIMIT_PASS = 0,
	FG_LIMIT_DROP,
	FG_LIMIT_RESET,
};

/* Everything a limit looks at, by value: fg_limit_one is a global
 * function, verified once on its own rather than at each of its call
 * sites, and a global function may not follow pointers it is handed
 * inside a struct. */
struct fg_limit_ctx {
	struct fg_flow_key key;
	__u64 now;
	__u32 frame_len;
	__u32 svc_id;
	__u32 gen;
	__u8 is_syn;
	__u8 tcp_flags;
	__u16 pad;
};

static __always_inline int fg_limit_matches(const struct fg_limit *lim,
					    const struct fg_flow_key *pkt)
{
	if (lim->match_proto && lim->match_proto != pkt->proto)
		return 0;
	if (lim->match_dport && lim->match_dport != pkt->dport)
		return 0;
	if (lim->flags & FG_LIM_F_MATCH_SRC) {
		__u32 bits = lim->match_src_len;
		int i;

		if (lim->match_family != pkt->family)
			return 0;
		FG_UNROLL
		for (i = 0; i < 4; i++) {
			__u32 take = bits > 32 ? 32 : bits;
			__u32 mask = take ? (__u32)(0xffffffffULL << (32 - take)) : 0;

			if ((fg_ntohl(pkt->src[i]) & mask) != fg_ntohl(lim->match_src[i]))
				return 0;
			bits -= take;
		}
	}
	return 1;
}

static __always_inline void fg_bucket_key_fill(struct fg_bucket_key *bk,
					       const struct fg_limit *lim,
					       const struct fg_limit_ctx *lc)
{
	const struct fg_flow_key *key = &lc->key;
	__u32 bits = lim->prefix_len;
	int i;

	bk->limit_id = lim->id;
	bk->family = key->family;
	switch (lim->key) {
	case FG_LKEY_SRC_IP:
		__builtin_memcpy(bk->addr, key->src, sizeof(bk->addr));
		break;
	case FG_LKEY_SRC_PREFIX:
		FG_UNROLL
		for (i = 0; i < 4; i++) {
			__u32 take = bits > 32 ? 32 : bits;
			__u32 mask = take ? (__u32)(0xffffffffULL << (32 - take)) : 0;

			bk->addr[i] = fg_htonl(fg_ntohl(key->src[i]) & mask);
			bits -= take;
		}
		break;
	case FG_LKEY_FLOW:
		__builtin_memcpy(bk->addr, key->src, sizeof(bk->addr));
		__builtin_memcpy(bk->dst, key->dst, sizeof(bk->dst));
		bk->sport = key->sport;
		bk->dport = key->dport;
		bk->proto = key->proto;
		break;
	default: /* FG_LKEY_SERVICE: one bucket per (limit, service) */
		bk->dst[0] = lc->svc_id;
		bk->family = 0;
		break;
	}
}

/* ------------------------------------------ set-associative tables */

/*
 * fg_set_probe - one pass over the FG_CT_WAYS entries of fg_buckets from
 * the one `hash` names. Returns the entry holding key bk, or NULL with
 * *victim set to the entry a new key should take: a refilled one (tat <=
 * now holds nothing a fresh bucket would not) first, else the one
 * nearest to refilled.
 */
static __always_inline struct fg_bucket_entry *
fg_set_probe(__u64 hash, const struct fg_bucket_key *bk, __u64 now,
	     struct fg_bucket_entry **victim)
{
	__u32 set = fg_set_first(hash, fg_bucket_slots), i;
	struct fg_bucket_entry *v = NULL;
	__u64 lowest = ~0ULL;

	FG_UNROLL
	for (i = 0; i < FG_CT_WAYS; i++) {
		__u32 idx = (set + i) & (fg_bucket_slots - 1);
		struct fg_bucket_entry *e = bpf_map_lookup_elem(&fg_buckets,
								&idx);
		__u64 age;

		if (!e)
			continue;
		if (fg_bucket_key_eq(&e->key, bk))
			return e;
		age = e->st.tat <= now ? 0 : e->st.tat;
		if (age < lowest) {
			lowest = age;
			v = e;
		}
	}
	*victim = v;
	return NULL;
}

/* fg_bucket_probe - fg_set_probe over fg_buckets for bucket key bk. */
static __always_inline struct fg_bucket_entry *
fg_bucket_probe(const struct fg_bucket_key *bk, __u64 now,
		struct fg_bucket_entry **victim)
{
	struct fg_hash_seed seed;

	fg_seed_get(&seed);
	return fg_set_probe(fg_bucket_hash(bk, &seed), bk, now, victim);
}

/* fg_bucket_write - record bucket bk with state st in entry e. The race
 * is fg_limit_one's (below): a reader meeting the entry mid-write judges
 * one packet by the old or the new bucket. */
static __always_inline void fg_bucket_write(struct fg_bucket_entry *e,
					    const struct fg_bucket_key *bk,
					    const struct fg_tb_state *st)
{
	e->key = *bk;
	e->st = *st;
}

/*
 * fg_limit_one - judge the packet against limit `id` of generation gen.
 * Returns FG_LIMIT_PASS, or the action when the limit refuses it (dry-run
 * limits count and pass). A limit whose unit does not apply to the packet
 * (cps and a non-SYN) neither counts nor refuses.
 *
 * Deliberate race: buckets are shared between CPUs and updated without a
 * lock. Two CPUs charging one bucket at the same instant may both pass
 * where one should; the error is bounded by the number of CPUs per
 * instant and keeps the fast path lock-free.
 */
__noinline int fg_limit_one(struct fg_limit_ctx *lc, __u32 id)
{
	struct fg_bucket_entry *e, *victim = NULL;
	struct fg_bucket_key bk = {};
	struct fg_limit_counter *cnt;
	struct fg_tb_state fresh = {};
	struct fg_limit *lim;
	__u32 idx, cost, lid;
	int ok;

	/* A global function's pointer argument may be NULL as far as the
	 * verifier knows. */
	if (!lc || id >= FG_LIMIT_MAX)
		return FG_LIMIT_PASS;
	idx = lc->gen * FG_LIMIT_MAX + id;
	lim = bpf_map_lookup_elem(&fg_limits, &idx);
	if (!lim || !fg_limit_matches(lim, &lc->key))
		return FG_LIMIT_PASS;

	switch (lim->unit) {
	case FG_LUNIT_CPS:
		if (!lc->is_syn)
			return FG_LIMIT_PASS;
		cost = 1;
		break;
	case FG_LUNIT_BPS:
		cost = lc->frame_len * 8;
		break;
	default:
		cost = 1;
		break;
	}

	fg_bucket_key_fill(&bk, lim, lc);
	e = fg_bucket_probe(&bk, lc->now, &victim);
	if (e) {
		ok = fg_tb_consume(&lim->prof, &e->st, lc->now, cost);
	} else {
		ok = fg_tb_consume(&lim->prof, &fresh, lc->now, cost);
		if (victim)
			fg_bucket_write(victim, &bk, &fresh);
	}

	lid = fg_cpu_index(bpf_get_smp_processor_id(), FG_LIMIT_MAX, lim->id);
	cnt = bpf_map_lookup_elem(&fg_limit_stats, &lid);
	if (ok) {
		if (cnt)
			cnt->passed += 1;
		return FG_LIMIT_PASS;
	}
	if (cnt)
		cnt->limited += 1;
	if (lim->flags & FG_LIM_F_DRY_RUN)
		return FG_LIMIT_PASS;
	/* A segment carrying RST is discarded, never answered with one
	 * (RFC 9293 3.10.7.1). */
	if (lim->action == FG_LACT_RESET && lc->key.proto == IPPROTO_TCP &&
	    !(lc->tcp_flags & FG_TCP_RST))
		return FG_LIMIT_RESET;
	return FG_LIMIT_DROP;
}

/* fg_limits_apply - every global limit, then the service's own. Returns
 * the first refusal's action or FG_LIMIT_PASS. */
static __always_inline int fg_limits_apply(struct fg_limit_ctx *lc,
					   const struct fg_config *cfg,
					   const struct fg_svc *svc)
{
	__u32 i, n;
	int v;

	n = cfg->nglobal_limits;
	for (i = 0; i < FG_GLOBAL_LIMITS_MAX; i++) {
		if (i >= n)
			break;
		v = fg_limit_one(lc, cfg->global_limits[i]);
		if (v != FG_LIMIT_PASS)
			return v;
	}
	n = svc->nlimits;
	for (i = 0; i < FG_SVC_LIMITS_MAX; i++) {
		if (i >= n)
			break;
		v = fg_limit_one(lc, svc->limits[i]);
		if (v != FG_LIMIT_PASS)
			return v;
	}
	return FG_LIMIT_PASS;
}

/* --------------------------------------------------------- TCP reset */

/*
 * fg_send_rst - turn the TCP packet into the RST its sender should see,
 * in place, and return XDP_TX. Only plain headers (no IPv4 options, no
 * IPv6 extensions) are answered; anything else is dropped, since building
 * a reply there would mean moving headers for a packet we refuse anyway.
 */
static __noinline int fg_send_rst(struct xdp_md *ctx, const struct fg_pkt *pkt)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 l3 = pkt->l3_off, iplen, seg_len, sum = 0;
	__be32 seq, ack_seq;
	__u8 eth_tmp[ETH_ALEN];
	struct ethhdr *eth = data;
	struct tcphdr *th;
	int had_ack;

	if (pkt->family == FG_AF_INET)
		iplen = sizeof(struct iphdr);
	else
		iplen = sizeof(struct ipv6hdr);
	if (pkt->l4_off != l3 + iplen || l3 > 64)
		return XDP_DROP;
	if ((void *)(eth + 1) > data_end)
		return XDP_DROP;
	th = data + l3 + iplen;
	if ((void *)(th + 1) > data_end)
		return XDP_DROP;

	/* Sequence space the refused segment occupied: payload + SYN + FIN. */
	seg_len = (__u32)pkt->l3_off + pkt->l3_len - pkt->payload_off;
	seg_len += th->syn + th->fin;
	had_ack = th->ack;
	seq = th->seq;
	ack_seq = th->ack_seq;

	__builtin_memcpy(eth_tmp, eth->h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, eth->h_source, ETH_ALEN);
	__builtin_memcpy(eth->h_source, eth_tmp, ETH_ALEN);

	if (pkt->family == FG_AF_INET) {
		struct iphdr *iph = data + l3;
		__be32 a;

		if ((void *)(iph + 1) > data_end)
			return XDP_DROP;
		a = iph->saddr;
		iph->saddr = iph->daddr;
		iph->daddr = a;
		iph->tot_len = fg_htons(sizeof(struct iphdr) + sizeof(struct tcphdr));
		iph->id = 0;
		iph->frag_off = fg_htons(0x4000); /* DF */
		iph->ttl = 64;
		iph->tos = 0;
		iph->check = 0;
		iph->check = fg_ip4_csum(iph);
		/* Pseudo-header from the values, not re-read from the packet:
		 * a re-derived pointer would lose the verifier's range. */
		sum = (a & 0xffff) + (a >> 16) +
		      (iph->saddr & 0xffff) + (iph->saddr >> 16);
	} else {
		struct ipv6hdr *ip6 = data + l3;
		__be32 a[4], b[4];
		int i;

		if ((void *)(ip6 + 1) > data_end)
			return XDP_DROP;
		__builtin_memcpy(a, &ip6->saddr, 16);
		__builtin_memcpy(b, &ip6->daddr, 16);
		__builtin_memcpy(&ip6->saddr, b, 16);
		__builtin_memcpy(&ip6->daddr, a, 16);
		ip6->payload_len = fg_htons(sizeof(struct tcphdr));
		ip6->hop_limit = 64;
		FG_UNROLL
		for (i = 0; i < 4; i++)
			sum += (a[i] & 0xffff) + (a[i] >> 16) +
			       (b[i] & 0xffff) + (b[i] >> 16);
	}

	{
		__be16 p = th->source;

		th->source = th->dest;
		th->dest = p;
	}
	if (had_ack) {
		th->seq = ack_seq;
		th->ack_seq = 0;
		*((__u8 *)th + 13) = FG_TCP_RST;
	} else {
		th->seq = 0;
		th->ack_seq = fg_htonl(fg_ntohl(seq) + seg_len);
		*((__u8 *)th + 13) = FG_TCP_RST | FG_TCP_ACK;
	}
	*((__u8 *)th + 12) = 5 << 4; /* doff 5, no options */
	th->window = 0;
	th->urg_ptr = 0;
	th->check = 0;
	sum += fg_htons(IPPROTO_TCP) + fg_htons(sizeof(struct tcphdr));
	sum = fg_csum_partial_words((const __u16 *)th, 10, sum);
	th->check = (__u16)~fg_csum_fold(sum);

	/* Cut everything after the new TCP header (payload, options). */
	{
		int cut = (int)(l3 + iplen + sizeof(struct tcphdr)) -
			  (int)(data_end - data);

		if (cut < 0 && bpf_xdp_adjust_tail(ctx, cut))
			return XDP_DROP;
	}
	return XDP_TX;
}

/* -------------------------------------------------------------- FIB */

/* Next hops, cached: bpf_fib_lookup costs more than the rest of an
 * established flow's path together, and a next hop rarely changes. An
 * entry lives FG_NH_TTL_NS on the coarse clock, so a route or neighbour
 * change is followed within that time. An entry answers only the lookup
 * it was made for: same destination and ingress interface (and source,
 * for a client: a backend's is the fixed tunnel or SNAT address), and a
 * packet no longer than the one the lookup passed (its MTU check).
 *
 * Backends' next hops are shared between CPUs, one entry per backend id.
 * Deliberate race: they are written without a lock, once per TTL per
 * backend. Two CPUs refreshing one entry write the same values; a reader
 * meeting an entry mid-rewrite after a next-hop change can send one
 * packet to the old next hop, which the old next hop would have received
 * a moment earlier anyway.
 *
 * NAT clients' next hops (the return leg) are per CPU, in slots chosen by
 * a hash of the client address: two clients may share a slot, and a slot
 * rewritten under a reader on another CPU could hand it one client's
 * destination with another's next hop; per CPU, no reader ever overlaps
 * a writer. A collision costs a lookup, as without the cache. */
#define FG_NH_TTL_NS 1000000000ULL
#define FG_NH_CLIENT_SLOTS 4096U       /* per CPU; a power of two */
#define FG_NH_CLIENT 0x80000000U       /* fg_fwd.nh_slot: a client slot */

/* fg_nh_cache's value: its layout is pinned, adopted by later builds. */
struct fg_nh {
	__u64 expires;     /* coarse ns; 0 = empty */
	__be32 dst[4];     /* the address it was resolved for */
	__u32 ifindex;     /* egress */
	__u32 in_ifindex;  /* the lookup depends on the ingress interface */
	__u8 dmac[ETH_ALEN];
	__u8 smac[ETH_ALEN];
	__u16 len_ok;      /* tot_len the lookup passed; longer asks again */
	__u16 pad;
};
_Static_assert(sizeof(struct fg_nh) == 48, "fg_nh_cache value size is pinned");

/* A client's next hop depends on the source too: the VIP. */
struct fg_nh_cl {
	struct fg_nh nh;
	__be32 src[4];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, FG_BACKEND_MAX);
	__type(key, __u32);
	__type(value, struct fg_nh);
} fg_nh_cache SEC(".maps");

/* fg_nh_client[cpu * FG_NH_CLIENT_SLOTS + slot]: per CPU by layout, as
 * the counters; the loader multiplies max_entries by the CPUs. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, FG_NH_CLIENT_SLOTS);
	__type(key, __u32);
	__type(value, struct fg_nh_cl);
} fg_nh_client SEC(".maps");

/* Two 16-byte addresses (IPv4 in word 0) are equal. */
static __always_inline int fg_addr16_eq(const __be32 *a, const __be32 *b)
{
	return a[0] == b[0] && a[1] == b[1] && a[2] == b[2] && a[3] == b[3];
}

/* The fg_fwd.nh_slot of a NAT client's next hop. */
static __always_inline __u32 fg_nh_client_slot(const __be32 *addr)
{
	__u32 h = (addr[0] ^ addr[1] ^ addr[2] ^ addr[3]) * 0x9e3779b1U;

	return FG_NH_CLIENT | (h >> 20 & (FG_NH_CLIENT_SLOTS - 1));
}

/* Put the next hop's addresses on the frame and send it. */
static __always_inline int fg_send(struct xdp_md *ctx, const __u8 *dmac,
				   const __u8 *smac, __u32 ifindex)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > data_end)
		return XDP_DROP;
	__builtin_memcpy(eth->h_dest, dmac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, smac, ETH_ALEN);
	if (ifindex == ctx->ingress_ifindex)
		return XDP_TX;
	/* The devmap path batches and is the fast one; an egress interface
	 * the loader did not register still works through bpf_redirect. */
	if (bpf_map_lookup_elem(&fg_tx_ports, &ifindex))
		return bpf_redirect_map(&fg_tx_ports, ifindex, 0);
	return bpf_redirect(ifindex, 0);
}

/* fg_fib_out's packed argument: family | tot_len << 8 (BPF functions take
 * five arguments at most). */
#define FG_FIB_META(family, tot_len) ((__u32)(family) | ((__u32)(tot_len) << 8))

/*
 * fg_fib_out - route the (rewritten) packet whose outer addresses are
 * src/dst, fill in the Ethernet addresses, and return the XDP verdict:
 * XDP_TX back out of the ingress interface, a redirect to another
 * interface (through fg_tx_ports when registered there), or XDP_DROP:
 * no route (counted no_route) or no resolved neighbour (counted
 * no_neigh). Passing the rewritten packet to the kernel would not help:
 * its source is this host's own address, so the kernel drops it as a
 * martian and never resolves the neighbour. The daemon keeps every next
 * hop the rules need resolved instead (kernel-managed neighbour entries),
 * so no_neigh counts what it missed. The next hop is cached in the slot
 * fw->nh_slot names, against fw->now.
 */
static __noinline int fg_fib_out(struct xdp_md *ctx, const __be32 *src,
				 const __be32 *dst, __u32 meta,
				 const struct fg_fwd *fw)
{
	struct bpf_fib_lookup fib;
	__u32 family = meta & 0xff, tot_len = meta >> 8;
	__u32 slot = fw->nh_slot & ~FG_NH_CLIENT;
	__u64 now = fw->now;
	struct fg_nh_cl *cl = NULL;
	struct fg_nh *nh;
	int rc, i;

	if (fw->nh_slot & FG_NH_CLIENT) {
		slot = fg_cpu_index(bpf_get_smp_processor_id(),
				    FG_NH_CLIENT_SLOTS, slot);
		cl = bpf_map_lookup_elem(&fg_nh_client, &slot);
		nh = cl ? &cl->nh : NULL;
	} else {
		nh = bpf_map_lookup_elem(&fg_nh_cache, &slot);
	}
	if (nh && nh->expires > now && tot_len <= nh->len_ok &&
	    nh->in_ifindex == ctx->ingress_ifindex &&
	    fg_addr16_eq(nh->dst, dst) && (!cl || fg_addr16_eq(cl->src, src)))
		return fg_send(ctx, nh->dmac, nh->smac, nh->ifindex);

	/* Zeroed only now: a cached next hop (the common case) needs none
	 * of its 64 bytes. */
	__builtin_memset(&fib, 0, sizeof(fib));
	fib.ifindex = ctx->ingress_ifindex;
	fib.tot_len = (__u16)tot_len;
	if (family == FG_AF_INET) {
		fib.family = FG_FIB_AF_INET;
		fib.ipv4_src = src[0];
		fib.ipv4_dst = dst[0];
	} else {
		fib.family = FG_FIB_AF_INET6;
		__builtin_memcpy(fib.ipv6_src, src, 16);
		__builtin_memcpy(fib.ipv6_dst, dst, 16);
	}
	rc = bpf_fib_lookup(ctx, &fib, sizeof(fib), 0);
	if (rc == BPF_FIB_LKUP_RET_NO_NEIGH) {
		fg_count_drop(FG_DROP_NO_NEIGH);
		return XDP_DROP;
	}
	if (rc != BPF_FIB_LKUP_RET_SUCCESS) {
		fg_count_drop(FG_DROP_NO_ROUTE);
		return XDP_DROP;
	}
	if (nh) {
		__builtin_memcpy(nh->dmac, fib.dmac, ETH_ALEN);
		__builtin_memcpy(nh->smac, fib.smac, ETH_ALEN);
		nh->ifindex = fib.ifindex;
		nh->in_ifindex = ctx->ingress_ifindex;
		FG_UNROLL
		for (i = 0; i < 4; i++)
			nh->dst[i] = dst[i];
		if (cl)
			__builtin_memcpy(cl->src, src, sizeof(cl->src));
		nh->len_ok = (__u16)tot_len;
		nh->expires = now + FG_NH_TTL_NS;
	}
	return fg_send(ctx, fib.dmac, fib.smac, fib.ifindex);
}

/* ------------------------------------------------------ encapsulation */

/*
 * fg_encap - put an outer IPv4/IPv6 header (and a UDP header for GUE) in
 * front of the packet's IP header, replacing Ethernet and any VLAN tags
 * with one untagged Ethernet header, then route it to the backend fw
 * names: fw->gue_port selects GUE (0: IPIP), fw->hash gives the outer
 * header its entropy when IPv6 or GUE needs it.
 * Returns the XDP verdict.
 */
static __noinline int fg_encap(struct xdp_md *ctx, const struct fg_pkt *pkt,
			       const struct fg_backend *be,
			       const struct fg_fwd *fw)
{
	__u32 hash = (__u32)fw->hash;
	__be16 gue_port = fw->gue_port;
	int gue = gue_port != 0;
	__u32 outer = (be->family == FG_AF_INET ? sizeof(struct iphdr) :
		       sizeof(struct ipv6hdr)) + (gue ? sizeof(struct udphdr) : 0);
	__u32 inner_len = pkt->l3_len;
	__u8 inner_proto = pkt->family == FG_AF_INET ? IPPROTO_IPIP : IPPROTO_IPV6;
	int delta = (int)(sizeof(struct ethhdr) + outer) - (int)pkt->l3_off;
	const __be32 *dst = be->addr; /* a map value: adjust_head keeps it */
	__be32 src[4] = {};
	void *data, *data_end;
	struct ethhdr *eth;
	struct udphdr *uh;

	/* fg_fib_out() writes both Ethernet addresses before the frame
	 * leaves; a frame it cannot address is dropped, never passed. */
	if (bpf_xdp_adjust_head(ctx, -delta)) {
		fg_count_drop(FG_DROP_ENCAP);
		return XDP_DROP;
	}
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	eth = data;
	if ((void *)(eth + 1) > data_end)
		return XDP_DROP;

	if (be->family == FG_AF_INET) {
		struct iphdr *iph = (void *)(eth + 1);

		if ((void *)(iph + 1) > data_end)
			return XDP_DROP;
		eth->h_proto = fg_htons(ETH_P_IP);
		iph->version = 4;
		iph->ihl = 5;
		iph->tos = 0;
		iph->tot_len = fg_htons(inner_len + outer);
		iph->id = 0;
		iph->frag_off = 0;
		iph->ttl = 64;
		iph->protocol = gue ? IPPROTO_UDP : inner_proto;
		iph->saddr = fg_tunnel_src4;
		iph->daddr = dst[0];
		iph->check = 0;
		iph->check = fg_ip4_csum(iph);
		src[0] = fg_tunnel_src4;
		uh = (void *)(iph + 1);
	} else {
		struct ipv6hdr *ip6 = (void *)(eth + 1);
		__u32 flow = (__u32)hash & 0xfffff;

		if ((void *)(ip6 + 1) > data_end)
			return XDP_DROP;
		eth->h_proto = fg_htons(ETH_P_IPV6);
		/* version 6, traffic class 0, flow label from the flow hash so
		 * ECMP paths keep a flow together and spread flows apart */
		*(__be32 *)ip6 = fg_htonl((6U << 28) | flow);
		ip6->payload_len = fg_htons(inner_len + outer - sizeof(struct ipv6hdr));
		ip6->nexthdr = gue ? IPPROTO_UDP : inner_proto;
		ip6->hop_limit = 64;
		src[0] = fg_tunnel_src6[0];
		src[1] = fg_tunnel_src6[1];
		src[2] = fg_tunnel_src6[2];
		src[3] = fg_tunnel_src6[3];
		__builtin_memcpy(&ip6->saddr, src, 16);
		__builtin_memcpy(&ip6->daddr, dst, 16);
		uh = (void *)(ip6 + 1);
	}
	if (gue) {
		if ((void *)(uh + 1) > data_end)
			return XDP_DROP;
		/* Source port carries flow entropy for ECMP/RSS on the way;
		 * checksum zero (RFC 6935 for IPv6 tunnels): the decap side
		 * strips the header before the stack would check it. */
		uh->source = fg_htons(0xc000 | ((__u32)(hash >> 16) & 0x3fff));
		uh->dest = gue_port;
		uh->len = fg_htons(inner_len + sizeof(struct udphdr));
		uh->check = 0;
	}
	return fg_fib_out(ctx, src, dst, FG_FIB_META(be->family, inner_len + outer),
			  fw);
}

/* ----------------------------------------------------------- full NAT */

/*
 * fg_nat_rewrite - rewrite the packet's addresses and ports in place to
 * t (saddr:sport -> daddr:dport), updating the IPv4 header checksum and the
 * TCP/UDP checksum incrementally. Returns 0, or -1 when the headers are
 * not where the parse said (cannot happen for a parsed packet).
 */
struct fg_nat_tuple {
	__be32 saddr[4];
	__be32 daddr[4];
	__be16 sport;
	__be16 dport;
};

static __noinline int fg_nat_rewrite(struct xdp_md *ctx, const struct fg_pkt *pkt,
				     const struct fg_nat_tuple *t)
{
	const __be32 *saddr = t->saddr, *daddr = t->daddr;
	__be16 sport = t->sport, dport = t->dport;
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 l3 = pkt->l3_off, l4 = pkt->l4_off;
	__u16 *check = NULL;
	__be16 *ports;
	int udp = pkt->l4_proto == IPPROTO_UDP;

	if (l3 > 64 || l4 > 1500)
		return -1;
	ports = data + l4;
	if ((void *)(ports + 2) > data_end)
		return -1;
	if (udp) {
		struct udphdr *uh = data + l4;

		if ((void *)(uh + 1) > data_end)
			return -1;
		if (uh->check)
			check = &uh->check;
	} else {
		struct tcphdr *th = data + l4;

		if ((void *)(th + 1) > data_end)
			return -1;
		check = &th->check;
	}

	if (pkt->family == FG_AF_INET) {
		struct iphdr *iph = data + l3;
		__u16 c;

		if ((void *)(iph + 1) > data_end)
			return -1;
		c = iph->check;
		c = fg_csum_replace4(c, iph->saddr, saddr[0]);
		c = fg_csum_replace4(c, iph->daddr, daddr[0]);
		iph->check = c;
		if (check) {
			c = *check;
			c = fg_csum_replace4(c, iph->saddr, saddr[0]);
			c = fg_csum_replace4(c, iph->daddr, daddr[0]);
			c = fg_csum_replace2(c, ports[0], sport);
			c = fg_csum_replace2(c, ports[1], dport);
			*check = (udp && c == 0) ? 0xffff : c;
		}
		iph->saddr = saddr[0];
		iph->daddr = daddr[0];
	} else {
		struct ipv6hdr *ip6 = data + l3;
		__u16 c;

		if ((void *)(ip6 + 1) > data_end)
			return -1;
		if (check) {
			c = *check;
			c = fg_csum_replace16(c, (__be32 *)&ip6->saddr, saddr);
			c = fg_csum_replace16(c, (__be32 *)&ip6->daddr, daddr);
			c = fg_csum_replace2(c, ports[0], sport);
			c = fg_csum_replace2(c, ports[1], dport);
			*check = (udp && c == 0) ? 0xffff : c;
		}
		__builtin_memcpy(&ip6->saddr, saddr, 16);
		__builtin_memcpy(&ip6->daddr, daddr, 16);
	}
	ports[0] = sport;
	ports[1] = dport;
	return 0;
}

static __always_inline void fg_snat_addr(int family, __be32 *out)
{
	if (family == FG_AF_INET) {
		out[0] = fg_snat4;
		out[1] = out[2] = out[3] = 0;
	} else {
		out[0] = fg_snat6[0];
		out[1] = fg_snat6[1];
		out[2] = fg_snat6[2];
		out[3] = fg_snat6[3];
	}
}

/* The backend-side key of a NAT flow: backend -> SNAT address, from the
 * backend's port to the flow's SNAT source port. */
static __always_inline void fg_nat_rkey(const struct fg_flow_key *key,
					const struct fg_backend *be,
					__be16 nat_port, struct fg_flow_key *rk)
{
	__builtin_memcpy(rk->src, be->addr, sizeof(rk->src));
	fg_snat_addr(key->family, rk->dst);
	rk->sport = be->port;
	rk->dport = nat_port;
	rk->proto = key->proto;
	rk->family = key->family;
	rk->pad = 0;
}

/*
 * fg_nat_new - pick a free SNAT source port for a new NAT flow and record
 * the reverse mapping: a TCP flow's in fg_nat_syn until its handshake
 * completes (fg_nat_promote), a UDP flow's in fg_nat. A port is free when
 * neither table holds it. Returns the port (network order) or 0 when all
 * FG_NAT_PROBES candidates are taken.
 */
static __noinline __be16 fg_nat_new(const struct fg_flow_key *key,
				    const struct fg_backend *be, __u32 svc_id,
				    const struct fg_fwd *fw, int is_tcp)
{
	void *table = is_tcp ? (void *)&fg_nat_syn : (void *)&fg_nat;
	struct fg_nat_rev rev = {};
	struct fg_flow_key rk;
	__u32 i;

	__builtin_memcpy(rev.client, key->src, sizeof(rev.client));
	__builtin_memcpy(rev.vip, key->dst, sizeof(rev.vip));
	rev.client_port = key->sport;
	rev.vip_port = key->dport;
	rev.svc_id = svc_id;
	rev.last_seen = fw->now;

	fg_nat_rkey(key, be, 0, &rk);
	for (i = 0; i < FG_NAT_PROBES; i++) {
		__u32 port = FG_NAT_PORT_MIN +
			     (__u32)((fw->hash >> 20) + i * 7919U) % FG_NAT_PORT_SPAN;

		rk.dport = fg_htons(port);
		if (is_tcp && bpf_map_lookup_elem(&fg_nat, &rk))
			continue;
		if (!bpf_map_update_elem(table, &rk, &rev, BPF_NOEXIST))
			return rk.dport;
	}
	return 0;
}

/* The client's first non-SYN completed a NAT flow's handshake (ct): its
 * reverse entry moves from fg_nat_syn to fg_nat. */
static __noinline void fg_nat_promote(const struct fg_flow_key *key,
				      const struct fg_backend *be,
				      const struct fg_ct *ct)
{
	struct fg_nat_rev *rev, copy;
	struct fg_flow_key rk;

	fg_nat_rkey(key, be, ct->nat_port, &rk);
	rev = bpf_map_lookup_elem(&fg_nat_syn, &rk);
	if (!rev)
		return;
	copy = *rev;
	if (!bpf_map_update_elem(&fg_nat, &rk, &copy, BPF_ANY))
		bpf_map_delete_elem(&fg_nat_syn, &rk);
}

/* The return leg of a NAT flow: backend -> SNAT address becomes
 * VIP -> client. Returns the verdict, or -1 when no NAT entry matches
 * (the packet is then handled as any other). */
static __noinline int fg_nat_reverse(struct xdp_md *ctx,
					  const struct fg_pkt *pkt)
{
	struct fg_nat_tuple t;
	struct fg_flow_key key;
	struct fg_nat_rev *rev;
	struct fg_fwd fw = {};
	__u32 svc_id, len;

	fg_flow_key_from_pkt(pkt, &key);
	rev = bpf_map_lookup_elem(&fg_nat, &key);
	if (!rev)
		rev = bpf_map_lookup_elem(&fg_nat_syn, &key); /* a SYN-ACK */
	if (!rev)
		return -1;
	__builtin_memcpy(t.saddr, rev->vip, sizeof(t.saddr));
	__builtin_memcpy(t.daddr, rev->client, sizeof(t.daddr));
	t.sport = rev->vip_port;
	t.dport = rev->client_port;
	svc_id = rev->svc_id;
	len = (__u32)((long)ctx->data_end - (long)ctx->data);
	fg_count(&fg_svc_stats, FG_SVC_MAX, svc_id, len, 0);
	if (fg_nat_rewrite(ctx, pkt, &t))
		return XDP_DROP;
	fw.now = fg_now();
	fw.nh_slot = fg_nh_client_slot(t.daddr);
	return fg_fib_out(ctx, t.saddr, t.daddr, FG_FIB_META(pkt->family, pkt->l3_len),
			  &fw);
}

/* ----------------------------------------------------- flow handling */

/* The idle ticks after which a conntrack way of a flow is gone. */
static __always_inline __u32 fg_ct_timeout(int udp)
{
	return fg_ct_tick(udp ? fg_ct_timeout_udp_ns : fg_ct_timeout_tcp_ns);
}

/* A way's first word, tag and backend, read at once (fg_ct_write). */
union fg_ct_word0 {
	__u64 w;
	struct {
		__u32 tag;
		__u16 tag_lo;
		__u16 backend_id;
	};
};

/*
 * fg_ct_probe - the way of line `hash` names in map (`lines` lines) that
 * holds the flow's tag, its state unpacked into *ct; or NULL with *victim
 * set to the way a new flow should take: a free or expired one first,
 * else the one idle longest. One cache line either way.
 */
static __always_inline struct fg_ct_way *
fg_ct_probe(void *map, __u32 lines, __u64 hash, __u32 now, struct fg_ct *ct,
	    struct fg_ct_way **victim)
{
	__u32 idx = fg_ct_line_of(hash, lines), tag = fg_ct_tag(hash), i;
	__u16 tag_lo = fg_ct_tag_lo(hash);
	__u32 tcp_to = fg_ct_timeout(0), udp_to = fg_ct_timeout(1);
	struct fg_ct_line *l = bpf_map_lookup_elem(map, &idx);
	__u32 oldest = 0, vi = 0;

	*victim = NULL;
	if (!l)
		return NULL;
	/* The victim is tracked as an index, not a pointer: one verifier
	 * state per way instead of one per (way, victim) pair. */
	FG_UNROLL
	for (i = 0; i < FG_CT_WAYS; i++) {
		struct fg_ct_way *w = &l->way[i];
		union fg_ct_word0 w0 = { .w = *(const volatile __u64 *)w };
		__u32 idle;

		if (w0.tag == tag && w0.tag_lo == tag_lo) {
			fg_ct_unpack(w, ct);
			ct->backend_id = w0.backend_id;
			return w;
		}
		idle = fg_ct_idle(now, w->seen);
		if (!w0.tag ||
		    idle > (w->svc & FG_CT_W_UDP ? udp_to : tcp_to))
			idle = ~0U;
		/* Ties go to the earlier way; way 0 starts as the pick. */
		if (!i || idle > oldest) {
			oldest = idle;
			vi = i;
		}
	}
	*victim = &l->way[vi & (FG_CT_WAYS - 1)];
	return NULL;
}

/*
 * fg_ct_write - record the flow of hash with state ct in way w.
 * Deliberate race: the tables are shared by the CPUs and written without
 * a lock. The first word (tag, backend) is cleared first and written
 * last, so a reader on another CPU meeting the way mid-write sees no
 * match, as on a miss, and a match always pairs a tag with its own
 * backend; a reader that matched just before may take the new flow's
 * service, NAT port or tick for one packet, and the state is then only
 * used if it names a backend of the reader's own service (fg_ct_live).
 * Two CPUs taking the same way for two new flows at the same instant can
 * leave one flow's tag and backend with the other's service, port and
 * tick until the way is next written; the same check bounds what that
 * state can do. The barriers order the compiler only: on a CPU that
 * reorders stores (not x86) the window is wider, not different.
 */
static __always_inline void fg_ct_write(struct fg_ct_way *w, __u64 hash,
					const struct fg_ct *ct)
{
	struct fg_ct_way n;
	__u64 w0;

	fg_ct_pack(&n, hash, ct);
	*(volatile __u64 *)w = 0;
	asm volatile("" ::: "memory");
	w->svc = n.svc;
	w->nat_port = n.nat_port;
	w->seen = n.seen;
	asm volatile("" ::: "memory");
	__builtin_memcpy(&w0, &n, sizeof(w0));
	*(volatile __u64 *)w = w0;
}

/* fg_ct_free - give way w back (its flow moved on). */
static __always_inline void fg_ct_free(struct fg_ct_way *w)
{
	*(volatile __u64 *)w = 0;
}

/* A way's state still good for a packet of svc: recorded for this
 * service, seen within the timeout, its backend usable. */
static __always_inline int fg_ct_live(const struct fg_ct *ct,
				      const struct fg_svc *svc, __u32 now,
				      __u32 timeout)
{
	return ct->svc_id == svc->id &&
	       fg_ct_idle(now, ct->seen) <= timeout &&
	       fg_backend_usable(ct->backend_id, svc->id);
}

/*
 * fg_flow_backend - the backend id for this packet of service svc, with
 * the connection-table work: an established entry wins while its backend
 * is usable; a SYN gets a fresh Maglev pick (a retransmitted one the entry
 * already in fg_ct_syn); the first non-SYN of a recorded SYN promotes it to
 * fg_ct; UDP records in fg_ct directly. *ct_out receives the entry in use
 * (for NAT); FG_CT_F_NEW in ct_out->flags says this packet creates a flow.
 * A new flow of a DSR service is recorded here; a NAT one has no source
 * port yet, and the caller records it with fg_flow_commit() once it has.
 * Returns FG_NO_BACKEND when the service has no usable backend.
 */
#define FG_FB_SYN 0x1
#define FG_FB_TCP 0x2

static __noinline __u32 fg_flow_backend(const struct fg_svc *svc,
					const struct fg_flow_key *key,
					__u32 fb_flags, struct fg_fwd *fw,
					struct fg_ct *ct_out)
{
	int is_syn = !!(fb_flags & FG_FB_SYN), is_tcp = !!(fb_flags & FG_FB_TCP);
	int nat = svc->forward == FG_FWD_NAT;
	__u32 now = fg_ct_tick(fw->now);
	__u64 hash = fw->hash;
	__u32 timeout = fg_ct_timeout(!is_tcp);
	struct fg_ct_way *w, *victim, *syn_victim;
	struct fg_ct ct = {}, fresh = {};
	__u64 pick;
	__u32 id;

	if (is_tcp && is_syn) {
		/* The ring slot a fresh pick reads, on its way while the
		 * probe waits for its own (cold) line. */
		pick = fg_pick_hash(svc, key, fw);
		fg_maglev_touch(svc, pick);
		/* A TCP SYN never takes an established entry: on a live
		 * connection the stack answers a SYN with a challenge ACK,
		 * so a SYN that meets one is a new connection reusing the
		 * 4-tuple (TIME_WAIT reuse) and is judged afresh - a drained
		 * backend gets no new connection that way. A retransmitted
		 * SYN keeps the backend (and NAT source port) recorded in
		 * fg_ct_syn: a fresh pick could allocate a second port, and
		 * the backend's SYN-ACK to the first one would meet a client
		 * ACK sent on the second. */
		w = fg_ct_probe(&fg_ct_syn, fg_ct_syn_lines, hash, now, &ct,
				&syn_victim);
		if (w && fg_ct_live(&ct, svc, now, timeout)) {
			*ct_out = ct;
			return ct.backend_id;
		}
		/* An embryonic entry idle past the timeout, or whose backend
		 * went, is no handshake any more: the SYN takes it over. */
		if (w)
			syn_victim = w;
		id = fg_maglev_pick(svc, pick);
		if (id == FG_NO_BACKEND || !fg_backend_usable(id, svc->id))
			return FG_NO_BACKEND;
		fresh.backend_id = id;
		fresh.svc_id = svc->id;
		fresh.seen = now;
		if (!nat && syn_victim)
			fg_ct_write(syn_victim, hash, &fresh);
		goto new_flow;
	}

	w = fg_ct_probe(&fg_ct, fg_ct_lines, hash, now, &ct, &victim);
	if (w) {
		if (fg_ct_live(&ct, svc, now, timeout)) {
			/* Within half the timeout too: a short UDP timeout
			 * must see its flows refreshed before it ends. */
			if (fg_ct_idle(now, ct.seen) >
			    (timeout / 2 < FG_CT_REFRESH_TICKS ?
			     timeout / 2 : FG_CT_REFRESH_TICKS))
				w->seen = now;
			ct.seen = now;
			*ct_out = ct;
			return ct.backend_id;
		}
		/* Stale, or its backend went: the way is this flow's to
		 * rewrite. */
		victim = w;
	}
	if (is_tcp) {
		/* The first non-SYN of a recorded handshake promotes it. An
		 * embryonic entry older than the TCP timeout is no handshake
		 * any more, and the ACK is then stateless. */
		w = fg_ct_probe(&fg_ct_syn, fg_ct_syn_lines, hash, now, &ct,
				&syn_victim);
		if (w && fg_ct_live(&ct, svc, now, timeout)) {
			fresh = ct;
			fresh.seen = now;
			if (victim)
				fg_ct_write(victim, hash, &fresh);
			fg_ct_free(w);
			*ct_out = fresh;
			ct_out->flags |= FG_CT_F_PROMOTED;
			return fresh.backend_id;
		}
		/* No state: the ring decides, and no entry is created, so
		 * forged mid-flow packets cannot fill the table. A slot
		 * still naming a backend that is down (or no longer this
		 * service's) until the control plane flips the ring gets
		 * nothing, as a SYN would. */
		id = fg_maglev_pick(svc, fg_pick_hash(svc, key, fw));
		if (id != FG_NO_BACKEND && !fg_backend_usable(id, svc->id))
			id = FG_NO_BACKEND;
		ct_out->backend_id = id;
		ct_out->flags = 0;
		return id;
	}

	/* A new UDP flow (recorded here unless NAT). */
	id = fg_maglev_pick(svc, fg_pick_hash(svc, key, fw));
	if (id == FG_NO_BACKEND || !fg_backend_usable(id, svc->id))
		return FG_NO_BACKEND;
	fresh.backend_id = id;
	fresh.svc_id = svc->id;
	fresh.seen = now;
	fresh.flags = FG_CT_F_UDP;
	if (!nat && victim)
		fg_ct_write(victim, hash, &fresh);
new_flow:
	fresh.flags |= FG_CT_F_NEW;
	*ct_out = fresh;
	return id;
}

/* Record the new NAT flow ct (FG_CT_F_NEW) with its source port: a TCP
 * one in fg_ct_syn until its handshake completes, UDP in fg_ct. */
static __noinline void fg_flow_commit(struct fg_ct *ct, int is_tcp,
				      const struct fg_fwd *fw)
{
	struct fg_ct_way *w, *victim;
	__u32 now = fg_ct_tick(fw->now);
	struct fg_ct old;

	ct->flags &= ~FG_CT_F_NEW;
	if (is_tcp)
		w = fg_ct_probe(&fg_ct_syn, fg_ct_syn_lines, fw->hash, now,
				&old, &victim);
	else
		w = fg_ct_probe(&fg_ct, fg_ct_lines, fw->hash, now, &old,
				&victim);
	if (w)
		victim = w;
	if (victim)
		fg_ct_write(victim, fw->hash, ct);
}

/* ------------------------------------------------------------- main */

/*
 * fg_dst_not_ours - the frame is untagged IPv4 or IPv6 to an address that
 * is neither a VIP nor the SNAT address (the VIP filter says no): the
 * kernel's, known from the destination address alone, before any parse.
 * Most of what an edge box sees is such traffic, and it has no use for
 * the parse (measured: 26-30 -> 22-26 ns a packet in bench_xdp's
 * non_vip_pass). What the kernel gets is the frame as it came, malformed
 * or not: the kernel judges its own traffic. A
 * frame this cannot tell (tagged, another ethertype, an IP header cut
 * short) returns 0 and is parsed.
 */
static __always_inline int fg_dst_not_ours(void *data, void *data_end)
{
	struct ethhdr *eth = data;
	struct fg_config *cfg;
	__u32 fold, zero = 0;

	cfg = bpf_map_lookup_elem(&fg_config, &zero);
	if (!cfg || (void *)(eth + 1) > data_end)
		return 0;
	if (eth->h_proto == FG_BE16(ETH_P_IP)) {
		struct iphdr *iph = (void *)(eth + 1);

		if ((void *)(iph + 1) > data_end)
			return 0;
		fold = iph->daddr;
	} else if (eth->h_proto == FG_BE16(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		if ((void *)(ip6 + 1) > data_end)
			return 0;
		fold = fg_vip_fold(ip6->daddr.in6_u.u6_addr32);
	} else {
		return 0;
	}
	return !fg_vip_filter_has_fold(cfg, fold);
}

SEC("xdp")
int fg_xdp_main(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	/* The limit context holds the packet's flow key, used by everything
	 * below: one copy keeps the stack of the deepest call chain under the
	 * verifier's 512 bytes. It, ct and fw are zeroed once the packet is
	 * known to be for a service, not before: a packet for none (most of
	 * what an edge box sees) has no use for them. */
	struct fg_limit_ctx lc;
	struct fg_flow_key *key = &lc.key;
	struct fg_backend *be;
	struct fg_config *cfg;
	struct fg_ct ct;
	struct fg_pkt pkt;
	struct fg_svc *svc;
	__u32 zero = 0, be_id, frame_len;
	int rc, is_tcp, is_syn, new_flow;
	struct fg_fwd fw;

	if (fg_dst_not_ours(data, data_end)) {
		fg_count_drop(FG_DROP_NO_SERVICE);
		return XDP_PASS;
	}

	rc = fg_parse_fast(data, data_end, &pkt);
	if (rc != FG_PARSE_OK)
		rc = fg_parse(data, data_end, &pkt);
	if (rc == FG_PARSE_NOT_IP)
		return XDP_PASS;
	if (rc == FG_PARSE_ERR_IP6_EXT_DEPTH) {
		/* Legal but longer than we walk: not ours to judge. */
		fg_count_drop(FG_DROP_NO_SERVICE);
		return XDP_PASS;
	}
	if (rc != FG_PARSE_OK) {
		fg_count_drop(FG_DROP_MALFORMED);
		return XDP_DROP;
	}
	if (pkt.l4_proto != IPPROTO_TCP && pkt.l4_proto != IPPROTO_UDP) {
		fg_count_drop(FG_DROP_NO_SERVICE);
		return XDP_PASS;
	}
	/* Looked up again, not kept from fg_dst_not_ours(): an inlined
	 * array lookup costs a few instructions, a pointer live across the
	 * parse a stack slot, and the deepest call chain would then exceed
	 * the verifier's 512 bytes (528). */
	cfg = bpf_map_lookup_elem(&fg_config, &zero);
	if (!cfg)
		return XDP_PASS;
	/* A tagged frame's destination, which fg_dst_not_ours() could not
	 * see: neither a VIP nor the SNAT address is not ours, and known
	 * without a look at the service table. */
	if (pkt.l3_off != sizeof(struct ethhdr) &&
	    !fg_vip_filter_has(cfg, pkt.dst)) {
		fg_count_drop(FG_DROP_NO_SERVICE);
		return XDP_PASS;
	}

	if (fg_is_snat_dst(&pkt) && (pkt.flags & FG_PKT_F_L4)) {
		rc = fg_nat_reverse(ctx, &pkt);
		if (rc >= 0)
			return rc;
	}

	svc = fg_lookup_service(&pkt, cfg);
	if (!svc) {
		fg_count_drop(FG_DROP_NO_SERVICE);
		return XDP_PASS;
	}
	if (pkt.flags & FG_PKT_F_FRAG) {
		/* Later fragments carry no ports, so no flow to follow. */
		fg_count_drop(FG_DROP_FRAGMENT);
		return XDP_DROP;
	}

	__builtin_memset(&lc, 0, sizeof(lc));
	__builtin_memset(&ct, 0, sizeof(ct));
	__builtin_memset(&fw, 0, sizeof(fw));
	frame_len = (__u32)(data_end - data);
	is_tcp = pkt.l4_proto == IPPROTO_TCP;
	is_syn = is_tcp && (pkt.tcp_flags & (FG_TCP_SYN | FG_TCP_ACK)) == FG_TCP_SYN;
	fg_flow_key_from_pkt(&pkt, key);

	lc.tcp_flags = pkt.tcp_flags;
	lc.frame_len = frame_len;
	lc.svc_id = svc->id;
	lc.gen = cfg->gen & 1;
	lc.is_syn = is_syn;
	if (cfg->nglobal_limits || svc->nlimits) {
		lc.now = bpf_ktime_get_ns();
		rc = fg_limits_apply(&lc, cfg, svc);
		if (rc != FG_LIMIT_PASS) {
			fg_count_drop(FG_DROP_LIMITED);
			if (rc == FG_LIMIT_RESET)
				return fg_send_rst(ctx, &pkt);
			return XDP_DROP;
		}
	}

	{
		struct fg_hash_seed seed;

		fg_seed_get(&seed);
		fw.hash = fg_flow_hash(key, &seed);
	}
	fw.now = fg_now();
	be_id = fg_flow_backend(svc, key, (is_syn ? FG_FB_SYN : 0) |
				(is_tcp ? FG_FB_TCP : 0), &fw, &ct);
	if (be_id == FG_NO_BACKEND) {
		fg_count_drop(is_syn ? FG_DROP_FLOOD_GUARD : FG_DROP_NO_BACKEND);
		return XDP_DROP;
	}
	be = bpf_map_lookup_elem(&fg_backends, &be_id);
	if (!be) {
		fg_count_drop(FG_DROP_NO_BACKEND);
		return XDP_DROP;
	}
	{
		/* Both forward modes look up the next hop by backend id
		 * (fg_fib_out): start its line now. */
		struct fg_nh *nh = bpf_map_lookup_elem(&fg_nh_cache, &be_id);

		if (nh)
			fg_touch(nh);
	}
	new_flow = !!(ct.flags & FG_CT_F_NEW);
	fw.nh_slot = be_id;

	if (svc->forward == FG_FWD_NAT) {
		struct fg_nat_tuple t;

		if (be->family != pkt.family) {
			fg_count_drop(FG_DROP_NO_BACKEND);
			return XDP_DROP;
		}
		if (new_flow) {
			ct.nat_port = fg_nat_new(key, be, svc->id, &fw, is_tcp);
			if (!ct.nat_port) {
				fg_count_drop(FG_DROP_NAT_PORTS);
				return XDP_DROP;
			}
			ct.flags |= FG_CT_F_NAT;
		} else if (!(ct.flags & FG_CT_F_NAT)) {
			/* A mid-flow packet with no NAT state has no source
			 * port to use: the backend would only answer RST. */
			fg_count_drop(FG_DROP_FLOOD_GUARD);
			return XDP_DROP;
		}
		if (new_flow)
			fg_flow_commit(&ct, is_tcp, &fw);
		else if (ct.flags & FG_CT_F_PROMOTED)
			fg_nat_promote(key, be, &ct);
		fg_count(&fg_svc_stats, FG_SVC_MAX, svc->id, frame_len, new_flow);
		fg_count(&fg_be_stats, FG_BACKEND_MAX, be_id, frame_len, new_flow);
		fg_snat_addr(pkt.family, t.saddr);
		__builtin_memcpy(t.daddr, be->addr, sizeof(t.daddr));
		t.sport = ct.nat_port;
		t.dport = be->port;
		if (fg_nat_rewrite(ctx, &pkt, &t))
			return XDP_DROP;
		return fg_fib_out(ctx, t.saddr, t.daddr,
				  FG_FIB_META(pkt.family, pkt.l3_len), &fw);
	}

	/* A new DSR flow is recorded already (fg_flow_backend). */
	fg_count(&fg_svc_stats, FG_SVC_MAX, svc->id, frame_len, new_flow);
	fg_count(&fg_be_stats, FG_BACKEND_MAX, be_id, frame_len, new_flow);
	if (svc->forward == FG_FWD_DSR_GUE)
		fw.gue_port = svc->gue_port ? svc->gue_port : fg_gue_port;
	return fg_encap(ctx, &pkt, be, &fw);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
