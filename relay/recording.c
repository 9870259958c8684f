/* recording.c: the recording frames: each side's consent goes to the store, the state that follows to both sides. */
#include "recording.h"

#include "relay.h"
#include "room.h"

static const char *const state_names[] = {"asked", "recording", "stopped", "declined"};

/* {"type":"recording","state":S,"by":ROLE[,"recordingId":N,"media":M]} to both sides. */
static void recording_tell(struct relay_room *room, const char *state, enum db_role by,
                           const struct db_rec_status *st)
{
	struct relay_buf b;

	relay_buf_init(&b);
	relay_buf_fmt(&b, "{\"type\":\"recording\",\"state\":\"%s\",\"by\":\"%s\"", state,
	              db_role_name(by));
	if (st->state == DB_REC_RUNNING)
		relay_buf_fmt(&b, ",\"recordingId\":%lld,\"media\":\"%s\"", (long long)st->recording_id,
		              relay_room_type(room) == DB_TYPE_VIDEO ? "video" : "audio");
	relay_buf_str(&b, "}");
	for (int role = 0; role < 2; role++)
		if (relay_room_conn(room, (enum db_role)role))
			relay_conn_sendbuf(relay_room_conn(room, (enum db_role)role), &b);
	relay_buf_free(&b);
}

/* The state's name for the action that led to it. */
static const char *recording_outcome(enum db_rec_action action)
{
	switch (action) {
	case DB_REC_ASK: return state_names[0];
	case DB_REC_ACCEPT: return state_names[1];
	case DB_REC_STOP: return state_names[2];
	case DB_REC_DECLINE: break;
	}
	return state_names[3];
}

void relay_recording_act(struct relay *r, struct relay_conn *c, enum db_rec_action action)
{
	struct relay_room *room = c->room;
	struct db_rec_status st;
	int err;

	if (relay_room_ended(room)) {
		relay_conn_error(c, WIRE_ENDED, NULL, 0);
		return;
	}
	if (relay_room_type(room) == DB_TYPE_CHAT) {
		relay_conn_error(c, WIRE_MEDIA_NOT_ALLOWED, "A chat session has no call to record.", 0);
		return;
	}
	/* Asking needs someone to ask: an ask nobody sees would wait for an answer forever. */
	if (action == DB_REC_ASK &&
	    !relay_room_conn(room, c->role == DB_ROLE_USER ? DB_ROLE_ASTROLOGER : DB_ROLE_USER)) {
		relay_conn_error(c, WIRE_PEER_ABSENT, NULL, 0);
		return;
	}
	err = db_recording_act(r->db, relay_room_session_id(room), c->role, action, NULL, db_now_ms(),
	                       &st);
	/* The store's refusals are sentences about the session's state, with nothing private in them. */
	if (err == DB_ERR_STATE || err == DB_ERR_ENDED) {
		relay_conn_error(c, wire_from_db(err), db_errmsg(r->db), 0);
		return;
	}
	if (err != DB_OK) {
		lwsl_warn("relay: recording not stored: %s\n", db_errmsg(r->db));
		relay_conn_error(c, wire_from_db(err), NULL, 0);
		return;
	}
	recording_tell(room, recording_outcome(action), c->role, &st);
}

void relay_recording_gone(struct relay *r, struct relay_room *room, enum db_role role)
{
	struct db_rec_status st;

	if (db_recording_status(r->db, relay_room_session_id(room), &st) != DB_OK) {
		lwsl_warn("relay: recording state not read: %s\n", db_errmsg(r->db));
		return;
	}
	if (st.state == DB_REC_IDLE)
		return;
	if (db_recording_act(r->db, relay_room_session_id(room), role, DB_REC_STOP, "left",
	                     db_now_ms(), &st) != DB_OK) {
		lwsl_warn("relay: recording not stopped: %s\n", db_errmsg(r->db));
		return;
	}
	st.state = DB_REC_IDLE;
	recording_tell(room, state_names[2], role, &st);
}
