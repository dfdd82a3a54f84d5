// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * floodgate_dpdk.c - floodgate-dpdk, the DPDK L4 dataplane process.
 *
 *   floodgate-dpdk [EAL options] -- [--control PATH] [--rules FILE] [options]
 *
 * The EAL starts on real ports or virtual devices (--vdev net_ring0,
 * net_null0, net_pcap0,..., net_af_xdp0,iface=..., net_af_packet0,...),
 * with --no-huge too: the mbuf pool is sized explicitly (--mbufs), as the
 * default pool of net_af_xdp fails at -m 512. Every port present at
 * start is a data port, with one RX and one TX queue per worker and RSS
 * when the device has more than one queue. Every lcore but the main one
 * is a run-to-completion worker with its own connection, NAT and
 * neighbour tables (fg_dpdk_path.h); the main lcore handles signals and
 * rte_telemetry (/floodgate/stats). Each data port gets an exception
 * port, a net_tap interface carrying the port's MAC, through which
 * whatever is not the dataplane's (management, routing protocols, ARP
 * for the kernel's addresses) reaches the kernel and the kernel's answers
 * leave; worker 0 polls it. The box's own addresses and routes belong on
 * that interface (fg0 for port 0, ...), as they would on the NIC that
 * DPDK now owns; it is persistent, so they stay while the process is
 * stopped, killed or upgraded, and the next start takes it over again
 * (`ip link del fg0` removes it).
 *
 * Idle workers back off: after --idle-polls empty polls in a row they
 * rte_pause() between polls, after ten times that they sleep
 * --idle-sleep-us per poll (0: never sleep), so a quiet worker leaves a
 * small box's CPUs to the daemon, etcd and the tests.
 *
 * Tables come from floodgated over the control socket (--control,
 * dataplane/dpdkctl/fg_dpdk_ctl.h): the main lcore polls it, builds the
 * tables of each pushed set with fg_dp_tables_new(), publishes them and
 * frees the old ones after an RCU grace period (rte_rcu QSBR: every
 * worker reports a quiescent state after each loop iteration), then
 * acknowledges; while floodgated is away the workers go on with what
 * they have. --rules FILE (the API's PUT /v1/config body) gives the
 * tables to start with, held as version 1 until floodgated pushes.
 * --seed-file keeps the flow-hash key across restarts, so that a
 * restarted process sends established DSR flows where they went;
 * --state-file keeps every pushed set, so that a restart after a crash
 * forwards with the last one at once instead of waiting for floodgated.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/random.h>
#include <sys/stat.h>

#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_dev.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_malloc.h>
#include <rte_pause.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>
#include <rte_telemetry.h>

#include "fg_compile.h"
#include "fg_dpdk_ctl.h"
#include "fg_dpdk_l7.h"
#include "fg_dpdk_path.h"
#include "fg_dpdk_rules.h"

#define FG_BURST 32U
#define FG_RXD 1024U
#define FG_TXD 1024U
#define FG_RING_SIZE 4096U     /* hand-off ring per worker */
#define FG_MBUF_CACHE 256U
#define FG_MBUFS_MIN 16384U    /* default pool floor (about 36 MiB) */

/* ----------------------------------------------------------- options */

struct fg_opts {
	const char *rules;
	const char *control;
	const char *seed_file;
	const char *state_file;
	unsigned int mbufs;        /* 0 = computed */
	unsigned int idle_polls;
	unsigned int idle_sleep_us;
	int no_tap;
	struct fg_dp_settings s;
};

static void fg_usage(FILE *f, const char *prog)
{
	fprintf(f,
"usage: %s [EAL options] -- [--control PATH] [--rules FILE] [options]\n"
"  --control PATH        control socket floodgated pushes the tables over\n"
"                        (0600; dataplane.control_socket of its boot file)\n"
"  --rules FILE          rule set to start with, the API's JSON (PUT\n"
"                        /v1/config body); one of the two is required\n"
"  --state-file PATH     every set floodgated pushes is kept there, and a\n"
"                        start (a restart after a crash) forwards with it\n"
"                        at once, before floodgated is back (not with --rules)\n"
"  --tunnel-src4 ADDR    DSR outer source (IPv4); --tunnel-src6 ADDR\n"
"  --snat4 ADDR          full-NAT source (default: the tunnel source); --snat6\n"
"  --route P/LEN@PORT[,GW]  a route out of data port PORT, through GW\n"
"                        (none: connected); repeat; both families\n"
"  --gue-port N          GUE destination port (default %u)\n"
"  --seed-file PATH      the flow-hash key, kept across restarts (made, 0600,\n"
"                        with a random key when missing): a restarted process\n"
"                        sends established DSR flows to the backends they had\n"
"  --ct-max N            established flows per worker (default %u)\n"
"  --ct-syn-max N        embryonic flows per worker (default %u)\n"
"  --nat-max N           NAT reverse entries per worker (default %u)\n"
"  --buckets-max N       token buckets, shared (default %u)\n"
"  --tcp-timeout S, --udp-timeout S   idle seconds before a flow is gone\n"
"  --mtu N               largest IP packet sent (default: each port's MTU)\n"
"  --mbufs N             mbufs in the pool (default: from ports and queues,\n"
"                        at least 16384)\n"
"  --idle-polls N        empty polls before pausing (default 100)\n"
"  --idle-sleep-us N     sleep per poll when idle long (default 100; 0 spins)\n"
"  --no-tap              no exception ports (fgN for data port N: persistent\n"
"                        TAPs with the port's MAC, where the box's addresses\n"
"                        live): what is the kernel's is dropped\n",
		prog, FG_GUE_PORT_DEFAULT, FG_CT_DEFAULT, FG_CT_SYN_DEFAULT,
		FG_NAT_DEFAULT, FG_BUCKETS_DEFAULT);
}

static int fg_parse_u32(const char *s, unsigned long max, unsigned int *out)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v > max || s[0] == '-')
		return -EINVAL;
	*out = (unsigned int)v;
	return 0;
}

/* fg_parse_addr - an IPv4 or IPv6 literal of family (0: either) into
 * a[4]; returns its family or -EINVAL. */
static int fg_parse_addr(const char *s, int family, __be32 *a)
{
	memset(a, 0, 16);
	if ((!family || family == FG_AF_INET) && inet_pton(AF_INET, s, a) == 1)
		return FG_AF_INET;
	if ((!family || family == FG_AF_INET6) && inet_pton(AF_INET6, s, a) == 1)
		return FG_AF_INET6;
	return -EINVAL;
}

