/* idle.c: pings quiet connections, drops silent ones and those that never join, in one sweep a second. */
#include "idle.h"
#include "relay.h"

#define RELAY_JOIN_TIMEOUT_US (10 * LWS_US_PER_SEC) /* time to send join-room */
#define RELAY_SWEEP_US LWS_US_PER_SEC

void relay_idle_init(struct relay_idle *idle, int ping_secs)
{
	idle->ping_us = (lws_usec_t)ping_secs * LWS_US_PER_SEC;
	/* Half the interval again (and a second) for the answer to come back. */
	idle->hangup_us = (lws_usec_t)(ping_secs + ping_secs / 2 + 1) * LWS_US_PER_SEC;
}

void relay_idle_opened(struct relay_idle *idle, struct relay_conn *c)
{
	c->opened_us = lws_now_usecs();
	relay_idle_heard(idle, c);
	lws_dll2_add_tail(&c->joining, &idle->joining);
}

void relay_idle_heard(struct relay_idle *idle, struct relay_conn *c)
{
	c->heard_us = lws_now_usecs();
	c->pinged = 0;
	/* The newest time goes last: the list stays in order without a search. */
	lws_dll2_remove(&c->heard);
	lws_dll2_add_tail(&c->heard, &idle->heard);
}

void relay_idle_joined(struct relay_conn *c)
{
	lws_dll2_remove(&c->joining);
}

void relay_idle_closed(struct relay_conn *c)
{
	lws_dll2_remove(&c->heard);
	lws_dll2_remove(&c->joining);
}

static void sweep(lws_sorted_usec_list_t *sul)
{
	struct relay *r = lws_container_of(sul, struct relay, idle.sweep);
	struct relay_idle *idle = &r->idle;
	lws_usec_t now = lws_now_usecs();
	struct lws_dll2 *d, *next;
	struct relay_conn *c;

	for (d = lws_dll2_get_head(&idle->joining); d; d = next) {
		next = d->next;
		c = lws_container_of(d, struct relay_conn, joining);
		if (now - c->opened_us < RELAY_JOIN_TIMEOUT_US)
			break;
		relay_idle_closed(c);
		relay_conn_drop(c);
	}
	/* Those pinged and waiting for the answer stay at the front until it comes or they go. */
	for (d = lws_dll2_get_head(&idle->heard); d; d = next) {
		next = d->next;
		c = lws_container_of(d, struct relay_conn, heard);
		if (now - c->heard_us < idle->ping_us)
			break;
		if (now - c->heard_us >= idle->hangup_us) {
			relay_idle_closed(c);
			relay_conn_drop(c);
		} else if (!c->pinged) {
			c->pinged = 1;
			relay_conn_ping(c);
		}
	}
	lws_sul_schedule(r->ctx, 0, &idle->sweep, sweep, RELAY_SWEEP_US);
}

void relay_idle_start(struct relay *r)
{
	lws_sul_schedule(r->ctx, 0, &r->idle.sweep, sweep, RELAY_SWEEP_US);
}

void relay_idle_stop(struct relay *r)
{
	lws_sul_cancel(&r->idle.sweep);
}
