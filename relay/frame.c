/* frame.c: decodes a client frame and checks its fields, so the relay acts only on well-formed frames. */
#include <string.h>

#include "db.h"
#include "frame.h"

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

/* Counts UTF-8 characters and says whether any is not blank. */
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

static void refuse(struct relay_frame *f, enum wire_err err, const char *detail)
{
	f->err = err;
	f->detail = detail;
}

static void check_join(struct relay_frame *f)
{
	if (!(f->token = str_field(f->o, "token", NULL)) || !*f->token)
		refuse(f, WIRE_NO_TOKEN, "join-room needs the link's token.");
	else if ((f->after = seq_field(f->o, "after")) < 0)
		refuse(f, WIRE_BAD_FIELD, "after is the last seen seq, an integer >= 0.");
}

static void check_history(struct relay_frame *f)
{
	if ((f->after = seq_field(f->o, "after")) < 0)
		refuse(f, WIRE_BAD_FIELD, "after is the last seen seq, an integer >= 0.");
}

static void check_message(struct relay_frame *f)
{
	struct json_object *v;
	int blank, bad_id = 0;

	f->client_id = "";
	f->file_id = 0;
	/* Read first, so that a refusal of the message itself still names it. */
	if (json_object_object_get_ex(f->o, "clientId", &v) && !json_object_is_type(v, json_type_null) &&
	    (!(f->client_id = str_field(f->o, "clientId", &f->client_id_len)) ||
	     !client_id_ok(f->client_id, f->client_id_len))) {
		f->client_id = "";
		bad_id = 1;
	}
	/* A file is announced by its id alone: its name and type come from what the upload stored. */
	if (json_object_object_get_ex(f->o, "file", &v) && !json_object_is_type(v, json_type_null)) {
		if (!json_object_is_type(v, json_type_int) || (f->file_id = json_object_get_int64(v)) < 1 ||
		    json_object_object_get_ex(f->o, "message", NULL)) {
			refuse(f, WIRE_BAD_MESSAGE, "file is the id an upload answered, with no message beside it.");
			return;
		}
	} else if (!(f->text = str_field(f->o, "message", &f->text_len)) ||
	    memchr(f->text, 0, f->text_len) || text_chars(f->text, f->text_len, &blank) > DB_CHAT_MAX ||
	    blank) {
		refuse(f, WIRE_BAD_MESSAGE, NULL);
		return;
	}
	if (bad_id)
		refuse(f, WIRE_BAD_CLIENT_ID, NULL);
}

/* {"type":T,T:{"type":T,"sdp":"..."}} for T offer or answer. */
static void check_sdp(struct relay_frame *f)
{
	struct json_object *d;
	const char *inner;

	if (!json_object_object_get_ex(f->o, f->type_name, &d) ||
	    !json_object_is_type(d, json_type_object) || !(inner = str_field(d, "type", NULL)) ||
	    strcmp(inner, f->type_name) || !(f->sdp = str_field(d, "sdp", &f->sdp_len)))
		refuse(f, WIRE_BAD_SDP, NULL);
}

static void check_candidate(struct relay_frame *f)
{
	struct json_object *d, *v;

	if (!json_object_object_get_ex(f->o, "candidate", &d)) {
		refuse(f, WIRE_BAD_CANDIDATE, NULL);
		return;
	}
	if ((f->end_of_candidates = json_object_is_type(d, json_type_null)))
		return;
	if (!json_object_is_type(d, json_type_object) ||
	    !(f->cand = str_field(d, "candidate", &f->cand_len)) || f->cand_len > RELAY_CANDIDATE_MAX ||
	    !opt_str(d, "sdpMid", 64, &f->mid, &f->mid_len) ||
	    !opt_str(d, "usernameFragment", 256, &f->ufrag, &f->ufrag_len)) {
		refuse(f, WIRE_BAD_CANDIDATE, NULL);
		return;
	}
	if (json_object_object_get_ex(d, "sdpMLineIndex", &v) && !json_object_is_type(v, json_type_null) &&
	    (!json_object_is_type(v, json_type_int) ||
	     (f->mline_index = json_object_get_int64(v)) < 0 || f->mline_index > 65535))
		refuse(f, WIRE_BAD_CANDIDATE, "sdpMLineIndex is an integer 0..65535.");
}

