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
chat='SELECT * FROM chat_messages ORDER BY id'
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
	test "$(sqlite3 "$TAP_TMP/old-chat.db" "$chat")" = "$chat_before"
check "... with the totals the caps read" \
	test "$(sqlite3 "$TAP_TMP/old-chat.db" 'SELECT sender, messages, bytes FROM chat_totals ORDER BY sender')" = \
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

# Chat file version 1 is today's chat file without what db/upgrade/chat/ adds.
chat1="$TAP_TMP/c1.db" chat1_file="$TAP_TMP/c1-chat.db"
sessionctl --db "$chat1" init >/dev/null
sessionctl --db "$TAP_TMP/c2.db" init >/dev/null
chat_latest=$(sqlite3 "$TAP_TMP/c2-chat.db" 'PRAGMA user_version')
check "a new chat file gets the latest chat version ($chat_latest)" test "$chat_latest" -ge 2
sqlite3 "$chat1_file" <<'SQL'
DROP TABLE chat_reactions;
INSERT INTO chat_messages(session_id, seq, sender, body, client_id, created_ms)
    VALUES ('s-1', 1, 'user', 'kept', 'c1', 1), ('s-1', 2, 'astrologer', 'also kept', NULL, 2);
PRAGMA user_version = 1;
SQL
chat1_rows='SELECT * FROM chat_messages ORDER BY id; SELECT * FROM chat_totals ORDER BY sender'
chat1_before=$(sqlite3 "$chat1_file" "$chat1_rows")
sessionctl --db "$chat1" init >/dev/null
check "a chat file at version 1 is brought to the latest chat version" \
	test "$(sqlite3 "$chat1_file" 'PRAGMA user_version')" = "$chat_latest"
check "... its messages and totals as they were" test "$(sqlite3 "$chat1_file" "$chat1_rows")" = "$chat1_before"
check "... with the schema a new chat file gets" \
	test "$(sqlite3 "$chat1_file" 'SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY name')" = \
	     "$(sqlite3 "$TAP_TMP/c2-chat.db" 'SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY name')"
check "... in which a reaction is stored" sqlite3 "$chat1_file" \
	"INSERT INTO chat_reactions VALUES ('s-1', 1, 'astrologer', '👍', 3)"

sqlite3 "$fresh" 'PRAGMA user_version = 99'
check "a database newer than the program is refused, unchanged" \
	sh -c "! sessionctl --db '$fresh' list 2>/dev/null && [ \$(sqlite3 '$fresh' 'PRAGMA user_version') = 99 ]"
tap_exit
