#!/usr/bin/env bash
# Side-by-side ingest benchmark: Prometheus 2.42 (Debian) vs pantau, same
# remote_write workload from ingest_loadgen, same measurement for each.
#
#   bench/ingest/compare.sh [BUILD_DIR]
#   SERIES=1000000 SCRAPES=20 bench/ingest/compare.sh   # the large run
#
# Env knobs: SERIES (100000), SCRAPES (120: one full 120-sample chunk per series), SENDERS (4), BATCH (2000),
# OM_SERIES / OM_SCRAPES (2000 / 480: 2 h of data for the block
# comparison), OUT (bench/results/ingest.md).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-$ROOT/build-bench}
PANTAU=$BUILD/src/cli/pantau
LOADGEN=$BUILD/bench/ingest/ingest_loadgen
SERIES=${SERIES:-100000}
SCRAPES=${SCRAPES:-120}
SENDERS=${SENDERS:-4}
BATCH=${BATCH:-2000}
OM_SERIES=${OM_SERIES:-2000}
OM_SCRAPES=${OM_SCRAPES:-480}
OUT=${OUT:-$ROOT/bench/results/ingest.md}
TICK=$(getconf CLK_TCK)
WORK=$(mktemp -d /tmp/ingest-bench.XXXXXX)
PID=""
LOGS=${LOGS:-/tmp/ingest-bench-logs}  # server logs of the last run are kept here
cleanup() {
  [[ -n "$PID" ]] && kill -TERM "$PID" 2>/dev/null
  wait 2>/dev/null
  mkdir -p "$LOGS" && cp "$WORK"/*.log "$LOGS"/ 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
cpu_s() { awk -v t="$TICK" '{print ($14+$15)/t}' "/proc/$1/stat"; }
rss_kb() { awk '/^VmRSS/{print $2}' "/proc/$1/status"; }
now() { echo "$EPOCHREALTIME"; }  # bash 5: no fork, unlike date
ready_once() {  # port: whether /-/ready answers 200
  # Bash's /dev/tcp instead of curl: no process per poll, so polling every
  # 10 ms takes no CPU away from the server starting on the same 2 cores.
  local line
  { exec 3<>"/dev/tcp/127.0.0.1/$1"; } 2>/dev/null || return 1
  printf 'GET /-/ready HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3
  IFS= read -r -t 5 line <&3 || line=""
  exec 3<&- 3>&-
  [[ $line == "HTTP/1."[01]" 200"* ]]
}
wait_ready() {  # url; prints seconds since the server was started
  # T_START is taken just before the server's exec (start_server); polling
  # every 10 ms keeps the granularity small next to a 0.2 s target.
  local deadline=$((SECONDS + 900))
  while (( SECONDS < deadline )); do
    kill -0 "$PID" 2>/dev/null || { echo "server exited; log: $WORK" >&2; tail "$WORK"/*.log >&2; return 1; }
    if ready_once "${1##*:}"; then echo "$(now) - $T_START" | bc -l; return 0; fi
    sleep 0.01
  done
  echo "not ready: $1" >&2; return 1
}

start_server() {  # name port datadir
  # Ports are picked before the clock starts: each free_port is a python3
  # start (0.2 s each on a loaded machine), which used to run inside the
  # timed window, in the background shell before pantau's exec.
  local grpc_port http_port
  grpc_port=$(free_port); http_port=$(free_port)
  T_START=$(now)
  case $1 in
    prometheus)
      printf 'global:\n  scrape_interval: 1h\n' >"$WORK/prom.yml"
      prometheus --config.file="$WORK/prom.yml" --storage.tsdb.path="$3" \
        --web.listen-address="127.0.0.1:$2" --web.enable-remote-write-receiver \
        >>"$WORK/$1.log" 2>&1 &
      ;;
    pantau)
      "$PANTAU" serve --web.listen-address="127.0.0.1:$2" --storage.path="$3" \
        --otlp.grpc-listen-address="127.0.0.1:$grpc_port" \
        --otlp.http-listen-address="127.0.0.1:$http_port" \
        >>"$WORK/$1.log" 2>&1 &
      ;;
  esac
  PID=$!
}

stop_server() { kill -TERM "$PID"; wait "$PID" || true; PID=""; }

declare -A R
run_one() {  # name
  local name=$1 port data url
  port=$(free_port); data=$WORK/$name-data; mkdir -p "$data"
  url=http://127.0.0.1:$port
  start_server "$name" "$port" "$data"
  wait_ready "$url" >/dev/null
  local c0 c1 line samples
  c0=$(cpu_s "$PID")
  line=$("$LOADGEN" --url="$url/api/v1/write" --series="$SERIES" \
    --scrapes="$SCRAPES" --senders="$SENDERS" --batch="$BATCH" | tail -1 || true)
  c1=$(cpu_s "$PID")
  echo "$name: $line" >&2
  samples=$(sed -E 's/.*samples=([0-9]+).*/\1/' <<<"$line")
  R[$name.rate]=$(sed -E 's/.*samples_per_sec=([0-9]+).*/\1/' <<<"$line")
  R[$name.errors]=$(sed -E 's/.*errors=([0-9]+).*/\1/' <<<"$line")
  R[$name.cpu]=$(echo "($c1 - $c0) / ($samples / 1000000)" | bc -l)
  sleep 2  # let in-flight work settle before sampling RSS
  R[$name.rss]=$(echo "$(rss_kb "$PID") * 1024 / $SERIES" | bc -l)
  stop_server
  start_server "$name" "$port" "$data"
  R[$name.restart]=$(wait_ready "$url")
  stop_server
  local dir=$data; [[ $name == pantau ]] && dir=$data/metrics
  R[$name.disk]=$(echo "$(du -sb "$dir" | cut -f1) / $samples" | bc -l)
}

