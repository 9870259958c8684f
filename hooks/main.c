/* main.c: sessions-webhooks: arguments, signals, and the loop that posts due deliveries and records how they went. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "conf.h"
#include "hooks.h"

#define POLL_MS 250  /* new events come from other processes: look this often */
#define BACKOFF_MS 2000 /* after the database failed */
/*
 * Between two batches: requests waiting for the write lock look again
 * every few hundred microseconds, and would lose every race to a loop
 * that takes the lock again at once; the deliverer is the one that can wait.
 */
#define YIELD_MS 1

static volatile sig_atomic_t stopping;
static volatile int stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	stopping = 1;
	stop_flag = 1;
}

static void usage(void)
{
	fprintf(stderr, "usage: sessions-webhooks [--db PATH]\n"
	                "Posts the webhook events of the database (--db PATH, else the database\n"
	                "setting or SESSIONS_DB) to their endpoints until SIGTERM.\n");
	exit(2);
}

/* Sleeps up to ms, returning early on a signal. */
static void nap(int64_t ms)
{
	struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};

	if (ms > 0 && !stopping)
		nanosleep(&ts, NULL);
}

/* How long to sleep at most until next_ms (0: nothing pending). */
static int64_t until(int64_t next_ms, int64_t now)
{
	return next_ms && next_ms - now < POLL_MS ? next_ms - now : POLL_MS;
}

/*
 * Posts one batch and records each result; how long to wait before the
 * next look. While no other process has written and nothing falls due,
 * an idle deliverer reads nothing.
 */
static int64_t round_once(struct db *db, struct hooks_poster *poster)
{
	static int64_t next_ms;
	static int64_t quiet_until; /* after a look that found nothing to send: no other look before */
	static int posted = 1; /* its own writes may have made something due */
	struct db_webhook_job jobs[HOOKS_BATCH];
	struct hooks_result res[HOOKS_BATCH];
	int64_t now = db_now_ms();
	int n, changed;

	if (now < quiet_until)
		return quiet_until - now;
	if (db_changed(db, &changed) != DB_OK)
		changed = 1;
	if (!changed && !posted && (!next_ms || now < next_ms))
		return until(next_ms, now);
	if (db_webhook_due(db, now, jobs, HOOKS_BATCH, &n, &next_ms) != DB_OK) {
		fprintf(stderr, "sessions-webhooks: %s\n", db_errmsg(db));
		return BACKOFF_MS;
	}
	if (!(posted = n > 0)) {
		/*
		 * Nothing sendable. Deliveries held back behind an earlier event
		 * of their subject that is being retried (its endpoint failing)
		 * make next_ms look due, yet stay unsendable: without this pause
		 * every commit of the API, or nothing at all, started another
		 * scan of them, over a millisecond of CPU for each join.
		 */
		quiet_until = now + POLL_MS;
		return POLL_MS;
	}
	/*
	 * The batch's results commit together: one fsync for the batch, not
	 * one for each delivery, which under load took the write lock from
	 * the settlements a thousand times a second. Each record is its own
	 * savepoint, so one that fails leaves the others; a failed commit
	 * leaves every delivery pending, to be sent again.
	 */
	if (hooks_post(poster, jobs, n, res, &stop_flag) != 0)
		goto done;
	if (db_tx_begin(db) != DB_OK) {
		fprintf(stderr, "sessions-webhooks: results not recorded: %s\n", db_errmsg(db));
		goto done;
	}
	for (int i = 0; i < n; i++) {
		if (!res[i].ended_ms)
			res[i].ended_ms = db_now_ms();
		fprintf(stderr, "sessions-webhooks: %s to endpoint %lld: %s%s\n", jobs[i].event_id,
		        (long long)jobs[i].endpoint_id,
		        res[i].http_status >= 200 && res[i].http_status <= 299 ? "delivered" : "",
		        res[i].error);
		if (db_webhook_record(db, jobs[i].delivery_id, res[i].started_ms, res[i].ended_ms,
		                      res[i].http_status, res[i].retry_after_ms,
		                      *res[i].error ? res[i].error : NULL) != DB_OK)
			fprintf(stderr, "sessions-webhooks: not recorded: %s\n", db_errmsg(db));
	}
	if (db_tx_commit(db) != DB_OK)
		fprintf(stderr, "sessions-webhooks: results not recorded: %s\n", db_errmsg(db));
done:
	db_webhook_jobs_free(jobs, n);
	return YIELD_MS;
}

int main(int argc, char **argv)
{
	const char *path = NULL;
	struct hooks_poster *poster = NULL;
	struct sigaction sa;
	struct db *db = NULL;
	char err[512];
	int rc = 1;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--db") && i + 1 < argc)
			path = argv[++i];
		else
			usage();
	}
	/* Every setting is checked before anything is sent. */
	if (conf_load(path, err, sizeof err) != 0) {
		fprintf(stderr, "sessions-webhooks: %s\n", err);
		return 2;
	}
	if (!path)
		path = conf_str(CONF_DATABASE);
	if (!*path) {
		fprintf(stderr, "sessions-webhooks: no database: pass --db PATH or set database in "
		                "the configuration file (or SESSIONS_DB)\n");
		return 2;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "sessions-webhooks: libcurl did not start\n");
		return 1;
	}
	if (db_open(path, &db, err, sizeof err) != DB_OK) {
		fprintf(stderr, "sessions-webhooks: %s\n", err);
		goto out;
	}
	if (hooks_poster_new(&poster, db_config(db)->webhook_allow_private,
	                     db_config(db)->webhook_timeout_ms) < 0) {
		fprintf(stderr, "sessions-webhooks: out of memory\n");
		goto out;
	}
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	fprintf(stderr, "sessions-webhooks: delivering\n");
	while (!stopping)
		nap(round_once(db, poster));
	rc = 0;
out:
	hooks_poster_free(poster);
	db_close(db);
	curl_global_cleanup();
	return rc;
}
