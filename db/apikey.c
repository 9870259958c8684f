/* apikey.c: the booking API's keys, the audit of their calls, and Idempotency-Key records. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "internal.h"

#define APIKEY_PREFIX "sk_"

int db_apikey_add(struct db *db, const char *name, int64_t now_ms, char key[DB_APIKEY_LEN + 1])
{
	static const char ins[] = "INSERT INTO api_keys(name, digest, created_ms) VALUES (?, ?, ?)";
	unsigned char digest[DB_DIGEST_LEN];
	sqlite3_stmt *st;
	int err;

	memset(key, 0, DB_APIKEY_LEN + 1);
	if (!db_name_ok(name))
		return db_fail(db, DB_ERR_INVALID, "a key name is 1 to %d printable characters",
		               DB_NAME_MAX);
	/* The random part is a join token's shape, so the one key file digests both. */
	memcpy(key, APIKEY_PREFIX, sizeof APIKEY_PREFIX - 1);
	if ((err = db_token_new(db, key + sizeof APIKEY_PREFIX - 1, digest)) != DB_OK)
		goto fail;
	if (!(st = db_stmt(db, ins))) {
		err = DB_ERR_STORE;
		goto fail;
	}
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, digest, sizeof digest, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 3, now_ms);
	if (sqlite3_step(st) != SQLITE_DONE) {
		err = sqlite3_extended_errcode(db->sql) == SQLITE_CONSTRAINT_UNIQUE ?
			db_fail(db, DB_ERR_EXISTS, "a key named '%s' exists", name) :
			db_fail_sql(db, "api key");
		sqlite3_reset(st);
		goto fail;
	}
	sqlite3_reset(st);
	return DB_OK;
fail:
	sodium_memzero(key, DB_APIKEY_LEN + 1); /* no key for a row that was not written */
	return err;
}

int db_apikey_revoke(struct db *db, const char *name, int64_t now_ms)
{
	static const char upd[] =
		"UPDATE api_keys SET revoked_ms = ?2 WHERE name = ?1 AND revoked_ms IS NULL";
	static const char known[] = "SELECT 1 FROM api_keys WHERE name = ?";
	sqlite3_stmt *st;
	int err, rc;

	if ((err = db_write_begin(db)) != DB_OK)
		return err;
	if (!(st = db_stmt(db, upd))) {
		err = DB_ERR_STORE;
		goto fail;
	}
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now_ms);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		err = db_fail_sql(db, "revoke");
		goto fail;
	}
	if (sqlite3_changes(db->sql) == 1)
		return db_write_commit(db);
	if (!(st = db_stmt(db, known))) {
		err = DB_ERR_STORE;
		goto fail;
	}
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	err = rc == SQLITE_ROW ? db_fail(db, DB_ERR_STATE, "the key '%s' is already revoked", name) :
	      rc == SQLITE_DONE ? db_fail(db, DB_ERR_NOT_FOUND, "no key named '%s'", name) :
	      db_fail_sql(db, "revoke");
fail:
	db_write_rollback(db);
	return err;
}

int db_apikey_list(struct db *db, db_apikey_cb *cb, void *arg)
{
	static const char q[] =
		"SELECT k.id, k.name, k.created_ms, k.revoked_ms,"
		" (SELECT max(a.at_ms) FROM api_audit a WHERE a.key_name = k.name)"
		" FROM api_keys k ORDER BY k.id";
	sqlite3_stmt *st = db_stmt(db, q);
	struct db_apikey k;
	int rc;

	if (!st)
		return DB_ERR_STORE;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&k, 0, sizeof k);
		k.id = sqlite3_column_int64(st, 0);
		snprintf(k.name, sizeof k.name, "%s", (const char *)sqlite3_column_text(st, 1));
		k.created_ms = sqlite3_column_int64(st, 2);
		k.revoked_ms = sqlite3_column_int64(st, 3);
		k.last_used_ms = sqlite3_column_int64(st, 4);
		cb(arg, &k);
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? DB_OK : db_fail_sql(db, "api keys");
}

