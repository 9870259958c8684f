/* proto.c: the client frames: join-room, history, chat and its reactions, signaling, recording consent; see PROTOCOL.md. */
#include <stdio.h>
#include <string.h>

#include "frame.h"
#include "recording.h"
#include "relay.h"
#include "room.h"
#include "sdp.h"

#define POLICY LWS_CLOSE_STATUS_POLICY_VIOLATION
#define RELAY_HISTORY_MAX 200           /* messages in one joined/history frame */
#define RELAY_HISTORY_BYTES (48 * 1024) /* ... and their JSON size */

/* A refused join: the library's reason, in the words every front end uses. */
static void join_refuse(struct relay_conn *c, int err)
{
	relay_conn_error(c, wire_from_db(err), NULL, POLICY);
}

int relay_proto_init(struct relay_proto *p)
{
	relay_buf_init(&p->scratch);
	return (p->tok = json_tokener_new()) ? 0 : -1;
}

void relay_proto_free(struct relay_proto *p)
{
	if (p->tok)
		json_tokener_free(p->tok);
	p->tok = NULL;
	relay_buf_free(&p->scratch);
}

void relay_proto_message(struct relay_buf *b, const struct db_chat *m)
{
	relay_buf_fmt(b, "{\"type\":\"message\",\"seq\":%lld,\"senderType\":\"%s\",\"message\":",
	              (long long)m->seq, db_role_name(m->sender));
	relay_buf_json(b, m->body, strlen(m->body));
	relay_buf_str(b, ",\"timestamp\":");
	relay_buf_time(b, m->at_ms);
	relay_buf_str(b, ",\"clientId\":");
	if (m->client_id[0])
		relay_buf_json(b, m->client_id, strlen(m->client_id));
	else
		relay_buf_str(b, "null");
	/* A file's message carries what the page shows of it; message is its name. */
	if (m->file_id) {
		relay_buf_fmt(b, ",\"kind\":\"file\",\"file\":{\"id\":%lld,\"name\":", (long long)m->file_id);
		relay_buf_json(b, m->body, strlen(m->body));
		relay_buf_fmt(b, ",\"bytes\":%lld,\"type\":\"%s\",\"available\":%s}", (long long)m->file_bytes,
		              db_file_type_name(m->file_type), m->file_gone ? "false" : "true");
	} else {
		relay_buf_str(b, ",\"kind\":\"text\"");
	}
	/* Only history carries them; absent means none, so a new message's frame stays as it was. */
	for (int i = 0; i < m->nreactions; i++)
		relay_buf_fmt(b, "%s{\"emoji\":\"%s\",\"by\":\"%s\"}", i ? "," : ",\"reactions\":[",
		              m->reactions[i].emoji, db_role_name(m->reactions[i].by));
	relay_buf_str(b, m->nreactions ? "]}" : "}");
}

/* The emoji are the library's own strings: nothing of the sender's needs escaping. */
void relay_proto_reaction(struct relay_buf *b, int64_t seq, const char *emoji, enum db_role by,
                          int on)
{
	relay_buf_fmt(b, "{\"type\":\"message-reaction\",\"seq\":%lld,\"emoji\":\"%s\",\"by\":\"%s\","
	              "\"on\":%s}", (long long)seq, emoji, db_role_name(by), on ? "true" : "false");
}

void relay_proto_withdrawn(struct relay_buf *b, int64_t seq)
{
	relay_buf_fmt(b, "{\"type\":\"message-withdrawn\",\"seq\":%lld}", (long long)seq);
}

/* Collects history into a JSON array within the frame's budget. */
struct history {
	struct relay_buf *b;
	int count;
	int more;
	int64_t last_seq;
};

static int history_add(void *arg, const struct db_chat *m)
{
	struct history *h = arg;
	size_t before = h->b->len;

	if (h->count == RELAY_HISTORY_MAX || (h->count && before > RELAY_HISTORY_BYTES)) {
		h->more = 1;
		return 1;
	}
	if (h->count)
		relay_buf_str(h->b, ",");
	relay_proto_message(h->b, m);
	h->count++;
	h->last_seq = m->seq;
	return 0;
}

