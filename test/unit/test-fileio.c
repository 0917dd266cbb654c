/* Unit tests for common/fileio.c: bounded reads, atomic writes. */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "err.h"
#include "fileio.h"
#include "util.h"

static char *dir;

/* The names in dir, sorted, joined by spaces (for exact comparisons). */
static char *
list_dir(const char *d)
{
	struct dirent **ents = NULL;
	char *s = NULL, *t;
	int n, i;

	if ((n = scandir(d, &ents, NULL, alphasort)) < 0)
		return strdup("(scandir failed)");
	s = strdup("");
	for (i = 0; i < n; i++) {
		if (strcmp(ents[i]->d_name, ".") != 0 &&
		    strcmp(ents[i]->d_name, "..") != 0) {
			t = tu_fmt("%s%s%s", s, *s ? " " : "", ents[i]->d_name);
			free(s);
			s = t;
		}
		free(ents[i]);
	}
	free(ents);
	return s;
}

static int
dir_is(const char *d, const char *want)
{
	char *got = list_dir(d);
	int ok = strcmp(got, want) == 0;

	if (!ok)
		tap_diag("directory holds \"%s\", want \"%s\"", got, want);
	free(got);
	return ok;
}

static mode_t
mode_of(const char *path)
{
	struct stat st;

	if (lstat(path, &st) == -1)
		return (mode_t)-1;
	return st.st_mode & 07777;
}

static int
content_is(const char *path, const void *want, size_t n)
{
	size_t len = 0;
	char *got = tu_read_file(path, &len);
	int ok = got != NULL && len == n && memcmp(got, want, n) == 0;

	free(got);
	return ok;
}

static void
test_read(void)
{
	char *p = tu_path(dir, "r"), *e = tu_path(dir, "empty");
	char *big = tu_path(dir, "big");
	char data[100];
	struct pgl_buf *b = NULL;
	size_t i, n;
	char *blob;
	int r;

	for (i = 0; i < sizeof(data); i++)
		data[i] = (char)(i * 3 + 1);
	tu_write_file(p, data, sizeof(data), 0644);
	tu_write_file(e, "", 0, 0644);

	r = pgl_file_read(p, 100, &b);
	tap_ok(r == 0 && b != NULL && pgl_buf_len(b) == 100 &&
	    memcmp(pgl_buf_ptr(b), data, 100) == 0,
	    "read a 100-byte file with max 100 (%d)", r);
	pgl_buf_free(b);
	b = NULL;
	r = pgl_file_read(p, 99, &b);
	tap_ok(r == PGL_E_TOO_LARGE && b == NULL,
	    "100-byte file with max 99 -> PGL_E_TOO_LARGE (%d)", r);
	r = pgl_file_read(p, 0, &b);
	tap_ok(r == PGL_E_TOO_LARGE && b == NULL,
	    "100-byte file with max 0 -> PGL_E_TOO_LARGE (%d)", r);
	r = pgl_file_read(e, 0, &b);
	tap_ok(r == 0 && b != NULL && pgl_buf_len(b) == 0,
	    "empty file with max 0 reads as empty (%d)", r);
	pgl_buf_free(b);
	b = NULL;

	errno = 0;
	r = pgl_file_read("/nonexistent/pgl-unit", 100, &b);
	tap_ok(r == PGL_E_SYSTEM && errno == ENOENT && b == NULL,
	    "missing file -> PGL_E_SYSTEM with errno ENOENT (%d, %d)", r, errno);
	r = pgl_file_read(dir, 1 << 20, &b);
	tap_ok(r == PGL_E_NOT_REGULAR && b == NULL,
	    "a directory is refused with PGL_E_NOT_REGULAR (%d)", r);
	r = pgl_file_read("/dev/null", 1 << 20, &b);
	tap_ok(r == PGL_E_NOT_REGULAR && b == NULL,
	    "a character device (/dev/null) is refused (%d)", r);
	r = pgl_file_read("/dev/zero", 1 << 20, &b);
	tap_ok(r == PGL_E_NOT_REGULAR && b == NULL,
	    "/dev/zero is refused, not read forever (%d)", r);

	/* Sizes around the buffer's own default limit (1 MiB). */
	n = PGL_BUF_MAX_DEFAULT - 100;
	blob = calloc(1, 2 * PGL_BUF_MAX_DEFAULT);
	for (i = 0; i < 2 * PGL_BUF_MAX_DEFAULT; i++)
		blob[i] = (char)(i % 251);
	tu_write_file(big, blob, n, 0644);
	r = pgl_file_read(big, PGL_BUF_MAX_DEFAULT, &b);
	tap_ok(r == 0 && b != NULL && pgl_buf_len(b) == n,
	    "file of 1 MiB - 100 bytes with max 1 MiB reads (%d)", r);
	pgl_buf_free(b);
	b = NULL;
	tu_write_file(big, blob, 2 * PGL_BUF_MAX_DEFAULT, 0644);
	r = pgl_file_read(big, 4 * PGL_BUF_MAX_DEFAULT, &b);
	tap_ok(r == 0 && b != NULL &&
	    pgl_buf_len(b) == 2 * PGL_BUF_MAX_DEFAULT &&
	    memcmp(pgl_buf_ptr(b), blob, 2 * PGL_BUF_MAX_DEFAULT) == 0,
	    "file of 2 MiB with max 4 MiB reads (%d)", r);
	pgl_buf_free(b);
	b = NULL;
	tu_write_file(big, blob, 64 * 1024 + 1, 0644);
	r = pgl_file_read(big, 1 << 20, &b);
	tap_ok(r == 0 && b != NULL && pgl_buf_len(b) == 64 * 1024 + 1 &&
	    memcmp(pgl_buf_ptr(b), blob, 64 * 1024 + 1) == 0,
	    "a 64 KiB + 1 file reads intact (%d)", r);
	pgl_buf_free(b);
	free(blob);
	unlink(big);
	unlink(p);
	unlink(e);
	free(big);
	free(p);
	free(e);
}

