/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* fg_strf.h - a malloc'd printf, once for every control-plane program. */
#ifndef FG_STRF_H
#define FG_STRF_H

#include <stdarg.h>
#include <stdio.h>

/* fg_vstrf, fg_strf - the formatted string, malloc'd; NULL on failure. */
static inline char *fg_vstrf(const char *fmt, va_list ap)
{
	char *s;

	return vasprintf(&s, fmt, ap) < 0 ? NULL : s;
}

static inline __attribute__((format(printf, 1, 2))) char *fg_strf(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = fg_vstrf(fmt, ap);
	va_end(ap);
	return s;
}

#endif /* FG_STRF_H */
