// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * test_decap.c - BPF_PROG_TEST_RUN fixtures for the backend decap program
 * (xdp/fg_decap.bpf.c), both variants: fg_decap_xdp and fg_decap_tc.
 *
 * A fixture is {description, input frame, per variant: expected verdict,
 * expected output (NULL: the input, unchanged), the counter that must move}.
 * Decapsulated output must be the inner packet behind the original MAC
 * addresses (and VLAN tags) with the inner EtherType, byte for byte.
 *
 * Malformed input, documented verdicts (see fg_decap_classify()):
 *   - broken or truncated *outer* headers, outer IPv6 extension headers,
 *     non-tunnel traffic and tunnel packets to a non-local address: passed
 *     unchanged, counter "passed";
 *   - tunnel packets for a local address whose GUE payload or inner header
 *     is broken: dropped, counter "malformed";
 *   - outer fragments of tunnel packets for a local address: passed
 *     unchanged, counter "fragment".
 * Then every valid tunnel frame is cut at every length and has single
 * header bytes mutated: each result must be unchanged, dropped, or a clean
 * decapsulation (L2 + the input's tail, EtherType matching the inner
 * version) - never anything else.
 *
 * Three loads of the object cover the settings: defaults (GUE 6080, listed
 * addresses), GUE 7777 with decap_any, and GUE off.
 *
 * Not visible here: skb->protocol after a TC decapsulation that changes the
 * family (the test run reports only bytes); tests/integration/test_decap.sh
 * covers it by delivering IPv4-in-IPv6 and IPv6-in-IPv4 through TC.
 * Frames shorter than their EtherType's IP header are refused by the
 * kernel's skb test run, so those fixtures run through XDP only.
 *
 * Needs root or CAP_BPF (+ CAP_NET_ADMIN for test runs of TC programs);
 * exits 77 and says why otherwise.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/pkt_cls.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "fg_decap_common.h"
#include "fg_decap.skel.h"

#define T_SKIP 77
#define T_PKT_MAX 512

/* Addresses of the fixtures (198.18.0.0/15 and 2001:db8::/32 only). */
#define T_LOCAL4 "198.19.0.2"        /* the backend: in fg_decap_addrs */
#define T_OTHER4 "198.19.0.99"       /* not local */
#define T_TUN4 "198.19.255.1"        /* appliance tunnel source */
#define T_LOCAL6 "2001:db8:19::2"
#define T_OTHER6 "2001:db8:19::99"
#define T_TUN6 "2001:db8:19:ff::1"
#define T_CLIENT4 "198.18.0.100"
#define T_VIP4 "198.18.0.10"
#define T_CLIENT6 "2001:db8::100"
#define T_VIP6 "2001:db8::10"

static int t_fails, t_passes;

#define T_CHECK(cond, ...)                                               \
	do {                                                             \
		if (cond) {                                              \
			t_passes++;                                      \
		} else {                                                 \
			t_fails++;                                       \
			fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
			fprintf(stderr, __VA_ARGS__);                    \
			fputc('\n', stderr);                             \
		}                                                        \
	} while (0)

/* ------------------------------------------------------------ builders */

/* A frame under construction; every put is bounds-checked (abort: a test
 * bug, not a finding). */
struct t_pkt {
	__u8 b[T_PKT_MAX];
	size_t len;
};

/* t_put - append n bytes of src to p. */
static void t_put(struct t_pkt *p, const void *src, size_t n)
{
	if (p->len + n > sizeof(p->b)) {
		fprintf(stderr, "test packet overflow\n");
		abort();
	}
	memcpy(p->b + p->len, src, n);
	p->len += n;
}

/* Big-endian puts of 1, 2 and 4 bytes; an address literal of either
 * family. */
static void t_put8(struct t_pkt *p, __u8 v)
{
	t_put(p, &v, 1);
}

static void t_put16(struct t_pkt *p, __u16 v)
{
	__u8 b[2] = { v >> 8, v & 0xff };

	t_put(p, b, 2);
}

static void t_put32(struct t_pkt *p, __u32 v)
{
	t_put16(p, v >> 16);
	t_put16(p, v & 0xffff);
}

static void t_put_addr(struct t_pkt *p, const char *s)
{
	__u8 a[16];

	if (inet_pton(AF_INET, s, a) == 1) {
		t_put(p, a, 4);
	} else if (inet_pton(AF_INET6, s, a) == 1) {
		t_put(p, a, 16);
	} else {
		fprintf(stderr, "bad test address %s\n", s);
		abort();
	}
}

