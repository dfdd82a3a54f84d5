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

# ---------------------------------------------------------------- setup

echo "# setup: topology, backends, dataplane (node $NODE)"
setup() {
	lb_backends || return 1
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
phase_weights lb_stats stats

# ------------------------------------------- 2. adding a backend

echo "# 2. add be4 under held connections"
add_be4() {
	rules "$TMP/r2.json" 1:100:active 2:100:active 3:200:active 4:100:active
	sleep 0.5
	lb_apply "$TMP/r2.json"
	check "2 apply rule set with be4" $? "$(cat "$TMP/apply.log")"
	sleep 0.5
}
phase_add add_be4

# --------------------------------------------------- 3. drain

echo "# 3. drain: be3 state drain, be2 weight 0"
drain_be23() {
	rules "$TMP/r3.json" 1:100:active 2:0:active 3:200:drain 4:100:active
	lb_apply "$TMP/r3.json"
	check "3 apply rule set with be2 weight 0, be3 drain" $? "$(cat "$TMP/apply.log")"
}
phase_drain drain_be23 lb_stats

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
check_answer "5 NAT IPv4: curl through the VIP, backend sees the SNAT address on port 8080" \
	"http://$VIP_NAT/" 'be[56]' 198.19.255.1 8080
check_answer "5 NAT IPv6: curl through the VIP, backend sees the SNAT address on port 8080" \
	"http://[$VIP6_NAT]/" 'be[56]' 2001:db8:19::ff:1 8080
check_spread "5 NAT: 200 connections over both backends, all from the SNAT address" \
	"$TMP/sp5.json" "$VIP_NAT" 200 15000 \
	"d['errors'] == 0 and len(d['backends']) == 2 and list(d['peers']) == ['198.19.255.1']"
# 4 MB both ways through the rewrite: every segment's checksum was updated.
check_download "5 NAT: 4 MB download intact" 20
nat_entries=$(ct_count fg_nat)
check "5 NAT: reverse entries in fg_nat" "$([ "${nat_entries:-0}" -gt 0 ]; echo $?)" \
	"${nat_entries:-?} entries"

# --------------------------------------------------- 6. DSR IPv6, GUE

echo "# 6. DSR over IPv6 (ip6ip6) and GUE"
check_answer "6 DSR IPv6: curl through the VIP, backend sees the client's own address" \
	"http://[$VIP6]/" 'be[123]' 2001:db8:18::100
check_spread "6 DSR IPv6: 300 connections over the 3 backends" \
	"$TMP/sp6.json" "$VIP6" 300 16000 \
	"d['errors'] == 0 and len(d['backends']) == 3 and min(d['backends'].values()) > 50"
check_spread "6 DSR GUE: 150 connections over the 3 backends, client address kept" \
	"$TMP/sp7.json" "$VIP_GUE" 150 17000 \
	"d['errors'] == 0 and len(d['backends']) == 3 and list(d['peers']) == ['198.18.0.100']"

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
