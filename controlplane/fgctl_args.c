/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * fgctl_args.c - fgctl's argument handling (see fgctl_args.h).
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "fgctl_args.h"
#include "fgctl_util.h"

/* ---------------------------------------------------------- options */

int fg_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "fgctl%s%s: ", cmd ? " " : "", cmd ? cmd : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'fgctl%s%s --help'.\n", cmd ? " " : "", cmd ? cmd : "");
	return FG_EXIT_USAGE;
}

bool fg_is_number(const char *s)
{
	bool digit = false, dot = false;

	for (; *s; s++) {
		if (*s >= '0' && *s <= '9')
			digit = true;
		else if (*s == '.' && !dot)
			dot = true;
		else
			return false;
	}
	return digit;
}

int fg_opt_next(struct fg_args *a, const struct fg_opt *opts, const char **val)
{
	const char *w, *eq;
	size_t nlen;
	int k;

	*val = NULL;
	if (a->i >= a->argc)
		return FG_OPT_END;
	w = a->argv[a->i++];
	if (!a->dashdash && !strcmp(w, "--")) {
		a->dashdash = true;
		return fg_opt_next(a, opts, val);
	}
	if (a->dashdash || w[0] != '-' || !w[1]) {
		*val = w;
		return FG_OPT_POS;
	}
	if (!strcmp(w, "--help") || !strcmp(w, "-h"))
		return FG_OPT_HELP;
	eq = !strncmp(w, "--", 2) ? strchr(w, '=') : NULL;
	nlen = eq ? (size_t)(eq - w) : strlen(w);
	for (k = 0; opts && opts[k].name; k++) {
		if (strlen(opts[k].name) != nlen || strncmp(opts[k].name, w, nlen))
			continue;
		if (opts[k].arg == FG_ARG_NONE) {
			if (eq) {
				fg_usage_error(a->cmd, "%s takes no value", opts[k].name);
				return FG_OPT_ERR;
			}
			return k;
		}
		if (eq) {
			*val = eq + 1;
			return k;
		}
		if (opts[k].arg == FG_ARG_OPTNUM) {
			if (a->i < a->argc && fg_is_number(a->argv[a->i]))
				*val = a->argv[a->i++];
			return k;
		}
		if (a->i >= a->argc) {
			fg_usage_error(a->cmd, "%s needs a value", opts[k].name);
			return FG_OPT_ERR;
		}
		*val = a->argv[a->i++];
		return k;
	}
	fg_usage_error(a->cmd, "unknown option '%.*s'", (int)nlen, w);
	return FG_OPT_ERR;
}

int fg_parse_u64(const char *cmd, const char *what, const char *s,
		 uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	const char *p = s;

	if (!*p)
		return fg_usage_error(cmd, "%s: empty; a whole number is needed", what);
	for (; *p; p++) {
		if (*p < '0' || *p > '9')
			return fg_usage_error(cmd, "%s: '%s' is not a whole number", what, s);
		if (v > (max - (uint64_t)(*p - '0')) / 10)
			return fg_usage_error(cmd, "%s: '%s' is larger than %" PRIu64,
					      what, s, max);
		v = v * 10 + (uint64_t)(*p - '0');
	}
	*out = v;
	return 0;
}

int fg_parse_if_version(const char *cmd, const char *v, char *out, size_t size)
{
	uint64_t n;
	int rc = fg_parse_u64(cmd, "--if-version", v, INT64_MAX, &n);

	if (!rc)
		snprintf(out, size, "%" PRIu64, n);
	return rc;
}

int fg_extra_word(const struct fg_args *a, const char *w)
{
	return fg_usage_error(a->cmd, "unexpected argument '%s'", w);
}

int fg_help(const char *text)
{
	fputs(text, stdout);
	return FG_EXIT_OK;
}

