// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * bpf_harness.c - see bpf_harness.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <bpf/bpf.h>

#include "bpf_harness.h"

extern char *program_invocation_short_name;

int fg_h_sh(const char *cmd)
{
	int rc = system(cmd);

	if (rc != 0)
		fprintf(stderr, "%s: '%s' failed (%d)\n",
			program_invocation_short_name, cmd, rc);
	return rc;
}

int fg_h_write_file(const char *path, const char *val)
{
	FILE *f = fopen(path, "w");
	int rc;

	if (!f)
		return -errno;
	rc = fputs(val, f) < 0 ? -EIO : 0;
	if (fclose(f))
		rc = -errno;
	return rc;
}

int fg_h_percpu_sum(int fd, __u32 key, size_t vsize, int ncpus,
		    __u64 *sum, unsigned int nwords)
{
	__u64 buf[4 * 512];
	unsigned int c, w;

	if (ncpus <= 0 || vsize / 8 * (size_t)ncpus > sizeof(buf) / 8)
		return -E2BIG;
	if (bpf_map_lookup_elem(fd, &key, buf))
		return -errno;
	for (w = 0; w < nwords; w++)
		sum[w] = 0;
	for (c = 0; c < (unsigned int)ncpus; c++)
		for (w = 0; w < nwords; w++)
			sum[w] += buf[c * (vsize / 8) + w];
	return 0;
}

int fg_h_libbpf_log(enum libbpf_print_level level, const char *fmt,
		    va_list ap)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, ap);
}
