// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * fg_dpdk_path.c - the DPDK dataplane's per-lcore packet path
 * (fg_dpdk_path.h): the XDP program's order of work and decisions
 * (xdp/floodgate.bpf.c) through the same core code, over tables in plain
 * memory instead of BPF maps, plus what the kernel does for XDP and a
 * DPDK process must do itself: routes, neighbours, ARP/ND.
 *
 * Sections: tables (build), buckets and lcores (allocation), helpers,
 * neighbours and ARP/ND, NAT, connection tracking, limits, the packet
 * path, the burst.
 */
#include "fg_dpdk_path.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <unistd.h>

#include <rte_branch_prediction.h>
#include <rte_eal.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>

#include "fg_compile.h"
#include "fg_csum.h"
#include "fg_ct.h"
#include "fg_encap.h"
#include "fg_icmp.h"
#include "fg_flow.h"
#include "fg_maglev.h"
#include "fg_nat.h"
#include "fg_parse.h"
#include "fg_prefilter.h"
#include "fg_rst.h"
#include "fg_tables.h"
#include "fg_tbucket.h"
#include "fg_verdict.h"

#define FG_ETH_P_ARP 0x0806
#define FG_ETH_HLEN 14

/* Packets per group (fg_dp_burst): a group's connection-table lines are
 * prefetched together, then the group before it runs its second stage. */
#define FG_DP_GROUP 16U
/* Frames ahead whose data is prefetched (l3fwd's PREFETCH_OFFSET). */
#define FG_DP_PREFETCH 3U

/* ---------------------------------------------------------- structs */

/* A route to a backend, resolved when the tables are built: a backend's
 * route changes with the tables, never per packet. */
struct fg_dp_be_route {
	__be32 nh[4];      /* next hop (the backend itself when connected) */
	uint16_t port;
	uint8_t ok;        /* 0: no route (counted no_route) */
	uint8_t family;
};

/* A next hop some backend is reached through, once per (port, family,
 * address): what fg_dp_resolve asks for before a packet needs it. The
 * layout has no holes, so two compare equal by memcmp. */
struct fg_dp_nexthop {
	__be32 nh[4];
	uint16_t port;
	uint8_t family;
	uint8_t pad;
};
_Static_assert(sizeof(struct fg_dp_nexthop) == 20, "nexthop size");

/* An address the appliance answers ARP/ND for. */
struct fg_dp_own {
	__be32 addr[4];
	uint8_t family;    /* 0 = free slot */
};

struct fg_dp_tables {
	struct fg_config cfg;           /* gen = this generation's */
	struct fg_dp_settings s;        /* defaults filled */
	uint64_t version;
	__be16 gue_port;                /* network order */
	uint32_t tcp_to, udp_to;        /* conntrack timeouts, ticks */
	uint32_t nring;
	uint32_t *ring;                 /* every service's ring, packed */
	struct fg_backend *be;          /* FG_BACKEND_MAX */
	struct fg_dp_be_route *be_route; /* FG_BACKEND_MAX */
	struct fg_limit *limits;        /* FG_LIMIT_MAX, by limit id */
	struct fg_svc_slot *svc;        /* FG_SVC_SLOTS */
	struct fg_dp_own *own;          /* FG_DP_OWN_SLOTS */
	struct fg_dp_nexthop *nexthop;  /* distinct, sorted */
	uint32_t nnexthops;
};

struct fg_dp_buckets {
	uint32_t slots;                 /* power of two */
	struct fg_bucket_entry *e;
};

/* A full-NAT reverse entry: the backend-side key and what to restore. */
struct fg_dp_nat {
	struct fg_flow_key key;         /* family 0 = free */
	struct fg_nat_rev rev;          /* last_seen: ns */
};
#define FG_DP_NAT_WAYS 4U

/* A neighbour of a data port. */
struct fg_dp_neigh {
	__be32 addr[4];
	uint64_t asked_ns;              /* last request sent */
	uint8_t mac[6];
	uint16_t port;
	uint8_t family;                 /* 0 = free */
	uint8_t state;                  /* FG_DP_N_* */
	uint8_t pad[6];
};
#define FG_DP_N_ASKED 1                 /* requested, no answer yet */
#define FG_DP_N_OK    2

struct fg_dp_lcore {
	unsigned int index, nworkers;
	uint32_t ct_lines, ct_syn_lines;
	uint32_t nat_sets, nat_syn_sets;
	struct fg_ct_line *ct, *ct_syn;
	struct fg_dp_nat *nat, *nat_syn;
	struct fg_dp_buckets *b;
	struct fg_dp_neigh neigh[FG_DP_NEIGH_SLOTS];
	struct fg_dp_counters cnt;
};

/* ------------------------------------------------------------- errors */

static void __attribute__((format(printf, 3, 4)))
fg_dp_fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* -------------------------------------------------------- big tables */

#define FG_DP_2M (2UL << 20)

/*
 * fg_dp_big_alloc - size zeroed bytes for a table a packet reads at a
 * random place (connection, NAT, bucket tables): from DPDK's heap when
 * it is in huge pages; with --no-huge, whose heap is 4 KiB pages, from
 * anonymous memory in 2 MiB-aligned chunks the kernel may back with
 * transparent huge pages (MADV_HUGEPAGE), touched now so that no packet
 * takes the faults. Why: a random line of a 64 MiB table in 4 KiB pages
 * costs a page walk per packet, most of an established flow's time with
 * 1M flows (measured: the prefetch of the line stalls on it). Returns
 * NULL on failure; free with fg_dp_big_free(p, size).
 */
static void *fg_dp_big_alloc(size_t size, int socket, const char *name)
{
	size_t len = RTE_ALIGN_CEIL(size, FG_DP_2M);
	uint8_t *p, *a;

	if (rte_eal_has_hugepages())
		return rte_zmalloc_socket(name, size, RTE_CACHE_LINE_SIZE, socket);
	p = mmap(NULL, len + FG_DP_2M, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	a = (uint8_t *)RTE_PTR_ALIGN_CEIL(p, FG_DP_2M);
	if (a > p)
		munmap(p, (size_t)(a - p));
	if (a + len < p + len + FG_DP_2M)
		munmap(a + len, (size_t)(p + len + FG_DP_2M - (a + len)));
	/* Advice only: without THP the table works in small pages. */
	(void)madvise(a, len, MADV_HUGEPAGE);
	memset(a, 0, len);
	return a;
}

static void fg_dp_big_free(void *p, size_t size)
{
	if (!p)
		return;
	if (rte_eal_has_hugepages())
		rte_free(p);
	else
		munmap(p, RTE_ALIGN_CEIL(size, FG_DP_2M));
}

static char fg_dp_rundir[PATH_MAX];

static void fg_dp_rundir_rm(void)
{
	if (fg_dp_rundir[0])
		(void)rmdir(fg_dp_rundir);
}

int fg_dp_eal_init(int argc, char **argv)
{
	static int registered;
	int rc;

	/* Registered before the EAL registers its own: run after them. */
	if (!registered++)
		(void)atexit(fg_dp_rundir_rm);
	rc = rte_eal_init(argc, argv);
	if (rc >= 0)
		snprintf(fg_dp_rundir, sizeof(fg_dp_rundir), "%s",
			 rte_eal_get_runtime_dir());
	return rc;
}

/* ----------------------------------------------------------- settings */

static uint32_t fg_dp_pow2(uint32_t v, uint32_t min)
{
	uint32_t p = min;

	while (p < v && p < (1U << 30))
		p <<= 1;
	return p;
}

static int fg_dp_zero16(const __be32 *a)
{
	return !(a[0] | a[1] | a[2] | a[3]);
}

/* fg_dp_prefix_ok - no bit of a past len is set. */
static int fg_dp_prefix_ok(const __be32 *a, unsigned int len, int family)
{
	unsigned int bits = family == FG_AF_INET ? 32 : 128, i;

	if (len > bits)
		return 0;
	for (i = 0; i < 4; i++) {
		uint32_t w = rte_be_to_cpu_32(a[i]);
		unsigned int take = len > 32 * i ? len - 32 * i : 0;
		uint32_t mask;

		if (take > 32)
			take = 32;
		mask = take ? (uint32_t)(0xffffffffULL << (32 - take)) : 0;
		if (family == FG_AF_INET && i > 0 && w)
			return 0;
		if (w & ~mask)
			return 0;
	}
	return 1;
}

int fg_dp_settings_check(struct fg_dp_settings *s, char *err, size_t errlen)
{
	unsigned int i;

	if (!s) {
		fg_dp_fail(err, errlen, "no settings");
		return -EINVAL;
	}
	if (!s->seed.k0 && !s->seed.k1 && !s->seed.lane[0] && !s->seed.lane[1] &&
	    !s->seed.lane[2] && !s->seed.lane[3]) {
		struct fg_hash_seed seed;

		if (getrandom(&seed, sizeof(seed), 0) != sizeof(seed)) {
			fg_dp_fail(err, errlen, "getrandom: %s", strerror(errno));
			return -EINVAL;
		}
		s->seed = seed;
	}
	if (!s->snat4)
		s->snat4 = s->tunnel_src4;
	if (fg_dp_zero16(s->snat6))
		memcpy(s->snat6, s->tunnel_src6, 16);
	if (!s->gue_port)
		s->gue_port = FG_GUE_PORT_DEFAULT;
	if (!s->ct_timeout_tcp_ns)
		s->ct_timeout_tcp_ns = 300ULL * 1000000000ULL;
	if (!s->ct_timeout_udp_ns)
		s->ct_timeout_udp_ns = 30ULL * 1000000000ULL;
	if (fg_ct_tick(s->ct_timeout_tcp_ns) >= (1U << 30) ||
	    fg_ct_tick(s->ct_timeout_udp_ns) >= (1U << 30)) {
		fg_dp_fail(err, errlen, "conntrack timeout too long");
		return -EINVAL;
	}
	if (s->ct_max > (1U << 30) || s->ct_syn_max > (1U << 30) ||
	    s->nat_max > (1U << 30) || s->nat_syn_max > (1U << 30) ||
	    s->buckets_max > (1U << 30)) {
		fg_dp_fail(err, errlen, "a table size is above 2^30");
		return -EINVAL;
	}
	s->ct_max = fg_dp_pow2(s->ct_max ? s->ct_max : FG_CT_DEFAULT, FG_CT_WAYS);
	s->ct_syn_max = fg_dp_pow2(s->ct_syn_max ? s->ct_syn_max :
				   FG_CT_SYN_DEFAULT, FG_CT_WAYS);
	s->nat_max = fg_dp_pow2(s->nat_max ? s->nat_max : FG_NAT_DEFAULT,
				FG_DP_NAT_WAYS);
	s->nat_syn_max = fg_dp_pow2(s->nat_syn_max ? s->nat_syn_max :
				    s->ct_syn_max, FG_DP_NAT_WAYS);
	s->buckets_max = fg_dp_pow2(s->buckets_max ? s->buckets_max :
				    FG_BUCKETS_DEFAULT, FG_CT_WAYS);
	if (!s->nworkers)
		s->nworkers = 1;
	if (s->nworkers > FG_DP_LCORES_MAX) {
		fg_dp_fail(err, errlen, "%u workers: at most %u", s->nworkers,
			   FG_DP_LCORES_MAX);
		return -EINVAL;
	}
	if (!s->nports || s->nports > FG_DP_PORTS_MAX) {
		fg_dp_fail(err, errlen, "%u ports: 1 to %u", s->nports,
			   FG_DP_PORTS_MAX);
		return -EINVAL;
	}
	for (i = 0; i < s->nports; i++) {
		if (!s->port[i].mtu)
			s->port[i].mtu = 1500;
		if (s->port[i].mtu < 576) {
			fg_dp_fail(err, errlen, "port %u: mtu %u below 576", i,
				   s->port[i].mtu);
			return -EINVAL;
		}
	}
	if (s->nroutes > FG_DP_ROUTES_MAX) {
		fg_dp_fail(err, errlen, "%u routes: at most %u", s->nroutes,
			   FG_DP_ROUTES_MAX);
		return -EINVAL;
	}
	for (i = 0; i < s->nroutes; i++) {
		const struct fg_dp_route *r = &s->route[i];

		if (r->family != FG_AF_INET && r->family != FG_AF_INET6) {
			fg_dp_fail(err, errlen, "route %u: bad family", i);
			return -EINVAL;
		}
		if (!fg_dp_prefix_ok(r->prefix, r->len, r->family)) {
			fg_dp_fail(err, errlen,
				   "route %u: prefix has bits past /%u", i, r->len);
			return -EINVAL;
		}
		if (r->port >= s->nports) {
			fg_dp_fail(err, errlen, "route %u: port %u of %u", i,
				   r->port, s->nports);
			return -EINVAL;
		}
		if (r->family == FG_AF_INET && (r->gw[1] | r->gw[2] | r->gw[3])) {
			fg_dp_fail(err, errlen, "route %u: gateway not IPv4", i);
			return -EINVAL;
		}
	}
	return 0;
}

/* ------------------------------------------------------------- routes */

/* fg_dp_route_match - a covers dst/len. */
static inline int fg_dp_route_covers(const struct fg_dp_route *r,
				     const __be32 *dst)
{
	unsigned int i, len = r->len;

	for (i = 0; i < 4 && len; i++) {
		unsigned int take = len > 32 ? 32 : len;
		uint32_t mask = (uint32_t)(0xffffffffULL << (32 - take));

		if ((rte_be_to_cpu_32(dst[i]) & mask) !=
		    rte_be_to_cpu_32(r->prefix[i]))
			return 0;
		len -= take;
	}
	return 1;
}

/*
 * fg_dp_route_lookup - the longest route to dst of family: its port and
 * next hop into *port, nh. Returns 1, or 0 for no route. A scan of at
 * most FG_DP_ROUTES_MAX entries: an appliance has its connected prefixes
 * and a gateway per port, a handful of routes; rte_lpm pays off with
 * thousands. Backends' routes are resolved once per tables build, so
 * only the NAT return leg runs this per packet.
 */
static int fg_dp_route_lookup(const struct fg_dp_settings *s, int family,
			      const __be32 *dst, uint16_t *port, __be32 *nh)
{
	const struct fg_dp_route *best = NULL;
	unsigned int i;

	for (i = 0; i < s->nroutes && i < FG_DP_ROUTES_MAX; i++) {
		const struct fg_dp_route *r = &s->route[i];

		if (r->family != family || (best && r->len <= best->len))
			continue;
		if (fg_dp_route_covers(r, dst))
			best = r;
	}
	if (!best)
		return 0;
	*port = best->port;
	if (fg_dp_zero16(best->gw))
		memcpy(nh, dst, 16);
	else
		memcpy(nh, best->gw, 16);
	return 1;
}

/* ------------------------------------------------------------- tables */

static inline uint32_t fg_dp_addr_slot(const __be32 *a, uint32_t bits)
{
	uint64_t h = (uint64_t)(uint32_t)(a[0] ^ a[1] ^ a[2] ^ a[3]) *
		     0x9e3779b97f4a7c15ULL;

	return (uint32_t)(h >> (64 - bits));
}

#define FG_DP_OWN_BITS 14U
_Static_assert((1U << FG_DP_OWN_BITS) == FG_DP_OWN_SLOTS, "own slots");

static int fg_dp_own_add(struct fg_dp_own *own, int family, const __be32 *a)
{
	uint32_t first = fg_dp_addr_slot(a, FG_DP_OWN_BITS), i;

	for (i = 0; i < FG_DP_OWN_PROBES; i++) {
		struct fg_dp_own *o = &own[(first + i) & (FG_DP_OWN_SLOTS - 1)];

		if (o->family == family && !memcmp(o->addr, a, 16))
			return 0;
		if (!o->family) {
			memcpy(o->addr, a, 16);
			o->family = (uint8_t)family;
			return 0;
		}
	}
	return -ENOSPC;
}

/* fg_dp_own_has - a is an address the appliance answers ARP/ND for. */
static int fg_dp_own_has(const struct fg_dp_tables *t, int family,
			 const __be32 *a)
{
	uint32_t first = fg_dp_addr_slot(a, FG_DP_OWN_BITS), i;

	for (i = 0; i < FG_DP_OWN_PROBES; i++) {
		const struct fg_dp_own *o =
			&t->own[(first + i) & (FG_DP_OWN_SLOTS - 1)];

		if (!o->family)
			return 0;
		if (o->family == family && !memcmp(o->addr, a, 16))
			return 1;
	}
	return 0;
}

void fg_dp_tables_free(struct fg_dp_tables *t)
{
	if (!t)
		return;
	rte_free(t->ring);
	rte_free(t->be);
	rte_free(t->be_route);
	rte_free(t->nexthop);
	rte_free(t->limits);
	rte_free(t->svc);
	rte_free(t->own);
	rte_free(t);
}

uint64_t fg_dp_tables_version(const struct fg_dp_tables *t)
{
	return t->version;
}

const struct fg_dp_settings *fg_dp_tables_settings(const struct fg_dp_tables *t)
{
	return &t->s;
}

static int fg_dp_nexthop_cmp(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct fg_dp_nexthop));
}

