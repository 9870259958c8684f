/* ledger.c: double-entry movements and the check that the money adds up. */
#include <stdio.h>
#include <string.h>

#include "ledger.h"

static const char *const account_kinds[] = {
	[LEDGER_WALLET] = "wallet", [LEDGER_FROZEN] = "frozen",
	[LEDGER_EARNINGS] = "earnings", [LEDGER_PLATFORM] = "platform",
	[LEDGER_FUNDING] = "funding",
};

int ledger_account(struct db *db, enum ledger_account kind, int64_t owner,
                   int64_t *id)
{
	static const char q[] =
		"SELECT id FROM accounts WHERE kind = ?1 AND CASE ?1"
		" WHEN 'earnings' THEN astrologer_id = ?2"
		" WHEN 'wallet' THEN user_id = ?2 WHEN 'frozen' THEN user_id = ?2"
		" ELSE 1 END";
	sqlite3_stmt *st = db_stmt(db, q);
	int rc;

	if (!st)
		return DB_ERR_STORE;
	sqlite3_bind_text(st, 1, account_kinds[kind], -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, owner);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*id = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return DB_OK;
	if (rc == SQLITE_DONE)
		return db_fail(db, DB_ERR_NOT_FOUND, "no %s account", account_kinds[kind]);
	return db_fail_sql(db, "account");
}

int ledger_balance(struct db *db, int64_t account, int64_t *balance)
{
	sqlite3_stmt *st = db_stmt(db, "SELECT balance FROM accounts WHERE id = ?");
	int rc;

	if (!st)
		return DB_ERR_STORE;
	sqlite3_bind_int64(st, 1, account);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*balance = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? DB_OK : db_fail_sql(db, "balance");
}

int ledger_move(struct db *db, const char *kind, const char *session_id,
                const struct ledger_leg *legs, int n, int64_t now_ms,
                int64_t *txn_id)
{
	sqlite3_stmt *st;
	int64_t sum = 0;

	for (int i = 0; i < n; i++)
		sum += legs[i].amount;
	if (sum != 0)
		return db_fail(db, DB_ERR_INVALID, "a %s movement does not balance", kind);
	if (!(st = db_stmt(db, "INSERT INTO ledger_transactions(kind, session_id, created_ms)"
	                       " VALUES (?, ?, ?)")))
		return DB_ERR_STORE;
	sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
	if (session_id)
		sqlite3_bind_text(st, 2, session_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, now_ms);
	if (sqlite3_step(st) != SQLITE_DONE)
		return db_fail_sql(db, "ledger transaction");
	*txn_id = sqlite3_last_insert_rowid(db->sql);
	for (int i = 0; i < n; i++) {
		if (legs[i].amount == 0)
			continue;
		if (!(st = db_stmt(db, "INSERT INTO ledger_entries(txn_id, account_id, amount)"
		                       " VALUES (?, ?, ?)")))
			return DB_ERR_STORE;
		sqlite3_bind_int64(st, 1, *txn_id);
		sqlite3_bind_int64(st, 2, legs[i].account);
		sqlite3_bind_int64(st, 3, legs[i].amount);
		if (sqlite3_step(st) != SQLITE_DONE) {
			if (sqlite3_extended_errcode(db->sql) == SQLITE_CONSTRAINT_CHECK)
				return db_fail(db, DB_ERR_FUNDS, "the available balance is short");
			return db_fail_sql(db, "ledger entry");
		}
	}
	return DB_OK;
}

/*
 * Each query returns one row per problem: a description to report. A
 * session is over when it has an end time (the schema ties the two).
 */
static const char *const checks[] = {
	"SELECT 'transaction ' || txn_id || ' sums to ' || sum(amount)"
	" FROM ledger_entries GROUP BY txn_id HAVING sum(amount) <> 0",

	"SELECT 'account ' || a.id || ' (' || a.kind || ') holds ' || a.balance"
	" || ' but its entries sum to ' || coalesce(e.total, 0)"
	" FROM accounts a LEFT JOIN (SELECT account_id, sum(amount) AS total"
	" FROM ledger_entries GROUP BY account_id) e ON e.account_id = a.id"
	" WHERE a.balance <> coalesce(e.total, 0)",

	"SELECT 'all accounts sum to ' || sum(balance) FROM accounts"
	" HAVING sum(balance) <> 0",

	"SELECT 'user ' || u.name || ' has ' || a.balance || ' frozen but open"
	" bookings hold ' || coalesce(h.held, 0)"
	" FROM users u JOIN accounts a ON a.user_id = u.id AND a.kind = 'frozen'"
	" LEFT JOIN (SELECT b.user_id, sum(s.price) AS held FROM webrtc_sessions s"
	" JOIN bookings b ON b.id = s.booking_id"
	" WHERE s.ended_ms IS NULL GROUP BY b.user_id) h"
	" ON h.user_id = u.id WHERE a.balance <> coalesce(h.held, 0)",

	"SELECT 'session ' || s.id || ' (' || s.status || ') has '"
	" || count(t.id) || ' settlements'"
	" FROM webrtc_sessions s LEFT JOIN settlements t ON t.session_id = s.id"
	" GROUP BY s.id HAVING count(t.id) <> (s.ended_ms IS NOT NULL)",

	"SELECT 'session ' || s.id || ' settled ' || t.charged || ' + '"
	" || t.refunded || ' of a price of ' || s.price"
	" FROM settlements t JOIN webrtc_sessions s ON s.id = t.session_id"
	" WHERE t.charged + t.refunded <> s.price",

	"SELECT 'session ' || s.id || ' has ' || count(x.id)"
	" || ' freeze or settle transactions'"
	" FROM webrtc_sessions s LEFT JOIN ledger_transactions x"
	" ON x.session_id = s.id"
	" GROUP BY s.id HAVING count(x.id) <> 1 + (s.ended_ms IS NOT NULL)",
};

int db_ledger_check(struct db *db, db_problem_cb *cb, void *arg, int *problems)
{
	sqlite3_stmt *st = NULL;
	int rc, err = DB_OK;

	*problems = 0;
	/* One read transaction: every check sees the same snapshot. */
	if (sqlite3_exec(db->sql, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		return db_fail_sql(db, "begin");
	for (size_t i = 0; i < sizeof checks / sizeof checks[0]; i++) {
		if (sqlite3_prepare_v2(db->sql, checks[i], -1, &st, NULL) != SQLITE_OK) {
			err = db_fail_sql(db, "ledger check");
			goto done;
		}
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			(*problems)++;
			if (cb)
				cb(arg, (const char *)sqlite3_column_text(st, 0));
		}
		if (rc != SQLITE_DONE)
			err = db_fail_sql(db, "ledger check");
		sqlite3_finalize(st);
		if (err)
			goto done;
	}
done:
	sqlite3_exec(db->sql, "COMMIT", NULL, NULL, NULL);
	return err;
}
