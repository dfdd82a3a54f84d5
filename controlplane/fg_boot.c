/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * fg_config.c - the boot file: libconfig in, struct fg_boot_config out,
 * every problem collected with its file and line. See fg_boot.h for the
 * settings and their defaults.
 *
 * The walk never stops at the first problem: each group's unknown
 * settings are reported, each known one is type- and range-checked on its
 * own, and the cross checks run on whatever was valid, so one --check run
 * shows the operator everything to fix. libconfig itself stops at the
 * first syntax error; that one is reported alone.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include <libconfig.h>

#include "fg_compile.h"
#include "fg_boot.h"
#include "fg_maglev.h"
#include "fg_tables.h"

/* -------------------------------------------------------- constants */


#define FG_CFG_LISTEN_DEF "127.0.0.1:7380"
#define FG_CFG_GROUP_DEF "default"
#define FG_CFG_DATA_DIR_DEF "/var/lib/floodgate"
#define FG_CFG_PREFIX_DEF "/floodgate"

/* Table sizes: below 1024 entries a table is a misconfiguration, above
 * 2^26 (64 Mi entries, gigabytes of locked BPF memory) a typo. */
#define FG_CFG_TABLE_MIN 1024LL
#define FG_CFG_TABLE_MAX (1LL << 26)
/* The ring array holds every service's Maglev ring: at least one ring of
 * the default size; 2^27 u32 slots is 512 MiB. */
#define FG_CFG_RING_MIN ((long long)FG_MAGLEV_M_DEFAULT)
#define FG_CFG_RING_MAX (1LL << 27)
/* Conntrack idle timeouts: TCP below 10 s drops idle keep-alive flows
 * mid-use; a day is already far longer than any middlebox keeps state. */
#define FG_CFG_TCP_TIMEOUT_DEF 300U
#define FG_CFG_TCP_TIMEOUT_MIN 10LL
#define FG_CFG_TCP_TIMEOUT_MAX 86400LL
#define FG_CFG_UDP_TIMEOUT_DEF 30U
#define FG_CFG_UDP_TIMEOUT_MIN 1LL
#define FG_CFG_UDP_TIMEOUT_MAX 3600LL
#define FG_CFG_CTL_SOCKET_DIR "/run/floodgate"
#define FG_CFG_CTL_TIMEOUT_DEF 5000
#define FG_CFG_CTL_TIMEOUT_MIN 100LL
#define FG_CFG_CTL_TIMEOUT_MAX 600000LL
/* A start: the EAL maps its memory and probes the devices first, which
 * takes seconds on a real NIC (hugepages zeroed): a minute is generous. */
#define FG_CFG_DPDK_START_DEF 60000U
#define FG_CFG_DPDK_START_MIN 1000LL
#define FG_CFG_DPDK_START_MAX 600000LL

/* Which kinds of a group a setting belongs to (bit = 1 << kind); 0 = all. */
#define FG_K_ALL 0U
#define FG_K(kind) (1U << (kind))

struct fg_key {
	const char *name;
	unsigned kinds;
};

static const struct fg_key fg_root_keys[] = {
	{ "node", FG_K_ALL }, { "api", FG_K_ALL }, { "store", FG_K_ALL },
	{ "dataplane", FG_K_ALL }, { "log", FG_K_ALL }, { NULL, 0 },
};
static const struct fg_key fg_node_keys[] = {
	{ "name", FG_K_ALL }, { "group", FG_K_ALL }, { NULL, 0 },
};
static const struct fg_key fg_api_keys[] = {
	{ "listen", FG_K_ALL }, { "token_file", FG_K_ALL },
	{ "allow_no_token", FG_K_ALL }, { NULL, 0 },
};
static const struct fg_key fg_store_keys[] = {
	{ "kind", FG_K_ALL },
	{ "data_dir", FG_K(FG_STORE_EMBEDDED) },
	{ "endpoints", FG_K(FG_STORE_ETCD) },
	{ "prefix", FG_K(FG_STORE_ETCD) },
	{ "ca_file", FG_K(FG_STORE_ETCD) },
	{ "cert_file", FG_K(FG_STORE_ETCD) },
	{ "key_file", FG_K(FG_STORE_ETCD) },
	{ NULL, 0 },
};
static const struct fg_key fg_dataplane_keys[] = {
	{ "kind", FG_K_ALL },
	{ "interfaces", FG_K(FG_DATAPLANE_XDP) },
	{ "mode", FG_K(FG_DATAPLANE_XDP) },
	{ "tunnel_source", FG_K(FG_DATAPLANE_XDP) },
	{ "snat_addresses", FG_K(FG_DATAPLANE_XDP) },
	{ "conntrack", FG_K(FG_DATAPLANE_XDP) },
	{ "ring_slots", FG_K(FG_DATAPLANE_XDP) },
	{ "limit_buckets", FG_K(FG_DATAPLANE_XDP) },
	{ "gue_port", FG_K(FG_DATAPLANE_XDP) },
	{ "control_socket", FG_K(FG_DATAPLANE_DPDK) },
	{ "control_timeout_ms", FG_K(FG_DATAPLANE_DPDK) },
	{ "dpdk", FG_K(FG_DATAPLANE_DPDK) },
	{ NULL, 0 },
};
static const struct fg_key fg_dpdk_keys[] = {
	{ "mode", FG_K_ALL },
	{ "args", FG_K(FG_BOOT_DPDK_START) },
	{ "exec", FG_K(FG_BOOT_DPDK_START) },
	{ "log_file", FG_K(FG_BOOT_DPDK_START) },
	{ "start_timeout_ms", FG_K(FG_BOOT_DPDK_START) },
	{ NULL, 0 },
};
static const struct fg_key fg_conntrack_keys[] = {
	{ "established", FG_K_ALL }, { "syn", FG_K_ALL }, { "nat", FG_K_ALL },
	{ "tcp_timeout_s", FG_K_ALL }, { "udp_timeout_s", FG_K_ALL },
	{ NULL, 0 },
};
static const struct fg_key fg_log_keys[] = {
	{ "level", FG_K_ALL }, { NULL, 0 },
};

static const char *const fg_store_kind_names[] = { "embedded", "etcd", NULL };
static const char *const fg_dataplane_kind_names[] = { "xdp", "dpdk", NULL };
static const char *const fg_xdp_mode_names[] = { "native", "generic", NULL };
static const char *const fg_dpdk_mode_names[] = { "attach", "start", NULL };

struct fg_level {
	const char *name;
	int prio;
};

static const struct fg_level fg_levels[] = {
	{ "error", LOG_ERR }, { "warn", LOG_WARNING }, { "info", LOG_INFO },
	{ "debug", LOG_DEBUG }, { NULL, 0 },
};

/* ---------------------------------------------------------- errors */

/* The state of one load: where errors go and how many there were (also
 * counted when the caller passed no errs). */
struct fg_cctx {
	struct fg_boot_errors *errs;
	const char *path;
	const char *incdir;   /* where relative @include paths start */
	unsigned nerr;
};

/*
 * fg_cerr_at - record an error at file:line (file NULL = the loaded
 * file). Keeps the first FG_BOOT_ERRORS_MAX, counts the rest.
 */