/* fg_dp_nexthops - t->nexthop: the distinct next hops of cp's routed
 * backends (their be_route entries filled), sorted. Returns 0 or -1 (no
 * memory). */
static int fg_dp_nexthops(struct fg_dp_tables *t, const struct fg_compiled *cp,
			  int socket)
{
	struct fg_dp_nexthop *h;
	uint32_t i, n = 0;

	h = rte_zmalloc_socket("fg_nexthop", (cp->nbackends ? cp->nbackends : 1) *
			       sizeof(*h), RTE_CACHE_LINE_SIZE, socket);
	if (!h)
		return -1;
	for (i = 0; i < cp->nbackends; i++) {
		const struct fg_dp_be_route *r = &t->be_route[cp->backends[i].id];

		if (!r->ok)
			continue;
		memcpy(h[n].nh, r->nh, 16);
		h[n].port = r->port;
		h[n].family = r->family;
		n++;
	}
	qsort(h, n, sizeof(*h), fg_dp_nexthop_cmp);
	t->nnexthops = 0;
	for (i = 0; i < n; i++)
		if (!t->nnexthops ||
		    fg_dp_nexthop_cmp(&h[t->nnexthops - 1], &h[i]))
			h[t->nnexthops++] = h[i];
	t->nexthop = h;
	return 0;
}

struct fg_dp_tables *fg_dp_tables_new(const struct fg_compiled *cp,
				      const struct fg_dp_settings *s,
				      int socket, int *errp, char *err,
				      size_t errlen)
{
	struct fg_dp_tables *t;
	uint32_t i, off = 0, gen;
	int rc = -ENOMEM;

	if (!cp || !s) {
		fg_dp_fail(err, errlen, "no compiled tables or settings");
		*errp = -EINVAL;
		return NULL;
	}
	t = rte_zmalloc_socket("fg_tables", sizeof(*t), RTE_CACHE_LINE_SIZE,
			       socket);
	if (!t)
		goto nomem;
	t->s = *s;
	rc = fg_dp_settings_check(&t->s, err, errlen);
	if (rc)
		goto fail;
	rc = -ENOMEM;
	t->version = cp->version;
	t->gue_port = rte_cpu_to_be_16(t->s.gue_port);
	t->tcp_to = fg_ct_timeout_ticks(t->s.ct_timeout_tcp_ns);
	t->udp_to = fg_ct_timeout_ticks(t->s.ct_timeout_udp_ns);

	for (i = 0; i < cp->nsvcs; i++)
		t->nring += cp->svcs[i].val.ring_size;
	t->ring = rte_malloc_socket("fg_ring", (t->nring ? t->nring : 1) *
				    sizeof(uint32_t), RTE_CACHE_LINE_SIZE, socket);
	t->be = rte_zmalloc_socket("fg_be", FG_BACKEND_MAX * sizeof(*t->be),
				   RTE_CACHE_LINE_SIZE, socket);
	t->be_route = rte_zmalloc_socket("fg_be_route", FG_BACKEND_MAX *
					 sizeof(*t->be_route),
					 RTE_CACHE_LINE_SIZE, socket);
	t->limits = rte_zmalloc_socket("fg_limits", FG_LIMIT_MAX *
				       sizeof(*t->limits), RTE_CACHE_LINE_SIZE,
				       socket);
	t->svc = rte_zmalloc_socket("fg_svc", FG_SVC_SLOTS * sizeof(*t->svc),
				    RTE_CACHE_LINE_SIZE, socket);
	t->own = rte_zmalloc_socket("fg_own", FG_DP_OWN_SLOTS * sizeof(*t->own),
				    RTE_CACHE_LINE_SIZE, socket);
	if (!t->ring || !t->be || !t->be_route || !t->limits || !t->svc ||
	    !t->own)
		goto nomem;

	for (i = 0; i < cp->nbackends; i++) {
		const struct fg_compiled_backend *b = &cp->backends[i];
		struct fg_dp_be_route *r;

		if (b->id >= FG_BACKEND_MAX) {
			fg_dp_fail(err, errlen, "backend id %u out of range", b->id);
			rc = -EINVAL;
			goto fail;
		}
		t->be[b->id] = b->val;
		r = &t->be_route[b->id];
		r->family = b->val.family;
		r->ok = (uint8_t)fg_dp_route_lookup(&t->s, b->val.family,
						    b->val.addr, &r->port, r->nh);
	}
	if (fg_dp_nexthops(t, cp, socket))
		goto nomem;
	for (i = 0; i < cp->nlimits; i++) {
		const struct fg_limit *l = &cp->limits[i].val;

		if (l->id >= FG_LIMIT_MAX) {
			fg_dp_fail(err, errlen, "limit id %u out of range", l->id);
			rc = -EINVAL;
			goto fail;
		}
		t->limits[l->id] = *l;
	}
	for (i = 0; i < cp->nsvcs; i++) {
		const struct fg_compiled_svc *cs = &cp->svcs[i];
		struct fg_svc v = cs->val;

		if (v.id >= FG_SVC_MAX || v.nlimits > FG_SVC_LIMITS_MAX) {
			fg_dp_fail(err, errlen, "service %s: id or limits out of range",
				   cs->name);
			rc = -EINVAL;
			goto fail;
		}
		if (v.ring_size) {
			if (!cs->ring) {
				fg_dp_fail(err, errlen, "service %s: no ring",
					   cs->name);
				rc = -EINVAL;
				goto fail;
			}
			memcpy(t->ring + off, cs->ring, v.ring_size * sizeof(uint32_t));
			v.ring_off = off;
			off += v.ring_size;
		}
		rc = fg_svc_table_put(t->svc, &cs->key, &v);
		if (rc) {
			fg_dp_fail(err, errlen, "service %s: %s", cs->name,
				   rc == -EEXIST ? "key twice" : "table full");
			rc = -EINVAL;
			goto fail;
		}
		if (fg_dp_own_add(t->own, cs->key.family, cs->key.vip)) {
			fg_dp_fail(err, errlen, "too many VIPs");
			rc = -EINVAL;
			goto fail;
		}
	}
	/* One generation per tables object: the other's filter words would
	 * only send its packets to the service lookup for nothing. */
	t->cfg = cp->config;
	gen = cp->gen & 1;
	t->cfg.gen = (uint8_t)gen;
	memset(t->cfg.vip_filter[!gen], 0, sizeof(t->cfg.vip_filter[0]));
	{
		__be32 a4[4] = { t->s.snat4 };
		__be32 t4[4] = { t->s.tunnel_src4 };

		if (t->s.snat4)
			fg_vip_filter_add(&t->cfg, gen, a4);
		if (!fg_dp_zero16(t->s.snat6))
			fg_vip_filter_add(&t->cfg, gen, t->s.snat6);
		if ((t->s.snat4 && fg_dp_own_add(t->own, FG_AF_INET, a4)) ||
		    (t->s.tunnel_src4 && fg_dp_own_add(t->own, FG_AF_INET, t4)) ||
		    (!fg_dp_zero16(t->s.snat6) &&
		     fg_dp_own_add(t->own, FG_AF_INET6, t->s.snat6)) ||
		    (!fg_dp_zero16(t->s.tunnel_src6) &&
		     fg_dp_own_add(t->own, FG_AF_INET6, t->s.tunnel_src6))) {
			fg_dp_fail(err, errlen, "too many own addresses");
			rc = -EINVAL;
			goto fail;
		}
	}
	return t;

nomem:
	fg_dp_fail(err, errlen, "out of memory for the tables");
	rc = -ENOMEM;
fail:
	fg_dp_tables_free(t);
	*errp = rc;
	return NULL;
}

