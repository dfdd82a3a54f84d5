/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * fg_l7_ship.h - what a table set carries for the L7 engine, and how each
 * side makes it: floodgated compiles every route and seckill match of the
 * node into one hyperscan blob and ships it with the rules the engine
 * judges by; the process that runs the engine (floodgate-dpdk) builds its
 * tables for its own lcores around that blob (fg_l7_layout.blob), without
 * compiling hyperscan again (issue 15, DESIGN.md "L7 without a proxy").
 *
 * The rules are the l7 part of the rule set as the API prints it (the
 * canonical JSON of fg_ruleset_to_json): every `l7` service, every route
 * and seckill rule, and every `rps` or `respond` limit. The receiver
 * reads them with the API's own codec and checks, so a section is judged
 * by the same rules as a write; l4 services and limits stay in the L4
 * tables and are not repeated here.
 *
 * Userspace, control side only.
 */
#ifndef FG_L7_SHIP_H
#define FG_L7_SHIP_H

#include <stddef.h>
#include <stdint.h>

#include "fg_l7_compile.h"
#include "fg_rules.h"

/* A section: both empty (no l7 service in the rule set), or both set. */
struct fg_l7_ship {
	char *rules;        /* JSON text, rules_len bytes (no NUL needed) */
	size_t rules_len;
	void *blob;         /* fg_l7_tables.blob of the sender's compile */
	size_t blob_len;
};

/*
 * fg_l7_ship_build - the section of rule set rs (checked) into *out,
 * compiled once for one lcore (the blob does not depend on the layout).
 * An empty section when rs has no l7 service. 0, or -EINVAL (the L7
 * compiler refused rs: its message in err) / -ENOMEM; *out is then
 * empty.
 */
int fg_l7_ship_build(const struct fg_ruleset *rs, struct fg_l7_ship *out,
		     char *err, size_t errlen);

/* fg_l7_ship_free - release what s holds and empty it. NULL is fine. */
void fg_l7_ship_free(struct fg_l7_ship *s);

/*
 * fg_l7_ship_tables - the receiver's tables of a section (rules,
 * rules_len; blob, blob_len) for layout lay (whose blob fields are
 * ignored), with ids from prev (may be NULL) and version: the rules read
 * and checked as the API reads them, then compiled around the blob
 * (fg_l7_compile). 0 with *out; -EINVAL with the reason in err (rules
 * that do not parse or check, a blob that is not theirs), -ENOMEM.
 */
int fg_l7_ship_tables(const void *rules, size_t rules_len, const void *blob,
		      size_t blob_len, const struct fg_l7_layout *lay,
		      const struct fg_l7_tables *prev, uint64_t version,
		      struct fg_l7_tables **out, char *err, size_t errlen);

#endif /* FG_L7_SHIP_H */
