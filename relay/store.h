/* store.h: the chat writer: one thread with its own database connection, so no fsync stalls the loop. */
#ifndef SESSIONS_RELAY_STORE_H
#define SESSIONS_RELAY_STORE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include <libwebsockets.h>

#include "buf.h"
#include "db.h"

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

int relay_store_start(struct relay_store *s, const char *path, struct lws_context *ctx,
                      char *err, size_t errlen);
void relay_store_put(struct relay_store *s, struct relay_store_job *j);
struct relay_store_job *relay_store_take(struct relay_store *s);
struct relay_store_job *relay_store_stop(struct relay_store *s);
void relay_store_job_free(struct relay_store_job *j);

#endif
