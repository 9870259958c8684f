/* limits.c: per-participant limits that survive reconnects: the frame rate and how often a link may join. */
#include <stdint.h>
#include <stdlib.h>

#include "limits.h"

#define LIMITS_SLOTS 8192 /* participants remembered; the least recently seen make room */
#define LIMITS_PROBE 8

/*
 * One participant. A new connection of the same link finds its bucket as
 * the last one left it, so reconnecting buys no fresh burst.
 */
struct limits_slot {
	uint64_t key;          /* session and role, hashed; 0: free */
	double tokens;
	lws_usec_t refilled_us;
	lws_usec_t window_us;  /* when the current join window began */
	int joins;             /* joins in that window */
	lws_usec_t seen_us;
};

struct relay_limits {
	double rate, burst;
	struct limits_slot slot[LIMITS_SLOTS];
};

struct relay_limits *relay_limits_new(double rate, double burst)
{
	struct relay_limits *l = calloc(1, sizeof *l);

	if (l) {
		l->rate = rate;
		l->burst = burst;
	}
	return l;
}

void relay_limits_free(struct relay_limits *l)
{
	free(l);
}

static uint64_t limits_key(const char *session_id, enum db_role role)
{
	uint64_t h = 14695981039346656037ull;

	while (*session_id)
		h = (h ^ (unsigned char)*session_id++) * 1099511628211ull;
	h = (h ^ (unsigned)role) * 1099511628211ull;
	return h ? h : 1;
}

/* The participant's slot: found, or a fresh one in place of the least recently seen nearby. */
static struct limits_slot *limits_slot(struct relay_limits *l, const char *session_id,
                                       enum db_role role, lws_usec_t now)
{
	uint64_t key = limits_key(session_id, role);
	struct limits_slot *s, *victim = NULL;

	for (int i = 0; i < LIMITS_PROBE; i++) {
		s = &l->slot[(key + (uint64_t)i) % LIMITS_SLOTS];
		if (s->key == key)
			goto found;
		if (!victim || !s->key || (victim->key && s->seen_us < victim->seen_us))
			victim = s;
	}
	s = victim;
	s->key = key;
	s->tokens = l->burst;
	s->refilled_us = now;
	s->window_us = now;
	s->joins = 0;
found:
	s->seen_us = now;
	return s;
}

int relay_limits_frame(struct relay_limits *l, const char *session_id, enum db_role role,
                       lws_usec_t now)
{
	struct limits_slot *s = limits_slot(l, session_id, role, now);

	s->tokens += (double)(now - s->refilled_us) * l->rate / 1e6;
	if (s->tokens > l->burst)
		s->tokens = l->burst;
	s->refilled_us = now;
	if (s->tokens < 1)
		return 0;
	s->tokens -= 1;
	return 1;
}

int relay_limits_join(struct relay_limits *l, const char *session_id, enum db_role role,
                      lws_usec_t now)
{
	struct limits_slot *s = limits_slot(l, session_id, role, now);
	lws_usec_t window = (lws_usec_t)RELAY_JOIN_WINDOW_S * LWS_US_PER_SEC;

	if (now - s->window_us >= window) {
		s->window_us = now;
		s->joins = 0;
	}
	if (s->joins >= RELAY_JOINS_MAX)
		return (int)((s->window_us + window - now) / LWS_US_PER_SEC) + 1;
	s->joins++;
	return 0;
}
