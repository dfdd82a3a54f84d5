/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * fg_log.h - the daemon's one logging function. Library code does not
 * log; its callers log once, with context, through fg_log(). libbpf's
 * messages are routed here too.
 */
#ifndef FG_LOG_H
#define FG_LOG_H

enum fg_log_level {
	FG_LOG_ERROR = 0,
	FG_LOG_WARN,
	FG_LOG_INFO,
	FG_LOG_DEBUG,
};

/* fg_log_set_level - messages above level are dropped. */
void fg_log_set_level(enum fg_log_level level);

/* fg_log_level_parse - "error|warn|info|debug" -> level, or -1. */
int fg_log_level_parse(const char *s);

/* fg_log - one line to stderr: "LEVEL message". Context: the daemon's
 * thread (not async-signal-safe). */
void fg_log(enum fg_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* fg_log_route_libbpf - send libbpf's warnings (and debug output at
 * FG_LOG_DEBUG) through fg_log. */
void fg_log_route_libbpf(void);

#endif /* FG_LOG_H */
