#!/usr/bin/env bash
# The main job: build the appliance on a network-namespace topology and show
# it balancing, draining and limiting real HTTP traffic, driven only through
# floodgated's API (fgctl). Removes everything it created when it ends,
# whichever way it ends.
#
#   client 198.18.0.100, .101 --> appliance (floodgated + XDP) --> be1..be3
#                                 VIP 198.18.0.10:80, DSR over IPIP
#
# With --dataplane dpdk the appliance is floodgated driving floodgate-dpdk,
# which owns the appliance's eth0 through net_af_xdp; the appliance's own
# addresses live on the dataplane's exception interface fg0.
#
# Needs root (namespaces, XDP). Installs dependencies and builds first
# (into build/, or $FG_BUILD_DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

usage() {
	cat <<EOF
usage: scripts/demo.sh [--dataplane xdp|dpdk]
  --dataplane xdp    floodgated with the XDP dataplane on the appliance's
                     eth0 (the default)
  --dataplane dpdk   floodgated driving floodgate-dpdk, which owns the
                     appliance's eth0 through net_af_xdp (one worker lcore)
EOF
}
DATAPLANE=xdp
while [ $# -gt 0 ]; do
	case $1 in
	--dataplane)
		[ $# -ge 2 ] || { usage >&2; exit 2; }
		DATAPLANE=$2
		shift 2
		;;
	--dataplane=*) DATAPLANE=${1#--dataplane=}; shift ;;
	-h | --help) usage; exit 0 ;;
	*) echo "demo.sh: unknown argument: $1" >&2; usage >&2; exit 2 ;;
	esac
done
case $DATAPLANE in
xdp | dpdk) ;;
*) echo "demo.sh: --dataplane: xdp or dpdk, not $DATAPLANE" >&2; exit 2 ;;
esac

if [ "$(id -u)" -ne 0 ]; then
	echo "demo.sh: needs root (network namespaces, XDP)" >&2
	exit 1
fi
BUILD=${FG_BUILD_DIR:-build}
case $BUILD in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
bash scripts/build.sh "$BUILD" >/dev/null
FLOODGATE_DPDK="$BUILD/dataplane/dpdk/floodgate-dpdk"
if [ "$DATAPLANE" = dpdk ] && [ ! -x "$FLOODGATE_DPDK" ]; then
	echo "demo.sh: $FLOODGATE_DPDK was not built (DPDK missing?)" >&2
	exit 1
fi

export TOPO="fgdemo$$"
export FG_XDP_PASS_OBJ="$BUILD/tests/integration/xdp_pass.o"
export FG_DECAP_LOADER="$BUILD/xdp/fg-decap-loader"
# shellcheck source=../tests/integration/topo.sh
source tests/integration/topo.sh

WORK=$(mktemp -d /tmp/fgdemo.XXXXXX)
NODE="demo$$"
FLOODGATED="$BUILD/controlplane/floodgated"
FGCTL="$BUILD/controlplane/fgctl"
DAEMON_PID=""
DPDK_PID=""

