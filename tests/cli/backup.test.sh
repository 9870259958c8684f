# backup.test.sh: configuration, init and online backups taken while settlements run.
. "$(dirname "$0")/../lib/tap.sh"
tap_tmpdir
export SESSIONS_DB="$TAP_TMP/s.db"

check "init creates the database, its chat file and a 0600 key" \
	sh -c 'sessionctl init >/dev/null && [ "$(stat -c %a "$SESSIONS_DB.key")" = 600 ] && [ "$(stat -c %a "$SESSIONS_DB")" = 640 ] &&
		[ "$(stat -c %a "${SESSIONS_DB%.db}-chat.db")" = 640 ]'
printf '# the shop\ncommission_bps = 1500\npublic_url = https://shop.example\n' >"$TAP_TMP/good.conf"
check "settings come from the configuration file" \
	sh -c "SESSIONS_CONF='$TAP_TMP/good.conf' sessionctl config | jq -e '.commission_bps.value == \"1500\" and .public_url.source == \"file\"' >/dev/null"
check "the environment overrides the file" \
	sh -c "SESSIONS_CONF='$TAP_TMP/good.conf' SESSIONS_COMMISSION_BPS=100 sessionctl config | jq -e '.commission_bps.value == \"100\"' >/dev/null"
printf 'commision_bps = 1500\n' >"$TAP_TMP/typo.conf"
check "a misspelt setting is an error naming the line" \
	sh -c "out=\$(SESSIONS_CONF='$TAP_TMP/typo.conf' sessionctl wallet show x 2>&1); [ \$? -ne 0 ] && echo \"\$out\" | grep -q 'typo.conf:1: unknown setting'"
check "an out-of-range number is an error, not a default" \
	sh -c "! SESSIONS_COMMISSION_BPS=20000 sessionctl list 2>/dev/null"
check "a configured commission applies to new bookings" sh -c '
	sessionctl user add Asha --balance 1000000.00 >/dev/null && sessionctl astrologer add Vega >/dev/null &&
	sid=$(SESSIONS_CONF='"$TAP_TMP/good.conf"' sessionctl book --user Asha --astrologer Vega --type chat --minutes 1 --price 10.00 | jq -r .sessionId) &&
	sessionctl join $sid --role user >/dev/null && sessionctl join $sid --role astrologer >/dev/null &&
	sqlite3 "$SESSIONS_DB" "INSERT INTO presence(session_id, participant, joined_ms, seen_ms)
		SELECT id, p, started_ms, started_ms FROM webrtc_sessions, (SELECT \"user\" AS p UNION SELECT \"astrologer\")
		WHERE id = \"$sid\"" &&
	sessionctl end $sid | jq -e ".charged == \"10.00\" and .commission == \"1.50\"" >/dev/null'
check "links are built from the configured public URL" \
	sh -c "SESSIONS_CONF='$TAP_TMP/good.conf' sessionctl book --user Asha --astrologer Vega --type chat --minutes 1 --price 1.00 | jq -e '.userUrl | startswith(\"https://shop.example/session/\")' >/dev/null"

"$SESSIONS_TEST_ROOT/build/tests/settle_loop" "$SESSIONS_DB" Asha Vega 0 2>/dev/null &
loop=$!
bad=0
for i in 1 2 3 4 5; do
	sleep 0.2
	sessionctl backup "$TAP_TMP/b$i.db" >/dev/null || bad=$((bad + 1))
	[ "$(sqlite3 "$TAP_TMP/b$i.db" 'PRAGMA integrity_check')" = ok ] || bad=$((bad + 1))
	sessionctl --db "$TAP_TMP/b$i.db" ledger check >/dev/null 2>&1 || bad=$((bad + 1))
done
kill "$loop"; wait "$loop" 2>/dev/null
check "5 backups taken while settlements ran each restore to a database whose ledger holds" \
	test "$bad" -eq 0
first=$(sqlite3 "$TAP_TMP/b1.db" 'SELECT count(*) FROM settlements')
last=$(sqlite3 "$TAP_TMP/b5.db" 'SELECT count(*) FROM settlements')
check "the backups saw settlements happening ($first, then $last)" test "$last" -gt "$first"
check "a backup is one file, readable by its owner only" \
	sh -c "[ ! -e '$TAP_TMP/b5.db-wal' ] && [ \$(stat -c %a '$TAP_TMP/b5.db') = 600 ]"
cp "$TAP_TMP/b5.db" "$TAP_TMP/restored.db" && cp "$SESSIONS_DB.key" "$TAP_TMP/restored.db.key"
check "a restored backup with its key serves the same ledger" \
	sh -c "sessionctl --db '$TAP_TMP/restored.db' ledger check >/dev/null && sessionctl --db '$TAP_TMP/restored.db' wallet show Asha >/dev/null"
tap_exit
