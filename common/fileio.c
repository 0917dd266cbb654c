#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "fileio.h"

int
pgl_file_read(const char *path, size_t max, struct pgl_buf **out)
{
	struct pgl_buf *b = NULL;
	struct stat st;
	uint8_t *p;
	ssize_t got;
	int fd, r;

	/* O_NONBLOCK: a FIFO must not block us before the S_ISREG check. */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) == -1)
		return PGL_E_SYSTEM;
	if (fstat(fd, &st) == -1) {
		r = PGL_E_SYSTEM;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = PGL_E_NOT_REGULAR;
		goto out;
	}
	if ((uint64_t)st.st_size > max) {
		r = PGL_E_TOO_LARGE;
		goto out;
	}
	if ((b = pgl_buf_new()) == NULL) {
		r = PGL_E_NOMEM;
		goto out;
	}
	/* Room for max plus one read chunk, so "too large" is ours to say. */
	if ((r = pgl_buf_set_max(b, max > SIZE_MAX - 4096 ? SIZE_MAX :
	    max + 4096)) != 0)
		goto out;
	/* Read until EOF rather than trusting st_size: the file may grow. */
	for (;;) {
		if ((r = pgl_buf_reserve(b, 4096, &p)) != 0)
			goto out;
		got = read(fd, p, 4096);
		if (got < 0 && errno == EINTR)
			got = 0;
		if (got < 0) {
			r = PGL_E_SYSTEM;
			goto out;
		}
		pgl_buf_trim_end(b, 4096 - (size_t)got);
		if (pgl_buf_len(b) > max) {
			r = PGL_E_TOO_LARGE;
			goto out;
		}
		if (got == 0)
			break;
	}
	*out = b;
	b = NULL;
	r = 0;
 out:
	if (r == PGL_E_SYSTEM) {
		int save = errno;

		close(fd);
		errno = save;
	} else
		close(fd);
	pgl_buf_free(b);
	return r;
}

static int
fsync_dir_of(const char *path)
{
	char *copy, *dir;
	int fd, r = 0;

	if ((copy = strdup(path)) == NULL)
		return PGL_E_NOMEM;
	dir = dirname(copy);
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 ||
	    fsync(fd) == -1)
		r = PGL_E_SYSTEM;
	if (fd != -1)
		close(fd);
	free(copy);
	return r;
}

int
pgl_file_stage(const char *path, const void *p, size_t n, mode_t mode,
    char **tmp_path)
{
	const uint8_t *s = p;
	char *tmp = NULL;
	ssize_t w;
	int fd = -1, created = 0, r, save;

	if (asprintf(&tmp, "%s.tmp.XXXXXX", path) < 0)
		return PGL_E_NOMEM;
	if ((fd = mkostemp(tmp, O_CLOEXEC)) == -1) {
		r = PGL_E_SYSTEM;
		goto fail;
	}
	created = 1;
	/* mkostemp gives 0600; set the final mode before any data lands. */
	if (fchmod(fd, mode) == -1) {
		r = PGL_E_SYSTEM;
		goto fail;
	}
	while (n > 0) {
		if ((w = write(fd, s, n)) < 0) {
			if (errno == EINTR)
				continue;
			r = PGL_E_SYSTEM;
			goto fail;
		}
		s += w;
		n -= (size_t)w;
	}
	if (fsync(fd) == -1) {
		r = PGL_E_SYSTEM;
		goto fail;
	}
	r = close(fd);
	fd = -1;
	if (r == -1) {
		r = PGL_E_SYSTEM;
		goto fail;
	}
	*tmp_path = tmp;
	return 0;
 fail:
	save = errno;
	if (fd != -1)
		close(fd);
	if (created)
		(void)unlink(tmp);
	free(tmp);
	errno = save;
	return r;
}

int
pgl_file_commit(const char *tmp_path, const char *path, int flags)
{
	if (flags & PGL_WRITE_NO_REPLACE) {
		if (renameat2(AT_FDCWD, tmp_path, AT_FDCWD, path,
		    RENAME_NOREPLACE) == -1)
			return errno == EEXIST ? PGL_E_EXISTS : PGL_E_SYSTEM;
	} else if (rename(tmp_path, path) == -1)
		return PGL_E_SYSTEM;
	return fsync_dir_of(path);
}

void
pgl_file_abort(char *tmp_path)
{
	if (tmp_path == NULL)
		return;
	(void)unlink(tmp_path);
	free(tmp_path);
}

int
pgl_file_write_atomic(const char *path, const void *p, size_t n, mode_t mode,
    int flags)
{
	char *tmp = NULL;
	int r, save;

	if ((r = pgl_file_stage(path, p, n, mode, &tmp)) != 0)
		return r;
	if ((r = pgl_file_commit(tmp, path, flags)) != 0) {
		save = errno;
		pgl_file_abort(tmp);
		errno = save;
		return r;
	}
	free(tmp);
	return 0;
}