/* ---------------------------------------------------- buckets, lcores */

struct fg_dp_buckets *fg_dp_buckets_new(const struct fg_dp_settings *s,
					int socket)
{
	struct fg_dp_buckets *b;

	b = rte_zmalloc_socket("fg_buckets", sizeof(*b), RTE_CACHE_LINE_SIZE,
			       socket);
	if (!b)
		return NULL;
	b->slots = s->buckets_max;
	b->e = fg_dp_big_alloc((size_t)b->slots * sizeof(*b->e), socket,
			       "fg_bucket_e");
	if (!b->e) {
		rte_free(b);
		return NULL;
	}
	return b;
}

void fg_dp_buckets_free(struct fg_dp_buckets *b)
{
	if (!b)
		return;
	fg_dp_big_free(b->e, (size_t)b->slots * sizeof(*b->e));
	rte_free(b);
}

void fg_dp_lcore_free(struct fg_dp_lcore *lc)
{
	if (!lc)
		return;
	fg_dp_big_free(lc->ct, (size_t)lc->ct_lines * sizeof(struct fg_ct_line));
	fg_dp_big_free(lc->ct_syn, (size_t)lc->ct_syn_lines *
		       sizeof(struct fg_ct_line));
	fg_dp_big_free(lc->nat, (size_t)lc->nat_sets * FG_DP_NAT_WAYS *
		       sizeof(struct fg_dp_nat));
	fg_dp_big_free(lc->nat_syn, (size_t)lc->nat_syn_sets * FG_DP_NAT_WAYS *
		       sizeof(struct fg_dp_nat));
	rte_free(lc);
}

struct fg_dp_lcore *fg_dp_lcore_new(const struct fg_dp_settings *s,
				    unsigned int index,
				    struct fg_dp_buckets *b, int socket,
				    int *errp)
{
	struct fg_dp_lcore *lc;

	if (!s || !b || index >= s->nworkers || !s->ct_max || !s->nat_max) {
		*errp = -EINVAL;
		return NULL;
	}
	lc = rte_zmalloc_socket("fg_lcore", sizeof(*lc), RTE_CACHE_LINE_SIZE,
				socket);
	if (!lc)
		goto nomem;
	lc->index = index;
	lc->nworkers = s->nworkers;
	lc->b = b;
	lc->ct_lines = s->ct_max / FG_CT_WAYS;
	lc->ct_syn_lines = s->ct_syn_max / FG_CT_WAYS;
	lc->nat_sets = s->nat_max / FG_DP_NAT_WAYS;
	lc->nat_syn_sets = s->nat_syn_max / FG_DP_NAT_WAYS;
	lc->ct = fg_dp_big_alloc((size_t)lc->ct_lines * sizeof(struct fg_ct_line),
				 socket, "fg_ct");
	lc->ct_syn = fg_dp_big_alloc((size_t)lc->ct_syn_lines *
				     sizeof(struct fg_ct_line), socket, "fg_ct_syn");
	lc->nat = fg_dp_big_alloc((size_t)lc->nat_sets * FG_DP_NAT_WAYS *
				  sizeof(struct fg_dp_nat), socket, "fg_nat");
	lc->nat_syn = fg_dp_big_alloc((size_t)lc->nat_syn_sets * FG_DP_NAT_WAYS *
				      sizeof(struct fg_dp_nat), socket,
				      "fg_nat_syn");
	if (!lc->ct || !lc->ct_syn || !lc->nat || !lc->nat_syn)
		goto nomem;
	return lc;
nomem:
	fg_dp_lcore_free(lc);
	*errp = -ENOMEM;
	return NULL;
}

const struct fg_dp_counters *fg_dp_lcore_counters(const struct fg_dp_lcore *lc)
{
	return &lc->cnt;
}

size_t fg_dp_lcore_mem(const struct fg_dp_lcore *lc, size_t *per_flow)
{
	if (per_flow)
		*per_flow = sizeof(struct fg_ct_way);
	return sizeof(*lc) +
	       (size_t)(lc->ct_lines + lc->ct_syn_lines) * sizeof(struct fg_ct_line) +
	       (size_t)(lc->nat_sets + lc->nat_syn_sets) * FG_DP_NAT_WAYS *
	       sizeof(struct fg_dp_nat);
}

uint64_t fg_dp_lcore_flows(const struct fg_dp_lcore *lc,
			   const struct fg_dp_tables *t, uint64_t now_ns)
{
	uint32_t now = fg_ct_tick(now_ns), i, j;
	uint64_t n = 0;

	for (i = 0; i < lc->ct_lines; i++) {
		for (j = 0; j < FG_CT_WAYS; j++) {
			const struct fg_ct_way *w = &lc->ct[i].way[j];
			uint32_t to = w->svc & FG_CT_W_UDP ? t->udp_to : t->tcp_to;

			if (w->tag && fg_ct_idle(now, w->seen) <= to)
				n++;
		}
	}
	return n;
}

/* ------------------------------------------------------------ helpers */

static inline uint32_t fg_dp_drop(struct fg_dp_lcore *lc, uint32_t reason)
{
	if (reason < FG_DROPS_STRIDE)
		lc->cnt.drops[reason]++;
	return FG_DP_VERDICT(FG_DP_DROP, reason);
}

/* fg_dp_stop - the DPDK verdict of a core check's verdict v that stopped
 * the packet (fg_xdp_stop's twin): count its reason, pass or drop. */
static inline uint32_t fg_dp_stop(struct fg_dp_lcore *lc, uint32_t v,
				  uint16_t in_port)
{
	uint32_t reason = fg_verdict_reason(v);

	if (reason != FG_REASON_NONE && reason < FG_DROPS_STRIDE)
		lc->cnt.drops[reason]++;
	if (fg_verdict_act(v) == FG_ACT_PASS) {
		lc->cnt.port[in_port].exception++;
		return FG_DP_VERDICT(FG_DP_EXCEPTION, in_port);
	}
	return FG_DP_VERDICT(FG_DP_DROP, reason);
}

static inline void fg_dp_count(struct fg_counter *c, uint64_t bytes,
			       int new_flow)
{
	c->packets++;
	c->bytes += bytes;
	c->new_flows += (uint64_t)new_flow;
}

static inline void fg_dp_snat(const struct fg_dp_tables *t, int family,
			      __be32 *out)
{
	if (family == FG_AF_INET) {
		out[0] = t->s.snat4;
		out[1] = out[2] = out[3] = 0;
	} else {
		memcpy(out, t->s.snat6, 16);
	}
}

static inline int fg_dp_is_snat_dst(const struct fg_dp_tables *t,
				    const struct fg_pkt *pkt)
{
	if (pkt->family == FG_AF_INET)
		return t->s.snat4 && pkt->dst[0] == t->s.snat4;
	return !fg_dp_zero16(t->s.snat6) && !memcmp(pkt->dst, t->s.snat6, 16);
}

/* ------------------------------------------------- neighbours, ARP/ND */

#define FG_DP_NEIGH_BITS 10U
_Static_assert((1U << FG_DP_NEIGH_BITS) == FG_DP_NEIGH_SLOTS, "neigh slots");

/* fg_dp_neigh_find's create: 0 finds only; FG_DP_N_EVICT takes a free
 * slot of the probe run for a missing entry, else the run's first;
 * FG_DP_N_FREE_ONLY a free slot only (NULL when there is none). */
#define FG_DP_N_EVICT     1
#define FG_DP_N_FREE_ONLY 2

/* fg_dp_neigh_find - the entry of (port, family, addr), or NULL; with
 * create, a slot taken for it as above. */
static struct fg_dp_neigh *fg_dp_neigh_find(struct fg_dp_lcore *lc,
					    uint16_t port, int family,
					    const __be32 *addr, int create)
{
	uint32_t first = fg_dp_addr_slot(addr, FG_DP_NEIGH_BITS), i;
	struct fg_dp_neigh *free_n = NULL;

	for (i = 0; i < FG_DP_NEIGH_PROBES; i++) {
		struct fg_dp_neigh *n =
			&lc->neigh[(first + i) & (FG_DP_NEIGH_SLOTS - 1)];

		if (n->family == family && n->port == port &&
		    n->addr[0] == addr[0] && n->addr[1] == addr[1] &&
		    n->addr[2] == addr[2] && n->addr[3] == addr[3])
			return n;
		if (!n->family && !free_n)
			free_n = n;
	}
	if (!create)
		return NULL;
	if (!free_n) {
		if (create == FG_DP_N_FREE_ONLY)
			return NULL;
		free_n = &lc->neigh[first & (FG_DP_NEIGH_SLOTS - 1)];
	}
	memset(free_n, 0, sizeof(*free_n));
	memcpy(free_n->addr, addr, 16);
	free_n->family = (uint8_t)family;
	free_n->port = port;
	return free_n;
}

/* fg_dp_neigh_set - the neighbour (port, family, addr) is at mac; only an
 * entry that exists is updated unless create. Returns 1 when written. */
static int fg_dp_neigh_set(struct fg_dp_lcore *lc, uint16_t port, int family,
			   const __be32 *addr, const uint8_t *mac, int create)
{
	struct fg_dp_neigh *n = fg_dp_neigh_find(lc, port, family, addr, create);

	if (!n)
		return 0;
	if ((mac[0] & 1) || !(mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5]))
		return 0; /* multicast or zero: no neighbour's address */
	memcpy(n->mac, mac, 6);
	n->state = FG_DP_N_OK;
	lc->cnt.neigh_learned++;
	return 1;
}

