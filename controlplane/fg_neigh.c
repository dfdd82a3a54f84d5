// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * fg_neigh.c - see fg_neigh.h. Plain rtnetlink: a request socket for
 * route lookups, dumps and neighbour changes, and a monitor socket.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/neighbour.h>
#include <linux/rtnetlink.h>

#include "fg_err.h"
#include "fg_neigh.h"

/* Older UAPI headers (before 5.16 / 5.2) lack these; the values are ABI. */
#ifndef NTF_EXT_MANAGED
#define NTF_EXT_MANAGED (1 << 0)
#endif
#ifndef NDA_FLAGS_EXT
#define NDA_FLAGS_EXT 15
#endif
#ifndef NDA_PROTOCOL
#define NDA_PROTOCOL 12
#endif

#define FG_NL_BUF 65536          /* one receive; a dump comes in many */
#define FG_NL_DUMP_MSGS 1000000U /* messages one dump may bring */
#define FG_NL_DRAIN_MAX 4096U    /* datagrams one drain reads */

struct fg_neigh {
	char ifnames[FG_NEIGH_IFS_MAX][IFNAMSIZ];
	int ifindex[FG_NEIGH_IFS_MAX];
	size_t nif;
	int fd;                  /* requests */
	int mon;                 /* monitor, -1 until asked */
	uint32_t seq;
	uint8_t *buf;            /* FG_NL_BUF */
	struct fg_addr *targets; /* the last plan's targets */
	size_t ntargets;
	struct fg_neigh_hop *plan;
	size_t nplan, plan_cap;
	bool planned;
};

/* ------------------------------------------------------------ helpers */

static size_t fg_addr_len(int family)
{
	return family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0;
}

static int fg_hop_cmp(const void *pa, const void *pb)
{
	const struct fg_neigh_hop *a = pa, *b = pb;

	if (a->ifindex != b->ifindex)
		return a->ifindex < b->ifindex ? -1 : 1;
	if (a->addr.family != b->addr.family)
		return a->addr.family < b->addr.family ? -1 : 1;
	return memcmp(&a->addr.a6, &b->addr.a6, fg_addr_len(a->addr.family));
}

static bool fg_hop_eq(const struct fg_neigh_hop *a, const struct fg_neigh_hop *b)
{
	return !fg_hop_cmp(a, b);
}

static int fg_addr_cmp(const void *pa, const void *pb)
{
	const struct fg_addr *a = pa, *b = pb;

	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	return memcmp(&a->a6, &b->a6, fg_addr_len(a->family));
}

/* Append an attribute; returns false when it does not fit. */
static bool fg_nl_put(struct nlmsghdr *h, size_t cap, uint16_t type,
		      const void *data, size_t len)
{
	size_t at = NLMSG_ALIGN(h->nlmsg_len);
	struct rtattr *rta;

	if (at + RTA_SPACE(len) > cap)
		return false;
	rta = (struct rtattr *)((uint8_t *)h + at);
	rta->rta_type = type;
	rta->rta_len = (unsigned short)RTA_LENGTH(len);
	memcpy(RTA_DATA(rta), data, len);
	h->nlmsg_len = (uint32_t)(at + RTA_SPACE(len));
	return true;
}

/* Copy an address attribute of family into a. */
static bool fg_rta_addr(const struct rtattr *rta, int family, struct fg_addr *a)
{
	size_t len = fg_addr_len(family);

	if (!len || RTA_PAYLOAD(rta) != len)
		return false;
	memset(a, 0, sizeof(*a));
	a->family = family;
	memcpy(&a->a6, RTA_DATA(rta), len);
	return true;
}

/* ----------------------------------------------------- wire format */

size_t fg_neigh_msg_getroute(void *buf, size_t len, const struct fg_addr *dst,
			     uint32_t seq)
{
	struct nlmsghdr *h = buf;
	struct rtmsg *rtm;
	size_t alen = dst ? fg_addr_len(dst->family) : 0;

	if (!alen || len < NLMSG_SPACE(sizeof(*rtm)))
		return 0;
	memset(buf, 0, NLMSG_SPACE(sizeof(*rtm)));
	h->nlmsg_len = NLMSG_LENGTH(sizeof(*rtm));
	h->nlmsg_type = RTM_GETROUTE;
	h->nlmsg_flags = NLM_F_REQUEST;
	h->nlmsg_seq = seq;
	rtm = NLMSG_DATA(h);
	rtm->rtm_family = (unsigned char)dst->family;
	rtm->rtm_dst_len = (unsigned char)(alen * 8);
	if (!fg_nl_put(h, len, RTA_DST, &dst->a6, alen))
		return 0;
	return h->nlmsg_len;
}

