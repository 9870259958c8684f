/* rules.c: the session rules, each answered once, from a session as read: what every front end asks. */
#include <string.h>

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

int64_t db_presence_end_ms(int64_t left_ms, int64_t seen_ms, int64_t now_ms)
{
	if (left_ms)
		return left_ms;
	return now_ms - seen_ms <= DB_PRESENCE_STALE_MS ? now_ms : seen_ms;
}

int db_session_present(const struct db_session *s, enum db_role role, int64_t now_ms)
{
	int64_t seen = s->open_seen_ms[role];

	return seen && now_ms - seen <= DB_PRESENCE_STALE_MS;
}

/*
 * The last departure, or the last heartbeat of a connection a dead relay
 * left open, and never before the start: once both are gone, from when
 * the second went.
 */
int64_t db_session_apart_since_ms(const struct db_session *s, int64_t now_ms)
{
	int64_t since = s->started_ms > s->last_left_ms ? s->started_ms : s->last_left_ms;

	if (db_session_present(s, DB_ROLE_USER, now_ms) &&
	    db_session_present(s, DB_ROLE_ASTROLOGER, now_ms))
		return 0;
	for (int role = 0; role < 2; role++)
		if (s->open_seen_ms[role] > since && !db_session_present(s, (enum db_role)role, now_ms))
			since = s->open_seen_ms[role];
	return since;
}

int64_t db_overlap_ms(const struct db_interval *a, size_t na, const struct db_interval *b,
                      size_t nb, int64_t from_ms, int64_t to_ms)
{
	size_t i = 0, j = 0;
	int64_t sum = 0;

	while (i < na && j < nb) {
		int64_t lo = a[i].from_ms > b[j].from_ms ? a[i].from_ms : b[j].from_ms;
		int64_t hi = a[i].to_ms < b[j].to_ms ? a[i].to_ms : b[j].to_ms;

		if (lo < from_ms)
			lo = from_ms;
		if (hi > to_ms)
			hi = to_ms;
		if (hi > lo)
			sum += hi - lo;
		/* The interval that ends first can overlap nothing later. */
		if (a[i].to_ms < b[j].to_ms)
			i++;
		else
			j++;
	}
	return sum;
}

int db_chat_allowed(const struct db_config *c, enum db_status status, int64_t messages,
                    int64_t bytes, int64_t body_bytes)
{
	int64_t max = status == DB_STATUS_SCHEDULED ? c->chat_before_start_messages
	                                            : c->chat_max_messages;

	return messages < max && bytes + body_bytes <= c->chat_max_bytes ? DB_OK : DB_ERR_LIMIT;
}

int db_reason_given_ok(enum db_role role, enum db_reason reason)
{
	return reason == DB_REASON_COMPLETED ||
	       reason == (role == DB_ROLE_USER ? DB_REASON_USER_ENDED : DB_REASON_ASTROLOGER_ENDED);
}

int64_t db_session_no_show_ms(const struct db_config *c, const struct db_session *s)
{
	int64_t first, due;

	if (s->status != DB_STATUS_SCHEDULED || !s->user_joined_ms == !s->astrologer_joined_ms)
		return 0;
	first = s->user_joined_ms ? s->user_joined_ms : s->astrologer_joined_ms;
	due = (first > s->scheduled_start_ms ? first : s->scheduled_start_ms) + c->no_show_ms;
	return due < s->link_valid_until_ms ? due : s->link_valid_until_ms;
}

/*
 * The paid time ends the session at its deadline: the page counts down to
 * it and the bill never covers more. A session the two have not both been
 * in for the empty timeout (one closed the tab and did not come back, or
 * both did) ends before that, billed for the time both were there. A
 * booking not started ends as a no-show: once one has come and the other
 * not in time, or when its link runs out. Whoever reads the session first
 * at or after that moment (the relay's timer, an End, cron) ends it.
 */
int64_t db_session_due_ms(const struct db_config *c, const struct db_session *s,
                          int64_t now_ms, enum db_reason *reason)
{
	int64_t deadline, apart_since, apart_end, no_show;

	if (s->status == DB_STATUS_ACTIVE) {
		deadline = db_session_deadline_ms(c, s);
		*reason = DB_REASON_TIME_UP;
		if (!(apart_since = db_session_apart_since_ms(s, now_ms)))
			return deadline;
		apart_end = apart_since + c->empty_timeout_ms;
		if (apart_end < deadline) {
			*reason = DB_REASON_DISCONNECTED;
			return apart_end;
		}
		return deadline;
	}
	if (s->status == DB_STATUS_SCHEDULED) {
		*reason = DB_REASON_NO_SHOW;
		no_show = db_session_no_show_ms(c, s);
		return no_show ? no_show : s->link_valid_until_ms;
	}
	*reason = DB_REASON_NONE;
	return 0;
}

enum db_reason db_session_due(const struct db_config *c, const struct db_session *s,
                              int64_t now_ms)
{
	enum db_reason reason;
	int64_t due = db_session_due_ms(c, s, now_ms, &reason);

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
	case DB_REASON_NONE:
		break;
	case DB_REASON_NO_SHOW:
		return DB_ERR_EXPIRED;
	default:
		return DB_ERR_ENDED;
	}
	if (s->status == DB_STATUS_SCHEDULED && now_ms < s->link_opens_ms)
		return DB_ERR_NOT_OPEN;
	return DB_OK;
}

int db_notes_readable(enum db_role role)
{
	return role == DB_ROLE_ASTROLOGER ? DB_OK : DB_ERR_ROLE;
}

