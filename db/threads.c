/* threads.c: SQLite set up for threads that never share a connection. */
#include <sqlite3.h>

#include "db.h"
#include "threads.h"

int db_threads_own_connections(void)
{
	if (sqlite3_config(SQLITE_CONFIG_MULTITHREAD) != SQLITE_OK ||
	    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0) != SQLITE_OK)
		return DB_ERR_STORE;
	return DB_OK;
}
