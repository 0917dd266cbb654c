#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "err.h"
#include "fileio.h"

#define PRIVATE_FILE_MAX (64 * 1024)

void
cli_error(const char *what, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", PGL_SIGNER_PROG);
	if (what != NULL)
		fprintf(stderr, "%s: ", what);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void
cli_error_code(const char *what, int r)
{
	cli_error(what, "%s", pgl_strerror(r));
}

int
cli_load_private_key(const char *path, struct pgl_key **out)
{
	struct pgl_buf *data = NULL;
	struct stat st;
	int r;

	if (stat(path, &st) == -1) {
		cli_error(path, "%s", strerror(errno));
		return -1;
	}
	/* As ssh does: a private key others can read is not used. */
	if ((st.st_mode & 077) != 0) {
		cli_error(path, "private key is accessible by others "
		    "(mode %04o); run: chmod 600 %s", st.st_mode & 07777, path);
		return -1;
	}
	if ((r = pgl_file_read(path, PRIVATE_FILE_MAX, &data)) != 0) {
		cli_error_code(path, r);
		return -1;
	}
	r = pgl_key_parse_private((const char *)pgl_buf_ptr(data),
	    pgl_buf_len(data), out);
	pgl_buf_free(data);
	if (r != 0) {
		cli_error(path, "cannot load private key: %s", pgl_strerror(r));
		return -1;
	}
	return 0;
}

int
cli_load_public_key(const char *path, struct pgl_key **out, char **comment)
{
	struct pgl_buf *data = NULL;
	int r;

	if ((r = pgl_file_read(path, PGL_PUBKEY_LINE_MAX, &data)) != 0) {
		cli_error_code(path, r);
		return -1;
	}
	r = pgl_key_parse_public_line((const char *)pgl_buf_ptr(data),
	    pgl_buf_len(data), out, comment);
	pgl_buf_free(data);
	if (r != 0) {
		cli_error(path, "cannot use public key: %s", pgl_strerror(r));
		return -1;
	}
	return 0;
}
