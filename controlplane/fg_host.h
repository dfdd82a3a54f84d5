/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * fg_host.h - floodgated's preparation of its own box (DESIGN.md "The box
 * as it comes"), on the fghost library: the sysctls the dataplane needs on
 * its interfaces (fg_sysctl.h), and a kernel-managed neighbour entry for
 * every next hop the running rules forward to (fg_neigh.h), refreshed when
 * the rules' backends change and when routes change. Everything it
 * changes it logs, and --detach gives it back.
 *
 * Context: the daemon's event loop; logs through fg_log.
 */
#ifndef FG_HOST_H
#define FG_HOST_H

#include <event2/event.h>

#include "fg_boot.h"
#include "fg_rules.h"

struct fg_host;

/*
 * fg_host_start - set the sysctls for cfg's dataplane interfaces and watch
 * routes on base. Returns the handle, or NULL with a message in err (a
 * sysctl that cannot be set: the dataplane could not route).
 */
struct fg_host *fg_host_start(struct event_base *base,
			      const struct fg_boot_config *cfg, char *err,
			      size_t errlen);

/*
 * fg_host_follow - the dataplane runs (or is about to run) rs: make sure
 * every next hop its backends need has a managed neighbour entry. Does
 * the work only when the set of backend addresses changed since the last
 * call (or routes changed meanwhile). Failures are logged and retried at
 * the next route change; the dataplane counts what they cost (no_neigh).
 */
void fg_host_follow(struct fg_host *h, const struct fg_ruleset *rs);

/* fg_host_free - stop watching; the settings and entries stay (the
 * dataplane keeps forwarding). Accepts NULL. */
void fg_host_free(struct fg_host *h);

/*
 * fg_host_undo - for --detach: remove every neighbour entry of ours and
 * give back every sysctl the node changed. Returns 0 or -errno (logged).
 */
int fg_host_undo(const struct fg_boot_config *cfg);

#endif /* FG_HOST_H */
