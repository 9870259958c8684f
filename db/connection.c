/* connection.c: opening the database and its key, the schema, errors, statements and transactions. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "conf.h"
#include "internal.h"

extern const char db_schema_sql[];         /* db/schema.sql above "-- @chat-file", compiled in by make */
extern const char db_chat_schema_sql[];    /* db/schema.sql from "-- @chat-file" on */
extern const char *const db_upgrades[];    /* db/upgrade/NNNN.sql in order, then NULL */
extern const char *const db_chat_upgrades[]; /* db/upgrade/chat/NNNN.sql in order, then NULL */

static const char *const role_names[] = {"user", "astrologer"};
static const char *const type_names[] = {"chat", "voice", "video"};
static const char *const status_names[] = {"scheduled", "active", "completed",
                                           "expired", "cancelled"};
static const char *const actor_names[] = {"system", "user", "astrologer"};
static const char *const delivery_names[] = {"pending", "delivered", "failed"};
static const char *const file_type_names[] = {"image/jpeg", "image/png", "image/webp", "application/pdf"};
static const char *const reason_names[] = {"", "completed", "user_ended",
                                           "astrologer_ended", "time_up",
                                           "no_show", "cancelled", "disconnected"};

#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

static int name_index(const char *const *names, int n, const char *s)
{
	for (int i = 0; s && i < n; i++)
		if (names[i][0] && strcmp(names[i], s) == 0)
			return i;
	return -1;
}

const char *db_role_name(enum db_role r) { return role_names[r]; }
const char *db_type_name(enum db_type t) { return type_names[t]; }
const char *db_status_name(enum db_status s) { return status_names[s]; }
const char *db_reason_name(enum db_reason r) { return reason_names[r]; }
int db_role_parse(const char *s) { return name_index(role_names, COUNT(role_names), s); }
int db_type_parse(const char *s) { return name_index(type_names, COUNT(type_names), s); }
int db_reason_parse(const char *s) { return name_index(reason_names, COUNT(reason_names), s); }
int db_status_parse(const char *s) { return name_index(status_names, COUNT(status_names), s); }
const char *db_file_type_name(enum db_file_type t) { return file_type_names[t]; }
int db_file_type_parse(const char *s) { return name_index(file_type_names, COUNT(file_type_names), s); }
const char *db_delivery_name(enum db_delivery_status d) { return delivery_names[d]; }
int db_delivery_parse(const char *s) { return name_index(delivery_names, COUNT(delivery_names), s); }
const char *db_actor_name(enum db_actor a) { return actor_names[a]; }
int db_actor_parse(const char *s) { return name_index(actor_names, COUNT(actor_names), s); }
enum db_actor db_actor_of(enum db_role r)
{
	return r == DB_ROLE_USER ? DB_ACTOR_USER : DB_ACTOR_ASTROLOGER;
}

int db_fail(struct db *db, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(db->errmsg, sizeof db->errmsg, fmt, ap);
	va_end(ap);
	return err;
}

int db_fail_sql(struct db *db, const char *what)
{
	int rc = sqlite3_errcode(db->sql);
	/*
	 * A full disk is told apart from other I/O errors: SQLite rolls the
	 * transaction back, so nothing was written and a retry once there is
	 * room is safe, where a failed fsync at COMMIT may have committed.
	 */
	int err = (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) ? DB_ERR_BUSY
	        : rc == SQLITE_FULL ? DB_ERR_FULL : DB_ERR_STORE;

	return db_fail(db, err, "%s: %s", what, sqlite3_errmsg(db->sql));
}

const char *db_errmsg(const struct db *db) { return db->errmsg; }
struct db_config *db_config(struct db *db) { return &db->config; }

int64_t db_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

sqlite3_stmt *db_stmt(struct db *db, const char *sql)
{
	sqlite3_stmt *st;

	for (int i = 0; i < db->nstmts; i++) {
		if (db->stmts[i].sql == sql) {
			sqlite3_reset(db->stmts[i].st);
			sqlite3_clear_bindings(db->stmts[i].st);
			return db->stmts[i].st;
		}
	}
	if (db->nstmts == DB_STMT_CACHE) {
		db_fail(db, DB_ERR_STORE, "statement cache full");
		return NULL;
	}
	if (sqlite3_prepare_v3(db->sql, sql, -1, SQLITE_PREPARE_PERSISTENT, &st,
	                       NULL) != SQLITE_OK) {
		db_fail_sql(db, "prepare");
		return NULL;
	}
	db->stmts[db->nstmts].sql = sql;
	db->stmts[db->nstmts].st = st;
	db->nstmts++;
	return st;
}

