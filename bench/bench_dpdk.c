// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * bench_dpdk.c - the DPDK dataplane's packet path (fg_dpdk_path) on one
 * lcore, --no-huge, frames from net_null (BENCH.md "DPDK"):
 *
 *   bench_dpdk [EAL options] -- [-n packets] [-r runs]
 *              [--ceiling-mpps X] [case...]
 *
 * with two net_null ports (--vdev net_null0 --vdev net_null1): every
 * burst is received from the first, each frame written with the row's
 * packet (net_null's mbufs carry no content), run through fg_dp_burst,
 * and what it sends is transmitted on the second (net_null frees it);
 * drops and exceptions are freed. The floor row does all of that but the
 * path: what the generator and the two ports cost. --ceiling-mpps is
 * dpdk-testpmd --forward-mode=macswap on the same devices, measured by
 * bench/run.sh in the same run: each row's ratio is to it.
 *
 * Rows: established flow hot (one flow), established among 1M flows
 * (random order, the flows recorded first), new flows (every packet a SYN
 * of a flow never seen), limited (a 1 pps limit: all dropped), NAT
 * forward and reverse (one established flow), non-service (to no VIP:
 * the exception port). Each run checks from the counters that every
 * packet took the row's path and exits 1 when one did not. One more row
 * is no path but the memory floor of the 1M row: the floor's work plus
 * one read per packet of a random line of an array the size of the
 * connection table (the same allocation), the burst's lines prefetched
 * back to back before they are read, as fg_dp_burst does.
 * Prints one line per row, bench=dpdk case=<row> value=<Mpps>
 * unit=Mpps floor=<floor Mpps> cycles=<per packet> cpu_mpps=<Mpps over
 * the thread's CPU time> ratio=<to testpmd>, then a human table and the
 * memory per tracked flow. cpu_mpps leaves out the time the CPU gave to
 * other tasks: on a shared machine it is the steadier figure for an A/B
 * comparison (value stays the figure of record).
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "fg_compile.h"
#include "fg_csum.h"
#include "fg_dpdk_path.h"
#include "fg_dpdk_rules.h"
#include "fg_parse.h"
#include "fg_verdict.h"

#define B_BURST 32U
#define B_RUNS_MAX 9U
#define B_FLOWS_1M (1U << 20)
#define B_ROWS 9U

static const char b_rules[] =
"{\"services\": {"
" \"dsr\": {\"vip\": \"198.18.0.10\", \"port\": 80, \"proto\": \"tcp\","
"  \"backends\": [{\"addr\": \"198.19.0.1\", \"port\": 80},"
"   {\"addr\": \"198.19.0.2\", \"port\": 80}, {\"addr\": \"198.19.0.3\", \"port\": 80},"
"   {\"addr\": \"198.19.0.4\", \"port\": 80}]},"
" \"nat\": {\"vip\": \"198.18.0.13\", \"port\": 80, \"proto\": \"tcp\","
"  \"forward\": \"nat\", \"backends\": [{\"addr\": \"198.19.0.5\", \"port\": 8080}]},"
" \"lim\": {\"vip\": \"198.18.0.30\", \"port\": 80, \"proto\": \"tcp\","
"  \"backends\": [{\"addr\": \"198.19.0.1\", \"port\": 80}]}"
"},"
"\"limits\": {\"pps1\": {\"service\": \"lim\", \"key\": \"service\","
" \"unit\": \"pps\", \"rate\": 1, \"burst\": 1, \"action\": \"drop\"}}}";

static const uint8_t b_port_mac[6] = { 0x02, 0, 0, 0, 0, 0x01 };
static const uint8_t b_nh_mac[6] = { 0x02, 0, 0, 0, 0, 0x0b };

static struct fg_dp_settings b_set;
static struct fg_dp_tables *b_tab;
static struct fg_dp_lcore *b_lc;
static struct fg_compiler *b_comp;
static struct rte_mempool *b_mp;
static uint16_t b_rx = 0, b_tx = 1;
static uint64_t b_hz;
/* The memory floor row's array: as many 64-byte lines as the connection
 * table (b_set.ct_max ways of 16 bytes, 4 a line). */
static uint8_t *b_touch;
static uint32_t b_touch_lines;

static void __attribute__((noreturn, format(printf, 1, 2)))
b_die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "bench_dpdk: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	exit(1);
}

