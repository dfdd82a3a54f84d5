// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * test_xdp.c - BPF_PROG_TEST_RUN fixtures for the XDP dataplane
 * (xdp/floodgate.bpf.c), Katran style: each case is {description, input
 * frame, expected verdict, expected output frame (NULL = unchanged),
 * expected counter deltas}, the output compared byte for byte.
 *
 * The program routes with bpf_fib_lookup(), so the test runs in a private
 * network namespace with a veth pair, routes to the backend networks and
 * PERMANENT neighbour entries: the FIB answers are then fixed and the
 * expected MAC addresses known. BPF_PROG_TEST_RUN sends nothing; XDP_TX is
 * only a verdict here.
 *
 * Expected frames are built from scratch with tests/fixtures/pktbuild (its
 * own checksum code, not dataplane/core's), so a checksum the dataplane
 * updates incrementally is compared against one computed over the whole
 * packet. Expected backends come from the Maglev rings the test itself
 * built and the core's keyed flow hash (NH, fg_flow.h), which test_flow
 * checks on its own.
 *
 * Needs root (CAP_BPF, CAP_NET_ADMIN, CAP_SYS_ADMIN for unshare); exits 77
 * when it cannot have them. Prints "N passed, M failed"; exit 1 on any
 * failure.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

#include "floodgate.skel.h"

/* ------------------------------------------------------------ topology */

#define FG_T_IF   "fgx0"
#define FG_T_PEER "fgx1"

static const __u8 fg_if_mac[6]   = { 0x02, 0, 0, 0, 0, 0x01 }; /* fgx0 */
static const __u8 fg_peer_mac[6] = { 0x02, 0, 0, 0, 0, 0x09 }; /* fgx1 */
static const __u8 fg_nh_mac[6]   = { 0x02, 0, 0, 0, 0, 0x02 }; /* next hop */
static const __u8 fg_cli_mac[6]  = { 0x02, 0, 0, 0, 0, 0x64 }; /* client */

/* Load-time settings (rodata). */
#define FG_T_TUN4   "198.19.255.1"
#define FG_T_TUN6   "2001:db8:19:ff::1"
#define FG_T_SNAT4  "198.19.255.2"
#define FG_T_SNAT6  "2001:db8:19:ff::2"
#define FG_T_GUE_PORT 9000
static const struct fg_hash_seed fg_t_seed = {
	.k0 = 0x0706050403020100ULL, .k1 = 0x0f0e0d0c0b0a0908ULL,
	.lane = { 0x1716151413121110ULL, 0x1f1e1d1c1b1a1918ULL,
		  0x2726252423222120ULL, 0x2f2e2d2c2b2a2928ULL },
};

/* Clients whose neighbour entries exist (NAT replies are routed to them). */
#define FG_T_CLI4 "198.18.0.100"
#define FG_T_CLI6 "2001:db8::100"

/* Maps are shrunk to these (the defaults preallocate hundreds of MB). The
 * connection tables hold a power of two of lines of FG_CT_WAYS flows
 * (fg_tables.h), 2^14 flows each: roomy enough that the few hundred flows
 * of the run never fill one line. */
#define FG_T_LRU_PER_CPU 2048U
#define FG_T_BUCKET_SLOTS 4096U /* fg_buckets: a power of two */
#define FG_T_CT_LINES    ((1U << 14) / FG_CT_WAYS)
#define FG_T_CT_SYN_LINES ((1U << 14) / FG_CT_WAYS)
#define FG_T_RING_SLOTS  (1U << 16)
#define FG_T_BACKENDS    1024U

#define FG_PKT_MAX 2048
#define FG_T_BE_PER_SVC 4
#define FG_T_SVC_MAX 64  /* counters compared for ids below these */
#define FG_T_BE_MAX 128
#define FG_T_LIM_MAX 32
#define FG_RING_M 251    /* prime ring size of multi-backend services */
#define FG_RING_M1 7     /* ... of single-backend ones */

/* ------------------------------------------------------------- results */

static struct {
	struct floodgate_bpf *skel;
	struct fg_h_fds fd;
	int ifindex, ncpus;
	__u32 next_svc, next_be, next_ring;
	struct fg_config cfg;
	/* What fg_services holds, one FG_SVC_SLOTS image per generation. */
	struct fg_svc_slot svc_tab[FG_GENERATIONS][FG_SVC_SLOTS];
	unsigned int passed, failed, n;
	int cur_failed;
	const char *cur;
} g;

static void fg_begin(const char *desc)
{
	g.cur = desc;
	g.cur_failed = 0;
}

static void fg_end(void)
{
	g.n++;
	if (g.cur_failed) {
		g.failed++;
		printf("not ok %u - %s\n", g.n, g.cur);
	} else {
		g.passed++;
		printf("ok %u - %s\n", g.n, g.cur);
	}
}

static void __attribute__((format(printf, 2, 3)))
fg_fail_at(int line, const char *fmt, ...)
{
	va_list ap;

	printf("#   %s: line %d: ", g.cur, line);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	g.cur_failed = 1;
}

#define FG_EXPECT(cond, ...)                                  \
	do {                                                  \
		if (!(cond))                                  \
			fg_fail_at(__LINE__, __VA_ARGS__);    \
	} while (0)

/* A broken fixture (the test's own bug, not the dataplane's): stop. */
#define FG_REQUIRE(cond)                                                  \
	do {                                                              \
		if (!(cond)) {                                            \
			fprintf(stderr, "test_xdp: %s:%d: %s\n", __FILE__, \
				__LINE__, #cond);                         \
			exit(1);                                          \
		}                                                         \
	} while (0)

static void fg_hexdump(const char *what, const __u8 *p, __u32 len)
{
	__u32 i;

	printf("#     %s (%u bytes):", what, len);
	for (i = 0; i < len; i++)
		printf("%s%02x", i % 16 ? " " : "\n#       ", p[i]);
	printf("\n");
}

/* ------------------------------------------------------------- packets */

/* ps with this harness's MACs (fgx0 <- fgx1 unless it names others). */
static int fg_build(const struct fg_pb_flow *ps, __u8 *buf, struct fg_pb *pb)
{
	struct fg_pb_flow f = *ps;
	int len;

	if (!f.dmac)
		f.dmac = fg_if_mac;
	if (!f.smac)
		f.smac = fg_peer_mac;
	len = fg_pb_flow(pb, buf, FG_PKT_MAX, &f);
	FG_REQUIRE(len > 0);
	return len;
}

/* The flow key the dataplane derives from ps. */
static void fg_key_of(const struct fg_pb_flow *ps, struct fg_flow_key *k)
{
	memset(k, 0, sizeof(*k));
	fg_pb_addr(ps->src, (__u8 *)k->src);
	fg_pb_addr(ps->dst, (__u8 *)k->dst);
	k->sport = htons(ps->sport);
	k->dport = htons(ps->dport);
	k->proto = ps->proto;
	k->family = fg_pb_fam(ps->src) == 4 ? FG_AF_INET : FG_AF_INET6;
}

/*
 * fg_csum_ok - recompute from scratch (pktbuild's RFC 1071 sum) the IPv4
 * header checksum and the TCP/UDP checksum of an untagged frame without
 * IPv4 options or IPv6 extensions. Returns 1 when all are right (a UDP
 * checksum of 0 means none), else 0.
 */
static int fg_csum_ok(const __u8 *f, __u32 len)
{
	__u32 l3 = 14, l4, l4len, sum = 0;
	__u8 ph[40] = { 0 };
	__u8 proto;
	int v4 = f[12] == 0x08 && f[13] == 0x00;

	if (v4) {
		if (fg_pb_csum_fold(fg_pb_csum_add(0, f + l3, 20)) != 0)
			return 0;
		proto = f[l3 + 9];
		l4 = l3 + 20;
		l4len = fg_pb_get_be16(f, l3 + 2) - 20;
		memcpy(ph, f + l3 + 12, 8);
		ph[9] = proto;
		fg_pb_put_be16(ph, 10, (__u16)l4len);
		sum = fg_pb_csum_add(0, ph, 12);
	} else {
		proto = f[l3 + 6];
		l4 = l3 + 40;
		l4len = fg_pb_get_be16(f, l3 + 4);
		memcpy(ph, f + l3 + 8, 32);
		fg_pb_put_be32(ph, 32, l4len);
		ph[39] = proto;
		sum = fg_pb_csum_add(0, ph, 40);
	}
	if (l4 + l4len > len)
		return 0;
	if (proto == FG_IPPROTO_UDP && fg_pb_get_be16(f, l4 + 6) == 0)
		return 1;
	if (proto != FG_IPPROTO_TCP && proto != FG_IPPROTO_UDP)
		return 1;
	return fg_pb_csum_fold(fg_pb_csum_add(sum, f + l4, l4len)) == 0;
}

/* fg_csum_fix_tcp - recompute from scratch the TCP checksum of a frame
 * the builder made (after the test patched a field). */
static void fg_csum_fix_tcp(__u8 *f, const struct fg_pb *pb)
{
	__u8 ph[40] = { 0 };
	__u32 l4len = (__u32)(pb->l3_end - pb->l4_off), sum;

	if (pb->family == 4) {
		memcpy(ph, pb->src, 4);
		memcpy(ph + 4, pb->dst, 4);
		ph[9] = FG_IPPROTO_TCP;
		fg_pb_put_be16(ph, 10, (__u16)l4len);
		sum = fg_pb_csum_add(0, ph, 12);
	} else {
		memcpy(ph, pb->src, 16);
		memcpy(ph + 16, pb->dst, 16);
		fg_pb_put_be32(ph, 32, l4len);
		ph[39] = FG_IPPROTO_TCP;
		sum = fg_pb_csum_add(0, ph, 40);
	}
	fg_pb_put_be16(f, pb->l4_off + 16, 0);
	sum = fg_pb_csum_add(sum, f + pb->l4_off, l4len);
	fg_pb_put_be16(f, pb->l4_off + 16, fg_pb_csum_fold(sum));
}

/* ------------------------------------------------------------ services */

struct fg_tsvc {
	const char *vip;
	__u16 port;
	__u8 proto;
	__u8 forward;
	__u8 hash;
	__u16 gue_port;      /* host order; 0: the rodata default */
	__u32 m;             /* ring size; 0: no usable backend */
	unsigned int nbe;
	const char *be_addr[FG_T_BE_PER_SVC];
	__u16 be_port[FG_T_BE_PER_SVC];
	__u16 nlimits;
	__u16 limits[FG_SVC_LIMITS_MAX];
	/* filled by fg_svc_add() */
	__u32 id;
	__u32 be_id[FG_T_BE_PER_SVC];
	__u32 ring_off[FG_GENERATIONS];
	__u32 *ring[FG_GENERATIONS]; /* backend id per slot */
};

/* The slot of key k in generation image tab, or -ENOENT. */
static int fg_svc_slot_find(const struct fg_svc_slot *tab,
			    const struct fg_svc_key *k)
{
	__u32 first = fg_svc_key_slot(k->vip, k->port, k->proto), i, slot;

	for (i = 0; i < FG_SVC_PROBES; i++) {
		slot = (first + i) & (FG_SVC_SLOTS - 1);
		if (!tab[slot].key.family)
			break;
		if (fg_svc_key_eq(&tab[slot].key, k->vip, k->port, k->proto,
				  k->family))
			return (int)slot;
	}
	return -ENOENT;
}

/*
 * fg_svc_write - put s into the test's image of generation gen (replacing
 * the value when its key is there already, as a rebuilt generation
 * would), then write the slot it occupies to fg_services[gen *
 * FG_SVC_SLOTS + slot]. Returns 0 or -errno.
 */
static int fg_svc_write(const struct fg_tsvc *s, __u32 gen)
{
	struct fg_svc_slot *tab = g.svc_tab[gen];
	struct fg_svc_key k = { 0 };
	struct fg_svc v = { 0 };
	__u32 idx;
	int slot, err;

	fg_pb_addr(s->vip, (__u8 *)k.vip);
	k.port = htons(s->port);
	k.proto = s->proto;
	k.family = fg_pb_fam(s->vip) == 4 ? FG_AF_INET : FG_AF_INET6;
	k.gen = (__u8)gen;
	v.id = s->id;
	v.ring_off = s->ring_off[gen];
	v.ring_size = s->m;
	v.forward = s->forward;
	v.hash = s->hash;
	v.nlimits = s->nlimits;
	memcpy(v.limits, s->limits, sizeof(v.limits));
	v.gue_port = htons(s->gue_port);
	slot = fg_svc_slot_find(tab, &k);
	if (slot >= 0) {
		tab[slot].svc = v;
	} else {
		err = fg_svc_table_put(tab, &k, &v);
		if (err)
			return err;
		slot = fg_svc_slot_find(tab, &k);
		if (slot < 0)
			return slot;
	}
	/* What the dataplane will read is what fg_svc_table_get sees. */
	if (!fg_svc_table_get(tab, &k) ||
	    memcmp(fg_svc_table_get(tab, &k), &v, sizeof(v)))
		return -EINVAL;
	idx = gen * FG_SVC_SLOTS + (__u32)slot;
	if (bpf_map_update_elem(g.fd.svc, &idx, &tab[slot], BPF_ANY))
		return -errno;
	/* The VIP filter learns the VIP, as the loader does before it
	 * writes a generation's services. */
	fg_vip_filter_add(&g.cfg, gen, k.vip);
	return bpf_map_update_elem(g.fd.cfg, &(__u32){ 0 }, &g.cfg, BPF_ANY) ?
	       -errno : 0;
}

/* fg_ring_write - build the ring of generation gen from the backends with
 * weights w (NULL: all 1) with fg_maglev_build(), store it at fresh slots
 * of fg_ring and point the service entry of gen at it. */
static void fg_ring_write(struct fg_tsvc *s, __u32 gen, const __u32 *w)
{
	struct fg_maglev_backend mb[FG_T_BE_PER_SVC];
	__u32 *idx, i;
	int err;

	free(s->ring[gen]);
	s->ring[gen] = NULL;
	s->ring_off[gen] = g.next_ring;
	if (s->m) {
		FG_REQUIRE(g.next_ring + s->m <= FG_T_RING_SLOTS);
		idx = calloc(s->m, sizeof(*idx));
		s->ring[gen] = calloc(s->m, sizeof(__u32));
		FG_REQUIRE(idx && s->ring[gen]);
		for (i = 0; i < s->nbe; i++) {
			mb[i].id = s->be_id[i];
			mb[i].weight = w ? w[i] : 1;
		}
		FG_REQUIRE(fg_maglev_build(mb, s->nbe, idx, s->m) == 0);
		for (i = 0; i < s->m; i++) {
			__u32 slot = g.next_ring + i;

			s->ring[gen][i] = idx[i] == FG_MAGLEV_EMPTY ?
					  FG_NO_BACKEND : s->be_id[idx[i]];
			FG_REQUIRE(!bpf_map_update_elem(g.fd.ring, &slot,
							&s->ring[gen][i], BPF_ANY));
		}
		free(idx);
		g.next_ring += s->m;
	}
	err = fg_svc_write(s, gen);
	if (err)
		fprintf(stderr, "test_xdp: service %s port %u gen %u: %s\n",
			s->vip, s->port, gen, strerror(-err));
	FG_REQUIRE(!err);
}

static void fg_be_write(const struct fg_tsvc *s, unsigned int i, __u8 flags)
{
	struct fg_backend b = { 0 };

	fg_pb_addr(s->be_addr[i], (__u8 *)b.addr);
	b.port = htons(s->be_port[i]);
	b.family = fg_pb_fam(s->be_addr[i]) == 4 ? FG_AF_INET : FG_AF_INET6;
	b.flags = flags;
	b.svc_id = s->id;
	FG_REQUIRE(!bpf_map_update_elem(g.fd.be, &s->be_id[i], &b, BPF_ANY));
}

/* fg_svc_add - give s its ids, write its backends, and the same ring and
 * service entry into both generations. */
static void fg_svc_add(struct fg_tsvc *s)
{
	unsigned int i;

	FG_REQUIRE(s->nbe <= FG_T_BE_PER_SVC);
	s->id = ++g.next_svc;
	FG_REQUIRE(s->id < FG_T_SVC_MAX);
	for (i = 0; i < s->nbe; i++) {
		s->be_id[i] = ++g.next_be;
		FG_REQUIRE(s->be_id[i] < FG_T_BE_MAX);
		fg_be_write(s, i, FG_BE_F_VALID);
	}
	fg_ring_write(s, 0, NULL);
	fg_ring_write(s, 1, NULL);
}

static unsigned int fg_be_index(const struct fg_tsvc *s, __u32 be_id)
{
	unsigned int i;

	for (i = 0; i < s->nbe; i++)
		if (s->be_id[i] == be_id)
			return i;
	FG_REQUIRE(0);
	return 0;
}

static __u64 fg_hash_of(const struct fg_tsvc *s, const struct fg_pb_flow *ps)
{
	struct fg_flow_key k;

	fg_key_of(ps, &k);
	if (s->hash == FG_HASH_SRC_IP)
		return fg_flow_hash_src(&k, &fg_t_seed);
	return fg_flow_hash(&k, &fg_t_seed);
}

/* The backend id the ring of generation gen gives ps. */
static __u32 fg_ring_pick(const struct fg_tsvc *s, __u32 gen,
			  const struct fg_pb_flow *ps)
{
	if (!s->m)
		return FG_NO_BACKEND;
	return s->ring[gen][fg_maglev_slot(fg_hash_of(s, ps), s->m)];
}

static void fg_gen_set(__u32 gen)
{
	__u32 zero = 0;

	g.cfg.gen = gen;
	/* The fixtures install port-0 services in every generation; the
	 * compiler sets this flag exactly then (test_compile). */
	g.cfg.flags = FG_CFG_F_WILDCARD;
	FG_REQUIRE(!bpf_map_update_elem(g.fd.cfg, &zero, &g.cfg, BPF_ANY));
}

static void fg_limit_set(struct fg_limit *l, __u32 id, __u64 rate, __u64 burst)
{
	__u32 gen, idx;

	l->id = id;
	FG_REQUIRE(fg_tb_profile_init(&l->prof, rate, burst) == 0);
	for (gen = 0; gen < FG_GENERATIONS; gen++) {
		idx = gen * FG_LIMIT_MAX + id;
		FG_REQUIRE(!bpf_map_update_elem(g.fd.lim, &idx, l, BPF_ANY));
	}
}

/* ------------------------------------------------------------ counters */

struct fg_snap {
	__u64 drops[FG_DROP_REASON_MAX];
	__u64 svc[FG_T_SVC_MAX][3];  /* packets, bytes, new_flows */
	__u64 be[FG_T_BE_MAX][3];
	__u64 lim[FG_T_LIM_MAX][2];  /* passed, limited */
};

/* Sum the first nwords 64-bit words of counter id over every CPU: the
 * counter maps are per CPU by layout, CPU c's copy at c * stride + id. */
static void fg_percpu(int fd, __u32 stride, __u32 id, size_t vsize,
		      __u64 *sum, unsigned int nwords)
{
	FG_REQUIRE(!fg_h_cpu_sum(fd, stride, id, vsize, g.ncpus, sum, nwords));
}

static void fg_snap_take(struct fg_snap *s)
{
	__u32 i;

	FG_REQUIRE(!fg_h_drops_sum(g.fd.cfg, g.ncpus, s->drops));
	for (i = 0; i < FG_T_SVC_MAX; i++)
		fg_percpu(g.fd.svcst, FG_SVC_MAX, i, sizeof(struct fg_counter),
			  s->svc[i], 3);
	for (i = 0; i < FG_T_BE_MAX; i++)
		fg_percpu(g.fd.best, FG_BACKEND_MAX, i,
			  sizeof(struct fg_counter), s->be[i], 3);
	for (i = 0; i < FG_T_LIM_MAX; i++)
		fg_percpu(g.fd.limst, FG_LIMIT_MAX, i,
			  sizeof(struct fg_limit_counter), s->lim[i], 2);
}

/* Expected counter deltas; everything not named must not move. */
struct fg_xlim {
	__u32 id;            /* 0: unused */
	__u64 passed, limited;
};

struct fg_xctr {
	__u64 drop[FG_DROP_REASON_MAX];
	__u32 svc;           /* 0: no service counter moves */
	__u64 svc_pkts, svc_new;
	__u32 be;            /* 0: no backend counter moves */
	__u64 be_new;        /* be packets = svc packets */
	struct fg_xlim lim[2];
};

static void fg_snap_check(const struct fg_snap *a, const struct fg_snap *b,
			  const struct fg_xctr *x, __u32 frame_len)
{
	__u64 want[3];
	__u32 i, j;

	for (i = 0; i < FG_DROP_REASON_MAX; i++)
		FG_EXPECT(b->drops[i] - a->drops[i] == x->drop[i],
			  "drops.%s moved by %llu, want %llu", fg_drop_reason_name(i),
			  (unsigned long long)(b->drops[i] - a->drops[i]),
			  (unsigned long long)x->drop[i]);
	for (i = 0; i < FG_T_SVC_MAX; i++) {
		want[0] = x->svc && i == x->svc ? x->svc_pkts : 0;
		want[1] = want[0] * frame_len;
		want[2] = x->svc && i == x->svc ? x->svc_new : 0;
		for (j = 0; j < 3; j++)
			FG_EXPECT(b->svc[i][j] - a->svc[i][j] == want[j],
				  "svc %u counter %u moved by %llu, want %llu",
				  i, j, (unsigned long long)(b->svc[i][j] - a->svc[i][j]),
				  (unsigned long long)want[j]);
	}
	for (i = 0; i < FG_T_BE_MAX; i++) {
		want[0] = x->be && i == x->be ? x->svc_pkts : 0;
		want[1] = want[0] * frame_len;
		want[2] = x->be && i == x->be ? x->be_new : 0;
		for (j = 0; j < 3; j++)
			FG_EXPECT(b->be[i][j] - a->be[i][j] == want[j],
				  "backend %u counter %u moved by %llu, want %llu",
				  i, j, (unsigned long long)(b->be[i][j] - a->be[i][j]),
				  (unsigned long long)want[j]);
	}
	for (i = 0; i < FG_T_LIM_MAX; i++) {
		want[0] = want[1] = 0;
		for (j = 0; j < 2; j++)
			if (x->lim[j].id && x->lim[j].id == i) {
				want[0] = x->lim[j].passed;
				want[1] = x->lim[j].limited;
			}
		for (j = 0; j < 2; j++)
			FG_EXPECT(b->lim[i][j] - a->lim[i][j] == want[j],
				  "limit %u %s moved by %llu, want %llu", i,
				  j ? "limited" : "passed",
				  (unsigned long long)(b->lim[i][j] - a->lim[i][j]),
				  (unsigned long long)want[j]);
	}
}

/* ---------------------------------------------------------- test runs */

static int fg_run(const __u8 *in, __u32 len, __u8 *out, __u32 *out_len,
		 __u32 *verdict)
{
	return fg_h_run(g.fd.prog, g.ifindex, in, len, out, FG_PKT_MAX, out_len,
			verdict);
}

static const char *fg_verdict_name(__u32 v)
{
	static const char *const n[] = { "ABORTED", "DROP", "PASS", "TX",
					 "REDIRECT" };

	return v < 5 ? n[v] : "?";
}

struct fg_case {
	const char *desc;
	const __u8 *in;
	__u32 in_len;
	__u32 verdict;
	const __u8 *out;     /* NULL: the input, unchanged (PASS/TX only) */
	__u32 out_len;
	struct fg_xctr x;
};

/*
 * fg_case_run - run one fixture and check verdict, output bytes (not for
 * XDP_DROP: what a dropped frame looks like is nobody's business) and
 * counter deltas. The output is copied to got/got_len when non-NULL.
 * Returns 0 when the case passed.
 */
static int fg_case_run(const struct fg_case *c, __u8 *got, __u32 *got_len)
{
	static __u8 out[FG_PKT_MAX];
	struct fg_snap *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b));
	const __u8 *want = c->out ? c->out : c->in;
	__u32 want_len = c->out ? c->out_len : c->in_len;
	__u32 out_len = 0, verdict = 0;
	int err;

	FG_REQUIRE(a && b);
	fg_begin(c->desc);
	fg_snap_take(a);
	err = fg_run(c->in, c->in_len, out, &out_len, &verdict);
	fg_snap_take(b);
	FG_EXPECT(!err, "BPF_PROG_TEST_RUN: %s", strerror(-err));
	if (!err) {
		FG_EXPECT(verdict == c->verdict, "verdict %s, want %s",
			  fg_verdict_name(verdict), fg_verdict_name(c->verdict));
		if (verdict == c->verdict && verdict != XDP_DROP &&
		    (out_len != want_len || memcmp(out, want, want_len))) {
			fg_fail_at(__LINE__, "output differs");
			fg_hexdump("got", out, out_len);
			fg_hexdump("want", want, want_len);
		}
		fg_snap_check(a, b, &c->x, c->in_len);
	}
	if (got) {
		memcpy(got, out, out_len);
		*got_len = out_len;
	}
	free(a);
	free(b);
	fg_end();
	return g.cur_failed;
}

