#!/usr/bin/env python3
"""Side-by-side PromQL/HTTP API test: pantau against a real Prometheus 2.42.

Starts, on free loopback ports and in a fresh temp dir:
  - pantau serve (the system under test),
  - prometheus-node-exporter,
  - prometheus, scraping the node exporter and itself every 2 s and
    remote-writing everything to pantau's POST /api/v1/write.
After enough data has arrived (--wait seconds, default 45) and pantau has
caught up with Prometheus, every query of queries.txt runs as an instant
query and as a range query against both /api/v1 endpoints; results must be
equal (values within 1e-6 relative, series matched by their labels, the
same resultType; when Prometheus fails, pantau must fail with the same
errorType).

Usage:
  tests/promql_compat/compat_test.py [--pantau build/src/cli/pantau]
      [--queries tests/promql_compat/queries.txt] [--wait 45] [--keep]
  tests/promql_compat/compat_test.py \
      --compat-server build-x/tests/promql_compat/promql_compat_server
The second form runs compat_server.cc (TSDB + remote_write + API only)
instead of `pantau serve`.

Exit codes: 0 all equal, 1 a difference or a start-up failure, 77 skipped
(prometheus or prometheus-node-exporter not installed).

queries.txt: one query per line; blank lines and lines starting with '#'
are ignored. A line may start with "instant: " or "range: " to run only
that form (e.g. range-vector results are instant-only).
"""

import argparse
import json
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

SKIP = 77
HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
SCRAPE_INTERVAL_S = 2
STEP_S = 2
REL_TOL = 1e-6
# Sums in a different order may differ in the last bits; values this close
# to zero are equal whatever their relative difference.
ABS_TOL = 1e-9


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(url, timeout=10):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()
    except (urllib.error.URLError, ConnectionError, socket.timeout) as e:
        return None, str(e).encode()


def wait_http(url, name, proc, timeout_s=30):
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited with {proc.returncode}")
        status, _ = http_get(url, timeout=2)
        if status == 200:
            return
        time.sleep(0.2)
    raise RuntimeError(f"{name} not ready at {url} after {timeout_s}s")


class Api:
    def __init__(self, name, base):
        self.name = name
        self.base = base

    def call(self, path, params):
        url = (self.base + path + "?" +
               urllib.parse.urlencode(params, doseq=True))
        status, body = http_get(url, timeout=60)
        if status is None:
            return None, {"status": "error", "errorType": "connection",
                          "error": body.decode(errors="replace")}
        try:
            # Numbers stay text so timestamps' formatting is compared too.
            return status, json.loads(body, parse_float=str, parse_int=str)
        except ValueError:
            return status, {"status": "error", "errorType": "not_json",
                            "error": body[:300].decode(errors="replace")}

    def instant(self, q, t):
        return self.call("/api/v1/query", {"query": q, "time": f"{t:.3f}"})

    def range(self, q, start, end, step):
        return self.call("/api/v1/query_range", {
            "query": q, "start": f"{start:.3f}", "end": f"{end:.3f}",
            "step": str(step)})


def parse_value(s):
    if s == "NaN":
        return math.nan
    if s == "+Inf":
        return math.inf
    if s == "-Inf":
        return -math.inf
    return float(s)


def values_equal(a, b):
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if math.isinf(a) or math.isinf(b):
        return a == b
    return abs(a - b) <= max(ABS_TOL, REL_TOL * max(abs(a), abs(b)))


def key(metric):
    return tuple(sorted(metric.items()))


