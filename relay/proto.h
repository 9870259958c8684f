/* proto.h: the client frames (join-room, history, chat, signaling); see PROTOCOL.md. */
#ifndef SESSIONS_RELAY_PROTO_H
#define SESSIONS_RELAY_PROTO_H

#include <stddef.h>

#include <json-c/json.h>

#include "buf.h"
#include "db.h"

struct relay;
struct relay_conn;

/* Kept from frame to frame so that reading and relaying one allocates nothing. */
struct relay_proto {
	struct json_tokener *tok; /* is json_tokener_new'd */
	struct relay_buf scratch; /* its p is malloc'd: builds each relayed frame */
};

int relay_proto_init(struct relay_proto *p);
void relay_proto_free(struct relay_proto *p);
void relay_proto_frame(struct relay *r, struct relay_conn *c, const char *data, size_t len);
void relay_proto_message(struct relay_buf *b, const struct db_chat *m);
/* Takes back a message its receiver had before the commit that then failed. */
void relay_proto_withdrawn(struct relay_buf *b, int64_t seq);
void relay_proto_reaction(struct relay_buf *b, int64_t seq, const char *emoji, enum db_role by,
                          int on);

#endif
