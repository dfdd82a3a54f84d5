#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# test_fgctl.sh - fgctl against fake_api.py, a stand-in for floodgated's
# REST API (shared/API.md) that logs every request it gets.
#
# Checks: the requests fgctl sends (method, path, body, If-Match,
# Authorization), its exit codes (0 ok, 1 API error, 2 usage, 3
# unreachable), --json output byte for byte equal to the answer, the
# values in its tables, --help for every command and subcommand, and that
# bad arguments fail with exit 2 and a message before any request.
#
# Needs python3 only; no root, no network beyond 127.0.0.1. Prints
# "N passed, M failed" and exits 1 when anything failed.
#
# usage: test_fgctl.sh   (env: FGCTL = the built fgctl; without it a
#                         build*/controlplane/fgctl, else compiled with $CC)
set -u

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$here/../..

skip() {
	echo "SKIP: $*"
	exit 77
}

command -v python3 >/dev/null || skip "python3 not found"
# The interpreter itself, not a version-manager shim: the checks run it
# a few hundred times.
PY=$(python3 -c 'import sys; print(sys.executable)') || skip "python3 does not run"

TMP=$(mktemp -d /tmp/fgctl-test.XXXXXX)
SRV_PID=
cleanup() {
	if [ -n "$SRV_PID" ]; then
		kill "$SRV_PID" 2>/dev/null
		wait "$SRV_PID" 2>/dev/null
	fi
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

if [ -z "${FGCTL:-}" ]; then
	for c in "$top"/build*/controlplane/fgctl; do
		[ -x "$c" ] && FGCTL=$c && break
	done
fi
if [ -z "${FGCTL:-}" ]; then
	CC=${CC:-gcc}
	command -v "$CC" >/dev/null || skip "fgctl not built (set FGCTL) and no $CC"
	if ! "$CC" -O2 -Wall -Wextra -Werror -std=gnu11 "$top"/controlplane/fgctl*.c \
	     -lcurl -ljansson -o "$TMP/fgctl"; then
		echo "FAIL: cannot compile fgctl"
		exit 1
	fi
	FGCTL=$TMP/fgctl
fi
[ -x "$FGCTL" ] || { echo "FAIL: $FGCTL is not executable"; exit 1; }

# Nothing from the caller's environment may steer fgctl.
unset FLOODGATE_API FLOODGATE_TOKEN http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY

LOG=$TMP/requests.log
OUT=$TMP/out
ERR=$TMP/err
TOK=$TMP/token
: >"$LOG"
printf 's3cret\n' >"$TOK"

"$PY" "$here/fake_api.py" --port-file "$TMP/port" --log "$LOG" --token s3cret &
SRV_PID=$!
for _ in $(seq 200); do
	[ -s "$TMP/port" ] && break
	sleep 0.05
done
[ -s "$TMP/port" ] || { echo "FAIL: the fake API did not start"; exit 1; }
API=http://127.0.0.1:$(cat "$TMP/port")
# A port nobody listens on: bound, then released.
CLOSED=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')

# ---------------------------------------------------------------- helpers

pass=0
fail=0
RC=
MARK=0

# fgx ARGS...: run fgctl as is; stdout in $OUT, stderr in $ERR, status
# in $RC, the log's length before in $MARK. stdin is /dev/null unless
# $STDIN names a file.
fgx() {
	MARK=$(wc -l <"$LOG")
	"$FGCTL" "$@" >"$OUT" 2>"$ERR" <"${STDIN:-/dev/null}"
	RC=$?
}

# fg ARGS...: fgctl pointed at the fake with the right token.
fg() {
	fgx --api "$API" --token-file "$TOK" "$@"
}

# check DESC EXPR: count EXPR (shell, eval'd) as a pass or a failure.
check() {
	local desc=$1
	shift
	if eval "$*"; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		echo "FAIL: $desc"
		echo "  check: $*"
		echo "  exit status: $RC"
		sed -n '1,15s/^/  stdout: /p' "$OUT"
		sed -n '1,8s/^/  stderr: /p' "$ERR"
	fi
}

rc_is() { [ "$RC" = "$1" ]; }
out_has() { grep -qE -- "$1" "$OUT"; }
err_has() { grep -qE -- "$1" "$ERR"; }
out_empty() { [ ! -s "$OUT" ]; }
# no_req: the last run sent no request at all.
no_req() { [ "$(wc -l <"$LOG")" = "$MARK" ]; }

# req PYEXPR: a Python expression over the requests of the last run: R
# (list of log records), body(i) (request i's body as JSON), raw(i) (its
# bytes), H(i) (its headers), resp(i) (the answer as JSON).
req() {
	"$PY" - "$LOG" "$MARK" "$1" <<'EOF'
import base64, json, sys
log, mark, expr = sys.argv[1], int(sys.argv[2]), sys.argv[3]
R = [json.loads(l) for l in open(log).read().splitlines()[mark:]]
def raw(i): return base64.b64decode(R[i]["body_b64"])
def body(i): return json.loads(raw(i))
def H(i): return R[i]["headers"]
def resp(i): return json.loads(base64.b64decode(R[i]["response_b64"]))
try:
    ok = eval(expr)
except Exception as e:
    ok = False
    print("  req: %r raised %r" % (expr, e))
if not ok:
    for r in R:
        print("  request: %s %s if-match=%s -> %s %s" % (r["method"], r["path"],
              r["headers"].get("if-match"), r["status"], r["body"][:300]))
sys.exit(0 if ok else 1)
EOF
}

# out_is_answer [I]: stdout is byte for byte the body of answer I (default
# the last one) of the last run.
out_is_answer() {
	"$PY" - "$LOG" "$MARK" "$OUT" "${1:--1}" <<'EOF'
import base64, json, sys
log, mark, out, i = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
R = [json.loads(l) for l in open(log).read().splitlines()[mark:]]
want = base64.b64decode(R[i]["response_b64"]) if R else None
got = open(out, "rb").read()
if got != want:
    print("  stdout %r\n  answer %r" % (got[:200], want and want[:200]))
sys.exit(0 if got == want else 1)
EOF
}

# ------------------------------------------------------------------- help

fgx --help
check "--help exits 0" 'rc_is 0 && out_has "^usage: fgctl"'
cmds=$(awk '/^commands:/ { f = 1; next } f && /^$/ { f = 0 } f { print $1 }' "$OUT" | tr '\n' ' ')
check "--help lists exactly the commands that exist" \
	'[ "$cmds" = "status service backend limit route seckill apply config stats nodes " ]'
check "--help documents the exit codes" 'out_has "0 ok, 1 the API answered with an error, 2 usage error"'
subs=$(awk '/^commands:/ { f = 1; next } f && /^$/ { f = 0 } f && /\|/ { sub(/:.*/, ""); print }' "$OUT")

for c in $cmds; do
	fg "$c" --help
	check "$c --help" 'rc_is 0 && out_has "^usage: fgctl $c" && no_req'
done
while read -r c list; do
	for s in $(echo "$list" | tr -d '|'); do
		fg "$c" "$s" --help
		check "$c $s --help" 'rc_is 0 && out_has "^ *(usage: )?fgctl $c $s" && no_req'
	done
done <<<"$subs"
fg config get --help
check "config get --help" 'rc_is 0 && out_has "^usage: fgctl config get"'
fgx -h
check "-h is --help" 'rc_is 0 && out_has "^commands:"'
fgx --version
check "--version" 'rc_is 0 && out_has "^fgctl [0-9]+\.[0-9]+"'

# ---------------------------------------------------------- usage errors

usage_case() {
	local desc=$1 pat=$2
	shift 2
	fg "$@"
	check "usage: $desc" 'rc_is 2 && err_has "$pat" && out_empty && no_req'
}
fgx
check "usage: no command, the main help on stderr" \
	'rc_is 2 && err_has "missing the command" && err_has "^commands:" && err_has "^  --timeout SECONDS   give up" && out_empty'
usage_case "unknown command" "unknown command 'frobnicate'" frobnicate
usage_case "unknown global option" "unknown option '--frob'" --frob status
usage_case "unknown command option" "unknown option '--frob'" service ls --frob
usage_case "extra word after status" "unexpected argument 'now'" status now
usage_case "service without subcommand" "missing the subcommand" service
usage_case "unknown subcommand" "unknown subcommand 'list'" service list
usage_case "service get without a name" "missing the NAME" service get
usage_case "service set without fields" "give --file FILE or the service" service set web
usage_case "service set --file with flags" "--file and --vip exclude each other" \
	service set web --file x.json --vip 198.18.0.1
usage_case "service set without a name" "missing the service NAME" service set --vip 198.18.0.1
usage_case "--vip not an address" "--vip: 'example.com' is not an IP address" \
	service set web --vip example.com --port 80
usage_case "--port not a number" "--port: '8o' is not a whole number" \
	service set web --vip 198.18.0.1 --port 8o
usage_case "--backend unknown option" "unknown option 'color'" \
	service set web --vip 198.18.0.1 --backend 198.19.0.1,color=red
usage_case "--backend bad weight" "backend weight: 'heavy' is not a whole number" \
	service set web --vip 198.18.0.1 --backend 198.19.0.1,weight=heavy
usage_case "--health-path without --health" "--health-path needs --health" \
	service set web --vip 198.18.0.1 --health-path /x
usage_case "option without its value" "--port needs a value" service set web --vip 198.18.0.1 --port
usage_case "--if-version not a number" "--if-version: 'latest' is not a whole number" \
	service rm web --if-version latest
usage_case "backend add without address" "missing ADDR" backend add web
usage_case "backend add without anything" "missing SERVICE and ADDR" backend add
usage_case "backend port not a number" "backend port: 'http' is not a whole number" \
	backend add web 198.19.0.9:http
usage_case "backend address not an IP" "'300.1.1.1' is not an IP address" backend add web 300.1.1.1
usage_case "unclosed IPv6 bracket" "missing ']'" backend add web '[2001:db8::1:80'
usage_case "IPv4 in brackets" "is not an IPv6 address" backend add web '[198.19.0.1]:80'
usage_case "backend options on backend add" "is not an IP address" backend add web 198.19.0.1,weight=5
usage_case "set-weight without weight" "missing the weight W" backend set-weight web 198.19.0.1
usage_case "set-weight weight not a number" "weight: 'heavy' is not a whole number" \
	backend set-weight web 198.19.0.1 heavy
usage_case "--weight on drain" "unknown option '--weight'" backend drain web 198.19.0.1 --weight 3
usage_case "limit set without a name" "missing the limit NAME" limit set --unit pps
usage_case "limit set with an empty name" "the limit NAME is empty" limit set '' --unit pps
usage_case "service set with an empty name" "the service NAME is empty" service set '' --vip 198.18.0.1
usage_case "limit set without fields" "give --file FILE or the limit's fields" limit set l1
usage_case "limit set --file with flags" "--file and --rate exclude each other: the file is the whole limit" \
	limit set l1 --file x.json --rate 3
usage_case "--health-* before --health is missing" "--health-rise needs --health tcp\|http" \
	service set web --vip 198.18.0.1 --health-rise 3
usage_case "limit --rate not a number" "--rate: 'fast' is not a whole number" \
	limit set l1 --unit pps --rate fast
usage_case "limit --match-src not a CIDR" "--match-src: '198.18.0.0/x' is not ADDR or ADDR/LEN" \
	limit set l1 --match-src 198.18.0.0/x
usage_case "--dry-run takes no value" "--dry-run takes no value" limit set l1 --dry-run=yes
usage_case "apply without -f" "missing -f FILE" apply
usage_case "apply with a missing file" "cannot open $TMP/nonexistent.json" apply -f "$TMP/nonexistent.json"
usage_case "stats --count 0" "--count: must be at least 1" stats --count 0
usage_case "stats --watch -1" "unknown option '-1'" stats --watch -1
usage_case "stats extra word" "unexpected argument 'web'" stats web
usage_case "config without get" "missing the subcommand" config
fgx --api ftp://127.0.0.1/ status
check "usage: --api with a non-HTTP scheme" 'rc_is 2 && err_has "must start with http:// or https://" && no_req'
fgx --api "$API" --token-file "$TMP/nonexistent" status
check "usage: unreadable token file" 'rc_is 2 && err_has "cannot open $TMP/nonexistent" && no_req'
printf 'a\nb\n' >"$TMP/badtoken"
fgx --api "$API" --token-file "$TMP/badtoken" status
check "usage: token with an inner newline" 'rc_is 2 && err_has "control character" && no_req'
fgx --api "$API" --timeout 0 status
check "usage: --timeout 0" 'rc_is 2 && err_has "at least 1 second" && no_req'
fgx --api "$API" --timeout 3601 status
check "usage: --timeout over an hour" 'rc_is 2 && err_has "--timeout: .3601. is larger than 3600" && no_req'
printf '\n' >"$TMP/emptytoken"
fgx --api "$API" --token-file "$TMP/emptytoken" status
check "usage: empty token file" 'rc_is 2 && err_has "the token is empty" && no_req'

# ------------------------------------------------------- reach and auth

fg status
check "status: GET /v1/status with the bearer token (newline trimmed)" \
	'rc_is 0 && req "len(R) == 1 and R[0][\"method\"] == \"GET\" and R[0][\"path\"] == \"/v1/status\" and H(0)[\"authorization\"] == \"Bearer s3cret\" and H(0)[\"accept\"] == \"application/json\""'
check "status: fields as key: value" \
	'out_has "^node: +edge-1$" && out_has "^dataplane\.interfaces: +eth0, eth1$" && out_has "^store\.healthy: +yes$" && out_has "^description: +Zürich rack 3$"'
check "status: rules and applied version in sync" 'out_has "^sync: applied \(version [0-9]+ is live\)$"'
fg --json status
check "status --json: the answer byte for byte" 'rc_is 0 && out_is_answer'
fgx status --api "$API" --token-file "$TOK" --json
check "global options after the command" 'rc_is 0 && out_is_answer'
fgx "--api=$API" "--token-file=$TOK" status
check "--api=URL and --token-file=FILE forms" 'rc_is 0 && out_has "^node: +edge-1$"'
fgx --api "$API/" --token-file "$TOK" status
check "--api with a trailing slash" 'rc_is 0 && req "R[0][\"path\"] == \"/v1/status\""'

FLOODGATE_API=$API FLOODGATE_TOKEN=s3cret fgx status
check "\$FLOODGATE_API and \$FLOODGATE_TOKEN" \
	'rc_is 0 && req "len(R) == 1 and H(0)[\"authorization\"] == \"Bearer s3cret\""'
FLOODGATE_API=http://127.0.0.1:$CLOSED fgx --api "$API" --token-file "$TOK" status
check "--api wins over \$FLOODGATE_API" 'rc_is 0 && req "len(R) == 1"'
FLOODGATE_TOKEN=wrong fgx --api "$API" --token-file "$TOK" status
check "--token-file wins over \$FLOODGATE_TOKEN" \
	'rc_is 0 && req "H(0)[\"authorization\"] == \"Bearer s3cret\""'
printf 's3cret\r\n' >"$TMP/crlf"
fgx --api "$API" --token-file "$TMP/crlf" status
check "token file with CRLF" 'rc_is 0 && req "H(0)[\"authorization\"] == \"Bearer s3cret\""'

fgx --api "$API" status
check "no token: 401, the server's message, a hint, no header sent" \
	'rc_is 1 && err_has "missing or bad bearer token" && err_has "HTTP 401 unauthenticated" && err_has "hint: .*--token-file" && req "\"authorization\" not in H(0)"'
FLOODGATE_TOKEN=wrong fgx --api "$API" status
check "wrong token: exit 1" 'rc_is 1 && err_has "unauthenticated"'
fgx --api "http://127.0.0.1:$CLOSED" status
check "closed port: exit 3" 'rc_is 3 && err_has "cannot reach the API at http://127.0.0.1:$CLOSED" && out_empty'
fgx --api "http://127.0.0.1:$CLOSED" --json stats
check "closed port with --json: exit 3, nothing on stdout" 'rc_is 3 && out_empty'
fgx status
if [ "$RC" = 3 ]; then
	check "default API is http://127.0.0.1:7380" 'err_has "http://127.0.0.1:7380"'
else
	check "default API answers at 127.0.0.1:7380" 'rc_is 0 || rc_is 1'
fi

# ------------------------------------------------------------- services

fg service ls
check "service ls: GET /v1/services" 'rc_is 0 && req "len(R) == 1 and R[0][\"method\"] == \"GET\" and R[0][\"path\"] == \"/v1/services\""'
check "service ls: table" \
	'out_has "^NAME +VIP +PORT +PROTO +MODE +FORWARD +HASH +BACKENDS +HEALTH$" && out_has "^web +198\.18\.0\.10 +80 +tcp +l4 +dsr-ipip +5tuple +3 \(2 active\) +tcp$" && out_has "^v6 +2001:db8::10 +443 +tcp +l4 +nat +src_ip +1 \(1 active\) +-$"'
check "service ls: sorted by name" '[ "$(awk "NR > 1 { print \$1 }" "$OUT" | tr "\n" " ")" = "flaky noetag racy v6 web " ]'
fg service ls --json
check "service ls --json: the answer byte for byte" 'rc_is 0 && out_is_answer'

fg service get web
check "service get: GET /v1/services/web" 'rc_is 0 && req "R[0][\"path\"] == \"/v1/services/web\""'
check "service get: fields and backends" \
	'out_has "^name: +web$" && out_has "^vip: +198\.18\.0\.10$" && out_has "^health\.fall: +3$" && out_has "^198\.19\.0\.2 +8081 +50 +active$" && out_has "^198\.19\.0\.2 +8080 +100 +drain$"'
fg --json service get v6
check "service get --json: byte for byte" 'rc_is 0 && out_is_answer'
fg service get nosuch
check "service get missing: exit 1 with the server's message" \
	"rc_is 1 && err_has \"no service named 'nosuch'\" && err_has 'HTTP 404 not_found' && out_empty"
fg --json service get nosuch
check "service get missing --json: the error body byte for byte" 'rc_is 1 && out_is_answer && err_has "not_found"'
fg service get broken
check "a 500 with a plain-text body" 'rc_is 1 && err_has "HTTP 500: internal kaboom$"'
fg service get boxed
check "service get of a wrapped answer: unwrapped, named, no version" \
	'rc_is 0 && out_has "^name: +boxed$" && out_has "^vip: +198\.18\.0\.23$" && out_has "^no backends$" && ! out_has "^version:" && ! out_has "^service"'
fg limit get boxed
check "limit get of a wrapped answer: unwrapped" \
	'rc_is 0 && out_has "^name: +boxed$" && out_has "^rate: +7$" && ! out_has "^version:" && ! out_has "^no backends"'
fg service get 'a/b?c'
check "names are percent-encoded into the path" 'rc_is 1 && req "R[0][\"path\"] == \"/v1/services/a%2Fb%3Fc\""'

fg service set api2 --vip 2001:db8::20 --port 8443 --proto tcp --mode l4 --forward dsr-gue \
	--hash src_ip --backend '[2001:db8::1]:8080,weight=50,state=drain' --backend 2001:db8::2 \
	--backend '[2001:db8::3]' --backend '2001:db8::4,state=down' --health http --health-path /healthz \
	--health-interval 2000 --health-timeout 300 --health-rise 4 --health-fall 5 --health-port 9000 \
	--health-expect 204
check "service set (flags): PUT with the built object" \
	'rc_is 0 && req "len(R) == 1 and R[0][\"method\"] == \"PUT\" and R[0][\"path\"] == \"/v1/services/api2\" and \"if-match\" not in H(0) and H(0)[\"content-type\"] == \"application/json\" and body(0) == {\"vip\": \"2001:db8::20\", \"port\": 8443, \"proto\": \"tcp\", \"mode\": \"l4\", \"forward\": \"dsr-gue\", \"hash\": \"src_ip\", \"backends\": [{\"addr\": \"2001:db8::1\", \"port\": 8080, \"weight\": 50, \"state\": \"drain\"}, {\"addr\": \"2001:db8::2\"}, {\"addr\": \"2001:db8::3\"}, {\"addr\": \"2001:db8::4\", \"state\": \"down\"}], \"health\": {\"type\": \"http\", \"path\": \"/healthz\", \"interval_ms\": 2000, \"timeout_ms\": 300, \"rise\": 4, \"fall\": 5, \"port\": 9000, \"expect_status\": 204}}"'
check "service set: created, with the new version" 'out_has "^service api2 created \(version [0-9]+\)$"'
fg service set api3 --vip 198.18.0.30 --port 0
check "service set: only the fields given" 'rc_is 0 && req "body(0) == {\"vip\": \"198.18.0.30\", \"port\": 0}"'

printf '{ "vip": "198.18.0.31",\n  "port": 81, "backends": [] }\n' >"$TMP/svc.json"
STDIN=$TMP/svc.json fg service set api3 --file -
check "service set --file -: stdin sent unchanged, replaced" \
	'rc_is 0 && req "raw(0) == open(\"$TMP/svc.json\", \"rb\").read()" && out_has "^service api3 replaced \(version [0-9]+\)$"'
fg service set api3 --file "$TMP/svc.json" --if-version 1
check "service set --if-version: If-Match, 412 reported" \
	'rc_is 1 && req "H(0)[\"if-match\"] == \"\\\"1\\\"\"" && err_has "version_mismatch" && err_has "no longer at that version"'
fg service set api3 --vip 198.18.0.31 --port 70000
check "a 400: the server's message and field" \
	'rc_is 1 && err_has "port: must be 0\.\.65535 \(field: port\) \[HTTP 400 invalid_argument\]"'
fg service rm api3
check "service rm: DELETE" \
	'rc_is 0 && req "len(R) == 1 and R[0][\"method\"] == \"DELETE\" and R[0][\"path\"] == \"/v1/services/api3\" and R[0][\"body\"] == \"\"" && out_has "^service api3 deleted \(version [0-9]+\)$"'
fg service rm api3
check "service rm missing: 404" 'rc_is 1 && err_has "not_found"'
fg service rm web
check "service rm of a service a limit names: 409" 'rc_is 1 && err_has "limit .perip. still names" && err_has "conflict"'
fg --json service rm api2
check "service rm --json: the answer byte for byte" 'rc_is 0 && out_is_answer'

# ------------------------------------------------------------- backends

# be_check DESC PYEXPR: the last run was GET + PUT of one service, the PUT
# conditional on the GET's ETag, and PYEXPR holds (g: the service read,
# p: the service written; fields other than backends unchanged).
be_check() {
	check "$1" "req 'len(R) == 2 and R[0][\"method\"] == \"GET\" and R[1][\"method\"] == \"PUT\" and R[0][\"path\"] == R[1][\"path\"] and H(1)[\"if-match\"] == R[0][\"etag\"] and (lambda g, p: {k: v for k, v in g.items() if k != \"backends\"} == {k: v for k, v in p.items() if k != \"backends\"} and ($2))(resp(0), body(1))'"
}

fg backend add web 198.19.0.3:8080 --weight 7
be_check "backend add: appended" 'p["backends"] == g["backends"] + [{"addr": "198.19.0.3", "port": 8080, "weight": 7}]'
check "backend add: message" 'rc_is 0 && out_has "^backend 198\.19\.0\.3:8080 added to service web \(version [0-9]+\)$"'
fg backend drain web 198.19.0.1:8080
be_check "backend drain: state drain, nothing else" \
	'p["backends"][0] == dict(g["backends"][0], state="drain") and p["backends"][1:] == g["backends"][1:]'
fg backend set-weight web 198.19.0.1 0
be_check "backend set-weight by address alone" \
	'p["backends"][0] == dict(g["backends"][0], weight=0) and p["backends"][1:] == g["backends"][1:]'
fg backend rm web 198.19.0.3:8080
be_check "backend rm" 'p["backends"] == g["backends"][:3] and len(g["backends"]) == 4'
check "backend rm: message" 'rc_is 0 && out_has "^backend 198\.19\.0\.3:8080 removed from service web"'
fg backend rm web 198.19.0.99
check "backend rm of a missing backend: exit 1, no PUT" \
	'rc_is 1 && err_has "service web has no backend 198\.19\.0\.99" && req "len(R) == 1"'
fg backend add web 198.19.0.2:8081
check "backend add of a present backend: exit 1, no PUT" \
	'rc_is 1 && err_has "already has backend 198\.19\.0\.2:8081" && req "len(R) == 1"'
fg backend rm web 198.19.0.2
check "backend address matching two backends: exit 2, no PUT" \
	'rc_is 2 && err_has "has 2 backends at 198\.19\.0\.2; name one as ADDR:PORT" && req "len(R) == 1"'
fg backend add nosuch 198.19.0.1
check "backend add to a missing service: the GET's 404" 'rc_is 1 && err_has "GET /v1/services/nosuch: no service named" && req "len(R) == 1"'

fg backend add v6 '[2001:db8::6]:443' --weight 1
be_check "IPv6 backend add" 'p["backends"] == g["backends"] + [{"addr": "2001:db8::6", "port": 443, "weight": 1}]'
check "IPv6 backend add: message" 'out_has "^backend \[2001:db8::6\]:443 added to service v6"'
fg backend drain v6 '[2001:0db8:0::5]:443'
be_check "IPv6 addresses compare as addresses" 'p["backends"][0]["state"] == "drain" and p["backends"][1:] == g["backends"][1:]'
fg backend add v6 2001:db8::7
be_check "bare IPv6 without a port" 'p["backends"][-1] == {"addr": "2001:db8::7"}'
fg backend add v6 2001:db8::7
check "bare IPv6: the service port makes it a duplicate" 'rc_is 1 && err_has "already has backend"'
fg --json backend set-weight v6 '[2001:db8::6]:443' 9
check "backend --json: the PUT's answer byte for byte" 'rc_is 0 && out_is_answer && req "body(1)[\"backends\"][1][\"weight\"] == 9"'

fg backend add flaky 198.19.0.9:80
check "412 once: read again and retried, exit 0" \
	'rc_is 0 && req "[(r[\"method\"], r[\"status\"]) for r in R] == [(\"GET\", 200), (\"PUT\", 412), (\"GET\", 200), (\"PUT\", 200)] and H(3)[\"if-match\"] == R[2][\"etag\"] != R[0][\"etag\"]" && err_has "changed while editing it \(412\); retrying \(1 of 3\)"'
fg backend add racy 198.19.0.9:80
check "412 every time: 4 attempts, then exit 1 with a clear message" \
	'rc_is 1 && req "[r[\"method\"] for r in R] == [\"GET\", \"PUT\"] * 4 and all(r[\"status\"] == 412 for r in R[1::2])" && err_has "gave up after 4 attempts" && err_has "version_mismatch"'
fg backend add noetag 198.19.0.9:80
check "no ETag on the read: the version from /v1/status, read taken after it" \
	'rc_is 0 && req "[r[\"path\"] for r in R] == [\"/v1/services/noetag\", \"/v1/status\", \"/v1/services/noetag\", \"/v1/services/noetag\"] and H(3)[\"if-match\"] == \"\\\"%d\\\"\" % resp(1)[\"rules_version\"] and body(3)[\"backends\"] == [{\"addr\": \"198.19.0.9\", \"port\": 80}]"'

# ------------------------------------------------- routes, seckill rules

fg route set api --service web --priority 10 --host '*.shop.example' --method GET \
	--path-prefix /api/ --backend 198.19.0.7:8080,weight=50
check "route set (flags): PUT with the built object" \
	'rc_is 0 && req "len(R) == 1 and R[0][\"method\"] == \"PUT\" and R[0][\"path\"] == \"/v1/routes/api\" and body(0) == {\"service\": \"web\", \"priority\": 10, \"match\": {\"host\": \"*.shop.example\", \"method\": \"GET\", \"path_prefix\": \"/api/\"}, \"backends\": [{\"addr\": \"198.19.0.7\", \"port\": 8080, \"weight\": 50}]}" && out_has "^route api created"'
fg route ls
check "route ls: GET /v1/routes and the table" \
	'rc_is 0 && req "R[0][\"path\"] == \"/v1/routes\"" && out_has "^NAME +SERVICE +PRIORITY +MATCH +BACKENDS$" && out_has "^api +web +10 +host=\*\.shop\.example method=GET path_prefix=/api/ +1$"'
fg route get api
check "route get: fields and its backends" \
	'rc_is 0 && req "R[0][\"path\"] == \"/v1/routes/api\"" && out_has "^priority: +10$" && out_has "^198\.19\.0\.7 +8080 +50"'
fg route set bad --service nosuch --path-prefix /
check "route set naming a missing service: 400 with field" 'rc_is 1 && err_has "\(field: service\)"'
usage_case "route --priority not a number" "--priority: 'high' is not a whole number" \
	route set r1 --priority high
fg seckill set sale --service web --item segment:2 --rate 500 --burst 100 --stock 1000 \
	--start 2026-11-11T12:00:00Z --method POST --path-regex '^/buy/[0-9]+$'
check "seckill set (flags): PUT with the built object" \
	'rc_is 0 && req "len(R) == 1 and R[0][\"method\"] == \"PUT\" and R[0][\"path\"] == \"/v1/seckill/sale\" and body(0) == {\"service\": \"web\", \"item\": \"segment:2\", \"rate\": 500, \"burst\": 100, \"stock\": 1000, \"start\": \"2026-11-11T12:00:00Z\", \"match\": {\"method\": \"POST\", \"path_regex\": \"^/buy/[0-9]+$\"}}" && out_has "^seckill rule sale created"'
fg seckill ls
check "seckill ls: GET /v1/seckill and the table" \
	'rc_is 0 && req "R[0][\"path\"] == \"/v1/seckill\"" && out_has "^NAME +SERVICE +ITEM +RATE +BURST +STOCK +START +END +MATCH$" && out_has "^sale +web +segment:2 +500 +100 +1000 +2026-11-11T12:00:00Z +- +method=POST path_regex="'
fg seckill rm sale
check "seckill rm: DELETE" 'rc_is 0 && req "R[0][\"method\"] == \"DELETE\" and R[0][\"path\"] == \"/v1/seckill/sale\""'
fg route rm api
check "route rm: DELETE" 'rc_is 0 && req "R[0][\"method\"] == \"DELETE\" and R[0][\"path\"] == \"/v1/routes/api\""'

# --------------------------------------------------------------- limits

fg limit ls
check "limit ls: GET /v1/limits and the table" \
	'rc_is 0 && req "R[0][\"path\"] == \"/v1/limits\"" && out_has "^NAME +SERVICE +KEY +UNIT +RATE +BURST +ACTION +SCOPE +DRY_RUN +MATCH$" && out_has "^perip +web +src_ip +pps +1000 +2000 +drop +node +no +src=198\.18\.64\.0/18$"'
fg --json limit ls
check "limit ls --json: byte for byte" 'rc_is 0 && out_is_answer'
fg limit get perip
check "limit get" 'rc_is 0 && req "R[0][\"path\"] == \"/v1/limits/perip\"" && out_has "^rate: +1000$" && out_has "^match\.src: +198\.18\.64\.0/18$"'
fg limit set synflood --service web --key src_prefix/24 --unit cps --rate 1000 --burst 2000 \
	--action drop --match-src 198.18.64.0/18 --match-proto tcp --match-dport 80 --scope cluster --dry-run
check "limit set (flags): PUT with the built object" \
	'rc_is 0 && req "len(R) == 1 and R[0][\"method\"] == \"PUT\" and R[0][\"path\"] == \"/v1/limits/synflood\" and body(0) == {\"service\": \"web\", \"key\": \"src_prefix/24\", \"unit\": \"cps\", \"rate\": 1000, \"burst\": 2000, \"action\": \"drop\", \"match\": {\"src\": \"198.18.64.0/18\", \"proto\": \"tcp\", \"dst_port\": 80}, \"scope\": \"cluster\", \"dry_run\": True}" && out_has "^limit synflood created"'
fg limit set l2 --service nosuch --unit pps --rate 5
check "limit set naming a missing service: 400 with field" 'rc_is 1 && err_has "\(field: service\)"'
printf '{"unit": "pps", "rate": 5}' >"$TMP/lim.json"
STDIN=$TMP/lim.json fg limit set synflood --file -
check "limit set --file -: sent unchanged, replaced" \
	'rc_is 0 && req "raw(0) == b\"{\\\"unit\\\": \\\"pps\\\", \\\"rate\\\": 5}\"" && out_has "^limit synflood replaced"'
fg limit rm synflood --if-version 2
check "limit rm --if-version stale: 412" 'rc_is 1 && req "R[0][\"method\"] == \"DELETE\" and H(0)[\"if-match\"] == \"\\\"2\\\"\"" && err_has "version_mismatch"'
fg limit rm synflood
check "limit rm" 'rc_is 0 && req "R[0][\"method\"] == \"DELETE\" and R[0][\"path\"] == \"/v1/limits/synflood\"" && out_has "^limit synflood deleted"'

# ---------------------------------------------------------------- stats

fg stats
check "stats: GET /v1/stats" 'rc_is 0 && req "len(R) == 1 and R[0][\"path\"] == \"/v1/stats\""'
check "stats: services" 'out_has "^SERVICE +PACKETS +BYTES +NEW_FLOWS$" && out_has "^web +12345 +6789000 +321$"'
check "stats: backends" 'out_has "^web +198\.19\.0\.1:8080 +12000 +300 +yes$" && out_has "^web +198\.19\.0\.2:8080 +345 +21 +no$"'
check "stats: limits and drops" 'out_has "^perip +900 +100$" && out_has "^malformed +7$" && out_has "^no_service +8$" && out_has "^flood_guard +9$"'
check "stats: flash-sale rules" 'out_has "^SECKILL +ADMITTED +SHED +SOLD_OUT +STOCK_LEFT +ALLOWANCE +CLAIMED +UNDERSELL$" && out_has "^sale +500 +70000 +3 +0 +0 +520 +20$"'
check "stats: routes" 'out_has "^ROUTE +FORWARDED +NO_BACKEND$" && out_has "^api +4200 +2$"'
check "stats: seckill items" 'out_has "^SECKILL +ITEM +ADMITTED +SHED +SOLD_OUT +STOCK_LEFT +ALLOWANCE$" && out_has "^sale +1001 +400 +50000 +3 +0 +0$" && out_has "^sale +1002 +100 +20000 +0 +0 +0$"'
fg --json stats
check "stats --json: byte for byte" 'rc_is 0 && out_is_answer'
fg stats --watch 0.1 --count 3
check "stats --watch 0.1 --count 3: three refreshes" \
	'rc_is 0 && req "[r[\"path\"] for r in R] == [\"/v1/stats\"] * 3" && [ "$(grep -c "^every 0.1s: fgctl stats" "$OUT")" = 3 ] && [ "$(grep -cE "^web +12345" "$OUT")" = 3 ]'
fg --json stats --count 2
check "stats --count 2 --json: two answers, one a line" \
	'rc_is 0 && req "len(R) == 2" && "$PY" -c "import json,sys; l=open(sys.argv[1]).read().split(\"\n}\n\"); sys.exit(0 if len(l) == 3 and l[2] == \"\" else 1)" "$OUT"'

MARK=$(wc -l <"$LOG")
"$FGCTL" --api "$API" --token-file "$TOK" stats --watch 30 >"$OUT" 2>"$ERR" </dev/null &
wpid=$!
for _ in $(seq 100); do
	[ "$(wc -l <"$LOG")" -gt "$MARK" ] && break
	sleep 0.05
done
sleep 0.2
kill -INT "$wpid"
for _ in $(seq 60); do
	kill -0 "$wpid" 2>/dev/null || break
	sleep 0.05
done
if kill -0 "$wpid" 2>/dev/null; then
	kill "$wpid"
	RC=timeout
else
	wait "$wpid"
	RC=$?
fi
check "stats --watch stops on SIGINT with exit 0" 'rc_is 0 && req "len(R) == 1" && out_has "^web +12345"'

# ---------------------------------------------------------------- nodes

fg nodes
check "nodes: GET /v1/nodes and the table" \
	'rc_is 0 && req "R[0][\"path\"] == \"/v1/nodes\"" && out_has "^NAME +GROUP +ADDRESS +APPLIED +ALIVE$" && out_has "^edge-1 +default +198\.19\.255\.1:7380 +[0-9]+ +yes$" && out_has "^edge-2 +west +198\.19\.255\.2:7380 +[0-9]+ +no$"'
fg --json nodes
check "nodes --json: byte for byte" 'rc_is 0 && out_is_answer'

# --------------------------------------------------------- config, apply

fg config get
check "config get: GET /v1/config, version and tables" \
	'rc_is 0 && req "len(R) == 1 and R[0][\"path\"] == \"/v1/config\"" && out_has "^version: [0-9]+$" && out_has "^web +198\.18\.0\.10 +80" && out_has "^perip +web +src_ip"'
fg --json config get
check "config get --json: byte for byte" 'rc_is 0 && out_is_answer'
ver=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["version"])' "$OUT")

