/* network.c: what the pages report about a call's network path, kept for "why did my call fail". */
#include <string.h>

#include "internal.h"

static int one_of(const char *v, const char *const *names)
{
	for (; v && *names; names++)
		if (!strcmp(v, *names))
			return 1;
	return 0;
}

/* The shapes the schema's CHECKs allow, checked first so a bad report gets a sentence. */
static int network_valid(const struct db_network_report *r)
{
	static const char *const reach[] = {"direct", "relay", "none", NULL};
	static const char *const type[] = {"host", "srflx", "prflx", "relay", NULL};
	static const char *const proto[] = {"udp", "tcp", NULL};
	static const char *const relay_proto[] = {"udp", "tcp", "tls", NULL};

	if (r->phase && !strcmp(r->phase, "preflight"))
		return one_of(r->reach, reach) && !r->local && !r->remote && !r->protocol &&
		       !r->relay_protocol;
	if (r->phase && !strcmp(r->phase, "call"))
		return !r->reach && one_of(r->local, type) && one_of(r->remote, type) &&
		       one_of(r->protocol, proto) &&
		       (!r->relay_protocol ||
		        (one_of(r->relay_protocol, relay_proto) && !strcmp(r->local, "relay")));
	return 0;
}

int db_network_report(struct db *db, const struct db_session *s, enum db_role role,
                      const struct db_network_report *r, int64_t now_ms)
{
	static const char state[] =
		"SELECT s.ended_ms IS NULL, (SELECT count(*) FROM network_reports n"
		"  WHERE n.session_id = s.id AND n.participant = ?2)"
		" FROM webrtc_sessions s WHERE s.id = ?1";
	static const char ins[] =
		"INSERT INTO network_reports(session_id, participant, phase, reach, local_type,"
		" remote_type, protocol, relay_protocol, at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)";
	const char *values[] = {s->id, db_role_name(role), r->phase, r->reach, r->local,
	                        r->remote, r->protocol, r->relay_protocol};
	sqlite3_stmt *st;
	int rc, err;

	if (s->type == DB_TYPE_CHAT)
		return db_fail(db, DB_ERR_STATE, "a chat session has no network path to report");
	if (!network_valid(r))
		return db_fail(db, DB_ERR_INVALID, "a report is a preflight with reach, or a call "
		               "with the local and remote candidate types and the protocol");
	if ((err = db_write_begin(db)) != DB_OK)
		return err;
	/* Under the write lock: an end a moment ago, or a page that keeps reporting, stops it. */
	if (!(st = db_stmt(db, state))) {
		err = DB_ERR_STORE;
		goto fail;
	}
	sqlite3_bind_text(st, 1, s->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, db_role_name(role), -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW)
		err = rc == SQLITE_DONE ? db_fail(db, DB_ERR_NOT_FOUND, "no such session")
		                        : db_fail_sql(db, "network");
	else if (!sqlite3_column_int(st, 0))
		err = db_fail(db, DB_ERR_ENDED, "this session has ended");
	else if (sqlite3_column_int64(st, 1) >= DB_NETWORK_REPORTS_MAX)
		err = db_fail(db, DB_ERR_LIMIT, "this participant has sent %d network reports already",
		              DB_NETWORK_REPORTS_MAX);
	sqlite3_reset(st);
	if (err != DB_OK)
		goto fail;
	if (!(st = db_stmt(db, ins))) {
		err = DB_ERR_STORE;
		goto fail;
	}
	for (int i = 0; i < (int)(sizeof values / sizeof values[0]); i++)
		sqlite3_bind_text(st, i + 1, values[i], -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 9, now_ms);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		err = db_fail_sql(db, "network");
		goto fail;
	}
	return db_write_commit(db);
fail:
	db_write_rollback(db);
	return err;
}

int db_session_network(struct db *db, const char *session_id, db_network_cb *cb, void *arg)
{
	static const char q[] = "SELECT participant, phase, reach, local_type, remote_type,"
		" protocol, relay_protocol, at_ms FROM network_reports WHERE session_id = ? ORDER BY id";
	sqlite3_stmt *st = db_stmt(db, q);
	int rc;

	if (!st)
		return DB_ERR_STORE;
	sqlite3_bind_text(st, 1, session_id, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct db_network_report r = {
			(const char *)sqlite3_column_text(st, 1), (const char *)sqlite3_column_text(st, 2),
			(const char *)sqlite3_column_text(st, 3), (const char *)sqlite3_column_text(st, 4),
			(const char *)sqlite3_column_text(st, 5), (const char *)sqlite3_column_text(st, 6),
		};

		cb(arg, (const char *)sqlite3_column_text(st, 0), &r, sqlite3_column_int64(st, 7));
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? DB_OK : db_fail_sql(db, "network");
}
