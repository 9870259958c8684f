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
# Socket.IO peer stores nothing). The relay runs with its rate limit and its
# chat caps raised out of the way: this measures the relay, not its limits
# (at the default cap of 1,000 messages a participant the max runs would
# spend most of their time refusing).
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

. bench/pin.bash

wait_socket() {
	for _ in $(seq 100); do [ -S "$1" ] && return 0; sleep 0.05; done
	echo "relay.sh: no socket at $1" >&2
	exit 1
}

start() { # start relay|sio
	rm -f "$dir/$1.sock"
	if [ "$1" = relay ]; then
		SESSIONS_CHAT_MAX_MESSAGES=100000 SESSIONS_CHAT_MAX_BYTES=67108864 \
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
		if [ "$kind" = chat ]; then
			eval "${p}_chat_cpu=\$(field server_us_per_msg \"\$max\")"
			eval "${p}_chat_p99=\$(field p99_us \"\$rate\")"
		fi
		results+=("$(printf '%-6s %-18s %10s %12s %10s %12s %12s' "$p" "$label" \
			"$(field msgs_per_s "$max")" "$(field server_us_per_msg "$max")" \
			"$(field loadgen_cpu_pct "$max")%" "$(field p50_us "$rate")" "$(field p99_us "$rate")")")
	done
	stop_server
done

# An acknowledgement means the message is on disk: kill -9 the relay the moment a
# 2,000 msgs/s run ends; every message its sender saw acknowledged must be in the chat file.
durable=""
case " $kinds " in *" chat "*)
	rm -f "$dir"/relay.db* "$dir"/relay-chat.db*
	start relay
	out=$(run_load relay --kind chat --mode rate --rooms "$rooms" --rate 2000 --seconds 2)
	kill -9 "$server"
	wait "$server" 2>/dev/null || true
	server=""
	acked=$(field acked "$out")
	kept=$(sqlite3 "$dir/relay-chat.db" 'SELECT count(*) FROM chat_messages')
	echo "# relay chat kill -9: $out kept=$kept"
	durable="$acked acked, $kept in the chat file after kill -9"
	[ "$kept" -ge "$acked" ] && [ "$acked" -gt 0 ] && durable="$durable: met" || durable="$durable: missed"
	;;
esac

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

# The targets for stored chat, each with its figures, from this run.
met() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 <= b + 0) }' && echo met || echo missed; }
if [ -n "${relay_chat_cpu:-}" ] && [ -n "${sio_chat_cpu:-}" ]; then
	echo
	echo "targets (stored chat):"
	echo "  server CPU per stored message <= the Socket.IO peer's unstored chat:" \
		"$relay_chat_cpu us vs $sio_chat_cpu us: $(met "$relay_chat_cpu" "$sio_chat_cpu")"
	echo "  p99 one-way at 2,000 msgs/s < 2,000 us: $relay_chat_p99 us: $(met "$relay_chat_p99" 1999)"
	echo "  acknowledged only once durable: $durable"
fi
