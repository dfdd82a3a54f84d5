#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# test_dpdk_l7.sh - floodgate-dpdk holds the L7 engine of the pushed set's
# L7 section: built in the process for its lcores around the blob
# floodgated compiled (no hyperscan compile there), counters by name over
# STATS, a bad section refused with what runs left running, the section
# kept in --state-file across a kill -9, dropped with the next set.
#
# floodgated does not push l7 rules while its API refuses them (they need
# the engine's TCP side), so the test pushes the way its driver would,
# with fg_l7_push (dataplane/dpdkctl). floodgate-dpdk runs on net_null
# (--no-huge) in a network namespace of its own. Needs root (the EAL);
# exits 77 without it.
# usage: FLOODGATE_DPDK=... FG_L7_PUSH=... test_dpdk_l7.sh
set -u

skip() {
	echo "SKIP: $*"
	exit 77
}

[ "$(id -u)" = 0 ] || skip "needs root (the DPDK EAL)"
[ -x "${FLOODGATE_DPDK:-}" ] || { echo "FAIL: FLOODGATE_DPDK not set"; exit 1; }
[ -x "${FG_L7_PUSH:-}" ] || { echo "FAIL: FG_L7_PUSH not set"; exit 1; }
for t in ip nsenter; do
	command -v "$t" >/dev/null || skip "$t not found"
done

# shellcheck source=lib_dpdk.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib_dpdk.sh"
DP_NS=fgdl$$
TMP=$(mktemp -d /tmp/fgdl.XXXXXX)
SOCK=$TMP/run/dpdk.sock
DP_ARGS=(--no-huge -m 512 --no-pci --no-shconf --log-level=error
	--lcores 0@0,1@1,2@1
	--vdev net_null0 -- --no-tap --tunnel-src4 198.18.0.1
	--state-file "$TMP/run/state")
pass=0
fail=0

DP_LOGS=("$TMP/out" "$TMP/dpdk.log")
trap dp_cleanup EXIT
trap 'exit 1' INT TERM HUP

push() { in_dp "$FG_L7_PUSH" "$SOCK" "$@" >"$TMP/out" 2>&1; }
out_has() { grep -qE "$1" "$TMP/out"; }

ip netns add "$DP_NS" || { echo "FAIL: ip netns add"; exit 1; }
ip -n "$DP_NS" link set lo up
mkdir -p "$TMP/run"
chmod 0700 "$TMP/run"
cat >"$TMP/rules.json" <<'JSON'
{"services": {"shop": {"vip": "198.18.0.10", "port": 80, "mode": "l7",
                       "backends": [{"addr": "198.19.0.1", "port": 8080}]}},
 "limits": {"perip": {"service": "shop", "key": "src_ip", "unit": "rps",
                      "rate": 50, "burst": 50, "action": "respond"}},
 "routes": {"api": {"service": "shop", "priority": 10,
                    "match": {"path_regex": "^/api/v[12]/"},
                    "backends": [{"addr": "198.19.0.5"}, {"addr": "198.19.0.6"}]}},
 "seckill": {"flash": {"service": "shop",
                       "match": {"method": "POST", "path_regex": "^/seckill/[0-9]+/buy$"},
                       "item": "segment:2", "items": ["1001", "1002"],
                       "rate": 500, "burst": 100, "stock": 1000}}}
JSON

: >"$TMP/dpdk.log"
start_dpdk
dp_check "floodgate-dpdk starts with two workers" \
	'wait_for 300 grep -q "2 workers.*running" "$TMP/dpdk.log" && test -S "$SOCK"'
push --stats
dp_check "no section yet: no engine" 'out_has "^no l7 engine$"'

# A set with the section: the engine is built in the process.
push 5 "$TMP/rules.json"
dp_check "a set with an l7 section is applied" \
	'out_has "^applied 5$" &&
	 grep -q "running version 5 (0 services, 0 backends) with an l7 section" "$TMP/dpdk.log"'
push --stats
dp_check "STATS gives the engine's route, rps limit and seckill rule by name" \
	'out_has "^route api 0 0$" && out_has "^limit perip 0 0$" &&
	 out_has "^seckill flash 0 [0-9]+ [0-9]+$"'
dp_check "the listed items have their slots on both lcores" \
	'out_has "^seckill flash 0 4 4$"'

# The stock exchange floodgated's claimers make: an engine of the rule
# with stock per worker lcore, each of its own lineage, every listed item
# announced; a grant lands once, the same again is refused (its compare).
push --stock
dp_check "the stock exchange lists an engine per lcore with its items" \
	'[ "$(grep -c "^engine flash [01] [0-9a-f]\{16\} 1000 250$" "$TMP/out")" = 2 ] &&
	 [ "$(grep -c "^item flash [01] 100[12] 0 0$" "$TMP/out")" = 4 ]'
epochs=$(grep "^engine" "$TMP/out" | awk '{print $4}' | sort | tr '\n' ' ')
push --stock flash 1 1002 40
dp_check "a grant reaches lcore 1's engine" 'out_has "^grant 0 40$"'
push --stock
dp_check "and the engine holds it" 'out_has "^item flash 1 1002 40 0$"'

# A section whose blob is not one: refused, what runs stays.
push 6 "$TMP/rules.json" --bad-blob
rc=$?
dp_check "a bad section is refused with the reason (NACK)" \
	'[ "$rc" = 2 ] && out_has "^refused: .*blob"'
push --stats
dp_check "after the refusal the process runs version 5's engine" \
	'out_has "^route api 0 0$" && ! grep -q "running version 6" "$TMP/dpdk.log"'

# kill -9 and a restart: the state file gives the section back.
kill -KILL "$DP_PID"
wait "$DP_PID" 2>/dev/null
start_dpdk
dp_check "a restart from the state file rebuilds the engine" \
	'wait_for 300 grep -q "rules version 5 with an l7 section" "$TMP/dpdk.log"'
wait_for 100 test -S "$SOCK"
push --stats
dp_check "and STATS gives its counters again" 'out_has "^route api 0 0$"'
push --stock
dp_check "the restarted process's engines are new lineages, from 0" \
	'[ "$(grep -c "^engine flash" "$TMP/out")" = 2 ] &&
	 [ "$(grep "^engine" "$TMP/out" | awk "{print \$4}" | sort | tr "\n" " ")" != "$epochs" ] &&
	 out_has "^item flash 1 1002 0 0$"'

# The next set without a section: the engine goes.
push 7 -
dp_check "a set without a section is applied" 'out_has "^applied 7$"'
push --stats
dp_check "and the engine is gone" 'out_has "^no l7 engine$"'

# A state file of the release before the L7 section (its body without
# the section's 8 bytes): an upgrade restarts with what ran.
stop_pid "$DP_PID"
truncate -s -8 "$TMP/run/state"
start_dpdk
dp_check "a state file without the l7 section (the release before) still starts" \
	'wait_for 300 grep -q "rules version 7, control socket" "$TMP/dpdk.log"'

echo "# $pass passed, $fail failed"
[ "$fail" = 0 ]
