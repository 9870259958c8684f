/* sdp.h: whether an offer's or answer's SDP carries only the media the session type allows. */
#ifndef SESSIONS_RELAY_SDP_H
#define SESSIONS_RELAY_SDP_H

#include <stddef.h>

#include "db.h"

enum relay_sdp_verdict {
	RELAY_SDP_OK = 0,
	RELAY_SDP_MALFORMED = -1,
	RELAY_SDP_VIDEO = -2, /* active video in a voice session */
	RELAY_SDP_MEDIA = -3, /* a media kind the session does not carry */
};

int relay_sdp_check(const char *sdp, size_t len, enum db_type type);

#endif
