/* ledger.h: double-entry money movements inside the library's transactions. */
#ifndef SESSIONS_LEDGER_H
#define SESSIONS_LEDGER_H

#include "internal.h"

enum ledger_account { LEDGER_WALLET, LEDGER_FROZEN, LEDGER_EARNINGS,
                      LEDGER_PLATFORM, LEDGER_FUNDING };

/*
 * The account of a kind: owner is a user id for wallet and frozen, an
 * astrologer id for earnings, and ignored for platform and funding.
 */
int ledger_account(struct db *db, enum ledger_account kind, int64_t owner,
                   int64_t *id);
int ledger_balance(struct db *db, int64_t account, int64_t *balance);

/* A movement: n (account, amount) legs that must sum to zero; zero legs are skipped. */
struct ledger_leg {
	int64_t account;
	int64_t amount;
};
int ledger_move(struct db *db, const char *kind, const char *session_id,
                const struct ledger_leg *legs, int n, int64_t now_ms,
                int64_t *txn_id);

/* The owners of accounts, by name. */
int db_user_id(struct db *db, const char *name, int64_t *id);
int db_astrologer_id(struct db *db, const char *name, int64_t *id);

#endif
