/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * test_verdict.c - the dataplanes' shared decisions (fg_verdict.h) as
 * plain functions: which limit matches a packet (source prefix v4/v6,
 * protocol, destination port), the order of the limits (global, then the
 * service's), what a packet costs, the bucket key per key kind, what a
 * refusal does, and each check of the packet's path with its reason.
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "fg_verdict.h"

/* ------------------------------------------------------------ fixtures */

/* addr - an address in a 16-byte word array (IPv4 in word 0). */
static void addr(const char *s, __be32 *out)
{
	memset(out, 0, 16);
	if (strchr(s, ':'))
		assert_int_equal(inet_pton(AF_INET6, s, out), 1);
	else
		assert_int_equal(inet_pton(AF_INET, s, out), 1);
}

static struct fg_flow_key key_of(const char *src, const char *dst,
				 __u16 sport, __u16 dport, __u8 proto)
{
	struct fg_flow_key k;

	memset(&k, 0, sizeof(k));
	addr(src, k.src);
	addr(dst, k.dst);
	k.sport = htons(sport);
	k.dport = htons(dport);
	k.proto = proto;
	k.family = strchr(src, ':') ? FG_AF_INET6 : FG_AF_INET;
	return k;
}

/* A limit on source prefix pfx/len (NULL: no source match). The prefix
 * is stored masked, as the compiler does. */
static struct fg_limit lim_src(const char *pfx, __u8 len)
{
	struct fg_limit l;

	memset(&l, 0, sizeof(l));
	l.id = 7;
	if (pfx) {
		__u32 bits = len;
		int i;

		addr(pfx, l.match_src);
		for (i = 0; i < 4; i++) {
			__u32 take = bits > 32 ? 32 : bits;
			__u32 mask = take ? (__u32)(0xffffffffULL << (32 - take)) : 0;

			l.match_src[i] = htonl(ntohl(l.match_src[i]) & mask);
			bits -= take;
		}
		l.match_src_len = len;
		l.match_family = strchr(pfx, ':') ? FG_AF_INET6 : FG_AF_INET;
		l.flags |= FG_LIM_F_MATCH_SRC;
	}
	return l;
}

/* ------------------------------------------------------ limit matching */

static void test_match_src_v4(void **state)
{
	struct fg_limit l = lim_src("198.18.0.0", 24);
	struct fg_flow_key in = key_of("198.18.0.77", "198.18.0.10", 1, 80, 6);
	struct fg_flow_key out = key_of("198.18.1.77", "198.18.0.10", 1, 80, 6);
	struct fg_flow_key v6 = key_of("2001:db8::1", "2001:db8::10", 1, 80, 6);

	(void)state;
	assert_true(fg_limit_matches(&l, &in));
	assert_false(fg_limit_matches(&l, &out));
	/* An IPv6 address whose first word equals the prefix is still not
	 * an IPv4 source. */
	memcpy(v6.src, in.src, 4);
	assert_false(fg_limit_matches(&l, &v6));

	/* /32 is one address; /0 every IPv4 source, no IPv6 one. */
	l = lim_src("198.18.0.77", 32);
	assert_true(fg_limit_matches(&l, &in));
	in.src[0] ^= htonl(1);
	assert_false(fg_limit_matches(&l, &in));
	l = lim_src("0.0.0.0", 0);
	assert_true(fg_limit_matches(&l, &in));
	assert_true(fg_limit_matches(&l, &out));
	assert_false(fg_limit_matches(&l, &v6));

	/* A prefix that does not end on a byte: /23 holds .0 and .1. */
	l = lim_src("198.18.0.0", 23);
	assert_true(fg_limit_matches(&l, &out));
	out = key_of("198.18.2.1", "198.18.0.10", 1, 80, 6);
	assert_false(fg_limit_matches(&l, &out));
}

static void test_match_src_v6(void **state)
{
	struct fg_limit l = lim_src("2001:db8:1234::", 48);
	struct fg_flow_key k;

	(void)state;
	k = key_of("2001:db8:1234:5::9", "2001:db8::10", 1, 80, 6);
	assert_true(fg_limit_matches(&l, &k));
	k = key_of("2001:db8:1235::9", "2001:db8::10", 1, 80, 6);
	assert_false(fg_limit_matches(&l, &k));

	/* /64 ends on word 1; /96 on word 2; /100 inside word 3. */
	l = lim_src("2001:db8:0:1::", 64);
	k = key_of("2001:db8:0:1:ffff:ffff:ffff:ffff", "2001:db8::10", 1, 80, 6);
	assert_true(fg_limit_matches(&l, &k));
	k = key_of("2001:db8:0:2::", "2001:db8::10", 1, 80, 6);
	assert_false(fg_limit_matches(&l, &k));
	l = lim_src("2001:db8::1:2:0:0", 100);
	k = key_of("2001:db8::1:2:fff:ffff", "2001:db8::10", 1, 80, 6);
	assert_true(fg_limit_matches(&l, &k));
	k = key_of("2001:db8::1:2:1000:0", "2001:db8::10", 1, 80, 6);
	assert_false(fg_limit_matches(&l, &k));

	/* /128: one address. */
	l = lim_src("2001:db8::9", 128);
	k = key_of("2001:db8::9", "2001:db8::10", 1, 80, 6);
	assert_true(fg_limit_matches(&l, &k));
	k.src[3] ^= htonl(1);
	assert_false(fg_limit_matches(&l, &k));

	/* An IPv4 source never meets an IPv6 prefix, even ::/0. */
	l = lim_src("::", 0);
	assert_true(fg_limit_matches(&l, &k));
	k = key_of("198.18.0.1", "198.18.0.10", 1, 80, 6);
	assert_false(fg_limit_matches(&l, &k));
}

static void test_match_proto_dport(void **state)
{
	struct fg_limit l = lim_src(NULL, 0);
	struct fg_flow_key tcp80 = key_of("198.18.0.1", "198.18.0.10", 5, 80, 6);
	struct fg_flow_key udp80 = key_of("198.18.0.1", "198.18.0.10", 5, 80, 17);
	struct fg_flow_key tcp443 = key_of("2001:db8::1", "2001:db8::10", 5, 443, 6);

	(void)state;
	/* No match fields: every packet, either family. */
	assert_true(fg_limit_matches(&l, &tcp80));
	assert_true(fg_limit_matches(&l, &udp80));
	assert_true(fg_limit_matches(&l, &tcp443));

	l.match_proto = 6;
	assert_true(fg_limit_matches(&l, &tcp80));
	assert_false(fg_limit_matches(&l, &udp80));
	assert_true(fg_limit_matches(&l, &tcp443));

	l.match_dport = htons(80);
	assert_true(fg_limit_matches(&l, &tcp80));
	assert_false(fg_limit_matches(&l, &udp80));
	assert_false(fg_limit_matches(&l, &tcp443));

	/* Port alone: either protocol. The source port does not count. */
	l.match_proto = 0;
	assert_true(fg_limit_matches(&l, &udp80));
	udp80.sport = htons(443);
	udp80.dport = htons(53);
	assert_false(fg_limit_matches(&l, &udp80));

	/* Every field must hold: source in, port out. */
	l = lim_src("198.18.0.0", 16);
	l.match_dport = htons(443);
	assert_false(fg_limit_matches(&l, &tcp80));
	tcp80.dport = htons(443);
	assert_true(fg_limit_matches(&l, &tcp80));
}

/* ------------------------------------------------- order, cost, refusal */

static void test_limit_order(void **state)
{
	static struct fg_config cfg;
	struct fg_svc svc;
	__u32 got[FG_LIMITS_PER_PKT], n = 0, i;

	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	memset(&svc, 0, sizeof(svc));
	cfg.nglobal_limits = 2;
	cfg.global_limits[0] = 40;
	cfg.global_limits[1] = 41;
	cfg.global_limits[2] = 99; /* past nglobal_limits: not one */
	svc.nlimits = 3;
	svc.limits[0] = 3;
	svc.limits[1] = 1;
	svc.limits[2] = 2;
	svc.limits[3] = 98;

	for (i = 0; i < FG_LIMITS_PER_PKT; i++) {
		__u32 id = fg_limit_nth(&cfg, &svc, i);

		if (id != FG_LIMIT_NONE)
			got[n++] = id;
	}
	/* Global first, then the service's, each in its own order. */
	assert_int_equal(n, 5);
	assert_int_equal(got[0], 40);
	assert_int_equal(got[1], 41);
	assert_int_equal(got[2], 3);
	assert_int_equal(got[3], 1);
	assert_int_equal(got[4], 2);

	/* Full lists: all sixteen, nothing beyond. */
	cfg.nglobal_limits = FG_GLOBAL_LIMITS_MAX;
	svc.nlimits = FG_SVC_LIMITS_MAX;
	for (i = 0; i < FG_GLOBAL_LIMITS_MAX; i++)
		cfg.global_limits[i] = 100 + i;
	for (i = 0; i < FG_SVC_LIMITS_MAX; i++)
		svc.limits[i] = 200 + i;
	for (i = 0; i < FG_LIMITS_PER_PKT; i++)
		assert_int_equal(fg_limit_nth(&cfg, &svc, i),
				 i < FG_GLOBAL_LIMITS_MAX ? 100 + i :
				 200 + i - FG_GLOBAL_LIMITS_MAX);
	assert_int_equal(fg_limit_nth(&cfg, &svc, FG_LIMITS_PER_PKT),
			 FG_LIMIT_NONE);

	/* None at all. */
	cfg.nglobal_limits = 0;
	svc.nlimits = 0;
	for (i = 0; i < FG_LIMITS_PER_PKT; i++)
		assert_int_equal(fg_limit_nth(&cfg, &svc, i), FG_LIMIT_NONE);
}

static void test_limit_cost(void **state)
{
	struct fg_limit l = lim_src(NULL, 0);

	(void)state;
	l.unit = FG_LUNIT_PPS;
	assert_int_equal(fg_limit_cost(&l, 0, 1500), 1);
	assert_int_equal(fg_limit_cost(&l, 1, 64), 1);
	l.unit = FG_LUNIT_BPS;
	assert_int_equal(fg_limit_cost(&l, 0, 1500), 12000);
	assert_int_equal(fg_limit_cost(&l, 1, 64), 512);
	/* cps: SYNs only; anything else neither counts nor is refused. */
	l.unit = FG_LUNIT_CPS;
	assert_int_equal(fg_limit_cost(&l, 1, 1500), 1);
	assert_int_equal(fg_limit_cost(&l, 0, 1500), 0);
}

static void test_limit_refusal(void **state)
{
	struct fg_limit l = lim_src(NULL, 0);

	(void)state;
	l.action = FG_LACT_DROP;
	assert_int_equal(fg_limit_refusal(&l, FG_IPPROTO_TCP, FG_TCP_SYN),
			 FG_LIMIT_DROP);
	l.action = FG_LACT_RESET;
	assert_int_equal(fg_limit_refusal(&l, FG_IPPROTO_TCP, FG_TCP_SYN),
			 FG_LIMIT_RESET);
	assert_int_equal(fg_limit_refusal(&l, FG_IPPROTO_TCP, FG_TCP_ACK),
			 FG_LIMIT_RESET);
	/* Never a reset for a reset (RFC 9293), nor for UDP. */
	assert_int_equal(fg_limit_refusal(&l, FG_IPPROTO_TCP,
					  FG_TCP_RST | FG_TCP_ACK),
			 FG_LIMIT_DROP);
	assert_int_equal(fg_limit_refusal(&l, FG_IPPROTO_UDP, 0),
			 FG_LIMIT_DROP);
	/* Dry run counts, passes. */
	l.flags |= FG_LIM_F_DRY_RUN;
	assert_int_equal(fg_limit_refusal(&l, FG_IPPROTO_TCP, FG_TCP_SYN),
			 FG_LIMIT_PASS);
}

/* ---------------------------------------------------------- bucket key */

static void test_bucket_key_src_ip(void **state)
{
	struct fg_limit l = lim_src(NULL, 0);
	struct fg_flow_key k = key_of("2001:db8::5", "2001:db8::10", 999, 80, 6);
	struct fg_bucket_key bk, want;

	(void)state;
	l.key = FG_LKEY_SRC_IP;
	l.id = 12;
	memset(&bk, 0, sizeof(bk));
	fg_bucket_key_fill(&bk, &l, &k, 3);
	memset(&want, 0, sizeof(want));
	memcpy(want.addr, k.src, 16);
	want.limit_id = 12;
	want.family = FG_AF_INET6;
	assert_memory_equal(&bk, &want, sizeof(bk));

	/* Another port of the same source: the same bucket. */
	k.sport = htons(1000);
	k.dport = htons(443);
	memset(&bk, 0, sizeof(bk));
	fg_bucket_key_fill(&bk, &l, &k, 4);
	assert_memory_equal(&bk, &want, sizeof(bk));
}

static void test_bucket_key_prefix(void **state)
{
	struct fg_limit l = lim_src(NULL, 0);
	struct fg_flow_key k = key_of("198.18.3.201", "198.18.0.10", 9, 80, 17);
	struct fg_bucket_key bk, want;

	(void)state;
	l.key = FG_LKEY_SRC_PREFIX;
	l.prefix_len = 22;
	l.id = 5;
	memset(&bk, 0, sizeof(bk));
	fg_bucket_key_fill(&bk, &l, &k, 3);
	memset(&want, 0, sizeof(want));
	addr("198.18.0.0", want.addr);
	want.limit_id = 5;
	want.family = FG_AF_INET;
	assert_memory_equal(&bk, &want, sizeof(bk));

	/* IPv6 /56: word 1 cut at its 24th bit, words 2 and 3 gone. */
	k = key_of("2001:db8:aa:bbcc:1:2:3:4", "2001:db8::10", 9, 80, 6);
	l.prefix_len = 56;
	memset(&bk, 0, sizeof(bk));
	fg_bucket_key_fill(&bk, &l, &k, 3);
	memset(&want, 0, sizeof(want));
	addr("2001:db8:aa:bb00::", want.addr);
	want.limit_id = 5;
	want.family = FG_AF_INET6;
	assert_memory_equal(&bk, &want, sizeof(bk));
}

static void test_bucket_key_flow(void **state)
{
	struct fg_limit l = lim_src(NULL, 0);
	struct fg_flow_key k = key_of("198.18.0.7", "198.18.0.10", 4321, 80, 6);
	struct fg_bucket_key bk, want;

	(void)state;
	l.key = FG_LKEY_FLOW;
	l.id = 2;
	memset(&bk, 0, sizeof(bk));
	fg_bucket_key_fill(&bk, &l, &k, 3);
	memset(&want, 0, sizeof(want));
	memcpy(want.addr, k.src, 16);
	memcpy(want.dst, k.dst, 16);
	want.sport = htons(4321);
	want.dport = htons(80);
	want.proto = 6;
	want.limit_id = 2;
	want.family = FG_AF_INET;
	assert_memory_equal(&bk, &want, sizeof(bk));
}

static void test_bucket_key_service(void **state)
{
	struct fg_limit l = lim_src(NULL, 0);
	struct fg_flow_key a = key_of("198.18.0.7", "198.18.0.10", 1, 80, 6);
	struct fg_flow_key b = key_of("2001:db8::7", "2001:db8::10", 2, 443, 17);
	struct fg_bucket_key ka, kb, want;

	(void)state;
	l.key = FG_LKEY_SERVICE;
	l.id = 9;
	memset(&ka, 0, sizeof(ka));
	memset(&kb, 0, sizeof(kb));
	fg_bucket_key_fill(&ka, &l, &a, 33);
	fg_bucket_key_fill(&kb, &l, &b, 33);
	/* One bucket per (limit, service), whatever the packet. */
	memset(&want, 0, sizeof(want));
	want.dst[0] = 33;
	want.limit_id = 9;
	assert_memory_equal(&ka, &want, sizeof(ka));
	assert_memory_equal(&kb, &want, sizeof(kb));
	/* Another service: another bucket. */
	memset(&kb, 0, sizeof(kb));
	fg_bucket_key_fill(&kb, &l, &a, 34);
	assert_false(fg_bucket_key_eq(&ka, &kb));
}

/* ------------------------------------------------------ the path's checks */

static void test_verdict_parsed(void **state)
{
	struct fg_pkt pkt;

	(void)state;
	memset(&pkt, 0, sizeof(pkt));
	pkt.l4_proto = FG_IPPROTO_TCP;
	assert_int_equal(fg_verdict_parsed(FG_PARSE_OK, &pkt), FG_VERDICT_NEXT);
	pkt.l4_proto = FG_IPPROTO_UDP;
	assert_int_equal(fg_verdict_parsed(FG_PARSE_OK, &pkt), FG_VERDICT_NEXT);
	/* ICMP is the stack's, counted as for no service. */
	pkt.l4_proto = FG_IPPROTO_ICMP;
	assert_int_equal(fg_verdict_parsed(FG_PARSE_OK, &pkt),
			 FG_VERDICT(FG_ACT_PASS, FG_DROP_NO_SERVICE));
	/* ARP and such: passed, counted nowhere. */
	assert_int_equal(fg_verdict_parsed(FG_PARSE_NOT_IP, &pkt),
			 FG_VERDICT(FG_ACT_PASS, FG_REASON_NONE));
	assert_int_equal(fg_verdict_reason(fg_verdict_parsed(FG_PARSE_NOT_IP,
							     &pkt)),
			 FG_REASON_NONE);
	/* A legal chain longer than we walk is not ours to judge. */
	assert_int_equal(fg_verdict_parsed(FG_PARSE_ERR_IP6_EXT_DEPTH, &pkt),
			 FG_VERDICT(FG_ACT_PASS, FG_DROP_NO_SERVICE));
	/* Every other error drops as malformed, whatever L4 says. */
	pkt.l4_proto = FG_IPPROTO_TCP;
	for (int rc = FG_PARSE_ERR_ETH; rc < FG_PARSE_STATUS_MAX; rc++) {
		__u32 v = fg_verdict_parsed(rc, &pkt);

		if (rc == FG_PARSE_ERR_IP6_EXT_DEPTH)
			continue;
		assert_int_equal(fg_verdict_act(v), FG_ACT_DROP);
		assert_int_equal(fg_verdict_reason(v), FG_DROP_MALFORMED);
	}
}

static void test_verdict_vip(void **state)
{
	static struct fg_config cfg;
	struct fg_pkt pkt;
	__be32 vip[4];

	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	memset(&pkt, 0, sizeof(pkt));
	addr("198.18.0.10", vip);
	fg_vip_filter_add(&cfg, 1, vip); /* the inactive generation counts */
	memcpy(pkt.dst, vip, 16);
	assert_int_equal(fg_verdict_vip(&pkt, &cfg), FG_VERDICT_NEXT);
	/* An address whose filter bit is clear is the kernel's: the first
	 * of 198.18.0.11.. whose bit differs from the VIP's. */
	{
		int i;

		for (i = 11; i < 100; i++) {
			pkt.dst[0] = htonl(0xc6120000U | i);
			if (fg_vip_filter_bit(pkt.dst) != fg_vip_filter_bit(vip))
				break;
		}
		assert_true(i < 100);
		assert_int_equal(fg_verdict_vip(&pkt, &cfg),
				 FG_VERDICT(FG_ACT_PASS, FG_DROP_NO_SERVICE));
	}
	memset(&cfg, 0, sizeof(cfg));
	assert_int_equal(fg_verdict_vip(&pkt, &cfg),
			 FG_VERDICT(FG_ACT_PASS, FG_DROP_NO_SERVICE));
}

static void test_verdict_service_order(void **state)
{
	struct fg_svc svc;
	struct fg_pkt pkt;

	(void)state;
	memset(&svc, 0, sizeof(svc));
	memset(&pkt, 0, sizeof(pkt));
	assert_int_equal(fg_verdict_service(&pkt, &svc), FG_VERDICT_NEXT);
	assert_int_equal(fg_verdict_service(&pkt, NULL),
			 FG_VERDICT(FG_ACT_PASS, FG_DROP_NO_SERVICE));
	/* The service comes before the fragment: a fragment for no service
	 * is the stack's, one of a service's flow is dropped. */
	pkt.flags = FG_PKT_F_FRAG;
	assert_int_equal(fg_verdict_service(&pkt, NULL),
			 FG_VERDICT(FG_ACT_PASS, FG_DROP_NO_SERVICE));
	assert_int_equal(fg_verdict_service(&pkt, &svc),
			 FG_VERDICT(FG_ACT_DROP, FG_DROP_FRAGMENT));
}

static void test_verdict_backend_nat(void **state)
{
	struct fg_backend be;
	struct fg_pkt pkt;
	struct fg_ct ct;

	(void)state;
	memset(&pkt, 0, sizeof(pkt));
	pkt.l4_proto = FG_IPPROTO_TCP;
	pkt.tcp_flags = FG_TCP_SYN;
	assert_true(fg_pkt_is_syn(&pkt));
	pkt.tcp_flags = FG_TCP_SYN | FG_TCP_ACK;
	assert_false(fg_pkt_is_syn(&pkt));
	pkt.l4_proto = FG_IPPROTO_UDP;
	pkt.tcp_flags = FG_TCP_SYN;
	assert_false(fg_pkt_is_syn(&pkt));

	assert_int_equal(fg_verdict_backend(4, 1), FG_VERDICT_NEXT);
	assert_int_equal(fg_verdict_backend(FG_NO_BACKEND, 1),
			 FG_VERDICT(FG_ACT_DROP, FG_DROP_FLOOD_GUARD));
	assert_int_equal(fg_verdict_backend(FG_NO_BACKEND, 0),
			 FG_VERDICT(FG_ACT_DROP, FG_DROP_NO_BACKEND));

	memset(&be, 0, sizeof(be));
	memset(&ct, 0, sizeof(ct));
	pkt.family = FG_AF_INET;
	be.family = FG_AF_INET;
	assert_int_equal(fg_verdict_nat(&pkt, &be, &ct, 1), FG_VERDICT_NEXT);
	/* Mid-flow without NAT state: no source port to use. */
	assert_int_equal(fg_verdict_nat(&pkt, &be, &ct, 0),
			 FG_VERDICT(FG_ACT_DROP, FG_DROP_FLOOD_GUARD));
	ct.flags = FG_CT_F_NAT;
	assert_int_equal(fg_verdict_nat(&pkt, &be, &ct, 0), FG_VERDICT_NEXT);
	/* The other family cannot be reached by a rewrite. */
	be.family = FG_AF_INET6;
	assert_int_equal(fg_verdict_nat(&pkt, &be, &ct, 0),
			 FG_VERDICT(FG_ACT_DROP, FG_DROP_NO_BACKEND));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_match_src_v4),
		cmocka_unit_test(test_match_src_v6),
		cmocka_unit_test(test_match_proto_dport),
		cmocka_unit_test(test_limit_order),
		cmocka_unit_test(test_limit_cost),
		cmocka_unit_test(test_limit_refusal),
		cmocka_unit_test(test_bucket_key_src_ip),
		cmocka_unit_test(test_bucket_key_prefix),
		cmocka_unit_test(test_bucket_key_flow),
		cmocka_unit_test(test_bucket_key_service),
		cmocka_unit_test(test_verdict_parsed),
		cmocka_unit_test(test_verdict_vip),
		cmocka_unit_test(test_verdict_service_order),
		cmocka_unit_test(test_verdict_backend_nat),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
