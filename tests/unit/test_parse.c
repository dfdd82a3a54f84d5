/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * test_parse.c - cmocka tests of fg_parse() (dataplane/core/fg_parse.h).
 *
 * Every parse runs on a copy of the packet in a heap buffer of exactly the
 * length under test, so that an ASan build (meson -Db_sanitize=address)
 * reports any read past data_end, and a UBSan build any misaligned access.
 *
 * What is covered: the shared fixture table (every OK shape and every error
 * reason, fields compared byte for byte); every truncation point of every
 * good fixture, both as a cut frame and with the IP length fields rewritten
 * to match (so the L4 bounds are checked against the IP length, not only
 * the frame); sweeps of every value of the length fields (IHL, total
 * length, payload length, doff, UDP length, extension length); extension
 * chains at and past FG_IPV6_EXT_MAX; 64 KiB offset limits; trailing
 * Ethernet padding; and the builder's checksums against known values.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fg_parse.h"
#include "fixtures.h"
#include "pktbuild.h"

/* ---------------------------------------------------------------- helpers */

/*
 * parse_exact - run fg_parse on a private copy of bytes[0..len) in a heap
 * buffer of exactly len bytes (ASan flags any over-read). out is filled
 * with 0xa5 first, so a field the parser forgets to write shows up.
 * Returns fg_parse()'s status.
 */
static int parse_exact(const uint8_t *bytes, size_t len, struct fg_pkt *out)
{
	static uint8_t empty;
	uint8_t *buf = len ? malloc(len) : &empty;
	int rc;

	assert_non_null(buf);
	if (len)
		memcpy(buf, bytes, len);
	memset(out, 0xa5, sizeof(*out));
	rc = fg_parse(buf, buf + len, out);
	if (len)
		free(buf);
	return rc;
}

/* status_name - the enum name of a status, for failure messages. */
static const char *status_name(int st)
{
	static const char *const names[] = {
		"OK", "NOT_IP", "ERR_ETH", "ERR_VLAN", "ERR_IP4", "ERR_IP4_HDR",
		"ERR_IP6", "ERR_IP6_EXT", "ERR_IP6_EXT_DEPTH", "ERR_TCP",
		"ERR_UDP", "ERR_ICMP",
	};
	_Static_assert(sizeof(names) / sizeof(names[0]) == FG_PARSE_STATUS_MAX,
		       "a status without a name");

	if (st < 0 || st >= FG_PARSE_STATUS_MAX)
		return "?";
	return names[st];
}

/*
 * expect_status - fail with context when got != want.
 */
static void expect_status(const char *what, size_t k, int got, int want)
{
	if (got != want) {
		print_error("%s (len %zu): status %s (%d), want %s (%d)\n", what,
			    k, status_name(got), got, status_name(want), want);
		fail();
	}
}

/*
 * expect_pkt - fail, naming each differing field, unless got and want are
 * equal byte for byte.
 */
