# turn.test.sh: Debian's coturn with the recipe's shared secret accepts the API's credentials, and refuses wrong or expired ones.
. "$(dirname "$0")/lib.sh"
deploy_setup
site=$TAP_TMP/site
mkdir -p "$site"
secret=$(openssl rand -hex 32)
turn_port=$(free_port udp)
alt_port=$(free_port udp)
tls_port=$(free_port tcp)
# A throwaway certificate where certbot's deploy hook would copy the site's.
mkdir -p "$TAP_TMP/certs"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=sessions.example.com \
	-keyout "$TAP_TMP/certs/privkey.pem" -out "$TAP_TMP/certs/fullchain.pem" 2>/dev/null

# The recipe as shipped, moved to loopback: the test's peers are on
# 127.0.0.1, which the recipe denies, so exactly that line is lifted.
sed -e "s|^static-auth-secret=.*|static-auth-secret=$secret|" \
    -e "s|^listening-port=.*|listening-port=$turn_port|" \
    -e "s|^tls-listening-port=.*|tls-listening-port=$tls_port|" -e "s|/etc/coturn/certs|$TAP_TMP/certs|" \
    -e '/^denied-peer-ip=127\./d' -e '/^syslog$/d' \
    "$root/deploy/coturn/turnserver.conf" >"$TAP_TMP/turnserver.conf"
cat >>"$TAP_TMP/turnserver.conf" <<EOF
listening-ip=127.0.0.1
relay-ip=127.0.0.1
allow-loopback-peers
alt-listening-port=$alt_port
no-rfc5780
no-dtls
log-file=$TAP_TMP/turn.log
pidfile=$TAP_TMP/turnserver.pid
EOF
check "the recipe sets use-auth-secret and a realm" \
	sh -c "grep -qx use-auth-secret '$TAP_TMP/turnserver.conf' && grep -q '^realm=' '$TAP_TMP/turnserver.conf'"
turnserver -c "$TAP_TMP/turnserver.conf" >/dev/null 2>&1 &
echo $! >"$TAP_TMP/turn.pid"
check "coturn starts from the recipe on 127.0.0.1:$turn_port" \
	wait_for sh -c "ss -Hnul 'sport = :$turn_port' | grep -q 127.0.0.1"

cat >"$TAP_TMP/sessions.conf" <<EOF
database = $site/sessions.db
public_url = https://sessions.example.com
ice_servers = [{"urls":"stun:127.0.0.1:$turn_port"}]
turn_urls = turn:127.0.0.1:$turn_port?transport=udp, turn:127.0.0.1:$turn_port?transport=tcp
turn_secret = $secret
# Long enough that the session's own bounds show below; fresh-credential lifetimes are checked further on.
turn_credential_seconds = 86400
EOF
export SESSIONS_CONF=$TAP_TMP/sessions.conf
unset SESSIONS_DB SESSIONS_TURN_SECRET SESSIONS_TURN_URLS SESSIONS_ICE_SERVERS SESSIONS_MINUTE_MS \
	SESSIONS_TURN_CREDENTIAL_SECONDS
sessionctl init >/dev/null && sessionctl user add Asha --balance 100.00 >/dev/null &&
	sessionctl astrologer add Vega >/dev/null
booking=$(sessionctl book --user Asha --astrologer Vega --type video --minutes 30 --price 50.00)
sid=$(jq -r .sessionId <<<"$booking")
user_tok=$(jq -r .userToken <<<"$booking")
astro_tok=$(jq -r .astrologerToken <<<"$booking")
# Not started yet, the session can last at the latest until it starts as its
# link runs out and uses its 30 paid minutes and the 120 s grace.
until_s=$(( $(date -d "$(jq -r .linkValidUntil <<<"$booking")" +%s) + 30 * 60 + 120 ))

check "the API programs start" api_start "$site" "$site/sessions.db"
check "nginx starts with the production site" site_start "$site"

