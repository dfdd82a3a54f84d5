/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * fg_decap_common.h - the backend decap program's shared definitions and
 * its pure tunnel classifier.
 *
 * A Floodgate backend receives DSR traffic wrapped by the appliance
 * (shared wire contract, see fg_decap.bpf.c): IP-in-IP (outer IPv4
 * protocol 4/41, outer IPv6 next header 4/41) or GUE variant 1 (outer
 * IPv4/IPv6 + UDP to the GUE port, the UDP payload being the inner IP
 * packet itself). fg_decap_classify() says whether a frame is such a packet
 * and how many bytes to strip; the XDP and TC programs own the map lookups,
 * counters and the rewrite, each with its own helper (bpf_xdp_adjust_head,
 * bpf_skb_adjust_room).
 *
 * Included by xdp/fg_decap.bpf.c (clang -target bpf) and by userspace (the
 * loader xdp/fg_decap_loader.c, tests/bpf/test_decap.c). Like
 * dataplane/core it includes nothing but Linux UAPI headers and core, so
 * the classifier compiles under gcc too. Userspace files include their libc
 * headers first (linux/in6.h then yields to netinet/in.h).
 */
#ifndef FG_DECAP_COMMON_H
#define FG_DECAP_COMMON_H

#include <linux/types.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>

#include "fg_types.h"
#include "fg_parse.h"

/* ------------------------------------------------------------ constants */

/* At most this many local tunnel addresses (fg_decap_addrs entries). */
#define FG_DECAP_ADDRS_MAX 64

/* The longest L2 header kept in front of the inner packet: the XDP
 * variant looks through the core parser's FG_VLAN_MAX_DEPTH tags (802.1Q /
 * 802.1ad QinQ). The TC variant sees none: the stack has moved the outer
 * tag to skb->vlan_tci before clsact ingress runs. */
#define FG_DECAP_L2_MAX (ETH_HLEN + \
			 sizeof(struct fg_vlan_hdr) * FG_VLAN_MAX_DEPTH)

/* Bytes the classifier may read from the frame start: L2, the longest
 * IPv4 header, UDP, the first byte of a GUE payload and an IPv6 inner
 * header. The TC variant pulls this much into the linear area. */
#define FG_DECAP_HDR_MAX (FG_DECAP_L2_MAX + 60 + 8 + 40)

/* Program names as the kernel reports them (BPF_OBJ_NAME_LEN - 1 chars at
 * most): the loader recognises its own attachments by them. */
#define FG_DECAP_XDP_NAME "fg_decap_xdp"
#define FG_DECAP_TC_NAME  "fg_decap_tc"

/* Where the TC variant sits in the clsact ingress chain: priority 1 runs it
 * before filters installed with tc's defaults (49152 and up), so they see
 * the inner packet; the handle is ours to find it again. */
#define FG_DECAP_TC_PRIO   1
#define FG_DECAP_TC_HANDLE 0xfdec

/* bpf_skb_adjust_room() flags that set skb->protocol to the inner family
 * (Linux 6.3+). Debian 12's UAPI headers (6.1) predate them, and they are
 * enum members, so #ifdef cannot tell: spelled here with the kernel's
 * values. */
#define FG_ADJ_ROOM_DECAP_L3_IPV4 (1ULL << 7)
#define FG_ADJ_ROOM_DECAP_L3_IPV6 (1ULL << 8)

/* ------------------------------------------------------------ shared types */

/*
 * Key of fg_decap_addrs: one local tunnel endpoint address. IPv4 sits in
 * addr[0] with the other words zero; family tells an IPv4 address from the
 * IPv6 address that shares its bytes. Network byte order. pad stays zero:
 * the whole struct is hashed.
 */
struct fg_decap_addr {
	__be32 addr[4];
	__u8 family;       /* 4 or 6 */
	__u8 pad[3];
};
FG_ASSERT_SIZE(struct fg_decap_addr, 20);