static __be32 b_ip4(const char *s)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1)
		b_die("bad address %s", s);
	return a.s_addr;
}

static uint64_t b_now_ns(void)
{
	return (uint64_t)((unsigned __int128)rte_rdtsc() * 1000000000ULL / b_hz);
}

/* ------------------------------------------------------------ frames */

/* A TCP/IPv4 frame of 60 bytes (54 + 6 of payload): src:sport -> dst:dport
 * with flags, from the client side, checksums right. */
struct b_frame {
	uint8_t b[64];
	uint16_t len;
};

static void b_tcp4(struct b_frame *f, __be32 src, uint16_t sport, __be32 dst,
		   uint16_t dport, uint8_t flags)
{
	uint8_t *p = f->b;
	struct fg_ip4_hdr *ip = (void *)(p + 14);
	struct fg_tcp_hdr *th = (void *)(p + 34);
	uint32_t sum = 0, i;

	memset(f, 0, sizeof(*f));
	f->len = 60;
	memcpy(p, b_port_mac, 6);
	memcpy(p + 6, "\x02\x00\x00\x00\x00\x64", 6);
	p[12] = 0x08;
	ip->ver_ihl = 0x45;
	ip->tot_len = htons(46);
	ip->ttl = 64;
	ip->protocol = FG_IPPROTO_TCP;
	ip->saddr = src;
	ip->daddr = dst;
	ip->check = fg_ip4_csum(ip);
	th->source = htons(sport);
	th->dest = htons(dport);
	th->seq = htonl(1000);
	th->ack_seq = htonl(flags & FG_TCP_ACK ? 5000 : 0);
	th->doff_res = 5 << 4;
	th->flags = flags;
	th->window = htons(65535);
	for (i = 0; i < 4; i += 2)
		sum += (uint32_t)((src >> (16 * (i / 2))) & 0xffff) +
		       (uint32_t)((dst >> (16 * (i / 2))) & 0xffff);
	sum += htons(FG_IPPROTO_TCP) + htons(26);
	sum = fg_csum_partial_words((const uint16_t *)(void *)(p + 34), 13, sum);
	th->check = (uint16_t)~fg_csum_fold(sum);
}

/* b_arp_reply - the ARP reply of ip at mac to our tunnel address. */
static void b_arp_reply(struct b_frame *f, __be32 ip, const uint8_t *mac)
{
	uint8_t *p = f->b;
	__be32 us = b_set.tunnel_src4;

	memset(f, 0, sizeof(*f));
	f->len = 60;
	memcpy(p, b_port_mac, 6);
	memcpy(p + 6, mac, 6);
	p[12] = 0x08; p[13] = 0x06;
	p[15] = 1; p[16] = 0x08; p[18] = 6; p[19] = 4; p[21] = 2;
	memcpy(p + 22, mac, 6);
	memcpy(p + 28, &ip, 4);
	memcpy(p + 32, b_port_mac, 6);
	memcpy(p + 38, &us, 4);
}

/* --------------------------------------------------------- the rows */

/* How a row makes packet i: a template and the flow it patches in. */
struct b_row {
	const char *name;
	const char *desc;
	struct b_frame tpl;
	uint32_t flows;      /* 0: one flow; else flow (i * stride) % flows */
	int fresh;           /* every packet a new flow (src and port from i) */
	int floor;           /* no path: the generator and ports alone */
	int touch;           /* with floor: a random line of b_touch read
			      * per packet */
	/* the path check: what every packet must do */
	enum fg_dp_act act;
	unsigned int drop;   /* counted drop reason, or FG_REASON_NONE */
	int new_flows;       /* each packet creates a flow */
	int refill;          /* a limit refills 1/s: that many pass */
};

/* b_flow_src - the client address and port of flow k of a row. */
static inline void b_flow_src(uint32_t k, __be32 *src, uint16_t *sport)
{
	/* 198.18.128.0/17: 32768 addresses, then the port. */
	*src = htonl(0xc6128000U | (k & 0x7fff));
	*sport = (uint16_t)(1024 + (k >> 15));
}

