/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * test_neigh.c - the host library without root: fg_neigh's netlink
 * messages (built, then parsed back as the kernel would read them; route
 * answers built by hand as the kernel writes them), fg_neigh_targets(),
 * and fg_sysctl against a tree of plain files standing in for /proc/sys
 * (originals saved once, thresholds grown and shrunk, restore, theirs
 * wins, bad input changes nothing). The kernel side is
 * tests/integration/test_neigh.sh.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/neighbour.h>
#include <linux/rtnetlink.h>

#include <cmocka.h>

#include "fg_neigh.h"
#include "fg_sysctl.h"

static struct fg_addr addr(const char *s)
{
	struct fg_addr a;

	memset(&a, 0, sizeof(a));
	if (inet_pton(AF_INET, s, &a.a4) == 1)
		a.family = AF_INET;
	else if (inet_pton(AF_INET6, s, &a.a6) == 1)
		a.family = AF_INET6;
	return a;
}

/* The attribute of type in a message whose body is hdrlen bytes. */
static const struct rtattr *find_attr(const struct nlmsghdr *h, size_t hdrlen,
				      unsigned short type)
{
	const struct rtattr *rta = (const void *)((const uint8_t *)NLMSG_DATA(h) +
						  NLMSG_ALIGN(hdrlen));
	int len = (int)(h->nlmsg_len - NLMSG_LENGTH(hdrlen));

	for (; RTA_OK(rta, len); rta = RTA_NEXT(rta, len))
		if (rta->rta_type == type)
			return rta;
	return NULL;
}

/* --------------------------------------------------------- messages */

static void test_getroute_msg(void **state)
{
	uint8_t buf[256];
	struct fg_addr a = addr("198.19.0.7"), b = addr("2001:db8:19::7");
	const struct nlmsghdr *h = (const void *)buf;
	const struct rtmsg *rtm = NLMSG_DATA(h);
	const struct rtattr *dst;
	size_t len;

	(void)state;
	len = fg_neigh_msg_getroute(buf, sizeof(buf), &a, 41);
	assert_int_equal(len, h->nlmsg_len);
	assert_int_equal(h->nlmsg_type, RTM_GETROUTE);
	assert_int_equal(h->nlmsg_flags, NLM_F_REQUEST);
	assert_int_equal(h->nlmsg_seq, 41);
	assert_int_equal(rtm->rtm_family, AF_INET);
	assert_int_equal(rtm->rtm_dst_len, 32);
	dst = find_attr(h, sizeof(*rtm), RTA_DST);
	assert_non_null(dst);
	assert_int_equal(RTA_PAYLOAD(dst), 4);
	assert_memory_equal(RTA_DATA(dst), &a.a4, 4);

	len = fg_neigh_msg_getroute(buf, sizeof(buf), &b, 42);
	assert_int_equal(len, h->nlmsg_len);
	assert_int_equal(rtm->rtm_family, AF_INET6);
	assert_int_equal(rtm->rtm_dst_len, 128);
	dst = find_attr(h, sizeof(*rtm), RTA_DST);
	assert_non_null(dst);
	assert_int_equal(RTA_PAYLOAD(dst), 16);
	assert_memory_equal(RTA_DATA(dst), &b.a6, 16);

	/* Too small a buffer, no family: nothing. */
	assert_int_equal(fg_neigh_msg_getroute(buf, 20, &b, 1), 0);
	a.family = AF_UNSPEC;
	assert_int_equal(fg_neigh_msg_getroute(buf, sizeof(buf), &a, 1), 0);
	assert_int_equal(fg_neigh_msg_getroute(buf, sizeof(buf), NULL, 1), 0);
}

