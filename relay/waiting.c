/* waiting.c: the chat handed to the writer and not yet answered, each found again by its ticket. */
#include <stdlib.h>

#include "waiting.h"

int relay_waiting_full(const struct relay_waiting_list *l)
{
	return l->count >= l->max;
}

/* Records a message from `from` about to go to the writer; its ticket travels with the job. */
int relay_waiting_add(struct relay_waiting_list *l, struct relay_conn *from, uint64_t *ticket)
{
	struct relay_waiting *w;

	if (!(w = malloc(sizeof *w)))
		return -1;
	w->next = NULL;
	w->ticket = ++l->last;
	w->from = from;
	if (l->tail)
		l->tail->next = w;
	else
		l->head = w;
	l->tail = w;
	l->count++;
	*ticket = w->ticket;
	return 0;
}

/*
 * Ends the wait for an answered message: its sender, or NULL when the
 * sender has closed (or no message has this ticket), so the answer goes
 * to nobody in particular.
 */
struct relay_conn *relay_waiting_take(struct relay_waiting_list *l, uint64_t ticket)
{
	struct relay_waiting **pp, *w, *prev = NULL;
	struct relay_conn *from;

	for (pp = &l->head; (w = *pp) && w->ticket != ticket; pp = &w->next)
		prev = w;
	if (!w)
		return NULL;
	*pp = w->next;
	if (l->tail == w)
		l->tail = prev;
	l->count--;
	from = w->from;
	free(w);
	return from;
}

/* A closing connection: its waiting chat is still stored, the answer goes nowhere. */
void relay_waiting_forget(struct relay_waiting_list *l, const struct relay_conn *from)
{
	struct relay_waiting *w;

	for (w = l->head; w; w = w->next)
		if (w->from == from)
			w->from = NULL;
}
