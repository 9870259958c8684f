/* session.c: the session rules: link validity, joining, ending with settlement, expiry. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "ledger.h"

static void copy_text(char *dst, size_t len, sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	snprintf(dst, len, "%s", t ? (const char *)t : "");
}

void db_session_read(struct db *db, sqlite3_stmt *st, struct db_session *s)
{
	memset(s, 0, sizeof *s);
	copy_text(s->id, sizeof s->id, st, 0);
	copy_text(s->room_id, sizeof s->room_id, st, 1);
	s->type = (enum db_type)db_type_parse((const char *)sqlite3_column_text(st, 2));
	s->status = (enum db_status)db_status_parse((const char *)sqlite3_column_text(st, 3));
	if (sqlite3_column_type(st, 4) != SQLITE_NULL)
		s->end_reason = (enum db_reason)db_reason_parse(
			(const char *)sqlite3_column_text(st, 4));
	s->paid_minutes = sqlite3_column_int64(st, 5);
	s->price = sqlite3_column_int64(st, 6);
	s->commission_bps = sqlite3_column_int(st, 7);
	s->user_id = sqlite3_column_int64(st, 8);
	s->astrologer_id = sqlite3_column_int64(st, 9);
	copy_text(s->user_name, sizeof s->user_name, st, 10);
	copy_text(s->astrologer_name, sizeof s->astrologer_name, st, 11);
	s->scheduled_start_ms = sqlite3_column_int64(st, 12);
	s->link_opens_ms = sqlite3_column_int64(st, 13);
	s->link_valid_until_ms = sqlite3_column_int64(st, 14);
	s->user_joined_ms = sqlite3_column_int64(st, 15);
	s->astrologer_joined_ms = sqlite3_column_int64(st, 16);
	s->started_ms = sqlite3_column_int64(st, 17);
	s->ended_ms = sqlite3_column_int64(st, 18);
	s->duration_seconds = sqlite3_column_int64(st, 19);
	if (sqlite3_column_type(st, 20) != SQLITE_NULL)
		s->ended_by = (enum db_actor)db_actor_parse((const char *)sqlite3_column_text(st, 20));
	s->open_seen_ms[DB_ROLE_USER] = sqlite3_column_int64(st, 21);
	s->open_seen_ms[DB_ROLE_ASTROLOGER] = sqlite3_column_int64(st, 22);
	s->last_left_ms = sqlite3_column_int64(st, 23);
	for (int role = 0; role < 2; role++)
		if (sqlite3_column_bytes(st, 24 + role) == DB_LINK_FP_LEN)
			memcpy(s->link_fp[role], sqlite3_column_blob(st, 24 + role), DB_LINK_FP_LEN);
	s->deadline_ms = db_session_deadline_ms(&db->config, s);
}

int db_session_get(struct db *db, const char *session_id, struct db_session *s)
{
	static const char q[] = "SELECT " DB_SESSION_COLUMNS DB_SESSION_FROM "WHERE s.id = ?";
	sqlite3_stmt *st = db_stmt(db, q);
	int rc;

	if (!st)
		return DB_ERR_STORE;
	sqlite3_bind_text(st, 1, session_id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		db_session_read(db, st, s);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return DB_OK;
	if (rc == SQLITE_DONE)
		return db_fail(db, DB_ERR_NOT_FOUND, "no such session");
	return db_fail_sql(db, "session");
}

/* Whether a participant may use the session now; the reason otherwise. */
static int session_usable(struct db *db, const struct db_session *s, int64_t now_ms)
{
	switch (db_session_link_verdict(&db->config, s, now_ms)) {
	case DB_OK:
		return DB_OK;
	case DB_ERR_EXPIRED:
		return db_fail(db, DB_ERR_EXPIRED, "this link has expired");
	case DB_ERR_NOT_OPEN:
		return db_fail(db, DB_ERR_NOT_OPEN, "this link does not open yet");
	default:
		return db_fail(db, DB_ERR_ENDED, "this session has ended");
	}
}

