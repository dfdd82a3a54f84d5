// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * test_dpdk_path.c - the DPDK packet path (fg_dpdk_path) on mbufs from a
 * --no-huge EAL, no ports: verdicts, output bytes and counter deltas for
 * every forward mode, limits, the flood guard, ARP/ND and neighbours,
 * the exception path, and every frame of the shared parse fixtures
 * (tests/fixtures/fixtures.h) whole and cut at every length.
 *
 * Expected frames are written by this test from the packet it sent (the
 * outer headers field by field, checksums with pktbuild's own sum), not
 * by the path's code. Skips (77) when the EAL cannot start.
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "fg_compile.h"
#include "fg_dpdk_path.h"
#include "fg_dpdk_rules.h"
#include "fg_flow.h"
#include "fg_parse.h"
#include "fg_verdict.h"
#include "fixtures.h"
#include "pktbuild.h"

/* ------------------------------------------------------------ set-up */

static const char t_rules[] =
"{\"services\": {"
" \"ipip4\": {\"vip\": \"198.18.0.10\", \"port\": 80, \"proto\": \"tcp\","
"  \"backends\": [{\"addr\": \"198.19.0.1\", \"port\": 80}]},"
" \"ipip4u\": {\"vip\": \"198.18.0.10\", \"port\": 53, \"proto\": \"udp\","
"  \"backends\": [{\"addr\": \"198.19.0.1\", \"port\": 53}]},"
" \"ipip6\": {\"vip\": \"2001:db8::10\", \"port\": 80, \"proto\": \"tcp\","
"  \"backends\": [{\"addr\": \"2001:db8:1::1\", \"port\": 80}]},"
" \"gue4\": {\"vip\": \"198.18.0.11\", \"port\": 80, \"proto\": \"tcp\","
"  \"forward\": \"dsr-gue\","
"  \"backends\": [{\"addr\": \"198.19.0.2\", \"port\": 80}]},"
" \"nat4\": {\"vip\": \"198.18.0.13\", \"port\": 80, \"proto\": \"tcp\","
"  \"forward\": \"nat\","
"  \"backends\": [{\"addr\": \"198.19.0.3\", \"port\": 8080}]},"
" \"nat6u\": {\"vip\": \"2001:db8::13\", \"port\": 53, \"proto\": \"udp\","
"  \"forward\": \"nat\","
"  \"backends\": [{\"addr\": \"2001:db8:1::3\", \"port\": 5353}]},"
" \"empty\": {\"vip\": \"198.18.0.14\", \"port\": 80, \"proto\": \"tcp\","
"  \"backends\": []},"
" \"noneigh\": {\"vip\": \"198.18.0.15\", \"port\": 80, \"proto\": \"tcp\","
"  \"backends\": [{\"addr\": \"198.19.0.9\", \"port\": 80}]},"
" \"lim\": {\"vip\": \"198.18.0.30\", \"port\": 80, \"proto\": \"tcp\","
"  \"backends\": [{\"addr\": \"198.19.0.1\", \"port\": 80}]},"
" \"rst\": {\"vip\": \"198.18.0.36\", \"port\": 80, \"proto\": \"tcp\","
"  \"backends\": [{\"addr\": \"198.19.0.1\", \"port\": 80}]},"
" \"fx4\": {\"vip\": \"198.18.210.2\", \"port\": 0, \"proto\": \"tcp\","
"  \"backends\": [{\"addr\": \"198.19.0.1\", \"port\": 80}]},"
" \"fx4u\": {\"vip\": \"198.18.210.2\", \"port\": 0, \"proto\": \"udp\","
"  \"backends\": [{\"addr\": \"198.19.0.1\", \"port\": 80}]},"
" \"fx6\": {\"vip\": \"2001:db8::ab02\", \"port\": 0, \"proto\": \"tcp\","
"  \"backends\": [{\"addr\": \"2001:db8:1::1\", \"port\": 80}]},"
" \"fx6u\": {\"vip\": \"2001:db8::ab02\", \"port\": 0, \"proto\": \"udp\","
"  \"backends\": [{\"addr\": \"2001:db8:1::1\", \"port\": 80}]}"
"},"
"\"limits\": {"
" \"pps1\": {\"service\": \"lim\", \"key\": \"src_ip\", \"unit\": \"pps\","
"  \"rate\": 1, \"burst\": 1, \"action\": \"drop\"},"
" \"rst1\": {\"service\": \"rst\", \"key\": \"src_ip\", \"unit\": \"pps\","
"  \"rate\": 1, \"burst\": 1, \"action\": \"reset\"}"
"}}";

static const uint8_t t_port_mac[6] = { 0x02, 0, 0, 0, 0, 0x01 };
static const uint8_t t_cli_mac[6]  = { 0x02, 0, 0, 0, 0, 0x64 };
static const uint8_t t_be_mac[6]   = { 0x02, 0, 0, 0, 0, 0x0b };
static const uint8_t t_gw_mac[6]   = { 0x02, 0, 0, 0, 0, 0x0a };

#define T_NOW0 1000000000000ULL /* 1000 s on the path's clock */

static struct rte_mempool *t_mp;
static struct fg_compiler *t_comp;
static struct fg_dp_settings t_set;
static struct fg_dp_tables *t_tab;
static struct fg_dp_buckets *t_bk;
static struct fg_dp_lcore *t_lc;
static uint64_t t_now = T_NOW0;

static __be32 t_ip4(const char *s)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1)
		abort();
	return a.s_addr;
}

static void t_ip6(const char *s, __be32 *out)
{
	if (inet_pton(AF_INET6, s, out) != 1)
		abort();
}

static void t_route(int family, const char *prefix, unsigned int len,
		    const char *gw)
{
	struct fg_dp_route *r = &t_set.route[t_set.nroutes++];

	memset(r, 0, sizeof(*r));
	r->family = (uint8_t)family;
	r->len = (uint8_t)len;
	if (family == FG_AF_INET) {
		r->prefix[0] = t_ip4(prefix);
		if (gw)
			r->gw[0] = t_ip4(gw);
	} else {
		t_ip6(prefix, r->prefix);
		if (gw)
			t_ip6(gw, r->gw);
	}
}

/* ---------------------------------------------------------- running */

/* The drop counters and the counters a case looks at, before a run. */
struct t_snap {
	uint64_t drops[FG_DROPS_STRIDE];
	struct fg_dp_port_counters port0;
};

static void t_snap_take(struct t_snap *s)
{
	const struct fg_dp_counters *c = fg_dp_lcore_counters(t_lc);

	memcpy(s->drops, c->drops, sizeof(s->drops));
	s->port0 = c->port[0];
}

/* t_drops_delta - since s, drop reason `reason` moved by n and no other
 * (reason FG_REASON_NONE: none moved). */
static void t_drops_delta(const struct t_snap *s, unsigned int reason,
			  uint64_t n, const char *what)
{
	const struct fg_dp_counters *c = fg_dp_lcore_counters(t_lc);
	unsigned int i;

	for (i = 0; i < FG_DROPS_STRIDE; i++) {
		uint64_t d = c->drops[i] - s->drops[i];
		uint64_t want = i == reason ? n : 0;

		if (d != want)
			fail_msg("%s: drop counter %s moved by %llu, want %llu", what,
				 fg_drop_reason_name(i), (unsigned long long)d,
				 (unsigned long long)want);
	}
}

/* t_run_on - one frame through lcore lc's path on port 0; its verdict,
 * and the frame after it in out (*out_len bytes). */
static uint32_t t_run_on(struct fg_dp_lcore *lc, const uint8_t *in,
			 uint32_t len, uint8_t *out, uint32_t *out_len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(t_mp);
	uint32_t v;

	assert_non_null(m);
	assert_true(len <= rte_pktmbuf_tailroom(m));
	if (len)
		assert_non_null(rte_pktmbuf_append(m, (uint16_t)len));
	memcpy(rte_pktmbuf_mtod(m, void *), in, len);
	fg_dp_burst(lc, t_tab, 0, &m, 1, t_now, &v);
	if (out_len) {
		*out_len = rte_pktmbuf_data_len(m);
		assert_true(*out_len <= 4096);
		assert_int_equal(m->nb_segs, 1);
		memcpy(out, rte_pktmbuf_mtod(m, void *), *out_len);
	}
	rte_pktmbuf_free(m);
	return v;
}

/* t_run - t_run_on the test's lcore. */
static uint32_t t_run(const uint8_t *in, uint32_t len, uint8_t *out,
		      uint32_t *out_len)
{
	return t_run_on(t_lc, in, len, out, out_len);
}

static void t_expect_verdict(uint32_t got, enum fg_dp_act act, uint32_t arg,
			     const char *what)
{
	if (fg_dp_act(got) != act || fg_dp_arg(got) != arg)
		fail_msg("%s: verdict %u/%u, want %u/%u", what, fg_dp_act(got),
			 fg_dp_arg(got), act, arg);
}

/* t_run_expect - one frame through the path, s taken just before it (the
 * caller may check other counters against s after): the verdict is
 * act/arg, and of the drop counters only `reason` moved, by one
 * (FG_REASON_NONE: none moved). The frame after it in out. */
