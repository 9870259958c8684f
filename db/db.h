/* db.h: the session library: store, money, tokens; shared by cgi/, relay/ and sessionctl. */
#ifndef SESSIONS_DB_H
#define SESSIONS_DB_H

#include <stddef.h>
#include <stdint.h>

/*
 * Every function returns DB_OK (0) or a negative enum db_err and, on
 * failure, leaves a human-readable sentence in db_errmsg(). Nothing here
 * knows about HTTP or WebSockets: the front ends name the codes for
 * clients through one table (wire/errors.c).
 *
 * Times are milliseconds since the Unix epoch and are always passed in
 * (now_ms), so tests drive the clock. Money is int64_t minor units.
 */
enum db_err {
	DB_OK = 0,
	DB_ERR_INVALID = -1,   /* an argument is out of range or malformed */
	DB_ERR_NOT_FOUND = -2, /* unknown token, session or name */
	DB_ERR_EXPIRED = -3,   /* the link ran out */
	DB_ERR_ENDED = -4,     /* the session is over */
	DB_ERR_NOT_OPEN = -5,  /* the link does not open yet */
	DB_ERR_STATE = -6,     /* the session's state forbids this */
	DB_ERR_EXISTS = -7,    /* the name is taken */
	DB_ERR_FUNDS = -8,     /* the available balance is short */
	DB_ERR_BUSY = -9,      /* the database stayed locked past busy_timeout */
	DB_ERR_STORE = -10,    /* SQLite or the file system failed */
	DB_ERR_UNKNOWN_LINK = -11, /* the token is malformed or opens no session */
	DB_ERR_LIMIT = -12,    /* a cap on what one participant may store is reached */
	DB_ERR_FULL = -13,     /* the disk is full: the transaction was rolled back, nothing written */
	DB_ERR_ROLE = -14,     /* the participant's role does not allow this */
	DB_ERR_FILE_TYPE = -15,  /* a file's bytes are not of a type that may be shared */
	DB_ERR_TOO_LARGE = -16,  /* a file is over file_max_bytes */
	DB_ERR_FILES_FULL = -17, /* a file would take the session over session_files_max_bytes */
	DB_ERR_GONE = -18,       /* the file was deleted after its retention */
};

enum db_role { DB_ROLE_USER, DB_ROLE_ASTROLOGER };
enum db_type { DB_TYPE_CHAT, DB_TYPE_VOICE, DB_TYPE_VIDEO };
enum db_status {
	DB_STATUS_SCHEDULED,
	DB_STATUS_ACTIVE,
	DB_STATUS_COMPLETED,
	DB_STATUS_EXPIRED,
	DB_STATUS_CANCELLED,
};
enum db_reason {
	DB_REASON_NONE, /* not ended */
	DB_REASON_COMPLETED,
	DB_REASON_USER_ENDED,
	DB_REASON_ASTROLOGER_ENDED,
	DB_REASON_TIME_UP,
	DB_REASON_NO_SHOW,
	DB_REASON_CANCELLED,
	DB_REASON_DISCONNECTED,
};

/* Who ended a session: a participant, or the rules (the relay, cron, the shop's command line). */
enum db_actor { DB_ACTOR_SYSTEM, DB_ACTOR_USER, DB_ACTOR_ASTROLOGER };

/* The names used in the schema and on the wire; *_parse returns -1 when unknown. */
const char *db_role_name(enum db_role r);
const char *db_type_name(enum db_type t);
const char *db_status_name(enum db_status s);
const char *db_reason_name(enum db_reason r);
const char *db_actor_name(enum db_actor a);
enum db_actor db_actor_of(enum db_role r);
int db_role_parse(const char *s);
int db_type_parse(const char *s);
int db_reason_parse(const char *s);
int db_status_parse(const char *s);
int db_actor_parse(const char *s);

/* Tunables db_open reads from the configuration (conf.h; see README). */
struct db_config {
	int commission_bps;      /* platform share of a charge, basis points */
	int64_t grace_ms;        /* active sessions end this long after their paid time */
	int64_t turn_credential_ms; /* TURN credentials expire this long after they are handed out */
	int64_t opens_before_ms; /* a link opens this long before the scheduled start */
	int64_t valid_after_ms;  /* and stays valid this long after the paid time would end */
	int64_t minute_ms;       /* length of a paid minute: 60000 except in tests */
	int64_t empty_timeout_ms;/* both away this long ends an active session (disconnected) */
	int64_t no_show_ms;      /* one came, the other not this long after: no_show */
	int64_t chat_max_messages;          /* one participant's chat in one session ... */
	int64_t chat_max_bytes;             /* ... and its bytes */
	int64_t chat_before_start_messages; /* ... and its messages before both have joined */
	int64_t notes_max_bytes;    /* one version of a session's notes, and its summary */
	int64_t notes_max_versions; /* the versions of one session's notes */
	int64_t file_max_bytes;          /* one shared file ... */
	int64_t session_files_max_bytes; /* ... and all of one session's */
	int64_t file_retention_ms;       /* db_files_purge deletes files this old */
	int64_t recording_max_bytes;  /* one session's recordings together */
	int64_t recordings_max_bytes; /* every recording kept */
	int64_t recordings_min_free;  /* bytes a chunk must leave free on the recordings' disk */
	int64_t recording_retention_ms; /* a recording is kept this long after it started */
	int webhook_allow_private;      /* endpoints may resolve to private addresses */
	int64_t webhook_retry_divisor;  /* shortens the retry schedule: tests only */
	int64_t webhook_timeout_ms;     /* one delivery attempt's limit */
	int64_t audit_retention_ms;     /* db_purge keeps audit rows this long ... */
	int64_t webhook_retention_ms;   /* ... and finished webhook deliveries this long */
};

#define DB_TOKEN_LEN 43  /* 32 random bytes, URL-safe base64 without padding */
#define DB_LINK_FP_LEN 32 /* a link's stored digest: proves nothing, names which link it was */
#define DB_ID_LEN 36     /* session ids are UUIDs */
#define DB_ROOM_LEN 29   /* "room_" + 24 hex digits */
#define DB_NAME_MAX 100
#define DB_CHAT_MAX 4000 /* characters of one chat message */
#define DB_CLIENT_ID_MAX 64
#define DB_MINUTES_MAX 480
#define DB_AMOUNT_MAX 100000000 /* 1,000,000.00 in minor units */

