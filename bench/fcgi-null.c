/* fcgi-null.c: a FastCGI program that answers every request at once with a fixed body (make bench's floor under validate). */
#include <fcgiapp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * Usage: fcgi-null BYTES, under spawn-fcgi. Each answer has the API's
 * headers and a body of BYTES bytes (a JSON string and a newline), and goes
 * as the API programs send theirs: the request read to its end, one write,
 * a plain close. What is left is what nginx and libfcgi cost per request,
 * the most a program behind them could reach.
 */
int main(int argc, char **argv)
{
	static FCGX_Request req;
	long n = argc == 2 ? strtol(argv[1], NULL, 10) : 0;
	char *body;

	if (n < 3 || n > 65536) {
		fprintf(stderr, "usage: fcgi-null BYTES (3..65536), under spawn-fcgi\n");
		return 2;
	}
	if (!(body = malloc((size_t)n)) || FCGX_Init() != 0) {
		fprintf(stderr, "fcgi-null: out of memory or FCGX_Init failed\n");
		free(body);
		return 1;
	}
	memset(body, 'x', (size_t)n);
	body[0] = body[n - 2] = '"';
	body[n - 1] = '\n';
	FCGX_InitRequest(&req, 0, 0);
	while (FCGX_Accept_r(&req) >= 0) {
		while (FCGX_GetChar(req.in) != EOF)
			continue;
		FCGX_FPrintF(req.out, "Status: 200 OK\r\nContent-Type: application/json\r\n"
			     "Content-Length: %ld\r\n\r\n", n);
		FCGX_PutStr(body, (int)n, req.out);
		if (FCGX_GetError(req.in) == 0)
			FCGX_Detach(&req);
		FCGX_Finish_r(&req);
	}
	free(body);
	return 0;
}