int db_apikey_verify(struct db *db, const char *key, struct db_apikey *out)
{
	static const char q[] =
		"SELECT id, name, created_ms, revoked_ms FROM api_keys WHERE digest = ?";
	unsigned char digest[DB_DIGEST_LEN];
	sqlite3_stmt *st;
	int rc;

	memset(out, 0, sizeof *out);
	/* Only the exact shape gets a digest; the lookup is by digest, so no comparison leaks time. */
	if (!key || strncmp(key, APIKEY_PREFIX, sizeof APIKEY_PREFIX - 1) != 0 ||
	    db_token_digest(db, key + sizeof APIKEY_PREFIX - 1, digest) != DB_OK)
		return db_fail(db, DB_ERR_NOT_FOUND, "not an API key");
	if (!(st = db_stmt(db, q)))
		return DB_ERR_STORE;
	sqlite3_bind_blob(st, 1, digest, sizeof digest, SQLITE_TRANSIENT);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		out->id = sqlite3_column_int64(st, 0);
		snprintf(out->name, sizeof out->name, "%s", (const char *)sqlite3_column_text(st, 1));
		out->created_ms = sqlite3_column_int64(st, 2);
		out->revoked_ms = sqlite3_column_int64(st, 3);
	}
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return DB_OK;
	if (rc == SQLITE_DONE)
		return db_fail(db, DB_ERR_NOT_FOUND, "no such API key");
	return db_fail_sql(db, "api key");
}

int db_audit_add(struct db *db, const char *key_name, const char *method, const char *path,
                 int status, int64_t now_ms)
{
	static const char ins[] =
		"INSERT INTO api_audit(key_name, method, path, status, at_ms) VALUES (?, ?, ?, ?, ?)";
	sqlite3_stmt *st = db_stmt(db, ins);
	int rc;

	if (!st)
		return DB_ERR_STORE;
	if (key_name)
		sqlite3_bind_text(st, 1, key_name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, method, (int)strnlen(method, 16), SQLITE_STATIC);
	sqlite3_bind_text(st, 3, path, (int)strnlen(path, 512), SQLITE_STATIC);
	sqlite3_bind_int(st, 4, status);
	sqlite3_bind_int64(st, 5, now_ms);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? DB_OK : db_fail_sql(db, "audit");
}

/* The key that seals stored answers: derived from the token key, so it too lives outside the database. */
static void idem_seal_key(const struct db *db, unsigned char k[crypto_secretbox_KEYBYTES])
{
	static const char ctx[] = "sessions: stored API answers";

	crypto_generichash(k, crypto_secretbox_KEYBYTES, (const unsigned char *)ctx,
	                   sizeof ctx - 1, db->key, sizeof db->key);
}

/* Opens a stored answer into a malloc'd NUL-terminated string. */
static int idem_unseal(struct db *db, const unsigned char *blob, size_t len, char **out)
{
	unsigned char k[crypto_secretbox_KEYBYTES];
	size_t plain;
	char *text;
	int err = DB_OK;

	*out = NULL;
	if (len < crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES)
		return db_fail(db, DB_ERR_STORE, "a stored answer is cut short");
	plain = len - crypto_secretbox_NONCEBYTES - crypto_secretbox_MACBYTES;
	if (!(text = malloc(plain + 1)))
		return db_fail(db, DB_ERR_STORE, "out of memory");
	idem_seal_key(db, k);
	if (crypto_secretbox_open_easy((unsigned char *)text, blob + crypto_secretbox_NONCEBYTES,
	                               len - crypto_secretbox_NONCEBYTES, blob, k) != 0) {
		err = db_fail(db, DB_ERR_STORE, "a stored answer does not open with this key");
		free(text);
		text = NULL;
	} else {
		text[plain] = '\0';
	}
	sodium_memzero(k, sizeof k);
	*out = text;
	return err;
}

/* What the key stands for: the action and its input, so one key cannot stand for two requests. */
static void idem_request_digest(const struct db_idem_req *q, unsigned char d[32])
{
	crypto_hash_sha256_state h;

	crypto_hash_sha256_init(&h);
	crypto_hash_sha256_update(&h, (const unsigned char *)q->action, strlen(q->action) + 1);
	crypto_hash_sha256_update(&h, (const unsigned char *)q->body, q->body_len);
	crypto_hash_sha256_final(&h, d);
}

int db_idem_claim(struct db *db, const struct db_idem_req *q, int64_t now_ms,
                  struct db_idem *out)
{
	static const char purge[] = "DELETE FROM api_idempotency WHERE created_ms <= ?";
	static const char get[] =
		"SELECT request, claimed_ms, status, response FROM api_idempotency"
		" WHERE key_id = ? AND idem_key = ?";
	static const char put[] =
		"INSERT INTO api_idempotency(key_id, idem_key, request, claim, claimed_ms, created_ms)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?5) ON CONFLICT (key_id, idem_key) DO UPDATE"
		" SET request = ?3, claim = ?4, claimed_ms = ?5, created_ms = ?5,"
		" status = NULL, response = NULL";
	unsigned char digest[32];
	sqlite3_stmt *st;
	int err, rc;

