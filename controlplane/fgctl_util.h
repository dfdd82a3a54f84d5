/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * fgctl_util.h - what every part of fgctl shares: its exit statuses,
 * allocation that exits instead of failing (a CLI has nothing to unwind
 * that the exit would not release), a growable buffer, whole-file reading
 * and the few JSON helpers the commands build requests with.
 */
#ifndef FGCTL_UTIL_H
#define FGCTL_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#ifndef FG_VERSION
#define FG_VERSION "0.1.0"
#endif

enum {
	FG_EXIT_OK = 0,
	FG_EXIT_API = 1,		/* the API said no, or answered garbage */
	FG_EXIT_USAGE = 2,		/* bad command line, unreadable file */
	FG_EXIT_UNREACHABLE = 3,	/* no HTTP answer at all */
};

/* The largest file fgctl reads (a rule set, a token): the API itself
 * refuses bodies over 1 MiB, so this only bounds a mistake. */
#define FG_FILE_MAX (64U << 20)

/* fg_oom - report an allocation failure and exit 1. */
void fg_oom(void) __attribute__((noreturn));

/* fg_xrealloc - realloc() that never returns NULL (exits instead). */
void *fg_xrealloc(void *p, size_t n);

/* fg_xstrdup - strdup() that never returns NULL (exits instead). */
char *fg_xstrdup(const char *s);

/* fg_xasprintf - a newly allocated formatted string; never NULL. */
char *fg_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A growable byte buffer, always NUL-terminated once it holds data. */
struct fg_buf {
	char *data;
	size_t len;
	size_t cap;
	bool overflow;		/* an append would have passed the limit */
};

/*
 * fg_buf_append - append n bytes unless the buffer would exceed max bytes.
 * Returns 0, or -E2BIG (and sets overflow) when it would.
 */
int fg_buf_append(struct fg_buf *b, const void *p, size_t n, size_t max);

/* fg_buf_free - release the buffer's memory; accepts an empty buffer. */
void fg_buf_free(struct fg_buf *b);

/*
 * fg_read_file - read a whole file ("-" is stdin) into *out. Returns 0, or
 * FG_EXIT_USAGE after printing why (cannot open, read error, larger than
 * FG_FILE_MAX).
 */
int fg_read_file(const char *path, struct fg_buf *out);

/* fg_json_set - obj[key] = v (stolen), exiting on allocation failure. */
void fg_json_set(json_t *obj, const char *key, json_t *v);

/*
 * fg_json_member - obj[key], made an empty object (array true: an empty
 * array) when obj has no such member yet. Returns a borrowed reference.
 */
json_t *fg_json_member(json_t *obj, const char *key, bool array);

/*
 * fg_json_u64 - obj[key] as a non-negative integer into *out. Returns
 * true when it is one.
 */
bool fg_json_u64(const json_t *obj, const char *key, uint64_t *out);

/* fg_dump - obj as compact JSON text (new string; never NULL). */
char *fg_dump(const json_t *obj);

#endif /* FGCTL_UTIL_H */