/* Appends "history|messages":[...],"lastSeq":N,"more":bool; -1 when the database failed. */
static int history_append(struct relay *r, struct relay_room *room, const char *key,
                          int64_t after, struct relay_buf *b)
{
	struct history h = {b, 0, 0, after};

	relay_buf_fmt(b, "\"%s\":[", key);
	if (db_chat_history(r->chat, relay_room_session_id(room), after, RELAY_HISTORY_MAX + 1,
	                    history_add, &h) != DB_OK)
		return -1;
	relay_buf_fmt(b, "],\"lastSeq\":%lld,\"more\":%s", (long long)h.last_seq,
	              h.more ? "true" : "false");
	return 0;
}

/* Reports what decoding found wrong with the frame's fields: 1 when it did. */
static int refused(struct relay_conn *c, const struct relay_frame *f, int close_code)
{
	if (f->err == WIRE_OK)
		return 0;
	relay_conn_error(c, f->err, f->detail, close_code);
	return 1;
}

static void on_join(struct relay *r, struct relay_conn *c, const struct relay_frame *f)
{
	struct db_session s;
	struct db_join j;
	struct relay_room *room;
	struct relay_buf b;
	enum db_role role;
	int64_t now = db_now_ms();
	int err, wait;

	if (c->room) {
		relay_conn_error(c, WIRE_ALREADY_JOINED, NULL, 0);
		return;
	}
	if (refused(c, f, POLICY))
		return;
	if ((err = db_is_session_link_valid(r->db, f->token, now, &s, &role)) != DB_OK) {
		join_refuse(c, err);
		return;
	}
	/* A link that reconnects in a loop costs its own owner: the wait, not the other side or the database. */
	if ((wait = relay_limits_join(r->limits, s.id, role, lws_now_usecs())) > 0) {
		char detail[96];

		snprintf(detail, sizeof detail, "Too many reconnects: try again in %d s.", wait);
		relay_conn_error(c, WIRE_RATE_LIMITED, detail, POLICY);
		return;
	}
	/* Joining here counts as joining through the API: the second join starts the paid time. */
	if ((err = db_start_session(r->db, s.id, role, now, &j)) != DB_OK) {
		join_refuse(c, err);
		return;
	}
	memcpy(c->link_fp, s.link_fp[role], sizeof c->link_fp);
	if (relay_room_enter(r, c, &j.session, role, &room) < 0) {
		relay_conn_error(c, WIRE_INTERNAL, "Out of memory.", POLICY);
		return;
	}
	relay_idle_joined(c);
	relay_buf_init(&b);
	relay_buf_fmt(&b, "{\"type\":\"joined\",\"participantType\":\"%s\",\"sessionType\":\"%s\","
	              "\"status\":\"%s\",\"present\":{\"user\":%s,\"astrologer\":%s},\"serverTime\":",
	              db_role_name(role), db_type_name(relay_room_type(room)),
	              db_status_name(j.session.status),
	              relay_room_conn(room, DB_ROLE_USER) ? "true" : "false",
	              relay_room_conn(room, DB_ROLE_ASTROLOGER) ? "true" : "false");
	relay_buf_time(&b, now);
	relay_buf_str(&b, ",\"startedAt\":");
	relay_buf_time(&b, j.session.started_ms);
	relay_buf_str(&b, ",\"deadline\":");
	relay_buf_time(&b, j.session.deadline_ms);
	relay_buf_str(&b, ",\"noShowAt\":");
	relay_buf_time(&b, db_session_no_show_ms(db_config(r->db), &j.session));
	relay_buf_str(&b, ",");
	if (history_append(r, room, "history", f->after, &b) < 0) {
		relay_buf_free(&b);
		relay_room_leave(r, c, 1);
		relay_conn_error(c, WIRE_INTERNAL, "The history could not be read; try again.", POLICY);
		return;
	}
	relay_buf_str(&b, "}");
	relay_conn_sendbuf(c, &b);
	relay_buf_free(&b);
	/* After joined, so the page knows its state before it hears of the timer or the charge. */
	relay_room_update(r, room, &j.session);
	relay_room_bill(r, room);
}

/* The page's own heartbeat: a page that hears no pong in a few seconds knows its network dropped. */
static void on_ping(struct relay_conn *c)
{
	struct relay_buf b;

	relay_buf_init(&b);
	relay_buf_str(&b, "{\"type\":\"pong\",\"serverTime\":");
	relay_buf_time(&b, db_now_ms());
	relay_buf_str(&b, "}");
	relay_conn_sendbuf(c, &b);
	relay_buf_free(&b);
}

