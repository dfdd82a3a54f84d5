// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * test_dp_same.c - the two dataplanes side by side: the XDP program
 * (xdp/floodgate.bpf.c under BPF_PROG_TEST_RUN) and the DPDK packet path
 * (dataplane/dpdk/fg_dpdk_path on mbufs of a --no-huge EAL) get ONE rule
 * set, compiled ONCE (fg_compile), and the same frames in the same order;
 * frame by frame they must give the same verdict class, the same bytes
 * out and the same counter deltas. No expected value is written here: the
 * oracle of each side is the other (test_xdp.c and test_dpdk_path.c hold
 * the expectations). A frame the two treat differently fails the test.
 *
 * Environments. The XDP program routes with the kernel's FIB, so it runs
 * in a private network namespace (veth fgx0 <-> fgx1, routes, PERMANENT
 * neighbours), as in test_xdp.c. The DPDK path gets the equivalent routes
 * in its settings and learns the same neighbours from ARP replies and
 * neighbour advertisements. The two environments have MAC addresses of
 * their own (the DPDK port is not fgx0): a frame's Ethernet addresses are
 * mapped XDP -> DPDK on the way in and DPDK -> XDP on the way out, then
 * whole frames are compared, so each side must use its own environment's
 * addresses.
 *
 * Clocks. The connection tables of both read the time the test gives
 * them: fg_clock (the XDP program's coarse clock, which stops ticking
 * once user space writes it) is set, before each frame, to the
 * CLOCK_MONOTONIC time the DPDK path gets as now_ns. The XDP limits read
 * bpf_ktime_get_ns() (CLOCK_MONOTONIC) themselves, microseconds after
 * that read; rates are 1 unit/s, so the two sides decide differently only
 * when a refill boundary of a whole second falls into those microseconds
 * (each limit's packets are sent back to back, and frames to limited
 * services are kept out of the mutation pool). The last categories (rule
 * switch, aging) run the connection tables' clock ahead of the real one
 * to age flows past their timeouts; no frame of theirs reaches a limit.
 *
 * Order: fixtures (whole, then cut at every length), service flows of
 * every forward mode, pass-through / fragments / malformed headers, too
 * big packets, limits, ARP/ND, seeded mutations of the valid frames run
 * so far, a live switch to a second rule set (same compiler: the next
 * generation) with flows across it, then aging.
 *
 * Documented differences (the only ones accepted; anything else fails):
 *  - ARP and neighbour discovery for the appliance's own addresses (VIPs,
 *    tunnel and SNAT sources): floodgate-dpdk answers or learns them
 *    itself (it owns the port); the XDP program passes them to the kernel.
 *    Accepted when the XDP verdict is PASS, the DPDK one an ARP reply /
 *    neighbour advertisement out of the port or a learned answer, and no
 *    counter moves on the DPDK side.
 *  - A next hop without a resolved neighbour: the XDP program drops the
 *    packet (no_neigh) and the kernel resolves; floodgate-dpdk resolves
 *    itself, turning the packet into the ARP request / neighbour
 *    solicitation (at most one per next hop per second) or dropping it.
 *    Counters must agree (both count no_neigh).
 *  - Frames under 14 bytes: BPF_PROG_TEST_RUN refuses them, so only the
 *    DPDK path runs them (never forwarded).
 *
 * Needs root (CAP_BPF, CAP_NET_ADMIN, unshare) and an EAL that starts
 * with --no-huge; exits 77 saying why otherwise. Prints a line per
 * category with the frames compared, and exits 1 on any difference.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

/* Core first: the skeleton's rodata names struct fg_hash_seed. */
#include "fg_flow.h"
#include "fg_parse.h"
#include "fg_tables.h"
#include "fg_compile.h"
#include "fg_dpdk_path.h"
#include "fg_dpdk_rules.h"
#include "fixtures.h"
#include "pktbuild.h"
#include "bpf_harness.h"

#include "floodgate.skel.h"

#define S_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ------------------------------------------------------------ topology */

#define S_IF   "fgx0"
#define S_PEER "fgx1"

/* The environments' MAC addresses, in the same order: the interface (the
 * DPDK port), its peer (where test frames come from), the next hop of the
 * backend networks, the client. */
enum { M_IF, M_PEER, M_NH, M_CLI, M_N };
static const __u8 x_mac[M_N][6] = {
	{ 0x02, 0, 0, 0, 0, 0x01 }, { 0x02, 0, 0, 0, 0, 0x09 },
	{ 0x02, 0, 0, 0, 0, 0x02 }, { 0x02, 0, 0, 0, 0, 0x64 },
};
static const __u8 d_mac[M_N][6] = {
	{ 0x0a, 0xd0, 0xd0, 0xd0, 0xd0, 0x01 },
	{ 0x0a, 0xd0, 0xd0, 0xd0, 0xd0, 0x09 },
	{ 0x0a, 0xd0, 0xd0, 0xd0, 0xd0, 0x02 },
	{ 0x0a, 0xd0, 0xd0, 0xd0, 0xd0, 0x64 },
};

#define S_TUN4  "198.19.255.1"
#define S_TUN6  "2001:db8:19:ff::1"
#define S_SNAT4 "198.19.255.2"
#define S_SNAT6 "2001:db8:19:ff::2"
#define S_GUE_PORT 9000
#define S_CLI4 "198.18.0.100"   /* clients with a neighbour entry */
#define S_CLI6 "2001:db8::100"

static const struct fg_hash_seed s_seed = {
	.k0 = 0x0706050403020100ULL, .k1 = 0x0f0e0d0c0b0a0908ULL,
	.lane = { 0x1716151413121110ULL, 0x1f1e1d1c1b1a1918ULL,
		  0x2726252423222120ULL, 0x2f2e2d2c2b2a2928ULL },
};

/* Table sizes, the same on both sides: the connection tables' lines and
 * the buckets' sets decide evictions, so they must match. */
#define S_CT_FLOWS     (1U << 14)
#define S_BUCKETS      4096U
#define S_NAT          16384U
#define S_RING_SLOTS   (1U << 17)
#define S_BACKENDS_MAP 1024U
/* Ids the compiler may hand out: every counter below these is compared. */
#define S_SVC_N 64U
#define S_BE_N  128U
#define S_LIM_N 32U

#define S_PKT_MAX 4096
#define S_POOL_MAX 1024U
#define S_MUTATIONS 6000U
#define S_SHOW_MAX 25U /* differences printed in full */

/* ------------------------------------------------------------ rule set */

/* Every forward mode, the wildcard port, a service without backends,
 * unresolved and unroutable backends, drained and down backends, and a
 * service per limit kind; the fixtures' destinations (fixtures.c) are
 * port-0 services. Backends of the limit services share one address. */
static const char s_rules[] =
"{\"services\": {"
" \"tcp4\": {\"vip\": \"198.18.0.10\", \"port\": 80, \"proto\": \"tcp\","
"  \"backends\": [{\"addr\": \"198.19.0.1\"}, {\"addr\": \"198.19.0.2\"}]},"
" \"tcp4x\": {\"vip\": \"198.18.0.10\", \"port\": 22, \"proto\": \"tcp\","
"  \"backends\": [{\"addr\": \"198.19.0.22\"}]},"
" \"udp4\": {\"vip\": \"198.18.0.10\", \"port\": 53, \"proto\": \"udp\","
"  \"backends\": [{\"addr\": \"198.19.0.3\"}, {\"addr\": \"198.19.0.4\"}]},"
" \"tcp6\": {\"vip\": \"2001:db8::10\", \"port\": 80, \"proto\": \"tcp\","
"  \"backends\": [{\"addr\": \"2001:db8:19::1\"}, {\"addr\": \"2001:db8:19::2\"}]},"
" \"udp6\": {\"vip\": \"2001:db8::10\", \"port\": 53, \"proto\": \"udp\","
"  \"backends\": [{\"addr\": \"2001:db8:19::3\"}, {\"addr\": \"2001:db8:19::4\"}]},"
" \"gue4\": {\"vip\": \"198.18.0.11\", \"port\": 80, \"proto\": \"tcp\","
"  \"forward\": \"dsr-gue\","
"  \"backends\": [{\"addr\": \"198.19.0.5\"}, {\"addr\": \"198.19.0.6\"}]},"
" \"gue4u\": {\"vip\": \"198.18.0.11\", \"port\": 53, \"proto\": \"udp\","
"  \"forward\": \"dsr-gue\", \"backends\": [{\"addr\": \"198.19.0.7\"}]},"
" \"gue6\": {\"vip\": \"2001:db8::11\", \"port\": 80, \"proto\": \"tcp\","
"  \"forward\": \"dsr-gue\","
"  \"backends\": [{\"addr\": \"2001:db8:19::5\"}, {\"addr\": \"2001:db8:19::6\"}]},"
" \"wild\": {\"vip\": \"198.18.0.12\", \"port\": 0, \"proto\": \"tcp\","
"  \"backends\": [{\"addr\": \"198.19.0.12\"}]},"
" \"wild22\": {\"vip\": \"198.18.0.12\", \"port\": 22, \"proto\": \"tcp\","
"  \"backends\": [{\"addr\": \"198.19.0.122\"}]},"
" \"v4in6\": {\"vip\": \"198.18.0.17\", \"port\": 80, \"proto\": \"tcp\","
"  \"backends\": [{\"addr\": \"198.19.0.170\"}]},"
" \"v6in4\": {\"vip\": \"2001:db8::17\", \"port\": 80, \"proto\": \"tcp\","
"  \"backends\": [{\"addr\": \"2001:db8:19::170\"}]},"
" \"srch\": {\"vip\": \"198.18.0.18\", \"port\": 80, \"proto\": \"tcp\","
"  \"hash\": \"src_ip\", \"backends\": [{\"addr\": \"198.19.0.181\"},"
"  {\"addr\": \"198.19.0.182\"}, {\"addr\": \"198.19.0.183\"}]},"
" \"nat4\": {\"vip\": \"198.18.0.13\", \"port\": 80, \"proto\": \"tcp\","
"  \"forward\": \"nat\", \"backends\": [{\"addr\": \"198.19.0.13\", \"port\": 8080}]},"
" \"nat4u\": {\"vip\": \"198.18.0.13\", \"port\": 53, \"proto\": \"udp\","
"  \"forward\": \"nat\", \"backends\": [{\"addr\": \"198.19.0.14\", \"port\": 5353}]},"
" \"nat6\": {\"vip\": \"2001:db8::13\", \"port\": 80, \"proto\": \"tcp\","
"  \"forward\": \"nat\", \"backends\": [{\"addr\": \"2001:db8:19::13\", \"port\": 8080}]},"
" \"nat6u\": {\"vip\": \"2001:db8::13\", \"port\": 53, \"proto\": \"udp\","
"  \"forward\": \"nat\", \"backends\": [{\"addr\": \"2001:db8:19::14\", \"port\": 5353}]},"
" \"empty\": {\"vip\": \"198.18.0.14\", \"port\": 80, \"proto\": \"tcp\","
"  \"backends\": []},"
" \"empty6u\": {\"vip\": \"2001:db8::14\", \"port\": 53, \"proto\": \"udp\","
"  \"backends\": []},"
" \"noneigh4\": {\"vip\": \"198.18.0.15\", \"port\": 80, \"proto\": \"tcp\","
"  \"backends\": [{\"addr\": \"198.19.1.1\"}]},"
" \"noneigh6\": {\"vip\": \"2001:db8::15\", \"port\": 80, \"proto\": \"tcp\","
"  \"backends\": [{\"addr\": \"2001:db8:19:1::1\"}]},"
" \"noroute4\": {\"vip\": \"198.18.0.16\", \"port\": 80, \"proto\": \"tcp\","
"  \"backends\": [{\"addr\": \"198.19.2.1\"}]},"
" \"noroute6\": {\"vip\": \"2001:db8::16\", \"port\": 80, \"proto\": \"tcp\","
"  \"backends\": [{\"addr\": \"2001:db8:19:2::1\"}]},"
" \"drain\": {\"vip\": \"198.18.0.21\", \"port\": 80, \"proto\": \"tcp\","
"  \"backends\": [{\"addr\": \"198.19.0.211\", \"weight\": 0},"
"  {\"addr\": \"198.19.0.212\"}, {\"addr\": \"198.19.0.213\", \"state\": \"down\"}]},"
" \"l-pps\": {\"vip\": \"198.18.0.30\", \"port\": 80, \"proto\": \"tcp\","
"  \"backends\": [{\"addr\": \"198.19.0.99\"}]},"
" \"l-bps\": {\"vip\": \"198.18.0.31\", \"port\": 80, \"proto\": \"tcp\","
"  \"backends\": [{\"addr\": \"198.19.0.99\"}]},"
" \"l-cps\": {\"vip\": \"198.18.0.32\", \"port\": 80, \"proto\": \"tcp\","
"  \"backends\": [{\"addr\": \"198.19.0.99\"}]},"
" \"l-pfx\": {\"vip\": \"198.18.0.33\", \"port\": 80, \"proto\": \"tcp\","
"  \"backends\": [{\"addr\": \"198.19.0.99\"}]},"
" \"l-flow\": {\"vip\": \"198.18.0.34\", \"port\": 53, \"proto\": \"udp\","
"  \"backends\": [{\"addr\": \"198.19.0.99\"}]},"
" \"l-svc\": {\"vip\": \"198.18.0.35\", \"port\": 80, \"proto\": \"tcp\","
"  \"backends\": [{\"addr\": \"198.19.0.99\"}]},"
" \"l-rst\": {\"vip\": \"198.18.0.36\", \"port\": 80, \"proto\": \"tcp\","
"  \"backends\": [{\"addr\": \"198.19.0.99\"}]},"
" \"l-dry\": {\"vip\": \"198.18.0.37\", \"port\": 80, \"proto\": \"tcp\","
"  \"backends\": [{\"addr\": \"198.19.0.99\"}]},"
" \"l-two\": {\"vip\": \"198.18.0.39\", \"port\": 80, \"proto\": \"tcp\","
"  \"backends\": [{\"addr\": \"198.19.0.99\"}]},"
" \"l-pfx6\": {\"vip\": \"2001:db8::33\", \"port\": 80, \"proto\": \"tcp\","
"  \"backends\": [{\"addr\": \"2001:db8:19::99\"}]},"
" \"l-rst6\": {\"vip\": \"2001:db8::36\", \"port\": 80, \"proto\": \"tcp\","
"  \"backends\": [{\"addr\": \"2001:db8:19::99\"}]},"
" \"l-nat\": {\"vip\": \"198.18.0.40\", \"port\": 80, \"proto\": \"tcp\","
"  \"forward\": \"nat\", \"backends\": [{\"addr\": \"198.19.0.40\", \"port\": 8080}]},"
" \"fx4\": {\"vip\": \"198.18.210.2\", \"port\": 0, \"proto\": \"tcp\","
"  \"backends\": [{\"addr\": \"198.19.0.1\"}]},"
" \"fx4u\": {\"vip\": \"198.18.210.2\", \"port\": 0, \"proto\": \"udp\","
"  \"backends\": [{\"addr\": \"198.19.0.1\"}]},"
" \"fx6\": {\"vip\": \"2001:db8::ab02\", \"port\": 0, \"proto\": \"tcp\","
"  \"backends\": [{\"addr\": \"2001:db8:19::1\"}]},"
" \"fx6u\": {\"vip\": \"2001:db8::ab02\", \"port\": 0, \"proto\": \"udp\","
"  \"backends\": [{\"addr\": \"2001:db8:19::1\"}]}"
"},"
"\"limits\": {"
" \"pps\": {\"service\": \"l-pps\", \"key\": \"src_ip\", \"unit\": \"pps\","
"  \"rate\": 1, \"burst\": 3},"
" \"bps\": {\"service\": \"l-bps\", \"key\": \"service\", \"unit\": \"bps\","
"  \"rate\": 1, \"burst\": 2896},"
" \"cps\": {\"service\": \"l-cps\", \"key\": \"service\", \"unit\": \"cps\","
"  \"rate\": 1, \"burst\": 2},"
" \"pfx24\": {\"service\": \"l-pfx\", \"key\": \"src_prefix/24\", \"unit\": \"pps\","
"  \"rate\": 1, \"burst\": 2},"
" \"pfx64\": {\"service\": \"l-pfx6\", \"key\": \"src_prefix/64\", \"unit\": \"pps\","
"  \"rate\": 1, \"burst\": 2},"
" \"flow\": {\"service\": \"l-flow\", \"key\": \"flow\", \"unit\": \"pps\","
"  \"rate\": 1, \"burst\": 1},"
" \"svc\": {\"service\": \"l-svc\", \"key\": \"service\", \"unit\": \"pps\","
"  \"rate\": 1, \"burst\": 2},"
" \"rst\": {\"service\": \"l-rst\", \"key\": \"src_ip\", \"unit\": \"pps\","
"  \"rate\": 1, \"burst\": 1, \"action\": \"reset\"},"
" \"rst6\": {\"service\": \"l-rst6\", \"key\": \"src_ip\", \"unit\": \"pps\","
"  \"rate\": 1, \"burst\": 1, \"action\": \"reset\"},"
" \"dry\": {\"service\": \"l-dry\", \"key\": \"service\", \"unit\": \"pps\","
"  \"rate\": 1, \"burst\": 1, \"dry_run\": true},"
" \"two-a\": {\"service\": \"l-two\", \"key\": \"service\", \"unit\": \"pps\","
"  \"rate\": 1, \"burst\": 5},"
" \"two-b\": {\"service\": \"l-two\", \"key\": \"service\", \"unit\": \"pps\","
"  \"rate\": 1, \"burst\": 2},"
" \"natcps\": {\"service\": \"l-nat\", \"key\": \"src_ip\", \"unit\": \"cps\","
"  \"rate\": 1, \"burst\": 1},"
" \"glob\": {\"match\": {\"src\": \"198.18.7.0/24\", \"proto\": \"tcp\","
"  \"dst_port\": 80}, \"key\": \"src_ip\", \"unit\": \"pps\","
"  \"rate\": 1, \"burst\": 1}"
"}}";

