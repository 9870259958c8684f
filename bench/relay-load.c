/* relay-load.c: the WebSocket load generator of make bench: N rooms x 2 clients against the relay or the Socket.IO peer. */
#define _GNU_SOURCE /* memmem */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "db.h"

/*
 * One process, one thread, epoll. Every message carries its send time
 * (CLOCK_MONOTONIC, same machine) so the receiver measures one-way latency.
 * Traffic flows from each room's user to its astrologer. Modes:
 *   max   each room keeps W messages in flight: throughput
 *   rate  R messages a second in total, spread over the rooms: latency
 *   idle  connect and join, report the server's memory, leave
 *   soak  signaling at R and chat at C messages a second together for a
 *         long run: every --interval seconds a line with that interval's
 *         latency, the server's CPU and its mean RSS (sampled every
 *         --sample seconds); every message carries its room's sequence
 *         number for its kind, so the receiver counts what was lost,
 *         duplicated or out of order; with --ping-ms every connection
 *         (both sides) also sends the page's keep-alive ping that often
 * Protocols: "relay" (this project's JSON frames; rooms are booked in
 * --db first) and "sio" (Socket.IO 4 / engine.io 4 over WebSocket).
 */

#define RBUF 65536
#define HIST_US 1000000 /* latency histogram: 1 us buckets up to 1 s; the last holds all longer */

enum proto { P_RELAY, P_SIO };
enum kind { K_SIGNAL, K_CHAT };
enum mode { M_MAX, M_RATE, M_IDLE, M_SOAK };

struct conn {
	int fd;
	int room;
	int role;      /* 0 user (sender), 1 astrologer (receiver) */
	int upgraded;
	int ready;     /* joined (relay) or connected (sio) */
	char rbuf[RBUF];
	size_t rlen;
	char *wbuf;    /* is malloc'd: bytes not yet written */
	size_t wlen, wcap;
	int want_out;
};

struct room {
	char token[2][DB_TOKEN_LEN + 1];
	int inflight;
	int peer_seen; /* the user has seen the astrologer join */
	uint64_t sent_seq[2]; /* by enum kind: the last sequence number sent ... */
	uint64_t recv_seq[2]; /* ... and the highest the receiver has seen */
};