/* ARP over Ethernet for IPv4, as on the wire. */
struct fg_arp {
	__be16 htype, ptype;
	uint8_t hlen, plen;
	__be16 oper;
	uint8_t sha[6];
	uint8_t spa[4];
	uint8_t tha[6];
	uint8_t tpa[4];
} __attribute__((packed));
_Static_assert(sizeof(struct fg_arp) == 28, "arp size");

/* ICMPv6 neighbour solicitation / advertisement with one link-layer
 * address option, as on the wire. */
struct fg_nd {
	uint8_t type, code;
	__be16 check;
	__be32 flags;        /* NA: R S O; NS: reserved */
	__be32 target[4];
	uint8_t opt_type, opt_len;
	uint8_t opt_mac[6];
} __attribute__((packed));
_Static_assert(sizeof(struct fg_nd) == 32, "nd size");

#define FG_ND_NS 135
#define FG_ND_NA 136
#define FG_ND_OPT_SLLA 1
#define FG_ND_OPT_TLLA 2

/* fg_dp_mac_bcast etc. */
static const uint8_t fg_dp_bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

/* fg_dp_icmp6_csum - the ICMPv6 checksum of len bytes at icmp between
 * src and dst (check field zero), as stored. */
static uint16_t fg_dp_icmp6_csum(const void *src_p, const void *dst_p,
				 const void *icmp, uint32_t len)
{
	const uint8_t *p = icmp;
	__be32 src[4], dst[4];
	uint32_t sum = 0, i;

	memcpy(src, src_p, 16);
	memcpy(dst, dst_p, 16);
	for (i = 0; i < 4; i++)
		sum += (src[i] & 0xffff) + (src[i] >> 16) +
		       (dst[i] & 0xffff) + (dst[i] >> 16);
	sum += rte_cpu_to_be_16((uint16_t)len) + rte_cpu_to_be_16(FG_IPPROTO_ICMPV6);
	for (i = 0; i + 1 < len; i += 2) {
		uint16_t w;

		memcpy(&w, p + i, 2);
		sum += w;
	}
	if (len & 1)
		sum += rte_cpu_to_be_16((uint16_t)(p[len - 1] << 8));
	return (uint16_t)~fg_csum_fold(sum);
}

/* fg_dp_set_len - make m's single segment len bytes long (len within its
 * buffer). Returns 0 or -1. */
static int fg_dp_set_len(struct rte_mbuf *m, uint32_t len)
{
	if (len > (uint32_t)rte_pktmbuf_data_len(m) + rte_pktmbuf_tailroom(m))
		return -1;
	m->data_len = (uint16_t)len;
	m->pkt_len = len;
	return 0;
}

/*
 * fg_dp_solicit - turn m (a packet that cannot go out yet) into an ARP
 * request / neighbour solicitation for nh out of port, from the tunnel
 * address of its family. Returns 0, or -1 when there is no source address
 * to ask from (the packet is then just dropped).
 */
static int fg_dp_solicit(const struct fg_dp_tables *t, struct rte_mbuf *m,
			 uint16_t port, int family, const __be32 *nh)
{
	uint8_t *d = rte_pktmbuf_mtod(m, uint8_t *);
	struct ethhdr *eth = (void *)d;
	const uint8_t *mac = t->s.port[port].mac;

	if (family == FG_AF_INET) {
		struct fg_arp *a = (void *)(d + FG_ETH_HLEN);
		__be32 src = t->s.tunnel_src4 ? t->s.tunnel_src4 : t->s.snat4;

		if (!src || fg_dp_set_len(m, 60))
			return -1;
		memset(d, 0, 60);
		memcpy(eth->h_dest, fg_dp_bcast, 6);
		memcpy(eth->h_source, mac, 6);
		eth->h_proto = rte_cpu_to_be_16(FG_ETH_P_ARP);
		a->htype = rte_cpu_to_be_16(1);
		a->ptype = rte_cpu_to_be_16(0x0800);
		a->hlen = 6;
		a->plen = 4;
		a->oper = rte_cpu_to_be_16(1);
		memcpy(a->sha, mac, 6);
		memcpy(a->spa, &src, 4);
		memcpy(a->tpa, &nh[0], 4);
		return 0;
	} else {
		struct fg_ip6_hdr *ip6 = (void *)(d + FG_ETH_HLEN);
		struct fg_nd *nd = (void *)(ip6 + 1);
		const __be32 *src = fg_dp_zero16(t->s.tunnel_src6) ?
				    t->s.snat6 : t->s.tunnel_src6;
		__be32 dst[4];

		if (fg_dp_zero16(src) ||
		    fg_dp_set_len(m, FG_ETH_HLEN + sizeof(*ip6) + sizeof(*nd)))
			return -1;
		/* The solicited-node multicast group of nh (RFC 4291 2.7.1). */
		dst[0] = rte_cpu_to_be_32(0xff020000);
		dst[1] = 0;
		dst[2] = rte_cpu_to_be_32(1);
		dst[3] = rte_cpu_to_be_32(0xff000000 |
					  (rte_be_to_cpu_32(nh[3]) & 0xffffff));
		memset(d, 0, FG_ETH_HLEN + sizeof(*ip6) + sizeof(*nd));
		eth->h_dest[0] = 0x33;
		eth->h_dest[1] = 0x33;
		memcpy(&eth->h_dest[2], &dst[3], 4);
		memcpy(eth->h_source, mac, 6);
		eth->h_proto = rte_cpu_to_be_16(ETH_P_IPV6);
		ip6->ver_tc_flow[0] = 0x60;
		ip6->payload_len = rte_cpu_to_be_16(sizeof(*nd));
		ip6->nexthdr = FG_IPPROTO_ICMPV6;
		ip6->hop_limit = 255;
		memcpy(ip6->saddr, src, 16);
		memcpy(ip6->daddr, dst, 16);
		nd->type = FG_ND_NS;
		memcpy(nd->target, nh, 16);
		nd->opt_type = FG_ND_OPT_SLLA;
		nd->opt_len = 1;
		memcpy(nd->opt_mac, mac, 6);
		nd->check = fg_dp_icmp6_csum((uint8_t *)ip6 + 8, (uint8_t *)ip6 + 24,
					     nd, sizeof(*nd));
		return 0;
	}
}

/*
 * fg_dp_arp - an untagged ARP frame: a request for one of the appliance's
 * addresses is answered in place (and its sender learned), a reply to
 * one of them learned; anything else is the kernel's (the exception
 * port), after refreshing an entry the sender already has (gratuitous
 * ARP after a MAC change).
 */
static uint32_t fg_dp_arp(struct fg_dp_lcore *lc, const struct fg_dp_tables *t,
			  uint16_t in_port, struct rte_mbuf *m, uint8_t *d,
			  uint32_t len)
{
	struct ethhdr *eth = (void *)d;
	struct fg_arp *a = (void *)(d + FG_ETH_HLEN);
	__be32 spa[4] = { 0 }, tpa[4] = { 0 };
	uint16_t oper;

	if (len < FG_ETH_HLEN + sizeof(*a) ||
	    a->htype != rte_cpu_to_be_16(1) ||
	    a->ptype != rte_cpu_to_be_16(0x0800) || a->hlen != 6 ||
	    a->plen != 4)
		goto kernel;
	memcpy(&spa[0], a->spa, 4);
	memcpy(&tpa[0], a->tpa, 4);
	oper = rte_be_to_cpu_16(a->oper);
	if (!fg_dp_own_has(t, FG_AF_INET, tpa)) {
		if (spa[0])
			fg_dp_neigh_set(lc, in_port, FG_AF_INET, spa, a->sha, 0);
		goto kernel;
	}
	if (oper == 2) {
		fg_dp_neigh_set(lc, in_port, FG_AF_INET, spa, a->sha, 1);
		return FG_DP_VERDICT(FG_DP_NEIGH, in_port);
	}
	if (oper != 1)
		goto kernel;
	if (spa[0])
		fg_dp_neigh_set(lc, in_port, FG_AF_INET, spa, a->sha, 1);
	(void)m;
	a->oper = rte_cpu_to_be_16(2);
	memcpy(a->tha, a->sha, 6);
	memcpy(a->tpa, &spa[0], 4);
	memcpy(a->sha, t->s.port[in_port].mac, 6);
	memcpy(a->spa, &tpa[0], 4);
	memcpy(eth->h_dest, eth->h_source, 6);
	memcpy(eth->h_source, t->s.port[in_port].mac, 6);
	lc->cnt.port[in_port].arp_nd++;
	lc->cnt.port[in_port].tx++;
	return FG_DP_VERDICT(FG_DP_TX, in_port);
kernel:
	lc->cnt.port[in_port].exception++;
	return FG_DP_VERDICT(FG_DP_EXCEPTION, in_port);
}

/*
 * fg_dp_nd - an untagged IPv6 frame whose header is followed directly by
 * ICMPv6 (what neighbour discovery sends). A solicitation for one of the
 * appliance's addresses is answered in place; an advertisement to one of
 * them for a neighbour is learned. Returns the verdict, or FG_DP_NOT_MINE
 * when the frame is no ND of ours and takes the ordinary path (an
 * unsolicited advertisement refreshes an entry we have, then goes on).
 */
#define FG_DP_NOT_MINE UINT32_MAX

