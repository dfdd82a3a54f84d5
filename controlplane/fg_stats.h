/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * fg_stats.h - the daemon's counters as GET /v1/stats and /metrics show them.
 */
#ifndef FG_STATS_H
#define FG_STATS_H

#include <stddef.h>

#include <jansson.h>

struct fg_daemon;

/* fg_stats_json - the GET /v1/stats body. New reference. */
json_t *fg_stats_json(struct fg_daemon *d);

/* fg_metrics_text - the GET /metrics body (Prometheus text format 0.0.4),
 * malloc'd, NUL-terminated. NULL on allocation failure. */
char *fg_metrics_text(struct fg_daemon *d);

#endif /* FG_STATS_H */
