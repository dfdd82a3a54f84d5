# shellcheck shell=bash source-path=SCRIPTDIR
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# lib_lb.sh - what the load-balancer tests with real traffic share
# (test_xdp_lb.sh, test_xdp_flood.sh, test_neigh.sh, test_daemon.sh,
# test_dpdk_traffic.sh), sourced after `set -u`: the skip checks, the
# topology with HTTP backends (lib_http.py), the XDP dataplane of one
# node, ok / not ok reporting and the EXIT cleanup that undoes all of it,
# a failed check or an interrupt included; and the traffic phases with
# their checks that both dataplanes pass (below).
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

# ------------------------------------------- traffic and what judges it
# The load-balancer phases both dataplanes pass (test_xdp_lb.sh through
# fgxdp, test_dpdk_traffic.sh through floodgate-dpdk), written once so
# that the two are held to the same checks. They use the caller's VIPs:
# VIP (service web, dsr-ipip, be1..be4 as 198.19.0.N:80), VIP6 (web6),
# VIP_GUE (gue), VIP_NAT and VIP6_NAT (nat, nat6: be5, be6 on 8080).

# lb_backends: the topology with six backends. be1..be4 answer DSR (VIP,
# VIP6 and VIP_GUE on lo, fg-backend-decap, HTTP on 80), be5 and be6 are
# plain NAT backends (HTTP on 8080); the client's ephemeral ports kept
# above the phases' own source ports.
lb_backends() {
	local i
	topo_up 6 || return 1
	topo_vip_on_backends "$VIP" "$VIP6" 4 || return 1
	topo_vip_on_backends "$VIP_GUE" "" 4 || return 1
	for i in 1 2 3 4; do
		decap "be$i" || return 1
		serve "be$i" "be$i" 80 || return 1
	done
	for i in 5 6; do
		serve "be$i" "be$i" 8080 || return 1
	done
	client_ports 40000 60999
}

# spread OUT HOST N SPORT: N fresh connections from the client, from
# source ports SPORT..SPORT+N-1 (each phase its own block, below the
# kernel's ephemeral range: see client_ports).
spread() {
	topo_exec cli timeout 90 "$PY" "$LIB_HTTP" spread "$2" 80 "$3" \
		--sport "$4" --parallel 8 --max-time 80 >"$1" 2>"$TMP/spread.err"
}

# new_flows STATS SERVICE BACKEND: that backend's new_flows counter in
# STATS (fgxdp stats --json and floodgated's /v1/stats have one shape).
new_flows() {
	q "$1" "d['services']['$2']['backends'].get('$3', {}).get('new_flows', -1)"
}

# hold_start TAG M HOST [INTERVAL [TIMEOUT]]: M held keep-alive
# connections in the background, a request each every INTERVAL s (0.1),
# each answer awaited at most TIMEOUT s (2); returns once all are open.
hold_start() {
	rm -f "$TMP/stop.$1" "$TMP/ready.$1"
	bg topo_exec cli timeout 150 "$PY" "$LIB_HTTP" hold "$3" 80 "$2" \
		--ready "$TMP/ready.$1" --stop "$TMP/stop.$1" --max-time 120 \
		--interval "${4:-0.1}" --timeout "${5:-2}" \
		>"$TMP/hold.$1.json" 2>"$TMP/hold.$1.err"
	HOLD_PID=$!
	wait_file "$TMP/ready.$1" 100
}

# hold_stop TAG: stop the holder started last and wait for its report.
hold_stop() {
	touch "$TMP/stop.$1"
	wait "$HOLD_PID"
}

# held_ok FILE N: True when every one of N held connections answered
# every round from one backend.
held_ok() {
	q "$1" "len(d['conns']) == $2 and all(not c['error'] and len(c['backends']) == 1 and c['ok'] == d['rounds'] for c in d['conns'])"
}

# held_detail FILE: what the held connections of FILE saw, in a line.
held_detail() {
	q "$1" "'%d conns, %d rounds; errors %d, moved %d, on %s' % (len(d['conns']), d['rounds'], sum(1 for c in d['conns'] if c['error']), sum(1 for c in d['conns'] if len(c['backends']) > 1), sorted(set(c['backends'][0] for c in d['conns'] if c['backends'])))"
}

# check_held NAME FILE N: the check that each of N held connections
# (hold_stop's FILE) answered every round from one backend.
check_held() {
	check "$1" "$([ "$(held_ok "$2" "$3")" = True ]; echo $?)" "$(held_detail "$2")"
}

# phase_weights STATS STATS_NAME: phase 1 with web's backends be1..be3 at
# weights 100/100/200. STATS OUT writes the dataplane's counters (its
# new_flows named STATS_NAME in the check) to OUT.
# 1200 connections: with p = 1/4 a backend's count has sigma = 15 (5 % of
# its expected 300); the +-20 % tolerance is 4 sigma, so a correct
# dataplane fails this less than once in 10^4 runs, while a ring that
# ignored weights (400/400/400) is 33 % off for each backend.
phase_weights() {
	local stats=$1 name=$2 n=1200 i w got exp dev errs a b bad detail
	"$stats" "$TMP/s1a.json"
	spread "$TMP/sp1.json" "$VIP" "$n" 10000
	"$stats" "$TMP/s1b.json"
	errs=$(q "$TMP/sp1.json" "d['errors']")
	bad=0 detail=""
	for i in 1 2 3; do
		w=$([ "$i" = 3 ] && echo 2 || echo 1)
		got=$(q "$TMP/sp1.json" "d['backends'].get('be$i', 0)")
		exp=$((n * w / 4))
		dev=$(((got - exp) * 100 / exp))
		detail+="be$i $got/$exp (${dev}%) "
		[ "${dev#-}" -le 20 ] || bad=1
	done
	[ "$errs" = 0 ] || bad=1
	check "1 spread $n connections by weight within 20%" "$bad" "${detail}errors $errs"
	bad=0 detail=""
	for i in 1 2 3; do
		got=$(q "$TMP/sp1.json" "d['backends'].get('be$i', 0)")
		a=$(new_flows "$TMP/s1a.json" web "198.19.0.$i:80")
		b=$(new_flows "$TMP/s1b.json" web "198.19.0.$i:80")
		detail+="be$i client $got stats $((b - a)) "
		[ "$((b - a))" = "$got" ] || bad=1
	done
	check "1 $name new_flows per backend equal the clients' view" "$bad" "$detail"
}

