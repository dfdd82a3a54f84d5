/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * fg_dp_dpdk.h - the dpdk kind of floodgated's dataplane driver
 * (fg_dataplane.h): floodgate-dpdk, a process of its own, driven over
 * its control socket (dataplane/dpdkctl/fg_dpdk_ctl.h).
 */
#ifndef FG_DP_DPDK_H
#define FG_DP_DPDK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fg_dataplane.h"

/*
 * fg_dp_dpdk_open - the dpdk kind: connect to floodgate-dpdk at cfg's
 * dataplane.control_socket (mode "start": when nothing answers, wait for
 * the process the pid file beside the socket names if it is starting,
 * else start one, and wait for it to answer; FG_DP_OPEN_DETACH starts
 * nothing) and adopt what it runs (its version, and the
 * compiler's ids from its tables, so ids stay stable across a restart
 * of floodgated), unless FG_DP_OPEN_REPLACE (then the first apply pushes
 * a set of new ids). A process that does not answer yet is no error:
 * every later call tries again, and the first apply pushes its set.
 * Returns the handle or NULL with a message in err (out of memory; mode
 * start: no executable, or the process ended before it answered).
 */
struct fg_dataplane *fg_dp_dpdk_open(const struct fg_boot_config *cfg,
				     unsigned int flags, char *err,
				     size_t errlen);

/* What the last pushes cost, for tests and benchmarks. */
struct fg_dp_dpdk_info {
	uint64_t fulls, deltas;   /* pushes answered ACK, by kind */
	uint64_t last_bytes;      /* bytes on the wire of the last push */
	uint64_t last_body;       /* its body's bytes */
	int last_type;            /* FG_DPDK_CTL_FULL or _DELTA */
	double last_ms;           /* from encoding to the ACK */
	double last_encode_ms;    /* of which encoding */
	uint64_t connects;        /* connections made */
	uint64_t process_version; /* what the process said it runs */
};

/* fg_dp_dpdk_info - *out (may be NULL: only the question) for a dpdk
 * dataplane, 0; -EINVAL for another kind. */
int fg_dp_dpdk_info(struct fg_dataplane *dp, struct fg_dp_dpdk_info *out);

/*
 * fg_dp_dpdk_stock - one stock exchange with the process (fg_dpdk_ctl.h
 * "stock"; fg_stock_link.h's exchange), with x->all set when the
 * connection is not the one of the last exchange. Only over a connection
 * that stands and holds the driver's set: -ENOTCONN otherwise (nothing
 * is connected from here). 0 or -errno with a message; -EINVAL for
 * another kind.
 */
struct fg_dpdk_ctl_stock;
int fg_dp_dpdk_stock(struct fg_dataplane *dp, struct fg_dpdk_ctl_stock *x,
		     char *err, size_t errlen);

/* ------------------------------------------------- the process itself */

/* What fg_dp_dpdk_proc reports: GET /v1/status's dataplane.process. */
struct fg_dp_dpdk_proc {
	const char *mode;     /* "attach" | "start" (dataplane.dpdk.mode) */
	const char *state;    /* "running" (answers), "starting", "down" */
	uint32_t pid;         /* 0 when none runs (down) */
	bool started;         /* started by floodgated (this or an earlier
			       * one), not by systemd or by hand */
	uint64_t restarts;    /* starts by this floodgated after the first
			       * (the process had died) */
	uint64_t reconnects;  /* connections after the first: the process
			       * came back (or a new one answered) */
	char last_exit[128];  /* how the last one ended, "" if none did */
	char log_file[4096];  /* mode start: where its output goes */
};

/* fg_dp_dpdk_proc - *out for a dpdk dataplane: 0; -EINVAL otherwise. */
int fg_dp_dpdk_proc(struct fg_dataplane *dp, struct fg_dp_dpdk_proc *out);

#define FG_DP_DPDK_INFO 1
#define FG_DP_DPDK_WARN 2
#define FG_DP_DPDK_ERROR 3

/*
 * fg_dp_dpdk_step - one step of the process's supervision, for the
 * daemon's loop: notice a channel that broke (the process died or closed
 * it); mode "start": start it again (at once after a process that had run
 * for a while, else with a backoff from 0.5 s to 30 s), wait for it to
 * answer (kill one that does not within dataplane.dpdk.start_timeout_ms);
 * mode "attach": connect again with a backoff from 0.1 s to 5 s; and push
 * the whole table set to the process that answers. What happened, if
 * anything worth the log, goes to msg with *level FG_DP_DPDK_* (0:
 * nothing). Returns the delay in ms before the next step is due (a death
 * may come sooner: fg_dp_dpdk_pid's process is worth watching), -1 for
 * a dataplane of another kind. Blocks at most one connect.
 */
int fg_dp_dpdk_step(struct fg_dataplane *dp, char *msg, size_t msglen,
		    int *level);

/* fg_dp_dpdk_set_watch - who watches the process from a loop: close
 * calls release(arg) first. */
void fg_dp_dpdk_set_watch(struct fg_dataplane *dp, void (*release)(void *),
			  void *arg);

/* fg_dp_dpdk_pid - the pid of the process that runs or starts (0: none,
 * or another kind): its end is the moment to step. */
uint32_t fg_dp_dpdk_pid(struct fg_dataplane *dp);

#endif /* FG_DP_DPDK_H */