struct db; /* one SQLite connection and the token key; not thread-safe */

/*
 * Opens (creating or upgrading) the database at path, and the token key in
 * path + ".key" (created with mode 0600 on first use). Open after fork().
 * On failure *out is NULL and err (if not NULL) holds the reason.
 */
int db_open(const char *path, struct db **out, char *err, size_t errlen);
void db_close(struct db *db);
/*
 * Call once, before the first db_open, in a program where no struct db
 * is ever used by two threads: SQLite then skips its per-connection and
 * memory-statistics locks. DB_OK, or DB_ERR_STORE when SQLite was
 * already in use (it then keeps its default, which is also correct).
 */
int db_threads_own_connections(void);
const char *db_errmsg(const struct db *db);
struct db_config *db_config(struct db *db);
int db_ping(struct db *db);          /* a cheap read: health checks */
/* How long a call waits for another process's write lock (5000 ms unless set). */
void db_set_busy_timeout(struct db *db, int ms);
/*
 * Takes WAL checkpoints off this connection's commits: a commit then only
 * notes how far the WAL has grown, and db_checkpoint_idle, called when the
 * program has answered (a server between requests), folds it back into the
 * database. Other connections keep SQLite's own checkpoints in their commits.
 */
void db_checkpoint_deferred(struct db *db);
/*
 * A passive checkpoint (it never waits for a lock, nor holds up writers)
 * once this connection's commits have left the WAL at SQLite's usual
 * threshold of 1,000 pages or more; otherwise nothing. DB_OK, or an error.
 */
int db_checkpoint_idle(struct db *db);
/* The WAL's frames after this handle's last commit (with db_checkpoint_deferred). */
int db_wal_frames(const struct db *db);
/*
 * A passive checkpoint now: it copies what it can of the WAL into the file
 * and waits for nobody. The relay's chat file runs it on a handle of its
 * own, beside the writer whose commits db_checkpoint_deferred left alone.
 */
int db_checkpoint(struct db *db);
/*
 * Whether another connection has committed since the previous call (the
 * first call says yes): lets a watcher skip its reads while nothing changed.
 */
int db_changed(struct db *db, int *changed);
int64_t db_now_ms(void);             /* the wall clock, in milliseconds */

/* A session as the links, the API and the relay see it. 0 means "not yet". */
struct db_session {
	char id[DB_ID_LEN + 1];
	char room_id[DB_ROOM_LEN + 1];
	enum db_type type;
	enum db_status status;
	enum db_reason end_reason;
	int64_t paid_minutes;
	int64_t price;
	int commission_bps; /* in force when it was booked */
	int64_t user_id, astrologer_id;
	char user_name[DB_NAME_MAX + 1];
	char astrologer_name[DB_NAME_MAX + 1];
	int64_t scheduled_start_ms, link_opens_ms, link_valid_until_ms;
	int64_t user_joined_ms, astrologer_joined_ms;
	int64_t started_ms;  /* both joined: the paid timer runs from here */
	int64_t deadline_ms; /* started_ms + paid time, when started */
	int64_t ended_ms;
	int64_t duration_seconds;
	enum db_actor ended_by;
	/* Presence (the relay's connections), as stored: */
	int64_t open_seen_ms[2];  /* by enum db_role: the latest heartbeat of a connection still open; 0: none */
	int64_t last_left_ms;     /* the latest departure; 0: none */
	/* By enum db_role: the stored (keyed) digest of the current link, which a reissue changes. */
	unsigned char link_fp[2][DB_LINK_FP_LEN];
};

/*
 * is_session_link_valid: the session behind a token and the role it
 * proves. Fills *s and *role whenever the token is known, also when the
 * answer is DB_ERR_EXPIRED, DB_ERR_ENDED or DB_ERR_NOT_OPEN, so callers
 * can say more. A malformed or unknown token is DB_ERR_UNKNOWN_LINK.
 */
int db_is_session_link_valid(struct db *db, const char *token, int64_t now_ms,
                             struct db_session *s, enum db_role *role);

/* The session by id, whatever its state. */
int db_session_get(struct db *db, const char *session_id, struct db_session *s);

/*
 * The session rules (rules.c): the one answer to each question the API,
 * the relay, sessionctl and cron ask of a session as read. Pure: they
 * read nothing but their arguments.
 */
int db_session_is_over(const struct db_session *s);
int db_session_has_joined(const struct db_session *s, enum db_role role);
/* The window of a booking's links: [*opens_ms, *valid_until_ms). */
void db_link_window(const struct db_config *c, int64_t starts_ms, int64_t paid_minutes,
                    int64_t *opens_ms, int64_t *valid_until_ms);
/* When the paid time ends: started + paid minutes; 0 before both joined. */
int64_t db_session_deadline_ms(const struct db_config *c, const struct db_session *s);
/*
 * Presence. The relay refreshes an open connection's seen_ms every
 * DB_PRESENCE_BEAT_MS; one not refreshed for DB_PRESENCE_STALE_MS was
 * left open by a relay that died, and ends at its last heartbeat.
 */
#define DB_PRESENCE_BEAT_MS 10000
#define DB_PRESENCE_STALE_MS 30000
/* Where a stored connection ends as of now_ms: when it left, now while the relay beats, or its last heartbeat. */
int64_t db_presence_end_ms(int64_t left_ms, int64_t seen_ms, int64_t now_ms);
/* Whether the participant is connected to the session's room at now_ms. */
int db_session_present(const struct db_session *s, enum db_role role, int64_t now_ms);
/* Since when the two have not both been there, as of now_ms: 0 while they are. */
int64_t db_session_apart_since_ms(const struct db_session *s, int64_t now_ms);
/* One participant's connections, in order, not overlapping: [from_ms, to_ms). */
struct db_interval {
	int64_t from_ms, to_ms;
};
/* The time both were connected within [from_ms, to_ms): the billed time. */
int64_t db_overlap_ms(const struct db_interval *a, size_t na, const struct db_interval *b,
                      size_t nb, int64_t from_ms, int64_t to_ms);
