# perms.test.sh: the units' owners and modes, acted out with real users: nginx's workers (www-data) reach the sockets, nobody else does.
#
# systemd is not PID 1 everywhere the tests run, so this does by hand what
# the units ask systemd to do, with the values read from the unit files:
# the service user is played by "daemon" (the tests add no users).
. "$(dirname "$0")/lib.sh"
deploy_setup
units=$root/deploy/systemd
unit_value() { sed -n "s/^$2=//p" "$units/$1"; }

if [ "$(id -u)" -ne 0 ]; then
	check "acting out the service users needs root" false
	tap_exit
	exit
fi
as() { local u=$1; shift; setpriv --reuid="$u" --regid="$(id -g "$u")" --clear-groups "$@"; }

chmod 0711 "$TAP_TMP"
site=$TAP_TMP/site
state=$TAP_TMP/state
install -d -o daemon -g daemon -m 0700 "$state" # /var/lib/sessions
export SESSIONS_CONF=/dev/null SESSIONS_DB=$state/sessions.db
unset SESSIONS_MINUTE_MS
as daemon sessionctl init >/dev/null && as daemon sessionctl user add Asha --balance 100.00 >/dev/null &&
	as daemon sessionctl astrologer add Vega >/dev/null
tok=$(as daemon sessionctl book --user Asha --astrologer Vega --type chat --minutes 10 --price 5.00 | jq -r .userToken)
check "the service user made the database in its own 0700 directory" test ${#tok} -eq 43
check "... and the chat file beside it, its own and 0640" \
	test "$(stat -c '%U %a' "$state/sessions-chat.db")" = "daemon 640"

# Files shared in chat and recordings, as docs/INSTALL.md sets them up: nginx's group passes
# through the state directory without listing it; init, run as root for the service user, makes
# the files and recordings directories nginx's group reads, whose files take that group.
chgrp www-data "$state" && chmod 0710 "$state"
sessionctl init --owner daemon >/dev/null
check "init as root with --owner makes the files and recordings directories daemon:www-data 2750" \
	test "$(stat -c '%U:%G %a' "$state/sessions-files" "$state/sessions-recordings" | sort -u)" = "daemon:www-data 2750"
export SITE_FILES=$state/sessions-files

# sessions-api@.socket: a root-owned directory, sockets SocketUser:SocketGroup SocketMode.
site_render "$site" "$(free_port)" "$(free_port)"
chmod 0755 "$site" "$site/api"
sock_mode=$(unit_value sessions-api@.socket SocketMode)
sock_group=$(unit_value sessions-api@.socket SocketGroup)
# The programs run as daemon from a copy, as installed programs are: the checkout may sit in a
# directory only root can enter (mktemp -d makes it 0700).
install -d -m 0755 "$site/bin"
for name in health validate files; do
	install -m 0755 "$bin/api-$name" "$site/bin/"
	spawn-fcgi -s "$site/api/$name.sock" -M "$sock_mode" -U daemon -G "$sock_group" -u daemon -g daemon \
		-P "$site/api-$name.pid" -- "$site/bin/api-$name" --db "$SESSIONS_DB" >/dev/null 2>&1
done
check "an API socket is daemon:$sock_group, mode ${sock_mode#0}" \
	test "$(stat -c '%U:%G %a' "$site/api/health.sock")" = "daemon:$sock_group ${sock_mode#0}"

# sessions-relay.service: RuntimeDirectory with its mode, ExecStartPre's chgrp, UMask.
run_mode=$(unit_value sessions-relay.service RuntimeDirectoryMode)
run_group=$(unit_value sessions-relay.service ExecStartPre | sed -n 's|^+/bin/chgrp \([a-z-]*\) .*|\1|p')
relay_umask=$(unit_value sessions-relay.service UMask)
install -d -o daemon -g daemon -m "$run_mode" "$site/relay"
chgrp "$run_group" "$site/relay"
(umask "$relay_umask" && exec setpriv --reuid=daemon --regid=daemon --clear-groups "$bin/relay" \
	--db "$SESSIONS_DB" --socket "$site/relay/relay.sock" --origin https://sessions.example.com) \
	>>"$site/log/relay.log" 2>&1 &
echo $! >"$site/relay.pid"
check "the relay made its socket" wait_for test -S "$site/relay/relay.sock"
relay_perms="$(stat -c '%U:%G %a' "$site/relay/relay.sock") in $(stat -c %a "$site/relay")"
check "the relay's socket is daemon:$run_group, group read-write, others nothing, in a $run_mode directory ($relay_perms)" \
	grep -qE "^daemon:$run_group [67][67]0 in ${run_mode#0}$" <<<"$relay_perms"

# nginx as Debian runs it: the workers are www-data.
sed -i 's/^user root root;$/user www-data www-data;/' "$site/nginx.conf"
chown -R www-data "$site/tmp"
check "nginx's workers run as www-data" grep -qx 'user www-data www-data;' "$site/nginx.conf"
site_up() {
	local i
	for i in 1 2 3; do
		HTTP_PORT=$(free_port) && HTTPS_PORT=$(free_port) || return 1
		sed -i -E "s/listen 127\.0\.0\.1:[0-9]+;/listen 127.0.0.1:$HTTP_PORT;/;
		           s/listen 127\.0\.0\.1:[0-9]+ ssl/listen 127.0.0.1:$HTTPS_PORT ssl/" "$site/site.conf"
		nginx -p "$site/" -e "$site/log/error.log" -c "$site/nginx.conf" 2>/dev/null && return 0
	done
	return 1
}
check "nginx starts" site_up
# The API program may still be starting behind its socket on a busy machine: asked again for up to 10 s.
health_ok() { test "$(https /api/health -o /dev/null -w '%{http_code}')" = 200; }
check "through www-data, GET /api/health reaches the API socket" wait_for health_ok
check "through www-data, a WebSocket reaches the relay's socket and joins" \
	test "$(ws_first https://sessions.example.com "$tok")" = joined

check "another user cannot connect to an API socket" \
	fails as nobody cgi-fcgi -bind -connect "$site/api/health.sock"
check "another user cannot connect to the relay's socket" \
	fails as nobody curl -s --max-time 2 --unix-socket "$site/relay/relay.sock" http://relay/ws
check "www-data cannot read the database directory" fails as www-data ls "$state"

{ printf '\211PNG\r\n\032\n'; head -c 3000 /dev/urandom; } >"$TAP_TMP/shared.png"
upload() {
	https /api/sessions/files -H "Authorization: Bearer $tok" -H 'Content-Type: image/png' \
		-H 'X-File-Name: chart.png' --data-binary @"$TAP_TMP/shared.png"
}
file_id=$(upload | jq -r .id)
check "through www-data, an upload reaches api-files and is stored (id $file_id)" test "$file_id" -ge 1 2>/dev/null
check "... as daemon:www-data 640 in the files directory" \
	test "$(stat -c '%U:%G %a' "$state"/sessions-files/* | sort -u)" = "daemon:www-data 640"
check "through www-data, nginx sends the stored bytes back (X-Accel-Redirect into the files directory)" \
	sh -c "curl -sk --max-time 10 --resolve 'sessions.example.com:$HTTPS_PORT:127.0.0.1' \
		-H 'Authorization: Bearer $tok' 'https://sessions.example.com:$HTTPS_PORT/api/sessions/files/$file_id' |
		cmp -s - '$TAP_TMP/shared.png'"
check "www-data still reads none of the database's files" \
	sh -c "for f in '$state'/sessions*.db '$state'/sessions.db.key; do ! setpriv --reuid=www-data --regid=www-data --clear-groups cat \"\$f\" >/dev/null 2>&1 || exit 1; done"
check "the relay's database files stay out of other users' reach" \
	sh -c "! find '$state' -maxdepth 1 -type f -exec stat -c %A {} + | grep -v '^-rw-r-----$' | grep -v '^-rw-rw----$' | grep -v '^-rw-------$' | grep -q ."
tap_exit
