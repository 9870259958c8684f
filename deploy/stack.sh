#!/bin/sh
# stack.sh: starts or stops one development stack (API programs, relay, webhook deliverer, nginx) kept in a state dir.
#
# Usage: stack.sh start VAR PORT    starts everything on ADDR:PORT, waits
#                                   until each part answers, exits 0 (or stops
#                                   what it started and exits 1)
#        stack.sh stop VAR          stops every process a start in VAR began
#
# The database is VAR/sessions.db; sockets, pids, logs, nginx's rendered
# config and temp files, and the session page with the version of its files
# (VAR/page/session.html, console.html) all live in VAR, so several stacks can run side by
# side. A change to html/css or html/js takes a restart to reach browsers. Environment (all optional):
#   SESSIONS_API_WORKERS  FastCGI workers per read-only endpoint (4)
#   SESSIONS_API_WRITERS  FastCGI workers per endpoint that writes: join, end, v1 (1)
#   SESSIONS_API_RATE     API requests per client address (10r/s)
#   SESSIONS_API_BURST    requests over the rate served at once (20)
#   SESSIONS_WS_CONN      WebSocket connections per client address (20)
#   SESSIONS_LISTEN_ADDR  the IPv4 address nginx listens on (127.0.0.1); pages
#                         served there may open the relay from it too
# SESSIONS_MINUTE_MS, SESSIONS_ICE_SERVERS, SESSIONS_COMMISSION_BPS,
# SESSIONS_PUBLIC_URL and SESSIONS_WEBHOOK_* pass through to the programs.
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
bin=$root/build/bin

die() { echo "stack.sh: $*" >&2; exit 1; }

# A pid counts as ours only while its command line names this state dir, so
# a stale pid file never makes us signal a stranger that reused the number.
ours() {
	[ -r "/proc/$1/cmdline" ] && tr '\0' ' ' < "/proc/$1/cmdline" | grep -qF -- "$var/"
}

# Signals the pids listed in the given files, waits up to 5 s, then kills.
stop_pids() {
	pids=""
	for f in "$@"; do
		[ -f "$f" ] || continue
		for p in $(cat "$f"); do
			case "$p" in *[!0-9]*|'') continue ;; esac
			ours "$p" && pids="$pids $p"
		done
	done
	[ -n "$pids" ] || return 0
	kill -TERM $pids 2>/dev/null || true
	i=0
	while [ $i -lt 50 ]; do
		left=""
		for p in $pids; do ours "$p" && left="$left $p"; done
		[ -n "$left" ] || return 0
		sleep 0.1
		i=$((i + 1))
	done
	kill -KILL $left 2>/dev/null || true
}

stop() {
	stop_pids "$var/nginx.pid"
	stop_pids "$var/relay.pid"
	stop_pids "$var/webhooks.pid"
	stop_pids "$var"/api-*.pid
	rm -f "$var/nginx.pid" "$var/relay.pid" "$var/webhooks.pid" "$var"/api-*.pid "$var"/api-*.sock \
		"$var/relay.sock"
}

# Waits up to 10 s for a command to succeed.
wait_for() {
	i=0
	while ! "$@" 2>/dev/null; do
		i=$((i + 1))
		[ $i -lt 100 ] || return 1
		sleep 0.1
	done
}

http_code() {
	curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://$addr:$port$1" || true
}
health_ok() { [ "$(http_code /api/health)" = 200 ]; }
nginx_up() { [ "$(http_code /)" != 000 ]; }

