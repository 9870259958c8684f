/* webhook.c: webhook endpoints with sealed secrets, their deliveries, and what the deliverer reads and records. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "internal.h"

#define SECRET_BYTES 32
#define SEALED_LEN (crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + SECRET_BYTES)
#define MAX_ENDPOINTS 16 /* each event is one delivery per endpoint */

/* The sealing key is derived from the token key, so no second key file needs keeping. */
static void seal_key(const struct db *db, unsigned char key[crypto_secretbox_KEYBYTES])
{
	crypto_kdf_derive_from_key(key, crypto_secretbox_KEYBYTES, 1, "webhooks", db->key);
}

/* A fresh secret: its text for the shop (once) and its sealed form for the database. */
static void secret_new(const struct db *db, char text[DB_WEBHOOK_SECRET_LEN + 1],
                       unsigned char sealed[SEALED_LEN])
{
	unsigned char raw[SECRET_BYTES], key[crypto_secretbox_KEYBYTES];

	randombytes_buf(raw, sizeof raw);
	memcpy(text, "whsec_", 6);
	sodium_bin2base64(text + 6, DB_WEBHOOK_SECRET_LEN + 1 - 6, raw, sizeof raw,
	                  sodium_base64_VARIANT_ORIGINAL);
	randombytes_buf(sealed, crypto_secretbox_NONCEBYTES);
	seal_key(db, key);
	crypto_secretbox_easy(sealed + crypto_secretbox_NONCEBYTES, raw, sizeof raw, sealed, key);
	sodium_memzero(raw, sizeof raw);
	sodium_memzero(key, sizeof key);
}

static int secret_open(struct db *db, const void *sealed, int len, unsigned char raw[SECRET_BYTES])
{
	const unsigned char *s = sealed;
	unsigned char key[crypto_secretbox_KEYBYTES];
	int rc;

	if (len != SEALED_LEN)
		return db_fail(db, DB_ERR_STORE, "a webhook secret is damaged");
	seal_key(db, key);
	rc = crypto_secretbox_open_easy(raw, s + crypto_secretbox_NONCEBYTES,
	                                SEALED_LEN - crypto_secretbox_NONCEBYTES, s, key);
	sodium_memzero(key, sizeof key);
	return rc == 0 ? DB_OK
	               : db_fail(db, DB_ERR_STORE, "a webhook secret does not open with this key");
}

/* Runs a statement that returns no rows; *changes (may be NULL) gets how many rows it changed. */
static int run(struct db *db, sqlite3_stmt *st, const char *what, int *changes)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return db_fail_sql(db, what);
	if (changes)
		*changes = sqlite3_changes(db->sql);
	return DB_OK;
}

/* Runs a change whose parameters are two integers (?1, and ?2 when it has one). */
static int run_ids(struct db *db, const char *sql, int64_t a, int64_t b, const char *what,
                   int *changes)
{
	sqlite3_stmt *st = db_stmt(db, sql);

	if (!st)
		return DB_ERR_STORE;
	sqlite3_bind_int64(st, 1, a);
	if (sqlite3_bind_parameter_count(st) > 1)
		sqlite3_bind_int64(st, 2, b);
	return run(db, st, what, changes);
}

/* A change that must touch exactly one row of the named thing. */
static int run_one(struct db *db, const char *sql, int64_t id, int64_t b, const char *what)
{
	int err, changes = 0;

	if ((err = run_ids(db, sql, id, b, what, &changes)) == DB_OK && changes != 1)
		err = db_fail(db, DB_ERR_NOT_FOUND, "no %s %lld", what, (long long)id);
	return err;
}

/*
 * Ends a write that made a secret: committed, or rolled back with the
 * secret wiped, so no secret is ever shown for a change that did not happen.
 */
static int secret_done(struct db *db, int err, char secret[DB_WEBHOOK_SECRET_LEN + 1])
{
	if (err == DB_OK)
		err = db_write_commit(db);
	else
		db_write_rollback(db);
	if (err != DB_OK)
		sodium_memzero(secret, DB_WEBHOOK_SECRET_LEN + 1);
	return err;
}

/* Seals a fresh secret into ?2 of a statement whose ?1 and ?3 the caller bound. */
static int secret_write(struct db *db, sqlite3_stmt *st, char secret[DB_WEBHOOK_SECRET_LEN + 1],
                        int *changes)
{
	unsigned char sealed[SEALED_LEN];

	secret_new(db, secret, sealed);
	sqlite3_bind_blob(st, 2, sealed, sizeof sealed, SQLITE_TRANSIENT);
	return run(db, st, "webhook endpoint", changes);
}

