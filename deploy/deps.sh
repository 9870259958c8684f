#!/bin/sh
# deps.sh: installs the Debian packages (and npm modules) the project needs, only those missing.
# Usage: deps.sh build|test|fuzz
set -eu

build="build-essential pkg-config sqlite3 libsqlite3-dev libsodium-dev libjson-c-dev
libfcgi-dev libfcgi-bin spawn-fcgi libwebsockets-dev libev-dev libssl-dev libcurl4-openssl-dev nginx curl jq"
# The fuzz harnesses: clang with libFuzzer's runtime.
fuzz="clang libclang-rt-14-dev"
test="chromium ffmpeg wrk iproute2 util-linux procps psmisc openssl coturn systemd python3-yaml nftables strace $fuzz"

want=$build
case "${1:-build}" in
test) want="$build $test" ;;
fuzz) want="$build $fuzz" ;;
esac
# Only the tests run node; a server that just builds and installs needs none.
if [ "${1:-build}" = test ] && ! command -v node >/dev/null 2>&1; then want="$want nodejs npm"; fi

missing=""
for p in $want; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing="$missing $p"
done

if [ -n "$missing" ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "missing Debian packages; run as root:" >&2
		echo "  apt-get update && apt-get install -y$missing" >&2
		exit 1
	fi
	echo "installing:$missing"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
fi

if [ "${1:-build}" = test ] && ! [ node_modules/.package-lock.json -nt package-lock.json ]; then
	npm ci --no-audit --no-fund --loglevel=error
fi