int db_is_session_link_valid(struct db *db, const char *token, int64_t now_ms,
                             struct db_session *s, enum db_role *role)
{
	static const char q[] = "SELECT " DB_SESSION_COLUMNS DB_SESSION_FROM
		"WHERE s.user_token_digest = ?1 OR s.astrologer_token_digest = ?1";
	unsigned char digest[DB_DIGEST_LEN];
	sqlite3_stmt *st;
	int rc, matched = -1;

	if (db_token_digest(db, token, digest) != DB_OK)
		return db_fail(db, DB_ERR_UNKNOWN_LINK, "this link is not valid");
	if (!(st = db_stmt(db, q)))
		return DB_ERR_STORE;
	sqlite3_bind_blob(st, 1, digest, sizeof digest, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		db_session_read(db, st, s);
		/* The index found the row; the comparison that decides is constant time. */
		if (sodium_memcmp(s->link_fp[DB_ROLE_USER], digest, DB_DIGEST_LEN) == 0)
			matched = DB_ROLE_USER;
		else if (sodium_memcmp(s->link_fp[DB_ROLE_ASTROLOGER], digest, DB_DIGEST_LEN) == 0)
			matched = DB_ROLE_ASTROLOGER;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_fail_sql(db, "link");
	if (matched < 0)
		return db_fail(db, DB_ERR_UNKNOWN_LINK, "this link is not valid");
	*role = (enum db_role)matched;
	return session_usable(db, s, now_ms);
}

int db_start_session(struct db *db, const char *session_id, enum db_role role,
                     int64_t now_ms, struct db_join *out)
{
	static const char join[] =
		"UPDATE webrtc_sessions SET"
		" user_joined_ms = CASE WHEN ?2 = 0 THEN ?3 ELSE user_joined_ms END,"
		" astrologer_joined_ms = CASE WHEN ?2 = 1 THEN ?3 ELSE astrologer_joined_ms END"
		" WHERE id = ?1 AND ended_ms IS NULL";
	static const char start[] =
		"UPDATE webrtc_sessions SET status = 'active', started_ms = ?2"
		" WHERE id = ?1 AND status = 'scheduled'"
		" AND user_joined_ms IS NOT NULL AND astrologer_joined_ms IS NOT NULL";
	sqlite3_stmt *st;
	int err;

	memset(out, 0, sizeof *out);
	/*
	 * A join time is never unset, so a participant seen joined needs no
	 * write lock: a repeated join (every page reload) stays a plain read.
	 */
	if ((err = db_session_get(db, session_id, &out->session)) != DB_OK ||
	    (err = session_usable(db, &out->session, now_ms)) != DB_OK)
		return err;
	if (db_session_has_joined(&out->session, role)) {
		out->already_joined = 1;
		out->both_joined = db_session_has_joined(&out->session, DB_ROLE_USER) &&
		                   db_session_has_joined(&out->session, DB_ROLE_ASTROLOGER);
		return DB_OK;
	}
	if ((err = db_write_begin(db)) != DB_OK)
		return err;
	if ((err = db_session_get(db, session_id, &out->session)) != DB_OK ||
	    (err = session_usable(db, &out->session, now_ms)) != DB_OK)
		goto fail;
	out->already_joined = db_session_has_joined(&out->session, role);
	if (!out->already_joined) {
		if (!(st = db_stmt(db, join))) {
			err = DB_ERR_STORE;
			goto fail;
		}
		sqlite3_bind_text(st, 1, session_id, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 2, role);
		sqlite3_bind_int64(st, 3, now_ms);
		if (sqlite3_step(st) != SQLITE_DONE) {
			err = db_fail_sql(db, "join");
			goto fail;
		}
		/* Before the start, so its snapshot is the session as this join left it. */
		if ((err = db_hook_event(db, DB_HOOK_PARTICIPANT_JOINED, session_id, (int)role, 0, 0,
		                         now_ms)) != DB_OK)
			goto fail;
		if (!(st = db_stmt(db, start))) {
			err = DB_ERR_STORE;
			goto fail;
		}
		sqlite3_bind_text(st, 1, session_id, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, now_ms);
		if (sqlite3_step(st) != SQLITE_DONE) {
			err = db_fail_sql(db, "start");
			goto fail;
		}
		out->started_now = sqlite3_changes(db->sql) == 1;
		if ((out->started_now && (err = db_hook_event(db, DB_HOOK_SESSION_STARTED, session_id,
		                                              -1, 0, 0, now_ms)) != DB_OK) ||
		    (err = db_session_get(db, session_id, &out->session)) != DB_OK)
			goto fail;
	}
	out->both_joined = db_session_has_joined(&out->session, DB_ROLE_USER) &&
	                   db_session_has_joined(&out->session, DB_ROLE_ASTROLOGER);
	return db_write_commit(db);
fail:
	db_write_rollback(db);
	return err;
}

void db_settle_amounts(int64_t price, int64_t paid_minutes, int64_t billed_ms,
                       int64_t minute_ms, int commission_bps,
                       struct db_settlement *out)
{
	int64_t paid_ms = paid_minutes * minute_ms;

