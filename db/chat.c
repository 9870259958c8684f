/* chat.c: a room's stored chat, in the chat file: appended once per sender's client id, reacted to, replayed in order. */
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

/* The page's emoji picker offers the same (html/js/emoji.js, REACTIONS); a test compares them. */
const char *const db_reactions[DB_REACTIONS] = {"👍", "❤️", "😂", "😮", "🙏", "👏"};

const char *db_reaction_find(const char *s, size_t len)
{
	for (int i = 0; s && i < DB_REACTIONS; i++)
		if (len == strlen(db_reactions[i]) && !memcmp(s, db_reactions[i], len))
			return db_reactions[i];
	return NULL;
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
	m->file_id = sqlite3_column_int64(st, 5);
	m->file_type = m->file_id ? (enum db_file_type)db_file_type_parse((const char *)sqlite3_column_text(st, 6))
	                          : DB_FILE_JPEG;
	m->file_bytes = sqlite3_column_int64(st, 7);
	m->file_gone = sqlite3_column_int(st, 8);
	m->nreactions = 0;
}

/* A message with the file it announces, if any, and its room: alias m, then the clauses. */
#define CHAT_SELECT "SELECT m.seq, m.sender = 'astrologer', m.body, m.client_id, m.created_ms," \
	" coalesce(m.file_id, 0), f.type, coalesce(f.bytes, 0), f.purged_ms IS NOT NULL, m.room" \
	" FROM chat_messages m LEFT JOIN chat_files f ON f.id = m.file_id"

/* The message this sender stored before under client_id: 1 and *out filled, or 0. */
static int chat_seen(struct db *db, const struct db_chat_room *room, enum db_role sender,
                     const char *client_id, struct db_chat *out)
{
	static const char q[] = CHAT_SELECT
		" WHERE m.room = ? AND m.sender = ? AND m.client_id = ?";
	sqlite3_stmt *st;
	int found;

	if (!room->id || !(st = db_stmt(db, q)))
		return 0;
	sqlite3_bind_int64(st, 1, room->id);
	sqlite3_bind_text(st, 2, db_role_name(sender), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, client_id, -1, SQLITE_STATIC);
	if ((found = sqlite3_step(st) == SQLITE_ROW))
		chat_read(st, out);
	sqlite3_reset(st);
	return found;
}

/* The room's entry in the transaction's cache, or NULL when it is not there. */
static struct db_chat_room *room_cached(struct db *db, const char *session_id)
{
	for (int i = 0; i < db->nchat_rooms; i++)
		if (strcmp(db->chat_rooms[i].session_id, session_id) == 0)
			return &db->chat_rooms[i];
	return NULL;
}

/*
 * Reads what a write must know of a room: the session's state in the
 * database (as of this transaction's snapshot), its chat_rooms row, the
 * next seq and both senders' totals. Kept for the rest of the
 * transaction, which holds the chat file's write lock, so a batch reads
 * each room once. *room points at the cache's entry, or at tmp when the
 * cache is full.
 */
static int room_read(struct db *db, const char *session_id, struct db_chat_room *tmp,
                     struct db_chat_room **room)
{
	static const char q[] =
		"SELECT s.ended_ms IS NULL, s.status, coalesce(r.id, 0),"
		" (SELECT coalesce(max(seq), 0) FROM chat_messages WHERE room = r.id),"
		" coalesce(r.user_messages, 0), coalesce(r.user_bytes, 0),"
		" coalesce(r.astrologer_messages, 0), coalesce(r.astrologer_bytes, 0)"
		" FROM money.webrtc_sessions s LEFT JOIN chat_rooms r ON r.session_id = s.id"
		" WHERE s.id = ?1";
	struct db_chat_room *r;
	sqlite3_stmt *st;
	int rc;

