/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * fg_etcd_embedded.h - the private etcd member of a standalone node
 * (DESIGN.md: "The rule store is etcd, always"): Debian's etcd-server run
 * as a child of floodgated on loopback, its data under the daemon's data
 * directory, so single-node and cluster share one code path.
 *
 * Layout under opts.data_dir:  etcd/      the member's data (etcd's own)
 *                              etcd.log   etcd's output, appended
 *
 * Lifetime: the child gets PR_SET_PDEATHSIG(SIGTERM), so it dies with the
 * daemon even on SIGKILL (the rules are on disk and the dataplane outlives
 * the daemon anyway). The parent-death signal follows the *thread* that
 * forked: call start/check from the daemon's main thread. It runs in its
 * own process group, so a terminal's ^C reaches only the daemon, which
 * stops it in order.
 *
 * Supervision: fg_etcd_embedded_check() reaps the child with a
 * non-blocking waitpid() on its pid only (never on -1, so other children
 * are left alone) and restarts it with backoff. Call it from a timer (1 s
 * is fine) and/or after SIGCHLD. SIGCHLD must not be SIG_IGN (the kernel
 * would reap the child itself).
 *
 * Blocking: fg_etcd_embedded_start() waits for readiness (up to
 * ready_timeout_ms) and fg_etcd_embedded_stop() for exit (up to
 * stop_timeout_ms): startup and shutdown only. fg_etcd_embedded_check()
 * does not wait for readiness; a restart blocks only for fork+exec.
 *
 * Library code: nothing here logs; errors come back as negative errno
 * with a message in err.
 */
#ifndef FG_ETCD_EMBEDDED_H
#define FG_ETCD_EMBEDDED_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define FG_ETCD_EMBEDDED_PATH "/usr/bin/etcd"
/* Beside etcd's own 2379/2380, so a system etcd can coexist. */
#define FG_ETCD_EMBEDDED_CLIENT_PORT 2389
#define FG_ETCD_EMBEDDED_PEER_PORT 2390
#define FG_ETCD_EMBEDDED_NAME "floodgate"
#define FG_ETCD_EMBEDDED_READY_MS 20000
#define FG_ETCD_EMBEDDED_STOP_MS 10000
/* History kept for watchers to resume from after an outage: an hour of
 * rule changes is tiny, and a daemon away longer re-reads everything. */
#define FG_ETCD_EMBEDDED_COMPACTION "1h"
/* Restart backoff: doubles from MIN to MAX; back to MIN once a child has
 * lived FG_ETCD_EMBEDDED_STABLE_MS. */
#define FG_ETCD_EMBEDDED_BACKOFF_MIN_MS 1000
#define FG_ETCD_EMBEDDED_BACKOFF_MAX_MS 60000
#define FG_ETCD_EMBEDDED_STABLE_MS 60000

struct fg_etcd_embedded;

struct fg_etcd_embedded_opts {
	const char *etcd_path;	/* NULL: FG_ETCD_EMBEDDED_PATH */
	const char *data_dir;	/* required; created (one level) if missing */
	const char *name;	/* NULL: FG_ETCD_EMBEDDED_NAME;
				 * [A-Za-z0-9._-]{1,63} */
	uint16_t client_port;	/* 0: a free ephemeral port */
	uint16_t peer_port;	/* 0: a free ephemeral port */
	int ready_timeout_ms;	/* 0: FG_ETCD_EMBEDDED_READY_MS */
	int stop_timeout_ms;	/* 0: FG_ETCD_EMBEDDED_STOP_MS */
	const char *auto_compaction_retention;	/* NULL: ..._COMPACTION */
};

/*
 * fg_etcd_embedded_opts_init - the defaults: ports 2389/2390, everything
 * else NULL/0 (meaning the defaults above). data_dir is left NULL.
 */
void fg_etcd_embedded_opts_init(struct fg_etcd_embedded_opts *o);

/*
 * fg_etcd_embedded_start - check the data dir (writable) and the etcd
 * binary (executable), spawn etcd and BLOCK until it answers /health or
 * ready_timeout_ms passes. An existing <data_dir>/etcd is reused (etcd
 * ignores --initial-cluster-state new then). Ports chosen here (0 in the
 * options) are kept for restarts. Returns 0 with *out set, or a negative
 * errno with the reason (including the tail of etcd.log when etcd itself
 * failed) in err: -ENOENT no etcd binary, -EACCES/-EROFS/-ENOTDIR data dir
 * unusable, -EADDRINUSE port taken, -ECHILD etcd exited, -ETIMEDOUT not
 * ready in time, -EINVAL bad options.
 */
int fg_etcd_embedded_start(const struct fg_etcd_embedded_opts *o,
			   struct fg_etcd_embedded **out,
			   char *err, size_t errlen);

/*
 * fg_etcd_embedded_check - non-blocking supervision. Returns 0 if the
 * child is running, 1 if it had died and has just been restarted (not yet
 * necessarily ready; clients reconnect by themselves), -EAGAIN if it is
 * dead and the restart waits for the backoff, or another negative errno if
 * a restart failed (tried again on a later call). err says what happened
 * whenever the return is not 0.
 */
int fg_etcd_embedded_check(struct fg_etcd_embedded *e, char *err,
			   size_t errlen);

/*
 * fg_etcd_embedded_stop - SIGTERM, wait up to stop_timeout_ms, then
 * SIGKILL; reap and free. Accepts NULL. Blocks (bounded).
 */
void fg_etcd_embedded_stop(struct fg_etcd_embedded *e);

/* fg_etcd_embedded_endpoint - "http://127.0.0.1:<client port>". */
const char *fg_etcd_embedded_endpoint(const struct fg_etcd_embedded *e);

/* fg_etcd_embedded_ports - the ports in use (after picking free ones). */
void fg_etcd_embedded_ports(const struct fg_etcd_embedded *e,
			    uint16_t *client, uint16_t *peer);

/* fg_etcd_embedded_pid - the child's pid, 0 while it is down. */
pid_t fg_etcd_embedded_pid(const struct fg_etcd_embedded *e);

/* fg_etcd_embedded_restarts - how many times check() restarted it. */
unsigned int fg_etcd_embedded_restarts(const struct fg_etcd_embedded *e);

#endif /* FG_ETCD_EMBEDDED_H */
