/* notes.c: the astrologer's private session notes, kept as versions, and the summary published for the customer. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* A column's text as a string of the caller's. */
static int notes_copy(struct db *db, sqlite3_stmt *st, int col, char **out)
{
	const char *t = (const char *)sqlite3_column_text(st, col);
	size_t n = (size_t)sqlite3_column_bytes(st, col);

	if (!(*out = malloc(n + 1)))
		return db_fail(db, DB_ERR_STORE, "out of memory");
	memcpy(*out, t ? t : "", n);
	(*out)[n] = '\0';
	return DB_OK;
}

static int notes_size_ok(struct db *db, const char *text)
{
	if ((int64_t)strlen(text) > db->config.notes_max_bytes)
		return db_fail(db, DB_ERR_LIMIT, "notes and summaries are at most %lld bytes",
		               (long long)db->config.notes_max_bytes);
	return DB_OK;
}

/* Runs one of the writes that store (session_id, body, at_ms), inside the caller's transaction. */
static int notes_put(struct db *db, const char *sql, const struct db_session *s, const char *text,
                     int64_t now_ms)
{
	sqlite3_stmt *st = db_stmt(db, sql);
	int rc;

	if (!st)
		return DB_ERR_STORE;
	sqlite3_bind_text(st, 1, s->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, text, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, now_ms);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? DB_OK : db_fail_sql(db, "notes");
}

int db_note_save(struct db *db, const struct db_session *s, enum db_role role, const char *text,
                 int64_t now_ms, struct db_note *out, int *unchanged)
{
	static const char latest[] =
		"SELECT (SELECT count(*) FROM note_versions WHERE session_id = ?1),"
		" (SELECT body = ?2 FROM note_versions WHERE session_id = ?1 ORDER BY id DESC LIMIT 1),"
		" (SELECT at_ms FROM note_versions WHERE session_id = ?1 ORDER BY id DESC LIMIT 1)";
	static const char ins[] = "INSERT INTO note_versions(session_id, body, at_ms) VALUES (?, ?, ?)";
	sqlite3_stmt *st;
	int rc, err;

	*unchanged = 0;
	if ((err = db_notes_writable(&db->config, s, role, now_ms)) != DB_OK)
		return db_fail(db, err, err == DB_ERR_ROLE ? "only the astrologer keeps notes"
		                                          : "this link cannot write notes now");
	if ((err = notes_size_ok(db, text)) != DB_OK)
		return err;
	if ((err = db_write_begin(db)) != DB_OK)
		return err;
	if (!(st = db_stmt(db, latest))) {
		err = DB_ERR_STORE;
		goto fail;
	}
	sqlite3_bind_text(st, 1, s->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, text, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) != SQLITE_ROW) {
		sqlite3_reset(st);
		err = db_fail_sql(db, "notes");
		goto fail;
	}
	*out = (struct db_note){sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 2),
	                        (int64_t)strlen(text)};
	*unchanged = sqlite3_column_int(st, 1) == 1;
	sqlite3_reset(st);
	/* An autosave of what is stored already costs nothing, also at the cap. */
	if (*unchanged) {
		db_write_rollback(db);
		return DB_OK;
	}
	if (out->version >= db->config.notes_max_versions) {
		err = db_fail(db, DB_ERR_LIMIT, "a session keeps at most %lld versions of its notes",
		              (long long)db->config.notes_max_versions);
		goto fail;
	}
	if ((err = notes_put(db, ins, s, text, now_ms)) != DB_OK)
		goto fail;
	out->version++;
	out->at_ms = now_ms;
	return db_write_commit(db);
fail:
	db_write_rollback(db);
	return err;
}

int db_note_read(struct db *db, const struct db_session *s, enum db_role role, int64_t version,
                 char **text, struct db_note *out, db_note_cb *cb, void *arg)
{
	static const char q[] = "SELECT body, at_ms, length(CAST(body AS BLOB)) FROM note_versions"
		" WHERE session_id = ? ORDER BY id";
	sqlite3_stmt *st;
	int64_t n = 0;
	int rc, err;

	*text = NULL;
	*out = (struct db_note){0, 0, 0};
	if ((err = db_notes_readable(role)) != DB_OK)
		return db_fail(db, err, "only the astrologer reads the notes");
	if (!(st = db_stmt(db, q)))
		return DB_ERR_STORE;
	sqlite3_bind_text(st, 1, s->id, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct db_note v = {++n, sqlite3_column_int64(st, 1), sqlite3_column_int64(st, 2)};

		cb(arg, &v);
		if (version && version != n)
			continue;
		free(*text);
		*out = v;
		if ((err = notes_copy(db, st, 0, text)) != DB_OK)
			goto fail;
	}
	if (rc != SQLITE_DONE) {
		err = db_fail_sql(db, "notes");
		goto fail;
	}
	sqlite3_reset(st);
	if (version && !out->version) {
		err = db_fail(db, DB_ERR_NOT_FOUND, "the notes have no version %lld", (long long)version);
		goto fail;
	}
	if (!*text && !(*text = calloc(1, 1))) {
		err = db_fail(db, DB_ERR_STORE, "out of memory");
		goto fail;
	}
	return DB_OK;
fail:
	sqlite3_reset(st);
	free(*text);
	*text = NULL;
	return err;
}

int db_summary_publish(struct db *db, const struct db_session *s, enum db_role role,
                       const char *text, int64_t now_ms)
{
	static const char up[] = "INSERT INTO session_summaries(session_id, body, at_ms) VALUES (?, ?, ?)"
		" ON CONFLICT (session_id) DO UPDATE SET body = excluded.body, at_ms = excluded.at_ms";
	int err;

	if ((err = db_notes_writable(&db->config, s, role, now_ms)) != DB_OK)
		return db_fail(db, err, err == DB_ERR_ROLE ? "only the astrologer publishes a summary"
		                                          : "this link cannot publish a summary now");
	if (!*text)
		return db_fail(db, DB_ERR_INVALID, "a summary has some text");
	if ((err = notes_size_ok(db, text)) != DB_OK)
		return err;
	if ((err = db_write_begin(db)) != DB_OK)
		return err;
	if ((err = notes_put(db, up, s, text, now_ms)) != DB_OK)
		goto fail;
	return db_write_commit(db);
fail:
	db_write_rollback(db);
	return err;
}

int db_summary_get(struct db *db, const struct db_session *s, char **text, int64_t *at_ms)
{
	static const char q[] = "SELECT body, at_ms FROM session_summaries WHERE session_id = ?";
	sqlite3_stmt *st = db_stmt(db, q);
	int rc, err = DB_OK;

	*text = NULL;
	*at_ms = 0;
	if (!st)
		return DB_ERR_STORE;
	sqlite3_bind_text(st, 1, s->id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*at_ms = sqlite3_column_int64(st, 1);
		err = notes_copy(db, st, 0, text);
	} else if (rc != SQLITE_DONE) {
		err = db_fail_sql(db, "summary");
	}
	sqlite3_reset(st);
	return err;
}
