#!/usr/bin/env bash
# The whole test suite, as CI runs it: formatting, vet, staticcheck, then every
# test with the race detector. It installs and starts what the tests need by
# itself: staticcheck, Debian's Chromium (browser tests) and Mailpit (SMTP).
set -euo pipefail
cd "$(dirname "$0")/.."

export PATH="$(go env GOPATH)/bin:$PATH"
if ! command -v staticcheck >/dev/null 2>&1; then
	echo "== installing staticcheck"
	go install honnef.co/go/tools/cmd/staticcheck@v0.8.2
fi

echo "== gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.git/*'))
if [ -n "$unformatted" ]; then
	echo "gofmt would change:"; echo "$unformatted"; exit 1
fi

echo "== go vet"
go vet ./...

echo "== staticcheck"
staticcheck ./...

echo "== test servers: Chromium (browser tests), Mailpit (mail tests)"
./scripts/chromium.sh
eval "$(./scripts/mailpit.sh)"
trap './scripts/mailpit.sh stop' EXIT
export MINEWATCH_ARTIFACTS="${MINEWATCH_ARTIFACTS:-$PWD/artifacts}"
mkdir -p "$MINEWATCH_ARTIFACTS"

echo "== go test -race"
go test -race -count=1 -timeout 15m ./...
