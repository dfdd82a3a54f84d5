/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * fgctl_backend.c - "fgctl backend add|drain|rm|set-weight": a
 * read-modify-write of one service. GET it, edit the backends array, PUT
 * it back with If-Match: <the GET's ETag>. A 412 (someone else wrote in
 * between) is retried from the GET up to FG_RMW_RETRIES times, then
 * reported.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fgctl.h"
#include "fgctl_rules.h"
#include "fgctl_util.h"

/* A 412 on a backend edit is retried this many times (after the first
 * attempt) before fgctl gives up and reports it. */
#define FG_RMW_RETRIES 3

/* The subcommands; fg_backend_subs names them. */
enum { FG_BE_ADD, FG_BE_DRAIN, FG_BE_RM, FG_BE_WEIGHT };

/*
 * fg_backend_matches - true when the API backend object el is the one b
 * names: same address (compared as addresses, so "2001:db8::1" is
 * "2001:0db8::1"), and when b has a port, the same port, a backend without
 * one having the service's port (svc_port).
 */
static bool fg_backend_matches(const json_t *el, const struct fg_bspec *b,
			       bool svc_has_port, uint64_t svc_port)
{
	json_t *addr = json_object_get(el, "addr");
	struct fg_bspec other;
	uint64_t port;
	bool has_port;

	if (!json_is_string(addr) ||
	    !fg_parse_ip(json_string_value(addr), strlen(json_string_value(addr)), &other) ||
	    other.family != b->family || memcmp(other.bin, b->bin, sizeof(b->bin)))
		return false;
	if (!b->has_port)
		return true;
	has_port = fg_json_u64(el, "port", &port);
	if (!has_port) {
		has_port = svc_has_port;
		port = svc_port;
	}
	return has_port && port == b->port;
}

/*
 * fg_backend_edit - apply op to the service object svc (as read): add b,
 * or find the one backend b names and drain it, remove it or set its
 * weight. Returns 0, FG_EXIT_API when the backend is missing (or present,
 * for add), FG_EXIT_USAGE when ADDR without a port names several.
 */
static int fg_backend_edit(json_t *svc, const char *name, int op,
			   const struct fg_bspec *b, uint64_t weight)
{
	json_t *be = json_object_get(svc, "backends"), *el, *hit = NULL;
	char txt[INET6_ADDRSTRLEN + 32];
	size_t i, hit_i = 0, nhits = 0;
	uint64_t svc_port = 0;
	bool svc_has_port = fg_json_u64(svc, "port", &svc_port);

	if (!be || json_is_null(be)) {
		be = json_array();
		if (!be)
			fg_oom();
		fg_json_set(svc, "backends", be);
	}
	if (!json_is_array(be)) {
		fprintf(stderr, "fgctl: service %s: \"backends\" in the answer is not an array\n",
			name);
		return FG_EXIT_API;
	}
	fg_bspec_text(b, txt, sizeof(txt));
	if (op == FG_BE_ADD) {
		/* Without a port the new backend gets the service's: that is
		 * the pair that must not exist yet. */
		struct fg_bspec key = *b;

		if (!key.has_port && svc_has_port) {
			key.has_port = true;
			key.port = svc_port;
		}
		json_array_foreach(be, i, el)
			if (fg_backend_matches(el, &key, svc_has_port, svc_port)) {
				fprintf(stderr, "fgctl: service %s already has backend %s (see 'fgctl backend set-weight')\n",
					name, txt);
				return FG_EXIT_API;
			}
		if (json_array_append_new(be, fg_bspec_json(b)))
			fg_oom();
		return 0;
	}
	json_array_foreach(be, i, el)
		if (fg_backend_matches(el, b, svc_has_port, svc_port)) {
			if (!nhits++) {
				hit = el;
				hit_i = i;
			}
		}
	if (!nhits) {
		fprintf(stderr, "fgctl: service %s has no backend %s\n", name, txt);
		return FG_EXIT_API;
	}
	if (nhits > 1) {
		fprintf(stderr, "fgctl: service %s has %zu backends at %s; name one as ADDR:PORT\n",
			name, nhits, txt);
		return FG_EXIT_USAGE;
	}
	if (op == FG_BE_RM) {
		if (json_array_remove(be, hit_i))
			fg_oom();
	} else if (op == FG_BE_DRAIN) {
		fg_json_set(hit, "state", json_string("drain"));
	} else {
		fg_json_set(hit, "weight", json_integer((json_int_t)weight));
	}
	return 0;
}