int db_webhook_add(struct db *db, const char *url, int64_t now_ms, int64_t *id,
                   char secret[DB_WEBHOOK_SECRET_LEN + 1])
{
	static const char count[] = "SELECT count(*) FROM webhook_endpoints";
	static const char ins[] =
		"INSERT INTO webhook_endpoints(url, secret_sealed, created_ms) VALUES (?1, ?2, ?3)";
	char why[256];
	sqlite3_stmt *st;
	int rc, err;

	memset(secret, 0, DB_WEBHOOK_SECRET_LEN + 1);
	if (db_webhook_url_check(url, db->config.webhook_allow_private, NULL, 0, why, sizeof why) !=
	    DB_OK)
		return db_fail(db, DB_ERR_INVALID, "%s", why);
	if ((err = db_write_begin(db)) != DB_OK)
		return err;
	if (!(st = db_stmt(db, count)))
		return secret_done(db, DB_ERR_STORE, secret);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && sqlite3_column_int(st, 0) >= MAX_ENDPOINTS)
		err = db_fail(db, DB_ERR_LIMIT, "at most %d webhook endpoints", MAX_ENDPOINTS);
	else if (rc != SQLITE_ROW)
		err = db_fail_sql(db, "webhook endpoints");
	sqlite3_reset(st);
	if (err == DB_OK && !(st = db_stmt(db, ins)))
		err = DB_ERR_STORE;
	if (err == DB_OK) {
		sqlite3_bind_text(st, 1, url, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, now_ms);
		if ((err = secret_write(db, st, secret, NULL)) == DB_OK)
			*id = sqlite3_last_insert_rowid(db->sql);
	}
	return secret_done(db, err, secret);
}

int db_webhook_list(struct db *db, db_webhook_cb *cb, void *arg)
{
	static const char q[] =
		"SELECT w.id, w.url, w.created_ms, w.disabled_ms, w.disabled_reason, w.previous_until_ms,"
		" (SELECT count(*) FROM webhook_deliveries d WHERE d.endpoint_id = w.id AND d.status = 'pending'),"
		" (SELECT count(*) FROM webhook_deliveries d WHERE d.endpoint_id = w.id AND d.status = 'delivered'),"
		" (SELECT count(*) FROM webhook_deliveries d WHERE d.endpoint_id = w.id AND d.status = 'failed')"
		" FROM webhook_endpoints w ORDER BY w.id";
	sqlite3_stmt *st = db_stmt(db, q);
	struct db_webhook w;
	int rc;

	if (!st)
		return DB_ERR_STORE;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const unsigned char *reason = sqlite3_column_text(st, 4);

		memset(&w, 0, sizeof w);
		w.id = sqlite3_column_int64(st, 0);
		snprintf(w.url, sizeof w.url, "%s", (const char *)sqlite3_column_text(st, 1));
		w.created_ms = sqlite3_column_int64(st, 2);
		w.disabled_ms = sqlite3_column_int64(st, 3);
		snprintf(w.disabled_reason, sizeof w.disabled_reason, "%s",
		         reason ? (const char *)reason : "");
		w.previous_until_ms = sqlite3_column_int64(st, 5);
		w.pending = sqlite3_column_int64(st, 6);
		w.delivered = sqlite3_column_int64(st, 7);
		w.failed = sqlite3_column_int64(st, 8);
		cb(arg, &w);
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? DB_OK : db_fail_sql(db, "webhook endpoints");
}

int db_webhook_remove(struct db *db, int64_t id)
{
	static const char attempts[] =
		"DELETE FROM webhook_attempts WHERE delivery_id IN"
		" (SELECT id FROM webhook_deliveries WHERE endpoint_id = ?1)";
	static const char deliveries[] = "DELETE FROM webhook_deliveries WHERE endpoint_id = ?1";
	static const char endpoint[] = "DELETE FROM webhook_endpoints WHERE id = ?1";
	int err;

	if ((err = db_write_begin(db)) != DB_OK)
		return err;
	if ((err = run_ids(db, attempts, id, 0, "webhook attempts", NULL)) != DB_OK ||
	    (err = run_ids(db, deliveries, id, 0, "webhook deliveries", NULL)) != DB_OK ||
	    (err = run_one(db, endpoint, id, 0, "webhook endpoint")) != DB_OK) {
		db_write_rollback(db);
		return err;
	}
	return db_write_commit(db);
}

