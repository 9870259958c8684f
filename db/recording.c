/* recording.c: recording with consent: the consent record in session_events, the recordings' rows and their files. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <sodium.h>

#include "internal.h"

#define REC_COLUMNS "id, media, file, bytes, next_seq, started_ms, coalesce(stopped_ms, 0)"

static void rec_read(sqlite3_stmt *st, struct db_recording *r)
{
	const char *file = (const char *)sqlite3_column_text(st, 2);

	r->id = sqlite3_column_int64(st, 0);
	r->video = strcmp((const char *)sqlite3_column_text(st, 1), "video") == 0;
	snprintf(r->file, sizeof r->file, "%s", file ? file : "");
	r->bytes = sqlite3_column_int64(st, 3);
	r->next_seq = sqlite3_column_int64(st, 4);
	r->started_ms = sqlite3_column_int64(st, 5);
	r->stopped_ms = sqlite3_column_int64(st, 6);
}

int db_recording_status(struct db *db, const char *session_id, struct db_rec_status *out)
{
	static const char q[] =
		"SELECT kind, participant, (SELECT max(id) FROM recordings"
		"  WHERE session_id = ?1 AND stopped_ms IS NULL)"
		" FROM session_events WHERE session_id = ?1 AND kind IN ('recording_consent',"
		" 'recording_declined', 'recording_started', 'recording_stopped')"
		" ORDER BY id DESC LIMIT 1";
	sqlite3_stmt *st = db_stmt(db, q);
	int rc;

	*out = (struct db_rec_status){DB_REC_IDLE, DB_ROLE_USER, 0};
	if (!st)
		return DB_ERR_STORE;
	sqlite3_bind_text(st, 1, session_id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const char *kind = (const char *)sqlite3_column_text(st, 0);
		const char *who = (const char *)sqlite3_column_text(st, 1);

		out->by = who && strcmp(who, "astrologer") == 0 ? DB_ROLE_ASTROLOGER : DB_ROLE_USER;
		if (strcmp(kind, "recording_consent") == 0)
			out->state = DB_REC_ASKED;
		else if (strcmp(kind, "recording_started") == 0) {
			out->state = DB_REC_RUNNING;
			out->recording_id = sqlite3_column_int64(st, 2);
		}
	}
	sqlite3_reset(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? DB_OK : db_fail_sql(db, "recording");
}

/* The row a started recording gets, under a name no client chooses. */
static int rec_create(struct db *db, const struct db_session *s, int64_t now_ms, int64_t *id)
{
	static const char ins[] = "INSERT INTO recordings(session_id, media, file, started_ms)"
		" VALUES (?, ?, ?, ?)";
	unsigned char rnd[16];
	char file[DB_RECORDING_FILE_LEN + 1];
	sqlite3_stmt *st = db_stmt(db, ins);
	int rc;

	if (!st)
		return DB_ERR_STORE;
	randombytes_buf(rnd, sizeof rnd);
	sodium_bin2hex(file, sizeof file, rnd, sizeof rnd);
	strcat(file, ".webm");
	sqlite3_bind_text(st, 1, s->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, s->type == DB_TYPE_VIDEO ? "video" : "audio", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, file, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 4, now_ms);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return db_fail_sql(db, "recording");
	*id = sqlite3_last_insert_rowid(db->sql);
	return DB_OK;
}

static int rec_stop(struct db *db, int64_t id, int64_t now_ms)
{
	static const char up[] = "UPDATE recordings SET stopped_ms = ?2 WHERE id = ?1 AND stopped_ms IS NULL";
	sqlite3_stmt *st = db_stmt(db, up);
	int rc;

	if (!st)
		return DB_ERR_STORE;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, now_ms);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? DB_OK : db_fail_sql(db, "recording");
}

static const char *const rec_refusals[] = {
	[DB_REC_ASK] = "A recording is already asked for or running.",
	[DB_REC_ACCEPT] = "There is no ask of the other participant's to accept.",
	[DB_REC_DECLINE] = "There is no ask of the other participant's to decline.",
	[DB_REC_STOP] = "No recording is asked for or running.",
};

int db_recording_act(struct db *db, const char *session_id, enum db_role role,
                     enum db_rec_action a, const char *detail, int64_t now_ms,
                     struct db_rec_status *out)
{
	struct db_session s;
	struct db_rec_status cur;
	enum db_rec_state next;
	int err;