/* ------------------------------------------------- expected output frames */

/*
 * fg_exp_encap - the frame fg_encap() must make of the input frame `in`
 * (built as ipb) for backend be_id of s: one Ethernet header (next hop
 * MACs), the outer IPv4/IPv6 header from
 * the tunnel source, a UDP header for GUE, then the input's IP packet
 * unchanged. Returns the length.
 */
static __u32 fg_exp_encap(__u8 *out, const __u8 *in, const struct fg_pb *ipb,
			  const struct fg_tsvc *s, __u32 be_id, __u64 hash)
{
	const char *ba = s->be_addr[fg_be_index(s, be_id)];
	const __u8 *inner = in + ipb->l3_off;
	size_t ilen = ipb->l3_end - ipb->l3_off;
	__u8 iproto = ipb->family == 4 ? 4 : 41;
	__u16 gport = 0;
	struct fg_pb pb;
	int len;

	if (s->forward == FG_FWD_DSR_GUE)
		gport = s->gue_port ? s->gue_port : FG_T_GUE_PORT;
	fg_pb_init(&pb, out, FG_PKT_MAX);
	fg_pb_eth(&pb, fg_nh_mac, fg_if_mac);
	if (fg_pb_fam(ba) == 4) {
		struct fg_pb_ip4 ip = { .src = fg_pb_ip4h(FG_T_TUN4),
					.dst = fg_pb_ip4h(ba), .ttl = 64 };

		fg_pb_ip4(&pb, &ip);
	} else {
		struct fg_pb_ip6 ip = { .hop_limit = 64,
					.flow = (__u32)hash & 0xfffff };

		fg_pb_addr(FG_T_TUN6, ip.src);
		fg_pb_addr(ba, ip.dst);
		fg_pb_ip6(&pb, &ip);
	}
	if (gport) {
		fg_pb_udp(&pb, 0xc000 | ((__u32)(hash >> 16) & 0x3fff), gport);
		fg_pb_bytes(&pb, inner, ilen);
	} else {
		fg_pb_l4_raw(&pb, iproto, inner, ilen);
	}
	len = fg_pb_finish(&pb);
	FG_REQUIRE(len > 0);
	if (gport) /* zero UDP checksum on the tunnel (RFC 6935) */
		fg_pb_put_be16(out, pb.l4_off + 6, 0);
	return (__u32)len;
}

/*
 * fg_exp_rst - the RST fg_send_rst() must answer the segment ps with:
 * MACs, addresses and ports swapped; for a segment with ACK, seq = its
 * ack and flags RST; otherwise seq 0, ack = seq + payload + SYN + FIN and
 * flags RST|ACK; no options, no payload, window 0; IPv4 with DF, id 0,
 * TTL 64; IPv6 hop limit 64. Checksums recomputed from scratch.
 */
static __u32 fg_exp_rst(__u8 *out, const struct fg_pb_flow *ps)
{
	struct fg_pb_flow r = { 0 };
	struct fg_pb pb;
	__u32 len;
	int syn = !!(ps->flags & FG_TCP_SYN), fin = !!(ps->flags & FG_TCP_FIN);

	r.src = ps->dst;
	r.dst = ps->src;
	r.sport = ps->dport;
	r.dport = ps->sport;
	r.proto = FG_IPPROTO_TCP;
	r.dmac = ps->smac ? ps->smac : fg_peer_mac;
	r.smac = ps->dmac ? ps->dmac : fg_if_mac;
	r.frag = fg_pb_fam(ps->src) == 4 ? 0x4000 : 0;
	if (ps->flags & FG_TCP_ACK) {
		r.seq = ps->ack;
		r.flags = FG_TCP_RST;
	} else {
		r.ack = ps->seq + ps->plen + syn + fin;
		r.flags = FG_TCP_RST | FG_TCP_ACK;
	}
	len = (__u32)fg_build(&r, out, &pb);
	fg_pb_put_be16(out, pb.l4_off + 14, 0); /* window */
	fg_csum_fix_tcp(out, &pb);
	return len;
}

/* -------------------------------------------------------- map helpers */

#define FG_SEC 1000000000ULL

/* The dataplane's clock (bpf_ktime_get_coarse_ns) as userspace reads it. */
static __u64 fg_now_coarse(void)
{
	struct timespec ts;

	FG_REQUIRE(!clock_gettime(CLOCK_MONOTONIC_COARSE, &ts));
	return (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec;
}

/* Ticks from tick `seen` to tick `now`, signed: negative when seen is
 * later. Ticks wrap, so they are only compared by difference. */
static __s32 fg_tick_diff(__u32 now, __u32 seen)
{
	return (__s32)(now - seen);
}

/* Tick seen was stamped at or after monotonic time now (ns), as far as
 * the dataplane's clock tells: fg_clock trails the kernel's coarse clock
 * by up to its 4 ms period, more when a loaded machine delays the timer;
 * 250 ms of slack still tells a stamp from the ages of whole seconds the
 * tests give old entries. */
#define FG_T_CLOCK_LAG_NS 250000000ULL
static int fg_ct_fresh(__u32 seen, __u64 now)
{
	return fg_tick_diff(seen, fg_ct_tick(now - FG_T_CLOCK_LAG_NS)) >= 0;
}

/* A state recorded by a packet of this run: seen no later than now and
 * no more than FG_T_RECENT_SEC ago (the whole run takes seconds). */
#define FG_T_RECENT_SEC 60ULL
static int fg_ct_recent(const struct fg_ct *v)
{
	__s32 d = fg_tick_diff(fg_ct_tick(fg_now_coarse()), v->seen);

	return d >= 0 && (__u32)d <= fg_ct_tick(FG_T_RECENT_SEC * FG_SEC);
}

/* Lines of the connection table fd (fg_ct or fg_ct_syn). */
static __u32 fg_ct_lines_of(int fd)
{
	FG_REQUIRE(fd == g.fd.ct || fd == g.fd.ctsyn);
	return fd == g.fd.ct ? FG_T_CT_LINES : FG_T_CT_SYN_LINES;
}

/* The state of ps's flow in connection table fd: 0, -ENOENT or -errno. */
static int fg_ct_get(int fd, const struct fg_pb_flow *ps, struct fg_ct *v)
{
	struct fg_flow_key k;

	fg_key_of(ps, &k);
	return fg_h_ct_find(fd, fg_ct_lines_of(fd), &k, &fg_t_seed, v);
}

/* Ways in use (flows) in connection table fd. */
static long fg_ct_count(int fd)
{
	long n = fg_h_ct_count(fd);

	FG_REQUIRE(n >= 0);
	return n;
}

/* ------------------------------------------------------------ services */

#define FG_SVC(...) { __VA_ARGS__ }

static struct fg_tsvc s_tcp4 = FG_SVC(.vip = "198.18.0.10", .port = 80,
	.proto = FG_IPPROTO_TCP, .m = FG_RING_M, .nbe = 2,
	.be_addr = { "198.19.0.1", "198.19.0.2" });
static struct fg_tsvc s_tcp4x = FG_SVC(.vip = "198.18.0.10", .port = 22,
	.proto = FG_IPPROTO_TCP, .m = FG_RING_M1, .nbe = 1,
	.be_addr = { "198.19.0.22" });
static struct fg_tsvc s_udp4 = FG_SVC(.vip = "198.18.0.10", .port = 53,
	.proto = FG_IPPROTO_UDP, .m = FG_RING_M, .nbe = 2,
	.be_addr = { "198.19.0.3", "198.19.0.4" });
static struct fg_tsvc s_tcp6 = FG_SVC(.vip = "2001:db8::10", .port = 80,
	.proto = FG_IPPROTO_TCP, .m = FG_RING_M, .nbe = 2,
	.be_addr = { "2001:db8:19::1", "2001:db8:19::2" });
static struct fg_tsvc s_udp6 = FG_SVC(.vip = "2001:db8::10", .port = 53,
	.proto = FG_IPPROTO_UDP, .m = FG_RING_M, .nbe = 2,
	.be_addr = { "2001:db8:19::3", "2001:db8:19::4" });
static struct fg_tsvc s_gue4 = FG_SVC(.vip = "198.18.0.11", .port = 80,
	.proto = FG_IPPROTO_TCP, .forward = FG_FWD_DSR_GUE, .m = FG_RING_M,
	.nbe = 2, .be_addr = { "198.19.0.5", "198.19.0.6" });
static struct fg_tsvc s_gue6 = FG_SVC(.vip = "2001:db8::11", .port = 80,
	.proto = FG_IPPROTO_TCP, .forward = FG_FWD_DSR_GUE, .gue_port = 7777,
	.m = FG_RING_M, .nbe = 2,
	.be_addr = { "2001:db8:19::5", "2001:db8:19::6" });
static struct fg_tsvc s_wild = FG_SVC(.vip = "198.18.0.12", .port = 0,
	.proto = FG_IPPROTO_TCP, .m = FG_RING_M1, .nbe = 1,
	.be_addr = { "198.19.0.12" });
static struct fg_tsvc s_wild22 = FG_SVC(.vip = "198.18.0.12", .port = 22,
	.proto = FG_IPPROTO_TCP, .m = FG_RING_M1, .nbe = 1,
	.be_addr = { "198.19.0.122" });
static struct fg_tsvc s_4in6 = FG_SVC(.vip = "198.18.0.17", .port = 80,
	.proto = FG_IPPROTO_TCP, .m = FG_RING_M1, .nbe = 1,
	.be_addr = { "2001:db8:19::17" });
static struct fg_tsvc s_6in4 = FG_SVC(.vip = "2001:db8::17", .port = 80,
	.proto = FG_IPPROTO_TCP, .m = FG_RING_M1, .nbe = 1,
	.be_addr = { "198.19.0.17" });
static struct fg_tsvc s_src = FG_SVC(.vip = "198.18.0.18", .port = 80,
	.proto = FG_IPPROTO_TCP, .hash = FG_HASH_SRC_IP, .m = FG_RING_M,
	.nbe = 3, .be_addr = { "198.19.0.181", "198.19.0.182", "198.19.0.183" });
static struct fg_tsvc s_nat4 = FG_SVC(.vip = "198.18.0.13", .port = 80,
	.proto = FG_IPPROTO_TCP, .forward = FG_FWD_NAT, .m = FG_RING_M1,
	.nbe = 1, .be_addr = { "198.19.0.13" }, .be_port = { 8080 });
static struct fg_tsvc s_nat4u = FG_SVC(.vip = "198.18.0.13", .port = 53,
	.proto = FG_IPPROTO_UDP, .forward = FG_FWD_NAT, .m = FG_RING_M1,
	.nbe = 1, .be_addr = { "198.19.0.14" }, .be_port = { 5353 });
static struct fg_tsvc s_nat6 = FG_SVC(.vip = "2001:db8::13", .port = 80,
	.proto = FG_IPPROTO_TCP, .forward = FG_FWD_NAT, .m = FG_RING_M1,
	.nbe = 1, .be_addr = { "2001:db8:19::13" }, .be_port = { 8080 });
static struct fg_tsvc s_nat6u = FG_SVC(.vip = "2001:db8::13", .port = 53,
	.proto = FG_IPPROTO_UDP, .forward = FG_FWD_NAT, .m = FG_RING_M1,
	.nbe = 1, .be_addr = { "2001:db8:19::14" }, .be_port = { 5353 });
static struct fg_tsvc s_empty = FG_SVC(.vip = "198.18.0.14", .port = 80,
	.proto = FG_IPPROTO_TCP, .m = 0, .nbe = 0);
static struct fg_tsvc s_noneigh4 = FG_SVC(.vip = "198.18.0.15", .port = 80,
	.proto = FG_IPPROTO_TCP, .m = FG_RING_M1, .nbe = 1,
	.be_addr = { "198.19.1.1" });
static struct fg_tsvc s_noneigh6 = FG_SVC(.vip = "2001:db8::15", .port = 80,
	.proto = FG_IPPROTO_TCP, .m = FG_RING_M1, .nbe = 1,
	.be_addr = { "2001:db8:19:1::1" });
static struct fg_tsvc s_noroute4 = FG_SVC(.vip = "198.18.0.16", .port = 80,
	.proto = FG_IPPROTO_TCP, .m = FG_RING_M1, .nbe = 1,
	.be_addr = { "198.19.2.1" });
static struct fg_tsvc s_noroute6 = FG_SVC(.vip = "2001:db8::16", .port = 80,
	.proto = FG_IPPROTO_TCP, .m = FG_RING_M1, .nbe = 1,
	.be_addr = { "2001:db8:19:2::1" });
/* Generation, health and drain tests. */
static struct fg_tsvc s_gen = FG_SVC(.vip = "198.18.0.20", .port = 80,
	.proto = FG_IPPROTO_TCP, .m = FG_RING_M, .nbe = 2,
	.be_addr = { "198.19.0.201", "198.19.0.202" });
static struct fg_tsvc s_down = FG_SVC(.vip = "198.18.0.21", .port = 80,
	.proto = FG_IPPROTO_TCP, .m = FG_RING_M, .nbe = 2,
	.be_addr = { "198.19.0.211", "198.19.0.212" });
static struct fg_tsvc s_drain = FG_SVC(.vip = "2001:db8::22", .port = 80,
	.proto = FG_IPPROTO_TCP, .m = FG_RING_M, .nbe = 2,
	.be_addr = { "2001:db8:19::221", "2001:db8:19::222" });
static struct fg_tsvc s_downudp = FG_SVC(.vip = "198.18.0.23", .port = 53,
	.proto = FG_IPPROTO_UDP, .m = FG_RING_M, .nbe = 2,
	.be_addr = { "198.19.0.231", "198.19.0.232" });
/* Limits: one service per limit, each with limits[] naming it. */
#define FG_LSVC(addr, prt, pr, lid) FG_SVC(.vip = addr, .port = prt, \
	.proto = pr, .m = FG_RING_M1, .nbe = 1, .be_addr = { "198.19.0.99" }, \
	.nlimits = 1, .limits = { lid })
static struct fg_tsvc s_l_pps = FG_LSVC("198.18.0.30", 80, FG_IPPROTO_TCP, 1);
static struct fg_tsvc s_l_bps = FG_LSVC("198.18.0.31", 80, FG_IPPROTO_TCP, 2);
static struct fg_tsvc s_l_cps = FG_LSVC("198.18.0.32", 80, FG_IPPROTO_TCP, 3);
static struct fg_tsvc s_l_pfx = FG_LSVC("198.18.0.33", 80, FG_IPPROTO_TCP, 4);
static struct fg_tsvc s_l_flow = FG_LSVC("198.18.0.34", 53, FG_IPPROTO_UDP, 6);
static struct fg_tsvc s_l_svc = FG_LSVC("198.18.0.35", 80, FG_IPPROTO_TCP, 7);
static struct fg_tsvc s_l_rst = FG_LSVC("198.18.0.36", 80, FG_IPPROTO_TCP, 8);
static struct fg_tsvc s_l_dry = FG_LSVC("198.18.0.37", 80, FG_IPPROTO_TCP, 10);
static struct fg_tsvc s_l_urst = FG_LSVC("198.18.0.38", 53, FG_IPPROTO_UDP, 12);
static struct fg_tsvc s_l_pfx6 = FG_SVC(.vip = "2001:db8::33", .port = 80,
	.proto = FG_IPPROTO_TCP, .m = FG_RING_M1, .nbe = 1,
	.be_addr = { "2001:db8:19::99" }, .nlimits = 1, .limits = { 5 });
