// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * fg_dp_dpdk.c - the DPDK dataplane behind the daemon's driver interface
 * (fg_dataplane.h): floodgate-dpdk, driven over its control socket.
 *
 * The driver owns the rule compiler (ids stable across versions, as with
 * XDP) and a mirror of the set the process holds. On connect it pushes
 * the mirror whole (FULL: the process may have restarted with other
 * tables), or, when it has none yet, adopts the process's set: its ids
 * go into the compiler, so a restarted floodgated keeps every id and the
 * flows that name them. An apply compiles (or takes the compile its
 * check made), pushes the entries that changed since the mirror (DELTA),
 * and commits once the process answers that every worker runs the new
 * set. A push that fails on the channel leaves the outcome unknown: the
 * connection is dropped, and the next call pushes the mirror whole, so
 * the previous set is what runs, as the driver interface promises.
 *
 * Counters come from one STATS answer, reused for FG_DP_DPDK_STATS_MS:
 * /v1/stats and /metrics read every service, backend and limit in one
 * walk, and that walk costs one round trip.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fg_boot.h"
#include "fg_compile.h"
#include "fg_dataplane.h"
#include "fg_dp_dpdk.h"
#include "fg_dpdk_ctl.h"
#include "fg_err.h"

#define FG_DP_DPDK_STATS_MS 200

struct fg_dp_dpdk {
	char path[FG_BOOT_SUN_PATH_MAX];
	char who[FG_NAME_MAX + 16];
	int timeout_ms;
	struct fg_compiler *comp;
	bool may_adopt;                  /* no set of ours yet, not replace */
	struct fg_dpdk_ctl_client *cl;   /* NULL: not connected */
	struct fg_dpdk_ctl_hello hello;
	struct fg_dpdk_ctl_set *mirror;  /* what the process holds */
	bool synced;                     /* ... on this connection */
	struct fg_compiled *checked;
	uint64_t checked_tag;
	struct fg_svc_slot *svc_img;     /* probe check of the services */
	struct fg_dpdk_ctl_counters *ctr;
	double ctr_at;
	bool ctr_ok;
	double ctr_fail_at;              /* the last STATS that failed */
	int ctr_fail_rc;
	struct fg_dp_dpdk_info info;
};

static struct fg_dp_dpdk *fg_d(struct fg_dataplane *dp)
{
	return dp->priv;
}

static double fg_dd_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Forget the connection (the next call connects again). */
static void fg_dd_drop(struct fg_dp_dpdk *d)
{
	fg_dpdk_ctl_client_close(d->cl);
	d->cl = NULL;
	d->synced = false;
	d->ctr_ok = false;
}

/* Whether rc says the channel itself failed (not a refusal). */
static bool fg_dd_channel_error(int rc)
{
	return rc == -ETIMEDOUT || rc == -EPIPE || rc == -ECONNRESET ||
	       rc == -EPROTO || rc == -ENOTCONN || rc == -EBADMSG ||
	       rc == -EPROTONOSUPPORT || rc == -ECONNREFUSED || rc == -ENOENT;
}

/*
 * Push set s (whole, or as the change from the mirror when the process
 * holds it) and wait for the ACK of its version. 0 or -errno with a
 * message; a channel failure drops the connection.
 */
