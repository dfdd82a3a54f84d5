/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * fg_boot.h - floodgated's boot file (libconfig syntax): the one place
 * that parses it (STYLE.md) into a validated, flat struct fg_boot_config.
 *
 * Every problem found is collected with the file and line it concerns -
 * not only the first - so that `floodgated --check -c FILE` can print them
 * all as "file:line: message" and exit 1. Unknown settings, wrong types
 * (string vs integer vs list), out-of-range numbers, malformed names,
 * addresses and paths are errors. Settings valid for one kind only (say
 * store.data_dir with kind "etcd") are errors under the other.
 *
 * The settings, with their defaults ("required" ones have none):
 *
 *   node = {
 *     name  = required, [a-z0-9][a-z0-9_-]{0,62}
 *     group = "default"               the only group accepted until node
 *                                     groups exist (any other value is an
 *                                     error, never silently ignored)
 *   };
 *   api = {
 *     listen     = "127.0.0.1:7380"   "ADDR:PORT" or "[V6ADDR]:PORT",
 *                                     IP literals only, port 1..65535
 *     token_file = none (no auth)     absolute path of a regular, readable,
 *                                     non-empty file: the bearer token,
 *                                     RFC 6750 characters, surrounding
 *                                     white space (a final newline) ignored,
 *                                     at most FG_BOOT_TOKEN_MAX - 1 bytes
 *     allow_no_token = false          true: let an API that listens
 *                                     beyond loopback run without a
 *                                     token. Without it such a listen
 *                                     address and no token_file is an
 *                                     error: on an edge box an open API
 *                                     is anyone rewriting the rules.
 *   };                                (the whole group is optional)
 *   store = {                         (optional: embedded, defaults below)
 *     kind = "embedded"               | "etcd"
 *     # kind "embedded": a private etcd member whose client and peer
 *     # listeners are Unix sockets in a 0700 directory under data_dir
 *     # (no TCP port: only floodgated can reach it)
 *     data_dir    = "/var/lib/floodgate"   absolute path
 *                                          or on every address
 *     # kind "etcd": an etcd cluster
 *     endpoints = required, 1..FG_BOOT_ENDPOINTS_MAX URLs
 *                 "http[s]://HOST[:PORT]" (HOST a name or an IP literal,
 *                 IPv6 in brackets)
 *     prefix    = "/floodgate"     "/seg[/seg...]", seg of [A-Za-z0-9._-]
 *     ca_file, cert_file, key_file = none   absolute, readable; cert_file
 *                                           and key_file go together
 *   };
 *   dataplane = {                     (required)
 *     kind = required, "xdp" | "dpdk"
 *     # kind "xdp"
 *     interfaces     = required, 1..FG_BOOT_IFACES_MAX distinct names
 *     mode           = "native"       | "generic" (skb mode, any driver)
 *     tunnel_source  = none           an address, or a list of at most one
 *                                     IPv4 and one IPv6; none = the first
 *                                     interface's own address (API.md)
 *     snat_addresses = none           the same shape; none = tunnel_source
 *     conntrack = {
 *       established   = 2097152       1024..67108864 entries; xdp rounds
 *       syn           = 262144        1024..67108864   these two up to 2^n
 *       nat           = 1048576       1024..67108864
 *       tcp_timeout_s = 300           10..86400
 *       udp_timeout_s = 30            1..3600
 *     };
 *     ring_slots     = 4194304        65537..134217728 (all Maglev rings)
 *     limit_buckets  = 1048576        1024..67108864 token-bucket states
 *     gue_port       = 6080           1..65535, UDP port of dsr-gue
 *     # kind "dpdk": floodgate-dpdk runs apart, with its own settings
 *     control_socket = "/run/floodgate/<node.name>/dpdk.sock"
 *                                     absolute path, < 108 bytes (sun_path):
 *                                     floodgate-dpdk's control socket
 *     control_timeout_ms = 5000       100..600000: how long a push (its
 *                                     tables built and switched) or a
 *                                     question may take to be answered
 *     dpdk = {                        (optional) who runs floodgate-dpdk
 *       mode = "attach"               | "start". attach: systemd (or the
 *                                     operator) runs it; floodgated
 *                                     connects, and reconnects with backoff
 *                                     when it comes back. start: floodgated
 *                                     starts it in a session of its own
 *                                     (it outlives floodgated), restarts it
 *                                     when it dies, and a restarted
 *                                     floodgated adopts the running one
 *       # mode "start" only:
 *       args = required               1..FG_BOOT_DPDK_ARGS_MAX non-empty
 *                                     strings: EAL options, then "--" and
 *                                     the process's own; floodgated adds
 *                                     "--control <control_socket>" itself
 *                                     (giving it is an error)
 *       exec = none                   absolute path of an executable file;
 *                                     none = floodgate-dpdk next to
 *                                     floodgated (resolved at start)
 *       log_file = none               absolute path: its stdout and stderr,
 *                                     appended; none = dpdk.log beside the
 *                                     control socket
 *       start_timeout_ms = 60000      1000..600000: how long a start may
 *                                     take to answer on the control socket
 *     };
 *   };
 *   log = { level = "info"; };        error | warn | info | debug
 *
 * Addresses may not be unspecified (0.0.0.0, ::) or multicast, except
 * api.listen which may be unspecified (listen everywhere).
 *
 * @include works; a relative path is taken from the directory of the file
 * given to fg_boot_load(). Errors in an included file name that file.
 *
 * Library code: nothing here logs or exits. Reentrant.
 */
