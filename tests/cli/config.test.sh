# config.test.sh: every setting's type and range, refused at start by every program, naming the key.
. "$(dirname "$0")/../lib/tap.sh"
tap_tmpdir
db="$TAP_TMP/s.db"
sessionctl --db "$db" list >/dev/null
long=$(head -c 2000 /dev/zero | tr '\0' a)

# key | a bad value | the other settings it needs to be judged
bad_values() {
	cat <<EOF
database|/tmp/$long|
public_url|ftp://shop.example|
public_url|https://shop.example/|
commission_bps|20%|
commission_bps|10001|
grace_seconds|-1|
grace_seconds|3601|
turn_credential_seconds|9|
turn_credential_seconds|86401|
opens_before_minutes|1441|
valid_after_minutes|half an hour|
return_url|javascript:alert(1)|
ice_servers|{"urls":"stun:x"}|
ice_servers|[{"urls":"http://x"}]|
turn_urls|http://turn.example|SESSIONS_TURN_SECRET=s3cret
turn_secret|$(head -c 257 /dev/zero | tr '\0' s)|SESSIONS_TURN_URLS=turn:turn.example
empty_timeout_seconds|0|
no_show_minutes|1441|
chat_max_messages|0|
chat_max_bytes|100|
chat_before_start_messages|1001|
notes_max_bytes|12001|
notes_max_versions|0|
file_max_bytes|10485761|
session_files_max_bytes|1023|
file_retention_days|0|
recording_max_bytes|65535|
recordings_max_bytes|1099511627777|
recordings_min_free_mb|-1|
recording_retention_days|0|
minute_ms|99|
webhook_allow_private|yes|
webhook_timeout_seconds|16|
webhook_retry_divisor|0|
audit_retention_days|0|
webhook_retention_days|3651|
EOF
}

env_of() { sessionctl config 2>/dev/null | jq -r ".$1.env"; }

# Every program, with one bad setting, must exit non-zero and name the key on stderr.
refused_by_all() {
	local key=$1 value=$2 extra=$3 var out port
	var=$(env_of "$key")
	for prog in sessionctl api-validate api-health relay sessions-webhooks; do
		case $prog in
		sessionctl) set -- sessionctl --db "$db" wallet show nobody ;;
		relay) set -- relay --db "$db" --port 1 --origin http://127.0.0.1:1 ;;
		*) set -- "$prog" --db "$db" ;;
		esac
		out=$(env $extra "$var=$value" timeout 5 "$@" 2>&1 </dev/null)
		if [ $? -eq 0 ] || ! printf '%s' "$out" | grep -q "setting $key\b"; then
			echo "# $prog accepted $key or did not name it: $out"
			return 1
		fi
	done
}

tested=$(bad_values | cut -d'|' -f1 | sort -u | tr '\n' ' ')
check "every key the programs know has a bad value tested here ($tested)" \
	test "$(sessionctl config 2>/dev/null | jq -r 'keys[]' | sort | tr '\n' ' ')" = "$tested"