size_t fg_neigh_msg_neigh(void *buf, size_t len, bool add,
			  const struct fg_neigh_hop *hop, uint32_t seq)
{
	struct nlmsghdr *h = buf;
	struct ndmsg *ndm;
	size_t alen = hop ? fg_addr_len(hop->addr.family) : 0;
	uint32_t ext = NTF_EXT_MANAGED;
	uint8_t proto = FG_NEIGH_PROTO;

	if (!alen || hop->ifindex <= 0 || len < NLMSG_SPACE(sizeof(*ndm)))
		return 0;
	memset(buf, 0, NLMSG_SPACE(sizeof(*ndm)));
	h->nlmsg_len = NLMSG_LENGTH(sizeof(*ndm));
	h->nlmsg_type = add ? RTM_NEWNEIGH : RTM_DELNEIGH;
	h->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	if (add)
		h->nlmsg_flags |= NLM_F_CREATE | NLM_F_REPLACE;
	h->nlmsg_seq = seq;
	ndm = NLMSG_DATA(h);
	ndm->ndm_family = (uint8_t)hop->addr.family;
	ndm->ndm_ifindex = hop->ifindex;
	/* NTF_USE: the state stays what it is - a valid entry taken over
	 * stays valid instead of going through NONE while it is probed
	 * again - and the kernel starts resolving a new one at once. */
	if (add)
		ndm->ndm_flags = NTF_USE;
	if (!fg_nl_put(h, len, NDA_DST, &hop->addr.a6, alen))
		return 0;
	if (add && (!fg_nl_put(h, len, NDA_FLAGS_EXT, &ext, sizeof(ext)) ||
		    !fg_nl_put(h, len, NDA_PROTOCOL, &proto, sizeof(proto))))
		return 0;
	return h->nlmsg_len;
}

int fg_neigh_parse_route(const struct nlmsghdr *h, struct fg_neigh_route *r)
{
	const struct rtmsg *rtm;
	const struct rtattr *rta;
	int alen;

	if ((h->nlmsg_type != RTM_NEWROUTE && h->nlmsg_type != RTM_DELROUTE) ||
	    h->nlmsg_len < NLMSG_LENGTH(sizeof(*rtm)))
		return -EINVAL;
	rtm = NLMSG_DATA(h);
	memset(r, 0, sizeof(*r));
	r->family = rtm->rtm_family;
	r->type = rtm->rtm_type;
	r->table = rtm->rtm_table;
	r->cloned = rtm->rtm_flags & RTM_F_CLONED;
	alen = (int)(h->nlmsg_len - NLMSG_LENGTH(sizeof(*rtm)));
	for (rta = RTM_RTA(rtm); RTA_OK(rta, alen); rta = RTA_NEXT(rta, alen)) {
		switch (rta->rta_type) {
		case RTA_TABLE:
			if (RTA_PAYLOAD(rta) == 4)
				memcpy(&r->table, RTA_DATA(rta), 4);
			break;
		case RTA_OIF:
			if (RTA_PAYLOAD(rta) == 4)
				memcpy(&r->oif, RTA_DATA(rta), 4);
			break;
		case RTA_GATEWAY:
			r->has_gw = fg_rta_addr(rta, r->family, &r->gw);
			break;
		case RTA_VIA: {
			const struct rtvia *via = RTA_DATA(rta);
			size_t vlen;

			if (RTA_PAYLOAD(rta) < sizeof(*via))
				break;
			vlen = fg_addr_len(via->rtvia_family);
			if (vlen && RTA_PAYLOAD(rta) == sizeof(*via) + vlen) {
				memset(&r->gw, 0, sizeof(r->gw));
				r->gw.family = via->rtvia_family;
				memcpy(&r->gw.a6, via->rtvia_addr, vlen);
				r->has_gw = true;
			}
			break;
		}
		case RTA_MULTIPATH: {
			const struct rtnexthop *nh = RTA_DATA(rta);
			int left = (int)RTA_PAYLOAD(rta);

			r->has_paths = true;
			/* Bounded by the attribute's length and paths[]. */
			while (left >= (int)sizeof(*nh) && nh->rtnh_len >= sizeof(*nh) &&
			       nh->rtnh_len <= left && r->npaths < 16) {
				struct fg_neigh_hop *p = &r->paths[r->npaths++];
				const struct rtattr *a = RTNH_DATA(nh);
				int al = nh->rtnh_len - (int)sizeof(*nh);

				memset(p, 0, sizeof(*p));
				p->ifindex = nh->rtnh_ifindex;
				for (; RTA_OK(a, al); a = RTA_NEXT(a, al)) {
					if (a->rta_type == RTA_GATEWAY)
						fg_rta_addr(a, r->family, &p->addr);
				}
				left -= RTNH_ALIGN(nh->rtnh_len);
				nh = RTNH_NEXT(nh);
			}
			break;
		}
		default:
			break;
		}
	}
	return 0;
}