#ifndef FG_BOOT_H
#define FG_BOOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "fg_rules.h"

#define FG_BOOT_PATH_MAX 256     /* paths in the file, NUL included */
#define FG_BOOT_SUN_PATH_MAX 108 /* sizeof(sockaddr_un.sun_path) */
#define FG_BOOT_IFACES_MAX 64    /* = FG_XDP_LINKS_MAX (fg_xdp.h) */
#define FG_BOOT_ENDPOINTS_MAX 16
#define FG_BOOT_URL_MAX 256
#define FG_BOOT_PREFIX_MAX 128
#define FG_BOOT_TOKEN_MAX 512    /* token bytes, NUL included */
#define FG_BOOT_LISTEN_MAX 64    /* "[v6]:port" as written */
#define FG_BOOT_ERRORS_MAX 32    /* kept; more are only counted */
#define FG_BOOT_MSG_MAX 256
#define FG_BOOT_DPDK_ARGS_MAX 128     /* dataplane.dpdk.args entries */
#define FG_BOOT_DPDK_ARGS_BYTES 4096  /* ... their bytes, NULs included */

enum fg_store_kind {
	FG_STORE_EMBEDDED = 0,
	FG_STORE_ETCD,
};

enum fg_dataplane_kind {
	FG_DATAPLANE_XDP = 0,
	FG_DATAPLANE_DPDK,
};

/* Values equal those of enum fg_xdp_mode (fg_xdp.h), so a cast converts. */
enum fg_boot_xdp_mode {
	FG_BOOT_XDP_NATIVE = 0,
	FG_BOOT_XDP_GENERIC = 1,
};

/* dataplane.dpdk.mode: who runs floodgate-dpdk. */
enum fg_boot_dpdk_mode {
	FG_BOOT_DPDK_ATTACH = 0, /* someone else; floodgated connects */
	FG_BOOT_DPDK_START,      /* floodgated starts and restarts it */
};

/* At most one address per family; has4/has6 say which are set. */
struct fg_boot_addrs {
	bool has4, has6;
	struct in_addr a4;
	struct in6_addr a6;
};

/*
 * The validated boot settings. Flat (no pointers): copy it by assignment,
 * compare two with fg_boot_reload_diff(), nothing to free.
 *
 * SIGHUP: only the fields marked [live] may change in a running daemon:
 * log.level, and the *content* of api.token_file (api.token). Every other
 * field, api.token_file's path included, needs a restart;
 * fg_boot_reload_diff() refuses a reload that changes one.
 */
struct fg_boot_config {
	struct {
		char name[FG_NAME_MAX];
		char group[FG_NAME_MAX];
	} node;
	struct {
		char listen[FG_BOOT_LISTEN_MAX]; /* as written */
		struct fg_addr addr;               /* parsed from listen */
		uint16_t port;
		char token_file[FG_BOOT_PATH_MAX]; /* "" = no auth */
		char token[FG_BOOT_TOKEN_MAX];     /* [live] its content,
						      * trimmed; "" = no auth */
		bool allow_no_token;                 /* open API beyond
						      * loopback on purpose */
	} api;
	struct {
		enum fg_store_kind kind;
		/* embedded */
		char data_dir[FG_BOOT_PATH_MAX];
		/* etcd */
		unsigned nendpoints;
		char endpoints[FG_BOOT_ENDPOINTS_MAX][FG_BOOT_URL_MAX];
		char prefix[FG_BOOT_PREFIX_MAX];
		char ca_file[FG_BOOT_PATH_MAX];   /* "" = none */
		char cert_file[FG_BOOT_PATH_MAX];
		char key_file[FG_BOOT_PATH_MAX];
	} store;
	struct {
		enum fg_dataplane_kind kind;
		/* xdp */
		unsigned ninterfaces;
		char interfaces[FG_BOOT_IFACES_MAX][IF_NAMESIZE];
		enum fg_boot_xdp_mode mode;
		struct fg_boot_addrs tunnel_source;  /* none = interface's */
		struct fg_boot_addrs snat;           /* none = tunnel's */
		uint32_t ct_established, ct_syn, ct_nat;
		uint32_t tcp_timeout_s, udp_timeout_s;
		uint32_t ring_slots;
		uint32_t limit_buckets;
		uint16_t gue_port;
		/* dpdk */
		char control_socket[FG_BOOT_SUN_PATH_MAX];
		uint32_t control_timeout_ms;
		enum fg_boot_dpdk_mode dpdk_mode;
		char dpdk_exec[FG_BOOT_PATH_MAX];     /* "" = next to floodgated */
		/* args: dpdk_nargs strings, each NUL-terminated, one after
		 * the other (flat: the struct is copied by assignment) */
		unsigned dpdk_nargs;
		char dpdk_args[FG_BOOT_DPDK_ARGS_BYTES];
		char dpdk_log_file[FG_BOOT_PATH_MAX]; /* "" = beside the socket */
		uint32_t dpdk_start_timeout_ms;
	} dataplane;
	struct {
		int level; /* [live] syslog priority: LOG_ERR, LOG_WARNING,
			    * LOG_INFO or LOG_DEBUG */
	} log;
};

