/* Helpers shared by the C unit tests: temp directories, files, running
 * a command, hex dumps.  Header-only, all static
 * inline so a test that does not use a helper does not warn. */
#ifndef PGL_TEST_UTIL_H
#define PGL_TEST_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tap.h"

#include "buf.h"

/* A new buffer, or the whole test bails out. */
static inline struct pgl_buf *
must_new(void)
{
	struct pgl_buf *b = pgl_buf_new();

	if (b == NULL) {
		printf("Bail out! pgl_buf_new failed\n");
		exit(1);
	}
	return b;
}

static inline void
tu_hexdump(const char *label, const void *p, size_t n)
{
	const uint8_t *b = p;
	size_t i;

	printf("# %s (%zu bytes):", label, n);
	for (i = 0; i < n; i++)
		printf("%s%02x", i % 32 == 0 ? "\n#   " : " ", b[i]);
	printf("\n");
}

/* Compares bytes; on mismatch prints both sides. */
static inline int
tu_bytes_eq(const void *got, size_t gotlen, const void *want, size_t wantlen,
    const char *what)
{
	int ok = gotlen == wantlen && (wantlen == 0 ||
	    memcmp(got, want, wantlen) == 0);

	tap_ok(ok, "%s", what);
	if (!ok) {
		tu_hexdump("got", got, gotlen);
		tu_hexdump("want", want, wantlen);
	}
	return ok;
}

static inline char *
tu_mkdtemp(void)
{
	char tmpl[] = "/tmp/pgl-unit-XXXXXX";
	char *d;

	if (mkdtemp(tmpl) == NULL) {
		perror("mkdtemp");
		exit(99);
	}
	if ((d = strdup(tmpl)) == NULL)
		exit(99);
	return d;
}

static inline int
tu_rm_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	return remove(path);
}

/* Removes a directory tree and frees the name. */
static inline void
tu_rmtree(char *dir)
{
	if (dir == NULL)
		return;
	(void)nftw(dir, tu_rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	free(dir);
}

/* "dir/name" in a new string. */
static inline char *
tu_path(const char *dir, const char *name)
{
	char *p;

	if (asprintf(&p, "%s/%s", dir, name) < 0)
		exit(99);
	return p;
}

static inline int
tu_write_file(const char *path, const void *p, size_t n, mode_t mode)
{
	int fd;
	ssize_t w;
	const char *s = p;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)) == -1)
		return -1;
	if (fchmod(fd, mode) == -1) {
		close(fd);
		return -1;
	}
	while (n > 0) {
		if ((w = write(fd, s, n)) <= 0) {
			close(fd);
			return -1;
		}
		s += w;
		n -= (size_t)w;
	}
	return close(fd);
}

/* Whole file into a NUL-terminated malloc'd string; NULL on error. */
static inline char *
tu_read_file(const char *path, size_t *len)
{
	FILE *f;
	char *p = NULL;
	size_t n = 0, cap = 0, got;

	if ((f = fopen(path, "rb")) == NULL)
		return NULL;
	for (;;) {
		if (cap - n < 4097) {
			char *np = realloc(p, cap = cap * 2 + 8192);

			if (np == NULL) {
				free(p);
				fclose(f);
				return NULL;
			}
			p = np;
		}
		if ((got = fread(p + n, 1, cap - n - 1, f)) == 0)
			break;
		n += got;
	}
	fclose(f);
	p[n] = '\0';
	if (len != NULL)
		*len = n;
	return p;
}

/* Runs a shell command; its stdout (NUL-terminated, malloc'd) goes to
 * *out when out is not NULL.  Returns the exit status, or -1. */
static inline int
tu_run(const char *cmd, char **out)
{
	FILE *f;
	char *p = NULL;
	size_t n = 0, cap = 0, got;
	int st;

	fflush(stdout);
	if ((f = popen(cmd, "r")) == NULL)
		return -1;
	for (;;) {
		if (cap - n < 1025) {
			char *np = realloc(p, cap = cap * 2 + 4096);

			if (np == NULL) {
				free(p);
				pclose(f);
				return -1;
			}
			p = np;
		}
		if ((got = fread(p + n, 1, cap - n - 1, f)) == 0)
			break;
		n += got;
	}
	p[n] = '\0';
	st = pclose(f);
	if (out != NULL)
		*out = p;
	else
		free(p);
	if (st == -1 || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

/* printf into a new string. */
__attribute__((format(printf, 1, 2)))
static inline char *
tu_fmt(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (r < 0)
		exit(99);
	return s;
}

/* A printable copy of s for a TAP line (control bytes as \xNN), in
 * one of a few rotating static buffers; "NULL" for NULL. */
static inline const char *
tu_esc(const char *s)
{
	static char bufs[4][256];
	static int k;
	char *o = bufs[k++ % 4];
	size_t i = 0;

	if (s == NULL)
		return "NULL";
	for (; *s != '\0' && i + 5 < sizeof(bufs[0]); s++) {
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			i += (size_t)snprintf(o + i, 5, "\\x%02x", (unsigned char)*s);
		else
			o[i++] = *s;
	}
	o[i] = '\0';
	return o;
}

/* The n-th (0-based) space-separated field of a line, in a new string. */
static inline char *
tu_field(const char *s, int n)
{
	const char *b;

	while (*s == ' ')
		s++;
	while (n-- > 0) {
		while (*s != '\0' && *s != ' ' && *s != '\n')
			s++;
		while (*s == ' ')
			s++;
	}
	b = s;
	while (*s != '\0' && *s != ' ' && *s != '\n')
		s++;
	return strndup(b, (size_t)(s - b));
}

#endif