int fg_opt_only(struct fg_args *a, const struct fg_opt *opts, const char *help,
		const char **val, int *rc)
{
	int k = fg_opt_next(a, opts, val);

	switch (k) {
	case FG_OPT_HELP:
		*rc = fg_help(help);
		return FG_OPT_DONE;
	case FG_OPT_POS:
		*rc = fg_extra_word(a, *val);
		return FG_OPT_DONE;
	case FG_OPT_ERR:
		*rc = FG_EXIT_USAGE;
		return FG_OPT_DONE;
	default:
		return k;
	}
}

int fg_no_args(struct fg_args *a, const char *help)
{
	const char *v;
	int rc = -1;

	return fg_opt_only(a, NULL, help, &v, &rc) == FG_OPT_END ? -1 : rc;
}

int fg_name_arg(struct fg_args *a, const char *help, const char **name,
		char *ifv, size_t ifv_size, bool *helped)
{
	static const struct fg_opt opts[] = { { "--if-version", FG_ARG_REQ }, { NULL, 0 } };
	const char *v;
	int k, rc;

	*name = NULL;
	*helped = false;
	while ((k = fg_opt_next(a, ifv ? opts : NULL, &v)) != FG_OPT_END) {
		if (k == FG_OPT_HELP) {
			*helped = true;
			return fg_help(help);
		}
		if (k == FG_OPT_ERR)
			return FG_EXIT_USAGE;
		if (k == FG_OPT_POS) {
			if (*name)
				return fg_extra_word(a, v);
			*name = v;
			continue;
		}
		rc = fg_parse_if_version(a->cmd, v, ifv, ifv_size);
		if (rc)
			return rc;
	}
	if (!*name || !**name)
		return fg_usage_error(a->cmd, "missing the NAME");
	return 0;
}

int fg_subcommand(struct fg_args *a, const char *group, const char *help,
		  const char *const *subs, char *cmdbuf, size_t size, int *rc)
{
	const char *v;
	int k, i;

	k = fg_opt_next(a, NULL, &v);
	if (k == FG_OPT_HELP) {
		*rc = fg_help(help);
		return -1;
	}
	if (k == FG_OPT_ERR) {
		*rc = FG_EXIT_USAGE;
		return -1;
	}
	if (k == FG_OPT_END) {
		*rc = fg_usage_error(group, "missing the subcommand");
		return -1;
	}
	for (i = 0; subs[i]; i++)
		if (!strcmp(v, subs[i])) {
			snprintf(cmdbuf, size, "%s %s", group, v);
			a->cmd = cmdbuf;
			return i;
		}
	*rc = fg_usage_error(group, "unknown subcommand '%s'", v);
	return -1;
}

/* -------------------------------------------------------- addresses */

bool fg_parse_ip(const char *s, size_t len, struct fg_bspec *b)
{
	char tmp[INET6_ADDRSTRLEN + 8];

	if (!len || len >= sizeof(tmp))
		return false;
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	memset(b->bin, 0, sizeof(b->bin));
	if (inet_pton(AF_INET, tmp, b->bin) == 1)
		b->family = AF_INET;
	else if (inet_pton(AF_INET6, tmp, b->bin) == 1)
		b->family = AF_INET6;
	else
		return false;
	memcpy(b->addr, tmp, len + 1);
	return true;
}

bool fg_check_cidr(const char *s)
{
	const char *slash = strchr(s, '/');
	struct fg_bspec b;

	if (!fg_parse_ip(s, slash ? (size_t)(slash - s) : strlen(s), &b))
		return false;
	if (!slash)
		return true;
	if (!slash[1] || strspn(slash + 1, "0123456789") != strlen(slash + 1))
		return false;
	return true;
}

