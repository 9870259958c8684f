/* relay_waiting.test.c: the relay's waiting chat: each answer reaches its own sender, in whatever order answers come. */
#include "../../relay/waiting.c"
#include "tap.h"

/* Stand-ins for connections: only their addresses are compared. */
static char conn_a, conn_b, conn_c;
#define A ((struct relay_conn *)(void *)&conn_a)
#define B ((struct relay_conn *)(void *)&conn_b)
#define C ((struct relay_conn *)(void *)&conn_c)

int main(void)
{
	struct relay_waiting_list l = {.max = 3};
	uint64_t ta, tb, tc, td;

	CHECK(relay_waiting_add(&l, A, &ta) == 0 && relay_waiting_add(&l, B, &tb) == 0 &&
	      relay_waiting_add(&l, C, &tc) == 0, "three messages wait");
	CHECK(ta != tb && tb != tc && ta != tc, "each message has its own ticket");
	CHECK(relay_waiting_full(&l), "at the cap the list says so (busy)");

	CHECK(relay_waiting_take(&l, tc) == C, "an answer that overtakes two others reaches its sender");
	CHECK(!relay_waiting_full(&l) && l.count == 2, "and frees one place under the cap");
	CHECK(relay_waiting_add(&l, A, &td) == 0 && td != tc,
	      "a message added after the tail was taken gets a new ticket");
	CHECK(relay_waiting_take(&l, tb) == B, "an answer from the middle reaches its sender");
	CHECK(relay_waiting_take(&l, ta) == A, "the oldest answer reaches its sender");
	CHECK(relay_waiting_take(&l, td) == A && l.count == 0 && !l.head && !l.tail,
	      "the last answer empties the list");

	CHECK(relay_waiting_add(&l, A, &ta) == 0 && relay_waiting_add(&l, B, &tb) == 0,
	      "two more wait");
	relay_waiting_forget(&l, A);
	CHECK(relay_waiting_take(&l, ta) == NULL && l.count == 1,
	      "a closed sender's answer goes to nobody and ends its wait");
	CHECK(relay_waiting_take(&l, ta) == NULL && l.count == 1,
	      "a ticket answered already matches nothing and removes nothing");
	CHECK(relay_waiting_take(&l, tb) == B && l.count == 0,
	      "forgetting one sender leaves another's answer alone");
	TAP_EXIT();
}
