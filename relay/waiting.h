/* waiting.h: the chat handed to the writer and not yet answered, each found again by its ticket. */
#ifndef SESSIONS_RELAY_WAITING_H
#define SESSIONS_RELAY_WAITING_H

#include <stdint.h>

#define RELAY_CHAT_WAITING 4096 /* messages waiting for the writer, relay-wide (--chat-queue) */

struct relay_conn;

/* The loop's side of one message: the writer never sees it. */
struct relay_waiting {
	struct relay_waiting *next;
	uint64_t ticket;
	struct relay_conn *from; /* not owned; NULL once the sender closed */
};

/*
 * Oldest first. The writer answers in the order it was given, so the
 * search for an answer's ticket normally ends at the head; an answer out
 * of order still finds its own sender.
 */
struct relay_waiting_list {
	struct relay_waiting *head, *tail; /* is malloc'd: each entry */
	int count;
	int max;     /* the cap: beyond it chat is refused, so the writer's queue stays bounded */
	uint64_t last; /* the last ticket given: 64 bits never wrap */
};

int relay_waiting_full(const struct relay_waiting_list *l);
int relay_waiting_add(struct relay_waiting_list *l, struct relay_conn *from, uint64_t *ticket);
struct relay_conn *relay_waiting_take(struct relay_waiting_list *l, uint64_t ticket);
void relay_waiting_forget(struct relay_waiting_list *l, const struct relay_conn *from);

#endif
