/* backup.c: a consistent copy of the live database, its chat file and the shared files and recordings their rows name. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

#define BACKUP_PARTIAL ".partial" /* a part of the backup not in place yet */

/*
 * Copies src's main file page by page into tmp so writers are held up
 * only briefly, and fsyncs it. Errors are recorded on db.
 */
static int backup_file(struct db *db, sqlite3 *src, const char *tmp)
{
	sqlite3 *dst = NULL;
	sqlite3_backup *b;
	int rc, fd, err = DB_OK;

	unlink(tmp);
	if (sqlite3_open_v2(tmp, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
	    SQLITE_OK) {
		err = db_fail(db, DB_ERR_STORE, "%s: %s", tmp, sqlite3_errmsg(dst));
		goto fail;
	}
	chmod(tmp, 0600); /* it holds everything the database holds */
	if (!(b = sqlite3_backup_init(dst, "main", src, "main"))) {
		err = db_fail(db, DB_ERR_STORE, "backup: %s", sqlite3_errmsg(dst));
		goto fail;
	}
	while ((rc = sqlite3_backup_step(b, 256)) == SQLITE_OK || rc == SQLITE_BUSY ||
	       rc == SQLITE_LOCKED)
		if (rc != SQLITE_OK)
			sqlite3_sleep(20);
	sqlite3_backup_finish(b);
	if (rc != SQLITE_DONE) {
		err = db_fail(db, DB_ERR_STORE, "backup: %s", sqlite3_errstr(rc));
		goto fail;
	}
	/* A backup is one self-contained file: no WAL beside it. */
	if (sqlite3_exec(dst, "PRAGMA journal_mode = DELETE", NULL, NULL, NULL) != SQLITE_OK) {
		err = db_fail(db, DB_ERR_STORE, "backup: %s", sqlite3_errmsg(dst));
		goto fail;
	}
	sqlite3_close(dst);
	dst = NULL;
	if ((fd = open(tmp, O_RDONLY | O_CLOEXEC)) < 0 || fsync(fd) != 0) {
		if (fd >= 0)
			close(fd);
		err = db_fail(db, DB_ERR_STORE, "%s: cannot sync", tmp);
		goto fail;
	}
	close(fd);
	return DB_OK;
fail:
	sqlite3_close(dst);
	unlink(tmp);
	return err;
}

/* A directory's new or removed names are durable only once it is fsync'd. */
static int backup_sync_dir(struct db *db, const char *dir)
{
	int fd, err = DB_OK;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 || fsync(fd) != 0)
		err = db_fail_fs(db, dir);
	if (fd >= 0)
		close(fd);
	return err;
}

/* Removes a directory of the backup's and the files in it (it holds nothing else); absent is fine. */
static int backup_remove_dir(struct db *db, const char *dir)
{
	struct dirent *e;
	DIR *d;
	int err = DB_OK;

	if (!(d = opendir(dir)))
		return errno == ENOENT ? DB_OK : db_fail_fs(db, dir);
	while ((errno = 0, e = readdir(d)))
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0 &&
		    unlinkat(dirfd(d), e->d_name, 0) != 0 && errno != ENOENT) {
			err = db_fail_fs(db, dir);
			goto done;
		}
	if (errno || rmdir(dir) != 0)
		err = db_fail_fs(db, dir);
done:
	closedir(d);
	return err;
}

/* The first bytes of the file name in from, copied into to and fsync'd. */
static int backup_copy(struct db *db, int from, int to, const char *name, int64_t bytes)
{
	char buf[65536];
	int64_t done = 0;
	int in, out = -1, err = DB_OK;

	if ((in = openat(from, name, O_RDONLY | O_CLOEXEC)) < 0) {
		err = errno == ENOENT ? DB_ERR_NOT_FOUND : db_fail_fs(db, name);
		goto done;
	}
	if ((out = openat(to, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640)) < 0) {
		err = db_fail_fs(db, name);
		goto done;
	}
	while (done < bytes) {
		size_t want = bytes - done < (int64_t)sizeof buf ? (size_t)(bytes - done) : sizeof buf;
		ssize_t n = pread(in, buf, want, done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			err = n ? db_fail_fs(db, name)
			        : db_fail(db, DB_ERR_STORE, "%s: shorter than its row says", name);
			goto done;
		}
		for (ssize_t at = 0; at < n;) {
			ssize_t w = write(out, buf + at, (size_t)(n - at));

			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0) {
				err = db_fail_fs(db, name);
				goto done;
			}
			at += w;
		}
		done += n;
	}
	if (fsync(out) != 0)
		err = db_fail_fs(db, name);
done:
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	return err;
}

/* A row of a copied database whose file could not be found: its id. */
struct backup_gone {
	struct backup_gone *next;
	int64_t id;
};

/*
 * What the copy's rows say lives in a directory: each row's id, its
 * file's name, the bytes the row counts, whether the file may still grow
 * (then the two ends of its time of growth), and what makes the copy say
 * the file is gone (?1 its id, ?2 now).
 */
