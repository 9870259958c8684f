/* frame.c: fuzzes the relay's decoding and checks of every client frame type, and what it relays of them. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "frame.h"
#include "sdp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* lws refuses a text frame that is not UTF-8, so only such frames reach the decoder. */
static int utf8_ok(const unsigned char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned char c = s[i];
		size_t k;
		uint32_t cp;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			k = 1, cp = c & 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			k = 2, cp = c & 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			k = 3, cp = c & 0x07;
		else
			return 0;
		for (size_t j = 1; j <= k; j++) {
			if (i + j >= n || (s[i + j] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (s[i + j] & 0x3f);
		}
		if ((k == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
		    (k == 3 && (cp < 0x10000 || cp > 0x10ffff)))
			return 0;
		i += k + 1;
	}
	return 1;
}

/* What the peer receives of a string must be UTF-8 JSON that reads back as the same bytes. */
static void relayed_intact(json_tokener *tok, const char *s, size_t n)
{
	struct relay_buf b;
	json_object *o;
	char *text;

	relay_buf_init(&b);
	relay_buf_json(&b, s, n);
	if (!(text = relay_buf_data(&b)))
		abort();
	if (!utf8_ok((const unsigned char *)text, b.len))
		abort();
	json_tokener_reset(tok);
	o = json_tokener_parse_ex(tok, text, (int)b.len);
	if (!o || !json_object_is_type(o, json_type_string) ||
	    (size_t)json_object_get_string_len(o) != n || memcmp(json_object_get_string(o), s, n))
		abort();
	json_object_put(o);
	relay_buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static json_tokener *tok, *check;
	struct relay_frame f;

	if (!tok && (!(tok = json_tokener_new()) || !(check = json_tokener_new())))
		abort();
	if (!utf8_ok(data, size) || relay_frame_decode(tok, (const char *)data, size, &f) < 0)
		return 0;
	if (f.err != WIRE_OK)
		goto done;
	switch (f.type) {
	case RELAY_FRAME_JOIN:
		if (!f.token || !*f.token || f.after < 0)
			abort();
		break;
	case RELAY_FRAME_HISTORY:
		if (f.after < 0)
			abort();
		break;
	case RELAY_FRAME_MESSAGE:
		/* A file's announcement is its id alone; a text message has its text. */
		if (f.file_id ? f.file_id < 1 || f.text : !f.text_len || memchr(f.text, 0, f.text_len))
			abort();
		if (f.client_id_len > 64)
			abort();
		if (f.text)
			relayed_intact(check, f.text, f.text_len);
		relayed_intact(check, f.client_id, f.client_id_len);
		break;
	case RELAY_FRAME_OFFER:
	case RELAY_FRAME_ANSWER:
		/* A chat session carries no media, whatever the SDP says. */
		if (relay_sdp_check(f.sdp, f.sdp_len, DB_TYPE_CHAT) == RELAY_SDP_OK)
			abort();
		if (relay_sdp_check(f.sdp, f.sdp_len, DB_TYPE_VOICE) == RELAY_SDP_OK ||
		    relay_sdp_check(f.sdp, f.sdp_len, DB_TYPE_VIDEO) == RELAY_SDP_OK)
			relayed_intact(check, f.sdp, f.sdp_len);
		break;
	case RELAY_FRAME_CANDIDATE:
		if (f.end_of_candidates)
			break;
		if (f.cand_len > RELAY_CANDIDATE_MAX || f.mline_index > 65535)
			abort();
		relayed_intact(check, f.cand, f.cand_len);
		if (f.mid)
			relayed_intact(check, f.mid, f.mid_len);
		if (f.ufrag)
			relayed_intact(check, f.ufrag, f.ufrag_len);
		break;
	case RELAY_FRAME_MEDIA_STATE:
		if ((f.audio != 0 && f.audio != 1) || (f.video != 0 && f.video != 1) ||
		    (f.screen != 0 && f.screen != 1) || (f.screen && !f.video))
			abort();
		break;
	case RELAY_FRAME_REACTION:
		/* What is relayed is the relay's own copy of one of its few emoji. */
		if (!f.emoji)
			abort();
		relayed_intact(check, f.emoji, strlen(f.emoji));
		break;
	case RELAY_FRAME_RECORDING:
		/* The relay indexes its actions with it: only one of the four gets through. */
		if (f.rec_action < DB_REC_ASK || f.rec_action > DB_REC_STOP)
			abort();
		break;
	case RELAY_FRAME_MESSAGE_REACTION:
		/* Stored and relayed as it is: the library's own copy of one of the set, a real seq. */
		if (f.seq < 1 || (f.on != 0 && f.on != 1) || !f.emoji ||
		    db_reaction_find(f.emoji, strlen(f.emoji)) != f.emoji)
			abort();
		break;
	case RELAY_FRAME_PING:
	case RELAY_FRAME_UNKNOWN:
		break;
	}
done:
	relay_frame_free(&f);
	return 0;
}
