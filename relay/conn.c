/* conn.c: one WebSocket connection: origin, reassembly, rate limit, the send queue. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "relay.h"
#include "room.h"

#define RELAY_MSG_MAX 65536             /* bytes of one reassembled message: more closes 1009 */
#define RELAY_RX_CHUNK 512              /* lws rx buffer: small, it is allocated per connection */
#define RELAY_QUEUE_FRAMES 512          /* a connection's send queue holds at most this many */
#define RELAY_QUEUE_BYTES (2u << 20)    /* ... and this many bytes */
#define RELAY_BATCH_FRAMES 64           /* frames written together in one system call */
#define RELAY_BATCH_BYTES 65536         /* ... and their bytes */
#define RELAY_DRAIN_TIMEOUT_S 5         /* time to read a last frame before a close */
#define RELAY_STRIKES_MAX 50            /* rate-limited frames in a row before a close */

/* A frame waiting in a connection's send queue. */
struct relay_out {
	struct relay_out *next;
	size_t len;
	unsigned char buf[]; /* LWS_PRE bytes of headroom, then len bytes */
};

int relay_conn_setup(struct relay_conns *cs)
{
	return (cs->batch = malloc(LWS_PRE + RELAY_BATCH_BYTES)) ? 0 : -1;
}

void relay_conn_teardown(struct relay_conns *cs)
{
	free(cs->batch);
	cs->batch = NULL;
}

/* Every http://127.0.0.1:PORT origin also allows http://localhost:PORT, the same page. */
int relay_conn_allow(struct relay_conns *cs, const char *o)
{
	static const char loop[] = "http://127.0.0.1:";

	if (cs->norigins + 2 > RELAY_ORIGINS_MAX || strlen(o) + 10 >= RELAY_ORIGIN_LEN)
		return -1;
	snprintf(cs->origins[cs->norigins++], RELAY_ORIGIN_LEN, "%s", o);
	if (!strncmp(o, loop, sizeof loop - 1))
		snprintf(cs->origins[cs->norigins++], RELAY_ORIGIN_LEN, "http://localhost:%s",
		         o + sizeof loop - 1);
	return 0;
}

static int origin_allowed(const struct relay_conns *cs, struct lws *wsi)
{
	char origin[RELAY_ORIGIN_LEN];
	int i;

	if (lws_hdr_copy(wsi, origin, sizeof origin, WSI_TOKEN_ORIGIN) <= 0)
		return 0;
	for (i = 0; i < cs->norigins; i++)
		if (!strcmp(origin, cs->origins[i]))
			return 1;
	return 0;
}

static void queue_free(struct relay_conn *c)
{
	struct relay_out *o, *next;

	for (o = c->head; o; o = next) {
		next = o->next;
		free(o);
	}
	c->head = c->tail = NULL;
	c->queued = 0;
	c->queued_bytes = 0;
}

/*
 * Drops a connection: its queue is discarded and nothing more is sent.
 * It leaves its room when lws closes it, on the next turn of the loop, so
 * a room never disappears under a caller that is sending to it.
 */
void relay_conn_drop(struct relay_conn *c)
{
	if (c->dead)
		return;
	c->dead = 1;
	queue_free(c);
	lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
}

/*
 * Queues a frame. A connection whose queue is full lags too far behind:
 * it is dropped rather than allowed to grow the relay's memory.
 */
static int conn_send(struct relay_conn *c, const char *data, size_t len)
{
	struct relay_out *o;

	if (c->dead)
		return -1;
	if (c->queued >= RELAY_QUEUE_FRAMES || c->queued_bytes + len > RELAY_QUEUE_BYTES) {
		relay_conn_drop(c);
		return -1;
	}
	if (!(o = malloc(sizeof *o + LWS_PRE + len))) {
		relay_conn_drop(c);
		return -1;
	}
	o->next = NULL;
	o->len = len;
	memcpy(o->buf + LWS_PRE, data, len);
	if (c->tail)
		c->tail->next = o;
	else
		c->head = o;
	c->tail = o;
	c->queued++;
	c->queued_bytes += len;
	lws_callback_on_writable(c->wsi);
	return 0;
}

int relay_conn_sendbuf(struct relay_conn *c, struct relay_buf *b)
{
	const char *data = relay_buf_data(b);

	return data ? conn_send(c, data, b->len) : -1;
}

/* Sends the close frame once everything queued before it has been written. */
void relay_conn_close(struct relay_conn *c, int close_code)
{
	if (c->dead || c->closing)
		return;
	c->closing = close_code;
	/* The drain time replaces the join deadline. */
	relay_idle_joined(c);
	lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, RELAY_DRAIN_TIMEOUT_S);
	lws_callback_on_writable(c->wsi);
}