blocks_bytes() { # dir: bytes of block dirs (26-char ULIDs) only
  local total=0 d
  for d in "$1"/*/; do
    d=${d%/}; local base=${d##*/}; [[ ${#base} -eq 26 ]] || continue
    total=$((total + $(du -sb "$d" | cut -f1)))
  done
  echo "$total"
}

run_one prometheus
run_one pantau

# Like-for-like blocks: the same OpenMetrics file through both importers.
OM=$WORK/data.om
start2h=$(( ( $(date +%s) / 7200 - 2 ) * 7200 * 1000 ))
om_samples=$("$LOADGEN" --openmetrics="$OM" --series="$OM_SERIES" \
  --scrapes="$OM_SCRAPES" --start-ms="$start2h" | sed -E 's/samples=([0-9]+).*/\1/')
promtool tsdb create-blocks-from openmetrics "$OM" "$WORK/prom-blocks" >/dev/null
"$PANTAU" import openmetrics "$OM" "$WORK/pantau-blocks" 2>/dev/null
R[prometheus.block]=$(echo "$(blocks_bytes "$WORK/prom-blocks") / $om_samples" | bc -l)
R[pantau.block]=$(echo "$(blocks_bytes "$WORK/pantau-blocks") / $om_samples" | bc -l)

f() { printf "%.${2:-2}f" "$1"; }
ratio() { f "$(echo "$1 / $2" | bc -l)" 2; }
cpu_model=$(awk -F': ' '/model name/{print $2; exit}' /proc/cpuinfo)
{
  echo "# Ingest: pantau vs Prometheus $(prometheus --version 2>&1 | head -1 | awk '{print $3}')"
  echo
  echo "Command: \`SERIES=$SERIES SCRAPES=$SCRAPES SENDERS=$SENDERS BATCH=$BATCH OM_SERIES=$OM_SERIES OM_SCRAPES=$OM_SCRAPES bench/ingest/compare.sh\`"
  echo
  echo "Machine: $(nproc) cores ($cpu_model), $(. /etc/os-release; echo "$PRETTY_NAME"), $(date -u +%Y-%m-%dT%H:%MZ)."
  echo "Load average at the end of the run: $(cut -d' ' -f1-3 /proc/loadavg) (the machine is shared; other builds ran meanwhile if it is above ~1)."
  echo
  echo "Workload: $SERIES active series (node_exporter-like hosts plus an HTTP latency histogram per host), $SCRAPES samples each, 15 s of simulated time apart, $SENDERS concurrent senders, $BATCH samples per remote_write request. Block comparison: $OM_SERIES series x $OM_SCRAPES samples ($om_samples samples) written as OpenMetrics and built into blocks by \`promtool tsdb create-blocks-from openmetrics\` and \`pantau import openmetrics\`."
  echo
  echo "| | Prometheus | pantau | pantau / Prometheus | target |"
  echo "|---|---|---|---|---|"
  echo "| ingest throughput (samples/s) | ${R[prometheus.rate]} | ${R[pantau.rate]} | $(ratio "${R[pantau.rate]}" "${R[prometheus.rate]}") | |"
  echo "| remote_write errors | ${R[prometheus.errors]} | ${R[pantau.errors]} | | 0 |"
  echo "| CPU s per million samples | $(f "${R[prometheus.cpu]}") | $(f "${R[pantau.cpu]}") | $(ratio "${R[pantau.cpu]}" "${R[prometheus.cpu]}") | <= 0.25 |"
  echo "| RSS bytes per active series (head full) | $(f "${R[prometheus.rss]}" 0) | $(f "${R[pantau.rss]}" 0) | $(ratio "${R[pantau.rss]}" "${R[prometheus.rss]}") | <= 0.25 |"
  echo "| restart with full head (s to /-/ready) | $(f "${R[prometheus.restart]}") | $(f "${R[pantau.restart]}") | $(ratio "${R[pantau.restart]}" "${R[prometheus.restart]}") | <= 0.2 |"
  echo "| data dir after clean stop, bytes/sample (WAL/snapshot, no blocks yet) | $(f "${R[prometheus.disk]}") | $(f "${R[pantau.disk]}") | | |"
  echo "| block bytes/sample (same OpenMetrics file) | $(f "${R[prometheus.block]}" 3) | $(f "${R[pantau.block]}" 3) | $(ratio "${R[pantau.block]}" "${R[prometheus.block]}") | pantau <= 0.7 |"
} >"$OUT"
cat "$OUT"
