/* booking.c: booking a session (freezing its price) and issuing its join links. */
#include <stdio.h>
#include <string.h>

#include "ledger.h"

/* Sets one participant's digest; the old token stops matching at once. */
static int link_store(struct db *db, const char *session_id, enum db_role role,
                      char token[DB_TOKEN_LEN + 1])
{
	static const char upd[] =
		"UPDATE webrtc_sessions SET"
		" user_token_digest = CASE WHEN ?2 = 0 THEN ?3 ELSE user_token_digest END,"
		" astrologer_token_digest = CASE WHEN ?2 = 1 THEN ?3 ELSE astrologer_token_digest END"
		" WHERE id = ?1";
	unsigned char digest[DB_DIGEST_LEN];
	sqlite3_stmt *st;
	int err;

	if ((err = db_token_new(db, token, digest)) != DB_OK)
		return err;
	if (!(st = db_stmt(db, upd)))
		return DB_ERR_STORE;
	sqlite3_bind_text(st, 1, session_id, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, role);
	sqlite3_bind_blob(st, 3, digest, sizeof digest, SQLITE_TRANSIENT);
	if (sqlite3_step(st) != SQLITE_DONE)
		return db_fail_sql(db, "link");
	if (sqlite3_changes(db->sql) != 1)
		return db_fail(db, DB_ERR_NOT_FOUND, "no such session");
	return DB_OK;
}

int db_book(struct db *db, const struct db_booking_req *req, int64_t now_ms,
            struct db_booking *out)
{
	static const char ins[] =
		"INSERT INTO bookings(user_id, astrologer_id, session_type, paid_minutes,"
		" price, commission_bps, scheduled_start_ms, link_opens_ms,"
		" link_valid_until_ms, created_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
	static const char sid[] = "SELECT id FROM webrtc_sessions WHERE booking_id = ?";
	const struct db_config *c = &db->config;
	struct ledger_leg legs[2];
	int64_t uid, aid, balance, txn, booking, opens_ms, valid_until_ms;
	char session_id[DB_ID_LEN + 1];
	sqlite3_stmt *st;
	int err;

	memset(out, 0, sizeof *out);
	if (req->type > DB_TYPE_VIDEO || (int)req->type < 0)
		return db_fail(db, DB_ERR_INVALID, "the type is chat, voice or video");
	if (req->minutes < 1 || req->minutes > DB_MINUTES_MAX)
		return db_fail(db, DB_ERR_INVALID, "a session lasts 1 to %d minutes", DB_MINUTES_MAX);
	if (req->price < 0 || req->price > DB_AMOUNT_MAX)
		return db_fail(db, DB_ERR_INVALID, "a price is 0.00 to %d.00", DB_AMOUNT_MAX / 100);
	if ((err = db_write_begin(db)) != DB_OK)
		return err;
	if ((err = db_user_id(db, req->user, &uid)) ||
	    (err = db_astrologer_id(db, req->astrologer, &aid)) ||
	    (err = ledger_account(db, LEDGER_WALLET, uid, &legs[0].account)) ||
	    (err = ledger_account(db, LEDGER_FROZEN, uid, &legs[1].account)) ||
	    (err = ledger_balance(db, legs[0].account, &balance)))
		goto fail;
	if (balance < req->price) {
		err = db_fail(db, DB_ERR_FUNDS, "the available balance is short");
		goto fail;
	}
	if (!(st = db_stmt(db, ins))) {
		err = DB_ERR_STORE;
		goto fail;
	}
	sqlite3_bind_int64(st, 1, uid);
	sqlite3_bind_int64(st, 2, aid);
	sqlite3_bind_text(st, 3, db_type_name(req->type), -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, req->minutes);
	sqlite3_bind_int64(st, 5, req->price);
	sqlite3_bind_int(st, 6, c->commission_bps);
	sqlite3_bind_int64(st, 7, req->starts_ms);
	db_link_window(c, req->starts_ms, req->minutes, &opens_ms, &valid_until_ms);
	sqlite3_bind_int64(st, 8, opens_ms);
	sqlite3_bind_int64(st, 9, valid_until_ms);
	sqlite3_bind_int64(st, 10, now_ms);
	if (sqlite3_step(st) != SQLITE_DONE) {
		err = db_fail_sql(db, "booking");
		goto fail;
	}
	booking = sqlite3_last_insert_rowid(db->sql);

	/* The insert's trigger made the room; find it. */
	if (!(st = db_stmt(db, sid))) {
		err = DB_ERR_STORE;
		goto fail;
	}
	sqlite3_bind_int64(st, 1, booking);
	if (sqlite3_step(st) != SQLITE_ROW) {
		err = db_fail_sql(db, "room");
		sqlite3_reset(st);
		goto fail;
	}
	snprintf(session_id, sizeof session_id, "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_reset(st);

	legs[0].amount = -req->price;
	legs[1].amount = req->price;
	if ((err = ledger_move(db, "freeze", session_id, legs, 2, now_ms, &txn)) ||
	    (err = link_store(db, session_id, DB_ROLE_USER, out->user_token)) ||
	    (err = link_store(db, session_id, DB_ROLE_ASTROLOGER, out->astrologer_token)) ||
	    (err = db_hook_event(db, DB_HOOK_BOOKING_CREATED, session_id, -1, 0, 0, now_ms)) ||
	    (err = db_session_get(db, session_id, &out->session)))
		goto fail;
	if ((err = db_write_commit(db)) != DB_OK)
		goto fail_wipe;
	return DB_OK;
fail:
	db_write_rollback(db);
fail_wipe:
	memset(out, 0, sizeof *out); /* no token for a booking that did not happen */
	return err;
}

int db_link_reissue(struct db *db, const char *session_id, enum db_role role,
                    int64_t now_ms, char token[DB_TOKEN_LEN + 1])
{
	struct db_session s;
	int err;

	if ((err = db_write_begin(db)) != DB_OK)
		return err;
	if ((err = db_session_get_open(db, session_id, &s)) != DB_OK ||
	    (err = link_store(db, session_id, role, token)) != DB_OK ||
	    (err = db_event_add(db, session_id, "link_reissued", role, NULL, now_ms)) != DB_OK)
		goto fail;
	if ((err = db_write_commit(db)) != DB_OK)
		goto fail_wipe;
	return DB_OK;
fail:
	db_write_rollback(db);
fail_wipe:
	memset(token, 0, DB_TOKEN_LEN + 1);
	return err;
}