/* A FIFO must be refused, not block in open() waiting for a writer:
 * run the read in a child with a deadline. */
static void
test_read_fifo(void)
{
	char *f = tu_path(dir, "fifo");
	pid_t pid;
	int st = 0, r;

	if (mkfifo(f, 0600) == -1) {
		tap_ok(0, "mkfifo: %s", strerror(errno));
		free(f);
		return;
	}
	fflush(stdout);
	if ((pid = fork()) == 0) {
		struct pgl_buf *b = NULL;

		alarm(1);
		r = pgl_file_read(f, 1024, &b);
		_exit(r == PGL_E_NOT_REGULAR ? 0 : 1);
	}
	waitpid(pid, &st, 0);
	if (WIFSIGNALED(st))
		tap_diag("child killed by signal %d", WTERMSIG(st));
	tap_ok(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    "a FIFO is refused with PGL_E_NOT_REGULAR without blocking");
	unlink(f);
	free(f);
}

static void
test_write(void)
{
	char *sub = tu_path(dir, "w"), *p, *missing;
	const char *a = "first contents\n", *b2 = "second, longer contents\n";
	struct stat st1, st2;
	mode_t old;
	int r;

	mkdir(sub, 0755);
	p = tu_path(sub, "file");

	old = umask(0);
	r = pgl_file_write_atomic(p, a, strlen(a), 0600, 0);
	tap_ok(r == 0, "write_atomic 0600 with umask 0 (%d)", r);
	tap_ok(mode_of(p) == 0600, "mode is exactly 0600 (%04o)", mode_of(p));
	tap_ok(content_is(p, a, strlen(a)), "contents written");
	tap_ok(dir_is(sub, "file"), "no temp file left after success");

	umask(077);
	stat(p, &st1);
	r = pgl_file_write_atomic(p, b2, strlen(b2), 0644, 0);
	tap_ok(r == 0, "replace with 0644 under umask 077 (%d)", r);
	tap_ok(mode_of(p) == 0644, "mode is exactly 0644 despite umask 077 (%04o)",
	    mode_of(p));
	tap_ok(content_is(p, b2, strlen(b2)), "contents replaced");
	stat(p, &st2);
	tap_ok(st1.st_ino != st2.st_ino, "replaced by rename (new inode)");
	tap_ok(dir_is(sub, "file"), "no temp file left after replace");

	umask(022);
	r = pgl_file_write_atomic(p, a, strlen(a), 0600, PGL_WRITE_NO_REPLACE);
	tap_ok(r == PGL_E_EXISTS, "NO_REPLACE over an existing file -> PGL_E_EXISTS (%d)", r);
	tap_ok(content_is(p, b2, strlen(b2)), "original left byte-identical");
	tap_ok(mode_of(p) == 0644, "original mode untouched");
	stat(p, &st1);
	tap_ok(st1.st_ino == st2.st_ino, "original inode untouched");
	tap_ok(dir_is(sub, "file"), "no temp file left after PGL_E_EXISTS");

	free(p);
	p = tu_path(sub, "new");
	r = pgl_file_write_atomic(p, a, strlen(a), 0640, PGL_WRITE_NO_REPLACE);
	tap_ok(r == 0 && mode_of(p) == 0640 && content_is(p, a, strlen(a)),
	    "NO_REPLACE creates a new file with mode 0640 (%d)", r);
	tap_ok(dir_is(sub, "file new"), "directory holds exactly the two files");

	r = pgl_file_write_atomic(p, "", 0, 0400, 0);
	tap_ok(r == 0 && mode_of(p) == 0400 && content_is(p, "", 0),
	    "an empty file with mode 0400 (%d)", r);

	missing = tu_path(dir, "no-such-dir/file");
	errno = 0;
	r = pgl_file_write_atomic(missing, a, strlen(a), 0600, 0);
	tap_ok(r == PGL_E_SYSTEM && errno == ENOENT,
	    "write into a missing directory -> PGL_E_SYSTEM/ENOENT (%d, %s)",
	    r, strerror(errno));
	tap_ok(dir_is(dir, "w"), "nothing created next to the missing directory");

	/* Renaming over a directory fails at commit: the temp file goes. */
	free(p);
	p = tu_path(sub, "adir");
	mkdir(p, 0755);
	r = pgl_file_write_atomic(p, a, strlen(a), 0600, 0);
	tap_ok(r == PGL_E_SYSTEM, "replacing a directory fails (%d)", r);
	tap_ok(dir_is(sub, "adir file new"), "no temp file left after a failed rename");
	rmdir(p);
	umask(old);
	free(missing);
	free(p);
	free(sub);
}