/* t_csum - the Internet checksum of b[0..n). */
static __u16 t_csum(const __u8 *b, size_t n)
{
	__u32 s = 0;
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		s += (__u32)b[i] << 8 | b[i + 1];
	if (n & 1)
		s += (__u32)b[n - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return ~s & 0xffff;
}

static const __u8 t_mac_dst[6] = { 0x02, 0xfd, 0xec, 0x00, 0x00, 0x02 };
static const __u8 t_mac_src[6] = { 0x02, 0xfd, 0xec, 0x00, 0x00, 0x01 };

/* Ethernet header with EtherType type, optionally after VLAN tags. */
static void t_eth(struct t_pkt *p, unsigned int tags, __u16 type)
{
	unsigned int i;

	t_put(p, t_mac_dst, 6);
	t_put(p, t_mac_src, 6);
	for (i = 0; i < tags; i++) {
		t_put16(p, i + 1 < tags ? ETH_P_8021AD : ETH_P_8021Q);
		t_put16(p, 100 + i);
	}
	t_put16(p, type);
}

/* IPv4 header (ihl 5 + opt_words) with a correct checksum, then payload. */
static void t_ip4(struct t_pkt *p, const char *src, const char *dst,
		  __u8 proto, __u16 frag, unsigned int opt_words,
		  const struct t_pkt *payload)
{
	size_t start = p->len, hlen = 20 + 4 * opt_words;
	unsigned int i;
	__u16 c;

	t_put8(p, 0x40 | (hlen / 4));
	t_put8(p, 0);
	t_put16(p, hlen + payload->len);
	t_put16(p, 0x1234);
	t_put16(p, frag);
	t_put8(p, 64);
	t_put8(p, proto);
	t_put16(p, 0);
	t_put_addr(p, src);
	t_put_addr(p, dst);
	for (i = 0; i < opt_words; i++)
		t_put32(p, 0x01010101); /* NOPs */
	c = t_csum(p->b + start, hlen);
	p->b[start + 10] = c >> 8;
	p->b[start + 11] = c & 0xff;
	t_put(p, payload->b, payload->len);
}

/* IPv6 header, then payload. */
static void t_ip6(struct t_pkt *p, const char *src, const char *dst, __u8 nh,
		  const struct t_pkt *payload)
{
	t_put32(p, 0x60000000);
	t_put16(p, payload->len);
	t_put8(p, nh);
	t_put8(p, 64);
	t_put_addr(p, src);
	t_put_addr(p, dst);
	t_put(p, payload->b, payload->len);
}

/* UDP header (checksum 0: nothing here verifies it), then payload. */
static void t_udp(struct t_pkt *p, __u16 sport, __u16 dport,
		  const struct t_pkt *payload)
{
	t_put16(p, sport);
	t_put16(p, dport);
	t_put16(p, 8 + payload->len);
	t_put16(p, 0);
	t_put(p, payload->b, payload->len);
}

/* The client's packet: UDP to the VIP, family 4 or 6. */
static struct t_pkt t_inner(int family)
{
	struct t_pkt data = { .len = 0 }, udp = { .len = 0 }, ip = { .len = 0 };

	t_put(&data, "floodgate decap", 15);
	t_udp(&udp, 40000, 9000, &data);
	if (family == 4)
		t_ip4(&ip, T_CLIENT4, T_VIP4, 17, 0, 0, &udp);
	else
		t_ip6(&ip, T_CLIENT6, T_VIP6, 17, &udp);
	return ip;
}

/* The tunnel packet (no L2): kind 'i' IPIP or 'g' GUE to port, outer
 * family ofam to odst, inner family ifam. */
static struct t_pkt t_tunnel(char kind, int ofam, const char *odst, int ifam,
			     __u16 gue_port)
{
	struct t_pkt inner = t_inner(ifam), udp = { .len = 0 }, out = { .len = 0 };
	const struct t_pkt *payload = &inner;
	__u8 proto = ifam == 4 ? FG_IPPROTO_IPIP : FG_IPPROTO_IPV6;

	if (kind == 'g') {
		t_udp(&udp, 50000, gue_port, &inner);
		payload = &udp;
		proto = FG_IPPROTO_UDP;
	}
	if (ofam == 4)
		t_ip4(&out, T_TUN4, odst, proto, 0, 0, payload);
	else
		t_ip6(&out, T_TUN6, odst, proto, payload);
	return out;
}

/* Frame = Ethernet (tags VLAN tags) + the L3 bytes of body. */
static struct t_pkt t_frame(unsigned int tags, const struct t_pkt *body)
{
	struct t_pkt f = { .len = 0 };

	t_eth(&f, tags, (body->b[0] >> 4) == 6 ? ETH_P_IPV6 : ETH_P_IP);
	t_put(&f, body->b, body->len);
	return f;
}

/* ------------------------------------------------------------ fixtures */

/* What one variant must do with a fixture. */
struct t_expect {
	int verdict;          /* XDP_* or TC_ACT_* */
	int counter;          /* enum fg_decap_counter that moves by one */
	bool decap;           /* output is want, else the input unchanged
			       * (not checked for drops) */
};

struct t_case {
	const char *desc;
	struct t_pkt in;
	struct t_pkt want;    /* when decapsulated */
	struct t_expect xdp;
	struct t_expect tc;
};

#define T_CASES_MAX 64
static struct t_case t_cases[T_CASES_MAX];
static unsigned int t_ncases;

/* t_add - a new fixture for in, expectations left to the caller. */
static struct t_case *t_add(const char *desc, const struct t_pkt *in)
{
	struct t_case *c;

	if (t_ncases >= T_CASES_MAX) {
		fprintf(stderr, "too many fixtures\n");
		abort();
	}
	c = &t_cases[t_ncases++];
	memset(c, 0, sizeof(*c));
	c->desc = desc;
	c->in = *in;
	return c;
}

/* A fixture both variants decapsulate into want. */
static void t_add_decap(const char *desc, const struct t_pkt *in,
			const struct t_pkt *want, int counter)
{
	struct t_case *c = t_add(desc, in);

	c->want = *want;
	c->xdp = (struct t_expect){ XDP_PASS, counter, true };
	c->tc = (struct t_expect){ TC_ACT_UNSPEC, counter, true };
}

/* A fixture both variants pass unchanged, counting counter. */
static void t_add_pass(const char *desc, const struct t_pkt *in, int counter)
{
	struct t_case *c = t_add(desc, in);

	c->xdp = (struct t_expect){ XDP_PASS, counter, false };
	c->tc = (struct t_expect){ TC_ACT_UNSPEC, counter, false };
}

/* A fixture both variants drop as malformed. */
static void t_add_drop(const char *desc, const struct t_pkt *in)
{
	struct t_case *c = t_add(desc, in);

	c->xdp = (struct t_expect){ XDP_DROP, FG_DECAP_CNT_MALFORMED, false };
	c->tc = (struct t_expect){ TC_ACT_SHOT, FG_DECAP_CNT_MALFORMED, false };
}

/* Patch a 16-bit big-endian field at off and return the frame. */
static struct t_pkt t_patch16(struct t_pkt p, size_t off, __u16 v)
{
	p.b[off] = v >> 8;
	p.b[off + 1] = v & 0xff;
	return p;
}

/* Valid tunnel frames for the default settings, also used by the
 * truncation and mutation sweeps. */
static struct t_pkt t_valid[8];
static unsigned int t_nvalid;

/* t_build_cases - fill t_cases[] (and t_valid[]) with the fixtures for the
 * default settings: GUE port 6080, T_LOCAL4/T_LOCAL6 listed. */
static void t_build_cases(void)
{
	struct t_pkt in4 = t_inner(4), in6 = t_inner(6);
	struct t_pkt want4 = t_frame(0, &in4), want6 = t_frame(0, &in6);
	struct t_pkt tun, f, body, tmp;
	struct t_case *c;
	unsigned int i;

	/* --- decapsulated by both variants */
	tun = t_tunnel('i', 4, T_LOCAL4, 4, 0);
	f = t_frame(0, &tun);
	t_valid[t_nvalid++] = f;
	t_add_decap("IPIP: IPv4 in IPv4", &f, &want4, FG_DECAP_CNT_IPIP);

	tun = t_tunnel('i', 6, T_LOCAL6, 6, 0);
	f = t_frame(0, &tun);
	t_valid[t_nvalid++] = f;
	t_add_decap("IPIP: IPv6 in IPv6 (ip6ip6)", &f, &want6, FG_DECAP_CNT_IPIP);

	tun = t_tunnel('i', 6, T_LOCAL6, 4, 0);
	f = t_frame(0, &tun);
	t_add_decap("IPIP: IPv4 in IPv6 (next header 4)", &f, &want4,
		    FG_DECAP_CNT_IPIP);

	tun = t_tunnel('i', 4, T_LOCAL4, 6, 0);
	f = t_frame(0, &tun);
	t_add_decap("IPIP: IPv6 in IPv4 (protocol 41)", &f, &want6,
		    FG_DECAP_CNT_IPIP);

	tun = t_tunnel('g', 4, T_LOCAL4, 4, 6080);
	f = t_frame(0, &tun);
	t_valid[t_nvalid++] = f;
	t_add_decap("GUE: IPv4 in UDP/IPv4", &f, &want4, FG_DECAP_CNT_GUE);

	tun = t_tunnel('g', 6, T_LOCAL6, 6, 6080);
	f = t_frame(0, &tun);
	t_valid[t_nvalid++] = f;
	t_add_decap("GUE: IPv6 in UDP/IPv6", &f, &want6, FG_DECAP_CNT_GUE);

	tun = t_tunnel('g', 4, T_LOCAL4, 6, 6080);
	f = t_frame(0, &tun);
	t_add_decap("GUE: IPv6 in UDP/IPv4", &f, &want6, FG_DECAP_CNT_GUE);

	tun = t_tunnel('g', 6, T_LOCAL6, 4, 6080);
	f = t_frame(0, &tun);
	t_add_decap("GUE: IPv4 in UDP/IPv6", &f, &want4, FG_DECAP_CNT_GUE);

	/* Outer IPv4 options go with the outer header. */
	body = (struct t_pkt){ .len = 0 };
	t_ip4(&body, T_TUN4, T_LOCAL4, FG_IPPROTO_IPIP, 0, 2, &in4);
	f = t_frame(0, &body);
	t_add_decap("IPIP: outer IPv4 with 8 bytes of options", &f, &want4,
		    FG_DECAP_CNT_IPIP);

	/* Ethernet padding beyond the outer packet stays behind the inner
	 * one (the stack trims it by the inner length). */
	tun = t_tunnel('i', 4, T_LOCAL4, 4, 0);
	f = t_frame(0, &tun);
	tmp = want4;
	for (i = 0; i < 6; i++) {
		t_put8(&f, 0);
		t_put8(&tmp, 0);
	}
	t_add_decap("IPIP with 6 bytes of Ethernet padding", &f, &tmp,
		    FG_DECAP_CNT_IPIP);

	/* VLAN tags: XDP keeps them in front of the inner packet. In TC the
	 * stack has taken the outer tag out of the frame before clsact, so
	 * an in-band tag there is not ours: passed unchanged. */
	tun = t_tunnel('i', 4, T_LOCAL4, 4, 0);
	f = t_frame(1, &tun);
	c = t_add("IPIP behind one 802.1Q tag", &f);
	c->want = t_frame(1, &in4);
	c->xdp = (struct t_expect){ XDP_PASS, FG_DECAP_CNT_IPIP, true };
	c->tc = (struct t_expect){ TC_ACT_UNSPEC, FG_DECAP_CNT_PASSED, false };

	tun = t_tunnel('g', 6, T_LOCAL6, 6, 6080);
	f = t_frame(2, &tun);
	c = t_add("GUE behind QinQ (802.1ad + 802.1Q)", &f);
	c->want = t_frame(2, &in6);
	c->xdp = (struct t_expect){ XDP_PASS, FG_DECAP_CNT_GUE, true };
	c->tc = (struct t_expect){ TC_ACT_UNSPEC, FG_DECAP_CNT_PASSED, false };

	tun = t_tunnel('i', 4, T_LOCAL4, 4, 0);
	f = t_frame(3, &tun);
	t_add_pass("IPIP behind three tags (beyond FG_VLAN_MAX_DEPTH)", &f,
		   FG_DECAP_CNT_PASSED);

	/* --- not ours: passed unchanged */
	tun = t_tunnel('i', 4, T_OTHER4, 4, 0);
	f = t_frame(0, &tun);
	t_add_pass("IPIP to a non-local address", &f, FG_DECAP_CNT_PASSED);

	tun = t_tunnel('i', 6, T_OTHER6, 6, 0);
	f = t_frame(0, &tun);
	t_add_pass("ip6ip6 to a non-local address", &f, FG_DECAP_CNT_PASSED);

	tun = t_tunnel('g', 4, T_OTHER4, 4, 6080);
	f = t_frame(0, &tun);
	t_add_pass("GUE to a non-local address", &f, FG_DECAP_CNT_PASSED);

	tun = t_tunnel('g', 4, T_LOCAL4, 4, 6081);
	f = t_frame(0, &tun);
	t_add_pass("UDP to a local address, not the GUE port", &f,
		   FG_DECAP_CNT_PASSED);

	body = (struct t_pkt){ .len = 0 };
	tmp = (struct t_pkt){ .len = 0 };
	t_udp(&tmp, 1234, 9000, &in4);
	t_ip4(&body, T_CLIENT4, T_VIP4, 17, 0, 0, &tmp);
	f = t_frame(0, &body);
	t_add_pass("plain UDP/IPv4 (no tunnel)", &f, FG_DECAP_CNT_PASSED);

	f = t_frame(0, &in6);
	t_add_pass("plain UDP/IPv6 (no tunnel)", &f, FG_DECAP_CNT_PASSED);

	f = (struct t_pkt){ .len = 0 };
	t_eth(&f, 0, ETH_P_ARP);
	for (i = 0; i < 28; i++)
		t_put8(&f, i);
	t_add_pass("ARP", &f, FG_DECAP_CNT_PASSED);

	/* --- broken outer headers: the stack's business, passed unchanged */
	tun = t_tunnel('i', 4, T_LOCAL4, 4, 0);
	f = t_frame(0, &tun);
	f.len = ETH_HLEN + 10;
	t_add_pass("outer IPv4 header cut at 10 bytes", &f, FG_DECAP_CNT_PASSED);

	f = t_frame(0, &tun);
	f = t_patch16(f, ETH_HLEN + 2, tun.len + 1);
	t_add_pass("outer IPv4 total length beyond the frame", &f,
		   FG_DECAP_CNT_PASSED);

	f = t_frame(0, &tun);
	f.b[ETH_HLEN] = 0x44;
	t_add_pass("outer IPv4 IHL 4", &f, FG_DECAP_CNT_PASSED);

	f = t_frame(0, &tun);
	f.b[ETH_HLEN] = 0x55;
	t_add_pass("IPv4 EtherType, version 5", &f, FG_DECAP_CNT_PASSED);

	tun = t_tunnel('i', 6, T_LOCAL6, 6, 0);
	f = t_frame(0, &tun);
	f = t_patch16(f, ETH_HLEN + 4, tun.len - 40 + 1);
	t_add_pass("outer IPv6 payload length beyond the frame", &f,
		   FG_DECAP_CNT_PASSED);

	/* Hop-by-hop header (PadN) before the inner packet: not walked. */
	body = (struct t_pkt){ .len = 0 };
	tmp = (struct t_pkt){ .len = 0 };
	t_put8(&tmp, FG_IPPROTO_IPV6);
	t_put8(&tmp, 0);
	t_put8(&tmp, 1);
	t_put8(&tmp, 4);
	t_put32(&tmp, 0);
	t_put(&tmp, in6.b, in6.len);
	t_ip6(&body, T_TUN6, T_LOCAL6, 0, &tmp);
	f = t_frame(0, &body);
	t_add_pass("outer IPv6 with a hop-by-hop header", &f, FG_DECAP_CNT_PASSED);

	/* UDP header cut: outer total length covers only 4 bytes of it. */
	body = (struct t_pkt){ .len = 0 };
	tmp = (struct t_pkt){ .len = 0 };
	t_put16(&tmp, 50000);
	t_put16(&tmp, 6080);
	t_ip4(&body, T_TUN4, T_LOCAL4, FG_IPPROTO_UDP, 0, 0, &tmp);
	f = t_frame(0, &body);
	t_add_pass("UDP header cut at 4 bytes", &f, FG_DECAP_CNT_PASSED);

	/* A later UDP fragment has no port: cannot be told from other UDP. */
	body = (struct t_pkt){ .len = 0 };
	t_ip4(&body, T_TUN4, T_LOCAL4, FG_IPPROTO_UDP, 0x0010, 0, &in4);
	f = t_frame(0, &body);
	t_add_pass("non-first IPv4 fragment of UDP", &f, FG_DECAP_CNT_PASSED);

	/* --- outer fragments of tunnel packets for us: passed, counted */
	body = (struct t_pkt){ .len = 0 };
	t_ip4(&body, T_TUN4, T_LOCAL4, FG_IPPROTO_IPIP, 0x2000, 0, &in4);
	f = t_frame(0, &body);
	t_add_pass("IPIP first fragment (MF)", &f, FG_DECAP_CNT_FRAGMENT);

	body = (struct t_pkt){ .len = 0 };
	t_ip4(&body, T_TUN4, T_LOCAL4, FG_IPPROTO_IPIP, 0x0008, 0, &in4);
	f = t_frame(0, &body);
	t_add_pass("IPIP later fragment (offset 64)", &f, FG_DECAP_CNT_FRAGMENT);

	body = (struct t_pkt){ .len = 0 };
	tmp = (struct t_pkt){ .len = 0 };
	t_udp(&tmp, 50000, 6080, &in4);
	t_ip4(&body, T_TUN4, T_LOCAL4, FG_IPPROTO_UDP, 0x2000, 0, &tmp);
	f = t_frame(0, &body);
	t_add_pass("GUE first fragment (MF)", &f, FG_DECAP_CNT_FRAGMENT);

	/* --- tunnel packets for us with a broken inside: dropped */
	tun = t_tunnel('i', 4, T_LOCAL4, 4, 0);
	f = t_frame(0, &tun);
	f = t_patch16(f, ETH_HLEN + 20 + 2, in4.len + 1);
	t_add_drop("IPIP: inner IPv4 total length beyond the tunnel payload", &f);

	f = t_frame(0, &tun);
	f.b[ETH_HLEN + 20] = 0x43;
	t_add_drop("IPIP: inner IPv4 IHL 3", &f);

	f = t_frame(0, &tun);
	f = t_patch16(f, ETH_HLEN + 20 + 2, 16);
	t_add_drop("IPIP: inner IPv4 total length below its header", &f);

	f = t_frame(0, &tun);
	f.b[ETH_HLEN + 20] = 0x65;
	t_add_drop("IPIP protocol 4 carrying version 6", &f);

	/* Outer packet (and frame) ends 10 bytes into the inner header. */
	body = (struct t_pkt){ .len = 0 };
	tmp = in4;
	tmp.len = 10;
	t_ip4(&body, T_TUN4, T_LOCAL4, FG_IPPROTO_IPIP, 0, 0, &tmp);
	f = t_frame(0, &body);
	t_add_drop("IPIP: inner header cut at 10 bytes", &f);

	tun = t_tunnel('i', 6, T_LOCAL6, 6, 0);
	f = t_frame(0, &tun);
	f = t_patch16(f, ETH_HLEN + 40 + 4, in6.len - 40 + 1);
	t_add_drop("ip6ip6: inner payload length beyond the tunnel payload", &f);

	f = t_frame(0, &tun);
	f.b[ETH_HLEN + 40] = 0x45;
	t_add_drop("IPIP next header 41 carrying version 4", &f);

	tun = t_tunnel('g', 4, T_LOCAL4, 4, 6080);
	f = t_frame(0, &tun);
	f = t_patch16(f, ETH_HLEN + 20 + 4, 8 + in4.len + 1);
	t_add_drop("GUE: UDP length beyond the outer payload", &f);

	f = t_frame(0, &tun);
	f = t_patch16(f, ETH_HLEN + 20 + 4, 7);
	t_add_drop("GUE: UDP length 7", &f);

	body = (struct t_pkt){ .len = 0 };
	tmp = (struct t_pkt){ .len = 0 };
	t_udp(&tmp, 50000, 6080, &(struct t_pkt){ .len = 0 });
	t_ip4(&body, T_TUN4, T_LOCAL4, FG_IPPROTO_UDP, 0, 0, &tmp);
	f = t_frame(0, &body);
	t_add_drop("GUE: empty UDP payload", &f);

	f = t_frame(0, &tun);
	f.b[ETH_HLEN + 28] = 0x00;
	t_add_drop("GUE variant 0 header (not sent by the appliance)", &f);

	f = t_frame(0, &tun);
	f.b[ETH_HLEN + 28] = 0x55;
	t_add_drop("GUE payload of version 5", &f);

	f = t_frame(0, &tun);
	f = t_patch16(f, ETH_HLEN + 28 + 2, in4.len + 4);
	t_add_drop("GUE: inner IPv4 longer than the UDP payload", &f);
}

/* ------------------------------------------------------------ running */

/* One loaded object with its settings. */
struct t_obj {
	const char *name;
	struct fg_decap *skel;
	int xdp_fd;
	int tc_fd;
	int stats_fd;
	int ncpu;
};

/* t_run()'s answer when the kernel will not test-run a frame. */
#define T_UNRUNNABLE INT_MIN

/*
 * t_run - one BPF_PROG_TEST_RUN of prog_fd (tc: a TC program) on in;
 * output into *out.
 *
 * Returns the program's return value as int, or T_UNRUNNABLE for a TC
 * frame shorter than its EtherType's IP header: the skb test run refuses
 * those with EINVAL (Linux 6.x), so such fixtures are covered by XDP only.
 * Exits the test on any other syscall failure (nothing can be judged).
 */
static int t_run(int prog_fd, bool tc, const struct t_pkt *in,
		 struct t_pkt *out)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = in->b,
		    .data_size_in = in->len, .data_out = out->b,
		    .data_size_out = sizeof(out->b), .repeat = 1);
	__u16 et = in->len >= ETH_HLEN ? in->b[12] << 8 | in->b[13] : 0;
	size_t l3_min = et == ETH_P_IP ? 20 : et == ETH_P_IPV6 ? 40 : 0;

	memset(out->b, 0xa5, sizeof(out->b));
	if (bpf_prog_test_run_opts(prog_fd, &o)) {
		if (tc && errno == EINVAL && in->len < ETH_HLEN + l3_min)
			return T_UNRUNNABLE;
		fprintf(stderr, "FAIL: BPF_PROG_TEST_RUN (%s, %zu bytes): %s\n",
			tc ? "tc" : "xdp", in->len, strerror(errno));
		exit(1);
	}
	out->len = o.data_size_out;
	return (int)o.retval;
}

