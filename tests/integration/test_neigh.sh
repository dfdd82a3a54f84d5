#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# test_neigh.sh - the appliance on a box as it comes: empty neighbour
# tables, the kernel's default sysctls, services without health checks
# (nothing else fills the tables), driven by fgxdp.
#
#   1  before load: the appliance's sysctls are the defaults
#      (accept_local 0, no forwarding), its neighbour table empty
#   2  load sets forwarding on eth0 (and nothing the bug report names as
#      a workaround: accept_local stays 0); apply makes a managed entry
#      of ours (proto 246) for every backend, NAT and DSR, both families
#   3  the first connection to each service succeeds, and then 300
#      sequential ones to NAT and to DSR, with no no_neigh drop
#   4  a gateway toward clients (a route out of eth0 via the client)
#      gets a managed entry, and a client behind it is answered
#   5  more next hops than gc_thresh3 holds (1100 NAT backends): the
#      thresholds grow by what the rules need, every entry is made;
#      shrinking the rule set deletes ours and shrinks them back
#   6  unload: the sysctls are back to their old values, our entries
#      are gone, the kernel-wide thresholds are the originals
#
# Topology (topo.sh): cli, lb, sw, be1..be3. be1 and be2 are DSR (IPIP)
# backends (VIP on lo, fg-backend-decap); be3 a NAT backend on 8080.
#
# Needs root; exits 77 (skip) without it or without the built tools.
# Everything made here is removed on exit, whatever the outcome. The
# neighbour thresholds are kernel-wide: step 5 raises them for a few
# seconds and unload gives them back. About 30 s.
set -u

# shellcheck source=lib_lb.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib_lb.sh"
lb_init fgnb

VIP=198.18.0.10
VIP_NAT=198.18.0.11
VIP6_NAT=2001:db8:18:a::11
THRESH=/proc/sys/net/ipv4/neigh/default/gc_thresh
THRESH6=/proc/sys/net/ipv6/neigh/default/gc_thresh

