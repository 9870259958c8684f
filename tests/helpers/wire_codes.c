/* wire_codes.c: prints wire/errors.c's table, one "code status db-error" line a row, for the documentation test. */
#include <stdio.h>

#include "errors.h"

int main(void)
{
	const struct wire_error *e;

	for (int i = 0; (e = wire_error_at(i)); i++)
		printf("%s %d %d\n", e->code, e->http_status, e->db_err);
	return 0;
}
