/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * test_rules_json.c - the API's JSON <-> rule model layer: a table of bad
 * inputs, each with the exact HTTP status, error code and field path it
 * must produce (and the request must leave the output untouched); good
 * inputs with their defaults; round trips; IPv6 throughout; the rule-set
 * checks; the body parser and error objects.
 *
 * JSON in this file is written with single quotes and converted, so that
 * the tables stay readable.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fg_rules_json.h"

/* ---------------------------------------------------------- helpers */

/* Parse test JSON written with ' for ". Fails the test on bad JSON. */
static json_t *jq(const char *text)
{
	json_error_t jerr;
	char *s = strdup(text), *p;
	json_t *j;

	assert_non_null(s);
	for (p = s; *p; p++)
		if (*p == '\'')
			*p = '"';
	j = json_loads(s, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
	if (!j)
		fail_msg("test JSON does not parse: %s: %s", jerr.text, text);
	free(s);
	return j;
}

static void addr_is(const struct fg_addr *a, int family, const char *text)
{
	char buf[INET6_ADDRSTRLEN];
	const void *p = family == AF_INET ? (const void *)&a->a4 :
					    (const void *)&a->a6;

	assert_int_equal(a->family, family);
	assert_non_null(inet_ntop(family, p, buf, sizeof(buf)));
	assert_string_equal(buf, text);
}

static void assert_addr_equal(const struct fg_addr *a, const struct fg_addr *b)
{
	assert_int_equal(a->family, b->family);
	if (a->family == AF_INET)
		assert_memory_equal(&a->a4, &b->a4, sizeof(a->a4));
	else
		assert_memory_equal(&a->a6, &b->a6, sizeof(a->a6));
}

static void assert_svc_equal(const struct fg_rule_service *a,
			     const struct fg_rule_service *b)
{
	uint32_t i;

	assert_string_equal(a->name, b->name);
	assert_addr_equal(&a->vip, &b->vip);
	assert_int_equal(a->port, b->port);
	assert_int_equal(a->proto, b->proto);
	assert_int_equal(a->mode, b->mode);
	assert_int_equal(a->forward, b->forward);
	assert_int_equal(a->hash, b->hash);
	assert_int_equal(a->nbackends, b->nbackends);
	for (i = 0; i < a->nbackends; i++) {
		const struct fg_rule_backend *x = &a->backends[i],
					     *y = &b->backends[i];

		assert_addr_equal(&x->addr, &y->addr);
		assert_int_equal(x->port, y->port);
		assert_int_equal(x->weight, y->weight);
		assert_int_equal(x->state, y->state);
		assert_int_equal(x->health_down, y->health_down);
	}
	assert_int_equal(a->health.type, b->health.type);
	assert_int_equal(a->health.interval_ms, b->health.interval_ms);
	assert_int_equal(a->health.timeout_ms, b->health.timeout_ms);
	assert_int_equal(a->health.rise, b->health.rise);
	assert_int_equal(a->health.fall, b->health.fall);
	assert_int_equal(a->health.port, b->health.port);
	assert_string_equal(a->health.path, b->health.path);
	assert_int_equal(a->health.expect_status, b->health.expect_status);
}

static void assert_lim_equal(const struct fg_rule_limit *a,
			     const struct fg_rule_limit *b)
{
	assert_string_equal(a->name, b->name);
	assert_string_equal(a->service, b->service);
	assert_int_equal(a->match_src_set, b->match_src_set);
	if (a->match_src_set)
		assert_addr_equal(&a->match_src, &b->match_src);
	assert_int_equal(a->match_src_len, b->match_src_len);
	assert_int_equal(a->match_proto, b->match_proto);
	assert_int_equal(a->match_dport, b->match_dport);
	assert_int_equal(a->key, b->key);
	assert_int_equal(a->prefix_len, b->prefix_len);
	assert_int_equal(a->unit, b->unit);
	assert_int_equal(a->rate, b->rate);
	assert_int_equal(a->burst, b->burst);
	assert_int_equal(a->action, b->action);
	assert_int_equal(a->cluster_scope, b->cluster_scope);
	assert_int_equal(a->dry_run, b->dry_run);
}

static void assert_set_equal(const struct fg_ruleset *a,
			     const struct fg_ruleset *b)
{
	uint32_t i;

	assert_int_equal(a->nservices, b->nservices);
	assert_int_equal(a->nlimits, b->nlimits);
	for (i = 0; i < a->nservices; i++)
		assert_svc_equal(&a->services[i], &b->services[i]);
	for (i = 0; i < a->nlimits; i++) {
		assert_lim_equal(&a->limits[i], &b->limits[i]);
		assert_memory_equal(&a->limits[i].respond, &b->limits[i].respond,
				    sizeof(a->limits[i].respond));
	}
	assert_int_equal(a->nroutes, b->nroutes);
	for (i = 0; i < a->nroutes; i++) {
		const struct fg_rule_route *x = &a->routes[i], *y = &b->routes[i];

		assert_string_equal(x->name, y->name);
		assert_string_equal(x->service, y->service);
		assert_int_equal(x->priority, y->priority);
		assert_string_equal(x->match.host, y->match.host);
		assert_int_equal(x->match.nheaders, y->match.nheaders);
		assert_int_equal(x->nbackends, y->nbackends);
		assert_memory_equal(x->backends, y->backends,
				    x->nbackends * sizeof(*x->backends));
	}
	assert_int_equal(a->nseckill, b->nseckill);
	for (i = 0; i < a->nseckill; i++) {
		const struct fg_rule_seckill *x = &a->seckill[i],
					     *y = &b->seckill[i];

		assert_string_equal(x->name, y->name);
		assert_int_equal(x->item_from, y->item_from);
		assert_int_equal(x->nitems, y->nitems);
		assert_int_equal(x->max_items, y->max_items);
		assert_int_equal(x->rate, y->rate);
		assert_int_equal(x->burst, y->burst);
		assert_int_equal(x->has_stock, y->has_stock);
		assert_int_equal(x->stock, y->stock);
		assert_int_equal(x->client_key, y->client_key);
		assert_int_equal(x->client_prefix_len, y->client_prefix_len);
		assert_int_equal(x->start_ns, y->start_ns);
		assert_int_equal(x->end_ns, y->end_ns);
		assert_memory_equal(&x->respond, &y->respond, sizeof(x->respond));
		assert_memory_equal(&x->sold_out, &y->sold_out,
				    sizeof(x->sold_out));
	}
}

/* Parse a service that must be good. */
static void svc_ok(const char *text, struct fg_rule_service *out)
{
	struct fg_rule_error err = { 0 };
	json_t *j = jq(text);
	int rc = fg_service_from_json("web", j, out, &err);

	json_decref(j);
	if (rc)
		fail_msg("service refused (%d): %s: %s", rc, err.message, text);
}

static void lim_ok(const char *text, struct fg_rule_limit *out)
{
	struct fg_rule_error err = { 0 };
	json_t *j = jq(text);
	int rc = fg_limit_from_json("perip", j, out, &err);

	json_decref(j);
	if (rc)
		fail_msg("limit refused (%d): %s: %s", rc, err.message, text);
}

static void cfg_ok(const char *text, struct fg_ruleset *out)
{
	struct fg_rule_error err = { 0 };
	json_t *j = jq(text);
	int rc = fg_ruleset_from_json(j, out, &err);

	json_decref(j);
	if (rc)
		fail_msg("config refused (%d): %s: %s", rc, err.message, text);
}

/*
 * The regex hook as the daemon sets it, but without hyperscan: refuses a
 * back-reference (which hyperscan refuses too) with a message of its own,
 * so the tests see the message carried into the error.
 */
static int test_regex_check(const char *re, char *msg, size_t msglen)
{
	const char *p;

	for (p = re; *p; p++)
		if (p[0] == '\\' && p[1] >= '1' && p[1] <= '9') {
			snprintf(msg, msglen, "test hook refuses back-references");
			return -1;
		}
	return 0;
}

/* ------------------------------------------------------ bad inputs */

enum kind { K_SVC, K_LIM, K_CFG, K_ROUTE, K_SK };

struct bad_case {
	enum kind kind;
	const char *json;
	enum fg_rule_err err;
	const char *field;  /* exact; "" for none */
	const char *msg;    /* a substring the message must hold */
};

#define V4 "'vip':'198.18.0.10','port':80"
#define V6 "'vip':'2001:db8::10','port':80"
#define B1 "{'addr':'198.19.0.1'}"
#define LB "'unit':'pps','rate':100"
#define RS "'service':'shop','backends':[{'addr':'198.19.0.5'}]"
#define RB "'backends':[{'addr':'198.19.0.5'}]"
#define SB "'service':'shop','rate':500"
#define HX(n) "{'name':'X" #n "','regex':'1'}"
#define H9 HX(1) "," HX(2) "," HX(3) "," HX(4) "," HX(5) "," HX(6) "," \
	   HX(7) "," HX(8) "," HX(9)

static const struct bad_case bad_cases[] = {
	/* ---- service: shape, vip, port, enums */
	{ K_SVC, "[]", FG_RULE_EINVAL, "", "must be an object" },
	{ K_SVC, "{'port':80}", FG_RULE_EINVAL, "vip", "required" },
	{ K_SVC, "{'vip':1,'port':80}", FG_RULE_EINVAL, "vip", "must be a string" },
	{ K_SVC, "{'vip':'198.18.0.300','port':80}", FG_RULE_EINVAL, "vip",
	  "is not an IPv4 or IPv6 address" },
	{ K_SVC, "{'vip':'198.18.0.10/32','port':80}", FG_RULE_EINVAL, "vip",
	  "is not an IPv4 or IPv6 address" },
	{ K_SVC, "{'vip':'198.018.0.10','port':80}", FG_RULE_EINVAL, "vip",
	  "is not an IPv4 or IPv6 address" },
	{ K_SVC, "{'vip':'fe80::1%eth0','port':80}", FG_RULE_EINVAL, "vip",
	  "is not an IPv4 or IPv6 address" },
	{ K_SVC, "{'vip':'[2001:db8::1]','port':80}", FG_RULE_EINVAL, "vip",
	  "is not an IPv4 or IPv6 address" },
	{ K_SVC, "{'vip':'','port':80}", FG_RULE_EINVAL, "vip",
	  "is not an IPv4 or IPv6 address" },
	{ K_SVC, "{'vip':'0.0.0.0','port':80}", FG_RULE_EINVAL, "vip", "unspecified" },
	{ K_SVC, "{'vip':'::','port':80}", FG_RULE_EINVAL, "vip", "unspecified" },
	{ K_SVC, "{'vip':'224.0.0.1','port':80}", FG_RULE_EINVAL, "vip", "multicast" },
	{ K_SVC, "{'vip':'ff02::1','port':80}", FG_RULE_EINVAL, "vip", "multicast" },
	{ K_SVC, "{'vip':'255.255.255.255','port':80}", FG_RULE_EINVAL, "vip",
	  "broadcast" },
	{ K_SVC, "{'vip':'::ffff:198.18.0.10','port':80}", FG_RULE_EINVAL, "vip",
	  "IPv4-mapped" },
	{ K_SVC, "{'vip':'198.18.0.10'}", FG_RULE_EINVAL, "port", "required" },
	{ K_SVC, "{'vip':'198.18.0.10','port':65536}", FG_RULE_EINVAL, "port",
	  "must be 0..65535" },
	{ K_SVC, "{'vip':'198.18.0.10','port':-1}", FG_RULE_EINVAL, "port",
	  "must be 0..65535" },
	{ K_SVC, "{'vip':'198.18.0.10','port':99999999999999999}", FG_RULE_EINVAL,
	  "port", "must be 0..65535" },
	{ K_SVC, "{'vip':'198.18.0.10','port':9223372036854775807}", FG_RULE_EINVAL,
	  "port", "must be 0..65535" },
	{ K_SVC, "{'vip':'198.18.0.10','port':80.0}", FG_RULE_EINVAL, "port",
	  "must be an integer" },
	{ K_SVC, "{'vip':'198.18.0.10','port':1e3}", FG_RULE_EINVAL, "port",
	  "must be an integer" },
	{ K_SVC, "{'vip':'198.18.0.10','port':'80'}", FG_RULE_EINVAL, "port",
	  "must be an integer" },
	{ K_SVC, "{'vip':'198.18.0.10','port':true}", FG_RULE_EINVAL, "port",
	  "must be an integer" },
	{ K_SVC, "{'vip':'198.18.0.10','port':null}", FG_RULE_EINVAL, "port",
	  "must be an integer" },
	{ K_SVC, "{" V4 ",'proto':'icmp'}", FG_RULE_EINVAL, "proto",
	  "must be one of tcp, udp" },
	{ K_SVC, "{" V4 ",'proto':'TCP'}", FG_RULE_EINVAL, "proto",
	  "must be one of tcp, udp" },
	{ K_SVC, "{" V4 ",'proto':6}", FG_RULE_EINVAL, "proto", "must be a string" },
	{ K_SVC, "{" V4 ",'mode':'l5'}", FG_RULE_EINVAL, "mode",
	  "must be one of l4, l7" },
	{ K_SVC, "{" V4 ",'forward':'dsr'}", FG_RULE_EINVAL, "forward",
	  "must be one of dsr-ipip, dsr-gue, nat" },
	{ K_SVC, "{" V4 ",'hash':'rr'}", FG_RULE_EINVAL, "hash",
	  "must be one of 5tuple, src_ip" },
	{ K_SVC, "{" V4 ",'mode':'l7','proto':'udp'}", FG_RULE_EINVAL, "proto",
	  "must be tcp for mode l7" },
	{ K_SVC, "{" V4 ",'mode':'l7','forward':'dsr-gue'}", FG_RULE_EINVAL, "forward",
	  "must be nat for mode l7" },
	{ K_SVC, "{" V4 ",'vips':[]}", FG_RULE_EINVAL, "vips", "unknown field" },
	{ K_SVC, "{" V4 ",'name':'web'}", FG_RULE_EINVAL, "name", "unknown field" },
	/* ---- backends */
	{ K_SVC, "{" V4 ",'backends':{}}", FG_RULE_EINVAL, "backends",
	  "must be an array" },
	{ K_SVC, "{" V4 ",'backends':['198.19.0.1']}", FG_RULE_EINVAL, "backends[0]",
	  "must be an object" },
	{ K_SVC, "{" V4 ",'backends':[{'port':80}]}", FG_RULE_EINVAL, "backends[0].addr",
	  "required" },
	{ K_SVC, "{" V4 ",'backends':[" B1 ",{'addr':'198.19.0'}]}", FG_RULE_EINVAL,
	  "backends[1].addr", "is not an IPv4 or IPv6 address" },
	{ K_SVC, "{" V4 ",'backends':[{'addr':'2001:db8::1'}]}", FG_RULE_EINVAL,
	  "backends[0].addr", "must be IPv4 like the vip" },
	{ K_SVC, "{" V6 ",'backends':[{'addr':'198.19.0.1'}]}", FG_RULE_EINVAL,
	  "backends[0].addr", "must be IPv6 like the vip" },
	{ K_SVC, "{" V4 ",'backends':[{'addr':'0.0.0.0'}]}", FG_RULE_EINVAL,
	  "backends[0].addr", "unspecified" },
	{ K_SVC, "{" V4 ",'backends':[" B1 ",{'addr':'198.19.0.2'},"
		 "{'addr':'198.19.0.3','port':0}]}", FG_RULE_EINVAL, "backends[2].port",
	  "must be 1..65535" },
	{ K_SVC, "{" V4 ",'backends':[{'addr':'198.19.0.1','port':65536}]}",
	  FG_RULE_EINVAL, "backends[0].port", "must be 1..65535" },
	{ K_SVC, "{" V4 ",'backends':[{'addr':'198.19.0.1','port':8080.5}]}",
	  FG_RULE_EINVAL, "backends[0].port", "must be an integer" },
	{ K_SVC, "{" V4 ",'backends':[{'addr':'198.19.0.1','weight':65536}]}",
	  FG_RULE_EINVAL, "backends[0].weight", "must be 0..65535" },
	{ K_SVC, "{" V4 ",'backends':[{'addr':'198.19.0.1','weight':-1}]}",
	  FG_RULE_EINVAL, "backends[0].weight", "must be 0..65535" },
	{ K_SVC, "{" V4 ",'backends':[{'addr':'198.19.0.1','weight':1.5}]}",
	  FG_RULE_EINVAL, "backends[0].weight", "must be an integer" },
	{ K_SVC, "{" V4 ",'backends':[{'addr':'198.19.0.1','state':'up'}]}",
	  FG_RULE_EINVAL, "backends[0].state", "must be one of active, drain, down" },
	{ K_SVC, "{" V4 ",'backends':[{'addr':'198.19.0.1','prio':1}]}",
	  FG_RULE_EINVAL, "backends[0].prio", "unknown field" },
	{ K_SVC, "{'vip':'198.18.0.10','port':0,'forward':'nat',"
		 "'backends':[" B1 "]}", FG_RULE_EINVAL, "backends[0].port",
	  "required with forward nat" },
	{ K_SVC, "{" V4 ",'forward':'nat','backends':["
		 "{'addr':'198.19.0.1','port':8080},{'addr':'198.19.0.2'},"
		 "{'addr':'198.19.0.1','port':8080}]}", FG_RULE_EINVAL, "backends[2]",
	  "duplicates backends[0]" },
	{ K_SVC, "{" V4 ",'backends':[{'addr':'198.19.0.1','port':8080},"
		 "{'addr':'198.19.0.1','port':8081}]}", FG_RULE_EINVAL, "backends[1]",
	  "same address as backends[0]" },
	/* ---- health */
	{ K_SVC, "{" V4 ",'health':'tcp'}", FG_RULE_EINVAL, "health",
	  "must be an object" },
	{ K_SVC, "{" V4 ",'health':{'retries':3}}", FG_RULE_EINVAL, "health.retries",
	  "unknown field" },
	{ K_SVC, "{" V4 ",'health':{'type':'icmp'}}", FG_RULE_EINVAL, "health.type",
	  "must be one of tcp, http" },
	{ K_SVC, "{" V4 ",'health':{'interval_ms':50}}", FG_RULE_EINVAL,
	  "health.interval_ms", "must be 100..3600000" },
	{ K_SVC, "{" V4 ",'health':{'interval_ms':1000,'timeout_ms':1000}}",
	  FG_RULE_EINVAL, "health.timeout_ms", "must be less than interval_ms (1000)" },
	{ K_SVC, "{" V4 ",'health':{'timeout_ms':2000}}", FG_RULE_EINVAL,
	  "health.timeout_ms", "must be less than interval_ms (1000)" },
	{ K_SVC, "{" V4 ",'health':{'timeout_ms':0}}", FG_RULE_EINVAL,
	  "health.timeout_ms", "must be 1..3600000" },
	{ K_SVC, "{" V4 ",'health':{'rise':0}}", FG_RULE_EINVAL, "health.rise",
	  "must be 1..1000" },
	{ K_SVC, "{" V4 ",'health':{'fall':1001}}", FG_RULE_EINVAL, "health.fall",
	  "must be 1..1000" },
	{ K_SVC, "{" V4 ",'health':{'port':0}}", FG_RULE_EINVAL, "health.port",
	  "must be 1..65535" },
	{ K_SVC, "{" V4 ",'health':{'path':'/'}}", FG_RULE_EINVAL, "health.path",
	  "only valid with type http" },
	{ K_SVC, "{" V4 ",'health':{'type':'tcp','expect_status':200}}", FG_RULE_EINVAL,
	  "health.expect_status", "only valid with type http" },
	{ K_SVC, "{" V4 ",'health':{'type':'http','path':'healthz'}}", FG_RULE_EINVAL,
	  "health.path", "must start with /" },
	{ K_SVC, "{" V4 ",'health':{'type':'http','path':'/a b'}}", FG_RULE_EINVAL,
	  "health.path", "printable ASCII" },
	{ K_SVC, "{" V4 ",'health':{'type':'http','path':7}}", FG_RULE_EINVAL,
	  "health.path", "must be a string" },
	{ K_SVC, "{" V4 ",'health':{'type':'http','expect_status':600}}", FG_RULE_EINVAL,
	  "health.expect_status", "must be 100..599" },
	{ K_SVC, "{'vip':'198.18.0.10','port':0,'backends':[" B1 "],"
		 "'health':{}}", FG_RULE_EINVAL, "health.port",
	  "required: backends[0] has no port" },

	/* ---- limit */
	{ K_LIM, "'pps'", FG_RULE_EINVAL, "", "must be an object" },
	{ K_LIM, "{" LB ",'foo':1}", FG_RULE_EINVAL, "foo", "unknown field" },
	{ K_LIM, "{" LB ",'respond':{'status':429}}", FG_RULE_EINVAL, "respond",
	  "only valid with action respond" },
	{ K_LIM, "{" LB ",'service':1}", FG_RULE_EINVAL, "service", "must be a string" },
	{ K_LIM, "{" LB ",'service':'Web'}", FG_RULE_EINVAL, "service",
	  "is not a valid service name" },
	{ K_LIM, "{" LB ",'match':[]}", FG_RULE_EINVAL, "match", "must be an object" },
	{ K_LIM, "{" LB ",'match':{'dst':80}}", FG_RULE_EINVAL, "match.dst",
	  "unknown field" },
	{ K_LIM, "{" LB ",'match':{'src':'198.18.0.0/33'}}", FG_RULE_EINVAL, "match.src",
	  "prefix length must be 0..32" },
	{ K_LIM, "{" LB ",'match':{'src':'2001:db8::/129'}}", FG_RULE_EINVAL,
	  "match.src", "prefix length must be 0..128" },
	{ K_LIM, "{" LB ",'match':{'src':'198.18.64.5/18'}}", FG_RULE_EINVAL, "match.src",
	  "198.18.64.5/18 has host bits set; the network is 198.18.64.0/18" },
	{ K_LIM, "{" LB ",'match':{'src':'2001:db8::1/32'}}", FG_RULE_EINVAL, "match.src",
	  "the network is 2001:db8::/32" },
	{ K_LIM, "{" LB ",'match':{'src':'198.18.0.0/'}}", FG_RULE_EINVAL, "match.src",
	  "is not an IPv4 or IPv6 prefix" },
	{ K_LIM, "{" LB ",'match':{'src':'198.18.0.0/016'}}", FG_RULE_EINVAL, "match.src",
	  "is not an IPv4 or IPv6 prefix" },
	{ K_LIM, "{" LB ",'match':{'src':'198.18.0.0/-1'}}", FG_RULE_EINVAL, "match.src",
	  "is not an IPv4 or IPv6 prefix" },
	{ K_LIM, "{" LB ",'match':{'src':'198.18.0.0/16/1'}}", FG_RULE_EINVAL,
	  "match.src", "is not an IPv4 or IPv6 prefix" },
	{ K_LIM, "{" LB ",'match':{'src':'any'}}", FG_RULE_EINVAL, "match.src",
	  "is not an IPv4 or IPv6 prefix" },
	{ K_LIM, "{" LB ",'match':{'proto':'icmp'}}", FG_RULE_EINVAL, "match.proto",
	  "must be one of tcp, udp" },
	{ K_LIM, "{" LB ",'match':{'dst_port':0}}", FG_RULE_EINVAL, "match.dst_port",
	  "must be 1..65535" },
	{ K_LIM, "{" LB ",'match':{'dst_port':'80'}}", FG_RULE_EINVAL, "match.dst_port",
	  "must be an integer" },
	{ K_LIM, "{" LB ",'key':'item'}", FG_RULE_EINVAL, "key",
	  "item is only for seckill rules" },
	{ K_LIM, "{" LB ",'key':'dst_ip'}", FG_RULE_EINVAL, "key",
	  "must be one of src_ip, flow, service, src_prefix/N" },
	{ K_LIM, "{" LB ",'key':'src_prefix/33',"
		 "'match':{'src':'198.18.0.0/16'}}", FG_RULE_EINVAL, "key",
	  "N must be 0..32" },
	{ K_LIM, "{" LB ",'key':'src_prefix/129'}", FG_RULE_EINVAL, "key", "0..128" },
	{ K_LIM, "{" LB ",'key':'src_prefix/'}", FG_RULE_EINVAL, "key", "0..128" },
	{ K_LIM, "{" LB ",'key':'src_prefix/024'}", FG_RULE_EINVAL, "key", "0..128" },
	{ K_LIM, "{" LB ",'key':'src_prefix/64'}", FG_RULE_EINVAL, "key",
	  "N above 32 needs an IPv6 match.src or an IPv6 service" },
	{ K_LIM, "{'rate':100}", FG_RULE_EINVAL, "unit", "required" },
	{ K_LIM, "{'unit':'rps','rate':100}", FG_RULE_EINVAL, "unit",
	  "the limit needs an l7 service" },
	{ K_LIM, "{'unit':'qps','rate':100}", FG_RULE_EINVAL, "unit",
	  "must be one of pps, bps, cps" },
	{ K_LIM, "{'unit':'cps','rate':100,'match':{'proto':'udp'}}", FG_RULE_EINVAL,
	  "unit", "cps counts new TCP connections" },
	{ K_LIM, "{'unit':'pps'}", FG_RULE_EINVAL, "rate", "required" },
	{ K_LIM, "{'unit':'pps','rate':0}", FG_RULE_EINVAL, "rate",
	  "must be 1..100000000000" },
	{ K_LIM, "{'unit':'pps','rate':100000000001}", FG_RULE_EINVAL, "rate",
	  "must be 1..100000000000" },
	{ K_LIM, "{'unit':'pps','rate':-5}", FG_RULE_EINVAL, "rate",
	  "must be 1..100000000000" },
	{ K_LIM, "{'unit':'pps','rate':1.5}", FG_RULE_EINVAL, "rate",
	  "must be an integer" },
	{ K_LIM, "{'unit':'pps','rate':'100'}", FG_RULE_EINVAL, "rate",
	  "must be an integer" },
	{ K_LIM, "{" LB ",'burst':0}", FG_RULE_EINVAL, "burst",
	  "must be 1..9223372036854775807" },
	{ K_LIM, "{'unit':'pps','rate':1,'burst':4611686019}", FG_RULE_EINVAL, "burst",
	  "too long a window" },
	{ K_LIM, "{" LB ",'action':'respond'}", FG_RULE_EINVAL, "action",
	  "only with unit rps" },
	{ K_LIM, "{" LB ",'action':'reject'}", FG_RULE_EINVAL, "action",
	  "must be one of drop, reset" },
	{ K_LIM, "{" LB ",'action':'reset'}", FG_RULE_EINVAL, "action",
	  "reset sends a TCP RST" },
	{ K_LIM, "{" LB ",'action':'reset','match':{'proto':'udp'}}", FG_RULE_EINVAL,
	  "action", "reset sends a TCP RST" },
	{ K_LIM, "{" LB ",'scope':'global'}", FG_RULE_EINVAL, "scope",
	  "must be one of node, cluster" },
	{ K_LIM, "{" LB ",'dry_run':'yes'}", FG_RULE_EINVAL, "dry_run",
	  "must be true or false" },
	{ K_LIM, "{" LB ",'dry_run':0}", FG_RULE_EINVAL, "dry_run",
	  "must be true or false" },

	/* ---- config body */
	{ K_CFG, "[]", FG_RULE_EINVAL, "", "request body must be a JSON object" },
	{ K_CFG, "{'version':3,'services':{}}", FG_RULE_EINVAL, "version",
	  "not allowed in a PUT body" },
	{ K_CFG, "{'service':{}}", FG_RULE_EINVAL, "service", "unknown field" },
	{ K_CFG, "{'services':[]}", FG_RULE_EINVAL, "services", "must be an object" },
	{ K_CFG, "{'limits':[]}", FG_RULE_EINVAL, "limits", "must be an object" },
	{ K_CFG, "{'routes':[]}", FG_RULE_EINVAL, "routes", "must be an object" },
	{ K_CFG, "{'routes':{'r':{'service':'shop'}}}", FG_RULE_EINVAL,
	  "routes.r.backends", "required" },
	{ K_CFG, "{'seckill':{'s':{}}}", FG_RULE_EINVAL, "seckill.s.service",
	  "required" },
	{ K_CFG, "{'services':{'Web':{" V4 "}}}", FG_RULE_EINVAL, "services",
	  "\"Web\" is not a valid name" },
	{ K_CFG, "{'services':{'':{" V4 "}}}", FG_RULE_EINVAL, "services",
	  "\"\" is not a valid name" },
	{ K_CFG, "{'limits':{'_x':{" LB "}}}", FG_RULE_EINVAL, "limits",
	  "\"_x\" is not a valid name" },
	{ K_CFG, "{'services':{'web':7}}", FG_RULE_EINVAL, "services.web",
	  "must be an object" },
	{ K_CFG, "{'services':{'web':{" V4 ",'backends':[" B1 ","
		 "{'addr':'198.19.0.2'},{'addr':'198.19.0.3','port':0}]}}}",
	  FG_RULE_EINVAL, "services.web.backends[2].port", "must be 1..65535" },
	{ K_CFG, "{'services':{'web':{" V4 ",'backends':[{'addr':'198.19.0.1',"
		 "'foo':1}]}}}", FG_RULE_EINVAL, "services.web.backends[0].foo",
	  "unknown field" },
	{ K_CFG, "{'services':{'web':{" V4 ",'health':{'interval_ms':1.0}}}}",
	  FG_RULE_EINVAL, "services.web.health.interval_ms", "must be an integer" },
	{ K_CFG, "{'services':{'a':{" V4 "},'b':{" V4 ",'forward':'nat',"
		 "'backends':[{'addr':'198.19.0.1'},{'addr':'198.19.0.1'}]}}}",
	  FG_RULE_EINVAL, "services.b.backends[1]", "duplicates backends[0]" },
	{ K_CFG, "{'limits':{'perip':{" LB ",'match':{'src':'198.18.0.1/15'}}}}",
	  FG_RULE_EINVAL, "limits.perip.match.src", "the network is 198.18.0.0/15" },
	{ K_CFG, "{'limits':{'perip':{" LB ",'service':'web'}}}", FG_RULE_EINVAL,
	  "limits.perip.service", "no service named web" },
	{ K_CFG, "{'services':{'web':{" V4 "}},'limits':{'perip':{" LB ","
		 "'service':'shop'}}}", FG_RULE_EINVAL, "limits.perip.service",
	  "no service named shop" },
	{ K_CFG, "{'services':{'b':{" V4 "},'a':{" V4 "}}}", FG_RULE_ECONFLICT,
	  "services.b.vip", "198.18.0.10 port 80 tcp is already used by service a" },
	{ K_CFG, "{'services':{'a':{'vip':'2001:db8:0::10','port':443},"
		 "'z':{'vip':'2001:DB8::10','port':443,'proto':'tcp'}}}", FG_RULE_ECONFLICT,
	  "services.z.vip", "2001:db8::10 port 443 tcp is already used by service a" },
	{ K_CFG, "{'services':{'web':{" V4 ",'proto':'udp'}},'limits':{'l':{"
		 LB ",'service':'web','match':{'proto':'tcp'}}}}", FG_RULE_EINVAL,
	  "limits.l.match.proto", "service web is udp" },
	{ K_CFG, "{'services':{'web':{" V4 "}},'limits':{'l':{" LB ","
		 "'service':'web','match':{'dst_port':443}}}}", FG_RULE_EINVAL,
	  "limits.l.match.dst_port", "service web is on port 80 only" },
	{ K_CFG, "{'services':{'web':{" V4 "}},'limits':{'l':{" LB ","
		 "'service':'web','match':{'src':'2001:db8::/32'}}}}", FG_RULE_EINVAL,
	  "limits.l.match.src", "an IPv6 prefix would never match" },
	{ K_CFG, "{'services':{'web':{" V6 "}},'limits':{'l':{" LB ","
		 "'service':'web','match':{'src':'198.18.0.0/15'}}}}", FG_RULE_EINVAL,
	  "limits.l.match.src", "an IPv4 prefix would never match" },
	{ K_CFG, "{'services':{'web':{" V4 "}},'limits':{'l':{" LB ","
		 "'service':'web','key':'src_prefix/64'}}}", FG_RULE_EINVAL, "limits.l.key",
	  "N must be 0..32 for service web's IPv4 vip" },
	{ K_CFG, "{'services':{'dns':{'vip':'198.18.0.53','port':53,"
		 "'proto':'udp'}},'limits':{'l':{'unit':'cps','rate':10,"
		 "'service':'dns'}}}", FG_RULE_EINVAL, "limits.l.unit", "service dns is udp" },
	{ K_CFG, "{'services':{'dns':{'vip':'198.18.0.53','port':53,"
		 "'proto':'udp'}},'limits':{'l':{" LB ",'action':'reset',"
		 "'service':'dns'}}}", FG_RULE_EINVAL, "limits.l.action",
	  "reset sends a TCP RST; service dns is udp" },

	/* ---- limit: rps and the respond action */
	{ K_LIM, "{'service':'shop','unit':'rps','rate':10,'match':{'proto':'udp'}}",
	  FG_RULE_EINVAL, "unit", "match.proto is udp" },
	{ K_LIM, "{'service':'shop','unit':'rps','rate':10,'action':'respond',"
		 "'respond':[]}", FG_RULE_EINVAL, "respond", "must be an object" },
	{ K_LIM, "{'service':'shop','unit':'rps','rate':10,'action':'respond',"
		 "'respond':{'code':429}}", FG_RULE_EINVAL, "respond.code", "unknown field" },
	{ K_LIM, "{'service':'shop','unit':'rps','rate':10,'action':'respond',"
		 "'respond':{'status':200}}", FG_RULE_EINVAL, "respond.status",
	  "must be 400..599" },
	{ K_LIM, "{'service':'shop','unit':'rps','rate':10,'action':'respond',"
		 "'respond':{'status':405}}", FG_RULE_EINVAL, "respond.status",
	  "needs a header" },
	{ K_LIM, "{'service':'shop','unit':'rps','rate':10,'action':'respond',"
		 "'respond':{'status':'429'}}", FG_RULE_EINVAL, "respond.status",
	  "must be an integer" },
	{ K_LIM, "{'service':'shop','unit':'rps','rate':10,'action':'respond',"
		 "'respond':{'retry_after':604801}}", FG_RULE_EINVAL,
	  "respond.retry_after", "must be 0..604800" },
	{ K_LIM, "{'service':'shop','unit':'rps','rate':10,'action':'respond',"
		 "'respond':{'retry_after':-1}}", FG_RULE_EINVAL,
	  "respond.retry_after", "must be 0..604800" },
	{ K_LIM, "{'service':'shop','unit':'rps','rate':10,'action':'respond',"
		 "'respond':{'content_type':'text/plain'}}", FG_RULE_EINVAL,
	  "respond.content_type", "only valid with a non-empty body" },
	{ K_LIM, "{'service':'shop','unit':'rps','rate':10,'action':'respond',"
		 "'respond':{'body':'x','content_type':'text\\r\\nX: y'}}",
	  FG_RULE_EINVAL, "respond.content_type", "type/subtype" },
	{ K_LIM, "{'service':'shop','unit':'rps','rate':10,'action':'respond',"
		 "'respond':{'body':'x','content_type':'plain'}}",
	  FG_RULE_EINVAL, "respond.content_type", "type/subtype" },
	{ K_LIM, "{'service':'shop','unit':'rps','rate':10,'action':'respond',"
		 "'respond':{'body':7}}", FG_RULE_EINVAL, "respond.body",
	  "must be a string" },
	{ K_CFG, "{'services':{'web':{" V4 "}},'limits':{'l':{'service':'web',"
		 "'unit':'rps','rate':10}}}", FG_RULE_EINVAL, "limits.l.service",
	  "service web is mode l4: unit rps needs an l7 (HTTP) service" },

	/* ---- route */
	{ K_ROUTE, "[]", FG_RULE_EINVAL, "", "must be an object" },
	{ K_ROUTE, "{" RB "}", FG_RULE_EINVAL, "service", "required" },
	{ K_ROUTE, "{'service':'Shop'," RB "}", FG_RULE_EINVAL, "service",
	  "is not a valid service name" },
	{ K_ROUTE, "{'service':'shop'}", FG_RULE_EINVAL, "backends", "required" },
	{ K_ROUTE, "{'service':'shop','backends':[]}", FG_RULE_EINVAL, "backends",
	  "must hold 1..4096 backends" },
	{ K_ROUTE, "{'service':'shop','backends':{}}", FG_RULE_EINVAL, "backends",
	  "must be an array" },
	{ K_ROUTE, "{'service':'shop','backends':[{'addr':'198.19.0.5','port':0}]}",
	  FG_RULE_EINVAL, "backends[0].port", "must be 1..65535" },
	{ K_ROUTE, "{'service':'shop','backends':[{'addr':'x'}]}",
	  FG_RULE_EINVAL, "backends[0].addr", "is not an IPv4 or IPv6 address" },
	{ K_ROUTE, "{'service':'shop','backends':[{'addr':'198.19.0.5','port':80},"
		 "{'addr':'198.19.0.5','port':80}]}", FG_RULE_EINVAL,
	  "backends[1]", "duplicates backends[0]" },
	{ K_ROUTE, "{'service':'shop','backends':[{'addr':'198.19.0.5','health':1}]}",
	  FG_RULE_EINVAL, "backends[0].health", "unknown field" },
	{ K_ROUTE, "{" RS ",'weight':1}", FG_RULE_EINVAL, "weight", "unknown field" },
	{ K_ROUTE, "{" RS ",'priority':-1}", FG_RULE_EINVAL, "priority",
	  "must be 0..1000000" },
	{ K_ROUTE, "{" RS ",'priority':1.5}", FG_RULE_EINVAL, "priority",
	  "must be an integer" },
	{ K_ROUTE, "{" RS ",'match':[]}", FG_RULE_EINVAL, "match", "must be an object" },
	{ K_ROUTE, "{" RS ",'match':{'path':'/'}}", FG_RULE_EINVAL, "match.path",
	  "unknown field" },
	{ K_ROUTE, "{" RS ",'match':{'host':'a..b'}}", FG_RULE_EINVAL, "match.host",
	  "an empty label" },
	{ K_ROUTE, "{" RS ",'match':{'host':'*.'}}", FG_RULE_EINVAL, "match.host",
	  "only a leading" },
	{ K_ROUTE, "{" RS ",'match':{'host':'*..a'}}", FG_RULE_EINVAL, "match.host",
	  "an empty label" },
	{ K_ROUTE, "{" RS ",'match':{'host':'a.*.example'}}", FG_RULE_EINVAL,
	  "match.host", "only a leading" },
	{ K_ROUTE, "{" RS ",'match':{'host':'shop example'}}", FG_RULE_EINVAL,
	  "match.host", "no Host header can carry" },
	{ K_ROUTE, "{" RS ",'match':{'host':''}}", FG_RULE_EINVAL, "match.host",
	  "1..255 bytes" },
	{ K_ROUTE, "{" RS ",'match':{'method':'get'}}", FG_RULE_EINVAL,
	  "match.method", "must be one of GET" },
	{ K_ROUTE, "{" RS ",'match':{'method':'CONNECT'}}", FG_RULE_EINVAL,
	  "match.method", "must be one of GET" },
	{ K_ROUTE, "{" RS ",'match':{'path_prefix':'api/'}}", FG_RULE_EINVAL,
	  "match.path_prefix", "must start with /" },
	{ K_ROUTE, "{" RS ",'match':{'path_prefix':'/a b'}}", FG_RULE_EINVAL,
	  "match.path_prefix", "byte 2 is not allowed" },
	{ K_ROUTE, "{" RS ",'match':{'path_prefix':'/a?b'}}", FG_RULE_EINVAL,
	  "match.path_prefix", "byte 2 is not allowed" },
	{ K_ROUTE, "{" RS ",'match':{'path_prefix':'/a%2'}}", FG_RULE_EINVAL,
	  "match.path_prefix", "not followed by two hex digits" },
	{ K_ROUTE, "{" RS ",'match':{'path_regex':''}}", FG_RULE_EINVAL,
	  "match.path_regex", "1..4096 bytes" },
	{ K_ROUTE, "{" RS ",'match':{'path_regex':5}}", FG_RULE_EINVAL,
	  "match.path_regex", "must be a string" },
	{ K_ROUTE, "{" RS ",'match':{'path_regex':'(a)\\\\1'}}", FG_RULE_EINVAL,
	  "match.path_regex", "hyperscan cannot compile it: test hook refuses" },
	{ K_ROUTE, "{" RS ",'match':{'headers':{}}}", FG_RULE_EINVAL,
	  "match.headers", "must be an array" },
	{ K_ROUTE, "{" RS ",'match':{'headers':[1]}}", FG_RULE_EINVAL,
	  "match.headers[0]", "must be an object" },
	{ K_ROUTE, "{" RS ",'match':{'headers':[{'regex':'1'}]}}", FG_RULE_EINVAL,
	  "match.headers[0].name", "required" },
	{ K_ROUTE, "{" RS ",'match':{'headers':[{'name':'X Y','regex':'1'}]}}",
	  FG_RULE_EINVAL, "match.headers[0].name", "token characters" },
	{ K_ROUTE, "{" RS ",'match':{'headers':[{'name':'X'}]}}", FG_RULE_EINVAL,
	  "match.headers[0].regex", "required" },
	{ K_ROUTE, "{" RS ",'match':{'headers':[{'name':'X','regex':'1'},"
		   "{'name':'Y','regex':'(a)\\\\1'}]}}", FG_RULE_EINVAL,
	  "match.headers[1].regex", "hyperscan cannot compile it" },
	{ K_ROUTE, "{" RS ",'match':{'headers':[{'name':'X','regex':'1','x':1}]}}",
	  FG_RULE_EINVAL, "match.headers[0].x", "unknown field" },
	{ K_ROUTE, "{" RS ",'match':{'headers':[" H9 "]}}", FG_RULE_EINVAL,
	  "match.headers", "at most 8 headers" },
	{ K_CFG, "{'routes':{'r':{" RS "}}}", FG_RULE_EINVAL, "routes.r.service",
	  "no service named shop" },
	{ K_CFG, "{'services':{'shop':{" V4 "}},'routes':{'r':{" RS "}}}",
	  FG_RULE_EINVAL, "routes.r.service", "service shop is mode l4" },
	{ K_CFG, "{'services':{'shop':{" V4 ",'mode':'l7'}},'routes':{'r':{"
		 "'service':'shop','backends':[{'addr':'2001:db8::5'}]}}}",
	  FG_RULE_EINVAL, "routes.r.backends[0].addr", "must be IPv4 like service shop's vip" },
	{ K_CFG, "{'services':{'shop':{'vip':'198.18.0.10','port':0,'mode':'l7',"
		 "'backends':[{'addr':'198.19.0.1','port':80}]}},'routes':{'r':{"
		 "'service':'shop','backends':[{'addr':'198.19.0.5'}]}}}",
	  FG_RULE_EINVAL, "routes.r.backends[0].port", "required" },
	{ K_CFG, "{'routes':{'R':{" RS "}}}", FG_RULE_EINVAL, "routes",
	  "is not a valid name" },

	/* ---- seckill */
	{ K_SK, "{'service':'shop'}", FG_RULE_EINVAL, "rate", "required" },
	{ K_SK, "{'rate':1}", FG_RULE_EINVAL, "service", "required" },
	{ K_SK, "{" SB ",'stock_left':1}", FG_RULE_EINVAL, "stock_left", "unknown field" },
	{ K_SK, "{" SB ",'item':'segment:0'}", FG_RULE_EINVAL, "item", "segment:N" },
	{ K_SK, "{" SB ",'item':'segment:65'}", FG_RULE_EINVAL, "item", "segment:N" },
	{ K_SK, "{" SB ",'item':'segment:02'}", FG_RULE_EINVAL, "item", "segment:N" },
	{ K_SK, "{" SB ",'item':'query:'}", FG_RULE_EINVAL, "item", "query:NAME" },
	{ K_SK, "{" SB ",'item':'query:a=b'}", FG_RULE_EINVAL, "item", "query:NAME" },
	{ K_SK, "{" SB ",'item':'header:X Y'}", FG_RULE_EINVAL, "item", "header:NAME" },
	{ K_SK, "{" SB ",'item':'path'}", FG_RULE_EINVAL, "item",
	  "must be segment:N, query:NAME or header:NAME" },
	{ K_SK, "{" SB ",'items':['1']}", FG_RULE_EINVAL, "items", "needs item" },
	{ K_SK, "{" SB ",'item':'segment:2','items':[]}", FG_RULE_EINVAL, "items",
	  "must hold 1..1000000" },
	{ K_SK, "{" SB ",'item':'segment:2','items':'1'}", FG_RULE_EINVAL, "items",
	  "must be an array" },
	{ K_SK, "{" SB ",'item':'segment:2','items':['1',2]}", FG_RULE_EINVAL,
	  "items[1]", "must be a string" },
	{ K_SK, "{" SB ",'item':'segment:2','items':['1','']}", FG_RULE_EINVAL,
	  "items[1]", "must be 1..128 bytes" },
	{ K_SK, "{" SB ",'item':'segment:2','items':['a\\tb']}", FG_RULE_EINVAL,
	  "items[0]", "control characters" },
	{ K_SK, "{" SB ",'item':'segment:2','items':['2','1','3','1']}",
	  FG_RULE_EINVAL, "items[3]", "is already items[1]" },
	{ K_SK, "{" SB ",'item':'segment:2','items':['1'],'max_items':5}",
	  FG_RULE_EINVAL, "max_items", "only without items" },
	{ K_SK, "{" SB ",'max_items':0}", FG_RULE_EINVAL, "max_items",
	  "must be 1..1000000" },
	{ K_SK, "{'service':'shop','rate':0}", FG_RULE_EINVAL, "rate",
	  "must be 1..100000000000" },
	{ K_SK, "{" SB ",'burst':0}", FG_RULE_EINVAL, "burst", "must be 1.." },
	{ K_SK, "{" SB ",'stock':-1}", FG_RULE_EINVAL, "stock", "must be 0.." },
	{ K_SK, "{" SB ",'stock':1.0}", FG_RULE_EINVAL, "stock", "must be an integer" },
	{ K_SK, "{" SB ",'per_client':2}", FG_RULE_EINVAL, "per_client",
	  "must be an object" },
	{ K_SK, "{" SB ",'per_client':{'rate':1,'unit':'rps'}}", FG_RULE_EINVAL,
	  "per_client.unit", "unknown field" },
	{ K_SK, "{" SB ",'per_client':{}}", FG_RULE_EINVAL, "per_client.rate",
	  "required" },
	{ K_SK, "{" SB ",'per_client':{'key':'flow','rate':1}}", FG_RULE_EINVAL,
	  "per_client.key", "must be src_ip or src_prefix/N" },
	{ K_SK, "{" SB ",'per_client':{'key':'src_prefix/129','rate':1}}",
	  FG_RULE_EINVAL, "per_client.key", "0..128" },
	{ K_SK, "{" SB ",'per_client':{'rate':1,'burst':0}}", FG_RULE_EINVAL,
	  "per_client.burst", "must be 1.." },
	{ K_SK, "{" SB ",'start':'2026-11-11 12:00:00Z'}", FG_RULE_EINVAL, "start",
	  "RFC 3339 UTC" },
	{ K_SK, "{" SB ",'start':'2026-11-11T12:00:00+08:00'}", FG_RULE_EINVAL,
	  "start", "RFC 3339 UTC" },
	{ K_SK, "{" SB ",'start':'2026-02-29T12:00:00Z'}", FG_RULE_EINVAL, "start",
	  "RFC 3339 UTC" },
	{ K_SK, "{" SB ",'end':'2026-11-11T24:00:00Z'}", FG_RULE_EINVAL, "end",
	  "RFC 3339 UTC" },
	{ K_SK, "{" SB ",'start':1}", FG_RULE_EINVAL, "start", "must be a string" },
	{ K_SK, "{" SB ",'start':'2026-11-11T12:00:00Z','end':'2026-11-11T12:00:00Z'}",
	  FG_RULE_EINVAL, "end", "must be after start" },
	{ K_SK, "{" SB ",'respond':{'status':302}}", FG_RULE_EINVAL, "respond.status",
	  "must be 400..599" },
	{ K_SK, "{" SB ",'sold_out':{'status':401}}", FG_RULE_EINVAL,
	  "sold_out.status", "needs a header" },
	{ K_SK, "{" SB ",'sold_out':{'body':'" "x" "','extra':1}}", FG_RULE_EINVAL,
	  "sold_out.extra", "unknown field" },
	{ K_SK, "{" SB ",'match':{'method':'BUY'}}", FG_RULE_EINVAL, "match.method",
	  "must be one of GET" },
	{ K_SK, "{" SB ",'match':{'path_regex':'(a)\\\\1'}}", FG_RULE_EINVAL,
	  "match.path_regex", "hyperscan cannot compile it" },
	{ K_CFG, "{'seckill':{'s':{" SB "}}}", FG_RULE_EINVAL, "seckill.s.service",
	  "no service named shop" },
	{ K_CFG, "{'services':{'shop':{" V4 "}},'seckill':{'s':{" SB "}}}",
	  FG_RULE_EINVAL, "seckill.s.service", "service shop is mode l4" },
	{ K_CFG, "{'services':{'shop':{" V4 ",'mode':'l7'}},'seckill':{'s':{" SB ","
		 "'per_client':{'key':'src_prefix/64','rate':1}}}}", FG_RULE_EINVAL,
	  "seckill.s.per_client.key", "N must be 0..32" },
	{ K_CFG, "{'seckill':{'s':{" SB ",'sold_out':{'status':200}}}}",
	  FG_RULE_EINVAL, "seckill.s.sold_out.status", "must be 400..599" },
};

/* Fill a struct with a pattern that a parser would never write. */
#define SENTINEL 0xa5

static void run_bad_case(const struct bad_case *bc)
{
	struct fg_rule_service svc, svc_sentinel;
	struct fg_rule_limit lim, lim_sentinel;
	struct fg_ruleset rs, rs_sentinel;
	static struct fg_rule_route route, route_sentinel;
	static struct fg_rule_seckill sk, sk_sentinel;
	struct fg_rule_error err;
	json_t *j = jq(bc->json);
	int rc = 0, want = bc->err == FG_RULE_ECONFLICT ? -EEXIST : -EINVAL;

	memset(&err, 0, sizeof(err));
	memset(&svc_sentinel, SENTINEL, sizeof(svc_sentinel));
	memset(&lim_sentinel, SENTINEL, sizeof(lim_sentinel));
	memset(&rs_sentinel, SENTINEL, sizeof(rs_sentinel));
	memset(&route_sentinel, SENTINEL, sizeof(route_sentinel));
	memset(&sk_sentinel, SENTINEL, sizeof(sk_sentinel));
	route = route_sentinel;
	sk = sk_sentinel;
	svc = svc_sentinel;
	lim = lim_sentinel;
	rs = rs_sentinel;
	switch (bc->kind) {
	case K_SVC:
		rc = fg_service_from_json("web", j, &svc, &err);
		break;
	case K_LIM:
		rc = fg_limit_from_json("perip", j, &lim, &err);
		break;
	case K_CFG:
		rc = fg_ruleset_from_json(j, &rs, &err);
		break;
	case K_ROUTE:
		rc = fg_route_from_json("r1", j, &route, &err);
		break;
	case K_SK:
		rc = fg_seckill_from_json("s1", j, &sk, &err);
		break;
	}
	json_decref(j);
	if (rc != want || err.kind != bc->err ||
	    strcmp(err.field, bc->field) || !strstr(err.message, bc->msg))
		fail_msg("%s\n  want rc %d kind %d field '%s' msg ~'%s'\n"
			 "  got  rc %d kind %d field '%s' msg '%s'",
			 bc->json, want, bc->err, bc->field, bc->msg, rc,
			 err.kind, err.field, err.message);
	/* The message names its field first, as API.md's example does. */
	if (bc->field[0] && strncmp(err.message, bc->field, strlen(bc->field)))
		fail_msg("%s: message '%s' does not start with the field",
			 bc->json, err.message);
	/* Nothing is changed by a request that fails. */
	assert_memory_equal(&svc, &svc_sentinel, sizeof(svc));
	assert_memory_equal(&lim, &lim_sentinel, sizeof(lim));
	assert_memory_equal(&rs, &rs_sentinel, sizeof(rs));
	assert_memory_equal(&route, &route_sentinel, sizeof(route));
	assert_memory_equal(&sk, &sk_sentinel, sizeof(sk));
}

static void test_bad_inputs(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++)
		run_bad_case(&bad_cases[i]);
}

