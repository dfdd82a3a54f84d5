# shellcheck shell=bash
# topo.sh - the test and demo topology, sourced by integration tests and
# scripts/demo.sh. Every address is from 198.18.0.0/15 or 2001:db8::/32 and
# exists only inside the namespaces made here; topo_down removes all of them.
#
#   client (198.18.0.100/24, 2001:db8:18::100/64)   one L2 segment: a bridge
#   lb     (198.18.0.1/24 + 198.19.255.1/16,         in the "sw" namespace
#           2001:db8:18::1/64 + 2001:db8:19::ff:1/64) joins every host
#   be1..N (198.19.0.K/16, 2001:db8:19::K/64, VIPs on lo for DSR)
#
# The appliance is one-armed: XDP on its single interface sends encapsulated
# or NATed packets back out of it (XDP_TX). The client reaches VIPs through
# the appliance (a /32 route, as a router announcing the VIP would), the
# backends reach clients through the appliance's kernel forwarding.
#
# Usage: TOPO=<unique prefix>; FG_XDP_PASS_OBJ=<xdp_pass.bpf.o>;
#        topo_up NBACKENDS; ...; topo_down

TOPO=${TOPO:-fgt$$}

topo_ns() { echo "${TOPO}-$1"; }
topo_exec() { local h=$1; shift; ip netns exec "$(topo_ns "$h")" "$@"; }
# topo_nsenter HOST CMD: run in HOST's network namespace but keep this mount
# namespace. `ip netns exec` remounts /sys, hiding /sys/fs/bpf, and every
# bpffs mount is a new instance: pins made there would vanish with the
# command. The appliance's loader and daemon run this way so their pins
# live in the host's bpffs, as on a real box.
topo_nsenter() { local h=$1; shift; nsenter --net="/var/run/netns/$(topo_ns "$h")" "$@"; }

# topo_link HOST IFNAME: a veth from HOST into the switch bridge.
topo_link() {
	local h=$1 ifn=$2 peer="${1}-p"
	ip link add "$ifn" netns "$(topo_ns "$h")" type veth peer name "$peer" \
		netns "$(topo_ns sw)" || return 1
	topo_exec sw ip link set "$peer" master br0 up
	# Frames the host side sends with XDP_TX or a redirect reach this
	# peer only when it runs NAPI, which an XDP program turns on.
	topo_exec sw ip link set dev "$peer" xdpdrv obj "$FG_XDP_PASS_OBJ" sec xdp ||
		return 1
	# A veth leaves TCP/UDP checksums to "hardware" (CHECKSUM_PARTIAL);
	# a frame that leaves through XDP_TX has no such hardware, so every
	# host computes its own checksums, as a real NIC would.
	topo_exec "$h" ethtool -K "$ifn" tx off >/dev/null || return 1
	topo_exec "$h" ip link set "$ifn" up
	topo_exec "$h" ip link set lo up
}

# topo_up N: client, lb, switch, backends be1..beN.
topo_up() {
	local n=${1:-3} i
	ip netns add "$(topo_ns sw)" || return 1
	topo_exec sw ip link add br0 type bridge
	topo_exec sw ip link set br0 up
	topo_exec sw ip link set lo up
	for h in cli lb; do
		ip netns add "$(topo_ns $h)" || return 1
	done
	topo_link cli eth0 || return 1
	topo_link lb eth0 || return 1
	topo_exec cli ip addr add 198.18.0.100/24 dev eth0
	topo_exec cli ip -6 addr add 2001:db8:18::100/64 dev eth0 nodad
	topo_exec lb ip addr add 198.18.0.1/24 dev eth0
	topo_exec lb ip addr add 198.19.255.1/16 dev eth0
	topo_exec lb ip -6 addr add 2001:db8:18::1/64 dev eth0 nodad
	topo_exec lb ip -6 addr add 2001:db8:19::ff:1/64 dev eth0 nodad
	# No sysctl on the appliance: what a real box needs (forwarding on
	# its interfaces, neighbours of its next hops) the product sets
	# itself (fg_sysctl.h, fg_neigh.h). The topology stands in only for
	# hardware (veth NAPI, checksum offload: topo_link).
	# The client reaches the VIP range through the appliance.
	topo_exec cli ip route add 198.18.0.0/26 via 198.18.0.1 2>/dev/null ||
		topo_exec cli ip route add 198.18.0.10/32 via 198.18.0.1
	topo_exec cli ip route add 198.19.0.0/16 via 198.18.0.1
	topo_exec cli ip -6 route add 2001:db8:18:a::/64 via 2001:db8:18::1
	for i in $(seq 1 "$n"); do
		ip netns add "$(topo_ns be$i)" || return 1
		topo_link "be$i" eth0 || return 1
		topo_exec "be$i" ip addr add "198.19.0.$i/16" dev eth0
		topo_exec "be$i" ip -6 addr add "2001:db8:19::$i/64" dev eth0 nodad
		topo_exec "be$i" ip route add 198.18.0.0/24 via 198.19.255.1
		topo_exec "be$i" ip -6 route add 2001:db8:18::/48 via 2001:db8:19::ff:1
		topo_exec "be$i" sysctl -qw net.ipv4.conf.all.rp_filter=0 \
			net.ipv4.conf.eth0.rp_filter=0 net.ipv4.conf.lo.rp_filter=0
	done
	return 0
}

# topo_vip_on_backends VIP [VIP6] N: hold the VIP on lo of be1..N (DSR).
topo_vip_on_backends() {
	local vip=$1 vip6=$2 n=$3 i
	for i in $(seq 1 "$n"); do
		topo_exec "be$i" ip addr add "$vip/32" dev lo
		[ -n "$vip6" ] && topo_exec "be$i" ip -6 addr add "$vip6/128" dev lo nodad
	done
	return 0
}

# topo_down: delete every namespace of this topology (idempotent).
topo_down() {
	local ns
	for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^${TOPO}-"); do
		ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null
		ip netns del "$ns" 2>/dev/null
	done
	return 0
}

# topo_need_root: exit 77 (skip) unless this can build namespaces.
topo_need_root() {
	if [ "$(id -u)" -ne 0 ]; then
		echo "SKIP: needs root (network namespaces, XDP)"; exit 77
	fi
	command -v ip >/dev/null || { echo "SKIP: iproute2 missing"; exit 77; }
}
