/* Module arguments.  Like Linux-PAM's own modules, an argument that is
 * not understood is logged by the caller and otherwise ignored: a typo
 * in /etc/pam.d must not lock everybody out. */
#include <stdlib.h>
#include <string.h>

#include "args.h"

/* "0750" and the like: octal, permission bits only.  Set-id and sticky
 * bits make no sense on a home directory. */
static int
parse_mode(const char *s, mode_t *out)
{
	unsigned long v;
	char *end;

	if (*s < '0' || *s > '7' || strlen(s) > 4)
		return -1;
	v = strtoul(s, &end, 8);
	if (*end != '\0' || v > 0777)
		return -1;
	*out = (mode_t)v;
	return 0;
}

/* An absolute path without "." or ".." components or control bytes. */
static int
path_ok(const char *s)
{
	const char *p;

	if (s[0] != '/' || strlen(s) > 4096)
		return 0;
	for (p = s; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return 0;
	for (p = s; (p = strchr(p, '/')) != NULL; p++)
		if ((p[1] == '.' && (p[2] == '/' || p[2] == '\0')) ||
		    (p[1] == '.' && p[2] == '.' &&
		    (p[3] == '/' || p[3] == '\0')))
			return 0;
	return 1;
}

static void
bad(struct pam_pgl_args *a, const char *arg)
{
	if (a->bad == NULL)
		a->bad = arg;
	a->nbad++;
}

void
pam_pgl_args_parse(struct pam_pgl_args *a, int argc, const char **argv)
{
	mode_t m;
	int i;

	memset(a, 0, sizeof(*a));
	a->mode = PAM_PGL_MODE_DEFAULT;
	a->skel = PAM_PGL_SKEL_DEFAULT;
	for (i = 0; i < argc; i++) {
		const char *s = argv[i];

		if (s == NULL)
			continue;
		if (strcmp(s, "debug") == 0)
			a->debug = 1;
		else if (strncmp(s, "mode=", 5) == 0) {
			if (parse_mode(s + 5, &m) == 0)
				a->mode = m;
			else
				bad(a, s);
		} else if (strncmp(s, "skel=", 5) == 0) {
			if (path_ok(s + 5))
				a->skel = s + 5;
			else
				bad(a, s);
		} else
			bad(a, s);
	}
}