	if (billed_ms < 0)
		billed_ms = 0;
	if (billed_ms > paid_ms)
		billed_ms = paid_ms;
	out->billed_seconds = billed_ms / 1000;
	out->billed_minutes = (billed_ms + minute_ms - 1) / minute_ms;
	out->charged = price * out->billed_minutes / paid_minutes;
	out->refunded = price - out->charged;
	out->commission = out->charged * commission_bps / 10000;
	out->released = out->charged - out->commission;
}

int db_settlement_get(struct db *db, const char *session_id, struct db_settlement *out)
{
	static const char q[] =
		"SELECT s.status, s.end_reason, s.duration_seconds, s.ended_ms,"
		" t.billed_minutes, t.charged, t.refunded, t.commission, t.released,"
		" t.billed_seconds, s.ended_by"
		" FROM settlements t JOIN webrtc_sessions s ON s.id = t.session_id"
		" WHERE t.session_id = ?";
	sqlite3_stmt *st = db_stmt(db, q);
	int rc;

	if (!st)
		return DB_ERR_STORE;
	sqlite3_bind_text(st, 1, session_id, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(out, 0, sizeof *out);
		out->status = (enum db_status)db_status_parse(
			(const char *)sqlite3_column_text(st, 0));
		out->reason = (enum db_reason)db_reason_parse(
			(const char *)sqlite3_column_text(st, 1));
		out->duration_seconds = sqlite3_column_int64(st, 2);
		out->ended_ms = sqlite3_column_int64(st, 3);
		out->billed_minutes = sqlite3_column_int64(st, 4);
		out->charged = sqlite3_column_int64(st, 5);
		out->refunded = sqlite3_column_int64(st, 6);
		out->commission = sqlite3_column_int64(st, 7);
		out->released = sqlite3_column_int64(st, 8);
		out->billed_seconds = sqlite3_column_int64(st, 9);
		if (sqlite3_column_type(st, 10) != SQLITE_NULL)
			out->ended_by = (enum db_actor)db_actor_parse(
				(const char *)sqlite3_column_text(st, 10));
	}
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return DB_OK;
	if (rc == SQLITE_DONE)
		return db_fail(db, DB_ERR_NOT_FOUND, "the session is not settled");
	return db_fail_sql(db, "settlement");
}

/*
 * Ends an open session read inside the caller's write transaction: the
 * guarded UPDATE (status still what was read) is what makes a second
 * ender, in this process or another, settle nothing.
 */
static int end_open_session(struct db *db, const struct db_session *s,
                            enum db_reason reason, enum db_actor by, int64_t now_ms,
                            struct db_settlement *out)
{
	static const char upd[] =
		"UPDATE webrtc_sessions SET status = ?3, ended_ms = ?4, end_reason = ?5,"
		" duration_seconds = ?6, ended_by = ?7 WHERE id = ?1 AND status = ?2";
	static const char absent[] =
		"UPDATE session_events SET participant = ?2 WHERE id ="
		" (SELECT max(id) FROM session_events WHERE session_id = ?1)";
	static const char ins[] =
		"INSERT INTO settlements(session_id, txn_id, billed_minutes, charged,"
		" refunded, commission, released, created_ms, billed_seconds)"
		" VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)";
	struct ledger_leg legs[4];
	int64_t txn, billed_ms, until;
	sqlite3_stmt *st;
	int err;