static void t_run_expect(struct t_snap *s, const uint8_t *in, uint32_t len,
			 uint8_t *out, uint32_t *out_len, enum fg_dp_act act,
			 uint32_t arg, unsigned int reason, const char *what)
{
	t_snap_take(s);
	t_expect_verdict(t_run(in, len, out, out_len), act, arg, what);
	t_drops_delta(s, reason, reason == FG_REASON_NONE ? 0 : 1, what);
}

/* ------------------------------------------------------- frame makers */

/* Client packets: TCP (flags) or UDP from src:sport to dst:dport, with
 * payload bytes. Returns the frame length; *pb records the layout. */
static uint32_t t_pkt(uint8_t *buf, struct fg_pb *pb, int family, int tcp,
		      const char *src, uint16_t sport, const char *dst,
		      uint16_t dport, uint8_t flags, size_t payload,
		      const uint8_t *smac)
{
	int rc;

	fg_pb_init(pb, buf, 2048);
	fg_pb_eth(pb, t_port_mac, smac ? smac : t_cli_mac);
	if (family == FG_AF_INET) {
		struct fg_pb_ip4 ip = { .src = ntohl(t_ip4(src)),
					.dst = ntohl(t_ip4(dst)), .id = 7 };

		fg_pb_ip4(pb, &ip);
	} else {
		struct fg_pb_ip6 ip = { .flow = 5 };

		t_ip6(src, (void *)ip.src);
		t_ip6(dst, (void *)ip.dst);
		fg_pb_ip6(pb, &ip);
	}
	if (tcp) {
		struct fg_pb_tcp th = { .sport = sport, .dport = dport,
					.seq = 1000, .flags = flags,
					.ack = (flags & FG_TCP_ACK) ? 5000 : 0 };

		fg_pb_tcp(pb, &th);
	} else {
		fg_pb_udp(pb, sport, dport);
	}
	fg_pb_bytes(pb, NULL, payload);
	rc = fg_pb_finish(pb);
	assert_true(rc > 0);
	return (uint32_t)rc;
}

/* t_arp - an ARP frame (oper 1 or 2) from sha/spa about tpa. */
static uint32_t t_arp(uint8_t *buf, uint16_t oper, const uint8_t *sha,
		      const char *spa, const uint8_t *tha, const char *tpa)
{
	return fg_pb_arp(buf, oper, oper == 1 ? NULL : t_port_mac, sha, spa,
			 tha, tpa);
}

/* t_na - a neighbour advertisement from target at mac to one of ours. */
static uint32_t t_na(uint8_t *buf, const char *target, const uint8_t *mac,
		     const char *to)
{
	return fg_pb_nd(buf, 136, t_port_mac, mac, target, target, to, mac);
}

static void t_learn4(const char *ip, const uint8_t *mac)
{
	uint8_t f[64];
	uint32_t n = t_arp(f, 2, mac, ip, t_port_mac, "198.19.255.1");

	t_expect_verdict(t_run(f, n, NULL, NULL), FG_DP_NEIGH, 0, ip);
}

/* t_learn4_from - lc learns ip at mac from an ARP answer another lcore
 * received (fg_dp_learn), and says it wrote an entry. */
static void t_learn4_from(struct fg_dp_lcore *lc, const char *ip,
			  const uint8_t *mac)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(t_mp);
	uint8_t f[64];
	uint32_t n = t_arp(f, 2, mac, ip, t_port_mac, "198.19.255.1");

	assert_non_null(m);
	memcpy(rte_pktmbuf_append(m, (uint16_t)n), f, n);
	assert_int_equal(fg_dp_learn(lc, t_tab, 0, m, t_now), 1);
	rte_pktmbuf_free(m);
}

static void t_learn6(const char *ip, const uint8_t *mac)
{
	uint8_t f[96];
	uint32_t n = t_na(f, ip, mac, "2001:db8:ff::1");

	t_expect_verdict(t_run(f, n, NULL, NULL), FG_DP_NEIGH, 0, ip);
}

/* ------------------------------------------------- expected outputs */

/* t_ip4_hdr - an IPv4 header as the encapsulation must write it. */
static void t_ip4_hdr(uint8_t *h, uint16_t tot_len, uint8_t proto,
		      __be32 src, __be32 dst)
{
	memset(h, 0, 20);
	h[0] = 0x45;
	fg_pb_put_be16(h, 2, tot_len);
	h[8] = 64;
	h[9] = proto;
	memcpy(h + 12, &src, 4);
	memcpy(h + 16, &dst, 4);
	fg_pb_put_be16(h, 10, fg_pb_csum_fold(fg_pb_csum_add(0, h, 20)));
}

/* t_flow_hash - the flow hash of the parsed frame (flow label, GUE port). */
static uint64_t t_flow_hash(const uint8_t *f, uint32_t len)
{
	struct fg_flow_key k;
	struct fg_pkt p;

	assert_int_equal(fg_parse(f, f + len, &p), FG_PARSE_OK);
	fg_flow_key_from_pkt(&p, &k);
	return fg_flow_hash(&k, &t_set.seed);
}

/*
 * t_exp_encap - the frame a DSR service must send for input in (len
 * bytes, IP packet at l3): Ethernet to dmac from the port, the outer
 * header of the backend's family (GUE when gue_port), then the input's
 * IP packet and whatever followed it, as it was.
 */
static uint32_t t_exp_encap(uint8_t *out, const uint8_t *in, uint32_t len,
			    uint32_t l3, uint32_t l3_len, int be_family,
			    const char *be, uint16_t gue_port,
			    const uint8_t *dmac)
{
	uint32_t hash = (uint32_t)t_flow_hash(in, len), o = 14;
	uint8_t inner = in[l3] >> 4 == 4 ? 4 : 41;

	memcpy(out, dmac, 6);
	memcpy(out + 6, t_port_mac, 6);
	if (be_family == FG_AF_INET) {
		fg_pb_put_be16(out, 12, 0x0800);
		t_ip4_hdr(out + o, (uint16_t)(l3_len + 20 + (gue_port ? 8 : 0)),
			  gue_port ? 17 : inner, t_set.tunnel_src4, t_ip4(be));
		o += 20;
	} else {
		uint32_t w = 6U << 28 | (hash & 0xfffff);
		__be32 d[4];

		fg_pb_put_be16(out, 12, 0x86dd);
		fg_pb_put_be32(out, o, w);
		fg_pb_put_be16(out, o + 4, (uint16_t)(l3_len + (gue_port ? 8 : 0)));
		out[o + 6] = gue_port ? 17 : inner;
		out[o + 7] = 64;
		memcpy(out + o + 8, t_set.tunnel_src6, 16);
		t_ip6(be, d);
		memcpy(out + o + 24, d, 16);
		o += 40;
	}
	if (gue_port) {
		fg_pb_put_be16(out, o, (uint16_t)(0xc000 | ((hash >> 16) & 0x3fff)));
		fg_pb_put_be16(out, o + 2, gue_port);
		fg_pb_put_be16(out, o + 4, (uint16_t)(l3_len + 8));
		fg_pb_put_be16(out, o + 6, 0);
		o += 8;
	}
	memcpy(out + o, in + l3, len - l3);
	return o + len - l3;
}

static void t_bytes_equal(const uint8_t *got, uint32_t got_len,
			  const uint8_t *want, uint32_t want_len,
			  const char *what)
{
	uint32_t i;

	if (got_len != want_len)
		fail_msg("%s: %u bytes out, want %u", what, got_len, want_len);
	for (i = 0; i < got_len; i++)
		if (got[i] != want[i])
			fail_msg("%s: byte %u is %02x, want %02x", what, i, got[i],
				 want[i]);
}

/* t_l4_sum_ok - the frame's IPv4 header checksum and its TCP/UDP checksum
 * verify (a receiver's check, pseudo-header included). */
static void t_l4_sum_ok(const uint8_t *f, uint32_t len, const char *what)
{
	struct fg_pkt p;
	uint32_t sum = 0, l4len;
	uint8_t ph[4] = { 0 };

	assert_int_equal(fg_parse(f, f + len, &p), FG_PARSE_OK);
	if (p.family == FG_AF_INET) {
		if (fg_pb_csum_fold(fg_pb_csum_add(0, f + p.l3_off, 20)) != 0)
			fail_msg("%s: IPv4 header checksum", what);
		sum = fg_pb_csum_add(0, f + p.l3_off + 12, 8);
	} else {
		sum = fg_pb_csum_add(0, f + p.l3_off + 8, 32);
	}
	l4len = p.l3_off + p.l3_len - p.l4_off;
	ph[1] = p.l4_proto;
	ph[2] = (uint8_t)(l4len >> 8);
	ph[3] = (uint8_t)l4len;
	sum = fg_pb_csum_add(sum, ph, 4);
	sum = fg_pb_csum_add(sum, f + p.l4_off, l4len);
	if (fg_pb_csum_fold(sum) != 0)
		fail_msg("%s: L4 checksum", what);
}

/* ------------------------------------------------------------- tests */

