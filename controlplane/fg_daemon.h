/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * fg_daemon.h - floodgated's state, read by the modules above the store:
 * the API (fg_api.h), counters (fg_stats.h) and the reconciler
 * (fg_reconcile.h); main (floodgated.c) wires them. Each module's
 * functions are in its own header. One event loop, one thread: nothing
 * here locks.
 *
 * Rules flow one way (DESIGN.md): API -> validate -> store (one etcd
 * write; the version is the etcd revision) -> the store reports through
 * its callback (or the write's own answer comes first) -> the reconciler
 * compiles and switches the dataplane -> applied_version. The store, the
 * health checker and the host preparation never call up: they report
 * through callbacks.
 */
#ifndef FG_DAEMON_H
#define FG_DAEMON_H

#include <stdbool.h>
#include <stdint.h>

#include <event2/event.h>
#include <event2/http.h>
#include <jansson.h>

#include "fg_boot.h"
#include "fg_dataplane.h"
#include "fg_rules.h"
#include "fg_rules_json.h"
#include "fg_version.h"


struct fg_store;
struct fg_health;
struct fg_host;
struct fg_stock_link;
struct fg_adopting;

struct fg_daemon {
	struct event_base *base;
	struct fg_boot_config cfg;
	const char *config_path;
	const char *run_dir;     /* NULL: FG_RUN_DIR (fg_reconcile.h) */

	struct fg_dataplane *dp;
	struct fg_store *store;
	struct fg_health *health;
	bool health_unsynced;  /* a service's probes failed to start: the
				* next rule set syncs every service again */
	struct fg_host *host;    /* sysctls, neighbours (fg_host.h) */
	struct fg_stock_link *stock; /* floodgate-dpdk's stock claimers
				      * (fg_stock_link.h); NULL: xdp */
	struct evhttp *http;
	struct evhttp_bound_socket *http_sock;

	/* The stored rule set as last seen (own write or watch), parsed
	 * once; GETs print it from here. */
	struct fg_ruleset rules;
	uint64_t rules_version;  /* 0: store not read yet */
	/* Its shards' canonical texts (NULL: empty shard), as the store
	 * holds them: the next write sends the unchanged ones to a store of
	 * the earlier layout, and the copy of the running rules
	 * (applied.json) is their concatenation. */
	char *shard_text[FG_RULES_SHARDS];
	uint64_t tag_seq;        /* the last fg_ruleset.tag handed out */

	/* What the dataplane runs. */
	uint64_t applied_version;
	char apply_error[256];   /* last apply failure, "" when none */
	struct event *apply_retry;     /* a failed apply's next try */
	struct event *save_ev;   /* the copy of the running rules, due */
	uint64_t save_first_ms;  /* the first apply it does not hold yet */
	unsigned int apply_backoff_ms; /* its delay; 0: not failing */

	/* The store against the dataplane (fg_reconcile.c). */
	int start_choice;        /* enum fg_start_choice: --force, --adopt */
	bool first_rules_seen;   /* the first rule set was checked */
	uint64_t store_cluster_id;
	char origin_cluster_hex[17];
	char conflict[768];      /* why the store is not applied, "" if it is */
	struct fg_adopting *adopting; /* --adopt-dataplane's write under way */

	struct event *sig_term, *sig_int, *sig_hup, *tick;
	bool stopping;
};

#endif /* FG_DAEMON_H */