/*
 * Whether one more message of body_bytes fits a participant's caps, given
 * what they stored so far in a session of this status: DB_OK or
 * DB_ERR_LIMIT. Before both have joined (nothing billed, nothing to lose)
 * the allowance is small.
 */
int db_chat_allowed(const struct db_config *c, enum db_status status, int64_t messages,
                    int64_t bytes, int64_t body_bytes);
/* Whether a participant may give this reason for ending: completed, or their own *_ended. */
int db_reason_given_ok(enum db_role role, enum db_reason reason);
/*
 * The moment a session not started ends as a no-show, or 0: when one
 * has come, no_show_ms after the later of the start and that join, but
 * never after its link runs out.
 */
int64_t db_session_no_show_ms(const struct db_config *c, const struct db_session *s);
/*
 * When the session ends on its own and why: an active one at its
 * deadline (time_up), or earlier once the two have not both been there
 * for the empty timeout (disconnected); one not started as a no-show
 * (no_show); 0 and DB_REASON_NONE for one that is over.
 */
int64_t db_session_due_ms(const struct db_config *c, const struct db_session *s,
                          int64_t now_ms, enum db_reason *reason);
/* The reason it must end at now_ms, or DB_REASON_NONE. */
enum db_reason db_session_due(const struct db_config *c, const struct db_session *s,
                              int64_t now_ms);
/* What a link of the session allows at now_ms: DB_OK, DB_ERR_EXPIRED, DB_ERR_ENDED or DB_ERR_NOT_OPEN. */
int db_session_link_verdict(const struct db_config *c, const struct db_session *s,
                            int64_t now_ms);
/*
 * Session notes are the astrologer's alone (DB_ERR_ROLE for the customer).
 * Readable with the link whatever its state; writable, as is the summary
 * published for the customer, from when the link opens (DB_ERR_NOT_OPEN)
 * until it runs out or, for a session that ended later, valid_after past
 * the end (DB_ERR_EXPIRED).
 */
int db_notes_readable(enum db_role role);
int db_notes_writable(const struct db_config *c, const struct db_session *s, enum db_role role,
                      int64_t now_ms);
/* The types a shared file may have, told from its first DB_FILE_SNIFF bytes. */
enum db_file_type { DB_FILE_JPEG, DB_FILE_PNG, DB_FILE_WEBP, DB_FILE_PDF };
#define DB_FILE_SNIFF 12
/* The type of a file that starts with head (n bytes of it, fewer for a shorter file), or DB_ERR_FILE_TYPE. */
int db_file_type_of(const unsigned char *head, size_t n);
const char *db_file_type_name(enum db_file_type t); /* its media type: "image/png" */
int db_file_type_parse(const char *s);
/*
 * Whether a file of bytes fits: DB_ERR_TOO_LARGE over file_max_bytes,
 * DB_ERR_FILES_FULL when the session's files (session_bytes so far)
 * would go over session_files_max_bytes; exactly at a cap fits.
 */
int db_file_fits(const struct db_config *c, int64_t session_bytes, int64_t bytes);
/*
 * Whether a file is deleted at now_ms: once it is file_retention old, or a
 * day old when no message ever announced it (an upload the page never
 * showed).
 */
int db_file_expired(const struct db_config *c, int64_t created_ms, int announced, int64_t now_ms);
/*
 * Whether a file in the files or recordings directory that no row names,
 * last written at changed_ms, is deleted at now_ms: once it has not
 * changed for DB_STRAY_AGE_MS. An upload writes its temporary file and a
 * recording its chunk within seconds, so one still in progress is never
 * that old; what is left is a killed upload or a purge cut short.
 */
#define DB_STRAY_AGE_MS 3600000
int db_stray_due(int64_t changed_ms, int64_t now_ms);
/* What a purge deleted that no row named: files and their bytes. */
struct db_swept {
	int64_t files, bytes;
};
/*
 * Recording with consent. A voice or video session's recording is asked
 * for by one participant (that is the asker's consent), and runs once the
 * other accepts; either stops it, and the other may decline. The state is
 * what session_events hold (db/recording.c reads it); these rules say what
 * an action does to it.
 */
enum db_rec_action { DB_REC_ASK, DB_REC_ACCEPT, DB_REC_DECLINE, DB_REC_STOP };
enum db_rec_state { DB_REC_IDLE, DB_REC_ASKED, DB_REC_RUNNING };
/*
 * Whether the session allows recording now: DB_ERR_STATE for a chat
 * session or one not both have joined, DB_ERR_ENDED once it is over.
 */
int db_recording_allowed(const struct db_session *s);
/*
 * The state after role's action in state cur (asked by asker when cur is
 * DB_REC_ASKED): DB_OK with *next set, or DB_ERR_STATE for an action the
 * state refuses (a second ask while one is pending or running, the asker
 * accepting or declining their own ask, nothing to stop).
 */
int db_recording_next(enum db_rec_state cur, enum db_role asker, enum db_role role,
                      enum db_rec_action a, enum db_rec_state *next);
/*
 * Whether a chunk may still be appended to a recording that started at
 * started_ms and stopped at stopped_ms (0: running) in a session that
 * ended at ended_ms (0: not ended): while it runs, and DB_RECORDING_TAIL_MS
 * after, since the recorder's last piece reaches the server after the stop.
 */
#define DB_RECORDING_TAIL_MS 15000
int db_recording_appendable(int64_t stopped_ms, int64_t ended_ms, int64_t now_ms);
/* Whether a recording started at started_ms is kept at now_ms (recording_retention_days). */
int db_recording_kept(const struct db_config *c, int64_t started_ms, int64_t now_ms);
/* Until when TURN credentials handed out at now_ms for the session may be used. */
int64_t db_session_credentials_until_ms(const struct db_config *c, const struct db_session *s,
                                        int64_t now_ms);

struct db_join {
	int already_joined; /* this participant had joined before */
	int both_joined;
	int started_now;    /* this join started the paid timer */
	struct db_session session; /* as it is after the join */
};

/*
 * start_session: marks a participant joined; the second one starts the
 * session. Joining again is harmless. DB_ERR_ENDED once it is over.
 */
int db_start_session(struct db *db, const char *session_id, enum db_role role,
                     int64_t now_ms, struct db_join *out);

