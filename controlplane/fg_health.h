/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * fg_health.h - active health checks of backends (API.md, Service.health),
 * as non-blocking probes on the daemon's libevent loop.
 *
 * Targets. A target is (service, backend address, probe port). The caller
 * declares the whole set of one service with fg_health_sync() and repeats
 * that on every rule change; targets are matched by (service, addr, port),
 * so one that survives a sync keeps its state, counters and probe schedule,
 * a new one starts, and one that is no longer listed stops at once (an
 * in-flight probe is aborted; its callback never fires). The probe port is
 * cfg->port when set, else the backend's port, else the sync's
 * default_port.
 *
 * Probes. "tcp": a non-blocking connect() completes within timeout_ms.
 * "http": connect, send
 *   GET <path> HTTP/1.1\r\nHost: <addr>\r\nConnection: close\r\n
 *   User-Agent: floodgate-health\r\n\r\n
 * and read the status line within timeout_ms (counted from the start of the
 * connect); its status must equal expect_status. A probe starts every
 * interval_ms, counted from the start of the previous one; at most one
 * probe per target is in flight, so a probe that outlasts the interval
 * delays the next instead of overlapping it. The first probe of a new
 * target comes after a random delay below min(interval_ms,
 * FG_HEALTH_FIRST_SPREAD_MS): prompt, yet 1000 targets added in one sync
 * do not connect in one burst, and since later probes keep the phase the
 * load stays spread. Sockets are closed with an RST (SO_LINGER 0) so that
 * thousands of probes a second leave no TIME_WAIT sockets on the appliance.
 *
 * State. A new target starts UP: a service pushed through the API forwards
 * at once instead of black-holing for rise x interval_ms while its first
 * probes run, and a dead backend is taken out after `fall` probes - the
 * same latency as any backend that dies later. `fall` consecutive failures
 * take an UP target DOWN, `rise` consecutive successes bring a DOWN one
 * back. The callback fires on each transition only, never for the initial
 * UP and never for removed targets. fg_health_seed() may set a new
 * target's state otherwise (a restarted daemon keeps what the dataplane
 * it adopts knew).
 *
 * Local errors. A probe this host could not make - socket() failing for
 * want of descriptors, buffers or memory (EMFILE, ENFILE, ENOBUFS,
 * ENOMEM), connect() finding no local address or port (EADDRNOTAVAIL,
 * EAGAIN), no memory for its events or request - has no result: the
 * target's state, streak and probe counts do not move, local_errors
 * counts it, and the next probe comes on schedule. A checker short of
 * descriptors must not take healthy backends out of service. A changed rise/fall applies from the
 * next result on; a changed interval from the next scheduling.
 *
 * Context. Single-threaded: every function runs on the thread that runs
 * the event base, and the callback runs from inside event_base_loop(),
 * never from inside a call to this library. The callback may call any
 * function here, fg_health_free() included: the library touches nothing
 * after calling it. No function blocks, no threads
 * are started, nothing is logged; resources are bounded by
 * FG_HEALTH_TARGETS_MAX targets with one socket each at most.
 */
#ifndef FG_HEALTH_H
#define FG_HEALTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>

#include <event2/event.h>

#include "fg_rules.h"

/* Targets over all services: one socket each at most, so this also bounds
 * the descriptors the checker may hold (the daemon's RLIMIT_NOFILE must
 * allow for it). 16 full services of FG_SVC_BACKENDS_MAX backends. */
#define FG_HEALTH_TARGETS_MAX 65536U
/* Descriptors the daemon needs besides one per target: the API's
 * connections (128), the store's, BPF maps and links, logs, with room. */
#define FG_HEALTH_NOFILE_RESERVE 1024U
/* The first probe of a new target comes within this many ms. */
#define FG_HEALTH_FIRST_SPREAD_MS 1000U
/* Shortest interval the library accepts. The API's floor is higher (100
 * ms); tests use short intervals to run fast. */
#define FG_HEALTH_INTERVAL_MIN_MS 10U
/* Size of the last-error string, NUL included. */
#define FG_HEALTH_ERR_MAX 96

/*
 * The transition callback: target (service, addr, port) went DOWN (up ==
 * false) or came back UP. service and addr point into the checker: valid
 * during the call, and only until the callback removes the target (copy
 * them first if it does).
 */
typedef void (*fg_health_cb)(void *arg, const char *service,
			     const struct fg_addr *addr, uint16_t port,
			     bool up);

