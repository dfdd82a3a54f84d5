#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# bench_api.sh - how fast a rule change becomes live through floodgated's
# REST API (shared/API.md), with the real daemon: embedded etcd store, XDP
# dataplane attached (native) to one veth in a network namespace of its
# own. No traffic: this measures the control path only.
#
#   put_applied    100 service changes (PUT /v1/services/bench, a new
#                  weight each time), each timed from sending the PUT to
#                  the first GET /v1/status whose applied_version is the
#                  version the PUT returned; median and worst.
#                  The daemon validates, stores (etcd txn) and applies to
#                  the dataplane before it answers a write, so this is
#                  the PUT's round trip plus one status read; put_rtt is
#                  the PUT's round trip alone.
#   config_1000x10 PUT /v1/config with 1,000 services of 10 backends each
#                  (about 0.7 MB), 3 times (the first creates them, the
#                  others change every weight): the PUT's response time
#                  (parse + validate + dataplane check + store + compile
#                  and flip all tables) and the time until applied_version
#                  matches (the same plus one status read); median, worst.
#   put_applied_1000svc  20 single-service changes with those 1,000
#                  services in place: the per-change cost at that size
#                  (one object parsed, one store shard of 64 written and
#                  watched, the set checked as a view, compiled once with
#                  the rings of unchanged services shared, and only the
#                  map entries that differ written).
#   store_floor_*  the store's own floor: a bare etcd put of the same
#                  bytes (one small service; the shard of 64 that a change
#                  among the 1,000 services writes; the whole set) until
#                  the watch brings it back, on the embedded member's
#                  socket. Then the ratios the targets are stated in.
#
# Prints bench=api case=<case> value=<ms> unit=ms floor=0 lines, then a
# table. Path checks (exit 1): every write succeeds, applied_version
# catches up within 30 s, and after the 1,000-service apply the API lists
# 1,000 services and /v1/stats (read from the dataplane) counts them.
# Exit 77 without root or etcd; 1 on setup errors.
#
# usage: bench/bench_api.sh   (env: FLOODGATED = the built daemon, else
#                             build*/controlplane/floodgated)
# Addresses: 198.18.0.0/15 only, inside the namespace made here.
set -u

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)

skip() {
	echo "bench_api: SKIP: $*" >&2
	exit 77
}

[ "$(id -u)" = 0 ] || skip "needs root (network namespace, XDP)"
for t in ip nsenter python3 timeout; do
	command -v "$t" >/dev/null || skip "$t not found"
done
[ -x /usr/bin/etcd ] || command -v etcd >/dev/null || skip "etcd not installed (etcd-server)"
# bpffs: floodgated mounts it itself when the box has none.
if [ -z "${FLOODGATED:-}" ]; then
	for c in "$root/${FG_BUILDDIR:-build}/controlplane/floodgated" "$root"/build*/controlplane/floodgated; do
		[ -x "$c" ] && FLOODGATED=$c && break
	done
fi
[ -x "${FLOODGATED:-}" ] || { echo "bench_api: floodgated not built (set FLOODGATED)" >&2; exit 1; }

NS=fgba$$
PEER=fgba$$-p
NODE=fgba$$
TMP=$(mktemp -d /tmp/fgba.XXXXXX)
CONF=$TMP/floodgate.conf
PINS=/sys/fs/bpf/floodgate/$NODE
DPID=