/* ----------------------------------------------------------- names */

static void test_names(void **state)
{
	char n63[64], n64[65];
	struct fg_rule_service svc;
	struct fg_rule_limit lim;
	struct fg_rule_error err;
	json_t *j;

	(void)state;
	memset(n63, 'a', 63);
	n63[63] = '\0';
	memset(n64, 'a', 64);
	n64[64] = '\0';
	assert_true(fg_name_valid("web"));
	assert_true(fg_name_valid("0"));
	assert_true(fg_name_valid("web-1_a"));
	assert_true(fg_name_valid(n63));
	assert_false(fg_name_valid(n64));
	assert_false(fg_name_valid(""));
	assert_false(fg_name_valid(NULL));
	assert_false(fg_name_valid("-web"));
	assert_false(fg_name_valid("_web"));
	assert_false(fg_name_valid("Web"));
	assert_false(fg_name_valid("web.1"));
	assert_false(fg_name_valid("web 1"));
	assert_false(fg_name_valid("wéb"));

	j = jq("{" V4 "}");
	memset(&err, 0, sizeof(err));
	assert_int_equal(fg_service_from_json("Web", j, &svc, &err), -EINVAL);
	assert_int_equal(err.kind, FG_RULE_EINVAL);
	assert_string_equal(err.field, "name");
	assert_non_null(strstr(err.message, "\"Web\" is not a valid name"));
	assert_int_equal(fg_service_from_json(n64, j, &svc, &err), -EINVAL);
	assert_string_equal(err.field, "name");
	assert_int_equal(fg_service_from_json(n63, j, &svc, &err), 0);
	assert_string_equal(svc.name, n63);
	free(svc.backends);
	json_decref(j);

	j = jq("{" LB "}");
	assert_int_equal(fg_limit_from_json("a b", j, &lim, &err), -EINVAL);
	assert_string_equal(err.field, "name");
	assert_int_equal(fg_limit_from_json(n63, j, &lim, &err), 0);
	assert_string_equal(lim.name, n63);
	json_decref(j);
}