/* fg_parse_route - "P/LEN@PORT[,GW]". */
static int fg_parse_route(const char *arg, struct fg_dp_route *r)
{
	char buf[160], *slash, *at, *comma;
	unsigned int len, port;
	int fam;

	if (strlen(arg) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, arg);
	slash = strchr(buf, '/');
	at = strchr(buf, '@');
	if (!slash || !at || at < slash)
		return -EINVAL;
	*slash = *at = '\0';
	comma = strchr(at + 1, ',');
	if (comma)
		*comma = '\0';
	memset(r, 0, sizeof(*r));
	fam = fg_parse_addr(buf, 0, r->prefix);
	if (fam < 0 || fg_parse_u32(slash + 1, fam == FG_AF_INET ? 32 : 128, &len) ||
	    fg_parse_u32(at + 1, FG_DP_PORTS_MAX - 1, &port))
		return -EINVAL;
	if (comma && fg_parse_addr(comma + 1, fam, r->gw) < 0)
		return -EINVAL;
	r->family = (uint8_t)fam;
	r->len = (uint8_t)len;
	r->port = (uint16_t)port;
	return 0;
}

/*
 * fg_file_replace - make file path hold the n bytes at p, whole or not at
 * all: written to PATH.tmp (mode 0600), synced, renamed over path, so a
 * crash leaves the old file or the new one, never half of one. Returns 0,
 * or -errno with a message in err.
 */
static int fg_file_replace(const char *path, const void *p, size_t n, char *err,
			   size_t errlen)
{
	char tmp[4096];
	ssize_t w;
	int fd, rc;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp)) {
		snprintf(err, errlen, "%.400s: path too long", path);
		return -ENAMETOOLONG;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = errno;
		snprintf(err, errlen, "%.400s.tmp: %s", path, strerror(rc));
		return -rc;
	}
	rc = 0;
	while (n && !rc) {
		w = write(fd, p, n);
		if (w < 0 && errno != EINTR)
			rc = errno;
		else if (w > 0) {
			p = (const uint8_t *)p + w;
			n -= (size_t)w;
		}
	}
	if (!rc && fsync(fd))
		rc = errno;
	close(fd);
	if (!rc && rename(tmp, path))
		rc = errno;
	if (rc) {
		unlink(tmp);
		snprintf(err, errlen, "%.400s: %s", path, strerror(rc));
		return -rc;
	}
	return 0;
}

/*
 * fg_seed_load - the flow-hash key of file path into *seed: read when the
 * file exists (exactly sizeof(*seed) bytes, not all zero), else a random
 * key written there first (mode 0600, through a temporary file renamed
 * into place, so a crash never leaves half a key). Why keep it: the key
 * places every flow on the Maglev ring, and a non-SYN packet of a flow
 * the connection table does not know (a restarted process knows none) is
 * sent where the ring says; with the same key and the same rules that is
 * the backend the flow had. Returns 0, or -errno with a message in err.
 */
static int fg_seed_load(const char *path, struct fg_hash_seed *seed, char *err,
			size_t errlen)
{
	static const struct fg_hash_seed zero;
	uint8_t buf[sizeof(*seed) + 1];
	ssize_t n;
	int fd, rc;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		/* One byte more than a key: a longer file is no key. */
		n = read(fd, buf, sizeof(buf));
		rc = errno;
		close(fd);
		if (n < 0) {
			snprintf(err, errlen, "--seed-file %.400s: %s", path, strerror(rc));
			return -rc;
		}
		if ((size_t)n == sizeof(*seed))
			memcpy(seed, buf, sizeof(*seed));
		if ((size_t)n != sizeof(*seed) || !memcmp(seed, &zero, sizeof(*seed))) {
			snprintf(err, errlen, "--seed-file %.400s: not a key of %zu bytes "
				 "(remove it to make a new one)", path, sizeof(*seed));
			return -EINVAL;
		}
		return 0;
	}
	rc = errno;
	if (rc != ENOENT) {
		snprintf(err, errlen, "--seed-file %.400s: %s", path, strerror(rc));
		return -rc;
	}
	if (getrandom(seed, sizeof(*seed), 0) != (ssize_t)sizeof(*seed)) {
		snprintf(err, errlen, "getrandom: %s", strerror(errno));
		return -EIO;
	}
	return fg_file_replace(path, seed, sizeof(*seed), err, errlen);
}

/* The largest state file read back: far above a set of FG_SVC_MAX
 * services with full rings, far below what a mistaken path could be. */
#define FG_STATE_MAX (1ULL << 30)

/*
 * fg_state_load - the set --state-file path holds, into *out: NULL when
 * there is no file yet. The file is FULL's body (fg_dpdk_ctl.h), decoded
 * and checked whole as a pushed one is. Returns 0, or -errno with a
 * message in err (a file that is not a set is refused, not skipped: the
 * operator decides, removing it starts empty).
 */