	memset(out, 0, sizeof *out);
	idem_request_digest(q, digest);
	if ((err = db_write_begin(db)) != DB_OK)
		return err;
	if (!(st = db_stmt(db, purge))) {
		err = DB_ERR_STORE;
		goto fail;
	}
	sqlite3_bind_int64(st, 1, now_ms - DB_IDEM_KEEP_MS);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE || !(st = db_stmt(db, get))) {
		err = rc != SQLITE_DONE ? db_fail_sql(db, "idempotency") : DB_ERR_STORE;
		goto fail;
	}
	sqlite3_bind_int64(st, 1, q->key_id);
	sqlite3_bind_text(st, 2, q->idem_key, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		int same = sqlite3_column_bytes(st, 0) == (int)sizeof digest &&
		           memcmp(sqlite3_column_blob(st, 0), digest, sizeof digest) == 0;
		int64_t claimed = sqlite3_column_int64(st, 1);

		if (!same) {
			out->state = DB_IDEM_MISMATCH;
		} else if (sqlite3_column_type(st, 2) != SQLITE_NULL) {
			out->state = DB_IDEM_DONE;
			out->status = sqlite3_column_int(st, 2);
			err = idem_unseal(db, sqlite3_column_blob(st, 3),
			                  (size_t)sqlite3_column_bytes(st, 3), &out->body);
		} else if (now_ms - claimed < DB_IDEM_LEASE_MS) {
			out->state = DB_IDEM_RUNNING;
		}
		/* A claim past its lease belongs to a request that died: it is taken over below. */
	} else if (rc != SQLITE_DONE) {
		err = db_fail_sql(db, "idempotency");
	}
	sqlite3_reset(st);
	if (err != DB_OK)
		goto fail;
	if (out->state != DB_IDEM_NEW)
		return db_write_commit(db);

	randombytes_buf(out->claim, sizeof out->claim);
	if (!(st = db_stmt(db, put))) {
		err = DB_ERR_STORE;
		goto fail;
	}
	sqlite3_bind_int64(st, 1, q->key_id);
	sqlite3_bind_text(st, 2, q->idem_key, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 3, digest, sizeof digest, SQLITE_TRANSIENT);
	sqlite3_bind_blob(st, 4, out->claim, sizeof out->claim, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 5, now_ms);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		err = db_fail_sql(db, "idempotency");
		goto fail;
	}
	if ((err = db_write_commit(db)) != DB_OK)
		goto fail_clear;
	return DB_OK;
fail:
	db_write_rollback(db);
fail_clear:
	free(out->body);
	memset(out, 0, sizeof *out);
	return err;
}

int db_idem_finish(struct db *db, const struct db_idem_req *q, const struct db_idem *claim,
                   int status, const char *body)
{
	static const char upd[] =
		"UPDATE api_idempotency SET status = ?4, response = ?5"
		" WHERE key_id = ?1 AND idem_key = ?2 AND claim = ?3 AND status IS NULL";
	unsigned char k[crypto_secretbox_KEYBYTES];
	size_t len = strlen(body);
	size_t blen = crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + len;
	unsigned char *blob;
	sqlite3_stmt *st;
	int err = DB_OK, rc;

	if (!(blob = malloc(blen)))
		return db_fail(db, DB_ERR_STORE, "out of memory");
	randombytes_buf(blob, crypto_secretbox_NONCEBYTES);
	idem_seal_key(db, k);
	crypto_secretbox_easy(blob + crypto_secretbox_NONCEBYTES, (const unsigned char *)body, len,
	                      blob, k);
	sodium_memzero(k, sizeof k);
	if (!(st = db_stmt(db, upd))) {
		err = DB_ERR_STORE;
		goto done;
	}
	sqlite3_bind_int64(st, 1, q->key_id);
	sqlite3_bind_text(st, 2, q->idem_key, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 3, claim->claim, sizeof claim->claim, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 4, status);
	sqlite3_bind_blob(st, 5, blob, (int)blen, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		err = db_fail_sql(db, "idempotency");
	else if (sqlite3_changes(db->sql) != 1)
		err = db_fail(db, DB_ERR_STATE, "another request took this Idempotency-Key over");
done:
	free(blob);
	return err;
}

int db_idem_release(struct db *db, const struct db_idem_req *q, const struct db_idem *claim)
{
	static const char del[] =
		"DELETE FROM api_idempotency"
		" WHERE key_id = ?1 AND idem_key = ?2 AND claim = ?3 AND status IS NULL";
	sqlite3_stmt *st = db_stmt(db, del);
	int rc;

	if (!st)
		return DB_ERR_STORE;
	sqlite3_bind_int64(st, 1, q->key_id);
	sqlite3_bind_text(st, 2, q->idem_key, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 3, claim->claim, sizeof claim->claim, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? DB_OK : db_fail_sql(db, "idempotency");
}
