/* post.c: posting a batch of deliveries at once with libcurl, each to the address that was checked for it. */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include "hooks.h"

#define PIN_MAX 600
#define CONNECT_MS 10000

struct hooks_poster {
	CURLM *multi;   /* owned: cleaned up by hooks_poster_free */
	int allow_private;
	int64_t timeout_ms;
};

/* One attempt in flight. */
struct attempt {
	CURL *easy;                 /* owned: cleaned up after the batch */
	struct curl_slist *headers; /* owned */
	struct curl_slist *resolve; /* owned: the pinned address */
	struct hooks_result *res;
};

int hooks_poster_new(struct hooks_poster **out, int allow_private, int64_t timeout_ms)
{
	struct hooks_poster *p = calloc(1, sizeof *p);

	if (!p || !(p->multi = curl_multi_init())) {
		free(p);
		return -1;
	}
	p->allow_private = allow_private;
	p->timeout_ms = timeout_ms;
	*out = p;
	return 0;
}

void hooks_poster_free(struct hooks_poster *p)
{
	if (!p)
		return;
	curl_multi_cleanup(p->multi);
	free(p);
}

/* The receiver's answer is not read: only its status counts. */
static size_t discard(char *data, size_t size, size_t n, void *arg)
{
	(void)data;
	(void)arg;
	return size * n;
}

/* Retry-After in seconds or as an HTTP date. */
static size_t on_header(char *data, size_t size, size_t n, void *arg)
{
	struct hooks_result *res = arg;
	size_t len = size * n, name = sizeof "retry-after:" - 1;
	char value[64];
	int64_t secs;

	if (len <= name || len - name >= sizeof value || strncasecmp(data, "retry-after:", name))
		return len;
	memcpy(value, data + name, len - name);
	value[len - name] = 0;
	value[strcspn(value, "\r\n")] = 0;
	if (isdigit((unsigned char)value[strspn(value, " ")]))
		secs = strtoll(value, NULL, 10);
	else if ((secs = (int64_t)curl_getdate(value, NULL)) > 0)
		secs -= (int64_t)time(NULL);
	res->retry_after_ms = secs > 0 ? secs * 1000 : 0;
	return len;
}

static struct curl_slist *slist_add(struct curl_slist **list, const char *line)
{
	struct curl_slist *more = curl_slist_append(*list, line);

	if (more)
		*list = more;
	return more;
}

/* Prepares one attempt; -1 with res->error set when it cannot be made. */
static int attempt_start(struct hooks_poster *p, const struct db_webhook_job *job,
                         struct attempt *a)
{
	char pin[PIN_MAX], why[DB_WEBHOOK_ERROR_MAX + 1], line[HOOKS_SIGNATURE_MAX + 64];
	int64_t ts = (int64_t)time(NULL);

	if (db_webhook_url_check(job->url, p->allow_private, pin, sizeof pin, why, sizeof why) !=
	    DB_OK) {
		snprintf(a->res->error, sizeof a->res->error, "%s", why);
		return -1;
	}
	if (!(a->easy = curl_easy_init()) ||
	    !slist_add(&a->headers, "Content-Type: application/json") ||
	    !slist_add(&a->headers, "User-Agent: sessions-webhooks") ||
	    !slist_add(&a->headers, "Expect:"))
		goto oom;
	snprintf(line, sizeof line, "webhook-id: %s", job->event_id);
	if (!slist_add(&a->headers, line))
		goto oom;
	snprintf(line, sizeof line, "webhook-timestamp: %" PRId64, ts);
	if (!slist_add(&a->headers, line))
		goto oom;
	memcpy(line, "webhook-signature: ", 19);
	hooks_sign(job, ts, job->payload, line + 19);
	if (!slist_add(&a->headers, line) || (*pin && !slist_add(&a->resolve, pin)))
		goto oom;
	curl_easy_setopt(a->easy, CURLOPT_URL, job->url);
	curl_easy_setopt(a->easy, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(a->easy, CURLOPT_FOLLOWLOCATION, 0L);
	/* A proxy would connect wherever it likes: the checked address is the only way out. */
	curl_easy_setopt(a->easy, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(a->easy, CURLOPT_RESOLVE, a->resolve);
	curl_easy_setopt(a->easy, CURLOPT_HTTPHEADER, a->headers);
	curl_easy_setopt(a->easy, CURLOPT_POSTFIELDS, job->payload);
	curl_easy_setopt(a->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(job->payload));
	curl_easy_setopt(a->easy, CURLOPT_TIMEOUT_MS, (long)p->timeout_ms);
	curl_easy_setopt(a->easy, CURLOPT_CONNECTTIMEOUT_MS,
	                 (long)(p->timeout_ms < CONNECT_MS ? p->timeout_ms : CONNECT_MS));
	curl_easy_setopt(a->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(a->easy, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(a->easy, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(a->easy, CURLOPT_HEADERDATA, a->res);
	curl_easy_setopt(a->easy, CURLOPT_PRIVATE, a);
	if (curl_multi_add_handle(p->multi, a->easy) != CURLM_OK)
		goto oom;
	return 0;
oom:
	snprintf(a->res->error, sizeof a->res->error, "out of memory");
	return -1;
}

static void attempt_done(struct hooks_poster *p, struct attempt *a)
{
	if (a->easy) {
		curl_multi_remove_handle(p->multi, a->easy);
		curl_easy_cleanup(a->easy);
	}
	curl_slist_free_all(a->headers);
	curl_slist_free_all(a->resolve);
	memset(a, 0, sizeof *a);
}

int hooks_post(struct hooks_poster *p, const struct db_webhook_job *jobs, int n,
               struct hooks_result *out, volatile int *stop)
{
	struct attempt att[HOOKS_BATCH];
	struct attempt *a;
	CURLMsg *msg;
	int running = 0, left, rc = 0;
	long code;

	if (n > HOOKS_BATCH)
		n = HOOKS_BATCH;
	memset(att, 0, sizeof att);
	for (int i = 0; i < n; i++) {
		memset(&out[i], 0, sizeof out[i]);
		out[i].started_ms = db_now_ms();
		att[i].res = &out[i];
		if (attempt_start(p, &jobs[i], &att[i]) < 0) {
			out[i].ended_ms = out[i].started_ms;
			attempt_done(p, &att[i]);
		}
	}
	do {
		if (curl_multi_perform(p->multi, &running) != CURLM_OK ||
		    (running && curl_multi_poll(p->multi, NULL, 0, 200, NULL) != CURLM_OK))
			break;
		while ((msg = curl_multi_info_read(p->multi, &left))) {
			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&a);
			a->res->ended_ms = db_now_ms();
			if (msg->data.result == CURLE_OK) {
				curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &code);
				a->res->http_status = (int)code;
				if (code < 200 || code > 299)
					snprintf(a->res->error, sizeof a->res->error, "HTTP %ld", code);
			} else {
				snprintf(a->res->error, sizeof a->res->error, "%s",
				         curl_easy_strerror(msg->data.result));
			}
		}
		if (*stop)
			rc = -1;
	} while (running && !rc);
	for (int i = 0; i < n; i++)
		attempt_done(p, &att[i]);
	return rc;
}
