/* format.c: fuzzes the parsing of money ("97.00") and time (ISO 8601), and their round trips through the formatters. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), buf[32];
	int64_t v, again;

	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';

	/* An amount read is in range and reads back the same from its own printing. */
	if (db_money_parse(s, &v) == DB_OK) {
		if (v < 0 || v > DB_AMOUNT_MAX)
			abort();
		db_money_format(v, buf);
		if (db_money_parse(buf, &again) != DB_OK || again != v)
			abort();
	}
	/* Any 64-bit amount prints without overflow, in its sign and digits. */
	if (size >= 8) {
		memcpy(&v, data, 8);
		db_money_format(v, buf);
		if (strlen(buf) < 4 || (v < 0) != (buf[0] == '-'))
			abort();
	}

	/* A time read is a moment the formatter prints and the parser reads back. */
	if (db_time_parse(s, &v) == DB_OK) {
		db_time_format(v, buf);
		if (db_time_parse(buf, &again) != DB_OK || again != v)
			abort();
	}
	free(s);
	return 0;
}