static int fg_state_load(const char *path, struct fg_dpdk_ctl_set **out,
			 char *err, size_t errlen)
{
	char why[400], old[400];
	struct stat st;
	uint8_t *buf;
	size_t got = 0;
	ssize_t r;
	int fd, rc;

	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = errno;
		if (rc == ENOENT)
			return 0;
		snprintf(err, errlen, "--state-file %.400s: %s", path, strerror(rc));
		return -rc;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || !st.st_size ||
	    (unsigned long long)st.st_size > FG_STATE_MAX) {
		close(fd);
		snprintf(err, errlen, "--state-file %.400s: not a state file "
			 "(remove it to start empty)", path);
		return -EINVAL;
	}
	/* Room for an empty L7 section after what was read (below). */
	buf = calloc(1, (size_t)st.st_size + 8);
	if (!buf) {
		close(fd);
		snprintf(err, errlen, "--state-file %.400s: out of memory", path);
		return -ENOMEM;
	}
	while (got < (size_t)st.st_size) {
		r = read(fd, buf + got, (size_t)st.st_size - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	rc = got == (size_t)st.st_size ?
	     fg_dpdk_ctl_decode_full(buf, got, out, why, sizeof(why)) : -EIO;
	/* A file of the release before the L7 section (control protocol 1)
	 * is the same body without it: read it as a set without one, so
	 * that an upgrade restarts with what ran. */
	if (rc && rc != -EIO &&
	    !fg_dpdk_ctl_decode_full(buf, got + 8, out, old, sizeof(old)))
		rc = 0;
	free(buf);
	if (rc) {
		snprintf(err, errlen, "--state-file %.200s: %.250s (remove it to "
			 "start empty)", path, rc == -EIO ? "short read" : why);
		return rc;
	}
	return 0;
}

/*
 * fg_state_save - keep set s in --state-file path (FULL's body, replaced
 * whole). Main lcore, after the install was acknowledged: floodgated
 * never waits for the disk. Returns 0 or -errno with a message in err.
 */
static int fg_state_save(const char *path, const struct fg_dpdk_ctl_set *s,
			 char *err, size_t errlen)
{
	struct fg_dpdk_ctl_buf b = { 0 };
	int rc;

	rc = fg_dpdk_ctl_encode_full(s, &b);
	if (rc)
		snprintf(err, errlen, "--state-file %.400s: out of memory", path);
	else
		rc = fg_file_replace(path, b.p, b.len, err, errlen);
	fg_dpdk_ctl_buf_free(&b);
	return rc;
}

enum {
	O_RULES = 256, O_CONTROL, O_TUN4, O_TUN6, O_SNAT4, O_SNAT6, O_ROUTE, O_GUE, O_CT,
	O_CTSYN, O_NAT, O_BUCKETS, O_TCPTO, O_UDPTO, O_MTU, O_MBUFS, O_IDLE,
	O_SLEEP, O_NOTAP, O_SEED, O_STATE, O_HELP,
};

static int fg_parse_opts(int argc, char **argv, struct fg_opts *o,
			 unsigned int *mtu)
{
	static const struct option lo[] = {
		{ "rules", required_argument, NULL, O_RULES },
		{ "control", required_argument, NULL, O_CONTROL },
		{ "tunnel-src4", required_argument, NULL, O_TUN4 },
		{ "tunnel-src6", required_argument, NULL, O_TUN6 },
		{ "snat4", required_argument, NULL, O_SNAT4 },
		{ "snat6", required_argument, NULL, O_SNAT6 },
		{ "route", required_argument, NULL, O_ROUTE },
		{ "gue-port", required_argument, NULL, O_GUE },
		{ "ct-max", required_argument, NULL, O_CT },
		{ "ct-syn-max", required_argument, NULL, O_CTSYN },
		{ "nat-max", required_argument, NULL, O_NAT },
		{ "buckets-max", required_argument, NULL, O_BUCKETS },
		{ "tcp-timeout", required_argument, NULL, O_TCPTO },
		{ "udp-timeout", required_argument, NULL, O_UDPTO },
		{ "mtu", required_argument, NULL, O_MTU },
		{ "mbufs", required_argument, NULL, O_MBUFS },
		{ "idle-polls", required_argument, NULL, O_IDLE },
		{ "idle-sleep-us", required_argument, NULL, O_SLEEP },
		{ "no-tap", no_argument, NULL, O_NOTAP },
		{ "seed-file", required_argument, NULL, O_SEED },
		{ "state-file", required_argument, NULL, O_STATE },
		{ "help", no_argument, NULL, O_HELP },
		{ NULL, 0, NULL, 0 },
	};
	unsigned int v;
	__be32 a[4];
	int c, bad;

	o->idle_polls = 100;
	o->idle_sleep_us = 100;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		bad = 0;
		switch (c) {
		case O_RULES: o->rules = optarg; break;
		case O_CONTROL: o->control = optarg; break;
		case O_TUN4:
			bad = fg_parse_addr(optarg, FG_AF_INET, a) < 0;
			o->s.tunnel_src4 = a[0];
			break;
		case O_TUN6:
			bad = fg_parse_addr(optarg, FG_AF_INET6, o->s.tunnel_src6) < 0;
			break;
		case O_SNAT4:
			bad = fg_parse_addr(optarg, FG_AF_INET, a) < 0;
			o->s.snat4 = a[0];
			break;
		case O_SNAT6:
			bad = fg_parse_addr(optarg, FG_AF_INET6, o->s.snat6) < 0;
			break;
		case O_ROUTE:
			bad = o->s.nroutes >= FG_DP_ROUTES_MAX ||
			      fg_parse_route(optarg, &o->s.route[o->s.nroutes]);
			if (!bad)
				o->s.nroutes++;
			break;
		case O_GUE:
			bad = fg_parse_u32(optarg, 65535, &v) || !v;
			o->s.gue_port = (uint16_t)v;
			break;
		case O_CT: bad = fg_parse_u32(optarg, 1U << 30, &o->s.ct_max); break;
		case O_CTSYN:
			bad = fg_parse_u32(optarg, 1U << 30, &o->s.ct_syn_max);
			break;
		case O_NAT: bad = fg_parse_u32(optarg, 1U << 30, &o->s.nat_max); break;
		case O_BUCKETS:
			bad = fg_parse_u32(optarg, 1U << 30, &o->s.buckets_max);
			break;
		case O_TCPTO:
			bad = fg_parse_u32(optarg, 86400 * 7, &v) || !v;
			o->s.ct_timeout_tcp_ns = (uint64_t)v * 1000000000ULL;
			break;
		case O_UDPTO:
			bad = fg_parse_u32(optarg, 86400 * 7, &v) || !v;
			o->s.ct_timeout_udp_ns = (uint64_t)v * 1000000000ULL;
			break;
		case O_MTU: bad = fg_parse_u32(optarg, 65535, mtu) || *mtu < 576; break;
		case O_MBUFS:
			bad = fg_parse_u32(optarg, 1U << 26, &o->mbufs) ||
			      o->mbufs < 1024;
			break;
		case O_IDLE: bad = fg_parse_u32(optarg, 1U << 30, &o->idle_polls); break;
		case O_SLEEP:
			bad = fg_parse_u32(optarg, 1000000, &o->idle_sleep_us);
			break;
		case O_NOTAP: o->no_tap = 1; break;
		case O_SEED: o->seed_file = optarg; break;
		case O_STATE: o->state_file = optarg; break;
		case O_HELP: fg_usage(stdout, argv[0]); exit(0);
		default: return -EINVAL;
		}
		if (bad) {
			fprintf(stderr, "floodgate-dpdk: bad value for --%s: %s\n",
				lo[c - O_RULES].name, optarg);
			return -EINVAL;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "floodgate-dpdk: unexpected argument %s\n",
			argv[optind]);
		return -EINVAL;
	}
	if (!o->rules && !o->control) {
		fprintf(stderr, "floodgate-dpdk: --control PATH or --rules FILE "
			"is required\n");
		return -EINVAL;
	}
	if (o->state_file && (o->rules || !o->control)) {
		fprintf(stderr, "floodgate-dpdk: --state-file keeps what floodgated "
			"pushes: it takes --control, and not --rules\n");
		return -EINVAL;
	}
	return 0;
}

/* ------------------------------------------------------------- state */

struct fg_worker {
	unsigned int index;
	unsigned int lcore;
	struct fg_dp_lcore *lc;
	struct rte_ring *handoff;  /* NAT return legs owned here */
	struct rte_ring *learn;    /* ARP/ND answers other workers took */
	/* Worker 0: the tables whose next hops it asks for (a new object
	 * may take a freed one's address: the version too), how far. */
	const struct fg_dp_tables *resolving;
	uint64_t resolving_version;
	uint32_t resolve_at;
	uint64_t resolve_ns;       /* last requests queued */
} __rte_cache_aligned;

static volatile int fg_quit;
static struct fg_opts fg_o;
/* The live tables: written by the main lcore (release), read by each
 * worker once per loop iteration (acquire); the old ones are freed after
 * rte_rcu_qsbr_synchronize() on fg_qsbr. */
static const struct fg_dp_tables *fg_tab;
static struct rte_rcu_qsbr *fg_qsbr;
static uint64_t fg_version; /* of fg_tab, for telemetry (atomic) */
static struct fg_dpdk_ctl_server *fg_ctl;
/* The L7 engine of the held set's L7 section (main lcore; the workers do
 * not judge requests with it until the engine's TCP side exists). */
