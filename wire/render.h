/* render.h: a session, its bill, its settlement and the webhooks as every front end writes them in JSON. */
#ifndef SESSIONS_WIRE_RENDER_H
#define SESSIONS_WIRE_RENDER_H

#include <json-c/json.h>
#include <stdint.h>

#include "db.h"

/* A time as ISO 8601 UTC, or null for 0 ("not yet"). */
void wire_add_time(json_object *o, const char *key, int64_t ms);
/* Money as a decimal string: 9700 -> "97.00". */
void wire_add_money(json_object *o, const char *key, int64_t amount);
/* A join link: public_url + "/session/" + token. */
void wire_add_link(json_object *o, const char *key, const char *token);

/* The session's fields (never its links); NULL when out of memory. */
json_object *wire_session_json(const struct db_session *s);
/* A settlement (or the bill so far) as sessionctl end and the API report it. */
json_object *wire_settlement_json(const struct db_settlement *st);
/* The bill so far, or the settlement once over, added to a session's object. */
void wire_add_bill(json_object *o, const struct db_session *s, const struct db_settlement *st);
/* What booking printed: the session, both tokens and both links. */
json_object *wire_booking_json(const struct db_booking *b);

/* A webhook endpoint as listed: never its secret. */
json_object *wire_webhook_json(const struct db_webhook *w);
/* A webhook delivery: its event, where it stands, its last try. */
json_object *wire_delivery_json(const struct db_delivery *d);
/* A secret just made by add or rotate: the only time it is shown. */
json_object *wire_webhook_secret_json(int64_t id, const char *url, const char *secret,
                                      int64_t previous_until_ms);

#endif