/* ----------------------------------------------------- good inputs */

static void test_service_defaults(void **state)
{
	struct fg_rule_service s;

	(void)state;
	svc_ok("{'vip':'198.18.0.10','port':80,'backends':[" B1 ","
	       "{'addr':'198.19.0.2','port':8080,'weight':0,'state':'drain'}]}",
	       &s);
	assert_string_equal(s.name, "web");
	addr_is(&s.vip, AF_INET, "198.18.0.10");
	assert_int_equal(s.port, 80);
	assert_int_equal(s.proto, IPPROTO_TCP);
	assert_int_equal(s.mode, FG_MODE_L4);
	assert_int_equal(s.forward, FG_FWD_DSR_IPIP);
	assert_int_equal(s.hash, FG_HASH_5TUPLE);
	assert_int_equal(s.nbackends, 2);
	addr_is(&s.backends[0].addr, AF_INET, "198.19.0.1");
	assert_int_equal(s.backends[0].port, 80); /* the service's */
	assert_int_equal(s.backends[0].weight, 100);
	assert_int_equal(s.backends[0].state, FG_BACKEND_ACTIVE);
	assert_false(s.backends[0].health_down);
	assert_int_equal(s.backends[1].port, 8080);
	assert_int_equal(s.backends[1].weight, 0);
	assert_int_equal(s.backends[1].state, FG_BACKEND_DRAIN);
	assert_int_equal(s.health.type, FG_HEALTH_NONE);
	free(s.backends);

	/* No backends at all is a valid (black-holing) service. */
	svc_ok("{'vip':'198.18.0.11','port':0,'proto':'udp','backends':[]}", &s);
	assert_int_equal(s.port, 0);
	assert_int_equal(s.proto, IPPROTO_UDP);
	assert_int_equal(s.nbackends, 0);
	assert_null(s.backends);

	/* l7 defaults to nat: DSR cannot carry a proxied connection. */
	svc_ok("{" V4 ",'mode':'l7'}", &s);
	assert_int_equal(s.mode, FG_MODE_L7);
	assert_int_equal(s.forward, FG_FWD_NAT);
	free(s.backends);

	/* Under DSR on port 0 a backend has no port, and needs none. */
	svc_ok("{'vip':'198.18.0.10','port':0,'backends':[" B1 "]}", &s);
	assert_int_equal(s.backends[0].port, 0);
	free(s.backends);
}

