#!/usr/bin/env bash
# api.sh: throughput and latency of validate, join and end through nginx, beside nginx serving a small static file.
#
# A stack (deploy/stack.sh) runs in a temp dir on a free port. Its API rate
# limit is raised to 1000000r/s for the run, since every request comes from
# one address; everything else is the configuration make run uses.
#   1. wrk, closed loop (BENCH_SECONDS s, BENCH_CONNS connections, best of
#      BENCH_ROUNDS): requests/s, p50/p99 and CPU per request (nginx's workers,
#      the program's workers) for a static file, validate, join (a participant
#      who has joined already) and end (a session that has ended: the
#      settlement is read back); ratios to the static file. Beside them the
#      floor: build/bench/fcgi-null in api-health's place, as many workers as
#      validate, answering validate's request at once with as many bytes, so
#      the target line shows how much of the gap nginx and libfcgi take.
#   2. bench/paced.js, open loop at BENCH_RATE requests/s (best of
#      BENCH_ROUNDS): p50/p99 of validate, join and end as above.
# First joins and settling ends (real writes) are bench/settle.sh's.
# Targets: validate >= 50 % of the static file's requests/s; p99 < 5 ms at 1,000 requests/s.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${BENCH_SECONDS:-5}
conns=${BENCH_CONNS:-32}
rate=${BENCH_RATE:-1000}
rounds=${BENCH_ROUNDS:-3}

for tool in wrk node curl sqlite3 spawn-fcgi; do
	command -v "$tool" >/dev/null || { echo "api.sh: $tool is missing (make test-deps)" >&2; exit 1; }
done

. bench/stack.bash
field() { sed -n "s/.*\"$1\" *: *\"\\([^\"]*\\)\".*/\\1/p"; }

# One session each for the repeated paths.
ctl user add "Bench Customer" --balance 1000000.00 >/dev/null
ctl astrologer add "Bench Astrologer" >/dev/null
book() { ctl book --user "Bench Customer" --astrologer "Bench Astrologer" --type chat --minutes 30 --price 1.00; }
post() { curl -sf -o /dev/null -H 'Content-Type: application/json' -d "{\"token\":\"$2\"}" "$base/api/sessions/$1"; }
b=$(book); vtok=$(echo "$b" | field userToken)
b=$(book); jtok=$(echo "$b" | field userToken); post join "$jtok"
b=$(book); etok=$(echo "$b" | field userToken); atok=$(echo "$b" | field astrologerToken)
post join "$etok"; post join "$atok"; post end "$etok"
static=/session.html
static_bytes=$(curl -sf "$base$static" | wc -c)

make -s build/bench/fcgi-null >/dev/null
null_bytes=$(curl -sf -H 'Content-Type: application/json' -d "{\"token\":\"$vtok\"}" \
	"$base/api/sessions/validate" | wc -c)
health_pids=$(cat "$dir/api-health.pid")
kill $health_pids
for _ in $(seq 50); do
	kill -0 $health_pids 2>/dev/null || break
	sleep 0.1
done
rm -f "$dir/api-health.sock"
spawn-fcgi -F "${SESSIONS_API_WORKERS:-4}" -s "$dir/api-health.sock" -P "$dir/null.pid" -- \
	build/bench/fcgi-null "$null_bytes" >/dev/null
# stack.sh stops only what names the state dir; these are stopped here.
trap 'kill $(cat "$dir/null.pid") 2>/dev/null; cleanup' EXIT

# wrk's latency lines are "50%  1.23ms": print them in ms.
to_ms() { awk '{ v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v);
	if (u == "us") v /= 1000; else if (u == "s") v *= 1000; else if (u == "m") v *= 60000; printf "%.2f", v }'; }

# CPU time (clock ticks) used so far by nginx's workers and by one program's workers.
ticks() { # pid...
	local t=0 p
	for p in "$@"; do
		[ -r "/proc/$p/stat" ] && t=$((t + $(awk '{ print $14 + $15 }' "/proc/$p/stat")))
	done
	echo "$t"
}
hz=$(getconf CLK_TCK)
nginx_pids=$(pgrep -P "$(cat "$dir/nginx.pid")" | tr '\n' ' ')