struct backup_store {
	const char *rows_sql;
	const char *gone_sql;
};

static const struct backup_store backup_files = {
	"SELECT id, storage, bytes, 0, 0, 0 FROM chat_files WHERE purged_ms IS NULL",
	"UPDATE chat_files SET purged_ms = ?2 WHERE id = ?1",
};

static const struct backup_store backup_recordings = {
	"SELECT r.id, r.file, r.bytes, 1, coalesce(r.stopped_ms, 0), coalesce(s.ended_ms, 0)"
	" FROM recordings r JOIN webrtc_sessions s ON s.id = r.session_id WHERE r.bytes > 0",
	"DELETE FROM recordings WHERE id = ?1",
};

/* Whether the bytes a row counts are all the file will ever hold: then they may be shared by a hard link. */
static int backup_settled(sqlite3_stmt *row, int src, const char *name, int64_t now_ms)
{
	struct stat sb;

	if (sqlite3_column_int(row, 3) &&
	    db_recording_appendable(sqlite3_column_int64(row, 4), sqlite3_column_int64(row, 5), now_ms))
		return 0;
	return fstatat(src, name, &sb, 0) == 0 && sb.st_size == sqlite3_column_int64(row, 2);
}

/*
 * Fills the directory to (made here, 0700) with the file of every row the
 * copy copy_path holds, out of the live directory from: a hard link when
 * the file is settled and on the same file system, else a copy of the
 * bytes its row counts (a recording still running: what its row counted
 * when the database was copied). A file gone from from meanwhile (a purge
 * that ran since) is gone in the copy too, as that purge left it.
 */
