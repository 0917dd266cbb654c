/* Unit tests for signer/args.c: numbers, durations, times, serials. */
#include <stdint.h>
#include <string.h>

#include "args.h"
#include "err.h"
#include "util.h"

#define SENTINEL 0x5a5a5a5a5a5a5a5aULL

static void
u64_ok(const char *s, uint64_t want)
{
	uint64_t v = SENTINEL;
	int r = pgl_parse_u64(s, &v);

	tap_ok(r == 0 && v == want, "parse_u64 \"%s\" = %llu (r %d, got %llu)",
	    s, (unsigned long long)want, r, (unsigned long long)v);
}

static void
u64_bad(const char *s)
{
	uint64_t v = SENTINEL;
	int r = pgl_parse_u64(s, &v);

	tap_ok(r == PGL_E_INVALID_ARG && v == SENTINEL,
	    "parse_u64 \"%s\" refused, output untouched (r %d)", tu_esc(s), r);
}

static void
dur_ok(const char *s, uint64_t want)
{
	uint64_t v = SENTINEL;
	int r = pgl_parse_duration(s, &v);

	tap_ok(r == 0 && v == want, "parse_duration \"%s\" = %llu (r %d, got %llu)",
	    s, (unsigned long long)want, r, (unsigned long long)v);
}

static void
dur_bad(const char *s)
{
	uint64_t v = SENTINEL;
	int r = pgl_parse_duration(s, &v);

	tap_ok(r != 0 && v == SENTINEL, "parse_duration \"%s\" refused (r %d)",
	    tu_esc(s), r);
}

#define NOW 1700000000ULL

static void
time_ok(const char *s, int forever, uint64_t want)
{
	uint64_t v = SENTINEL;
	int r = pgl_parse_time(s, NOW, forever, &v);

	tap_ok(r == 0 && v == want, "parse_time \"%s\" = %llu (r %d, got %llu)",
	    s, (unsigned long long)want, r, (unsigned long long)v);
}

static void
time_bad(const char *s, uint64_t now, int forever)
{
	uint64_t v = SENTINEL;
	int r = pgl_parse_time(s, now, forever, &v);

	tap_ok(r != 0 && v == SENTINEL, "parse_time \"%s\" (now %llu%s) refused (r %d)",
	    tu_esc(s), (unsigned long long)now,
	    forever ? ", forever allowed" : "", r);
}

static void
range_ok(const char *s, uint64_t lo, uint64_t hi)
{
	struct pgl_serial_range v = { SENTINEL, SENTINEL };
	int r = pgl_parse_serial_range(s, &v);

	tap_ok(r == 0 && v.lo == lo && v.hi == hi,
	    "parse_serial_range \"%s\" = %llu-%llu (r %d)", s,
	    (unsigned long long)lo, (unsigned long long)hi, r);
}

static void
range_bad(const char *s, int want)
{
	struct pgl_serial_range v = { SENTINEL, SENTINEL };
	int r = pgl_parse_serial_range(s, &v);

	tap_ok(r == want && v.lo == SENTINEL && v.hi == SENTINEL,
	    "parse_serial_range \"%s\" -> %d (got %d)", tu_esc(s), want, r);
}

