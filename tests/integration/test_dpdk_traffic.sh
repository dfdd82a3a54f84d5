#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# test_dpdk_traffic.sh - real TCP through floodgate-dpdk on veth, the
# process driven by floodgated (dataplane.kind = "dpdk") and configured
# only through the REST API: connections from the client namespace to VIPs
# on the appliance, answered by HTTP backends (lib_http.py) that name
# themselves.
#
#   1  spread by weight (100/100/200), and /v1/stats' per-backend
#      new_flows equal what the clients saw; no packet dropped for an
#      unresolved next hop (the worker asked when the tables came)
#   2  adding a backend: held keep-alive connections stay on their
#      backend, new connections reach the new one
#   3  drain (state drain, and weight 0): no new connections, held ones
#      keep working
#   4  full NAT both ways (IPv4 and IPv6, VIP port 80 -> backend 8080):
#      the backend sees the SNAT address, the client the VIP; 4 MB intact
#   5  DSR over IPv6 (ip6ip6) and over GUE, backends decapsulating with
#      fg-backend-decap
#   6  a cps limit per src_ip: burst + rate * t admitted, within 10 %
#   7  rule changes (table swaps) under traffic: no held connection lost
#   8  kill -9 of floodgated under traffic: no connection lost; the
#      restarted daemon adopts the running set
#   9  kill -9 of floodgate-dpdk and its restart: the restarted process
#      forwards at once with the set it kept (--state-file), held DSR
#      connections survive on their backends (--seed-file), fg0 keeps the
#      box's addresses, /v1/status says the process is down while it is;
#      how long new connections fail (the restart figure) and what the
#      operator sees meanwhile are printed
#  10  floodgated runs floodgate-dpdk itself (dataplane.dpdk.mode
#      "start") and restarts it after a kill -9: forwarding resumes, held
#      DSR connections survive, the outage is printed
#
# The appliance: floodgate-dpdk owns the lb's eth0 through net_af_xdp
# (frames go to its AF_XDP socket, not to the kernel), with one worker
# that backs off when idle (adaptive polling: the box has two shared
# vCPUs). What is not the dataplane's reaches the kernel through the
# exception interface fg0 (net_tap, eth0's MAC). What the product does
# and what the test stands in for:
#   - product: fg0 with the port's MAC, kept across a crash or a restart
#     of the process (a persistent TAP), so the box's addresses and
#     routes on it stay; ARP/ND for VIPs, tunnel and SNAT addresses
#     answered by the worker, and the answers to the kernel's own
#     questions handed to it too; neighbours of next hops resolved by
#     the worker.
#   - test: the box's addresses live on fg0 (on a real box whose NIC
#     DPDK owns, the operator's network configuration names fg0 instead
#     of the NIC); the veth stands in for the NIC (topo.sh). Backends
#     answer DSR clients over the segment (on-link routes), as they
#     would through their own gateway: a DPDK box does not route their
#     replies through its kernel.
#
# Needs root, etcd and the built tools; exits 77 (skip) without them.
# Everything made here (namespaces, processes, files) is removed on exit,
# whatever the outcome. About 90 s.
set -u

# shellcheck source=lib_lb.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib_lb.sh"
[ "$(id -u)" = 0 ] || lb_skip "needs root (namespaces, the DPDK EAL)"
[ -x /usr/bin/etcd ] || command -v etcd >/dev/null ||
	lb_skip "etcd not installed (etcd-server)"
lb_find FLOODGATED controlplane/floodgated
lb_find FLOODGATE_DPDK dataplane/dpdk/floodgate-dpdk
lb_init fgdt
[ -e /dev/net/tun ] || lb_skip "no /dev/net/tun (the exception interface)"
# shellcheck source=lib_dpdk.sh
. "$lb_here/lib_dpdk.sh"
DP_NS=$(topo_ns lb)

VIP=198.18.0.10
VIP_NAT=198.18.0.11
VIP_GUE=198.18.0.12
VIP6=2001:db8:18:a::10
VIP6_NAT=2001:db8:18:a::11
APIPORT=7394
API=http://127.0.0.1:$APIPORT
SOCK=$TMP/run/dpdk.sock

dt_cleanup() {
	stop_pid "$FGD_PID"
	stop_pid "$DP_PID"
	# The process floodgated started (section 10) outlives it.
	[ -s "$TMP/run/dpdk.pid" ] && stop_pid "$(cat "$TMP/run/dpdk.pid")"
	lb_cleanup
}
trap dt_cleanup EXIT

