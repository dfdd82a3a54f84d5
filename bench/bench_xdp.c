// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * bench_xdp.c - per-packet cost of the XDP dataplane (xdp/floodgate.bpf.c)
 * under BPF_PROG_TEST_RUN, measured as BENCH.md requires.
 *
 * Method:
 *  - Every call is a repeat=1 bpf_prog_test_run_opts() on a fresh copy of
 *    the frame, so paths that rewrite the packet (encapsulation, NAT, RST)
 *    are measured on the frame the row names, never on their own output.
 *    The time is the kernel-reported opts.duration of each call.
 *  - The floor: a trivial XDP_PASS program (r0 = XDP_PASS; exit), loaded
 *    here from two instructions, runs on the same frame right before every
 *    call of the row, through the same loop. Floor and row thus share the
 *    run's conditions call by call.
 *  - Pinned to one CPU (sched_setaffinity: the highest one allowed, since
 *    CPU 0 takes most interrupts); 3 runs per row. A run's figure is the
 *    mean ns per call over the calls not longer than 10x the run's median
 *    call: those few (0.1-0.5%, 20-200 us each) lost the vCPU or took an
 *    interrupt, and would add ~10% of noise to a plain mean; the stderr
 *    detail line says how many were left out. The same rule applies to
 *    the floor. A row's value is the median over runs, its floor the
 *    median of the floor figures, above_floor the median over runs of
 *    (row - floor) within the run.
 *  - Path proof: the counters (drops in fg_config, fg_svc_stats, fg_be_stats,
 *    fg_limit_stats: per CPU by layout, summed over the CPUs), the ways
 *    in use (tag != 0) of fg_ct and fg_ct_syn and the entries of fg_nat
 *    are read before and after each run and must have moved by exactly
 *    what `calls` packets of the claimed path move them by, and nothing
 *    else may move; every call's verdict is checked, and the first output
 *    frame of each run is inspected. Established rows point their
 *    conntrack ways at a backend that is *not* in the service's ring, so a
 *    packet that missed the table (and went through Maglev) would count
 *    on another backend and fail the check. The SYN rows then find every
 *    SYN of the run in fg_ct_syn, by its tag in its line, on one of the
 *    service's backends.
 *  - Two loads of the program, one alive at a time, each on fresh maps
 *    given the same services, backends, rings, config and limits. Load 1
 *    is made anew for every run (a copy per run; each copy runs every
 *    selected hot row once): where the kernel places a fresh load's
 *    code and small maps moves a hot row by up to ~15 ns (non_vip_pass
 *    read 15-30 ns from one load to the next), so a row's median over
 *    runs is one over placements too. Load 2 is made once, for its 1M
 *    prefill (several seconds). In both, every map but fg_ct and
 *    fg_ct_syn keeps its compiled-in production size, and fg_ct (the
 *    established flows) has its production size: 2^19 lines of 4 ways
 *    (FG_CT_DEFAULT, 2^21 flows, 32 MiB).
 *     1. The hot rows (syn_new_flow, tcp_established, udp_established,
 *        non_vip_pass, syn_limited_drop, syn_limited_reset, nat_forward,
 *        nat_reverse) run first, against a load with every table at its
 *        production size, as xdp/fg_xdp.c sizes them by default: fg_ct_syn
 *        2^16 lines (FG_CT_SYN_DEFAULT, 2^18 flows, 4 MiB). A new
 *        SYN's cost grows with the table it lands in (cache and TLB
 *        misses over 32 MiB rather than 4 MiB): in load 2's 8x table
 *        syn_new_flow would pay more than production does.
 *     2. The realistic rows (tcp_established_1m, syn_new_1m) then run
 *        against a second load, made after the first is destroyed, with
 *        fg_ct_syn 2^19 lines (2^21 flows, 32 MiB: 8x production) so that
 *        syn_new_1m's million SYNs of a run fill under half of it and none
 *        has to evict another (production's 2^18 could not hold them).
 *        tcp_established_1m does not write fg_ct_syn; it runs on this load
 *        with syn_new_1m because both need the same 1M prefill of fg_ct.
 *    A load is made only when one of its rows is selected.
 *  - Hot rows: one flow (established, NAT, limited, non-VIP), or for
 *    syn_new_flow a new flow per call (fg_ct_syn emptied between runs):
 *    -n calls per run, but at most half of what fg_ct_syn holds (2^17 at
 *    production size), like syn_new_1m's million in its 2^21.
 *  - Both connection tables of each load are read once through the
 *    kernel, a page at a time, before its first row (fg_b_ct_warm): on a
 *    guest with shadow page tables the kernel's first touch of each page
 *    of a fresh map traps to the hypervisor, which a running dataplane
 *    pays once at start.
 *  - Realistic rows, on load 2: 1M flows in fg_ct at its production size
 *    (2^21 flows: 2^19 lines of 4 ways, 32 MiB; so 48 % full), written
 *    straight into the mapped table the way the dataplane places a new
 *    flow: the first free way of its line (fg_ct_line_of its keyed flow
 *    hash), under its tag (fg_ct_tag). With 4-way lines a few percent of
 *    any million flows find their line full; the dataplane would then
 *    evict the line's least recently seen flow, so the prefill skips such
 *    a candidate flow and takes the next, until 1M flows are resident
 *    (the skipped count is printed); likewise a candidate whose tag
 *    another flow of its line holds already, which the dataplane could
 *    not tell from that flow. ACKs of a random permutation of them, each
 *    run its own 300k, so every ACK is the flow's first in the run (cold
 *    cache). The prefill dates the flows FG_B_PREFILL_AGO_NS back, so
 *    every ACK finds its flow idle over a second and refreshes its seen
 *    tick, as a real flow's first packet of a new second does, whatever
 *    the time the prefill took. The tables are shared by the CPUs, so the
 *    prefill runs on the bench CPU like everything else. syn_new_1m: 1M
 *    distinct new SYNs per run on top of them, into load 2's fg_ct_syn
 *    (2^19 lines, above), emptied between runs. The SYN rows' flows (both
 *    rows, each planned for the fg_ct_syn of its own load) are chosen the
 *    same way, so that from an empty table each SYN finds a free way in
 *    its line and none evicts another or matches another's tag (the
 *    count of ways in use then grows by exactly `calls`).
 *
 * Output: one line per row,
 *   bench=xdp case=<case> value=<ns> unit=ns floor=<ns> above_floor=<ns>
 * then a human table against the peer figures of BENCH.md (target: half
 * the peer's above-floor cost). Timing never gates: exit 0 when every path
 * check passed, 1 on a path-check failure or a setup error, 77 (skip) when
 * not root or BPF is refused.
 *
 * Usage: bench_xdp [-n calls] [-r runs] [case...]
 *   -n  calls per run of the hot rows (default 200000; syn_new_flow
 *       at most 2^17, half its fg_ct_syn)
 *   -r  runs per row (default 3)
 *   case  run only these rows (default all)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

/* Core first: the skeleton's rodata names struct fg_hash_seed. */
#include "fg_flow.h"
#include "fg_maglev.h"
#include "fg_parse.h"
#include "fg_tables.h"
#include "fg_tbucket.h"
#include "pktbuild.h"
#include "bpf_harness.h"
#include "bench_util.h"

#include "floodgate.skel.h"

/* ------------------------------------------------------------ settings */

#define FG_B_RUNS_DEFAULT  3
#define FG_B_CALLS_DEFAULT 200000U
#define FG_B_FLOWS         1000000U  /* the "1M" rows */
#define FG_B_CALLS_1M_EST  300000U   /* ACKs per run of tcp_established_1m */
/* Connection-table sizes in lines of FG_CT_WAYS flows (the maps'
 * max_entries; see the top): fg_ct at production size in both loads,
 * fg_ct_syn at production size for the hot rows and 8x production for the
 * 1M rows, so that a run's 1M SYNs fill under half of it. */
#define FG_B_CT_LINES      (FG_CT_DEFAULT / FG_CT_WAYS)
#define FG_B_CTSYN_LINES_HOT (FG_CT_SYN_DEFAULT / FG_CT_WAYS)
#define FG_B_CTSYN_LINES_1M  (1U << 19)
#define FG_B_CAND_MAX      (2U * FG_B_FLOWS) /* candidates per flow set */
/* The prefilled flows were last seen this long before the prefill: over
 * the dataplane's ~1 s refresh interval, well under the TCP timeout. */
#define FG_B_PREFILL_AGO_NS 2000000000ULL
#define FG_B_REARM         4096U     /* limited rows: re-empty the bucket */
#define FG_B_BATCH         65536U    /* map batch operations */
#define FG_B_PKT_MAX       2048U
#define FG_B_ID_MAX        64U       /* counters compared below this id */
#define FG_B_RING_M        FG_MAGLEV_M_DEFAULT
#define FG_B_BE_PER_SVC    4U

/* ------------------------------------------------------------ topology */

#define FG_B_IF   "fgb0"
#define FG_B_PEER "fgb1"

static const __u8 fg_if_mac[6]   = { 0x02, 0, 0, 0, 0, 0x01 };
static const __u8 fg_peer_mac[6] = { 0x02, 0, 0, 0, 0, 0x09 };

#define FG_B_TUN4  "198.19.255.1"
#define FG_B_TUN6  "2001:db8:19:ff::1"
#define FG_B_SNAT4 "198.19.255.2"
#define FG_B_SNAT6 "2001:db8:19:ff::2"
#define FG_B_CLI4  "198.18.0.100"   /* has a neighbour entry: NAT replies */
#define FG_B_NONVIP "198.18.0.200"
#define FG_B_GUE_PORT 9000
/* Every word full width, as getrandom() gives them. */
static const struct fg_hash_seed fg_b_seed = {
	0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL,
	{ 0x1716151413121110ULL, 0x1f1e1d1c1b1a1918ULL,
	  0x2726252423222120ULL, 0x2f2e2d2c2b2a2928ULL }
};

/* Client address blocks (host order), one per kind of flow set. */
#define FG_B_NET_EST1M 0x0a000000U  /* 10/8: the 1M established flows */
#define FG_B_NET_SYN   0x0b000000U  /* 11/8: syn_new_flow */
#define FG_B_NET_SYN1M 0x0c000000U  /* 12/8: syn_new_1m */
#define FG_B_NAT_CPORT 41000
#define FG_B_NAT_NPORT 20000        /* SNAT source port of the NAT flow */

/* ---------------------------------------------------------------- state */

static struct {
	struct floodgate_bpf *skel;
	struct fg_h_fds fd;
	int floor_fd, ifindex, ncpus, cpu;
	__u32 ct_lines, ctsyn_lines;
	struct fg_ct_line *ct, *ctsyn; /* the tables, mapped */
	struct fg_svc_slot *svc_img;   /* generation 0 of fg_services */
	__u32 next_svc, next_be, next_ring;
	__u32 calls, runs;
	__u32 *est;            /* flow f of the 1M: candidate est[f] */
	__u32 *perm;           /* permutation of the 1M flows */
	__u32 *syn_cand[2];    /* SYN i of syn_new_flow / syn_new_1m */
	int have_1m;
	int path_failed;
} g;

static __u64 fg_b_clock(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec;
}

static __u32 fg_b_ip4h(const char *a)
{
	struct in_addr in;

	FG_BENCH_REQUIRE(inet_pton(AF_INET, a, &in) == 1);
	return ntohl(in.s_addr);
}

/* ------------------------------------------------------------- packets */

/* An IPv4 frame as the rows send it. */
struct fg_b_pkt {
	__u32 src, dst;      /* host order */
	__u16 sport, dport;
	__u8 proto;          /* FG_IPPROTO_TCP / UDP */
	__u8 flags;          /* TCP flags */
	__u16 plen;          /* payload bytes */
};

/* fg_b_build - the frame p into buf (fgb1 -> fgb0 MACs; a SYN carries an
 * MSS option as a real one does). Returns its length. */
static __u32 fg_b_build(const struct fg_b_pkt *p, __u8 *buf)
{
	static const __u8 mss_opt[4] = { 2, 4, 0x05, 0xb4 };
	struct fg_pb_ip4 ip = { .src = p->src, .dst = p->dst,
				.frag_off = 0x4000 };
	struct fg_pb pb;
	int len;

	fg_pb_init(&pb, buf, 128 + p->plen);
	fg_pb_eth(&pb, fg_if_mac, fg_peer_mac);
	fg_pb_ip4(&pb, &ip);
	if (p->proto == FG_IPPROTO_TCP) {
		int syn = p->flags & FG_TCP_SYN;
		struct fg_pb_tcp t = {
			.sport = p->sport, .dport = p->dport, .seq = 1000,
			.ack = (p->flags & FG_TCP_ACK) ? 5000 : 0,
			.flags = p->flags,
			.opts = syn ? mss_opt : NULL,
			.opts_len = syn ? sizeof(mss_opt) : 0,
		};

		fg_pb_tcp(&pb, &t);
	} else {
		fg_pb_udp(&pb, p->sport, p->dport);
	}
	if (p->plen)
		fg_pb_bytes(&pb, NULL, p->plen);
	len = fg_pb_finish(&pb);
	FG_BENCH_REQUIRE(len > 0);
	return (__u32)len;
}

/* The flow key the dataplane derives from p. */
static void fg_b_key(const struct fg_b_pkt *p, struct fg_flow_key *k)
{
	memset(k, 0, sizeof(*k));
	k->src[0] = htonl(p->src);
	k->dst[0] = htonl(p->dst);
	k->sport = htons(p->sport);
	k->dport = htons(p->dport);
	k->proto = p->proto;
	k->family = FG_AF_INET;
}

/* ------------------------------------------------------------ services */

struct fg_b_svc {
	const char *vip;
	__u16 port;
	__u8 proto;
	__u8 forward;
	unsigned int nring;  /* be[0..nring) make the ring */
	unsigned int nbe;    /* be[nring..nbe) belong to it, not in the ring */
	const char *be_addr[FG_B_BE_PER_SVC];
	__u16 be_port[FG_B_BE_PER_SVC];
	__u16 limit;         /* limit id, 0: none */
	/* filled by fg_b_svc_add() */
	__u32 id;
	__u32 be_id[FG_B_BE_PER_SVC];
};

/* New flows: four backends in a 65537-slot ring. */
static struct fg_b_svc s_dsr = { .vip = "198.18.0.10", .port = 80,
	.proto = FG_IPPROTO_TCP, .forward = FG_FWD_DSR_IPIP, .nring = 4,
	.nbe = 4, .be_addr = { "198.19.0.1", "198.19.0.2", "198.19.0.3",
			       "198.19.0.4" } };
/* Established: the ring only knows be[0]; flows are recorded on be[1]. */
static struct fg_b_svc s_est = { .vip = "198.18.0.11", .port = 80,
	.proto = FG_IPPROTO_TCP, .forward = FG_FWD_DSR_IPIP, .nring = 1,
	.nbe = 2, .be_addr = { "198.19.0.11", "198.19.0.12" } };
static struct fg_b_svc s_udp = { .vip = "198.18.0.12", .port = 53,
	.proto = FG_IPPROTO_UDP, .forward = FG_FWD_DSR_IPIP, .nring = 1,
	.nbe = 2, .be_addr = { "198.19.0.21", "198.19.0.22" } };
static struct fg_b_svc s_ldrop = { .vip = "198.18.0.20", .port = 80,
	.proto = FG_IPPROTO_TCP, .forward = FG_FWD_DSR_IPIP, .nring = 1,
	.nbe = 1, .be_addr = { "198.19.0.31" }, .limit = 1 };
static struct fg_b_svc s_lrst = { .vip = "198.18.0.21", .port = 80,
	.proto = FG_IPPROTO_TCP, .forward = FG_FWD_DSR_IPIP, .nring = 1,
	.nbe = 1, .be_addr = { "198.19.0.32" }, .limit = 2 };
static struct fg_b_svc s_nat = { .vip = "198.18.0.13", .port = 80,
	.proto = FG_IPPROTO_TCP, .forward = FG_FWD_NAT, .nring = 1,
	.nbe = 1, .be_addr = { "198.19.0.13" }, .be_port = { 8080 } };

static struct fg_b_svc *const fg_b_svcs[] = {
	&s_dsr, &s_est, &s_udp, &s_ldrop, &s_lrst, &s_nat,
};

/* fg_b_svc_add - ids, backends, a Maglev ring over be[0..nring) and the
 * generation-0 service entry in g.svc_img (fg_b_svc_commit writes it). */
static void fg_b_svc_add(struct fg_b_svc *s)
{
	struct fg_maglev_backend mb[FG_B_BE_PER_SVC];
	LIBBPF_OPTS(bpf_map_batch_opts, bo);
	__u32 *idx, *keys, i, n;
	struct fg_svc_key k = { 0 };
	struct fg_svc v = { 0 };

	s->id = ++g.next_svc;
	for (i = 0; i < s->nbe; i++) {
		struct fg_backend b = { 0 };

		s->be_id[i] = ++g.next_be;
		FG_BENCH_REQUIRE(s->be_id[i] < FG_B_ID_MAX);
		b.addr[0] = htonl(fg_b_ip4h(s->be_addr[i]));
		b.port = htons(s->be_port[i]);
		b.family = FG_AF_INET;
		b.flags = FG_BE_F_VALID;
		b.svc_id = s->id;
		FG_BENCH_REQUIRE(!bpf_map_update_elem(g.fd.be, &s->be_id[i], &b,
						      BPF_ANY));
		mb[i].id = s->be_id[i];
		mb[i].weight = 1;
	}
	idx = calloc(FG_B_RING_M, sizeof(*idx));
	keys = calloc(FG_B_RING_M, sizeof(*keys));
	FG_BENCH_REQUIRE(idx && keys);
	FG_BENCH_REQUIRE(fg_maglev_build(mb, s->nring, idx, FG_B_RING_M) == 0);
	for (i = 0; i < FG_B_RING_M; i++) {
		keys[i] = g.next_ring + i;
		idx[i] = s->be_id[idx[i]];
	}
	n = FG_B_RING_M;
	FG_BENCH_REQUIRE(!bpf_map_update_batch(g.fd.ring, keys, idx, &n, &bo) &&
			 n == FG_B_RING_M);
	free(idx);
	free(keys);

	k.vip[0] = htonl(fg_b_ip4h(s->vip));
	k.port = htons(s->port);
	k.proto = s->proto;
	k.family = FG_AF_INET;
	k.gen = 0;
	v.id = s->id;
	v.ring_off = g.next_ring;
	v.ring_size = FG_B_RING_M;
	v.forward = s->forward;
	v.nlimits = s->limit ? 1 : 0;
	v.limits[0] = s->limit;
	FG_BENCH_REQUIRE(fg_svc_table_put(g.svc_img, &k, &v) == 0);
	g.next_ring += FG_B_RING_M;
}

/* fg_b_svc_commit - write generation 0 of fg_services, every slot of it,
 * and read it back: each service resolves to itself. */
static void fg_b_svc_commit(void)
{
	LIBBPF_OPTS(bpf_map_batch_opts, bo);
	struct fg_svc_slot *back;
	__u32 *keys, i, n = FG_SVC_SLOTS;

	keys = calloc(FG_SVC_SLOTS, sizeof(*keys));
	back = calloc(FG_SVC_SLOTS, sizeof(*back));
	FG_BENCH_REQUIRE(keys && back);
	for (i = 0; i < FG_SVC_SLOTS; i++)
		keys[i] = i; /* generation 0: entries 0..FG_SVC_SLOTS-1 */
	FG_BENCH_REQUIRE(!bpf_map_update_batch(g.fd.svc, keys, g.svc_img, &n,
					       &bo) && n == FG_SVC_SLOTS);
	for (i = 0; i < FG_SVC_SLOTS; i++)
		FG_BENCH_REQUIRE(!bpf_map_lookup_elem(g.fd.svc, &keys[i],
						      &back[i]));
	for (i = 0; i < FG_ARRAY_SIZE(fg_b_svcs); i++) {
		const struct fg_b_svc *s = fg_b_svcs[i];
		struct fg_svc_key k = { 0 };
		const struct fg_svc *v;

		k.vip[0] = htonl(fg_b_ip4h(s->vip));
		k.port = htons(s->port);
		k.proto = s->proto;
		k.family = FG_AF_INET;
		v = fg_svc_table_get(back, &k);
		FG_BENCH_REQUIRE(v && v->id == s->id);
	}
	free(back);
	free(keys);
}

/*
 * fg_b_config - generation 0 active, its VIP filter naming every
 * service's VIP and the SNAT addresses, as the loader writes it. The
 * non-VIP row's destination must miss the filter: that row measures the
 * common case, a packet for no service turned away by the filter alone.
 */
static void fg_b_config(void)
{
	struct fg_config cfg = { 0 };
	__be32 a[4] = { 0 };
	__u32 i, zero = 0;

	for (i = 0; i < FG_ARRAY_SIZE(fg_b_svcs); i++) {
		a[0] = htonl(fg_b_ip4h(fg_b_svcs[i]->vip));
		fg_vip_filter_add(&cfg, 0, a);
	}
	a[0] = htonl(fg_b_ip4h(FG_B_SNAT4));
	fg_vip_filter_add(&cfg, 0, a);
	FG_BENCH_REQUIRE(inet_pton(AF_INET6, FG_B_SNAT6, a) == 1);
	fg_vip_filter_add(&cfg, 0, a);
	memset(a, 0, sizeof(a));
	a[0] = htonl(fg_b_ip4h(FG_B_NONVIP));
	FG_BENCH_REQUIRE(!fg_vip_filter_has(&cfg, a));
	FG_BENCH_REQUIRE(!bpf_map_update_elem(g.fd.cfg, &zero, &cfg, BPF_ANY));
}

/* ------------------------------------------------------------- limits */

static struct fg_limit fg_b_lim[3];

/* Limit id: cps, one bucket per service, rate 1/s, burst 1. */
static void fg_b_limit_add(__u32 id, __u8 action)
{
	struct fg_limit *l = &fg_b_lim[id];
	__u32 idx = id; /* generation 0 */

	memset(l, 0, sizeof(*l));
	l->id = id;
	l->key = FG_LKEY_SERVICE;
	l->unit = FG_LUNIT_CPS;
	l->action = action;
	FG_BENCH_REQUIRE(fg_tb_profile_init(&l->prof, 1, 1) == 0);
	FG_BENCH_REQUIRE(!bpf_map_update_elem(g.fd.lim, &idx, l, BPF_ANY));
}

/* fg_b_bucket_empty - write the service bucket of limit id for s as
 * exactly empty now: no SYN is admitted for the next second. The rows
 * re-arm it every FG_B_REARM calls so a run never earns a token. */
static void fg_b_bucket_empty(const struct fg_b_svc *s, __u32 id)
{
	struct fg_bucket_key bk = { 0 };
	struct fg_tb_state st = { 0 };

	bk.dst[0] = s->id;
	bk.limit_id = id;
	st.tat = fg_b_clock(CLOCK_MONOTONIC) + fg_b_lim[id].prof.window_ns;
	st.frac = fg_b_lim[id].prof.window_frac;
	FG_BENCH_REQUIRE(!fg_h_bucket_put(g.fd.bkt, &bk, &fg_b_seed, &st));
}

/* ------------------------------------------------------------ counters */

struct fg_b_snap {
	__u64 drops[FG_DROP_REASON_MAX];
	__u64 svc[FG_B_ID_MAX][3];  /* packets, bytes, new_flows */
	__u64 be[FG_B_ID_MAX][3];
	__u64 lim[FG_B_ID_MAX][2];  /* passed, limited */
	__u64 ct, ctsyn, nat;       /* ways in use; fg_nat entries */
};

/* Sum the first nwords 64-bit words of counter id over the CPUs (the
 * counter maps are per CPU by layout: CPU c's at c * stride + id). */
static void fg_b_cpu_sum(int fd, __u32 stride, __u32 id, size_t vsize,
			 __u64 *sum, unsigned int nwords)
{
	FG_BENCH_REQUIRE(!fg_h_cpu_sum(fd, stride, id, vsize, g.ncpus, sum,
				       nwords));
}

/* fg_b_ct_count - ways in use (tag != 0) in connection table t of
 * `lines` lines, through the mapping the benchmark holds (fg_h_ct_count
 * would map the table afresh on every call). */
static __u64 fg_b_ct_count(const struct fg_ct_line *t, __u32 lines)
{
	__u64 n = 0;
	__u32 i, w;

	for (i = 0; i < lines; i++)
		for (w = 0; w < FG_CT_WAYS; w++)
			n += t[i].way[w].tag != 0;
	return n;
}

/* fg_b_count - entries of a hash map (fg_nat), by batch lookup. */
static __u64 fg_b_count(int fd, size_t ksize, size_t vsize)
{
	static void *keys, *vals;
	static size_t kcap, vcap;
	LIBBPF_OPTS(bpf_map_batch_opts, bo);
	__u64 total = 0, in = 0, out = 0;
	int err, first = 1;

	if (kcap < ksize * FG_B_BATCH) {
		free(keys);
		kcap = ksize * FG_B_BATCH;
		keys = malloc(kcap);
	}
	if (vcap < vsize * FG_B_BATCH) {
		free(vals);
		vcap = vsize * FG_B_BATCH;
		vals = malloc(vcap);
	}
	FG_BENCH_REQUIRE(keys && vals);
	for (;;) {
		__u32 n = FG_B_BATCH;

		err = bpf_map_lookup_batch(fd, first ? NULL : &in, &out, keys,
					   vals, &n, &bo);
		if (err && errno != ENOENT)
			fg_bench_die("bpf_map_lookup_batch: %s",
				     strerror(errno));
		total += n;
		if (err)
			break;
		in = out;
		first = 0;
	}
	return total;
}

static void fg_b_snap_take(struct fg_b_snap *s, int counts)
{
	__u32 i;

	FG_BENCH_REQUIRE(!fg_h_drops_sum(g.fd.cfg, g.ncpus, s->drops));
	for (i = 0; i < FG_B_ID_MAX; i++) {
		fg_b_cpu_sum(g.fd.svcst, FG_SVC_MAX, i, sizeof(struct fg_counter),
			     s->svc[i], 3);
		fg_b_cpu_sum(g.fd.best, FG_BACKEND_MAX, i,
			     sizeof(struct fg_counter), s->be[i], 3);
		fg_b_cpu_sum(g.fd.limst, FG_LIMIT_MAX, i,
			     sizeof(struct fg_limit_counter), s->lim[i], 2);
	}
	s->ct = s->ctsyn = s->nat = 0;
	if (counts) {
		s->ct = fg_b_ct_count(g.ct, g.ct_lines);
		s->ctsyn = fg_b_ct_count(g.ctsyn, g.ctsyn_lines);
		s->nat = fg_b_count(g.fd.nat, sizeof(struct fg_flow_key),
				    sizeof(struct fg_nat_rev));
	}
}

/* ---------------------------------------------------------------- rows */

/* What `calls` packets of a row's path move; everything else stays. */
struct fg_b_expect {
	int drop;                    /* reason moving by calls; -1: none */
	struct fg_b_svc *svc;        /* service whose counters move; NULL */
	int svc_new;                 /* every packet opens a flow */
	unsigned int be_lo, be_hi;   /* svc->be_id[lo..hi) take the packets */
	__u32 lim;                   /* limit id whose `limited` moves */
	int syn_entries;             /* fg_ct_syn grows by calls */
};

struct fg_b_row {
	const char *name;
	double peer;                 /* BENCH.md above-floor ns; 0: none */
	int big;                     /* load 2 and the 1M prefill */
	__u32 verdict;
	struct fg_b_expect x;
	/* calls per run (0: g.calls) */
	__u32 (*ncalls)(void);
	/* state before run `run` */
	void (*prepare)(__u32 run);
	/* frame i of run `run` into buf; returns its length */
	__u32 (*packet)(__u32 run, __u32 i, __u8 *buf);
	/* every FG_B_REARM calls, outside the timed calls; may be NULL */
	void (*rearm)(void);
	/* the first output frame of a run; returns NULL or what is wrong */
	const char *(*check_out)(const __u8 *in, __u32 in_len,
				 const __u8 *out, __u32 out_len);
	/* after run `run` (counters checked): check and undo the state the
	 * run left; returns 0 or -1 (a path check failed); may be NULL */
	int (*cleanup)(const struct fg_b_row *row, __u32 run, __u32 calls);
};

static int fg_b_fail(const char *row, __u32 run, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* -- frames */

/* Candidate SYN c of client block net (the SYN rows take the candidates
 * fg_b_syn_plan chose). */
static struct fg_b_pkt fg_b_syn_cand(__u32 net, __u32 c)
{
	struct fg_b_pkt p = { .src = net + c, .dst = fg_b_ip4h(s_dsr.vip),
			      .sport = (__u16)(1024 + c % 60000),
			      .dport = s_dsr.port, .proto = FG_IPPROTO_TCP,
			      .flags = FG_TCP_SYN };

	return p;
}

/* Candidate c of the 1M established flows (fg_b_prefill_1m chooses). */
static struct fg_b_pkt fg_b_est_cand(__u32 c)
{
	struct fg_b_pkt p = { .src = FG_B_NET_EST1M + c,
			      .dst = fg_b_ip4h(s_est.vip),
			      .sport = (__u16)(1024 + c % 60000),
			      .dport = s_est.port, .proto = FG_IPPROTO_TCP,
			      .flags = FG_TCP_ACK };

	return p;
}

/* Flow f of the 1M established flows. */
static struct fg_b_pkt fg_b_flow1m(__u32 f)
{
	return fg_b_est_cand(g.est[f]);
}

static struct fg_b_pkt fg_b_est_pkt(void)
{
	struct fg_b_pkt p = { .src = fg_b_ip4h(FG_B_CLI4),
			      .dst = fg_b_ip4h(s_est.vip), .sport = 40000,
			      .dport = s_est.port, .proto = FG_IPPROTO_TCP,
			      .flags = FG_TCP_ACK };

	return p;
}

static struct fg_b_pkt fg_b_udp_pkt(void)
{
	struct fg_b_pkt p = { .src = fg_b_ip4h(FG_B_CLI4),
			      .dst = fg_b_ip4h(s_udp.vip), .sport = 5300,
			      .dport = s_udp.port, .proto = FG_IPPROTO_UDP,
			      .plen = 32 };

	return p;
}

static struct fg_b_pkt fg_b_natf_pkt(void)
{
	struct fg_b_pkt p = { .src = fg_b_ip4h(FG_B_CLI4),
			      .dst = fg_b_ip4h(s_nat.vip),
			      .sport = FG_B_NAT_CPORT, .dport = s_nat.port,
			      .proto = FG_IPPROTO_TCP, .flags = FG_TCP_ACK };

	return p;
}

static struct fg_b_pkt fg_b_natr_pkt(void)
{
	struct fg_b_pkt p = { .src = fg_b_ip4h(s_nat.be_addr[0]),
			      .dst = fg_b_ip4h(FG_B_SNAT4),
			      .sport = s_nat.be_port[0],
			      .dport = FG_B_NAT_NPORT,
			      .proto = FG_IPPROTO_TCP, .flags = FG_TCP_ACK };

	return p;
}

/* -- output checks */

static __u32 fg_b_get32(const __u8 *b, __u32 off)
{
	return (__u32)b[off] << 24 | (__u32)b[off + 1] << 16 |
	       (__u32)b[off + 2] << 8 | b[off + 3];
}

/* IPIP to one of svc->be_id[lo..hi): one outer IPv4 header. */
static const char *fg_b_out_ipip(const __u8 *in, __u32 in_len,
				 const __u8 *out, __u32 out_len,
				 const struct fg_b_svc *s, unsigned int lo,
				 unsigned int hi)
{
	__u32 dst, i;

	if (out_len != in_len + 20)
		return "not encapsulated (length)";
	if (out[12] != 0x08 || out[13] != 0x00 || out[14 + 9] != 4)
		return "outer header is not IPv4 protocol 4";
	if (fg_b_get32(out, 14 + 12) != fg_b_ip4h(FG_B_TUN4))
		return "outer source is not the tunnel address";
	if (memcmp(out + 34, in + 14, in_len - 14))
		return "inner packet changed";
	dst = fg_b_get32(out, 14 + 16);
	for (i = lo; i < hi; i++)
		if (dst == fg_b_ip4h(s->be_addr[i]))
			return NULL;
	return "outer destination is not the expected backend";
}

static const char *fg_b_out_syn(const __u8 *in, __u32 in_len,
				const __u8 *out, __u32 out_len)
{
	return fg_b_out_ipip(in, in_len, out, out_len, &s_dsr, 0, s_dsr.nbe);
}

static const char *fg_b_out_est(const __u8 *in, __u32 in_len,
				const __u8 *out, __u32 out_len)
{
	return fg_b_out_ipip(in, in_len, out, out_len, &s_est, 1, 2);
}

static const char *fg_b_out_udp(const __u8 *in, __u32 in_len,
				const __u8 *out, __u32 out_len)
{
	return fg_b_out_ipip(in, in_len, out, out_len, &s_udp, 1, 2);
}

static const char *fg_b_out_same(const __u8 *in, __u32 in_len,
				 const __u8 *out, __u32 out_len)
{
	if (out_len != in_len || memcmp(in, out, in_len))
		return "frame changed";
	return NULL;
}

static const char *fg_b_out_rst(const __u8 *in, __u32 in_len,
				const __u8 *out, __u32 out_len)
{
	if (out_len != 14 + 20 + 20)
		return "RST length";
	if (fg_b_get32(out, 14 + 16) != fg_b_get32(in, 14 + 12))
		return "RST not addressed to the sender";
	if (!(out[14 + 20 + 13] & FG_TCP_RST))
		return "no RST flag";
	return NULL;
}

/* The IPv4 4-tuple of out is (src, sport) -> (dst, dport). */
static const char *fg_b_out_tuple(const __u8 *out, __u32 src, __u16 sport,
				  __u32 dst, __u16 dport)
{
	if (fg_b_get32(out, 14 + 12) != src || fg_b_get32(out, 14 + 16) != dst)
		return "addresses not rewritten as expected";
	if (fg_pb_get_be16(out, 34) != sport || fg_pb_get_be16(out, 36) != dport)
		return "ports not rewritten as expected";
	return NULL;
}

static const char *fg_b_out_natf(const __u8 *in, __u32 in_len,
				 const __u8 *out, __u32 out_len)
{
	if (out_len != in_len)
		return "length changed";
	return fg_b_out_tuple(out, fg_b_ip4h(FG_B_SNAT4), FG_B_NAT_NPORT,
			      fg_b_ip4h(s_nat.be_addr[0]), s_nat.be_port[0]);
}

static const char *fg_b_out_natr(const __u8 *in, __u32 in_len,
				 const __u8 *out, __u32 out_len)
{
	if (out_len != in_len)
		return "length changed";
	return fg_b_out_tuple(out, fg_b_ip4h(s_nat.vip), s_nat.port,
			      fg_b_ip4h(FG_B_CLI4), FG_B_NAT_CPORT);
}

/* -- conntrack state */

/* The line and tag of flow k in a connection table of `lines` lines. */
static __u32 fg_b_ct_locate(const struct fg_flow_key *k, __u32 lines,
			    __u32 *tag)
{
	__u64 h = fg_flow_hash(k, &fg_b_seed);

	*tag = fg_ct_tag(h);
	return fg_ct_line_of(h, lines);
}

/*
 * fg_b_ct_way - where flow k is, or would go, in connection table t of
 * `lines` lines (mapped): the way of its line holding its tag when there
 * is one (*found = 1), else the first free way of the line (*found = 0),
 * which is where the dataplane records a new flow when its line has room.
 * Returns NULL when neither: k is absent and its line full.
 */
static struct fg_ct_way *fg_b_ct_way(struct fg_ct_line *t, __u32 lines,
				     const struct fg_flow_key *k, int *found)
{
	struct fg_ct_way *free_way = NULL;
	__u64 h = fg_flow_hash(k, &fg_b_seed);
	struct fg_ct_line *l = &t[fg_ct_line_of(h, lines)];
	__u32 w;

	for (w = 0; w < FG_CT_WAYS; w++) {
		if (fg_ct_way_is(&l->way[w], h)) {
			*found = 1;
			return &l->way[w];
		}
		if (!l->way[w].tag && !free_way)
			free_way = &l->way[w];
	}
	*found = 0;
	return free_way;
}

/* fg_b_ct_write - way w holds flow k with state ct: the rest under tag
 * 0 first, the tag last, as the dataplane writes (nothing runs it
 * meanwhile: the calls are this thread's). */
static void fg_b_ct_write(struct fg_ct_way *w, const struct fg_flow_key *k,
			  const struct fg_ct *ct)
{
	struct fg_ct_way n;
	__u32 tag;

	fg_ct_pack(&n, fg_flow_hash(k, &fg_b_seed), ct);
	tag = n.tag;
	n.tag = 0;
	*w = n;
	__atomic_thread_fence(__ATOMIC_RELEASE);
	__atomic_store_n(&w->tag, tag, __ATOMIC_RELAXED);
}

/* fg_b_ct_put - record p's flow in fg_ct (its way, or a free one of its
 * line) on backend be_id of service svc_id, seen now; flags FG_CT_F_UDP
 * for a UDP flow. */
static void fg_b_ct_put(const struct fg_b_pkt *p, __u32 be_id, __u32 svc_id,
			__be16 nat_port, __u8 flags)
{
	struct fg_flow_key k;
	struct fg_ct v = { 0 };
	struct fg_ct_way *w;
	int found;

	fg_b_key(p, &k);
	v.seen = fg_ct_tick(fg_b_clock(CLOCK_MONOTONIC_COARSE));
	v.backend_id = be_id;
	v.svc_id = svc_id;
	v.nat_port = nat_port;
	v.flags = flags;
	w = fg_b_ct_way(g.ct, g.ct_lines, &k, &found);
	if (!w)
		fg_bench_die("fg_ct: the line of a hot flow is full");
	fg_b_ct_write(w, &k, &v);
}

/*
 * fg_b_syn_plan - choose the n SYN flows of client block net into
 * *cand: candidate c is taken when its line still has a free way in an
 * empty fg_ct_syn holding the candidates taken before it, and none of
 * them holds its tag there, so that the dataplane, given them in order on
 * an empty table, records every one in a free way and evicts none. Says
 * how many it skipped.
 */
static void fg_b_syn_plan(__u32 net, __u32 n, __u32 **cand)
{
	/* The tags planned in each way of each line; 0 = free. */
	__u32 *tags = calloc((size_t)g.ctsyn_lines * FG_CT_WAYS,
			     sizeof(*tags));
	__u32 *out = malloc((size_t)n * sizeof(*out));
	__u32 i = 0, c, w, full = 0, same_tag = 0;
	struct fg_flow_key k;
	struct fg_b_pkt p;

	FG_BENCH_REQUIRE(tags && out);
	for (c = 0; i < n && c < FG_B_CAND_MAX; c++) {
		__u32 tag, *line;

		p = fg_b_syn_cand(net, c);
		fg_b_key(&p, &k);
		line = &tags[(size_t)fg_b_ct_locate(&k, g.ctsyn_lines, &tag) *
			     FG_CT_WAYS];
		for (w = 0; w < FG_CT_WAYS && line[w] && line[w] != tag; w++)
			;
		if (w == FG_CT_WAYS) {
			full++;
			continue;
		}
		if (line[w]) {
			same_tag++;
			continue;
		}
		line[w] = tag;
		out[i++] = c;
	}
	if (i < n)
		fg_bench_die("SYN plan: only %u of %u SYN flows fit "
			     "fg_ct_syn", i, n);
	fprintf(stderr, "bench_xdp: %u SYN flows planned for fg_ct_syn (%u "
		"lines, %u flows); %u candidates skipped, their line full, %u "
		"their tag taken in it\n", n, g.ctsyn_lines,
		g.ctsyn_lines * FG_CT_WAYS, full, same_tag);
	free(tags);
	*cand = out;
}

/*
 * fg_b_syn_clean - after a run of a SYN row: each of its `calls` SYNs
 * (the candidates cand[] of client block net) must be in fg_ct_syn, by
 * its tag in its line, recorded for s_dsr (a TCP DSR flow) on one of its
 * backends; their ways are then freed, leaving the table as the run
 * found it. Returns 0, or -1 after saying what was missing or wrong.
 */
static int fg_b_syn_clean(const char *name, __u32 run, __u32 net,
			  const __u32 *cand, __u32 calls)
{
	__u32 i, j, missing = 0, wrong = 0;
	struct fg_flow_key k;
	struct fg_b_pkt p;
	int rc = 0;

	for (i = 0; i < calls; i++) {
		struct fg_ct_way *w;
		struct fg_ct ct;
		int found, ok = 0;

		p = fg_b_syn_cand(net, cand[i]);
		fg_b_key(&p, &k);
		w = fg_b_ct_way(g.ctsyn, g.ctsyn_lines, &k, &found);
		if (!found) {
			missing++;
			continue;
		}
		fg_ct_unpack(w, &ct);
		for (j = 0; j < s_dsr.nbe; j++)
			ok |= ct.backend_id == s_dsr.be_id[j];
		if (!ok || ct.svc_id != s_dsr.id || ct.flags)
			wrong++;
		memset(w, 0, sizeof(*w));
	}
	if (missing || wrong)
		rc = fg_b_fail(name, run, "fg_ct_syn: %u of %u SYN flows not "
			       "found in their line, %u with the wrong state",
			       missing, calls, wrong);
	return rc;
}

/* -- rows */

static __u32 fg_b_calls_hot(void)
{
	return g.calls;
}

/* New SYNs per run of syn_new_flow: at most half of what the load's
 * fg_ct_syn holds (2^17 at production size), so that the plan finds them
 * each a free way without picking over nearly full lines. */
static __u32 fg_b_calls_syn(void)
{
	__u32 half = g.ctsyn_lines * FG_CT_WAYS / 2;

	return g.calls < half ? g.calls : half;
}

static __u32 fg_b_calls_1m_est(void)
{
	return FG_B_CALLS_1M_EST;
}

static __u32 fg_b_calls_1m(void)
{
	return FG_B_FLOWS;
}

static void fg_b_prep_none(__u32 run)
{
	(void)run;
}

static void fg_b_prep_syn(__u32 run)
{
	(void)run;
	if (!g.syn_cand[0])
		fg_b_syn_plan(FG_B_NET_SYN, fg_b_calls_syn(), &g.syn_cand[0]);
}

static void fg_b_prep_syn1m(__u32 run)
{
	(void)run;
	if (!g.syn_cand[1])
		fg_b_syn_plan(FG_B_NET_SYN1M, fg_b_calls_1m(), &g.syn_cand[1]);
}

static __u32 fg_b_frame_syn(__u32 run, __u32 i, __u8 *buf)
{
	struct fg_b_pkt p = fg_b_syn_cand(FG_B_NET_SYN, g.syn_cand[0][i]);

	(void)run;
	return fg_b_build(&p, buf);
}

static __u32 fg_b_frame_syn1m(__u32 run, __u32 i, __u8 *buf)
{
	struct fg_b_pkt p = fg_b_syn_cand(FG_B_NET_SYN1M, g.syn_cand[1][i]);

	(void)run;
	return fg_b_build(&p, buf);
}

static int fg_b_clean_syn(const struct fg_b_row *row, __u32 run, __u32 calls)
{
	return fg_b_syn_clean(row->name, run, FG_B_NET_SYN, g.syn_cand[0],
			      calls);
}

static int fg_b_clean_syn1m(const struct fg_b_row *row, __u32 run,
			    __u32 calls)
{
	return fg_b_syn_clean(row->name, run, FG_B_NET_SYN1M, g.syn_cand[1],
			      calls);
}

/* The hot rows' one frame, built once. */
static __u8 fg_b_one[FG_B_PKT_MAX];
static __u32 fg_b_one_len;

static void fg_b_one_set(struct fg_b_pkt p)
{
	fg_b_one_len = fg_b_build(&p, fg_b_one);
}

static __u32 fg_b_frame_one(__u32 run, __u32 i, __u8 *buf)
{
	(void)run;
	(void)i;
	memcpy(buf, fg_b_one, fg_b_one_len);
	return fg_b_one_len;
}

static void fg_b_prep_est(__u32 run)
{
	struct fg_b_pkt p = fg_b_est_pkt();

	(void)run;
	fg_b_ct_put(&p, s_est.be_id[1], s_est.id, 0, 0);
	fg_b_one_set(p);
}

static void fg_b_prep_udp(__u32 run)
{
	struct fg_b_pkt p = fg_b_udp_pkt();

	(void)run;
	fg_b_ct_put(&p, s_udp.be_id[1], s_udp.id, 0, FG_CT_F_UDP);
	fg_b_one_set(p);
}

static void fg_b_prep_nonvip(__u32 run)
{
	struct fg_b_pkt p = fg_b_est_pkt();

	(void)run;
	p.dst = fg_b_ip4h(FG_B_NONVIP);
	fg_b_one_set(p);
}

static void fg_b_rearm_drop(void)
{
	fg_b_bucket_empty(&s_ldrop, s_ldrop.limit);
}

static void fg_b_rearm_rst(void)
{
	fg_b_bucket_empty(&s_lrst, s_lrst.limit);
}

static void fg_b_prep_ldrop(__u32 run)
{
	struct fg_b_pkt p = { .src = fg_b_ip4h(FG_B_CLI4),
			      .dst = fg_b_ip4h(s_ldrop.vip), .sport = 40000,
			      .dport = 80, .proto = FG_IPPROTO_TCP,
			      .flags = FG_TCP_SYN };

	(void)run;
	fg_b_one_set(p);
}

static void fg_b_prep_lrst(__u32 run)
{
	struct fg_b_pkt p = { .src = fg_b_ip4h(FG_B_CLI4),
			      .dst = fg_b_ip4h(s_lrst.vip), .sport = 40000,
			      .dport = 80, .proto = FG_IPPROTO_TCP,
			      .flags = FG_TCP_SYN };

	(void)run;
	fg_b_one_set(p);
}

/* The established NAT flow: its fg_ct way and its fg_nat reverse entry,
 * as fg_nat_new() and the promotion leave them. */
static void fg_b_nat_state(void)
{
	struct fg_b_pkt f = fg_b_natf_pkt(), r = fg_b_natr_pkt();
	struct fg_nat_rev rev = { 0 };
	struct fg_flow_key rk;

	fg_b_ct_put(&f, s_nat.be_id[0], s_nat.id, htons(FG_B_NAT_NPORT),
		    FG_CT_F_NAT);
	fg_b_key(&r, &rk);
	rev.client[0] = htonl(f.src);
	rev.vip[0] = htonl(f.dst);
	rev.client_port = htons(f.sport);
	rev.vip_port = htons(f.dport);
	rev.svc_id = s_nat.id;
	rev.last_seen = fg_b_clock(CLOCK_MONOTONIC_COARSE);
	FG_BENCH_REQUIRE(!bpf_map_update_elem(g.fd.nat, &rk, &rev, BPF_ANY));
}

static void fg_b_prep_natf(__u32 run)
{
	(void)run;
	fg_b_nat_state();
	fg_b_one_set(fg_b_natf_pkt());
}

static void fg_b_prep_natr(__u32 run)
{
	(void)run;
	fg_b_nat_state();
	fg_b_one_set(fg_b_natr_pkt());
}

static __u32 fg_b_frame_est1m(__u32 run, __u32 i, __u8 *buf)
{
	/* Run r walks its own slice of the permutation (wrapping after
	 * FG_B_FLOWS / FG_B_CALLS_1M_EST runs). */
	__u64 at = ((__u64)run * FG_B_CALLS_1M_EST + i) % FG_B_FLOWS;
	struct fg_b_pkt p = fg_b_flow1m(g.perm[at]);

	return fg_b_build(&p, buf);
}

#define FG_B_X_NONE .drop = -1

static const struct fg_b_row fg_b_rows[] = {
	{ .name = "syn_new_flow", .peer = 182, .verdict = XDP_TX,
	  .x = { FG_B_X_NONE, .svc = &s_dsr, .svc_new = 1, .be_lo = 0,
		 .be_hi = 4, .syn_entries = 1 },
	  .ncalls = fg_b_calls_syn, .prepare = fg_b_prep_syn,
	  .packet = fg_b_frame_syn, .check_out = fg_b_out_syn,
	  .cleanup = fg_b_clean_syn },
	{ .name = "tcp_established", .peer = 154, .verdict = XDP_TX,
	  .x = { FG_B_X_NONE, .svc = &s_est, .be_lo = 1, .be_hi = 2 },
	  .ncalls = fg_b_calls_hot, .prepare = fg_b_prep_est,
	  .packet = fg_b_frame_one, .check_out = fg_b_out_est },
	{ .name = "udp_established", .peer = 177, .verdict = XDP_TX,
	  .x = { FG_B_X_NONE, .svc = &s_udp, .be_lo = 1, .be_hi = 2 },
	  .ncalls = fg_b_calls_hot, .prepare = fg_b_prep_udp,
	  .packet = fg_b_frame_one, .check_out = fg_b_out_udp },
	{ .name = "non_vip_pass", .peer = 51, .verdict = XDP_PASS,
	  .x = { .drop = FG_DROP_NO_SERVICE },
	  .ncalls = fg_b_calls_hot, .prepare = fg_b_prep_nonvip,
	  .packet = fg_b_frame_one, .check_out = fg_b_out_same },
	{ .name = "syn_limited_drop", .verdict = XDP_DROP,
	  .x = { .drop = FG_DROP_LIMITED, .lim = 1 },
	  .ncalls = fg_b_calls_hot, .prepare = fg_b_prep_ldrop,
	  .packet = fg_b_frame_one, .rearm = fg_b_rearm_drop },
	{ .name = "syn_limited_reset", .verdict = XDP_TX,
	  .x = { .drop = FG_DROP_LIMITED, .lim = 2 },
	  .ncalls = fg_b_calls_hot, .prepare = fg_b_prep_lrst,
	  .packet = fg_b_frame_one, .rearm = fg_b_rearm_rst,
	  .check_out = fg_b_out_rst },
	{ .name = "nat_forward", .verdict = XDP_TX,
	  .x = { FG_B_X_NONE, .svc = &s_nat, .be_lo = 0, .be_hi = 1 },
	  .ncalls = fg_b_calls_hot, .prepare = fg_b_prep_natf,
	  .packet = fg_b_frame_one, .check_out = fg_b_out_natf },
	{ .name = "nat_reverse", .verdict = XDP_TX,
	  .x = { FG_B_X_NONE, .svc = &s_nat },
	  .ncalls = fg_b_calls_hot, .prepare = fg_b_prep_natr,
	  .packet = fg_b_frame_one, .check_out = fg_b_out_natr },
	{ .name = "tcp_established_1m", .peer = 342, .big = 1,
	  .verdict = XDP_TX,
	  .x = { FG_B_X_NONE, .svc = &s_est, .be_lo = 1, .be_hi = 2 },
	  .ncalls = fg_b_calls_1m_est, .prepare = fg_b_prep_none,
	  .packet = fg_b_frame_est1m, .check_out = fg_b_out_est },
	{ .name = "syn_new_1m", .peer = 520, .big = 1, .verdict = XDP_TX,
	  .x = { FG_B_X_NONE, .svc = &s_dsr, .svc_new = 1, .be_lo = 0,
		 .be_hi = 4, .syn_entries = 1 },
	  .ncalls = fg_b_calls_1m, .prepare = fg_b_prep_syn1m,
	  .packet = fg_b_frame_syn1m, .check_out = fg_b_out_syn,
	  .cleanup = fg_b_clean_syn1m },
};

/* ------------------------------------------------------------ checking */

static int fg_b_fail(const char *row, __u32 run, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "bench_xdp: %s run %u: path check failed: ", row, run);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	return -1;
}

#define FG_B_DELTA(field) ((unsigned long long)(b->field - a->field))

/*
 * fg_b_check - counters moved by exactly what `calls` frames of frame_len
 * bytes on the row's path move, and nothing else moved. Returns 0 or -1
 * (after saying what differs).
 */
static int fg_b_check(const struct fg_b_row *row, __u32 run, __u32 calls,
		      __u32 frame_len, const struct fg_b_snap *a,
		      const struct fg_b_snap *b)
{
	const struct fg_b_expect *x = &row->x;
	__u64 want, be_pk = 0, be_new = 0, be_by = 0;
	__u32 i, j, sid = x->svc ? x->svc->id : 0;
	int rc = 0;

	for (i = 0; i < FG_DROP_REASON_MAX; i++) {
		want = (int)i == x->drop ? calls : 0;
		if (FG_B_DELTA(drops[i]) != want)
			rc = fg_b_fail(row->name, run, "drops.%s moved by %llu, "
				       "want %llu", fg_drop_reason_name(i),
				       FG_B_DELTA(drops[i]),
				       (unsigned long long)want);
	}
	for (i = 0; i < FG_B_ID_MAX; i++) {
		__u64 w[3] = { 0, 0, 0 };

		if (sid && i == sid) {
			w[0] = calls;
			w[1] = (__u64)calls * frame_len;
			w[2] = x->svc_new ? calls : 0;
		}
		for (j = 0; j < 3; j++)
			if (FG_B_DELTA(svc[i][j]) != w[j])
				rc = fg_b_fail(row->name, run, "svc %u counter %u "
					       "moved by %llu, want %llu", i, j,
					       FG_B_DELTA(svc[i][j]),
					       (unsigned long long)w[j]);
	}
	/* Backends: the named ones share the packets (Maglev decides
	 * which), every other one stays. */
	for (i = 0; i < FG_B_ID_MAX; i++) {
		int named = 0;

		for (j = x->be_lo; x->svc && j < x->be_hi; j++)
			named |= x->svc->be_id[j] == i;
		if (named) {
			be_pk += FG_B_DELTA(be[i][0]);
			be_by += FG_B_DELTA(be[i][1]);
			be_new += FG_B_DELTA(be[i][2]);
			continue;
		}
		for (j = 0; j < 3; j++)
			if (FG_B_DELTA(be[i][j]))
				rc = fg_b_fail(row->name, run, "backend %u counter "
					       "%u moved by %llu, want 0", i, j,
					       FG_B_DELTA(be[i][j]));
	}
	want = x->be_hi > x->be_lo ? calls : 0;
	if (be_pk != want || be_by != want * frame_len ||
	    be_new != (x->svc_new ? want : 0))
		rc = fg_b_fail(row->name, run, "named backends took %llu packets "
			       "(%llu new), want %llu",
			       (unsigned long long)be_pk,
			       (unsigned long long)be_new,
			       (unsigned long long)want);
	for (i = 0; i < FG_B_ID_MAX; i++) {
		want = x->lim && i == x->lim ? calls : 0;
		if (FG_B_DELTA(lim[i][0]) || FG_B_DELTA(lim[i][1]) != want)
			rc = fg_b_fail(row->name, run, "limit %u passed +%llu "
				       "limited +%llu, want +0 +%llu", i,
				       FG_B_DELTA(lim[i][0]),
				       FG_B_DELTA(lim[i][1]),
				       (unsigned long long)want);
	}
	/* Flows held: only new SYNs add state (to fg_ct_syn). */
	want = x->syn_entries ? calls : 0;
	if (b->ct != a->ct || b->nat != a->nat || b->ctsyn - a->ctsyn != want)
		rc = fg_b_fail(row->name, run, "in use: fg_ct %llu -> %llu, "
			       "fg_nat %llu -> %llu, fg_ct_syn %llu -> %llu "
			       "(want +%llu)", (unsigned long long)a->ct,
			       (unsigned long long)b->ct,
			       (unsigned long long)a->nat,
			       (unsigned long long)b->nat,
			       (unsigned long long)a->ctsyn,
			       (unsigned long long)b->ctsyn,
			       (unsigned long long)want);
	return rc;
}

/* --------------------------------------------------------------- timing */

/* One repeat=1 run of prog fd on the frame, from fgb0; duration in ns.
 * out: NULL, or FG_B_PKT_MAX bytes for the output frame. */
static int fg_b_call(int fd, const __u8 *in, __u32 len, __u8 *out,
		     __u32 *out_len, __u32 *verdict, __u32 *ns)
{
	if (out)
		*out_len = FG_B_PKT_MAX;
	return fg_bench_call(fd, in, len, g.ifindex, out, out_len, verdict,
			     ns);
}

/*
 * fg_b_run - one run of a row: calls frames, each through the floor
 * program and then the dataplane, and the path check around them.
 * Fills res->value/floor/above[run]. Returns 0 or -1 (path check).
 */
static int fg_b_run(const struct fg_b_row *row, __u32 run,
		    struct fg_bench_result *res)
{
	static __u8 in[FG_B_PKT_MAX], out[FG_B_PKT_MAX];
	struct fg_b_snap *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
	__u32 calls = row->ncalls(), i, len = 0, first_len = 0, out_len = 0;
	__u32 verdict, bad = 0, bad_verdict = 0, bad_floor = 0;
	__u32 *d_row = malloc(calls * sizeof(__u32));
	__u32 *d_floor = malloc(calls * sizeof(__u32));
	const char *why = NULL;
	int rc = 0;

	FG_BENCH_REQUIRE(a && b && d_row && d_floor);
	row->prepare(run);
	if (row->rearm)
		row->rearm();
	fg_b_snap_take(a, 1);
	for (i = 0; i < calls; i++) {
		if (row->rearm && i && i % FG_B_REARM == 0)
			row->rearm();
		len = row->packet(run, i, in);
		if (!i)
			first_len = len;
		FG_BENCH_REQUIRE(!fg_b_call(g.floor_fd, in, len, NULL, NULL,
					    &verdict, &d_floor[i]));
		if (verdict != XDP_PASS)
			bad_floor++;
		if (!i) {
			FG_BENCH_REQUIRE(!fg_b_call(g.fd.prog, in, len, out,
						    &out_len, &verdict,
						    &d_row[i]));
			if (verdict == row->verdict && row->check_out)
				why = row->check_out(in, len, out, out_len);
		} else {
			FG_BENCH_REQUIRE(!fg_b_call(g.fd.prog, in, len, NULL,
						    NULL, &verdict,
						    &d_row[i]));
		}
		if (verdict != row->verdict && !bad++)
			bad_verdict = verdict;
	}
	fg_b_snap_take(b, 1);

	if (bad)
		rc = fg_b_fail(row->name, run, "%u of %u calls answered other "
			       "than %u (first: %u)", bad, calls, row->verdict,
			       bad_verdict);
	if (bad_floor)
		rc = fg_b_fail(row->name, run, "floor program answered "
			       "other than XDP_PASS %u times", bad_floor);
	if (why)
		rc = fg_b_fail(row->name, run, "first output frame: %s", why);
	if (fg_b_check(row, run, calls, first_len, a, b))
		rc = -1;
	if (row->cleanup && row->cleanup(row, run, calls))
		rc = -1;
	if (row->x.syn_entries) {
		__u64 left = fg_b_ct_count(g.ctsyn, g.ctsyn_lines);

		if (left != a->ctsyn) {
			rc = fg_b_fail(row->name, run, "fg_ct_syn holds %llu "
				       "flows after cleanup, had %llu",
				       (unsigned long long)left,
				       (unsigned long long)a->ctsyn);
			/* Only the SYN rows write fg_ct_syn: start the next
			 * run on an empty table all the same. */
			memset(g.ctsyn, 0, (size_t)g.ctsyn_lines *
			       sizeof(*g.ctsyn));
		}
	}
	fg_bench_run_end(res, run, d_row, d_floor, calls);
	free(d_row);
	free(d_floor);
	free(a);
	free(b);
	return rc;
}

/* --------------------------------------------------------- 1M flows */

/*
 * fg_b_prefill_1m - record FG_B_FLOWS established flows of s_est in fg_ct
 * (on backend be[1]), written into the mapped table where the dataplane
 * would have put them: the first free way of the flow's line, under its
 * tag. A candidate whose line is full is skipped for the next (the
 * dataplane would have evicted a resident flow for it), and so is one
 * whose tag a flow of its line holds already (the dataplane would take
 * the two for one flow). Checks the count, and that a sample of the flows
 * is found through the map as the dataplane finds them. Then the
 * permutation of the flows the ACK rows walk.
 */
static void fg_b_prefill_1m(void)
{
	__u64 before, after, seed = 0x9e3779b97f4a7c15ULL;
	__u32 f = 0, c, full = 0, same_tag = 0;
	struct fg_flow_key k;
	struct fg_ct v = { 0 };
	struct fg_b_pkt p;

	before = fg_b_ct_count(g.ct, g.ct_lines);
	g.est = malloc(FG_B_FLOWS * sizeof(*g.est));
	FG_BENCH_REQUIRE(g.est);
	v.seen = fg_ct_tick(fg_b_clock(CLOCK_MONOTONIC_COARSE) -
			    FG_B_PREFILL_AGO_NS);
	v.backend_id = s_est.be_id[1];
	v.svc_id = s_est.id;
	for (c = 0; f < FG_B_FLOWS && c < FG_B_CAND_MAX; c++) {
		struct fg_ct_way *w;
		int found;

		p = fg_b_est_cand(c);
		fg_b_key(&p, &k);
		w = fg_b_ct_way(g.ct, g.ct_lines, &k, &found);
		if (found) {
			same_tag++;
			continue;
		}
		if (!w) {
			full++;
			continue;
		}
		fg_b_ct_write(w, &k, &v);
		g.est[f++] = c;
	}
	after = fg_b_ct_count(g.ct, g.ct_lines);
	fprintf(stderr, "bench_xdp: prefill: %u flows in fg_ct (%u lines, "
		"%.1f%% of %u ways in use), %u not placed; candidates skipped: "
		"%u their line full, %u their tag taken in it\n", f,
		g.ct_lines, 100.0 * (double)after / (g.ct_lines * FG_CT_WAYS),
		g.ct_lines * FG_CT_WAYS, FG_B_FLOWS - f, full, same_tag);
	if (f < FG_B_FLOWS)
		fg_bench_die("prefill: %u of %u flows could not be placed",
			     FG_B_FLOWS - f, FG_B_FLOWS);
	if (after != before + FG_B_FLOWS)
		fg_bench_die("prefill: fg_ct holds %llu flows, want %llu",
			     (unsigned long long)after,
			     (unsigned long long)(before + FG_B_FLOWS));
	for (f = 0; f < FG_B_FLOWS; f += 997) {
		struct fg_ct got = { 0 };

		p = fg_b_flow1m(f);
		fg_b_key(&p, &k);
		if (fg_h_ct_find(g.fd.ct, g.ct_lines, &k, &fg_b_seed, &got) ||
		    got.backend_id != s_est.be_id[1] || got.svc_id != s_est.id ||
		    got.flags || got.seen != v.seen)
			fg_bench_die("prefill: flow %u not found through the "
				     "map", f);
	}

	g.perm = malloc(FG_B_FLOWS * sizeof(*g.perm));
	FG_BENCH_REQUIRE(g.perm);
	for (f = 0; f < FG_B_FLOWS; f++)
		g.perm[f] = f;
	for (f = FG_B_FLOWS - 1; f > 0; f--) {
		__u32 j = (__u32)(fg_bench_rand(&seed) % (f + 1));
		__u32 t = g.perm[f];

		g.perm[f] = g.perm[j];
		g.perm[j] = t;
	}
	g.have_1m = 1;
}

/* ---------------------------------------------------------------- setup */

/* The namespace (test_xdp.c's topology): fgb0, where the program "runs",
 * a route to the backends via a next hop with a permanent neighbour
 * entry, and one for the NAT client, so bpf_fib_lookup() succeeds. */
static int fg_b_net_setup(void)
{
	static const char *const cmds[] = {
		"ip neigh replace 198.18.0.2 lladdr 02:00:00:00:00:02 nud permanent dev " FG_B_IF,
		"ip neigh replace " FG_B_CLI4 " lladdr 02:00:00:00:00:64 nud permanent dev " FG_B_IF,
		"ip route add 198.19.0.0/24 via 198.18.0.2 dev " FG_B_IF,
	};

	g.ifindex = fg_h_net_setup(FG_B_IF, FG_B_PEER, cmds,
				   FG_ARRAY_SIZE(cmds));
	return g.ifindex > 0 ? 0 : -1;
}

/* fg_b_ct_map - connection table fd of `lines` lines, mapped read-write
 * (the maps are BPF_F_MMAPABLE arrays). */
static struct fg_ct_line *fg_b_ct_map(int fd, __u32 lines)
{
	void *p = mmap(NULL, (size_t)lines * sizeof(struct fg_ct_line),
		       PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	FG_BENCH_REQUIRE(p != MAP_FAILED);
	return p;
}

/*
 * fg_b_ct_warm - read one line of every page of connection table fd
 * (`lines` lines, 64 to a 4 KiB page) through the kernel's own mapping
 * of it. On this benchmark's usual machine, a guest with shadow page
 * tables, the kernel's first touch of each page of a fresh map traps to
 * the hypervisor (~80 us each, up to 8192 of them over a 2^19-line,
 * 32 MiB table), a cost a running dataplane pays once at start; unwarmed,
 * the first run of the first row to use a table measured it
 * (syn_new_flow ~80 us per call for its first ~3000 calls). Writes
 * through the user mapping do not count: another mapping of the same
 * pages.
 */
static void fg_b_ct_warm(int fd, __u32 lines)
{
	__u32 step = (__u32)sysconf(_SC_PAGESIZE) / sizeof(struct fg_ct_line);
	struct fg_ct_line l;
	__u32 i;

	if (!step)
		step = 1;
	for (i = 0; i < lines; i += step)
		FG_BENCH_REQUIRE(!bpf_map_lookup_elem(fd, &i, &l));
}

/* The two loads (see the top): the rows each runs and its tables' sizes
 * in lines. */
struct fg_b_load_spec {
	const char *what;
	int big;                  /* runs the rows whose .big is this */
	__u32 ct_lines, ctsyn_lines;
};

static const struct fg_b_load_spec fg_b_loads[] = {
	{ "hot rows, every table at production size", 0, FG_B_CT_LINES,
	  FG_B_CTSYN_LINES_HOT },
	{ "1M rows, fg_ct_syn 8x production", 1, FG_B_CT_LINES,
	  FG_B_CTSYN_LINES_1M },
};

_Static_assert((FG_B_CT_LINES & (FG_B_CT_LINES - 1)) == 0 &&
	       (FG_B_CTSYN_LINES_HOT & (FG_B_CTSYN_LINES_HOT - 1)) == 0 &&
	       (FG_B_CTSYN_LINES_1M & (FG_B_CTSYN_LINES_1M - 1)) == 0,
	       "connection tables hold a power of two of lines");
_Static_assert(FG_B_FLOWS <= FG_B_CT_LINES * FG_CT_WAYS / 2 &&
	       FG_B_FLOWS <= FG_B_CTSYN_LINES_1M * FG_CT_WAYS / 2,
	       "a million flows fill at most half a table");

/*
 * fg_b_load - load the program with the tables of ls, map and warm both
 * connection tables. Returns 0 or -errno (nothing left loaded).
 */
static int fg_b_load(const struct fg_b_load_spec *ls)
{
	/* The connection tables as ls says (see the top), the other maps
	 * at their compiled-in production sizes; the program learns the
	 * table sizes from rodata. */
	const struct fg_h_load_opts o = {
		.seed = &fg_b_seed,
		.tun4 = FG_B_TUN4, .tun6 = FG_B_TUN6,
		.snat4 = FG_B_SNAT4, .snat6 = FG_B_SNAT6,
		.gue_port = FG_B_GUE_PORT,
		.ct_lines = ls->ct_lines,
		.ct_syn_lines = ls->ctsyn_lines,
		.ncpus = g.ncpus,
	};
	int err;

	err = fg_h_load(&o, &g.skel, &g.fd);
	if (err)
		return err;
	g.ct_lines = ls->ct_lines;
	g.ctsyn_lines = ls->ctsyn_lines;
	g.ct = fg_b_ct_map(g.fd.ct, g.ct_lines);
	g.ctsyn = fg_b_ct_map(g.fd.ctsyn, g.ctsyn_lines);
	fg_b_ct_warm(g.fd.ct, g.ct_lines);
	fg_b_ct_warm(g.fd.ctsyn, g.ctsyn_lines);
	return 0;
}

/*
 * fg_b_setup - what every load holds before its first row: the services
 * (the same ids, backends and rings each time), generation 0 of the
 * config and the two limits.
 */
static void fg_b_setup(void)
{
	unsigned int i;

	g.next_svc = g.next_be = g.next_ring = 0;
	g.svc_img = calloc(FG_SVC_SLOTS, sizeof(*g.svc_img));
	FG_BENCH_REQUIRE(g.svc_img);
	for (i = 0; i < FG_ARRAY_SIZE(fg_b_svcs); i++)
		fg_b_svc_add(fg_b_svcs[i]);
	fg_b_svc_commit();
	fg_b_config();
	fg_b_limit_add(s_ldrop.limit, FG_LACT_DROP);
	fg_b_limit_add(s_lrst.limit, FG_LACT_RESET);
}

/*
 * fg_b_unload - destroy the load and what was made for its tables (the
 * SYN plans, planned for its fg_ct_syn; the 1M prefill), so that the
 * next load starts alone and from nothing.
 */
static void fg_b_unload(void)
{
	free(g.perm);
	free(g.est);
	free(g.syn_cand[0]);
	free(g.syn_cand[1]);
	free(g.svc_img);
	g.perm = g.est = g.syn_cand[0] = g.syn_cand[1] = NULL;
	g.svc_img = NULL;
	g.have_1m = 0;
	munmap(g.ct, (size_t)g.ct_lines * sizeof(*g.ct));
	munmap(g.ctsyn, (size_t)g.ctsyn_lines * sizeof(*g.ctsyn));
	g.ct = g.ctsyn = NULL;
	floodgate_bpf__destroy(g.skel);
	g.skel = NULL;
	g.ct_lines = g.ctsyn_lines = 0;
}

/* ---------------------------------------------------------------- main */

static const char *fg_b_peer_str(double v, char *buf, size_t n)
{
	if (v <= 0)
		return "-";
	snprintf(buf, n, "%.1f", v);
	return buf;
}

static void fg_b_table(const struct fg_bench_result *res, const int *sel,
		       double load0)
{
	unsigned int i;
	char p[32], t[32];

	printf("\n%-20s %9s %9s %12s %11s %9s  %s\n", "case", "value", "floor",
	       "above floor", "peer above", "target", "verdict");
	for (i = 0; i < FG_ARRAY_SIZE(fg_b_rows); i++) {
		const struct fg_b_row *row = &fg_b_rows[i];
		const struct fg_bench_result *r = &res[i];
		const char *verdict = "-";

		if (!sel[i])
			continue;
		if (!r->ok)
			verdict = "PATH CHECK FAILED";
		else if (row->peer > 0)
			verdict = r->med_above <= row->peer / 2 ? "meets" : "misses";
		printf("%-20s %9.1f %9.1f %12.1f %11s %9s  %s\n", row->name,
		       r->med_value, r->med_floor, r->med_above,
		       fg_b_peer_str(row->peer, p, sizeof(p)),
		       fg_b_peer_str(row->peer / 2, t, sizeof(t)), verdict);
	}
	printf("(ns per packet: kernel-reported BPF_PROG_TEST_RUN duration of "
	       "repeat=1 calls; floor = a trivial XDP_PASS program on the same "
	       "frames, called before each one; value/floor: median over %u "
	       "runs (the hot rows' each on a fresh load of the program) "
	       "of the per-run mean of calls <= 10x the median call; "
	       "above floor: median of the per-run differences; target = half "
	       "the peer's above-floor figure (BENCH.md); CPU %d of %d; load "
	       "average %.2f before, %.2f after)\n", g.runs, g.cpu, g.ncpus,
	       load0, fg_bench_loadavg());
}

int main(int argc, char **argv)
{
	static struct fg_bench_result res[FG_ARRAY_SIZE(fg_b_rows)];
	const char *names[FG_ARRAY_SIZE(fg_b_rows)];
	int sel[FG_ARRAY_SIZE(fg_b_rows)], err, loaded = 0;
	__u32 ncalls[FG_ARRAY_SIZE(fg_b_rows)]; /* a load's, kept past it */
	unsigned int i, l;
	__u32 r;
	double load0 = fg_bench_loadavg();
	char detail[64];

	setvbuf(stdout, NULL, _IOLBF, 0);
	g.calls = FG_B_CALLS_DEFAULT;
	g.runs = FG_B_RUNS_DEFAULT;
	for (i = 0; i < FG_ARRAY_SIZE(fg_b_rows); i++)
		names[i] = fg_b_rows[i].name;
	err = fg_bench_args(argc, argv, names, FG_ARRAY_SIZE(fg_b_rows), sel,
			    &g.calls, &g.runs);
	if (err)
		return err;

	err = fg_h_enter();
	if (err)
		return err;
	g.ncpus = libbpf_num_possible_cpus();
	FG_BENCH_REQUIRE(g.ncpus > 0);
	/* The bench CPU; the tables are shared by the CPUs: nothing depends
	 * on which CPU writes them. */
	g.cpu = fg_bench_cpu();
	FG_BENCH_REQUIRE(g.cpu >= 0);
	if (fg_b_net_setup())
		fg_bench_die("network namespace setup failed");
	libbpf_set_print(fg_h_libbpf_log);
	FG_BENCH_REQUIRE(!fg_bench_pin(g.cpu));

	/* The loads in turn, each made only when one of its rows is
	 * selected and destroyed before the next (see the top): the hot
	 * rows' anew for every run, the realistic rows' once. */
	for (l = 0; l < FG_ARRAY_SIZE(fg_b_loads); l++) {
		const struct fg_b_load_spec *ls = &fg_b_loads[l];
		__u32 copies = ls->big ? 1 : g.runs, k, r0, r1;
		int need = 0;

		for (i = 0; i < FG_ARRAY_SIZE(fg_b_rows); i++) {
			if (!sel[i] || fg_b_rows[i].big != ls->big)
				continue;
			need = 1;
			res[i].ok = 1;
		}
		if (!need)
			continue;
		for (k = 0; k < copies; k++) {
			err = fg_b_load(ls);
			if (err == -EPERM && !loaded) {
				printf("SKIP: loading BPF: %s (no CAP_BPF?)\n",
				       strerror(-err));
				return 77;
			}
			if (err)
				fg_bench_die("loading floodgate.bpf.o (load %u, "
					     "copy %u): %s", l + 1, k + 1,
					     strerror(-err));
			if (!loaded++) {
				g.floor_fd = fg_bench_floor_load();
				if (g.floor_fd < 0)
					fg_bench_die("loading the floor program: %s",
						     strerror(-g.floor_fd));
			}
			fg_b_setup();
			fprintf(stderr, "bench_xdp: load %u (%s), copy %u of %u: "
				"CPU %d, %d possible CPUs, fg_ct %u, fg_ct_syn %u "
				"lines of %u flows, %u runs\n", l + 1, ls->what,
				k + 1, copies, g.cpu, g.ncpus, g.ct_lines,
				g.ctsyn_lines, FG_CT_WAYS, g.runs);
			/* Copy k of a load made per run holds run k only. */
			r0 = copies == 1 ? 0 : k;
			r1 = copies == 1 ? g.runs : k + 1;
			for (i = 0; i < FG_ARRAY_SIZE(fg_b_rows); i++) {
				const struct fg_b_row *row = &fg_b_rows[i];

				if (!sel[i] || row->big != ls->big)
					continue;
				if (row->big && !g.have_1m) {
					fprintf(stderr, "bench_xdp: prefilling "
						"%u flows\n", FG_B_FLOWS);
					fg_b_prefill_1m();
				}
				for (r = r0; r < r1; r++)
					if (fg_b_run(row, r, &res[i]))
						res[i].ok = 0;
				ncalls[i] = row->ncalls();
			}
			fg_b_unload();
		}
		for (i = 0; i < FG_ARRAY_SIZE(fg_b_rows); i++) {
			const struct fg_b_row *row = &fg_b_rows[i];

			if (!sel[i] || row->big != ls->big)
				continue;
			snprintf(detail, sizeof(detail), "%u calls/run",
				 ncalls[i]);
			if (fg_bench_row_end(&res[i], g.runs, "xdp", row->name,
					     detail))
				g.path_failed = 1;
		}
	}
	fg_b_table(res, sel, load0);

	close(g.floor_fd);
	if (g.path_failed) {
		fprintf(stderr, "bench_xdp: a path check failed\n");
		return 1;
	}
	return 0;
}
