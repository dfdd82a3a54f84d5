#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# bench/run.sh <suite> - build what the suite needs and run its benchmarks
# (BENCH.md). Every benchmark prints one line per row,
#   bench=<name> case=<case> value=<number> unit=<unit> floor=<number>
# then a human table, and exits non-zero when one of its path checks fails;
# this script exits with that status (a suite of two: the first failure's,
# 77 only when both skipped).
#
# Suites: core (dataplane/core micro-benchmarks), xdp (bench_xdp, the XDP
# dataplane under BPF_PROG_TEST_RUN, then bench_mem, its memory floor: one
# random line read of arrays the size of its connection tables, and what
# each page a packet touches costs; root only, exits 77 otherwise), api
# (floodgated: REST write to applied rules; root only), l7 (the flash-sale
# engine in-process: request reading, routes, seckill verdicts, then stock
# claims through the embedded etcd), dpdk (the DPDK packet path on one
# lcore beside dpdk-testpmd). Add a suite as one more case below.
set -euo pipefail

usage() {
	echo "usage: $0 <suite>" >&2
	echo "suites: core xdp api l7 dpdk" >&2
	exit 2
}

[ $# -eq 1 ] || usage
suite=$1

# Everything runs from the repository root, whatever the caller's cwd.
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
builddir=${FG_BUILDDIR:-build}

# build TARGET... - configure once, then (re)build only the named targets,
# so a suite runs even while an unrelated part of the tree does not build.
build() {
	if [ ! -f "$builddir/build.ninja" ]; then
		meson setup "$builddir"
	fi
	ninja -C "$builddir" "$@"
}

# pin CMD... - run on CPU 1 when taskset exists and CPU 1 is online: a
# benchmark that migrates between CPUs measures the scheduler.
pin() {
	if command -v taskset >/dev/null 2>&1 && taskset -c 1 true 2>/dev/null; then
		taskset -c 1 "$@"
	else
		echo "run.sh: not pinned (no taskset or no CPU 1)" >&2
		"$@"
	fi
}

case "$suite" in
core)
	build bench/bench_core
	pin "$builddir/bench/bench_core"
	;;
xdp)
	# Not through pin: bench_xdp and bench_mem pin themselves
	# (sched_setaffinity) to the highest CPU they may use, which taskset
	# would hide from them. Both run whatever the first's status; a skip
	# (77) of one is no failure.
	build bench/bench_xdp bench/bench_mem
	rc_xdp=0 rc_mem=0
	"$builddir/bench/bench_xdp" || rc_xdp=$?
	"$builddir/bench/bench_mem" || rc_mem=$?
	if [ "$rc_xdp" -eq 77 ] && [ "$rc_mem" -eq 77 ]; then
		exit 77
	fi
	for rc in "$rc_xdp" "$rc_mem"; do
		if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ]; then
			exit "$rc"
		fi
	done
	;;
l7)
	build bench/bench_http bench/bench_seckill bench/bench_route \
		bench/bench_l7_compile bench/bench_l7_engine bench/bench_stock
	pin "$builddir/bench/bench_http"
	pin "$builddir/bench/bench_seckill"
	pin "$builddir/bench/bench_route"
	pin "$builddir/bench/bench_l7_compile"
	pin "$builddir/bench/bench_l7_engine"
	# Not pinned: the embedded etcd, the claimer and the worker share
	# the CPUs, as on a node. Without /usr/bin/etcd it skips (77) alone.
	rc=0
	"$builddir/bench/bench_stock" || rc=$?
	if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ]; then
		exit "$rc"
	fi
	;;
dpdk)
	# One CPU for the measured lcore (testpmd's forwarding core, then
	# bench_dpdk's only lcore), the highest one; testpmd's main lcore,
	# which only prints its statistics, on the lowest.
	build bench/bench_dpdk
	last=$(($(nproc) - 1))
	first=0
	eal=(--no-huge -m 1024 --no-pci --no-shconf --log-level=error
	     --vdev net_null0 --vdev net_null1)
	ceiling=()
	if command -v dpdk-testpmd >/dev/null 2>&1 && [ "$last" -gt 0 ]; then
		# testpmd's per-second port rates, both directions of its one
		# forwarding core summed; the median of the samples after the
		# first two (start-up). The median, not the mean: the CPU is
		# shared and single seconds swing. With --stats-period testpmd
		# does not read stdin: it prints until SIGINT, which timeout
		# sends after 10 s (its status is then timeout's 124).
		mpps=$( { timeout -s INT 10 nice dpdk-testpmd "${eal[@]}" \
			--file-prefix="fgtp$$" -l "$first,$last" -- \
			--forward-mode=macswap --nb-cores=1 --total-num-mbufs=8192 \
			--stats-period 1 2>/dev/null </dev/null || true; } |
			awk '/NIC statistics for port/ { port = $6 }
			     /Rx-pps:/ { if (port == 0) a[++na] = $2; else b[++nb] = $2 }
			     END { for (i = 3; i <= na && i <= nb; i++) print a[i] + b[i] }' |
			sort -n | awk '{ v[++m] = $1 }
			END { if (!m) exit 1
			      if (m % 2) x = v[(m + 1) / 2]
			      else x = (v[m / 2] + v[m / 2 + 1]) / 2
			      printf "%.2f", x / 1e6 }') || mpps=""
		# The EAL leaves its runtime directory (one per file prefix)
		# behind; bench_dpdk removes its own, testpmd cannot.
		rmdir "$([ "$(id -u)" = 0 ] && echo /var/run ||
			echo "${XDG_RUNTIME_DIR:-/tmp}")/dpdk/fgtp$$" 2>/dev/null || true
		if [ -n "$mpps" ]; then
			ceiling=(--ceiling-mpps "$mpps")
		else
			echo "run.sh: dpdk-testpmd gave no rate: no ratios" >&2
		fi
	else
		echo "run.sh: no dpdk-testpmd (or one CPU): no ratios" >&2
	fi
	nice "$builddir/bench/bench_dpdk" "${eal[@]}" --file-prefix="fgbench$$" \
		-l "$last" -- "${ceiling[@]}"
	;;
api)
	# Not pinned: the daemon, its etcd and the client share the CPUs.
	build controlplane/floodgated
	FLOODGATED=$builddir/controlplane/floodgated bench/bench_api.sh
	;;
*)
	usage
	;;
esac
