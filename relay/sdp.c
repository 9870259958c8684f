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

/* The verdict so far, given one finished media section. */
static int section_verdict(int verdict, const char *kind, long port, int bundle_only,
                           enum db_type type)
{
	/*
	 * Browsers (JSEP) treat port 0 as a rejected section unless it is
	 * a=bundle-only: then it rides the bundle and carries media anyway.
	 */
	if (verdict != RELAY_SDP_OK || (port == 0 && !bundle_only) || !strcmp(kind, "audio"))
		return verdict;
	if (!strcmp(kind, "video"))
		return type == DB_TYPE_VIDEO ? verdict : RELAY_SDP_VIDEO;
	return RELAY_SDP_MEDIA; /* application (data channels) and anything else */
}

/*
 * Each line is "<letter>=<value>" ending in CRLF or LF, the first is
 * "v=0", and there is at least one m= section. Only sections that carry
 * media count against the session type.
 */
int relay_sdp_check(const char *sdp, size_t len, enum db_type type)
{
	size_t off = 0, n;
	const char *p, *eol;
	int lines = 0, media = 0, verdict = RELAY_SDP_OK, bundle_only = 0;
	char kind[16] = "";
	long port = 0;

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
		/*
		 * Browsers have matched the attribute's name as a prefix
		 * ("a=bundle-only", "a=bundle-only:x", "a=bundle-only x", older
		 * ones anything after it): so does this, to count every section
		 * one of them would use.
		 */
		if (media && n >= 13 && !memcmp(p, "a=bundle-only", 13))
			bundle_only = 1;
		if (p[0] != 'm')
			continue;
		if (media)
			verdict = section_verdict(verdict, kind, port, bundle_only, type);
		if (media_line(p, n, kind, &port) < 0)
			return RELAY_SDP_MALFORMED;
		media++;
		bundle_only = 0;
	}
	if (!media)
		return RELAY_SDP_MALFORMED;
	verdict = section_verdict(verdict, kind, port, bundle_only, type);
	return type == DB_TYPE_CHAT ? RELAY_SDP_MEDIA : verdict;
}
