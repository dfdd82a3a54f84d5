/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * fgctl_args.h - fgctl's argument handling: a cursor over a command's
 * words with GNU-style options, the checks of form fgctl makes on values
 * (whole numbers, IP literals, ADDR[:PORT] backends, CIDRs), and the
 * usage errors (exit 2) they fail with.
 *
 * Only form is checked here; what the values mean (ranges, enums,
 * required fields, references between rules) is the server's to judge,
 * so a newer daemon's additions work without a newer fgctl.
 */
#ifndef FGCTL_ARGS_H
#define FGCTL_ARGS_H

#include <arpa/inet.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

enum {
	FG_ARG_NONE,		/* a flag */
	FG_ARG_REQ,		/* --opt VALUE or --opt=VALUE */
	FG_ARG_OPTNUM,		/* --opt [NUMBER]: takes the next word if it is a number */
};

/* One option a command accepts. */
struct fg_opt {
	const char *name;	/* "--file", "-f" */
	int arg;
};

/* A cursor over a command's words. */
struct fg_args {
	int argc;
	char **argv;
	int i;
	bool dashdash;		/* past "--": everything is positional */
	const char *cmd;	/* "service set", for messages */
};

/* What fg_opt_next returns besides an option's index. */
enum {
	FG_OPT_END = -1,	/* no more words */
	FG_OPT_POS = -2,	/* a positional word in *val */
	FG_OPT_HELP = -3,	/* --help or -h */
	FG_OPT_ERR = -4,	/* bad option, message printed */
	FG_OPT_DONE = -5,	/* fg_opt_only: the command is done, see *rc */
};

/* fg_usage_error - print "fgctl CMD: message" and where help is; returns
 * FG_EXIT_USAGE. cmd NULL: a global error ("fgctl: message"). */
int fg_usage_error(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * fg_opt_next - the next word of a command: an option of opts (returns its
 * index, its value in *val, NULL for flags and absent optional numbers), a
 * positional word (FG_OPT_POS, *val), --help (FG_OPT_HELP), the end
 * (FG_OPT_END), or a bad word (FG_OPT_ERR, message printed). A lone "-"
 * is positional (stdin); "--" ends the options.
 */
int fg_opt_next(struct fg_args *a, const struct fg_opt *opts, const char **val);

/*
 * fg_opt_only - fg_opt_next for a command that takes options and no
 * positional words: an option's index (its value in *val) or FG_OPT_END;
 * else FG_OPT_DONE with *rc the exit status, after printing help (--help)
 * or a usage error (a bad option, any positional word).
 */
int fg_opt_only(struct fg_args *a, const struct fg_opt *opts, const char *help,
		const char **val, int *rc);

/* fg_is_number - true when s looks like a non-negative decimal number
 * (digits with at most one '.'), as --watch's optional value must. */
bool fg_is_number(const char *s);

/*
 * fg_parse_u64 - parse a whole decimal number (digits only) no larger than
 * max into *out. Returns 0, or FG_EXIT_USAGE after printing "what: ...".
 */
int fg_parse_u64(const char *cmd, const char *what, const char *s,
		 uint64_t max, uint64_t *out);

/*
 * fg_parse_if_version - check --if-version's value is a whole number and
 * copy it to out (the digits go into If-Match: "N"). Returns 0 or
 * FG_EXIT_USAGE.
 */
int fg_parse_if_version(const char *cmd, const char *v, char *out, size_t size);

/* fg_extra_word - fail with a usage error about the unexpected word w;
 * returns FG_EXIT_USAGE. */
int fg_extra_word(const struct fg_args *a, const char *w);

/* fg_help - print a help text to stdout; returns FG_EXIT_OK. */
int fg_help(const char *text);

/* fg_no_args - accept only --help after a command that takes nothing;
 * returns -1 to go on, else the exit status. */
int fg_no_args(struct fg_args *a, const char *help);

/*
 * fg_name_arg - parse "NAME [--if-version N]" (ifv NULL: NAME only), for
 * get and rm; prints help on --help (*helped set). Returns 0 or the exit
 * status.
 */
int fg_name_arg(struct fg_args *a, const char *help, const char **name,
		char *ifv, size_t ifv_size, bool *helped);

/*
 * fg_subcommand - the subcommand word after "fgctl <group>", one of the
 * NULL-terminated subs: returns its index, or -1 with *rc set (help
 * printed on --help, usage error otherwise). a->cmd becomes
 * "<group> <sub>", kept in cmdbuf.
 */
int fg_subcommand(struct fg_args *a, const char *group, const char *help,
		  const char *const *subs, char *cmdbuf, size_t size, int *rc);

/* A backend as the command line names it. */
struct fg_bspec {
	char addr[INET6_ADDRSTRLEN];	/* the literal, without brackets */
	int family;			/* AF_INET or AF_INET6 */
	unsigned char bin[16];		/* the address, for comparisons */
	bool has_port;
	uint64_t port;
	bool has_weight;
	uint64_t weight;
	const char *state;		/* NULL: not given */
};

/*
 * fg_parse_ip - parse the IP literal s (len bytes) into family/bin/text.
 * Returns true when it is an IPv4 or IPv6 literal.
 */
bool fg_parse_ip(const char *s, size_t len, struct fg_bspec *b);

/*
 * fg_check_cidr - true when s is ADDR or ADDR/DIGITS with ADDR an IP
 * literal (whether the prefix length fits is the server's call).
 */
bool fg_check_cidr(const char *s);

/*
 * fg_parse_backend - parse ADDR[:PORT] (IPv6 as [ADDR]:PORT or a bare
 * ADDR), followed, when opts is true, by ",weight=W" and ",state=S" in any
 * order. Returns 0, or FG_EXIT_USAGE after printing why.
 */
int fg_parse_backend(const char *cmd, const char *s, bool opts, struct fg_bspec *b);

/*
 * fg_bspec_json - the API backend object for b: addr, and port, weight,
 * state when given. Returns a new reference.
 */
json_t *fg_bspec_json(const struct fg_bspec *b);

/* fg_bspec_text - ADDR[:PORT] for messages, IPv6 bracketed with a port.
 * Returns buf. */
const char *fg_bspec_text(const struct fg_bspec *b, char *buf, size_t size);

#endif /* FGCTL_ARGS_H */
