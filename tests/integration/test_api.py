#!/usr/bin/env python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""test_api.py - floodgated's REST API against the contract of shared/API.md.

Starts the real daemon (embedded etcd store, XDP dataplane on a veth in a
network namespace of its own, a bearer token) and checks every endpoint and
status code: auth, status, services, limits, routes/seckill (refused while
unsupported), versions and ETags, If-Match, PUT /v1/config, a table of bad
inputs (each must change nothing: GET /v1/config stays byte-identical and
the version does not move), 413, 404, 405, stats, metrics, nodes, and that
the rules survive a restart and a kill -9. The connection layer: the token
and the body size judged from the headers before a byte of the body is
read, the cap on connections, the deadline on a request head. And, in a
second namespace where no interface but lo has an address (a box at boot),
that the daemon's API comes up on 127.0.0.1.

Layout: run as root, this process (the "outer" one) makes the namespace
fgapi<pid> with veth0/veth1, then runs itself again with --inner under
`nsenter --net=` (not `ip netns exec`, which remounts /sys and would hide
/sys/fs/bpf, where the daemon pins its dataplane). The inner process runs
the daemon and the checks. The outer one always cleans up: kills whatever
still runs in the namespace, detaches the pinned dataplane
(floodgated --detach), deletes the namespace and the temporary directory.

Output: "ok N - desc" / "not ok N - desc" (with "#" lines saying what was
sent and answered), then "N passed, M failed". Exit 0 when all passed, 1
otherwise, 77 (skip) without root, etcd or the daemon binary.

