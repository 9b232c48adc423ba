#!/usr/bin/env bash
# Starts the services the integration tests need when they are not already
# running, and stops again only what it started.
#   scripts/services.sh up     start PostgreSQL (127.0.0.1:5432) and MariaDB (127.0.0.1:3306) if down
#   scripts/services.sh down   stop what 'up' started
set -euo pipefail
state="${TMPDIR:-/tmp}/herald-test-services.started"

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_for() {
	for _ in $(seq 1 60); do listening "$1" && return 0; sleep 0.5; done
	echo "services: nothing listens on 127.0.0.1:$1 after 30s" >&2
	return 1
}

up() {
	: >"$state"
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
	rm -f "$state"
}

case "${1:-}" in
up) up ;;
down) down ;;
*) echo "usage: $0 up|down" >&2; exit 2 ;;
esac