# ------------------------------------------------------------- helpers

# api METHOD PATH [BODY]: the HTTP code on stdout, the body in $TMP/api.out.
api() {
	local m=$1 p=$2
	shift 2
	in_dp curl -s -m 10 -o "$TMP/api.out" -w '%{http_code}' -X "$m" \
		${1:+-H 'Content-Type: application/json' --data-binary "$1"} "$API$p"
}
# put KIND NAME BODY: PUT /v1/KIND/NAME, then wait until it is applied.
put() {
	local code
	code=$(api PUT "/v1/$1/$2" "$3")
	case $code in 200 | 201) ;; *)
		echo "# PUT /v1/$1/$2: $code $(cat "$TMP/api.out")"
		return 1
		;;
	esac
	wait_for 100 applied
}

# web_body B...: service web's body with backends NUM:WEIGHT:STATE.
web_body() {
	local b sep="" n w s
	printf '{"vip": "%s", "port": 80, "proto": "tcp", "forward": "dsr-ipip", "backends": [' "$VIP"
	for b in "$@"; do
		IFS=: read -r n w s <<<"$b"
		printf '%s{"addr": "198.19.0.%s", "port": 80, "weight": %s, "state": "%s"}' \
			"$sep" "$n" "$w" "$s"
		sep=", "
	done
	printf ']}'
}

# floodgate-dpdk in the lb namespace on eth0 (net_af_xdp), lcore 0 main,
# lcore 1 the worker (start_dpdk adds --control).
DP_ARGS=(--no-huge -m 512 --no-pci --no-shconf --log-level=error -l 0-1
	--vdev net_af_xdp0,iface=eth0,start_queue=0,queue_count=1 --
	--seed-file "$TMP/run/seed" --state-file "$TMP/run/state"
	--idle-polls 200 --idle-sleep-us 200
	--tunnel-src4 198.19.255.1 --tunnel-src6 2001:db8:19::ff:1
	--route 198.19.0.0/16@0 --route 198.18.0.0/24@0
	--route 2001:db8:19::/64@0 --route 2001:db8:18::/64@0)
# refused OPTION FILE REASON: floodgate-dpdk given OPTION FILE exits
# non-zero saying REASON (a grep pattern), its control socket never made.
refused() {
	local log=$2.log
	if in_dp "$FLOODGATE_DPDK" --no-huge -m 128 --no-pci --no-shconf --log-level=error \
		-l 0-1 --vdev net_null0 -- --control "$TMP/run/bad.sock" --no-tap \
		"$1" "$2" >"$log" 2>&1 ||
		! grep -q "$3" "$log" || [ -e "$TMP/run/bad.sock" ]; then
		echo "# a bad $1: $(cat "$log")"
		return 1
	fi
}
# dp_running N: the Nth start of floodgate-dpdk runs.
dp_running() { [ "$(grep -c "; running" "$TMP/dpdk.log")" -ge "$1" ]; }

# stats OUT: GET /v1/stats into OUT, no sooner than 0.3 s after the last
# traffic (the daemon reuses one STATS answer for 200 ms).
stats() {
	sleep 0.3
	in_dp curl -s -m 10 "$API/v1/stats" >"$1"
}

# ---------------------------------------------------------------- setup

