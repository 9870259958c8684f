/* idle.h: the relay's own liveness checks: pings for quiet connections, a deadline for joining. */
#ifndef SESSIONS_RELAY_IDLE_H
#define SESSIONS_RELAY_IDLE_H

#include <libwebsockets.h>

struct relay;
struct relay_conn;

/*
 * Connections in two lists kept in time order by appending only, so that
 * every change is O(1) and one sweep a second looks at the due ones only.
 * lws's own per-connection timers sit in one sorted list that each re-arm
 * walks, which at thousands of connections cost most of the relay's CPU.
 */
struct relay_idle {
	lws_dll2_owner_t heard;        /* open connections, the longest silent first */
	lws_dll2_owner_t joining;      /* connections not joined yet, the oldest first */
	lws_sorted_usec_list_t sweep;  /* cancel before the context goes */
	lws_usec_t ping_us;            /* silence before a ping */
	lws_usec_t hangup_us;          /* silence before the connection is dropped */
};

void relay_idle_init(struct relay_idle *idle, int ping_secs);
void relay_idle_start(struct relay *r);
void relay_idle_stop(struct relay *r);
/* A new connection: heard from now, and owing its join-room. */
void relay_idle_opened(struct relay_idle *idle, struct relay_conn *c);
/* An answer to a ping: the connection is alive. */
void relay_idle_heard(struct relay_idle *idle, struct relay_conn *c);
/* No join deadline any more: the connection joined, or is closing on its own. */
void relay_idle_joined(struct relay_conn *c);
void relay_idle_closed(struct relay_conn *c);

#endif