static int fg_dd_push(struct fg_dp_dpdk *d, const struct fg_dpdk_ctl_set *s,
		      char *err, size_t errlen)
{
	struct fg_dpdk_ctl_buf b = { 0 };
	bool delta = d->synced && d->mirror;
	uint64_t sent0, applied = 0;
	double t0 = fg_dd_ms(), t1;
	int rc;

again:
	b.len = 0;
	rc = delta ? fg_dpdk_ctl_encode_delta(d->mirror, s, &b) :
		     fg_dpdk_ctl_encode_full(s, &b);
	t1 = fg_dd_ms();
	if (rc) {
		fg_dpdk_ctl_buf_free(&b);
		return fg_fail(err, errlen, rc, "out of memory encoding the tables");
	}
	sent0 = fg_dpdk_ctl_client_sent(d->cl);
	rc = fg_dpdk_ctl_client_push(d->cl, delta ? FG_DPDK_CTL_DELTA :
				     FG_DPDK_CTL_FULL, &b, &applied, err, errlen);
	if (rc == -ESTALE && delta) {
		/* The process holds another version than we think: whole. */
		delta = false;
		goto again;
	}
	if (!rc && applied != s->version)
		rc = fg_fail(err, errlen, -EPROTO,
			     "floodgate-dpdk acknowledged version %llu, not %llu",
			     (unsigned long long)applied,
			     (unsigned long long)s->version);
	if (!rc) {
		d->info.last_type = delta ? FG_DPDK_CTL_DELTA : FG_DPDK_CTL_FULL;
		d->info.last_body = b.len;
		d->info.last_bytes = fg_dpdk_ctl_client_sent(d->cl) - sent0;
		d->info.last_encode_ms = t1 - t0;
		d->info.last_ms = fg_dd_ms() - t0;
		d->info.process_version = applied;
		delta ? d->info.deltas++ : d->info.fulls++;
		d->hello.version = applied;
		/* The process reports an origin only with the version it
		 * was recorded for: a new version has none until told. */
		d->hello.has_origin = false;
		d->ctr_ok = false;
	} else if (fg_dd_channel_error(rc)) {
		fg_dd_drop(d);
	}
	fg_dpdk_ctl_buf_free(&b);
	return rc;
}

/*
 * fg_dd_wire_rings - the offsets of s's rings as the process is told
 * them: none. The process lays its rings out itself (fg_dp_tables_new
 * puts them one after the other) and only reads a ring's slots; the
 * compiler's offsets are its own (XDP's one ring array, written beside
 * the live generation). An adopted compiler does not know what the
 * rings it adopted were built from, so its first compile builds every
 * one again in new places: with the offsets on the wire, that DELTA
 * would rewrite every service's entry though no ring changed.
 */
static void fg_dd_wire_rings(struct fg_dpdk_ctl_set *s)
{
	uint32_t i;

	for (i = 0; i < s->nsvcs; i++)
		s->svcs[i].val.ring_off = 0;
}

