/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * fgctl_util.c - fgctl's allocation, buffer, file and JSON helpers (see
 * fgctl_util.h).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE		/* vasprintf */
#endif

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fg_strf.h"
#include "fgctl_util.h"

void fg_oom(void)
{
	fputs("fgctl: out of memory\n", stderr);
	exit(FG_EXIT_API);
}

void *fg_xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		fg_oom();
	return p;
}

char *fg_xstrdup(const char *s)
{
	char *d = strdup(s);

	if (!d)
		fg_oom();
	return d;
}

char *fg_xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = fg_vstrf(fmt, ap);
	va_end(ap);
	if (!s)
		fg_oom();
	return s;
}

int fg_buf_append(struct fg_buf *b, const void *p, size_t n, size_t max)
{
	if (n > max || b->len > max - n) {
		b->overflow = true;
		return -E2BIG;
	}
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;

		while (cap < b->len + n + 1)
			cap *= 2;
		b->data = fg_xrealloc(b->data, cap);
		b->cap = cap;
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

void fg_buf_free(struct fg_buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

int fg_read_file(const char *path, struct fg_buf *out)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	char chunk[65536];
	size_t n;
	int rc = 0;

	if (!f) {
		fprintf(stderr, "fgctl: cannot open %s: %s\n", path, strerror(errno));
		return FG_EXIT_USAGE;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (fg_buf_append(out, chunk, n, FG_FILE_MAX)) {
			fprintf(stderr, "fgctl: %s: larger than %u MiB\n",
				path, FG_FILE_MAX >> 20);
			rc = FG_EXIT_USAGE;
			break;
		}
	}
	if (!rc && ferror(f)) {
		fprintf(stderr, "fgctl: cannot read %s: %s\n", path, strerror(errno));
		rc = FG_EXIT_USAGE;
	}
	if (f != stdin)
		fclose(f);
	if (!rc && !out->data)
		fg_buf_append(out, "", 0, FG_FILE_MAX);	/* empty, but not NULL */
	return rc;
}

void fg_json_set(json_t *obj, const char *key, json_t *v)
{
	if (!v || json_object_set_new(obj, key, v))
		fg_oom();
}

json_t *fg_json_member(json_t *obj, const char *key, bool array)
{
	json_t *v = json_object_get(obj, key);

	if (!v) {
		v = array ? json_array() : json_object();
		fg_json_set(obj, key, v);
	}
	return v;
}

bool fg_json_u64(const json_t *obj, const char *key, uint64_t *out)
{
	json_t *v = json_object_get(obj, key);

	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return false;
	*out = (uint64_t)json_integer_value(v);
	return true;
}

char *fg_dump(const json_t *obj)
{
	char *s = json_dumps(obj, JSON_COMPACT);

	if (!s)
		fg_oom();
	return s;
}