int fg_neigh_parse_neigh(const struct nlmsghdr *h, struct fg_neigh_entry *e)
{
	const struct ndmsg *ndm;
	const struct rtattr *rta;
	bool has_dst = false;
	int alen;

	if ((h->nlmsg_type != RTM_NEWNEIGH && h->nlmsg_type != RTM_DELNEIGH) ||
	    h->nlmsg_len < NLMSG_LENGTH(sizeof(*ndm)))
		return -EINVAL;
	ndm = NLMSG_DATA(h);
	memset(e, 0, sizeof(*e));
	if (!fg_addr_len(ndm->ndm_family))
		return -ENOENT;
	e->hop.ifindex = ndm->ndm_ifindex;
	e->state = ndm->ndm_state;
	e->flags = ndm->ndm_flags;
	alen = (int)(h->nlmsg_len - NLMSG_LENGTH(sizeof(*ndm)));
	for (rta = (const struct rtattr *)((const uint8_t *)ndm + NLMSG_ALIGN(sizeof(*ndm)));
	     RTA_OK(rta, alen); rta = RTA_NEXT(rta, alen)) {
		switch (rta->rta_type) {
		case NDA_DST:
			has_dst = fg_rta_addr(rta, ndm->ndm_family, &e->hop.addr);
			break;
		case NDA_PROTOCOL:
			if (RTA_PAYLOAD(rta) == 1)
				e->protocol = *(const uint8_t *)RTA_DATA(rta);
			break;
		case NDA_FLAGS_EXT:
			if (RTA_PAYLOAD(rta) == 4)
				memcpy(&e->flags_ext, RTA_DATA(rta), 4);
			break;
		default:
			break;
		}
	}
	return has_dst ? 0 : -ENOENT;
}

/* --------------------------------------------------------- talking */

/* Called for every answer message but errors and DONE; nonzero stops. */
typedef int (*fg_nl_cb)(const struct nlmsghdr *h, void *arg);

/*
 * fg_nl_talk - send the request in n->buf (len bytes) and read until its
 * ACK, error or the dump's DONE. Returns 0, the kernel's -errno, or the
 * callback's nonzero value.
 */
static int fg_nl_talk(struct fg_neigh *n, size_t len, fg_nl_cb cb, void *arg)
{
	struct nlmsghdr *req = (struct nlmsghdr *)n->buf;
	/* NLM_F_DUMP's bits mean NLM_F_REPLACE and NLM_F_EXCL in a NEW
	 * request: only a GET asks for a dump. */
	bool dump = (req->nlmsg_type & 3) == 2 &&
		    (req->nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP;
	uint32_t seq = req->nlmsg_seq, msgs = 0;
	int cbrc = 0;

	if (send(n->fd, n->buf, len, 0) < 0)
		return -errno;
	for (;;) {
		ssize_t got = recv(n->fd, n->buf, FG_NL_BUF, 0);
		struct nlmsghdr *h;
		int left;

		if (got < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		left = (int)got;
		for (h = (struct nlmsghdr *)n->buf; NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
			if (h->nlmsg_seq != seq)
				continue; /* a late answer to an earlier request */
			if (h->nlmsg_type == NLMSG_DONE)
				return cbrc;
			if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(h);

				if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*e)))
					return -EPROTO;
				if (e->error || !dump)
					return e->error ? e->error : cbrc;
				continue;
			}
			if (++msgs > FG_NL_DUMP_MSGS)
				return -E2BIG;
			if (!cbrc && cb)
				cbrc = cb(h, arg);
			if (!dump && !(h->nlmsg_flags & NLM_F_MULTI))
				return cbrc; /* a single answer (RTM_GETROUTE) */
		}
	}
}

