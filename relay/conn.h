/* conn.h: one WebSocket connection and what all connections share. */
#ifndef SESSIONS_RELAY_CONN_H
#define SESSIONS_RELAY_CONN_H

#include <stddef.h>

#include <libwebsockets.h>

#include "buf.h"
#include "errors.h"
#include "db.h"

#define RELAY_ORIGINS_MAX 16
#define RELAY_ORIGIN_LEN 256

struct relay_room;
struct relay_out;

/* One WebSocket connection: lws allocates and frees it (per-session data). */
struct relay_conn {
	struct lws *wsi;
	struct relay_room *room; /* the joined room, NULL before join or after leaving */
	enum db_role role;
	unsigned char link_fp[DB_LINK_FP_LEN]; /* which link it joined with: a reissue makes it stale */
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
	lws_usec_t opened_us;  /* when the handshake ended: the join deadline counts from here */
	lws_usec_t heard_us;   /* the handshake or the last answer to a ping */
	int pinged;            /* a ping went out since heard_us */
	int ping_due;          /* a ping waits for the next write */
	struct lws_dll2 heard;   /* in relay_idle.heard until closed */
	struct lws_dll2 joining; /* in relay_idle.joining until joined or closing */
	struct relay_out *head, *tail; /* is malloc'd: the send queue, each node */
	unsigned queued;
	size_t queued_bytes;
};

/* What every connection shares: main.c sets it up before the loop runs. */
struct relay_conns {
	char origins[RELAY_ORIGINS_MAX][RELAY_ORIGIN_LEN];
	int norigins;
	double rate, burst;       /* frames per second and bucket size */
	unsigned char *batch;     /* is malloc'd: frames written together in one system call */
};

/* The relay's one lws protocol, bound to every /ws handshake. */
extern const struct lws_protocols relay_conn_protocols[];

int relay_conn_setup(struct relay_conns *cs);
void relay_conn_teardown(struct relay_conns *cs);
int relay_conn_allow(struct relay_conns *cs, const char *origin);
int relay_conn_sendbuf(struct relay_conn *c, struct relay_buf *b);
/*
 * Sends an error frame: the code and, unless detail says more, the message
 * of wire/errors.c's row; then closes with close_code unless it is 0.
 */
void relay_conn_error(struct relay_conn *c, enum wire_err err, const char *detail,
                      int close_code);
/*
 * The error frame that refuses a chat message (text or file) and keeps the
 * connection: it carries the message's clientId unless client_id is NULL
 * or empty, so the page knows which of its pending messages failed.
 */
void relay_conn_refuse(struct relay_conn *c, enum wire_err err, const char *detail,
                       const char *client_id);
void relay_conn_close(struct relay_conn *c, int close_code);
/* Closes at once, without a close frame: for a peer that lags or has gone silent. */
void relay_conn_drop(struct relay_conn *c);
/* A WebSocket ping, sent before anything else queued. */
void relay_conn_ping(struct relay_conn *c);

#endif