while IFS='|' read -r key value extra; do
	shown=$value
	[ ${#shown} -gt 30 ] && shown="${shown:0:20}... (${#value} bytes)"
	check "$key = '$shown' stops sessionctl, the API programs, the relay and the deliverer, naming $key" \
		refused_by_all "$key" "$value" "$extra"
done < <(bad_values)

half_turn() {
	local out
	out=$(SESSIONS_TURN_URLS=turn:t.example sessionctl --db "$db" list 2>&1) && return 1
	printf '%s' "$out" | grep -q turn_urls && printf '%s' "$out" | grep -q turn_secret
}
check "turn_urls without turn_secret is refused, naming both" half_turn

printf 'grace_seconds = soon\n' >"$TAP_TMP/bad.conf"
check "a bad value in the file is refused the same way, saying it came from the file" \
	sh -c "SESSIONS_CONF='$TAP_TMP/bad.conf' sessionctl --db '$db' list 2>&1 >/dev/null | grep -q 'setting grace_seconds (SESSIONS_GRACE_SECONDS, from the file)'"

good_ends() {
	SESSIONS_COMMISSION_BPS=10000 SESSIONS_GRACE_SECONDS=0 SESSIONS_RETURN_URL=https://shop.example/thanks \
		sessionctl config 2>/dev/null | jsonok '.commission_bps.value == "10000" and .grace_seconds.value == "0"'
}
check "good values at both ends of a range are taken" good_ends

# A shop without TURN hears about it where it looks: sessionctl config and the relay's log.
turn_env="SESSIONS_TURN_URLS=turn:turn.example SESSIONS_TURN_SECRET=s3cret"
config_err() { env SESSIONS_CONF=/dev/null "$@" sessionctl config 2>&1 >/dev/null; }
relay_log() {
	local pid
	env SESSIONS_CONF=/dev/null "$@" relay --db "$db" --socket "$TAP_TMP/relay.sock" \
		--origin http://127.0.0.1:1 2>"$TAP_TMP/relay.log" &
	pid=$!
	for _ in $(seq 100); do grep -q serving "$TAP_TMP/relay.log" && break; sleep 0.1; done
	kill "$pid"
	wait "$pid" 2>/dev/null
	cat "$TAP_TMP/relay.log"
}
warns() { "$@" | grep -q 'warning: no TURN server is configured (turn_urls, turn_secret)'; }
quiet_serving() { local out; out=$("$@"); [[ $out != *warning* && $out == *serving* ]]; }
check "sessionctl config warns on stderr when no TURN server is configured" warns config_err
check "... and says nothing when one is" test -z "$(config_err $turn_env)"
check "... nor with --quiet (sessions-run reads the settings at every start)" test -z "$(SESSIONS_CONF=/dev/null sessionctl config --quiet 2>&1 >/dev/null)"
check "the relay's log warns at start when no TURN server is configured" warns relay_log
check "... and not when one is" quiet_serving relay_log $turn_env

# A database's folder may hold its own settings: make run keeps var/sessions.conf there.
mkdir -p "$TAP_TMP/stack"
printf 'public_url = http://127.0.0.1:18555\n' >"$TAP_TMP/stack/sessions.conf"
sessionctl --db "$TAP_TMP/stack/s.db" user add Asha --balance 10.00 >/dev/null
sessionctl --db "$TAP_TMP/stack/s.db" astrologer add Vega >/dev/null
beside_db() {
	sessionctl --db "$TAP_TMP/stack/s.db" book --user Asha --astrologer Vega --type chat \
		--minutes 5 --price 1.00 | jsonok '.userUrl | startswith("http://127.0.0.1:18555/session/")'
}
check "sessions.conf beside the database is read: printed links use its public_url" beside_db
named_wins() {
	SESSIONS_CONF=/dev/null sessionctl --db "$TAP_TMP/stack/s.db" config --quiet |
		jsonok '.public_url.source == "default"'
}
check "SESSIONS_CONF still wins over the file beside the database" named_wins
# A line of the file holds at most 4094 bytes; a NUL byte would cut one short unseen.
conf_says() { # FILE PATTERN: sessionctl refuses the file, saying PATTERN
	local out
	out=$(SESSIONS_CONF=$1 sessionctl --db "$db" list 2>&1 >/dev/null) && return 1
	printf '%s' "$out" | grep -q "$2"
}
{ printf '#'; head -c 4093 /dev/zero | tr '\0' a; printf '\n'; } >"$TAP_TMP/line-4094.conf"
{ printf '#'; head -c 4094 /dev/zero | tr '\0' a; printf '\n'; } >"$TAP_TMP/line-4095.conf"
printf 'grace_seconds = 5\npublic_url = https://shop.example\0.evil.example\n' >"$TAP_TMP/nul.conf"
check "a line of 4094 bytes in the file is read" \
	sh -c "SESSIONS_CONF='$TAP_TMP/line-4094.conf' sessionctl --db '$db' list >/dev/null"
check "a line of 4095 bytes is refused as too long, naming the line" \
	conf_says "$TAP_TMP/line-4095.conf" 'line-4095.conf:1: line too long'
check "a NUL byte in the file is refused as such, naming the line" \
	conf_says "$TAP_TMP/nul.conf" 'nul.conf:2: a NUL byte'
tap_exit