echo "# setup: topology, backends, floodgate-dpdk on lb eth0 (net_af_xdp), floodgated"
setup() {
	local i
	lb_backends || return 1
	# DSR replies go to the client over the segment (see the header).
	for i in 1 2 3 4 5 6; do
		topo_exec "be$i" ip route replace 198.18.0.0/24 dev eth0 || return 1
		topo_exec "be$i" ip -6 route replace 2001:db8:18::/48 dev eth0 || return 1
	done
	# The box's addresses move from the NIC to the exception interface
	# once the dataplane owns the NIC.
	topo_exec lb ip addr flush dev eth0 || return 1
	mkdir -p "$TMP/run" "$TMP/data" && chmod 0700 "$TMP/run"
	# A key file that is no key, a state file that is no set: refused
	# with the reason, nothing started.
	printf 'short' >"$TMP/badseed"
	printf 'not a set' >"$TMP/badstate"
	refused --seed-file "$TMP/badseed" "not a key of 48 bytes" || return 1
	refused --state-file "$TMP/badstate" "badstate: .*(remove it to start empty)" ||
		return 1
	start_dpdk
	wait_for 300 dp_running 1 || { tail -n 20 "$TMP/dpdk.log"; return 1; }
	topo_exec lb ip addr add 198.18.0.1/24 dev fg0 &&
		topo_exec lb ip addr add 198.19.255.1/16 dev fg0 &&
		topo_exec lb ip -6 addr add 2001:db8:18::1/64 dev fg0 nodad &&
		topo_exec lb ip -6 addr add 2001:db8:19::ff:1/64 dev fg0 nodad ||
		return 1
	dp_conf "$NODE" "$APIPORT" "$TMP/data" "$SOCK" >"$TMP/floodgate.conf"
	start_daemon
	wait_for 300 applied || { tail -n 20 "$TMP/daemon.log"; return 1; }
	put services web "$(web_body 1:100:active 2:100:active 3:200:active)" &&
	put services web6 "{\"vip\": \"$VIP6\", \"port\": 80, \"forward\": \"dsr-ipip\", \"backends\": [
		{\"addr\": \"2001:db8:19::1\"}, {\"addr\": \"2001:db8:19::2\"}, {\"addr\": \"2001:db8:19::3\"}]}" &&
	put services gue "{\"vip\": \"$VIP_GUE\", \"port\": 80, \"forward\": \"dsr-gue\", \"backends\": [
		{\"addr\": \"198.19.0.1\"}, {\"addr\": \"198.19.0.2\"}, {\"addr\": \"198.19.0.3\"}]}" &&
	put services nat "{\"vip\": \"$VIP_NAT\", \"port\": 80, \"forward\": \"nat\", \"backends\": [
		{\"addr\": \"198.19.0.5\", \"port\": 8080}, {\"addr\": \"198.19.0.6\", \"port\": 8080}]}" &&
	put services nat6 "{\"vip\": \"$VIP6_NAT\", \"port\": 80, \"forward\": \"nat\", \"backends\": [
		{\"addr\": \"2001:db8:19::5\", \"port\": 8080}, {\"addr\": \"2001:db8:19::6\", \"port\": 8080}]}" ||
		return 1
	grep -q "running version .* (5 services, 13 backends)" "$TMP/dpdk.log" || {
		tail -n 5 "$TMP/dpdk.log"
		return 1
	}
	# The first connection (worker 0 asked for be1..3 when the tables
	# came: check 1 holds it to no no_neigh drop).
	wait_for 50 eval 'topo_exec cli curl -s -m 1 "http://$VIP/" | grep -q ^be'
}
if setup; then
	ok "setup (floodgate-dpdk on eth0 via net_af_xdp, 5 services through the API)"
else
	notok "setup failed"
	echo "# dpdk log:"; tail -n 20 "$TMP/dpdk.log" 2>/dev/null | sed 's/^/#   /'
	echo "# daemon log:"; tail -n 20 "$TMP/daemon.log" 2>/dev/null | sed 's/^/#   /'
	lb_finish
fi
xdp=$(topo_exec lb ip -d link show eth0 | grep -o 'prog/xdp id [0-9]* name [a-z_]*')
mgmt=$(topo_exec cli ping -c 1 -W 2 198.18.0.1 >/dev/null 2>&1 && echo yes || echo no)
check "0 eth0 belongs to the AF_XDP socket, the box's addresses answer on fg0" \
	"$([ -n "$xdp" ] && [ "$mgmt" = yes ]; echo $?)" \
	"eth0: ${xdp:-no XDP program}; ping 198.18.0.1 (fg0) from the client: $mgmt"

# What the idle worker costs the box (adaptive polling): CPU time of the
# whole process over 2 s without traffic. A figure, not a check.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$DP_PID/stat"; }
c0=$(cpu_ticks)
sleep 2
c1=$(cpu_ticks)
echo "# idle floodgate-dpdk: $(((c1 - c0) * 100 / $(getconf CLK_TCK) / 2))% of one CPU (--idle-polls 200 --idle-sleep-us 200)"

# ------------------------------------------------- 1. spread by weight

echo "# 1. spread by weight 100/100/200"
phase_weights stats /v1/stats
nn=$(q "$TMP/s1b.json" "d['drops'].get('no_neigh', 0)")
check "1 no packet dropped for an unresolved next hop (asked when the tables came)" \
	"$([ "$nn" = 0 ]; echo $?)" "no_neigh $nn"

# ------------------------------------------- 2. adding a backend

echo "# 2. add be4 under held connections"
add_be4() {
	put services web "$(web_body 1:100:active 2:100:active 3:200:active 4:100:active)"
	check "2 PUT web with be4: applied" $? "$(cat "$TMP/api.out")"
}
phase_add add_be4

# --------------------------------------------------- 3. drain

echo "# 3. drain: be3 state drain, be2 weight 0"
drain_be23() {
	put services web "$(web_body 1:100:active 2:0:active 3:200:drain 4:100:active)"
	check "3 PUT web with be2 weight 0, be3 drain: applied" $? "$(cat "$TMP/api.out")"
}
phase_drain drain_be23 stats

# --------------------------------------------------- 4. full NAT

echo "# 4. full NAT both ways, VIP port 80 -> backend port 8080"
check_answer "4 NAT IPv4: the backend sees the SNAT address on port 8080" \
	"http://$VIP_NAT/" 'be[56]' 198.19.255.1 8080
check_answer "4 NAT IPv6: the backend sees the SNAT address on port 8080" \
	"http://[$VIP6_NAT]/" 'be[56]' 2001:db8:19::ff:1 8080
check_spread "4 NAT: 200 connections over both backends, all from the SNAT address" \
	"$TMP/sp4.json" "$VIP_NAT" 200 15000 \
	"d['errors'] == 0 and len(d['backends']) == 2 and list(d['peers']) == ['198.19.255.1']"
check_download "4 NAT: 4 MB download intact (every segment rewritten both ways)" 30

# --------------------------------------------------- 5. DSR IPv6, GUE

echo "# 5. DSR over IPv6 (ip6ip6) and GUE"
check_answer "5 DSR IPv6: the backend sees the client's own address" \
	"http://[$VIP6]/" 'be[123]' 2001:db8:18::100
check_spread "5 DSR IPv6: 300 connections over the 3 backends" \
	"$TMP/sp5.json" "$VIP6" 300 16000 \
	"d['errors'] == 0 and len(d['backends']) == 3 and min(d['backends'].values()) > 50"
check_spread "5 DSR GUE: 150 connections over the 3 backends, client address kept" \
	"$TMP/sp5g.json" "$VIP_GUE" 150 17000 \
	"d['errors'] == 0 and len(d['backends']) == 3 and list(d['peers']) == ['198.18.0.100']"

# ------------------------------------------------------ 6. cps limit

echo "# 6. cps limit per src_ip: rate 20/s, burst 20, drop"
put services web "$(web_body 1:100:active 2:100:active 3:200:active 4:100:active)" &&
	put limits perip '{"service": "web", "key": "src_ip", "unit": "cps", "rate": 20, "burst": 20, "action": "drop"}'
check "6 PUT the perip limit: applied" $? "$(cat "$TMP/api.out")"
sleep 1.2 # a full bucket
topo_exec cli timeout 30 "$PY" "$LIB_HTTP" cps "$VIP" 80 --duration 3 \
	--pending 0.3 >"$TMP/cps.json" 2>"$TMP/cps.err"
est=$(q "$TMP/cps.json" "d['established']")
span=$(q "$TMP/cps.json" "'%.3f' % d['span']")
exp=$(q "$TMP/cps.json" "round(20 + 20 * d['span'], 1)")
within=$(q "$TMP/cps.json" "abs(d['established'] - (20 + 20 * d['span'])) <= 0.1 * (20 + 20 * d['span'])")
check "6 admitted = burst + rate * t within 10%" "$([ "$within" = True ]; echo $?)" \
	"$est established of $(q "$TMP/cps.json" "d['attempts']") attempts in ${span} s, expected $exp; abandoned $(q "$TMP/cps.json" "d['abandoned']")"
code=$(api DELETE /v1/limits/perip)
wait_for 100 applied
check "6 DELETE the limit: applied" "$([ "$code" = 200 ] || [ "$code" = 204 ]; echo $?)" "HTTP $code"

# ----------------------------------------- 7. rule changes under traffic

echo "# 7. ten rule changes (table swaps) under held connections and new ones"
hold_start swap 40 "$VIP" 0.05
spread "$TMP/sp7.json" "$VIP" 600 18000 &
sp7=$!
bad=0
for i in 1 2 3 4 5 6 7 8 9 10; do
	w=$((100 + i))
	put services web "$(web_body 1:100:active 2:100:active 3:200:active 4:$w:active)" || bad=1
	put limits l7x "{\"service\": \"web\", \"key\": \"flow\", \"unit\": \"pps\", \"rate\": $((100000 + i)), \"burst\": 100000, \"action\": \"drop\"}" || bad=1
done
wait "$sp7"
hold_stop swap
api DELETE /v1/limits/l7x >/dev/null
wait_for 100 applied
swaps=$(grep -c "running version" "$TMP/dpdk.log")
check "7 twenty changes applied by the process" "$bad" "$swaps versions run so far"
check_held "7 no held connection lost or moved across the swaps" "$TMP/hold.swap.json" 40
check_spread_out "7 600 new connections during the swaps, no error" "$TMP/sp7.json" \
	"d['errors'] == 0"

# --------------------------------------------- 8. kill -9 of floodgated

echo "# 8. kill -9 of floodgated under traffic"
v8=$(jget /v1/status "d['applied_version']")
hold_start fgd 40 "$VIP" 0.05
spread "$TMP/sp8.json" "$VIP" 600 19000 &
sp8=$!
sleep 0.5
kill -KILL "$FGD_PID"
wait "$FGD_PID" 2>/dev/null
FGD_PID=
wait_for 300 etcd_gone
wait "$sp8"
start_daemon
wait_for 300 applied
adopted=$(jget /v1/status "d['dataplane'].get('adopted')")
v8b=$(jget /v1/status "d['applied_version']")
hold_stop fgd
check_held "8 no held connection lost while floodgated was dead" "$TMP/hold.fgd.json" 40
check_spread_out "8 600 new connections while floodgated was dead, no error" "$TMP/sp8.json" \
	"d['errors'] == 0"
check "8 the restarted floodgated adopts the running set" \
	"$([ "$adopted" = True ] && [ "$v8b" = "$v8" ]; echo $?)" \
	"adopted=$adopted, version $v8 -> $v8b"

# ---------------------------------------- 9. kill -9 of floodgate-dpdk

echo "# 9. kill -9 of floodgate-dpdk and its restart"
# The prober: a fresh connection every 20 ms (each with a 100 ms
# budget), for at most 60 s or until the stop file; prints every
# attempt's time and outcome.
probe() {
	topo_exec cli timeout 90 "$PY" - "$VIP" "$TMP/stop.probe" <<'EOF'
import json, os, socket, sys, time
host, stop = sys.argv[1], sys.argv[2]
t0 = time.monotonic()
out = []
while time.monotonic() - t0 < 60 and not os.path.exists(stop):
    t = time.monotonic() - t0
    ok = False
    try:
        s = socket.create_connection((host, 80), timeout=0.1)
        s.settimeout(0.5)
        s.sendall(b"GET / HTTP/1.1\r\nHost: fg\r\nConnection: close\r\n\r\n")
        ok = s.recv(4096).startswith(b"HTTP/1.1 200")
        s.close()
    except OSError:
        pass
    out.append([round(t, 3), ok])
    time.sleep(0.02)
json.dump({"t_kill": None, "probes": out, "t0_wall": time.time() - (time.monotonic() - t0)}, sys.stdout)
EOF
}
# outage PROBES T_KILL: the longest run of failed attempts, from its
# first failed attempt to the next answered one (each attempt waits at
# most 0.1 s, 20 ms apart: the figure is good to about 0.12 s), as
# "seconds first-failed first-answered-again failed-attempts", times
# from T_KILL; "none" when forwarding never resumed.
outage() {
	"$PY" - "$1" "$2" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
t_kill = float(sys.argv[2])
p = [(t + d["t0_wall"] - t_kill, ok) for t, ok in d["probes"]]
best, run = None, None
for t, ok in p:
    if not ok and run is None:
        run = t
    elif ok and run is not None:
        if best is None or t - run > best[1] - best[0]:
            best = (run, t)
        run = None
if best is None or run is not None:
    print("none")
else:
    print("%.2f %.2f %.2f %d" % (best[1] - best[0], best[0], best[1],
                                 sum(1 for t, ok in p if not ok)))
EOF
}
# kill_begin TAG OUT NOTE: 20 held DSR connections (hold TAG) and the
# prober (into OUT) for 2 s; then NOTE in floodgated's log and t_kill the
# time: what follows kills a process. Held connections wait up to 20 s for
# each answer: TCP retransmits across the outage, and with the key kept
# (--seed-file) and the same rules the restarted process sends each flow
# where it went.
kill_begin() {
	rm -f "$TMP/stop.probe"
	hold_start "$1" 20 "$VIP" 0.1 20
	probe >"$2" 2>"$2.err" &
	probe_pid=$!
	LB_PIDS+=("$probe_pid")
	sleep 2
	t_kill=$(date +%s.%N)
	echo "# $3" >>"$TMP/daemon.log"
}
# kill_end TAG: 3 s more of traffic, then the prober's and the holders'
# (hold TAG) reports.
kill_end() {
	sleep 3
	touch "$TMP/stop.probe"
	wait "$probe_pid"
	hold_stop "$1"
}
kill_begin dp "$TMP/probe.json" "kill -9 of floodgate-dpdk"
kill -KILL "$DP_PID"
wait "$DP_PID" 2>/dev/null
DP_PID=
fg0_kept=$(topo_exec lb ip -4 addr show dev fg0 2>/dev/null | grep -c 'inet ')
# What /v1/status says once floodgated noticed (at most 2 s).
proc_state() {
	echo "$1" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["dataplane"].get("process", {}).get("state"))' 2>&1
}
for ((i = 0; i < 40; i++)); do
	st_down=$(in_dp curl -s -m 5 "$API/v1/status")
	[ "$(proc_state "$st_down")" = down ] && break
	sleep 0.05
done
t_start=$(date +%s.%N)
restart_s=$("$PY" -c "print('%.2f' % ($t_start - $t_kill))")
echo "# restarting floodgate-dpdk" >>"$TMP/dpdk.log"
start_dpdk
wait_for 300 dp_running 2
t_up=$(date +%s.%N)
kept=$(sed -n '/# restarting/,$p' "$TMP/dpdk.log" | grep -c "^floodgate-dpdk: version $v8 .* from $TMP/run/state")
# floodgated reconnects when next asked: an operator's (or Prometheus')
# read of the counters.
repushed() {
	in_dp curl -s -m 5 "$API/v1/stats" >/dev/null
	[ "$(tail -n 1 "$TMP/dpdk.log" | grep -c "running version")" = 1 ]
}
wait_for 300 repushed
t_push=$(date +%s.%N)
kill_end dp
st_up=$(in_dp curl -s -m 5 "$API/v1/status")
read -r gap fail_s resume_s failed <<<"$(outage "$TMP/probe.json" "$t_kill")"
start_s=$("$PY" -c "print('%.2f' % ($t_up - $t_start))")
push_s=$("$PY" -c "print('%.2f' % ($t_push - $t_kill))")
echo "# restart figure: forwarding of new connections stopped for ${gap} s (kill -9 at 0 s, restarted at ${restart_s} s once /v1/status said the process was down; first failed attempt at ${fail_s} s, first answered again at ${resume_s} s; the process took ${start_s} s to start, with the set it kept; floodgated pushed its set at ${push_s} s; ${failed} attempts failed)"
check "9 forwarding resumes after kill -9 and restart of floodgate-dpdk" \
	"$([ "$gap" != none ] && [ -n "$resume_s" ]; echo $?)" \
	"outage ${gap} s, ${failed} failed attempts of $(q "$TMP/probe.json" "len(d['probes'])")"
check "9 the restarted process forwards with the set it kept (--state-file)" \
	"$([ "$kept" = 1 ]; echo $?)" "$(sed -n '/# restarting/,$p' "$TMP/dpdk.log" | grep "from $TMP/run/state")"
down=$(proc_state "$st_down")
check "9 /v1/status says the process is down while it is" \
	"$([ "$down" = down ]; echo $?)" "dataplane.process.state: $down"
check "9 fg0 keeps the box's addresses while the process is dead" \
	"$([ "$fg0_kept" = 2 ]; echo $?)" "$fg0_kept IPv4 addresses on fg0 after the kill"
check "9 the restarted process runs floodgated's version" \
	"$(applied; echo $?)" \
	"status: $(echo "$st_up" | "$PY" -c 'import json,sys; d=json.load(sys.stdin); print("rules %s applied %s" % (d["rules_version"], d["applied_version"]))')"
mgmt=$(topo_exec cli ping -c 1 -W 2 198.18.0.1 >/dev/null 2>&1 && echo yes || echo no)
check "9 the box answers on fg0 again" "$([ "$mgmt" = yes ]; echo $?)" "ping 198.18.0.1: $mgmt"
check_held "9 held DSR connections survive the restart on their backends" \
	"$TMP/hold.dp.json" 20
echo "# what the operator sees while floodgate-dpdk is dead (GET /v1/status):"
echo "#   $st_down"
echo "# floodgated's log from the kill on:"
sed -n '/# kill -9 of floodgate-dpdk/,$p' "$TMP/daemon.log" | grep -v " api " |
	head -n 8 | sed 's/^/#   /'
echo "# floodgate-dpdk's log around the restart:"
sed -n '/# restarting/,$p' "$TMP/dpdk.log" | head -n 8 | sed 's/^/#   /'

# ------------------------------- 10. floodgated supervises floodgate-dpdk

echo "# 10. floodgated starts floodgate-dpdk (mode start) and restarts it after kill -9"
# Hand the process over: floodgated stops (the process stays), the
# process stops (fg0 stays), floodgated starts with mode "start" and the
# same arguments, and starts the process itself.
stop_pid "$FGD_PID"
FGD_PID=
wait_for 300 etcd_gone
stop_pid "$DP_PID"
DP_PID=
dp_conf "$NODE" "$APIPORT" "$TMP/data" "$SOCK" \
	"mode = \"start\"; exec = \"$FLOODGATE_DPDK\"; log_file = \"$TMP/dpdk-sup.log\"; args = $(dp_list "${DP_ARGS[@]}");" \
	>"$TMP/floodgate-start.conf"
start_daemon "$TMP/floodgate-start.conf"
# sup_running [NOT_PID]: the process floodgated runs answers (and is not
# NOT_PID), the store's version applied.
sup_running() {
	local st pid
	st=$(jget /v1/status "d['dataplane']['process']['state']") || return 1
	pid=$(jget /v1/status "d['dataplane']['process']['pid']") || return 1
	[ "$st" = running ] && [ "$pid" != "${1:-}" ] && [ "$pid" != 0 ] && applied
}
wait_for 600 sup_running
sup_pid=$(cat "$TMP/run/dpdk.pid" 2>/dev/null)
st_pid=$(jget /v1/status "d['dataplane']['process']['pid']")
out=$(topo_exec cli curl -sS --max-time 5 "http://$VIP/" 2>&1)
check "10 floodgated runs floodgate-dpdk itself, and it forwards" \
	"$([ -n "$sup_pid" ] && [ "$sup_pid" = "$st_pid" ] && [[ "$out" == be* ]]; echo $?)" \
	"pid file $sup_pid, status pid $st_pid; answer: $out"
kill_begin sup "$TMP/probe10.json" "kill -9 of the supervised floodgate-dpdk"
kill -KILL "$sup_pid"
wait_for 300 sup_running "$sup_pid"
t_back=$(date +%s.%N)
kill_end sup
read -r gap fail_s resume_s failed <<<"$(outage "$TMP/probe10.json" "$t_kill")"
back_s=$("$PY" -c "print('%.2f' % ($t_back - $t_kill))")
echo "# supervised restart figure: forwarding of new connections stopped for ${gap} s (kill -9 at 0 s; first failed attempt at ${fail_s} s, first answered again at ${resume_s} s; /v1/status said running again at ${back_s} s; ${failed} attempts failed)"
check "10 floodgated restarts a killed floodgate-dpdk and forwarding resumes" \
	"$([ "$gap" != none ] && [ -n "$resume_s" ] && sup_running "$sup_pid"; echo $?)" \
	"outage ${gap} s, new pid $(cat "$TMP/run/dpdk.pid" 2>/dev/null), restarts $(jget /v1/status "d['dataplane']['process']['restarts']")"
check_held "10 held DSR connections survive the supervised restart" "$TMP/hold.sup.json" 20
echo "# floodgated's log from the kill on:"
sed -n '/# kill -9 of the supervised/,$p' "$TMP/daemon.log" | grep -v " api " |
	head -n 6 | sed 's/^/#   /'

lb_finish
