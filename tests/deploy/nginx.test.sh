# nginx.test.sh: the production site under a real nginx with a throwaway certificate: TLS, redirect, headers, limits, logs, WebSocket.
. "$(dirname "$0")/lib.sh"
deploy_setup
site=$TAP_TMP/site
db=$site/sessions.db
export SESSIONS_DB=$db SESSIONS_PUBLIC_URL=https://sessions.example.com
mkdir -p "$site"

sessionctl init >/dev/null && sessionctl user add Asha --balance 100.00 >/dev/null &&
	sessionctl astrologer add Vega >/dev/null
booking=$(sessionctl book --user Asha --astrologer Vega --type chat --minutes 10 --price 5.00)
tok=$(echo "$booking" | jq -r .userToken)
check "a booking gives a token to look for" test ${#tok} -eq 43

# The development configuration is where headers and limits are worked out: none may be missing here.
same_as_dev() {
	local d
	for d in $(sed -n 's/^ *add_header \([A-Za-z-]*\) .*/add_header:\1/p; s/^ *\(client_[a-z_]*\|large_client_header_buffers\|keepalive_timeout\|send_timeout\|limit_req_status\|limit_conn_status\|server_tokens\|gzip[a-z_]*\) .*/\1/p' \
		"$root/nginx/dev.conf.in" | grep -v _temp_path | sort -u); do
		case "$d" in
		add_header:*) grep -q "^ *add_header ${d#add_header:} " "$root/nginx/sessions.conf" ;;
		*) [ "$(grep -m1 "^ *$d " "$root/nginx/dev.conf.in" | tr -s ' ')" = \
		     "$(grep -m1 "^ *$d " "$root/nginx/sessions.conf" | tr -s ' ')" ] ;;
		esac || { echo "# the production site lacks or differs in: $d"; return 1; }
	done
}
check "the production site has every header, limit and gzip rule of nginx/dev.conf.in" same_as_dev
# The cache rules and the version path, line for line (the map's name differs).
rules_of() {
	sed -n '/^ *map "$status $request_uri"/,/}/p; /^ *location ~ "^\/v\//,/}/p' "$1" |
		sed 's/^ *//; s/\$sessions_cache_control/$cache_control/'
}
check "the production site caches and maps /v/<version>/ exactly as nginx/dev.conf.in" \
	sh -c "[ -n \"\$1\" ] && [ \"\$1\" = \"\$2\" ]" - "$(rules_of "$root/nginx/dev.conf.in")" "$(rules_of "$root/nginx/sessions.conf")"

# Every location of the site's server, as rules: comments, blank lines and
# indentation dropped, and what may differ between the two (the names of
# zones and maps, socket paths, template values, the address list and its
# 403) written the same way, so any other difference is a rule one lacks.
# locations_of FILE N: from the Nth "location / {" to the end of its server.
locations_of() {
	awk -v want="$2" '/^ *location \/ \{/ { n++ }
		n == want { d += gsub(/\{/, "{") - gsub(/\}/, "}"); if (d < 0) exit; print }' "$1" |
	sed -e 's/^ *//' -e '/^#/d' -e '/^$/d' \
	    -e '/^include \/etc\/sessions\/api-access\*\.conf;$/d' -e '/^error_page 403 = @forbidden;$/d' \
	    -e '/^root @PAGE@;$/d' \
	    -e 's/\$sessions_api_program/$api_program/g' -e 's/zone=sessions_api /zone=api /' \
	    -e 's/burst=\(@API_BURST@\|[0-9]*\)/burst=N/' -e 's/^limit_conn \(sessions_ws\|ws\) \(@WS_CONN@\|[0-9]*\);/limit_conn ws N;/' \
	    -e 's|unix:@VAR@/api-|unix:API/|' -e 's|unix:/run/sessions-api/|unix:API/|' \
	    -e 's|unix:@VAR@/relay.sock:|unix:RELAY:|' -e 's|unix:/run/sessions-relay/relay.sock:|unix:RELAY:|' \
	    -e 's%^alias \(@VAR@\|/var/lib/sessions\)/sessions-\(files\|recordings\)/;$%alias STORE/\2/;%' \
	    -e 's/\$sessions_cache_control/$cache_control/' |
	awk '/^location @forbidden \{/ { skip = 1 } !skip { print } skip && /^\}/ { skip = 0 }'
}
same_locations() {
	local d
	d=$(diff <(locations_of "$root/nginx/dev.conf.in" 1) <(locations_of "$root/nginx/sessions.conf" 2)) &&
		[ "$(locations_of "$root/nginx/sessions.conf" 2 | grep -c '^location ')" -ge 10 ] && return 0
	echo "$d" | sed 's/^/# /'
	return 1
}
check "every location of the production site has the rules of nginx/dev.conf.in, line for line" same_locations

