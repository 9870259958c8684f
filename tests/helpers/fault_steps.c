/* fault_steps.c: fails SQLite's Nth write, sync or truncate inside a settlement or a booking, for every N, and checks what each failure left. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sqlite3.h>

#include "db.h"

/*
 * Usage: fault_steps DIR end|book once|persist|full continue|crash
 *
 * The operation runs once without a fault to learn its steps (every
 * xWrite, xSync and xTruncate SQLite makes, in order), then once per step
 * N in a child process whose default VFS fails step N: "once" fails that
 * step alone (a transient I/O error), "persist" it and every later one
 * (a disk that died), "full" every write from the Nth on with SQLITE_FULL
 * (a disk that filled up; counting writes only). After the failed call
 * the child either lifts the fault and retries on the same connection
 * ("continue": the worker lives on) or exits without closing anything
 * ("crash": the worker died with the fault). The parent then opens the
 * file with the ordinary VFS and checks: integrity_check ok, the ledger
 * check holds, the database is exactly as before the call or exactly as
 * after it, and one retry leaves it exactly as after it.
 *
 * Prints one "# " line per step (the fault table) and a last line
 * "steps N faulted N failed N unknown N violations N" (unknown: calls
 * that answered an error and yet committed, which only a failed fsync at
 * COMMIT can do); exits 1 when a check failed.
 */

/* The operation's inputs, the same in every run so the outcome is comparable. */
#define USER "Asha"
#define ASTROLOGER "Vega"
#define PRICE 3000
#define MINUTE_MS 60000

enum mode { MODE_ONCE, MODE_PERSIST, MODE_FULL };

/* What the fault VFS counts and fails; one process uses it at a time. */
static struct {
	sqlite3_vfs vfs;
	sqlite3_vfs *real;  /* the unix VFS every call goes on to */
	enum mode mode;
	long at;            /* the step that fails; 0: none */
	long steps;         /* steps so far */
	long hits;          /* failed steps */
	char first[32];     /* the first failed step, as "sync wal" */
} fv;

struct fault_file {
	sqlite3_file base;
	const char *kind;   /* db, wal or journal: a string literal */
	sqlite3_file *real; /* points just past this struct, in the same allocation */
};

static sqlite3_file *real_of(sqlite3_file *f) { return ((struct fault_file *)f)->real; }

/* Counts a step; nonzero when it must fail. */
static int fault_step(sqlite3_file *f, const char *op)
{
	const char *kind = ((struct fault_file *)f)->kind;
	int fail;

	if (fv.mode == MODE_FULL && strcmp(op, "write") != 0)
		return 0;
	fv.steps++;
	fail = fv.at > 0 && (fv.steps == fv.at || (fv.mode != MODE_ONCE && fv.steps > fv.at));
	if (fail && fv.hits++ == 0)
		snprintf(fv.first, sizeof fv.first, "%s %s", op, kind);
	return fail;
}

