/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * test_parse_bpf.c - fg_parse() compiled for BPF agrees with fg_parse()
 * compiled for userspace.
 *
 * Loads parse_prog.bpf.c through its skeleton (so the kernel verifier must
 * accept the parser inside an XDP program), reports the verified program's
 * size, then runs every fixture of the shared table through it with
 * BPF_PROG_TEST_RUN and asserts that the status and the whole struct
 * fg_pkt are byte-for-byte what the userspace build computes on the same
 * bytes, and what the fixture expects.
 *
 * Needs CAP_BPF + CAP_NET_ADMIN (or CAP_SYS_ADMIN); without them it says
 * why and exits 77, which meson counts as skipped.
 */
#include <errno.h>
#include <linux/capability.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "fg_parse.h"
#include "fixtures.h"
#include "parse_prog.skel.h"

#define EXIT_SKIP 77

#ifndef CAP_BPF
#define CAP_BPF 39
#endif

/* The kernel refuses BPF_PROG_TEST_RUN for XDP below an Ethernet header. */
#define XDP_TEST_MIN_LEN 14

/*
 * have_cap - whether cap is in this process's effective set. Returns
 * false when it cannot tell (then the load attempt will say).
 */
static bool have_cap(int cap)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[2];

	memset(data, 0, sizeof(data));
	if (syscall(SYS_capget, &hdr, data))
		return false;
	return data[cap / 32].effective & (1u << (cap % 32));
}

/* Silence libbpf's debug chatter but keep warnings (the verifier log of a
 * rejected program comes at warning level). */