static void test_health_defaults(void **state)
{
	struct fg_rule_service s;

	(void)state;
	svc_ok("{" V4 ",'health':{}}", &s);
	assert_int_equal(s.health.type, FG_HEALTH_TCP);
	assert_int_equal(s.health.interval_ms, 1000);
	assert_int_equal(s.health.timeout_ms, 500);
	assert_int_equal(s.health.rise, 2);
	assert_int_equal(s.health.fall, 3);
	assert_int_equal(s.health.port, 0);
	assert_string_equal(s.health.path, "");
	assert_int_equal(s.health.expect_status, 0);

	/* A short interval pulls the default timeout down with it. */
	svc_ok("{" V4 ",'health':{'interval_ms':300}}", &s);
	assert_int_equal(s.health.interval_ms, 300);
	assert_int_equal(s.health.timeout_ms, 150);

	svc_ok("{" V4 ",'health':{'type':'http'}}", &s);
	assert_int_equal(s.health.type, FG_HEALTH_HTTP);
	assert_string_equal(s.health.path, "/");
	assert_int_equal(s.health.expect_status, 200);

	svc_ok("{" V4 ",'health':{'type':'http','path':'/healthz?full=1',"
	       "'expect_status':204,'port':9000,'interval_ms':3600000,"
	       "'timeout_ms':3599999,'rise':1000,'fall':1}}", &s);
	assert_string_equal(s.health.path, "/healthz?full=1");
	assert_int_equal(s.health.expect_status, 204);
	assert_int_equal(s.health.port, 9000);
	assert_int_equal(s.health.interval_ms, 3600000);
	assert_int_equal(s.health.timeout_ms, 3599999);
	assert_int_equal(s.health.rise, 1000);
	assert_int_equal(s.health.fall, 1);

	/* A port-0 DSR service probes on the port health names. */
	svc_ok("{'vip':'198.18.0.10','port':0,'backends':[" B1 "],"
	       "'health':{'port':80}}", &s);
	assert_int_equal(s.health.port, 80);
	free(s.backends);
}