static int fg_nl_socket(int groups)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = (uint32_t)groups };
	int one = 1, fd;
	int flags = SOCK_RAW | SOCK_CLOEXEC | (groups ? SOCK_NONBLOCK : 0);

	fd = socket(AF_NETLINK, flags, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	/* Extended acks name the bad attribute; harmless when unsupported. */
	setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	if (groups) {
		int sz = 1 << 20;

		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	}
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		int rc = -errno;

		close(fd);
		return rc;
	}
	return fd;
}

/* A dump request of type for family into n->buf; returns its length. */
static size_t fg_nl_dump_req(struct fg_neigh *n, uint16_t type, int family)
{
	struct nlmsghdr *h = (struct nlmsghdr *)n->buf;
	/* rtmsg and ndmsg both start with the family byte; rtmsg is the
	 * larger, and the kernel takes either length for a dump. */
	size_t body = type == RTM_GETNEIGH ? sizeof(struct ndmsg) : sizeof(struct rtmsg);

	memset(h, 0, NLMSG_SPACE(body));
	h->nlmsg_len = (uint32_t)NLMSG_LENGTH(body);
	h->nlmsg_type = type;
	h->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	h->nlmsg_seq = ++n->seq;
	*(uint8_t *)NLMSG_DATA(h) = (uint8_t)family;
	return h->nlmsg_len;
}

/* ----------------------------------------------------------- handle */

struct fg_neigh *fg_neigh_new(const char *const *ifnames, size_t nif,
			      int *errp, char *err, size_t errlen)
{
	struct fg_neigh *n;
	size_t i;
	int rc;

	if (nif > FG_NEIGH_IFS_MAX) {
		rc = fg_fail(err, errlen, -EINVAL, "at most %d interfaces", FG_NEIGH_IFS_MAX);
		goto fail;
	}
	for (i = 0; i < nif; i++) {
		if (!ifnames[i] || !ifnames[i][0] || strlen(ifnames[i]) >= IFNAMSIZ) {
			rc = fg_fail(err, errlen, -EINVAL, "'%s' is not an interface name",
				     ifnames[i] ? ifnames[i] : "(null)");
			goto fail;
		}
	}
	n = calloc(1, sizeof(*n));
	if (!n || !(n->buf = malloc(FG_NL_BUF))) {
		free(n);
		rc = fg_fail(err, errlen, -ENOMEM, "out of memory");
		goto fail;
	}
	for (i = 0; i < nif; i++)
		snprintf(n->ifnames[i], IFNAMSIZ, "%s", ifnames[i]);
	n->nif = nif;
	n->mon = -1;
	n->fd = fg_nl_socket(0);
	if (n->fd < 0) {
		rc = fg_fail(err, errlen, n->fd, "netlink socket: %s", strerror(-n->fd));
		free(n->buf);
		free(n);
		goto fail;
	}
	return n;
fail:
	if (errp)
		*errp = rc;
	return NULL;
}

void fg_neigh_free(struct fg_neigh *n)
{
	if (!n)
		return;
	if (n->mon >= 0)
		close(n->mon);
	close(n->fd);
	free(n->targets);
	free(n->plan);
	free(n->buf);
	free(n);
}

/* FNV-1a over an address's family and bytes. */
static uint32_t fg_addr_hash(const struct fg_addr *a)
{
	const unsigned char *p = (const unsigned char *)&a->a6;
	size_t n = fg_addr_len(a->family), i;
	uint32_t h = 2166136261u ^ (uint32_t)a->family;

	for (i = 0; i < n; i++) {
		h ^= p[i];
		h *= 16777619u;
	}
	return h;
}