/* t_counters - sum the per-CPU counters of ob into sum[]. */
static void t_counters(const struct t_obj *ob, __u64 sum[FG_DECAP_CNT_MAX])
{
	__u64 vals[ob->ncpu];
	__u32 k;
	int c;

	for (k = 0; k < FG_DECAP_CNT_MAX; k++) {
		sum[k] = 0;
		if (bpf_map_lookup_elem(ob->stats_fd, &k, vals)) {
			fprintf(stderr, "FAIL: counter lookup: %s\n", strerror(errno));
			exit(1);
		}
		for (c = 0; c < ob->ncpu; c++)
			sum[k] += vals[c];
	}
}

/* t_hexdump - print p to stderr, 32 bytes a line, for failure reports. */
static void t_hexdump(const char *what, const struct t_pkt *p)
{
	size_t i;

	fprintf(stderr, "  %s (%zu):", what, p->len);
	for (i = 0; i < p->len; i++)
		fprintf(stderr, "%s%02x", i % 32 ? " " : "\n    ", p->b[i]);
	fputc('\n', stderr);
}

/*
 * t_check_case - run fixture c through one variant of ob and check the
 * verdict, the output bytes and that exactly the expected counter moved.
 */
static void t_check_case(const struct t_obj *ob, const struct t_case *c,
			 bool tc)
{
	const struct t_expect *e = tc ? &c->tc : &c->xdp;
	const char *var = tc ? "tc" : "xdp";
	__u64 before[FG_DECAP_CNT_MAX], after[FG_DECAP_CNT_MAX];
	const struct t_pkt *want = e->decap ? &c->want : &c->in;
	struct t_pkt out;
	int ret, k;

	t_counters(ob, before);
	ret = t_run(tc ? ob->tc_fd : ob->xdp_fd, tc, &c->in, &out);
	t_counters(ob, after);
	if (ret == T_UNRUNNABLE) {
		printf("note: %s/%s: %s: the kernel does not test-run this "
		       "frame\n", ob->name, var, c->desc);
		return;
	}

	T_CHECK(ret == e->verdict, "%s/%s: %s: verdict %d, want %d", ob->name,
		var, c->desc, ret, e->verdict);
	/* Per variant: XDP_PASS and TC_ACT_SHOT are both 2. */
	if (e->verdict != (tc ? TC_ACT_SHOT : XDP_DROP)) {
		bool same = out.len == want->len &&
			    !memcmp(out.b, want->b, want->len);

		T_CHECK(same, "%s/%s: %s: output differs from the %s", ob->name,
			var, c->desc, e->decap ? "inner packet" : "input");
		if (!same) {
			t_hexdump("got", &out);
			t_hexdump("want", want);
		}
	}
	for (k = 0; k < FG_DECAP_CNT_MAX; k++)
		T_CHECK(after[k] - before[k] == (k == e->counter ? 1u : 0u),
			"%s/%s: %s: counter %d moved by %llu", ob->name, var,
			c->desc, k, (unsigned long long)(after[k] - before[k]));
}

