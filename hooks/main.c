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
/*
 * Results wait this long, or until RECORD_MAX of them have come, to be
 * recorded in one transaction. Recording each batch as it came back took
 * the write lock, with an fsync, a few hundred times a second from the
 * API's writers when events came one or two at a time; now it is at most
 * ten times a second, or once for every RECORD_MAX deliveries.
 */
#define GATHER_MS 100
#define RECORD_MAX (4 * HOOKS_BATCH)

/* Results sent and not recorded yet: their deliveries stay pending meanwhile. */
struct gathered {
	int64_t ids[RECORD_MAX]; /* the deliveries, left out of the next looks */
	int64_t endpoints[RECORD_MAX];
	struct hooks_result res[RECORD_MAX];
	int n;
	int64_t first_ms; /* when the oldest came back */
};

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
 * Records what was gathered in one transaction. Each record is its own
 * savepoint, so one that fails leaves the others; a failed commit leaves
 * every delivery pending, to be sent again with the same webhook-id.
 */
static void record(struct db *db, struct gathered *g)
{
	if (db_tx_begin(db) != DB_OK) {
		fprintf(stderr, "sessions-webhooks: results not recorded: %s\n", db_errmsg(db));
		goto done;
	}
	for (int i = 0; i < g->n; i++)
		if (db_webhook_record(db, g->ids[i], g->endpoints[i], g->res[i].started_ms,
		                      g->res[i].ended_ms, g->res[i].http_status, g->res[i].retry_after_ms,
		                      *g->res[i].error ? g->res[i].error : NULL) != DB_OK)
			fprintf(stderr, "sessions-webhooks: not recorded: %s\n", db_errmsg(db));
	if (db_tx_commit(db) != DB_OK)
		fprintf(stderr, "sessions-webhooks: results not recorded: %s\n", db_errmsg(db));
	/* Outside the commit, and out of the API's requests' way. */
	else if (db_checkpoint_idle(db) != DB_OK)
		fprintf(stderr, "sessions-webhooks: %s\n", db_errmsg(db));
done:
	g->n = 0;
}

/*
 * Records what is gathered when it is full or old enough, else posts one
 * batch; how long to wait before the next round. While no other process
 * has written and nothing falls due, an idle deliverer reads nothing.
 */
static int64_t round_once(struct db *db, struct hooks_poster *poster, struct gathered *g)
{
	static int64_t next_ms;
	static int64_t quiet_until; /* after a look that found nothing to send: no other look before */
	static int posted = 1; /* its own writes may have made something due */
	struct db_webhook_job jobs[HOOKS_BATCH];
	struct hooks_result res[HOOKS_BATCH];
	int64_t now = db_now_ms(), wait = YIELD_MS;
	int n, changed;

	if (g->n && (g->n + HOOKS_BATCH > RECORD_MAX || now - g->first_ms >= GATHER_MS)) {
		record(db, g);
		posted = 1;
		quiet_until = 0; /* a subject's next event may be sendable now */
		return YIELD_MS;
	}
	if (now < quiet_until) {
		wait = quiet_until - now;
		goto out;
	}
	if (db_changed(db, &changed) != DB_OK)
		changed = 1;
	if (!changed && !posted && (!next_ms || now < next_ms)) {
		wait = until(next_ms, now);
		goto out;
	}
	if (db_webhook_due(db, now, g->ids, g->n, jobs, HOOKS_BATCH, &n, &next_ms) != DB_OK) {
		fprintf(stderr, "sessions-webhooks: %s\n", db_errmsg(db));
		wait = BACKOFF_MS;
		goto out;
	}
	if (!(posted = n > 0)) {
		/*
		 * Nothing sendable. Deliveries held back behind an earlier event
		 * of their subject that is being retried (its endpoint failing),
		 * or sent and not recorded yet, make next_ms look due, yet stay
		 * unsendable: without this pause every commit of the API, or
		 * nothing at all, started another scan of them, over a
		 * millisecond of CPU for each join.
		 */
		quiet_until = now + POLL_MS;
		wait = POLL_MS;
		goto out;
	}
	/* Stopped mid-batch: nothing of it is recorded, and it goes again with the same webhook-ids. */
	if (hooks_post(poster, jobs, n, res, &stop_flag) == 0) {
		if (!g->n)
			g->first_ms = db_now_ms();
		for (int i = 0; i < n; i++) {
			if (!res[i].ended_ms)
				res[i].ended_ms = db_now_ms();
			fprintf(stderr, "sessions-webhooks: %s to endpoint %lld: %s%s\n", jobs[i].event_id,
			        (long long)jobs[i].endpoint_id,
			        res[i].http_status >= 200 && res[i].http_status <= 299 ? "delivered" : "",
			        res[i].error);
			g->ids[g->n] = jobs[i].delivery_id;
			g->endpoints[g->n] = jobs[i].endpoint_id;
			g->res[g->n++] = res[i];
		}
	}
	db_webhook_jobs_free(jobs, n);
out:
	if (g->n && g->first_ms + GATHER_MS - now < wait)
		wait = g->first_ms + GATHER_MS - now;
	return wait;
}

int main(int argc, char **argv)
{
	const char *path = NULL;
	struct hooks_poster *poster = NULL;
	struct sigaction sa;
	struct db *db = NULL;
	struct gathered *g = NULL; /* owned: freed at the end */
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
	db_checkpoint_deferred(db);
	if (!(g = calloc(1, sizeof *g)) || hooks_poster_new(&poster, db_config(db)->webhook_allow_private,
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
		nap(round_once(db, poster, g));
	if (g->n) /* what was sent before the signal */
		record(db, g);
	rc = 0;
out:
	free(g);
	hooks_poster_free(poster);
	db_close(db);
	curl_global_cleanup();
	return rc;
}
