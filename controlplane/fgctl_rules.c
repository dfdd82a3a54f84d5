/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * fgctl_rules.c - "fgctl <kind> ls | get | set | rm" for every kind of
 * rule, and the table of kinds (see fgctl_rules.h).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fgctl.h"
#include "fgctl_rules.h"
#include "fgctl_table.h"
#include "fgctl_util.h"

#define FG_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ------------------------------------------------------------ kinds */

/* fg_fmt_backends - "N (M active)": a backend without a state is active. */
static const char *fg_fmt_backends(const json_t *svc, char *buf, size_t size)
{
	json_t *be = json_object_get(svc, "backends"), *el, *st;
	size_t i, active = 0;

	json_array_foreach(be, i, el) {
		st = json_object_get(el, "state");
		if (!json_is_string(st) || !strcmp(json_string_value(st), "active"))
			active++;
	}
	snprintf(buf, size, "%zu (%zu active)", json_array_size(be), active);
	return buf;
}

/* fg_fmt_health - the health check's type, "-" without one. */
static const char *fg_fmt_health(const json_t *svc, char *buf, size_t size)
{
	json_t *h = json_object_get(svc, "health");

	if (json_is_object(h))
		return fg_jcell(h, "type", buf, size);
	snprintf(buf, size, "-");
	return buf;
}

/* fg_fmt_match - a limit's match as "k=v k=v", "-" without one. */
static const char *fg_fmt_match(const json_t *lim, char *buf, size_t size)
{
	json_t *m = json_object_get(lim, "match"), *mv;
	size_t off = 0;
	const char *mk;

	buf[0] = '\0';
	json_object_foreach(m, mk, mv) {
		char one[FG_CELL_MAX / 2];

		if (off < size)
			off += (size_t)snprintf(buf + off, size - off, "%s%s=%s",
						off ? " " : "", mk,
						fg_jfmt(mv, one, sizeof(one)));
	}
	return buf[0] ? buf : "-";
}

static const struct fg_field fg_service_fields[] = {
	{ "--vip", FG_F_IP, NULL, "vip", NULL },
	{ "--port", FG_F_UINT, NULL, "port", NULL },
	{ "--proto", FG_F_STR, NULL, "proto", NULL },
	{ "--mode", FG_F_STR, NULL, "mode", NULL },
	{ "--forward", FG_F_STR, NULL, "forward", NULL },
	{ "--hash", FG_F_STR, NULL, "hash", NULL },
	{ "--backend", FG_F_BACKEND, NULL, "backends", NULL },
	{ "--health", FG_F_HEAD, "health", "type", "tcp|http" },
	{ "--health-interval", FG_F_UINT, "health", "interval_ms", NULL },
	{ "--health-timeout", FG_F_UINT, "health", "timeout_ms", NULL },
	{ "--health-rise", FG_F_UINT, "health", "rise", NULL },
	{ "--health-fall", FG_F_UINT, "health", "fall", NULL },
	{ "--health-port", FG_F_UINT, "health", "port", NULL },
	{ "--health-path", FG_F_TEXT, "health", "path", NULL },
	{ "--health-expect", FG_F_UINT, "health", "expect_status", NULL },
};

static const struct fg_col fg_service_cols[] = {
	{ "VIP", "vip", FG_CELL_MAX, NULL },
	{ "PORT", "port", 32, NULL },
	{ "PROTO", "proto", 32, NULL },
	{ "MODE", "mode", 32, NULL },
	{ "FORWARD", "forward", 32, NULL },
	{ "HASH", "hash", 32, NULL },
	{ "BACKENDS", NULL, 32, fg_fmt_backends },
	{ "HEALTH", NULL, 64, fg_fmt_health },
};

static const struct fg_col fg_backend_cols[] = {
	{ "ADDR", "addr", FG_CELL_MAX, NULL },
	{ "PORT", "port", 32, NULL },
	{ "WEIGHT", "weight", 32, NULL },
	{ "STATE", "state", 32, NULL },
};

