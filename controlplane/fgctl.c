/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * fgctl.c - the Floodgate command-line client: speaks floodgated's REST API
 * (shared/API.md). This file is main and the table of commands; the rest
 * is in its concerns:
 *
 *   fgctl_http.c     the libcurl client: where, who, answers -> exit status
 *   fgctl_args.c     options, numbers, addresses; usage errors
 *   fgctl_table.c    tables of text for the human output
 *   fgctl_rules.c    the kinds of rule and their ls | get | set | rm
 *   fgctl_backend.c  backend add | drain | rm | set-weight
 *   fgctl_cmds.c     status, apply, config, stats, nodes
 *   fgctl_util.c     allocation, buffers, files, JSON helpers
 *
 * Global options may stand anywhere before a "--". Output: human tables by
 * default; --json writes the API's answer body to stdout byte for byte
 * (error bodies too, with the message on stderr). Exit status: 0 ok, 1 the
 * API answered with an error (or with something that is not the API's
 * JSON), 2 usage error, 3 cannot reach the API.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "fgctl.h"
#include "fgctl_rules.h"
#include "fgctl_util.h"

/* ------------------------------------------------------------- help */

/* "fgctl --help" around the list of commands the table makes. */
static const char fg_help_main_head[] =
	"usage: fgctl [--api URL] [--token-file FILE] [--json] [--timeout SECONDS]\n"
	"             COMMAND [ARGS...]\n"
	"\n"
	"fgctl drives floodgated through its REST API: the API at --api URL, else\n"
	"$FLOODGATE_API, else " FG_API_DEFAULT "; the token from --token-file FILE\n"
	"(one trailing newline trimmed), else $FLOODGATE_TOKEN.\n"
	"\n"
	"commands:\n";

static const char fg_help_main_tail[] =
	"\n"
	"global options (anywhere before '--'):\n"
	"  --api URL           the API's base URL\n"
	"  --token-file FILE   read the bearer token from FILE\n"
	"  --json              print the API's JSON answers unchanged\n"
	"  --timeout SECONDS   give up on a request after this long (default 30)\n"
	"  --help, -h          this text; 'fgctl COMMAND --help' for a command\n"
	"  --version           fgctl's version\n"
	"\n"
	"exit status: 0 ok, 1 the API answered with an error, 2 usage error,\n"
	"3 cannot reach the API.\n";

static const char fg_help_status[] =
	"usage: fgctl status\n"
	"\n"
	"Show this node (GET /v1/status): its name, software version, dataplane\n"
	"kind and interfaces, the stored rules_version and the applied_version the\n"
	"dataplane runs, and the store with its health. 'sync' says whether the\n"
	"latest rules are live.\n";

static const char fg_help_service[] =
	"usage: fgctl service ls\n"
	"       fgctl service get NAME\n"
	"       fgctl service set NAME --file FILE [--if-version N]\n"
	"       fgctl service set NAME --vip ADDR --port N [options] [--if-version N]\n"
	"       fgctl service rm NAME [--if-version N]\n"
	"\n"
	"  ls    list the services (GET /v1/services)\n"
	"  get   one service and its backends (GET /v1/services/NAME)\n"
	"  set   create or replace a service (PUT /v1/services/NAME), from a JSON\n"
	"        file ('-' reads stdin, sent unchanged) or from these options:\n"
	"          --vip ADDR            the virtual address (IPv4 or IPv6)\n"
	"          --port N              the port, 0 for every port\n"
	"          --proto tcp|udp\n"
	"          --mode l4|l7\n"
	"          --forward dsr-ipip|dsr-gue|nat\n"
	"          --hash 5tuple|src_ip\n"
	"          --backend ADDR[:PORT][,weight=W][,state=S]   repeatable;\n"
	"                                IPv6 as [2001:db8::1]:8080\n"
	"          --health tcp|http     health checks, with optionally\n"
	"          --health-interval MS --health-timeout MS --health-rise N\n"
	"          --health-fall N --health-port N --health-path PATH\n"
	"          --health-expect STATUS\n"
	"        Values the options leave out take the server's defaults.\n"
	"  rm    delete a service (DELETE /v1/services/NAME)\n"
	"\n"
	"--if-version N makes the write conditional (If-Match: \"N\"): it fails\n"
	"with 412 when the rule set is no longer at version N.\n";

