/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * fgctl_table.h - fgctl's human output: rows of text cells printed as
 * left-aligned columns, JSON values as cell text, "key: value" tables of
 * a whole object, and tables of a name -> object map described by a
 * column list.
 */
#ifndef FGCTL_TABLE_H
#define FGCTL_TABLE_H

#include <stddef.h>

#include <jansson.h>

#define FG_TABLE_COLS_MAX 12
#define FG_CELL_MAX 512

/* Rows of text cells printed as left-aligned columns. */
struct fg_table {
	size_t ncols;
	size_t nrows;		/* header row included */
	size_t cap;
	char **cells;		/* nrows * ncols strings */
};

/* fg_table_init - start a table whose first row is the headers. */
void fg_table_init(struct fg_table *t, size_t ncols, const char *const *heads);

/* fg_table_row - append a row of t->ncols cells (copied; NULL is "-"). */
void fg_table_row(struct fg_table *t, const char *const *cells);

/* fg_table_free - release the table's cells; accepts an empty table. */
void fg_table_free(struct fg_table *t);

/* fg_table_print - print the table to stdout, columns two spaces apart,
 * the last column unpadded; then free it. */
void fg_table_print(struct fg_table *t);

/*
 * fg_jfmt - a JSON value as table text in buf: strings as they are,
 * numbers, booleans as yes/no, null or missing as "-", arrays of scalars
 * joined by ", ", other containers as compact JSON (truncated to fit).
 * Returns buf.
 */
const char *fg_jfmt(const json_t *v, char *buf, size_t size);

/* fg_jcell - fg_jfmt of obj[key] into buf. */
const char *fg_jcell(const json_t *obj, const char *key, char *buf, size_t size);

/* fg_kv_add - add one "key:" / value row to a two-column table. */
void fg_kv_add(struct fg_table *t, const char *key, const char *val);

/*
 * fg_kv_members - add "key:" / value rows to a two-column table for every
 * scalar under obj, nested object members as "a.b", arrays of containers
 * as "a[i].b", arrays of scalars joined on one row; skipping the member
 * named skip (NULL: none).
 */
void fg_kv_members(struct fg_table *t, const json_t *obj, const char *skip);

/*
 * fg_sorted_keys - obj's member names sorted (a new array of pointers into
 * obj, which must outlive it); *n gets the count.
 */
const char **fg_sorted_keys(const json_t *obj, size_t *n);

/* One column of a table of objects. */
struct fg_col {
	const char *head;	/* "VIP" */
	const char *key;	/* the member shown (fg_jcell), when fmt is NULL */
	size_t size;		/* the cell's room: longer text is cut at size - 1 */
	/* a cell computed from the whole object: writes buf, returns the text */
	const char *(*fmt)(const json_t *obj, char *buf, size_t size);
};

/*
 * fg_table_init_cols - start a table headed by the nheads heads, then the
 * heads of the ncols columns of cols.
 */
void fg_table_init_cols(struct fg_table *t, const char *const *heads, size_t nheads,
			const struct fg_col *cols, size_t ncols);

/*
 * fg_table_add - append a row: the nnames cells of names, then one cell
 * of obj per column of cols (t->ncols = nnames + the columns).
 */
void fg_table_add(struct fg_table *t, const char *const *names, size_t nnames,
		  const json_t *obj, const struct fg_col *cols);

/*
 * fg_print_map - print the name -> object map as a table: a column of the
 * names, sorted, under head, then ncols columns of cols.
 */
void fg_print_map(const json_t *map, const char *head, const struct fg_col *cols,
		  size_t ncols);

/* fg_print_array - print the array of objects as a table of ncols
 * columns of cols, a row an element. */
void fg_print_array(const json_t *arr, const struct fg_col *cols, size_t ncols);

#endif /* FGCTL_TABLE_H */