	if ((err = db_write_begin(db)) != DB_OK)
		return err;
	if ((err = db_session_get(db, session_id, &s)) != DB_OK ||
	    (err = db_recording_status(db, session_id, &cur)) != DB_OK)
		goto fail;
	/* A stop is always allowed: it is how a recording ends with its session. */
	if (a != DB_REC_STOP && (err = db_recording_allowed(&s)) != DB_OK) {
		err = db_fail(db, err, err == DB_ERR_ENDED ? "The session has ended."
		                       : "Recording starts once both have joined a voice or video call.");
		goto fail;
	}
	if ((err = db_recording_next(cur.state, cur.by, role, a, &next)) != DB_OK) {
		err = db_fail(db, err, "%s", rec_refusals[a]);
		goto fail;
	}
	*out = (struct db_rec_status){next, role, 0};
	switch (a) {
	case DB_REC_ASK:
		err = db_event_add(db, session_id, "recording_consent", role, NULL, now_ms);
		break;
	case DB_REC_ACCEPT:
		if ((err = db_event_add(db, session_id, "recording_consent", role, NULL, now_ms)) == DB_OK &&
		    (err = rec_create(db, &s, now_ms, &out->recording_id)) == DB_OK)
			err = db_event_add(db, session_id, "recording_started", role, NULL, now_ms);
		break;
	case DB_REC_DECLINE:
		err = db_event_add(db, session_id, "recording_declined", role, NULL, now_ms);
		break;
	case DB_REC_STOP:
		if ((err = db_event_add(db, session_id, "recording_stopped", role, detail, now_ms)) == DB_OK &&
		    cur.recording_id)
			err = rec_stop(db, cur.recording_id, now_ms);
		out->recording_id = cur.recording_id;
		break;
	}
	if (err != DB_OK)
		goto fail;
	return db_write_commit(db);
fail:
	db_write_rollback(db);
	return err;
}

/* Bytes of every recording (session_id NULL) or of one session's. */
static int rec_total(struct db *db, const char *session_id, int64_t *out)
{
	static const char q[] = "SELECT coalesce(sum(bytes), 0) FROM recordings"
		" WHERE ?1 IS NULL OR session_id = ?1";
	sqlite3_stmt *st = db_stmt(db, q);
	int rc;

	if (!st)
		return DB_ERR_STORE;
	if (session_id)
		sqlite3_bind_text(st, 1, session_id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	*out = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? DB_OK : db_fail_sql(db, "recording");
}

/* The caps a chunk of len bytes must fit under: the session's, the store's and the disk's. */
static int rec_room(struct db *db, const char *session_id, size_t len)
{
	const struct db_config *c = &db->config;
	struct statvfs vfs;
	int64_t used;
	int err;

	if ((err = rec_total(db, session_id, &used)) != DB_OK)
		return err;
	if (used + (int64_t)len > c->recording_max_bytes)
		return db_fail(db, DB_ERR_LIMIT, "a session's recordings are at most %lld bytes",
		               (long long)c->recording_max_bytes);
	if ((err = rec_total(db, NULL, &used)) != DB_OK)
		return err;
	if (used + (int64_t)len > c->recordings_max_bytes)
		return db_fail(db, DB_ERR_FULL, "the recordings kept are at most %lld bytes",
		               (long long)c->recordings_max_bytes);
	if (statvfs(db->recordings_dir, &vfs) != 0)
		return db_fail(db, DB_ERR_STORE, "%s: %s", db->recordings_dir, strerror(errno));
	if ((int64_t)vfs.f_bavail * (int64_t)vfs.f_frsize < (int64_t)len + c->recordings_min_free)
		return db_fail(db, DB_ERR_FULL, "the recordings' disk keeps %lld bytes free",
		               (long long)c->recordings_min_free);
	return DB_OK;
}

/*
 * Writes the chunk at offset at, after cutting the file there: bytes a
 * failed earlier attempt wrote past what the row counts are dropped.
 */
static int rec_write(struct db *db, const char *file, int64_t at, const void *data, size_t len)
{
	char path[sizeof db->recordings_dir + DB_RECORDING_FILE_LEN + 2];
	size_t done = 0;
	int fd, err = DB_OK;

	snprintf(path, sizeof path, "%s/%s", db->recordings_dir, file);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0640)) < 0)
		return db_fail(db, errno == ENOSPC ? DB_ERR_FULL : DB_ERR_STORE, "%s: %s", file,
		               strerror(errno));
	if (ftruncate(fd, at) != 0)
		goto fail;
	while (done < len) {
		ssize_t n = pwrite(fd, (const char *)data + done, len - done, at + (int64_t)done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto fail;
		done += (size_t)n;
	}
	if (fsync(fd) != 0)
		goto fail;
	close(fd);
	return DB_OK;
fail:
	err = db_fail(db, errno == ENOSPC ? DB_ERR_FULL : DB_ERR_STORE, "%s: %s", file, strerror(errno));
	if (ftruncate(fd, at) != 0)
		err = db_fail(db, DB_ERR_STORE, "%s: %s", file, strerror(errno));
	close(fd);
	return err;
}

