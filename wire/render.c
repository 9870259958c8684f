/* render.c: sessions, bills, settlements and webhooks in JSON, written once for sessionctl and the API. */
#include "render.h"

#include <stdio.h>

#include "conf.h"

void wire_add_time(json_object *o, const char *key, int64_t ms)
{
	char buf[32];

	if (!ms) {
		json_object_object_add(o, key, NULL);
		return;
	}
	db_time_format(ms, buf);
	json_object_object_add(o, key, json_object_new_string(buf));
}

void wire_add_money(json_object *o, const char *key, int64_t amount)
{
	char buf[32];

	db_money_format(amount, buf);
	json_object_object_add(o, key, json_object_new_string(buf));
}

void wire_add_link(json_object *o, const char *key, const char *token)
{
	char url[512];

	snprintf(url, sizeof url, "%s/session/%s", conf_str(CONF_PUBLIC_URL), token);
	json_object_object_add(o, key, json_object_new_string(url));
}

static void add_str(json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, json_object_new_string(v));
}

static void add_int(json_object *o, const char *k, int64_t v)
{
	json_object_object_add(o, k, json_object_new_int64(v));
}

json_object *wire_session_json(const struct db_session *s)
{
	json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	add_str(o, "sessionId", s->id);
	add_str(o, "roomId", s->room_id);
	add_str(o, "sessionType", db_type_name(s->type));
	add_str(o, "status", db_status_name(s->status));
	add_str(o, "user", s->user_name);
	add_str(o, "astrologer", s->astrologer_name);
	add_int(o, "paidMinutes", s->paid_minutes);
	wire_add_money(o, "price", s->price);
	wire_add_time(o, "scheduledStartTime", s->scheduled_start_ms);
	wire_add_time(o, "linkOpensAt", s->link_opens_ms);
	wire_add_time(o, "linkValidUntil", s->link_valid_until_ms);
	wire_add_time(o, "userJoinedAt", s->user_joined_ms);
	wire_add_time(o, "astrologerJoinedAt", s->astrologer_joined_ms);
	wire_add_time(o, "startedAt", s->started_ms);
	wire_add_time(o, "endedAt", s->ended_ms);
	if (s->end_reason != DB_REASON_NONE) {
		add_str(o, "endReason", db_reason_name(s->end_reason));
		add_int(o, "durationSeconds", s->duration_seconds);
	}
	return o;
}

json_object *wire_settlement_json(const struct db_settlement *st)
{
	json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	add_str(o, "status", db_status_name(st->status));
	add_str(o, "reason", db_reason_name(st->reason));
	add_int(o, "durationSeconds", st->duration_seconds);
	add_int(o, "billedSeconds", st->billed_seconds);
	add_int(o, "billedMinutes", st->billed_minutes);
	wire_add_money(o, "charged", st->charged);
	wire_add_money(o, "refunded", st->refunded);
	wire_add_money(o, "commission", st->commission);
	wire_add_money(o, "released", st->released);
	json_object_object_add(o, "alreadyEnded", json_object_new_boolean(st->already_ended));
	if (st->ended_ms)
		add_str(o, "endedBy", db_actor_name(st->ended_by));
	return o;
}

void wire_add_bill(json_object *o, const struct db_session *s, const struct db_settlement *st)
{
	add_int(o, "billedSeconds", st->billed_seconds);
	add_int(o, "billedMinutes", st->billed_minutes);
	wire_add_money(o, "amountCharged", st->charged);
	wire_add_money(o, "amountRefunded", st->refunded);
	wire_add_money(o, "amountReleased", st->released);
	if (db_session_is_over(s)) {
		add_str(o, "endedBy", db_actor_name(s->ended_by));
		add_str(o, "reason", db_reason_name(s->end_reason));
	}
}

json_object *wire_booking_json(const struct db_booking *b)
{
	json_object *o = wire_session_json(&b->session);

	if (!o)
		return NULL;
	add_str(o, "userToken", b->user_token);
	add_str(o, "astrologerToken", b->astrologer_token);
	wire_add_link(o, "userUrl", b->user_token);
	wire_add_link(o, "astrologerUrl", b->astrologer_token);
	return o;
}

json_object *wire_webhook_json(const struct db_webhook *w)
{
	json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	add_int(o, "id", w->id);
	add_str(o, "url", w->url);
	wire_add_time(o, "createdAt", w->created_ms);
	json_object_object_add(o, "enabled", json_object_new_boolean(!w->disabled_ms));
	wire_add_time(o, "disabledAt", w->disabled_ms);
	if (w->disabled_ms)
		add_str(o, "disabledReason", w->disabled_reason);
	wire_add_time(o, "previousSecretUntil", w->previous_until_ms);
	add_int(o, "pending", w->pending);
	add_int(o, "delivered", w->delivered);
	add_int(o, "failed", w->failed);
	return o;
}

json_object *wire_delivery_json(const struct db_delivery *d)
{
	json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	add_int(o, "id", d->id);
	add_int(o, "endpoint", d->endpoint_id);
	add_str(o, "eventId", d->event_id);
	add_str(o, "type", d->type);
	add_str(o, "subject", d->subject);
	add_int(o, "sequence", d->sequence);
	add_str(o, "status", db_delivery_name(d->status));
	add_int(o, "attempts", d->attempts);
	wire_add_time(o, "createdAt", d->created_ms);
	wire_add_time(o, "lastAttemptAt", d->last_attempt_ms);
	wire_add_time(o, "nextAttemptAt", d->status == DB_DELIVERY_PENDING ? d->next_attempt_ms : 0);
	wire_add_time(o, "doneAt", d->done_ms);
	json_object_object_add(o, "lastStatus", d->last_status ? json_object_new_int(d->last_status)
	                                                       : NULL);
	json_object_object_add(o, "lastError", *d->last_error ? json_object_new_string(d->last_error)
	                                                      : NULL);
	return o;
}

json_object *wire_webhook_secret_json(int64_t id, const char *url, const char *secret,
                                      int64_t previous_until_ms)
{
	json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	add_int(o, "id", id);
	if (url)
		add_str(o, "url", url);
	add_str(o, "secret", secret);
	if (previous_until_ms)
		wire_add_time(o, "previousSecretUntil", previous_until_ms);
	return o;
}
