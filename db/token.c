/* token.c: join-link tokens: random secrets whose keyed digests are all the database keeps. */
#include <string.h>

#include <sodium.h>

#include "internal.h"

#define TOKEN_BYTES 32

int db_token_new(const struct db *db, char token[DB_TOKEN_LEN + 1],
                 unsigned char digest[DB_DIGEST_LEN])
{
	unsigned char raw[TOKEN_BYTES];

	randombytes_buf(raw, sizeof raw);
	sodium_bin2base64(token, DB_TOKEN_LEN + 1, raw, sizeof raw,
	                  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(raw, sizeof raw);
	return db_token_digest(db, token, digest);
}

/*
 * Only a token of the exact shape db_token_new makes gets a digest, so a
 * malformed one is refused before it reaches the database.
 */
int db_token_digest(const struct db *db, const char *token,
                    unsigned char digest[DB_DIGEST_LEN])
{
	unsigned char raw[TOKEN_BYTES];
	size_t len;

	if (!token || strnlen(token, DB_TOKEN_LEN + 1) != DB_TOKEN_LEN ||
	    sodium_base642bin(raw, sizeof raw, token, DB_TOKEN_LEN, NULL, &len, NULL,
	                      sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
	    len != sizeof raw)
		return DB_ERR_NOT_FOUND;
	crypto_generichash(digest, DB_DIGEST_LEN, raw, sizeof raw, db->key,
	                   sizeof db->key);
	sodium_memzero(raw, sizeof raw);
	return DB_OK;
}