static void expect_pkt(const char *what, const struct fg_pkt *got,
		       const struct fg_pkt *want)
{
	if (!memcmp(got, want, sizeof(*got)))
		return;
#define FIELD(f) \
	if (memcmp(&got->f, &want->f, sizeof(got->f))) \
		print_error("%s: field " #f " differs\n", what)
	FIELD(l3_off); FIELD(l4_off); FIELD(payload_off); FIELD(l3_len);
	FIELD(vlan_tci); FIELD(eth_proto); FIELD(vlan_count); FIELD(family);
	FIELD(l4_proto); FIELD(flags); FIELD(tcp_flags); FIELD(ttl);
	FIELD(icmp_type); FIELD(icmp_code); FIELD(sport); FIELD(dport);
	FIELD(pad); FIELD(src); FIELD(dst);
#undef FIELD
	print_error("%s: got l3 %u l4 %u pay %u len %u flags %#x proto %u\n",
		    what, got->l3_off, got->l4_off, got->payload_off,
		    got->l3_len, got->flags, got->l4_proto);
	print_error("%s: want l3 %u l4 %u pay %u len %u flags %#x proto %u\n",
		    what, want->l3_off, want->l4_off, want->payload_off,
		    want->l3_len, want->flags, want->l4_proto);
	fail();
}

/* is_good - a fixture that parses to a full result (OK or NOT_IP). */
static int is_good(const struct fg_pkt_fixture *fx)
{
	return fx->status == FG_PARSE_OK || fx->status == FG_PARSE_NOT_IP;
}

/* ip_end - the end offset of the fixture's IP packet (good IP only). */
static size_t ip_end(const struct fg_pkt_fixture *fx)
{
	return (size_t)fx->expect.l3_off + fx->expect.l3_len;
}

/* ---------------------------------------------------------------- table */

/* Every fixture parses to its status; good ones to exactly its struct. */
static void test_fixture_table(void **state)
{
	unsigned int i, n;
	const struct fg_pkt_fixture *t = fg_pkt_fixtures_get(&n);
	unsigned int seen[FG_PARSE_STATUS_MAX] = { 0 };
	struct fg_pkt got;
	int st;

	(void)state;
	assert_true(n > 0);
	for (i = 0; i < n; i++) {
		st = parse_exact(t[i].bytes, t[i].len, &got);
		expect_status(t[i].desc, t[i].len, st, t[i].status);
		if (is_good(&t[i]))
			expect_pkt(t[i].desc, &got, &t[i].expect);
		seen[t[i].status]++;
	}
	/* The table must exercise every outcome the parser can return. */
	for (i = 0; i < FG_PARSE_STATUS_MAX; i++) {
		if (!seen[i])
			print_error("no fixture for status %s\n", status_name((int)i));
		assert_true(seen[i] > 0);
	}
}

/* The fixture table itself is sane: good IP fixtures have ordered offsets
 * inside the frame, flags only where they belong. A broken expectation
 * would otherwise make the other tests vacuous. */
static void test_fixture_expectations_consistent(void **state)
{
	unsigned int i, n, shapes = 0;
	const struct fg_pkt_fixture *t = fg_pkt_fixtures_get(&n);

	(void)state;
	for (i = 0; i < n; i++) {
		const struct fg_pkt *e = &t[i].expect;

		if (t[i].status != FG_PARSE_OK)
			continue;
		shapes++;
		assert_true(e->family == FG_AF_INET || e->family == FG_AF_INET6);
		assert_int_equal(e->l3_off, 14 + 4 * e->vlan_count);
		assert_true(e->l3_off < e->l4_off);
		assert_true(e->l4_off <= e->payload_off);
		assert_true(e->payload_off <= ip_end(&t[i]));
		assert_true(ip_end(&t[i]) <= t[i].len);
		if (e->flags & FG_PKT_F_FRAG_TAIL)
			assert_false(e->flags & FG_PKT_F_L4);
	}
	assert_true(shapes >= 40);
	assert_non_null(fg_pkt_fixture_find("ipv4 tcp syn"));
	assert_null(fg_pkt_fixture_find("no such fixture"));
}

/* The parser defines every byte of the output on success, whatever the
 * struct held before: parse into 0x00- and 0xff-filled structs. */
static void test_output_fully_defined(void **state)
{
	unsigned int i, n;
	const struct fg_pkt_fixture *t = fg_pkt_fixtures_get(&n);
	struct fg_pkt a, b;

	(void)state;
	for (i = 0; i < n; i++) {
		if (!is_good(&t[i]))
			continue;
		memset(&a, 0x00, sizeof(a));
		memset(&b, 0xff, sizeof(b));
		assert_int_equal(fg_parse(t[i].bytes, t[i].bytes + t[i].len, &a),
				 t[i].status);
		assert_int_equal(fg_parse(t[i].bytes, t[i].bytes + t[i].len, &b),
				 t[i].status);
		assert_memory_equal(&a, &b, sizeof(a));
	}
}

/* ---------------------------------------------------------------- truncation */

/*
 * cut_expect - what fg_parse must return for the first k bytes of a good
 * fixture: each layer's own error until its header (or, for IP, its
 * announced length) is complete; then the full result (only reachable in
 * trailing padding).
 */
static int cut_expect(const struct fg_pkt_fixture *fx, size_t k)
{
	const struct fg_pkt *e = &fx->expect;
	size_t ihl;

	if (k < 14)
		return FG_PARSE_ERR_ETH;
	if (k < e->l3_off)
		return FG_PARSE_ERR_VLAN;
	if (fx->status == FG_PARSE_NOT_IP)
		return FG_PARSE_NOT_IP;
	if (e->family == FG_AF_INET) {
		ihl = (size_t)(fx->bytes[e->l3_off] & 0x0f) * 4;
		if (k < e->l3_off + ihl)
			return FG_PARSE_ERR_IP4;
		if (k < ip_end(fx))
			return FG_PARSE_ERR_IP4_HDR;
	} else if (k < ip_end(fx)) {
		return FG_PARSE_ERR_IP6;
	}
	return fx->status;
}

/* Every prefix of every good fixture gives the right error and reads
 * nothing past its end. */
static void test_truncation_cut_frame(void **state)
{
	unsigned int i, n, runs = 0;
	const struct fg_pkt_fixture *t = fg_pkt_fixtures_get(&n);
	struct fg_pkt got;
	char what[160];
	size_t k;
	int want;

	(void)state;
	for (i = 0; i < n; i++) {
		if (!is_good(&t[i]))
			continue;
		for (k = 0; k < t[i].len; k++) {
			want = cut_expect(&t[i], k);
			snprintf(what, sizeof(what), "%s cut at %zu", t[i].desc, k);
			expect_status(what, k, parse_exact(t[i].bytes, k, &got),
				      want);
			if (want == t[i].status)
				expect_pkt(what, &got, &t[i].expect);
			runs++;
		}
	}
	assert_true(runs > 1000);
}

/*
 * fit_expect - what fg_parse must return for the first k bytes of a good IP
 * fixture whose IP length field was rewritten to end the packet at k (k at
 * least the fixed IP header): the IP layer is consistent, so the first
 * header that no longer fits inside the IP packet reports its error.
 */
static int fit_expect(const struct fg_pkt_fixture *fx, size_t k)
{
	const struct fg_pkt *e = &fx->expect;

	if (k < e->l4_off)
		return FG_PARSE_ERR_IP6_EXT; /* only IPv6 has a gap here */
	if (!(e->flags & FG_PKT_F_L4))
		return FG_PARSE_OK; /* fragment tail, opaque protocol */
	switch (e->l4_proto) {
	case FG_IPPROTO_TCP:
		return k < e->payload_off ? FG_PARSE_ERR_TCP : FG_PARSE_OK;
	case FG_IPPROTO_UDP:
		if (k < (size_t)e->l4_off + 8)
			return FG_PARSE_ERR_UDP;
		/* The UDP length still counts the whole datagram: too long
		 * for the shortened packet, unless it is a fragment. */
		if (!(e->flags & FG_PKT_F_FRAG) &&
		    k < (size_t)e->l4_off + fg_pb_get_be16(fx->bytes, e->l4_off + 4))
			return FG_PARSE_ERR_UDP;
		return FG_PARSE_OK;
	default: /* ICMP, ICMPv6 */
		return k < (size_t)e->l4_off + 8 ? FG_PARSE_ERR_ICMP : FG_PARSE_OK;
	}
}

/* Every prefix of every good IP fixture, with the IP length rewritten to
 * match: the L4 (and IPv6 extension) bounds are enforced against the IP
 * packet's own length, and nothing past it is read. */
static void test_truncation_consistent_ip_length(void **state)
{
	unsigned int i, n, runs = 0;
	const struct fg_pkt_fixture *t = fg_pkt_fixtures_get(&n);
	uint8_t buf[FG_FIXTURE_MAX_LEN];
	struct fg_pkt got, want_pkt;
	char what[160];
	size_t k, l3, hdr;
	int want;

	(void)state;
	for (i = 0; i < n; i++) {
		const struct fg_pkt *e = &t[i].expect;

		if (t[i].status != FG_PARSE_OK)
			continue;
		l3 = e->l3_off;
		hdr = e->family == FG_AF_INET ? (size_t)(t[i].bytes[l3] & 0xf) * 4 : 40;
		for (k = l3 + hdr; k < ip_end(&t[i]); k++) {
			memcpy(buf, t[i].bytes, k);
			if (e->family == FG_AF_INET)
				fg_pb_put_be16(buf, l3 + 2, (uint16_t)(k - l3));
			else
				fg_pb_put_be16(buf, l3 + 4, (uint16_t)(k - l3 - 40));
			want = fit_expect(&t[i], k);
			snprintf(what, sizeof(what), "%s ip length cut to %zu",
				 t[i].desc, k);
			expect_status(what, k, parse_exact(buf, k, &got), want);
			if (want == FG_PARSE_OK) {
				want_pkt = *e;
				want_pkt.l3_len = (uint16_t)(k - l3);
				expect_pkt(what, &got, &want_pkt);
			}
			runs++;
		}
	}
	assert_true(runs > 1000);
}

/* Bytes after the IP packet (Ethernet padding to 60 bytes, or junk) change
 * nothing, for every good fixture. */
static void test_trailing_padding(void **state)
{
	static const size_t pads[] = { 1, 2, 3, 7, 8, 46, 300 };
	unsigned int i, n, p;
	const struct fg_pkt_fixture *t = fg_pkt_fixtures_get(&n);
	uint8_t buf[FG_FIXTURE_MAX_LEN + 300];
	struct fg_pkt got;
	int fill;

	(void)state;
	for (i = 0; i < n; i++) {
		if (!is_good(&t[i]))
			continue;
		for (p = 0; p < sizeof(pads) / sizeof(pads[0]); p++) {
			for (fill = 0x00; fill <= 0xff; fill += 0xff) {
				memcpy(buf, t[i].bytes, t[i].len);
				memset(buf + t[i].len, fill, pads[p]);
				expect_status(t[i].desc, t[i].len + pads[p],
					      parse_exact(buf, t[i].len + pads[p], &got),
					      t[i].status);
				expect_pkt(t[i].desc, &got, &t[i].expect);
			}
		}
	}
}

/* ---------------------------------------------------------------- sweeps */

/* build - finish pb, asserting the build worked; returns the length. */
static size_t build(struct fg_pb *pb)
{
	int len = fg_pb_finish(pb);

	assert_true(len > 0);
	return (size_t)len;
}

/* Every IPv4 total length: below 20 is a header error, short of the UDP
 * header or of the UDP length a UDP error, past the frame a header error. */
static void test_sweep_ip4_total_length(void **state)
{
	struct fg_pb_ip4 ip = { .src = 1, .dst = 2 };
	uint8_t buf[128];
	struct fg_pkt got;
	struct fg_pb pb;
	size_t len;
	unsigned int v;
	int want;

	(void)state;
	fg_pb_init(&pb, buf, sizeof(buf));
	fg_pb_eth(&pb, NULL, NULL);
	fg_pb_ip4(&pb, &ip);
	fg_pb_udp(&pb, 1, 2);
	fg_pb_bytes(&pb, NULL, 20);
	len = build(&pb); /* IP 48 bytes: 20 + 8 + 20 */
	for (v = 0; v <= 0xffff; v++) {
		fg_pb_put_be16(buf, 14 + 2, (uint16_t)v);
		if (v < 20 || v > 48)
			want = FG_PARSE_ERR_IP4_HDR;
		else if (v < 48)
			want = FG_PARSE_ERR_UDP;
		else
			want = FG_PARSE_OK;
		expect_status("ipv4 total length sweep", v,
			      parse_exact(buf, len, &got), want);
	}
}

/* Every IHL: below 5 a header error; a header longer than the frame a
 * truncation error; otherwise OK with options flagged and L4 after them. */
static void test_sweep_ip4_ihl(void **state)
{
	static const uint8_t opts[40] = { [0 ... 38] = 0x01, [39] = 0x00 };
	struct fg_pb_ip4 ip = { .src = 1, .dst = 2, .opts = opts,
				.opts_len = sizeof(opts) };
	uint8_t buf[128];
	struct fg_pkt got;
	struct fg_pb pb;
	size_t len, cut;
	unsigned int ihl;
	int st;

	(void)state;
	fg_pb_init(&pb, buf, sizeof(buf));
	fg_pb_eth(&pb, NULL, NULL);
	fg_pb_ip4(&pb, &ip);
	fg_pb_l4_raw(&pb, 253, NULL, 0); /* RFC 3692 experimental: opaque */
	len = build(&pb);
	assert_int_equal(len, 14 + 60);
	for (ihl = 0; ihl < 16; ihl++) {
		buf[14] = (uint8_t)(0x40 | ihl);
		st = parse_exact(buf, len, &got);
		if (ihl < 5) {
			expect_status("ihl sweep", ihl, st, FG_PARSE_ERR_IP4_HDR);
			continue;
		}
		expect_status("ihl sweep", ihl, st, FG_PARSE_OK);
		assert_int_equal(got.l4_off, 14 + ihl * 4);
		assert_int_equal(got.payload_off, got.l4_off);
		assert_int_equal(!!(got.flags & FG_PKT_F_IP4_OPTS), ihl > 5);
		assert_false(got.flags & FG_PKT_F_L4);
		/* The same header in a frame (and total length) of 20 bytes:
		 * any IHL above 5 runs past the frame. */
		cut = 14 + 20;
		fg_pb_put_be16(buf, 14 + 2, 20);
		expect_status("ihl sweep in 20-byte frame", ihl,
			      parse_exact(buf, cut, &got),
			      ihl == 5 ? FG_PARSE_OK : FG_PARSE_ERR_IP4);
		fg_pb_put_be16(buf, 14 + 2, 60);
	}
}

/* Every IPv6 payload length on a UDP packet. */
static void test_sweep_ip6_payload_length(void **state)
{
	struct fg_pb_ip6 ip = { .src = { 0xfe, 0x80 }, .dst = { 0xfe, 0x80 } };
	uint8_t buf[128];
	struct fg_pkt got;
	struct fg_pb pb;
	size_t len;
	unsigned int v;
	int want;

	(void)state;
	fg_pb_init(&pb, buf, sizeof(buf));
	fg_pb_eth(&pb, NULL, NULL);
	fg_pb_ip6(&pb, &ip);
	fg_pb_udp(&pb, 1, 2);
	fg_pb_bytes(&pb, NULL, 12);
	len = build(&pb); /* payload 20 */
	for (v = 0; v <= 0xffff; v++) {
		fg_pb_put_be16(buf, 14 + 4, (uint16_t)v);
		if (v > 20)
			want = FG_PARSE_ERR_IP6;
		else if (v < 20)
			want = FG_PARSE_ERR_UDP;
		else
			want = FG_PARSE_OK;
		expect_status("ipv6 payload length sweep", v,
			      parse_exact(buf, len, &got), want);
	}
}

/* Every TCP data offset on a segment of 20 + 24 bytes. */
static void test_sweep_tcp_doff(void **state)
{
	struct fg_pb_ip4 ip = { .src = 1, .dst = 2 };
	struct fg_pb_tcp tcp = { .sport = 1, .dport = 2, .flags = FG_TCP_SYN };
	uint8_t buf[128];
	struct fg_pkt got;
	struct fg_pb pb;
	size_t len;
	unsigned int doff;
	int st;

	(void)state;
	fg_pb_init(&pb, buf, sizeof(buf));
	fg_pb_eth(&pb, NULL, NULL);
	fg_pb_ip4(&pb, &ip);
	fg_pb_tcp(&pb, &tcp);
	fg_pb_bytes(&pb, NULL, 24);
	len = build(&pb);
	for (doff = 0; doff < 16; doff++) {
		buf[34 + 12] = (uint8_t)(doff << 4);
		st = parse_exact(buf, len, &got);
		if (doff < 5 || doff * 4 > 44) {
			expect_status("doff sweep", doff, st, FG_PARSE_ERR_TCP);
			continue;
		}
		expect_status("doff sweep", doff, st, FG_PARSE_OK);
		assert_int_equal(got.payload_off, 34 + doff * 4);
		assert_int_equal(got.tcp_flags, FG_TCP_SYN);
	}
}

/* Every UDP length on a datagram with 20 bytes of IP payload; and the same
 * as a first fragment, where only the lower bound applies. */
static void test_sweep_udp_length(void **state)
{
	struct fg_pb_ip4 ip = { .src = 1, .dst = 2 };
	uint8_t buf[128];
	struct fg_pkt got;
	struct fg_pb pb;
	size_t len;
	unsigned int v;
	int frag, want;

	(void)state;
	for (frag = 0; frag < 2; frag++) {
		ip.frag_off = frag ? 0x2000 : 0;
		fg_pb_init(&pb, buf, sizeof(buf));
		fg_pb_eth(&pb, NULL, NULL);
		fg_pb_ip4(&pb, &ip);
		fg_pb_udp(&pb, 1, 2);
		fg_pb_bytes(&pb, NULL, 12);
		len = build(&pb);
		for (v = 0; v <= 0xffff; v++) {
			fg_pb_put_be16(buf, 34 + 4, (uint16_t)v);
			if (v < 8 || (!frag && v > 20))
				want = FG_PARSE_ERR_UDP;
			else
				want = FG_PARSE_OK;
			expect_status(frag ? "udp length sweep (fragment)" :
				      "udp length sweep", v,
				      parse_exact(buf, len, &got), want);
			if (want == FG_PARSE_OK)
				assert_int_equal(got.payload_off, 34 + 8);
		}
	}
}

/* Every extension length byte, for the 8-byte-unit kinds and for AH, on a
 * chain ending in no-next-header with 64 bytes of IPv6 payload. */
static void test_sweep_ip6_ext_len(void **state)
{
	static const uint8_t kinds[] = { FG_IPPROTO_HOPOPTS, FG_IPPROTO_ROUTING,
					 FG_IPPROTO_DSTOPTS, FG_IPPROTO_AH };
	struct fg_pb_ip6 ip = { .src = { 1 }, .dst = { 2 } };
	uint8_t buf[256];
	struct fg_pkt got;
	struct fg_pb pb;
	unsigned int kd, v, ext_len;
	size_t len;
	int want;

	(void)state;
	for (kd = 0; kd < sizeof(kinds); kd++) {
		fg_pb_init(&pb, buf, sizeof(buf));
		fg_pb_eth(&pb, NULL, NULL);
		fg_pb_ip6(&pb, &ip);
		fg_pb_ip6_ext(&pb, kinds[kd], 8);
		fg_pb_l4_raw(&pb, FG_IPPROTO_NONE, NULL, 56);
		len = build(&pb);
		for (v = 0; v < 256; v++) {
			buf[54 + 1] = (uint8_t)v;
			if (kinds[kd] == FG_IPPROTO_AH) {
				ext_len = (v + 2) * 4;
				want = (v & 1) || ext_len > 64 ?
				       FG_PARSE_ERR_IP6_EXT : FG_PARSE_OK;
			} else {
				ext_len = (v + 1) * 8;
				want = ext_len > 64 ? FG_PARSE_ERR_IP6_EXT :
				       FG_PARSE_OK;
			}
			expect_status("ext length sweep", v,
				      parse_exact(buf, len, &got), want);
			if (want == FG_PARSE_OK) {
				assert_int_equal(got.l4_off, 54 + ext_len);
				assert_int_equal(got.l4_proto, FG_IPPROTO_NONE);
				assert_true(got.flags & FG_PKT_F_IP6_EXT);
			}
		}
	}
}

/* ---------------------------------------------------------------- chains */

/*
 * build_chain - an IPv6 UDP packet behind n extension headers of type kind
 * (all of len bytes; kind 44 builds atomic fragment headers) into buf.
 * Returns the frame length.
 */
static size_t build_chain(uint8_t *buf, size_t cap, unsigned int n,
			  uint8_t kind, size_t ext_len)
{
	struct fg_pb_ip6 ip = { .src = { 1 }, .dst = { 2 } };
	struct fg_pb pb;
	unsigned int i;

	fg_pb_init(&pb, buf, cap);
	fg_pb_eth(&pb, NULL, NULL);
	fg_pb_ip6(&pb, &ip);
	for (i = 0; i < n; i++) {
		if (kind == FG_IPPROTO_FRAGMENT)
			fg_pb_ip6_frag(&pb, 0, false, i);
		else
			fg_pb_ip6_ext(&pb, kind, ext_len);
	}
	fg_pb_udp(&pb, 7, 9);
	return build(&pb);
}

/* Chains of 0..FG_IPV6_EXT_MAX headers parse, one more is a depth error,
 * for every extension kind (hop-by-hop may only come first: a chain of two
 * or more is malformed). */
static void test_ext_chain_depth(void **state)
{
	static const uint8_t kinds[] = { FG_IPPROTO_ROUTING, FG_IPPROTO_DSTOPTS,
					 FG_IPPROTO_AH, FG_IPPROTO_FRAGMENT,
					 FG_IPPROTO_HOPOPTS };
	uint8_t buf[1024];
	struct fg_pkt got;
	unsigned int kd, n;
	size_t len;
	int st;

	(void)state;
	for (kd = 0; kd < sizeof(kinds); kd++) {
		for (n = 0; n <= FG_IPV6_EXT_MAX + 1; n++) {
			len = build_chain(buf, sizeof(buf), n, kinds[kd], 16);
			st = parse_exact(buf, len, &got);
			if (kinds[kd] == FG_IPPROTO_HOPOPTS && n >= 2) {
				expect_status("hbh chain", n, st,
					      FG_PARSE_ERR_IP6_EXT);
				continue;
			}
			if (n > FG_IPV6_EXT_MAX) {
				expect_status("chain", n, st,
					      FG_PARSE_ERR_IP6_EXT_DEPTH);
				continue;
			}
			expect_status("chain", n, st, FG_PARSE_OK);
			assert_int_equal(got.l4_proto, FG_IPPROTO_UDP);
			assert_int_equal(got.l4_off, len - 8);
			assert_int_equal(got.dport, htons(9));
			assert_int_equal(!!(got.flags & FG_PKT_F_IP6_EXT), n > 0);
			/* Atomic fragments are not fragments. */
			assert_false(got.flags & FG_PKT_F_FRAG);
		}
	}
}

/* The longest chain we accept: FG_IPV6_EXT_MAX headers of 2048 bytes puts
 * the L4 header 16 KiB in; offsets must come out exact. */
static void test_ext_chain_longest(void **state)
{
	size_t cap = 14 + 40 + FG_IPV6_EXT_MAX * 2048 + 8;
	uint8_t *buf = malloc(cap);
	struct fg_pkt got;
	size_t len;

	(void)state;
	assert_non_null(buf);
	len = build_chain(buf, cap, FG_IPV6_EXT_MAX, FG_IPPROTO_DSTOPTS, 2048);
	assert_int_equal(len, cap);
	expect_status("longest chain", len, parse_exact(buf, len, &got),
		      FG_PARSE_OK);
	assert_int_equal(got.l4_off, cap - 8);
	assert_int_equal(got.payload_off, cap);
	assert_int_equal(got.l3_len, cap - 14);
	free(buf);
}

/* ---------------------------------------------------------------- limits */

/* Offsets are 16-bit: an IP packet ending past 64 KiB into the frame is
 * refused rather than truncated into a wrong offset; one ending exactly at
 * 65535 is fine. */
static void test_offsets_fit_16_bits(void **state)
{
	size_t cap = 70000;
	uint8_t *buf = malloc(cap);
	struct fg_pb_ip4 ip4 = { .src = 1, .dst = 2 };
	struct fg_pb_ip6 ip6 = { .src = { 1 }, .dst = { 2 } };
	struct fg_pkt got;
	struct fg_pb pb;
	size_t len;

	(void)state;
	assert_non_null(buf);
	/* IPv4 after QinQ ending at byte 65535. */
	fg_pb_init(&pb, buf, cap);
	fg_pb_eth(&pb, NULL, NULL);
	fg_pb_vlan(&pb, 0x88a8, 1);
	fg_pb_vlan(&pb, 0x8100, 2);
	fg_pb_ip4(&pb, &ip4);
	fg_pb_udp(&pb, 1, 2);
	fg_pb_bytes(&pb, NULL, 0xffff - 22 - 28);
	len = build(&pb);
	assert_int_equal(len, 0xffff);
	expect_status("v4 at 64k", len, parse_exact(buf, len, &got), FG_PARSE_OK);
	assert_int_equal(got.payload_off, 22 + 28);
	assert_int_equal(got.l3_len, 0xffff - 22);
	/* One more byte of IPv4 packet (total length 65514 at offset 22). */
	memset(buf + len, 0, 1);
	fg_pb_put_be16(buf, 22 + 2, 0xffff - 22 + 1);
	expect_status("v4 past 64k", len + 1, parse_exact(buf, len + 1, &got),
		      FG_PARSE_ERR_IP4_HDR);
	/* The largest total length, with the frame long enough for it. */
	fg_pb_put_be16(buf, 22 + 2, 0xffff);
	expect_status("v4 65535 at 22", cap, parse_exact(buf, cap, &got),
		      FG_PARSE_ERR_IP4_HDR);

	/* IPv6: payload length 65535 would end at 14 + 40 + 65535. */
	fg_pb_init(&pb, buf, cap);
	fg_pb_eth(&pb, NULL, NULL);
	fg_pb_ip6(&pb, &ip6);
	fg_pb_udp(&pb, 1, 2);
	fg_pb_bytes(&pb, NULL, 0xffff - 54 - 8);
	len = build(&pb);
	expect_status("v6 at 64k", len, parse_exact(buf, len, &got), FG_PARSE_OK);
	assert_int_equal(got.l3_len, 0xffff - 14);
	fg_pb_put_be16(buf, 14 + 4, 0xffff);
	expect_status("v6 past 64k", cap, parse_exact(buf, cap, &got),
		      FG_PARSE_ERR_IP6);
	free(buf);
}

/* ICMP echo identifiers land in both ports; other ICMP types leave ports
 * zero but still count as parsed L4. */
static void test_icmp_fields(void **state)
{
	const struct fg_pkt_fixture *echo, *unreach;
	struct fg_pkt got;

	(void)state;
	echo = fg_pkt_fixture_find("ipv6 icmpv6 echo request");
	unreach = fg_pkt_fixture_find("ipv4 icmp port unreachable");
	assert_non_null(echo);
	assert_non_null(unreach);
	expect_status("echo", echo->len, parse_exact(echo->bytes, echo->len, &got),
		      FG_PARSE_OK);
	assert_int_equal(got.sport, htons(0x4242));
	assert_int_equal(got.dport, htons(0x4242));
	assert_int_equal(got.icmp_type, 128);
	assert_true(got.flags & FG_PKT_F_L4);
	expect_status("unreach", unreach->len,
		      parse_exact(unreach->bytes, unreach->len, &got), FG_PARSE_OK);
	assert_int_equal(got.sport, 0);
	assert_int_equal(got.dport, 0);
	assert_int_equal(got.icmp_type, 3);
	assert_int_equal(got.icmp_code, 3);
	assert_true(got.flags & FG_PKT_F_L4);
}

/* ---------------------------------------------------------------- builder */

/* ones_sum - an independent one's-complement sum of 16-bit big-endian
 * words (no folding until the end), to check the builder against. */
static uint32_t ones_sum(const uint8_t *p, size_t len)
{
	uint64_t s = 0;
	size_t i;

	for (i = 0; i < len; i++)
		s += (i & 1) ? p[i] : (uint64_t)p[i] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint32_t)s;
}

