/* Small helpers every pgl-host part uses: the error message, the log
 * line, and paths under --root. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "host.h"

int
herr(struct host_err *e, const char *fmt, ...)
{
	va_list ap;

	if (e != NULL) {
		va_start(ap, fmt);
		vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
		va_end(ap);
	}
	return -1;
}

void
host_log(const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line) - 1)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	/* One write: concurrent resolvers never interleave a line. */
	(void)!write(STDERR_FILENO, line, (size_t)n);
}

int
root_path(const char *root, const char *path, char *out, size_t n)
{
	int k;

	if (path[0] != '/')
		root = "";
	k = snprintf(out, n, "%s%s", root, path);
	return k < 0 || (size_t)k >= n ? PGL_E_TOO_LARGE : 0;
}

int
mkparents(const char *path, unsigned mode)
{
	char tmp[PATH_MAX], *s;

	if (strlen(path) >= sizeof(tmp))
		return PGL_E_TOO_LARGE;
	strcpy(tmp, path);
	for (s = tmp + 1; (s = strchr(s, '/')) != NULL; s++) {
		*s = '\0';
		if (mkdir(tmp, mode) != 0 && errno != EEXIST)
			return PGL_E_SYSTEM;
		*s = '/';
	}
	return 0;
}