static int libbpf_print(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

/*
 * report_prog_size - print the loaded program's instruction counts; the
 * verifier having accepted the program is what loading proved. Returns 0
 * or -errno.
 */
static int report_prog_size(int prog_fd)
{
	struct bpf_prog_info info;
	__u32 len = sizeof(info);
	int err;

	memset(&info, 0, sizeof(info));
	err = bpf_obj_get_info_by_fd(prog_fd, &info, &len);
	if (err)
		return err;
	printf("parse_prog: verifier accepted; xlated %u insns",
	       info.xlated_prog_len / 8);
	/* verified_insns (5.16+) counts instructions the verifier walked:
	 * the complexity budget, not the program size. */
	if (len >= offsetof(struct bpf_prog_info, verified_insns) +
		   sizeof(info.verified_insns))
		printf(", verified_insns %u", info.verified_insns);
	printf(", jited %u bytes\n", info.jited_prog_len);
	return info.xlated_prog_len ? 0 : -EINVAL;
}

static bool fast_agrees(struct parse_prog_bpf *skel, const char *desc,
			int user_st, const struct fg_pkt *user);

/*
 * run_fixture - run one fixture through the program and compare. Returns
 * true when BPF, userspace and the fixture all agree.
 */
static bool run_fixture(struct parse_prog_bpf *skel, int prog_fd,
			const struct fg_pkt_fixture *fx)
{
	uint8_t data_out[FG_FIXTURE_MAX_LEN + 64];
	struct fg_pkt user;
	__u64 runs_before = skel->bss->fg_runs;
	int user_st, err;
	LIBBPF_OPTS(bpf_test_run_opts, opts,
		.data_in = fx->bytes,
		.data_size_in = fx->len,
		.data_out = data_out,
		.data_size_out = sizeof(data_out),
		.repeat = 1,
	);

	/* Poison the outputs: a field the BPF build leaves alone shows. */
	memset(&skel->bss->fg_out, 0x5a, sizeof(skel->bss->fg_out));
	skel->bss->fg_status = -1;
	memset(&user, 0x00, sizeof(user));

	err = bpf_prog_test_run_opts(prog_fd, &opts);
	if (err) {
		fprintf(stderr, "FAIL %s: test run: %s\n", fx->desc,
			strerror(-err));
		return false;
	}
	if (opts.retval != XDP_PASS || skel->bss->fg_runs != runs_before + 1) {
		fprintf(stderr, "FAIL %s: retval %u, runs %llu -> %llu\n",
			fx->desc, opts.retval, (unsigned long long)runs_before,
			(unsigned long long)skel->bss->fg_runs);
		return false;
	}
	user_st = fg_parse(fx->bytes, fx->bytes + fx->len, &user);
	if (skel->bss->fg_status != user_st || user_st != fx->status) {
		fprintf(stderr, "FAIL %s: status bpf %d user %d fixture %d\n",
			fx->desc, skel->bss->fg_status, user_st, fx->status);
		return false;
	}
	/* Byte for byte, errors included: both builds run the same code,
	 * so even a partly filled struct must match. */
	if (memcmp(&skel->bss->fg_out, &user, sizeof(user))) {
		const uint8_t *b = (const uint8_t *)&skel->bss->fg_out;
		const uint8_t *u = (const uint8_t *)&user;
		size_t i;

		fprintf(stderr, "FAIL %s: struct fg_pkt differs:", fx->desc);
		for (i = 0; i < sizeof(user); i++)
			if (b[i] != u[i])
				fprintf(stderr, " [%zu] bpf %02x user %02x", i,
					b[i], u[i]);
		fprintf(stderr, "\n");
		return false;
	}
	if ((fx->status == FG_PARSE_OK || fx->status == FG_PARSE_NOT_IP) &&
	    memcmp(&user, &fx->expect, sizeof(user))) {
		fprintf(stderr, "FAIL %s: differs from the fixture\n", fx->desc);
		return false;
	}
	return fast_agrees(skel, fx->desc, user_st, &user);
}

/* Frames the fast path took, over fixtures and mutations. */
static unsigned int fast_taken;

/*
 * fast_agrees - floodgate.bpf.c's fg_parse_fast() on the same run either
 * declined (-1) or produced exactly fg_parse()'s FG_PARSE_OK result.
 */
static bool fast_agrees(struct parse_prog_bpf *skel, const char *desc,
			int user_st, const struct fg_pkt *user)
{
	int fast = skel->bss->fg_fast_status;

	if (fast == -1)
		return true;
	fast_taken++;
	if (fast != FG_PARSE_OK || user_st != FG_PARSE_OK ||
	    memcmp(&skel->bss->fg_fast_out, user, sizeof(*user))) {
		fprintf(stderr, "FAIL %s: fast path said %d with a different "
			"struct; fg_parse said %d\n", desc, fast, user_st);
		return false;
	}
	return true;
}

/*
 * run_mutations - flip random bytes of frame (length len) in the IP and
 * L4 headers and cut random tails, count runs whose fast path disagrees
 * with userspace fg_parse(). Bounded: nruns runs.
 */
static unsigned int run_mutations(struct parse_prog_bpf *skel, int prog_fd,
				  const uint8_t *frame, unsigned int len,
				  unsigned int nruns, unsigned int seed)
{
	uint8_t buf[FG_FIXTURE_MAX_LEN], out[FG_FIXTURE_MAX_LEN + 64];
	unsigned int r, bad = 0, n;
	struct fg_pkt user;

	srand(seed);
	for (r = 0; r < nruns; r++) {
		LIBBPF_OPTS(bpf_test_run_opts, opts,
			.data_in = buf,
			.data_out = out,
			.data_size_out = sizeof(out),
			.repeat = 1,
		);

		memcpy(buf, frame, len);
		for (n = 0; n < 1 + (unsigned int)rand() % 3; n++)
			buf[14 + (unsigned int)rand() % (len - 14)] = (uint8_t)rand();
		opts.data_size_in = rand() % 4 ? len : 14 + (unsigned int)rand() % (len - 14);
		if (bpf_prog_test_run_opts(prog_fd, &opts)) {
			bad++;
			continue;
		}
		memset(&user, 0, sizeof(user));
		if (!fast_agrees(skel, "mutation",
				 fg_parse(buf, buf + opts.data_size_in, &user), &user))
			bad++;
	}
	return bad;
}

int main(void)
{
	const struct fg_pkt_fixture *t;
	struct parse_prog_bpf *skel;
	unsigned int i, n, ran = 0, failed = 0, skipped = 0;
	int prog_fd, err;

	if (!(have_cap(CAP_BPF) || have_cap(CAP_SYS_ADMIN)) ||
	    !(have_cap(CAP_NET_ADMIN) || have_cap(CAP_SYS_ADMIN))) {
		printf("SKIP: loading XDP programs needs CAP_BPF and "
		       "CAP_NET_ADMIN (or CAP_SYS_ADMIN); run as root\n");
		return EXIT_SKIP;
	}
	libbpf_set_print(libbpf_print);

	skel = parse_prog_bpf__open();
	if (!skel) {
		fprintf(stderr, "FAIL: open skeleton: %s\n", strerror(errno));
		return 1;
	}
	err = parse_prog_bpf__load(skel);
	if (err == -EPERM) {
		/* Capabilities present but bpf() refused: a seccomp filter,
		 * lockdown, or a user namespace. Not the parser's fault. */
		printf("SKIP: bpf() not permitted here: %s\n", strerror(-err));
		parse_prog_bpf__destroy(skel);
		return EXIT_SKIP;
	}
	if (err) {
		fprintf(stderr, "FAIL: load (verifier log above): %s\n",
			strerror(-err));
		goto out_destroy;
	}
	prog_fd = bpf_program__fd(skel->progs.fg_parse_xdp);
	err = report_prog_size(prog_fd);
	if (err) {
		fprintf(stderr, "FAIL: bpf_prog_info: %s\n", strerror(-err));
		goto out_destroy;
	}

	t = fg_pkt_fixtures_get(&n);
	for (i = 0; i < n; i++) {
		if (t[i].len < XDP_TEST_MIN_LEN) {
			/* Still proven in userspace by test_parse. */
			printf("skip %s: %u bytes is below what XDP test runs take\n",
			       t[i].desc, t[i].len);
			skipped++;
			continue;
		}
		ran++;
		if (!run_fixture(skel, prog_fd, &t[i]))
			failed++;
	}
	printf("%u fixtures: %u ran, %u agreed, %u failed, %u too short\n",
	       n, ran, ran - failed, failed, skipped);
	err = failed || ran == 0 ? -EINVAL : 0;

	/* The fast path against fg_parse on mutated TCP and UDP frames. */
	{
		static const char *const bases[] = { "ipv4 tcp syn", "ipv4 udp" };
		unsigned int b, bad = 0, before = fast_taken;

		for (b = 0; b < 2; b++) {
			const struct fg_pkt_fixture *fx = fg_pkt_fixture_find(bases[b]);

			if (!fx) {
				fprintf(stderr, "FAIL: no fixture \"%s\"\n", bases[b]);
				bad++;
				continue;
			}
			bad += run_mutations(skel, prog_fd, fx->bytes, fx->len,
					     5000, 7 + b);
		}
		printf("fast path: %u mutated frames disagreed; took %u frames "
		       "in all (fixtures and mutations)\n", bad, fast_taken);
		if (bad || fast_taken == before || !fast_taken)
			err = -EINVAL;
	}

out_destroy:
	parse_prog_bpf__destroy(skel);
	return err ? 1 : 0;
}