static int exec(struct db *db, const char *sql, const char *what)
{
	if (sqlite3_exec(db->sql, sql, NULL, NULL, NULL) != SQLITE_OK)
		return db_fail_sql(db, what);
	return DB_OK;
}

/* Transaction control through cached statements: they run on every write, chat included. */
static int run(struct db *db, const char *sql)
{
	sqlite3_stmt *st = db_stmt(db, sql);
	int rc;

	if (!st)
		return DB_ERR_STORE;
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? DB_OK : db_fail_sql(db, sql);
}

static const char sql_begin[] = "BEGIN IMMEDIATE";
static const char sql_commit[] = "COMMIT";
static const char sql_rollback[] = "ROLLBACK";
static const char sql_savepoint[] = "SAVEPOINT lib";
static const char sql_release[] = "RELEASE lib";
static const char sql_rollback_to[] = "ROLLBACK TO lib";

int db_tx_begin(struct db *db)
{
	int err;

	if (db->in_tx)
		return db_fail(db, DB_ERR_STATE, "a transaction is already open");
	if ((err = run(db, sql_begin)) != DB_OK)
		return err;
	db->in_tx = 1;
	db->nchat_rooms = 0;
	return DB_OK;
}

/*
 * Commits the open transaction, the chat rooms' totals written first.
 * An error may still have committed (an fsync that failed after the WAL
 * frame was written): callers' retries are idempotent. What a failed
 * commit left open is rolled back.
 */
static int commit(struct db *db)
{
	int err = db->chat_file ? db_chat_rooms_save(db) : DB_OK;

	db->nchat_rooms = 0;
	if (err == DB_OK)
		err = run(db, sql_commit);
	if (err != DB_OK && !sqlite3_get_autocommit(db->sql))
		run(db, sql_rollback);
	return err;
}

int db_tx_commit(struct db *db)
{
	if (!db->in_tx)
		return db_fail(db, DB_ERR_STATE, "no transaction is open");
	db->in_tx = 0;
	return commit(db);
}

void db_tx_rollback(struct db *db)
{
	if (!db->in_tx)
		return;
	db->in_tx = 0;
	db->nchat_rooms = 0;
	if (!sqlite3_get_autocommit(db->sql))
		run(db, sql_rollback);
}

/* Inside a caller's transaction a savepoint keeps a failed call from undoing the caller's work. */
int db_write_begin(struct db *db)
{
	if (db->in_tx)
		return run(db, sql_savepoint);
	return run(db, sql_begin);
}

int db_write_commit(struct db *db)
{
	if (db->in_tx)
		return run(db, sql_release);
	return commit(db);
}

void db_write_rollback(struct db *db)
{
	char keep[sizeof db->errmsg];

	memcpy(keep, db->errmsg, sizeof keep); /* the caller's reason matters more */
	if (db->in_tx) {
		run(db, sql_rollback_to);
		run(db, sql_release);
	} else {
		db->nchat_rooms = 0; /* what it read of the rooms went with it */
		if (!sqlite3_get_autocommit(db->sql))
			run(db, sql_rollback);
	}
	memcpy(db->errmsg, keep, sizeof keep);
}

void db_set_busy_timeout(struct db *db, int ms)
{
	db->busy_timeout_ms = ms;
}

/* SQLite's default wal_autocheckpoint: the same WAL length, checkpointed elsewhere. */
#define DB_CHECKPOINT_FRAMES 1000

/* Counts the handle's own file's WAL (a chat handle's attached database is read-only). */
static int wal_note(void *arg, sqlite3 *sql, const char *name, int frames)
{
	struct db *db = arg;

	(void)sql;
	if (strcmp(name, "main") == 0)
		db->wal_frames = frames;
	return SQLITE_OK;
}