	if ((*room = room_cached(db, session_id)))
		return DB_OK;
	if (!(st = db_stmt(db, q)))
		return DB_ERR_STORE;
	sqlite3_bind_text(st, 1, session_id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		rc = rc == SQLITE_DONE ? db_fail(db, DB_ERR_NOT_FOUND, "no such session")
		                       : db_fail_sql(db, "chat");
		sqlite3_reset(st);
		return rc;
	}
	r = db->nchat_rooms < DB_CHAT_ROOMS ? &db->chat_rooms[db->nchat_rooms++] : tmp;
	snprintf(r->session_id, sizeof r->session_id, "%s", session_id);
	r->open = sqlite3_column_int(st, 0);
	r->status = (enum db_status)db_status_parse((const char *)sqlite3_column_text(st, 1));
	r->id = sqlite3_column_int64(st, 2);
	r->next_seq = sqlite3_column_int64(st, 3) + 1;
	for (int i = 0; i < 2; i++) {
		r->messages[i] = sqlite3_column_int64(st, 4 + 2 * i);
		r->bytes[i] = sqlite3_column_int64(st, 5 + 2 * i);
	}
	r->unsaved = 0;
	sqlite3_reset(st);
	*room = r;
	return DB_OK;
}

/* Gives a room its chat_rooms row, at its first message. */
static int room_create(struct db *db, struct db_chat_room *room)
{
	static const char q[] = "INSERT INTO chat_rooms(session_id) VALUES (?)";
	sqlite3_stmt *st = db_stmt(db, q);
	int rc;

	if (!st)
		return DB_ERR_STORE;
	sqlite3_bind_text(st, 1, room->session_id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return db_fail_sql(db, "chat");
	room->id = sqlite3_last_insert_rowid(db->sql);
	return DB_OK;
}

static int room_save(struct db *db, struct db_chat_room *room)
{
	static const char q[] =
		"UPDATE chat_rooms SET user_messages = ?2, user_bytes = ?3,"
		" astrologer_messages = ?4, astrologer_bytes = ?5 WHERE id = ?1";
	sqlite3_stmt *st = db_stmt(db, q);
	int rc;

	if (!st)
		return DB_ERR_STORE;
	sqlite3_bind_int64(st, 1, room->id);
	sqlite3_bind_int64(st, 2, room->messages[DB_ROLE_USER]);
	sqlite3_bind_int64(st, 3, room->bytes[DB_ROLE_USER]);
	sqlite3_bind_int64(st, 4, room->messages[DB_ROLE_ASTROLOGER]);
	sqlite3_bind_int64(st, 5, room->bytes[DB_ROLE_ASTROLOGER]);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return db_fail_sql(db, "chat");
	room->unsaved = 0;
	return DB_OK;
}

int db_chat_rooms_save(struct db *db)
{
	int err;

	for (int i = 0; i < db->nchat_rooms; i++)
		if (db->chat_rooms[i].unsaved && (err = room_save(db, &db->chat_rooms[i])) != DB_OK)
			return err;
	return DB_OK;
}

/*
 * The file a message would announce, read in the message's transaction:
 * this sender's, in this session, kept, and announced by nothing yet.
 * Its name becomes the message's body.
 */
static int chat_file_claim(struct db *db, const char *session_id, enum db_role sender,
                           int64_t file_id, struct db_chat *out)
{
	static const char q[] =
		"SELECT f.name, f.type, f.bytes, f.purged_ms IS NOT NULL,"
		" EXISTS (SELECT 1 FROM chat_messages m WHERE m.file_id = f.id)"
		" FROM chat_files f WHERE f.id = ? AND f.session_id = ? AND f.sender = ?";
	sqlite3_stmt *st = db_stmt(db, q);
	int rc, err = DB_OK;

	if (!st)
		return DB_ERR_STORE;
	sqlite3_bind_int64(st, 1, file_id);
	sqlite3_bind_text(st, 2, session_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, db_role_name(sender), -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) != SQLITE_ROW)
		err = rc == SQLITE_DONE ? db_fail(db, DB_ERR_NOT_FOUND, "no such file of yours in this session")
		                        : db_fail_sql(db, "chat");
	else if (sqlite3_column_int(st, 3))
		err = db_fail(db, DB_ERR_GONE, "the file was deleted after its retention");
	else if (sqlite3_column_int(st, 4))
		err = db_fail(db, DB_ERR_NOT_FOUND, "this file was announced already");
	else {
		snprintf(out->body, sizeof out->body, "%s", (const char *)sqlite3_column_text(st, 0));
		out->file_id = file_id;
		out->file_type = (enum db_file_type)db_file_type_parse((const char *)sqlite3_column_text(st, 1));
		out->file_bytes = sqlite3_column_int64(st, 2);
		out->file_gone = 0;
	}
	sqlite3_reset(st);
	return err;
}

