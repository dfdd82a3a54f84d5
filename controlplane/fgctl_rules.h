/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * fgctl_rules.h - the kinds of rule fgctl edits (services, limits; routes
 * and seckill rules next) as entries of one table, and the one set of
 * "ls | get | set | rm" commands that works on any of them.
 *
 * A kind is data: where it lives in the API, the options "set" builds it
 * from (each option a field of the JSON object), the columns of its list
 * and the member "get" shows as a table of its own. A new kind is one
 * entry in fg_kinds[] and one row in the command table, not another copy
 * of the commands.
 */
#ifndef FGCTL_RULES_H
#define FGCTL_RULES_H

#include <stddef.h>

#include <jansson.h>

#include "fgctl_table.h"

/* How "set" checks an option's value and what it makes of it. */
enum fg_ftype {
	FG_F_STR,	/* a string that must not be empty */
	FG_F_TEXT,	/* any string */
	FG_F_HEAD,	/* a string that leads its object: it is put first, and
			 * the object's other fields need it */
	FG_F_UINT,	/* a whole number */
	FG_F_TRUE,	/* a flag: true */
	FG_F_IP,	/* an IP literal */
	FG_F_CIDR,	/* ADDR or ADDR/LEN */
	FG_F_BACKEND,	/* ADDR[:PORT][,weight=W][,state=S], appended to an array */
};

/* One option of "set": a field of the rule's JSON object. */
struct fg_field {
	const char *opt;	/* "--vip" */
	enum fg_ftype type;
	const char *in;		/* NULL: a member of the rule; else of its member
				 * object `in` ("health") */
	const char *key;	/* the JSON member it sets */
	const char *meta;	/* FG_F_HEAD: its values, for the message of a
				 * field given without it ("tcp|http") */
};

/* The most fields a kind's "set" takes. */
#define FG_FIELDS_MAX 24

/* A kind of rule. */
struct fg_kind {
	const char *name;	/* "service": the noun in messages, the member
				 * of a wrapped answer ({"service": {...}}) */
	const char *plural;	/* "services": /v1/<plural>, the member of a
				 * list answer and of the rule set */
	const struct fg_field *fields;	/* "set"'s options */
	size_t nfields;
	const char *fields_hint;	/* the usual fields, for "give --file or ..." */
	const struct fg_col *cols;	/* the list's columns after NAME */
	size_t ncols;
	const char *detail;	/* an array member "get" shows as a table of
				 * its own ("backends"), or NULL */
	const struct fg_col *detail_cols;
	size_t detail_ncols;
};

enum { FG_KIND_SERVICE, FG_KIND_LIMIT, FG_KIND_ROUTE, FG_KIND_SECKILL,
       FG_KIND_COUNT };

/* The kinds, in the order "config get" shows them. */
extern const struct fg_kind fg_kinds[FG_KIND_COUNT];

/*
 * fg_rule_unwrap - the rule object in a GET /v1/<plural>/<name> answer:
 * root[k->name] when the answer wraps it, else root. Returns a borrowed
 * reference, or NULL when that is not an object.
 */
json_t *fg_rule_unwrap(const struct fg_kind *k, json_t *root);

/* fg_print_rules - the list table of a name -> rule map ("no <plural>"
 * when empty or NULL). */
void fg_print_rules(const struct fg_kind *k, const json_t *map);

#endif /* FGCTL_RULES_H */
