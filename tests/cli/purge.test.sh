# purge.test.sh: sessionctl purge deletes audit rows and finished webhook deliveries past their retention, keeps newer ones, pending ones and each subject's latest event, so sequences go on.
. "$(dirname "$0")/../lib/tap.sh"
tap_tmpdir
export SESSIONS_DB="$TAP_TMP/s.db" SESSIONS_WEBHOOK_ALLOW_PRIVATE=1
ctl() { sessionctl "$@"; }
dump() { sqlite3 "$SESSIONS_DB" .dump; }
q() { sqlite3 "$SESSIONS_DB" "$1"; }
DAY=86400000

# A receiver that answers 200 to every POST, so deliveries are really made.
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 -c '
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(200); self.end_headers()
    def log_message(self, *a): pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()' "$port" &
rx=$!
for i in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done

ctl webhook add "http://127.0.0.1:$port/hook" >/dev/null
ctl user add Asha --balance 100.00 >/dev/null
ctl astrologer add Vega >/dev/null
old=$(ctl book --user Asha --astrologer Vega --type chat --minutes 5 --price 10.00 | jq -r .sessionId)
ctl join "$old" --role user >/dev/null
ctl join "$old" --role astrologer >/dev/null
ctl end "$old" --reason completed >/dev/null
new=$(ctl book --user Asha --astrologer Vega --type chat --minutes 5 --price 10.00 | jq -r .sessionId)
ctl wallet topup Asha 5.00 >/dev/null

sessions-webhooks --db "$SESSIONS_DB" 2>/dev/null &
hooks=$!
for i in $(seq 100); do
	[ "$(q "SELECT count(*) FROM webhook_deliveries WHERE status = 'delivered'")" = 8 ] && break
	sleep 0.1
done
kill "$hooks"; wait "$hooks" 2>/dev/null
check "the eight events were delivered, each with an attempt" \
	test "$(q "SELECT count(*) FROM webhook_deliveries d JOIN webhook_attempts a ON a.delivery_id = d.id WHERE d.status = 'delivered'")" = 8

# The clock cannot be moved: the rows are aged instead. The old session's
# five events and the wallet's two (the opening balance, the top-up) are 31 days old.
now=$(date +%s%3N)
q "UPDATE webhook_deliveries SET done_ms = $now - 31 * $DAY, created_ms = $now - 31 * $DAY
    WHERE event_id IN (SELECT id FROM webhook_events WHERE subject <> '$new')"
q "UPDATE webhook_events SET created_ms = $now - 31 * $DAY WHERE subject <> '$new'"
# The new session's booking event is old too but still pending: never purged.
q "UPDATE webhook_deliveries SET status = 'pending', done_ms = NULL, created_ms = $now - 40 * $DAY
    WHERE event_id IN (SELECT id FROM webhook_events WHERE subject = '$new')"
q "UPDATE webhook_events SET created_ms = $now - 40 * $DAY WHERE subject = '$new'"
# A failed delivery 29 days old stays.
q "UPDATE webhook_deliveries SET status = 'failed', done_ms = $now - 29 * $DAY
    WHERE event_id = (SELECT id FROM webhook_events WHERE subject = '$old' AND sequence = 2)"
for i in 1 2 3; do
	q "INSERT INTO api_audit(key_name, method, path, status, at_ms) VALUES ('shop', 'GET', '/api/v1/old', 200, $now - 91 * $DAY)"
done
q "INSERT INTO api_audit(key_name, method, path, status, at_ms) VALUES ('shop', 'GET', '/api/v1/recent', 200, $now - 89 * $DAY)"

out=$(ctl purge)
check "purge reports what it deleted: 3 audit rows, 6 deliveries with their attempts, 4 events" \
	jsonok '.audit == 3 and .deliveries == 6 and .attempts == 6 and .events == 4' <<<"$out"
check "audit rows newer than 90 days stay" test "$(q "SELECT group_concat(path) FROM api_audit")" = /api/v1/recent
check "the failed delivery inside the window stays, with its attempt" \
	test "$(q "SELECT d.status || count(a.id) FROM webhook_deliveries d LEFT JOIN webhook_attempts a ON a.delivery_id = d.id
		JOIN webhook_events e ON e.id = d.event_id WHERE e.subject = '$old' GROUP BY d.id")" = failed1
check "the pending delivery stays, however old" \
	test "$(q "SELECT d.status FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id WHERE e.subject = '$new'")" = pending
check "each subject's latest event stays: the old session's end, the wallet's top-up" \
	test "$(q "SELECT group_concat(type || ':' || sequence, ' ') FROM (SELECT type, sequence FROM webhook_events
		WHERE subject <> '$new' ORDER BY subject = 'user:1', sequence)")" = "participant.joined:2 session.ended:5 wallet.topped_up:2"
