# errors.test.sh: the one error table (wire/errors.c), its description (wire/ERRORS.md) and the page's codes (html/js/codes.js) agree.
. "$(dirname "$0")/../lib/tap.sh"
root=$(cd "$(dirname "$0")/../.." && pwd)
table=$("$root/build/tests/wire_codes")
doc="$root/wire/ERRORS.md"

documented() {
	local code status missing=0
	while read -r code status _; do
		grep -q "^| \`$code\` | $status |" "$doc" || { echo "# $code ($status) is not in ERRORS.md"; missing=1; }
	done <<<"$table"
	return $missing
}
check "every code of the table is in ERRORS.md with its HTTP status" documented

nothing_else() {
	local code extra=0
	for code in $(sed -n 's/^| `\([a-z_]*\)` | [0-9]* |.*/\1/p' "$doc"); do
		grep -q "^$code " <<<"$table" || { echo "# ERRORS.md lists $code, which the table lacks"; extra=1; }
	done
	return $extra
}
check "ERRORS.md lists no code the table lacks" nothing_else

check "no two rows share a code" test "$(cut -d' ' -f1 <<<"$table" | sort | uniq -d)" = ""

# Every library error a front end can meet reads as its own code; only a failed store is "internal".
db_errors_named() {
	local n
	for n in -1 -2 -3 -4 -5 -6 -7 -8 -9 -10 -11 -12 -13 -14 -15 -16 -17 -18; do
		[ "$(awk -v n="$n" '$3 == n' <<<"$table" | wc -l)" = 1 ] || { echo "# db error $n has no one row"; return 1; }
	done
}
check "each of the library's 18 errors has exactly one row" db_errors_named

page_knows() {
	local codes
	codes=$(node --no-warnings --input-type=module -e "
		const { CODES } = await import('$root/html/js/codes.js');
		console.log([...CODES].sort().join(' '));") || return 1
	[ "$codes" = "$(cut -d' ' -f1 <<<"$table" | sort | tr '\n' ' ' | sed 's/ $//')" ] ||
		{ echo "# page: $codes"; return 1; }
}
check "the page's codes.js knows exactly the table's codes" page_knows
tap_exit