static void test_service_extremes(void **state)
{
	struct fg_rule_service s;
	json_t *j, *arr;
	struct fg_rule_error err;
	char addr[32];
	int i;

	(void)state;
	svc_ok("{'vip':'198.18.0.10','port':65535,'forward':'nat',"
	       "'backends':[{'addr':'198.19.0.1','port':65535,'weight':65535},"
	       "{'addr':'198.19.0.1','port':1,'weight':0,'state':'down'}]}",
	       &s);
	assert_int_equal(s.port, 65535);
	assert_int_equal(s.backends[0].port, 65535);
	assert_int_equal(s.backends[0].weight, 65535);
	assert_int_equal(s.backends[1].port, 1); /* NAT: ports differ */
	assert_int_equal(s.backends[1].state, FG_BACKEND_DOWN);
	free(s.backends);

	/* 4096 backends is the most; one more is refused. */
	j = jq("{" V4 "}");
	arr = json_array();
	for (i = 0; i < 4096; i++) {
		snprintf(addr, sizeof(addr), "198.19.%d.%d", i / 256, i % 256);
		json_array_append_new(arr, json_pack("{s:s}", "addr", addr));
	}
	json_object_set_new(j, "backends", arr);
	memset(&err, 0, sizeof(err));
	assert_int_equal(fg_service_from_json("web", j, &s, &err), 0);
	assert_int_equal(s.nbackends, 4096);
	addr_is(&s.backends[4095].addr, AF_INET, "198.19.15.255");
	free(s.backends);
	json_array_append_new(arr, json_pack("{s:s}", "addr", "198.19.200.1"));
	assert_int_equal(fg_service_from_json("web", j, &s, &err), -EINVAL);
	assert_int_equal(err.kind, FG_RULE_EINVAL);
	assert_string_equal(err.field, "backends");
	assert_non_null(strstr(err.message, "at most 4096 backends"));
	json_decref(j);
}

static void test_ipv6_service(void **state)
{
	struct fg_rule_service s;
	json_t *out, *want;

	(void)state;
	svc_ok("{'vip':'2001:DB8:0:0::10','port':443,'forward':'nat',"
	       "'hash':'src_ip','backends':[{'addr':'2001:db8:1::1',"
	       "'port':8443},{'addr':'2001:db8:1:0:0:0:0:2'}],"
	       "'health':{'type':'http','path':'/ping'}}", &s);
	addr_is(&s.vip, AF_INET6, "2001:db8::10");
	addr_is(&s.backends[0].addr, AF_INET6, "2001:db8:1::1");
	addr_is(&s.backends[1].addr, AF_INET6, "2001:db8:1::2");
	assert_int_equal(s.backends[1].port, 443);
	assert_int_equal(s.hash, FG_HASH_SRC_IP);

	/* Canonical output: compressed lower-case addresses, every default
	 * written out. */
	out = fg_service_to_json(&s);
	want = jq("{'vip':'2001:db8::10','port':443,'proto':'tcp','mode':'l4',"
		  "'forward':'nat','hash':'src_ip','backends':["
		  "{'addr':'2001:db8:1::1','port':8443,'weight':100,"
		  "'state':'active'},{'addr':'2001:db8:1::2','port':443,"
		  "'weight':100,'state':'active'}],'health':{'type':'http',"
		  "'interval_ms':1000,'timeout_ms':500,'rise':2,'fall':3,"
		  "'path':'/ping','expect_status':200}}");
	assert_non_null(out);
	assert_true(json_equal(out, want));
	json_decref(out);
	json_decref(want);
	free(s.backends);
}

static void test_limit_defaults(void **state)
{
	struct fg_rule_limit l;

	(void)state;
	lim_ok("{'unit':'pps','rate':100}", &l);
	assert_string_equal(l.name, "perip");
	assert_string_equal(l.service, "");
	assert_false(l.match_src_set);
	assert_int_equal(l.match_proto, 0);
	assert_int_equal(l.match_dport, 0);
	assert_int_equal(l.key, FG_LKEY_SRC_IP);
	assert_int_equal(l.unit, FG_LUNIT_PPS);
	assert_int_equal(l.rate, 100);
	assert_int_equal(l.burst, 100); /* one second's worth */
	assert_int_equal(l.action, FG_LACT_DROP);
	assert_false(l.cluster_scope);
	assert_false(l.dry_run);

	lim_ok("{'service':'web','match':{'src':'198.18.64.0/18',"
	       "'proto':'tcp','dst_port':80},'key':'src_prefix/24',"
	       "'unit':'cps','rate':1000,'burst':2000,'action':'reset',"
	       "'scope':'cluster','dry_run':true}", &l);
	assert_string_equal(l.service, "web");
	assert_true(l.match_src_set);
	addr_is(&l.match_src, AF_INET, "198.18.64.0");
	assert_int_equal(l.match_src_len, 18);
	assert_int_equal(l.match_proto, IPPROTO_TCP);
	assert_int_equal(l.match_dport, 80);
	assert_int_equal(l.key, FG_LKEY_SRC_PREFIX);
	assert_int_equal(l.prefix_len, 24);
	assert_int_equal(l.unit, FG_LUNIT_CPS);
	assert_int_equal(l.burst, 2000);
	assert_int_equal(l.action, FG_LACT_RESET);
	assert_true(l.cluster_scope);
	assert_true(l.dry_run);

	/* A bare address is a host; /0 is everything. */
	lim_ok("{" LB ",'match':{'src':'198.18.0.7'}}", &l);
	assert_int_equal(l.match_src_len, 32);
	lim_ok("{" LB ",'match':{'src':'2001:db8::7'},'key':'src_prefix/128'}",
	       &l);
	addr_is(&l.match_src, AF_INET6, "2001:db8::7");
	assert_int_equal(l.match_src_len, 128);
	assert_int_equal(l.prefix_len, 128);
	lim_ok("{" LB ",'match':{'src':'0.0.0.0/0'},'key':'src_prefix/0'}", &l);
	assert_int_equal(l.match_src_len, 0);
	assert_int_equal(l.prefix_len, 0);

	/* IPv6 prefixes: from match.src, or deferred to the service. */
	lim_ok("{" LB ",'match':{'src':'2001:DB8:8000::/33'},"
	       "'key':'src_prefix/64'}", &l);
	addr_is(&l.match_src, AF_INET6, "2001:db8:8000::");
	assert_int_equal(l.match_src_len, 33);
	assert_int_equal(l.prefix_len, 64);
	lim_ok("{" LB ",'service':'web6','key':'src_prefix/56'}", &l);
	assert_int_equal(l.prefix_len, 56);

	/* The rest of the keys, units and extremes. */
	lim_ok("{'key':'flow','unit':'bps','rate':100000000000,"
	       "'burst':9223372036854775807}", &l);
	assert_int_equal(l.key, FG_LKEY_FLOW);
	assert_int_equal(l.unit, FG_LUNIT_BPS);
	assert_int_equal(l.rate, 100000000000ULL);
	assert_int_equal(l.burst, 9223372036854775807ULL);
	lim_ok("{'key':'service','unit':'pps','rate':1,'burst':1,"
	       "'scope':'node','dry_run':false,'action':'drop'}", &l);
	assert_int_equal(l.key, FG_LKEY_SERVICE);
	assert_int_equal(l.rate, 1);
	assert_int_equal(l.burst, 1);
	/* reset and cps are fine when match.proto says tcp. */
	lim_ok("{'unit':'cps','rate':5,'action':'reset',"
	       "'match':{'proto':'tcp'}}", &l);
	assert_int_equal(l.action, FG_LACT_RESET);
}

