/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * fg_neigh.h - keep every next hop the dataplane forwards to resolved, with
 * kernel-managed neighbour entries (NTF_EXT_MANAGED, Linux 5.16+): the
 * kernel resolves such an entry at once and keeps re-probing it, so
 * bpf_fib_lookup finds the MAC address from the first packet on. Without
 * it a first packet meets BPF_FIB_LKUP_RET_NO_NEIGH, and nothing on the
 * XDP path can make the kernel resolve the neighbour.
 *
 * The next hops: each target (the backends of NAT services, the backends
 * of DSR services - the tunnels' destinations; fg_neigh_targets()) routed
 * through the kernel's table (RTM_GETROUTE) to its gateway, or to itself
 * when on-link, kept when it leaves through one of the dataplane's
 * interfaces; plus the gateways of every route out of those interfaces
 * (the next hops toward clients).
 *
 * Ours and theirs. Entries made here carry NDA_PROTOCOL FG_NEIGH_PROTO:
 * a sync deletes ours that are no longer needed and never deletes
 * another's. A next hop that already has an entry another owns
 * (permanent, NOARP, externally learned, or a foreign protocol) is left
 * as it is; an entry the kernel learned by itself (protocol 0) is taken
 * over, state kept (NTF_USE), and becomes ours.
 *
 * Use: fg_neigh_new(); on each rule set fg_neigh_plan(targets) - it says
 * how many entries the plan needs, for fg_sysctl_neigh_fit() - then
 * fg_neigh_apply(). Put fg_neigh_monitor_fd() on the event loop; when
 * fg_neigh_monitor_drain() answers 1, wait FG_NEIGH_DEBOUNCE_MS (a route
 * change comes as a burst of messages) and run fg_neigh_plan(n, NULL, 0)
 * (the last targets again) and fg_neigh_apply(). At detach,
 * fg_neigh_remove_all().
 *
 * The library never logs: it returns counts (struct fg_neigh_stats) and
 * errors as negative errno with a message. Context: userspace,
 * CAP_NET_ADMIN in the dataplane's network namespace; not thread-safe.
 */
#ifndef FG_NEIGH_H
#define FG_NEIGH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/netlink.h>

#include "fg_rules.h"

/* NDA_PROTOCOL of Floodgate's entries (an rtnetlink protocol number, as
 * in /etc/iproute2/rt_protos: free; `ip -d neigh` prints it as 246). */
#define FG_NEIGH_PROTO 246
#define FG_NEIGH_IFS_MAX 64          /* dataplane interfaces (FG_XDP_LINKS_MAX) */
#define FG_NEIGH_TARGETS_MAX 65536U  /* FG_BACKEND_MAX */
#define FG_NEIGH_GATEWAYS_MAX 1024U  /* gateways toward clients */
#define FG_NEIGH_DEBOUNCE_MS 200     /* wait after a route change */

/* One next hop: an address on an interface. */
struct fg_neigh_hop {
	int ifindex;
	struct fg_addr addr;
};

struct fg_neigh_stats {
	uint32_t wanted;     /* next hops in the plan */
	uint32_t added;      /* entries made (or taken over) by this call */
	uint32_t kept;       /* ours already, left alone */
	uint32_t foreign;    /* next hops with another owner's entry */
	uint32_t removed;    /* ours deleted: no longer needed (or detach) */
	uint32_t unrouted;   /* targets without a route (plan) */
	uint32_t elsewhere;  /* targets routed out of other interfaces (plan) */
};

struct fg_neigh;

/*
 * fg_neigh_new - a handle for the dataplane interfaces ifnames[0..nif-1]
 * (looked up by name at every plan, so a recreated interface is
 * followed). nif 0 makes a handle that can only fg_neigh_remove_all().
 * Returns NULL with *errp (when given) -EINVAL (more than
 * FG_NEIGH_IFS_MAX, a bad name), -ENOMEM or the socket's error, and a
 * message.
 */
struct fg_neigh *fg_neigh_new(const char *const *ifnames, size_t nif,
			      int *errp, char *err, size_t errlen);

/* fg_neigh_free - close the sockets and free. Entries stay. Accepts NULL. */
void fg_neigh_free(struct fg_neigh *n);

/*
 * fg_neigh_targets - the addresses whose next hops a rule set needs: the
 * backends of every service (NAT: the backend; DSR: the tunnel's
 * destination, the backend too), each once, every state included (a
 * drained backend still carries its flows). *out is malloc'd (NULL when
 * *nout is 0); the caller frees it. Returns 0 or -ENOMEM.
 */
int fg_neigh_targets(const struct fg_ruleset *rs, struct fg_addr **out,
		     size_t *nout);

/*
 * fg_neigh_plan - work out the next hops for targets[0..nt-1] (copied:
 * kept for the next plan with targets NULL, which reuses them) and the
 * gateways of the routes out of the interfaces. st (may be NULL) gets
 * wanted, unrouted and elsewhere. Changes nothing. Returns the number of
 * next hops (>= 0), or -EINVAL (more than FG_NEIGH_TARGETS_MAX targets,
 * a handle without interfaces), -ENODEV (an interface is missing), or a
 * netlink error, with a message.
 */
int fg_neigh_plan(struct fg_neigh *n, const struct fg_addr *targets, size_t nt,
		  struct fg_neigh_stats *st, char *err, size_t errlen);

/*
 * fg_neigh_apply - make the kernel's neighbour tables hold a managed
 * entry of ours for every next hop of the last plan, and delete ours that
 * are not in it. Goes on past a failed add and returns the first error:
 * -ENOBUFS means the table is full (gc_thresh3: fg_sysctl_neigh_fit()).
 * st (may be NULL) gets added, kept, foreign and removed. Returns 0 or
 * -errno with a message; -EINVAL when there was no plan.
 */
int fg_neigh_apply(struct fg_neigh *n, struct fg_neigh_stats *st,
		   char *err, size_t errlen);

/*
 * fg_neigh_remove_all - delete every entry of ours (protocol
 * FG_NEIGH_PROTO) on every interface of the namespace, the plan's or
 * not; st->removed counts them. Returns 0 or the first error.
 */
int fg_neigh_remove_all(struct fg_neigh *n, struct fg_neigh_stats *st,
			char *err, size_t errlen);

/*
 * fg_neigh_monitor_fd - a non-blocking netlink socket subscribed to link,
 * address, route and neighbour changes (made on first call, owned by n).
 * Returns the fd or -errno with a message.
 */
int fg_neigh_monitor_fd(struct fg_neigh *n, char *err, size_t errlen);

/*
 * fg_neigh_monitor_drain - read what is pending on the monitor socket.
 * Returns 1 when a change may move a next hop (a route or address
 * change, a link change, an entry of ours deleted, or lost messages), so
 * a new plan is due; 0 when nothing relevant came; -errno on error.
 */
int fg_neigh_monitor_drain(struct fg_neigh *n);

/* ------------------------------------------------------------------
 * The wire format, exposed for the unit tests.
 */

/* fg_neigh_msg_getroute - an RTM_GETROUTE request for dst into buf.
 * Returns its length, or 0 when buf is too small or dst's family bad. */
size_t fg_neigh_msg_getroute(void *buf, size_t len, const struct fg_addr *dst,
			     uint32_t seq);

/* fg_neigh_msg_neigh - RTM_NEWNEIGH (add: managed, ours, NTF_USE) or
 * RTM_DELNEIGH for hop into buf. Returns its length or 0. */
size_t fg_neigh_msg_neigh(void *buf, size_t len, bool add,
			  const struct fg_neigh_hop *hop, uint32_t seq);

/* What a route message says about a next hop. */
struct fg_neigh_route {
	int family;
	uint8_t type;            /* RTN_* */
	uint32_t table;
	bool cloned;             /* RTM_F_CLONED: a cache entry */
	int oif;                 /* 0 when none */
	bool has_gw;
	struct fg_addr gw;       /* RTA_GATEWAY or RTA_VIA */
	/* RTA_MULTIPATH: up to this many paths, gateway or not. */
	uint32_t npaths;
	struct fg_neigh_hop paths[16];
	bool has_paths;
};

/* fg_neigh_parse_route - parse an RTM_NEWROUTE / RTM_DELROUTE message.
 * Returns 0 or -EINVAL (truncated, another type). */
int fg_neigh_parse_route(const struct nlmsghdr *h, struct fg_neigh_route *r);

/* What a neighbour message says. */
struct fg_neigh_entry {
	struct fg_neigh_hop hop;
	uint16_t state;          /* NUD_* */
	uint8_t flags;           /* NTF_* */
	uint32_t flags_ext;      /* NTF_EXT_* */
	uint8_t protocol;        /* NDA_PROTOCOL, 0 when absent */
};

/* fg_neigh_parse_neigh - parse an RTM_NEWNEIGH / RTM_DELNEIGH message.
 * Returns 0, -EINVAL (truncated, another type), -ENOENT (no NDA_DST,
 * or a family other than IPv4/IPv6). */
int fg_neigh_parse_neigh(const struct nlmsghdr *h, struct fg_neigh_entry *e);

#endif /* FG_NEIGH_H */