/*
 * Opens a write on a room: its own IMMEDIATE transaction when own_tx,
 * else the caller's, then what it must know of the room (room_read).
 * Nothing is left open when it fails.
 */
static int write_start(struct db *db, int own_tx, const char *session_id,
                       struct db_chat_room *tmp, struct db_chat_room **room)
{
	int err;

	/* A failed write (a full disk) may have rolled back the caller's whole transaction. */
	if (!own_tx && sqlite3_get_autocommit(db->sql))
		return db_fail(db, DB_ERR_STORE, "chat: the transaction ended after an earlier error");
	if (own_tx && (err = db_write_begin(db)) != DB_OK)
		return err;
	if (own_tx)
		db->nchat_rooms = 0;
	if ((err = room_read(db, session_id, tmp, room)) != DB_OK && own_tx)
		db_write_rollback(db);
	return err;
}

/*
 * One INSERT is the only write, atomic by itself, so inside a caller's
 * transaction no savepoint is needed; alone it gets its own IMMEDIATE
 * transaction, so the checks and the write see the same state. A message
 * of kind file has file_id and no body: the file's name is its body.
 */
static int chat_insert(struct db *db, const char *session_id, enum db_role sender,
                       const char *body, int64_t file_id, const char *client_id, int64_t now_ms,
                       struct db_chat *out, int *duplicate)
{
	/* A resend's insert does nothing (no change); only then is the first copy read. */
	static const char ins[] =
		"INSERT INTO chat_messages(room, seq, sender, body, client_id, created_ms, file_id)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
		" ON CONFLICT (room, sender, client_id) DO NOTHING";
	long chars = file_id ? 1 : body ? utf8_chars(body) : -1;
	size_t cid_len = client_id ? strnlen(client_id, DB_CLIENT_ID_MAX + 1) : 0;
	struct db_chat_room *room, tmp;
	int own_tx = !db->in_tx, err;
	size_t body_len;
	sqlite3_stmt *st;