int db_webhook_rotate(struct db *db, int64_t id, int64_t now_ms,
                      char secret[DB_WEBHOOK_SECRET_LEN + 1])
{
	static const char upd[] =
		"UPDATE webhook_endpoints SET previous_sealed = secret_sealed, secret_sealed = ?2,"
		" previous_until_ms = ?3 WHERE id = ?1";
	sqlite3_stmt *st;
	int err, changes = 0;

	memset(secret, 0, DB_WEBHOOK_SECRET_LEN + 1);
	if ((err = db_write_begin(db)) != DB_OK)
		return err;
	if (!(st = db_stmt(db, upd)))
		return secret_done(db, DB_ERR_STORE, secret);
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 3, now_ms + DB_WEBHOOK_OVERLAP_MS);
	if ((err = secret_write(db, st, secret, &changes)) == DB_OK && changes != 1)
		err = db_fail(db, DB_ERR_NOT_FOUND, "no webhook endpoint %lld", (long long)id);
	return secret_done(db, err, secret);
}

int db_webhook_deliveries(struct db *db, int status, int limit, db_delivery_cb *cb, void *arg)
{
	static const char q[] =
		"SELECT d.id, d.endpoint_id, e.event_id, e.type, e.subject, e.sequence, d.status,"
		" d.attempts, d.next_attempt_ms, d.last_attempt_ms, d.done_ms, d.created_ms,"
		" d.last_status, d.last_error"
		" FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id"
		" WHERE ?1 IS NULL OR d.status = ?1 ORDER BY d.id DESC LIMIT ?2";
	sqlite3_stmt *st = db_stmt(db, q);
	struct db_delivery d;
	int rc;

	if (!st)
		return DB_ERR_STORE;
	if (status >= 0)
		sqlite3_bind_text(st, 1, db_delivery_name((enum db_delivery_status)status), -1,
		                  SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 1); /* a cached statement keeps the last call's binding */
	sqlite3_bind_int(st, 2, limit);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const unsigned char *text = sqlite3_column_text(st, 6), *error = sqlite3_column_text(st, 13);

		memset(&d, 0, sizeof d);
		d.id = sqlite3_column_int64(st, 0);
		d.endpoint_id = sqlite3_column_int64(st, 1);
		snprintf(d.event_id, sizeof d.event_id, "%s", (const char *)sqlite3_column_text(st, 2));
		snprintf(d.type, sizeof d.type, "%s", (const char *)sqlite3_column_text(st, 3));
		snprintf(d.subject, sizeof d.subject, "%s", (const char *)sqlite3_column_text(st, 4));
		d.sequence = sqlite3_column_int64(st, 5);
		d.status = (enum db_delivery_status)db_delivery_parse((const char *)text);
		d.attempts = sqlite3_column_int(st, 7);
		d.next_attempt_ms = sqlite3_column_int64(st, 8);
		d.last_attempt_ms = sqlite3_column_int64(st, 9);
		d.done_ms = sqlite3_column_int64(st, 10);
		d.created_ms = sqlite3_column_int64(st, 11);
		d.last_status = sqlite3_column_int(st, 12);
		snprintf(d.last_error, sizeof d.last_error, "%s", error ? (const char *)error : "");
		cb(arg, &d);
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? DB_OK : db_fail_sql(db, "webhook deliveries");
}

int db_webhook_retry(struct db *db, int64_t delivery_id, int64_t now_ms)
{
	static const char upd[] =
		"UPDATE webhook_deliveries SET status = 'pending', attempts = 0, next_attempt_ms = ?2,"
		" done_ms = NULL WHERE id = ?1";
	static const char enable[] =
		"UPDATE webhook_endpoints SET disabled_ms = NULL, disabled_reason = NULL"
		" WHERE id = (SELECT endpoint_id FROM webhook_deliveries WHERE id = ?1)";
	int err;

	if ((err = db_write_begin(db)) != DB_OK)
		return err;
	/* Asking for a re-send says the receiver is back: a 410 no longer stands. */
	if ((err = run_one(db, upd, delivery_id, now_ms, "webhook delivery")) != DB_OK ||
	    (err = run_ids(db, enable, delivery_id, 0, "webhook endpoint", NULL)) != DB_OK) {
		db_write_rollback(db);
		return err;
	}
	return db_write_commit(db);
}