/*
 * fg_rules_version - GET /v1/status's rules_version as If-Match text into
 * buf; used when a service answer carries neither an ETag nor a version.
 * Returns 0 or the exit status after printing why.
 */
static int fg_rules_version(struct fg_ctx *c, char *buf, size_t size)
{
	struct fg_resp r = { 0 };
	json_t *root = NULL, *v;
	int rc;

	rc = fg_read(c, "/v1/status", &r, &root);
	if (!rc) {
		v = json_object_get(root, "rules_version");
		if (json_is_integer(v)) {
			snprintf(buf, size, "\"%" JSON_INTEGER_FORMAT "\"", json_integer_value(v));
		} else {
			fputs("fgctl: cannot learn the rule set's version: no ETag, no \"version\", no rules_version in /v1/status\n",
			      stderr);
			rc = FG_EXIT_API;
		}
	}
	json_decref(root);
	fg_resp_free(&r);
	return rc;
}

/*
 * fg_read_service - GET the service at path into *obj (new reference),
 * with the version it was read at as If-Match text in im: the ETag, else
 * the body's "version". im is "" when the answer had neither. Returns 0
 * or the exit status after printing why.
 */
static int fg_read_service(struct fg_ctx *c, const char *path, json_t **obj,
			   char *im, size_t im_size)
{
	struct fg_resp r = { 0 };
	json_t *root = NULL, *inner, *v;
	int rc;

	*obj = NULL;
	im[0] = '\0';
	rc = fg_read(c, path, &r, &root);
	if (!rc) {
		inner = fg_rule_unwrap(&fg_kinds[FG_KIND_SERVICE], root);
		if (!inner) {
			fprintf(stderr, "fgctl: GET %s: the answer is not a JSON object\n", path);
			rc = FG_EXIT_API;
		} else {
			v = json_object_get(root, "version");
			if (r.etag[0])
				snprintf(im, im_size, "%s", r.etag);
			else if (json_is_integer(v))
				snprintf(im, im_size, "\"%" JSON_INTEGER_FORMAT "\"",
					 json_integer_value(v));
			*obj = json_deep_copy(inner);
			if (!*obj)
				fg_oom();
			/* Not Service fields: the server refuses unknown
			 * fields on a PUT. */
			json_object_del(*obj, "name");
			json_object_del(*obj, "version");
		}
	}
	json_decref(root);
	fg_resp_free(&r);
	return rc;
}

/*
 * fg_backend_rmw - read the service, edit its backends (op), write it back
 * conditional on the version read; on 412 start over, at most
 * FG_RMW_RETRIES more times. Returns the exit status.
 */
