/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * fg_daemon.h - floodgated's state, shared by its modules: the API
 * (fg_api.c), the rule store (fg_store.c), counters (fg_stats.c) and
 * main (floodgated.c). One event loop, one thread: nothing here locks.
 *
 * Rules flow one way (DESIGN.md): API -> validate -> store (one etcd
 * write; the version is the etcd revision) -> the store's watch (or the
 * write's own answer, whichever comes first) -> compile and switch the
 * dataplane -> applied_version.
 */
#ifndef FG_DAEMON_H
#define FG_DAEMON_H

#include <stdbool.h>
#include <stdint.h>

#include <event2/event.h>
#include <event2/http.h>
#include <jansson.h>

#include "fg_config.h"
#include "fg_dataplane.h"
#include "fg_rules.h"

#define FG_SOFTWARE_VERSION "0.1.0"

struct fg_store;
struct fg_health;
struct fg_host;

struct fg_daemon {
	struct event_base *base;
	struct fg_boot_config cfg;
	const char *config_path;
	const char *run_dir;     /* NULL: FG_RUN_DIR (fg_reconcile.h) */

	struct fg_dataplane *dp;
	struct fg_store *store;
	struct fg_health *health;
	struct fg_host *host;    /* sysctls, neighbours (fg_host.h) */
	struct evhttp *http;
	struct evhttp_bound_socket *http_sock;

	/* The stored rule set as last seen (own write or watch). */
	json_t *rules_json;      /* canonical GET /v1/config body, no version */
	struct fg_ruleset rules; /* the same, parsed */
	uint64_t rules_version;  /* 0: store not read yet */

	/* What the dataplane runs. */
	uint64_t applied_version;
	char apply_error[256];   /* last apply failure, "" when none */
	struct event *apply_retry;     /* a failed apply's next try */
	unsigned int apply_backoff_ms; /* its delay; 0: not failing */

	/* The store against the dataplane (fg_reconcile.c). */
	int start_choice;        /* enum fg_start_choice: --force, --adopt */
	bool first_rules_seen;   /* the first rule set was checked */
	uint64_t store_cluster_id;
	char origin_cluster_hex[17];
	char conflict[768];      /* why the store is not applied, "" if it is */
	json_t *adopting;        /* --adopt-dataplane's write under way */

	struct event *sig_term, *sig_int, *sig_hup, *tick;
	bool stopping;
};

/*
 * fg_daemon_rules_changed - the store holds `config` (a canonical config
 * object, without "version") at `version`. Parses it, keeps it as the
 * current rule set when it is newer than what the daemon has, and applies
 * it to the dataplane with the health checker's view of the backends.
 * Takes a reference to config. Returns 0, or -errno when the stored rules
 * do not parse (logged; the old rules stay live).
 */
int fg_daemon_rules_changed(struct fg_daemon *d, json_t *config,
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

/* fg_api_start - listen on cfg.api.listen and serve API.md. 0 or -errno
 * with a message. */
int fg_api_start(struct fg_daemon *d, char *err, size_t errlen);
void fg_api_stop(struct fg_daemon *d);

/* fg_stats_json - the GET /v1/stats body. New reference. */
json_t *fg_stats_json(struct fg_daemon *d);

/* fg_metrics_text - the GET /metrics body (Prometheus text format 0.0.4),
 * malloc'd, NUL-terminated. NULL on allocation failure. */
char *fg_metrics_text(struct fg_daemon *d);

/* fg_daemon_backend_healthy - the health checker's view: true when the
 * backend is not marked down by probes (true without health checks). */
bool fg_daemon_backend_healthy(struct fg_daemon *d, const char *service,
			       const struct fg_rule_backend *b);

#endif /* FG_DAEMON_H */
