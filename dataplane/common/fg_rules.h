/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * fg_rules.h - the rule model in memory: services, backends, limits, L7
 * routes and seckill rules as API.md defines them, after validation. The JSON layer fills it
 * (controlplane), the compilers turn it into dataplane tables (XDP now,
 * DPDK later). Userspace only.
 */
#ifndef FG_RULES_H
#define FG_RULES_H

#include <stdbool.h>
#include <stdint.h>
#include <netinet/in.h>

#include "fg_tables.h"

#define FG_NAME_MAX 64 /* [a-z0-9][a-z0-9_-]{0,62} + NUL */
#define FG_SVC_BACKENDS_MAX 4096U /* backends per service (API.md) */

/* An address of either family; IPv4 in a4, family AF_INET or AF_INET6. */
struct fg_addr {
	int family;
	union {
		struct in_addr a4;
		struct in6_addr a6;
	};
};

enum fg_backend_state {
	FG_BACKEND_ACTIVE = 0,
	FG_BACKEND_DRAIN,
	FG_BACKEND_DOWN,
};

struct fg_rule_backend {
	struct fg_addr addr;          /* same family as the service's vip */
	uint16_t port;            /* the API's port, defaulted to the service
				   * port when omitted; 0 only in a DSR service
				   * on port 0 (every port), where it is unused */
	uint16_t weight;          /* 0 drains */
	enum fg_backend_state state;
	bool health_down;         /* set by health checks, not by the API */
};

enum fg_health_type {
	FG_HEALTH_NONE = 0,
	FG_HEALTH_TCP,
	FG_HEALTH_HTTP,
};

struct fg_rule_health {
	enum fg_health_type type;
	uint32_t interval_ms, timeout_ms;
	uint32_t rise, fall;
	uint16_t port;            /* 0 = the backend's port */
	char path[256];           /* http */
	uint16_t expect_status;   /* http, default 200 */
};

enum fg_svc_mode {
	FG_MODE_L4 = 0,
	FG_MODE_L7,
};

struct fg_rule_service {
	char name[FG_NAME_MAX];
	struct fg_addr vip;
	uint16_t port;            /* 0 = every port */
	uint8_t proto;            /* IPPROTO_TCP / IPPROTO_UDP */
	enum fg_svc_mode mode;
	enum fg_forward forward;
	enum fg_hash_mode hash;
	uint32_t nbackends;
	struct fg_rule_backend *backends; /* nbackends entries, owned */
	struct fg_rule_health health;
};

/*
 * Model-only values of the limit enums (fg_tables.h holds what the XDP
 * tables carry): rps and respond are judged by the L7 engine alone, per
 * HTTP request, so no XDP table ever holds them. A later value added to
 * the core enums under these names fails to compile here, on purpose.
 */
#define FG_LUNIT_RPS    ((enum fg_limit_unit)3)    /* HTTP requests/s */
#define FG_LACT_RESPOND ((enum fg_limit_action)2)  /* an HTTP answer */

/*
 * Limits of the L7 objects. The L7 engine (dataplane/l7) has the same
 * bounds; these are the API's, so the rule library needs no L7 header.
 */
#define FG_RESPOND_STATUS_MIN      400U
#define FG_RESPOND_STATUS_MAX      599U
#define FG_RESPOND_RETRY_AFTER_MAX 604800U /* a week, in seconds */
#define FG_RESPOND_CTYPE_LEN_MAX   128U    /* bytes of content_type */
#define FG_RESPOND_BODY_LEN_MAX    4096U   /* bytes of body */
#define FG_HTTP_HOST_LEN_MAX       255U    /* a DNS name */
#define FG_HTTP_METHOD_LEN_MAX     7U      /* "OPTIONS" */
#define FG_HTTP_HNAME_LEN_MAX      64U     /* a header name */
#define FG_HTTP_PATH_LEN_MAX       4096U   /* path_prefix */
#define FG_HTTP_REGEX_LEN_MAX      4096U   /* path_regex, header regex */
#define FG_HTTP_MATCH_HEADERS_MAX  8U      /* header conditions */
#define FG_ROUTE_PRIORITY_MAX      1000000U
#define FG_ROUTE_BACKENDS_MAX      FG_SVC_BACKENDS_MAX
#define FG_SECKILL_ITEM_LEN_MAX    128U    /* bytes of an item ID */
#define FG_SECKILL_ITEM_NAME_MAX   64U     /* NAME of query:/header: */
#define FG_SECKILL_SEGMENT_MAX     64U     /* N of segment:N */
#define FG_SECKILL_ITEMS_MAX       1000000U /* items, max_items */
#define FG_SECKILL_MAX_ITEMS_DEF   100000U  /* API.md max_items */
#define FG_ROUTES_MAX              65536U  /* routes per rule set */
#define FG_SECKILLS_MAX            1024U   /* seckill rules per rule set */

/*
 * An answer the dataplane sends itself (API.md Seckill `respond`,
 * `sold_out`, a limit's `respond`). retry_after -1: no Retry-After.
 * content_type "" with an empty body only (a type describes a body).
 */
