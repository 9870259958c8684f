/* report.c: read-only views for the command line: session lists and event histories. */
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
