#!/usr/bin/env bash
# Starts the services the integration tests need when they are not already
# running, and stops again only what it started.
#   scripts/services.sh tools  install the Debian tools the tests use (qpdf, poppler-utils, chromium)
#                              and the npm test services (tools/package.json: Azurite) when missing
#   scripts/services.sh up     start PostgreSQL (127.0.0.1:5432), MariaDB (127.0.0.1:3306) and
#                              Azurite Blob (127.0.0.1:10000) if down
#   scripts/services.sh down   stop what 'up' started
set -euo pipefail
state="${TMPDIR:-/tmp}/herald-test-services.started"
root="$(cd "$(dirname "$0")/.." && pwd)"
azurite_pid="${TMPDIR:-/tmp}/herald-test-azurite.pid"

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_for() {
	for _ in $(seq 1 60); do listening "$1" && return 0; sleep 0.5; done
	echo "services: nothing listens on 127.0.0.1:$1 after 30s" >&2
	return 1
}

tools() {
	local missing=()
	command -v qpdf >/dev/null 2>&1 || missing+=(qpdf)
	command -v pdftotext >/dev/null 2>&1 || missing+=(poppler-utils)
	command -v chromium >/dev/null 2>&1 || missing+=(chromium)
	if [ ${#missing[@]} -gt 0 ]; then
		echo "services: installing ${missing[*]} from Debian"
		local sudo=""
		[ "$(id -u)" -eq 0 ] || sudo="sudo"
		$sudo apt-get install -y -q "${missing[@]}" >/dev/null || {
			$sudo apt-get update -q >/dev/null && $sudo apt-get install -y -q "${missing[@]}" >/dev/null
		}
	fi
	if [ ! -x "$root/tools/node_modules/.bin/azurite-blob" ]; then
		echo "services: installing Azurite (npm ci in tools/)"
		(cd "$root/tools" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
	fi
}

up() {
	: >"$state"
	if ! listening 10000; then
		echo "services: starting Azurite Blob"
		"$root/tools/node_modules/.bin/azurite-blob" --blobHost 127.0.0.1 --blobPort 10000 --inMemoryPersistence \
			--disableTelemetry --skipApiVersionCheck --silent >"${TMPDIR:-/tmp}/herald-test-azurite.log" 2>&1 &
		echo $! >"$azurite_pid"
		echo azurite >>"$state"
		wait_for 10000
	fi
	if ! listening 5432; then
		if command -v pg_ctlcluster >/dev/null 2>&1; then
			echo "services: starting PostgreSQL"
			pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start
			echo postgres >>"$state"
			wait_for 5432
		else
			echo "services: PostgreSQL is not running and not installed; its tests fail when CI=true" >&2
		fi
	fi
	if ! listening 3306; then
		if [ -x /usr/sbin/mariadbd ]; then
			echo "services: starting MariaDB"
			start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
			echo mariadb >>"$state"
			wait_for 3306
		else
			echo "services: MariaDB is not running and not installed; its tests fail when CI=true" >&2
		fi
	fi
}

down() {
	[ -f "$state" ] || return 0
	if grep -qx postgres "$state"; then
		echo "services: stopping PostgreSQL"
		pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main stop || true
	fi
	if grep -qx mariadb "$state"; then
		echo "services: stopping MariaDB"
		start-stop-daemon --stop --oknodo --retry 30 --exec /usr/sbin/mariadbd || true
	fi
	if grep -qx azurite "$state" && [ -f "$azurite_pid" ]; then
		echo "services: stopping Azurite"
		kill "$(cat "$azurite_pid")" 2>/dev/null || true
		rm -f "$azurite_pid"
	fi
	rm -f "$state"
}

case "${1:-}" in
tools) tools ;;
up) up ;;
down) down ;;
*) echo "usage: $0 tools|up|down" >&2; exit 2 ;;
esac