cleanup() {
	set +e
	if [ -n "$DAEMON_PID" ]; then
		kill -TERM "$DAEMON_PID" 2>/dev/null
		wait "$DAEMON_PID" 2>/dev/null
	fi
	if [ -n "$DPDK_PID" ]; then
		kill -TERM "$DPDK_PID" 2>/dev/null
		wait "$DPDK_PID" 2>/dev/null
	fi
	[ "$DATAPLANE" = xdp ] && [ -f "$WORK/floodgate.conf" ] &&
		topo_nsenter lb "$FLOODGATED" --detach -c "$WORK/floodgate.conf" >/dev/null 2>&1
	topo_down
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
fgctl() { topo_nsenter lb "$FGCTL" "$@"; }

# requests N SRC: N sequential HTTP requests to the VIP from SRC; prints
# which backend answered each, counted.
requests() {
	local n=$1 src=$2 i
	for i in $(seq 1 "$n"); do
		topo_exec cli curl -s -m 2 --interface "$src" http://198.18.0.10/ || echo "(failed)"
	done | sort | uniq -c | sed 's/^/    /'
}

say "Topology: client, appliance, three backends (namespaces ${TOPO}-*)"
topo_up 3 >/dev/null
topo_exec cli ip addr add 198.18.0.101/24 dev eth0
topo_vip_on_backends 198.18.0.10 "" 3
for i in 1 2 3; do
	# Backends decapsulate IPIP with Floodgate's own program: the VIP sits
	# on their lo and they answer clients directly (DSR).
	topo_exec "be$i" "$ROOT/scripts/fg-backend-decap" attach eth0 >/dev/null
	topo_exec "be$i" python3 -c '
import http.server, socketserver, sys
name = sys.argv[1]
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = ("hello from %s\n" % name).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
S(("0.0.0.0", 80), H).serve_forever()
' "be$i" >/dev/null 2>&1 &
done
echo "    client 198.18.0.100 and .101; appliance 198.18.0.1; backends 198.19.0.1-3"

if [ "$DATAPLANE" = dpdk ]; then
	say "Starting floodgate-dpdk on the appliance: it owns eth0 (net_af_xdp), fg0 is the box's"
	# Backends answer clients over the segment, as through their own
	# gateway: a DPDK box does not route their replies in its kernel.
	for i in 1 2 3; do
		topo_exec "be$i" ip route replace 198.18.0.0/24 dev eth0
	done
	topo_exec lb ip addr flush dev eth0
	mkdir -p "$WORK/run"
	chmod 0700 "$WORK/run"
	# One worker lcore that sleeps when idle (adaptive polling), the
	# tunnel source 198.19.255.1, routes to both sides out of port 0.
	nsenter --net="/var/run/netns/$(topo_ns lb)" "$FLOODGATE_DPDK" \
		--no-huge -m 512 --no-pci --no-shconf --log-level=error -l 0-1 \
		--vdev net_af_xdp0,iface=eth0 -- \
		--control "$WORK/run/dpdk.sock" --seed-file "$WORK/run/seed" \
		--tunnel-src4 198.19.255.1 \
		--route 198.19.0.0/16@0 --route 198.18.0.0/24@0 \
		>"$WORK/floodgate-dpdk.log" 2>&1 &
	DPDK_PID=$!
	for _ in $(seq 1 150); do
		grep -q "; running" "$WORK/floodgate-dpdk.log" && break
		kill -0 "$DPDK_PID" 2>/dev/null || { cat "$WORK/floodgate-dpdk.log"; exit 1; }
		sleep 0.2
	done
	grep "^floodgate-dpdk:" "$WORK/floodgate-dpdk.log" | sed 's/^/    /'
	# The box's addresses move from the NIC (DPDK's now) to fg0.
	topo_exec lb ip addr add 198.18.0.1/24 dev fg0
	topo_exec lb ip addr add 198.19.255.1/16 dev fg0
	topo_exec lb ip -br addr show fg0 | sed 's/^/    /'
	DP_CONF="dataplane = { kind = \"dpdk\"; control_socket = \"$WORK/run/dpdk.sock\"; };"
	say "Starting floodgated on the appliance (embedded rule store, driving floodgate-dpdk)"
else
	DP_CONF='dataplane = { kind = "xdp"; interfaces = ["eth0"]; };'
	say "Starting floodgated on the appliance (embedded rule store, XDP on eth0)"
fi
cat > "$WORK/floodgate.conf" <<EOF
node = { name = "$NODE"; group = "default"; };
api = { listen = "127.0.0.1:7380"; };
store = { kind = "embedded"; data_dir = "$WORK/data"; };
$DP_CONF
EOF
# nsenter execs the daemon, so $! is floodgated itself (a shell function
# in the background would be a subshell that SIGTERM does not reach).
nsenter --net="/var/run/netns/$(topo_ns lb)" "$FLOODGATED" -c "$WORK/floodgate.conf" \
	>"$WORK/floodgated.log" 2>&1 &
DAEMON_PID=$!
for _ in $(seq 1 100); do
	fgctl status >/dev/null 2>&1 && break
	kill -0 "$DAEMON_PID" 2>/dev/null || { cat "$WORK/floodgated.log"; exit 1; }
	sleep 0.2
done
fgctl status

say "fgctl service set web: VIP 198.18.0.10:80, three backends, HTTP health checks"
fgctl service set web --vip 198.18.0.10 --port 80 --proto tcp \
	--backend 198.19.0.1 --backend 198.19.0.2 --backend 198.19.0.3 \
	--health http --health-interval 500
fgctl service get web

say "60 HTTP requests from the client: Maglev spreads them over the backends"
requests 60 198.18.0.100

say "fgctl backend drain web 198.19.0.3: no new connections for be3"
fgctl backend drain web 198.19.0.3
requests 60 198.18.0.100

say "fgctl limit set perip: 10 new connections/s per source, burst 10, answered with RST"
fgctl limit set perip --service web --key src_ip --unit cps --rate 10 --burst 10 \
	--action reset
echo "    100 connections opened at once from 198.18.0.101, then 1 s later 10 more:"
topo_exec cli python3 -c '
import errno, socket, time
def burst(n):
    socks = []
    for _ in range(n):
        s = socket.socket()
        s.bind(("198.18.0.101", 0))
        s.setblocking(False)
        s.connect_ex(("198.18.0.10", 80))
        socks.append(s)
    time.sleep(0.5)
    ok = refused = other = 0
    for s in socks:
        e = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if e == 0:
            ok += 1
        elif e == errno.ECONNREFUSED:
            refused += 1
        else:
            other += 1
        s.close()
    print("    %3d connected, %3d refused with a TCP reset by the appliance%s"
          % (ok, refused, ", %d other" % other if other else ""))
burst(100)
time.sleep(0.5)
burst(10)
'

say "fgctl stats: the dataplane's counters"
fgctl stats

say "Done: removing the namespaces, the daemon and the dataplane"
