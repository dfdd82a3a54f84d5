#!/usr/bin/env python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""fake_api.py - a stand-in for floodgated's REST API (shared/API.md), for
testing fgctl without the daemon.

It keeps a small rule set in memory (services, limits, one version number)
and answers like the contract says: ETag "N" on reads and writes, 412 on a
stale If-Match, 401 without the bearer token, 404/409/400 with the API's
error body, strict fields on PUT. A whole-rule-set PUT keeps its routes
and seckill rules (unchecked) for the next GET /v1/config. Three services
misbehave on purpose:
  flaky   - the first GET of it bumps the version afterwards (one 412),
  racy    - every GET of it bumps the version afterwards (412 forever),
  noetag  - its GET answers without an ETag;
GET /v1/services/broken answers 500 with a plain-text body, and GET
/v1/services/boxed and /v1/limits/boxed answer with the object wrapped
({"service": {...}, "version": N}), as API.md allows.

Every request is appended to the log as one JSON line: method, path,
headers (lower-case names), body (base64 and latin-1 text), the answer's
status, ETag and body (base64). The line is written before the answer is
sent, so it is complete once the client has its answer.

Answers are serialised with indent=1 and \\u escapes, without a trailing
newline: a client that re-encodes instead of passing them through shows.

usage: fake_api.py --port-file FILE --log FILE [--token TOKEN]
Listens on 127.0.0.1, a free port (written to --port-file). Stops on
SIGTERM or SIGINT.
"""
import argparse
import base64
import json
import os
import re
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
SERVICE_KEYS = {"vip", "port", "proto", "mode", "forward", "hash", "backends", "health"}
BACKEND_KEYS = {"addr", "port", "weight", "state"}
HEALTH_KEYS = {"type", "interval_ms", "timeout_ms", "rise", "fall", "port", "path",
               "expect_status"}
LIMIT_KEYS = {"service", "match", "key", "unit", "rate", "burst", "action", "scope",
              "dry_run", "respond"}
MATCH_KEYS = {"src", "proto", "dst_port"}
CODES = {400: "invalid_argument", 401: "unauthenticated", 404: "not_found",
         409: "conflict", 412: "version_mismatch", 413: "too_large",
         500: "internal", 503: "unavailable"}


class ApiError(Exception):
    """An API error answer: status, message, field."""

    def __init__(self, status, message, field=""):
        super().__init__(message)
        self.status = status
        self.message = message
        self.field = field


def plain_service(vip):
    return {"vip": vip, "port": 80, "proto": "tcp", "mode": "l4", "forward": "dsr-ipip",
            "hash": "5tuple", "backends": []}


STATE = {
    "version": 5,
    "services": {
        "web": {
            "vip": "198.18.0.10", "port": 80, "proto": "tcp", "mode": "l4",
            "forward": "dsr-ipip", "hash": "5tuple",
            "backends": [
                {"addr": "198.19.0.1", "port": 8080, "weight": 100, "state": "active"},
                {"addr": "198.19.0.2", "port": 8080, "weight": 100, "state": "drain"},
                {"addr": "198.19.0.2", "port": 8081, "weight": 50, "state": "active"},
            ],
            "health": {"type": "tcp", "interval_ms": 1000, "timeout_ms": 500, "rise": 2,
                       "fall": 3},
        },
        "v6": {
            "vip": "2001:db8::10", "port": 443, "proto": "tcp", "mode": "l4",
            "forward": "nat", "hash": "src_ip",
            "backends": [{"addr": "2001:db8::5", "port": 443, "weight": 100,
                          "state": "active"}],
        },
        "flaky": plain_service("198.18.0.20"),
        "racy": plain_service("198.18.0.21"),
        "noetag": plain_service("198.18.0.22"),
    },
    "limits": {
        "perip": {"service": "web", "match": {"src": "198.18.64.0/18"}, "key": "src_ip",
                  "unit": "pps", "rate": 1000, "burst": 2000, "action": "drop",
                  "scope": "node", "dry_run": False},
    },
    "routes": {},
    "seckill": {},
    "flaky_bumps": 1,
}
LOCK = threading.Lock()


def check_int(obj, key, lo, hi, path):
    """obj[key], when present, must be an integer in lo..hi."""
    if key not in obj:
        return
    v = obj[key]
    if not isinstance(v, int) or isinstance(v, bool) or not lo <= v <= hi:
        raise ApiError(400, f"{path}{key}: must be {lo}..{hi}", f"{path}{key}")


def check_keys(obj, allowed, path):
    """obj must be an object with no member outside allowed."""
    if not isinstance(obj, dict):
        raise ApiError(400, f"{path or 'body'}: must be an object", path.rstrip("."))
    for k in obj:
        if k not in allowed:
            raise ApiError(400, f"{path}{k}: unknown field", f"{path}{k}")


def check_service(svc):
    check_keys(svc, SERVICE_KEYS, "")
    for k in ("vip", "port"):
        if k not in svc:
            raise ApiError(400, f"{k}: required", k)
    check_int(svc, "port", 0, 65535, "")
    for i, b in enumerate(svc.get("backends", [])):
        p = f"backends[{i}]."
        check_keys(b, BACKEND_KEYS, p)
        if "addr" not in b:
            raise ApiError(400, p + "addr: required", p + "addr")
        check_int(b, "port", 1, 65535, p)
        check_int(b, "weight", 0, 65535, p)
    if "health" in svc:
        check_keys(svc["health"], HEALTH_KEYS, "health.")


def check_l7(rule, services):
    """A route or seckill rule: an object naming an existing service (the
    real daemon checks every field; the fake only what fgctl relies on)."""
    if not isinstance(rule, dict):
        raise ApiError(400, "must be an object")
    if rule.get("service") not in services:
        raise ApiError(400, f"service: no service named {rule.get('service')!r}",
                       "service")


def check_limit(lim, services):
    check_keys(lim, LIMIT_KEYS, "")
    if "match" in lim:
        check_keys(lim["match"], MATCH_KEYS, "match.")
        check_int(lim["match"], "dst_port", 1, 65535, "match.")
    if "service" in lim and lim["service"] not in services:
        raise ApiError(400, f"service: no service named {lim['service']!r}", "service")


def dumps(obj):
    return json.dumps(obj, indent=1, ensure_ascii=True).encode()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-floodgated/1"
    log_path = None
    token = None

    def log_message(self, fmt, *args):  # keep the test output clean
        pass

    def answer(self, status, obj=None, etag=None, raw=None):
        body = raw if raw is not None else (dumps(obj) if obj is not None else b"")
        rec = {
            "method": self.command, "path": self.path,
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "body": self.req_body.decode("latin-1"),
            "body_b64": base64.b64encode(self.req_body).decode(),
            "status": status, "etag": etag,
            "response_b64": base64.b64encode(body).decode(),
        }
        with open(self.log_path, "a") as f:
            f.write(json.dumps(rec) + "\n")
        self.send_response(status)
        self.send_header("Content-Type",
                         "text/plain" if raw is not None else "application/json")
        if etag is not None:
            self.send_header("ETag", etag)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def error(self, e):
        err = {"code": CODES.get(e.status, "internal"), "message": e.message}
        if e.field:
            err["field"] = e.field
        self.answer(e.status, {"error": err})

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        self.req_body = self.rfile.read(n) if n else b""

    def json_body(self):
        try:
            return json.loads(self.req_body.decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as e:
            raise ApiError(400, f"body: not JSON: {e}")

    def etag(self):
        return '"%d"' % STATE["version"]

    def check_if_match(self):
        im = self.headers.get("If-Match")
        if im is not None and im != self.etag():
            raise ApiError(412, f"If-Match {im} but the rule set is at version "
                                f"{STATE['version']}")

    def bump(self):
        STATE["version"] += 1
        return {"version": STATE["version"]}

    def dispatch(self):
        self.read_body()
        path = self.path
        if path == "/healthz":
            return self.answer(200, {"ok": True})
        if self.token is not None and \
                self.headers.get("Authorization") != "Bearer " + self.token:
            raise ApiError(401, "missing or bad bearer token")
        m, v = self.command, STATE["version"]
        if path == "/v1/status" and m == "GET":
            return self.answer(200, {
                "node": "edge-1", "group": "default", "description": "Z\u00fcrich rack 3",
                "software": "floodgated 0.1.0",
                "dataplane": {"kind": "xdp", "interfaces": ["eth0", "eth1"]},
                "rules_version": v, "applied_version": v,
                "store": {"kind": "embedded", "healthy": True}})
        if path == "/v1/config":
            if m == "GET":
                return self.answer(200, {"version": v, "services": STATE["services"],
                                         "limits": STATE["limits"],
                                         "routes": STATE["routes"],
                                         "seckill": STATE["seckill"]}, self.etag())
            if m == "PUT":
                self.check_if_match()
                cfg = self.json_body()
                check_keys(cfg, {"services", "limits", "routes", "seckill", "version"}, "")
                if "version" in cfg:
                    raise ApiError(400, "version: not allowed (use If-Match)", "version")
                for name, svc in cfg.get("services", {}).items():
                    try:
                        check_service(svc)
                    except ApiError as e:
                        raise ApiError(400, f"services.{name}.{e.message}",
                                       f"services.{name}.{e.field}")
                STATE["services"] = cfg.get("services", {})
                STATE["limits"] = cfg.get("limits", {})
                STATE["routes"] = cfg.get("routes", {})
                STATE["seckill"] = cfg.get("seckill", {})
                ans = self.bump()
                return self.answer(200, ans, self.etag())
        if path == "/v1/stats" and m == "GET":
            return self.answer(200, {
                "version": v,
                "services": {"web": {
                    "packets": 12345, "bytes": 6789000, "new_flows": 321,
                    "backends": {
                        "198.19.0.1:8080": {"packets": 12000, "new_flows": 300,
                                            "healthy": True},
                        "198.19.0.2:8080": {"packets": 345, "new_flows": 21,
                                            "healthy": False}}}},
                "limits": {"perip": {"passed": 900, "limited": 100}},
                "routes": {"api": {"forwarded": 4200, "no_backend": 2}},
                "seckill": {"sale": {"admitted": 500, "shed": 70000, "sold_out": 3,
                                     "stock_left": 0, "allowance": 0,
                                     "claims": {"batch": 50, "claims": 11,
                                                "claimed": 520, "granted": 520,
                                                "recovered": 0, "undersell": 20,
                                                "conflicts": 2, "errors": 0,
                                                "ready": True},
                                     "items": {
                                         "1001": {"admitted": 400, "shed": 50000,
                                                  "sold_out": 3, "stock_left": 0,
                                                  "allowance": 0},
                                         "1002": {"admitted": 100, "shed": 20000,
                                                  "sold_out": 0, "stock_left": 0,
                                                  "allowance": 0}}}},
                "drops": {"malformed": 7, "no_service": 8, "flood_guard": 9}})
        if path == "/v1/nodes" and m == "GET":
            return self.answer(200, {"nodes": [
                {"name": "edge-1", "group": "default", "address": "198.19.255.1:7380",
                 "applied_version": v, "alive": True},
                {"name": "edge-2", "group": "west", "address": "198.19.255.2:7380",
                 "applied_version": v - 1, "alive": False}]})
        if path == "/v1/services/broken" and m == "GET":
            return self.answer(500, raw=b"internal kaboom\nstack trace follows")
        if path == "/v1/services/boxed" and m == "GET":
            return self.answer(200, {"service": plain_service("198.18.0.23"), "version": v})
        if path == "/v1/limits/boxed" and m == "GET":
            return self.answer(200, {"limit": {"unit": "pps", "rate": 7}, "version": v})
        for kind in ("services", "limits", "routes", "seckill"):
            coll = STATE[kind]
            if path == f"/v1/{kind}" and m == "GET":
                return self.answer(200, {"version": v, kind: coll}, self.etag())
            if not path.startswith(f"/v1/{kind}/"):
                continue
            name = path[len(f"/v1/{kind}/"):]
            if m == "GET":
                if name not in coll:
                    raise ApiError(404, f"no {kind[:-1]} named {name!r}")
                etag = None if name == "noetag" else self.etag()
                self.answer(200, coll[name], etag)
                # After the answer: a concurrent writer strikes.
                if name == "racy" or (name == "flaky" and STATE["flaky_bumps"] > 0):
                    if name == "flaky":
                        STATE["flaky_bumps"] -= 1
                    STATE["version"] += 1
                return None
            if m == "PUT":
                if not NAME_RE.match(name):
                    raise ApiError(400, "name: must match [a-z0-9][a-z0-9_-]{0,62}", "name")
                self.check_if_match()
                obj = self.json_body()
                if kind == "services":
                    check_service(obj)
                elif kind == "limits":
                    check_limit(obj, STATE["services"])
                else:
                    check_l7(obj, STATE["services"])
                created = name not in coll
                coll[name] = obj
                return self.answer(201 if created else 200, self.bump(), self.etag())
            if m == "DELETE":
                if name not in coll:
                    raise ApiError(404, f"no {kind.rstrip('s')} named {name!r}")
                self.check_if_match()
                if kind == "services":
                    for ln, lim in STATE["limits"].items():
                        if lim.get("service") == name:
                            raise ApiError(409, f"limit {ln!r} still names service "
                                                f"{name!r}")
                del coll[name]
                return self.answer(200, self.bump(), self.etag())
        raise ApiError(404, f"no such endpoint: {m} {path}")

    def handle_any(self):
        self.req_body = b""
        with LOCK:
            try:
                self.dispatch()
            except ApiError as e:
                self.error(e)

    do_GET = do_PUT = do_DELETE = do_POST = handle_any


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--token")
    args = ap.parse_args()
    Handler.log_path = args.log
    Handler.token = args.token
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with open(args.port_file + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(args.port_file + ".tmp", args.port_file)
    try:
        srv.serve_forever()
    except (KeyboardInterrupt, SystemExit):
        pass


if __name__ == "__main__":
    main()