static int f_close(sqlite3_file *f)
{
	return real_of(f)->pMethods ? real_of(f)->pMethods->xClose(real_of(f)) : SQLITE_OK;
}
static int f_read(sqlite3_file *f, void *buf, int n, sqlite3_int64 off)
{
	return real_of(f)->pMethods->xRead(real_of(f), buf, n, off);
}
static int f_write(sqlite3_file *f, const void *buf, int n, sqlite3_int64 off)
{
	if (fault_step(f, "write"))
		return fv.mode == MODE_FULL ? SQLITE_FULL : SQLITE_IOERR_WRITE;
	return real_of(f)->pMethods->xWrite(real_of(f), buf, n, off);
}
static int f_truncate(sqlite3_file *f, sqlite3_int64 size)
{
	if (fault_step(f, "truncate"))
		return SQLITE_IOERR_TRUNCATE;
	return real_of(f)->pMethods->xTruncate(real_of(f), size);
}
static int f_sync(sqlite3_file *f, int flags)
{
	if (fault_step(f, "sync"))
		return SQLITE_IOERR_FSYNC;
	return real_of(f)->pMethods->xSync(real_of(f), flags);
}
static int f_size(sqlite3_file *f, sqlite3_int64 *size)
{
	return real_of(f)->pMethods->xFileSize(real_of(f), size);
}
static int f_lock(sqlite3_file *f, int lock) { return real_of(f)->pMethods->xLock(real_of(f), lock); }
static int f_unlock(sqlite3_file *f, int lock) { return real_of(f)->pMethods->xUnlock(real_of(f), lock); }
static int f_reserved(sqlite3_file *f, int *out)
{
	return real_of(f)->pMethods->xCheckReservedLock(real_of(f), out);
}
static int f_control(sqlite3_file *f, int op, void *arg)
{
	return real_of(f)->pMethods->xFileControl(real_of(f), op, arg);
}
static int f_sector(sqlite3_file *f) { return real_of(f)->pMethods->xSectorSize(real_of(f)); }
static int f_device(sqlite3_file *f)
{
	return real_of(f)->pMethods->xDeviceCharacteristics(real_of(f));
}
static int f_shm_map(sqlite3_file *f, int page, int size, int extend, void volatile **out)
{
	return real_of(f)->pMethods->xShmMap(real_of(f), page, size, extend, out);
}
static int f_shm_lock(sqlite3_file *f, int off, int n, int flags)
{
	return real_of(f)->pMethods->xShmLock(real_of(f), off, n, flags);
}
static void f_shm_barrier(sqlite3_file *f) { real_of(f)->pMethods->xShmBarrier(real_of(f)); }
static int f_shm_unmap(sqlite3_file *f, int del)
{
	return real_of(f)->pMethods->xShmUnmap(real_of(f), del);
}
static int f_fetch(sqlite3_file *f, sqlite3_int64 off, int n, void **out)
{
	return real_of(f)->pMethods->xFetch(real_of(f), off, n, out);
}
static int f_unfetch(sqlite3_file *f, sqlite3_int64 off, void *p)
{
	return real_of(f)->pMethods->xUnfetch(real_of(f), off, p);
}

static const sqlite3_io_methods fault_methods = {
	3, f_close, f_read, f_write, f_truncate, f_sync, f_size, f_lock, f_unlock, f_reserved,
	f_control, f_sector, f_device, f_shm_map, f_shm_lock, f_shm_barrier, f_shm_unmap,
	f_fetch, f_unfetch,
};

static int f_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags, int *out_flags)
{
	struct fault_file *ff = (struct fault_file *)f;
	int rc;

	(void)vfs;
	ff->real = (sqlite3_file *)(ff + 1);
	ff->kind = flags & SQLITE_OPEN_WAL ? "wal" : flags & SQLITE_OPEN_MAIN_DB ? "db" : "journal";
	rc = fv.real->xOpen(fv.real, name, ff->real, flags, out_flags);
	/* SQLite calls xClose whenever pMethods is set, also after a failed open. */
	f->pMethods = &fault_methods;
	return rc;
}

/* Makes the fault VFS the default, failing nothing until fv.at is set. */
static void fault_vfs_install(enum mode mode)
{
	fv.real = sqlite3_vfs_find("unix");
	fv.vfs = *fv.real;
	fv.vfs.zName = "fault";
	fv.vfs.szOsFile = (int)sizeof(struct fault_file) + fv.real->szOsFile;
	fv.vfs.xOpen = f_open;
	fv.mode = mode;
	sqlite3_vfs_register(&fv.vfs, 1);
}

/* ---- the operation and the fixture ---- */

static int64_t t0; /* "now" of every run */

static int run_op(struct db *db, int booking, const char *session_id, int *already)
{
	struct db_booking_req req = {USER, ASTROLOGER, DB_TYPE_VOICE, 30, PRICE, 0};
	struct db_settlement st;
	struct db_booking b;
	int rc;

	*already = 0;
	if (booking) {
		req.starts_ms = t0;
		return db_book(db, &req, t0, &b);
	}
	rc = db_end_session(db, session_id, DB_REASON_USER_ENDED, DB_ACTOR_USER, t0, &st);
	*already = rc == DB_OK && st.already_ended;
	return rc;
}

