# sessionctl.test.sh: the command line end to end, and every bad input refused without a trace.
. "$(dirname "$0")/../lib/tap.sh"
tap_tmpdir
export SESSIONS_DB="$TAP_TMP/s.db"
ctl() { sessionctl "$@"; }
dump() { sqlite3 "$SESSIONS_DB" .dump; }

ctl user add Asha --balance 100.00 >/dev/null
ctl astrologer add Vega >/dev/null
book=$(ctl book --user Asha --astrologer Vega --type video --minutes 30 --price 97.00 \
	--starts 2030-01-01T10:00:00Z)
sid=$(jq -r .sessionId <<<"$book")
check "book prints sessionId, roomId, both tokens and both URLs" \
	jsonok '.sessionId and .roomId and (.userToken|length==43) and (.astrologerToken|length==43)
		and (.userUrl|test("^http://127.0.0.1:8080/session/")) and (.userUrl|endswith("/")|not)
		and (.astrologerUrl == "http://127.0.0.1:8080/session/" + .astrologerToken)' \
	<<<"$book"
check "booking freezes the price" \
	test "$(ctl wallet show Asha | jq -c '[.balance,.frozen]')" = '["3.00","97.00"]'
check "--help works on a command" sh -c 'sessionctl book --help | grep -q -- --minutes'
check "--help works at the top" sh -c 'sessionctl --help | grep -q "ledger check"'
check "the database can come from --db" \
	sh -c "SESSIONS_DB= sessionctl --db '$SESSIONS_DB' wallet show Asha | grep -q 97.00"
check "list shows the booking" sh -c "sessionctl list | jq -e '.[0].sessionId == \"$sid\"' >/dev/null"
check "show gives state and events" \
	sh -c "sessionctl show $sid | jq -e '.status == \"scheduled\" and .events[0].kind == \"created\"' >/dev/null"

# Each bad input: a non-zero exit, a message on stderr, the database unchanged.
refused "unknown session type" book --user Asha --astrologer Vega --type phone --minutes 5 --price 1.00
refused "negative price" book --user Asha --astrologer Vega --type chat --minutes 5 --price -1.00
refused "price with three decimals" book --user Asha --astrologer Vega --type chat --minutes 5 --price 1.005
refused "absurd price" book --user Asha --astrologer Vega --type chat --minutes 5 --price 99999999.00
refused "price short of the balance" book --user Asha --astrologer Vega --type chat --minutes 5 --price 3.01
refused "zero minutes" book --user Asha --astrologer Vega --type chat --minutes 0 --price 1.00
refused "minutes not a number" book --user Asha --astrologer Vega --type chat --minutes ten --price 1.00
refused "unknown user" book --user Nobody --astrologer Vega --type chat --minutes 5 --price 1.00
refused "unknown astrologer" book --user Asha --astrologer Nobody --type chat --minutes 5 --price 1.00
refused "missing --price" book --user Asha --astrologer Vega --type chat --minutes 5
refused "bad --starts" book --user Asha --astrologer Vega --type chat --minutes 5 --price 1.00 --starts tomorrow
# The zone's offset must not carry a time outside the years 1970..9999 that the formatter prints.
refused "--starts before 1970 once its offset applies" book --user Asha --astrologer Vega --type chat \
	--minutes 5 --price 1.00 --starts 1970-01-01T00:30+01:00
refused "--starts after 9999 once its offset applies" book --user Asha --astrologer Vega --type chat \
	--minutes 5 --price 1.00 --starts 9999-12-31T23:59-01:00
refused "unknown option" book --user Asha --astrologer Vega --type chat --minutes 5 --price 1.00 --free
refused "duplicate user" user add Asha
refused "duplicate astrologer" astrologer add Vega
refused "negative opening balance" user add Ravi --balance -5
refused "empty name" user add ""
refused "top-up of a negative amount" wallet topup Asha -5.00
refused "top-up of zero" wallet topup Asha 0
refused "top-up over precise" wallet topup Asha 1.001
refused "top-up for an unknown user" wallet topup Nobody 5.00
refused "wallet of an unknown user" wallet show Nobody
refused "unknown session" show 00000000-0000-4000-8000-000000000000
refused "end of an unknown session" end 00000000-0000-4000-8000-000000000000
refused "link without --rotate" link "$sid" --role user
refused "link with a bad role" link "$sid" --role admin --rotate
refused "unknown command" launch
refused "no database" --db "" wallet show Asha

old_user_token=$(jq -r .userToken <<<"$book")
new=$(ctl link "$sid" --role user --rotate)
check "link --rotate prints a new URL" jsonok '.url == "http://127.0.0.1:8080/session/" + .token' <<<"$new"
check "the rotated token differs" test "$(jq -r .token <<<"$new")" != "$old_user_token"

check "ledger check holds" sh -c 'sessionctl ledger check >/dev/null'
sqlite3 "$SESSIONS_DB" "UPDATE accounts SET balance = balance + 5 WHERE kind = 'platform'"
check "ledger check fails on a tampered balance, saying what is wrong" \
	sh -c 'out=$(sessionctl ledger check 2>&1); [ $? -ne 0 ] && echo "$out" | grep -q "platform"'
sqlite3 "$SESSIONS_DB" "UPDATE accounts SET balance = balance - 5 WHERE kind = 'platform'"

# expire runs as cron does: twice in a row, and at once.
past=$(ctl book --user Asha --astrologer Vega --type chat --minutes 1 --price 1.00 \
	--starts 2020-01-01T00:00:00Z | jq -r .sessionId)
ctl expire >"$TAP_TMP/e1" & ctl expire >"$TAP_TMP/e2" & wait
check "two concurrent expire runs expire a stale booking once" \
	test "$(cat "$TAP_TMP/e1" "$TAP_TMP/e2" | jq -s 'map(.expired)|add')" = 1
check "a second run finds nothing" test "$(ctl expire | jq .expired)" = 0
check "the stale booking is refunded as a no-show" \
	test "$(ctl show "$past" | jq -r '.status + "/" + .settlement.reason + "/" + .settlement.refunded')" = "expired/no_show/1.00"
check "ledger check holds after expiry" sh -c 'sessionctl ledger check >/dev/null'
new_token=$(jq -r .token <<<"$new")
check "no token, old or new, is stored in the database files" \
	sh -c "! cat '$SESSIONS_DB'* | grep -a -q -e '$old_user_token' -e '$new_token'"
tap_exit
