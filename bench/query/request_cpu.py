#!/usr/bin/env python3
"""Server CPU time per request for the small queries of query_bench.py.

The benchmark's CPU column is coarse for queries of a few milliseconds
(10 ms ticks over 5 runs). This sends N requests per query and range to
each server in turn and divides the server's user+system time (from
/proc/PID/stat, exited threads included) by N; the median latency of the
same requests is printed too. Both servers must already serve the same
data (e.g. the DATA directory compare.sh builds):

  request_cpu.py --prom=URL --prom-pid=PID --pantau=URL --pantau-pid=PID \\
      --end=UNIX_S [--n=150] [--only=REGEX]

Run it under the shared bench lock like every timed benchmark.
"""

import argparse
import re
import statistics
import time
import urllib.parse
import urllib.request

from query_bench import cpu_s

QUERIES = [
    ("network irate", "irate(node_network_receive_bytes_total[5m])"),
    ("topk disk writes", "topk(5, rate(node_disk_written_bytes_total[5m]))"),
    ("subquery max of rate",
     "max_over_time(rate(node_context_switches_total[5m])[1h:1m])"),
    ("vector(1), the floor", "vector(1)"),
]
RANGES = [("1h", 3600, 15), ("6h", 6 * 3600, 60), ("24h", 24 * 3600, 300)]
def measure(url, pid, query, start, end, step, n):
  data = urllib.parse.urlencode({
      "query": query, "start": start, "end": end, "step": step}).encode()

  def once():
    req = urllib.request.Request(url + "/api/v1/query_range", data=data)
    with urllib.request.urlopen(req, timeout=300) as r:
      r.read()

  for _ in range(3):
    once()
  c0 = cpu_s(pid)
  times = []
  for _ in range(n):
    t0 = time.perf_counter()
    once()
    times.append(time.perf_counter() - t0)
  return (cpu_s(pid) - c0) / n * 1000, statistics.median(times) * 1000


def main():
  ap = argparse.ArgumentParser()
  ap.add_argument("--prom", required=True)
  ap.add_argument("--prom-pid", type=int, required=True)
  ap.add_argument("--pantau", required=True)
  ap.add_argument("--pantau-pid", type=int, required=True)
  ap.add_argument("--end", type=float, required=True)
  ap.add_argument("--n", type=int, default=150)
  ap.add_argument("--only", default="")
  args = ap.parse_args()
  print("| query | range | CPU ms Prometheus | CPU ms pantau | ratio "
        "| latency ms Prometheus | latency ms pantau | ratio |")
  print("|---|---|---|---|---|---|---|---|")
  for name, q in QUERIES:
    if args.only and not re.search(args.only, name + " " + q):
      continue
    for label, rng, step in RANGES:
      start = args.end - rng
      pc, pl = measure(args.prom, args.prom_pid, q, start, args.end, step,
                       args.n)
      tc, tl = measure(args.pantau, args.pantau_pid, q, start, args.end,
                       step, args.n)
      print(f"| {name} | {label} | {pc:.2f} | {tc:.2f} | {tc / pc:.2f} "
            f"| {pl:.2f} | {tl:.2f} | {tl / pl:.2f} |", flush=True)


if __name__ == "__main__":
  main()
