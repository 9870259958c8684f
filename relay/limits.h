/* limits.h: per-participant limits that survive reconnects: the frame rate and how often a link may join. */
#ifndef SESSIONS_RELAY_LIMITS_H
#define SESSIONS_RELAY_LIMITS_H

#include <libwebsockets.h>

#include "db.h"

#define RELAY_JOINS_MAX 10      /* joins of one participant ... */
#define RELAY_JOIN_WINDOW_S 60  /* ... in this many seconds; more wait */

struct relay_limits;

/* rate frames a second, burst at once, for each participant (a link), however many connections it opens. */
struct relay_limits *relay_limits_new(double rate, double burst);
void relay_limits_free(struct relay_limits *l);

/* 1 when the participant may send one more frame now (it is counted), 0 when over the rate. */
int relay_limits_frame(struct relay_limits *l, const char *session_id, enum db_role role,
                       lws_usec_t now);

/* 0 when the participant may join now (it is counted); else the seconds until it may. */
int relay_limits_join(struct relay_limits *l, const char *session_id, enum db_role role,
                      lws_usec_t now);

#endif
