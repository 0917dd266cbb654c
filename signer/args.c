#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "args.h"
#include "err.h"

int
pgl_parse_u64(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	const char *p;

	if (s == NULL || *s == '\0' || strlen(s) > 20)
		return PGL_E_INVALID_ARG;
	for (p = s; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return PGL_E_INVALID_ARG;
		if (v > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
			return PGL_E_INVALID_ARG;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	*out = v;
	return 0;
}

int
pgl_parse_duration(const char *s, uint64_t *out)
{
	static const struct { char c; uint64_t mul; } units[] = {
		{ 's', 1 }, { 'm', 60 }, { 'h', 3600 }, { 'd', 86400 },
		{ 'w', 604800 },
	};
	char num[24];
	size_t len, i;
	uint64_t v, mul = 1;
	int r;

	if (s == NULL || (len = strlen(s)) == 0 || len >= sizeof(num))
		return PGL_E_INVALID_ARG;
	memcpy(num, s, len + 1);
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (num[len - 1] == units[i].c) {
			mul = units[i].mul;
			num[--len] = '\0';
			break;
		}
	}
	if ((r = pgl_parse_u64(num, &v)) != 0)
		return r;
	if (v > UINT64_MAX / mul)
		return PGL_E_INVALID_ARG;
	*out = v * mul;
	return 0;
}

static int
parse_calendar(const char *s, uint64_t *out)
{
	struct tm tm, check;
	size_t len = strlen(s), i;
	time_t t;
	int v[6] = { 0, 0, 0, 0, 0, 0 };
	static const int width[6] = { 4, 2, 2, 2, 2, 2 };
	const char *p = s;

	if (len != 8 && len != 12 && len != 14)
		return PGL_E_INVALID_ARG;
	for (i = 0; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return PGL_E_INVALID_ARG;
	for (i = 0; i < 6 && (size_t)(p - s) < len; i++) {
		int k;

		for (k = 0; k < width[i]; k++)
			v[i] = v[i] * 10 + (*p++ - '0');
	}
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = v[0] - 1900;
	tm.tm_mon = v[1] - 1;
	tm.tm_mday = v[2];
	tm.tm_hour = v[3];
	tm.tm_min = v[4];
	tm.tm_sec = v[5];
	check = tm;
	if ((t = timegm(&tm)) == (time_t)-1 || t < 0)
		return PGL_E_INVALID_ARG;
	/* timegm normalises 20250230 to March: refuse such dates. */
	if (tm.tm_year != check.tm_year || tm.tm_mon != check.tm_mon ||
	    tm.tm_mday != check.tm_mday || tm.tm_hour != check.tm_hour ||
	    tm.tm_min != check.tm_min || tm.tm_sec != check.tm_sec)
		return PGL_E_INVALID_ARG;
	*out = (uint64_t)t;
	return 0;
}

int
pgl_parse_time(const char *s, uint64_t now, int allow_forever, uint64_t *out)
{
	uint64_t d;
	int r;

	if (s == NULL)
		return PGL_E_INVALID_ARG;
	if (strcmp(s, "now") == 0) {
		*out = now;
		return 0;
	}
	if (strcmp(s, "forever") == 0) {
		if (!allow_forever)
			return PGL_E_INVALID_ARG;
		*out = UINT64_MAX;
		return 0;
	}
	if (s[0] == '@')
		return pgl_parse_u64(s + 1, out);
	if (s[0] == '+' || s[0] == '-') {
		if ((r = pgl_parse_duration(s + 1, &d)) != 0)
			return r;
		if (s[0] == '+' && d > UINT64_MAX - now)
			return PGL_E_INVALID_ARG;
		if (s[0] == '-' && d > now)
			return PGL_E_INVALID_ARG;
		*out = s[0] == '+' ? now + d : now - d;
		return 0;
	}
	return parse_calendar(s, out);
}

int
pgl_parse_serial_range(const char *s, struct pgl_serial_range *out)
{
	const char *dash;
	char lo[24];
	struct pgl_serial_range v;
	int r;

	if (s == NULL)
		return PGL_E_INVALID_ARG;
	if ((dash = strchr(s, '-')) == NULL) {
		if ((r = pgl_parse_u64(s, &v.lo)) != 0)
			return r;
		v.hi = v.lo;
	} else {
		if ((size_t)(dash - s) >= sizeof(lo))
			return PGL_E_INVALID_ARG;
		memcpy(lo, s, (size_t)(dash - s));
		lo[dash - s] = '\0';
		if ((r = pgl_parse_u64(lo, &v.lo)) != 0 ||
		    (r = pgl_parse_u64(dash + 1, &v.hi)) != 0)
			return r;
	}
	if (v.lo == 0 || v.lo > v.hi)
		return PGL_E_BAD_SERIAL;
	*out = v;
	return 0;
}
