/* relay.h: the process-wide state: main.c builds it, every callback reaches it through the lws context. */
#ifndef SESSIONS_RELAY_H
#define SESSIONS_RELAY_H

#include <libwebsockets.h>

#include "conn.h"
#include "db.h"
#include "idle.h"
#include "limits.h"
#include "proto.h"

struct relay_chat_writer;
struct relay_rooms;

struct relay {
	struct lws_context *ctx;
	struct db *db;             /* owned: the loop's connection, closed at shutdown */
	struct db *chat;           /* owned: the loop's connection to the chat file (history) */
	struct relay_conns conns;  /* conn.c's: origins, rate limit, the write batch */
	struct relay_idle idle;    /* idle.c's: pings and the join deadline */
	struct relay_proto proto;  /* proto.c's: the parser and the frame being relayed */
	struct relay_rooms *rooms; /* is malloc'd: room.c's */
	struct relay_chat_writer *writer; /* is malloc'd: chat_writer.c's; NULL when not running */
	struct relay_limits *limits; /* is malloc'd: limits.c's, per participant */
};

#endif
