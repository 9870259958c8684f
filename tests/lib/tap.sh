# tap.sh: check helpers for the shell suites: one "ok - ..." or "not ok - ..." line per check.
tap_failed=0

# check DESCRIPTION COMMAND...: passes when the command succeeds.
check() {
	local what=$1; shift
	if "$@"; then
		echo "ok - $what"
	else
		echo "not ok - $what"
		tap_failed=$((tap_failed + 1))
	fi
}

tap_exit() { [ "$tap_failed" -eq 0 ]; }

# A scratch directory removed when the suite exits, whatever happens.
tap_tmpdir() {
	TAP_TMP=$(mktemp -d "${TMPDIR:-/tmp}/sessions-test.XXXXXX")
	trap 'jobs -p | xargs -r kill 2>/dev/null; rm -rf "$TAP_TMP"' EXIT
}

# jsonok FILTER: stdin is exactly one JSON value for which the jq FILTER is true
# (empty input fails: jq -e alone would pass it).
jsonok() { jq -se "length == 1 and (.[0] | $1)" >/dev/null 2>&1; }

# refused WHAT ARGS...: the suite's ctl with ARGS exits non-zero with a
# message on stderr and leaves the suite's dump unchanged (a bad input
# changes nothing). The suite defines ctl and dump.
refused() {
	local what=$1; shift
	local before after err rc
	before=$(dump)
	err=$(ctl "$@" 2>&1 >/dev/null); rc=$?
	after=$(dump)
	check "refused: $what" test "$rc" -ne 0 -a -n "$err" -a "$before" = "$after"
}