static void test_neigh_msg_roundtrip(void **state)
{
	uint8_t buf[256];
	const struct nlmsghdr *h = (const void *)buf;
	const struct ndmsg *ndm = NLMSG_DATA(h);
	struct fg_neigh_hop hop = { .ifindex = 7, .addr = addr("2001:db8:19::5") };
	struct fg_neigh_entry e;
	const struct rtattr *rta;
	size_t len;

	(void)state;
	len = fg_neigh_msg_neigh(buf, sizeof(buf), true, &hop, 9);
	assert_true(len > 0);
	assert_int_equal(h->nlmsg_type, RTM_NEWNEIGH);
	assert_int_equal(h->nlmsg_flags,
			 NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE);
	assert_int_equal(ndm->ndm_family, AF_INET6);
	assert_int_equal(ndm->ndm_ifindex, 7);
	assert_int_equal(ndm->ndm_flags, NTF_USE);
	assert_int_equal(ndm->ndm_state, 0);
	rta = find_attr(h, sizeof(*ndm), NDA_FLAGS_EXT);
	assert_non_null(rta);
	assert_int_equal(*(const uint32_t *)RTA_DATA(rta), NTF_EXT_MANAGED);
	rta = find_attr(h, sizeof(*ndm), NDA_PROTOCOL);
	assert_non_null(rta);
	assert_int_equal(*(const uint8_t *)RTA_DATA(rta), FG_NEIGH_PROTO);

	/* Read back as a neighbour message: the same hop, ours, managed. */
	buf[4] = RTM_NEWNEIGH & 0xff; /* already so; the type is the parser's gate */
	assert_int_equal(fg_neigh_parse_neigh(h, &e), 0);
	assert_int_equal(e.hop.ifindex, 7);
	assert_int_equal(e.hop.addr.family, AF_INET6);
	assert_memory_equal(&e.hop.addr.a6, &hop.addr.a6, 16);
	assert_int_equal(e.protocol, FG_NEIGH_PROTO);
	assert_int_equal(e.flags_ext, NTF_EXT_MANAGED);

	/* A delete names the entry only. */
	hop.addr = addr("198.19.0.5");
	len = fg_neigh_msg_neigh(buf, sizeof(buf), false, &hop, 10);
	assert_true(len > 0);
	assert_int_equal(h->nlmsg_type, RTM_DELNEIGH);
	assert_int_equal(h->nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK);
	assert_null(find_attr(h, sizeof(*ndm), NDA_FLAGS_EXT));
	assert_null(find_attr(h, sizeof(*ndm), NDA_PROTOCOL));
	assert_int_equal(fg_neigh_parse_neigh(h, &e), 0);
	assert_int_equal(e.hop.addr.family, AF_INET);
	assert_memory_equal(&e.hop.addr.a4, &hop.addr.a4, 4);
	assert_int_equal(e.protocol, 0);

	/* No interface, no family: nothing built. */
	hop.ifindex = 0;
	assert_int_equal(fg_neigh_msg_neigh(buf, sizeof(buf), true, &hop, 1), 0);
	hop.ifindex = 3;
	hop.addr.family = AF_UNSPEC;
	assert_int_equal(fg_neigh_msg_neigh(buf, sizeof(buf), true, &hop, 1), 0);

	/* Truncated or of another type: refused. */
	hop.addr = addr("198.19.0.5");
	len = fg_neigh_msg_neigh(buf, sizeof(buf), true, &hop, 1);
	((struct nlmsghdr *)buf)->nlmsg_len = NLMSG_LENGTH(sizeof(*ndm)) - 1;
	assert_int_equal(fg_neigh_parse_neigh(h, &e), -EINVAL);
	((struct nlmsghdr *)buf)->nlmsg_len = (uint32_t)len;
	((struct nlmsghdr *)buf)->nlmsg_type = RTM_NEWROUTE;
	assert_int_equal(fg_neigh_parse_neigh(h, &e), -EINVAL);
}

/* Route messages as the kernel writes them. */
struct msgbuf {
	union {
		struct nlmsghdr h;
		uint8_t b[1024];
	};
};

static void put(struct nlmsghdr *h, unsigned short type, const void *d, size_t len)
{
	struct rtattr *rta = (void *)((uint8_t *)h + NLMSG_ALIGN(h->nlmsg_len));

	rta->rta_type = type;
	rta->rta_len = (unsigned short)RTA_LENGTH(len);
	memcpy(RTA_DATA(rta), d, len);
	h->nlmsg_len = NLMSG_ALIGN(h->nlmsg_len) + RTA_SPACE(len);
}

static struct rtmsg *route_msg(struct msgbuf *m, int family, uint8_t type)
{
	struct rtmsg *rtm;

