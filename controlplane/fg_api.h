/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * fg_api.h - the REST API of shared/API.md on the daemon's event loop.
 */
#ifndef FG_API_H
#define FG_API_H

#include <stddef.h>

struct fg_daemon;

/* fg_api_start - listen on cfg.api.listen and serve API.md. 0 or -errno
 * with a message. */
int fg_api_start(struct fg_daemon *d, char *err, size_t errlen);
void fg_api_stop(struct fg_daemon *d);

#endif /* FG_API_H */
