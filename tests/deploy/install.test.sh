# install.test.sh: make install into a scratch DESTDIR, then the installed programs run against a fresh database.
. "$(dirname "$0")/lib.sh"
deploy_setup
dest=$TAP_TMP/root
prefix=/usr/local
lib=$dest$prefix/lib/sessions
share=$dest$prefix/share/sessions
ctl=$dest$prefix/bin/sessionctl

check "make install PREFIX=$prefix DESTDIR=... succeeds" \
	quiet make -s -C "$root" install PREFIX="$prefix" DESTDIR="$dest"
installed_all() {
	local f
	for f in "$ctl" "$lib"/api-validate "$lib"/api-join "$lib"/api-end "$lib"/api-health \
		"$lib"/api-ice "$lib"/relay "$lib"/sessions-run; do
		[ -x "$f" ] || { echo "# missing $f"; return 1; }
	done
	for f in "$share"/schema.sql "$share"/html/session.html "$share"/sessions.conf.example \
		"$share"/turnserver.conf "$share"/INSTALL.md "$share"/nginx-sessions.conf \
		"$dest"/etc/sessions/sessions.conf "$dest"/etc/nginx/sites-available/sessions \
		"$dest"/etc/cron.d/sessions "$dest"/etc/systemd/system/sessions-api@.service \
		"$dest"/etc/systemd/system/sessions-api@.socket "$dest"/etc/systemd/system/sessions-relay.service; do
		[ -f "$f" ] || { echo "# missing $f"; return 1; }
	done
}
check "programs, pages, schema, docs, units, site, cron file and configuration are installed" installed_all
check "the configuration file is not world-readable (it holds the TURN secret)" \
	test "$(stat -c %a "$dest/etc/sessions/sessions.conf")" = 640
check "no installed file still holds a @PLACEHOLDER@" \
	sh -c "! grep -rl '@[A-Z]*DIR@' '$dest/etc' '$share' '$lib/sessions-run'"
check "the units and the cron file point at the installed programs" \
	sh -c "grep -q '^ExecStart=$prefix/lib/sessions/sessions-run api %i$' '$dest/etc/systemd/system/sessions-api@.service' &&
	       grep -q ' sessions  $prefix/bin/sessionctl expire' '$dest/etc/cron.d/sessions'"
check "the site serves the installed pages" grep -q "root $prefix/share/sessions/html;" "$dest/etc/nginx/sites-available/sessions"
check "the installed page names its files by the version of the installed files" \
	grep -q "src=\"/v/$(sh "$root/deploy/page-version.sh" "$share/html")/js/session.js\"" "$share/html/session.html"
check "... and so does the installed console" \
	grep -q "src=\"/v/$(sh "$root/deploy/page-version.sh" "$share/html")/js/console.js\"" "$share/html/console.html"

# Every key the programs know is in the example, commented out with its default.
documented() {
	local key value line
	while IFS=$'\t' read -r key value; do
		[ "$key" = database ] && continue # no default: the example sets it
		line="# $key = $value"
		[ -n "$value" ] || line="# $key ="
		grep -qxF "$line" "$root/deploy/sessions.conf.example" || { echo "# not documented: $line"; return 1; }
	done < <(env -i PATH="$PATH" SESSIONS_CONF=/dev/null "$ctl" config --quiet |
		jq -r 'to_entries[] | [.key, .value.value // ""] | @tsv')
	grep -q '^database = ' "$root/deploy/sessions.conf.example"
}
check "the example configuration documents every key with its default" documented
check "the installed configuration is accepted as it is" \
	quiet env SESSIONS_CONF="$dest/etc/sessions/sessions.conf" "$ctl" config

# The installed configuration, pointed at a scratch database, drives everything.
conf=$dest/etc/sessions/sessions.conf
mkdir -p "$TAP_TMP/state"
sed -i "s|^database = .*|database = $TAP_TMP/state/sessions.db|; s|^public_url = .*|public_url = https://shop.example|" "$conf"
export SESSIONS_CONF=$conf
unset SESSIONS_DB SESSIONS_PUBLIC_URL
check "sessionctl init makes the database and its chat file (0640) and its key (0600) where the file says" \
	sh -c "'$ctl' init >/dev/null && [ \$(stat -c %a '$TAP_TMP/state/sessions.db') = 640 ] &&
	       [ \$(stat -c %a '$TAP_TMP/state/sessions-chat.db') = 640 ] &&
	       [ \$(stat -c %a '$TAP_TMP/state/sessions.db.key') = 600 ]"
check "... and the files and recordings directories beside it, 2750" \
	test "$(stat -c %a "$TAP_TMP/state/sessions-files" "$TAP_TMP/state/sessions-recordings" | sort -u)" = 2750