static struct fg_tsvc s_l_rst6 = FG_SVC(.vip = "2001:db8::36", .port = 80,
	.proto = FG_IPPROTO_TCP, .m = FG_RING_M1, .nbe = 1,
	.be_addr = { "2001:db8:19::99" }, .nlimits = 1, .limits = { 9 });
static struct fg_tsvc s_l_two = FG_SVC(.vip = "198.18.0.39", .port = 80,
	.proto = FG_IPPROTO_TCP, .m = FG_RING_M1, .nbe = 1,
	.be_addr = { "198.19.0.99" }, .nlimits = 2, .limits = { 13, 14 });

static struct fg_tsvc *const fg_all_svcs[] = {
	&s_tcp4, &s_tcp4x, &s_udp4, &s_tcp6, &s_udp6, &s_gue4, &s_gue6,
	&s_wild, &s_wild22, &s_4in6, &s_6in4, &s_src, &s_nat4, &s_nat4u,
	&s_nat6, &s_nat6u, &s_empty, &s_noneigh4, &s_noneigh6, &s_noroute4,
	&s_noroute6, &s_gen, &s_down, &s_drain, &s_downudp,
	&s_l_pps, &s_l_bps, &s_l_cps, &s_l_pfx, &s_l_flow, &s_l_svc, &s_l_rst,
	&s_l_dry, &s_l_urst, &s_l_pfx6, &s_l_rst6, &s_l_two,
};

/* ------------------------------------------------------ fixture helpers */

/* Counters of a packet forwarded to backend be of s. */
static struct fg_xctr fg_x_fwd(const struct fg_tsvc *s, __u32 be, int new_flow)
{
	struct fg_xctr x = { 0 };

	x.svc = s->id;
	x.svc_pkts = 1;
	x.svc_new = (__u64)new_flow;
	x.be = be;
	x.be_new = (__u64)new_flow;
	return x;
}

static struct fg_xctr fg_x_drop(int reason)
{
	struct fg_xctr x = { 0 };

	if (reason >= 0)
		x.drop[reason] = 1;
	return x;
}

/*
 * fg_dsr - one DSR fixture: ps to service s must be encapsulated to the
 * backend the ring of generation gen picks (or to want_be when non-zero),
 * with XDP_TX. Returns the backend id it expected.
 */
static __u32 fg_dsr(const char *desc, struct fg_tsvc *s, __u32 gen,
		    const struct fg_pb_flow *ps, int new_flow, __u32 want_be)
{
	__u8 in[FG_PKT_MAX], exp[FG_PKT_MAX];
	struct fg_pb pb;
	struct fg_case c = { .desc = desc };
	__u32 be = want_be ? want_be : fg_ring_pick(s, gen, ps);

	FG_REQUIRE(be != FG_NO_BACKEND);
	c.in = in;
	c.in_len = (__u32)fg_build(ps, in, &pb);
	c.verdict = XDP_TX;
	c.out = exp;
	c.out_len = fg_exp_encap(exp, in, &pb, s, be, fg_hash_of(s, ps));
	c.x = fg_x_fwd(s, be, new_flow);
	fg_case_run(&c, NULL, NULL);
	return be;
}

/* One fixture whose output is the input unchanged (or not compared). */
static void fg_plain(const char *desc, const struct fg_pb_flow *ps, __u32 verdict,
		     struct fg_xctr x)
{
	__u8 in[FG_PKT_MAX];
	struct fg_pb pb;
	struct fg_case c = { .desc = desc, .in = in, .verdict = verdict, .x = x };

	c.in_len = (__u32)fg_build(ps, in, &pb);
	fg_case_run(&c, NULL, NULL);
}

/* Set c to a fixture answered XDP_TX with frame `out` built from out_ps
 * (a rewrite in place: NAT), the input built from in_ps into in. pb
 * receives the output's layout. Counters are the caller's to set. */
static void fg_rewrite_case(struct fg_case *c, const char *desc,
			    const struct fg_pb_flow *in_ps, __u8 *in,
			    const struct fg_pb_flow *out_ps, __u8 *out,
			    struct fg_pb *pb)
{
	memset(c, 0, sizeof(*c));
	c->desc = desc;
	c->in = in;
	c->in_len = (__u32)fg_build(in_ps, in, pb);
	c->verdict = XDP_TX;
	c->out = out;
	c->out_len = (__u32)fg_build(out_ps, out, pb);
}

/* ------------------------------------------------------- pass-through */

static void fg_t_passthrough(void)
{
	struct fg_pb_flow p4 = { .src = "198.18.0.100", .dst = "198.18.0.200",
			    .sport = 40000, .dport = 80,
			    .proto = FG_IPPROTO_TCP, .flags = FG_TCP_SYN };
	struct fg_pb_flow p6 = { .src = "2001:db8::100", .dst = "2001:db8::200",
			    .sport = 40000, .dport = 80,
			    .proto = FG_IPPROTO_TCP, .flags = FG_TCP_SYN };
	struct fg_pb_flow p;
	__u8 in[FG_PKT_MAX];
	struct fg_pb pb;
	struct fg_case c = { 0 };
	int i;

	{
		/* fg_t_malformed sends to these addresses too. */
		__u8 d[16] = { 0 };

		fg_pb_addr(p4.dst, d);
		FG_EXPECT(!fg_vip_filter_has(&g.cfg, (__be32 *)d),
			  "the VIP filter has no bit for %s", p4.dst);
		fg_pb_addr(p6.dst, d);
		FG_EXPECT(!fg_vip_filter_has(&g.cfg, (__be32 *)d),
			  "the VIP filter has no bit for %s", p6.dst);
	}
	fg_plain("ipv4 tcp syn to a non-VIP passes untouched", &p4, XDP_PASS,
		 fg_x_drop(FG_DROP_NO_SERVICE));
	{
		/* An address that shares a VIP's filter bit is only a
		 * maybe: the service table says no. */
		static char addr[INET_ADDRSTRLEN];
		__u8 vip[16] = { 0 }, d[16] = { 0 };
		__u32 n;

		fg_pb_addr(s_tcp4.vip, vip);
		for (n = 1; n < 65536; n++) {
			__be32 x = htonl(0xc6130000U | n); /* 198.19.n */

			memset(d, 0, sizeof(d));
			memcpy(d, &x, 4);
			if (x != *(__be32 *)vip &&
			    fg_vip_filter_bit((__be32 *)d) ==
			    fg_vip_filter_bit((__be32 *)vip))
				break;
		}
		FG_REQUIRE(n < 65536);
		inet_ntop(AF_INET, d, addr, sizeof(addr));
		p = p4;
		p.dst = addr;
		fg_plain("ipv4 tcp syn to a non-VIP sharing a VIP's filter bit passes",
			 &p, XDP_PASS, fg_x_drop(FG_DROP_NO_SERVICE));
	}
	fg_plain("ipv6 tcp syn to a non-VIP passes untouched", &p6, XDP_PASS,
		 fg_x_drop(FG_DROP_NO_SERVICE));
	/* A tagged frame's destination is judged after the parse. */
	p = p4;
	p.vlan = 0x0064;
	fg_plain("vlan-tagged ipv4 syn to a non-VIP passes untouched", &p,
		 XDP_PASS, fg_x_drop(FG_DROP_NO_SERVICE));
	p = p6;
	p.vlan = 0x0064;
	fg_plain("vlan-tagged ipv6 syn to a non-VIP passes untouched", &p,
		 XDP_PASS, fg_x_drop(FG_DROP_NO_SERVICE));
	p = p4;
	p.dst = s_tcp4.vip;
	p.dport = 81;
	fg_plain("ipv4 tcp to a VIP on an unserved port passes", &p, XDP_PASS,
		 fg_x_drop(FG_DROP_NO_SERVICE));
	p = p4;
	p.dst = s_gue4.vip;
	p.proto = FG_IPPROTO_UDP;
	fg_plain("ipv4 udp to a tcp-only VIP passes", &p, XDP_PASS,
		 fg_x_drop(FG_DROP_NO_SERVICE));
	p = p6;
	p.dst = s_tcp6.vip;
	p.proto = FG_IPPROTO_ICMP;
	p.sport = 7;
	fg_plain("icmpv6 echo to a VIP passes to the kernel", &p, XDP_PASS,
		 fg_x_drop(FG_DROP_NO_SERVICE));
	{
		/* The drop counters share fg_config with the config, one
		 * entry per CPU after it: counting never writes the config,
		 * and the rule switch, one update of entry 0, leaves the
		 * counters be. On CPU 0 (when this process may run there), whose
		 * entry is the config's neighbour. */
		struct fg_xctr none = { 0 };
		union fg_config_entry e;
		struct fg_snap a, b;
		cpu_set_t was, cpu0;
		__u32 zero = 0, mine;
		__u64 n0;

		FG_REQUIRE(!sched_getaffinity(0, sizeof(was), &was));
		CPU_ZERO(&cpu0);
		CPU_SET(0, &cpu0);
		if (sched_setaffinity(0, sizeof(cpu0), &cpu0))
			printf("# CPU 0 not allowed: the drop counter checks "
			       "run on CPU %d\n", sched_getcpu());
		mine = fg_config_drops_index((__u32)sched_getcpu());
		FG_REQUIRE(!bpf_map_lookup_elem(g.fd.cfg, &mine, &e));
		n0 = e.drops.n[FG_DROP_NO_SERVICE];
		fg_plain("ipv4 tcp syn to a non-VIP, on CPU 0", &p4, XDP_PASS,
			 fg_x_drop(FG_DROP_NO_SERVICE));

		fg_begin("drop counters: in this CPU's entry, never in the config's");
		FG_REQUIRE(!bpf_map_lookup_elem(g.fd.cfg, &mine, &e));
		FG_EXPECT(e.drops.n[FG_DROP_NO_SERVICE] == n0 + 1,
			  "entry %u (this CPU's) no_service moved by %llu, "
			  "want 1", mine,
			  (unsigned long long)(e.drops.n[FG_DROP_NO_SERVICE] -
					       n0));
		FG_REQUIRE(!bpf_map_lookup_elem(g.fd.cfg, &zero, &e));
		FG_EXPECT(!memcmp(&e.cfg, &g.cfg, sizeof(g.cfg)),
			  "entry 0 is not the config last written");
		fg_end();
		FG_REQUIRE(!sched_setaffinity(0, sizeof(was), &was));

		fg_snap_take(&a);
		fg_begin("a config write leaves the drop counters be");
		FG_REQUIRE(!bpf_map_update_elem(g.fd.cfg, &zero, &g.cfg,
						BPF_ANY));
		fg_snap_take(&b);
		fg_snap_check(&a, &b, &none, 0);
		fg_end();
	}

	/* ARP: not IP, not counted anywhere. */
	fg_pb_init(&pb, in, FG_PKT_MAX);
	fg_pb_eth(&pb, fg_if_mac, fg_peer_mac);
	fg_pb_ethertype(&pb, 0x0806);
	fg_pb_bytes(&pb, NULL, 28);
	c.desc = "arp passes untouched, no counter";
	c.in = in;
	c.in_len = (__u32)fg_pb_finish(&pb);
	c.verdict = XDP_PASS;
	fg_case_run(&c, NULL, NULL);

	/* Nine destination-options headers: longer than the parser walks;
	 * legal, so the kernel judges it. */
	{
		struct fg_pb_ip6 ip = { 0 };
		struct fg_pb_tcp t = { .sport = 40000, .dport = 80,
				       .flags = FG_TCP_SYN };

		fg_pb_addr("2001:db8::100", ip.src);
		fg_pb_addr(s_tcp6.vip, ip.dst);
		fg_pb_init(&pb, in, FG_PKT_MAX);
		fg_pb_eth(&pb, fg_if_mac, fg_peer_mac);
		fg_pb_ip6(&pb, &ip);
		for (i = 0; i < FG_IPV6_EXT_MAX + 1; i++)
			fg_pb_ip6_ext(&pb, 60, 8);
		fg_pb_tcp(&pb, &t);
		memset(&c, 0, sizeof(c));
		c.desc = "ipv6 with 9 extension headers to a VIP passes";
		c.in = in;
		c.in_len = (__u32)fg_pb_finish(&pb);
		FG_REQUIRE((int)c.in_len > 0);
		c.verdict = XDP_PASS;
		c.x = fg_x_drop(FG_DROP_NO_SERVICE);
		fg_case_run(&c, NULL, NULL);
	}
}

/* ---------------------------------------------------------------- DSR */

/* Map checks after a SYN or a promotion: where the flow's state lives. */
static void fg_check_state(const char *desc, const struct fg_pb_flow *ps,
			   const struct fg_tsvc *s, int in_syn, int in_ct,
			   __u32 be)
{
	struct fg_ct v;
	int rs, rc;

	fg_begin(desc);
	rs = fg_ct_get(g.fd.ctsyn, ps, &v);
	FG_EXPECT(in_syn ? rs == 0 : rs == -ENOENT, "fg_ct_syn lookup %d", rs);
	if (in_syn && rs == 0) {
		FG_EXPECT(v.backend_id == be, "fg_ct_syn backend %u, want %u",
			  v.backend_id, be);
		FG_EXPECT(v.svc_id == s->id, "fg_ct_syn svc %u", v.svc_id);
		FG_EXPECT(!(v.flags & FG_CT_F_NEW), "FG_CT_F_NEW stored");
		FG_EXPECT(!(v.flags & FG_CT_F_UDP), "fg_ct_syn way marked udp");
		FG_EXPECT(fg_ct_recent(&v), "fg_ct_syn seen tick %u, now %u",
			  v.seen, fg_ct_tick(fg_now_coarse()));
	}
	rc = fg_ct_get(g.fd.ct, ps, &v);
	FG_EXPECT(in_ct ? rc == 0 : rc == -ENOENT, "fg_ct lookup %d", rc);
	if (in_ct && rc == 0) {
		FG_EXPECT(v.backend_id == be, "fg_ct backend %u, want %u",
			  v.backend_id, be);
		FG_EXPECT(v.svc_id == s->id, "fg_ct svc %u", v.svc_id);
		FG_EXPECT(!(v.flags & FG_CT_F_NEW), "FG_CT_F_NEW stored");
		/* The way's protocol bit chooses the timeout it expires by. */
		FG_EXPECT(!!(v.flags & FG_CT_F_UDP) ==
			  (ps->proto == FG_IPPROTO_UDP),
			  "fg_ct flags %#x for protocol %u", v.flags, ps->proto);
		FG_EXPECT(fg_ct_recent(&v), "fg_ct seen tick %u, now %u",
			  v.seen, fg_ct_tick(fg_now_coarse()));
	}
	fg_end();
}

/* SYN, retransmitted SYN, ACK, data: the life of a TCP flow via DSR. */
static void fg_tcp_flow(const char *fam, struct fg_tsvc *s, const char *cli,
			__u16 cport)
{
	char d[160];
	struct fg_pb_flow p = { .src = cli, .dst = s->vip, .sport = cport,
			   .dport = s->port, .proto = FG_IPPROTO_TCP,
			   .flags = FG_TCP_SYN, .seq = 1000, .mss = 1 };
	long nsyn, nct;
	__u32 be;

	snprintf(d, sizeof(d), "%s syn to VIP: %s, new flow", fam,
		 s->forward == FG_FWD_DSR_GUE ? "gue" : "ipip");
	be = fg_dsr(d, s, 0, &p, 1, 0);
	snprintf(d, sizeof(d), "%s syn: state in fg_ct_syn only", fam);
	fg_check_state(d, &p, s, 1, 0, be);
	snprintf(d, sizeof(d), "%s retransmitted syn: same backend, no new flow",
		 fam);
	fg_dsr(d, s, 0, &p, 0, be);
	snprintf(d, sizeof(d), "%s retransmitted syn: fg_ct_syn unchanged", fam);
	fg_check_state(d, &p, s, 1, 0, be);
	p.flags = FG_TCP_ACK;
	p.mss = 0;
	p.seq = 1001;
	p.ack = 5001;
	nsyn = fg_ct_count(g.fd.ctsyn);
	nct = fg_ct_count(g.fd.ct);
	snprintf(d, sizeof(d), "%s ack of the flow: same backend", fam);
	fg_dsr(d, s, 0, &p, 0, be);
	snprintf(d, sizeof(d), "%s ack promoted fg_ct_syn to fg_ct", fam);
	fg_check_state(d, &p, s, 0, 1, be);
	snprintf(d, sizeof(d), "%s promotion: one fg_ct_syn entry freed, one "
		 "fg_ct entry taken", fam);
	fg_begin(d);
	FG_EXPECT(fg_ct_count(g.fd.ctsyn) == nsyn - 1, "fg_ct_syn %ld -> %ld",
		  nsyn, fg_ct_count(g.fd.ctsyn));
	FG_EXPECT(fg_ct_count(g.fd.ct) == nct + 1, "fg_ct %ld -> %ld", nct,
		  fg_ct_count(g.fd.ct));
	fg_end();
	p.flags = FG_TCP_ACK | FG_TCP_PSH;
	p.plen = 200;
	snprintf(d, sizeof(d), "%s data segment: established backend", fam);
	fg_dsr(d, s, 0, &p, 0, be);
}

static void fg_udp_flow(const char *fam, struct fg_tsvc *s, const char *cli)
{
	char d[160];
	struct fg_pb_flow p = { .src = cli, .dst = s->vip, .sport = 5300,
			   .dport = s->port, .proto = FG_IPPROTO_UDP, .plen = 33 };
	__u32 be;

	snprintf(d, sizeof(d), "%s udp to VIP: ipip, new flow", fam);
	be = fg_dsr(d, s, 0, &p, 1, 0);
	snprintf(d, sizeof(d), "%s udp: state straight in fg_ct", fam);
	fg_check_state(d, &p, s, 0, 1, be);
	snprintf(d, sizeof(d), "%s udp second datagram: same backend", fam);
	fg_dsr(d, s, 0, &p, 0, be);
}