/* ---------------------------------------------------- whole configs */

static const char *full_config =
	"{'services':{"
	" 'web':{'vip':'198.18.0.10','port':80,'backends':["
	"   {'addr':'198.19.0.1','port':8080,'weight':100,'state':'active'},"
	"   {'addr':'198.19.0.2','weight':0,'state':'drain'},"
	"   {'addr':'198.19.0.3','state':'down'}],"
	"  'health':{'type':'http','path':'/healthz','expect_status':204,"
	"   'interval_ms':2000,'timeout_ms':700,'rise':4,'fall':5,'port':9000}},"
	" 'dns':{'vip':'198.18.0.10','port':53,'proto':'udp','forward':'dsr-gue',"
	"  'backends':[{'addr':'198.19.0.53'}],'health':{'type':'tcp'}},"
	" 'any':{'vip':'198.18.0.20','port':0,'backends':[{'addr':'198.19.0.9'}]},"
	" 'web6':{'vip':'2001:db8::10','port':443,'forward':'nat','hash':'src_ip',"
	"  'backends':[{'addr':'2001:db8:1::1','port':8443},"
	"   {'addr':'2001:db8:1::2','port':8443,'weight':50}]},"
	" 'shop':{'vip':'198.18.0.30','port':80,'mode':'l7'},"
	" 'web-tcp80-alt':{'vip':'198.18.0.10','port':80,'proto':'udp'}},"
	"'limits':{"
	" 'perip':{'service':'web','match':{'src':'198.18.64.0/18',"
	"  'proto':'tcp','dst_port':80},'key':'src_ip','unit':'cps',"
	"  'rate':1000,'burst':2000,'action':'drop','scope':'node',"
	"  'dry_run':false},"
	" 'net6':{'service':'web6','key':'src_prefix/48','unit':'bps',"
	"  'rate':100000000,'action':'reset','scope':'cluster','dry_run':true},"
	" 'global':{'match':{'src':'2001:db8::/32'},'key':'src_prefix/64',"
	"  'unit':'pps','rate':5000},"
	" 'dnsflood':{'service':'dns','key':'flow','unit':'pps','rate':10}},"
	"'routes':{},'seckill':{}}";

static void test_ruleset_good(void **state)
{
	struct fg_ruleset rs;

	(void)state;
	memset(&rs, 0, sizeof(rs));
	cfg_ok(full_config, &rs);
	assert_int_equal(rs.version, 0);
	assert_int_equal(rs.nservices, 6);
	assert_int_equal(rs.nlimits, 4);
	/* Sorted by name, whatever the body's order. */
	assert_string_equal(rs.services[0].name, "any");
	assert_string_equal(rs.services[1].name, "dns");
	assert_string_equal(rs.services[2].name, "shop");
	assert_string_equal(rs.services[3].name, "web");
	assert_string_equal(rs.services[4].name, "web-tcp80-alt");
	assert_string_equal(rs.services[5].name, "web6");
	assert_string_equal(rs.limits[0].name, "dnsflood");
	assert_string_equal(rs.limits[1].name, "global");
	assert_string_equal(rs.limits[2].name, "net6");
	assert_string_equal(rs.limits[3].name, "perip");

	assert_int_equal(rs.services[3].backends[1].port, 80);
	assert_int_equal(rs.services[3].backends[2].state, FG_BACKEND_DOWN);
	assert_int_equal(rs.services[3].health.port, 9000);
	assert_int_equal(rs.services[1].forward, FG_FWD_DSR_GUE);
	assert_int_equal(rs.services[1].health.type, FG_HEALTH_TCP);
	assert_int_equal(rs.services[0].backends[0].port, 0);
	assert_int_equal(rs.services[2].forward, FG_FWD_NAT);
	assert_int_equal(rs.limits[2].prefix_len, 48);
	/* The deleting API refuses a service a limit still names. */
	assert_string_equal(fg_ruleset_service_user(&rs, "web6"), "net6");
	assert_string_equal(fg_ruleset_service_user(&rs, "dns"), "dnsflood");
	assert_null(fg_ruleset_service_user(&rs, "any"));
	assert_null(fg_ruleset_service_user(&rs, "nope"));
	fg_ruleset_free(&rs);

	/* Every member is optional; empty is an empty rule set. */
	cfg_ok("{}", &rs);
	assert_int_equal(rs.nservices, 0);
	assert_int_equal(rs.nlimits, 0);
	assert_null(rs.services);
	assert_null(rs.limits);
	fg_ruleset_free(&rs);
	cfg_ok("{'services':{},'limits':{},'routes':{},'seckill':{}}", &rs);
	assert_int_equal(rs.nservices, 0);
	fg_ruleset_free(&rs);
}

/* parse -> to_json -> (drop version) -> parse gives the same model, and
 * serialising that again gives the same JSON. */
static void round_trip(const char *text)
{
	struct fg_ruleset a, b;
	struct fg_rule_error err = { 0 };
	json_t *ja, *jb;
	char *dumped;
	json_t *reparsed;

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	cfg_ok(text, &a);
	ja = fg_ruleset_to_json(&a, 42);
	assert_non_null(ja);
	assert_int_equal(json_integer_value(json_object_get(ja, "version")), 42);
	assert_true(json_is_object(json_object_get(ja, "routes")));
	assert_int_equal(json_object_size(json_object_get(ja, "routes")),
			 a.nroutes);
	assert_int_equal(json_object_size(json_object_get(ja, "seckill")),
			 a.nseckill);

	/* Through text, as a client would send it back. */
	assert_int_equal(json_object_del(ja, "version"), 0);
	dumped = json_dumps(ja, JSON_COMPACT);
	assert_non_null(dumped);
	reparsed = fg_json_parse_body(dumped, strlen(dumped), &err);
	assert_non_null(reparsed);
	if (fg_ruleset_from_json(reparsed, &b, &err))
		fail_msg("round trip refused: %s: %s", err.message, dumped);
	assert_set_equal(&a, &b);
	jb = fg_ruleset_to_json(&b, 42);
	assert_non_null(jb);
	assert_int_equal(json_object_del(jb, "version"), 0);
	assert_true(json_equal(ja, jb));

	free(dumped);
	json_decref(reparsed);
	json_decref(ja);
	json_decref(jb);
	fg_ruleset_free(&a);
	fg_ruleset_free(&b);
}

static void test_round_trips(void **state)
{
	(void)state;
	round_trip(full_config);
	round_trip("{}");
	round_trip("{'services':{'v6':{'vip':'2001:db8::1','port':0,"
		   "'proto':'udp','backends':[{'addr':'2001:db8:1::1'}],"
		   "'health':{'port':53}}},'limits':{'a':{'service':'v6',"
		   "'match':{'src':'2001:db8:ff00::/40','proto':'udp',"
		   "'dst_port':53},'key':'src_prefix/128','unit':'pps',"
		   "'rate':7,'burst':1}}}");
}

/* The canonical GET shape of one limit, defaults filled in, unset
 * filters left out. */
static void test_limit_to_json(void **state)
{
	struct fg_rule_limit l;
	json_t *out, *want;

	(void)state;
	lim_ok("{'unit':'bps','rate':8000,'match':{'src':'2001:db8::/32'},"
	       "'key':'src_prefix/48'}", &l);
	out = fg_limit_to_json(&l);
	want = jq("{'match':{'src':'2001:db8::/32'},'key':'src_prefix/48',"
		  "'unit':'bps','rate':8000,'burst':8000,'action':'drop',"
		  "'scope':'node','dry_run':false}");
	assert_non_null(out);
	assert_true(json_equal(out, want));
	json_decref(out);
	json_decref(want);

	lim_ok("{'unit':'pps','rate':3}", &l);
	out = fg_limit_to_json(&l);
	assert_null(json_object_get(out, "match"));
	assert_null(json_object_get(out, "service"));
	assert_string_equal(json_string_value(json_object_get(out, "key")),
			    "src_ip");
	json_decref(out);
}

/* ------------------------------------------------- rule-set checks */

static void check_err(const struct fg_ruleset *rs, int rc_want,
		      enum fg_rule_err kind, const char *field, const char *msg)
{
	struct fg_rule_error err = { 0 };
	int rc = fg_ruleset_check(rs, &err);

	if (rc != rc_want || err.kind != kind || strcmp(err.field, field) ||
	    !strstr(err.message, msg))
		fail_msg("want %d %d '%s' ~'%s', got %d %d '%s' '%s'", rc_want,
			 kind, field, msg, rc, err.kind, err.field,
			 err.message);
}

/* Capacity limits and duplicate names, on sets built directly (the API
 * layer assembles candidate sets from single-object writes). */
static void test_ruleset_check(void **state)
{
	struct fg_ruleset rs;
	struct fg_rule_service svc[2];
	struct fg_rule_limit lims[FG_LIMIT_MAX + 1];
	struct fg_rule_error err = { 0 };
	uint32_t i;

	(void)state;
	memset(&rs, 0, sizeof(rs));
	assert_int_equal(fg_ruleset_check(&rs, &err), 0);

	svc_ok("{" V4 "}", &svc[0]);
	svc_ok("{'vip':'198.18.0.11','port':80}", &svc[1]);
	rs.services = svc;
	rs.nservices = 2;
	check_err(&rs, -EEXIST, FG_RULE_ECONFLICT, "services.web", "two services");
	strcpy(svc[1].name, "web2");
	assert_int_equal(fg_ruleset_check(&rs, &err), 0);

	memset(lims, 0, sizeof(lims));
	for (i = 0; i < FG_LIMIT_MAX + 1; i++) {
		lim_ok("{'unit':'pps','rate':10,'service':'web'}", &lims[i]);
		snprintf(lims[i].name, sizeof(lims[i].name), "l%03u", i);
	}
	rs.limits = lims;

	/* Eight limits on one service fit; the ninth is refused. */
	rs.nlimits = FG_SVC_LIMITS_MAX;
	assert_int_equal(fg_ruleset_check(&rs, &err), 0);
	rs.nlimits = FG_SVC_LIMITS_MAX + 1;
	check_err(&rs, -EINVAL, FG_RULE_EINVAL, "limits.l008.service",
		  "service web already has 8 limits");

	/* Eight limits on no service fit; the ninth is refused. */
	for (i = 0; i < FG_GLOBAL_LIMITS_MAX + 1; i++)
		lims[i].service[0] = '\0';
	rs.nlimits = FG_GLOBAL_LIMITS_MAX;
	assert_int_equal(fg_ruleset_check(&rs, &err), 0);
	rs.nlimits = FG_GLOBAL_LIMITS_MAX + 1;
	check_err(&rs, -EINVAL, FG_RULE_EINVAL, "limits.l008.service",
		  "at most 8 limits may name no service");

	/* Duplicate limit names are a conflict. */
	rs.nlimits = 2;
	strcpy(lims[1].name, lims[0].name);
	check_err(&rs, -EEXIST, FG_RULE_ECONFLICT, "limits.l000", "two limits");

	rs.nlimits = FG_LIMIT_MAX + 1;
	check_err(&rs, -EINVAL, FG_RULE_EINVAL, "limits", "at most 256 limits");

	/* Backends across all services. */
	rs.nlimits = 0;
	svc[0].nbackends = FG_BACKEND_MAX / 2 + 1;
	svc[1].nbackends = FG_BACKEND_MAX / 2;
	check_err(&rs, -EINVAL, FG_RULE_EINVAL, "services", "at most 65536 backends");
	svc[0].nbackends = 0;
	svc[1].nbackends = 0;

	rs.nservices = FG_SVC_MAX + 1;
	check_err(&rs, -EINVAL, FG_RULE_EINVAL, "services", "at most 4096 services");
}

/* A config body with more limits than the tables hold is refused before
 * anything is allocated for them. */
