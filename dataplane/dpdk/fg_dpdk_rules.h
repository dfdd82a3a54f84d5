/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * fg_dpdk_rules.h - a rule set in the API's JSON (PUT /v1/config body,
 * shared/API.md) compiled to the table images fg_dp_tables_new() takes:
 * how floodgate-dpdk gets its tables from a file until the control socket
 * pushes them, and how its tests and benchmark describe theirs.
 *
 * Userspace; not thread-safe (one caller owns the compiler).
 */
#ifndef FG_DPDK_RULES_H
#define FG_DPDK_RULES_H

#include <stddef.h>
#include <stdint.h>

#include "fg_compile.h"

/*
 * fg_dp_rules_compile - parse len bytes of JSON at buf (the existing
 * codec: fg_json_parse_body, fg_ruleset_from_json), compile it with c as
 * version `version` into *out (fg_compile). The caller builds its tables
 * from *out, then fg_compiler_commit() and fg_compiled_free().
 * Returns 0, or -EINVAL / -EOPNOTSUPP / -ENOSPC / -ENOMEM with a message
 * naming the field in err; *out is then NULL and c unchanged.
 */
int fg_dp_rules_compile(struct fg_compiler *c, const char *buf, size_t len,
			uint64_t version, struct fg_compiled **out, char *err,
			size_t errlen);

/*
 * fg_dp_rules_load - fg_dp_rules_compile() of the file at path (at most
 * 16 MiB). Returns as fg_dp_rules_compile, or -errno of reading the
 * file (message in err).
 */
int fg_dp_rules_load(struct fg_compiler *c, const char *path, uint64_t version,
		     struct fg_compiled **out, char *err, size_t errlen);

#endif /* FG_DPDK_RULES_H */
