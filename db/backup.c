/* backup.c: a consistent copy of the live database through SQLite's online backup API. */
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

/*
 * Copies page by page so writers are held up only briefly, then fsyncs
 * and renames into place: FILE is either the old file or a whole backup.
 */
int db_backup(struct db *db, const char *file)
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
	if (!(b = sqlite3_backup_init(dst, "main", db->sql, "main"))) {
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
