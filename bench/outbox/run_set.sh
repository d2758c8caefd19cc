#!/usr/bin/env bash
# The outbox benchmark set recorded in bench/results/outbox.md: the
# throughput runs of both stores alternating (so a slow spell of a shared
# machine lands on both), then the half-load latency runs. Prints the
# machine, the date and a markdown table; each run's CPU line goes to
# stderr. Run from the repository root after `make build`:
#
#   bench/outbox/run_set.sh [ROUNDS=4] [BUILD=build]
set -euo pipefail
rounds=${1:-4}
build=${2:-build}
bench="$build/bench/outbox/outbox_e2e_bench"
[[ -x $bench ]] || { echo "no $bench: run make build first" >&2; exit 1; }

echo "machine: $(nproc) vCPU $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)," \
  "$(free -g | awk '/Mem:/ {print $2}') GiB, $(. /etc/os-release; echo "$PRETTY_NAME")"
echo "date: $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git rev-parse --short HEAD)"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| store | relays | producers | consumers | messages | rate | txn | end-to-end msg/s | producer msg/s | p50 ms | p99 ms | p99.9 ms | CPU µs/msg |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|"

run() {  # txn, then the bench's flags
  local txn=$1
  shift
  local row
  # The bench's own row lacks the txn column; put it in after the rate.
  row=$(flock /tmp/pantau-bench.lock "$bench" --txn="$txn" "$@" 2>/tmp/outbox_run_set.err) || true
  tail -1 /tmp/outbox_run_set.err >&2
  echo "$row" | awk -F'|' -v txn="$txn" 'NF > 2 {
    out = "|"; for (i = 2; i < NF; ++i) { out = out $i "|"; if (i == 7) out = out " " txn " |" }
    print out }'
}

sqlite=(--store=sqlite --relays=1 --producers=1 --consumers=1)
pg=(--store=pg --relays=2 --producers=2 --consumers=2)
for ((i = 0; i < rounds; ++i)); do
  run 50 "${sqlite[@]}" --messages=150000
  run 50 "${pg[@]}" --messages=150000
done
# Half of each target: SQLite 30k -> 15k msg/s, PostgreSQL 20k -> 10k.
# 90k messages: 6 s and 9 s of steady load. Runs of 30k (2-3 s) gave a
# p99 about a quarter lower than runs of 90k on the same build: too short
# to be sure of meeting the slow moments (publishes acked 20-50 ms late
# near the end of each of nats-server's 8 MiB blocks; the bench's
# --timeline lists them).
for ((i = 0; i < rounds / 2; ++i)); do
  run 50 "${sqlite[@]}" --messages=90000 --rate=15000
  run 10 "${sqlite[@]}" --messages=90000 --rate=15000
  run 50 "${pg[@]}" --messages=90000 --rate=10000
  run 10 "${pg[@]}" --messages=90000 --rate=10000
done
echo
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