static void fg_cerr_at(struct fg_cctx *c, const char *file, unsigned line,
		       const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void fg_cerr_at(struct fg_cctx *c, const char *file, unsigned line,
		       const char *fmt, ...)
{
	struct fg_boot_error *e;
	va_list ap;

	c->nerr++;
	if (!c->errs)
		return;
	if (c->errs->n >= FG_BOOT_ERRORS_MAX) {
		c->errs->dropped++;
		return;
	}
	e = &c->errs->e[c->errs->n++];
	/* libconfig names an included file as the @include line wrote it;
	 * relative to the include directory is what the operator can open. */
	if (file && file[0] != '/' && strcmp(file, c->path) && c->incdir)
		snprintf(e->file, sizeof(e->file), "%s/%s", c->incdir, file);
	else
		snprintf(e->file, sizeof(e->file), "%s", file ? file : c->path);
	e->line = line;
	va_start(ap, fmt);
	vsnprintf(e->message, sizeof(e->message), fmt, ap);
	va_end(ap);
}

/*
 * fg_cerr - record an error at the line of setting s (NULL: no line),
 * the message prefixed with the setting's path "path: ".
 */
static void fg_cerr(struct fg_cctx *c, const config_setting_t *s,
		    const char *path, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void fg_cerr(struct fg_cctx *c, const config_setting_t *s,
		    const char *path, const char *fmt, ...)
{
	char msg[FG_BOOT_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fg_cerr_at(c, s ? config_setting_source_file(s) : NULL,
		   s ? config_setting_source_line(s) : 0, "%s: %s", path, msg);
}

/* ------------------------------------------------------- type access */

static const char *fg_type_name(int type)
{
	switch (type) {
	case CONFIG_TYPE_GROUP:
		return "a group";
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		return "an integer";
	case CONFIG_TYPE_FLOAT:
		return "a float";
	case CONFIG_TYPE_STRING:
		return "a string";
	case CONFIG_TYPE_BOOL:
		return "a boolean";
	case CONFIG_TYPE_ARRAY:
		return "an array";
	case CONFIG_TYPE_LIST:
		return "a list";
	default:
		return "of unknown type";
	}
}

/*
 * fg_check_keys - report every member of group g not in keys (unknown) or
 * not valid with the group's kind (kind < 0: kind unknown, skip that).
 */
static void fg_check_keys(struct fg_cctx *c, const config_setting_t *g,
			  const char *gpath, const struct fg_key *keys,
			  int kind, const char *const *kind_names)
{
	int i, n = config_setting_length(g);

	for (i = 0; i < n; i++) {
		const config_setting_t *m = config_setting_get_elem(g, (unsigned)i);
		const char *name = config_setting_name(m);
		char path[128];
		const struct fg_key *k;

		snprintf(path, sizeof(path), "%s%s%s", gpath, *gpath ? "." : "",
			 name ? name : "?");
		for (k = keys; k->name; k++)
			if (name && strcmp(k->name, name) == 0)
				break;
		if (!k->name) {
			if (keys == fg_store_keys && name &&
			    (!strcmp(name, "client_port") || !strcmp(name, "peer_port")))
				fg_cerr(c, m, path, "removed: the embedded store "
					"listens only on Unix sockets under "
					"store.data_dir, never on a TCP port");
			else
				fg_cerr(c, m, path, "unknown setting");
			continue;
		}
		if (kind >= 0 && k->kinds && !(k->kinds & FG_K(kind)))
			fg_cerr(c, m, path, "not valid with %s \"%s\"",
				keys == fg_dpdk_keys ? "mode" : "kind",
				kind_names[kind]);
	}
}

/*
 * fg_group - member name of g as a group: NULL when absent or (error
 * recorded) not a group. path receives "gpath.name".
 */
static const config_setting_t *fg_group(struct fg_cctx *c,
					const config_setting_t *g,
					const char *name, const char *path)
{
	const config_setting_t *s = config_setting_get_member(g, name);

	if (!s)
		return NULL;
	if (config_setting_type(s) != CONFIG_TYPE_GROUP) {
		fg_cerr(c, s, path, "must be a group { ... }, not %s",
			fg_type_name(config_setting_type(s)));
		return NULL;
	}
	return s;
}

/*
 * fg_str - member name of g as a string. Returns 1 (*out set), 0 absent,
 * -1 wrong type (error recorded).
 */
static int fg_str(struct fg_cctx *c, const config_setting_t *g,
		  const char *gpath, const char *name, const char **out,
		  const config_setting_t **where)
{
	const config_setting_t *s = g ? config_setting_get_member(g, name) : NULL;
	char path[128];

	if (!s)
		return 0;
	snprintf(path, sizeof(path), "%s.%s", gpath, name);
	if (where)
		*where = s;
	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		fg_cerr(c, s, path, "must be a string, not %s",
			fg_type_name(config_setting_type(s)));
		return -1;
	}
	*out = config_setting_get_string(s);
	return 1;
}

/*
 * fg_int - member name of g as an integer in [min, max]. Returns 1 (*out
 * set), 0 absent, -1 wrong type or out of range (error recorded).
 */
static int fg_int(struct fg_cctx *c, const config_setting_t *g,
		  const char *gpath, const char *name, long long min,
		  long long max, long long *out)
{
	const config_setting_t *s = g ? config_setting_get_member(g, name) : NULL;
	char path[128];
	long long v;
	int type;

	if (!s)
		return 0;
	snprintf(path, sizeof(path), "%s.%s", gpath, name);
	type = config_setting_type(s);
	if (type != CONFIG_TYPE_INT && type != CONFIG_TYPE_INT64) {
		fg_cerr(c, s, path, "must be an integer, not %s",
			fg_type_name(type));
		return -1;
	}
	v = config_setting_get_int64(s);
	if (v < min || v > max) {
		fg_cerr(c, s, path, "%lld is out of range %lld..%lld", v, min,
			max);
		return -1;
	}
	*out = v;
	return 1;
}

/*
 * fg_bool - member name of g as a boolean. Returns 1 (*out set), 0
 * absent, -1 wrong type (error recorded).
 */
static int fg_bool(struct fg_cctx *c, const config_setting_t *g,
		   const char *gpath, const char *name, bool *out)
{
	const config_setting_t *s = g ? config_setting_get_member(g, name) : NULL;
	char path[128];

	if (!s)
		return 0;
	if (config_setting_type(s) != CONFIG_TYPE_BOOL) {
		snprintf(path, sizeof(path), "%s.%s", gpath, name);
		fg_cerr(c, s, path, "must be true or false, not %s",
			fg_type_name(config_setting_type(s)));
		return -1;
	}
	*out = config_setting_get_bool(s) != 0;
	return 1;
}

/*
 * fg_enum - member name of g as one of names[]. Returns the index, -2
 * when absent, -1 on error (recorded).
 */
static int fg_enum(struct fg_cctx *c, const config_setting_t *g,
		   const char *gpath, const char *name,
		   const char *const *names)
{
	const config_setting_t *s = NULL;
	char path[128], list[128] = "";
	const char *v;
	int rc, i;

	rc = fg_str(c, g, gpath, name, &v, &s);
	if (rc <= 0)
		return rc == 0 ? -2 : -1;
	for (i = 0; names[i]; i++)
		if (strcmp(names[i], v) == 0)
			return i;
	for (i = 0; names[i]; i++) {
		size_t l = strlen(list);

		snprintf(list + l, sizeof(list) - l, "%s\"%s\"",
			 i ? (names[i + 1] ? ", " : " or ") : "", names[i]);
	}
	snprintf(path, sizeof(path), "%s.%s", gpath, name);
	fg_cerr(c, s, path, "\"%.64s\" is not one of %s", v, list);
	return -1;
}

/*
 * fg_list - member name of g as an array or list. Returns 1 (*out set), 0
 * absent, -1 wrong type (recorded). A lone string is accepted as a
 * one-element list when one_ok.
 */
static int fg_list(struct fg_cctx *c, const config_setting_t *g,
		   const char *gpath, const char *name, bool one_ok,
		   const config_setting_t **out)
{
	const config_setting_t *s = g ? config_setting_get_member(g, name) : NULL;
	char path[128];
	int type;

	if (!s)
		return 0;
	type = config_setting_type(s);
	if (type == CONFIG_TYPE_ARRAY || type == CONFIG_TYPE_LIST ||
	    (one_ok && type == CONFIG_TYPE_STRING)) {
		*out = s;
		return 1;
	}
	snprintf(path, sizeof(path), "%s.%s", gpath, name);
	fg_cerr(c, s, path, "must be %s[\"...\", ...], not %s",
		one_ok ? "a string or a list " : "a list ", fg_type_name(type));
	return -1;
}

/*
 * fg_elem_str - element i of list l (or l itself when it is a string) as
 * a string, into *out and its setting into *where. Returns 0 or -1
 * (not a string, recorded at the element's line).
 */
static int fg_elem_str(struct fg_cctx *c, const config_setting_t *l,
		       const char *lpath, unsigned i, const char **out,
		       const config_setting_t **where, char *path,
		       size_t pathlen)
{
	const config_setting_t *e;

	if (config_setting_type(l) == CONFIG_TYPE_STRING) {
		snprintf(path, pathlen, "%s", lpath);
		e = l;
	} else {
		snprintf(path, pathlen, "%s[%u]", lpath, i);
		e = config_setting_get_elem(l, i);
	}
	*where = e;
	if (config_setting_type(e) != CONFIG_TYPE_STRING) {
		fg_cerr(c, e, path, "must be a string, not %s",
			fg_type_name(config_setting_type(e)));
		return -1;
	}
	*out = config_setting_get_string(e);
	return 0;
}

/* ---------------------------------------------------------- syntaxes */

/* fg_parse_ip - an IPv4 or IPv6 literal into *a. Returns 0 or -1. */
static int fg_parse_ip(const char *s, struct fg_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, s, &a->a4) == 1) {
		a->family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, &a->a6) == 1) {
		a->family = AF_INET6;
		return 0;
	}
	return -1;
}

