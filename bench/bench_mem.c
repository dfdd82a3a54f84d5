// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * bench_mem.c - the memory floor of the XDP dataplane: what one read of
 * one random 64-byte line of a BPF array costs under BPF_PROG_TEST_RUN,
 * by the array's size. The connection tables are such arrays (fg_ct
 * 32 MiB, fg_ct_syn 4 MiB at production size), and bench_xdp's cold rows
 * read one random line of one per packet: this is the part of their cost
 * no code change removes.
 *
 * Method: bench_xdp's (BENCH.md). Every call is a repeat=1
 * bpf_prog_test_run_opts() of bench_mem.bpf.c's fg_mem_read on a 64-byte
 * frame carrying the line index, timed by the kernel-reported duration,
 * right after the same call of a trivial XDP_PASS program (the floor) on
 * the same frame. Pinned to the highest CPU allowed (CPU 0 takes most
 * interrupts). A run's figure is the mean over the calls not longer than
 * 10x the run's median call (the others lost the vCPU or took an
 * interrupt), the floor's likewise; a row's value is the median over
 * runs, its floor the median floor, above_floor the median of the
 * per-run differences.
 *
 * Rows: the program is loaded once per row with an array of the row's
 * size, line i holding i in its first word (written through mmap), and
 * every page of it read once through the kernel before the first call
 * (on a guest with shadow page tables the kernel's first touch of a page
 * of a fresh map traps to the hypervisor; see fg_b_ct_warm in
 * bench_xdp.c). Each call reads a line chosen at random (xorshift64*, in
 * userspace, outside the timed call), hot_line the same line every call.
 * hot_8_lines and hot_8_pages read eight lines every call (fg_mem_read8),
 * the same eight each time, each read's index taken from the line before:
 * adjacent lines of one page, or one line in each of eight adjacent
 * pages. Their difference is what seven more pages cost a packet whose
 * data is all in cache, reached one after another as a packet reaches
 * its tables' lines: a TLB refill each, when
 * the syscall around every call empties the TLB (page-table isolation
 * without PCID, as on the machines BENCH.md describes), which bench_xdp's
 * rows pay for every page of every table a packet touches.
 * kmalloc_8_lines, kmalloc_8_pages and vmalloc_8_pages do the same on a
 * plain (not mappable) array, fg_mem_small (fg_mem_read8_small), from
 * line 0: 30 KiB, which the kernel kmallocs in its directly mapped
 * memory (2 MiB pages in the guest), or 60 KiB, which it vmallocs - as
 * it allocates the dataplane's small maps (fg_config, the counters)
 * one way or the other by their size. Whether a small map's page costs
 * less than a vmalloc'd one is what they tell.
 * Path check: every call must answer XDP_PASS (each line read holds its
 * index), and, before the fill, a call must answer XDP_DROP (so the
 * verdict is not constant).
 *
 * Output: one line per row,
 *   bench=xdp_mem case=<case> value=<ns> unit=ns floor=<ns> above_floor=<ns>
 * then a human table. Timing never gates: exit 0 when every path check
 * passed, 1 on a path-check failure or a setup error, 77 (skip) when not
 * root or BPF is refused.
 *
 * Usage: bench_mem [-n calls] [-r runs] [case...]
 *   -n  calls per run (default 200000)
 *   -r  runs per row (default 3)
 *   case  run only these rows (default all)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include "fg_tables.h"
#include "fg_types.h"
#include "bench_util.h"

#include "bench_mem.skel.h"

/* ------------------------------------------------------------ settings */

#define FG_M_RUNS_DEFAULT  3
#define FG_M_CALLS_DEFAULT 200000U
#define FG_M_LINE          64U   /* bytes per line, = struct fg_ct_line */
#define FG_M_FRAME         64U   /* bytes per frame */
#define FG_M_LINES(mib)    ((mib) * (1U << 20) / FG_M_LINE)
#define FG_M_PAGE_LINES    (4096U / FG_M_LINE) /* lines per 4 KiB page (x86-64's) */
#define FG_M_READS         8U    /* lines fg_mem_read8 reads */

struct fg_m_row {
	const char *name;
	__u32 lines;        /* the array's max_entries (2^n, but for small) */
	int hot;            /* 1: the same line(s) every call */
	__u32 stride;       /* 0: one read (fg_mem_read); else FG_M_READS
			     * reads this many lines apart (fg_mem_read8) */
	const char *what;
	int small;          /* 1: fg_mem_small, the plain array
			     * (fg_mem_read8_small); hot from line 0 */
};