check "no attempt or delivery is left without its delivery or event" \
	test "$(q "SELECT (SELECT count(*) FROM webhook_attempts WHERE delivery_id NOT IN (SELECT id FROM webhook_deliveries))
		+ (SELECT count(*) FROM webhook_deliveries WHERE event_id NOT IN (SELECT id FROM webhook_events))")" = 0

before=$(dump)
again=$(ctl purge)
check "a second purge finds nothing more" jsonok '.audit == 0 and .deliveries == 0 and .events == 0' <<<"$again"
check "... and changes nothing" test "$before" = "$(dump)"

ctl wallet topup Asha 1.00 >/dev/null
check "the wallet's next event goes on from the kept one: sequence 3, not 1 again" \
	test "$(q "SELECT group_concat(sequence) FROM webhook_events WHERE subject = 'user:1'")" = 2,3

# A shorter window from the configuration: the failed delivery (29 days) goes too.
check "webhook_retention_days = 7 purges the 29-day-old failed delivery" \
	jsonok '.deliveries == 1' <<<"$(SESSIONS_WEBHOOK_RETENTION_DAYS=7 ctl purge)"
check "audit_retention_days = 30 purges the 89-day-old audit row" \
	jsonok '.audit == 1' <<<"$(SESSIONS_AUDIT_RETENTION_DAYS=30 ctl purge)"

# Files no row names (an upload cut off, a purge cut short between its rows and its files)
# go once they are an hour old; younger ones may be an upload or a chunk being written.
stray_setup() { # DIR NAMED_OLD: an old named file, an old and a young stray, an old upload part
	mkdir -p "$1"
	head -c 100 /dev/urandom >"$1/$2" && touch -d '3 hours ago' "$1/$2"
	head -c 300 /dev/urandom >"$1/$3" && touch -d '61 minutes ago' "$1/$3"
	head -c 50 /dev/urandom >"$1/$4" && touch -d '59 minutes ago' "$1/$4"
}
files=${SESSIONS_DB%.db}-files
hex() { head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n'; }
kept=$(hex) gone=$(hex) young=$(hex)
ctl files purge >/dev/null # makes the chat file
stray_setup "$files" "$kept" "$gone" "$young"
head -c 200 /dev/urandom >"$files/$(hex).part" && touch -d '2 hours ago' "$files"/*.part
sqlite3 "${SESSIONS_DB%.db}-chat.db" "INSERT INTO chat_files(session_id, sender, name, bytes, type, storage, created_ms)
	VALUES ('$new', 'user', 'chart.png', 100, 'image/png', '$kept', $now)"
out=$(ctl files purge)
check "files purge deletes the upload part and the stray file past an hour, and says so ($out)" \
	jsonok '.files == 0 and .stray == 2 and .strayBytes == 500' <<<"$out"
check "... the file a row names stays however old, the stray 59 minutes old stays, nothing else is left" \
	test "$(ls "$files" | sort | tr '\n' ' ')" = "$(printf '%s\n' "$kept" "$young" | sort | tr '\n' ' ')"
sqlite3 "${SESSIONS_DB%.db}-chat.db" "UPDATE chat_files SET purged_ms = $now WHERE storage = '$kept'"
check "a file whose row says purged is stray: it goes" \
	jsonok '.stray == 1 and .strayBytes == 100' <<<"$(ctl files purge)"

recs=${SESSIONS_DB%.db}-recordings
kept=$(hex).webm gone=$(hex).webm young=$(hex).webm
stray_setup "$recs" "$kept" "$gone" "$young"
q "INSERT INTO recordings(session_id, media, file, bytes, next_seq, started_ms) VALUES ('$new', 'audio', '$kept', 100, 1, $now)"
out=$(ctl recordings purge)
check "recordings purge deletes the recording file no row names past an hour, and says so ($out)" \
	jsonok '.recordings == 0 and .stray == 1 and .strayBytes == 300' <<<"$out"
check "... the recording a row names stays however old, the stray 59 minutes old stays" \
	test "$(ls "$recs" | sort | tr '\n' ' ')" = "$(printf '%s\n' "$kept" "$young" | sort | tr '\n' ' ')"
check "a second recordings purge finds nothing more" \
	jsonok '.recordings == 0 and .stray == 0 and .strayBytes == 0' <<<"$(ctl recordings purge)"

refused "purge takes no argument" purge now
refused "a retention of 0 days" env SESSIONS_WEBHOOK_RETENTION_DAYS=0 sessionctl purge
kill "$rx"
tap_exit