/* b_fill - write packet i of row r into m. */
static inline void b_fill(const struct b_row *r, struct rte_mbuf *m, uint64_t i)
{
	uint8_t *d = rte_pktmbuf_mtod(m, uint8_t *);

	memcpy(d, r->tpl.b, 64);
	m->data_len = r->tpl.len;
	m->pkt_len = r->tpl.len;
	if (r->flows || r->fresh) {
		uint32_t k = r->fresh ? (uint32_t)i :
			     (uint32_t)((i * 0x9e3779b1ULL) & (r->flows - 1));
		struct fg_ip4_hdr *ip = (void *)(d + 14);
		struct fg_tcp_hdr *th = (void *)(d + 34);
		__be32 src;
		uint16_t sport;

		b_flow_src(k, &src, &sport);
		ip->check = fg_csum_replace4(ip->check, ip->saddr, src);
		ip->saddr = src;
		th->source = htons(sport);
	}
}

/* b_step - n packets of row r from packet i on through the path (or not,
 * for the floor); frees or sends every one. Returns packets done. */
static uint16_t b_step(const struct b_row *r, uint64_t i, int path)
{
	struct rte_mbuf *m[B_BURST], *tx[B_BURST], *fr[B_BURST];
	uint32_t v[B_BURST];
	uint16_t n, k, ntx = 0, nfr = 0, sent;

	n = rte_eth_rx_burst(b_rx, 0, m, B_BURST);
	for (k = 0; k < n; k++)
		b_fill(r, m[k], i + k);
	if (r->touch) {
		const uint8_t *line[B_BURST];

		/* The line of flow k as the 1M row's packets pick flows;
		 * a multiplicative hash stands in for the flow hash. */
		for (k = 0; k < n; k++) {
			uint64_t f = ((i + k) * 0x9e3779b1ULL) & (r->flows - 1);
			uint32_t l = (uint32_t)((f * 0x9e3779b97f4a7c15ULL) >> 32) &
				     (b_touch_lines - 1);

			line[k] = b_touch + (size_t)l * 64;
			rte_prefetch0(line[k]);
		}
		for (k = 0; k < n; k++)
			(void)*(const volatile uint64_t *)line[k];
	}
	if (path) {
		fg_dp_burst(b_lc, b_tab, 0, m, n, b_now_ns(), v);
		for (k = 0; k < n; k++) {
			if (fg_dp_act(v[k]) == FG_DP_TX)
				tx[ntx++] = m[k];
			else
				fr[nfr++] = m[k];
		}
	} else {
		memcpy(tx, m, n * sizeof(m[0]));
		ntx = n;
	}
	sent = ntx ? rte_eth_tx_burst(b_tx, 0, tx, ntx) : 0;
	if (sent < ntx)
		rte_pktmbuf_free_bulk(&tx[sent], ntx - sent);
	if (nfr)
		rte_pktmbuf_free_bulk(fr, nfr);
	return n;
}

/* b_feed - one frame through the path (set-up: flows, neighbours). */
static uint32_t b_feed(const struct b_frame *f)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(b_mp);
	uint32_t v;

	if (!m)
		b_die("out of mbufs");
	memcpy(rte_pktmbuf_append(m, f->len), f->b, f->len);
	fg_dp_burst(b_lc, b_tab, 0, &m, 1, b_now_ns(), &v);
	rte_pktmbuf_free(m);
	return v;
}

struct b_snap {
	uint64_t drops[FG_DROPS_STRIDE];
	uint64_t tx, exc, new_flows;
};

static void b_snap(struct b_snap *s)
{
	const struct fg_dp_counters *c = fg_dp_lcore_counters(b_lc);
	unsigned int i;

	memcpy(s->drops, c->drops, sizeof(s->drops));
	s->tx = c->port[0].tx;
	s->exc = c->port[0].exception;
	s->new_flows = 0;
	for (i = 0; i < FG_SVC_MAX; i++)
		s->new_flows += c->svc[i].new_flows;
}

/* b_check - every one of n packets since a took row r's path; a row
 * whose limit refills lets through at most one packet a second of the
 * run (secs) and one more. */