static void test_arp_nd(void **state)
{
	uint8_t f[2048], o[4096];
	uint32_t n, ol;
	struct t_snap s;
	__be32 a;

	(void)state;
	/* A request for a VIP: answered in place from the port's MAC. */
	n = t_arp(f, 1, t_cli_mac, "198.18.0.200", (const uint8_t *)"\0\0\0\0\0\0",
		  "198.18.0.10");
	t_run_expect(&s, f, n, o, &ol, FG_DP_TX, 0, FG_REASON_NONE,
		     "arp for vip");
	assert_int_equal(ol, n);
	assert_memory_equal(o, t_cli_mac, 6);
	assert_memory_equal(o + 6, t_port_mac, 6);
	assert_int_equal(o[21], 2);
	assert_memory_equal(o + 22, t_port_mac, 6);
	a = t_ip4("198.18.0.10");
	assert_memory_equal(o + 28, &a, 4);
	assert_memory_equal(o + 32, t_cli_mac, 6);
	a = t_ip4("198.18.0.200");
	assert_memory_equal(o + 38, &a, 4);

	/* For the tunnel address too; for another address: the kernel's. */
	n = t_arp(f, 1, t_cli_mac, "198.18.0.200", (const uint8_t *)"\0\0\0\0\0\0",
		  "198.19.255.1");
	t_expect_verdict(t_run(f, n, o, &ol), FG_DP_TX, 0, "arp for tunnel");
	t_snap_take(&s);
	n = t_arp(f, 1, t_cli_mac, "198.18.0.200", (const uint8_t *)"\0\0\0\0\0\0",
		  "198.18.0.1");
	t_expect_verdict(t_run(f, n, o, &ol), FG_DP_EXCEPTION, 0, "arp other");
	t_bytes_equal(o, ol, f, n, "arp other untouched");
	assert_int_equal(fg_dp_lcore_counters(t_lc)->port[0].exception,
			 s.port0.exception + 1);
	/* Cut short: the kernel's, untouched. */
	t_expect_verdict(t_run(f, 30, o, &ol), FG_DP_EXCEPTION, 0, "arp short");

	/* A solicitation for the IPv6 SNAT address: a solicited advert. */
	{
		static const uint8_t ns_src[16] = { 0x20, 0x01, 0x0d, 0xb8,
						    [15] = 0x77 };
		__be32 tg[4];
		uint16_t c;

		memset(f, 0, 86);
		memcpy(f, "\x33\x33\xff\x00\x00\x02", 6);
		memcpy(f + 6, t_cli_mac, 6);
		f[12] = 0x86; f[13] = 0xdd; f[14] = 0x60; f[19] = 32;
		f[20] = 58; f[21] = 255;
		memcpy(f + 22, ns_src, 16);
		t_ip6("ff02::1:ff00:2", (void *)(f + 38));
		f[54] = 135;
		t_ip6("2001:db8:ff::2", tg);
		memcpy(f + 62, tg, 16);
		f[78] = 1; f[79] = 1;
		memcpy(f + 80, t_cli_mac, 6);
		c = fg_pb_icmp6_sum(f);
		fg_pb_put_be16(f, 56, c);
		t_expect_verdict(t_run(f, 86, o, &ol), FG_DP_TX, 0, "ns for snat6");
		assert_int_equal(ol, 86);
		assert_memory_equal(o, t_cli_mac, 6);
		assert_memory_equal(o + 22, tg, 16);
		assert_memory_equal(o + 38, ns_src, 16);
		assert_int_equal(o[54], 136);
		assert_int_equal(o[58], 0x60);
		assert_memory_equal(o + 62, tg, 16);
		assert_int_equal(o[78], 2);
		assert_memory_equal(o + 80, t_port_mac, 6);
		assert_int_equal(fg_pb_icmp6_sum(o), 0);
	}
}

static void test_no_neigh(void **state)
{
	uint8_t f[2048], o[4096];
	struct fg_pb pb;
	struct t_snap s;
	uint32_t n, ol;
	__be32 a;

	(void)state;
	n = t_pkt(f, &pb, FG_AF_INET, 1, "198.18.0.100", 40000, "198.18.0.15",
		  80, FG_TCP_SYN, 0, NULL);
	/* The first packet goes out as the ARP request for the backend. */
	t_run_expect(&s, f, n, o, &ol, FG_DP_TX, 0, FG_DROP_NO_NEIGH,
		     "no neigh 1");
	assert_int_equal(ol, 60);
	assert_memory_equal(o, "\xff\xff\xff\xff\xff\xff", 6);
	assert_memory_equal(o + 6, t_port_mac, 6);
	assert_int_equal(fg_pb_get_be16(o, 12), 0x0806);
	assert_int_equal(o[21], 1);
	a = t_set.tunnel_src4;
	assert_memory_equal(o + 28, &a, 4);
	a = t_ip4("198.19.0.9");
	assert_memory_equal(o + 38, &a, 4);
	/* The next, within the retry time: dropped, nothing asked. */
	t_run_expect(&s, f, n, o, &ol, FG_DP_DROP, FG_DROP_NO_NEIGH,
		     FG_DROP_NO_NEIGH, "no neigh 2");
	/* Answered: forwarded. */
	t_learn4("198.19.0.9", t_be_mac);
	t_run_expect(&s, f, n, o, &ol, FG_DP_TX, 0, FG_REASON_NONE,
		     "no neigh 3");
	assert_memory_equal(o, t_be_mac, 6);
}

/* t_resolve_walk - one whole fg_dp_resolve walk of t_tab for lc, 4 mbufs
 * a call; the requests' frames in out[] (each 96 bytes, length in
 * len[]). Returns how many were asked for. */
static unsigned int t_resolve_walk(struct fg_dp_lcore *lc, uint8_t out[][96],
				   uint32_t *len, unsigned int max)
{
	unsigned int got = 0, calls = 0;
	uint32_t cursor = 0;

	while (!fg_dp_resolve_done(t_tab, cursor)) {
		struct rte_mbuf *m[4];
		uint16_t port[4], k, used;

		assert_true(++calls <= 16);
		assert_int_equal(rte_pktmbuf_alloc_bulk(t_mp, m, 4), 0);
		used = fg_dp_resolve(lc, t_tab, &cursor, m, 4, port, t_now);
		for (k = 0; k < 4; k++) {
			if (k < used) {
				assert_int_equal(port[k], 0);
				assert_true(got < max);
				len[got] = rte_pktmbuf_data_len(m[k]);
				assert_true(len[got] <= 96);
				memcpy(out[got], rte_pktmbuf_mtod(m[k], void *),
				       len[got]);
				got++;
			}
			rte_pktmbuf_free(m[k]);
		}
	}
	return got;
}

/* t_asked - out[0..n) holds exactly one request for ip (ARP from the
 * IPv4 tunnel address, or a solicitation from the IPv6 one). */
static void t_asked(uint8_t out[][96], const uint32_t *len, unsigned int n,
		    const char *ip)
{
	unsigned int i, hits = 0;
	__be32 a[4] = { 0 };

	if (strchr(ip, ':'))
		t_ip6(ip, a);
	else
		a[0] = t_ip4(ip);
	for (i = 0; i < n; i++) {
		const uint8_t *o = out[i];

		if (fg_pb_get_be16(o, 12) == 0x0806) {
			__be32 src = t_set.tunnel_src4;

			assert_int_equal(len[i], 60);
			assert_memory_equal(o, "\xff\xff\xff\xff\xff\xff", 6);
			assert_memory_equal(o + 6, t_port_mac, 6);
			assert_int_equal(o[21], 1);
			assert_memory_equal(o + 28, &src, 4);
			if (!strchr(ip, ':') && !memcmp(o + 38, a, 4))
				hits++;
		} else {
			assert_int_equal(fg_pb_get_be16(o, 12), 0x86dd);
			assert_int_equal(len[i], 86);
			assert_int_equal(o[54], 135);
			assert_memory_equal(o + 22, t_set.tunnel_src6, 16);
			assert_int_equal(fg_pb_icmp6_sum(o), 0);
			if (strchr(ip, ':') && !memcmp(o + 62, a, 16))
				hits++;
		}
	}
	if (hits != 1)
		fail_msg("%s: asked for %u times, want once", ip, hits);
}

/*
 * The next hops of the tables' backends are asked for before a packet
 * needs them, each once however many backends share it, not again within
 * the retry time, and not once answered; the first packet toward an
 * answered next hop then goes out, no_neigh untouched. A fresh lcore, so
 * that test_learn's answers don't count.
 */