def compare_data(want, got):
    """Returns a description of the first difference, or None."""
    if want.get("resultType") != got.get("resultType"):
        return (f"resultType {got.get('resultType')!r}, "
                f"want {want.get('resultType')!r}")
    rt = want["resultType"]
    wr, gr = want["result"], got["result"]
    if rt in ("scalar", "string"):
        if wr[0] != gr[0]:
            return f"time {gr[0]}, want {wr[0]}"
        if rt == "string":
            return None if wr[1] == gr[1] else f"{gr[1]!r}, want {wr[1]!r}"
        a, b = parse_value(wr[1]), parse_value(gr[1])
        if a == b and wr[1] != gr[1]:
            return f"value written {gr[1]!r}, want {wr[1]!r}"
        return None if values_equal(a, b) else f"value {gr[1]}, want {wr[1]}"
    field = "value" if rt == "vector" else "values"
    wmap = {key(s["metric"]): s for s in wr}
    gmap = {key(s["metric"]): s for s in gr}
    if len(wmap) != len(wr) or len(gmap) != len(gr):
        return "duplicate series in a result"
    missing = [k for k in wmap if k not in gmap]
    extra = [k for k in gmap if k not in wmap]
    if missing or extra:
        return (f"series differ: missing {[dict(k) for k in missing[:3]]}, "
                f"extra {[dict(k) for k in extra[:3]]} "
                f"({len(wr)} vs {len(gr)} series)")
    for k, ws in wmap.items():
        gs = gmap[k]
        wp = [ws[field]] if rt == "vector" else ws[field]
        gp = [gs[field]] if rt == "vector" else gs[field]
        if len(wp) != len(gp):
            return f"{dict(k)}: {len(gp)} points, want {len(wp)}"
        for (wt, wv), (gt, gv) in zip(wp, gp):
            if wt != gt:
                return f"{dict(k)}: point at {gt}, want {wt}"
            a, b = parse_value(wv), parse_value(gv)
            if not values_equal(a, b):
                return f"{dict(k)}@{wt}: {gv}, want {wv}"
            if a == b and wv != gv:
                return f"{dict(k)}@{wt}: value written {gv!r}, want {wv!r}"
    return None


def compare(want_resp, got_resp):
    ws, wb = want_resp
    gs, gb = got_resp
    if wb.get("status") != "success":
        if gb.get("status") == "success":
            return (f"pantau succeeded, Prometheus failed with "
                    f"{wb.get('errorType')}: {wb.get('error')}")
        if wb.get("errorType") != gb.get("errorType") or ws != gs:
            return (f"HTTP {gs} {gb.get('errorType')} ({gb.get('error')}), "
                    f"want HTTP {ws} {wb.get('errorType')} "
                    f"({wb.get('error')})")
        return None
    if gb.get("status") != "success":
        return (f"pantau failed (HTTP {gs}) with {gb.get('errorType')}: "
                f"{gb.get('error')}")
    return compare_data(wb["data"], gb["data"])


# Metadata endpoints as Grafana calls them; compared as sets (series) or
# exact lists (names and values are sorted by both servers).
META_CALLS = [
    ("/api/v1/labels", {}),
    ("/api/v1/labels", {"match[]": ["up"]}),
    ("/api/v1/labels", {"match[]": ["node_load1", "go_goroutines"]}),
    ("/api/v1/label/job/values", {}),
    ("/api/v1/label/__name__/values", {"match[]": ['{job="node"}']}),
    ("/api/v1/label/mode/values", {"match[]": ["node_cpu_seconds_total"]}),
    ("/api/v1/series", {"match[]": ["up"]}),
    ("/api/v1/series", {"match[]": ["node_load1", "go_goroutines", "up"]}),
    ("/api/v1/series", {"match[]": ['{__name__=~"node_cpu.*"}']}),
]


def compare_meta(want_resp, got_resp):
    ws, wb = want_resp
    gs, gb = got_resp
    if wb.get("status") != "success" or gb.get("status") != "success":
        if wb.get("status") == gb.get("status") and \
                wb.get("errorType") == gb.get("errorType"):
            return None
        return f"status {gs} {gb}, want {ws} {wb}"
    w, g = wb["data"], gb["data"]
    if w and isinstance(w[0], dict):
        w = sorted(key(x) for x in w)
        g = sorted(key(x) for x in g)
    if w != g:
        missing = [x for x in w if x not in g][:3]
        extra = [x for x in g if x not in w][:3]
        return (f"{len(g)} entries, want {len(w)}; missing {missing}, "
                f"extra {extra}")
    return None


# Endpoints whose data depends on the server (build, flags, runtime); only
# the shape is compared: the keys of data (and of nested objects).
# /api/v1/metadata's keys are metric names; pantau's server may have no
# metadata provider, so only its type is compared.
SHAPE_CALLS = ["/api/v1/status/buildinfo", "/api/v1/status/runtimeinfo",
               "/api/v1/status/tsdb", "/api/v1/status/config",
               "/api/v1/targets"]
TYPE_ONLY_CALLS = ["/api/v1/metadata"]


def shape(v):
    if isinstance(v, dict):
        return {k: shape(x) for k, x in v.items()}
    if isinstance(v, list):
        return [shape(v[0])] if v and isinstance(v[0], dict) else []
    return None