cleanup() {
	local i
	if [ -n "$DPID" ]; then
		kill -TERM "$DPID" 2>/dev/null
		for ((i = 0; i < 100; i++)); do
			kill -0 "$DPID" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$DPID" 2>/dev/null; then
			echo "bench_api: warning: floodgated ignored SIGTERM for 10 s; killed" >&2
			kill -KILL "$DPID" 2>/dev/null
		fi
		wait "$DPID" 2>/dev/null
	fi
	if [ -e "$PINS" ]; then
		timeout 30 nsenter --net="/var/run/netns/$NS" "$FLOODGATED" --detach -c "$CONF" \
			>>"$TMP/detach.log" 2>&1 ||
			{ echo "bench_api: warning: floodgated --detach failed:"; cat "$TMP/detach.log"; } >&2
		[ -e "$PINS" ] && rm -rf "$PINS"
	fi
	for n in "$NS" "$PEER"; do
		ip netns pids "$n" 2>/dev/null | xargs -r kill 2>/dev/null
		ip netns del "$n" 2>/dev/null
	done
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

fail() {
	echo "bench_api: $*" >&2
	exit 1
}

# One veth: the daemon attaches XDP to eth0; the peer just holds it up.
ip netns add "$NS" || fail "ip netns add $NS"
ip netns add "$PEER" || fail "ip netns add $PEER"
ip link add eth0 netns "$NS" type veth peer name eth0 netns "$PEER" || fail "veth"
ip -n "$NS" addr add 198.18.0.1/24 dev eth0
ip -n "$NS" addr add 198.19.255.1/16 dev eth0
ip -n "$NS" link set eth0 up
ip -n "$NS" link set lo up
ip -n "$PEER" link set eth0 up

mkdir -p "$TMP/data"
# The default configuration: 1,000 services of 10 backends take 1021-slot
# rings, twice over while a new generation is written beside the live one,
# well inside the default ring array. FG_BENCH_RING_SLOTS sizes it anyway.
RING_SLOTS=${FG_BENCH_RING_SLOTS:-}
cat >"$CONF" <<EOF
node = { name = "$NODE"; group = "default"; };
api = { listen = "127.0.0.1:7380"; };
store = { kind = "embedded"; data_dir = "$TMP/data"; };
dataplane = { kind = "xdp"; interfaces = ["eth0"];${RING_SLOTS:+ ring_slots = $RING_SLOTS;} };
EOF
# The host's mount namespace (nsenter, not ip netns exec): the pins land
# in the host's bpffs, as on a real box. nsenter execs: DPID is the daemon.
(exec nsenter --net="/var/run/netns/$NS" "$FLOODGATED" -c "$CONF") >"$TMP/daemon.log" 2>&1 &
DPID=$!

# The measurements, in the daemon's namespace; python's output is ours.
nsenter --net="/var/run/netns/$NS" python3 - "$DPID" "$TMP/data" <<'PY'
import http.client
import json
import os
import statistics
import sys
import time

dpid = int(sys.argv[1])
API = ("127.0.0.1", 7380)
conn = None


def call(method, path, body=None):
    """One request on a keep-alive connection (reopened when needed):
    (status, parsed JSON or None)."""
    global conn
    data = json.dumps(body).encode() if body is not None else None
    hdr = {"Content-Type": "application/json"} if data is not None else {}
    for attempt in (0, 1):
        if conn is None:
            conn = http.client.HTTPConnection(*API, timeout=120)
        try:
            conn.request(method, path, body=data, headers=hdr)
            r = conn.getresponse()
            raw = r.read()
            return r.status, (json.loads(raw) if raw else None)
        except (OSError, http.client.HTTPException):
            conn.close()
            conn = None
            if attempt:
                raise


def die(msg):
    print("bench_api: path check failed: " + msg, file=sys.stderr)
    sys.exit(1)


def wait_up():
    for _ in range(600):
        try:
            os.kill(dpid, 0)
        except OSError:
            print("bench_api: floodgated exited", file=sys.stderr)
            sys.exit(2)
        try:
            st, s = call("GET", "/v1/status")
            if st == 200 and s["rules_version"] > 0 and \
                    s["applied_version"] == s["rules_version"]:
                return
        except (OSError, http.client.HTTPException, ValueError, KeyError):
            pass
        time.sleep(0.1)
    print("bench_api: the API did not come up in 60 s", file=sys.stderr)
    sys.exit(2)


def timed_write(method, path, body):
    """(ms of the write's round trip, ms until /v1/status shows its
    version applied, status reads it took)."""
    t0 = time.monotonic()
    st, r = call(method, path, body)
    t1 = time.monotonic()
    if st not in (200, 201):
        die("%s %s: HTTP %d %s" % (method, path, st, r))
    ver = r["version"]
    reads = 0
    while True:
        st, s = call("GET", "/v1/status")
        reads += 1
        if st == 200 and s["applied_version"] >= ver:
            break
        if time.monotonic() - t0 > 30:
            die("applied_version %s never reached %d (%s)" % (
                s.get("applied_version"), ver, s.get("apply_error", "")))
        time.sleep(0.0005)
    t2 = time.monotonic()
    return (t1 - t0) * 1000, (t2 - t0) * 1000, reads


def service(vip, port, backends, w):
    return {"vip": vip, "port": port, "proto": "tcp",
            "backends": [{"addr": a, "weight": w} for a in backends]}


def summary(xs):
    return statistics.median(xs), max(xs)


wait_up()
rows = []

# (a) 100 changes of one service.
bk = ["198.19.0.%d" % i for i in range(1, 11)]
timed_write("PUT", "/v1/services/bench", service("198.18.0.10", 80, bk, 100))
rtt, app, reads = [], [], []
for i in range(100):
    a, b, n = timed_write("PUT", "/v1/services/bench",
                          service("198.18.0.10", 80, bk, 1 + i))
    rtt.append(a)
    app.append(b)
    reads.append(n)
rows.append(("put_applied", "PUT -> applied_version (100 changes)", app))
rows.append(("put_rtt", "PUT round trip (same 100)", rtt))
extra_reads = sum(1 for n in reads if n > 1)

# (b) 1,000 services x 10 backends through PUT /v1/config, 3 times.
def big(w):
    svcs = {}
    for i in range(1000):
        vip = "198.18.0.%d" % (10 + i % 90)
        port = 1000 + i // 90
        bks = ["198.19.0.%d" % (1 + (i * 10 + k) % 200) for k in range(10)]
        svcs["s%04d" % i] = service(vip, port, bks, w + i % 7)
    return {"services": svcs, "limits": {}, "routes": {}, "seckill": {}}


cput, capp = [], []
size = 0
for run in range(3):
    body = big(100 + run)
    size = len(json.dumps(body))
    a, b, _ = timed_write("PUT", "/v1/config", body)
    cput.append(a)
    capp.append(b)
rows.append(("config_1000x10_put", "PUT /v1/config 1000x10: response (3 runs)", cput))
rows.append(("config_1000x10_applied", "PUT /v1/config 1000x10 -> applied (3 runs)", capp))

st, svcs = call("GET", "/v1/services")
n_api = len(svcs) if isinstance(svcs, (list, dict)) else -1
if isinstance(svcs, dict) and "services" in svcs:
    n_api = len(svcs["services"])
if st != 200 or n_api != 1000:
    die("GET /v1/services lists %d services, not 1000" % n_api)
st, stats = call("GET", "/v1/stats")
n_dp = len(stats.get("services", {})) if st == 200 else -1
if n_dp != 1000:
    die("/v1/stats counts %d services, not 1000" % n_dp)

# (c) single-service changes with the 1,000 services in place.
big_app = []
for i in range(20):
    _, b, _ = timed_write("PUT", "/v1/services/s0000",
                          service("198.18.0.10", 1000,
                                  ["198.19.0.%d" % k for k in range(1, 11)],
                                  1 + i))
    big_app.append(b)
rows.append(("put_applied_1000svc", "PUT -> applied, 1000 services live (20)", big_app))


def shard_of(name):
    """The store shard of an object (fg_rules_shard: FNV-1a, mod 64)."""
    h = 2166136261
    for ch in name.encode():
        h = ((h ^ ch) * 16777619) & 0xffffffff
    return h % 64


# The text of the shard those changes wrote, as the daemon prints it.
st, conf = call("GET", "/v1/config")
if st != 200:
    die("GET /v1/config: HTTP %d" % st)
mine = shard_of("s0000")
shard_text = json.dumps({"services": {n: v for n, v in conf["services"].items()
                                      if shard_of(n) == mine}},
                        separators=(",", ":")).encode()

# (d) the store's own floor: a bare etcd write of the same bytes and the
# watch event that brings it back, on the embedded member's client
# socket, beside the daemon's figures.
import base64
import socket


class UnixHTTP(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("localhost", timeout=60)
        self.upath = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(self.upath)


def etcd_floor(value, n):
    """ms from a bare put of value to its watch event, n times."""
    sockpath = os.path.join(data_dir, "etcd-sock", "client:0")
    key = base64.b64encode(b"/bench/floor").decode()
    out = []
    for i in range(n):
        w = UnixHTTP(sockpath)
        w.request("POST", "/v3/watch", body=json.dumps(
            {"create_request": {"key": key}}))
        wr = w.getresponse()
        wr.fp.readline()  # the created response
        p = UnixHTTP(sockpath)
        t0 = time.monotonic()
        p.request("POST", "/v3/kv/put", body=json.dumps(
            {"key": key, "value": base64.b64encode(value + b"%d" % i).decode()}))
        p.getresponse().read()
        while True:
            line = wr.fp.readline()
            if not line:
                die("etcd watch ended")
            if b'"events"' in line:
                break
        out.append((time.monotonic() - t0) * 1000)
        w.close()
        p.close()
    return out


data_dir = sys.argv[2]
small = json.dumps(service("198.18.0.10", 80, bk, 7)).encode()
rows.append(("store_floor_small", "etcd put -> watch, %d bytes (20)" % len(small),
             etcd_floor(small, 20)))
rows.append(("store_floor_shard", "etcd put -> watch, %d bytes (20)" % len(shard_text),
             etcd_floor(shard_text, 20)))
rows.append(("store_floor_1000svc", "etcd put -> watch, %d bytes (5)" % size,
             etcd_floor(json.dumps(big(100)).encode(), 5)))

for case, _, xs in rows:
    med, worst = summary(xs)
    print("bench=api case=%s_median value=%.2f unit=ms floor=0" % (case, med))
    print("bench=api case=%s_worst value=%.2f unit=ms floor=0" % (case, worst))
print()
print("%-44s %10s %10s %10s" % ("floodgated API, ms", "median", "worst", "best"))
for _, label, xs in rows:
    med, worst = summary(xs)
    print("%-44s %10.2f %10.2f %10.2f" % (label, med, worst, min(xs)))
med = {case: summary(xs)[0] for case, _, xs in rows}
print()
print("ratios (medians): one change among 1,000 services / one among a few "
      "= %.1f (target <= 2); the 1,000-service set / one small change = %.1f "
      "(target <= 20); store floor, large / small = %.1f, one shard at "
      "1,000 services / small = %.1f" % (
          med["put_applied_1000svc"] / med["put_applied"],
          med["config_1000x10_applied"] / med["put_applied"],
          med["store_floor_1000svc"] / med["store_floor_small"],
          med["store_floor_shard"] / med["store_floor_small"]))
print()
print("PUT /v1/config body: %d bytes; status reads after a PUT that were "
      "not already applied: %d of 100" % (size, extra_reads))
print("The daemon stores and applies a write before answering it: 'PUT ->"
      " applied' is the PUT's round trip plus one GET /v1/status.")
PY
rc=$?
[ "$rc" = 2 ] && { tail -n 20 "$TMP/daemon.log" >&2; exit 1; }
exit "$rc"
