#!/usr/bin/env bash
# fuzz.sh: runs each harness given for $FUZZ_RUNS executions or $FUZZ_SECONDS, whichever
# comes first, from its committed corpus, and prints executions, crashes and corpus size.
# What it learns stays in build/fuzz/corpus/<name>; crashing inputs go to build/fuzz/crashes/<name>/.
set -u
cd "$(dirname "$0")/../.."
runs=${FUZZ_RUNS:-10000000}
seconds=${FUZZ_SECONDS:-600}
crashed=0
rows=()

for bin in "$@"; do
	name=$(basename "$bin")
	work=build/fuzz/corpus/$name
	crashes=build/fuzz/crashes/$name
	log=build/fuzz/$name.log
	mkdir -p "$work" "$crashes"
	before=$(find "$crashes" -type f | wc -l)
	echo "# $name: up to $runs executions or $seconds s"
	"$bin" -runs="$runs" -max_total_time="$seconds" -print_final_stats=1 \
		-artifact_prefix="$crashes/" "$work" "tests/fuzz/corpus/$name" >"$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	found=$(( $(find "$crashes" -type f | wc -l) - before ))
	[ "$rc" -ne 0 ] && [ "$found" -eq 0 ] && found=1 # died without writing its input
	# libFuzzer's own count of the inputs it kept, and their bytes, at its last report.
	size=$(grep -o 'corp: [0-9]*/[0-9]*[a-zA-Z]*' "$log" | tail -1 | cut -d' ' -f2)
	if [ "$found" -gt 0 ]; then
		crashed=1
		grep -E 'ERROR|SUMMARY|Test unit written' "$log" | head -5
		echo "  replay: $bin $crashes/<file> (log: $log)"
	fi
	rows+=("$(printf '%-10s %12s %8s %12s' "$name" "${execs:-?}" "$found" "${size:-?}")")
done

printf '%-10s %12s %8s %12s\n' harness executions crashes corpus
printf '%s\n' "${rows[@]}"
exit "$crashed"
