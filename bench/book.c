/* book.c: books N chat sessions that open now and prints each one's two tokens (make bench's settlement load). */
#include <stdio.h>
#include <stdlib.h>

#include "db.h"

/*
 * Usage: book DB USER ASTROLOGER N: both accounts must exist. Prints one
 * line per session, "userToken astrologerToken". One transaction holds the
 * lot: the load is the bench's subject, not its preparation.
 */
int main(int argc, char **argv)
{
	struct db_booking_req req = {NULL, NULL, DB_TYPE_CHAT, 30, 100, 0};
	struct db_booking b;
	struct db *db = NULL;
	char err[256];
	int n = argc == 5 ? atoi(argv[4]) : 0, rc = 1;
	int64_t now = db_now_ms();

	if (n <= 0) {
		fprintf(stderr, "usage: book DB USER ASTROLOGER N\n");
		return 2;
	}
	if (db_open(argv[1], &db, err, sizeof err) != DB_OK) {
		fprintf(stderr, "book: %s\n", err);
		return 1;
	}
	req.user = argv[2];
	req.astrologer = argv[3];
	req.starts_ms = now;
	if (db_tx_begin(db) != DB_OK)
		goto fail;
	for (int i = 0; i < n; i++) {
		if (db_book(db, &req, now, &b) != DB_OK)
			goto fail;
		printf("%s %s\n", b.user_token, b.astrologer_token);
	}
	if (db_tx_commit(db) != DB_OK)
		goto fail;
	rc = 0;
	goto done;
fail:
	fprintf(stderr, "book: %s\n", db_errmsg(db));
	db_tx_rollback(db);
done:
	db_close(db);
	return rc;
}