static void fg_t_dsr(void)
{
	struct fg_pb_flow p;
	__u32 i, be, seen[FG_T_BE_PER_SVC] = { 0 }, first = 0;
	int ok;

	fg_tcp_flow("ipv4", &s_tcp4, "198.18.0.100", 40000);
	fg_tcp_flow("ipv6", &s_tcp6, "2001:db8::100", 40000);
	fg_tcp_flow("ipv4", &s_gue4, "198.18.0.100", 40001);
	fg_tcp_flow("ipv6", &s_gue6, "2001:db8::100", 40001);
	fg_udp_flow("ipv4", &s_udp4, "198.18.0.100");
	fg_udp_flow("ipv6", &s_udp6, "2001:db8::100");

	p = (struct fg_pb_flow){ .src = "198.18.0.100", .dst = s_4in6.vip,
			    .sport = 40002, .dport = 80,
			    .proto = FG_IPPROTO_TCP, .flags = FG_TCP_SYN };
	fg_dsr("ipv4 VIP, ipv6 backend: ipv4-in-ipv6 (next header 4)", &s_4in6,
	       0, &p, 1, 0);
	p = (struct fg_pb_flow){ .src = "2001:db8::100", .dst = s_6in4.vip,
			    .sport = 40002, .dport = 80,
			    .proto = FG_IPPROTO_TCP, .flags = FG_TCP_SYN };
	fg_dsr("ipv6 VIP, ipv4 backend: ipv6-in-ipv4 (protocol 41)", &s_6in4,
	       0, &p, 1, 0);
	p = (struct fg_pb_flow){ .src = "198.18.0.100", .dst = s_tcp4.vip,
			    .sport = 40003, .dport = 80, .vlan = 0x0064,
			    .proto = FG_IPPROTO_TCP, .flags = FG_TCP_SYN };
	fg_dsr("ipv4 syn with an 802.1Q tag: tag replaced by the outer frame",
	       &s_tcp4, 0, &p, 1, 0);

	/* Port 0 serves every port; an exact port wins over it. */
	p = (struct fg_pb_flow){ .src = "198.18.0.100", .dst = s_wild.vip,
			    .sport = 40004, .dport = 8080,
			    .proto = FG_IPPROTO_TCP, .flags = FG_TCP_SYN };
	fg_dsr("port-0 service takes port 8080", &s_wild, 0, &p, 1, 0);
	p.dport = 443;
	fg_dsr("port-0 service takes port 443", &s_wild, 0, &p, 1, 0);
	p.dport = 22;
	fg_dsr("exact port 22 wins over the port-0 service", &s_wild22, 0, &p,
	       1, 0);
	p = (struct fg_pb_flow){ .src = "198.18.0.100", .dst = s_tcp4x.vip,
			    .sport = 40004, .dport = 22,
			    .proto = FG_IPPROTO_TCP, .flags = FG_TCP_SYN };
	fg_dsr("second port of a VIP is its own service", &s_tcp4x, 0, &p, 1,
	       0);

	/* 64 flows: each lands where the ring built here says. */
	for (i = 0; i < 64; i++) {
		char d[96];

		p = (struct fg_pb_flow){ .src = "198.18.0.101", .dst = s_tcp4.vip,
				    .sport = (__u16)(50000 + i), .dport = 80,
				    .proto = FG_IPPROTO_TCP,
				    .flags = FG_TCP_SYN };
		snprintf(d, sizeof(d), "maglev: flow %u follows the ring", i);
		be = fg_dsr(d, &s_tcp4, 0, &p, 1, 0);
		seen[fg_be_index(&s_tcp4, be)]++;
	}
	fg_begin("maglev: 64 flows use both backends");
	FG_EXPECT(seen[0] && seen[1], "backend 0: %u flows, 1: %u", seen[0],
		  seen[1]);
	fg_end();

	/* hash src_ip: every port of one client on one backend. */
	ok = 1;
	for (i = 0; i < 8; i++) {
		char d[96];

		p = (struct fg_pb_flow){ .src = "198.18.0.150", .dst = s_src.vip,
				    .sport = (__u16)(1000 + i), .dport = 80,
				    .proto = FG_IPPROTO_TCP,
				    .flags = FG_TCP_SYN };
		snprintf(d, sizeof(d), "hash src_ip: client port %u", 1000 + i);
		be = fg_dsr(d, &s_src, 0, &p, 1, 0);
		if (i == 0)
			first = be;
		ok &= be == first;
	}
	fg_begin("hash src_ip: all flows of a client on one backend");
	FG_EXPECT(ok, "flows of one client spread over backends");
	fg_end();
}

/* ----------------------------------------------------------- full NAT */

static __u16 fg_nat_port_first(__u64 hash)
{
	/* fg_nat_new()'s first probe; the table holds no other entry for
	 * this backend, so the first probe is the one taken. */
	return (__u16)(1024U + (__u32)(hash >> 20) % (65536U - 1024U));
}

static void fg_nat_flow(const char *fam, struct fg_tsvc *s, const char *cli,
			__u16 cport, int tcp, int nocsum)
{
	const char *snat = fg_pb_fam(cli) == 4 ? FG_T_SNAT4 : FG_T_SNAT6;
	__u8 in[FG_PKT_MAX], exp[FG_PKT_MAX], got[FG_PKT_MAX];
	struct fg_pb_flow p = { .src = cli, .dst = s->vip, .sport = cport,
			   .dport = s->port, .mss = tcp, .seq = 7000,
			   .nocsum = nocsum, .plen = tcp ? 0 : 40 };
	struct fg_pb_flow f, r, rx;
	struct fg_flow_key rk;
	struct fg_nat_rev rev, rev2;
	struct fg_pb pb;
	struct fg_case c;
	struct fg_ct v;
	__u32 got_len = 0, be = s->be_id[0];
	__u16 nport;
	char d[160];
	int rc;

	p.proto = tcp ? FG_IPPROTO_TCP : FG_IPPROTO_UDP;
	p.flags = tcp ? FG_TCP_SYN : 0;
	nport = fg_nat_port_first(fg_hash_of(s, &p));

	/* Forward: client:cport -> VIP:vport becomes snat:nport ->
	 * backend:bport, checksums right. */
	f = p;
	f.src = snat;
	f.dst = s->be_addr[0];
	f.sport = nport;
	f.dport = s->be_port[0];
	f.dmac = fg_nh_mac;
	f.smac = fg_if_mac;
	snprintf(d, sizeof(d), "%s %s%s nat: first packet rewritten to "
		 "snat -> backend", fam, tcp ? "tcp syn" : "udp",
		 nocsum ? " (no checksum)" : "");
	fg_rewrite_case(&c, d, &p, in, &f, exp, &pb);
	c.x = fg_x_fwd(s, be, 1);
	fg_case_run(&c, got, &got_len);

	snprintf(d, sizeof(d), "%s %s nat: checksums valid recomputed from "
		 "scratch; state recorded", fam, tcp ? "tcp" : "udp");
	fg_begin(d);
	FG_EXPECT(fg_csum_ok(got, got_len), "bad checksum in the output");
	if (nocsum)
		FG_EXPECT(fg_pb_get_be16(got, pb.l4_off + 6) == 0,
			  "udp checksum 0 must stay 0");
	rc = fg_ct_get(tcp ? g.fd.ctsyn : g.fd.ct, &p, &v);
	FG_EXPECT(rc == 0, "no conntrack entry (%d)", rc);
	if (rc == 0) {
		/* NAT from the port recorded; a UDP way expires by UDP's
		 * timeout. */
		FG_EXPECT(v.flags == (FG_CT_F_NAT | (tcp ? 0 : FG_CT_F_UDP)),
			  "flags %#x", v.flags);
		FG_EXPECT(ntohs(v.nat_port) == nport, "nat_port %u, want %u",
			  ntohs(v.nat_port), nport);
		FG_EXPECT(v.backend_id == be, "backend %u", v.backend_id);
	}
	memset(&rk, 0, sizeof(rk));
	fg_pb_addr(s->be_addr[0], (__u8 *)rk.src);
	fg_pb_addr(snat, (__u8 *)rk.dst);
	rk.sport = htons(s->be_port[0]);
	rk.dport = htons(nport);
	rk.proto = p.proto;
	rk.family = fg_pb_fam(cli) == 4 ? FG_AF_INET : FG_AF_INET6;
	/* A TCP flow's reverse entry waits in fg_nat_syn for the end of
	 * the handshake; a UDP flow's goes straight to fg_nat. */
	rc = bpf_map_lookup_elem(tcp ? g.fd.natsyn : g.fd.nat, &rk, &rev) ?
	     -errno : 0;
	FG_EXPECT(rc == 0, "no %s reverse entry (%d)",
		  tcp ? "fg_nat_syn" : "fg_nat", rc);
	FG_EXPECT(bpf_map_lookup_elem(tcp ? g.fd.nat : g.fd.natsyn, &rk,
				      &rev2) && errno == ENOENT,
		  "reverse entry in %s too", tcp ? "fg_nat" : "fg_nat_syn");
	if (rc == 0) {
		struct fg_flow_key ck;

		fg_key_of(&p, &ck);
		FG_EXPECT(!memcmp(rev.client, ck.src, 16), "rev.client");
		FG_EXPECT(!memcmp(rev.vip, ck.dst, 16), "rev.vip");
		FG_EXPECT(rev.client_port == ck.sport, "rev.client_port");
		FG_EXPECT(rev.vip_port == ck.dport, "rev.vip_port");
		FG_EXPECT(rev.svc_id == s->id, "rev.svc_id");
	}
	fg_end();

	if (tcp) {
		/* A retransmitted SYN must reuse the port, or the backend's
		 * SYN-ACK and the client's ACK end up on two connections. */
		snprintf(d, sizeof(d), "%s tcp nat: retransmitted syn keeps "
			 "the nat port", fam);
		c.desc = d;
		c.x = fg_x_fwd(s, be, 0);
		fg_case_run(&c, NULL, NULL);
	}

	/* Reverse: backend:bport -> snat:nport becomes VIP:vport ->
	 * client:cport, to the client's MAC. */
	r = p;
	r.src = s->be_addr[0];
	r.dst = snat;
	r.sport = s->be_port[0];
	r.dport = nport;
	r.flags = tcp ? FG_TCP_SYN | FG_TCP_ACK : 0;
	r.seq = 90000;
	r.ack = 7001;
	r.mss = 0;
	r.plen = tcp ? 0 : 20;
	r.smac = fg_nh_mac;
	rx = r;
	rx.src = s->vip;
	rx.dst = cli;
	rx.sport = s->port;
	rx.dport = p.sport;
	rx.dmac = fg_cli_mac;
	rx.smac = fg_if_mac;
	snprintf(d, sizeof(d), "%s %s nat reply: rewritten to VIP -> client",
		 fam, tcp ? "tcp syn-ack" : "udp");
	fg_rewrite_case(&c, d, &r, in, &rx, exp, &pb);
	c.x.svc = s->id;
	c.x.svc_pkts = 1;
	fg_case_run(&c, got, &got_len);
	snprintf(d, sizeof(d), "%s %s nat reply: checksums valid from scratch",
		 fam, tcp ? "tcp" : "udp");
	fg_begin(d);
	FG_EXPECT(fg_csum_ok(got, got_len), "bad checksum in the output");
	fg_end();

	r.dport = (__u16)(nport ^ 0x4000);
	snprintf(d, sizeof(d), "%s reply to an unknown snat port passes", fam);
	fg_plain(d, &r, XDP_PASS, fg_x_drop(FG_DROP_NO_SERVICE));

	if (tcp) {
		p.flags = FG_TCP_ACK;
		p.mss = 0;
		p.seq = 7001;
		p.ack = 90001;
		f = p;
		f.src = snat;
		f.dst = s->be_addr[0];
		f.sport = nport;
		f.dport = s->be_port[0];
		f.dmac = fg_nh_mac;
		f.smac = fg_if_mac;
		snprintf(d, sizeof(d), "%s tcp nat ack: same port, promoted", fam);
		fg_rewrite_case(&c, d, &p, in, &f, exp, &pb);
		c.x = fg_x_fwd(s, be, 0);
		fg_case_run(&c, NULL, NULL);
		snprintf(d, sizeof(d), "%s tcp nat ack: entry in fg_ct", fam);
		fg_check_state(d, &p, s, 0, 1, be);
		snprintf(d, sizeof(d), "%s tcp nat ack: reverse entry moved "
			 "from fg_nat_syn to fg_nat", fam);
		fg_begin(d);
		FG_EXPECT(!bpf_map_lookup_elem(g.fd.nat, &rk, &rev2) &&
			  !memcmp(&rev2, &rev, sizeof(rev)),
			  "fg_nat entry missing or changed");
		FG_EXPECT(bpf_map_lookup_elem(g.fd.natsyn, &rk, &rev2) &&
			  errno == ENOENT, "still in fg_nat_syn");
		fg_end();

		/* The backend's next segment still finds its way back. */
		r.flags = FG_TCP_ACK;
		r.seq = 90001;
		rx.flags = r.flags;
		rx.seq = r.seq;
		r.dport = nport;
		snprintf(d, sizeof(d), "%s tcp nat reply after the handshake: "
			 "rewritten to VIP -> client", fam);
		fg_rewrite_case(&c, d, &r, in, &rx, exp, &pb);
		c.x.svc = s->id;
		c.x.svc_pkts = 1;
		fg_case_run(&c, NULL, NULL);
	}
}

/*
 * A SYN flood at a NAT service: four times fg_nat's size of spoofed SYNs,
 * each opening a flow and taking a source port, churn fg_nat_syn only;
 * every established flow's reverse entry stays in fg_nat.
 */
static void fg_nat_syn_flood(void)
{
	__u32 n = 4 * bpf_map__max_entries(g.skel->maps.fg_nat), i, tx = 0;
	struct fg_flow_key *keys = NULL, k, next, *prev = NULL;
	struct fg_nat_rev rev;
	size_t nkeys = 0, j, lost = 0;
	__u8 in[FG_PKT_MAX], out[FG_PKT_MAX];
	char src[INET_ADDRSTRLEN];
	struct fg_pb_flow p = { .dst = s_nat4.vip, .dport = 80,
			   .proto = FG_IPPROTO_TCP, .flags = FG_TCP_SYN };
	struct fg_pb pb;
	__u32 len, out_len, verdict;

	while (!bpf_map_get_next_key(g.fd.nat, prev, &next)) {
		keys = realloc(keys, (nkeys + 1) * sizeof(*keys));
		FG_REQUIRE(keys);
		keys[nkeys++] = next;
		k = next;
		prev = &k;
	}
	for (i = 0; i < n; i++) {
		__be32 a = htonl(0xc6128000U | (i & 0x7fff)); /* 198.18.128/17 */

		inet_ntop(AF_INET, &a, src, sizeof(src));
		p.src = src;
		p.sport = (__u16)(1024 + i / 0x8000);
		len = (__u32)fg_build(&p, in, &pb);
		FG_REQUIRE(!fg_run(in, len, out, &out_len, &verdict));
		tx += verdict == XDP_TX;
	}
	for (j = 0; j < nkeys; j++)
		lost += bpf_map_lookup_elem(g.fd.nat, &keys[j], &rev) != 0;
	fg_begin("nat syn flood: fg_nat_syn churned, established reverse "
		 "entries all kept");
	FG_EXPECT(nkeys > 0, "no established NAT flow to watch");
	FG_EXPECT(tx == n, "%u of %u flood SYNs forwarded", tx, n);
	FG_EXPECT(lost == 0, "%zu of %zu fg_nat entries evicted", lost, nkeys);
	fg_end();
	free(keys);
}

static void fg_t_nat(void)
{
	struct fg_pb_flow p = { .src = "198.18.0.100", .dst = s_nat4.vip,
			   .sport = 41999, .dport = 80,
			   .proto = FG_IPPROTO_TCP, .flags = FG_TCP_ACK };

	fg_nat_flow("ipv4", &s_nat4, FG_T_CLI4, 41000, 1, 0);
	fg_nat_flow("ipv4", &s_nat4u, FG_T_CLI4, 41000, 0, 0);
	fg_nat_flow("ipv4", &s_nat4u, FG_T_CLI4, 41001, 0, 1);
	fg_nat_flow("ipv6", &s_nat6, FG_T_CLI6, 41000, 1, 0);
	fg_nat_flow("ipv6", &s_nat6u, FG_T_CLI6, 41000, 0, 0);
	/* A mid-flow segment without NAT state has no source port to use. */
	fg_plain("ipv4 nat: ack without state dropped (flood guard)", &p,
		 XDP_DROP, fg_x_drop(FG_DROP_FLOOD_GUARD));
	fg_nat_syn_flood();
}

/* ----------------------------------------------------------------- FIB */

static void fg_t_fib(void)
{
	struct fg_pb_flow p = { .src = "198.18.0.100", .dst = s_noneigh4.vip,
			   .sport = 42000, .dport = 80,
			   .proto = FG_IPPROTO_TCP, .flags = FG_TCP_SYN };

	/* No neighbour: dropped and counted (passing the rewritten packet,
	 * whose source is this host's, would make a martian); the flow was
	 * admitted first. */
	{
		struct fg_xctr x = fg_x_fwd(&s_noneigh4, s_noneigh4.be_id[0], 1);

		x.drop[FG_DROP_NO_NEIGH] = 1;
		fg_plain("ipv4 next hop unresolved: XDP_DROP, no_neigh", &p,
			 XDP_DROP, x);
	}
	p.src = "2001:db8::100";
	p.dst = s_noneigh6.vip;
	{
		struct fg_xctr x = fg_x_fwd(&s_noneigh6, s_noneigh6.be_id[0], 1);

		x.drop[FG_DROP_NO_NEIGH] = 1;
		fg_plain("ipv6 next hop unresolved: XDP_DROP, no_neigh", &p,
			 XDP_DROP, x);
	}

	/* No route: dropped and counted; the flow was admitted first. */
	p.src = "198.18.0.100";
	p.dst = s_noroute4.vip;
	{
		struct fg_xctr x = fg_x_fwd(&s_noroute4, s_noroute4.be_id[0], 1);

		x.drop[FG_DROP_NO_ROUTE] = 1;
		fg_plain("ipv4 backend without a route: XDP_DROP, no_route", &p,
			 XDP_DROP, x);
	}
	p.src = "2001:db8::100";
	p.dst = s_noroute6.vip;
	{
		struct fg_xctr x = fg_x_fwd(&s_noroute6, s_noroute6.be_id[0], 1);

		x.drop[FG_DROP_NO_ROUTE] = 1;
		fg_plain("ipv6 backend without a route: XDP_DROP, no_route", &p,
			 XDP_DROP, x);
	}
}

/*
 * fg_too_big_case - a client's packet ps (plen bytes of payload) to DSR
 * service s that the encapsulation makes too big for fgx0's 1500-byte
 * MTU: answered to the client (fg_cli_mac, out of fgx0) from the VIP with
 * ICMP "fragmentation needed" / ICMPv6 "packet too big" reporting
 * 1500 - outer, quoting the packet's first 256 bytes. The packet is
 * counted first, as any packet sent on to a backend (an ACK: no new
 * flow).
 */
static void fg_too_big_case(const char *desc, struct fg_tsvc *s,
			    const struct fg_pb_flow *ps, __u32 outer)
{
	__u8 in[FG_PKT_MAX], exp[FG_PKT_MAX];
	struct fg_pb pb, eb;
	struct fg_case c = { .desc = desc };
	__u32 be = fg_ring_pick(s, 0, ps), mtu = 1500 - outer, quote;
	int v4 = fg_pb_fam(ps->src) == 4, len;

	FG_REQUIRE(be != FG_NO_BACKEND);
	c.in = in;
	c.in_len = (__u32)fg_build(ps, in, &pb);
	quote = c.in_len - 14 < 256 ? c.in_len - 14 : 256;
	fg_pb_init(&eb, exp, FG_PKT_MAX);
	fg_pb_eth(&eb, fg_cli_mac, fg_if_mac);
	if (v4) {
		struct fg_pb_ip4 ip = { .src = fg_pb_ip4h(ps->dst),
					.dst = fg_pb_ip4h(ps->src) };

		fg_pb_ip4(&eb, &ip);
		fg_pb_icmp(&eb, 3, 4, 0, (uint16_t)mtu);
	} else {
		struct fg_pb_ip6 ip = { 0 };

		fg_pb_addr(ps->dst, ip.src);
		fg_pb_addr(ps->src, ip.dst);
		fg_pb_ip6(&eb, &ip);
		fg_pb_icmp(&eb, 2, 0, (uint16_t)(mtu >> 16), (uint16_t)mtu);
	}
	fg_pb_bytes(&eb, in + 14, quote);
	len = fg_pb_finish(&eb);
	FG_REQUIRE(len > 0);
	c.verdict = XDP_TX;
	c.out = exp;
	c.out_len = (__u32)len;
	c.x = fg_x_fwd(s, be, 0); /* an ACK: counted, no new flow */
	fg_case_run(&c, NULL, NULL);
}

