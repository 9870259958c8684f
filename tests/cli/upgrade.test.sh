# upgrade.test.sh: a database of an older schema version is upgraded in place, data and money intact.
. "$(dirname "$0")/../lib/tap.sh"
tap_tmpdir
old="$TAP_TMP/old.db" fresh="$TAP_TMP/fresh.db"

sessionctl --db "$fresh" list >/dev/null
latest=$(sqlite3 "$fresh" 'PRAGMA user_version')
check "a new database gets the latest version ($latest)" test "$latest" -ge 2

# Version 1 is this schema without what db/upgrade/ changes.
sessionctl --db "$old" user add Asha --balance 50.00 >/dev/null
sessionctl --db "$old" astrologer add Vega >/dev/null
sid=$(sessionctl --db "$old" book --user Asha --astrologer Vega --type chat --minutes 5 \
	--price 20.00 | jq -r .sessionId)
sqlite3 "$old" <<'SQL'
DROP INDEX bookings_created; DROP INDEX webrtc_sessions_open; DROP TABLE presence;
DROP TABLE network_reports; DROP TABLE note_versions; DROP TABLE session_summaries;
ALTER TABLE webrtc_sessions DROP COLUMN ended_by; ALTER TABLE settlements DROP COLUMN billed_seconds;
CREATE TABLE chat_messages (id INTEGER PRIMARY KEY, session_id TEXT NOT NULL REFERENCES webrtc_sessions(id),
    seq INTEGER NOT NULL, sender TEXT NOT NULL, body TEXT NOT NULL, client_id TEXT,
    created_ms INTEGER NOT NULL, UNIQUE (session_id, seq), UNIQUE (session_id, client_id)) STRICT;
INSERT INTO chat_messages(session_id, seq, sender, body, client_id, created_ms)
    SELECT id, 1, 'user', 'kept', 'c1', 1 FROM webrtc_sessions;
INSERT INTO chat_messages(session_id, seq, sender, body, client_id, created_ms)
    SELECT id, 2, 'astrologer', 'also kept', 'c2', 2 FROM webrtc_sessions;
CREATE INDEX webrtc_sessions_sweep ON webrtc_sessions(status, link_valid_until_ms);
DROP TABLE api_idempotency; DROP TABLE api_audit; DROP TABLE api_keys; DROP INDEX webrtc_sessions_start;
ALTER TABLE ledger_transactions DROP COLUMN reference;
DROP TRIGGER webhook_events_fanout; DROP TABLE webhook_attempts; DROP TABLE webhook_deliveries;
DROP TABLE webhook_events; DROP TABLE webhook_endpoints;
DROP TABLE recordings;
CREATE TABLE events_v1 AS SELECT * FROM session_events;
DROP TABLE session_events;
CREATE TABLE session_events (id INTEGER PRIMARY KEY, session_id TEXT NOT NULL REFERENCES webrtc_sessions(id),
    kind TEXT NOT NULL CHECK (kind IN ('created', 'joined', 'started', 'completed',
                                       'expired', 'cancelled', 'link_reissued')),
    participant TEXT CHECK (participant IN ('user', 'astrologer')), detail TEXT, at_ms INTEGER NOT NULL) STRICT;
INSERT INTO session_events SELECT * FROM events_v1; DROP TABLE events_v1;
CREATE INDEX session_events_session ON session_events(session_id, id);
PRAGMA user_version = 1;
SQL
sqlite3 "$old" "INSERT INTO session_events(session_id, kind, participant, at_ms) VALUES ('$sid', 'link_reissued', 'user', 7)"
sqlite3 "$old" "INSERT INTO session_events(session_id, kind, participant, at_ms) VALUES ('$sid', 'recording_consent', 'user', 1)" 2>/dev/null
check "a version 1 database refuses the recording events (the CHECK this upgrade replaces)" \
	test "$(sqlite3 "$old" "SELECT count(*) FROM session_events WHERE kind LIKE 'recording%'")" = 0
