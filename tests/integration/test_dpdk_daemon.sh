#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# test_dpdk_daemon.sh - floodgated driving floodgate-dpdk over its control
# socket (dataplane.kind = "dpdk"), configured only through the API:
#   1. floodgate-dpdk starts empty on a virtual port (net_null, --no-huge);
#      floodgated connects, pushes its rule set, and a service PUT is
#      applied in the process (its log names the version and the counts);
#   2. GET /v1/stats and /metrics read the process's counters;
#   3. kill -9 of floodgated: the process keeps its tables; a restarted
#      floodgated adopts them (status: adopted, same version, ids kept),
#      and a later change is pushed as a delta;
#   4. kill -9 of floodgate-dpdk and a restart (as systemd would): floodgated
#      notices on its own, reconnects, and pushes the whole set again with
#      no request in between; /v1/status shows the process it attached to;
#   5. dataplane.dpdk.mode = "start": floodgated starts floodgate-dpdk
#      itself (the executable beside it, its output in dpdk.log beside the
#      control socket), in a session of its own;
#   6. kill -9 of that process: floodgated starts it again by itself and it
#      runs floodgated's version, with no request in between (the time it
#      took is printed, not asserted); status counts the restart;
#   7. SIGTERM of floodgated leaves the process running; a restarted
#      floodgated adopts it (the same pid, one process, nothing started),
#      and a change after that is applied;
#   8. kill -9 of floodgated while the process it started is starting:
#      the next floodgated runs that one, never a second;
#   9. an upgrade renames a new executable over the one the process runs
#      (dataplane.dpdk.exec, a copy): floodgated keeps the process as its
#      own, so does a restarted one (no second process), and
#      floodgated --detach stops it.
# Traffic through the process on veth belongs to the netns test of the
# DPDK dataplane; this one is the control path's.
#
# Both processes run in a network namespace of their own (the API on its
# loopback). Needs root (the EAL), /usr/bin/etcd; exits 77 without them.
# usage: FLOODGATED=... FLOODGATE_DPDK=... test_dpdk_daemon.sh
set -u

skip() {
	echo "SKIP: $*"
	exit 77
}

[ "$(id -u)" = 0 ] || skip "needs root (the DPDK EAL)"
[ -x /usr/bin/etcd ] || command -v etcd >/dev/null || skip "etcd not installed (etcd-server)"
[ -x "${FLOODGATED:-}" ] || { echo "FAIL: FLOODGATED not set"; exit 1; }
[ -x "${FLOODGATE_DPDK:-}" ] || { echo "FAIL: FLOODGATE_DPDK not set"; exit 1; }
for t in ip nsenter curl python3 timeout; do
	command -v "$t" >/dev/null || skip "$t not found"
done

# shellcheck source=lib_dpdk.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib_dpdk.sh"
DP_NS=fgdd$$
TMP=$(mktemp -d /tmp/fgdd.XXXXXX)
CONF=$TMP/floodgate.conf
SOCK=$TMP/run/dpdk.sock
API=http://127.0.0.1:7393
DP_ARGS=(--no-huge -m 512 --no-pci --no-shconf --log-level=error -l 0-1
	--vdev net_null0 -- --no-tap --tunnel-src4 198.18.0.1
	--route 198.19.0.0/16@0)
pass=0
fail=0

DP_LOGS=("$TMP/daemon.log" "$TMP/dpdk.log" "$TMP/run/dpdk.log")
trap dp_cleanup EXIT
trap 'exit 1' INT TERM HUP

api() { in_dp curl -s -m 10 "$@"; }
dp_runs() { grep -q "running version $1 " "$TMP/dpdk.log"; }
applied_is() { [ "$(jget /v1/status 'd["applied_version"]')" = "$1" ]; }

ip netns add "$DP_NS" || { echo "FAIL: ip netns add"; exit 1; }
ip -n "$DP_NS" link set lo up
mkdir -p "$TMP/data" "$TMP/run"
chmod 0700 "$TMP/run"
dp_conf "$DP_NS" 7393 "$TMP/data" "$SOCK" >"$CONF"

# 1. start, connect, push
: >"$TMP/dpdk.log"
start_dpdk
dp_check "floodgate-dpdk starts with its control socket (0600)" \
	'wait_for 300 test -S "$SOCK" && [ "$(stat -c %a "$SOCK")" = 600 ]'