static uint32_t fg_dp_nd(struct fg_dp_lcore *lc, const struct fg_dp_tables *t,
			 uint16_t in_port, struct rte_mbuf *m, uint8_t *d,
			 uint32_t len)
{
	struct ethhdr *eth = (void *)d;
	struct fg_ip6_hdr *ip6 = (void *)(d + FG_ETH_HLEN);
	struct fg_nd *nd = (void *)(ip6 + 1);
	uint32_t plen, need = FG_ETH_HLEN + sizeof(*ip6) + 24;
	__be32 target[4], src[4], dst[4];

	if (len < need || ip6->hop_limit != 255 || (ip6->ver_tc_flow[0] >> 4) != 6)
		return FG_DP_NOT_MINE;
	plen = rte_be_to_cpu_16(ip6->payload_len);
	if (plen < 24 || FG_ETH_HLEN + sizeof(*ip6) + plen > len || nd->code)
		return FG_DP_NOT_MINE;
	memcpy(target, nd->target, 16);
	memcpy(src, ip6->saddr, 16);
	memcpy(dst, ip6->daddr, 16);
	if (nd->type == FG_ND_NA) {
		const uint8_t *mac = NULL;

		if (plen >= sizeof(*nd) && nd->opt_type == FG_ND_OPT_TLLA &&
		    nd->opt_len == 1)
			mac = nd->opt_mac;
		if (!mac)
			return FG_DP_NOT_MINE;
		if (!fg_dp_own_has(t, FG_AF_INET6, dst)) {
			/* Unsolicited (to all nodes): refresh what we have. */
			fg_dp_neigh_set(lc, in_port, FG_AF_INET6, target, mac, 0);
			return FG_DP_NOT_MINE;
		}
		fg_dp_neigh_set(lc, in_port, FG_AF_INET6, target, mac, 1);
		return FG_DP_VERDICT(FG_DP_NEIGH, in_port);
	}
	if (nd->type != FG_ND_NS || !fg_dp_own_has(t, FG_AF_INET6, target))
		return FG_DP_NOT_MINE;
	/* Learn the asker (not during its duplicate address detection,
	 * from the unspecified address). */
	if (!fg_dp_zero16(src) && plen >= sizeof(*nd) &&
	    nd->opt_type == FG_ND_OPT_SLLA && nd->opt_len == 1)
		fg_dp_neigh_set(lc, in_port, FG_AF_INET6, src, nd->opt_mac, 1);
	if (fg_dp_set_len(m, FG_ETH_HLEN + sizeof(*ip6) + sizeof(*nd)))
		return FG_DP_NOT_MINE;
	memcpy(eth->h_dest, eth->h_source, 6);
	memcpy(eth->h_source, t->s.port[in_port].mac, 6);
	ip6->ver_tc_flow[0] = 0x60;
	ip6->ver_tc_flow[1] = ip6->ver_tc_flow[2] = ip6->ver_tc_flow[3] = 0;
	ip6->payload_len = rte_cpu_to_be_16(sizeof(*nd));
	if (fg_dp_zero16(src)) {
		/* To all nodes, not solicited (RFC 4861 7.2.4). */
		ip6->daddr[0] = rte_cpu_to_be_32(0xff020000);
		ip6->daddr[1] = ip6->daddr[2] = 0;
		ip6->daddr[3] = rte_cpu_to_be_32(1);
		memcpy(eth->h_dest, "\x33\x33\x00\x00\x00\x01", 6);
		nd->flags = rte_cpu_to_be_32(0x20000000); /* O */
	} else {
		memcpy(ip6->daddr, src, 16);
		nd->flags = rte_cpu_to_be_32(0x60000000); /* S, O */
	}
	memcpy(ip6->saddr, target, 16);
	nd->type = FG_ND_NA;
	nd->code = 0;
	nd->opt_type = FG_ND_OPT_TLLA;
	nd->opt_len = 1;
	memcpy(nd->opt_mac, t->s.port[in_port].mac, 6);
	nd->check = 0;
	nd->check = fg_dp_icmp6_csum((uint8_t *)ip6 + 8, (uint8_t *)ip6 + 24,
				     nd, sizeof(*nd));
	lc->cnt.port[in_port].arp_nd++;
	lc->cnt.port[in_port].tx++;
	return FG_DP_VERDICT(FG_DP_TX, in_port);
}

int fg_dp_learn(struct fg_dp_lcore *lc, const struct fg_dp_tables *t,
		uint16_t in_port, const struct rte_mbuf *m, uint64_t now_ns)
{
	const uint8_t *d = rte_pktmbuf_mtod(m, const uint8_t *);
	uint32_t len = rte_pktmbuf_data_len(m);
	const struct ethhdr *eth = (const void *)d;

	(void)now_ns;
	if (len < FG_ETH_HLEN || in_port >= t->s.nports)
		return 0;
	if (eth->h_proto == rte_cpu_to_be_16(FG_ETH_P_ARP) &&
	    len >= FG_ETH_HLEN + sizeof(struct fg_arp)) {
		const struct fg_arp *a = (const void *)(d + FG_ETH_HLEN);
		__be32 spa[4] = { 0 }, tpa[4] = { 0 };

		memcpy(&spa[0], a->spa, 4);
		memcpy(&tpa[0], a->tpa, 4);
		if (a->oper != rte_cpu_to_be_16(2) ||
		    !fg_dp_own_has(t, FG_AF_INET, tpa))
			return 0;
		return fg_dp_neigh_set(lc, in_port, FG_AF_INET, spa, a->sha, 1);
	}
	if (eth->h_proto == rte_cpu_to_be_16(ETH_P_IPV6) &&
	    len >= FG_ETH_HLEN + sizeof(struct fg_ip6_hdr) + sizeof(struct fg_nd)) {
		const struct fg_ip6_hdr *ip6 = (const void *)(d + FG_ETH_HLEN);
		const struct fg_nd *nd = (const void *)(ip6 + 1);
		__be32 target[4], dst[4];

		memcpy(dst, ip6->daddr, 16);
		if (ip6->nexthdr != FG_IPPROTO_ICMPV6 || nd->type != FG_ND_NA ||
		    nd->opt_type != FG_ND_OPT_TLLA || nd->opt_len != 1 ||
		    !fg_dp_own_has(t, FG_AF_INET6, dst))
			return 0;
		memcpy(target, nd->target, 16);
		return fg_dp_neigh_set(lc, in_port, FG_AF_INET6, target,
				       nd->opt_mac, 1);
	}
	return 0;
}

/*
 * fg_dp_ask - make m the ARP request / neighbour solicitation for next hop
 * nh of port (n: its entry, or NULL when it has none yet), unless one was
 * sent within FG_DP_NEIGH_RETRY_NS. The entry is made only once m is a
 * request (create as fg_dp_neigh_find's: FG_DP_N_FREE_ONLY never
 * evicts another neighbour). Returns 0 when m is to be sent (the entry then asked,
 * counted), -1 when not (asked lately, no source address to ask from, or
 * no free slot: m the caller's still, maybe rewritten).
 */
static int fg_dp_ask(struct fg_dp_lcore *lc, const struct fg_dp_tables *t,
		     struct rte_mbuf *m, uint16_t port, int family,
		     const __be32 *nh, struct fg_dp_neigh *n, uint64_t now,
		     int create)
{
	if (n && n->state == FG_DP_N_ASKED &&
	    now - n->asked_ns < FG_DP_NEIGH_RETRY_NS)
		return -1;
	if (fg_dp_solicit(t, m, port, family, nh))
		return -1;
	if (!n)
		n = fg_dp_neigh_find(lc, port, family, nh, create);
	if (!n)
		return -1;
	n->state = FG_DP_N_ASKED;
	n->asked_ns = now;
	lc->cnt.port[port].arp_nd++;
	lc->cnt.port[port].tx++;
	return 0;
}

/*
 * fg_dp_out - send the rewritten packet m (its Ethernet header at the
 * front, of family `family` with outer destination dst and IP length
 * tot_len) toward dst: by the precomputed route r when given, else the
 * route table. Fills in the Ethernet addresses. Returns TX, or a drop:
 * no route or longer than the port's MTU (no_route, as the kernel's FIB
 * answers XDP), no resolved neighbour (no_neigh; m then carries the
 * ARP request / neighbour solicitation out, at most one per next hop per
 * FG_DP_NEIGH_RETRY_NS).
 */
static uint32_t fg_dp_out(struct fg_dp_lcore *lc, const struct fg_dp_tables *t,
			  struct rte_mbuf *m, int family, const __be32 *dst,
			  uint32_t tot_len, const struct fg_dp_be_route *r,
			  uint64_t now)
{
	struct ethhdr *eth = rte_pktmbuf_mtod(m, struct ethhdr *);
	struct fg_dp_neigh *n;
	__be32 nh_buf[4];
	const __be32 *nh;
	uint16_t port;

	if (r) {
		if (!r->ok)
			return fg_dp_drop(lc, FG_DROP_NO_ROUTE);
		port = r->port;
		nh = r->nh;
	} else {
		if (!fg_dp_route_lookup(&t->s, family, dst, &port, nh_buf))
			return fg_dp_drop(lc, FG_DROP_NO_ROUTE);
		nh = nh_buf;
	}
	if (tot_len > t->s.port[port].mtu)
		return fg_dp_drop(lc, FG_DROP_NO_ROUTE);
	n = fg_dp_neigh_find(lc, port, family, nh, 0);
	if (likely(n && n->state == FG_DP_N_OK)) {
		memcpy(eth->h_dest, n->mac, 6);
		memcpy(eth->h_source, t->s.port[port].mac, 6);
		lc->cnt.port[port].tx++;
		return FG_DP_VERDICT(FG_DP_TX, port);
	}
	lc->cnt.drops[FG_DROP_NO_NEIGH]++;
	if (fg_dp_ask(lc, t, m, port, family, nh, n, now, FG_DP_N_EVICT))
		return FG_DP_VERDICT(FG_DP_DROP, FG_DROP_NO_NEIGH);
	return FG_DP_VERDICT(FG_DP_TX, port);
}

uint16_t fg_dp_resolve(struct fg_dp_lcore *lc, const struct fg_dp_tables *t,
		       uint32_t *cursor, struct rte_mbuf **m, uint16_t n,
		       uint16_t *port, uint64_t now_ns)
{
	uint16_t used = 0;

	while (*cursor < t->nnexthops && used < n) {
		const struct fg_dp_nexthop *h = &t->nexthop[(*cursor)++];
		struct fg_dp_neigh *e = fg_dp_neigh_find(lc, h->port, h->family,
							 h->nh, 0);

		if (e && e->state == FG_DP_N_OK)
			continue;
		if (fg_dp_ask(lc, t, m[used], h->port, h->family, h->nh, e,
			      now_ns, FG_DP_N_FREE_ONLY))
			continue;
		port[used++] = h->port;
	}
	return used;
}

int fg_dp_resolve_done(const struct fg_dp_tables *t, uint32_t cursor)
{
	return cursor >= t->nnexthops;
}

/* ----------------------------------------------------------------- NAT */

static inline int fg_dp_key_eq(const struct fg_flow_key *a,
			       const struct fg_flow_key *b)
{
	const uint64_t *x = (const void *)a, *y = (const void *)b;

	return x[0] == y[0] && x[1] == y[1] && x[2] == y[2] && x[3] == y[3] &&
	       x[4] == y[4];
}

/*
 * fg_dp_nat_probe - the entry of key rk (hash h) in a NAT table of `sets`
 * sets; or NULL with *victim set to the entry a new key takes: a free
 * one, else the one seen longest ago. An entry lives until it is evicted,
 * as in the XDP program's LRU maps (fg_nat, fg_nat_syn), whatever its
 * age: its flow may be live in the connection table long after the
 * backend last answered, and a port stays taken until then. Why not
 * rte_hash: it has no eviction, so a full table would refuse every new
 * NAT flow until something deleted entries; these sets evict the
 * stalest, as the LRU maps do.
 */
static struct fg_dp_nat *fg_dp_nat_probe(const struct fg_dp_tables *t,
					 struct fg_dp_nat *tab, uint32_t sets,
					 uint64_t h, const struct fg_flow_key *rk,
					 uint64_t now, struct fg_dp_nat **victim)
{
	struct fg_dp_nat *set = &tab[(h & (sets - 1)) * FG_DP_NAT_WAYS];
	uint64_t oldest = UINT64_MAX;
	uint32_t i;

	*victim = &set[0];
	for (i = 0; i < FG_DP_NAT_WAYS; i++) {
		struct fg_dp_nat *e = &set[i];
		uint64_t seen = e->rev.last_seen;
		int live = e->key.family != 0;

		if (live && fg_dp_key_eq(&e->key, rk))
			return e;
		if (!live)
			seen = 0;
		if (seen < oldest) {
			oldest = seen;
			*victim = e;
		}
	}
	return NULL;
}

/* fg_dp_nat_new - fg_nat_new's twin: a source port for a new NAT flow
 * from this lcore's residue class, its reverse entry recorded (TCP in the
 * handshake table until the client's first non-SYN). Returns the port
 * (network order) or 0. */
