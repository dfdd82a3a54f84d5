/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * fg_parse.h - bounded packet parsing shared by XDP, DPDK and the tests.
 *
 * fg_parse() walks Ethernet, up to two VLAN tags (802.1Q / 802.1ad QinQ),
 * IPv4 (options and fragments flagged) or IPv6 (bounded extension-header
 * walk), then TCP, UDP, ICMP or ICMPv6, and fills a struct fg_pkt with
 * offsets and the fields the dataplanes decide on. Every read is checked
 * against data_end first, in the form the BPF verifier accepts.
 *
 * Offsets rather than pointers are stored so that the struct means the same
 * in every context; a BPF caller that wants to rewrite a header re-derives
 * the pointer as data + off and checks it against data_end again.
 */
#ifndef FG_PARSE_H
#define FG_PARSE_H

#include <linux/if_ether.h>

#include "fg_types.h"

/* At most this many VLAN tags are skipped (QinQ). */
#ifndef FG_VLAN_MAX_DEPTH
#define FG_VLAN_MAX_DEPTH 2
#endif

/* At most this many IPv6 extension headers are walked; a longer chain is
 * rejected (FG_PARSE_ERR_IP6_EXT_DEPTH) rather than guessed at. */
#ifndef FG_IPV6_EXT_MAX
#define FG_IPV6_EXT_MAX 8
#endif

enum fg_parse_status {
	FG_PARSE_OK = 0,            /* IP parsed; L4 parsed when present */
	FG_PARSE_NOT_IP,            /* valid frame, not IPv4/IPv6 (ARP...) */
	FG_PARSE_ERR_ETH,           /* frame shorter than an Ethernet header */
	FG_PARSE_ERR_VLAN,          /* truncated tag, or more than VLAN_MAX_DEPTH */
	FG_PARSE_ERR_IP4,           /* truncated IPv4 header */
	FG_PARSE_ERR_IP4_HDR,       /* version != 4, IHL < 5, bad total length */
	FG_PARSE_ERR_IP6,           /* truncated IPv6 header, version != 6,
				     * payload length beyond the frame */
	FG_PARSE_ERR_IP6_EXT,       /* truncated or malformed extension header */
	FG_PARSE_ERR_IP6_EXT_DEPTH, /* more than FG_IPV6_EXT_MAX extensions */
	FG_PARSE_ERR_TCP,           /* truncated TCP header, doff < 5, options
				     * beyond the IP payload */
	FG_PARSE_ERR_UDP,           /* truncated UDP header, bad length field */
	FG_PARSE_ERR_ICMP,          /* truncated ICMP/ICMPv6 header */
	FG_PARSE_STATUS_MAX
};

/* fg_pkt.flags */
#define FG_PKT_F_VLAN      0x01 /* at least one VLAN tag was skipped */
#define FG_PKT_F_IP4_OPTS  0x02 /* IPv4 header carries options (IHL > 5) */
#define FG_PKT_F_FRAG      0x04 /* a fragment (IPv4 MF/offset, IPv6 frag ext) */
#define FG_PKT_F_FRAG_TAIL 0x08 /* a non-first fragment: no L4 header */
#define FG_PKT_F_IP6_EXT   0x10 /* IPv6 extension headers were walked */
#define FG_PKT_F_L4        0x20 /* sport/dport (or ICMP fields) are valid */

#define FG_AF_INET  4
#define FG_AF_INET6 6

/* TCP flag bits as in the TCP header's 13th byte. */
#define FG_TCP_FIN 0x01
#define FG_TCP_SYN 0x02
#define FG_TCP_RST 0x04
#define FG_TCP_PSH 0x08
#define FG_TCP_ACK 0x10
#define FG_TCP_URG 0x20

/*
 * The parsed view of one packet. Offsets count from the first byte of the
 * frame. Addresses and ports stay in network byte order; an IPv4 address
 * sits in src[0]/dst[0] with the other words zero.
 */
