/* outbox.c: the webhook events every change writes, in its own transaction, with a snapshot of what it changed. */
#include <sodium.h>

#include "internal.h"

/* A time in ms as ISO 8601 UTC with milliseconds (db_time_format's form); NULL stays NULL. */
#define ISO(x) "strftime('%Y-%m-%dT%H:%M:%S', " x " / 1000, 'unixepoch') || printf('.%03dZ', " x " % 1000)"
/* Minor units as the decimal string the API shows. */
#define MONEY(x) "printf('%d.%02d', " x " / 100, " x " % 100)"
/*
 * Joined and not gone: from the join until the relay's connection closes,
 * while the session lasts. A join is admitted a moment before its
 * connection is stored, so "connected" alone would show it absent.
 */
#define PRESENT(role)                                                                   \
	"json(CASE WHEN s.ended_ms IS NULL AND s." role "_joined_ms IS NOT NULL"            \
	" AND (EXISTS (SELECT 1 FROM presence p WHERE p.session_id = s.id"                  \
	"  AND p.participant = '" role "' AND p.left_ms IS NULL)"                           \
	"  OR NOT EXISTS (SELECT 1 FROM presence p WHERE p.session_id = s.id"               \
	"  AND p.participant = '" role "')) THEN 'true' ELSE 'false' END)"

/*
 * The sequence is read in the same statement that inserts, inside the
 * write lock, so two events of a subject never share a number.
 */
static const char session_sql[] =
	"WITH e AS MATERIALIZED (SELECT coalesce((SELECT max(sequence) FROM webhook_events"
	" WHERE subject = ?1), 0) + 1 AS seq)"
	" INSERT INTO webhook_events(event_id, type, subject, sequence, payload, created_ms)"
	" SELECT ?2, ?3, s.id, e.seq, json_object('id', ?2, 'type', ?3, 'timestamp', " ISO("?5") ","
	" 'sequence', e.seq, 'data', json_patch(json_object('session', json_object("
	"  'id', s.id, 'roomId', s.room_id, 'type', s.session_type, 'status', s.status,"
	"  'user', u.name, 'astrologer', a.name, 'paidMinutes', s.paid_minutes,"
	"  'price', " MONEY("s.price") ", 'commissionBps', b.commission_bps,"
	"  'scheduledStart', " ISO("s.scheduled_start_ms") ","
	"  'linkOpens', " ISO("s.link_opens_ms") ", 'linkValidUntil', " ISO("s.link_valid_until_ms") ","
	"  'userJoinedAt', " ISO("s.user_joined_ms") ","
	"  'astrologerJoinedAt', " ISO("s.astrologer_joined_ms") ","
	"  'startedAt', " ISO("s.started_ms") ","
	"  'deadline', " ISO("(s.started_ms + s.paid_minutes * ?6)") ","
	"  'endedAt', " ISO("s.ended_ms") ", 'endReason', s.end_reason, 'endedBy', s.ended_by,"
	"  'durationSeconds', s.duration_seconds,"
	"  'present', json_object('user', " PRESENT("user") ", 'astrologer', " PRESENT("astrologer") "),"
	"  'settlement', json(CASE WHEN t.id IS NOT NULL THEN json_object("
	"   'billedMinutes', t.billed_minutes, 'billedSeconds', t.billed_seconds,"
	"   'charged', " MONEY("t.charged") ", 'refunded', " MONEY("t.refunded") ","
	"   'commission', " MONEY("t.commission") ", 'earnings', " MONEY("t.released") ","
	"   'reason', s.end_reason, 'endedBy', s.ended_by) END))),"
	"  json_object('participant', ?4))), ?5"
	" FROM e, webrtc_sessions s JOIN bookings b ON b.id = s.booking_id"
	" JOIN users u ON u.id = b.user_id JOIN astrologers a ON a.id = b.astrologer_id"
	" LEFT JOIN settlements t ON t.session_id = s.id"
	" WHERE s.id = ?1 AND EXISTS (SELECT 1 FROM webhook_endpoints)";

static const char wallet_sql[] =
	"WITH e AS MATERIALIZED (SELECT coalesce((SELECT max(sequence) FROM webhook_events"
	" WHERE subject = 'user:' || ?1), 0) + 1 AS seq)"
	" INSERT INTO webhook_events(event_id, type, subject, sequence, payload, created_ms)"
	" SELECT ?2, ?3, 'user:' || u.id, e.seq, json_object('id', ?2, 'type', ?3,"
	" 'timestamp', " ISO("?5") ", 'sequence', e.seq, 'data', json_object('user', u.name,"
	"  'amount', " MONEY("?4") ", 'balance', " MONEY("w.balance") ","
	"  'frozen', " MONEY("f.balance") ")), ?5"
	" FROM e, users u JOIN accounts w ON w.user_id = u.id AND w.kind = 'wallet'"
	" JOIN accounts f ON f.user_id = u.id AND f.kind = 'frozen'"
	" WHERE u.id = ?1 AND EXISTS (SELECT 1 FROM webhook_endpoints)";

static const char *const hook_names[] = {
	[DB_HOOK_BOOKING_CREATED] = "booking.created",
	[DB_HOOK_BOOKING_CANCELLED] = "booking.cancelled",
	[DB_HOOK_PARTICIPANT_JOINED] = "participant.joined",
	[DB_HOOK_PARTICIPANT_LEFT] = "participant.left",
	[DB_HOOK_SESSION_STARTED] = "session.started",
	[DB_HOOK_SESSION_ENDED] = "session.ended",
	[DB_HOOK_SESSION_EXPIRED] = "session.expired",
	[DB_HOOK_WALLET_TOPPED_UP] = "wallet.topped_up",
};

int db_hook_event(struct db *db, enum db_hook type, const char *session_id, int role,
                  int64_t user_id, int64_t amount, int64_t now_ms)
{
	unsigned char raw[12];
	char id[DB_WEBHOOK_EVENT_ID_LEN + 1] = "msg_";
	sqlite3_stmt *st;
	int rc;

	/* Made here, not in SQL: the id appears twice in the row and must be one value. */
	randombytes_buf(raw, sizeof raw);
	sodium_bin2hex(id + 4, sizeof id - 4, raw, sizeof raw);
	if (!(st = db_stmt(db, type == DB_HOOK_WALLET_TOPPED_UP ? wallet_sql : session_sql)))
		return DB_ERR_STORE;
	if (type == DB_HOOK_WALLET_TOPPED_UP) {
		sqlite3_bind_int64(st, 1, user_id);
		sqlite3_bind_int64(st, 4, amount);
	} else {
		sqlite3_bind_text(st, 1, session_id, -1, SQLITE_STATIC);
		if (role >= 0)
			sqlite3_bind_text(st, 4, db_role_name((enum db_role)role), -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 6, db->config.minute_ms);
	}
	sqlite3_bind_text(st, 2, id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, hook_names[type], -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, now_ms);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? DB_OK : db_fail_sql(db, "webhook event");
}
