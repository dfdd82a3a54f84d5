// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * fg_dp_sup.c - floodgate-dpdk watched from the daemon's loop. The dpdk
 * driver does the work one step at a time (fg_dp_dpdk_step: no libevent
 * there, its tests run without a loop); this file calls the step when it
 * is due (a timer) and at once when the process ends: a pidfd of its pid
 * becomes readable then, after the kernel closed the process's files, so
 * the step finds the control channel broken. A process in another pid
 * namespace (its pid means nothing here) is still found out by the
 * step's timer, within FG_DD_CHECK_MS.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fg_dp_dpdk.h"
#include "fg_dp_sup.h"
#include "fg_log.h"

struct fg_dp_sup {
	struct fg_dataplane *dp;
	struct event_base *base;
	struct event *timer;
	struct event *ended;     /* the pidfd's */
	int pidfd;
	uint32_t watched;        /* the pid pidfd is of; 0: none */
	uint32_t fired;          /* a pid whose end was seen: not again */
};

static void fg_sup_run(struct fg_dp_sup *s);

static void fg_sup_unwatch(struct fg_dp_sup *s)
{
	if (s->ended)
		event_free(s->ended);
	s->ended = NULL;
	if (s->pidfd >= 0)
		close(s->pidfd);
	s->pidfd = -1;
	s->watched = 0;
}

static void fg_sup_on_timer(evutil_socket_t fd, short what, void *arg)
{
	fg_sup_run(arg);
}

static void fg_sup_on_end(evutil_socket_t fd, short what, void *arg)
{
	struct fg_dp_sup *s = arg;

	s->fired = s->watched;
	fg_sup_unwatch(s);
	fg_sup_run(s);
}

/* Watch pid's end (pidfd_open: any process of our namespace, not only a
 * child). A pid that cannot be watched is left to the timer. */
static void fg_sup_watch(struct fg_dp_sup *s, uint32_t pid)
{
	int fd;

	if (pid == s->watched)
		return;
	fg_sup_unwatch(s);
	if (!pid || pid == s->fired)
		return;
	fd = (int)syscall(SYS_pidfd_open, (pid_t)pid, 0);
	if (fd < 0)
		return;
	s->ended = event_new(s->base, fd, EV_READ, fg_sup_on_end, s);
	if (!s->ended || event_add(s->ended, NULL)) {
		if (s->ended)
			event_free(s->ended);
		s->ended = NULL;
		close(fd);
		return;
	}
	s->pidfd = fd;
	s->watched = pid;
}

static void fg_sup_run(struct fg_dp_sup *s)
{
	static const enum fg_log_level lv[] = {
		[FG_DP_DPDK_INFO] = FG_LOG_INFO,
		[FG_DP_DPDK_WARN] = FG_LOG_WARN,
		[FG_DP_DPDK_ERROR] = FG_LOG_ERROR,
	};
	struct timeval tv;
	char msg[1024];
	int lvl = 0, ms;

	ms = fg_dp_dpdk_step(s->dp, msg, sizeof(msg), &lvl);
	if (lvl >= FG_DP_DPDK_INFO && lvl <= FG_DP_DPDK_ERROR)
		fg_log(lv[lvl], "dataplane: %s", msg);
	fg_sup_watch(s, fg_dp_dpdk_pid(s->dp));
	if (ms < 0)
		return;
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(s->timer, &tv);
}

/* The driver's close releases the watch (before the loop is freed). */
static void fg_sup_release(void *arg)
{
	struct fg_dp_sup *s = arg;

	fg_sup_unwatch(s);
	event_free(s->timer);
	free(s);
}

int fg_dp_supervise(struct fg_dataplane *dp, struct event_base *base,
		    char *err, size_t errlen)
{
	struct fg_dp_sup *s;

	if (fg_dp_dpdk_info(dp, NULL))
		return 0; /* no process of its own */
	s = calloc(1, sizeof(*s));
	if (s)
		s->timer = evtimer_new(base, fg_sup_on_timer, s);
	if (!s || !s->timer) {
		free(s);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	s->dp = dp;
	s->base = base;
	s->pidfd = -1;
	fg_dp_dpdk_set_watch(dp, fg_sup_release, s);
	fg_sup_run(s);
	return 0;
}

json_t *fg_dp_process_json(struct fg_dataplane *dp)
{
	struct fg_dp_dpdk_proc p;
	json_t *o;

	if (fg_dp_dpdk_proc(dp, &p))
		return NULL;
	o = json_pack("{s:s,s:s,s:I,s:b,s:I,s:I}", "mode", p.mode,
		      "state", p.state, "pid", (json_int_t)p.pid,
		      "started", p.started, "restarts", (json_int_t)p.restarts,
		      "reconnects", (json_int_t)p.reconnects);
	if (o && p.last_exit[0])
		json_object_set_new(o, "last_exit", json_string(p.last_exit));
	if (o && p.log_file[0])
		json_object_set_new(o, "log_file", json_string(p.log_file));
	return o;
}