struct fg_pkt {
	__u16 l3_off;      /* IPv4/IPv6 header */
	__u16 l4_off;      /* TCP/UDP/ICMP header (after IPv6 extensions) */
	__u16 payload_off; /* first byte after the L4 header (incl. options) */
	__u16 l3_len;      /* bytes of the IP packet per its header (total
			    * length / 40 + payload length); frames may carry
			    * trailing padding beyond it */
	__u16 vlan_tci[FG_VLAN_MAX_DEPTH]; /* host order, outermost first */
	__be16 eth_proto;  /* EtherType after the VLAN tags */
	__u8 vlan_count;
	__u8 family;       /* FG_AF_INET or FG_AF_INET6; 0 when not IP */
	__u8 l4_proto;     /* IPPROTO_* of the L4 header (after extensions) */
	__u8 flags;        /* FG_PKT_F_* */
	__u8 tcp_flags;    /* FG_TCP_* when l4_proto is TCP */
	__u8 ttl;          /* IPv4 TTL or IPv6 hop limit */
	__u8 icmp_type;    /* when l4_proto is ICMP/ICMPv6 */
	__u8 icmp_code;
	__be16 sport;      /* TCP/UDP source port; ICMP echo identifier */
	__be16 dport;      /* TCP/UDP destination port; ICMP echo identifier */
	__u16 pad;
	__be32 src[4];
	__be32 dst[4];
};
FG_ASSERT_SIZE(struct fg_pkt, 60);

/* ------------------------------------------------------------------------
 * Wire formats
 *
 * Our own packed views of the L3/L4 headers rather than <linux/ip.h>,
 * <linux/tcp.h>, <linux/udp.h>, <linux/in.h> and <linux/icmp*.h>, for two
 * reasons:
 *  - alignment: behind a 14-byte Ethernet header the IP header starts at
 *    an address that is 2 mod 4, so a field access through struct iphdr
 *    (4-byte aligned) is a misaligned access: undefined behaviour that
 *    UBSan reports and strict-alignment CPUs/JITs fault on. Packed structs
 *    tell every compiler to load byte-safely (x86 gcc still emits plain
 *    loads; clang -target bpf emits byte loads for the wider fields);
 *  - coexistence: those UAPI headers redefine struct iphdr, tcphdr,
 *    udphdr, in_addr, icmphdr... that glibc's <netinet/...> headers also
 *    define, in one include order or the other, and DPDK's <rte_ip.h> pulls in
 *    <netinet/ip.h>. The DPDK dataplane must be able to include this file.
 * <linux/if_ether.h> is safe (glibc's <netinet/if_ether.h> includes it)
 * and its struct ethhdr is already packed.
 */

/* IP protocol numbers (IANA) that the parser dispatches on. */
#define FG_IPPROTO_HOPOPTS  0
#define FG_IPPROTO_ICMP     1
#define FG_IPPROTO_IPIP     4  /* IPv4 in IP (tunnels) */
#define FG_IPPROTO_TCP      6
#define FG_IPPROTO_UDP      17
#define FG_IPPROTO_IPV6     41 /* IPv6 in IP (tunnels) */
#define FG_IPPROTO_ROUTING  43
#define FG_IPPROTO_FRAGMENT 44
#define FG_IPPROTO_GRE      47
#define FG_IPPROTO_ESP      50
#define FG_IPPROTO_AH       51
#define FG_IPPROTO_ICMPV6   58
#define FG_IPPROTO_NONE     59
#define FG_IPPROTO_DSTOPTS  60

/* ICMP types whose rest-of-header is an identifier + sequence number. */
#define FG_ICMP_ECHOREPLY        0
#define FG_ICMP_ECHO             8
#define FG_ICMPV6_ECHO_REQUEST 128
#define FG_ICMPV6_ECHO_REPLY   129

/* IPv4 frag_off bits (host order). */
#define FG_IP4_DF      0x4000
#define FG_IP4_MF      0x2000
#define FG_IP4_OFFMASK 0x1fff
/* IPv6 fragment header frag_off bits (host order). */
#define FG_IP6_FRAG_M       0x0001
#define FG_IP6_FRAG_OFFMASK 0xfff8

/* An 802.1Q / 802.1ad tag, after the TPID that announced it. */
struct fg_vlan_hdr {
	__be16 tci;         /* PCP:3 DEI:1 VID:12 */
	__be16 encap_proto; /* the next EtherType (or TPID) */
} FG_WIRE;
FG_ASSERT_SIZE(struct fg_vlan_hdr, 4);

