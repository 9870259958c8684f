/* report.c: read-only views for the command line and the API: session lists and pages, event histories, earnings. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

int db_session_list(struct db *db, int limit, db_session_cb *cb, void *arg)
{
	static const char q[] = "SELECT " DB_SESSION_COLUMNS DB_SESSION_FROM
		"ORDER BY b.created_ms DESC, b.id DESC LIMIT ?";
	sqlite3_stmt *st = db_stmt(db, q);
	struct db_session s;
	int rc;

	if (!st)
		return DB_ERR_STORE;
	sqlite3_bind_int(st, 1, limit);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		db_session_read(db, st, &s);
		cb(arg, &s);
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? DB_OK : db_fail_sql(db, "list");
}

int db_session_events(struct db *db, const char *session_id, db_event_cb *cb, void *arg)
{
	static const char q[] = "SELECT kind, participant, detail, at_ms"
		" FROM session_events WHERE session_id = ? ORDER BY id";
	sqlite3_stmt *st = db_stmt(db, q);
	int rc;

	if (!st)
		return DB_ERR_STORE;
	sqlite3_bind_text(st, 1, session_id, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		cb(arg, (const char *)sqlite3_column_text(st, 0),
		   (const char *)sqlite3_column_text(st, 1),
		   (const char *)sqlite3_column_text(st, 2), sqlite3_column_int64(st, 3));
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? DB_OK : db_fail_sql(db, "events");
}

/* A cursor is "<start ms>.<session id>": where the previous page stopped. */
static int cursor_parse(struct db *db, const char *c, int64_t *ms, char id[DB_ID_LEN + 1])
{
	const char *dot = strchr(c, '.');
	char *end;
	long long v;

	if (!dot || dot == c || strlen(dot + 1) != DB_ID_LEN || dot - c > 19)
		return db_fail(db, DB_ERR_INVALID, "the cursor is not one this API gave");
	v = strtoll(c, &end, 10);
	if (end != dot || v < 0)
		return db_fail(db, DB_ERR_INVALID, "the cursor is not one this API gave");
	for (const char *p = dot + 1; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f') || *p == '-'))
			return db_fail(db, DB_ERR_INVALID, "the cursor is not one this API gave");
	*ms = v;
	memcpy(id, dot + 1, DB_ID_LEN + 1);
	return DB_OK;
}

int db_session_page(struct db *db, const struct db_session_query *q, db_session_cb *cb,
                    void *arg, char next[DB_CURSOR_MAX])
{
	static const char sql[] = "SELECT " DB_SESSION_COLUMNS DB_SESSION_FROM
		"WHERE (?1 IS NULL OR s.status = ?1) AND s.scheduled_start_ms >= ?2"
		" AND s.scheduled_start_ms < ?3 AND (s.scheduled_start_ms, s.id) > (?4, ?5)"
		" ORDER BY s.scheduled_start_ms, s.id LIMIT ?6";
	char after_id[DB_ID_LEN + 1] = "";
	int64_t after_ms = -1;
	struct db_session s;
	sqlite3_stmt *st;
	int rc, n = 0, err;

	next[0] = '\0';
	if (q->limit < 1 || q->limit > DB_PAGE_MAX)
		return db_fail(db, DB_ERR_INVALID, "a page holds 1 to %d sessions", DB_PAGE_MAX);
	if (q->cursor && *q->cursor && (err = cursor_parse(db, q->cursor, &after_ms, after_id)))
		return err;
	if (!(st = db_stmt(db, sql)))
		return DB_ERR_STORE;
	if (q->status >= 0)
		sqlite3_bind_text(st, 1, db_status_name((enum db_status)q->status), -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, q->from_ms);
	sqlite3_bind_int64(st, 3, q->to_ms ? q->to_ms : INT64_MAX);
	sqlite3_bind_int64(st, 4, after_ms);
	sqlite3_bind_text(st, 5, after_id, -1, SQLITE_STATIC);
	/* One more than asked: whether there is a next page. */
	sqlite3_bind_int(st, 6, q->limit + 1);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		db_session_read(db, st, &s);
		if (++n > q->limit) {
			snprintf(next, DB_CURSOR_MAX, "%lld.%s", (long long)after_ms, after_id);
			break;
		}
		cb(arg, &s);
		after_ms = s.scheduled_start_ms;
		memcpy(after_id, s.id, sizeof after_id);
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? DB_OK : db_fail_sql(db, "page");
}

int db_astrologer_list(struct db *db, db_astrologer_cb *cb, void *arg)
{
	static const char q[] =
		"SELECT a.name, c.balance FROM astrologers a JOIN accounts c ON c.astrologer_id = a.id"
		" ORDER BY a.name";
	sqlite3_stmt *st = db_stmt(db, q);
	int rc;

	if (!st)
		return DB_ERR_STORE;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		cb(arg, (const char *)sqlite3_column_text(st, 0), sqlite3_column_int64(st, 1));
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? DB_OK : db_fail_sql(db, "astrologers");
}

int db_earnings_report(struct db *db, int64_t from_ms, int64_t to_ms, db_earnings_cb *cb,
                       void *arg)
{
	static const char q[] =
		"SELECT a.name, count(*), sum(t.billed_minutes), sum(t.charged), sum(t.commission),"
		" sum(t.released)"
		" FROM settlements t JOIN webrtc_sessions s ON s.id = t.session_id"
		" JOIN bookings b ON b.id = s.booking_id JOIN astrologers a ON a.id = b.astrologer_id"
		" WHERE s.ended_ms >= ?1 AND s.ended_ms < ?2 GROUP BY a.id ORDER BY a.name";
	struct db_earnings_row row;
	sqlite3_stmt *st = db_stmt(db, q);
	int rc;

	if (!st)
		return DB_ERR_STORE;
	sqlite3_bind_int64(st, 1, from_ms);
	sqlite3_bind_int64(st, 2, to_ms ? to_ms : INT64_MAX);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		row.astrologer = (const char *)sqlite3_column_text(st, 0);
		row.sessions = sqlite3_column_int64(st, 1);
		row.billed_minutes = sqlite3_column_int64(st, 2);
		row.charged = sqlite3_column_int64(st, 3);
		row.commission = sqlite3_column_int64(st, 4);
		row.earnings = sqlite3_column_int64(st, 5);
		cb(arg, &row);
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? DB_OK : db_fail_sql(db, "earnings");
}
