/* settle.c: end_session calls per second on a real database file (make bench). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db.h"

static double seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Usage: settle DB N: books and starts N sessions, then times ending them. */
int main(int argc, char **argv)
{
	struct db_booking_req req = {"bench-user", "bench-astrologer", DB_TYPE_VIDEO, 30, 3000, 0};
	struct db_settlement st;
	struct db_join j;
	struct db *db;
	char err[256], (*ids)[DB_ID_LEN + 1];
	int n = argc == 3 ? atoi(argv[2]) : 0;
	int64_t now = db_now_ms();
	double t0, t1;

	if (n <= 0 || !(ids = calloc((size_t)n, sizeof *ids))) {
		fprintf(stderr, "usage: settle DB N\n");
		return 2;
	}
	if (db_open(argv[1], &db, err, sizeof err) != DB_OK) {
		fprintf(stderr, "settle: %s\n", err);
		return 1;
	}
	db_user_add(db, req.user, DB_AMOUNT_MAX, now);
	db_astrologer_add(db, req.astrologer, now);
	req.starts_ms = now;
	req.price = DB_AMOUNT_MAX / n;
	for (int i = 0; i < n; i++) {
		struct db_booking b;

		if (db_book(db, &req, now, &b) != DB_OK ||
		    db_start_session(db, b.session.id, DB_ROLE_USER, now, &j) != DB_OK ||
		    db_start_session(db, b.session.id, DB_ROLE_ASTROLOGER, now, &j) != DB_OK ||
		    db_presence_join(db, b.session.id, DB_ROLE_USER, now) != DB_OK ||
		    db_presence_join(db, b.session.id, DB_ROLE_ASTROLOGER, now) != DB_OK) {
			fprintf(stderr, "settle: %s\n", db_errmsg(db));
			return 1;
		}
		memcpy(ids[i], b.session.id, sizeof ids[i]);
	}
	t0 = seconds();
	for (int i = 0; i < n; i++) {
		if (db_end_session(db, ids[i], DB_REASON_COMPLETED, DB_ACTOR_USER, now + 20000, &st) != DB_OK) {
			fprintf(stderr, "settle: %s\n", db_errmsg(db));
			return 1;
		}
	}
	t1 = seconds();
	printf("end_session: %d calls in %.3f s = %.0f calls/s (%.1f us each), synchronous=FULL, WAL\n",
	       n, t1 - t0, n / (t1 - t0), (t1 - t0) * 1e6 / n);
	db_close(db);
	free(ids);
	return 0;
}