static int copy_file(const char *from, const char *to)
{
	char buf[65536];
	ssize_t n = 0;
	int in = open(from, O_RDONLY), out = -1, rc = -1;

	if (in < 0 || (out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0600)) < 0)
		goto done;
	while ((n = read(in, buf, sizeof buf)) > 0)
		if (write(out, buf, (size_t)n) != n)
			goto done;
	rc = n == 0 ? 0 : -1;
done:
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	return rc;
}

/* The database the operation starts from: a voice session both joined ten minutes ago. */
static int fixture(const char *dir, int booking, char session_id[DB_ID_LEN + 1])
{
	struct db_booking_req req = {USER, ASTROLOGER, DB_TYPE_VOICE, 30, PRICE, 0};
	int64_t t = t0 - 10 * MINUTE_MS;
	char path[4096], err[256];
	struct db_booking b;
	struct db_join j;
	struct db *db;
	int rc;

	snprintf(path, sizeof path, "%s/template.db", dir);
	if (db_open(path, &db, err, sizeof err) != DB_OK) {
		fprintf(stderr, "fault_steps: %s\n", err);
		return -1;
	}
	req.starts_ms = t;
	rc = db_user_add(db, USER, 10 * PRICE, t - MINUTE_MS) != DB_OK ||
	     db_astrologer_add(db, ASTROLOGER, t - MINUTE_MS) != DB_OK;
	if (!rc && !booking)
		rc = db_book(db, &req, t - MINUTE_MS, &b) != DB_OK ||
		     db_start_session(db, b.session.id, DB_ROLE_USER, t, &j) != DB_OK ||
		     db_start_session(db, b.session.id, DB_ROLE_ASTROLOGER, t, &j) != DB_OK ||
		     db_presence_join(db, b.session.id, DB_ROLE_USER, t) != DB_OK ||
		     db_presence_join(db, b.session.id, DB_ROLE_ASTROLOGER, t) != DB_OK ||
		     db_presence_beat(db, t0 - 5000) != DB_OK;
	if (rc)
		fprintf(stderr, "fault_steps: fixture: %s\n", db_errmsg(db));
	else if (!booking)
		memcpy(session_id, b.session.id, DB_ID_LEN + 1);
	db_close(db);
	return rc ? -1 : 0;
}

/* A fresh copy of the fixture at DIR/work.db (the WAL was checkpointed away on close). */
static int fresh_copy(const char *dir, char *work, size_t len)
{
	char from[4096], to[4096];

	snprintf(work, len, "%s/work.db", dir);
	snprintf(from, sizeof from, "%s/template.db", dir);
	snprintf(to, sizeof to, "%s-wal", work);
	unlink(to);
	snprintf(to, sizeof to, "%s-shm", work);
	unlink(to);
	snprintf(to, sizeof to, "%s.key", work);
	if (copy_file(from, work) != 0)
		return -1;
	snprintf(from, sizeof from, "%s/template.db.key", dir);
	return copy_file(from, to);
}

/* ---- what a run left ---- */

static uint64_t fnv(uint64_t h, const char *s)
{
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211u;
	return (h ^ 0xff) * 1099511628211u;
}

/*
 * A digest of the data: every row of every table when the operation is
 * deterministic (the end), else each table's row count and every
 * account's balance (a booking draws random tokens and ids).
 */
