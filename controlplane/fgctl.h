/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * fgctl.h - fgctl's table of commands: what a command is, and the
 * handlers the table in fgctl.c names (each defined in the file of its
 * concern: fgctl_rules.c for the rule kinds, fgctl_backend.c, and
 * fgctl_cmds.c for the rest).
 */
#ifndef FGCTL_H
#define FGCTL_H

#include "fgctl_args.h"
#include "fgctl_http.h"

struct fg_kind;

/* A top-level command. */
struct fg_command {
	const char *name;	/* the word after "fgctl" */
	const char *summary;	/* its line in "fgctl --help" */
	const char *help;	/* "fgctl NAME --help", usage first */
	/* run the command on the words after its name; returns the exit status */
	int (*run)(struct fg_ctx *c, struct fg_args *a, const struct fg_command *self);
	const struct fg_kind *kind;	/* for fg_cmd_rule: the kind of rule */
};

/* fg_cmd_rule - "fgctl <kind> ls|get|set|rm" for self->kind. */
int fg_cmd_rule(struct fg_ctx *c, struct fg_args *a, const struct fg_command *self);

/* fg_cmd_backend - "fgctl backend add|drain|rm|set-weight SERVICE ADDR[:PORT] ...". */
int fg_cmd_backend(struct fg_ctx *c, struct fg_args *a, const struct fg_command *self);

/* fg_cmd_status - "fgctl status". */
int fg_cmd_status(struct fg_ctx *c, struct fg_args *a, const struct fg_command *self);

/* fg_cmd_apply - "fgctl apply -f FILE [--if-version N]". */
int fg_cmd_apply(struct fg_ctx *c, struct fg_args *a, const struct fg_command *self);

/* fg_cmd_config - "fgctl config get". */
int fg_cmd_config(struct fg_ctx *c, struct fg_args *a, const struct fg_command *self);

/* fg_cmd_stats - "fgctl stats [--watch [SECONDS]] [--count N]". */
int fg_cmd_stats(struct fg_ctx *c, struct fg_args *a, const struct fg_command *self);

/* fg_cmd_nodes - "fgctl nodes". */
int fg_cmd_nodes(struct fg_ctx *c, struct fg_args *a, const struct fg_command *self);

#endif /* FGCTL_H */