check "the production site renders with every listen moved to loopback" \
	site_render "$site" "$(free_port)" "$(free_port)"
check "nginx -t accepts the production site with a self-signed certificate" \
	nginx -t -q -p "$site/" -e "$site/log/error.log" -c "$site/nginx.conf"
sed 's|ssl_certificate_key .*|ssl_certificate_key /nonexistent/privkey.pem;|' "$site/site.conf" >"$site/broken.conf"
sed "s|$site/site.conf|$site/broken.conf|" "$site/nginx.conf" >"$site/nginx-broken.conf"
check "nginx -t refuses the site when certbot's key is missing" \
	sh -c "! nginx -t -q -p '$site/' -e '$site/log/error.log' -c '$site/nginx-broken.conf' 2>/dev/null"

check "the API programs start" api_start "$site" "$db"
"$bin/relay" --db "$db" --socket "$site/relay/relay.sock" --origin https://sessions.example.com \
	>>"$site/log/relay.log" 2>&1 &
echo $! >"$site/relay.pid"
check "nginx starts with the production site on free loopback ports" site_start "$site"
check "the relay made its socket" wait_for test -S "$site/relay/relay.sock"

code_location() { curl -s -o /dev/null -w '%{http_code} %{redirect_url}' --max-time 5 "http://127.0.0.1:$HTTP_PORT$1"; }
check "plain HTTP is redirected to HTTPS on the site's name, path kept" \
	test "$(code_location "/session/$tok")" = "301 https://sessions.example.com/session/$tok"
echo challenge-ok >"$site/acme/.well-known/acme-challenge/probe"
check "certbot's renewal challenge is still served over plain HTTP" \
	test "$(curl -s --max-time 5 "http://127.0.0.1:$HTTP_PORT/.well-known/acme-challenge/probe")" = challenge-ok

headers_of() { https "$@" -o /dev/null -D - | tr -d '\r'; }
has_headers() {
	local h=$1
	grep -qi '^strict-transport-security: max-age=63072000$' <<<"$h" &&
	grep -qi "^content-security-policy: default-src 'self'; connect-src 'self' wss://sessions.example.com;.*frame-ancestors 'none'" <<<"$h" &&
	grep -qi '^x-frame-options: DENY$' <<<"$h" &&
	grep -qi '^x-content-type-options: nosniff$' <<<"$h" &&
	grep -qi '^referrer-policy: no-referrer$' <<<"$h" &&
	grep -qi '^permissions-policy: camera=(self), microphone=(self)$' <<<"$h" &&
	! grep -qi '^server: nginx/' <<<"$h"
}
page=$(headers_of "/session/$tok")
check "the join page is served over TLS with HSTS and every security header" has_headers "$page"
check "the join page is never cached" grep -qi '^cache-control: no-store$' <<<"$page"
check "the join page is HTTP/2" grep -q '^HTTP/2 200' <<<"$page"
# The page's files under any version path: compressed, kept a year, the same bytes as the files.
for f in css/session.css js/session.js js/room.js; do
	h=$(headers_of "/v/0123abcdef01/$f" -H 'Accept-Encoding: gzip')
	check "/v/<version>/$f is served gzip-compressed" grep -qi '^content-encoding: gzip$' <<<"$h"
	check "... kept for a year as immutable" grep -qi '^cache-control: public, max-age=31536000, immutable$' <<<"$h"
	check "... varying on Accept-Encoding" grep -qi '^vary: Accept-Encoding$' <<<"$h"