# phase_add APPLY: phase 2. Under 40 held connections APPLY makes web
# be1..be4 at 100/100/200/100 (and checks that it did), then 600 new
# connections.
phase_add() {
	local h=$TMP/hold.add.json got4 errs dev
	hold_start add 40 "$VIP"
	"$1"
	spread "$TMP/sp2.json" "$VIP" 600 12000
	sleep 0.5
	hold_stop add
	check_held "2 every held connection stays on its backend, no error" "$h" 40
	# Expected shares 1:1:2:1 of 600; +-35 % is over 3.5 sigma for be4's 120.
	got4=$(q "$TMP/sp2.json" "d['backends'].get('be4', 0)")
	errs=$(q "$TMP/sp2.json" "d['errors']")
	dev=$(((got4 - 120) * 100 / 120))
	check "2 new connections reach be4 (expected 120 of 600, within 35%)" \
		"$([ "${dev#-}" -le 35 ] && [ "$errs" = 0 ]; echo $?)" \
		"$(q "$TMP/sp2.json" "d['backends']"), errors $errs"
}

# phase_drain APPLY STATS: phase 3. Under 40 held connections APPLY makes
# be2 weight 0 and be3 state drain (and checks that it did); then 400 new
# connections, counted by STATS OUT before and after.
phase_drain() {
	local h=$TMP/hold.drain.json n23 g2 g3 errs f2 f3
	hold_start drain 40 "$VIP"
	"$1"
	"$2" "$TMP/s3a.json"
	spread "$TMP/sp3.json" "$VIP" 400 13000
	"$2" "$TMP/s3b.json"
	sleep 0.3
	hold_stop drain
	n23=$(q "$h" "sum(1 for c in d['conns'] if c['backends'][:1] in (['be2'], ['be3']))")
	check "3 held connections on drained be2/be3 keep working" \
		"$([ "$(held_ok "$h" 40)" = True ] && [ "$n23" -gt 0 ]; echo $?)" \
		"$n23 of 40 held on be2/be3; $(held_detail "$h")"
	g2=$(q "$TMP/sp3.json" "d['backends'].get('be2', 0)")
	g3=$(q "$TMP/sp3.json" "d['backends'].get('be3', 0)")
	errs=$(q "$TMP/sp3.json" "d['errors']")
	f2=$(($(new_flows "$TMP/s3b.json" web 198.19.0.2:80) - $(new_flows "$TMP/s3a.json" web 198.19.0.2:80)))
	f3=$(($(new_flows "$TMP/s3b.json" web 198.19.0.3:80) - $(new_flows "$TMP/s3a.json" web 198.19.0.3:80)))
	check "3 no new connection reaches a drained backend" \
		"$([ "$g2$g3$f2$f3" = 0000 ] && [ "$errs" = 0 ]; echo $?)" \
		"new: $(q "$TMP/sp3.json" "d['backends']"), errors $errs; new_flows be2 +$f2 be3 +$f3"
}

# check_answer NAME URL BACKENDS PEER [PORT]: one request from the client
# to URL; the answer comes from a backend matching the glob BACKENDS,
# which saw the client as PEER (and took it on PORT).
check_answer() {
	local out nm peer lport
	out=$(topo_exec cli curl -sS --max-time 5 "$2" 2>&1)
	read -r nm peer _ lport <<<"$out"
	# shellcheck disable=SC2053 # $3 is a glob on purpose
	check "$1" "$([[ "$nm" == $3 ]] && [ "$peer" = "$4" ] &&
		{ [ -z "${5:-}" ] || [ "$lport" = "$5" ]; }; echo $?)" "answer: $out"
}

# check_spread NAME OUT HOST N SPORT EXPR: spread N connections to HOST;
# EXPR over the result (d) must be True.
check_spread() {
	spread "$2" "$3" "$4" "$5"
	check_spread_out "$1" "$2" "$6"
}

# check_spread_out NAME OUT EXPR: EXPR over spread's result in OUT (d)
# must be True.
check_spread_out() {
	check "$1" "$([ "$(q "$2" "$3")" = True ]; echo $?)" \
		"$(q "$2" "d['backends']") peers $(q "$2" "d['peers']") errors $(q "$2" "d['errors']")"
}

# check_download NAME SECONDS: 4 MB from VIP_NAT within SECONDS, every
# segment's checksums rewritten both ways.
check_download() {
	local sz
	sz=$(topo_exec cli curl -sS --max-time "$2" -o /dev/null -w '%{size_download} %{http_code}' \
		"http://$VIP_NAT/big?n=4000000" 2>&1)
	check "$1" "$([ "$sz" = "4000000 200" ]; echo $?)" "got $sz"
}