struct db_settlement {
	int already_ended; /* the session had ended before this call */
	enum db_status status;
	enum db_reason reason;
	int64_t duration_seconds;
	int64_t billed_minutes;
	int64_t charged, refunded, commission;
	int64_t released; /* to the astrologer: charged - commission */
	int64_t billed_seconds; /* the time both were connected */
	int64_t ended_ms;
	enum db_actor ended_by;
};

/*
 * end_session: ends the session and settles it. Active sessions bill the
 * started minutes of the time both were connected (presence), capped at
 * the paid minutes; sessions that never had both participants are
 * refunded in full (status cancelled, or expired for DB_REASON_NO_SHOW).
 * A session already due to end (db_session_due) ends for that reason,
 * by the system, instead of the one asked for. Idempotent: a later call
 * returns the first settlement with already_ended set and moves nothing.
 */
int db_end_session(struct db *db, const char *session_id, enum db_reason reason,
                   enum db_actor by, int64_t now_ms, struct db_settlement *out);

/*
 * What the session (as the caller has just read it) would settle for if
 * it ended at now_ms: the running charge. Writes nothing.
 */
int db_session_bill(struct db *db, const struct db_session *s, int64_t now_ms,
                    struct db_settlement *out);

/*
 * Presence, written by the relay as it happens. join opens a connection
 * (closing the participant's previous one at now_ms: a takeover leaves no
 * gap); leave closes it; beat refreshes every open connection's seen_ms;
 * recover, at the relay's start, ends what a relay that died left open at
 * its last heartbeat, reporting each as a leave. One relay serves a database.
 */
int db_presence_join(struct db *db, const char *session_id, enum db_role role, int64_t now_ms);
int db_presence_leave(struct db *db, const char *session_id, enum db_role role, int64_t now_ms);
int db_presence_beat(struct db *db, int64_t now_ms);
int db_presence_recover(struct db *db);
/* Each stored connection of a session, in order (sessionctl show --presence). left_ms 0: open. */
typedef void db_presence_cb(void *arg, enum db_role role, int64_t joined_ms, int64_t seen_ms,
                            int64_t left_ms);
int db_presence_list(struct db *db, const char *session_id, db_presence_cb *cb, void *arg);

/*
 * Ends the session if the rules say it is due at now_ms, settling it.
 * *s is the session as it is afterwards; *ended says whether this call
 * ended it (st then holds the settlement). The relay's timer and cron
 * call this; link checks only read, and answer from the same rules
 * (db_session_link_verdict), so every front end agrees at every moment.
 */
int db_session_end_due(struct db *db, const char *session_id, int64_t now_ms,
                       struct db_session *s, struct db_settlement *st, int *ended);

/*
 * Charge for a session: billed = ceil(billed_ms / minute) capped at paid;
 * charge = floor(price * billed / paid); commission = floor(charge * bps /
 * 10000). Rounding always favours the customer, then the astrologer.
 */
void db_settle_amounts(int64_t price, int64_t paid_minutes, int64_t billed_ms,
                       int64_t minute_ms, int commission_bps,
                       struct db_settlement *out);

/*
 * expire: what cron runs: db_session_end_due on every open session, so
 * no-shows become expired (full refund), active sessions past their
 * deadline end with time_up and empty ones with disconnected. One transaction
 * per session; each is reported through cb (may be NULL). Safe to run
 * twice or concurrently.
 */
typedef void db_expire_cb(void *arg, const struct db_session *s,
                          const struct db_settlement *st);
int db_expire(struct db *db, int64_t now_ms, db_expire_cb *cb, void *arg,
              int *expired, int *timed_out);

/*
 * Webhooks (webhook.c): endpoints of the shop's own site, the outbox of
 * events every change writes in its own transaction, and their deliveries.
 * A secret is "whsec_" + base64 of 32 random bytes (Standard Webhooks):
 * returned once by add and rotate, stored only sealed under the key.
 */
#define DB_WEBHOOK_URL_MAX 512
#define DB_WEBHOOK_SECRET_LEN 50      /* "whsec_" + 44 base64 characters */
#define DB_WEBHOOK_EVENT_ID_LEN 28    /* "msg_" + 24 hex digits */
#define DB_WEBHOOK_ATTEMPTS 8         /* the first try and seven retries */
#define DB_WEBHOOK_OVERLAP_MS (24LL * 3600 * 1000) /* a rotated-out secret still signs this long */
#define DB_WEBHOOK_ERROR_MAX 200

struct db_webhook {
	int64_t id;
	char url[DB_WEBHOOK_URL_MAX + 1];
	int64_t created_ms;
	int64_t disabled_ms; /* 0: enabled */
	char disabled_reason[DB_WEBHOOK_ERROR_MAX + 1];
	int64_t previous_until_ms; /* a rotation's old secret signs until then; 0: none */
	int64_t pending, delivered, failed; /* its deliveries */
};

enum db_delivery_status { DB_DELIVERY_PENDING, DB_DELIVERY_DELIVERED, DB_DELIVERY_FAILED };
const char *db_delivery_name(enum db_delivery_status d);
int db_delivery_parse(const char *s);

struct db_delivery {
	int64_t id, endpoint_id;
	char event_id[DB_WEBHOOK_EVENT_ID_LEN + 1];
	char type[32];
	char subject[DB_ID_LEN + 8];
	int64_t sequence;
	enum db_delivery_status status;
	int attempts;
	int64_t next_attempt_ms, last_attempt_ms, done_ms, created_ms;
	int last_status; /* the receiver's HTTP status; 0: no answer */
	char last_error[DB_WEBHOOK_ERROR_MAX + 1];
};

/*
 * Checks an endpoint URL: http(s), a host, no user info, at most
 * DB_WEBHOOK_URL_MAX bytes, and (unless allow_private) every address
 * its host resolves to is public: no loopback, private, link-local,
 * carrier-grade NAT, unique-local, multicast or unspecified address.
 * On DB_OK, pin (when not NULL) gets "host:port:address" of the first
 * address, for the deliverer to connect to exactly what was checked.
 * DB_ERR_INVALID with the reason in why.
 */
int db_webhook_url_check(const char *url, int allow_private, char *pin, size_t pinlen,
                         char *why, size_t whylen);