/*
 * Load-time settings, one const volatile global in .rodata
 * (fg_decap_cfg); the loader finds it by name through BTF and writes it
 * before load, so the verifier sees constants and prunes what is off.
 */
struct fg_decap_cfg {
	__be16 gue_port;   /* UDP port of GUE, network order; 0: GUE off */
	__u8 decap_any;    /* 1: decapsulate tunnel packets to any outer
			    * destination, without consulting fg_decap_addrs
			    * (only for hosts that never forward) */
	__u8 pad;
};
FG_ASSERT_SIZE(struct fg_decap_cfg, 4);

/* Indexes of the per-CPU __u64 packet counters (fg_decap_stats). */
enum fg_decap_counter {
	FG_DECAP_CNT_IPIP = 0,   /* IP-in-IP decapsulated, passed inner */
	FG_DECAP_CNT_GUE,        /* GUE decapsulated, passed inner */
	FG_DECAP_CNT_PASSED,     /* not a tunnel packet for this host (incl.
				  * broken outer headers): untouched */
	FG_DECAP_CNT_MALFORMED,  /* tunnel packet for this host with a broken
				  * GUE payload or inner header: dropped */
	FG_DECAP_CNT_FRAGMENT,   /* outer fragment of a tunnel packet for this
				  * host: untouched, cannot be decapsulated */
	FG_DECAP_CNT_ERROR,      /* the strip helper failed: untouched */
	FG_DECAP_CNT_MAX
};

/* ------------------------------------------------------------ classifier */

enum fg_decap_class {
	FG_DECAP_NOT_TUNNEL = 0, /* not ours to touch: pass untouched */
	FG_DECAP_TUNNEL,         /* plan complete: strip and pass the inner */
	FG_DECAP_TUNNEL_FRAG,    /* tunnel packet, outer fragmented; plan.dst */
	FG_DECAP_TUNNEL_BAD,     /* tunnel packet, GUE payload or inner header
				  * broken; plan.dst and plan.kind */
};

#define FG_DECAP_KIND_IPIP 1
#define FG_DECAP_KIND_GUE  2

/* What fg_decap_classify() found. Offsets from the first byte of the frame. */
struct fg_decap_plan {
	struct fg_decap_addr dst; /* outer destination: the fg_decap_addrs key */
	__u16 l2_len;       /* Ethernet + VLAN tags, kept before the inner */
	__u16 outer_len;    /* outer IP header (+ UDP): the bytes removed */
	__be16 inner_proto; /* EtherType of the inner packet, network order */
	__u8 kind;          /* FG_DECAP_KIND_* */
	__u8 vlan_count;    /* tags in the L2 header, 0..FG_VLAN_MAX_DEPTH */
	__u8 outer_family;  /* 4 or 6 */
	__u8 inner_family;  /* 4 or 6 */
};

/*
 * fg_decap_check_inner - is [inner, inner + avail) one complete IP packet of
 * the given family? Its own length may be less than avail (the stack trims
 * the rest) but never more; the header must lie below data_end.
 *
 * Returns 1 when sane, 0 when not. Context: any; pure.
 */
FG_INLINE int fg_decap_check_inner(const __u8 *inner, const void *data_end,
				   __u32 avail, __u8 family)
{
	if (family == 4) {
		const struct iphdr *ip = (const void *)inner;
		__u32 hlen, tot;

		if ((const void *)(ip + 1) > data_end || avail < sizeof(*ip))
			return 0;
		if ((inner[0] >> 4) != 4)
			return 0;
		hlen = (inner[0] & 0x0f) * 4;
		tot = fg_ntohs(ip->tot_len);
		if (hlen < sizeof(*ip) || tot < hlen || tot > avail)
			return 0;
		return 1;
	}
	if (family == 6) {
		const struct ipv6hdr *ip6 = (const void *)inner;

		if ((const void *)(ip6 + 1) > data_end || avail < sizeof(*ip6))
			return 0;
		if ((inner[0] >> 4) != 6)
			return 0;
		if (sizeof(*ip6) + fg_ntohs(ip6->payload_len) > avail)
			return 0;
		return 1;
	}
	return 0;
}