# coturn beside the site: init makes the shared secret once and puts it in both files.
coturn=$TAP_TMP/turnserver.conf
install -m 0640 "$share/turnserver.conf" "$coturn"
init_turn() {
	local out secret
	out=$("$ctl" init --turn "$coturn") && jsonok '.turn.secret == "generated"' <<<"$out" || return 1
	secret=$(sed -n 's/^static-auth-secret=//p' "$coturn")
	[[ $secret =~ ^[0-9a-f]{64}$ ]] && grep -qxF "turn_secret = $secret" "$conf" &&
		[[ $out != *"$secret"* ]] && [ "$(stat -c %a "$coturn")" = 640 ] && grep -qx 'realm=shop.example' "$coturn"
}
check "sessionctl init --turn puts a new TURN secret in the settings and the same one in coturn's file (mode kept, never printed)" init_turn
check "... with TURN over UDP and TCP on 3478 and TLS on 5349 at public_url's host, and that host as STUN server" \
	jsonok '.turn_urls.value == "turn:shop.example:3478?transport=udp, turn:shop.example:3478?transport=tcp, turns:shop.example:5349?transport=tcp" and
	        .ice_servers.value == "[{\"urls\":\"stun:shop.example:3478\"}]" and .turn_secret.value == "(set)"' \
	<<<"$("$ctl" config)"
init_again() {
	local before
	before=$(sed -n 's/^static-auth-secret=//p' "$coturn")
	sed -i "s/^static-auth-secret=.*/static-auth-secret=stale/" "$coturn"
	"$ctl" init --turn "$coturn" | jsonok '.turn.secret == "kept"' &&
		[ "$(sed -n 's/^static-auth-secret=//p' "$coturn")" = "$before" ] && [ "$(grep -c '^turn_secret' "$conf")" = 1 ]
}
check "init --turn again keeps the secret in force and writes it to coturn's file again" init_again
not_recipe() {
	local out
	printf 'listening-port=3478\n' >"$TAP_TMP/other.conf"
	out=$("$ctl" init --turn "$TAP_TMP/other.conf" 2>&1) && return 1
	grep -q 'no static-auth-secret= line' <<<"$out" && [ "$(cat "$TAP_TMP/other.conf")" = listening-port=3478 ]
}
check "init --turn on a file that is not coturn's recipe fails, saying so, and leaves it as it was" not_recipe

booking=$("$ctl" user add Asha --balance 100.00 >/dev/null && "$ctl" astrologer add Vega >/dev/null &&
	"$ctl" book --user Asha --astrologer Vega --type voice --minutes 5 --price 10.00)
check "the installed sessionctl books a session with links on the configured site" \
	jsonok '.userUrl | startswith("https://shop.example/session/")' <<<"$booking"
check "... and its ledger holds" sh -c "'$ctl' ledger check >/dev/null"
tok=$(jq -r .userToken <<<"$booking")

# sessions-run is what systemd starts: the database and origin come from the file.
spawn-fcgi -s "$TAP_TMP/validate.sock" -P "$TAP_TMP/validate.pid" -- "$lib/sessions-run" api validate \
	>/dev/null 2>&1
validate_ok() {
	fcgi_post "$TAP_TMP/validate.sock" "$tok" | jsonok '.valid == true and .sessionType == "voice"'
}
check "sessions-run api validate answers for the configured database" wait_for validate_ok
# The booking API's program has a digit in its name (api-v1).
key=$("$ctl" apikey add installer | jq -r .key)
spawn-fcgi -s "$TAP_TMP/v1.sock" -P "$TAP_TMP/v1.pid" -- "$lib/sessions-run" api v1 >/dev/null 2>&1
v1_ok() {
	REQUEST_METHOD=GET REQUEST_URI=/api/v1/astrologers HTTP_AUTHORIZATION="Bearer $key" \
		cgi-fcgi -bind -connect "$TAP_TMP/v1.sock" | sed '1,/^\r\{0,1\}$/d' | jsonok '.astrologers[0].astrologer == "Vega"'
}
check "sessions-run api v1 answers the booking API for the configured database" wait_for v1_ok
"$lib/sessions-run" relay "$TAP_TMP/relay.sock" 2>>"$TAP_TMP/relay.log" &
echo $! >"$TAP_TMP/relay.pid"
check "sessions-run relay listens on the socket it is given" wait_for test -S "$TAP_TMP/relay.sock"
check "... and accepts the configured site as the origin" \
	sh -c "tr '\\0' ' ' </proc/$(cat "$TAP_TMP/relay.pid")/cmdline | grep -q -- '--db $TAP_TMP/state/sessions.db --socket $TAP_TMP/relay.sock --origin https://shop.example'"
check "sessions-run refuses an API name that is not a program name" \
	sh -c "! '$lib/sessions-run' api ../../bin/sh 2>/dev/null"
sed "s|^database = .*|# database =|" "$conf" >"$TAP_TMP/nodb.conf"
check "sessions-run stops with a clear error when no database is configured" \
	sh -c "SESSIONS_CONF='$TAP_TMP/nodb.conf' '$lib/sessions-run' api health 2>&1 | grep -q 'set database in the configuration file'"

# A second install is an upgrade: the administrator's files stay.
echo "# edited" >>"$conf"
echo "# edited" >>"$dest/etc/nginx/sites-available/sessions"
make -s -C "$root" install PREFIX="$prefix" DESTDIR="$dest" >/dev/null
check "installing again keeps the edited configuration and nginx site" \
	sh -c "tail -1 '$conf' | grep -qx '# edited' && tail -1 '$dest/etc/nginx/sites-available/sessions' | grep -qx '# edited'"
wallet_frozen() { "$ctl" wallet show Asha | jsonok '.frozen == "10.00"'; }
check "... and the installed sessionctl still reads the same database" wallet_frozen
tap_exit