/*
 * t_check_clean - the invariant for any input: out is the input unchanged,
 * or the verdict is a drop, or out is a clean decapsulation of in (same L2
 * up to the EtherType, which names the version of the bytes after it,
 * followed by a tail of the input). Returns true when it holds.
 */
static bool t_check_clean(const struct t_pkt *in, int ret, bool tc,
			  const struct t_pkt *out)
{
	size_t l2, cut;
	__u16 et;
	__u8 ver;

	if (ret == (tc ? TC_ACT_SHOT : XDP_DROP))
		return true;
	if (ret != (tc ? TC_ACT_UNSPEC : XDP_PASS))
		return false;
	if (out->len == in->len)
		return !memcmp(out->b, in->b, in->len);
	if (out->len > in->len || out->len < ETH_HLEN + 20)
		return false;
	cut = in->len - out->len;
	/* Walk the output's L2 the way the input's was walked. */
	for (l2 = ETH_HLEN; l2 <= FG_DECAP_L2_MAX; l2 += 4) {
		et = out->b[l2 - 2] << 8 | out->b[l2 - 1];
		if (et != ETH_P_8021Q && et != ETH_P_8021AD)
			break;
	}
	if (l2 > FG_DECAP_L2_MAX || out->len < l2 + 20)
		return false;
	ver = out->b[l2] >> 4;
	if (!((et == ETH_P_IP && ver == 4) || (et == ETH_P_IPV6 && ver == 6)))
		return false;
	return !memcmp(out->b, in->b, l2 - 2) &&
	       !memcmp(out->b + l2, in->b + l2 + cut, out->len - l2);
}

