/* relay.h: the relay's shared state: connections, rooms, frames, limits. */
#ifndef SESSIONS_RELAY_H
#define SESSIONS_RELAY_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>
#include <libwebsockets.h>

#include "db.h"

#define RELAY_MSG_MAX 65536             /* bytes of one reassembled message: more closes 1009 */
#define RELAY_RX_CHUNK 512              /* lws rx buffer: small, it is allocated per connection */
#define RELAY_QUEUE_FRAMES 512          /* a connection's send queue holds at most this many */
#define RELAY_QUEUE_BYTES (2u << 20)    /* ... and this many bytes */
#define RELAY_BATCH_FRAMES 64          /* frames written together in one system call */
#define RELAY_BATCH_BYTES 65536         /* ... and their bytes */
#define RELAY_JOIN_TIMEOUT_S 10         /* time to send join-room */
#define RELAY_DRAIN_TIMEOUT_S 5         /* time to read a last frame before a close */
#define RELAY_STRIKES_MAX 50            /* rate-limited frames in a row before a close */
#define RELAY_HISTORY_MAX 200           /* messages in one joined/history frame */
#define RELAY_HISTORY_BYTES (48 * 1024) /* ... and their JSON size */
#define RELAY_ORIGINS_MAX 16
#define RELAY_ORIGIN_LEN 256
#define RELAY_CANDIDATE_MAX 1024        /* bytes of an ICE candidate line */
#define RELAY_WATCH_MS 250              /* how often rooms are compared with the database */
#define RELAY_BUSY_MS 500               /* the longest the loop waits for another writer's lock */
#define RELAY_STORE_BUSY_MS 2000        /* ... and the chat writer, which blocks no connection */
#define RELAY_CHAT_WAITING 4096         /* chat messages sent to the writer and not yet answered */
#define RELAY_BUCKETS 4096              /* rooms hash table */

/* A frame waiting in a connection's send queue. */
struct relay_out {
	struct relay_out *next;
	size_t len;
	unsigned char buf[]; /* LWS_PRE bytes of headroom, then len bytes */
};

struct relay_room;

/* One WebSocket connection: lws allocates and frees it (per-session data). */
struct relay_conn {
	struct lws *wsi;
	struct relay_room *room; /* the joined room, NULL before join or after leaving */
	enum db_role role;
	int origin_ok;
	int closing;           /* close code to send once the queue drains; 0 when open */
	int dead;              /* dropped: nothing more is sent or read */
	int close_sent;        /* the close frame is out: lws awaits the peer's answer */
	char *rx;              /* is malloc'd: a message being reassembled from fragments */
	size_t rx_len, rx_cap;
	int rx_active;         /* fragments of a message are arriving */
	double tokens;         /* rate limit bucket */
	lws_usec_t refilled_us;
	int strikes;           /* frames refused in a row by the rate limit */
	struct relay_out *head, *tail; /* is malloc'd: the send queue, each node */
	unsigned queued;
	size_t queued_bytes;
};

/* A session that has at least one connection. */
struct relay_room {
	struct relay *relay;
	struct relay_room *next;         /* hash chain */
	struct relay_room *all_prev, *all_next; /* the list the watch timer walks */
	char session_id[DB_ID_LEN + 1];
	enum db_type type;
	enum db_status status;
	int64_t started_ms, deadline_ms;
	int ended;
	int warned;                      /* bit 0: 5 minutes, bit 1: 1 minute sent */
	struct relay_conn *conn[2];      /* by enum db_role; not owned */
	lws_sorted_usec_list_t timer;    /* the next warning or the deadline; cancel before free */
};

/* A chat message the writer has not answered yet: the loop's side, never seen by the writer. */
struct relay_chat {
	struct relay_chat *next;
	struct relay_conn *from;  /* NULL once the sender closed */
	char session_id[DB_ID_LEN + 1];
};

/* A growable string for building JSON frames; oom makes every later add a no-op. */
struct relay_buf {
	char *p;    /* is malloc'd */
	size_t len; /* bytes after the headroom */
	size_t cap;
	int oom;
};

/*
 * A chat message in the writer's hands: copies only, nothing that points
 * into the loop's connections or rooms. The loop fills the request and
 * puts it on todo; the writer fills the answer and moves it to done.
 */
struct relay_store_job {
	struct relay_store_job *next; /* on todo or done: guarded by the store's lock there */
	char session_id[DB_ID_LEN + 1];
	enum db_role role;
	char client_id[DB_CLIENT_ID_MAX + 1];
	char *body;                   /* is malloc'd */
	int64_t at_ms;
	int err;                      /* the answer: DB_OK or a db error */
	int duplicate;                /* the clientId was stored before: the frame is the old row */
	struct relay_buf frame;       /* its p is malloc'd: the stored row as a message frame */
};

