#!/usr/bin/env bash
# Usage: cli_test.sh PATH/TO/pantau
# Runs the binary the way a user does and checks what they would see.
set -uo pipefail
bin=$1
work=$(mktemp -d)
pid=""
cleanup() {
  [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
passed=0 failed=0
check() {  # check NAME COMMAND...
  local name=$1; shift
  if "$@"; then passed=$((passed + 1)); echo "ok   $name"
  else failed=$((failed + 1)); echo "FAIL $name"; fi
}
contains() { grep -q -- "$2" <<<"$1"; }

out=$("$bin" --version 2>&1); rc=$?
check "--version exits 0" test $rc -eq 0
check "--version names pantau and a version" contains "$out" "pantau, version "

out=$("$bin" --help 2>&1); rc=$?
check "--help exits 0" test $rc -eq 0
check "--help lists serve" contains "$out" "serve"

out=$("$bin" serve --help 2>&1); rc=$?
check "serve --help exits 0" test $rc -eq 0
for flag in --config.file --web.listen-address --storage.path \
            --storage.retention.time --log.level --log.format; do
  check "serve --help lists $flag" contains "$out" "$flag"
done

out=$("$bin" 2>&1); rc=$?
check "no command is a usage error" test $rc -ne 0
out=$("$bin" frobnicate 2>&1); rc=$?
check "unknown command is an error" test $rc -ne 0
out=$("$bin" serve --no-such-flag 2>&1); rc=$?
check "unknown flag is an error" test $rc -ne 0

printf 'web:\n  listen_adress: ":1"\n' > "$work/bad.yml"
out=$("$bin" serve --config.file="$work/bad.yml" --storage.path="$work/d0" 2>&1); rc=$?
check "bad config exits 1" test $rc -eq 1
check "bad config names file, line and key" contains "$out" "bad.yml:2: web.listen_adress: unknown field"

out=$("$bin" serve --storage.retention.time=soon --storage.path="$work/d0" 2>&1); rc=$?
check "bad flag value exits 1" test $rc -eq 1
check "bad flag value is explained" contains "$out" "storage.retention.time"

# An explicitly empty value switches a listener off (regression: CLI11
# took the next argument as its value).
"$bin" serve --otlp.grpc-listen-address= --otlp.http-listen-address= \
  --web.listen-address=127.0.0.1:0 --storage.path="$work/d1" > "$work/log1" 2>&1 &
p1=$!
for _ in $(seq 1 100); do grep -q "ready to receive" "$work/log1" && break; sleep 0.1; done
check "--flag= disables a listener" grep -q "ready to receive" "$work/log1"
check "no OTLP/gRPC listener when disabled" bash -c "! grep -q 'listening for OTLP' '$work/log1'"
kill -TERM $p1; wait $p1

# A real server: start, probe, reload, stop.
printf 'log:\n  level: info\n' > "$work/good.yml"
"$bin" serve --config.file="$work/good.yml" --web.listen-address=127.0.0.1:0 \
  --otlp.grpc-listen-address=127.0.0.1:0 --otlp.http-listen-address=127.0.0.1:0 \
  --storage.path="$work/data" > "$work/log" 2>&1 &
pid=$!
port=""
for _ in $(seq 1 100); do
  port=$(sed -n 's/.*msg=listening .*port=\([0-9]*\).*/\1/p' "$work/log" | head -1)
  [ -n "$port" ] && break
  sleep 0.1
done
check "server logs its port" test -n "$port"
check "/-/healthy answers 200" test "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/-/healthy")" = 200
check "/metrics answers" contains "$(curl -s "http://127.0.0.1:$port/metrics")" "process_cpu_seconds_total"

printf 'log:\n  level: debug\n' > "$work/good.yml"
kill -HUP "$pid"
for _ in $(seq 1 50); do
  grep -q "completed loading of configuration file" "$work/log" && break
  sleep 0.1
done
check "SIGHUP reloads the config" grep -q "completed loading of configuration file" "$work/log"
check "still serving after reload" test "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/-/ready")" = 200

kill -TERM "$pid"
wait "$pid"; rc=$?
pid=""
check "SIGTERM exits 0" test $rc -eq 0
check "shutdown is logged" grep -q "see you next time" "$work/log"
check "lock released on exit" test -f "$work/data/lock"

echo "cli: $passed passed, $failed failed"
[ $failed -eq 0 ]
