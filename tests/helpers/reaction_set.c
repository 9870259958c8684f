/* reaction_set.c: prints the library's reaction emoji, one a line, for the test that the page offers the same. */
#include <stdio.h>

#include "db.h"

int main(void)
{
	for (int i = 0; i < DB_REACTIONS; i++)
		printf("%s\n", db_reactions[i]);
	return 0;
}
