/* proto.c: the client frames: join-room, history, chat, signaling; see PROTOCOL.md. */
#include <stdio.h>
#include <string.h>

#include "relay.h"
#include "room.h"
#include "sdp.h"

#define POLICY LWS_CLOSE_STATUS_POLICY_VIOLATION
#define RELAY_HISTORY_MAX 200           /* messages in one joined/history frame */
#define RELAY_HISTORY_BYTES (48 * 1024) /* ... and their JSON size */
#define RELAY_CANDIDATE_MAX 1024        /* bytes of an ICE candidate line */

/* A refused join: the library's reason, in the words every front end uses. */
static void join_refuse(struct relay_conn *c, int err)
{
	relay_conn_error(c, wire_from_db(err), NULL, POLICY);
}

static const char *str_field(struct json_object *o, const char *key, size_t *len)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	if (len)
		*len = (size_t)json_object_get_string_len(v);
	return json_object_get_string(v);
}

/* 1 when key holds a boolean, stored in *out. */
static int bool_field(struct json_object *o, const char *key, int *out)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_boolean))
		return 0;
	*out = json_object_get_boolean(v);
	return 1;
}

/* An optional non-negative integer field; -1 when present and not one. */
static int64_t seq_field(struct json_object *o, const char *key)
{
	struct json_object *v;
	int64_t n;

	if (!json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null))
		return 0;
	if (!json_object_is_type(v, json_type_int))
		return -1;
	n = json_object_get_int64(v);
	return n < 0 ? -1 : n;
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
	relay_buf_str(b, "}");
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

