# seatcast: the two commands are `make run` and `make test`.
.PHONY: run test build deps bench clean-db

run: deps
	@scripts/run.sh

test:
	@scripts/deps.sh test
	@scripts/test.sh

build: deps
	swift build

deps:
	@scripts/deps.sh

# The benchmarks of BENCHMARKS.md (release build, private PostgreSQL).
bench: deps
	@scripts/bench.sh

# Deletes the private PostgreSQL of `make run`.
clean-db:
	scripts/pg.sh destroy .seatcast/pg
