# page.sh: the session page: median time to the pre-join on a slow phone, median time from both
# participants clicking Join to remote video frames on both sides (real Chromium, real stack, loopback
# only), the page's weight, and what a chat customer's page loads of it.
set -eu
exec node bench/page.js "${PAGE_RUNS:-10}"