static bool fg_addr_unspec(const struct fg_addr *a)
{
	if (a->family == AF_INET)
		return a->a4.s_addr == htonl(INADDR_ANY);
	return IN6_IS_ADDR_UNSPECIFIED(&a->a6);
}

static bool fg_addr_multicast(const struct fg_addr *a)
{
	if (a->family == AF_INET)
		return IN_MULTICAST(ntohl(a->a4.s_addr));
	return IN6_IS_ADDR_MULTICAST(&a->a6);
}

static bool fg_addr_loopback(const struct fg_addr *a)
{
	if (a->family == AF_INET)
		return (ntohl(a->a4.s_addr) >> 24) == 127;
	return IN6_IS_ADDR_LOOPBACK(&a->a6) ||
	       (IN6_IS_ADDR_V4MAPPED(&a->a6) && a->a6.s6_addr[12] == 127);
}

/* fg_parse_port - decimal 1..65535, the whole of s. Returns it or -1. */
static long fg_parse_port(const char *s)
{
	long v = 0;

	if (!*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (*s - '0');
		if (v > 65535)
			return -1;
	}
	return v >= 1 ? v : -1;
}

/*
 * fg_parse_listen - "ADDR:PORT" or "[V6]:PORT". Returns 0, or -1 with
 * *why saying what is wrong.
 */
static int fg_parse_listen(const char *s, struct fg_addr *a, uint16_t *port,
			   const char **why)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *colon, *hs = s;
	size_t hl;
	long p;

	if (s[0] == '[') {
		const char *rb = strchr(s, ']');

		if (!rb || rb[1] != ':') {
			*why = "must be [IPV6]:PORT";
			return -1;
		}
		hs = s + 1;
		hl = (size_t)(rb - hs);
		colon = rb + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon) {
			*why = "must be ADDR:PORT";
			return -1;
		}
		if (strchr(s, ':') != colon) {
			*why = "needs brackets around an IPv6 address: [ADDR]:PORT";
			return -1;
		}
		hl = (size_t)(colon - s);
	}
	if (hl == 0 || hl >= sizeof(host)) {
		*why = "is not an IP address and port";
		return -1;
	}
	memcpy(host, hs, hl);
	host[hl] = '\0';
	if (fg_parse_ip(host, a) ||
	    (s[0] == '[' && a->family != AF_INET6)) {
		*why = "has no IP address literal before the port";
		return -1;
	}
	p = fg_parse_port(colon + 1);
	if (p < 0) {
		*why = "has a port outside 1..65535";
		return -1;
	}
	*port = (uint16_t)p;
	return 0;
}

/* fg_parse_url - "http[s]://HOST[:PORT]", HOST a DNS name or IP literal
 * (IPv6 bracketed). Returns 0 or -1. */
static int fg_parse_url(const char *s)
{
	const char *p, *end;
	char host[INET6_ADDRSTRLEN + 1];
	struct in6_addr a6;

	if (strncmp(s, "http://", 7) == 0)
		p = s + 7;
	else if (strncmp(s, "https://", 8) == 0)
		p = s + 8;
	else
		return -1;
	if (*p == '[') {
		end = strchr(p, ']');
		if (!end || (size_t)(end - p - 1) >= sizeof(host) ||
		    end == p + 1)
			return -1;
		memcpy(host, p + 1, (size_t)(end - p - 1));
		host[end - p - 1] = '\0';
		if (inet_pton(AF_INET6, host, &a6) != 1)
			return -1;
		p = end + 1;
	} else {
		end = p;
		while ((*end >= 'a' && *end <= 'z') ||
		       (*end >= 'A' && *end <= 'Z') ||
		       (*end >= '0' && *end <= '9') || *end == '.' ||
		       *end == '-')
			end++;
		if (end == p)
			return -1;
		p = end;
	}
	if (*p == '\0')
		return 0;
	if (*p != ':')
		return -1;
	return fg_parse_port(p + 1) < 0 ? -1 : 0;
}

/* fg_prefix_valid - "/seg[/seg...]", seg of [A-Za-z0-9._-]+. */
static bool fg_prefix_valid(const char *s)
{
	bool seg = false;

	if (*s != '/')
		return false;
	for (s++; *s; s++) {
		if (*s == '/') {
			if (!seg)
				return false;
			seg = false;
		} else if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
			   (*s >= '0' && *s <= '9') || *s == '.' || *s == '_' ||
			   *s == '-') {
			seg = true;
		} else {
			return false;
		}
	}
	return seg;
}

/* fg_ifname_valid - what the kernel's dev_valid_name() accepts. */
static bool fg_ifname_valid(const char *s)
{
	size_t n = strlen(s), i;

	if (n == 0 || n >= IF_NAMESIZE || !strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	for (i = 0; i < n; i++)
		if (s[i] == '/' || s[i] == ':' || s[i] <= ' ' || s[i] > '~')
			return false;
	return true;
}

/*
 * fg_open_regular - open path for reading if it is a regular file.
 * O_NONBLOCK so that a FIFO put there by mistake cannot hang a --check.
 * Returns the fd or -errno (-EINVAL: not a regular file).
 */
static int fg_open_regular(const char *path)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return -EINVAL;
	}
	return fd;
}