static void fg_t_too_big(void)
{
	struct fg_pb_flow p = { .src = FG_T_CLI4, .dst = s_tcp4.vip,
			   .sport = 44100, .dport = 80,
			   .proto = FG_IPPROTO_TCP, .flags = FG_TCP_ACK,
			   .seq = 5000, .ack = 6000, .plen = 1460,
			   .frag = 0x4000 };

	/* 20 + 20 + 1460 = 1500 bytes, 1520 in IPIP. */
	fg_too_big_case("ipv4 dsr, 1500-byte DF packet, 1520 encapsulated: "
			"ICMP fragmentation needed (mtu 1480) to the client",
			&s_tcp4, &p, 20);
	/* Without DF the sender lets routers fragment, which XDP cannot:
	 * dropped as before (no_route), after admission. */
	p.sport = 44101;
	p.frag = 0;
	{
		struct fg_xctr x = fg_x_fwd(&s_tcp4, fg_ring_pick(&s_tcp4, 0, &p), 0);

		x.drop[FG_DROP_NO_ROUTE] = 1;
		fg_plain("ipv4 dsr, 1500-byte packet without DF: XDP_DROP, "
			 "no_route", &p, XDP_DROP, x);
	}
	/* One byte less fits: encapsulated as usual. */
	p.sport = 44102;
	p.frag = 0x4000;
	p.plen = 1440;
	fg_dsr("ipv4 dsr, 1480-byte packet, 1500 encapsulated: forwarded",
	       &s_tcp4, 0, &p, 0, 0);

	p.src = FG_T_CLI6;
	p.dst = s_tcp6.vip;
	p.sport = 44103;
	p.plen = 1440;
	p.frag = 0;
	/* 40 + 20 + 1440 = 1500 bytes, 1540 in ip6ip6. */
	fg_too_big_case("ipv6 dsr, 1500-byte packet, 1540 encapsulated: "
			"ICMPv6 packet too big (mtu 1460) to the client",
			&s_tcp6, &p, 40);
}

/* --------------------------------------------------------- flood guard */

static void fg_t_flood(void)
{
	struct fg_pb_flow p = { .src = "198.18.0.100", .dst = s_empty.vip,
			   .sport = 43000, .dport = 80,
			   .proto = FG_IPPROTO_TCP, .flags = FG_TCP_SYN };
	long nsyn, nct;

	fg_plain("syn to a service without backends: flood_guard drop", &p,
		 XDP_DROP, fg_x_drop(FG_DROP_FLOOD_GUARD));
	fg_check_state("refused syn created no conntrack entry", &p, &s_empty,
		       0, 0, 0);
	p.flags = FG_TCP_ACK;
	fg_plain("ack to a service without backends: no_backend drop", &p,
		 XDP_DROP, fg_x_drop(FG_DROP_NO_BACKEND));

	p.dst = s_tcp4.vip;
	p.seq = 123;
	p.ack = 456;
	nsyn = fg_ct_count(g.fd.ctsyn);
	nct = fg_ct_count(g.fd.ct);
	fg_dsr("forged ack without state: forwarded per ring", &s_tcp4, 0, &p,
	       0, 0);
	fg_check_state("forged ack created no fg_ct/fg_ct_syn entry", &p,
		       &s_tcp4, 0, 0, 0);
	fg_begin("forged ack: no entry in use anywhere moved");
	FG_EXPECT(fg_ct_count(g.fd.ctsyn) == nsyn && fg_ct_count(g.fd.ct) == nct,
		  "fg_ct_syn %ld -> %ld, fg_ct %ld -> %ld", nsyn,
		  fg_ct_count(g.fd.ctsyn), nct, fg_ct_count(g.fd.ct));
	fg_end();
	p.flags = FG_TCP_SYN | FG_TCP_ACK;
	p.sport = 43001;
	fg_dsr("syn-ack to a VIP: stateless, per ring", &s_tcp4, 0, &p, 0, 0);
	fg_check_state("syn-ack created no entry", &p, &s_tcp4, 0, 0, 0);
}

/* ----------------------------------------------------------- fragments */

static void fg_t_frag(void)
{
	struct fg_pb_flow p = { .src = "198.18.0.100", .dst = s_tcp4.vip,
			   .sport = 44000, .dport = 80, .frag = 0x2000,
			   .proto = FG_IPPROTO_TCP, .flags = FG_TCP_ACK,
			   .plen = 64 };

	fg_plain("ipv4 first fragment to a VIP dropped", &p, XDP_DROP,
		 fg_x_drop(FG_DROP_FRAGMENT));
	p.frag = 0x2000 | 185;
	p.raw = 1;
	p.dst = s_wild.vip;
	fg_plain("ipv4 later fragment to a port-0 VIP dropped", &p, XDP_DROP,
		 fg_x_drop(FG_DROP_FRAGMENT));
	p = (struct fg_pb_flow){ .src = "2001:db8::100", .dst = s_tcp6.vip,
			    .sport = 44000, .dport = 80, .frag6 = 1,
			    .frag = 1, .proto = FG_IPPROTO_TCP,
			    .flags = FG_TCP_ACK, .plen = 64 };
	fg_plain("ipv6 first fragment to a VIP dropped", &p, XDP_DROP,
		 fg_x_drop(FG_DROP_FRAGMENT));
	p.dst = "2001:db8::200";
	fg_plain("ipv6 fragment to a non-VIP passes", &p, XDP_PASS,
		 fg_x_drop(FG_DROP_NO_SERVICE));
	p = (struct fg_pb_flow){ .src = "2001:db8::100", .dst = s_udp6.vip,
			    .sport = 5301, .dport = 53, .frag6 = 1,
			    .frag = 0, .proto = FG_IPPROTO_UDP, .plen = 10 };
	fg_dsr("ipv6 atomic fragment (offset 0, no M) is no fragment", &s_udp6,
	       0, &p, 1, 0);
}

/* ----------------------------------------------------------- malformed */

/* One fixture of frame in (len bytes): the verdict, the output (unless
 * XDP_DROP) the input unchanged, and drop counter `reason` moved by one. */
static void fg_frame_case(const char *desc, const __u8 *in, __u32 len,
			  __u32 verdict, __u32 reason)
{
	struct fg_case c = { .desc = desc, .in = in, .in_len = len,
			     .verdict = verdict, .x = fg_x_drop(reason) };

	fg_case_run(&c, NULL, NULL);
}

/*
 * Malformed frames are dropped when they are to a VIP. To no VIP, a frame
 * is the kernel's traffic, handed to it as it came once its IP header is
 * there to name the address (fg_dst_not_ours); cut inside that header the
 * address is out of reach, and the parse judges the frame malformed.
 */
static void fg_t_malformed(void)
{
	struct fg_pb_flow p4 = { .src = "198.18.0.100", .dst = s_tcp4.vip,
			    .sport = 45000, .dport = 80, .mss = 1,
			    .proto = FG_IPPROTO_TCP, .flags = FG_TCP_SYN };
	struct fg_pb_flow p6 = p4, o4, o6;
	const struct fg_pb_flow *ps;
	__u8 in[FG_PKT_MAX];
	struct fg_pb pb;
	char d[128];
	__u32 len, l, whole;
	int v, v6, other, ok;

	p6.src = "2001:db8::100";
	p6.dst = s_tcp6.vip;
	o4 = p4;
	o4.dst = "198.18.0.200";
	o6 = p6;
	o6.dst = "2001:db8::200";
	/* v: bit 0 IPv6, bit 1 to a non-VIP. */
	for (v = 0; v < 4; v++) {
		v6 = v & 1;
		other = v >> 1;
		ps = v6 ? (other ? &o6 : &p6) : (other ? &o4 : &p4);
		len = (__u32)fg_build(ps, in, &pb);
		whole = pb.l3_off + (v6 ? 40U : 20U);
		/* BPF_PROG_TEST_RUN refuses frames under ETH_HLEN itself. */
		for (l = 14; l < len; l++) {
			ok = other && l >= whole;
			snprintf(d, sizeof(d), "%s syn%s cut to %u of %u bytes: %s",
				 v6 ? "ipv6" : "ipv4", other ? " to a non-VIP" : "",
				 l, len, ok ? "passes untouched" :
				 "malformed, never TX");
			fg_frame_case(d, in, l, ok ? XDP_PASS : XDP_DROP,
				      ok ? FG_DROP_NO_SERVICE : FG_DROP_MALFORMED);
		}
	}

	/* Header fields that lie, once to a VIP and once to a non-VIP. */
	{
		static const struct {
			const char *desc;
			int v6;
			__u32 off;     /* from the L3 header */
			__u8 val;
		} bad[] = {
			{ "ipv4 ihl 4", 0, 0, 0x44 },
			{ "ipv4 version 5", 0, 0, 0x55 },
			{ "ipv4 total length beyond the frame", 0, 2, 0xff },
			{ "ipv4 total length below the header", 0, 3, 19 },
			{ "ipv4 tcp doff 4", 0, 20 + 12, 0x40 },
			{ "ipv4 tcp doff beyond the packet", 0, 20 + 12, 0xf0 },
			{ "ipv6 version 4", 1, 0, 0x40 },
			{ "ipv6 payload length beyond the frame", 1, 4, 0x7f },
			{ "ipv6 tcp doff 3", 1, 40 + 12, 0x30 },
		};
		unsigned int i, b;

		for (i = 0; i < 2 * FG_ARRAY_SIZE(bad); i++) {
			b = i / 2;
			other = i & 1;
			ps = bad[b].v6 ? (other ? &o6 : &p6) : (other ? &o4 : &p4);
			len = (__u32)fg_build(ps, in, &pb);
			in[pb.l3_off + bad[b].off] = bad[b].val;
			snprintf(d, sizeof(d), "%s: %s", bad[b].desc,
				 other ? "to a non-VIP, passes untouched" :
				 "malformed drop");
			fg_frame_case(d, in, len, other ? XDP_PASS : XDP_DROP,
				      other ? FG_DROP_NO_SERVICE :
				      FG_DROP_MALFORMED);
		}
	}
	{
		struct fg_pb_flow u = { .src = "198.18.0.100", .dst = s_udp4.vip,
				   .sport = 5300, .dport = 53,
				   .proto = FG_IPPROTO_UDP, .plen = 8 };

		len = (__u32)fg_build(&u, in, &pb);
		fg_pb_put_be16(in, pb.l4_off + 4, 7);
		fg_frame_case("ipv4 udp length 7: malformed drop", in, len,
			      XDP_DROP, FG_DROP_MALFORMED);
	}
	{
		/* Three VLAN tags: more than the parser skips. */
		fg_pb_init(&pb, in, FG_PKT_MAX);
		fg_pb_eth(&pb, fg_if_mac, fg_peer_mac);
		fg_pb_vlan(&pb, 0x88a8, 1);
		fg_pb_vlan(&pb, 0x8100, 2);
		fg_pb_vlan(&pb, 0x8100, 3);
		{
			struct fg_pb_ip4 ip = { .src = fg_pb_ip4h("198.18.0.100"),
						.dst = fg_pb_ip4h(s_tcp4.vip) };
			struct fg_pb_tcp t = { .sport = 1, .dport = 80,
					       .flags = FG_TCP_SYN };

			fg_pb_ip4(&pb, &ip);
			fg_pb_tcp(&pb, &t);
		}
		fg_frame_case("three vlan tags: malformed drop", in,
			      (__u32)fg_pb_finish(&pb), XDP_DROP,
			      FG_DROP_MALFORMED);
	}
}

/* -------------------------------------------------------------- limits */

/*
 * fg_lim_pkt - one packet of a limit burst: admitted (encapsulated to the
 * backend the ring picks, XDP_TX) or refused (XDP_DROP, drops.limited).
 * A dry-run refusal is counted as limited and still forwarded. lid names
 * the limit whose passed/limited counter moves (0: none may).
 */
static void fg_lim_pkt(const char *desc, struct fg_tsvc *s,
		       const struct fg_pb_flow *ps, int admitted, __u32 lid,
		       int dry_run, int new_flow)
{
	struct fg_xctr x;
	__u8 in[FG_PKT_MAX], exp[FG_PKT_MAX];
	struct fg_pb pb;
	struct fg_case c = { .desc = desc };
	__u32 be = fg_ring_pick(s, g.cfg.gen, ps);

	c.in = in;
	c.in_len = (__u32)fg_build(ps, in, &pb);
	if (admitted || dry_run) {
		c.verdict = XDP_TX;
		c.out = exp;
		c.out_len = fg_exp_encap(exp, in, &pb, s, be, fg_hash_of(s, ps));
		x = fg_x_fwd(s, be, new_flow);
	} else {
		c.verdict = XDP_DROP;
		x = fg_x_drop(FG_DROP_LIMITED);
	}
	if (lid) {
		x.lim[0].id = lid;
		x.lim[0].passed = admitted ? 1 : 0;
		x.lim[0].limited = admitted ? 0 : 1;
	}
	c.x = x;
	fg_case_run(&c, NULL, NULL);
}

/* Write bucket state st for (limit 1, src) into entry `way` of its set. */
static void fg_bucket_at(__u32 set, __u32 way, const char *src, __u64 tat)
{
	struct fg_bucket_entry e = { 0 };
	__u32 idx = (set + way) & (FG_T_BUCKET_SLOTS - 1);

	fg_pb_addr(src, (__u8 *)e.key.addr);
	e.key.family = FG_AF_INET;
	e.key.limit_id = 1;
	e.st.tat = tat;
	FG_REQUIRE(!bpf_map_update_elem(g.fd.bkt, &idx, &e, BPF_ANY));
}

/* The way of set that holds (limit 1, src), or -1. */
static int fg_bucket_way(__u32 set, const char *src)
{
	struct fg_bucket_entry e;
	__u8 a[16] = { 0 };
	__u32 w, idx;

	fg_pb_addr(src, a);
	for (w = 0; w < FG_CT_WAYS; w++) {
		idx = (set + w) & (FG_T_BUCKET_SLOTS - 1);
		FG_REQUIRE(!bpf_map_lookup_elem(g.fd.bkt, &idx, &e));
		if (e.key.limit_id == 1 && e.key.family == FG_AF_INET &&
		    !memcmp(e.key.addr, a, 16))
			return (int)w;
	}
	return -1;
}

/*
 * fg_t_bucket_sets - fg_buckets' set rules (fg_tables.h), on limit 1
 * (pps, key src_ip, burst 3): a new source takes the way whose bucket has
 * refilled, else the one nearest to refilling; the others stay.
 */