static __be16 fg_dp_nat_new(struct fg_dp_lcore *lc, const struct fg_dp_tables *t,
			    const struct fg_flow_key *key,
			    const struct fg_backend *be, uint32_t svc_id,
			    uint64_t hash, uint64_t now, int is_tcp)
{
	struct fg_dp_nat *tab = is_tcp ? lc->nat_syn : lc->nat, *e, *victim;
	uint32_t sets = is_tcp ? lc->nat_syn_sets : lc->nat_sets, i;
	struct fg_flow_key rk;
	__be32 snat[4];

	fg_dp_snat(t, key->family, snat);
	fg_nat_rkey(key, be->addr, be->port, snat, 0, &rk);
	for (i = 0; i < FG_NAT_PROBES; i++) {
		uint32_t port = fg_nat_port_owned(fg_nat_port_try(hash, i),
						  lc->index, lc->nworkers);
		uint64_t h;

		rk.dport = rte_cpu_to_be_16((uint16_t)port);
		h = fg_flow_hash(&rk, &t->s.seed);
		if (is_tcp && fg_dp_nat_probe(t, lc->nat, lc->nat_sets, h, &rk,
					      now, &victim))
			continue;
		e = fg_dp_nat_probe(t, tab, sets, h, &rk, now, &victim);
		if (e)
			continue;
		victim->key = rk;
		memset(&victim->rev, 0, sizeof(victim->rev));
		memcpy(victim->rev.client, key->src, 16);
		memcpy(victim->rev.vip, key->dst, 16);
		victim->rev.client_port = key->sport;
		victim->rev.vip_port = key->dport;
		victim->rev.svc_id = svc_id;
		victim->rev.last_seen = now;
		return rk.dport;
	}
	return 0;
}

/* fg_dp_nat_promote - the client's first non-SYN completed a NAT flow's
 * handshake: its reverse entry moves to the established table. */
static void fg_dp_nat_promote(struct fg_dp_lcore *lc,
			      const struct fg_dp_tables *t,
			      const struct fg_flow_key *key,
			      const struct fg_backend *be, __be16 nat_port,
			      uint64_t now)
{
	struct fg_dp_nat *e, *victim;
	struct fg_flow_key rk;
	__be32 snat[4];
	uint64_t h;

	fg_dp_snat(t, key->family, snat);
	fg_nat_rkey(key, be->addr, be->port, snat, nat_port, &rk);
	h = fg_flow_hash(&rk, &t->s.seed);
	e = fg_dp_nat_probe(t, lc->nat_syn, lc->nat_syn_sets, h, &rk, now,
			    &victim);
	if (!e)
		return;
	if (!fg_dp_nat_probe(t, lc->nat, lc->nat_sets, h, &rk, now, &victim))
		*victim = *e;
	memset(e, 0, sizeof(*e));
}

/* ------------------------------------------------ connection tracking */

static inline const struct fg_backend *
fg_dp_backend_usable(const struct fg_dp_tables *t, uint32_t id, uint32_t svc_id)
{
	const struct fg_backend *be;

	if (id >= FG_BACKEND_MAX)
		return NULL;
	be = &t->be[id];
	if (!(be->flags & FG_BE_F_VALID) || (be->flags & FG_BE_F_DOWN) ||
	    be->svc_id != svc_id)
		return NULL;
	return be;
}

static inline uint64_t fg_dp_pick_hash(const struct fg_dp_tables *t,
				       const struct fg_svc *svc,
				       const struct fg_flow_key *key,
				       uint64_t hash)
{
	if (svc->hash != FG_HASH_SRC_IP)
		return hash;
	return fg_flow_hash_src(key, &t->s.seed);
}

static inline uint32_t fg_dp_maglev_pick(const struct fg_dp_tables *t,
					 const struct fg_svc *svc, uint64_t h)
{
	if (!svc->ring_size)
		return FG_NO_BACKEND;
	return t->ring[svc->ring_off + fg_maglev_slot(h, svc->ring_size)];
}

static inline int fg_dp_ct_live(const struct fg_dp_tables *t,
				const struct fg_ct *ct, const struct fg_svc *svc,
				uint32_t now, uint32_t timeout)
{
	return ct->svc_id == svc->id && fg_ct_idle(now, ct->seen) <= timeout &&
	       fg_dp_backend_usable(t, ct->backend_id, svc->id);
}

/*
 * fg_dp_flow_backend - fg_flow_backend's twin (xdp/fg_conntrack.bpf.h),
 * over this lcore's lines: an established entry wins while its backend
 * is usable; a SYN gets a fresh Maglev pick (a retransmitted one the
 * entry in the embryonic table); the first non-SYN of a recorded SYN
 * promotes it; UDP records in the established table directly. A new DSR
 * flow is recorded here, a NAT one by fg_dp_flow_commit once it has its
 * port. *ct_out: the entry in use; FG_CT_F_NEW: this packet creates a
 * flow. Returns FG_NO_BACKEND when the service has no usable backend.
 */
static uint32_t fg_dp_flow_backend(struct fg_dp_lcore *lc,
				   const struct fg_dp_tables *t,
				   const struct fg_svc *svc,
				   const struct fg_flow_key *key, int is_syn,
				   int is_tcp, uint64_t hash, uint32_t now,
				   struct fg_ct *ct_out)
{
	int nat = svc->forward == FG_FWD_NAT;
	uint32_t timeout = is_tcp ? t->tcp_to : t->udp_to;
	struct fg_ct_line *l, *sl;
	struct fg_ct ct = { 0 }, fresh = { 0 };
	uint32_t victim = 0, syn_victim = 0, id;
	int w, sw;

	if (is_tcp && is_syn) {
		uint64_t pick = fg_dp_pick_hash(t, svc, key, hash);

		sl = &lc->ct_syn[fg_ct_line_of(hash, lc->ct_syn_lines)];
		sw = fg_ct_line_probe(sl, hash, now, t->tcp_to, t->udp_to, &ct,
				      &syn_victim);
		if (sw >= 0 && fg_dp_ct_live(t, &ct, svc, now, timeout)) {
			*ct_out = ct;
			return ct.backend_id;
		}
		if (sw >= 0)
			syn_victim = (uint32_t)sw;
		id = fg_dp_maglev_pick(t, svc, pick);
		if (id == FG_NO_BACKEND || !fg_dp_backend_usable(t, id, svc->id))
			return FG_NO_BACKEND;
		fresh.backend_id = id;
		fresh.svc_id = svc->id;
		fresh.seen = now;
		if (!nat)
			fg_ct_way_write(&sl->way[syn_victim], hash, &fresh);
		goto new_flow;
	}

	l = &lc->ct[fg_ct_line_of(hash, lc->ct_lines)];
	w = fg_ct_line_probe(l, hash, now, t->tcp_to, t->udp_to, &ct, &victim);
	if (w >= 0) {
		if (fg_dp_ct_live(t, &ct, svc, now, timeout)) {
			if (fg_ct_refresh_due(now, ct.seen, timeout))
				l->way[w].seen = now;
			ct.seen = now;
			*ct_out = ct;
			return ct.backend_id;
		}
		victim = (uint32_t)w;
	}
	if (is_tcp) {
		sl = &lc->ct_syn[fg_ct_line_of(hash, lc->ct_syn_lines)];
		sw = fg_ct_line_probe(sl, hash, now, t->tcp_to, t->udp_to, &ct,
				      &syn_victim);
		if (sw >= 0 && fg_dp_ct_live(t, &ct, svc, now, timeout)) {
			fresh = ct;
			fresh.seen = now;
			fg_ct_way_write(&l->way[victim], hash, &fresh);
			fg_ct_way_free(&sl->way[sw]);
			*ct_out = fresh;
			ct_out->flags |= FG_CT_F_PROMOTED;
			return fresh.backend_id;
		}
		id = fg_dp_maglev_pick(t, svc, fg_dp_pick_hash(t, svc, key, hash));
		if (id != FG_NO_BACKEND && !fg_dp_backend_usable(t, id, svc->id))
			id = FG_NO_BACKEND;
		ct_out->backend_id = id;
		ct_out->flags = 0;
		return id;
	}

	id = fg_dp_maglev_pick(t, svc, fg_dp_pick_hash(t, svc, key, hash));
	if (id == FG_NO_BACKEND || !fg_dp_backend_usable(t, id, svc->id))
		return FG_NO_BACKEND;
	fresh.backend_id = id;
	fresh.svc_id = svc->id;
	fresh.seen = now;
	fresh.flags = FG_CT_F_UDP;
	if (!nat)
		fg_ct_way_write(&l->way[victim], hash, &fresh);
new_flow:
	fresh.flags |= FG_CT_F_NEW;
	*ct_out = fresh;
	return id;
}

/* fg_dp_flow_commit - fg_flow_commit's twin: record the new NAT flow ct
 * with its port, TCP in the embryonic table, UDP in the established. */
static void fg_dp_flow_commit(struct fg_dp_lcore *lc,
			      const struct fg_dp_tables *t, struct fg_ct *ct,
			      int is_tcp, uint64_t hash, uint32_t now)
{
	struct fg_ct_line *l = is_tcp ?
		&lc->ct_syn[fg_ct_line_of(hash, lc->ct_syn_lines)] :
		&lc->ct[fg_ct_line_of(hash, lc->ct_lines)];
	struct fg_ct old;
	uint32_t victim = 0;
	int w;

	ct->flags &= (uint8_t)~FG_CT_F_NEW;
	w = fg_ct_line_probe(l, hash, now, t->tcp_to, t->udp_to, &old, &victim);
	if (w >= 0)
		victim = (uint32_t)w;
	fg_ct_way_write(&l->way[victim], hash, ct);
}

/* -------------------------------------------------------------- limits */

/*
 * fg_dp_limit_one - judge the packet against limit id (fg_limit_one's
 * twin). Deliberate race: the buckets are shared by the lcores and
 * written without a lock, as the XDP program's are by the CPUs; two
 * lcores charging one bucket at the same instant may both pass where one
 * should, an error bounded by the lcores per instant.
 */
static int fg_dp_limit_one(struct fg_dp_lcore *lc, const struct fg_dp_tables *t,
			   uint32_t id, const struct fg_flow_key *key,
			   uint32_t svc_id, int is_syn, uint8_t tcp_flags,
			   uint32_t frame_len, uint64_t now)
{
	const struct fg_limit *lim;
	struct fg_bucket_key bk;
	struct fg_dp_buckets *b = lc->b;
	uint32_t cost;
	int ok;

	if (id >= FG_LIMIT_MAX)
		return FG_LIMIT_PASS;
	lim = &t->limits[id];
	if (!fg_limit_matches(lim, key))
		return FG_LIMIT_PASS;
	cost = fg_limit_cost(lim, is_syn, frame_len);
	if (!cost)
		return FG_LIMIT_PASS;
	memset(&bk, 0, sizeof(bk));
	fg_bucket_key_fill(&bk, lim, key, svc_id);
	ok = fg_bucket_charge_arr(b->e, b->slots, fg_bucket_hash(&bk, &t->s.seed),
				  &bk, &lim->prof, now, cost);
	if (lim->id < FG_LIMIT_MAX) {
		if (ok)
			lc->cnt.limit[lim->id].passed++;
		else
			lc->cnt.limit[lim->id].limited++;
	}
	if (ok)
		return FG_LIMIT_PASS;
	return fg_limit_refusal(lim, key->proto, tcp_flags);
}

/* ----------------------------------------------------------- the path */

