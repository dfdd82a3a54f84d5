// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * fg_host.c - floodgated prepares its box: sysctls and managed neighbour
 * entries (fg_host.h).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "fg_host.h"
#include "fg_log.h"
#include "fg_neigh.h"
#include "fg_sysctl.h"

struct fg_host {
	struct event_base *base;
	struct fg_neigh *neigh;
	struct fg_sysctl_cfg scfg;
	char saved[256];
	struct event *mon;       /* the route monitor's socket */
	struct event *debounce;  /* a route change: re-plan after a pause */
	struct fg_addr *targets; /* the last rule set's, sorted */
	size_t ntargets;
	bool synced;             /* the last plan was applied */
};

/* Log what a sysctl call changed, one line per setting. */
static void fg_host_log_sysctls(const struct fg_sysctl_report *rep)
{
	size_t i;

	for (i = 0; i < rep->n; i++) {
		const struct fg_sysctl_change *c = &rep->c[i];

		if (c->kept)
			fg_log(FG_LOG_INFO, "sysctl %s left at %s (changed by "
			       "someone else since; the original was %s)",
			       c->key, c->old, c->new);
		else
			fg_log(FG_LOG_INFO, "sysctl %s: %s -> %s", c->key,
			       c->old, c->new);
	}
	if (rep->total > rep->n)
		fg_log(FG_LOG_INFO, "sysctl: %zu more changes",
		       rep->total - rep->n);
}

static int fg_host_cfg(const struct fg_boot_config *cfg, char *saved,
		       size_t len, struct fg_sysctl_cfg *scfg, char *err,
		       size_t errlen)
{
	int rc = fg_sysctl_saved_path(cfg->node.name, saved, len);

	if (rc) {
		snprintf(err, errlen, "node name %s: %s", cfg->node.name,
			 strerror(-rc));
		return rc;
	}
	memset(scfg, 0, sizeof(*scfg));
	scfg->saved_path = saved;
	return 0;
}

/* Plan the next hops (targets NULL: the last ones again), grow the
 * neighbour thresholds to hold them, make the entries. Logs. */
static void fg_host_sync(struct fg_host *h, bool new_targets)
{
	struct fg_sysctl_report *rep = calloc(1, sizeof(*rep));
	struct fg_neigh_stats st = { 0 };
	char err[512] = "";
	int want, rc;

	h->synced = false;
	if (!rep) {
		fg_log(FG_LOG_ERROR, "neighbours: out of memory");
		return;
	}
	want = fg_neigh_plan(h->neigh, new_targets ? h->targets : NULL,
			     new_targets ? h->ntargets : 0, &st, err, sizeof(err));
	if (want < 0) {
		fg_log(FG_LOG_ERROR, "neighbours: %s (retried at the next "
		       "route change)", err);
		goto out;
	}
	rc = fg_sysctl_neigh_fit(&h->scfg, (size_t)want, rep, err, sizeof(err));
	fg_host_log_sysctls(rep);
	if (rc)
		/* Out of reach is no reason to stop: adds fail only past
		 * the kernel's own gc_thresh3. */
		fg_log(FG_LOG_WARN, "neighbour thresholds: %s", err);
	rc = fg_neigh_apply(h->neigh, &st, err, sizeof(err));
	if (st.added || st.removed || st.unrouted || st.foreign || rc)
		fg_log(rc ? FG_LOG_ERROR : FG_LOG_INFO, "neighbours: %u next "
		       "hops (%u added, %u kept, %u owned by others), %u removed; "
		       "%u backends without a route, %u routed out of other "
		       "interfaces%s%s", st.wanted, st.added, st.kept, st.foreign,
		       st.removed, st.unrouted, st.elsewhere, rc ? ": " : "",
		       rc ? err : "");
	h->synced = rc == 0;
out:
	free(rep);
}

static void fg_host_debounced(evutil_socket_t fd, short what, void *arg)
{
	fg_host_sync(arg, false);
}

static void fg_host_monitor(evutil_socket_t fd, short what, void *arg)
{
	struct fg_host *h = arg;
	struct timeval tv = { 0, FG_NEIGH_DEBOUNCE_MS * 1000 };
	int rc = fg_neigh_monitor_drain(h->neigh);

	if (rc < 0)
		fg_log(FG_LOG_WARN, "neighbours: route monitor: %s", strerror(-rc));
	if (rc != 0 && h->ntargets)
		evtimer_add(h->debounce, &tv);
}

