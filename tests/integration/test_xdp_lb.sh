#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# test_xdp_lb.sh - end to end through the XDP dataplane on veth (native
# XDP): real TCP connections from the client namespace to VIPs on the
# appliance, answered by HTTP backends (lib_http.py) that name themselves.
#
#   1  spread by weight (100/100/200), and the per-backend new_flows
#      counters of `fgxdp stats --json` equal what the clients saw
#   2  adding a backend: held keep-alive connections stay on their
#      backend, new connections reach the new one
#   3  drain (state drain, and weight 0): no new connections, held ones
#      keep working
#   4  state down: held connections to it break, new ones avoid it
#   5  full NAT (IPv4 and IPv6, VIP port 80 -> backend port 8080, plain
#      backends): the backend sees the SNAT address, the client the VIP
#   6  DSR over IPv6 (ip6ip6) and DSR with GUE
#   7  unload removes every pin of the dataplane, and only those
#
# Topology (topo.sh): cli, lb, sw, be1..be6. be1..be4 are DSR backends
# (VIPs on lo, fg-backend-decap on eth0, HTTP on port 80); be5 and be6 are
# plain NAT backends (HTTP on 8080, nothing else).
#
# Needs root; exits 77 (skip) without it or without the built tools.
# Everything made here (namespaces, processes, the node's pins) is removed
# on exit, whatever the outcome. About 40 s.
set -u

# shellcheck source=lib_lb.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib_lb.sh"
lb_init fglb

VIP=198.18.0.10
VIP_NAT=198.18.0.11
VIP_GUE=198.18.0.12
VIP6=2001:db8:18:a::10
VIP6_NAT=2001:db8:18:a::11

# ------------------------------------------------------------ rule sets

# rules FILE WEB_BACKEND...: the whole rule set, with service web's
# backends given as NUM:WEIGHT:STATE (be NUM = 198.19.0.NUM). The other
# services never change.
rules() {
	local f=$1 b sep="" n w s
	shift
	{
		printf '{"services": {\n "web": {"vip": "%s", "port": 80, "proto": "tcp", "forward": "dsr-ipip", "backends": [' "$VIP"
		for b in "$@"; do
			IFS=: read -r n w s <<<"$b"
			printf '%s\n  {"addr": "198.19.0.%s", "port": 80, "weight": %s, "state": "%s"}' \
				"$sep" "$n" "$w" "$s"
			sep=,
		done
		cat <<EOF
]},
 "web6": {"vip": "$VIP6", "port": 80, "proto": "tcp", "forward": "dsr-ipip", "backends": [
  {"addr": "2001:db8:19::1", "port": 80}, {"addr": "2001:db8:19::2", "port": 80},
  {"addr": "2001:db8:19::3", "port": 80}]},
 "gue": {"vip": "$VIP_GUE", "port": 80, "proto": "tcp", "forward": "dsr-gue", "backends": [
  {"addr": "198.19.0.1", "port": 80}, {"addr": "198.19.0.2", "port": 80},
  {"addr": "198.19.0.3", "port": 80}]},
 "nat": {"vip": "$VIP_NAT", "port": 80, "proto": "tcp", "forward": "nat", "backends": [
  {"addr": "198.19.0.5", "port": 8080}, {"addr": "198.19.0.6", "port": 8080}]},
 "nat6": {"vip": "$VIP6_NAT", "port": 80, "proto": "tcp", "forward": "nat", "backends": [
  {"addr": "2001:db8:19::5", "port": 8080}, {"addr": "2001:db8:19::6", "port": 8080}]}
}, "limits": {}}
EOF
	} >"$f"
}

# ------------------------------------------------------------- helpers

# spread OUT HOST N SPORT: N fresh connections from the client, from
# source ports SPORT..SPORT+N-1 (each phase its own block, below the
# kernel's ephemeral range: see client_ports).
spread() {
	topo_exec cli timeout 90 "$PY" "$LIB_HTTP" spread "$2" 80 "$3" \
		--sport "$4" --parallel 8 --max-time 80 >"$1" 2>"$TMP/spread.err"
}

# new_flows STATS SERVICE BACKEND: that backend's new_flows counter.
new_flows() {
	q "$1" "d['services']['$2']['backends'].get('$3', {}).get('new_flows', -1)"
}

# hold_start TAG M HOST: M held keep-alive connections, in the background.
hold_start() {
	rm -f "$TMP/stop.$1" "$TMP/ready.$1"
	bg topo_exec cli timeout 120 "$PY" "$LIB_HTTP" hold "$3" 80 "$2" \
		--ready "$TMP/ready.$1" --stop "$TMP/stop.$1" --max-time 100 \
		>"$TMP/hold.$1.json" 2>"$TMP/hold.$1.err"
	HOLD_PID=$!
	wait_file "$TMP/ready.$1" 100
}