static struct fg_dpdk_l7 *fg_l7;
static struct fg_dp_buckets *fg_bk;
static struct fg_worker fg_w[FG_DP_LCORES_MAX];
static struct rte_mempool *fg_mp;
static unsigned int fg_nworkers;
static uint16_t fg_nports;
static uint16_t fg_port_id[FG_DP_PORTS_MAX];
static uint16_t fg_tap_id[FG_DP_PORTS_MAX];
static int fg_has_tap[FG_DP_PORTS_MAX];
static uint16_t fg_nrxq[FG_DP_PORTS_MAX];
static uint64_t fg_tsc_hz;

static void fg_on_signal(int sig)
{
	(void)sig;
	fg_quit = 1;
}

/* fg_now_ns - the monotonic clock in ns from the TSC (no system call). */
static inline uint64_t fg_now_ns(void)
{
	uint64_t c = rte_rdtsc();

	return (uint64_t)((unsigned __int128)c * 1000000000ULL / fg_tsc_hz);
}

/* ------------------------------------------------------------ worker */

/* Frames to send, by destination, flushed once per burst. */
struct fg_txq {
	uint16_t n;
	struct rte_mbuf *m[FG_BURST * 2];
};

static void fg_tx_flush(uint16_t port, uint16_t queue, struct fg_txq *q)
{
	uint16_t sent;

	if (!q->n)
		return;
	sent = rte_eth_tx_burst(port, queue, q->m, q->n);
	if (sent < q->n)
		rte_pktmbuf_free_bulk(&q->m[sent], q->n - sent);
	q->n = 0;
}

static inline void fg_tx_add(struct fg_txq *q, struct rte_mbuf *m,
			     uint16_t port, uint16_t queue)
{
	q->m[q->n++] = m;
	if (q->n == RTE_DIM(q->m))
		fg_tx_flush(port, queue, q);
}

/*
 * fg_dispatch - carry out the verdicts of n mbufs that came in on data
 * port in_port: send, hand to the exception port, hand off, share an
 * ARP/ND answer with the other workers, or free.
 */
static void fg_dispatch(struct fg_worker *w, uint16_t in_port,
			struct rte_mbuf **m, const uint32_t *v, uint16_t n,
			struct fg_txq *tx, struct fg_txq *exc)
{
	uint16_t i;
	unsigned int k;

	for (i = 0; i < n; i++) {
		uint32_t arg = fg_dp_arg(v[i]);

		switch (fg_dp_act(v[i])) {
		case FG_DP_TX:
			fg_tx_add(&tx[arg], m[i], fg_port_id[arg], (uint16_t)w->index);
			break;
		case FG_DP_EXCEPTION:
			if (fg_has_tap[arg])
				fg_tx_add(&exc[arg], m[i], fg_tap_id[arg],
					  (uint16_t)w->index);
			else
				rte_pktmbuf_free(m[i]);
			break;
		case FG_DP_HANDOFF:
			m[i]->port = in_port;
			if (arg >= fg_nworkers ||
			    rte_ring_mp_enqueue(fg_w[arg].handoff, m[i]))
				rte_pktmbuf_free(m[i]);
			break;
		case FG_DP_NEIGH:
			/* Every worker needs the answer: the same mbuf, read
			 * only, one reference each. */
			m[i]->port = in_port;
			for (k = 0; k < fg_nworkers; k++) {
				if (k == w->index)
					continue;
				rte_mbuf_refcnt_update(m[i], 1);
				if (rte_ring_mp_enqueue(fg_w[k].learn, m[i]))
					rte_pktmbuf_free(m[i]);
			}
			/* And the kernel: it may hold the same address on
			 * the exception port (a management address that is
			 * also the tunnel source) and have asked itself;
			 * without the answer its own traffic to that
			 * neighbour (health checks, ping) never leaves. */
			if (fg_has_tap[in_port]) {
				fg_tx_add(&exc[in_port], m[i], fg_tap_id[in_port],
					  (uint16_t)w->index);
				break;
			}
			rte_pktmbuf_free(m[i]);
			break;
		default:
			rte_pktmbuf_free(m[i]);
			break;
		}
	}
}

/* FG_RESOLVE_BURST next hops asked for per FG_RESOLVE_GAP_NS at most
 * (8,000/s: not a broadcast storm when a set has thousands). */
#define FG_RESOLVE_BURST 8U
#define FG_RESOLVE_GAP_NS 1000000ULL

/*
 * fg_resolve - worker 0 asks for the next hops of new tables (a start, a
 * new backend), FG_RESOLVE_BURST per FG_RESOLVE_GAP_NS, before packets
 * need them; every worker learns the answers. Returns the requests
 * queued.
 */
static unsigned int fg_resolve(struct fg_worker *w,
			       const struct fg_dp_tables *tab,
			       struct fg_txq *tx, uint64_t now)
{
	struct rte_mbuf *m[FG_RESOLVE_BURST];
	uint16_t port[FG_RESOLVE_BURST], k, used;

	if (!tab)
		return 0;
	if (tab != w->resolving ||
	    fg_dp_tables_version(tab) != w->resolving_version) {
		w->resolving = tab;
		w->resolving_version = fg_dp_tables_version(tab);
		w->resolve_at = 0;
	}
	if (fg_dp_resolve_done(tab, w->resolve_at) ||
	    now - w->resolve_ns < FG_RESOLVE_GAP_NS ||
	    rte_pktmbuf_alloc_bulk(fg_mp, m, FG_RESOLVE_BURST))
		return 0;
	w->resolve_ns = now;
	used = fg_dp_resolve(w->lc, tab, &w->resolve_at, m, FG_RESOLVE_BURST,
			     port, now);
	for (k = 0; k < used; k++)
		fg_tx_add(&tx[port[k]], m[k], fg_port_id[port[k]],
			  (uint16_t)w->index);
	rte_pktmbuf_free_bulk(&m[used], FG_RESOLVE_BURST - used);
	return used;
}