static const char fg_help_backend[] =
	"usage: fgctl backend add SERVICE ADDR[:PORT] [--weight W]\n"
	"       fgctl backend drain SERVICE ADDR[:PORT]\n"
	"       fgctl backend rm SERVICE ADDR[:PORT]\n"
	"       fgctl backend set-weight SERVICE ADDR[:PORT] W\n"
	"\n"
	"  add          add a backend (weight W, else the server's default)\n"
	"  drain        set the backend's state to drain: no new flows,\n"
	"               established flows stay\n"
	"  rm           remove the backend\n"
	"  set-weight   set the backend's weight (0 also drains)\n"
	"\n"
	"IPv6 addresses with a port are written [2001:db8::1]:8080. Without a\n"
	"port, ADDR names the one backend with that address (the service's port\n"
	"when adding).\n"
	"\n"
	"Each command reads the service (GET /v1/services/SERVICE), changes its\n"
	"backends and writes it back (PUT) with If-Match set to the ETag of the\n"
	"read, so nothing another client wrote in between is lost. When that\n"
	"write fails with 412 (the rule set changed meanwhile) fgctl starts over\n"
	"from the read, at most 3 more times, then reports the conflict (exit 1).\n";

static const char fg_help_limit[] =
	"usage: fgctl limit ls\n"
	"       fgctl limit get NAME\n"
	"       fgctl limit set NAME --file FILE [--if-version N]\n"
	"       fgctl limit set NAME --unit U --rate R [options] [--if-version N]\n"
	"       fgctl limit rm NAME [--if-version N]\n"
	"\n"
	"  ls    list the rate limits (GET /v1/limits)\n"
	"  get   one limit (GET /v1/limits/NAME)\n"
	"  set   create or replace a limit (PUT /v1/limits/NAME), from a JSON\n"
	"        file ('-' reads stdin, sent unchanged) or from these options:\n"
	"          --service S           apply to service S's traffic only\n"
	"          --key K               src_ip, src_prefix/N, flow, service\n"
	"          --unit U              pps, bps, cps, rps\n"
	"          --rate R              units per second\n"
	"          --burst B             bucket size, in units\n"
	"          --action A            drop, reset, respond\n"
	"          --match-src CIDR      only from these sources\n"
	"          --match-proto P       only tcp or udp\n"
	"          --match-dport N       only to this destination port\n"
	"          --scope node|cluster  rate per node or for the whole cluster\n"
	"          --dry-run             count what would be limited, change nothing\n"
	"        Values the options leave out take the server's defaults.\n"
	"  rm    delete a limit (DELETE /v1/limits/NAME)\n"
	"\n"
	"--if-version N makes the write conditional (If-Match: \"N\").\n";

static const char fg_help_route[] =
	"usage: fgctl route ls\n"
	"       fgctl route get NAME\n"
	"       fgctl route set NAME --file FILE [--if-version N]\n"
	"       fgctl route set NAME --service S [options] [--if-version N]\n"
	"       fgctl route rm NAME [--if-version N]\n"
	"\n"
	"HTTP routes of l7 services (API.md Route): the highest-priority route\n"
	"whose every match field holds picks the backends.\n"
	"\n"
	"  ls    list the routes (GET /v1/routes)\n"
	"  get   one route (GET /v1/routes/NAME)\n"
	"  set   create or replace a route (PUT /v1/routes/NAME), from a JSON\n"
	"        file ('-' reads stdin, sent unchanged; needed for header\n"
	"        matches) or from these options:\n"
	"          --service S           the l7 service it routes for\n"
	"          --priority N          higher wins among matching routes\n"
	"          --host H              host name, or *.domain for subdomains\n"
	"          --method M            GET, POST, ...\n"
	"          --path-prefix P       path starts with P\n"
	"          --path-regex R        path matches R (hyperscan syntax)\n"
	"          --backend ADDR[:PORT][,weight=W][,state=S]   repeatable\n"
	"        Values the options leave out take the server's defaults.\n"
	"  rm    delete a route (DELETE /v1/routes/NAME)\n"
	"\n"
	"--if-version N makes the write conditional (If-Match: \"N\").\n";

