# shellcheck shell=bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# lib_dpdk.sh - what the tests of floodgated driving floodgate-dpdk
# (test_dpdk_daemon.sh, test_dpdk_traffic.sh) share, sourced after
# `set -u`: either process started in the network namespace DP_NS and
# stopped, the boot file, floodgated's view of its version, bounded waits.
#
# The caller sets DP_NS (a namespace under /var/run/netns), TMP, SOCK (the
# control socket), API (floodgated's base URL), DP_ARGS (floodgate-dpdk's
# arguments but --control: the EAL's, "--", its own), FLOODGATED and
# FLOODGATE_DPDK; for dp_check pass, fail and DP_LOGS. Output goes to $TMP/dpdk.log and $TMP/daemon.log; the
# pids of the processes started last are DP_PID and FGD_PID.

DP_PID=
FGD_PID=

# stop_pid PID: TERM, then KILL after 10 s, and reap it; nothing when PID
# is empty.
stop_pid() {
	local pid=$1 i
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null
	for ((i = 0; i < 100; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
}

# dp_poll STEP N CMD...: CMD until it succeeds, at most N times, STEP s
# apart; 1 when it never did.
dp_poll() {
	local step=$1 n=$2 i
	shift 2
	for ((i = 0; i < n; i++)); do
		"$@" && return 0
		sleep "$step"
	done
	return 1
}

# wait_for TENTHS CMD...: CMD every 0.1 s, for at most TENTHS/10 s.
wait_for() {
	local n=$1
	shift
	dp_poll 0.1 "$n" "$@"
}

# until_ms MS CMD...: CMD every 20 ms, for at most MS ms (where the time
# it took is printed).
until_ms() {
	local n=$(($1 / 20))
	shift
	dp_poll 0.02 "$n" "$@"
}

# in_dp CMD...: CMD in the namespace of the two processes.
in_dp() { nsenter --net="/var/run/netns/$DP_NS" "$@"; }

# check DESC CMD...: CMD (eval'd), counted in the caller's pass and fail;
# on failure the last lines of each file in DP_LOGS that has any.
# (test_dpdk_traffic.sh checks with lib_lb.sh's and sources this file
# after it, so this one is dp_check.)
DP_LOGS=()
dp_check() {
	local desc=$1 f
	shift
	if eval "$@"; then
		pass=$((pass + 1))
		echo "ok - $desc"
	else
		fail=$((fail + 1))
		echo "not ok - $desc"
		for f in "${DP_LOGS[@]}"; do
			[ -s "$f" ] || continue
			echo "#   $f:"
			tail -n 5 "$f" | sed 's/^/#     /'
		done
	fi
}

# dp_cleanup: stop floodgated and floodgate-dpdk, kill what else runs in
# DP_NS, delete it and TMP.
dp_cleanup() {
	stop_pid "$FGD_PID"
	stop_pid "$DP_PID"
	ip netns pids "$DP_NS" 2>/dev/null | xargs -r kill -KILL 2>/dev/null
	ip netns del "$DP_NS" 2>/dev/null
	rm -rf "$TMP"
}

# start_dpdk: floodgate-dpdk with DP_ARGS and --control SOCK, in the
# background. nsenter execs: DP_PID is the process itself (for kill -9).
start_dpdk() {
	nsenter --net="/var/run/netns/$DP_NS" "$FLOODGATE_DPDK" \
		"${DP_ARGS[@]}" --control "$SOCK" >>"$TMP/dpdk.log" 2>&1 &
	# shellcheck disable=SC2034 # for the caller
	DP_PID=$!
}

# start_daemon [CONF]: floodgated with the boot file CONF
# ($TMP/floodgate.conf), in the background; FGD_PID is the process.
start_daemon() {
	nsenter --net="/var/run/netns/$DP_NS" "$FLOODGATED" \
		-c "${1:-$TMP/floodgate.conf}" >>"$TMP/daemon.log" 2>&1 &
	# shellcheck disable=SC2034 # for the caller
	FGD_PID=$!
}

# dp_conf NODE PORT DATA_DIR SOCK [DPDK]: a boot file on stdout: node
# NODE, the API on 127.0.0.1:PORT, an embedded store in DATA_DIR, the
# dpdk dataplane on the control socket SOCK, with DPDK the settings of
# its dpdk group when given.
dp_conf() {
	printf 'node = { name = "%s"; group = "default"; };\n' "$1"
	printf 'api = { listen = "127.0.0.1:%s"; };\n' "$2"
	printf 'store = { kind = "embedded"; data_dir = "%s"; };\n' "$3"
	if [ -n "${5:-}" ]; then
		printf 'dataplane = { kind = "dpdk"; control_socket = "%s";\n  dpdk = { %s }; };\n' \
			"$4" "$5"
	else
		printf 'dataplane = { kind = "dpdk"; control_socket = "%s"; };\n' "$4"
	fi
}

# dp_list WORD...: the WORDs as a libconfig list of strings.
dp_list() {
	local sep="" a
	printf '['
	for a in "$@"; do
		printf '%s"%s"' "$sep" "$a"
		sep=", "
	done
	printf ']'
}

# jget PATH EXPR: a Python expression over the JSON answer (d) of GET
# PATH; fails when there is no answer.
jget() {
	in_dp curl -s -m 10 "$API$1" 2>/dev/null |
		python3 -c "import json,sys; d=json.load(sys.stdin); print($2)" 2>/dev/null
}

# applied: floodgated has read the store and the process runs that
# version.
applied() {
	local r a
	r=$(jget /v1/status "d['rules_version']") || return 1
	a=$(jget /v1/status "d['applied_version']") || return 1
	[ -n "$r" ] && [ "$r" != 0 ] && [ "$r" = "$a" ]
}

# etcd_gone: floodgated's embedded etcd (of the store in $TMP/data) has
# followed it (parent-death signal); its ports are free for the next.
etcd_gone() { ! pgrep -f "$TMP/data" >/dev/null; }