	memset(out, 0, sizeof *out);
	if (s->status == DB_STATUS_ACTIVE) {
		if ((err = db_presence_billed_ms(db, s, now_ms, &billed_ms)) != DB_OK)
			return err;
		db_settle_amounts(s->price, s->paid_minutes, billed_ms, db->config.minute_ms,
		                  s->commission_bps, out);
		until = s->deadline_ms < now_ms ? s->deadline_ms : now_ms;
		out->duration_seconds = until > s->started_ms ? (until - s->started_ms) / 1000 : 0;
		out->status = DB_STATUS_COMPLETED;
	} else {
		out->refunded = s->price; /* never had both participants */
		out->status = reason == DB_REASON_NO_SHOW ? DB_STATUS_EXPIRED
		                                          : DB_STATUS_CANCELLED;
	}
	out->reason = reason;
	out->ended_by = by;
	out->ended_ms = now_ms;

	if (!(st = db_stmt(db, upd)))
		return DB_ERR_STORE;
	sqlite3_bind_text(st, 1, s->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, db_status_name(s->status), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, db_status_name(out->status), -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, now_ms);
	sqlite3_bind_text(st, 5, db_reason_name(reason), -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, out->duration_seconds);
	sqlite3_bind_text(st, 7, db_actor_name(by), -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		return db_fail_sql(db, "end");
	if (sqlite3_changes(db->sql) != 1)
		return db_fail(db, DB_ERR_STATE, "the session changed state meanwhile");
	/* The end's event of a no-show names the one who did not come. */
	if (reason == DB_REASON_NO_SHOW && !s->user_joined_ms != !s->astrologer_joined_ms) {
		if (!(st = db_stmt(db, absent)))
			return DB_ERR_STORE;
		sqlite3_bind_text(st, 1, s->id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, s->user_joined_ms ? "astrologer" : "user", -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE)
			return db_fail_sql(db, "end event");
	}
	if ((err = db_presence_close_all(db, s->id, now_ms)) != DB_OK)
		return err;

	if ((err = ledger_account(db, LEDGER_FROZEN, s->user_id, &legs[0].account)) ||
	    (err = ledger_account(db, LEDGER_WALLET, s->user_id, &legs[1].account)) ||
	    (err = ledger_account(db, LEDGER_EARNINGS, s->astrologer_id, &legs[2].account)) ||
	    (err = ledger_account(db, LEDGER_PLATFORM, 0, &legs[3].account)))
		return err;
	legs[0].amount = -s->price;
	legs[1].amount = out->refunded;
	legs[2].amount = out->released;
	legs[3].amount = out->commission;
	if ((err = ledger_move(db, "settle", s->id, legs, 4, now_ms, &txn)) != DB_OK)
		return err;

	if (!(st = db_stmt(db, ins)))
		return DB_ERR_STORE;
	sqlite3_bind_text(st, 1, s->id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, txn);
	sqlite3_bind_int64(st, 3, out->billed_minutes);
	sqlite3_bind_int64(st, 4, out->charged);
	sqlite3_bind_int64(st, 5, out->refunded);
	sqlite3_bind_int64(st, 6, out->commission);
	sqlite3_bind_int64(st, 7, out->released);
	sqlite3_bind_int64(st, 8, now_ms);
	sqlite3_bind_int64(st, 9, out->billed_seconds);
	if (sqlite3_step(st) != SQLITE_DONE)
		return db_fail_sql(db, "settlement");
	return db_hook_event(db, out->status == DB_STATUS_COMPLETED ? DB_HOOK_SESSION_ENDED
	                         : out->status == DB_STATUS_EXPIRED ? DB_HOOK_SESSION_EXPIRED
	                                                            : DB_HOOK_BOOKING_CANCELLED,
	                     s->id, -1, 0, 0, now_ms);
}

int db_end_session(struct db *db, const char *session_id, enum db_reason reason,
                   enum db_actor by, int64_t now_ms, struct db_settlement *out)
{
	struct db_session s;
	enum db_reason due;
	int err;