struct fg_host *fg_host_start(struct event_base *base,
			      const struct fg_boot_config *cfg, char *err,
			      size_t errlen)
{
	const char *ifs[FG_BOOT_IFACES_MAX];
	struct fg_sysctl_report *rep;
	struct fg_host *h;
	unsigned int i;
	int rc, fd;

	h = calloc(1, sizeof(*h));
	rep = calloc(1, sizeof(*rep));
	if (!h || !rep) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	h->base = base;
	/* floodgate-dpdk owns its ports and resolves its own next hops
	 * (fg_dpdk_path.h): the kernel's sysctls and neighbour entries are
	 * not on its path, and a dpdk node names no interfaces. */
	if (cfg->dataplane.kind == FG_DATAPLANE_DPDK) {
		free(rep);
		return h;
	}
	if (fg_host_cfg(cfg, h->saved, sizeof(h->saved), &h->scfg, err, errlen))
		goto fail;
	for (i = 0; i < cfg->dataplane.ninterfaces; i++)
		ifs[i] = cfg->dataplane.interfaces[i];
	rc = fg_sysctl_prepare(&h->scfg, ifs, cfg->dataplane.ninterfaces, rep,
			       err, errlen);
	fg_host_log_sysctls(rep);
	if (rc)
		goto fail;
	h->neigh = fg_neigh_new(ifs, cfg->dataplane.ninterfaces, &rc, err, errlen);
	if (!h->neigh)
		goto fail;
	fd = fg_neigh_monitor_fd(h->neigh, err, errlen);
	if (fd < 0)
		goto fail;
	h->mon = event_new(base, fd, EV_READ | EV_PERSIST, fg_host_monitor, h);
	h->debounce = evtimer_new(base, fg_host_debounced, h);
	if (!h->mon || !h->debounce || event_add(h->mon, NULL)) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	free(rep);
	return h;
fail:
	free(rep);
	fg_host_free(h);
	return NULL;
}

void fg_host_follow(struct fg_host *h, const struct fg_ruleset *rs)
{
	struct fg_addr *t = NULL;
	size_t n = 0;

	if (!h || !h->neigh)
		return;
	if (fg_neigh_targets(rs, &t, &n)) {
		fg_log(FG_LOG_ERROR, "neighbours: out of memory");
		return;
	}
	/* Sorted and unique (fg_neigh_targets), so that the same backends
	 * in another order are no change: an unrelated rule change costs no
	 * netlink round trip. */
	if (h->synced && n == h->ntargets &&
	    (!n || !memcmp(t, h->targets, n * sizeof(*t)))) {
		free(t);
		return;
	}
	free(h->targets);
	h->targets = t;
	h->ntargets = n;
	fg_host_sync(h, true);
}

void fg_host_free(struct fg_host *h)
{
	if (!h)
		return;
	if (h->mon)
		event_free(h->mon);
	if (h->debounce)
		event_free(h->debounce);
	fg_neigh_free(h->neigh);
	free(h->targets);
	free(h);
}

int fg_host_undo(const struct fg_boot_config *cfg)
{
	struct fg_sysctl_report *rep = calloc(1, sizeof(*rep));
	struct fg_neigh_stats st = { 0 };
	struct fg_sysctl_cfg scfg;
	char saved[256], err[512] = "";
	struct fg_neigh *n;
	int rc, ret = 0;

	if (!rep)
		return -ENOMEM;
	if (cfg->dataplane.kind == FG_DATAPLANE_DPDK) {
		free(rep);
		return 0; /* fg_host_start prepared nothing */
	}
	rc = fg_host_cfg(cfg, saved, sizeof(saved), &scfg, err, sizeof(err));
	if (rc) {
		fg_log(FG_LOG_ERROR, "detach: %s", err);
		free(rep);
		return rc;
	}
	n = fg_neigh_new(NULL, 0, &rc, err, sizeof(err));
	if (!n || (rc = fg_neigh_remove_all(n, &st, err, sizeof(err)))) {
		fg_log(FG_LOG_ERROR, "detach: neighbours: %s", err);
		ret = rc ? rc : -ENOMEM;
	} else {
		fg_log(FG_LOG_INFO, "detach: %u managed neighbour entries removed",
		       st.removed);
	}
	fg_neigh_free(n);
	rc = fg_sysctl_restore(&scfg, rep, err, sizeof(err));
	fg_host_log_sysctls(rep);
	if (rc) {
		fg_log(FG_LOG_ERROR, "detach: sysctls: %s", err);
		if (!ret)
			ret = rc;
	}
	free(rep);
	return ret;
}
