/* chat_writer.c: the chat writer: one thread with its own connection to the chat file, so no fsync stalls the loop. */
#define _GNU_SOURCE /* pthread_setname_np */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "chat_writer.h"
#include "proto.h"

/* Only chat waits on the writer's lock, never a connection: it may wait longer than the loop. */
#define RELAY_CHAT_WRITER_BUSY_MS 2000
/* WAL frames (pages) after which the checkpointer copies the WAL into the chat file. */
#define RELAY_CHAT_CHECKPOINT_FRAMES 1000

/* The writer thread, the checkpointer, and the lists they share with the loop. */
struct relay_chat_writer {
	struct db *db;                /* owned, the chat file's; used by the writer thread only: struct db is not thread-safe */
	struct db *ckpt_db;           /* owned, the chat file's; used by the checkpointer only */
	struct lws_context *ctx;      /* for lws_cancel_service, the one lws call safe off the loop */
	pthread_t thread, ckpt_thread;
	pthread_mutex_t lock;         /* guards the lists, idle, ckpt_due and stop */
	pthread_cond_t wake;          /* tells an idle writer about new jobs or stop */
	pthread_cond_t ckpt_wake;     /* tells the checkpointer the WAL has grown, or stop */
	struct relay_chat_job *todo_head, *todo_tail; /* needs lock; is malloc'd: waiting for the writer */
	struct relay_chat_job *done_head, *done_tail; /* needs lock; is malloc'd: answered, for the loop */
	struct relay_chat_job *early_head, *early_tail; /* needs lock; linked by early_next, owned by the
	                                                   batch: written, for the other participant now */
	int idle;                     /* needs lock: the writer waits on wake */
	int ckpt_due;                 /* needs lock: the checkpointer has work */
	int stop;                     /* needs lock: store what is queued, then end */
};

/* Appends a list (first..last, linked by next) to a head/tail pair; the caller holds the lock. */
#define APPEND(head, tail, first, last, link) \
	do { \
		if (tail) \
			(tail)->link = (first); \
		else \
			(head) = (first); \
		(tail) = (last); \
	} while (0)

/*
 * Hands the loop the batch's new messages before the commit, so the
 * other participant does not wait for the fsync; their senders hear
 * only once it is on disk. A commit that fails takes them back
 * (relay_room_answers).
 */
static void send_early(struct relay_chat_writer *w, struct relay_chat_job *batch)
{
	struct relay_chat_job *j, *first = NULL, *last = NULL;

	for (j = batch; j; j = j->next) {
		if (j->err != DB_OK || j->duplicate || j->emoji)
			continue;
		j->early_next = NULL;
		APPEND(first, last, j, j, early_next);
	}
	if (!first)
		return;
	pthread_mutex_lock(&w->lock);
	APPEND(w->early_head, w->early_tail, first, last, early_next);
	pthread_mutex_unlock(&w->lock);
	lws_cancel_service(w->ctx);
}

/* Stores one batch in one transaction (one fsync) and writes each job's answer. */
static void store_batch(struct relay_chat_writer *w, struct relay_chat_job *batch)
{
	struct db *db = w->db;
	struct relay_chat_job *j;
	struct db_chat stored;
	int tx = db_tx_begin(db), err, changed;

	for (j = batch; j; j = j->next) {
		if (tx != DB_OK) {
			j->err = tx;
			continue;
		}
		if (j->emoji) {
			j->err = db_chat_react(db, j->session_id, j->role, j->seq, j->emoji, j->on,
			                       j->at_ms, &changed);
			j->duplicate = !changed;
			if (j->err == DB_OK)
				relay_proto_reaction(&j->frame, j->seq, j->emoji, j->role, j->on);
			continue;
		}
		if (j->file_id)
			j->err = db_chat_append_file(db, j->session_id, j->role, j->file_id,
			                             j->client_id[0] ? j->client_id : NULL, j->at_ms, &stored,
			                             &j->duplicate);
		else
			j->err = db_chat_append(db, j->session_id, j->role, j->body,
			                        j->client_id[0] ? j->client_id : NULL, j->at_ms, &stored,
			                        &j->duplicate);
		if (j->err == DB_OK) {
			j->seq = stored.seq;
			relay_proto_message(&j->frame, &stored);
		}
	}
	if (tx == DB_OK)
		send_early(w, batch);
	/* A failed commit may still have stored them: resends with the same clientId land once. */
	if (tx == DB_OK && (err = db_tx_commit(db)) != DB_OK)
		for (j = batch; j; j = j->next)
			j->err = err;
	for (j = batch; j; j = j->next)
		/* A refused file (not this sender's, announced, purged) is the sender's mistake, not the store's. */
		if (j->err != DB_OK && j->err != DB_ERR_INVALID && j->err != DB_ERR_NOT_FOUND &&
		    j->err != DB_ERR_GONE) {
			fprintf(stderr, "relay: chat not stored: %s\n", db_errmsg(db));
			break;
		}
}

/*
 * The writer: takes everything queued, stores it as one batch, hands the
 * answers back and wakes the loop. Messages that arrive during a commit
 * make the next batch, so the busier the relay the fewer fsyncs a message.
 */
