/* backup.c: a consistent copy of the live database and its chat file through SQLite's online backup API. */
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

/*
 * Copies src's main file page by page so writers are held up only
 * briefly, then fsyncs and renames into place: file is either the old
 * file or a whole backup. Errors are recorded on db.
 */
static int backup_file(struct db *db, sqlite3 *src, const char *file)
{
	char tmp[4096];
	sqlite3 *dst = NULL;
	sqlite3_backup *b;
	int rc, fd, err = DB_OK;

	if (snprintf(tmp, sizeof tmp, "%s.partial", file) >= (int)sizeof tmp)
		return db_fail(db, DB_ERR_INVALID, "backup path too long");
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
	if (rename(tmp, file) != 0) {
		err = db_fail(db, DB_ERR_STORE, "%s: cannot rename into place", file);
		goto fail;
	}
	return DB_OK;
fail:
	sqlite3_close(dst);
	unlink(tmp);
	return err;
}

/*
 * The chat file first: every session its messages name existed before,
 * so the database's copy, taken after, holds them all.
 */
int db_backup(struct db *db, const char *file)
{
	char live[4096], chat_file[4096], err[256];
	struct db *chat = NULL;
	int rc;

	if (db->chat_file)
		return db_fail(db, DB_ERR_STATE, "back up through the database's handle");
	if (db_chat_path(file, chat_file, sizeof chat_file) != DB_OK ||
	    snprintf(live, sizeof live, "%s", sqlite3_db_filename(db->sql, "main")) >= (int)sizeof live)
		return db_fail(db, DB_ERR_INVALID, "backup path too long");
	if ((rc = db_chat_open(live, &chat, err, sizeof err)) != DB_OK)
		return db_fail(db, rc, "%s", err);
	rc = backup_file(db, chat->sql, chat_file);
	db_close(chat);
	if (rc != DB_OK)
		return rc;
	return backup_file(db, db->sql, file);
}
