#!/usr/bin/env bash
# Runs every fuzz target in the module for the given time each (default 1m).
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime=${1:-1m}
for pkg in $(go list ./...); do
	for target in $(go test -list '^Fuzz' "$pkg" 2>/dev/null | grep '^Fuzz' || true); do
		echo "== $pkg $target ($fuzztime)"
		# Minimising every new coverage input costs up to 60 s each by default,
		# which starves slow targets (extraction ran 19 inputs in 10 minutes).
		go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" -fuzzminimizetime 5x "$pkg"
	done
done