/* The compiler's adoption of set s (the process's). 0 or -errno. */
static int fg_dd_adopt(struct fg_dp_dpdk *d, const struct fg_dpdk_ctl_set *s,
		       char *err, size_t errlen)
{
	struct fg_adopt_svc *sv = calloc(s->nsvcs + 1, sizeof(*sv));
	struct fg_adopt_backend *be = calloc(s->nbackends + 1, sizeof(*be));
	struct fg_adopt_limit *li = calloc(s->nlimits + 1, sizeof(*li));
	struct fg_adopt a = { .gen = s->gen, .version = s->version,
			      .nsvcs = s->nsvcs, .svcs = sv,
			      .nbackends = s->nbackends, .backends = be,
			      .nlimits = s->nlimits, .limits = li };
	uint32_t i, off = 0;
	int rc;

	if (!sv || !be || !li) {
		rc = fg_fail(err, errlen, -ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < s->nsvcs; i++) {
		sv[i].name = s->svcs[i].name;
		sv[i].key = s->svcs[i].key;
		sv[i].val = s->svcs[i].val;
		/* The wire's offsets mean nothing (fg_dd_wire_rings): the
		 * compiler gets the rings one after the other, as the
		 * process lays them out. */
		sv[i].val.ring_off = off;
		off += sv[i].val.ring_size;
	}
	for (i = 0; i < s->nbackends; i++) {
		be[i].id = s->backends[i].id;
		be[i].val = s->backends[i].val;
	}
	for (i = 0; i < s->nlimits; i++) {
		li[i].name = s->limits[i].name;
		li[i].id = s->limits[i].val.id;
	}
	rc = fg_compiler_adopt(d->comp, &a, err, errlen);
out:
	free(sv);
	free(be);
	free(li);
	return rc;
}

/*
 * Be connected, and in step: the first connection of a driver with no
 * set of its own adopts the process's; any other pushes the mirror
 * whole. *what (may be NULL) receives what happened, for open's setup.
 * 0 or -errno with a message.
 */
static int fg_dd_connect(struct fg_dp_dpdk *d, char *what, size_t wlen,
			 char *err, size_t errlen)
{
	struct fg_dpdk_ctl_set *s = NULL;
	int rc = 0;

	if (what && wlen)
		what[0] = '\0';
	if (d->cl && !fg_dpdk_ctl_client_alive(d->cl))
		fg_dd_drop(d); /* the process went away since */
	if (d->cl)
		return 0;
	d->cl = fg_dpdk_ctl_client_connect(d->path, d->who, d->timeout_ms,
					   &d->hello, &rc, err, errlen);
	if (!d->cl)
		return rc;
	d->info.connects++;
	d->info.process_version = d->hello.version;
	if (d->may_adopt && !d->mirror) {
		d->may_adopt = false;
		if (!d->hello.version)
			return 0; /* nothing runs: the first apply pushes */
		rc = fg_dpdk_ctl_client_state(d->cl, &s, err, errlen);
		if (!rc)
			rc = fg_dd_adopt(d, s, err, errlen);
		if (rc) {
			if (fg_dd_channel_error(rc))
				fg_dd_drop(d);
			fg_dpdk_ctl_set_free(s);
			if (what && wlen)
				snprintf(what, wlen, "could not adopt version %llu "
					 "(%s): the first apply pushes a set of its own",
					 (unsigned long long)d->hello.version, err);
			return d->cl ? 0 : rc;
		}
		d->mirror = s;
		d->synced = true;
		if (what && wlen)
			snprintf(what, wlen, "adopted version %llu (%u services, "
				 "%u backends, %u limits)",
				 (unsigned long long)s->version, s->nsvcs,
				 s->nbackends, s->nlimits);
		return 0;
	}
	if (!d->mirror)
		return 0;
	rc = fg_dd_push(d, d->mirror, err, errlen);
	if (!rc) {
		d->synced = true;
		if (what && wlen)
			snprintf(what, wlen, "pushed version %llu whole",
				 (unsigned long long)d->mirror->version);
	}
	return rc;
}

/* The services of cp must fit the process's service table's probe runs
 * (FG_SVC_PROBES slots from each key's first): tried on a scratch copy,
 * as the process will place them. 0 or -EINVAL. */
static int fg_dd_svc_fit(struct fg_dp_dpdk *d, const struct fg_compiled *cp,
			 char *err, size_t errlen)
{
	uint32_t i;

	memset(d->svc_img, 0, FG_SVC_SLOTS * sizeof(*d->svc_img));
	for (i = 0; i < cp->nsvcs; i++)
		if (fg_svc_table_put(d->svc_img, &cp->svcs[i].key,
				     &cp->svcs[i].val))
			return fg_fail(err, errlen, -EINVAL,
				       "services.%s: no free slot among the %u the "
				       "service table probes for its address",
				       cp->svcs[i].name, FG_SVC_PROBES);
	return 0;
}

/* ---------------------------------------------------------------- ops */

static int fg_dd_check(struct fg_dataplane *dp, const struct fg_ruleset *rs,
		       char *err, size_t errlen)
{
	struct fg_dp_dpdk *d = fg_d(dp);
	struct fg_compiled *cp = NULL;
	int rc;

	if (!rs)
		return fg_fail(err, errlen, -EINVAL, "no rules");
	fg_compiled_free(d->checked);
	d->checked = NULL;
	d->checked_tag = 0;
	rc = fg_compile(d->comp, rs, fg_compiler_version(d->comp) + 1, &cp, err,
			errlen);
	if (!rc)
		rc = fg_dd_svc_fit(d, cp, err, errlen);
	/* Parse once, compile once: a tagged rule set that passes is
	 * applied from this very compile. */
	if (!rc && rs->tag) {
		d->checked = cp;
		d->checked_tag = rs->tag;
		return 0;
	}
	fg_compiled_free(cp);
	return rc;
}

static int fg_dd_apply(struct fg_dataplane *dp, const struct fg_ruleset *rs,
		       uint64_t version, char *err, size_t errlen)
{
	struct fg_dp_dpdk *d = fg_d(dp);
	struct fg_dpdk_ctl_set *next = NULL;
	struct fg_compiled *cp = NULL;
	char why[512];
	int rc, e = 0;

	if (!rs)
		return fg_fail(err, errlen, -EINVAL, "no rules");
	rc = fg_dd_connect(d, NULL, 0, why, sizeof(why));
	if (rc) {
		fg_compiled_free(d->checked);
		d->checked = NULL;
		d->checked_tag = 0;
		return fg_fail(err, errlen, rc, "%s (version %llu not applied)",
			       why, (unsigned long long)version);
	}
	/* Whatever adoption found, no set is adopted after this. */
	d->may_adopt = false;
	if (rs->tag && rs->tag == d->checked_tag &&
	    fg_compiled_current(d->comp, d->checked)) {
		cp = d->checked;
		fg_compiled_set_version(cp, version);
	} else {
		fg_compiled_free(d->checked);
		rc = fg_compile(d->comp, rs, version, &cp, err, errlen);
		if (!rc)
			rc = fg_dd_svc_fit(d, cp, err, errlen);
	}
	d->checked = NULL;
	d->checked_tag = 0;
	if (!rc) {
		next = fg_dpdk_ctl_set_from_compiled(cp, d->mirror, &e, err, errlen);
		rc = next ? 0 : e;
		if (next)
			fg_dd_wire_rings(next);
	}
	if (!rc) {
		rc = fg_dd_push(d, next, why, sizeof(why));
		if (rc)
			fg_fail(err, errlen, rc, "%s (version %llu not applied)",
				why, (unsigned long long)version);
	}
	if (rc) {
		fg_dpdk_ctl_set_free(next);
		fg_compiled_free(cp);
		return rc;
	}
	/* Cannot fail: cp was compiled on the current state just now. */
	fg_compiler_commit(d->comp, cp);
	fg_compiled_free(cp);
	fg_dpdk_ctl_set_free(d->mirror);
	d->mirror = next;
	d->synced = true;
	return 0;
}

static uint64_t fg_dd_applied(struct fg_dataplane *dp)
{
	return fg_compiler_version(fg_d(dp)->comp);
}

/* A STATS answer at most FG_DP_DPDK_STATS_MS old. 0 or -errno. */
static int fg_dd_stats(struct fg_dp_dpdk *d)
{
	char err[256];
	int rc;

	if (d->ctr_ok && fg_dd_ms() - d->ctr_at < FG_DP_DPDK_STATS_MS)
		return 0;
	/* A walk over every name asks once: while the process is away, the
	 * failure stands for the same while (no connect per name). */
	if (d->ctr_fail_rc && fg_dd_ms() - d->ctr_fail_at < FG_DP_DPDK_STATS_MS)
		return d->ctr_fail_rc;
	d->ctr_fail_rc = 0;
	rc = fg_dd_connect(d, NULL, 0, err, sizeof(err));
	if (!rc)
		rc = fg_dpdk_ctl_client_stats(d->cl, d->ctr, err, sizeof(err));
	if (rc) {
		if (fg_dd_channel_error(rc))
			fg_dd_drop(d);
		d->ctr_ok = false;
		d->ctr_fail_rc = rc;
		d->ctr_fail_at = fg_dd_ms();
		return rc;
	}
	d->ctr_ok = true;
	d->ctr_at = fg_dd_ms();
	return 0;
}

static int fg_dd_svc_stats(struct fg_dataplane *dp, const char *service,
			   struct fg_counter *out)
{
	struct fg_dp_dpdk *d = fg_d(dp);
	int id = fg_compiler_service_id(d->comp, service), rc;

	if (id < 0)
		return id;
	rc = fg_dd_stats(d);
	if (rc)
		return rc;
	*out = d->ctr->svc[id];
	return 0;
}

static int fg_dd_be_stats(struct fg_dataplane *dp, const char *service,
			  const struct fg_addr *addr, uint16_t port,
			  struct fg_counter *out)
{
	struct fg_dp_dpdk *d = fg_d(dp);
	int id = fg_compiler_backend_id(d->comp, service, addr, port), rc;

	if (id < 0)
		return id;
	rc = fg_dd_stats(d);
	if (rc)
		return rc;
	*out = d->ctr->be[id];
	return 0;
}

static int fg_dd_lim_stats(struct fg_dataplane *dp, const char *limit,
			   struct fg_limit_counter *out)
{
	struct fg_dp_dpdk *d = fg_d(dp);
	int id = fg_compiler_limit_id(d->comp, limit), rc;

	if (id < 0)
		return id;
	rc = fg_dd_stats(d);
	if (rc)
		return rc;
	*out = d->ctr->limit[id];
	return 0;
}

static int fg_dd_drops(struct fg_dataplane *dp, uint64_t out[FG_DROP_REASON_MAX])
{
	struct fg_dp_dpdk *d = fg_d(dp);
	int rc = fg_dd_stats(d);

	if (rc)
		return rc;
	memcpy(out, d->ctr->drops, sizeof(d->ctr->drops));
	return 0;
}

/* From the mirror: no round trip. */
static int fg_dd_be_down(struct fg_dataplane *dp, const char *service,
			 const struct fg_addr *addr, uint16_t port, bool *down)
{
	struct fg_dp_dpdk *d = fg_d(dp);
	int id = fg_compiler_backend_id(d->comp, service, addr, port);
	const struct fg_backend *b;

	if (id < 0)
		return id;
	b = fg_dpdk_ctl_set_backend(d->mirror, (uint32_t)id);
	if (!b)
		return -ENOENT;
	*down = b->flags & FG_BE_F_DOWN;
	return 0;
}

static int fg_dd_origin(struct fg_dataplane *dp, struct fg_dp_origin *o)
{
	struct fg_dp_dpdk *d = fg_d(dp);
	char err[256];
	int rc = fg_dd_connect(d, NULL, 0, err, sizeof(err));

	if (rc)
		return rc;
	/* The process records it with the version it ran then, and
	 * reports it only while it runs that version. */
	if (!d->hello.has_origin || d->hello.version != fg_compiler_version(d->comp))
		return -ENOENT;
	o->cluster_id = d->hello.cluster_id;
	o->revision = d->hello.revision;
	return 0;
}

static int fg_dd_set_origin(struct fg_dataplane *dp, const struct fg_dp_origin *o)
{
	struct fg_dp_dpdk *d = fg_d(dp);
	char err[256];
	int rc = fg_dd_connect(d, NULL, 0, err, sizeof(err));

	if (!rc)
		rc = fg_dpdk_ctl_client_origin(d->cl, o->cluster_id, o->revision,
					       err, sizeof(err));
	if (rc) {
		if (fg_dd_channel_error(rc))
			fg_dd_drop(d);
		return rc;
	}
	d->hello.has_origin = o->cluster_id || o->revision;
	d->hello.cluster_id = o->cluster_id;
	d->hello.revision = o->revision;
	return 0;
}

static void fg_dd_close(struct fg_dataplane *dp)
{
	struct fg_dp_dpdk *d;

	if (!dp)
		return;
	d = fg_d(dp);
	fg_dpdk_ctl_client_close(d->cl);
	fg_dpdk_ctl_set_free(d->mirror);
	fg_compiled_free(d->checked);
	fg_compiler_free(d->comp);
	free(d->svc_img);
	free(d->ctr);
	free(d);
	free(dp);
}

/* Stop forwarding: the process keeps running (floodgated does not own
 * it) with the empty set, and forgets the origin. */
static int fg_dd_detach(struct fg_dataplane *dp)
{
	struct fg_dp_dpdk *d = fg_d(dp);
	struct fg_dpdk_ctl_set *e = fg_dpdk_ctl_set_empty();
	char err[256];
	int rc;

	rc = e ? fg_dd_connect(d, NULL, 0, err, sizeof(err)) : -ENOMEM;
	if (!rc) {
		d->synced = false; /* whole: the empty set */
		rc = fg_dd_push(d, e, err, sizeof(err));
	}
	if (!rc)
		rc = fg_dpdk_ctl_client_origin(d->cl, 0, 0, err, sizeof(err));
	fg_dpdk_ctl_set_free(e);
	fg_dd_close(dp);
	return rc;
}

static const struct fg_dp_ops fg_dp_dpdk_ops = {
	.kind = "dpdk",
	.check = fg_dd_check,
	.apply = fg_dd_apply,
	.applied_version = fg_dd_applied,
	.service_stats = fg_dd_svc_stats,
	.backend_stats = fg_dd_be_stats,
	.limit_stats = fg_dd_lim_stats,
	.drop_stats = fg_dd_drops,
	.backend_down = fg_dd_be_down,
	.origin = fg_dd_origin,
	.set_origin = fg_dd_set_origin,
	.close = fg_dd_close,
	.detach = fg_dd_detach,
};

int fg_dp_dpdk_info(struct fg_dataplane *dp, struct fg_dp_dpdk_info *out)
{
	if (!dp || dp->ops != &fg_dp_dpdk_ops || !out)
		return -EINVAL;
	*out = fg_d(dp)->info;
	return 0;
}

struct fg_dataplane *fg_dp_dpdk_open(const struct fg_boot_config *cfg,
				     unsigned int flags, char *err,
				     size_t errlen)
{
	struct fg_dataplane *dp = calloc(1, sizeof(*dp));
	struct fg_dp_dpdk *d = calloc(1, sizeof(*d));
	/* gue_port 0: the process's own (its --gue-port), as the XDP
	 * program's load-time default would be. */
	struct fg_compile_opts co = { .ring_slots = 0 };
	char what[384], why[384];
	int rc;

	if (!dp || !d)
		goto nomem;
	dp->priv = d;
	dp->ops = &fg_dp_dpdk_ops;
	snprintf(d->path, sizeof(d->path), "%s", cfg->dataplane.control_socket);
	snprintf(d->who, sizeof(d->who), "floodgated/%s", cfg->node.name);
	d->timeout_ms = cfg->dataplane.control_timeout_ms ?
			(int)cfg->dataplane.control_timeout_ms : 5000;
	d->comp = fg_compiler_new(&co);
	d->svc_img = calloc(FG_SVC_SLOTS, sizeof(*d->svc_img));
	d->ctr = calloc(1, sizeof(*d->ctr));
	if (!d->comp || !d->svc_img || !d->ctr)
		goto nomem;
	d->may_adopt = !(flags & FG_DP_OPEN_REPLACE);
	rc = fg_dd_connect(d, what, sizeof(what), why, sizeof(why));
	if (rc) {
		snprintf(dp->setup, sizeof(dp->setup),
			 "floodgate-dpdk does not answer yet (%s): its tables "
			 "are pushed when it does", why);
		return dp;
	}
	dp->adopted = d->mirror != NULL;
	snprintf(dp->setup, sizeof(dp->setup),
		 "floodgate-dpdk at %s (pid %u, %u workers, %u ports) runs "
		 "version %llu%s%s%s", d->path, d->hello.pid, d->hello.nworkers,
		 d->hello.nports, (unsigned long long)d->hello.version,
		 what[0] ? ": " : "", what,
		 flags & FG_DP_OPEN_REPLACE ?
		 "; --replace-dataplane: the first apply pushes new ids" : "");
	return dp;
nomem:
	if (d) {
		fg_compiler_free(d->comp);
		free(d->svc_img);
		free(d->ctr);
	}
	free(d);
	free(dp);
	snprintf(err, errlen, "out of memory");
	return NULL;
}
