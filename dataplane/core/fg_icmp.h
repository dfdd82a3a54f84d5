/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * fg_icmp.h - the answer to a client whose packet the path to its backend
 * cannot carry once encapsulated: ICMPv4 "fragmentation needed" (type 3,
 * code 4, RFC 1191) or ICMPv6 "packet too big" (type 2, RFC 4443), from
 * the address the client sent to (the VIP), quoting the client's packet.
 * Path MTU discovery then shrinks the client's segments, where a silent
 * drop would stall the connection. Both dataplanes build it with this
 * code, so their answers are the same bytes.
 *
 * The caller makes the room: Ethernet header, then fg_icmp_too_big_hdr_len
 * bytes for the IP and ICMP headers, then the client's packet cut to
 * fg_icmp_too_big_quote bytes; fg_icmp_too_big_write fills the headers in.
 * Pure: no maps, no helpers. Context: any (BPF program, DPDK worker, tests).
 */
#ifndef FG_ICMP_H
#define FG_ICMP_H

#include "fg_types.h"
#include "fg_parse.h"
#include "fg_csum.h"

/* The answer quotes the offending packet's first FG_ICMP_QUOTE_MAX bytes
 * (fewer when it is shorter): its IP header, extension headers and
 * transport header, which is what the client's stack matches the answer
 * against (RFC 792 asks for the IP header and 8 bytes; RFC 1812 and RFC
 * 4443 allow up to 576 / 1280 bytes in all). More would buy nothing and
 * would cost the XDP program's verification a longer checksum loop. */
#define FG_ICMP_QUOTE_MAX 256U
/* IPv6 never reports an MTU below its minimum (RFC 8201). */
#define FG_ICMP6_MTU_MIN 1280U
#define FG_ICMP4_FRAG_NEEDED 3U /* type; code 4 */
#define FG_ICMP6_TOO_BIG 2U     /* type; code 0 */

/* Eight bytes of a frame, wherever they sit (FG_WIRE). */
struct fg_icmp_w64 {
	__u64 v;
} FG_WIRE;

/* fg_icmp_too_big_hdr_len - the answer's IP + ICMP header bytes. */
FG_INLINE __u32 fg_icmp_too_big_hdr_len(__u8 family)
{
	return (family == FG_AF_INET ? sizeof(struct fg_ip4_hdr) :
				       sizeof(struct fg_ip6_hdr)) +
	       sizeof(struct fg_icmp_hdr);
}

/* fg_icmp_too_big_quote - how many bytes of a packet of l3_len bytes the
 * answer quotes. */
FG_INLINE __u32 fg_icmp_too_big_quote(__u8 family, __u32 l3_len)
{
	(void)family;
	return l3_len < FG_ICMP_QUOTE_MAX ? l3_len : FG_ICMP_QUOTE_MAX;
}

/* fg_icmp_too_big_mtu - the MTU the answer reports for a path of mtu
 * bytes when encapsulation adds `outer` bytes: what the client's own
 * packets may carry. */
FG_INLINE __u32 fg_icmp_too_big_mtu(__u8 family, __u32 mtu, __u32 outer)
{
	__u32 m = mtu > outer ? mtu - outer : 0;

	if (family == FG_AF_INET6 && m < FG_ICMP6_MTU_MIN)
		m = FG_ICMP6_MTU_MIN;
	return m;
}

/*
 * fg_icmp_too_big_write - fill in at hdr the IP header (from `from`, the
 * address the offending packet was sent to, to `to`, its source: 4 words
 * each, IPv4 in word 0) and the ICMP header of the answer about the
 * quote_len bytes that follow them (already in place: the packet's first
 * bytes), reporting `mtu`. Returns 0, or -1 when the frame ends before
 * the headers and the quote, or quote_len is over the family's maximum.
 */
