/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* fg_version.h - the software version the daemon reports (status, the
 * node's registration in the store). */
#ifndef FG_VERSION_H
#define FG_VERSION_H

#define FG_SOFTWARE_VERSION "0.1.0"

#endif /* FG_VERSION_H */
