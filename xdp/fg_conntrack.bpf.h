/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * fg_conntrack.bpf.h - the set-associative connection tables (fg_ct,
 * fg_ct_syn) and the backend a packet's flow goes to.
 *
 * BPF only (*.bpf.h): a part of floodgate.bpf.c, included by it alone;
 * it includes what it uses.
 */
#ifndef FG_CONNTRACK_BPF_H
#define FG_CONNTRACK_BPF_H

#include "fg_ct.h"

#include "fg_service.bpf.h"

/* ----------------------------------------------------- flow handling */

/* The idle ticks after which a conntrack way of a flow is gone. */
static __always_inline __u32 fg_ct_timeout(int udp)
{
	return fg_ct_tick(udp ? fg_ct_timeout_udp_ns : fg_ct_timeout_tcp_ns);
}

/*
 * fg_ct_probe - the core's line probe (fg_ct.h) over line `hash` of map
 * (`lines` lines): the way holding the flow, its state in *ct; or NULL
 * with *victim the way a new flow takes.
 */
static __always_inline struct fg_ct_way *
fg_ct_probe(void *map, __u32 lines, __u64 hash, __u32 now, struct fg_ct *ct,
	    struct fg_ct_way **victim)
{
	__u32 idx = fg_ct_line_of(hash, lines), vi = 0;
	struct fg_ct_line *l = bpf_map_lookup_elem(map, &idx);
	int w;

	*victim = NULL;
	if (!l)
		return NULL;
	w = fg_ct_line_probe(l, hash, now, fg_ct_timeout(0), fg_ct_timeout(1),
			     ct, &vi);
	if (w >= 0)
		return &l->way[w & (FG_CT_WAYS - 1)];
	*victim = &l->way[vi & (FG_CT_WAYS - 1)];
	return NULL;
}

/* Ways are written with fg_ct_way_write and freed with fg_ct_way_free
 * (fg_ct.h). Deliberate race: the tables are shared by the CPUs and
 * written without a lock; the write's order (first word cleared first,
 * written last) bounds what a reader on another CPU sees. */

/* A way's state still good for a packet of svc: recorded for this
 * service, seen within the timeout, its backend usable. */
static __always_inline int fg_ct_live(const struct fg_ct *ct,
				      const struct fg_svc *svc, __u32 now,
				      __u32 timeout)
{
	return ct->svc_id == svc->id &&
	       fg_ct_idle(now, ct->seen) <= timeout &&
	       fg_backend_usable(ct->backend_id, svc->id);
}

/*
 * fg_flow_backend - the backend id for this packet of service svc, with
 * the connection-table work: an established entry wins while its backend
 * is usable; a SYN gets a fresh Maglev pick (a retransmitted one the entry
 * already in fg_ct_syn); the first non-SYN of a recorded SYN promotes it to
 * fg_ct; UDP records in fg_ct directly. *ct_out receives the entry in use
 * (for NAT); FG_CT_F_NEW in ct_out->flags says this packet creates a flow.
 * A new flow of a DSR service is recorded here; a NAT one has no source
 * port yet, and the caller records it with fg_flow_commit() once it has.
 * Returns FG_NO_BACKEND when the service has no usable backend.
 */
#define FG_FB_SYN 0x1
#define FG_FB_TCP 0x2

static __noinline __u32 fg_flow_backend(const struct fg_svc *svc,
					const struct fg_flow_key *key,
					__u32 fb_flags, struct fg_fwd *fw,
					struct fg_ct *ct_out)
{
	int is_syn = !!(fb_flags & FG_FB_SYN), is_tcp = !!(fb_flags & FG_FB_TCP);
	int nat = svc->forward == FG_FWD_NAT;
	__u32 now = fg_ct_tick(fw->now);
	__u64 hash = fw->hash;
	__u32 timeout = fg_ct_timeout(!is_tcp);
	struct fg_ct_way *w, *victim, *syn_victim;
	struct fg_ct ct = {}, fresh = {};
	__u64 pick;
	__u32 id;