cat >"$TMP/rules.json" <<'EOF'
{
  "services": {"shop": {"vip": "198.18.0.40", "port": 443,
                        "backends": [{"addr": "198.19.0.40", "port": 8443}]}},
  "limits":   {"shoplim": {"service": "shop", "unit": "cps", "rate": 50}},
  "routes": {"r1": {}}, "seckill": {"s1": {}, "s2": {}}
}
EOF
fg apply -f "$TMP/rules.json" --if-version "$ver"
check "apply -f --if-version: PUT /v1/config, If-Match, file unchanged" \
	"rc_is 0 && req 'len(R) == 1 and R[0][\"method\"] == \"PUT\" and R[0][\"path\"] == \"/v1/config\" and H(0)[\"if-match\"] == \"\\\"$ver\\\"\" and raw(0) == open(\"$TMP/rules.json\", \"rb\").read()' && out_has '^rule set applied \(version $((ver + 1))\)$'"
fg apply -f "$TMP/rules.json" --if-version "$ver"
check "apply with a stale --if-version: 412" 'rc_is 1 && err_has "HTTP 412 version_mismatch" && err_has "no longer at that version"'
STDIN=$TMP/rules.json fg --json apply --file -
check "apply --file - --json: no If-Match, answer byte for byte" \
	'rc_is 0 && req "\"if-match\" not in H(0) and raw(0) == open(\"$TMP/rules.json\", \"rb\").read()" && out_is_answer'
printf '{"version": 3, "services": {}}' >"$TMP/bad.json"
fg apply -f "$TMP/bad.json"
check "apply refused by the server: message and field" 'rc_is 1 && err_has "version: not allowed .*\(field: version\)"'
fg service ls
check "the applied rule set is what the API now lists" 'rc_is 0 && out_has "^shop +198\.18\.0\.40 +443" && ! out_has "^web "'
fg config get
check "config get: rule kinds without a table are counted" \
	'rc_is 0 && out_has "^shoplim +shop +- +cps +50" && out_has "^routes: 1 \(see --json\)$" && out_has "^seckill: 2 \(see --json\)$"'

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
