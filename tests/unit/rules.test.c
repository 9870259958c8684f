/* rules.test.c: each session rule of db/rules.c a millisecond either side of its boundary. */
#include <string.h>

#include "db.h"
#include "tap.h"

#define T0 1767225600000LL /* 2026-01-01T00:00:00Z */
#define MIN 60000LL

static const struct db_config config = {
	.commission_bps = 2000,
	.grace_ms = 2 * MIN,
	.opens_before_ms = 15 * MIN,
	.valid_after_ms = 30 * MIN,
	.minute_ms = MIN,
};

/* A 30-minute booking starting at T0, as the library would have stored it. */
static struct db_session booked(void)
{
	struct db_session s;

	memset(&s, 0, sizeof s);
	s.status = DB_STATUS_SCHEDULED;
	s.paid_minutes = 30;
	s.scheduled_start_ms = T0;
	db_link_window(&config, T0, 30, &s.link_opens_ms, &s.link_valid_until_ms);
	return s;
}

static void test_link_window(void)
{
	struct db_session s = booked();

	CHECK(s.link_opens_ms == T0 - 15 * MIN && s.link_valid_until_ms == T0 + 60 * MIN,
	      "a link opens 15 minutes before the start and lasts 30 after the paid time");
	CHECK(db_session_link_verdict(&config, &s, T0 - 15 * MIN - 1) == DB_ERR_NOT_OPEN,
	      "a millisecond before it opens, the link is not open");
	CHECK(db_session_link_verdict(&config, &s, T0 - 15 * MIN) == DB_OK,
	      "at the moment it opens, it works");
	CHECK(db_session_link_verdict(&config, &s, T0 + 60 * MIN - 1) == DB_OK,
	      "in its last millisecond it works");
	CHECK(db_session_link_verdict(&config, &s, T0 + 60 * MIN) == DB_ERR_EXPIRED,
	      "at link_valid_until it has expired");
}

static void test_joined(void)
{
	struct db_session s = booked();

	CHECK(!db_session_has_joined(&s, DB_ROLE_USER) && !db_session_has_joined(&s, DB_ROLE_ASTROLOGER),
	      "nobody has joined a fresh booking");
	s.astrologer_joined_ms = T0;
	CHECK(!db_session_has_joined(&s, DB_ROLE_USER) && db_session_has_joined(&s, DB_ROLE_ASTROLOGER),
	      "a join counts for its own role only");
}

static void test_deadline(void)
{
	struct db_session s = booked();
	enum db_reason why;

	CHECK(db_session_deadline_ms(&config, &s) == 0, "a session not started has no deadline");
	CHECK(db_session_due_ms(&config, &s, &why) == T0 + 60 * MIN && why == DB_REASON_NO_SHOW,
	      "a booking nobody started ends as a no-show when its link runs out");
	CHECK(db_session_due(&config, &s, T0 + 60 * MIN - 1) == DB_REASON_NONE &&
	      db_session_due(&config, &s, T0 + 60 * MIN) == DB_REASON_NO_SHOW,
	      "... not a millisecond before");

	s.status = DB_STATUS_ACTIVE;
	s.user_joined_ms = s.astrologer_joined_ms = s.started_ms = T0 + 5 * MIN;
	CHECK(db_session_deadline_ms(&config, &s) == T0 + 35 * MIN,
	      "the paid time ends 30 paid minutes after both joined");
	CHECK(db_session_due(&config, &s, T0 + 35 * MIN - 1) == DB_REASON_NONE &&
	      db_session_link_verdict(&config, &s, T0 + 35 * MIN - 1) == DB_OK,
	      "a millisecond before the deadline the session runs");
	CHECK(db_session_due(&config, &s, T0 + 35 * MIN) == DB_REASON_TIME_UP &&
	      db_session_link_verdict(&config, &s, T0 + 35 * MIN) == DB_ERR_ENDED,
	      "at the deadline its time is up and its links say it has ended");
	CHECK(db_session_link_verdict(&config, &s, T0 + 90 * MIN) == DB_ERR_ENDED,
	      "an active session past its deadline is over even after its link window");

	s.status = DB_STATUS_COMPLETED;
	s.end_reason = DB_REASON_USER_ENDED;
	s.ended_ms = T0 + 10 * MIN;
	CHECK(db_session_is_over(&s) && db_session_due_ms(&config, &s, &why) == 0 &&
	      why == DB_REASON_NONE, "a session that is over is due for nothing");
	s.status = DB_STATUS_EXPIRED;
	CHECK(db_session_link_verdict(&config, &s, T0) == DB_ERR_EXPIRED,
	      "an expired session's links say expired");
	s.status = DB_STATUS_CANCELLED;
	CHECK(db_session_link_verdict(&config, &s, T0) == DB_ERR_ENDED,
	      "a cancelled session's links say ended");
}

static void test_credentials(void)
{
	struct db_session s = booked();

	CHECK(db_session_credentials_until_ms(&config, &s) == T0 + 60 * MIN + 30 * MIN + 2 * MIN,
	      "credentials for a session not started last until it could end if joined at the last moment, plus the grace");
	s.status = DB_STATUS_ACTIVE;
	s.started_ms = T0;
	CHECK(db_session_credentials_until_ms(&config, &s) == T0 + 30 * MIN + 2 * MIN,
	      "credentials for a started session last until its deadline plus the grace");
}

int main(void)
{
	test_link_window();
	test_joined();
	test_deadline();
	test_credentials();
	TAP_EXIT();
}
