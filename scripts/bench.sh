#!/usr/bin/env bash
# `make bench`: the benchmarks of BENCHMARKS.md, on this machine, against a release build
# and a private PostgreSQL (fsync on, like production). Prints one line per scenario.
#   BENCH_FANOUT ("2000:25 8000:6 19000:2")  fanout runs, SUBSCRIBERS:EVENTS_PER_SECOND each
#   BENCH_FANOUT_SECONDS (20)   how long each fanout run sends events
#   (BENCH_SUBSCRIBERS, BENCH_EVENTS, BENCH_RATE: one fanout run of that size instead, as before)
#   BENCH_CONNECTIONS (100) BENCH_INFLIGHT (16) BENCH_DURATION (10)   reserves
#   BENCH_BEST_CONNECTIONS (64) BENCH_BEST_COUNT (2)   best: best-available clients, seats together each
#   BENCH_STAMPEDE (1000) BENCH_STAMPEDE_RUNS (10)   stampede clients, runs (then a summary line)
#   BENCH_IDLE (5000)   idle connections; BENCH_PORT (8181)
#   BENCH_HANDSHAKES (256)   connection handshakes the load client keeps in flight at once
#   BENCH_STORM ("10000:2000:5:30")   storm: CLIENTS:ACTORS:JOIN_WINDOW_SECONDS:SALE_SECONDS on a
#                                      500 x 100 trip (opt-in: BENCH_SCENARIOS=storm)
#   BENCH_SCENARIOS ("idle fanout reserves tokens best stampede")   which ones, in this order (storm: opt-in)
#   BENCH_MAX_HELD (1000)   the server's --max-held (the quota is checked, not reached)
#   analyzed: reserves again right after an ANALYZE of seats taken with none held, the
#     statistics autovacuum leaves at most moments (opt-in: BENCH_SCENARIOS=analyzed)
# idle runs first, on a fresh server: after a bigger run the allocator would reuse freed
# memory and hide the per-connection cost.
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

if [ -z "${BENCH_FANOUT:-}" ] && [ -n "${BENCH_SUBSCRIBERS:-}${BENCH_EVENTS:-}${BENCH_RATE:-}" ]; then
  fanouts="${BENCH_SUBSCRIBERS:-2000}:${BENCH_RATE:-200}"
  events_arg=(--events "${BENCH_EVENTS:-1000}")
else
  fanouts=${BENCH_FANOUT:-2000:25 8000:6 19000:2}
  events_arg=(--seconds "${BENCH_FANOUT_SECONDS:-20}")
fi
scenarios=${BENCH_SCENARIOS:-idle fanout reserves tokens best stampede}

"$bin" migrate --database-url "$url" >/dev/null
n=0
for f in $fanouts; do
  n=$((n + 1))
  "$bin" trip create "fan$n" --name "fanout $f" --rows 25 --cols 4 --database-url "$url" >/dev/null
done
"$bin" trip create res --name reserves --rows 200 --cols 20 --database-url "$url" >/dev/null
"$bin" trip create best --name "best available" --rows 20 --cols 4 --database-url "$url" >/dev/null
"$bin" trip create stamp --name stampede --rows 3 --cols 4 --database-url "$url" >/dev/null
"$bin" trip create idle --name idle --rows 12 --cols 4 --database-url "$url" >/dev/null
case " $scenarios " in
  *" storm "*) "$bin" trip create storm --name "storm 500 x 100" --rows 500 --cols 100 --database-url "$url" >/dev/null ;;
esac
# The hold quota stays on (checked on every reserve) but above what a load connection
# holds (`reserves` keeps up to BENCH_INFLIGHT seats per connection in flight).
serve_args=(--port "$port" --host 127.0.0.1 --rate-limit 1000000 --max-held "${BENCH_MAX_HELD:-1000}")
start_server() {
  DATABASE_URL="$url" "$bin" serve "${serve_args[@]}" "$@" >/dev/null 2>&1 &
  server=$!
  for i in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
}
stop_server() { kill -TERM "$server" 2>/dev/null; wait "$server" 2>/dev/null || true; server=""; }
start_server
common=(--url "ws://127.0.0.1:$port" --handshakes "${BENCH_HANDSHAKES:-256}")
# The reserves run (scenarios reserves, analyzed, tokens); extra arguments are added.
reserves_run() {
  "$bin" bench reserves "${common[@]}" --trip res "$@" \
    --connections "${BENCH_CONNECTIONS:-100}" --inflight "${BENCH_INFLIGHT:-16}" --duration "${BENCH_DURATION:-10}"
}
echo "machine: $(nproc) cores, $(uname -r), open files $(ulimit -Hn) (hard); seatcast $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
for s in $scenarios; do
  case "$s" in
    idle)
      "$bin" bench idle "${common[@]}" --trip idle --server-pid "$server" --connections "${BENCH_IDLE:-5000}" ;;
    fanout)
      n=0
      for f in $fanouts; do
        n=$((n + 1))
        "$bin" bench fanout "${common[@]}" --trip "fan$n" --server-pid "$server" \
          --subscribers "${f%%:*}" --rate "${f##*:}" "${events_arg[@]}"
      done ;;
    reserves)
      reserves_run ;;
    analyzed)
      psql "$url" -qc "ANALYZE seats" >/dev/null
      reserves_run ;;
    tokens)
      # reserves again with buyer tokens (one per load connection): the server restarted
      # with a token secret, every connection verified at its handshake, holds owned by a sub.
      secret=bench-token-secret-0123456789abcdef0123456789
      stop_server
      SEATCAST_TOKEN_SECRET=$secret start_server
      reserves_run --token-secret "$secret"
      stop_server
      start_server ;;
    best)
      "$bin" bench best "${common[@]}" --trip best --connections "${BENCH_BEST_CONNECTIONS:-64}" \
        --count "${BENCH_BEST_COUNT:-2}" --duration "${BENCH_DURATION:-10}" ;;
    stampede)
      "$bin" bench stampede "${common[@]}" --trip stamp --connections "${BENCH_STAMPEDE:-1000}" --seat-count 10 \
        --repeat "${BENCH_STAMPEDE_RUNS:-10}" ;;
    storm)
      IFS=: read -r sc sa sj ss <<<"${BENCH_STORM:-10000:2000:5:30}"
      "$bin" bench storm "${common[@]}" --trip storm --server-pid "$server" --database-url "$url" \
        --clients "$sc" --actors "$sa" --join-window "$sj" --sale-seconds "$ss" ;;
    *) echo "bench.sh: unknown scenario $s" >&2; exit 2 ;;
  esac
done
echo "server metrics after the run:"
curl -fs "http://127.0.0.1:$port/metrics" | grep -E '^seatcast_(fanout_seconds_(sum|count)|db_transactions_total|queue_overflows_total|events_delivered_total|coalesced_(writes|frames)_total) ' || true