void relay_conn_ping(struct relay_conn *c)
{
	if (c->dead || c->closing)
		return;
	c->ping_due = 1;
	lws_callback_on_writable(c->wsi);
}

void relay_conn_refuse(struct relay_conn *c, enum wire_err err, const char *detail,
                       const char *client_id)
{
	const struct wire_error *e = wire_error(err);
	const char *message = detail ? detail : e->message;
	struct relay_buf b;

	relay_buf_init(&b);
	relay_buf_str(&b, "{\"type\":\"error\",\"code\":\"");
	relay_buf_str(&b, e->code);
	relay_buf_str(&b, "\",\"message\":");
	relay_buf_json(&b, message, strlen(message));
	if (client_id && *client_id) {
		relay_buf_str(&b, ",\"clientId\":");
		relay_buf_json(&b, client_id, strlen(client_id));
	}
	relay_buf_str(&b, "}");
	relay_conn_sendbuf(c, &b);
	relay_buf_free(&b);
}

void relay_conn_error(struct relay_conn *c, enum wire_err err, const char *detail,
                      int close_code)
{
	relay_conn_refuse(c, err, detail, NULL);
	if (close_code)
		relay_conn_close(c, close_code);
}

/*
 * The token bucket: 1 when the frame may pass. Once joined, the bucket is
 * the participant's (limits.c), so a reconnect starts with what the last
 * connection left; before, the connection's own.
 */
static int rate_take(struct relay *r, struct relay_conn *c)
{
	const struct relay_conns *cs = &r->conns;
	lws_usec_t now = lws_now_usecs();
	int pass;

	if (c->room) {
		pass = relay_limits_frame(r->limits, relay_room_session_id(c->room), c->role, now);
	} else {
		c->tokens += (double)(now - c->refilled_us) * cs->rate / 1e6;
		if (c->tokens > cs->burst)
			c->tokens = cs->burst;
		c->refilled_us = now;
		if ((pass = c->tokens >= 1))
			c->tokens -= 1;
	}
	if (pass) {
		c->strikes = 0;
		return 1;
	}
	if (c->strikes++ == 0)
		relay_conn_error(c, WIRE_RATE_LIMITED, NULL, 0);
	if (c->strikes >= RELAY_STRIKES_MAX)
		relay_conn_close(c, LWS_CLOSE_STATUS_POLICY_VIOLATION);
	return 0;
}

static void message_done(struct relay *r, struct relay_conn *c, const char *data, size_t len)
{
	if (rate_take(r, c))
		relay_proto_frame(r, c, data, len);
}

/* Collects one message's fragments; returns -1 to close the connection (too large). */
static int receive(struct relay *r, struct relay_conn *c, const char *in, size_t len)
{
	int final = lws_is_final_fragment(c->wsi);

	if (c->dead || c->closing)
		return 0;
	if (!c->rx_active && lws_frame_is_binary(c->wsi)) {
		relay_conn_error(c, WIRE_BAD_FRAME, NULL, LWS_CLOSE_STATUS_UNACCEPTABLE_OPCODE);
		return 0;
	}
	if (!c->rx_active && final) { /* the common case: one whole message, no copy */
		message_done(r, c, in, len);
		return 0;
	}
	if (c->rx_len + len > RELAY_MSG_MAX)
		goto too_large;
	if (c->rx_len + len > c->rx_cap) {
		size_t cap = c->rx_cap ? c->rx_cap : 4096;
		char *p;

		while (cap < c->rx_len + len)
			cap *= 2;
		if (cap > RELAY_MSG_MAX)
			cap = RELAY_MSG_MAX;
		if (!(p = realloc(c->rx, cap)))
			goto too_large;
		c->rx = p;
		c->rx_cap = cap;
	}
	if (len) /* empty fragments may come before any buffer exists */
		memcpy(c->rx + c->rx_len, in, len);
	c->rx_len += len;
	c->rx_active = 1;
	if (final) {
		message_done(r, c, c->rx ? c->rx : "", c->rx_len);
		free(c->rx);
		c->rx = NULL;
		c->rx_len = c->rx_cap = 0;
		c->rx_active = 0;
	}
	return 0;
too_large:
	{
		unsigned char why[] = "message too large";

		lws_close_reason(c->wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, why, sizeof why - 1);
	}
	return -1;
}

/* Puts a server frame header (FIN, text, unmasked) for a payload of len bytes at p. */
static size_t frame_header(unsigned char *p, size_t len)
{
	int i;

	p[0] = 0x81;
	if (len < 126) {
		p[1] = (unsigned char)len;
		return 2;
	}
	if (len < 65536) {
		p[1] = 126;
		p[2] = (unsigned char)(len >> 8);
		p[3] = (unsigned char)len;
		return 4;
	}
	p[1] = 127;
	for (i = 0; i < 8; i++)
		p[2 + i] = (unsigned char)((uint64_t)len >> (56 - 8 * i));
	return 10;
}

