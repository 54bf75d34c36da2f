#!/usr/bin/env bash
# Starts a Mailpit SMTP test server on 127.0.0.1 for the mail, digest and
# alert tests, and prints the environment the tests read:
#
#   eval "$(scripts/mailpit.sh)"      # start (or reuse) and export
#   go test -race ./mail/... ./digest/... ./alert/...
#   scripts/mailpit.sh stop           # stop the server this script started
#
# It is idempotent: a server it started earlier and that still answers is
# reused, so running it twice prints the same ports. Mailpit is installed with
# `go install github.com/axllent/mailpit@v1.33.1` when it is not on PATH.
# State (pid, ports, database, log) lives in $MINEWATCH_MAILPIT_DIR, default
# ${TMPDIR:-/tmp}/minewatch-mailpit-$UID.
set -euo pipefail

VERSION=v1.33.1
STATE=${MINEWATCH_MAILPIT_DIR:-${TMPDIR:-/tmp}/minewatch-mailpit-$(id -u)}
mkdir -p "$STATE"
export PATH="$(go env GOPATH)/bin:$PATH"

alive() {
	[ -f "$STATE/pid" ] && [ -f "$STATE/env" ] || return 1
	local pid
	pid=$(cat "$STATE/pid")
	kill -0 "$pid" 2>/dev/null || return 1
	# shellcheck disable=SC1091
	. "$STATE/env"
	curl -fsS -o /dev/null "$MINEWATCH_TEST_MAILPIT/api/v1/info" 2>/dev/null
}

port_free() {
	! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

pick_port() {
	local p
	for _ in $(seq 1 200); do
		p=$((20000 + RANDOM % 40000))
		if port_free "$p"; then
			echo "$p"
			return 0
		fi
	done
	echo "mailpit.sh: no free port found" >&2
	return 1
}

case "${1:-start}" in
stop)
	if [ -f "$STATE/pid" ]; then
		kill "$(cat "$STATE/pid")" 2>/dev/null || true
		rm -f "$STATE/pid" "$STATE/env"
	fi
	exit 0
	;;
start) ;;
*)
	echo "usage: $0 [start|stop]" >&2
	exit 2
	;;
esac

if ! alive; then
	if ! command -v mailpit >/dev/null 2>&1; then
		echo "mailpit.sh: installing mailpit $VERSION" >&2
		go install "github.com/axllent/mailpit@$VERSION" >&2
	fi
	smtp=$(pick_port)
	http=$(pick_port)
	while [ "$http" = "$smtp" ]; do http=$(pick_port); done
	rm -f "$STATE/mailpit.db"*
	nohup mailpit --disable-version-check \
		--smtp "127.0.0.1:$smtp" --listen "127.0.0.1:$http" \
		--database "$STATE/mailpit.db" --smtp-auth-accept-any --smtp-auth-allow-insecure \
		>"$STATE/mailpit.log" 2>&1 </dev/null &
	echo $! >"$STATE/pid"
	cat >"$STATE/env" <<EOF
MINEWATCH_TEST_SMTP=127.0.0.1:$smtp
MINEWATCH_TEST_MAILPIT=http://127.0.0.1:$http
EOF
	for _ in $(seq 1 100); do
		if curl -fsS -o /dev/null "http://127.0.0.1:$http/api/v1/info" 2>/dev/null; then
			break
		fi
		sleep 0.1
	done
	if ! alive; then
		echo "mailpit.sh: mailpit did not start; see $STATE/mailpit.log" >&2
		exit 1
	fi
fi

# shellcheck disable=SC1091
. "$STATE/env"
echo "export MINEWATCH_TEST_SMTP=$MINEWATCH_TEST_SMTP"
echo "export MINEWATCH_TEST_MAILPIT=$MINEWATCH_TEST_MAILPIT"
