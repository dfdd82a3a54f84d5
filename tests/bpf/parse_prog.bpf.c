/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * parse_prog.bpf.c - runs fg_parse() on each packet inside an XDP program,
 * so that test_parse_bpf.c can check that the verifier accepts the parser
 * and that the BPF build computes the same struct fg_pkt as the userspace
 * build, byte for byte.
 *
 * The results land in .bss globals that the skeleton maps into userspace;
 * BPF_PROG_TEST_RUN runs one packet at a time, so nothing races on them.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "fg_parse.h"
#include "fg_parse_fast_kern.h"

/* Written on every run: the return value of fg_parse() and its output. */
int fg_status;
struct fg_pkt fg_out;
/* The same for floodgate.bpf.c's fast path (-1: it declined). */
int fg_fast_status;
struct fg_pkt fg_fast_out;
/* Runs so far, so that a test can tell a run that wrote nothing. */
__u64 fg_runs;

/* fg_parse_xdp - parse the frame into the globals above. Returns XDP_PASS
 * always: the verdict is not under test, the parse is. */
SEC("xdp")
int fg_parse_xdp(struct xdp_md *ctx)
{
	const void *data = (const void *)(long)ctx->data;
	const void *data_end = (const void *)(long)ctx->data_end;

	fg_status = fg_parse(data, data_end, &fg_out);
	fg_fast_status = fg_parse_fast((void *)data, (void *)data_end, &fg_fast_out);
	fg_runs++;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