struct fg_ip4_hdr {
	__u8 ver_ihl;      /* version:4 (high nibble), IHL:4 in 32-bit words */
	__u8 tos;
	__be16 tot_len;    /* header + payload, bytes */
	__be16 id;
	__be16 frag_off;   /* flags:3 (reserved, DF, MF), offset:13 in 8 bytes */
	__u8 ttl;
	__u8 protocol;
	__be16 check;
	__be32 saddr;
	__be32 daddr;
} FG_WIRE;
FG_ASSERT_SIZE(struct fg_ip4_hdr, 20);

struct fg_ip6_hdr {
	__u8 ver_tc_flow[4]; /* version:4 (high nibble of byte 0), class, flow */
	__be16 payload_len;  /* bytes after this 40-byte header */
	__u8 nexthdr;
	__u8 hop_limit;
	__be32 saddr[4];
	__be32 daddr[4];
} FG_WIRE;
FG_ASSERT_SIZE(struct fg_ip6_hdr, 40);

/* The common start of hop-by-hop, routing, destination-options and AH
 * headers. hdrlen is in 8-byte units not counting the first 8 (AH: 4-byte
 * units not counting the first 8). All are at least 8 bytes long. */
struct fg_ip6_ext_hdr {
	__u8 nexthdr;
	__u8 hdrlen;
};
FG_ASSERT_SIZE(struct fg_ip6_ext_hdr, 2);

struct fg_ip6_frag_hdr {
	__u8 nexthdr;
	__u8 reserved;
	__be16 frag_off;   /* offset:13 in 8 bytes (high bits), res:2, M:1 */
	__be32 identification;
} FG_WIRE;
FG_ASSERT_SIZE(struct fg_ip6_frag_hdr, 8);

/* The smallest extension header, and the unit of every IPv6 ext length. */
#define FG_IP6_EXT_MIN 8

struct fg_tcp_hdr {
	__be16 source;
	__be16 dest;
	__be32 seq;
	__be32 ack_seq;
	__u8 doff_res;     /* data offset:4 (high nibble) in 32-bit words */
	__u8 flags;        /* CWR ECE URG ACK PSH RST SYN FIN */
	__be16 window;
	__be16 check;
	__be16 urg_ptr;
} FG_WIRE;
FG_ASSERT_SIZE(struct fg_tcp_hdr, 20);

struct fg_udp_hdr {
	__be16 source;
	__be16 dest;
	__be16 len;        /* header + payload, bytes */
	__be16 check;
} FG_WIRE;
FG_ASSERT_SIZE(struct fg_udp_hdr, 8);

/* ICMP and ICMPv6 share this 8-byte header; id/sequence are meaningful for
 * echo request/reply only (other types use the word differently). */
struct fg_icmp_hdr {
	__u8 type;
	__u8 code;
	__be16 checksum;
	__be16 id;
	__be16 sequence;
} FG_WIRE;
FG_ASSERT_SIZE(struct fg_icmp_hdr, 8);

/* ------------------------------------------------------------------------
 * Parser
 *
 * Every sub-parser gets the frame bounds and a scalar byte offset, builds
 * its header pointer as data + off and checks it against data_end before
 * the first read. Offsets are carried as scalars next to the pointers so
 * that the stored offsets never need a pointer subtraction (the verifier
 * only allows pkt - pkt for programs loaded with CAP_PERFMON). Each length
 * taken from the packet is masked or is at most 16 bits, so the verifier
 * can bound every offset below 64 KiB and accept the data_end comparisons.
 *
 * Two limits are checked at every layer: data_end (for safety and for the
 * verifier) and l3_end, the end of the IP packet per its own length field
 * (for meaning: bytes after it are Ethernet padding, not L4 data).
 *
 * Verification cost is kept down on purpose (fg_parse_forget(), struct
 * fg_parse_cur): tests/bpf/test_parse_bpf prints the current figures.
 */

/* Offsets in struct fg_pkt are 16-bit; an IP packet must end before this. */
#define FG_PARSE_MAX_OFF 0xffff

/*
 * Every offset the parser computes stays below this: at most 22 bytes of
 * L2, 40 of IPv6 header and FG_IPV6_EXT_MAX extensions of 2048 bytes.
 * fg_parse_forget() relies on it.
 */
