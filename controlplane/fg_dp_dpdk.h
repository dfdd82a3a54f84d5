/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * fg_dp_dpdk.h - the dpdk kind of floodgated's dataplane driver
 * (fg_dataplane.h): floodgate-dpdk, a process of its own, driven over
 * its control socket (dataplane/dpdkctl/fg_dpdk_ctl.h).
 */
#ifndef FG_DP_DPDK_H
#define FG_DP_DPDK_H

#include <stddef.h>
#include <stdint.h>

#include "fg_dataplane.h"

/*
 * fg_dp_dpdk_open - the dpdk kind: connect to floodgate-dpdk at cfg's
 * dataplane.control_socket and adopt what it runs (its version, and the
 * compiler's ids from its tables, so ids stay stable across a restart
 * of floodgated), unless FG_DP_OPEN_REPLACE (then the first apply pushes
 * a set of new ids). A process that does not answer yet is no error:
 * every later call tries again, and the first apply pushes its set.
 * Returns the handle or NULL with a message in err (out of memory).
 */
struct fg_dataplane *fg_dp_dpdk_open(const struct fg_boot_config *cfg,
				     unsigned int flags, char *err,
				     size_t errlen);

/* What the last pushes cost, for tests and benchmarks. */
struct fg_dp_dpdk_info {
	uint64_t fulls, deltas;   /* pushes answered ACK, by kind */
	uint64_t last_bytes;      /* bytes on the wire of the last push */
	uint64_t last_body;       /* its body's bytes */
	int last_type;            /* FG_DPDK_CTL_FULL or _DELTA */
	double last_ms;           /* from encoding to the ACK */
	double last_encode_ms;    /* of which encoding */
	uint64_t connects;        /* connections made */
	uint64_t process_version; /* what the process said it runs */
};

/* fg_dp_dpdk_info - *out for a dpdk dataplane; -EINVAL for another. */
int fg_dp_dpdk_info(struct fg_dataplane *dp, struct fg_dp_dpdk_info *out);

#endif /* FG_DP_DPDK_H */
