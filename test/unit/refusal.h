/* Checks of a refused config or policy file: the error must start with
 * "PATH:LINE: " where LINE holds the marker "#<" (a libconfig comment),
 * or "PATH: " without a marker, and must contain the wanted words.
 * Shared by test-config.c and test-policy.c; needs util.h first. */
#ifndef PGL_TEST_REFUSAL_H
#define PGL_TEST_REFUSAL_H

static inline unsigned
marked_line(const char *text)
{
	const char *m = strstr(text, "#<"), *s;
	unsigned line = 1;

	if (m == NULL)
		return 0;
	for (s = text; s < m; s++)
		if (*s == '\n')
			line++;
	return line;
}

/* One TAP check; untouched says the output argument was left alone. */
static inline void
check_refusal(const char *text, const char *path, int r, const char *err,
    int want_r, const char *want, int untouched, const char *label)
{
	unsigned line = marked_line(text);
	char *prefix = line > 0 ? tu_fmt("%s:%u: ", path, line) :
	    tu_fmt("%s: ", path);
	int ok = r < 0 && (want_r == 0 || r == want_r) &&
	    strncmp(err, prefix, strlen(prefix)) == 0 &&
	    strstr(err + strlen(prefix), want) != NULL && untouched;

	tap_ok(ok, "refuses %s", label);
	if (!ok)
		tap_diag("r=%d want %d; err \"%s\"; want prefix \"%s\" and \"%s\"",
		    r, want_r, tu_esc(err), prefix, want);
	free(prefix);
}

#endif