/* What the first stage learns about a packet for the second. */
struct fg_dp_ctx {
	struct fg_pkt pkt;
	struct fg_flow_key key;
	uint64_t hash;
	const struct fg_svc *svc;
	uint32_t frame_len;
	uint8_t stage;           /* FG_DP_S_* */
};
#define FG_DP_S_DONE    0    /* verdict given in stage one */
#define FG_DP_S_SVC     1    /* service packet: stage two */
#define FG_DP_S_REVERSE 2    /* to the SNAT address: reverse leg first */
#define FG_DP_S_LATER   3    /* ARP/ND while packets before it wait for
			      * stage two: nothing done yet */

static inline const struct fg_svc *
fg_dp_svc_probe(const struct fg_dp_tables *t, const struct fg_pkt *pkt,
		__be16 port)
{
	uint32_t first = fg_svc_key_slot(pkt->dst, port, pkt->l4_proto), i;

	for (i = 0; i < FG_SVC_PROBES; i++) {
		const struct fg_svc_slot *sl =
			&t->svc[(first + i) & (FG_SVC_SLOTS - 1)];

		if (!sl->key.family)
			return NULL;
		if (fg_svc_key_eq(&sl->key, pkt->dst, port, pkt->l4_proto,
				  pkt->family))
			return &sl->svc;
	}
	return NULL;
}

static inline const struct fg_svc *
fg_dp_lookup_service(const struct fg_dp_tables *t, const struct fg_pkt *pkt)
{
	const struct fg_svc *svc = fg_dp_svc_probe(t, pkt, pkt->dport);

	if (svc || !(t->cfg.flags & FG_CFG_F_WILDCARD))
		return svc;
	return fg_dp_svc_probe(t, pkt, 0);
}

/*
 * fg_dp_limits - check 4: the packet's limits in fg_limit_nth's order
 * (every global limit, then the service's own). Returns FG_DP_NOT_MINE
 * when they pass it, else its verdict: dropped, or answered with a reset
 * (counted limited either way).
 */
static uint32_t fg_dp_limits(struct fg_dp_lcore *lc, const struct fg_dp_tables *t,
			     uint16_t in_port, struct rte_mbuf *m,
			     const struct fg_dp_ctx *c, uint64_t now)
{
	const struct fg_config *cfg = &t->cfg;
	const struct fg_svc *svc = c->svc;
	int is_syn = fg_pkt_is_syn(&c->pkt);
	uint32_t i;

	for (i = 0; i < FG_LIMITS_PER_PKT; i++) {
		uint32_t id = fg_limit_nth(cfg, svc, i);
		int r;

		if (id == FG_LIMIT_NONE)
			continue;
		r = fg_dp_limit_one(lc, t, id, &c->key, svc->id, is_syn,
				    c->pkt.tcp_flags, c->frame_len, now);
		if (r == FG_LIMIT_PASS)
			continue;
		lc->cnt.drops[FG_DROP_LIMITED]++;
		if (r == FG_LIMIT_RESET) {
			uint8_t *d = rte_pktmbuf_mtod(m, uint8_t *);
			int n = fg_rst_build(d, d + c->frame_len, &c->pkt);

			if (n < 0 || fg_dp_set_len(m, (uint32_t)n))
				return FG_DP_VERDICT(FG_DP_DROP, FG_DROP_LIMITED);
			lc->cnt.port[in_port].tx++;
			return FG_DP_VERDICT(FG_DP_TX, in_port);
		}
		return FG_DP_VERDICT(FG_DP_DROP, FG_DROP_LIMITED);
	}
	return FG_DP_NOT_MINE;
}

/*
 * fg_dp_stage1 - everything up to the connection table: the pre-parse
 * filter, ARP/ND, the parse, the VIP filter, the service lookup, the
 * limits, the flow hash. Fills c and
 * returns its stage; a packet finished here has its verdict in *v. An
 * ARP or ND frame is left alone (FG_DP_S_LATER) unless first (no packet
 * before it waits for stage two): it writes the neighbour table that
 * stage two of the packets before it reads, so it waits until they are
 * done.
 */
static uint8_t fg_dp_stage1(struct fg_dp_lcore *lc, const struct fg_dp_tables *t,
			    uint16_t in_port, struct rte_mbuf *m,
			    struct fg_dp_ctx *c, uint64_t now, uint32_t *v,
			    int first)
{
	uint8_t *d = rte_pktmbuf_mtod(m, uint8_t *);
	uint32_t len = rte_pktmbuf_data_len(m), cv;
	const struct ethhdr *eth = (const void *)d;
	int rc;

	c->frame_len = len;
	if (unlikely(m->nb_segs != 1)) {
		*v = fg_dp_drop(lc, FG_DROP_MALFORMED);
		return FG_DP_S_DONE;
	}
	if (len >= FG_ETH_HLEN) {
		if (unlikely(eth->h_proto == rte_cpu_to_be_16(FG_ETH_P_ARP))) {
			if (!first)
				return FG_DP_S_LATER;
			*v = fg_dp_arp(lc, t, in_port, m, d, len);
			return FG_DP_S_DONE;
		}
		if (unlikely(eth->h_proto == rte_cpu_to_be_16(ETH_P_IPV6) &&
			     len >= FG_ETH_HLEN + sizeof(struct fg_ip6_hdr) &&
			     ((const struct fg_ip6_hdr *)(d + FG_ETH_HLEN))->nexthdr ==
			     FG_IPPROTO_ICMPV6)) {
			if (!first)
				return FG_DP_S_LATER;
			cv = fg_dp_nd(lc, t, in_port, m, d, len);
			if (cv != FG_DP_NOT_MINE) {
				*v = cv;
				return FG_DP_S_DONE;
			}
		}
	}
	if (fg_dst_not_ours(d, d + len, &t->cfg)) {
		lc->cnt.drops[FG_DROP_NO_SERVICE]++;
		lc->cnt.port[in_port].exception++;
		*v = FG_DP_VERDICT(FG_DP_EXCEPTION, in_port);
		return FG_DP_S_DONE;
	}
	rc = fg_parse(d, d + len, &c->pkt);
	cv = fg_verdict_parsed(rc, &c->pkt);
	if (cv != FG_VERDICT_NEXT)
		goto stop;
	if (c->pkt.l3_off != FG_ETH_HLEN) {
		cv = fg_verdict_vip(&c->pkt, &t->cfg);
		if (cv != FG_VERDICT_NEXT)
			goto stop;
	}
	fg_flow_key_from_pkt(&c->pkt, &c->key);
	if (fg_dp_is_snat_dst(t, &c->pkt) && (c->pkt.flags & FG_PKT_F_L4))
		return FG_DP_S_REVERSE;
	c->svc = fg_dp_lookup_service(t, &c->pkt);
	cv = fg_verdict_service(&c->pkt, c->svc);
	if (cv != FG_VERDICT_NEXT)
		goto stop;
	/* The limits here, before the connection table: a refused packet
	 * then costs no prefetch of a line it will not read (fg_dp_burst
	 * prefetches after this stage). They touch the buckets and limit
	 * counters only, stage two the connection and NAT tables only, so
	 * judging later packets' limits first changes no packet's
	 * outcome. */
	if (t->cfg.nglobal_limits || c->svc->nlimits) {
		cv = fg_dp_limits(lc, t, in_port, m, c, now);
		if (cv != FG_DP_NOT_MINE) {
			*v = cv;
			return FG_DP_S_DONE;
		}
	}
	c->hash = fg_flow_hash(&c->key, &t->s.seed);
	return FG_DP_S_SVC;
stop:
	*v = fg_dp_stop(lc, cv, in_port);
	return FG_DP_S_DONE;
}

/*
 * fg_dp_reverse - the return leg of a NAT flow (fg_nat_reverse's twin):
 * backend -> SNAT address becomes VIP -> client. Returns the verdict, or
 * FG_DP_NOT_MINE when no NAT entry matches (the packet then goes on as
 * any other). A port of another lcore's residue class is that lcore's.
 */
static uint32_t fg_dp_reverse(struct fg_dp_lcore *lc,
			      const struct fg_dp_tables *t, uint16_t in_port,
			      struct rte_mbuf *m, struct fg_dp_ctx *c,
			      uint64_t now)
{
	uint8_t *d = rte_pktmbuf_mtod(m, uint8_t *);
	uint32_t owner = rte_be_to_cpu_16(c->key.dport) % lc->nworkers;
	struct fg_dp_nat *e, *victim;
	struct fg_nat_to to;
	uint64_t h;

	if (owner != lc->index) {
		lc->cnt.handoff++;
		return FG_DP_VERDICT(FG_DP_HANDOFF, owner);
	}
	(void)in_port;
	h = fg_flow_hash(&c->key, &t->s.seed);
	e = fg_dp_nat_probe(t, lc->nat, lc->nat_sets, h, &c->key, now, &victim);
	if (!e)
		e = fg_dp_nat_probe(t, lc->nat_syn, lc->nat_syn_sets, h, &c->key,
				    now, &victim);
	if (!e)
		return FG_DP_NOT_MINE;
	e->rev.last_seen = now;
	memcpy(to.saddr, e->rev.vip, 16);
	memcpy(to.daddr, e->rev.client, 16);
	to.sport = e->rev.vip_port;
	to.dport = e->rev.client_port;
	if (e->rev.svc_id < FG_SVC_MAX)
		fg_dp_count(&lc->cnt.svc[e->rev.svc_id], c->frame_len, 0);
	if (fg_nat_rewrite_hdrs(d, d + c->frame_len, &c->pkt, &to))
		return FG_DP_VERDICT(FG_DP_DROP, FG_REASON_NONE);
	return fg_dp_out(lc, t, m, c->pkt.family, to.daddr, c->pkt.l3_len, NULL,
			 now);
}

/*
 * fg_dp_too_big - fg_too_big's twin (xdp/fg_encap.bpf.h): m is the
 * client's packet behind `outer` bytes of outer header, and the port
 * toward the backend carries at most mtu bytes: m becomes the ICMP answer
 * to the client (fg_icmp.h), routed there. An IPv4 packet without DF is
 * dropped, counted no_route, as the XDP program does.
 */
static uint32_t fg_dp_too_big(struct fg_dp_lcore *lc,
			      const struct fg_dp_tables *t, struct rte_mbuf *m,
			      const struct fg_dp_ctx *c, uint32_t outer,
			      uint32_t mtu, uint64_t now)
{
	uint32_t hl = fg_icmp_too_big_hdr_len(c->pkt.family);
	uint32_t quote = fg_icmp_too_big_quote(c->pkt.family, c->pkt.l3_len);
	uint8_t *d = rte_pktmbuf_mtod(m, uint8_t *);
	struct ethhdr *eth;

	if (c->pkt.family == FG_AF_INET) {
		const struct fg_ip4_hdr *in = (const void *)(d + FG_ETH_HLEN +
							      outer);

		if (!(in->frag_off & rte_cpu_to_be_16(FG_IP4_DF)))
			return fg_dp_drop(lc, FG_DROP_NO_ROUTE);
	}
	/* [eth][outer][packet] -> [eth][IP + ICMP][packet, cut]. */
	if (outer > hl)
		d = (uint8_t *)rte_pktmbuf_adj(m, (uint16_t)(outer - hl));
	else if (outer < hl)
		d = (uint8_t *)rte_pktmbuf_prepend(m, (uint16_t)(hl - outer));
	if (!d || fg_dp_set_len(m, FG_ETH_HLEN + hl + quote))
		return fg_dp_drop(lc, FG_DROP_ENCAP);
	eth = (void *)d;
	eth->h_proto = rte_cpu_to_be_16(c->pkt.family == FG_AF_INET ?
					ETH_P_IP : ETH_P_IPV6);
	if (fg_icmp_too_big_write(d + FG_ETH_HLEN, d + rte_pktmbuf_data_len(m),
				  c->pkt.family, c->pkt.dst, c->pkt.src, quote,
				  fg_icmp_too_big_mtu(c->pkt.family, mtu, outer)))
		return fg_dp_drop(lc, FG_DROP_ENCAP);
	return fg_dp_out(lc, t, m, c->pkt.family, c->pkt.src, hl + quote, NULL,
			 now);
}