	memset(m, 0, sizeof(*m));
	m->h.nlmsg_len = NLMSG_LENGTH(sizeof(*rtm));
	m->h.nlmsg_type = RTM_NEWROUTE;
	rtm = NLMSG_DATA(&m->h);
	rtm->rtm_family = (uint8_t)family;
	rtm->rtm_type = type;
	rtm->rtm_table = RT_TABLE_MAIN;
	return rtm;
}

static void test_parse_route(void **state)
{
	struct msgbuf m;
	struct fg_neigh_route r;
	struct fg_addr gw = addr("198.18.0.254"), gw6 = addr("fe80::1");
	uint32_t oif = 4, table = 1000;
	struct rtmsg *rtm;

	(void)state;
	/* Via a gateway. */
	route_msg(&m, AF_INET, RTN_UNICAST);
	put(&m.h, RTA_OIF, &oif, 4);
	put(&m.h, RTA_GATEWAY, &gw.a4, 4);
	assert_int_equal(fg_neigh_parse_route(&m.h, &r), 0);
	assert_int_equal(r.type, RTN_UNICAST);
	assert_int_equal(r.oif, 4);
	assert_true(r.has_gw);
	assert_int_equal(r.gw.family, AF_INET);
	assert_memory_equal(&r.gw.a4, &gw.a4, 4);
	assert_int_equal(r.table, RT_TABLE_MAIN);
	assert_false(r.cloned);

	/* On-link, a table beyond 255, a cache clone. */
	rtm = route_msg(&m, AF_INET6, RTN_UNICAST);
	rtm->rtm_flags = RTM_F_CLONED;
	put(&m.h, RTA_OIF, &oif, 4);
	put(&m.h, RTA_TABLE, &table, 4);
	assert_int_equal(fg_neigh_parse_route(&m.h, &r), 0);
	assert_false(r.has_gw);
	assert_int_equal(r.table, 1000);
	assert_true(r.cloned);

	/* An IPv4 route via an IPv6 gateway (RTA_VIA). */
	route_msg(&m, AF_INET, RTN_UNICAST);
	{
		uint8_t v[sizeof(struct rtvia) + 16];
		struct rtvia *via = (void *)v;

		via->rtvia_family = AF_INET6;
		memcpy(via->rtvia_addr, &gw6.a6, 16);
		put(&m.h, RTA_VIA, v, sizeof(v));
	}
	assert_int_equal(fg_neigh_parse_route(&m.h, &r), 0);
	assert_true(r.has_gw);
	assert_int_equal(r.gw.family, AF_INET6);
	assert_memory_equal(&r.gw.a6, &gw6.a6, 16);

	/* Multipath: two paths, one through a gateway. */
	route_msg(&m, AF_INET, RTN_UNICAST);
	{
		uint8_t mp[2 * (sizeof(struct rtnexthop) + RTA_SPACE(4))];
		struct rtnexthop *nh = (void *)mp;
		struct rtattr *a;

		memset(mp, 0, sizeof(mp));
		nh->rtnh_len = sizeof(*nh) + RTA_SPACE(4);
		nh->rtnh_ifindex = 5;
		a = RTNH_DATA(nh);
		a->rta_type = RTA_GATEWAY;
		a->rta_len = RTA_LENGTH(4);
		memcpy(RTA_DATA(a), &gw.a4, 4);
		nh = RTNH_NEXT(nh);
		nh->rtnh_len = sizeof(*nh);
		nh->rtnh_ifindex = 6;
		put(&m.h, RTA_MULTIPATH, mp, sizeof(*nh) + RTA_SPACE(4) + sizeof(*nh));
	}
	assert_int_equal(fg_neigh_parse_route(&m.h, &r), 0);
	assert_true(r.has_paths);
	assert_int_equal(r.npaths, 2);
	assert_int_equal(r.paths[0].ifindex, 5);
	assert_int_equal(r.paths[0].addr.family, AF_INET);
	assert_memory_equal(&r.paths[0].addr.a4, &gw.a4, 4);
	assert_int_equal(r.paths[1].ifindex, 6);
	assert_int_equal(r.paths[1].addr.family, 0);

	/* A gateway of the wrong length is no gateway. */
	route_msg(&m, AF_INET, RTN_UNICAST);
	put(&m.h, RTA_GATEWAY, &gw6.a6, 16);
	assert_int_equal(fg_neigh_parse_route(&m.h, &r), 0);
	assert_false(r.has_gw);

	/* Truncated, or a neighbour message: refused. */
	route_msg(&m, AF_INET, RTN_UNICAST);
	m.h.nlmsg_len = NLMSG_LENGTH(sizeof(struct rtmsg)) - 2;
	assert_int_equal(fg_neigh_parse_route(&m.h, &r), -EINVAL);
	route_msg(&m, AF_INET, RTN_UNICAST);
	m.h.nlmsg_type = RTM_NEWNEIGH;
	assert_int_equal(fg_neigh_parse_route(&m.h, &r), -EINVAL);
}

