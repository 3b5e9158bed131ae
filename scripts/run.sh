#!/usr/bin/env bash
# `make run`: build, start a private PostgreSQL under .seatcast/ (unless DATABASE_URL is
# set), migrate, seed the demo trip, serve on :8080 (PORT overrides). Ctrl-C stops the
# server and then the private PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."
port=${PORT:-8080}

swift build -c release --product seatcast
bin=$(swift build -c release --show-bin-path)/seatcast

if [ -z "${DATABASE_URL:-}" ]; then
  DATABASE_URL=$(scripts/pg.sh start .seatcast/pg 5432)
  export DATABASE_URL
  trap 'scripts/pg.sh stop .seatcast/pg; echo "run: private PostgreSQL stopped" >&2' EXIT
  echo "run: private PostgreSQL in .seatcast/pg" >&2
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