#define FG_PARSE_OFF_MASK 0x7fff
_Static_assert(14 + 4 * FG_VLAN_MAX_DEPTH + 40 + FG_IPV6_EXT_MAX * 2048 <=
	       FG_PARSE_OFF_MASK, "FG_IPV6_EXT_MAX too large for the offset mask");

/* fg_parse_cur.frag */
#define FG_PARSE_FRAG_NONE  0 /* not a fragment (or an atomic one) */
#define FG_PARSE_FRAG_FIRST 1 /* offset 0, more to come: L4 header here */
#define FG_PARSE_FRAG_TAIL  2 /* offset > 0: no L4 header */

/*
 * The parser's state between layers. It is kept apart from struct fg_pkt
 * on purpose: the verifier tracks these as small per-path constants and
 * the code branches on them, while fg_pkt.flags is only ever written, never
 * tested. Branching on flags would make the verifier track the whole flags
 * byte exactly, and paths differing only in, say, FG_PKT_F_VLAN could then
 * no longer be pruned against each other.
 */
struct fg_parse_cur {
	__u32 off;    /* the next header to parse */
	__u32 l3_end; /* end of the IP packet per its length field */
	int frag;     /* FG_PARSE_FRAG_* */
};

/*
 * fg_parse_forget - return off unchanged, but by way of memory that the BPF
 * verifier does not track (pkt->l4_off, written again before fg_parse()
 * returns), so that the verifier forgets the value.
 *
 * Why: the verifier carries every path's exact offset forward (14, 18 or 22
 * after the tags; each IHL; each shape of extension chain) and verifies the
 * code after it once per distinct value, because the offset feeds pointer
 * arithmetic and so must be tracked precisely. Forgetting it at the top of
 * each extension header and before L4 lets those paths share one
 * verification: on kernel 6.18 the parser alone went from ~300k to ~20k
 * processed instructions with struct fg_pkt on the caller's stack, and
 * from ~88k to ~6k with it in a map value. A kernel that does track the
 * field just loses the saving, not correctness. The mask is an identity on
 * real offsets (FG_PARSE_OFF_MASK) and keeps the value bounded for the
 * data_end checks. Costs a 16-bit store and load. Context: any.
 */
FG_INLINE __u32 fg_parse_forget(struct fg_pkt *pkt, __u32 off)
{
	pkt->l4_off = (__u16)off;
	return *(volatile const __u16 *)&pkt->l4_off & FG_PARSE_OFF_MASK;
}

/* fg_eth_is_vlan - true for the TPIDs skipped as VLAN tags. Context: any. */
FG_INLINE int fg_eth_is_vlan(__be16 proto)
{
	return proto == FG_BE16(ETH_P_8021Q) || proto == FG_BE16(ETH_P_8021AD);
}

/* fg_ip6_is_ext - true for the IPv6 extension headers that fg_parse walks
 * (hop-by-hop, routing, fragment, destination options, AH). ESP is not one:
 * nothing after it is readable, so it ends the chain like an L4 protocol.
 * Context: any. */
FG_INLINE int fg_ip6_is_ext(__u8 nexthdr)
{
	return nexthdr == FG_IPPROTO_HOPOPTS || nexthdr == FG_IPPROTO_ROUTING ||
	       nexthdr == FG_IPPROTO_FRAGMENT || nexthdr == FG_IPPROTO_DSTOPTS ||
	       nexthdr == FG_IPPROTO_AH;
}

/*
 * fg_parse_eth - skip the Ethernet header and up to FG_VLAN_MAX_DEPTH VLAN
 * tags; fill pkt->eth_proto, vlan_count, vlan_tci[] and FG_PKT_F_VLAN, and
 * set cur->off to the first byte after them.
 *
 * Returns FG_PARSE_OK, FG_PARSE_ERR_ETH (frame shorter than 14 bytes) or
 * FG_PARSE_ERR_VLAN (a tag cut short, or a TPID still announced after the
 * last tag we may skip). Context: any.
 */
FG_INLINE int fg_parse_eth(const void *data, const void *data_end,
			   struct fg_pkt *pkt, struct fg_parse_cur *cur)
{
	const struct ethhdr *eth = data;
	__be16 proto;
	__u32 pos;
	int i;

