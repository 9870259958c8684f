/* presence.c: the participants' connections to the relay as they happened, and the time both were there. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/*
 * Ends the participant's open connections where the rules say they ended
 * (a takeover, a dead relay's); *closed (may be NULL) counts them.
 */
static int presence_close(struct db *db, const char *session_id, int role, int64_t now_ms,
                          int *closed)
{
	static const char q[] =
		"SELECT id, seen_ms FROM presence WHERE session_id = ?1 AND left_ms IS NULL"
		" AND (?2 < 0 OR participant = ?3)";
	static const char upd[] = "UPDATE presence SET left_ms = max(joined_ms, ?2) WHERE id = ?1";
	int64_t ids[8], ends[8];
	sqlite3_stmt *st;
	int rc, n;

	if (closed)
		*closed = 0;
	/* Open rows are few (one per participant, a stale one after a crash): take them in rounds. */
	do {
		if (!(st = db_stmt(db, q)))
			return DB_ERR_STORE;
		sqlite3_bind_text(st, 1, session_id, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 2, role);
		sqlite3_bind_text(st, 3, role >= 0 ? db_role_name((enum db_role)role) : "", -1,
		                  SQLITE_STATIC);
		for (n = 0; n < 8 && (rc = sqlite3_step(st)) == SQLITE_ROW; n++) {
			ids[n] = sqlite3_column_int64(st, 0);
			ends[n] = db_presence_end_ms(0, sqlite3_column_int64(st, 1), now_ms);
		}
		sqlite3_reset(st);
		if (n < 8 && rc != SQLITE_DONE)
			return db_fail_sql(db, "presence");
		for (int i = 0; i < n; i++) {
			if (!(st = db_stmt(db, upd)))
				return DB_ERR_STORE;
			sqlite3_bind_int64(st, 1, ids[i]);
			sqlite3_bind_int64(st, 2, ends[i]);
			if (sqlite3_step(st) != SQLITE_DONE)
				return db_fail_sql(db, "presence");
		}
		if (closed)
			*closed += n;
	} while (n == 8);
	return DB_OK;
}

/*
 * The first connection is the join db_start_session reported; a takeover
 * (one still open) is no return. A connection after the participant had
 * left is: it is reported as a join again.
 */
static int presence_returns(struct db *db, const char *session_id, enum db_role role,
                            int *returns)
{
	static const char q[] =
		"SELECT count(*), coalesce(sum(left_ms IS NULL), 0) FROM presence"
		" WHERE session_id = ? AND participant = ?";
	sqlite3_stmt *st = db_stmt(db, q);
	int rc;

	if (!st)
		return DB_ERR_STORE;
	sqlite3_bind_text(st, 1, session_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, db_role_name(role), -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		*returns = sqlite3_column_int64(st, 0) > 0 && sqlite3_column_int64(st, 1) == 0;
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? DB_OK : db_fail_sql(db, "presence");
}

int db_presence_join(struct db *db, const char *session_id, enum db_role role, int64_t now_ms)
{
	static const char ins[] =
		"INSERT INTO presence(session_id, participant, joined_ms, seen_ms) VALUES (?, ?, ?, ?)";
	sqlite3_stmt *st;
	int err, returns = 0;

	if ((err = db_write_begin(db)) != DB_OK)
		return err;
	if ((err = presence_returns(db, session_id, role, &returns)) != DB_OK ||
	    (err = presence_close(db, session_id, (int)role, now_ms, NULL)) != DB_OK)
		goto fail;
	if (!(st = db_stmt(db, ins))) {
		err = DB_ERR_STORE;
		goto fail;
	}
	sqlite3_bind_text(st, 1, session_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, db_role_name(role), -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, now_ms);
	sqlite3_bind_int64(st, 4, now_ms);
	if (sqlite3_step(st) != SQLITE_DONE) {
		err = db_fail_sql(db, "presence");
		goto fail;
	}
	if (returns && (err = db_hook_event(db, DB_HOOK_PARTICIPANT_JOINED, session_id, (int)role,
	                                    0, 0, now_ms)) != DB_OK)
		goto fail;
	return db_write_commit(db);
fail:
	db_write_rollback(db);
	return err;
}

int db_presence_leave(struct db *db, const char *session_id, enum db_role role, int64_t now_ms)
{
	int err, closed;

	if ((err = db_write_begin(db)) != DB_OK)
		return err;
	if ((err = presence_close(db, session_id, (int)role, now_ms, &closed)) != DB_OK ||
	    (closed && (err = db_hook_event(db, DB_HOOK_PARTICIPANT_LEFT, session_id, (int)role,
	                                    0, 0, now_ms)) != DB_OK))
		goto fail;
	return db_write_commit(db);
fail:
	db_write_rollback(db);
	return err;
}

int db_presence_beat(struct db *db, int64_t now_ms)
{
	sqlite3_stmt *st = db_stmt(db, "UPDATE presence SET seen_ms = max(seen_ms, ?) WHERE left_ms IS NULL");
	int rc;

	if (!st)
		return DB_ERR_STORE;
	sqlite3_bind_int64(st, 1, now_ms);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? DB_OK : db_fail_sql(db, "presence beat");
}

/* Who a dead relay left connected, and since its last heartbeat. */
struct presence_open {
	char session_id[DB_ID_LEN + 1];
	int role;
	int64_t seen_ms;
};

/* Collects the open connections, for recover to report once they are closed. */
static int presence_open_list(struct db *db, struct presence_open **out, size_t *n)
{
	static const char q[] =
		"SELECT session_id, participant, max(seen_ms) FROM presence WHERE left_ms IS NULL"
		" GROUP BY session_id, participant";
	sqlite3_stmt *st = db_stmt(db, q);
	size_t cap = 0;
	int rc, err = DB_OK;

	*out = NULL;
	*n = 0;
	if (!st)
		return DB_ERR_STORE;
	while (err == DB_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n == cap) {
			void *more = realloc(*out, (cap = cap ? cap * 2 : 16) * sizeof **out);

			if (!more) {
				err = db_fail(db, DB_ERR_STORE, "out of memory");
				break;
			}
			*out = more;
		}
		snprintf((*out)[*n].session_id, sizeof (*out)[*n].session_id, "%s",
		         (const char *)sqlite3_column_text(st, 0));
		(*out)[*n].role = db_role_parse((const char *)sqlite3_column_text(st, 1));
		(*out)[(*n)++].seen_ms = sqlite3_column_int64(st, 2);
	}
	sqlite3_reset(st);
	if (err == DB_OK && rc != SQLITE_DONE)
		err = db_fail_sql(db, "presence recover");
	return err;
}

