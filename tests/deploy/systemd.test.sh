# systemd.test.sh: the installed units pass systemd-analyze verify and its offline security review, and match the nginx site.
. "$(dirname "$0")/lib.sh"
deploy_setup
dest=$TAP_TMP/root
units=$TAP_TMP/units
make -s -C "$root" install PREFIX=/usr/local DESTDIR="$dest" >/dev/null || echo "not ok - make install"
endpoints=$(cd "$bin" && ls api-* | sed 's/^api-//')

# verify checks that ExecStart= programs exist: point the units at the DESTDIR copies.
mkdir -p "$units"
for name in $endpoints; do
	for kind in socket service; do
		sed "s|/usr/local/|$dest/usr/local/|g" "$dest/etc/systemd/system/sessions-api@.$kind" \
			>"$units/sessions-api@$name.$kind"
	done
done
for unit in sessions-relay sessions-webhooks; do
	sed "s|/usr/local/|$dest/usr/local/|g" "$dest/etc/systemd/system/$unit.service" \
		>"$units/$unit.service"
done

# verify: exit 0 and not one warning (an unknown key is only a warning).
verify_clean() {
	local out
	out=$(cd "$units" && systemd-analyze verify "$@" 2>&1) || { echo "$out" | sed 's/^/# /'; return 1; }
	[ -z "$out" ] || { echo "$out" | sed 's/^/# /'; return 1; }
}
check "systemd-analyze runs here" quiet systemd-analyze --version
for name in $endpoints; do
	check "systemd-analyze verify: sessions-api@$name.socket and .service" \
		verify_clean "./sessions-api@$name.socket" "./sessions-api@$name.service"
done
check "systemd-analyze verify: sessions-relay.service" verify_clean ./sessions-relay.service
check "systemd-analyze verify: sessions-webhooks.service" verify_clean ./sessions-webhooks.service
# coturn: Debian's unit with the installed drop-in beside it, as systemd would merge them.
mkdir -p "$units/coturn.service.d"
cp "$dest/etc/systemd/system/coturn.service.d/sessions.conf" "$units/coturn.service.d/"
if [ -f /lib/systemd/system/coturn.service ]; then
	cp /lib/systemd/system/coturn.service "$units/"
	check "systemd-analyze verify: Debian's coturn.service with the installed drop-in" verify_clean ./coturn.service
else
	echo "not ok - Debian's coturn is installed (deploy/deps.sh test)"
fi

# The same checks must be able to fail.
sed 's/^ProtectSystem=/ProtectSytem=/' "$units/sessions-relay.service" >"$units/typo.service"
check "verify_clean catches a misspelt hardening key" fails verify_clean ./typo.service
sed "s|^ExecStart=.*|ExecStart=$TAP_TMP/missing|" "$units/sessions-relay.service" >"$units/noexec.service"
check "verify_clean catches a program that is not installed" fails verify_clean ./noexec.service

# Exposure on systemd's 0-10 scale (lower is safer); --threshold is in tenths.
exposure() { systemd-analyze security --offline=true --threshold=20 "$units/$1" >/dev/null 2>&1; }
for unit in sessions-api@validate.service sessions-relay.service sessions-webhooks.service; do
	level=$(systemd-analyze security --offline=true "$units/$unit" 2>/dev/null | sed -n 's/.*exposure level for .*: \([0-9.]*\).*/\1/p')
	check "$unit: offline security exposure $level is at most 2.0" exposure "$unit"
done
printf '[Service]\nExecStart=/bin/true\n' >"$units/bare.service"
check "an unhardened unit is over that threshold" fails exposure bare.service

hardened() {
	local f=$1 line
	for line in User=sessions Restart=on-failure NoNewPrivileges=yes ProtectSystem=strict \
		ReadWritePaths=/var/lib/sessions PrivateTmp=yes ProtectHome=yes CapabilityBoundingSet= UMask=0007; do
		grep -qx "$line" "$f" || { echo "# $f lacks $line"; return 1; }
	done
}
check "sessions-api@.service runs as sessions, restarts on failure, hardened" \
	hardened "$dest/etc/systemd/system/sessions-api@.service"
check "sessions-relay.service runs as sessions, restarts on failure, hardened" \
	hardened "$dest/etc/systemd/system/sessions-relay.service"
check "sessions-webhooks.service runs as sessions, restarts on failure, hardened" \
	hardened "$dest/etc/systemd/system/sessions-webhooks.service"

# The sockets the units make are the sockets the site talks to, and only nginx may use them.
site=$dest/etc/nginx/sites-available/sessions
check "the API sockets are /run/sessions-api/NAME.sock, as the site's fastcgi_pass" \
	sh -c "grep -qx 'ListenStream=/run/sessions-api/%i.sock' '$dest/etc/systemd/system/sessions-api@.socket' &&
	       grep -q 'fastcgi_pass unix:/run/sessions-api/\$sessions_api_program.sock;' '$site'"
check "only the sessions user and nginx's group may connect to an API socket" \
	sh -c "grep -qx 'SocketUser=sessions' '$units/sessions-api@health.socket' &&
	       grep -qx 'SocketGroup=www-data' '$units/sessions-api@health.socket' &&
	       grep -qx 'SocketMode=0660' '$units/sessions-api@health.socket'"
check "the relay's socket is where the site proxies /ws" \
	sh -c "grep -q 'sessions-run relay /run/sessions-relay/relay.sock$' '$units/sessions-relay.service' &&
	       grep -q 'proxy_pass http://unix:/run/sessions-relay/relay.sock:;' '$site'"
routed() {
	local name path re
	re=$(grep -o 'location ~ "^/api/(sessions[^"]*"' "$site" | cut -d'"' -f2)
	[ -n "$re" ] || { echo "# the site has no API location"; return 1; }
	for name in $endpoints; do
		# An API of its own folder (cgi/v1/) routes its paths itself: the site hands it /api/NAME/.
		if [ -d "$root/cgi/$name" ]; then
			grep -q "^ *location /api/$name/ {" "$site" &&
				grep -q "fastcgi_pass unix:/run/sessions-api/$name.sock;" "$site" ||
				{ echo "# /api/$name/ is not routed to its socket"; return 1; }
			continue
		fi
		# A program with a location of its own (raw bodies, its own size cap, paths past its name) names its socket there.
		if grep -q "fastcgi_pass unix:/run/sessions-api/$name.sock;" "$site"; then
			grep -q "^ *location ~ \"^/api/sessions/$name[(\"]" "$site" ||
				{ echo "# /api/sessions/$name has no location of its own"; return 1; }
			continue
		fi
		path=/api/sessions/$name
		[ "$name" = health ] && path=/api/health
		grep -qE "^ +$path +$name;$" "$site" || { echo "# $path is not in the site's map"; return 1; }
		echo "$path" | grep -qE "$re" ||
			{ echo "# $path does not match the site's API location"; return 1; }
	done
}
check "every API program built ($(echo $endpoints)) is routed by the production site" routed
tap_exit
