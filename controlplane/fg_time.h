/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * fg_time.h - the control plane's monotonic clock, in milliseconds.
 *
 * Deadlines, backoffs and probe schedules are all in CLOCK_MONOTONIC
 * milliseconds: libevent schedules its timers on the monotonic clock too,
 * so a wall-clock step moves neither. Header-only, any context.
 */
#ifndef FG_TIME_H
#define FG_TIME_H

#include <stdint.h>
#include <sys/time.h>
#include <time.h>

/* fg_now_ms - CLOCK_MONOTONIC in milliseconds. Any context. */
static inline uint64_t fg_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000U + (uint64_t)ts.tv_nsec / 1000000U;
}

/* fg_ms_tv - a timeval of ms milliseconds, for event_add() and friends. */
static inline struct timeval fg_ms_tv(uint64_t ms)
{
	struct timeval tv = {
		.tv_sec = (time_t)(ms / 1000U),
		.tv_usec = (suseconds_t)((ms % 1000U) * 1000U),
	};

	return tv;
}

#endif /* FG_TIME_H */
