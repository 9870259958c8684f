# race.test.sh: many processes ending one session at once settle it exactly once.
. "$(dirname "$0")/../lib/tap.sh"
tap_tmpdir
export SESSIONS_DB="$TAP_TMP/s.db"
racers=${RACERS:-24}

sessionctl user add Asha --balance 10000.00 >/dev/null
sessionctl astrologer add Vega >/dev/null

# Starts "$@" in $racers processes (numbered in $RACER) that wait on one gate, opens it, waits for all.
race() {
	local out=$1; shift
	mkfifo "$TAP_TMP/gate"
	for i in $(seq "$racers"); do
		( read -r _ <"$TAP_TMP/gate"; RACER=$i "$@" >"$out.$i" 2>&1 ) &
	done
	sleep 0.3 # every racer is blocked on the gate
	exec 3>"$TAP_TMP/gate"; exec 3>&-
	wait
	rm -f "$TAP_TMP/gate"
}

active_session() {
	local sid
	sid=$(sessionctl book --user Asha --astrologer Vega --type "$1" --minutes "$2" \
		--price 30.00 | jq -r .sessionId)
	sessionctl join "$sid" --role user >/dev/null
	sessionctl join "$sid" --role astrologer >/dev/null
	echo "$sid"
}

for round in 1 2 3; do
	sid=$(active_session voice 30)
	race "$TAP_TMP/end$round" sessionctl end "$sid" --reason user_ended
	firsts=$(cat "$TAP_TMP/end$round".* | jq -s 'map(select(.alreadyEnded == false)) | length')
	distinct=$(cat "$TAP_TMP/end$round".* | jq -c 'del(.alreadyEnded)' | sort -u | wc -l)
	answered=$(cat "$TAP_TMP/end$round".* | jq -s 'length')
	check "round $round: $racers concurrent ends all answer" test "$answered" -eq "$racers"
	check "round $round: exactly one of them settled" test "$firsts" -eq 1
	check "round $round: every answer is the same settlement" test "$distinct" -eq 1
	check "round $round: one settlement row, one settle transaction" test \
		"$(sqlite3 "$SESSIONS_DB" "SELECT (SELECT count(*) FROM settlements WHERE session_id = '$sid')
		|| (SELECT count(*) FROM ledger_transactions WHERE session_id = '$sid' AND kind = 'settle')")" = 11
done

# End racing expire: a session whose paid time (1 minute of 100 ms) has run out.
export SESSIONS_MINUTE_MS=100 SESSIONS_GRACE_SECONDS=0
for round in 1 2 3; do
	sid=$(active_session chat 1)
	sleep 0.2
	racers=12 race "$TAP_TMP/mix$round" sh -c \
		'if [ $((RACER % 2)) -eq 0 ]; then sessionctl expire; else sessionctl end '"$sid"' --reason astrologer_ended; fi'
	settled=$(sqlite3 "$SESSIONS_DB" "SELECT count(*) FROM settlements WHERE session_id = '$sid'")
	reason=$(sessionctl show "$sid" | jq -r .endReason)
	ends_agree=$(cat "$TAP_TMP/mix$round".* | jq -s --arg r "$reason" \
		'map(select(has("reason"))) | all(.reason == $r)')
	check "round $round: end racing expire settles once ($reason)" test "$settled" -eq 1
	check "round $round: every end reports the one outcome" test "$ends_agree" = true
done
check "ledger check holds after the races" sh -c 'sessionctl ledger check >/dev/null'
tap_exit
