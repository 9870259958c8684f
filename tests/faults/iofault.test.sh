# iofault.test.sh: SQLite I/O errors at every write step of a settlement and a booking leave all or nothing, and a retry lands once.
. "$(dirname "$0")/../lib/tap.sh"
tap_tmpdir
steps="$SESSIONS_TEST_ROOT/build/tests/fault_steps"

# once: the Nth write/sync/truncate fails alone; persist: it and every later
# one (a dead disk); full: every write from the Nth on is SQLITE_FULL.
# continue: the process retries on its connection once the fault went;
# crash: it exits as kill -9 would, and a new process retries.
for op in end book; do
	for mode in once persist full; do
		for after in continue crash; do
			dir=$TAP_TMP/$op-$mode-$after
			mkdir -p "$dir"
			timeout 120 "$steps" "$dir" "$op" "$mode" "$after" >"$dir/out" 2>&1
			rc=$?
			grep '^# ' "$dir/out" | grep -v 'left as before$' # the steps worth a look
			last=$(tail -n 1 "$dir/out")
			echo "# $op $mode $after: $last"
			n=0 faulted=-1 failed=-2 unknown=-1 violations=-1
			case "$last" in
			"steps "*) read -r _ n _ faulted _ failed _ unknown _ violations <<<"$last" ;;
			esac
			check "$op, $mode fault, $after: every one of $n steps checked, each failed call left all or nothing, integrity and ledger hold, the retry lands once" \
				test "$rc" -eq 0 -a "$violations" -eq 0
			check "$op, $mode fault, $after: the $op writes at least 10 steps and every faulted one answered an error" \
				test "$n" -ge 10 -a "$faulted" -eq "$n" -a "$failed" -eq "$faulted"
			[ "$mode" = full ] && check "$op, full disk, $after: no call that failed had committed" \
				test "$unknown" -eq 0
		done
	done
done
tap_exit