static int b_check(const struct b_row *r, const struct b_snap *a, uint64_t n,
		   double secs)
{
	struct b_snap b;
	uint64_t want_tx = r->act == FG_DP_TX ? n : 0;
	uint64_t want_exc = r->act == FG_DP_EXCEPTION ? n : 0;
	unsigned int i;

	b_snap(&b);
	if (r->refill) {
		uint64_t passed = b.tx - a->tx;

		if (passed > (uint64_t)secs + 1 ||
		    b.drops[r->drop] - a->drops[r->drop] != n - passed) {
			fprintf(stderr, "bench_dpdk: %s: %llu passed, %llu counted "
				"%s of %llu\n", r->name, (unsigned long long)passed,
				(unsigned long long)(b.drops[r->drop] - a->drops[r->drop]),
				fg_drop_reason_name(r->drop), (unsigned long long)n);
			return -1;
		}
		want_tx = passed;
		n -= passed;
	}
	if (b.tx - a->tx != want_tx || b.exc - a->exc != want_exc) {
		fprintf(stderr, "bench_dpdk: %s: %llu sent, %llu to the exception "
			"port of %llu\n", r->name,
			(unsigned long long)(b.tx - a->tx),
			(unsigned long long)(b.exc - a->exc), (unsigned long long)n);
		return -1;
	}
	for (i = 0; i < FG_DROPS_STRIDE; i++) {
		uint64_t d = b.drops[i] - a->drops[i];

		if (d != (i == r->drop ? n : 0)) {
			fprintf(stderr, "bench_dpdk: %s: %llu counted %s of %llu\n",
				r->name, (unsigned long long)d,
				fg_drop_reason_name(i), (unsigned long long)n);
			return -1;
		}
	}
	if (b.new_flows - a->new_flows != (r->new_flows ? n : 0)) {
		fprintf(stderr, "bench_dpdk: %s: %llu new flows of %llu packets\n",
			r->name, (unsigned long long)(b.new_flows - a->new_flows),
			(unsigned long long)n);
		return -1;
	}
	return 0;
}

static double b_cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* b_time - n packets of row r, from packet first on: cycles spent, and
 * in *cpu_s the seconds of the thread's CPU time. */
static uint64_t b_time(const struct b_row *r, uint64_t first, uint64_t n,
		       double *cpu_s)
{
	uint64_t i = first, end = first + n, t0;
	double c0 = b_cpu_s();

	t0 = rte_rdtsc_precise();
	while (i < end)
		i += b_step(r, i, !r->floor);
	t0 = rte_rdtsc_precise() - t0;
	*cpu_s = b_cpu_s() - c0;
	return t0;
}