	*duplicate = 0;
	if (!db->chat_file)
		return not_chat(db);
	if (chars < 1 || chars > DB_CHAT_MAX)
		return db_fail(db, DB_ERR_INVALID, "a message is 1 to %d characters of UTF-8",
		               DB_CHAT_MAX);
	if (cid_len > DB_CLIENT_ID_MAX)
		return db_fail(db, DB_ERR_INVALID, "a client id is at most %d characters",
		               DB_CLIENT_ID_MAX);
	if ((err = write_start(db, own_tx, session_id, &tmp, &room)) != DB_OK)
		return err;
	/* A resend of an announcement finds its file announced: it is the first copy that answers. */
	if (file_id && cid_len && chat_seen(db, room, sender, client_id, out)) {
		*duplicate = 1;
		goto done;
	}
	out->file_id = 0;
	out->file_type = DB_FILE_JPEG;
	out->file_bytes = 0;
	out->file_gone = 0;
	if (file_id) {
		if ((err = chat_file_claim(db, session_id, sender, file_id, out)) != DB_OK)
			goto fail;
		body = out->body;
	}
	/*
	 * Checked in the write's own transaction, on the database as it was at
	 * its start: an end committed before it stops the message, and so does
	 * a full allowance (unless it is a resend).
	 */
	if (!room->open)
		err = db_fail(db, DB_ERR_ENDED, "this session has ended");
	else
		err = db_chat_allowed(&db->config, room->status, room->messages[sender],
		                      room->bytes[sender], (int64_t)strlen(body));
	if (err == DB_ERR_LIMIT && cid_len && chat_seen(db, room, sender, client_id, out)) {
		*duplicate = 1;
		goto done;
	}
	if (err == DB_ERR_LIMIT)
		err = db_fail(db, DB_ERR_LIMIT, "this participant's chat allowance for the session is used up");
	if (err == DB_OK && !room->id)
		err = room_create(db, room);
	if (err != DB_OK)
		goto fail;
	if (!(st = db_stmt(db, ins))) {
		err = DB_ERR_STORE;
		goto fail;
	}
	sqlite3_bind_int64(st, 1, room->id);
	sqlite3_bind_int64(st, 2, room->next_seq);
	sqlite3_bind_text(st, 3, db_role_name(sender), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, body, -1, SQLITE_STATIC);
	if (cid_len)
		sqlite3_bind_text(st, 5, client_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, now_ms);
	if (file_id)
		sqlite3_bind_int64(st, 7, file_id);
	if (sqlite3_step(st) != SQLITE_DONE) {
		err = db_fail_sql(db, "chat");
		sqlite3_reset(st);
		goto fail;
	}
	sqlite3_reset(st);
	if (sqlite3_changes(db->sql) == 0) {
		if (!cid_len || !chat_seen(db, room, sender, client_id, out)) {
			err = db_fail(db, DB_ERR_STORE, "chat: a resend whose first copy cannot be read");
			goto fail;
		}
		*duplicate = 1;
		goto done;
	}
	/* Both lengths were checked above: at most 4 bytes a character, DB_CLIENT_ID_MAX bytes. */
	body_len = strlen(body);
	out->seq = room->next_seq++;
	out->sender = sender;
	if (body != out->body)
		memcpy(out->body, body, body_len + 1);
	memcpy(out->client_id, cid_len ? client_id : "", cid_len + 1);
	out->at_ms = now_ms;
	out->nreactions = 0;
	room->messages[sender]++;
	room->bytes[sender] += (int64_t)body_len;
	/* The commit writes a cached room's totals, once for a whole batch; one beyond the cache now. */
	room->unsaved = 1;
	if (room == &tmp && (err = room_save(db, room)) != DB_OK)
		goto fail;
done:
	return own_tx ? db_write_commit(db) : DB_OK;
fail:
	if (own_tx)
		db_write_rollback(db);
	return err;
}

int db_chat_append(struct db *db, const char *session_id, enum db_role sender,
                   const char *body, const char *client_id, int64_t now_ms,
                   struct db_chat *out, int *duplicate)
{
	return chat_insert(db, session_id, sender, body, 0, client_id, now_ms, out, duplicate);
}

int db_chat_append_file(struct db *db, const char *session_id, enum db_role sender,
                        int64_t file_id, const char *client_id, int64_t now_ms,
                        struct db_chat *out, int *duplicate)
{
	if (file_id < 1)
		return db_fail(db, DB_ERR_INVALID, "a file id is a whole number from 1");
	return chat_insert(db, session_id, sender, NULL, file_id, client_id, now_ms, out, duplicate);
}

/*
 * One INSERT or DELETE is the only write, as in db_chat_append; the
 * message's existence and the session's state are read in the same
 * transaction, so a reaction never outlives an end committed before it.
 */
