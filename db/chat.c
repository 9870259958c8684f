/* chat.c: a room's stored chat, in the chat file: appended once per sender's client id, replayed in order. */
#include <stdio.h>
#include <string.h>

#include "internal.h"

/* Counts characters, refusing bytes that are not UTF-8; -1 when invalid. */
static long utf8_chars(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	long n = 0;

	while (*p) {
		int extra = *p < 0x80 ? 0 : (*p & 0xe0) == 0xc0 ? 1
		          : (*p & 0xf0) == 0xe0 ? 2 : (*p & 0xf8) == 0xf0 ? 3 : -1;

		if (extra < 0 || (extra == 1 && *p < 0xc2))
			return -1;
		p++;
		for (int i = 0; i < extra; i++, p++)
			if ((*p & 0xc0) != 0x80)
				return -1;
		n++;
		if (n > DB_CHAT_MAX)
			return n; /* enough to refuse */
	}
	return n;
}

static int not_chat(struct db *db)
{
	return db_fail(db, DB_ERR_STATE, "chat is in the chat file: open it with db_chat_open");
}

static void chat_read(sqlite3_stmt *st, struct db_chat *m)
{
	const unsigned char *cid = sqlite3_column_text(st, 3);

	m->seq = sqlite3_column_int64(st, 0);
	m->sender = sqlite3_column_int(st, 1) ? DB_ROLE_ASTROLOGER : DB_ROLE_USER;
	snprintf(m->body, sizeof m->body, "%s", (const char *)sqlite3_column_text(st, 2));
	snprintf(m->client_id, sizeof m->client_id, "%s", cid ? (const char *)cid : "");
	m->at_ms = sqlite3_column_int64(st, 4);
}

#define CHAT_COLUMNS "seq, sender = 'astrologer', body, client_id, created_ms"

/* The message this sender stored before under client_id: 1 and *out filled, or 0. */
static int chat_seen(struct db *db, const char *session_id, enum db_role sender,
                     const char *client_id, struct db_chat *out)
{
	static const char q[] = "SELECT " CHAT_COLUMNS
		" FROM chat_messages WHERE session_id = ? AND sender = ? AND client_id = ?";
	sqlite3_stmt *st = db_stmt(db, q);
	int found;

	if (!st)
		return 0;
	sqlite3_bind_text(st, 1, session_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, db_role_name(sender), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, client_id, -1, SQLITE_STATIC);
	if ((found = sqlite3_step(st) == SQLITE_ROW))
		chat_read(st, out);
	sqlite3_reset(st);
	return found;
}

int db_chat_append(struct db *db, const char *session_id, enum db_role sender,
                   const char *body, const char *client_id, int64_t now_ms,
                   struct db_chat *out, int *duplicate)
{
	/* A resend's insert does nothing and returns no row; only then is the first copy read. */
	static const char ins[] =
		"INSERT INTO chat_messages(session_id, seq, sender, body, client_id, created_ms)"
		" SELECT ?1, coalesce(max(seq), 0) + 1, ?2, ?3, ?4, ?5"
		" FROM chat_messages WHERE session_id = ?1"
		" ON CONFLICT (session_id, sender, client_id) DO NOTHING"
		" RETURNING " CHAT_COLUMNS;
	static const char state[] =
		"SELECT s.ended_ms IS NULL, s.status, coalesce(t.messages, 0), coalesce(t.bytes, 0)"
		" FROM money.webrtc_sessions s LEFT JOIN chat_totals t ON t.session_id = s.id AND t.sender = ?2"
		" WHERE s.id = ?1";
	long chars = body ? utf8_chars(body) : -1;
	size_t cid_len = client_id ? strnlen(client_id, DB_CLIENT_ID_MAX + 1) : 0;
	sqlite3_stmt *st;
	int rc, err;

	*duplicate = 0;
	if (!db->chat_file)
		return not_chat(db);
	if (chars < 1 || chars > DB_CHAT_MAX)
		return db_fail(db, DB_ERR_INVALID, "a message is 1 to %d characters of UTF-8",
		               DB_CHAT_MAX);
	if (cid_len > DB_CLIENT_ID_MAX)
		return db_fail(db, DB_ERR_INVALID, "a client id is at most %d characters",
		               DB_CLIENT_ID_MAX);
	if ((err = db_write_begin(db)) != DB_OK)
		return err;
	/*
	 * Checked in the write's own transaction, on the database as it was at
	 * its start: an end committed before it stops the message, and so does
	 * a full allowance (unless it is a resend).
	 */
	if (!(st = db_stmt(db, state))) {
		err = DB_ERR_STORE;
		goto fail;
	}
	sqlite3_bind_text(st, 1, session_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, db_role_name(sender), -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW)
		err = rc == SQLITE_DONE ? db_fail(db, DB_ERR_NOT_FOUND, "no such session")
		                        : db_fail_sql(db, "chat");
	else if (!sqlite3_column_int(st, 0))
		err = db_fail(db, DB_ERR_ENDED, "this session has ended");
	else
		err = db_chat_allowed(&db->config,
		                      (enum db_status)db_status_parse((const char *)sqlite3_column_text(st, 1)),
		                      sqlite3_column_int64(st, 2), sqlite3_column_int64(st, 3),
		                      (int64_t)strlen(body));
	sqlite3_reset(st);
	if (err == DB_ERR_LIMIT && cid_len && chat_seen(db, session_id, sender, client_id, out)) {
		*duplicate = 1;
		return db_write_commit(db);
	}
	if (err == DB_ERR_LIMIT)
		err = db_fail(db, DB_ERR_LIMIT, "this participant's chat allowance for the session is used up");
	if (err != DB_OK)
		goto fail;
	if (!(st = db_stmt(db, ins))) {
		err = DB_ERR_STORE;
		goto fail;
	}
	sqlite3_bind_text(st, 1, session_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, db_role_name(sender), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, body, -1, SQLITE_STATIC);
	if (cid_len)
		sqlite3_bind_text(st, 4, client_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, now_ms);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		chat_read(st, out);
	sqlite3_reset(st); /* RETURNING finishes the insert on reset */
	if (rc == SQLITE_DONE && cid_len && chat_seen(db, session_id, sender, client_id, out)) {
		rc = SQLITE_ROW;
		*duplicate = 1;
	}
	if (rc != SQLITE_ROW) {
		err = db_fail_sql(db, "chat");
		goto fail;
	}
	return db_write_commit(db);
fail:
	db_write_rollback(db);
	return err;
}

int db_chat_history(struct db *db, const char *session_id, int64_t after_seq,
                    int limit, db_chat_cb *cb, void *arg)
{
	static const char q[] = "SELECT " CHAT_COLUMNS " FROM chat_messages"
		" WHERE session_id = ? AND seq > ? ORDER BY seq LIMIT ?";
	sqlite3_stmt *st;
	struct db_chat m;
	int rc, err = DB_OK;

	if (!db->chat_file)
		return not_chat(db);
	if (!(st = db_stmt(db, q)))
		return DB_ERR_STORE;
	sqlite3_bind_text(st, 1, session_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, after_seq);
	sqlite3_bind_int(st, 3, limit);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		chat_read(st, &m);
		if (cb(arg, &m) != 0)
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		err = db_fail_sql(db, "history");
	sqlite3_reset(st);
	return err;
}
