/* purge.c: retention: old audit rows and finished webhook deliveries go; each subject's latest event stays. */
#include "internal.h"

/* Each step in order: attempts before their deliveries, deliveries before their events. */
static const char audit_sql[] = "DELETE FROM api_audit WHERE at_ms < ?1";
static const char attempts_sql[] =
	"DELETE FROM webhook_attempts WHERE delivery_id IN (SELECT id FROM webhook_deliveries"
	" WHERE status <> 'pending' AND done_ms < ?1)";
static const char deliveries_sql[] =
	"DELETE FROM webhook_deliveries WHERE status <> 'pending' AND done_ms < ?1";
/* The latest event of a subject is where its next sequence number comes from. */
static const char events_sql[] =
	"DELETE FROM webhook_events WHERE created_ms < ?1"
	" AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_id = webhook_events.id)"
	" AND sequence < (SELECT max(e.sequence) FROM webhook_events e"
	"  WHERE e.subject = webhook_events.subject)";

static int purge_step(struct db *db, const char *sql, int64_t before_ms, int64_t *count)
{
	sqlite3_stmt *st = db_stmt(db, sql);
	int rc;

	if (!st)
		return DB_ERR_STORE;
	sqlite3_bind_int64(st, 1, before_ms);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return db_fail_sql(db, "purge");
	*count = sqlite3_changes(db->sql);
	return DB_OK;
}

int db_purge(struct db *db, int64_t now_ms, struct db_purged *out)
{
	int64_t audit_before = now_ms - db->config.audit_retention_ms;
	int64_t hooks_before = now_ms - db->config.webhook_retention_ms;
	struct db_purged n = {0};
	int err;

	*out = n;
	if ((err = db_write_begin(db)) != DB_OK)
		return err;
	if ((err = purge_step(db, audit_sql, audit_before, &n.audit)) != DB_OK ||
	    (err = purge_step(db, attempts_sql, hooks_before, &n.attempts)) != DB_OK ||
	    (err = purge_step(db, deliveries_sql, hooks_before, &n.deliveries)) != DB_OK ||
	    (err = purge_step(db, events_sql, hooks_before, &n.events)) != DB_OK)
		goto fail;
	if ((err = db_write_commit(db)) != DB_OK)
		return err;
	*out = n;
	return DB_OK;
fail:
	db_write_rollback(db);
	return err;
}