static void dequeue(struct relay_conn *c)
{
	struct relay_out *o = c->head;

	c->head = o->next;
	if (!c->head)
		c->tail = NULL;
	c->queued--;
	c->queued_bytes -= o->len;
	free(o);
}

/*
 * Writes what is queued. Several small frames go out framed here in one
 * write: one system call and one wake-up of the reader instead of one each.
 */
static int writeable(struct relay *r, struct relay_conn *c)
{
	struct relay_out *o = c->head;
	unsigned char *batch = r->conns.batch, *p;
	size_t total = 0;
	int n = 0;

	/*
	 * lws waits for the peer's answer to the close frame and may call this
	 * once more meanwhile: -1 now would cut the socket, and unread input
	 * turns that into a reset that loses the frames already sent.
	 */
	if (c->close_sent)
		return 0;
	if (c->dead)
		return -1;
	if (c->ping_due) {
		/* Not empty: lws does not pass an empty pong up to the callback. */
		unsigned char ping[LWS_PRE + 1] = {[LWS_PRE] = 'p'};

		c->ping_due = 0;
		if (lws_write(c->wsi, ping + LWS_PRE, 1, LWS_WRITE_PING) < 1)
			return -1;
		if (o || c->closing)
			lws_callback_on_writable(c->wsi);
		return 0;
	}
	if (!o) {
		if (!c->closing)
			return 0;
		lws_close_reason(c->wsi, (enum lws_close_status)c->closing, NULL, 0);
		c->close_sent = 1;
		c->dead = 1;
		return -1;
	}
	for (; o && n < RELAY_BATCH_FRAMES && total + o->len + 10 <= RELAY_BATCH_BYTES; o = o->next, n++)
		total += o->len + 10;
	if (n < 2) {
		o = c->head;
		if (lws_write(c->wsi, o->buf + LWS_PRE, o->len, LWS_WRITE_TEXT) < (int)o->len)
			return -1;
		dequeue(c);
	} else {
		for (p = batch + LWS_PRE; n--; dequeue(c)) {
			p += frame_header(p, c->head->len);
			memcpy(p, c->head->buf + LWS_PRE, c->head->len);
			p += c->head->len;
		}
		total = (size_t)(p - batch - LWS_PRE);
		/* lws keeps a copy of whatever the socket did not take: the batch is free again */
		n = lws_write(c->wsi, batch + LWS_PRE, total, LWS_WRITE_RAW);
		if (n < (int)total)
			return -1;
	}
	if (c->head || c->closing)
		lws_callback_on_writable(c->wsi);
	return 0;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
                    void *in, size_t len)
{
	struct relay_conn *c = user;
	struct relay *r = lws_context_user(lws_get_context(wsi));
	char path[8];

	switch (reason) {
	case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
		if (lws_hdr_copy(wsi, path, sizeof path, WSI_TOKEN_GET_URI) <= 0 || strcmp(path, "/ws"))
			return -1;
		/* A wrong origin is refused after the upgrade, with an error frame the page can show. */
		if (c)
			c->origin_ok = origin_allowed(&r->conns, wsi);
		break;
	case LWS_CALLBACK_ESTABLISHED:
		c->wsi = wsi;
		c->tokens = r->conns.burst;
		c->refilled_us = lws_now_usecs();
		if (!c->origin_ok) {
			relay_conn_error(c, WIRE_FORBIDDEN, NULL,
			                 LWS_CLOSE_STATUS_POLICY_VIOLATION);
			break;
		}
		relay_idle_opened(&r->idle, c);
		break;
	case LWS_CALLBACK_RECEIVE_PONG:
		relay_idle_heard(&r->idle, c);
		break;
	case LWS_CALLBACK_RECEIVE:
		return receive(r, c, in, len);
	case LWS_CALLBACK_SERVER_WRITEABLE:
		return writeable(r, c);
	case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
		/* The chat writer has answers (or a signal woke the loop); it reaches every protocol. */
		if (!r)
			break;
		relay_room_answers(r);
		break;
	case LWS_CALLBACK_CLOSED:
		relay_idle_closed(c);
		relay_room_leave(r, c, 1);
		relay_room_forget(r, c);
		queue_free(c);
		free(c->rx);
		c->rx = NULL;
		c->dead = 1;
		break;
	default:
		break;
	}
	return 0;
}

const struct lws_protocols relay_conn_protocols[] = {
	{"relay", callback, sizeof(struct relay_conn), RELAY_RX_CHUNK, 0, NULL, 0},
	{NULL, NULL, 0, 0, 0, NULL, 0},
};
