# stack.bash: sourced by the API benches: starts a stack (deploy/stack.sh) in a temp dir on a free port, stops it on exit.
#
# Sets dir (the state dir), base (http://127.0.0.1:PORT) and SESSIONS_DB,
# and defines ctl (sessionctl on that database). The API rate limit is
# raised to 1000000r/s, since every request comes from one address;
# everything else is the configuration make run uses. $pin_server, when
# set, is the command prefix the stack runs under (taskset).

dir=$(mktemp -d "${TMPDIR:-/tmp}/sessions-bench-XXXXXX")
cleanup() { sh deploy/stack.sh stop "$dir" >/dev/null 2>&1 || true; rm -rf "$dir"; }
trap cleanup EXIT
trap 'exit 1' INT TERM

export SESSIONS_DB=$dir/sessions.db SESSIONS_API_RATE=1000000r/s SESSIONS_API_BURST=1000000
ctl() { build/bin/sessionctl "$@"; }

# A free port: another run may take it between the check and nginx's bind, so retry.
started=0
for _ in 1 2 3 4 5; do
	port=$((20000 + RANDOM % 30000))
	ss -ltn "sport = :$port" | grep -q LISTEN && continue
	if ${pin_server:-} sh deploy/stack.sh start "$dir" "$port" 2>/dev/null; then started=1; break; fi
done
[ "$started" -eq 1 ] || { echo "${0##*/}: the stack did not start" >&2; exit 1; }
base=http://127.0.0.1:$port