int db_webhook_add(struct db *db, const char *url, int64_t now_ms, int64_t *id,
                   char secret[DB_WEBHOOK_SECRET_LEN + 1]);
typedef void db_webhook_cb(void *arg, const struct db_webhook *w);
int db_webhook_list(struct db *db, db_webhook_cb *cb, void *arg);
/* Forgets the endpoint with its deliveries. */
int db_webhook_remove(struct db *db, int64_t id);
/* A new secret; the current one keeps signing beside it for DB_WEBHOOK_OVERLAP_MS. */
int db_webhook_rotate(struct db *db, int64_t id, int64_t now_ms,
                      char secret[DB_WEBHOOK_SECRET_LEN + 1]);
typedef void db_delivery_cb(void *arg, const struct db_delivery *d);
/* Newest first, at most limit; only those of one status when status >= 0. */
int db_webhook_deliveries(struct db *db, int status, int limit, db_delivery_cb *cb, void *arg);
/* Sends a delivery again from its first try (also re-enables its endpoint). */
int db_webhook_retry(struct db *db, int64_t delivery_id, int64_t now_ms);

/* What the deliverer posts: one pending delivery, due now. */
struct db_webhook_job {
	int64_t delivery_id, endpoint_id;
	int attempts; /* made before this one */
	char url[DB_WEBHOOK_URL_MAX + 1];
	char event_id[DB_WEBHOOK_EVENT_ID_LEN + 1];
	char *payload; /* is malloc'd: the envelope as posted; freed by db_webhook_jobs_free */
	/* The raw signing keys, newest first; wiped by db_webhook_jobs_free. */
	unsigned char secret[2][32];
	int nsecrets;
};

/*
 * Up to max deliveries due at now_ms, oldest first, never two of one
 * subject to one endpoint, and none while an earlier event of its subject
 * is still pending there: per-session order. The nskip deliveries of skip
 * are left out: the caller has sent them and not recorded how it went
 * yet (they stay pending, and so keep their subject's later events back).
 * *next_ms gets the time the next one falls due when none is (0: nothing
 * pending).
 */
int db_webhook_due(struct db *db, int64_t now_ms, const int64_t *skip, int nskip,
                   struct db_webhook_job *jobs, int max, int *n, int64_t *next_ms);
void db_webhook_jobs_free(struct db_webhook_job *jobs, int n);

/*
 * Records one attempt of the delivery to endpoint_id (nothing when that
 * delivery is gone or no longer pending): a 2xx delivers; 410 disables
 * the endpoint and fails its pending deliveries; anything else
 * (http_status 0: no answer) schedules the next try (db_webhook_retry_ms),
 * or fails the delivery after DB_WEBHOOK_ATTEMPTS. error may be NULL.
 */
int db_webhook_record(struct db *db, int64_t delivery_id, int64_t endpoint_id, int64_t started_ms,
                      int64_t now_ms, int http_status, int64_t retry_after_ms, const char *error);

/*
 * The retry schedule (rules.c): after the attempts-th failed try, how long
 * to wait: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h (Standard Webhooks),
 * divided by divisor (tests), with up to 20 % jitter from jitter (0..1),
 * never sooner than retry_after_ms (a receiver's Retry-After, capped at
 * the schedule's longest wait); -1 when no try is left.
 */
int64_t db_webhook_retry_ms(int attempts, int64_t divisor, double jitter, int64_t retry_after_ms);

/*
 * Retention (purge.c): deletes audit rows older than audit_retention_ms,
 * and finished (delivered or failed) webhook deliveries with their
 * attempts older than webhook_retention_ms, then the events left with no
 * delivery, except each subject's latest: its sequence goes on from there.
 * Pending deliveries are never touched. One transaction.
 */
struct db_purged {
	int64_t audit, deliveries, attempts, events;
};
int db_purge(struct db *db, int64_t now_ms, struct db_purged *out);

/* People and money. Names are 1..DB_NAME_MAX bytes of printable UTF-8. */
int db_user_add(struct db *db, const char *name, int64_t balance, int64_t now_ms);
int db_astrologer_add(struct db *db, const char *name, int64_t now_ms);
/* reference: the shop's own name for the payment (1..100 bytes), or NULL. */
int db_wallet_topup(struct db *db, const char *user, int64_t amount, const char *reference,
                    int64_t now_ms);
int db_wallet_show(struct db *db, const char *user, int64_t *balance, int64_t *frozen);
int db_earnings_show(struct db *db, const char *astrologer, int64_t *earnings);

struct db_booking_req {
	const char *user;
	const char *astrologer;
	enum db_type type;
	int64_t minutes;
	int64_t price;
	int64_t starts_ms;
};

struct db_booking {
	struct db_session session;
	char user_token[DB_TOKEN_LEN + 1];       /* secret: print it, never log it */
	char astrologer_token[DB_TOKEN_LEN + 1]; /* secret */
};

/* Books a session: freezes the price, creates the room and both links. */
int db_book(struct db *db, const struct db_booking_req *req, int64_t now_ms,
            struct db_booking *out);

/*
 * Cancels a booking before both have joined: ends it, refunded in full.
 * DB_ERR_STATE once it has started, DB_ERR_ENDED once it is over.
 */
int db_booking_cancel(struct db *db, const char *session_id, int64_t now_ms,
                      struct db_settlement *out);

/* Issues a participant a new link; the old one stops working. */
int db_link_reissue(struct db *db, const char *session_id, enum db_role role,
                    int64_t now_ms, char token[DB_TOKEN_LEN + 1]);

/*
 * Verifies the money invariant: every transaction sums to zero, balances
 * equal their entries, frozen equals the open holds, every ended session
 * is settled exactly once and no open one is. Each problem goes to cb;
 * *problems counts them. Returns DB_OK when the check ran.
 */
typedef void db_problem_cb(void *arg, const char *problem);
int db_ledger_check(struct db *db, db_problem_cb *cb, void *arg, int *problems);

/*
 * Chat lives in a file of its own beside the database (db_chat_path), so
 * its writes never wait for or hold the database's write lock. A chat
 * handle is a struct db opened with db_chat_open on the database's path
 * (creating the chat file when missing): db_chat_* and db_tx_* work on
 * it, nothing else does.
 */