static const char fg_help_seckill[] =
	"usage: fgctl seckill ls\n"
	"       fgctl seckill get NAME\n"
	"       fgctl seckill set NAME --file FILE [--if-version N]\n"
	"       fgctl seckill set NAME --service S --rate R [options] [--if-version N]\n"
	"       fgctl seckill rm NAME [--if-version N]\n"
	"\n"
	"Flash-sale admission rules of l7 services (API.md Seckill).\n"
	"\n"
	"  ls    list the rules (GET /v1/seckill)\n"
	"  get   one rule (GET /v1/seckill/NAME)\n"
	"  set   create or replace a rule (PUT /v1/seckill/NAME), from a JSON\n"
	"        file ('-' reads stdin, sent unchanged; needed for items,\n"
	"        per_client, respond and sold_out) or from these options:\n"
	"          --service S           the l7 service\n"
	"          --item SPEC           segment:N, query:NAME or header:NAME\n"
	"          --max-items N         distinct items at most (without items)\n"
	"          --rate R              admitted requests per second per item\n"
	"          --burst B             bucket size, in requests\n"
	"          --stock N             at most N admitted per item, ever\n"
	"          --start T, --end T    the sale's window (RFC 3339, UTC)\n"
	"          --host H, --method M, --path-prefix P, --path-regex R\n"
	"                                which requests the rule judges\n"
	"        Values the options leave out take the server's defaults.\n"
	"  rm    delete a rule (DELETE /v1/seckill/NAME)\n"
	"\n"
	"--if-version N makes the write conditional (If-Match: \"N\").\n";

static const char fg_help_apply[] =
	"usage: fgctl apply -f FILE [--if-version N]\n"
	"\n"
	"Replace the whole rule set atomically with FILE (PUT /v1/config; '-'\n"
	"reads stdin). The file is the body, sent unchanged: {\"services\": {...},\n"
	"\"limits\": {...}, \"routes\": {...}, \"seckill\": {...}}, without \"version\".\n"
	"\n"
	"  -f, --file FILE    the rule set\n"
	"  --if-version N     apply only if the rule set is still at version N\n"
	"                     (If-Match: \"N\"); else 412 and nothing changes\n";

static const char fg_help_config[] =
	"usage: fgctl config get\n"
	"\n"
	"  get   the whole rule set (GET /v1/config): its version and a summary\n"
	"        of services, limits, routes and seckill rules; with --json the\n"
	"        JSON that 'fgctl apply' takes (less \"version\").\n";

static const char fg_help_stats[] =
	"usage: fgctl stats [--watch [SECONDS]] [--count N]\n"
	"\n"
	"Show the counters (GET /v1/stats): services (packets, bytes, new flows),\n"
	"their backends (packets, new flows, healthy), limits (passed, limited),\n"
	"routes and flash-sale rules and their items when there are any (with\n"
	"the stock this node claimed for a rule, and its undersell: stock claimed\n"
	"by dataplane engines that ended before spending it), and drops by\n"
	"reason.\n"
	"\n"
	"  --watch [SECONDS]   redraw every SECONDS (default 1, fractions allowed)\n"
	"                      until interrupted (Ctrl-C)\n"
	"  --count N           stop after N refreshes (implies --watch)\n"
	"\n"
	"With --json each refresh prints the API's answer unchanged, followed by\n"
	"a newline when it has none.\n";

static const char fg_help_nodes[] =
	"usage: fgctl nodes\n"
	"\n"
	"List the cluster members (GET /v1/nodes): name, group, address, the\n"
	"rule version each has applied, and whether it is alive.\n";

/* -------------------------------------------------------- commands */

/* The commands, in the order "fgctl --help" lists them. */
static const struct fg_command fg_commands[] = {
	{ "status", "this node: name, software, dataplane, rule versions, store",
	  fg_help_status, fg_cmd_status, NULL },
	{ "service", "ls | get | set | rm: virtual services",
	  fg_help_service, fg_cmd_rule, &fg_kinds[FG_KIND_SERVICE] },
	{ "backend", "add | drain | rm | set-weight: one backend of a service",
	  fg_help_backend, fg_cmd_backend, NULL },
	{ "limit", "ls | get | set | rm: rate limits",
	  fg_help_limit, fg_cmd_rule, &fg_kinds[FG_KIND_LIMIT] },
	{ "route", "ls | get | set | rm: HTTP routes of l7 services",
	  fg_help_route, fg_cmd_rule, &fg_kinds[FG_KIND_ROUTE] },
	{ "seckill", "ls | get | set | rm: flash-sale admission rules",
	  fg_help_seckill, fg_cmd_rule, &fg_kinds[FG_KIND_SECKILL] },
	{ "apply", "replace the whole rule set from a file (PUT /v1/config)",
	  fg_help_apply, fg_cmd_apply, NULL },
	{ "config", "get: the whole rule set (GET /v1/config)",
	  fg_help_config, fg_cmd_config, NULL },
	{ "stats", "counters, once or redrawn with --watch",
	  fg_help_stats, fg_cmd_stats, NULL },
	{ "nodes", "cluster members",
	  fg_help_nodes, fg_cmd_nodes, NULL },
	{ NULL, NULL, NULL, NULL, NULL },
};

