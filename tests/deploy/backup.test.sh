# backup.test.sh: a backup taken while API ends run restores as docs/INSTALL.md says, with its key or without it.
. "$(dirname "$0")/lib.sh"
deploy_setup
db=$TAP_TMP/live/sessions.db
mkdir -p "$TAP_TMP/live" "$TAP_TMP/restored" "$TAP_TMP/keyless"
export SESSIONS_CONF=/dev/null SESSIONS_DB=$db
unset SESSIONS_MINUTE_MS

sessionctl init >/dev/null && sessionctl user add Asha --balance 100000.00 >/dev/null &&
	sessionctl astrologer add Vega >/dev/null
tokens=() ids=()
for i in $(seq 80); do
	b=$(sessionctl book --user Asha --astrologer Vega --type chat --minutes 5 --price 10.00)
	sid=$(jq -r .sessionId <<<"$b")
	sessionctl join "$sid" --role user >/dev/null && sessionctl join "$sid" --role astrologer >/dev/null
	ids+=("$sid") tokens+=("$(jq -r .userToken <<<"$b")")
done
# One more, never joined, whose link the restores must (or must not) open.
later=$(sessionctl book --user Asha --astrologer Vega --type video --minutes 5 --price 10.00)
later_id=$(jq -r .sessionId <<<"$later")
later_tok=$(jq -r .userToken <<<"$later")

mkdir -p "$TAP_TMP/api"
spawn-fcgi -F 4 -s "$TAP_TMP/api/end.sock" -P "$TAP_TMP/api-end.pid" -- "$bin/api-end" --db "$db" >/dev/null 2>&1
# Eighty ends through the API, two at a time, while backups are taken.
export -f fcgi_post
(for t in "${tokens[@]}"; do echo "$t"; done |
	xargs -P 2 -I TOKEN bash -c 'fcgi_post "$0" TOKEN >/dev/null' "$TAP_TMP/api/end.sock") &
ends=$!
bad=0 n=0
while kill -0 "$ends" 2>/dev/null || [ $n -lt 2 ]; do
	n=$((n + 1))
	sessionctl backup "$TAP_TMP/b$n.db" >/dev/null || bad=$((bad + 1))
	sessionctl --db "$TAP_TMP/b$n.db" ledger check >/dev/null 2>&1 || bad=$((bad + 1))
done
wait "$ends"
settled=()
for i in $(seq "$n"); do settled+=("$(sqlite3 "$TAP_TMP/b$i.db" 'SELECT count(*) FROM settlements')"); done
check "$n backups taken while 80 API ends ran each hold their ledger (settlements seen: ${settled[*]})" \
	test "$bad" -eq 0
check "all 80 ends settled in the live database" test "$(sqlite3 "$db" 'SELECT count(*) FROM settlements')" = 80
mid=0
for c in "${settled[@]}"; do [ "$c" -gt 0 ] && [ "$c" -lt 80 ] && mid=$((mid + 1)); done
check "$mid of the backups caught ends in flight (some, not all, settled)" test "$mid" -ge 1
# Opening a backup (ledger check above) makes it a key of its own: look at a fresh one.
key_absent() {
	sessionctl backup "$TAP_TMP/fresh.db" >/dev/null &&
	[ "$(ls "$TAP_TMP" | grep '^fresh' | tr '\n' ' ')" = "fresh-chat.db fresh-files fresh-recordings fresh.db " ] &&
	[ -z "$(find "$TAP_TMP/fresh-files" "$TAP_TMP/fresh-recordings" -mindepth 1)" ] &&
		python3 -c 'import sys; k = open(sys.argv[1],"rb").read()
sys.exit(any(k in open(f,"rb").read() for f in sys.argv[2:]))' \
			"$db.key" "$TAP_TMP/fresh.db" "$TAP_TMP/fresh-chat.db"
}
check "the backup is the database, its chat file and the (here empty) directories of files and recordings, none holding the token key" key_absent

# Restore with the key, as INSTALL.md's steps do it.
last=$TAP_TMP/b$n.db
install -m 0640 "$last" "$TAP_TMP/restored/sessions.db"
install -m 0600 "$db.key" "$TAP_TMP/restored/sessions.db.key"
check "restored with its key: the ledger check holds" \
	quiet sessionctl --db "$TAP_TMP/restored/sessions.db" ledger check
spawn-fcgi -s "$TAP_TMP/api/restored.sock" -P "$TAP_TMP/api-restored.pid" -- "$bin/api-validate" \
	--db "$TAP_TMP/restored/sessions.db" >/dev/null 2>&1
opens() { fcgi_post "$1" "$2" | jsonok ".valid and .sessionId == \"$later_id\" and .participantType == \"user\""; }
check "... and the links given before the backup still open" wait_for opens "$TAP_TMP/api/restored.sock" "$later_tok"

# Restore without the key: the data is whole, the old links are dead, new ones work.
install -m 0640 "$last" "$TAP_TMP/keyless/sessions.db"
keyless=$TAP_TMP/keyless/sessions.db
check "restored without its key: the ledger check holds" quiet sessionctl --db "$keyless" ledger check
spawn-fcgi -s "$TAP_TMP/api/keyless.sock" -P "$TAP_TMP/api-keyless.pid" -- "$bin/api-validate" \
	--db "$keyless" >/dev/null 2>&1
unknown() { fcgi_post "$1" "$2" | jsonok '.error.code == "unknown_link"'; }
check "... the links given before do not open" wait_for unknown "$TAP_TMP/api/keyless.sock" "$later_tok"
new_tok=$(sessionctl --db "$keyless" link "$later_id" --role user --rotate | jq -r '.token // .userToken // empty')
check "... sessionctl link --rotate issues a new one" test ${#new_tok} -eq 43
check "... which opens the session" opens "$TAP_TMP/api/keyless.sock" "$new_tok"
check "... and a new key was made with mode 0600" test "$(stat -c %a "$keyless.key")" = 600
tap_exit
