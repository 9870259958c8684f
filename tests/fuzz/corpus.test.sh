# corpus.test.sh: replays every fuzz harness over its committed corpus (no fuzzing): each seed and each past crash must pass.
. "$(dirname "$0")/../lib/tap.sh"
cd "$(dirname "$0")/../.."

for src in tests/fuzz/*.c; do
	name=$(basename "$src" .c)
	bin=build/fuzz/$name
	dir=tests/fuzz/corpus/$name
	set -- "$dir"/*
	if [ ! -x "$bin" ]; then
		check "$name: harness built (make test builds $bin)" false
		continue
	fi
	if [ ! -f "$1" ]; then
		check "$name: has a committed corpus in $dir" false
		continue
	fi
	log=$(mktemp)
	timeout 300 "$bin" "$@" >"$log" 2>&1
	rc=$?
	check "$name: $# inputs of $dir run clean under ASan+UBSan" test "$rc" -eq 0
	[ "$rc" -eq 0 ] || grep -E 'Running:|ERROR|SUMMARY|#[0-9]+ ' "$log" | tail -20 >&2
	rm -f "$log"
done
tap_exit
