#!/usr/bin/env bash
# Side-by-side PromQL query benchmark: Prometheus 2.42 (Debian) vs pantau,
# the same data in both, the same range queries (query_bench.py).
#
#   bench/query/compare.sh [BUILD_DIR]
#   RUNS=3 ONLY=subquery bench/query/compare.sh build-promql   # a subset
#
# The data: ingest_loadgen (bench/ingest's workload catalog) writes SERIES
# series x SCRAPES samples, INTERVAL s apart (default 4000 x 3000 x 30 s =
# 25 h) as OpenMetrics; `promtool tsdb create-blocks-from openmetrics` and
# `pantau import openmetrics` build blocks from that one file. Each server
# then runs once until its compaction has settled (as a server holding 25 h
# would have compacted), and the result is kept in DATA (reused by later
# runs; REBUILD=1 makes it anew, e.g. after a block format change).
#
# The timed part (starting both servers, the queries) runs under the shared
# bench lock. Env knobs: SERIES, SCRAPES, INTERVAL, RUNS (5), ONLY (regex
# on query names), DATA, OUT (bench/results/query.md; empty: print only).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-$ROOT/build-promql}
[[ $BUILD == /* ]] || BUILD=$ROOT/$BUILD
PANTAU=${PANTAU:-$BUILD/src/cli/pantau}  # PANTAU=binary runs another build (e.g. a baseline)
LOADGEN=$BUILD/bench/ingest/ingest_loadgen
SERIES=${SERIES:-4000}
SCRAPES=${SCRAPES:-3000}
INTERVAL=${INTERVAL:-30}
RUNS=${RUNS:-5}
ONLY=${ONLY:-}
DATA=${DATA:-/tmp/query-bench-data-$SERIES-$SCRAPES-$INTERVAL}
OUT=${OUT-$ROOT/bench/results/query.md}
LOCK=/tmp/pantau-bench.lock
WORK=$(mktemp -d /tmp/query-bench.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
cpu_ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }
wait_ready() {  # url pid
  for _ in $(seq 1 6000); do
    kill -0 "$2" 2>/dev/null || { echo "server exited; see $WORK" >&2; tail -5 "$WORK"/*.log >&2; return 1; }
    curl -fs -o /dev/null "$1/-/ready" && return 0
    sleep 0.05
  done
  echo "not ready: $1" >&2; return 1
}
wait_idle() {  # pid: until it used < 2 % CPU over 3 s (compaction done)
  local a b
  for _ in $(seq 1 200); do
    a=$(cpu_ticks "$1"); sleep 3; b=$(cpu_ticks "$1")
    (( b - a <= 6 )) && return 0
  done
}

# start NAME PORT DATADIR; sets SPID
start() {
  case $1 in
    prometheus)
      printf 'global:\n  scrape_interval: 1h\n' >"$WORK/prom.yml"
      prometheus --config.file="$WORK/prom.yml" --storage.tsdb.path="$3" \
        --web.listen-address="127.0.0.1:$2" \
        --storage.tsdb.retention.time=10y >>"$WORK/$1.log" 2>&1 &
      ;;
    pantau)
      "$PANTAU" serve --web.listen-address="127.0.0.1:$2" --storage.path="$3" \
        --otlp.grpc-listen-address="127.0.0.1:$(free_port)" \
        --otlp.http-listen-address="127.0.0.1:$(free_port)" \
        --storage.retention.time=3650d >>"$WORK/$1.log" 2>&1 &
      ;;
  esac
  SPID=$!
  PIDS+=("$SPID")
  wait_ready "http://127.0.0.1:$2" "$SPID"
}
stop() { kill -TERM "$1"; wait "$1" || true; }

if [[ -n ${REBUILD:-} || ! -f $DATA/end ]]; then
  rm -rf "$DATA"; mkdir -p "$DATA"
  # Blocks aligned to 2 h, the last sample a little before now.
  start_ms=$(( ( $(date +%s) / 7200 - (SCRAPES * INTERVAL / 7200 + 1) ) * 7200 * 1000 ))
  echo "writing $SERIES series x $SCRAPES samples ..." >&2
  nice -n 19 "$LOADGEN" --openmetrics="$DATA/data.om" --series="$SERIES" \
    --scrapes="$SCRAPES" --interval="$INTERVAL" --start-ms="$start_ms" >&2
  nice -n 19 promtool tsdb create-blocks-from openmetrics "$DATA/data.om" \
    "$DATA/prometheus" >/dev/null
  mkdir -p "$DATA/pantau"
  nice -n 19 "$PANTAU" import openmetrics "$DATA/data.om" "$DATA/pantau/metrics" 2>/dev/null
  rm "$DATA/data.om"
  for name in prometheus pantau; do
    echo "compacting $name ..." >&2
    start "$name" "$(free_port)" "$DATA/$name"
    sleep 70  # Prometheus plans compaction once a minute
    wait_idle "$SPID"
    stop "$SPID"
  done
  echo $(( (start_ms + (SCRAPES - 1) * INTERVAL * 1000) / 1000 )) >"$DATA/end"
fi
end=$(cat "$DATA/end")

run() {
  local pp tp ppid tpid
  pp=$(free_port); start prometheus "$pp" "$DATA/prometheus"; ppid=$SPID
  tp=$(free_port); start pantau "$tp" "$DATA/pantau"; tpid=$SPID
  wait_idle "$ppid"; wait_idle "$tpid"
  python3 "$ROOT/bench/query/query_bench.py" \
    --prom="http://127.0.0.1:$pp" --prom-pid="$ppid" \
    --pantau="http://127.0.0.1:$tp" --pantau-pid="$tpid" \
    --end="$end" --runs="$RUNS" --only="$ONLY" --out="$WORK/table.md" || true
  uptime >"$WORK/uptime"
  mkdir -p /tmp/query-bench-logs && cp "$WORK"/*.log /tmp/query-bench-logs/ 2>/dev/null || true
  stop "$ppid"; stop "$tpid"
}
# Export what the locked part needs and run it under the shared lock.
export -f run start stop wait_ready wait_idle free_port cpu_ticks
export ROOT PANTAU DATA RUNS ONLY WORK end SPID=
flock "$LOCK" bash -c 'PIDS=(); run'

[[ -f $WORK/table.md ]] || { echo "no results" >&2; exit 1; }
commit=$(git -C "$ROOT" rev-parse --short HEAD)
cpu_model=$(awk -F': ' '/model name/{print $2; exit}' /proc/cpuinfo)
report=$(
  echo "# Query: pantau vs Prometheus $(prometheus --version 2>&1 | head -1 | awk '{print $3}')"
  echo
  echo "Command: \`SERIES=$SERIES SCRAPES=$SCRAPES INTERVAL=$INTERVAL RUNS=$RUNS bench/query/compare.sh\`${ONLY:+ (ONLY=$ONLY)}"
  echo
  echo "Machine: $(nproc) cores ($cpu_model), $(. /etc/os-release; echo "$PRETTY_NAME"), $(date -u +%Y-%m-%dT%H:%MZ), commit $commit."
  echo "Load: $(cat "$WORK/uptime") (at the end of the locked run; the machine is shared)."
  echo
  echo "Data: $SERIES series of bench/ingest's catalog (node_exporter-like hosts plus an HTTP latency histogram per host), $SCRAPES samples each, $INTERVAL s apart ($(( SCRAPES * INTERVAL / 3600 )) h), the same OpenMetrics file built into blocks by promtool and by \`pantau import openmetrics\`, both compacted by their server before the run. Range queries end at the last sample; each row is the median of $RUNS runs per server after one warm-up, alternating servers; latency is the HTTP request's wall time as seen by the client (JSON read fully); CPU ms is the server process's user+system time per request (from /proc/PID/stat, 10 ms ticks summed over the runs, so small values are coarse), which the shared machine's load disturbs less than latency. Peak RSS: VmRSS sampled every ~2 ms while the server answered that query (both warm, so it includes what earlier queries left resident)."
  echo
  cat "$WORK/table.md"
)
if [[ -n $OUT ]]; then echo "$report" >"$OUT"; fi
echo "$report"
