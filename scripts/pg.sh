#!/usr/bin/env bash
# Private throwaway PostgreSQL clusters for `make run` and `make test`.
#   scripts/pg.sh start DIR [PORT]   init (if needed) and start a cluster in DIR; prints its DATABASE_URL
#                                    (PORT `auto`: a free port, see free_port below)
#   scripts/pg.sh restart DIR        restart a running cluster (fast shutdown), same port and options
#   scripts/pg.sh stop DIR           stop it (fast shutdown)
#   scripts/pg.sh url DIR [PORT]     print the DATABASE_URL
#   scripts/pg.sh pgdata DIR         print the data directory (for pg_ctl restart in tests)
#   scripts/pg.sh destroy DIR        stop it and delete its data
# The cluster listens on a Unix socket inside its own directory only (no TCP), trusts
# local connections, and belongs to `postgres` when run as root (initdb refuses root).
set -euo pipefail

cmd=${1:?usage: pg.sh start|restart|stop|url|pgdata|destroy DIR [PORT]}
dir=${2:?usage: pg.sh start|restart|stop|url|pgdata|destroy DIR [PORT]}
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

# The port of the cluster running in DIR (line 4 of postmaster.pid), or nothing.
running_port() {
  if as_owner "$bindir/pg_ctl" -D "$data" status >/dev/null 2>&1 && [ -f "$data/postmaster.pid" ]; then
    sed -n 4p "$data/postmaster.pid"
  fi
}

# A free port for a new cluster in DIR. The cluster listens only on a Unix socket inside
# its own directory ($home/.s.PGSQL.PORT, no TCP), so a port is taken only by a
# postmaster whose socket lives in that same directory, and such a postmaster holds
# $home/.s.PGSQL.PORT.lock: a port without that lock file is free. (Other clusters on the
# machine, in other directories, never collide; PostgreSQL itself steps over a shared
# memory key another cluster uses.) A random start in 20000-29999 keeps the number out
# of the usual 5432-5499 range; `start` tries the next one if it still loses a race.
free_port() {
  local p=$((20000 + RANDOM % 10000))
  while [ -e "$home/.s.PGSQL.$p.lock" ] || [ -e "$home/.s.PGSQL.$p" ]; do p=$((p + 1)); done
  echo "$p"
}

if [ "$port" = auto ]; then
  port=$(running_port)
  [ -n "$port" ] || port=$(free_port)
fi
url() { echo "postgresql:///postgres?host=$home&port=$port&user=postgres"; }

case "$cmd" in
  url) url ;;
  pgdata) echo "$data" ;;
  start)
    if [ ! -f "$data/PG_VERSION" ]; then
      as_owner "$bindir/initdb" -D "$data" -A trust -U postgres -E UTF8 --no-sync >"$home/initdb.log" 2>&1 \
        || { cat "$home/initdb.log" >&2; exit 1; }
    fi
    if ! as_owner "$bindir/pg_ctl" -D "$data" status >/dev/null 2>&1; then
      as_owner touch "$home/log"
      for attempt in 1 2 3 4 5; do
        # setsid: a new session, so a Ctrl-C meant for the server does not also stop the database.
        if as_owner setsid -w "$bindir/pg_ctl" -D "$data" -l "$home/log" -w -t 60 \
          -o "-p $port -k $home -c listen_addresses='' -c max_connections=200 -c fsync=${PG_FSYNC:-on}" start >/dev/null; then
          break
        fi
        # Another postmaster took an automatic port between free_port and start: next one.
        if [ "${3:-}" = auto ] && [ "$attempt" -lt 5 ] && tail -n 5 "$home/log" | grep -q 'lock file'; then
          port=$(free_port)
          continue
        fi
        tail -n 20 "$home/log" >&2
        exit 1
      done
    fi
    url
    ;;
  restart)
    # setsid as in start: the new postmaster is pg_ctl's child.
    as_owner setsid -w "$bindir/pg_ctl" -D "$data" -l "$home/log" -m fast -w -t 60 restart >/dev/null \
      || { tail -n 20 "$home/log" >&2; exit 1; }
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