static int fg_worker_main(void *arg)
{
	struct fg_worker *w = arg;
	struct fg_txq tx[FG_DP_PORTS_MAX], exc[FG_DP_PORTS_MAX];
	struct rte_mbuf *m[FG_BURST];
	uint32_t v[FG_BURST];
	uint64_t idle = 0;
	uint16_t p, n, i;

	memset(tx, 0, sizeof(tx));
	memset(exc, 0, sizeof(exc));
	rte_rcu_qsbr_thread_register(fg_qsbr, w->index);
	rte_rcu_qsbr_thread_online(fg_qsbr, w->index);
	while (!fg_quit) {
		uint64_t now = fg_now_ns();
		unsigned int got = 0;
		/* One tables pointer per iteration: every packet of it sees
		 * one rule version. */
		const struct fg_dp_tables *tab = __atomic_load_n(&fg_tab,
							       __ATOMIC_ACQUIRE);

		/* Answers other workers learned from first: they may be
		 * what this worker's next packets wait for. */
		n = (uint16_t)rte_ring_sc_dequeue_burst(w->learn, (void **)m,
							 FG_BURST, NULL);
		for (i = 0; i < n; i++) {
			fg_dp_learn(w->lc, tab, m[i]->port, m[i], now);
			rte_pktmbuf_free(m[i]);
		}
		got += n;
		n = (uint16_t)rte_ring_sc_dequeue_burst(w->handoff, (void **)m,
							 FG_BURST, NULL);
		/* Hand-offs come from every port: one at a time, each with
		 * the port it came in on. */
		for (i = 0; i < n; i++) {
			fg_dp_burst(w->lc, tab, m[i]->port, &m[i], 1, now, &v[i]);
			fg_dispatch(w, m[i]->port, &m[i], &v[i], 1, tx, exc);
		}
		got += n;
		for (p = 0; p < fg_nports; p++) {
			if (w->index >= fg_nrxq[p])
				continue;
			n = rte_eth_rx_burst(fg_port_id[p], (uint16_t)w->index, m,
					     FG_BURST);
			if (!n)
				continue;
			got += n;
			fg_dp_burst(w->lc, tab, p, m, n, now, v);
			fg_dispatch(w, p, m, v, n, tx, exc);
		}
		/* The kernel's frames out of the data ports, and the next
		 * hops of new tables (worker 0). */
		if (w->index == 0) {
			got += fg_resolve(w, tab, tx, now);
			for (p = 0; p < fg_nports; p++) {
				if (!fg_has_tap[p])
					continue;
				n = rte_eth_rx_burst(fg_tap_id[p], 0, m, FG_BURST);
				for (i = 0; i < n; i++)
					fg_tx_add(&tx[p], m[i], fg_port_id[p], 0);
				got += n;
			}
		}
		for (p = 0; p < fg_nports; p++) {
			fg_tx_flush(fg_port_id[p], (uint16_t)w->index, &tx[p]);
			if (fg_has_tap[p])
				fg_tx_flush(fg_tap_id[p], (uint16_t)w->index, &exc[p]);
		}
		/* Done with tab: a swap waits for this (one store). */
		rte_rcu_qsbr_quiescent(fg_qsbr, w->index);
		if (got) {
			idle = 0;
			continue;
		}
		/* Adaptive polling: spin a little, then pause, then sleep
		 * (the only system call, and only with no packet waiting). */
		idle++;
		if (idle <= fg_o.idle_polls)
			continue;
		if (idle <= 10ULL * fg_o.idle_polls || !fg_o.idle_sleep_us)
			rte_pause();
		else
			usleep(fg_o.idle_sleep_us);
	}
	rte_rcu_qsbr_thread_offline(fg_qsbr, w->index);
	rte_rcu_qsbr_thread_unregister(fg_qsbr, w->index);
	for (p = 0; p < fg_nports; p++) {
		fg_tx_flush(fg_port_id[p], (uint16_t)w->index, &tx[p]);
		if (fg_has_tap[p])
			fg_tx_flush(fg_tap_id[p], (uint16_t)w->index, &exc[p]);
	}
	return 0;
}

/* --------------------------------------------------------- telemetry */

/* /floodgate/stats: the counters summed over the workers. */
static int fg_tel_stats(const char *cmd, const char *params,
			struct rte_tel_data *d)
{
	uint64_t drops[FG_DROPS_STRIDE] = { 0 }, rx = 0, tx = 0, exc = 0,
		 handoff = 0;
	unsigned int k, r;
	uint16_t p;

	(void)cmd;
	(void)params;
	for (k = 0; k < fg_nworkers; k++) {
		const struct fg_dp_counters *c = fg_dp_lcore_counters(fg_w[k].lc);

		for (r = 0; r < FG_DROP_REASON_MAX; r++)
			drops[r] += c->drops[r];
		for (p = 0; p < fg_nports; p++) {
			rx += c->port[p].rx;
			tx += c->port[p].tx;
			exc += c->port[p].exception;
		}
		handoff += c->handoff;
	}
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "version",
				  __atomic_load_n(&fg_version, __ATOMIC_RELAXED));
	rte_tel_data_add_dict_u64(d, "workers", fg_nworkers);
	/* A hand-off is counted rx again by its owner. */
	rte_tel_data_add_dict_u64(d, "rx", rx - handoff);
	rte_tel_data_add_dict_u64(d, "tx", tx);
	rte_tel_data_add_dict_u64(d, "exception", exc);
	rte_tel_data_add_dict_u64(d, "handoff", handoff);
	for (r = 0; r < FG_DROP_REASON_MAX; r++)
		rte_tel_data_add_dict_u64(d, fg_drop_reason_name(r), drops[r]);
	return 0;
}

/* ----------------------------------------------------------- control */

/* The counters floodgated asks for: the workers' summed (fg_dpdk_ctl.h),
 * and each device's own drops. Main lcore, from the control server. */
static int fg_ctl_collect(void *arg, struct fg_dpdk_ctl_counters *c)
{
	unsigned int k, r, i;
	uint16_t p;

	(void)arg;
	c->nports = fg_nports;
	c->nlcores = fg_nworkers;
	for (p = 0; p < fg_nports; p++) {
		struct rte_eth_stats es;

		if (rte_eth_stats_get(fg_port_id[p], &es))
			continue;
		c->port[p].rx_missed = es.imissed;
		c->port[p].rx_errors = es.ierrors + es.rx_nombuf;
		c->port[p].tx_errors = es.oerrors;
	}
	for (k = 0; k < fg_nworkers; k++) {
		const struct fg_dp_counters *x = fg_dp_lcore_counters(fg_w[k].lc);
		struct fg_dpdk_ctl_lcore *l = &c->lcore[k];

		for (r = 0; r < FG_DROP_REASON_MAX; r++)
			l->drops[r] = x->drops[r];
		l->handoff = x->handoff;
		l->neigh_learned = x->neigh_learned;
		for (p = 0; p < fg_nports; p++) {
			const struct fg_dp_port_counters *pc = &x->port[p];

			l->rx += pc->rx;
			l->tx += pc->tx;
			l->exception += pc->exception;
			l->arp_nd += pc->arp_nd;
			c->port[p].rx += pc->rx;
			c->port[p].tx += pc->tx;
			c->port[p].exception += pc->exception;
			c->port[p].arp_nd += pc->arp_nd;
		}
		for (i = 0; i < FG_SVC_MAX; i++) {
			c->svc[i].packets += x->svc[i].packets;
			c->svc[i].bytes += x->svc[i].bytes;
			c->svc[i].new_flows += x->svc[i].new_flows;
		}
		for (i = 0; i < FG_BACKEND_MAX; i++) {
			c->be[i].packets += x->be[i].packets;
			c->be[i].bytes += x->be[i].bytes;
			c->be[i].new_flows += x->be[i].new_flows;
		}
		for (i = 0; i < FG_LIMIT_MAX; i++) {
			c->limit[i].passed += x->limit[i].passed;
			c->limit[i].limited += x->limit[i].limited;
		}
	}
	return fg_dpdk_l7_collect(fg_l7, c);
}