start() {
	case "$port" in ''|*[!0-9]*) die "PORT must be a number" ;; esac
	[ "$port" -ge 1 ] && [ "$port" -le 65535 ] || die "PORT must be 1..65535"
	# The paths go into nginx's configuration through sed and unquoted.
	case "$var$root" in *[!A-Za-z0-9_./-]*) die "paths may only hold A-Z a-z 0-9 _ . / -" ;; esac
	case "$addr" in ''|*[!0-9.]*) die "SESSIONS_LISTEN_ADDR must be an IPv4 address" ;; esac
	for f in "$var/nginx.pid" "$var/relay.pid" "$var/webhooks.pid" "$var"/api-*.pid; do
		[ -f "$f" ] || continue
		for p in $(cat "$f"); do
			ours "$p" && die "a stack already runs in $var (stack.sh stop $var)"
		done
	done
	ls "$bin"/api-* >/dev/null 2>&1 || die "no API programs in $bin: run make"

	mkdir -p "$var/tmp" "$var/page"
	version=$(sh "$root/deploy/page-version.sh" "$root/html")
	for page in session console; do
		sed "s|@VERSION@|$version|g" "$root/html/$page.html" > "$var/page/$page.html"
	done
	user="# nginx runs as the invoking user"
	[ "$(id -u)" -ne 0 ] || user="user root root;"
	sed -e "s|@VAR@|$var|g" -e "s|@HTML@|$root/html|g" -e "s|@PAGE@|$var/page|g" -e "s|@PORT@|$port|g" -e "s|@ADDR@|$addr|g" \
	    -e "s|@API_RATE@|${SESSIONS_API_RATE:-10r/s}|g" \
	    -e "s|@API_BURST@|${SESSIONS_API_BURST:-20}|g" \
	    -e "s|@WS_CONN@|${SESSIONS_WS_CONN:-20}|g" \
	    -e "s|@USER@|$user|g" "$root/nginx/dev.conf.in" > "$var/nginx.conf"
	nginx -t -q -p "$var/" -e "$var/nginx-error.log" -c "$var/nginx.conf" ||
		die "nginx refused $var/nginx.conf"

	trap 'stop' EXIT
	db=$var/sessions.db
	for prog in "$bin"/api-*; do
		name=${prog##*/api-}
		# SQLite takes one writer at a time: workers of one endpoint that
		# wait on each other's write lock re-read what the other wrote and
		# nap in turns, which doubled the CPU of each settlement. One
		# worker, as the systemd units run every endpoint, queues the
		# requests on its socket instead.
		case $name in
		join|end|v1) workers=${SESSIONS_API_WRITERS:-1} ;;
		*) workers=${SESSIONS_API_WORKERS:-4} ;;
		esac
		# spawn-fcgi sends the workers' stderr to /dev/null: keep it in a log.
		LOG=$var/api-$name.log spawn-fcgi -F "$workers" -s "$var/api-$name.sock" \
			-P "$var/api-$name.pid" -- /bin/sh -c 'exec "$0" "$@" 2>>"$LOG"' \
			"$prog" --db "$db" >/dev/null 2>"$var/spawn.err" ||
			{ cat "$var/spawn.err" >&2; die "api-$name did not start"; }
	done
	if [ -x "$bin/relay" ]; then
		"$bin/relay" --db "$db" --socket "$var/relay.sock" \
			--origin "http://127.0.0.1:$port" --origin "http://localhost:$port" --origin "http://$addr:$port" \
			>>"$var/relay.log" 2>&1 &
		echo $! > "$var/relay.pid"
	fi
	if [ -x "$bin/sessions-webhooks" ]; then
		"$bin/sessions-webhooks" --db "$db" >>"$var/webhooks.log" 2>&1 &
		echo $! > "$var/webhooks.pid"
	fi
	nginx -p "$var/" -e "$var/nginx-error.log" -c "$var/nginx.conf" ||
		die "nginx did not start (port $port taken?)"

	wait_for nginx_up || die "nginx does not answer on $addr:$port"
	if [ -x "$bin/api-health" ]; then
		wait_for health_ok || die "GET /api/health did not answer 200"
	fi
	if [ -x "$bin/relay" ]; then
		wait_for test -S "$var/relay.sock" || die "the relay made no socket"
	fi
	if [ -f "$var/webhooks.pid" ]; then
		ours "$(cat "$var/webhooks.pid")" || die "sessions-webhooks stopped: $(tail -n 1 "$var/webhooks.log")"
	fi
	rm -f "$var/spawn.err"
	trap - EXIT
}

[ $# -ge 2 ] || die "usage: stack.sh start VAR PORT | stack.sh stop VAR"
mkdir -p "$2"
var=$(cd "$2" && pwd)
case "$1" in
start)
	[ $# -eq 3 ] || die "usage: stack.sh start VAR PORT"
	port=$3
	addr=${SESSIONS_LISTEN_ADDR:-127.0.0.1}
	start
	;;
stop)
	stop
	;;
*) die "usage: stack.sh start VAR PORT | stack.sh stop VAR" ;;
esac