static const struct fg_field fg_limit_fields[] = {
	{ "--service", FG_F_STR, NULL, "service", NULL },
	{ "--key", FG_F_STR, NULL, "key", NULL },
	{ "--unit", FG_F_STR, NULL, "unit", NULL },
	{ "--rate", FG_F_UINT, NULL, "rate", NULL },
	{ "--burst", FG_F_UINT, NULL, "burst", NULL },
	{ "--action", FG_F_STR, NULL, "action", NULL },
	{ "--match-src", FG_F_CIDR, "match", "src", NULL },
	{ "--match-proto", FG_F_TEXT, "match", "proto", NULL },
	{ "--match-dport", FG_F_UINT, "match", "dst_port", NULL },
	{ "--scope", FG_F_STR, NULL, "scope", NULL },
	{ "--dry-run", FG_F_TRUE, NULL, "dry_run", NULL },
};

static const struct fg_col fg_limit_cols[] = {
	{ "SERVICE", "service", FG_CELL_MAX, NULL },
	{ "KEY", "key", 64, NULL },
	{ "UNIT", "unit", 32, NULL },
	{ "RATE", "rate", 32, NULL },
	{ "BURST", "burst", 32, NULL },
	{ "ACTION", "action", 32, NULL },
	{ "SCOPE", "scope", 32, NULL },
	{ "DRY_RUN", "dry_run", 32, NULL },
	{ "MATCH", NULL, FG_CELL_MAX, fg_fmt_match },
};

/* fg_fmt_http_match - a route's or seckill rule's match, the fields
 * set, as "k=v k=v" (headers as their count); "-" without any. */
static const char *fg_fmt_http_match(const json_t *r, char *buf, size_t size)
{
	static const char *const keys[] = { "host", "method", "path_prefix",
					    "path_regex" };
	json_t *m = json_object_get(r, "match"), *h;
	size_t off = 0, i;

	buf[0] = '\0';
	for (i = 0; i < FG_ARRAY_SIZE(keys); i++) {
		json_t *v = json_object_get(m, keys[i]);

		if (json_is_string(v) && off < size)
			off += (size_t)snprintf(buf + off, size - off, "%s%s=%s",
						off ? " " : "", keys[i],
						json_string_value(v));
	}
	h = json_object_get(m, "headers");
	if (json_array_size(h) && off < size)
		snprintf(buf + off, size - off, "%sheaders=%zu", off ? " " : "",
			 json_array_size(h));
	return buf[0] ? buf : "-";
}

/* fg_fmt_nbackends - the number of a route's own backends. */
static const char *fg_fmt_nbackends(const json_t *r, char *buf, size_t size)
{
	snprintf(buf, size, "%zu",
		 json_array_size(json_object_get(r, "backends")));
	return buf;
}

/* The request match of routes and seckill rules (API.md "match"). */
#define FG_HTTP_MATCH_FIELDS \
	{ "--host", FG_F_TEXT, "match", "host", NULL }, \
	{ "--method", FG_F_STR, "match", "method", NULL }, \
	{ "--path-prefix", FG_F_TEXT, "match", "path_prefix", NULL }, \
	{ "--path-regex", FG_F_TEXT, "match", "path_regex", NULL },

static const struct fg_field fg_route_fields[] = {
	{ "--service", FG_F_STR, NULL, "service", NULL },
	{ "--priority", FG_F_UINT, NULL, "priority", NULL },
	FG_HTTP_MATCH_FIELDS
	{ "--backend", FG_F_BACKEND, NULL, "backends", NULL },
};

static const struct fg_col fg_route_cols[] = {
	{ "SERVICE", "service", FG_CELL_MAX, NULL },
	{ "PRIORITY", "priority", 32, NULL },
	{ "MATCH", NULL, FG_CELL_MAX, fg_fmt_http_match },
	{ "BACKENDS", NULL, 32, fg_fmt_nbackends },
};

static const struct fg_field fg_seckill_fields[] = {
	{ "--service", FG_F_STR, NULL, "service", NULL },
	{ "--item", FG_F_STR, NULL, "item", NULL },
	{ "--max-items", FG_F_UINT, NULL, "max_items", NULL },
	{ "--rate", FG_F_UINT, NULL, "rate", NULL },
	{ "--burst", FG_F_UINT, NULL, "burst", NULL },
	{ "--stock", FG_F_UINT, NULL, "stock", NULL },
	{ "--start", FG_F_STR, NULL, "start", NULL },
	{ "--end", FG_F_STR, NULL, "end", NULL },
	FG_HTTP_MATCH_FIELDS
};