int db_chat_path(const char *path, char *out, size_t outlen); /* x.db -> x-chat.db */
int db_chat_open(const char *path, struct db **out, char *err, size_t errlen);

/*
 * The emoji a chat message may be reacted with, and a call's quick
 * reactions: a fixed few, so a reaction carries no text of the sender's.
 * db_reaction_find gives the set's own copy of s (len bytes), or NULL.
 */
#define DB_REACTIONS 6
extern const char *const db_reactions[DB_REACTIONS];
const char *db_reaction_find(const char *s, size_t len);

/* One person's reaction on a message. */
struct db_chat_reaction {
	enum db_role by;
	const char *emoji; /* one of db_reactions */
};

/* Chat: stored before it is delivered. */
struct db_chat {
	int64_t seq;
	enum db_role sender;
	char body[DB_CHAT_MAX * 4 + 1]; /* UTF-8: up to 4 bytes a character; a file's name */
	char client_id[DB_CLIENT_ID_MAX + 1]; /* "" when the sender gave none */
	int64_t at_ms;
	int64_t file_id;                /* a message of kind file: the file it announces; else 0 */
	enum db_file_type file_type;
	int64_t file_bytes;
	int file_gone;                  /* the file was purged: its name stays, its bytes do not */
	int nreactions; /* filled by db_chat_history only; 0 elsewhere */
	struct db_chat_reaction reactions[2 * DB_REACTIONS]; /* in the order they were put */
};

/*
 * Appends a message to the room's history; DB_ERR_ENDED once the session
 * is over, decided in the same transaction. A client_id this sender used
 * before in this session returns the stored message with *duplicate set. The
 * caller may wrap several appends in db_tx_begin/db_tx_commit so that
 * many messages cost one fsync.
 */
int db_chat_append(struct db *db, const char *session_id, enum db_role sender,
                   const char *body, const char *client_id, int64_t now_ms,
                   struct db_chat *out, int *duplicate);

/*
 * Appends a message of kind file announcing file_id, which this sender
 * uploaded in this session and nothing announced yet (else
 * DB_ERR_NOT_FOUND, or DB_ERR_GONE once purged). Its body is the file's
 * name; otherwise as db_chat_append.
 */
int db_chat_append_file(struct db *db, const char *session_id, enum db_role sender,
                        int64_t file_id, const char *client_id, int64_t now_ms,
                        struct db_chat *out, int *duplicate);

/*
 * Puts (on) or takes back (!on) the reaction emoji of by on the message
 * seq of the session, in the same transaction as the check that the
 * session is open (DB_ERR_ENDED otherwise). DB_ERR_NOT_FOUND when this
 * session has no message seq; DB_ERR_INVALID for an emoji not in
 * db_reactions. Putting one that is there, or taking back one that is
 * not, changes nothing: DB_OK with *changed 0. Batches like
 * db_chat_append inside db_tx_begin/db_tx_commit.
 */
int db_chat_react(struct db *db, const char *session_id, enum db_role by, int64_t seq,
                  const char *emoji, int on, int64_t now_ms, int *changed);

/* Calls cb for each message with seq > after_seq, in order, at most limit, with its reactions. */
typedef int db_chat_cb(void *arg, const struct db_chat *m);
int db_chat_history(struct db *db, const char *session_id, int64_t after_seq,
                    int limit, db_chat_cb *cb, void *arg);

/*
 * Session notes (notes.c): each save of the astrologer's notes is a
 * version; the latest is the note. Refusals follow db_notes_readable and
 * db_notes_writable; a text over notes_max_bytes, or a version past
 * notes_max_versions, is DB_ERR_LIMIT.
 */
struct db_note {
	int64_t version; /* 1, 2, ... within the session; 0: no notes yet */
	int64_t at_ms;
	int64_t bytes;
};
/* Stores text as the next version, unless it is the latest already (*unchanged set); *out: the latest. */
int db_note_save(struct db *db, const struct db_session *s, enum db_role role, const char *text,
                 int64_t now_ms, struct db_note *out, int *unchanged);
/*
 * The text of a version (0: the latest; "" when there are none) in *text,
 * malloc'd for the caller to free, with *out, and cb for every version,
 * oldest first. DB_ERR_NOT_FOUND for a version that does not exist.
 */
typedef void db_note_cb(void *arg, const struct db_note *n);
int db_note_read(struct db *db, const struct db_session *s, enum db_role role, int64_t version,
                 char **text, struct db_note *out, db_note_cb *cb, void *arg);
/* The summary for the customer: 1..notes_max_bytes bytes; publishing again replaces it. */
int db_summary_publish(struct db *db, const struct db_session *s, enum db_role role,
                       const char *text, int64_t now_ms);
/* Either participant: the summary, malloc'd, or NULL with *at_ms 0 when none is published. */
int db_summary_get(struct db *db, const struct db_session *s, char **text, int64_t *at_ms);

/*
 * Recordings (recording.c). The consent record is session_events
 * (recording_consent for each side's consent, recording_started,
 * recording_declined, recording_stopped); a recording's bytes are a file
 * in the directory beside the database (X.db -> X-recordings/), its
 * metadata a row of recordings.
 */
#define DB_RECORDING_CHUNK_MAX (2 * 1024 * 1024) /* bytes of one uploaded chunk */
#define DB_RECORDING_FILE_LEN 37 /* 32 hex digits and ".webm" */
struct db_recording {
	int64_t id;
	int video;       /* video/webm; else audio/webm */
	char file[DB_RECORDING_FILE_LEN + 1]; /* its name in the recordings directory */
	int64_t bytes, next_seq;
	int64_t started_ms, stopped_ms; /* stopped_ms 0: running */
};
struct db_rec_status {
	enum db_rec_state state;
	enum db_role by;     /* ASKED: the asker; RUNNING: who accepted */
	int64_t recording_id;/* RUNNING: the recording chunks go to */
};
int db_recordings_path(const char *path, char *out, size_t outlen); /* x.db -> x-recordings */
int db_recording_status(struct db *db, const char *session_id, struct db_rec_status *out);
/*
 * role's action on the session's recording, in one transaction with the
 * events it stores: refusals as db_recording_allowed and db_recording_next
 * say. Accepting stores the accepter's consent, the start and a new
 * recordings row; stopping stores who stopped it (detail, e.g. "left",
 * or NULL). *out is the state after.
 */