static int backup_store_fill(struct db *db, const struct backup_store *store, const char *copy_path,
                             const char *from, const char *to, int64_t now_ms, int64_t *count,
                             int64_t *bytes, int64_t *linked)
{
	struct backup_gone *gone = NULL, *g;
	sqlite3 *copy = NULL;
	sqlite3_stmt *st = NULL;
	int src = -1, dst = -1, rc, err = DB_OK;

	*count = *bytes = 0;
	if ((err = backup_remove_dir(db, to)) != DB_OK)
		goto done;
	if (mkdir(to, 0700) != 0 || (dst = open(to, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		err = db_fail_fs(db, to);
		goto done;
	}
	if ((src = open(from, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 && errno != ENOENT) {
		err = db_fail_fs(db, from);
		goto done;
	}
	if (sqlite3_open_v2(copy_path, &copy, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(copy, store->rows_sql, -1, &st, NULL) != SQLITE_OK) {
		err = db_fail(db, DB_ERR_STORE, "%s: %s", copy_path, sqlite3_errmsg(copy));
		goto done;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 1);
		int64_t n = sqlite3_column_int64(st, 2);

		err = src < 0 ? DB_ERR_NOT_FOUND : DB_OK;
		if (err == DB_OK && backup_settled(st, src, name, now_ms) &&
		    linkat(src, name, dst, name, 0) == 0)
			++*linked;
		else if (err == DB_OK)
			err = backup_copy(db, src, dst, name, n);
		if (err == DB_ERR_NOT_FOUND) {
			if (!(g = malloc(sizeof *g))) {
				err = db_fail(db, DB_ERR_STORE, "out of memory");
				goto done;
			}
			g->id = sqlite3_column_int64(st, 0);
			g->next = gone;
			gone = g;
			continue;
		}
		if (err != DB_OK)
			goto done;
		++*count;
		*bytes += n;
	}
	if (rc != SQLITE_DONE) {
		err = db_fail(db, DB_ERR_STORE, "%s: %s", copy_path, sqlite3_errmsg(copy));
		goto done;
	}
	sqlite3_finalize(st);
	st = NULL;
	if (gone && (sqlite3_prepare_v2(copy, store->gone_sql, -1, &st, NULL) != SQLITE_OK ||
	             sqlite3_exec(copy, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)) {
		err = db_fail(db, DB_ERR_STORE, "%s: %s", copy_path, sqlite3_errmsg(copy));
		goto done;
	}
	for (g = gone; g; g = g->next) {
		sqlite3_bind_int64(st, 1, g->id);
		if (sqlite3_bind_parameter_count(st) > 1)
			sqlite3_bind_int64(st, 2, now_ms);
		rc = sqlite3_step(st);
		sqlite3_reset(st);
		if (rc != SQLITE_DONE) {
			err = db_fail(db, DB_ERR_STORE, "%s: %s", copy_path, sqlite3_errmsg(copy));
			goto done;
		}
	}
	if (gone && sqlite3_exec(copy, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		err = db_fail(db, DB_ERR_STORE, "%s: %s", copy_path, sqlite3_errmsg(copy));
		goto done;
	}
	if (fsync(dst) != 0)
		err = db_fail_fs(db, to);
done:
	sqlite3_finalize(st);
	sqlite3_close(copy); /* an open transaction rolls back */
	if (src >= 0)
		close(src);
	if (dst >= 0)
		close(dst);
	while ((g = gone)) {
		gone = g->next;
		free(g);
	}
	return err;
}

/* Puts the directory partial in place of dir, whose old files go. */
static int backup_dir_in_place(struct db *db, const char *partial, const char *dir)
{
	char old[4096 + sizeof ".old"];
	int err;

	snprintf(old, sizeof old, "%s.old", dir);
	if ((err = backup_remove_dir(db, old)) != DB_OK)
		return err;
	if (rename(dir, old) != 0 && errno != ENOENT)
		return db_fail_fs(db, dir);
	if (rename(partial, dir) != 0)
		return db_fail_fs(db, dir);
	return backup_remove_dir(db, old);
}

/* The four parts of a backup (or of the live database): the database, its chat file, its files and recordings. */
struct backup_paths {
	char db[4096], chat[4096], files[4096], recordings[4096];
};

static int backup_paths(const char *path, const char *suffix, struct backup_paths *p)
{
	if (snprintf(p->db, sizeof p->db, "%s%s", path, suffix) >= (int)sizeof p->db ||
	    db_chat_path(path, p->chat, sizeof p->chat - sizeof BACKUP_PARTIAL) != DB_OK ||
	    db_files_dir(path, p->files, sizeof p->files - sizeof BACKUP_PARTIAL) != DB_OK ||
	    db_recordings_path(path, p->recordings, sizeof p->recordings - sizeof BACKUP_PARTIAL) != DB_OK)
		return DB_ERR_INVALID;
	strcat(p->chat, suffix);
	strcat(p->files, suffix);
	strcat(p->recordings, suffix);
	return DB_OK;
}

/* Whether a part of the backup would land on the live one's: the same file or directory. */
static int backup_overlaps(const struct backup_paths *x, const struct backup_paths *y)
{
	const char *const xs[] = {x->db, x->chat, x->files, x->recordings};
	const char *const ys[] = {y->db, y->chat, y->files, y->recordings};
	struct stat a, b;

	for (size_t i = 0; i < sizeof xs / sizeof xs[0]; i++)
		if (stat(xs[i], &a) == 0 && stat(ys[i], &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino)
			return 1;
	return 0;
}

/*
 * Each part is made under a partial name and put in place once all are
 * made: the directories, then the chat file, the database last. The chat
 * file is copied first: every session its messages and files name
 * existed before, so the database's copy, taken after, holds them all.
 * The files and recordings follow what the copies' rows name.
 */
int db_backup(struct db *db, const char *file, int64_t now_ms, struct db_backed_up *out)
{
	struct backup_paths live, part, dest;
	struct db *chat = NULL;
	char err_chat[256], parent[4096];
	int err;

	*out = (struct db_backed_up){0};
	if (db->chat_file)
		return db_fail(db, DB_ERR_STATE, "back up through the database's handle");
	if (backup_paths(sqlite3_db_filename(db->sql, "main"), "", &live) != DB_OK ||
	    backup_paths(file, "", &dest) != DB_OK || backup_paths(file, BACKUP_PARTIAL, &part) != DB_OK ||
	    snprintf(parent, sizeof parent, "%s", file) >= (int)sizeof parent)
		return db_fail(db, DB_ERR_INVALID, "backup path too long");
	if (backup_overlaps(&live, &dest))
		return db_fail(db, DB_ERR_INVALID, "%s: a backup cannot replace the database it copies", file);
	if ((err = db_chat_open(live.db, &chat, err_chat, sizeof err_chat)) != DB_OK) {
		err = db_fail(db, err, "%s", err_chat);
		goto fail;
	}
	err = backup_file(db, chat->sql, part.chat);
	db_close(chat);
	if (err != DB_OK || (err = backup_file(db, db->sql, part.db)) != DB_OK ||
	    (err = backup_store_fill(db, &backup_files, part.chat, live.files, part.files, now_ms,
	                             &out->files, &out->file_bytes, &out->linked)) != DB_OK ||
	    (err = backup_store_fill(db, &backup_recordings, part.db, db->recordings_dir, part.recordings,
	                             now_ms, &out->recordings, &out->recording_bytes, &out->linked)) != DB_OK ||
	    (err = backup_dir_in_place(db, part.files, dest.files)) != DB_OK ||
	    (err = backup_dir_in_place(db, part.recordings, dest.recordings)) != DB_OK)
		goto fail;
	if (rename(part.chat, dest.chat) != 0 || rename(part.db, dest.db) != 0) {
		err = db_fail_fs(db, file);
		goto fail;
	}
	return backup_sync_dir(db, dirname(parent));
fail:
	unlink(part.chat);
	unlink(part.db);
	backup_remove_dir(db, part.files);
	backup_remove_dir(db, part.recordings);
	return err;
}
