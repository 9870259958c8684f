# webhooks.test.sh: the outbox holds exactly the changes that happened, each session numbered in order; secrets are never stored readable; bad input changes nothing.
. "$(dirname "$0")/../lib/tap.sh"
tap_tmpdir
export SESSIONS_DB="$TAP_TMP/s.db" SESSIONS_WEBHOOK_ALLOW_PRIVATE=1
ctl() { sessionctl "$@"; }
dump() { sqlite3 "$SESSIONS_DB" .dump; }
events() { sqlite3 "$SESSIONS_DB" "SELECT type FROM webhook_events WHERE subject = '$1' ORDER BY sequence" | tr '\n' ' '; }
count() { sqlite3 "$SESSIONS_DB" "SELECT count(*) FROM $1"; }

ctl user add Asha --balance 100.00 >/dev/null
ctl astrologer add Vega >/dev/null
sid=$(ctl book --user Asha --astrologer Vega --type chat --minutes 5 --price 10.00 | jq -r .sessionId)
check "no endpoint, no events: nothing piles up for nobody" test "$(count webhook_events)" = 0

add=$(ctl webhook add http://127.0.0.1:9/hook)
secret=$(jq -r .secret <<<"$add")
check "webhook add prints the id, the URL and a whsec_ secret of 32 bytes" \
	jsonok '.id == 1 and .url == "http://127.0.0.1:9/hook" and (.secret | test("^whsec_[A-Za-z0-9+/]{43}=$"))' <<<"$add"
raw=$(printf '%s' "${secret#whsec_}" | base64 -d | od -An -tx1 | tr -d ' \n')
check "the database holds neither the secret nor its bytes" \
	sh -c "! grep -qF '${secret#whsec_}' '$SESSIONS_DB' && ! sqlite3 '$SESSIONS_DB' 'SELECT hex(secret_sealed) FROM webhook_endpoints' | tr A-F a-f | grep -q '$raw'"
check "webhook list shows it enabled, without its secret" \
	sh -c "sessionctl webhook list | jq -e 'length == 1 and .[0].enabled and (.[0] | has(\"secret\") | not)' >/dev/null && ! sessionctl webhook list | grep -qF '$secret'"

# A whole session, as sessionctl drives it.
ctl join "$sid" --role user >/dev/null
ctl join "$sid" --role user >/dev/null # a page reload: no second join
ctl join "$sid" --role astrologer >/dev/null
ctl end "$sid" --reason completed >/dev/null
ctl end "$sid" --reason completed >/dev/null # already ended: nothing moves, nothing is told
check "joins, the start and the end are events in order; a repeated join or end adds none" \
	test "$(events "$sid")" = "participant.joined participant.joined session.started session.ended "
check "a session's events are numbered 1, 2, 3, 4 from the first one written (its booking came before any endpoint)" \
	test "$(sqlite3 "$SESSIONS_DB" "SELECT group_concat(sequence) FROM webhook_events WHERE subject = '$sid'")" = "1,2,3,4"
check "session.ended carries the settlement the ledger made" \
	sh -c "sqlite3 '$SESSIONS_DB' \"SELECT payload FROM webhook_events WHERE type = 'session.ended'\" |
		jq -e '.data.session.settlement | .refunded == \"10.00\" and .charged == \"0.00\" and .reason == \"completed\" and .endedBy == \"system\"' >/dev/null"
check "each event goes to the endpoint once" test "$(count webhook_deliveries)" = "$(count webhook_events)"

# What fails leaves no event; what ends otherwise says how.
before=$(count webhook_events)
check "a booking the wallet cannot pay fails" \
	sh -c "! sessionctl book --user Asha --astrologer Vega --type chat --minutes 5 --price 500.00 2>/dev/null"
check "and writes no event" test "$(count webhook_events)" = "$before"
cancel=$(ctl book --user Asha --astrologer Vega --type chat --minutes 5 --price 1.00 | jq -r .sessionId)
ctl end "$cancel" >/dev/null
check "ending a session nobody joined is booking.cancelled" \
	test "$(events "$cancel")" = "booking.created booking.cancelled "
late=$(ctl book --user Asha --astrologer Vega --type chat --minutes 1 --price 1.00 \
	--starts "$(date -u -d '-2 hours' +%Y-%m-%dT%H:%M:%SZ)" | jq -r .sessionId)
ctl expire >/dev/null
check "a booking whose link ran out is session.expired, refunded in full" \
	sh -c "test \"\$(sqlite3 '$SESSIONS_DB' \"SELECT type FROM webhook_events WHERE subject = '$late' ORDER BY sequence DESC LIMIT 1\")\" = session.expired &&
		sqlite3 '$SESSIONS_DB' \"SELECT payload FROM webhook_events WHERE subject = '$late' AND type = 'session.expired'\" | jq -e '.data.session.settlement.refunded == \"1.00\"' >/dev/null"
ctl wallet topup Asha 2.50 >/dev/null
check "a top-up is wallet.topped_up with the amount and the balance after it" \
	sh -c "sqlite3 '$SESSIONS_DB' \"SELECT payload FROM webhook_events WHERE type = 'wallet.topped_up'\" |
		jq -e '.type == \"wallet.topped_up\" and .sequence == 1 and .data.user == \"Asha\" and .data.amount == \"2.50\"' >/dev/null"
check "the money still adds up" sh -c "sessionctl ledger check >/dev/null"

# Rotation keeps the old secret sealed beside the new one for a day.
rot=$(ctl webhook rotate 1)
check "webhook rotate prints a new secret and when the old one stops signing" \
	jsonok ".id == 1 and (.secret | startswith(\"whsec_\")) and .secret != \"$secret\" and (.previousSecretUntil | test(\"Z$\"))" <<<"$rot"
check "webhook deliveries lists them newest first; --failed none yet" \
	sh -c "sessionctl webhook deliveries | jq -e 'length > 5 and .[0].status == \"pending\" and .[0].attempts == 0' >/dev/null &&
		sessionctl webhook deliveries --failed | jq -e 'length == 0' >/dev/null"

# Each bad input: a non-zero exit, a message on stderr, the database unchanged.
refused "an endpoint id that is not a number" webhook remove one
refused "an endpoint id of 0" webhook rotate 0
refused "an unknown endpoint" webhook remove 7
refused "an unknown delivery" webhook retry 99999
refused "a URL that is not http(s)" webhook add gopher://127.0.0.1/
refused "a URL longer than 512 bytes" webhook add "http://127.0.0.1/$(head -c 600 /dev/zero | tr '\0' a)"
refused "an unknown option" webhook deliveries --all
refused "a --limit of 0" webhook deliveries --limit 0
before=$(dump)
check "refused: a private URL without webhook_allow_private, naming the setting" \
	sh -c "SESSIONS_WEBHOOK_ALLOW_PRIVATE=0 sessionctl webhook add http://192.168.0.10/ 2>&1 >/dev/null | grep -q webhook_allow_private"
check "and the database is unchanged" test "$(dump)" = "$before"

# Another key cannot open the sealed secrets: the deliverer says so and sends nothing.
cp "$SESSIONS_DB.key" "$TAP_TMP/key.saved"
head -c 32 /dev/urandom >"$SESSIONS_DB.key"
out=$(timeout 2 sessions-webhooks --db "$SESSIONS_DB" 2>&1)
check "with another key the secrets do not open, and nothing is sent" \
	sh -c "printf '%s' '$out' | grep -q 'does not open with this key' && [ \"\$(sqlite3 '$SESSIONS_DB' 'SELECT count(*) FROM webhook_attempts')\" = 0 ]"
cp "$TAP_TMP/key.saved" "$SESSIONS_DB.key"

ctl webhook remove 1 >/dev/null
check "webhook remove forgets the endpoint with its deliveries" \
	test "$(count webhook_endpoints) $(count webhook_deliveries)" = "0 0"
check "a removed endpoint's id is never given again" \
	sh -c "sessionctl webhook add http://127.0.0.1:9/again | jq -e '.id == 2' >/dev/null"
tap_exit