done
check "... and decompresses to the file itself" \
	cmp -s <(https /v/0123abcdef01/js/room.js -H 'Accept-Encoding: gzip' | gzip -dc) "$root/html/js/room.js"
gone=$(headers_of /v/0123abcdef01/js/nope.js)
check "a missing file under /v/ is a 404 that nothing keeps" \
	sh -c "grep -q '^HTTP/2 404' && ! grep -qi '^cache-control: public'" <<<"$gone"
check "the join page names its files under /v/" grep -q 'src="/v/[^/]*/js/session.js"' <<<"$(https "/session/$tok")"
console_files() { https /console | grep -o '\(src\|href\)="/[^"]*"' | cut -d'"' -f2; }
all_versioned() {
	local files
	files=$(console_files)
	[ "$(grep -c '^/v/[^/]*/\(css\|js\)/' <<<"$files")" -ge 4 ] && ! grep -qv '^/v/' <<<"$files"
}
all_immutable() {
	local f h
	for f in $(console_files); do
		h=$(headers_of "$f")
		grep -q '^HTTP/2 200' <<<"$h" &&
			grep -qi '^cache-control: public, max-age=31536000, immutable$' <<<"$h" || return 1
	done
}
check "the console names its files under /v/ too, none at a path kept without a version" all_versioned
check "... each found and kept a year as immutable" all_immutable
missing=$(headers_of /api/nope)
check "an error answer (404) carries the same headers" grep -q '^HTTP/2 404' <<<"$missing"
check "... all of them" has_headers "$missing"

validate_ok() {
	https /api/sessions/validate -X POST -H 'Content-Type: application/json' \
		-H "Authorization: Bearer $tok" -d '{}' | jsonok '.valid == true and .wsPath == "/ws"'
}
ice_ok() {
	https /api/sessions/ice -X POST -H 'Content-Type: application/json' -d "{\"token\":\"$tok\"}" |
		jsonok '.iceServers | type == "array"'
}
check "POST /api/sessions/validate answers through TLS and FastCGI" validate_ok
check "POST /api/sessions/ice is routed to its program" ice_ok
query=$(https "/api/sessions/validate?token=$tok" -X POST -H 'Content-Type: application/json' -d '{}' -w '\n%{http_code}')
check "a query string on the API is refused with 400 query_not_allowed, as in development" \
	sh -c 'tail -1 | grep -qx 400 && head -1 | jq -e ".error.code == \"query_not_allowed\"" >/dev/null' <<<"$query"
check "... and on /ws" test "$(https "/ws?token=$tok" -w '%{http_code}' -o /dev/null)" = 400
head -c 17000 /dev/zero | tr '\0' a >"$TAP_TMP/big"
big=$(https /api/sessions/validate -X POST -H 'Content-Type: application/json' --data-binary @"$TAP_TMP/big" -w '\n%{http_code}')
check "a body over 16 KiB is refused with 413 and a JSON error" \
	sh -c 'tail -1 | grep -qx 413' <<<"$big"
check "... whose code is body_too_large" jsonok '.error.code == "body_too_large"' <<<"$(head -1 <<<"$big")"

key=$(sessionctl apikey add shop | jq -r .key)
v1() { https "/api/v1$1" -H "Authorization: Bearer $key" -w '\n%{http_code}'; }
check "GET /api/v1/bookings answers through TLS, query string and all" \
	sh -c 'tail -1 | grep -qx 200 && head -1 | jq -e ".bookings | length == 1" >/dev/null' <<<"$(v1 '/bookings?limit=5')"