start_daemon
dp_check "floodgated on the dpdk kind: the store's version applied in the process" \
	'wait_for 300 applied && [ "$(jget /v1/status "d[\"dataplane\"][\"kind\"]")" = dpdk ]'
code=$(api -o /dev/null -w '%{http_code}' -X PUT -d \
	'{"vip": "198.18.0.10", "port": 80, "backends": [{"addr": "198.19.0.5"}, {"addr": "198.19.0.6"}]}' \
	"$API/v1/services/web")
v1=$(jget /v1/status 'd["rules_version"]')
dp_check "PUT a service: 201, applied, and floodgate-dpdk runs that version" \
	'[ "$code" = 201 ] && applied_is "$v1" && wait_for 100 dp_runs "$v1" &&
	 grep -q "running version $v1 (1 services, 2 backends)" "$TMP/dpdk.log"'

# 2. counters come from the process
dp_check "GET /v1/stats lists the service and its backends from the process" \
	'[ "$(jget /v1/stats "len(d[\"services\"][\"web\"][\"backends\"])")" = 2 ]'
dp_check "/metrics answers on the dpdk kind" \
	'api "$API/metrics" | grep -q "^floodgate_"'

# 3. kill -9 of floodgated: the process keeps forwarding with its tables
kill -KILL "$FGD_PID"
wait "$FGD_PID" 2>/dev/null
FGD_PID=
dp_check "kill -9 of floodgated leaves floodgate-dpdk running" 'kill -0 "$DP_PID"'
# Its embedded etcd follows it (parent-death signal): wait for the socket
# to be free before the restart.
wait_for 300 etcd_gone
start_daemon
dp_check "a restarted floodgated adopts the process's set at the same version" \
	'wait_for 300 applied_is "$v1" &&
	 [ "$(jget /v1/status "d[\"dataplane\"][\"adopted\"]")" = True ]'
code=$(api -o /dev/null -w '%{http_code}' -X PUT -d \
	'{"vip": "198.18.0.11", "port": 443, "backends": [{"addr": "198.19.0.7"}]}' \
	"$API/v1/services/api")
v2=$(jget /v1/status 'd["rules_version"]')
dp_check "a change after the restart is applied by the process" \
	'[ "$code" = 201 ] && [ "$v2" -gt "$v1" ] && applied_is "$v2" &&
	 wait_for 100 dp_runs "$v2"'

# A start that cannot work (an option the EAL refuses): floodgated stops
# with what the process said, and leaves nothing behind.
mkdir -p "$TMP/bad"
dp_conf "$DP_NS" 7395 "$TMP/bad" "$TMP/bad/dpdk.sock" \
	'mode = "start"; args = ["--no-such-eal-option", "--no-huge"];' >"$TMP/bad.conf"
in_dp timeout 60 "$FLOODGATED" -c "$TMP/bad.conf" >"$TMP/bad.log" 2>&1
rc=$?
dp_check "a start the EAL refuses: floodgated exits 1 and says what the process said" \
	'[ "$rc" = 1 ] &&
	 grep -q "exited with status 1 before it answered.*no-such-eal-option" "$TMP/bad.log" &&
	 [ -z "$(ip netns pids "$DP_NS" | while read -r p; do
		grep -qs "$TMP/bad" "/proc/$p/cmdline" && echo "$p"; done)" ]'

proc() { jget /v1/status "d[\"dataplane\"][\"process\"][\"$1\"]"; }
# The supervision runs where main hands the driver its loop
# (fg_dp_supervise) and /v1/status shows it: a floodgated built without
# that wiring cannot pass what follows.
if [ -z "$(proc mode)" ]; then
	echo "$pass passed, $fail failed"
	[ "$fail" = 0 ] || exit 1
	skip "this floodgated does not supervise floodgate-dpdk (no dataplane.process in /v1/status: main does not call fg_dp_supervise)"
fi
dp_check "status: the process floodgated attached to (mode attach, its pid)" \
	'[ "$(proc mode)" = attach ] && [ "$(proc state)" = running ] &&
	 [ "$(proc pid)" = "$DP_PID" ] && [ "$(proc started)" = False ]'

# 4. kill -9 of floodgate-dpdk and a restart by someone else (systemd)
kill -KILL "$DP_PID"
wait "$DP_PID" 2>/dev/null
DP_PID=
# A fresh log: what follows must come from the new process.
: >"$TMP/dpdk.log"
start_dpdk
# No request from here on: floodgated reconnects by itself.
dp_check "a restarted floodgate-dpdk gets the whole set from floodgated, unasked" \
	'wait_for 300 grep -q "running version $v2 (2 services, 3 backends)" "$TMP/dpdk.log"'
dp_check "status: attached again, one reconnect" \
	'[ "$(proc pid)" = "$DP_PID" ] && [ "$(proc reconnects)" = 1 ]'

# 5. mode "start": floodgated runs floodgate-dpdk itself
stop_pid "$FGD_PID"
FGD_PID=
stop_pid "$DP_PID"
DP_PID=
wait_for 300 etcd_gone
RUNLOG=$TMP/run/dpdk.log
PIDFILE=$TMP/run/dpdk.pid
# No exec: the floodgate-dpdk beside floodgated (the build tree's).
dp_conf "$DP_NS" 7393 "$TMP/data" "$SOCK" \
	"mode = \"start\"; args = $(dp_list "${DP_ARGS[@]}");" >"$CONF"
dp_check "floodgated --check takes the start settings" \
	'"$FLOODGATED" --check -c "$CONF" >/dev/null'
start_daemon
# dp_pids: the floodgate-dpdk processes of the namespace.
dp_pids() {
	local p
	for p in $(ip netns pids "$DP_NS" 2>/dev/null); do
		[ "$(cat "/proc/$p/comm" 2>/dev/null)" = floodgate-dpdk ] && echo "$p"
	done
}
dp_check "floodgated starts floodgate-dpdk and it runs the stored version" \
	'wait_for 600 applied && [ "$(proc state)" = running ] &&
	 [ "$(proc started)" = True ] && [ "$(proc mode)" = start ] &&
	 grep -q "running version $v2 (2 services, 3 backends)" "$RUNLOG"'
P1=$(proc pid)
dp_check "the process is the pid file's, alone, in a session of its own" \
	'[ -n "$P1" ] && [ "$(cat "$PIDFILE")" = "$P1" ] && [ "$(dp_pids)" = "$P1" ] &&
	 [ "$(ps -o sid= -p "$P1" | tr -d " ")" = "$P1" ]'

# 6. kill -9 of the process: floodgated starts it again, unasked
runs=$(grep -c "running version $v2 " "$RUNLOG")
more_runs() { [ "$(grep -c "running version $v2 " "$RUNLOG")" -gt "$runs" ]; }
t0=$(date +%s%N)
kill -KILL "$P1"
# No request until the process runs floodgated's version again.
dp_check "floodgated restarts a killed floodgate-dpdk and pushes its version, unasked" \
	'until_ms 60000 more_runs'
t1=$(date +%s%N)
echo "# kill -9 to floodgated's version running again: $(( (t1 - t0) / 1000000 )) ms"
P2=$(proc pid)
dp_check "status: a new pid, started by floodgated, one restart, how the last one ended" \
	'[ -n "$P2" ] && [ "$P2" != "$P1" ] && [ "$(proc restarts)" = 1 ] &&
	 [ "$(proc started)" = True ] && proc last_exit | grep -q "signal 9" &&
	 [ "$(dp_pids)" = "$P2" ]'

# 7. SIGTERM of floodgated leaves it running; a restart adopts it
stop_pid "$FGD_PID"
FGD_PID=
dp_check "SIGTERM of floodgated leaves floodgate-dpdk running" 'kill -0 "$P2"'
wait_for 300 etcd_gone
starts=$(grep -c "^--- floodgated" "$RUNLOG")
start_daemon
dp_check "a restarted floodgated adopts the running process: same pid, nothing started" \
	'wait_for 300 applied_is "$v2" && [ "$(proc pid)" = "$P2" ] &&
	 [ "$(proc started)" = True ] && [ "$(proc restarts)" = 0 ] &&
	 [ "$(jget /v1/status "d[\"dataplane\"][\"adopted\"]")" = True ] &&
	 [ "$(grep -c "^--- floodgated" "$RUNLOG")" = "$starts" ] &&
	 [ "$(dp_pids)" = "$P2" ]'
code=$(api -o /dev/null -w '%{http_code}' -X PUT -d \
	'{"vip": "198.18.0.12", "port": 80, "backends": [{"addr": "198.19.0.8"}]}' \
	"$API/v1/services/www")
v3=$(jget /v1/status 'd["rules_version"]')
dp_check "a change after the adoption is applied by the adopted process" \
	'[ "$code" = 201 ] && applied_is "$v3" &&
	 wait_for 100 grep -q "running version $v3 (3 services, 4 backends)" "$RUNLOG"'

# 8. floodgated dies while the process it started is still starting: the
# next floodgated takes that one (the pid file names it) or adopts it
# once it answers - never a second process.
stop_pid "$FGD_PID"
FGD_PID=
kill -KILL "$P2"
wait_for 300 etcd_gone
starts=$(grep -c "^--- floodgated" "$RUNLOG")
start_daemon
new_pid() { [ "$(grep -c "^--- floodgated" "$RUNLOG")" -gt "$starts" ] &&
	    [ -s "$PIDFILE" ] && [ "$(cat "$PIDFILE")" != "$P2" ]; }
until_ms 60000 new_pid
P3=$(cat "$PIDFILE")
kill -KILL "$FGD_PID"
wait "$FGD_PID" 2>/dev/null
FGD_PID=
dp_check "kill -9 of floodgated during the start leaves the process starting" \
	'kill -0 "$P3"'
wait_for 300 etcd_gone
start_daemon
dp_check "the next floodgated runs that very process, and no second one" \
	'wait_for 600 applied && [ "$(proc pid)" = "$P3" ] && [ "$(dp_pids)" = "$P3" ] &&
	 [ "$(grep -c "^--- floodgated" "$RUNLOG")" = $((starts + 1)) ] &&
	 grep -q "running version $v3 (3 services, 4 backends)" "$RUNLOG"'

# 9. an upgrade under the running process (exec: a copy of ours)
stop_pid "$FGD_PID"
FGD_PID=
stop_pid "$P3"
wait_for 300 etcd_gone
mkdir -p "$TMP/bin"
EXE=$TMP/bin/floodgate-dpdk
cp "$FLOODGATE_DPDK" "$EXE"
dp_conf "$DP_NS" 7393 "$TMP/data" "$SOCK" \
	"mode = \"start\"; exec = \"$EXE\"; args = $(dp_list "${DP_ARGS[@]}");" \
	>"$TMP/up.conf"
start_daemon "$TMP/up.conf"
wait_for 600 applied
P4=$(proc pid)
cp "$FLOODGATE_DPDK" "$EXE.new" && mv -f "$EXE.new" "$EXE"
# Past the 1 s probe of the process, twice.
sleep 2.5
dp_check "an upgraded executable: floodgated keeps the running process (same pid, none started)" \
	'[ -n "$P4" ] && readlink "/proc/$P4/exe" | grep -q " (deleted)$" &&
	 [ "$(proc pid)" = "$P4" ] && [ "$(proc state)" = running ] &&
	 [ "$(proc restarts)" = 0 ] && [ "$(dp_pids)" = "$P4" ]'
stop_pid "$FGD_PID"
FGD_PID=
wait_for 300 etcd_gone
start_daemon "$TMP/up.conf"
dp_check "a restarted floodgated adopts the upgraded node's process, and no second one" \
	'wait_for 600 applied && [ "$(proc pid)" = "$P4" ] &&
	 [ "$(jget /v1/status "d[\"dataplane\"][\"adopted\"]")" = True ] &&
	 [ "$(dp_pids)" = "$P4" ]'
stop_pid "$FGD_PID"
FGD_PID=
wait_for 300 etcd_gone
timeout 60 nsenter --net="/var/run/netns/$DP_NS" "$FLOODGATED" --detach \
	-c "$TMP/up.conf" >>"$TMP/daemon.log" 2>&1
rc=$?
dp_check "floodgated --detach stops the upgraded node's process" \
	'[ "$rc" = 0 ] && wait_for 100 eval "! kill -0 $P4 2>/dev/null" &&
	 [ -z "$(dp_pids)" ]'

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