	if (is_tcp && is_syn) {
		/* The ring slot a fresh pick reads, on its way while the
		 * probe waits for its own (cold) line. */
		pick = fg_pick_hash(svc, key, fw);
		fg_maglev_touch(svc, pick);
		/* A TCP SYN never takes an established entry: on a live
		 * connection the stack answers a SYN with a challenge ACK,
		 * so a SYN that meets one is a new connection reusing the
		 * 4-tuple (TIME_WAIT reuse) and is judged afresh - a drained
		 * backend gets no new connection that way. A retransmitted
		 * SYN keeps the backend (and NAT source port) recorded in
		 * fg_ct_syn: a fresh pick could allocate a second port, and
		 * the backend's SYN-ACK to the first one would meet a client
		 * ACK sent on the second. */
		w = fg_ct_probe(&fg_ct_syn, fg_ct_syn_lines, hash, now, &ct,
				&syn_victim);
		if (w && fg_ct_live(&ct, svc, now, timeout)) {
			*ct_out = ct;
			return ct.backend_id;
		}
		/* An embryonic entry idle past the timeout, or whose backend
		 * went, is no handshake any more: the SYN takes it over. */
		if (w)
			syn_victim = w;
		id = fg_maglev_pick(svc, pick);
		if (id == FG_NO_BACKEND || !fg_backend_usable(id, svc->id))
			return FG_NO_BACKEND;
		fresh.backend_id = id;
		fresh.svc_id = svc->id;
		fresh.seen = now;
		if (!nat && syn_victim)
			fg_ct_way_write(syn_victim, hash, &fresh);
		goto new_flow;
	}

	w = fg_ct_probe(&fg_ct, fg_ct_lines, hash, now, &ct, &victim);
	if (w) {
		if (fg_ct_live(&ct, svc, now, timeout)) {
			/* Within half the timeout too: a short UDP timeout
			 * must see its flows refreshed before it ends. */
			if (fg_ct_refresh_due(now, ct.seen, timeout))
				w->seen = now;
			ct.seen = now;
			*ct_out = ct;
			return ct.backend_id;
		}
		/* Stale, or its backend went: the way is this flow's to
		 * rewrite. */
		victim = w;
	}
	if (is_tcp) {
		/* The first non-SYN of a recorded handshake promotes it. An
		 * embryonic entry older than the TCP timeout is no handshake
		 * any more, and the ACK is then stateless. */
		w = fg_ct_probe(&fg_ct_syn, fg_ct_syn_lines, hash, now, &ct,
				&syn_victim);
		if (w && fg_ct_live(&ct, svc, now, timeout)) {
			fresh = ct;
			fresh.seen = now;
			if (victim)
				fg_ct_way_write(victim, hash, &fresh);
			fg_ct_way_free(w);
			*ct_out = fresh;
			ct_out->flags |= FG_CT_F_PROMOTED;
			return fresh.backend_id;
		}
		/* No state: the ring decides, and no entry is created, so
		 * forged mid-flow packets cannot fill the table. A slot
		 * still naming a backend that is down (or no longer this
		 * service's) until the control plane flips the ring gets
		 * nothing, as a SYN would. */
		id = fg_maglev_pick(svc, fg_pick_hash(svc, key, fw));
		if (id != FG_NO_BACKEND && !fg_backend_usable(id, svc->id))
			id = FG_NO_BACKEND;
		ct_out->backend_id = id;
		ct_out->flags = 0;
		return id;
	}

	/* A new UDP flow (recorded here unless NAT). */
	id = fg_maglev_pick(svc, fg_pick_hash(svc, key, fw));
	if (id == FG_NO_BACKEND || !fg_backend_usable(id, svc->id))
		return FG_NO_BACKEND;
	fresh.backend_id = id;
	fresh.svc_id = svc->id;
	fresh.seen = now;
	fresh.flags = FG_CT_F_UDP;
	if (!nat && victim)
		fg_ct_way_write(victim, hash, &fresh);
new_flow:
	fresh.flags |= FG_CT_F_NEW;
	*ct_out = fresh;
	return id;
}

/* Record the new NAT flow ct (FG_CT_F_NEW) with its source port: a TCP
 * one in fg_ct_syn until its handshake completes, UDP in fg_ct. */
static __noinline void fg_flow_commit(struct fg_ct *ct, int is_tcp,
				      const struct fg_fwd *fw)
{
	struct fg_ct_way *w, *victim;
	__u32 now = fg_ct_tick(fw->now);
	struct fg_ct old;

	ct->flags &= ~FG_CT_F_NEW;
	if (is_tcp)
		w = fg_ct_probe(&fg_ct_syn, fg_ct_syn_lines, fw->hash, now,
				&old, &victim);
	else
		w = fg_ct_probe(&fg_ct, fg_ct_lines, fw->hash, now, &old,
				&victim);
	if (w)
		victim = w;
	if (victim)
		fg_ct_way_write(victim, fw->hash, ct);
}

#endif /* FG_CONNTRACK_BPF_H */
