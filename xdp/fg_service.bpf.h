/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * fg_service.bpf.h - service lookup in the active generation, usable
 * backends and the Maglev pick.
 *
 * BPF only (*.bpf.h): a part of floodgate.bpf.c, included by it alone;
 * it includes what it uses.
 */
#ifndef FG_SERVICE_BPF_H
#define FG_SERVICE_BPF_H

#include "fg_parse.h"
#include "fg_maglev.h"

#include "fg_util.bpf.h"

/* The service slot run of (vip, port) in generation gen: FG_SVC_PROBES
 * slots from the key's first, the search ending at the first empty one. */
static __always_inline struct fg_svc *fg_svc_probe(const struct fg_pkt *pkt,
						   __u32 gen, __be16 port)
{
	__u32 first = fg_svc_key_slot(pkt->dst, port, pkt->l4_proto), i;

	FG_UNROLL
	for (i = 0; i < FG_SVC_PROBES; i++) {
		__u32 idx = gen * FG_SVC_SLOTS + ((first + i) & (FG_SVC_SLOTS - 1));
		struct fg_svc_slot *sl = bpf_map_lookup_elem(&fg_services, &idx);

		if (!sl || !sl->key.family)
			return NULL;
		if (fg_svc_key_eq(&sl->key, pkt->dst, port, pkt->l4_proto,
				  pkt->family))
			return &sl->svc;
	}
	return NULL;
}

static __always_inline struct fg_svc *fg_lookup_service(const struct fg_pkt *pkt,
							const struct fg_config *cfg)
{
	__u32 gen = cfg->gen & 1;
	struct fg_svc *svc;

	svc = fg_svc_probe(pkt, gen, pkt->dport);
	if (svc || !(cfg->flags & FG_CFG_F_WILDCARD))
		return svc;
	return fg_svc_probe(pkt, gen, 0);
}

/* A backend id still usable for flows of service svc_id. */
static __always_inline struct fg_backend *fg_backend_usable(__u32 id,
							    __u32 svc_id)
{
	struct fg_backend *be = bpf_map_lookup_elem(&fg_backends, &id);

	if (!be || !(be->flags & FG_BE_F_VALID) || (be->flags & FG_BE_F_DOWN) ||
	    be->svc_id != svc_id)
		return NULL;
	return be;
}
/* The hash Maglev picks with: the 5-tuple's, or for client affinity the
 * source address's. */
static __always_inline __u64 fg_pick_hash(const struct fg_svc *svc,
					  const struct fg_flow_key *key,
					  const struct fg_fwd *fw)
{
	struct fg_hash_seed seed;

	if (svc->hash != FG_HASH_SRC_IP)
		return fw->hash;
	fg_seed_get(&seed);
	return fg_flow_hash_src(key, &seed);
}

/* Maglev: the ring slot of this flow, or NULL (no ring). */
static __always_inline __u32 *fg_maglev_slot_of(const struct fg_svc *svc,
						__u64 hash)
{
	__u32 idx;

	if (!svc->ring_size)
		return NULL;
	idx = svc->ring_off + fg_maglev_slot(hash, svc->ring_size);
	return bpf_map_lookup_elem(&fg_ring, &idx);
}

/* The backend id the ring gives this flow, or FG_NO_BACKEND. */
static __always_inline __u32 fg_maglev_pick(const struct fg_svc *svc, __u64 hash)
{
	__u32 *slot = fg_maglev_slot_of(svc, hash);

	return slot ? *slot : FG_NO_BACKEND;
}

/* fg_maglev_touch - fg_touch the ring slot fg_maglev_pick(svc, hash)
 * will read. */
static __always_inline void fg_maglev_touch(const struct fg_svc *svc,
					    __u64 hash)
{
	__u32 *slot = fg_maglev_slot_of(svc, hash);

	if (slot)
		fg_touch(slot);
}

#endif /* FG_SERVICE_BPF_H */
