#!/usr/bin/env bash
# settle.sh: first joins and settling ends through nginx, paced at 1,000 requests/s for 10 s, without and with a webhook endpoint.
#
# A stack (bench/stack.bash) on every core, as on the VPS it is sized for;
# the load generator shares them. BENCH_PIN=1 pins the stack to core 0 and
# the load to core 1 instead (the figures then say what one core carries).
# Each round books BENCH_RATE x BENCH_SETTLE_SECONDS fresh sessions
# (build/bench/book), then, each open loop at BENCH_RATE requests/s:
#   1. every customer joins (first joins: a write each)       -> p50/p99
#   2. every astrologer joins (the sessions become active)    -> not scored
#   3. every customer ends (each end settles its own session)  -> p50/p99
# Then with a webhook endpoint added, so each settlement also writes its
# outbox row and the deliverer posts it (to bench/hook-sink.js, which
# answers 200 at once, beside the load generator). Best of BENCH_ROUNDS
# rounds each.
# Afterwards: every session of every round must have exactly one settlement,
# every end must have answered 200, and sessionctl ledger check must pass.
# Targets: ends p99 < 25 ms; first joins p99 < 10 ms.
set -euo pipefail
cd "$(dirname "$0")/.."

rate=${BENCH_RATE:-1000}
seconds=${BENCH_SETTLE_SECONDS:-10}
rounds=${BENCH_ROUNDS:-2}
n=$((rate * seconds))

for tool in node curl sqlite3; do
	command -v "$tool" >/dev/null || { echo "settle.sh: $tool is missing (make test-deps)" >&2; exit 1; }
done
pin_server="" pin_load=""
if [ "${BENCH_PIN:-0}" = 1 ] && [ "$(nproc)" -ge 2 ]; then
	pin_server="taskset -c 0" pin_load="taskset -c 1"
fi

# The receiver is on loopback: the deliverer may post there for this run.
export SESSIONS_WEBHOOK_ALLOW_PRIVATE=1
. bench/stack.bash
$pin_load node bench/hook-sink.js "$dir/sink.port" > "$dir/sink.count" &
sink=$!
trap 'kill "$sink" 2>/dev/null || true; cleanup' EXIT

user="Bench Customer" astrologer="Bench Astrologer"
ctl user add "$user" --balance 1000000.00 >/dev/null
ctl astrologer add "$astrologer" >/dev/null

declare -A best p99
paced() { # name path tokenfile: a run, kept when its p99 is the lowest so far
	local j p
	j=$($pin_load node bench/paced.js "$base/api/sessions/$2" "$rate" "$seconds" "@$3")
	echo "$j" | grep -q "\"statuses\":{\"200\":$n}" || { echo "settle.sh: $1: $j" >&2; exit 1; }
	p=$(echo "$j" | sed -n 's/.*"p99":\([0-9.]*\).*/\1/p')
	if [ -z "${p99[$1]:-}" ] || awk -v a="$p" -v b="${p99[$1]}" 'BEGIN { exit !(a < b) }'; then
		p99[$1]=$p
		best[$1]=$j
	fi
}

echo "stack on $base (${pin_server:-not pinned}); load ${pin_load:-not pinned}; $n sessions a round at $rate req/s for ${seconds}s, best of $rounds"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
total=0
for hooks in none endpoint; do
	if [ "$hooks" = endpoint ]; then
		ctl webhook add "http://127.0.0.1:$(cat "$dir/sink.port")/hook" >/dev/null
	fi
	for r in $(seq "$rounds"); do
		build/bench/book "$SESSIONS_DB" "$user" "$astrologer" "$n" > "$dir/tokens"
		cut -d' ' -f1 "$dir/tokens" > "$dir/users"
		cut -d' ' -f2 "$dir/tokens" > "$dir/astrologers"
		total=$((total + n))
		paced "first join, webhooks $hooks" join "$dir/users"
		$pin_load node bench/paced.js "$base/api/sessions/join" "$rate" "$seconds" "@$dir/astrologers" >/dev/null
		paced "end (settles), webhooks $hooks" end "$dir/users"
	done
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
# What the deliverer has not posted yet is left pending; it says nothing of the settlements.
sleep 2
kill "$sink"
wait "$sink" || true
for k in "first join, webhooks none" "end (settles), webhooks none" \
	 "first join, webhooks endpoint" "end (settles), webhooks endpoint"; do
	printf '%-34s %s\n' "$k" "${best[$k]}"
done

settled=$(sqlite3 "$SESSIONS_DB" "SELECT count(*) FROM settlements s JOIN webrtc_sessions w ON w.id = s.session_id
	WHERE w.status = 'completed' AND w.end_reason = 'user_ended'")
outbox=$(sqlite3 "$SESSIONS_DB" "SELECT count(*) FROM webhook_deliveries")
ctl ledger check >/dev/null && ledger=ok || ledger=FAILED
echo "settlements: $settled of $total sessions; ledger check: $ledger"
echo "webhook deliveries queued: $outbox; received by the endpoint by the end: $(cat "$dir/sink.count")"

verdict() { if awk -v p="$1" -v t="$2" 'BEGIN { exit !(p < t) }'; then echo met; else echo MISSED; fi; }
correct=MISSED
[ "$settled" -eq "$total" ] && [ "$ledger" = ok ] && correct=met
echo "target every settlement correct (one per session, ledger check): $settled/$total, ledger $ledger -> $correct"
for hooks in none endpoint; do
	echo "target settling ends p99 < 25 ms at $rate/s for ${seconds}s, webhooks $hooks: ${p99["end (settles), webhooks $hooks"]} ms -> $(verdict "${p99["end (settles), webhooks $hooks"]}" 25)"
	echo "target first joins p99 < 10 ms at $rate/s, webhooks $hooks: ${p99["first join, webhooks $hooks"]} ms -> $(verdict "${p99["first join, webhooks $hooks"]}" 10)"
done