/* The chat writer thread and the two lists it shares with the loop. */
struct relay_store {
	struct db *db;                /* owned, used by the writer thread only: struct db is not thread-safe */
	struct lws_context *ctx;      /* for lws_cancel_service, the one lws call safe off the loop */
	pthread_t thread;
	int running;                  /* loop only: started and not yet joined */
	pthread_mutex_t lock;         /* guards todo, done, idle and stop */
	pthread_cond_t wake;          /* tells an idle writer about new jobs or stop */
	struct relay_store_job *todo_head, *todo_tail; /* needs lock; is malloc'd: waiting for the writer */
	struct relay_store_job *done_head, *done_tail; /* needs lock; is malloc'd: answered, for the loop */
	int idle;                     /* needs lock: the writer waits on wake */
	int stop;                     /* needs lock: store what is queued, then end */
};

struct relay {
	struct lws_context *ctx;
	struct db *db;            /* owned: closed at shutdown */
	char origins[RELAY_ORIGINS_MAX][RELAY_ORIGIN_LEN];
	int norigins;
	double rate, burst;       /* frames per second and bucket size */
	struct json_tokener *tok; /* is json_tokener_new'd: reused for every frame */
	struct relay_buf scratch; /* its p is malloc'd: reused to build each relayed frame */
	unsigned char *batch;     /* is malloc'd: LWS_PRE + RELAY_BATCH_BYTES, frames written together */
	struct relay_room *buckets[RELAY_BUCKETS];
	struct relay_room *all;   /* every room, for the watch timer */
	struct relay_room *cursor;/* where the watch timer stopped */
	int watch_passes;         /* passes still owed to the last change seen */
	int nrooms;
	int stopping;             /* shutting down: no more presence frames */
	struct relay_chat *chat_head, *chat_tail; /* is malloc'd: with the writer, in the order sent */
	int chat_waiting;         /* length of that list */
	int chat_max;             /* refuse chat beyond this many waiting (--chat-queue) */
	struct relay_store store; /* the chat writer */
	lws_sorted_usec_list_t watch_sul; /* compares rooms with the database */
};

/* buf.c */
void relay_buf_init(struct relay_buf *b);
void relay_buf_free(struct relay_buf *b);
void relay_buf_reset(struct relay_buf *b);
void relay_buf_add(struct relay_buf *b, const char *s, size_t n);
void relay_buf_str(struct relay_buf *b, const char *s);
void relay_buf_json(struct relay_buf *b, const char *s, size_t n);
void relay_buf_fmt(struct relay_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void relay_buf_time(struct relay_buf *b, int64_t ms);
char *relay_buf_data(struct relay_buf *b);

/* conn.c */
int relay_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
                   void *in, size_t len);
int relay_conn_send(struct relay_conn *c, const char *data, size_t len);
int relay_conn_sendbuf(struct relay_conn *c, struct relay_buf *b);
void relay_conn_error(struct relay_conn *c, const char *code, const char *message,
                      int close_code);
void relay_conn_close(struct relay_conn *c, int close_code);
void relay_conn_drop(struct relay_conn *c);
struct relay *relay_from_wsi(struct lws *wsi);

/* proto.c */
void relay_proto_frame(struct relay *r, struct relay_conn *c, const char *data, size_t len);
void relay_proto_message(struct relay_buf *b, const struct db_chat *m);

/* room.c */
int relay_room_enter(struct relay *r, struct relay_conn *c, const struct db_session *s,
                     enum db_role role, struct relay_room **out);
void relay_room_leave(struct relay *r, struct relay_conn *c, int announce);
void relay_room_send(struct relay_room *room, int role, struct relay_buf *b);
void relay_room_update(struct relay *r, struct relay_room *room, const struct db_session *s);
void relay_room_end(struct relay *r, struct relay_room *room, const struct db_session *s);
void relay_room_chat(struct relay *r, struct relay_conn *c, char *body,
                     const char *client_id);
void relay_room_forget(struct relay *r, struct relay_conn *c);
void relay_room_answers(struct relay *r);
void relay_room_start(struct relay *r);
void relay_room_shutdown(struct relay *r);

/* store.c */
int relay_store_start(struct relay_store *s, const char *path, struct lws_context *ctx,
                      char *err, size_t errlen);
void relay_store_put(struct relay_store *s, struct relay_store_job *j);
struct relay_store_job *relay_store_take(struct relay_store *s);
struct relay_store_job *relay_store_stop(struct relay_store *s);
void relay_store_job_free(struct relay_store_job *j);

/* sdp.c */
enum relay_sdp_verdict {
	RELAY_SDP_OK = 0,
	RELAY_SDP_MALFORMED = -1,
	RELAY_SDP_VIDEO = -2, /* active video in a voice session */
	RELAY_SDP_MEDIA = -3, /* a media kind the session does not carry */
};
int relay_sdp_check(const char *sdp, size_t len, enum db_type type);

#endif
