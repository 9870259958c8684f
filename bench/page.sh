# page.sh: the session page: median time to the pre-join on a slow phone, median time from both
# participants clicking Join to remote video frames on both sides (real Chromium, real stack, loopback
# only), and the page's weight.
set -eu
exec node bench/page.js "${PAGE_RUNS:-10}"
