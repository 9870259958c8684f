# backup.test.sh: configuration, init and online backups taken while settlements run.
. "$(dirname "$0")/../lib/tap.sh"
tap_tmpdir
export SESSIONS_DB="$TAP_TMP/s.db"

check "init creates the database, its chat file and a 0600 key" \
	sh -c 'sessionctl init >/dev/null && [ "$(stat -c %a "$SESSIONS_DB.key")" = 600 ] && [ "$(stat -c %a "$SESSIONS_DB")" = 640 ] &&
		[ "$(stat -c %a "${SESSIONS_DB%.db}-chat.db")" = 640 ]'
check "... and the files and recordings directories beside it, 2750" \
	test "$(stat -c %a "${SESSIONS_DB%.db}-files" "${SESSIONS_DB%.db}-recordings" | tr '\n' ' ')" = "2750 2750 "
check "init fails, saying why, where a file takes a directory's place" \
	sh -c 'touch "$0-files" && out=$(sessionctl --db "$0.db" init 2>&1 >/dev/null); [ $? -ne 0 ] && echo "$out" | grep -q "files: .*Not a directory"' "$TAP_TMP/taken"
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

# Shared files and recordings: a backup holds the files its rows name, with the same bytes, and nothing else.
bin=$SESSIONS_TEST_ROOT/build/bin
api() { # NAME DB: a FastCGI API program on a socket of its own; prints the socket
	local sock=$TAP_TMP/api-$1-$RANDOM.sock
	spawn-fcgi -s "$sock" -P "$sock.pid" -- "$bin/api-$1" --db "$2" >/dev/null 2>&1
	echo "$sock"
}
# api runs in a command substitution's subshell: its programs are found again by their pid files.
stop_apis() {
	local f
	for f in "$TAP_TMP"/api-*.sock.pid; do [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null; done
	return 0
}
trap 'stop_apis; jobs -p | xargs -r kill 2>/dev/null; rm -rf "$TAP_TMP"' EXIT
upload() { # SOCKET TOKEN FILE: the JSON answer
	REQUEST_METHOD=POST DOCUMENT_URI=/api/sessions/files REQUEST_URI=/api/sessions/files CONTENT_TYPE=image/png \
		CONTENT_LENGTH=$(stat -c %s "$3") HTTP_AUTHORIZATION="Bearer $2" HTTP_X_FILE_NAME=chart.png \
		cgi-fcgi -bind -connect "$1" <"$3" | sed '1,/^\r\{0,1\}$/d'
}
sent() { # SOCKET URI TOKEN: where the answer sends nginx for the bytes (X-Accel-Redirect)
	REQUEST_METHOD=GET DOCUMENT_URI=$2 REQUEST_URI=$2 HTTP_AUTHORIZATION="Bearer $3" \
		cgi-fcgi -bind -connect "$1" </dev/null | tr -d '\r' | sed -n 's/^X-Accel-Redirect: //p'
}
png() { { printf '\211PNG\r\n\032\n'; head -c "$2" /dev/urandom; } >"$1"; }
hex() { head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n'; }
chat_q() { sqlite3 "${1%.db}-chat.db" "$2"; }
live_files=${SESSIONS_DB%.db}-files live_recs=${SESSIONS_DB%.db}-recordings

bk=$(sessionctl book --user Asha --astrologer Vega --type video --minutes 30 --price 1.00)
sid=$(jq -r .sessionId <<<"$bk") utok=$(jq -r .userToken <<<"$bk")
sessionctl join "$sid" --role user >/dev/null && sessionctl join "$sid" --role astrologer >/dev/null
files_sock=$(api files "$SESSIONS_DB")
png "$TAP_TMP/one.png" 3000 && png "$TAP_TMP/two.png" 5000 && png "$TAP_TMP/three.png" 700
f1=$(upload "$files_sock" "$utok" "$TAP_TMP/one.png" | jq -r .id)
f2=$(upload "$files_sock" "$utok" "$TAP_TMP/two.png" | jq -r .id)
f3=$(upload "$files_sock" "$utok" "$TAP_TMP/three.png" | jq -r .id)
s1=$(chat_q "$SESSIONS_DB" "SELECT storage FROM chat_files WHERE id = $f1")
s2=$(chat_q "$SESSIONS_DB" "SELECT storage FROM chat_files WHERE id = $f2")
s3=$(chat_q "$SESSIONS_DB" "SELECT storage FROM chat_files WHERE id = $f3")
check "three files uploaded through api-files ($f1, $f2, $f3)" test -f "$live_files/$s1" -a -f "$live_files/$s2" -a -f "$live_files/$s3"
# The third purged as files purge leaves it (row marked, bytes gone); a stray file no row names.
chat_q "$SESSIONS_DB" "UPDATE chat_files SET purged_ms = created_ms WHERE id = $f3" && rm "$live_files/$s3"
head -c 100 /dev/urandom >"$live_files/$(hex)"
# Recordings as the recording API leaves them: one stopped two minutes ago, one running whose
# next chunk is being written past what its row counts, one whose first chunk never came.
now=$(date +%s%3N)
done_rec=$(hex).webm run_rec=$(hex).webm empty_rec=$(hex).webm
mkdir -p "$live_recs" && head -c 6000 /dev/urandom >"$live_recs/$done_rec" && head -c 4000 /dev/urandom >"$live_recs/$run_rec"
head -c 100 /dev/urandom >"$live_recs/$(hex).webm"
sqlite3 "$SESSIONS_DB" "INSERT INTO recordings(session_id, media, file, bytes, next_seq, started_ms, stopped_ms) VALUES
	('$sid', 'video', '$done_rec', 6000, 2, $now - 600000, $now - 120000),
	('$sid', 'video', '$run_rec', 3000, 1, $now - 60000, NULL),
	('$sid', 'video', '$empty_rec', 0, 0, $now - 1000, NULL)"
r_done=$(sqlite3 "$SESSIONS_DB" "SELECT id FROM recordings WHERE file = '$done_rec'")
r_run=$(sqlite3 "$SESSIONS_DB" "SELECT id FROM recordings WHERE file = '$run_rec'")

out=$(sessionctl backup "$TAP_TMP/k.db")
check "the backup says what it holds: 2 files of 8016 bytes, 2 recordings of 9000, 3 of them hard links ($out)" \
	jsonok '.files == 2 and .fileBytes == 8016 and .recordings == 2 and .recordingBytes == 9000 and .linked == 3' <<<"$out"
check "its files directory holds exactly the files its kept rows name, with the same bytes" \
	sh -c "[ \"\$(ls '$TAP_TMP/k-files' | sort | tr '\n' ' ')\" = \"\$(printf '%s\n' $s1 $s2 | sort | tr '\n' ' ')\" ] &&
		cmp -s '$TAP_TMP/k-files/$s1' '$TAP_TMP/one.png' && cmp -s '$TAP_TMP/k-files/$s2' '$TAP_TMP/two.png'"
check "its recordings directory holds the two with bytes, no stray and no empty one" \
	test "$(ls "$TAP_TMP/k-recordings" | sort | tr '\n' ' ')" = "$(printf '%s\n' "$done_rec" "$run_rec" | sort | tr '\n' ' ')"
check "the stopped recording is the live file's bytes, shared by a hard link" \
	test "$(stat -c %i "$TAP_TMP/k-recordings/$done_rec")" = "$(stat -c %i "$live_recs/$done_rec")"
check "the running recording is a copy of the bytes its row counted (3000 of the 4000 on disk)" \
	sh -c "head -c 3000 '$live_recs/$run_rec' | cmp -s - '$TAP_TMP/k-recordings/$run_rec' &&
		[ \$(stat -c %i '$TAP_TMP/k-recordings/$run_rec') != \$(stat -c %i '$live_recs/$run_rec') ]"
check "the backup's directories are its owner's only (0700)" \
	test "$(stat -c %a "$TAP_TMP/k-files" "$TAP_TMP/k-recordings" | tr '\n' ' ')" = "700 700 "
check "a backup onto the live database, or onto a name that shares its directories, is refused" \
	sh -c "! sessionctl backup '$SESSIONS_DB' 2>/dev/null && ! sessionctl backup '${SESSIONS_DB%.db}' 2>/dev/null &&
		[ -f '$live_files/$s1' ] && [ -f '$live_recs/$done_rec' ]"

# On another file system nothing can be linked: every file is a copy, with the same bytes.
if [ "$(stat -c %d /dev/shm 2>/dev/null)" != "$(stat -c %d "$TAP_TMP")" ] && shm=$(mktemp -d /dev/shm/sessions-test.XXXXXX); then
	trap 'stop_apis; jobs -p | xargs -r kill 2>/dev/null; rm -rf "$TAP_TMP" "$shm"' EXIT
	out=$(sessionctl backup "$shm/k.db")
	check "a backup on another file system copies all four files, linking none ($out)" \
		sh -c "echo '$out' | jq -e '.files == 2 and .recordings == 2 and .linked == 0' >/dev/null &&
			cmp -s '$shm/k-files/$s1' '$TAP_TMP/one.png' && cmp -s '$shm/k-recordings/$done_rec' '$live_recs/$done_rec' &&
			head -c 3000 '$live_recs/$run_rec' | cmp -s - '$shm/k-recordings/$run_rec'"
else
	echo "ok - # skip: no second file system (/dev/shm) to back up onto"
fi

# Restore as docs/INSTALL.md does: the four parts into place, with the key.
r=$TAP_TMP/restore
mkdir -p "$r"
cp "$TAP_TMP/k.db" "$r/sessions.db" && cp "$TAP_TMP/k-chat.db" "$r/sessions-chat.db" && cp "$SESSIONS_DB.key" "$r/sessions.db.key"
cp -r "$TAP_TMP/k-files" "$r/sessions-files" && cp -r "$TAP_TMP/k-recordings" "$r/sessions-recordings"
check "the restored database holds its ledger" sh -c "sessionctl --db '$r/sessions.db' ledger check >/dev/null"
check "every file and recording the restored rows name is there: the purges find nothing stray" \
	sh -c "sessionctl --db '$r/sessions.db' files purge | jq -e '.stray == 0' >/dev/null &&
		sessionctl --db '$r/sessions.db' recordings purge | jq -e '.stray == 0 and .recordings == 0' >/dev/null &&
		[ \$(ls '$r/sessions-files' | wc -l) = 2 ] && [ \$(ls '$r/sessions-recordings' | wc -l) = 2 ]"
rfiles=$(api files "$r/sessions.db") rrec=$(api recording "$r/sessions.db")
to=$(sent "$rfiles" "/api/sessions/files/$f2" "$utok")
check "the restored api-files sends a file from the restored directory, the bytes uploaded ($to)" \
	sh -c "[ '$to' = '/_files/$s2' ] && cmp -s '$r/sessions-files/$s2' '$TAP_TMP/two.png'"
to=$(sent "$rrec" "/api/sessions/recording/$r_run" "$utok")
check "the restored api-recording sends the running recording as far as the backup held it ($to)" \
	sh -c "[ '$to' = '/_recordings/$run_rec' ] && head -c 3000 '$live_recs/$run_rec' | cmp -s - '$r/sessions-recordings/$run_rec'"
check "... and the stopped one whole" \
	test "$(sent "$rrec" "/api/sessions/recording/$r_done" "$utok")" = "/_recordings/$done_rec"

# Backed up again under the same name after a purge: the old backup's files go with it.
chat_q "$SESSIONS_DB" "UPDATE chat_files SET purged_ms = created_ms WHERE id = $f1" && rm "$live_files/$s1"
check "a backup taken again under the same name replaces the files as well" \
	sh -c "sessionctl backup '$TAP_TMP/k.db' | jq -e '.files == 1' >/dev/null && [ \"\$(ls '$TAP_TMP/k-files')\" = '$s2' ]"

# While uploads run: every backup's rows and files agree.
(for i in $(seq 30); do upload "$files_sock" "$utok" "$TAP_TMP/three.png" >/dev/null; done) &
uploads=$!
bad=0 n=0
while kill -0 "$uploads" 2>/dev/null || [ $n -lt 2 ]; do
	n=$((n + 1))
	sessionctl backup "$TAP_TMP/u$n.db" >/dev/null || bad=$((bad + 1))
	rows=$(chat_q "$TAP_TMP/u$n.db" "SELECT storage || ' ' || bytes FROM chat_files WHERE purged_ms IS NULL ORDER BY storage")
	held=$(cd "$TAP_TMP/u$n-files" 2>/dev/null && stat -c '%n %s' * | sort)
	[ "$rows" = "$held" ] || bad=$((bad + 1))
done
wait "$uploads"
check "$n backups taken while 30 uploads ran each hold exactly the files their rows name (last: $(ls "$TAP_TMP/u$n-files" | wc -l))" \
	test "$bad" -eq 0
tap_exit