# rules FILE [EXTRA]: DSR on be1/be2, NAT (both families) on be3; EXTRA
# more NAT backends in 198.19.16.0/20 that do not exist (step 5).
rules() {
	local f=$1 extra=${2:-0} i
	{
		cat <<EOF
{"services": {
 "dsr": {"vip": "$VIP", "port": 80, "proto": "tcp", "forward": "dsr-ipip", "backends": [
  {"addr": "198.19.0.1", "port": 80}, {"addr": "198.19.0.2", "port": 80}]},
 "nat6": {"vip": "$VIP6_NAT", "port": 80, "proto": "tcp", "forward": "nat", "backends": [
  {"addr": "2001:db8:19::3", "port": 8080}]},
 "nat": {"vip": "$VIP_NAT", "port": 80, "proto": "tcp", "forward": "nat", "backends": [
  {"addr": "198.19.0.3", "port": 8080}
EOF
		for ((i = 0; i < extra; i++)); do
			printf ' ,{"addr": "198.19.%d.%d", "port": 8080, "weight": 1}\n' \
				$((16 + i / 250)) $((1 + i % 250))
		done
		echo ']}}, "limits": {}}'
	} >"$f"
}

# lbsys KEY...: the appliance's values of sysctl KEYs, one line.
lbsys() {
	topo_exec lb sysctl -n "$@" | tr '\n' ' '
}

# ours: the appliance's neighbour entries of protocol 246 (Floodgate's).
ours() {
	topo_exec lb ip -d neigh show nud all | grep -E ' proto (246|0xf6)( |$)'
}

thresholds() {
	cat "${THRESH}1" "${THRESH}2" "${THRESH}3" "${THRESH6}1" "${THRESH6}2" \
		"${THRESH6}3" | tr '\n' ' ' | sed 's/ $//'
}

SYSCTLS=(net.ipv4.conf.eth0.forwarding net.ipv6.conf.eth0.forwarding
	net.ipv6.conf.eth0.accept_ra net.ipv4.conf.all.accept_local
	net.ipv4.conf.eth0.accept_local net.ipv4.ip_forward)
[ -e /proc/sys/net/ipv6/conf/lo/force_forwarding ] &&
	SYSCTLS+=(net.ipv6.conf.eth0.force_forwarding)

# ---------------------------------------------------------------- setup

echo "# setup: topology, backends (node $NODE)"
setup() {
	local i
	topo_up 3 || return 1
	topo_vip_on_backends "$VIP" "" 2 || return 1
	for i in 1 2; do
		decap "be$i" || return 1
		serve "be$i" "be$i" 80 || return 1
	done
	serve be3 be3 8080 || return 1
	client_ports 40000 60999
	# A box configured by SLAAC: accept_ra 1, which forwarding would
	# silently turn off.
	topo_exec lb sysctl -qw net.ipv6.conf.eth0.accept_ra=1
}
if setup; then
	ok "setup (3 backends, nothing loaded)"
else
	notok "setup failed"
	lb_finish
fi

# ------------------------------------------------------------ 1. before

echo "# 1. the box as it comes"
topo_exec lb ip neigh flush all
topo_exec cli ip neigh flush all
BEFORE=$(lbsys "${SYSCTLS[@]}")
TH_BEFORE=$(thresholds)
# Multicast entries (NOARP) are no neighbours to resolve; flush keeps them.
n=$(topo_exec lb ip neigh show nud all | grep -cvE 'FAILED|NOARP')
check "1 default sysctls on the appliance, empty neighbour table" \
	"$(case "$BEFORE" in "0 0 1 0 0 0"*) [ "$n" = 0 ];; *) false;; esac; echo $?)" \
	"eth0 forwarding v4/v6, accept_ra, accept_local all/eth0, ip_forward: $BEFORE; $n entries"

# ----------------------------------------------------- 2. load and apply

echo "# 2. load, apply"
lb_load; rc=$?
AFTER=$(lbsys "${SYSCTLS[@]}")
check "2 load sets forwarding and accept_ra 2 on eth0, leaves accept_local 0" \
	"$([ "$rc" = 0 ] && case "$AFTER" in "1 1 2 0 0 0"*) true;; *) false;; esac; echo $?)" \
	"$AFTER; $(grep sysctl "$TMP/load.log" | tr '\n' ';')"
[ -s "/run/floodgate/$NODE/sysctl.saved" ] &&
	[ "$(stat -c %a "/run/floodgate/$NODE/sysctl.saved")" = 600 ]
check "2 the originals are saved, mode 0600" $? "/run/floodgate/$NODE/sysctl.saved"
# A second load (adopting) must not take our values for the originals.
fgxdp_lb load --dev eth0 >"$TMP/load2.log" 2>&1
check "2 a second load changes nothing and keeps the originals" \
	"$(! grep -q 'sysctl' "$TMP/load2.log" && grep -q '^net/ipv4/conf/eth0/forwarding 0 1$' \
		"/run/floodgate/$NODE/sysctl.saved"; echo $?)" "$(tr '\n' ';' <"$TMP/load2.log")"
# Another owner's entry (an operator's static one) on the same interface:
# no sync or unload may touch it.
topo_exec lb ip neigh add 198.19.0.200 lladdr 02:00:00:00:00:c8 dev eth0 nud permanent
rules "$TMP/r1.json"
lb_apply "$TMP/r1.json"; rc=$?
sleep 0.3
ours >"$TMP/ours1"
bad=0
for a in 198.19.0.1 198.19.0.2 198.19.0.3 2001:db8:19::3; do
	grep -E "^$a dev eth0 .*managed" "$TMP/ours1" >/dev/null || bad=1
done
check "2 apply: managed entries of ours for the DSR and NAT backends" \
	"$([ "$rc" = 0 ] && [ "$bad" = 0 ]; echo $?)" \
	"$(tr '\n' ';' <"$TMP/ours1") $(grep neighbours "$TMP/apply.log")"

# ------------------------------------------------------- 3. connections

echo "# 3. first connection, then 300 sequential ones"
for v in "$VIP" "$VIP_NAT" "[$VIP6_NAT]"; do
	out=$(topo_exec cli curl -sS --max-time 5 "http://$v/" 2>&1)
	check "3 first connection to $v" "$([[ "$out" == be* ]]; echo $?)" "answer: $out"
done
lb_stats "$TMP/s3a.json"
topo_exec cli timeout 120 "$PY" "$LIB_HTTP" spread "$VIP" 80 300 --sport 10000 \
	--parallel 1 --max-time 100 >"$TMP/sp_dsr.json" 2>"$TMP/spread.err"
check "3 DSR: 300 sequential connections" \
	"$([ "$(q "$TMP/sp_dsr.json" "d['errors'] == 0 and sum(d['backends'].values()) == 300")" = True ]; echo $?)" \
	"$(q "$TMP/sp_dsr.json" "d['backends']") errors $(q "$TMP/sp_dsr.json" "d['errors']")"
topo_exec cli timeout 120 "$PY" "$LIB_HTTP" spread "$VIP_NAT" 80 300 --sport 11000 \
	--parallel 1 --max-time 100 >"$TMP/sp_nat.json" 2>"$TMP/spread.err"
check "3 NAT: 300 sequential connections" \
	"$([ "$(q "$TMP/sp_nat.json" "d['errors'] == 0 and d['backends'].get('be3') == 300")" = True ]; echo $?)" \
	"$(q "$TMP/sp_nat.json" "d['backends']") errors $(q "$TMP/sp_nat.json" "d['errors']")"
lb_stats "$TMP/s3b.json"
nn=$(q "$TMP/s3b.json" "d['drops'].get('no_neigh', 0)")
check "3 no packet dropped for an unresolved neighbour" "$([ "$nn" = 0 ]; echo $?)" \
	"no_neigh $nn"

# ------------------------------------------------- 4. gateway to clients

echo "# 4. a gateway toward clients"
topo_exec cli ip addr add 198.18.2.100/32 dev eth0
topo_exec lb ip route add 198.18.2.0/24 via 198.18.0.100 dev eth0
topo_exec lb ip neigh flush all nud stale nud reachable nud delay nud probe
lb_apply "$TMP/r1.json"; rc=$?
sleep 0.3
ours >"$TMP/ours4"
check "4 the gateway of a route out of eth0 gets a managed entry" \
	"$([ "$rc" = 0 ] && grep -qE '^198\.18\.0\.100 dev eth0 .*managed' "$TMP/ours4"; echo $?)" \
	"$(tr '\n' ';' <"$TMP/ours4")"
out=$(topo_exec cli curl -sS --max-time 5 --interface 198.18.2.100 "http://$VIP_NAT/" 2>&1)
check "4 NAT answers a client behind that gateway" "$([[ "$out" == be3* ]]; echo $?)" \
	"answer: $out"

# -------------------------------------------------- 5. thresholds grow

echo "# 5. 1100 more next hops than the table's default holds"
rules "$TMP/r5.json" 1100
lb_apply "$TMP/r5.json"; rc=$?
want=$(sed -n 's/^neighbours: \([0-9]*\) next hops.*/\1/p' "$TMP/apply.log")
read -r t1 t2 t3 _ _ u3 <<<"$TH_BEFORE"
read -r g1 g2 g3 v1 v2 v3 <<<"$(thresholds)"
n=$(ours | grep -c managed)
check "5 gc_thresh1/2/3 (v4, v6) grow by the next hops the rules name" \
	"$([ "$rc" = 0 ] && [ "${want:-0}" -gt 1100 ] && [ "$g3" = $((t3 + want)) ] &&
	   [ "$g1" = $((t1 + want)) ] && [ "$g2" = $((t2 + want)) ] && [ "$v3" = $((u3 + want)) ]; echo $?)" \
	"before $TH_BEFORE, now $g1 $g2 $g3 $v1 $v2 $v3 for ${want:-?} next hops"
check "5 every one of them has its managed entry (more than gc_thresh3 held before)" \
	"$([ "$n" -ge "${want:-1}" ] && [ "$n" -gt 1100 ]; echo $?)" \
	"$n entries of ours, $(grep neighbours "$TMP/apply.log")"
lb_apply "$TMP/r1.json"; rc=$?
n=$(ours | grep -c managed)
read -r g1 g2 g3 _ <<<"$(thresholds)"
check "5 the smaller rule set deletes ours and shrinks the thresholds" \
	"$([ "$rc" = 0 ] && [ "$n" = 5 ] && [ "$g3" = $((t3 + 5)) ]; echo $?)" \
	"$n entries of ours, gc_thresh3 $g3"

# ------------------------------------------------------------ 6. unload

echo "# 6. unload"
fgxdp_lb unload >"$TMP/unload6.log" 2>&1
rc=$?
# shellcheck disable=SC2034 # lib_lb.sh's cleanup reads it
[ "$rc" = 0 ] && LB_LOADED=0
NOW=$(lbsys "${SYSCTLS[@]}")
check "6 unload gives the sysctls back" \
	"$([ "$rc" = 0 ] && [ "$NOW" = "$BEFORE" ]; echo $?)" \
	"before: $BEFORE after: $NOW; $(tr '\n' ';' <"$TMP/unload6.log")"
n=$(ours | wc -l)
check "6 unload removes our managed entries, and only ours" \
	"$([ "$n" = 0 ] && topo_exec lb ip neigh show 198.19.0.200 | grep -q PERMANENT; echo $?)" \
	"$n left of ours; $(topo_exec lb ip neigh show | tr '\n' ';')"
check "6 unload gives the kernel-wide thresholds back" \
	"$([ "$(thresholds)" = "$TH_BEFORE" ] && [ ! -e "/run/floodgate/$NODE/sysctl.saved" ]; echo $?)" \
	"before $TH_BEFORE, now $(thresholds)"

lb_finish
