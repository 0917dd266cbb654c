/* A minimal TAP producer for C unit tests: one "ok N - what" line per
 * check, the plan at the end, exit status 1 if anything failed. */
#ifndef PGL_TAP_H
#define PGL_TAP_H

#include <stdarg.h>
#include <stdio.h>

static int tap_n, tap_failed;

__attribute__((format(printf, 2, 3)))
static inline int
tap_ok(int cond, const char *fmt, ...)
{
	va_list ap;

	printf("%sok %d - ", cond ? "" : "not ", ++tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!cond)
		tap_failed++;
	fflush(stdout);
	return cond;
}

/* Diagnostics, shown by TAP consumers but not counted. */
__attribute__((format(printf, 1, 2)))
static inline void
tap_diag(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

static inline int
tap_done(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed != 0;
}

#define TAP_EQ_INT(a, b, ...) tap_ok((long long)(a) == (long long)(b), __VA_ARGS__)

#endif
