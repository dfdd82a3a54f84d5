/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * fg_csum.h - Internet checksum helpers (RFC 1071, incremental per
 * RFC 1624) for rewriting headers in place: NAT, encapsulation, RSTs.
 * Pure integer code for every context.
 */
#ifndef FG_CSUM_H
#define FG_CSUM_H

#include "fg_types.h"
#include "fg_parse.h"

/* fg_csum_fold - fold a 32-bit one's-complement sum to 16 bits. */
FG_INLINE __u16 fg_csum_fold(__u32 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)sum;
}

/* fg_csum_add32 - one's-complement add of two 32-bit partial sums. */
FG_INLINE __u32 fg_csum_add32(__u32 a, __u32 b)
{
	__u32 s = a + b;

	return s + (s < b);
}

/*
 * fg_csum_replace - incremental update of a stored checksum (as it sits in
 * the header, network order) when a 32-bit field changes from `from` to
 * `to` (both as stored, network order). Works for 16-bit fields too with
 * the other half zero. Returns the new stored checksum. RFC 1624 eqn. 3:
 * HC' = ~(~HC + ~m + m').
 */
FG_INLINE __u16 fg_csum_replace4(__u16 check, __be32 from, __be32 to)
{
	__u32 sum = (__u16)~check;

	sum = fg_csum_add32(sum, ~(__u32)from);
	sum = fg_csum_add32(sum, (__u32)to);
	return (__u16)~fg_csum_fold(sum);
}

FG_INLINE __u16 fg_csum_replace2(__u16 check, __be16 from, __be16 to)
{
	__u32 sum = (__u16)~check;

	sum = fg_csum_add32(sum, (__u16)~from);
	sum = fg_csum_add32(sum, (__u16)to);
	return (__u16)~fg_csum_fold(sum);
}

/* fg_csum_replace16 - the same for a 128-bit field (an IPv6 address). */
FG_INLINE __u16 fg_csum_replace16(__u16 check, const __be32 *from,
				  const __be32 *to)
{
	__u32 sum = (__u16)~check;
	int i;

	FG_UNROLL
	for (i = 0; i < 4; i++) {
		sum = fg_csum_add32(sum, ~(__u32)from[i]);
		sum = fg_csum_add32(sum, (__u32)to[i]);
	}
	return (__u16)~fg_csum_fold(sum);
}

/*
 * fg_csum_partial_words - one's-complement sum of `nwords` 16-bit words at
 * p (as stored). nwords must be a constant in BPF callers. Returns the
 * unfolded 32-bit sum.
 */
FG_INLINE __u32 fg_csum_partial_words(const __u16 *p, const unsigned int nwords,
				      __u32 sum)
{
	unsigned int i;

	FG_UNROLL
	for (i = 0; i < nwords; i++)
		sum += p[i];
	return sum;
}

/* fg_ip4_csum - the header checksum of a 20-byte IPv4 header whose check
 * field is zero. Returns it as stored. */
FG_INLINE __u16 fg_ip4_csum(const void *iph20)
{
	return (__u16)~fg_csum_fold(fg_csum_partial_words(iph20, 10, 0));
}

/*
 * fg_ip4_hdr_write - a fresh 20-byte IPv4 header at iph: TTL 64, no DF,
 * id 0, tot_len bytes (host order) of protocol proto from saddr to
 * daddr, with its checksum. The checksum is summed from the values, not
 * read back from the header just written: a 16-bit load of the two byte
 * stores of TTL and protocol cannot be forwarded from the store buffer
 * and stalled the DPDK worker until they retired (perf: 13 % of its
 * burst on one instruction). Words as stored, so the sum is the one
 * fg_ip4_csum computes, on either byte order. Context: any; the caller
 * has checked 20 bytes at iph.
 */
FG_INLINE void fg_ip4_hdr_write(struct fg_ip4_hdr *iph, __u32 tot_len,
				__u8 proto, __be32 saddr, __be32 daddr)
{
	__u8 w0b[2] = { 0x45, 0 };
	__u8 w4b[2] = { 64, proto };
	__be16 len = fg_htons(tot_len);
	__u32 s = saddr, d = daddr;
	__u16 w0, w4;

	__builtin_memcpy(&w0, w0b, 2);
	__builtin_memcpy(&w4, w4b, 2);
	iph->ver_ihl = 0x45;
	iph->tos = 0;
	iph->tot_len = len;
	iph->id = 0;
	iph->frag_off = 0;
	iph->ttl = 64;
	iph->protocol = proto;
	iph->saddr = saddr;
	iph->daddr = daddr;
	iph->check = (__u16)~fg_csum_fold((__u32)w0 + len + w4 +
					  (s & 0xffff) + (s >> 16) +
					  (d & 0xffff) + (d >> 16));
}

#endif /* FG_CSUM_H */