static int b_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double b_median(double *v, unsigned int n)
{
	qsort(v, n, sizeof(v[0]), b_cmp);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* ------------------------------------------------------------ set-up */

static void b_port(uint16_t id)
{
	struct rte_eth_conf conf;

	memset(&conf, 0, sizeof(conf));
	if (rte_eth_dev_configure(id, 1, 1, &conf) ||
	    rte_eth_rx_queue_setup(id, 0, 1024, rte_socket_id(), NULL, b_mp) ||
	    rte_eth_tx_queue_setup(id, 0, 1024, rte_socket_id(), NULL) ||
	    rte_eth_dev_start(id))
		b_die("port %u: set-up failed", id);
}

static void b_setup(void)
{
	struct fg_compiled *cp = NULL;
	struct fg_dp_buckets *bk;
	struct b_frame f;
	char err[512];
	unsigned int i;
	int e;

	memset(&b_set, 0, sizeof(b_set));
	b_set.tunnel_src4 = b_ip4("198.19.255.1");
	b_set.snat4 = b_ip4("198.19.255.2");
	/* 1M flows in 4M ways: a line of 4 overflows for ~0.4 % of them. */
	b_set.ct_max = 4U << 20;
	b_set.ct_syn_max = 1U << 18;
	b_set.nat_max = 1U << 16;
	b_set.buckets_max = 1U << 12;
	b_set.nports = 1;
	memcpy(b_set.port[0].mac, b_port_mac, 6);
	b_set.nroutes = 2;
	b_set.route[0].family = FG_AF_INET;
	b_set.route[0].prefix[0] = b_ip4("198.19.0.0");
	b_set.route[0].len = 24;
	b_set.route[1].family = FG_AF_INET;
	b_set.route[1].gw[0] = b_ip4("198.19.0.254");
	if (fg_dp_settings_check(&b_set, err, sizeof(err)))
		b_die("settings: %s", err);
	b_comp = fg_compiler_new(NULL);
	if (!b_comp ||
	    fg_dp_rules_compile(b_comp, b_rules, strlen(b_rules), 1, &cp, err,
				sizeof(err)))
		b_die("rules: %s", err);
	b_tab = fg_dp_tables_new(cp, &b_set, (int)rte_socket_id(), &e, err,
				 sizeof(err));
	if (!b_tab)
		b_die("tables: %s", err);
	fg_compiler_commit(b_comp, cp);
	fg_compiled_free(cp);
	bk = fg_dp_buckets_new(&b_set, (int)rte_socket_id());
	b_lc = bk ? fg_dp_lcore_new(&b_set, 0, bk, (int)rte_socket_id(), &e) : NULL;
	if (!b_lc)
		b_die("lcore state: out of memory (-m)");
	for (i = 1; i <= 5; i++) {
		char a[32];

		snprintf(a, sizeof(a), "198.19.0.%u", i);
		b_arp_reply(&f, b_ip4(a), b_nh_mac);
		if (fg_dp_act(b_feed(&f)) != FG_DP_NEIGH)
			b_die("neighbour %s not learned", a);
	}
	b_arp_reply(&f, b_ip4("198.19.0.254"), b_nh_mac);
	b_feed(&f);
}

/* ------------------------------------------------------------- main */

int main(int argc, char **argv)
{
	static struct b_row rows[B_ROWS];
	double mpps[B_ROWS][B_RUNS_MAX], cyc[B_ROWS][B_RUNS_MAX];
	double cpu[B_ROWS][B_RUNS_MAX], med_mpps[B_ROWS], med_cyc[B_ROWS];
	double med_cpu[B_ROWS];
	unsigned int nrows = 0, runs = 3, i, r, ok = 1, c;
	uint64_t n = 10000000, first = 0, flows;
	double ceiling = 0;
	int sel_any = 0, sel[B_ROWS] = { 0 }, rc;
	struct b_frame f;
	struct b_snap s;
	__be32 src;
	uint16_t sport, nat_port;
	size_t per_flow, mem;
	static const struct option lo[] = {
		{ "ceiling-mpps", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};

	rc = fg_dp_eal_init(argc, argv);
	if (rc < 0) {
		printf("SKIP: the EAL did not start: %s\n", rte_strerror(rte_errno));
		return 77;
	}
	argc -= rc;
	argv += rc;
	b_hz = rte_get_tsc_hz();
	optind = 1;
	while ((c = (unsigned int)getopt_long(argc, argv, "n:r:", lo, NULL)) !=
	       (unsigned int)-1) {
		switch (c) {
		case 'n': n = strtoull(optarg, NULL, 10); break;
		case 'r': runs = (unsigned int)strtoul(optarg, NULL, 10); break;
		case 'c': ceiling = strtod(optarg, NULL); break;
		default:
			fprintf(stderr, "usage: bench_dpdk [EAL] -- [-n packets] "
				"[-r runs] [--ceiling-mpps X] [case...]\n");
			return 2;
		}
	}
	if (!n || !runs || runs > B_RUNS_MAX) {
		fprintf(stderr, "bench_dpdk: -n > 0, -r 1..%u\n", B_RUNS_MAX);
		return 2;
	}
	if (rte_eth_dev_count_avail() < 2)
		b_die("needs two ports: --vdev net_null0 --vdev net_null1");
	b_mp = rte_pktmbuf_pool_create("b_pool", 8191, 256, 0,
				       RTE_MBUF_DEFAULT_BUF_SIZE, rte_socket_id());
	if (!b_mp)
		b_die("mbuf pool: %s", rte_strerror(rte_errno));
	b_port(b_rx);
	b_port(b_tx);
	b_setup();
	/* Allocated as fg_dpdk_path allocates the connection table under
	 * --no-huge (2 MiB-aligned, transparent huge pages advised). */
	b_touch_lines = b_set.ct_max / 4;
	{
		size_t len = (size_t)b_touch_lines * 64, al = 2UL << 20;
		uint8_t *p = mmap(NULL, len + al, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (p == MAP_FAILED)
			b_die("memory floor array: %s", strerror(errno));
		b_touch = (uint8_t *)RTE_PTR_ALIGN_CEIL(p, al);
		(void)madvise(b_touch, len, MADV_HUGEPAGE);
		memset(b_touch, 1, len);
	}

	/* The rows. */
	b_tcp4(&f, b_ip4("198.18.0.100"), 40000, b_ip4("198.18.0.10"), 80,
	       FG_TCP_ACK);
	rows[nrows++] = (struct b_row){ .name = "floor", .desc =
		"generator and ports, no path", .tpl = f, .floor = 1,
		.act = FG_DP_TX, .drop = FG_REASON_NONE };
	rows[nrows++] = (struct b_row){ .name = "established_hot", .desc =
		"DSR, one flow in the table", .tpl = f, .act = FG_DP_TX,
		.drop = FG_REASON_NONE };
	rows[nrows++] = (struct b_row){ .name = "established_1m", .desc =
		"DSR, 1M flows in the table, random order", .tpl = f,
		.flows = B_FLOWS_1M, .act = FG_DP_TX, .drop = FG_REASON_NONE };
	b_tcp4(&f, 0, 0, b_ip4("198.18.0.10"), 80, FG_TCP_SYN);
	rows[nrows++] = (struct b_row){ .name = "new_flows", .desc =
		"DSR, every packet a new SYN", .tpl = f, .fresh = 1,
		.act = FG_DP_TX, .drop = FG_REASON_NONE, .new_flows = 1 };
	b_tcp4(&f, b_ip4("198.18.0.101"), 40001, b_ip4("198.18.0.30"), 80,
	       FG_TCP_ACK);
	rows[nrows++] = (struct b_row){ .name = "limited", .desc =
		"1 pps limit, all but 1/s dropped", .tpl = f, .act = FG_DP_DROP,
		.drop = FG_DROP_LIMITED, .refill = 1 };
	b_tcp4(&f, b_ip4("198.18.0.102"), 40002, b_ip4("198.18.0.13"), 80,
	       FG_TCP_ACK);
	rows[nrows++] = (struct b_row){ .name = "nat_forward", .desc =
		"full NAT, client to backend, one flow", .tpl = f,
		.act = FG_DP_TX, .drop = FG_REASON_NONE };
	/* nat_reverse's template is made once the flow has its port. */
	rows[nrows++] = (struct b_row){ .name = "nat_reverse", .desc =
		"full NAT, backend to client, one flow", .act = FG_DP_TX,
		.drop = FG_REASON_NONE };
	b_tcp4(&f, b_ip4("198.18.0.103"), 40003, b_ip4("198.18.0.250"), 22,
	       FG_TCP_ACK);
	rows[nrows++] = (struct b_row){ .name = "non_service", .desc =
		"to no VIP: the exception port", .tpl = f,
		.act = FG_DP_EXCEPTION, .drop = FG_DROP_NO_SERVICE };
	rows[nrows++] = (struct b_row){ .name = "mem_floor_1m", .desc =
		"no path: floor + a random conntrack-sized line", .tpl = rows[0].tpl,
		.flows = B_FLOWS_1M, .floor = 1, .touch = 1, .act = FG_DP_TX,
		.drop = FG_REASON_NONE };

	for (i = (unsigned int)optind; i < (unsigned int)argc; i++) {
		for (r = 0; r < nrows; r++)
			if (!strcmp(argv[i], rows[r].name))
				sel[r] = sel_any = 1;
		if (!sel_any) {
			fprintf(stderr, "bench_dpdk: no row %s\n", argv[i]);
			return 2;
		}
	}

	/* The flows the established rows find: a SYN and an ACK each. */
	b_tcp4(&f, b_ip4("198.18.0.100"), 40000, b_ip4("198.18.0.10"), 80,
	       FG_TCP_SYN);
	b_feed(&f);
	b_feed(&rows[1].tpl);
	for (i = 0; i < B_FLOWS_1M; i++) {
		struct b_frame g;

		b_flow_src(i, &src, &sport);
		b_tcp4(&g, src, sport, b_ip4("198.18.0.10"), 80, FG_TCP_SYN);
		b_feed(&g);
		g.b[47] = FG_TCP_ACK;
		b_feed(&g);
	}
	flows = fg_dp_lcore_flows(b_lc, b_tab, b_now_ns());
	b_tcp4(&f, b_ip4("198.18.0.102"), 40002, b_ip4("198.18.0.13"), 80,
	       FG_TCP_SYN);
	{
		struct rte_mbuf *m = rte_pktmbuf_alloc(b_mp);
		uint32_t v;

		memcpy(rte_pktmbuf_append(m, f.len), f.b, f.len);
		fg_dp_burst(b_lc, b_tab, 0, &m, 1, b_now_ns(), &v);
		if (fg_dp_act(v) != FG_DP_TX)
			b_die("nat flow not forwarded");
		nat_port = ntohs(*(uint16_t *)(rte_pktmbuf_mtod(m, uint8_t *) + 34));
		rte_pktmbuf_free(m);
	}
	b_feed(&rows[5].tpl); /* the client's ACK: established */
	b_tcp4(&rows[6].tpl, b_ip4("198.19.0.5"), 8080, b_ip4("198.19.255.2"),
	       nat_port, FG_TCP_ACK);
	memcpy(rows[6].tpl.b + 6, b_nh_mac, 6);
	b_feed(&rows[4].tpl); /* the limit's one token */

	for (r = 0; r < nrows; r++) {
		if (sel_any && !sel[r] && r != 0)
			continue;
		/* A warm-up pass, then the timed runs. */
		double cpu_s;

		b_time(&rows[r], first, n / 10, &cpu_s);
		first += n / 10;
		for (i = 0; i < runs; i++) {
			uint64_t cy;

			b_snap(&s);
			cy = b_time(&rows[r], first, n, &cpu_s);
			if (!rows[r].floor &&
			    b_check(&rows[r], &s, n, (double)cy / (double)b_hz))
				ok = 0;
			first += n + B_BURST;
			mpps[r][i] = (double)n / ((double)cy / (double)b_hz) / 1e6;
			cyc[r][i] = (double)cy / (double)n;
			cpu[r][i] = cpu_s > 0 ? (double)n / cpu_s / 1e6 : 0;
		}
		med_mpps[r] = b_median(mpps[r], runs);
		med_cyc[r] = b_median(cyc[r], runs);
		med_cpu[r] = b_median(cpu[r], runs);
	}

	for (r = 0; r < nrows; r++) {
		if (sel_any && !sel[r] && r != 0)
			continue;
		printf("bench=dpdk case=%s value=%.2f unit=Mpps floor=%.2f "
		       "cycles=%.1f cpu_mpps=%.2f", rows[r].name, med_mpps[r],
		       med_mpps[0], med_cyc[r], med_cpu[r]);
		if (ceiling > 0)
			printf(" ratio=%.3f", med_mpps[r] / ceiling);
		printf("\n");
	}
	if (ceiling > 0)
		printf("bench=dpdk case=testpmd_macswap value=%.2f unit=Mpps "
		       "floor=0\n", ceiling);
	mem = fg_dp_lcore_mem(b_lc, &per_flow);
	printf("bench=dpdk case=bytes_per_flow value=%zu unit=B floor=0\n",
	       per_flow);

	printf("\none worker lcore, %llu packets a run, median of %u runs, "
	       "TSC %.2f GHz\n", (unsigned long long)n, runs, (double)b_hz / 1e9);
	printf("%-16s %8s %10s %12s %9s %9s  %s\n", "case", "Mpps", "cyc/pkt",
	       "cyc above fl", "/testpmd", "CPU Mpps", "path");
	for (r = 0; r < nrows; r++) {
		if (sel_any && !sel[r] && r != 0)
			continue;
		char ratio[16] = "-";

		if (ceiling > 0)
			snprintf(ratio, sizeof(ratio), "%.3f", med_mpps[r] / ceiling);
		printf("%-16s %8.2f %10.1f %12.1f %9s %9.2f  %s\n", rows[r].name,
		       med_mpps[r], med_cyc[r], r ? med_cyc[r] - med_cyc[0] : 0.0,
		       ratio, med_cpu[r], rows[r].desc);
	}
	if (ceiling > 0)
		printf("testpmd macswap on the same devices, same run: %.2f Mpps "
		       "(both directions of its one forwarding core)\n", ceiling);
	else
		printf("no --ceiling-mpps: ratios to testpmd not computed\n");
	printf("established flows held after 1M were recorded: %llu (%.2f %%)\n",
	       (unsigned long long)flows, 100.0 * (double)flows / (B_FLOWS_1M + 1));
	printf("connection table: %zu bytes per tracked flow (a way); %zu MiB "
	       "per lcore for %u ways, NAT and neighbour tables, counters\n",
	       per_flow, mem >> 20, b_set.ct_max);
	printf("CPU Mpps: over the thread's CPU time, what other tasks took "
	       "of the shared CPU left out; mem_floor_1m: no path, the floor "
	       "plus one random line of a conntrack-sized array per packet\n");
	if (!ok) {
		fprintf(stderr, "bench_dpdk: a path check failed\n");
		return 1;
	}
	rte_eal_cleanup();
	return 0;
}