/* The recordings directory, made on first use. */
static int rec_dir(struct db *db)
{
	if (mkdir(db->recordings_dir, 0750) != 0 && errno != EEXIST)
		return db_fail(db, DB_ERR_STORE, "%s: %s", db->recordings_dir, strerror(errno));
	return DB_OK;
}

/* A new file's name is only durable once its directory is fsync'd too. */
static int rec_dir_sync(struct db *db)
{
	int fd, rc;

	if ((fd = open(db->recordings_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return db_fail(db, DB_ERR_STORE, "%s: %s", db->recordings_dir, strerror(errno));
	rc = fsync(fd);
	close(fd);
	return rc == 0 ? DB_OK : db_fail(db, DB_ERR_STORE, "%s: %s", db->recordings_dir, strerror(errno));
}

static int rec_find(struct db *db, const char *session_id, int64_t id, struct db_recording *out)
{
	static const char q[] = "SELECT " REC_COLUMNS " FROM recordings WHERE id = ? AND session_id = ?";
	sqlite3_stmt *st = db_stmt(db, q);
	int rc;

	if (!st)
		return DB_ERR_STORE;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_text(st, 2, session_id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		rec_read(st, out);
	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return db_fail(db, DB_ERR_NOT_FOUND, "the session has no recording %lld", (long long)id);
	return rc == SQLITE_ROW ? DB_OK : db_fail_sql(db, "recording");
}

int db_recording_append(struct db *db, const struct db_session *s, enum db_role role,
                        int64_t id, int64_t seq, const void *data, size_t len, int64_t now_ms,
                        struct db_recording *out, int *duplicate)
{
	static const char up[] = "UPDATE recordings SET bytes = bytes + ?2, next_seq = next_seq + 1"
		" WHERE id = ?1";
	struct db_session cur;
	sqlite3_stmt *st;
	int rc, err;

	*duplicate = 0;
	memset(out, 0, sizeof *out);
	if (role != DB_ROLE_ASTROLOGER)
		return db_fail(db, DB_ERR_ROLE, "the astrologer's page uploads the recording");
	if (len < 1 || len > DB_RECORDING_CHUNK_MAX || seq < 0)
		return db_fail(db, DB_ERR_INVALID, "a chunk is 1 to %d bytes with a seq from 0",
		               DB_RECORDING_CHUNK_MAX);
	if ((err = db_write_begin(db)) != DB_OK)
		return err;
	if ((err = db_session_get(db, s->id, &cur)) != DB_OK)
		goto fail;
	if ((err = rec_find(db, s->id, id, out)) == DB_ERR_NOT_FOUND ||
	    (err == DB_OK && !db_recording_appendable(out->stopped_ms, cur.ended_ms, now_ms))) {
		err = db_fail(db, DB_ERR_STATE, "no recording %lld is running in this session", (long long)id);
		goto fail;
	}
	if (err != DB_OK)
		goto fail;
	if (seq < out->next_seq) {
		*duplicate = 1;
		db_write_rollback(db);
		return DB_OK;
	}
	if (seq > out->next_seq) {
		err = db_fail(db, DB_ERR_INVALID, "the next chunk is %lld", (long long)out->next_seq);
		goto fail;
	}
	if ((err = rec_dir(db)) != DB_OK || (err = rec_room(db, s->id, len)) != DB_OK ||
	    (err = rec_write(db, out->file, out->bytes, data, len)) != DB_OK ||
	    (seq == 0 && (err = rec_dir_sync(db)) != DB_OK))
		goto fail;
	if (!(st = db_stmt(db, up))) {
		err = DB_ERR_STORE;
		goto fail;
	}
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, (int64_t)len);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		err = db_fail_sql(db, "recording");
		goto fail;
	}
	out->bytes += (int64_t)len;
	out->next_seq++;
	return db_write_commit(db);
fail:
	db_write_rollback(db);
	return err;
}

int db_recording_list(struct db *db, const struct db_session *s, int64_t now_ms,
                      db_recording_cb *cb, void *arg)
{
	static const char q[] = "SELECT " REC_COLUMNS " FROM recordings"
		" WHERE session_id = ? AND bytes > 0 ORDER BY id";
	sqlite3_stmt *st = db_stmt(db, q);
	struct db_recording r;
	int rc;

	if (!st)
		return DB_ERR_STORE;
	sqlite3_bind_text(st, 1, s->id, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		rec_read(st, &r);
		if (db_recording_kept(&db->config, r.started_ms, now_ms))
			cb(arg, &r);
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? DB_OK : db_fail_sql(db, "recording");
}

int db_recording_get(struct db *db, const struct db_session *s, int64_t id, int64_t now_ms,
                     struct db_recording *out)
{
	int err;

	if ((err = rec_find(db, s->id, id, out)) != DB_OK)
		return err;
	if (!out->bytes || !db_recording_kept(&db->config, out->started_ms, now_ms))
		return db_fail(db, DB_ERR_NOT_FOUND, "the session has no recording %lld", (long long)id);
	return DB_OK;
}

/* A purged recording's file, named as its row said. */
struct rec_gone {
	struct rec_gone *next;
	char file[DB_RECORDING_FILE_LEN + 1];
};

/*
 * Rows go first, in one transaction, then their files: a crash between
 * leaves a file no row names (no request can reach it),
 * never a row that names a missing file.
 */
int db_recording_purge(struct db *db, int64_t now_ms, int64_t *count, int64_t *bytes,
                       struct db_swept *stray)
{
	static const char q[] = "SELECT " REC_COLUMNS " FROM recordings WHERE started_ms <= ?";
	static const char del[] = "DELETE FROM recordings WHERE started_ms <= ?";
	int64_t before = now_ms - db->config.recording_retention_ms;
	struct rec_gone *gone = NULL, *g;
	struct db_recording r;
	sqlite3_stmt *st;
	int rc, err;

	*count = *bytes = 0;
	*stray = (struct db_swept){0, 0};
	if ((err = db_write_begin(db)) != DB_OK)
		return err;
	if (!(st = db_stmt(db, q))) {
		err = DB_ERR_STORE;
		goto fail;
	}
	sqlite3_bind_int64(st, 1, before);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		rec_read(st, &r);
		if (!(g = malloc(sizeof *g))) {
			sqlite3_reset(st);
			err = db_fail(db, DB_ERR_STORE, "out of memory");
			goto fail;
		}
		memcpy(g->file, r.file, sizeof g->file);
		g->next = gone;
		gone = g;
		++*count;
		*bytes += r.bytes;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		err = db_fail_sql(db, "purge");
		goto fail;
	}
	if (!(st = db_stmt(db, del))) {
		err = DB_ERR_STORE;
		goto fail;
	}
	sqlite3_bind_int64(st, 1, before);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		err = db_fail_sql(db, "purge");
		goto fail;
	}
	if ((err = db_write_commit(db)) != DB_OK)
		goto done;
	for (g = gone; g; g = g->next) {
		char path[sizeof db->recordings_dir + DB_RECORDING_FILE_LEN + 2];

		snprintf(path, sizeof path, "%s/%s", db->recordings_dir, g->file);
		if (unlink(path) != 0 && errno != ENOENT)
			err = db_fail(db, DB_ERR_STORE, "%s: %s", path, strerror(errno));
	}
	if (err == DB_OK)
		err = db_stray_sweep(db, db->recordings_dir, "SELECT 1 FROM recordings WHERE file = ?1",
		                     now_ms, stray);
	goto done;
fail:
	db_write_rollback(db);
	*count = *bytes = 0;
done:
	while ((g = gone)) {
		gone = g->next;
		free(g);
	}
	return err;
}
