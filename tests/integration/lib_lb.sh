# shellcheck shell=bash source-path=SCRIPTDIR
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# lib_lb.sh - what the XDP load-balancer tests (test_xdp_lb.sh,
# test_xdp_flood.sh) share, sourced after `set -u`: the skip checks, the
# topology with HTTP backends (lib_http.py), the dataplane of one node,
# ok / not ok reporting and the EXIT cleanup that undoes all of it, a
# failed check or an interrupt included.
#
# env: FGXDP (build/xdp/fgxdp), FG_XDP_PASS_OBJ (xdp_pass.o),
#      FG_DECAP_LOADER (fg-decap-loader); each found in a build directory
#      of the source tree when unset.

lb_here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
lb_root=$(cd "$lb_here/../.." && pwd)
LIB_HTTP=$lb_here/lib_http.py
DECAP_SCRIPT=${FG_BACKEND_DECAP:-$lb_root/scripts/fg-backend-decap}

lb_skip() {
	echo "SKIP: $*"
	exit 77
}

# lb_find VAR RELPATH: VAR from the environment or the first build dir.
lb_find() {
	local var=$1 rel=$2 c
	if [ -z "${!var:-}" ]; then
		for c in "$lb_root"/build*/"$rel"; do
			[ -e "$c" ] && printf -v "$var" '%s' "$c" && break
		done
	fi
	if [ -z "${!var:-}" ] || [ ! -e "${!var}" ]; then
		lb_skip "$rel not built (set $var)"
	fi
	export "${var?}"
}

# lb_init NAME: skip unless everything needed is here, then set TOPO,
# NODE and TMP (unique per run) and install the cleanup trap.
lb_init() {
	# shellcheck source=topo.sh
	. "$lb_here/topo.sh"
	topo_need_root
	local t
	for t in python3 curl nsenter timeout ethtool; do
		command -v "$t" >/dev/null || lb_skip "$t not found"
	done
	[ -x "$DECAP_SCRIPT" ] || lb_skip "$DECAP_SCRIPT not found"
	lb_find FGXDP xdp/fgxdp
	lb_find FG_XDP_PASS_OBJ tests/integration/xdp_pass.o
	lb_find FG_DECAP_LOADER xdp/fg-decap-loader
	# No bpffs on /sys/fs/bpf is no reason to skip: fgxdp mounts it.
	# The interpreter itself, not a version manager's shim: the checks
	# start it a few hundred times.
	PY=$(python3 -c 'import sys; print(sys.executable)') || lb_skip "python3 broken"

	# shellcheck disable=SC2034 # topo.sh's namespace prefix
	TOPO=$1$$
	NODE=$1$$
	TMP=$(mktemp -d "/tmp/$1.XXXXXX")
	LB_SHELL=$$
	LB_PIDS=()
	LB_LOADED=0
	PASSED=0
	FAILED=0
	trap lb_cleanup EXIT
	trap 'exit 1' INT TERM HUP
}

