#!/usr/bin/env bash
# `make bench`: the benchmarks of BENCHMARKS.md, on this machine, against a release build
# and a private PostgreSQL (fsync on, like production). Prints one line per scenario.
#   BENCH_SUBSCRIBERS (2000) BENCH_EVENTS (1000) BENCH_RATE (200) BENCH_CONNECTIONS (100)
#   BENCH_INFLIGHT (16) BENCH_DURATION (10) BENCH_STAMPEDE (1000) BENCH_IDLE (5000)
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product seatcast >/dev/null
bin=$(swift build -c release --show-bin-path)/seatcast
dir=.build/bench-pg
scripts/pg.sh destroy "$dir"
url=$(scripts/pg.sh start "$dir" 5455)
port=${BENCH_PORT:-8181}
server=""
cleanup() {
  [ -n "$server" ] && kill -TERM "$server" 2>/dev/null && wait "$server" 2>/dev/null || true
  scripts/pg.sh destroy "$dir"
}
trap cleanup EXIT
"$bin" migrate --database-url "$url" >/dev/null
"$bin" trip create fan --name fanout --rows 25 --cols 4 --database-url "$url" >/dev/null
"$bin" trip create res --name reserves --rows 200 --cols 20 --database-url "$url" >/dev/null
"$bin" trip create stamp --name stampede --rows 3 --cols 4 --database-url "$url" >/dev/null
"$bin" trip create idle --name idle --rows 12 --cols 4 --database-url "$url" >/dev/null
DATABASE_URL="$url" "$bin" serve --port "$port" --host 127.0.0.1 --rate-limit 1000000 >/dev/null 2>&1 &
server=$!
for i in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
ws="ws://127.0.0.1:$port"
echo "machine: $(nproc) cores, $(uname -r); seatcast $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
"$bin" bench fanout --url "$ws" --trip fan --server-pid "$server" \
  --subscribers "${BENCH_SUBSCRIBERS:-2000}" --events "${BENCH_EVENTS:-1000}" --rate "${BENCH_RATE:-200}"
"$bin" bench reserves --url "$ws" --trip res \
  --connections "${BENCH_CONNECTIONS:-100}" --inflight "${BENCH_INFLIGHT:-16}" --duration "${BENCH_DURATION:-10}"
"$bin" bench stampede --url "$ws" --trip stamp --connections "${BENCH_STAMPEDE:-1000}" --seat-count 10
"$bin" bench idle --url "$ws" --trip idle --server-pid "$server" --connections "${BENCH_IDLE:-5000}"
echo "server metrics after the run:"
curl -fs "http://127.0.0.1:$port/metrics" | grep -E '^seatcast_(fanout_seconds_(sum|count)|db_transactions_total|queue_overflows_total|events_delivered_total|coalesced_(writes|frames)_total) '
