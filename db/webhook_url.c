/* webhook_url.c: whether an endpoint URL may receive webhooks: its form, and the addresses its host resolves to. */
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "db.h"

#define HOST_MAX 253

/* Loopback, private, shared (CGNAT), link-local, benchmark, multicast, reserved: not on the Internet. */
static int v4_private(const unsigned char a[4])
{
	return a[0] == 0 || a[0] == 10 || a[0] == 127 || a[0] >= 224 ||
	       (a[0] == 100 && (a[1] & 0xc0) == 64) || (a[0] == 169 && a[1] == 254) ||
	       (a[0] == 172 && (a[1] & 0xf0) == 16) || (a[0] == 192 && a[1] == 168) ||
	       (a[0] == 192 && a[1] == 0 && a[2] == 0) || (a[0] == 198 && (a[1] & 0xfe) == 18);
}

static int v6_private(const unsigned char a[16])
{
	static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	static const unsigned char zero[15];

	if (memcmp(a, mapped, sizeof mapped) == 0)
		return v4_private(a + 12);
	return (memcmp(a, zero, sizeof zero) == 0 && a[15] <= 1) || /* :: and ::1 */
	       (a[0] & 0xfe) == 0xfc ||                              /* unique local */
	       (a[0] == 0xfe && (a[1] & 0x80) == 0x80) ||            /* link- and site-local */
	       a[0] == 0xff;                                         /* multicast */
}

static int addr_private(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return v4_private((const unsigned char *)&((const struct sockaddr_in *)(const void *)sa)->sin_addr);
	if (sa->sa_family == AF_INET6)
		return v6_private(((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr.s6_addr);
	return 1;
}

/* Splits http(s)://host[:port][/...] into host and port; 0, or -1 with the reason. */
static int url_split(const char *url, char host[HOST_MAX + 1], int *port, char *why, size_t whylen)
{
	const char *p, *end;
	size_t len = strnlen(url, DB_WEBHOOK_URL_MAX + 1);

	if (len > DB_WEBHOOK_URL_MAX) {
		snprintf(why, whylen, "an endpoint URL is at most %d bytes", DB_WEBHOOK_URL_MAX);
		return -1;
	}
	for (p = url; *p; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f) {
			snprintf(why, whylen, "an endpoint URL has no spaces or control characters");
			return -1;
		}
	if (strncmp(url, "https://", 8) == 0) {
		p = url + 8;
		*port = 443;
	} else if (strncmp(url, "http://", 7) == 0) {
		p = url + 7;
		*port = 80;
	} else {
		snprintf(why, whylen, "an endpoint URL starts with https:// or http://");
		return -1;
	}
	end = p + strcspn(p, "/?#");
	if (memchr(p, '@', (size_t)(end - p))) {
		snprintf(why, whylen, "an endpoint URL carries no user name or password");
		return -1;
	}
	if (*p == '[') {
		const char *close = memchr(p, ']', (size_t)(end - p));

		if (!close || close - p - 1 > HOST_MAX || close == p + 1)
			goto bad_host;
		memcpy(host, p + 1, (size_t)(close - p - 1));
		host[close - p - 1] = 0;
		p = close + 1;
	} else {
		size_t n = strcspn(p, ":/?#");

		if (n == 0 || n > HOST_MAX)
			goto bad_host;
		memcpy(host, p, n);
		host[n] = 0;
		if (strspn(host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.") != n)
			goto bad_host;
		p += n;
	}
	if (p < end && *p == ':') {
		char *stop;
		long v = strtol(p + 1, &stop, 10);

		if (stop != end || stop == p + 1 || v < 1 || v > 65535) {
			snprintf(why, whylen, "an endpoint URL's port is 1 to 65535");
			return -1;
		}
		*port = (int)v;
	} else if (p != end) {
		goto bad_host;
	}
	return 0;
bad_host:
	snprintf(why, whylen, "an endpoint URL needs a host name or address");
	return -1;
}

int db_webhook_url_check(const char *url, int allow_private, char *pin, size_t pinlen,
                         char *why, size_t whylen)
{
	struct addrinfo hints, *res = NULL, *ai;
	char host[HOST_MAX + 1], addr[INET6_ADDRSTRLEN];
	int port, rc, err = DB_ERR_INVALID;

	if (!url || url_split(url, host, &port, why, whylen) != 0)
		return err;
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if ((rc = getaddrinfo(host, NULL, &hints, &res)) != 0) {
		snprintf(why, whylen, "the endpoint's host %s does not resolve (%s)", host,
		         gai_strerror(rc));
		goto done;
	}
	/* Every address counts: a host that also names a private one could be steered to it. */
	for (ai = res; ai; ai = ai->ai_next)
		if (!allow_private && addr_private(ai->ai_addr)) {
			snprintf(why, whylen, "the endpoint's host %s resolves to a private, loopback or "
			         "link-local address (webhook_allow_private allows it)", host);
			goto done;
		}
	if (getnameinfo(res->ai_addr, res->ai_addrlen, addr, sizeof addr, NULL, 0,
	                NI_NUMERICHOST) != 0) {
		snprintf(why, whylen, "the endpoint's host %s has no usable address", host);
		goto done;
	}
	/* An IPv6 literal needs no pin: nothing resolves it again. */
	if (pin && (strchr(host, ':') ? snprintf(pin, pinlen, "%s", "")
	            : res->ai_family == AF_INET6 ? snprintf(pin, pinlen, "%s:%d:[%s]", host, port, addr)
	                                         : snprintf(pin, pinlen, "%s:%d:%s", host, port, addr))
	           >= (int)pinlen) {
		snprintf(why, whylen, "the endpoint's host name is too long");
		goto done;
	}
	err = DB_OK;
done:
	if (res)
		freeaddrinfo(res);
	return err;
}
