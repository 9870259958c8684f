/* account.c: customers, astrologers and their money: wallets, top-ups, earnings. */
#include <string.h>

#include "ledger.h"

/* Printable UTF-8 without control characters, 1..DB_NAME_MAX bytes. */
int db_name_ok(const char *name)
{
	size_t len = name ? strnlen(name, DB_NAME_MAX + 1) : 0;

	if (len == 0 || len > DB_NAME_MAX)
		return 0;
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return 0;
	return 1;
}

static int person_add(struct db *db, const char *sql, const char *what,
                      const char *name, int64_t now_ms, int64_t *id)
{
	sqlite3_stmt *st;

	if (!db_name_ok(name))
		return db_fail(db, DB_ERR_INVALID, "a %s name is 1 to %d printable characters",
		               what, DB_NAME_MAX);
	if (!(st = db_stmt(db, sql)))
		return DB_ERR_STORE;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now_ms);
	if (sqlite3_step(st) != SQLITE_DONE) {
		if (sqlite3_extended_errcode(db->sql) == SQLITE_CONSTRAINT_UNIQUE)
			return db_fail(db, DB_ERR_EXISTS, "%s '%s' already exists", what, name);
		return db_fail_sql(db, what);
	}
	*id = sqlite3_last_insert_rowid(db->sql);
	return DB_OK;
}

/* The id of a person by name, from a statement "SELECT id FROM <table> WHERE name = ?". */
static int person_id(struct db *db, const char *sql, const char *what, const char *name,
                     int64_t *id)
{
	sqlite3_stmt *st = db_stmt(db, sql);
	int rc;

	if (!st)
		return DB_ERR_STORE;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		*id = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return DB_OK;
	if (rc == SQLITE_DONE)
		return db_fail(db, DB_ERR_NOT_FOUND, "no %s '%s'", what, name ? name : "");
	return db_fail_sql(db, what);
}

int db_user_id(struct db *db, const char *name, int64_t *id)
{
	return person_id(db, "SELECT id FROM users WHERE name = ?", "user", name, id);
}

int db_astrologer_id(struct db *db, const char *name, int64_t *id)
{
	return person_id(db, "SELECT id FROM astrologers WHERE name = ?", "astrologer", name, id);
}

/* Money enters a wallet from the funding account, so the ledger still sums to zero. */
static int topup(struct db *db, int64_t uid, int64_t amount, const char *reference,
                 int64_t now_ms)
{
	static const char ref[] = "UPDATE ledger_transactions SET reference = ? WHERE id = ?";
	struct ledger_leg legs[2];
	sqlite3_stmt *st;
	int64_t txn;
	int err, rc;

	if ((err = ledger_account(db, LEDGER_FUNDING, 0, &legs[0].account)) ||
	    (err = ledger_account(db, LEDGER_WALLET, uid, &legs[1].account)))
		return err;
	legs[0].amount = -amount;
	legs[1].amount = amount;
	if ((err = ledger_move(db, "topup", NULL, legs, 2, now_ms, &txn)) != DB_OK)
		return err;
	if (reference) {
		if (!(st = db_stmt(db, ref)))
			return DB_ERR_STORE;
		sqlite3_bind_text(st, 1, reference, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, txn);
		rc = sqlite3_step(st);
		sqlite3_reset(st);
		if (rc != SQLITE_DONE)
			return db_fail_sql(db, "reference");
	}
	return db_hook_event(db, DB_HOOK_WALLET_TOPPED_UP, NULL, -1, uid, amount, now_ms);
}

int db_user_add(struct db *db, const char *name, int64_t balance, int64_t now_ms)
{
	int64_t id;
	int err;

	if (balance < 0 || balance > DB_AMOUNT_MAX)
		return db_fail(db, DB_ERR_INVALID, "a balance is 0 to %d.00", DB_AMOUNT_MAX / 100);
	if ((err = db_write_begin(db)) != DB_OK)
		return err;
	if ((err = person_add(db, "INSERT INTO users(name, created_ms) VALUES (?, ?)",
	                      "user", name, now_ms, &id)) != DB_OK ||
	    (balance && (err = topup(db, id, balance, NULL, now_ms)) != DB_OK))
		goto fail;
	return db_write_commit(db);
fail:
	db_write_rollback(db);
	return err;
}

int db_astrologer_add(struct db *db, const char *name, int64_t now_ms)
{
	int64_t id;
	int err;

	if ((err = db_write_begin(db)) != DB_OK)
		return err;
	if ((err = person_add(db, "INSERT INTO astrologers(name, created_ms) VALUES (?, ?)",
	                      "astrologer", name, now_ms, &id)) != DB_OK)
		goto fail;
	return db_write_commit(db);
fail:
	db_write_rollback(db);
	return err;
}

int db_wallet_topup(struct db *db, const char *user, int64_t amount, const char *reference,
                    int64_t now_ms)
{
	int64_t uid, wallet, balance;
	int err;

	if (amount <= 0 || amount > DB_AMOUNT_MAX)
		return db_fail(db, DB_ERR_INVALID, "a top-up is 0.01 to %d.00", DB_AMOUNT_MAX / 100);
	if (reference && !db_name_ok(reference))
		return db_fail(db, DB_ERR_INVALID, "a reference is 1 to %d printable characters",
		               DB_NAME_MAX);
	if ((err = db_write_begin(db)) != DB_OK)
		return err;
	if ((err = db_user_id(db, user, &uid)) != DB_OK ||
	    (err = ledger_account(db, LEDGER_WALLET, uid, &wallet)) != DB_OK ||
	    (err = ledger_balance(db, wallet, &balance)) != DB_OK)
		goto fail;
	if (balance + amount > DB_AMOUNT_MAX * 10LL) {
		err = db_fail(db, DB_ERR_INVALID, "the wallet would exceed %lld.00",
		              DB_AMOUNT_MAX * 10LL / 100);
		goto fail;
	}
	if ((err = topup(db, uid, amount, reference, now_ms)) != DB_OK)
		goto fail;
	return db_write_commit(db);
fail:
	db_write_rollback(db);
	return err;
}

int db_wallet_show(struct db *db, const char *user, int64_t *balance, int64_t *frozen)
{
	int64_t uid, wallet, held;
	int err, own = sqlite3_get_autocommit(db->sql);

	/* One snapshot, so a booking in flight never shows its money twice (a caller's transaction is one). */
	if (own && sqlite3_exec(db->sql, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		return db_fail_sql(db, "begin");
	if ((err = db_user_id(db, user, &uid)) ||
	    (err = ledger_account(db, LEDGER_WALLET, uid, &wallet)) ||
	    (err = ledger_account(db, LEDGER_FROZEN, uid, &held)) ||
	    (err = ledger_balance(db, wallet, balance)))
		goto done;
	err = ledger_balance(db, held, frozen);
done:
	if (own)
		sqlite3_exec(db->sql, "COMMIT", NULL, NULL, NULL);
	return err;
}

int db_earnings_show(struct db *db, const char *astrologer, int64_t *earnings)
{
	int64_t aid, account;
	int err;

	if ((err = db_astrologer_id(db, astrologer, &aid)) ||
	    (err = ledger_account(db, LEDGER_EARNINGS, aid, &account)))
		return err;
	return ledger_balance(db, account, earnings);
}