static const struct fg_col fg_seckill_cols[] = {
	{ "SERVICE", "service", FG_CELL_MAX, NULL },
	{ "ITEM", "item", 64, NULL },
	{ "RATE", "rate", 32, NULL },
	{ "BURST", "burst", 32, NULL },
	{ "STOCK", "stock", 32, NULL },
	{ "START", "start", 64, NULL },
	{ "END", "end", 64, NULL },
	{ "MATCH", NULL, FG_CELL_MAX, fg_fmt_http_match },
};

_Static_assert(FG_ARRAY_SIZE(fg_service_fields) <= FG_FIELDS_MAX &&
	       FG_ARRAY_SIZE(fg_limit_fields) <= FG_FIELDS_MAX &&
	       FG_ARRAY_SIZE(fg_route_fields) <= FG_FIELDS_MAX &&
	       FG_ARRAY_SIZE(fg_seckill_fields) <= FG_FIELDS_MAX,
	       "raise FG_FIELDS_MAX");
_Static_assert(FG_ARRAY_SIZE(fg_service_cols) < FG_TABLE_COLS_MAX &&
	       FG_ARRAY_SIZE(fg_limit_cols) < FG_TABLE_COLS_MAX &&
	       FG_ARRAY_SIZE(fg_route_cols) < FG_TABLE_COLS_MAX &&
	       FG_ARRAY_SIZE(fg_seckill_cols) < FG_TABLE_COLS_MAX &&
	       FG_ARRAY_SIZE(fg_backend_cols) <= FG_TABLE_COLS_MAX,
	       "a list has its NAME column and at most FG_TABLE_COLS_MAX in all");

const struct fg_kind fg_kinds[FG_KIND_COUNT] = {
	[FG_KIND_SERVICE] = {
		.name = "service", .plural = "services",
		.fields = fg_service_fields, .nfields = FG_ARRAY_SIZE(fg_service_fields),
		.fields_hint = "--vip, --port, ...",
		.cols = fg_service_cols, .ncols = FG_ARRAY_SIZE(fg_service_cols),
		.detail = "backends",
		.detail_cols = fg_backend_cols, .detail_ncols = FG_ARRAY_SIZE(fg_backend_cols),
	},
	[FG_KIND_LIMIT] = {
		.name = "limit", .plural = "limits",
		.fields = fg_limit_fields, .nfields = FG_ARRAY_SIZE(fg_limit_fields),
		.fields_hint = "--unit, --rate, ...",
		.cols = fg_limit_cols, .ncols = FG_ARRAY_SIZE(fg_limit_cols),
	},
	[FG_KIND_ROUTE] = {
		.name = "route", .plural = "routes",
		.fields = fg_route_fields, .nfields = FG_ARRAY_SIZE(fg_route_fields),
		.fields_hint = "--service, --path-prefix, ...",
		.cols = fg_route_cols, .ncols = FG_ARRAY_SIZE(fg_route_cols),
		.detail = "backends",
		.detail_cols = fg_backend_cols, .detail_ncols = FG_ARRAY_SIZE(fg_backend_cols),
	},
	[FG_KIND_SECKILL] = {
		.name = "seckill rule", .plural = "seckill",
		.fields = fg_seckill_fields, .nfields = FG_ARRAY_SIZE(fg_seckill_fields),
		.fields_hint = "--service, --rate, ...",
		.cols = fg_seckill_cols, .ncols = FG_ARRAY_SIZE(fg_seckill_cols),
	},
};

/* --------------------------------------------------------- ls, get */

json_t *fg_rule_unwrap(const struct fg_kind *k, json_t *root)
{
	json_t *obj = json_object_get(root, k->name);

	if (!json_is_object(obj))
		obj = root;
	return json_is_object(obj) ? obj : NULL;
}

void fg_print_rules(const struct fg_kind *k, const json_t *map)
{
	if (!json_object_size(map))
		printf("no %s\n", k->plural);
	else
		fg_print_map(map, "NAME", k->cols, k->ncols);
}