/*
 * fg_decap_classify - is the frame [data, data_end) an IPIP or GUE packet,
 * and what would decapsulating it remove?
 *
 * frame_len is the length of the whole frame: data_end - data in XDP,
 * skb->len in TC, where data_end may end at the linear part. Headers are
 * read below data_end only; lengths are checked against frame_len.
 * vlan_max is how many VLAN tags to look through (at most
 * FG_VLAN_MAX_DEPTH); gue_port is the GUE UDP port in network order, 0 for
 * none.
 *
 * Returns an enum fg_decap_class. Anything that does not parse as a
 * complete outer IPv4/IPv6 header carrying protocol 4, 41 or UDP to the GUE
 * port is FG_DECAP_NOT_TUNNEL: such packets belong to the stack, which
 * counts and drops what is broken. So are an outer IPv6 header followed by
 * extension headers (the appliance sends none) and a non-first IPv4
 * fragment of UDP (its port is unknown). Past that point the packet is
 * known to be a tunnel packet and plan.dst, plan.kind and
 * plan.outer_family are set; a broken GUE payload (UDP length beyond the
 * outer payload, empty, not GUE variant 1) or inner packet (version not
 * the announced one, header cut, bad IHL, length beyond the tunnel
 * payload) is FG_DECAP_TUNNEL_BAD. The caller decides, knowing whether
 * plan.dst is local, what to do with TUNNEL_BAD and TUNNEL_FRAG.
 *
 * Context: any (BPF program, userspace tests). Pure; no loops beyond the
 * core parser's unrolled VLAN walk (fg_parse_eth).
 */
