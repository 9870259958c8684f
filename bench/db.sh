# db.sh: how fast the session library settles: end_session calls per second on a real file.
set -eu
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
build/bench/settle "$dir/bench.db" "${SETTLE_N:-2000}"