/* What the astrologer writes after a session needs the time a link gives after one. */
int db_notes_writable(const struct db_config *c, const struct db_session *s, enum db_role role,
                      int64_t now_ms)
{
	int64_t until = s->link_valid_until_ms;

	if (role != DB_ROLE_ASTROLOGER)
		return DB_ERR_ROLE;
	if (now_ms < s->link_opens_ms)
		return DB_ERR_NOT_OPEN;
	if (s->ended_ms && s->ended_ms + c->valid_after_ms > until)
		until = s->ended_ms + c->valid_after_ms;
	return now_ms < until ? DB_OK : DB_ERR_EXPIRED;
}

int db_recording_allowed(const struct db_session *s)
{
	if (db_session_is_over(s))
		return DB_ERR_ENDED;
	return s->type != DB_TYPE_CHAT && s->status == DB_STATUS_ACTIVE ? DB_OK : DB_ERR_STATE;
}

/* Consent is the other side's to give: an ask is only ever answered by the one it asks. */
int db_recording_next(enum db_rec_state cur, enum db_role asker, enum db_role role,
                      enum db_rec_action a, enum db_rec_state *next)
{
	switch (a) {
	case DB_REC_ASK:
		*next = DB_REC_ASKED;
		return cur == DB_REC_IDLE ? DB_OK : DB_ERR_STATE;
	case DB_REC_ACCEPT:
		*next = DB_REC_RUNNING;
		return cur == DB_REC_ASKED && role != asker ? DB_OK : DB_ERR_STATE;
	case DB_REC_DECLINE:
		*next = DB_REC_IDLE;
		return cur == DB_REC_ASKED && role != asker ? DB_OK : DB_ERR_STATE;
	case DB_REC_STOP:
		*next = DB_REC_IDLE;
		return cur != DB_REC_IDLE ? DB_OK : DB_ERR_STATE;
	}
	return DB_ERR_INVALID;
}

int db_recording_appendable(int64_t stopped_ms, int64_t ended_ms, int64_t now_ms)
{
	int64_t until = stopped_ms;

	if (ended_ms && (!until || ended_ms < until))
		until = ended_ms;
	return !until || now_ms <= until + DB_RECORDING_TAIL_MS;
}

int db_recording_kept(const struct db_config *c, int64_t started_ms, int64_t now_ms)
{
	return now_ms < started_ms + c->recording_retention_ms;
}

/*
 * A session not started yet can last until it starts as its link runs out
 * and uses all its paid time: a credential that died with the link would
 * cut off a call joined late. The grace covers the clocks of this server
 * and the TURN server disagreeing. coturn cannot revoke a credential, so
 * each also expires turn_credential_seconds after it is handed out: a page
 * in a call fetches fresh ones before then, and once the session is over
 * none are handed out, so what was issued stops working soon after.
 */
int64_t db_session_credentials_until_ms(const struct db_config *c, const struct db_session *s,
                                        int64_t now_ms)
{
	int64_t until = s->started_ms ? db_session_deadline_ms(c, s)
	                              : s->link_valid_until_ms + s->paid_minutes * c->minute_ms;
	int64_t fresh = now_ms + c->turn_credential_ms;

	until += c->grace_ms;
	return until < fresh ? until : fresh;
}

/*
 * Standard Webhooks' schedule: a receiver that is down for a deploy is
 * retried soon, one down for a day still gets everything within about
 * three days. Jitter spreads the retries of many deliveries that failed
 * together, so a receiver coming back is not hit by all of them at once.
 */
int64_t db_webhook_retry_ms(int attempts, int64_t divisor, double jitter, int64_t retry_after_ms)
{
	static const int64_t wait_s[DB_WEBHOOK_ATTEMPTS] = {
		0, 5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 10 * 3600};
	int64_t ms, longest = wait_s[DB_WEBHOOK_ATTEMPTS - 1] * 1000;

	if (attempts < 1 || attempts >= DB_WEBHOOK_ATTEMPTS)
		return -1;
	if (divisor < 1)
		divisor = 1;
	if (jitter < 0 || jitter > 1)
		jitter = 0;
	ms = wait_s[attempts] * 1000 / divisor;
	ms += (int64_t)((double)ms * 0.2 * jitter);
	if (retry_after_ms > longest)
		retry_after_ms = longest;
	return retry_after_ms > ms ? retry_after_ms : ms;
}

/* The magic numbers of the types that may be shared; a name or a declared type counts for nothing. */
int db_file_type_of(const unsigned char *head, size_t n)
{
	if (n >= 3 && head[0] == 0xff && head[1] == 0xd8 && head[2] == 0xff)
		return DB_FILE_JPEG;
	if (n >= 8 && memcmp(head, "\x89PNG\r\n\x1a\n", 8) == 0)
		return DB_FILE_PNG;
	if (n >= 12 && memcmp(head, "RIFF", 4) == 0 && memcmp(head + 8, "WEBP", 4) == 0)
		return DB_FILE_WEBP;
	if (n >= 5 && memcmp(head, "%PDF-", 5) == 0)
		return DB_FILE_PDF;
	return DB_ERR_FILE_TYPE;
}

int db_file_fits(const struct db_config *c, int64_t session_bytes, int64_t bytes)
{
	if (bytes > c->file_max_bytes)
		return DB_ERR_TOO_LARGE;
	if (session_bytes + bytes > c->session_files_max_bytes)
		return DB_ERR_FILES_FULL;
	return DB_OK;
}

/* An upload nobody announced was abandoned: a day is far longer than any page takes to announce it. */
#define DB_FILE_ORPHAN_MS 86400000

int db_file_expired(const struct db_config *c, int64_t created_ms, int announced, int64_t now_ms)
{
	int64_t keep = announced ? c->file_retention_ms : DB_FILE_ORPHAN_MS;

	return now_ms - created_ms >= keep;
}

int db_stray_due(int64_t changed_ms, int64_t now_ms)
{
	return now_ms - changed_ms >= DB_STRAY_AGE_MS;
}