env: FLOODGATED (default build*/controlplane/floodgated), FGCTL (optional:
one check that `fgctl --json` prints the API's JSON unchanged).
"""
import copy
import http.client
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.normpath(os.path.join(HERE, "..", ".."))
API_PORT = 17380
MIB = 1 << 20
HTTP_TIMEOUT = 20


def skip(why):
    print("SKIP: " + why)
    sys.exit(77)


def find_floodgated():
    p = os.environ.get("FLOODGATED")
    if p:
        return p
    for d in sorted(os.listdir(TOP)):
        c = os.path.join(TOP, d, "controlplane", "floodgated")
        if d.startswith("build") and os.access(c, os.X_OK):
            return c
    return None


# ====================================================================
# outer: namespace, cleanup
# ====================================================================

def sh(*cmd, check=True, timeout=30):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=timeout, text=True)
    if check and r.returncode:
        raise RuntimeError("%s: exit %d: %s" % (" ".join(cmd), r.returncode,
                                                r.stdout.strip()))
    return r


def ns_pids(ns):
    try:
        r = sh("ip", "netns", "pids", ns, check=False)
    except Exception:
        return []
    return [int(x) for x in r.stdout.split() if x.isdigit()]


def pid_alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            # a zombie is gone for our purposes
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def outer():
    rc = run_ns("fgapi%d" % os.getpid(), "--inner", True)
    rc_lo = run_ns("fgapilo%d" % os.getpid(), "--inner-lo", False)
    return rc or rc_lo


def run_ns(ns, mode, addresses):
    """Make namespace ns (lo up, veth0/veth1, with 198.18.0.1/.2 when
    addresses), a token and a config, run this file with mode inside it,
    clean up. Returns the inner run's exit status."""
    if os.geteuid() != 0:
        skip("needs root (network namespaces, XDP, /sys/fs/bpf)")
    fgd = find_floodgated()
    if not fgd or not os.access(fgd, os.X_OK):
        skip("floodgated not built (set FLOODGATED)")
    for tool in ("ip", "nsenter"):
        if not shutil.which(tool):
            skip("%s not found" % tool)
    if not os.access("/usr/bin/etcd", os.X_OK):
        skip("/usr/bin/etcd (etcd-server) not installed: the embedded store needs it")
    if not os.path.isdir("/sys/fs/bpf"):
        skip("/sys/fs/bpf is not mounted")

    tmp = tempfile.mkdtemp(prefix="fgapi.")
    os.chmod(tmp, 0o700)
    conf = os.path.join(tmp, "floodgate.conf")
    pin = "/sys/fs/bpf/floodgate/" + ns
    rc = 1

    def on_signal(sig, frame):
        raise SystemExit(1)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        try:
            sh("ip", "netns", "add", ns)
            sh("ip", "-n", ns, "link", "set", "lo", "up")
            sh("ip", "-n", ns, "link", "add", "veth0", "type", "veth",
               "peer", "name", "veth1")
            if addresses:
                sh("ip", "-n", ns, "addr", "add", "198.18.0.1/24", "dev", "veth0")
                sh("ip", "-n", ns, "addr", "add", "198.18.0.2/24", "dev", "veth1")
            else:
                # Not even IPv6 link-local addresses: a box at boot.
                for dev in ("veth0", "veth1"):
                    sh("ip", "-n", ns, "link", "set", dev, "addrgenmode", "none")
            sh("ip", "-n", ns, "link", "set", "veth0", "up")
            sh("ip", "-n", ns, "link", "set", "veth1", "up")
            token = secrets.token_hex(24)
            with open(os.open(os.path.join(tmp, "token"),
                              os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as f:
                f.write(token + "\n")
            with open(conf, "w") as f:
                f.write('node = { name = "%s"; group = "default"; };\n' % ns)
                f.write('api = { listen = "127.0.0.1:%d"; token_file = "%s/token"; };\n'
                        % (API_PORT, tmp))
                f.write('store = { kind = "embedded"; data_dir = "%s/data"; };\n' % tmp)
                f.write('dataplane = { kind = "xdp"; interfaces = ["veth0"]; };\n')
                f.write('log = { level = "info"; };\n')
        except Exception as e:
            print("Bail out! setting up namespace %s: %s" % (ns, e))
            return 1
        env = dict(os.environ)
        env.update(FG_API_NS=ns, FG_API_TMP=tmp, FG_API_CONF=conf,
                   FG_API_TOKEN=token, FLOODGATED=os.path.abspath(fgd))
        for k in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY",
                  "all_proxy", "ALL_PROXY", "FLOODGATE_API", "FLOODGATE_TOKEN"):
            env.pop(k, None)
        p = subprocess.Popen(["nsenter", "--net=/var/run/netns/" + ns,
                              sys.executable, os.path.abspath(__file__), mode],
                             env=env)
        try:
            rc = p.wait(timeout=280)
        except subprocess.TimeoutExpired:
            print("Bail out! the checks took more than 280 s")
            rc = 1
        return rc
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        # Everything left in our namespace is ours: the inner checker, the
        # daemon, its etcd. SIGTERM first so the daemon stops etcd in order.
        for sig, wait in ((signal.SIGTERM, 15), (signal.SIGKILL, 5)):
            pids = [x for x in ns_pids(ns) if x != os.getpid()]
            for x in pids:
                try:
                    os.kill(x, sig)
                except OSError:
                    pass
            end = time.time() + wait
            while time.time() < end and any(pid_alive(x) for x in pids):
                time.sleep(0.1)
        if os.path.exists(pin) and os.path.exists(conf):
            try:
                sh("nsenter", "--net=/var/run/netns/" + ns,
                   os.path.abspath(fgd), "--detach", "-c", conf, check=False)
            except Exception as e:
                print("# cleanup: detach: %s" % e)
        if os.path.exists(pin):
            print("# cleanup: %s is still pinned" % pin)
            rc = 1
        sh("ip", "netns", "del", ns, check=False)
        shutil.rmtree(tmp, ignore_errors=True)
    return rc


# ====================================================================
# inner: HTTP client and reporting
# ====================================================================

class Resp:
    def __init__(self, status, headers, body, err=None):
        self.status = status
        self.headers = headers        # lower-case name -> value
        self.body = body              # bytes
        self.err = err                # transport error text, or None
        try:
            self.json = json.loads(body.decode("utf-8")) if body else None
        except (ValueError, UnicodeDecodeError):
            self.json = None

    def h(self, name):
        return self.headers.get(name.lower())

    def __repr__(self):
        b = self.body[:600].decode("utf-8", "replace")
        if len(self.body) > 600:
            b += "...(%d bytes)" % len(self.body)
        hs = ", ".join("%s: %s" % kv for kv in sorted(self.headers.items())
                       if kv[0] in ("content-type", "etag", "allow",
                                    "www-authenticate"))
        if self.err:
            return "<transport error: %s>" % self.err
        return "%s [%s] %s" % (self.status, hs, b.rstrip())


TOKEN = None
DEFAULT = object()


def request(method, path, body=None, token=DEFAULT, headers=None, timeout=None):
    """One request on a fresh connection. body: dict/list (JSON), str or
    bytes (sent as is), None (no body). timeout: seconds (HTTP_TIMEOUT)."""
    hdrs = {}
    if token is DEFAULT:
        token = TOKEN
    if token is not None:
        hdrs["Authorization"] = "Bearer " + token
    data = None
    if body is not None:
        if isinstance(body, (dict, list)):
            data = json.dumps(body).encode()
        elif isinstance(body, str):
            data = body.encode("utf-8")
        else:
            data = body
        hdrs["Content-Type"] = "application/json"
    if data is not None or method in ("PUT", "POST", "PATCH"):
        hdrs["Content-Length"] = str(len(data or b""))
    hdrs.update(headers or {})
    conn = http.client.HTTPConnection("127.0.0.1", API_PORT,
                                      timeout=timeout or HTTP_TIMEOUT)
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)
        for k, v in hdrs.items():
            conn.putheader(k, v)
        conn.endheaders()
        if data:
            try:
                conn.send(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the server may answer (413) and close early
        r = conn.getresponse()
        body = r.read()
        return Resp(r.status, {k.lower(): v for k, v in r.getheaders()}, body)
    except (OSError, http.client.HTTPException) as e:
        return Resp(0, {}, b"", err="%s: %s" % (type(e).__name__, e))
    finally:
        conn.close()


def show_req(method, path, body):
    if body is None:
        return "%s %s" % (method, path)
    if isinstance(body, (dict, list)):
        b = json.dumps(body)
    elif isinstance(body, bytes):
        b = body.decode("utf-8", "replace")
    else:
        b = body
    if len(b) > 300:
        b = b[:300] + "...(%d bytes)" % len(b)
    return "%s %s %s" % (method, path, b)


class Report:
    def __init__(self):
        self.n = 0
        self.failed = 0

    def check(self, cond, desc, *detail):
        self.n += 1
        if cond:
            print("ok %d - %s" % (self.n, desc))
        else:
            self.failed += 1
            print("not ok %d - %s" % (self.n, desc))
        if not cond:
            for d in detail:
                for line in str(d).splitlines() or [""]:
                    print("#   " + line)
        sys.stdout.flush()
        return bool(cond)

    def summary(self):
        print("%d passed, %d failed" % (self.n - self.failed, self.failed))
        return 1 if self.failed else 0


T = Report()


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def error_shape(r, code):
    """Problems with r as an API error with `code` (list of strings)."""
    bad = []
    ct = r.h("content-type") or ""
    if not ct.startswith("application/json"):
        bad.append("Content-Type is %r, not application/json" % ct)
    j = r.json
    if not isinstance(j, dict) or set(j) != {"error"} or not isinstance(j["error"], dict):
        bad.append('body is not {"error": {...}}')
        return bad
    e = j["error"]
    if e.get("code") != code:
        bad.append("error.code is %r, want %r" % (e.get("code"), code))
    if not isinstance(e.get("message"), str) or not e.get("message"):
        bad.append("error.message missing or empty")
    if "field" in e and not isinstance(e["field"], str):
        bad.append("error.field is not a string")
    extra = set(e) - {"code", "message", "field"}
    if extra:
        bad.append("error has unknown members %s" % sorted(extra))
    return bad


CODES = {400: "invalid_argument", 401: "unauthenticated", 404: "not_found",
         405: None, 409: "conflict", 412: "version_mismatch", 413: "too_large",
         503: "unavailable", 500: "internal"}


def config_snapshot():
    r = request("GET", "/v1/config")
    v = r.json.get("version") if isinstance(r.json, dict) else None
    return r.body, v, r


def expect_error(desc, method, path, body=None, status=400, field=DEFAULT,
                 headers=None, token=DEFAULT, code=DEFAULT, unchanged=True,
                 msg_has=None):
    """A failing request: status (an int or a set), the code for it, the
    field (a string, a tuple of acceptable strings, a callable, None =
    must be absent, DEFAULT = not checked), msg_has in the message when
    given, and nothing changed."""
    before = config_snapshot() if unchanged else None
    r = request(method, path, body, token=token, headers=headers)
    statuses = status if isinstance(status, (set, frozenset)) else {status}
    bad = []
    if r.status not in statuses:
        bad.append("status %s, want %s" % (r.status, "/".join(map(str, sorted(statuses)))))
    want_code = CODES.get(r.status if r.status in statuses else min(statuses)) \
        if code is DEFAULT else code
    if want_code is not None:
        bad += error_shape(r, want_code)
    else:
        bad += [b for b in error_shape(r, "") if not b.startswith("error.code")]
    if field is not DEFAULT and isinstance(r.json, dict) and isinstance(r.json.get("error"), dict):
        got = r.json["error"].get("field")
        if field is None:
            ok = got is None
        elif callable(field):
            ok = got is not None and field(got)
        elif isinstance(field, tuple):
            ok = got in field
        else:
            ok = got == field
        if not ok:
            bad.append("error.field is %r, want %s" % (
                got, "absent" if field is None else
                "a match" if callable(field) else repr(field)))
    if msg_has is not None:
        err = r.json.get("error") if isinstance(r.json, dict) else None
        msg = err.get("message") if isinstance(err, dict) else None
        if not isinstance(msg, str) or msg_has not in msg:
            bad.append("error.message %r does not say %r" % (msg, msg_has))
    if unchanged:
        after = config_snapshot()
        if after[0] != before[0] or after[1] != before[1]:
            bad.append("GET /v1/config changed (version %s -> %s)" % (before[1], after[1]))
    return T.check(not bad, desc, "request:  " + show_req(method, path, body),
                   "response: %r" % r, *bad), r


LAST = {"version": 0}


def expect_write(desc, method, path, body=None, status=200, headers=None):
    """A successful write: status, {"version": N} and ETag "N", N growing,
    GET /v1/config at N afterwards. Returns N (or None)."""
    r = request(method, path, body, headers=headers)
    bad = []
    if r.status != status:
        bad.append("status %s, want %s" % (r.status, status))
    j = r.json
    n = j.get("version") if isinstance(j, dict) else None
    if not isinstance(j, dict) or set(j) != {"version"} or not is_int(n) or n <= 0:
        bad.append('body is not {"version": N} with N a positive integer')
        n = None
    else:
        if r.h("etag") != '"%d"' % n:
            bad.append("ETag is %r, want %r" % (r.h("etag"), '"%d"' % n))
        if n <= LAST["version"]:
            bad.append("version %d does not grow (last %d)" % (n, LAST["version"]))
    if not (r.h("content-type") or "").startswith("application/json"):
        bad.append("Content-Type is %r" % r.h("content-type"))
    if n is not None:
        LAST["version"] = max(LAST["version"], n)
        g = request("GET", "/v1/config")
        if not isinstance(g.json, dict) or g.json.get("version") != n:
            bad.append("GET /v1/config version is %r, want %d (read your writes)"
                       % (g.json.get("version") if isinstance(g.json, dict) else None, n))
    T.check(not bad, desc, "request:  " + show_req(method, path, body),
            "response: %r" % r, *bad)
    return n if not bad else None


def get_json(path):
    r = request("GET", path)
    return r.json if r.status == 200 else None, r


def listing(j, kind):
    """The name->object map of a GET /v1/<kind> answer: {"<kind>": {...}}
    (with or without a version beside it), or the map itself."""
    if isinstance(j, dict) and isinstance(j.get(kind), dict):
        return j[kind]
    if isinstance(j, dict):
        return {k: v for k, v in j.items() if k != "version"}
    return None


def wait_until(fn, timeout, step=0.2):
    end = time.time() + timeout
    while True:
        v = fn()
        if v or time.time() >= end:
            return v
        time.sleep(step)


def status_view(st):
    """(node name, software version, dp kind, interfaces, adopted, store
    kind, store healthy) from GET /v1/status, tolerant of nesting."""
    def pick(d, *paths):
        for p in paths:
            cur = d
            for k in p.split("."):
                cur = cur.get(k) if isinstance(cur, dict) else None
            if cur is not None:
                return cur
        return None
    return {
        "node": pick(st, "node.name", "node_name", "name", "node"),
        "software": pick(st, "software_version", "software.version", "version"),
        "dp_kind": pick(st, "dataplane.kind", "dataplane_kind"),
        "interfaces": pick(st, "dataplane.interfaces", "interfaces"),
        "adopted": pick(st, "dataplane.adopted", "adopted"),
        "store_kind": pick(st, "store.kind", "store_kind"),
        "store_healthy": pick(st, "store.healthy", "store.health", "store_healthy"),
    }


# ====================================================================
# inner: the daemon
# ====================================================================

class Daemon:
    def __init__(self, fgd, conf, tmp):
        self.fgd, self.conf, self.tmp = fgd, conf, tmp
        self.p = None
        self.runs = 0
        self.log = None

    def start(self):
        self.runs += 1
        self.log = os.path.join(self.tmp, "floodgated.%d.log" % self.runs)
        with open(self.log, "wb") as lf:
            self.p = subprocess.Popen([self.fgd, "-c", self.conf], stdout=lf,
                                      stderr=subprocess.STDOUT,
                                      stdin=subprocess.DEVNULL)

    def tail(self, n=15):
        try:
            with open(self.log, errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return "(no log)"

    def children(self):
        out = []
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                with open("/proc/%s/stat" % d) as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == self.p.pid:
                        out.append(int(d))
            except (OSError, ValueError, IndexError):
                pass
        return out

    def wait_ready(self, timeout=30):
        """/healthz answers, then the rule set is loaded (/v1/status has a
        rules_version). Returns (ok, why)."""
        def healthz():
            if self.p.poll() is not None:
                return "exited"
            r = request("GET", "/healthz", token=None)
            return r.status == 200 and "up"
        end = time.time() + timeout
        h = wait_until(healthz, timeout)
        if h != "up":
            return False, "no /healthz within %d s (%s)" % (timeout, h or "no answer")

        def loaded():
            if self.p.poll() is not None:
                return "exited"
            st, _ = get_json("/v1/status")
            return isinstance(st, dict) and is_int(st.get("rules_version")) \
                and st["rules_version"] > 0 and "up"
        if wait_until(loaded, max(1, end - time.time())) != "up":
            return False, "rules_version not > 0 within %d s" % timeout
        return True, ""

    def stop(self, sig=signal.SIGTERM, timeout=30):
        """Signal the daemon, wait; returns its exit status or None."""
        if not self.p or self.p.poll() is not None:
            return self.p.returncode if self.p else None
        self.p.send_signal(sig)
        try:
            return self.p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait(timeout=10)
            return None


# ====================================================================
# inner: rule objects
# ====================================================================

WEB = {"vip": "198.18.0.10", "port": 80,
       "backends": [{"addr": "198.19.0.1", "port": 8080},
                    {"addr": "198.19.0.2", "port": 8080, "weight": 50, "state": "drain"}]}
WEB_CANON = {"vip": "198.18.0.10", "port": 80, "proto": "tcp", "mode": "l4",
             "forward": "dsr-ipip", "hash": "5tuple",
             "backends": [{"addr": "198.19.0.1", "port": 8080, "weight": 100, "state": "active"},
                          {"addr": "198.19.0.2", "port": 8080, "weight": 50, "state": "drain"}]}
# Every field given: must come back exactly.
API_SVC = {"vip": "198.18.0.11", "port": 443, "proto": "tcp", "mode": "l4",
           "forward": "nat", "hash": "src_ip",
           "backends": [{"addr": "198.19.0.3", "port": 8443, "weight": 0, "state": "active"},
                        {"addr": "198.19.0.4", "port": 8443, "weight": 65535, "state": "down"}],
           "health": {"type": "http", "interval_ms": 2000, "timeout_ms": 700, "rise": 3,
                      "fall": 4, "port": 8080, "path": "/healthz", "expect_status": 204}}
V6_SVC = {"vip": "2001:db8:18:a::10", "port": 80, "proto": "tcp", "mode": "l4",
          "forward": "dsr-gue", "hash": "5tuple",
          "backends": [{"addr": "2001:db8:19::1", "port": 8080, "weight": 100, "state": "active"}]}
DNS_SVC = {"vip": "198.18.0.12", "port": 53, "proto": "udp", "mode": "l4",
           "forward": "dsr-ipip", "hash": "5tuple",
           "backends": [{"addr": "198.19.0.5", "port": 53, "weight": 100, "state": "active"}]}

PERIP = {"service": "web", "key": "src_ip", "unit": "pps", "rate": 1000}
FULL_LIMIT = {"service": "web",
              "match": {"src": "198.18.64.0/18", "proto": "tcp", "dst_port": 80},
              "key": "src_prefix/24", "unit": "cps", "rate": 1000, "burst": 2000,
              "action": "reset", "scope": "node", "dry_run": True}
GLOBAL_LIMIT = {"key": "flow", "unit": "bps", "rate": 8000000, "burst": 16000000,
                "action": "drop", "scope": "node", "dry_run": False}

ROUTE = {"service": "shop", "priority": 100,
         "match": {"host": "shop.example", "method": "GET", "path_prefix": "/api/"},
         "backends": [{"addr": "198.19.0.5", "port": 8080, "weight": 100}]}
SECKILL = {"service": "shop", "match": {"method": "POST", "path_regex": "^/seckill/[0-9]+/buy$"},
           "item": "segment:2", "rate": 500, "burst": 100, "stock": 1000,
           "respond": {"status": 429, "retry_after": 1, "content_type": "application/json",
                       "body": "{}"}}

# An l7 service for the L7 rules to name (valid; this build refuses it).
SHOP_SVC = {"vip": "198.18.0.30", "port": 80, "mode": "l7",
            "backends": [{"addr": "198.19.0.5", "port": 8080}]}
TCP_SIDE = "needs the L7 engine's TCP side, which this build does not have"


def check_l7_rules(base):
    """Routes, seckill rules, rps limits and the respond action: every bad
    field a 400 naming it; a valid one a 409 naming the rule and the
    reason (the engine has no TCP side yet); nothing stored either way."""
    l7 = dict(base, services=dict(base["services"], shop=SHOP_SVC))
    rps = {"service": "shop", "unit": "rps", "rate": 10, "action": "respond",
           "respond": {"status": 503, "retry_after": 2, "body": "busy"}}
    for desc, body, msg in [
            ("a valid route", dict(l7, routes={"r1": ROUTE}), "routes.r1: " + TCP_SIDE),
            ("a valid seckill rule", dict(l7, seckill={"s1": SECKILL}),
             "seckill.s1: " + TCP_SIDE),
            ("a valid rps limit answering with respond", dict(l7, limits={"l7rps": rps}),
             "limits.l7rps.unit: rps " + TCP_SIDE)]:
        expect_error("PUT /v1/config with %s: 409 with the reason" % desc, "PUT",
                     "/v1/config", body, status=409, msg_has=msg)
    for desc, body, field, msg in [
            ("a route naming no service", dict(base, routes={"r1": ROUTE}),
             "routes.r1.service", "no service named shop"),
            ("a route on an l4 service", dict(base, routes={"r1": mutate(ROUTE, "service", "web")}),
             "routes.r1.service", "service web is mode l4"),
            ("a seckill rule naming no service", dict(base, seckill={"s1": SECKILL}),
             "seckill.s1.service", "no service named shop"),
            ("an rps limit on an l4 service",
             dict(base, limits={"l7rps": mutate(rps, "service", "web")}),
             "limits.l7rps.service", "unit rps needs an l7"),
            ("a route whose backend is IPv6 on an IPv4 service",
             dict(l7, routes={"r1": mutate(ROUTE, "backends.0.addr", "2001:db8::5")}),
             "routes.r1.backends[0].addr", "must be IPv4"),
            ("a route with a bad host",
             dict(l7, routes={"r1": mutate(ROUTE, "match.host", "a..b")}),
             "routes.r1.match.host", "empty label"),
            ("a seckill rule with a bad item",
             dict(l7, seckill={"s1": mutate(SECKILL, "item", "segment:0")}),
             "seckill.s1.item", "segment:N"),
            ("a seckill rule with a 200 answer",
             dict(l7, seckill={"s1": mutate(SECKILL, "respond.status", 200)}),
             "seckill.s1.respond.status", "400..599")]:
        expect_error("PUT /v1/config with %s: 400" % desc, "PUT", "/v1/config", body,
                     field=field, msg_has=msg)
    # One object at a time: its own errors name its fields as written.
    for desc, path, body, field in [
            ("route, unknown field", "/v1/routes/r1", dict(ROUTE, weight=1), "weight"),
            ("route, priority -1", "/v1/routes/r1", mutate(ROUTE, "priority", -1), "priority"),
            ("route, method get", "/v1/routes/r1", mutate(ROUTE, "match.method", "get"),
             "match.method"),
            ("route, path_prefix without /", "/v1/routes/r1",
             mutate(ROUTE, "match.path_prefix", "api/"), "match.path_prefix"),
            ("route, header without regex", "/v1/routes/r1",
             mutate(ROUTE, "match.headers", [{"name": "X-Canary"}]), "match.headers[0].regex"),
            ("route, no backends", "/v1/routes/r1", mutate(ROUTE, "backends", []), "backends"),
            ("route, backend port 0", "/v1/routes/r1", mutate(ROUTE, "backends.0.port", 0),
             "backends[0].port"),
            ("seckill, no rate", "/v1/seckill/s1", mutate(SECKILL, "rate", DEL), "rate"),
            ("seckill, rate a string", "/v1/seckill/s1", mutate(SECKILL, "rate", "500"), "rate"),
            ("seckill, items without item", "/v1/seckill/s1",
             mutate(dict(SECKILL, items=["1"]), "item", DEL), "items"),
            ("seckill, a listed item twice", "/v1/seckill/s1",
             dict(SECKILL, items=["1", "1"]), "items[1]"),
            ("seckill, max_items with items", "/v1/seckill/s1",
             dict(SECKILL, items=["1"], max_items=5), "max_items"),
            ("seckill, per_client key flow", "/v1/seckill/s1",
             dict(SECKILL, per_client={"key": "flow", "rate": 1}), "per_client.key"),
            ("seckill, start with an offset", "/v1/seckill/s1",
             dict(SECKILL, start="2026-11-11T12:00:00+08:00"), "start"),
            ("seckill, end before start", "/v1/seckill/s1",
             dict(SECKILL, start="2026-11-11T13:00:00Z", end="2026-11-11T12:00:00Z"), "end"),
            ("seckill, retry_after a week and a second", "/v1/seckill/s1",
             mutate(SECKILL, "respond.retry_after", 604801), "respond.retry_after"),
            ("seckill, content_type with CR LF", "/v1/seckill/s1",
             mutate(SECKILL, "respond.content_type", "text/plain\r\nX: y"),
             "respond.content_type"),
            ("seckill, sold_out unknown field", "/v1/seckill/s1",
             dict(SECKILL, sold_out={"status": 410, "code": 1}), "sold_out.code"),
            ("limit, respond without action respond", "/v1/limits/l7rps",
             mutate(rps, "action", "drop"), "respond"),
            ("limit, action respond with pps", "/v1/limits/l7rps",
             mutate(mutate(rps, "unit", "pps"), "respond", DEL), "action")]:
        expect_error("PUT %s: 400" % desc, "PUT", path, body, field=field)
    # A pattern hyperscan refuses: 400 on the field, with its message.
    expect_error("PUT /v1/routes/r1, a back-reference hyperscan refuses: 400", "PUT",
                 "/v1/routes/r1", mutate(ROUTE, "match.path_regex", "(a)\\1"),
                 field="match.path_regex", msg_has="hyperscan cannot compile it")
    expect_error("PUT /v1/routes/r1, a header regex hyperscan refuses: 400", "PUT",
                 "/v1/routes/r1", mutate(ROUTE, "match.headers",
                                         [{"name": "X-Canary", "regex": "(b)\\1"}]),
                 field="match.headers[0].regex", msg_has="hyperscan cannot compile it")
    # Valid alone, but the service they name is not stored (an l7 service
    # is refused itself): a 400 naming the reference, not a 409.
    expect_error("PUT /v1/routes/r1 (valid; no service shop): 400", "PUT", "/v1/routes/r1",
                 ROUTE, field="routes.r1.service", msg_has="no service named shop")
    expect_error("PUT /v1/seckill/s1 (valid; no service shop): 400", "PUT",
                 "/v1/seckill/s1", SECKILL, field="seckill.s1.service",
                 msg_has="no service named shop")


DEL = object()


def mutate(base, path, value):
    """A deep copy of base with path ("backends.0.port") set to value, or
    removed when value is DEL."""
    o = copy.deepcopy(base)
    cur = o
    keys = [int(k) if k.isdigit() else k for k in path.split(".")]
    for k in keys[:-1]:
        cur = cur[k]
    if value is DEL:
        del cur[keys[-1]]
    else:
        cur[keys[-1]] = value
    return o


def padded(obj, size):
    """JSON text of obj padded with spaces to exactly size bytes."""
    s = json.dumps(obj).encode()
    assert len(s) <= size
    return s[:-1] + b" " * (size - len(s)) + s[-1:]


# ====================================================================
# inner: the checks
# ====================================================================

def check_auth():
    r = request("GET", "/healthz", token=None)
    T.check(r.status == 200 and r.json == {"ok": True}
            and (r.h("content-type") or "").startswith("application/json"),
            "GET /healthz without a token: 200 {\"ok\": true}", "response: %r" % r)
    r = request("GET", "/healthz", token="wrong")
    T.check(r.status == 200 and r.json == {"ok": True},
            "GET /healthz with a wrong token: still 200", "response: %r" % r)
    targets = [("GET", "/v1/status", None), ("GET", "/v1/config", None),
               ("PUT", "/v1/config", {"services": {}}), ("GET", "/v1/services", None),
               ("GET", "/v1/services/web", None),
               ("PUT", "/v1/services/authx", {"vip": "198.18.0.99", "port": 80}),
               ("DELETE", "/v1/services/web", None), ("GET", "/v1/limits", None),
               ("PUT", "/v1/limits/authx", {"unit": "pps", "rate": 1}),
               ("GET", "/v1/routes", None), ("GET", "/v1/seckill", None),
               ("GET", "/v1/stats", None), ("GET", "/v1/nodes", None),
               ("GET", "/metrics", None)]
    for m, p, b in targets:
        expect_error("%s %s without a token: 401 unauthenticated" % (m, p), m, p, b,
                     status=401, token=None)
        expect_error("%s %s with a wrong token: 401 unauthenticated" % (m, p), m, p, b,
                     status=401, token="x" + TOKEN)
    for desc, hv in (("the token with a Basic scheme", "Basic " + TOKEN),
                     ("the bare token (no scheme)", TOKEN),
                     ("an empty bearer token", "Bearer "),
                     ("a prefix of the token", "Bearer " + TOKEN[:-1]),
                     ("the token plus a character", "Bearer " + TOKEN + "0")):
        expect_error("GET /v1/config with %s: 401" % desc, "GET", "/v1/config",
                     status=401, token=None, headers={"Authorization": hv})
    r = request("GET", "/v1/status", token=None)
    T.check(r.status == 401 and (r.h("www-authenticate") or "").lower().startswith("bearer"),
            "401 answers carry WWW-Authenticate: Bearer", "response: %r" % r)


def check_status(node, expect_adopted):
    st, r = get_json("/v1/status")
    if not T.check(isinstance(st, dict), "GET /v1/status: 200 with a JSON object",
                   "response: %r" % r):
        return None
    v = status_view(st)
    T.check(v["node"] == node, "status names the node %r" % node, "response: %r" % r)
    T.check(isinstance(v["software"], str) and re.match(r"^\d+\.\d+", v["software"] or ""),
            "status has the software version", "response: %r" % r)
    T.check(v["dp_kind"] == "xdp" and v["interfaces"] == ["veth0"],
            "status: dataplane kind xdp on interfaces [\"veth0\"]", "response: %r" % r)
    T.check(is_int(st.get("rules_version")) and st["rules_version"] > 0
            and is_int(st.get("applied_version")),
            "status: rules_version and applied_version are integers", "response: %r" % r)
    T.check(v["store_kind"] == "embedded" and v["store_healthy"] in (True, "ok", "healthy"),
            "status: store kind embedded, healthy", "response: %r" % r)
    T.check(v["adopted"] is expect_adopted,
            "status: dataplane %s" % ("adopted (pinned state kept)" if expect_adopted
                                      else "loaded fresh, not adopted"),
            "response: %r" % r)
    return st


def check_applied(desc):
    def eq():
        st, _ = get_json("/v1/status")
        return isinstance(st, dict) and st.get("rules_version") == LAST["version"] \
            and st.get("applied_version") == st.get("rules_version") and st
    st = wait_until(eq, 10)
    _, r = get_json("/v1/status")
    T.check(bool(st), "%s: status rules_version == applied_version == %d"
            % (desc, LAST["version"]), "response: %r" % r)


def check_config_shape(desc):
    r = request("GET", "/v1/config")
    j = r.json
    ok = r.status == 200 and isinstance(j, dict) and \
        set(j) == {"version", "services", "limits", "routes", "seckill"} and \
        is_int(j["version"]) and all(isinstance(j[k], dict) for k in
                                     ("services", "limits", "routes", "seckill"))
    T.check(ok, "%s: GET /v1/config is {version, services, limits, routes, seckill}" % desc,
            "response: %r" % r)
    return j if ok else None


def check_services():
    expect_write("PUT /v1/config {} empties the rule set", "PUT", "/v1/config", {})
    j = check_config_shape("empty")
    T.check(j is not None and j["services"] == {} and j["limits"] == {}
            and j["routes"] == {} and j["seckill"] == {},
            "after PUT {} every map of GET /v1/config is empty", "got: %r" % j)
    j, r = get_json("/v1/services")
    T.check(listing(j, "services") == {}, "GET /v1/services of an empty set: no services",
            "response: %r" % r)

    expect_error("GET /v1/services/web (missing): 404 not_found", "GET", "/v1/services/web",
                 status=404)
    expect_error("DELETE /v1/services/web (missing): 404 not_found", "DELETE",
                 "/v1/services/web", status=404)
    expect_error("DELETE /v1/limits/nolimit (missing): 404 not_found", "DELETE",
                 "/v1/limits/nolimit", status=404)

    v1 = expect_write("PUT /v1/services/web (new): 201 with version and ETag", "PUT",
                      "/v1/services/web", WEB, status=201)
    r = request("GET", "/v1/services/web")
    T.check(r.status == 200 and r.json == WEB_CANON,
            "GET /v1/services/web: the object with defaults filled in (proto tcp, mode l4, "
            "forward dsr-ipip, hash 5tuple, weight 100, state active)",
            "response: %r" % r, "want:     %s" % json.dumps(WEB_CANON))
    check_applied("after creating web")

    web2 = mutate(WEB_CANON, "backends.0.weight", 7)
    v2 = expect_write("PUT /v1/services/web (existing): 200 with a greater version", "PUT",
                      "/v1/services/web", web2, status=200)
    T.check(v1 and v2 and v2 > v1, "versions grow: %s < %s" % (v1, v2))
    r = request("GET", "/v1/services/web")
    T.check(r.status == 200 and r.json == web2, "GET after replace shows the new object",
            "response: %r" % r)
    # the canonical object round-trips: PUT what GET gave, get it back
    g = request("GET", "/v1/services/web").json
    expect_write("PUT back what GET /v1/services/web returned: 200", "PUT",
                 "/v1/services/web", g, status=200)
    r = request("GET", "/v1/services/web")
    T.check(r.json == g, "the canonical service round-trips unchanged", "response: %r" % r)
    expect_write("PUT /v1/services/web back to the first object: 200", "PUT",
                 "/v1/services/web", WEB, status=200)

    expect_write("PUT /v1/services/api (every field given): 201", "PUT", "/v1/services/api",
                 API_SVC, status=201)
    r = request("GET", "/v1/services/api")
    T.check(r.status == 200 and r.json == API_SVC,
            "GET /v1/services/api returns exactly what was put (nat, src_ip, http health)",
            "response: %r" % r, "want:     %s" % json.dumps(API_SVC))
    expect_write("PUT /v1/services/v6 (IPv6 vip and backend, dsr-gue): 201", "PUT",
                 "/v1/services/v6", V6_SVC, status=201)
    r = request("GET", "/v1/services/v6")
    T.check(r.status == 200 and r.json == V6_SVC, "GET /v1/services/v6 round-trips",
            "response: %r" % r)
    expect_write("PUT /v1/services/any (port 0: every port, udp, backend port given): 201",
                 "PUT", "/v1/services/any", {"vip": "198.18.0.13", "port": 0, "proto": "udp",
                                             "backends": [{"addr": "198.19.0.6", "port": 53}]},
                 status=201)
    r = request("GET", "/v1/services/any")
    T.check(r.status == 200 and isinstance(r.json, dict) and r.json.get("port") == 0
            and r.json.get("proto") == "udp", "GET /v1/services/any: port 0 kept",
            "response: %r" % r)
    # API.md: a backend port is "ignored in DSR modes, where the VIP port is
    # kept", so a DSR backend of an every-port service needs none.
    n = expect_write("PUT /v1/services/any-dsr (port 0, dsr-ipip backend without a port): 201",
                     "PUT", "/v1/services/any-dsr",
                     {"vip": "198.18.0.14", "port": 0, "proto": "tcp",
                      "backends": [{"addr": "198.19.0.7"}]}, status=201)
    if n:
        expect_write("DELETE /v1/services/any-dsr: 200", "DELETE", "/v1/services/any-dsr")

    j, r = get_json("/v1/services")
    m = listing(j, "services")
    T.check(isinstance(m, dict) and set(m) == {"web", "api", "v6", "any"}
            and m.get("web") == WEB_CANON and m.get("api") == API_SVC,
            "GET /v1/services lists web, api, v6, any with their objects", "response: %r" % r)

    expect_error("PUT /v1/services/web-dup with web's (vip, port, proto): 409 conflict",
                 "PUT", "/v1/services/web-dup", {"vip": "198.18.0.10", "port": 80,
                                                 "proto": "tcp"},
                 status=409, field=("vip", "services.web-dup.vip"))
    expect_error("PUT /v1/services/v6-dup with v6's vip written uncompressed: 409 conflict",
                 "PUT", "/v1/services/v6-dup", {"vip": "2001:0db8:0018:000a:0:0:0:0010",
                                                "port": 80}, status=409)
    expect_write("the same vip and port with udp is another service: 201", "PUT",
                 "/v1/services/web-udp", {"vip": "198.18.0.10", "port": 80, "proto": "udp"},
                 status=201)
    expect_write("DELETE /v1/services/web-udp: 200 with a version", "DELETE",
                 "/v1/services/web-udp", status=200)
    expect_error("GET /v1/services/web-udp after DELETE: 404", "GET", "/v1/services/web-udp",
                 status=404)
    expect_error("DELETE /v1/services/web-udp again: 404", "DELETE", "/v1/services/web-udp",
                 status=404)
    expect_write("DELETE /v1/services/any: 200", "DELETE", "/v1/services/any")


def check_limits():
    expect_error("PUT /v1/limits/orphan naming a missing service: 400", "PUT",
                 "/v1/limits/orphan", dict(PERIP, service="nosuch"), status=400,
                 field=("service", "limits.orphan.service"))
    expect_write("PUT /v1/limits/perip (new): 201", "PUT", "/v1/limits/perip", PERIP,
                 status=201)
    r = request("GET", "/v1/limits/perip")
    j = r.json if isinstance(r.json, dict) else {}
    T.check(r.status == 200 and all(j.get(k) == v for k, v in PERIP.items())
            and j.get("action") == "drop" and j.get("scope") == "node"
            and j.get("dry_run") is False and is_int(j.get("burst")) and j["burst"] >= 1
            and set(j) <= {"service", "match", "key", "unit", "rate", "burst", "action",
                           "scope", "dry_run"},
            "GET /v1/limits/perip: given fields kept, defaults action drop, scope node, "
            "dry_run false, an integer burst", "response: %r" % r)
    expect_write("PUT /v1/limits/perip (existing, burst 5000): 200", "PUT",
                 "/v1/limits/perip", dict(PERIP, burst=5000), status=200)
    r = request("GET", "/v1/limits/perip")
    T.check(r.status == 200 and isinstance(r.json, dict) and r.json.get("burst") == 5000,
            "GET after replace shows burst 5000", "response: %r" % r)
    expect_write("PUT /v1/limits/full (every field given): 201", "PUT", "/v1/limits/full",
                 FULL_LIMIT, status=201)
    r = request("GET", "/v1/limits/full")
    T.check(r.status == 200 and r.json == FULL_LIMIT,
            "GET /v1/limits/full returns exactly what was put", "response: %r" % r,
            "want:     %s" % json.dumps(FULL_LIMIT))
    expect_write("PUT /v1/limits/global (no service): 201", "PUT", "/v1/limits/global",
                 GLOBAL_LIMIT, status=201)
    r = request("GET", "/v1/limits/global")
    T.check(r.status == 200 and r.json == GLOBAL_LIMIT, "GET /v1/limits/global round-trips",
            "response: %r" % r)
    j, r = get_json("/v1/limits")
    m = listing(j, "limits")
    T.check(isinstance(m, dict) and set(m) == {"perip", "full", "global"}
            and m.get("full") == FULL_LIMIT, "GET /v1/limits lists perip, full, global",
            "response: %r" % r)
    expect_error("DELETE /v1/services/web while limits name it: 409 conflict", "DELETE",
                 "/v1/services/web", status=409)
    expect_error("GET /v1/limits/nolimit: 404", "GET", "/v1/limits/nolimit", status=404)
    check_applied("after the limits")


def check_if_match():
    cur = LAST["version"]
    expect_error("PUT with a stale If-Match: 412 version_mismatch", "PUT", "/v1/services/web",
                 WEB, status=412, headers={"If-Match": '"%d"' % (cur - 1)})
    expect_error("PUT with a future If-Match: 412", "PUT", "/v1/services/web", WEB,
                 status=412, headers={"If-Match": '"%d"' % (cur + 1000)})
    expect_error("PUT of a new name with a stale If-Match: 412", "PUT", "/v1/services/im-new",
                 {"vip": "198.18.0.40", "port": 80}, status=412,
                 headers={"If-Match": '"%d"' % (cur - 1)})
    expect_error("DELETE with a stale If-Match: 412", "DELETE", "/v1/limits/global",
                 status=412, headers={"If-Match": '"%d"' % (cur - 1)})
    expect_error("PUT /v1/config with a stale If-Match: 412", "PUT", "/v1/config", {},
                 status=412, headers={"If-Match": '"%d"' % (cur - 1)})
    expect_write("PUT with the current If-Match: 200", "PUT", "/v1/services/web", WEB,
                 headers={"If-Match": '"%d"' % cur})
    expect_error("the same If-Match again (now stale): 412", "PUT", "/v1/services/web", WEB,
                 status=412, headers={"If-Match": '"%d"' % cur})
    expect_write("DELETE with the current If-Match: 200", "DELETE", "/v1/limits/global",
                 headers={"If-Match": '"%d"' % LAST["version"]})


def check_config():
    full = {"services": {"web": WEB_CANON, "api": API_SVC, "v6": V6_SVC, "dns": DNS_SVC},
            "limits": {"perip": dict(PERIP, burst=1000, action="drop", scope="node",
                                     dry_run=False),
                       "full": FULL_LIMIT},
            "routes": {}, "seckill": {}}
    expect_write("PUT /v1/config with services, limits and empty routes/seckill: 200", "PUT",
                 "/v1/config", full)
    j = check_config_shape("after PUT /v1/config")
    T.check(j is not None and j["services"] == full["services"]
            and j["limits"] == full["limits"] and j["version"] == LAST["version"],
            "GET /v1/config returns the rule set that was put, at the write's version",
            "got:  %s" % json.dumps(j), "want: %s" % json.dumps(full))
    r = request("GET", "/v1/config")
    T.check(r.h("content-type", ) is not None and r.h("content-type").startswith("application/json"),
            "GET /v1/config: Content-Type application/json", "response: %r" % r)
    j, r = get_json("/v1/routes")
    T.check(r.status == 200 and listing(j, "routes") == {}, "GET /v1/routes: 200, none",
            "response: %r" % r)
    j, r = get_json("/v1/seckill")
    T.check(r.status == 200 and listing(j, "seckill") == {}, "GET /v1/seckill: 200, none",
            "response: %r" % r)
    expect_error("GET /v1/routes/r1 (missing): 404", "GET", "/v1/routes/r1", status=404)
    expect_error("DELETE /v1/seckill/s1 (missing): 404", "DELETE", "/v1/seckill/s1",
                 status=404)

    small = {"services": {"dns": DNS_SVC}}
    expect_write("PUT /v1/config with one service replaces everything: 200", "PUT",
                 "/v1/config", small)
    j = check_config_shape("after the replace")
    T.check(j is not None and j["services"] == {"dns": DNS_SVC} and j["limits"] == {},
            "only dns is left; the other services and the limits are gone", "got: %r" % j)
    expect_write("PUT /v1/config with the full set again: 200", "PUT", "/v1/config", full)

    # Refused whole bodies: nothing changes.
    base = copy.deepcopy(full)
    expect_error("PUT /v1/config with \"version\": 400, field version", "PUT", "/v1/config",
                 dict(base, version=LAST["version"]), field="version")
    check_l7_rules(base)
    cases = [
        ("unknown top-level member", dict(base, rules={}), "rules"),
        ("services is an array", dict(base, services=[]), "services"),
        ("limits is a string", dict(base, limits="x"), "limits"),
        ("routes is null", dict(base, routes=None), "routes"),
        ("a service port out of range", mutate(base, "services.web.port", 70000),
         "services.web.port"),
        ("a backend port 0", mutate(base, "services.api.backends.1.port", 0),
         "services.api.backends[1].port"),
        ("an unknown backend field",
         mutate(base, "services.web.backends.0.colour", "red"),
         "services.web.backends[0].colour"),
        ("an unknown health field", mutate(base, "services.api.health.retries", 2),
         "services.api.health.retries"),
        ("a limit rate 0", mutate(base, "limits.perip.rate", 0), "limits.perip.rate"),
        ("a limit match.src with host bits", mutate(base, "limits.full.match.src",
                                                     "198.18.64.5/18"),
         "limits.full.match.src"),
        ("a limit naming a missing service (the rest valid)",
         mutate(base, "limits.perip.service", "gone"), "limits.perip.service"),
        ("a limit left naming a service the body drops",
         mutate(base, "services.web", DEL), lambda f: f.startswith("limits.")),
    ]
    for desc, body, field in cases:
        expect_error("PUT /v1/config, %s: 400" % desc, "PUT", "/v1/config", body, field=field)
    expect_error("PUT /v1/config, a service name that is not a name: 400", "PUT",
                 "/v1/config", {"services": {"Web": WEB}},
                 field=lambda f: f.startswith("services"))
    expect_error("PUT /v1/config, a limit name too long: 400", "PUT", "/v1/config",
                 {"limits": {"l" * 64: GLOBAL_LIMIT}}, field=lambda f: f.startswith("limits"))
    expect_error("PUT /v1/config, two services on one (vip, port, proto): 409", "PUT",
                 "/v1/config", mutate(base, "services.dup", dict(WEB_CANON)), status=409,
                 field=lambda f: f.startswith("services."))
    expect_error("PUT /v1/config as a JSON array: 400", "PUT", "/v1/config", [base])
    check_applied("after PUT /v1/config")
    return full


def check_bad_inputs():
    svc_cases = [
        ("vip missing", mutate(WEB, "vip", DEL), "vip"),
        ("vip a number", mutate(WEB, "vip", 198), "vip"),
        ("vip null", mutate(WEB, "vip", None), "vip"),
        ("vip 300.1.1.1", mutate(WEB, "vip", "300.1.1.1"), "vip"),
        ("vip with a prefix length", mutate(WEB, "vip", "198.18.0.10/32"), "vip"),
        ("vip a host name", mutate(WEB, "vip", "lb.example"), "vip"),
        ("vip empty", mutate(WEB, "vip", ""), "vip"),
        ("vip IPv6 with brackets", mutate(WEB, "vip", "[2001:db8::1]"), "vip"),
        ("port missing", mutate(WEB, "port", DEL), "port"),
        ("port 65536", mutate(WEB, "port", 65536), "port"),
        ("port -1", mutate(WEB, "port", -1), "port"),
        ("port 80.0 (float)", mutate(WEB, "port", 80.0), "port"),
        ("port 80.5", mutate(WEB, "port", 80.5), "port"),
        ("port \"80\" (string)", mutate(WEB, "port", "80"), "port"),
        ("port true", mutate(WEB, "port", True), "port"),
        ("port null", mutate(WEB, "port", None), "port"),
        ("port 2^64", mutate(WEB, "port", 1 << 64), DEFAULT),
        ("proto icmp", mutate(WEB, "proto", "icmp"), "proto"),
        ("proto TCP (case)", mutate(WEB, "proto", "TCP"), "proto"),
        ("mode l3", mutate(WEB, "mode", "l3"), "mode"),
        ("forward dsr", mutate(WEB, "forward", "dsr"), "forward"),
        ("hash rr", mutate(WEB, "hash", "rr"), "hash"),
        ("hash a number", mutate(WEB, "hash", 5), "hash"),
        ("unknown top-level field", mutate(WEB, "colour", "red"), "colour"),
        ("a \"name\" member", mutate(WEB, "name", "web"), "name"),
        ("backends a string", mutate(WEB, "backends", "198.19.0.1"), "backends"),
        ("backends an object", mutate(WEB, "backends", {}), "backends"),
        ("a backend that is a string", mutate(WEB, "backends", ["198.19.0.1"]),
         "backends[0]"),
        ("backend addr missing", mutate(WEB, "backends.1.addr", DEL), "backends[1].addr"),
        ("backend addr 198.19.0.256", mutate(WEB, "backends.0.addr", "198.19.0.256"),
         "backends[0].addr"),
        ("backend addr a CIDR", mutate(WEB, "backends.0.addr", "198.19.0.0/24"),
         "backends[0].addr"),
        ("backend port 0", mutate(WEB, "backends.1.port", 0), "backends[1].port"),
        ("backend port 65536", mutate(WEB, "backends.0.port", 65536), "backends[0].port"),
        ("backend port -80", mutate(WEB, "backends.0.port", -80), "backends[0].port"),
        ("backend weight 65536", mutate(WEB, "backends.0.weight", 65536),
         "backends[0].weight"),
        ("backend weight -1", mutate(WEB, "backends.0.weight", -1), "backends[0].weight"),
        ("backend weight 1.5", mutate(WEB, "backends.0.weight", 1.5), "backends[0].weight"),
        ("backend weight 1e2 (a JSON real)", json.dumps(WEB).replace('"weight": 50',
                                                                     '"weight": 1e2'),
         "backends[1].weight"),
        ("backend weight \"100\"", mutate(WEB, "backends.0.weight", "100"),
         "backends[0].weight"),
        ("backend state up", mutate(WEB, "backends.0.state", "up"), "backends[0].state"),
        ("backend unknown field", mutate(WEB, "backends.1.color", "red"),
         "backends[1].color"),
        ("health a string", mutate(WEB, "health", "tcp"), "health"),
        ("health type icmp", mutate(WEB, "health", {"type": "icmp"}), "health.type"),
        ("health unknown field", mutate(WEB, "health", {"type": "tcp", "retries": 3}),
         "health.retries"),
        ("health interval_ms a string", mutate(WEB, "health", {"interval_ms": "1000"}),
         "health.interval_ms"),
        ("health rise -1", mutate(WEB, "health", {"rise": -1}), "health.rise"),
        ("health fall 2.5", mutate(WEB, "health", {"fall": 2.5}), "health.fall"),
        ("health port 65536", mutate(WEB, "health", {"port": 65536}), "health.port"),
        ("health expect_status \"200\"", mutate(WEB, "health", {"type": "http",
                                                               "expect_status": "200"}),
         "health.expect_status"),
    ]
    for desc, body, field in svc_cases:
        expect_error("PUT /v1/services/bad, %s: 400" % desc, "PUT", "/v1/services/bad",
                     body, field=field)
    # the same bad field inside the existing service (a replace)
    expect_error("PUT /v1/services/web (replace) with backend port 0: 400", "PUT",
                 "/v1/services/web", mutate(WEB, "backends.0.port", 0),
                 field="backends[0].port")

    lim_cases = [
        ("unit missing", mutate(PERIP, "unit", DEL), "unit"),
        ("unit qps", mutate(PERIP, "unit", "qps"), "unit"),
        ("rate missing", mutate(PERIP, "rate", DEL), "rate"),
        ("rate 0", mutate(PERIP, "rate", 0), "rate"),
        ("rate -5", mutate(PERIP, "rate", -5), "rate"),
        ("rate 1.5", mutate(PERIP, "rate", 1.5), "rate"),
        ("rate \"10\"", mutate(PERIP, "rate", "10"), "rate"),
        ("burst 0", mutate(PERIP, "burst", 0), "burst"),
        ("burst -1", mutate(PERIP, "burst", -1), "burst"),
        ("burst 2.0", mutate(PERIP, "burst", 2.0), "burst"),
        ("key dst_ip", mutate(PERIP, "key", "dst_ip"), "key"),
        ("key src_prefix/x", mutate(PERIP, "key", "src_prefix/x"), "key"),
        ("key src_prefix/33 on an IPv4 service", mutate(PERIP, "key", "src_prefix/33"),
         ("key", "limits.bad.key")),
        ("action block", mutate(PERIP, "action", "block"), "action"),
        ("scope global", mutate(PERIP, "scope", "global"), "scope"),
        ("dry_run \"yes\"", mutate(PERIP, "dry_run", "yes"), "dry_run"),
        ("dry_run 1", mutate(PERIP, "dry_run", 1), "dry_run"),
        ("service a number", mutate(PERIP, "service", 5), "service"),
        ("service not a name", mutate(PERIP, "service", "Web"), ("service",
                                                                 "limits.bad.service")),
        ("unknown field", mutate(PERIP, "color", "red"), "color"),
        ("match a string", mutate(PERIP, "match", "198.18.0.0/16"), "match"),
        ("match.src with host bits", mutate(PERIP, "match", {"src": "198.18.64.5/18"}),
         "match.src"),
        ("match.src /33", mutate(PERIP, "match", {"src": "198.18.0.0/33"}), "match.src"),
        ("match.src not an address", mutate(PERIP, "match", {"src": "bogus/8"}),
         "match.src"),
        ("match.src IPv6 with host bits", mutate(PERIP, "match", {"src": "2001:db8::1/32"}),
         "match.src"),
        ("match.proto icmp", mutate(PERIP, "match", {"proto": "icmp"}), "match.proto"),
        ("match.dst_port 70000", mutate(PERIP, "match", {"dst_port": 70000}),
         "match.dst_port"),
        ("match.dst_port -1", mutate(PERIP, "match", {"dst_port": -1}), "match.dst_port"),
        ("match unknown field", mutate(PERIP, "match", {"dst": "198.18.0.10"}),
         "match.dst"),
    ]
    for desc, body, field in lim_cases:
        expect_error("PUT /v1/limits/bad, %s: 400" % desc, "PUT", "/v1/limits/bad", body,
                     field=field)
    # Valid, but not enforceable by this node: refused (409) with the
    # reason, never stored and left undone.
    expect_error("PUT /v1/limits/bad, scope cluster without cluster membership: 409",
                 "PUT", "/v1/limits/bad", mutate(PERIP, "scope", "cluster"), status=409,
                 msg_has="scope: cluster needs cluster membership")
    expect_error("PUT /v1/services/bad, mode l7 without the L7 engine: 409",
                 "PUT", "/v1/services/bad",
                 mutate(mutate(WEB, "mode", "l7"), "vip", "198.18.0.91"), status=409,
                 msg_has="l7 needs the L7 engine")

    raw_cases = [
        ("an empty body", b""),
        ("non-JSON text", b"vip=198.18.0.20&port=80"),
        ("truncated JSON", b'{"vip": "198.18.0.20", "port": 80'),
        ("a JSON array", b'[{"vip": "198.18.0.20", "port": 80}]'),
        ("JSON null", b"null"),
        ("a JSON number", b"42"),
        ("a JSON string", b'"web"'),
        ("two JSON objects", b'{"vip": "198.18.0.20", "port": 80}{}'),
        ("trailing garbage", b'{"vip": "198.18.0.20", "port": 80} x'),
        ("duplicate keys", b'{"vip": "198.18.0.20", "port": 80, "port": 81}'),
        ("duplicate keys in a backend",
         b'{"vip": "198.18.0.20", "port": 80, "backends": '
         b'[{"addr": "198.19.0.1", "addr": "198.19.0.2"}]}'),
        ("invalid UTF-8", b'{"vip": "198.18.0.20", "port": 80, "x": "\xff\xfe"}'),
        ("a NUL escaped in a string", b'{"vip": "198.18.0.20\\u0000", "port": 80}'),
        ("single quotes", b"{'vip': '198.18.0.20', 'port': 80}"),
        ("a comment", b'{"vip": "198.18.0.20", /* c */ "port": 80}'),
        ("NaN", b'{"vip": "198.18.0.20", "port": NaN}'),
    ]
    for desc, body in raw_cases:
        expect_error("PUT /v1/services/raw, %s: 400" % desc, "PUT", "/v1/services/raw", body)
    for desc, body in (("an empty body", b""), ("duplicate top-level keys",
                                                 b'{"services": {}, "services": {}}'),
                       ("non-JSON", b"services="), ("a JSON string", b'"{}"')):
        expect_error("PUT /v1/config, %s: 400" % desc, "PUT", "/v1/config", body)
    expect_error("PUT /v1/limits/raw, duplicate keys: 400", "PUT", "/v1/limits/raw",
                 b'{"unit": "pps", "rate": 1, "rate": 2}')

    # names in the path
    for name in ("Web", "-web", "_web", "web.1", "web%20x", "w%2Fx", "%C3%A9t%C3%A9",
                 "l" * 64, "web:80"):
        expect_error("PUT /v1/services/%s (not a name): 400" % name[:20], "PUT",
                     "/v1/services/" + name, {"vip": "198.18.0.50", "port": 80})
        expect_error("PUT /v1/limits/%s (not a name): 400" % name[:20], "PUT",
                     "/v1/limits/" + name, GLOBAL_LIMIT)
    for m in ("GET", "DELETE"):
        expect_error("%s /v1/services/Web (not a name): 400 or 404" % m, m,
                     "/v1/services/Web", status={400, 404})
    expect_error("PUT /v1/services/ (empty name): 400 or 404", "PUT", "/v1/services/",
                 {"vip": "198.18.0.50", "port": 80}, status={400, 404, 405})
    expect_error("PUT /v1/services/a/b (a slash in the name): 400 or 404", "PUT",
                 "/v1/services/a/b", {"vip": "198.18.0.50", "port": 80}, status={400, 404})
    for name in ("l" * 63, "0", "a_b-c9"):
        expect_write("PUT /v1/services/%s... (a valid edge name): 201" % name[:10], "PUT",
                     "/v1/services/" + name, {"vip": "198.18.0.60", "port": 80}, status=201)
        expect_write("DELETE it: 200", "DELETE", "/v1/services/" + name)


def check_sizes():
    body = padded({"services": {}}, MIB + 1)
    expect_error("PUT /v1/config with a body of 1 MiB + 1 byte: 413 too_large", "PUT",
                 "/v1/config", body, status=413)
    expect_error("PUT /v1/services/big with a 2 MiB body: 413 too_large", "PUT",
                 "/v1/services/big", padded({"vip": "198.18.0.70", "port": 80}, 2 * MIB),
                 status=413)
    expect_error("PUT /v1/config with a 5 MiB body: 413 too_large (JSON error body)", "PUT",
                 "/v1/config", padded({"services": {}}, 5 * MIB), status=413)
    cur = request("GET", "/v1/config").json
    keep = {k: cur[k] for k in ("services", "limits", "routes", "seckill")}
    expect_write("PUT /v1/config with a body of exactly 1 MiB: accepted (200)", "PUT",
                 "/v1/config", padded(keep, MIB))


def check_paths_methods():
    answers = []
    for p in ("/", "/v1", "/v1/", "/v2/status", "/v1/nothing", "/v1/statusx",
              "/metricsx", "/v1/config/x", "/V1/status", "/v1/services/web/backends"):
        expect_error("GET %s: 404 not_found" % p, "GET", p,
                     status={400, 404} if p.count("/") > 3 else 404)
    for m, p in (("POST", "/v1/config"), ("DELETE", "/v1/config"), ("PATCH", "/v1/config"),
                 ("POST", "/v1/services"), ("PUT", "/v1/services"),
                 ("DELETE", "/v1/limits"), ("POST", "/v1/services/web"),
                 ("PATCH", "/v1/limits/perip"), ("PUT", "/v1/status"),
                 ("DELETE", "/v1/stats"), ("POST", "/v1/nodes"), ("PUT", "/metrics"),
                 ("POST", "/healthz"), ("OPTIONS", "/v1/config"),
                 ("OPTIONS", "/v1/services/web")):
        body = {} if m in ("POST", "PUT", "PATCH") else None
        ok, r = expect_error("%s %s: 405 with a JSON error body" % (m, p), m, p, body,
                             status=405, token=None if p == "/healthz" else DEFAULT)
        answers.append((m, p, r))
    no_allow = ["%s %s: %r" % (m, p, r) for m, p, r in answers
                if r.status == 405 and not r.h("allow")]
    T.check(not no_allow, "every 405 names the allowed methods (Allow header)", *no_allow)

    def code(r):
        e = r.json.get("error") if isinstance(r.json, dict) else None
        return e.get("code") if isinstance(e, dict) else None
    internal = ["%s %s: %r" % (m, p, r) for m, p, r in answers
                if r.status == 405 and code(r) in (None, "internal")]
    T.check(not internal, "405 errors do not use the code \"internal\" (API.md: internal "
            "is 500)", *internal[:3])


def prom_parse(text):
    """[(name, {labels}, value)] or raises ValueError on a bad line."""
    out = []
    lab_re = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')
    for line in text.splitlines():
        if not line or line.startswith("#"):
            if line.startswith("# TYPE ") or line.startswith("# HELP "):
                parts = line.split(None, 3)
                if len(parts) < 3 or not parts[2].startswith("floodgate_"):
                    raise ValueError("bad comment line: %r" % line)
            continue
        m = re.match(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)( \d+)?$', line)
        if not m:
            raise ValueError("bad sample line: %r" % line)
        labels = {}
        if m.group(3):
            rest = m.group(3)
            pos = 0
            while pos < len(rest):
                lm = lab_re.match(rest, pos)
                if not lm:
                    raise ValueError("bad labels: %r" % line)
                labels[lm.group(1)] = lm.group(2)
                pos = lm.end()
                if pos < len(rest):
                    if rest[pos] != ",":
                        raise ValueError("bad labels: %r" % line)
                    pos += 1
        out.append((m.group(1), labels, float(m.group(4))))
    return out


def backend_keys(svc):
    keys = set()
    for b in svc.get("backends", []):
        port = b.get("port", svc["port"])
        keys.add(("[%s]:%d" if ":" in b["addr"] else "%s:%d") % (b["addr"], port))
    return keys


def counters(st):
    """{(path...): value} of every integer counter in a stats body."""
    out = {}

    def walk(o, path):
        if isinstance(o, dict):
            for k, v in o.items():
                walk(v, path + (k,))
        elif is_int(o) and path[0] != "version":
            out[path] = o
    walk(st, ())
    return out


DNS_PKTS = ("services", "dns", "packets")
DNS_BACKEND = "198.19.0.5:53"
TRAFFIC_SRC = "198.18.0.2"
TRAFFIC_DNS = 20
TRAFFIC_WEB = 5
TRAFFIC_PAYLOAD = b"floodgate-test-api-traffic-0123"


def send_vip_traffic():
    """Send TRAFFIC_DNS UDP datagrams (one flow) at the dns VIP and
    TRAFFIC_WEB TCP SYNs (one flow each) at the web VIP, from veth1 into
    veth0, where the daemon's XDP program runs: host routes and permanent
    neighbours for the two VIPs point veth1 at veth0's MAC, since the
    kernel would otherwise deliver between two local addresses over lo.
    The DSR encapsulation toward the backends goes nowhere (198.19.0.0/16
    is not routed here); the counters are bumped before it. Returns
    ({"dns", "dns_bytes", "web"}, "") or (None, why)."""
    vips = (DNS_SVC["vip"], WEB_CANON["vip"])
    try:
        link = json.loads(sh("ip", "-j", "link", "show", "dev", "veth0").stdout)
        mac = link[0]["address"]
        for vip in vips:
            sh("ip", "route", "replace", vip + "/32", "dev", "veth1", "src", TRAFFIC_SRC)
            sh("ip", "neigh", "replace", vip, "lladdr", mac, "dev", "veth1",
               "nud", "permanent")
    except (RuntimeError, ValueError, KeyError, IndexError, OSError) as e:
        return None, "setting up routes to the VIPs: %s" % e
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
            u.bind((TRAFFIC_SRC, 0))
            for _ in range(TRAFFIC_DNS):
                u.sendto(TRAFFIC_PAYLOAD, (DNS_SVC["vip"], DNS_SVC["port"]))
        syns = []
        try:
            for _ in range(TRAFFIC_WEB):
                t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                syns.append(t)
                t.setblocking(False)
                t.bind((TRAFFIC_SRC, 0))
                t.connect_ex((WEB_CANON["vip"], WEB_CANON["port"]))
            # Let the SYNs leave before the sockets go (a socket closed in
            # SYN_SENT sends nothing more).
            time.sleep(0.2)
        finally:
            for t in syns:
                t.close()
    except OSError as e:
        return None, "sending: %s" % e
    finally:
        for vip in vips:
            sh("ip", "neigh", "del", vip, "dev", "veth1", check=False)
            sh("ip", "route", "del", vip + "/32", "dev", "veth1", check=False)
    # Ethernet, IPv4 and UDP headers: the dataplane counts whole frames.
    frame = 14 + 20 + 8 + len(TRAFFIC_PAYLOAD)
    return {"dns": TRAFFIC_DNS, "dns_bytes": TRAFFIC_DNS * frame, "web": TRAFFIC_WEB}, ""


def check_stats_metrics(cfg):
    s1, r = get_json("/v1/stats")
    if not T.check(isinstance(s1, dict), "GET /v1/stats: 200 with a JSON object",
                   "response: %r" % r):
        return
    T.check({"services", "limits", "seckill", "drops"} <= set(s1)
            and all(isinstance(s1[k], dict) for k in ("services", "limits", "seckill", "drops")),
            "stats has services, limits, seckill and drops objects", "response: %r" % r)
    svcs = s1.get("services", {})
    T.check(set(svcs) == set(cfg["services"]), "stats.services has every service by name",
            "got %s, want %s" % (sorted(svcs), sorted(cfg["services"])))
    bad = []
    for name, svc in cfg["services"].items():
        s = svcs.get(name, {})
        for k in ("packets", "bytes", "new_flows"):
            if not is_int(s.get(k)) or s[k] < 0:
                bad.append("services.%s.%s = %r" % (name, k, s.get(k)))
        be = s.get("backends")
        want = backend_keys(svc)
        alt = {k.replace("[", "").replace("]", "") for k in want}
        if not isinstance(be, dict) or set(be) not in (want, alt):
            bad.append("services.%s.backends keys %r, want %r" % (
                name, sorted(be) if isinstance(be, dict) else be, sorted(want)))
            continue
        for bk, bv in be.items():
            if not (isinstance(bv, dict) and is_int(bv.get("packets")) and
                    is_int(bv.get("new_flows")) and isinstance(bv.get("healthy"), bool)):
                bad.append("services.%s.backends[%s] = %r" % (name, bk, bv))
    T.check(not bad, "stats.services: packets, bytes, new_flows and backends keyed "
            "\"addr:port\" with packets, new_flows, healthy", *bad)
    lims = s1.get("limits", {})
    T.check(set(lims) == set(cfg["limits"]) and all(
        isinstance(v, dict) and is_int(v.get("passed")) and is_int(v.get("limited"))
        for v in lims.values()),
        "stats.limits: every limit with passed and limited", "got: %r" % lims)
    T.check(s1.get("seckill") == {}, "stats.seckill is {} (no rules)", "got: %r" % s1.get("seckill"))
    drops = s1.get("drops", {})
    T.check(all(is_int(drops.get(k)) and drops[k] >= 0
                for k in ("malformed", "no_service", "flood_guard")),
            "stats.drops has malformed, no_service, flood_guard", "got: %r" % drops)
    T.check(is_int(s1.get("version")), "stats carries the version", "got: %r" % s1.get("version"))

    sent, why = send_vip_traffic()
    T.check(sent, "traffic sent at the dns and web VIPs through veth0's XDP", why)
    m = request("GET", "/metrics")
    c1, last = counters(s1), [{}]

    def moved():
        s, _ = get_json("/v1/stats")
        last[0] = counters(s) if isinstance(s, dict) else {}
        return not sent or \
            last[0].get(DNS_PKTS, 0) - c1.get(DNS_PKTS, 0) >= sent["dns"]
    wait_until(moved, 5)
    c2 = last[0]
    back = ["%s: %d -> %s" % (".".join(k), v, c2.get(k)) for k, v in c1.items()
            if not is_int(c2.get(k)) or c2[k] < v]
    T.check(c2 and not back, "stats counters never go backwards under traffic", *back)
    if sent:
        d = {k: c2.get(k, 0) - c1.get(k, 0) for k in c1}
        want = {
            DNS_PKTS: (sent["dns"], sent["dns"]),
            ("services", "dns", "bytes"): (sent["dns_bytes"], sent["dns_bytes"]),
            ("services", "dns", "new_flows"): (1, 1),
            ("services", "dns", "backends", DNS_BACKEND, "packets"): (sent["dns"], sent["dns"]),
            # SYNs: the kernel may retransmit one before the read.
            ("services", "web", "packets"): (sent["web"], None),
            ("services", "web", "new_flows"): (sent["web"], None),
            ("limits", "perip", "passed"): (sent["web"], None),
            ("limits", "perip", "limited"): (0, 0),
        }
        off = ["%s moved by %s, want %s" % (".".join(k), d.get(k),
                                             lo if lo == hi else "at least %d" % lo)
               for k, (lo, hi) in want.items()
               if d.get(k) is None or d[k] < lo or (hi is not None and d[k] > hi)]
        T.check(not off, "the traffic moved the counters it should: dns by %d datagrams "
                "(%d bytes, one flow), web and its perip limit by %d SYNs"
                % (sent["dns"], sent["dns_bytes"], sent["web"]), *off)

    T.check(m.status == 200 and (m.h("content-type") or "").startswith("text/plain"),
            "GET /metrics: 200 text/plain", "response: %r" % m)
    try:
        samples = prom_parse(m.body.decode("utf-8"))
        perr = None
    except (ValueError, UnicodeDecodeError) as e:
        samples, perr = [], str(e)
    T.check(perr is None and samples, "/metrics is valid Prometheus text", perr or "no samples")
    T.check(samples and all(n.startswith("floodgate_") for n, _, _ in samples),
            "every metric name starts with floodgate_",
            *sorted({n for n, _, _ in samples if not n.startswith("floodgate_")}))
    T.check(samples and all(set(lb) <= {"service", "backend", "limit", "seckill", "rule",
                                        "reason"} for _, lb, _ in samples),
            "labels are service, backend, limit, seckill rule, reason",
            *sorted({str(sorted(lb)) for _, lb, _ in samples}))

    def find(labels, word, path):
        lo, hi = c1.get(path), c2.get(path)
        for n, lb, v in samples:
            if lb == labels and word in n and lo is not None and hi is not None \
                    and lo <= v <= hi:
                return True
        return False
    miss = []
    for name, svc in (s1.get("services") or {}).items():
        for k in ("packets", "bytes", "new_flows"):
            if not find({"service": name}, k, ("services", name, k)):
                miss.append("service=%s %s" % (name, k))
        for bk in (svc.get("backends") or {}):
            for k in ("packets", "new_flows"):
                if not find({"service": name, "backend": bk}, k,
                            ("services", name, "backends", bk, k)):
                    miss.append("service=%s backend=%s %s" % (name, bk, k))
    for name in (s1.get("limits") or {}):
        for k in ("passed", "limited"):
            if not find({"limit": name}, k, ("limits", name, k)):
                miss.append("limit=%s %s" % (name, k))
    for reason in (s1.get("drops") or {}):
        if not find({"reason": reason}, "drop", ("drops", reason)):
            miss.append("reason=%s" % reason)
    T.check(samples and not miss, "/metrics has the stats' numbers, labelled by service, "
            "backend, limit and reason", *miss[:20])


def check_nodes(node):
    def good():
        j, r = get_json("/v1/nodes")
        st, _ = get_json("/v1/status")
        lst = j.get("nodes") if isinstance(j, dict) else j
        if not isinstance(lst, list) or not isinstance(st, dict):
            return None
        me = [n for n in lst if isinstance(n, dict) and n.get("name") == node]
        return me and me[0].get("applied_version") == st.get("applied_version") and me[0]
    me = wait_until(good, 15, 0.5)
    j, r = get_json("/v1/nodes")
    T.check(bool(me), "GET /v1/nodes lists this node with the status' applied_version",
            "response: %r" % r)
    me = me or {}
    T.check(me.get("group") == "default" and isinstance(me.get("address"), str)
            and me.get("address") and me.get("alive") is True
            and is_int(me.get("applied_version")),
            "the node entry has name, group, address, applied_version, alive true",
            "entry: %r" % me)


def check_fgctl():
    fgctl = os.environ.get("FGCTL")
    if not fgctl or not os.access(fgctl, os.X_OK):
        print("# fgctl not given (FGCTL): its --json check is skipped")
        return
    tok = os.path.join(os.environ["FG_API_TMP"], "token")
    r = subprocess.run([fgctl, "--api", "http://127.0.0.1:%d" % API_PORT, "--token-file",
                        tok, "--json", "config", "get"], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=30)
    g = request("GET", "/v1/config")
    try:
        same = json.loads(r.stdout) == g.json
    except ValueError:
        same = False
    T.check(r.returncode == 0 and same, "fgctl --json config get prints GET /v1/config",
            "exit %d, stderr %r" % (r.returncode, r.stderr[:300]),
            "stdout %r" % r.stdout[:300])


def check_store_down(d):
    """API.md: 503 unavailable when the rule store is unreachable; nothing
    changes, reads still answer. The embedded etcd is frozen (SIGSTOP) for
    one write, then thawed."""
    kids = d.children()
    if not T.check(len(kids) == 1, "the daemon runs one child, its embedded etcd",
                   "children: %s" % kids):
        return
    before = config_snapshot()
    os.kill(kids[0], signal.SIGSTOP)
    try:
        t0 = time.time()
        # The store holds the request (its socket accepts) but never
        # answers: after its request timeout and the bounded time it
        # spends resolving the outcome (about 20 s), the answer is that
        # the outcome is unknown.
        r = request("PUT", "/v1/services/store-down", {"vip": "198.18.0.90", "port": 80},
                    timeout=45)
        took = time.time() - t0
        bad = ["status %s, want 503" % r.status] if r.status != 503 else []
        # API.md, Versions: a write the store holds but does not answer
        # has an unknown outcome (outcome_unknown, with If-Match advice).
        bad += error_shape(r, "outcome_unknown")
        if isinstance(r.json, dict) and "If-Match" not in \
                r.json.get("error", {}).get("message", ""):
            bad.append("an outcome_unknown message must say to retry with If-Match")
        T.check(not bad, "a write while the store is frozen: 503 outcome_unknown "
                "(%.1f s)" % took, "response: %r" % r, *bad)
        after = config_snapshot()
        T.check(after[2].status == 200 and after[0] == before[0],
                "GET /v1/config still answers, unchanged, while the store is down",
                "before: %r" % before[2], "after:  %r" % after[2])
        st, r = get_json("/v1/status")
        T.check(isinstance(st, dict) and status_view(st)["store_healthy"] is False,
                "status reports the store unhealthy while it is down", "response: %r" % r)
    finally:
        os.kill(kids[0], signal.SIGCONT)

    def healthy():
        request("GET", "/v1/nodes")
        st, _ = get_json("/v1/status")
        return isinstance(st, dict) and status_view(st)["store_healthy"] is True
    T.check(wait_until(healthy, 20, 0.5), "the store is healthy again after it resumes")
    # A write that timed out against a frozen store has an unknown
    # outcome: etcd may still apply it when it resumes (no store can take
    # back a request it already holds). What must hold is consistency:
    # the daemon ends up serving exactly what the store holds, and the
    # dataplane runs it.
    def settled():
        st, _ = get_json("/v1/status")
        return (isinstance(st, dict) and is_int(st.get("rules_version")) and
                st.get("rules_version") == st.get("applied_version"))
    T.check(wait_until(settled, 20, 0.5),
            "after the store resumes, the dataplane runs the stored version")
    st, _ = get_json("/v1/status")
    if isinstance(st, dict) and is_int(st.get("rules_version")):
        LAST["version"] = max(LAST["version"], st["rules_version"])
    r = request("GET", "/v1/services/store-down")
    T.check(r.status in (200, 404),
            "the write answered 503 either landed whole or not at all (GET %s)" % r.status,
            "response: %r" % r)
    if r.status == 200:
        expect_write("DELETE the write that landed after its 503: 200", "DELETE",
                     "/v1/services/store-down")
    expect_write("a write after the store resumed: 201", "PUT", "/v1/services/store-up",
                 {"vip": "198.18.0.91", "port": 80}, status=201)
    expect_write("DELETE it: 200", "DELETE", "/v1/services/store-up")


def check_restart(d, node, how):
    before = request("GET", "/v1/config")
    bj = before.json
    kids = d.children()
    if how == "kill":
        rc = d.stop(signal.SIGKILL, timeout=10)
        T.check(rc == -signal.SIGKILL, "kill -9 of the daemon", "exit %r" % rc)
    else:
        t0 = time.time()
        rc = d.stop(signal.SIGTERM, timeout=30)
        T.check(rc == 0, "SIGTERM stops the daemon with status 0 (%.1f s)" % (time.time() - t0),
                "exit %r" % rc, d.tail())
    gone = wait_until(lambda: not any(pid_alive(k) for k in kids), 20)
    T.check(gone, "the embedded etcd (pids %s) exits with the daemon" % kids,
            "alive: %s" % [k for k in kids if pid_alive(k)])
    d.start()
    ok, why = d.wait_ready(30)
    if not T.check(ok, "after %s the daemon starts again on the same data dir" % how,
                   why, d.tail()):
        return False
    after = request("GET", "/v1/config")
    T.check(after.status == 200 and after.json == bj,
            "after %s GET /v1/config has the same rules and version" % how,
            "before: %r" % before, "after:  %r" % after)
    check_status(node, True)
    check_applied("after %s" % how)
    return True


# ====================================================================
# inner: the connection layer (raw sockets: what a client library hides)
# ====================================================================

def raw_conn(timeout=5):
    s = socket.create_connection(("127.0.0.1", API_PORT), timeout=timeout)
    s.settimeout(timeout)
    return s


def read_response(s, timeout=5):
    """One HTTP response from socket s: (status, headers, body) or
    (None, {}, why). Reads up to the end of the Content-Length body."""
    s.settimeout(timeout)
    buf = b""
    try:
        while b"\r\n\r\n" not in buf:
            d = s.recv(65536)
            if not d:
                return None, {}, "closed before a response (%r)" % buf[:200]
            buf += d
        head, rest = buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        hdrs = {}
        for ln in lines[1:]:
            k, _, v = ln.partition(":")
            hdrs[k.strip().lower()] = v.strip()
        n = int(hdrs.get("content-length", "0"))
        while len(rest) < n:
            d = s.recv(65536)
            if not d:
                break
            rest += d
        return status, hdrs, rest[:n]
    except (OSError, ValueError, IndexError) as e:
        return None, {}, "%s: %s" % (type(e).__name__, e)


def err_code(body):
    try:
        return json.loads(body.decode())["error"]["code"]
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


def closed_within(s, timeout):
    """True when the peer closes (or resets) s within timeout seconds."""
    s.settimeout(timeout)
    try:
        return s.recv(1) == b""
    except ConnectionResetError:
        return True
    except OSError:
        return False


def check_early_refusal():
    """The token and the body size are judged from the headers: the
    answer comes before the body is sent (the old daemon read the whole
    body first, and so waited for it)."""
    before = config_snapshot()
    head = ("PUT /v1/config HTTP/1.1\r\nHost: fg\r\nContent-Type: application/json\r\n"
            "Content-Length: %d\r\n%s\r\n")
    s = raw_conn()
    try:
        s.sendall((head % (2 * MIB, "")).encode())
        st, h, body = read_response(s, 5)
        T.check(st == 401 and err_code(body) == "unauthenticated"
                and (h.get("www-authenticate") or "").lower().startswith("bearer")
                and (h.get("content-type") or "").startswith("application/json"),
                "an unauthenticated PUT announcing a 2 MiB body: 401 JSON before the body is sent",
                "got: %r %r %r" % (st, h, body[:300]))
        # The client sends the body anyway: it is dropped, and the
        # connection serves the next request.
        s.sendall(b" " * (2 * MIB))
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: fg\r\n\r\n")
        st, h, body = read_response(s, 10)
        T.check(st == 200, "the refused body is dropped; the same connection then answers /healthz",
                "got: %r %r" % (st, body[:200]))
    finally:
        s.close()
    s = raw_conn()
    try:
        s.sendall((head % (MIB + 1, "Authorization: Bearer %s\r\n" % TOKEN)).encode())
        st, h, body = read_response(s, 5)
        T.check(st == 413 and err_code(body) == "too_large"
                and (h.get("content-type") or "").startswith("application/json"),
                "an authenticated PUT announcing 1 MiB + 1 byte: 413 too_large JSON before the body",
                "got: %r %r %r" % (st, h, body[:300]))
    finally:
        s.close()
    s = raw_conn()
    try:
        # A wrong token of the right length, and a huge body: 401 (the
        # token first), the connection closed after the answer.
        s.sendall((head % (64 * MIB, "Authorization: Bearer %s\r\n"
                           % ("x" * len(TOKEN)))).encode())
        st, h, body = read_response(s, 5)
        T.check(st == 401 and err_code(body) == "unauthenticated",
                "a wrong token of the right length with a 64 MiB body: 401",
                "got: %r %r %r" % (st, h, body[:300]))
        T.check(closed_within(s, 15),
                "...then the daemon closes the connection rather than read 64 MiB")
    finally:
        s.close()
    for desc, req in (("Connection: close", "GET /v1/status HTTP/1.1\r\nHost: fg\r\n"
                       "Connection: close\r\nAuthorization: Bearer %s\r\n\r\n" % TOKEN),
                      ("HTTP/1.0", "GET /v1/status HTTP/1.0\r\n"
                       "Authorization: Bearer %s\r\n\r\n" % TOKEN)):
        s = raw_conn()
        try:
            s.sendall(req.encode())
            st, h, body = read_response(s, 5)
            T.check(st == 200 and b"rules_version" in body and closed_within(s, 5),
                    "a %s request gets its whole answer, then the connection closes" % desc,
                    "got: %r %r %r" % (st, h, body[:200]))
        finally:
            s.close()
    after = config_snapshot()
    T.check(after[0] == before[0], "refused requests changed nothing")
    st, _ = get_json("/v1/status")
    api = st.get("api") if isinstance(st, dict) else None
    T.check(isinstance(api, dict) and api.get("requests_refused_unauthenticated", 0) >= 2
            and api.get("requests_refused_too_large", 0) >= 1,
            "status counts the requests refused on their headers", "api: %r" % api)


def check_connection_cap():
    st, r = get_json("/v1/status")
    api = st.get("api") if isinstance(st, dict) else None
    cap = api.get("connections_max") if isinstance(api, dict) else None
    if not T.check(is_int(cap) and 0 < cap <= 1024,
                   "status: api.connections_max is the documented cap", "response: %r" % r):
        return
    refused0 = api.get("connections_refused", 0)
    held = []
    try:
        for _ in range(cap):
            held.append(raw_conn())
        time.sleep(1)  # the daemon accepts them all
        extra = raw_conn()
        try:
            T.check(closed_within(extra, 5),
                    "connection %d (one past the cap of %d) is closed at once" % (cap + 1, cap))
        finally:
            extra.close()
        held[0].sendall(b"GET /healthz HTTP/1.1\r\nHost: fg\r\n\r\n")
        st_, _, body = read_response(held[0], 5)
        T.check(st_ == 200, "a connection within the cap still serves", "got %r %r" % (st_, body))
    finally:
        for c in held:
            c.close()

    def counted():
        st2, _ = get_json("/v1/status")
        a = st2.get("api") if isinstance(st2, dict) else None
        return isinstance(a, dict) and a.get("connections_refused", 0) > refused0 and a
    a = wait_until(counted, 5)
    T.check(bool(a), "the refused connection is counted (api.connections_refused)",
            "api: %r" % a)


def check_head_deadline():
    s = raw_conn()
    try:
        s.sendall(b"GET /v1/status HTTP/1.1\r\nHost: fg\r\n")  # never finished
        t0 = time.time()
        gone = closed_within(s, 20)
        took = time.time() - t0
        T.check(gone and took < 15,
                "a request head left unfinished is closed after its deadline (%.1f s)" % took)
    finally:
        s.close()


def inner_lo():
    """The namespace has lo and a veth without addresses, as a box at
    boot: the daemon's API must come up on 127.0.0.1 (libevent's bind
    refused it: "getaddrinfo: address family for nodename not
    supported")."""
    global TOKEN
    TOKEN = os.environ["FG_API_TOKEN"]
    ns = os.environ["FG_API_NS"]
    tmp = os.environ["FG_API_TMP"]
    d = Daemon(os.environ["FLOODGATED"], os.environ["FG_API_CONF"], tmp)
    r = subprocess.run(["ip", "-o", "addr", "show"], stdout=subprocess.PIPE, text=True)
    addrs = [ln.split()[1] for ln in r.stdout.splitlines()]
    print("# node %s: addresses on %s only" % (ns, sorted(set(addrs))))
    T.check(set(addrs) <= {"lo"}, "only lo has addresses in this namespace", r.stdout)
    d.start()
    try:
        ok, why = d.wait_ready(30)
        T.check(ok, "the daemon's API comes up on 127.0.0.1 where only lo has an address",
                why, d.tail())
        if ok:
            check_status(ns, False)
        rc = d.stop(signal.SIGTERM, timeout=30)
        T.check(rc == 0, "SIGTERM: exit status 0", "exit %r" % rc, d.tail())
        r = subprocess.run([d.fgd, "--detach", "-c", d.conf], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, timeout=30)
        T.check(r.returncode == 0, "floodgated --detach", r.stdout)
    except Exception:
        import traceback
        T.check(False, "the checks ran to the end", traceback.format_exc())
    finally:
        d.stop(signal.SIGTERM, timeout=30)
    return T.summary()


def inner():
    global TOKEN
    TOKEN = os.environ["FG_API_TOKEN"]
    ns = os.environ["FG_API_NS"]
    tmp = os.environ["FG_API_TMP"]
    d = Daemon(os.environ["FLOODGATED"], os.environ["FG_API_CONF"], tmp)
    print("# node %s, API http://127.0.0.1:%d, data %s" % (ns, API_PORT, tmp))
    r = subprocess.run([d.fgd, "--check", "-c", d.conf], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    T.check(r.returncode == 0, "floodgated --check accepts the test's config", r.stdout)
    d.start()
    try:
        ok, why = d.wait_ready(30)
        if not T.check(ok, "the daemon starts: /healthz, then rules loaded", why, d.tail()):
            return T.summary()
        st = check_status(ns, False)
        LAST["version"] = st.get("rules_version", 0) if st else 0
        check_applied("at start")
        check_auth()
        check_services()
        check_limits()
        check_if_match()
        cfg = check_config()
        check_bad_inputs()
        check_sizes()
        check_early_refusal()
        check_connection_cap()
        check_head_deadline()
        check_paths_methods()
        check_stats_metrics(cfg)
        check_nodes(ns)
        check_fgctl()
        check_store_down(d)
        T.check(d.p.poll() is None, "the daemon is still running after all requests",
                d.tail())
        if check_restart(d, ns, "SIGTERM"):
            expect_write("a write after the restart: 200, the version keeps growing", "PUT",
                         "/v1/services/after-restart", {"vip": "198.18.0.80", "port": 80},
                         status=201)
            if check_restart(d, ns, "kill"):
                r = request("GET", "/v1/services/after-restart")
                T.check(r.status == 200, "the write made between restarts survived kill -9",
                        "response: %r" % r)
        t0 = time.time()
        kids = d.children()
        rc = d.stop(signal.SIGTERM, timeout=30)
        T.check(rc == 0, "final SIGTERM: exit status 0 (%.1f s)" % (time.time() - t0),
                "exit %r" % rc, d.tail())
        T.check(wait_until(lambda: not any(pid_alive(k) for k in kids), 20),
                "no etcd left after the final stop")
        r = subprocess.run([d.fgd, "--detach", "-c", d.conf], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, timeout=30)
        T.check(r.returncode == 0 and not os.path.exists("/sys/fs/bpf/floodgate/" + ns),
                "floodgated --detach removes the pinned dataplane", r.stdout)
    except Exception as e:  # a bug in the checks: report it, clean up
        import traceback
        T.check(False, "the checks ran to the end", traceback.format_exc())
        print("# %s" % e)
    finally:
        d.stop(signal.SIGTERM, timeout=30)
    return T.summary()


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--inner":
        sys.exit(inner())
    if len(sys.argv) > 1 and sys.argv[1] == "--inner-lo":
        sys.exit(inner_lo())
    sys.exit(outer())