/* Destinations whose packets a limit judges: kept out of the mutation
 * pool (see the header comment). */
static const char *const s_limited_vips[] = {
	"198.18.0.30", "198.18.0.31", "198.18.0.32", "198.18.0.33",
	"198.18.0.34", "198.18.0.35", "198.18.0.36", "198.18.0.37",
	"198.18.0.39", "198.18.0.40", "2001:db8::33",
	"2001:db8::36",
};

/* ------------------------------------------------------------- state */

enum {
	C_FIXTURE,     /* fixtures.h frames, whole */
	C_CUT,         /* ... cut at every length from 14 bytes */
	C_RUNT,        /* ... cut under 14 bytes: DPDK only */
	C_FLOW,        /* per-service sequences, every forward mode */
	C_PASS,        /* non-service, fragments, malformed */
	C_LIMIT,       /* limit sequences */
	C_TOOBIG,      /* packets too big once encapsulated */
	C_ARPND,       /* ARP and neighbour discovery */
	C_MUT,         /* random mutations of valid frames */
	C_GEN,         /* flows across a switch to a second rule set */
	C_AGE,         /* flows idle past their timeouts */
	C_N
};
static const char *const s_cat_name[C_N] = {
	"fixtures", "fixture cuts", "runts (dpdk only)", "service flows",
	"pass/fragment/malformed", "limits", "too big", "arp/nd", "mutations", "rule switch", "aging",
};

struct s_cat {
	unsigned int frames, same, doc_arpnd, doc_neigh, differ;
	unsigned int tx, exc, drop; /* by the XDP verdict, when the same */
};

/* Counter snapshot of one dataplane: the ids the compiler may use. */
struct s_ctr {
	__u64 drops[FG_DROP_REASON_MAX];
	__u64 svc[S_SVC_N][3];  /* packets, bytes, new flows */
	__u64 be[S_BE_N][3];
	__u64 lim[S_LIM_N][2];  /* passed, limited */
};

static struct {
	struct floodgate_bpf *skel;
	struct fg_h_fds fd;
	int ifindex, ncpus;
	struct fg_compiler *comp;
	struct rte_mempool *mp;
	struct fg_dp_settings set;
	struct fg_dp_tables *tab;
	struct fg_dp_buckets *bk;
	struct fg_dp_lcore *lc;
	struct s_ctr xc, dc;       /* counters after the last frame */
	struct s_cat cat[C_N];
	unsigned int shown, differ;
	int cur;                   /* category of the frames being run */
	int pool_on;               /* frames run now join the pool */
	unsigned int npool;
	__u8 *pool[S_POOL_MAX];
	__u32 pool_len[S_POOL_MAX];
	__u64 rng;
	__u64 off;                 /* added to the connection tables' time */
} g;