	if ((const void *)(eth + 1) > data_end)
		return FG_PARSE_ERR_ETH;
	proto = eth->h_proto;
	pos = sizeof(*eth);

FG_UNROLL
	for (i = 0; i < FG_VLAN_MAX_DEPTH; i++) {
		const struct fg_vlan_hdr *vh;

		if (!fg_eth_is_vlan(proto))
			break;
		vh = (const void *)((const __u8 *)data + pos);
		if ((const void *)(vh + 1) > data_end)
			return FG_PARSE_ERR_VLAN;
		pkt->vlan_tci[i] = fg_ntohs(vh->tci);
		pkt->vlan_count = (__u8)(i + 1);
		pkt->flags |= FG_PKT_F_VLAN;
		proto = vh->encap_proto;
		pos += sizeof(*vh);
	}
	/* A third tag is not guessed at: what follows it is unknown to us. */
	if (fg_eth_is_vlan(proto))
		return FG_PARSE_ERR_VLAN;
	pkt->eth_proto = proto;
	cur->off = pos;
	return FG_PARSE_OK;
}

/*
 * fg_parse_ip4 - parse the IPv4 header at cur->off: fill family, ttl,
 * l4_proto, src[0]/dst[0], l3_len and the FG_PKT_F_IP4_OPTS / FG_PKT_F_FRAG
 * / FG_PKT_F_FRAG_TAIL flags; advance cur->off past the header (options
 * included), set cur->l3_end to the end of the IP packet and cur->frag.
 *
 * Returns FG_PARSE_OK, FG_PARSE_ERR_IP4 (fewer than 20 bytes, or the IHL
 * header longer than the frame) or FG_PARSE_ERR_IP4_HDR (version != 4,
 * IHL < 5, total length shorter than the header or longer than the frame,
 * or the packet ending past 64 KiB of frame). Context: any.
 */
FG_INLINE int fg_parse_ip4(const void *data, const void *data_end,
			   struct fg_pkt *pkt, struct fg_parse_cur *cur)
{
	const struct fg_ip4_hdr *iph;
	__u32 pos = cur->off, hlen, tot_len;
	__u16 frag;

	iph = (const void *)((const __u8 *)data + pos);
	if ((const void *)(iph + 1) > data_end)
		return FG_PARSE_ERR_IP4;
	if ((iph->ver_ihl >> 4) != 4)
		return FG_PARSE_ERR_IP4_HDR;
	/* The nibble mask bounds hlen to 60 for the verifier. */
	hlen = (__u32)(iph->ver_ihl & 0x0f) * 4;
	if (hlen < sizeof(*iph))
		return FG_PARSE_ERR_IP4_HDR;
	if ((const void *)((const __u8 *)iph + hlen) > data_end)
		return FG_PARSE_ERR_IP4;
	tot_len = fg_ntohs(iph->tot_len);
	if (tot_len < hlen)
		return FG_PARSE_ERR_IP4_HDR;
	if ((const void *)((const __u8 *)iph + tot_len) > data_end ||
	    pos + tot_len > FG_PARSE_MAX_OFF)
		return FG_PARSE_ERR_IP4_HDR;

	pkt->family = FG_AF_INET;
	pkt->ttl = iph->ttl;
	pkt->l4_proto = iph->protocol;
	fg_addr16_set4(pkt->src, iph->saddr);
	fg_addr16_set4(pkt->dst, iph->daddr);
	pkt->l3_len = (__u16)tot_len;
	if (hlen > sizeof(*iph))
		pkt->flags |= FG_PKT_F_IP4_OPTS;
	frag = fg_ntohs(iph->frag_off);
	if (frag & FG_IP4_OFFMASK) {
		pkt->flags |= FG_PKT_F_FRAG | FG_PKT_F_FRAG_TAIL;
		cur->frag = FG_PARSE_FRAG_TAIL;
	} else if (frag & FG_IP4_MF) {
		pkt->flags |= FG_PKT_F_FRAG;
		cur->frag = FG_PARSE_FRAG_FIRST;
	}
	cur->off = pos + hlen;
	cur->l3_end = pos + tot_len;
	return FG_PARSE_OK;
}

