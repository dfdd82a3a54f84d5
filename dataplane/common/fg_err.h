/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * fg_err.h - the error-message convention the userspace libraries share:
 * a function that can fail takes (char *err, size_t errlen) and writes a
 * one-line reason there for its caller to log or return.
 */
#ifndef FG_ERR_H
#define FG_ERR_H

#include <stddef.h>

/* fg_fail - format a message into err (when err and errlen are non-zero)
 * and return ret, so a failure path reads `return fg_fail(...)`. */
__attribute__((format(printf, 4, 5)))
int fg_fail(char *err, size_t errlen, int ret, const char *fmt, ...);

#endif /* FG_ERR_H */