/* Each connection a dead relay left open ends at its last heartbeat, and is reported as a leave. */
int db_presence_recover(struct db *db)
{
	struct presence_open *open = NULL; /* is malloc'd */
	sqlite3_stmt *st;
	size_t n = 0;
	int err;

	if ((err = db_write_begin(db)) != DB_OK)
		return err;
	if ((err = presence_open_list(db, &open, &n)) != DB_OK)
		goto fail;
	if (!(st = db_stmt(db, "UPDATE presence SET left_ms = seen_ms WHERE left_ms IS NULL"))) {
		err = DB_ERR_STORE;
		goto fail;
	}
	if (sqlite3_step(st) != SQLITE_DONE) {
		err = db_fail_sql(db, "presence recover");
		sqlite3_reset(st);
		goto fail;
	}
	sqlite3_reset(st);
	for (size_t i = 0; i < n; i++)
		if (open[i].role >= 0 &&
		    (err = db_hook_event(db, DB_HOOK_PARTICIPANT_LEFT, open[i].session_id, open[i].role,
		                         0, 0, open[i].seen_ms)) != DB_OK)
			goto fail;
	free(open);
	return db_write_commit(db);
fail:
	free(open);
	db_write_rollback(db);
	return err;
}

int db_presence_close_all(struct db *db, const char *session_id, int64_t now_ms)
{
	return presence_close(db, session_id, -1, now_ms, NULL);
}

int db_presence_list(struct db *db, const char *session_id, db_presence_cb *cb, void *arg)
{
	static const char q[] =
		"SELECT participant, joined_ms, seen_ms, left_ms FROM presence"
		" WHERE session_id = ? ORDER BY joined_ms, id";
	sqlite3_stmt *st = db_stmt(db, q);
	int rc;

	if (!st)
		return DB_ERR_STORE;
	sqlite3_bind_text(st, 1, session_id, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		cb(arg, (enum db_role)db_role_parse((const char *)sqlite3_column_text(st, 0)),
		   sqlite3_column_int64(st, 1), sqlite3_column_int64(st, 2), sqlite3_column_int64(st, 3));
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? DB_OK : db_fail_sql(db, "presence");
}

/* Collects each participant's intervals as of now_ms. */
struct presence_sides {
	struct db_interval *iv[2]; /* is malloc'd: by enum db_role */
	size_t n[2], cap[2];
	int64_t now_ms;
	int oom;
};

static void presence_collect(void *arg, enum db_role role, int64_t joined_ms, int64_t seen_ms,
                             int64_t left_ms)
{
	struct presence_sides *p = arg;

	if (p->oom || (int)role < 0)
		return;
	if (p->n[role] == p->cap[role]) {
		size_t cap = p->cap[role] ? p->cap[role] * 2 : 16;
		void *more = realloc(p->iv[role], cap * sizeof *p->iv[role]);

		if (!more) {
			p->oom = 1;
			return;
		}
		p->iv[role] = more;
		p->cap[role] = cap;
	}
	p->iv[role][p->n[role]].from_ms = joined_ms;
	p->iv[role][p->n[role]++].to_ms = db_presence_end_ms(left_ms, seen_ms, p->now_ms);
}

int db_presence_billed_ms(struct db *db, const struct db_session *s, int64_t now_ms,
                          int64_t *billed_ms)
{
	struct presence_sides p;
	int64_t until = s->deadline_ms < now_ms ? s->deadline_ms : now_ms;
	int err;

	memset(&p, 0, sizeof p);
	p.now_ms = now_ms;
	*billed_ms = 0;
	if ((err = db_presence_list(db, s->id, presence_collect, &p)) == DB_OK && p.oom)
		err = db_fail(db, DB_ERR_STORE, "out of memory");
	if (err == DB_OK && s->started_ms)
		*billed_ms = db_overlap_ms(p.iv[DB_ROLE_USER], p.n[DB_ROLE_USER],
		                           p.iv[DB_ROLE_ASTROLOGER], p.n[DB_ROLE_ASTROLOGER],
		                           s->started_ms, until);
	free(p.iv[0]);
	free(p.iv[1]);
	return err;
}
