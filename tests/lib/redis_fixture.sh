#!/bin/bash
# A private, real redis-server for one shell or Python test.
#
# Source it and call:
#   redis_fixture_start [--aof yes|no] [--fsync always|everysec|no]
#                       [--password P] [--user U]
# It starts redis-server on a free loopback port (never 6379) in a new temp
# dir, waits for PING, prints "PORT DIR" and sets REDIS_PORT, REDIS_DIR,
# REDIS_PID, REDIS_ADDR (host:port), REDIS_PASSWORD, REDIS_USER.  An EXIT/INT/
# TERM trap kills it and removes the dir, even when the test fails.  The trap
# replaces an EXIT trap the caller set before: a caller with its own cleanup
# sets its trap after this call and runs redis_fixture_stop from it.
#   redis_fixture_kill [-9]   stop it, keep the dir (AOF) for a restart
#   redis_fixture_restart     start again on the same port and dir
#   redis_fixture_cli ARGS    redis-cli against it, authenticated
#   redis_fixture_stop        kill it and remove the dir (also done by the trap)
#
# Run directly, it wraps a command (for Python and other tests):
#   tests/lib/redis_fixture.sh [options] -- CMD ARGS...
# runs CMD with the variables above in its environment, then cleans up and
# exits with CMD's status.

redis_fixture__wait() {
	local i
	for ((i = 0; i < 500; i++)); do
		if ! kill -0 "$REDIS_PID" 2>/dev/null; then
			return 1
		fi
		if [ "$(redis_fixture_cli PING 2>/dev/null)" = PONG ]; then
			return 0
		fi
		sleep 0.02
	done
	echo "redis_fixture: no PONG from port $REDIS_PORT within 10 s (log: $REDIS_DIR/redis.log)" >&2
	return 1
}

redis_fixture__spawn() {
	redis-server "$REDIS_DIR/redis.conf" </dev/null >/dev/null 2>&1 &
	REDIS_PID=$!
	redis_fixture__wait
}

redis_fixture_cli() {
	local auth=()
	if [ -n "$REDIS_USER" ]; then
		auth=(--user "$REDIS_USER" --pass "$REDIS_PASSWORD")
	elif [ -n "$REDIS_PASSWORD" ]; then
		auth=(--pass "$REDIS_PASSWORD")
	fi
	redis-cli --no-auth-warning -h 127.0.0.1 -p "$REDIS_PORT" "${auth[@]}" "$@"
}

redis_fixture_start() {
	local aof=yes fsync=always
	REDIS_PASSWORD="" REDIS_USER=""
	while [ $# -gt 0 ]; do
		case "$1" in
		--aof) aof=$2; shift 2 ;;
		--fsync) fsync=$2; shift 2 ;;
		--password) REDIS_PASSWORD=$2; shift 2 ;;
		--user) REDIS_USER=$2; shift 2 ;;
		*) echo "redis_fixture_start: unknown option $1" >&2; return 2 ;;
		esac
	done
	if [ -n "$REDIS_USER" ] && [ -z "$REDIS_PASSWORD" ]; then
		echo "redis_fixture_start: ACL user $REDIS_USER needs --password" >&2
		return 2
	fi
	REDIS_DIR=$(mktemp -d "${TMPDIR:-/tmp}/teishi-redis-XXXXXX") || return 1
	trap redis_fixture_stop EXIT
	trap 'redis_fixture_stop; exit 130' INT
	trap 'redis_fixture_stop; exit 143' TERM
	local try
	for ((try = 0; try < 10; try++)); do
		REDIS_PORT=$((20000 + RANDOM % 40000))
		[ "$REDIS_PORT" = 6379 ] && continue
		{
			echo "port $REDIS_PORT"
			echo "bind 127.0.0.1"
			echo "dir $REDIS_DIR"
			echo "logfile $REDIS_DIR/redis.log"
			echo "daemonize no"
			echo 'save ""'
			echo "appendonly $aof"
			echo "appendfsync $fsync"
			if [ -n "$REDIS_USER" ]; then
				# Not "user default off": Redis 7.0 replays AOF transactions
				# with the default user's rights, and an EXEC it may not run
				# is dropped on load (silent loss; valkey-io/valkey#3984).
				# So default keeps +@all behind a password nobody knows.
				echo "user default on >$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n') ~* &* +@all"
				echo "user $REDIS_USER on >$REDIS_PASSWORD ~* &* +@all"
			elif [ -n "$REDIS_PASSWORD" ]; then
				echo "requirepass $REDIS_PASSWORD"
			fi
		} >"$REDIS_DIR/redis.conf"
		if redis_fixture__spawn; then
			REDIS_ADDR=127.0.0.1:$REDIS_PORT
			export REDIS_PORT REDIS_DIR REDIS_PID REDIS_ADDR REDIS_PASSWORD REDIS_USER
			echo "$REDIS_PORT $REDIS_DIR"
			return 0
		fi
		kill -9 "$REDIS_PID" 2>/dev/null
		wait "$REDIS_PID" 2>/dev/null
	done
	echo "redis_fixture_start: cannot start redis-server (see $REDIS_DIR/redis.log)" >&2
	return 1
}

redis_fixture_kill() {
	[ -n "${REDIS_PID:-}" ] || return 0
	if [ "${1:-}" = -9 ]; then
		kill -9 "$REDIS_PID" 2>/dev/null
	else
		kill "$REDIS_PID" 2>/dev/null
	fi
	wait "$REDIS_PID" 2>/dev/null
	REDIS_PID=""
}

redis_fixture_restart() {
	[ -z "${REDIS_PID:-}" ] || return 1
	redis_fixture__spawn
}

redis_fixture_stop() {
	redis_fixture_kill -9
	if [ -n "${REDIS_DIR:-}" ] && [ -d "$REDIS_DIR" ]; then
		rm -rf "$REDIS_DIR"
	fi
	REDIS_DIR=""
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	opts=()
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		opts+=("$1")
		shift
	done
	[ "$1" = -- ] && shift
	if [ $# -eq 0 ]; then
		echo "usage: $0 [--aof yes|no] [--fsync MODE] [--password P] [--user U] -- CMD ARGS..." >&2
		exit 2
	fi
	redis_fixture_start "${opts[@]}" >/dev/null || exit 1
	"$@"
	rc=$?
	redis_fixture_stop
	exit $rc
fi