/*
 * fg_named_map - the name -> object map in a list answer. API.md leaves
 * the list shape open, so accept: root[key] as an object of objects, or
 * as an array of objects with "name"; root itself as such an array; or
 * root's members that are objects (beside e.g. "version"). Returns a new
 * reference, or NULL when the answer is none of these.
 */
static json_t *fg_named_map(json_t *root, const char *key)
{
	json_t *src = json_object_get(root, key), *map, *el, *name;
	const char *k;
	size_t i;

	if (json_is_object(src))
		return json_incref(src);
	if (!src && json_is_array(root))
		src = root;
	map = json_object();
	if (!map)
		fg_oom();
	if (json_is_array(src)) {
		json_array_foreach(src, i, el) {
			name = json_object_get(el, "name");
			if (!json_is_string(name)) {
				json_decref(map);
				return NULL;
			}
			if (json_object_set(map, json_string_value(name), el))
				fg_oom();
		}
		return map;
	}
	if (src || !json_is_object(root)) {
		json_decref(map);
		return NULL;
	}
	json_object_foreach(root, k, el)
		if (json_is_object(el) && json_object_set(map, k, el))
			fg_oom();
	return map;
}

/* fg_rule_ls - "fgctl <kind> ls": GET /v1/<plural> as a table. */
static int fg_rule_ls(struct fg_ctx *c, struct fg_args *a, const struct fg_command *self)
{
	const struct fg_kind *k = self->kind;
	struct fg_resp r = { 0 };
	json_t *root = NULL, *map;
	char *path;
	int rc;

	rc = fg_no_args(a, self->help);
	if (rc >= 0)
		return rc;
	path = fg_xasprintf("/v1/%s", k->plural);
	rc = fg_get(c, path, &r, &root);
	if (rc || !root)
		goto out;
	map = fg_named_map(root, k->plural);
	if (!map) {
		fprintf(stderr, "fgctl: GET %s: no %s in the answer\n", path, k->plural);
		rc = FG_EXIT_API;
		goto out;
	}
	fg_print_rules(k, map);
	json_decref(map);
out:
	json_decref(root);
	fg_resp_free(&r);
	free(path);
	return rc;
}

/*
 * fg_rule_get - "fgctl <kind> get NAME": "name:" then every field as
 * key: value, and the kind's detail member as a table of its own.
 */
static int fg_rule_get(struct fg_ctx *c, struct fg_args *a, const struct fg_command *self)
{
	const struct fg_kind *k = self->kind;
	struct fg_resp r = { 0 };
	struct fg_table t = { 0 };
	json_t *root = NULL, *obj, *detail;
	const char *name;
	char *path = NULL;
	bool helped;
	int rc;

	rc = fg_name_arg(a, self->help, &name, NULL, 0, &helped);
	if (rc || helped)
		return rc;
	path = fg_name_path(k->plural, name);
	rc = fg_get(c, path, &r, &root);
	if (rc || !root)
		goto out;
	obj = fg_rule_unwrap(k, root);
	if (!obj) {
		fprintf(stderr, "fgctl: GET %s: the answer is not a JSON object\n", path);
		rc = FG_EXIT_API;
		goto out;
	}
	if (!json_object_get(obj, "name"))
		fg_kv_add(&t, "name", name);
	fg_kv_members(&t, obj, k->detail);
	if (t.nrows)
		fg_table_print(&t);
	if (k->detail) {
		putchar('\n');
		detail = json_object_get(obj, k->detail);
		if (json_array_size(detail))
			fg_print_array(detail, k->detail_cols, k->detail_ncols);
		else
			printf("no %s\n", k->detail);
	}
out:
	json_decref(root);
	fg_resp_free(&r);
	free(path);
	return rc;
}

/* --------------------------------------------------------- set, rm */

/*
 * fg_put_or_rm - the write of "set" and "rm": PUT body (len bytes) or,
 * with body NULL, DELETE /v1/<plural>/<name>, conditional on if_version
 * ("" for unconditional). Returns the exit status.
 */
