# lib.sh: what the deploy suites share: free ports, the production site in a scratch dir, its programs.
. "$(dirname "${BASH_SOURCE[0]}")/../lib/tap.sh"
root=${SESSIONS_TEST_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
bin=$root/build/bin
export PATH="$bin:$PATH"

# A scratch dir, and every process started through here stopped at exit,
# by the pids it recorded (daemons leave the shell's job table).
deploy_setup() {
	tap_tmpdir
	trap 'deploy_stop; jobs -p | xargs -r kill 2>/dev/null; rm -rf "$TAP_TMP"' EXIT
}

deploy_stop() {
	local f p
	for f in "$TAP_TMP"/*.pid "$TAP_TMP"/*/*.pid; do
		[ -f "$f" ] || continue
		for p in $(cat "$f"); do kill "$p" 2>/dev/null; done
	done
	sleep 0.2
}

# free_port tcp|udp: a loopback port nothing listens on at the moment.
free_port() {
	local p i opt=-Hntal
	[ "${1:-tcp}" = udp ] && opt=-Hnual
	for i in $(seq 100); do
		p=$((20000 + RANDOM % 40000))
		ss $opt "sport = :$p" | grep -q . || { echo "$p"; return 0; }
	done
	return 1
}

# site_render DIR HTTP HTTPS: nginx/sessions.conf with its paths
# moved under DIR, listening on 127.0.0.1 only, with a throwaway
# self-signed certificate in certbot's place; DIR/nginx.conf wraps it
# the way Debian's /etc/nginx/nginx.conf includes a site.
site_render() {
	local d=$1 http=$2 https=$3
	mkdir -p "$d"/cert "$d"/api "$d"/relay "$d"/log "$d"/tmp "$d"/acme/.well-known/acme-challenge
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=sessions.example.com \
		-addext subjectAltName=DNS:sessions.example.com \
		-keyout "$d/cert/privkey.pem" -out "$d/cert/fullchain.pem" 2>/dev/null || return 1
	sed -e "s|/etc/letsencrypt/live/sessions.example.com|$d/cert|g" \
	    -e "s|/run/sessions-api|$d/api|g" -e "s|/run/sessions-relay|$d/relay|g" \
	    -e "s|/var/log/nginx|$d/log|g" -e "s|/var/www/html|$d/acme|g" \
	    -e "s|@HTMLDIR@|$root/html|g" -e "s|/etc/sessions/api-access|$d/api-access|g" \
	    -e "s|/var/lib/sessions/sessions-files/|${SITE_FILES:-$d/files}/|g" \
	    -e "s|listen 80;|listen 127.0.0.1:$http;|" \
	    -e "s|listen 443 ssl http2;|listen 127.0.0.1:$https ssl http2;|" \
	    -e '/listen \[::\]/d' "$root/nginx/sessions.conf" > "$d/site.conf"
	# Nothing may still listen on a public address.
	[ "$(grep -c 'listen ' "$d/site.conf")" = "$(grep -c 'listen 127.0.0.1:' "$d/site.conf")" ] ||
		return 1
	{
		# As root the workers stay root, to reach the sockets the test made.
		[ "$(id -u)" -ne 0 ] || echo "user root root;"
		cat <<-EOF
		worker_processes 1;
		pid $d/nginx.pid;
		error_log $d/log/error.log crit;
		events { worker_connections 256; }
		http {
		    include /etc/nginx/mime.types;
		    default_type application/octet-stream;
		    client_body_temp_path $d/tmp/body;
		    proxy_temp_path $d/tmp/proxy;
		    fastcgi_temp_path $d/tmp/fastcgi;
		    uwsgi_temp_path $d/tmp/uwsgi;
		    scgi_temp_path $d/tmp/scgi;
		    include $d/site.conf;
		}
		EOF
	} > "$d/nginx.conf"
}

# site_start DIR: renders the site on two free ports and starts nginx;
# sets HTTP_PORT and HTTPS_PORT. Retries when a port was taken meanwhile.
site_start() {
	local d=$1 i
	for i in 1 2 3; do
		HTTP_PORT=$(free_port) && HTTPS_PORT=$(free_port) || return 1
		site_render "$d" "$HTTP_PORT" "$HTTPS_PORT" || return 1
		nginx -p "$d/" -e "$d/log/error.log" -c "$d/nginx.conf" 2>/dev/null && return 0
	done
	return 1
}

# api_start DIR DB: every API program under spawn-fcgi on DIR/api/NAME.sock.
api_start() {
	local d=$1 db=$2 prog name
	mkdir -p "$d/api"
	for prog in "$bin"/api-*; do
		name=${prog##*/api-}
		spawn-fcgi -F 2 -s "$d/api/$name.sock" -P "$d/api-$name.pid" -- "$prog" --db "$db" \
			>/dev/null 2>&1 || return 1
	done
}

# fcgi_post SOCKET TOKEN [BODY]: a POST straight to a FastCGI program with
# the token as Bearer (body {} unless given); prints the JSON answer.
fcgi_post() {
	local body='{}' out
	[ $# -lt 3 ] || body=$3
	out=$(printf '%s' "$body" | REQUEST_METHOD=POST CONTENT_TYPE=application/json \
		CONTENT_LENGTH=${#body} HTTP_AUTHORIZATION="Bearer $2" cgi-fcgi -bind -connect "$1") || return 1
	sed '1,/^\r\{0,1\}$/d' <<<"$out"
}

# https PATH [curl args]: a request to the running site over TLS.
https() {
	local path=$1; shift
	curl -sk --max-time 10 --resolve "sessions.example.com:$HTTPS_PORT:127.0.0.1" "$@" \
		"https://sessions.example.com:$HTTPS_PORT$path"
}

# quiet COMMAND...: runs it with its output dropped (check's own line must stay).
quiet() { "$@" >/dev/null 2>&1; }

# fails COMMAND...: the command fails (quietly): for checks that a check can fail.
fails() { ! "$@" >/dev/null 2>&1; }

# ws_first ORIGIN TOKEN: the relay's first answer to a join-room sent through the site, as "type[:code]".
ws_first() {
	node -e '
const WebSocket = require(process.argv[1] + "/node_modules/ws");
const ws = new WebSocket(process.argv[2], { origin: process.argv[3], rejectUnauthorized: false });
setTimeout(() => { console.log("timeout"); process.exit(1); }, 5000);
ws.on("open", () => ws.send(JSON.stringify({ type: "join-room", token: process.argv[4] })));
ws.on("message", (m) => { const f = JSON.parse(m); console.log(f.type + (f.code ? ":" + f.code : "")); process.exit(0); });
ws.on("error", (e) => { console.log("error " + e.message); process.exit(1); });
' "$root" "wss://127.0.0.1:$HTTPS_PORT/ws" "$1" "$2"
}
# wait_for COMMAND...: up to 10 s for it to succeed.
wait_for() {
	local i
	for i in $(seq 100); do "$@" 2>/dev/null && return 0; sleep 0.1; done
	return 1
}