void db_checkpoint_deferred(struct db *db)
{
	/* The hook replaces SQLite's own, which checkpointed inside the commit. */
	sqlite3_wal_hook(db->sql, wal_note, db);
}

int db_wal_frames(const struct db *db)
{
	return db->wal_frames;
}

int db_checkpoint(struct db *db)
{
	int rc = sqlite3_wal_checkpoint_v2(db->sql, "main", SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);

	/* Busy: another connection is checkpointing now; a later call goes on from there. */
	if (rc != SQLITE_OK && rc != SQLITE_BUSY)
		return db_fail_sql(db, "checkpoint");
	return DB_OK;
}

int db_checkpoint_idle(struct db *db)
{
	if (db->wal_frames < DB_CHECKPOINT_FRAMES)
		return DB_OK;
	db->wal_frames = 0;
	return db_checkpoint(db);
}

int db_changed(struct db *db, int *changed)
{
	sqlite3_stmt *st = db_stmt(db, "PRAGMA data_version");
	int64_t version;
	int rc;

	if (!st)
		return DB_ERR_STORE;
	rc = sqlite3_step(st);
	version = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (rc != SQLITE_ROW)
		return db_fail_sql(db, "data_version");
	*changed = version != db->data_version;
	db->data_version = version;
	return DB_OK;
}

int db_ping(struct db *db)
{
	sqlite3_stmt *st = db_stmt(db, "SELECT count(*) FROM accounts");
	int rc;

	if (!st)
		return DB_ERR_STORE;
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? DB_OK : db_fail_sql(db, "ping");
}

/* Reads the token key, creating it (0600, never group- or world-readable) on first use. */
static int key_load(struct db *db, const char *dbpath)
{
	char path[4096];
	struct stat sb;
	ssize_t n;
	int fd;

	if (snprintf(path, sizeof path, "%s.key", dbpath) >= (int)sizeof path)
		return db_fail(db, DB_ERR_INVALID, "database path too long");
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd >= 0) {
		unsigned char fresh[DB_KEY_LEN];

		randombytes_buf(fresh, sizeof fresh);
		n = write(fd, fresh, sizeof fresh);
		sodium_memzero(fresh, sizeof fresh);
		if (n != (ssize_t)sizeof fresh || fsync(fd) != 0) {
			close(fd);
			unlink(path);
			return db_fail(db, DB_ERR_STORE, "%s: cannot write key", path);
		}
		close(fd);
	} else if (errno != EEXIST) {
		return db_fail(db, DB_ERR_STORE, "%s: %s", path, strerror(errno));
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return db_fail(db, DB_ERR_STORE, "%s: %s", path, strerror(errno));
	if (fstat(fd, &sb) != 0 || (sb.st_mode & 077) != 0) {
		close(fd);
		return db_fail(db, DB_ERR_STORE,
		               "%s: the token key must be readable by its owner only (chmod 600)",
		               path);
	}
	n = read(fd, db->key, sizeof db->key);
	close(fd);
	if (n != (ssize_t)sizeof db->key)
		return db_fail(db, DB_ERR_STORE, "%s: key is not %d bytes", path, DB_KEY_LEN);
	return DB_OK;
}

