/* internal.h: what the library's own files share: the connection, errors, transactions. */
#ifndef SESSIONS_INTERNAL_H
#define SESSIONS_INTERNAL_H

#include <sqlite3.h>

#include "db.h"

#define DB_KEY_LEN 32
#define DB_DIGEST_LEN DB_LINK_FP_LEN

#define DB_STMT_CACHE 64

/* A room's chat as the current transaction sees it (chat.c). */
struct db_chat_room {
	char session_id[DB_ID_LEN + 1];
	int64_t id;              /* its chat_rooms row; 0 until its first message */
	int open;                /* the session has not ended */
	enum db_status status;
	int64_t next_seq;
	int64_t messages[2], bytes[2]; /* by enum db_role: what each has stored */
	int unsaved;             /* the totals grew since read: chat_rooms gets them before the commit */
};
#define DB_CHAT_ROOMS 64

/* Writes the totals of the transaction's rooms into chat_rooms; every commit calls it first. */
int db_chat_rooms_save(struct db *db);

struct db {
	sqlite3 *sql;                      /* owned: closed by db_close */
	struct {
		const char *sql;           /* a string literal: not owned */
		sqlite3_stmt *st;          /* owned: finalized by db_close */
	} stmts[DB_STMT_CACHE];
	int nstmts;
	unsigned char key[DB_KEY_LEN];     /* token key; wiped by db_close */
	struct db_config config;
	int in_tx;                         /* a caller's db_tx_begin is open */
	int chat_file;                     /* main is the chat file, the database is attached as "money" */
	struct db_chat_room chat_rooms[DB_CHAT_ROOMS]; /* the current transaction's rooms; */
	int nchat_rooms;                   /* emptied when a transaction begins or ends */
	int64_t busy_since_us;             /* when the current lock wait began */
	int busy_timeout_ms;               /* how long a lock wait may last */
	uint32_t busy_rand;                /* xorshift state for the naps: no syscall per nap */
	int64_t data_version;              /* last PRAGMA data_version seen by db_changed */
	int wal_frames;                    /* the WAL's frames after this handle's last commit, when deferred */
	char recordings_dir[1100];         /* X.db -> X-recordings; "" for the chat file's handle */
	char errmsg[256];
};

/* Records why a call failed; returns err so callers can `return db_fail(...)`. */
int db_fail(struct db *db, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Maps an SQLite result to DB_ERR_BUSY or DB_ERR_STORE with its message. */
int db_fail_sql(struct db *db, const char *what);
/* The file system's refusal in errno, about what: DB_ERR_FULL for a full disk (as SQLite's is told apart), else DB_ERR_STORE. */
int db_fail_fs(struct db *db, const char *what);

/*
 * A statement prepared once per connection, reset and unbound. The cache
 * is keyed by the SQL text's address, so callers pass string literals,
 * and reset the statement when done so no read stays open. NULL on
 * failure, with db_errmsg() set.
 */
sqlite3_stmt *db_stmt(struct db *db, const char *sql);

/*
 * Write transactions for the library's own read-modify-writes. When the
 * caller already holds db_tx_begin, these join it instead of nesting.
 */
int db_write_begin(struct db *db);
int db_write_commit(struct db *db);
void db_write_rollback(struct db *db);

/* What lives beside the database is named after it: x.db (or x) and suffix give x<suffix>. */
int db_path_beside(const char *path, const char *suffix, char *out, size_t outlen);

/*
 * Deletes the regular files of dir that db_stray_due says are old enough
 * and no row names (named: a query with the file's name as its one
 * parameter, which finds a row naming it); out counts what went.
 */
int db_stray_sweep(struct db *db, const char *dir, const char *named, int64_t now_ms,
                   struct db_swept *out);

/* A name a person gives (customer, astrologer, key, reference): 1..DB_NAME_MAX printable bytes. */
int db_name_ok(const char *name);

/* Digest of a token under the key: what the schema stores. */
int db_token_digest(const struct db *db, const char *token,
                    unsigned char digest[DB_DIGEST_LEN]);
/* A fresh token and its digest. */
int db_token_new(const struct db *db, char token[DB_TOKEN_LEN + 1],
                 unsigned char digest[DB_DIGEST_LEN]);

/* Reads the session row a statement is positioned on (columns of DB_SESSION_COLUMNS). */
#define DB_SESSION_COLUMNS                                                   \
	"s.id, s.room_id, s.session_type, s.status, s.end_reason, "          \
	"s.paid_minutes, s.price, b.commission_bps, b.user_id, b.astrologer_id, u.name, a.name, " \
	"s.scheduled_start_ms, s.link_opens_ms, s.link_valid_until_ms, "     \
	"s.user_joined_ms, s.astrologer_joined_ms, s.started_ms, s.ended_ms, " \
	"s.duration_seconds, s.ended_by, "                                   \
	"(SELECT max(p.seen_ms) FROM presence p WHERE p.session_id = s.id"   \
	" AND p.left_ms IS NULL AND p.participant = 'user'), "               \
	"(SELECT max(p.seen_ms) FROM presence p WHERE p.session_id = s.id"   \
	" AND p.left_ms IS NULL AND p.participant = 'astrologer'), "         \
	"(SELECT max(p.left_ms) FROM presence p WHERE p.session_id = s.id), " \
	"s.user_token_digest, s.astrologer_token_digest"
#define DB_SESSION_FROM                                                      \
	" FROM webrtc_sessions s JOIN bookings b ON b.id = s.booking_id"     \
	" JOIN users u ON u.id = b.user_id"                                  \
	" JOIN astrologers a ON a.id = b.astrologer_id "
#define DB_SESSION_NCOLUMNS 26

/* The time both were connected within the session's paid window, as of now_ms (presence.c). */
int db_presence_billed_ms(struct db *db, const struct db_session *s, int64_t now_ms,
                          int64_t *billed_ms);
/* Ends every open connection of a session that is ending. */
int db_presence_close_all(struct db *db, const char *session_id, int64_t now_ms);
void db_session_read(struct db *db, sqlite3_stmt *st, struct db_session *s);
/* db_session_get for a change inside a write transaction: DB_ERR_ENDED once it is over. */
int db_session_get_open(struct db *db, const char *session_id, struct db_session *s);
/* Appends a session_events row (detail may be NULL) inside the caller's write. */
int db_event_add(struct db *db, const char *session_id, const char *kind, enum db_role role,
                 const char *detail, int64_t now_ms);

/* What the outbox reports (outbox.c); the names are webhook_events' types. */
enum db_hook {
	DB_HOOK_BOOKING_CREATED,
	DB_HOOK_BOOKING_CANCELLED,
	DB_HOOK_PARTICIPANT_JOINED,
	DB_HOOK_PARTICIPANT_LEFT,
	DB_HOOK_SESSION_STARTED,
	DB_HOOK_SESSION_ENDED,
	DB_HOOK_SESSION_EXPIRED,
	DB_HOOK_WALLET_TOPPED_UP,
};
/*
 * Writes one event to the outbox inside the caller's write transaction,
 * after the change it reports, so it commits or rolls back with it. A
 * session's event carries a snapshot of the session as the transaction
 * left it (role: the participant of joined/left, else -1); a wallet's
 * names the user and the amount. One INSERT, nothing when no endpoint exists.
 */
int db_hook_event(struct db *db, enum db_hook type, const char *session_id, int role,
                  int64_t user_id, int64_t amount, int64_t now_ms);

#endif
