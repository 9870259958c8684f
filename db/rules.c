/* rules.c: the session rules, each answered once, from a session as read: what every front end asks. */
#include "db.h"

int db_session_is_over(const struct db_session *s)
{
	return s->status == DB_STATUS_COMPLETED || s->status == DB_STATUS_EXPIRED ||
	       s->status == DB_STATUS_CANCELLED;
}

int db_session_has_joined(const struct db_session *s, enum db_role role)
{
	return (role == DB_ROLE_USER ? s->user_joined_ms : s->astrologer_joined_ms) != 0;
}

/* A link opens a while before the start and lasts a while after the paid time would end. */
void db_link_window(const struct db_config *c, int64_t starts_ms, int64_t paid_minutes,
                    int64_t *opens_ms, int64_t *valid_until_ms)
{
	*opens_ms = starts_ms - c->opens_before_ms;
	*valid_until_ms = starts_ms + paid_minutes * c->minute_ms + c->valid_after_ms;
}

int64_t db_session_deadline_ms(const struct db_config *c, const struct db_session *s)
{
	return s->started_ms ? s->started_ms + s->paid_minutes * c->minute_ms : 0;
}

/*
 * The paid time ends the session at its deadline: the page counts down to
 * it and the bill never covers more. A booking nobody started ends when
 * its link runs out. Whoever reads the session first at or after that
 * moment (the relay's timer, any API call, cron) ends it.
 */
int64_t db_session_due_ms(const struct db_config *c, const struct db_session *s,
                          enum db_reason *reason)
{
	if (s->status == DB_STATUS_ACTIVE) {
		*reason = DB_REASON_TIME_UP;
		return db_session_deadline_ms(c, s);
	}
	if (s->status == DB_STATUS_SCHEDULED) {
		*reason = DB_REASON_NO_SHOW;
		return s->link_valid_until_ms;
	}
	*reason = DB_REASON_NONE;
	return 0;
}

enum db_reason db_session_due(const struct db_config *c, const struct db_session *s,
                              int64_t now_ms)
{
	enum db_reason reason;
	int64_t due = db_session_due_ms(c, s, &reason);

	return due && now_ms >= due ? reason : DB_REASON_NONE;
}

int db_session_link_verdict(const struct db_config *c, const struct db_session *s,
                            int64_t now_ms)
{
	if (s->status == DB_STATUS_EXPIRED)
		return DB_ERR_EXPIRED;
	if (db_session_is_over(s))
		return DB_ERR_ENDED;
	switch (db_session_due(c, s, now_ms)) {
	case DB_REASON_TIME_UP:
		return DB_ERR_ENDED;
	case DB_REASON_NO_SHOW:
		return DB_ERR_EXPIRED;
	default:
		break;
	}
	if (s->status == DB_STATUS_SCHEDULED && now_ms < s->link_opens_ms)
		return DB_ERR_NOT_OPEN;
	return DB_OK;
}

/*
 * A session not started yet can last until it starts as its link runs out
 * and uses all its paid time: a credential that died with the link would
 * cut off a call joined late. The grace covers the clocks of this server
 * and the TURN server disagreeing.
 */
int64_t db_session_credentials_until_ms(const struct db_config *c, const struct db_session *s)
{
	if (s->started_ms)
		return db_session_deadline_ms(c, s) + c->grace_ms;
	return s->link_valid_until_ms + s->paid_minutes * c->minute_ms + c->grace_ms;
}