# hold_stop TAG: stop the holder started last and wait for its report.
hold_stop() {
	touch "$TMP/stop.$1"
	wait "$HOLD_PID"
}

# ---------------------------------------------------------------- setup

echo "# setup: topology, backends, dataplane (node $NODE)"
setup() {
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
	# A pin an older layout left (layout 3's drop counters): the fresh
	# load must remove it with its own. Placing it needs bpffs before
	# fgxdp would mount it.
	{ mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf; } &&
	mkdir -p "/sys/fs/bpf/floodgate/$NODE" &&
		bpftool map create "/sys/fs/bpf/floodgate/$NODE/fg_drops" \
			type array key 4 value 8 entries 32 name fg_drops ||
		return 1
	lb_load || return 1
	rules "$TMP/r1.json" 1:100:active 2:100:active 3:200:active
	lb_apply "$TMP/r1.json" || return 1
}
if setup; then
	ok "setup (6 backends, fgxdp loaded on lb eth0 native)"
	[ ! -e "/sys/fs/bpf/floodgate/$NODE/fg_drops" ]
	check "a fresh load removes the pin of an older layout's map" $? \
		"fg_drops, layout 3's drop counters"
else
	notok "setup failed"
	lb_finish
fi

# ------------------------------------------------- 1. spread by weight

echo "# 1. spread by weight 100/100/200"
# 1200 connections: with p = 1/4 a backend's count has sigma = 15 (5 % of
# its expected 300); the +-20 % tolerance is 4 sigma, so a correct
# dataplane fails this less than once in 10^4 runs, while a ring that
# ignored weights (400/400/400) is 33 % off for each backend.
N1=1200
lb_stats "$TMP/s1a.json"
spread "$TMP/sp1.json" "$VIP" "$N1" 10000
lb_stats "$TMP/s1b.json"
errs=$(q "$TMP/sp1.json" "d['errors']")
bad=0 detail=""
for i in 1 2 3; do
	w=$([ "$i" = 3 ] && echo 2 || echo 1)
	got=$(q "$TMP/sp1.json" "d['backends'].get('be$i', 0)")
	exp=$((N1 * w / 4))
	dev=$(( (got - exp) * 100 / exp ))
	detail+="be$i $got/$exp (${dev}%) "
	[ "${dev#-}" -le 20 ] || bad=1
done
[ "$errs" = 0 ] || bad=1
check "1 spread 1200 connections by weight within 20%" "$bad" "${detail}errors $errs"
bad=0 detail=""
for i in 1 2 3; do
	got=$(q "$TMP/sp1.json" "d['backends'].get('be$i', 0)")
	a=$(new_flows "$TMP/s1a.json" web "198.19.0.$i:80")
	b=$(new_flows "$TMP/s1b.json" web "198.19.0.$i:80")
	detail+="be$i client $got stats $((b - a)) "
	[ "$((b - a))" = "$got" ] || bad=1
done
check "1 stats new_flows per backend equal the clients' view" "$bad" "$detail"

# ------------------------------------------- 2. adding a backend

