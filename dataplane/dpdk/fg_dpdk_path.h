/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * fg_dpdk_path.h - the DPDK dataplane's per-lcore packet path as a
 * library: a burst of mbufs in, a verdict per mbuf out (send it out of a
 * port, rewritten in place; hand it to the kernel through the exception
 * port; hand it to another lcore; or drop it for a counted reason). No
 * EAL ports needed: tests and benchmarks drive it with mbufs of their own.
 *
 * Three objects:
 *
 *  - struct fg_dp_tables: the read-only tables of one rule generation,
 *    built from the rule compiler's images (struct fg_compiled) and the
 *    load-time settings (struct fg_dp_settings). Every lcore reads the
 *    same tables; a new rule set is a new tables object (the control
 *    socket swaps it under RCU and frees the old one after the grace
 *    period: fg_dp_burst() takes the tables as an argument for that).
 *  - struct fg_dp_buckets: the token buckets of the limits, shared by the
 *    lcores as the XDP program's fg_buckets are shared by the CPUs, with
 *    the same deliberate race (fg_dp_burst): a source-keyed limit must
 *    hold whichever lcore RSS sends a source's flows to.
 *  - struct fg_dp_lcore: one worker's own state: its connection tables
 *    (the core's set-associative lines, 16 bytes a flow), its full-NAT
 *    reverse entries, its neighbour table and its counters. Only its
 *    lcore writes it; other threads read the counters (torn reads of a
 *    64-bit counter do not happen on 64-bit CPUs).
 *
 * Behaviour is the XDP program's (xdp/floodgate.bpf.c), through the same
 * core code: fg_prefilter.h, fg_parse.h, fg_verdict.h (order, limits),
 * fg_ct.h, fg_maglev.h, fg_encap.h, fg_nat.h, fg_rst.h. What differs is
 * what only a DPDK process has to do: routing and neighbours (the
 * kernel's FIB for XDP), ARP/ND for the appliance's own addresses, and
 * the hand-off of NAT return traffic to the lcore that owns its port.
 */
#ifndef FG_DPDK_PATH_H
#define FG_DPDK_PATH_H

#include <stddef.h>
#include <stdint.h>

#include <rte_mbuf.h>

#include "fg_tables.h"

struct fg_compiled;

/* ------------------------------------------------------------ limits */

#define FG_DP_PORTS_MAX   16U  /* data ports */
#define FG_DP_ROUTES_MAX  64U  /* routes in the tables */
#define FG_DP_LCORES_MAX  128U /* workers (NAT port plan, hand-off) */
#define FG_DP_NEIGH_SLOTS 1024U /* neighbour entries per lcore (2^n) */
#define FG_DP_NEIGH_PROBES 8U
#define FG_DP_OWN_SLOTS   16384U /* own-address set (VIPs, tunnel, SNAT) */
#define FG_DP_OWN_PROBES  16U
/* A neighbour asked for is asked again at most this often. */
#define FG_DP_NEIGH_RETRY_NS 1000000000ULL

/* ---------------------------------------------------------- settings */

/* A route: prefix/len out of port, through gw (all zero: connected, the
 * destination is the next hop). Addresses network order, IPv4 in word 0. */
struct fg_dp_route {
	__be32 prefix[4];
	__be32 gw[4];
	uint8_t family;  /* FG_AF_INET or FG_AF_INET6 */
	uint8_t len;     /* prefix length in bits */
	uint16_t port;   /* data port index */
};

/* A data port as the path sees it. */
struct fg_dp_port {
	uint8_t mac[6];  /* the port's MAC: the source of what it sends */
	uint16_t mtu;    /* largest IP packet it sends; 0 = 1500 */
};

/*
 * Load-time settings: fixed for the life of the process (the connection
 * tables are keyed by the seed; a tables object and the lcores it is used
 * with must come from the same settings). Zero fields take defaults.
 */
struct fg_dp_settings {
	struct fg_hash_seed seed;  /* all zero = random (getrandom) */
	__be32 tunnel_src4;        /* DSR outer source, IPv4 */
	__be32 tunnel_src6[4];
	__be32 snat4;              /* full-NAT source; zero = tunnel_src4 */
	__be32 snat6[4];           /* zero = tunnel_src6 */
	uint16_t gue_port;         /* host order; 0 = FG_GUE_PORT_DEFAULT */
	uint64_t ct_timeout_tcp_ns; /* 0 = 300 s */
	uint64_t ct_timeout_udp_ns; /* 0 = 30 s */
	/* Per-lcore sizes (rounded up to powers of two). */
	uint32_t ct_max;           /* established flows; 0 = FG_CT_DEFAULT */
	uint32_t ct_syn_max;       /* embryonic flows; 0 = FG_CT_SYN_DEFAULT */
	uint32_t nat_max;          /* NAT reverse entries; 0 = FG_NAT_DEFAULT */
	uint32_t nat_syn_max;      /* ... of handshakes; 0 = ct_syn_max */
	uint32_t buckets_max;      /* shared; 0 = FG_BUCKETS_DEFAULT */
	uint32_t nworkers;         /* lcores that run the path: the NAT port
				    * plan gives each a residue class of
				    * source ports; 0 = 1 */
	uint16_t nports;
	struct fg_dp_port port[FG_DP_PORTS_MAX];
	uint16_t nroutes;
	struct fg_dp_route route[FG_DP_ROUTES_MAX];
};

/*
 * fg_dp_settings_check - fill defaults into s and check it: addresses of
 * a family that a route or service needs, sizes, ports, routes (prefix
 * bits past len set, a port out of range, a gateway of another family).
 * Returns 0 or -EINVAL with a message in err. Context: control thread.
 */
int fg_dp_settings_check(struct fg_dp_settings *s, char *err, size_t errlen);

/* ------------------------------------------------------------ tables */

struct fg_dp_tables;

/*
 * fg_dp_tables_new - the tables of cp's generation under settings s
 * (checked with fg_dp_settings_check first): the service slots, rings,
 * backends (with the route to each precomputed), limits, the config (its
 * VIP filter with the SNAT addresses added), the own-address set that
 * ARP/ND answers for, the port and route lists. cp is only read; it may
 * be freed afterwards. socket: the NUMA socket to allocate on
 * (SOCKET_ID_ANY). Returns the tables, or NULL with *errp set (-EINVAL,
 * -ENOMEM) and a message in err. Context: control thread, after
 * rte_eal_init (rte_malloc).
 */
struct fg_dp_tables *fg_dp_tables_new(const struct fg_compiled *cp,
				      const struct fg_dp_settings *s,
				      int socket, int *errp, char *err,
				      size_t errlen);

/* fg_dp_tables_free - release t. Accepts NULL. Only once no lcore can
 * still be reading it (after an RCU grace period). */
void fg_dp_tables_free(struct fg_dp_tables *t);

/* fg_dp_tables_version - the rule version t carries. */
uint64_t fg_dp_tables_version(const struct fg_dp_tables *t);

/* fg_dp_tables_settings - the settings t was built with (defaults
 * filled). */
const struct fg_dp_settings *fg_dp_tables_settings(const struct fg_dp_tables *t);

/* ----------------------------------------------------------- buckets */

struct fg_dp_buckets;

/* fg_dp_buckets_new - s->buckets_max token-bucket entries, all free.
 * Returns NULL on -ENOMEM. Context: control thread, after EAL init. */
struct fg_dp_buckets *fg_dp_buckets_new(const struct fg_dp_settings *s,
					int socket);

/* fg_dp_buckets_free - accepts NULL. */
void fg_dp_buckets_free(struct fg_dp_buckets *b);

/* ------------------------------------------------------------ lcores */

/* One lcore's counters. The layouts are the XDP dataplane's (fg_tables.h)
 * so that the daemon reads both alike: summed over lcores, they are what
 * the XDP maps' per-CPU entries sum to. */
struct fg_dp_port_counters {
	uint64_t rx;         /* frames given to fg_dp_burst from this port;
			      * a hand-off counts again on its owner, so
			      * frames in = sum(rx) - sum(handoff) */
	uint64_t tx;         /* frames sent out of this port */
	uint64_t exception;  /* frames handed to its exception port */
	uint64_t arp_nd;     /* ARP/ND answers and requests sent */
};

struct fg_dp_counters {
	uint64_t drops[FG_DROPS_STRIDE];          /* FG_DROP_* */
	uint64_t handoff;                         /* NAT return leg to its
						   * owner lcore */
	uint64_t neigh_learned;                   /* ARP/ND answers taken */
	struct fg_dp_port_counters port[FG_DP_PORTS_MAX];
	struct fg_counter svc[FG_SVC_MAX];
	struct fg_counter be[FG_BACKEND_MAX];
	struct fg_limit_counter limit[FG_LIMIT_MAX];
};

struct fg_dp_lcore;

/*
 * fg_dp_lcore_new - the state of worker `index` (0..nworkers-1) under
 * settings s (checked), charging limits to buckets b (shared by every
 * lcore of the process). Returns NULL with *errp set (-EINVAL: index out
 * of range; -ENOMEM). Context: control thread, after EAL init.
 */
struct fg_dp_lcore *fg_dp_lcore_new(const struct fg_dp_settings *s,
				    unsigned int index,
				    struct fg_dp_buckets *b, int socket,
				    int *errp);

/* fg_dp_lcore_free - accepts NULL. */
void fg_dp_lcore_free(struct fg_dp_lcore *lc);

/* fg_dp_lcore_counters - lc's counters (read by any thread). */
const struct fg_dp_counters *fg_dp_lcore_counters(const struct fg_dp_lcore *lc);

/* fg_dp_lcore_mem - bytes lc holds (connection, NAT, neighbour tables and
 * counters), and in *per_flow the bytes an established flow takes. */
size_t fg_dp_lcore_mem(const struct fg_dp_lcore *lc, size_t *per_flow);

/*
 * fg_dp_lcore_flows - flows lc's established table holds live at now_ns
 * under t's timeouts: a scan of the whole table, for reports and
 * benchmarks, not for a worker's loop. Read while the lcore writes: a
 * way being rewritten may be counted or not. Context: any thread.
 */
uint64_t fg_dp_lcore_flows(const struct fg_dp_lcore *lc,
			   const struct fg_dp_tables *t, uint64_t now_ns);

/* ---------------------------------------------------------- verdicts */

enum fg_dp_act {
	FG_DP_DROP = 0,   /* free it; arg: the FG_DROP_* reason counted,
			   * or FG_REASON_NONE */
	FG_DP_TX,         /* send it out of data port arg (rewritten) */
	FG_DP_EXCEPTION,  /* hand it, untouched, to the exception port of
			   * data port arg (where it came in) */
	FG_DP_HANDOFF,    /* a NAT return packet owned by lcore arg: give
			   * it to that lcore, which runs it through
			   * fg_dp_burst itself (untouched) */
	FG_DP_NEIGH,      /* an ARP/ND answer this lcore learned from; the
			   * other lcores may learn it too (fg_dp_learn),
			   * then free it */
};

/* A verdict: the action in the low byte, its argument above. */
#define FG_DP_VERDICT(act, arg) ((uint32_t)(act) | (uint32_t)(arg) << 8)

static inline enum fg_dp_act fg_dp_act(uint32_t v)
{
	return (enum fg_dp_act)(v & 0xff);
}

static inline uint32_t fg_dp_arg(uint32_t v)
{
	return v >> 8;
}

/*
 * fg_dp_burst - run n mbufs that came in on data port in_port through
 * the path, at time now_ns (a monotonic clock in ns, read once per
 * burst). verdicts[i] receives mbuf i's verdict; a TX mbuf has been
 * rewritten in place (its data offset and length may have changed). The
 * caller frees, sends or hands on each mbuf as its verdict says.
 *
 * Multi-segment mbufs are dropped as malformed (ports are set up without
 * scatter; the path reads a frame from one segment). Order of work per
 * packet is fg_verdict.h's. The burst is worked in two stages over
 * groups of it, so that the cache misses of its packets overlap: the
 * first part of each packet's work (up to its limits and flow hash) for
 * a group, the group's connection-table lines prefetched together, then
 * the rest of the work of the group before it. The outcome is the
 * frames' one at a time (an ARP or ND frame waits for the packets before
 * it), but for one case: a packet to the SNAT address that no NAT entry
 * claims meets a service's limits after up to two groups of later
 * packets have met theirs. Counters: lc's. Context: the lcore
 * that owns lc; no lock, no system call, no allocation; t stays valid
 * for the call (RCU read side).
 */
void fg_dp_burst(struct fg_dp_lcore *lc, const struct fg_dp_tables *t,
		 uint16_t in_port, struct rte_mbuf **pkts, uint16_t n,
		 uint64_t now_ns, uint32_t *verdicts);

/*
 * fg_dp_learn - take what an ARP reply / neighbour advertisement that
 * another lcore received (its FG_DP_NEIGH verdict) says, into lc's
 * neighbour table: the answer reaches whichever queue the NIC puts it
 * on, the next hop's packets every lcore. m is only read. Returns 1 when
 * an entry was written, 0 when m says nothing for us.
 * Context: the lcore that owns lc.
 */
int fg_dp_learn(struct fg_dp_lcore *lc, const struct fg_dp_tables *t,
		uint16_t in_port, const struct rte_mbuf *m, uint64_t now_ns);

/*
 * fg_dp_resolve - ask, before any packet needs them, for the next hops of
 * t's backends that lc has no answer for: without it the first packet
 * toward each (a client's SYN, after a start or a new backend) is
 * dropped as no_neigh while the answer comes, and the client retries a
 * second later. Walks t's distinct next hops from *cursor (0 for a new
 * t), turning m[0..n) (fresh mbufs of the caller's) into ARP requests /
 * neighbour solicitations, at most one per next hop per retry interval,
 * as a packet would, and only where a free neighbour slot can take the
 * answer (a live entry is never evicted for this; a packet asks for the
 * rest); port[k] receives m[k]'s data port. Returns how many
 * of m are to be sent; the caller frees the rest and calls again while
 * !fg_dp_resolve_done(t, *cursor). The answers come back as FG_DP_NEIGH
 * verdicts, which every lcore learns from, so one lcore asking is enough.
 * Context: the lcore that owns lc.
 */
uint16_t fg_dp_resolve(struct fg_dp_lcore *lc, const struct fg_dp_tables *t,
		       uint32_t *cursor, struct rte_mbuf **m, uint16_t n,
		       uint16_t *port, uint64_t now_ns);
int fg_dp_resolve_done(const struct fg_dp_tables *t, uint32_t cursor);

/*
 * fg_dp_eal_init - rte_eal_init(argc, argv), and the EAL's runtime
 * directory (/var/run/dpdk/PREFIX for root) removed at exit when it is
 * empty by then: the EAL makes one per file prefix and leaves it behind,
 * so every run of a test or a benchmark with a prefix of its own left a
 * directory on the box. The removal runs after the EAL's own exit
 * handlers (the telemetry socket's), whichever way the process exits;
 * a directory that still holds another process's files stays. Returns
 * what rte_eal_init returns. Context: main, once.
 */
int fg_dp_eal_init(int argc, char **argv);

#endif /* FG_DPDK_PATH_H */
