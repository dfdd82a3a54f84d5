/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * fg_dp_sup.h - the dataplane's process watched from the daemon's loop:
 * floodgate-dpdk (dataplane.kind "dpdk") runs apart from floodgated; its
 * end wakes the loop (a pidfd), and the dpdk driver's supervision
 * (fg_dp_dpdk_step) starts it again or reconnects, and pushes its
 * tables, with no API call needed. An XDP dataplane has no process: both
 * calls are no-ops for it, so main names no kind.
 *
 * Context: the daemon's event loop; logs through fg_log.
 */
#ifndef FG_DP_SUP_H
#define FG_DP_SUP_H

#include <stddef.h>

#include <event2/event.h>
#include <jansson.h>

#include "fg_dataplane.h"

/*
 * fg_dp_supervise - watch dp's process on base until dp is closed (its
 * close releases the watch). Returns 0 (also for a dataplane without a
 * process), or -ENOMEM with a message.
 */
int fg_dp_supervise(struct fg_dataplane *dp, struct event_base *base,
		    char *err, size_t errlen);

/*
 * fg_dp_process_json - the process as GET /v1/status shows it (the
 * object "process" in "dataplane"): mode, state, pid, started, restarts,
 * reconnects, last_exit and log_file when known. NULL for a dataplane
 * without a process (or out of memory).
 */
json_t *fg_dp_process_json(struct fg_dataplane *dp);

#endif /* FG_DP_SUP_H */