static int config_load(struct db *db, const char *path)
{
	struct db_config *c = &db->config;

	if (conf_load(path, db->errmsg, sizeof db->errmsg) != 0)
		return DB_ERR_INVALID;
	c->commission_bps = (int)conf_int(CONF_COMMISSION_BPS);
	c->minute_ms = conf_int(CONF_MINUTE_MS);
	c->grace_ms = conf_int(CONF_GRACE_SECONDS) * 1000;
	c->turn_credential_ms = conf_int(CONF_TURN_CREDENTIAL_SECONDS) * 1000;
	c->opens_before_ms = conf_int(CONF_OPENS_BEFORE_MINUTES) * 60000;
	c->valid_after_ms = conf_int(CONF_VALID_AFTER_MINUTES) * 60000;
	/* Real time, not paid minutes: minute_ms does not scale these. */
	c->empty_timeout_ms = conf_int(CONF_EMPTY_TIMEOUT_SECONDS) * 1000;
	c->no_show_ms = conf_int(CONF_NO_SHOW_MINUTES) * 60000;
	c->chat_max_messages = conf_int(CONF_CHAT_MAX_MESSAGES);
	c->chat_max_bytes = conf_int(CONF_CHAT_MAX_BYTES);
	c->chat_before_start_messages = conf_int(CONF_CHAT_BEFORE_START_MESSAGES);
	c->notes_max_bytes = conf_int(CONF_NOTES_MAX_BYTES);
	c->notes_max_versions = conf_int(CONF_NOTES_MAX_VERSIONS);
	c->file_max_bytes = conf_int(CONF_FILE_MAX_BYTES);
	c->session_files_max_bytes = conf_int(CONF_SESSION_FILES_MAX_BYTES);
	c->file_retention_ms = conf_int(CONF_FILE_RETENTION_DAYS) * 86400000;
	c->recording_max_bytes = conf_int(CONF_RECORDING_MAX_BYTES);
	c->recordings_max_bytes = conf_int(CONF_RECORDINGS_MAX_BYTES);
	c->recordings_min_free = conf_int(CONF_RECORDINGS_MIN_FREE_MB) * 1048576;
	c->recording_retention_ms = conf_int(CONF_RECORDING_RETENTION_DAYS) * 86400000;
	c->webhook_allow_private = (int)conf_int(CONF_WEBHOOK_ALLOW_PRIVATE);
	c->webhook_retry_divisor = conf_int(CONF_WEBHOOK_RETRY_DIVISOR);
	c->webhook_timeout_ms = conf_int(CONF_WEBHOOK_TIMEOUT_SECONDS) * 1000;
	c->audit_retention_ms = conf_int(CONF_AUDIT_RETENTION_DAYS) * 86400000;
	c->webhook_retention_ms = conf_int(CONF_WEBHOOK_RETENTION_DAYS) * 86400000;
	return DB_OK;
}

/* The version a part of schema.sql describes: 1, and one more for each upgrade. */
static int schema_latest(const char *const *upgrades)
{
	int n = 1;

	while (upgrades[n - 1])
		n++;
	return n;
}