static void test_ruleset_too_many(void **state)
{
	struct fg_rule_error err = { 0 };
	struct fg_ruleset rs;
	json_t *root = json_object(), *lims = json_object();
	char name[16];
	unsigned int i;

	(void)state;
	memset(&rs, 0, sizeof(rs));
	for (i = 0; i < FG_LIMIT_MAX + 1; i++) {
		snprintf(name, sizeof(name), "l%u", i);
		json_object_set_new(lims, name,
				    json_pack("{s:s,s:i}", "unit", "pps",
					      "rate", 10));
	}
	json_object_set_new(root, "limits", lims);
	assert_int_equal(fg_ruleset_from_json(root, &rs, &err), -EINVAL);
	assert_string_equal(err.field, "limits");
	assert_non_null(strstr(err.message, "at most 256 limits"));
	assert_null(rs.limits);

	/* Nine global limits: parsed, then refused by the set check. */
	json_object_clear(lims);
	for (i = 0; i < FG_GLOBAL_LIMITS_MAX + 1; i++) {
		snprintf(name, sizeof(name), "g%u", i);
		json_object_set_new(lims, name,
				    json_pack("{s:s,s:i}", "unit", "pps",
					      "rate", 10));
	}
	assert_int_equal(fg_ruleset_from_json(root, &rs, &err), -EINVAL);
	assert_string_equal(err.field, "limits.g8.service");
	assert_null(rs.limits);
	json_decref(root);
}

/* --------------------------------------------- body parsing, errors */

static void test_parse_body(void **state)
{
	struct fg_rule_error err;
	const char *s;
	char *big;
	json_t *j;

	(void)state;
	s = "{\"a\": 1}";
	memset(&err, 0, sizeof(err));
	j = fg_json_parse_body(s, strlen(s), &err);
	assert_non_null(j);
	json_decref(j);

	/* Beyond 64 bits: jansson's own error, reported as 400. */
	s = "{\"port\": 9223372036854775808}";
	assert_null(fg_json_parse_body(s, strlen(s), &err));
	assert_int_equal(err.kind, FG_RULE_EINVAL);
	assert_string_equal(err.field, "");
	assert_non_null(strstr(err.message, "too big integer"));

	s = "{\"port\": 80, \"port\": 81}";
	assert_null(fg_json_parse_body(s, strlen(s), &err));
	assert_int_equal(err.kind, FG_RULE_EINVAL);
	assert_non_null(strstr(err.message, "duplicate"));

	s = "{\"vip\": \"a\\u0000b\"}";
	assert_null(fg_json_parse_body(s, strlen(s), &err));
	assert_int_equal(err.kind, FG_RULE_EINVAL);

	s = "{\"a\": ";
	assert_null(fg_json_parse_body(s, strlen(s), &err));
	assert_int_equal(err.kind, FG_RULE_EINVAL);
	assert_non_null(strstr(err.message, "invalid JSON at line 1"));

	s = "[1]";
	assert_null(fg_json_parse_body(s, strlen(s), &err));
	assert_int_equal(err.kind, FG_RULE_EINVAL);
	assert_non_null(strstr(err.message, "must be a JSON object"));

	assert_null(fg_json_parse_body("", 0, &err));
	assert_int_equal(err.kind, FG_RULE_EINVAL);

	/* Not NUL-terminated: only len bytes count. */
	s = "{}garbage";
	j = fg_json_parse_body(s, 2, &err);
	assert_non_null(j);
	json_decref(j);

	big = malloc(FG_API_BODY_MAX + 1);
	assert_non_null(big);
	memset(big, ' ', FG_API_BODY_MAX + 1);
	big[0] = '{';
	big[FG_API_BODY_MAX] = '}';
	assert_null(fg_json_parse_body(big, FG_API_BODY_MAX + 1, &err));
	assert_int_equal(err.kind, FG_RULE_ETOOBIG);
	/* Exactly the limit is fine. */
	big[FG_API_BODY_MAX - 1] = '}';
	j = fg_json_parse_body(big, FG_API_BODY_MAX, &err);
	assert_non_null(j);
	json_decref(j);
	free(big);
}

static void test_error_format(void **state)
{
	struct fg_rule_error err;
	char longf[sizeof(((struct fg_rule_error *)0)->message) + 100];

	(void)state;
	memset(&err, 0, sizeof(err));
	fg_rule_error_set(&err, FG_RULE_EINVAL, "backends[2].port", "must be %s",
			  "1..65535");
	assert_int_equal(err.kind, FG_RULE_EINVAL);
	assert_string_equal(err.field, "backends[2].port");
	assert_string_equal(err.message, "backends[2].port: must be 1..65535");
	fg_rule_error_set(&err, FG_RULE_ECONFLICT, NULL, "version is %d, not %d",
			  7, 6);
	assert_int_equal(err.kind, FG_RULE_ECONFLICT);
	assert_string_equal(err.field, "");
	assert_string_equal(err.message, "version is 7, not 6");

	/* Over-long fields and messages are cut, never overflowed. */
	memset(longf, 'x', sizeof(longf) - 1);
	longf[sizeof(longf) - 1] = '\0';
	fg_rule_error_set(&err, FG_RULE_EINVAL, longf, "%s", longf);
	assert_int_equal(strlen(err.field), sizeof(err.field) - 1);
	assert_int_equal(strlen(err.message), sizeof(err.message) - 1);
	assert_memory_equal(err.message + strlen(err.field), ": ", 2);
	fg_rule_error_set(NULL, FG_RULE_EINVAL, "x", "y"); /* does nothing */
}

/* An unknown key far longer than the field buffer is named, truncated. */
static void test_long_unknown_key(void **state)
{
	struct fg_rule_error err = { 0 };
	struct fg_ruleset rs;
	char key[400];
	json_t *root, *svc;

	(void)state;
	memset(key, 'k', sizeof(key) - 1);
	key[sizeof(key) - 1] = '\0';
	svc = jq("{" V4 "}");
	json_object_set_new(svc, key, json_true());
	root = json_pack("{s:{s:o}}", "services", "web", svc);
	memset(&rs, 0, sizeof(rs));
	assert_int_equal(fg_ruleset_from_json(root, &rs, &err), -EINVAL);
	assert_int_equal(strlen(err.field), sizeof(err.field) - 1);
	assert_memory_equal(err.field, "services.web.kkk", 16);
	json_decref(root);
}


/* ----------------------------------------------------------- L7 rules */

#define L7SVC "'shop':{'vip':'198.18.0.20','port':80,'mode':'l7'}"

static json_t *canon(const char *kind, const char *name, const char *text)
{
	const struct fg_rule_kind *k = fg_rule_kind_find(kind, strlen(kind));
	struct fg_rule_error err = { 0 };
	json_t *j = jq(text), *out;

	assert_non_null(k);
	out = fg_rule_canon(k, name, j, &err);
	json_decref(j);
	if (!out)
		fail_msg("%s refused: %s: %s", kind, err.message, text);
	return out;
}

/* The canonical form equals `want` (test JSON), every default out. */
static void canon_is(const char *kind, const char *text, const char *want)
{
	json_t *got = canon(kind, "x1", text), *w = jq(want);

	if (!json_equal(got, w)) {
		char *g = json_dumps(got, JSON_COMPACT | JSON_SORT_KEYS);

		fail_msg("%s: canonical form\n  got  %s\n  want %s", text, g,
			 want);
	}
	json_decref(got);
	json_decref(w);
}

static void test_route_defaults(void **state)
{
	struct fg_rule_error err = { 0 };
	struct fg_rule_route r;
	json_t *j;

	(void)state;
	j = jq("{" RS "}");
	assert_int_equal(fg_route_from_json("r1", j, &r, &err), 0);
	json_decref(j);
	assert_string_equal(r.name, "r1");
	assert_string_equal(r.service, "shop");
	assert_int_equal(r.priority, 0);
	assert_string_equal(r.match.host, "");
	assert_null(r.match.path_regex);
	assert_int_equal(r.nbackends, 1);
	assert_int_equal(r.backends[0].port, 0);
	assert_int_equal(r.backends[0].weight, 100);
	fg_rule_route_free(&r);
	canon_is("routes", "{" RS "}",
		 "{'service':'shop','priority':0,'match':{},'backends':"
		 "[{'addr':'198.19.0.5','weight':100,'state':'active'}]}");
	/* API.md's example, whole. */
	canon_is("routes",
		 "{'service':'shop','priority':100,'match':{'host':'shop.example',"
		 "'method':'GET','path_prefix':'/api/','path_regex':'^/api/v[12]/',"
		 "'headers':[{'name':'X-Canary','regex':'^1$'}]},'backends':"
		 "[{'addr':'198.19.0.5','port':8080,'weight':100}]}",
		 "{'service':'shop','priority':100,'match':{'host':'shop.example',"
		 "'method':'GET','path_prefix':'/api/','path_regex':'^/api/v[12]/',"
		 "'headers':[{'name':'X-Canary','regex':'^1$'}]},'backends':"
		 "[{'addr':'198.19.0.5','port':8080,'weight':100,'state':'active'}]}");
	canon_is("routes", "{" RS ",'match':{'host':'*.example.com.'}}",
		 "{'service':'shop','priority':0,'match':{'host':'*.example.com.'},"
		 "'backends':[{'addr':'198.19.0.5','weight':100,'state':'active'}]}");
}

static void test_seckill_defaults(void **state)
{
	struct fg_rule_error err = { 0 };
	struct fg_rule_seckill *sk = calloc(1, sizeof(*sk));
	json_t *j;

	(void)state;
	assert_non_null(sk);
	j = jq("{" SB "}");
	assert_int_equal(fg_seckill_from_json("s1", j, sk, &err), 0);
	json_decref(j);
	assert_int_equal(sk->item_from, FG_ITEM_FROM_NONE);
	assert_int_equal(sk->max_items, 100000);
	assert_int_equal(sk->rate, 500);
	assert_int_equal(sk->burst, 500);
	assert_false(sk->has_stock);
	assert_false(sk->has_per_client);
	assert_int_equal(sk->start_ns, 0);
	assert_int_equal(sk->respond.status, 429);
	assert_int_equal(sk->respond.retry_after, 1);
	assert_int_equal(sk->sold_out.status, 410);
	assert_int_equal(sk->sold_out.retry_after, -1);
	fg_rule_seckill_free(sk);
	free(sk);
	canon_is("seckill", "{" SB "}",
		 "{'service':'shop','match':{},'max_items':100000,'rate':500,"
		 "'burst':500,'respond':{'status':429,'retry_after':1},"
		 "'sold_out':{'status':410}}");
	/* API.md's example, whole: the instants in ns since the epoch. */
	canon_is("seckill",
		 "{'service':'shop','match':{'method':'POST','path_regex':"
		 "'^/seckill/[0-9]+/buy$'},'item':'segment:2','rate':500,'burst':100,"
		 "'stock':1000,'per_client':{'key':'src_ip','rate':2,'burst':2},"
		 "'start':'2026-11-11T12:00:00Z','end':'2026-11-11T13:00:00Z',"
		 "'respond':{'status':429,'retry_after':1,'content_type':"
		 "'application/json','body':'{\\'error\\': \\'busy, try again\\'}'},"
		 "'sold_out':{'status':410,'content_type':'application/json',"
		 "'body':'{\\'error\\': \\'sold out\\'}'}}",
		 "{'service':'shop','match':{'method':'POST','path_regex':"
		 "'^/seckill/[0-9]+/buy$'},'item':'segment:2','max_items':100000,"
		 "'rate':500,'burst':100,'stock':1000,'per_client':{'key':'src_ip',"
		 "'rate':2,'burst':2},'start':'2026-11-11T12:00:00Z',"
		 "'end':'2026-11-11T13:00:00Z','respond':{'status':429,"
		 "'retry_after':1,'content_type':'application/json','body':"
		 "'{\\'error\\': \\'busy, try again\\'}'},'sold_out':{'status':410,"
		 "'content_type':'application/json','body':'{\\'error\\': \\'sold out\\'}'}}");
	j = jq("{" SB ",'start':'2026-11-11T12:00:00Z','end':'2026-11-11T12:00:00.5Z'}");
	sk = calloc(1, sizeof(*sk));
	assert_non_null(sk);
	assert_int_equal(fg_seckill_from_json("s1", j, sk, &err), 0);
	json_decref(j);
	/* date -u -d 2026-11-11T12:00:00Z +%s */
	assert_int_equal(sk->start_ns, 1794398400ULL * 1000000000ULL);
	assert_int_equal(sk->end_ns, sk->start_ns + 500000000ULL);
	fg_rule_seckill_free(sk);
	free(sk);
	/* A body without a type takes the default; items drop max_items;
	 * prefix keys and the query item spelled back as given. */
	canon_is("seckill",
		 "{" SB ",'item':'query:id','items':['1002','1001'],"
		 "'per_client':{'key':'src_prefix/24','rate':1},"
		 "'end':'2027-01-01T00:00:00.250Z','sold_out':{'body':'gone'}}",
		 "{'service':'shop','match':{},'item':'query:id','items':['1002',"
		 "'1001'],'rate':500,'burst':500,'per_client':{'key':"
		 "'src_prefix/24','rate':1,'burst':1},'end':'2027-01-01T00:00:00.25Z',"
		 "'respond':{'status':429,'retry_after':1},'sold_out':{'status':410,"
		 "'content_type':'text/plain; charset=utf-8','body':'gone'}}");
}

