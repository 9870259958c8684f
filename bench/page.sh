# page.sh: the session page: median time from both participants clicking Join to remote video frames
# on both sides (real Chromium, real stack, loopback only), and the page's weight.
set -eu
exec node bench/page.js "${PAGE_RUNS:-10}"
