/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * fg_etcd_embedded.h - the private etcd member of a standalone node
 * (DESIGN.md: "The rule store is etcd, always"): Debian's etcd-server run
 * as a child of floodgated, its data under the daemon's data directory,
 * so single-node and cluster share one code path.
 *
 * Layout under opts.data_dir:  etcd/           the member's data (etcd's)
 *                              etcd.log        etcd's output, appended
 *                              etcd-sock/      mode 0700, the only doors:
 *                                client:0      client socket (the API)
 *                                peer:0        peer socket
 *
 * No TCP listener: etcd has no auth here, and etcd 3.4 serves the
 * key-value API on its peer listener too, so a loopback port would let
 * any local user rewrite the rules. Both listeners are Unix sockets in a
 * directory only the daemon's user may enter. (etcd wants unix:// URLs
 * in host:port form and creates the socket, named "host:port", in its
 * working directory: the child runs in etcd-sock/.) A socket a killed
 * member left behind is removed before a start, unless something still
 * answers on it.
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
#define FG_ETCD_EMBEDDED_SOCK_DIR "etcd-sock"
#define FG_ETCD_EMBEDDED_CLIENT_SOCK "client:0"
#define FG_ETCD_EMBEDDED_PEER_SOCK "peer:0"
#define FG_ETCD_EMBEDDED_NAME "floodgate"
#define FG_ETCD_EMBEDDED_READY_MS 20000
#define FG_ETCD_EMBEDDED_STOP_MS 10000

/*
 * Sizing: the member must hold a rule set at the dataplane's maximum.
 *
 * The whole rule set is one value (fg_store.h). Its largest canonical
 * JSON (compact, sorted keys) under the limits of fg_tables.h and
 * API.md, every field at its longest:
 *   FG_BACKEND_MAX 65,536 backends x 96 B   ("ffff:...:ffff" addresses,
 *     port and weight 65535, "active", the comma)           = 6.29 MB
 *   FG_SVC_MAX 4,096 services x 850 B  (63-char name, v6 vip, http
 *     health with a 255-char path of escaped characters)   = 3.48 MB
 *   FG_LIMIT_MAX 256 limits x 374 B                          = 0.10 MB
 *   total                                                    ~ 9.9 MB
 * (IPv4 backends and plain names: ~5 MB.) etcd counts the value and key
 * plus a few dozen bytes, and refuses more than --max-request-bytes
 * (1.5 MiB by default). 16 MiB leaves 60 % over the worst case; above it
 * the client refuses before sending (-EMSGSIZE naming the limit).
 *
 * Space: every put keeps its old value until a compaction, and compacted
 * pages stay in the file until a defragmentation; when the file reaches
 * --quota-backend-bytes etcd raises NOSPACE and turns read-only. Bounds:
 *  - floodgated (fg_store.c) compacts and defragments after every
 *    FG_STORE_MAINT_BYTES (64 MiB) of rule sets written and at least
 *    every FG_STORE_MAINT_PERIOD_MS, so the file holds the live set plus
 *    at most 64 MiB + one request (16 MiB) of history, with bbolt's
 *    page fragmentation at most doubling that: ~200 MB, whatever the
 *    write rate or the day's count of changes (a day of one change a
 *    minute at 9.9 MB is 14 GB written, which without compaction would
 *    fill any quota).
 *  - etcd's own revision compaction (FG_ETCD_EMBEDDED_COMPACTION_REVS,
 *    checked every 5 min) is the backstop if floodgated's pass fails:
 *    100 revisions x 16 MiB = 1.6 GiB, and compacted pages are reused
 *    by later writes even without a defragmentation.
 *  - FG_ETCD_EMBEDDED_QUOTA 4 GiB covers the backstop case 2.5 times and
 *    the normal case 20 times (etcd recommends at most 8 GiB).
 * The WAL is outside the quota: etcd purges WAL files only behind a
 * snapshot, every --snapshot-count entries (100,000 by default, a
 * terabyte of WAL at 10 MB an entry); FG_ETCD_EMBEDDED_SNAPSHOT_COUNT
 * keeps it to about 100 entries plus etcd's 5 retained files.
 */
#define FG_ETCD_EMBEDDED_REQUEST_MAX (16ULL << 20)
#define FG_ETCD_EMBEDDED_REQUEST_MIN (1U << 20)
#define FG_ETCD_EMBEDDED_QUOTA (4ULL << 30)
#define FG_ETCD_EMBEDDED_COMPACTION_REVS 100
#define FG_ETCD_EMBEDDED_SNAPSHOT_COUNT 100U
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
	int ready_timeout_ms;	/* 0: FG_ETCD_EMBEDDED_READY_MS */
	int stop_timeout_ms;	/* 0: FG_ETCD_EMBEDDED_STOP_MS */
	int64_t compaction_revisions;	/* 0: ..._COMPACTION_REVS */
	uint64_t request_max;	/* 0: ..._REQUEST_MAX; else >= ..._MIN */
	uint64_t quota_bytes;	/* 0: ..._QUOTA; else >= 2 x request_max */
};

/*
 * fg_etcd_embedded_opts_init - the defaults: everything NULL/0 (meaning
 * the defaults above). data_dir is left NULL.
 */
void fg_etcd_embedded_opts_init(struct fg_etcd_embedded_opts *o);

/*
 * fg_etcd_embedded_start - check the data dir (writable) and the etcd
 * binary (executable), spawn etcd and BLOCK until it answers /health or
 * ready_timeout_ms passes. An existing <data_dir>/etcd is reused (etcd
 * ignores --initial-cluster-state and --initial-cluster-token then; a new
 * member gets a random token, hence a cluster id of its own). Returns 0
 * with *out set, or a negative errno with the reason (including the tail
 * of etcd.log when etcd itself failed) in err: -ENOENT no etcd binary,
 * -EACCES/-EROFS/-ENOTDIR data dir or socket dir unusable, -ENAMETOOLONG
 * socket path over sun_path, -EADDRINUSE another etcd answers on the
 * socket, -ECHILD etcd exited, -ETIMEDOUT not ready in time, -EINVAL bad
 * options.
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

/* fg_etcd_embedded_endpoint - "unix://<data_dir>/etcd-sock/client:0",
 * as fg_etcd_new() takes it. */
const char *fg_etcd_embedded_endpoint(const struct fg_etcd_embedded *e);

/* fg_etcd_embedded_sock_dir - the absolute path of the 0700 socket
 * directory. */
const char *fg_etcd_embedded_sock_dir(const struct fg_etcd_embedded *e);

/* fg_etcd_embedded_request_max - the member's --max-request-bytes. */
uint64_t fg_etcd_embedded_request_max(const struct fg_etcd_embedded *e);

/* fg_etcd_embedded_quota - the member's --quota-backend-bytes. */
uint64_t fg_etcd_embedded_quota(const struct fg_etcd_embedded *e);

/* fg_etcd_embedded_pid - the child's pid, 0 while it is down. */
pid_t fg_etcd_embedded_pid(const struct fg_etcd_embedded *e);

/* fg_etcd_embedded_restarts - how many times check() restarted it. */
unsigned int fg_etcd_embedded_restarts(const struct fg_etcd_embedded *e);

#endif /* FG_ETCD_EMBEDDED_H */
