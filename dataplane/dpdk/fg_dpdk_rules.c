// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * fg_dpdk_rules.c - rule-set JSON to compiled table images
 * (fg_dpdk_rules.h), through the API's own codec and the compiler: one
 * parse, one validation, the same as floodgated's.
 */
#include "fg_dpdk_rules.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "fg_rules.h"
#include "fg_rules_json.h"

#define FG_DP_RULES_FILE_MAX (16U << 20)

int fg_dp_rules_compile(struct fg_compiler *c, const char *buf, size_t len,
			uint64_t version, struct fg_compiled **out, char *err,
			size_t errlen)
{
	struct fg_rule_error re;
	struct fg_ruleset rs;
	json_t *root;
	int rc;

	*out = NULL;
	memset(&re, 0, sizeof(re));
	memset(&rs, 0, sizeof(rs));
	root = fg_json_parse_body(buf, len, &re);
	if (!root) {
		snprintf(err, errlen, "%s", re.message);
		return re.kind == FG_RULE_ENOMEM ? -ENOMEM : -EINVAL;
	}
	rc = fg_ruleset_from_json(root, &rs, &re);
	json_decref(root);
	if (rc) {
		snprintf(err, errlen, "%s", re.message);
		return rc == -ENOMEM ? -ENOMEM : -EINVAL;
	}
	rc = fg_compile(c, &rs, version, out, err, errlen);
	fg_ruleset_free(&rs);
	return rc;
}

int fg_dp_rules_load(struct fg_compiler *c, const char *path, uint64_t version,
		     struct fg_compiled **out, char *err, size_t errlen)
{
	FILE *f;
	char *buf;
	size_t n;
	int rc;

	*out = NULL;
	f = fopen(path, "re");
	if (!f) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(-rc));
		return rc;
	}
	buf = malloc(FG_DP_RULES_FILE_MAX + 1);
	if (!buf) {
		fclose(f);
		snprintf(err, errlen, "%s: out of memory", path);
		return -ENOMEM;
	}
	n = fread(buf, 1, FG_DP_RULES_FILE_MAX + 1, f);
	if (ferror(f) || n > FG_DP_RULES_FILE_MAX) {
		rc = ferror(f) ? -EIO : -EFBIG;
		snprintf(err, errlen, "%s: %s", path,
			 rc == -EIO ? "read error" : "larger than 16 MiB");
		free(buf);
		fclose(f);
		return rc;
	}
	fclose(f);
	rc = fg_dp_rules_compile(c, buf, n, version, out, err, errlen);
	free(buf);
	return rc;
}