static int fg_put_or_rm(struct fg_ctx *c, const struct fg_kind *k, const char *name,
			const char *body, size_t len, const char *if_version)
{
	struct fg_resp r = { 0 };
	char *path = fg_name_path(k->plural, name);
	char im[48], ver[64];
	int rc;

	snprintf(im, sizeof(im), "\"%s\"", if_version);
	rc = fg_write(c, body ? "PUT" : "DELETE", path, body, len,
		      *if_version ? im : NULL, &r);
	if (!rc && !c->json)
		printf("%s %s %s%s\n", k->name, name,
		       !body ? "deleted" : r.status == 201 ? "created" : "replaced",
		       fg_answer_version(&r, ver, sizeof(ver)));
	fg_resp_free(&r);
	free(path);
	return rc;
}

/* The rule object "set" builds from its options, and what they said. */
struct fg_form {
	const struct fg_kind *kind;
	const char *cmd;		/* for messages */
	json_t *obj;
	const char *flag;		/* the last field option given */
	const struct fg_field *pending;	/* the last one that needs its
					 * object's FG_F_HEAD field */
};

/* fg_field_head - the FG_F_HEAD field of member object `in`, or NULL. */
static const struct fg_field *fg_field_head(const struct fg_kind *k, const char *in)
{
	size_t i;

	for (i = 0; in && i < k->nfields; i++)
		if (k->fields[i].type == FG_F_HEAD && k->fields[i].in &&
		    !strcmp(k->fields[i].in, in))
			return &k->fields[i];
	return NULL;
}

/* fg_json_set_first - obj[key] = v (stolen), as obj's first member. */
static void fg_json_set_first(json_t *obj, const char *key, json_t *v)
{
	json_t *old = json_deep_copy(obj), *ov;
	const char *ok;

	if (!old)
		fg_oom();
	json_object_clear(obj);
	fg_json_set(obj, key, v);
	json_object_foreach(old, ok, ov)
		if (strcmp(ok, key) && json_object_set(obj, ok, ov))
			fg_oom();
	json_decref(old);
}

/*
 * fg_field_put - check option f's value v for form and put it in the
 * object. Returns 0, or FG_EXIT_USAGE after printing why.
 */
static int fg_field_put(struct fg_form *m, const struct fg_field *f, const char *v)
{
	struct fg_bspec b;
	json_t *val, *dst;
	uint64_t n;
	int rc;

	switch (f->type) {
	case FG_F_STR:
		if (!*v)
			return fg_usage_error(m->cmd, "%s needs a value", f->opt);
		val = json_string(v);
		break;
	case FG_F_UINT:
		rc = fg_parse_u64(m->cmd, f->opt, v, INT64_MAX, &n);
		if (rc)
			return rc;
		val = json_integer((json_int_t)n);
		break;
	case FG_F_TRUE:
		val = json_true();
		break;
	case FG_F_IP:
		if (!fg_parse_ip(v, strlen(v), &b))
			return fg_usage_error(m->cmd, "%s: '%s' is not an IP address", f->opt, v);
		val = json_string(v);
		break;
	case FG_F_CIDR:
		if (!fg_check_cidr(v))
			return fg_usage_error(m->cmd, "%s: '%s' is not ADDR or ADDR/LEN", f->opt, v);
		val = json_string(v);
		break;
	case FG_F_BACKEND:
		rc = fg_parse_backend(m->cmd, v, true, &b);
		if (rc)
			return rc;
		if (json_array_append_new(fg_json_member(m->obj, f->key, true),
					  fg_bspec_json(&b)))
			fg_oom();
		return 0;
	default:	/* FG_F_TEXT, FG_F_HEAD */
		val = json_string(v);
		break;
	}
	dst = f->in ? fg_json_member(m->obj, f->in, false) : m->obj;
	if (f->type == FG_F_HEAD) {
		fg_json_set_first(dst, f->key, val);
		return 0;
	}
	fg_json_set(dst, f->key, val);
	if (fg_field_head(m->kind, f->in))
		m->pending = f;
	return 0;
}

/* The options every "set" takes; the kind's fields follow them. */
enum { FG_SET_FILE, FG_SET_IFV, FG_SET_FIELDS };

/*
 * fg_rule_set - "fgctl <kind> set NAME (--file F | options)": PUT the file
 * unchanged, or the object the options build.
 */
