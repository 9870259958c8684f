/* sdp.c: checks an offer's or answer's SDP against the media the session type allows. */
#include <string.h>

#include "sdp.h"

/* Parses "m=<media> <port>[/<count>] <proto> <fmt>..."; the media kind is in kind. */
static int media_line(const char *p, size_t n, char kind[16], long *port)
{
	size_t i = 2, k = 0;
	long v = 0;
	int digits = 0;

	while (i < n && p[i] >= 'a' && p[i] <= 'z' && k < 15)
		kind[k++] = p[i++];
	kind[k] = '\0';
	if (!k || i >= n || p[i++] != ' ')
		return -1;
	for (; i < n && p[i] >= '0' && p[i] <= '9'; i++, digits++)
		if ((v = v * 10 + (p[i] - '0')) > 65535)
			return -1;
	if (!digits)
		return -1;
	if (i < n && p[i] == '/') {
		for (i++, digits = 0; i < n && p[i] >= '0' && p[i] <= '9'; i++)
			digits++;
		if (!digits)
			return -1;
	}
	/* then " <proto> <fmt>": at least two more non-empty words */
	for (k = 0; k < 2; k++) {
		if (i >= n || p[i++] != ' ' || i >= n || p[i] == ' ')
			return -1;
		while (i < n && p[i] != ' ')
			i++;
	}
	*port = v;
	return 0;
}

/*
 * Each line is "<letter>=<value>" ending in CRLF or LF, the first is
 * "v=0", and there is at least one m= section. A section whose port is 0
 * is rejected media and carries nothing, so only active ones count.
 */
int relay_sdp_check(const char *sdp, size_t len, enum db_type type)
{
	size_t off = 0, n;
	const char *p, *eol;
	int lines = 0, media = 0, verdict = RELAY_SDP_OK;
	char kind[16];
	long port;

	while (off < len) {
		p = sdp + off;
		eol = memchr(p, '\n', len - off);
		n = eol ? (size_t)(eol - p) : len - off;
		off += n + (eol ? 1 : 0);
		if (n && p[n - 1] == '\r')
			n--;
		if (n < 2 || p[0] < 'a' || p[0] > 'z' || p[1] != '=')
			return RELAY_SDP_MALFORMED;
		for (size_t i = 2; i < n; i++)
			if ((unsigned char)p[i] < 0x20 && p[i] != '\t')
				return RELAY_SDP_MALFORMED;
		if (lines++ == 0 && (n != 3 || memcmp(p, "v=0", 3)))
			return RELAY_SDP_MALFORMED;
		if (p[0] != 'm')
			continue;
		if (media_line(p, n, kind, &port) < 0)
			return RELAY_SDP_MALFORMED;
		media++;
		if (port == 0 || !strcmp(kind, "audio"))
			continue;
		if (!strcmp(kind, "video")) {
			if (type != DB_TYPE_VIDEO && verdict == RELAY_SDP_OK)
				verdict = RELAY_SDP_VIDEO;
		} else if (verdict == RELAY_SDP_OK) {
			verdict = RELAY_SDP_MEDIA;
		}
	}
	if (!media)
		return RELAY_SDP_MALFORMED;
	return type == DB_TYPE_CHAT ? RELAY_SDP_MEDIA : verdict;
}
