# cron.test.sh: the installed cron lines, run twice at once and beside API ends, settle every session exactly once.
. "$(dirname "$0")/lib.sh"
deploy_setup
dest=$TAP_TMP/root
make -s -C "$root" install PREFIX=/usr/local DESTDIR="$dest" >/dev/null || echo "not ok - make install"
db=$TAP_TMP/sessions.db
# A paid minute of 100 ms: sessions run out while the test watches.
printf 'database = %s\nminute_ms = 100\nvalid_after_minutes = 1\n' "$db" >"$TAP_TMP/sessions.conf"
export SESSIONS_CONF=$TAP_TMP/sessions.conf
unset SESSIONS_DB SESSIONS_MINUTE_MS
ctl=$dest/usr/local/bin/sessionctl

# The commands exactly as /etc/cron.d/sessions has them, with the install prefix under DESTDIR.
cron_lines=$(grep -E '^[^#A-Z].* sessions  ' "$dest/etc/cron.d/sessions" |
	sed -E "s/^([^ ]+ +){5}sessions +//; s|/usr/local/|$dest/usr/local/|g")
expire_line=$(grep 'sessionctl expire' <<<"$cron_lines")
checkpoint_line=$(grep 'sessions-run checkpoint' <<<"$cron_lines")
check "the cron file runs sessionctl expire every minute" \
	grep -qE '^\* \* \* \* \* +sessions +/usr/local/bin/sessionctl expire' "$dest/etc/cron.d/sessions"
check "... and a WAL checkpoint every 15 minutes" \
	grep -qE '^\*/15 \* \* \* \* +sessions +/usr/local/lib/sessions/sessions-run checkpoint$' "$dest/etc/cron.d/sessions"
check "... and the retention purge hourly" \
	grep -qE '^[0-9]+ \* \* \* \* +sessions +/usr/local/bin/sessionctl purge' "$dest/etc/cron.d/sessions"
check "... and the shared files' purge hourly" \
	grep -qE '^[0-9]+ \* \* \* \* +sessions +/usr/local/bin/sessionctl files purge' "$dest/etc/cron.d/sessions"

"$ctl" user add Asha --balance 100000.00 >/dev/null && "$ctl" astrologer add Vega >/dev/null
past=$(date -u -d '-2 hours' +%Y-%m-%dT%H:%M:%SZ)
stale=() active=() tokens=()
for i in $(seq 10); do
	stale+=("$("$ctl" book --user Asha --astrologer Vega --type chat --minutes 1 --price 10.00 \
		--starts "$past" | jq -r .sessionId)")
done
# Twenty sessions run out: ten only cron ends, ten both cron and their users end at once.
for i in $(seq 20); do
	b=$("$ctl" book --user Asha --astrologer Vega --type voice --minutes 2 --price 10.00)
	sid=$(jq -r .sessionId <<<"$b")
	"$ctl" join "$sid" --role user >/dev/null && "$ctl" join "$sid" --role astrologer >/dev/null
	active+=("$sid") tokens+=("$(jq -r .userToken <<<"$b")")
done
check "30 sessions booked, 20 of them active" test "${#stale[@]}${#active[@]}${#tokens[@]}" = 102020
before=$("$ctl" wallet show Asha)
sleep 0.5 # past every deadline

spawn-fcgi -F 4 -s "$TAP_TMP/end.sock" -P "$TAP_TMP/api-end.pid" -- "$bin/api-end" --db "$db" >/dev/null 2>&1
api_end() { fcgi_post "$TAP_TMP/end.sock" "$1" '{"reason":"user_ended"}'; }
mkdir "$TAP_TMP/out"
sh -c "$expire_line" >"$TAP_TMP/out/cron1" 2>&1 &
sh -c "$expire_line" >"$TAP_TMP/out/cron2" 2>&1 &
sh -c "$checkpoint_line" >"$TAP_TMP/out/checkpoint" 2>&1 &
for i in $(seq 10 19); do api_end "${tokens[$i]}" >"$TAP_TMP/out/end$i" 2>&1 & done
wait

check "both cron runs and the checkpoint exited 0 with nothing on stdout or stderr" \
	sh -c "! [ -s '$TAP_TMP/out/cron1' ] && ! [ -s '$TAP_TMP/out/cron2' ] && ! [ -s '$TAP_TMP/out/checkpoint' ]"
ends_ok() {
	local i
	for i in $(seq 10 19); do
		jsonok '.success == true and .reason == "time_up"' <"$TAP_TMP/out/end$i" ||
			{ echo "# end $i: $(cat "$TAP_TMP/out/end$i")"; return 1; }
	done
}
check "every API end racing cron past the deadline answered success with the one time_up settlement" ends_ok
q() { sqlite3 "$db" "$1"; }
in_list() { printf "'%s'," "$@" | sed 's/,$//'; }
check "the 10 stale bookings expired as no-shows" \
	test "$(q "SELECT count(*) FROM webrtc_sessions WHERE status='expired' AND end_reason='no_show'
	           AND id IN ($(in_list "${stale[@]}"))")" = 10
check "the 10 sessions only cron saw ended with time_up" \
	test "$(q "SELECT count(*) FROM webrtc_sessions WHERE status='completed' AND end_reason='time_up'
	           AND id IN ($(in_list "${active[@]:0:10}"))")" = 10
check "the 10 raced sessions ended once each with time_up, whoever got there first" \
	test "$(q "SELECT count(*) FROM webrtc_sessions WHERE status='completed'
	           AND end_reason = 'time_up' AND id IN ($(in_list "${active[@]:10:10}"))")" = 10
settled=$(q 'SELECT count(*) FROM settlements')
check "30 settlements for 30 sessions" test "$settled" = 30
check "the ledger check holds" sh -c "'$ctl' ledger check >/dev/null"
frozen_none() { "$ctl" wallet show Asha | jsonok '.frozen == "0.00"'; }
check "nothing is frozen any more" frozen_none

txs=$(q 'SELECT count(*) FROM ledger_transactions')
after=$("$ctl" wallet show Asha)
again=$(sh -c "${expire_line% >/dev/null}")
check "the cron line run again finds nothing to do" jsonok '.expired == 0 and .timedOut == 0' <<<"$again"
check "... and moves no money" \
	sh -c "[ '$txs' = \$(sqlite3 '$db' 'SELECT count(*) FROM ledger_transactions') ] &&
	       [ '$after' = \"\$('$ctl' wallet show Asha)\" ] && [ '$before' != '$after' ]"
# The API workers keep the database open, so the WAL file of a new write stays.
"$ctl" user add Bea --balance 1.00 >/dev/null
wal_before=$(stat -c %s "$db-wal")
sh -c "$checkpoint_line"
check "the checkpoint empties the WAL file the running workers keep open ($wal_before bytes, then 0)" \
	sh -c "[ '$wal_before' -gt 0 ] && [ \$(stat -c %s '$db-wal') -eq 0 ]"
tap_exit