static int fingerprint(sqlite3 *sql, int full, uint64_t *out)
{
	sqlite3_stmt *tables = NULL, *rows = NULL;
	uint64_t h = 14695981039346656037u;
	char q[512];
	int rc = -1;

	if (sqlite3_prepare_v2(sql, "SELECT name FROM sqlite_schema WHERE type = 'table'"
	                       " AND name NOT LIKE 'sqlite_%' ORDER BY name", -1, &tables, NULL))
		goto done;
	while (sqlite3_step(tables) == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(tables, 0);

		snprintf(q, sizeof q, full ? "SELECT * FROM \"%s\""
		                           : "SELECT count(*) FROM \"%s\"", t);
		h = fnv(h, t);
		if (sqlite3_prepare_v2(sql, q, -1, &rows, NULL))
			goto done;
		while (sqlite3_step(rows) == SQLITE_ROW)
			for (int c = 0; c < sqlite3_column_count(rows); c++) {
				const unsigned char *v = sqlite3_column_text(rows, c);

				h = fnv(h, v ? (const char *)v : "(null)");
			}
		sqlite3_finalize(rows);
		rows = NULL;
	}
	if (!full) {
		if (sqlite3_prepare_v2(sql, "SELECT balance FROM accounts ORDER BY id", -1, &rows, NULL))
			goto done;
		while (sqlite3_step(rows) == SQLITE_ROW)
			h = fnv(h, (const char *)sqlite3_column_text(rows, 0));
	}
	*out = h;
	rc = 0;
done:
	sqlite3_finalize(rows);
	sqlite3_finalize(tables);
	return rc;
}

static void problem(void *arg, const char *what)
{
	(void)arg;
	printf("#   ledger: %s\n", what);
}

/* The file as an ordinary process finds it: integrity, ledger and the data's digest. */
struct view {
	int integrity_ok, ledger_ok;
	uint64_t fp;
};

static int inspect(const char *path, int full, struct view *v)
{
	sqlite3_stmt *st = NULL;
	sqlite3 *sql = NULL;
	struct db *db = NULL;
	char err[256];
	int problems = 0, rc = -1;

	memset(v, 0, sizeof *v);
	if (sqlite3_open_v2(path, &sql, SQLITE_OPEN_READWRITE, "unix") != SQLITE_OK ||
	    sqlite3_prepare_v2(sql, "PRAGMA integrity_check", -1, &st, NULL) != SQLITE_OK)
		goto done;
	v->integrity_ok = sqlite3_step(st) == SQLITE_ROW &&
	                  strcmp((const char *)sqlite3_column_text(st, 0), "ok") == 0;
	if (fingerprint(sql, full, &v->fp) != 0)
		goto done;
	if (db_open(path, &db, err, sizeof err) != DB_OK) {
		printf("#   open: %s\n", err);
		goto done;
	}
	v->ledger_ok = db_ledger_check(db, problem, NULL, &problems) == DB_OK && problems == 0;
	rc = 0;
done:
	sqlite3_finalize(st);
	sqlite3_close(sql);
	db_close(db);
	return rc;
}

/* What the child reports through its pipe. */
struct outcome {
	int rc;               /* the faulted call's answer */
	long steps, hits;
	char first[32];
	char errmsg[300];
	int retry_rc, retry_already; /* continue: the retry on the same connection */
	int live_valid;
	uint64_t live_fp;     /* continue: the data as that connection saw it before the retry */
};

/* The child: one run of the operation with step `at` failing (0: none). */
static void child(const char *work, int booking, const char *session_id, enum mode mode,
                  long at, int crash, int fd)
{
	struct outcome o;
	struct db *db;
	char err[256];
	int already;

	memset(&o, 0, sizeof o);
	fault_vfs_install(mode);
	if (db_open(work, &db, err, sizeof err) != DB_OK) {
		snprintf(o.errmsg, sizeof o.errmsg, "open: %s", err);
		o.rc = 99;
		goto report;
	}
	fv.steps = 0;
	fv.at = at;
	o.rc = run_op(db, booking, session_id, &already);
	fv.at = 0;
	o.steps = fv.steps;
	o.hits = fv.hits;
	snprintf(o.first, sizeof o.first, "%s", fv.first);
	snprintf(o.errmsg, sizeof o.errmsg, "%s", o.rc ? db_errmsg(db) : "");
	if (!crash) {
		sqlite3 *sql;

		/* The fault is gone: what this process sees now, then its retry. */
		if (sqlite3_open_v2(work, &sql, SQLITE_OPEN_READWRITE, "unix") == SQLITE_OK &&
		    fingerprint(sql, !booking, &o.live_fp) == 0)
			o.live_valid = 1;
		sqlite3_close(sql);
		if (o.rc != DB_OK || booking == 0)
			o.retry_rc = run_op(db, booking, session_id, &o.retry_already);
		db_close(db);
	}
report:
	if (write(fd, &o, sizeof o) != (ssize_t)sizeof o)
		_exit(3);
	/* crash: exit as kill -9 would leave it: WAL, shared memory and locks as they are. */
	_exit(0);
}

