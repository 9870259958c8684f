/* buf.h: a growable string that builds the relay's JSON frames. */
#ifndef SESSIONS_RELAY_BUF_H
#define SESSIONS_RELAY_BUF_H

#include <stddef.h>
#include <stdint.h>

/* oom makes every later add a no-op, so a frame is built without a check after each piece. */
struct relay_buf {
	char *p;    /* is malloc'd */
	size_t len; /* without the NUL kept after them, so p is always a C string */
	size_t cap;
	int oom;
};

void relay_buf_init(struct relay_buf *b);
void relay_buf_free(struct relay_buf *b);
void relay_buf_reset(struct relay_buf *b);
void relay_buf_str(struct relay_buf *b, const char *s);
void relay_buf_json(struct relay_buf *b, const char *s, size_t n);
void relay_buf_fmt(struct relay_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void relay_buf_time(struct relay_buf *b, int64_t ms);
char *relay_buf_data(struct relay_buf *b);

#endif
