#!/usr/bin/env bash
# `make run`: build, start a private PostgreSQL under .seatcast/ (unless DATABASE_URL is
# set), migrate, seed the demo trip, serve on :8080 (PORT overrides). Ctrl-C stops the
# server and then the private PostgreSQL.
#   SEATCAST_HOME (.seatcast): where the private PostgreSQL lives
#   SEATCAST_BIN: a seatcast binary to run instead of building one (the tests use it)
set -euo pipefail
cd "$(dirname "$0")/.."
port=${PORT:-8080}
home=${SEATCAST_HOME:-.seatcast}

if [ -n "${SEATCAST_BIN:-}" ]; then
  bin=$SEATCAST_BIN
else
  swift build -c release --product seatcast
  bin=$(swift build -c release --show-bin-path)/seatcast
fi

if [ -z "${DATABASE_URL:-}" ]; then
  DATABASE_URL=$(scripts/pg.sh start "$home/pg" 5432)
  export DATABASE_URL
  trap 'scripts/pg.sh stop "$home/pg"; echo "run: private PostgreSQL stopped" >&2' EXIT
  echo "run: private PostgreSQL in $home/pg" >&2
fi

cat <<MSG

  seatcast is starting on port $port
    page:      http://127.0.0.1:$port/
    websocat:  websocat ws://127.0.0.1:$port/ws/trips/demo      (then type: reserve demo 3A)
    API:       curl http://127.0.0.1:$port/api/trips
  Ctrl-C stops it.

MSG
# Not exec: the EXIT trap must run after the server has shut down.
"$bin" serve --migrate --seed-demo --port "$port" --public-dir Public &
server=$!
trap 'kill -TERM $server 2>/dev/null || true' INT TERM
wait $server || true
wait $server 2>/dev/null || true
