/* frame.h: decoding and checking one client frame, apart from any connection or room. */
#ifndef SESSIONS_RELAY_FRAME_H
#define SESSIONS_RELAY_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "errors.h"

#define RELAY_CANDIDATE_MAX 1024 /* bytes of an ICE candidate line */

enum relay_frame_type {
	RELAY_FRAME_JOIN,
	RELAY_FRAME_MESSAGE,
	RELAY_FRAME_OFFER,
	RELAY_FRAME_ANSWER,
	RELAY_FRAME_CANDIDATE,
	RELAY_FRAME_MEDIA_STATE,
	RELAY_FRAME_REACTION,
	RELAY_FRAME_RECORDING,
	RELAY_FRAME_MESSAGE_REACTION,
	RELAY_FRAME_HISTORY,
	RELAY_FRAME_PING,
	RELAY_FRAME_UNKNOWN,
};

/*
 * One decoded frame. The strings point into o and live until
 * relay_frame_free. err is what is wrong with the type's fields (WIRE_OK
 * when nothing is); the caller decides when to report it, since some
 * refusals of the room's state come before it and some after.
 */
struct relay_frame {
	struct json_object *o; /* is owned: the parsed frame */
	enum relay_frame_type type;
	const char *type_name; /* "offer" or "answer" for the SDP frames */
	enum wire_err err;
	const char *detail;    /* a static sentence for err, or NULL for its default */
	const char *token;     /* join-room */
	int64_t after;         /* join-room, history: the last seq seen, 0 when absent */
	const char *text;      /* message: valid UTF-8 of text_len bytes, no NUL; NULL for a file */
	size_t text_len;
	const char *client_id; /* message: "" when none was given */
	int64_t file_id;       /* message: the uploaded file it announces, 0 for text */
	size_t client_id_len;
	const char *sdp;       /* offer, answer */
	size_t sdp_len;
	int end_of_candidates; /* ice-candidate: the candidate is null */
	const char *cand, *mid, *ufrag; /* ice-candidate: mid and ufrag NULL when absent */
	size_t cand_len, mid_len, ufrag_len;
	int64_t mline_index;   /* ice-candidate: -1 when absent */
	int audio, video, screen; /* media-state */
	int rec_action;        /* recording: an enum db_rec_action */
	const char *emoji;     /* reaction, message-reaction: one of db_reactions (static) */
	int64_t seq;           /* message-reaction: the message's seq, >= 1 */
	int on;                /* message-reaction: put (1) or take back (0) */
};

/*
 * Parses len bytes (one JSON object with a string "type", blanks allowed
 * after it) with tok and checks the fields of its type. 0 with *f filled,
 * or WIRE_BAD_JSON with nothing to free.
 */
int relay_frame_decode(struct json_tokener *tok, const char *data, size_t len,
                       struct relay_frame *f);
void relay_frame_free(struct relay_frame *f);

#endif