/* fg_main_help - "fgctl --help" to f: the list of commands from the table. */
static void fg_main_help(FILE *f)
{
	const struct fg_command *cmd;

	fputs(fg_help_main_head, f);
	for (cmd = fg_commands; cmd->name; cmd++)
		fprintf(f, "  %-10s%s\n", cmd->name, cmd->summary);
	fputs(fg_help_main_tail, f);
}

/* ------------------------------------------------------------- main */

/*
 * fg_take_globals - move the global options (--api, --token-file, --json,
 * --timeout, in "--opt VALUE" or "--opt=VALUE" form) out of argv into c,
 * anywhere before a "--"; the other words stay in order in argv, their
 * count in *argc. Returns 0 or FG_EXIT_USAGE.
 */
static int fg_take_globals(struct fg_ctx *c, int *argc, char **argv)
{
	static const char *const names[] = { "--api", "--token-file", "--timeout", NULL };
	int i, out = 1, k;

	for (i = 1; i < *argc; i++) {
		const char *w = argv[i], *val = NULL;
		size_t nlen;

		if (!strcmp(w, "--")) {
			while (i < *argc)
				argv[out++] = argv[i++];
			break;
		}
		if (!strcmp(w, "--json")) {
			c->json = true;
			continue;
		}
		nlen = strchr(w, '=') ? (size_t)(strchr(w, '=') - w) : strlen(w);
		for (k = 0; names[k]; k++)
			if (strlen(names[k]) == nlen && !strncmp(w, names[k], nlen))
				break;
		if (!names[k]) {
			argv[out++] = argv[i];
			continue;
		}
		if (w[nlen] == '=')
			val = w + nlen + 1;
		else if (i + 1 < *argc)
			val = argv[++i];
		else
			return fg_usage_error(NULL, "%s needs a value", names[k]);
		if (k == 0) {
			c->api_arg = val;
		} else if (k == 1) {
			if (!*val)
				return fg_usage_error(NULL, "--token-file: empty file name");
			c->token_file = val;
		} else {
			uint64_t t;
			int rc = fg_parse_u64(NULL, "--timeout", val, FG_TIMEOUT_MAX, &t);

			if (rc)
				return rc;
			if (!t)
				return fg_usage_error(NULL, "--timeout: must be at least 1 second");
			c->timeout_s = (long)t;
		}
	}
	*argc = out;
	argv[out] = NULL;
	return 0;
}

/* main - parse the global options, run the command, return its exit
 * status (see the file comment). */
int main(int argc, char **argv)
{
	struct fg_ctx c = { .timeout_s = FG_TIMEOUT_DEF };
	struct fg_args a;
	const struct fg_command *cmd;
	int rc;

	rc = fg_take_globals(&c, &argc, argv);
	if (rc)
		return rc;
	if (argc < 2) {
		fputs("fgctl: missing the command\n", stderr);
		fg_main_help(stderr);
		return FG_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fg_main_help(stdout);
		return FG_EXIT_OK;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("fgctl %s\n", FG_VERSION);
		return FG_EXIT_OK;
	}
	for (cmd = fg_commands; cmd->name; cmd++)
		if (!strcmp(argv[1], cmd->name))
			break;
	if (!cmd->name) {
		if (argv[1][0] == '-')
			return fg_usage_error(NULL, "unknown option '%s'", argv[1]);
		return fg_usage_error(NULL, "unknown command '%s'", argv[1]);
	}
	rc = fg_http_init();
	if (rc)
		return rc;
	a = (struct fg_args){ .argc = argc, .argv = argv, .i = 2, .cmd = cmd->name };
	rc = cmd->run(&c, &a, cmd);
	fflush(stdout);
	fg_http_exit(&c);
	return rc;
}