static void test_targets(void **state)
{
	struct fg_rule_backend b1[3], b2[2];
	struct fg_rule_service svc[2];
	struct fg_ruleset rs;
	struct fg_addr *t;
	size_t n;

	(void)state;
	memset(b1, 0xaa, sizeof(b1)); /* garbage in the unused union bytes */
	memset(b2, 0x55, sizeof(b2));
	memset(svc, 0, sizeof(svc));
	memset(&rs, 0, sizeof(rs));
	b1[0].addr.family = AF_INET;
	b1[0].addr.a4 = addr("198.19.0.2").a4;
	b1[1].addr.family = AF_INET;
	b1[1].addr.a4 = addr("198.19.0.1").a4;
	b1[2].addr.family = AF_INET;
	b1[2].addr.a4 = addr("198.19.0.2").a4;
	b2[0].addr = addr("198.19.0.1"); /* a NAT service sharing a backend */
	b2[1].addr = addr("2001:db8:19::1");
	svc[0].forward = FG_FWD_DSR_IPIP;
	svc[0].backends = b1;
	svc[0].nbackends = 3;
	svc[1].forward = FG_FWD_NAT;
	svc[1].backends = b2;
	svc[1].nbackends = 2;
	rs.services = svc;
	rs.nservices = 2;

	assert_int_equal(fg_neigh_targets(&rs, &t, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(t[0].family, AF_INET);
	assert_memory_equal(&t[0].a4, &b1[1].addr.a4, 4);
	assert_int_equal(t[1].family, AF_INET);
	assert_memory_equal(&t[1].a4, &b1[0].addr.a4, 4);
	assert_int_equal(t[2].family, AF_INET6);
	free(t);

	rs.nservices = 0;
	assert_int_equal(fg_neigh_targets(&rs, &t, &n), 0);
	assert_int_equal(n, 0);
	assert_null(t);
}

/* ----------------------------------------------------------- sysctl */

struct tree {
	char root[64];
	char proc[96];
	char saved[128];
	struct fg_sysctl_cfg cfg;
};

static void wr(const struct tree *t, const char *key, const char *val)
{
	char path[256], dir[256], *p;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", t->proc, key);
	snprintf(dir, sizeof(dir), "%s", path);
	for (p = dir + 1; *p; p++) {
		if (*p == '/') {
			*p = '\0';
			mkdir(dir, 0700);
			*p = '/';
		}
	}
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "%s\n", val);
	fclose(f);
}

static const char *rd(const struct tree *t, const char *key)
{
	static char val[64];
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", t->proc, key);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_non_null(fgets(val, sizeof(val), f));
	fclose(f);
	val[strcspn(val, "\n")] = '\0';
	return val;
}

static int tree_setup(void **state)
{
	struct tree *t = calloc(1, sizeof(*t));
	static const char *const th[] = { "gc_thresh1", "gc_thresh2", "gc_thresh3" };
	static const char *const vals[] = { "128", "512", "1024" };
	char key[128];
	int i;

	snprintf(t->root, sizeof(t->root), "/tmp/fgsysctl.XXXXXX");
	if (!mkdtemp(t->root))
		return -1;
	snprintf(t->proc, sizeof(t->proc), "%s/proc", t->root);
	snprintf(t->saved, sizeof(t->saved), "%s/run/node1/sysctl.saved", t->root);
	t->cfg.proc_root = t->proc;
	t->cfg.saved_path = t->saved;
	wr(t, "net/ipv4/conf/eth0/forwarding", "0");
	wr(t, "net/ipv6/conf/eth0/forwarding", "0");
	wr(t, "net/ipv6/conf/eth0/accept_ra", "1");
	wr(t, "net/ipv6/conf/eth0/force_forwarding", "0"); /* eth1: an older kernel */
	wr(t, "net/ipv4/conf/eth1/forwarding", "1");
	wr(t, "net/ipv6/conf/eth1/forwarding", "0");
	wr(t, "net/ipv6/conf/eth1/accept_ra", "0");
	for (i = 0; i < 3; i++) {
		snprintf(key, sizeof(key), "net/ipv4/neigh/default/%s", th[i]);
		wr(t, key, vals[i]);
		snprintf(key, sizeof(key), "net/ipv6/neigh/default/%s", th[i]);
		wr(t, key, vals[i]);
	}
	*state = t;
	return 0;
}

static int tree_teardown(void **state)
{
	struct tree *t = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->root);
	if (system(cmd) != 0)
		return -1;
	free(t);
	return 0;
}

