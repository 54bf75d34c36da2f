# Common tasks. `make test` is the full suite CI runs (see .ci/run).
.PHONY: test build fuzz bench

test:
	./scripts/test.sh

build:
	go build -o minewatch ./cmd/minewatch

# Each fuzz target for FUZZTIME (default 1m); see RELIABILITY.md for longer runs.
FUZZTIME ?= 1m
fuzz:
	./scripts/fuzz.sh $(FUZZTIME)

bench:
	go test -run '^$$' -bench . -benchmem ./...
