/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * fg_reconcile.h - keeping the dataplane on the stored rule version: the
 * store hands every new version to fg_daemon_rules_changed(), health
 * changes call fg_daemon_apply(), and this module decides whether and
 * when the dataplane takes them (fg_daemon.h declares both).
 *
 * What it guards against:
 *   - rolling the running dataplane back: at start, a store that is
 *     behind what the adopted dataplane runs (an empty store after the
 *     data directory was lost, one restored from an older backup) is not
 *     applied; the node keeps forwarding, reports the conflict, and waits
 *     for the operator's choice (--adopt-dataplane or --force);
 *   - an apply that failed once and was never tried again: it is retried
 *     with backoff until applied_version catches up;
 *   - a restart reviving dead backends: health starts from the down flags
 *     of the adopted dataplane.
 */
#ifndef FG_RECONCILE_H
#define FG_RECONCILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "fg_dataplane.h"
#include "fg_rules.h"
#include "fg_rules_json.h"
#include "fg_store.h"

struct fg_daemon;

/* The run directory: lives exactly as long as the pins (both go at
 * reboot), holds the copy of the running rule set per node. */
#define FG_RUN_DIR "/run/floodgate"

/* What the operator chose at start for a store behind the dataplane. */
enum fg_start_choice {
	FG_START_NORMAL = 0, /* refuse to roll back; report the conflict */
	FG_START_FORCE,      /* --force: apply the store's rules anyway */
	FG_START_ADOPT,      /* --adopt-dataplane: write the running rules
			      * back to the store */
};

/* Apply retries: the first after this long, doubling up to the cap. */
#define FG_APPLY_RETRY_FIRST_MS 500U
#define FG_APPLY_RETRY_MAX_MS 30000U

/*
 * fg_origin_conflict - would applying the store's rule set roll the
 * running dataplane back? dp_version is what the dataplane runs (0:
 * nothing), dpo the store it came from (NULL: not recorded, as with a
 * dataplane pinned by an older build), store_version and store_cluster
 * what the store holds now. Returns false when it may be applied, true
 * with a sentence in why when it would roll back: the store is another
 * one (its cluster id differs, e.g. a new embedded member after the data
 * directory was lost), or the same one behind the running version (a
 * restored backup). Pure; any context.
 */
static inline bool fg_origin_conflict(uint64_t dp_version,
				      const struct fg_dp_origin *dpo,
				      uint64_t store_version,
				      uint64_t store_cluster, char *why,
				      size_t len)
{
	if (!dp_version)
		return false;
	if (dpo && dpo->cluster_id && dpo->cluster_id != store_cluster) {
		snprintf(why, len, "the dataplane runs version %llu from store "
			 "cluster %016llx, but the store is cluster %016llx at "
			 "version %llu (a new or different store)",
			 (unsigned long long)dp_version,
			 (unsigned long long)dpo->cluster_id,
			 (unsigned long long)store_cluster,
			 (unsigned long long)store_version);
		return true;
	}
	if (store_version < dp_version) {
		snprintf(why, len, "the dataplane runs version %llu, but the "
			 "store holds only version %llu (restored from an older "
			 "backup, or emptied)", (unsigned long long)dp_version,
			 (unsigned long long)store_version);
		return true;
	}
	return false;
}

/*
 * fg_daemon_rules_changed - the store holds version `version`, changed
 * from the last one delivered as ch says. Parses the changed shards (each
 * object once), merges them into a view of the current rule set, checks
 * the whole, keeps it as the current rule set when it is newer than what
 * the daemon has, and applies it to the dataplane with the health
 * checker's view of the backends. Returns 0, or -errno when the stored
 * rules do not parse or check (logged; the old rules stay live).
 */
struct fg_daemon;

int fg_daemon_rules_changed(struct fg_daemon *d,
			    const struct fg_store_change *ch, uint64_t version);

/*
 * fg_daemon_rules_set - make rs, checked already, the rule set of
 * `version` and apply it: rs is a view of d->rules (fg_ruleset_view_*) or
 * a rule set of its own, taken with fg_ruleset_take; texts[i] for each
 * shard i in the mask `shards` is that shard's new text (NULL: empty),
 * taken too (the entries are cleared). Returns 0, or -ESTALE when the
 * daemon has version `version` or a later one already: then nothing is
 * taken and nothing changes.
 */
int fg_daemon_rules_set(struct fg_daemon *d, struct fg_ruleset *rs,
			uint64_t shards, char *texts[FG_RULES_SHARDS],
			uint64_t version);

/*
 * fg_daemon_apply - compile the current rule set with the current health
 * states and switch the dataplane to it. Returns 0 or -errno (logged, and
 * kept in apply_error for /v1/status).
 */
int fg_daemon_apply(struct fg_daemon *d);

/* fg_daemon_health_changed - the health checker's callback (fg_health_cb):
 * a backend went up or down; re-applies. */
void fg_daemon_health_changed(void *arg, const char *service,
			      const struct fg_addr *addr, uint16_t port,
			      bool up);

/* fg_reconcile_free - the reconciler's timer and pending state. */
void fg_reconcile_free(struct fg_daemon *d);

/* fg_daemon_backend_up - the health checker's view of backend b of
 * service s: true unless probes mark it down (true without health
 * checks). */
bool fg_daemon_backend_up(struct fg_daemon *d, const struct fg_rule_service *s,
			  const struct fg_rule_backend *b);

/* fg_reconcile_forget - for --detach: remove node's copy of the running
 * rules (and its run directory when nothing else is left in it). */
void fg_reconcile_forget(const char *node);

#endif /* FG_RECONCILE_H */
