# crash.test.sh: kill -9 in the middle of settlements, many times; the money must still add up.
. "$(dirname "$0")/../lib/tap.sh"
tap_tmpdir
db="$TAP_TMP/s.db"
loop="$SESSIONS_TEST_ROOT/build/tests/settle_loop"
rounds=${CRASH_ROUNDS:-200}

sessionctl --db "$db" user add Asha --balance 1000000.00 >/dev/null
sessionctl --db "$db" astrologer add Vega >/dev/null

bad_integrity=0 bad_ledger=0 settled_before=0 progressed=0
for i in $(seq "$rounds"); do
	"$loop" "$db" Asha Vega 0 2>/dev/null &
	pid=$!
	# 10-40 ms: long enough to be inside a transaction most of the time
	sleep "0.0$((RANDOM % 30 + 10))"
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	[ "$(sqlite3 "$db" 'PRAGMA integrity_check')" = ok ] || bad_integrity=$((bad_integrity + 1))
	sessionctl --db "$db" ledger check >/dev/null 2>&1 || bad_ledger=$((bad_ledger + 1))
	settled=$(sqlite3 "$db" 'SELECT count(*) FROM settlements')
	[ "$settled" -gt "$settled_before" ] && progressed=$((progressed + 1))
	settled_before=$settled
done
echo "# $rounds kills, $settled_before settlements, $progressed rounds settled something"
check "integrity_check ok after each of $rounds kill -9s" test "$bad_integrity" -eq 0
check "ledger check holds after each of $rounds kill -9s" test "$bad_ledger" -eq 0
check "the loop really was settling when killed (most rounds made progress)" \
	test "$progressed" -gt $((rounds / 2))
check "no session is left half-ended (ended without a settlement)" \
	test "$(sqlite3 "$db" "SELECT count(*) FROM webrtc_sessions s WHERE status <> 'scheduled'
		AND status <> 'active' AND NOT EXISTS (SELECT 1 FROM settlements t WHERE t.session_id = s.id)")" = 0
tap_exit