static int user_version(struct db *db, int *version)
{
	sqlite3_stmt *st = NULL;
	int err = DB_OK;

	if (sqlite3_prepare_v2(db->sql, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_ROW)
		err = db_fail_sql(db, "user_version");
	else
		*version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return err;
}

/* From this version of the database its chat lives in the chat file. */
#define DB_VERSION_CHAT_FILE 6

static int chat_adopt(struct db *db, const char *path);

/*
 * Creates a part of the schema in an empty file, or upgrades an older
 * one in place, one IMMEDIATE transaction a version so a crash leaves
 * some version whole; refuses a file newer than this program. A file
 * already up to date is only read, so opening takes no write lock. path
 * is the database's when db is the database, NULL for the chat file.
 */
static int schema_apply(struct db *db, const char *schema, const char *const *upgrades,
                        const char *path)
{
	int version, latest = schema_latest(upgrades), err;
	char sql[64];

	if ((err = user_version(db, &version)) != DB_OK || version == latest)
		return err;
	for (;;) {
		if ((err = db_write_begin(db)) != DB_OK)
			return err;
		if ((err = user_version(db, &version)) != DB_OK)
			goto fail;
		if (version == latest)
			break;
		if (version > latest) {
			err = db_fail(db, DB_ERR_STORE, "database schema version %d, this program knows %d",
			              version, latest);
			goto fail;
		}
		if (version == 0) {
			err = exec(db, schema, "schema");
			version = latest;
		} else {
			/* Under this write lock no older program can add chat to the database after the copy. */
			if (path && version + 1 == DB_VERSION_CHAT_FILE)
				err = chat_adopt(db, path);
			if (err == DB_OK)
				err = exec(db, upgrades[version - 1], "upgrade");
			version++;
		}
		if (err != DB_OK)
			goto fail;
		snprintf(sql, sizeof sql, "PRAGMA user_version = %d", version);
		if ((err = exec(db, sql, "user_version")) != DB_OK)
			goto fail;
		if ((err = db_write_commit(db)) != DB_OK)
			return err;
	}
	return db_write_commit(db);
fail:
	db_write_rollback(db);
	return err;
}

static int64_t monotonic_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/*
 * Waits for a lock in naps of 100-400 us, up to DB_BUSY_TIMEOUT_MS.
 * SQLite's own busy_timeout sleeps 1, 2, 5, 10 ... 100 ms between tries,
 * which adds whole milliseconds to every contended write; the random nap
 * keeps waiters from retrying in lockstep.
 */
#define DB_BUSY_TIMEOUT_MS 5000

static int busy_wait(void *arg, int tries)
{
	struct db *db = arg;
	struct timespec nap = {0, 0};

	if (tries == 0)
		db->busy_since_us = monotonic_us();
	else if (monotonic_us() - db->busy_since_us > db->busy_timeout_ms * 1000LL)
		return 0;
	/* A nap needs no cryptographic randomness, and getrandom() was a syscall per try. */
	db->busy_rand ^= db->busy_rand << 13;
	db->busy_rand ^= db->busy_rand >> 17;
	db->busy_rand ^= db->busy_rand << 5;
	nap.tv_nsec = (long)(100000 + db->busy_rand % 300000);
	nanosleep(&nap, NULL);
	return 1;
}

/* What the database and the chat file share: the configuration, the connection and its settings. */
static int handle_open(const char *config_path, const char *file, int flags, struct db **out)
{
	struct db *db;
	int rc;

	*out = NULL;
	if (sodium_init() < 0 || !(db = calloc(1, sizeof *db)))
		return DB_ERR_STORE;
	*out = db;
	if ((rc = config_load(db, config_path)) != DB_OK)
		return rc;
	if (sqlite3_open_v2(file, &db->sql, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
	                    SQLITE_OPEN_NOMUTEX | flags, NULL) != SQLITE_OK)
		return db_fail(db, DB_ERR_STORE, "%s: %s", file,
		               db->sql ? sqlite3_errmsg(db->sql) : "cannot open");
	db->busy_timeout_ms = DB_BUSY_TIMEOUT_MS;
	db->busy_rand = randombytes_random() | 1; /* xorshift stays at 0 once there */
	sqlite3_busy_handler(db->sql, busy_wait, db);
	/*
	 * synchronous=FULL: a settlement must survive a power cut, not only a
	 * crash, and a chat message is acknowledged only once it is on disk.
	 */
	return exec(db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;"
	                "PRAGMA foreign_keys = ON; PRAGMA trusted_schema = OFF;", file);
}

/* Where the program ends up when opening fails: the reason in err, nothing left open. */
static int open_failed(struct db *db, int rc, char *err, size_t errlen)
{
	if (err)
		snprintf(err, errlen, "%s", db ? db->errmsg : "libsodium did not start, or out of memory");
	db_close(db);
	return rc;
}

int db_open(const char *path, struct db **out, char *err, size_t errlen)
{
	struct db *db;
	int rc;

	*out = NULL;
	if ((rc = handle_open(path, path, 0, &db)) != DB_OK ||
	    (rc = key_load(db, path)) != DB_OK ||
	    (rc = schema_apply(db, db_schema_sql, db_upgrades, path)) != DB_OK ||
	    (rc = db_recordings_path(path, db->recordings_dir, sizeof db->recordings_dir)) != DB_OK)
		return open_failed(db, rc, err, errlen);
	*out = db;
	return DB_OK;
}

int db_path_beside(const char *path, const char *suffix, char *out, size_t outlen)
{
	size_t n = strlen(path);

	if (n > 3 && strcmp(path + n - 3, ".db") == 0)
		n -= 3;
	if (snprintf(out, outlen, "%.*s%s", (int)n, path, suffix) >= (int)outlen)
		return DB_ERR_INVALID;
	return DB_OK;
}

int db_chat_path(const char *path, char *out, size_t outlen)
{
	return db_path_beside(path, "-chat.db", out, outlen);
}

int db_recordings_path(const char *path, char *out, size_t outlen)
{
	return db_path_beside(path, "-recordings", out, outlen);
}

/* The database as a read-only URI: %-escaped, so no character of the path is read as URI syntax. */
static int readonly_uri(const char *path, char *out, size_t outlen)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	o += (size_t)snprintf(out, outlen, "file:");
	for (const unsigned char *p = (const unsigned char *)path; *p && o + 4 < outlen; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		    strchr("/._-~", *p)) {
			out[o++] = (char)*p;
		} else {
			out[o++] = '%';
			out[o++] = hex[*p >> 4];
			out[o++] = hex[*p & 15];
		}
	}
	if (o + sizeof "?mode=ro" > outlen)
		return DB_ERR_INVALID;
	memcpy(out + o, "?mode=ro", sizeof "?mode=ro");
	return DB_OK;
}