/* The IPv4 header checksum matches a published example (192.168.0.1 ->
 * 192.168.0.199, UDP, DF, TTL 64, total length 0x73: checksum 0xb861). */
static void test_builder_ip4_checksum_known(void **state)
{
	struct fg_pb_ip4 ip = { .src = 0xc0a80001, .dst = 0xc0a800c7,
				.ttl = 64, .frag_off = 0x4000 };
	uint8_t buf[256];
	struct fg_pb pb;

	(void)state;
	fg_pb_init(&pb, buf, sizeof(buf));
	fg_pb_eth(&pb, NULL, NULL);
	fg_pb_ip4(&pb, &ip);
	fg_pb_udp(&pb, 1, 2);
	fg_pb_bytes(&pb, NULL, 0x73 - 28);
	assert_int_equal(build(&pb), 14 + 0x73);
	assert_int_equal(fg_pb_get_be16(buf, 14 + 2), 0x73);
	assert_int_equal(fg_pb_get_be16(buf, 14 + 10), 0xb861);
}

/* Every unfragmented, unpatched TCP/UDP/ICMP fixture carries a valid L4
 * checksum and every IPv4 fixture a valid header checksum, by a separate
 * summation over the pseudo-header and the segment. */
static void test_builder_l4_checksums(void **state)
{
	unsigned int i, n, checked = 0;
	const struct fg_pkt_fixture *t = fg_pkt_fixtures_get(&n);
	uint8_t ph[40];
	uint32_t s;

	(void)state;
	for (i = 0; i < n; i++) {
		const struct fg_pkt *e = &t[i].expect;
		const uint8_t *ip = t[i].bytes + e->l3_off;
		size_t l4len = ip_end(&t[i]) - e->l4_off;

		if (t[i].status != FG_PARSE_OK)
			continue;
		if (e->family == FG_AF_INET)
			assert_int_equal(ones_sum(ip, (size_t)(ip[0] & 0xf) * 4),
					 0xffff);
		/* A first fragment's checksum covers the whole datagram;
		 * the "length beyond fragment" fixtures patch the header. */
		if (!(e->flags & FG_PKT_F_L4) || (e->flags & FG_PKT_F_FRAG))
			continue;
		memset(ph, 0, sizeof(ph));
		if (e->family == FG_AF_INET) {
			memcpy(ph, ip + 12, 8);
			ph[9] = e->l4_proto;
			ph[10] = (uint8_t)(l4len >> 8);
			ph[11] = (uint8_t)l4len;
			s = e->l4_proto == FG_IPPROTO_ICMP ? 0 : ones_sum(ph, 12);
		} else {
			memcpy(ph, ip + 8, 32);
			ph[34] = (uint8_t)(l4len >> 8);
			ph[35] = (uint8_t)l4len;
			ph[39] = e->l4_proto;
			s = ones_sum(ph, 40);
		}
		s += ones_sum(t[i].bytes + e->l4_off, l4len);
		while (s >> 16)
			s = (s & 0xffff) + (s >> 16);
		if (s != 0xffff)
			print_error("%s: bad L4 checksum\n", t[i].desc);
		assert_int_equal(s, 0xffff);
		checked++;
	}
	assert_true(checked >= 20);
}