int fg_neigh_targets(const struct fg_ruleset *rs, struct fg_addr **out,
		     size_t *nout)
{
	struct fg_addr *a = NULL;
	size_t total = 0, cap = 2, i, j, k;
	uint32_t *slot;

	*out = NULL;
	*nout = 0;
	for (i = 0; rs && i < rs->nservices; i++)
		total += rs->services[i].nbackends;
	if (!total)
		return 0;
	while (cap < 2 * total)
		cap <<= 1;
	a = calloc(total, sizeof(*a));
	/* Slots hold index + 1 into a: 0 is empty. Many services share
	 * backends, so the duplicates go here and only the distinct
	 * addresses are sorted. */
	slot = calloc(cap, sizeof(*slot));
	if (!a || !slot) {
		free(a);
		free(slot);
		return -ENOMEM;
	}
	k = 0;
	for (i = 0; i < rs->nservices; i++)
		for (j = 0; j < rs->services[i].nbackends; j++) {
			const struct fg_addr *b = &rs->services[i].backends[j].addr;
			struct fg_addr t;
			size_t h;

			/* Copied field by field: the union's unused bytes
			 * must be zero for the sort and the compare. */
			memset(&t, 0, sizeof(t));
			t.family = b->family;
			memcpy(&t.a6, &b->a6, fg_addr_len(b->family));
			for (h = fg_addr_hash(&t) & (cap - 1); slot[h];
			     h = (h + 1) & (cap - 1))
				if (!fg_addr_cmp(&a[slot[h] - 1], &t))
					break;
			if (slot[h])
				continue;
			a[k] = t;
			slot[h] = (uint32_t)++k;
		}
	free(slot);
	qsort(a, k, sizeof(*a), fg_addr_cmp);
	*out = a;
	*nout = k;
	return 0;
}

/* ------------------------------------------------------------- plan */

static bool fg_our_if(const struct fg_neigh *n, int ifindex)
{
	size_t i;

	for (i = 0; i < n->nif; i++)
		if (n->ifindex[i] == ifindex)
			return true;
	return false;
}

