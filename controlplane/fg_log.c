// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * fg_log.c - see fg_log.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <bpf/libbpf.h>

#include "fg_log.h"

static enum fg_log_level fg_log_max = FG_LOG_INFO;

static const char *const fg_log_names[] = { "error", "warn", "info", "debug" };

void fg_log_set_level(enum fg_log_level level)
{
	fg_log_max = level;
}

int fg_log_level_parse(const char *s)
{
	unsigned int i;

	for (i = 0; i < sizeof(fg_log_names) / sizeof(fg_log_names[0]); i++)
		if (s && !strcmp(s, fg_log_names[i]))
			return (int)i;
	return -1;
}

static void fg_vlog(enum fg_log_level level, const char *fmt, va_list ap)
{
	char ts[32];
	struct timespec now;
	struct tm tm;

	if (level > fg_log_max)
		return;
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	fprintf(stderr, "%s.%03ldZ %-5s ", ts, now.tv_nsec / 1000000,
		fg_log_names[level]);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void fg_log(enum fg_log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fg_vlog(level, fmt, ap);
	va_end(ap);
}

/* libbpf hands us lines that already end in a newline: strip it. */
static int fg_libbpf_print(enum libbpf_print_level lvl, const char *fmt,
			   va_list ap)
{
	enum fg_log_level level = lvl == LIBBPF_WARN ? FG_LOG_WARN :
				  lvl == LIBBPF_INFO ? FG_LOG_DEBUG : FG_LOG_DEBUG;
	char buf[1024];
	size_t n;

	if (level > fg_log_max)
		return 0;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	n = strlen(buf);
	while (n && buf[n - 1] == '\n')
		buf[--n] = '\0';
	fg_log(level, "libbpf: %s", buf);
	return 0;
}

void fg_log_route_libbpf(void)
{
	libbpf_set_print(fg_libbpf_print);
}
