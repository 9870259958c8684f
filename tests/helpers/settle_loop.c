/* settle_loop.c: books, joins and ends sessions in a loop, for crash and race tests. */
#include <stdio.h>
#include <stdlib.h>

#include "db.h"

/* Usage: settle_loop DB USER ASTROLOGER COUNT (0: until killed) */
int main(int argc, char **argv)
{
	struct db_booking_req req = {0};
	struct db_settlement st;
	struct db_booking b;
	struct db_join j;
	struct db *db;
	char err[256];
	long count;

	if (argc != 5) {
		fprintf(stderr, "usage: settle_loop DB USER ASTROLOGER COUNT\n");
		return 2;
	}
	count = atol(argv[4]);
	if (db_open(argv[1], &db, err, sizeof err) != DB_OK) {
		fprintf(stderr, "settle_loop: %s\n", err);
		return 1;
	}
	req.user = argv[2];
	req.astrologer = argv[3];
	req.type = DB_TYPE_CHAT;
	req.minutes = 30;
	req.price = 3000;
	for (long i = 0; count == 0 || i < count; i++) {
		int64_t now = db_now_ms();

		req.starts_ms = now;
		if (db_book(db, &req, now, &b) != DB_OK ||
		    db_start_session(db, b.session.id, DB_ROLE_USER, now, &j) != DB_OK ||
		    db_start_session(db, b.session.id, DB_ROLE_ASTROLOGER, now, &j) != DB_OK ||
		    db_presence_join(db, b.session.id, DB_ROLE_USER, now) != DB_OK ||
		    db_presence_join(db, b.session.id, DB_ROLE_ASTROLOGER, now) != DB_OK ||
		    db_end_session(db, b.session.id, DB_REASON_COMPLETED, DB_ACTOR_USER, now + 20000,
		                   &st) != DB_OK) {
			fprintf(stderr, "settle_loop: %s\n", db_errmsg(db));
			db_close(db);
			return 1;
		}
	}
	db_close(db);
	return 0;
}