/* t_sweep - cut every valid frame at every length and mutate single
 * header bytes; every result must satisfy t_check_clean(). */
static void t_sweep(const struct t_obj *ob)
{
	static const __u8 vals[] = { 0x00, 0xff, 0x40, 0x60, 0x45, 0x11 };
	unsigned int v, i, bad = 0, runs = 0;
	struct t_pkt in, out;
	size_t len, off;
	int tc, ret;

	for (v = 0; v < t_nvalid; v++) {
		for (tc = 0; tc < 2; tc++) {
			for (len = ETH_HLEN; len < t_valid[v].len; len++) {
				in = t_valid[v];
				in.len = len;
				ret = t_run(tc ? ob->tc_fd : ob->xdp_fd, tc,
					    &in, &out);
				if (ret == T_UNRUNNABLE)
					continue;
				runs++;
				/* Cut frames are never decapsulated: the
				 * outer length no longer fits. */
				if (ret != (tc ? TC_ACT_UNSPEC : XDP_PASS) ||
				    out.len != in.len || memcmp(out.b, in.b, in.len)) {
					if (!bad++)
						t_hexdump("cut input", &in);
					T_CHECK(0, "%s/%s: valid frame %u cut at "
						"%zu: not passed unchanged (ret %d)",
						ob->name, tc ? "tc" : "xdp", v, len, ret);
				}
			}
			for (off = 0; off < t_valid[v].len && off < 110; off++) {
				for (i = 0; i < sizeof(vals); i++) {
					in = t_valid[v];
					if (in.b[off] == vals[i])
						continue;
					in.b[off] = vals[i];
					ret = t_run(tc ? ob->tc_fd : ob->xdp_fd,
						    tc, &in, &out);
					if (ret == T_UNRUNNABLE)
						continue;
					runs++;
					if (t_check_clean(&in, ret, tc, &out))
						continue;
					if (!bad++) {
						t_hexdump("mutated input", &in);
						t_hexdump("output", &out);
					}
					T_CHECK(0, "%s/%s: frame %u byte %zu = 0x%02x: "
						"unclean result (ret %d)", ob->name,
						tc ? "tc" : "xdp", v, off, vals[i], ret);
				}
			}
		}
	}
	T_CHECK(runs > 1000, "%s: sweep ran only %u times", ob->name, runs);
	printf("%s: %u cut/mutated frames, %u unclean\n", ob->name, runs, bad);
}