int db_recording_act(struct db *db, const char *session_id, enum db_role role,
                     enum db_rec_action a, const char *detail, int64_t now_ms,
                     struct db_rec_status *out);
/*
 * Appends chunk seq (0, 1, ...) of len bytes to the session's recording
 * id, written and fsync'd before the row counts it. Only the astrologer
 * uploads (DB_ERR_ROLE). A seq already stored is a repeat: DB_OK with
 * *duplicate set and nothing written; a seq past the next one is
 * DB_ERR_INVALID; a recording that is not the session's, or no longer
 * takes chunks (db_recording_appendable), DB_ERR_STATE; a chunk that would
 * take the session's recordings past recording_max_bytes DB_ERR_LIMIT;
 * past recordings_max_bytes, or leave less than recordings_min_free_mb on
 * the disk, DB_ERR_FULL. *out is the recording as stored after.
 */
int db_recording_append(struct db *db, const struct db_session *s, enum db_role role,
                        int64_t id, int64_t seq, const void *data, size_t len, int64_t now_ms,
                        struct db_recording *out, int *duplicate);
/* The session's recordings still kept with something in them, oldest first. */
typedef void db_recording_cb(void *arg, const struct db_recording *r);
int db_recording_list(struct db *db, const struct db_session *s, int64_t now_ms,
                      db_recording_cb *cb, void *arg);
/* One of them; DB_ERR_NOT_FOUND for another session's, an empty or a purged one. */
int db_recording_get(struct db *db, const struct db_session *s, int64_t id, int64_t now_ms,
                     struct db_recording *out);
/*
 * Deletes the recordings past retention, rows and files (*count, *bytes);
 * the events stay. Then the files in the recordings directory no row
 * names, as db_stray_due allows (*stray): what a purge cut short left.
 */
int db_recording_purge(struct db *db, int64_t now_ms, int64_t *count, int64_t *bytes,
                       struct db_swept *stray);

/* An explicit IMMEDIATE transaction around several calls that allow it. */
int db_tx_begin(struct db *db);
int db_tx_commit(struct db *db);
void db_tx_rollback(struct db *db);

/* Sessions for sessionctl list; cb gets each, newest first. */
typedef void db_session_cb(void *arg, const struct db_session *s);
int db_session_list(struct db *db, int limit, db_session_cb *cb, void *arg);

/*
 * What a participant's page found about the network path (network_reports
 * in schema.sql). Strings are the names the schema allows; NULL where the
 * phase has none.
 */
struct db_network_report {
	const char *phase;          /* "preflight" or "call" */
	const char *reach;          /* preflight: "direct", "relay" or "none" */
	const char *local, *remote; /* call: "host", "srflx", "prflx" or "relay" */
	const char *protocol;       /* call: "udp" or "tcp" */
	const char *relay_protocol; /* call from a local relay candidate: "udp", "tcp" or "tls" */
};

#define DB_NETWORK_REPORTS_MAX 20 /* one participant's reports in one session */

/*
 * Stores a report of a voice or video session's participant: DB_ERR_INVALID
 * for a value the schema does not allow, DB_ERR_STATE for a chat session
 * (it has no network path), DB_ERR_ENDED once it is over, DB_ERR_LIMIT
 * past DB_NETWORK_REPORTS_MAX.
 */
int db_network_report(struct db *db, const struct db_session *s, enum db_role role,
                      const struct db_network_report *r, int64_t now_ms);
typedef void db_network_cb(void *arg, const char *participant,
                           const struct db_network_report *r, int64_t at_ms);
int db_session_network(struct db *db, const char *session_id, db_network_cb *cb, void *arg);

/*
 * Sessions by scheduled start, oldest first, one page at a time: those of
 * a status (-1: any) starting in [from_ms, to_ms) (0: unbounded), after
 * the cursor a previous page returned ("" for the first). next is ""
 * after the last page.
 */
#define DB_CURSOR_MAX 64
struct db_session_query {
	int status;
	int64_t from_ms, to_ms;
	int limit; /* 1..DB_PAGE_MAX */
	const char *cursor;
};
#define DB_PAGE_MAX 100
int db_session_page(struct db *db, const struct db_session_query *q, db_session_cb *cb,
                    void *arg, char next[DB_CURSOR_MAX]);

/* Every astrologer with what they have earned. */
typedef void db_astrologer_cb(void *arg, const char *name, int64_t earnings);
int db_astrologer_list(struct db *db, db_astrologer_cb *cb, void *arg);

/* Per astrologer, the sessions that ended in [from_ms, to_ms) (0: unbounded). */
struct db_earnings_row {
	const char *astrologer;
	int64_t sessions, billed_minutes;
	int64_t charged, commission, earnings;
};
typedef void db_earnings_cb(void *arg, const struct db_earnings_row *row);
int db_earnings_report(struct db *db, int64_t from_ms, int64_t to_ms, db_earnings_cb *cb,
                       void *arg);

/*
 * API keys: "sk_" and 43 URL-safe characters (32 random bytes), shown
 * once by db_apikey_add; the database keeps their keyed digests. verify
 * fills *out for a known key, revoked or not (the caller refuses a
 * revoked one), DB_ERR_NOT_FOUND otherwise.
 */
#define DB_APIKEY_LEN (3 + DB_TOKEN_LEN)
struct db_apikey {
	int64_t id;
	char name[DB_NAME_MAX + 1];
	int64_t created_ms, revoked_ms, last_used_ms; /* 0: never */
};
int db_apikey_add(struct db *db, const char *name, int64_t now_ms, char key[DB_APIKEY_LEN + 1]);
int db_apikey_revoke(struct db *db, const char *name, int64_t now_ms);
typedef void db_apikey_cb(void *arg, const struct db_apikey *k);
int db_apikey_list(struct db *db, db_apikey_cb *cb, void *arg);
int db_apikey_verify(struct db *db, const char *key, struct db_apikey *out);
/* One audit row: a call that came with a key (key_name NULL: an unknown one). */
int db_audit_add(struct db *db, const char *key_name, const char *method, const char *path,
                 int status, int64_t now_ms);

