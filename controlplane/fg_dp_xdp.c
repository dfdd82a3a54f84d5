// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * fg_dp_xdp.c - the XDP dataplane behind the daemon's driver interface
 * (fg_dataplane.h), on the loader library xdp/fg_xdp.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fg_boot.h"
#include "fg_dataplane.h"
#include "fg_dp_dpdk.h"
#include "fg_xdp.h"

static struct fg_xdp *fg_x(struct fg_dataplane *dp)
{
	return dp->priv;
}

static int fg_dp_xdp_check(struct fg_dataplane *dp, const struct fg_ruleset *rs,
			   char *err, size_t errlen)
{
	return fg_xdp_check(fg_x(dp), rs, err, errlen);
}

static int fg_dp_xdp_apply(struct fg_dataplane *dp, const struct fg_ruleset *rs,
			   uint64_t version, char *err, size_t errlen)
{
	return fg_xdp_apply(fg_x(dp), rs, version, err, errlen);
}

static uint64_t fg_dp_xdp_applied(struct fg_dataplane *dp)
{
	return fg_xdp_applied_version(fg_x(dp));
}

static int fg_dp_xdp_svc_stats(struct fg_dataplane *dp, const char *service,
			       struct fg_counter *out)
{
	int id = fg_xdp_service_id(fg_x(dp), service);

	if (id < 0)
		return id;
	return fg_xdp_stats_service(fg_x(dp), (uint32_t)id, out);
}

static int fg_dp_xdp_be_stats(struct fg_dataplane *dp, const char *service,
			      const struct fg_addr *addr, uint16_t port,
			      struct fg_counter *out)
{
	int id = fg_xdp_backend_id(fg_x(dp), service, addr, port);

	if (id < 0)
		return id;
	return fg_xdp_stats_backend(fg_x(dp), (uint32_t)id, out);
}

static int fg_dp_xdp_lim_stats(struct fg_dataplane *dp, const char *limit,
			       struct fg_limit_counter *out)
{
	int id = fg_xdp_limit_id(fg_x(dp), limit);

	if (id < 0)
		return id;
	return fg_xdp_stats_limit(fg_x(dp), (uint32_t)id, out);
}

static int fg_dp_xdp_drops(struct fg_dataplane *dp, uint64_t out[FG_DROP_REASON_MAX])
{
	return fg_xdp_stats_drops(fg_x(dp), out);
}

static int fg_dp_xdp_be_down(struct fg_dataplane *dp, const char *service,
			     const struct fg_addr *addr, uint16_t port,
			     bool *down)
{
	return fg_xdp_backend_down(fg_x(dp), service, addr, port, down);
}

static int fg_dp_xdp_origin(struct fg_dataplane *dp, struct fg_dp_origin *o)
{
	struct fg_xdp_origin xo;
	int rc = fg_xdp_origin(fg_x(dp), &xo);

	if (rc)
		return rc;
	o->cluster_id = xo.cluster_id;
	o->revision = xo.revision;
	return 0;
}

static int fg_dp_xdp_set_origin(struct fg_dataplane *dp,
				const struct fg_dp_origin *o)
{
	struct fg_xdp_origin xo = { o->cluster_id, o->revision };

	return fg_xdp_set_origin(fg_x(dp), &xo);
}

static void fg_dp_xdp_close(struct fg_dataplane *dp)
{
	if (!dp)
		return;
	fg_xdp_close(fg_x(dp));
	free(dp);
}

static int fg_dp_xdp_detach(struct fg_dataplane *dp)
{
	int rc = fg_xdp_unpin_all(fg_x(dp));

	fg_dp_xdp_close(dp);
	return rc;
}

static const struct fg_dp_ops fg_dp_xdp_ops = {
	.kind = "xdp",
	.check = fg_dp_xdp_check,
	.apply = fg_dp_xdp_apply,
	.applied_version = fg_dp_xdp_applied,
	.service_stats = fg_dp_xdp_svc_stats,
	.backend_stats = fg_dp_xdp_be_stats,
	.limit_stats = fg_dp_xdp_lim_stats,
	.drop_stats = fg_dp_xdp_drops,
	.backend_down = fg_dp_xdp_be_down,
	.origin = fg_dp_xdp_origin,
	.set_origin = fg_dp_xdp_set_origin,
	.close = fg_dp_xdp_close,
	.detach = fg_dp_xdp_detach,
};

/* Whether ifname is one of the boot file's interfaces. */
static bool fg_dp_xdp_configured(const struct fg_boot_config *cfg,
				 const char *ifname)
{
	unsigned int i;

	for (i = 0; i < cfg->dataplane.ninterfaces; i++)
		if (!strcmp(cfg->dataplane.interfaces[i], ifname))
			return true;
	return false;
}

