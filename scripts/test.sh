#!/usr/bin/env bash
# `make test`: the whole suite against a fresh private PostgreSQL (fsync off: it is
# thrown away), real sockets, real processes.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=.build/test-pg
scripts/pg.sh destroy "$dir"
DATABASE_URL=$(PG_FSYNC=off scripts/pg.sh start "$dir" 5433)
SEATCAST_TEST_PGDATA=$(scripts/pg.sh pgdata "$dir")
export DATABASE_URL SEATCAST_TEST_PGDATA
trap 'scripts/pg.sh destroy "$dir"' EXIT

swift build --build-tests
swift test --skip-build "$@"