/* A target's state and counters, for /v1/stats and /metrics. */
struct fg_health_stats {
	bool up;                /* current state */
	bool probing;           /* a probe is in flight now */
	uint64_t probes;        /* probes completed (passed or failed) */
	uint64_t failures;      /* of which failed */
	uint64_t transitions;   /* state changes (callbacks fired) */
	uint32_t streak;        /* consecutive results equal to the last one
				 * (0 before the first result) */
	char last_error[FG_HEALTH_ERR_MAX]; /* why the most recent failed
					     * probe failed; "" if none has */
	uint64_t local_errors;  /* probes without a result: local errors,
				 * not counted in probes */
	char last_local_error[FG_HEALTH_ERR_MAX]; /* the latest; "" if none */
};

struct fg_health;

/*
 * fg_health_new - a checker on base that reports transitions to cb(arg, ...).
 * Returns the checker, or NULL (errno set: EINVAL when base or cb is NULL,
 * ENOMEM). It owns no event until a sync adds targets.
 */
struct fg_health *fg_health_new(struct event_base *base, fg_health_cb cb,
				void *arg);

/*
 * fg_health_free - stop every probe (closing its socket), free every event
 * and the checker. No callback fires from it. Accepts NULL. May be called
 * from the callback.
 */
void fg_health_free(struct fg_health *h);

/*
 * fg_health_sync - declare the complete target set of service: one target
 * per distinct (addr, probe port) of backends[0..n-1] (duplicates collapse),
 * probed as cfg says. cfg->type FG_HEALTH_NONE (or n == 0) removes every
 * target of the service. All or nothing: on error nothing changes.
 * Returns 0; -EINVAL (service name empty or too long, a NULL pointer with
 * n > 0, a bad cfg: interval below FG_HEALTH_INTERVAL_MIN_MS, timeout 0,
 * rise or fall 0, an http path not starting with '/' or holding bytes
 * outside printable ASCII or spaces, expect_status outside 100..599; an
 * address family other than AF_INET/AF_INET6; a probe port of 0); -ENOSPC
 * (the new set would take the total past FG_HEALTH_TARGETS_MAX); -ENOMEM.
 */
int fg_health_sync(struct fg_health *h, const char *service,
		   const struct fg_rule_health *cfg,
		   const struct fg_rule_backend *backends, size_t n,
		   uint16_t default_port);

/*
 * fg_health_remove_service - stop and forget every target of service (a
 * service deleted from the rules). Returns 0, or -ENOENT when the checker
 * holds no target of that name.
 */
int fg_health_remove_service(struct fg_health *h, const char *service);

/*
 * fg_health_get - the state of target (service, addr, port) in *up.
 * Returns 0, or -ENOENT (no such target), -EINVAL (a NULL argument).
 */
int fg_health_get(struct fg_health *h, const char *service,
		  const struct fg_addr *addr, uint16_t port, bool *up);

/*
 * fg_health_get_stats - the state and counters of target (service, addr,
 * port) in *st. Returns 0, or -ENOENT, -EINVAL as fg_health_get().
 */
int fg_health_get_stats(struct fg_health *h, const char *service,
			const struct fg_addr *addr, uint16_t port,
			struct fg_health_stats *st);

/* fg_health_count - the number of targets over all services. */
size_t fg_health_count(const struct fg_health *h);

/*
 * fg_health_seed - set the state of target (service, addr, port), made by
 * a sync, to up or down without a callback, and start its streak afresh:
 * for a restarted daemon, whose dataplane still has the backends down
 * that probes took out before. Returns 0, -ENOENT (no such target),
 * -EINVAL (a NULL argument).
 */
int fg_health_seed(struct fg_health *h, const char *service,
		   const struct fg_addr *addr, uint16_t port, bool up);

/*
 * fg_health_nofile - the RLIMIT_NOFILE the daemon needs to probe `targets`
 * targets (capped at FG_HEALTH_TARGETS_MAX) at once: one descriptor each
 * plus FG_HEALTH_NOFILE_RESERVE. For the documented maximum, 65536
 * targets, that is 66560 - above the usual soft limit of 1024, so the
 * daemon raises its own.
 */
rlim_t fg_health_nofile(unsigned int targets);

/*
 * fg_health_raise_nofile - raise this process's RLIMIT_NOFILE soft limit
 * to fg_health_nofile(targets): up to the hard limit, and past it when
 * the process may (CAP_SYS_RESOURCE; below the kernel's fs.nr_open).
 * Never lowers it. Call once at start, before descriptors are opened in
 * numbers. Returns 0 (the limit suffices now); -EMFILE when the hard
 * limit could not be raised far enough (the soft limit is then the hard
 * one, and err says how far short it falls: probes past it get no
 * result, never a failure); -errno of getrlimit/setrlimit (err says
 * which). Blocking-free; logs nothing.
 */
int fg_health_raise_nofile(unsigned int targets, char *err, size_t errlen);

#endif /* FG_HEALTH_H */