/*
 * fg_parse_ip6_ext - walk the IPv6 extension headers starting at cur->off
 * whose type is *nexthdr, staying inside cur->l3_end; advance cur->off and
 * set *nexthdr to the header after the chain. A fragment header sets
 * FG_PKT_F_FRAG and cur->frag when it is a real fragment (M or offset set;
 * an atomic fragment is not); a non-zero offset also sets
 * FG_PKT_F_FRAG_TAIL and ends the walk, since what follows is the middle of
 * someone else's header.
 *
 * Returns FG_PARSE_OK, FG_PARSE_ERR_IP6_EXT (a header cut short by the IPv6
 * payload length, hop-by-hop anywhere but first (RFC 8200 4.3), or an AH
 * whose length is not a multiple of 8 bytes) or
 * FG_PARSE_ERR_IP6_EXT_DEPTH (still an extension after FG_IPV6_EXT_MAX of
 * them). Context: any.
 */
FG_INLINE int fg_parse_ip6_ext(const void *data, const void *data_end,
			       struct fg_pkt *pkt, struct fg_parse_cur *cur,
			       __u8 *nexthdr)
{
	__u32 pos = cur->off, l3_end = cur->l3_end;
	__u8 nh = *nexthdr;
	int i;

FG_UNROLL
	for (i = 0; i < FG_IPV6_EXT_MAX; i++) {
		const struct fg_ip6_ext_hdr *eh;
		const struct fg_ip6_frag_hdr *fh;
		__u32 units;
		__u16 frag;

		if (!fg_ip6_is_ext(nh))
			break;
		pos = fg_parse_forget(pkt, pos);
		if (nh == FG_IPPROTO_HOPOPTS && i != 0)
			return FG_PARSE_ERR_IP6_EXT;
		eh = (const void *)((const __u8 *)data + pos);
		if ((const void *)((const __u8 *)eh + FG_IP6_EXT_MIN) > data_end ||
		    pos + FG_IP6_EXT_MIN > l3_end)
			return FG_PARSE_ERR_IP6_EXT;
		pkt->flags |= FG_PKT_F_IP6_EXT;
		/*
		 * Every length is computed in 8-byte units, at most 256 of
		 * them, so pos stays below FG_PARSE_OFF_MASK and the three
		 * kinds of header leave it in ranges of the same shape.
		 */
		if (nh == FG_IPPROTO_FRAGMENT) {
			fh = (const void *)eh;
			frag = fg_ntohs(fh->frag_off);
			if (frag & FG_IP6_FRAG_OFFMASK) {
				pkt->flags |= FG_PKT_F_FRAG | FG_PKT_F_FRAG_TAIL;
				cur->frag = FG_PARSE_FRAG_TAIL;
				cur->off = pos + sizeof(*fh);
				*nexthdr = fh->nexthdr;
				return FG_PARSE_OK;
			}
			if (frag & FG_IP6_FRAG_M) {
				pkt->flags |= FG_PKT_F_FRAG;
				cur->frag = FG_PARSE_FRAG_FIRST;
			}
			units = sizeof(*fh) / 8;
		} else if (nh == FG_IPPROTO_AH) {
			/* AH counts 4-byte words minus 2, and in IPv6 must be
			 * a multiple of 8 bytes (RFC 4302 2.2). */
			if (eh->hdrlen & 1)
				return FG_PARSE_ERR_IP6_EXT;
			units = ((__u32)eh->hdrlen >> 1) + 1;
		} else {
			units = (__u32)eh->hdrlen + 1;
		}
		if (pos + units * 8 > l3_end)
			return FG_PARSE_ERR_IP6_EXT;
		nh = eh->nexthdr;
		pos += units * 8;
	}
	if (fg_ip6_is_ext(nh))
		return FG_PARSE_ERR_IP6_EXT_DEPTH;
	cur->off = pos;
	*nexthdr = nh;
	return FG_PARSE_OK;
}

/*
 * fg_parse_ip6 - parse the IPv6 header at cur->off and its extension
 * chain: fill family, ttl (hop limit), src/dst, l3_len, l4_proto (the type
 * after the chain) and the FG_PKT_F_IP6_EXT / FRAG / FRAG_TAIL flags; set
 * cur->off to the L4 header, cur->l3_end to the end of the IP packet and
 * cur->frag.
 *
 * Returns FG_PARSE_OK, FG_PARSE_ERR_IP6 (fewer than 40 bytes, version != 6,
 * payload length beyond the frame or the packet ending past 64 KiB; a
 * jumbogram's zero payload length is therefore not followed) or an error of
 * fg_parse_ip6_ext(). Context: any.
 */