echo "# 2. add be4 under held connections"
hold_start add 40 "$VIP"
rules "$TMP/r2.json" 1:100:active 2:100:active 3:200:active 4:100:active
sleep 0.5
lb_apply "$TMP/r2.json"; rc=$?
check "2 apply rule set with be4" $rc "$(cat "$TMP/apply.log")"
sleep 0.5
spread "$TMP/sp2.json" "$VIP" 600 12000
sleep 0.5
hold_stop add
H="$TMP/hold.add.json"
detail=$(q "$H" "'%d conns, %d rounds, on %s; errors %d, moved %d' % (len(d['conns']), d['rounds'], sorted(set(c['backends'][0] for c in d['conns'] if c['backends'])), sum(1 for c in d['conns'] if c['error']), sum(1 for c in d['conns'] if len(c['backends']) > 1))")
good=$(q "$H" "all(not c['error'] and len(c['backends']) == 1 and c['ok'] == d['rounds'] for c in d['conns']) and len(d['conns']) == 40")
check "2 every held connection stays on its backend, no error" "$([ "$good" = True ]; echo $?)" "$detail"
# Expected shares 1:1:2:1 of 600; +-35 % is over 3.5 sigma for be4's 120.
got4=$(q "$TMP/sp2.json" "d['backends'].get('be4', 0)")
errs=$(q "$TMP/sp2.json" "d['errors']")
dev=$(( (got4 - 120) * 100 / 120 ))
check "2 new connections reach be4 (expected 120 of 600, within 35%)" \
	"$([ "${dev#-}" -le 35 ] && [ "$errs" = 0 ]; echo $?)" \
	"$(q "$TMP/sp2.json" "d['backends']"), errors $errs"

# --------------------------------------------------- 3. drain

echo "# 3. drain: be3 state drain, be2 weight 0"
hold_start drain 40 "$VIP"
rules "$TMP/r3.json" 1:100:active 2:0:active 3:200:drain 4:100:active
lb_stats "$TMP/s3a.json"
lb_apply "$TMP/r3.json"; rc=$?
check "3 apply rule set with be2 weight 0, be3 drain" $rc "$(cat "$TMP/apply.log")"
spread "$TMP/sp3.json" "$VIP" 400 13000
lb_stats "$TMP/s3b.json"
sleep 0.3
hold_stop drain
H="$TMP/hold.drain.json"
n23=$(q "$H" "sum(1 for c in d['conns'] if c['backends'][:1] in (['be2'], ['be3']))")
good=$(q "$H" "all(not c['error'] and len(c['backends']) == 1 and c['ok'] == d['rounds'] for c in d['conns'])")
check "3 held connections on drained be2/be3 keep working" \
	"$([ "$good" = True ] && [ "$n23" -gt 0 ]; echo $?)" \
	"$n23 of 40 held on be2/be3, $(q "$H" "d['rounds']") requests each, errors $(q "$H" "sum(1 for c in d['conns'] if c['error'])")"
g2=$(q "$TMP/sp3.json" "d['backends'].get('be2', 0)")
g3=$(q "$TMP/sp3.json" "d['backends'].get('be3', 0)")
errs=$(q "$TMP/sp3.json" "d['errors']")
f2=$(( $(new_flows "$TMP/s3b.json" web 198.19.0.2:80) - $(new_flows "$TMP/s3a.json" web 198.19.0.2:80) ))
f3=$(( $(new_flows "$TMP/s3b.json" web 198.19.0.3:80) - $(new_flows "$TMP/s3a.json" web 198.19.0.3:80) ))
check "3 no new connection reaches a drained backend" \
	"$([ "$g2$g3$f2$f3" = 0000 ] && [ "$errs" = 0 ]; echo $?)" \
	"new: $(q "$TMP/sp3.json" "d['backends']"), errors $errs; new_flows be2 +$f2 be3 +$f3"

# --------------------------------------------------- 4. down

echo "# 4. be1 state down"
rules "$TMP/r4a.json" 1:100:active 2:100:active 3:100:active 4:100:active
lb_apply "$TMP/r4a.json"
hold_start down 40 "$VIP"
rules "$TMP/r4.json" 1:100:down 2:100:active 3:100:active 4:100:active
lb_apply "$TMP/r4.json"; rc=$?
check "4 apply rule set with be1 down" $rc "$(cat "$TMP/apply.log")"
sleep 0.5
spread "$TMP/sp4.json" "$VIP" 400 14000
lb_stats "$TMP/s4.json"
hold_stop down
H="$TMP/hold.down.json"
n1=$(q "$H" "sum(1 for c in d['conns'] if c['backends'][:1] == ['be1'])")
broke=$(q "$H" "sum(1 for c in d['conns'] if c['backends'][:1] == ['be1'] and (c['error'] or len(c['backends']) > 1))")
others=$(q "$H" "all(not c['error'] and len(c['backends']) == 1 for c in d['conns'] if c['backends'][:1] != ['be1'])")
check "4 held connections to be1 break or move, the others stay" \
	"$([ "$n1" -gt 0 ] && [ "$broke" = "$n1" ] && [ "$others" = True ]; echo $?)" \
	"$broke of $n1 on be1 broke ($(q "$H" "sorted(set(c['error'].split(':')[0] for c in d['conns'] if c['error']))")), others intact: $others"
g1=$(q "$TMP/sp4.json" "d['backends'].get('be1', 0)")
errs=$(q "$TMP/sp4.json" "d['errors']")
healthy=$(q "$TMP/s4.json" "d['services']['web']['backends']['198.19.0.1:80']['healthy']")
check "4 new connections avoid be1, stats mark it down" \
	"$([ "$g1" = 0 ] && [ "$errs" = 0 ] && [ "$healthy" = False ]; echo $?)" \
	"new: $(q "$TMP/sp4.json" "d['backends']"), errors $errs, healthy=$healthy"

# --------------------------------------------------- 5. full NAT

echo "# 5. full NAT, VIP port 80 -> backend port 8080"
out=$(topo_exec cli curl -sS --max-time 5 "http://$VIP_NAT/" 2>&1)
read -r nm peer _ lport <<<"$out"
check "5 NAT IPv4: curl through the VIP, backend sees the SNAT address on port 8080" \
	"$([[ "$nm" == be[56] ]] && [ "$peer" = 198.19.255.1 ] && [ "$lport" = 8080 ]; echo $?)" \
	"answer: $out"
out=$(topo_exec cli curl -sS --max-time 5 "http://[$VIP6_NAT]/" 2>&1)
read -r nm peer _ lport <<<"$out"
check "5 NAT IPv6: curl through the VIP, backend sees the SNAT address on port 8080" \
	"$([[ "$nm" == be[56] ]] && [ "$peer" = 2001:db8:19::ff:1 ] && [ "$lport" = 8080 ]; echo $?)" \
	"answer: $out"
spread "$TMP/sp5.json" "$VIP_NAT" 200 15000
check "5 NAT: 200 connections over both backends, all from the SNAT address" \
	"$([ "$(q "$TMP/sp5.json" "d['errors'] == 0 and len(d['backends']) == 2 and list(d['peers']) == ['198.19.255.1']")" = True ]; echo $?)" \
	"$(q "$TMP/sp5.json" "d['backends']") peers $(q "$TMP/sp5.json" "d['peers']") errors $(q "$TMP/sp5.json" "d['errors']")"
# 4 MB both ways through the rewrite: every segment's checksum was updated.
sz=$(topo_exec cli curl -sS --max-time 20 -o /dev/null -w '%{size_download} %{http_code}' \
	"http://$VIP_NAT/big?n=4000000" 2>&1)
check "5 NAT: 4 MB download intact" "$([ "$sz" = "4000000 200" ]; echo $?)" "got $sz"
nat_entries=$(ct_count fg_nat)
check "5 NAT: reverse entries in fg_nat" "$([ "${nat_entries:-0}" -gt 0 ]; echo $?)" \
	"${nat_entries:-?} entries"

# --------------------------------------------------- 6. DSR IPv6, GUE

echo "# 6. DSR over IPv6 (ip6ip6) and GUE"
out=$(topo_exec cli curl -sS --max-time 5 "http://[$VIP6]/" 2>&1)
read -r nm peer _ lport <<<"$out"
check "6 DSR IPv6: curl through the VIP, backend sees the client's own address" \
	"$([[ "$nm" == be[123] ]] && [ "$peer" = 2001:db8:18::100 ]; echo $?)" "answer: $out"
spread "$TMP/sp6.json" "$VIP6" 300 16000
check "6 DSR IPv6: 300 connections over the 3 backends" \
	"$([ "$(q "$TMP/sp6.json" "d['errors'] == 0 and len(d['backends']) == 3 and min(d['backends'].values()) > 50")" = True ]; echo $?)" \
	"$(q "$TMP/sp6.json" "d['backends']") errors $(q "$TMP/sp6.json" "d['errors']")"
spread "$TMP/sp7.json" "$VIP_GUE" 150 17000
check "6 DSR GUE: 150 connections over the 3 backends, client address kept" \
	"$([ "$(q "$TMP/sp7.json" "d['errors'] == 0 and len(d['backends']) == 3 and list(d['peers']) == ['198.18.0.100']")" = True ]; echo $?)" \
	"$(q "$TMP/sp7.json" "d['backends']") peers $(q "$TMP/sp7.json" "d['peers']") errors $(q "$TMP/sp7.json" "d['errors']")"

# ----------------------------------------------------------- 7. unload

echo "# 7. unload: every pin of the dataplane goes, another tool's stays"
# A pin with a retired map's name that is not that map (a hash, not
# layout 3's array): the directory may be shared, so it must stay.
pins=/sys/fs/bpf/floodgate/$NODE
bpftool map create "$pins/fg_drops" type hash key 4 value 8 entries 4 \
	name fg_drops
fgxdp_lb unload >"$TMP/unload7.log" 2>&1
rc=$?
[ "$rc" = 0 ] && LB_LOADED=0
left=$(cd "$pins" 2>/dev/null && echo *)
check "7 unload: only the foreign fg_drops pin is left" \
	"$([ "$rc" = 0 ] && [ "$left" = fg_drops ]; echo $?)" \
	"exit $rc, left: ${left:-nothing} $(cat "$TMP/unload7.log")"

lb_finish