void db_webhook_jobs_free(struct db_webhook_job *jobs, int n)
{
	for (int i = 0; i < n; i++) {
		free(jobs[i].payload);
		sodium_memzero(&jobs[i], sizeof jobs[i]);
	}
}

/* Fills a job from a row of the due query. */
static int job_read(struct db *db, sqlite3_stmt *st, struct db_webhook_job *j)
{
	int err;

	memset(j, 0, sizeof *j);
	j->delivery_id = sqlite3_column_int64(st, 0);
	j->endpoint_id = sqlite3_column_int64(st, 1);
	j->attempts = sqlite3_column_int(st, 2);
	snprintf(j->url, sizeof j->url, "%s", (const char *)sqlite3_column_text(st, 3));
	snprintf(j->event_id, sizeof j->event_id, "%s", (const char *)sqlite3_column_text(st, 4));
	if (!(j->payload = strdup((const char *)sqlite3_column_text(st, 5))))
		return db_fail(db, DB_ERR_STORE, "out of memory");
	for (int k = 0; k < 2; k++) {
		if (sqlite3_column_type(st, 6 + k) == SQLITE_NULL)
			break;
		if ((err = secret_open(db, sqlite3_column_blob(st, 6 + k), sqlite3_column_bytes(st, 6 + k),
		                       j->secret[k])) != DB_OK)
			return err;
		j->nsecrets++;
	}
	return DB_OK;
}

/* Whether id is one of the n of skip (a few dozen at most: a scan is enough). */
static int skipped(const int64_t *skip, int n, int64_t id)
{
	for (int i = 0; i < n; i++)
		if (skip[i] == id)
			return 1;
	return 0;
}

int db_webhook_due(struct db *db, int64_t now_ms, const int64_t *skip, int nskip,
                   struct db_webhook_job *jobs, int max, int *n, int64_t *next_ms)
{
	/* A delivery waits while an earlier event of its subject is pending at its endpoint. */
	static const char q[] =
		"SELECT d.id, d.endpoint_id, d.attempts, w.url, e.event_id, e.payload, w.secret_sealed,"
		" CASE WHEN w.previous_until_ms > ?1 THEN w.previous_sealed END"
		" FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id"
		" JOIN webhook_endpoints w ON w.id = d.endpoint_id"
		" WHERE d.status = 'pending' AND d.next_attempt_ms <= ?1 AND w.disabled_ms IS NULL"
		" AND NOT EXISTS (SELECT 1 FROM webhook_events e2 JOIN webhook_deliveries d2"
		"  ON d2.event_id = e2.id AND d2.endpoint_id = d.endpoint_id"
		"  WHERE e2.subject = e.subject AND e2.sequence < e.sequence AND d2.status = 'pending')"
		" ORDER BY d.next_attempt_ms, d.id LIMIT ?2";
	static const char next[] =
		"SELECT min(d.next_attempt_ms) FROM webhook_deliveries d"
		" JOIN webhook_endpoints w ON w.id = d.endpoint_id"
		" WHERE d.status = 'pending' AND w.disabled_ms IS NULL";
	sqlite3_stmt *st;
	int rc = SQLITE_DONE, err = DB_OK;

	*n = 0;
	*next_ms = 0;
	if (!(st = db_stmt(db, q)))
		return DB_ERR_STORE;
	sqlite3_bind_int64(st, 1, now_ms);
	/* The skipped are still pending and may be due: the limit leaves room for them. */
	sqlite3_bind_int(st, 2, max + nskip);
	while (err == DB_OK && *n < max && (rc = sqlite3_step(st)) == SQLITE_ROW)
		if (skipped(skip, nskip, sqlite3_column_int64(st, 0)))
			continue;
		else if ((err = job_read(db, st, &jobs[*n])) == DB_OK)
			(*n)++;
		else
			db_webhook_jobs_free(&jobs[*n], 1);
	sqlite3_reset(st);
	/* SQLITE_ROW: max were found before the last row. */
	if (err == DB_OK && rc != SQLITE_DONE && rc != SQLITE_ROW)
		err = db_fail_sql(db, "webhook deliveries");
	if (err == DB_OK && *n == 0) {
		if (!(st = db_stmt(db, next)))
			return DB_ERR_STORE;
		if ((rc = sqlite3_step(st)) == SQLITE_ROW)
			*next_ms = sqlite3_column_int64(st, 0);
		sqlite3_reset(st);
		if (rc != SQLITE_ROW)
			err = db_fail_sql(db, "webhook deliveries");
	}
	if (err != DB_OK) {
		db_webhook_jobs_free(jobs, *n);
		*n = 0;
	}
	return err;
}