static struct {
	enum proto proto;
	enum kind kind;
	enum mode mode;
	const char *socket, *db, *origin;
	int rooms, window, seconds;
	long rate, server_pid;
	struct conn *conns;
	struct room *room;
	int ep;
	uint64_t sent, delivered, hist_n;
	uint64_t acked; /* chat: the sender's own messages back, its acknowledgements */
	uint64_t *hist;
	uint64_t seq;
	int ready_rooms, joined;
	int measuring;
	/* soak */
	long chat_rate;
	int warmup, interval, sample, ping_ms;
	uint64_t pings;
	uint64_t kind_sent[2], unique[2]; /* by enum kind */
	uint64_t dup, gaps;
} g = {.origin = "http://127.0.0.1:9", .rooms = 10, .window = 32, .seconds = 5, .rate = 2000,
       .chat_rate = 200, .warmup = 60, .interval = 60, .sample = 5};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void die(const char *what)
{
	fprintf(stderr, "relay-load: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* The server's CPU seconds (user + system) from /proc. */
static double server_cpu(void)
{
	char path[64], buf[1024], *p;
	unsigned long ut, st;
	FILE *f;
	size_t n;

	snprintf(path, sizeof path, "/proc/%ld/stat", g.server_pid);
	if (!(f = fopen(path, "r")))
		return -1;
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	if (!(p = strrchr(buf, ')')) ||
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
		return -1;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static long server_rss_kb(void)
{
	char path[64], line[256];
	long kb = -1;
	FILE *f;

	snprintf(path, sizeof path, "/proc/%ld/status", g.server_pid);
	if (!(f = fopen(path, "r")))
		return -1;
	while (fgets(line, sizeof line, f))
		if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

static void want_out(struct conn *c, int on)
{
	struct epoll_event ev = {.events = EPOLLIN | (on ? EPOLLOUT : 0u), .data.ptr = c};

	if (c->want_out == on)
		return;
	c->want_out = on;
	if (epoll_ctl(g.ep, EPOLL_CTL_MOD, c->fd, &ev) < 0)
		die("epoll_ctl");
}

static void flush(struct conn *c)
{
	ssize_t n;

	while (c->wlen) {
		n = write(c->fd, c->wbuf, c->wlen);
		if (n < 0) {
			if (errno == EAGAIN)
				break;
			die("write");
		}
		memmove(c->wbuf, c->wbuf + n, c->wlen - (size_t)n);
		c->wlen -= (size_t)n;
	}
	want_out(c, c->wlen > 0);
}

static void put(struct conn *c, const void *p, size_t n)
{
	if (c->wlen + n > c->wcap) {
		c->wcap = (c->wlen + n) * 2;
		if (!(c->wbuf = realloc(c->wbuf, c->wcap)))
			die("realloc");
	}
	memcpy(c->wbuf + c->wlen, p, n);
	c->wlen += n;
}

/* A client frame: masked with a zero key, which the protocol allows and costs nothing. */
static void frame(struct conn *c, int opcode, const char *p, size_t n)
{
	unsigned char h[14];
	size_t hl = 2;

	h[0] = (unsigned char)(0x80 | opcode);
	if (n < 126) {
		h[1] = (unsigned char)(0x80 | n);
	} else if (n < 65536) {
		h[1] = 0x80 | 126;
		h[2] = (unsigned char)(n >> 8);
		h[3] = (unsigned char)n;
		hl = 4;
	} else {
		h[1] = 0x80 | 127;
		for (int i = 0; i < 8; i++)
			h[2 + i] = (unsigned char)((uint64_t)n >> (56 - 8 * i));
		hl = 10;
	}
	memset(h + hl, 0, 4);
	put(c, h, hl + 4);
	put(c, p, n);
}

static void text(struct conn *c, const char *p, size_t n)
{
	frame(c, 1, p, n);
	flush(c);
}

static void send_kind(struct conn *c, enum kind kind)
{
	char m[512];
	int n;
	uint64_t t = now_ns(), s = ++g.room[c->room].sent_seq[kind];

	g.seq++;
	g.kind_sent[kind]++;
	if (g.proto == P_RELAY && kind == K_SIGNAL)
		n = snprintf(m, sizeof m, "{\"type\":\"ice-candidate\",\"candidate\":{\"candidate\":"
		             "\"candidate:1 1 udp 2122260223 192.0.2.1 54321 typ host t=%" PRIu64 " s=%" PRIu64
		             "\",\"sdpMid\":\"0\",\"sdpMLineIndex\":0}}", t, s);
	else if (g.proto == P_RELAY)
		n = snprintf(m, sizeof m, "{\"type\":\"message\",\"message\":\"hello there t=%" PRIu64
		             " s=%" PRIu64 "\",\"clientId\":\"b%" PRIu64 "\"}", t, s, g.seq);
	else if (kind == K_SIGNAL)
		n = snprintf(m, sizeof m, "42[\"ice-candidate\",{\"roomId\":\"r%d\",\"candidate\":{"
		             "\"candidate\":\"candidate:1 1 udp 2122260223 192.0.2.1 54321 typ host t=%"
		             PRIu64 "\",\"sdpMid\":\"0\",\"sdpMLineIndex\":0}}]", c->room, t);
	else
		n = snprintf(m, sizeof m, "42[\"message\",{\"roomId\":\"r%d\",\"senderType\":\"user\","
		             "\"message\":\"hello there t=%" PRIu64 "\",\"timestamp\":\"2026-01-01T00:00:00.000Z\"}]",
		             c->room, t);
	g.room[c->room].inflight++;
	g.sent++;
	text(c, m, (size_t)n);
}

static void send_one(struct conn *c)
{
	send_kind(c, g.kind);
}

/* The number after key in a delivered frame; 0 when absent. */
static uint64_t number_after(const char *p, size_t n, const char *key)
{
	const char *t = memmem(p, n, key, 2);
	uint64_t v = 0;

	if (!t)
		return 0;
	for (t += 2; t < p + n && *t >= '0' && *t <= '9'; t++)
		v = v * 10 + (uint64_t)(*t - '0');
	return v;
}

/* A sequence number at or below the last one seen is a duplicate; one past the next is a gap. */
static void check_seq(struct room *r, enum kind kind, uint64_t s)
{
	if (s <= r->recv_seq[kind]) {
		g.dup++;
		return;
	}
	if (s > r->recv_seq[kind] + 1)
		g.gaps++;
	r->recv_seq[kind] = s;
	g.unique[kind]++;
}

static void on_delivered(struct room *r, enum kind kind, const char *p, size_t n)
{
	uint64_t sent = number_after(p, n, "t="), lat;

	if (!sent)
		return;
	if (g.proto == P_RELAY)
		check_seq(r, kind, number_after(p, n, "s="));
	if (!g.measuring)
		return;
	g.delivered++;
	lat = (now_ns() - sent) / 1000;
	g.hist[lat < HIST_US ? lat : HIST_US - 1]++;
	g.hist_n++;
}

static void on_text(struct conn *c, const char *p, size_t n)
{
	struct room *r = &g.room[c->room];

	if (g.proto == P_SIO) {
		if (n >= 1 && p[0] == '2' && n == 1) { /* engine.io ping */
			text(c, "3", 1);
			return;
		}
		if (n >= 2 && p[0] == '0' && !c->ready) { /* engine.io open: connect the namespace */
			text(c, "40", 2);
			return;
		}
		if (n >= 2 && !memcmp(p, "40", 2) && !c->ready) {
			char m[160];
			int k = snprintf(m, sizeof m, "42[\"join-room\",{\"roomId\":\"r%d\",\"participantType\":\"%s\","
			                 "\"sessionType\":\"video\"}]", c->room, c->role ? "astrologer" : "user");

			c->ready = 1;
			g.joined++;
			text(c, m, (size_t)k);
			return;
		}
	} else if (!c->ready && memmem(p, n, "\"type\":\"joined\"", 15)) {
		c->ready = 1;
		g.joined++;
		return;
	}
	if (memmem(p, n, "participant-joined", 18)) {
		if (c->role == 0 && !r->peer_seen) {
			r->peer_seen = 1;
			g.ready_rooms++;
		}
		return;
	}
	if (c->role != 1) {
		/* the sender's own echo (chat: its acknowledgement) or other room news */
		if (g.measuring && (g.kind == K_CHAT || g.mode == M_SOAK) && memmem(p, n, "\"type\":\"message\"", 16))
			g.acked++;
		return;
	}
	if (g.mode == M_SOAK) {
		if (memmem(p, n, "ice-candidate", 13))
			on_delivered(r, K_SIGNAL, p, n);
		else if (memmem(p, n, "\"type\":\"message\"", 16))
			on_delivered(r, K_CHAT, p, n);
		return;
	}
	if (memmem(p, n, g.kind == K_SIGNAL ? "ice-candidate" : "\"message\"", g.kind == K_SIGNAL ? 13 : 9)) {
		on_delivered(r, g.kind, p, n);
		if (r->inflight > 0)
			r->inflight--;
		if (g.mode == M_MAX && g.measuring)
			while (r->inflight < g.window)
				send_one(&g.conns[2 * c->room]);
	}
}

/* Reads what arrived; parses the 101 answer, then server frames. */
static void readable(struct conn *c)
{
	ssize_t n;
	size_t off = 0;

	for (;;) {
		n = read(c->fd, c->rbuf + c->rlen, RBUF - c->rlen);
		if (n < 0 && errno == EAGAIN)
			break;
		if (n <= 0) {
			fprintf(stderr, "relay-load: the server closed connection %d (room %d)\n",
			        (int)(c - g.conns), c->room);
			exit(1);
		}
		c->rlen += (size_t)n;
		off = 0;
		if (!c->upgraded) {
			char *end = memmem(c->rbuf, c->rlen, "\r\n\r\n", 4);

			if (!end)
				continue;
			if (memcmp(c->rbuf, "HTTP/1.1 101", 12)) {
				fprintf(stderr, "relay-load: no upgrade: %.60s\n", c->rbuf);
				exit(1);
			}
			c->upgraded = 1;
			off = (size_t)(end + 4 - c->rbuf);
			if (g.proto == P_RELAY) {
				char m[128];
				int k = snprintf(m, sizeof m, "{\"type\":\"join-room\",\"token\":\"%s\"}",
				                 g.room[c->room].token[c->role]);

				text(c, m, (size_t)k);
			}
		}
		for (;;) {
			unsigned char *h = (unsigned char *)c->rbuf + off;
			size_t avail = c->rlen - off, hl = 2, len;

			if (avail < 2)
				break;
			len = h[1] & 0x7f;
			if (len == 126) {
				if (avail < 4)
					break;
				len = (size_t)h[2] << 8 | h[3];
				hl = 4;
			} else if (len == 127) {
				if (avail < 10)
					break;
				len = 0;
				for (int i = 0; i < 8; i++)
					len = len << 8 | h[2 + i];
				hl = 10;
			}
			if (hl + len > RBUF) {
				fprintf(stderr, "relay-load: a frame over %d bytes\n", RBUF);
				exit(1);
			}
			if (avail < hl + len)
				break;
			switch (h[0] & 0x0f) {
			case 1:
				on_text(c, (char *)h + hl, len);
				break;
			case 8:
				fprintf(stderr, "relay-load: close frame on connection %d\n", (int)(c - g.conns));
				exit(1);
			case 9:
				frame(c, 10, (char *)h + hl, len);
				flush(c);
				break;
			default:
				break;
			}
			off += hl + len;
		}
		memmove(c->rbuf, c->rbuf + off, c->rlen - off);
		c->rlen -= off;
	}
}

static void open_conn(struct conn *c)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
	char req[512];
	int n;

	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", g.socket);
	if ((c->fd = socket(AF_UNIX, SOCK_STREAM, 0)) < 0)
		die("socket");
	while (connect(c->fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		if (errno != EAGAIN)
			die("connect");
		usleep(1000);
	}
	fcntl(c->fd, F_SETFL, O_NONBLOCK);
	if (epoll_ctl(g.ep, EPOLL_CTL_ADD, c->fd, &ev) < 0)
		die("epoll_ctl");
	n = snprintf(req, sizeof req,
	             "GET %s HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n"
	             "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
	             "Sec-WebSocket-Version: 13\r\nOrigin: %s\r\n\r\n",
	             g.proto == P_RELAY ? "/ws" : "/socket.io/?EIO=4&transport=websocket", g.origin);
	put(c, req, (size_t)n);
	flush(c);
}

static void loop_once(int timeout_ms)
{
	struct epoll_event ev[256];
	int i, n = epoll_wait(g.ep, ev, 256, timeout_ms);

	if (n < 0 && errno != EINTR)
		die("epoll_wait");
	for (i = 0; i < n; i++) {
		struct conn *c = ev[i].data.ptr;

		if (ev[i].events & EPOLLOUT)
			flush(c);
		if (ev[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
			readable(c);
	}
}

/* Books one session a room in the relay's database: the tokens are the only way in. */
static void book(void)
{
	struct db_booking_req req = {.user = "bench-user", .astrologer = "bench-astrologer",
	                             .type = DB_TYPE_VIDEO, .minutes = 480, .price = 1};
	struct db_booking b;
	struct db *db;
	char err[256];
	int64_t now = db_now_ms();

	if (db_open(g.db, &db, err, sizeof err) != DB_OK) {
		fprintf(stderr, "relay-load: %s\n", err);
		exit(1);
	}
	db_user_add(db, req.user, DB_AMOUNT_MAX, now);
	db_astrologer_add(db, req.astrologer, now);
	req.type = g.kind == K_CHAT && g.mode != M_SOAK ? DB_TYPE_CHAT : DB_TYPE_VIDEO;
	req.starts_ms = now;
	for (int i = 0; i < g.rooms; i++) {
		if (db_book(db, &req, now, &b) != DB_OK) {
			fprintf(stderr, "relay-load: booking: %s\n", db_errmsg(db));
			exit(1);
		}
		memcpy(g.room[i].token[0], b.user_token, sizeof b.user_token);
		memcpy(g.room[i].token[1], b.astrologer_token, sizeof b.astrologer_token);
	}
	db_close(db);
}

static uint64_t percentile(double p)
{
	uint64_t want = (uint64_t)((double)g.hist_n * p), acc = 0;

	for (uint64_t i = 0; i < HIST_US; i++)
		if ((acc += g.hist[i]) > want)
			return i < HIST_US - 1 ? i : HIST_US; /* the last bucket: a second or more */
	return HIST_US;
}

static double self_cpu(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* One interval of a soak: its own latency histogram, the server's CPU over it, its RSS samples. */
struct soak_interval {
	uint64_t start_ns;
	double cpu0;
	long rss_sum, rss_n;
	uint64_t sent0[2];
};

static long soak_report(struct soak_interval *iv, int index, uint64_t t0, uint64_t now)
{
	double secs = (double)(now - iv->start_ns) / 1e9, cpu = server_cpu();
	long rss = iv->rss_n ? iv->rss_sum / iv->rss_n : server_rss_kb();
	uint64_t max = 0;

	for (uint64_t i = 0; i < HIST_US; i++)
		if (g.hist[i])
			max = i < HIST_US - 1 ? i : HIST_US;
	printf("interval=%d end_s=%.0f%s signal_sent=%" PRIu64 " chat_sent=%" PRIu64 " received=%" PRIu64
	       " p50_us=%" PRIu64 " p99_us=%" PRIu64 " max_us=%" PRIu64 " server_cpu_pct=%.1f rss_kb=%ld\n",
	       index, (double)(now - t0) / 1e9, (double)(iv->start_ns - t0) / 1e9 < g.warmup ? " warmup" : "",
	       g.kind_sent[K_SIGNAL] - iv->sent0[K_SIGNAL], g.kind_sent[K_CHAT] - iv->sent0[K_CHAT], g.hist_n,
	       percentile(0.50), percentile(0.99), max, (cpu - iv->cpu0) * 100.0 / secs, rss);
	fflush(stdout);
	memset(g.hist, 0, HIST_US * sizeof *g.hist);
	g.hist_n = 0;
	iv->start_ns = now;
	iv->cpu0 = cpu;
	iv->rss_sum = iv->rss_n = 0;
	memcpy(iv->sent0, g.kind_sent, sizeof iv->sent0);
	return rss;
}

/* Sends kind at rate a second from the rooms' users in turn, as far as is due by elapsed. */
static void soak_send(enum kind kind, long rate, uint64_t elapsed, int *next)
{
	uint64_t due = elapsed * (uint64_t)rate / 1000000000ull;

	while (g.kind_sent[kind] < due) {
		send_kind(&g.conns[2 * *next], kind);
		*next = (*next + 1) % g.rooms;
	}
}

/* The page's keep-alive, from every connection in turn: conns * 1000 / ping_ms a second. */
static void soak_ping(uint64_t elapsed, int *next)
{
	uint64_t due = elapsed / 1000000u * (uint64_t)g.rooms * 2 / (uint64_t)g.ping_ms;

	while (g.pings < due) {
		text(&g.conns[*next], "{\"type\":\"ping\"}", 15);
		g.pings++;
		*next = (*next + 1) % (g.rooms * 2);
	}
}

/*
 * Warm-up, then the measured intervals; then sending stops and what is in
 * flight drains. The judged figures compare the first interval after the
 * warm-up with the last one.
 */
static void soak(void)
{
	struct soak_interval iv = {0};
	uint64_t t0 = now_ns(), t_end, next_sample = t0, next_iv, drain_end, p99_first = 0, p99_last = 0;
	uint64_t interval_ns = (uint64_t)g.interval * 1000000000ull, lost;
	long rss_first = 0, rss_last = 0, rss;
	int next_sig = 0, next_chat = 0, next_ping = 0, index = 0, first_measured = -1;

	t_end = t0 + (uint64_t)(g.warmup + g.seconds) * 1000000000ull;
	next_iv = t0 + interval_ns;
	iv.start_ns = t0;
	iv.cpu0 = server_cpu();
	g.measuring = 1;
	for (;;) {
		uint64_t now = now_ns();
		int last = now >= t_end;

		soak_send(K_SIGNAL, g.rate, now - t0, &next_sig);
		soak_send(K_CHAT, g.chat_rate, now - t0, &next_chat);
		if (g.ping_ms)
			soak_ping(now - t0, &next_ping);
		if (now >= next_sample) {
			iv.rss_sum += server_rss_kb();
			iv.rss_n++;
			next_sample += (uint64_t)g.sample * 1000000000ull;
		}
		if (now >= next_iv || last) {
			int measured = (double)(iv.start_ns - t0) / 1e9 >= g.warmup - 0.5;
			uint64_t p99 = percentile(0.99);

			rss = soak_report(&iv, ++index, t0, now);
			if (measured && first_measured < 0) {
				first_measured = index;
				rss_first = rss;
				p99_first = p99;
			}
			if (measured) {
				rss_last = rss;
				p99_last = p99;
			}
			next_iv += interval_ns;
		}
		if (last)
			break;
		loop_once(1);
	}
	drain_end = now_ns() + 10000000000ull;
	while (g.unique[K_SIGNAL] + g.unique[K_CHAT] + g.dup < g.kind_sent[K_SIGNAL] + g.kind_sent[K_CHAT] &&
	       now_ns() < drain_end)
		loop_once(10);
	lost = g.kind_sent[K_SIGNAL] + g.kind_sent[K_CHAT] - g.unique[K_SIGNAL] - g.unique[K_CHAT];
	printf("connections=%d pings=%" PRIu64 " signal_sent=%" PRIu64 " chat_sent=%" PRIu64 " chat_acked=%" PRIu64
	       " lost=%" PRIu64 " duplicated=%" PRIu64 " out_of_order=%" PRIu64 " rss_first_kb=%ld"
	       " rss_last_kb=%ld rss_growth_pct=%.2f p99_first_us=%" PRIu64 " p99_last_us=%" PRIu64 "\n",
	       g.rooms * 2, g.pings, g.kind_sent[K_SIGNAL], g.kind_sent[K_CHAT], g.acked, lost, g.dup, g.gaps,
	       rss_first, rss_last, rss_first ? (double)(rss_last - rss_first) * 100.0 / (double)rss_first : 0.0,
	       p99_first, p99_last);
}

static void usage(void)
{
	fprintf(stderr, "usage: relay-load --socket PATH --proto relay|sio [--db PATH] --pid SERVER_PID\n"
	                "       [--kind signal|chat] [--mode max|rate|idle] [--rooms N] [--window N]\n"
	                "       [--rate MSGS_PER_S] [--seconds N] [--origin URL]\n"
	                "       soak: [--chat-rate MSGS_PER_S] [--warmup S] [--interval S] [--sample S]\n"
	                "             [--ping-ms MS]\n");
	exit(2);
}

static void parse(int argc, char **argv)
{
	for (int i = 1; i + 1 < argc; i += 2) {
		const char *k = argv[i], *v = argv[i + 1];

		if (!strcmp(k, "--socket")) g.socket = v;
		else if (!strcmp(k, "--db")) g.db = v;
		else if (!strcmp(k, "--origin")) g.origin = v;
		else if (!strcmp(k, "--proto")) g.proto = !strcmp(v, "sio") ? P_SIO : P_RELAY;
		else if (!strcmp(k, "--kind")) g.kind = !strcmp(v, "chat") ? K_CHAT : K_SIGNAL;
		else if (!strcmp(k, "--mode")) g.mode = !strcmp(v, "rate") ? M_RATE : !strcmp(v, "idle") ? M_IDLE
		                                  : !strcmp(v, "soak") ? M_SOAK : M_MAX;
		else if (!strcmp(k, "--rooms")) g.rooms = atoi(v);
		else if (!strcmp(k, "--window")) g.window = atoi(v);
		else if (!strcmp(k, "--seconds")) g.seconds = atoi(v);
		else if (!strcmp(k, "--rate")) g.rate = atol(v);
		else if (!strcmp(k, "--pid")) g.server_pid = atol(v);
		else if (!strcmp(k, "--chat-rate")) g.chat_rate = atol(v);
		else if (!strcmp(k, "--warmup")) g.warmup = atoi(v);
		else if (!strcmp(k, "--interval")) g.interval = atoi(v);
		else if (!strcmp(k, "--sample")) g.sample = atoi(v);
		else if (!strcmp(k, "--ping-ms")) g.ping_ms = atoi(v);
		else usage();
	}
	if (!g.socket || !g.server_pid || g.rooms < 1 || g.window < 1 || g.seconds < 1 || g.rate < 1 ||
	    g.chat_rate < 0 || g.warmup < 0 || g.interval < 1 || g.sample < 1 || g.ping_ms < 0 ||
	    (g.mode == M_SOAK && g.proto != P_RELAY) ||
	    (g.proto == P_RELAY && !g.db) || argc % 2 == 0)
		usage();
}

int main(int argc, char **argv)
{
	struct rlimit rl;
	uint64_t t0, t_end, due;
	double cpu0, self0, cpu1, self1, secs;
	long rss0, rss1;
	int i, next = 0;

	parse(argc, argv);
	getrlimit(RLIMIT_NOFILE, &rl);
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	if (!(g.conns = calloc((size_t)g.rooms * 2, sizeof *g.conns)) ||
	    !(g.room = calloc((size_t)g.rooms, sizeof *g.room)) ||
	    !(g.hist = calloc(HIST_US, sizeof *g.hist)))
		die("calloc");
	if ((g.ep = epoll_create1(0)) < 0)
		die("epoll_create1");
	if (g.proto == P_RELAY)
		book();
	rss0 = server_rss_kb();

	/* Connect in rounds so the server's listen backlog never overflows. */
	for (i = 0; i < g.rooms * 2; i++) {
		g.conns[i].room = i / 2;
		g.conns[i].role = i % 2;
		open_conn(&g.conns[i]);
		if (i % 2 == 0) /* the user first, so it sees the astrologer join */
			while (g.joined < i + 1)
				loop_once(100);
	}
	t0 = now_ns();
	while (g.ready_rooms < g.rooms) {
		loop_once(100);
		if (now_ns() - t0 > 60000000000ull) {
			fprintf(stderr, "relay-load: only %d of %d rooms ready\n", g.ready_rooms, g.rooms);
			return 1;
		}
	}
	if (g.mode == M_IDLE) {
		t0 = now_ns();
		while (now_ns() - t0 < 2000000000ull) /* let the server settle; answer pings */
			loop_once(100);
		rss1 = server_rss_kb();
		printf("connections=%d rss_before_kb=%ld rss_after_kb=%ld bytes_per_conn=%.0f\n",
		       g.rooms * 2, rss0, rss1, (double)(rss1 - rss0) * 1024.0 / (g.rooms * 2));
		return 0;
	}
	if (g.mode == M_SOAK) {
		soak();
		return 0;
	}

	g.measuring = 1;
	cpu0 = server_cpu();
	self0 = self_cpu();
	t0 = now_ns();
	t_end = t0 + (uint64_t)g.seconds * 1000000000ull;
	if (g.mode == M_MAX)
		for (i = 0; i < g.rooms; i++)
			while (g.room[i].inflight < g.window)
				send_one(&g.conns[2 * i]);
	while (now_ns() < t_end) {
		if (g.mode == M_RATE) {
			due = (now_ns() - t0) * (uint64_t)g.rate / 1000000000ull;
			while (g.sent < due) {
				send_one(&g.conns[2 * next]);
				next = (next + 1) % g.rooms;
			}
		}
		loop_once(g.mode == M_RATE ? 1 : 100);
	}
	cpu1 = server_cpu();
	self1 = self_cpu();
	secs = (double)(now_ns() - t0) / 1e9;
	printf("sent=%" PRIu64 " delivered=%" PRIu64 " acked=%" PRIu64 " seconds=%.2f msgs_per_s=%.0f p50_us=%" PRIu64
	       " p99_us=%" PRIu64 " server_cpu_s=%.2f server_us_per_msg=%.2f loadgen_cpu_pct=%.0f\n",
	       g.sent, g.delivered, g.acked, secs, (double)g.delivered / secs, percentile(0.50), percentile(0.99),
	       cpu1 - cpu0, g.delivered ? (cpu1 - cpu0) * 1e6 / (double)g.delivered : 0.0,
	       (self1 - self0) * 100.0 / secs);
	return 0;
}
