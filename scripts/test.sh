#!/usr/bin/env bash
# `make test`: the whole suite against a fresh private PostgreSQL (fsync off: it is
# thrown away), real sockets, real processes.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=.build/test-pg
scripts/pg.sh destroy "$dir"
# `auto`: a free port (never a fixed one another cluster in this directory could hold).
DATABASE_URL=$(PG_FSYNC=off scripts/pg.sh start "$dir" auto)
SEATCAST_TEST_PGDATA=$(scripts/pg.sh pgdata "$dir")
export DATABASE_URL SEATCAST_TEST_PGDATA
trap 'scripts/pg.sh destroy "$dir"' EXIT

swift build --build-tests
swift test --skip-build "$@"