/* Lines of a plain array the kernel still kmallocs: 30 KiB of values,
 * under its 32 KiB limit with the map's header. */
#define FG_M_KMALLOC_LINES 480U

static const struct fg_m_row fg_m_rows[] = {
	{ "hot_line", FG_M_LINES(32), 1, 0, "one line, every call", 0 },
	{ "hot_8_lines", FG_M_LINES(32), 1, 1,
	  "8 lines of one page, every call", 0 },
	{ "hot_8_pages", FG_M_LINES(32), 1, FG_M_PAGE_LINES,
	  "a line in each of 8 pages, every call", 0 },
	{ "kmalloc_8_lines", FG_M_KMALLOC_LINES, 1, 1,
	  "as hot_8_lines, plain array kmalloc'd", 1 },
	{ "kmalloc_8_pages", FG_M_KMALLOC_LINES, 1, FG_M_PAGE_LINES,
	  "as hot_8_pages, plain array kmalloc'd", 1 },
	{ "vmalloc_8_pages", 2 * FG_M_KMALLOC_LINES, 1, FG_M_PAGE_LINES,
	  "as hot_8_pages, plain array vmalloc'd", 1 },
	{ "line_1mib", FG_M_LINES(1), 0, 0, "", 0 },
	{ "line_4mib", FG_M_LINES(4), 0, 0, "fg_ct_syn, production", 0 },
	{ "line_32mib", FG_M_LINES(32), 0, 0, "fg_ct, production", 0 },
	{ "line_128mib", FG_M_LINES(128), 0, 0, "fg_ct of 64-byte flows", 0 },
};

/* The rows named after the connection tables must stay their size. */
_Static_assert(sizeof(struct fg_ct_line) == FG_M_LINE, "one line");
_Static_assert(FG_CT_SYN_DEFAULT / FG_CT_WAYS == FG_M_LINES(4), "line_4mib");
_Static_assert(FG_CT_DEFAULT / FG_CT_WAYS == FG_M_LINES(32), "line_32mib");

static struct {
	int floor_fd, cpu;
	__u32 calls, runs;
	int path_failed;
} g;

/* ---------------------------------------------------------------- setup */

/* fg_m_call - one repeat=1 run of prog fd on frame; its verdict and
 * duration (ns). Returns 0 or -errno. */
static int fg_m_call(int fd, const __u8 *frame, __u32 *verdict, __u32 *ns)
{
	return fg_bench_call(fd, frame, FG_M_FRAME, 0, NULL, NULL, verdict, ns);
}

/* fg_m_frame - the frame asking row's program for line idx (and the
 * lines row->stride apart from it). */
static void fg_m_frame(__u8 *frame, const struct fg_m_row *row, __u32 idx)
{
	memcpy(frame, &idx, sizeof(idx));
	memcpy(frame + sizeof(idx), &row->stride, sizeof(row->stride));
}

/* The program row runs. */
static int fg_m_prog(struct bench_mem_bpf *skel, const struct fg_m_row *row)
{
	if (row->small)
		return bpf_program__fd(skel->progs.fg_mem_read8_small);
	return bpf_program__fd(row->stride ? skel->progs.fg_mem_read8 :
			       skel->progs.fg_mem_read);
}

/* The array row reads. */
static struct bpf_map *fg_m_map(struct bench_mem_bpf *skel,
				const struct fg_m_row *row)
{
	return row->small ? skel->maps.fg_mem_small : skel->maps.fg_mem_lines;
}

/* The first line a hot row reads. */
static __u32 fg_m_first(const struct fg_m_row *row)
{
	return row->small ? 0 : row->lines / 2;
}

/*
 * fg_m_load - the program with an array of row->lines lines (fg_mem_lines,
 * or fg_mem_small for a small row), line i holding i, every page read
 * once through the kernel. Checks first that a line not holding its index
 * answers XDP_DROP. Returns the skeleton, or NULL with errno set when the
 * load failed (a failed check dies).
 */
static struct bench_mem_bpf *fg_m_load(const struct fg_m_row *row)
{
	/* A hot row's reads stay in the array. */
	_Static_assert(FG_M_LINES(32) / 2 + (FG_M_READS - 1) * FG_M_PAGE_LINES <
		       FG_M_LINES(32), "hot rows in range");
	_Static_assert((FG_M_READS - 1) * FG_M_PAGE_LINES < FG_M_KMALLOC_LINES,
		       "small rows in range");
	__u32 step = (__u32)sysconf(_SC_PAGESIZE) / FG_M_LINE, i, verdict, ns;
	size_t size = (size_t)row->lines * FG_M_LINE;
	__u8 frame[FG_M_FRAME] = { 0 };
	struct bench_mem_bpf *skel;
	__u32 *lines;
	__u8 line[FG_M_LINE];
	int err, fd;