struct fg_dataplane *fg_dp_xdp_open(const struct fg_boot_config *cfg,
				    unsigned int flags, char *err, size_t errlen)
{
	char links[FG_XDP_LINKS_MAX][IF_NAMESIZE];
	unsigned int nlinks;
	size_t off;
	const __typeof__(cfg->dataplane) *c = &cfg->dataplane;
	struct fg_xdp_opts o = { 0 };
	struct fg_dataplane *dp;
	struct fg_xdp *x;
	unsigned int i;
	int rc = 0;

	o.node = cfg->node.name;
	o.addr_ifname = c->ninterfaces ? c->interfaces[0] : NULL;
	if (c->tunnel_source.has4)
		o.tunnel_src4 = c->tunnel_source.a4;
	if (c->tunnel_source.has6)
		o.tunnel_src6 = c->tunnel_source.a6;
	if (c->snat.has4)
		o.snat4 = c->snat.a4;
	if (c->snat.has6)
		o.snat6 = c->snat.a6;
	o.ct_timeout_tcp_ns = (uint64_t)c->tcp_timeout_s * 1000000000ULL;
	o.ct_timeout_udp_ns = (uint64_t)c->udp_timeout_s * 1000000000ULL;
	o.gue_port = c->gue_port;
	o.ring_slots = c->ring_slots;
	o.ct_max = c->ct_established;
	o.ct_syn_max = c->ct_syn;
	o.nat_max = c->ct_nat;
	o.buckets_max = c->limit_buckets;
	/* The boot file rules an adopted dataplane too: new addresses and
	 * timeouts apply at restart, new table sizes only on request. */
	o.adopt_settings = !(flags & FG_DP_OPEN_DETACH);
	o.replace = flags & FG_DP_OPEN_REPLACE;

	dp = calloc(1, sizeof(*dp));
	if (!dp) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	x = fg_xdp_open(&o, &rc, err, errlen);
	if (!x) {
		free(dp);
		return NULL;
	}
	for (i = 0; !(flags & FG_DP_OPEN_DETACH) && i < c->ninterfaces; i++) {
		rc = fg_xdp_attach(x, c->interfaces[i],
				   c->mode == FG_BOOT_XDP_GENERIC ?
				   FG_XDP_MODE_GENERIC : FG_XDP_MODE_NATIVE,
				   err, errlen);
		if (rc) {
			fg_xdp_close(x);
			free(dp);
			return NULL;
		}
	}
	/* Interfaces the boot file no longer names stop forwarding. */
	nlinks = fg_xdp_link_names(x, links, FG_XDP_LINKS_MAX);
	for (i = 0; i < nlinks; i++)
		if (!(flags & FG_DP_OPEN_DETACH) &&
		    !fg_dp_xdp_configured(cfg, links[i]) &&
		    !fg_xdp_detach(x, links[i])) {
			off = strlen(dp->setup);
			snprintf(dp->setup + off, sizeof(dp->setup) - off,
				 "%sdetached from %s (not in dataplane.interfaces)",
				 off ? "; " : "", links[i]);
		}
	if (fg_xdp_settings_changed(x)) {
		off = strlen(dp->setup);
		snprintf(dp->setup + off, sizeof(dp->setup) - off,
			 "%sthe running dataplane took the boot file's addresses, "
			 "GUE port and timeouts", off ? "; " : "");
	}
	if (fg_xdp_replaced(x)) {
		off = strlen(dp->setup);
		snprintf(dp->setup + off, sizeof(dp->setup) - off,
			 "%s--replace-dataplane: loaded anew, every tracked "
			 "connection was dropped (%s)", off ? "; " : "",
			 fg_xdp_replaced(x));
	}
	dp->ops = &fg_dp_xdp_ops;
	dp->adopted = fg_xdp_adopted(x);
	if (fg_xdp_mounted_bpffs(x)) {
		off = strlen(dp->setup);
		snprintf(dp->setup + off, sizeof(dp->setup) - off, "%sno bpf "
			 "filesystem was mounted on %s: mounted one (mode 0700) "
			 "for the pins", off ? "; " : "", FG_XDP_BPFFS);
	}
	dp->priv = x;
	return dp;
}

int fg_dp_kind_check(const struct fg_boot_config *cfg, char *err, size_t errlen)
{
	/* The dpdk driver only talks to floodgate-dpdk over its socket:
	 * every build of floodgated has it. */
	if (cfg->dataplane.kind == FG_DATAPLANE_XDP ||
	    cfg->dataplane.kind == FG_DATAPLANE_DPDK)
		return 0;
	snprintf(err, errlen, "dataplane.kind %d: not a kind this build has",
		 (int)cfg->dataplane.kind);
	return -EOPNOTSUPP;
}

struct fg_dataplane *fg_dp_open(const struct fg_boot_config *cfg,
				unsigned int flags, char *err, size_t errlen)
{
	if (fg_dp_kind_check(cfg, err, errlen))
		return NULL;
	if (cfg->dataplane.kind == FG_DATAPLANE_DPDK)
		return fg_dp_dpdk_open(cfg, flags, err, errlen);
	return fg_dp_xdp_open(cfg, flags, err, errlen);
}