static void fg_t_bucket_sets(void)
{
	static char src[6][INET_ADDRSTRLEN];
	struct fg_bucket_key k;
	struct fg_pb_flow p = { .dst = s_l_pps.vip, .dport = 80, .sport = 3000,
			   .proto = FG_IPPROTO_TCP, .flags = FG_TCP_ACK };
	struct timespec ts;
	__u32 set = 0, n = 0, i, first = 0;
	__u64 now;
	int w;

	/* Six sources whose buckets share one set. */
	for (i = 1; i < 65536 && n < 6; i++) {
		__be32 a = htonl(0xc6120000U | 0x9000U | (i & 0xfff)) ^
			   htonl((i >> 12) << 16);
		__u32 s;

		memset(&k, 0, sizeof(k));
		k.addr[0] = a;
		k.family = FG_AF_INET;
		k.limit_id = 1;
		s = (__u32)fg_bucket_hash(&k, &fg_t_seed) & (FG_T_BUCKET_SLOTS - 1);
		if (!n)
			first = s;
		if (s != first)
			continue;
		set = s;
		inet_ntop(AF_INET, &a, src[n++], sizeof(src[0]));
	}
	FG_REQUIRE(n == 6);
	FG_REQUIRE(!clock_gettime(CLOCK_MONOTONIC, &ts));
	now = (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec;

	/* Ways: 0 and 1 refill in 10 s, 2 refilled a second ago, 3 in 5 s. */
	fg_bucket_at(set, 0, src[0], now + 10000000000ULL);
	fg_bucket_at(set, 1, src[1], now + 10000000000ULL);
	fg_bucket_at(set, 2, src[2], now - 1000000000ULL);
	fg_bucket_at(set, 3, src[3], now + 5000000000ULL);
	p.src = src[0];
	fg_lim_pkt("bucket sets: a source whose bucket is recorded empty is "
		   "limited", &s_l_pps, &p, 0, 1, 0, 0);
	p.src = src[4];
	fg_lim_pkt("bucket sets: a new source is admitted", &s_l_pps, &p, 1, 1,
		   0, 0);
	fg_begin("bucket sets: the new source took the refilled way, the "
		 "others stayed");
	w = fg_bucket_way(set, src[4]);
	FG_EXPECT(w == 2, "new source in way %d, want 2", w);
	FG_EXPECT(fg_bucket_way(set, src[0]) == 0 &&
		  fg_bucket_way(set, src[1]) == 1 &&
		  fg_bucket_way(set, src[3]) == 3, "a live bucket moved or went");
	fg_end();
	/* Way 2 now refills 1 s from now (one packet of burst 3 at 1/s):
	 * make way 3 the nearest, 0.5 s off. */
	FG_REQUIRE(!clock_gettime(CLOCK_MONOTONIC, &ts));
	now = (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec;
	fg_bucket_at(set, 3, src[3], now + 500000000ULL);
	p.src = src[5];
	fg_lim_pkt("bucket sets: another new source in a full set is admitted",
		   &s_l_pps, &p, 1, 1, 0, 0);
	fg_begin("bucket sets: in a full set it takes the way nearest to "
		 "refilled");
	w = fg_bucket_way(set, src[5]);
	FG_EXPECT(w == 3, "second new source in way %d, want 3", w);
	FG_EXPECT(fg_bucket_way(set, src[3]) < 0, "way 3's bucket still there");
	FG_EXPECT(fg_bucket_way(set, src[4]) == 2 &&
		  fg_bucket_way(set, src[0]) == 0, "other buckets moved");
	fg_end();
}

static void fg_t_limits(void)
{
	struct fg_limit l;
	struct fg_pb_flow p;
	char d[160];
	__u32 i, big, small;

	/* pps, key src_ip: burst 3 per source address. */
	memset(&l, 0, sizeof(l));
	l.key = FG_LKEY_SRC_IP;
	l.unit = FG_LUNIT_PPS;
	fg_limit_set(&l, 1, 1, 3);
	p = (struct fg_pb_flow){ .src = "198.18.0.110", .dst = s_l_pps.vip,
			    .dport = 80, .proto = FG_IPPROTO_TCP,
			    .flags = FG_TCP_ACK };
	for (i = 0; i < 5; i++) {
		p.sport = (__u16)(1000 + i);
		snprintf(d, sizeof(d), "pps src_ip burst 3: packet %u of "
			 "198.18.0.110 %s", i + 1, i < 3 ? "admitted" : "dropped");
		fg_lim_pkt(d, &s_l_pps, &p, i < 3, 1, 0, 0);
	}
	p.src = "198.18.0.111";
	for (i = 0; i < 4; i++) {
		p.sport = (__u16)(1000 + i);
		snprintf(d, sizeof(d), "pps src_ip burst 3: other source, "
			 "packet %u %s", i + 1, i < 3 ? "admitted" : "dropped");
		fg_lim_pkt(d, &s_l_pps, &p, i < 3, 1, 0, 0);
	}

	/* bps, key service: burst = two big frames and one small one. */
	p = (struct fg_pb_flow){ .src = "198.18.0.112", .dst = s_l_bps.vip,
			    .sport = 2000, .dport = 80,
			    .proto = FG_IPPROTO_TCP, .flags = FG_TCP_ACK,
			    .plen = 100 };
	big = (14 + 20 + 20 + 100) * 8;
	small = (14 + 20 + 20) * 8;
	memset(&l, 0, sizeof(l));
	l.key = FG_LKEY_SERVICE;
	l.unit = FG_LUNIT_BPS;
	fg_limit_set(&l, 2, 1, 2 * big + small);
	fg_lim_pkt("bps: 1232-bit frame 1 admitted", &s_l_bps, &p, 1, 2, 0, 0);
	fg_lim_pkt("bps: 1232-bit frame 2 admitted", &s_l_bps, &p, 1, 2, 0, 0);
	fg_lim_pkt("bps: 1232-bit frame 3 over the burst, dropped", &s_l_bps,
		   &p, 0, 2, 0, 0);
	p.plen = 0;
	fg_lim_pkt("bps: 432-bit frame fits the rest, admitted", &s_l_bps, &p,
		   1, 2, 0, 0);
	fg_lim_pkt("bps: bucket empty, 432-bit frame dropped", &s_l_bps, &p, 0,
		   2, 0, 0);

	/* cps, key service: SYNs only. */
	memset(&l, 0, sizeof(l));
	l.key = FG_LKEY_SERVICE;
	l.unit = FG_LUNIT_CPS;
	fg_limit_set(&l, 3, 1, 2);
	p = (struct fg_pb_flow){ .src = "198.18.0.113", .dst = s_l_cps.vip,
			    .dport = 80, .proto = FG_IPPROTO_TCP };
	for (i = 0; i < 4; i++) {
		p.sport = (__u16)(3000 + i);
		p.flags = FG_TCP_SYN;
		snprintf(d, sizeof(d), "cps burst 2: syn %u %s", i + 1,
			 i < 2 ? "admitted" : "dropped");
		fg_lim_pkt(d, &s_l_cps, &p, i < 2, 3, 0, i < 2);
		p.flags = FG_TCP_ACK;
		p.sport = (__u16)(3100 + i);
		snprintf(d, sizeof(d), "cps burst 2: ack %u not counted, "
			 "admitted", i + 1);
		fg_lim_pkt(d, &s_l_cps, &p, 1, 0, 0, 0);
	}

	/* src_prefix/24 and /64: neighbours share a bucket. */
	memset(&l, 0, sizeof(l));
	l.key = FG_LKEY_SRC_PREFIX;
	l.prefix_len = 24;
	l.unit = FG_LUNIT_PPS;
	fg_limit_set(&l, 4, 1, 2);
	p = (struct fg_pb_flow){ .src = "198.18.4.1", .dst = s_l_pfx.vip,
			    .sport = 4000, .dport = 80,
			    .proto = FG_IPPROTO_TCP, .flags = FG_TCP_ACK };
	fg_lim_pkt("src_prefix/24: 198.18.4.1 admitted", &s_l_pfx, &p, 1, 4, 0, 0);
	p.src = "198.18.4.2";
	fg_lim_pkt("src_prefix/24: 198.18.4.2 admitted (same /24)", &s_l_pfx,
		   &p, 1, 4, 0, 0);
	p.src = "198.18.4.200";
	fg_lim_pkt("src_prefix/24: 198.18.4.200 dropped (same /24)", &s_l_pfx,
		   &p, 0, 4, 0, 0);
	p.src = "198.18.5.1";
	fg_lim_pkt("src_prefix/24: 198.18.5.1 admitted (other /24)", &s_l_pfx,
		   &p, 1, 4, 0, 0);
	l.prefix_len = 64;
	fg_limit_set(&l, 5, 1, 2);
	p = (struct fg_pb_flow){ .src = "2001:db8:4::1", .dst = s_l_pfx6.vip,
			    .sport = 4000, .dport = 80,
			    .proto = FG_IPPROTO_TCP, .flags = FG_TCP_ACK };
	fg_lim_pkt("src_prefix/64: 2001:db8:4::1 admitted", &s_l_pfx6, &p, 1,
		   5, 0, 0);
	p.src = "2001:db8:4::ffff:1";
	fg_lim_pkt("src_prefix/64: 2001:db8:4::ffff:1 admitted (same /64)",
		   &s_l_pfx6, &p, 1, 5, 0, 0);
	p.src = "2001:db8:4::2";
	fg_lim_pkt("src_prefix/64: 2001:db8:4::2 dropped (same /64)",
		   &s_l_pfx6, &p, 0, 5, 0, 0);
	p.src = "2001:db8:4:1::1";
	fg_lim_pkt("src_prefix/64: 2001:db8:4:1::1 admitted (other /64)",
		   &s_l_pfx6, &p, 1, 5, 0, 0);

	/* flow: every 5-tuple its own bucket (UDP: state made on pass). */
	memset(&l, 0, sizeof(l));
	l.key = FG_LKEY_FLOW;
	l.unit = FG_LUNIT_PPS;
	fg_limit_set(&l, 6, 1, 1);
	p = (struct fg_pb_flow){ .src = "198.18.0.114", .dst = s_l_flow.vip,
			    .sport = 6000, .dport = 53,
			    .proto = FG_IPPROTO_UDP, .plen = 8 };
	fg_lim_pkt("flow key burst 1: flow A admitted", &s_l_flow, &p, 1, 6, 0, 1);
	fg_lim_pkt("flow key burst 1: flow A again dropped", &s_l_flow, &p, 0,
		   6, 0, 0);
	p.sport = 6001;
	fg_lim_pkt("flow key burst 1: flow B (other port) admitted", &s_l_flow,
		   &p, 1, 6, 0, 1);

	/* service: one bucket for every client. */
	memset(&l, 0, sizeof(l));
	l.key = FG_LKEY_SERVICE;
	l.unit = FG_LUNIT_PPS;
	fg_limit_set(&l, 7, 1, 2);
	p = (struct fg_pb_flow){ .src = "198.18.0.115", .dst = s_l_svc.vip,
			    .sport = 7000, .dport = 80,
			    .proto = FG_IPPROTO_TCP, .flags = FG_TCP_ACK };
	fg_lim_pkt("service key burst 2: client A admitted", &s_l_svc, &p, 1,
		   7, 0, 0);
	p.src = "198.18.0.116";
	fg_lim_pkt("service key burst 2: client B admitted", &s_l_svc, &p, 1,
		   7, 0, 0);
	p.src = "198.18.9.117";
	fg_lim_pkt("service key burst 2: client C dropped", &s_l_svc, &p, 0,
		   7, 0, 0);

	/* dry run: counted as limited, still forwarded. */
	memset(&l, 0, sizeof(l));
	l.key = FG_LKEY_SERVICE;
	l.unit = FG_LUNIT_PPS;
	l.flags = FG_LIM_F_DRY_RUN;
	fg_limit_set(&l, 10, 1, 1);
	p = (struct fg_pb_flow){ .src = "198.18.0.118", .dst = s_l_dry.vip,
			    .sport = 8000, .dport = 80,
			    .proto = FG_IPPROTO_TCP, .flags = FG_TCP_ACK };
	fg_lim_pkt("dry run burst 1: packet 1 admitted", &s_l_dry, &p, 1, 10,
		   1, 0);
	fg_lim_pkt("dry run: packet 2 counted limited, still forwarded",
		   &s_l_dry, &p, 0, 10, 1, 0);

	/* Two limits on a service: both charge, the first refusal wins. */
	memset(&l, 0, sizeof(l));
	l.key = FG_LKEY_SERVICE;
	l.unit = FG_LUNIT_PPS;
	fg_limit_set(&l, 13, 1, 5);
	fg_limit_set(&l, 14, 1, 2);
	p = (struct fg_pb_flow){ .src = "198.18.0.119", .dst = s_l_two.vip,
			    .sport = 9000, .dport = 80,
			    .proto = FG_IPPROTO_TCP, .flags = FG_TCP_ACK };
	for (i = 0; i < 3; i++) {
		struct fg_xctr x;
		__u8 in[FG_PKT_MAX], exp[FG_PKT_MAX];
		struct fg_pb pb;
		struct fg_case c = { .in = in };

		snprintf(d, sizeof(d), "two limits (burst 5, burst 2): packet "
			 "%u %s", i + 1, i < 2 ? "admitted" : "dropped by the second");
		c.desc = d;
		c.in_len = (__u32)fg_build(&p, in, &pb);
		if (i < 2) {
			c.verdict = XDP_TX;
			c.out = exp;
			c.out_len = fg_exp_encap(exp, in, &pb, &s_l_two,
						 s_l_two.be_id[0],
						 fg_hash_of(&s_l_two, &p));
			x = fg_x_fwd(&s_l_two, s_l_two.be_id[0], 0);
		} else {
			c.verdict = XDP_DROP;
			x = fg_x_drop(FG_DROP_LIMITED);
		}
		x.lim[0] = (struct fg_xlim){ 13, 1, 0 };
		x.lim[1] = (struct fg_xlim){ 14, i < 2, i >= 2 };
		c.x = x;
		fg_case_run(&c, NULL, NULL);
	}

	/* A global limit with a match: only matching packets count. */
	memset(&l, 0, sizeof(l));
	l.key = FG_LKEY_SRC_IP;
	l.unit = FG_LUNIT_PPS;
	l.flags = FG_LIM_F_MATCH_SRC;
	l.match_family = FG_AF_INET;
	l.match_src_len = 24;
	l.match_src[0] = htonl(fg_pb_ip4h("198.18.7.0"));
	l.match_proto = FG_IPPROTO_TCP;
	l.match_dport = htons(80);
	fg_limit_set(&l, 11, 1, 1);
	g.cfg.nglobal_limits = 1;
	g.cfg.global_limits[0] = 11;
	fg_gen_set(g.cfg.gen);
	p = (struct fg_pb_flow){ .src = "198.18.7.5", .dst = s_tcp4.vip,
			    .sport = 11000, .dport = 80,
			    .proto = FG_IPPROTO_TCP, .flags = FG_TCP_ACK };
	fg_lim_pkt("global limit, matching source: packet 1 admitted", &s_tcp4,
		   &p, 1, 11, 0, 0);
	fg_lim_pkt("global limit, matching source: packet 2 dropped", &s_tcp4,
		   &p, 0, 11, 0, 0);
	p.src = "198.18.8.5";
	fg_dsr("global limit: source outside match.src not counted", &s_tcp4,
	       0, &p, 0, 0);
	fg_dsr("global limit: second packet outside match.src still passes",
	       &s_tcp4, 0, &p, 0, 0);
	p.src = "198.18.7.5";
	p.dport = 22;
	p.dst = s_tcp4x.vip;
	fg_dsr("global limit: other dst_port not counted", &s_tcp4x, 0, &p, 0,
	       0);
	g.cfg.nglobal_limits = 0;
	fg_gen_set(g.cfg.gen);
}

/* Action reset: the refused segment is answered with a RST. */
static void fg_rst_case(const char *desc, const struct fg_pb_flow *ps)
{
	__u8 in[FG_PKT_MAX], exp[FG_PKT_MAX], got[FG_PKT_MAX];
	struct fg_pb pb;
	struct fg_case c = { .desc = desc, .in = in, .verdict = XDP_TX };
	struct fg_xctr x = fg_x_drop(FG_DROP_LIMITED);
	__u32 got_len = 0;
	char d[200];

	c.in_len = (__u32)fg_build(ps, in, &pb);
	c.out = exp;
	c.out_len = fg_exp_rst(exp, ps);
	x.lim[0].id = fg_pb_fam(ps->src) == 4 ? 8 : 9;
	x.lim[0].limited = 1;
	c.x = x;
	fg_case_run(&c, got, &got_len);
	snprintf(d, sizeof(d), "%s: checksums valid from scratch", desc);
	fg_begin(d);
	FG_EXPECT(fg_csum_ok(got, got_len), "bad checksum in the RST");
	fg_end();
}

static void fg_t_reset(void)
{
	struct fg_limit l;
	struct fg_pb_flow p;
	int v;

	memset(&l, 0, sizeof(l));
	l.key = FG_LKEY_SRC_IP;
	l.unit = FG_LUNIT_PPS;
	l.action = FG_LACT_RESET;
	fg_limit_set(&l, 8, 1, 1);
	fg_limit_set(&l, 9, 1, 1);
	fg_limit_set(&l, 12, 1, 1);

	for (v = 0; v < 2; v++) {
		struct fg_tsvc *s = v ? &s_l_rst6 : &s_l_rst;
		const char *fam = v ? "ipv6" : "ipv4";
		char d[160];

		p = (struct fg_pb_flow){ .src = v ? "2001:db8::120" : "198.18.0.120",
				    .dst = s->vip, .sport = 12000, .dport = 80,
				    .proto = FG_IPPROTO_TCP,
				    .flags = FG_TCP_SYN, .seq = 0xfffffff0,
				    .mss = 1 };
		snprintf(d, sizeof(d), "%s reset limit burst 1: syn admitted", fam);
		fg_lim_pkt(d, s, &p, 1, v ? 9 : 8, 0, 1);
		p.sport = 12001;
		snprintf(d, sizeof(d), "%s reset: refused syn answered "
			 "rst|ack, ack = seq + 1, options cut", fam);
		fg_rst_case(d, &p);
		p.flags = FG_TCP_ACK | FG_TCP_PSH;
		p.mss = 0;
		p.seq = 0x01020304;
		p.ack = 0xa0b0c0d0;
		p.plen = 100;
		snprintf(d, sizeof(d), "%s reset: refused data segment with ack "
			 "answered rst, seq = its ack, payload cut", fam);
		fg_rst_case(d, &p);
		p.flags = FG_TCP_FIN;
		p.plen = 10;
		snprintf(d, sizeof(d), "%s reset: refused fin without ack: "
			 "ack = seq + 10 + 1", fam);
		fg_rst_case(d, &p);
		p.flags = FG_TCP_RST;
		p.plen = 0;
		snprintf(d, sizeof(d), "%s reset: a refused rst is dropped, "
			 "never answered", fam);
		{
			struct fg_xctr x = fg_x_drop(FG_DROP_LIMITED);

			x.lim[0] = (struct fg_xlim){ v ? 9 : 8, 0, 1 };
			fg_plain(d, &p, XDP_DROP, x);
		}
	}
	p = (struct fg_pb_flow){ .src = "198.18.0.121", .dst = s_l_urst.vip,
			    .sport = 12000, .dport = 53,
			    .proto = FG_IPPROTO_UDP, .plen = 8 };
	fg_lim_pkt("reset limit on udp: datagram 1 admitted", &s_l_urst, &p, 1,
		   12, 0, 1);
	fg_lim_pkt("reset limit on udp: refused datagram dropped", &s_l_urst,
		   &p, 0, 12, 0, 0);
}

/* -------------------------------------------- generations, health, drain */

/* A client port whose flow the ring of gen puts on backend index want. */
static __u16 fg_port_for(const struct fg_tsvc *s, __u32 gen, const char *cli,
			 __u16 from, unsigned int want)
{
	struct fg_pb_flow p = { .src = cli, .dst = s->vip, .dport = s->port,
			   .proto = s->proto };
	__u32 port;

	for (port = from; port < 65535; port++) {
		p.sport = (__u16)port;
		if (fg_ring_pick(s, gen, &p) == s->be_id[want])
			return (__u16)port;
	}
	FG_REQUIRE(0);
	return 0;
}

static void fg_t_generations(void)
{
	static const __u32 only1[2] = { 0, 1 }; /* weights: backend 1 only */
	const char *cli4 = "198.18.0.130", *cli6 = "2001:db8::130";
	struct fg_pb_flow a, b, dn, dr, dr2, u;

	FG_REQUIRE(g.cfg.gen == 0);

	/* Established flows in generation 0, each on backend 0. */
	a = (struct fg_pb_flow){ .src = cli4, .dst = s_gen.vip, .dport = 80,
			    .proto = FG_IPPROTO_TCP, .flags = FG_TCP_SYN };
	a.sport = fg_port_for(&s_gen, 0, cli4, 20000, 0);
	fg_dsr("gen 0: flow A syn on backend 0", &s_gen, 0, &a, 1, 0);
	a.flags = FG_TCP_ACK;
	fg_dsr("gen 0: flow A ack, established", &s_gen, 0, &a, 0, 0);

	dn = (struct fg_pb_flow){ .src = cli4, .dst = s_down.vip, .dport = 80,
			     .proto = FG_IPPROTO_TCP, .flags = FG_TCP_SYN };
	dn.sport = fg_port_for(&s_down, 0, cli4, 21000, 0);
	fg_dsr("down: flow on backend 0 syn", &s_down, 0, &dn, 1, 0);
	dn.flags = FG_TCP_ACK;
	fg_dsr("down: flow on backend 0 established", &s_down, 0, &dn, 0, 0);

	dr = (struct fg_pb_flow){ .src = cli6, .dst = s_drain.vip, .dport = 80,
			     .proto = FG_IPPROTO_TCP, .flags = FG_TCP_SYN };
	dr.sport = fg_port_for(&s_drain, 0, cli6, 22000, 0);
	fg_dsr("drain: flow on backend 0 syn", &s_drain, 0, &dr, 1, 0);
	dr.flags = FG_TCP_ACK;
	fg_dsr("drain: flow on backend 0 established", &s_drain, 0, &dr, 0, 0);

	u = (struct fg_pb_flow){ .src = cli4, .dst = s_downudp.vip, .dport = 53,
			    .proto = FG_IPPROTO_UDP, .plen = 12 };
	u.sport = fg_port_for(&s_downudp, 0, cli4, 23000, 0);
	fg_dsr("down: udp flow on backend 0", &s_downudp, 0, &u, 1, 0);

	/* Generation 1 on the side: s_gen's ring holds only backend 1;
	 * s_down loses backend 0 (down); s_drain's backend 0 gets weight 0
	 * (drained: absent from the ring, still valid); same for UDP. */
	fg_ring_write(&s_gen, 1, only1);
	fg_ring_write(&s_down, 1, only1);
	fg_ring_write(&s_drain, 1, only1);
	fg_ring_write(&s_downudp, 1, only1);

	/* Health checks mark s_down's backend 0 down before the flip. */
	fg_be_write(&s_down, 0, FG_BE_F_VALID | FG_BE_F_DOWN);
	fg_be_write(&s_downudp, 0, FG_BE_F_VALID | FG_BE_F_DOWN);
	fg_plain("down, old ring: established ack gets no backend (not the "
		 "down one)", &dn, XDP_DROP, fg_x_drop(FG_DROP_NO_BACKEND));
	b = dn;
	b.flags = FG_TCP_SYN;
	b.sport = fg_port_for(&s_down, 0, cli4, (__u16)(dn.sport + 1), 0);
	fg_plain("down, old ring: syn to the down backend refused", &b,
		 XDP_DROP, fg_x_drop(FG_DROP_FLOOD_GUARD));
	fg_check_state("down: refused syn left no state", &b, &s_down, 0, 0, 0);
	fg_plain("down, old ring: udp flow gets no backend", &u, XDP_DROP,
		 fg_x_drop(FG_DROP_NO_BACKEND));

	fg_gen_set(1);
	fg_dsr("gen 1: established flow A keeps backend 0", &s_gen, 1, &a, 0,
	       s_gen.be_id[0]);
	b = (struct fg_pb_flow){ .src = cli4, .dst = s_gen.vip, .dport = 80,
			    .proto = FG_IPPROTO_TCP, .flags = FG_TCP_SYN };
	b.sport = fg_port_for(&s_gen, 0, cli4, (__u16)(a.sport + 1), 0);
	fg_dsr("gen 1: new flow that gen 0 put on backend 0 goes to backend 1",
	       &s_gen, 1, &b, 1, s_gen.be_id[1]);

	fg_dsr("gen 1: flow of the down backend re-hashed to backend 1",
	       &s_down, 1, &dn, 0, s_down.be_id[1]);
	fg_check_state("down: re-hashed ack created no state, old entry stays",
		       &dn, &s_down, 0, 1, s_down.be_id[0]);
	fg_dsr("gen 1: udp flow of the down backend re-hashed, new flow",
	       &s_downudp, 1, &u, 1, s_downudp.be_id[1]);
	fg_check_state("down: udp flow now recorded on backend 1", &u,
		       &s_downudp, 0, 1, s_downudp.be_id[1]);

	fg_dsr("gen 1: drained backend keeps its established flow", &s_drain,
	       1, &dr, 0, s_drain.be_id[0]);
	dr2 = dr;
	dr2.flags = FG_TCP_SYN;
	dr2.sport = fg_port_for(&s_drain, 0, cli6, (__u16)(dr.sport + 1), 0);
	fg_dsr("gen 1: new flow avoids the drained backend", &s_drain, 1, &dr2,
	       1, s_drain.be_id[1]);

	fg_gen_set(0);
	fg_dsr("back to gen 0: established flow A still on backend 0", &s_gen,
	       0, &a, 0, s_gen.be_id[0]);
}

/* ----------------------------------------------- connection-table lines */

static void fg_ct_line_at(int fd, __u32 idx, struct fg_ct_line *l)
{
	FG_REQUIRE(!bpf_map_lookup_elem(fd, &idx, l));
}

static void fg_ct_line_put(int fd, __u32 idx, const struct fg_ct_line *l)
{
	FG_REQUIRE(!bpf_map_update_elem(fd, &idx, l, BPF_ANY));
}

/* Free every way of line idx of connection table fd. */
static void fg_ct_line_clear(int fd, __u32 idx)
{
	struct fg_ct_line l;

	memset(&l, 0, sizeof(l));
	fg_ct_line_put(fd, idx, &l);
}

/* Free way `way` of line idx as the dataplane gives one back
 * (fg_ct_way_free): tag and backend zeroed, service, port and seen tick left
 * stale - a free way must be free by its tag alone. */
static void fg_ct_way_free(int fd, __u32 idx, __u32 way)
{
	struct fg_ct_line l;

	fg_ct_line_at(fd, idx, &l);
	l.way[way].tag = 0;
	l.way[way].backend_id = 0;
	fg_ct_line_put(fd, idx, &l);
}

/* The keyed flow hash the dataplane files ps's flow under. */
static __u64 fg_ct_hash(const struct fg_pb_flow *ps)
{
	struct fg_flow_key k;

	fg_key_of(ps, &k);
	return fg_flow_hash(&k, &fg_t_seed);
}

static __u32 fg_ct_line_of_ps(const struct fg_pb_flow *ps, __u32 lines)
{
	return fg_ct_line_of(fg_ct_hash(ps), lines);
}

/* A family of flows that differ in the client port only. */
struct fg_ct_pick {
	struct fg_pb_flow ps;      /* template: everything but sport */
	unsigned int need;    /* ports wanted in the line */
	__u16 port[8];        /* filled by fg_ct_pick_line() */
};

/* Line idx of fd has no way in use. */
static int fg_ct_line_free(int fd, __u32 idx)
{
	struct fg_ct_line l;
	__u32 w;

	fg_ct_line_at(fd, idx, &l);
	for (w = 0; w < FG_CT_WAYS; w++)
		if (l.way[w].tag)
			return 0;
	return 1;
}

/*
 * fg_ct_pick_line - choose a line of connection table fd whose ways are
 * all free (and so is the line of the same index in fd2, unless fd2 is
 * -1; both tables have as many lines) into which, for each i < n, at
 * least pk[i].need client ports of flow family pk[i] hash (fg_flow_hash
 * over every port); those ports go to pk[i].port. Their tags are all
 * distinct, so each way a test fills is one flow's. Returns the line.
 */
static __u32 fg_ct_pick_line(int fd, int fd2, struct fg_ct_pick *pk,
			     unsigned int n)
{
	__u32 lines = fg_ct_lines_of(fd), line, port, tags[32];
	__u8 *cnt = calloc((size_t)n * lines, 1);
	unsigned int i, j, got, ntags = 0;

	FG_REQUIRE(cnt);
	FG_REQUIRE(fd2 < 0 || fg_ct_lines_of(fd2) == lines);
	for (i = 0; i < n; i++) {
		FG_REQUIRE(pk[i].need <= FG_ARRAY_SIZE(pk[i].port));
		for (port = 1; port < 65536; port++) {
			pk[i].ps.sport = (__u16)port;
			line = fg_ct_line_of_ps(&pk[i].ps, lines);
			if (cnt[i * lines + line] < 255)
				cnt[i * lines + line]++;
		}
	}
	for (line = 0; line < lines; line++) {
		for (i = 0; i < n; i++)
			if (cnt[i * lines + line] < pk[i].need)
				break;
		if (i == n && fg_ct_line_free(fd, line) &&
		    (fd2 < 0 || fg_ct_line_free(fd2, line)))
			break;
	}
	FG_REQUIRE(line < lines);
	free(cnt);
	for (i = 0; i < n; i++) {
		got = 0;
		for (port = 1; port < 65536 && got < pk[i].need; port++) {
			pk[i].ps.sport = (__u16)port;
			if (fg_ct_line_of_ps(&pk[i].ps, lines) != line)
				continue;
			pk[i].port[got++] = (__u16)port;
			FG_REQUIRE(ntags < FG_ARRAY_SIZE(tags));
			tags[ntags] = fg_ct_tag(fg_ct_hash(&pk[i].ps));
			for (j = 0; j < ntags; j++)
				FG_REQUIRE(tags[j] != tags[ntags]);
			ntags++;
		}
		FG_REQUIRE(got == pk[i].need);
	}
	return line;
}

/* Record flow ps (service s, backend be, seen at tick `seen`, UDP or TCP
 * by ps's protocol) in way `way` of its line, as the dataplane would
 * have. */
static void fg_ct_seed(int fd, const struct fg_pb_flow *ps, const struct fg_tsvc *s,
		       __u32 way, __u32 be, __u32 seen)
{
	struct fg_flow_key k;
	struct fg_ct ct;

	memset(&ct, 0, sizeof(ct));
	ct.backend_id = be;
	ct.svc_id = s->id;
	ct.seen = seen;
	ct.flags = ps->proto == FG_IPPROTO_UDP ? FG_CT_F_UDP : 0;
	fg_key_of(ps, &k);
	FG_REQUIRE(!fg_h_ct_put(fd, fg_ct_lines_of(fd), &k, &fg_t_seed, way,
				&ct));
}

/* fg_clock's value (floodgate.bpf.c): the timer, then the time. */
struct fg_t_clock {
	struct bpf_timer timer;
	__u64 now;
};

static void fg_clock_write(int fd, __u64 now)
{
	struct fg_t_clock c;
	__u32 zero = 0;

	memset(&c, 0, sizeof(c));
	c.now = now;
	/* Twice: a tick running during the first write may store its time
	 * after it, but cannot re-arm the timer the write freed. */
	FG_REQUIRE(!bpf_map_update_elem(fd, &zero, &c, BPF_ANY));
	usleep(10000);
	FG_REQUIRE(!bpf_map_update_elem(fd, &zero, &c, BPF_ANY));
}

static __u64 fg_clock_read(int fd)
{
	struct fg_t_clock c;
	__u32 zero = 0;

	FG_REQUIRE(!bpf_map_lookup_elem(fd, &zero, &c));
	return c.now;
}

/* The tick of `sec` seconds before the time now (ns). */
static __u32 fg_tick_ago(__u64 now, __u64 sec)
{
	return fg_ct_tick(now - sec * FG_SEC);
}

/* Way `way` of line `line` holds flow ps: its tag, in ps's own line. */
static int fg_ct_way_holds(int fd, __u32 line, __u32 way,
			   const struct fg_pb_flow *ps)
{
	__u64 hash = fg_ct_hash(ps);
	struct fg_ct_line l;

	FG_REQUIRE(fg_ct_line_of(hash, fg_ct_lines_of(fd)) == line);
	fg_ct_line_at(fd, line, &l);
	return fg_ct_way_is(&l.way[way], hash);
}

/* Way `way` of line `line` is free (tag 0). */
static int fg_ct_way_is_free(int fd, __u32 line, __u32 way)
{
	struct fg_ct_line l;

	fg_ct_line_at(fd, line, &l);
	return l.way[way].tag == 0;
}

/* After a new flow evicted way `victim` of a full line: that way holds
 * the new flow, every other way still its own flows[w] (age[w] s old). */
static void fg_expect_evicted(int fd, __u32 line, __u32 victim,
			      const struct fg_pb_flow *newflow,
			      const struct fg_pb_flow *flows, const __u64 *age)
{
	__u32 w;

	FG_EXPECT(fg_ct_way_holds(fd, line, victim, newflow),
		  "way %u (seen %llu s ago) does not hold the new flow", victim,
		  (unsigned long long)age[victim]);
	for (w = 0; w < FG_CT_WAYS; w++) {
		if (w == victim)
			continue;
		FG_EXPECT(fg_ct_way_holds(fd, line, w, &flows[w]),
			  "way %u (seen %llu s ago) lost its flow", w,
			  (unsigned long long)age[w]);
	}
}

/* The backend of s that is not the ring's pick for ps (s has two). */
static __u32 fg_other_be(const struct fg_tsvc *s, const struct fg_pb_flow *ps)
{
	__u32 be = fg_ring_pick(s, g.cfg.gen, ps);

	return be == s->be_id[0] ? s->be_id[1] : s->be_id[0];
}

/*
 * fg_t_ct_tag - a flow is known in its line by its tag, not its key: the
 * way carrying its tag is its state (kept over the ring, and a hit within
 * a second of seen leaves seen alone), and the very same way under
 * another tag is a miss, which leaves that way be and takes a free one.
 */
static void fg_t_ct_tag(__u32 line, const struct fg_pb_flow *f, __u32 be,
			__u64 now)
{
	__u32 tag = fg_ct_tag(fg_ct_hash(f)), other = tag ^ 1U, w, ring;
	struct fg_ct_line seeded, hit, missed;
	struct fg_ct v;
	int rc, hit_clean;

	if (!other)
		other = 2;
	ring = fg_ring_pick(&s_udp4, 0, f);
	FG_REQUIRE(be != ring);
	/* In way 2, behind free ways; seen ~100 ms ago: live, and too
	 * recent to be refreshed. */
	fg_ct_seed(g.fd.ct, f, &s_udp4, 2, be, fg_ct_tick(now) - 6);
	fg_ct_line_at(g.fd.ct, line, &seeded);
	fg_dsr("ct line: the way with a flow's tag is its state, kept over "
	       "the ring", &s_udp4, 0, f, 0, be);
	fg_ct_line_at(g.fd.ct, line, &hit);
	hit_clean = !memcmp(&hit, &seeded, sizeof(hit));

	/* The very same way, but another flow's tag. */
	seeded.way[2].tag = other;
	fg_ct_line_put(g.fd.ct, line, &seeded);
	fg_dsr("ct line: the same way under another tag is a miss: a new "
	       "flow, per ring", &s_udp4, 0, f, 1, ring);
	fg_ct_line_at(g.fd.ct, line, &missed);
	fg_begin("ct line: a tag is what matches: the hit wrote nothing, the "
		 "miss left the foreign tag's way alone and took a free one");
	FG_EXPECT(hit_clean, "a hit ~100 ms after seen changed the line: way "
		  "2 tag %#x (want %#x) seen %u -> %u", hit.way[2].tag, tag,
		  seeded.way[2].seen, hit.way[2].seen);
	FG_EXPECT(!memcmp(&missed.way[2], &seeded.way[2], sizeof(missed.way[2])),
		  "the way under tag %#x changed (tag %#x backend %u seen %u)",
		  other, missed.way[2].tag, missed.way[2].backend_id,
		  missed.way[2].seen);
	FG_EXPECT(fg_ct_way_holds(g.fd.ct, line, 0, f),
		  "way 0 (the first free) does not hold the flow");
	for (w = 1; w < FG_CT_WAYS; w++)
		if (w != 2)
			FG_EXPECT(fg_ct_way_is_free(g.fd.ct, line, w),
				  "way %u taken", w);
	rc = fg_ct_get(g.fd.ct, f, &v);
	FG_EXPECT(rc == 0 && v.backend_id == ring &&
		  fg_ct_fresh(v.seen, now),
		  "rc %d backend %u (ring %u) seen %u", rc, v.backend_id, ring,
		  v.seen);
	fg_end();
}

/*
 * fg_t_ct_promote - the first ACK of a recorded handshake moves it: its
 * way in fg_ct_syn is freed and one way of fg_ct, chosen by the same
 * rule, takes it. The fg_ct line is full and mixed: TCP idle 100 s (past
 * UDP's timeout, within TCP's: live) in way 0, UDP idle 31 s (expired by
 * its own, UDP, timeout though this packet is TCP) in way 1.
 */
static void fg_t_ct_promote(__u64 now)
{
	struct fg_ct_pick pk[2] = {
		{ .ps = { .src = "198.18.0.142", .dst = s_udp4.vip, .dport = 53,
			  .proto = FG_IPPROTO_UDP, .plen = 16 }, .need = 3 },
		{ .ps = { .src = "198.18.0.142", .dst = s_tcp4.vip, .dport = 80,
			  .proto = FG_IPPROTO_TCP, .flags = FG_TCP_ACK,
			  .seq = 501, .ack = 9001 }, .need = 5 },
	};
	static const __u64 age[FG_CT_WAYS] = { 100, 31, 2, 3 };
	static const __u64 sage[FG_CT_WAYS] = { 2, 3, 1, 4 };
	struct fg_pb_flow f[FG_CT_WAYS], sf[FG_CT_WAYS], p;
	__u32 line, w, be;
	long nsyn, nct;
	struct fg_ct v;
	int rc;

	line = fg_ct_pick_line(g.fd.ct, g.fd.ctsyn, pk, 2);
	for (w = 0; w < FG_CT_WAYS; w++) {
		f[w] = w ? pk[0].ps : pk[1].ps;
		f[w].sport = w ? pk[0].port[w - 1] : pk[1].port[0];
		sf[w] = pk[1].ps;
		sf[w].sport = pk[1].port[w + 1];
	}
	p = sf[2];
	be = fg_other_be(&s_tcp4, &p);
	printf("# promotion line %u: fg_ct tcp port %u, udp ports %u %u %u; "
	       "fg_ct_syn tcp ports %u %u %u %u\n", line, f[0].sport,
	       f[1].sport, f[2].sport, f[3].sport, sf[0].sport, sf[1].sport,
	       sf[2].sport, sf[3].sport);
	fg_ct_seed(g.fd.ct, &f[0], &s_tcp4, 0, fg_other_be(&s_tcp4, &f[0]),
		   fg_tick_ago(now, age[0]));
	for (w = 1; w < FG_CT_WAYS; w++)
		fg_ct_seed(g.fd.ct, &f[w], &s_udp4, w,
			   fg_other_be(&s_udp4, &f[w]), fg_tick_ago(now, age[w]));
	for (w = 0; w < FG_CT_WAYS; w++)
		fg_ct_seed(g.fd.ctsyn, &sf[w], &s_tcp4, w,
			   w == 2 ? be : fg_ring_pick(&s_tcp4, 0, &sf[w]),
			   fg_tick_ago(now, sage[w]));
	nsyn = fg_ct_count(g.fd.ctsyn);
	nct = fg_ct_count(g.fd.ct);
	fg_dsr("ct promotion: the ack of a recorded handshake keeps its "
	       "backend over the ring", &s_tcp4, 0, &p, 0, be);
	fg_begin("ct promotion: one fg_ct_syn way freed, the expired udp way "
		 "of fg_ct took the flow, nothing else moved");
	fg_expect_evicted(g.fd.ct, line, 1, &p, f, age);
	for (w = 0; w < FG_CT_WAYS; w++) {
		if (w == 2)
			FG_EXPECT(fg_ct_way_is_free(g.fd.ctsyn, line, w),
				  "fg_ct_syn way 2 not freed");
		else
			FG_EXPECT(fg_ct_way_holds(g.fd.ctsyn, line, w, &sf[w]),
				  "fg_ct_syn way %u lost its flow", w);
	}
	rc = fg_ct_get(g.fd.ct, &p, &v);
	FG_EXPECT(rc == 0 && v.backend_id == be && v.svc_id == s_tcp4.id &&
		  !v.flags && fg_ct_fresh(v.seen, now),
		  "promoted: rc %d backend %u svc %u seen %+d ticks flags %#x",
		  rc, v.backend_id, v.svc_id,
		  fg_tick_diff(v.seen, fg_ct_tick(now)), v.flags);
	FG_EXPECT(fg_ct_count(g.fd.ctsyn) == nsyn - 1, "fg_ct_syn %ld -> %ld",
		  nsyn, fg_ct_count(g.fd.ctsyn));
	FG_EXPECT(fg_ct_count(g.fd.ct) == nct, "fg_ct %ld -> %ld", nct,
		  fg_ct_count(g.fd.ct));
	fg_end();
	fg_ct_line_clear(g.fd.ct, line);
	fg_ct_line_clear(g.fd.ctsyn, line);
}

/*
 * fg_t_ct_sets - the set-associative replacement rule (fg_tables.h): a
 * new flow takes a free way of its line, else one idle past its own
 * protocol's timeout, else the one idle longest; among equals the first
 * in way order. Ways already there win over the ring. Lines are filled
 * by hand with flows whose hash lands in them.
 */
/* Set fg_clock (fd) to now, then run frame in (len bytes) through the
 * program, which must answer XDP_TX; what names the step in a failure. */
static void fg_clock_packet(int fd, __u64 now, const __u8 *in, __u32 len,
			    const char *what)
{
	__u8 out[FG_PKT_MAX];
	__u32 out_len, verdict;

	fg_clock_write(fd, now);
	FG_EXPECT(!fg_run(in, len, out, &out_len, &verdict) &&
		  verdict == XDP_TX, "%s: verdict %u", what, verdict);
}

/* ps's flow is in fg_ct with tick `tick` (the tick of `what`). */
static void fg_expect_seen(const struct fg_pb_flow *ps, __u32 tick,
			   const char *what)
{
	struct fg_ct v;

	FG_EXPECT(!fg_ct_get(g.fd.ct, ps, &v) && v.seen == tick,
		  "seen %+d ticks from %s", fg_tick_diff(v.seen, tick), what);
}

/*
 * The dataplane's clock: a timer the first conntrack packet starts keeps
 * fg_clock within a few ms of the kernel's coarse clock with no packets
 * at all, and packets take their time from it (a new flow's tick is the
 * one fg_clock says, not the kernel's).
 */
static void fg_t_clock(void)
{
	int fd = bpf_map__fd(g.skel->maps.fg_clock);
	struct fg_pb_flow ps = { .src = "198.18.7.1", .dst = s_udp4.vip,
			    .sport = 40000, .dport = s_udp4.port,
			    .proto = FG_IPPROTO_UDP };
	__u8 in[FG_PKT_MAX], out[FG_PKT_MAX];
	__u32 len, out_len, verdict;
	__u64 t0, t1, fake;
	struct fg_pb pb;
	struct fg_ct v;
	int i;

	FG_REQUIRE(bpf_map__value_size(g.skel->maps.fg_clock) ==
		   sizeof(struct fg_t_clock));
	len = (__u32)fg_build(&ps, in, &pb);
	fg_begin("fg_clock ticks by itself once a packet started it");
	FG_EXPECT(!fg_run(in, len, out, &out_len, &verdict) &&
		  verdict == XDP_TX, "udp packet: verdict %u", verdict);
	for (i = 0; i < 100 && !(t0 = fg_clock_read(fd)); i++)
		usleep(10000);
	FG_EXPECT(t0 != 0, "fg_clock still 0 after 1 s");
	usleep(300000);
	t1 = fg_clock_read(fd);
	FG_EXPECT(t1 > t0, "fg_clock did not move in 300 ms: %llu -> %llu",
		  (unsigned long long)t0, (unsigned long long)t1);
	/* Within a second of the kernel's coarse clock: it trails by up to
	 * a period, or by a delayed timer on a loaded machine. */
	t0 = fg_now_coarse();
	t1 = fg_clock_read(fd);
	FG_EXPECT(t1 <= t0 + 10000000ULL && t0 - t1 < FG_SEC,
		  "fg_clock %llu, kernel coarse clock %llu",
		  (unsigned long long)t1, (unsigned long long)t0);
	fg_end();

	/* A write from user space stops the timer (the kernel frees a map
	 * value's timer on update), so the clock stays where it is set. */
	fg_begin("a new flow takes its tick from fg_clock");
	fake = fg_now_coarse() + 100 * FG_SEC;
	ps.sport = 41000;
	len = (__u32)fg_build(&ps, in, &pb);
	fg_clock_packet(fd, fake, in, len, "udp packet");
	fg_expect_seen(&ps, fg_ct_tick(fake), "fg_clock");
	usleep(20000);
	FG_EXPECT(fg_clock_read(fd) == fake, "fg_clock moved after a write");
	fg_end();

	/* 0 says stopped: the next packet starts the timer again. */
	fg_begin("fg_clock set to 0 restarts with the next packet");
	fg_clock_write(fd, 0);
	ps.sport = 41001;
	len = (__u32)fg_build(&ps, in, &pb);
	FG_EXPECT(!fg_run(in, len, out, &out_len, &verdict) &&
		  verdict == XDP_TX, "udp packet: verdict %u", verdict);
	FG_EXPECT(!fg_ct_get(g.fd.ct, &ps, &v) &&
		  abs(fg_tick_diff(v.seen, fg_ct_tick(fg_now_coarse()))) <= 1,
		  "new flow stamped %+d ticks from the kernel's clock",
		  fg_tick_diff(v.seen, fg_ct_tick(fg_now_coarse())));
	for (i = 0; i < 100 && !(t0 = fg_clock_read(fd)); i++)
		usleep(10000);
	usleep(300000);
	t1 = fg_clock_read(fd);
	FG_EXPECT(t0 && t1 > t0 && fg_now_coarse() - t1 < FG_SEC,
		  "fg_clock %llu -> %llu after the restart",
		  (unsigned long long)t0, (unsigned long long)t1);
	fg_end();
}

static void fg_t_ct_sets(void)
{
	struct fg_ct_pick pk[2] = {
		{ .ps = { .src = "198.18.0.140", .dst = s_udp4.vip, .dport = 53,
			  .proto = FG_IPPROTO_UDP, .plen = 16 }, .need = 6 },
		{ .ps = { .src = "198.18.0.140", .dst = s_tcp4.vip, .dport = 80,
			  .proto = FG_IPPROTO_TCP, .flags = FG_TCP_ACK },
		  .need = 1 },
	};
	struct fg_ct_pick sp = {
		.ps = { .src = "198.18.0.141", .dst = s_tcp4.vip, .dport = 80,
			.proto = FG_IPPROTO_TCP, .flags = FG_TCP_SYN, .mss = 1 },
		.need = 5,
	};
	static const __u64 age[FG_CT_WAYS] = { 2, 3, 6, 4 }; /* seconds */
	/* Ways 1 and 3 equally old: the first of them goes. */
	static const __u64 sage[FG_CT_WAYS] = { 2, 5, 3, 5 };
	struct fg_pb_flow f[6], t, sf[5];
	__u32 line, be[6], w;
	long nsyn, nct;
	__u64 now;
	unsigned int i;
	struct fg_ct v;
	int rc;

	/* Ways are aged by back-dating seen up to 100 s from the program's
	 * time, which these tests set (fg_clock) 200 s ahead of the kernel's
	 * clock: the ages hold whatever the uptime, and time stands still
	 * between a seed and the packet that judges it. */
	int clock_fd = bpf_map__fd(g.skel->maps.fg_clock);
	const __u64 fake = fg_now_coarse() + 200 * FG_SEC;

	fg_clock_write(clock_fd, fake);

	/* fg_ct: six UDP flows of s_udp4 and one TCP flow in one line. */
	line = fg_ct_pick_line(g.fd.ct, -1, pk, 2);
	for (i = 0; i < 6; i++) {
		f[i] = pk[0].ps;
		f[i].sport = pk[0].port[i];
		be[i] = fg_other_be(&s_udp4, &f[i]);
	}
	t = pk[1].ps;
	t.sport = pk[1].port[0];
	printf("# fg_ct line %u: udp ports %u %u %u %u %u %u, tcp port %u\n",
	       line, f[0].sport, f[1].sport, f[2].sport, f[3].sport,
	       f[4].sport, f[5].sport, t.sport);

	/* Full line, no way past its timeout: the oldest (way 2) goes. */
	now = fake;
	for (w = 0; w < FG_CT_WAYS; w++)
		fg_ct_seed(g.fd.ct, &f[w], &s_udp4, w, be[w],
			   fg_tick_ago(now, age[w]));
	fg_dsr("ct line: a recorded udp flow keeps its backend over the ring",
	       &s_udp4, 0, &f[0], 0, be[0]);
	fg_dsr("ct line full: a new udp flow goes where the ring says",
	       &s_udp4, 0, &f[4], 1, 0);
	be[4] = fg_ring_pick(&s_udp4, 0, &f[4]);
	fg_begin("ct line full: the new flow evicted the way idle longest");
	fg_expect_evicted(g.fd.ct, line, 2, &f[4], f, age);
	rc = fg_ct_get(g.fd.ct, &f[2], &v);
	FG_EXPECT(rc == -ENOENT, "evicted flow still found (%d)", rc);
	rc = fg_ct_get(g.fd.ct, &f[4], &v);
	FG_EXPECT(rc == 0 && v.backend_id == be[4] && v.svc_id == s_udp4.id &&
		  fg_ct_fresh(v.seen, now) &&
		  v.flags == FG_CT_F_UDP,
		  "new way: rc %d backend %u svc %u seen %+d ticks flags %#x",
		  rc, v.backend_id, v.svc_id,
		  fg_tick_diff(v.seen, fg_ct_tick(now)), v.flags);
	rc = fg_ct_get(g.fd.ct, &f[0], &v);
	FG_EXPECT(rc == 0 && fg_ct_fresh(v.seen, now),
		  "hit 2 s after seen not refreshed (rc %d, %+d ticks)",
		  rc, fg_tick_diff(v.seen, fg_ct_tick(now)));
	fg_end();

	/* A free way wins over the oldest live one (way 3, 4 s), though it
	 * was freed as the dataplane frees one: its seen tick, refreshed a
	 * moment ago, stays. */
	fg_ct_way_free(g.fd.ct, line, 0);
	fg_dsr("ct line with a free way: the evicted flow comes back new",
	       &s_udp4, 0, &f[2], 1, 0);
	fg_begin("ct line with a free way: the new flow took it");
	FG_EXPECT(fg_ct_way_holds(g.fd.ct, line, 0, &f[2]),
		  "way 0 (free) does not hold the new flow");
	FG_EXPECT(fg_ct_way_holds(g.fd.ct, line, 1, &f[1]), "way 1 lost its flow");
	FG_EXPECT(fg_ct_way_holds(g.fd.ct, line, 2, &f[4]), "way 2 lost its flow");
	FG_EXPECT(fg_ct_way_holds(g.fd.ct, line, 3, &f[3]), "way 3 lost its flow");
	fg_end();

	/* A way past its own protocol's timeout is as good as free: UDP seen
	 * 31 s ago (timeout 30 s) goes before TCP seen 100 s ago (300 s),
	 * and the first expired way goes, not the one idle longer (UDP,
	 * 40 s, way 3). */
	now = fake;
	fg_ct_seed(g.fd.ct, &t, &s_tcp4, 0, s_tcp4.be_id[0],
		   fg_tick_ago(now, 100));
	fg_ct_seed(g.fd.ct, &f[1], &s_udp4, 1, be[1], fg_tick_ago(now, 31));
	fg_ct_seed(g.fd.ct, &f[3], &s_udp4, 3, be[3], fg_tick_ago(now, 40));
	fg_dsr("ct line: a udp flow idle past its timeout is re-picked, new",
	       &s_udp4, 0, &f[5], 1, 0);
	fg_begin("ct line: the new flow took the first expired way, not the "
		 "oldest");
	FG_EXPECT(fg_ct_way_holds(g.fd.ct, line, 1, &f[5]),
		  "way 1 (udp, expired) does not hold the new flow");
	FG_EXPECT(fg_ct_way_holds(g.fd.ct, line, 0, &t),
		  "way 0 (tcp, 100 s, live) lost its flow");
	FG_EXPECT(fg_ct_way_holds(g.fd.ct, line, 2, &f[4]), "way 2 lost its flow");
	FG_EXPECT(fg_ct_way_holds(g.fd.ct, line, 3, &f[3]),
		  "way 3 (udp, expired 40 s) lost its flow");
	fg_end();

	/* An expired way of the flow itself is no state: re-picked from the
	 * ring and rewritten in place, not in way 0 freed ahead of it. */
	fg_ct_way_free(g.fd.ct, line, 0);
	fg_ct_seed(g.fd.ct, &f[3], &s_udp4, 3, be[3], fg_tick_ago(now, 31));
	nct = fg_ct_count(g.fd.ct);
	fg_dsr("ct: a udp flow whose own way expired is re-picked, new",
	       &s_udp4, 0, &f[3], 1, 0);
	fg_begin("ct: the expired flow's way rewritten in place");
	FG_EXPECT(fg_ct_way_holds(g.fd.ct, line, 3, &f[3]),
		  "way 3 does not hold the flow");
	FG_EXPECT(fg_ct_way_is_free(g.fd.ct, line, 0), "way 0 (free) taken");
	rc = fg_ct_get(g.fd.ct, &f[3], &v);
	FG_EXPECT(rc == 0 && v.backend_id == fg_ring_pick(&s_udp4, 0, &f[3]) &&
		  fg_ct_fresh(v.seen, now),
		  "rc %d backend %u", rc, v.backend_id);
	FG_EXPECT(fg_ct_count(g.fd.ct) == nct, "fg_ct %ld -> %ld", nct,
		  fg_ct_count(g.fd.ct));
	fg_end();
	fg_ct_line_clear(g.fd.ct, line);

	fg_t_ct_tag(line, &f[0], be[0], fake);
	fg_ct_line_clear(g.fd.ct, line);

	/* fg_ct_syn follows the same rule: a fifth SYN evicts the oldest
	 * embryonic way (way 1, 5 s, tied with way 3) and touches nothing
	 * in fg_ct. */
	line = fg_ct_pick_line(g.fd.ctsyn, -1, &sp, 1);
	for (i = 0; i < 5; i++) {
		sf[i] = sp.ps;
		sf[i].sport = sp.port[i];
	}
	printf("# fg_ct_syn line %u: tcp ports %u %u %u %u %u\n", line,
	       sf[0].sport, sf[1].sport, sf[2].sport, sf[3].sport, sf[4].sport);
	now = fake;
	for (w = 0; w < FG_CT_WAYS; w++)
		fg_ct_seed(g.fd.ctsyn, &sf[w], &s_tcp4, w,
			   fg_ring_pick(&s_tcp4, 0, &sf[w]),
			   fg_tick_ago(now, sage[w]));
	nsyn = fg_ct_count(g.fd.ctsyn);
	nct = fg_ct_count(g.fd.ct);
	fg_dsr("ct_syn line full: a new syn goes where the ring says", &s_tcp4,
	       0, &sf[4], 1, 0);
	fg_begin("ct_syn line full: the syn evicted the first of the ways idle "
		 "longest, fg_ct untouched");
	fg_expect_evicted(g.fd.ctsyn, line, 1, &sf[4], sf, sage);
	FG_EXPECT(fg_ct_count(g.fd.ctsyn) == nsyn, "fg_ct_syn %ld -> %ld",
		  nsyn, fg_ct_count(g.fd.ctsyn));
	FG_EXPECT(fg_ct_count(g.fd.ct) == nct, "fg_ct %ld -> %ld", nct,
		  fg_ct_count(g.fd.ct));
	fg_end();
	fg_ct_line_clear(g.fd.ctsyn, line);

	fg_t_ct_promote(fake);
	/* 0: the clock starts again with the next packet (fg_t_clock). */
	fg_clock_write(clock_fd, 0);
}

/* ---------------------------------------------------------------- setup */

/* The namespace: fgx0 (where the program "runs") <-> fgx1, routes to the
 * backend networks via next hops with permanent neighbour entries, one
 * next hop without any (198.18.0.3, 2001:db8::3), and nothing towards
 * 198.19.2.0/24 and 2001:db8:19:2::/64. */
static int fg_net_setup(void)
{
	static const char *const cmds[] = {
		"ip -6 addr add 2001:db8::1/64 dev " FG_T_IF " nodad",
		"ip neigh replace 198.18.0.2 lladdr 02:00:00:00:00:02 nud permanent dev " FG_T_IF,
		"ip neigh replace " FG_T_CLI4 " lladdr 02:00:00:00:00:64 nud permanent dev " FG_T_IF,
		"ip -6 neigh replace 2001:db8::2 lladdr 02:00:00:00:00:02 nud permanent dev " FG_T_IF,
		"ip -6 neigh replace " FG_T_CLI6 " lladdr 02:00:00:00:00:64 nud permanent dev " FG_T_IF,
		"ip route add 198.19.0.0/24 via 198.18.0.2 dev " FG_T_IF,
		"ip route add 198.19.1.0/24 via 198.18.0.3 dev " FG_T_IF,
		"ip -6 route add 2001:db8:19::/64 via 2001:db8::2 dev " FG_T_IF,
		"ip -6 route add 2001:db8:19:1::/64 via 2001:db8::3 dev " FG_T_IF,
	};

	g.ifindex = fg_h_net_setup(FG_T_IF, FG_T_PEER, cmds,
				   FG_ARRAY_SIZE(cmds));
	return g.ifindex > 0 ? 0 : -1;
}

/* fg_load - open, configure and load the dataplane into g; a udp_timeout_ns
 * other than 0 replaces the default UDP timeout. Returns 0 or -errno. */
static int fg_load(__u64 udp_timeout_ns)
{
	const struct fg_h_load_opts o = {
		.seed = &fg_t_seed,
		.tun4 = FG_T_TUN4, .tun6 = FG_T_TUN6,
		.snat4 = FG_T_SNAT4, .snat6 = FG_T_SNAT6,
		.gue_port = FG_T_GUE_PORT,
		.ct_lines = FG_T_CT_LINES,
		.ct_syn_lines = FG_T_CT_SYN_LINES,
		.bucket_slots = FG_T_BUCKET_SLOTS,
		.ring_slots = FG_T_RING_SLOTS,
		.backends = FG_T_BACKENDS,
		.nat_entries = FG_T_LRU_PER_CPU * (__u32)g.ncpus,
		.udp_timeout_ns = udp_timeout_ns,
		.ncpus = g.ncpus,
	};
	__u8 a[16];
	__u32 gen;
	int err;

	err = fg_h_load(&o, &g.skel, &g.fd);
	if (err)
		return err;
	/* The SNAT addresses are in both generations' VIP filters (the
	 * loader adds them to every generation it writes). */
	for (gen = 0; gen < FG_GENERATIONS; gen++) {
		__be32 w[4];

		fg_pb_addr(FG_T_SNAT4, a);
		memset(w, 0, sizeof(w));
		memcpy(w, a, 4);
		fg_vip_filter_add(&g.cfg, gen, w);
		fg_pb_addr(FG_T_SNAT6, a);
		memcpy(w, a, 16);
		fg_vip_filter_add(&g.cfg, gen, w);
	}
	return 0;
}

/*
 * A UDP timeout under two seconds: an established flow's tick is
 * refreshed once it has been idle half the timeout, not after the usual
 * second, which would let every active flow expire (and a NAT flow take
 * a new port) at each timeout. Needs a load of its own (the timeout is
 * load-time config): the dataplane is reloaded with a 1 s UDP timeout
 * and only s_udp4, and time is what fg_clock is set to.
 */
static void fg_t_short_timeout(void)
{
	struct fg_pb_flow ps = { .src = "198.18.7.2", .dst = s_udp4.vip,
			    .sport = 40000, .dport = s_udp4.port,
			    .proto = FG_IPPROTO_UDP };
	const __u64 ms = 1000000ULL;
	__u8 in[FG_PKT_MAX];
	struct fg_pb pb;
	__u32 len;
	__u64 t0;
	int fd;

	floodgate_bpf__destroy(g.skel);
	g.skel = NULL;
	memset(&g.cfg, 0, sizeof(g.cfg));
	memset(g.svc_tab, 0, sizeof(g.svc_tab));
	g.next_svc = g.next_be = g.next_ring = 0;
	FG_REQUIRE(!fg_load(FG_SEC));
	fg_gen_set(0);
	fg_svc_add(&s_udp4);
	fd = bpf_map__fd(g.skel->maps.fg_clock);
	len = (__u32)fg_build(&ps, in, &pb);
	t0 = fg_now_coarse() + 100 * FG_SEC;

	fg_begin("udp timeout 1 s: a flow idle under half of it keeps its tick");
	fg_clock_packet(fd, t0, in, len, "new flow");
	fg_clock_packet(fd, t0 + 300 * ms, in, len, "after 300 ms");
	fg_expect_seen(&ps, fg_ct_tick(t0), "the first packet");
	fg_end();

	fg_begin("udp timeout 1 s: a flow idle past half of it is refreshed");
	fg_clock_packet(fd, t0 + 700 * ms, in, len, "after 700 ms");
	fg_expect_seen(&ps, fg_ct_tick(t0 + 700 * ms), "the packet 700 ms on");
	fg_end();
}

/* Verifier work fg_xdp_main may take: 173k instructions processed on
 * kernel 6.18 when this was set, about twice that leaves room for
 * kernels that prune less well, and none for a change that multiplies
 * the program's paths. Raise it deliberately, saying why. */
#define FG_T_VERIFIED_BUDGET 350000U

static void fg_prog_info(void)
{
	struct bpf_prog_info info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	fg_begin("program info readable; verifier work within its budget");
	FG_EXPECT(!bpf_obj_get_info_by_fd(g.fd.prog, &info, &len),
		  "bpf_obj_get_info_by_fd: %s", strerror(errno));
	printf("# fg_xdp_main: verifier processed %u instructions; xlated %u "
	       "bytes (%u insns); jited %u bytes\n", info.verified_insns,
	       info.xlated_prog_len, info.xlated_prog_len / 8,
	       info.jited_prog_len);
	FG_EXPECT(info.verified_insns > 0 && info.xlated_prog_len > 0,
		  "sizes missing");
	/* A budget, not the verifier's limit (which any loaded program is
	 * under): a change that lets paths multiply (an offset the verifier
	 * must track exactly, a loop it walks instead of an unrolled one)
	 * shows here long before a kernel refuses the program. */
	FG_EXPECT(info.verified_insns <= FG_T_VERIFIED_BUDGET,
		  "verifier processed %u instructions, over the budget of %u",
		  info.verified_insns, FG_T_VERIFIED_BUDGET);
	fg_end();
}

int main(void)
{
	unsigned int i;
	int err;

	setvbuf(stdout, NULL, _IOLBF, 0);
	err = fg_h_enter();
	if (err)
		return err;
	fg_h_pin_cpu();
	if (fg_net_setup()) {
		printf("FAIL: network namespace setup\n");
		return 1;
	}
	g.ncpus = libbpf_num_possible_cpus();
	FG_REQUIRE(g.ncpus > 0);
	libbpf_set_print(fg_h_libbpf_log);
	err = fg_load(0);
	/* EPERM: the kernel refuses BPF to this root (a container without
	 * CAP_BPF). EACCES is the verifier rejecting the program: a failure. */
	if (err == -EPERM) {
		printf("SKIP: loading BPF: %s (no CAP_BPF?)\n", strerror(-err));
		return 77;
	}
	if (err) {
		printf("FAIL: loading floodgate.bpf.o: %s\n", strerror(-err));
		return 1;
	}
	fg_prog_info();

	fg_gen_set(0);
	for (i = 0; i < FG_ARRAY_SIZE(fg_all_svcs); i++)
		fg_svc_add(fg_all_svcs[i]);

	fg_t_passthrough();
	fg_t_dsr();
	fg_t_nat();
	fg_t_fib();
	fg_t_too_big();
	fg_t_flood();
	fg_t_frag();
	fg_t_malformed();
	fg_t_limits();
	fg_t_bucket_sets();
	fg_t_reset();
	fg_t_generations();
	fg_t_ct_sets();
	fg_t_clock();
	fg_t_short_timeout();

	printf("%u passed, %u failed\n", g.passed, g.failed);
	floodgate_bpf__destroy(g.skel);
	for (i = 0; i < FG_ARRAY_SIZE(fg_all_svcs); i++) {
		free(fg_all_svcs[i]->ring[0]);
		free(fg_all_svcs[i]->ring[1]);
	}
	return g.failed ? 1 : 0;
}
