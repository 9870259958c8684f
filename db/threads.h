/* threads.h: preparing SQLite for a program whose threads each keep their own connection. */
#ifndef SESSIONS_THREADS_H
#define SESSIONS_THREADS_H

/*
 * Call once, before the first db_open, in a program where no struct db
 * is ever used by two threads. SQLite then skips its per-connection and
 * memory-statistics locks. DB_OK, or DB_ERR_STORE when SQLite was
 * already in use (it then keeps its default, which is also correct).
 */
int db_threads_own_connections(void);

#endif