static void test_resolve(void **state)
{
	static const char *const hops[] = { "198.19.0.1", "198.19.0.2",
					    "198.19.0.3", "198.19.0.9",
					    "2001:db8:1::1", "2001:db8:1::3" };
	uint8_t out[16][96], f[2048];
	uint32_t len[16], n, v;
	uint64_t now0 = t_now;
	struct fg_dp_lcore *lc;
	struct rte_mbuf *m;
	struct fg_pb pb;
	unsigned int i, got;
	int e;

	(void)state;
	lc = fg_dp_lcore_new(&t_set, 0, t_bk, SOCKET_ID_ANY, &e);
	assert_non_null(lc);
	/* Fourteen backends, six distinct next hops kept with the tables. */
	assert_false(fg_dp_resolve_done(t_tab, FG_ARRAY_SIZE(hops) - 1));
	assert_true(fg_dp_resolve_done(t_tab, FG_ARRAY_SIZE(hops)));
	got = t_resolve_walk(lc, out, len, 16);
	assert_int_equal(got, FG_ARRAY_SIZE(hops));
	for (i = 0; i < FG_ARRAY_SIZE(hops); i++)
		t_asked(out, len, got, hops[i]);
	assert_int_equal(fg_dp_lcore_counters(lc)->port[0].arp_nd, got);
	assert_int_equal(fg_dp_lcore_counters(lc)->port[0].tx, got);
	/* A second walk at once (as for the next version): all asked
	 * already. */
	assert_int_equal(t_resolve_walk(lc, out, len, 16), 0);
	/* One answered; after the retry time the others only. */
	t_learn4_from(lc, "198.19.0.9", t_be_mac);
	t_now += 10ULL * 1000000000ULL;
	got = t_resolve_walk(lc, out, len, 16);
	assert_int_equal(got, FG_ARRAY_SIZE(hops) - 1);
	for (i = 0; i < FG_ARRAY_SIZE(hops); i++)
		if (strcmp(hops[i], "198.19.0.9"))
			t_asked(out, len, got, hops[i]);
	/* The first SYN toward 198.19.0.9 goes out encapsulated. */
	n = t_pkt(f, &pb, FG_AF_INET, 1, "198.18.0.101", 40000, "198.18.0.15",
		  80, FG_TCP_SYN, 0, NULL);
	m = rte_pktmbuf_alloc(t_mp);
	assert_non_null(m);
	memcpy(rte_pktmbuf_append(m, (uint16_t)n), f, n);
	fg_dp_burst(lc, t_tab, 0, &m, 1, t_now, &v);
	t_expect_verdict(v, FG_DP_TX, 0, "first syn after resolve");
	assert_memory_equal(rte_pktmbuf_mtod(m, uint8_t *), t_be_mac, 6);
	rte_pktmbuf_free(m);
	assert_int_equal(fg_dp_lcore_counters(lc)->drops[FG_DROP_NO_NEIGH], 0);
	fg_dp_lcore_free(lc);
	t_now = now0; /* the later cases run at the time they always did */
}

/*
 * Three workers: a new NAT flow takes a source port of the residue class
 * of the lcore that saw it (port % workers == its index), and the
 * backend's answer, wherever the NIC puts it, reaches that lcore: any
 * other hands it off untouched (counted), the owner rewrites it back to
 * VIP -> client. Twelve flows, four per lcore.
 */
static void test_handoff(void **state)
{
	struct fg_dp_settings s3 = t_set;
	struct fg_dp_lcore *lc[3];
	uint8_t f[2048], o[4096];
	uint32_t n, ol, v, k, j;
	struct fg_pb pb;
	__be32 a;
	int e;

	(void)state;
	s3.nworkers = 3;
	for (k = 0; k < 3; k++) {
		lc[k] = fg_dp_lcore_new(&s3, k, t_bk, SOCKET_ID_ANY, &e);
		assert_non_null(lc[k]);
		/* The backend and the gateway, answered on every lcore. */
		t_learn4_from(lc[k], "198.19.0.3", t_be_mac);
		t_learn4_from(lc[k], "198.18.0.1", t_gw_mac);
	}
	for (j = 0; j < 12; j++) {
		uint16_t sport = (uint16_t)(41000 + j), port;
		unsigned int own = j % 3, other = (j + 1) % 3;
		uint64_t before = fg_dp_lcore_counters(lc[other])->handoff;

		n = t_pkt(f, &pb, FG_AF_INET, 1, "198.18.0.120", sport,
			  "198.18.0.13", 80, FG_TCP_SYN, 0, NULL);
		t_expect_verdict(t_run_on(lc[own], f, n, o, &ol), FG_DP_TX, 0,
				 "handoff: forward");
		port = fg_pb_get_be16(o, 34);
		if (port % 3 != own)
			fail_msg("flow %u on lcore %u took port %u", j, own, port);
		n = t_pkt(f, &pb, FG_AF_INET, 1, "198.19.0.3", 8080,
			  "198.19.255.2", port, FG_TCP_SYN | FG_TCP_ACK, 0,
			  t_be_mac);
		v = t_run_on(lc[other], f, n, o, &ol);
		t_expect_verdict(v, FG_DP_HANDOFF, own, "handoff: elsewhere");
		assert_int_equal(ol, n);
		assert_memory_equal(o, f, n);
		assert_int_equal(fg_dp_lcore_counters(lc[other])->handoff,
				 before + 1);
		t_expect_verdict(t_run_on(lc[own], f, n, o, &ol), FG_DP_TX, 0,
				 "handoff: at the owner");
		a = t_ip4("198.18.0.13");
		assert_memory_equal(o + 26, &a, 4);
		a = t_ip4("198.18.0.120");
		assert_memory_equal(o + 30, &a, 4);
		assert_int_equal(fg_pb_get_be16(o, 36), sport);
		t_l4_sum_ok(o, ol, "handoff: at the owner");
	}
	for (k = 0; k < 3; k++)
		fg_dp_lcore_free(lc[k]);
}

/* One DSR case: a packet to a service must leave encapsulated. */
static void t_dsr(int family, int tcp, const char *src, const char *vip,
		  uint16_t dport, int be_family, const char *be,
		  uint16_t gue_port, const char *what)
{
	uint8_t f[2048], o[4096], e[4096];
	struct fg_pb pb;
	struct t_snap s;
	uint32_t n, ol, el;

	n = t_pkt(f, &pb, family, tcp, src, 40001, vip, dport,
		  tcp ? FG_TCP_SYN : 0, 20, NULL);
	t_run_expect(&s, f, n, o, &ol, FG_DP_TX, 0, FG_REASON_NONE, what);
	el = t_exp_encap(e, f, n, (uint32_t)pb.l3_off, (uint32_t)(n - pb.l3_off),
			 be_family, be, gue_port, t_be_mac);
	t_bytes_equal(o, ol, e, el, what);
	assert_int_equal(fg_dp_lcore_counters(t_lc)->port[0].tx, s.port0.tx + 1);
	/* The flow's next packet: from the connection table, same bytes. */
	n = t_pkt(f, &pb, family, tcp, src, 40001, vip, dport,
		  tcp ? FG_TCP_ACK : 0, 20, NULL);
	el = t_exp_encap(e, f, n, (uint32_t)pb.l3_off, (uint32_t)(n - pb.l3_off),
			 be_family, be, gue_port, t_be_mac);
	t_expect_verdict(t_run(f, n, o, &ol), FG_DP_TX, 0, what);
	t_bytes_equal(o, ol, e, el, what);
}

static void test_dsr(void **state)
{
	(void)state;
	t_dsr(FG_AF_INET, 1, "198.18.0.100", "198.18.0.10", 80, FG_AF_INET,
	      "198.19.0.1", 0, "ipip v4 tcp");
	t_dsr(FG_AF_INET, 0, "198.18.0.100", "198.18.0.10", 53, FG_AF_INET,
	      "198.19.0.1", 0, "ipip v4 udp");
	t_dsr(FG_AF_INET6, 1, "2001:db8::100", "2001:db8::10", 80, FG_AF_INET6,
	      "2001:db8:1::1", 0, "ip6ip6 tcp");
	t_dsr(FG_AF_INET, 1, "198.18.0.100", "198.18.0.11", 80, FG_AF_INET,
	      "198.19.0.2", 6080, "gue v4");
}

/*
 * t_too_big - a DF packet (TCP, payload bytes) from client to the DSR
 * service at vip, too big for the 1500-byte port once encapsulated
 * (outer bytes): answered to the client through the gateway with ICMP
 * "fragmentation needed" / ICMPv6 "packet too big" reporting 1500 -
 * outer and quoting the packet's first 256 bytes, byte for byte what the
 * XDP program sends (tests/bpf/test_xdp.c fg_t_too_big).
 */
static void t_too_big(int family, const char *client, const char *vip,
		      uint16_t sport, size_t payload, uint32_t outer,
		      const char *what)
{
	uint8_t f[2048], o[4096], e[2048];
	uint32_t n, ol, mtu = 1500 - outer, quote;
	struct fg_pb pb, eb;
	int len;

	fg_pb_init(&pb, f, sizeof(f));
	fg_pb_eth(&pb, t_port_mac, t_cli_mac);
	fg_pb_init(&eb, e, sizeof(e));
	fg_pb_eth(&eb, t_gw_mac, t_port_mac);
	if (family == FG_AF_INET) {
		struct fg_pb_ip4 ip = { .src = ntohl(t_ip4(client)),
					.dst = ntohl(t_ip4(vip)), .id = 7,
					.frag_off = 0x4000 };
		struct fg_pb_ip4 ans = { .src = ntohl(t_ip4(vip)),
					 .dst = ntohl(t_ip4(client)) };

		fg_pb_ip4(&pb, &ip);
		fg_pb_ip4(&eb, &ans);
		fg_pb_icmp(&eb, 3, 4, 0, (uint16_t)mtu);
	} else {
		struct fg_pb_ip6 ip = { .flow = 5 }, ans = { 0 };

		t_ip6(client, (void *)ip.src);
		t_ip6(vip, (void *)ip.dst);
		t_ip6(vip, (void *)ans.src);
		t_ip6(client, (void *)ans.dst);
		fg_pb_ip6(&pb, &ip);
		fg_pb_ip6(&eb, &ans);
		fg_pb_icmp(&eb, 2, 0, (uint16_t)(mtu >> 16), (uint16_t)mtu);
	}
	{
		struct fg_pb_tcp th = { .sport = sport, .dport = 80,
					.seq = 1000, .ack = 5000,
					.flags = FG_TCP_ACK };

		fg_pb_tcp(&pb, &th);
	}
	fg_pb_bytes(&pb, NULL, payload);
	len = fg_pb_finish(&pb);
	assert_true(len > 0);
	n = (uint32_t)len;
	quote = n - 14 < 256 ? n - 14 : 256;
	fg_pb_bytes(&eb, f + 14, quote);
	len = fg_pb_finish(&eb);
	assert_true(len > 0);
	t_expect_verdict(t_run(f, n, o, &ol), FG_DP_TX, 0, what);
	assert_int_equal(ol, (uint32_t)len);
	assert_memory_equal(o, e, ol);
}