/* floodgated's stock claimer grants the engines allowance (fg_stock.h). */
static int fg_ctl_stock(void *arg, struct fg_dpdk_ctl_stock *x)
{
	(void)arg;
	return fg_dpdk_l7_stock(fg_l7, x);
}

static void fg_ctl_note(void *arg, const char *msg)
{
	(void)arg;
	printf("floodgate-dpdk: %s\n", msg);
	fflush(stdout);
}

/* fg_settings_id - FNV-1a of the checked settings: floodgated learns
 * from HELLO whether the process it talks to kept its settings. */
static uint64_t fg_settings_id(const struct fg_dp_settings *s)
{
	const uint8_t *b = (const uint8_t *)s;
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t i;

	for (i = 0; i < sizeof(*s); i++)
		h = (h ^ b[i]) * 0x100000001b3ULL;
	return h;
}

/* fg_tables_swap - publish nt, wait until no worker can still read the
 * tables it replaces, free those. Main lcore. */
static void fg_tables_swap(struct fg_dp_tables *nt)
{
	struct fg_dp_tables *old = (struct fg_dp_tables *)fg_tab;

	__atomic_store_n(&fg_tab, nt, __ATOMIC_RELEASE);
	__atomic_store_n(&fg_version, fg_dp_tables_version(nt), __ATOMIC_RELAXED);
	/* Every worker passes through a quiescent state once per loop
	 * iteration: a grace period is one iteration (a burst, or an idle
	 * sleep of --idle-sleep-us). */
	rte_rcu_qsbr_synchronize(fg_qsbr, RTE_QSBR_THRID_INVALID);
	fg_dp_tables_free(old);
}

/* fg_ctl_install - the tables of a pushed set, switched to; the server
 * answers floodgated (ACK once every worker runs them, or why not). */
static void fg_ctl_install(const struct fg_dpdk_ctl_set *set)
{
	struct fg_dp_tables *nt;
	struct fg_compiled view;
	char err[512];
	int e = 0;

	/* The L7 engine first: a section it refuses leaves everything as
	 * it was. */
	e = fg_dpdk_l7_prepare(fg_l7, set, fg_dpdk_ctl_server_set(fg_ctl), err,
			       sizeof(err));
	if (e < 0) {
		fg_dpdk_ctl_server_installed(fg_ctl, e, err);
		return;
	}
	fg_dpdk_ctl_set_view(set, &view);
	nt = fg_dp_tables_new(&view, &fg_o.s, (int)rte_socket_id(), &e, err,
			      sizeof(err));
	if (!nt) {
		fg_dpdk_l7_abort(fg_l7);
		fg_dpdk_ctl_server_installed(fg_ctl, e, err);
		return;
	}
	fg_tables_swap(nt);
	fg_dpdk_l7_commit(fg_l7);
	fg_dpdk_ctl_server_installed(fg_ctl, 0, NULL);
	printf("floodgate-dpdk: running version %llu (%u services, %u backends)%s\n",
	       (unsigned long long)set->version, set->nsvcs, set->nbackends,
	       fg_dpdk_l7_engine(fg_l7) ? " with an l7 section" : "");
	fflush(stdout);
	/* What the process now holds (the server's copy: set may be
	 * gone with the install). A failed write costs only the head
	 * start of the next restart. */
	if (fg_o.state_file && fg_dpdk_ctl_server_set(fg_ctl) &&
	    fg_state_save(fg_o.state_file, fg_dpdk_ctl_server_set(fg_ctl), err,
			  sizeof(err)))
		fprintf(stderr, "floodgate-dpdk: %s\n", err);
}

/* ------------------------------------------------------------- ports */

/* fg_port_setup - configure port id with up to want_rx RX queues (RSS
 * when more than one) and nq TX queues, from pool mp; *nrxq receives the
 * RX queues it got. */
static int fg_port_setup(uint16_t id, unsigned int want_rx, unsigned int nq,
			 struct rte_mempool *mp, uint16_t *nrxq, char *err,
			 size_t errlen)
{
	struct rte_eth_conf conf;
	struct rte_eth_dev_info info;
	uint16_t rxq, txq, q, nrxd = FG_RXD, ntxd = FG_TXD;
	int rc;

	memset(&conf, 0, sizeof(conf));
	rc = rte_eth_dev_info_get(id, &info);
	if (rc)
		goto fail;
	rxq = (uint16_t)RTE_MIN(want_rx, (unsigned int)info.max_rx_queues);
	txq = (uint16_t)nq;
	if (info.max_tx_queues < nq) {
		snprintf(err, errlen, "port %u (%s): %u TX queues, %u workers need "
			 "one each", id, info.driver_name, info.max_tx_queues, nq);
		return -EINVAL;
	}
	if (rxq > 1) {
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_hf = (RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP |
						    RTE_ETH_RSS_UDP) &
						   info.flow_type_rss_offloads;
		if (!conf.rx_adv_conf.rss_conf.rss_hf)
			conf.rxmode.mq_mode = RTE_ETH_MQ_RX_NONE;
	}
	rc = rte_eth_dev_configure(id, rxq, txq, &conf);
	if (rc)
		goto fail;
	rc = rte_eth_dev_adjust_nb_rx_tx_desc(id, &nrxd, &ntxd);
	if (rc)
		goto fail;
	for (q = 0; q < rxq; q++) {
		rc = rte_eth_rx_queue_setup(id, q, nrxd, rte_eth_dev_socket_id(id),
					    NULL, mp);
		if (rc)
			goto fail;
	}
	for (q = 0; q < txq; q++) {
		rc = rte_eth_tx_queue_setup(id, q, ntxd, rte_eth_dev_socket_id(id),
					    NULL);
		if (rc)
			goto fail;
	}
	rc = rte_eth_dev_start(id);
	if (rc)
		goto fail;
	rte_eth_promiscuous_enable(id);
	*nrxq = rxq;
	return 0;
fail:
	snprintf(err, errlen, "port %u: %s", id, rte_strerror(-rc));
	return rc < 0 ? rc : -EIO;
}

/* fg_tap_create - the exception port of data port i: net_tap fg<i> with
 * the data port's MAC, as many queues as workers; persistent (the kernel
 * keeps the interface, its addresses and routes when the process ends or
 * dies; the next start attaches to it again). */
static int fg_tap_create(unsigned int i, const struct rte_ether_addr *mac,
			 uint16_t *tap_id)
{
	char name[32], devargs[160];
	int rc;

	snprintf(name, sizeof(name), "net_tap_fg%u", i);
	snprintf(devargs, sizeof(devargs), "%s,iface=fg%u,persist,mac=" RTE_ETHER_ADDR_PRT_FMT,
		 name, i, RTE_ETHER_ADDR_BYTES(mac));
	rc = rte_dev_probe(devargs);
	if (rc)
		return rc;
	return rte_eth_dev_get_port_by_name(name, tap_id);
}

/* -------------------------------------------------------------- main */