/* Builder errors are reported and sticky. */
static void test_builder_errors(void **state)
{
	struct fg_pb_ip4 ip = { .src = 1, .dst = 2 };
	struct fg_pb_tcp tcp = { .opts_len = 3 };
	uint8_t buf[40];
	struct fg_pb pb;

	(void)state;
	fg_pb_init(&pb, buf, sizeof(buf));
	assert_int_equal(fg_pb_udp(&pb, 1, 2), -EINVAL);   /* nothing before */
	assert_int_equal(fg_pb_finish(&pb), -EINVAL);      /* sticky */

	fg_pb_init(&pb, buf, sizeof(buf));
	assert_int_equal(fg_pb_eth(&pb, NULL, NULL), 0);
	assert_int_equal(fg_pb_ip4(&pb, &ip), 0);
	assert_int_equal(fg_pb_tcp(&pb, &tcp), -EINVAL);   /* opts_len % 4 */

	fg_pb_init(&pb, buf, sizeof(buf));
	fg_pb_eth(&pb, NULL, NULL);
	fg_pb_ip4(&pb, &ip);
	assert_int_equal(fg_pb_udp(&pb, 1, 2), -ENOSPC);   /* 42 > 40 */
	assert_int_equal(fg_pb_finish(&pb), -ENOSPC);

	fg_pb_init(&pb, buf, sizeof(buf));
	fg_pb_eth(&pb, NULL, NULL);
	fg_pb_ip4(&pb, &ip);
	assert_int_equal(fg_pb_ip6_ext(&pb, FG_IPPROTO_DSTOPTS, 8), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixture_table),
		cmocka_unit_test(test_fixture_expectations_consistent),
		cmocka_unit_test(test_output_fully_defined),
		cmocka_unit_test(test_truncation_cut_frame),
		cmocka_unit_test(test_truncation_consistent_ip_length),
		cmocka_unit_test(test_trailing_padding),
		cmocka_unit_test(test_sweep_ip4_total_length),
		cmocka_unit_test(test_sweep_ip4_ihl),
		cmocka_unit_test(test_sweep_ip6_payload_length),
		cmocka_unit_test(test_sweep_tcp_doff),
		cmocka_unit_test(test_sweep_udp_length),
		cmocka_unit_test(test_sweep_ip6_ext_len),
		cmocka_unit_test(test_ext_chain_depth),
		cmocka_unit_test(test_ext_chain_longest),
		cmocka_unit_test(test_offsets_fit_16_bits),
		cmocka_unit_test(test_icmp_fields),
		cmocka_unit_test(test_builder_ip4_checksum_known),
		cmocka_unit_test(test_builder_l4_checksums),
		cmocka_unit_test(test_builder_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
