#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# test_decap.sh - end to end: the backend decap program delivers tunnelled
# DSR packets to the VIP on lo.
#
# Two network namespaces joined by a veth pair:
#   $NA "appliance": no addresses; python3 writes hand-built IPIP / GUE
#        frames straight onto its veth with an AF_PACKET socket;
#   $NB "backend":   198.19.0.2/24 and 2001:db8:19::2/64 on its veth, the
#        VIPs 198.18.0.10/32 and 2001:db8::10/128 on lo, a UDP listener on
#        the VIP, and fg-backend-decap attached to the veth.
# A case passes when the listener receives the datagram's unique token
# (or, for the negative cases, does not within a second). Without decap the
# kernel here has no ipip/fou module, so nothing reaches the VIP: the
# baseline case proves the program is what delivers.
#
# Needs root, python3, ip; exits 77 otherwise. Every namespace created is
# deleted on exit, failure included; no traffic leaves the namespaces.
#
# usage: test_decap.sh   (env: FG_DECAP_LOADER = built fg-decap-loader,
#                         FG_BACKEND_DECAP = scripts/fg-backend-decap)
set -u

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SCRIPT=${FG_BACKEND_DECAP:-$here/../../scripts/fg-backend-decap}

skip() {
	echo "SKIP: $*"
	exit 77
}

[ "$(id -u)" = 0 ] || skip "needs root (network namespaces, BPF)"
command -v ip >/dev/null || skip "ip (iproute2) not found"
command -v python3 >/dev/null || skip "python3 not found"
command -v timeout >/dev/null || skip "timeout (coreutils) not found"
[ -x "$SCRIPT" ] || skip "$SCRIPT not found"
if [ -z "${FG_DECAP_LOADER:-}" ]; then
	for c in "$here"/../../build*/xdp/fg-decap-loader; do
		[ -x "$c" ] && FG_DECAP_LOADER=$c && break
	done
fi
if [ -z "${FG_DECAP_LOADER:-}" ] || [ ! -x "$FG_DECAP_LOADER" ]; then
	skip "fg-decap-loader not built (set FG_DECAP_LOADER)"
fi
export FG_DECAP_LOADER

NA=fgdecap-$$-a
NB=fgdecap-$$-b
TMP=$(mktemp -d /tmp/fgdecap-e2e.XXXXXX)
export FG_DECAP_STATE_DIR=$TMP/state

cleanup() {
	ip netns del "$NA" 2>/dev/null
	ip netns del "$NB" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

ip netns add "$NA" || skip "cannot create network namespaces"
ip netns add "$NB" || exit 1
# Created inside $NA with its peer moved to $NB at once: no name ever
# exists in the caller's namespace.
ip -n "$NA" link add va type veth peer name vb netns "$NB" || exit 1
ip -n "$NA" link set lo up
ip -n "$NA" link set va up
ip -n "$NB" link set lo up
ip -n "$NB" addr add 198.19.0.2/24 dev vb
ip -n "$NB" addr add 2001:db8:19::2/64 dev vb nodad
ip -n "$NB" addr add 198.18.0.10/32 dev lo
ip -n "$NB" addr add 2001:db8::10/128 dev lo
ip -n "$NB" link set vb up
MAC_B=$(ip netns exec "$NB" cat /sys/class/net/vb/address) || exit 1

cat > "$TMP/listen.py" <<'EOF'
# listen.py ADDR PORT TOKEN SECONDS READYFILE: exit 0 when a datagram
# carrying TOKEN arrives on ADDR:PORT within SECONDS, 1 otherwise.
import socket, sys, time
addr, port, token, secs, ready = sys.argv[1], int(sys.argv[2]), sys.argv[3].encode(), float(sys.argv[4]), sys.argv[5]
s = socket.socket(socket.AF_INET6 if ':' in addr else socket.AF_INET, socket.SOCK_DGRAM)
s.bind((addr, port))
open(ready, 'w').close()
end = time.monotonic() + secs
while True:
    left = end - time.monotonic()
    if left <= 0:
        sys.exit(1)
    s.settimeout(left)
    try:
        data, peer = s.recvfrom(2048)
    except socket.timeout:
        sys.exit(1)
    if token in data:
        print('received from %s' % (peer[0],))
        sys.exit(0)
EOF

cat > "$TMP/send.py" <<'EOF'
# send.py IFACE DST_MAC KIND OUTER_SRC OUTER_DST INNER_SRC INNER_DST DPORT
#         GUE_PORT TOKEN: write one tunnelled UDP datagram (KIND ipip or
# gue; the families follow from the addresses) onto IFACE.
import socket, struct, sys
iface, dmac, kind, osrc, odst, isrc, idst, dport, gport, token = sys.argv[1:11]
dport, gport = int(dport), int(gport)

def fam(a):
    return 6 if ':' in a else 4

def raw(a):
    return socket.inet_pton(socket.AF_INET6 if fam(a) == 6 else socket.AF_INET, a)

def csum(b):
    if len(b) % 2:
        b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff

def udp(src, dst, sport, dport, data):
    n = 8 + len(data)
    if fam(src) == 4:
        pseudo = raw(src) + raw(dst) + struct.pack('!BBH', 0, 17, n)
    else:
        pseudo = raw(src) + raw(dst) + struct.pack('!I3xB', n, 17)
    c = csum(pseudo + struct.pack('!HHHH', sport, dport, n, 0) + data) or 0xffff
    return struct.pack('!HHHH', sport, dport, n, c) + data

def ip(src, dst, proto, payload):
    if fam(src) == 4:
        h = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(payload), 1, 0x4000,
                        64, proto, 0, raw(src), raw(dst))
        return h[:10] + struct.pack('!H', csum(h)) + h[12:] + payload
    return struct.pack('!IHBB16s16s', 0x60000000, len(payload), proto, 64,
                       raw(src), raw(dst)) + payload