static int run_child(const char *work, int booking, const char *session_id, enum mode mode,
                     long at, int crash, struct outcome *o)
{
	int fds[2], status = 0;
	ssize_t n;
	pid_t pid;

	if (pipe(fds) != 0 || (pid = fork()) < 0)
		return -1;
	if (pid == 0) {
		close(fds[0]);
		child(work, booking, session_id, mode, at, crash, fds[1]);
	}
	close(fds[1]);
	n = read(fds[0], o, sizeof *o);
	close(fds[0]);
	waitpid(pid, &status, 0);
	if (n != (ssize_t)sizeof *o || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		printf("# step %ld: the process died (status %d)\n", at, status);
		return -1;
	}
	return 0;
}

/* The checks every run shares: the file is whole, the money adds up, the data is as before or as after. */
static const char *judge(const struct outcome *o, const struct view *v, uint64_t before_fp,
                         uint64_t after_fp)
{
	if (!v->integrity_ok)
		return "integrity_check fails";
	if (!v->ledger_ok)
		return "the ledger check fails";
	if (v->fp != before_fp && v->fp != after_fp)
		return "half-written: neither as before nor as after";
	if (!o->hits && o->rc != DB_OK)
		return "failed with no fault";
	if (o->rc == DB_OK && v->fp != after_fp)
		return "succeeded but did not write";
	return NULL;
}

/*
 * The worker lived on: what it saw once the fault went (live), then its
 * retry on the same connection. An end's retry settles once; a booking
 * is retried only when it failed and left nothing (a booking is not
 * idempotent: one that failed at COMMIT yet committed would be booked twice).
 */
static const char *after_continue(const char *work, int booking, const struct outcome *o,
                                  uint64_t before_fp, uint64_t after_fp, int *present)
{
	struct view v;
	const char *bad;

	*present = !o->live_valid ? -1 : o->live_fp == after_fp ? 1 : o->live_fp == before_fp ? 0 : -1;
	v.integrity_ok = v.ledger_ok = 1;
	v.fp = o->live_fp;
	if (!o->live_valid || (bad = judge(o, &v, before_fp, after_fp)))
		return o->live_valid ? bad : "the live process could not read the file";
	if (inspect(work, !booking, &v) != 0)
		return "the file does not open";
	if (booking && (o->rc == DB_OK || *present == 1))
		return judge(o, &v, before_fp, after_fp);
	if (o->retry_rc != DB_OK)
		return "the retry on the same connection failed";
	if (!booking && o->retry_already != *present)
		return "the retry settled a second time, or said so wrongly";
	if (!v.integrity_ok || !v.ledger_ok || v.fp != after_fp)
		return "after the retry the data is not as one successful call leaves it";
	return NULL;
}

/* The worker died with the fault: a new process finds the file, and the client's retry. */
static const char *after_crash(const char *work, int booking, const char *session_id,
                               const struct outcome *o, uint64_t before_fp, uint64_t after_fp,
                               int *present)
{
	int already = 0, rc = DB_ERR_STORE;
	const char *bad;
	struct view v;
	struct db *db;
	char err[256];

	*present = -1;
	if (inspect(work, !booking, &v) != 0)
		return "the file does not open";
	*present = v.fp == after_fp ? 1 : v.fp == before_fp ? 0 : -1;
	if ((bad = judge(o, &v, before_fp, after_fp)) || !o->hits || (booking && *present == 1))
		return bad;
	if (db_open(work, &db, err, sizeof err) == DB_OK) {
		rc = run_op(db, booking, session_id, &already);
		db_close(db);
	}
	if (rc != DB_OK)
		return "the retry after a restart failed";
	if (!booking && already != *present)
		return "the retry after a restart settled a second time, or said so wrongly";
	if (inspect(work, !booking, &v) != 0 || !v.integrity_ok || !v.ledger_ok || v.fp != after_fp)
		return "after the retry the data is not as one successful call leaves it";
	return NULL;
}