static int fg_plan_add(struct fg_neigh *n, int ifindex, const struct fg_addr *a)
{
	struct fg_neigh_hop *h;

	if (n->nplan == n->plan_cap) {
		size_t cap = n->plan_cap ? 2 * n->plan_cap : 64;
		struct fg_neigh_hop *p = realloc(n->plan, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		n->plan = p;
		n->plan_cap = cap;
	}
	h = &n->plan[n->nplan++];
	memset(h, 0, sizeof(*h));
	h->ifindex = ifindex;
	h->addr.family = a->family;
	memcpy(&h->addr.a6, &a->a6, fg_addr_len(a->family));
	return 0;
}

struct fg_gw_arg {
	struct fg_neigh *n;
	uint32_t gateways;
	int rc;
};

/* A route out of our interfaces through a gateway: that gateway. */
static int fg_gw_cb(const struct nlmsghdr *h, void *arg)
{
	struct fg_gw_arg *g = arg;
	struct fg_neigh_route r;
	uint32_t i;

	if (fg_neigh_parse_route(h, &r) || r.cloned || r.type != RTN_UNICAST ||
	    r.table == RT_TABLE_LOCAL)
		return 0;
	if (r.has_gw && fg_our_if(g->n, r.oif) && g->gateways < FG_NEIGH_GATEWAYS_MAX) {
		g->gateways++;
		g->rc = fg_plan_add(g->n, r.oif, &r.gw);
	}
	for (i = 0; !g->rc && i < r.npaths; i++) {
		if (!r.paths[i].addr.family || !fg_our_if(g->n, r.paths[i].ifindex) ||
		    g->gateways >= FG_NEIGH_GATEWAYS_MAX)
			continue;
		g->gateways++;
		g->rc = fg_plan_add(g->n, r.paths[i].ifindex, &r.paths[i].addr);
	}
	return g->rc;
}

static int fg_route_cb(const struct nlmsghdr *h, void *arg)
{
	return fg_neigh_parse_route(h, arg) ? -EPROTO : 0;
}

int fg_neigh_plan(struct fg_neigh *n, const struct fg_addr *targets, size_t nt,
		  struct fg_neigh_stats *st, char *err, size_t errlen)
{
	struct fg_neigh_stats local = { 0 };
	struct fg_gw_arg g = { .n = n };
	size_t i, j;
	int rc, fam;

	if (!st)
		st = &local;
	st->wanted = st->unrouted = st->elsewhere = 0;
	if (!n->nif)
		return fg_fail(err, errlen, -EINVAL, "no dataplane interface to plan for");
	if (targets) {
		struct fg_addr *copy = NULL;

		if (nt > FG_NEIGH_TARGETS_MAX)
			return fg_fail(err, errlen, -EINVAL, "%zu targets, at most %u",
				       nt, FG_NEIGH_TARGETS_MAX);
		if (nt) {
			copy = malloc(nt * sizeof(*copy));
			if (!copy)
				return fg_fail(err, errlen, -ENOMEM, "out of memory");
			memcpy(copy, targets, nt * sizeof(*copy));
		}
		free(n->targets);
		n->targets = copy;
		n->ntargets = nt;
	}
	for (i = 0; i < n->nif; i++) {
		n->ifindex[i] = (int)if_nametoindex(n->ifnames[i]);
		if (!n->ifindex[i])
			return fg_fail(err, errlen, -ENODEV, "no interface %s", n->ifnames[i]);
	}
	n->planned = false;
	n->nplan = 0;

	/* The next hops toward clients: gateways of routes out of ours. */
	for (fam = 0; fam < 2; fam++) {
		size_t len = fg_nl_dump_req(n, RTM_GETROUTE, fam ? AF_INET6 : AF_INET);

		rc = fg_nl_talk(n, len, fg_gw_cb, &g);
		if (rc == -EAFNOSUPPORT && fam)
			continue; /* IPv6 off on the box */
		if (rc)
			return fg_fail(err, errlen, rc, "route dump: %s", strerror(-rc));
	}

	/* The targets' next hops, through the routing table. */
	for (i = 0; i < n->ntargets; i++) {
		const struct fg_addr *t = &n->targets[i];
		struct fg_neigh_route r;
		size_t len = fg_neigh_msg_getroute(n->buf, FG_NL_BUF, t, ++n->seq);

		if (!len)
			return fg_fail(err, errlen, -EINVAL, "target %zu: bad family %d",
				       i, t->family);
		rc = fg_nl_talk(n, len, fg_route_cb, &r);
		if (rc == -ENETUNREACH || rc == -EHOSTUNREACH || rc == -EINVAL ||
		    rc == -EAFNOSUPPORT || rc == -ENETDOWN) {
			st->unrouted++;
			continue;
		}
		if (rc)
			return fg_fail(err, errlen, rc, "route lookup: %s", strerror(-rc));
		if (r.type != RTN_UNICAST) {
			/* Local (the box itself) needs no neighbour;
			 * unreachable, blackhole, prohibit: no route. */
			if (r.type != RTN_LOCAL)
				st->unrouted++;
			continue;
		}
		if (!fg_our_if(n, r.oif)) {
			st->elsewhere++;
			continue;
		}
		rc = fg_plan_add(n, r.oif, r.has_gw ? &r.gw : t);
		if (rc)
			return fg_fail(err, errlen, rc, "out of memory");
	}
	if (g.rc)
		return fg_fail(err, errlen, g.rc, "out of memory");

	if (n->nplan)
		qsort(n->plan, n->nplan, sizeof(*n->plan), fg_hop_cmp);
	for (i = 0, j = 0; i < n->nplan; i++)
		if (!j || !fg_hop_eq(&n->plan[j - 1], &n->plan[i]))
			n->plan[j++] = n->plan[i];
	n->nplan = j;
	n->planned = true;
	st->wanted = (uint32_t)j;
	return (int)j;
}

/* ------------------------------------------------------------ apply */

struct fg_dump_arg {
	struct fg_neigh_entry *e;
	size_t n, cap;
	int rc;
};

static int fg_neigh_dump_cb(const struct nlmsghdr *h, void *arg)
{
	struct fg_dump_arg *d = arg;

	if (d->n == d->cap) {
		size_t cap = d->cap ? 2 * d->cap : 256;
		struct fg_neigh_entry *p = realloc(d->e, cap * sizeof(*p));

		if (!p)
			return d->rc = -ENOMEM;
		d->e = p;
		d->cap = cap;
	}
	if (!fg_neigh_parse_neigh(h, &d->e[d->n]))
		d->n++;
	return 0;
}

/* Every IPv4 and IPv6 neighbour entry of the namespace, sorted. */
static int fg_neigh_dump(struct fg_neigh *n, struct fg_dump_arg *d,
			 char *err, size_t errlen)
{
	int fam, rc;

	for (fam = 0; fam < 2; fam++) {
		size_t len = fg_nl_dump_req(n, RTM_GETNEIGH, fam ? AF_INET6 : AF_INET);

		rc = fg_nl_talk(n, len, fg_neigh_dump_cb, d);
		if (rc == -EAFNOSUPPORT && fam)
			continue;
		if (rc)
			return fg_fail(err, errlen, rc, "neighbour dump: %s", strerror(-rc));
	}
	if (d->n)
		qsort(d->e, d->n, sizeof(*d->e), fg_hop_cmp); /* hop is first */
	return 0;
}

static int fg_neigh_send(struct fg_neigh *n, bool add, const struct fg_neigh_hop *hop)
{
	size_t len = fg_neigh_msg_neigh(n->buf, FG_NL_BUF, add, hop, ++n->seq);

	if (!len)
		return -EINVAL;
	return fg_nl_talk(n, len, NULL, NULL);
}

static const char *fg_hop_str(const struct fg_neigh_hop *h, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN] = "?", ifn[IF_NAMESIZE] = "?";

	inet_ntop(h->addr.family, &h->addr.a6, a, sizeof(a));
	if_indextoname((unsigned)h->ifindex, ifn);
	snprintf(buf, len, "%s dev %s", a, ifn);
	return buf;
}