	skel = bench_mem_bpf__open();
	if (!skel)
		return NULL;
	FG_BENCH_REQUIRE(bpf_map__value_size(fg_m_map(skel, row)) ==
			 FG_M_LINE);
	FG_BENCH_REQUIRE(!bpf_map__set_max_entries(fg_m_map(skel, row),
						   row->lines));
	err = bench_mem_bpf__load(skel);
	if (err) {
		bench_mem_bpf__destroy(skel);
		errno = -err;
		return NULL;
	}
	fd = bpf_map__fd(fg_m_map(skel, row));

	/* Empty, line 1 holds 0: the path check must be able to fail. */
	fg_m_frame(frame, row, 1);
	FG_BENCH_REQUIRE(!fg_m_call(fg_m_prog(skel, row), frame, &verdict,
				    &ns));
	if (verdict != XDP_DROP)
		fg_bench_die("%s: a line not holding its index answered %u, "
			     "not XDP_DROP", row->name, verdict);

	if (row->small) {
		/* Not mappable: written through the kernel, which warms it. */
		memset(line, 0, sizeof(line));
		for (i = 0; i < row->lines; i++) {
			memcpy(line, &i, sizeof(i));
			FG_BENCH_REQUIRE(!bpf_map_update_elem(fd, &i, line,
							      BPF_ANY));
		}
		return skel;
	}
	lines = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	FG_BENCH_REQUIRE(lines != MAP_FAILED);
	for (i = 0; i < row->lines; i++)
		lines[(size_t)i * (FG_M_LINE / sizeof(*lines))] = i;
	munmap(lines, size);
	/* Writes through the user mapping do not warm the kernel's. */
	for (i = 0; i < row->lines; i += step ? step : 1)
		FG_BENCH_REQUIRE(!bpf_map_lookup_elem(fd, &i, line));
	return skel;
}

/* ---------------------------------------------------------------- timing */

/*
 * fg_m_run - run `run` of row on prog fd: g.calls frames, each through
 * the floor and then the program. Fills res's [run] figures. Returns 0,
 * or -1 when a call answered other than XDP_PASS (said on stderr).
 */
static int fg_m_run(const struct fg_m_row *row, int fd, __u32 run,
		    struct fg_bench_result *res)
{
	__u32 *d_row = malloc(g.calls * sizeof(__u32));
	__u32 *d_floor = malloc(g.calls * sizeof(__u32));
	__u32 i, idx, verdict, bad = 0, bad_floor = 0;
	__u64 seed = 0x9e3779b97f4a7c15ULL * (run + 1);
	__u8 frame[FG_M_FRAME] = { 0 };

	FG_BENCH_REQUIRE(d_row && d_floor);
	for (i = 0; i < g.calls; i++) {
		idx = row->hot ? fg_m_first(row) :
		      (__u32)(fg_bench_rand(&seed) >> 32) & (row->lines - 1);
		fg_m_frame(frame, row, idx);
		FG_BENCH_REQUIRE(!fg_m_call(g.floor_fd, frame, &verdict,
					    &d_floor[i]));
		bad_floor += verdict != XDP_PASS;
		FG_BENCH_REQUIRE(!fg_m_call(fd, frame, &verdict, &d_row[i]));
		bad += verdict != XDP_PASS;
	}
	fg_bench_run_end(res, run, d_row, d_floor, g.calls);
	free(d_row);
	free(d_floor);
	if (bad || bad_floor) {
		fprintf(stderr, "bench_mem: %s run %u: PATH CHECK FAILED: %u "
			"of %u calls not XDP_PASS (floor: %u)\n", row->name,
			run + 1, bad, g.calls, bad_floor);
		return -1;
	}
	return 0;
}

/* ---------------------------------------------------------------- main */