struct fg_rule_respond {
	uint16_t status;
	int32_t retry_after;
	char content_type[FG_RESPOND_CTYPE_LEN_MAX + 1];
	uint32_t body_len;
	char body[FG_RESPOND_BODY_LEN_MAX + 1]; /* NUL-terminated too */
};

struct fg_rule_limit {
	char name[FG_NAME_MAX];
	char service[FG_NAME_MAX];   /* "" = every service */
	bool match_src_set;
	struct fg_addr match_src;    /* network address, host bits zero */
	uint8_t match_src_len;
	uint8_t match_proto;         /* 0 = any */
	uint16_t match_dport;        /* 0 = any */
	enum fg_limit_key key;
	uint8_t prefix_len;          /* for src_prefix/N */
	enum fg_limit_unit unit;
	uint64_t rate, burst;
	enum fg_limit_action action;
	bool cluster_scope;
	bool dry_run;
	struct fg_rule_respond respond; /* action respond only */
};

/* One header condition: the header is present and regex matches it. */
struct fg_rule_http_header {
	char name[FG_HTTP_HNAME_LEN_MAX + 1];
	char *regex;                 /* owned */
};

/* The `match` of a route or a seckill rule: every field set must hold. */
struct fg_rule_http_match {
	char host[FG_HTTP_HOST_LEN_MAX + 1];       /* "" = any host */
	char method[FG_HTTP_METHOD_LEN_MAX + 1];   /* "" = any method */
	char *path_prefix;           /* owned; NULL = any */
	char *path_regex;            /* owned; NULL = any */
	uint32_t nheaders;
	struct fg_rule_http_header headers[FG_HTTP_MATCH_HEADERS_MAX];
};

struct fg_rule_route {
	char name[FG_NAME_MAX];
	char service[FG_NAME_MAX];   /* an l7 service */
	uint32_t priority;           /* highest wins; default 0 */
	struct fg_rule_http_match match;
	uint32_t nbackends;
	struct fg_rule_backend *backends; /* owned; port 0 = the service's */
};

enum fg_item_from {
	FG_ITEM_FROM_NONE = 0,       /* one item for the whole rule */
	FG_ITEM_FROM_SEGMENT,
	FG_ITEM_FROM_QUERY,
	FG_ITEM_FROM_HEADER,
};

struct fg_rule_seckill {
	char name[FG_NAME_MAX];
	char service[FG_NAME_MAX];   /* an l7 service */
	struct fg_rule_http_match match;
	enum fg_item_from item_from;
	uint16_t item_segment;       /* segment:N */
	char item_name[FG_SECKILL_ITEM_NAME_MAX + 1]; /* query:/header: */
	uint32_t nitems;             /* 0: no list, max_items bounds */
	char **items;                /* owned, nitems IDs, each owned */
	uint32_t max_items;          /* without items */
	uint64_t rate, burst;        /* per item, requests */
	bool has_stock;
	uint64_t stock;
	bool has_per_client;
	enum fg_limit_key client_key; /* FG_LKEY_SRC_IP / _SRC_PREFIX */
	uint8_t client_prefix_len;
	uint64_t client_rate, client_burst;
	uint64_t start_ns, end_ns;   /* 0 = unset; ns since the epoch */
	struct fg_rule_respond respond;
	struct fg_rule_respond sold_out;
};

/* A whole rule set. Arrays are owned; fg_ruleset_free() releases them. */
struct fg_ruleset {
	uint64_t version;
	/* Nonzero: names this content, so that a dataplane that compiled it
	 * to check it can apply that result when the same content comes
	 * back (fg_dataplane.h); whoever changes the content after tagging
	 * it clears the tag. 0: no such promise. Views and parses start
	 * untagged. */
	uint64_t tag;
	uint32_t nservices;
	struct fg_rule_service *services;
	uint32_t nlimits;
	struct fg_rule_limit *limits;
	uint32_t nroutes;
	struct fg_rule_route *routes;
	uint32_t nseckill;
	struct fg_rule_seckill *seckill;
};

/* The names of rules and nodes, as messages spell the rule. */
#define FG_NAME_RE "[a-z0-9][a-z0-9_-]{0,62}"

/* fg_name_valid - true when name matches FG_NAME_RE. */
bool fg_name_valid(const char *name);

/* fg_http_match_free - free what *m owns and zero it. Accepts NULL. */
void fg_http_match_free(struct fg_rule_http_match *m);

/* fg_rule_route_free, fg_rule_seckill_free - free what the rule owns (not the
 * struct) and zero it. Accept NULL. */
void fg_rule_route_free(struct fg_rule_route *r);
void fg_rule_seckill_free(struct fg_rule_seckill *sk);

/* fg_ruleset_free - free what *rs owns and zero it. Accepts NULL. */
void fg_ruleset_free(struct fg_ruleset *rs);

#endif /* FG_RULES_H */