rows='SELECT id, booking_id, room_id, status, user_joined_ms, ended_ms FROM webrtc_sessions;
      SELECT * FROM ledger_entries; SELECT * FROM session_events ORDER BY id'
chat='SELECT id, session_id, seq, sender, body, client_id, created_ms FROM chat_messages ORDER BY id'
# The chat file names a message's session through its room.
chat_now='SELECT m.id, r.session_id, m.seq, m.sender, m.body, m.client_id, m.created_ms
          FROM chat_messages m JOIN chat_rooms r ON r.id = m.room ORDER BY m.id'
totals_now="SELECT 'astrologer', astrologer_messages, astrologer_bytes FROM chat_rooms
            UNION ALL SELECT 'user', user_messages, user_bytes FROM chat_rooms"
before=$(sqlite3 "$old" "$rows")
chat_before=$(sqlite3 "$old" "$chat")

check "an older database opens and works" \
	sh -c "sessionctl --db '$old' list | jq -e '.[0].sessionId == \"$sid\"' >/dev/null"
check "it is upgraded to the latest version" test "$(sqlite3 "$old" 'PRAGMA user_version')" = "$latest"
check "the upgraded schema is the one a new database gets" \
	test "$(sqlite3 "$old" 'SELECT type, name, tbl_name FROM sqlite_master ORDER BY name')" = \
	     "$(sqlite3 "$fresh" 'SELECT type, name, tbl_name FROM sqlite_master ORDER BY name')"
check "its sessions and ledger are untouched" \
	test "$(sqlite3 "$old" "$rows")" = "$before"
check "its chat moved to the chat file beside it, every row as it was" \
	test "$(sqlite3 "$TAP_TMP/old-chat.db" "$chat_now")" = "$chat_before"
check "... with the totals the caps read" \
	test "$(sqlite3 "$TAP_TMP/old-chat.db" "$totals_now")" = \
	     "$(printf 'astrologer|1|9\nuser|1|4')"
check "the chat file's schema is the one a new chat file gets" \
	test "$(sqlite3 "$TAP_TMP/old-chat.db" 'SELECT type, name, tbl_name FROM sqlite_master ORDER BY name')" = \
	     "$(sessionctl --db "$fresh" backup "$TAP_TMP/b.db" >/dev/null &&
	        sqlite3 "$TAP_TMP/b-chat.db" 'SELECT type, name, tbl_name FROM sqlite_master ORDER BY name')"
check "its session events are all kept, ids and times as they were (with the rows above)" \
	test "$(sqlite3 "$old" "SELECT count(*) FROM session_events WHERE kind = 'link_reissued' AND at_ms = 7")" = 1
check "... and take the recording kinds now" \
	sqlite3 "$old" "INSERT INTO session_events(session_id, kind, participant, at_ms) VALUES ('$sid', 'recording_consent', 'user', 1)"