v1h=$(headers_of /api/v1/astrologers -H "Authorization: Bearer $key")
check "/api/v1 answers are never cached" grep -qi '^cache-control: no-store$' <<<"$v1h"
check "... and carry every security header" has_headers "$v1h"
check "a body over 16 KiB to /api/v1 is refused with 413 body_too_large" \
	sh -c 'tail -1 | grep -qx 413 && head -1 | jq -e ".error.code == \"body_too_large\"" >/dev/null' \
	<<<"$(https /api/v1/users -X POST -H 'Content-Type: application/json' --data-binary @"$TAP_TMP/big" -w '\n%{http_code}')"
con=$(headers_of /console)
check "the console is served over TLS" grep -q '^HTTP/2 200' <<<"$con"
check "... never cached" grep -qi '^cache-control: no-store$' <<<"$con"
check "... with every security header" has_headers "$con"
# The site's own list of addresses: only the listed ones reach the API.
printf 'allow 192.0.2.1;\ndeny all;\n' >"$site/api-access.conf"
nginx -s reload -p "$site/" -e "$site/log/error.log" -c "$site/nginx.conf" && sleep 1
denied=$(v1 /astrologers)
check "with an allow list that lacks this address, /api/v1 answers 403 forbidden in JSON" \
	sh -c 'tail -1 | grep -qx 403 && head -1 | jq -e ".error.code == \"forbidden\"" >/dev/null' <<<"$denied"
check "... while the join links still work" validate_ok
check "... and the console is refused too" test "$(https /console -o /dev/null -w '%{http_code}')" = 403
printf 'allow 127.0.0.1;\ndeny all;\n' >"$site/api-access.conf"
nginx -s reload -p "$site/" -e "$site/log/error.log" -c "$site/nginx.conf" && sleep 1
check "with this address listed, /api/v1 answers again" test "$(v1 /astrologers | tail -1)" = 200
rm -f "$site/api-access.conf"
nginx -s reload -p "$site/" -e "$site/log/error.log" -c "$site/nginx.conf" && sleep 1

check "a WebSocket through TLS reaches the relay's unix socket and joins the room" \
	test "$(ws_first https://sessions.example.com "$tok")" = joined
check "a WebSocket from another origin is refused" \
	test "$(ws_first https://evil.example "$tok")" = error:forbidden

relay_pid=$(cat "$site/relay.pid")
kill "$relay_pid" && wait "$relay_pid" 2>/dev/null
down=$(https /ws --http1.1 -H 'Connection: Upgrade' -H 'Upgrade: websocket' -H 'Sec-WebSocket-Version: 13' \
	-H 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==' -H 'Origin: https://sessions.example.com' -w '\n%{http_code}')
check "with the relay down, a WebSocket handshake gets 503 and the API's JSON unavailable, not nginx's HTML page" \
	sh -c 'tail -1 | grep -qx 503 && head -1 | jq -e ".error.code == \"unavailable\"" >/dev/null' <<<"$down"

sleep 2 # let the rate limiter's bucket refill after the checks above
urls=()
for i in $(seq 40); do urls+=("https://sessions.example.com:$HTTPS_PORT/api/health"); done
codes=$(curl -sk --max-time 10 --resolve "sessions.example.com:$HTTPS_PORT:127.0.0.1" -Z --parallel-max 40 --no-progress-meter \
	-o /dev/null -w '%{http_code}\n' "${urls[@]}")
n429=$(grep -c '^429$' <<<"$codes")
n200=$(grep -c '^200$' <<<"$codes")
check "40 API requests at once from one address: the burst of 20 passes, the rest get 429 ($n200 passed, $n429 refused)" \
	sh -c "[ $n200 -ge 1 ] && [ $n200 -le 22 ] && [ $n429 -ge 18 ] && [ $((n200 + n429)) -eq 40 ]"

check "the access log has the masked join path" grep -q '"GET /session/\[token\]"' "$site/log/sessions-access.log"
check "no log holds the token" sh -c "! grep -rqF '$tok' '$site/log'"
check "no log holds the API key" sh -c "! grep -rqF '$key' '$site/log'"
tap_exit