int
main(void)
{
	/* pgl_parse_u64 */
	u64_ok("0", 0);
	u64_ok("1", 1);
	u64_ok("42", 42);
	u64_ok("007", 7);
	u64_ok("4294967296", 4294967296ULL);
	u64_ok("18446744073709551615", UINT64_MAX);
	u64_ok("18446744073709551609", UINT64_MAX - 6);
	u64_ok("01844674407370955161", 1844674407370955161ULL);
	u64_bad("18446744073709551616");        /* max + 1 */
	u64_bad("18446744073709551620");
	u64_bad("19000000000000000000");
	u64_bad("99999999999999999999");
	u64_bad("184467440737095516150");       /* 21 digits */
	u64_bad("");
	u64_bad(NULL);
	u64_bad("-1");
	u64_bad("+1");
	u64_bad(" 1");
	u64_bad("1 ");
	u64_bad("1\n");
	u64_bad("1a");
	u64_bad("0x10");
	u64_bad("1e3");
	u64_bad("1.0");

	/* pgl_parse_duration */
	dur_ok("0", 0);
	dur_ok("90", 90);
	dur_ok("90s", 90);
	dur_ok("5m", 300);
	dur_ok("2h", 7200);
	dur_ok("3d", 259200);
	dur_ok("1w", 604800);
	dur_ok("18446744073709551615s", UINT64_MAX);
	dur_ok("307445734561825860m", 307445734561825860ULL * 60);
	dur_bad("307445734561825861m");         /* > UINT64_MAX / 60 */
	dur_ok("30500568904943w", 30500568904943ULL * 604800);
	dur_bad("30500568904944w");             /* > UINT64_MAX / 604800 */
	dur_bad("18446744073709551616");
	dur_bad("");
	dur_bad(NULL);
	dur_bad("m");
	dur_bad("s");
	dur_bad("5x");
	dur_bad("5M");
	dur_bad("5mm");
	dur_bad("5 m");
	dur_bad("-5m");
	dur_bad("1h30m");
	dur_bad("123456789012345678901234s");   /* longer than any number */

	/* pgl_parse_time */
	time_ok("now", 0, NOW);
	time_ok("forever", 1, UINT64_MAX);
	time_bad("forever", NOW, 0);
	time_ok("@0", 0, 0);
	time_ok("@1893456000", 0, 1893456000ULL);
	time_ok("@18446744073709551615", 0, UINT64_MAX);
	time_bad("@", NOW, 0);
	time_bad("@-1", NOW, 0);
	time_bad("@ 5", NOW, 0);
	time_ok("+5m", 0, NOW + 300);
	time_ok("+0", 0, NOW);
	time_ok("-1h", 0, NOW - 3600);
	time_ok("+1w", 0, NOW + 604800);
	time_bad("+", NOW, 0);
	time_bad("-", NOW, 0);
	time_bad("+5x", NOW, 0);
	time_bad("+-5", NOW, 0);
	time_bad("-1h", 3599, 0);               /* before the epoch */
	{
		uint64_t v = SENTINEL;
		int r = pgl_parse_time("-1h", 3600, 0, &v);

		tap_ok(r == 0 && v == 0, "parse_time \"-1h\" at now 3600 = 0 (r %d)", r);
		r = pgl_parse_time("+1s", UINT64_MAX - 1, 0, &v);
		tap_ok(r == 0 && v == UINT64_MAX, "+1s at UINT64_MAX-1 = UINT64_MAX");
		v = SENTINEL;
	}
	time_bad("+2s", UINT64_MAX - 1, 0);     /* wraps */
	time_ok("20300101000000", 0, 1893456000ULL);
	time_ok("20300101", 0, 1893456000ULL);
	time_ok("203001010000", 0, 1893456000ULL);
	time_ok("20300101123456", 0, 1893456000ULL + 12 * 3600 + 34 * 60 + 56);
	time_ok("19700101", 0, 0);
	time_ok("20240229", 0, 1709164800ULL);  /* leap day */
	time_ok("20001231235959", 0, 978307199ULL);
	time_ok("99991231235959", 0, 253402300799ULL);
	time_bad("20250229", NOW, 0);           /* not a leap year */
	time_bad("20250230", NOW, 0);
	time_bad("20250431", NOW, 0);
	time_bad("20251301", NOW, 0);           /* 13th month */
	time_bad("20250001", NOW, 0);           /* month 0 */
	time_bad("20250100", NOW, 0);           /* day 0 */
	time_bad("202501012400", NOW, 0);       /* hour 24 */
	time_bad("202501010060", NOW, 0);       /* minute 60 */
	time_bad("20250101000060", NOW, 0);     /* second 60 */
	time_bad("19691231", NOW, 0);           /* before the epoch */
	time_bad("00000101", NOW, 0);
	time_bad("2030010", NOW, 0);            /* 7 digits */
	time_bad("203001010", NOW, 0);          /* 9 digits */
	time_bad("2030010100", NOW, 0);         /* 10 digits */
	time_bad("2030010100000", NOW, 0);      /* 13 digits */
	time_bad("203001010000000", NOW, 0);    /* 15 digits */
	time_bad("2030-01-01", NOW, 0);
	time_bad("2030010a", NOW, 0);
	time_bad(" 20300101", NOW, 0);
	time_bad("", NOW, 0);
	time_bad(NULL, NOW, 0);
	time_bad("Now", NOW, 0);
	time_bad("never", NOW, 1);

	/* pgl_parse_serial_range */
	range_ok("1", 1, 1);
	range_ok("42", 42, 42);
	range_ok("5-7", 5, 7);
	range_ok("7-7", 7, 7);
	range_ok("1-18446744073709551615", 1, UINT64_MAX);
	range_ok("18446744073709551615", UINT64_MAX, UINT64_MAX);
	range_bad("0", PGL_E_BAD_SERIAL);
	range_bad("0-5", PGL_E_BAD_SERIAL);
	range_bad("7-5", PGL_E_BAD_SERIAL);
	range_bad("", PGL_E_INVALID_ARG);
	range_bad(NULL, PGL_E_INVALID_ARG);
	range_bad("-", PGL_E_INVALID_ARG);
	range_bad("-5", PGL_E_INVALID_ARG);
	range_bad("5-", PGL_E_INVALID_ARG);
	range_bad("1-2-3", PGL_E_INVALID_ARG);
	range_bad("1 - 2", PGL_E_INVALID_ARG);
	range_bad("a-b", PGL_E_INVALID_ARG);
	range_bad("18446744073709551616", PGL_E_INVALID_ARG);
	range_bad("1-18446744073709551616", PGL_E_INVALID_ARG);
	range_bad("000000000000000000000001-2", PGL_E_INVALID_ARG);
	return tap_done();
}