/* One problem: where (line 0 when it concerns no line, e.g. a missing
 * group or an unreadable file) and what. */
struct fg_boot_error {
	char file[FG_BOOT_PATH_MAX];
	unsigned line;
	char message[FG_BOOT_MSG_MAX];
};

/* The problems of one load, in the order found. About 16 KiB: keep it
 * off small stacks. */
struct fg_boot_errors {
	char file[FG_BOOT_PATH_MAX];   /* the file loaded */
	unsigned n;                      /* entries in e[] */
	unsigned dropped;                /* found beyond FG_BOOT_ERRORS_MAX */
	struct fg_boot_error e[FG_BOOT_ERRORS_MAX];
};

/* fg_boot_reload_diff() bits: live settings that changed. */
#define FG_BOOT_RELOAD_LOG_LEVEL 0x1
#define FG_BOOT_RELOAD_TOKEN     0x2

/*
 * fg_boot_defaults - fill *out with every default above (node.name and
 * the required settings left empty). Never fails.
 */
void fg_boot_defaults(struct fg_boot_config *out);

/*
 * fg_boot_load - read and validate the boot file at path into *out.
 * errs (may be NULL) is reset and receives every problem found.
 * Returns 0 (valid; *out filled), -EINVAL (invalid: syntax or settings),
 * or the errno of an unreadable file (-ENOENT, -EACCES, ...), also
 * recorded in errs; -ENOMEM. On error *out holds defaults plus what was
 * valid, and must not be used. Blocking file I/O: call it at start and on
 * SIGHUP, not from a hot path.
 */
int fg_boot_load(const char *path, struct fg_boot_config *out,
		   struct fg_boot_errors *errs);

/*
 * fg_boot_errors_print - write each error as "file:line: message\n"
 * ("file: message" when line is 0) to f, then "file: N more errors" when
 * some were dropped. Returns the number of lines written.
 */
unsigned fg_boot_errors_print(const struct fg_boot_errors *errs, FILE *f);

/*
 * fg_boot_reload_diff - may the running daemon, started with *old, take
 * *new (a SIGHUP) without a restart? Returns the FG_CONFIG_RELOAD_* bits
 * of the live settings that changed (0: nothing to do), or -EBUSY when a
 * setting that needs a restart changed: err (may be NULL) then names every
 * such setting, "needs a restart to change: dataplane.interfaces, ...".
 * -EINVAL for a NULL config.
 */
int fg_boot_reload_diff(const struct fg_boot_config *old,
			  const struct fg_boot_config *new, char *err,
			  size_t errlen);

/*
 * fg_boot_api_sockaddr - api.listen of cfg as a socket address for
 * bind(2), built from the parsed literal: no name service and no
 * getaddrinfo(), whose AI_ADDRCONFIG (libevent's evhttp_bind_socket sets
 * it) refuses 127.0.0.1 and ::1 while no interface but lo has an address,
 * i.e. at boot before the network is up. Returns 0, or -EINVAL (NULL
 * argument, or an address family other than AF_INET/AF_INET6).
 */
int fg_boot_api_sockaddr(const struct fg_boot_config *cfg,
			   struct sockaddr_storage *ss, socklen_t *len);

/*
 * fg_boot_api_loopback - true when api.listen is a loopback address
 * (127.0.0.0/8, ::1, ::ffff:127.0.0.0/104): only local processes reach
 * the API. False for an unspecified (every address) or any other one.
 */
bool fg_boot_api_loopback(const struct fg_boot_config *cfg);

/* fg_boot_log_level_name - "error", "warn", "info" or "debug" for a
 * syslog priority (the nearest of the four); never NULL. */
const char *fg_boot_log_level_name(int level);

#endif /* FG_BOOT_H */
