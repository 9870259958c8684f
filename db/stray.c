/* stray.c: files beside the database that no row names, deleted once they are too old to be anyone's work in progress. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

/* Whether a row names the file: named is a query of one parameter, the name, that finds such a row. */
static int stray_named(struct db *db, const char *named, const char *name, int *yes)
{
	sqlite3_stmt *st = db_stmt(db, named);
	int rc;

	if (!st)
		return DB_ERR_STORE;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_fail_sql(db, "stray files");
	*yes = rc == SQLITE_ROW;
	return DB_OK;
}

/*
 * A file is old before its name is looked up: a row names a file from
 * the moment the file appears under that name, so an old file no row
 * names now never gains one.
 */
int db_stray_sweep(struct db *db, const char *dir, const char *named, int64_t now_ms,
                   struct db_swept *out)
{
	struct dirent *e;
	struct stat sb;
	DIR *d;
	int fd, yes = 0, err = DB_OK;

	*out = (struct db_swept){0, 0};
	if (!(d = opendir(dir)))
		return errno == ENOENT ? DB_OK : db_fail(db, DB_ERR_STORE, "%s: %s", dir, strerror(errno));
	fd = dirfd(d);
	while ((errno = 0, e = readdir(d))) {
		if (fstatat(fd, e->d_name, &sb, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(sb.st_mode) ||
		    !db_stray_due((int64_t)sb.st_mtim.tv_sec * 1000 + sb.st_mtim.tv_nsec / 1000000, now_ms))
			continue;
		if ((err = stray_named(db, named, e->d_name, &yes)) != DB_OK)
			goto done;
		if (yes)
			continue;
		if (unlinkat(fd, e->d_name, 0) != 0 && errno != ENOENT) {
			err = db_fail(db, DB_ERR_STORE, "%s/%s: %s", dir, e->d_name, strerror(errno));
			goto done;
		}
		out->files++;
		out->bytes += sb.st_size;
	}
	if (errno)
		err = db_fail(db, DB_ERR_STORE, "%s: %s", dir, strerror(errno));
done:
	closedir(d);
	return err;
}
