# pin.bash: sourced by the WebSocket benches: descriptors for 10,000 connections a side, server and load generator on cores of their own.
#
# Sets pin_server and pin_load (taskset prefixes; empty on one core).
ulimit -n "$(ulimit -Hn)"
if [ "$(nproc)" -ge 2 ]; then
	pin_server="taskset -c 0" pin_load="taskset -c 1"
else
	pin_server="" pin_load=""
	echo "# one core only: server and load generator are not pinned apart"
fi
