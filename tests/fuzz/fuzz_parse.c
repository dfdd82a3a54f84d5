/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * fuzz_parse.c - libFuzzer target for fg_parse().
 *
 * Each input is copied into a heap buffer of exactly its size (so ASan
 * catches any read past data_end, which the fuzzer's own buffer might
 * hide), parsed twice into differently pre-filled structs, and the result
 * checked against invariants that hold for every input: offsets ordered
 * and inside the frame and the IP packet, flags consistent with each other
 * and with the bytes, every field defined. A violation prints what failed
 * and aborts, which libFuzzer records as a crash.
 *
 * Built two ways (tests/fuzz/meson.build): with clang -fsanitize=fuzzer
 * for fuzzing, and with replay_main.c as a plain program that runs the
 * checked-in corpus as a regression test.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fg_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* fz_fail - report a broken invariant and abort (a libFuzzer crash). */
static void fz_fail(const char *what, int line)
{
	fprintf(stderr, "fuzz_parse: invariant violated at line %d: %s\n",
		line, what);
	abort();
}

#define FZ_CHECK(cond) \
	do { \
		if (!(cond)) \
			fz_fail(#cond, __LINE__); \
	} while (0)

/* fz_be16 - the big-endian 16-bit value at p. */
static uint16_t fz_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* fz_check_l4 - invariants of the L4 part of a successful IP parse. */
static void fz_check_l4(const uint8_t *buf, const struct fg_pkt *p)
{
	unsigned int hlen = (unsigned int)(p->payload_off - p->l4_off);

	if (!(p->flags & FG_PKT_F_L4)) {
		/* Nothing past the IP headers was interpreted. */
		FZ_CHECK(p->payload_off == p->l4_off);
		FZ_CHECK(p->sport == 0 && p->dport == 0);
		FZ_CHECK(p->tcp_flags == 0);
		FZ_CHECK(p->icmp_type == 0 && p->icmp_code == 0);
		return;
	}
	FZ_CHECK(!(p->flags & FG_PKT_F_FRAG_TAIL));
	switch (p->l4_proto) {
	case FG_IPPROTO_TCP:
		FZ_CHECK(hlen >= 20 && hlen <= 60 && hlen % 4 == 0);
		FZ_CHECK(hlen == (unsigned int)(buf[p->l4_off + 12] >> 4) * 4);
		FZ_CHECK(p->tcp_flags == buf[p->l4_off + 13]);
		FZ_CHECK(memcmp(&p->sport, buf + p->l4_off, 2) == 0);
		FZ_CHECK(memcmp(&p->dport, buf + p->l4_off + 2, 2) == 0);
		FZ_CHECK(p->icmp_type == 0 && p->icmp_code == 0);
		break;
	case FG_IPPROTO_UDP:
		FZ_CHECK(hlen == 8);
		FZ_CHECK(fz_be16(buf + p->l4_off + 4) >= 8);
		if (!(p->flags & FG_PKT_F_FRAG))
			FZ_CHECK(p->l4_off + fz_be16(buf + p->l4_off + 4) <=
				 p->l3_off + p->l3_len);
		FZ_CHECK(memcmp(&p->sport, buf + p->l4_off, 2) == 0);
		FZ_CHECK(memcmp(&p->dport, buf + p->l4_off + 2, 2) == 0);
		FZ_CHECK(p->tcp_flags == 0 && p->icmp_type == 0);
		break;
	case FG_IPPROTO_ICMP:
	case FG_IPPROTO_ICMPV6:
		FZ_CHECK(p->l4_proto == (p->family == FG_AF_INET ?
					 FG_IPPROTO_ICMP : FG_IPPROTO_ICMPV6));
		FZ_CHECK(hlen == 8);
		FZ_CHECK(p->icmp_type == buf[p->l4_off]);
		FZ_CHECK(p->icmp_code == buf[p->l4_off + 1]);
		FZ_CHECK(p->sport == p->dport);
		if (p->sport)
			FZ_CHECK(memcmp(&p->sport, buf + p->l4_off + 4, 2) == 0);
		FZ_CHECK(p->tcp_flags == 0);
		break;
	default:
		fz_fail("FG_PKT_F_L4 on a protocol without a parser", __LINE__);
	}
}

/* fz_check_ok - invariants of an FG_PARSE_OK result on buf[0..size). */
static void fz_check_ok(const uint8_t *buf, size_t size,
			const struct fg_pkt *p)
{
	unsigned int i, l3hdr = (unsigned int)(p->l4_off - p->l3_off);
	size_t end = (size_t)p->l3_off + p->l3_len;

	FZ_CHECK(p->family == FG_AF_INET || p->family == FG_AF_INET6);
	FZ_CHECK(p->l3_off < p->l4_off);
	FZ_CHECK(p->l4_off <= p->payload_off);
	FZ_CHECK(p->payload_off <= end);
	FZ_CHECK(end <= size);
	FZ_CHECK(p->pad == 0);
	FZ_CHECK(memcmp(&p->eth_proto, buf + p->l3_off - 2, 2) == 0);
	FZ_CHECK((buf[p->l3_off] >> 4) == p->family);
	if (p->flags & FG_PKT_F_FRAG_TAIL)
		FZ_CHECK((p->flags & FG_PKT_F_FRAG) &&
			 !(p->flags & FG_PKT_F_L4));

	if (p->family == FG_AF_INET) {
		FZ_CHECK(p->eth_proto == FG_BE16(ETH_P_IP));
		FZ_CHECK(l3hdr == (unsigned int)(buf[p->l3_off] & 0xf) * 4);
		FZ_CHECK(l3hdr >= 20 && p->l3_len >= l3hdr);
		FZ_CHECK(p->l3_len == fz_be16(buf + p->l3_off + 2));
		FZ_CHECK(!!(p->flags & FG_PKT_F_IP4_OPTS) == (l3hdr > 20));
		FZ_CHECK(!(p->flags & FG_PKT_F_IP6_EXT));
		FZ_CHECK(p->ttl == buf[p->l3_off + 8]);
		FZ_CHECK(p->l4_proto == buf[p->l3_off + 9]);
		FZ_CHECK(memcmp(&p->src[0], buf + p->l3_off + 12, 4) == 0);
		FZ_CHECK(memcmp(&p->dst[0], buf + p->l3_off + 16, 4) == 0);
		for (i = 1; i < 4; i++)
			FZ_CHECK(p->src[i] == 0 && p->dst[i] == 0);
		FZ_CHECK(!!(p->flags & FG_PKT_F_FRAG) ==
			 !!(fz_be16(buf + p->l3_off + 6) & 0x3fff));
		FZ_CHECK(!!(p->flags & FG_PKT_F_FRAG_TAIL) ==
			 !!(fz_be16(buf + p->l3_off + 6) & 0x1fff));
	} else {
		FZ_CHECK(p->eth_proto == FG_BE16(ETH_P_IPV6));
		FZ_CHECK(l3hdr >= 40);
		FZ_CHECK(l3hdr <= 40 + FG_IPV6_EXT_MAX * 2048);
		FZ_CHECK(!!(p->flags & FG_PKT_F_IP6_EXT) == (l3hdr > 40));
		FZ_CHECK(l3hdr % 8 == 0);
		FZ_CHECK(p->l3_len == 40 + fz_be16(buf + p->l3_off + 4));
		FZ_CHECK(!(p->flags & FG_PKT_F_IP4_OPTS));
		FZ_CHECK(p->ttl == buf[p->l3_off + 7]);
		FZ_CHECK(memcmp(p->src, buf + p->l3_off + 8, 16) == 0);
		FZ_CHECK(memcmp(p->dst, buf + p->l3_off + 24, 16) == 0);
		if (!(p->flags & FG_PKT_F_IP6_EXT)) {
			FZ_CHECK(p->l4_proto == buf[p->l3_off + 6]);
			FZ_CHECK(!(p->flags & FG_PKT_F_FRAG));
		}
		/* The chain ended: the header type after it is not an
		 * extension we walk, unless a fragment tail stopped it. */
		if (!(p->flags & FG_PKT_F_FRAG_TAIL))
			FZ_CHECK(p->l4_proto != FG_IPPROTO_HOPOPTS &&
				 p->l4_proto != FG_IPPROTO_ROUTING &&
				 p->l4_proto != FG_IPPROTO_FRAGMENT &&
				 p->l4_proto != FG_IPPROTO_DSTOPTS &&
				 p->l4_proto != FG_IPPROTO_AH);
	}
	fz_check_l4(buf, p);
}

/* fz_check_l2 - invariants of OK and NOT_IP results: the L2 part. */
static void fz_check_l2(const uint8_t *buf, const struct fg_pkt *p)
{
	unsigned int i;

	FZ_CHECK(p->vlan_count <= FG_VLAN_MAX_DEPTH);
	FZ_CHECK(p->l3_off == 14 + 4 * p->vlan_count);
	FZ_CHECK(!!(p->flags & FG_PKT_F_VLAN) == (p->vlan_count > 0));
	for (i = 0; i < FG_VLAN_MAX_DEPTH; i++) {
		if (i < p->vlan_count)
			FZ_CHECK(p->vlan_tci[i] == fz_be16(buf + 14 + 4 * i));
		else
			FZ_CHECK(p->vlan_tci[i] == 0);
	}
	FZ_CHECK(p->eth_proto != FG_BE16(ETH_P_8021Q) &&
		 p->eth_proto != FG_BE16(ETH_P_8021AD));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct fg_pkt zero;
	struct fg_pkt a, b, c, not_ip;
	uint8_t *buf;
	int st, st2;

	/* malloc(0) may return NULL; an empty frame still gets parsed. */
	buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);

	memset(&a, 0x00, sizeof(a));
	memset(&b, 0xff, sizeof(b));
	st = fg_parse(buf, buf + size, &a);
	st2 = fg_parse(buf, buf + size, &b);
	FZ_CHECK(st == st2);
	FZ_CHECK(st >= 0 && st < FG_PARSE_STATUS_MAX);
	if (st == FG_PARSE_OK || st == FG_PARSE_NOT_IP) {
		/* Every byte defined: the pre-fill made no difference. */
		FZ_CHECK(memcmp(&a, &b, sizeof(a)) == 0);
		fz_check_l2(buf, &a);
	}
	if (st == FG_PARSE_NOT_IP) {
		FZ_CHECK(a.l3_off <= size);
		FZ_CHECK(a.eth_proto != FG_BE16(ETH_P_IP) &&
			 a.eth_proto != FG_BE16(ETH_P_IPV6));
		/* Nothing past L2 is set. */
		not_ip = zero;
		memcpy(not_ip.vlan_tci, a.vlan_tci, sizeof(a.vlan_tci));
		not_ip.vlan_count = a.vlan_count;
		not_ip.eth_proto = a.eth_proto;
		not_ip.l3_off = a.l3_off;
		not_ip.flags = a.flags;
		FZ_CHECK(memcmp(&a, &not_ip, sizeof(a)) == 0);
	}
	if (st == FG_PARSE_OK) {
		fz_check_ok(buf, size, &a);
		/* Bytes after the IP packet are padding: the frame cut at the
		 * end of the IP packet parses the same (in a buffer of exactly
		 * that size, so the parser was not reading them either). */
		free(buf);
		size = (size_t)a.l3_off + a.l3_len;
		buf = malloc(size);
		if (!buf)
			return 0;
		memcpy(buf, data, size);
		FZ_CHECK(fg_parse(buf, buf + size, &c) == FG_PARSE_OK);
		FZ_CHECK(memcmp(&a, &c, sizeof(a)) == 0);
	}
	free(buf);
	return 0;
}
