#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# test_daemon.sh - floodgated end to end: the daemon (embedded etcd, XDP
# dataplane) on the appliance of the shared topology (topo.sh), driven
# through its REST API and fgctl, with real traffic from the client
# namespace to DSR backends.
#
#   1  kill -9 and restart under a UDP stream: 20,000 datagrams at
#      2,000/s with sequence numbers; every one reaches a backend (after
#      a 4,000-datagram control run without a kill, which must lose
#      nothing either); the restarted daemon reports the dataplane
#      adopted and the same rules_version/applied_version
#   2  rule changes under traffic (add a backend, change weights, add a
#      limit that matches nobody, add a service): 24 keep-alive TCP
#      connections asking every 50 ms are never reset or stalled and stay
#      on their backends; new connections follow the new rules
#   3  health: a backend whose server stops leaves the ring (stats and
#      traffic) within fall x interval + one interval, and returns within
#      rise x interval + one interval of the server's restart; the
#      measured times are printed
#   4  fgctl against the daemon: status, service set/get/ls/rm, backend
#      add/drain/rm, limit set/ls/rm, apply -f, config get, stats, nodes,
#      conditional writes, and its exit codes (0 ok, 1 API error, 2 usage,
#      3 unreachable)
#   5  SIGTERM leaves the dataplane forwarding; floodgated --detach
#      removes it and its pins
#
# Topology: cli, lb, sw, be1..be4 (topo.sh). be1..be4 hold the VIP on lo,
# run fg-backend-decap on eth0, an HTTP server (lib_http.py) on port 80
# and a UDP sink on port 5000. The daemon runs in lb's network namespace
# but the host's mount namespace (topo_nsenter), so its pins land in the
# host's /sys/fs/bpf.
#
# env: FLOODGATED, FGCTL, FG_XDP_PASS_OBJ, FG_DECAP_LOADER (each found in
# a build directory of the source tree when unset).
#
# Needs root and etcd (etcd-server); exits 77 (skip) otherwise. Whatever
# the outcome, everything made here (namespaces, processes, the node's
# pins, the temporary directory) is removed on exit. About 2 minutes.
set -u

# Reuse the XDP tests' helpers: ok/notok/check, q, wait_file, decap,
# client_ports, bg, lb_finish (lb_init is theirs alone: it
# needs fgxdp, which this test does not use).
# shellcheck source=lib_lb.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib_lb.sh"
# shellcheck source=topo.sh
. "$lb_here/topo.sh"

topo_need_root
for t in python3 curl nsenter timeout ethtool; do
	command -v "$t" >/dev/null || lb_skip "$t not found"
done
[ -x "$DECAP_SCRIPT" ] || lb_skip "$DECAP_SCRIPT not found"
lb_find FLOODGATED controlplane/floodgated
lb_find FGCTL controlplane/fgctl
lb_find FG_XDP_PASS_OBJ tests/integration/xdp_pass.o
lb_find FG_DECAP_LOADER xdp/fg-decap-loader
[ -x /usr/bin/etcd ] || command -v etcd >/dev/null || lb_skip "etcd not installed (etcd-server)"
PY=$(python3 -c 'import sys; print(sys.executable)') || lb_skip "python3 broken"

TOPO=fgdm$$
NODE=fgdm$$
TMP=$(mktemp -d /tmp/fgdm.XXXXXX)
CONF=$TMP/floodgate.conf
PINS=/sys/fs/bpf/floodgate/$NODE
API=http://127.0.0.1:7380
LB_NS=/var/run/netns/$(topo_ns lb)
LB_PIDS=()
declare -A SRV_PID=()
DPID=
DM_STARTED=0
PASSED=0
FAILED=0
export FGD_LIB_DIR=$lb_here
FGD=$TMP/fgd.py

VIP=198.18.0.10
NB=4

# dm_cleanup: stop the daemon, remove the dataplane and its pins, the
# namespaces (and every process left in them), the temporary directory.
dm_cleanup() {
	local p
	dm_stop TERM 100
	if [ "$DM_STARTED" = 1 ] && [ -e "$PINS" ]; then
		timeout 30 nsenter --net="$LB_NS" "$FLOODGATED" --detach -c "$CONF" \
			>>"$TMP/detach.log" 2>&1 ||
			echo "# warning: floodgated --detach failed: $(tail -n 3 "$TMP/detach.log")"
		# A detach that failed must not leave the node's pins behind.
		[ -e "$PINS" ] && rm -rf "$PINS"
	fi
	for p in "${LB_PIDS[@]}"; do
		kill "$p" 2>/dev/null
	done
	topo_down
	for p in "${LB_PIDS[@]}"; do
		wait "$p" 2>/dev/null
	done
	rm -rf "$TMP"
}
trap dm_cleanup EXIT
trap 'exit 1' INT TERM HUP

# ------------------------------------------------------------- helpers

# dm_start: floodgated in lb's network namespace, the host's mount
# namespace. nsenter execs the daemon (no --fork), so DPID is its pid.
dm_start() {
	DM_STARTED=1
	(exec nsenter --net="$LB_NS" "$FLOODGATED" -c "$CONF") >>"$TMP/daemon.log" 2>&1 &
	DPID=$!
}

# dm_stop SIG TENTHS: signal the daemon, wait up to TENTHS/10 s for it to
# exit, then SIGKILL it. Returns 1 when it had to be killed.
dm_stop() {
	local i rc=0
	[ -n "$DPID" ] || return 0
	kill -"$1" "$DPID" 2>/dev/null
	for ((i = 0; i < $2; i++)); do
		kill -0 "$DPID" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$DPID" 2>/dev/null; then
		kill -KILL "$DPID" 2>/dev/null
		rc=1
	fi
	wait "$DPID" 2>/dev/null
	DPID=
	return $rc
}

# api METHOD PATH [BODY]: one API call from inside lb; the answer's body
# in $TMP/api.out, the HTTP status printed.
api() {
	local data=()
	[ $# -ge 3 ] && data=(--data-binary "$3" -H 'Content-Type: application/json')
	topo_nsenter lb curl -sS --max-time 20 -o "$TMP/api.out" -w '%{http_code}' \
		-X "$1" "${data[@]}" "$API$2" 2>"$TMP/api.err"
}

# api_json PATH OUT: GET PATH into OUT; fails unless 200.
api_json() {
	[ "$(api GET "$1")" = 200 ] && cp "$TMP/api.out" "$2"
}

# wait_api TENTHS: wait for /healthz to answer 200.
wait_api() {
	local i
	for ((i = 0; i < $1; i++)); do
		[ "$(api GET /healthz 2>/dev/null)" = 200 ] && return 0
		kill -0 "$DPID" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# wait_applied VERSION TENTHS: wait until /v1/status reports
# applied_version >= VERSION.
wait_applied() {
	local i v
	for ((i = 0; i < $2; i++)); do
		if api_json /v1/status "$TMP/st.json"; then
			v=$(q "$TMP/st.json" "d['applied_version']")
			[ "$v" -ge "$1" ] && return 0
		fi
		sleep 0.1
	done
	return 1
}

# put PATH BODY: PUT and wait for the change to be live; the new version
# in $VER. Fails (with the answer in $TMP/api.out) otherwise.
put() {
	local code
	code=$(api PUT "$1" "$2")
	case "$code" in
	200 | 201) ;;
	*) echo "# PUT $1: HTTP $code $(cat "$TMP/api.out" "$TMP/api.err")"; return 1 ;;
	esac
	VER=$(q "$TMP/api.out" "d['version']")
	wait_applied "$VER" 100
}