static void on_join(struct relay *r, struct relay_conn *c, struct json_object *o)
{
	struct db_session s;
	struct db_join j;
	struct relay_room *room;
	struct relay_buf b;
	enum db_role role;
	const char *token;
	int64_t after, now = db_now_ms();
	int err, wait;

	if (c->room) {
		relay_conn_error(c, WIRE_ALREADY_JOINED, NULL, 0);
		return;
	}
	if (!(token = str_field(o, "token", NULL)) || !*token) {
		relay_conn_error(c, WIRE_NO_TOKEN, "join-room needs the link's token.", POLICY);
		return;
	}
	if ((after = seq_field(o, "after")) < 0) {
		relay_conn_error(c, WIRE_BAD_FIELD, "after is the last seen seq, an integer >= 0.", POLICY);
		return;
	}
	if ((err = db_is_session_link_valid(r->db, token, now, &s, &role)) != DB_OK) {
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
	lws_set_timeout(c->wsi, NO_PENDING_TIMEOUT, 0);
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
	if (history_append(r, room, "history", after, &b) < 0) {
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

static void on_history(struct relay *r, struct relay_conn *c, struct json_object *o)
{
	struct relay_buf b;
	int64_t after = seq_field(o, "after");

	if (after < 0) {
		relay_conn_error(c, WIRE_BAD_FIELD, "after is the last seen seq, an integer >= 0.", 0);
		return;
	}
	relay_buf_init(&b);
	relay_buf_str(&b, "{\"type\":\"history\",");
	if (history_append(r, c->room, "messages", after, &b) < 0)
		relay_conn_error(c, WIRE_INTERNAL, "The history could not be read; try again.", 0);
	else {
		relay_buf_str(&b, "}");
		relay_conn_sendbuf(c, &b);
	}
	relay_buf_free(&b);
}

/* Counts UTF-8 characters (the text is valid UTF-8) and says whether any is not blank. */
static size_t text_chars(const char *s, size_t n, int *blank)
{
	size_t i, chars = 0;

	*blank = 1;
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if ((ch & 0xc0) != 0x80)
			chars++;
		if (ch != ' ' && ch != '\t' && ch != '\n' && ch != '\r')
			*blank = 0;
	}
	return chars;
}

static int client_id_ok(const char *s, size_t n)
{
	size_t i;

	if (n < 1 || n > DB_CLIENT_ID_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-", s[i]))
			return 0;
	return 1;
}

static void on_message(struct relay *r, struct relay_conn *c, struct json_object *o)
{
	struct json_object *v;
	const char *text, *cid = "";
	size_t len, cid_len = 0;
	int blank;
	char *body;

	if (!(text = str_field(o, "message", &len)) || memchr(text, 0, len) ||
	    text_chars(text, len, &blank) > DB_CHAT_MAX || blank) {
		relay_conn_error(c, WIRE_BAD_MESSAGE, NULL, 0);
		return;
	}
	if (json_object_object_get_ex(o, "clientId", &v) && !json_object_is_type(v, json_type_null) &&
	    (!(cid = str_field(o, "clientId", &cid_len)) || !client_id_ok(cid, cid_len))) {
		relay_conn_error(c, WIRE_BAD_CLIENT_ID, NULL, 0);
		return;
	}
	if (relay_room_ended(c->room)) {
		relay_conn_error(c, WIRE_ENDED, NULL, 0);
		return;
	}
	if (!(body = strndup(text, len))) {
		relay_conn_error(c, WIRE_INTERNAL, "Out of memory.", 0);
		return;
	}
	relay_room_chat(r, c, body, cid ? cid : "");
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

static void on_sdp(struct relay *r, struct relay_conn *c, struct json_object *o, const char *type)
{
	struct json_object *d;
	struct relay_conn *p;
	struct relay_buf *b = &r->proto.scratch;
	const char *inner, *sdp;
	size_t sdp_len;
	int v;

	if (!media_allowed(c))
		return;
	if (!json_object_object_get_ex(o, type, &d) || !json_object_is_type(d, json_type_object) ||
	    !(inner = str_field(d, "type", NULL)) || strcmp(inner, type) ||
	    !(sdp = str_field(d, "sdp", &sdp_len))) {
		relay_conn_error(c, WIRE_BAD_SDP, NULL, 0);
		return;
	}
	v = relay_sdp_check(sdp, sdp_len, relay_room_type(c->room));
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
	relay_buf_json(b, sdp, sdp_len);
	relay_buf_str(b, "}");
	relay_to_peer(c, p, b);
}

/* An optional string field of at most max bytes: 1 and *s set (NULL when absent or null). */
static int opt_str(struct json_object *o, const char *key, size_t max, const char **s, size_t *n)
{
	struct json_object *v;

	*s = NULL;
	*n = 0;
	if (!json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null))
		return 1;
	if (!json_object_is_type(v, json_type_string) ||
	    (size_t)json_object_get_string_len(v) > max)
		return 0;
	*s = json_object_get_string(v);
	*n = (size_t)json_object_get_string_len(v);
	return 1;
}

static void on_candidate(struct relay *r, struct relay_conn *c, struct json_object *o)
{
	struct json_object *d, *v;
	struct relay_conn *p;
	struct relay_buf *b = &r->proto.scratch;
	const char *cand = NULL, *mid = NULL, *ufrag = NULL;
	size_t cand_len = 0, mid_len = 0, ufrag_len = 0;
	int64_t index = -1;

	if (!media_allowed(c))
		return;
	if (!json_object_object_get_ex(o, "candidate", &d)) {
		relay_conn_error(c, WIRE_BAD_CANDIDATE, NULL, 0);
		return;
	}
	if (!json_object_is_type(d, json_type_null)) {
		if (!json_object_is_type(d, json_type_object) ||
		    !(cand = str_field(d, "candidate", &cand_len)) || cand_len > RELAY_CANDIDATE_MAX ||
		    !opt_str(d, "sdpMid", 64, &mid, &mid_len) ||
		    !opt_str(d, "usernameFragment", 256, &ufrag, &ufrag_len)) {
			relay_conn_error(c, WIRE_BAD_CANDIDATE, NULL, 0);
			return;
		}
		if (json_object_object_get_ex(d, "sdpMLineIndex", &v) &&
		    !json_object_is_type(v, json_type_null)) {
			if (!json_object_is_type(v, json_type_int) ||
			    (index = json_object_get_int64(v)) < 0 || index > 65535) {
				relay_conn_error(c, WIRE_BAD_CANDIDATE, "sdpMLineIndex is an integer 0..65535.", 0);
				return;
			}
		}
	}
	if (!(p = peer(c, 0)))
		return;
	relay_buf_reset(b);
	relay_buf_str(b, "{\"type\":\"ice-candidate\",\"candidate\":");
	if (json_object_is_type(d, json_type_null))
		relay_buf_str(b, "null");
	else {
		relay_buf_str(b, "{\"candidate\":");
		relay_buf_json(b, cand, cand_len);
		relay_buf_str(b, ",\"sdpMid\":");
		if (mid)
			relay_buf_json(b, mid, mid_len);
		else
			relay_buf_str(b, "null");
		if (index >= 0)
			relay_buf_fmt(b, ",\"sdpMLineIndex\":%lld", (long long)index);
		else
			relay_buf_str(b, ",\"sdpMLineIndex\":null");
		if (ufrag) {
			relay_buf_str(b, ",\"usernameFragment\":");
			relay_buf_json(b, ufrag, ufrag_len);
		}
		relay_buf_str(b, "}");
	}
	relay_to_peer(c, p, b);
}

static void on_media_state(struct relay *r, struct relay_conn *c, struct json_object *o)
{
	struct relay_conn *p;
	struct relay_buf *b = &r->proto.scratch;
	int audio, video;

	if (!bool_field(o, "audio", &audio) || !bool_field(o, "video", &video)) {
		relay_conn_error(c, WIRE_BAD_FIELD, "media-state needs audio and video booleans.", 0);
		return;
	}
	if (!media_allowed(c))
		return;
	if (video && relay_room_type(c->room) == DB_TYPE_VOICE) {
		relay_conn_error(c, WIRE_VIDEO_NOT_ALLOWED, NULL, 0);
		return;
	}
	if (!(p = peer(c, 1)))
		return;
	relay_buf_reset(b);
	relay_buf_fmt(b, "{\"type\":\"media-state\",\"participantType\":\"%s\","
	              "\"audio\":%s,\"video\":%s}", db_role_name(c->role),
	              audio ? "true" : "false", video ? "true" : "false");
	relay_conn_sendbuf(p, b);
}

void relay_proto_frame(struct relay *r, struct relay_conn *c, const char *data, size_t len)
{
	struct json_object *o;
	const char *type;
	size_t end;

	json_tokener_reset(r->proto.tok);
	o = json_tokener_parse_ex(r->proto.tok, data, (int)len);
	end = o ? json_tokener_get_parse_end(r->proto.tok) : 0;
	while (end < len && strchr(" \t\r\n", data[end]) && data[end])
		end++;
	if (!o || json_tokener_get_error(r->proto.tok) != json_tokener_success || end != len ||
	    !json_object_is_type(o, json_type_object) || !(type = str_field(o, "type", NULL))) {
		relay_conn_error(c, WIRE_BAD_JSON, "A frame is a JSON object with a string type.",
		                 c->room ? 0 : POLICY);
		goto done;
	}
	if (!c->room && strcmp(type, "join-room")) {
		relay_conn_error(c, WIRE_NOT_JOINED, "The first frame must be join-room.", POLICY);
		goto done;
	}
	if (!strcmp(type, "join-room"))
		on_join(r, c, o);
	else if (!strcmp(type, "message"))
		on_message(r, c, o);
	else if (!strcmp(type, "offer") || !strcmp(type, "answer"))
		on_sdp(r, c, o, type);
	else if (!strcmp(type, "ice-candidate"))
		on_candidate(r, c, o);
	else if (!strcmp(type, "media-state"))
		on_media_state(r, c, o);
	else if (!strcmp(type, "history"))
		on_history(r, c, o);
	else if (!strcmp(type, "ping"))
		on_ping(c);
	else
		relay_conn_error(c, WIRE_UNKNOWN_TYPE, NULL, 0);
done:
	json_object_put(o);
}