	if (reason == DB_REASON_NONE || (int)reason < 0 || reason > DB_REASON_DISCONNECTED)
		return db_fail(db, DB_ERR_INVALID, "an end needs a reason");
	/* An ended session never changes again: its answer needs no write lock. */
	if ((err = db_session_get(db, session_id, &s)) != DB_OK)
		return err;
	if (db_session_is_over(&s)) {
		if ((err = db_settlement_get(db, session_id, out)) != DB_OK)
			return err;
		out->already_ended = 1;
		return DB_OK;
	}
	if ((err = db_write_begin(db)) != DB_OK)
		return err;
	if ((err = db_session_get(db, session_id, &s)) != DB_OK)
		goto fail;
	if (db_session_is_over(&s)) {
		if ((err = db_settlement_get(db, session_id, out)) != DB_OK)
			goto fail;
		out->already_ended = 1;
		return db_write_commit(db);
	}
	/* A session already due to end ends for that reason, whoever asks: it is what happened. */
	if ((due = db_session_due(&db->config, &s, now_ms)) != DB_REASON_NONE) {
		reason = due;
		by = DB_ACTOR_SYSTEM;
	}
	if ((err = end_open_session(db, &s, reason, by, now_ms, out)) != DB_OK)
		goto fail;
	return db_write_commit(db);
fail:
	db_write_rollback(db);
	return err;
}

int db_event_add(struct db *db, const char *session_id, const char *kind, enum db_role role,
                 const char *detail, int64_t now_ms)
{
	static const char ins[] = "INSERT INTO session_events(session_id, kind, participant, detail, at_ms)"
		" VALUES (?, ?, ?, ?, ?)";
	sqlite3_stmt *st = db_stmt(db, ins);
	int rc;

	if (!st)
		return DB_ERR_STORE;
	sqlite3_bind_text(st, 1, session_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, db_role_name(role), -1, SQLITE_STATIC);
	if (detail)
		sqlite3_bind_text(st, 4, detail, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 4);
	sqlite3_bind_int64(st, 5, now_ms);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? DB_OK : db_fail_sql(db, "event");
}

int db_session_get_open(struct db *db, const char *session_id, struct db_session *s)
{
	int err;

	if ((err = db_session_get(db, session_id, s)) != DB_OK)
		return err;
	if (db_session_is_over(s))
		return db_fail(db, DB_ERR_ENDED, "the session has ended");
	return DB_OK;
}

int db_booking_cancel(struct db *db, const char *session_id, int64_t now_ms,
                      struct db_settlement *out)
{
	struct db_session s;
	enum db_reason reason;
	int err;

