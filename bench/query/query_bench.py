#!/usr/bin/env python3
"""Side-by-side PromQL range-query benchmark: the same dashboard-like queries
against Prometheus and pantau serving the same data.

Run by compare.sh, which builds the data and starts both servers; this
script only queries them:

  query_bench.py --prom=URL --prom-pid=PID --pantau=URL --pantau-pid=PID \
      --end=UNIX_S [--runs=5] [--out=table.md] [--only=REGEX]

Per query and range it runs one warm-up of each server, then `runs` timed
requests alternating between the servers, and reports the median wall time
of the HTTP request (response fully read), the ratio pantau/Prometheus and
the peak RSS of each server while it answered (VmRSS sampled every ~2 ms by
a background thread, since VmHWM cannot be reset). It also checks both
answers agree (same series, same timestamps, values within 1e-6 relative),
so the comparison is of the same work.
"""

import argparse
import json
import math
import os
import re
import statistics
import sys
import threading
import time
import urllib.parse
import urllib.request

# (name, query): a Grafana node/API dashboard's panels.
QUERIES = [
    ("cpu busy by instance (rate, sum by)",
     'sum by (instance) (rate(node_cpu_seconds_total{mode!="idle"}[5m]))'),
    ("cpu by mode (rate, sum by)",
     'sum by (mode) (rate(node_cpu_seconds_total[5m]))'),
    ("network irate",
     'irate(node_network_receive_bytes_total[5m])'),
    ("p99 latency (histogram_quantile)",
     'histogram_quantile(0.99, sum by (le, handler) '
     '(rate(http_request_duration_seconds_bucket[5m])))'),
    ("topk disk writes",
     'topk(5, rate(node_disk_written_bytes_total[5m]))'),
    ("subquery max of rate",
     'max_over_time(rate(node_context_switches_total[5m])[1h:1m])'),
    ("regex matchers over many series",
     'sum by (instance) (rate(node_cpu_seconds_total'
     '{mode=~"user|system|iowait|softirq",instance=~"host-.*"}[5m]))'),
    ("memory used ratio (binary op)",
     '1 - node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes'),
]

# (label, range seconds, step seconds): Grafana's auto step for ~1500 px.
RANGES = [("1h", 3600, 15), ("6h", 6 * 3600, 60), ("24h", 24 * 3600, 300)]


class RssSampler:
  """Samples VmRSS of one pid while active; keeps the maximum."""

  def __init__(self, pid):
    self.pid = pid
    self.peak_kb = 0
    self._on = threading.Event()
    self._stop = False
    self._t = threading.Thread(target=self._run, daemon=True)
    self._t.start()

  def rss_kb(self):
    with open(f"/proc/{self.pid}/status") as f:
      for line in f:
        if line.startswith("VmRSS:"):
          return int(line.split()[1])
    return 0

  def _run(self):
    while not self._stop:
      if not self._on.wait(0.1):
        continue
      kb = self.rss_kb()
      if kb > self.peak_kb:
        self.peak_kb = kb
      time.sleep(0.002)

  def start(self):
    self._on.set()

  def pause(self):
    self._on.clear()
    time.sleep(0.003)  # let a sample in flight land

  def reset(self):
    self.peak_kb = self.rss_kb()

  def close(self):
    self._stop = True
    self._on.set()
    self._t.join()


TICK_S = 1 / os.sysconf("SC_CLK_TCK")


def cpu_s(pid):
  """User+system CPU seconds of a process, its exited threads included."""
  with open(f"/proc/{pid}/stat") as f:
    fields = f.read().rsplit(")", 1)[1].split()
  return (int(fields[11]) + int(fields[12])) * TICK_S


def query_range(base, q, start, end, step):
  data = urllib.parse.urlencode({
      "query": q, "start": start, "end": end, "step": step}).encode()
  req = urllib.request.Request(base + "/api/v1/query_range", data=data)
  t0 = time.perf_counter()
  with urllib.request.urlopen(req, timeout=300) as r:
    body = r.read()
  dt = time.perf_counter() - t0
  return dt, body


def parse(body):
  doc = json.loads(body)
  if doc.get("status") != "success":
    raise RuntimeError(f"query failed: {body[:300]!r}")
  out = {}
  for s in doc["data"]["result"]:
    key = tuple(sorted(s["metric"].items()))
    out[key] = [(float(t), float(v)) for t, v in s["values"]]
  return out


def compare(a, b):
  """None when equal within 1e-6 relative, else what differs."""
  if set(a) != set(b):
    return (f"series differ: {len(a)} vs {len(b)}; only in Prometheus: "
            f"{sorted(set(a) - set(b))[:2]}, only in pantau: "
            f"{sorted(set(b) - set(a))[:2]}")
  for k in a:
    pa, pb = a[k], b[k]
    if len(pa) != len(pb):
      return f"{dict(k)}: {len(pa)} vs {len(pb)} points"
    for (ta, va), (tb, vb) in zip(pa, pb):
      if ta != tb:
        return f"{dict(k)}: timestamp {ta} vs {tb}"
      if math.isnan(va) and math.isnan(vb):
        continue
      if va != vb and abs(va - vb) > 1e-6 * max(abs(va), abs(vb)):
        return f"{dict(k)} @{ta}: {va} vs {vb}"
  return None