int fg_parse_backend(const char *cmd, const char *s, bool opts, struct fg_bspec *b)
{
	const char *end = opts ? s + strcspn(s, ",") : s + strlen(s);
	const char *addr = s, *colon, *port = NULL;
	size_t alen;
	char pbuf[32];
	int rc;

	memset(b, 0, sizeof(*b));
	if (*s == '[') {
		const char *rb = memchr(s, ']', (size_t)(end - s));

		if (!rb)
			return fg_usage_error(cmd, "backend '%s': missing ']' after the IPv6 address", s);
		addr = s + 1;
		alen = (size_t)(rb - addr);
		if (rb + 1 < end) {
			if (rb[1] != ':')
				return fg_usage_error(cmd, "backend '%s': expected ':PORT' after ']'", s);
			port = rb + 2;
		}
		if (!fg_parse_ip(addr, alen, b) || b->family != AF_INET6)
			return fg_usage_error(cmd, "backend '%s': '%.*s' is not an IPv6 address",
					      s, (int)alen, addr);
	} else {
		colon = memchr(s, ':', (size_t)(end - s));
		/* Two colons or more without brackets: a bare IPv6 address. */
		if (colon && memchr(colon + 1, ':', (size_t)(end - colon - 1)))
			colon = NULL;
		alen = colon ? (size_t)(colon - s) : (size_t)(end - s);
		if (colon)
			port = colon + 1;
		if (!fg_parse_ip(addr, alen, b))
			return fg_usage_error(cmd, "backend '%s': '%.*s' is not an IP address (IPv6 with a port: [2001:db8::1]:8080)",
					      s, (int)alen, addr);
	}
	if (port) {
		size_t plen = (size_t)(end - port);

		if (!plen || plen >= sizeof(pbuf))
			return fg_usage_error(cmd, "backend '%s': bad port", s);
		memcpy(pbuf, port, plen);
		pbuf[plen] = '\0';
		rc = fg_parse_u64(cmd, "backend port", pbuf, INT64_MAX, &b->port);
		if (rc)
			return rc;
		b->has_port = true;
	}
	while (opts && *end == ',') {
		const char *kv = end + 1, *eq;
		size_t klen;
		char vbuf[64];

		end = kv + strcspn(kv, ",");
		eq = memchr(kv, '=', (size_t)(end - kv));
		if (!eq || eq == kv || (size_t)(end - eq - 1) >= sizeof(vbuf) || eq + 1 == end)
			return fg_usage_error(cmd, "backend '%s': expected weight=W or state=S after ','", s);
		klen = (size_t)(eq - kv);
		memcpy(vbuf, eq + 1, (size_t)(end - eq - 1));
		vbuf[end - eq - 1] = '\0';
		if (klen == 6 && !strncmp(kv, "weight", 6)) {
			rc = fg_parse_u64(cmd, "backend weight", vbuf, INT64_MAX, &b->weight);
			if (rc)
				return rc;
			b->has_weight = true;
		} else if (klen == 5 && !strncmp(kv, "state", 5)) {
			b->state = eq + 1;	/* points into argv: lives on */
		} else {
			return fg_usage_error(cmd, "backend '%s': unknown option '%.*s' (weight or state)",
					      s, (int)klen, kv);
		}
	}
	return 0;
}

/* b->state points into a longer word ("...,state=drain,weight=5"), so it
 * is cut at the next ','. */
json_t *fg_bspec_json(const struct fg_bspec *b)
{
	json_t *o = json_object();

	if (!o)
		fg_oom();
	fg_json_set(o, "addr", json_string(b->addr));
	if (b->has_port)
		fg_json_set(o, "port", json_integer((json_int_t)b->port));
	if (b->has_weight)
		fg_json_set(o, "weight", json_integer((json_int_t)b->weight));
	if (b->state)
		fg_json_set(o, "state", json_stringn(b->state, strcspn(b->state, ",")));
	return o;
}

const char *fg_bspec_text(const struct fg_bspec *b, char *buf, size_t size)
{
	if (!b->has_port)
		snprintf(buf, size, "%s", b->addr);
	else if (b->family == AF_INET6)
		snprintf(buf, size, "[%s]:%" PRIu64, b->addr, b->port);
	else
		snprintf(buf, size, "%s:%" PRIu64, b->addr, b->port);
	return buf;
}