FG_INLINE int fg_decap_classify(const void *data, const void *data_end,
				__u32 frame_len, __u32 vlan_max,
				__be16 gue_port, struct fg_decap_plan *plan)
{
	const __u8 *p = data;
	const __u8 *l3, *nxt;
	struct fg_parse_cur cur;
	struct fg_pkt l2;
	__u32 l2_len, l3_hlen, avail;
	__be16 proto;
	__u8 nh, frag = 0, inner_family;

	/* L2 by the core parser: Ethernet and up to FG_VLAN_MAX_DEPTH tags.
	 * A frame cut short, or with more tags than we may look through
	 * (vlan_max: none for TC), is not one of ours. */
	if (frame_len < ETH_HLEN)
		return FG_DECAP_NOT_TUNNEL;
	l2.flags = 0;
	l2.vlan_count = 0;
	if (fg_parse_eth(data, data_end, &l2, &cur) != FG_PARSE_OK ||
	    l2.vlan_count > vlan_max)
		return FG_DECAP_NOT_TUNNEL;
	proto = l2.eth_proto;
	plan->vlan_count = l2.vlan_count;
	l2_len = cur.off;
	l3 = p + l2_len;

	if (proto == FG_BE16(ETH_P_IP)) {
		const struct iphdr *ip = (const void *)l3;
		__u32 tot;

		if ((const void *)(ip + 1) > data_end)
			return FG_DECAP_NOT_TUNNEL;
		if ((l3[0] >> 4) != 4)
			return FG_DECAP_NOT_TUNNEL;
		l3_hlen = (l3[0] & 0x0f) * 4;
		tot = fg_ntohs(ip->tot_len);
		if (l3_hlen < sizeof(*ip) || tot < l3_hlen ||
		    l2_len + tot > frame_len)
			return FG_DECAP_NOT_TUNNEL;
		nh = ip->protocol;
		if (ip->frag_off & FG_BE16(0x3fff)) {
			/* MF or an offset: a non-first UDP fragment carries no
			 * port, so it cannot be told from other UDP. */
			if (nh == FG_IPPROTO_UDP &&
			    (ip->frag_off & FG_BE16(0x1fff)))
				return FG_DECAP_NOT_TUNNEL;
			frag = 1;
		}
		plan->dst.addr[0] = ip->daddr;
		plan->dst.addr[1] = 0;
		plan->dst.addr[2] = 0;
		plan->dst.addr[3] = 0;
		plan->dst.family = 4;
		plan->outer_family = 4;
		avail = tot - l3_hlen;
	} else if (proto == FG_BE16(ETH_P_IPV6)) {
		const struct ipv6hdr *ip6 = (const void *)l3;
		__u32 plen;

		if ((const void *)(ip6 + 1) > data_end)
			return FG_DECAP_NOT_TUNNEL;
		if ((l3[0] >> 4) != 6)
			return FG_DECAP_NOT_TUNNEL;
		l3_hlen = sizeof(*ip6);
		plen = fg_ntohs(ip6->payload_len);
		if (l2_len + l3_hlen + plen > frame_len)
			return FG_DECAP_NOT_TUNNEL;
		nh = ip6->nexthdr;
		/* Bytes, not in6_addr members: glibc and the UAPI name
		 * them differently. */
		__builtin_memcpy(plan->dst.addr, &ip6->daddr, 16);
		plan->dst.family = 6;
		plan->outer_family = 6;
		avail = plen;
	} else {
		return FG_DECAP_NOT_TUNNEL;
	}
	plan->dst.pad[0] = 0;
	plan->dst.pad[1] = 0;
	plan->dst.pad[2] = 0;
	nxt = l3 + l3_hlen;
	plan->l2_len = l2_len;

	if (nh == FG_IPPROTO_UDP) {
		const struct udphdr *udp = (const void *)nxt;
		__u32 ulen;

		if (!gue_port)
			return FG_DECAP_NOT_TUNNEL;
		if ((const void *)(udp + 1) > data_end ||
		    avail < sizeof(*udp))
			return FG_DECAP_NOT_TUNNEL;
		if (udp->dest != gue_port)
			return FG_DECAP_NOT_TUNNEL;
		plan->kind = FG_DECAP_KIND_GUE;
		if (frag)
			return FG_DECAP_TUNNEL_FRAG;
		ulen = fg_ntohs(udp->len);
		if (ulen <= sizeof(*udp) || ulen > avail)
			return FG_DECAP_TUNNEL_BAD;
		/* GUE variant 1: the two top bits are 01 and the first nibble
		 * is the inner IP version; variant 0 (a GUE header, control
		 * messages) is not what the appliance sends. */
		nxt += sizeof(*udp);
		if ((const void *)(nxt + 1) > data_end)
			return FG_DECAP_TUNNEL_BAD;
		if ((nxt[0] >> 4) == 4)
			inner_family = 4;
		else if ((nxt[0] >> 4) == 6)
			inner_family = 6;
		else
			return FG_DECAP_TUNNEL_BAD;
		avail = ulen - sizeof(*udp);
		plan->outer_len = l3_hlen + sizeof(*udp);
	} else if (nh == FG_IPPROTO_IPIP || nh == FG_IPPROTO_IPV6) {
		plan->kind = FG_DECAP_KIND_IPIP;
		if (frag)
			return FG_DECAP_TUNNEL_FRAG;
		inner_family = nh == FG_IPPROTO_IPIP ? 4 : 6;
		plan->outer_len = l3_hlen;
	} else {
		return FG_DECAP_NOT_TUNNEL;
	}

	if (!fg_decap_check_inner(nxt, data_end, avail, inner_family))
		return FG_DECAP_TUNNEL_BAD;
	plan->inner_family = inner_family;
	plan->inner_proto = inner_family == 4 ? FG_BE16(ETH_P_IP) :
						FG_BE16(ETH_P_IPV6);
	return FG_DECAP_TUNNEL;
}

#endif /* FG_DECAP_COMMON_H */