/* ------------------------------------------------------------ setup */

/* t_add_addr - put a local tunnel address into ob's fg_decap_addrs. */
static void t_add_addr(const struct t_obj *ob, const char *s)
{
	struct fg_decap_addr a;
	__u32 one = 1;

	memset(&a, 0, sizeof(a));
	if (inet_pton(AF_INET, s, a.addr) == 1) {
		a.family = 4;
	} else if (inet_pton(AF_INET6, s, a.addr) == 1) {
		a.family = 6;
	} else {
		fprintf(stderr, "bad address %s\n", s);
		exit(1);
	}
	if (bpf_map__update_elem(ob->skel->maps.fg_decap_addrs, &a, sizeof(a),
				 &one, sizeof(one), BPF_ANY)) {
		fprintf(stderr, "FAIL: adding %s: %s\n", s, strerror(errno));
		exit(1);
	}
}

/*
 * t_load - open and load one object with the given settings and the two
 * local addresses. Returns 0, T_SKIP when the kernel refuses for lack of
 * privilege, or exits on any other failure.
 */
static int t_load(struct t_obj *ob, const char *name, __u16 gue_port,
		  bool any)
{
	int err;

	memset(ob, 0, sizeof(*ob));
	ob->name = name;
	ob->skel = fg_decap__open();
	if (!ob->skel) {
		fprintf(stderr, "FAIL: open: %s\n", strerror(errno));
		exit(1);
	}
	ob->skel->rodata->fg_decap_cfg.gue_port = htons(gue_port);
	ob->skel->rodata->fg_decap_cfg.decap_any = any;
	err = fg_decap__load(ob->skel);
	/* EPERM: BPF refused to this process (no CAP_BPF). EACCES would be
	 * the verifier rejecting the program: that is a failure, not a skip. */
	if (err == -EPERM) {
		fg_decap__destroy(ob->skel);
		ob->skel = NULL;
		return T_SKIP;
	}
	if (err) {
		fprintf(stderr, "FAIL: load %s: %s\n", name, strerror(-err));
		exit(1);
	}
	ob->xdp_fd = bpf_program__fd(ob->skel->progs.fg_decap_xdp);
	ob->tc_fd = bpf_program__fd(ob->skel->progs.fg_decap_tc);
	ob->stats_fd = bpf_map__fd(ob->skel->maps.fg_decap_stats);
	ob->ncpu = libbpf_num_possible_cpus();
	if (ob->ncpu <= 0) {
		fprintf(stderr, "FAIL: cannot count CPUs\n");
		exit(1);
	}
	t_add_addr(ob, T_LOCAL4);
	t_add_addr(ob, T_LOCAL6);
	return 0;
}