inner = ip(isrc, idst, 17, udp(isrc, idst, 40000, dport, token.encode()))
if kind == 'ipip':
    outer = ip(osrc, odst, 4 if fam(isrc) == 4 else 41, inner)
else:
    outer = ip(osrc, odst, 17, udp(osrc, odst, 50000, gport, inner))
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((iface, 0))
src_mac = s.getsockname()[4]
etype = 0x0800 if fam(osrc) == 4 else 0x86dd
s.send(bytes.fromhex(dmac.replace(':', '')) + src_mac + struct.pack('!H', etype) + outer)
EOF

fails=0 passes=0 seq=0

# run_case NAME EXPECT KIND OUTER_DST INNER_FAMILY [GUE_PORT]
# EXPECT 1: the VIP's listener must get the datagram; 0: must not.
run_case() {
	local name=$1 expect=$2 kind=$3 odst=$4 ifam=$5 gport=${6:-6080}
	local osrc vip isrc token ready tries got
	seq=$((seq + 1))
	case "$odst" in
	*:*) osrc=2001:db8:19:ff::1 ;;
	*) osrc=198.19.255.1 ;;
	esac
	if [ "$ifam" = 6 ]; then
		vip=2001:db8::10 isrc=2001:db8::100
	else
		vip=198.18.0.10 isrc=198.18.0.100
	fi
	token=fgdecap-$$-$seq-$name
	ready=$TMP/ready.$seq
	ip netns exec "$NB" timeout 10 python3 "$TMP/listen.py" "$vip" 9000 \
		"$token" "$([ "$expect" = 1 ] && echo 5 || echo 1)" "$ready" \
		> "$TMP/out.$seq" 2>&1 &
	local lpid=$!
	for ((tries = 0; tries < 50; tries++)); do
		[ -e "$ready" ] && break
		sleep 0.1
	done
	if [ ! -e "$ready" ]; then
		echo "FAIL $name: listener did not start"; cat "$TMP/out.$seq"
		kill "$lpid" 2>/dev/null; wait "$lpid" 2>/dev/null
		fails=$((fails + 1))
		return
	fi
	if ! ip netns exec "$NA" timeout 10 python3 "$TMP/send.py" va "$MAC_B" \
		"$kind" "$osrc" "$odst" "$isrc" "$vip" 9000 "$gport" "$token"; then
		echo "FAIL $name: sending failed"
		kill "$lpid" 2>/dev/null; wait "$lpid" 2>/dev/null
		fails=$((fails + 1))
		return
	fi
	if wait "$lpid"; then got=1; else got=0; fi
	if [ "$got" = "$expect" ]; then
		echo "ok   $name ($([ "$got" = 1 ] && echo delivered || echo not delivered))"
		passes=$((passes + 1))
	else
		echo "FAIL $name: expected $([ "$expect" = 1 ] && echo delivery ||
			echo no delivery), got the opposite"
		cat "$TMP/out.$seq"
		fails=$((fails + 1))
	fi
}

