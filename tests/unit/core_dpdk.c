/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * core_dpdk.c - the core parses a packet held in an rte_mbuf-style buffer
 * with DPDK's own headers in the same translation unit: the DPDK
 * dataplane includes both, and glibc's netinet headers (which rte_ip.h
 * pulls in) must not clash with the core's. Runs without EAL: it only
 * uses DPDK's header-level structs and byte-order macros.
 */
#include <stdio.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_tcp.h>

#include "fg_flow.h"
#include "fg_parse.h"

int main(void)
{
	unsigned char frame[sizeof(struct rte_ether_hdr) + sizeof(struct rte_ipv4_hdr) +
			    sizeof(struct rte_tcp_hdr)];
	struct rte_ether_hdr *eth = (void *)frame;
	struct rte_ipv4_hdr *ip = (void *)(eth + 1);
	struct rte_tcp_hdr *tcp = (void *)(ip + 1);
	struct fg_pkt pkt;
	int rc;

	memset(frame, 0, sizeof(frame));
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16(sizeof(*ip) + sizeof(*tcp));
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_TCP;
	ip->src_addr = rte_cpu_to_be_32(0xc6120064); /* 198.18.0.100 */
	ip->dst_addr = rte_cpu_to_be_32(0xc612000a); /* 198.18.0.10 */
	tcp->src_port = rte_cpu_to_be_16(40000);
	tcp->dst_port = rte_cpu_to_be_16(80);
	tcp->data_off = 5 << 4;
	tcp->tcp_flags = RTE_TCP_SYN_FLAG;

	rc = fg_parse(frame, frame + sizeof(frame), &pkt);
	if (rc != FG_PARSE_OK || pkt.family != FG_AF_INET ||
	    pkt.l4_proto != IPPROTO_TCP || pkt.dport != rte_cpu_to_be_16(80) ||
	    pkt.src[0] != ip->src_addr || !(pkt.tcp_flags & FG_TCP_SYN) ||
	    pkt.l4_off != sizeof(*eth) + sizeof(*ip)) {
		printf("0 passed, 1 failed: fg_parse on a DPDK-built frame gave %d\n", rc);
		return 1;
	}
	printf("1 passed, 0 failed\n");
	return 0;
}
