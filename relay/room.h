/* room.h: the sessions that have connections (or an active one both left), their presence, and the chat on its way to them. */
#ifndef SESSIONS_RELAY_ROOM_H
#define SESSIONS_RELAY_ROOM_H

#include "db.h"

struct relay;
struct relay_conn;
struct relay_room;

int relay_room_init(struct relay *r, int chat_max);
void relay_room_start(struct relay *r);
void relay_room_shutdown(struct relay *r);
void relay_room_free(struct relay *r);
int relay_room_count(const struct relay *r);

int relay_room_enter(struct relay *r, struct relay_conn *c, const struct db_session *s,
                     enum db_role role, struct relay_room **out);
void relay_room_leave(struct relay *r, struct relay_conn *c, int announce);
void relay_room_update(struct relay *r, struct relay_room *room, const struct db_session *s);
void relay_room_bill(struct relay *r, struct relay_room *room);

const char *relay_room_session_id(const struct relay_room *room);
enum db_type relay_room_type(const struct relay_room *room);
int relay_room_ended(const struct relay_room *room);
struct relay_conn *relay_room_conn(const struct relay_room *room, enum db_role role);

void relay_room_chat(struct relay *r, struct relay_conn *c, char *body, int64_t file_id,
                     const char *client_id);
void relay_room_react(struct relay *r, struct relay_conn *c, int64_t seq, const char *emoji, int on);
void relay_room_answers(struct relay *r);
void relay_room_forget(struct relay *r, struct relay_conn *c);

#endif