def main():
  ap = argparse.ArgumentParser()
  ap.add_argument("--prom", required=True)
  ap.add_argument("--prom-pid", type=int, required=True)
  ap.add_argument("--pantau", required=True)
  ap.add_argument("--pantau-pid", type=int, required=True)
  ap.add_argument("--end", type=float, required=True,
                  help="end of the queries (Unix s): the data's last sample")
  ap.add_argument("--runs", type=int, default=5)
  ap.add_argument("--only", default="", help="regex on query name or text")
  ap.add_argument("--out", default="")
  args = ap.parse_args()

  servers = {"prometheus": (args.prom, RssSampler(args.prom_pid)),
             "pantau": (args.pantau, RssSampler(args.pantau_pid))}
  idle = {n: s.rss_kb() for n, (_, s) in servers.items()}
  rows = []
  mismatches = 0
  for name, q in QUERIES:
    if args.only and not re.search(args.only, name + " " + q):
      continue
    for rlabel, rng, step in RANGES:
      end = args.end
      start = end - rng
      times = {"prometheus": [], "pantau": []}
      cpu = {"prometheus": 0.0, "pantau": 0.0}
      results = {}
      for n, (url, sampler) in servers.items():
        sampler.reset()
      for i in range(args.runs + 1):
        # Alternate which server goes first, so drift hits both alike.
        order = ["prometheus", "pantau"] if i % 2 == 0 else [
            "pantau", "prometheus"]
        for n in order:
          url, sampler = servers[n]
          pid = args.prom_pid if n == "prometheus" else args.pantau_pid
          sampler.start()
          c0 = cpu_s(pid)
          dt, body = query_range(url, q, start, end, step)
          c1 = cpu_s(pid)
          sampler.pause()
          if i > 0:
            cpu[n] += c1 - c0
          if i == 0:
            results[n] = parse(body)  # the warm-up run is also the check
          else:
            times[n].append(dt)
      diff = compare(results["prometheus"], results["pantau"])
      if diff:
        mismatches += 1
      mp = statistics.median(times["prometheus"])
      mt = statistics.median(times["pantau"])
      row = {
          "name": name, "range": rlabel, "step": step,
          "series": len(results["prometheus"]),
          "prom_ms": mp * 1000, "pantau_ms": mt * 1000, "ratio": mt / mp,
          "prom_cpu_ms": cpu["prometheus"] / args.runs * 1000,
          "pantau_cpu_ms": cpu["pantau"] / args.runs * 1000,
          "prom_rss_mb": servers["prometheus"][1].peak_kb / 1024,
          "pantau_rss_mb": servers["pantau"][1].peak_kb / 1024,
          "same": "yes" if diff is None else "NO: " + diff,
      }
      rows.append(row)
      print(f"{name:40s} {rlabel:>4s} prom {row['prom_ms']:8.1f} ms "
            f"pantau {row['pantau_ms']:8.1f} ms ratio {row['ratio']:5.2f} "
            f"cpu {row['prom_cpu_ms']:.0f}/{row['pantau_cpu_ms']:.0f} ms "
            f"rss {row['prom_rss_mb']:.0f}/{row['pantau_rss_mb']:.0f} MB "
            f"same={row['same'][:100]}", file=sys.stderr, flush=True)
  for _, s in servers.values():
    s.close()

  lines = [
      "| query | range (step) | series | Prometheus ms | pantau ms "
      "| pantau / Prometheus | CPU ms Prometheus | CPU ms pantau "
      "| peak RSS MB Prometheus | peak RSS MB pantau | same result |",
      "|---|---|---|---|---|---|---|---|---|---|---|",
  ]
  for r in rows:
    lines.append(
        f"| {r['name']} | {r['range']} ({r['step']}s) | {r['series']} "
        f"| {r['prom_ms']:.1f} | {r['pantau_ms']:.1f} | {r['ratio']:.2f} "
        f"| {r['prom_cpu_ms']:.0f} | {r['pantau_cpu_ms']:.0f} "
        f"| {r['prom_rss_mb']:.0f} | {r['pantau_rss_mb']:.0f} "
        f"| {r['same']} |")
  if not rows:
    print("no query matched --only", file=sys.stderr)
    return 1
  met = sum(1 for r in rows if r["ratio"] <= 0.5)
  lines.append("")
  lines.append(f"Queries at or below 0.5x Prometheus: {met} of {len(rows)}. "
               f"Geometric mean of the ratios: "
               f"{math.exp(statistics.mean(math.log(r['ratio']) for r in rows)):.2f}. "
               f"CPU time, all queries: pantau / Prometheus "
               f"{sum(r['pantau_cpu_ms'] for r in rows) / max(1e-9, sum(r['prom_cpu_ms'] for r in rows)):.2f}. "
               f"Idle RSS before the queries: Prometheus "
               f"{idle['prometheus'] / 1024:.0f} MB, pantau "
               f"{idle['pantau'] / 1024:.0f} MB.")
  lines.append("")
  lines.append("Queries:")
  lines.append("")
  for name, q in QUERIES:
    if args.only and not re.search(args.only, name + " " + q):
      continue
    lines.append(f"- {name}: `{q}`")
  text = "\n".join(lines) + "\n"
  if args.out:
    with open(args.out, "w") as f:
      f.write(text)
  print(text)
  return 1 if mismatches else 0


if __name__ == "__main__":
  sys.exit(main())