/*
 * The database attached read-only as "money": a chat write reads the
 * session's state in its own transaction, and since a read-only file
 * takes only a read transaction, BEGIN IMMEDIATE locks the chat file alone.
 */
static int attach_money(struct db *db, const char *path)
{
	char uri[4096 * 3 + 16];
	sqlite3_stmt *st = NULL;
	int err = DB_OK;

	if (readonly_uri(path, uri, sizeof uri) != DB_OK)
		return db_fail(db, DB_ERR_INVALID, "database path too long");
	if (sqlite3_prepare_v2(db->sql, "ATTACH ?1 AS money", -1, &st, NULL) != SQLITE_OK)
		return db_fail_sql(db, "attach");
	sqlite3_bind_text(st, 1, uri, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		err = db_fail(db, DB_ERR_STORE, "%s: %s", path, sqlite3_errmsg(db->sql));
	sqlite3_finalize(st);
	return err;
}

int db_chat_open(const char *path, struct db **out, char *err, size_t errlen)
{
	char file[4096];
	struct db *db = NULL;
	int rc;

	*out = NULL;
	if (db_chat_path(path, file, sizeof file) != DB_OK) {
		snprintf(err, errlen, "database path too long");
		return DB_ERR_INVALID;
	}
	if ((rc = handle_open(path, file, SQLITE_OPEN_URI, &db)) != DB_OK ||
	    (rc = schema_apply(db, db_chat_schema_sql, db_chat_upgrades, NULL)) != DB_OK ||
	    (rc = attach_money(db, path)) != DB_OK)
		return open_failed(db, rc, err, errlen);
	db->chat_file = 1;
	*out = db;
	return DB_OK;
}

/*
 * Copies the chat the database held before version 6 into the chat file
 * and commits it there; the upgrade that drops it from the database
 * follows. A crash between the two copies again, and each row lands once.
 */
static int chat_adopt(struct db *db, const char *path)
{
	static const char copy[] =
		"INSERT OR IGNORE INTO chat_rooms(session_id, user_messages, user_bytes,"
		"                                 astrologer_messages, astrologer_bytes)"
		" SELECT session_id, sum(sender = 'user'), sum(iif(sender = 'user', length(CAST(body AS BLOB)), 0)),"
		"        sum(sender = 'astrologer'), sum(iif(sender = 'astrologer', length(CAST(body AS BLOB)), 0))"
		" FROM money.chat_messages GROUP BY session_id ORDER BY min(id);"
		"INSERT OR IGNORE INTO chat_messages(id, room, seq, sender, body, client_id, created_ms)"
		" SELECT m.id, r.id, m.seq, m.sender, m.body, m.client_id, m.created_ms"
		" FROM money.chat_messages m JOIN chat_rooms r ON r.session_id = m.session_id ORDER BY m.id";
	struct db *chat;
	char err[256];
	int rc;

	if ((rc = db_chat_open(path, &chat, err, sizeof err)) != DB_OK)
		return db_fail(db, rc, "%s", err);
	if ((rc = db_write_begin(chat)) == DB_OK &&
	    (rc = exec(chat, copy, "moving chat to its own file")) == DB_OK)
		rc = db_write_commit(chat);
	else
		db_write_rollback(chat);
	if (rc != DB_OK)
		db_fail(db, rc, "%s", chat->errmsg);
	db_close(chat);
	return rc;
}

int db_threads_own_connections(void)
{
	if (sqlite3_config(SQLITE_CONFIG_MULTITHREAD) != SQLITE_OK ||
	    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0) != SQLITE_OK)
		return DB_ERR_STORE;
	return DB_OK;
}

void db_close(struct db *db)
{
	if (!db)
		return;
	for (int i = 0; i < db->nstmts; i++)
		sqlite3_finalize(db->stmts[i].st);
	sqlite3_close(db->sql);
	sodium_memzero(db->key, sizeof db->key);
	free(db);
}
