/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * fg_tables.h - the table keys and values the dataplanes and the control
 * plane share. Each struct is defined once, here, with its size asserted:
 * the XDP maps, the DPDK tables and the daemon's compiler all use these.
 *
 * Generations. Service entries, rings and limits are written for an
 * inactive generation (0 or 1) on the side, then one write of
 * fg_config.gen switches every packet to the new set; no packet sees a
 * half-written rule set. Backends and conntrack entries are not versioned:
 * a backend id is never reused while a generation may still name it.
 */
#ifndef FG_TABLES_H
#define FG_TABLES_H

#include "fg_types.h"
#include "fg_tbucket.h"

/* ------------------------------------------------------------ limits */

#define FG_SVC_MAX          4096U    /* services per generation */
#define FG_BACKEND_MAX      65536U   /* backend ids (global) */
#define FG_LIMIT_MAX        256U     /* limits per generation */
#define FG_SVC_LIMITS_MAX   8U       /* limits evaluated per service */
#define FG_GLOBAL_LIMITS_MAX 8U      /* limits with no service */
#define FG_RING_SLOTS_DEFAULT (1U << 22) /* ring slot array, u32 each */
#define FG_CT_DEFAULT       (1U << 20) /* established flows */
#define FG_CT_SYN_DEFAULT   (1U << 18) /* embryonic (SYN seen) flows */
#define FG_NAT_DEFAULT      (1U << 20) /* full-NAT reverse entries */
#define FG_BUCKETS_DEFAULT  (1U << 20) /* token-bucket states */

#define FG_GENERATIONS 2U

/* Slot value for "no backend" in rings and lists. */
#define FG_NO_BACKEND 0xffffffffU
#define FG_NO_LIMIT   0xffffU

/* ---------------------------------------------------------- services */

enum fg_forward {
	FG_FWD_DSR_IPIP = 0, /* IPIP / ip6ip6 to the backend; DSR */
	FG_FWD_DSR_GUE  = 1, /* GUE (UDP) to the backend; DSR */
	FG_FWD_NAT      = 2, /* full NAT both ways */
};

enum fg_hash_mode {
	FG_HASH_5TUPLE = 0,
	FG_HASH_SRC_IP = 1,
};

/* Key of fg_services: (generation, vip, port, proto). port 0 = any port;
 * the dataplane looks up the exact port first, then port 0. */
struct fg_svc_key {
	__be32 vip[4];  /* IPv4 in word 0, others zero */
	__be16 port;
	__u8 proto;     /* IPPROTO_TCP / IPPROTO_UDP */
	__u8 family;    /* FG_AF_INET / FG_AF_INET6 */
	__u8 gen;       /* 0 or 1 */
	__u8 pad[3];
};
FG_ASSERT_SIZE(struct fg_svc_key, 24);

/* Value of fg_services. */
struct fg_svc {
	__u32 id;          /* 0..FG_SVC_MAX-1: stable across generations;
			    * indexes per-service counters */
	__u32 ring_off;    /* first slot of this service's ring in fg_ring */
	__u32 ring_size;   /* prime M; 0 = no usable backend */
	__u8 forward;      /* enum fg_forward */
	__u8 hash;         /* enum fg_hash_mode */
	__u16 nlimits;     /* used entries of limits[] */
	__u16 limits[FG_SVC_LIMITS_MAX]; /* limit ids (this generation) */
	__u16 gue_port;    /* GUE destination port, network order */
	__u16 pad;
};
FG_ASSERT_SIZE(struct fg_svc, 36);

/* ---------------------------------------------------------- backends */

#define FG_BE_F_VALID 0x01 /* slot in use */
#define FG_BE_F_DOWN  0x02 /* health checks failed: flows are re-hashed */

/* fg_backends[id]. Ring slots and conntrack entries hold backend ids. */
struct fg_backend {
	__be32 addr[4];  /* IPv4 in word 0 */
	__be16 port;     /* NAT destination port; unused in DSR */
	__u8 family;
	__u8 flags;      /* FG_BE_F_* */
	__u32 svc_id;    /* owner: a conntrack hit is honoured only when the
			  * backend still belongs to the flow's service */
};
FG_ASSERT_SIZE(struct fg_backend, 24);

/* --------------------------------------------------------- conntrack */

#define FG_CT_F_NAT 0x01 /* a full-NAT flow: nat_port/snat valid */
#define FG_CT_F_NEW 0x80 /* transient in the dataplane, never stored */

/* Value of fg_ct (established) and fg_ct_syn (embryonic), keyed by the
 * client-side struct fg_flow_key. */
struct fg_ct {
	__u64 last_seen;   /* coarse ns; refreshed at most once a second */
	__u32 backend_id;
	__u32 svc_id;
	__be16 nat_port;   /* source port toward the backend (NAT) */
	__u8 flags;        /* FG_CT_F_* */
	__u8 pad[5];
};
FG_ASSERT_SIZE(struct fg_ct, 24);

/* Value of fg_nat, keyed by the backend-side flow key (backend -> snat
 * address): what to restore on the way back to the client. */
struct fg_nat_rev {
	__be32 client[4];
	__be32 vip[4];
	__be16 client_port;
	__be16 vip_port;
	__u32 svc_id;
	__u64 last_seen;
};
FG_ASSERT_SIZE(struct fg_nat_rev, 48);

