/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * fg_rules.h - the rule model in memory: services, backends and limits as
 * API.md defines them, after validation. The JSON layer fills it
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
};

/* A whole rule set. Arrays are owned; fg_ruleset_free() releases them. */
struct fg_ruleset {
	uint64_t version;
	uint32_t nservices;
	struct fg_rule_service *services;
	uint32_t nlimits;
	struct fg_rule_limit *limits;
};

/* The names of rules and nodes, as messages spell the rule. */
#define FG_NAME_RE "[a-z0-9][a-z0-9_-]{0,62}"

/* fg_name_valid - true when name matches FG_NAME_RE. */
bool fg_name_valid(const char *name);

/* fg_ruleset_free - free what *rs owns and zero it. Accepts NULL. */
void fg_ruleset_free(struct fg_ruleset *rs);

#endif /* FG_RULES_H */