/* fg_token_char - RFC 6750 b64token characters (the '=' padding apart). */
static bool fg_token_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	       (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' ||
	       ch == '_' || ch == '~' || ch == '+' || ch == '/';
}

/*
 * fg_read_token - the token in file path into out (FG_BOOT_TOKEN_MAX
 * bytes), surrounding white space trimmed. Returns 0, or -1 with why
 * filled. The scratch buffer is wiped: it held a secret.
 */
static int fg_read_token(const char *path, char *out, char *why,
			 size_t whylen)
{
	char buf[FG_BOOT_TOKEN_MAX + 1];
	size_t len = 0, b, e, i;
	int fd = fg_open_regular(path), ret = -1;
	ssize_t n;

	if (fd < 0) {
		snprintf(why, whylen, "cannot read %.128s: %s", path,
			 fd == -EINVAL ? "not a regular file" : strerror(-fd));
		return -1;
	}
	while (len < sizeof(buf)) {
		n = read(fd, buf + len, sizeof(buf) - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(why, whylen, "cannot read %.128s: %s", path,
				 strerror(errno));
			goto wipe;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	for (b = 0; b < len && (buf[b] == ' ' || (buf[b] >= '\t' && buf[b] <= '\r')); b++)
		;
	for (e = len; e > b && (buf[e - 1] == ' ' ||
				(buf[e - 1] >= '\t' && buf[e - 1] <= '\r')); e--)
		;
	if (e - b >= FG_BOOT_TOKEN_MAX) {
		snprintf(why, whylen, "%.128s: the token is longer than %d bytes",
			 path, FG_BOOT_TOKEN_MAX - 1);
		goto wipe;
	}
	if (e == b) {
		snprintf(why, whylen, "%.128s is empty", path);
		goto wipe;
	}
	for (i = b; i < e && fg_token_char(buf[i]); i++)
		;
	for (; i < e && buf[i] == '='; i++)
		;
	if (i != e) {
		snprintf(why, whylen,
			 "%.100s: the token holds a character a bearer token may not (RFC 6750: A-Z a-z 0-9 - . _ ~ + / and trailing =)",
			 path);
		goto wipe;
	}
	memcpy(out, buf + b, e - b);
	out[e - b] = '\0';
	ret = 0;
wipe:
	explicit_bzero(buf, sizeof(buf));
	close(fd);
	return ret;
}

/*
 * fg_path_setting - member name of g, an absolute path of at most
 * outlen - 1 bytes, into out. When readable, the file must also open as
 * a regular file. Returns 1 set, 0 absent, -1 error (recorded).
 */
static int fg_path_setting(struct fg_cctx *c, const config_setting_t *g,
			   const char *gpath, const char *name, char *out,
			   size_t outlen, bool readable)
{
	const config_setting_t *s = NULL;
	char path[128];
	const char *v;
	int rc, fd;

	rc = fg_str(c, g, gpath, name, &v, &s);
	if (rc <= 0)
		return rc;
	snprintf(path, sizeof(path), "%s.%s", gpath, name);
	if (v[0] != '/') {
		fg_cerr(c, s, path,
			"\"%.128s\" must be an absolute path (the daemon's working directory is /)",
			v);
		return -1;
	}
	if (strlen(v) >= outlen) {
		fg_cerr(c, s, path, "longer than %zu bytes", outlen - 1);
		return -1;
	}
	if (readable) {
		fd = fg_open_regular(v);
		if (fd < 0) {
			fg_cerr(c, s, path, "cannot read %.128s: %s", v,
				fd == -EINVAL ? "not a regular file" :
						strerror(-fd));
			return -1;
		}
		close(fd);
	}
	memcpy(out, v, strlen(v) + 1);
	return 1;
}

/*
 * fg_addrs_setting - member name of g: an address or a list of at most
 * one IPv4 and one IPv6 address, neither unspecified nor multicast.
 */
static void fg_addrs_setting(struct fg_cctx *c, const config_setting_t *g,
			     const char *gpath, const char *name,
			     struct fg_boot_addrs *out)
{
	const config_setting_t *l = NULL, *e;
	char lpath[128], path[160];
	struct fg_addr a;
	const char *v;
	unsigned i, n;

	if (fg_list(c, g, gpath, name, true, &l) <= 0)
		return;
	snprintf(lpath, sizeof(lpath), "%s.%s", gpath, name);
	n = config_setting_type(l) == CONFIG_TYPE_STRING ?
		    1U : (unsigned)config_setting_length(l);
	if (n == 0) {
		fg_cerr(c, l, lpath,
			"must hold an address (one IPv4, one IPv6 or both)");
		return;
	}
	for (i = 0; i < n; i++) {
		if (fg_elem_str(c, l, lpath, i, &v, &e, path, sizeof(path)))
			continue;
		if (fg_parse_ip(v, &a)) {
			fg_cerr(c, e, path,
				"\"%.64s\" is not an IPv4 or IPv6 address", v);
			continue;
		}
		if (fg_addr_unspec(&a) || fg_addr_multicast(&a)) {
			fg_cerr(c, e, path,
				"%s is not a unicast address", v);
			continue;
		}
		if (a.family == AF_INET) {
			if (out->has4) {
				fg_cerr(c, e, path,
					"a second IPv4 address (one per family)");
				continue;
			}
			out->has4 = true;
			out->a4 = a.a4;
		} else {
			if (out->has6) {
				fg_cerr(c, e, path,
					"a second IPv6 address (one per family)");
				continue;
			}
			out->has6 = true;
			out->a6 = a.a6;
		}
	}
}

/* ------------------------------------------------------------ groups */

static void fg_load_node(struct fg_cctx *c, const config_setting_t *root,
			 struct fg_boot_config *out)
{
	const config_setting_t *g = fg_group(c, root, "node", "node"), *s;
	static const char *const names[] = { "name", "group" };
	char *dst[] = { out->node.name, out->node.group };
	const char *v;
	unsigned i;

	if (!g) {
		if (!config_setting_get_member(root, "node"))
			fg_cerr(c, NULL, "node",
				"required: node = { name = \"...\"; };");
		return;
	}
	fg_check_keys(c, g, "node", fg_node_keys, -1, NULL);
	for (i = 0; i < 2; i++) {
		char path[32];
		int rc;

		s = NULL;
		rc = fg_str(c, g, "node", names[i], &v, &s);
		snprintf(path, sizeof(path), "node.%s", names[i]);
		if (rc == 0 && i == 0)
			fg_cerr(c, g, path, "required");
		if (rc <= 0)
			continue;
		if (!fg_name_valid(v)) {
			fg_cerr(c, s, path,
				"\"%.64s\" is not a valid name: must match %s",
				v, FG_NAME_RE);
			continue;
		}
		/* Groups (cluster-scope limits and stock shared by a group,
		 * rules that target one) are not built yet: a node put in a
		 * group would silently act as one of "default". */
		if (i == 1 && strcmp(v, FG_CFG_GROUP_DEF)) {
			fg_cerr(c, s, path,
				"\"%s\": node groups are not supported yet; only \"%s\" (or no group setting) is accepted",
				v, FG_CFG_GROUP_DEF);
			continue;
		}
		memcpy(dst[i], v, strlen(v) + 1);
	}
}

static void fg_load_api(struct fg_cctx *c, const config_setting_t *root,
			struct fg_boot_config *out)
{
	const config_setting_t *g = fg_group(c, root, "api", "api"), *s = NULL;
	const char *v, *why;
	char msg[FG_BOOT_MSG_MAX];
	struct fg_addr a;
	uint16_t port;

	if (!g)
		return;
	fg_check_keys(c, g, "api", fg_api_keys, -1, NULL);
	if (fg_str(c, g, "api", "listen", &v, &s) > 0) {
		if (strlen(v) >= sizeof(out->api.listen) ||
		    fg_parse_listen(v, &a, &port, &why)) {
			if (strlen(v) >= sizeof(out->api.listen))
				why = "is too long";
			fg_cerr(c, s, "api.listen", "\"%.64s\" %s", v, why);
		} else if (fg_addr_multicast(&a)) {
			fg_cerr(c, s, "api.listen",
				"%s is a multicast address", v);
		} else {
			memcpy(out->api.listen, v, strlen(v) + 1);
			out->api.addr = a;
			out->api.port = port;
		}
	}
	if (fg_path_setting(c, g, "api", "token_file", out->api.token_file,
			    sizeof(out->api.token_file), false) > 0) {
		s = config_setting_get_member(g, "token_file");
		if (fg_read_token(out->api.token_file, out->api.token, msg,
				  sizeof(msg))) {
			fg_cerr(c, s, "api.token_file", "%s", msg);
			out->api.token_file[0] = '\0';
		}
	}
	fg_bool(c, g, "api", "allow_no_token", &out->api.allow_no_token);
	/* An API reachable from other hosts without a token is anyone on
	 * the network rewriting the rules: only on explicit request. Not
	 * when token_file is set but unreadable (reported above). */
	s = config_setting_get_member(g, "listen");
	if (s && !config_setting_get_member(g, "token_file") &&
	    !out->api.allow_no_token && !fg_addr_loopback(&out->api.addr))
		fg_cerr(c, s, "api.listen",
			"%s listens beyond loopback without a token: set api.token_file, or api.allow_no_token = true to run an open API on purpose",
			out->api.listen);
}

static void fg_load_store(struct fg_cctx *c, const config_setting_t *root,
			  struct fg_boot_config *out)
{
	const config_setting_t *g = fg_group(c, root, "store", "store");
	const config_setting_t *l = NULL, *e, *s = NULL;
	char path[64];
	const char *v;
	unsigned i, n;
	int kind;

	if (!g)
		return;
	kind = fg_enum(c, g, "store", "kind", fg_store_kind_names);
	if (kind == -2)
		kind = FG_STORE_EMBEDDED;
	fg_check_keys(c, g, "store", fg_store_keys, kind, fg_store_kind_names);
	if (kind < 0)
		return;
	out->store.kind = (enum fg_store_kind)kind;

	if (kind == FG_STORE_EMBEDDED) {
		fg_path_setting(c, g, "store", "data_dir", out->store.data_dir,
				sizeof(out->store.data_dir), false);
		return;
	}

	if (fg_list(c, g, "store", "endpoints", false, &l) == 0)
		fg_cerr(c, g, "store.endpoints",
			"required with kind \"etcd\": [\"http://HOST:PORT\", ...]");
	if (l) {
		n = (unsigned)config_setting_length(l);
		if (n == 0 || n > FG_BOOT_ENDPOINTS_MAX)
			fg_cerr(c, l, "store.endpoints",
				"must hold 1..%d URLs, not %u",
				FG_BOOT_ENDPOINTS_MAX, n);
		for (i = 0; i < n && i < FG_BOOT_ENDPOINTS_MAX; i++) {
			if (fg_elem_str(c, l, "store.endpoints", i, &v, &e,
					path, sizeof(path)))
				continue;
			if (strlen(v) >= FG_BOOT_URL_MAX || fg_parse_url(v)) {
				fg_cerr(c, e, path,
					"\"%.128s\" is not http://HOST[:PORT] or https://HOST[:PORT]",
					v);
				continue;
			}
			memcpy(out->store.endpoints[out->store.nendpoints++],
			       v, strlen(v) + 1);
		}
	}
	if (fg_str(c, g, "store", "prefix", &v, &s) > 0) {
		if (strlen(v) >= sizeof(out->store.prefix) ||
		    !fg_prefix_valid(v))
			fg_cerr(c, s, "store.prefix",
				"\"%.128s\" must be /SEG[/SEG...] with SEG of A-Z a-z 0-9 . _ - (at most %zu bytes)",
				v, sizeof(out->store.prefix) - 1);
		else
			memcpy(out->store.prefix, v, strlen(v) + 1);
	}
	fg_path_setting(c, g, "store", "ca_file", out->store.ca_file,
			sizeof(out->store.ca_file), true);
	fg_path_setting(c, g, "store", "cert_file", out->store.cert_file,
			sizeof(out->store.cert_file), true);
	fg_path_setting(c, g, "store", "key_file", out->store.key_file,
			sizeof(out->store.key_file), true);
	/* A client certificate is useless without its key and vice versa:
	 * report it at whichever of the two was given. */
	if (!!config_setting_get_member(g, "cert_file") !=
	    !!config_setting_get_member(g, "key_file")) {
		s = config_setting_get_member(g, "cert_file");
		if (s)
			fg_cerr(c, s, "store.cert_file",
				"needs store.key_file too");
		else
			fg_cerr(c, config_setting_get_member(g, "key_file"),
				"store.key_file", "needs store.cert_file too");
	}
}

static void fg_load_conntrack(struct fg_cctx *c, const config_setting_t *dp,
			      struct fg_boot_config *out)
{
	const config_setting_t *g;
	const char *gp = "dataplane.conntrack";
	long long x;

	g = fg_group(c, dp, "conntrack", gp);
	if (!g)
		return;
	fg_check_keys(c, g, gp, fg_conntrack_keys, -1, NULL);
	if (fg_int(c, g, gp, "established", FG_CFG_TABLE_MIN, FG_CFG_TABLE_MAX,
		   &x) > 0)
		out->dataplane.ct_established = (uint32_t)x;
	if (fg_int(c, g, gp, "syn", FG_CFG_TABLE_MIN, FG_CFG_TABLE_MAX, &x) > 0)
		out->dataplane.ct_syn = (uint32_t)x;
	if (fg_int(c, g, gp, "nat", FG_CFG_TABLE_MIN, FG_CFG_TABLE_MAX, &x) > 0)
		out->dataplane.ct_nat = (uint32_t)x;
	if (fg_int(c, g, gp, "tcp_timeout_s", FG_CFG_TCP_TIMEOUT_MIN,
		   FG_CFG_TCP_TIMEOUT_MAX, &x) > 0)
		out->dataplane.tcp_timeout_s = (uint32_t)x;
	if (fg_int(c, g, gp, "udp_timeout_s", FG_CFG_UDP_TIMEOUT_MIN,
		   FG_CFG_UDP_TIMEOUT_MAX, &x) > 0)
		out->dataplane.udp_timeout_s = (uint32_t)x;
}

static void fg_load_interfaces(struct fg_cctx *c, const config_setting_t *g,
			       struct fg_boot_config *out)
{
	const config_setting_t *l = NULL, *e;
	const char *lp = "dataplane.interfaces", *v;
	char path[64];
	unsigned i, j, n;

	if (fg_list(c, g, "dataplane", "interfaces", false, &l) == 0) {
		fg_cerr(c, g, lp, "required with kind \"xdp\": [\"eth0\", ...]");
		return;
	}
	if (!l)
		return;
	n = (unsigned)config_setting_length(l);
	if (n == 0 || n > FG_BOOT_IFACES_MAX)
		fg_cerr(c, l, lp, "must hold 1..%d interface names, not %u",
			FG_BOOT_IFACES_MAX, n);
	for (i = 0; i < n && i < FG_BOOT_IFACES_MAX; i++) {
		if (fg_elem_str(c, l, lp, i, &v, &e, path, sizeof(path)))
			continue;
		if (!fg_ifname_valid(v)) {
			fg_cerr(c, e, path,
				"\"%.64s\" is not an interface name (1..%d characters, no '/', ':' or space)",
				v, IF_NAMESIZE - 1);
			continue;
		}
		for (j = 0; j < out->dataplane.ninterfaces; j++)
			if (!strcmp(out->dataplane.interfaces[j], v))
				break;
		if (j < out->dataplane.ninterfaces) {
			fg_cerr(c, e, path, "\"%s\" is listed twice", v);
			continue;
		}
		memcpy(out->dataplane.interfaces[out->dataplane.ninterfaces++],
		       v, strlen(v) + 1);
	}
}

/*
 * fg_load_dpdk_args - dataplane.dpdk.args into the flat buffer: strings,
 * none empty, no "--control" among the process's own options (after
 * "--": floodgated gives it, from dataplane.control_socket).
 */
static void fg_load_dpdk_args(struct fg_cctx *c, const config_setting_t *g,
			      struct fg_boot_config *out)
{
	const char *lp = "dataplane.dpdk.args", *v;
	const config_setting_t *l = NULL, *e;
	size_t used = 0, len;
	bool proc = false;
	unsigned i, n;
	char path[64];

	if (fg_list(c, g, "dataplane.dpdk", "args", false, &l) == 0) {
		fg_cerr(c, g, lp, "required with mode \"start\": the EAL options, "
			"then \"--\" and floodgate-dpdk's own, e.g. [\"-l\", \"0-1\", "
			"\"-a\", \"0000:03:00.0\", \"--\", \"--tunnel-src4\", "
			"\"198.19.255.1\"]");
		return;
	}
	if (!l)
		return;
	n = (unsigned)config_setting_length(l);
	if (n == 0 || n > FG_BOOT_DPDK_ARGS_MAX) {
		fg_cerr(c, l, lp, "must hold 1..%d arguments, not %u",
			FG_BOOT_DPDK_ARGS_MAX, n);
		return;
	}
	for (i = 0; i < n; i++) {
		if (fg_elem_str(c, l, lp, i, &v, &e, path, sizeof(path)))
			continue;
		len = strlen(v);
		if (!len) {
			fg_cerr(c, e, path, "an empty argument");
			continue;
		}
		if (proc && (!strcmp(v, "--control") ||
			     !strncmp(v, "--control=", 10))) {
			fg_cerr(c, e, path, "floodgated gives floodgate-dpdk "
				"--control itself (dataplane.control_socket)");
			continue;
		}
		if (!strcmp(v, "--"))
			proc = true;
		if (used + len + 1 > sizeof(out->dataplane.dpdk_args)) {
			fg_cerr(c, e, path, "the arguments take more than %zu "
				"bytes", sizeof(out->dataplane.dpdk_args));
			return;
		}
		memcpy(out->dataplane.dpdk_args + used, v, len + 1);
		used += len + 1;
		out->dataplane.dpdk_nargs++;
	}
}

/* fg_load_dpdk - the group dataplane.dpdk: who runs floodgate-dpdk. */
static void fg_load_dpdk(struct fg_cctx *c, const config_setting_t *dp,
			 struct fg_boot_config *out)
{
	const char *gp = "dataplane.dpdk";
	const config_setting_t *g = fg_group(c, dp, "dpdk", gp), *s;
	struct stat st;
	long long x;
	int mode;

	if (!g)
		return;
	mode = fg_enum(c, g, gp, "mode", fg_dpdk_mode_names);
	if (mode == -2)
		mode = FG_BOOT_DPDK_ATTACH;
	fg_check_keys(c, g, gp, fg_dpdk_keys, mode, fg_dpdk_mode_names);
	if (mode < 0)
		return;
	out->dataplane.dpdk_mode = (enum fg_boot_dpdk_mode)mode;
	if (mode != FG_BOOT_DPDK_START)
		return;
	fg_load_dpdk_args(c, g, out);
	if (fg_path_setting(c, g, gp, "exec", out->dataplane.dpdk_exec,
			    sizeof(out->dataplane.dpdk_exec), false) > 0) {
		/* Found out now, not at the first start (--check says it). */
		const char *why = NULL;

		s = config_setting_get_member(g, "exec");
		if (stat(out->dataplane.dpdk_exec, &st))
			why = strerror(errno);
		else if (!S_ISREG(st.st_mode))
			why = "not a regular file";
		else if (access(out->dataplane.dpdk_exec, X_OK))
			why = strerror(errno);
		if (why) {
			fg_cerr(c, s, "dataplane.dpdk.exec", "cannot run %.128s: %s",
				out->dataplane.dpdk_exec, why);
			out->dataplane.dpdk_exec[0] = '\0';
		}
	}
	fg_path_setting(c, g, gp, "log_file", out->dataplane.dpdk_log_file,
			sizeof(out->dataplane.dpdk_log_file), false);
	if (fg_int(c, g, gp, "start_timeout_ms", FG_CFG_DPDK_START_MIN,
		   FG_CFG_DPDK_START_MAX, &x) > 0)
		out->dataplane.dpdk_start_timeout_ms = (uint32_t)x;
}

static void fg_load_dataplane(struct fg_cctx *c, const config_setting_t *root,
			      struct fg_boot_config *out)
{
	const config_setting_t *g = fg_group(c, root, "dataplane", "dataplane");
	const char *gp = "dataplane";
	long long x;
	int kind, mode;

	if (!g) {
		if (!config_setting_get_member(root, "dataplane"))
			fg_cerr(c, NULL, gp,
				"required: dataplane = { kind = \"xdp\"; interfaces = [\"eth0\"]; };");
		return;
	}
	kind = fg_enum(c, g, gp, "kind", fg_dataplane_kind_names);
	if (kind == -2)
		fg_cerr(c, g, "dataplane.kind", "required: \"xdp\" or \"dpdk\"");
	fg_check_keys(c, g, gp, fg_dataplane_keys, kind,
		      fg_dataplane_kind_names);
	if (kind < 0)
		return;
	out->dataplane.kind = (enum fg_dataplane_kind)kind;

	if (kind == FG_DATAPLANE_DPDK) {
		/* Absent: under /run/floodgate/<node>/, set once the node's
		 * name is known (fg_boot_load). */
		fg_path_setting(c, g, gp, "control_socket",
				out->dataplane.control_socket,
				sizeof(out->dataplane.control_socket), false);
		if (fg_int(c, g, gp, "control_timeout_ms",
			   FG_CFG_CTL_TIMEOUT_MIN, FG_CFG_CTL_TIMEOUT_MAX, &x) > 0)
			out->dataplane.control_timeout_ms = (uint32_t)x;
		fg_load_dpdk(c, g, out);
		return;
	}

	fg_load_interfaces(c, g, out);
	mode = fg_enum(c, g, gp, "mode", fg_xdp_mode_names);
	if (mode >= 0)
		out->dataplane.mode = (enum fg_boot_xdp_mode)mode;
	fg_addrs_setting(c, g, gp, "tunnel_source",
			 &out->dataplane.tunnel_source);
	fg_addrs_setting(c, g, gp, "snat_addresses", &out->dataplane.snat);
	fg_load_conntrack(c, g, out);
	if (fg_int(c, g, gp, "ring_slots", FG_CFG_RING_MIN, FG_CFG_RING_MAX,
		   &x) > 0)
		out->dataplane.ring_slots = (uint32_t)x;
	if (fg_int(c, g, gp, "limit_buckets", FG_CFG_TABLE_MIN,
		   FG_CFG_TABLE_MAX, &x) > 0)
		out->dataplane.limit_buckets = (uint32_t)x;
	if (fg_int(c, g, gp, "gue_port", 1, 65535, &x) > 0)
		out->dataplane.gue_port = (uint16_t)x;
}

static void fg_load_log(struct fg_cctx *c, const config_setting_t *root,
			struct fg_boot_config *out)
{
	static const char *const names[] = { "error", "warn", "info", "debug",
					     NULL };
	const config_setting_t *g = fg_group(c, root, "log", "log");
	int i;

	if (!g)
		return;
	fg_check_keys(c, g, "log", fg_log_keys, -1, NULL);
	i = fg_enum(c, g, "log", "level", names);
	if (i >= 0)
		out->log.level = fg_levels[i].prio;
}

/*
 * fg_errors_sort - order the kept errors by file (the main file first)
 * and line, stably: the walk goes group by group, but an operator reads
 * the file top to bottom.
 */
static void fg_errors_sort(struct fg_boot_errors *errs)
{
	struct fg_boot_error tmp;
	unsigned i, j;

	for (i = 1; i < errs->n; i++) {
		tmp = errs->e[i];
		for (j = i; j > 0; j--) {
			const struct fg_boot_error *p = &errs->e[j - 1];
			int pm = strcmp(p->file, errs->file) != 0;
			int tm = strcmp(tmp.file, errs->file) != 0;
			int fc = pm != tm ? pm - tm : strcmp(p->file, tmp.file);

			if (fc < 0 || (fc == 0 && p->line <= tmp.line))
				break;
			errs->e[j] = errs->e[j - 1];
		}
		errs->e[j] = tmp;
	}
}

/* ------------------------------------------------------------ public */

/* fg_boot_defaults - see the header. */
void fg_boot_defaults(struct fg_boot_config *out)
{
	const char *why;

	memset(out, 0, sizeof(*out));
	strcpy(out->node.group, FG_CFG_GROUP_DEF);
	strcpy(out->api.listen, FG_CFG_LISTEN_DEF);
	fg_parse_listen(FG_CFG_LISTEN_DEF, &out->api.addr, &out->api.port, &why);
	out->store.kind = FG_STORE_EMBEDDED;
	strcpy(out->store.data_dir, FG_CFG_DATA_DIR_DEF);
	strcpy(out->store.prefix, FG_CFG_PREFIX_DEF);
	out->dataplane.kind = FG_DATAPLANE_XDP;
	out->dataplane.mode = FG_BOOT_XDP_NATIVE;
	out->dataplane.ct_established = FG_CT_DEFAULT;
	out->dataplane.ct_syn = FG_CT_SYN_DEFAULT;
	out->dataplane.ct_nat = FG_NAT_DEFAULT;
	out->dataplane.tcp_timeout_s = FG_CFG_TCP_TIMEOUT_DEF;
	out->dataplane.udp_timeout_s = FG_CFG_UDP_TIMEOUT_DEF;
	out->dataplane.ring_slots = FG_RING_SLOTS_DEFAULT;
	out->dataplane.limit_buckets = FG_BUCKETS_DEFAULT;
	out->dataplane.gue_port = FG_GUE_PORT_DEFAULT;
	out->dataplane.control_timeout_ms = FG_CFG_CTL_TIMEOUT_DEF;
	out->dataplane.dpdk_mode = FG_BOOT_DPDK_ATTACH;
	out->dataplane.dpdk_start_timeout_ms = FG_CFG_DPDK_START_DEF;
	out->log.level = LOG_INFO;
}

/* fg_boot_load - see the header. */
int fg_boot_load(const char *path, struct fg_boot_config *out,
		   struct fg_boot_errors *errs)
{
	struct fg_cctx c = { .errs = errs, .path = path ? path : "" };
	const config_setting_t *root;
	char *dir_copy;
	config_t cf;
	int fd, ret;

	if (errs) {
		memset(errs, 0, sizeof(*errs));
		snprintf(errs->file, sizeof(errs->file), "%s", c.path);
	}
	if (!path || !out) {
		fg_cerr_at(&c, NULL, 0, "no configuration file given");
		return -EINVAL;
	}
	fg_boot_defaults(out);

	/* libconfig reports an unopenable file as a bare "file I/O error":
	 * open it first to say why. */
	fd = fg_open_regular(path);
	if (fd < 0) {
		fg_cerr_at(&c, NULL, 0, "cannot read: %s",
			   fd == -EINVAL ? "not a regular file" : strerror(-fd));
		return fd;
	}
	close(fd);

	dir_copy = strdup(path);
	if (!dir_copy) {
		fg_cerr_at(&c, NULL, 0, "out of memory");
		return -ENOMEM;
	}
	config_init(&cf);
	/* @include "x.conf" is relative to the main file, not to wherever
	 * the daemon was started from. */
	c.incdir = dirname(dir_copy);
	config_set_include_dir(&cf, c.incdir);
	if (config_read_file(&cf, path) != CONFIG_TRUE) {
		if (config_error_type(&cf) == CONFIG_ERR_FILE_IO) {
			fg_cerr_at(&c, config_error_file(&cf), 0, "%s",
				   config_error_text(&cf));
			ret = -EIO;
		} else {
			fg_cerr_at(&c, config_error_file(&cf),
				   (unsigned)config_error_line(&cf), "%s",
				   config_error_text(&cf));
			ret = -EINVAL;
		}
		goto destroy;
	}

	root = config_root_setting(&cf);
	fg_check_keys(&c, root, "", fg_root_keys, -1, NULL);
	fg_load_node(&c, root, out);
	fg_load_api(&c, root, out);
	fg_load_store(&c, root, out);
	fg_load_dataplane(&c, root, out);
	fg_load_log(&c, root, out);
	if (out->dataplane.kind == FG_DATAPLANE_DPDK &&
	    !out->dataplane.control_socket[0] && out->node.name[0])
		/* "/run/floodgate/" + a name of at most 63 + "/dpdk.sock"
		 * fits sun_path. */
		snprintf(out->dataplane.control_socket,
			 sizeof(out->dataplane.control_socket),
			 FG_CFG_CTL_SOCKET_DIR "/%s/dpdk.sock", out->node.name);
	if (errs)
		fg_errors_sort(errs);
	ret = c.nerr ? -EINVAL : 0;
destroy:
	config_destroy(&cf);
	free(dir_copy);
	return ret;
}

/* fg_boot_errors_print - see the header. */
unsigned fg_boot_errors_print(const struct fg_boot_errors *errs, FILE *f)
{
	unsigned i;

	if (!errs || !f)
		return 0;
	for (i = 0; i < errs->n; i++) {
		const struct fg_boot_error *e = &errs->e[i];

		if (e->line)
			fprintf(f, "%s:%u: %s\n", e->file, e->line, e->message);
		else
			fprintf(f, "%s: %s\n", e->file, e->message);
	}
	if (errs->dropped) {
		fprintf(f, "%s: %u more errors\n", errs->file, errs->dropped);
		i++;
	}
	return i;
}

/* fg_diff_add - append name to the list of settings that changed. */
static void fg_diff_add(char *buf, size_t len, unsigned *n, const char *name)
{
	size_t l = strlen(buf);

	if (l < len)
		snprintf(buf + l, len - l, "%s%s", (*n)++ ? ", " : "", name);
}

static bool fg_addrs_eq(const struct fg_boot_addrs *a,
			const struct fg_boot_addrs *b)
{
	return a->has4 == b->has4 && a->has6 == b->has6 &&
	       (!a->has4 || a->a4.s_addr == b->a4.s_addr) &&
	       (!a->has6 || !memcmp(&a->a6, &b->a6, sizeof(a->a6)));
}

/* fg_boot_reload_diff - see the header. */
int fg_boot_reload_diff(const struct fg_boot_config *old,
			  const struct fg_boot_config *new, char *err,
			  size_t errlen)
{
	const char *pfx = "needs a restart to change: ";
	char names[FG_BOOT_MSG_MAX] = "";
	unsigned n = 0, i;
	int live = 0;
	bool same;

	if (!old || !new)
		return -EINVAL;
#define FG_DIFF(cond, name) \
	do { if (cond) fg_diff_add(names, sizeof(names), &n, name); } while (0)
#define FG_DIFF_STR(field, name) FG_DIFF(strcmp(old->field, new->field), name)
#define FG_DIFF_NUM(field, name) FG_DIFF(old->field != new->field, name)

	FG_DIFF_STR(node.name, "node.name");
	FG_DIFF_STR(node.group, "node.group");
	FG_DIFF(old->api.port != new->api.port ||
		old->api.addr.family != new->api.addr.family ||
		memcmp(&old->api.addr.a6, &new->api.addr.a6,
		       old->api.addr.family == AF_INET ?
			       sizeof(old->api.addr.a4) :
			       sizeof(old->api.addr.a6)),
		"api.listen");
	FG_DIFF_STR(api.token_file, "api.token_file");
	FG_DIFF_NUM(api.allow_no_token, "api.allow_no_token");
	FG_DIFF_NUM(store.kind, "store.kind");
	if (old->store.kind == new->store.kind &&
	    old->store.kind == FG_STORE_EMBEDDED) {
		FG_DIFF_STR(store.data_dir, "store.data_dir");
	} else if (old->store.kind == new->store.kind) {
		same = old->store.nendpoints == new->store.nendpoints;
		for (i = 0; same && i < old->store.nendpoints; i++)
			same = !strcmp(old->store.endpoints[i],
				       new->store.endpoints[i]);
		FG_DIFF(!same, "store.endpoints");
		FG_DIFF_STR(store.prefix, "store.prefix");
		FG_DIFF_STR(store.ca_file, "store.ca_file");
		FG_DIFF_STR(store.cert_file, "store.cert_file");
		FG_DIFF_STR(store.key_file, "store.key_file");
	}
	FG_DIFF_NUM(dataplane.kind, "dataplane.kind");
	if (old->dataplane.kind == new->dataplane.kind &&
	    old->dataplane.kind == FG_DATAPLANE_XDP) {
		same = old->dataplane.ninterfaces == new->dataplane.ninterfaces;
		for (i = 0; same && i < old->dataplane.ninterfaces; i++)
			same = !strcmp(old->dataplane.interfaces[i],
				       new->dataplane.interfaces[i]);
		FG_DIFF(!same, "dataplane.interfaces");
		FG_DIFF_NUM(dataplane.mode, "dataplane.mode");
		FG_DIFF(!fg_addrs_eq(&old->dataplane.tunnel_source,
				     &new->dataplane.tunnel_source),
			"dataplane.tunnel_source");
		FG_DIFF(!fg_addrs_eq(&old->dataplane.snat, &new->dataplane.snat),
			"dataplane.snat_addresses");
		FG_DIFF_NUM(dataplane.ct_established,
			    "dataplane.conntrack.established");
		FG_DIFF_NUM(dataplane.ct_syn, "dataplane.conntrack.syn");
		FG_DIFF_NUM(dataplane.ct_nat, "dataplane.conntrack.nat");
		FG_DIFF_NUM(dataplane.tcp_timeout_s,
			    "dataplane.conntrack.tcp_timeout_s");
		FG_DIFF_NUM(dataplane.udp_timeout_s,
			    "dataplane.conntrack.udp_timeout_s");
		FG_DIFF_NUM(dataplane.ring_slots, "dataplane.ring_slots");
		FG_DIFF_NUM(dataplane.limit_buckets, "dataplane.limit_buckets");
		FG_DIFF_NUM(dataplane.gue_port, "dataplane.gue_port");
	} else if (old->dataplane.kind == new->dataplane.kind) {
		FG_DIFF_STR(dataplane.control_socket,
			    "dataplane.control_socket");
		FG_DIFF_NUM(dataplane.control_timeout_ms,
			    "dataplane.control_timeout_ms");
		FG_DIFF_NUM(dataplane.dpdk_mode, "dataplane.dpdk.mode");
		FG_DIFF(old->dataplane.dpdk_nargs != new->dataplane.dpdk_nargs ||
			memcmp(old->dataplane.dpdk_args, new->dataplane.dpdk_args,
			       sizeof(old->dataplane.dpdk_args)),
			"dataplane.dpdk.args");
		FG_DIFF_STR(dataplane.dpdk_exec, "dataplane.dpdk.exec");
		FG_DIFF_STR(dataplane.dpdk_log_file, "dataplane.dpdk.log_file");
		FG_DIFF_NUM(dataplane.dpdk_start_timeout_ms,
			    "dataplane.dpdk.start_timeout_ms");
	}
#undef FG_DIFF_NUM
#undef FG_DIFF_STR
#undef FG_DIFF

	if (n) {
		if (err && errlen)
			snprintf(err, errlen, "%s%s", pfx, names);
		return -EBUSY;
	}
	if (old->log.level != new->log.level)
		live |= FG_BOOT_RELOAD_LOG_LEVEL;
	if (strcmp(old->api.token, new->api.token))
		live |= FG_BOOT_RELOAD_TOKEN;
	return live;
}

/* fg_boot_api_sockaddr - see the header. */
int fg_boot_api_sockaddr(const struct fg_boot_config *cfg,
			   struct sockaddr_storage *ss, socklen_t *len)
{
	if (!cfg || !ss || !len)
		return -EINVAL;
	memset(ss, 0, sizeof(*ss));
	if (cfg->api.addr.family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(cfg->api.port);
		sin->sin_addr = cfg->api.addr.a4;
		*len = sizeof(*sin);
		return 0;
	}
	if (cfg->api.addr.family == AF_INET6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(cfg->api.port);
		sin6->sin6_addr = cfg->api.addr.a6;
		*len = sizeof(*sin6);
		return 0;
	}
	return -EINVAL;
}

/* fg_boot_api_loopback - see the header. */
bool fg_boot_api_loopback(const struct fg_boot_config *cfg)
{
	return cfg && (cfg->api.addr.family == AF_INET ||
		       cfg->api.addr.family == AF_INET6) &&
	       fg_addr_loopback(&cfg->api.addr);
}

/* fg_boot_log_level_name - see the header. */
const char *fg_boot_log_level_name(int level)
{
	if (level <= LOG_ERR)
		return "error";
	if (level <= LOG_NOTICE)
		return level == LOG_NOTICE ? "info" : "warn";
	if (level == LOG_INFO)
		return "info";
	return "debug";
}