/* The kernel's neighbours, sorted (fg_neigh_dump); d->e is freed on
 * failure. 0 or a negative errno with err set. */
static int fg_neigh_dump_sorted(struct fg_neigh *n, struct fg_dump_arg *d,
				char *err, size_t errlen)
{
	int rc = fg_neigh_dump(n, d, err, errlen);

	if (!rc && d->rc)
		rc = fg_fail(err, errlen, d->rc, "out of memory");
	if (rc) {
		free(d->e);
		d->e = NULL;
	}
	return rc;
}

/*
 * Delete this product's entries of d that plan[0..nplan) does not name
 * (plan NULL: every one), counting them in st->removed. Returns first,
 * or the first failure (err set) when first is 0; an entry already gone
 * is no failure.
 */
static int fg_neigh_drop_ours(struct fg_neigh *n, const struct fg_dump_arg *d,
			      const struct fg_neigh_hop *plan, size_t nplan,
			      struct fg_neigh_stats *st, int first, char *err,
			      size_t errlen)
{
	char hs[INET6_ADDRSTRLEN + IF_NAMESIZE + 8];
	size_t i;
	int rc;

	for (i = 0; i < d->n; i++) {
		const struct fg_neigh_entry *e = &d->e[i];

		if (e->protocol != FG_NEIGH_PROTO ||
		    (plan && bsearch(&e->hop, plan, nplan, sizeof(*plan),
				     fg_hop_cmp)))
			continue;
		rc = fg_neigh_send(n, false, &e->hop);
		if (rc && rc != -ENOENT) {
			if (!first)
				first = fg_fail(err, errlen, rc, "delete neighbour %s: %s",
						fg_hop_str(&e->hop, hs, sizeof(hs)),
						strerror(-rc));
			continue;
		}
		st->removed++;
	}
	return first;
}

