#!/usr/bin/env bash
# seatcast against a plain Go hub (bench/gohub: gorilla/websocket + pgx) on this machine,
# in one run: the same `seatcast bench` fanout and stampede scenarios against each, one
# server at a time, on one private PostgreSQL (fsync on) with fresh trips per server.
# Prints every line each server's runs printed, prefixed with the server's name.
#   BENCH_FANOUT ("2000:25 8000:6")  fanout runs, SUBSCRIBERS:EVENTS_PER_SECOND each
#   BENCH_FANOUT_SECONDS (20)         how long each fanout run sends events
#   BENCH_STAMPEDE (1000) BENCH_STAMPEDE_RUNS (10)   stampede clients and runs
#   BENCH_COMPARE_ORDER ("seatcast gohub")   which servers, in this order
#   BENCH_GOHUB_POOL (8)              gohub's database connections
#   BENCH_HANDSHAKES (256)            connection handshakes the load client keeps in flight
#   BENCH_COMPARE_PORT (8183)         seatcast's port; gohub's is this + 100
set -euo pipefail
cd "$(dirname "$0")/.."

# gohub builds from Debian packages only (GOPATH mode, no module downloads).
go_pkgs=(golang-go golang-github-gorilla-websocket-dev golang-github-jackc-pgx-v4-dev)
missing=()
for p in "${go_pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then echo "bench-compare: please apt-get install ${missing[*]}" >&2; exit 1; fi
  echo "bench-compare: installing ${missing[*]}" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null \
    || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null; }
fi

swift build -c release --product seatcast >/dev/null
bin=$(swift build -c release --show-bin-path)/seatcast
gohub=.build/gohub
GO111MODULE=off GOPATH=/usr/share/gocode GOFLAGS= go build -o "$gohub" ./bench/gohub

dir=.build/bench-compare-pg
scripts/pg.sh destroy "$dir"
url=$(scripts/pg.sh start "$dir" 5456)
port=${BENCH_COMPARE_PORT:-8183}
server=""
stop_server() {
  if [ -n "$server" ]; then
    kill -TERM "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
    server=""
  fi
}
cleanup() {
  stop_server
  scripts/pg.sh destroy "$dir"
}
trap cleanup EXIT

fanouts=${BENCH_FANOUT:-2000:25 8000:6}
order=${BENCH_COMPARE_ORDER:-seatcast gohub}
"$bin" migrate --database-url "$url" >/dev/null
for side in $order; do
  n=0
  for f in $fanouts; do
    n=$((n + 1))
    "$bin" trip create "${side}_fan$n" --name "fanout $f" --rows 25 --cols 4 --database-url "$url" >/dev/null
  done
  "$bin" trip create "${side}_stamp" --name stampede --rows 3 --cols 4 --database-url "$url" >/dev/null
done

echo "machine: $(nproc) cores, $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg); seatcast $(git rev-parse --short HEAD 2>/dev/null || echo '?'); $(go version | cut -d' ' -f3)"
for side in $order; do
  case "$side" in
    seatcast)
      p=$port
      DATABASE_URL="$url" "$bin" serve --port "$p" --host 127.0.0.1 --rate-limit 1000000 --max-held 0 >/dev/null 2>&1 &
      server=$! ;;
    gohub)
      p=$((port + 100))
      "$gohub" -addr "127.0.0.1:$p" -database-url "$url" -pool "${BENCH_GOHUB_POOL:-8}" 2>/dev/null &
      server=$! ;;
    *) echo "bench-compare: unknown server $side" >&2; exit 2 ;;
  esac
  up=""
  for i in $(seq 1 100); do curl -fs "http://127.0.0.1:$p/healthz" >/dev/null 2>&1 && { up=1; break; }; sleep 0.1; done
  [ -n "$up" ] || { echo "bench-compare: $side did not come up on port $p" >&2; exit 1; }
  common=(--url "ws://127.0.0.1:$p" --handshakes "${BENCH_HANDSHAKES:-256}")
  n=0
  for f in $fanouts; do
    n=$((n + 1))
    "$bin" bench fanout "${common[@]}" --trip "${side}_fan$n" --server-pid "$server" \
      --subscribers "${f%%:*}" --rate "${f##*:}" --seconds "${BENCH_FANOUT_SECONDS:-20}" | sed "s/^/$side /"
  done
  "$bin" bench stampede "${common[@]}" --trip "${side}_stamp" --connections "${BENCH_STAMPEDE:-1000}" --seat-count 10 \
    --repeat "${BENCH_STAMPEDE_RUNS:-10}" | sed "s/^/$side /"
  stop_server
done
