/* main.c: the relay's process: arguments, the lws context, signals, the loop, shutdown. */
#include <errno.h>
#include <ev.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chat_writer.h"
#include "conf.h"
#include "relay.h"
#include "room.h"
#include "waiting.h"

#define RELAY_BUSY_MS 500 /* the longest the loop waits for another writer's lock */

/* SIGTERM or SIGINT: leave the loop for the shutdown below. */
static void on_signal(struct ev_loop *loop, ev_signal *w, int revents)
{
	(void)w;
	(void)revents;
	ev_break(loop, EVBREAK_ALL);
}

static void usage(void)
{
	fprintf(stderr, "usage: relay [--db PATH] (--socket PATH | --port N) --origin URL...\n"
	                "             [--rate FRAMES_PER_S] [--burst FRAMES] [--ping-secs N]\n"
	                "             [--chat-queue MESSAGES]\n"
	                "The database is --db PATH, else the database setting (SESSIONS_DB or the\n"
	                "configuration file).\n");
	exit(2);
}

static long number(const char *s, long min, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		usage();
	return v;
}

struct args {
	const char *db, *socket;
	long port, ping;
	int chat_max;
};

static void origin(struct relay_conns *cs, const char *o)
{
	if (relay_conn_allow(cs, o) < 0) {
		fprintf(stderr, "relay: at most %d origins of under %d bytes\n",
		        RELAY_ORIGINS_MAX / 2, RELAY_ORIGIN_LEN - 10);
		exit(2);
	}
}

static void parse_args(int argc, char **argv, struct relay *r, struct args *a)
{
	int i;

	for (i = 1; i < argc; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!v)
			usage();
		if (!strcmp(argv[i], "--db"))
			a->db = v;
		else if (!strcmp(argv[i], "--socket"))
			a->socket = v;
		else if (!strcmp(argv[i], "--port"))
			a->port = number(v, 1, 65535);
		else if (!strcmp(argv[i], "--origin"))
			origin(&r->conns, v);
		else if (!strcmp(argv[i], "--rate"))
			r->conns.rate = (double)number(v, 1, 10000000);
		else if (!strcmp(argv[i], "--burst"))
			r->conns.burst = (double)number(v, 1, 10000000);
		else if (!strcmp(argv[i], "--chat-queue"))
			a->chat_max = (int)number(v, 1, 65536);
		else if (!strcmp(argv[i], "--ping-secs"))
			a->ping = number(v, 1, 50);
		else
			usage();
		i++;
	}
	if (!r->conns.norigins || !a->socket == !a->port)
		usage();
}

/*
 * The database the API programs use: the configuration's database setting
 * (SESSIONS_DB overrides the file), unless --db names one. Every setting
 * is checked here: a bad one stops the relay before it serves anybody.
 */
static const char *database(const char *flag)
{
	const char *path;
	char err[512];

	if (conf_load(flag, err, sizeof err) != 0) {
		fprintf(stderr, "relay: %s\n", err);
		exit(2);
	}
	path = flag ? flag : conf_str(CONF_DATABASE);
	if (!*path) {
		fprintf(stderr, "relay: no database: pass --db PATH or set database in the "
		        "configuration file (or SESSIONS_DB)\n");
		exit(2);
	}
	return path;
}

static void wake(lws_sorted_usec_list_t *sul)
{
	(void)sul;
}