int fg_neigh_apply(struct fg_neigh *n, struct fg_neigh_stats *st,
		   char *err, size_t errlen)
{
	struct fg_neigh_stats local = { 0 };
	struct fg_dump_arg d = { 0 };
	char hs[INET6_ADDRSTRLEN + IF_NAMESIZE + 8];
	size_t i;
	int rc, first = 0;

	if (!st)
		st = &local;
	st->added = st->kept = st->foreign = st->removed = 0;
	if (!n->planned)
		return fg_fail(err, errlen, -EINVAL, "no plan to apply");
	rc = fg_neigh_dump_sorted(n, &d, err, errlen);
	if (rc)
		return rc;
	for (i = 0; i < n->nplan; i++) {
		const struct fg_neigh_hop *hop = &n->plan[i];
		const struct fg_neigh_entry *e = bsearch(hop, d.e, d.n, sizeof(*d.e),
							 fg_hop_cmp);

		if (e && e->protocol == FG_NEIGH_PROTO && (e->flags_ext & NTF_EXT_MANAGED)) {
			st->kept++;
			continue;
		}
		if (e && ((e->state & (NUD_PERMANENT | NUD_NOARP)) ||
			  (e->flags & NTF_EXT_LEARNED) ||
			  (e->protocol && e->protocol != FG_NEIGH_PROTO))) {
			st->foreign++;
			continue;
		}
		rc = fg_neigh_send(n, true, hop);
		if (rc) {
			if (!first)
				first = fg_fail(err, errlen, rc, "add managed neighbour %s: %s%s",
						fg_hop_str(hop, hs, sizeof(hs)), strerror(-rc),
						rc == -ENOBUFS ? " (neighbour table full: gc_thresh3)" : "");
			continue;
		}
		st->added++;
	}
	/* Ours that the plan no longer names. */
	first = fg_neigh_drop_ours(n, &d, n->plan, n->nplan, st, first, err,
				   errlen);
	free(d.e);
	return first;
}

int fg_neigh_remove_all(struct fg_neigh *n, struct fg_neigh_stats *st,
			char *err, size_t errlen)
{
	struct fg_neigh_stats local = { 0 };
	struct fg_dump_arg d = { 0 };
	int rc;

	if (!st)
		st = &local;
	st->removed = 0;
	rc = fg_neigh_dump_sorted(n, &d, err, errlen);
	if (rc)
		return rc;
	rc = fg_neigh_drop_ours(n, &d, NULL, 0, st, 0, err, errlen);
	free(d.e);
	return rc;
}

/* ---------------------------------------------------------- monitor */

int fg_neigh_monitor_fd(struct fg_neigh *n, char *err, size_t errlen)
{
	if (n->mon >= 0)
		return n->mon;
	n->mon = fg_nl_socket(RTMGRP_LINK | RTMGRP_NEIGH | RTMGRP_IPV4_IFADDR |
			      RTMGRP_IPV6_IFADDR | RTMGRP_IPV4_ROUTE | RTMGRP_IPV6_ROUTE);
	if (n->mon < 0) {
		int rc = n->mon;

		n->mon = -1;
		return fg_fail(err, errlen, rc, "netlink monitor socket: %s", strerror(-rc));
	}
	return n->mon;
}

/* Does this notification move a next hop? */
static bool fg_mon_relevant(const struct nlmsghdr *h)
{
	struct fg_neigh_entry e;
	struct fg_neigh_route r;

	switch (h->nlmsg_type) {
	case RTM_NEWLINK:
	case RTM_DELLINK:
	case RTM_NEWADDR:
	case RTM_DELADDR:
		return true;
	case RTM_NEWROUTE:
	case RTM_DELROUTE:
		return !fg_neigh_parse_route(h, &r) && !r.cloned && r.table != RT_TABLE_LOCAL;
	case RTM_DELNEIGH:
		/* Someone flushed one of ours: put it back. */
		return !fg_neigh_parse_neigh(h, &e) && e.protocol == FG_NEIGH_PROTO;
	default:
		return false;
	}
}

int fg_neigh_monitor_drain(struct fg_neigh *n)
{
	bool changed = false;
	uint32_t i;

	if (n->mon < 0)
		return -EBADF;
	for (i = 0; i < FG_NL_DRAIN_MAX; i++) {
		ssize_t got = recv(n->mon, n->buf, FG_NL_BUF, MSG_DONTWAIT);
		struct nlmsghdr *h;
		int left;

		if (got < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				break;
			if (errno == ENOBUFS) {
				changed = true; /* lost messages: plan anew */
				continue;
			}
			return -errno;
		}
		left = (int)got;
		for (h = (struct nlmsghdr *)n->buf; !changed && NLMSG_OK(h, left);
		     h = NLMSG_NEXT(h, left))
			changed = fg_mon_relevant(h);
	}
	return changed;
}
