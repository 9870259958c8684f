/* sdp.c: fuzzes the relay's SDP check and holds its verdicts for the three session types to one another. */
#include <stdint.h>
#include <stdlib.h>

#include "sdp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *sdp = (const char *)data;
	int chat = relay_sdp_check(sdp, size, DB_TYPE_CHAT);
	int voice = relay_sdp_check(sdp, size, DB_TYPE_VOICE);
	int video = relay_sdp_check(sdp, size, DB_TYPE_VIDEO);

	/* Well-formedness does not depend on the session type. */
	if ((chat == RELAY_SDP_MALFORMED) != (voice == RELAY_SDP_MALFORMED) ||
	    (voice == RELAY_SDP_MALFORMED) != (video == RELAY_SDP_MALFORMED))
		abort();
	/* Chat carries no media; what voice carries, video does; video is refused only in voice. */
	if (chat == RELAY_SDP_OK || (voice == RELAY_SDP_OK && video != RELAY_SDP_OK) ||
	    video == RELAY_SDP_VIDEO)
		abort();
	return 0;
}
