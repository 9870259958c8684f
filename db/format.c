/* format.c: money and time as they appear at the edges: "97.00" and ISO 8601 UTC. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "db.h"

/* 9999-12-31T23:59:59.999Z: the last moment db_time_format prints with four digits. */
#define TIME_MAX_MS INT64_C(253402300799999)

static int is_digit(char c) { return c >= '0' && c <= '9'; }

int db_money_parse(const char *s, int64_t *out)
{
	int64_t units = 0;
	int digits = 0, decimals = 0;

	if (!s || !is_digit(*s))
		return DB_ERR_INVALID; /* no sign, no blank, no ".5" */
	for (; is_digit(*s); s++) {
		if (++digits > 12)
			return DB_ERR_INVALID;
		units = units * 10 + (*s - '0');
	}
	units *= 100;
	if (*s == '.') {
		s++;
		for (int scale = 10; is_digit(*s); s++, scale /= 10) {
			if (++decimals > 2)
				return DB_ERR_INVALID;
			units += (*s - '0') * scale;
		}
		if (decimals == 0)
			return DB_ERR_INVALID;
	}
	if (*s || units > DB_AMOUNT_MAX)
		return DB_ERR_INVALID;
	*out = units;
	return DB_OK;
}

void db_money_format(int64_t amount, char buf[32])
{
	const char *sign = amount < 0 ? "-" : "";
	uint64_t a = amount < 0 ? -(uint64_t)amount : (uint64_t)amount;

	snprintf(buf, 32, "%s%llu.%02llu", sign, (unsigned long long)(a / 100),
	         (unsigned long long)(a % 100));
}

/* Reads exactly n digits. */
static int digits(const char **s, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++, (*s)++) {
		if (!is_digit(**s))
			return -1;
		v = v * 10 + (**s - '0');
	}
	*out = v;
	return 0;
}

static int expect(const char **s, char c)
{
	if (**s != c)
		return -1;
	(*s)++;
	return 0;
}

/*
 * YYYY-MM-DDTHH:MM[:SS[.fff]] followed by Z, +HH:MM, -HH:MM or nothing
 * (nothing means UTC, as the original API's examples are written).
 */
int db_time_parse(const char *s, int64_t *out_ms)
{
	struct tm tm = {0};
	int y, mo, d, h, mi, sec = 0, ms = 0, off = 0, oh, om;
	int64_t t_ms;
	time_t t;

	if (!s || digits(&s, 4, &y) || expect(&s, '-') || digits(&s, 2, &mo) ||
	    expect(&s, '-') || digits(&s, 2, &d) || (*s != 'T' && *s != ' '))
		return DB_ERR_INVALID;
	s++;
	if (digits(&s, 2, &h) || expect(&s, ':') || digits(&s, 2, &mi))
		return DB_ERR_INVALID;
	if (*s == ':') {
		s++;
		if (digits(&s, 2, &sec))
			return DB_ERR_INVALID;
		if (*s == '.') {
			int n = 0;

			for (s++; is_digit(*s); s++, n++)
				if (n < 3)
					ms = ms * 10 + (*s - '0');
			if (n == 0)
				return DB_ERR_INVALID;
			for (; n < 3; n++)
				ms *= 10;
		}
	}
	if (*s == 'Z') {
		s++;
	} else if (*s == '+' || *s == '-') {
		int neg = *s++ == '-';

		if (digits(&s, 2, &oh) || expect(&s, ':') || digits(&s, 2, &om) ||
		    oh > 23 || om > 59)
			return DB_ERR_INVALID;
		off = (oh * 60 + om) * (neg ? -1 : 1);
	}
	if (*s || y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > 31 ||
	    h > 23 || mi > 59 || sec > 59)
		return DB_ERR_INVALID;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	t = timegm(&tm);
	if (tm.tm_mday != d || tm.tm_mon != mo - 1) /* timegm normalised 31 April */
		return DB_ERR_INVALID;
	t_ms = ((int64_t)t - (int64_t)off * 60) * 1000 + ms;
	/* An offset can carry a time in range past either end: 1970-01-01T00:30+01:00. */
	if (t_ms < 0 || t_ms > TIME_MAX_MS)
		return DB_ERR_INVALID;
	*out_ms = t_ms;
	return DB_OK;
}

/*
 * The relay stamps every chat frame: each thread keeps the last second
 * it formatted, so frames within a second skip gmtime and strftime.
 */
void db_time_format(int64_t ms, char buf[32])
{
	static _Thread_local int64_t last_s = -1;
	static _Thread_local char last[24];
	static _Thread_local size_t last_n;
	int64_t s, milli;

	if (ms < 0)
		ms = 0;
	s = ms / 1000;
	milli = ms % 1000;
	if (s != last_s) {
		time_t t = (time_t)s;
		struct tm tm;

		gmtime_r(&t, &tm);
		last_n = strftime(last, sizeof last, "%Y-%m-%dT%H:%M:%S", &tm);
		last_s = s;
	}
	memcpy(buf, last, last_n);
	buf[last_n] = '.';
	buf[last_n + 1] = (char)('0' + milli / 100);
	buf[last_n + 2] = (char)('0' + milli / 10 % 10);
	buf[last_n + 3] = (char)('0' + milli % 10);
	buf[last_n + 4] = 'Z';
	buf[last_n + 5] = '\0';
}