	/* Read and end in one transaction, so a join landing between them is never cancelled away. */
	if ((err = db_write_begin(db)) != DB_OK)
		return err;
	if ((err = db_session_get_open(db, session_id, &s)) != DB_OK)
		goto fail;
	if (s.status != DB_STATUS_SCHEDULED) {
		err = db_fail(db, DB_ERR_STATE, "both have joined: the session can only be ended");
		goto fail;
	}
	/* One that is already due (its link ran out, a no-show) ends as what happened. */
	if ((reason = db_session_due(&db->config, &s, now_ms)) == DB_REASON_NONE)
		reason = DB_REASON_CANCELLED;
	if ((err = end_open_session(db, &s, reason, DB_ACTOR_SYSTEM, now_ms, out)) != DB_OK)
		goto fail;
	return db_write_commit(db);
fail:
	db_write_rollback(db);
	return err;
}

int db_session_bill(struct db *db, const struct db_session *s, int64_t now_ms,
                    struct db_settlement *out)
{
	int64_t billed_ms;
	int err;

	if (db_session_is_over(s))
		return db_settlement_get(db, s->id, out);
	memset(out, 0, sizeof *out);
	out->status = s->status;
	if (s->status != DB_STATUS_ACTIVE) {
		out->refunded = s->price;
		return DB_OK;
	}
	if ((err = db_presence_billed_ms(db, s, now_ms, &billed_ms)) != DB_OK)
		return err;
	db_settle_amounts(s->price, s->paid_minutes, billed_ms, db->config.minute_ms,
	                  s->commission_bps, out);
	return DB_OK;
}

int db_session_end_due(struct db *db, const char *session_id, int64_t now_ms,
                       struct db_session *s, struct db_settlement *st, int *ended)
{
	enum db_reason reason;
	int err;

	*ended = 0;
	if ((err = db_write_begin(db)) != DB_OK)
		return err;
	if ((err = db_session_get(db, session_id, s)) != DB_OK)
		goto fail;
	/* Decided again under the write lock: another process may have ended it meanwhile. */
	if ((reason = db_session_due(&db->config, s, now_ms)) == DB_REASON_NONE) {
		db_write_rollback(db);
		return DB_OK;
	}
	if ((err = end_open_session(db, s, reason, DB_ACTOR_SYSTEM, now_ms, st)) != DB_OK ||
	    (err = db_session_get(db, session_id, s)) != DB_OK ||
	    (err = db_write_commit(db)) != DB_OK)
		goto fail;
	*ended = 1;
	return DB_OK;
fail:
	db_write_rollback(db);
	return err;
}

int db_expire(struct db *db, int64_t now_ms, db_expire_cb *cb, void *arg,
              int *expired, int *timed_out)
{
	static const char q[] = "SELECT " DB_SESSION_COLUMNS DB_SESSION_FROM "WHERE s.ended_ms IS NULL";
	char (*ids)[DB_ID_LEN + 1] = NULL; /* is malloc'd */
	size_t n = 0, cap = 0;
	struct db_settlement st;
	struct db_session s;
	sqlite3_stmt *q_st;
	int rc, ended, err = DB_OK;

	*expired = *timed_out = 0;
	if (!(q_st = db_stmt(db, q)))
		return DB_ERR_STORE;
	/* Collect first: ending a session while this read is open would block the writer. */
	while ((rc = sqlite3_step(q_st)) == SQLITE_ROW) {
		db_session_read(db, q_st, &s);
		if (db_session_due(&db->config, &s, now_ms) == DB_REASON_NONE)
			continue;
		if (n == cap) {
			void *more = realloc(ids, (cap = cap ? cap * 2 : 64) * sizeof *ids);

			if (!more) {
				err = db_fail(db, DB_ERR_STORE, "out of memory");
				goto done;
			}
			ids = more;
		}
		memcpy(ids[n++], s.id, sizeof ids[0]);
	}
	if (rc != SQLITE_DONE)
		err = db_fail_sql(db, "sweep");
done:
	sqlite3_reset(q_st);
	for (size_t i = 0; err == DB_OK && i < n; i++) {
		if ((err = db_session_end_due(db, ids[i], now_ms, &s, &st, &ended)) != DB_OK ||
		    !ended)
			continue;
		(*(st.reason == DB_REASON_NO_SHOW ? expired : timed_out))++;
		if (cb)
			cb(arg, &s, &st);
	}
	free(ids);
	return err;
}