static void test_rps_respond(void **state)
{
	(void)state;
	canon_is("limits", "{'service':'shop','unit':'rps','rate':10}",
		 "{'service':'shop','key':'src_ip','unit':'rps','rate':10,"
		 "'burst':10,'action':'drop','scope':'node','dry_run':false}");
	canon_is("limits", "{'service':'shop','unit':'rps','rate':10,"
			   "'action':'respond'}",
		 "{'service':'shop','key':'src_ip','unit':'rps','rate':10,"
		 "'burst':10,'action':'respond','respond':{'status':429,"
		 "'retry_after':1},'scope':'node','dry_run':false}");
	canon_is("limits", "{'service':'shop','unit':'rps','rate':10,"
			   "'action':'respond','respond':{'status':503,"
			   "'retry_after':0,'content_type':'text/html','body':'<p>'}}",
		 "{'service':'shop','key':'src_ip','unit':'rps','rate':10,"
		 "'burst':10,'action':'respond','respond':{'status':503,"
		 "'retry_after':0,'content_type':'text/html','body':'<p>'},"
		 "'scope':'node','dry_run':false}");
}

static const char *l7_config =
	"{'services':{" L7SVC ",'v6':{'vip':'2001:db8::20','port':0,'mode':'l7',"
	"'backends':[{'addr':'2001:db8:1::1','port':80}]}},"
	"'limits':{'api':{'service':'shop','unit':'rps','rate':50,'burst':5,"
	"'action':'respond','respond':{'status':503,'body':'slow down'}},"
	"'conns':{'service':'shop','unit':'cps','rate':100}},"
	"'routes':{'b':{'service':'shop','priority':7,'match':{'host':'*.shop.example',"
	"'method':'PUT','path_prefix':'/a%2F','path_regex':'x+',"
	"'headers':[{'name':'A','regex':'.*'},{'name':'B','regex':'^$'}]},"
	"'backends':[{'addr':'198.19.0.7','port':81,'weight':0,'state':'drain'},"
	"{'addr':'198.19.0.7'}]},'a':{'service':'v6','backends':"
	"[{'addr':'2001:db8:1::2','port':8080}]}},"
	"'seckill':{'flash':{'service':'shop','match':{'path_prefix':'/buy/'},"
	"'item':'header:X-Item','items':['a','b'],'rate':3,'burst':1,'stock':0,"
	"'per_client':{'key':'src_prefix/16','rate':1,'burst':4},"
	"'start':'2026-11-11T12:00:00.123456789Z','respond':{'status':503,"
	"'retry_after':604800},'sold_out':{'status':404,'retry_after':9}},"
	"'v6sale':{'service':'v6','item':'segment:64','max_items':1000000,"
	"'rate':100000000000,'per_client':{'key':'src_prefix/128','rate':1}}}}";

static void test_l7_round_trip(void **state)
{
	struct fg_ruleset rs;

	(void)state;
	memset(&rs, 0, sizeof(rs));
	cfg_ok(l7_config, &rs);
	assert_int_equal(rs.nroutes, 2);
	assert_string_equal(rs.routes[0].name, "a"); /* sorted by name */
	assert_int_equal(rs.nseckill, 2);
	assert_int_equal(rs.seckill[0].item_from, FG_ITEM_FROM_HEADER);
	assert_string_equal(rs.seckill[0].item_name, "X-Item");
	assert_true(rs.seckill[0].has_stock);
	assert_int_equal(rs.seckill[0].stock, 0);
	assert_int_equal(rs.seckill[0].start_ns % 1000000000ULL, 123456789);
	assert_int_equal(rs.limits[0].action, FG_LACT_RESPOND);
	assert_int_equal(rs.limits[0].respond.status, 503);
	assert_string_equal(rs.limits[0].respond.content_type,
			    "text/plain; charset=utf-8");
	fg_ruleset_free(&rs);
	fg_ruleset_free(&rs); /* harmless twice */
	round_trip(l7_config);
}

static void test_l7_service_user(void **state)
{
	struct fg_ruleset rs;

	(void)state;
	memset(&rs, 0, sizeof(rs));
	cfg_ok(l7_config, &rs);
	assert_string_equal(fg_ruleset_service_user(&rs, "shop"), "api");
	assert_string_equal(fg_ruleset_service_user(&rs, "v6"), "a");
	fg_ruleset_free(&rs);
	cfg_ok("{'services':{" L7SVC "},'seckill':{'s':{" SB "}}}", &rs);
	assert_string_equal(fg_ruleset_service_user(&rs, "shop"), "s");
	fg_ruleset_free(&rs);
	/* Two rules of a kind cannot share a name (a set built by hand). */
	cfg_ok("{'services':{" L7SVC "},'routes':{'r':{" RS "}}}", &rs);
	{
		struct fg_rule_route two[2];
		struct fg_rule_error err = { 0 };
		struct fg_rule_route *keep = rs.routes;

		two[0] = two[1] = rs.routes[0];
		rs.routes = two;
		rs.nroutes = 2;
		assert_int_equal(fg_ruleset_check(&rs, &err), -EEXIST);
		assert_string_equal(err.field, "routes.r");
		rs.routes = keep;
		rs.nroutes = 1;
	}
	fg_ruleset_free(&rs);
}

/* ------------------------------------------------- edits and shards */

#define EDIT_SET "{'services':{" \
	"'a':{'vip':'198.18.0.10','port':80,'backends':[{'addr':'198.19.0.1'}]}," \
	"'b':{'vip':'198.18.0.10','port':81,'backends':[{'addr':'198.19.0.2'}]}," \
	"'c':{'vip':'198.18.0.10','port':82}}," \
	"'limits':{'l1':{'service':'a','key':'src_ip','unit':'pps','rate':10,'burst':10}}}"

static void parse_set(const char *text, struct fg_ruleset *rs)
{
	struct fg_rule_error e = { 0 };
	json_t *j = jq(text);

	if (fg_ruleset_from_json(j, rs, &e))
		fail_msg("refused: %s", e.message);
	json_decref(j);
}

static struct fg_rule_service *svc_obj(const char *name, const char *text)
{
	struct fg_rule_service *s = calloc(1, sizeof(*s));
	struct fg_rule_error e = { 0 };
	json_t *j = jq(text);

	assert_non_null(s);
	if (fg_service_from_json(name, j, s, &e))
		fail_msg("refused: %s", e.message);
	json_decref(j);
	return s;
}

/* A view replaces, adds or drops one object and borrows the rest; taken,
 * it frees what it dropped (ASan and valgrind see the rest). */
static void test_view_edit_take(void **state)
{
	const struct fg_rule_kind *k = &fg_rule_kinds[0];
	struct fg_ruleset rs, view;
	struct fg_rule_service *nb, *nz;
	struct fg_rule_error e = { 0 };

	(void)state;
	assert_string_equal(k->name, "services");
	parse_set(EDIT_SET, &rs);
	/* replace b: same place, the others' parts borrowed */
	nb = svc_obj("b", "{'vip':'198.18.0.10','port':91,'backends':[{'addr':'198.19.0.9'},{'addr':'198.19.0.8'}]}");
	assert_int_equal(fg_ruleset_view_edit(&rs, k, "b", nb, &view), 0);
	assert_int_equal(view.nservices, 3);
	assert_string_equal(view.services[1].name, "b");
	assert_int_equal(view.services[1].port, 91);
	assert_ptr_equal(view.services[0].backends, rs.services[0].backends);
	assert_int_equal(view.nlimits, 1);
	assert_ptr_not_equal(view.limits, rs.limits);
	assert_int_equal(fg_ruleset_check(&view, &e), 0);
	/* nothing changed in rs */
	assert_int_equal(rs.services[1].port, 81);
	fg_ruleset_take(&rs, &view);
	free(nb); /* its parts are rs's now */
	assert_int_equal(rs.nservices, 3);
	assert_int_equal(rs.services[1].nbackends, 2);
	assert_null(view.services);

	/* add z at the end, drop a (its limit would dangle: the check says
	 * so, and the view is simply freed) */
	nz = svc_obj("z", "{'vip':'198.18.0.11','port':80}");
	assert_int_equal(fg_ruleset_view_edit(&rs, k, "z", nz, &view), 0);
	assert_int_equal(view.nservices, 4);
	assert_string_equal(view.services[3].name, "z");
	fg_ruleset_take(&rs, &view);
	free(nz);
	assert_int_equal(fg_ruleset_view_edit(&rs, k, "a", NULL, &view), 0);
	assert_int_equal(view.nservices, 3);
	assert_string_equal(view.services[0].name, "b");
	assert_int_equal(fg_ruleset_check(&view, &e), -EINVAL);
	assert_string_equal(e.field, "limits.l1.service");
	fg_ruleset_view_free(&view);
	/* drop the limit, then a: both freed by take */
	assert_int_equal(fg_ruleset_view_edit(&rs, &fg_rule_kinds[1], "l1",
					      NULL, &view), 0);
	fg_ruleset_take(&rs, &view);
	assert_int_equal(rs.nlimits, 0);
	assert_int_equal(fg_ruleset_view_edit(&rs, k, "a", NULL, &view), 0);
	assert_int_equal(fg_ruleset_check(&view, &e), 0);
	fg_ruleset_take(&rs, &view);
	assert_int_equal(rs.nservices, 3);
	assert_null(fg_rule_find(&rs, k, "a"));
	assert_non_null(fg_rule_find(&rs, k, "z"));
	/* dropping what is not there changes nothing */
	assert_int_equal(fg_ruleset_view_edit(&rs, k, "nope", NULL, &view), 0);
	assert_int_equal(view.nservices, 3);
	fg_ruleset_view_free(&view);
	fg_ruleset_free(&rs);
}

/* Shards: a fixed hash (the store's layout), each object in exactly one
 * shard's text, and a merge of changed shards into a view. */
static void test_shards(void **state)
{
	struct fg_ruleset rs, objs, view;
	struct fg_rule_error e = { 0 };
	char *texts[FG_RULES_SHARDS];
	unsigned int i, nobj = 0;
	uint64_t mask;
	json_t *j;

	(void)state;
	/* FNV-1a 32 of the name, modulo 64: never changes. */
	assert_int_equal(fg_rules_shard(""), 2166136261u % 64);
	assert_int_equal(fg_rules_shard("a"), 0xe40c292cu % 64);
	parse_set(EDIT_SET, &rs);
	assert_int_equal(fg_ruleset_shard_texts(&rs, FG_RULES_SHARDS_ALL,
						texts), 0);
	for (i = 0; i < FG_RULES_SHARDS; i++) {
		const char *kind, *name;
		json_t *map, *o;

		if (!texts[i])
			continue;
		j = json_loads(texts[i], 0, NULL);
		assert_non_null(j);
		json_object_foreach(j, kind, map)
			json_object_foreach(map, name, o) {
				assert_int_equal(fg_rules_shard(name), i);
				nobj++;
			}
		json_decref(j);
	}
	assert_int_equal(nobj, 4);
	/* b's shard now holds another b: merged, only b changes. */
	mask = fg_rules_shard_bit("b");
	j = json_loads(texts[fg_rules_shard("b")], 0, NULL);
	json_object_set_new(json_object_get(json_object_get(j, "services"),
					    "b"), "port", json_integer(99));
	assert_int_equal(fg_ruleset_objects_from_json(j, &objs, &e), 0);
	json_decref(j);
	assert_int_equal(fg_ruleset_view_merge(&rs, mask, &objs, &view), 0);
	assert_int_equal(view.nservices, 3);
	assert_int_equal(((struct fg_rule_service *)fg_rule_find(
		&view, &fg_rule_kinds[0], "b"))->port, 99);
	assert_int_equal(view.nlimits, 1);
	assert_int_equal(fg_ruleset_check(&view, &e), 0);
	fg_ruleset_take(&rs, &view);
	fg_ruleset_view_free(&objs);
	assert_int_equal(rs.services[1].port, 99);
	/* An empty shard's JSON is {} and its text NULL. */
	fg_ruleset_shard_texts_free(texts);
	for (i = 0; i < FG_RULES_SHARDS; i++)
		if (!((fg_rules_shard_bit("a") | fg_rules_shard_bit("b") |
		       fg_rules_shard_bit("c") | fg_rules_shard_bit("l1")) &
		      (1ULL << i)))
			break;
	j = fg_ruleset_shard_to_json(&rs, i);
	assert_int_equal(json_object_size(j), 0);
	json_decref(j);
	assert_int_equal(fg_ruleset_shard_texts(&rs, 1ULL << i, texts), 0);
	assert_null(texts[i]);
	fg_ruleset_free(&rs);
}


int main(void)
{
	fg_rules_set_regex_check(test_regex_check);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_inputs),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_service_defaults),
		cmocka_unit_test(test_health_defaults),
		cmocka_unit_test(test_service_extremes),
		cmocka_unit_test(test_ipv6_service),
		cmocka_unit_test(test_limit_defaults),
		cmocka_unit_test(test_ruleset_good),
		cmocka_unit_test(test_round_trips),
		cmocka_unit_test(test_limit_to_json),
		cmocka_unit_test(test_ruleset_check),
		cmocka_unit_test(test_ruleset_too_many),
		cmocka_unit_test(test_parse_body),
		cmocka_unit_test(test_error_format),
		cmocka_unit_test(test_long_unknown_key),
		cmocka_unit_test(test_route_defaults),
		cmocka_unit_test(test_seckill_defaults),
		cmocka_unit_test(test_rps_respond),
		cmocka_unit_test(test_l7_round_trip),
		cmocka_unit_test(test_l7_service_user),
		cmocka_unit_test(test_view_edit_take),
		cmocka_unit_test(test_shards),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
