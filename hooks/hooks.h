/* hooks.h: what the webhook deliverer's files share: signing and posting a batch. */
#ifndef SESSIONS_HOOKS_H
#define SESSIONS_HOOKS_H

#include <stddef.h>
#include <stdint.h>

#include "db.h"

#define HOOKS_BATCH 16 /* deliveries posted at once */
/* "v1,<base64 of 32 bytes>" per secret, space separated. */
#define HOOKS_SIGNATURE_MAX (2 * (3 + 44) + 2)

/*
 * The webhook-signature header's value (Standard Webhooks): one
 * "v1,<base64 HMAC-SHA256 of id.timestamp.body>" for each of the job's
 * secrets, so a receiver holding either one during a rotation verifies.
 */
void hooks_sign(const struct db_webhook_job *job, int64_t timestamp, const char *body,
                char out[HOOKS_SIGNATURE_MAX + 1]);

/* How one attempt went. */
struct hooks_result {
	int http_status;        /* 0: no answer */
	int64_t retry_after_ms; /* the receiver's Retry-After; 0: none */
	int64_t started_ms, ended_ms;
	char error[DB_WEBHOOK_ERROR_MAX + 1];
};

struct hooks_poster;
/* One libcurl multi handle for the process's life; 0, or -1. */
int hooks_poster_new(struct hooks_poster **out, int allow_private, int64_t timeout_ms);
void hooks_poster_free(struct hooks_poster *p);
/*
 * Posts the jobs at once and fills out[i] for each. Every attempt connects
 * only to the address checked for it. Returns 0, or -1 when stop was set
 * meanwhile (the results are then not to be recorded: the deliveries stay
 * pending and go again with the same webhook-id).
 */
int hooks_post(struct hooks_poster *p, const struct db_webhook_job *jobs, int n,
               struct hooks_result *out, volatile int *stop);

#endif
