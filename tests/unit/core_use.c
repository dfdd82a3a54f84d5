/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * core_use.c - calls every fast-path function of dataplane/core from an
 * exported function, so that check_core_headers.sh makes both compilers
 * (gcc and clang -target bpf) emit real code for them, not just parse the
 * declarations. Not linked into anything.
 */
#include "fg_types.h"
#include "fg_parse.h"
#include "fg_flow.h"
#include "fg_maglev.h"
#include "fg_tbucket.h"
#include "fg_tables.h"
#include "fg_ct.h"
#include "fg_encap.h"
#include "fg_icmp.h"
#include "fg_nat.h"
#include "fg_prefilter.h"
#include "fg_rst.h"

/* BPF functions take at most five arguments: everything comes in one struct. */
struct fg_core_use_args {
	const void *data;
	const void *data_end;
	const struct fg_hash_seed *seed;
	const __u32 *ring;
	const struct fg_tb_profile *prof;
	struct fg_tb_state *st;
	const struct fg_svc_slot *svc_tab;  /* one generation's slots */
	const struct fg_ct_line *ct;        /* a connection table */
	__u32 ct_lines;                     /* its lines, a power of two */
	__u32 cpu;
	__u64 now;
	__u64 out[8];
};

int fg_core_use(struct fg_core_use_args *a);

int fg_core_use(struct fg_core_use_args *a)
{
	const struct fg_svc_slot *slot;
	const struct fg_ct_line *l;
	struct fg_ct ct;
	struct fg_flow_key key, rev;
	struct fg_pkt pkt;
	int rc;

	rc = fg_parse(a->data, a->data_end, &pkt);
	if (rc != FG_PARSE_OK)
		return rc;
	fg_flow_key_from_pkt(&pkt, &key);
	fg_flow_key_reverse(&key, &rev);
	a->out[0] = fg_flow_hash(&key, a->seed);
	a->out[1] = fg_flow_hash_sym(&rev, a->seed);
	a->out[2] = fg_flow_hash_src(&key, a->seed);
	a->out[3] = a->ring[fg_maglev_slot(a->out[0], FG_MAGLEV_M_DEFAULT)];
	/* The service table's first probe and the connection table's first
	 * way, as the dataplane reads them. */
	slot = &a->svc_tab[fg_svc_key_slot(pkt.dst, pkt.dport, pkt.l4_proto)];
	a->out[4] = ~0U;
	if (fg_svc_key_eq(&slot->key, pkt.dst, pkt.dport, pkt.l4_proto,
			  pkt.family))
		a->out[4] = slot->svc.id;
	l = &a->ct[fg_ct_line_of(a->out[0], a->ct_lines)];
	a->out[5] = ~0U;
	if (fg_ct_way_is(&l->way[0], a->out[0])) {
		fg_ct_unpack(&l->way[0], &ct);
		a->out[5] = ct.backend_id + fg_ct_idle(fg_ct_tick(a->now), ct.seen);
	}
	a->out[6] = fg_cpu_index(a->cpu, FG_SVC_MAX, a->out[4]) +
		    fg_config_drops_index(a->cpu);
	return fg_tb_consume(a->prof, a->st, a->now, pkt.l3_len);
}

/* The rewrites both dataplanes share, over a writable frame. */
struct fg_core_rw_args {
	void *data;
	void *data_end;
	const struct fg_pkt *pkt;
	const struct fg_config *cfg;
	const struct fg_nat_to *nat;
	struct fg_ct_line *ct;      /* one line */
	const __be32 *src, *dst;    /* outer addresses, 4 words each */
	__u64 hash;
	__u32 now;
	__u64 out[4];
};

int fg_core_rewrite(struct fg_core_rw_args *a);

int fg_core_rewrite(struct fg_core_rw_args *a)
{
	struct fg_ct ct;
	__u32 victim = 0;

	if (fg_dst_not_ours(a->data, a->data_end, a->cfg))
		return 1;
	a->out[0] = (__u64)fg_ct_line_probe(a->ct, a->hash, a->now, 300, 30,
					    &ct, &victim);
	a->out[1] = victim;
	if (a->nat)
		return fg_nat_rewrite_hdrs(a->data, a->data_end, a->pkt,
					   a->nat);
	if (a->pkt->l4_proto == 6 && !a->src)
		return fg_rst_build(a->data, a->data_end, a->pkt);
	if (!a->dst)
		return fg_icmp_too_big_write(a->data, a->data_end,
					     a->pkt->family, a->pkt->dst,
					     a->pkt->src,
					     fg_icmp_too_big_quote(a->pkt->family,
								   a->pkt->l3_len),
					     fg_icmp_too_big_mtu(a->pkt->family,
								 1500, 20));
	return fg_encap_write(a->data, a->data_end, a->pkt->family,
			      a->pkt->family, a->src, a->dst, a->pkt->l3_len,
			      (__u32)a->hash, 0);
}