static void
test_stage(void)
{
	char *sub = tu_path(dir, "s"), *p1, *p2, *t1 = NULL, *t2 = NULL;
	char *listing;
	int r;

	mkdir(sub, 0755);
	p1 = tu_path(sub, "one");
	p2 = tu_path(sub, "two");
	r = pgl_file_stage(p1, "1", 1, 0600, &t1);
	tap_ok(r == 0 && t1 != NULL && strncmp(t1, p1, strlen(p1)) == 0,
	    "stage gives a temp path next to the target (%s)", t1 ? t1 : "-");
	tap_ok(t1 != NULL && mode_of(t1) == 0600 && content_is(t1, "1", 1),
	    "staged file has mode and contents");
	r = pgl_file_stage(p2, "22", 2, 0644, &t2);
	tap_ok(r == 0 && access(p1, F_OK) == -1 && access(p2, F_OK) == -1,
	    "nothing visible at the targets before commit");
	listing = list_dir(sub);
	tap_ok(strstr(listing, "one.tmp.") != NULL &&
	    strstr(listing, "two.tmp.") != NULL, "two temp files staged");
	free(listing);
	r = pgl_file_commit(t1, p1, 0);
	tap_ok(r == 0 && content_is(p1, "1", 1), "commit one (%d)", r);
	free(t1);
	pgl_file_abort(t2);
	tap_ok(dir_is(sub, "one"), "abort removed the second temp file");
	pgl_file_abort(NULL);
	tap_ok(1, "pgl_file_abort(NULL) is harmless");
	free(p1);
	free(p2);
	free(sub);
}

int
main(void)
{
	dir = tu_mkdtemp();
	test_read();
	test_read_fifo();
	test_write();
	test_stage();
	tu_rmtree(dir);
	return tap_done();
}
