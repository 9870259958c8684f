/* store.c: the chat writer: one thread with its own database connection, so no fsync stalls the loop. */
#include <stdio.h>
#include <stdlib.h>

#include "proto.h"
#include "store.h"

/* Only chat waits on the writer's lock, never a connection: it may wait longer than the loop. */
#define RELAY_STORE_BUSY_MS 2000

/* Stores one batch in one transaction (one fsync) and writes each job's answer. */
static void store_batch(struct db *db, struct relay_store_job *batch)
{
	struct relay_store_job *j;
	struct db_chat stored;
	int tx = db_tx_begin(db), err;

	for (j = batch; j; j = j->next) {
		if (tx != DB_OK) {
			j->err = tx;
			continue;
		}
		j->err = db_chat_append(db, j->session_id, j->role, j->body,
		                        j->client_id[0] ? j->client_id : NULL, j->at_ms, &stored,
		                        &j->duplicate);
		if (j->err == DB_OK)
			relay_proto_message(&j->frame, &stored);
	}
	/* A failed commit may still have stored them: resends with the same clientId land once. */
	if (tx == DB_OK && (err = db_tx_commit(db)) != DB_OK)
		for (j = batch; j; j = j->next)
			j->err = err;
	for (j = batch; j; j = j->next)
		if (j->err != DB_OK && j->err != DB_ERR_INVALID) {
			fprintf(stderr, "relay: chat not stored: %s\n", db_errmsg(db));
			break;
		}
}

/*
 * The writer: takes everything queued, stores it as one batch, hands the
 * answers back and wakes the loop. Messages that arrive during a commit
 * make the next batch, so the busier the relay the fewer fsyncs a message.
 */
static void *store_main(void *arg)
{
	struct relay_store *s = arg;
	struct relay_store_job *batch, *last;

	pthread_mutex_lock(&s->lock);
	for (;;) {
		while (!s->todo_head && !s->stop) {
			s->idle = 1;
			pthread_cond_wait(&s->wake, &s->lock);
		}
		s->idle = 0;
		if (!s->todo_head)
			break;
		batch = s->todo_head;
		last = s->todo_tail;
		s->todo_head = s->todo_tail = NULL;
		pthread_mutex_unlock(&s->lock);

		store_batch(s->db, batch);

		pthread_mutex_lock(&s->lock);
		if (s->done_tail)
			s->done_tail->next = batch;
		else
			s->done_head = batch;
		s->done_tail = last;
		pthread_mutex_unlock(&s->lock);
		lws_cancel_service(s->ctx);
		pthread_mutex_lock(&s->lock);
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

int relay_store_start(struct relay_store *s, const char *path, struct lws_context *ctx,
                      char *err, size_t errlen)
{
	if (db_open(path, &s->db, err, errlen) != DB_OK)
		return -1;
	db_set_busy_timeout(s->db, RELAY_STORE_BUSY_MS);
	s->ctx = ctx;
	if (pthread_mutex_init(&s->lock, NULL))
		goto fail_db;
	if (pthread_cond_init(&s->wake, NULL))
		goto fail_lock;
	if (pthread_create(&s->thread, NULL, store_main, s)) {
		snprintf(err, errlen, "could not start the chat writer");
		goto fail_cond;
	}
	s->running = 1;
	return 0;
fail_cond:
	pthread_cond_destroy(&s->wake);
fail_lock:
	pthread_mutex_destroy(&s->lock);
fail_db:
	db_close(s->db);
	s->db = NULL;
	return -1;
}

/* Hands a job (and its body) to the writer. */
void relay_store_put(struct relay_store *s, struct relay_store_job *j)
{
	j->next = NULL;
	pthread_mutex_lock(&s->lock);
	if (s->todo_tail)
		s->todo_tail->next = j;
	else
		s->todo_head = j;
	s->todo_tail = j;
	/* A writer in the middle of a commit finds the job when it comes back: no wakeup needed. */
	if (s->idle)
		pthread_cond_signal(&s->wake);
	pthread_mutex_unlock(&s->lock);
}

/* Every answered job, in the order they were put; NULL once the writer has stopped. */
struct relay_store_job *relay_store_take(struct relay_store *s)
{
	struct relay_store_job *list;

	if (!s->running)
		return NULL;
	pthread_mutex_lock(&s->lock);
	list = s->done_head;
	s->done_head = s->done_tail = NULL;
	pthread_mutex_unlock(&s->lock);
	return list;
}

/* Stores everything still queued, ends the writer and closes its connection; returns the last answers. */
struct relay_store_job *relay_store_stop(struct relay_store *s)
{
	struct relay_store_job *list;

	if (!s->running)
		return NULL;
	pthread_mutex_lock(&s->lock);
	s->stop = 1;
	pthread_cond_signal(&s->wake);
	pthread_mutex_unlock(&s->lock);
	pthread_join(s->thread, NULL);
	s->running = 0;
	list = s->done_head;
	s->done_head = s->done_tail = NULL;
	pthread_cond_destroy(&s->wake);
	pthread_mutex_destroy(&s->lock);
	db_close(s->db);
	s->db = NULL;
	return list;
}

void relay_store_job_free(struct relay_store_job *j)
{
	free(j->body);
	relay_buf_free(&j->frame);
	free(j);
}