static void on_history(struct relay *r, struct relay_conn *c, const struct relay_frame *f)
{
	struct relay_buf b;

	if (refused(c, f, 0))
		return;
	relay_buf_init(&b);
	relay_buf_str(&b, "{\"type\":\"history\",");
	if (history_append(r, c->room, "messages", f->after, &b) < 0)
		relay_conn_error(c, WIRE_INTERNAL, "The history could not be read; try again.", 0);
	else {
		relay_buf_str(&b, "}");
		relay_conn_sendbuf(c, &b);
	}
	relay_buf_free(&b);
}

/* Every refusal names the message's clientId: the page then knows which of its messages failed. */
static void on_message(struct relay *r, struct relay_conn *c, const struct relay_frame *f)
{
	char *body = NULL; /* a file's announcement has none */

	if (f->err != WIRE_OK)
		relay_conn_refuse(c, f->err, f->detail, f->client_id);
	else if (relay_room_ended(c->room))
		relay_conn_refuse(c, WIRE_ENDED, NULL, f->client_id);
	else if (!f->file_id && !(body = strndup(f->text, f->text_len)))
		relay_conn_refuse(c, WIRE_INTERNAL, "Out of memory.", f->client_id);
	else
		relay_room_chat(r, c, body, f->file_id, f->client_id);
}

/* Stored like chat: the writer answers, and both hear of it once it is on disk. */
static void on_message_reaction(struct relay *r, struct relay_conn *c, const struct relay_frame *f)
{
	if (refused(c, f, 0))
		return;
	if (relay_room_ended(c->room)) {
		relay_conn_error(c, WIRE_ENDED, NULL, 0);
		return;
	}
	relay_room_react(r, c, f->seq, f->emoji, f->on);
}

/* The other participant's connection, or NULL after telling the sender it is absent. */
static struct relay_conn *peer(struct relay_conn *c, int quiet)
{
	struct relay_conn *p = relay_room_conn(c->room, c->role == DB_ROLE_USER ? DB_ROLE_ASTROLOGER
	                                                                       : DB_ROLE_USER);

	if (!p && !quiet)
		relay_conn_error(c, WIRE_PEER_ABSENT, NULL, 0);
	return p;
}

static int media_allowed(struct relay_conn *c)
{
	int ended = relay_room_ended(c->room);

	if (relay_room_type(c->room) != DB_TYPE_CHAT && !ended)
		return 1;
	relay_conn_error(c, ended ? WIRE_ENDED : WIRE_MEDIA_NOT_ALLOWED, NULL, 0);
	return 0;
}

static void relay_to_peer(struct relay_conn *c, struct relay_conn *p, struct relay_buf *b)
{
	relay_buf_str(b, c->role == DB_ROLE_USER ? ",\"from\":\"user\"}" : ",\"from\":\"astrologer\"}");
	relay_conn_sendbuf(p, b);
}

static void on_sdp(struct relay *r, struct relay_conn *c, const struct relay_frame *f)
{
	struct relay_conn *p;
	struct relay_buf *b = &r->proto.scratch;
	const char *type = f->type_name;
	int v;

	if (!media_allowed(c))
		return;
	if (refused(c, f, 0))
		return;
	v = relay_sdp_check(f->sdp, f->sdp_len, relay_room_type(c->room));
	if (v == RELAY_SDP_VIDEO) {
		relay_conn_error(c, WIRE_VIDEO_NOT_ALLOWED, NULL, 0);
		return;
	}
	if (v == RELAY_SDP_MEDIA) {
		relay_conn_error(c, WIRE_MEDIA_NOT_ALLOWED, "Only audio and video media are carried.", 0);
		return;
	}
	if (v != RELAY_SDP_OK) {
		relay_conn_error(c, WIRE_BAD_SDP, "The SDP is malformed.", 0);
		return;
	}
	if (!(p = peer(c, 0)))
		return;
	relay_buf_reset(b);
	relay_buf_fmt(b, "{\"type\":\"%s\",\"%s\":{\"type\":\"%s\",\"sdp\":", type, type, type);
	relay_buf_json(b, f->sdp, f->sdp_len);
	relay_buf_str(b, "}");
	relay_to_peer(c, p, b);
}