/* fg_dp_encap - fg_encap's twin: outer headers in front of the client's
 * IP packet, one untagged Ethernet header in front of them, routed to the
 * backend (or, too big for the port toward it, answered: fg_dp_too_big). */
static uint32_t fg_dp_encap(struct fg_dp_lcore *lc, const struct fg_dp_tables *t,
			    struct rte_mbuf *m, const struct fg_dp_ctx *c,
			    const struct fg_backend *be, uint32_t be_id,
			    __be16 gue_port, uint64_t now)
{
	__be32 src[4] = { 0 };
	int gue = gue_port != 0, delta;
	uint32_t outer = fg_encap_outer_len(be->family, gue);
	const struct fg_dp_be_route *r;
	struct ethhdr *eth;
	uint8_t *d;

	delta = (int)(FG_ETH_HLEN + outer) - (int)c->pkt.l3_off;
	if (delta > 0) {
		d = (uint8_t *)rte_pktmbuf_prepend(m, (uint16_t)delta);
	} else {
		d = (uint8_t *)rte_pktmbuf_adj(m, (uint16_t)-delta);
	}
	if (!d)
		return fg_dp_drop(lc, FG_DROP_ENCAP);
	if (be->family == FG_AF_INET)
		src[0] = t->s.tunnel_src4;
	else
		memcpy(src, t->s.tunnel_src6, 16);
	eth = (void *)d;
	eth->h_proto = rte_cpu_to_be_16(be->family == FG_AF_INET ? ETH_P_IP :
							       ETH_P_IPV6);
	if (fg_encap_write(d + FG_ETH_HLEN, d + rte_pktmbuf_data_len(m),
			   be->family, c->pkt.family, src, be->addr,
			   c->pkt.l3_len, (uint32_t)c->hash, gue_port) < 0)
		return fg_dp_drop(lc, FG_DROP_ENCAP);
	r = &t->be_route[be_id];
	if (r->ok && c->pkt.l3_len + outer > t->s.port[r->port].mtu)
		return fg_dp_too_big(lc, t, m, c, outer, t->s.port[r->port].mtu,
				     now);
	return fg_dp_out(lc, t, m, be->family, be->addr, c->pkt.l3_len + outer,
			 r, now);
}

/*
 * fg_dp_ct_line - the connection-table line stage two reads first for
 * c's packet (FG_DP_S_SVC): the embryonic table's for a SYN, else the
 * established table's. (A packet to the SNAT address reads its NAT entry
 * first and hashes in stage two: nothing to prefetch for it.)
 */
static inline const struct fg_ct_line *
fg_dp_ct_line(const struct fg_dp_lcore *lc, const struct fg_dp_ctx *c)
{
	if (fg_pkt_is_syn(&c->pkt))
		return &lc->ct_syn[fg_ct_line_of(c->hash, lc->ct_syn_lines)];
	return &lc->ct[fg_ct_line_of(c->hash, lc->ct_lines)];
}

/* fg_dp_stage2 - the rest of fg_xdp_main for a service packet (or the
 * reverse leg first, then its limits): the connection table and Maglev
 * (flood guard), NAT or encapsulation, routing. Returns the verdict. */
static uint32_t fg_dp_stage2(struct fg_dp_lcore *lc, const struct fg_dp_tables *t,
			     uint16_t in_port, struct rte_mbuf *m,
			     struct fg_dp_ctx *c, uint64_t now)
{
	const struct fg_backend *be;
	const struct fg_svc *svc;
	struct fg_ct ct;
	uint32_t be_id, v, tick = fg_ct_tick(now);
	int is_tcp, is_syn, new_flow;

	if (c->stage == FG_DP_S_REVERSE) {
		v = fg_dp_reverse(lc, t, in_port, m, c, now);
		if (v != FG_DP_NOT_MINE)
			return v;
		c->svc = fg_dp_lookup_service(t, &c->pkt);
		v = fg_verdict_service(&c->pkt, c->svc);
		if (v != FG_VERDICT_NEXT)
			return fg_dp_stop(lc, v, in_port);
		if (t->cfg.nglobal_limits || c->svc->nlimits) {
			v = fg_dp_limits(lc, t, in_port, m, c, now);
			if (v != FG_DP_NOT_MINE)
				return v;
		}
		c->hash = fg_flow_hash(&c->key, &t->s.seed);
	}
	svc = c->svc;
	is_tcp = c->pkt.l4_proto == FG_IPPROTO_TCP;
	is_syn = fg_pkt_is_syn(&c->pkt);

	memset(&ct, 0, sizeof(ct));
	be_id = fg_dp_flow_backend(lc, t, svc, &c->key, is_syn, is_tcp, c->hash,
				   tick, &ct);
	v = fg_verdict_backend(be_id, is_syn);
	if (v != FG_VERDICT_NEXT)
		return fg_dp_stop(lc, v, in_port);
	if (be_id >= FG_BACKEND_MAX)
		return fg_dp_drop(lc, FG_DROP_NO_BACKEND);
	be = &t->be[be_id];
	new_flow = !!(ct.flags & FG_CT_F_NEW);

	if (svc->forward == FG_FWD_NAT) {
		uint8_t *d = rte_pktmbuf_mtod(m, uint8_t *);
		struct fg_nat_to to;

		v = fg_verdict_nat(&c->pkt, be, &ct, new_flow);
		if (v != FG_VERDICT_NEXT)
			return fg_dp_stop(lc, v, in_port);
		if (new_flow) {
			ct.nat_port = fg_dp_nat_new(lc, t, &c->key, be, svc->id,
						    c->hash, now, is_tcp);
			if (!ct.nat_port)
				return fg_dp_drop(lc, FG_DROP_NAT_PORTS);
			ct.flags |= FG_CT_F_NAT;
			fg_dp_flow_commit(lc, t, &ct, is_tcp, c->hash, tick);
		} else if (ct.flags & FG_CT_F_PROMOTED) {
			fg_dp_nat_promote(lc, t, &c->key, be, ct.nat_port, now);
		}
		fg_dp_count(&lc->cnt.svc[svc->id], c->frame_len, new_flow);
		fg_dp_count(&lc->cnt.be[be_id], c->frame_len, new_flow);
		fg_dp_snat(t, c->pkt.family, to.saddr);
		memcpy(to.daddr, be->addr, 16);
		to.sport = ct.nat_port;
		to.dport = be->port;
		if (fg_nat_rewrite_hdrs(d, d + c->frame_len, &c->pkt, &to))
			return FG_DP_VERDICT(FG_DP_DROP, FG_REASON_NONE);
		return fg_dp_out(lc, t, m, c->pkt.family, to.daddr, c->pkt.l3_len,
				 &t->be_route[be_id], now);
	}

	fg_dp_count(&lc->cnt.svc[svc->id], c->frame_len, new_flow);
	fg_dp_count(&lc->cnt.be[be_id], c->frame_len, new_flow);
	return fg_dp_encap(lc, t, m, c, be, be_id,
			   svc->forward == FG_FWD_DSR_GUE ?
			   (svc->gue_port ? svc->gue_port : t->gue_port) : 0,
			   now);
}

void fg_dp_burst(struct fg_dp_lcore *lc, const struct fg_dp_tables *t,
		 uint16_t in_port, struct rte_mbuf **pkts, uint16_t n,
		 uint64_t now_ns, uint32_t *verdicts)
{
	/* Packets [j, i) are between the stages: at most two groups. */
	struct fg_dp_ctx ctx[2 * FG_DP_GROUP];
	const struct fg_ct_line *line[FG_DP_GROUP];
	uint16_t i, j = 0, g0, upto, nline;

	if (unlikely(in_port >= t->s.nports)) {
		for (i = 0; i < n; i++)
			verdicts[i] = fg_dp_drop(lc, FG_DROP_NO_ROUTE);
		return;
	}
	lc->cnt.port[in_port].rx += n;
	for (i = 0; i < n && i < FG_DP_PREFETCH; i++)
		rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void *));
	/*
	 * A software pipeline over groups of the burst: stage one for a
	 * group (its packets' data prefetched a few frames ahead, as
	 * l3fwd does), the group's connection-table lines prefetched back
	 * to back, then stage two for the group before it, whose lines
	 * have had this group's stage one to arrive in; the last group's
	 * stage two runs once nothing is left for stage one.
	 *
	 * The lines are prefetched in a loop of their own, not each at the
	 * end of its packet's stage one. Why: with 1M flows the line is in
	 * no cache and its page in no TLB; a prefetch retires only once its
	 * page walk is done, and a packet's stage one is longer than the
	 * reorder window, so a prefetch issued there held up the next
	 * packet's work for a whole walk (perf put most of the time on the
	 * instruction after it). Issued back to back, the walks and line
	 * fills run together: measured 7.0 -> 11.5 Mpps for an established
	 * flow among 1M, and stage two of the group before then finds its
	 * lines loaded (another 1.5 %; 4 % for new flows).
	 *
	 * Stage one reads the tables and charges the limits' buckets only,
	 * stage two the connection, NAT and neighbour tables only, so
	 * running stage one of later packets first changes no packet's
	 * outcome (test_dpdk_path's test_bursts holds a burst to its frames
	 * one by one). ARP and ND frames, which stage one lets write the
	 * neighbour table, wait until stage two has caught up with them
	 * (FG_DP_S_LATER; they are rare). One case remains: a packet to the
	 * SNAT address that no NAT entry claims is judged by a service's
	 * limits in stage two, after up to two groups of later packets (a
	 * shared bucket's last token may go to one of those).
	 */
	i = 0;
	while (j < n) {
		g0 = i;
		nline = 0;
		while (i < n && (unsigned int)(i - g0) < FG_DP_GROUP) {
			struct fg_dp_ctx *c = &ctx[i % (2 * FG_DP_GROUP)];

			if (i + FG_DP_PREFETCH < n)
				rte_prefetch0(rte_pktmbuf_mtod(pkts[i + FG_DP_PREFETCH],
							       void *));
			c->stage = fg_dp_stage1(lc, t, in_port, pkts[i], c, now_ns,
						&verdicts[i], i == j);
			if (c->stage == FG_DP_S_LATER)
				break;
			if (c->stage == FG_DP_S_SVC)
				line[nline++] = fg_dp_ct_line(lc, c);
			i++;
		}
		for (upto = 0; upto < nline; upto++)
			rte_prefetch0(line[upto]);
		/* The group before this one; when this one is empty (the end
		 * of the burst, or an ARP/ND frame waiting), all staged. */
		upto = i > g0 ? g0 : i;
		for (; j < upto; j++) {
			struct fg_dp_ctx *c = &ctx[j % (2 * FG_DP_GROUP)];

			if (c->stage != FG_DP_S_DONE)
				verdicts[j] = fg_dp_stage2(lc, t, in_port, pkts[j], c,
							   now_ns);
		}
	}
}