FG_INLINE int fg_parse_ip6(const void *data, const void *data_end,
			   struct fg_pkt *pkt, struct fg_parse_cur *cur)
{
	const struct fg_ip6_hdr *ip6h;
	__u32 pos = cur->off, len;
	__u8 nh;
	int i, ret;

	ip6h = (const void *)((const __u8 *)data + pos);
	if ((const void *)(ip6h + 1) > data_end)
		return FG_PARSE_ERR_IP6;
	if ((ip6h->ver_tc_flow[0] >> 4) != 6)
		return FG_PARSE_ERR_IP6;
	len = sizeof(*ip6h) + (__u32)fg_ntohs(ip6h->payload_len);
	if ((const void *)((const __u8 *)ip6h + len) > data_end ||
	    pos + len > FG_PARSE_MAX_OFF)
		return FG_PARSE_ERR_IP6;

	pkt->family = FG_AF_INET6;
	pkt->ttl = ip6h->hop_limit;
	pkt->l3_len = (__u16)len;
FG_UNROLL
	for (i = 0; i < 4; i++) {
		pkt->src[i] = ip6h->saddr[i];
		pkt->dst[i] = ip6h->daddr[i];
	}
	nh = ip6h->nexthdr;
	cur->l3_end = pos + len;
	cur->off = pos + sizeof(*ip6h);
	ret = fg_parse_ip6_ext(data, data_end, pkt, cur, &nh);
	if (ret != FG_PARSE_OK)
		return ret;
	pkt->l4_proto = nh;
	return FG_PARSE_OK;
}

/*
 * fg_parse_l4 - parse the L4 header of pkt->l4_proto at cur->off, inside
 * cur->l3_end:
 * TCP (ports, flags, header with options), UDP (ports, length), ICMP for
 * IPv4 / ICMPv6 for IPv6 (type, code, echo identifier as both ports). Sets
 * FG_PKT_F_L4 and payload_off past the header; for any other protocol
 * (GRE, ESP, no-next-header...) payload_off = off and FG_PKT_F_L4 stays
 * clear.
 *
 * A first fragment's UDP length counts the whole datagram, so it is only
 * checked against this packet's payload when the packet is not a fragment.
 *
 * Returns FG_PARSE_OK, FG_PARSE_ERR_TCP (header cut short, doff < 5, or
 * options beyond the IP payload), FG_PARSE_ERR_UDP (header cut short, length
 * < 8 or beyond the IP payload) or FG_PARSE_ERR_ICMP (header cut short).
 * Context: any.
 */
FG_INLINE int fg_parse_l4(const void *data, const void *data_end,
			  struct fg_pkt *pkt, const struct fg_parse_cur *cur)
{
	__u32 off = cur->off, l3_end = cur->l3_end;
	const void *l4 = (const __u8 *)data + off;
	const struct fg_tcp_hdr *th;
	const struct fg_udp_hdr *uh;
	const struct fg_icmp_hdr *ih;
	__u32 len;