static void test_too_big(void **state)
{
	uint8_t f[2048], o[4096];
	struct fg_pb pb;
	struct t_snap s;
	uint32_t n, ol;

	(void)state;
	/* 20 + 20 + 1460 = 1500 bytes, 1520 in IPIP. */
	t_too_big(FG_AF_INET, "198.18.0.100", "198.18.0.10", 44100, 1460, 20,
		  "ipv4 too big");
	/* 40 + 20 + 1440 = 1500 bytes, 1540 in ip6ip6. */
	t_too_big(FG_AF_INET6, "2001:db8::100", "2001:db8::10", 44103, 1440,
		  40, "ipv6 too big");
	/* Without DF: dropped, no_route, as the XDP program does. */
	n = t_pkt(f, &pb, FG_AF_INET, 1, "198.18.0.100", 44101, "198.18.0.10",
		  80, FG_TCP_ACK, 1460, NULL);
	t_run_expect(&s, f, n, o, &ol, FG_DP_DROP, FG_DROP_NO_ROUTE,
		     FG_DROP_NO_ROUTE, "ipv4 too big without DF");
	/* One byte under: encapsulated as usual. */
	n = t_pkt(f, &pb, FG_AF_INET, 1, "198.18.0.100", 44102, "198.18.0.10",
		  80, FG_TCP_ACK, 1440, NULL);
	t_expect_verdict(t_run(f, n, o, &ol), FG_DP_TX, 0, "ipv4 fits");
	assert_int_equal(ol, n + 20);
}

static void test_nat(void **state)
{
	uint8_t f[2048], o[4096], r[4096];
	struct fg_pb pb;
	struct t_snap s;
	uint32_t n, ol, rl;
	uint16_t nat_port;
	__be32 a;

	(void)state;
	/* Forward: client -> VIP becomes SNAT -> backend:8080. */
	n = t_pkt(f, &pb, FG_AF_INET, 1, "198.18.0.100", 40002, "198.18.0.13",
		  80, FG_TCP_SYN, 0, NULL);
	t_run_expect(&s, f, n, o, &ol, FG_DP_TX, 0, FG_REASON_NONE,
		     "nat forward");
	assert_int_equal(ol, n);
	assert_memory_equal(o, t_be_mac, 6);
	assert_memory_equal(o + 6, t_port_mac, 6);
	a = t_set.snat4;
	assert_memory_equal(o + 26, &a, 4);
	a = t_ip4("198.19.0.3");
	assert_memory_equal(o + 30, &a, 4);
	nat_port = fg_pb_get_be16(o, 34);
	assert_true(nat_port >= 1024);
	assert_int_equal(fg_pb_get_be16(o, 36), 8080);
	/* Everything but addresses, ports and checksums as it came:
	 * sequence numbers, offset, flags, window (TCP at 34, its checksum
	 * at 50). */
	assert_memory_equal(o + 38, f + 38, 12);
	assert_memory_equal(o + 52, f + 52, n - 52);
	t_l4_sum_ok(o, ol, "nat forward");

	/* Reverse: the backend's SYN-ACK to the SNAT port becomes VIP ->
	 * client, routed to the client side through the gateway. */
	n = t_pkt(r, &pb, FG_AF_INET, 1, "198.19.0.3", 8080, "198.19.255.2",
		  nat_port, FG_TCP_SYN | FG_TCP_ACK, 10, t_be_mac);
	t_run_expect(&s, r, n, o, &rl, FG_DP_TX, 0, FG_REASON_NONE,
		     "nat reverse");
	assert_memory_equal(o, t_gw_mac, 6);
	a = t_ip4("198.18.0.13");
	assert_memory_equal(o + 26, &a, 4);
	a = t_ip4("198.18.0.100");
	assert_memory_equal(o + 30, &a, 4);
	assert_int_equal(fg_pb_get_be16(o, 34), 80);
	assert_int_equal(fg_pb_get_be16(o, 36), 40002);
	t_l4_sum_ok(o, rl, "nat reverse");

	/* The client's ACK: the same port (the flow is promoted). */
	n = t_pkt(f, &pb, FG_AF_INET, 1, "198.18.0.100", 40002, "198.18.0.13",
		  80, FG_TCP_ACK, 0, NULL);
	t_expect_verdict(t_run(f, n, o, &ol), FG_DP_TX, 0, "nat ack");
	assert_int_equal(fg_pb_get_be16(o, 34), nat_port);
	t_l4_sum_ok(o, ol, "nat ack");
	/* A reverse packet for a port nobody holds: no service, the kernel's. */
	n = t_pkt(r, &pb, FG_AF_INET, 1, "198.19.0.3", 8080, "198.19.255.2",
		  (uint16_t)(nat_port ^ 1), FG_TCP_ACK, 0, t_be_mac);
	t_run_expect(&s, r, n, o, &rl, FG_DP_EXCEPTION, 0, FG_DROP_NO_SERVICE,
		     "nat stray");

	/* IPv6 UDP both ways. */
	n = t_pkt(f, &pb, FG_AF_INET6, 0, "2001:db8::100", 40003, "2001:db8::13",
		  53, 0, 12, NULL);
	t_expect_verdict(t_run(f, n, o, &ol), FG_DP_TX, 0, "nat6 forward");
	t_l4_sum_ok(o, ol, "nat6 forward");
	nat_port = fg_pb_get_be16(o, 14 + 40);
	assert_int_equal(fg_pb_get_be16(o, 14 + 42), 5353);
	n = t_pkt(r, &pb, FG_AF_INET6, 0, "2001:db8:1::3", 5353, "2001:db8:ff::2",
		  nat_port, 0, 12, t_be_mac);
	t_expect_verdict(t_run(r, n, o, &rl), FG_DP_TX, 0, "nat6 reverse");
	t_l4_sum_ok(o, rl, "nat6 reverse");
	assert_int_equal(fg_pb_get_be16(o, 14 + 40), 53);
	assert_int_equal(fg_pb_get_be16(o, 14 + 42), 40003);
}

static void test_limits(void **state)
{
	uint8_t f[2048], o[4096];
	struct fg_pb pb;
	struct t_snap s;
	uint32_t n, ol;
	int id;

	(void)state;
	id = fg_compiler_limit_id(t_comp, "pps1");
	assert_true(id >= 0);
	n = t_pkt(f, &pb, FG_AF_INET, 1, "198.18.0.101", 40004, "198.18.0.30",
		  80, FG_TCP_SYN, 0, NULL);
	t_expect_verdict(t_run(f, n, o, &ol), FG_DP_TX, 0, "limit first");
	t_run_expect(&s, f, n, o, &ol, FG_DP_DROP, FG_DROP_LIMITED,
		     FG_DROP_LIMITED, "limit second");
	assert_int_equal(fg_dp_lcore_counters(t_lc)->limit[id].limited, 1);
	assert_int_equal(fg_dp_lcore_counters(t_lc)->limit[id].passed, 1);

	/* Reset: the second SYN is answered RST|ACK from the VIP. */
	n = t_pkt(f, &pb, FG_AF_INET, 1, "198.18.0.101", 40005, "198.18.0.36",
		  80, FG_TCP_SYN, 0, NULL);
	t_expect_verdict(t_run(f, n, o, &ol), FG_DP_TX, 0, "reset first");
	t_run_expect(&s, f, n, o, &ol, FG_DP_TX, 0, FG_DROP_LIMITED,
		     "reset second");
	assert_int_equal(ol, 54);
	assert_memory_equal(o, t_cli_mac, 6);
	assert_memory_equal(o + 6, t_port_mac, 6);
	assert_memory_equal(o + 26, f + 30, 4);
	assert_memory_equal(o + 30, f + 26, 4);
	assert_int_equal(fg_pb_get_be16(o, 34), 80);
	assert_int_equal(fg_pb_get_be16(o, 36), 40005);
	assert_int_equal(o[47], FG_TCP_RST | FG_TCP_ACK);
	/* seq 0, ack = the SYN's sequence + 1 */
	assert_int_equal(fg_pb_get_be16(o, 38) << 16 | fg_pb_get_be16(o, 40), 0);
	assert_int_equal(fg_pb_get_be16(o, 42) << 16 | fg_pb_get_be16(o, 44), 1001);
	t_l4_sum_ok(o, ol, "reset");
}

static void test_flood_guard(void **state)
{
	uint8_t f[2048], o[4096];
	struct fg_pb pb;
	struct t_snap s;
	uint32_t n, ol;

	(void)state;
	n = t_pkt(f, &pb, FG_AF_INET, 1, "198.18.0.102", 40006, "198.18.0.14",
		  80, FG_TCP_SYN, 0, NULL);
	t_run_expect(&s, f, n, o, &ol, FG_DP_DROP, FG_DROP_FLOOD_GUARD,
		     FG_DROP_FLOOD_GUARD, "syn no backend");
	n = t_pkt(f, &pb, FG_AF_INET, 1, "198.18.0.102", 40006, "198.18.0.14",
		  80, FG_TCP_ACK, 0, NULL);
	t_run_expect(&s, f, n, o, &ol, FG_DP_DROP, FG_DROP_NO_BACKEND,
		     FG_DROP_NO_BACKEND, "ack no backend");
}