int main(int argc, char **argv)
{
	struct fg_compiler *comp = NULL;
	struct fg_compiled *cp = NULL;
	struct rte_mempool *mp = NULL;
	struct fg_dp_tables *tab = NULL;
	struct fg_dpdk_ctl_set *set = NULL;
	unsigned int mtu = 0, lcore, k, nmbufs;
	uint16_t id, p;
	char err[512];
	int rc, e, ret = 1;

	rc = fg_dp_eal_init(argc, argv);
	if (rc < 0) {
		fprintf(stderr, "floodgate-dpdk: EAL: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	argc -= rc;
	argv += rc;
	argv[0] = (char *)"floodgate-dpdk";
	if (fg_parse_opts(argc, argv, &fg_o, &mtu)) {
		fg_usage(stderr, argv[0]);
		goto out;
	}
	/* Files first: one that is wrong stops the start before any port
	 * or interface is touched. */
	if ((fg_o.seed_file &&
	     fg_seed_load(fg_o.seed_file, &fg_o.s.seed, err, sizeof(err))) ||
	    (fg_o.state_file &&
	     fg_state_load(fg_o.state_file, &set, err, sizeof(err)))) {
		fprintf(stderr, "floodgate-dpdk: %s\n", err);
		goto out;
	}
	fg_tsc_hz = rte_get_tsc_hz();
	fg_nworkers = rte_lcore_count() - 1;
	if (!fg_nworkers || fg_nworkers > FG_DP_LCORES_MAX) {
		fprintf(stderr, "floodgate-dpdk: %u lcores: give the main lcore and "
			"1 to %u workers (-l 0,1)\n", rte_lcore_count(),
			FG_DP_LCORES_MAX);
		goto out;
	}
	RTE_ETH_FOREACH_DEV(id) {
		if (fg_nports == FG_DP_PORTS_MAX) {
			fprintf(stderr, "floodgate-dpdk: more than %u ports\n",
				FG_DP_PORTS_MAX);
			goto out;
		}
		fg_port_id[fg_nports++] = id;
	}
	if (!fg_nports) {
		fprintf(stderr, "floodgate-dpdk: no ports (give --vdev or a NIC)\n");
		goto out;
	}

	/* Explicit pool: on every data and exception port an RX ring full,
	 * as much again in the driver's own fill ring (net_af_xdp keeps
	 * one beside its RX ring), a TX ring; each lcore's cache and bursts
	 * in flight; a sixteenth of each worker's hand-off ring. At least
	 * FG_MBUFS_MIN, a margin for what a driver holds beyond its rings:
	 * in dpdk_traffic, one worker on net_af_xdp with the bare sum
	 * (5,120 without the fill ring) did not forward within 5 s of a
	 * restart, and ran with 16,384. */
	nmbufs = fg_o.mbufs;
	if (!nmbufs)
		nmbufs = RTE_MAX(FG_MBUFS_MIN,
				 (unsigned int)fg_nports * 2 *
				 (fg_nworkers * (2 * FG_RXD + FG_TXD)) +
				 (fg_nworkers + 1) * (FG_MBUF_CACHE + 4 * FG_BURST) +
				 fg_nworkers * FG_RING_SIZE / 16);
	mp = rte_pktmbuf_pool_create("fg_mbufs", nmbufs, FG_MBUF_CACHE, 0,
				     RTE_MBUF_DEFAULT_BUF_SIZE, rte_socket_id());
	fg_mp = mp;
	if (!mp) {
		fprintf(stderr, "floodgate-dpdk: mbuf pool of %u: %s (--mbufs, -m)\n",
			nmbufs, rte_strerror(rte_errno));
		goto out;
	}

	fg_o.s.nports = fg_nports;
	fg_o.s.nworkers = fg_nworkers;
	for (p = 0; p < fg_nports; p++) {
		struct rte_ether_addr mac;
		uint16_t port_mtu = 1500;

		if (rte_eth_macaddr_get(fg_port_id[p], &mac)) {
			fprintf(stderr, "floodgate-dpdk: port %u: no MAC\n", fg_port_id[p]);
			goto out;
		}
		memcpy(fg_o.s.port[p].mac, mac.addr_bytes, 6);
		if (rte_eth_dev_get_mtu(fg_port_id[p], &port_mtu) || port_mtu < 576)
			port_mtu = 1500;
		fg_o.s.port[p].mtu = (uint16_t)(mtu ? mtu : port_mtu);
		if (fg_port_setup(fg_port_id[p], fg_nworkers, fg_nworkers, mp,
				  &fg_nrxq[p], err, sizeof(err))) {
			fprintf(stderr, "floodgate-dpdk: %s\n", err);
			goto out;
		}
		printf("floodgate-dpdk: port %u: %u RX queues, MAC "
		       RTE_ETHER_ADDR_PRT_FMT ", MTU %u\n", fg_port_id[p], fg_nrxq[p],
		       RTE_ETHER_ADDR_BYTES(&mac), fg_o.s.port[p].mtu);
		if (fg_o.no_tap)
			continue;
		rc = fg_tap_create(p, &mac, &fg_tap_id[p]);
		if (rc) {
			fprintf(stderr, "floodgate-dpdk: exception port fg%u: %s "
				"(--no-tap to run without)\n", p, rte_strerror(-rc));
			goto out;
		}
		/* One RX queue (worker 0 polls it: the kernel's traffic is
		 * light), a TX queue per worker. */
		if (fg_port_setup(fg_tap_id[p], 1, fg_nworkers, mp, &id, err,
				  sizeof(err))) {
			fprintf(stderr, "floodgate-dpdk: exception port: %s\n", err);
			goto out;
		}
		fg_has_tap[p] = 1;
	}
	if (fg_dp_settings_check(&fg_o.s, err, sizeof(err))) {
		fprintf(stderr, "floodgate-dpdk: %s\n", err);
		goto out;
	}

	/* The tables to start with: the rule file's, the set the state
	 * file kept, or the empty set's (everything to the exception path)
	 * until floodgated pushes. */
	if (fg_o.rules) {
		comp = fg_compiler_new(NULL);
		if (!comp) {
			fprintf(stderr, "floodgate-dpdk: out of memory\n");
			goto out;
		}
		rc = fg_dp_rules_load(comp, fg_o.rules, 1, &cp, err, sizeof(err));
		if (!rc)
			set = fg_dpdk_ctl_set_from_compiled(cp, NULL, &rc, err,
							    sizeof(err));
		if (!set) {
			fprintf(stderr, "floodgate-dpdk: %s\n", err);
			goto out;
		}
	} else {
		if (set)
			printf("floodgate-dpdk: version %llu (%u services, %u "
			       "backends) from %s\n",
			       (unsigned long long)set->version, set->nsvcs,
			       set->nbackends, fg_o.state_file);
		else
			set = fg_dpdk_ctl_set_empty();
		if (!set) {
			fprintf(stderr, "floodgate-dpdk: out of memory\n");
			goto out;
		}
	}
	/* The L7 engine's bucket hashes are keyed like the flow hash
	 * (fg_dp_settings_check made the key when no --seed-file gave one). */
	fg_l7 = fg_dpdk_l7_new(fg_nworkers, &fg_o.s.seed);
	if (!fg_l7) {
		fprintf(stderr, "floodgate-dpdk: out of memory\n");
		goto out;
	}
	{
		struct fg_compiled view;

		if (fg_dpdk_l7_prepare(fg_l7, set, NULL, err,
				       sizeof(err)) >= 0) {
			fg_dpdk_ctl_set_view(set, &view);
			tab = fg_dp_tables_new(&view, &fg_o.s, rte_socket_id(),
					       &e, err, sizeof(err));
		}
		/* A kept set the settings no longer fit (a family's tunnel
		 * source gone, an l7 section of another release): start
		 * empty, floodgated pushes what fits. */
		if (!tab && fg_o.state_file && set->version) {
			fprintf(stderr, "floodgate-dpdk: the set of %s does not fit "
				"these settings (%s): starting empty\n",
				fg_o.state_file, err);
			fg_dpdk_l7_abort(fg_l7);
			fg_dpdk_ctl_set_free(set);
			set = fg_dpdk_ctl_set_empty();
			if (set) {
				fg_dpdk_ctl_set_view(set, &view);
				tab = fg_dp_tables_new(&view, &fg_o.s, rte_socket_id(),
						       &e, err, sizeof(err));
			}
		}
	}
	if (!tab) {
		fprintf(stderr, "floodgate-dpdk: tables: %s\n", err);
		goto out;
	}
	fg_dpdk_l7_commit(fg_l7);
	fg_compiled_free(cp);
	cp = NULL;
	fg_tab = tab;
	tab = NULL; /* fg_tab owns it: freed at the end, or by a swap */
	fg_version = fg_dp_tables_version(fg_tab);
	{
		size_t sz = rte_rcu_qsbr_get_memsize(fg_nworkers);

		fg_qsbr = rte_zmalloc("fg_qsbr", sz, RTE_CACHE_LINE_SIZE);
		if (!fg_qsbr || rte_rcu_qsbr_init(fg_qsbr, fg_nworkers)) {
			fprintf(stderr, "floodgate-dpdk: RCU: out of memory\n");
			goto out;
		}
	}
	if (fg_o.control) {
		struct fg_dpdk_ctl_server_opts co = {
			.path = fg_o.control,
			.settings_id = fg_settings_id(&fg_o.s),
			.nworkers = fg_nworkers,
			.nports = fg_nports,
			.collect = fg_ctl_collect,
			.stock = fg_ctl_stock,
			.note = fg_ctl_note,
		};

		fg_ctl = fg_dpdk_ctl_server_new(&co, &e, err, sizeof(err));
		if (!fg_ctl) {
			fprintf(stderr, "floodgate-dpdk: %s\n", err);
			goto out;
		}
	}
	fg_bk = fg_dp_buckets_new(&fg_o.s, rte_socket_id());
	if (!fg_bk) {
		fprintf(stderr, "floodgate-dpdk: out of memory for token buckets\n");
		goto out;
	}
	k = 0;
	RTE_LCORE_FOREACH_WORKER(lcore) {
		struct fg_worker *w = &fg_w[k];
		char name[32];

		w->index = k;
		w->lcore = lcore;
		w->lc = fg_dp_lcore_new(&fg_o.s, k, fg_bk,
					(int)rte_lcore_to_socket_id(lcore), &e);
		snprintf(name, sizeof(name), "fg_handoff%u", k);
		w->handoff = rte_ring_create(name, FG_RING_SIZE,
					     (int)rte_lcore_to_socket_id(lcore),
					     RING_F_SC_DEQ);
		snprintf(name, sizeof(name), "fg_learn%u", k);
		w->learn = rte_ring_create(name, FG_RING_SIZE / 16,
					   (int)rte_lcore_to_socket_id(lcore),
					   RING_F_SC_DEQ);
		if (!w->lc || !w->handoff || !w->learn) {
			fprintf(stderr, "floodgate-dpdk: worker %u: out of memory "
				"(-m, --ct-max, --nat-max)\n", k);
			goto out;
		}
		k++;
	}
	rte_telemetry_register_cmd("/floodgate/stats", fg_tel_stats,
				   "Counters summed over the workers. No parameters");
	signal(SIGINT, fg_on_signal);
	signal(SIGTERM, fg_on_signal);
	/* The counters are there now: the server holds the start set. */
	if (fg_ctl && !fg_dpdk_ctl_server_hold(fg_ctl, set))
		set = NULL;
	printf("floodgate-dpdk: %u ports, %u workers, rules version %llu%s%s%s; "
	       "running\n", fg_nports, fg_nworkers,
	       (unsigned long long)fg_dp_tables_version(fg_tab),
	       fg_dpdk_l7_engine(fg_l7) ? " with an l7 section" : "",
	       fg_ctl ? ", control socket " : "", fg_ctl ? fg_o.control : "");
	fflush(stdout);
	for (k = 0; k < fg_nworkers; k++)
		rte_eal_remote_launch(fg_worker_main, &fg_w[k], fg_w[k].lcore);
	while (!fg_quit) {
		const struct fg_dpdk_ctl_set *pushed;

		if (!fg_ctl) {
			usleep(100000);
			continue;
		}
		fg_dpdk_ctl_server_wait(fg_ctl, 100);
		rc = fg_dpdk_ctl_server_poll(fg_ctl, &pushed);
		if (rc == 1)
			fg_ctl_install(pushed);
		else if (rc < 0)
			fprintf(stderr, "floodgate-dpdk: control socket: %s\n",
				strerror(-rc));
	}
	rte_eal_mp_wait_lcore();
	ret = 0;
out:
	fg_quit = 1;
	rte_eal_mp_wait_lcore();
	for (p = 0; p < fg_nports; p++) {
		rte_eth_dev_stop(fg_port_id[p]);
		rte_eth_dev_close(fg_port_id[p]);
		if (fg_has_tap[p]) {
			rte_eth_dev_stop(fg_tap_id[p]);
			rte_eth_dev_close(fg_tap_id[p]);
		}
	}
	for (k = 0; k < FG_DP_LCORES_MAX; k++) {
		fg_dp_lcore_free(fg_w[k].lc);
		rte_ring_free(fg_w[k].handoff);
		rte_ring_free(fg_w[k].learn);
	}
	fg_dp_buckets_free(fg_bk);
	fg_dpdk_ctl_server_free(fg_ctl);
	fg_dpdk_l7_free(fg_l7);
	fg_dpdk_ctl_set_free(set);
	fg_dp_tables_free(tab);
	fg_dp_tables_free((struct fg_dp_tables *)fg_tab);
	rte_free(fg_qsbr);
	fg_compiled_free(cp);
	fg_compiler_free(comp);
	rte_mempool_free(mp);
	rte_eal_cleanup();
	return ret;
}