# srv_start HOST: lib_http.py's HTTP server on port 80 of HOST, named
# after it; its pid in SRV_PID[HOST] (ip netns exec execs it).
srv_start() {
	local h=$1
	rm -f "$TMP/ready.srv.$h"
	(exec ip netns exec "$(topo_ns "$h")" "$PY" "$LIB_HTTP" serve "$h" 80 \
		--ready "$TMP/ready.srv.$h") 2>>"$TMP/serve.$h.err" &
	LB_PIDS+=("$!")
	SRV_PID[$h]=$!
	wait_file "$TMP/ready.srv.$h" 150
}

# backends_json N... : the JSON backends array for be N...
backends_json() {
	local sep="" n
	printf '['
	for n in "$@"; do
		IFS=: read -r n w <<<"$n"
		printf '%s{"addr": "198.19.0.%s"%s}' "$sep" "$n" "${w:+, \"weight\": $w}"
		sep=", "
	done
	printf ']'
}

# web_json BACKENDS...: service web (TCP 80, HTTP health checks).
HEALTH='{"type": "http", "interval_ms": 500, "timeout_ms": 300, "rise": 2, "fall": 3}'
web_json() {
	printf '{"vip": "%s", "port": 80, "proto": "tcp", "backends": %s, "health": %s}' \
		"$VIP" "$(backends_json "$@")" "$HEALTH"
}

# now: wall-clock seconds with ns (the python tools use time.time()).
now() { date +%s.%N; }
# ms_between T0 T1
ms_between() { "$PY" -c "import sys; print(round((float(sys.argv[2]) - float(sys.argv[1])) * 1000))" "$1" "$2"; }

# -------------------------------------------- the python tools

cat >"$FGD" <<'PYEOF'
"""test_daemon.sh's traffic and timing tools (python3 stdlib + lib_http).

  udpsink PORT --out F --stop F --ready F   count datagrams "SEQ ..." by seq
  udpsend HOST PORT N --rate R --flows K --sport P --out F [--ready F]
  hold HOST PORT M --sport P --ready F --stop F --out F [--interval S]
  monitor --lb-ns PATH --api URL --service S --backend B --vip V
          --port N --sport P --stop F --out F [--batch K] [--tick S]
"""
import argparse
import ctypes
import json
import os
import socket
import sys
import time

sys.path.insert(0, os.environ["FGD_LIB_DIR"])
import lib_http  # noqa: E402  (read_response, the HTTP client half)

CLONE_NEWNET = 0x40000000
libc = ctypes.CDLL(None, use_errno=True)


def setns(fd):
    if libc.setns(fd, CLONE_NEWNET) != 0:
        e = ctypes.get_errno()
        raise OSError(e, "setns: " + os.strerror(e))


def dump(path, obj):
    with open(path + ".tmp", "w") as f:
        json.dump(obj, f)
    os.rename(path + ".tmp", path)


def touch(path):
    if path:
        open(path, "w").close()


# ------------------------------------------------------------------ udp

def cmd_udpsink(a):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    # SO_RCVBUFFORCE (root) ignores net.core.rmem_max: the stream must
    # never be lost to a full socket buffer while python is descheduled.
    try:
        s.setsockopt(socket.SOL_SOCKET, 33, 16 << 20)
    except OSError:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 << 20)
    s.bind(("0.0.0.0", a.port))
    s.settimeout(0.1)
    seen = bytearray(a.max_seq)
    n = dup = bad = 0
    touch(a.ready)
    deadline = time.monotonic() + a.max_time
    while time.monotonic() < deadline:
        try:
            d, _ = s.recvfrom(2048)
        except socket.timeout:
            if os.path.exists(a.stop):
                break
            continue
        try:
            q = int(d.split(b" ", 1)[0])
        except ValueError:
            bad += 1
            continue
        if not 0 <= q < a.max_seq:
            bad += 1
            continue
        if seen[q]:
            dup += 1
        seen[q] = 1
        n += 1
    dump(a.out, {"received": n, "dup": dup, "bad": bad,
                 "seqs": [i for i in range(a.max_seq) if seen[i]]})