static void test_exception(void **state)
{
	uint8_t f[2048], o[4096];
	struct fg_pb pb;
	struct t_snap s;
	uint32_t n, ol;

	(void)state;
	/* To no VIP: untouched to the exception port, counted no_service. */
	n = t_pkt(f, &pb, FG_AF_INET, 1, "198.18.0.103", 22222, "198.18.0.250",
		  22, FG_TCP_SYN, 8, NULL);
	t_run_expect(&s, f, n, o, &ol, FG_DP_EXCEPTION, 0, FG_DROP_NO_SERVICE,
		     "non-vip");
	t_bytes_equal(o, ol, f, n, "non-vip untouched");
	/* To a VIP on a port it does not serve: the same. */
	n = t_pkt(f, &pb, FG_AF_INET, 1, "198.18.0.103", 22222, "198.18.0.10",
		  22, FG_TCP_SYN, 8, NULL);
	t_run_expect(&s, f, n, o, &ol, FG_DP_EXCEPTION, 0, FG_DROP_NO_SERVICE,
		     "vip port 22");
	t_bytes_equal(o, ol, f, n, "vip port 22 untouched");
}

/* t_fx_expect - what the path must do with a frame fg_parse() judges
 * (rc, p): the XDP program's verdict for it with services at the
 * fixtures' destinations (fg_verdict.h's table, written out here). */
static void t_fx_expect(int rc, const struct fg_pkt *p, enum fg_dp_act *act,
			uint32_t *arg, unsigned int *reason)
{
	*reason = FG_REASON_NONE;
	*arg = 0;
	if (rc == FG_PARSE_NOT_IP) {
		*act = FG_DP_EXCEPTION;
	} else if (rc == FG_PARSE_ERR_IP6_EXT_DEPTH) {
		*act = FG_DP_EXCEPTION;
		*reason = FG_DROP_NO_SERVICE;
	} else if (rc != FG_PARSE_OK) {
		*act = FG_DP_DROP;
		*arg = *reason = FG_DROP_MALFORMED;
	} else if (p->l4_proto != FG_IPPROTO_TCP && p->l4_proto != FG_IPPROTO_UDP) {
		*act = FG_DP_EXCEPTION;
		*reason = FG_DROP_NO_SERVICE;
	} else if (p->flags & FG_PKT_F_FRAG) {
		*act = FG_DP_DROP;
		*arg = *reason = FG_DROP_FRAGMENT;
	} else {
		*act = FG_DP_TX;
	}
}

/* t_fx_one - frame f (len bytes) through the path: never a crash, the
 * verdict and counters its parse calls for, and a forwarded frame that is
 * exactly its IP packet behind the outer header. Returns 1 when it was
 * forwarded. */
static int t_fx_one(const char *desc, const uint8_t *f, uint32_t len,
		    unsigned int cut)
{
	static uint8_t o[4096], e[4096];
	enum fg_dp_act act;
	unsigned int reason;
	uint32_t arg, ol, el;
	struct fg_pkt p;
	struct t_snap s;
	char what[160];
	int rc;

	snprintf(what, sizeof(what), "fixture \"%s\" cut to %u", desc, cut);
	rc = fg_parse(f, f + len, &p);
	t_fx_expect(rc, &p, &act, &arg, &reason);
	t_run_expect(&s, f, len, o, &ol, act, arg, reason, what);
	if (act == FG_DP_EXCEPTION)
		t_bytes_equal(o, ol, f, len, what);
	if (act != FG_DP_TX)
		return 0;
	el = t_exp_encap(e, f, len, p.l3_off, p.l3_len, p.family,
			 p.family == FG_AF_INET ? "198.19.0.1" : "2001:db8:1::1",
			 0, t_be_mac);
	t_bytes_equal(o, ol, e, el, what);
	return 1;
}

static void test_fixtures(void **state)
{
	const struct fg_pkt_fixture *fx;
	unsigned int count, i, cut, fwd = 0, frames = 0;

	(void)state;
	fx = fg_pkt_fixtures_get(&count);
	assert_true(count > 0);
	for (i = 0; i < count; i++) {
		/* The whole frame: the fixture's own status is the oracle. */
		struct fg_pkt p;

		assert_int_equal(fg_parse(fx[i].bytes, fx[i].bytes + fx[i].len, &p),
				 fx[i].status);
		fwd += (unsigned int)t_fx_one(fx[i].desc, fx[i].bytes, fx[i].len,
					      fx[i].len);
		frames++;
		/* Cut at every length. */
		for (cut = 0; cut < fx[i].len; cut++) {
			t_fx_one(fx[i].desc, fx[i].bytes, cut, cut);
			frames++;
		}
	}
	print_message("%u fixtures, %u frames with every cut, %u fixtures forwarded\n",
		      count, frames, fwd);
	assert_true(fwd > 0);
}

/* Every fixture with bytes flipped at random (a fixed seed, so a failure
 * repeats): never a crash, and what is forwarded is exactly the frame's
 * own IP packet behind the outer header, of a frame that parses. */
static void test_mutations(void **state)
{
	static uint8_t f[FG_FIXTURE_MAX_LEN], o[4096], e[4096];
	const struct fg_pkt_fixture *fx;
	unsigned int count, i, k, fwd = 0, frames = 0;
	uint64_t seed = 0x9e3779b97f4a7c15ULL;

	(void)state;
	fx = fg_pkt_fixtures_get(&count);
	for (i = 0; i < count; i++) {
		if (!fx[i].len)
			continue;
		for (k = 0; k < 200; k++) {
			unsigned int flips = 1 + (unsigned int)(seed >> 60) % 3, j;
			uint32_t v, ol, el;
			struct fg_pkt p;
			char what[160];

			memcpy(f, fx[i].bytes, fx[i].len);
			for (j = 0; j < flips; j++) {
				seed ^= seed << 13;
				seed ^= seed >> 7;
				seed ^= seed << 17;
				f[(seed >> 8) % fx[i].len] ^= (uint8_t)(1U << (seed & 7));
			}
			snprintf(what, sizeof(what), "fixture \"%s\" mutation %u",
				 fx[i].desc, k);
			v = t_run(f, fx[i].len, o, &ol);
			frames++;
			if (fg_dp_act(v) != FG_DP_TX)
				continue;
			if (fg_parse(f, f + fx[i].len, &p) != FG_PARSE_OK)
				fail_msg("%s: forwarded a frame that does not parse", what);
			el = t_exp_encap(e, f, fx[i].len, p.l3_off, p.l3_len, p.family,
					 p.family == FG_AF_INET ? "198.19.0.1" :
					 "2001:db8:1::1", 0, t_be_mac);
			t_bytes_equal(o, ol, e, el, what);
			fwd++;
		}
	}
	print_message("%u mutated frames, %u forwarded\n", frames, fwd);
	assert_true(fwd > 0);
}

/* ------------------------------------------------------------ bursts */

/*
 * A burst must come out as its frames one at a time would: fg_dp_burst
 * runs the first stage of later frames before the second stage of
 * earlier ones, and prefetches in between, and none of that may show. Two
 * fresh lcores with buckets of their own see one stream: lcore a frame
 * by frame, lcore b in bursts of varied sizes at the same clock; every
 * verdict, every output byte, and at the end every counter and the
 * flows held must agree. The stream mixes flows of every forward mode
 * (SYNs, ACKs, resets, the same flow twice in a burst), limits, NAT
 * return traffic made from lcore a's own output, ARP and ND answers
 * among packets to the next hops they name, exceptions, and the parse
 * fixtures cut and mutated.
 */
#define T_B_FRAMES 1200U
#define T_B_OUT 4096U

struct t_bframe {
	uint8_t in[FG_FIXTURE_MAX_LEN];
	uint8_t out[T_B_OUT];
	uint32_t len, out_len, v;
};

static struct t_bstate {
	struct fg_dp_buckets *bk[2];
	struct fg_dp_lcore *lc[2];
	struct t_bframe *f;        /* T_B_FRAMES */
	uint64_t rng;
	unsigned int answers;      /* NAT answers in the stream */
} t_b;

static int t_b_setup(void **state)
{
	unsigned int i;
	int e;

	(void)state;
	memset(&t_b, 0, sizeof(t_b));
	t_b.f = calloc(T_B_FRAMES, sizeof(*t_b.f));
	if (!t_b.f)
		return -1;
	for (i = 0; i < 2; i++) {
		t_b.bk[i] = fg_dp_buckets_new(&t_set, SOCKET_ID_ANY);
		if (!t_b.bk[i])
			return -1;
		t_b.lc[i] = fg_dp_lcore_new(&t_set, 0, t_b.bk[i], SOCKET_ID_ANY, &e);
		if (!t_b.lc[i])
			return -1;
	}
	t_b.rng = 0x2545f4914f6cdd1dULL;
	return 0;
}

static int t_b_teardown(void **state)
{
	unsigned int i;

	(void)state;
	for (i = 0; i < 2; i++) {
		fg_dp_lcore_free(t_b.lc[i]);
		fg_dp_buckets_free(t_b.bk[i]);
	}
	free(t_b.f);
	memset(&t_b, 0, sizeof(t_b));
	return 0;
}