static void on_candidate(struct relay *r, struct relay_conn *c, const struct relay_frame *f)
{
	struct relay_conn *p;
	struct relay_buf *b = &r->proto.scratch;

	if (!media_allowed(c))
		return;
	if (refused(c, f, 0))
		return;
	if (!(p = peer(c, 0)))
		return;
	relay_buf_reset(b);
	relay_buf_str(b, "{\"type\":\"ice-candidate\",\"candidate\":");
	if (f->end_of_candidates)
		relay_buf_str(b, "null");
	else {
		relay_buf_str(b, "{\"candidate\":");
		relay_buf_json(b, f->cand, f->cand_len);
		relay_buf_str(b, ",\"sdpMid\":");
		if (f->mid)
			relay_buf_json(b, f->mid, f->mid_len);
		else
			relay_buf_str(b, "null");
		if (f->mline_index >= 0)
			relay_buf_fmt(b, ",\"sdpMLineIndex\":%lld", (long long)f->mline_index);
		else
			relay_buf_str(b, ",\"sdpMLineIndex\":null");
		if (f->ufrag) {
			relay_buf_str(b, ",\"usernameFragment\":");
			relay_buf_json(b, f->ufrag, f->ufrag_len);
		}
		relay_buf_str(b, "}");
	}
	relay_to_peer(c, p, b);
}

static void on_media_state(struct relay *r, struct relay_conn *c, const struct relay_frame *f)
{
	struct relay_conn *p;
	struct relay_buf *b = &r->proto.scratch;

	if (refused(c, f, 0))
		return;
	if (!media_allowed(c))
		return;
	if (f->video && relay_room_type(c->room) == DB_TYPE_VOICE) {
		relay_conn_error(c, WIRE_VIDEO_NOT_ALLOWED, NULL, 0);
		return;
	}
	if (!(p = peer(c, 1)))
		return;
	relay_buf_reset(b);
	relay_buf_fmt(b, "{\"type\":\"media-state\",\"participantType\":\"%s\","
	              "\"audio\":%s,\"video\":%s,\"screen\":%s}", db_role_name(c->role),
	              f->audio ? "true" : "false", f->video ? "true" : "false", f->screen ? "true" : "false");
	relay_conn_sendbuf(p, b);
}

static void on_reaction(struct relay *r, struct relay_conn *c, const struct relay_frame *f)
{
	struct relay_conn *p;
	struct relay_buf *b = &r->proto.scratch;

	if (refused(c, f, 0) || !media_allowed(c) || !(p = peer(c, 1)))
		return;
	relay_buf_reset(b);
	relay_buf_fmt(b, "{\"type\":\"reaction\",\"emoji\":\"%s\"", f->emoji);
	relay_to_peer(c, p, b);
}

void relay_proto_frame(struct relay *r, struct relay_conn *c, const char *data, size_t len)
{
	struct relay_frame f;

	if (relay_frame_decode(r->proto.tok, data, len, &f) < 0) {
		relay_conn_error(c, WIRE_BAD_JSON, "A frame is a JSON object with a string type.",
		                 c->room ? 0 : POLICY);
		goto done;
	}
	if (!c->room && f.type != RELAY_FRAME_JOIN) {
		relay_conn_error(c, WIRE_NOT_JOINED, "The first frame must be join-room.", POLICY);
		goto done;
	}
	switch (f.type) {
	case RELAY_FRAME_JOIN: on_join(r, c, &f); break;
	case RELAY_FRAME_MESSAGE: on_message(r, c, &f); break;
	case RELAY_FRAME_OFFER:
	case RELAY_FRAME_ANSWER: on_sdp(r, c, &f); break;
	case RELAY_FRAME_CANDIDATE: on_candidate(r, c, &f); break;
	case RELAY_FRAME_MEDIA_STATE: on_media_state(r, c, &f); break;
	case RELAY_FRAME_REACTION: on_reaction(r, c, &f); break;
	case RELAY_FRAME_RECORDING:
		if (!refused(c, &f, 0))
			relay_recording_act(r, c, (enum db_rec_action)f.rec_action);
		break;
	case RELAY_FRAME_MESSAGE_REACTION: on_message_reaction(r, c, &f); break;
	case RELAY_FRAME_HISTORY: on_history(r, c, &f); break;
	case RELAY_FRAME_PING: on_ping(c); break;
	case RELAY_FRAME_UNKNOWN: relay_conn_error(c, WIRE_UNKNOWN_TYPE, NULL, 0); break;
	}
done:
	relay_frame_free(&f);
}
