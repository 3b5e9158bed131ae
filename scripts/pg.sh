#!/usr/bin/env bash
# Private throwaway PostgreSQL clusters for `make run` and `make test`.
#   scripts/pg.sh start DIR [PORT]   init (if needed) and start a cluster in DIR; prints its DATABASE_URL
#   scripts/pg.sh stop DIR           stop it (fast shutdown)
#   scripts/pg.sh url DIR [PORT]     print the DATABASE_URL
#   scripts/pg.sh pgdata DIR         print the data directory (for pg_ctl restart in tests)
#   scripts/pg.sh destroy DIR        stop it and delete its data
# The cluster listens on a Unix socket inside its own directory only (no TCP), trusts
# local connections, and belongs to `postgres` when run as root (initdb refuses root).
set -euo pipefail

cmd=${1:?usage: pg.sh start|stop|url|pgdata DIR [PORT]}
dir=${2:?usage: pg.sh start|stop|url|pgdata DIR [PORT]}
port=${3:-5432}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
  echo "pg.sh: PostgreSQL server binaries not found (apt-get install postgresql)" >&2
  exit 1
fi

as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# Where the cluster lives: DIR itself when its owner can reach it, else a private
# directory under /tmp (root running from a directory `postgres` cannot enter).
home="$dir"
if [ "$(id -u)" = 0 ]; then
  if ! runuser -u postgres -- test -x "$dir/.." 2>/dev/null || ! runuser -u postgres -- test -x "$(dirname "$dir")" 2>/dev/null; then
    home="/tmp/seatcast-pg-$(printf '%s' "$dir" | cksum | cut -d' ' -f1)"
  fi
  mkdir -p "$home"
  chown postgres:postgres "$home"
fi
data="$home/data"
url="postgresql:///postgres?host=$home&port=$port&user=postgres"

case "$cmd" in
  url) echo "$url" ;;
  pgdata) echo "$data" ;;
  start)
    if [ ! -f "$data/PG_VERSION" ]; then
      as_owner "$bindir/initdb" -D "$data" -A trust -U postgres -E UTF8 --no-sync >"$home/initdb.log" 2>&1 \
        || { cat "$home/initdb.log" >&2; exit 1; }
    fi
    if ! as_owner "$bindir/pg_ctl" -D "$data" status >/dev/null 2>&1; then
      as_owner touch "$home/log"
      # setsid: a new session, so a Ctrl-C meant for the server does not also stop the database.
      as_owner setsid -w "$bindir/pg_ctl" -D "$data" -l "$home/log" -w -t 60 \
        -o "-p $port -k $home -c listen_addresses='' -c max_connections=200 -c fsync=${PG_FSYNC:-on}" start >/dev/null \
        || { tail -n 20 "$home/log" >&2; exit 1; }
    fi
    echo "$url"
    ;;
  stop)
    if [ -f "$data/PG_VERSION" ]; then
      as_owner "$bindir/pg_ctl" -D "$data" -m fast -w stop >/dev/null 2>&1 || true
    fi
    ;;
  destroy)
    if [ -f "$data/PG_VERSION" ]; then
      as_owner "$bindir/pg_ctl" -D "$data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$data" "$home/log" "$home/initdb.log"
    ;;
  *) echo "pg.sh: unknown command $cmd" >&2; exit 2 ;;
esac