# expect_counter NAME VALUE: the status line shows NAME=VALUE.
expect_counter() {
	local status
	status=$(ip netns exec "$NB" "$SCRIPT" status vb 2>&1)
	if grep -q "[ ]$1=$2\b" <<<"$status"; then
		echo "ok   counter $1=$2"
		passes=$((passes + 1))
	else
		echo "FAIL counter $1: expected $2"; echo "$status"
		fails=$((fails + 1))
	fi
}

# check NAME CMD...: CMD must succeed.
check() {
	local name=$1
	shift
	if "$@" > "$TMP/check.out" 2>&1; then
		echo "ok   $name"
		passes=$((passes + 1))
	else
		echo "FAIL $name"; cat "$TMP/check.out"
		fails=$((fails + 1))
	fi
}

echo "# baseline: no decap program"
run_case baseline-ipip4 0 ipip 198.19.0.2 4

echo "# XDP native"
check "attach xdp" ip netns exec "$NB" "$SCRIPT" attach vb
check "attach is idempotent" ip netns exec "$NB" "$SCRIPT" attach vb
check "xdp program on vb" sh -c "ip -n $NB link show vb | grep -q 'prog/xdp'"
check "rp_filter=0 on vb" sh -c "[ \$(ip netns exec $NB sysctl -n net.ipv4.conf.vb.rp_filter) = 0 ]"
check "arp_ignore=1 on vb" sh -c "[ \$(ip netns exec $NB sysctl -n net.ipv4.conf.vb.arp_ignore) = 1 ]"
run_case xdp-ipip-4in4 1 ipip 198.19.0.2 4
run_case xdp-ip6ip6 1 ipip 2001:db8:19::2 6
run_case xdp-ipip-4in6 1 ipip 2001:db8:19::2 4
run_case xdp-ipip-6in4 1 ipip 198.19.0.2 6
run_case xdp-gue-4in4 1 gue 198.19.0.2 4
run_case xdp-gue-6in6 1 gue 2001:db8:19::2 6
run_case xdp-ipip-not-local 0 ipip 198.19.0.99 4
run_case xdp-gue-other-port 0 gue 198.19.0.2 4 6081
expect_counter decapped_ipip 4
expect_counter decapped_gue 2

echo "# TC (clsact ingress), GUE port 7777"
check "attach tc" ip netns exec "$NB" "$SCRIPT" attach vb --tc --gue-port 7777
check "xdp program gone after switching to tc" \
	sh -c "! ip -n $NB link show vb | grep -q 'prog/xdp'"
check "tc filter on vb" sh -c "tc -n $NB filter show dev vb ingress | grep -q fg_decap_tc"
run_case tc-ipip-4in4 1 ipip 198.19.0.2 4
run_case tc-ip6ip6 1 ipip 2001:db8:19::2 6
run_case tc-ipip-4in6 1 ipip 2001:db8:19::2 4
run_case tc-ipip-6in4 1 ipip 198.19.0.2 6
run_case tc-gue-4in4 1 gue 198.19.0.2 4 7777
run_case tc-gue-6in6 1 gue 2001:db8:19::2 6 7777
run_case tc-gue-old-port 0 gue 198.19.0.2 4 6080
run_case tc-ipip-not-local 0 ipip 198.19.0.99 4
expect_counter decapped_ipip 4
expect_counter decapped_gue 2

echo "# XDP generic, extra tunnel address"
check "attach generic" ip netns exec "$NB" "$SCRIPT" attach vb --generic --addr 198.19.255.20
run_case generic-ipip-4in4 1 ipip 198.19.0.2 4
run_case generic-ipip-extra-addr 1 ipip 198.19.255.20 4
run_case generic-gue-6in4 1 gue 198.19.0.2 6
expect_counter decapped_ipip 2
expect_counter decapped_gue 1

echo "# detach"
check "detach" ip netns exec "$NB" "$SCRIPT" detach vb
check "detach again is fine" ip netns exec "$NB" "$SCRIPT" detach vb
check "status says not attached (exit 3)" \
	sh -c "ip netns exec $NB $SCRIPT status vb; [ \$? = 3 ]"
check "arp_ignore restored" sh -c "[ \$(ip netns exec $NB sysctl -n net.ipv4.conf.vb.arp_ignore) = 0 ]"
run_case detached-ipip4 0 ipip 198.19.0.2 4

echo "# $passes passed, $fails failed"
[ "$fails" = 0 ]