static int fg_rule_set(struct fg_ctx *c, struct fg_args *a, const struct fg_command *self)
{
	const struct fg_kind *k = self->kind;
	struct fg_opt opts[FG_SET_FIELDS + FG_FIELDS_MAX + 1] = {
		[FG_SET_FILE] = { "--file", FG_ARG_REQ },
		[FG_SET_IFV] = { "--if-version", FG_ARG_REQ },
	};
	struct fg_form m = { .kind = k, .cmd = a->cmd, .obj = json_object() };
	const char *name = NULL, *file = NULL, *v;
	const struct fg_field *head;
	struct fg_buf body = { 0 };
	char ifv[32] = "", *text = NULL;
	size_t i;
	int o, rc = 0;

	if (!m.obj)
		fg_oom();
	for (i = 0; i < k->nfields && i < FG_FIELDS_MAX; i++)
		opts[FG_SET_FIELDS + i] = (struct fg_opt){
			k->fields[i].opt,
			k->fields[i].type == FG_F_TRUE ? FG_ARG_NONE : FG_ARG_REQ,
		};
	while (!rc && (o = fg_opt_next(a, opts, &v)) != FG_OPT_END) {
		switch (o) {
		case FG_OPT_HELP:
			rc = fg_help(self->help);
			goto out;
		case FG_OPT_ERR:
			rc = FG_EXIT_USAGE;
			break;
		case FG_OPT_POS:
			if (name)
				rc = fg_extra_word(a, v);
			name = v;
			break;
		case FG_SET_FILE:
			file = v;
			break;
		case FG_SET_IFV:
			rc = fg_parse_if_version(a->cmd, v, ifv, sizeof(ifv));
			break;
		default:
			m.flag = opts[o].name;
			rc = fg_field_put(&m, &k->fields[o - FG_SET_FIELDS], v);
			break;
		}
	}
	if (rc)
		goto out;
	head = m.pending ? fg_field_head(k, m.pending->in) : NULL;
	if (!name)
		rc = fg_usage_error(a->cmd, "missing the %s NAME", k->name);
	else if (!*name)
		rc = fg_usage_error(a->cmd, "the %s NAME is empty", k->name);
	else if (file && m.flag)
		rc = fg_usage_error(a->cmd, "--file and %s exclude each other: the file is the whole %s",
				    m.flag, k->name);
	else if (!file && !m.flag)
		rc = fg_usage_error(a->cmd, "give --file FILE or the %s's fields (%s)",
				    k->name, k->fields_hint);
	else if (head && !json_object_get(json_object_get(m.obj, head->in), head->key))
		rc = fg_usage_error(a->cmd, "%s needs %s %s", m.pending->opt, head->opt,
				    head->meta);
	if (rc)
		goto out;
	if (file) {
		rc = fg_read_file(file, &body);
		if (!rc)
			rc = fg_put_or_rm(c, k, name, body.data, body.len, ifv);
	} else {
		text = fg_dump(m.obj);
		rc = fg_put_or_rm(c, k, name, text, strlen(text), ifv);
	}
out:
	free(text);
	fg_buf_free(&body);
	json_decref(m.obj);
	return rc;
}

/* fg_rule_rm - "fgctl <kind> rm NAME [--if-version N]". */
static int fg_rule_rm(struct fg_ctx *c, struct fg_args *a, const struct fg_command *self)
{
	const char *name;
	char ifv[32] = "";
	bool helped;
	int rc;

	rc = fg_name_arg(a, self->help, &name, ifv, sizeof(ifv), &helped);
	return rc || helped ? rc : fg_put_or_rm(c, self->kind, name, NULL, 0, ifv);
}

/* ---------------------------------------------------------- command */

int fg_cmd_rule(struct fg_ctx *c, struct fg_args *a, const struct fg_command *self)
{
	static const char *const subs[] = { "ls", "get", "set", "rm", NULL };
	static int (*const run[])(struct fg_ctx *, struct fg_args *,
				  const struct fg_command *) = {
		fg_rule_ls, fg_rule_get, fg_rule_set, fg_rule_rm,
	};
	char cmd[32];
	int sub, rc;

	sub = fg_subcommand(a, self->name, self->help, subs, cmd, sizeof(cmd), &rc);
	return sub < 0 ? rc : run[sub](c, a, self);
}