FG_INLINE int fg_icmp_too_big_write(void *hdr, const void *end, __u8 family,
				    const __be32 *from, const __be32 *to,
				    __u32 quote_len, __u32 mtu)
{
	__u32 hl = fg_icmp_too_big_hdr_len(family), sum = 0, i;
	struct fg_icmp_hdr *ic;
	const __u8 *q;

	if (quote_len > FG_ICMP_QUOTE_MAX)
		return -1;
	q = (const __u8 *)hdr + hl;
	if ((const void *)(q + quote_len) > end)
		return -1;
	if (family == FG_AF_INET) {
		struct fg_ip4_hdr *iph = hdr;

		/* Checked with constant offsets too, for the verifier. */
		if ((void *)((__u8 *)(iph + 1) + sizeof(*ic)) > end)
			return -1;
		fg_ip4_hdr_write(iph, hl + quote_len, FG_IPPROTO_ICMP, from[0],
				 to[0]);
		ic = (struct fg_icmp_hdr *)(iph + 1);
		ic->type = FG_ICMP4_FRAG_NEEDED;
		ic->code = 4;
		ic->id = 0;                       /* unused */
		ic->sequence = fg_htons(mtu > 0xffff ? 0xffff : mtu);
	} else {
		struct fg_ip6_hdr *ip6 = hdr;

		if ((void *)((__u8 *)(ip6 + 1) + sizeof(*ic)) > end)
			return -1;
		ip6->ver_tc_flow[0] = 0x60;
		ip6->ver_tc_flow[1] = 0;
		ip6->ver_tc_flow[2] = 0;
		ip6->ver_tc_flow[3] = 0;
		ip6->payload_len = fg_htons(sizeof(*ic) + quote_len);
		ip6->nexthdr = FG_IPPROTO_ICMPV6;
		ip6->hop_limit = 64;
		FG_UNROLL
		for (i = 0; i < 4; i++) {
			ip6->saddr[i] = from[i];
			ip6->daddr[i] = to[i];
		}
		ic = (struct fg_icmp_hdr *)(ip6 + 1);
		ic->type = FG_ICMP6_TOO_BIG;
		ic->code = 0;
		/* The 32-bit MTU field, in the id and sequence halves. */
		ic->id = fg_htons(mtu >> 16);
		ic->sequence = fg_htons(mtu & 0xffff);
		/* The pseudo-header: addresses, length, next header. */
		sum = fg_csum_partial_words((const __u16 *)from, 8, 0);
		sum = fg_csum_partial_words((const __u16 *)to, 8, sum);
		sum += fg_htons(sizeof(*ic) + quote_len);
		sum += fg_htons(FG_IPPROTO_ICMPV6);
	}
	ic->checksum = 0;
	{
		__u16 w0;

		/* Type and code as stored, then the two halves of the
		 * rest of the header. */
		__builtin_memcpy(&w0, ic, sizeof(w0));
		sum += (__u32)w0 + ic->id + ic->sequence;
	}
	/* The quote, 8 bytes at a time (a loop the verifier walks a
	 * quarter as often as one of 16-bit words), bounded by the largest
	 * quote and cut short at its end; then the last 0-7 bytes. A 64-bit sum
	 * of 64-bit words folds to the same one's complement sum. */
	{
		__u64 s64 = sum;
		__u32 n8 = quote_len / 8, k;

		for (i = 0; i < FG_ICMP_QUOTE_MAX / 8; i++) {
			/* The quote is where the frame put it: read through
			 * a wire struct (FG_WIRE: unaligned-safe in
			 * userspace, one load in BPF). */
			const struct fg_icmp_w64 *w =
				(const struct fg_icmp_w64 *)(q + 8 * i);
			__u64 v;

			if (i >= n8 || (const void *)(w + 1) > end)
				break;
			v = w->v;
			s64 += (v & 0xffffffffULL) + (v >> 32);
		}
		for (k = 0; k < 7; k++) {
			const __u8 *b = q + 8 * n8 + k;
			__u16 part = 0;

			if (8 * n8 + k >= quote_len || (const void *)(b + 1) > end)
				break;
			/* Even offsets are a word's first byte, odd ones its
			 * second, as stored. */
			if (k & 1)
				part = (__u16)((__u16)*b << 8);
			else
				part = *b;
			s64 += part;
		}
		s64 = (s64 & 0xffffffffULL) + (s64 >> 32);
		s64 = (s64 & 0xffffffffULL) + (s64 >> 32);
		sum = fg_csum_add32((__u32)s64, 0);
	}
	ic->checksum = (__u16)~fg_csum_fold(sum);
	return 0;
}

#endif /* FG_ICMP_H */
