/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * fg_maps.bpf.h - the XDP dataplane's load-time settings and every map it
 * uses, in one place (Katran's balancer_maps.h): the loader's skeleton
 * sees them in this order.
 *
 * BPF only (*.bpf.h): a part of floodgate.bpf.c, included by it alone;
 * it includes what it uses.
 */
#ifndef FG_MAPS_BPF_H
#define FG_MAPS_BPF_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>

#include "fg_types.h"
#include "fg_flow.h"
#include "fg_tables.h"

/* ------------------------------------------------- load-time settings */

const volatile struct fg_hash_seed fg_seed = {};
const volatile __be32 fg_tunnel_src4 = 0;
const volatile __be32 fg_tunnel_src6[4] = {};
const volatile __be32 fg_snat4 = 0;
const volatile __be32 fg_snat6[4] = {};
const volatile __u64 fg_ct_timeout_tcp_ns = 300ULL * 1000000000ULL;
const volatile __u64 fg_ct_timeout_udp_ns = 30ULL * 1000000000ULL;
const volatile __be16 fg_gue_port = FG_BE16(FG_GUE_PORT_DEFAULT);
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

/* --------------------------------------------------- next-hop cache */

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

#endif /* FG_MAPS_BPF_H */