static void fg_m_table(const struct fg_bench_result *res, const int *sel,
		       double load0)
{
	unsigned int i;

	printf("\n%-15s %10s %9s %9s %12s  %s\n", "case", "table", "value",
	       "floor", "above floor", "note");
	for (i = 0; i < FG_ARRAY_SIZE(fg_m_rows); i++) {
		const struct fg_m_row *row = &fg_m_rows[i];
		const struct fg_bench_result *r = &res[i];

		if (!sel[i])
			continue;
		printf("%-15s %6u KiB %9.1f %9.1f %12.1f  %s\n", row->name,
		       (__u32)((__u64)row->lines * FG_M_LINE >> 10),
		       r->med_value, r->med_floor, r->med_above,
		       r->ok ? row->what : "PATH CHECK FAILED");
	}
	printf("(ns per packet: each row reads one 64-byte line of a BPF "
	       "array of the size shown, at a random index per packet "
	       "(hot_line: the same line every packet; hot_8_lines, "
	       "hot_8_pages: the same 8 lines every packet, each read's "
	       "index from the line before, in one page or one per page, "
	       "their difference what 7 more pages cost with every line in "
	       "cache; kmalloc_8_lines, kmalloc_8_pages and vmalloc_8_pages "
	       "the same on a plain array the kernel allocates as it does "
	       "the dataplane's small maps): above floor is the "
	       "cost of that one read (data cache and TLB misses included, "
	       "the more of them the larger the table) and the program "
	       "around it, over a trivial XDP_PASS program called before "
	       "each call on the same frame. bench_xdp's cold rows pay at "
	       "least one such read: tcp_established_1m a random line of "
	       "fg_ct (line_32mib), syn_new_1m one of fg_ct_syn (32 MiB in "
	       "that row's load; line_4mib at production size); their "
	       "above-floor cost less this one is what the dataplane adds. "
	       "Kernel-reported BPF_PROG_TEST_RUN duration of repeat=1 "
	       "calls; value/floor: median over %u runs of the per-run mean "
	       "of calls <= 10x the median call; above floor: median of the "
	       "per-run differences; %u calls per run; CPU %d; load average "
	       "%.2f before, %.2f after)\n", g.runs, g.calls, g.cpu, load0,
	       fg_bench_loadavg());
}

int main(int argc, char **argv)
{
	static struct fg_bench_result res[FG_ARRAY_SIZE(fg_m_rows)];
	const char *names[FG_ARRAY_SIZE(fg_m_rows)];
	int sel[FG_ARRAY_SIZE(fg_m_rows)], err;
	double load0 = fg_bench_loadavg();
	char detail[64];
	unsigned int i;
	__u32 r;

	setvbuf(stdout, NULL, _IOLBF, 0);
	g.calls = FG_M_CALLS_DEFAULT;
	g.runs = FG_M_RUNS_DEFAULT;
	for (i = 0; i < FG_ARRAY_SIZE(fg_m_rows); i++)
		names[i] = fg_m_rows[i].name;
	err = fg_bench_args(argc, argv, names, FG_ARRAY_SIZE(fg_m_rows), sel,
			    &g.calls, &g.runs);
	if (err)
		return err;

	if (geteuid() != 0) {
		printf("SKIP: needs root (CAP_BPF)\n");
		return 77;
	}
	g.cpu = fg_bench_cpu();
	err = g.cpu < 0 ? g.cpu : fg_bench_pin(g.cpu);
	if (err)
		fg_bench_die("pinning to a CPU: %s", strerror(-err));
	g.floor_fd = fg_bench_floor_load();
	if (g.floor_fd == -EPERM) {
		printf("SKIP: loading BPF: %s (no CAP_BPF?)\n",
		       strerror(EPERM));
		return 77;
	}
	if (g.floor_fd < 0)
		fg_bench_die("loading the floor program: %s",
			     strerror(-g.floor_fd));

	for (i = 0; i < FG_ARRAY_SIZE(fg_m_rows); i++) {
		const struct fg_m_row *row = &fg_m_rows[i];
		struct fg_bench_result *rs = &res[i];
		struct bench_mem_bpf *skel;
		int fd;

		if (!sel[i])
			continue;
		skel = fg_m_load(row);
		if (!skel)
			fg_bench_die("%s: loading bench_mem.bpf.o: %s",
				     row->name, strerror(errno));
		fd = fg_m_prog(skel, row);
		rs->ok = 1;
		for (r = 0; r < g.runs; r++)
			if (fg_m_run(row, fd, r, rs))
				rs->ok = 0;
		bench_mem_bpf__destroy(skel);
		snprintf(detail, sizeof(detail), "%u lines, %u calls/run",
			 row->lines, g.calls);
		if (fg_bench_row_end(rs, g.runs, "xdp_mem", row->name, detail))
			g.path_failed = 1;
	}
	fg_m_table(res, sel, load0);

	close(g.floor_fd);
	if (g.path_failed) {
		fprintf(stderr, "bench_mem: a path check failed\n");
		return 1;
	}
	return 0;
}
