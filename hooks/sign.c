/* sign.c: the Standard Webhooks signature of a delivery, under each secret that is current. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "hooks.h"

void hooks_sign(const struct db_webhook_job *job, int64_t timestamp, const char *body,
                char out[HOOKS_SIGNATURE_MAX + 1])
{
	unsigned char mac[crypto_auth_hmacsha256_BYTES];
	crypto_auth_hmacsha256_state st;
	char ts[24];
	size_t len = 0;

	snprintf(ts, sizeof ts, "%" PRId64, timestamp);
	out[0] = 0;
	for (int k = 0; k < job->nsecrets; k++) {
		crypto_auth_hmacsha256_init(&st, job->secret[k], sizeof job->secret[k]);
		crypto_auth_hmacsha256_update(&st, (const unsigned char *)job->event_id,
		                              strlen(job->event_id));
		crypto_auth_hmacsha256_update(&st, (const unsigned char *)".", 1);
		crypto_auth_hmacsha256_update(&st, (const unsigned char *)ts, strlen(ts));
		crypto_auth_hmacsha256_update(&st, (const unsigned char *)".", 1);
		crypto_auth_hmacsha256_update(&st, (const unsigned char *)body, strlen(body));
		crypto_auth_hmacsha256_final(&st, mac);
		len += (size_t)snprintf(out + len, HOOKS_SIGNATURE_MAX + 1 - len, "%sv1,", k ? " " : "");
		sodium_bin2base64(out + len, HOOKS_SIGNATURE_MAX + 1 - len, mac, sizeof mac,
		                  sodium_base64_VARIANT_ORIGINAL);
		len += strlen(out + len);
	}
	sodium_memzero(&st, sizeof st);
}