static int fg_backend_rmw(struct fg_ctx *c, const char *name, int op,
			  const struct fg_bspec *b, uint64_t weight)
{
	static const char *const verbs[] = {
		[FG_BE_ADD] = "added to", [FG_BE_DRAIN] = "draining in",
		[FG_BE_RM] = "removed from", [FG_BE_WEIGHT] = "re-weighted in",
	};
	struct fg_resp r = { 0 };
	char *path = fg_name_path(fg_kinds[FG_KIND_SERVICE].plural, name), *what, *text = NULL;
	char im[128], txt[INET6_ADDRSTRLEN + 32], ver[64];
	json_t *svc = NULL;
	int attempt, rc = 0;

	what = fg_xasprintf("PUT %s", path);
	for (attempt = 0; attempt <= FG_RMW_RETRIES; attempt++) {
		json_decref(svc);
		free(text);
		text = NULL;
		rc = fg_read_service(c, path, &svc, im, sizeof(im));
		if (!rc && !im[0]) {
			/* No version on the read: take the rule set's version
			 * first and read again, so the data read is at least
			 * that new; a change in between then makes the PUT
			 * fail with 412 rather than be lost. */
			json_decref(svc);
			svc = NULL;
			rc = fg_rules_version(c, im, sizeof(im));
			if (!rc) {
				char unused[8];

				rc = fg_read_service(c, path, &svc, unused, sizeof(unused));
			}
		}
		if (!rc)
			rc = fg_backend_edit(svc, name, op, b, weight);
		if (rc)
			goto out;
		text = fg_dump(svc);
		rc = fg_request(c, "PUT", path, text, strlen(text), im, &r);
		if (rc)
			goto out;
		if (fg_ok(&r))
			break;
		if (r.status != 412) {
			rc = fg_api_fail(c, &r, what);
			goto out;
		}
		if (attempt < FG_RMW_RETRIES)
			fprintf(stderr, "fgctl: service %s changed while editing it (412); retrying (%d of %d)\n",
				name, attempt + 1, FG_RMW_RETRIES);
	}
	if (attempt > FG_RMW_RETRIES) {
		rc = fg_api_fail(c, &r, what);
		fprintf(stderr, "fgctl: gave up after %d attempts: the rule set kept changing while editing service %s; nothing was changed by fgctl, try again\n",
			FG_RMW_RETRIES + 1, name);
		goto out;
	}
	if (c->json)
		fg_passthrough(&r);
	else
		printf("backend %s %s service %s%s\n", fg_bspec_text(b, txt, sizeof(txt)),
		       verbs[op], name, fg_answer_version(&r, ver, sizeof(ver)));
out:
	json_decref(svc);
	free(text);
	free(what);
	free(path);
	fg_resp_free(&r);
	return rc;
}

int fg_cmd_backend(struct fg_ctx *c, struct fg_args *a, const struct fg_command *self)
{
	static const char *const fg_backend_subs[] = {
		[FG_BE_ADD] = "add", [FG_BE_DRAIN] = "drain", [FG_BE_RM] = "rm",
		[FG_BE_WEIGHT] = "set-weight", NULL,
	};
	static const struct fg_opt add_opts[] = { { "--weight", FG_ARG_REQ }, { NULL, 0 } };
	const char *v, *pos[3] = { NULL, NULL, NULL };
	struct fg_bspec b;
	uint64_t weight = 0;
	bool has_weight = false;
	char cmd[32];
	int k, op, npos = 0, want, rc;

	op = fg_subcommand(a, self->name, self->help, fg_backend_subs, cmd, sizeof(cmd), &rc);
	if (op < 0)
		return rc;
	want = op == FG_BE_WEIGHT ? 3 : 2;
	while ((k = fg_opt_next(a, op == FG_BE_ADD ? add_opts : NULL, &v)) != FG_OPT_END) {
		if (k == FG_OPT_HELP)
			return fg_help(self->help);
		if (k == FG_OPT_ERR)
			return FG_EXIT_USAGE;
		if (k == FG_OPT_POS) {
			if (npos == want)
				return fg_extra_word(a, v);
			pos[npos++] = v;
			continue;
		}
		rc = fg_parse_u64(a->cmd, "--weight", v, INT64_MAX, &weight);
		if (rc)
			return rc;
		has_weight = true;
	}
	if (npos < want)
		return fg_usage_error(a->cmd, npos == 0 ? "missing SERVICE and ADDR[:PORT]" :
				      npos == 1 ? "missing ADDR[:PORT]" : "missing the weight W");
	if (!*pos[0])
		return fg_usage_error(a->cmd, "the SERVICE name is empty");
	rc = fg_parse_backend(a->cmd, pos[1], false, &b);
	if (rc)
		return rc;
	if (op == FG_BE_WEIGHT) {
		rc = fg_parse_u64(a->cmd, "weight", pos[2], INT64_MAX, &weight);
		if (rc)
			return rc;
	}
	if (op == FG_BE_ADD && has_weight) {
		b.has_weight = true;
		b.weight = weight;
	}
	return fg_backend_rmw(c, pos[0], op, &b, weight);
}