static uint32_t t_b_rand(void)
{
	t_b.rng ^= t_b.rng << 13;
	t_b.rng ^= t_b.rng >> 7;
	t_b.rng ^= t_b.rng << 17;
	return (uint32_t)(t_b.rng >> 16);
}

/* t_b_burst - frames [first, first + n) through lc in one call at now;
 * their verdicts and output frames into f. */
static void t_b_burst(struct fg_dp_lcore *lc, struct t_bframe *f,
		      unsigned int n, uint64_t now)
{
	struct rte_mbuf *m[64];
	uint32_t v[64];
	unsigned int i;

	assert_true(n <= 64);
	for (i = 0; i < n; i++) {
		m[i] = rte_pktmbuf_alloc(t_mp);
		assert_non_null(m[i]);
		if (f[i].len)
			assert_non_null(rte_pktmbuf_append(m[i], (uint16_t)f[i].len));
		memcpy(rte_pktmbuf_mtod(m[i], void *), f[i].in, f[i].len);
	}
	fg_dp_burst(lc, t_tab, 0, m, (uint16_t)n, now, v);
	for (i = 0; i < n; i++) {
		f[i].v = v[i];
		f[i].out_len = rte_pktmbuf_data_len(m[i]);
		assert_int_equal(m[i]->nb_segs, 1);
		assert_true(f[i].out_len <= T_B_OUT);
		memcpy(f[i].out, rte_pktmbuf_mtod(m[i], void *), f[i].out_len);
		rte_pktmbuf_free(m[i]);
	}
}

/* t_b_reverse - into f, the answer of the backend to the NAT forward
 * output o (ol bytes): addresses, ports and MACs swapped, which keeps
 * every checksum right. Returns 0 when o is no NAT output. */
static uint32_t t_b_reverse(uint8_t *f, const uint8_t *o, uint32_t ol)
{
	struct fg_pkt p;
	uint8_t tmp[16];
	uint32_t alen;

	if (fg_parse(o, o + ol, &p) != FG_PARSE_OK || !(p.flags & FG_PKT_F_L4) ||
	    p.l3_off != 14)
		return 0;
	memcpy(f, o, ol);
	memcpy(f, t_port_mac, 6);
	memcpy(f + 6, o, 6);
	alen = p.family == FG_AF_INET ? 4 : 16;
	{
		uint32_t so = p.family == FG_AF_INET ? 14 + 12 : 14 + 8;

		memcpy(tmp, f + so, alen);
		memmove(f + so, f + so + alen, alen);
		memcpy(f + so + alen, tmp, alen);
	}
	memcpy(tmp, f + p.l4_off, 2);
	memmove(f + p.l4_off, f + p.l4_off + 2, 2);
	memcpy(f + p.l4_off + 2, tmp, 2);
	return ol;
}

/* t_b_make - frame j of the stream into f->in (lcore a has run the
 * frames before it: NAT answers are made from its output). */
static void t_b_make(unsigned int j)
{
	static const char *const vip4[] = { "198.18.0.10", "198.18.0.11",
		"198.18.0.13", "198.18.0.30", "198.18.0.36", "198.18.0.14",
		"198.18.0.15", "198.18.0.250" };
	static const uint8_t flags[] = { FG_TCP_SYN, FG_TCP_ACK,
		FG_TCP_ACK | FG_TCP_PSH, FG_TCP_FIN | FG_TCP_ACK, FG_TCP_RST,
		FG_TCP_SYN };
	struct t_bframe *f = &t_b.f[j];
	const struct fg_pkt_fixture *fx;
	unsigned int count, kind = t_b_rand() % 16, k;
	uint32_t r = t_b_rand();
	char src[64];
	struct fg_pb pb;

	/* Fixed openers: a packet to a next hop not yet known, then the
	 * answer that names it, in one burst; the same for IPv6. */
	if (j < 4) {
		switch (j) {
		case 0:
			f->len = t_pkt(f->in, &pb, FG_AF_INET, 1, "198.18.128.1",
				       5000, "198.18.0.15", 80, FG_TCP_SYN, 0, NULL);
			break;
		case 1:
			f->len = t_arp(f->in, 2, t_be_mac, "198.19.0.9", t_port_mac,
				       "198.19.255.1");
			break;
		case 2:
			f->len = t_pkt(f->in, &pb, FG_AF_INET, 1, "198.18.128.2",
				       5001, "198.18.0.15", 80, FG_TCP_SYN, 0, NULL);
			break;
		default:
			f->len = t_arp(f->in, 1, t_cli_mac, "198.18.0.1",
				       (const uint8_t *)"\0\0\0\0\0\0", "198.19.255.1");
			break;
		}
		return;
	}
	switch (kind) {
	case 4: /* UDP, DSR or NAT */
		if (r & 1) {
			snprintf(src, sizeof(src), "198.18.128.%u", 1 + (r >> 1) % 8);
			f->len = t_pkt(f->in, &pb, FG_AF_INET, 0, src,
				       (uint16_t)(6000 + (r >> 4) % 4), "198.18.0.10",
				       53, 0, r % 20, NULL);
		} else {
			snprintf(src, sizeof(src), "2001:db8::1%u", (r >> 1) % 8);
			f->len = t_pkt(f->in, &pb, FG_AF_INET6, 0, src,
				       (uint16_t)(6000 + (r >> 4) % 4), "2001:db8::13",
				       53, 0, r % 20, NULL);
		}
		return;
	case 5: /* a backend's answer to a NAT flow lcore a forwarded */
		for (k = 0; k < 8 && j > 4; k++) {
			const struct t_bframe *g = &t_b.f[4 + t_b_rand() % (j - 4)];
			uint32_t d = fg_pb_get_be16(g->in, 12) == 0x0800 ?
				     fg_pb_get_be16(g->in, 36) :
				     fg_pb_get_be16(g->in, 56);

			if (fg_dp_act(g->v) != FG_DP_TX || (d != 80 && d != 53) ||
			    g->out_len > FG_FIXTURE_MAX_LEN)
				continue;
			f->len = t_b_reverse(f->in, g->out, g->out_len);
			if (f->len && (r & 7) == 0)
				f->in[f->len > 60 ? 40 : 13] ^= 1; /* a stray */
			if (f->len) {
				t_b.answers++;
				return;
			}
		}
		break;
	case 6: /* ARP: an answer, a question, or gratuitous */
		snprintf(src, sizeof(src), "198.19.0.%u", 1 + r % 10);
		if (r & 0x100)
			f->len = t_arp(f->in, 2, (r & 0x200) ? t_be_mac : t_gw_mac,
				       src, t_port_mac, "198.19.255.1");
		else if (r & 0x200)
			f->len = t_arp(f->in, 1, t_cli_mac, src,
				       (const uint8_t *)"\0\0\0\0\0\0",
				       "198.19.255.1");
		else
			f->len = t_arp(f->in, 2, t_be_mac, src, t_port_mac, src);
		return;
	case 7: /* ND: an advertisement to us, or unsolicited */
		snprintf(src, sizeof(src), "2001:db8:1::%u", 1 + r % 4);
		f->len = t_na(f->in, src, (r & 0x100) ? t_be_mac : t_gw_mac,
			      (r & 0x200) ? "2001:db8:ff::1" : "ff02::1");
		return;
	case 8: /* IPv6 TCP, DSR */
		snprintf(src, sizeof(src), "2001:db8::1%u", r % 8);
		f->len = t_pkt(f->in, &pb, FG_AF_INET6, 1, src,
			       (uint16_t)(7000 + (r >> 3) % 4), "2001:db8::10", 80,
			       flags[(r >> 6) % 6], r % 30, NULL);
		return;
	case 9:
	case 10: /* a fixture, whole or cut */
	case 11: /* a fixture, mutated */
		fx = fg_pkt_fixtures_get(&count);
		k = r % count;
		f->len = fx[k].len;
		memcpy(f->in, fx[k].bytes, fx[k].len);
		if (kind == 10 && f->len)
			f->len = t_b_rand() % f->len;
		if (kind == 11 && f->len)
			f->in[t_b_rand() % f->len] ^= (uint8_t)(1U << (r & 7));
		return;
	default:
		break;
	}
	/* IPv4 TCP from a few clients to every kind of service (and to no
	 * service): flows repeat, within bursts too. */
	snprintf(src, sizeof(src), "198.18.128.%u", 1 + r % 8);
	f->len = t_pkt(f->in, &pb, FG_AF_INET, 1, src,
		       (uint16_t)(5000 + (r >> 3) % 4), vip4[(r >> 5) % 8], 80,
		       flags[(r >> 8) % 6], (r >> 11) % 40, NULL);
}