int main(int argc, char **argv)
{
	static struct relay r = {.conns = {.rate = 50, .burst = 100}};
	struct lws_context_creation_info info;
	struct ev_loop *loop = NULL;
	ev_signal term, intr;
	void *loops[1];
	struct args a = {NULL, NULL, 0, 30, RELAY_CHAT_WAITING};
	lws_retry_bo_t retry;
	lws_sorted_usec_list_t grace;
	struct sigaction sa;
	char err[256];
	lws_usec_t until;
	int rc = 1;

	parse_args(argc, argv, &r, &a);
	a.db = database(a.db);
	/* Each thread keeps its own connection (the loop's and the chat writer's). */
	if (db_threads_own_connections() != DB_OK)
		fprintf(stderr, "relay: SQLite keeps its locks\n");
	lws_set_log_level(LLL_ERR | LLL_WARN, NULL);
	/* The database, then the chat file beside it (history is read from there). */
	if (db_open(a.db, &r.db, err, sizeof err) != DB_OK ||
	    db_chat_open(a.db, &r.chat, err, sizeof err) != DB_OK) {
		fprintf(stderr, "relay: %s\n", err);
		goto out;
	}
	/* Every connection waits while the loop does: better a refused frame than a stall. */
	db_set_busy_timeout(r.db, RELAY_BUSY_MS);
	db_set_busy_timeout(r.chat, RELAY_BUSY_MS);
	if (relay_proto_init(&r.proto) < 0 || relay_conn_setup(&r.conns) < 0 ||
	    relay_room_init(&r, a.chat_max) < 0 ||
	    !(r.limits = relay_limits_new(r.conns.rate, r.conns.burst)))
		goto out;

	/*
	 * Pings well inside nginx's 60 s proxy read timeout; silent peers are
	 * dropped. idle.c does it: a policy with no hangup time turns off
	 * lws's own, which re-armed a timer in a list sorted by a walk over
	 * every connection on each pong.
	 */
	memset(&retry, 0, sizeof retry);
	relay_idle_init(&r.idle, (int)a.ping);

	memset(&info, 0, sizeof info);
	info.protocols = relay_conn_protocols;
	info.user = &r;
	info.gid = (gid_t)-1;
	info.uid = (uid_t)-1;
	info.retry_and_idle_policy = &retry;
	/* One read takes many small frames from a busy peer: fewer system calls a message. */
	info.pt_serv_buf_size = 32768;
	info.options = LWS_SERVER_OPTION_VALIDATE_UTF8 | LWS_SERVER_OPTION_FAIL_UPON_UNABLE_TO_BIND |
	               LWS_SERVER_OPTION_DISABLE_IPV6 | LWS_SERVER_OPTION_LIBEV;
	/*
	 * libev (epoll) rather than lws's poll(): poll hands the kernel every
	 * connection on each wakeup, so at thousands of joined connections
	 * the relay spent most of its CPU there. The loop is ours so that
	 * signals and the shutdown can break out of it.
	 */
	if (!(loop = ev_loop_new(EVFLAG_AUTO))) {
		fprintf(stderr, "relay: no event loop\n");
		goto out;
	}
	loops[0] = loop;
	info.foreign_loops = loops;
	ev_signal_init(&term, on_signal, SIGTERM);
	ev_signal_start(loop, &term);
	ev_signal_init(&intr, on_signal, SIGINT);
	ev_signal_start(loop, &intr);
	if (a.socket) {
		info.options |= LWS_SERVER_OPTION_UNIX_SOCK;
		info.iface = a.socket;
		unlink(a.socket); /* a socket left by a killed relay */
	} else {
		info.iface = "127.0.0.1";
		info.port = (int)a.port;
	}

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	/* A file size limit (systemd's LimitFSIZE) fails the write that meets it, as a full disk does. */
	sigaction(SIGXFSZ, &sa, NULL);

	if (!(r.ctx = lws_create_context(&info))) {
		fprintf(stderr, "relay: could not listen on %s\n", a.socket ? a.socket : "the port");
		goto out;
	}
	if (relay_chat_writer_start(&r.writer, a.db, r.ctx, err, sizeof err) < 0) {
		fprintf(stderr, "relay: %s\n", err);
		lws_context_destroy(r.ctx);
		goto out;
	}
	relay_room_start(&r);
	relay_idle_start(&r);
	if (conf_warning())
		fprintf(stderr, "relay: warning: %s\n", conf_warning());
	fprintf(stderr, "relay: serving\n");
	ev_run(loop, 0);

	/* Store and deliver waiting chat, then say goodbye (1001) and give the frames a moment to leave. */
	relay_idle_stop(&r);
	relay_room_shutdown(&r);
	memset(&grace, 0, sizeof grace);
	lws_sul_schedule(r.ctx, 0, &grace, wake, 1000 * LWS_US_PER_MS);
	until = lws_now_usecs() + 1000 * LWS_US_PER_MS;
	while (relay_room_count(&r) && lws_now_usecs() < until)
		ev_run(loop, EVRUN_ONCE);
	lws_sul_cancel(&grace);
	lws_context_destroy(r.ctx);
	if (a.socket)
		unlink(a.socket);
	fprintf(stderr, "relay: stopped\n");
	rc = 0;
out:
	if (r.rooms)
		relay_room_free(&r);
	relay_limits_free(r.limits);
	relay_conn_teardown(&r.conns);
	relay_proto_free(&r.proto);
	db_close(r.chat);
	db_close(r.db);
	if (loop) {
		ev_signal_stop(loop, &term);
		ev_signal_stop(loop, &intr);
		ev_loop_destroy(loop);
	}
	return rc;
}