lb_cleanup() {
	local p
	for p in "${LB_PIDS[@]}"; do
		kill "$p" 2>/dev/null
	done
	for p in "${LB_PIDS[@]}"; do
		wait "$p" 2>/dev/null
	done
	local pins=/sys/fs/bpf/floodgate/$NODE unloaded=1
	if [ "$LB_LOADED" = 1 ]; then
		# unload adopts the node first (loads the program again): give
		# a transient failure on a busy host one more try.
		fgxdp_lb unload >"$TMP/unload.log" 2>&1 ||
			{ sleep 1; fgxdp_lb unload \
				>"$TMP/unload.log" 2>&1; } || unloaded=0
		[ "$unloaded" = 1 ] ||
			echo "# warning: fgxdp unload of node $NODE failed: $(cat "$TMP/unload.log")"
	fi
	topo_down
	# Whatever unload left: this run's own pin directory only.
	if [ -d "$pins" ]; then
		rm -f "$pins"/*
		rmdir "$pins"
	fi
	# The saved sysctls of a node whose unload failed: its namespace is
	# gone, and with it every per-interface setting.
	rm -rf "/run/floodgate/$NODE"
	rm -rf "$TMP"
}

# fgxdp_lb ARGS...: fgxdp for this run's node, in the appliance's network
# namespace. The kernel-wide neighbour thresholds are visible only in the
# initial namespace: this shell's (PID 1 may live elsewhere in a
# container).
fgxdp_lb() {
	topo_nsenter lb "$FGXDP" --node "$NODE" --init-netns "/proc/$LB_SHELL/ns/net" "$@"
}

# bg CMD...: run CMD in the background, remembered for cleanup; $! as usual.
bg() {
	"$@" &
	LB_PIDS+=("$!")
}

ok() {
	echo "ok - $*"
	PASSED=$((PASSED + 1))
}

notok() {
	echo "not ok - $*"
	FAILED=$((FAILED + 1))
}

# check NAME COND_EXIT_STATUS DETAIL: ok/not ok NAME (DETAIL).
check() {
	if [ "$2" = 0 ]; then ok "$1 ($3)"; else notok "$1: $3"; fi
}

# lb_finish: the summary line; exit 1 on any failure.
lb_finish() {
	echo "$PASSED passed, $FAILED failed"
	[ "$FAILED" = 0 ] || exit 1
	exit 0
}

# q FILE EXPR: a Python expression over the JSON in FILE (d).
q() {
	"$PY" "$LIB_HTTP" q "$@"
}

# wait_file FILE TENTHS: wait up to TENTHS/10 s for FILE to appear.
wait_file() {
	local i
	for ((i = 0; i < $2; i++)); do
		[ -e "$1" ] && return 0
		sleep 0.1
	done
	return 1
}

# serve HOST NAME PORT...: an HTTP backend named NAME in HOST.
serve() {
	local h=$1 name=$2
	shift 2
	bg topo_exec "$h" "$PY" "$LIB_HTTP" serve "$name" "$@" \
		--ready "$TMP/ready.$h" 2>"$TMP/serve.$h.err"
	wait_file "$TMP/ready.$h" 100 || { echo "# $name did not start"; return 1; }
}

# decap HOST: fg-backend-decap on HOST's eth0 (state kept in TMP: every
# backend's device is called eth0).
decap() {
	topo_exec "$1" env FG_DECAP_STATE_DIR="$TMP/decap.$1" \
		"$DECAP_SCRIPT" attach eth0 >"$TMP/decap.$1.log" 2>&1 ||
		{ cat "$TMP/decap.$1.log"; return 1; }
}

# lb_load: the dataplane on the appliance's eth0 (native XDP), tunnel
# source and SNAT address the appliance's backend-side addresses.
lb_load() {
	LB_LOADED=1
	fgxdp_lb load --dev eth0 --fresh \
		--tunnel-src 198.19.255.1 --tunnel-src 2001:db8:19::ff:1 \
		--snat 198.19.255.1 --snat 2001:db8:19::ff:1 >"$TMP/load.log" 2>&1 ||
		{ cat "$TMP/load.log"; return 1; }
}

# lb_apply FILE: make FILE the rule set.
lb_apply() {
	fgxdp_lb apply "$1" >"$TMP/apply.log" 2>&1 ||
		{ cat "$TMP/apply.log"; return 1; }
}

# lb_stats OUT: fgxdp stats --json into OUT.
lb_stats() {
	fgxdp_lb stats --json >"$1" 2>"$TMP/stats.err"
}

# ct_count MAP: entries in the node's pinned MAP: flows held by a
# connection table (fg_ct, fg_ct_syn: ways whose tag is set, expired
# ones included until reused), keys of a hash map (fg_nat).
ct_count() {
	"$PY" "$LIB_HTTP" mapcount "/sys/fs/bpf/floodgate/$NODE/$1"
}

# client_ports LO HI: the client's ephemeral port range. Tests keep it
# apart from the source ports they choose themselves (spread --sport), so
# no connection reuses a 5-tuple that an earlier one left in the
# connection table: a SYN that finds an entry follows that entry's
# backend and is no new flow, which would blur what a phase measures.
# (Linux walks its ephemeral ports in random steps of up to 16, so a
# thousand connections can wrap a range of a few thousand ports.)
client_ports() {
	topo_exec cli sysctl -qw net.ipv4.ip_local_port_range="$1 $2"
}
