#!/usr/bin/env bash
# relay.sh: make bench for the relay, side by side with the Socket.IO comparison peer (bench/sio-peer.js).
#
# One C load generator (build/bench/relay-load) drives both servers over
# unix sockets: N rooms x 2 clients, traffic from each room's user to its
# astrologer. Server pinned to one core, load generator to another.
#   max:   every room keeps a window of messages in flight -> messages/s and
#          the server's CPU time per delivered message (/proc utime+stime)
#   rate:  2,000 messages/s in total -> one-way latency p50/p99
#   idle:  1,000 / 5,000 / 10,000 joined connections, a fresh server each
#          -> server RSS growth per connection
# Traffic kinds: signaling (ice-candidate frames, relayed, never stored) and
# chat (the relay stores every message in SQLite before delivering it; the
# Socket.IO peer stores nothing). The relay runs with its rate limit raised
# out of the way: this measures the relay, not its limiter.
# Env: BENCH_SECONDS (5), BENCH_ROOMS (50), BENCH_WINDOW (16), BENCH_IDLE ("1000 5000 10000";
# empty: none), BENCH_KINDS ("signal chat").
set -eu
cd "$(dirname "$0")/.."
load=build/bench/relay-load
secs=${BENCH_SECONDS:-5}
rooms=${BENCH_ROOMS:-50}
window=${BENCH_WINDOW:-16}
idle=${BENCH_IDLE-1000 5000 10000}
kinds=${BENCH_KINDS:-signal chat}
origin=http://127.0.0.1:9

dir=$(mktemp -d)
server=""
stop_server() {
	if [ -n "$server" ]; then
		kill "$server" 2>/dev/null || true
		wait "$server" 2>/dev/null || true
	fi
	server=""
}
trap 'stop_server; rm -rf "$dir"' EXIT

# 10,000 connections on each side need more descriptors than the default.
ulimit -n "$(ulimit -Hn)"
if [ "$(nproc)" -ge 2 ]; then
	pin_server="taskset -c 0" pin_load="taskset -c 1"
else
	pin_server="" pin_load=""
	echo "# one core only: server and load generator are not pinned apart"
fi

wait_socket() {
	for _ in $(seq 100); do [ -S "$1" ] && return 0; sleep 0.05; done
	echo "relay.sh: no socket at $1" >&2
	exit 1
}

start() { # start relay|sio
	rm -f "$dir/$1.sock"
	if [ "$1" = relay ]; then
		$pin_server build/bin/relay --db "$dir/relay.db" --socket "$dir/relay.sock" \
			--origin "$origin" --rate 10000000 --burst 10000000 2>>"$dir/relay.log" &
	else
		$pin_server node bench/sio-peer.js "$dir/sio.sock" 2>>"$dir/sio.log" &
	fi
	server=$!
	wait_socket "$dir/$1.sock"
}

run_load() { # run_load relay|sio ARGS...
	local p=$1
	shift
	$pin_load "$load" --socket "$dir/$p.sock" --proto "$p" --db "$dir/relay.db" --pid "$server" \
		--origin "$origin" "$@"
}

field() { # field NAME LINE
	sed -n "s/.*\\b$1=\\([^ ]*\\).*/\\1/p" <<<"$2"
}

# Other work on the machine skews throughput and latency (not CPU per message): say how busy it was.
echo "# load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
results=()
for p in relay sio; do
	start "$p"
	for kind in $kinds; do
		max=$(run_load "$p" --kind "$kind" --mode max --rooms "$rooms" --window "$window" --seconds "$secs")
		rate=$(run_load "$p" --kind "$kind" --mode rate --rooms "$rooms" --rate 2000 --seconds "$secs")
		echo "# $p $kind max:  $max"
		echo "# $p $kind rate: $rate"
		label=$kind
		[ "$kind" = chat ] && { [ "$p" = relay ] && label="chat (stored)" || label="chat (not stored)"; }
		results+=("$(printf '%-6s %-18s %10s %12s %10s %12s %12s' "$p" "$label" \
			"$(field msgs_per_s "$max")" "$(field server_us_per_msg "$max")" \
			"$(field loadgen_cpu_pct "$max")%" "$(field p50_us "$rate")" "$(field p99_us "$rate")")")
	done
	stop_server
done

mem=()
for p in relay sio; do
	for n in $idle; do
		start "$p"
		out=$(run_load "$p" --mode idle --rooms $((n / 2)))
		echo "# $p idle $n: $out"
		mem+=("$(printf '%-6s %12s %14s %14s' "$p" "$n" "$(field bytes_per_conn "$out")" \
			"$(field rss_after_kb "$out")")")
		stop_server
	done
done

echo "# load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "relay vs Socket.IO peer: $rooms rooms x 2 clients, ${secs} s a run, window $window (max), 2000 msg/s (latency)"
printf '%-6s %-18s %10s %12s %10s %12s %12s\n' server traffic "msgs/s" "cpu_us/msg" "loadgen" \
	"p50_us@2k" "p99_us@2k"
printf '%s\n' "${results[@]}"
echo
printf '%-6s %12s %14s %14s\n' server connections "bytes/conn" "rss_kb"
printf '%s\n' "${mem[@]}"