def cmd_udpsend(a):
    """N datagrams "SEQ xxx..." at --rate: the even ones over --flows
    sockets that live the whole run, the odd ones over a fresh set of
    --flows sockets every --renew datagrams, so new flows begin all
    along (while the daemon is dead too)."""
    def sock(port):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
        s.bind(("", port))
        s.connect((a.host, a.port))
        return s
    steady = [sock(a.sport + k) for k in range(a.flows)]
    fresh, block = [], -1
    pad = b"x" * 64
    errors = 0
    t0 = time.time()
    m0 = time.monotonic()
    touch(a.ready)
    for i in range(a.n):
        ahead = i / a.rate - (time.monotonic() - m0)
        if ahead > 0:
            time.sleep(ahead)
        if i % 2 == 0:
            s = steady[(i // 2) % a.flows]
        else:
            if i // a.renew != block:
                block = i // a.renew
                base = a.sport + a.flows * (1 + block)
                fresh += [sock(base + k) for k in range(a.flows)]
            s = fresh[-a.flows + (i // 2) % a.flows]
        try:
            s.send(b"%d " % (a.seq0 + i) + pad)
        except OSError:
            errors += 1
    dump(a.out, {"sent": a.n - errors, "errors": errors, "t_start": t0,
                 "t_end": time.time(), "flows": len(steady) + len(fresh)})


# ----------------------------------------------------------------- hold

def cmd_hold(a):
    """M keep-alive connections from fixed source ports, one GET each
    per interval; per connection the backends seen, requests answered,
    the slowest answer and the first error. Never reconnects."""
    conns = []
    for i in range(a.m):
        c = {"id": i, "sport": a.sport + i, "backends": [], "ok": 0,
             "error": None, "max_ms": 0.0}
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(a.timeout)
        try:
            s.bind(("", a.sport + i))
            s.connect((a.host, a.port))
        except OSError as e:
            c["error"] = "connect: %s" % e
            s.close()
            s = None
        conns.append([c, s, b""])

    def round_once():
        for ent in conns:
            c, s, buf = ent
            if s is None:
                continue
            t = time.monotonic()
            try:
                s.sendall(b"GET / HTTP/1.1\r\nHost: fg\r\n\r\n")
                body, ent[2] = lib_http.read_response(s, buf)
                name = body.decode().split()[0]
            except (OSError, ValueError, IndexError) as e:
                c["error"] = "%s: %s" % (type(e).__name__, e)
                c["error_at"] = time.time()
                s.close()
                ent[1] = None
                continue
            ms = (time.monotonic() - t) * 1000.0
            c["max_ms"] = max(c["max_ms"], round(ms, 1))
            if not c["backends"] or c["backends"][-1] != name:
                c["backends"].append(name)
            c["ok"] += 1

    rounds = 0
    gap = 0.0
    deadline = time.monotonic() + a.max_time
    last = time.monotonic()
    while True:
        round_once()
        rounds += 1
        if rounds == 1:
            touch(a.ready)
        if time.monotonic() > deadline or os.path.exists(a.stop):
            break
        time.sleep(a.interval)
        now = time.monotonic()
        gap = max(gap, now - last)
        last = now
    for _, s, _ in conns:
        if s is not None:
            s.close()
    dump(a.out, {"rounds": rounds, "max_round_gap_ms": round(gap * 1000, 1),
                 "conns": [c for c, _, _ in conns]})


# -------------------------------------------------------------- monitor

def cmd_monitor(a):
    """Every tick: the backend's `healthy` in /v1/stats (the API is in
    the lb namespace, reached by setns for each connection) and a batch
    of fresh connections to the VIP from here (the client namespace),
    each from a new source port: which backend answered, or the error."""
    here = os.open("/proc/self/ns/net", os.O_RDONLY)
    lb = os.open(a.lb_ns, os.O_RDONLY)
    host, port = a.api.split("//", 1)[1].rstrip("/").rsplit(":", 1)

    def stats():
        setns(lb)
        try:
            s = socket.create_connection((host, int(port)), timeout=2)
        finally:
            setns(here)
        try:
            s.sendall(b"GET /v1/stats HTTP/1.1\r\nHost: fg\r\n"
                      b"Connection: close\r\n\r\n")
            body, _ = lib_http.read_response(s)
        finally:
            s.close()
        d = json.loads(body)
        return d["services"][a.service]["backends"][a.backend]["healthy"]

    sport = a.sport
    events = []
    deadline = time.monotonic() + a.max_time
    touch(a.ready)
    while time.monotonic() < deadline and not os.path.exists(a.stop):
        t = time.time()
        try:
            h = stats()
        except (OSError, ValueError, KeyError) as e:
            h = "error: %s" % e
        res = []
        for _ in range(a.batch):
            try:
                res.append(lib_http.one_request(a.vip, a.port, 1.0, sport)[0])
            except ConnectionRefusedError:
                res.append("refused")
            except (OSError, ValueError, IndexError) as e:
                res.append(type(e).__name__)
            sport += 1
        events.append({"t": t, "healthy": h, "res": res})
        rest = a.tick - (time.time() - t)
        if rest > 0:
            time.sleep(rest)
    dump(a.out, events)


def cmd_analyze(a):
    """Times of leave (after --t-stop) and return (after --t-back) of
    backend NAME, from the monitor's events, in ms."""
    ev = json.load(open(a.events))
    name = a.name

    def hit(e):  # this batch reached the backend (or its closed port)
        return any(r == name or r == "refused" for r in e["res"])

    stop, back = a.t_stop, a.t_back
    before = [e for e in ev if e["t"] < stop]
    down = [e for e in ev if stop <= e["t"] < back]
    up = [e for e in ev if e["t"] >= back]
    out = {"events": len(ev)}
    out["before_ok"] = (all(e["healthy"] is True for e in before) and
                        any(name in e["res"] for e in before))
    t = next((e["t"] for e in down if e["healthy"] is False), None)
    out["leave_stats_ms"] = round((t - stop) * 1000) if t else None
    # The first batch after which no batch reached the backend.
    last_hit = max((i for i, e in enumerate(down) if hit(e)), default=-1)
    if last_hit + 1 < len(down):
        out["leave_traffic_ms"] = round((down[last_hit + 1]["t"] - stop) * 1000)
        out["after_leave_batches"] = len(down) - last_hit - 1
    else:
        out["leave_traffic_ms"] = None
    out["errors_down"] = sum(1 for e in down for r in e["res"]
                             if r not in ("refused",) and not r.startswith("be"))
    t = next((e["t"] for e in up if e["healthy"] is True), None)
    out["return_stats_ms"] = round((t - back) * 1000) if t else None
    t = next((e["t"] for e in up if name in e["res"]), None)
    out["return_traffic_ms"] = round((t - back) * 1000) if t else None
    out["refused_after_back"] = sum(e["res"].count("refused") for e in up)
    # Other failures, with their time after the stop (ms). A batch that
    # ran while the server was being killed may see a reset: a request
    # the dying server had accepted; that is the server's doing.
    out["other_errors"], out["excused"] = [], []
    for k, e in enumerate(ev):
        nxt = ev[k + 1]["t"] if k + 1 < len(ev) else float("inf")
        dying = e["t"] <= a.t_dead and nxt >= stop
        for r in e["res"]:
            if r != "refused" and not r.startswith("be"):
                out["excused" if dying else "other_errors"].append(
                    [round((e["t"] - stop) * 1000), r])
    json.dump(out, sys.stdout)
    print()


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)

    q = sub.add_parser("udpsink")
    q.add_argument("port", type=int)
    q.add_argument("--out", required=True)
    q.add_argument("--stop", required=True)
    q.add_argument("--ready")
    q.add_argument("--max-seq", type=int, default=100000)
    q.add_argument("--max-time", type=float, default=300)
    q.set_defaults(fn=cmd_udpsink)

    q = sub.add_parser("udpsend")
    q.add_argument("host")
    q.add_argument("port", type=int)
    q.add_argument("n", type=int)
    q.add_argument("--rate", type=float, default=2000)
    q.add_argument("--flows", type=int, default=8)
    q.add_argument("--renew", type=int, default=1000)
    q.add_argument("--sport", type=int, required=True)
    q.add_argument("--seq0", type=int, default=0)
    q.add_argument("--out", required=True)
    q.add_argument("--ready")
    q.set_defaults(fn=cmd_udpsend)

    q = sub.add_parser("hold")
    q.add_argument("host")
    q.add_argument("port", type=int)
    q.add_argument("m", type=int)
    q.add_argument("--sport", type=int, required=True)
    q.add_argument("--ready", required=True)
    q.add_argument("--stop", required=True)
    q.add_argument("--out", required=True)
    q.add_argument("--interval", type=float, default=0.05)
    q.add_argument("--timeout", type=float, default=3.0)
    q.add_argument("--max-time", type=float, default=120)
    q.set_defaults(fn=cmd_hold)

    q = sub.add_parser("monitor")
    q.add_argument("--lb-ns", required=True)
    q.add_argument("--api", required=True)
    q.add_argument("--service", required=True)
    q.add_argument("--backend", required=True)
    q.add_argument("--vip", required=True)
    q.add_argument("--port", type=int, default=80)
    q.add_argument("--sport", type=int, required=True)
    q.add_argument("--batch", type=int, default=8)
    q.add_argument("--tick", type=float, default=0.05)
    q.add_argument("--ready")
    q.add_argument("--stop", required=True)
    q.add_argument("--out", required=True)
    q.add_argument("--max-time", type=float, default=60)
    q.set_defaults(fn=cmd_monitor)

    q = sub.add_parser("analyze")
    q.add_argument("events")
    q.add_argument("name")
    q.add_argument("--t-stop", type=float, required=True)
    q.add_argument("--t-back", type=float, required=True)
    q.add_argument("--t-dead", type=float, required=True)
    q.set_defaults(fn=cmd_analyze)

    a = p.parse_args()
    a.fn(a)


if __name__ == "__main__":
    main()
PYEOF

# ---------------------------------------------------------------- setup

echo "# setup: topology, $NB backends, floodgated (node $NODE)"
setup() {
	local i
	topo_up "$NB" || return 1
	topo_vip_on_backends "$VIP" "" "$NB" || return 1
	for i in $(seq 1 "$NB"); do
		decap "be$i" || return 1
		srv_start "be$i" || { echo "# be$i: HTTP server did not start"; return 1; }
		bg topo_exec "be$i" "$PY" "$FGD" udpsink 5000 --out "$TMP/sink.be$i.json" \
			--stop "$TMP/stop.udp" --ready "$TMP/ready.udp.be$i" 2>"$TMP/sink.be$i.err"
	done
	for i in $(seq 1 "$NB"); do
		wait_file "$TMP/ready.udp.be$i" 150 || { echo "# be$i: UDP sink did not start"; return 1; }
	done
	client_ports 40000 60999
	mkdir -p "$TMP/data"
	cat >"$CONF" <<CONF
node = { name = "$NODE"; group = "default"; };
api = { listen = "127.0.0.1:7380"; };
store = { kind = "embedded"; data_dir = "$TMP/data"; };
dataplane = { kind = "xdp"; interfaces = ["eth0"]; };
CONF
	"$FLOODGATED" --check -c "$CONF" >"$TMP/check.log" 2>&1 || { cat "$TMP/check.log"; return 1; }
	dm_start
	wait_api 300 || { echo "# the API did not come up"; tail -n 20 "$TMP/daemon.log"; return 1; }
	put /v1/services/web "$(web_json 1 2 3)" || return 1
	put /v1/services/stream "{\"vip\": \"$VIP\", \"port\": 5000, \"proto\": \"udp\", \"backends\": $(backends_json 1 2 3), \"health\": {\"type\": \"http\", \"port\": 80, \"interval_ms\": 500, \"timeout_ms\": 300}}" || return 1
	# Every backend healthy and reachable through the VIP.
	for i in $(seq 1 30); do
		topo_exec cli curl -sS --max-time 2 "http://$VIP/" >/dev/null 2>&1 && return 0
		sleep 0.2
	done
	echo "# no answer through the VIP"
	return 1
}
if setup; then
	ok "setup (topology, decap, servers, floodgated up, services web and stream live)"
else
	notok "setup failed: $(tail -n 5 "$TMP/daemon.log" 2>/dev/null)"
	lb_finish
fi

# ------------------------------------------ 1. kill -9 under a UDP stream

echo "# 1. kill -9 and restart of floodgated under a UDP stream"
# udp_run TAG SEQ0 N SPORT: N datagrams at 2,000/s, in the background
# (UDP_PID), seq numbers SEQ0..SEQ0+N-1: half over 8 flows that last the
# whole run, half over 8 new flows every 1,000 datagrams (source ports
# from SPORT up).
udp_run() {
	rm -f "$TMP/ready.send.$1"
	bg topo_exec cli "$PY" "$FGD" udpsend "$VIP" 5000 "$3" --rate 2000 --flows 8 --renew 1000 \
		--sport "$4" --seq0 "$2" --out "$TMP/send.$1.json" --ready "$TMP/ready.send.$1" \
		2>"$TMP/send.$1.err"
	UDP_PID=$!
}

# Control run: no kill; must lose nothing, or the kill run proves nothing.
udp_run ctl 0 4000 30000
wait_file "$TMP/ready.send.ctl" 300
wait "$UDP_PID"
# 20,000 more from other source ports: flows that live across the kill
# and flows that begin while the daemon is dead or starting.
api_json /v1/status "$TMP/st.before.json"
udp_run kill 10000 20000 30200
wait_file "$TMP/ready.send.kill" 300
sleep 3
t_kill=$(now)
kill -KILL "$DPID"
wait "$DPID" 2>/dev/null
DPID=
dm_start
wait_api 300
up=$?
t_up=$(now)
# The first answer, then the one once the rules are loaded from the store.
api_json /v1/status "$TMP/st.first.json"
for i in $(seq 1 100); do
	api_json /v1/status "$TMP/st.after.json" &&
		[ "$(q "$TMP/st.after.json" "d['rules_version']")" != 0 ] && break
	sleep 0.1
done
wait "$UDP_PID"
sleep 1
touch "$TMP/stop.udp"
for i in $(seq 1 "$NB"); do
	wait_file "$TMP/sink.be$i.json" 50
done

"$PY" - "$TMP" "$NB" >"$TMP/udp.res" <<'PY'
import json, sys
tmp, nb = sys.argv[1], int(sys.argv[2])
seen, per, dup, where = set(), {}, 0, {}
for i in range(1, nb + 1):
    try:
        d = json.load(open("%s/sink.be%d.json" % (tmp, i)))
    except (OSError, ValueError):
        print("bad sink be%d" % i); sys.exit(0)
    seen.update(d["seqs"]); dup += d["dup"]
    per["be%d" % i] = len(d["seqs"])
    for q in d["seqs"]:
        where[q] = i
# The kill run's flows (udpsend: even seqs on 8 steady flows, odd ones on
# 8 new flows per 1,000): each must have stayed on one backend.
flows = {}
for q, b in where.items():
    k = q - 10000
    if 0 <= k < 20000:
        f = ("s", k // 2 % 8) if k % 2 == 0 else ("f", k // 1000, k // 2 % 8)
        flows.setdefault(f, set()).add(b)
moved = sum(1 for v in flows.values() if len(v) > 1)
def runs(lo, n):
    miss = [s for s in range(lo, lo + n) if s not in seen]
    return len(miss), (miss[0], miss[-1]) if miss else None
ctl = runs(0, 4000); kil = runs(10000, 20000)
print("ctl_lost=%d kill_lost=%d dup=%d per=%s kill_gap=%s flows=%d moved=%d" % (
      ctl[0], kil[0], dup, ",".join("%s:%d" % kv for kv in sorted(per.items())), kil[1],
      len(flows), moved))
PY
res=$(cat "$TMP/udp.res")
ctl_lost=$(sed -n 's/.*ctl_lost=\([0-9]*\).*/\1/p' <<<"$res")
kill_lost=$(sed -n 's/.*kill_lost=\([0-9]*\).*/\1/p' <<<"$res")
sent_ctl=$(q "$TMP/send.ctl.json" "d['sent']" 2>/dev/null)
sent_kill=$(q "$TMP/send.kill.json" "d['sent']" 2>/dev/null)
udp_drops=$(for i in $(seq 1 "$NB"); do topo_exec "be$i" awk '/^Udp: [0-9]/ { print $6 "/" $7 }' /proc/net/snmp; done | tr '\n' ' ')
check "1 control run: 4000 datagrams without a kill, none lost" \
	"$([ "$sent_ctl" = 4000 ] && [ "$ctl_lost" = 0 ]; echo $?)" \
	"sent ${sent_ctl:-?}, lost ${ctl_lost:-?}; backends' Udp RcvbufErrors/SndbufErrors: $udp_drops"
t_end=$(q "$TMP/send.kill.json" "d['t_end']" 2>/dev/null || echo 0)
check "1 the daemon was killed and back mid-stream" \
	"$([ "$up" = 0 ] && "$PY" -c "import sys; sys.exit(not float(sys.argv[1]) < float(sys.argv[2]) < float(sys.argv[3]))" "$t_kill" "$t_up" "$t_end"; echo $?)" \
	"API back $(ms_between "$t_kill" "$t_up") ms after kill -9, stream ended $(ms_between "$t_kill" "$t_end") ms after it"
moved=$(sed -n 's/.* moved=\([0-9]*\).*/\1/p' <<<"$res")
check "1 every UDP flow stayed on its backend across the restart" \
	"$([ "$moved" = 0 ]; echo $?)" "$(sed -n 's/.*\(flows=.*\)/\1/p' <<<"$res")"
check "1 zero loss across kill -9 and restart: every one of 20000 datagrams arrived" \
	"$([ "$sent_kill" = 20000 ] && [ "$kill_lost" = 0 ]; echo $?)" \
	"sent ${sent_kill:-?} over $(q "$TMP/send.kill.json" "d['flows']" 2>/dev/null) flows; $res"
before=$(q "$TMP/st.before.json" "'%s/%s' % (d['rules_version'], d['applied_version'])" 2>/dev/null)
after=$(q "$TMP/st.after.json" "'%s/%s' % (d['rules_version'], d['applied_version'])" 2>/dev/null)
adopted=$(q "$TMP/st.after.json" "d['dataplane']['adopted']" 2>/dev/null)
check "1 the restarted daemon adopted the dataplane at the same rules/applied version" \
	"$([ "$adopted" = True ] && [ -n "$before" ] && [ "$before" = "$after" ]; echo $?)" \
	"adopted=${adopted:-?}, rules/applied before $before, after $after (first answer $(q "$TMP/st.first.json" "'%s/%s' % (d['rules_version'], d['applied_version'])" 2>/dev/null)); log: $(grep 'dataplane xdp' "$TMP/daemon.log" | tail -n 1)"

# ------------------------------------------ 2. rule changes under traffic

echo "# 2. rule changes under 24 held keep-alive connections (a request every 50 ms)"
rm -f "$TMP/stop.hold" "$TMP/ready.hold"
# tcp_retrans HOST: the host's TcpRetransSegs (a lost segment shows here).
tcp_retrans() { topo_exec "$1" awk '/^Tcp: [0-9]/ { print $13 }' /proc/net/snmp; }
retr0=$(tcp_retrans cli)
bg topo_exec cli "$PY" "$FGD" hold "$VIP" 80 24 --sport 31000 --interval 0.05 \
	--ready "$TMP/ready.hold" --stop "$TMP/stop.hold" --out "$TMP/hold.json" \
	2>"$TMP/hold.err"
HOLD_PID=$!
wait_file "$TMP/ready.hold" 300
changes=0 detail=""
sleep 1
# a. a fourth backend
put /v1/services/web "$(web_json 1 2 3 4)" && changes=$((changes + 1)) && detail+="add be4 v$VER; "
sleep 1
# b. new weights
put /v1/services/web "$(web_json 1:300 2:50 3:100 4:100)" && changes=$((changes + 1)) && detail+="weights v$VER; "
sleep 1
# c. a limit on web that matches none of these clients
put /v1/limits/elsewhere '{"service": "web", "match": {"src": "198.18.64.0/18"}, "key": "src_ip", "unit": "cps", "rate": 1, "burst": 1, "action": "drop"}' &&
	changes=$((changes + 1)) && detail+="limit v$VER; "
sleep 1
# d. another service on the same VIP
put /v1/services/other "{\"vip\": \"$VIP\", \"port\": 8080, \"proto\": \"tcp\", \"backends\": $(backends_json 2 4)}" &&
	changes=$((changes + 1)) && detail+="service other v$VER; "
sleep 1
# New connections meanwhile follow the new rules: be4 gets some.
topo_exec cli timeout 90 "$PY" "$LIB_HTTP" spread "$VIP" 80 200 --sport 12000 \
	--parallel 8 --max-time 80 >"$TMP/spread2.json" 2>"$TMP/spread2.err"
sleep 1
touch "$TMP/stop.hold"
wait "$HOLD_PID"
retr=$(( $(tcp_retrans cli) - retr0 ))
check "2 four rule changes accepted and applied" "$([ "$changes" = 4 ]; echo $?)" "$detail"
H=$TMP/hold.json
good=$(q "$H" "len(d['conns']) == 24 and all(not c['error'] and len(c['backends']) == 1 and c['ok'] == d['rounds'] for c in d['conns'])" 2>/dev/null)
check "2 no held connection reset, stalled or moved" "$([ "$good" = True ]; echo $?)" \
	"$(q "$H" "'%d conns, %d rounds each; on %s; errors %s; moved %d; slowest answer %.0f ms, longest round gap %.0f ms' % (len(d['conns']), d['rounds'], {b: sum(1 for c in d['conns'] if c['backends'][:1] == [b]) for b in sorted(set(c['backends'][0] for c in d['conns'] if c['backends']))}, [c['error'] for c in d['conns'] if c['error']][:3], sum(1 for c in d['conns'] if len(c['backends']) > 1), max(c['max_ms'] for c in d['conns']), d['max_round_gap_ms'])" 2>&1)"
# A stall: an answer that took longer than a lost segment's first
# retransmission (RTO 200 ms min, 1 s for a SYN) plus scheduling noise.
slow=$(q "$H" "max(c['max_ms'] for c in d['conns'])" 2>/dev/null)
check "2 no held connection stalled (slowest answer under 1000 ms)" \
	"$("$PY" -c "import sys; sys.exit(not float(sys.argv[1]) < 1000)" "${slow:-1e9}"; echo $?)" \
	"slowest ${slow:-?} ms; client TCP retransmissions meanwhile: $retr"
check "2 new connections reach the added backend, none fail" \
	"$([ "$(q "$TMP/spread2.json" "d['errors'] == 0 and d['backends'].get('be4', 0) > 0")" = True ]; echo $?)" \
	"$(q "$TMP/spread2.json" "d['backends']"), errors $(q "$TMP/spread2.json" "d['errors']")"
api_json /v1/stats "$TMP/stats2.json"
check "2 the limit matched none of them" \
	"$([ "$(q "$TMP/stats2.json" "d['limits']['elsewhere']['limited']")" = 0 ]; echo $?)" \
	"$(q "$TMP/stats2.json" "d['limits']")"

# ------------------------------------------------------------- 3. health

echo "# 3. health: be3's server stops, then starts again (interval 500 ms, fall 3, rise 2)"
# The monitor asks /v1/stats and opens 8 fresh connections every 50 ms
# (as fast as it can, when that takes longer).
rm -f "$TMP/stop.mon" "$TMP/ready.mon"
bg topo_exec cli "$PY" "$FGD" monitor --lb-ns "$LB_NS" --api "$API" --service web \
	--backend 198.19.0.3:80 --vip "$VIP" --port 80 --sport 20000 --batch 8 \
	--tick 0.05 --ready "$TMP/ready.mon" --stop "$TMP/stop.mon" --out "$TMP/mon.json" \
	--max-time 60 2>"$TMP/mon.err"
MON_PID=$!
wait_file "$TMP/ready.mon" 300
sleep 2
t_stop=$(now)
kill "${SRV_PID[be3]}"
wait "${SRV_PID[be3]}" 2>/dev/null
t_dead=$(now)
sleep 4
srv_start be3
# The moment the server listens: its ready file's mtime.
t_back=$(stat -c %.9Y "$TMP/ready.srv.be3")
sleep 4
touch "$TMP/stop.mon"
wait "$MON_PID"
"$PY" "$FGD" analyze "$TMP/mon.json" be3 --t-stop "$t_stop" --t-back "$t_back" --t-dead "$t_dead" >"$TMP/health.json" 2>&1
hq() { q "$TMP/health.json" "$1" 2>/dev/null; }
tick=$("$PY" -c "
import json, sys
ev = json.load(open(sys.argv[1]))
g = sorted(b['t'] - a['t'] for a, b in zip(ev, ev[1:]))
print(round(g[len(g) // 2] * 1000) if g else 0)" "$TMP/mon.json" 2>/dev/null)
LEAVE_MAX=2000 BACK_MAX=1500
echo "# health: be3 left the ring after $(hq "d['leave_stats_ms']") ms (stats) / $(hq "d['leave_traffic_ms']") ms (new connections);" \
	"back after $(hq "d['return_stats_ms']") ms (stats) / $(hq "d['return_traffic_ms']") ms (new connections);" \
	"monitor tick ${tick:-?} ms, $(hq "d['events']") samples"
check "3 before the stop be3 is healthy and takes new connections" \
	"$([ "$(hq "d['before_ok']")" = True ]; echo $?)" "$(cat "$TMP/health.json")"
check "3 be3 leaves the ring within fall x interval + interval ($LEAVE_MAX ms): stats and new connections" \
	"$([ "$(hq "d['leave_stats_ms'] is not None and d['leave_traffic_ms'] is not None and d['leave_stats_ms'] <= $LEAVE_MAX and d['leave_traffic_ms'] <= $LEAVE_MAX and d['after_leave_batches'] >= 10")" = True ]; echo $?)" \
	"stats $(hq "d['leave_stats_ms']") ms, traffic $(hq "d['leave_traffic_ms']") ms after the stop"
check "3 be3 returns within rise x interval + interval ($BACK_MAX ms): stats and new connections" \
	"$([ "$(hq "d['return_stats_ms'] is not None and d['return_traffic_ms'] is not None and d['return_stats_ms'] <= $BACK_MAX and d['return_traffic_ms'] <= $BACK_MAX")" = True ]; echo $?)" \
	"stats $(hq "d['return_stats_ms']") ms, traffic $(hq "d['return_traffic_ms']") ms after the restart"
check "3 no connection failed other than to be3's closed port" \
	"$([ "$(hq "len(d['other_errors'])")" = 0 ]; echo $?)" \
	"other failures [ms after the stop, kind]: $(hq "d['other_errors'][:10]"); while the server died: $(hq "d['excused'][:10]")"

# -------------------------------------------------------------- 4. fgctl

echo "# 4. fgctl against the daemon"
# fc DESC RC PATTERN ARGS...: fgctl ARGS in lb must exit RC and (unless
# PATTERN is empty) print a line matching PATTERN (stdout, or stderr for
# errors).
fc() {
	local desc=$1 want=$2 pat=$3 rc
	shift 3
	topo_nsenter lb timeout 30 "$FGCTL" "$@" >"$TMP/fc.out" 2>"$TMP/fc.err"
	rc=$?
	if [ "$rc" = "$want" ] && { [ -z "$pat" ] || grep -qE -- "$pat" "$TMP/fc.out" "$TMP/fc.err"; }; then
		ok "4 fgctl $desc (exit $rc)"
	else
		notok "4 fgctl $desc: exit $rc (want $want), pattern '$pat'; out: $(head -c 300 "$TMP/fc.out" | tr '\n' '|') err: $(head -c 300 "$TMP/fc.err" | tr '\n' '|')"
	fi
}
# jq_out EXPR: a Python expression over fgctl --json's last output.
jq_out() { q "$TMP/fc.out" "$1" 2>/dev/null; }

fc "status" 0 "^node: +$NODE" status
fc "status: rules live" 0 "^sync: applied" status
fc "status --json" 0 '"adopted": ?true' --json status
fc "service set (options)" 0 "created" service set fc1 --vip 198.18.0.20 --port 8080 \
	--proto tcp --backend 198.19.0.1:8080 --health tcp --health-interval 1000
fc "service get" 0 "^vip: +198.18.0.20" service get fc1
fc "service ls" 0 "^fc1 +198.18.0.20 +8080 +tcp" service ls
printf '{"vip": "198.18.0.21", "port": 53, "proto": "udp", "backends": [{"addr": "198.19.0.2"}]}' >"$TMP/fc2.json"
fc "service set --file" 0 "created" service set fc2 --file "$TMP/fc2.json"
fc "backend add" 0 "added" backend add fc1 198.19.0.2:8080 --weight 50
fc "--json service get after backend add" 0 "" --json service get fc1
check "4 backend add: the service has 198.19.0.2:8080 weight 50" \
	"$([ "$(jq_out "[(b['addr'], b['port'], b['weight']) for b in d['backends']] == [('198.19.0.1', 8080, 100), ('198.19.0.2', 8080, 50)]")" = True ]; echo $?)" \
	"$(cat "$TMP/fc.out")"
fc "backend drain" 0 "drain" backend drain fc1 198.19.0.2:8080
fc "--json service get after drain" 0 "" --json service get fc1
check "4 backend drain: state drain" \
	"$([ "$(jq_out "[b['state'] for b in d['backends']] == ['active', 'drain']")" = True ]; echo $?)" \
	"$(cat "$TMP/fc.out")"
fc "backend rm" 0 "removed" backend rm fc1 198.19.0.2:8080
fc "--json service get after rm" 0 "" --json service get fc1
check "4 backend rm: one backend left" \
	"$([ "$(jq_out "[b['addr'] for b in d['backends']] == ['198.19.0.1']")" = True ]; echo $?)" \
	"$(cat "$TMP/fc.out")"
fc "backend rm of a missing backend" 1 "" backend rm fc1 198.19.0.9:8080
fc "limit set" 0 "created" limit set fcl --service fc1 --key src_ip --unit cps --rate 100 --burst 200
fc "limit ls" 0 "^fcl +fc1 +src_ip +cps +100 +200" limit ls
fc "limit get" 0 "" --json limit get fcl
fc "service rm while a limit names it (409)" 1 "409|conflict" service rm fc1
fc "limit rm" 0 "deleted" limit rm fcl
fc "service get of a missing service (404)" 1 "404|not.found" service get nosuch
fc "stale --if-version (412)" 1 "412|version" service rm fc1 --if-version 1
fc "service rm" 0 "deleted" service rm fc1
fc "service get after rm (404)" 1 "404|not.found" service get fc1
fc "service rm fc2" 0 "deleted" service rm fc2
fc "config get --json" 0 "" --json config get
cp "$TMP/fc.out" "$TMP/cfg.json"
ver=$(q "$TMP/cfg.json" "d['version']")
# apply -f: the same rule set plus a service, conditional on the version.
"$PY" - "$TMP/cfg.json" "$TMP/apply.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d.pop("version", None)
d["services"]["fc3"] = {"vip": "198.18.0.22", "port": 443, "proto": "tcp",
                        "backends": [{"addr": "198.19.0.4"}]}
json.dump(d, open(sys.argv[2], "w"))
PY
fc "apply -f --if-version" 0 "" apply -f "$TMP/apply.json" --if-version "$ver"
fc "service get after apply" 0 "^vip: +198.18.0.22" service get fc3
fc "apply -f with a stale --if-version (412)" 1 "412|version" apply -f "$TMP/apply.json" --if-version "$ver"
printf '{"services": {"bad": {"vip": "nope", "port": 80, "proto": "tcp"}}}' >"$TMP/bad.json"
fc "apply -f of an invalid rule set (400)" 1 "400|invalid" apply -f "$TMP/bad.json"
fc "service get after the failed apply: nothing changed" 0 "^vip: +198.18.0.22" service get fc3
fc "stats" 0 "^web +[0-9]+" stats
fc "stats --json" 0 '"services"' --json stats
check "4 stats --json: web's backends with counters and health" \
	"$([ "$(jq_out "d['services']['web']['backends']['198.19.0.1:80']['healthy'] is True and d['services']['web']['new_flows'] > 0")" = True ]; echo $?)" \
	"$(head -c 300 "$TMP/fc.out")"
fc "nodes" 0 "^$NODE +default" nodes
fc "usage error" 2 "" service frobnicate
fc "unreachable API" 3 "" --api http://127.0.0.1:9 status
# Leave the rule set as phase 5 expects it: without fc3.
fc "service rm fc3" 0 "deleted" service rm fc3

# ------------------------------ 6. a store behind the running dataplane

echo "# 6. restarts: health kept; the data dir lost: the dataplane is not rolled back"
# be3's server down first: its health-down flag must survive a restart.
kill "${SRV_PID[be3]}"
wait "${SRV_PID[be3]}" 2>/dev/null
for i in $(seq 1 60); do
	api_json /v1/stats "$TMP/st6.h.json" &&
		[ "$(q "$TMP/st6.h.json" "d['services']['web']['backends']['198.19.0.3:80']['healthy']")" = False ] && break
	sleep 0.1
done
# wait_rules FILE: /v1/status into FILE once the store's rules are loaded.
wait_rules() {
	for i in $(seq 1 100); do
		api_json /v1/status "$1" && [ "$(q "$1" "d['rules_version']")" != 0 ] && return 0
		sleep 0.1
	done
	return 1
}
dm_stop KILL 1
# A SIGHUP during start-up (the dataplane is up, the store is starting):
# handled, never fatal.
nlog=$(grep -c 'dataplane xdp' "$TMP/daemon.log")
dm_start
for i in $(seq 1 300); do
	[ "$(grep -c 'dataplane xdp' "$TMP/daemon.log")" -gt "$nlog" ] && break
	sleep 0.01
done
kill -HUP "$DPID"
wait_api 300
check "6 a SIGHUP while the store starts does not stop the daemon" \
	"$(kill -0 "$DPID" 2>/dev/null; echo $?)" "$(tail -n 3 "$TMP/daemon.log" | tr '\n' ' ')"
wait_rules "$TMP/st6.r.json"
# At once: probes (500 ms apart, rise 2) cannot have said anything yet.
api_json /v1/stats "$TMP/st6.stats.json"
check "6 a restart keeps be3 down: health starts from the dataplane's flags" \
	"$([ "$(q "$TMP/st6.stats.json" "d['services']['web']['backends']['198.19.0.3:80']['healthy']" 2>/dev/null)" = False ]; echo $?)" \
	"$(q "$TMP/st6.stats.json" "d['services']['web']['backends']" 2>&1 | head -c 400)"
api_json /v1/status "$TMP/st6.before.json"
v6=$(q "$TMP/st6.before.json" "d['applied_version']")
dm_stop KILL 1
mv "$TMP/data" "$TMP/data.lost"
mkdir "$TMP/data"
dm_start
wait_api 300
wait_rules "$TMP/st6.json"
check "6 an empty store after a lost data dir: conflict reported, version $v6 kept" \
	"$([ "$(q "$TMP/st6.json" "bool(d.get('conflict')) and d['applied_version'] == $v6 and d['dataplane']['adopted']")" = True ]; echo $?)" \
	"$(q "$TMP/st6.json" "(d['rules_version'], d['applied_version'], d.get('conflict'))" 2>&1)"
fails=0
for i in $(seq 1 20); do
	out=$(topo_exec cli curl -sS --max-time 3 "http://$VIP/" 2>&1)
	[[ "$out" == be[124]\ * ]] || fails=$((fails + 1))
done
check "6 the VIP keeps answering with the running rules (20 new connections, none to be3)" \
	"$([ "$fails" = 0 ]; echo $?)" "$fails failed; last answer: $out"
code=$(api PUT /v1/services/late "{\"vip\": \"198.18.0.23\", \"port\": 80, \"proto\": \"tcp\", \"backends\": $(backends_json 1)}")
check "6 a write during the conflict is refused (409), not stored and left unapplied" \
	"$([ "$code" = 409 ]; echo $?)" "HTTP $code $(cat "$TMP/api.out")"
grep -q 'store behind the dataplane' "$TMP/daemon.log"
check "6 the log says why" "$?" "$(grep -i conflict "$TMP/daemon.log" | tail -n 1)"
dm_stop TERM 150
(exec nsenter --net="$LB_NS" "$FLOODGATED" --adopt-dataplane -c "$CONF") >>"$TMP/daemon.log" 2>&1 &
DPID=$!
wait_api 300
for i in $(seq 1 100); do
	api_json /v1/status "$TMP/st6.adopt.json" &&
		[ "$(q "$TMP/st6.adopt.json" "not d.get('conflict') and d['rules_version'] > 0 and d['rules_version'] == d['applied_version']")" = True ] && break
	sleep 0.1
done
api_json /v1/config "$TMP/st6.cfg.json"
check "6 --adopt-dataplane writes the running rules back to the store" \
	"$([ "$(q "$TMP/st6.cfg.json" "sorted(d['services']) == ['other', 'stream', 'web']")" = True ] &&
	   [ "$(q "$TMP/st6.adopt.json" "not d.get('conflict') and d['rules_version'] == d['applied_version']")" = True ]; echo $?)" \
	"services $(q "$TMP/st6.cfg.json" "sorted(d['services'])" 2>&1); status $(q "$TMP/st6.adopt.json" "(d['rules_version'], d['applied_version'], d.get('conflict'))" 2>&1)"
srv_start be3
put /v1/services/late "{\"vip\": \"198.18.0.23\", \"port\": 80, \"proto\": \"tcp\", \"backends\": $(backends_json 1)}"
check "6 after the adopt, writes are applied again" "$?" "$(cat "$TMP/api.out")"
out=$(topo_exec cli curl -sS --max-time 3 "http://$VIP/" 2>&1)
check "6 the VIP answers after the adopt" "$([[ "$out" == be[1-4]\ * ]]; echo $?)" "answer: $out"

echo "# 7. boot settings against the running dataplane"
dm_stop TERM 150
cp "$CONF" "$TMP/conf.orig"
sed -i 's/^dataplane = { kind = "xdp"; interfaces = \["eth0"\]; };$/dataplane = { kind = "xdp"; interfaces = ["eth0"]; conntrack = { established = 4096; }; };/' "$CONF"
timeout 60 nsenter --net="$LB_NS" "$FLOODGATED" -c "$CONF" >"$TMP/resize.log" 2>&1
rc=$?
out=$(topo_exec cli curl -sS --max-time 3 "http://$VIP/" 2>&1)
check "7 a new conntrack size is refused at start, the running dataplane kept" \
	"$([ "$rc" != 0 ] && grep -q 'dataplane.conntrack.established asks for 4096 entries.*--replace-dataplane' "$TMP/resize.log" &&
	   [[ "$out" == be[1-4]\ * ]]; echo $?)" "exit $rc: $(tail -n 2 "$TMP/resize.log" | tr '\n' ' '); answer: $out"
(exec nsenter --net="$LB_NS" "$FLOODGATED" --replace-dataplane -c "$CONF") >>"$TMP/daemon.log" 2>&1 &
DPID=$!
wait_api 300
for i in $(seq 1 100); do
	api_json /v1/status "$TMP/st7.json" &&
		[ "$(q "$TMP/st7.json" "d['rules_version'] > 0 and d['rules_version'] == d['applied_version']")" = True ] && break
	sleep 0.1
done
ok7=1
for i in $(seq 1 30); do
	out=$(topo_exec cli curl -sS --max-time 2 "http://$VIP/" 2>&1)
	[[ "$out" == be[1-4]\ * ]] && { ok7=0; break; }
	sleep 0.2
done
check "7 --replace-dataplane loads new tables (4096 flows) and forwards with the stored rules" \
	"$([ "$ok7" = 0 ] && [ "$(q "$TMP/st7.json" "d['dataplane']['adopted']")" = False ] &&
	   grep -q 'replace-dataplane: loaded anew' "$TMP/daemon.log"; echo $?)" \
	"status $(q "$TMP/st7.json" "(d['dataplane']['adopted'], d['rules_version'], d['applied_version'], d.get('conflict'))" 2>&1); answer: $out"

# ------------------------------------------------ 5. SIGTERM and --detach

echo "# 5. SIGTERM, then floodgated --detach"
dm_stop TERM 150
rc=$?
out=$(topo_exec cli curl -sS --max-time 3 "http://$VIP/" 2>&1)
check "5 SIGTERM stops the daemon and the VIP still answers" \
	"$([ "$rc" = 0 ] && [[ "$out" == be[1-4]\ * ]]; echo $?)" \
	"stopped cleanly: $([ "$rc" = 0 ] && echo yes || echo no), answer: $out"
timeout 30 nsenter --net="$LB_NS" "$FLOODGATED" --detach -c "$CONF" >"$TMP/detach.log" 2>&1
rc=$?
xdp=$(topo_exec lb ip -d link show dev eth0 | grep -c 'prog/xdp')
check "5 floodgated --detach removes the program and the node's pins" \
	"$([ "$rc" = 0 ] && [ ! -e "$PINS" ] && [ "$xdp" = 0 ]; echo $?)" \
	"exit $rc, pins $([ -e "$PINS" ] && echo left || echo gone), xdp on eth0: $xdp; $(tail -n 2 "$TMP/detach.log" | tr '\n' ' ')"
fwd=$(topo_exec lb sysctl -n net.ipv4.conf.eth0.forwarding)
check "5 --detach gives the sysctls back and leaves nothing in /run/floodgate/$NODE" \
	"$([ "$fwd" = 0 ] && [ ! -e "/run/floodgate/$NODE" ]; echo $?)" \
	"eth0 forwarding $fwd; left: $(ls -A "/run/floodgate/$NODE" 2>&1 | tr '\n' ' ')"
out=$(topo_exec cli curl -sS --max-time 2 "http://$VIP/" 2>&1)
check "5 without the dataplane the VIP no longer answers" \
	"$([[ "$out" != be[1-4]\ * ]]; echo $?)" "answer: $out"

lb_finish