	pkt->payload_off = (__u16)off;
	switch (pkt->l4_proto) {
	case FG_IPPROTO_TCP:
		th = l4;
		if ((const void *)(th + 1) > data_end ||
		    off + sizeof(*th) > l3_end)
			return FG_PARSE_ERR_TCP;
		/* The nibble mask bounds len to 60 for the verifier. */
		len = (__u32)(th->doff_res >> 4) * 4;
		if (len < sizeof(*th) || off + len > l3_end)
			return FG_PARSE_ERR_TCP;
		pkt->sport = th->source;
		pkt->dport = th->dest;
		pkt->tcp_flags = th->flags;
		break;
	case FG_IPPROTO_UDP:
		uh = l4;
		if ((const void *)(uh + 1) > data_end ||
		    off + sizeof(*uh) > l3_end)
			return FG_PARSE_ERR_UDP;
		len = fg_ntohs(uh->len);
		if (len < sizeof(*uh))
			return FG_PARSE_ERR_UDP;
		if (cur->frag == FG_PARSE_FRAG_NONE && off + len > l3_end)
			return FG_PARSE_ERR_UDP;
		pkt->sport = uh->source;
		pkt->dport = uh->dest;
		len = sizeof(*uh);
		break;
	case FG_IPPROTO_ICMP:
	case FG_IPPROTO_ICMPV6:
		/* ICMPv6 numbers mean nothing inside IPv4 and vice versa:
		 * such a packet is an opaque protocol, not an ICMP error. */
		if (pkt->l4_proto != (pkt->family == FG_AF_INET ?
				      FG_IPPROTO_ICMP : FG_IPPROTO_ICMPV6))
			return FG_PARSE_OK;
		ih = l4;
		if ((const void *)(ih + 1) > data_end ||
		    off + sizeof(*ih) > l3_end)
			return FG_PARSE_ERR_ICMP;
		pkt->icmp_type = ih->type;
		pkt->icmp_code = ih->code;
		if (pkt->family == FG_AF_INET ?
		    (ih->type == FG_ICMP_ECHO || ih->type == FG_ICMP_ECHOREPLY) :
		    (ih->type == FG_ICMPV6_ECHO_REQUEST ||
		     ih->type == FG_ICMPV6_ECHO_REPLY)) {
			pkt->sport = ih->id;
			pkt->dport = ih->id;
		}
		len = sizeof(*ih);
		break;
	default:
		return FG_PARSE_OK;
	}
	pkt->flags |= FG_PKT_F_L4;
	pkt->payload_off = (__u16)(off + len);
	return FG_PARSE_OK;
}

/*
 * fg_parse - parse the frame [data, data_end) into *pkt.
 *
 * Returns FG_PARSE_OK when the packet is IPv4 or IPv6 and every header that
 * is present is complete and consistent (a non-first fragment has no L4
 * header: FG_PKT_F_FRAG_TAIL, FG_PKT_F_L4 clear; an L4 protocol other than
 * TCP/UDP/ICMP/ICMPv6 is OK with FG_PKT_F_L4 clear). FG_PARSE_NOT_IP for a
 * well-formed non-IP frame. Otherwise the FG_PARSE_ERR_* reason; *pkt is
 * then only partly filled and must not be used.
 *
 * On FG_PARSE_OK every byte of *pkt is defined: fields that do not apply
 * are zero. l4_off is the first byte after the IP header(s) even when
 * there is no L4 header (fragment tail, other protocols, no-next-header),
 * and then payload_off == l4_off. On FG_PARSE_NOT_IP the Ethernet/VLAN
 * fields and l3_off (first byte after the tags) are set, the rest is zero.
 * Checksums are not verified. Trailing bytes after the IP packet (Ethernet
 * padding) are ignored.
 *
 * Context: any (BPF, DPDK worker, userspace). Pure: reads [data, data_end)
 * only. Bounded: at most FG_VLAN_MAX_DEPTH tags, FG_IPV6_EXT_MAX extensions.
 */
FG_INLINE int fg_parse(const void *data, const void *data_end,
		       struct fg_pkt *pkt)
{
	struct fg_parse_cur cur = { .off = 0, .l3_end = 0,
				    .frag = FG_PARSE_FRAG_NONE };
	int ret;

	__builtin_memset(pkt, 0, sizeof(*pkt));
	ret = fg_parse_eth(data, data_end, pkt, &cur);
	if (ret != FG_PARSE_OK)
		return ret;
	pkt->l3_off = (__u16)cur.off;
	if (pkt->eth_proto == FG_BE16(ETH_P_IP))
		ret = fg_parse_ip4(data, data_end, pkt, &cur);
	else if (pkt->eth_proto == FG_BE16(ETH_P_IPV6))
		ret = fg_parse_ip6(data, data_end, pkt, &cur);
	else
		return FG_PARSE_NOT_IP;
	if (ret != FG_PARSE_OK)
		return ret;
	pkt->l4_off = (__u16)cur.off;
	cur.off = fg_parse_forget(pkt, cur.off);
	if (cur.frag == FG_PARSE_FRAG_TAIL) {
		pkt->payload_off = (__u16)cur.off;
		return FG_PARSE_OK;
	}
	return fg_parse_l4(data, data_end, pkt, &cur);
}

#endif /* FG_PARSE_H */