static void *writer_main(void *arg)
{
	struct relay_chat_writer *w = arg;
	struct relay_chat_job *batch, *last;

	pthread_mutex_lock(&w->lock);
	for (;;) {
		while (!w->todo_head && !w->stop) {
			w->idle = 1;
			pthread_cond_wait(&w->wake, &w->lock);
		}
		w->idle = 0;
		if (!w->todo_head)
			break;
		batch = w->todo_head;
		last = w->todo_tail;
		w->todo_head = w->todo_tail = NULL;
		pthread_mutex_unlock(&w->lock);

		store_batch(w, batch);

		pthread_mutex_lock(&w->lock);
		APPEND(w->done_head, w->done_tail, batch, last, next);
		if (db_wal_frames(w->db) >= RELAY_CHAT_CHECKPOINT_FRAMES && !w->ckpt_due) {
			w->ckpt_due = 1;
			pthread_cond_signal(&w->ckpt_wake);
		}
		pthread_mutex_unlock(&w->lock);
		lws_cancel_service(w->ctx);
		pthread_mutex_lock(&w->lock);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

/* The checkpointer: copies the WAL into the chat file while the writer goes on committing. */
static void *checkpoint_main(void *arg)
{
	struct relay_chat_writer *w = arg;

	pthread_mutex_lock(&w->lock);
	while (!w->stop) {
		if (!w->ckpt_due) {
			pthread_cond_wait(&w->ckpt_wake, &w->lock);
			continue;
		}
		pthread_mutex_unlock(&w->lock);
		if (db_checkpoint(w->ckpt_db) != DB_OK)
			fprintf(stderr, "relay: chat checkpoint: %s\n", db_errmsg(w->ckpt_db));
		pthread_mutex_lock(&w->lock);
		w->ckpt_due = 0;
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

int relay_chat_writer_start(struct relay_chat_writer **out, const char *path,
                            struct lws_context *ctx, char *err, size_t errlen)
{
	struct relay_chat_writer *w;

	if (!(w = calloc(1, sizeof *w))) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (db_chat_open(path, &w->db, err, errlen) != DB_OK)
		goto fail;
	if (db_chat_open(path, &w->ckpt_db, err, errlen) != DB_OK)
		goto fail_db;
	db_set_busy_timeout(w->db, RELAY_CHAT_WRITER_BUSY_MS);
	db_checkpoint_deferred(w->db);
	w->ctx = ctx;
	if (pthread_mutex_init(&w->lock, NULL))
		goto fail_db;
	if (pthread_cond_init(&w->wake, NULL))
		goto fail_lock;
	if (pthread_cond_init(&w->ckpt_wake, NULL))
		goto fail_cond;
	if (pthread_create(&w->thread, NULL, writer_main, w)) {
		snprintf(err, errlen, "could not start the chat writer");
		goto fail_ckpt_cond;
	}
	/* Named for top -H and for tools that must find them (a test holds the writer's fsync). */
	pthread_setname_np(w->thread, "chat-writer");
	if (pthread_create(&w->ckpt_thread, NULL, checkpoint_main, w)) {
		snprintf(err, errlen, "could not start the chat checkpointer");
		pthread_mutex_lock(&w->lock);
		w->stop = 1;
		pthread_cond_signal(&w->wake);
		pthread_mutex_unlock(&w->lock);
		pthread_join(w->thread, NULL);
		goto fail_ckpt_cond;
	}
	pthread_setname_np(w->ckpt_thread, "chat-checkpoint");
	*out = w;
	return 0;
fail_ckpt_cond:
	pthread_cond_destroy(&w->ckpt_wake);
fail_cond:
	pthread_cond_destroy(&w->wake);
fail_lock:
	pthread_mutex_destroy(&w->lock);
fail_db:
	db_close(w->ckpt_db);
	db_close(w->db);
fail:
	free(w);
	return -1;
}

/* Hands a job (and its body) to the writer. */
void relay_chat_writer_put(struct relay_chat_writer *w, struct relay_chat_job *j)
{
	j->next = NULL;
	pthread_mutex_lock(&w->lock);
	if (w->todo_tail)
		w->todo_tail->next = j;
	else
		w->todo_head = j;
	w->todo_tail = j;
	/* A writer in the middle of a commit finds the job when it comes back: no wakeup needed. */
	if (w->idle)
		pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->lock);
}

/*
 * Every answered job, in the order they were put, and in *early the
 * messages written since the last call (linked by early_next), which
 * the loop must pass on before their answers; NULL once the writer has
 * stopped.
 */
struct relay_chat_job *relay_chat_writer_take(struct relay_chat_writer *w, struct relay_chat_job **early)
{
	struct relay_chat_job *list;

	*early = NULL;
	if (!w)
		return NULL;
	pthread_mutex_lock(&w->lock);
	list = w->done_head;
	*early = w->early_head;
	w->done_head = w->done_tail = NULL;
	w->early_head = w->early_tail = NULL;
	pthread_mutex_unlock(&w->lock);
	return list;
}

/*
 * Stores everything still queued, ends the writer and the checkpointer
 * and frees them (*w becomes NULL); returns the last answers. Messages
 * the loop did not pass on early are answered to both participants.
 */
struct relay_chat_job *relay_chat_writer_stop(struct relay_chat_writer **wp)
{
	struct relay_chat_writer *w = *wp;
	struct relay_chat_job *list;

	if (!w)
		return NULL;
	pthread_mutex_lock(&w->lock);
	w->stop = 1;
	pthread_cond_signal(&w->wake);
	pthread_cond_signal(&w->ckpt_wake);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	pthread_join(w->ckpt_thread, NULL);
	list = w->done_head;
	pthread_cond_destroy(&w->ckpt_wake);
	pthread_cond_destroy(&w->wake);
	pthread_mutex_destroy(&w->lock);
	db_close(w->ckpt_db);
	db_close(w->db);
	free(w);
	*wp = NULL;
	return list;
}

void relay_chat_writer_job_free(struct relay_chat_job *j)
{
	free(j->body);
	relay_buf_free(&j->frame);
	free(j);
}
