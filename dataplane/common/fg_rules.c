/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * fg_rules.c - ownership of the in-memory rule model (fg_rules.h).
 */
#include <stdlib.h>
#include <string.h>

#include "fg_rules.h"

/*
 * fg_ruleset_free - free the services (and each one's backends) and limits
 * that *rs owns, then zero *rs so a second call is harmless. The struct
 * itself belongs to the caller. Accepts NULL. Context: userspace.
 */
void fg_ruleset_free(struct fg_ruleset *rs)
{
	uint32_t i;

	if (!rs)
		return;
	if (rs->services) {
		for (i = 0; i < rs->nservices; i++)
			free(rs->services[i].backends);
		free(rs->services);
	}
	free(rs->limits);
	memset(rs, 0, sizeof(*rs));
}