int db_chat_react(struct db *db, const char *session_id, enum db_role by, int64_t seq,
                  const char *emoji, int on, int64_t now_ms, int *changed)
{
	static const char exists[] = "SELECT 1 FROM chat_messages WHERE room = ? AND seq = ?";
	static const char put[] =
		"INSERT INTO chat_reactions(room, seq, sender, emoji, created_ms)"
		" VALUES (?1, ?2, ?3, ?4, ?5)"
		" ON CONFLICT (room, seq, sender, emoji) DO NOTHING";
	static const char take[] =
		"DELETE FROM chat_reactions WHERE room = ?1 AND seq = ?2 AND sender = ?3"
		" AND emoji = ?4";
	struct db_chat_room *room, tmp;
	int own_tx = !db->in_tx, err, rc;
	sqlite3_stmt *st;

	*changed = 0;
	if (!db->chat_file)
		return not_chat(db);
	if (!emoji || !db_reaction_find(emoji, strlen(emoji)))
		return db_fail(db, DB_ERR_INVALID, "a reaction is one of the fixed emoji");
	if ((err = write_start(db, own_tx, session_id, &tmp, &room)) != DB_OK)
		return err;
	if (!room->open) {
		err = db_fail(db, DB_ERR_ENDED, "this session has ended");
		goto fail;
	}
	if (!(st = db_stmt(db, exists))) {
		err = DB_ERR_STORE;
		goto fail;
	}
	sqlite3_bind_int64(st, 1, room->id);
	sqlite3_bind_int64(st, 2, seq);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_ROW) {
		err = rc == SQLITE_DONE ? db_fail(db, DB_ERR_NOT_FOUND, "no message %lld in this session",
		                                  (long long)seq)
		                        : db_fail_sql(db, "reaction");
		goto fail;
	}
	if (!(st = db_stmt(db, on ? put : take))) {
		err = DB_ERR_STORE;
		goto fail;
	}
	sqlite3_bind_int64(st, 1, room->id);
	sqlite3_bind_int64(st, 2, seq);
	sqlite3_bind_text(st, 3, db_role_name(by), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, emoji, -1, SQLITE_STATIC);
	if (on)
		sqlite3_bind_int64(st, 5, now_ms);
	if (sqlite3_step(st) != SQLITE_DONE) {
		err = db_fail_sql(db, "reaction");
		sqlite3_reset(st);
		goto fail;
	}
	sqlite3_reset(st);
	*changed = sqlite3_changes(db->sql) > 0;
	return own_tx ? db_write_commit(db) : DB_OK;
fail:
	if (own_tx)
		db_write_rollback(db);
	return err;
}

/* Fills m's reactions, oldest first; a row outside the set (none is written) is skipped. */
static int chat_reactions_read(struct db *db, int64_t room, struct db_chat *m)
{
	static const char q[] = "SELECT sender = 'astrologer', emoji FROM chat_reactions"
		" WHERE room = ? AND seq = ? ORDER BY created_ms, sender, emoji";
	sqlite3_stmt *st;
	const char *emoji;
	int rc;

	if (!(st = db_stmt(db, q)))
		return DB_ERR_STORE;
	sqlite3_bind_int64(st, 1, room);
	sqlite3_bind_int64(st, 2, m->seq);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && m->nreactions < 2 * DB_REACTIONS) {
		emoji = (const char *)sqlite3_column_text(st, 1);
		if (!(emoji = db_reaction_find(emoji, (size_t)sqlite3_column_bytes(st, 1))))
			continue;
		m->reactions[m->nreactions].by = sqlite3_column_int(st, 0) ? DB_ROLE_ASTROLOGER : DB_ROLE_USER;
		m->reactions[m->nreactions++].emoji = emoji;
	}
	sqlite3_reset(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? DB_OK : db_fail_sql(db, "history");
}

int db_chat_history(struct db *db, const char *session_id, int64_t after_seq,
                    int limit, db_chat_cb *cb, void *arg)
{
	static const char q[] = CHAT_SELECT
		" JOIN chat_rooms r ON r.id = m.room"
		" WHERE r.session_id = ? AND m.seq > ? ORDER BY m.seq LIMIT ?";
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
		if ((err = chat_reactions_read(db, sqlite3_column_int64(st, 9), &m)) != DB_OK ||
		    cb(arg, &m) != 0)
			break;
	}
	if (err == DB_OK && rc != SQLITE_ROW && rc != SQLITE_DONE)
		err = db_fail_sql(db, "history");
	sqlite3_reset(st);
	return err;
}

