#!/bin/sh
# run.sh: make run after the build: a demo database, the stack on 127.0.0.1:${PORT:-8080}, its join links; Ctrl-C stops it.
#
# The state dir is var/ (SESSIONS_VAR overrides it, e.g. for a test). A
# fresh database gets a demo customer, a demo astrologer and one chat, one
# voice and one video booking. Tokens are never stored, so a later run
# reissues the demo links (the old ones stop working) and books a
# replacement for any demo session that has ended or whose link ran out.
# It makes the console an API key and prints it with the console's address.
# While it runs, it does cron's job: sessionctl expire once a minute.
# Its settings go to var/sessions.conf, beside the database, where every
# program (sessionctl in another terminal too) finds them: links printed
# while it runs point at its port.
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
var=${SESSIONS_VAR:-$root/var}
port=${PORT:-8080}
db=$var/sessions.db
demo=$var/demo-sessions # "type session-id" per line; ids are not secret

customer="Demo Customer"
astrologer="Demo Astrologer"

ctl() { "$root/build/bin/sessionctl" --db "$db" "$@"; }
field() { sed -n "s/.*\"$1\" *: *\"\\([^\"]*\\)\".*/\\1/p" | head -n 1; }
link_url() { grep -o 'https\{0,1\}://[^" ]*/session/[A-Za-z0-9_-]*' | head -n 1; }

# 200 when the API accepts the link now (the token is the URL's last part).
link_works() {
	[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 \
		-H "Authorization: Bearer ${1##*/}" -H 'Content-Type: application/json' \
		-d '{}' "http://127.0.0.1:$port/api/sessions/validate")" = 200 ]
}

stopped=0
shutdown() {
	[ "$stopped" -eq 1 ] && return
	stopped=1
	[ -n "${sleeper:-}" ] && kill "$sleeper" 2>/dev/null
	sh "$root/deploy/stack.sh" stop "$var"
}
trap 'shutdown' EXIT
trap 'echo; echo "stopping"; exit 0' INT TERM HUP

mkdir -p "$var"
cat > "$var/sessions.conf" <<EOF
# sessions.conf: written by make run for the development stack in this folder.
database = $db
public_url = http://127.0.0.1:$port
EOF
if [ ! -f "$db" ]; then
	ctl user add "$customer" --balance 500.00 >/dev/null
	ctl astrologer add "$astrologer" >/dev/null
	: > "$demo"
fi
touch "$demo"

sh "$root/deploy/stack.sh" start "$var" "$port"

# Prints the user's and the astrologer's link of one demo session of a type,
# reissuing them, or booking a fresh session when the old one is over.
demo_links() {
	type=$1 minutes=$2 price=$3
	id=$(sed -n "s/^$type //p" "$demo" | tail -n 1)
	if [ -n "$id" ]; then
		u=$(ctl link "$id" --role user --rotate 2>/dev/null | link_url || true)
		a=$(ctl link "$id" --role astrologer --rotate 2>/dev/null | link_url || true)
		if [ -n "$u" ] && [ -n "$a" ] && link_works "$u"; then
			printf '%s\n%s\n' "$u" "$a"
			return
		fi
	fi
	ctl wallet topup "$customer" "$price" >/dev/null
	out=$(ctl book --user "$customer" --astrologer "$astrologer" --type "$type" \
		--minutes "$minutes" --price "$price")
	echo "$type $(echo "$out" | field sessionId)" >> "$demo"
	echo "$out" | field userUrl
	echo "$out" | field astrologerUrl
}

echo
echo "Session rooms run on http://127.0.0.1:$port (Ctrl-C stops them)."
for spec in "chat 30 15.00" "voice 30 25.00" "video 30 40.00"; do
	set -- $spec
	links=$(demo_links "$1" "$2" "$3")
	echo
	echo "  $1 session, $2 paid minutes, $3:"
	echo "    customer:   $(echo "$links" | sed -n 1p)"
	echo "    astrologer: $(echo "$links" | sed -n 2p)"
done
# A key is shown only when made, so each run makes the console a fresh one.
key=$(ctl apikey add "make run $(date +%Y-%m-%dT%H:%M:%S) $$" | field key)
echo
echo "  console: http://127.0.0.1:$port/console"
echo "    API key: $key"
echo

while :; do
	sleep 60 &
	sleeper=$!
	wait "$sleeper" || true
	sleeper=
	ctl expire >>"$var/expire.log" 2>&1 || true
done
