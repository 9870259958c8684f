/* files.c: files shared in chat: bytes on disk beside the database under random names, their rows in the chat file. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "internal.h"

#define FILES_PART ".part" /* an upload not recorded yet */

struct db_upload {
	int fd;                     /* owned: the temporary file; closed by finish or abort */
	int dir_fd;                 /* owned: the files directory, for the renames and its fsync */
	char storage[DB_FILE_STORAGE_LEN + 1];
	char part[DB_FILE_STORAGE_LEN + sizeof FILES_PART];
	unsigned char head[DB_FILE_SNIFF];
	int64_t bytes;
};

int db_files_dir(const char *path, char *out, size_t outlen)
{
	return db_path_beside(path, "-files", out, outlen);
}

int db_fail_fs(struct db *db, const char *what)
{
	int err = errno == ENOSPC || errno == EDQUOT ? DB_ERR_FULL : DB_ERR_STORE;

	return db_fail(db, err, "%s: %s", what, strerror(errno));
}

/* The files directory, made when missing: the API user writes it, nginx's group may read it. */
static int files_dir_open(struct db *db, const char *path, int *fd)
{
	char dir[4096];

	if (db_files_dir(path, dir, sizeof dir) != DB_OK)
		return db_fail(db, DB_ERR_INVALID, "database path too long");
	if (mkdir(dir, 0750) != 0 && errno != EEXIST)
		return db_fail_fs(db, dir);
	if ((*fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return db_fail_fs(db, dir);
	return DB_OK;
}

int db_upload_begin(struct db *db, const char *path, struct db_upload **out)
{
	unsigned char rnd[DB_FILE_STORAGE_LEN / 2];
	struct db_upload *u;
	int err;

	*out = NULL;
	if (!(u = calloc(1, sizeof *u)))
		return db_fail(db, DB_ERR_STORE, "out of memory");
	u->fd = -1;
	if ((err = files_dir_open(db, path, &u->dir_fd)) != DB_OK) {
		free(u);
		return err;
	}
	randombytes_buf(rnd, sizeof rnd);
	sodium_bin2hex(u->storage, sizeof u->storage, rnd, sizeof rnd);
	snprintf(u->part, sizeof u->part, "%s%s", u->storage, FILES_PART);
	if ((u->fd = openat(u->dir_fd, u->part, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640)) < 0) {
		err = db_fail_fs(db, "files: temporary file");
		close(u->dir_fd);
		free(u);
		return err;
	}
	*out = u;
	return DB_OK;
}

int db_upload_write(struct db *db, struct db_upload *u, const void *p, size_t n)
{
	const char *c = p;

	if (u->bytes + (int64_t)n > db->config.file_max_bytes)
		return db_fail(db, DB_ERR_TOO_LARGE, "a file is at most %lld bytes",
		               (long long)db->config.file_max_bytes);
	if (u->bytes < DB_FILE_SNIFF) {
		size_t k = (size_t)(DB_FILE_SNIFF - u->bytes) < n ? (size_t)(DB_FILE_SNIFF - u->bytes) : n;

		memcpy(u->head + u->bytes, c, k);
		if (u->bytes + (int64_t)k == DB_FILE_SNIFF && db_file_type_of(u->head, DB_FILE_SNIFF) < 0)
			return db_fail(db, DB_ERR_FILE_TYPE, "not a JPEG, PNG, WebP or PDF file");
	}
	while (n > 0) {
		ssize_t w = write(u->fd, c, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return db_fail_fs(db, "files: write");
		c += w;
		n -= (size_t)w;
		u->bytes += w;
	}
	return DB_OK;
}

void db_upload_abort(struct db_upload *u)
{
	if (!u)
		return;
	if (u->fd >= 0)
		close(u->fd);
	unlinkat(u->dir_fd, u->part, 0);
	close(u->dir_fd);
	free(u);
}

/* Bytes of the UTF-8 character at p, or 0 when it is not one. */
static size_t files_char_len(const unsigned char *p)
{
	size_t n = *p < 0x80 ? 1 : (*p & 0xe0) == 0xc0 && *p >= 0xc2 ? 2
	         : (*p & 0xf0) == 0xe0 ? 3 : (*p & 0xf8) == 0xf0 && *p <= 0xf4 ? 4 : 0;

	for (size_t i = 1; i < n; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

/*
 * A name as it may be shown and offered for saving: its last path part,
 * control characters, quotes and backslashes as '_', no leading dots or
 * blanks, cut at a character within DB_FILE_NAME_MAX bytes; "file" when
 * nothing is left.
 */
static int files_name_clean(struct db *db, const char *in, char out[DB_FILE_NAME_MAX + 1])
{
	const unsigned char *p = (const unsigned char *)in;
	size_t o = 0, n;

	for (const char *slash; (slash = strpbrk(in, "/\\")); in = slash + 1)
		p = (const unsigned char *)slash + 1;
	while (*p == '.' || *p == ' ')
		p++;
	for (; *p; p += n) {
		if (!(n = files_char_len(p)))
			return db_fail(db, DB_ERR_INVALID, "a file name is UTF-8 text");
		if (o + n > DB_FILE_NAME_MAX)
			break;
		if (n == 1 && (*p < 0x20 || *p == 0x7f || *p == '"'))
			out[o++] = '_';
		else
			memcpy(out + o, p, n), o += n;
	}
	out[o] = '\0';
	if (!o)
		snprintf(out, DB_FILE_NAME_MAX + 1, "file");
	return DB_OK;
}

/* The session is open and what its files hold so far, read in the recording transaction. */
static int files_session_bytes(struct db *db, const char *session_id, int64_t *bytes)
{
	static const char q[] =
		"SELECT s.ended_ms IS NULL, (SELECT coalesce(sum(bytes), 0) FROM chat_files"
		"  WHERE session_id = ?1 AND purged_ms IS NULL)"
		" FROM money.webrtc_sessions s WHERE s.id = ?1";
	sqlite3_stmt *st = db_stmt(db, q);
	int rc, err = DB_OK;

	if (!st)
		return DB_ERR_STORE;
	sqlite3_bind_text(st, 1, session_id, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) != SQLITE_ROW)
		err = rc == SQLITE_DONE ? db_fail(db, DB_ERR_NOT_FOUND, "no such session")
		                        : db_fail_sql(db, "files");
	else if (!sqlite3_column_int(st, 0))
		err = db_fail(db, DB_ERR_ENDED, "this session has ended");
	else
		*bytes = sqlite3_column_int64(st, 1);
	sqlite3_reset(st);
	return err;
}

static int files_insert(struct db *db, const struct db_file *f)
{
	static const char ins[] =
		"INSERT INTO chat_files(session_id, sender, name, bytes, type, storage, created_ms)"
		" VALUES (?, ?, ?, ?, ?, ?, ?)";
	sqlite3_stmt *st = db_stmt(db, ins);
	int rc;

	if (!st)
		return DB_ERR_STORE;
	sqlite3_bind_text(st, 1, f->session_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, db_role_name(f->sender), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, f->name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, f->bytes);
	sqlite3_bind_text(st, 5, db_file_type_name(f->type), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, f->storage, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 7, f->created_ms);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? DB_OK : db_fail_sql(db, "files");
}

int db_upload_finish(struct db *db, struct db_upload *u, const char *session_id,
                     enum db_role sender, const char *name, int64_t now_ms, struct db_file *out)
{
	struct db_file f = {0};
	int64_t session_bytes = 0;
	int err, type, renamed = 0;

	if (!db->chat_file) {
		err = db_fail(db, DB_ERR_STATE, "files are recorded in the chat file");
		goto fail;
	}
	if ((type = db_file_type_of(u->head, u->bytes < DB_FILE_SNIFF ? (size_t)u->bytes : DB_FILE_SNIFF)) < 0) {
		err = db_fail(db, DB_ERR_FILE_TYPE, "not a JPEG, PNG, WebP or PDF file");
		goto fail;
	}
	if ((err = files_name_clean(db, name, f.name)) != DB_OK)
		goto fail;
	/* On disk before it is recorded: a row never names bytes a power cut lost. */
	if (fsync(u->fd) != 0) {
		err = db_fail_fs(db, "files: fsync");
		goto fail;
	}
	snprintf(f.session_id, sizeof f.session_id, "%s", session_id);
	f.sender = sender;
	f.bytes = u->bytes;
	f.type = (enum db_file_type)type;
	memcpy(f.storage, u->storage, sizeof f.storage);
	f.created_ms = now_ms;
	if ((err = db_write_begin(db)) != DB_OK)
		goto fail;
	if ((err = files_session_bytes(db, session_id, &session_bytes)) != DB_OK ||
	    (err = db_file_fits(&db->config, session_bytes, f.bytes)) != DB_OK ||
	    (err = files_insert(db, &f)) != DB_OK)
		goto fail_tx;
	f.id = sqlite3_last_insert_rowid(db->sql);
	if (renameat(u->dir_fd, u->part, u->dir_fd, u->storage) != 0 || fsync(u->dir_fd) != 0) {
		err = db_fail_fs(db, "files: rename");
		goto fail_tx;
	}
	renamed = 1;
	if ((err = db_write_commit(db)) != DB_OK)
		goto fail;
	*out = f;
	close(u->fd);
	close(u->dir_fd);
	free(u);
	return DB_OK;
fail_tx:
	if (err == DB_ERR_FILES_FULL)
		db_fail(db, err, "the session's files may hold %lld bytes; %lld are taken",
		        (long long)db->config.session_files_max_bytes, (long long)session_bytes);
	else if (err == DB_ERR_TOO_LARGE)
		db_fail(db, err, "a file is at most %lld bytes", (long long)db->config.file_max_bytes);
	db_write_rollback(db);
fail:
	if (renamed)
		unlinkat(u->dir_fd, u->storage, 0);
	db_upload_abort(u);
	return err;
}

#define FILE_COLUMNS "id, session_id, sender = 'astrologer', name, bytes, type, storage, created_ms," \
	" purged_ms IS NOT NULL"

int db_file_get(struct db *db, const char *session_id, int64_t id, struct db_file *out)
{
	static const char q[] = "SELECT " FILE_COLUMNS " FROM chat_files WHERE id = ? AND session_id = ?";
	sqlite3_stmt *st = db_stmt(db, q);
	int rc, err = DB_OK;

	if (!st)
		return DB_ERR_STORE;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_text(st, 2, session_id, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		out->id = sqlite3_column_int64(st, 0);
		snprintf(out->session_id, sizeof out->session_id, "%s", (const char *)sqlite3_column_text(st, 1));
		out->sender = sqlite3_column_int(st, 2) ? DB_ROLE_ASTROLOGER : DB_ROLE_USER;
		snprintf(out->name, sizeof out->name, "%s", (const char *)sqlite3_column_text(st, 3));
		out->bytes = sqlite3_column_int64(st, 4);
		out->type = (enum db_file_type)db_file_type_parse((const char *)sqlite3_column_text(st, 5));
		snprintf(out->storage, sizeof out->storage, "%s", (const char *)sqlite3_column_text(st, 6));
		out->created_ms = sqlite3_column_int64(st, 7);
		out->gone = sqlite3_column_int(st, 8);
		if (out->gone)
			err = db_fail(db, DB_ERR_GONE, "the file was deleted after its retention");
	} else {
		err = rc == SQLITE_DONE ? db_fail(db, DB_ERR_NOT_FOUND, "no such file in this session")
		                        : db_fail_sql(db, "files");
	}
	sqlite3_reset(st);
	return err;
}

/* Files purged per pass over the kept rows. */
#define FILES_PURGE_BATCH 64

int db_files_purge(struct db *db, const char *path, int64_t now_ms, int64_t *count,
                   struct db_swept *stray)
{
	static const char q[] =
		"SELECT f.id, f.storage, f.created_ms,"
		" EXISTS (SELECT 1 FROM chat_messages m WHERE m.file_id = f.id)"
		" FROM chat_files f WHERE f.purged_ms IS NULL ORDER BY f.created_ms";
	static const char upd[] = "UPDATE chat_files SET purged_ms = ?2 WHERE id = ?1";
	struct {
		int64_t id;
		char storage[DB_FILE_STORAGE_LEN + 1];
	} due[FILES_PURGE_BATCH];
	char dir[4096];
	sqlite3_stmt *st;
	int dir_fd = -1, rc = SQLITE_DONE, err, n;

	*count = 0;
	*stray = (struct db_swept){0, 0};
	if (!db->chat_file)
		return db_fail(db, DB_ERR_STATE, "files are recorded in the chat file");
	if ((err = files_dir_open(db, path, &dir_fd)) != DB_OK)
		return err;
	if ((err = db_write_begin(db)) != DB_OK)
		goto done;
	do {
		if (!(st = db_stmt(db, q))) {
			err = DB_ERR_STORE;
			goto fail;
		}
		for (n = 0; n < FILES_PURGE_BATCH && (rc = sqlite3_step(st)) == SQLITE_ROW;) {
			if (!db_file_expired(&db->config, sqlite3_column_int64(st, 2), sqlite3_column_int(st, 3),
			                     now_ms))
				continue;
			due[n].id = sqlite3_column_int64(st, 0);
			snprintf(due[n].storage, sizeof due[n].storage, "%s", (const char *)sqlite3_column_text(st, 1));
			n++;
		}
		sqlite3_reset(st);
		if (n < FILES_PURGE_BATCH && rc != SQLITE_DONE) {
			err = db_fail_sql(db, "purge files");
			goto fail;
		}
		/*
		 * The bytes go before the row says so: a crash between the two leaves
		 * a row whose download finds nothing, never bytes nothing points to.
		 */
		for (int i = 0; i < n; i++) {
			if (unlinkat(dir_fd, due[i].storage, 0) != 0 && errno != ENOENT) {
				err = db_fail_fs(db, "files: unlink");
				goto fail;
			}
			if (!(st = db_stmt(db, upd))) {
				err = DB_ERR_STORE;
				goto fail;
			}
			sqlite3_bind_int64(st, 1, due[i].id);
			sqlite3_bind_int64(st, 2, now_ms);
			rc = sqlite3_step(st);
			sqlite3_reset(st);
			if (rc != SQLITE_DONE) {
				err = db_fail_sql(db, "purge files");
				goto fail;
			}
			(*count)++;
		}
	} while (n == FILES_PURGE_BATCH);
	if ((err = db_write_commit(db)) != DB_OK)
		goto done;
	/* A purged row's bytes are due too, should they be there. */
	if (db_files_dir(path, dir, sizeof dir) == DB_OK)
		err = db_stray_sweep(db, dir, "SELECT 1 FROM chat_files WHERE storage = ?1 AND purged_ms IS NULL",
		                     now_ms, stray);
	goto done;
fail:
	db_write_rollback(db);
done:
	close(dir_fd);
	return err;
}