check "... and the booking's triggers still write into the rebuilt table" \
	sh -c "sessionctl --db '$old' join '$sid' --role user >/dev/null &&
	       [ \$(sqlite3 '$old' \"SELECT count(*) FROM session_events WHERE kind = 'joined'\") = 1 ]"
check "and the money still adds up" sh -c "sessionctl --db '$old' ledger check >/dev/null"

# A chat file at version 1 (before files were shared in chat) beside a current database.
v1="$TAP_TMP/v1.db"
sessionctl --db "$v1" user add Asha --balance 50.00 >/dev/null
sessionctl --db "$v1" astrologer add Vega >/dev/null
sessionctl --db "$v1" book --user Asha --astrologer Vega --type chat --minutes 5 --price 20.00 >/dev/null
# The chat file's first version: messages keyed by session, a trigger keeping the totals.
chat_v1_sql="$(cat <<'SQL'
CREATE TABLE chat_messages (id INTEGER PRIMARY KEY, session_id TEXT NOT NULL,
    seq INTEGER NOT NULL CHECK (seq >= 1), sender TEXT NOT NULL CHECK (sender IN ('user', 'astrologer')),
    body TEXT NOT NULL CHECK (length(body) BETWEEN 1 AND 4000),
    client_id TEXT CHECK (length(client_id) BETWEEN 1 AND 64), created_ms INTEGER NOT NULL,
    UNIQUE (session_id, seq), UNIQUE (session_id, sender, client_id)) STRICT;
CREATE TABLE chat_totals (session_id TEXT NOT NULL, sender TEXT NOT NULL CHECK (sender IN ('user', 'astrologer')),
    messages INTEGER NOT NULL CHECK (messages >= 0), bytes INTEGER NOT NULL CHECK (bytes >= 0),
    PRIMARY KEY (session_id, sender)) STRICT, WITHOUT ROWID;
CREATE TRIGGER chat_messages_totals AFTER INSERT ON chat_messages BEGIN
    INSERT INTO chat_totals(session_id, sender, messages, bytes)
    VALUES (NEW.session_id, NEW.sender, 1, length(CAST(NEW.body AS BLOB)))
    ON CONFLICT (session_id, sender) DO UPDATE
    SET messages = messages + 1, bytes = bytes + excluded.bytes;
END;
SQL
)"
sqlite3 "$TAP_TMP/v1-chat.db" "$chat_v1_sql PRAGMA user_version = 1;"
sqlite3 "$TAP_TMP/v1-chat.db" "INSERT INTO chat_messages(session_id, seq, sender, body, client_id, created_ms)
    VALUES ('$(sqlite3 "$v1" 'SELECT id FROM webrtc_sessions')', 1, 'user', 'before files', 'c1', 5),
           ('$(sqlite3 "$v1" 'SELECT id FROM webrtc_sessions')', 2, 'astrologer', 'me too', NULL, 6)"
v1_rows=$(sqlite3 "$TAP_TMP/v1-chat.db" "$chat; SELECT sender, messages, bytes FROM chat_totals ORDER BY sender")
chat_latest=$(sqlite3 "$TAP_TMP/b-chat.db" 'PRAGMA user_version')
check "a chat file at version 1 opens (files purge reads it)" \
	test "$(sessionctl --db "$v1" files purge)" = '{"files":0,"stray":0,"strayBytes":0}'
check "it is brought to the chat file's latest version ($chat_latest, past 1)" \
	sh -c "[ '$chat_latest' -ge 2 ] && [ \"\$(sqlite3 '$TAP_TMP/v1-chat.db' 'PRAGMA user_version')\" = '$chat_latest' ]"
check "its messages and totals are as they were, none of them a file's" \
	sh -c "[ \"\$(sqlite3 '$TAP_TMP/v1-chat.db' \"$chat_now; $totals_now\")\" = '$v1_rows' ] &&
	       [ \"\$(sqlite3 '$TAP_TMP/v1-chat.db' 'SELECT count(*) FROM chat_messages WHERE file_id IS NOT NULL')\" = 0 ]"
check "its schema is the one a new chat file gets" \
	test "$(sqlite3 "$TAP_TMP/v1-chat.db" 'SELECT type, name, tbl_name FROM sqlite_master ORDER BY name')" = \
	     "$(sqlite3 "$TAP_TMP/b-chat.db" 'SELECT type, name, tbl_name FROM sqlite_master ORDER BY name')"
check "... in which a reaction is stored" sqlite3 "$TAP_TMP/v1-chat.db" \
	"INSERT INTO chat_reactions SELECT id, 1, 'astrologer', '👍', 7 FROM chat_rooms"

# A chat file at version 3 (version 1 with reactions and files) with
# reactions and a file's message: version 4 gives each room a short id and its totals.
v3="$TAP_TMP/v3.db"
sessionctl --db "$v3" user add Asha --balance 50.00 >/dev/null
sessionctl --db "$v3" astrologer add Vega >/dev/null
for i in 1 2; do
	sessionctl --db "$v3" book --user Asha --astrologer Vega --type chat --minutes 5 --price 20.00 >/dev/null
done
sqlite3 "$TAP_TMP/v3-chat.db" <<SQL
$chat_v1_sql
.read $SESSIONS_TEST_ROOT/db/upgrade/chat/0002.sql
.read $SESSIONS_TEST_ROOT/db/upgrade/chat/0003.sql
PRAGMA user_version = 3;
SQL
s1=$(sqlite3 "$v3" 'SELECT id FROM webrtc_sessions ORDER BY rowid LIMIT 1')
s2=$(sqlite3 "$v3" 'SELECT id FROM webrtc_sessions ORDER BY rowid LIMIT 1 OFFSET 1')
sqlite3 "$TAP_TMP/v3-chat.db" "PRAGMA foreign_keys = ON;
INSERT INTO chat_files(session_id, sender, name, bytes, type, storage, created_ms)
    VALUES ('$s2', 'astrologer', 'chart.png', 10, 'image/png', '$(printf '%032d' 7)', 3);
INSERT INTO chat_messages(session_id, seq, sender, body, client_id, created_ms, file_id)
    VALUES ('$s2', 1, 'user', 'first', 'u1', 5, NULL), ('$s1', 1, 'astrologer', 'hello', NULL, 6, NULL),
           ('$s2', 2, 'astrologer', 'chart.png', 'a1', 7, 1), ('$s1', 2, 'user', 'namaste 🙏', 'u1', 8, NULL);
INSERT INTO chat_reactions VALUES ('$s2', 2, 'user', '❤️', 9), ('$s1', 1, 'user', '👍', 10),
                                  ('$s1', 1, 'astrologer', '👍', 11)"
v3_rows=$(sqlite3 "$TAP_TMP/v3-chat.db" "$chat;
    SELECT session_id, seq, sender, emoji, created_ms FROM chat_reactions ORDER BY session_id, seq, sender;
    SELECT session_id, sender, messages, bytes FROM chat_totals ORDER BY session_id, sender")
check "a chat file at version 3 is brought to the latest ($chat_latest)" \
	sh -c "sessionctl --db '$v3' files purge >/dev/null &&
	       [ \"\$(sqlite3 '$TAP_TMP/v3-chat.db' 'PRAGMA user_version')\" = '$chat_latest' ]"
check "... each message, reaction and total as it was, the file's message still naming its file" \
	sh -c "[ \"\$(sqlite3 '$TAP_TMP/v3-chat.db' \"$chat_now;
	    SELECT r.session_id, x.seq, x.sender, x.emoji, x.created_ms FROM chat_reactions x
	      JOIN chat_rooms r ON r.id = x.room ORDER BY r.session_id, x.seq, x.sender;
	    SELECT session_id, 'astrologer', astrologer_messages, astrologer_bytes FROM chat_rooms
	    UNION ALL SELECT session_id, 'user', user_messages, user_bytes FROM chat_rooms ORDER BY 1, 2\")\" = '$v3_rows' ] &&
	   [ \"\$(sqlite3 '$TAP_TMP/v3-chat.db' 'SELECT body FROM chat_messages WHERE file_id = 1')\" = chart.png ]"
check "... its schema the one a new chat file gets" \
	test "$(sqlite3 "$TAP_TMP/v3-chat.db" 'SELECT type, name, tbl_name FROM sqlite_master ORDER BY name')" = \
	     "$(sqlite3 "$TAP_TMP/b-chat.db" 'SELECT type, name, tbl_name FROM sqlite_master ORDER BY name')"

sqlite3 "$fresh" 'PRAGMA user_version = 99'
check "a database newer than the program is refused, unchanged" \
	sh -c "! sessionctl --db '$fresh' list 2>/dev/null && [ \$(sqlite3 '$fresh' 'PRAGMA user_version') = 99 ]"
tap_exit