static void test_bursts(void **state)
{
	static const unsigned int sizes[] = { 32, 1, 7, 64, 33, 17, 2, 40, 31 };
	const char *const learn4[] = { "198.19.0.1", "198.19.0.2", "198.19.0.3",
				       "198.18.0.1" };
	struct fg_dp_counters ca, cb;
	uint64_t now = T_NOW0;
	unsigned int j, b, i, n, tx = 0, kinds[5] = { 0 };
	uint8_t f[64];

	(void)state;
	/* The same neighbours in both, as test_learn. */
	for (i = 0; i < 2; i++) {
		for (j = 0; j < 4; j++) {
			memset(&t_b.f[0], 0, sizeof(t_b.f[0]));
			t_b.f[0].len = t_arp(f, 2, j == 3 ? t_gw_mac : t_be_mac,
					     learn4[j], t_port_mac, "198.19.255.1");
			memcpy(t_b.f[0].in, f, t_b.f[0].len);
			t_b_burst(t_b.lc[i], &t_b.f[0], 1, now);
		}
		t_b.f[0].len = t_na(t_b.f[0].in, "2001:db8:1::1", t_be_mac,
				    "2001:db8:ff::1");
		t_b_burst(t_b.lc[i], &t_b.f[0], 1, now);
		t_b.f[0].len = t_na(t_b.f[0].in, "2001:db8::1", t_gw_mac,
				    "2001:db8:ff::1");
		t_b_burst(t_b.lc[i], &t_b.f[0], 1, now);
	}
	/* Lcore a, frame by frame, making the stream as it goes. */
	for (j = 0, b = 0; j < T_B_FRAMES; b++) {
		n = RTE_MIN(sizes[b % RTE_DIM(sizes)], T_B_FRAMES - j);
		for (i = 0; i < n; i++) {
			t_b_make(j + i);
			t_b_burst(t_b.lc[0], &t_b.f[j + i], 1, now);
		}
		j += n;
		now += 300000000ULL; /* 0.3 s: the 1 pps limits refill */
	}
	/* Lcore b, the same frames in bursts at the same clock. */
	now = T_NOW0;
	for (j = 0, b = 0; j < T_B_FRAMES; b++) {
		static struct t_bframe g[64];
		char what[96];

		n = RTE_MIN(sizes[b % RTE_DIM(sizes)], T_B_FRAMES - j);
		for (i = 0; i < n; i++) {
			memcpy(g[i].in, t_b.f[j + i].in, t_b.f[j + i].len);
			g[i].len = t_b.f[j + i].len;
		}
		t_b_burst(t_b.lc[1], g, n, now);
		for (i = 0; i < n; i++) {
			const struct t_bframe *a = &t_b.f[j + i];

			snprintf(what, sizeof(what), "frame %u (burst of %u, #%u)",
				 j + i, n, i);
			if (g[i].v != a->v)
				fail_msg("%s: verdict %u/%u in a burst, %u/%u alone",
					 what, fg_dp_act(g[i].v), fg_dp_arg(g[i].v),
					 fg_dp_act(a->v), fg_dp_arg(a->v));
			t_bytes_equal(g[i].out, g[i].out_len, a->out, a->out_len,
				      what);
			kinds[RTE_MIN((unsigned int)fg_dp_act(a->v), 4U)]++;
			tx += fg_dp_act(a->v) == FG_DP_TX;
		}
		j += n;
		now += 300000000ULL;
	}
	memcpy(&ca, fg_dp_lcore_counters(t_b.lc[0]), sizeof(ca));
	memcpy(&cb, fg_dp_lcore_counters(t_b.lc[1]), sizeof(cb));
	assert_memory_equal(&ca, &cb, sizeof(ca));
	assert_int_equal(fg_dp_lcore_flows(t_b.lc[0], t_tab, now),
			 fg_dp_lcore_flows(t_b.lc[1], t_tab, now));
	print_message("%u frames (%u backends' answers to NAT flows): %u "
		      "dropped, %u sent, %u to the kernel, %u handed off, %u "
		      "neighbour answers\n", T_B_FRAMES, t_b.answers,
		      kinds[FG_DP_DROP], kinds[FG_DP_TX], kinds[FG_DP_EXCEPTION],
		      kinds[FG_DP_HANDOFF], kinds[FG_DP_NEIGH]);
	assert_true(t_b.answers > 0);
	/* The openers: sent to the next hop the burst's answer named. */
	t_expect_verdict(t_b.f[0].v, FG_DP_TX, 0, "opener before its answer");
	assert_memory_equal(t_b.f[0].out,
			    (const uint8_t *)"\xff\xff\xff\xff\xff\xff", 6);
	t_expect_verdict(t_b.f[2].v, FG_DP_TX, 0, "opener after its answer");
	assert_memory_equal(t_b.f[2].out, t_be_mac, 6);
	/* Every kind of outcome came up. */
	for (i = 0; i < 5; i++)
		if (i != FG_DP_HANDOFF && !kinds[i])
			fail_msg("no frame had verdict %u", i);
}

/* ------------------------------------------------------------- main */

static int t_setup(void)
{
	struct fg_compiled *cp = NULL;
	char err[512];
	int rc, e;

	memset(&t_set, 0, sizeof(t_set));
	t_set.seed.k0 = 0x0123456789abcdefULL;
	t_set.seed.k1 = 0x1111222233334444ULL;
	t_set.seed.lane[0] = 3;
	t_set.seed.lane[1] = 4;
	t_set.seed.lane[2] = 5;
	t_set.seed.lane[3] = 6;
	t_set.tunnel_src4 = t_ip4("198.19.255.1");
	t_ip6("2001:db8:ff::1", t_set.tunnel_src6);
	t_set.snat4 = t_ip4("198.19.255.2");
	t_ip6("2001:db8:ff::2", t_set.snat6);
	t_set.ct_max = 4096;
	t_set.ct_syn_max = 1024;
	t_set.nat_max = 1024;
	t_set.buckets_max = 1024;
	t_set.nports = 1;
	memcpy(t_set.port[0].mac, t_port_mac, 6);
	t_route(FG_AF_INET, "198.19.0.0", 24, NULL);
	t_route(FG_AF_INET, "0.0.0.0", 0, "198.18.0.1");
	t_route(FG_AF_INET6, "2001:db8:1::", 64, NULL);
	t_route(FG_AF_INET6, "::", 0, "2001:db8::1");
	if (fg_dp_settings_check(&t_set, err, sizeof(err))) {
		fprintf(stderr, "settings: %s\n", err);
		return -1;
	}
	t_comp = fg_compiler_new(NULL);
	if (!t_comp)
		return -1;
	rc = fg_dp_rules_compile(t_comp, t_rules, strlen(t_rules), 1, &cp, err,
				 sizeof(err));
	if (rc) {
		fprintf(stderr, "rules: %s\n", err);
		return -1;
	}
	t_tab = fg_dp_tables_new(cp, &t_set, SOCKET_ID_ANY, &e, err, sizeof(err));
	if (!t_tab) {
		fprintf(stderr, "tables: %s\n", err);
		return -1;
	}
	if (fg_compiler_commit(t_comp, cp))
		return -1;
	fg_compiled_free(cp);
	t_bk = fg_dp_buckets_new(&t_set, SOCKET_ID_ANY);
	t_lc = t_bk ? fg_dp_lcore_new(&t_set, 0, t_bk, SOCKET_ID_ANY, &e) : NULL;
	return t_lc ? 0 : -1;
}

/* Neighbours of the test's next hops, learned the way the path learns
 * them: answers to our addresses. Runs first. */
static void test_learn(void **state)
{
	(void)state;
	t_learn4("198.19.0.1", t_be_mac);
	t_learn4("198.19.0.2", t_be_mac);
	t_learn4("198.19.0.3", t_be_mac);
	t_learn4("198.18.0.1", t_gw_mac);
	t_learn6("2001:db8:1::1", t_be_mac);
	t_learn6("2001:db8:1::3", t_be_mac);
	t_learn6("2001:db8::1", t_gw_mac);
}

int main(int argc, char **argv)
{
	char prefix[64];
	/* --no-huge is legacy memory, which --in-memory refuses; no shared
	 * config and a prefix of its own keep parallel runs apart. */
	char *eal[] = { argv[0], "--no-huge", "-m", "256", "--no-pci",
			"--no-shconf", prefix, "--no-telemetry",
			"--log-level=error", NULL };
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_learn),
		cmocka_unit_test(test_arp_nd),
		cmocka_unit_test(test_no_neigh),
		cmocka_unit_test(test_resolve),
		cmocka_unit_test(test_dsr),
		cmocka_unit_test(test_nat),
		cmocka_unit_test(test_handoff),
		cmocka_unit_test(test_too_big),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_flood_guard),
		cmocka_unit_test(test_exception),
		cmocka_unit_test(test_fixtures),
		cmocka_unit_test(test_mutations),
		cmocka_unit_test_setup_teardown(test_bursts, t_b_setup,
						t_b_teardown),
	};
	int rc;

	(void)argc;
	snprintf(prefix, sizeof(prefix), "--file-prefix=fgtest%ld", (long)getpid());
	if (fg_dp_eal_init((int)(sizeof(eal) / sizeof(eal[0])) - 1, eal) < 0) {
		printf("SKIP: the EAL did not start (--no-huge): %s\n",
		       rte_strerror(rte_errno));
		return 77;
	}
	t_mp = rte_pktmbuf_pool_create("t_pool", 1023, 0, 0,
				       RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	if (!t_mp || t_setup()) {
		printf("test set-up failed\n");
		rte_eal_cleanup();
		return 1;
	}
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	fg_dp_lcore_free(t_lc);
	fg_dp_buckets_free(t_bk);
	fg_dp_tables_free(t_tab);
	fg_compiler_free(t_comp);
	rte_mempool_free(t_mp);
	rte_eal_cleanup();
	return rc;
}