/* A broken set-up or fixture (the test's own bug): stop. */
#define S_REQUIRE(cond)                                                    \
	do {                                                               \
		if (!(cond)) {                                             \
			fprintf(stderr, "test_dp_same: %s:%d: %s\n",       \
				__FILE__, __LINE__, #cond);                \
			exit(1);                                           \
		}                                                          \
	} while (0)

/* ------------------------------------------------------------- frames */

/* ps as this suite's frames are: to the port's MAC, from the peer's unless
 * ps names another, IPv4 id 7, IPv6 flow label 5. */
static __u32 s_build(const struct fg_pb_flow *ps, __u8 *buf, struct fg_pb *pb)
{
	struct fg_pb_flow f = *ps;
	int len;

	f.dmac = x_mac[M_IF];
	if (!f.smac)
		f.smac = x_mac[M_PEER];
	f.ip_id = 7;
	f.flow6 = 5;
	len = fg_pb_flow(pb, buf, 2048, &f);
	S_REQUIRE(len > 0);
	return (__u32)len;
}

/* Replace the Ethernet addresses of f that are one of from[] by the same
 * entry of to[]: the frame moves from one environment to the other. */
static void s_mac_map(__u8 *f, __u32 len, const __u8 (*from)[6],
		      const __u8 (*to)[6])
{
	static const __u32 offs[2] = { 0, 6 };
	unsigned int o, i;

	for (o = 0; o < 2; o++) {
		if (len < offs[o] + 6)
			continue;
		for (i = 0; i < M_N; i++) {
			if (!memcmp(f + offs[o], from[i], 6)) {
				memcpy(f + offs[o], to[i], 6);
				break;
			}
		}
	}
}

static __u64 s_now(void)
{
	struct timespec ts;

	S_REQUIRE(!clock_gettime(CLOCK_MONOTONIC, &ts));
	return (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec;
}

/* -------------------------------------------------------------- XDP */

/* fg_clock's value (xdp/fg_maps.bpf.h): the timer, then the time. */
struct s_clock {
	struct bpf_timer timer;
	__u64 now;
};

/* Set the XDP program's conntrack clock to now: a write from user space
 * frees the timer, so the clock stays where it is written. */
static void x_clock(__u64 now)
{
	struct s_clock c;
	__u32 zero = 0;

	memset(&c, 0, sizeof(c));
	c.now = now;
	S_REQUIRE(!bpf_map_update_elem(g.fd.clock, &zero, &c, BPF_ANY));
}

/* Sum over CPUs of the first nwords words of entries 0..n-1 of a
 * counter map that is per CPU by layout (stride entries a CPU), into
 * out[n][nwords], in one batch read a CPU. */
static void x_cpu_counters(int fd, __u32 stride, __u32 n, size_t vsize,
			   unsigned int nwords, __u64 *out)
{
	static __u8 vals[S_BE_N * 64];
	static __u32 keys[S_BE_N];
	__u32 i, w;
	int c;

	S_REQUIRE(n <= S_BE_N && vsize <= 64);
	memset(out, 0, (size_t)n * nwords * sizeof(__u64));
	for (c = 0; c < g.ncpus; c++) {
		LIBBPF_OPTS(bpf_map_batch_opts, o);
		__u32 prev = (__u32)c * stride - 1, next = 0, count = n;
		int err;

		/* in_batch is the key before the first one read. */
		err = bpf_map_lookup_batch(fd, c ? &prev : NULL, &next, keys,
					   vals, &count, &o);
		if (err && err != -ENOENT) {
			/* No batch operations: one lookup an entry. */
			for (i = 0; i < n; i++) {
				__u32 key = (__u32)c * stride + i;

				S_REQUIRE(!bpf_map_lookup_elem(fd, &key,
							       vals + i * vsize));
			}
			count = n;
		}
		S_REQUIRE(count == n);
		for (i = 0; i < n; i++)
			for (w = 0; w < nwords; w++) {
				__u64 v;

				memcpy(&v, vals + i * vsize + w * 8, 8);
				out[i * nwords + w] += v;
			}
	}
}

static void x_snap(struct s_ctr *s)
{
	S_REQUIRE(!fg_h_drops_sum(g.fd.cfg, g.ncpus, s->drops));
	x_cpu_counters(g.fd.svcst, FG_SVC_MAX, S_SVC_N,
		       sizeof(struct fg_counter), 3, &s->svc[0][0]);
	x_cpu_counters(g.fd.best, FG_BACKEND_MAX, S_BE_N,
		       sizeof(struct fg_counter), 3, &s->be[0][0]);
	x_cpu_counters(g.fd.limst, FG_LIMIT_MAX, S_LIM_N,
		       sizeof(struct fg_limit_counter), 2, &s->lim[0][0]);
}

/* Run frame in through the XDP program. Returns 0 or the kernel's
 * -errno; *verdict and the frame after it in out. */
static int x_run(const __u8 *in, __u32 len, __u8 *out, __u32 *out_len,
		 __u32 *verdict)
{
	return fg_h_run(g.fd.prog, g.ifindex, in, len, out, S_PKT_MAX, out_len,
			verdict);
}

/* ------------------------------------------------------------- DPDK */

static void d_snap(struct s_ctr *s)
{
	const struct fg_dp_counters *c = fg_dp_lcore_counters(g.lc);
	__u32 i;

	memcpy(s->drops, c->drops, sizeof(s->drops));
	for (i = 0; i < S_SVC_N; i++) {
		s->svc[i][0] = c->svc[i].packets;
		s->svc[i][1] = c->svc[i].bytes;
		s->svc[i][2] = c->svc[i].new_flows;
	}
	for (i = 0; i < S_BE_N; i++) {
		s->be[i][0] = c->be[i].packets;
		s->be[i][1] = c->be[i].bytes;
		s->be[i][2] = c->be[i].new_flows;
	}
	for (i = 0; i < S_LIM_N; i++) {
		s->lim[i][0] = c->limit[i].passed;
		s->lim[i][1] = c->limit[i].limited;
	}
}

/* A frame in an mbuf of its own (freed by the caller). */
static struct rte_mbuf *d_mbuf(const __u8 *in, __u32 len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(g.mp);

	S_REQUIRE(m && len <= rte_pktmbuf_tailroom(m));
	if (len)
		S_REQUIRE(rte_pktmbuf_append(m, (uint16_t)len));
	memcpy(rte_pktmbuf_mtod(m, void *), in, len);
	return m;
}

/* Run frame in through the DPDK path on port 0 at now; its verdict, and
 * the frame after it in out. */
static uint32_t d_run(const __u8 *in, __u32 len, __u64 now, __u8 *out,
		      __u32 *out_len)
{
	struct rte_mbuf *m = d_mbuf(in, len);
	uint32_t v;

	fg_dp_burst(g.lc, g.tab, 0, &m, 1, now, &v);
	S_REQUIRE(m->nb_segs == 1);
	*out_len = rte_pktmbuf_data_len(m);
	S_REQUIRE(*out_len <= S_PKT_MAX);
	memcpy(out, rte_pktmbuf_mtod(m, void *), *out_len);
	rte_pktmbuf_free(m);
	return v;
}

/* ------------------------------------------------------- comparison */

enum { V_TX, V_EXC, V_DROP, V_OTHER };
static const char *const s_vname[] = { "TX", "PASS/EXCEPTION", "DROP",
				       "OTHER" };

static int x_class(__u32 v)
{
	if (v == XDP_TX || v == XDP_REDIRECT)
		return V_TX;
	if (v == XDP_PASS)
		return V_EXC;
	if (v == XDP_DROP)
		return V_DROP;
	return V_OTHER; /* XDP_ABORTED: never right */
}

static int d_class(uint32_t v)
{
	switch (fg_dp_act(v)) {
	case FG_DP_TX: return V_TX;
	case FG_DP_EXCEPTION: return V_EXC;
	case FG_DP_DROP: return V_DROP;
	default: return V_OTHER; /* NEIGH, HANDOFF: judged apart */
	}
}

static void s_hexdump(const char *what, const __u8 *p, __u32 len)
{
	__u32 i;

	printf("#     %s (%u bytes):", what, len);
	for (i = 0; i < len; i++)
		printf("%s%02x", i % 16 ? " " : "\n#       ", p[i]);
	printf("\n");
}

/* Counter deltas b - a of the two sides are the same; with show, print
 * those that differ. Returns 1 when all are the same. */
static int s_ctr_same(const struct s_ctr *xa, const struct s_ctr *xb,
		      const struct s_ctr *da, const struct s_ctr *db, int show)
{
	static const char *const w3[3] = { "packets", "bytes", "new_flows" };
	int same = 1;
	__u32 i, j;

#define S_CMP(field, name, ...)                                            \
	do {                                                               \
		__u64 dx = xb->field - xa->field, dd = db->field - da->field;\
		if (dx != dd) {                                            \
			same = 0;                                          \
			if (show)                                          \
				printf("#     " name ": xdp +%llu, dpdk +%llu\n", \
				       __VA_ARGS__, (unsigned long long)dx,\
				       (unsigned long long)dd);            \
		}                                                          \
	} while (0)
	for (i = 0; i < FG_DROP_REASON_MAX; i++)
		S_CMP(drops[i], "drops.%s", fg_drop_reason_name(i));
	for (i = 0; i < S_SVC_N; i++)
		for (j = 0; j < 3; j++)
			S_CMP(svc[i][j], "service %u %s", i, w3[j]);
	for (i = 0; i < S_BE_N; i++)
		for (j = 0; j < 3; j++)
			S_CMP(be[i][j], "backend %u %s", i, w3[j]);
	for (i = 0; i < S_LIM_N; i++)
		for (j = 0; j < 2; j++)
			S_CMP(lim[i][j], "limit %u %s", i,
			      j ? "limited" : "passed");
#undef S_CMP
	return same;
}

/* No counter moved between a and b. */
static int s_ctr_still(const struct s_ctr *a, const struct s_ctr *b)
{
	return !memcmp(a, b, sizeof(*a));
}

/* Counters between a and b moved as between c and d, but for drops.no_service
 * (which the XDP program counts for what it passes to the kernel). */
static int s_ctr_still_but_no_service(const struct s_ctr *a,
				      const struct s_ctr *b)
{
	struct s_ctr t = *b;

	t.drops[FG_DROP_NO_SERVICE] = a->drops[FG_DROP_NO_SERVICE];
	return s_ctr_still(a, &t);
}

/* The frame is an untagged ARP frame, or an untagged IPv6 packet whose
 * header is followed by ICMPv6 neighbour solicitation/advertisement. */
static int s_is_arp_nd(const __u8 *f, __u32 len)
{
	if (len >= 14 && f[12] == 0x08 && f[13] == 0x06)
		return 1;
	return len >= 14 + 40 + 1 && f[12] == 0x86 && f[13] == 0xdd &&
	       f[14 + 6] == FG_IPPROTO_ICMPV6 &&
	       (f[54] == 135 || f[54] == 136);
}

/* The DPDK output is an ARP reply or a neighbour advertisement from the
 * DPDK port (the answer to an own address), in the DPDK environment. */
static int s_is_answer(const __u8 *o, __u32 len)
{
	if (len >= 42 && o[12] == 0x08 && o[13] == 0x06)
		return o[21] == 2 && !memcmp(o + 6, d_mac[M_IF], 6) &&
		       !memcmp(o + 22, d_mac[M_IF], 6);
	return len >= 86 && o[12] == 0x86 && o[13] == 0xdd && o[20] == 58 &&
	       o[54] == 136 && !memcmp(o + 6, d_mac[M_IF], 6) &&
	       !memcmp(o + 80, d_mac[M_IF], 6);
}

/* The DPDK output is an ARP request or neighbour solicitation from the
 * DPDK port (it resolves a next hop itself). */
static int s_is_solicit(const __u8 *o, __u32 len)
{
	if (len >= 42 && o[12] == 0x08 && o[13] == 0x06)
		return o[21] == 1 && !memcmp(o + 6, d_mac[M_IF], 6) &&
		       !memcmp(o, "\xff\xff\xff\xff\xff\xff", 6);
	return len >= 86 && o[12] == 0x86 && o[13] == 0xdd && o[20] == 58 &&
	       o[54] == 135 && !memcmp(o + 6, d_mac[M_IF], 6);
}

/*
 * s_frame - run frame in (XDP environment, len bytes) through both
 * dataplanes at one time and compare. The XDP output goes to xout (when
 * given). Returns 1 when they agree (or differ as documented).
 */
static int s_frame(const char *desc, const __u8 *in, __u32 len, __u8 *xout,
		   __u32 *xout_len)
{
	static __u8 din[S_PKT_MAX], xo[S_PKT_MAX], dout[S_PKT_MAX];
	static __u8 draw[S_PKT_MAX];
	struct s_cat *cat = &g.cat[g.cur];
	struct s_ctr xb, db;
	__u32 xol = 0, dol = 0, xv = 0;
	uint32_t dv;
	int err, xc, dc, ok = 0, doc = 0;
	__u64 now;

	S_REQUIRE(len >= 14 && len <= 2048);
	memcpy(din, in, len);
	s_mac_map(din, len, x_mac, d_mac);
	now = s_now() + g.off;
	x_clock(now);
	err = x_run(in, len, xo, &xol, &xv);
	dv = d_run(din, len, now, dout, &dol);
	memcpy(draw, dout, dol);
	s_mac_map(dout, dol, d_mac, x_mac);
	x_snap(&xb);
	d_snap(&db);
	cat->frames++;
	xc = err ? V_OTHER : x_class(xv);
	dc = d_class(dv);

	if (!err && s_is_arp_nd(in, len) && xc == V_EXC &&
	    ((dc == V_TX && s_is_answer(draw, dol)) ||
	     fg_dp_act(dv) == FG_DP_NEIGH) &&
	    s_ctr_still(&g.dc, &db) && s_ctr_still_but_no_service(&g.xc, &xb)) {
		/* Own ARP/ND: answered or learned by DPDK, the kernel's for
		 * XDP. */
		cat->doc_arpnd++;
		ok = doc = 1;
	} else if (!err && xc == V_DROP &&
		   xb.drops[FG_DROP_NO_NEIGH] == g.xc.drops[FG_DROP_NO_NEIGH] + 1 &&
		   ((dc == V_TX && s_is_solicit(draw, dol)) ||
		    (dc == V_DROP && fg_dp_arg(dv) == FG_DROP_NO_NEIGH)) &&
		   s_ctr_same(&g.xc, &xb, &g.dc, &db, 0)) {
		/* No neighbour: DPDK asks for it itself. */
		cat->doc_neigh++;
		ok = doc = 1;
	} else if (xc == dc && xc != V_OTHER &&
		   s_ctr_same(&g.xc, &xb, &g.dc, &db, 0) &&
		   (xc == V_DROP ||
		    (xol == dol && !memcmp(xo, dout, xol)))) {
		ok = 1;
	}
	if (ok && !doc) {
		cat->same++;
		if (xc == V_TX)
			cat->tx++;
		else if (xc == V_EXC)
			cat->exc++;
		else
			cat->drop++;
	}
	if (!ok) {
		cat->differ++;
		g.differ++;
		if (g.shown++ < S_SHOW_MAX) {
			printf("not ok - %s: %s: the dataplanes differ\n",
			       s_cat_name[g.cur], desc);
			if (err)
				printf("#     BPF_PROG_TEST_RUN failed: %s\n",
				       strerror(-err));
			printf("#     xdp verdict %u (%s), dpdk verdict %u/%u (%s)\n",
			       xv, s_vname[xc], fg_dp_act(dv), fg_dp_arg(dv),
			       s_vname[dc]);
			s_hexdump("in", in, len);
			s_hexdump("xdp out", xo, xol);
			s_hexdump("dpdk out (macs mapped back)", dout, dol);
			s_ctr_same(&g.xc, &xb, &g.dc, &db, 1);
		}
	}
	g.xc = xb;
	g.dc = db;
	if (xout) {
		memcpy(xout, xo, xol);
		*xout_len = xol;
	}
	if (g.pool_on && g.npool < S_POOL_MAX) {
		g.pool[g.npool] = malloc(len);
		S_REQUIRE(g.pool[g.npool]);
		memcpy(g.pool[g.npool], in, len);
		g.pool_len[g.npool++] = len;
	}
	return ok;
}

/* A frame under 14 bytes: the DPDK path alone (BPF_PROG_TEST_RUN refuses
 * it); never forwarded, counted at most as malformed or passed. */
static void s_runt(const char *desc, const __u8 *in, __u32 len)
{
	static __u8 out[S_PKT_MAX];
	struct s_cat *cat = &g.cat[C_RUNT];
	struct s_ctr db;
	__u32 ol;
	uint32_t v;

	v = d_run(in, len, s_now(), out, &ol);
	d_snap(&db);
	cat->frames++;
	if (d_class(v) == V_TX || d_class(v) == V_OTHER) {
		cat->differ++;
		g.differ++;
		printf("not ok - runt %s (%u bytes): dpdk verdict %u/%u\n",
		       desc, len, fg_dp_act(v), fg_dp_arg(v));
	} else {
		cat->same++;
		if (d_class(v) == V_EXC)
			cat->exc++;
		else
			cat->drop++;
	}
	g.dc = db;
}

/* s_ps_run - build ps and run it; the XDP output into xout if given. */
static void s_ps_run(const char *desc, const struct fg_pb_flow *ps, __u8 *xout,
		     __u32 *xout_len)
{
	__u8 in[S_PKT_MAX];
	struct fg_pb pb;
	__u32 len = s_build(ps, in, &pb);

	s_frame(desc, in, len, xout, xout_len);
}

/* One step of a flow: s_ps_run described as "<what>: <step>". */
static void s_step(const char *what, const char *step,
		   const struct fg_pb_flow *ps)
{
	char d[160];

	snprintf(d, sizeof(d), "%s: %s", what, step);
	s_ps_run(d, ps, NULL, NULL);
}

/* ---------------------------------------------------------- fixtures */

static void s_fixtures(void)
{
	const struct fg_pkt_fixture *fx;
	unsigned int count, i, cut;
	char d[160];

	fx = fg_pkt_fixtures_get(&count);
	for (i = 0; i < count; i++) {
		g.cur = C_FIXTURE;
		g.pool_on = 1;
		if (fx[i].len >= 14)
			s_frame(fx[i].desc, fx[i].bytes, fx[i].len, NULL, NULL);
		else
			s_runt(fx[i].desc, fx[i].bytes, fx[i].len);
		g.pool_on = 0;
		for (cut = 0; cut < fx[i].len; cut++) {
			snprintf(d, sizeof(d), "\"%s\" cut to %u", fx[i].desc, cut);
			if (cut < 14) {
				s_runt(d, fx[i].bytes, cut);
				continue;
			}
			g.cur = C_CUT;
			s_frame(d, fx[i].bytes, cut, NULL, NULL);
		}
	}
}

/* ------------------------------------------------------ service flows */

/* SYN, retransmitted SYN, ACK, data, FIN, RST of one TCP flow. */
static void s_tcp_flow(const char *what, const char *cli, const char *vip,
		       __u16 cport, __u16 vport, __u16 vlan)
{
	struct fg_pb_flow p = { .src = cli, .dst = vip, .sport = cport,
			  .dport = vport, .proto = FG_IPPROTO_TCP,
			  .flags = FG_TCP_SYN, .seq = 1000, .mss = 1,
			  .vlan = vlan };

	s_step(what, "syn", &p);
	s_step(what, "retransmitted syn", &p);
	p.flags = FG_TCP_ACK;
	p.mss = 0;
	p.seq = 1001;
	p.ack = 5001;
	s_step(what, "ack", &p);
	p.flags = FG_TCP_ACK | FG_TCP_PSH;
	p.plen = 200;
	s_step(what, "data", &p);
	p.flags = FG_TCP_ACK | FG_TCP_FIN;
	p.seq = 1201;
	p.plen = 0;
	s_step(what, "fin", &p);
	p.flags = FG_TCP_RST;
	s_step(what, "rst", &p);
}

static void s_udp_flow(const char *what, const char *cli, const char *vip,
		       __u16 cport, __u16 vport, int nocsum)
{
	struct fg_pb_flow p = { .src = cli, .dst = vip, .sport = cport,
			  .dport = vport, .proto = FG_IPPROTO_UDP, .plen = 33,
			  .nocsum = nocsum };
	char d[160];
	int i;

	for (i = 0; i < 3; i++) {
		snprintf(d, sizeof(d), "%s: datagram %d", what, i + 1);
		s_ps_run(d, &p, NULL, NULL);
	}
}

/*
 * One full-NAT flow: the client's packets, the backend's replies to the
 * SNAT port the XDP side chose (a DPDK side that chose another port
 * differs on the first packet already), a reply to a port nobody holds.
 */
static void s_nat_flow(const char *what, const char *cli, const char *vip,
		       __u16 vport, const char *be, __u16 bport, int tcp,
		       int nocsum)
{
	const char *snat = fg_pb_fam(cli) == 4 ? S_SNAT4 : S_SNAT6;
	struct fg_pb_flow p = { .src = cli, .dst = vip, .sport = 41000,
			  .dport = vport, .seq = 7000, .mss = tcp,
			  .nocsum = nocsum, .plen = tcp ? 0 : 40,
			  .proto = tcp ? FG_IPPROTO_TCP : FG_IPPROTO_UDP,
			  .flags = tcp ? FG_TCP_SYN : 0 };
	struct fg_pb_flow r;
	__u8 out[S_PKT_MAX];
	__u32 ol = 0, l4;
	__u16 nport;
	char d[160];

	snprintf(d, sizeof(d), "%s: first packet", what);
	s_ps_run(d, &p, out, &ol);
	l4 = 14 + (fg_pb_fam(cli) == 4 ? 20 : 40);
	S_REQUIRE(ol >= l4 + 4);
	nport = fg_pb_get_be16(out, l4);
	if (tcp) {
		s_step(what, "retransmitted syn", &p);
	}
	r = p;
	r.src = be;
	r.dst = snat;
	r.sport = bport;
	r.dport = nport;
	r.flags = tcp ? FG_TCP_SYN | FG_TCP_ACK : 0;
	r.seq = 90000;
	r.ack = 7001;
	r.mss = 0;
	r.plen = tcp ? 0 : 20;
	r.smac = x_mac[M_NH];
	s_step(what, "backend's reply", &r);
	r.dport = (__u16)(nport ^ 0x4000);
	s_step(what, "reply to a port nobody holds", &r);
	r.dport = nport;
	if (tcp) {
		p.flags = FG_TCP_ACK;
		p.mss = 0;
		p.seq = 7001;
		p.ack = 90001;
		s_step(what, "ack", &p);
		p.flags = FG_TCP_ACK | FG_TCP_PSH;
		p.plen = 300;
		s_step(what, "data", &p);
		r.flags = FG_TCP_ACK | FG_TCP_PSH;
		r.seq = 90001;
		r.plen = 500;
		s_step(what, "backend's data", &r);
		p.flags = FG_TCP_ACK | FG_TCP_FIN;
		p.plen = 0;
		s_step(what, "fin", &p);
	} else {
		s_step(what, "second datagram", &p);
		s_step(what, "backend's second reply", &r);
	}
}

static void s_flows(void)
{
	struct fg_pb_flow p;
	char d[96];
	unsigned int i;

	g.cur = C_FLOW;
	g.pool_on = 1;
	s_tcp_flow("ipip v4 tcp", S_CLI4, "198.18.0.10", 40000, 80, 0);
	s_tcp_flow("ipip v4 second port", S_CLI4, "198.18.0.10", 40000, 22, 0);
	s_tcp_flow("ip6ip6 tcp", S_CLI6, "2001:db8::10", 40000, 80, 0);
	s_tcp_flow("gue v4 tcp", S_CLI4, "198.18.0.11", 40001, 80, 0);
	s_tcp_flow("gue v6 tcp", S_CLI6, "2001:db8::11", 40001, 80, 0);
	s_tcp_flow("4-in-6", S_CLI4, "198.18.0.17", 40002, 80, 0);
	s_tcp_flow("6-in-4", S_CLI6, "2001:db8::17", 40002, 80, 0);
	s_tcp_flow("vlan-tagged ipip v4", S_CLI4, "198.18.0.10", 40003, 80, 100);
	s_tcp_flow("vlan-tagged ip6ip6", S_CLI6, "2001:db8::10", 40003, 80, 100);
	s_tcp_flow("wildcard port 8080", S_CLI4, "198.18.0.12", 40004, 8080, 0);
	s_tcp_flow("wildcard port 443", S_CLI4, "198.18.0.12", 40004, 443, 0);
	s_tcp_flow("exact port over the wildcard", S_CLI4, "198.18.0.12", 40004,
		   22, 0);
	s_tcp_flow("drained and down backends", S_CLI4, "198.18.0.21", 40005,
		   80, 0);
	s_tcp_flow("fixture vip v4", "198.18.200.1", "198.18.210.2", 40006, 80, 0);
	s_tcp_flow("fixture vip v6", S_CLI6, "2001:db8::ab02", 40006, 80, 0);
	s_udp_flow("ipip v4 udp", S_CLI4, "198.18.0.10", 5300, 53, 0);
	s_udp_flow("ip6ip6 udp", S_CLI6, "2001:db8::10", 5300, 53, 0);
	s_udp_flow("gue v4 udp", S_CLI4, "198.18.0.11", 5301, 53, 0);
	s_udp_flow("ipip v4 udp without checksum", S_CLI4, "198.18.0.10", 5302,
		   53, 1);
	s_nat_flow("nat v4 tcp", S_CLI4, "198.18.0.13", 80, "198.19.0.13", 8080,
		   1, 0);
	s_nat_flow("nat v4 udp", S_CLI4, "198.18.0.13", 53, "198.19.0.14", 5353,
		   0, 0);
	s_nat_flow("nat v4 udp without checksum", S_CLI4, "198.18.0.13", 53,
		   "198.19.0.14", 5353, 0, 1);
	s_nat_flow("nat v6 tcp", S_CLI6, "2001:db8::13", 80, "2001:db8:19::13",
		   8080, 1, 0);
	s_nat_flow("nat v6 udp", S_CLI6, "2001:db8::13", 53, "2001:db8:19::14",
		   5353, 0, 0);

	/* 64 flows over the Maglev ring, 8 of one client by source hash. */
	for (i = 0; i < 64; i++) {
		p = (struct fg_pb_flow){ .src = "198.18.0.101", .dst = "198.18.0.10",
				   .sport = (__u16)(50000 + i), .dport = 80,
				   .proto = FG_IPPROTO_TCP, .flags = FG_TCP_SYN };
		snprintf(d, sizeof(d), "maglev flow %u", i);
		s_ps_run(d, &p, NULL, NULL);
	}
	for (i = 0; i < 8; i++) {
		p = (struct fg_pb_flow){ .src = "198.18.0.150", .dst = "198.18.0.18",
				   .sport = (__u16)(1000 + i), .dport = 80,
				   .proto = FG_IPPROTO_TCP, .flags = FG_TCP_SYN };
		snprintf(d, sizeof(d), "hash src_ip: client port %u", 1000 + i);
		s_ps_run(d, &p, NULL, NULL);
	}

	/* Stateless and refused. */
	p = (struct fg_pb_flow){ .src = S_CLI4, .dst = "198.18.0.10", .sport = 43000,
			   .dport = 80, .proto = FG_IPPROTO_TCP,
			   .flags = FG_TCP_ACK, .seq = 123, .ack = 456 };
	s_ps_run("forged ack without state", &p, NULL, NULL);
	p.flags = FG_TCP_SYN | FG_TCP_ACK;
	p.sport = 43001;
	s_ps_run("syn-ack to a vip", &p, NULL, NULL);
	p.dst = "198.18.0.13";
	p.flags = FG_TCP_ACK;
	s_ps_run("nat: ack without state (flood guard)", &p, NULL, NULL);
	p.dst = "198.18.0.14";
	p.flags = FG_TCP_SYN;
	s_ps_run("syn to a service without backends (flood guard)", &p, NULL,
		 NULL);
	p.flags = FG_TCP_ACK;
	s_ps_run("ack to a service without backends", &p, NULL, NULL);
	p = (struct fg_pb_flow){ .src = S_CLI6, .dst = "2001:db8::14", .sport = 43002,
			   .dport = 53, .proto = FG_IPPROTO_UDP, .plen = 10 };
	s_ps_run("udp to a service without backends", &p, NULL, NULL);

	/* Next hops: unresolved (twice: DPDK asks once a second), no
	 * route. */
	for (i = 0; i < 2; i++) {
		p = (struct fg_pb_flow){ .src = S_CLI4, .dst = "198.18.0.15",
				   .sport = (__u16)(42000 + i), .dport = 80,
				   .proto = FG_IPPROTO_TCP, .flags = FG_TCP_SYN };
		s_ps_run("v4 backend's next hop unresolved", &p, NULL, NULL);
		p.src = S_CLI6;
		p.dst = "2001:db8::15";
		s_ps_run("v6 backend's next hop unresolved", &p, NULL, NULL);
	}
	p = (struct fg_pb_flow){ .src = S_CLI4, .dst = "198.18.0.16", .sport = 42010,
			   .dport = 80, .proto = FG_IPPROTO_TCP,
			   .flags = FG_TCP_SYN };
	s_ps_run("v4 backend without a route", &p, NULL, NULL);
	p.src = S_CLI6;
	p.dst = "2001:db8::16";
	s_ps_run("v6 backend without a route", &p, NULL, NULL);
	g.pool_on = 0;
}

/* --------------------------------------- pass-through, fragments, bad */

static void s_pass(void)
{
	struct fg_pb_flow p4 = { .src = S_CLI4, .dst = "198.18.0.200", .sport = 40000,
			   .dport = 80, .proto = FG_IPPROTO_TCP,
			   .flags = FG_TCP_SYN, .mss = 1 };
	struct fg_pb_flow p6 = p4, p;
	__u8 in[S_PKT_MAX];
	struct fg_pb pb;
	__u32 len, l, whole;
	char d[160];
	int v, i;

	g.cur = C_PASS;
	g.pool_on = 1;
	p6.src = S_CLI6;
	p6.dst = "2001:db8::200";
	s_ps_run("v4 syn to a non-vip", &p4, NULL, NULL);
	s_ps_run("v6 syn to a non-vip", &p6, NULL, NULL);
	p = p4;
	p.vlan = 100;
	s_ps_run("tagged v4 syn to a non-vip", &p, NULL, NULL);
	p = p6;
	p.vlan = 100;
	s_ps_run("tagged v6 syn to a non-vip", &p, NULL, NULL);
	p = p4;
	p.dst = "198.18.0.10";
	p.dport = 81;
	s_ps_run("v4 to a vip on an unserved port", &p, NULL, NULL);
	p.dst = "198.18.0.11";
	p.dport = 80;
	p.proto = FG_IPPROTO_UDP;
	s_ps_run("udp to a tcp-only vip port", &p, NULL, NULL);
	p = p6;
	p.dst = "2001:db8::10";
	p.proto = FG_IPPROTO_ICMP;
	p.sport = 7;
	s_ps_run("icmpv6 echo to a vip", &p, NULL, NULL);
	p = p4;
	p.dst = "198.18.0.10";
	p.proto = FG_IPPROTO_ICMP;
	p.sport = 7;
	s_ps_run("icmp echo to a vip", &p, NULL, NULL);
	p = p4;
	p.dst = S_SNAT4;
	p.dport = 22;
	s_ps_run("v4 to the snat address, no nat entry", &p, NULL, NULL);

	/* Nine destination-options headers. */
	{
		struct fg_pb_ip6 ip = { 0 };
		struct fg_pb_tcp t = { .sport = 40000, .dport = 80,
				       .flags = FG_TCP_SYN };

		fg_pb_addr(S_CLI6, ip.src);
		fg_pb_addr("2001:db8::10", ip.dst);
		fg_pb_init(&pb, in, 2048);
		fg_pb_eth(&pb, x_mac[M_IF], x_mac[M_PEER]);
		fg_pb_ip6(&pb, &ip);
		for (i = 0; i < FG_IPV6_EXT_MAX + 1; i++)
			fg_pb_ip6_ext(&pb, 60, 8);
		fg_pb_tcp(&pb, &t);
		s_frame("v6 with 9 extension headers to a vip", in,
			(__u32)fg_pb_finish(&pb), NULL, NULL);
	}

	/* Fragments. */
	p = (struct fg_pb_flow){ .src = S_CLI4, .dst = "198.18.0.10", .sport = 44000,
			   .dport = 80, .frag = 0x2000, .proto = FG_IPPROTO_TCP,
			   .flags = FG_TCP_ACK, .plen = 64 };
	s_ps_run("v4 first fragment to a vip", &p, NULL, NULL);
	p.frag = 0x2000 | 185;
	p.raw = 1;
	p.dst = "198.18.0.12";
	s_ps_run("v4 later fragment to a port-0 vip", &p, NULL, NULL);
	p = (struct fg_pb_flow){ .src = S_CLI6, .dst = "2001:db8::10", .sport = 44000,
			   .dport = 80, .frag6 = 1, .frag = 1,
			   .proto = FG_IPPROTO_TCP, .flags = FG_TCP_ACK,
			   .plen = 64 };
	s_ps_run("v6 first fragment to a vip", &p, NULL, NULL);
	p.dst = "2001:db8::200";
	s_ps_run("v6 fragment to a non-vip", &p, NULL, NULL);
	p = (struct fg_pb_flow){ .src = S_CLI6, .dst = "2001:db8::10", .sport = 5301,
			   .dport = 53, .frag6 = 1, .proto = FG_IPPROTO_UDP,
			   .plen = 10 };
	s_ps_run("v6 atomic fragment", &p, NULL, NULL);
	g.pool_on = 0;

	/* Cut at every length, to a vip and to a non-vip. */
	for (v = 0; v < 4; v++) {
		p = v & 1 ? p6 : p4;
		if (!(v & 2))
			p.dst = v & 1 ? "2001:db8::10" : "198.18.0.10";
		len = s_build(&p, in, &pb);
		whole = (__u32)pb.l3_off + (v & 1 ? 40U : 20U);
		(void)whole;
		for (l = 14; l < len; l++) {
			snprintf(d, sizeof(d), "%s syn%s cut to %u of %u",
				 v & 1 ? "v6" : "v4", v & 2 ? " to a non-vip" : "",
				 l, len);
			s_frame(d, in, l, NULL, NULL);
		}
	}

	/* Header fields that lie, to a vip and to a non-vip. */
	{
		static const struct {
			const char *desc;
			int v6;
			__u32 off;
			__u8 val;
		} bad[] = {
			{ "v4 ihl 4", 0, 0, 0x44 },
			{ "v4 version 5", 0, 0, 0x55 },
			{ "v4 total length beyond the frame", 0, 2, 0xff },
			{ "v4 total length below the header", 0, 3, 19 },
			{ "v4 tcp doff 4", 0, 20 + 12, 0x40 },
			{ "v4 tcp doff beyond the packet", 0, 20 + 12, 0xf0 },
			{ "v6 version 4", 1, 0, 0x40 },
			{ "v6 payload length beyond the frame", 1, 4, 0x7f },
			{ "v6 tcp doff 3", 1, 40 + 12, 0x30 },
		};
		unsigned int b;

		for (b = 0; b < 2 * S_ARRAY_SIZE(bad); b++) {
			p = bad[b / 2].v6 ? p6 : p4;
			if (!(b & 1))
				p.dst = bad[b / 2].v6 ? "2001:db8::10" :
					"198.18.0.10";
			len = s_build(&p, in, &pb);
			in[pb.l3_off + bad[b / 2].off] = bad[b / 2].val;
			snprintf(d, sizeof(d), "%s%s", bad[b / 2].desc,
				 b & 1 ? " (non-vip)" : "");
			s_frame(d, in, len, NULL, NULL);
		}
	}
	p = (struct fg_pb_flow){ .src = S_CLI4, .dst = "198.18.0.10", .sport = 5300,
			   .dport = 53, .proto = FG_IPPROTO_UDP, .plen = 8 };
	len = s_build(&p, in, &pb);
	fg_pb_put_be16(in, pb.l4_off + 4, 7);
	s_frame("v4 udp length 7", in, len, NULL, NULL);
	{
		struct fg_pb_ip4 ip = { .src = fg_pb_ip4h(S_CLI4),
					.dst = fg_pb_ip4h("198.18.0.10") };
		struct fg_pb_tcp t = { .sport = 1, .dport = 80,
				       .flags = FG_TCP_SYN };

		fg_pb_init(&pb, in, 2048);
		fg_pb_eth(&pb, x_mac[M_IF], x_mac[M_PEER]);
		fg_pb_vlan(&pb, 0x88a8, 1);
		fg_pb_vlan(&pb, 0x8100, 2);
		fg_pb_vlan(&pb, 0x8100, 3);
		fg_pb_ip4(&pb, &ip);
		fg_pb_tcp(&pb, &t);
		s_frame("three vlan tags", in, (__u32)fg_pb_finish(&pb), NULL,
			NULL);
	}
}

/* -------------------------------------------------------------- limits */

/* n packets of ps, the source port counting up from ps->sport when
 * new_ports (else one flow). */
static void s_burst(const char *what, struct fg_pb_flow ps, unsigned int n,
		    int new_ports)
{
	__u16 port = ps.sport;
	unsigned int i;
	char d[160];

	for (i = 0; i < n; i++) {
		if (new_ports)
			ps.sport = (__u16)(port + i);
		snprintf(d, sizeof(d), "%s: packet %u", what, i + 1);
		s_ps_run(d, &ps, NULL, NULL);
	}
}

static void s_limits(void)
{
	struct fg_pb_flow p;
	unsigned int i, v;

	g.cur = C_LIMIT;
	p = (struct fg_pb_flow){ .src = "198.18.0.110", .dst = "198.18.0.30",
			   .sport = 1000, .dport = 80, .proto = FG_IPPROTO_TCP,
			   .flags = FG_TCP_ACK };
	s_burst("pps src_ip burst 3, source A", p, 5, 1);
	p.src = "198.18.0.111";
	s_burst("pps src_ip burst 3, source B", p, 4, 1);

	p = (struct fg_pb_flow){ .src = "198.18.0.112", .dst = "198.18.0.31",
			   .sport = 2000, .dport = 80, .proto = FG_IPPROTO_TCP,
			   .flags = FG_TCP_ACK, .plen = 100 };
	s_burst("bps: 1232-bit frames", p, 3, 0);
	p.plen = 0;
	s_burst("bps: 432-bit frames", p, 2, 0);

	p = (struct fg_pb_flow){ .src = "198.18.0.113", .dst = "198.18.0.32",
			   .dport = 80, .proto = FG_IPPROTO_TCP };
	for (i = 0; i < 4; i++) {
		p.sport = (__u16)(3000 + i);
		p.flags = FG_TCP_SYN;
		s_ps_run("cps burst 2: syn", &p, NULL, NULL);
		p.flags = FG_TCP_ACK;
		s_ps_run("cps burst 2: ack of that flow", &p, NULL, NULL);
		p.sport = (__u16)(3100 + i);
		s_ps_run("cps burst 2: ack of another flow", &p, NULL, NULL);
	}

	{
		static const char *const srcs[] = { "198.18.4.1", "198.18.4.2",
						    "198.18.4.200", "198.18.5.1" };
		static const char *const srcs6[] = {
			"2001:db8:4::1", "2001:db8:4::ffff:1", "2001:db8:4::2",
			"2001:db8:4:1::1",
		};

		p = (struct fg_pb_flow){ .dst = "198.18.0.33", .sport = 4000,
				   .dport = 80, .proto = FG_IPPROTO_TCP,
				   .flags = FG_TCP_ACK };
		for (i = 0; i < 4; i++) {
			p.src = srcs[i];
			s_ps_run("src_prefix/24", &p, NULL, NULL);
		}
		p.dst = "2001:db8::33";
		for (i = 0; i < 4; i++) {
			p.src = srcs6[i];
			s_ps_run("src_prefix/64", &p, NULL, NULL);
		}
	}

	p = (struct fg_pb_flow){ .src = "198.18.0.114", .dst = "198.18.0.34",
			   .sport = 6000, .dport = 53, .proto = FG_IPPROTO_UDP,
			   .plen = 8 };
	s_burst("flow key burst 1: flow A", p, 2, 0);
	p.sport = 6001;
	s_burst("flow key burst 1: flow B", p, 2, 0);

	p = (struct fg_pb_flow){ .src = "198.18.0.115", .dst = "198.18.0.35",
			   .sport = 7000, .dport = 80, .proto = FG_IPPROTO_TCP,
			   .flags = FG_TCP_ACK };
	s_ps_run("service key burst 2: client A", &p, NULL, NULL);
	p.src = "198.18.0.116";
	s_ps_run("service key burst 2: client B", &p, NULL, NULL);
	p.src = "198.18.9.117";
	s_ps_run("service key burst 2: client C", &p, NULL, NULL);

	p = (struct fg_pb_flow){ .src = "198.18.0.118", .dst = "198.18.0.37",
			   .sport = 8000, .dport = 80, .proto = FG_IPPROTO_TCP,
			   .flags = FG_TCP_ACK };
	s_burst("dry run burst 1", p, 3, 0);

	p = (struct fg_pb_flow){ .src = "198.18.0.119", .dst = "198.18.0.39",
			   .sport = 9000, .dport = 80, .proto = FG_IPPROTO_TCP,
			   .flags = FG_TCP_ACK };
	s_burst("two limits, burst 5 and 2", p, 4, 0);

	p = (struct fg_pb_flow){ .src = "198.18.7.5", .dst = "198.18.0.10",
			   .sport = 11000, .dport = 80, .proto = FG_IPPROTO_TCP,
			   .flags = FG_TCP_ACK };
	s_burst("global limit, matching source", p, 3, 0);
	p.src = "198.18.8.5";
	s_burst("global limit, source outside match.src", p, 2, 0);
	p.src = "198.18.7.6";
	p.dport = 22;
	s_burst("global limit, other dst_port", p, 2, 0);

	/* cps on a NAT service: the refused SYN takes no port. */
	p = (struct fg_pb_flow){ .src = S_CLI4, .dst = "198.18.0.40", .sport = 12500,
			   .dport = 80, .proto = FG_IPPROTO_TCP,
			   .flags = FG_TCP_SYN, .mss = 1 };
	s_burst("nat service with a cps limit: syns", p, 3, 1);

	/* Reset: SYN, data with ACK, FIN without ACK, RST. */
	for (v = 0; v < 2; v++) {
		p = (struct fg_pb_flow){ .src = v ? "2001:db8::120" : "198.18.0.120",
				   .dst = v ? "2001:db8::36" : "198.18.0.36",
				   .sport = 12000, .dport = 80,
				   .proto = FG_IPPROTO_TCP, .flags = FG_TCP_SYN,
				   .seq = 0xfffffff0, .mss = 1, .vlan = 0 };
		s_ps_run("reset limit: syn admitted", &p, NULL, NULL);
		p.sport = 12001;
		s_ps_run("reset: refused syn answered", &p, NULL, NULL);
		p.flags = FG_TCP_ACK | FG_TCP_PSH;
		p.mss = 0;
		p.seq = 0x01020304;
		p.ack = 0xa0b0c0d0;
		p.plen = 100;
		s_ps_run("reset: refused data segment", &p, NULL, NULL);
		p.flags = FG_TCP_FIN;
		p.plen = 10;
		s_ps_run("reset: refused fin without ack", &p, NULL, NULL);
		p.flags = FG_TCP_RST;
		p.plen = 0;
		s_ps_run("reset: refused rst", &p, NULL, NULL);
		p.flags = FG_TCP_SYN;
		p.vlan = 100;
		s_ps_run("reset: refused tagged syn", &p, NULL, NULL);
	}
}

/* ------------------------------------------------------------ too big */

static void s_too_big(void)
{
	static const struct {
		const char *what, *src, *dst;
		__u16 plen, frag;
	} tb[] = {
		{ "ipip v4, 1500 bytes DF", S_CLI4, "198.18.0.10", 1460, 0x4000 },
		{ "ipip v4, 1500 bytes without DF", S_CLI4, "198.18.0.10", 1460, 0 },
		{ "ipip v4, 1480 bytes DF (fits)", S_CLI4, "198.18.0.10", 1440, 0x4000 },
		{ "ipip v4, 1481 bytes DF", S_CLI4, "198.18.0.10", 1441, 0x4000 },
		{ "ip6ip6, 1500 bytes", S_CLI6, "2001:db8::10", 1440, 0 },
		{ "ip6ip6, 1460 bytes (fits)", S_CLI6, "2001:db8::10", 1400, 0 },
		{ "gue v4, 1480 bytes DF", S_CLI4, "198.18.0.11", 1440, 0x4000 },
		{ "gue v6, 1460 bytes", S_CLI6, "2001:db8::11", 1400, 0 },
		{ "gue v6, 1452 bytes (fits)", S_CLI6, "2001:db8::11", 1392, 0 },
		{ "4-in-6, 1480 bytes DF", S_CLI4, "198.18.0.17", 1440, 0x4000 },
		{ "6-in-4, 1500 bytes", S_CLI6, "2001:db8::17", 1440, 0 },
		{ "unresolved next hop, 1500 bytes DF", S_CLI4, "198.18.0.15", 1460, 0x4000 },
		{ "no route, 1500 bytes DF", S_CLI4, "198.18.0.16", 1460, 0x4000 },
		{ "client without a neighbour", "198.18.0.101", "198.18.0.10", 1460, 0x4000 },
		{ "v6 client without a neighbour", "2001:db8::101", "2001:db8::10", 1440, 0 },
		{ "client without a route", "198.19.200.1", "198.18.0.10", 1460, 0x4000 },
		{ "nat v4, 1500 bytes DF (no growth)", S_CLI4, "198.18.0.13", 1460, 0x4000 },
		{ "v4 1500 bytes to a non-vip", S_CLI4, "198.18.0.200", 1460, 0x4000 },
	};
	struct fg_pb_flow p;
	unsigned int i;

	g.cur = C_TOOBIG;
	g.pool_on = 1;
	for (i = 0; i < S_ARRAY_SIZE(tb); i++) {
		p = (struct fg_pb_flow){ .src = tb[i].src, .dst = tb[i].dst,
				   .sport = (__u16)(44100 + i), .dport = 80,
				   .proto = FG_IPPROTO_TCP, .flags = FG_TCP_ACK,
				   .seq = 5000, .ack = 6000, .plen = tb[i].plen,
				   .frag = tb[i].frag };
		s_ps_run(tb[i].what, &p, NULL, NULL);
	}
	g.pool_on = 0;
}

/* ---------------------------------------------------------- ARP / ND */

/* An ARP frame: oper from sha/spa about tpa, in the XDP environment. */
static __u32 s_arp(__u8 *f, __u16 oper, const char *spa, const char *tpa)
{
	return fg_pb_arp(f, oper, oper == 1 ? NULL : x_mac[M_IF],
			 x_mac[M_PEER], spa, oper == 2 ? x_mac[M_IF] : NULL,
			 tpa);
}

/* A neighbour solicitation (type 135, to the solicited-node group of
 * target) or advertisement (136, to dst) about target, from src. */
static __u32 s_nd(__u8 *f, __u8 type, const char *src, const char *target,
		  const char *dst, const __u8 *lla)
{
	return fg_pb_nd(f, type, x_mac[M_IF], x_mac[M_PEER], src, target, dst,
			lla);
}

static void s_arp_nd(void)
{
	static const char *const own4[] = { "198.18.0.10", S_TUN4, S_SNAT4 };
	static const char *const own6[] = { "2001:db8::10", S_TUN6, S_SNAT6 };
	__u8 f[128];
	unsigned int i;

	g.cur = C_ARPND;
	/* Senders that no frame of the run is routed to: what DPDK learns
	 * from them changes nothing else. */
	for (i = 0; i < S_ARRAY_SIZE(own4); i++) {
		s_frame("arp request for an own address", f,
			s_arp(f, 1, "198.18.0.201", own4[i]), NULL, NULL);
		s_frame("arp reply to an own address", f,
			s_arp(f, 2, "198.18.0.202", own4[i]), NULL, NULL);
	}
	s_frame("arp request for another address", f,
		s_arp(f, 1, "198.18.0.201", "198.18.0.1"), NULL, NULL);
	s_frame("arp reply to another address", f,
		s_arp(f, 2, "198.18.0.203", "198.18.0.204"), NULL, NULL);
	s_frame("arp request cut to 30 bytes", f,
		s_arp(f, 1, "198.18.0.201", "198.18.0.10") - 30, NULL, NULL);
	for (i = 0; i < S_ARRAY_SIZE(own6); i++) {
		s_frame("neighbour solicitation for an own address", f,
			s_nd(f, 135, "2001:db8::201", own6[i], NULL,
			     x_mac[M_PEER]), NULL, NULL);
		s_frame("neighbour advertisement to an own address", f,
			s_nd(f, 136, "2001:db8::202", "2001:db8::202", own6[i],
			     x_mac[M_PEER]), NULL, NULL);
	}
	s_frame("neighbour solicitation for another address", f,
		s_nd(f, 135, "2001:db8::201", "2001:db8::1", NULL,
		     x_mac[M_PEER]), NULL, NULL);
	s_frame("neighbour advertisement to another address", f,
		s_nd(f, 136, "2001:db8::203", "2001:db8::203", "2001:db8::204",
		     x_mac[M_PEER]), NULL, NULL);
}

/* -------------------------------------------------------- rule switch */

static void x_install(const struct fg_compiled *cp);
static void s_cross_family(struct fg_compiled *cp, const char *name,
			   const char *addr);

/* s_edit - in rules (at most cap bytes), replace the only occurrence of
 * from by to. */
static void s_edit(char *rules, size_t cap, const char *from, const char *to)
{
	char *at = strstr(rules, from);
	size_t fl = strlen(from), tl = strlen(to), rest;

	S_REQUIRE(at && !strstr(at + 1, from));
	rest = strlen(at + fl) + 1;
	S_REQUIRE((size_t)(at - rules) + tl + rest <= cap);
	memmove(at + tl, at + fl, rest);
	memcpy(at, to, tl);
}

/* Flows of the services the second rule set changes, before and after
 * the switch: n flows of ps from consecutive client ports, first each
 * opening packet, then each next one. */
static void s_gen_flows(const char *what, struct fg_pb_flow ps, unsigned int n)
{
	__u16 port = ps.sport;
	__u8 first = ps.flags;
	unsigned int i;
	char d[160];

	for (i = 0; i < n; i++) {
		ps.sport = (__u16)(port + i);
		ps.flags = first;
		ps.mss = first == FG_TCP_SYN;
		snprintf(d, sizeof(d), "%s: flow %u opens", what, i);
		s_ps_run(d, &ps, NULL, NULL);
		if (ps.proto != FG_IPPROTO_TCP)
			continue;
		ps.flags = FG_TCP_ACK;
		ps.mss = 0;
		snprintf(d, sizeof(d), "%s: flow %u ack", what, i);
		s_ps_run(d, &ps, NULL, NULL);
	}
}

/*
 * s_switch - a second rule set, compiled on the same compiler (the next
 * generation, its ids and ring slices), written into both dataplanes as
 * a live switch: the XDP program's inactive generation, then its
 * config; a new tables object for the DPDK path, whose lcore state stays.
 * Established flows of changed services go on (kept, re-hashed off a
 * down or removed backend, drained), new ones follow the new rings.
 */
static void s_switch(void)
{
	static char rules[sizeof(s_rules) + 256];
	struct fg_pb_flow t4 = { .src = "198.18.0.170", .dst = "198.18.0.10",
			   .sport = 20000, .dport = 80, .proto = FG_IPPROTO_TCP,
			   .flags = FG_TCP_SYN };
	struct fg_pb_flow u4 = { .src = "198.18.0.170", .dst = "198.18.0.10",
			   .sport = 21000, .dport = 53, .proto = FG_IPPROTO_UDP,
			   .plen = 12 };
	struct fg_pb_flow t6 = { .src = "2001:db8::170", .dst = "2001:db8::10",
			   .sport = 22000, .dport = 80, .proto = FG_IPPROTO_TCP,
			   .flags = FG_TCP_SYN };
	struct fg_pb_flow x4 = { .src = "198.18.0.170", .dst = "198.18.0.10",
			   .sport = 23000, .dport = 22, .proto = FG_IPPROTO_TCP,
			   .flags = FG_TCP_SYN };
	struct fg_compiled *cp = NULL;
	struct fg_dp_tables *old = g.tab;
	char err[512];
	int e;

	g.cur = C_GEN;
	s_gen_flows("before the switch, tcp4", t4, 12);
	s_gen_flows("before the switch, udp4", u4, 12);
	s_gen_flows("before the switch, tcp6", t6, 12);
	s_gen_flows("before the switch, tcp4 port 22", x4, 2);

	/* tcp4: backend 198.19.0.1 down; udp4: 198.19.0.4 removed; tcp6:
	 * 2001:db8:19::1 drained; tcp4x (port 22) removed. */
	memcpy(rules, s_rules, sizeof(s_rules));
	s_edit(rules, sizeof(rules), "{\"addr\": \"198.19.0.1\"}, {\"addr\": \"198.19.0.2\"}",
	       "{\"addr\": \"198.19.0.1\", \"state\": \"down\"}, {\"addr\": \"198.19.0.2\"}");
	s_edit(rules, sizeof(rules), "{\"addr\": \"198.19.0.3\"}, {\"addr\": \"198.19.0.4\"}",
	       "{\"addr\": \"198.19.0.3\"}");
	s_edit(rules, sizeof(rules), "{\"addr\": \"2001:db8:19::1\"}, {\"addr\": \"2001:db8:19::2\"}",
	       "{\"addr\": \"2001:db8:19::1\", \"weight\": 0}, {\"addr\": \"2001:db8:19::2\"}");
	s_edit(rules, sizeof(rules),
	       " \"tcp4x\": {\"vip\": \"198.18.0.10\", \"port\": 22, \"proto\": \"tcp\","
	       "  \"backends\": [{\"addr\": \"198.19.0.22\"}]},", "");
	if (fg_dp_rules_compile(g.comp, rules, strlen(rules), 2, &cp, err,
				sizeof(err))) {
		fprintf(stderr, "test_dp_same: second rules: %s\n", err);
		exit(1);
	}
	S_REQUIRE(cp->retired_backends.n > 0 && cp->nstale_keys > 0);
	s_cross_family(cp, "v4in6", "2001:db8:19::17");
	s_cross_family(cp, "v6in4", "198.19.0.17");
	g.tab = fg_dp_tables_new(cp, &g.set, SOCKET_ID_ANY, &e, err,
				 sizeof(err));
	if (!g.tab) {
		fprintf(stderr, "test_dp_same: second dpdk tables: %s\n", err);
		exit(1);
	}
	x_install(cp);
	/* No lcore runs meanwhile: the old tables go at once. */
	fg_dp_tables_free(old);
	S_REQUIRE(!fg_compiler_commit(g.comp, cp));
	fg_compiled_free(cp);

	t4.flags = u4.flags = t6.flags = x4.flags = FG_TCP_ACK;
	s_gen_flows("after the switch, tcp4 established", t4, 12);
	s_gen_flows("after the switch, udp4 established", u4, 12);
	s_gen_flows("after the switch, tcp6 established", t6, 12);
	s_gen_flows("after the switch, removed port 22", x4, 2);
	t4.flags = t6.flags = x4.flags = FG_TCP_SYN;
	t4.sport = 24000;
	u4.sport = 25000;
	t6.sport = 26000;
	x4.sport = 27000;
	s_gen_flows("after the switch, tcp4 new", t4, 12);
	s_gen_flows("after the switch, udp4 new", u4, 12);
	s_gen_flows("after the switch, tcp6 new", t6, 12);
	s_gen_flows("after the switch, removed port 22 new", x4, 2);
}

/* -------------------------------------------------------------- aging */

/* The NAT port the XDP side gave the forward packet in out. */
static __u16 s_nat_port(const __u8 *out, __u32 len, int v6)
{
	__u32 l4 = 14 + (v6 ? 40U : 20U);

	S_REQUIRE(len >= l4 + 4);
	return fg_pb_get_be16(out, l4);
}

/*
 * s_aging - flows left idle past their timeouts, on the connection
 * tables' clock: both sides read the time the test gives them (fg_clock,
 * now_ns), which runs ahead of the real clock by g.off from here on. The
 * XDP limits read the real clock, so no frame from here on may reach a
 * limit (the limit sequences and the mutations ran before). Established
 * UDP (30 s) and TCP (300 s) flows, DSR and NAT, with and without
 * traffic in between.
 *
 * NAT reverse entries (frames marked S_NAT_KEPT) live until evicted in
 * both dataplanes, as the XDP program's LRU maps do: the reply of a flow
 * whose client kept it alive (conntrack live) while its backend was quiet
 * for a timeout is translated, and a flow that expired takes a new NAT
 * port (the next probe), not its old one. The DPDK path used to expire
 * them by their own last_seen, which only the return leg refreshes; this
 * test found it.
 */
#define S_NAT_KEPT " [NAT reverse entry kept until evicted, as the LRU maps]"
static void s_aging(void)
{
	const __u64 sec = 1000000000ULL;
	struct fg_pb_flow a = { .src = "198.18.0.160", .dst = "198.18.0.10",
			  .sport = 7000, .dport = 53, .proto = FG_IPPROTO_UDP,
			  .plen = 20 };
	struct fg_pb_flow b = { .src = S_CLI4, .dst = "198.18.0.13", .sport = 47000,
			  .dport = 53, .proto = FG_IPPROTO_UDP, .plen = 20 };
	struct fg_pb_flow c = { .src = "198.18.0.161", .dst = "198.18.0.10",
			  .sport = 7001, .dport = 80, .proto = FG_IPPROTO_TCP,
			  .flags = FG_TCP_SYN, .seq = 100, .mss = 1 };
	struct fg_pb_flow d = { .src = S_CLI4, .dst = "198.18.0.13", .sport = 47001,
			  .dport = 80, .proto = FG_IPPROTO_TCP,
			  .flags = FG_TCP_SYN, .seq = 100, .mss = 1 };
	struct fg_pb_flow e = { .src = S_CLI6, .dst = "2001:db8::13", .sport = 47002,
			  .dport = 53, .proto = FG_IPPROTO_UDP, .plen = 20 };
	struct fg_pb_flow br, dr, er;
	__u8 out[S_PKT_MAX];
	__u32 ol;

	g.cur = C_AGE;
	s_ps_run("udp dsr flow A: first datagram", &a, NULL, NULL);
	s_ps_run("udp nat flow B: first datagram", &b, out, &ol);
	br = (struct fg_pb_flow){ .src = "198.19.0.14", .dst = S_SNAT4,
			    .sport = 5353, .dport = s_nat_port(out, ol, 0),
			    .proto = FG_IPPROTO_UDP, .plen = 30, .smac = x_mac[M_NH] };
	s_ps_run("udp nat flow B: reply", &br, NULL, NULL);
	s_ps_run("tcp dsr flow C: syn", &c, NULL, NULL);
	c.flags = FG_TCP_ACK;
	c.mss = 0;
	s_ps_run("tcp dsr flow C: ack", &c, NULL, NULL);
	s_ps_run("tcp nat flow D: syn", &d, out, &ol);
	dr = (struct fg_pb_flow){ .src = "198.19.0.13", .dst = S_SNAT4,
			    .sport = 8080, .dport = s_nat_port(out, ol, 0),
			    .proto = FG_IPPROTO_TCP,
			    .flags = FG_TCP_SYN | FG_TCP_ACK, .seq = 900,
			    .ack = 101, .smac = x_mac[M_NH] };
	s_ps_run("tcp nat flow D: syn-ack", &dr, NULL, NULL);
	d.flags = FG_TCP_ACK;
	d.mss = 0;
	s_ps_run("tcp nat flow D: ack", &d, NULL, NULL);
	dr.flags = FG_TCP_ACK;
	s_ps_run("tcp nat flow D: backend's ack", &dr, NULL, NULL);
	s_ps_run("udp nat v6 flow E: first datagram", &e, out, &ol);
	er = (struct fg_pb_flow){ .src = "2001:db8:19::14", .dst = S_SNAT6,
			    .sport = 5353, .dport = s_nat_port(out, ol, 1),
			    .proto = FG_IPPROTO_UDP, .plen = 30, .smac = x_mac[M_NH] };
	s_ps_run("udp nat v6 flow E: reply", &er, NULL, NULL);

	g.off += 20 * sec;
	s_ps_run("+20 s: flow A datagram (live, refreshed)", &a, NULL, NULL);
	s_ps_run("+20 s: flow B client datagram (live, refreshed)", &b, NULL,
		 NULL);
	s_ps_run("+20 s: flow E reply only", &er, NULL, NULL);

	g.off += 20 * sec;
	s_ps_run("+40 s: flow A datagram (live)", &a, NULL, NULL);
	s_ps_run("+40 s: flow B client datagram (live)", &b, NULL, NULL);
	s_ps_run("+40 s: flow B reply (the client's side live)"
		 S_NAT_KEPT, &br, NULL, NULL);
	s_ps_run("+40 s: flow E client datagram (client idle 40 s)", &e, NULL,
		 NULL);
	s_ps_run("+40 s: flow C ack (tcp, live)", &c, NULL, NULL);

	g.off += 60 * sec;
	s_ps_run("+100 s: flow A datagram (idle 60 s: a new flow)", &a, NULL,
		 NULL);
	s_ps_run("+100 s: flow B reply (idle 60 s)"
		 S_NAT_KEPT, &br, NULL, NULL);
	s_ps_run("+100 s: flow B client datagram (idle 60 s)"
		 S_NAT_KEPT, &b, NULL, NULL);
	s_ps_run("+100 s: flow C ack (tcp, idle 60 s: live)", &c, NULL, NULL);
	s_ps_run("+100 s: flow D backend's ack (tcp, live)", &dr, NULL, NULL);

	g.off += 400 * sec;
	s_ps_run("+500 s: flow C ack (tcp, idle 400 s)", &c, NULL, NULL);
	s_ps_run("+500 s: flow D backend's ack (idle 400 s)"
		 S_NAT_KEPT, &dr, NULL, NULL);
	s_ps_run("+500 s: flow D client ack (idle 400 s)", &d, NULL, NULL);
	c.flags = FG_TCP_SYN;
	c.sport = 7002;
	c.dst = "198.18.0.15";
	s_ps_run("+500 s: syn to an unresolved next hop", &c, NULL, NULL);
}

/* ---------------------------------------------------------- mutations */

static __u64 s_rand(void)
{
	/* xorshift64*: seeded, so a failure repeats. */
	g.rng ^= g.rng >> 12;
	g.rng ^= g.rng << 25;
	g.rng ^= g.rng >> 27;
	return g.rng * 0x2545f4914f6cdd1dULL;
}

/* The frame is to a destination a limit judges (its address, any port,
 * tagged or not) or from the global limit's match.src. */
static int s_limited(const __u8 *f, __u32 len)
{
	struct fg_pkt p;
	__u8 a[16];
	unsigned int i;

	if (fg_parse(f, f + len, &p) != FG_PARSE_OK)
		return 0;
	for (i = 0; i < S_ARRAY_SIZE(s_limited_vips); i++) {
		fg_pb_addr(s_limited_vips[i], a);
		if (!memcmp(p.dst, a, 16))
			return 1;
	}
	fg_pb_addr("198.18.7.0", a);
	return p.family == FG_AF_INET && !memcmp(p.src, a, 3);
}

static void s_mutations(void)
{
	static __u8 f[S_PKT_MAX];
	unsigned int k, j, n, skipped = 0;
	__u32 len;
	char d[96];

	g.cur = C_MUT;
	g.rng = 0x9e3779b97f4a7c15ULL;
	S_REQUIRE(g.npool > 0);
	for (k = 0; k < S_MUTATIONS; k++) {
		unsigned int b = (unsigned int)(s_rand() % g.npool);

		len = g.pool_len[b];
		memcpy(f, g.pool[b], len);
		n = 1 + (unsigned int)(s_rand() % 3);
		for (j = 0; j < n; j++) {
			__u64 r = s_rand();
			__u32 off = (__u32)((r >> 8) % len);

			switch (r & 3) {
			case 0:
			case 1: /* one bit */
				f[off] ^= (__u8)(1U << ((r >> 40) & 7));
				break;
			case 2: /* one byte */
				f[off] = (__u8)(r >> 48);
				break;
			default: /* cut, never under an Ethernet header */
				if (off >= 14)
					len = off;
				break;
			}
		}
		if (s_limited(f, len)) {
			skipped++;
			continue;
		}
		snprintf(d, sizeof(d), "mutation %u of pool frame %u", k, b);
		s_frame(d, f, len, NULL, NULL);
	}
	printf("# mutations: %u of %u skipped (to a limited service)\n",
	       skipped, S_MUTATIONS);
}

/* -------------------------------------------------------------- setup */

static int s_net_setup(void)
{
	static const char *const cmds[] = {
		"ip -6 addr add 2001:db8::1/64 dev " S_IF " nodad",
		"ip neigh replace 198.18.0.2 lladdr 02:00:00:00:00:02 nud permanent dev " S_IF,
		"ip neigh replace " S_CLI4 " lladdr 02:00:00:00:00:64 nud permanent dev " S_IF,
		"ip -6 neigh replace 2001:db8::2 lladdr 02:00:00:00:00:02 nud permanent dev " S_IF,
		"ip -6 neigh replace " S_CLI6 " lladdr 02:00:00:00:00:64 nud permanent dev " S_IF,
		"ip route add 198.19.0.0/24 via 198.18.0.2 dev " S_IF,
		"ip route add 198.19.1.0/24 via 198.18.0.3 dev " S_IF,
		"ip -6 route add 2001:db8:19::/64 via 2001:db8::2 dev " S_IF,
		"ip -6 route add 2001:db8:19:1::/64 via 2001:db8::3 dev " S_IF,
	};

	g.ifindex = fg_h_net_setup(S_IF, S_PEER, cmds, S_ARRAY_SIZE(cmds));
	return g.ifindex > 0 ? 0 : -1;
}

/* The DPDK route prefix/len via gw (NULL: connected) out of port 0. */
static void d_route(const char *prefix, unsigned int len, const char *gw)
{
	struct fg_dp_route *r = &g.set.route[g.set.nroutes++];

	memset(r, 0, sizeof(*r));
	r->family = fg_pb_fam(prefix) == 4 ? FG_AF_INET : FG_AF_INET6;
	r->len = (uint8_t)len;
	fg_pb_addr(prefix, (__u8 *)r->prefix);
	if (gw)
		fg_pb_addr(gw, (__u8 *)r->gw);
}

/* The DPDK path learns neighbour ip at mac (an M_* of the DPDK
 * environment), as from an answer to its own request. */
static void d_learn(const char *ip, int mac)
{
	struct rte_mbuf *m;
	__u8 f[128];
	__u32 len;

	if (fg_pb_fam(ip) == 4)
		len = fg_pb_arp(f, 2, d_mac[M_IF], d_mac[mac], ip, d_mac[M_IF],
				S_TUN4);
	else
		len = fg_pb_nd(f, 136, d_mac[M_IF], d_mac[mac], ip, ip, S_TUN6,
			       d_mac[mac]);
	m = d_mbuf(f, len);
	S_REQUIRE(fg_dp_learn(g.lc, g.tab, 0, m, s_now()) == 1);
	rte_pktmbuf_free(m);
}

/* Load the XDP program with the settings the DPDK path gets too. */
static int x_load(void)
{
	const struct fg_h_load_opts o = {
		.seed = &s_seed,
		.tun4 = S_TUN4, .tun6 = S_TUN6,
		.snat4 = S_SNAT4, .snat6 = S_SNAT6,
		.gue_port = S_GUE_PORT,
		.ct_lines = S_CT_FLOWS / FG_CT_WAYS,
		.ct_syn_lines = S_CT_FLOWS / FG_CT_WAYS,
		.bucket_slots = S_BUCKETS,
		.ring_slots = S_RING_SLOTS,
		.backends = S_BACKENDS_MAP,
		.nat_entries = S_NAT,
		.ncpus = g.ncpus,
	};

	return fg_h_load(&o, &g.skel, &g.fd);
}

/*
 * x_install - write the images of cp into the XDP maps as fg_xdp_apply()
 * does: the VIP filter with the SNAT addresses, backends, rings, limits,
 * the generation's service slots (fg_svc_table_put), then the config.
 */
static void x_install(const struct fg_compiled *cp)
{
	static struct fg_svc_slot img[FG_SVC_SLOTS];
	struct fg_config cfg = cp->config;
	__u8 a[16];
	__u32 i, j, idx, zero = 0;

	memset(img, 0, sizeof(img));
	for (i = 0; i < cp->nsvcs; i++)
		S_REQUIRE(!fg_svc_table_put(img, &cp->svcs[i].key,
					    &cp->svcs[i].val));
	for (i = 0; i < cp->nbackends; i++)
		S_REQUIRE(!bpf_map_update_elem(g.fd.be, &cp->backends[i].id,
					       &cp->backends[i].val, BPF_ANY));
	for (i = 0; i < cp->nsvcs; i++) {
		const struct fg_compiled_svc *s = &cp->svcs[i];

		for (j = 0; j < s->val.ring_size; j++) {
			idx = s->val.ring_off + j;
			S_REQUIRE(!bpf_map_update_elem(g.fd.ring, &idx,
						       &s->ring[j], BPF_ANY));
		}
	}
	for (i = 0; i < cp->nlimits; i++)
		S_REQUIRE(!bpf_map_update_elem(g.fd.lim, &cp->limits[i].index,
					       &cp->limits[i].val, BPF_ANY));
	for (i = 0; i < FG_SVC_SLOTS; i++) {
		idx = cp->gen * FG_SVC_SLOTS + i;
		S_REQUIRE(!bpf_map_update_elem(g.fd.svc, &idx, &img[i], BPF_ANY));
	}
	fg_pb_addr(S_SNAT4, a);
	fg_vip_filter_add(&cfg, cp->gen & 1, (const __be32 *)a);
	fg_pb_addr(S_SNAT6, a);
	fg_vip_filter_add(&cfg, cp->gen & 1, (const __be32 *)a);
	S_REQUIRE(!bpf_map_update_elem(g.fd.cfg, &zero, &cfg, BPF_ANY));
	/* After the switch: retired backends are written invalid, so flows
	 * recorded on them re-hash. */
	for (i = 0; i < cp->retired_backends.n; i++) {
		struct fg_backend none;

		memset(&none, 0, sizeof(none));
		S_REQUIRE(!bpf_map_update_elem(g.fd.be,
					       &cp->retired_backends.ids[i],
					       &none, BPF_ANY));
	}
}

/* The DPDK path's settings: the XDP program's, and the namespace's
 * routes. */
static void d_settings(void)
{
	memset(&g.set, 0, sizeof(g.set));
	g.set.seed = s_seed;
	g.set.tunnel_src4 = htonl(fg_pb_ip4h(S_TUN4));
	fg_pb_addr(S_TUN6, (__u8 *)g.set.tunnel_src6);
	g.set.snat4 = htonl(fg_pb_ip4h(S_SNAT4));
	fg_pb_addr(S_SNAT6, (__u8 *)g.set.snat6);
	g.set.gue_port = S_GUE_PORT;
	g.set.ct_max = S_CT_FLOWS;
	g.set.ct_syn_max = S_CT_FLOWS;
	g.set.nat_max = S_NAT;
	g.set.nat_syn_max = S_NAT;
	g.set.buckets_max = S_BUCKETS;
	g.set.nworkers = 1;
	g.set.nports = 1;
	memcpy(g.set.port[0].mac, d_mac[M_IF], 6);
	g.set.port[0].mtu = 1500; /* fgx0's */
	d_route("198.18.0.0", 24, NULL);
	d_route("198.19.0.0", 24, "198.18.0.2");
	d_route("198.19.1.0", 24, "198.18.0.3");
	d_route("2001:db8::", 64, NULL);
	d_route("2001:db8:19::", 64, "2001:db8::2");
	d_route("2001:db8:19:1::", 64, "2001:db8::3");
}

/*
 * s_cross_family - make the only backend of service `name` in cp the
 * address `addr` of the other family. The rule model's JSON layer wants
 * a DSR backend of the VIP's family, while the tables (and the XDP
 * suite) carry 4-in-6 and 6-in-4 as well: the patched image is the one
 * both dataplanes get.
 */
static void s_cross_family(struct fg_compiled *cp, const char *name,
			   const char *addr)
{
	__u32 i, id = FG_NO_BACKEND;

	for (i = 0; i < cp->nsvcs; i++)
		if (!strcmp(cp->svcs[i].name, name) && cp->svcs[i].val.ring_size)
			id = cp->svcs[i].ring[0];
	S_REQUIRE(id != FG_NO_BACKEND);
	for (i = 0; i < cp->nbackends; i++) {
		struct fg_backend *b = &cp->backends[i].val;

		if (cp->backends[i].id != id)
			continue;
		memset(b->addr, 0, sizeof(b->addr));
		fg_pb_addr(addr, (__u8 *)b->addr);
		b->family = fg_pb_fam(addr) == 4 ? FG_AF_INET : FG_AF_INET6;
		return;
	}
	S_REQUIRE(0);
}

/* Compile the rule set once; install it into both dataplanes. */
static int s_install(void)
{
	const struct fg_compile_opts co = {
		.ring_slots = S_RING_SLOTS, .svc_max = S_SVC_N,
		.backend_max = S_BE_N, .limit_max = S_LIM_N,
	};
	struct fg_compiled *cp = NULL;
	char err[512];
	int e;

	g.comp = fg_compiler_new(&co);
	S_REQUIRE(g.comp);
	if (fg_dp_rules_compile(g.comp, s_rules, strlen(s_rules), 1, &cp, err,
				sizeof(err))) {
		fprintf(stderr, "test_dp_same: rules: %s\n", err);
		return -1;
	}
	s_cross_family(cp, "v4in6", "2001:db8:19::17");
	s_cross_family(cp, "v6in4", "198.19.0.17");
	x_install(cp);
	d_settings();
	if (fg_dp_settings_check(&g.set, err, sizeof(err))) {
		fprintf(stderr, "test_dp_same: dpdk settings: %s\n", err);
		return -1;
	}
	g.tab = fg_dp_tables_new(cp, &g.set, SOCKET_ID_ANY, &e, err,
				 sizeof(err));
	if (!g.tab) {
		fprintf(stderr, "test_dp_same: dpdk tables: %s\n", err);
		return -1;
	}
	S_REQUIRE(!fg_compiler_commit(g.comp, cp));
	fg_compiled_free(cp);
	g.bk = fg_dp_buckets_new(&g.set, SOCKET_ID_ANY);
	S_REQUIRE(g.bk);
	g.lc = fg_dp_lcore_new(&g.set, 0, g.bk, SOCKET_ID_ANY, &e);
	S_REQUIRE(g.lc);
	/* The namespace's PERMANENT neighbours; 198.18.0.3 and 2001:db8::3
	 * stay unresolved on both sides. */
	d_learn("198.18.0.2", M_NH);
	d_learn(S_CLI4, M_CLI);
	d_learn("2001:db8::2", M_NH);
	d_learn(S_CLI6, M_CLI);
	return 0;
}

int main(int argc, char **argv)
{
	char prefix[64];
	/* --no-huge is legacy memory (no --in-memory); no shared config and
	 * a prefix of its own keep parallel runs apart. */
	char *eal[] = { argv[0], "--no-huge", "-m", "256", "--no-pci",
			"--no-shconf", prefix, "--no-telemetry",
			"--log-level=error", NULL };
	unsigned int i, total = 0;
	int err;

	(void)argc;
	setvbuf(stdout, NULL, _IOLBF, 0);
	err = fg_h_enter();
	if (err)
		return err;
	fg_h_pin_cpu();
	if (s_net_setup()) {
		printf("FAIL: network namespace setup\n");
		return 1;
	}
	g.ncpus = libbpf_num_possible_cpus();
	S_REQUIRE(g.ncpus > 0);
	libbpf_set_print(fg_h_libbpf_log);
	err = x_load();
	if (err == -EPERM) {
		printf("SKIP: loading BPF: %s (no CAP_BPF?)\n", strerror(-err));
		return 77;
	}
	if (err) {
		printf("FAIL: loading floodgate.bpf.o: %s\n", strerror(-err));
		return 1;
	}
	S_REQUIRE(bpf_map__value_size(g.skel->maps.fg_clock) ==
		  sizeof(struct s_clock));
	snprintf(prefix, sizeof(prefix), "--file-prefix=fgsame%ld",
		 (long)getpid());
	if (fg_dp_eal_init((int)S_ARRAY_SIZE(eal) - 1, eal) < 0) {
		printf("SKIP: the EAL did not start (--no-huge): %s\n",
		       rte_strerror(rte_errno));
		floodgate_bpf__destroy(g.skel);
		return 77;
	}
	g.mp = rte_pktmbuf_pool_create("s_pool", 1023, 0, 0,
				       RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	S_REQUIRE(g.mp);
	if (s_install()) {
		printf("FAIL: installing the rule set\n");
		return 1;
	}
	/* The clock stops ticking by itself before any packet starts it. */
	x_clock(s_now());
	x_snap(&g.xc);
	d_snap(&g.dc);

	s_fixtures();
	s_flows();
	s_pass();
	s_too_big();
	s_limits();
	s_arp_nd();
	s_mutations();
	s_switch();
	s_aging();

	printf("# %-24s %7s %7s %7s %7s %7s %9s %9s %7s\n", "category", "frames",
	       "same", "tx", "pass", "drop", "doc-arpnd", "doc-neigh", "differ");
	for (i = 0; i < C_N; i++) {
		const struct s_cat *c = &g.cat[i];

		printf("# %-24s %7u %7u %7u %7u %7u %9u %9u %7u\n", s_cat_name[i],
		       c->frames, c->same, c->tx, c->exc, c->drop, c->doc_arpnd,
		       c->doc_neigh, c->differ);
		total += c->frames;
	}
	/* The run proves something only if each kind of answer happened. */
	if (!g.cat[C_FLOW].tx || !g.cat[C_LIMIT].drop || !g.cat[C_LIMIT].tx ||
	    !g.cat[C_TOOBIG].tx || !g.cat[C_ARPND].doc_arpnd ||
	    !g.cat[C_FLOW].doc_neigh || !g.cat[C_FIXTURE].tx ||
	    !g.cat[C_CUT].drop || !g.cat[C_MUT].tx || !g.cat[C_PASS].exc ||
	    !g.cat[C_GEN].tx || !g.cat[C_AGE].tx) {
		printf("not ok - a category never saw the verdicts it exists "
		       "for (see the table)\n");
		g.differ++;
	}
	printf("%u frames compared, %u differ\n", total, g.differ);

	for (i = 0; i < g.npool; i++)
		free(g.pool[i]);
	fg_dp_lcore_free(g.lc);
	fg_dp_buckets_free(g.bk);
	fg_dp_tables_free(g.tab);
	fg_compiler_free(g.comp);
	rte_mempool_free(g.mp);
	rte_eal_cleanup();
	floodgate_bpf__destroy(g.skel);
	return g.differ ? 1 : 0;
}
