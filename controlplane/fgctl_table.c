/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * fgctl_table.c - fgctl's tables (see fgctl_table.h).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fgctl_table.h"
#include "fgctl_util.h"

/* ------------------------------------------------------------ tables */

void fg_table_row(struct fg_table *t, const char *const *cells)
{
	size_t k;

	if (t->nrows == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 16;
		t->cells = fg_xrealloc(t->cells, t->cap * t->ncols * sizeof(char *));
	}
	for (k = 0; k < t->ncols; k++)
		t->cells[t->nrows * t->ncols + k] = fg_xstrdup(cells[k] ? cells[k] : "-");
	t->nrows++;
}

void fg_table_init(struct fg_table *t, size_t ncols, const char *const *heads)
{
	memset(t, 0, sizeof(*t));
	t->ncols = ncols;
	fg_table_row(t, heads);
}

void fg_table_free(struct fg_table *t)
{
	size_t i;

	for (i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	memset(t, 0, sizeof(*t));
}

void fg_table_print(struct fg_table *t)
{
	size_t w[FG_TABLE_COLS_MAX] = { 0 };
	size_t r, k, n;

	for (r = 0; r < t->nrows; r++)
		for (k = 0; k < t->ncols; k++) {
			n = strlen(t->cells[r * t->ncols + k]);
			if (n > w[k])
				w[k] = n;
		}
	for (r = 0; r < t->nrows; r++) {
		for (k = 0; k < t->ncols; k++) {
			const char *s = t->cells[r * t->ncols + k];

			if (k + 1 < t->ncols)
				printf("%-*s  ", (int)w[k], s);
			else
				printf("%s\n", s);
		}
	}
	fg_table_free(t);
}

/* ------------------------------------------------------------ cells */

const char *fg_jfmt(const json_t *v, char *buf, size_t size)
{
	size_t i, off = 0;
	json_t *el;
	char *s;

	if (json_is_array(v)) {
		bool scalars = true;

		json_array_foreach(v, i, el)
			if (json_is_object(el) || json_is_array(el))
				scalars = false;
		if (scalars) {
			snprintf(buf, size, "-");
			json_array_foreach(v, i, el) {
				char one[FG_CELL_MAX];

				fg_jfmt(el, one, sizeof(one));
				if (off < size)
					off += (size_t)snprintf(buf + off, size - off, "%s%s",
								i ? ", " : "", one);
			}
			return buf;
		}
	}
	switch (v ? json_typeof(v) : JSON_NULL) {
	case JSON_STRING:
		snprintf(buf, size, "%s", json_string_value(v));
		break;
	case JSON_INTEGER:
		snprintf(buf, size, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		break;
	case JSON_REAL:
		snprintf(buf, size, "%g", json_real_value(v));
		break;
	case JSON_TRUE:
		snprintf(buf, size, "yes");
		break;
	case JSON_FALSE:
		snprintf(buf, size, "no");
		break;
	case JSON_ARRAY:	/* of containers */
	case JSON_OBJECT:
		s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
		snprintf(buf, size, "%s", s ? s : "?");
		free(s);
		break;
	default:
		snprintf(buf, size, "-");
		break;
	}
	return buf;
}

const char *fg_jcell(const json_t *obj, const char *key, char *buf, size_t size)
{
	return fg_jfmt(json_object_get(obj, key), buf, size);
}

void fg_kv_add(struct fg_table *t, const char *key, const char *val)
{
	char *k = fg_xasprintf("%s:", key);
	const char *row[2] = { k, val };

	t->ncols = 2;
	fg_table_row(t, row);
	free(k);
}

/*
 * fg_kv_collect - add "key:" / value rows to a two-column table for every
 * scalar under v, nested object members as "a.b", arrays of containers as
 * "a[i].b", arrays of scalars joined on one row.
 */
static void fg_kv_collect(struct fg_table *t, const char *prefix, const json_t *v)
{
	char val[FG_CELL_MAX];
	const char *key;
	json_t *el;
	size_t i;

	if (json_is_object(v) && json_object_size(v)) {
		json_object_foreach((json_t *)v, key, el) {
			char *sub = prefix ? fg_xasprintf("%s.%s", prefix, key) : fg_xstrdup(key);

			fg_kv_collect(t, sub, el);
			free(sub);
		}
		return;
	}
	if (json_is_array(v) && json_array_size(v)) {
		bool scalars = true;

		json_array_foreach(v, i, el)
			if (json_is_object(el) || json_is_array(el))
				scalars = false;
		if (!scalars) {
			json_array_foreach(v, i, el) {
				char *sub = fg_xasprintf("%s[%zu]", prefix ? prefix : "", i);

				fg_kv_collect(t, sub, el);
				free(sub);
			}
			return;
		}
	}
	fg_kv_add(t, prefix ? prefix : "value", fg_jfmt(v, val, sizeof(val)));
}

void fg_kv_members(struct fg_table *t, const json_t *obj, const char *skip)
{
	const char *key;
	json_t *el;

	t->ncols = 2;
	json_object_foreach((json_t *)obj, key, el) {
		if (skip && !strcmp(key, skip))
			continue;
		fg_kv_collect(t, key, el);
	}
}

/* fg_strcmp_p - qsort comparator for an array of C strings. */
static int fg_strcmp_p(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

const char **fg_sorted_keys(const json_t *obj, size_t *n)
{
	const char **keys = fg_xrealloc(NULL, (json_object_size(obj) + 1) * sizeof(char *));
	const char *key;
	json_t *el;

	*n = 0;
	json_object_foreach((json_t *)obj, key, el)
		keys[(*n)++] = key;
	qsort(keys, *n, sizeof(char *), fg_strcmp_p);
	return keys;
}

/* ------------------------------------------------------------- maps */

void fg_table_add(struct fg_table *t, const char *const *names, size_t nnames,
		  const json_t *obj, const struct fg_col *cols)
{
	char cells[FG_TABLE_COLS_MAX][FG_CELL_MAX];
	const char *row[FG_TABLE_COLS_MAX];
	const struct fg_col *col;
	size_t k, size;

	for (k = 0; k < t->ncols && k < FG_TABLE_COLS_MAX; k++) {
		if (k < nnames) {
			row[k] = names[k];
			continue;
		}
		col = &cols[k - nnames];
		size = col->size < sizeof(cells[k]) ? col->size : sizeof(cells[k]);
		row[k] = col->fmt ? col->fmt(obj, cells[k], size) :
			 fg_jcell(obj, col->key, cells[k], size);
	}
	fg_table_row(t, row);
}

void fg_table_init_cols(struct fg_table *t, const char *const *heads, size_t nheads,
			const struct fg_col *cols, size_t ncols)
{
	const char *row[FG_TABLE_COLS_MAX];
	size_t k;

	for (k = 0; k < nheads + ncols && k < FG_TABLE_COLS_MAX; k++)
		row[k] = k < nheads ? heads[k] : cols[k - nheads].head;
	fg_table_init(t, k, row);
}

void fg_print_map(const json_t *map, const char *head, const struct fg_col *cols,
		  size_t ncols)
{
	struct fg_table t;
	const char **keys;
	size_t n, i;

	fg_table_init_cols(&t, &head, 1, cols, ncols);
	keys = fg_sorted_keys(map, &n);
	for (i = 0; i < n; i++)
		fg_table_add(&t, &keys[i], 1, json_object_get(map, keys[i]), cols);
	free(keys);
	fg_table_print(&t);
}

void fg_print_array(const json_t *arr, const struct fg_col *cols, size_t ncols)
{
	struct fg_table t;
	json_t *el;
	size_t i;

	fg_table_init_cols(&t, NULL, 0, cols, ncols);
	json_array_foreach(arr, i, el)
		fg_table_add(&t, NULL, 0, el, cols);
	fg_table_print(&t);
}