# The best of $rounds runs, taken in turns with the others: the machine may be
# busy with something else now and then, and the best run is the least disturbed.
declare -A rps p50 p99 cpu_nginx cpu_prog
run_wrk() { # name url [body]
	local out r n0 p0 n1 p1 prog_pids="" reqs
	case $1 in
	static) ;;
	null) prog_pids=$(cat "$dir/null.pid") ;;
	*) prog_pids=$(cat "$dir/api-$1.pid") ;;
	esac
	n0=$(ticks $nginx_pids); p0=$(ticks $prog_pids)
	if [ $# -ge 3 ]; then
		out=$(BENCH_BODY=$3 wrk -t2 -c"$conns" -d"${seconds}s" --latency -s bench/post.lua "$2")
	else
		out=$(wrk -t2 -c"$conns" -d"${seconds}s" --latency "$2")
	fi
	n1=$(ticks $nginx_pids); p1=$(ticks $prog_pids)
	if echo "$out" | grep -q 'Non-2xx'; then
		echo "api.sh: $1 had answers other than 200:" >&2
		echo "$out" | grep -E 'Non-2xx|Socket errors' >&2
		exit 1
	fi
	r=$(echo "$out" | awk '/^Requests\/sec/ { printf "%d", $2 }')
	[ "${rps[$1]:-0}" -ge "$r" ] && return 0
	rps[$1]=$r
	p50[$1]=$(echo "$out" | grep -E '^ +50%' | to_ms)
	p99[$1]=$(echo "$out" | grep -E '^ +99%' | to_ms)
	reqs=$(echo "$out" | awk '/requests in/ { print $1 }')
	cpu_nginx[$1]=$(awk -v t=$((n1 - n0)) -v n="$reqs" -v hz="$hz" 'BEGIN { printf "%.1f", t / hz * 1e6 / n }')
	cpu_prog[$1]=$(awk -v t=$((p1 - p0)) -v n="$reqs" -v hz="$hz" 'BEGIN { printf "%.1f", t / hz * 1e6 / n }')
}

echo "stack on $base; API rate limit raised to 1000000r/s for this run"
echo "wrk: ${seconds}s, 2 threads, $conns connections, best of $rounds; static file $static ($static_bytes bytes)"
echo "null: a FastCGI program answering validate's request at once with $null_bytes bytes, as validate's answer"
for _ in $(seq "$rounds"); do
	run_wrk static "$base$static"
	run_wrk validate "$base/api/sessions/validate" "{\"token\":\"$vtok\"}"
	run_wrk null "$base/api/health" "{\"token\":\"$vtok\"}"
	run_wrk join "$base/api/sessions/join" "{\"token\":\"$jtok\"}"
	run_wrk end "$base/api/sessions/end" "{\"token\":\"$etok\"}"
done
printf '%-10s %10s %9s %9s %8s %14s %14s\n' what 'req/s' 'p50 ms' 'p99 ms' 'ratio' 'nginx us/req' 'program us/req'
for k in static validate null join end; do
	printf '%-10s %10s %9s %9s %7s%% %14s %14s\n' "$k" "${rps[$k]}" "${p50[$k]}" "${p99[$k]}" \
		"$(awk -v a="${rps[$k]}" -v b="${rps[static]}" 'BEGIN { printf "%.0f", 100 * a / b }')" \
		"${cpu_nginx[$k]}" "$([ "$k" = static ] && echo - || echo "${cpu_prog[$k]}")"
done

echo
echo "paced (open loop) at $rate req/s for ${seconds}s, the run with the lowest p99 of $rounds;"
echo "worstLagMs is how late the client itself sent (high when the machine is busy elsewhere):"
declare -A best pp99
paced() { # name url source
	local j p
	j=$(node bench/paced.js "$2" "$rate" "$seconds" "$3")
	echo "$j" | grep -q '"statuses":{"200":[0-9]*}' || { echo "api.sh: $1: $j" >&2; exit 1; }
	p=$(echo "$j" | sed -n 's/.*"p99":\([0-9.]*\).*/\1/p')
	if [ -z "${pp99[$1]:-}" ] || awk -v a="$p" -v b="${pp99[$1]}" 'BEGIN { exit !(a < b) }'; then
		pp99[$1]=$p
		best[$1]=$j
	fi
}
for _ in $(seq "$rounds"); do
	paced validate "$base/api/sessions/validate" "{\"token\":\"$vtok\"}"
	paced 'join (repeat)' "$base/api/sessions/join" "{\"token\":\"$jtok\"}"
	paced 'end (repeat)' "$base/api/sessions/end" "{\"token\":\"$etok\"}"
done
for k in validate 'join (repeat)' 'end (repeat)'; do
	printf '%-22s %s\n' "$k" "${best[$k]}"
done

echo
ratio=$(awk -v a="${rps[validate]}" -v b="${rps[static]}" 'BEGIN { printf "%.0f", 100 * a / b }')
verdict() { if [ "$1" = 1 ]; then echo met; else echo MISSED; fi; }
null_ratio=$(awk -v a="${rps[null]}" -v b="${rps[static]}" 'BEGIN { printf "%.0f", 100 * a / b }')
echo "target validate >= 50% of static req/s: ${ratio}% -> $(verdict "$(awk -v r="$ratio" 'BEGIN { print (r >= 50) }')")" \
	"(a program that answers at once: ${null_ratio}%; validate reaches $(awk -v a="${rps[validate]}" -v b="${rps[null]}" 'BEGIN { printf "%.0f", 100 * a / b }')% of it)"
for k in validate 'join (repeat)' 'end (repeat)'; do
	echo "target p99 < 5 ms at $rate req/s, $k: ${pp99[$k]} ms -> $(verdict "$(awk -v p="${pp99[$k]}" 'BEGIN { print (p < 5) }')")"
done