/* screen is optional: the video is a shared screen (only with video). */
static void check_media_state(struct relay_frame *f)
{
	if (!bool_field(f->o, "audio", &f->audio) || !bool_field(f->o, "video", &f->video) ||
	    (json_object_object_get_ex(f->o, "screen", NULL) && !bool_field(f->o, "screen", &f->screen)) ||
	    (f->screen && !f->video))
		refuse(f, WIRE_BAD_FIELD,
		       "media-state needs audio and video booleans (and screen, if any, only with video).");
}

/* The quick reactions a call may send: the fixed set of the library (html/js/emoji.js offers the same). */
static void check_reaction(struct relay_frame *f)
{
	size_t n = 0;
	const char *emoji = str_field(f->o, "emoji", &n);

	if (!(f->emoji = db_reaction_find(emoji, n)))
		refuse(f, WIRE_BAD_FIELD, "emoji must be one of the quick reactions.");
}

static void check_message_reaction(struct relay_frame *f)
{
	struct json_object *v;
	size_t n = 0;
	const char *emoji = str_field(f->o, "emoji", &n);

	if (!json_object_object_get_ex(f->o, "seq", &v) || !json_object_is_type(v, json_type_int) ||
	    (f->seq = json_object_get_int64(v)) < 1)
		refuse(f, WIRE_BAD_FIELD, "seq is the message's seq, an integer >= 1.");
	else if (!(f->emoji = db_reaction_find(emoji, n)))
		refuse(f, WIRE_BAD_FIELD, "emoji must be one of the reactions the page offers.");
	else if (!bool_field(f->o, "on", &f->on))
		refuse(f, WIRE_BAD_FIELD, "on is true (put the reaction) or false (take it back).");
}

static void check_recording(struct relay_frame *f)
{
	static const char *const actions[] = {
		[DB_REC_ASK] = "ask", [DB_REC_ACCEPT] = "accept", [DB_REC_DECLINE] = "decline",
		[DB_REC_STOP] = "stop"};
	const char *action = str_field(f->o, "action", NULL);

	for (int i = 0; action && i < (int)(sizeof actions / sizeof actions[0]); i++)
		if (strcmp(action, actions[i]) == 0) {
			f->rec_action = i;
			return;
		}
	refuse(f, WIRE_BAD_FIELD, "recording needs an action: ask, accept, decline or stop.");
}

static const struct {
	const char *name;
	enum relay_frame_type type;
	void (*check)(struct relay_frame *f);
} frame_types[] = {
	{"join-room", RELAY_FRAME_JOIN, check_join},
	{"message", RELAY_FRAME_MESSAGE, check_message},
	{"offer", RELAY_FRAME_OFFER, check_sdp},
	{"answer", RELAY_FRAME_ANSWER, check_sdp},
	{"ice-candidate", RELAY_FRAME_CANDIDATE, check_candidate},
	{"media-state", RELAY_FRAME_MEDIA_STATE, check_media_state},
	{"reaction", RELAY_FRAME_REACTION, check_reaction},
	{"recording", RELAY_FRAME_RECORDING, check_recording},
	{"message-reaction", RELAY_FRAME_MESSAGE_REACTION, check_message_reaction},
	{"history", RELAY_FRAME_HISTORY, check_history},
	{"ping", RELAY_FRAME_PING, NULL},
};

int relay_frame_decode(struct json_tokener *tok, const char *data, size_t len,
                       struct relay_frame *f)
{
	const char *type;
	size_t end;

	memset(f, 0, sizeof *f);
	f->mline_index = -1;
	f->type = RELAY_FRAME_UNKNOWN;
	json_tokener_reset(tok);
	f->o = json_tokener_parse_ex(tok, data, (int)len);
	end = f->o ? json_tokener_get_parse_end(tok) : 0;
	while (end < len && strchr(" \t\r\n", data[end]) && data[end])
		end++;
	if (!f->o || json_tokener_get_error(tok) != json_tokener_success || end != len ||
	    !json_object_is_type(f->o, json_type_object) || !(type = str_field(f->o, "type", NULL)))
		goto fail;
	for (size_t i = 0; i < sizeof frame_types / sizeof frame_types[0]; i++) {
		if (strcmp(type, frame_types[i].name))
			continue;
		f->type = frame_types[i].type;
		f->type_name = frame_types[i].name;
		if (frame_types[i].check)
			frame_types[i].check(f);
		break;
	}
	return 0;
fail:
	relay_frame_free(f);
	return WIRE_BAD_JSON;
}

void relay_frame_free(struct relay_frame *f)
{
	json_object_put(f->o);
	f->o = NULL;
}
