/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * fg_prefilter.h - the check before any parse: an untagged IPv4/IPv6
 * frame to an address that is neither a VIP nor the SNAT address (the
 * VIP filter of fg_config says no) is the kernel's, known from the
 * destination address alone. Most of what an edge box sees is such
 * traffic, and it has no use for the parse. What the kernel gets is the
 * frame as it came, malformed or not: the kernel judges its own traffic.
 *
 * Both dataplanes run it first, so that a frame to a foreign address
 * reaches the kernel (XDP_PASS, the DPDK exception port) from either,
 * counted no_service, whatever its later headers hold.
 * Context: any (BPF program, DPDK worker, tests).
 */
#ifndef FG_PREFILTER_H
#define FG_PREFILTER_H

#include <linux/if_ether.h>

#include "fg_types.h"
#include "fg_parse.h"
#include "fg_tables.h"

/*
 * fg_dst_not_ours - 1 when the frame [data, end) is untagged IPv4 or IPv6
 * whose destination cfg's VIP filter rules out; 0 when it may be ours or
 * this cannot tell (tagged, another EtherType, an IP header cut short):
 * the frame is then parsed. Context: any.
 */
FG_INLINE int fg_dst_not_ours(const void *data, const void *end,
			      const struct fg_config *cfg)
{
	const struct ethhdr *eth = data;
	__u32 fold;

	if ((const void *)(eth + 1) > end)
		return 0;
	if (eth->h_proto == FG_BE16(ETH_P_IP)) {
		const struct fg_ip4_hdr *iph = (const void *)(eth + 1);

		if ((const void *)(iph + 1) > end)
			return 0;
		fold = iph->daddr;
	} else if (eth->h_proto == FG_BE16(ETH_P_IPV6)) {
		const struct fg_ip6_hdr *ip6 = (const void *)(eth + 1);

		if ((const void *)(ip6 + 1) > end)
			return 0;
		fold = ip6->daddr[0] ^ ip6->daddr[1] ^ ip6->daddr[2] ^
		       ip6->daddr[3];
	} else {
		return 0;
	}
	return !fg_vip_filter_has_fold(cfg, fold);
}

#endif /* FG_PREFILTER_H */
