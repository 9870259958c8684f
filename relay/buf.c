/* buf.c: a growable string that builds the relay's JSON frames. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "db.h"

void relay_buf_init(struct relay_buf *b)
{
	memset(b, 0, sizeof *b);
}

void relay_buf_free(struct relay_buf *b)
{
	free(b->p);
	relay_buf_init(b);
}

/* Empties the buffer and keeps its memory for the next frame. */
void relay_buf_reset(struct relay_buf *b)
{
	b->len = 0;
	b->oom = 0;
	if (b->p)
		b->p[0] = '\0';
}

/* Makes room for n more bytes and the NUL; on failure the buffer is marked and left as is. */
static int buf_grow(struct relay_buf *b, size_t n)
{
	size_t cap;
	char *p;

	if (b->oom)
		return -1;
	if (b->len + n + 1 <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 256;
	while (cap < b->len + n + 1)
		cap *= 2;
	if (!(p = realloc(b->p, cap))) {
		b->oom = 1;
		return -1;
	}
	b->p = p;
	b->cap = cap;
	return 0;
}

static void buf_add(struct relay_buf *b, const char *s, size_t n)
{
	if (buf_grow(b, n) < 0)
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void relay_buf_str(struct relay_buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

/* Appends s as a JSON string literal; s is valid UTF-8 (lws checks every text frame). */
void relay_buf_json(struct relay_buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, run = 0;

	buf_add(b, "\"", 1);
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		char esc[7];
		size_t elen = 2;

		if (ch >= 0x20 && ch != '"' && ch != '\\')
			continue;
		buf_add(b, s + run, i - run);
		run = i + 1;
		esc[0] = '\\';
		switch (ch) {
		case '"': esc[1] = '"'; break;
		case '\\': esc[1] = '\\'; break;
		case '\n': esc[1] = 'n'; break;
		case '\r': esc[1] = 'r'; break;
		case '\t': esc[1] = 't'; break;
		default:
			memcpy(esc + 1, "u00", 3);
			esc[4] = hex[ch >> 4];
			esc[5] = hex[ch & 15];
			elen = 6;
		}
		buf_add(b, esc, elen);
	}
	buf_add(b, s + run, n - run);
	buf_add(b, "\"", 1);
}

void relay_buf_fmt(struct relay_buf *b, const char *fmt, ...)
{
	va_list ap;
	size_t room = b->cap > b->len ? b->cap - b->len : 0;
	int n;

	if (b->oom)
		return;
	/* A fresh buffer gets its first block now: most frames then format once, not measure and format. */
	if (!b->cap) {
		if (buf_grow(b, 0) < 0)
			return;
		room = b->cap;
	}
	va_start(ap, fmt);
	n = vsnprintf(b->p + b->len, room, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= room) { /* did not fit: grow and format again */
		if (buf_grow(b, (size_t)n) < 0)
			return;
		va_start(ap, fmt);
		vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
		va_end(ap);
	}
	b->len += (size_t)n;
}

/* Appends a time as a JSON string, or null for 0 ("not yet"). */
void relay_buf_time(struct relay_buf *b, int64_t ms)
{
	char t[32];

	if (!ms) {
		buf_add(b, "null", 4);
		return;
	}
	db_time_format(ms, t);
	buf_add(b, "\"", 1);
	relay_buf_str(b, t);
	buf_add(b, "\"", 1);
}

char *relay_buf_data(struct relay_buf *b)
{
	return b->oom || !b->p ? NULL : b->p;
}