# ice TOKEN: the API's answer (body, then the status on the last line).
ice() { https /api/sessions/ice -X POST -H 'Content-Type: application/json' -d "{\"token\":\"$1\"}" -w '\n%{http_code}'; }
ice_body() { ice "$1" | sed '$d'; }
user_ice=$(ice_body "$user_tok")
astro_ice=$(ice_body "$astro_tok")
check "POST /api/sessions/ice gives the configured STUN server, then the TURN URLs with credentials" \
	jsonok "(.iceServers | length) == 2 and .iceServers[0].urls == \"stun:127.0.0.1:$turn_port\" and
	           .iceServers[1].urls == [\"turn:127.0.0.1:$turn_port?transport=udp\", \"turn:127.0.0.1:$turn_port?transport=tcp\"]" \
	<<<"$user_ice"
user_name=$(jq -r '.iceServers[1].username' <<<"$user_ice")
user_pass=$(jq -r '.iceServers[1].credential' <<<"$user_ice")
astro_name=$(jq -r '.iceServers[1].username' <<<"$astro_ice")
astro_pass=$(jq -r '.iceServers[1].credential' <<<"$astro_ice")
check "the username is <latest end of the session>:<session>-<role>" \
	test "$user_name|$astro_name" = "$until_s:$sid-user|$until_s:$sid-astrologer"
check "expiresAt is that same second" \
	jsonok ".expiresAt == \"$(date -u -d "@$until_s" +%Y-%m-%dT%H:%M:%S.000Z)\"" <<<"$user_ice"
hmac() { printf '%s' "$1" | openssl dgst -sha1 -hmac "$secret" -binary | base64; }
check "the credential is base64(HMAC-SHA1(secret, username)), as openssl computes it" \
	test "$user_pass" = "$(hmac "$user_name")"
bearer_same() {
	local other
	other=$(https /api/sessions/ice -X POST -H 'Content-Type: application/json' \
		-H "Authorization: Bearer $user_tok" -d '{}')
	[ -n "$other" ] && [ "$(jq -c 'del(.serverTime)' <<<"$other")" = "$(jq -c 'del(.serverTime)' <<<"$user_ice")" ]
}
check "a bearer token gets the same answer as a body token" bearer_same

# allocate USER PASS: a TURN allocation on coturn, with data relayed between two clients.
allocate() {
	timeout 20 turnutils_uclient -p "$turn_port" -u "$1" -w "$2" -y -n 2 -m 1 -e 127.0.0.1 127.0.0.1 \
		>"$TAP_TMP/uclient.log" 2>&1
}
check "coturn allocates a relay for the user's credentials from the API" allocate "$user_name" "$user_pass"
check "... and relays data through it" grep -q 'tot_recv_bytes ~ [1-9]' "$TAP_TMP/uclient.log"
check "coturn allocates a relay for the astrologer's credentials" allocate "$astro_name" "$astro_pass"
tls_subject() {
	timeout 10 openssl s_client -connect "127.0.0.1:$tls_port" </dev/null 2>/dev/null |
		openssl x509 -noout -subject 2>/dev/null
}
check "coturn answers TLS (turns:) on the recipe's tls-listening-port with the site's certificate" \
	sh -c "$(declare -f tls_subject); tls_port=$tls_port; tls_subject | grep -q 'CN = sessions.example.com'"
check "a wrong credential is refused" fails allocate "$user_name" "$(hmac "$user_name-x")"
check "... as an authentication failure" grep -q 'Cannot complete Allocation' "$TAP_TMP/uclient.log"
check "an expiry moved later is refused (the credential signs the expiry)" \
	fails allocate "$((until_s + 86400)):$sid-user" "$user_pass"
past=$(( $(date +%s) - 60 ))
check "a correctly signed credential whose expiry has passed is refused" \
	fails allocate "$past:$sid-user" "$(hmac "$past:$sid-user")"
check "... while the same credential with a future expiry is accepted" \
	allocate "$until_s:$sid-user" "$(hmac "$until_s:$sid-user")"

# Credentials the API gave for a link that then ran out: a 100 ms paid
# minute and no time after it make a link that lives about 3 s.
short_env="SESSIONS_MINUTE_MS=100 SESSIONS_VALID_AFTER_MINUTES=0 SESSIONS_GRACE_SECONDS=0"
short=$(env $short_env sessionctl book --user Asha --astrologer Vega --type voice --minutes 1 --price 1.00 \
	--starts "$(date -u -d '+3 seconds' +%Y-%m-%dT%H:%M:%SZ)")
env $short_env spawn-fcgi -s "$TAP_TMP/short.sock" -P "$TAP_TMP/short.pid" -- "$bin/api-ice" \
	--db "$site/sessions.db" >/dev/null 2>&1
short_ice=$(wait_for fcgi_post "$TAP_TMP/short.sock" "$(jq -r .userToken <<<"$short")")
short_name=$(jq -r '.iceServers[1].username' <<<"$short_ice")
short_pass=$(jq -r '.iceServers[1].credential' <<<"$short_ice")
short_until=${short_name%%:*}
check "credentials for a session about to run out end with it ($short_until)" \
	test "$short_until" = $(( ($(date -d "$(jq -r .linkValidUntil <<<"$short")" +%s%3N) + 100) / 1000 ))
check "... are accepted while it can still run" allocate "$short_name" "$short_pass"
while [ "$(date +%s)" -le "$short_until" ]; do sleep 0.2; done
check "... and refused once it cannot" fails allocate "$short_name" "$short_pass"

# coturn cannot revoke a credential: each lasts turn_credential_seconds from
# when it is handed out, so one issued before a cancel stops working soon after.
SESSIONS_TURN_CREDENTIAL_SECONDS=10 spawn-fcgi -s "$TAP_TMP/fresh.sock" -P "$TAP_TMP/fresh.pid" -- \
	"$bin/api-ice" --db "$site/sessions.db" >/dev/null 2>&1
soon=$(sessionctl book --user Asha --astrologer Vega --type video --minutes 30 --price 1.00)
soon_tok=$(jq -r .userToken <<<"$soon")
asked=$(date +%s)
soon_ice=$(wait_for fcgi_post "$TAP_TMP/fresh.sock" "$soon_tok")
soon_name=$(jq -r '.iceServers[1].username' <<<"$soon_ice")
soon_pass=$(jq -r '.iceServers[1].credential' <<<"$soon_ice")
soon_until=${soon_name%%:*}
check "with turn_credential_seconds = 10 a credential expires 10 s after it is handed out (at $soon_until, asked at $asked), not with the session" \
	test "$soon_until" -ge $((asked + 9)) -a "$soon_until" -le $((asked + 11))
check "... and expiresAt says so" \
	jsonok ".expiresAt == \"$(date -u -d "@$soon_until" +%Y-%m-%dT%H:%M:%S.000Z)\"" <<<"$soon_ice"
check "... it works while fresh" allocate "$soon_name" "$soon_pass"
sessionctl end "$(jq -r .sessionId <<<"$soon")" >/dev/null
check "once the session is cancelled no new credentials are handed out" \
	jsonok '.error.code == "session_ended" and (has("iceServers") | not)' \
	<<<"$(fcgi_post "$TAP_TMP/fresh.sock" "$soon_tok")"
while [ "$(date +%s)" -le "$soon_until" ] && [ "$(date +%s)" -le $((asked + 12)) ]; do sleep 0.2; done
check "... and the one handed out before the cancel stops working within 10 s" \
	fails allocate "$soon_name" "$soon_pass"

# Started, the session ends at the latest at its deadline plus the grace.
sessionctl join "$sid" --role user >/dev/null
started=$(sessionctl join "$sid" --role astrologer | jq -r .startedAt)
deadline_s=$(( ($(date -d "$started" +%s%3N) + 30 * 60000 + 120000) / 1000 ))
check "once started, the credentials last until the deadline and the grace ($deadline_s)" \
	jsonok ".iceServers[1].username == \"$deadline_s:$sid-user\"" <<<"$(ice_body "$user_tok")"

status_of() { ice "$@" | tail -1; }
check "no token: 401" test "$(https /api/sessions/ice -X POST -H 'Content-Type: application/json' -d '{}' -o /dev/null -w '%{http_code}')" = 401
check "an unknown token: 404" test "$(status_of "$(printf 'x%.0s' $(seq 43))")" = 404
check "GET: 405" test "$(https /api/sessions/ice -o /dev/null -w '%{http_code}')" = 405
past_booking=$(sessionctl book --user Asha --astrologer Vega --type video --minutes 1 --price 1.00 \
	--starts "$(date -u -d '-2 hours' +%Y-%m-%dT%H:%M:%SZ)")
expired=$(ice "$(jq -r .userToken <<<"$past_booking")")
check "a link that has expired gets 410" test "$(tail -1 <<<"$expired")" = 410
check "... with link_expired and no credentials" \
	jsonok '.error.code == "link_expired" and (has("iceServers") | not)' <<<"$(sed '$d' <<<"$expired")"

# Every cap on the settings refuses to start the program, saying why.
refuses() {
	local out
	out=$(env "$@" "$bin/api-ice" --db "$site/sessions.db" 2>&1 </dev/null)
	[ $? -eq 2 ] && [ -n "$out" ] || { echo "# $*: $out"; return 1; }
}
check "turn_urls without turn_secret stops api-ice" refuses SESSIONS_TURN_SECRET= SESSIONS_CONF=/dev/null SESSIONS_TURN_URLS=turn:x:3478
check "turn_secret without turn_urls stops api-ice" refuses SESSIONS_CONF=/dev/null SESSIONS_TURN_SECRET=s
check "a turn_urls entry that is not turn: or turns: stops api-ice" refuses SESSIONS_TURN_URLS=http://x
check "9 TURN URLs (over 8) stop api-ice" \
	refuses SESSIONS_TURN_URLS="$(printf 'turn:h%d,' 1 2 3 4 5 6 7 8 9)"
check "a TURN URL over 512 bytes stops api-ice" refuses SESSIONS_TURN_URLS="turn:$(head -c 600 /dev/zero | tr '\0' a)"
check "a turn_secret over 256 bytes stops api-ice" refuses SESSIONS_TURN_SECRET="$(head -c 257 /dev/zero | tr '\0' s)"
check "9 ICE servers (over 8) stop api-ice" \
	refuses SESSIONS_ICE_SERVERS="[$(printf '{"urls":"stun:h"},%.0s' 1 2 3 4 5 6 7 8){\"urls\":\"stun:h\"}]"
check "ice_servers over 4096 bytes stops api-ice" \
	refuses SESSIONS_ICE_SERVERS="[{\"urls\":\"stun:$(head -c 4100 /dev/zero | tr '\0' a)\"}]"
check "ice_servers that is not a JSON array of {urls} objects stops api-ice" refuses SESSIONS_ICE_SERVERS='{"urls":"stun:h"}'
eight_turn=$(printf 'turn:h%d,' 1 2 3 4 5 6 7 8)
eight_ice="[$(printf '{"urls":"stun:h"},%.0s' 1 2 3 4 5 6 7){\"urls\":\"stun:h\"}]"
secret256=$(head -c 256 /dev/zero | tr '\0' k)
SESSIONS_TURN_URLS=$eight_turn SESSIONS_ICE_SERVERS=$eight_ice SESSIONS_TURN_SECRET=$secret256 spawn-fcgi -s "$TAP_TMP/ice8.sock" \
	-P "$TAP_TMP/ice8.pid" -- "$bin/api-ice" --db "$site/sessions.db" >/dev/null 2>&1
ice8() {
	fcgi_post "$TAP_TMP/ice8.sock" "$user_tok" |
		jsonok '(.iceServers | length) == 9 and (.iceServers[8].urls | length) == 8'
}
check "8 TURN URLs, 8 ICE servers and a 256-byte secret, the most allowed, are served" wait_for ice8
ice8_turn=$(fcgi_post "$TAP_TMP/ice8.sock" "$user_tok" | jq -c '.iceServers[8]')
check "... with credentials signed by that secret" test "$(jq -r .credential <<<"$ice8_turn")" = \
	"$(printf '%s' "$(jq -r .username <<<"$ice8_turn")" | openssl dgst -sha1 -hmac "$secret256" -binary | base64)"
tap_exit