static const struct fg_sysctl_change *change_of(const struct fg_sysctl_report *r,
						const char *key)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		if (!strcmp(r->c[i].key, key))
			return &r->c[i];
	return NULL;
}

static void test_sysctl_cycle(void **state)
{
	struct tree *t = *state;
	static const char *const ifs[] = { "eth0", "eth1" };
	struct fg_sysctl_report rep;
	const struct fg_sysctl_change *c;
	char err[256];
	struct stat st;

	memset(&rep, 0, sizeof(rep));
	assert_int_equal(fg_sysctl_prepare(&t->cfg, ifs, 2, &rep, err, sizeof(err)), 0);
	assert_string_equal(rd(t, "net/ipv4/conf/eth0/forwarding"), "1");
	assert_string_equal(rd(t, "net/ipv6/conf/eth0/forwarding"), "1");
	assert_string_equal(rd(t, "net/ipv6/conf/eth0/accept_ra"), "2");
	assert_string_equal(rd(t, "net/ipv6/conf/eth1/forwarding"), "1");
	assert_string_equal(rd(t, "net/ipv6/conf/eth1/accept_ra"), "0"); /* 0 stays */
	assert_string_equal(rd(t, "net/ipv6/conf/eth0/force_forwarding"), "1");
	/* eth1's IPv4 forwarding was on already: not a change. */
	assert_int_equal(rep.n, 5);
	assert_int_equal(rep.total, 5);
	c = change_of(&rep, "net/ipv6/conf/eth0/accept_ra");
	assert_non_null(c);
	assert_string_equal(c->old, "1");
	assert_string_equal(c->new, "2");
	assert_null(change_of(&rep, "net/ipv4/conf/eth1/forwarding"));
	/* The saved file is private. */
	assert_int_equal(stat(t->saved, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);

	/* A second start changes nothing and keeps the originals. */
	memset(&rep, 0, sizeof(rep));
	assert_int_equal(fg_sysctl_prepare(&t->cfg, ifs, 2, &rep, err, sizeof(err)), 0);
	assert_int_equal(rep.total, 0);

	/* Thresholds: originals plus the entries, then back. */
	memset(&rep, 0, sizeof(rep));
	assert_int_equal(fg_sysctl_neigh_fit(&t->cfg, 2000, &rep, err, sizeof(err)), 0);
	assert_string_equal(rd(t, "net/ipv4/neigh/default/gc_thresh3"), "3024");
	assert_string_equal(rd(t, "net/ipv6/neigh/default/gc_thresh1"), "2128");
	assert_int_equal(rep.total, 6);
	/* Grown again from the original, not from our own value. */
	assert_int_equal(fg_sysctl_neigh_fit(&t->cfg, 10, NULL, err, sizeof(err)), 0);
	assert_string_equal(rd(t, "net/ipv4/neigh/default/gc_thresh3"), "1034");
	/* Capped at the dataplane's limit. */
	assert_int_equal(fg_sysctl_neigh_fit(&t->cfg, 10000000, NULL, err, sizeof(err)), 0);
	assert_int_equal(atoi(rd(t, "net/ipv4/neigh/default/gc_thresh3")),
			 1024 + FG_SYSCTL_NEIGH_MAX);

	/* Someone else changes one setting: theirs wins at restore. */
	wr(t, "net/ipv6/conf/eth1/forwarding", "0");
	memset(&rep, 0, sizeof(rep));
	assert_int_equal(fg_sysctl_restore(&t->cfg, &rep, err, sizeof(err)), 0);
	assert_string_equal(rd(t, "net/ipv4/conf/eth0/forwarding"), "0");
	assert_string_equal(rd(t, "net/ipv6/conf/eth0/forwarding"), "0");
	assert_string_equal(rd(t, "net/ipv6/conf/eth0/accept_ra"), "1");
	assert_string_equal(rd(t, "net/ipv6/conf/eth0/force_forwarding"), "0");
	assert_string_equal(rd(t, "net/ipv4/conf/eth1/forwarding"), "1");
	assert_string_equal(rd(t, "net/ipv4/neigh/default/gc_thresh1"), "128");
	assert_string_equal(rd(t, "net/ipv4/neigh/default/gc_thresh3"), "1024");
	assert_string_equal(rd(t, "net/ipv6/neigh/default/gc_thresh2"), "512");
	c = change_of(&rep, "net/ipv6/conf/eth1/forwarding");
	assert_non_null(c);
	assert_true(c->kept);
	assert_int_equal(access(t->saved, F_OK), -1);
	/* Nothing saved: nothing to do. */
	assert_int_equal(fg_sysctl_restore(&t->cfg, &rep, err, sizeof(err)), 0);
}

static void test_sysctl_bad_input(void **state)
{
	struct tree *t = *state;
	static const char *const bad[] = { "eth0", "nosuch0" };
	static const char *const slash[] = { "../x" };
	static const char *const all[] = { "all" };
	char err[256];
	FILE *f;

	/* One interface missing: nothing changes, nothing is saved. */
	assert_int_equal(fg_sysctl_prepare(&t->cfg, bad, 2, NULL, err, sizeof(err)),
			 -ENOENT);
	assert_non_null(strstr(err, "nosuch0"));
	assert_string_equal(rd(t, "net/ipv4/conf/eth0/forwarding"), "0");
	assert_int_equal(access(t->saved, F_OK), -1);
	assert_int_equal(fg_sysctl_prepare(&t->cfg, slash, 1, NULL, err, sizeof(err)),
			 -EINVAL);
	assert_int_equal(fg_sysctl_prepare(&t->cfg, all, 1, NULL, err, sizeof(err)),
			 -EINVAL);
	assert_int_equal(fg_sysctl_prepare(&t->cfg, bad, 0, NULL, err, sizeof(err)),
			 -EINVAL);

	/* A damaged saved file is refused, not half-read. */
	assert_int_equal(fg_sysctl_prepare(&t->cfg, bad, 1, NULL, err, sizeof(err)), 0);
	f = fopen(t->saved, "a");
	assert_non_null(f);
	fputs("net/ipv4/x 1\n", f);
	fclose(f);
	assert_int_equal(fg_sysctl_restore(&t->cfg, NULL, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, ":5:"));
	assert_string_equal(rd(t, "net/ipv4/conf/eth0/forwarding"), "1");

	/* Node names that would escape the directory. */
	{
		char p[256];

		assert_int_equal(fg_sysctl_saved_path("a/b", p, sizeof(p)), -EINVAL);
		assert_int_equal(fg_sysctl_saved_path("..", p, sizeof(p)), -EINVAL);
		assert_int_equal(fg_sysctl_saved_path("", p, sizeof(p)), -EINVAL);
		assert_int_equal(fg_sysctl_saved_path("lb1", p, sizeof(p)), 0);
		assert_string_equal(p, "/run/floodgate/lb1/sysctl.saved");
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_getroute_msg),
		cmocka_unit_test(test_neigh_msg_roundtrip),
		cmocka_unit_test(test_parse_route),
		cmocka_unit_test(test_targets),
		cmocka_unit_test_setup_teardown(test_sysctl_cycle, tree_setup, tree_teardown),
		cmocka_unit_test_setup_teardown(test_sysctl_bad_input, tree_setup,
						tree_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