/* Can this process use BPF at all? CapEff bit 39 (CAP_BPF) or 21
 * (CAP_SYS_ADMIN); root has them unless a container took them away. */
static bool t_have_cap_bpf(void)
{
	unsigned long long eff = 0;
	char line[256];
	FILE *f;

	f = fopen("/proc/self/status", "r");
	if (!f)
		return geteuid() == 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %llx", &eff) == 1)
			break;
	fclose(f);
	return eff & (1ULL << 39 | 1ULL << 21);
}

/* libbpf output: warnings (load failures, verifier log) only. */
static int t_silent(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

/* main - load three configurations, run the fixtures and sweeps. Returns
 * 0 when every check held, 1 on a failure, T_SKIP without privileges. */
int main(void)
{
	struct t_obj def, any, off;
	struct t_pkt f, tun, in4, out;
	unsigned int i;
	int ret;

	if (!t_have_cap_bpf()) {
		printf("SKIP: needs root or CAP_BPF for BPF_PROG_TEST_RUN\n");
		return T_SKIP;
	}
	libbpf_set_print(t_silent);
	if (t_load(&def, "default", FG_GUE_PORT_DEFAULT, false) == T_SKIP) {
		printf("SKIP: the kernel refused to load BPF programs (EPERM)\n");
		return T_SKIP;
	}
	if (t_load(&any, "gue7777-any", 7777, true) ||
	    t_load(&off, "gue-off", 0, false)) {
		fprintf(stderr, "FAIL: second load refused (EPERM)\n");
		return 1;
	}

	/* Fixtures on the default settings, both variants. */
	t_build_cases();
	for (i = 0; i < t_ncases; i++) {
		t_check_case(&def, &t_cases[i], false);
		t_check_case(&def, &t_cases[i], true);
	}
	printf("default: %u fixtures x 2 variants\n", t_ncases);
	t_sweep(&def);

	/* GUE port 7777 + decap_any: a non-local IPIP packet is decapsulated,
	 * GUE on 6080 is plain UDP, GUE on 7777 is decapsulated. */
	in4 = t_inner(4);
	{
		struct t_pkt want4 = t_frame(0, &in4);
		struct t_case c;

		memset(&c, 0, sizeof(c));
		tun = t_tunnel('i', 4, T_OTHER4, 4, 0);
		c.desc = "decap_any: IPIP to a non-local address";
		c.in = t_frame(0, &tun);
		c.want = want4;
		c.xdp = (struct t_expect){ XDP_PASS, FG_DECAP_CNT_IPIP, true };
		c.tc = (struct t_expect){ TC_ACT_UNSPEC, FG_DECAP_CNT_IPIP, true };
		t_check_case(&any, &c, false);
		t_check_case(&any, &c, true);

		tun = t_tunnel('g', 6, T_OTHER6, 4, 7777);
		c.desc = "GUE on port 7777";
		c.in = t_frame(0, &tun);
		c.xdp.counter = c.tc.counter = FG_DECAP_CNT_GUE;
		t_check_case(&any, &c, false);
		t_check_case(&any, &c, true);

		tun = t_tunnel('g', 4, T_LOCAL4, 4, 6080);
		c.desc = "port 7777 set: GUE on 6080 is plain UDP";
		c.in = t_frame(0, &tun);
		c.xdp = (struct t_expect){ XDP_PASS, FG_DECAP_CNT_PASSED, false };
		c.tc = (struct t_expect){ TC_ACT_UNSPEC, FG_DECAP_CNT_PASSED, false };
		t_check_case(&any, &c, false);
		t_check_case(&any, &c, true);

		/* GUE off: UDP never decapsulated, IPIP still is. */
		c.desc = "GUE off: GUE to a local address is plain UDP";
		t_check_case(&off, &c, false);
		t_check_case(&off, &c, true);

		tun = t_tunnel('i', 6, T_LOCAL6, 4, 0);
		c.desc = "GUE off: IPIP still decapsulated";
		c.in = t_frame(0, &tun);
		c.xdp = (struct t_expect){ XDP_PASS, FG_DECAP_CNT_IPIP, true };
		c.tc = (struct t_expect){ TC_ACT_UNSPEC, FG_DECAP_CNT_IPIP, true };
		t_check_case(&off, &c, false);
		t_check_case(&off, &c, true);
	}

	/* Removing the address from the map stops decapsulation at once. */
	{
		struct fg_decap_addr a;

		memset(&a, 0, sizeof(a));
		inet_pton(AF_INET, T_LOCAL4, a.addr);
		a.family = 4;
		T_CHECK(!bpf_map__delete_elem(def.skel->maps.fg_decap_addrs, &a,
					      sizeof(a), 0),
			"delete %s: %s", T_LOCAL4, strerror(errno));
		tun = t_tunnel('i', 4, T_LOCAL4, 4, 0);
		f = t_frame(0, &tun);
		ret = t_run(def.xdp_fd, false, &f, &out);
		T_CHECK(ret == XDP_PASS && out.len == f.len &&
			!memcmp(out.b, f.b, f.len),
			"address removed: IPIP still decapsulated");
		/* An IPv4 address key must not match the IPv6 address that
		 * shares its first bytes (family is part of the key). */
		a.family = 6;
		T_CHECK(bpf_map__lookup_elem(def.skel->maps.fg_decap_addrs, &a,
					     sizeof(a), &i, sizeof(i), 0) != 0,
			"family-less key collision in fg_decap_addrs");
	}

	fg_decap__destroy(def.skel);
	fg_decap__destroy(any.skel);
	fg_decap__destroy(off.skel);
	printf("%d checks passed, %d failed\n", t_passes, t_fails);
	return t_fails ? 1 : 0;
}
