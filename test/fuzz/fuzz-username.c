/* libFuzzer target: identity -> username.  Any input either is refused
 * or gives a valid, stable base whose candidates are valid, unreserved,
 * within the limit and distinct; the input itself as a base name gives
 * candidates exactly when it is a valid name. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "username.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NCAND 12

static int
is_sep(char c)
{
	return c == '-' || c == '_';
}

/* Candidates of a valid base: all valid, unreserved, distinct; the
 * first is the base itself unless that is reserved. */
static void
check_candidates(const char *base, unsigned extra)
{
	static const unsigned ns[NCAND - 2] = {
		1, 2, 3, 9, 10, 99, 100, 1000, 65536, 4294967295u,
	};
	char c[NCAND][PGL_USERNAME_MAX + 1], again[PGL_USERNAME_MAX + 1];
	unsigned n[NCAND];
	size_t i, j;

	memcpy(n, ns, sizeof(ns));
	n[NCAND - 2] = extra == 0 ? 4 : extra;
	n[NCAND - 1] = extra < 2 ? 5 : extra - 1;
	for (i = 0; i < NCAND; i++) {
		if (pgl_username_candidate(base, n[i], c[i]) != 0 ||
		    !pgl_username_valid(c[i]) ||
		    strlen(c[i]) > PGL_USERNAME_MAX ||
		    pgl_username_reserved(c[i]))
			abort();
		if (pgl_username_candidate(base, n[i], again) != 0 ||
		    strcmp(again, c[i]) != 0)
			abort();
		for (j = 0; j < i; j++)
			if ((n[j] == n[i]) != (strcmp(c[j], c[i]) == 0))
				abort();
	}
	if (!pgl_username_reserved(base) && strcmp(c[0], base) != 0 &&
	    base[0] != '_' && strncmp(base, "systemd-", 8) != 0)
		abort();
	if (pgl_username_candidate(base, 0, again) == 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char base[PGL_USERNAME_MAX + 1], again[PGL_USERNAME_MAX + 1];
	char *s, out[PGL_USERNAME_MAX + 1];
	unsigned extra = 0;
	size_t i, len;

	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	for (i = 0; i < size && i < 4; i++)
		extra = extra << 8 | data[i];

	if (pgl_username_base(s, base) == 0) {
		/* A valid name that starts with a letter, has no separator
		 * at the end or twice in a row, and is the same every time. */
		len = strlen(base);
		if (!pgl_username_valid(base) || len == 0 ||
		    len > PGL_USERNAME_MAX || base[0] < 'a' || base[0] > 'z' ||
		    is_sep(base[len - 1]))
			abort();
		for (i = 1; i < len; i++)
			if (is_sep(base[i]) && is_sep(base[i - 1]))
				abort();
		if (pgl_username_base(s, again) != 0 ||
		    strcmp(base, again) != 0)
			abort();
		check_candidates(base, extra);
	} else if (strchr(s, '@') != NULL && s[0] != '@')
		abort();    /* only a missing local part is refused */

	/* The input as a base name. */
	(void)pgl_username_reserved(s);
	if (pgl_username_valid(s))
		check_candidates(s, extra);
	else if (pgl_username_candidate(s, 1, out) == 0)
		abort();
	free(s);
	return 0;
}
