/* recording.h: consent to record a call, carried between the two participants and stored by db/recording.c. */
#ifndef SESSIONS_RELAY_RECORDING_H
#define SESSIONS_RELAY_RECORDING_H

#include "db.h"

struct relay;
struct relay_conn;
struct relay_room;

/* A participant's recording frame (action: an enum db_rec_action); both sides hear the new state. */
void relay_recording_act(struct relay *r, struct relay_conn *c, enum db_rec_action action);

/*
 * role's connection went (it left, or another window took its place): a
 * recording asked for or running stops, since the recorder or the consent
 * was on that page, and the side still there hears it.
 */
void relay_recording_gone(struct relay *r, struct relay_room *room, enum db_role role);

#endif