int main(int argc, char **argv)
{
	static const char *const modes[] = {"once", "persist", "full"};
	char session_id[DB_ID_LEN + 1] = "", work[4096];
	long faulted = 0, failed = 0, unknown = 0, violations = 0, steps;
	uint64_t before_fp, after_fp;
	int booking, crash, mode = -1;
	struct outcome o;
	struct view v;

	if (argc == 5)
		for (int i = 0; i < 3; i++)
			if (strcmp(argv[3], modes[i]) == 0)
				mode = i;
	if (argc != 5 || (strcmp(argv[2], "end") && strcmp(argv[2], "book")) || mode < 0 ||
	    (strcmp(argv[4], "continue") && strcmp(argv[4], "crash"))) {
		fprintf(stderr, "usage: fault_steps DIR end|book once|persist|full continue|crash\n");
		return 2;
	}
	booking = strcmp(argv[2], "book") == 0;
	crash = strcmp(argv[4], "crash") == 0;
	t0 = db_now_ms();
	if (fixture(argv[1], booking, session_id) != 0 || fresh_copy(argv[1], work, sizeof work) != 0 ||
	    inspect(work, !booking, &v) != 0)
		return 1;
	before_fp = v.fp;
	/* The clean run: the steps to fail, and the data as a successful call leaves it. */
	if (run_child(work, booking, session_id, (enum mode)mode, 0, 1, &o) != 0 || o.rc != DB_OK ||
	    inspect(work, !booking, &v) != 0) {
		printf("# the operation fails without a fault: %s\n", o.errmsg);
		return 1;
	}
	after_fp = v.fp;
	steps = o.steps;
	if (steps == 0 || after_fp == before_fp) {
		printf("# the clean run wrote nothing\n");
		return 1;
	}

	for (long at = 1; at <= steps + 1; at++) {
		const char *bad;
		int present;

		if (fresh_copy(argv[1], work, sizeof work) != 0 ||
		    run_child(work, booking, session_id, (enum mode)mode, at, crash, &o) != 0) {
			violations++;
			continue;
		}
		if (o.hits) {
			faulted++;
			failed += o.rc != DB_OK;
		}
		bad = crash ? after_crash(work, booking, session_id, &o, before_fp, after_fp, &present)
		            : after_continue(work, booking, &o, before_fp, after_fp, &present);
		/* A full disk is answered as such, and SQLite has rolled back: nothing was written. */
		if (!bad && mode == MODE_FULL && o.hits && (o.rc != DB_ERR_FULL || present == 1))
			bad = "a full disk was not answered DB_ERR_FULL with nothing written";
		if (o.hits && o.rc != DB_OK && present == 1)
			unknown++; /* an error at COMMIT that committed: only the retry may tell */
		printf("# step %ld/%ld %-14s -> %s%s%s; left %s%s%s\n", at, steps,
		       o.hits ? o.first : "(no fault)", o.rc == DB_OK ? "ok" : "error: ",
		       o.rc == DB_OK ? "" : o.errmsg,
		       o.hits && o.rc == DB_OK ? " (the fault came after the commit)" : "",
		       present == 1 ? "as after" : present == 0 ? "as before" : "half-written",
		       bad ? "; VIOLATION: " : "", bad ? bad : "");
		if (bad)
			violations++;
	}
	printf("steps %ld faulted %ld failed %ld unknown %ld violations %ld\n", steps, faulted,
	       failed, unknown, violations);
	return violations ? 1 : 0;
}