/* ------------------------------------------------------------ limits */

enum fg_limit_key {
	FG_LKEY_SRC_IP = 0,
	FG_LKEY_SRC_PREFIX = 1, /* src_prefix/N: prefix_len */
	FG_LKEY_FLOW = 2,
	FG_LKEY_SERVICE = 3,
};

enum fg_limit_unit {
	FG_LUNIT_PPS = 0,
	FG_LUNIT_BPS = 1,
	FG_LUNIT_CPS = 2, /* TCP SYNs without ACK */
};

enum fg_limit_action {
	FG_LACT_DROP = 0,
	FG_LACT_RESET = 1,
};

#define FG_LIM_F_DRY_RUN   0x01
#define FG_LIM_F_MATCH_SRC 0x02 /* match.src prefix present */

/* fg_limits[gen * FG_LIMIT_MAX + id]. */
struct fg_limit {
	struct fg_tb_profile prof;
	__be32 match_src[4];  /* masked prefix */
	__u8 match_src_len;   /* prefix length in bits */
	__u8 match_proto;     /* 0 = any */
	__be16 match_dport;   /* 0 = any */
	__u8 key;             /* enum fg_limit_key */
	__u8 prefix_len;      /* for FG_LKEY_SRC_PREFIX */
	__u8 unit;            /* enum fg_limit_unit */
	__u8 action;          /* enum fg_limit_action */
	__u8 flags;           /* FG_LIM_F_* */
	__u8 match_family;    /* FG_AF_*, with FG_LIM_F_MATCH_SRC */
	__u8 pad[2];
	__u32 id;             /* stable limit id: counters, bucket keys */
};
FG_ASSERT_SIZE(struct fg_limit, 56);

/* Key of fg_buckets: one token bucket per (limit, key value). */
struct fg_bucket_key {
	__be32 addr[4];  /* source address or prefix; zero for service */
	__be32 dst[4];   /* flow key only */
	__be16 sport;    /* flow key only */
	__be16 dport;
	__u32 limit_id;
	__u8 proto;
	__u8 family;
	__u8 pad[6];
};
FG_ASSERT_SIZE(struct fg_bucket_key, 48);

/* ------------------------------------------------------------ config */

/* fg_config[0]: the switch. Written by one map update. */
#define FG_CFG_F_WILDCARD 0x01 /* a service of this generation has port 0 */

struct fg_config {
	__u8 gen;             /* active generation, 0 or 1 */
	__u8 flags;           /* FG_CFG_F_*: lets a packet for no service
			       * skip the port-0 lookup */
	__u16 nglobal_limits;
	__u16 global_limits[FG_GLOBAL_LIMITS_MAX];
	__u64 version;        /* rule version this generation carries */
};
FG_ASSERT_SIZE(struct fg_config, 32);

/* --------------------------------------------------------- counters */

/* Per-CPU: fg_svc_stats[svc_id], fg_be_stats[backend_id]. */
struct fg_counter {
	__u64 packets;
	__u64 bytes;
	__u64 new_flows;
	__u64 pad;
};
FG_ASSERT_SIZE(struct fg_counter, 32);

/* Per-CPU: fg_limit_stats[limit_id]. */
struct fg_limit_counter {
	__u64 passed;
	__u64 limited;
};
FG_ASSERT_SIZE(struct fg_limit_counter, 16);

/* Per-CPU: fg_drops[reason]. */
enum fg_drop_reason {
	FG_DROP_MALFORMED = 0,  /* parse error */
	FG_DROP_NO_SERVICE,     /* never a drop: counts non-VIP packets passed */
	FG_DROP_FLOOD_GUARD,    /* SYN refused before it could create state */
	FG_DROP_NO_BACKEND,     /* service has no usable backend */
	FG_DROP_LIMITED,        /* refused by a limit (drop or reset) */
	FG_DROP_FRAGMENT,       /* fragment of a VIP flow */
	FG_DROP_NO_ROUTE,       /* FIB lookup failed */
	FG_DROP_NAT_PORTS,      /* no free NAT source port */
	FG_DROP_ENCAP,          /* could not grow or shrink the frame */
	FG_DROP_REASON_MAX
};

/* fg_drop_reason_name - the reason as the API, metrics and tools spell it
 * ("malformed", ...); "unknown" out of range. Context: userspace (string
 * literals; BPF programs have no use for it). */
FG_INLINE const char *fg_drop_reason_name(unsigned int reason)
{
	switch (reason) {
	case FG_DROP_MALFORMED:   return "malformed";
	case FG_DROP_NO_SERVICE:  return "no_service";
	case FG_DROP_FLOOD_GUARD: return "flood_guard";
	case FG_DROP_NO_BACKEND:  return "no_backend";
	case FG_DROP_LIMITED:     return "limited";
	case FG_DROP_FRAGMENT:    return "fragment";
	case FG_DROP_NO_ROUTE:    return "no_route";
	case FG_DROP_NAT_PORTS:   return "nat_ports";
	case FG_DROP_ENCAP:       return "encap";
	default:                  return "unknown";
	}
}

#endif /* FG_TABLES_H */
