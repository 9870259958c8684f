/* chat_writer.h: the chat writer: one thread with its own connection to the chat file, so no fsync stalls the loop. */
#ifndef SESSIONS_RELAY_CHAT_WRITER_H
#define SESSIONS_RELAY_CHAT_WRITER_H

#include <stddef.h>
#include <stdint.h>

#include <libwebsockets.h>

#include "buf.h"
#include "db.h"

struct relay_chat_writer;

/*
 * A chat message, or a reaction on one, in the writer's hands: copies
 * only, nothing that points into the loop's connections or rooms. The
 * loop fills the request and puts it; the writer fills the answer and
 * hands it back.
 */
struct relay_chat_job {
	struct relay_chat_job *next;  /* while the writer has it: needs the writer's lock */
	struct relay_chat_job *early_next; /* needs the writer's lock: on the list of messages written, not yet committed */
	uint64_t ticket;              /* the answer finds its waiting sender by this (waiting.h) */
	char session_id[DB_ID_LEN + 1];
	enum db_role role;
	char client_id[DB_CLIENT_ID_MAX + 1];
	char *body;                   /* is malloc'd; NULL for a file's announcement or a reaction */
	int64_t file_id;              /* the file a message of kind file announces, else 0 */
	const char *emoji;            /* a reaction: one of db_reactions (static); NULL for a message */
	int64_t seq;                  /* a reaction: the message it is on; a stored message: its own */
	int on;                       /* a reaction: put (1) or taken back (0) */
	int64_t at_ms;
	int err;                      /* the answer: DB_OK or a db error */
	int duplicate;                /* nothing changed (a clientId stored before, a reaction as it was): to the sender only */
	int early;                    /* the loop's: the other participant has the frame, the sender waits for the commit */
	struct relay_buf frame;       /* its p is malloc'd: the stored row as a message frame */
};

int relay_chat_writer_start(struct relay_chat_writer **out, const char *path,
                            struct lws_context *ctx, char *err, size_t errlen);
void relay_chat_writer_put(struct relay_chat_writer *w, struct relay_chat_job *j);
struct relay_chat_job *relay_chat_writer_take(struct relay_chat_writer *w, struct relay_chat_job **early);
struct relay_chat_job *relay_chat_writer_stop(struct relay_chat_writer **w);
void relay_chat_writer_job_free(struct relay_chat_job *j);

#endif