int db_webhook_record(struct db *db, int64_t delivery_id, int64_t endpoint_id, int64_t started_ms,
                      int64_t now_ms, int http_status, int64_t retry_after_ms, const char *error)
{
	/*
	 * A removed endpoint's deliveries go with it, and a new delivery may
	 * take the id of one that was; endpoint ids are never reused.
	 */
	static const char get[] =
		"SELECT attempts, endpoint_id FROM webhook_deliveries"
		" WHERE id = ? AND endpoint_id = ? AND status = 'pending'";
	static const char attempt[] =
		"INSERT INTO webhook_attempts(delivery_id, at_ms, http_status, error, duration_ms)"
		" VALUES (?1, ?2, nullif(?3, 0), ?4, max(?5 - ?2, 0))";
	static const char upd[] =
		"UPDATE webhook_deliveries SET attempts = ?2, status = ?3, next_attempt_ms = ?4,"
		" last_attempt_ms = ?5, last_status = nullif(?6, 0), last_error = ?7,"
		" done_ms = CASE WHEN ?3 = 'pending' THEN NULL ELSE ?8 END WHERE id = ?1";
	static const char disable[] =
		"UPDATE webhook_endpoints SET disabled_ms = ?2, disabled_reason = '410 Gone' WHERE id = ?1";
	static const char fail_rest[] =
		"UPDATE webhook_deliveries SET status = 'failed', done_ms = ?2,"
		" last_error = 'the endpoint is disabled (410 Gone)'"
		" WHERE endpoint_id = ?1 AND status = 'pending'";
	const char *status = "pending";
	int64_t endpoint, wait, next = now_ms;
	sqlite3_stmt *st;
	int rc, attempts, err;

	if ((err = db_write_begin(db)) != DB_OK)
		return err;
	if (!(st = db_stmt(db, get))) {
		err = DB_ERR_STORE;
		goto fail;
	}
	sqlite3_bind_int64(st, 1, delivery_id);
	sqlite3_bind_int64(st, 2, endpoint_id);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		attempts = sqlite3_column_int(st, 0) + 1;
		endpoint = sqlite3_column_int64(st, 1);
	}
	sqlite3_reset(st);
	if (rc == SQLITE_DONE) /* removed, or re-queued by a retry, meanwhile */
		return db_write_commit(db);
	if (rc != SQLITE_ROW) {
		err = db_fail_sql(db, "webhook delivery");
		goto fail;
	}
	if (http_status >= 200 && http_status <= 299) {
		status = "delivered";
	} else if (http_status == 410) {
		status = "failed";
	} else {
		wait = db_webhook_retry_ms(attempts, db->config.webhook_retry_divisor,
		                           randombytes_uniform(1001) / 1000.0, retry_after_ms);
		if (wait < 0)
			status = "failed";
		else
			next = now_ms + wait;
	}
	if (!(st = db_stmt(db, attempt))) {
		err = DB_ERR_STORE;
		goto fail;
	}
	sqlite3_bind_int64(st, 1, delivery_id);
	sqlite3_bind_int64(st, 2, started_ms);
	sqlite3_bind_int(st, 3, http_status);
	sqlite3_bind_text(st, 4, error, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, now_ms);
	if ((err = run(db, st, "webhook attempt", NULL)) != DB_OK || !(st = db_stmt(db, upd))) {
		err = err ? err : DB_ERR_STORE;
		goto fail;
	}
	sqlite3_bind_int64(st, 1, delivery_id);
	sqlite3_bind_int(st, 2, attempts);
	sqlite3_bind_text(st, 3, status, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, next);
	sqlite3_bind_int64(st, 5, started_ms);
	sqlite3_bind_int(st, 6, http_status);
	sqlite3_bind_text(st, 7, error, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 8, now_ms);
	if ((err = run(db, st, "webhook delivery", NULL)) != DB_OK)
		goto fail;
	/* 410 Gone: the receiver says it will never want these again (Standard Webhooks). */
	if (http_status == 410 &&
	    ((err = run_ids(db, disable, endpoint, now_ms, "webhook endpoint", NULL)) != DB_OK ||
	     (err = run_ids(db, fail_rest, endpoint, now_ms, "webhook deliveries", NULL)) != DB_OK))
		goto fail;
	return db_write_commit(db);
fail:
	db_write_rollback(db);
	return err;
}