/*
 * Idempotency-Key records (per API key, kept DB_IDEM_KEEP_MS). claim, in
 * its own transaction, answers with the state of the key: NEW (claimed
 * now: run the request), DONE (replay status and body), RUNNING (another
 * request holds it, for up to DB_IDEM_LEASE_MS) or MISMATCH (the key was
 * used for another request). finish stores the answer and must run in
 * the caller's db_tx_begin with the request's effect, so both commit or
 * neither does; release gives up a claim whose request failed.
 */
#define DB_IDEM_KEEP_MS (24LL * 3600 * 1000)
#define DB_IDEM_LEASE_MS 15000 /* longer than any live request: nginx waits 10 s for an answer */
#define DB_IDEM_KEY_MAX 255
enum db_idem_state { DB_IDEM_NEW, DB_IDEM_DONE, DB_IDEM_RUNNING, DB_IDEM_MISMATCH };
struct db_idem_req {
	int64_t key_id;
	const char *idem_key;
	const char *action; /* what the request does, as the front end names it */
	const char *body;   /* its input as sent */
	size_t body_len;
};
struct db_idem {
	enum db_idem_state state;
	unsigned char claim[16];
	int status;   /* DONE: the stored answer */
	char *body;   /* DONE: owned, free() it: the stored answer's body */
};
int db_idem_claim(struct db *db, const struct db_idem_req *q, int64_t now_ms,
                  struct db_idem *out);
int db_idem_finish(struct db *db, const struct db_idem_req *q, const struct db_idem *claim,
                   int status, const char *body);
int db_idem_release(struct db *db, const struct db_idem_req *q, const struct db_idem *claim);

/* What sessionctl show prints beside the session. */
typedef void db_event_cb(void *arg, const char *kind, const char *participant,
                         const char *detail, int64_t at_ms);
int db_session_events(struct db *db, const char *session_id, db_event_cb *cb,
                      void *arg);
int db_settlement_get(struct db *db, const char *session_id,
                      struct db_settlement *out);

/*
 * Shared files. The bytes live in a directory beside the database
 * (db_files_dir), each under a random name, written to a temporary name,
 * synced and renamed only in the transaction that records them in the
 * chat file, so a refused or broken upload leaves nothing behind. Calls
 * that take a struct db take a chat handle (db_chat_open).
 */
#define DB_FILE_NAME_MAX 120  /* bytes of a file's name as shown */
#define DB_FILE_STORAGE_LEN 32 /* hex digits of its name on disk */
int db_files_dir(const char *path, char *out, size_t outlen); /* x.db -> x-files */

struct db_file {
	int64_t id;
	char session_id[DB_ID_LEN + 1];
	enum db_role sender;
	char name[DB_FILE_NAME_MAX + 1];
	int64_t bytes;
	enum db_file_type type;
	char storage[DB_FILE_STORAGE_LEN + 1]; /* its name in the files directory */
	int64_t created_ms;
	int gone;                  /* purged: the bytes are deleted */
};

/* An upload on its way to disk. */
struct db_upload;
/*
 * Opens a temporary file for an upload of the database at path (making
 * the files directory, 0750, when it is missing). DB_ERR_STORE or
 * DB_ERR_FULL when the file system refuses.
 */
int db_upload_begin(struct db *db, const char *path, struct db_upload **out);
/* Appends bytes; DB_ERR_TOO_LARGE past file_max_bytes, DB_ERR_FILE_TYPE once the first bytes show the type is not allowed. */
int db_upload_write(struct db *db, struct db_upload *u, const void *p, size_t n);
/*
 * Records the upload as a file of the session from sender with the
 * given name (cleaned: no path, no control characters, at most
 * DB_FILE_NAME_MAX bytes; DB_ERR_INVALID when it is not UTF-8), in one
 * IMMEDIATE transaction that checks the session has not ended
 * (DB_ERR_ENDED) and the session's cap (DB_ERR_FILES_FULL). Frees u
 * whatever the outcome; nothing stays on disk unless it answers DB_OK.
 */
int db_upload_finish(struct db *db, struct db_upload *u, const char *session_id,
                     enum db_role sender, const char *name, int64_t now_ms, struct db_file *out);
/* Drops an upload: its temporary file is deleted. */
void db_upload_abort(struct db_upload *u);
/* The file with this id in this session: DB_ERR_NOT_FOUND when there is none, DB_ERR_GONE once purged. */
int db_file_get(struct db *db, const char *session_id, int64_t id, struct db_file *out);
/*
 * Deletes the files db_file_expired says are due at now_ms (their rows
 * stay, marked purged; *count is how many), then the files in the
 * directory no kept row names, as db_stray_due allows (*stray): uploads
 * never finished, a file a crash left unrecorded.
 */
int db_files_purge(struct db *db, const char *path, int64_t now_ms, int64_t *count,
                   struct db_swept *stray);

/*
 * A consistent copy of the live database into file (not the key), of its
 * chat file into db_chat_path(file), and of the shared files and
 * recordings the copies' rows name into db_files_dir(file) and
 * db_recordings_path(file) (0700; nothing else in them), safe while
 * others write. A file is a hard link to the live one when it can no
 * longer change and the file system allows, else a copy; a recording
 * still running holds the bytes its copied row counts. now_ms decides
 * which recordings still run. An existing backup of that name is
 * replaced; DB_ERR_INVALID when file would land on the live database.
 */
struct db_backed_up {
	int64_t files, file_bytes;           /* shared files in the backup */
	int64_t recordings, recording_bytes; /* recordings in the backup */
	int64_t linked;                      /* of both, hard links rather than copies */
};
int db_backup(struct db *db, const char *file, int64_t now_ms, struct db_backed_up *out);

/* Money at the edges: "97.00" <-> 9700. Refuses signs, >2 decimals, > DB_AMOUNT_MAX. */
int db_money_parse(const char *s, int64_t *out);
void db_money_format(int64_t amount, char buf[32]);

/* ISO 8601 in UTC at the edges: "2024-01-01T10:00:00Z" <-> ms; the years 1970..9999 once any offset applies. */
int db_time_parse(const char *s, int64_t *out_ms);
void db_time_format(int64_t ms, char buf[32]);

#endif
