#!/usr/bin/env bash
# soak.bash: make soak: 10,000 joined connections on the real relay for ten minutes of chat and signaling, judged.
#
# 5,000 video rooms x 2 clients (build/bench/relay-load --mode soak). Each
# room's user sends, taking turns with the other rooms, signaling
# (ice-candidate frames, relayed) at SOAK_SIGNAL_RATE and chat (stored in
# the chat file, acknowledged after its commit) at SOAK_CHAT_RATE messages a second in
# total. Every message carries its room's sequence number for its kind;
# the astrologer's side checks them. Relay on one core, load generator on
# the other, the relay's default limits (0.4 frames a second a participant
# is far below them).
# Judged, after SOAK_WARMUP seconds of the same traffic:
#   RSS:     the relay's mean VmRSS (sampled every SOAK_SAMPLE s) in the last
#            interval within 5% of the first interval's
#   frames:  none lost, duplicated or out of order; every chat message
#            acknowledged and a row in the chat file at the end
#   latency: the last interval's p99 one-way within 1.5x of the first's
# Env: SOAK_SECONDS (600, after the warm-up), SOAK_WARMUP (60),
# SOAK_INTERVAL (60), SOAK_SAMPLE (5), SOAK_ROOMS (5000),
# SOAK_SIGNAL_RATE (2000), SOAK_CHAT_RATE (200), SOAK_PING_MS (0: none; the
# page pings every 2000 ms from each side), SOAK_RELAY_ARGS (more relay
# options). Latencies of a second or more show as 1000000 (the histogram's end).
set -eu
cd "$(dirname "$0")/.."
secs=${SOAK_SECONDS:-600}
warmup=${SOAK_WARMUP:-60}
interval=${SOAK_INTERVAL:-60}
sample=${SOAK_SAMPLE:-5}
rooms=${SOAK_ROOMS:-5000}
signal=${SOAK_SIGNAL_RATE:-2000}
chat=${SOAK_CHAT_RATE:-200}
ping=${SOAK_PING_MS:-0}
origin=http://127.0.0.1:9

dir=$(mktemp -d)
relay=""
trap '[ -n "$relay" ] && kill "$relay" 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"' EXIT

. bench/pin.bash

$pin_server build/bin/relay --db "$dir/relay.db" --socket "$dir/relay.sock" --origin "$origin" ${SOAK_RELAY_ARGS:-} \
	2>>"$dir/relay.log" &
relay=$!
for _ in $(seq 100); do [ -S "$dir/relay.sock" ] && break; sleep 0.05; done
[ -S "$dir/relay.sock" ] || { echo "soak: the relay did not start" >&2; cat "$dir/relay.log" >&2; exit 1; }

echo "# $(nproc) cores, $(awk '/MemTotal/ { print int($2 / 1024) " MB" }' /proc/meminfo);" \
	"load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# $((rooms * 2)) connections, signaling $signal/s, chat $chat/s, pings every ${ping} ms each, warm-up ${warmup} s, then ${secs} s"
started=$(date +%s)
# Each interval's line as it comes (to stderr, through the descriptor: reopening it would truncate a log file).
$pin_load build/bench/relay-load --socket "$dir/relay.sock" --proto relay --db "$dir/relay.db" \
	--pid "$relay" --origin "$origin" --mode soak --rooms "$rooms" --rate "$signal" --chat-rate "$chat" \
	--seconds "$secs" --warmup "$warmup" --interval "$interval" --sample "$sample" --ping-ms "$ping" | tee "$dir/load.out" >&2
out=$(cat "$dir/load.out")
kept=$(sqlite3 "$dir/relay-chat.db" 'SELECT count(*) FROM chat_messages')
echo "# load average after: $(cut -d' ' -f1-3 /proc/loadavg); $(( $(date +%s) - started )) s with joining"

summary=$(tail -n 1 <<<"$out")
field() { sed -n "s/.*\\b$1=\\([^ ]*\\).*/\\1/p" <<<"$summary"; }
verdict() { awk "BEGIN { exit !($1) }" && echo met || echo missed; }
chat_sent=$(field chat_sent)
echo
echo "interval  end_s  signal  chat   p50_us  p99_us   max_us  relay_cpu%  relay_rss_kb"
grep '^interval=' <<<"$out" | sed 's/\([a-z0-9_]*\)=//g' | awk '{
	w = ($3 == "warmup"); if (w) $3 = ""; $0 = $0
	printf "%-8s %6s %7s %5s %8s %7s %8s %11s %13s%s\n", $1, $2, $3, $4, $6, $7, $8, $9, $10, w ? "  warm-up" : "" }'
echo
echo "targets (soak):"
echo "  relay RSS growth after warm-up < 5%: $(field rss_first_kb) kB -> $(field rss_last_kb) kB," \
	"$(field rss_growth_pct)%: $(verdict "$(field rss_growth_pct) < 5")"
echo "  no frame lost or duplicated: $(field signal_sent) signaling + $chat_sent chat sent," \
	"lost $(field lost), duplicated $(field duplicated), out of order $(field out_of_order)," \
	"$(field chat_acked) chat acknowledged, $kept in the chat file:" \
	"$(verdict "$(field lost) == 0 && $(field duplicated) == 0 && $(field out_of_order) == 0 &&
		$(field chat_acked) == $chat_sent && $kept == $chat_sent")"
echo "  p99 steady (last interval <= 1.5x the first after warm-up): $(field p99_first_us) us ->" \
	"$(field p99_last_us) us: $(verdict "$(field p99_last_us) <= 1.5 * $(field p99_first_us)")"