def compare_shape(want_resp, got_resp, type_only=False):
    wb, gb = want_resp[1], got_resp[1]
    if wb.get("status") != gb.get("status"):
        return f"status {gb.get('status')}, want {wb.get('status')}"
    if type_only:
        w, g = type(wb.get("data")), type(gb.get("data"))
        return None if w == g else f"data is {g.__name__}, want {w.__name__}"
    w, g = shape(wb.get("data")), shape(gb.get("data"))
    if isinstance(w, dict) and isinstance(g, dict):
        # Lists may be empty on one side (no targets); compare keys only.
        missing = sorted(set(w) - set(g))
        extra = sorted(set(g) - set(w))
        if missing or extra:
            return f"keys missing {missing}, extra {extra}"
        return None
    return None if type(w) == type(g) else f"data {g!r}, want {w!r}"


def load_queries(path):
    out = []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            modes = ("instant", "range")
            for m in modes:
                if line.startswith(m + ":"):
                    modes = (m,)
                    line = line[len(m) + 1:].strip()
                    break
            out.append((n, line, modes))
    return out


class Procs:
    def __init__(self):
        self.procs = []

    def start(self, name, argv, logdir):
        out = open(os.path.join(logdir, name + ".log"), "wb")
        p = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT,
                             start_new_session=True)
        self.procs.append((name, p))
        return p

    def stop_all(self):
        for _, p in reversed(self.procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for name, p in reversed(self.procs):
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


PROM_CONFIG = """\
global:
  scrape_interval: {interval}s
  scrape_timeout: {interval}s
  # Subqueries without a step use this; pantau's default is Prometheus's
  # default of 1m.
  evaluation_interval: 1m
scrape_configs:
  - job_name: prometheus
    static_configs:
      - targets: ['127.0.0.1:{prom_port}']
  - job_name: node
    static_configs:
      - targets: ['127.0.0.1:{node_port}']
remote_write:
  - url: http://127.0.0.1:{pantau_port}/api/v1/write
    queue_config:
      batch_send_deadline: 500ms
      min_backoff: 100ms
      max_backoff: 1s
"""


def wait_caught_up(prom, pantau, t, timeout_s=30):
    """Waits until pantau holds the same samples as Prometheus up to t."""
    probes = ["count(count_over_time({__name__=~\".+\"}[1m]))",
              "sum(count_over_time(up[1m]))",
              "max(timestamp(prometheus_build_info))"]
    deadline = time.time() + timeout_s
    last = None
    while time.time() < deadline:
        last = None
        for q in probes:
            d = compare(prom.instant(q, t), pantau.instant(q, t))
            if d is not None:
                last = f"{q}: {d}"
                break
        if last is None:
            return
        time.sleep(1)
    raise RuntimeError(f"pantau did not catch up with Prometheus: {last}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pantau", default=os.environ.get(
        "PANTAU_BIN", os.path.join(REPO, "build", "src", "cli", "pantau")))
    ap.add_argument("--compat-server", default="",
                    help="run this promql_compat_server instead of pantau")
    ap.add_argument("--queries", default=os.path.join(HERE, "queries.txt"))
    ap.add_argument("--wait", type=float, default=45,
                    help="seconds of data to collect before querying")
    ap.add_argument("--keep", action="store_true",
                    help="keep the temp dir (logs, data) for inspection")
    args = ap.parse_args()

    prom_bin = shutil.which("prometheus")
    node_bin = (shutil.which("prometheus-node-exporter") or
                shutil.which("node_exporter"))
    if not prom_bin or not node_bin:
        log("SKIP: prometheus or prometheus-node-exporter not installed")
        return SKIP
    server_bin = args.compat_server or args.pantau
    if not os.access(server_bin, os.X_OK):
        log(f"FAIL: server binary not found at {server_bin} "
            "(build it or pass --pantau / --compat-server)")
        return 1
    queries = load_queries(args.queries)

    tmp = tempfile.mkdtemp(prefix="promql_compat_")
    procs = Procs()
    try:
        pantau_port, prom_port, node_port = free_port(), free_port(), free_port()
        os.makedirs(os.path.join(tmp, "pantau"))
        os.makedirs(os.path.join(tmp, "prometheus"))
        pantau_dir = os.path.join(tmp, "pantau")
        if args.compat_server:
            argv = [args.compat_server, f"127.0.0.1:{pantau_port}", pantau_dir]
        else:
            argv = [args.pantau, "serve",
                    f"--web.listen-address=127.0.0.1:{pantau_port}",
                    f"--storage.path={pantau_dir}"]
            # Keep the OTLP listeners off the default ports when the build
            # has them.
            help_text = subprocess.run(
                [args.pantau, "serve", "--help"], capture_output=True,
                text=True).stdout
            for flag in ("otlp.grpc-listen-address",
                         "otlp.http-listen-address"):
                if flag in help_text:
                    argv.append(f"--{flag}=127.0.0.1:{free_port()}")
        pantau = procs.start("pantau", argv, tmp)
        wait_http(f"http://127.0.0.1:{pantau_port}/metrics", "pantau", pantau)
        node = procs.start("node_exporter", [
            node_bin, f"--web.listen-address=127.0.0.1:{node_port}",
        ], tmp)
        wait_http(f"http://127.0.0.1:{node_port}/metrics", "node_exporter",
                  node)
        cfg = os.path.join(tmp, "prometheus.yml")
        with open(cfg, "w") as f:
            f.write(PROM_CONFIG.format(interval=SCRAPE_INTERVAL_S,
                                       prom_port=prom_port,
                                       node_port=node_port,
                                       pantau_port=pantau_port))
        prom = procs.start("prometheus", [
            prom_bin, f"--config.file={cfg}",
            f"--storage.tsdb.path={os.path.join(tmp, 'prometheus')}",
            f"--web.listen-address=127.0.0.1:{prom_port}",
        ], tmp)
        wait_http(f"http://127.0.0.1:{prom_port}/-/ready", "prometheus", prom)
        t0 = time.time()
        log(f"collecting data for {args.wait:.0f}s "
            f"(logs and data in {tmp})")
        time.sleep(args.wait)
        for name, p in procs.procs:
            if p.poll() is not None:
                raise RuntimeError(f"{name} exited with {p.returncode}")

        prom_api = Api("prometheus", f"http://127.0.0.1:{prom_port}")
        pantau_api = Api("pantau", f"http://127.0.0.1:{pantau_port}")
        # Evaluate a little in the past, on a whole second, so remote_write
        # has delivered everything up to it.
        # Fractional times so the timestamps' formatting (".500") is
        # compared too.
        t_end = math.floor(time.time()) - 5 + 0.5
        t_start = max(math.ceil(t0) + 10, t_end - 30) + 0.25
        wait_caught_up(prom_api, pantau_api, t_end)

        failures = 0
        runs = 0
        empty = 0
        for line_no, q, modes in queries:
            for mode in modes:
                runs += 1
                if mode == "instant":
                    want = prom_api.instant(q, t_end)
                    got = pantau_api.instant(q, t_end)
                else:
                    want = prom_api.range(q, t_start, t_end, STEP_S)
                    got = pantau_api.range(q, t_start, t_end, STEP_S)
                diff = compare(want, got)
                if diff is not None:
                    failures += 1
                    log(f"FAIL line {line_no} {mode}: {q}\n    {diff}")
                elif want[1].get("status") != "success":
                    if want[1].get("error") != got[1].get("error"):
                        log(f"note line {line_no} {mode}: messages differ: "
                            f"{q}\n    pantau:     {got[1].get('error')}"
                            f"\n    prometheus: {want[1].get('error')}")
                elif want[1]["data"]["result"] == []:
                    empty += 1
                    log(f"note line {line_no} {mode}: both empty: {q}")
        for path in SHAPE_CALLS + TYPE_ONLY_CALLS:
            runs += 1
            diff = compare_shape(prom_api.call(path, {}),
                                 pantau_api.call(path, {}),
                                 type_only=path in TYPE_ONLY_CALLS)
            if diff is not None:
                failures += 1
                log(f"FAIL shape of {path}: {diff}")
        for path, params in META_CALLS:
            runs += 1
            p = dict(params, start=f"{t_start:.3f}", end=f"{t_end:.3f}")
            diff = compare_meta(prom_api.call(path, p),
                                pantau_api.call(path, p))
            if diff is not None:
                failures += 1
                log(f"FAIL {path} {params}\n    {diff}")
        log(f"{runs - failures} passed ({empty} with empty results), "
            f"{failures} failed ({len(queries)} queries, instant at {t_end}, "
            f"range {t_start}..{t_end} step {STEP_S}s)")
        return 1 if failures else 0
    except RuntimeError as e:
        log(f"FAIL: {e}")
        for name in ("pantau", "prometheus", "node_exporter"):
            path = os.path.join(tmp, name + ".log")
            if os.path.exists(path):
                with open(path, errors="replace") as f:
                    tail = f.read()[-2000:]
                log(f"--- {name}.log (tail) ---\n{tail}")
        return 1
    finally:
        procs.stop_all()
        if args.keep:
            log(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
