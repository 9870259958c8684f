/* tap.h: the unit tests' one-line-per-check output ("ok - ...", "not ok - ..."). */
#ifndef SESSIONS_TAP_H
#define SESSIONS_TAP_H

#include <stdio.h>

static int tap_failed;

/* Reports one check; the message says what a user would notice. */
#define CHECK(cond, ...)                                                     \
	do {                                                                 \
		int check_ok_ = (cond); /* once: cond may have effects */    \
		printf(check_ok_ ? "ok - " : "not ok - ");                   \
		printf(__VA_ARGS__);                                         \
		if (!check_ok_) {                                            \
			tap_failed++;                                        \
			printf("  [%s:%d: %s]", __FILE__, __LINE__, #cond);  \
		}                                                            \
		printf("\n");                                                \
		fflush(stdout);                                              \
	} while (0)

#define TAP_EXIT() return tap_failed ? 1 : 0

#endif
